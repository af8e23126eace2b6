"""The two RGB to gray conversions side by side: what they change, what they cost.

Usage::

    apt-get install mate-backgrounds      # once: 6 of the 12 colour scenes of (1b)
    python benchmarks/bench_gray_conversion.py [--repeat 31]

``HaralickFeaturizer(gray_conversion="exact")`` (the default) computes the
8-bit gray level as ``(30 R + 59 G + 11 B) // 100`` in integers, the same on
every machine; ``gray_conversion="mahotas"`` reproduces this machine's
``mahotas.colors.rgb2gray(rgb, dtype=np.uint8)`` bit for bit, a float64
``np.dot`` whose rounding of the colours with an integer gray level depends
on the CPU's BLAS kernel. Printed, in one run:

(1) What changes. On (a) the package's 90 sample images (``brick``,
``grass``, ``gravel``; 182 x 182 RGB JPEGs) and (b) the 288 colour patches of
``bench_color.py`` (12 real scenes x 24 non-overlapping 64 x 64 tiles, the
label being the scene), with each conversion: the 5-fold accuracy
(``StratifiedKFold(5, shuffle=True, random_state=0)``) of ``StandardScaler +
LogisticRegression(max_iter=1000)`` and the precision@3 of
``DistanceNeighbors(n_neighbors=3)`` on the standardized features (the share
of each image's 3 nearest other images that have its class, averaged). Then
how many feature rows differ between the conversions, their largest
difference relative to the mahotas value and in units of the feature's
standard deviation over the set, and how many pixels differ in gray level
(every pixel of every image, converted by both kernels).

(2) What it costs. The conversion alone on a 5 MP RGB photograph
(scikit-learn's ``china.jpg`` tiled to 2592 x 1944): the exact and the
mahotas-mode kernels from an RGB array (``rgb_to_gray_uint8``, which packs
it into 4-byte pixels first) and from packed pixels (``rgbx_to_gray_uint8``,
the layout Pillow decodes into), and ``mahotas.colors.rgb2gray`` itself;
then ``HaralickFeaturizer(n_jobs=1)`` on the 90 sample image files with each
conversion. The variants run interleaved, one after the other in each of
``--repeat`` rounds: printed, the median ms of each and the median over the
rounds of its within-round ratio to the exact conversion of the same input,
with its range.
The mahotas-mode result is checked to equal ``rgb2gray``'s on the 5 MP array.
"""

import argparse
import os
import shlex
import sys
import time

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # this checkout's haralick_learn

from _machine import describe_machine, interleaved_rounds  # noqa: E402
from bench_color import patches, scenes  # noqa: E402

CONVERSIONS = ("exact", "mahotas")
SIDE = (1944, 2592)  # 5 MP, the photographs of bench_featurize.py


def scores(features, y):
    """5-fold accuracy (mean, std) and precision@3 of the nearest neighbours."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from haralick_learn import DistanceNeighbors

    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    accuracy = cross_val_score(classifier, features, y, cv=folds)
    scaled = StandardScaler().fit_transform(features)
    _, indices = DistanceNeighbors(n_neighbors=3).fit(scaled).kneighbors()
    return accuracy.mean(), accuracy.std(), float((y[indices] == y[:, None]).mean())


def compare(name, images, rgb_arrays, y):
    """Print (1) for one set: accuracy of each conversion, differing rows and pixels."""
    from haralick_learn import HaralickFeaturizer
    from haralick_learn.preprocess.gray import rgb_to_gray_uint8

    rows = {c: HaralickFeaturizer(gray_conversion=c).fit_transform(images) for c in CONVERSIONS}
    print(f"{name}: {len(y)} images, {len(np.unique(y))} classes")
    print(f"  {'gray_conversion':16s} {'5-fold accuracy':>18s} {'precision@3':>12s}")
    for conversion, features in rows.items():
        mean, std, precision = scores(features, y)
        print(f"  {conversion:16s} {mean:10.3f} +/- {std:.3f} {precision:12.3f}")
    exact, reference = rows["exact"], rows["mahotas"]
    differ = ~(exact == reference).all(axis=1)
    relative = np.abs(exact - reference) / np.maximum(np.abs(reference), 1e-300)
    in_std = np.abs(exact - reference) / np.maximum(reference.std(axis=0), 1e-300)
    pixels = changed = 0
    for rgb in rgb_arrays:
        gray = {c: rgb_to_gray_uint8(rgb, c) for c in CONVERSIONS}
        pixels += gray["exact"].size
        changed += int(np.count_nonzero(gray["exact"] != gray["mahotas"]))
    print(f"  rows that differ: {differ.sum()} of {len(differ)}; largest difference "
          f"{relative.max():.2e} relative, {in_std.max():.2e} of the feature's std")
    print(f"  pixels whose gray level differs: {changed:,} of {pixels:,} "
          f"({100 * changed / pixels:.3f}%)")


def what_changes():
    from haralick_learn.datasets import load_sample_images

    paths, y = load_sample_images(return_X_y=True)
    arrays = []
    for path in paths:
        with Image.open(path) as im:
            arrays.append(np.asarray(im.convert("RGB")))
    compare("(1a) the package's sample images", paths, arrays, np.asarray(y))
    X, y = patches(scenes())
    compare("(1b) colour patches of 12 scenes", X, X, y)


def photograph():
    """scikit-learn's china.jpg tiled to 2592 x 1944, C-contiguous RGB uint8."""
    from sklearn.datasets import load_sample_image

    china = load_sample_image("china.jpg")
    reps = (-(-SIDE[0] // china.shape[0]), -(-SIDE[1] // china.shape[1]), 1)
    return np.ascontiguousarray(np.tile(china, reps)[:SIDE[0], :SIDE[1]])


def report(title, rounds, baselines):
    """Median ms of each variant, and its within-round ratio to its baseline."""
    print(title)
    print(f"  {'variant':46s} {'median ms':>9s}   ratio to: median [range]")
    for name, seconds in rounds.items():
        base = baselines[name]
        ratio = seconds / rounds[base]
        against = "" if base == name else (f"{np.median(ratio):.3f}x [{ratio.min():.3f}-"
                                          f"{ratio.max():.3f}] of {base!r}")
        print(f"  {name:46s} {1000 * np.median(seconds):9.2f}   {against}")


def what_it_costs(repeat):
    import mahotas.colors

    from haralick_learn import HaralickFeaturizer
    from haralick_learn.preprocess import gray as _gray
    from haralick_learn.datasets import load_sample_images

    rgb = photograph()
    rgbx = np.zeros(rgb.shape[:2] + (4,), np.uint8)
    rgbx[..., :3] = rgb
    packed = rgbx.view(np.uint32).reshape(-1)
    out = np.empty(packed.shape, np.uint8)
    reference = mahotas.colors.rgb2gray(rgb, dtype=np.uint8)
    ours = {c: _gray.rgb_to_gray_uint8(rgb, c) for c in CONVERSIONS}  # compiles, not timed
    if not np.array_equal(ours["mahotas"], reference):
        sys.exit("gray_conversion='mahotas' differs from mahotas.colors.rgb2gray here")
    kernel = _gray._conversion()[0].__name__.strip("_").removesuffix("_kernel")
    title = (f"(2) the conversion of a {rgb.shape[1]} x {rgb.shape[0]} RGB array "
          f"({rgb.shape[0] * rgb.shape[1] / 1e6:.1f} MP, china.jpg tiled); mahotas mode "
          f"uses the {kernel!r} kernel on this CPU and equals rgb2gray; "
          f"{np.count_nonzero(ours['exact'] != reference):,} pixels differ from the exact "
          f"conversion; {repeat} interleaved rounds")
    variants = {
        "exact, RGB array": lambda: _gray.rgb_to_gray_uint8(rgb, "exact"),
        "mahotas mode, RGB array": lambda: _gray.rgb_to_gray_uint8(rgb, "mahotas"),
        "exact, packed pixels": lambda: _gray.rgbx_to_gray_uint8(packed, out, "exact"),
        "mahotas mode, packed pixels": lambda: _gray.rgbx_to_gray_uint8(packed, out, "mahotas"),
        "mahotas.colors.rgb2gray(rgb, dtype=np.uint8)":
            lambda: mahotas.colors.rgb2gray(rgb, dtype=np.uint8),
    }
    baselines = {name: name.replace("mahotas mode", "exact") for name in variants}
    baselines["mahotas.colors.rgb2gray(rgb, dtype=np.uint8)"] = "exact, RGB array"
    report(title, interleaved_rounds(repeat, variants), baselines)

    paths, _ = load_sample_images(return_X_y=True)
    featurizers = {f"gray_conversion={c!r}": HaralickFeaturizer(n_jobs=1, gray_conversion=c)
                   for c in CONVERSIONS}
    for featurizer in featurizers.values():
        featurizer.fit_transform(paths[:2])  # compilation is not timed
    variants = {name: (lambda f=f: f.fit_transform(paths)) for name, f in featurizers.items()}
    report(f"\n(2) HaralickFeaturizer(n_jobs=1) on the {len(paths)} sample image files, "
           f"{repeat} interleaved rounds", interleaved_rounds(repeat, variants),
           dict.fromkeys(variants, "gray_conversion='exact'"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=31)
    args = parser.parse_args()
    print(describe_machine())
    print("command: python " + " ".join(shlex.quote(a) for a in sys.argv))
    start = time.perf_counter()
    what_changes()
    print()
    what_it_costs(args.repeat)
    print(f"\n(total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
