"""One query against a saved index of 1,000,000 real feature rows: load time and query time.

    python benchmarks/bench_index_query.py            # exact (brute) search
    python benchmarks/bench_index_query.py --algorithm nndescent

What ``haralick-learn similar --index`` does past featurizing its query: read
the index file (arrays and JSON, no pickle), rebuild the scaler and fit the
search on the scaled rows (for nndescent: build the graph), then search one
row. Not measured: the check of each image's file (one ``stat`` per image),
as the rows here are patches, not files. Rows: as ``bench_approximate.py``
(real 32 x 32 photograph patches). The query is a fitted row with a little
noise, searched 5 times (best time).
"""

import argparse
import os
import sys
import tempfile
import time

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

    from haralick_learn import DistanceNeighbors, __version__
    from haralick_learn.neighbors.saved_index import GRAPH_RANDOM_STATE, fitted_scaler, read_index, \
        write_index

    print(describe_machine(), flush=True)
    features = patch_features(args.n)
    scaler = StandardScaler().fit(features)
    params = ({"random_state": GRAPH_RANDOM_STATE, "n_jobs": 1}
              if args.algorithm == "nndescent" else None)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "patches.index")
        write_index(path, folder=folder, paths=[f"patch{i}" for i in range(args.n)],
                    identities=[(0, 0, bytes(32))] * args.n, features=features,
                    feature_names=[f"feature{j}" for j in range(features.shape[1])],
                    feature_params={}, scaler=scaler, algorithm=args.algorithm,
                    algorithm_params=params, version=__version__)
        size = os.path.getsize(path)
        start = time.perf_counter()
        index = read_index(path)
        rows = fitted_scaler(index).transform(index["features"])
        loaded = DistanceNeighbors(algorithm=args.algorithm, algorithm_params=params).fit(rows)
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
