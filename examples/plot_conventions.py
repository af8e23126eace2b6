"""
===========================================================
Three conventions side by side: mahotas, scikit-image, IBSI
===========================================================

"Contrast" or "correlation" do not mean quite the same in every tool:
mahotas (Haralick's 13 features), scikit-image (``graycoprops``) and
pyradiomics (the IBSI-standardised GLCM features) differ in normalisation,
offsets, discretisation and how directions are merged.
:class:`~haralick_learn.HaralickFeaturizer` computes each set from the same
co-occurrence matrices, under its own name, equal to its library. Here we
check the scikit-image set against scikit-image itself on a real texture, and
compare the three sets' contrast on the three sample textures.

Requires scikit-image (``pip install scikit-image``) besides haralick_learn.
"""

# %%
# scikit-image's properties, exactly
# ----------------------------------
import matplotlib.pyplot as plt
import numpy as np
from skimage.data import brick
from skimage.feature import graycomatrix, graycoprops

from haralick_learn import FilenameLabelExtractor, HaralickFeaturizer
from haralick_learn.datasets import load_sample_images

image = brick()  # a real 8-bit texture photograph, 512 x 512
angles = [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4]
glcm = graycomatrix(image, distances=[1, 4], angles=angles, levels=256, symmetric=True,
                    normed=True)
theirs = graycoprops(glcm, "contrast")  # (distances, angles)

featurizer = HaralickFeaturizer(features="skimage", offsets="skimage", distance=[1, 4])
row = featurizer.fit_transform([image])[0]
names = featurizer.get_feature_names_out()
ours = row[[i for i, n in enumerate(names) if n.startswith("skimage_contrast_")]]
# Per distance, the directions in scikit-image's angle order (0, 45, 90, 135 degrees).
ours = ours.reshape(2, 4)
print("scikit-image contrast:", np.round(theirs, 3).tolist())
print("featurizer contrast:  ", np.round(ours, 3).tolist())
print(f"largest relative difference: {np.max(np.abs(ours - theirs) / theirs):.1e}")

# %%
# The matrices themselves, for any angles
# ---------------------------------------
# :func:`~haralick_learn.cooccurrence` is ``graycomatrix`` (its rounding of
# each offset included) and :func:`~haralick_learn.matrix_features` computes
# ``graycoprops``'s properties, mahotas's or pyradiomics's from the matrices'
# counts, with the featurizer's formulas.
from haralick_learn import cooccurrence, matrix_features

odd_angles = [0, 0.3, 1.0, np.pi / 3, 2.5]
counts = cooccurrence(image, [1, 2, 5], odd_angles, symmetric=True)
same = np.array_equal(counts, graycomatrix(image, [1, 2, 5], odd_angles, symmetric=True))
props = matrix_features(counts, "skimage")  # keyed by graycoprops's property names
difference = np.max(np.abs(props["correlation"] - graycoprops(counts, "correlation")))
print(f"same matrices as graycomatrix: {same}; correlation differs by {difference:.1e}")

# %%
# The three sets on the sample textures
# -------------------------------------
# ``features`` takes a list of sets or names; here one feature of each set, the
# mean over directions, with pyradiomics's fixed bin width (``bin_width=25``)
# for the IBSI feature as pyradiomics's default.
paths = load_sample_images().paths[::5]
labels = FilenameLabelExtractor().fit_transform(paths)  # brick, grass, gravel
sets = {
    "mahotas contrast": HaralickFeaturizer(features=["contrast"], aggregate="mean"),
    "scikit-image contrast": HaralickFeaturizer(features=["skimage_contrast"],
                                                aggregate="mean"),
    "IBSI Contrast (binWidth 25)": HaralickFeaturizer(features=["ibsi_Contrast"],
                                                      aggregate="mean", bin_width=25),
}
values = {name: f.fit_transform(paths)[:, 0] for name, f in sets.items()}
fig, axes = plt.subplots(1, 3, figsize=(10, 3.2))
for ax, (name, v) in zip(axes, values.items()):
    for texture in sorted(set(labels)):
        ax.hist([x for x, t in zip(v, labels) if t == texture], alpha=0.6, label=texture)
    ax.set_title(name, fontsize=10)
axes[0].legend()
fig.tight_layout()
plt.show()

# %%
# mahotas's and scikit-image's contrast agree here (both are the mean squared
# gray difference of the symmetric, normalised matrix at distance 1);
# pyradiomics's is computed on levels 25 gray values wide, so its values are
# hundreds of times smaller, while it orders the three textures the same way
# (brick, gravel, grass). Which convention a paper used decides which one to
# reproduce: see the :doc:`conventions page </conventions>`.
