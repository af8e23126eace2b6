"""Compiled kernels of DistanceNeighbors' exact euclidean search, and of the inverse
covariance of its Mahalanobis distances.

Math on arrays only: the caller (``_neighbors``) validates, allocates every
buffer, runs the matrix products (BLAS) and the threads; these functions fill
the buffers and check nothing. They release the GIL (``nogil``), so chunks of
queries run in parallel threads.

The search works on *selection keys*: for a query ``q`` and a fitted row ``y``
(both centred on the fitted mean), ``key = ||y||^2 - 2 q.y``, which is
``||q - y||^2 - ||q||^2`` up to rounding, one matrix product for a whole tile.
:func:`scan_keys` keeps, per query, the ``k`` smallest keys seen so far and
every column whose key is within ``margin`` of the current k-th smallest;
:func:`rank_candidates` then computes the surviving candidates' distances the
way ``scipy.spatial.distance.pdist`` does (differences, squares summed left to
right, square root), bit for bit, and ranks them by (distance, index).
``_neighbors._selection_margin`` explains why the margin makes this exact.
"""

import math

import numba
import numpy as np


@numba.njit(nogil=True, cache=True)
def scan_keys(keys, col0, exclude, margin, best, cand_key, cand_idx, cand_n, overflow):
    """Fold a tile of keys into each query's running candidates.

    Parameters
    ----------
    keys : (n_rows, n_cols) float64
        Keys of the tile: query rows against fitted columns ``col0 ...``.
    col0 : int
        Index of the tile's first column among the fitted rows.
    exclude : (n_rows,) intp
        Fitted index each query must skip (itself), or -1.
    margin : (n_rows,) float64
        Twice the bound on the keys' rounding error, per query.
    best : (n_rows, k) float64
        The k smallest keys seen so far, ascending (``inf`` initially).
    cand_key, cand_idx : (n_rows, capacity)
        Candidates so far: their keys and fitted indices.
    cand_n : (n_rows,) intp
        Number of candidates held per query.
    overflow : (n_rows,) bool
        Set for a query with more than ``capacity`` candidates within the
        margin (many near-ties); the caller searches those queries otherwise.
    """
    n_rows, n_cols = keys.shape
    k = best.shape[1]
    capacity = cand_key.shape[1]
    for i in range(n_rows):
        if overflow[i]:
            continue
        kth = best[i, k - 1]
        bound = kth + margin[i]
        held = cand_n[i]
        skip = exclude[i] - col0
        for jj in range(n_cols):
            v = keys[i, jj]
            if v <= bound and jj != skip:
                if v < kth:
                    p = k - 1
                    while p > 0 and best[i, p - 1] > v:
                        best[i, p] = best[i, p - 1]
                        p -= 1
                    best[i, p] = v
                    kth = best[i, k - 1]
                    bound = kth + margin[i]
                if held == capacity:
                    # Drop the candidates the lowered bound has excluded.
                    kept = 0
                    for c in range(held):
                        if cand_key[i, c] <= bound:
                            cand_key[i, kept] = cand_key[i, c]
                            cand_idx[i, kept] = cand_idx[i, c]
                            kept += 1
                    held = kept
                    if held == capacity:
                        overflow[i] = True
                        break
                cand_key[i, held] = v
                cand_idx[i, held] = col0 + jj
                held += 1
        cand_n[i] = held


@numba.njit(nogil=True, cache=True)
def rank_candidates(queries, fitted, margin, best, cand_key, cand_idx, cand_n, overflow,
                    squared, neigh_dist, neigh_ind):
    """Exact distances of the final candidates, the k first by (distance, index).

    ``queries`` and ``fitted`` are the original (not centred) rows, so that
    each distance is computed exactly as ``pdist``/``cdist`` compute it:
    ``sqrt(sum((q[c] - y[c]) ** 2 for c in order))`` (no square root when
    ``squared``). Rows flagged in ``overflow`` are left untouched.
    """
    n_rows, n_features = queries.shape
    k = best.shape[1]
    dist = np.empty(cand_key.shape[1])
    ind = np.empty(cand_key.shape[1], dtype=np.intp)
    for i in range(n_rows):
        if overflow[i]:
            continue
        bound = best[i, k - 1] + margin[i]
        m = 0
        for c in range(cand_n[i]):
            if cand_key[i, c] > bound:
                continue
            j = cand_idx[i, c]
            s = 0.0
            for f in range(n_features):
                diff = queries[i, f] - fitted[j, f]
                s += diff * diff
            if not squared:
                s = math.sqrt(s)
            # Insertion by (distance, index).
            p = m
            while p > 0 and (dist[p - 1] > s or (dist[p - 1] == s and ind[p - 1] > j)):
                dist[p] = dist[p - 1]
                ind[p] = ind[p - 1]
                p -= 1
            dist[p] = s
            ind[p] = j
            m += 1
        for c in range(k):
            neigh_dist[i, c] = dist[c]
            neigh_ind[i, c] = ind[c]


@numba.njit(nogil=True, cache=True, error_model="numpy")
def inverse_covariance(X, covariance, inverse):
    """``numpy.cov(X.T)`` into ``covariance`` and its inverse into ``inverse``, in loops whose
    sums run in one order on every CPU (numpy's product goes through the BLAS, and LAPACK's
    inverse follows the BLAS kernel: their last digits change with the machine).

    The inverse comes from the Cholesky factor ``L`` of the covariance, ``L^-T L^-1``,
    symmetric bit for bit. Returns False, the inverse unwritten, when the covariance is not
    positive definite to rounding (a pivot not above 0).
    """
    n, d = X.shape
    means = np.zeros(d)
    for r in range(n):
        for j in range(d):
            means[j] += X[r, j]
    for j in range(d):
        means[j] /= n
    centred = np.empty(d)
    covariance[:, :] = 0.0
    for r in range(n):  # each sum over the rows in their order
        for j in range(d):
            centred[j] = X[r, j] - means[j]
        for i in range(d):
            c = centred[i]
            for j in range(d):
                covariance[i, j] += c * centred[j]
    factor = 1.0 / (n - 1)  # numpy.cov's ddof=1, as it applies it
    for i in range(d):
        for j in range(d):
            covariance[i, j] *= factor
    lower = np.zeros((d, d))
    for j in range(d):  # Cholesky, column by column
        s = covariance[j, j]
        for k in range(j):
            s -= lower[j, k] * lower[j, k]
        if not s > 0.0:
            return False
        pivot = math.sqrt(s)
        lower[j, j] = pivot
        for i in range(j + 1, d):
            s = covariance[i, j]
            for k in range(j):
                s -= lower[i, k] * lower[j, k]
            lower[i, j] = s / pivot
    solved = np.zeros((d, d))  # L^-1, lower triangular
    for j in range(d):
        solved[j, j] = 1.0 / lower[j, j]
        for i in range(j + 1, d):
            s = 0.0
            for k in range(j, i):
                s -= lower[i, k] * solved[k, j]
            solved[i, j] = s / lower[i, i]
    for i in range(d):  # (L^-1)' L^-1
        for j in range(i + 1):
            s = 0.0
            for k in range(i, d):
                s += solved[k, i] * solved[k, j]
            inverse[i, j] = inverse[j, i] = s
    return True
