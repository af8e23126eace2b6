"""
============================
Find and show similar images
============================

Texture features make a distance between images: after scaling, images whose
Haralick features are close have similar textures.
:class:`~haralick_learn.DistanceNeighbors` gives, for each image, the most
similar others (the image itself excluded), as the tutorial's
``squareform(pdist(features))`` then ``argsort`` does, and
:class:`~haralick_learn.SimilarImagesDisplay` draws them.

Requires scikit-image (``pip install scikit-image``) besides haralick_learn.
"""

# %%
# One pipeline: paths in, nearest neighbours out
# ----------------------------------------------
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from haralick_learn import (
    DistanceNeighbors,
    FilenameLabelExtractor,
    HaralickFeaturizer,
    SimilarImagesDisplay,
)
from haralick_learn.datasets import load_sample_images

paths = load_sample_images().paths
labels = FilenameLabelExtractor().fit_transform(paths)
search = make_pipeline(
    HaralickFeaturizer(), StandardScaler(), DistanceNeighbors(n_neighbors=3)
)
search.fit(paths)

# %%
# How often is a neighbour of the same texture?
# ---------------------------------------------
# Before looking at a few chosen queries, the whole collection:
# ``kneighbors()`` without ``X`` gives every fitted image's neighbours, itself
# excluded. For each class, the share of images whose nearest neighbour has
# the same label, and the share of all 3 neighbours that do.
distances, indices = search[-1].kneighbors()
for label in np.unique(labels):
    rows = labels == label
    nearest = np.mean(labels[indices[rows, 0]] == label)
    all_three = np.mean(labels[indices[rows]] == label)
    print(f"{label:>6}: nearest of the same texture {nearest:.0%}, "
          f"3 nearest {all_three:.0%}")

# %%
# The similar-images figure
# -------------------------
# The queries are the first image of each class (``brick00``, ``grass00``,
# ``gravel00``), not picked for a good-looking result. One row per query: the
# query, titled with its file name, then its 3 most similar images, nearest
# first, with their distances.
queries = [list(labels).index(label) for label in np.unique(labels)]
display = SimilarImagesDisplay.from_estimator(
    search, paths, queries, n_neighbors=3
)
display.figure_.set_size_inches(8, 6.4)
plt.show()

# %%
for query in queries:
    found = ", ".join(str(label) for label in labels[indices[query]])
    shown = ", ".join(f"{d:.2f}" for d in distances[query])
    print(f"{labels[query]:>6} -> {found}  (distances {shown})")

# %%
# What a wrong neighbour means
# ----------------------------
# ``gravel00``'s three nearest images are all grass. The features are not
# wrong: they summarise how often each pair of gray levels occurs one pixel
# apart (contrast, homogeneity, entropy, ...), and at that scale this gravel
# photograph's gray-level statistics are closer to those grass images' than to
# any other gravel's. The features know nothing of colour, of shapes larger
# than the pixel distance, or of what the photograph shows. A "wrong"
# neighbour is a texture that these 52 numbers cannot tell apart from the
# query's; below, every image of the collection whose nearest neighbour has
# another label.
#
# When neighbours matter, check them on the whole collection as above, not on
# a few queries, and try what changes the features' view: larger pixel
# distances (``HaralickFeaturizer(distance=[1, 2, 4])``), averaging over
# directions (``aggregate="mean"``), or a classifier trained on labels
# (:ref:`sphx_glr_auto_examples_plot_classify_sample_images.py`).
wrong = [i for i in range(len(paths)) if labels[indices[i, 0]] != labels[i]]
print(f"{len(wrong)} of {len(paths)} images have a nearest neighbour "
      "of another texture:")
for i in wrong:
    print(f"  {Path(paths[i]).name} -> {Path(paths[indices[i, 0]]).name}")

# %%
# Colour photographs: gray and the recommended colour setting side by side
# ------------------------------------------------------------------------
# The sample images are gray textures. On colour photographs the gray
# conversion throws away much of what tells textures apart: here, 64 x 64
# patches of six photographs that scikit-image and scikit-learn ship (12
# non-overlapping patches each, the label being the photograph), searched
# with the default ``color="gray"`` and with the setting the user guide
# recommends, ``color="hsv", color_pairs="all"`` (each HSV channel, and the
# co-occurrence between channels).
import skimage.data
from sklearn.datasets import load_sample_image

photos = {name: getattr(skimage.data, name)()
          for name in ("coffee", "chelsea", "astronaut", "rocket")}
for name in ("china", "flower"):
    photos[name] = load_sample_image(f"{name}.jpg")
patches, patch_labels = [], []
for name, rgb in photos.items():
    tiles = [(r, c) for r in range(rgb.shape[0] // 64)
             for c in range(rgb.shape[1] // 64)]
    for k in np.linspace(0, len(tiles) - 1, 12).round().astype(int):
        r, c = tiles[k]
        patches.append(rgb[64 * r:64 * (r + 1), 64 * c:64 * (c + 1)])
        patch_labels.append(name)
patch_labels = np.array(patch_labels)

settings = [("gray", {}),
            ("hsv + pairs", dict(color="hsv", color_pairs="all"))]
colour_queries = [3, 40, 65]
fig, axes = plt.subplots(2 * len(colour_queries), 4, figsize=(8, 14),
                         layout="constrained")
for row, (title, params) in enumerate(settings):
    colour_search = make_pipeline(
        HaralickFeaturizer(**params), StandardScaler(),
        DistanceNeighbors(n_neighbors=3),
    ).fit(patches)
    _, neighbours = colour_search[-1].kneighbors()
    same = patch_labels[neighbours] == patch_labels[:, None]
    print(f"{title:12s} precision@3 (same photograph among the 3 nearest): "
          f"{same.mean():.0%}")
    n = len(colour_queries)
    SimilarImagesDisplay.from_estimator(colour_search, patches, colour_queries,
                                        ax=axes[row * n:(row + 1) * n])
fig.suptitle('Rows 1-3: gray.  Rows 4-6: color="hsv", color_pairs="all".')
plt.show()
