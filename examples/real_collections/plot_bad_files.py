"""
=====================================================
Keep going past unreadable files: ``on_error="nan"``
=====================================================

A real collection has a few files that are not images, empty, or cut short by
an interrupted copy. By default (``on_error="raise"``) the first one stops the
batch with an error that names it. With ``on_error="nan"`` the batch goes on:
each failed image's row is NaN, every other row is what it would be alone, rows
stay in input order, and one
:class:`~haralick_learn.ImageFeaturizationWarning` lists the failures.
"""

# %%
# A folder with three broken files
# --------------------------------
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from haralick_learn import HaralickFeaturizer, ImageFeaturizationWarning
from haralick_learn.datasets import load_sample_images

folder = Path(tempfile.mkdtemp()) / "photos"
folder.mkdir()
for path in load_sample_images().paths[::15]:  # 6 good images
    shutil.copy(path, folder)
(folder / "empty.jpg").write_bytes(b"")
(folder / "notes.jpg").write_text("not an image")
good = (folder / "brick00.jpg").read_bytes()
(folder / "cut.jpg").write_bytes(good[: len(good) // 2])  # cut short

paths = sorted(str(p) for p in folder.glob("*.jpg"))
print(", ".join(Path(p).name for p in paths))

# %%
# The default: the first failure stops the batch
# ----------------------------------------------
try:
    HaralickFeaturizer().fit_transform(paths)
except ValueError as error:
    print(f"{type(error).__name__}: {error}")

# %%
# ``on_error="nan"``: NaN rows and one warning
# --------------------------------------------
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", ImageFeaturizationWarning)
    X = HaralickFeaturizer(on_error="nan").fit_transform(paths)
(warning,) = [
    w.message for w in caught if w.category is ImageFeaturizationWarning
]
print(warning)

# %%
# The warning's ``failures`` attribute gives each failed sample's index and
# reason, without parsing the message:
for index, reason in warning.failures:
    print(f"{index}: {reason}")

# %%
# The rows stay in input order: the failed ones are all NaN (a successful row
# never is), so they are easy to find and drop before a classifier.
failed = np.flatnonzero(np.isnan(X).all(axis=1))
print("failed rows:", ", ".join(Path(paths[i]).name for i in failed))
kept = [p for i, p in enumerate(paths) if i not in set(failed)]
X_kept = np.delete(X, failed, axis=0)
print(f"{X_kept.shape[0]} rows kept of {X.shape[0]}")

# %%
# Each kept row equals the row of that image featurized alone:
alone = HaralickFeaturizer().fit_transform([kept[0]])
print("same as alone:", np.array_equal(alone[0], X_kept[0]))

# %%
# The :ref:`user guide <featurizer-errors>` lists every error and its
# message; the command line's ``featurize --on-error nan`` does the same for a
# folder.
