"""Texture maps of each feature set, and of one checkout against another, in one run (one core).

Usage::

    apt-get install mate-backgrounds      # once: the real photograph used here
    python benchmarks/bench_maps_sets.py [--size 1000] [--rounds 3] [--before DIR]

The image: mate-backgrounds' GreenMeadow.jpg centre-cropped and resized to
``size x size`` (1 MP by default), 8-bit gray (256 levels), as
``bench_maps.py`` makes it. Each round maps it, window 15, ``n_jobs=1``, in a
fresh process per variant (so each pays the same import and loads the same
compiled kernels): Haralick's 13 features, scikit-image's 10, IBSI's 24
without MCC (which needs each window's whole matrix: at most 64 levels), all
4 directions, and Haralick's with ``symmetric=False`` (ordered pairs, their own
kernel); with ``--before DIR`` (another checkout, e.g. a ``git
worktree`` of another commit) also that checkout's Haralick map. The
variants alternate within each round, so that all see the same drift of a
shared machine. Printed: the CPU seconds of each (best round) and the
median (with range) over rounds of each one's ratio to this checkout's
Haralick map.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

from _machine import describe_machine

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CODE = r"""
import json, sys, time
import numpy as np
from PIL import Image
from threadpoolctl import threadpool_limits
from haralick_learn import HaralickFeaturizer, texture_maps
size, options = int(sys.argv[1]), json.loads(sys.argv[2])
im = Image.open("/usr/share/backgrounds/mate/nature/GreenMeadow.jpg").convert("RGB")
w, h = im.size; s = min(w, h)
im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
gray = np.asarray(im.resize((size, size), Image.LANCZOS).convert("L"))
texture_maps(gray[:40, :40], 15, **options)  # load the compiled kernels
with threadpool_limits(1):
    start = time.process_time()
    texture_maps(gray, 15, n_jobs=1, **options)
    print(json.dumps(time.process_time() - start))
"""


def ibsi_without_mcc():
    sys.path.insert(0, ROOT)
    from haralick_learn import HaralickFeaturizer

    names = HaralickFeaturizer(features="ibsi", aggregate="mean").get_feature_names_out()
    return [str(n)[:-len("_mean_d1")] for n in names if not str(n).startswith("ibsi_MCC")]


def run(checkout, size, options):
    env = dict(os.environ, PYTHONPATH=checkout)
    out = subprocess.run([sys.executable, "-c", CODE, str(size), json.dumps(options)],
                         env=env, capture_output=True, text=True, check=True, cwd=HERE)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", help="another checkout: its Haralick map, side by side")
    args = parser.parse_args()
    print(describe_machine())
    variants = {"haralick": (ROOT, {}), "skimage": (ROOT, {"features": "skimage"}),
                "ibsi (no MCC)": (ROOT, {"features": ibsi_without_mcc()}),
                "haralick, symmetric=False": (ROOT, {"symmetric": False})}
    if args.before:
        variants["haralick, --before"] = (os.path.abspath(args.before), {})
    times = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, (checkout, options) in variants.items():
            times[name].append(run(checkout, args.size, options))
    print(f"{args.size} x {args.size} gray photograph, window 15, one core, "
          f"{args.rounds} rounds (CPU seconds: best round; ratio to haralick: median [range])")
    for name in variants:
        ratios = [t / h for t, h in zip(times[name], times["haralick"])]
        print(f"  {name:20s} {min(times[name]):7.2f} s   x{statistics.median(ratios):.2f} "
              f"[{min(ratios):.2f}-{max(ratios):.2f}]")


if __name__ == "__main__":
    main()
