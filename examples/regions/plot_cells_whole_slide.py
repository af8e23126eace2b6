"""
==================================================
Cells of a whole slide, tile by tile, to Parquet
==================================================

A whole-slide image holds more cells, and more pixels, than memory. Given a
label image on disk (a Zarr store, an OME-Zarr image or an OME-TIFF file),
:func:`~haralick_learn.region_features` and the ``haralick-learn regions``
command read it tile by tile: a first pass gathers each label's bounding box
and pixel count, then each cell is cut from the slide by its box and
featurized once, even when it crosses tile borders. The rows are those of the
in-memory table, and the command writes them to Parquet as it goes (an
interrupted run resumes where it stopped).

Here the slide is made of copies of scikit-image's coins, standing in for
cells: the left half as photographed, the right half blurred, as a region
out of focus would be. The cells' texture, not their shape or brightness,
tells the halves apart: grouped by texture alone (k-means on the standardised
features), the cells fall into the two halves.

Requires scikit-image, zarr and pyarrow
(``pip install scikit-image "haralick_learn[tiles]" pyarrow``).
"""

# %%
# A slide on disk
# ---------------
# 4 x 6 copies of the coins (1212 x 2304 pixels, 576 cells), the right half
# blurred; the image saved as an OME-TIFF in 256 x 256 tiles, the cells'
# labels as a Zarr store in 256 x 256 chunks.
import contextlib
import io
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tifffile
import zarr
from skimage.data import coins
from skimage.filters import gaussian, threshold_otsu
from skimage.measure import label
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

from haralick_learn import cli

folder = tempfile.mkdtemp(prefix="haralick_slide_")
sharp = coins()
blurred = (gaussian(sharp, sigma=1.5) * 255).round().astype(np.uint8)
slide = np.hstack([np.tile(sharp, (4, 3)), np.tile(blurred, (4, 3))])
cells = label(np.tile(sharp > threshold_otsu(sharp), (4, 6))).astype(np.uint32)
cells[(np.bincount(cells.ravel()) < 300)[cells]] = 0  # drop specks
tifffile.imwrite(os.path.join(folder, "slide.ome.tif"), slide, tile=(256, 256), ome=True,
                 metadata={"axes": "YX"})
stored = zarr.open_array(os.path.join(folder, "cells.zarr"), mode="w", shape=cells.shape,
                         chunks=(256, 256), dtype=cells.dtype)
stored[...] = cells
print(f"slide {slide.shape}, {len(np.unique(cells)) - 1} cells")

# %%
# The per-cell table, written to Parquet
# --------------------------------------
# ``haralick-learn regions slide.ome.tif cells.zarr -o cells.parquet``, run
# here through :func:`haralick_learn.cli.main` (what the command calls). The
# tiles are the label image's chunks, grouped to about a million pixels;
# ``--tile-shape 512`` makes them smaller, so that many cells cross their
# borders. The progress bars go to standard error (not shown).
command = ["regions", os.path.join(folder, "slide.ome.tif"), os.path.join(folder, "cells.zarr"),
           "-o", os.path.join(folder, "cells.parquet"), "--tile-shape", "512",
           "--aggregate", "mean", "--distance", "1", "2", "--levels", "32"]
with contextlib.redirect_stderr(io.StringIO()):
    code = cli.main(command)
table = pd.read_parquet(os.path.join(folder, "cells.parquet"))
print(f"exit code {code}: {table.shape[0]} rows, {table.shape[1]} columns")
print(table.iloc[:5, :8].to_string())

# %%
# Cells grouped by texture
# ------------------------
# k-means (two groups) on the standardised texture features only: the label,
# box and pixel count are left out, and the 32 gray levels come from each
# cell's own darkest and brightest pixels, so brightness does not decide. The
# groups follow the halves, but for 12 regions a side: the band of background
# at the top of each sharp copy, smooth itself, and the most deeply engraved
# coin of each blurred copy.
features = table.columns[6:]
groups = KMeans(n_clusters=2, n_init=10, random_state=0).fit_predict(
    StandardScaler().fit_transform(table[features]))
half = np.where(table["bbox_1_min"] >= slide.shape[1] // 2, "blurred", "sharp")
print(pd.crosstab(pd.Series(half, name="half of the slide"), pd.Series(groups, name="group")))

# %%
# The slide, each cell coloured by its group
# ------------------------------------------
colour = np.full(cells.max() + 1, np.nan)
colour[table["label"].to_numpy()] = groups
fig, axes = plt.subplots(2, 1, figsize=(9, 8), layout="constrained")
axes[0].imshow(slide, cmap="gray")
axes[0].set_title("slide: sharp (left) and blurred (right) copies")
axes[1].imshow(np.where(cells > 0, colour[cells], np.nan), cmap="coolwarm",
               interpolation="nearest")
axes[1].set_title("cells grouped by texture (k-means, two groups)")
for ax in axes:
    ax.axis("off")
plt.show()
