"""
===========================================
Segment an image by texture, pixel by pixel
===========================================

:func:`~haralick_learn.texture_maps` computes the Haralick features of the
window around every pixel: an ``(height, width, n_features)`` array, the
input scikit-image's trainable segmentation takes
(:func:`skimage.future.fit_segmenter`, :func:`skimage.future.predict_segmenter`).
Here a random forest learns three real textures from a few labelled boxes
and labels every pixel of a mosaic whose ground truth we know.

Requires scikit-image (``pip install scikit-image``) besides haralick_learn.
"""

# %%
# A mosaic of three real textures, with its ground truth
# ------------------------------------------------------
# scikit-image ships photographs of brick, grass and gravel (CC0). The left
# half of the mosaic is brick, the right half grass, and a disk of gravel
# sits in the middle; each pixel's label is known.
import time

import matplotlib.pyplot as plt
import numpy as np
from skimage import data
from skimage.future import fit_segmenter, predict_segmenter
from sklearn.ensemble import RandomForestClassifier

from haralick_learn import HaralickFeaturizer, texture_maps

size = 240
yy, xx = np.mgrid[:size, :size]
truth = np.where(xx < size // 2, 1, 2)
truth[(yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 4) ** 2] = 3
class_names = {1: "brick", 2: "grass", 3: "gravel"}
textures = {1: data.brick(), 2: data.grass(), 3: data.gravel()}
mosaic = np.zeros((size, size), np.uint8)
for label, texture in textures.items():
    mosaic[truth == label] = texture[:size, :size][truth == label]

# %%
# Texture maps: 13 features of each pixel's 31 x 31 window
# --------------------------------------------------------
# The features of the four directions are averaged (``aggregate="mean"``), so
# that a texture's orientation matters less; the window is large enough to
# hold a few stones of gravel. The names are the featurizer's.
options = {"aggregate": "mean"}
start = time.perf_counter()
maps = texture_maps(mosaic, window=31, **options)
print(f"maps of shape {maps.shape} in {time.perf_counter() - start:.2f} s")
names = list(HaralickFeaturizer(**options).get_feature_names_out())

fig, axes = plt.subplots(1, 4, figsize=(10, 2.9), layout="constrained")
axes[0].imshow(mosaic, cmap="gray")
axes[0].set_title("mosaic")
for ax, name in zip(axes[1:], ["contrast_mean_d1", "entropy_mean_d1",
                               "information_measure_of_correlation_1_mean_d1"]):
    ax.imshow(maps[..., names.index(name)], cmap="magma")
    ax.set_title(name.replace("_mean_d1", "").replace("information_measure_of_", "IM "),
                 fontsize=9)
for ax in axes:
    ax.axis("off")

# %%
# Train on a few boxes, label every pixel
# ---------------------------------------
# Three 20 x 20 boxes per texture (about 6% of the pixels) are the training
# labels (0 = unlabelled, as scikit-image expects).
training = np.zeros((size, size), np.uint8)
boxes = [(20, 20), (190, 20), (100, 40), (20, 190), (200, 200), (120, 215), (95, 95),
         (125, 125), (95, 125)]
for y, x in boxes:
    training[y : y + 20, x : x + 20] = truth[y : y + 20, x : x + 20]

classifier = RandomForestClassifier(n_estimators=50, max_depth=12, random_state=0)
classifier = fit_segmenter(training, maps, classifier)
segmentation = predict_segmenter(maps, classifier)

unseen = training == 0
accuracy = (segmentation == truth).mean()
accuracy_unseen = (segmentation[unseen] == truth[unseen]).mean()
print(f"pixel accuracy: {accuracy:.3f} (all pixels), {accuracy_unseen:.3f} "
      f"(the {unseen.sum()} pixels outside the training boxes)")

fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), layout="constrained")
axes[0].imshow(mosaic, cmap="gray")
axes[0].contour(training > 0, levels=[0.5], colors="yellow", linewidths=1)
axes[0].set_title("mosaic and training boxes")
axes[1].imshow(truth, cmap="viridis", vmin=1, vmax=3)
axes[1].set_title("ground truth")
axes[2].imshow(segmentation, cmap="viridis", vmin=1, vmax=3)
axes[2].set_title(f"segmentation ({accuracy:.1%} correct)")
for ax in axes:
    ax.axis("off")
plt.show()

# %%
# The errors lie along the borders between textures, where the window
# straddles two of them. The features are exact: the value at each pixel is
# ``HaralickFeaturizer(aggregate="mean")`` of the 31 x 31 crop around it
# (clipped at the image's edges).
