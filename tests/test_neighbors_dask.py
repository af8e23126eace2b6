"""DistanceNeighbors on a real Dask cluster, through joblib's ``dask`` backend.

The cluster has 2 worker processes (tests marked slow: their workers take seconds to
start); the default run has the same cluster with its 2 workers in this process. Inside
``joblib.parallel_config(backend="dask")``
``kneighbors`` sends blocks of queries to the workers; the reference is the
same estimator searched on this machine, outside any joblib context: the
results must be *equal*, index for index and bit for bit. The rows are real:
the Haralick features of patches of scikit-learn's two photographs, with
exact duplicates added so that ties (ranked by index) are exercised.
"""

import os
import pickle

import joblib
import numpy as np
import pytest
from sklearn import config_context
from sklearn.preprocessing import StandardScaler

distributed = pytest.importorskip("distributed")

from haralick_learn import DistanceNeighbors, HaralickFeaturizer  # noqa: E402
from haralick_learn.io.decode import load_image  # noqa: E402


@pytest.fixture(scope="module")
def rows(jpeg_paths):
    """About 2,500 standardised feature rows of 32 x 32 patches, 40 of them duplicated."""
    patches = []
    for path in jpeg_paths:
        gray = load_image(path)
        windows = np.lib.stride_tricks.sliding_window_view(gray, (32, 32))[::16, ::16]
        patches.append(windows.reshape(-1, 32, 32))
    features = HaralickFeaturizer().fit_transform(np.concatenate(patches))
    features = features[np.isfinite(features).all(axis=1)]
    features = np.concatenate([features, features[::60]])
    return StandardScaler().fit_transform(features)


def _install_recorder():
    """On a worker: record, per block searched, its size and the fitted rows' identity."""
    from haralick_learn.neighbors import search as _neighbors

    if not hasattr(_neighbors, "_recorded"):
        _neighbors._recorded = []
        search_block = _neighbors._search_block

        def recording(shell, fitted, queries, exclude, k):
            size = len(exclude) if queries is None else len(queries)
            # Kept alive, so that two copies of the rows can never share an id.
            _neighbors._recorded.append((id(fitted), size, fitted))
            return search_block(shell, fitted, queries, exclude, k)

        _neighbors._search_block = recording
    recorded = [(fitted_id, size) for fitted_id, size, _ in _neighbors._recorded]
    _neighbors._recorded.clear()
    return {"pid": os.getpid(), "blocks": recorded}


def recorded(client):
    return list(client.run(_install_recorder).values())


def test_dask_search_in_this_process_equals_the_local_one(threaded_client, rows, monkeypatch):
    from haralick_learn.neighbors import search as _neighbors

    search_block = _neighbors._search_block

    def counting(shell, fitted, queries, exclude, k):
        _neighbors._searched.append(len(exclude) if queries is None else len(queries))
        return search_block(shell, fitted, queries, exclude, k)

    # The tasks travel pickled even within this process: the list is kept on the module,
    # which unpickles as this very module.
    monkeypatch.setattr(_neighbors, "_searched", [], raising=False)
    searched = _neighbors._searched
    monkeypatch.setattr(_neighbors, "_search_block", counting)
    with config_context(working_memory=1):  # no full matrix: the chunked search
        search = DistanceNeighbors(n_neighbors=6).fit(rows)
        queries = rows[::7] + 0.01
        expected = [search.kneighbors(), search.kneighbors(queries)]
        assert not searched  # the local search ships no block
        with joblib.parallel_config(backend="dask"):
            got = [search.kneighbors(), search.kneighbors(queries)]
    for (dist, ind), (want_dist, want_ind) in zip(got, expected):
        np.testing.assert_array_equal(ind, want_ind)
        np.testing.assert_array_equal(dist, want_dist)  # bit for bit
    assert len(searched) > 2 and sum(searched) == rows.shape[0] + queries.shape[0]


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cityblock"])
def test_dask_search_equals_the_local_one(client, rows, metric):
    with config_context(working_memory=1):  # no full matrix: the chunked search
        search = DistanceNeighbors(n_neighbors=6, metric=metric).fit(rows)
        assert search._dists is None
        queries = rows[::7] + 0.01
        expected = [search.kneighbors(), search.kneighbors(queries),
                    search.kneighbors_by_index([5, 0, -1, 5])]
        recorded(client)
        with joblib.parallel_config(backend="dask"):
            got = [search.kneighbors(), search.kneighbors(queries),
                   search.kneighbors_by_index([5, 0, -1, 5])]
    for (dist, ind), (want_dist, want_ind) in zip(got, expected):
        np.testing.assert_array_equal(ind, want_ind)
        np.testing.assert_array_equal(dist, want_dist)  # bit for bit
    workers = recorded(client)
    # Both workers searched blocks; every query was searched once.
    assert all(worker["blocks"] for worker in workers)
    assert all(worker["pid"] != os.getpid() for worker in workers)
    searched = sum(size for worker in workers for _, size in worker["blocks"])
    assert searched == rows.shape[0] + queries.shape[0] + 4


@pytest.mark.slow
def test_fitted_rows_travel_once_per_worker(client, rows):
    with config_context(working_memory=1):
        search = DistanceNeighbors().fit(rows)
        recorded(client)
        with joblib.parallel_config(backend="dask"):
            search.kneighbors()
    workers = recorded(client)
    # 4 blocks per worker thread; all the blocks a worker searched read one copy of the rows.
    assert sum(len(worker["blocks"]) for worker in workers) == 8
    for worker in workers:
        assert len({fitted_id for fitted_id, _ in worker["blocks"]}) <= 1
    # What travels with each block is the estimator without its rows.
    shell = search.__class__(**search.get_params())
    assert len(pickle.dumps(shell)) < 2000 < rows.nbytes


def test_local_backends_keep_the_thread_search(rows, monkeypatch):
    from haralick_learn.neighbors import search as _neighbors

    def fail(*args):
        raise AssertionError("a local backend must not ship blocks")

    monkeypatch.setattr(_neighbors, "_search_block", fail)
    with config_context(working_memory=1):
        search = DistanceNeighbors().fit(rows[:500])
        expected = search.kneighbors()
        for backend in ("loky", "threading"):
            with joblib.parallel_config(backend=backend, n_jobs=2):
                got = search.kneighbors()
            np.testing.assert_array_equal(got[1], expected[1])
