"""DistanceNeighbors(algorithm="nndescent"): pynndescent's graph, measured against the exact search.

The rows are real: the standardised Haralick features of 32 x 32 patches of
scikit-learn's two photographs. The reference is the exact search
(``algorithm="brute"``) and scipy's ``cdist``.

The tests that build a graph are marked slow: pynndescent compiles its numba code
again in each new process (30-40 s of CPU).
"""

import importlib.util
import pickle
import sys

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.preprocessing import StandardScaler

from haralick_learn import DistanceNeighbors, HaralickFeaturizer
from haralick_learn.io.decode import load_image

# Whether it is installed, without importing it: its import compiles numba code for about 20 s
# in each test process, and only the slow tests build a graph.
if importlib.util.find_spec("pynndescent") is None:
    pytest.skip("pynndescent is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def rows(jpeg_paths):
    patches = []
    for path in jpeg_paths:
        windows = np.lib.stride_tricks.sliding_window_view(load_image(path), (32, 32))
        patches.append(windows[::12, ::12].reshape(-1, 32, 32))
    features = HaralickFeaturizer().fit_transform(np.concatenate(patches))
    return StandardScaler().fit_transform(features[np.isfinite(features).all(axis=1)])


@pytest.fixture(scope="module")
def approximate(rows):
    return DistanceNeighbors(algorithm="nndescent",
                             algorithm_params={"random_state": 0}).fit(rows)


def recall(found, exact):
    return np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, exact)])


@pytest.mark.slow
def test_recall_against_the_exact_search(rows, approximate):
    exact = DistanceNeighbors().fit(rows)
    queries = rows[::5] + 0.05
    found = approximate.kneighbors(queries, return_distance=False)
    assert recall(found, exact.kneighbors(queries, return_distance=False)) >= 0.95
    found = approximate.kneighbors(return_distance=False)
    assert recall(found, exact.kneighbors(return_distance=False)) >= 0.95


@pytest.mark.slow
def test_distances_are_exact_and_ranked(rows, approximate):
    queries = rows[:300] * 1.01
    dist, ind = approximate.kneighbors(queries, n_neighbors=7)
    # Each returned distance is scipy's, bit for bit; ranked by (distance, index).
    want = np.take_along_axis(cdist(queries, rows), ind, axis=1)
    np.testing.assert_array_equal(dist, want)
    order = np.lexsort((ind, dist), axis=1)
    np.testing.assert_array_equal(order, np.broadcast_to(np.arange(7), order.shape))


@pytest.mark.slow
def test_fitted_rows_are_not_their_own_neighbours(rows, approximate):
    dist, ind = approximate.kneighbors()
    assert ind.shape == (rows.shape[0], 5)
    assert not (ind == np.arange(rows.shape[0])[:, None]).any()
    picked = [3, 0, -1, 3]
    by_index = approximate.kneighbors_by_index(picked)
    np.testing.assert_array_equal(by_index[1], ind[picked])
    np.testing.assert_array_equal(by_index[0], dist[picked])


@pytest.mark.slow
def test_pickled_index_answers_the_same(rows, approximate):
    copy = pickle.loads(pickle.dumps(approximate))
    queries = rows[::50] + 0.1
    for got, want in zip(copy.kneighbors(queries), approximate.kneighbors(queries)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.slow
def test_no_distance_matrix(approximate):
    with pytest.raises(AttributeError, match="algorithm='brute'"):
        approximate.dists_


@pytest.mark.parametrize("params", [dict(metric="cityblock"),
                                    dict(metric="euclidean", metric_params={"w": None})])
def test_other_metrics_are_refused(rows, params):
    with pytest.raises(ValueError, match="algorithm='nndescent' searches metric 'euclidean'"):
        DistanceNeighbors(algorithm="nndescent", **params).fit(rows[:50])


def test_missing_pynndescent_names_the_extra(rows, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynndescent", None)
    with pytest.raises(ImportError, match=r"haralick_learn\[approximate\]"):
        DistanceNeighbors(algorithm="nndescent").fit(rows[:50])


@pytest.mark.slow
def test_any_n_jobs_builds_the_graph(rows):
    """joblib's n_jobs, as the exact search takes it: -2 (all cores but one), more than cores."""
    import os

    cores = os.cpu_count()
    params = {"algorithm": "nndescent", "algorithm_params": {"random_state": 0}}
    for n_jobs, same_as in [(cores + 1, -1), (-cores - 1, 1)]:  # all cores; one core
        got = DistanceNeighbors(n_jobs=n_jobs, **params).fit(rows).kneighbors()
        want = DistanceNeighbors(n_jobs=same_as, **params).fit(rows).kneighbors()
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
    # in algorithm_params too, as an index file made on a machine of more cores holds it
    more = {"algorithm": "nndescent", "algorithm_params": {"random_state": 0, "n_jobs": 64}}
    got = DistanceNeighbors(**more).fit(rows).kneighbors()
    for a, b in zip(got, DistanceNeighbors(n_jobs=-1, **params).fit(rows).kneighbors()):
        np.testing.assert_array_equal(a, b)
