"""Texture maps speed, side by side with the per-window loops, in one run (one core).

Usage::

    apt-get install mate-backgrounds      # once: the real photograph used here
    python benchmarks/bench_maps.py [--photo GreenMeadow.jpg] [--size 1000] [--repeat 3]

The image: one "nature" wallpaper of Debian's mate-backgrounds package
(GPL-2+, not redistributed), centre-cropped to a square and resized to
``size x size`` (1 MP by default) with Pillow's LANCZOS, then converted to
8-bit gray exactly as the featurizer does (256 levels). Without the package,
scikit-learn's china.jpg is used the same way (upscaled: its texture is
smoother) and the script says so.

Compared, all on one core, window 15, step 1, distance 1, 13 features x 4
directions:

* ``texture_maps(gray, 15, n_jobs=1)``: the whole map, timed;
* the per-window loop with ``HaralickFeaturizer(n_jobs=1)`` on each window's
  crop (one ``transform`` call over the list of crops), and
* the per-window loop with scikit-image ``graycomatrix`` (256 levels, the 4
  angles, symmetric) + ``graycoprops`` of every property it has, per crop,

both timed on the same random sample of windows (``--sample``, 1000 by
default) and extrapolated to every pixel. The machine is a shared VM whose
speed drifts: the variants run interleaved in each of ``--repeat`` rounds;
times are the best round, ratios the median of the within-round ratios with
their range. The map's values at the sampled pixels are compared with the
featurizer's rows.
"""

import argparse
import os
import sys
import time

import numpy as np
from PIL import Image
from threadpoolctl import threadpool_limits

from _machine import describe_machine

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from haralick_learn import HaralickFeaturizer, texture_maps  # noqa: E402
from haralick_learn.io.decode import load_image  # noqa: E402

NATURE = "/usr/share/backgrounds/mate/nature"


def load_photo(name, size):
    path = os.path.join(NATURE, name)
    if not os.path.exists(path):
        from sklearn.datasets import load_sample_image

        print(f"{path} not found (apt-get install mate-backgrounds): using sklearn's china.jpg")
        im = Image.fromarray(load_sample_image("china.jpg"))
        path = "sklearn china.jpg"
    else:
        im = Image.open(path).convert("RGB")
    side = min(im.size)
    left, top = (im.size[0] - side) // 2, (im.size[1] - side) // 2
    im = im.crop((left, top, left + side, top + side)).resize((size, size), Image.LANCZOS)
    return path, load_image(np.asarray(im))


def crops_at(gray, pixels, window):
    r = window // 2
    return [gray[max(0, y - r) : y + r + 1, max(0, x - r) : x + r + 1] for y, x in pixels]


def skimage_loop(crops):
    from skimage.feature import graycomatrix, graycoprops

    props = ["contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM",
             "mean", "variance", "std", "entropy"]
    angles = [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4]
    usable = []
    test = graycomatrix(crops[0], [1], angles, levels=256, symmetric=True)
    for prop in props:
        try:
            graycoprops(test, prop)
            usable.append(prop)
        except ValueError:
            pass

    def run():
        for crop in crops:
            glcm = graycomatrix(crop, [1], angles, levels=256, symmetric=True)
            for prop in usable:
                graycoprops(glcm, prop)

    return run, usable


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photo", default="GreenMeadow.jpg")
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--window", type=int, default=15)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(describe_machine())
    source, gray = load_photo(args.photo, args.size)
    n_pixels = gray.size
    print(f"image: {source}, {gray.shape[1]} x {gray.shape[0]} = {n_pixels / 1e6:.2f} MP, "
          f"8-bit gray, levels {gray.min()}..{gray.max()}; window {args.window}, step 1, "
          "distance 1, 13 features x 4 directions, one core")
    rng = np.random.default_rng(0)
    pixels = list(zip(rng.integers(0, gray.shape[0], args.sample),
                      rng.integers(0, gray.shape[1], args.sample)))
    crops = crops_at(gray, pixels, args.window)
    featurizer = HaralickFeaturizer(n_jobs=1)
    run_skimage, props = skimage_loop(crops)
    print(f"scikit-image graycoprops properties per angle: {', '.join(props)}")

    # compile and warm up (numba caches the kernels on disk)
    texture_maps(gray[:64, :64], args.window)
    featurizer.transform(crops[:10])

    result = {}
    variants = {
        "featurizer loop": lambda: featurizer.transform(crops),
        "skimage loop": run_skimage,
        "texture_maps": lambda: result.__setitem__("maps", texture_maps(gray, args.window,
                                                                         n_jobs=1)),
    }
    times = {name: [] for name in variants}
    cpu = {name: [] for name in variants}
    with threadpool_limits(1):
        for _ in range(args.repeat):
            for name, function in variants.items():
                start, start_cpu = time.perf_counter(), time.process_time()
                function()
                times[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
    times = {name: np.array(values) for name, values in times.items()}
    scale = n_pixels / args.sample
    map_s = times["texture_maps"]
    print(f"\n{'variant':<22} {'best round':>12} {'whole image':>14}   (all rounds, s)")
    for name in ("featurizer loop", "skimage loop"):
        t = times[name]
        print(f"{name:<22} {t.min() * 1e3 / args.sample:9.3f} ms/window "
              f"{t.min() * scale:9.1f} s (extrapolated)   "
              f"{np.round(t * scale, 1).tolist()}")
    print(f"{'texture_maps':<22} {map_s.min() * 1e6 / n_pixels:9.3f} us/pixel "
          f"{map_s.min():9.2f} s (measured)       {np.round(map_s, 2).tolist()}")
    print("process CPU time of each variant per round (the machine is shared: wall time "
          "includes waiting for the CPU): " + "; ".join(
              f"{name} {np.round(cpu[name], 2).tolist()} s" for name in variants))
    for name in ("featurizer loop", "skimage loop"):
        ratios = times[name] * scale / map_s
        print(f"ratio {name} / texture_maps: median {np.median(ratios):.1f}x "
              f"[{ratios.min():.1f}-{ratios.max():.1f}] over {args.repeat} rounds")

    rows = featurizer.transform(crops)
    values = result["maps"][tuple(np.array(pixels).T)]
    names = featurizer.get_feature_names_out()
    near_zero = np.array([n.startswith(("correlation", "information_measure")) for n in names])
    rel = np.abs(values - rows)[:, ~near_zero] / np.abs(rows[:, ~near_zero])
    print(f"map vs featurizer at the {args.sample} sampled pixels: max relative difference "
          f"{np.nanmax(rel):.2e} (10 features), max absolute difference "
          f"{np.nanmax(np.abs(values - rows)[:, near_zero]):.2e} (correlation, IMC1, IMC2)")


if __name__ == "__main__":
    main()
