"""
==============================================
Texture maps of a large raster, tile by tile
==============================================

:func:`~haralick_learn.texture_maps` of a raster larger than memory (a large
TIFF or a Zarr store, opened lazily) cannot hold the raster, nor its maps,
which take ``n_features * 8`` bytes per pixel. Given a 2-D uint8
:class:`dask.array.Array`, it returns a lazy Dask array of maps: each tile is
extended by ``window // 2`` pixels of its neighbours
(:func:`dask.array.overlap.overlap`), mapped in memory and trimmed back, so the
values are those of the in-memory maps, to the bit. Written to a Zarr store,
the maps are computed and written tile by tile: memory depends on the tile
size, not on the raster's.

Here a real photograph stands for the large raster, so that the tiled maps can
be checked against the in-memory ones. Requires Dask and Zarr
(``pip install "haralick_learn[maps]"``).
"""

# %%
# A raster in a Zarr store, opened lazily
# ---------------------------------------
# scikit-learn's ``china.jpg`` photograph (427 x 640), in gray, written to a
# Zarr store of 128 x 128 chunks in a temporary folder; ``da.from_zarr``
# then reads it lazily, one chunk at a time, as it would a raster of
# gigapixels.
import tempfile
from pathlib import Path

import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
from dask.diagnostics import ProgressBar
from PIL import Image
from sklearn.datasets import load_sample_image

from haralick_learn import HaralickFeaturizer, texture_maps

folder = Path(tempfile.mkdtemp(prefix="haralick_raster_"))
gray = np.asarray(Image.fromarray(load_sample_image("china.jpg")).convert("L"))
da.from_array(gray, chunks=(128, 128)).to_zarr(folder / "raster.zarr")

raster = da.from_zarr(folder / "raster.zarr")
print(f"raster {raster.shape} {raster.dtype}, {raster.npartitions} tiles of {raster.chunksize}")

# %%
# Lazy maps, written to Zarr tile by tile
# ---------------------------------------
# Nothing is computed by ``texture_maps``: it returns a Dask array chunked
# like the raster, with the features on the last axis. ``to_zarr`` computes
# each tile and writes it; Dask's progress bar shows the tiles done (only for
# runs over ``minimum`` seconds: this one is shorter).
options = dict(window=15, aggregate="mean")
lazy = texture_maps(raster, **options)
print(f"lazy maps {lazy.shape}, chunks {lazy.chunksize}, "
      f"{lazy.nbytes / 2**20:.0f} MiB once computed")
with ProgressBar(minimum=10):
    lazy.to_zarr(folder / "maps.zarr")

# %%
# The same maps as in memory
# --------------------------
# The tile borders change nothing: the maps read back from the store are
# equal, pixel for pixel and bit for bit, to those computed on the whole
# image at once (NaN where a window has no pixel pair in a direction, the
# same in both).
maps = da.from_zarr(folder / "maps.zarr")
in_memory = texture_maps(gray, **options)
print("tiled maps equal the in-memory maps:",
      np.array_equal(maps.compute(), in_memory, equal_nan=True))

# %%
# One map, read from the store
# ----------------------------
# A reader of the store needs only the features it shows: one feature of
# every tile, here the entropy of each pixel's 15 x 15 window (the tile grid
# drawn over the raster).
names = list(HaralickFeaturizer(aggregate="mean").get_feature_names_out())
entropy = maps[..., names.index("entropy_mean_d1")].compute()

fig, axes = plt.subplots(1, 2, figsize=(9, 3.3), layout="constrained")
axes[0].imshow(gray, cmap="gray")
for y in np.cumsum(raster.chunks[0])[:-1]:
    axes[0].axhline(y - 0.5, color="yellow", lw=0.8)
for x in np.cumsum(raster.chunks[1])[:-1]:
    axes[0].axvline(x - 0.5, color="yellow", lw=0.8)
axes[0].set_title("raster and its 128 x 128 tiles")
shown = axes[1].imshow(entropy, cmap="magma")
axes[1].set_title("entropy of each 15 x 15 window")
fig.colorbar(shown, ax=axes[1], shrink=0.8)
for ax in axes:
    ax.axis("off")
plt.show()
