"""
================================
The ``haralick-learn`` command
================================

``pip install .`` installs the ``haralick-learn`` command: featurize a folder
to CSV, find the images most similar to a query, evaluate a classifier, without
writing Python. This example runs each command through
:func:`haralick_learn.cli.main`, which is what the command calls, and shows
what it prints, on a folder ``photos/`` holding the 90 sample images.
"""

# %%
import contextlib
import io
import os
import shlex
import shutil
import tempfile

import matplotlib.pyplot as plt
import pandas as pd

from haralick_learn import cli
from haralick_learn.datasets import load_sample_images

work = tempfile.mkdtemp()  # a scratch folder holding photos/
os.mkdir(os.path.join(work, "photos"))
for path in load_sample_images().paths:
    shutil.copy(path, os.path.join(work, "photos"))


def haralick_learn(command):
    """Run ``haralick-learn COMMAND``; show what it prints."""
    print(f"$ haralick-learn {command}")
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(work)  # as if typed in the scratch folder
    try:
        with contextlib.redirect_stdout(out):
            with contextlib.redirect_stderr(err):
                code = cli.main(shlex.split(command))
    finally:
        os.chdir(here)
    print(out.getvalue(), end="")
    # Standard error: warnings and errors (not the progress bar).
    for line in err.getvalue().splitlines():
        if not line.startswith("Featurizing ["):
            print(line)
    print(f"(exit code {code})")


# %%
# ``featurize``: one CSV row per image
# ------------------------------------
# The path, then the 52 named features of each image, floats written exactly.
haralick_learn("featurize photos -o features.csv")

# %%
table = pd.read_csv(os.path.join(work, "features.csv"))
print(table.iloc[:3, :3].to_string(index=False))

# %%
# ``similar``: the images most similar to a query
# -----------------------------------------------
# Features standardised on the folder, euclidean distance; a query that is one
# of the folder's images is not its own neighbour. ``--plot`` draws them.
haralick_learn(
    "similar photos photos/brick05.jpg photos/gravel00.jpg"
    " -k 3 --plot similar.png"
)

# %%
plt.figure(figsize=(8, 4.4))
plt.imshow(plt.imread(os.path.join(work, "similar.png")))
plt.axis("off")
plt.show()

# %%
# ``evaluate``: how well the textures can be told apart
# -----------------------------------------------------
# Labels from the file names (``brick05.jpg`` -> ``brick``), then the
# stratified 5-fold accuracy of ``StandardScaler`` + ``LogisticRegression`` and
# scikit-learn's per-class report of the held-out predictions.
haralick_learn("evaluate photos --labels name --cv 5")

# %%
# Errors: one line, exit code 1
# -----------------------------
# A runtime error (a missing folder, an unreadable image) is one line on
# standard error and exit code 1; a usage error is argparse's message and
# exit code 2.
haralick_learn("featurize holiday_photos -o features.csv")

# %%
# Every option of every command is in the
# :ref:`API reference's command-line section <cli_reference>`, and
# ``haralick-learn COMMAND --help`` prints it.
