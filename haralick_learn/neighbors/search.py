"""DistanceNeighbors: exact nearest neighbours over feature rows."""

import copy
import inspect
import math
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from numbers import Integral

import numpy as np
from joblib import effective_n_jobs
from scipy.spatial.distance import cdist, pdist, squareform
from sklearn import get_config
from sklearn.base import BaseEstimator
from sklearn.utils import gen_batches
from sklearn.utils.validation import check_is_fitted, validate_data

from .._compat import (
    Interval, StrOptions, active_n_jobs, remote_backend_active, validate_parameters,
)

# The metrics scipy.spatial.distance.pdist and cdist accept by name.
SCIPY_METRICS = frozenset(
    {
        "braycurtis", "canberra", "chebyshev", "cityblock", "correlation", "cosine",
        "dice", "euclidean", "hamming", "jaccard", "jensenshannon", "mahalanobis",
        "minkowski", "rogerstanimoto", "russellrao", "seuclidean", "sokalsneath",
        "sqeuclidean", "yule",
    }
)

# Metrics searched with matrix products (BLAS) then exact distances of a few
# candidates; every other metric goes through scipy's cdist, chunk by chunk.
_PRODUCT_METRICS = frozenset({"euclidean", "sqeuclidean"})
# Below this many (query, fitted row) pairs cdist is as fast and the compiled
# kernels need not be loaded.
_PRODUCT_MIN_PAIRS = 2**20
# One tile of keys per thread: small enough to stay in cache while the scan
# kernel reads what the matrix product has just written.
_TILE_BYTES = 2 * 2**20
_TILE_MAX_ROWS = 256


class DistanceNeighbors(BaseEstimator):
    """Exact nearest neighbours of feature rows, with scipy's distances.

    For a collection whose full distance matrix fits in scikit-learn's
    ``working_memory`` (see :func:`sklearn.set_config`), ``fit`` computes
    ``dists_ = squareform(pdist(X, metric))``, exactly the matrix of the
    hand-written reference, and neighbours are read from it. Larger
    collections are searched in chunks that each fit in ``working_memory``,
    with the same results, without ever holding the full matrix.

    Read more in the :ref:`User Guide <distance-neighbors-guide>`.

    Neighbours are ordered by distance, ties by index (a stable sort), which
    is the reference's ``dists[n].argsort()`` ranking whenever distances are
    distinct. Returned distances are bit for bit those of ``pdist`` /
    ``cdist``, whichever way they were found.

    ``"seuclidean"`` without ``V`` and ``"mahalanobis"`` without ``VI`` in
    ``metric_params`` estimate them once, in ``fit``, from the fitted rows,
    exactly as the reference ``pdist`` over the fitted rows does:
    ``V = np.var(X, axis=0, ddof=1)``, ``VI = np.linalg.inv(np.cov(X.T)).T``.
    Every search (matrix, chunks, new queries) then uses those, so a query's
    neighbours do not depend on which other rows it is searched with (left to
    itself, ``cdist`` would estimate them from the queries and the fitted rows
    together). A constant feature (``"seuclidean"``) or a covariance that
    cannot be inverted (``"mahalanobis"``) raises a ``ValueError``.
    ``"jensenshannon"`` compares probability vectors: fitted and query rows
    must be non-negative and not all zero, otherwise a ``ValueError`` is
    raised (scipy would return ``inf`` distances); standardized features are
    not probability vectors.

    Parameters
    ----------
    n_neighbors : int, default=5
        Number of neighbours :meth:`kneighbors` returns by default.
    metric : str or callable, default="euclidean"
        Any metric of :func:`scipy.spatial.distance.pdist`, by name or as a
        callable of two 1-D arrays.
    metric_params : dict, default=None
        Extra keyword arguments of the metric (e.g. ``{"p": 3}`` for
        ``"minkowski"``, ``{"V": variances}`` for ``"seuclidean"``). A key the
        metric does not take raises a ``TypeError`` in :meth:`fit`.
    n_jobs : int, default=None
        Number of threads searching chunks of queries in parallel when the
        full matrix is not used (each runs single-threaded BLAS). ``None``
        means all processors, as scikit-learn's brute-force
        :class:`~sklearn.neighbors.NearestNeighbors` uses whatever its
        ``n_jobs``, unless a :func:`joblib.parallel_config` context sets
        ``n_jobs``; ``-1`` means all processors too, ``1`` one thread.
        Inside a :func:`joblib.parallel_config` context whose backend is not
        a local one (``backend="dask"``: a Dask cluster; ray, spark...), the
        queries are searched in blocks on that backend instead, the fitted
        rows sent once to each worker, with the same results bit for bit;
        ``n_jobs`` is then the backend's number of workers (``None``: the
        context's). The local backends (loky, threading, multiprocessing) keep
        the threads, which share the fitted rows without copying them.
    algorithm : {"brute", "nndescent"}, default="brute"
        ``"brute"``: the exact search described here. ``"nndescent"``: an
        approximate index, a graph of neighbours built by
        :class:`pynndescent.NNDescent` (install the extra:
        ``pip install 'haralick_learn[approximate]'``), for collections too
        large for an all-pairs search; metric ``"euclidean"`` or
        ``"sqeuclidean"`` only. Its neighbours may miss some of the exact
        ones (see "Searching millions of images" in the documentation for the
        recall measured on real feature rows), but each returned distance is
        recomputed exactly, as ``pdist`` computes it, and the neighbours are
        ranked by (distance, index).
    algorithm_params : dict, default=None
        With ``"nndescent"``: keyword arguments of
        :class:`pynndescent.NNDescent` (``n_neighbors``, the graph's degree,
        default 30; ``random_state``...), and ``"epsilon"`` (default 0.1) for
        its queries: larger values search more of the graph, for a higher
        recall and a slower query.

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
        Its keyword arguments: ``metric_params``, plus ``V`` (``"seuclidean"``)
        or ``VI`` (``"mahalanobis"``) estimated from the fitted rows when not
        given.
    dists_ : ndarray of shape (n_samples_fit_, n_samples_fit_)
        ``squareform(pdist(X, metric))`` of the fitted rows, when it fits in
        ``working_memory``; otherwise reading it raises a ``MemoryError``
        that says how large it would be.

    See Also
    --------
    sklearn.neighbors.NearestNeighbors : The same queries with tree indexes.
    SimilarImagesDisplay : Show query images next to their neighbours.

    Notes
    -----
    Without the full matrix, ``"euclidean"`` and ``"sqeuclidean"`` (without
    ``metric_params``) are searched with the expansion
    ``||q - y||^2 = ||q||^2 - 2 q.y + ||y||^2``, one matrix product (BLAS)
    per tile of queries x fitted rows. Rounding makes those values
    approximate, so they only select candidates: every fitted row whose
    approximate value is within a margin of the k-th smallest, the margin
    being twice a bound on the rounding error derived from the rows' norms
    (see the :ref:`user guide <euclidean-exactness>`). That set provably
    holds the k nearest rows and every row tied with the k-th; their distances are then
    recomputed from the differences, as ``pdist`` does, and ranked by (distance, index).
    Other metrics use :func:`scipy.spatial.distance.cdist` on chunks of queries.

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
        "n_jobs": [Integral, None],
        "algorithm": [StrOptions({"brute", "nndescent"})],
        "algorithm_params": [dict, None],
    }

    def __init__(self, n_neighbors=5, *, metric="euclidean", metric_params=None, n_jobs=None,
                 algorithm="brute", algorithm_params=None):
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = n_jobs
        self.algorithm = algorithm
        self.algorithm_params = algorithm_params

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
        validate_parameters(self)
        X = validate_data(self, X, dtype=np.float64)
        _check_rows_for_metric(X, self.metric, "X")
        params = _fitted_metric_params(X, self.metric, self.metric_params)
        _check_metric_params(X, self.metric, params, user_keys=list(self.metric_params or {}))
        self._fit_X = X
        self.n_samples_fit_ = X.shape[0]
        self.effective_metric_ = self.metric
        self.effective_metric_params_ = params
        self._dists = None
        self._index = None
        if self.algorithm == "nndescent":
            self._index, self._query_params = _build_nndescent(
                X, self.metric, self.metric_params, self.algorithm_params, self.n_jobs)
        elif self._full_matrix_bytes() <= _working_memory_bytes():
            self._dists = squareform(
                pdist(X, self.effective_metric_, **self.effective_metric_params_)
            )
        return self

    @property
    def dists_(self):
        check_is_fitted(self, "n_samples_fit_")
        if getattr(self, "_index", None) is not None:
            raise AttributeError(
                "dists_ is computed by the exact search only (algorithm='brute'); "
                "algorithm='nndescent' keeps a graph of neighbours instead")
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
        n_neighbors = self._check_n_neighbors(n_neighbors, query_is_train=X is None)
        if X is None:
            queries, exclude = self._fit_X, np.arange(self.n_samples_fit_)
        else:
            queries, exclude = validate_data(self, X, dtype=np.float64, reset=False), None
            _check_rows_for_metric(queries, self.effective_metric_, "the query rows X")
        neigh_dist, neigh_ind = self._search(queries, exclude, n_neighbors)
        if return_distance:
            return neigh_dist, neigh_ind
        return neigh_ind

    def kneighbors_by_index(self, indices, n_neighbors=None, return_distance=True):
        """Find the nearest neighbours of some of the fitted rows, given by index.

        Equal to ``kneighbors()`` restricted to the rows ``indices``: each
        query is not its own neighbour, and only the queried rows are searched.

        Parameters
        ----------
        indices : array-like of int of shape (n_queries,)
            Positions of the query rows among the fitted rows; negative
            indices count from the end.
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

        Examples
        --------
        >>> from haralick_learn import DistanceNeighbors
        >>> nn = DistanceNeighbors(n_neighbors=1).fit([[0.0], [1.0], [3.0]])
        >>> nn.kneighbors_by_index([2], return_distance=False)
        array([[1]])
        """
        check_is_fitted(self, "n_samples_fit_")
        n_neighbors = self._check_n_neighbors(n_neighbors, query_is_train=True)
        indices = np.asarray(indices)
        if indices.ndim != 1 or (indices.size and indices.dtype.kind not in "iu"):
            raise TypeError(f"indices must be a 1-D sequence of ints, got {indices!r}")
        n = self.n_samples_fit_
        if indices.size and not (-n <= indices.min() and indices.max() < n):
            raise IndexError(f"indices must lie in [-{n}, {n}), got {indices.tolist()}")
        indices = indices.astype(np.intp) % max(n, 1)
        neigh_dist, neigh_ind = self._search(self._fit_X[indices], indices, n_neighbors)
        if return_distance:
            return neigh_dist, neigh_ind
        return neigh_ind

    def _check_n_neighbors(self, n_neighbors, query_is_train):
        if n_neighbors is None:
            n_neighbors = self.n_neighbors
        if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, Integral):
            raise TypeError(
                f"n_neighbors does not take {type(n_neighbors)} value, enter integer value"
            )
        if n_neighbors <= 0:
            raise ValueError(f"Expected n_neighbors > 0. Got {n_neighbors}")
        available = self.n_samples_fit_ - int(query_is_train)
        if n_neighbors > available:
            raise ValueError(
                f"Expected n_neighbors <= {available} (the {self.n_samples_fit_} fitted rows"
                f"{', less the query itself' if query_is_train else ''}), "
                f"but n_neighbors = {n_neighbors}"
            )
        return int(n_neighbors)

    def _search(self, queries, exclude, k, *, distribute=True):
        """Neighbours of ``queries``; ``exclude[i]`` is a fitted row query i must skip."""
        n_queries = queries.shape[0]
        neigh_dist = np.empty((n_queries, k))
        neigh_ind = np.empty((n_queries, k), dtype=np.intp)
        if n_queries == 0:
            return neigh_dist, neigh_ind
        if getattr(self, "_index", None) is not None:
            return self._approximate_search(queries, exclude, k, neigh_dist, neigh_ind)
        if distribute and self._dists is None and remote_backend_active():
            return self._distributed_search(queries, exclude, k)
        if exclude is not None and self._dists is not None:
            # Rows of the stored matrix: the reference's own numbers.
            for batch in gen_batches(n_queries, self._chunk_rows(1)):
                rows = exclude[batch]
                block = self._dists[rows]
                block[np.arange(rows.size), rows] = np.inf
                _rank_block(block, k, neigh_dist[batch], neigh_ind[batch])
            return neigh_dist, neigh_ind
        n_threads = max(1, min(_n_threads(self.n_jobs), n_queries))
        if (
            self.effective_metric_ in _PRODUCT_METRICS
            and not self.effective_metric_params_
            and n_queries * self.n_samples_fit_ >= _PRODUCT_MIN_PAIRS
            and self._product_search(queries, exclude, k, n_threads, neigh_dist, neigh_ind)
        ):
            return neigh_dist, neigh_ind

        def task(batch):
            self._cdist_rows(
                queries[batch], None if exclude is None else exclude[batch], k,
                neigh_dist[batch], neigh_ind[batch],
            )

        _run(task, gen_batches(n_queries, self._chunk_rows(n_threads)), n_threads,
             limit_blas=False)
        return neigh_dist, neigh_ind

    def _approximate_search(self, queries, exclude, k, neigh_dist, neigh_ind):
        """Candidates from the NN-descent graph, their exact distances, ranked.

        A query that is a fitted row asks for one more neighbour and drops
        itself. Each candidate's distance is then recomputed as ``pdist``
        computes it and the k ranked by (distance, index), as in the exact
        search: only the set of neighbours is approximate, never a distance.
        Queries for which the graph returns too few rows are searched exactly.
        """
        from . import kernels

        extra = int(exclude is not None)
        found, _ = self._index.query(queries, k=k + extra, **self._query_params)
        found = found.astype(np.intp)
        if extra:
            is_self = found == exclude[:, None]
            # Drop the query itself, or the last candidate when it is not there.
            is_self[~is_self.any(axis=1), -1] = True
            found = found[~is_self].reshape(found.shape[0], k)
        n_queries = queries.shape[0]
        short = (found < 0).any(axis=1)
        found[short] = 0
        zeros = np.zeros((n_queries, k))
        kernels.rank_candidates(
            queries, self._fit_X, np.zeros(n_queries), zeros, zeros, found,
            np.full(n_queries, k, dtype=np.intp), short,
            self.effective_metric_ == "sqeuclidean", neigh_dist, neigh_ind,
        )
        if short.any():
            at = np.flatnonzero(short)
            sub_dist = np.empty((at.size, k))
            sub_ind = np.empty((at.size, k), dtype=np.intp)
            self._cdist_rows(queries[at], None if exclude is None else exclude[at], k,
                             sub_dist, sub_ind)
            neigh_dist[at], neigh_ind[at] = sub_dist, sub_ind
        return neigh_dist, neigh_ind

    def _distributed_search(self, queries, exclude, k):
        """``_search`` block by block on joblib's active (remote) backend, e.g. a Dask cluster.

        Each task receives the same array object of fitted rows, which
        joblib's dask backend scatters once and each worker fetches once
        (arguments larger than 1 kB are sent as futures, keyed by identity);
        the estimator travels without them. Queries that are fitted rows
        travel as their indices. Every block is searched by the same
        single-machine code, which is exact, so the result does not depend
        on how the queries were split.
        """
        from joblib import Parallel, delayed

        n_queries = queries.shape[0]
        n_tasks = 4 * effective_n_jobs(self.n_jobs)
        size = max(1, -(-n_queries // n_tasks))
        shell = copy.copy(self)
        shell._fit_X, shell._dists, shell.n_jobs = None, None, 1
        own = exclude is not None  # the queries are the fitted rows ``exclude``
        tasks = (
            delayed(_search_block)(
                shell, self._fit_X, None if own else queries[batch],
                None if exclude is None else exclude[batch], k,
            )
            for batch in gen_batches(n_queries, size)
        )
        results = Parallel(n_jobs=self.n_jobs)(tasks)
        return (np.concatenate([dist for dist, _ in results]),
                np.concatenate([ind for _, ind in results]))

    def _cdist_rows(self, queries, exclude, k, neigh_dist, neigh_ind):
        """Exact neighbours of a few queries from their full rows of cdist (-1: no exclusion)."""
        block = cdist(queries, self._fit_X, self.effective_metric_, **self.effective_metric_params_)
        if exclude is not None:
            # A row is not its own neighbour, even when a duplicate ties with it.
            rows = np.flatnonzero(exclude >= 0)
            block[rows, exclude[rows]] = np.inf
        _rank_block(block, k, neigh_dist, neigh_ind)

    def _product_search(self, queries, exclude, k, n_threads, neigh_dist, neigh_ind):
        """Euclidean search by matrix products, candidates, exact re-ranking.

        Returns False, having done nothing, when the data are too large in
        magnitude for the products to be bounded (the caller then uses cdist).
        """
        from . import kernels

        fitted = self._fit_X
        n_fit, n_features = fitted.shape
        n_queries = queries.shape[0]
        # Centring changes no distance and shrinks the norms, hence the margin.
        mean = fitted.mean(axis=0)
        augmented = np.empty((n_fit, n_features + 1))
        centred = augmented[:, :n_features]
        np.subtract(fitted, mean, out=centred)
        augmented[:, n_features] = np.einsum("ij,ij->i", centred, centred)
        query_centred = centred.copy() if queries is fitted else queries - mean
        centred *= -2.0  # exact: [q, 1] . [-2 y, ||y||^2] = ||y||^2 - 2 q.y
        query_norms = np.sqrt(np.einsum("ij,ij->i", query_centred, query_centred))
        margin = _selection_margin(query_norms, math.sqrt(augmented[:, n_features].max()),
                                   n_features)
        if not (np.isfinite(margin).all() and np.isfinite(augmented).all()):
            return False
        if exclude is None:
            exclude = np.full(n_queries, -1, dtype=np.intp)
        squared = self.effective_metric_ == "sqeuclidean"
        tile_elements = max(1, min(_TILE_BYTES, _working_memory_bytes() // n_threads) // 8)
        rows = max(1, min(_TILE_MAX_ROWS, -(-n_queries // n_threads), tile_elements // 256))
        cols = max(1, min(n_fit, tile_elements // rows))
        capacity = 2 * k + 64

        def task(batch):
            n_rows = batch.stop - batch.start
            query_block = np.empty((n_rows, n_features + 1))
            query_block[:, :n_features] = query_centred[batch]
            query_block[:, n_features] = 1.0
            best = np.full((n_rows, k), np.inf)
            cand_key = np.empty((n_rows, capacity))
            cand_idx = np.empty((n_rows, capacity), dtype=np.intp)
            cand_n = np.zeros(n_rows, dtype=np.intp)
            overflow = np.zeros(n_rows, dtype=bool)
            keys = np.empty((n_rows, cols))
            for tile_cols in gen_batches(n_fit, cols):
                tile = keys[:, : tile_cols.stop - tile_cols.start]
                np.matmul(query_block, augmented[tile_cols].T, out=tile)
                kernels.scan_keys(tile, tile_cols.start, exclude[batch], margin[batch],
                                  best, cand_key, cand_idx, cand_n, overflow)
            kernels.rank_candidates(queries[batch], fitted, margin[batch], best,
                                    cand_key, cand_idx, cand_n, overflow, squared,
                                    neigh_dist[batch], neigh_ind[batch])
            crowded = np.flatnonzero(overflow)
            if crowded.size:  # more near-ties than candidate slots: full rows instead
                at = batch.start + crowded
                sub_dist = np.empty((at.size, k))
                sub_ind = np.empty((at.size, k), dtype=np.intp)
                self._cdist_rows(queries[at], exclude[at], k, sub_dist, sub_ind)
                neigh_dist[at], neigh_ind[at] = sub_dist, sub_ind

        _run(task, gen_batches(n_queries, rows), n_threads, limit_blas=True)
        return True

    def _full_matrix_bytes(self):
        return self.n_samples_fit_ ** 2 * 8

    def _chunk_rows(self, n_threads):
        # Each thread holds a few temporaries of its block's size at once. The
        # same sum as scikit-learn's get_chunk_n_rows, which is not public API
        # (sklearn.utils._chunking since 1.5).
        per_thread = _working_memory_bytes() // n_threads
        return max(1, per_thread // (4 * 8 * max(self.n_samples_fit_, 1)))


#: Metrics algorithm="nndescent" searches (its graph is built on euclidean distances).
NNDESCENT_METRICS = ("euclidean", "sqeuclidean")


def _build_nndescent(X, metric, metric_params, algorithm_params, n_jobs):
    """A prepared ``pynndescent.NNDescent`` index of ``X``, and its query's keyword arguments."""
    if metric not in NNDESCENT_METRICS or metric_params:
        raise ValueError(
            f"algorithm='nndescent' searches metric 'euclidean' or 'sqeuclidean' without "
            f"metric_params; got metric={metric!r}, metric_params={metric_params!r} "
            "(use algorithm='brute' for the others)"
        )
    try:
        from pynndescent import NNDescent
    except ImportError:
        raise ImportError(
            "DistanceNeighbors(algorithm='nndescent') needs pynndescent, which is not "
            "installed: pip install 'haralick_learn[approximate]' (or pip install pynndescent)"
        ) from None
    params = dict(algorithm_params or {})
    query_params = {"epsilon": params.pop("epsilon", 0.1)}
    if "metric" in params:
        raise ValueError("algorithm_params takes no 'metric': set the metric parameter")
    if n_jobs is not None:
        params.setdefault("n_jobs", n_jobs)
    if isinstance(params.get("n_jobs"), Integral) and params["n_jobs"] != 0:
        # pynndescent hands n_jobs to numba.set_num_threads, which refuses joblib's negative
        # counts (-2: all cores but one) and more threads than numba has (an index file made
        # on a larger machine): resolve it as the exact search does, within numba's threads.
        import numba

        params["n_jobs"] = min(_n_threads(params["n_jobs"]), numba.config.NUMBA_NUM_THREADS)
    try:
        index = NNDescent(X, metric="euclidean", **params)
    except TypeError as exc:
        raise TypeError(f"algorithm_params {sorted(params)}: pynndescent.NNDescent says "
                        f"{exc}") from None
    index.prepare()
    return index, query_params


def _search_block(shell, fitted, queries, exclude, k):
    """One block of a distributed search, on a worker: ``shell`` searching ``fitted``.

    ``queries=None`` means the fitted rows ``exclude`` (each not its own
    neighbour).
    """
    searcher = copy.copy(shell)
    searcher._fit_X = fitted
    if queries is None:
        queries = fitted[exclude]
    return searcher._search(queries, exclude, k, distribute=False)


def _selection_margin(query_norms, fitted_max_norm, n_features):
    """Twice a bound on how far a selection key can be from its exact value.

    With ``u = 2**-53`` (unit roundoff), ``q`` and ``y`` centred query and
    fitted rows, ``r = ||q|| + max ||y||`` and ``d = n_features``, the key
    ``fl(||y||^2 - 2 q.y)`` (a dot product of ``d + 1`` terms after
    ``||y||^2`` was itself summed in floating point) differs from
    ``||q - y||^2 - ||q||^2`` by at most ``(2d + 1) u r^2`` (the standard
    bound ``gamma_n sum |a_i b_i|`` on a dot product, whatever its summation
    order or use of FMA, and Cauchy-Schwarz); rounding in the centring moves
    the squared distance by at most about ``2 u r^2``; and ``pdist``'s own
    squared distance differs from the exact one by at most ``(d + 3) u r^2``.
    All together below ``(3d + 6) u r^2``; the bound used is
    ``e = 8 (d + 4) u r^2``, more than twice that, plus a tiny absolute term
    for underflow.

    Why twice: let ``t`` be a query's k-th smallest key. The k rows with keys
    ``<= t`` have distances ``<= t + ||q||^2 + e``, so the k-th smallest
    distance is at most that; any row at most that far has a key
    ``<= t + 2e``. Keeping every row with key ``<= t + 2e`` therefore keeps
    the k nearest rows and every row tied with the k-th, and ranking those by
    their exact distance and index gives the full sort's answer.
    """
    error = 8.0 * (n_features + 4) * 2.0**-53 * (query_norms + fitted_max_norm) ** 2
    return 2.0 * (error + (n_features + 4) * np.finfo(np.float64).tiny)


def _fitted_metric_params(X, metric, metric_params):
    """The metric's keyword arguments, with ``V`` / ``VI`` estimated from the fitted rows.

    scipy estimates seuclidean's variances and mahalanobis's inverse
    covariance from whatever rows it is given (``pdist``: the fitted rows;
    ``cdist``: the queries and the fitted rows together), so each search path
    would use different ones. They are estimated here once, exactly as
    ``pdist`` over the fitted rows does, and passed to every search.
    """
    params = dict(metric_params or {})
    n_samples, n_features = X.shape
    if metric == "seuclidean" and params.get("V") is None:
        if n_samples < 2:
            raise ValueError(
                "metric='seuclidean' estimates each feature's variance from the fitted rows, "
                f"which needs at least 2 rows, got {n_samples}; pass metric_params={{'V': ...}}"
            )
        variances = np.var(X, axis=0, ddof=1)
        constant = np.flatnonzero(variances == 0)
        if constant.size:
            raise ValueError(
                f"metric='seuclidean' divides by each feature's variance over the fitted rows, "
                f"but feature(s) {_first(constant)} are constant (variance 0), which would make "
                "every distance NaN; drop them (e.g. sklearn.feature_selection."
                "VarianceThreshold) or pass metric_params={'V': ...}"
            )
        params["V"] = variances
    elif metric == "mahalanobis" and params.get("VI") is None:
        if n_samples <= n_features:
            raise ValueError(
                f"metric='mahalanobis' inverts the covariance of the fitted rows, which is "
                f"singular with {n_samples} row{'s' * (n_samples > 1)} of {n_features} "
                f"features (at least "
                f"{n_features + 1} rows are needed); pass metric_params={{'VI': ...}} or reduce "
                "the features (e.g. sklearn.decomposition.PCA)"
            )
        params["VI"] = _inverse_covariance(X)
    return params


#: The largest condition number of the fitted rows' correlations (their covariance in units of
#: each feature's standard deviation) for which mahalanobis inverts their covariance: beyond it,
#: fewer than 4 of the inverse's 16 digits are right, and the distances are mostly rounding.
MAX_COVARIANCE_CONDITION = 1e12


def _inverse_covariance(X):
    """The inverse of ``numpy.cov(X.T)``, the same bits on every machine (to rounding
    ``numpy.linalg.inv``'s), or a ValueError when it is singular or nearly so."""
    from .kernels import inverse_covariance

    n_features = X.shape[1]
    covariance = np.empty((n_features, n_features))
    inverse = np.empty((n_features, n_features))
    advice = ("pass metric_params={'VI': ...} or reduce the features (e.g. "
              "sklearn.decomposition.PCA)")
    invertible = inverse_covariance(np.ascontiguousarray(X, dtype=np.float64), covariance,
                                    inverse)
    variances = np.diag(covariance)
    what = "metric='mahalanobis' inverts the covariance of the fitted rows"
    if not np.isfinite(covariance).all():
        raise ValueError(
            f"{what}, which overflows float64 (features as large as {np.abs(X).max():.1e}): "
            "scale them first (e.g. sklearn.preprocessing.StandardScaler), or pass "
            "metric_params={'VI': ...}")
    constant = np.flatnonzero(variances == 0)
    if constant.size:
        raise ValueError(
            f"{what}, which is singular: feature(s) {_first(constant)} are constant "
            f"(variance 0); drop them (e.g. sklearn.feature_selection.VarianceThreshold) or "
            f"{advice}")
    tiny = np.flatnonzero(variances < np.finfo(np.float64).tiny)
    if tiny.size:
        raise ValueError(
            f"{what}, but feature(s) {_first(tiny)} vary too little for float64 to square "
            f"(variance {variances[tiny[0]]:.1e}): scale them first (e.g. "
            "sklearn.preprocessing.StandardScaler), or pass metric_params={'VI': ...}")
    if not invertible:
        raise ValueError(
            f"{what}, which is singular (some features are linear combinations of others); "
            f"{advice}")
    # the 1-norm condition number of the correlations (the covariance of the features in units
    # of their standard deviations), from the inverse itself: the distances do not depend on
    # the units, nor does the accuracy of the Cholesky factor
    scale = np.sqrt(variances)
    scales = scale[:, None] * scale[None, :]
    condition = (np.abs(covariance / scales).sum(axis=0).max()
                 * np.abs(inverse * scales).sum(axis=0).max())
    if not condition <= MAX_COVARIANCE_CONDITION:
        raise ValueError(
            f"{what}, whose condition number is {condition:.1e} (some features are nearly "
            f"linear combinations of others): its inverse would be mostly rounding; {advice}")
    return inverse


def _check_rows_for_metric(X, metric, what):
    """Reject rows a metric would silently turn into meaningless distances."""
    if metric != "jensenshannon":
        return
    bad = np.flatnonzero((X < 0).any(axis=1) | ~(X > 0).any(axis=1))
    if bad.size:
        row = X[bad[0]]
        reason = (f"has negative values (feature {np.flatnonzero(row < 0)[0]} is "
                  f"{row[row < 0][0]:.4g})" if (row < 0).any() else "is all zero")
        others = f" (and {bad.size - 1} other rows)" if bad.size > 1 else ""
        raise ValueError(
            f"metric='jensenshannon' compares probability vectors: every row of {what} must "
            f"be non-negative and not all zero, but row {bad[0]}{others} {reason}. "
            "Standardized features (e.g. after StandardScaler) are not probability vectors: "
            "use another metric, or non-negative rows such as histograms"
        )


def _check_metric_params(X, metric, params, user_keys):
    """Fail early, naming the key, when the metric does not take a key of metric_params.

    Unchecked, scipy's error comes from the first search and prints the whole
    data array.
    """
    if not user_keys:
        return
    probe = X[:2]
    try:
        cdist(probe[:1], probe, metric, **params)
    except TypeError as exc:
        error = exc
    else:
        return
    if callable(metric):
        name = f"the metric callable {getattr(metric, '__name__', repr(metric))}"
        hint = ""
        try:
            signature = inspect.signature(metric).parameters.values()
        except (TypeError, ValueError):
            signature = None
        if signature is None or any(p.kind is p.VAR_KEYWORD for p in signature):
            unknown = []
        else:
            unknown = [key for key in user_keys if key not in {p.name for p in signature}]
    else:
        name = f"metric {metric!r}"
        hint = " (scipy.spatial.distance.cdist documents each metric's parameters)"
        # Keys scipy estimates (V, VI) are kept in each probe so that it reaches the metric.
        base = {key: params[key] for key in ("V", "VI") if key in params}
        unknown = []
        for key in user_keys:
            try:
                cdist(probe[:1], probe, metric, **{**base, key: params[key]})
            except TypeError:
                unknown.append(key)
            except Exception:  # another problem, with the value: reported by the search
                pass
    if unknown:
        keys = ", ".join(repr(key) for key in unknown)
        what = "are not parameters" if len(unknown) > 1 else "is not a parameter"
        raise TypeError(
            f"metric_params key{'s' * (len(unknown) > 1)} {keys} {what} of {name}{hint}"
        ) from None
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    raise TypeError(
        f"{name} rejected metric_params {sorted(user_keys)}: {message[:200]}"
    ) from None


def _first(indices, count=5):
    shown = ", ".join(str(i) for i in indices[:count])
    return f"[{shown}{', ...' if len(indices) > count else ''}]"


def _n_threads(n_jobs):
    """Threads for ``n_jobs``: ``None`` is every core unless a joblib context sets n_jobs.

    scikit-learn's brute-force neighbours use every core (OpenMP) whatever
    their ``n_jobs``; ``None`` does the same here.
    """
    if n_jobs is None:
        n_jobs = active_n_jobs() or -1
    return effective_n_jobs(n_jobs)


def _run(task, batches, n_threads, *, limit_blas):
    """Run ``task(batch)`` for every batch (a slice of queries), in ``n_threads`` threads."""
    batches = list(batches)
    if limit_blas:
        # Each thread runs its own small products: nested BLAS threads would
        # only compete for the same cores.
        from threadpoolctl import threadpool_limits

        context = threadpool_limits(limits=1, user_api="blas")
    else:
        context = nullcontext()
    with context:
        if n_threads == 1 or len(batches) == 1:
            for batch in batches:
                task(batch)
            return
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            for future in [pool.submit(task, batch) for batch in batches]:
                future.result()


def _working_memory_bytes():
    return int(get_config()["working_memory"] * 2**20)


def _rank_block(block, k, neigh_dist, neigh_ind):
    ind = _k_smallest_stable(block, k)
    neigh_ind[:] = ind
    neigh_dist[:] = np.take_along_axis(block, ind, axis=1)


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
