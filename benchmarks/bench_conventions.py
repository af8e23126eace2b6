"""The cost of the feature sets: all three (haralick, skimage, ibsi) against Haralick's alone.

Usage::

    apt-get install mate-backgrounds      # once: the photographs (see bench_featurize.py)
    python benchmarks/bench_conventions.py [--images 6] [--repeat 5]

On 5 MP photographs, one core (``n_jobs=1``, one BLAS thread), the variants run
interleaved in each round (the machine is a shared VM whose speed drifts):
ms/image are the best round, ratios the median over rounds of the ratio within
a round, with their range. Each pair is measured twice: from the JPEG paths
(decoding included, what a user waits for) and from the decoded gray images
(the stages the sets share: quantize, co-occurrence, features).

Pairs:

* default gray levels (256): all three sets; all three without ``ibsi_MCC``
  (its general eigenvalue problem, ~60 ms a 256-level matrix, is the one
  costly formula);
* pyradiomics's ``binCount=32`` (``levels=32, gray_range="image"``), IBSI's
  usual discretisation: all three sets, MCC included.
"""

import argparse
import os
import sys

import numpy as np
from threadpoolctl import threadpool_limits

from _machine import describe_machine
from bench_featurize import interleaved_rounds, prepare_photos


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from haralick_learn import HaralickFeaturizer
    from haralick_learn.io.decode import load_image
    from haralick_learn._settings import FEATURE_SETS

    paths = prepare_photos(args.images)
    grays = [load_image(p, i) for i, p in enumerate(paths)]
    n = len(paths)
    all_sets = ["haralick", "skimage", "ibsi"]
    without_mcc = ["haralick", "skimage"] + [f for f in FEATURE_SETS["ibsi"] if f != "ibsi_MCC"]
    binned = dict(levels=32, gray_range="image")
    featurizers = {
        "haralick (default)": HaralickFeaturizer(n_jobs=1),
        "all three sets": HaralickFeaturizer(n_jobs=1, features=all_sets),
        "all three, no ibsi_MCC": HaralickFeaturizer(n_jobs=1, features=without_mcc),
        "haralick, binCount 32": HaralickFeaturizer(n_jobs=1, **binned),
        "all three, binCount 32": HaralickFeaturizer(n_jobs=1, features=all_sets, **binned),
    }
    for featurizer in featurizers.values():  # compilation / cache load is not timed
        featurizer.fit_transform(paths[:1])

    def run(featurizer, inputs):
        return lambda: featurizer.fit_transform(inputs)

    variants = {}
    for source, inputs in (("paths", paths), ("gray", grays)):
        for name, featurizer in featurizers.items():
            variants[f"{name} [{source}]"] = run(featurizer, inputs)
    with threadpool_limits(limits=1, user_api="blas"):
        times = interleaved_rounds(args.repeat, variants)

    print(f"machine: {describe_machine()}")
    print(f"{n} photographs of 5 MP, {args.repeat} interleaved rounds, one core")
    print()
    print(f"{'variant':<42} {'ms/image (best round)':>22}")
    for name, seconds in times.items():
        print(f"{name:<42} {seconds.min() / n * 1000:>22.1f}")
    print()
    print(f"{'ratio, median [range over rounds]':<58}")
    pairs = [("all three sets", "haralick (default)"),
             ("all three, no ibsi_MCC", "haralick (default)"),
             ("all three, binCount 32", "haralick, binCount 32")]
    for source in ("paths", "gray"):
        for slow, fast in pairs:
            ratio = times[f"{slow} [{source}]"] / times[f"{fast} [{source}]"]
            print(f"{slow} / {fast} [{source}]: {np.median(ratio):.3f}x "
                  f"[{ratio.min():.3f}-{ratio.max():.3f}]")


if __name__ == "__main__":
    main()
