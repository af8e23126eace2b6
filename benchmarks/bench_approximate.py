"""DistanceNeighbors(algorithm="nndescent") against the exact search, on real Haralick rows.

    python benchmarks/_patches.py --n-jobs 2          # once: featurize and cache the patches
    python benchmarks/bench_approximate.py             # 1,000,000 rows, k = 5
    python benchmarks/bench_approximate.py -n 200000 --queries 2000

Rows: the 52 Haralick features of real 32 x 32 photograph patches (see
``_patches.py``), standardised. Steps, in one process:

1. warm-up: fit and query a small index, so that pynndescent's numba
   functions are compiled (its time is printed apart: a first use pays it);
2. ``fit`` of ``algorithm="nndescent"`` on all rows (the graph and its search
   structure): build time, and peak resident memory (``ru_maxrss``) above the
   memory held once the rows are loaded;
3. ``kneighbors_by_index(sample)`` for ``--queries`` fitted rows drawn at
   random (each not its own neighbour): query time per row;
4. the same queries with the exact search (``algorithm="brute"``): time per
   row, and the time of every row extrapolated (per-row time x n: the exact
   search of all rows takes n^2 work, too long to run here);
5. recall@k: the fraction of each query's k exact neighbours the index
   found, averaged over the queries.
"""

import argparse
import os
import resource
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)


def peak_gib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--queries", type=int, default=10_000)
    args = parser.parse_args()

    from _machine import describe_machine
    from _patches import patch_features
    from sklearn.preprocessing import StandardScaler

    from haralick_learn import DistanceNeighbors

    print(describe_machine(), flush=True)
    rows = StandardScaler().fit_transform(patch_features(args.n))
    n = rows.shape[0]
    print(f"{n} rows x {rows.shape[1]} features (real patches), k = {args.k}", flush=True)

    start = time.perf_counter()
    DistanceNeighbors(algorithm="nndescent").fit(rows[:2000]).kneighbors(rows[:10])
    print(f"warm-up (numba compilation, small index): {time.perf_counter() - start:.1f} s",
          flush=True)
    base = peak_gib()

    start = time.perf_counter()
    approximate = DistanceNeighbors(n_neighbors=args.k, algorithm="nndescent").fit(rows)
    build = time.perf_counter() - start
    print(f"nndescent build: {build:.1f} s; peak memory {peak_gib():.2f} GiB "
          f"({peak_gib() - base:.2f} GiB above the loaded rows)", flush=True)

    sample = np.random.default_rng(1).choice(n, size=args.queries, replace=False)
    start = time.perf_counter()
    found = approximate.kneighbors_by_index(sample, return_distance=False)
    query = time.perf_counter() - start
    print(f"nndescent query: {query:.2f} s for {args.queries} rows "
          f"({query / args.queries * 1e3:.3f} ms per row; all {n} rows ~ "
          f"{query / args.queries * n:.0f} s); peak {peak_gib():.2f} GiB", flush=True)
    del approximate

    start = time.perf_counter()
    exact_search = DistanceNeighbors(n_neighbors=args.k).fit(rows)
    exact = exact_search.kneighbors_by_index(sample, return_distance=False)
    exact_time = time.perf_counter() - start
    per_row = exact_time / args.queries
    print(f"exact (brute) search: {exact_time:.1f} s for {args.queries} rows "
          f"({per_row * 1e3:.2f} ms per row; all {n} rows extrapolated: "
          f"{per_row * n:.0f} s = {per_row * n / 60:.1f} min)", flush=True)

    recall = np.mean([len(set(a) & set(b)) / args.k for a, b in zip(found, exact)])
    print(f"recall@{args.k} of nndescent over {args.queries} queries: {recall:.4f} "
          f"(goal >= 0.95)")
    print(f"summary: n={n} build={build:.1f}s query_all~{query / args.queries * n:.0f}s "
          f"exact_all~{per_row * n:.0f}s recall@{args.k}={recall:.4f}")


if __name__ == "__main__":
    main()
