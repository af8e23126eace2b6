"""One query against a saved index of 1,000,000 real feature rows: load time and query time.

    python benchmarks/bench_index_query.py            # exact (brute) search
    python benchmarks/bench_index_query.py --algorithm nndescent

What ``haralick-learn similar --index`` does past featurizing its query: load
the saved search (joblib) and search one row. Rows: as ``bench_approximate.py``
(real 32 x 32 photograph patches, standardised). The query is a fitted row
with a little noise, searched 5 times (best time).
"""

import argparse
import os
import sys
import tempfile
import time

import joblib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--algorithm", default="brute")
    args = parser.parse_args()
    from _machine import describe_machine
    from _patches import patch_features
    from sklearn.preprocessing import StandardScaler

    from haralick_learn import DistanceNeighbors

    print(describe_machine(), flush=True)
    rows = StandardScaler().fit_transform(patch_features(args.n))
    search = DistanceNeighbors(algorithm=args.algorithm).fit(rows)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "search.joblib")
        joblib.dump(search, path)
        size = os.path.getsize(path)
        start = time.perf_counter()
        loaded = joblib.load(path)
        load = time.perf_counter() - start
    query = rows[:1] + 0.01
    times = []
    for _ in range(5):
        start = time.perf_counter()
        loaded.kneighbors(query)
        times.append(time.perf_counter() - start)
    print(f"{args.n} rows, {args.algorithm}: index file {size / 2**20:.0f} MiB, load {load:.2f} s, "
          f"one query {min(times) * 1e3:.1f} ms (best of 5; first {times[0] * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()
