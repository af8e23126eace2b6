"""
========================================
Texture of each cell: a per-region table
========================================

:func:`~haralick_learn.region_features` gives one row of Haralick features
per labelled region of an image, in the style of
:func:`skimage.measure.regionprops_table`. Here scikit-image's coins stand in
for the cells of a segmented microscopy image: each coin is a region, and its
texture (the relief of the coin) is measured inside its outline only. A masked
sample, ``(image, mask)``, gives the same row for one region.

Requires scikit-image (``pip install scikit-image``) besides haralick_learn.
"""

# %%
# Segment the image into regions
# ------------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from skimage.data import coins
from skimage.filters import threshold_otsu
from skimage.measure import label, regionprops_table

from haralick_learn import HaralickFeaturizer, region_features

image = coins()
cells = label(image > threshold_otsu(image))
cells[(np.bincount(cells.ravel()) < 300)[cells]] = 0  # drop specks of < 300 pixels
print(f"{len(np.unique(cells)) - 1} regions in an image of {image.shape}")

# %%
# One row per region
# ------------------
# The featurizer's parameters choose the features; the table joins
# scikit-image's shape properties on the ``label`` column.
texture = region_features(image, cells, aggregate="mean", levels=32)
shape = pd.DataFrame(regionprops_table(cells, properties=("label", "area")))
table = shape.merge(texture, on="label")
print(table[["label", "area", "contrast_mean_d1", "entropy_mean_d1"]].head().to_string())

# %%
# The same row from a masked sample
# ---------------------------------
# A region's row equals the featurizer's row of the pair (image, its mask).
first = table["label"].iloc[0]
masked = HaralickFeaturizer(aggregate="mean", levels=32).fit_transform([(image, cells == first)])
same = np.array_equal(masked[0], texture.drop(columns="label").iloc[0].to_numpy())
print(f"region {first}: table row equals the masked sample's row: {same}")

# %%
# Draw each region coloured by its contrast
# -----------------------------------------
contrast = np.full(cells.max() + 1, np.nan)
contrast[table["label"]] = table["contrast_mean_d1"]
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
axes[0].imshow(image, cmap="gray")
axes[0].set_title("coins")
shown = axes[1].imshow(np.where(cells > 0, contrast[cells], np.nan), cmap="viridis")
axes[1].set_title("contrast of each region")
fig.colorbar(shown, ax=axes[1], shrink=0.8)
for ax in axes:
    ax.axis("off")
plt.show()
