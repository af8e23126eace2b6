"""Featurization on a local Dask cluster through joblib, against threads, per image and per core.

Usage::

    pip install ".[distributed]"
    python benchmarks/bench_dask.py [--photos 12] [--workers 2] [--backend auto] [--repeat 3]

Same images as ``bench_cache.py`` (the 90 shipped samples and ``--photos``
~3 MP photographs made from scikit-learn's and scikit-image's photos).
Printed: wall-clock ms per image and per-core ms per image (wall x cores / images)
for ``n_jobs=1``, ``n_jobs=<workers>`` with threads, and
``joblib.parallel_config(backend="dask")`` on a ``LocalCluster`` of
``--workers`` processes of one thread each; the cluster's start-up time; and
how many bytes each task ships (a path) against the decoded pixels it stands for.
"""

import argparse
import logging
import os
import pickle
import platform
import shutil
import sys
import tempfile
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_cache import SIZE, make_photos  # noqa: E402


def best_time(repeat, function):
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backend", default="auto", choices=["auto", "numba", "mahotas"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import joblib
    from distributed import Client, LocalCluster

    import haralick_learn
    from haralick_learn import HaralickFeaturizer
    from haralick_learn.datasets import load_sample_images

    work = tempfile.mkdtemp(prefix="bench_dask_")
    try:
        paths = load_sample_images().paths + make_photos(work, args.photos)
        n = len(paths)
        resolved = HaralickFeaturizer(backend=args.backend)._resolve_backend()
        print(f"haralick_learn {haralick_learn.__version__}, backend={args.backend} "
              f"({resolved}); Python {platform.python_version()}, {platform.machine()}, "
              f"{os.cpu_count()} CPUs")
        print(f"{n} images (90 samples + {args.photos} photos of {SIZE[0]}x{SIZE[1]})")
        featurizer = HaralickFeaturizer(backend=args.backend)
        featurizer.fit_transform(paths[:2])  # imports, compilation

        results = {}
        seconds, X = best_time(args.repeat, lambda: featurizer.fit_transform(paths))
        results["n_jobs=1"] = (seconds, 1)
        threads = featurizer.set_params(n_jobs=args.workers)
        seconds, X_threads = best_time(args.repeat, lambda: threads.fit_transform(paths))
        results[f"n_jobs={args.workers}, threads"] = (seconds, args.workers)
        featurizer.set_params(n_jobs=None)

        start = time.perf_counter()
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
                Client(cluster) as client, joblib.parallel_config(backend="dask"):
            startup = time.perf_counter() - start
            featurizer.fit_transform(paths[:2 * args.workers])  # workers import the package
            seconds, X_dask = best_time(args.repeat, lambda: featurizer.fit_transform(paths))
            assert len(client.ncores()) == args.workers
        results[f"dask, {args.workers} worker processes"] = (seconds, args.workers)
        np.testing.assert_allclose(X_dask, X, rtol=1e-10)
        np.testing.assert_array_equal(X_threads, X)

        print(f"\nbest of {args.repeat}:{'':27s} {'wall s':>7s} {'ms/image':>9s} "
              f"{'core-ms/image':>14s} {'speed-up':>9s}")
        base = results["n_jobs=1"][0]
        for name, (seconds, cores) in results.items():
            print(f"{name:38s} {seconds:7.2f} {1000 * seconds / n:9.1f} "
                  f"{1000 * seconds * cores / n:14.1f} {base / seconds:8.2f}x")
        print(f"\ncluster start-up: {startup:.1f} s (not in the figures above)")
        path = paths[-1]
        with Image.open(path) as im:
            pixels = np.asarray(im).nbytes
        print(f"one task ships its path, {len(pickle.dumps(path))} bytes pickled, "
              f"not its {pixels / 1e6:.1f} MB of decoded pixels "
              f"({os.path.getsize(path) / 1e6:.1f} MB JPEG read by the worker)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
