"""DistanceNeighbors.kneighbors on a local Dask cluster against one process.

    python benchmarks/_patches.py --n-jobs 2      # once: featurize and cache the patches
    python benchmarks/bench_search_scale.py        # 200,000 rows, k = 5, 2 workers
    python benchmarks/bench_search_scale.py -n 50000 --workers 2

Rows: the 52 Haralick features of real 32 x 32 photograph patches (see
``_patches.py``), standardised. ``fit(rows).kneighbors()`` (every row's k
nearest others, exact) is timed

* in one process, outside any joblib context: the thread search on every
  core (the default);
* inside ``joblib.parallel_config(backend="dask")`` on a
  ``distributed.LocalCluster`` of ``--workers`` processes of one thread each
  (the cluster's start is timed apart; a warm-up search runs first on it).

The two alternate, ``--rounds`` times (best time of each), so that both see
the same load on a shared machine. Both answers must be identical (indices and distances, bit for bit). The
cluster's overhead is its time minus the single process's: on one machine
the workers share the same cores, so a cluster cannot be faster here; the
figure says what spreading the blocks costs (sending the fitted rows to
each worker, scheduling the blocks, returning the results).
"""

import argparse
import logging
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
# The workers import this checkout's haralick_learn too.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200_000)
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    import distributed
    import joblib
    from _machine import describe_machine
    from _patches import patch_features
    from sklearn.preprocessing import StandardScaler

    from haralick_learn import DistanceNeighbors

    print(describe_machine(), flush=True)
    rows = StandardScaler().fit_transform(patch_features(args.n))
    print(f"{rows.shape[0]} rows x {rows.shape[1]} features (real patches), k = {args.k}",
          flush=True)
    search = DistanceNeighbors(n_neighbors=args.k).fit(rows)
    search.kneighbors(rows[:100])  # warm-up: the compiled kernels are loaded

    start = time.perf_counter()
    with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                  processes=True, dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as client:
        started = time.perf_counter() - start
        with joblib.parallel_config(backend="dask"):
            search.kneighbors(rows[:100])  # warm-up on the workers
        local_times, cluster_times = [], []
        for round_ in range(args.rounds):  # interleaved: both see the same machine load
            start = time.perf_counter()
            local = search.kneighbors()
            local_times.append(time.perf_counter() - start)
            with joblib.parallel_config(backend="dask"):
                start = time.perf_counter()
                remote = search.kneighbors()
                cluster_times.append(time.perf_counter() - start)
            print(f"round {round_ + 1}: one process {local_times[-1]:.1f} s, "
                  f"cluster {cluster_times[-1]:.1f} s", flush=True)
        client.close()
    local_time, cluster_time = min(local_times), min(cluster_times)
    print(f"one process (threads, every core): {local_time:.1f} s (best of {args.rounds})")
    print(f"Dask LocalCluster, {args.workers} workers x 1 thread: {cluster_time:.1f} s "
          f"(best of {args.rounds}; cluster start {started:.1f} s, not included)", flush=True)
    np.testing.assert_array_equal(remote[1], local[1])
    np.testing.assert_array_equal(remote[0], local[0])
    print("results identical (indices and distances, bit for bit)")
    print(f"overhead: {cluster_time - local_time:+.1f} s "
          f"({cluster_time / local_time:.2f} x the single process)")


if __name__ == "__main__":
    main()
