"""The features stage: named formulas over co-occurrence matrices, equal to mahotas's.

A catalogue (:data:`FEATURES`) maps each feature's name to a formula over the
matrices' shared statistics (:class:`GLCMStatistics`, built from the matrices'
exact sums, :class:`~haralick_learn.texture.counting.CooccurrenceSums`: marginals, sum and
difference histograms and what derives from them, for any batch of matrices).
The formulas, their order and their quirks follow
``mahotas.features.texture.haralick_features`` (mahotas 1.4) so that the
values agree to about 1e-12 relative; the one deliberate difference is that an
empty matrix gives a row of NaN instead of raising.

:func:`image_features` is the stage's entry point: a gray-level image and a
:class:`~haralick_learn._settings.TextureSettings` in, features per distance
and direction out, from either backend (the compiled kernels, or mahotas's
own functions as the reference) behind the same interface.
"""

import dataclasses
import functools
import math
from contextlib import nullcontext

import numba
import numpy as np

from .counting import (
    LEVEL_STATISTICS, CooccurrenceSums, cooccurrence, cooccurrence_sums, cross_cooccurrence,
    eps_cell_entropies, largest_counts, level_statistics, matrix_sums, normalised_counts,
    sum_moments,
)
from .eigen import products_with_rows, second_largest_symmetric_eigenvalue
from .libm import exp, log2, log2_plus
from .._settings import DIRECTIONS_2D, DIRECTIONS_3D, FEATURE_NAMES

__all__ = [
    "EIGENVALUE_FEATURES", "FEATURES", "GLCMStatistics", "LEVEL_FEATURES", "MATRIX_FEATURES",
    "PADDED_MATRIX_FEATURES", "blas_limits", "centred_moments", "compacts_matrices",
    "covariance_of_sums", "statistics_suffice",
    "features_of_statistics", "haralick_features", "image_features", "image_sums",
    "is_flat", "pair_features",
    "sums_suffice",
]


def _entropy(prob):
    """``-sum(p * log2(p))`` over the last axis, zero entries counting 0 (as mahotas)."""
    logs = log2(prob, where=prob != 0)
    return -np.einsum("...k,...k->...", prob, logs)


class GLCMStatistics:
    """The shared statistics of a batch of co-occurrence matrices, each computed once.

    Every feature of the catalogue (:data:`FEATURES`) is a short formula over
    these: the matrices' exact sums (:class:`~haralick_learn.texture.counting.CooccurrenceSums`:
    totals, ``sum p**2``, ``sum i j p``, ``sum p log2 p``, the marginals and
    the sum and difference histograms, by gray level), normalised here, and
    what derives from them (means, variances, entropies), computed on first
    use and vectorised over the whole batch: the matrices of many images
    cost one pass of numpy calls. A new convention adds formulas over these,
    not passes over the data.

    Parameters
    ----------
    sums : CooccurrenceSums
        The matrices' sums (of one image, or of a batch of images).
    ignore_zeros : bool, default=False
        Whether ``sums`` left out row and column 0 (they then sum over the
        other cells, normalised by their own total, as mahotas does).
    cmats : ndarray of int, shape (n_matrices, L, L), default=None
        The matrices themselves, for the few features that need more than
        the sums (:data:`MATRIX_FEATURES`).
    statistics : ndarray of float64, shape (n_matrices, 15), default=None
        The matrices' :func:`~haralick_learn.texture.counting.level_statistics`,
        if known (:func:`~haralick_learn.texture.counting.crop_sums` computes
        them as it counts, and its sums then hold no arrays by level: only
        the features of :data:`LEVEL_FEATURES` can be computed).
    """

    #: IBSI's MCC of a matrix with fewer than two gray levels: pyradiomics's 1 for a flat
    #: region. pyradiomics's matrices span the region's levels, so a matrix of one level in a
    #: region of more (a voxel-based map's window; a direction in which the region's other
    #: levels have no pair) gets 0, the second eigenvalue of its Q. A number for every
    #: matrix, or an array of one per matrix (:meth:`rows` cuts it).
    flat_mcc = 1.0

    def __init__(self, sums, ignore_zeros=False, cmats=None, statistics=None):
        self.sums = sums
        self.cmats = cmats
        # each matrix's own levels and first level, when cmats are padded (see rows)
        self.matrix_sides = self.matrix_lows = None
        self.ignore_zeros = ignore_zeros
        self.total = sums.total.astype(np.float64)
        self.empty = sums.total == 0
        total = np.where(self.empty, 1.0, self.total)
        self.asm = sums.square_sum / total / total
        self.sum_ij_p = sums.product_sum / total
        # -sum p log2 p = (T log2 T - sum c log2 c) / T: exactly 0 for a lone cell, as in mahotas
        self.entropy = (sums.total_log_total - sums.count_log_count) / total
        # One compiled pass over the levels of every matrix (see level_statistics)
        if statistics is None:
            statistics = level_statistics(sums)
        for name, column in zip(LEVEL_STATISTICS, statistics.T):
            setattr(self, name, column)
        self.vx = self.ex2 - self.ux**2
        self.vy = self.ey2 - self.uy**2
        # Entropy of the outer product px * py (zeros mapped to 1), in closed form:
        # sum(py) * HX + sum(px) * HY (sums of 1 but for rounding, as in mahotas's
        # L**2-term sum, which this avoids). The row and column counts each sum to the
        # total: sum(py) = sum(px) = T / T, exactly 1.
        whole = sums.total / total
        self.hxy2 = whole * self.hx + whole * self.hy
        length = sums.row_counts.shape[1]
        self.levels = np.arange(length, dtype=np.float64)
        self.sum_levels = np.arange(2 * length, dtype=np.float64)

    @classmethod
    def from_matrices(cls, cmats, ignore_zeros=False, level_values=None, n_levels=None):
        """The statistics of given matrices (``(n_matrices, L, L)`` counts).

        ``level_values``/``n_levels``: the gray level of each row and column of
        compact matrices, and the image's number of levels.
        """
        sums = matrix_sums(cmats, ignore_zeros=ignore_zeros, level_values=level_values,
                           n_levels=n_levels)
        ignore_zeros = bool(ignore_zeros) and (level_values is None or level_values[0] == 0)
        return cls(sums, ignore_zeros, cmats)

    #: Attributes by gray level (one array for every matrix): not cut by :meth:`rows`.
    _BY_LEVEL = ("levels", "sum_levels")

    def rows(self, start, stop, cmats=None, sides=None, lows=None):
        """The statistics of matrices ``start`` to ``stop``, with their matrices ``cmats``.

        Views of this batch's arrays: the formulas of the matrices
        ``start:stop`` give the values they get in the whole batch, bit for
        bit (every formula works matrix by matrix), without computing the
        statistics again. The statistics computed on first use are computed
        again for the rows (from the views), but for those of the sums.

        ``sides``: each matrix's own number of levels when ``cmats`` are
        padded with zeros to the largest (matrices of several sizes in one
        array); the features of :data:`PADDED_MATRIX_FEATURES` read each
        matrix's own levels only, and so are those of its unpadded matrix.
        ``lows``: each matrix's first level, when ``cmats`` hold the levels
        from there on only (``crop_matrices``'s ``lowest``).

        Examples
        --------
        >>> import numpy as np
        >>> cmats = np.array([[[2, 1], [1, 0]], [[0, 1], [1, 4]]])
        >>> stats = GLCMStatistics.from_matrices(cmats)
        >>> part = stats.rows(1, 2, cmats[1:])
        >>> bool(part.contrast[0] == stats.contrast[1]), part.cmats.shape
        (True, (1, 2, 2))
        """
        out = object.__new__(type(self))
        for name in self._SHARED_BY_ROWS:  # computed once for the batch, not per part
            getattr(self, name)
        skipped = _cached_properties(type(self))
        for name, value in vars(self).items():
            if name in skipped:
                continue
            if name == "sums":
                value = value.rows(start, stop)
            elif isinstance(value, np.ndarray) and name not in self._BY_LEVEL:
                value = value[start:stop]
            out.__dict__[name] = value
        out.cmats = cmats
        out.matrix_sides = None if sides is None else np.asarray(sides)
        out.matrix_lows = None if lows is None else np.asarray(lows)
        return out

    #: Statistics of the sums computed on first use, one row per matrix: :meth:`rows` cuts
    #: them when computed (the others, tuples or of the matrices, are computed again).
    _OF_SUMS_BY_MATRIX = ("px", "py", "sum_hist", "diff_hist", "n_levels", "px_log_eps",
                          "py_log_eps")
    #: Those :meth:`rows` computes first: what the features of the matrices read.
    _SHARED_BY_ROWS = ("px", "py", "px_log_eps", "py_log_eps")

    # The normalised marginals and histograms, by gray level: only the formulas
    # beyond mahotas's (preserve_haralick_bug, IBSI) read them.

    def _normalised(self, counts):
        return normalised_counts(counts, np.where(self.empty, 1.0, self.total))

    @functools.cached_property
    def px(self):
        """mahotas's ``p.sum(0)``: the column sums, by level."""
        return self._normalised(self.sums.col_counts)

    @functools.cached_property
    def py(self):
        """The row sums, by level."""
        return self._normalised(self.sums.row_counts)

    @functools.cached_property
    def px_log_eps(self):
        """``log2(px + eps)`` by level (pyradiomics's HY), :func:`_log2_plus_eps`."""
        return _log2_plus_eps(self.px)

    @functools.cached_property
    def py_log_eps(self):
        """``log2(py + eps)`` by level (pyradiomics's HX)."""
        return _log2_plus_eps(self.py)

    @functools.cached_property
    def sum_hist(self):
        """``P(x + y = k)``."""
        return self._normalised(self.sums.sum_counts)

    @functools.cached_property
    def diff_hist(self):
        """``P(|x - y| = k)``."""
        return self._normalised(self.sums.diff_counts)

    # -- shared by the scikit-image and IBSI (pyradiomics) formulas ------------------

    @functools.cached_property
    def n_levels(self):
        """``N_g`` of each matrix: its number of levels (the image's maximum + 1)."""
        return self.sums.n_levels.astype(np.float64)

    @functools.cached_property
    def eps_entropies(self):
        """pyradiomics's entropies, ``-sum q log2(q + eps)`` with ``eps = numpy.spacing(1)``.

        ``(HXY, HX, HY, HXY1, HXY2)``, over the matrices' cells: the ``eps``
        matters (it moves ``HXY1`` by up to ~1e-9 where ``px py`` is tiny), so
        IBSI's features use these instead of the exact entropies above.
        """
        # Each matrix over its own levels (the marginals are padded beyond them, and the
        # matrices too with sides): numpy's sums over them depend on their length
        sides = self.matrix_sides
        if sides is None:
            sides = np.full(len(self.cmats), self.cmats.shape[-1])
        hx, hy = np.empty(len(sides)), np.empty(len(sides))
        for size in np.unique(sides):
            rows = np.flatnonzero(sides == size)
            if len(rows) == len(sides):  # one size: views, no copies
                rows = slice(None)
            # pyradiomics's HX: its px, our row sums (the logarithms element by element,
            # those of the padded marginals cut)
            hx[rows] = -np.einsum("...k,...k->...", self.py[rows, :size],
                                  self.py_log_eps[rows, :size])
            hy[rows] = -np.einsum("...k,...k->...", self.px[rows, :size],
                                  self.px_log_eps[rows, :size])
        if numba.config.USING_SVML:  # numba's logarithms would be SVML's (see libm)
            hxy, hxy1, hxy2 = np.empty(len(sides)), np.empty(len(sides)), np.empty(len(sides))
            total = np.where(self.empty, 1.0, self.total)
            for size in np.unique(sides):
                rows = np.flatnonzero(sides == size)
                cmats = self._own_matrices(rows, size)
                if self.ignore_zeros:
                    cmats[:, 0] = 0
                    cmats[:, :, 0] = 0
                p = cmats / total[rows, None, None]
                outer = self.py[rows, :size, None] * self.px[rows, None, :size]
                log_outer = _log2_plus_eps(outer)
                n = len(rows)
                hxy[rows] = -(p * _log2_plus_eps(p)).reshape(n, -1).sum(axis=1)
                hxy1[rows] = -(p * log_outer).reshape(n, -1).sum(axis=1)
                hxy2[rows] = -(outer * log_outer).reshape(n, -1).sum(axis=1)
            return hxy, hx, hy, hxy1, hxy2
        # The same sums, over the cells of the levels present only (most cells are 0)
        hxy, hxy1, hxy2 = eps_cell_entropies(
            self.cmats, self.sums.row_counts, self.sums.col_counts,
            np.where(self.empty, 1.0, self.total), self.ignore_zeros, sides, self.matrix_lows)
        return hxy, hx, hy, hxy1, hxy2

    def _own_matrices(self, rows, size):
        """The matrices ``rows`` over their ``size`` own levels (a copy), from padded ones."""
        lows = self.matrix_lows
        if lows is None:
            return self.cmats[rows, :size, :size].copy()
        out = np.zeros((len(rows), size, size), self.cmats.dtype)
        for k, m in enumerate(rows):
            span = min(size - lows[m], self.cmats.shape[-1])
            out[k, lows[m]:lows[m] + span, lows[m]:lows[m] + span] = self.cmats[m, :span, :span]
        return out

    # -- IBSI's sums over gray levels, read by name so that texture maps (whose windows
    # -- keep these sums as they slide) share the catalogue's formulas

    @functools.cached_property
    def inverse_difference(self):
        """``sum_k P(|x - y| = k) / (1 + k)``."""
        return _inverse(self, 1.0 / (1.0 + self.levels))

    @functools.cached_property
    def inverse_difference_normalized(self):
        """``sum_k P(|x - y| = k) / (1 + k / N_g)``."""
        return _inverse(self, 1.0 / (1.0 + self.levels / self.n_levels[:, None]))

    @functools.cached_property
    def inverse_difference_moment_normalized(self):
        """``sum_k P(|x - y| = k) / (1 + k**2 / N_g**2)``."""
        return _inverse(self, 1.0 / (1.0 + self.levels**2 / self.n_levels[:, None] ** 2))

    @functools.cached_property
    def inverse_variance(self):
        """``sum_{k > 0} P(|x - y| = k) / k**2``."""
        return _inverse(self, np.concatenate(([0.0], 1.0 / self.levels[1:] ** 2)))

    @functools.cached_property
    def eps_sum_entropy(self):
        """pyradiomics's sum entropy, ``-sum_k q log2(q + eps)``, ``q = P(x + y = k)``."""
        return _entropy_eps(self.sum_hist)

    @functools.cached_property
    def eps_difference_entropy(self):
        """pyradiomics's difference entropy, over ``q = P(|x - y| = k)``."""
        return _entropy_eps(self.diff_hist)

    @functools.cached_property
    def maximum_probability(self):
        """The largest ``p(i, j)``: the largest count over the total (division keeps the order)."""
        total = np.where(self.empty, 1.0, self.total)
        if self.matrix_lows is not None:  # each matrix over its own range of levels
            skip = (self.matrix_lows == 0) & self.ignore_zeros  # level 0's row and column
            return largest_counts(self.cmats, self.matrix_sides - self.matrix_lows,
                                  skip) / total
        cmats = self.cmats[:, 1:, 1:] if self.ignore_zeros else self.cmats
        return cmats.reshape(len(cmats), -1).max(axis=1, initial=0) / total

    @functools.cached_property
    def centred_moments(self):
        """The variances of the column and row levels and their covariance
        (:func:`centred_moments`), as scikit-image and pyradiomics centre them."""
        return centred_moments(self)

    @functools.cached_property
    def sum_moments(self):
        """``sum_k p_{x+y}(k) (k - ux - uy)**n`` for n = 2, 3, 4.

        Cluster tendency, shade and prominence.
        """
        # numpy's sums of (q d d, q d d d, q d d d d), d = k - ux - uy, over the non-zero q
        return tuple(sum_moments(self.sum_hist, self.ux + self.uy))


#: pyradiomics's epsilon in its logarithms and denominators.
_EPS = np.spacing(1)
_LOG2_EPS = log2(np.array([_EPS]))[0]


def _entropy_eps(prob):
    """``-sum(p * log2(p + eps))`` over the last axis, as pyradiomics."""
    return -np.einsum("...k,...k->...", prob, _log2_plus_eps(prob))


def _log2_plus_eps(prob):
    """``log2(p + eps)`` of probabilities, the logarithm taken of the non-zero ones only.

    Most cells of a small region's matrix are 0, where the value is
    ``log2(eps)``, exactly -52: the same array as taking every logarithm.
    """
    return log2_plus(prob, _EPS, _LOG2_EPS)


def centred_moments(s):
    """``(var x, var y, cov(x, y))`` of the column and row levels of each matrix of ``s``.

    scikit-image and pyradiomics centre the levels on their mean before
    squaring; mahotas's ``E[x**2] - E[x]**2`` (the Haralick set's) loses the
    digits of a small variance around a large mean (a bright, nearly flat
    region: 1e-7 of its correlation). These are computed from the exact sums
    instead (:func:`covariance_of_sums`).
    """
    vx = covariance_of_sums(s.total, s.ux, s.ux, s.ex2)
    vy = vx if s.vy is s.vx else covariance_of_sums(s.total, s.uy, s.uy, s.ey2)
    return vx, vy, covariance_of_sums(s.total, s.ux, s.uy, s.sum_ij_p)


def covariance_of_sums(total, mean_x, mean_y, mean_xy):
    """``E[x y] - E[x] E[y]`` over ``total`` pairs of integers, from means of exact sums.

    Each mean is an integer sum divided once by the total, so the sums are
    recovered exactly (below 2**50) and ``(T sum(x y) - sum(x) sum(y)) / T**2``
    is computed in integers (centred on the integers nearest ``E[x]`` and ``E[y]``
    to stay within 64 bits; Python's integers beyond), then rounded: a variance
    is never negative and is 0 exactly for a flat marginal. Where a sum is
    too large to recover, the difference of the means.

    Examples
    --------
    >>> import numpy as np
    >>> # levels 200 and 201 in 3 pairs of 10: variance 0.21, whose last digits
    >>> # E[x**2] - E[x]**2 loses
    >>> mean, mean_square = 2003 / 10, (7 * 200**2 + 3 * 201**2) / 10
    >>> float(mean_square - mean**2) == 0.21
    False
    >>> float(covariance_of_sums(np.array([10.0]), mean, mean, mean_square)[0]) == 0.21
    True
    """
    values = np.broadcast_arrays(
        *(np.asarray(value, np.float64) for value in (total, mean_x, mean_y, mean_xy)))
    shape = values[0].shape
    total, mean_x, mean_y, mean_xy = (np.ascontiguousarray(v).reshape(-1) for v in values)
    out = np.empty(total.shape)
    wide = np.flatnonzero(_covariances(total, mean_x, mean_y, mean_xy, out))
    for k in wide:  # a numerator beyond 64 bits: Python's integers
        t = float(total[k]) or 1.0
        ti = int(t)
        sx, sy, sxy = (int(np.rint(mean[k] * t)) for mean in (mean_x, mean_y, mean_xy))
        numerator = float(ti * sxy - sx * sy)
        out[k] = numerator / (t * t) if t < 2.0**26 else numerator / t / t
    return out.reshape(shape)


@numba.njit(nogil=True, cache=True)
def _covariances(total, mean_x, mean_y, mean_xy, out):
    """:func:`covariance_of_sums` element by element; True where a numerator needs more
    than 64 bits (``out`` is then left for the caller)."""
    wide = np.zeros(total.shape[0], np.bool_)
    for k in range(total.shape[0]):
        t = total[k] if total[k] != 0 else 1.0
        mx, my, mxy = mean_x[k], mean_y[k], mean_xy[k]
        if not (t < 2.0**31 and abs(mxy * t) < 2.0**50
                and (abs(mx) + 1) * (abs(my) + 1) * t < 2.0**60):
            out[k] = mxy - mx * my  # too large to recover the sums (or NaN)
            continue
        ti = np.int64(t)
        sx, sy, sxy = np.int64(np.rint(mx * t)), np.int64(np.rint(my * t)), np.int64(
            np.rint(mxy * t))
        # centred on any integers qx, qy the numerator is the same; the nearest keep it small
        qx, qy = np.int64(np.rint(mx)), np.int64(np.rint(my))
        rx, ry = sx - qx * ti, sy - qy * ti
        # sum (x - qx) (y - qy), and T times it less rx ry: T sum(x y) - sum(x) sum(y)
        centred = sxy - qy * sx - qx * sy + qx * qy * ti
        if abs(centred) * t >= 2.0**61:
            wide[k] = True
            continue
        numerator = float(ti * centred - rx * ry)
        # T**2 is exact below 2**26: one rounding
        out[k] = numerator / (t * t) if t < 2.0**26 else numerator / t / t
    return wide


def _skimage_correlation(s):
    vx, vy, cov = s.centred_moments
    sx, sy = np.sqrt(vx), np.sqrt(vy)
    flat = (sx < 1e-15) | (sy < 1e-15)  # graycoprops: 1 when a standard deviation is ~0
    with np.errstate(divide="ignore", invalid="ignore"):
        value = cov / (sx * sy)
    return np.where(flat, 1.0, value)


def _ibsi_correlation(s):
    vx, vy, cov = s.centred_moments
    sx, sy = np.sqrt(vx), np.sqrt(vy)
    value = cov / (sx * sy + _EPS)
    return np.where(sx * sy == 0.0, 1.0, value)  # pyradiomics: 1 for a flat region


def _ibsi_imc1(s):
    hxy, hx, hy, hxy1, _ = s.eps_entropies
    div = np.fmax(hx, hy)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(div != 0.0, (hxy - hxy1) / div, 0.0)


def _ibsi_imc2(s):
    hxy, _, _, _, hxy2 = s.eps_entropies
    with np.errstate(invalid="ignore"):
        # NaN when rounding makes HXY > HXY2 (pyradiomics's complex root), 0 when equal
        value = np.sqrt(1.0 - exp(-2.0 * (hxy2 - hxy)))
    return np.where(hxy2 == hxy, 0.0, value)


def blas_limits(n_workers=1, *, one_thread=False):
    """The context an entry point computes features in, from the thread that calls it.

    BLAS on one thread when several workers share the cores (BLAS threads inside
    each, such as mahotas's own ``np.dot`` calls, would oversubscribe them) or
    when asked (``one_thread``: mahotas's dot products, split between threads,
    would sum in an order that follows the thread count); else no limit, and no
    threadpoolctl call (it reads the process's libraries, a few ms). Set around
    the whole run, in the calling thread: OpenBLAS may ignore a count set from a
    worker thread. No feature of the catalogue goes through the BLAS.
    """
    if n_workers > 1 or one_thread:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=1, user_api="blas")
    return nullcontext()


def _ibsi_mcc(s):
    """pyradiomics's MCC: sqrt of the second largest eigenvalue of Q, per matrix.

    Over the levels present, from each matrix's counts, all the matrices in one
    compiled call, in loops of this library's own (``haralick_learn.texture.eigen``)
    rather than LAPACK's, whose last digits follow the CPU's BLAS kernel: the
    same bits on every machine, pyradiomics's value to rounding. ``Q`` is
    similar to a symmetric matrix, but for the ``eps`` of its denominators:
    ``D^(1/2) Q D^(-1/2)``, ``D`` the row sums. Its eigenvalues are those of
    that matrix's symmetric part, whose difference (of the order of ``eps``
    over the product of two rare levels' probabilities) moves them by its
    square only (measured: 5e-15 relative at most, as LAPACK's rounding).
    """
    lows = (np.zeros(len(s.cmats), np.int64) if s.matrix_lows is None
            else np.asarray(s.matrix_lows))
    # level 0's row and column left out with ignore_zeros (index 0 when the matrix starts there)
    return _mcc_of(s.cmats, s.total, (lows == 0) & bool(s.ignore_zeros), s.flat_mcc)


def _mcc_of(cmats, totals, skip, flat_mcc):
    """IBSI's MCC of each matrix of counts (:func:`_mcc_of_counts`); ``flat_mcc`` (one
    value, or one per matrix) where fewer than two levels are present."""
    out = np.empty(len(cmats))
    out[:] = flat_mcc  # fewer than 2 levels: 1 for a flat region, else 0
    _mcc_of_counts(np.ascontiguousarray(cmats, np.int64), np.ascontiguousarray(totals, np.int64),
                   np.ascontiguousarray(skip, np.bool_), _EPS, out)
    return out


#: The features of :data:`MATRIX_FEATURES` that read the matrices' counts only, none of
#: their sums: :func:`eigenvalue_features` computes them without the sums.
EIGENVALUE_FEATURES = frozenset({"maximal_correlation_coefficient", "ibsi_MCC"})


def eigenvalue_features(cmats, names, *, ignore_zeros=False, flat_mcc=1.0):
    """The :data:`EIGENVALUE_FEATURES` ``names`` of each matrix, from its counts alone.

    The values :func:`features_of_matrices` gives (a row of NaN for a matrix
    without a pair), without the matrices' sums, which these features do not
    read: the many small matrices of texture maps skip that pass.

    Parameters
    ----------
    cmats : ndarray of int, shape (n_matrices, n_levels, n_levels)
    names : list of str
        Some of :data:`EIGENVALUE_FEATURES`.
    ignore_zeros : bool, default=False
    flat_mcc : float, default=1.0
        IBSI's MCC of a matrix with fewer than two levels
        (:attr:`GLCMStatistics.flat_mcc`).

    Returns
    -------
    ndarray of float64, shape (n_matrices, len(names))

    Examples
    --------
    >>> import numpy as np
    >>> cmats = np.array([[[2, 1, 0], [1, 4, 1], [0, 1, 3]], [[0, 0, 0], [0, 0, 0], [0, 0, 0]]])
    >>> values = eigenvalue_features(cmats, ["ibsi_MCC"])
    >>> bool(np.array_equal(values, features_of_matrices(cmats, ["ibsi_MCC"]), equal_nan=True))
    True
    """
    cmats = np.ascontiguousarray(cmats, np.int64)
    counted = cmats[:, 1:, 1:] if ignore_zeros else cmats
    totals = counted.sum(axis=(1, 2))
    out = np.empty((len(cmats), len(names)))
    for column, name in enumerate(names):
        if name == "ibsi_MCC":
            out[:, column] = _mcc_of(cmats, totals, np.full(len(cmats), bool(ignore_zeros)),
                                     flat_mcc)
        elif name == "maximal_correlation_coefficient":
            _maximal_correlations(cmats, bool(ignore_zeros), out[:, column])
        else:
            raise ValueError(f"{name!r} is not one of {sorted(EIGENVALUE_FEATURES)}")
    out[totals == 0] = np.nan
    return out


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _mcc_of_counts(cmats, totals, skip, eps, out):
    """``out[m]``: the MCC of the counts ``cmats[m]`` (their row and column 0 left out where
    ``skip[m]``) over the levels present, if two or more."""
    size = cmats.shape[1]
    row_sums, col_sums = np.empty(size, np.int64), np.empty(size, np.int64)
    levels = np.empty(size, np.intp)
    p = np.empty((size, size))
    weighted = np.empty((size, size))
    q = np.empty((size, size))
    roots = np.empty(size)
    d, e = np.empty(size), np.empty(size)
    for m in range(cmats.shape[0]):
        first = 1 if skip[m] else 0
        for i in range(size):
            row_sums[i] = col_sums[i] = 0
        for i in range(first, size):
            for k in range(first, size):
                count = cmats[m, i, k]
                row_sums[i] += count
                col_sums[k] += count
        n = 0
        for i in range(first, size):
            if row_sums[i] > 0 or col_sums[i] > 0:
                levels[n] = i
                n += 1
        if n < 2:
            continue
        total = float(totals[m])
        for i in range(n):
            for k in range(n):
                p[i, k] = cmats[m, levels[i], levels[k]] / total
        for i in range(n):
            px = row_sums[levels[i]] / total  # pyradiomics's px (rows) and py (columns)
            for k in range(n):
                weighted[i, k] = p[i, k] / (px * (col_sums[levels[k]] / total) + eps)
        # Q(i, j) = sum_k p(i, k) p(j, k) / (px(i) py(k) + eps)
        products_with_rows(weighted, p, n, n, q)
        # the symmetric part of D^(1/2) Q D^(-1/2) over the levels of a row: a level without
        # one has a row and a column of 0 in Q (its p(j, k) are 0), an eigenvalue 0
        kept = 0
        for i in range(n):
            if row_sums[levels[i]] > 0:
                roots[kept] = math.sqrt(row_sums[levels[i]] / total)
                levels[kept] = i  # now an index into q
                kept += 1
        for a in range(kept):
            for b in range(a + 1):
                forward = q[levels[a], levels[b]] * roots[a] / roots[b]
                backward = q[levels[b], levels[a]] * roots[b] / roots[a]
                weighted[a, b] = weighted[b, a] = 0.5 * (forward + backward)
        second = 0.0
        if kept >= 2:
            second = second_largest_symmetric_eigenvalue(weighted, kept, d, e)
        out[m] = math.sqrt(second) if second > 0.0 else (second if second != second else 0.0)


def _inverse(s, weights):
    """``sum_k P(|x - y| = k) w_k``, the weights shared or one row per matrix."""
    return np.einsum("mk,mk->m", s.diff_hist, np.broadcast_to(weights, s.diff_hist.shape))


def _correlation(s):
    sx, sy = np.sqrt(s.vx), np.sqrt(s.vy)
    flat = (sx == 0.0) | (sy == 0.0)  # mahotas: 1 when a marginal is constant
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (1.0 / sx / sy) * (s.sum_ij_p - s.ux * s.uy)
    return np.where(flat, 1.0, value)


def _sum_variance(s, preserve_haralick_bug):
    if preserve_haralick_bug:  # mahotas's option: around the sum entropy, as Haralick's typo
        centred = (s.sum_levels[None, :] - _entropy(s.sum_hist)[:, None]) ** 2
        return np.einsum("mk,mk->m", centred, s.sum_hist)
    return s.sum_square - s.sum_average**2


def _difference_variance(s, use_x_minus_y_variance):
    if use_x_minus_y_variance:  # VAR[|x - y|]
        return s.contrast - s.difference_average**2
    return s.difference_variance  # mahotas's default: VAR[P(|x - y|)], over its L values


def _imc1(s):
    max_hx_hy = np.maximum(s.hx, s.hy)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(max_hx_hy == 0.0, s.entropy - s.hxy1, (s.entropy - s.hxy1) / max_hx_hy)


def _imc2(s):
    return np.sqrt(np.maximum(0.0, 1.0 - exp(-2.0 * (s.hxy2 - s.entropy))))


def _maximal_correlation(s):
    out = np.empty(len(s.cmats))
    _maximal_correlations(np.ascontiguousarray(s.cmats, np.int64), bool(s.ignore_zeros), out)
    return out


#: The catalogue: feature name -> formula over :class:`GLCMStatistics` and the
#: options. The Haralick set is its first 13 (14) entries, in mahotas's order.
FEATURES = {
    "angular_second_moment": lambda s, o: s.asm,
    "contrast": lambda s, o: s.contrast,
    "correlation": lambda s, o: _correlation(s),
    "sum_of_squares_variance": lambda s, o: s.vx,
    "inverse_difference_moment": lambda s, o: s.idm,
    "sum_average": lambda s, o: s.sum_average,
    "sum_variance": lambda s, o: _sum_variance(s, o.get("preserve_haralick_bug", False)),
    "sum_entropy": lambda s, o: s.sum_entropy,
    "entropy": lambda s, o: s.entropy,
    "difference_variance": lambda s, o: _difference_variance(s, o["use_x_minus_y_variance"]),
    "difference_entropy": lambda s, o: s.difference_entropy,
    "information_measure_of_correlation_1": lambda s, o: _imc1(s),
    "information_measure_of_correlation_2": lambda s, o: _imc2(s),
    "maximal_correlation_coefficient": lambda s, o: _maximal_correlation(s),
    # scikit-image's graycoprops (symmetric, normed matrices), levels as they are
    "skimage_contrast": lambda s, o: s.contrast,
    "skimage_dissimilarity": lambda s, o: s.difference_average,
    "skimage_homogeneity": lambda s, o: s.idm,
    "skimage_energy": lambda s, o: np.sqrt(s.asm),
    "skimage_correlation": lambda s, o: _skimage_correlation(s),
    "skimage_ASM": lambda s, o: s.asm,
    "skimage_mean": lambda s, o: s.uy,  # its i is the row: the mean of the row sums
    "skimage_variance": lambda s, o: s.centred_moments[1],
    "skimage_std": lambda s, o: np.sqrt(s.centred_moments[1]),
    "skimage_entropy": lambda s, o: s.entropy * math.log(2.0),  # natural logarithm
    # pyradiomics's RadiomicsGLCM: levels count from 1 (level k is its bin k + 1), which
    # moves the features of absolute levels (Autocorrelation, JointAverage, SumAverage)
    "ibsi_Autocorrelation": lambda s, o: s.sum_ij_p + s.ux + s.uy + 1.0,
    "ibsi_ClusterProminence": lambda s, o: s.sum_moments[2],
    "ibsi_ClusterShade": lambda s, o: s.sum_moments[1],
    "ibsi_ClusterTendency": lambda s, o: s.sum_moments[0],
    "ibsi_Contrast": lambda s, o: s.contrast,
    "ibsi_Correlation": lambda s, o: _ibsi_correlation(s),
    "ibsi_DifferenceAverage": lambda s, o: s.difference_average,
    "ibsi_DifferenceEntropy": lambda s, o: s.eps_difference_entropy,
    "ibsi_DifferenceVariance": lambda s, o: covariance_of_sums(
        s.total, s.difference_average, s.difference_average, s.contrast),
    "ibsi_Id": lambda s, o: s.inverse_difference,
    "ibsi_Idm": lambda s, o: s.idm,
    "ibsi_Idmn": lambda s, o: s.inverse_difference_moment_normalized,
    "ibsi_Idn": lambda s, o: s.inverse_difference_normalized,
    "ibsi_Imc1": lambda s, o: _ibsi_imc1(s),
    "ibsi_Imc2": lambda s, o: _ibsi_imc2(s),
    "ibsi_InverseVariance": lambda s, o: s.inverse_variance,
    "ibsi_JointAverage": lambda s, o: s.uy + 1.0,
    "ibsi_JointEnergy": lambda s, o: s.asm,
    "ibsi_JointEntropy": lambda s, o: s.eps_entropies[0],
    "ibsi_MCC": lambda s, o: _ibsi_mcc(s),
    "ibsi_MaximumProbability": lambda s, o: s.maximum_probability,
    "ibsi_SumAverage": lambda s, o: s.sum_average + 2.0,
    "ibsi_SumEntropy": lambda s, o: s.eps_sum_entropy,
    "ibsi_SumSquares": lambda s, o: s.centred_moments[1],
}


#: The features that need the matrices themselves, not only their sums.
MATRIX_FEATURES = frozenset({
    "maximal_correlation_coefficient", "ibsi_Imc1", "ibsi_Imc2", "ibsi_JointEntropy",
    "ibsi_MCC", "ibsi_MaximumProbability",
})

#: The features whose formulas read the matrices' totals and level statistics only
#: (:func:`~haralick_learn.texture.counting.level_statistics`), none of their arrays by level.
LEVEL_FEATURES = frozenset({
    *FEATURE_NAMES[:13], "skimage_contrast", "skimage_dissimilarity", "skimage_homogeneity",
    "skimage_energy", "skimage_correlation", "skimage_ASM", "skimage_mean", "skimage_variance",
    "skimage_std", "skimage_entropy", "ibsi_Autocorrelation", "ibsi_Contrast",
    "ibsi_Correlation", "ibsi_DifferenceAverage", "ibsi_DifferenceVariance", "ibsi_Idm",
    "ibsi_JointAverage", "ibsi_JointEnergy", "ibsi_SumAverage", "ibsi_SumSquares",
})


def statistics_suffice(settings):
    """Whether the features of ``settings`` need only the matrices' totals and level
    statistics (:data:`LEVEL_FEATURES`; not ``preserve_haralick_bug``, which reads the sum
    histogram), so that their sums need no arrays by level."""
    return (sums_suffice(settings) and not settings.preserve_haralick_bug
            and set(settings.features) <= LEVEL_FEATURES)


#: The features of the matrices whose formulas read each matrix's own levels only
#: (:meth:`GLCMStatistics.rows`'s ``sides``): matrices of several sizes, padded with zeros
#: to the largest, get the features of each matrix alone.
PADDED_MATRIX_FEATURES = frozenset({
    "ibsi_Imc1", "ibsi_Imc2", "ibsi_JointEntropy", "ibsi_MCC", "ibsi_MaximumProbability",
})


@functools.lru_cache(maxsize=None)
def _cached_properties(cls):
    """The names of the statistics ``cls`` computes on first use that :meth:`rows` computes
    again (all but those of the sums by matrix)."""
    names = {name for klass in cls.__mro__ for name, value in vars(klass).items()
             if isinstance(value, functools.cached_property)}
    return frozenset(names - set(cls._OF_SUMS_BY_MATRIX))


def features_of_statistics(stats, names, *, use_x_minus_y_variance=False,
                           preserve_haralick_bug=False, out=None):
    """The features ``names`` (catalogue keys) of each matrix of ``stats``.

    Returns an array of shape (n_matrices, len(names)): ``out`` if given.

    A matrix that sums to 0 (no pixel pair) gives a row of NaN.
    """
    options = {"use_x_minus_y_variance": use_x_minus_y_variance,
               "preserve_haralick_bug": preserve_haralick_bug}
    if out is None:
        out = np.empty((len(stats.total), len(names)))
    if stats.empty.all():
        out[:] = np.nan
        return out
    with np.errstate(divide="ignore", invalid="ignore"):
        for column, name in enumerate(names):
            out[:, column] = FEATURES[name](stats, options)
    out[stats.empty] = np.nan
    return out


def features_of_matrices(cmats, names, *, ignore_zeros=False, use_x_minus_y_variance=False,
                         preserve_haralick_bug=False, level_values=None, n_levels=None,
                         flat_mcc=1.0):
    """The features ``names`` (catalogue keys) of each matrix: shape (n_matrices, len(names)).

    A matrix that sums to 0 (no pixel pair) gives a row of NaN. Compact
    matrices come with their ``level_values`` and ``n_levels`` (see
    :class:`GLCMStatistics`). ``flat_mcc``: IBSI's MCC of a matrix with fewer
    than two levels (:attr:`GLCMStatistics.flat_mcc`).
    """
    stats = GLCMStatistics.from_matrices(cmats, ignore_zeros, level_values, n_levels)
    stats.flat_mcc = flat_mcc
    return features_of_statistics(stats, names, use_x_minus_y_variance=use_x_minus_y_variance,
                                  preserve_haralick_bug=preserve_haralick_bug)


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _maximal_correlations(cmats, ignore_zeros, out):
    """Feature 14 of each matrix, as mahotas computes it (its BLAS and LAPACK calls as
    compiled loops: the same bits on every machine): over the levels whose column holds a
    count (row and column 0 left out with ``ignore_zeros``), NaN for an empty matrix, 0 for
    two levels or fewer."""
    size = cmats.shape[1]
    first = 1 if ignore_zeros else 0
    col_sums = np.empty(size, np.int64)
    levels = np.empty(size, np.intp)
    for m in range(cmats.shape[0]):
        total = 0
        for k in range(size):
            col_sums[k] = 0
        for i in range(first, size):
            for k in range(first, size):
                col_sums[k] += cmats[m, i, k]
        n = 0
        for k in range(first, size):
            total += col_sums[k]
            if col_sums[k] != 0:
                levels[n] = k
                n += 1
        if total == 0:
            out[m] = np.nan
            continue
        if n <= 2:
            out[m] = 0.0
            continue
        rows = np.empty((n, n))  # p over the levels kept, mahotas's p[nonzero][:, nonzero]
        for i in range(n):
            for k in range(n):
                rows[i, k] = cmats[m, levels[i], levels[k]] / float(total)
        out[m] = _square_root_of_second_correlation(rows)


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _square_root_of_second_correlation(rows):
    """sqrt of the second largest eigenvalue of ``numpy.corrcoef(rows)`` (NaN where a row is
    constant, or the eigenvalue negative, as mahotas's numpy calls give)."""
    n, length = rows.shape
    centred = np.empty((n, length))
    for i in range(n):
        total = 0.0
        for k in range(length):
            total += rows[i, k]
        mean = total / length
        for k in range(length):
            centred[i, k] = rows[i, k] - mean
    work = np.empty((n, n))
    products_with_rows(centred, centred, n, length, work, True)
    factor = 1.0 / (length - 1)  # numpy.cov's ddof=1
    deviations = np.empty(n)
    for i in range(n):
        deviations[i] = math.sqrt(work[i, i] * factor)
    for i in range(n):  # the lower triangle, as numpy's eigvalsh reads it, then mirrored
        for j in range(i + 1):
            value = work[i, j] * factor / deviations[i] / deviations[j]
            if not math.isfinite(value):  # a constant row has no correlation
                return np.nan
            work[i, j] = work[j, i] = min(max(value, -1.0), 1.0)
    real = second_largest_symmetric_eigenvalue(work, n, np.empty(n), np.empty(n))
    return math.sqrt(real) if real >= 0.0 else np.nan


def haralick_features(
    cmats, *, ignore_zeros=False, compute_14th_feature=False, use_x_minus_y_variance=False,
    preserve_haralick_bug=False, level_values=None, n_levels=None,
):
    """Haralick texture features of gray-level co-occurrence matrices.

    Computes the 13 (or 14) features of Haralick et al. [1]_ for each matrix,
    with the formulas and conventions of ``mahotas.features.haralick``
    (feature order as mahotas's ``haralick_labels``), to about 1e-12 relative.
    Unlike mahotas, an empty matrix does not raise: its features are NaN.

    Parameters
    ----------
    cmats : ndarray of int, shape (..., L, L)
        Co-occurrence matrices (counts), e.g. the output of
        :func:`~haralick_learn.texture.counting.cooccurrence`. Not modified.
    ignore_zeros : bool, default=False
        Treat row 0 and column 0 (pairs involving gray level 0, e.g. a
        background) as empty before normalising.
    compute_14th_feature : bool, default=False
        Also compute the maximal correlation coefficient (slow: an
        eigen-decomposition per matrix).
    use_x_minus_y_variance : bool, default=False
        Feature 10 (index 9) is ``VAR[P(|x-y|)]``, the variance of the ``L``
        probabilities ``P(|x-y| = k)``, as in mahotas by default; when True it
        is ``VAR[|x-y|]``, the variance of the gray-level difference.
    preserve_haralick_bug : bool, default=False
        Feature 7 (sum variance) is ``sum((k - f8)**2 P(x+y = k))`` with
        ``f8`` the sum entropy, the typo of Haralick's paper, as mahotas's
        option of the same name.
    level_values, n_levels : default=None
        For compact matrices (``cooccurrence(..., compact=True)``): the gray
        level of each row and column, and the image's number of levels. The
        features are those of the full ``n_levels x n_levels`` matrices.

    Returns
    -------
    features : ndarray of float64, shape (..., 13) or (..., 14)
        One row per matrix. A row is all NaN when its matrix sums to 0 (no
        pixel pair in that direction, or only pairs involving level 0 with
        ``ignore_zeros``).

    Notes
    -----
    mahotas's conventions, reproduced here: correlation is 1 when a marginal
    standard deviation is 0; the first information measure of correlation is
    not divided by ``max(HX, HY)`` when that is 0; logarithms of zero
    probabilities count as 0; feature 14 is the square root of the second
    largest eigenvalue of the correlation matrix of the non-empty rows, or 0
    when at most two rows are non-empty.

    References
    ----------
    .. [1] R. M. Haralick, K. Shanmugam and I. Dinstein, "Textural Features for
       Image Classification", IEEE Transactions on Systems, Man, and
       Cybernetics, SMC-3(6):610-621, 1973. doi:10.1109/TSMC.1973.4309314

    Examples
    --------
    >>> import numpy as np
    >>> cmat = np.array([[2, 1, 0],
    ...                  [1, 0, 1],
    ...                  [0, 1, 2]])
    >>> feats = haralick_features(cmat)
    >>> feats.shape
    (13,)
    >>> feats[:2]  # angular second moment, contrast
    array([0.1875, 0.5   ])
    >>> bool(np.isnan(haralick_features(np.zeros((2, 2), dtype=int))).all())
    True
    """
    cmats = np.asarray(cmats)
    if cmats.ndim < 2 or cmats.shape[-1] != cmats.shape[-2]:
        raise ValueError(f"cmats must be square matrices (..., L, L), got shape {cmats.shape}")
    if cmats.dtype.kind not in "iu":
        raise TypeError(f"cmats must hold integer counts, got dtype {cmats.dtype}")
    if cmats.size and cmats.min() < 0:
        raise ValueError("cmats must hold non-negative counts")
    batch_shape = cmats.shape[:-2]
    n_cells = cmats.shape[-1]
    # one compiled specialisation (int64); no copy for cooccurrence's output
    flat = np.ascontiguousarray(cmats.reshape((-1, n_cells, n_cells)), dtype=np.int64)
    names = FEATURE_NAMES[: 14 if compute_14th_feature else 13]
    if level_values is not None:
        level_values = np.asarray(level_values)
        valid = (
            n_levels is not None
            and level_values.shape == (n_cells,)
            and level_values.dtype.kind in "iu"
            and (n_cells == 0 or (level_values[0] >= 0 and level_values[-1] < n_levels))
            and bool((np.diff(level_values) > 0).all())
        )
        if not valid:
            raise ValueError("level_values must be increasing levels in [0, n_levels), one "
                             "per row of the matrices")
    out = features_of_matrices(flat, names, ignore_zeros=ignore_zeros,
                               use_x_minus_y_variance=use_x_minus_y_variance,
                               preserve_haralick_bug=preserve_haralick_bug,
                               level_values=level_values, n_levels=n_levels)
    return out.reshape(batch_shape + (len(names),))


def image_features(gray, settings, mask=None):
    """Features of a gray-level image per distance and direction, by ``settings.backend``.

    Parameters
    ----------
    gray : ndarray of int, shape (height, width) or (depth, height, width)
        Non-negative gray levels (the quantize stage's output); a volume
        when ``settings.volume``.
    settings : TextureSettings
        Distances, directions, options and backend.
    mask : ndarray of bool of ``gray``'s shape, default=None
        Count only the pairs whose two pixels both lie in it (compiled
        kernels only: mahotas has no masks).

    Returns
    -------
    features : ndarray of float64, shape (n_distances, n_directions, n_features)
        NaN for a direction without any (counted) pixel pair. With
        ``settings.volume="2d"`` see :func:`slice_features`.
    """
    if settings.volume == "2d":
        return slice_features(gray, settings, mask)
    directions = tuple(offset for _, offset in settings.directions)
    if settings.backend == "mahotas":
        if mask is not None:
            raise ValueError("masks need the compiled kernels: backend='mahotas' has none "
                             "(use backend='auto')")
        return _mahotas_features(
            gray, settings.distances, directions, symmetric=settings.symmetric,
            ignore_zeros=settings.ignore_zeros,
            compute_14th_feature=settings.compute_14th_feature,
            use_x_minus_y_variance=settings.use_x_minus_y_variance,
            preserve_haralick_bug=settings.preserve_haralick_bug,
        )
    if sums_suffice(settings):
        stats = GLCMStatistics(image_sums(gray, settings, mask), settings.ignore_zeros)
        return features_of_statistics(
            stats, settings.features, use_x_minus_y_variance=settings.use_x_minus_y_variance,
            preserve_haralick_bug=settings.preserve_haralick_bug,
        ).reshape(len(settings.distances), -1, len(settings.features))
    count = functools.partial(cooccurrence, gray, symmetric=settings.symmetric, mask=mask)
    flat_mcc = 1.0
    if "ibsi_MCC" in settings.features and not is_flat(gray, mask, settings.ignore_zeros):
        flat_mcc = 0.0  # a direction of one level in a region of more: Q's second eigenvalue
    return _catalogue_features(count, settings, compact=compacts_matrices(settings),
                               flat_mcc=flat_mcc)


def is_flat(gray, mask=None, ignore_zeros=False):
    """Whether the pixels counted (inside ``mask``; not level 0 with ``ignore_zeros``) have
    fewer than two levels: pyradiomics's flat region, whose MCC is 1.

    Examples
    --------
    >>> import numpy as np
    >>> is_flat(np.array([[3, 3], [3, 4]])), is_flat(np.array([[0, 3], [3, 3]]), None, True)
    (False, True)
    """
    values = gray if mask is None else gray[mask]
    if ignore_zeros:
        values = values[values != 0]
    return bool(values.size == 0 or values.min() == values.max())


def compacts_matrices(settings):
    """Whether :func:`image_features` counts compact matrices (the levels present only).

    It does, when there are fewer pixels than cells (small regions of 256-level
    images), for the Haralick set with offsets scaled by the distance and
    unmerged directions: the matrices' sums, and so its features, are the same
    either way (they are exact). Other features of the matrices come from the
    full ``L x L`` matrices.
    """
    return (settings.scaled_directions and settings.aggregate != "merged"
            and set(settings.features) <= set(FEATURE_NAMES))


def slice_features(gray, settings, mask=None):
    """IBSI's 2-D features of a volume: each slice along axis 0 on its own.

    Each slice's features are those of a one-slice ``volume="2.5d"`` (its 4
    in-plane directions; with ``aggregate="merged"`` their matrices summed,
    IBSI's 2D:smrg). A slice without any (counted) pair in a direction is left
    out, as IBSI and MIRP leave it out of the average.

    Returns
    -------
    features : ndarray of float64, shape (n_distances, n_rows, n_features)
        With ``aggregate`` None: each direction's features averaged over the
        slices that have its pairs (4 rows); ``"merged"``: each slice's merged
        features averaged (1 row); any other aggregate: a row per slice and
        direction (slice-major), which the aggregate stage reduces as it
        reduces directions (``"mean"``: IBSI's 2D:avg).
    """
    per_slice = dataclasses.replace(
        settings, volume="2.5d", aggregate="merged" if settings.aggregate == "merged" else None)
    n_rows = 1 if per_slice.aggregate == "merged" else len(per_slice.directions)
    features = np.full((gray.shape[0], len(settings.distances), n_rows,
                        len(settings.features)), np.nan)
    for z in range(gray.shape[0]):
        if mask is None:
            features[z] = image_features(gray[z:z + 1], per_slice)
        elif mask[z].any():  # a slice outside the mask has no pair: NaN, left out
            features[z] = image_features(gray[z:z + 1], per_slice, mask[z:z + 1])
    if settings.aggregate not in (None, "merged"):
        return features.swapaxes(0, 1).reshape(features.shape[1], -1, features.shape[-1])
    present = ~np.isnan(features).all(axis=-1, keepdims=True)
    counts = present.sum(axis=0)
    total = np.where(present, features, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, total / counts, np.nan)


def sums_suffice(settings):
    """Whether the features of ``settings`` derive from the matrices' sums alone.

    They do unless some feature needs the matrices themselves
    (:data:`MATRIX_FEATURES`), the directions' matrices are merged, each slice
    of a volume is featurized on its own (``volume="2d"``), or the reference
    (mahotas) computes them. Such settings featurize a batch of
    images with one :class:`GLCMStatistics` (:func:`image_sums` for each).
    """
    return (settings.backend != "mahotas" and settings.aggregate != "merged"
            and settings.volume != "2d" and not set(settings.features) & MATRIX_FEATURES)


def image_sums(gray, settings, mask=None):
    """The :class:`~haralick_learn.texture.counting.CooccurrenceSums` of an image's matrices.

    One matrix per distance and direction, in the order of ``settings``
    (pyradiomics's offsets: each distance's block padded to the longest
    with empty matrices, as :func:`image_features` pads), ``settings.ignore_zeros``
    applied. The features of many images are those of their concatenated sums.
    """
    options = dict(symmetric=settings.symmetric, mask=mask, ignore_zeros=settings.ignore_zeros)
    if settings.scaled_directions:
        directions = tuple(offset for _, offset in settings.directions)
        return cooccurrence_sums(gray, settings.distances, directions, **options)
    blocks = [cooccurrence_sums(gray, (1,), settings.offsets_at(d), **options)
              for d in settings.distances]
    width = max(len(block) for block in blocks)
    padded = []
    for block in blocks:
        padded.append(block)
        if len(block) < width:
            padded.append(CooccurrenceSums(width - len(block), block.n_levels[0]))
    return CooccurrenceSums.concatenate(padded)


def pair_features(first, second, settings, mask=None):
    """Features of the cross-channel co-occurrence of two level images, per distance and direction.

    The matrices of :func:`~haralick_learn.texture.counting.cross_cooccurrence` (both
    orders of each pixel pair, or with ``settings.symmetric=False`` the first
    only), with the offsets, ``aggregate="merged"`` and feature catalogue of
    ``settings``, as :func:`image_features` uses for a gray image. Always the
    compiled kernels: the reference (mahotas) has no cross-channel
    co-occurrence, whatever ``settings.backend``.

    Parameters
    ----------
    first, second : ndarray of int, shape (height, width)
        Non-negative levels of two channels (the quantize stage's output).
    settings : TextureSettings
        Distances, directions and options.
    mask : ndarray of bool of the images' shape, default=None
        Count only the pixel pairs whose two pixels both lie in it.

    Returns
    -------
    features : ndarray of float64, shape (n_distances, n_directions, n_features)
    """
    return _catalogue_features(functools.partial(cross_cooccurrence, first, second,
                                                 symmetric=settings.symmetric, mask=mask),
                               settings)


def _catalogue_features(count, settings, compact=False, flat_mcc=1.0):
    """The catalogue's features of the matrices ``count(distances, directions)`` returns.

    ``flat_mcc``: IBSI's MCC of a matrix with fewer than two levels (see
    :attr:`GLCMStatistics.flat_mcc`).
    """
    directions = tuple(offset for _, offset in settings.directions)
    level_values = n_levels = None
    if compact:
        cmats, level_values, n_levels = count(settings.distances, directions, compact="auto")
    elif settings.scaled_directions:
        cmats = count(settings.distances, directions)
    else:  # offsets that are not multiples of a unit: one call per distance
        blocks = [count((1,), settings.offsets_at(d)) for d in settings.distances]
        # pyradiomics's offsets are 4 d at distance d: blocks are padded with empty
        # matrices (NaN features, left out of aggregates and dropped from unaggregated rows)
        width = max(block.shape[1] for block in blocks)
        cmats = np.concatenate([np.pad(block, [(0, 0), (0, width - block.shape[1]), (0, 0),
                                               (0, 0)]) for block in blocks])
    if settings.aggregate == "merged":  # IBSI's merged matrix: directions summed first
        cmats = cmats.sum(axis=1, keepdims=True)
    n_cells = cmats.shape[-1]
    flat = np.ascontiguousarray(cmats.reshape((-1, n_cells, n_cells)), dtype=np.int64)
    out = features_of_matrices(flat, settings.features, ignore_zeros=settings.ignore_zeros,
                               use_x_minus_y_variance=settings.use_x_minus_y_variance,
                               preserve_haralick_bug=settings.preserve_haralick_bug,
                               level_values=level_values, n_levels=n_levels,
                               flat_mcc=flat_mcc)
    return out.reshape(cmats.shape[:2] + (len(settings.features),))


def _mahotas_features(gray, distances, directions, *, symmetric, ignore_zeros,
                      compute_14th_feature, use_x_minus_y_variance, preserve_haralick_bug):
    """The reference: mahotas's own co-occurrence and feature functions.

    Called per direction so that a direction without any pair gives NaN (as
    the compiled kernels do) where ``mahotas.features.haralick`` would raise.
    """
    from mahotas.features import texture

    # mahotas numbers its directions in the order of DIRECTIONS_2D / DIRECTIONS_3D.
    named = DIRECTIONS_2D if gray.ndim == 2 else DIRECTIONS_3D
    mahotas_direction = {offset: index for index, (_, offset) in enumerate(named)}
    n_features = 14 if compute_14th_feature else 13
    features = np.full((len(distances), len(directions), n_features), np.nan)
    # Sized as mahotas.features.haralick does: cooccurence's own allocation
    # overflows for a uint8 image whose maximum is 255.
    n_levels = int(gray.max()) + 1
    for i, d in enumerate(distances):
        for j, offset in enumerate(directions):
            cmat = np.zeros((n_levels, n_levels), np.int32)
            texture.cooccurence(gray, mahotas_direction[tuple(offset)], output=cmat,
                                symmetric=symmetric, distance=d)
            counted = cmat[1:, 1:] if ignore_zeros else cmat
            if not counted.any():
                continue
            features[i, j] = texture.haralick_features(
                [cmat],
                ignore_zeros=ignore_zeros,
                preserve_haralick_bug=preserve_haralick_bug,
                compute_14th_feature=compute_14th_feature,
                use_x_minus_y_variance=use_x_minus_y_variance,
            )[0]
    return features
