"""Real photographs shipped by installed packages, used as test data.

Licences (as stated by the shipping packages):
- scikit-learn ``datasets/images/china.jpg``, ``flower.jpg``: CC BY 2.0
  (see sklearn/datasets/images/README.txt).
- scikit-image ``data/rocket.jpg`` (NASA, public domain), ``data/coffee.png``,
  ``data/chelsea.png`` and ``data/astronaut.png`` (CC0 / public domain, see
  the docstrings of skimage.data).
- haralick_learn's own sample images (CC0, see haralick_learn/datasets/data/README.md).
"""

import os
import signal
import time
from contextlib import contextmanager

import mahotas
import numpy as np
import pytest
from hypothesis import settings

# Property tests: on a developer's machine each run explores new examples and the examples
# database (.hypothesis/) replays every failure found until it is fixed; under CI (CI=true)
# the examples are derived from each test itself, so a run cannot go red by chance.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")

#: Relative tolerance of every parity test against the reference (mahotas).
RTOL = 1e-10
#: The featurizer's option that reproduces the tutorial's ``mahotas.colors.rgb2gray`` bit for bit
#: (on this machine): parity tests on colour photographs compare with it.
MAHOTAS_GRAY = {"gray_conversion": "mahotas"}
#: The featurizer's backends, each tested against the reference.
BACKENDS = ["auto", "mahotas"]


def reference_gray(path):
    """The tutorial's loading: ``mahotas.imread`` then ``rgb2gray`` to uint8."""
    return mahotas.colors.rgb2gray(mahotas.imread(path), dtype=np.uint8)


def reference_row(path, **options):
    """The tutorial's row: ``mahotas.features.haralick`` of the reference gray image."""
    return mahotas.features.haralick(reference_gray(path), **options).ravel()


#: What each test worker compiles first, by worker (the first worker the first part, ...):
#: the kernels most tests run, compiled by one worker and read by the others from numba's cache
#: on disk, rather than compiled again by each (about a third of a cold run's compiling).
_WARM_PARTS = ("regions", "maps")


def _warm(part):
    """Run the kernels of ``part`` once on small real images (their compiled code is cached)."""
    import skimage.data

    from haralick_learn import HaralickFeaturizer, region_features, texture_maps

    image = skimage.data.coins()[:48, :64]
    if part == "regions":
        labels = (image > 110).astype(np.int32) + 1
        for params in ({}, {"features": "ibsi", "bin_width": 25, "aggregate": "mean"},
                       {"features": "ibsi", "levels": 64}):
            region_features(image, labels, on_error="nan", **params)
        HaralickFeaturizer().fit_transform([image])
    else:
        texture_maps(image[:24, :24], window=5)
        texture_maps(image[:24, :24], window=5, symmetric=False)


@pytest.fixture(scope="session", autouse=True)
def _kernels_compiled_once(request, worker_id, tmp_path_factory):
    """With several test workers and most of the suite to run, each compiles its part of
    :data:`_WARM_PARTS` first, then waits (at most a few minutes) until the others have theirs
    in the cache. A few tests chosen by hand compile only what they run."""
    n_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if worker_id == "master" or n_workers < 2 or len(request.session.items) < 200:
        yield
        return
    shared = tmp_path_factory.getbasetemp().parent  # one folder for the session's workers
    part = _WARM_PARTS[int(worker_id.lstrip("gw")) % len(_WARM_PARTS)]
    try:
        _warm(part)
    except Exception:  # noqa: BLE001 - a failure shows in the tests that run the same code
        pass
    (shared / f"{part}.{worker_id}.warm").touch()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not all(
            any(shared.glob(f"{other}.*.warm")) for other in _WARM_PARTS):
        time.sleep(0.2)
    yield


@pytest.fixture(scope="session", autouse=True)
def _single_threaded_blas():
    """BLAS on one thread in the test process (fresh processes keep their default).

    The suite's linear algebra is on small matrices (the 14th feature's 256 x 256
    eigenproblems, classifiers of 90 rows), where a second BLAS thread only waits for the
    first: on a busy 2-core machine the threads' waiting doubled the run's CPU time.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


class TookTooLong(Exception):
    """Not an OSError, which glob would swallow."""


@contextmanager
def time_limit(seconds):
    """Fail, instead of hanging, when the block takes longer than ``seconds`` (SIGALRM)."""
    def stop(signum, frame):
        raise TookTooLong(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def exact_reference_row(path, **options):
    """mahotas's features of the default (exact) gray image of ``path``.

    The exact conversion is checked against mahotas's ``rgb2gray`` colour by colour in
    ``test_kernels.py``; here mahotas computes the features.
    """
    from haralick_learn.preprocess.gray import rgb_to_gray_uint8

    image = mahotas.imread(path)
    gray = image if image.ndim == 2 else rgb_to_gray_uint8(image[..., :3])
    return mahotas.features.haralick(gray, **options).ravel()


def stack_of_crops(gray, depth, size, top=0, left=0):
    """A real volume: ``depth`` consecutive ``size x size`` crops, one row apart."""
    return np.ascontiguousarray(
        np.stack([gray[top + z : top + z + size, left : left + size] for z in range(depth)])
    )


def _package_file(module_name, *parts):
    module = pytest.importorskip(module_name)
    path = os.path.join(os.path.dirname(module.__file__), *parts)
    if not os.path.exists(path):
        pytest.skip(f"{path} is not shipped by this {module_name} install")
    return path


SKLEARN_JPEGS = ["china.jpg", "flower.jpg"]
SKIMAGE_PHOTOS = ["rocket.jpg", "coffee.png", "chelsea.png", "astronaut.png"]


@pytest.fixture(scope="session")
def photo_paths():
    """Paths of real RGB photographs (JPEG and PNG) on disk."""
    paths = [_package_file("sklearn.datasets", "images", name) for name in SKLEARN_JPEGS]
    paths += [_package_file("skimage.data", name) for name in SKIMAGE_PHOTOS]
    return paths


@pytest.fixture(scope="session")
def jpeg_paths():
    """Real RGB JPEG photographs from scikit-learn."""
    return [_package_file("sklearn.datasets", "images", name) for name in SKLEARN_JPEGS]


def _local_cluster_client(processes):
    import logging

    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=":0",  # a free port: None still takes 8787, which another may hold
        silence_logs=logging.ERROR,
    ) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def client():
    """A 2-worker Dask ``LocalCluster`` (processes) and its client, per test module.

    Its workers start in seconds of CPU each: the tests that use it are marked slow.
    """
    yield from _local_cluster_client(processes=True)


@pytest.fixture(scope="module")
def threaded_client():
    """A 2-worker Dask ``LocalCluster`` in this process (a thread each): starts in 0.1 s.

    The same scheduler, tasks and joblib backend as across processes, for the default run.
    """
    yield from _local_cluster_client(processes=False)


def run_cli(capsys, *args):
    """Run ``haralick-learn`` in this process: (exit code, standard output, standard error)."""
    from haralick_learn.cli import main

    capsys.readouterr()
    try:
        code = main([str(arg) for arg in args])
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err
