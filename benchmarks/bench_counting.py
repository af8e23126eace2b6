"""Pair counting alone on 5 MP photographs, side by side with the reference, in one run.

Usage::

    apt-get install mate-backgrounds      # once: the photographs of bench_featurize.py
    python benchmarks/bench_counting.py [--images 12] [--repeat 9] [--distances 1 2 4]

The co-occurrence stage only (``cooccurrence``: the four directions, symmetric,
int64 matrices), on the gray images of the photographs that
``bench_featurize.py`` prepares (2592 x 1944 JPEGs under ``benchmarks/_data/``),
decoded once before timing. The reference is mahotas's
``features.texture.cooccurence``, once per direction and distance, on the same
gray images; both are checked equal before timing. One core: the variants run
interleaved, one after the other in each of ``--repeat`` rounds; printed are
the ms/image of the best and median round, and the median over rounds of the
ratio within the round (with its range).
"""

import argparse

import numpy as np

from _machine import describe_machine, interleaved_rounds
from bench_featurize import SIZE, prepare_photos


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--distances", type=int, nargs="+", default=[1])
    args = parser.parse_args()

    import mahotas
    import mahotas.features.texture as mahotas_texture

    from haralick_learn.texture.counting import cooccurrence

    paths = prepare_photos(args.images)
    grays = [mahotas.colors.rgb2gray(mahotas.imread(p), dtype=np.uint8) for p in paths]
    distances = tuple(args.distances)

    def ours():
        return [cooccurrence(gray, distances) for gray in grays]

    def reference():
        matrices = []
        for gray in grays:
            n_levels = int(gray.max()) + 1
            for distance in distances:
                for direction in range(4):
                    # mahotas computes gray.max() + 1 in uint8 (0 at 255): pass the output
                    cmat = np.zeros((n_levels, n_levels), np.int32)
                    mahotas_texture.cooccurence(gray, direction, cmat, symmetric=True,
                                                distance=distance)
                    matrices.append(cmat)
        return matrices

    expected = iter(reference())
    for cmats in ours():
        for matrix in cmats.reshape(-1, *cmats.shape[2:]):
            if not np.array_equal(matrix, next(expected)):
                raise SystemExit("cooccurrence differs from mahotas: not timing")

    ours_name = f"cooccurrence, distances={list(distances)}"
    reference_name = "mahotas cooccurence x 4 directions"
    rounds = interleaved_rounds(args.repeat, {ours_name: ours, reference_name: reference})
    n = len(grays)
    print(f"{n} photographs of {SIZE[0]}x{SIZE[1]} ({SIZE[0] * SIZE[1] / 1e6:.1f} MP), gray "
          f"uint8, {args.repeat} interleaved rounds, one core")
    print(describe_machine())
    print()
    print(f"{'':45s} {'ms/image best':>14s} {'median':>8s}")
    for name, seconds in rounds.items():
        print(f"{name:45s} {1000 * seconds.min() / n:14.2f} {1000 * np.median(seconds) / n:8.2f}")
    per_round = rounds[reference_name] / rounds[ours_name]
    print()
    print(f"reference / cooccurrence: median {np.median(per_round):.2f}x "
          f"[{per_round.min():.2f}-{per_round.max():.2f}]")


if __name__ == "__main__":
    main()
