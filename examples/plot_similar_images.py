"""
============================
Find and show similar images
============================

Texture features make a distance between images: after scaling, images whose
Haralick features are close look alike. :class:`~haralick_learn.DistanceNeighbors`
gives, for each image, the most similar others (the image itself excluded),
as the tutorial's ``squareform(pdist(features))`` then ``argsort`` does.
"""

# %%
# Features, scaled, and the 3 nearest neighbours of every image
# -------------------------------------------------------------
import os

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from haralick_learn import DistanceNeighbors, FilenameLabelExtractor, HaralickFeaturizer
from haralick_learn.datasets import load_sample_images

paths = load_sample_images().paths
X = make_pipeline(HaralickFeaturizer(), StandardScaler()).fit_transform(paths)
neighbors = DistanceNeighbors(n_neighbors=3).fit(X)
distances, indices = neighbors.kneighbors()

# %%
# The similar-images figure
# -------------------------
# Each row: a query image, then its 3 most similar images with their
# distances. One query per texture class.
names = [os.path.basename(p) for p in paths]
queries = [0, 30, 60]  # brick00, grass00, gravel00

fig, axes = plt.subplots(len(queries), 4, figsize=(8, 6.4), layout="constrained")
for row, query in zip(axes, queries):
    shown = [(query, f"query\n{names[query]}")] + [
        (i, f"{names[i]}\ndistance {d:.2f}") for d, i in zip(distances[query], indices[query])
    ]
    for ax, (i, title) in zip(row, shown):
        with Image.open(paths[i]) as im:
            ax.imshow(np.asarray(im.convert("RGB")))
        ax.set_title(title, fontsize=9)
        ax.axis("off")
plt.show()

# %%
# How often is the nearest image of the same texture?
# ---------------------------------------------------
labels = FilenameLabelExtractor().fit_transform(paths)
same = labels[indices[:, 0]] == labels
print(f"nearest neighbour of the same texture for {same.mean():.0%} of the images")
