"""Colour texture: what it costs, and what it buys, in one run.

Usage::

    apt-get install mate-backgrounds      # once: the real photographs used here
    python benchmarks/bench_color.py [--images 12] [--repeat 5]

(a) Cost. ``HaralickFeaturizer(n_jobs=1)`` on the 5 MP JPEGs of
``bench_featurize.py`` (the mate-backgrounds "nature" photographs resized to
2592 x 1944, made under ``benchmarks/_data/`` on first use) with
``color="gray"`` (the reference numbers), ``"rgb"``, ``"hsv"``, ``"lab"`` and
``"rgb"`` with every channel pair. The variants run interleaved, one after the
other in each of ``--repeat`` rounds over all images; printed: the ms/image of
the best round of each, and each variant's cost relative to gray as the median
over the rounds of the ratio within the round (with its range), and the bound it
should meet: rgb <= 3.5x gray.

(b) What it buys. A labelled set of real colour textures: 12 scenes, 24
patches of 64 x 64 pixels each, the label being the scene. The scenes are the
photographs installed packages ship: scikit-image's ``coffee``, ``chelsea``,
``astronaut`` and ``rocket``, scikit-learn's ``china.jpg`` and ``flower.jpg``,
and the first 6 (sorted by name) of mate-backgrounds' "nature" wallpapers,
each first resized (Lanczos) to 640 pixels wide so that every scene is seen
at a similar scale. Each scene is cut into its grid of non-overlapping
64 x 64 tiles, of which 24 evenly spaced ones (``np.linspace`` over the tiles
in reading order) are kept: no two patches share a pixel. For each setting:
the 5-fold (stratified, shuffled, seed 0) accuracy of ``StandardScaler +
LogisticRegression(max_iter=5000)``, and the precision@3 of
``DistanceNeighbors(n_neighbors=3)`` on the standardized features (the fraction
of each patch's 3 nearest other patches that come from its scene, averaged).
Every setting uses the default distance 1 and the 4 directions.
"""

import argparse
import glob
import os
import sys
import time

import numpy as np
from PIL import Image

from _machine import describe_machine
from bench_featurize import interleaved_rounds, prepare_photos

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # this checkout's haralick_learn

MATE_NATURE = "/usr/share/backgrounds/mate/nature/*.jpg"
PATCH = 64
PER_SCENE = 24
WIDTH = 640

SETTINGS = {
    "gray": dict(color="gray"),
    "rgb": dict(color="rgb"),
    "hsv": dict(color="hsv"),
    "lab": dict(color="lab"),
    "rgb + pairs": dict(color="rgb", color_pairs="all"),
    "hsv + pairs": dict(color="hsv", color_pairs="all"),
    "lab + pairs": dict(color="lab", color_pairs="all"),
}


def scenes():
    """``{name: RGB uint8 array}`` of the 12 scenes."""
    import skimage.data
    from sklearn.datasets import load_sample_image

    out = {name: getattr(skimage.data, name)() for name in
           ("coffee", "chelsea", "astronaut", "rocket")}
    for name in ("china.jpg", "flower.jpg"):
        out[name.removesuffix(".jpg")] = load_sample_image(name)
    mate = sorted(glob.glob(MATE_NATURE))[:6]
    if len(mate) < 6:
        sys.exit(f"need 6 photographs in {MATE_NATURE}: run `apt-get install mate-backgrounds`")
    for path in mate:
        with Image.open(path) as im:
            im = im.convert("RGB")
            height = round(im.height * WIDTH / im.width)
            out[os.path.basename(path).removesuffix(".jpg")] = np.asarray(
                im.resize((WIDTH, height), Image.LANCZOS))
    return out


def patches(images):
    """24 non-overlapping 64 x 64 tiles of each scene, evenly spaced; labels = scene."""
    X, y = [], []
    for name, rgb in images.items():
        rows, cols = rgb.shape[0] // PATCH, rgb.shape[1] // PATCH
        tiles = [(r, c) for r in range(rows) for c in range(cols)]
        assert len(tiles) >= PER_SCENE, (name, rgb.shape)
        for k in np.linspace(0, len(tiles) - 1, PER_SCENE).round().astype(int):
            r, c = tiles[k]
            X.append(np.ascontiguousarray(rgb[r * PATCH:(r + 1) * PATCH,
                                              c * PATCH:(c + 1) * PATCH]))
            y.append(name)
    return X, np.array(y)


def what_it_buys():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from haralick_learn import DistanceNeighbors, HaralickFeaturizer

    X, y = patches(scenes())
    print(f"(b) {len(np.unique(y))} scenes x {PER_SCENE} patches of {PATCH}x{PATCH}: "
          f"{', '.join(np.unique(y))}")
    print(f"{'setting':14s} {'features':>8s} {'5-fold accuracy':>18s} {'precision@3':>12s}")
    results = {}
    for name, params in SETTINGS.items():
        features = HaralickFeaturizer(**params).fit_transform(X)
        classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
        folds = StratifiedKFold(5, shuffle=True, random_state=0)
        scores = cross_val_score(classifier, features, y, cv=folds)
        scaled = StandardScaler().fit_transform(features)
        _, indices = DistanceNeighbors(n_neighbors=3).fit(scaled).kneighbors()
        precision = float((y[indices] == y[:, None]).mean())
        results[name] = (scores.mean(), precision)
        print(f"{name:14s} {features.shape[1]:8d} {scores.mean():10.3f} +/- {scores.std():.3f} "
              f"{precision:12.3f}")
    return results


def what_it_costs(n_images, repeat):
    from haralick_learn import HaralickFeaturizer

    paths = prepare_photos(n_images)
    for params in SETTINGS.values():  # compilation / cache load is not timed
        HaralickFeaturizer(**params).fit_transform(paths[:1])
    cost = {k: SETTINGS[k] for k in ("gray", "rgb", "hsv", "lab", "rgb + pairs")}
    variants = {
        name: (lambda params=params: HaralickFeaturizer(n_jobs=1, **params).fit_transform(paths))
        for name, params in cost.items()
    }
    rounds = interleaved_rounds(repeat, variants)
    n = len(paths)
    print(f"(a) {n} photographs of 2592x1944 (5.0 MP), {repeat} interleaved rounds, n_jobs=1")
    print(f"{'color':14s} {'ms/image (best round)':>22s} {'/ gray: median [range]':>26s}")
    for name, seconds in rounds.items():
        per_round = seconds / rounds["gray"]
        print(f"{name:14s} {1000 * seconds.min() / n:22.1f} {np.median(per_round):13.2f}x "
              f"[{per_round.min():.2f}-{per_round.max():.2f}]")
    print("bound: rgb / gray <= 3.5x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(describe_machine())
    start = time.perf_counter()
    what_it_buys()
    print()
    what_it_costs(args.images, args.repeat)
    print(f"\n(total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
