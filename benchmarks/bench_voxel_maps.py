"""Voxel-based 3-D texture maps of a real MR volume, side by side with pyradiomics, in one run.

Usage (pyradiomics and SimpleITK beside haralick_learn's own dependencies)::

    pip install pyradiomics SimpleITK nibabel scipy
    python benchmarks/bench_voxel_maps.py [--bin-width 250] [--repeat 2] [--whole-radius 1]

The volume is nibabel's test scan ``anatomical.nii`` (an int16 MR, 33 x 41 x 25
voxels of 2 mm, shipped with nibabel); the mask a drawn ellipsoid of 1,536
voxels at its centre (radii 8, 9 and 5 voxels). Both tools map the mask's
voxels with cubic windows (``window = 2 * kernelRadius + 1``), the 13 3-D
directions averaged, the window masked (pyradiomics's ``maskedKernel=True``)
and the bins decided over the mask, ``bin_width=250`` (54 bins over the
mask: an MR's intensities are in arbitrary units, here -135 to 13,190 in the
mask, where pyradiomics's ``binWidth=25`` for CT's Hounsfield units gives 534
bins and pyradiomics takes over 400 ms per voxel), with the 23 IBSI features
but MCC, and with all 24 (MCC needs each window's whole matrix and an
eigen-decomposition, in both tools).

pyradiomics runs ``RadiomicsGLCM(voxelBased=True, voxelBatch=1)`` (its reference
output: with larger batches its JointAverage and MCC go wrong where a window lacks a
direction), haralick_learn ``texture_maps(volume=True, mask=..., features="ibsi",
aggregate="mean", n_jobs=1)``; both on one core (threadpoolctl; pyradiomics is
single-threaded). Each measurement runs in a fresh process, which reports its
time and its peak memory (``ru_maxrss``) above what it held once the volume was
loaded. The two tools' maps are compared (1e-9 relative, plus the absolute
bounds of the near-zero correlations and IMC2): the values equal, and any
feature that differs, are printed beside the figures.
pyradiomics runs once per case (tens of seconds); haralick_learn the best of
``--repeat`` runs after a first one that loads its compiled kernels.

The whole-volume line maps every voxel of a 25 x 256 x 256 volume made from the
same scan (no mask): its slices (axis k) upsampled twice in-plane by linear
interpolation (``scipy.ndimage.zoom(order=1)``: 1 mm voxels), tiled 4 x 4 and
cropped to 256 x 256, rounded to int16; the same bin width, the IBSI features
but MCC. For pyradiomics, and with MCC, its time is estimated from the masked
runs' time per voxel.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _machine import describe_machine  # noqa: E402

#: Whether MCC is computed, in each masked case.
CASES = {"no_mcc": False, "mcc": True}
RADII = (1, 2)
#: Absolute bounds beyond 1e-9 relative (tests/test_maps_catalogue.py): pyradiomics adds
#: eps to its probabilities and the near-zero correlations and IMC2 amplify the last bits.
ABSOLUTE = {"Correlation": 1e-9, "Imc2": 5e-7, "MCC": 1e-6}


def anatomical():
    import nibabel

    path = os.path.join(os.path.dirname(nibabel.__file__), "tests", "data", "anatomical.nii")
    return np.asarray(nibabel.load(path).dataobj)  # (i, j, k) as stored, as load_volume


def ellipsoid(shape, radii=(8, 9, 5)):
    grid = np.indices(shape)
    middle = np.array(shape) / 2
    return sum(((axis - c) / r) ** 2 for axis, c, r in zip(grid, middle, radii)) <= 1


def whole_volume():
    """25 x 256 x 256 int16 from anatomical.nii: slices upsampled x2, tiled 4 x 4, cropped."""
    from scipy import ndimage

    slices = np.transpose(anatomical(), (2, 1, 0)).astype(np.float64)  # (k, j, i) = 25 x 41 x 33
    finer = ndimage.zoom(slices, (1, 2, 2), order=1)  # 25 x 82 x 66
    return np.rint(np.tile(finer, (1, 4, 4))[:, :256, :256]).astype(np.int16)


def ibsi_names(with_mcc):
    from haralick_learn._settings import IBSI_FEATURES

    return [name for name in IBSI_FEATURES if with_mcc or name != "MCC"]


def rss_mb():
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def child(tool, case, radius, bin_width, repeat, out):
    """One measurement in this fresh process: prints its JSON line."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    if case == "whole":
        volume, mask, with_mcc = whole_volume(), None, False
    else:
        volume, with_mcc = anatomical(), CASES[case]
        mask = ellipsoid(volume.shape)
    names = ibsi_names(with_mcc)
    if tool == "pyradiomics":
        import logging

        import SimpleITK as sitk
        from radiomics import glcm

        logging.getLogger("radiomics").setLevel(logging.ERROR)
        image = sitk.GetImageFromArray(volume.astype(np.float64))
        region = sitk.GetImageFromArray(mask.astype(np.uint8))
        baseline = rss_mb()
        start = time.perf_counter()
        extractor = glcm.RadiomicsGLCM(image, region, voxelBased=True, kernelRadius=radius,
                                       maskedKernel=True, binWidth=bin_width, voxelBatch=1)
        for name in names:
            extractor.enableFeatureByName(name)
        result = extractor.execute()
        seconds = [time.perf_counter() - start]
        maps = np.stack([sitk.GetArrayFromImage(result[name]) for name in names], axis=-1)
    else:
        from haralick_learn import texture_maps

        params = dict(volume=True, mask=mask, features=["ibsi_" + n for n in names],
                      bin_width=bin_width, aggregate="mean", n_jobs=1)
        if case == "whole":  # load the kernels on a small piece first
            texture_maps(volume[:4, :32, :32], 2 * radius + 1, **params)
        baseline = rss_mb()
        seconds = []
        for _ in range(1 if case == "whole" else repeat + 1):
            start = time.perf_counter()
            maps = texture_maps(volume, 2 * radius + 1, **params)
            seconds.append(time.perf_counter() - start)
        if case != "whole":
            seconds = seconds[1:]  # the first run loads (or compiles) the kernels
    if out:
        np.save(out, maps[mask] if mask is not None else maps[:0])
    n_voxels = int(mask.sum()) if mask is not None else volume.size
    print(json.dumps({"seconds": min(seconds), "n_voxels": n_voxels, "names": names,
                      "peak_mb": peak_mb() - baseline, "shape": list(volume.shape)}))


def measure(tool, case, radius, args, out=None):
    command = [sys.executable, os.path.abspath(__file__), "--child", tool, case, str(radius),
               "--repeat", str(args.repeat), "--bin-width", str(args.bin_width)]
    command += ["--out", out] if out else []
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"{tool} {case} r={radius} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(ours, theirs, names):
    """``(values equal, worst relative difference among them, [(feature, voxels, gap)])``.

    Equal: within 1e-9 relative plus the feature's absolute bound; the features
    that differ beyond it are listed with the voxels where they do, and the
    largest difference.
    """
    equal, worst, differ = 0, 0.0, []
    for k, name in enumerate(names):
        a, b = ours[:, k], theirs[:, k]
        both = ~np.isnan(a) & ~np.isnan(b)
        # pyradiomics's IMC2 is NaN where rounding puts HXY above HXY2; the maps give 0
        lone = np.isnan(a) != np.isnan(b)
        if name == "Imc2":
            lone &= ~(np.isnan(b) & (np.abs(np.nan_to_num(a)) < 1e-6))
        bound = 1e-9 * np.abs(b) + 1e-12 + ABSOLUTE.get(name, 0.0)
        gap = np.where(both, np.abs(a - b), 0.0)
        wrong = lone | (gap > bound)
        if wrong.any():
            differ.append((name, int(wrong.sum()), float(gap.max())))
        ok = both & ~wrong
        scale = np.abs(b[ok])
        relative = gap[ok][scale > 1e-6] / scale[scale > 1e-6]
        worst = max(worst, float(relative.max(initial=0)))
        equal += int(ok.sum())
    return equal, worst, differ


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin-width", type=float, default=250,
                        help="pyradiomics's binWidth (default 250: 54 bins over the mask)")
    parser.add_argument("--repeat", type=int, default=2,
                        help="haralick_learn's timed runs per case (best kept)")
    parser.add_argument("--whole-radius", type=int, nargs="+", default=[1],
                        help="kernel radii of the whole-volume run (default 1)")
    parser.add_argument("--skip-whole", action="store_true")
    parser.add_argument("--child", nargs=3, metavar=("TOOL", "CASE", "RADIUS"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        tool, case, radius = args.child
        return child(tool, case, int(radius), args.bin_width, args.repeat, args.out)
    try:
        import radiomics
    except ImportError:
        sys.exit("pyradiomics is needed: pip install pyradiomics SimpleITK (it builds on "
                 "Python <= 3.11), then run this script with that Python")

    print(describe_machine())
    print(f"pyradiomics {radiomics.__version__}; one core each (threadpoolctl, n_jobs=1)")
    volume = anatomical()
    mask = ellipsoid(volume.shape)
    low, high = volume[mask].min(), volume[mask].max()
    print(f"volume: nibabel's anatomical.nii {volume.shape} {volume.dtype.name}; mask: an "
          f"ellipsoid of {int(mask.sum())} voxels, intensities {low} to {high}: "
          f"bin_width={args.bin_width:g} gives {int((high - low) // args.bin_width) + 1} bins")
    print()
    print("| case | kernelRadius | pyradiomics ms/voxel | haralick_learn ms/voxel | ratio "
          "| peak MB pyradiomics | peak MB haralick_learn |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    per_voxel = {}
    with tempfile.TemporaryDirectory() as folder:
        for case, with_mcc in CASES.items():
            for radius in RADII:
                paths = [os.path.join(folder, f"{tool}.npy") for tool in ("theirs", "ours")]
                theirs = measure("pyradiomics", case, radius, args, paths[0])
                ours = measure("haralick_learn", case, radius, args, paths[1])
                equal, worst, differ = compare(np.load(paths[1]), np.load(paths[0]),
                                               ours["names"])
                ms = [m["seconds"] / m["n_voxels"] * 1e3 for m in (theirs, ours)]
                per_voxel[case, radius] = ms
                label = f"{len(ours['names'])} features{'' if with_mcc else ' (no MCC)'}"
                print(f"| {label} | {radius} | {ms[0]:.3f} | {ms[1]:.4f} | "
                      f"{ms[0] / ms[1]:.0f}x | {theirs['peak_mb']:.0f} | "
                      f"{ours['peak_mb']:.0f} |", flush=True)
                print(f"  equal on {equal} of {ours['n_voxels'] * len(ours['names'])} values "
                      f"(worst relative difference {worst:.1e})"
                      + "".join(f"; {name} differs at {n} voxels, by up to {gap:.3g}"
                                for name, n, gap in differ), flush=True)
    if args.skip_whole:
        return
    print()
    n_whole = 25 * 256 * 256
    for radius in args.whole_radius:
        whole = measure("haralick_learn", "whole", radius, args)
        print(f"whole 25 x 256 x 256 volume (every voxel, no mask), kernelRadius {radius}, "
              f"23 features (no MCC): haralick_learn {whole['seconds']:.1f} s, peak "
              f"{whole['peak_mb']:.0f} MB", flush=True)
    # Estimates for the whole volume from the masked runs' time per voxel: pyradiomics's
    # cost per voxel hardly depends on the mask; the maps' does (a masked window starts
    # afresh on each row of the mask), so without MCC they are measured above instead.
    for radius in RADII:
        theirs = [per_voxel[case, radius][0] * n_whole / 1e3 / 3600 for case in CASES]
        ours = per_voxel["mcc", radius][1] * n_whole / 1e3 / 60
        print(f"whole volume, estimated from the masked runs, kernelRadius {radius}: "
              f"pyradiomics {theirs[0]:.1f} h (no MCC), {theirs[1]:.1f} h (24 features); "
              f"haralick_learn with MCC {ours:.0f} min")


if __name__ == "__main__":
    main()
