"""Region tables of a synthetic slide of up to a million nuclei, tiled from real microscopy.

Usage::

    python benchmarks/bench_regions_large.py [--cells 250000 500000 1000000] [--n-jobs 2]

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
"""

import argparse
import json
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


def slide(n_cells):
    """A slide of tiles (the tile, flipped either way) holding at least ``n_cells`` nuclei."""
    tile, tile_labels = nuclei_tile()
    per_tile = int(tile_labels.max())
    n_tiles = -(-n_cells // per_tile)
    columns = int(np.ceil(np.sqrt(n_tiles * tile.shape[0] / tile.shape[1])))
    rows = -(-n_tiles // columns)
    height, width = tile.shape
    image = np.zeros((rows * height, columns * width), np.uint8)
    labels = np.zeros(image.shape, np.int32)
    for k in range(n_tiles):
        r, c = divmod(k, columns)
        flip = (slice(None, None, 1 - 2 * (k % 2)), slice(None, None, 1 - 2 * (k // 2 % 2)))
        box = (slice(r * height, (r + 1) * height), slice(c * width, (c + 1) * width))
        image[box] = tile[flip]
        labels[box] = np.where(tile_labels[flip] > 0, tile_labels[flip] + k * per_tile, 0)
    return image, labels


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, nargs="+", default=[250_000, 500_000, 1_000_000])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.n_jobs)))
        return

    print(describe_machine())
    tile, tile_labels = nuclei_tile()
    sizes = np.bincount(tile_labels.ravel())[1:]
    print(f"tile: mahotas nuclear.png / 6, {tile.shape}, {tile_labels.max()} nuclei "
          f"(median {int(np.median(sizes))} pixels); region_features(n_jobs={args.n_jobs}), "
          "default settings")
    results = []
    for n_cells in args.cells:
        done = subprocess.run([sys.executable, __file__, "--child", str(n_cells),
                               "--n-jobs", str(args.n_jobs)], capture_output=True, text=True,
                              check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(result)
        print(f"{result['cells']:>9,} cells, {result['pixels'] / 1e6:7.1f} Mpx: "
              f"{result['seconds']:7.1f} s wall, {result['cpu']:7.1f} s CPU, "
              f"{1e6 * result['seconds'] / result['cells']:.1f} us per cell; peak "
              f"{result['peak_bytes'] / 2**30:.2f} GiB (slide and labels "
              f"{result['slide_bytes'] / 2**30:.2f} GiB); {result['nan_rows']} cells "
              "without pairs", flush=True)
    if len(results) >= 2:
        cells = np.array([r["cells"] for r in results], float)
        for key, unit, scale in (("seconds", "s", 1), ("peak_bytes", "GiB", 2**30)):
            slope, intercept = np.polyfit(cells, np.array([r[key] for r in results]) / scale, 1)
            print(f"fitted {key}: {intercept:.2f} {unit} + {1e6 * slope:.3f} {unit} per million "
                  f"cells; 10 million cells: {intercept + 1e7 * slope:.1f} {unit}")


if __name__ == "__main__":
    main()
