"""DistanceNeighbors: exact nearest neighbours over feature rows."""

from numbers import Integral

import numpy as np
from scipy.spatial.distance import cdist, pdist, squareform
from sklearn import get_config
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

# The metrics scipy.spatial.distance.pdist and cdist accept by name.
SCIPY_METRICS = frozenset(
    {
        "braycurtis", "canberra", "chebyshev", "cityblock", "correlation", "cosine",
        "dice", "euclidean", "hamming", "jaccard", "jensenshannon", "mahalanobis",
        "minkowski", "rogerstanimoto", "russellrao", "seuclidean", "sokalsneath",
        "sqeuclidean", "yule",
    }
)


class DistanceNeighbors(BaseEstimator):
    """Exact nearest neighbours of feature rows, with scipy's distances.

    For a collection whose full distance matrix fits in scikit-learn's
    ``working_memory`` (see :func:`sklearn.set_config`), ``fit`` computes
    ``dists_ = squareform(pdist(X, metric))``, exactly the matrix of the
    hand-written reference, and neighbours are read from it. Larger
    collections are searched in chunks of rows that each fit in
    ``working_memory``, with the same results.

    Neighbours are ordered by distance, ties by index (a stable sort), which
    is the reference's ``dists[n].argsort()`` ranking whenever distances are
    distinct.

    Parameters
    ----------
    n_neighbors : int, default=5
        Number of neighbours :meth:`kneighbors` returns by default.
    metric : str or callable, default="euclidean"
        Any metric of :func:`scipy.spatial.distance.pdist`, by name or as a
        callable of two 1-D arrays.
    metric_params : dict, default=None
        Extra keyword arguments of the metric (e.g. ``{"p": 3}`` for
        ``"minkowski"``).

    Attributes
    ----------
    n_samples_fit_ : int
        Number of rows seen in :meth:`fit`.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen in :meth:`fit`, when ``X`` has string column
        names.
    effective_metric_ : str or callable
        The metric used.
    effective_metric_params_ : dict
        Its keyword arguments.
    dists_ : ndarray of shape (n_samples_fit_, n_samples_fit_)
        ``squareform(pdist(X, metric))`` of the fitted rows, when it fits in
        ``working_memory``; otherwise reading it raises a ``MemoryError``
        that says how large it would be.

    See Also
    --------
    sklearn.neighbors.NearestNeighbors : The same queries with tree indexes.

    Examples
    --------
    >>> import numpy as np
    >>> from haralick_learn import DistanceNeighbors
    >>> X = np.array([[0.0], [1.0], [3.0], [7.0]])
    >>> nn = DistanceNeighbors(n_neighbors=2).fit(X)
    >>> dist, ind = nn.kneighbors()
    >>> ind
    array([[1, 2],
           [0, 2],
           [1, 0],
           [2, 1]])
    >>> dist[3]
    array([4., 6.])
    >>> nn.kneighbors([[2.5]], n_neighbors=1, return_distance=False)
    array([[2]])
    """

    _parameter_constraints = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "metric": [StrOptions(SCIPY_METRICS), callable],
        "metric_params": [dict, None],
    }

    def __init__(self, n_neighbors=5, *, metric="euclidean", metric_params=None):
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.metric_params = metric_params

    def fit(self, X, y=None):
        """Store the rows to search and, when it fits, their distance matrix.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Feature rows, e.g. the output of a :class:`HaralickFeaturizer`
            followed by a scaler.
        y : None
            Ignored.

        Returns
        -------
        self : DistanceNeighbors
            The fitted estimator.
        """
        self._validate_params()
        X = validate_data(self, X, dtype=np.float64)
        self._fit_X = X
        self.n_samples_fit_ = X.shape[0]
        self.effective_metric_ = self.metric
        self.effective_metric_params_ = dict(self.metric_params or {})
        self._dists = None
        if self._full_matrix_bytes() <= _working_memory_bytes():
            self._dists = squareform(
                pdist(X, self.effective_metric_, **self.effective_metric_params_)
            )
        return self

    @property
    def dists_(self):
        check_is_fitted(self, "n_samples_fit_")
        if self._dists is None:
            raise MemoryError(
                f"dists_ would be a {self.n_samples_fit_} x {self.n_samples_fit_} matrix of "
                f"{self._full_matrix_bytes() / 2**30:.1f} GiB, more than scikit-learn's "
                f"working_memory ({get_config()['working_memory']} MiB). Use kneighbors(), "
                "which searches in chunks, or raise working_memory with "
                "sklearn.set_config(working_memory=...)"
            )
        return self._dists

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """Find the nearest neighbours of each query row.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), default=None
            Query rows. ``None`` queries every fitted row, each one not being
            its own neighbour.
        n_neighbors : int, default=None
            Number of neighbours; ``None`` uses the constructor's value.
        return_distance : bool, default=True
            Whether to return the distances too.

        Returns
        -------
        neigh_dist : ndarray of shape (n_queries, n_neighbors)
            Distances to the neighbours, only when ``return_distance=True``.
        neigh_ind : ndarray of shape (n_queries, n_neighbors)
            Indices of the neighbours among the fitted rows, nearest first.
        """
        check_is_fitted(self, "n_samples_fit_")
        if n_neighbors is None:
            n_neighbors = self.n_neighbors
        if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, Integral):
            raise TypeError(f"n_neighbors does not take {type(n_neighbors)} value, enter integer value")
        if n_neighbors <= 0:
            raise ValueError(f"Expected n_neighbors > 0. Got {n_neighbors}")
        query_is_train = X is None
        available = self.n_samples_fit_ - int(query_is_train)
        if n_neighbors > available:
            raise ValueError(
                f"Expected n_neighbors <= {available} (the {self.n_samples_fit_} fitted rows"
                f"{', less the query itself' if query_is_train else ''}), "
                f"but n_neighbors = {n_neighbors}"
            )
        if query_is_train:
            queries = self._fit_X
        else:
            queries = validate_data(self, X, dtype=np.float64, reset=False)

        n_queries = queries.shape[0]
        neigh_dist = np.empty((n_queries, n_neighbors))
        neigh_ind = np.empty((n_queries, n_neighbors), dtype=np.intp)
        for start, stop in self._chunks(n_queries):
            if query_is_train and self._dists is not None:
                block = self._dists[start:stop].copy()
            else:
                block = cdist(
                    queries[start:stop], self._fit_X, self.effective_metric_,
                    **self.effective_metric_params_,
                )
            if query_is_train:
                # A row is not its own neighbour, even when a duplicate ties with it.
                block[np.arange(stop - start), np.arange(start, stop)] = np.inf
            ind = _k_smallest_stable(block, n_neighbors)
            neigh_ind[start:stop] = ind
            neigh_dist[start:stop] = np.take_along_axis(block, ind, axis=1)
        if return_distance:
            return neigh_dist, neigh_ind
        return neigh_ind

    def _full_matrix_bytes(self):
        return self.n_samples_fit_ ** 2 * 8

    def _chunks(self, n_queries):
        # A few temporaries of the block's size live at once.
        rows = max(1, _working_memory_bytes() // (4 * 8 * max(self.n_samples_fit_, 1)))
        for start in range(0, n_queries, rows):
            yield start, min(start + rows, n_queries)


def _working_memory_bytes():
    return int(get_config()["working_memory"] * 2**20)


def _k_smallest_stable(block, k):
    """Column indices of the k smallest values of each row, by (value, index)."""
    n_cols = block.shape[1]
    if k >= n_cols or 4 * k >= n_cols:
        return np.argsort(block, axis=1, kind="stable")[:, :k]
    candidates = np.argpartition(block, k - 1, axis=1)[:, :k]
    kth = np.take_along_axis(block, candidates, axis=1).max(axis=1)
    # argpartition picks arbitrary members of a tie at the k-th value; the
    # rows where that can happen are re-ranked with a stable sort.
    tied = (block <= kth[:, None]).sum(axis=1) > k
    if tied.any():
        candidates[tied] = np.argsort(block[tied], axis=1, kind="stable")[:, :k]
    untied = ~tied
    values = np.take_along_axis(block[untied], candidates[untied], axis=1)
    order = np.lexsort((candidates[untied], values), axis=1) if values.size else values
    candidates[untied] = np.take_along_axis(candidates[untied], order.astype(np.intp), axis=1)
    return candidates
