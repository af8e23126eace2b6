"""DistanceNeighbors against the reference squareform(pdist(...)) flow."""

import numpy as np
import pytest
import sklearn
from scipy.spatial.distance import cdist, pdist, squareform
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from haralick_learn import DistanceNeighbors, HaralickFeaturizer
from haralick_learn.datasets import load_sample_images


@pytest.fixture(scope="module")
def sample_features():
    paths = load_sample_images().paths
    return make_pipeline(HaralickFeaturizer(), StandardScaler()).fit_transform(paths)


def test_dists_equal_squareform_pdist(sample_features):
    nn = DistanceNeighbors().fit(sample_features)
    np.testing.assert_array_equal(nn.dists_, squareform(pdist(sample_features)))


@pytest.mark.parametrize("metric", ["euclidean", "cityblock", "cosine", "chebyshev"])
def test_ranking_reproduces_reference_argsort(sample_features, metric):
    dists = squareform(pdist(sample_features, metric))
    dist, ind = DistanceNeighbors(n_neighbors=3, metric=metric).fit(sample_features).kneighbors()
    for n in range(len(dists)):
        # The tutorial: position m of dists[n].argsort(), m = 1..3 (0 is the image itself).
        expected = [dists[n].argsort()[m] for m in (1, 2, 3)]
        assert ind[n].tolist() == expected
        np.testing.assert_array_equal(dist[n], dists[n][expected])


def test_new_queries_match_cdist(sample_features):
    fit, queries = sample_features[:60], sample_features[60:]
    dist, ind = DistanceNeighbors(n_neighbors=4).fit(fit).kneighbors(queries)
    full = cdist(queries, fit)
    np.testing.assert_array_equal(ind, np.argsort(full, axis=1, kind="stable")[:, :4])
    np.testing.assert_array_equal(dist, np.take_along_axis(full, ind, axis=1))


def test_agrees_with_sklearn_nearest_neighbors(sample_features):
    ours = DistanceNeighbors(n_neighbors=5).fit(sample_features).kneighbors()
    ref = NearestNeighbors(n_neighbors=5, algorithm="brute").fit(sample_features).kneighbors()
    np.testing.assert_array_equal(ours[1], ref[1])
    np.testing.assert_allclose(ours[0], ref[0], rtol=1e-12)


def test_chunked_path_matches_full_matrix(sample_features):
    full = DistanceNeighbors(n_neighbors=5).fit(sample_features)
    with sklearn.config_context(working_memory=0.02):  # 20 KB: forces tiny chunks, no matrix
        chunked = DistanceNeighbors(n_neighbors=5).fit(sample_features)
        with pytest.raises(MemoryError, match="90 x 90 matrix.*kneighbors"):
            chunked.dists_
        got = chunked.kneighbors()
    expected = full.kneighbors()
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_array_equal(got[0], expected[0])


def test_duplicates_and_ties_are_ranked_by_index():
    X = np.array([[0.0], [0.0], [1.0], [-1.0], [0.0]])
    dist, ind = DistanceNeighbors(n_neighbors=4).fit(X).kneighbors()
    assert ind[0].tolist() == [1, 4, 2, 3]  # a duplicate is a neighbour, the row itself is not
    assert ind[1].tolist() == [0, 4, 2, 3]
    assert dist[0].tolist() == [0.0, 0.0, 1.0, 1.0]


def test_metric_params_and_callable():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    p3 = DistanceNeighbors(metric="minkowski", metric_params={"p": 3}).fit(X)
    np.testing.assert_allclose(p3.dists_, squareform(pdist(X, "minkowski", p=3)))
    manhattan = DistanceNeighbors(metric=lambda a, b: np.abs(a - b).sum()).fit(X)
    np.testing.assert_allclose(manhattan.dists_, squareform(pdist(X, "cityblock")))


def test_too_many_neighbors_is_a_clear_error():
    X = np.arange(8.0).reshape(4, 2)
    nn = DistanceNeighbors().fit(X)
    with pytest.raises(ValueError, match="n_neighbors <= 3.*less the query itself"):
        nn.kneighbors(n_neighbors=4)
    with pytest.raises(ValueError, match="n_neighbors <= 4"):
        nn.kneighbors(X, n_neighbors=5)
    assert nn.kneighbors(X, n_neighbors=4, return_distance=False).shape == (4, 4)
