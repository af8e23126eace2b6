"""Texture maps of a raster larger than memory: Dask tiles in, a Zarr store out.

Usage::

    apt-get install mate-backgrounds      # once: the real photograph tiled here
    python benchmarks/bench_maps_large.py [--side 10000] [--tile 2048] [--n-jobs 2]

The raster: one mate-backgrounds "nature" photograph, resized to 2000 x 2000
8-bit gray, tiled (mirrored, so that no seam is a step) to ``side x side``
(100 MP by default) and written to a Zarr store under ``benchmarks/_data``
(ignored by git). It is then opened lazily (``dask.array.from_zarr``, chunks
``tile x tile``) and ``texture_maps(raster, 15, aggregate="mean")`` is
written to another Zarr store, tile by tile, with Dask's threads
(``--n-jobs``). Printed: the CPU model, wall and CPU time, the peak resident
memory of the process (``ru_maxrss``) against the size of the maps, and a
spot check: one block of the output against ``texture_maps`` in memory on
that block's pixels and their surroundings.
"""

import argparse
import os
import resource
import shutil
import sys
import time

import numpy as np
from PIL import Image

from _machine import describe_machine

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from haralick_learn import texture_maps  # noqa: E402
from haralick_learn.io.decode import load_image  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "_data")
PHOTO = "/usr/share/backgrounds/mate/nature/GreenMeadow.jpg"


def peak_rss_gib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def make_raster(side, tile):
    import dask.array as da

    path = os.path.join(DATA, f"raster_{side}.zarr")
    if not os.path.exists(path):
        with Image.open(PHOTO) as im:
            base = load_image(np.asarray(im.convert("RGB").resize((2000, 2000), Image.LANCZOS)))
        block = np.block([[base, base[:, ::-1]], [base[::-1], base[::-1, ::-1]]])  # 4000^2
        reps = -(-side // block.shape[0])
        tiled = da.tile(da.from_array(block, chunks=tile), (reps, reps))[:side, :side]
        tiled.rechunk(tile).to_zarr(path)
    return path


def main():
    import dask
    import dask.array as da

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", type=int, default=10000)
    parser.add_argument("--tile", type=int, default=2048)
    parser.add_argument("--window", type=int, default=15)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    print(describe_machine())
    os.makedirs(DATA, exist_ok=True)
    source = make_raster(args.side, args.tile)
    raster = da.from_zarr(source)
    print(f"raster: {PHOTO} tiled to {raster.shape[1]} x {raster.shape[0]} = "
          f"{raster.size / 1e6:.0f} MP uint8, tiles {args.tile} x {args.tile}; window "
          f"{args.window}, aggregate='mean' (13 features), float64")
    texture_maps(np.asarray(raster[:64, :64]), args.window)  # compile
    out = os.path.join(DATA, f"maps_{args.side}.zarr")
    shutil.rmtree(out, ignore_errors=True)
    rss_before = peak_rss_gib()
    lazy = texture_maps(raster, args.window, aggregate="mean")
    start, start_cpu = time.perf_counter(), time.process_time()
    with dask.config.set(scheduler="threads", num_workers=args.n_jobs):
        lazy.to_zarr(out)
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    size_gib = lazy.size * 8 / 2**30
    r = args.window // 2
    tile_gib = (args.tile + 2 * r) ** 2 * (1 + 8 * lazy.shape[2]) / 2**30
    print(f"wall {wall:.1f} s, CPU {cpu:.1f} s ({args.n_jobs} threads), "
          f"{wall / raster.size * 1e9:.1f} ns/pixel")
    print(f"peak resident memory {peak_rss_gib():.2f} GiB (before the run {rss_before:.2f} "
          f"GiB); the maps are {size_gib:.1f} GiB; bound per tile in flight {tile_gib:.2f} GiB")
    y0, x0 = args.tile - 100, 3 * args.tile - 150  # a block across tile borders
    h = w = 400
    pixels = np.asarray(raster[y0 - r : y0 + h + r, x0 - r : x0 + w + r])
    expected = texture_maps(pixels, args.window, aggregate="mean")[r:-r, r:-r]
    written = da.from_zarr(out)[y0 : y0 + h, x0 : x0 + w].compute()
    print(f"spot check ({h} x {w} block across tile borders at ({y0}, {x0})): identical to "
          f"in-memory: {bool(np.array_equal(written, expected))}")


if __name__ == "__main__":
    main()
