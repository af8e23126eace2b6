"""Featurization on a local Dask cluster through joblib, against threads, per image and per core.

Usage::

    pip install ".[distributed]"
    python benchmarks/bench_dask.py [--photos 24] [--workers 2] [--backend auto] [--repeat 3]

Two image sets, timed apart: the 90 shipped samples (small: the per-task
overhead shows) and ``--photos`` 5 MP photographs made from scikit-learn's and
scikit-image's photos as in ``bench_cache.py``. Printed for each:
wall-clock ms per image and per-core ms per image (wall x cores / images)
for ``n_jobs=1``, ``n_jobs=<workers>`` with threads, and
``joblib.parallel_config(backend="dask")`` on a ``LocalCluster`` of
``--workers`` processes of one thread each, started with Dask's default
environment and with ``MALLOC_TRIM_THRESHOLD_`` unset; the clusters' start-up time; and
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
from bench_cache import make_photos  # noqa: E402


def best_time(repeat, function):
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backend", default="auto", choices=["auto", "numba", "mahotas"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import dask
    import joblib
    from distributed import Client, LocalCluster

    import haralick_learn
    from haralick_learn import HaralickFeaturizer
    from haralick_learn._settings import TextureSettings
    from haralick_learn.datasets import load_sample_images

    # Dask's nanny starts workers with one BLAS thread; do the same here so that
    # threads and processes do the same work (threadpoolctl limits the libraries
    # already loaded, hence after the imports).
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")

    work = tempfile.mkdtemp(prefix="bench_dask_")
    try:
        sets = {
            "90 samples (~170 px)": load_sample_images().paths,
            f"{args.photos} photos (5 MP)": make_photos(work, args.photos),
        }
        resolved = TextureSettings.from_params(backend=args.backend).backend
        print(f"haralick_learn {haralick_learn.__version__}, backend={args.backend} "
              f"({resolved}); Python {platform.python_version()}, {platform.machine()}, "
              f"{os.cpu_count()} CPUs; {args.workers} workers/threads; best of {args.repeat}")
        featurizer = HaralickFeaturizer(backend=args.backend)
        featurizer.fit_transform(sets[next(iter(sets))][:2])  # imports, compilation

        ways = ["n_jobs=1", f"n_jobs={args.workers}, threads",
                f"dask, {args.workers} workers, Dask's default",
                f"dask, {args.workers} workers, no malloc trim"]
        cores = dict(zip(ways, (1, args.workers, args.workers, args.workers)))
        results = {}  # (set, way) -> seconds
        outputs = {}
        for name, paths in sets.items():
            for way, n_jobs in zip(ways[:2], (1, args.workers)):
                featurizer.set_params(n_jobs=n_jobs)
                results[name, way], outputs[name, way] = best_time(
                    args.repeat, lambda: featurizer.fit_transform(paths))
        featurizer.set_params(n_jobs=None)

        # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which
        # turns off glibc's adaptive mmap threshold: every decoded image is then
        # a fresh mmap, page-faulted in and unmapped again. Compare with it unset.
        # The nanny also writes its variables into this process's environment
        # (which later clusters inherit), hence the restore after each cluster.
        startup = []
        for way, trim in zip(ways[2:], ("default", None)):
            config = {} if trim == "default" else {
                "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
            environ = dict(os.environ)
            start = time.perf_counter()
            with dask.config.set(config), \
                    LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                 dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
                    Client(cluster) as client, joblib.parallel_config(backend="dask"):
                startup.append(time.perf_counter() - start)
                featurizer.fit_transform(sets[next(iter(sets))][:4])  # workers import it
                assert len(client.ncores()) == args.workers
                for name, paths in sets.items():
                    results[name, way], outputs[name, way] = best_time(
                        args.repeat, lambda: featurizer.fit_transform(paths))
            os.environ.clear()
            os.environ.update(environ)
        for name in sets:
            np.testing.assert_array_equal(outputs[name, ways[1]], outputs[name, ways[0]])
            for way in ways[2:]:
                np.testing.assert_allclose(outputs[name, way], outputs[name, ways[0]],
                                           rtol=1e-10)

        for name, paths in sets.items():
            n = len(paths)
            base = results[name, ways[0]]
            print(f"\n{name:38s} {'wall s':>7s} {'ms/image':>9s} {'core-ms/image':>14s} "
                  f"{'speed-up':>9s}")
            for way in ways:
                seconds = results[name, way]
                print(f"  {way:36s} {seconds:7.2f} {1000 * seconds / n:9.1f} "
                      f"{1000 * seconds * cores[way] / n:14.1f} {base / seconds:8.2f}x")
        print(f"\ncluster start-up: {min(startup):.1f} to {max(startup):.1f} s "
              "(not in the figures above)")
        path = sets[f"{args.photos} photos (5 MP)"][-1]
        with Image.open(path) as im:
            pixels = np.asarray(im).nbytes
        print(f"one task ships its path, {len(pickle.dumps(path))} bytes pickled, "
              f"not its {pixels / 1e6:.1f} MB of decoded pixels "
              f"({os.path.getsize(path) / 1e6:.1f} MB JPEG read by the worker)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
