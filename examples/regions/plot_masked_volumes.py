"""
==================================================================
Radiomics-like: volumes with a region of interest, to a classifier
==================================================================

In radiomics, texture is measured inside an outlined region (a tumour in a CT
scan) of a 3-D volume. :class:`~haralick_learn.HaralickFeaturizer` takes 3-D
volumes with ``volume=True`` (mahotas's 13 3-D directions) and any sample as a
pair ``(volume, mask)``: only pairs of voxels both inside the mask count, and
the gray levels come from the voxels inside it. Here the volumes are stacks of
crops of the sample photographs (three textures) and the region of interest an
ellipsoid in the middle of each.
"""

# %%
# Volumes and their masks
# -----------------------
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from haralick_learn import FilenameLabelExtractor, HaralickFeaturizer
from haralick_learn.datasets import load_sample_images

paths = load_sample_images().paths[::2]
y = FilenameLabelExtractor().fit_transform(paths)
z, r, c = np.ogrid[:8, :48, :48]
ellipsoid = (z - 3.5) ** 2 * 16 + (r - 23.5) ** 2 + (c - 23.5) ** 2 <= 22**2
samples = []
for path in paths:
    gray = np.asarray(Image.open(path).convert("L"))
    volume = np.stack([gray[k : k + 48, :48] for k in range(8)])  # 8 x 48 x 48
    samples.append((volume, ellipsoid))
print(f"{len(samples)} volumes of shape {samples[0][0].shape}, "
      f"region of interest: {int(ellipsoid.sum())} of {ellipsoid.size} voxels")

# %%
# Features inside the region, then a classifier
# ---------------------------------------------
featurizer = HaralickFeaturizer(volume=True, aggregate="mean", levels=32)
print(featurizer.fit(samples).get_feature_names_out()[:3])
clf = make_pipeline(featurizer, StandardScaler(), LogisticRegression(max_iter=1000))
scores = cross_val_score(clf, samples, y, cv=3)
print(f"3-fold accuracy: {scores.mean():.1%} (+/- {scores.std():.1%})")

# %%
# One slice of a volume with its region of interest
# -------------------------------------------------
fig, axes = plt.subplots(1, 3, figsize=(9, 3))
for ax, k in zip(axes, (0, 15, 30)):
    volume, mask = samples[k]
    ax.imshow(volume[4], cmap="gray")
    ax.contour(mask[4], levels=[0.5], colors="red")
    ax.set_title(y[k])
    ax.axis("off")
plt.show()
