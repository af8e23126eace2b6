"""
============================
Find and show similar images
============================

Texture features make a distance between images: after scaling, images whose
Haralick features are close look alike. :class:`~haralick_learn.DistanceNeighbors`
gives, for each image, the most similar others (the image itself excluded),
as the tutorial's ``squareform(pdist(features))`` then ``argsort`` does, and
:class:`~haralick_learn.SimilarImagesDisplay` draws them.
"""

# %%
# One pipeline: paths in, nearest neighbours out
# ----------------------------------------------
import matplotlib.pyplot as plt
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
search = make_pipeline(HaralickFeaturizer(), StandardScaler(), DistanceNeighbors(n_neighbors=3))
search.fit(paths)

# %%
# The similar-images figure
# -------------------------
# One row per query (one per texture class): the query titled "original", then
# its 3 most similar images, nearest first, with their distances.
display = SimilarImagesDisplay.from_estimator(search, paths, [0, 30, 60], n_neighbors=3)
display.figure_.set_size_inches(8, 6.4)
plt.show()

# %%
# The numbers behind it
# ---------------------
# ``kneighbors()`` without ``X`` gives every fitted image's neighbours, itself
# excluded. How often is the nearest image of the same texture?
distances, indices = search[-1].kneighbors()
labels = FilenameLabelExtractor().fit_transform(paths)
same = labels[indices[:, 0]] == labels
print(f"nearest neighbour of the same texture for {same.mean():.0%} of the images")
for query in (0, 30, 60):
    print(labels[query], "->", list(labels[indices[query]]), distances[query].round(2))

# %%
# Colour photographs: gray and the recommended colour setting side by side
# ------------------------------------------------------------------------
# The sample images are gray textures. On colour photographs the gray
# conversion throws away much of what tells textures apart: here, 64 x 64
# patches of six photographs that scikit-image and scikit-learn ship (12
# non-overlapping patches each, the label being the photograph), searched with
# the default ``color="gray"`` and with the setting the user guide recommends,
# ``color="hsv", color_pairs="all"`` (each HSV channel, and the co-occurrence
# between channels).
import numpy as np
import skimage.data
from sklearn.datasets import load_sample_image

photos = {name: getattr(skimage.data, name)() for name in ("coffee", "chelsea", "astronaut",
                                                            "rocket")}
photos.update({name: load_sample_image(f"{name}.jpg") for name in ("china", "flower")})
patches, patch_labels = [], []
for name, rgb in photos.items():
    tiles = [(r, c) for r in range(rgb.shape[0] // 64) for c in range(rgb.shape[1] // 64)]
    for k in np.linspace(0, len(tiles) - 1, 12).round().astype(int):
        r, c = tiles[k]
        patches.append(rgb[64 * r:64 * (r + 1), 64 * c:64 * (c + 1)])
        patch_labels.append(name)
patch_labels = np.array(patch_labels)

queries = [3, 40, 65]
fig, axes = plt.subplots(2 * len(queries), 4, figsize=(8, 14), layout="constrained")
for row, (title, params) in enumerate([("gray", {}),
                                       ("hsv + pairs", dict(color="hsv", color_pairs="all"))]):
    colour_search = make_pipeline(HaralickFeaturizer(**params), StandardScaler(),
                                  DistanceNeighbors(n_neighbors=3)).fit(patches)
    _, neighbours = colour_search[-1].kneighbors()
    precision = (patch_labels[neighbours] == patch_labels[:, None]).mean()
    print(f"{title:12s} precision@3 (same photograph among the 3 nearest): {precision:.0%}")
    shown = axes[row * len(queries):(row + 1) * len(queries)]
    SimilarImagesDisplay.from_estimator(colour_search, patches, queries, ax=shown)
fig.suptitle("Rows 1-3: gray.  Rows 4-6: color=\"hsv\", color_pairs=\"all\".")
plt.show()
