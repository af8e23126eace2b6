"""Real Haralick feature rows for the search benchmarks, cached under benchmarks/_data.

Rows are the 52 default Haralick features (``HaralickFeaturizer()``) of
32 x 32 gray patches cut, every ``STRIDE`` pixels in both directions, from
real photographs already on the machine: the MATE desktop's nature
backgrounds (``/usr/share/backgrounds/mate/nature/*.jpg``, when present),
scikit-learn's ``china.jpg`` and ``flower.jpg``, scikit-image's photographs
and textures and the package's 90 sample images. Each photograph is read
with the library's own ``load_image`` (its reference gray conversion).
Patches overlap (stride 6 < 32): neighbouring patches share pixels, as
crops of one photograph do.

Each source's rows are cached in ``benchmarks/_data/patches/`` (one
``.npy`` file per photograph), so a second run only loads them::

    python benchmarks/_patches.py            # featurize what is missing, print the count
    python benchmarks/_patches.py --n-jobs 2

``patch_features(n)`` returns ``n`` rows drawn without replacement (seed 0)
from all the cached rows, in a fixed order.
"""

import argparse
import glob
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
CACHE = os.path.join(HERE, "_data", "patches")
PATCH = 32
STRIDE = 6


def sources():
    """``(name, path or callable returning an image)`` of every photograph used."""
    found = [(os.path.splitext(os.path.basename(p))[0], p)
             for p in sorted(glob.glob("/usr/share/backgrounds/mate/nature/*.jpg"))]
    from sklearn.datasets import load_sample_images as sklearn_images

    sk = sklearn_images()
    for name, image in zip(sk.filenames, sk.images):
        found.append((f"sklearn_{os.path.splitext(os.path.basename(name))[0]}",
                      lambda image=image: image))
    try:
        import skimage.data as data
    except ImportError:
        data = None
    if data is not None:
        for name in ("astronaut", "brick", "camera", "coffee", "grass", "gravel", "rocket",
                     "chelsea"):
            found.append((f"skimage_{name}", getattr(data, name)))
    from haralick_learn.datasets import load_sample_images

    for path in load_sample_images().paths:
        found.append((f"sample_{os.path.splitext(os.path.basename(path))[0]}", path))
    return found


def patches(gray):
    """Every 32 x 32 patch at a multiple of STRIDE, row by row, as one 3-D array."""
    windows = np.lib.stride_tricks.sliding_window_view(gray, (PATCH, PATCH))
    return np.ascontiguousarray(windows[::STRIDE, ::STRIDE].reshape(-1, PATCH, PATCH))


def featurize_missing(n_jobs=1, verbose=True):
    from haralick_learn import HaralickFeaturizer
    from haralick_learn.io.decode import load_image

    os.makedirs(CACHE, exist_ok=True)
    featurizer = HaralickFeaturizer(n_jobs=n_jobs)
    total = 0
    for name, source in sources():
        out = os.path.join(CACHE, f"{name}_p{PATCH}_s{STRIDE}.npy")
        if os.path.exists(out):
            total += np.load(out, mmap_mode="r").shape[0]
            continue
        gray = load_image(source() if callable(source) else source)
        if min(gray.shape) < PATCH:
            continue
        start = time.perf_counter()
        rows = featurizer.fit_transform(patches(gray))
        rows = rows[np.isfinite(rows).all(axis=1)]
        np.save(out + ".tmp.npy", rows)
        os.replace(out + ".tmp.npy", out)
        total += rows.shape[0]
        if verbose:
            print(f"{name}: {rows.shape[0]} patches in {time.perf_counter() - start:.1f} s "
                  f"(total {total})", flush=True)
    return total


def patch_features(n=None):
    """``n`` cached rows (all when None), drawn without replacement with seed 0."""
    files = sorted(glob.glob(os.path.join(CACHE, f"*_p{PATCH}_s{STRIDE}.npy")))
    if not files:
        raise FileNotFoundError(f"no cached rows in {CACHE}: run python {__file__}")
    rows = np.concatenate([np.load(f) for f in files])
    order = np.random.default_rng(0).permutation(rows.shape[0])
    if n is not None:
        if n > rows.shape[0]:
            raise ValueError(f"asked for {n} rows, only {rows.shape[0]} are cached")
        order = order[:n]
    return rows[order]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jobs", type=int, default=1)
    args = parser.parse_args()
    start = time.perf_counter()
    count = featurize_missing(args.n_jobs)
    print(f"{count} rows cached in {CACHE} ({time.perf_counter() - start:.0f} s)")
