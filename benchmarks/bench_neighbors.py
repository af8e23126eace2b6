"""DistanceNeighbors against scikit-learn's brute-force NearestNeighbors, side by side.

    python benchmarks/bench_neighbors.py                 # 50,000 x 52, k = 5
    python benchmarks/bench_neighbors.py --data images   # realistic rows (see below)
    python benchmarks/bench_neighbors.py -n 20000 --repeat 1

Each measurement runs in its own Python process, which loads the data, warms
up (the compiled kernels are loaded, a small search is run), records its
resident memory as a baseline, then times ``fit(X).kneighbors()`` and reads
its peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at
the end: the whole process's high-water mark, interpreter, libraries and data
included). Processes of the two estimators alternate, ``--repeat`` times;
the table shows the best time of each configuration and the largest peak.

Configurations:

* scikit-learn ``NearestNeighbors(algorithm="brute", n_neighbors=5)`` at its
  default ``n_jobs=None`` and with ``n_jobs=-1``: its euclidean search runs on
  every core through OpenMP whatever ``n_jobs``;
* ``DistanceNeighbors(n_neighbors=5)`` at its default ``n_jobs=None`` (every
  core, threads) and with ``n_jobs=-1`` (the same), each compared with
  scikit-learn at the same ``n_jobs``;
* for information, one thread each: ``DistanceNeighbors(n_jobs=1)`` against
  scikit-learn run with ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1``: a
  like-for-like comparison per core, less disturbed by other work on the
  machine than the all-core one.

The check: the neighbour indices of every configuration must be identical to
scikit-learn's, and the returned distances of a random sample of rows must be
bit for bit those of ``scipy.spatial.distance.cdist`` (ranked by distance,
then index). ``--data images`` builds the rows from the shipped sample images:
their 52 Haralick features, standardised, each image repeated with Gaussian
noise (sd 0.05) to reach ``n`` rows: clustered data, many close neighbours.

The bounds checked (exit status 1 when one is missed): time ratio <= 1.5, peak memory
<= 1.5 GiB.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)  # this checkout's haralick_learn, in this process and (PYTHONPATH) workers
MAX_RATIO = 1.5
MAX_PEAK_GIB = 1.5


def make_data(kind, n, d, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.normal(size=(n, d))
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from haralick_learn import HaralickFeaturizer
    from haralick_learn.datasets import load_sample_images

    features = make_pipeline(HaralickFeaturizer(), StandardScaler()).fit_transform(
        load_sample_images().paths
    )
    if features.shape[1] != d:
        raise SystemExit(f"--data images gives {features.shape[1]} features, not {d}")
    rows = features[rng.integers(0, len(features), size=n)]
    return rows + rng.normal(scale=0.05, size=rows.shape)


def _rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def worker(args):
    """One measurement, in a fresh process: prints a JSON line."""
    X = np.load(args.data_file)
    k = args.k
    if args.estimator == "sklearn":
        from sklearn.neighbors import NearestNeighbors

        n_jobs = None if args.n_jobs in ("None", "1") else int(args.n_jobs)

        def make():
            return NearestNeighbors(n_neighbors=k, algorithm="brute", n_jobs=n_jobs)
    else:
        from haralick_learn import DistanceNeighbors

        n_jobs = None if args.n_jobs == "None" else int(args.n_jobs)

        def make():
            return DistanceNeighbors(n_neighbors=k, n_jobs=n_jobs)

    # Warm-up on a sample too large for the small-n matrix path, so that our
    # compiled kernels are loaded (and compiled on a first run ever).
    import sklearn

    with sklearn.config_context(working_memory=1):
        make().fit(X[:2000]).kneighbors()
    baseline = _rss_mib()
    start = time.perf_counter()
    dist, ind = make().fit(X).kneighbors()
    seconds = time.perf_counter() - start
    peak = _rss_mib()
    np.save(args.result_file, ind)
    sample = np.random.default_rng(1).choice(len(X), size=min(200, len(X)), replace=False)
    np.save(args.result_file.replace(".npy", "_dist.npy"), dist[sample])
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "baseline_mib": baseline}))


def exact_reference(X, rows, k):
    """Neighbours of ``rows`` by cdist and a stable sort: (distance, index)."""
    from scipy.spatial.distance import cdist

    block = cdist(X[rows], X)
    block[np.arange(len(rows)), rows] = np.inf
    ind = np.argsort(block, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(block, ind, axis=1), ind


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=50_000, help="rows (default 50000)")
    parser.add_argument("-d", type=int, default=52, help="features (default 52)")
    parser.add_argument("-k", type=int, default=5, help="neighbours (default 5)")
    parser.add_argument("--data", choices=["random", "images"], default="random")
    parser.add_argument("--repeat", type=int, default=3, help="processes per configuration")
    parser.add_argument("--worker", choices=["sklearn", "ours"], help=argparse.SUPPRESS)
    parser.add_argument("--n-jobs", default="None", help=argparse.SUPPRESS)
    parser.add_argument("--one-thread", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data-file", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.estimator = args.worker
        return worker(args)

    X = make_data(args.data, args.n, args.d)
    configs = [("sklearn", "None"), ("ours", "None"), ("sklearn", "-1"), ("ours", "-1"),
               ("sklearn", "1"), ("ours", "1")]
    labels = {
        ("sklearn", "None"): "NearestNeighbors(algorithm='brute')            all cores (OpenMP)",
        ("sklearn", "-1"): "NearestNeighbors(algorithm='brute', n_jobs=-1) all cores (OpenMP)",
        ("ours", "None"): "DistanceNeighbors()                            all cores (threads)",
        ("ours", "-1"): "DistanceNeighbors(n_jobs=-1)                   all cores (threads)",
        ("sklearn", "1"): "NearestNeighbors(algorithm='brute')            "
                          "1 thread (OMP_NUM_THREADS=1)",
        ("ours", "1"): "DistanceNeighbors(n_jobs=1)                    1 thread",
    }
    checked = {"None", "-1"}  # n_jobs=1 (one thread each) is information only
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    one_thread = dict(env, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    results = {c: [] for c in configs}
    with tempfile.TemporaryDirectory() as tmp:
        data_file = os.path.join(tmp, "X.npy")
        np.save(data_file, X)
        print(f"{args.n} x {args.d} {args.data} float64 rows, k = {args.k}, "
              f"{os.cpu_count()} CPUs, {args.repeat} process(es) per configuration", flush=True)
        import sklearn

        matrix_gib = args.n ** 2 * 8 / 2**30
        if matrix_gib * 1024 <= sklearn.get_config()["working_memory"]:
            print(f"Note: the {matrix_gib:.2f} GiB distance matrix fits in working_memory, so "
                  "DistanceNeighbors takes its small-n path, dists_ = squareform(pdist(X)) (no "
                  "BLAS); the bounds are about larger collections.", flush=True)
        for r in range(args.repeat):
            for estimator, n_jobs in configs:
                result_file = os.path.join(tmp, f"{estimator}_{n_jobs}_{r}.npy")
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", estimator, "--n-jobs", n_jobs,
                     "--data-file", data_file, "--result-file", result_file, "-k", str(args.k)],
                    capture_output=True, text=True, check=False,
                    env=one_thread if (estimator, n_jobs) == ("sklearn", "1") else env,
                )
                if out.returncode:
                    raise SystemExit(f"worker {estimator} n_jobs={n_jobs} failed:\n{out.stderr}")
                measure = json.loads(out.stdout.strip().splitlines()[-1])
                measure["ind"] = np.load(result_file)
                measure["dist"] = np.load(result_file.replace(".npy", "_dist.npy"))
                results[(estimator, n_jobs)].append(measure)
                print(f"  run {r + 1}: {labels[(estimator, n_jobs)]:78s}"
                      f"{measure['seconds']:8.2f} s", flush=True)

    reference = results[("sklearn", "None")][0]["ind"]
    sample = np.random.default_rng(1).choice(len(X), size=min(200, len(X)), replace=False)
    exact_dist, exact_ind = exact_reference(X, sample, args.k)
    best = {c: min(m["seconds"] for m in runs) for c, runs in results.items()}
    print()
    print(f"{'configuration':78s} {'time (s)':>9s} {'ratio':>6s} {'peak RSS':>10s} "
          f"{'over baseline':>14s}  same indices as sklearn")
    verdicts = []
    for config in configs:
        runs = results[config]
        peak = max(m["peak_mib"] for m in runs)
        extra = max(m["peak_mib"] - m["baseline_mib"] for m in runs)
        same = all(np.array_equal(m["ind"], reference) for m in runs)
        ratio = best[config] / best[("sklearn", config[1])]
        ratio_text = f"{ratio:6.2f}" if config[0] == "ours" else f"{'-':>6s}"
        print(f"{labels[config]:78s} {best[config]:9.2f} {ratio_text} {peak / 1024:6.2f} GiB "
              f"{extra:10.0f} MiB  {'yes' if same else 'NO'}")
        if config[0] == "ours":
            exact = all(
                np.array_equal(m["ind"][sample], exact_ind)
                and np.array_equal(m["dist"], exact_dist)
                for m in runs
            )
            verdicts.append((config, ratio, peak / 1024, same, exact))
    print()
    print("ratio: our best time / scikit-learn's best time at the same n_jobs (n_jobs=1: "
          f"scikit-learn on one thread). Times: best of {args.repeat}.")
    print("peak RSS: ru_maxrss of each worker process (RUSAGE_SELF at its end), the whole "
          "process; over baseline: minus its RSS after imports, data and warm-up.")
    ok = True
    for (estimator, n_jobs), ratio, peak_gib, same, exact in verdicts:
        good = ratio <= MAX_RATIO and peak_gib <= MAX_PEAK_GIB and same and exact
        if n_jobs in checked:
            ok &= good
        print(f"DistanceNeighbors n_jobs={n_jobs}: ratio {ratio:.2f} (bound {MAX_RATIO}), "
              f"peak {peak_gib:.2f} GiB (bound {MAX_PEAK_GIB}), indices identical: "
              f"{'yes' if same else 'NO'}, {len(sample)} sampled rows bit-exact vs cdist: "
              f"{'yes' if exact else 'NO'}  -> "
              f"{('OK' if good else 'MISSED') if n_jobs in checked else 'information only'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
