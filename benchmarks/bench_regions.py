"""Region tables: ~1000 SLIC regions of a real 2000 x 2000 photograph, in one run, against the
whole image and against Nyxus.

Usage::

    apt-get install mate-backgrounds      # once: the real photograph used here
    python benchmarks/bench_regions.py [--repeat 3] [--segments 1000] [--no-nyxus] [--stages]

The photograph is a "nature" wallpaper of Debian's mate-backgrounds package
(GPL-2+, see /usr/share/doc/mate-backgrounds/copyright), resized to 2000 x
2000 and made gray by the reference conversion; the regions are
``skimage.segmentation.slic`` superpixels of it (made once, not timed).

Printed, one thread each (``n_jobs=1``, the BLAS limited to one thread):

* seconds of ``HaralickFeaturizer().transform([gray])`` (the whole image once,
  4 directions), of ``region_features(gray, labels)`` (one row per region, the
  same settings), of the same table read tile by tile (``tile_shape=1000``, as
  from a Zarr store or an OME-TIFF file, here from memory) and of the same rows
  region by region (each region's masked crop through the stages on its own),
  and the ratios;
* seconds of Nyxus's GLCM group (``nyxus.Nyxus(["*ALL_GLCM*"],
  n_feature_calc_threads=1, coarse_gray_depth=64).featurize(gray, labels)``:
  its 4 angles, 64 gray levels) and of ``region_features(gray, labels,
  features="ibsi", levels=64)``, with and without IBSI's MCC (which Nyxus
  does not compute: an eigenvalue problem per matrix), and the ratios.

The variants of each comparison run interleaved in each of ``--repeat``
rounds: seconds are the best round of each, a ratio the median over rounds of
the ratio within the round, with its range.

``--stages``: the default table's time stage by stage instead, each stage's
calls timed inside the table (thread CPU time, the median over 15 tables): the
labels' survey, quantizing the regions' boxes, counting their pairs with the
statistics of their matrices, the features of the statistics, and the rest.
"""

import argparse
import glob

import numpy as np
from PIL import Image

from _machine import describe_machine, interleaved_rounds

SOURCES = "/usr/share/backgrounds/mate/nature/*.jpg"


#: The stages of a region table, as ``(module, function)``: each call is timed.
STAGES = {
    "the labels' survey": ("haralick_learn._regions", "_survey"),
    "quantizing the boxes": ("haralick_learn._pipeline", "quantize_regions"),
    "counting, filling and the statistics": ("haralick_learn._pipeline", "crop_sums"),
    "the features of the statistics": ("haralick_learn._pipeline", "_features_of_sums"),
}


def stage_times(gray, labels, n_tables=15):
    """Thread CPU seconds of each of :data:`STAGES` in a table, and of the whole table: the
    median over ``n_tables`` tables (a mean takes in the machine's occasional slow table: 33 to
    43 ms over 30 tables of one idle run, without any garbage collection of note)."""
    import importlib
    import time

    from haralick_learn import region_features

    spent = dict.fromkeys(STAGES, 0.0)
    originals = []
    for name, (module_name, function) in STAGES.items():
        module = importlib.import_module(module_name)
        original = getattr(module, function)
        originals.append((module, function, original))

        def timed(*args, _original=original, _name=name, **kwargs):
            start = time.thread_time()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_name] += time.thread_time() - start

        setattr(module, function, timed)
    tables = []
    try:
        region_features(gray, labels)
        for _ in range(n_tables):
            for name in spent:
                spent[name] = 0.0
            start = time.thread_time()
            region_features(gray, labels)
            tables.append({**spent, "total": time.thread_time() - start})
    finally:
        for module, function, original in originals:
            setattr(module, function, original)
    medians = {name: float(np.median([table[name] for table in tables]))
               for name in [*STAGES, "total"]}
    total = medians.pop("total")
    return medians, total


def region_by_region(gray, labels, **params):
    """The rows of ``region_features``, each region through the stages on its own."""
    from haralick_learn._regions import _Regions, _survey
    from haralick_learn._settings import TextureSettings

    settings = TextureSettings.from_params(**params)
    ids, compact, corners, counts = _survey(labels)
    return _Regions(gray, compact, corners, ids, settings, False).rows_one_by_one(
        np.flatnonzero(counts))


def report(times, reference):
    for name, values in times.items():
        print(f"  {name:44s} best {values.min():7.3f} s  (rounds: "
              + ", ".join(f"{v:.3f}" for v in values) + ")")
    for name, values in times.items():
        if name != reference:
            ratios = values / times[reference]
            print(f"  {name} / {reference}: median {np.median(ratios):.2f}x "
                  f"(range {ratios.min():.2f}x - {ratios.max():.2f}x)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--segments", type=int, default=1000)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--no-nyxus", action="store_true", help="skip the Nyxus comparison")
    parser.add_argument("--stages", action="store_true",
                        help="the default table's time stage by stage, instead")
    args = parser.parse_args()

    import mahotas
    from skimage.segmentation import slic
    from threadpoolctl import threadpool_limits

    from haralick_learn import HaralickFeaturizer, region_features
    from haralick_learn._settings import FEATURE_SETS

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
    ibsi = dict(features="ibsi", levels=64)
    without_mcc = dict(features=[f for f in FEATURE_SETS["ibsi"] if f != "ibsi_MCC"], levels=64)
    with threadpool_limits(1):
        featurizer.fit_transform([gray[:64, :64]])  # compile or load the kernels
        if args.stages:
            stages, total = stage_times(gray, labels)
            print("the default table stage by stage, one thread (thread CPU time, median of 15 "
                  "tables):")
            for name, seconds in stages.items():
                print(f"  {name:<40} {1e3 * seconds:6.1f} ms")
            print(f"  {'the rest (Python around the stages)':<40} "
                  f"{1e3 * (total - sum(stages.values())):6.1f} ms (the medians' difference)")
            print(f"  {'the whole table':<40} {1e3 * total:6.1f} ms")
            return
        for params in ({}, ibsi):
            region_features(gray[:64, :64], labels[:64, :64], on_error="nan", **params)
        table = region_features(gray, labels)
        np.testing.assert_array_equal(table.iloc[:, 6:].to_numpy(),
                                      region_by_region(gray, labels))
        assert region_features(gray, labels, tile_shape=1000).equals(table)
        print("the table equals region by region, and tile by tile, bit for bit")
        print(f"Haralick's 13 features x 4 directions ({table.shape[1] - 6} columns), one thread:")
        times = interleaved_rounds(args.repeat, {
            "whole image once": lambda: featurizer.fit_transform([gray]),
            "region_features": lambda: region_features(gray, labels),
            "region_features, tiles of 1000 x 1000": lambda: region_features(
                gray, labels, tile_shape=1000),
            "region by region": lambda: region_by_region(gray, labels),
        })
        report(times, "whole image once")
        print(f"  region_features: {1e3 * times['region_features'].min() / labels.max():.3f} "
              "ms per region")
        if args.no_nyxus:
            return
        import nyxus

        nyx = nyxus.Nyxus(["*ALL_GLCM*"], n_feature_calc_threads=1, coarse_gray_depth=64)
        intensity, label_image = gray.astype(np.uint32), labels.astype(np.uint32)
        nyx.featurize(intensity[:64, :64], label_image[:64, :64])
        theirs = nyx.featurize(intensity, label_image)
        print(f"Nyxus {nyxus.__version__}: {len(theirs)} rows x {theirs.shape[1] - 4} GLCM "
              f"columns; region_features with IBSI's set: "
              f"{region_features(gray, labels, **ibsi).shape[1] - 6} columns; one thread each:")
        times = interleaved_rounds(args.repeat, {
            "Nyxus *ALL_GLCM*, coarse_gray_depth=64": lambda: nyx.featurize(intensity,
                                                                             label_image),
            'region_features features="ibsi", levels=64': lambda: region_features(
                gray, labels, **ibsi),
            "the same without ibsi_MCC": lambda: region_features(gray, labels, **without_mcc),
        })
        report(times, "Nyxus *ALL_GLCM*, coarse_gray_depth=64")
        for name in list(times)[1:]:
            speedup = times["Nyxus *ALL_GLCM*, coarse_gray_depth=64"] / times[name]
            print(f"  Nyxus / {name}: median {np.median(speedup):.1f}x faster "
                  f"(range {speedup.min():.1f}x - {speedup.max():.1f}x)")


if __name__ == "__main__":
    main()
