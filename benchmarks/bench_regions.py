"""Region tables: ~1000 SLIC regions of a real 2000 x 2000 photograph, in one run.

Usage::

    apt-get install mate-backgrounds      # once: the real photograph used here
    python benchmarks/bench_regions.py [--repeat 3] [--segments 1000]

The photograph is a "nature" wallpaper of Debian's mate-backgrounds package
(GPL-2+, see /usr/share/doc/mate-backgrounds/copyright), resized to 2000 x
2000 and made gray by the reference conversion; the regions are
``skimage.segmentation.slic`` superpixels of it (made once, not timed).

Printed: seconds of ``HaralickFeaturizer().transform([gray])`` (the whole
image once, 4 directions) and of ``region_features(gray, labels)`` (one row
per region, the same settings), and their ratio. The two run interleaved in
each of ``--repeat`` rounds: seconds are the best round of each, the ratio
the median over rounds of the ratio within the round, with its range.
"""

import argparse
import glob

import numpy as np
from PIL import Image

from _machine import describe_machine, interleaved_rounds

SOURCES = "/usr/share/backgrounds/mate/nature/*.jpg"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--segments", type=int, default=1000)
    parser.add_argument("--size", type=int, default=2000)
    args = parser.parse_args()

    import mahotas
    from skimage.segmentation import slic

    from haralick_learn import HaralickFeaturizer, region_features

    sources = sorted(glob.glob(SOURCES))
    if not sources:
        raise SystemExit(f"no photograph in {SOURCES}: apt-get install mate-backgrounds")
    source = next((p for p in sources if p.endswith("Garden.jpg")), sources[0])
    with Image.open(source) as im:
        rgb = np.asarray(im.convert("RGB").resize((args.size, args.size), Image.LANCZOS))
    gray = mahotas.colors.rgb2gray(rgb, dtype=np.uint8)
    labels = slic(rgb, n_segments=args.segments, compactness=10, start_label=1)
    sizes = np.bincount(labels.ravel())[1:]
    print(describe_machine())
    print(f"image: {source} resized to {gray.shape}; {labels.max()} SLIC regions "
          f"(median {int(np.median(sizes))} pixels, {sizes.min()}-{sizes.max()})")

    featurizer = HaralickFeaturizer()
    featurizer.fit_transform([gray[:64, :64]])  # compile or load the kernels
    region_features(gray[:64, :64], labels[:64, :64])
    variants = {
        "whole image once": lambda: featurizer.fit_transform([gray]),
        "region_features": lambda: region_features(gray, labels),
    }
    times = interleaved_rounds(args.repeat, variants)
    for name, values in times.items():
        print(f"{name:18s} best {values.min():7.3f} s  (rounds: "
              + ", ".join(f"{v:.3f}" for v in values) + ")")
    ratios = times["region_features"] / times["whole image once"]
    print(f"region table / whole image: median {np.median(ratios):.1f}x "
          f"(range {ratios.min():.1f}x - {ratios.max():.1f}x over {args.repeat} rounds); "
          f"{1e3 * times['region_features'].min() / labels.max():.2f} ms per region")


if __name__ == "__main__":
    main()
