"""HaralickFeaturizer on a real Dask cluster, through joblib's ``dask`` backend.

The cluster has 2 worker processes (tests marked slow: their workers take seconds to
start); the default run has the same cluster with its 2 workers in this process. The
featurizer's code is unchanged: its joblib ``Parallel`` call goes to the cluster inside
``joblib.parallel_config(backend="dask")``.

Dask's nanny starts each worker with ``OMP_NUM_THREADS=1`` /
``OPENBLAS_NUM_THREADS=1``, and the reference backend (mahotas) calls BLAS,
whose sums depend on its thread count in the last bits. So the ``n_jobs=1``
rows compared with are computed with BLAS limited to one thread too: same
arithmetic, so the rows must be *equal*, not merely close.
"""

import os
import warnings

import joblib
import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from threadpoolctl import threadpool_limits  # noqa: E402  (a scikit-learn dependency)

import haralick_learn  # noqa: E402
from haralick_learn import HaralickFeaturizer, ImageFeaturizationWarning  # noqa: E402
from haralick_learn.datasets import load_sample_images  # noqa: E402


@pytest.fixture(scope="module")
def images(jpeg_paths):
    """The 90 shipped sample images and scikit-learn's two photographs."""
    return load_sample_images().paths + jpeg_paths


def reference(paths, **params):
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ImageFeaturizationWarning)
        return HaralickFeaturizer(n_jobs=1, **params).fit_transform(paths)


def _install_recorder():
    """On a worker: record what each featurization task receives and computes."""
    from haralick_learn import _featurizer, _pipeline

    if not hasattr(_featurizer, "_recorded"):
        _featurizer._recorded = {"received": [], "computed": 0}
        featurize_batch, sample_levels = _pipeline.featurize_batch, _pipeline.sample_levels

        def recording_featurize_batch(images, *args):
            _featurizer._recorded["received"].extend(
                image if isinstance(image, str) else type(image).__name__ for image in images
            )
            return featurize_batch(images, *args)

        def counting_sample_levels(*args):
            _featurizer._recorded["computed"] += 1
            return sample_levels(*args)

        _pipeline.featurize_batch = recording_featurize_batch
        _pipeline.sample_levels = counting_sample_levels
    recorded = dict(_featurizer._recorded)
    _featurizer._recorded.update(received=[], computed=0)
    return {"pid": os.getpid(), "package": haralick_learn.__file__, **recorded}


def recorded(client):
    """What the workers received and computed since the last call."""
    return list(client.run(_install_recorder).values())


@pytest.fixture(params=["threads", pytest.param("processes", marks=pytest.mark.slow)])
def any_client(request):
    """The cluster with its workers in this process (default run), or in their own (slow)."""
    return request.getfixturevalue("threaded_client" if request.param == "threads" else "client")


@pytest.mark.slow
def test_workers_import_this_checkout(client):
    for worker in recorded(client):
        assert worker["package"] == haralick_learn.__file__
        assert worker["pid"] != os.getpid()


@pytest.mark.slow
def test_dask_backend_gives_the_same_rows_in_order(client, images):
    expected = reference(images)
    recorded(client)
    with joblib.parallel_config(backend="dask"):
        got = HaralickFeaturizer().fit_transform(images)
    np.testing.assert_array_equal(got, expected)
    workers = recorded(client)
    # Both workers took part, and every task received a path, never pixels.
    assert all(worker["received"] for worker in workers)
    received = [item for worker in workers for item in worker["received"]]
    assert sorted(received) == sorted(images)
    assert sum(worker["computed"] for worker in workers) == len(images)


def test_dask_backend_with_other_parameters(any_client, images):
    params = dict(distance=[1, 3], aggregate="mean_ptp", levels=64, on_error="nan")
    paths = images[::10] + ["/nonexistent/image.jpg"]
    expected = reference(paths, **params)
    with joblib.parallel_config(backend="dask"), \
            pytest.warns(ImageFeaturizationWarning, match="1 of"):
        got = HaralickFeaturizer(**params).fit_transform(paths)
    np.testing.assert_array_equal(got, expected)
    assert np.isnan(got[-1]).all()


@pytest.mark.slow
def test_workers_fill_and_share_one_cache(client, images, tmp_path):
    paths = images[::6]
    expected = reference(paths)
    featurizer = HaralickFeaturizer(memory=tmp_path)
    recorded(client)
    with joblib.parallel_config(backend="dask"):
        first = featurizer.fit_transform(paths)
        assert sum(worker["computed"] for worker in recorded(client)) == len(paths)
        second = featurizer.fit_transform(paths)
        assert sum(worker["computed"] for worker in recorded(client)) == 0
    np.testing.assert_array_equal(first, expected)
    np.testing.assert_array_equal(second, expected)
    # The client reads what the workers wrote.
    np.testing.assert_array_equal(featurizer.fit_transform(paths), expected)


def test_errors_reach_the_client_with_their_message(any_client, images, tmp_path):
    missing = str(tmp_path / "missing.jpg")
    with joblib.parallel_config(backend="dask"), pytest.raises(FileNotFoundError,
                                                                match="missing.jpg"):
        HaralickFeaturizer().fit_transform(images[:3] + [missing])
