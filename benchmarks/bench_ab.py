"""Two checkouts of haralick_learn side by side: is a change faster or slower?

Usage::

    git worktree add /tmp/before <commit>
    python benchmarks/bench_ab.py /tmp/before . [--rounds 5]

Each round featurizes the 5 MP photographs of ``bench_featurize.py`` (run that
script once first: it prepares them) with ``n_jobs=1`` and ``n_jobs=2`` in a
fresh process per checkout, alternating the checkouts, so that both see the
same drift of a shared machine. Printed: the best ms/image of each and the
median (and range) over rounds of the within-round ratio B / A.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

from _machine import describe_machine

HERE = os.path.dirname(os.path.abspath(__file__))
PHOTOS = os.path.join(HERE, "_data", "photos_5mp")

CODE = r"""
import glob, json, sys, time
from haralick_learn import HaralickFeaturizer
paths = sorted(glob.glob(sys.argv[1] + "/*.jpg"))
HaralickFeaturizer().fit_transform(paths[:1])  # compile / load the kernels
out = {}
for n_jobs in (1, 2):
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        HaralickFeaturizer(n_jobs=n_jobs).fit_transform(paths)
        best = min(best, time.perf_counter() - start)
    out[n_jobs] = 1000 * best / len(paths)
print(json.dumps(out))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", help="checkout A (e.g. before the change)")
    parser.add_argument("b", help="checkout B (e.g. after)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not os.path.isdir(PHOTOS):
        sys.exit("run benchmarks/bench_featurize.py once first: it prepares the photographs")
    times = {"a": [], "b": []}
    for _ in range(args.rounds):
        for name in ("a", "b"):
            root = os.path.abspath(getattr(args, name))
            done = subprocess.run(
                [sys.executable, "-c", CODE, PHOTOS], cwd=root, capture_output=True, text=True,
                env={**os.environ, "PYTHONPATH": root}, check=True,
            )
            times[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(describe_machine())
    for n_jobs in ("1", "2"):
        a = [t[n_jobs] for t in times["a"]]
        b = [t[n_jobs] for t in times["b"]]
        ratios = [y / x for x, y in zip(a, b)]
        print(f"n_jobs={n_jobs}: A {min(a):.1f} ms/image, B {min(b):.1f} ms/image, B / A "
              f"{statistics.median(ratios):.3f} [{min(ratios):.3f}-{max(ratios):.3f}]")


if __name__ == "__main__":
    main()
