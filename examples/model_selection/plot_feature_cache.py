"""
======================================
Cache the features in cross-validation
======================================

In ``cross_val_score`` a pipeline transforms every image once per fold it
appears in: with 5 folds, four times as training data and once as test data.
``HaralickFeaturizer(memory=folder)`` keeps each image's row in ``folder``, so
every image is featurized once and later folds, later runs and other settings
of the classifier read the row back.
"""

# %%
import tempfile
from pathlib import Path

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from haralick_learn import FilenameLabelExtractor, HaralickFeaturizer
from haralick_learn.datasets import load_sample_images

paths = load_sample_images().paths
y = FilenameLabelExtractor().fit_transform(paths)
cache = Path(tempfile.mkdtemp(prefix="haralick_cache_"))


def make_classifier(distance=1, C=1.0):
    featurizer = HaralickFeaturizer(distance=distance, memory=cache)
    return Pipeline(
        [
            ("features", featurizer),
            ("scale", StandardScaler()),
            ("classify", LogisticRegression(C=C, max_iter=1000)),
        ]
    )


def cache_entries():
    """The rows stored: one small file per image and parameter set."""
    rows = (cache / "haralick_learn").rglob("*")
    return sorted(p for p in rows if p.is_file())


# %%
# A cold cache: each image featurized once
# ----------------------------------------
# The five folds transform 450 images in all (90 x 4 as training data, 90 x 1
# as test data); the cache ends with one row per image.
scores = cross_val_score(make_classifier(), paths, y, cv=5)
print(f"5-fold accuracy {scores.mean():.1%}; "
      f"cache entries: {len(cache_entries())}")

# %%
# A warm cache: rows read, none written
# -------------------------------------
# Another run, here with another regularisation of the classifier, reads every
# row: no entry is added or rewritten (their modification times stay the
# same), and the features are identical, so only the classifier's part of the
# scores can change.
before = {p: p.stat().st_mtime_ns for p in cache_entries()}
scores = cross_val_score(make_classifier(C=0.1), paths, y, cv=5)
after = {p: p.stat().st_mtime_ns for p in cache_entries()}
print(f"C=0.1: 5-fold accuracy {scores.mean():.1%}; "
      f"entries unchanged: {before == after}")

# %%
# Parameters that change the features get their own rows
# -------------------------------------------------------
# A row is keyed by the image's content and every featurizer parameter that
# changes the numbers (``distance``, ``aggregate``, ``levels``...), never by
# ``n_jobs`` or ``on_error``. A new distance adds one row per image beside the
# others, which stay valid:
scores = cross_val_score(make_classifier(distance=2), paths, y, cv=5)
print(f"distance=2: 5-fold accuracy {scores.mean():.1%}; "
      f"cache entries: {len(cache_entries())}")

# %%
# The measured cost of a cached cross-validation against one featurize pass
# is on the :doc:`performance page </performance>`; :doc:`/scaling` describes
# the cache's key, its sharing between processes and Dask workers, and its
# checks.
