"""Region tables of a synthetic slide of up to millions of nuclei, tiled from real microscopy.

Usage::

    python benchmarks/bench_regions_large.py [--cells 250000 500000 1000000] [--n-jobs 2]
    python benchmarks/bench_regions_large.py --zarr FOLDER [--cells 1000000 10000000]

The tile is mahotas's fluorescence image of nuclei (``mahotas.demos.load("nuclear")``,
shipped with mahotas: nothing is downloaded), downscaled 6 times (nuclei of about 12 pixels
across, 115 pixels each, as in scikit-image's ``human_mitosis``) and labelled once by a
threshold of its smoothed image and a watershed of the distance to the background (68
nuclei per 171 x 224 tile). The slide is that tile and its mirror images side by side, its
labels numbered on (uint8 image, int32 labels), as many tiles as the number of cells asks.

Each size runs in a process of its own: the time of ``region_features(slide, labels,
n_jobs=...)`` (default settings: Haralick's 13 features x 4 directions), and the peak
resident memory of the process (the slide and its labels included, building them excluded
from the time). Then a line fitted to the times and peaks gives the figures for 10 million
cells.

``--zarr FOLDER``: each slide is written to two Zarr stores in FOLDER instead (chunks of
6 x 6 tiles, 1026 x 1344 pixels, a band of chunks at a time: the slide is never whole in
memory; not timed), and the process times ``haralick-learn regions image.zarr labels.zarr
-o cells.parquet --n-jobs N`` from them: read tile by tile, the rows kept in a file as they
come and written to Parquet at the end. The stores and the table are removed after each size. The synthetic slide repeats its
tile, so its stores and its table compress far better than a real slide's would.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

from _machine import describe_machine


def nuclei_tile(factor=6):
    """The downscaled image of nuclei and its labels (threshold + watershed)."""
    import mahotas.demos
    from scipy import ndimage
    from skimage.feature import peak_local_max
    from skimage.measure import label
    from skimage.segmentation import watershed
    from skimage.transform import downscale_local_mean

    image = mahotas.demos.load("nuclear")[..., 0]
    small = np.round(downscale_local_mean(image.astype(float), (factor, factor)))
    small = small.astype(np.uint8)
    inside = ndimage.gaussian_filter(small.astype(float), 1) > 32
    distance = ndimage.distance_transform_edt(inside)
    peaks = peak_local_max(distance, min_distance=3, labels=label(inside), exclude_border=False)
    markers = np.zeros(small.shape, np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    return small, watershed(-distance, markers, mask=inside).astype(np.int32)


def slide_layout(n_cells):
    """The tile, its labels and the slide's layout: ``(tile, labels, per_tile, n_tiles,
    columns, rows)``, tiles placed row by row (as many as ``n_cells`` nuclei ask)."""
    tile, tile_labels = nuclei_tile()
    per_tile = int(tile_labels.max())
    n_tiles = -(-n_cells // per_tile)
    columns = int(np.ceil(np.sqrt(n_tiles * tile.shape[0] / tile.shape[1])))
    rows = -(-n_tiles // columns)
    return tile, tile_labels, per_tile, n_tiles, columns, rows


def slide_band(layout, first_row, stop_row):
    """The slide's tile rows ``first_row`` to ``stop_row`` (image and labels): the tile,
    flipped either way, its labels numbered on from tile to tile; zeros after the last tile."""
    tile, tile_labels, per_tile, n_tiles, columns, _ = layout
    height, width = tile.shape
    image = np.zeros(((stop_row - first_row) * height, columns * width), np.uint8)
    labels = np.zeros(image.shape, np.int32)
    for k in range(first_row * columns, min(n_tiles, stop_row * columns)):
        r, c = divmod(k, columns)
        flip = (slice(None, None, 1 - 2 * (k % 2)), slice(None, None, 1 - 2 * (k // 2 % 2)))
        box = (slice((r - first_row) * height, (r - first_row + 1) * height),
               slice(c * width, (c + 1) * width))
        image[box] = tile[flip]
        labels[box] = np.where(tile_labels[flip] > 0, tile_labels[flip] + k * per_tile, 0)
    return image, labels


def slide(n_cells):
    """A slide of tiles (the tile, flipped either way) holding at least ``n_cells`` nuclei."""
    layout = slide_layout(n_cells)
    return slide_band(layout, 0, layout[-1])


#: Tile rows (and columns) per chunk of the Zarr stores: chunks of 1026 x 1344 pixels.
CHUNK_TILES = 6


def write_stores(n_cells, folder):
    """The slide as two Zarr stores in ``folder`` (``image.zarr``, ``labels.zarr``), written
    a band of chunks at a time (the slide is never whole in memory); their bytes on disk."""
    import zarr

    layout = slide_layout(n_cells)
    tile, rows, columns = layout[0], layout[-1], layout[-2]
    shape = (rows * tile.shape[0], columns * tile.shape[1])
    chunks = (CHUNK_TILES * tile.shape[0], CHUNK_TILES * tile.shape[1])
    paths = [os.path.join(folder, name) for name in ("image.zarr", "labels.zarr")]
    stores = [zarr.create_array(path, shape=shape, chunks=chunks, dtype=dtype, overwrite=True)
              for path, dtype in zip(paths, (np.uint8, np.int32))]
    for first in range(0, rows, CHUNK_TILES):
        stop = min(rows, first + CHUNK_TILES)
        for store, band in zip(stores, slide_band(layout, first, stop)):
            store[first * tile.shape[0]:stop * tile.shape[0]] = band
    size = sum(os.path.getsize(os.path.join(root, name)) for path in paths
               for root, _, names in os.walk(path) for name in names)
    return paths, shape, size


def measure(n_cells, n_jobs):
    """One size, in this process: a dict of the figures."""
    from haralick_learn import region_features

    image, labels = slide(n_cells)
    region_features(image[:300, :300], labels[:300, :300], on_error="nan")  # compile or load
    start = time.perf_counter()
    cpu = time.process_time()
    table = region_features(image, labels, n_jobs=n_jobs, on_error="nan")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"cells": len(table), "pixels": image.size, "seconds": seconds, "cpu": cpu,
            "peak_bytes": peak, "slide_bytes": image.nbytes + labels.nbytes,
            "nan_rows": int(table.iloc[:, 6:].isna().all(axis=1).sum())}


def measure_stores(folder, n_jobs):
    """The stores of :func:`write_stores` through ``haralick-learn regions`` to Parquet, in
    this process: a dict of the figures."""
    import contextlib
    import io

    import zarr

    from haralick_learn import region_features
    from haralick_learn.cli import main as command

    image, labels = (os.path.join(folder, name) for name in ("image.zarr", "labels.zarr"))
    crop = (slice(0, 300), slice(0, 300))
    region_features(zarr.open_array(image)[crop], zarr.open_array(labels)[crop],
                    on_error="nan", tile_shape=150)  # compile or load the kernels
    output = os.path.join(folder, "cells.parquet")
    start = time.perf_counter()
    cpu = time.process_time()
    with contextlib.redirect_stderr(io.StringIO()):  # the progress bar
        status = command(["regions", image, labels, "-o", output, "--n-jobs", str(n_jobs),
                          "--on-error", "nan"])
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if status:
        raise SystemExit(f"haralick-learn regions exited with {status}")
    return {"seconds": seconds, "cpu": cpu, "peak_bytes": peak,
            "output_bytes": os.path.getsize(output)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, nargs="+", default=[250_000, 500_000, 1_000_000])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--zarr", metavar="FOLDER",
                        help="write each slide to Zarr stores in FOLDER and time "
                             "'haralick-learn regions' from them to Parquet instead")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stores-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.n_jobs)))
        return
    if args.stores_child:
        print(json.dumps(measure_stores(args.stores_child, args.n_jobs)))
        return

    print(describe_machine())
    tile, tile_labels = nuclei_tile()
    sizes = np.bincount(tile_labels.ravel())[1:]
    print(f"tile: mahotas nuclear.png / 6, {tile.shape}, {tile_labels.max()} nuclei "
          f"(median {int(np.median(sizes))} pixels); "
          + (f"haralick-learn regions from Zarr stores (chunks of {CHUNK_TILES} x "
             f"{CHUNK_TILES} tiles) to Parquet, --n-jobs {args.n_jobs}" if args.zarr else
             f"region_features(n_jobs={args.n_jobs}) in memory") + ", default settings")
    results = []
    for n_cells in args.cells:
        if args.zarr:
            result = from_stores(n_cells, args.zarr, args.n_jobs)
        else:
            done = subprocess.run([sys.executable, __file__, "--child", str(n_cells),
                                   "--n-jobs", str(args.n_jobs)], capture_output=True,
                                  text=True, check=True)
            result = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(result)
        print(f"{result['cells']:>10,} cells, {result['pixels'] / 1e6:7.1f} Mpx: "
              f"{result['seconds']:7.1f} s wall, {result['cpu']:7.1f} s CPU, "
              f"{1e6 * result['seconds'] / result['cells']:.1f} us per cell; peak "
              f"{result['peak_bytes'] / 2**30:.2f} GiB; " + (
                  f"stores {result['store_bytes'] / 2**30:.2f} GiB on disk (written in "
                  f"{result['write_seconds']:.0f} s), Parquet {result['output_bytes'] / 2**20:.0f}"
                  " MiB" if args.zarr else
                  f"slide and labels {result['slide_bytes'] / 2**30:.2f} GiB; "
                  f"{result['nan_rows']} cells without pairs"), flush=True)
    if len(results) >= 2:
        cells = np.array([r["cells"] for r in results], float)
        for key, unit, scale in (("seconds", "s", 1), ("peak_bytes", "GiB", 2**30)):
            slope, intercept = np.polyfit(cells, np.array([r[key] for r in results]) / scale, 1)
            print(f"fitted {key}: {intercept:.2f} {unit} + {1e6 * slope:.3f} {unit} per million "
                  f"cells; 10 million cells: {intercept + 1e7 * slope:.1f} {unit}")


def from_stores(n_cells, folder, n_jobs):
    """One size from Zarr stores: written here, timed in a process of its own, then removed."""
    import shutil

    import pyarrow.parquet as pq

    os.makedirs(folder, exist_ok=True)
    start = time.perf_counter()
    paths, shape, store_bytes = write_stores(n_cells, folder)
    write_seconds = time.perf_counter() - start
    try:
        done = subprocess.run([sys.executable, __file__, "--stores-child", folder,
                               "--n-jobs", str(n_jobs)], capture_output=True, text=True,
                              check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        output = os.path.join(folder, "cells.parquet")
        result["cells"] = pq.ParquetFile(output).metadata.num_rows
    finally:
        for path in paths:
            shutil.rmtree(path, ignore_errors=True)
        if os.path.exists(os.path.join(folder, "cells.parquet")):
            os.remove(os.path.join(folder, "cells.parquet"))
    return {**result, "pixels": shape[0] * shape[1], "store_bytes": store_bytes,
            "write_seconds": write_seconds}


if __name__ == "__main__":
    main()
