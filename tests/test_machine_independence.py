"""The same rows on every machine: no BLAS kernel and no SIMD code path changes a bit.

A row must not depend on the CPU. Two things made it depend on it: the gray
conversion of colour images (mahotas's float ``np.dot`` goes through the BLAS,
whose kernel decides whether some colours truncate to ``v`` or ``v - 1``) and
numpy's CPU-specific ``log2``, ``exp`` and ``power``. Each run below is a fresh
process with OpenBLAS held to another kernel (``OPENBLAS_CORETYPE``), with
numpy's SIMD code paths switched off (``NPY_DISABLE_CPU_FEATURES``), or with
numba's kernels compiled for another CPU (``NUMBA_CPU_NAME``): the rows must be
the same bits as in this process.

The maximal correlation coefficient (Haralick's 14th feature, IBSI's MCC) is an
eigenvalue, and Mahalanobis distances need the inverse of a covariance: both are
computed in compiled loops of the library's own, not by numpy's BLAS product and
LAPACK, whose last digits follow the BLAS kernel; they too are the same bits.

Real photographs from scikit-image (public domain / CC0, see ``conftest.py``).
"""

import os
import subprocess
import sys

import numpy as np
import pytest

#: Each setting: featurizer parameters. Every gray conversion, colour space and feature set.
SETTINGS = {
    "default": {},
    "14th": {"compute_14th_feature": True},
    "hsv_pairs": {"color": "hsv", "color_pairs": "all"},
    "lab": {"color": "lab", "distance": [1, 3]},
    "ibsi": {"features": "ibsi", "bin_width": 25, "aggregate": "mean"},
    "skimage_merged": {"features": ["skimage", "ibsi"], "aggregate": "merged", "levels": 64},
}


def rows_of(settings):
    """The featurizer's rows of three photographs under each setting, and a texture map's."""
    from skimage import data

    from haralick_learn import DistanceNeighbors, HaralickFeaturizer, texture_maps

    settings = dict(settings, mahotas_gray={"gray_conversion": "mahotas"})  # machine-dependent
    # crops keep the run short; chelsea and coffee hold many colours whose exact gray level is
    # an integer, where the BLAS kernel decides mahotas's conversion
    images = [data.chelsea()[:120, :160], data.coffee()[100:220, 150:350],
              data.astronaut()[:150, :150]]
    out = {name: HaralickFeaturizer(**params).fit_transform(images)
           for name, params in settings.items()}
    out["maps"] = texture_maps(images[0], window=7, step=9, aggregate="mean").reshape(-1, 13)
    # Mahalanobis distances between the windows by five of their features: the inverse of
    # their covariance (numpy and LAPACK would follow the BLAS kernel)
    out["mahalanobis"] = DistanceNeighbors(metric="mahalanobis").fit(
        out["maps"][:, [0, 1, 2, 4, 8]]).dists_
    return out


#: Run in each fresh process: ``rows_of`` the settings given, saved to the file given.
ROWS = f"""
import sys
import numpy as np
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
from test_machine_independence import rows_of
np.savez(sys.argv[1], **rows_of(eval(sys.argv[2])))
"""


def _cpu_flags():
    """The CPU's flags as Linux lists them (empty elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            return set(next(line for line in f if line.startswith("flags")).split())
    except (OSError, StopIteration):
        return set()


def _openblas_kernels():
    """OpenBLAS kernels other than the default that this CPU can run."""
    flags = _cpu_flags()
    if not flags:
        return []
    kernels = ["Prescott"]  # SSE3: every x86-64 CPU that runs numpy
    if {"avx2", "fma"} <= flags:
        kernels.append("Haswell")
    if {"avx512f", "avx512bw", "avx512vl"} <= flags:
        kernels.append("SkylakeX")
    from threadpoolctl import threadpool_info

    default = {info.get("architecture") for info in threadpool_info()
               if info.get("internal_api") == "openblas"}
    return [kernel for kernel in kernels if kernel not in default]


def _numpy_dispatch_features():
    """numpy's SIMD targets found on this CPU beyond its baseline (names as numpy spells them)."""
    from numpy._core import _multiarray_umath as umath

    found = getattr(umath, "__cpu_features__", {})
    return [name for name in getattr(umath, "__cpu_dispatch__", []) if found.get(name)]


def _rows_of_runs(folder, runs):
    """Rows computed in a fresh process per run (``{name: environment}``), run side by side."""
    started = {}
    for name, env in runs.items():
        path = folder / f"{name}.npz"
        started[name] = (path, subprocess.Popen(
            [sys.executable, "-c", ROWS, str(path), repr(SETTINGS)],
            # one BLAS thread each: the runs already share the cores
            env=dict(os.environ, OPENBLAS_NUM_THREADS="1", **env), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    rows = {}
    for name, (path, process) in started.items():
        _, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, f"{name}: {stderr}"
        rows[name] = dict(np.load(path))
    return rows


def _check_same_rows(expected, got, what):
    for name, rows in expected.items():
        if name == "mahotas_gray":
            continue
        np.testing.assert_array_equal(got[name], rows, err_msg=f"{what}: {name}")


def _check_runs(folder, runs, kernels):
    """The rows of each run (fresh processes) are this process's; mahotas's gray is not."""
    # This process first: the kernels it compiles are saved to numba's cache, where the fresh
    # processes find them instead of each compiling them again
    expected = rows_of(SETTINGS)
    rows = _rows_of_runs(folder, runs)
    for name, got in rows.items():
        _check_same_rows(expected, got, f"{name} ({runs[name]})")
    # The premise, on these photographs: mahotas's own conversion does depend on the kernel
    # (SSE3's separate multiplies and adds against the default kernel's fused ones).
    if kernels:
        assert any(not np.array_equal(rows[k]["mahotas_gray"], expected["mahotas_gray"])
                   for k in kernels)


def test_rows_are_the_same_under_another_openblas_kernel_and_without_numpy_simd(tmp_path):
    """In brief, one fresh process: OpenBLAS's first other kernel (SSE3's where it is not the
    default) and numpy without its SIMD code paths, together."""
    kernels = _openblas_kernels()[:1]
    features = _numpy_dispatch_features()
    env = {"OPENBLAS_CORETYPE": kernels[0]} if kernels else {}
    if features:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(features)
    if not env:
        pytest.skip("no other OpenBLAS kernel or numpy code path to compare with on this CPU")
    name = kernels[0] if kernels else "numpy_baseline"
    _check_runs(tmp_path, {name: env}, kernels)


@pytest.mark.slow  # a fresh process for each kernel and each set of numpy's code paths
def test_rows_are_the_same_under_every_openblas_kernel_and_without_numpy_simd(tmp_path):
    kernels = _openblas_kernels()
    features = _numpy_dispatch_features()
    runs = {kernel: {"OPENBLAS_CORETYPE": kernel} for kernel in kernels}
    if features:
        runs["numpy_baseline"] = {"NPY_DISABLE_CPU_FEATURES": " ".join(features)}
    avx512 = [name for name in features if "AVX512" in name or name == "X86_V4"]
    if avx512 and len(avx512) < len(features):  # as on a CPU with AVX2 and no AVX-512
        runs["numpy_without_avx512"] = {"NPY_DISABLE_CPU_FEATURES": " ".join(avx512)}
    if not runs:
        pytest.skip("no other OpenBLAS kernel or numpy code path to compare with on this CPU")
    _check_runs(tmp_path, runs, kernels)


def _numba_targets():
    """CPU targets numba can compile for besides this CPU's own, that this CPU can run."""
    flags = _cpu_flags()
    if not flags:
        return []
    targets = ["generic"]  # x86-64's baseline: SSE2, no FMA
    if {"avx2", "fma"} <= flags:
        targets.append("haswell")  # AVX2 and FMA, as an AMD EPYC Zen 3
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        targets.append("skylake-avx512")
    return targets


@pytest.mark.slow  # each fresh process compiles every kernel it calls for its own target
def test_rows_are_the_same_for_every_numba_code_target(tmp_path):
    """The compiled kernels give the same bits whatever CPU numba compiles them for: vector
    widths (SSE2, AVX2, AVX-512) and fused multiply-adds must not change a row."""
    targets = _numba_targets()
    if not targets:
        pytest.skip("not an x86-64 CPU that lists its flags")
    # a cache folder each: the machine code of another target never lands in the user's cache
    runs = {target: {"NUMBA_CPU_NAME": target,
                     "NUMBA_CACHE_DIR": str(tmp_path / f"numba-{target}")}
            for target in targets}
    expected = rows_of(SETTINGS)
    for name, got in _rows_of_runs(tmp_path, runs).items():
        _check_same_rows(expected, got, f"numba compiled for {name}")


def test_elementary_functions_without_numba_loops_give_the_same_bits(monkeypatch):
    """Where numba would vectorize through SVML, the values go through Python's math instead."""
    import numba

    from haralick_learn.texture import libm as _libm

    values = np.concatenate([np.random.default_rng(0).random(5000) * 60,
                             [0.0, 1.0, 1e-300, 2.0**-1074, np.inf]])
    def evaluated():
        return (_libm.log2(values), _libm.exp(-values), _libm.exp(values * 20),
                _libm.log2_plus(values, np.spacing(1), -52.0))

    compiled = evaluated()
    monkeypatch.setattr(numba.config, "USING_SVML", True)
    scalar = evaluated()
    for a, b in zip(compiled, scalar):
        np.testing.assert_array_equal(a, b)
