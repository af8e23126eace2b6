"""
==================================
Classify the sample texture images
==================================

The tutorial flow with the library: featurize each image with its Haralick
texture features, scale them, and classify with a logistic regression, all in
one scikit-learn :class:`~sklearn.pipeline.Pipeline` that takes file paths.
"""

# %%
# The data: 90 photographs of three textures, labelled by file name
# ------------------------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import cross_val_predict, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from haralick_learn import FilenameLabelExtractor, HaralickFeaturizer
from haralick_learn.datasets import load_sample_images

paths = load_sample_images().paths
y = FilenameLabelExtractor().fit_transform(paths)  # brick07.jpg: brick
classes, counts = np.unique(y, return_counts=True)
counted = ", ".join(f"{c} ({n})" for c, n in zip(classes, counts))
print(f"{len(paths)} images: {counted}")

fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.8), layout="constrained")
for ax, label in zip(axes, np.unique(y)):
    first = paths[list(y).index(label)]
    with Image.open(first) as im:
        ax.imshow(np.asarray(im))
    ax.set_title(label)
    ax.axis("off")

# %%
# The pipeline: paths in, predictions out
# ---------------------------------------
# :class:`~haralick_learn.HaralickFeaturizer` reads each file, converts it to
# gray exactly as mahotas does, and returns 4 directions x 13 features. The
# ``memory`` folder caches each image's row, so the five folds below compute
# every image's features once instead of five times.
import tempfile

cache = tempfile.mkdtemp(prefix="haralick_cache_")
clf = Pipeline(
    [
        ("features", HaralickFeaturizer(memory=cache)),
        ("scale", StandardScaler()),
        ("classify", LogisticRegression(max_iter=1000)),
    ]
)
scores = cross_val_score(clf, paths, y, cv=5)
print(f"5-fold accuracy: {scores.mean():.1%} (+/- {scores.std():.1%})")

# %%
# Which textures get confused?
# ----------------------------
# Out-of-fold predictions (the features come from the cache this time).
predicted = cross_val_predict(clf, paths, y, cv=5)
ConfusionMatrixDisplay.from_predictions(y, predicted, colorbar=False)
plt.title("Out-of-fold predictions")
plt.show()
