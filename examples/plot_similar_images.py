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
