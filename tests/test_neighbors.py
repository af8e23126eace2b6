"""DistanceNeighbors against the reference squareform(pdist(...)) flow."""

import numpy as np
import pytest
import sklearn
from scipy.spatial.distance import cdist, pdist, squareform
from sklearn.decomposition import PCA
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


# --- Beyond the full matrix: products (euclidean) and cdist chunks, against the references ---

import haralick_learn.neighbors.search as neighbors_module  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

SMALL_MEMORY = 1  # MiB: a 3000 x 3000 matrix (72 MB) does not fit, tiles stay small


def reference_kneighbors(X, k, queries=None, metric="euclidean"):
    """The reference ranking: full cdist rows, stable sort, (distance, index)."""
    if queries is None:
        block = cdist(X, X, metric)
        np.fill_diagonal(block, np.inf)
    else:
        block = cdist(queries, X, metric)
    ind = np.argsort(block, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(block, ind, axis=1), ind


@pytest.fixture
def product_path(monkeypatch):
    """Count the searches that go through the matrix products, even tiny ones."""
    monkeypatch.setattr(neighbors_module, "_PRODUCT_MIN_PAIRS", 0)
    calls = []
    original = DistanceNeighbors._product_search

    def spy(self, *args, **kwargs):
        done = original(self, *args, **kwargs)
        calls.append(done)
        return done

    monkeypatch.setattr(DistanceNeighbors, "_product_search", spy)
    return calls


@pytest.fixture(scope="module")
def random_rows():
    rng = np.random.default_rng(0)
    return rng.normal(size=(3000, 52))


@pytest.fixture(scope="module")
def random_rows_neighbours(random_rows):
    """The 5 nearest neighbours of each of ``random_rows``: scikit-learn's, the reference's
    (each 3000 x 3000 ranking takes a second: computed once for every ``n_jobs``), and the
    pdist matrix."""
    X = random_rows
    return (NearestNeighbors(n_neighbors=5, algorithm="brute").fit(X).kneighbors(),
            reference_kneighbors(X, 5), squareform(pdist(X)))


@pytest.mark.parametrize("n_jobs", [1, 2, None])
def test_large_path_equals_sklearn_and_the_reference(random_rows, random_rows_neighbours,
                                                     n_jobs):
    X = random_rows
    with sklearn.config_context(working_memory=SMALL_MEMORY):
        nn = DistanceNeighbors(n_neighbors=5, n_jobs=n_jobs).fit(X)
        with pytest.raises(MemoryError, match=r"3000 x 3000 matrix of 0\.1 GiB.*kneighbors"):
            nn.dists_
        dist, ind = nn.kneighbors()
    (ref_dist, ref_ind), (exact_dist, exact_ind), pdist_matrix = random_rows_neighbours
    np.testing.assert_array_equal(ind, ref_ind)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-10)
    # Bit for bit what the small-n path (pdist) gives.
    np.testing.assert_array_equal(ind, exact_ind)
    np.testing.assert_array_equal(dist, exact_dist)
    np.testing.assert_array_equal(dist, pdist_matrix[np.arange(len(X))[:, None], ind])


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_large_path_new_queries(random_rows, n_jobs, product_path):
    X, rng = random_rows, np.random.default_rng(1)
    queries = np.vstack([rng.normal(size=(400, 52)), X[:50]])  # fitted rows too: distance 0
    with sklearn.config_context(working_memory=SMALL_MEMORY):
        dist, ind = DistanceNeighbors(n_neighbors=7, n_jobs=n_jobs).fit(X).kneighbors(queries)
    assert product_path == [True]
    exact_dist, exact_ind = reference_kneighbors(X, 7, queries)
    np.testing.assert_array_equal(ind, exact_ind)
    np.testing.assert_array_equal(dist, exact_dist)
    sk_ind = NearestNeighbors(n_neighbors=7, algorithm="brute").fit(X).kneighbors(
        queries, return_distance=False)
    np.testing.assert_array_equal(ind, sk_ind)
    assert (ind[400:, 0] == np.arange(50)).all() and (dist[400:, 0] == 0).all()


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean"])
def test_large_path_duplicates_and_ties_by_index(metric, product_path):
    rng = np.random.default_rng(2)
    # Each row 6 times (zero-distance ties) and a small integer grid (many equal distances).
    X = np.vstack([np.repeat(rng.normal(size=(200, 6)), 6, axis=0),
                   rng.integers(0, 3, size=(800, 6)).astype(float)])
    X = X[rng.permutation(len(X))]
    with sklearn.config_context(working_memory=SMALL_MEMORY):
        nn = DistanceNeighbors(n_neighbors=9, metric=metric).fit(X)
        dist, ind = nn.kneighbors()
        new_dist, new_ind = nn.kneighbors(X[:300])
    assert product_path == [True, True]
    for got, expected in [((dist, ind), reference_kneighbors(X, 9, metric=metric)),
                          ((new_dist, new_ind), reference_kneighbors(X, 9, X[:300], metric))]:
        np.testing.assert_array_equal(got[1], expected[1])
        np.testing.assert_array_equal(got[0], expected[0])


def test_large_path_crowded_rows_fall_back_to_full_rows(product_path, monkeypatch):
    # Two points, each repeated 500 times: every query has 499 candidates at
    # distance 0, more than the candidate slots; those rows use full cdist rows.
    X = np.repeat([[0.0, 0.0], [3.0, 4.0]], 500, axis=0)
    full_rows = []
    original = DistanceNeighbors._cdist_rows
    monkeypatch.setattr(DistanceNeighbors, "_cdist_rows",
                        lambda self, q, *a: full_rows.append(len(q)) or original(self, q, *a))
    with sklearn.config_context(working_memory=SMALL_MEMORY):
        dist, ind = DistanceNeighbors(n_neighbors=3).fit(X).kneighbors()
    assert product_path == [True] and sum(full_rows) == 1000
    assert ind[0].tolist() == [1, 2, 3] and ind[999].tolist() == [500, 501, 502]
    np.testing.assert_array_equal(dist, np.zeros((1000, 3)))


def test_large_path_ranks_near_ties_exactly(product_path):
    # Neighbours whose distances differ in the last bits, far from the origin,
    # with a distant outlier inflating the rounding margin: the product keys
    # cannot order them; the exact re-ranking must.
    rng = np.random.default_rng(3)
    base = np.full(8, 1e4)
    directions = rng.normal(size=(300, 8))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    near = base + directions * (1.0 + rng.integers(-3, 4, size=(300, 1)) * 1e-15)
    X = np.vstack([near, [base * -10], rng.normal(size=(700, 8)) * 50 + base])
    queries = np.vstack([base, base + 1e-13])
    with sklearn.config_context(working_memory=SMALL_MEMORY):
        nn = DistanceNeighbors(n_neighbors=20).fit(X)
        dist, ind = nn.kneighbors(queries)
        train_dist, train_ind = nn.kneighbors()
    assert product_path == [True, True]
    exact_dist, exact_ind = reference_kneighbors(X, 20, queries)
    np.testing.assert_array_equal(ind, exact_ind)
    np.testing.assert_array_equal(dist, exact_dist)
    exact_dist, exact_ind = reference_kneighbors(X, 20)
    np.testing.assert_array_equal(train_ind, exact_ind)
    np.testing.assert_array_equal(train_dist, exact_dist)


def test_large_path_huge_values_use_cdist(product_path):
    X = np.random.default_rng(4).normal(size=(300, 4)) * 1e160  # squares overflow
    with sklearn.config_context(working_memory=0.1):
        dist, ind = DistanceNeighbors(n_neighbors=4).fit(X).kneighbors()
    assert product_path == [False]
    exact_dist, exact_ind = reference_kneighbors(X, 4)
    np.testing.assert_array_equal(ind, exact_ind)
    np.testing.assert_array_equal(dist, exact_dist)


@pytest.mark.parametrize("metric, params", [("cityblock", {}), ("minkowski", {"p": 3}),
                                            ("euclidean", {"w": np.arange(1.0, 5.0)})])
def test_other_metrics_search_cdist_chunks_in_threads(metric, params, product_path):
    X = np.random.default_rng(5).normal(size=(500, 4))
    full = DistanceNeighbors(n_neighbors=6, metric=metric, metric_params=params).fit(X)
    with sklearn.config_context(working_memory=0.05):
        chunked = DistanceNeighbors(n_neighbors=6, metric=metric, metric_params=params,
                                    n_jobs=2).fit(X)
        got = chunked.kneighbors()
        got_new = chunked.kneighbors(X[::3] + 0.1)
    assert product_path == []  # weighted euclidean included: only cdist knows "w"
    expected = full.kneighbors()
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_array_equal(got[0], expected[0])
    expected_new = full.kneighbors(X[::3] + 0.1)
    np.testing.assert_array_equal(got_new[1], expected_new[1])
    np.testing.assert_array_equal(got_new[0], expected_new[0])


@settings(max_examples=60, deadline=None)
@given(
    X=arrays(np.float64, st.tuples(st.integers(8, 60), st.integers(1, 5)),
             elements=st.sampled_from([-2.0, -0.5, 0.0, 0.1, 1.0, 3.0, 1e3, -1e-3])),
    k=st.integers(1, 6),
)
def test_large_path_equals_full_matrix_property(X, k):
    # Few distinct values: duplicates, ties and cancellation everywhere.
    k = min(k, len(X) - 1)
    expected = DistanceNeighbors(n_neighbors=k).fit(X).kneighbors()
    expected_new = DistanceNeighbors(n_neighbors=k).fit(X).kneighbors(X[::-2] * 0.5)
    with sklearn.config_context(working_memory=0.0001):
        original = neighbors_module._PRODUCT_MIN_PAIRS
        neighbors_module._PRODUCT_MIN_PAIRS = 0
        try:
            nn = DistanceNeighbors(n_neighbors=k, n_jobs=2).fit(X)
            got, got_new = nn.kneighbors(), nn.kneighbors(X[::-2] * 0.5)
        finally:
            neighbors_module._PRODUCT_MIN_PAIRS = original
    for a, b in [(got, expected), (got_new, expected_new)]:
        np.testing.assert_array_equal(a[1], b[1])
        np.testing.assert_array_equal(a[0], b[0])


def test_kneighbors_by_index_rows_equals_kneighbors_rows(random_rows, product_path):
    X = random_rows[:1500]
    rows = np.array([0, 7, 1499, 7])
    for memory in [1024, SMALL_MEMORY]:
        with sklearn.config_context(working_memory=memory):
            nn = DistanceNeighbors(n_neighbors=4).fit(X)
            dist, ind = nn.kneighbors_by_index(rows)
            all_dist, all_ind = nn.kneighbors()
        np.testing.assert_array_equal(ind, all_ind[rows])
        np.testing.assert_array_equal(dist, all_dist[rows])
    assert product_path == [True, True]  # small working_memory: the fitted rows and all rows


def test_n_jobs_none_uses_every_core_unless_joblib_says_otherwise():
    from joblib import cpu_count, parallel_config

    assert neighbors_module._n_threads(None) == cpu_count()
    assert neighbors_module._n_threads(1) == 1
    with parallel_config(n_jobs=1):
        assert neighbors_module._n_threads(None) == 1
    assert DistanceNeighbors(n_jobs=2).get_params()["n_jobs"] == 2


# --- Metrics whose parameters scipy estimates from the rows it is given; checked inputs ---


@pytest.fixture(scope="module", params=["sample images", "random rows"])
def rows_for_estimated_metrics(request, sample_features):
    if request.param == "sample images":
        return sample_features  # 90 x 52, standardized
    return np.random.default_rng(6).normal(size=(200, 6))


@pytest.mark.parametrize("metric", ["seuclidean", "mahalanobis"])
def test_estimated_metric_params_same_neighbours_on_every_path(rows_for_estimated_metrics,
                                                               metric):
    X = rows_for_estimated_metrics
    if metric == "mahalanobis" and X.shape[1] == 52:
        # the 52 Haralick columns are nearly combinations of one another: their covariance
        # is not inverted (see the next test); 10 principal components are, as advised
        with pytest.raises(ValueError, match="mahalanobis.*singular.*PCA"):
            DistanceNeighbors(metric=metric).fit(X)
        X = PCA(n_components=10, random_state=0).fit_transform(X)
    queries = X[::4] + 0.05
    k = 4
    full = DistanceNeighbors(n_neighbors=k, metric=metric).fit(X)
    np.testing.assert_array_equal(
        full.dists_, squareform(pdist(X, metric, **full.effective_metric_params_)))
    expected = full.kneighbors()
    expected_new = full.kneighbors(queries)
    with sklearn.config_context(working_memory=0.005):  # 5 KiB: no matrix, chunks of rows
        chunked = DistanceNeighbors(n_neighbors=k, metric=metric).fit(X)
        with pytest.raises(MemoryError):
            chunked.dists_
        got = chunked.kneighbors()
        got_new = chunked.kneighbors(queries)
    for a, b in [(got, expected), (got_new, expected_new)]:
        np.testing.assert_array_equal(a[1], b[1])
        np.testing.assert_array_equal(a[0], b[0])
    # One query at a time: a fitted row finds itself, then its kneighbors() row.
    for i in range(0, len(X), 7):
        dist, ind = full.kneighbors(X[i:i + 1], n_neighbors=k + 1)
        assert ind[0, 0] == i and dist[0, 0] == 0
        np.testing.assert_array_equal(ind[0, 1:], expected[1][i])
        np.testing.assert_array_equal(dist[0, 1:], expected[0][i])
    one_by_one = [full.kneighbors(q[None, :]) for q in queries]
    np.testing.assert_array_equal(np.vstack([ind for _, ind in one_by_one]), expected_new[1])
    np.testing.assert_array_equal(np.vstack([d for d, _ in one_by_one]), expected_new[0])


def test_estimated_metric_params_are_those_of_pdist_over_the_fitted_rows():
    X = np.random.default_rng(7).normal(size=(50, 3)) * [1.0, 10.0, 100.0]
    seuclidean = DistanceNeighbors(metric="seuclidean").fit(X)
    np.testing.assert_array_equal(seuclidean.effective_metric_params_["V"],
                                  np.var(X, axis=0, ddof=1))
    mahalanobis = DistanceNeighbors(metric="mahalanobis").fit(X)
    # LAPACK's inverse to rounding (its last digits follow the BLAS kernel; these do not)
    np.testing.assert_allclose(mahalanobis.effective_metric_params_["VI"],
                               np.linalg.inv(np.cov(X.T)).T, rtol=1e-13, atol=0)
    np.testing.assert_allclose(mahalanobis.dists_, squareform(pdist(X, "mahalanobis")),
                               rtol=1e-13)
    # New queries are measured with the fitted rows' variances, as the reference would.
    queries = X[:5] * 3.0
    expected = cdist(queries, X, "seuclidean", V=np.var(X, axis=0, ddof=1))
    dist, ind = seuclidean.kneighbors(queries, n_neighbors=3)
    np.testing.assert_array_equal(ind, np.argsort(expected, axis=1, kind="stable")[:, :3])
    np.testing.assert_array_equal(dist, np.take_along_axis(expected, ind, axis=1))
    # Given variances are used as they are; the constructor's dict is left alone.
    params = {"V": np.ones(3)}
    given = DistanceNeighbors(metric="seuclidean", metric_params=params).fit(X)
    assert given.effective_metric_params_["V"] is params["V"] and list(params) == ["V"]
    np.testing.assert_array_equal(given.dists_, squareform(pdist(X, "euclidean")))


def test_estimated_metric_params_that_cannot_be_estimated_are_clear_errors():
    X = np.random.default_rng(8).normal(size=(30, 4))
    with pytest.raises(ValueError, match=r"seuclidean.*feature\(s\) \[2\] are constant"):
        DistanceNeighbors(metric="seuclidean").fit(np.c_[X[:, :2], np.ones(30), X[:, 2:]])
    with pytest.raises(ValueError, match="seuclidean.*at least 2 rows, got 1"):
        DistanceNeighbors(metric="seuclidean").fit(X[:1])
    with pytest.raises(ValueError, match="mahalanobis.*singular with 4 rows of 4 features"):
        DistanceNeighbors(metric="mahalanobis").fit(X[:4])
    with pytest.raises(ValueError, match=r"mahalanobis.*singular.*linear combinations"):
        DistanceNeighbors(metric="mahalanobis").fit(np.c_[X, X[:, 0] - 2 * X[:, 1]])
    with pytest.raises(ValueError, match=r"mahalanobis.*singular: feature\(s\) \[4\] are const"):
        DistanceNeighbors(metric="mahalanobis").fit(np.c_[X, np.zeros(30)])
    # features so large their products overflow, so small their squares underflow
    overflow = r"mahalanobis.*overflows float64.*as large as \d\.\de\+160"
    with pytest.raises(ValueError, match=overflow):
        DistanceNeighbors(metric="mahalanobis").fit(X * 1e160)
    with pytest.raises(ValueError, match=r"mahalanobis.*\[0, 1, 2, 3\] vary too little"):
        DistanceNeighbors(metric="mahalanobis").fit(X * 1e-160)
    # nearly a combination: an inverse of rounding, whose distances and neighbours would
    # follow the machine
    nearly = np.c_[X, X[:, 0] + X[:, 1] + 1e-9 * X[:, 2]]
    with pytest.raises(ValueError, match=r"mahalanobis.*condition number is \d\.\de\+1[2-9]"):
        DistanceNeighbors(metric="mahalanobis").fit(nearly)


def test_mahalanobis_takes_features_of_any_scale():
    """Mahalanobis distances do not depend on the features' units, nor does the accuracy of
    the covariance's Cholesky factor: features of scales far apart (the sum variance and the
    difference variance of scikit-image's photographs, standard deviations 1e3 and 1e-3,
    correlation's condition number 3) are no nearly singular covariance."""
    from skimage import data

    images = [data.camera(), data.coins(), data.moon(), data.page(), data.text(), data.brick(),
              data.grass(), data.gravel(), data.clock(), data.cell()]
    crops = [image[y:y + 64, x:x + 64] for image in images
             for y in range(0, 129, 64) for x in range(0, 129, 64)]
    X = HaralickFeaturizer(aggregate="mean").fit_transform(crops)[:, [6, 9]]
    assert X.std(axis=0)[0] / X.std(axis=0)[1] > 1e5
    fitted = DistanceNeighbors(metric="mahalanobis").fit(X)
    np.testing.assert_allclose(fitted.dists_, squareform(pdist(X, "mahalanobis")), rtol=1e-12)
    for units in ([1e-3, 1e3], [1e100, 1e-100]):  # the same distances in other units
        np.testing.assert_allclose(
            DistanceNeighbors(metric="mahalanobis").fit(X * units).dists_, fitted.dists_,
            rtol=1e-12)


def test_jensenshannon_rejects_rows_that_are_not_probability_vectors(sample_features):
    with pytest.raises(ValueError, match=r"jensenshannon.*non-negative.*row 0 \(and \d+ other "
                                         r"rows\) has negative values.*Standardized"):
        DistanceNeighbors(metric="jensenshannon").fit(sample_features)
    histograms = np.random.default_rng(9).random(size=(40, 8))
    nn = DistanceNeighbors(n_neighbors=3, metric="jensenshannon").fit(histograms)
    np.testing.assert_array_equal(nn.dists_, squareform(pdist(histograms, "jensenshannon")))
    assert np.isfinite(nn.kneighbors(histograms[:5] * 2)[0]).all()
    queries = histograms[:3].copy()
    queries[2, 5] = -0.25
    with pytest.raises(ValueError, match=r"query rows X.*row 2 has negative values "
                                         r"\(feature 5 is -0.25\)"):
        nn.kneighbors(queries)
    with pytest.raises(ValueError, match="row 1 is all zero"):
        nn.kneighbors(np.vstack([histograms[0], np.zeros(8)]))
    with pytest.raises(ValueError, match="row 3 is all zero"):
        DistanceNeighbors(metric="jensenshannon").fit(np.vstack([histograms, np.zeros((1, 8))])
                                                      [[0, 1, 2, 40, 3]])


@pytest.mark.parametrize("working_memory", [1024, 0.001])  # matrix path, chunked path
def test_unknown_metric_params_key_is_a_short_error_at_fit(working_memory):
    X = np.random.default_rng(10).normal(size=(40, 3))
    with sklearn.config_context(working_memory=working_memory):
        with pytest.raises(TypeError, match=r"^metric_params key 'q' is not a parameter of "
                                            r"metric 'minkowski' \(scipy") as error:
            DistanceNeighbors(metric="minkowski", metric_params={"p": 3, "q": 3}).fit(X)
        assert len(str(error.value)) < 200 and "array" not in str(error.value)
        with pytest.raises(TypeError, match="keys 'VI', 'p' are not parameters of metric "
                                            "'seuclidean'"):
            DistanceNeighbors(metric="seuclidean",
                              metric_params={"VI": np.eye(3), "p": 1}).fit(X)

        def scaled(a, b, scale=1.0):
            return scale * np.abs(a - b).sum()

        with pytest.raises(TypeError, match="key 'w' is not a parameter of the metric "
                                            "callable scaled$"):
            DistanceNeighbors(metric=scaled, metric_params={"w": 2.0}).fit(X)
        nn = DistanceNeighbors(metric=scaled, metric_params={"scale": 2.0}).fit(X)
        assert nn.kneighbors(X[:2], n_neighbors=1)[0][0, 0] == 0.0
