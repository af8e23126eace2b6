"""3-D Haralick features of a 256^3 volume, side by side with mahotas, in one run.

Usage::

    python benchmarks/bench_volume.py [--size 256] [--repeat 3]

The volume is real texture: ``skimage.data.gravel()`` (512 x 512, shipped by
scikit-image), stacked as ``size`` consecutive ``size x size`` crops, each
one row lower than the previous, so that neighbouring slices are as alike as
neighbouring rows. uint8, 256 gray levels, 13 directions.

Printed: seconds per volume of ``mahotas.features.haralick(volume)`` and of
``HaralickFeaturizer(volume=True)`` (distance 1; all 13 x 13 features), and
their ratio. The variants run interleaved (one after the other in each of
``--repeat`` rounds): the seconds are the best round of each, the ratio the
median over rounds of the ratio within the round, with its range. The rows
are checked equal to 1e-10 relative before timing.
"""

import argparse

import numpy as np

from _machine import describe_machine, interleaved_rounds


def real_volume(size):
    import skimage.data

    texture = skimage.data.gravel()
    if size > texture.shape[0] // 2:
        reps = -(-2 * size // texture.shape[0])
        texture = np.tile(texture, (reps, reps))
    return np.ascontiguousarray(
        np.stack([texture[z : z + size, :size] for z in range(size)])
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import mahotas

    from haralick_learn import HaralickFeaturizer

    volume = real_volume(args.size)
    print(describe_machine())
    print(f"volume: {volume.shape} {volume.dtype}, {int(volume.max()) + 1} gray levels "
          "(skimage.data.gravel crops)")
    featurizer = HaralickFeaturizer(volume=True)
    ours = featurizer.fit_transform([volume])[0]  # compiles (or loads) the kernels
    reference = mahotas.features.haralick(volume).ravel()
    np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=0)

    variants = {
        "mahotas.features.haralick": lambda: mahotas.features.haralick(volume),
        "HaralickFeaturizer(volume=True)": lambda: featurizer.fit_transform([volume]),
    }
    times = interleaved_rounds(args.repeat, variants)
    for name, values in times.items():
        print(f"{name:34s} best {values.min():7.3f} s  (rounds: "
              + ", ".join(f"{v:.3f}" for v in values) + ")")
    ratios = times["mahotas.features.haralick"] / times["HaralickFeaturizer(volume=True)"]
    print(f"speed-up vs mahotas: median {np.median(ratios):.1f}x "
          f"(range {ratios.min():.1f}x - {ratios.max():.1f}x over {args.repeat} rounds)")


if __name__ == "__main__":
    main()
