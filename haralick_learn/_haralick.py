"""Haralick texture features from co-occurrence matrices, equal to mahotas's.

Math on arrays only: the caller validates its inputs. The formulas, their
order and their quirks follow ``mahotas.features.texture.haralick_features``
(mahotas 1.4) so that the values agree to about 1e-12 relative; the one
deliberate difference is that an empty matrix gives a row of NaN instead of
raising.
"""

import numba
import numpy as np

from ._glcm import cooccurrence

__all__ = ["HARALICK_LABELS", "haralick_features", "haralick_image"]

#: Feature names, in output order (as ``mahotas.features.texture.haralick_labels``).
HARALICK_LABELS = (
    "Angular Second Moment",
    "Contrast",
    "Correlation",
    "Sum of Squares: Variance",
    "Inverse Difference Moment",
    "Sum Average",
    "Sum Variance",
    "Sum Entropy",
    "Entropy",
    "Difference Variance",
    "Difference Entropy",
    "Information Measure of Correlation 1",
    "Information Measure of Correlation 2",
    "Maximal Correlation Coefficient",
)


# log2 of the small counts: 4096 entries (32 KB) cover ~99% of the non-zero
# cells of a photograph's co-occurrence matrix and spare one libm call each.
_LOG2_SMALL_COUNTS = np.log2(np.maximum(np.arange(4096, dtype=np.float64), 1.0))


@numba.njit(nogil=True, cache=True)
def _log2_count(count, log2_small):
    """log2 of a positive integer count, from the table when it is small."""
    if count < log2_small.shape[0]:
        return log2_small[count]
    return np.log2(float(count))


@numba.njit(nogil=True, cache=True)
def _entropy(prob):
    """``-sum(p * log2(p))`` over the non-zero entries (mahotas maps 0 to log2(1))."""
    total = 0.0
    for value in prob:
        if value != 0.0:
            total += np.log2(value) * value
    return -total


@numba.njit(nogil=True, cache=True, fastmath={"reassoc"})
def _haralick_kernel(cmats, ignore_zeros, use_x_minus_y_variance, log2_small, out):
    """Write the 13 Haralick features of each ``cmats[m]`` into ``out[m, :13]``.

    ``out[m]`` is all NaN when the matrix (without row and column 0 if
    ``ignore_zeros``) sums to 0.  Zero entries are skipped: they add nothing
    to any sum and mahotas's ``p + (p == 0)`` trick makes their log terms 0.

    ``fastmath={"reassoc"}`` only lets LLVM reorder (vectorise) the sums; no
    approximate functions, no flush-to-zero, NaN and inf semantics intact.
    """
    n_mats, n_levels, _ = cmats.shape
    start = 1 if ignore_zeros else 0
    px = np.empty(n_levels)  # column sums, p.sum(0) in mahotas
    py = np.empty(n_levels)  # row sums, p.sum(1)
    log_px = np.empty(n_levels)
    log_py = np.empty(n_levels)
    py_mask = np.empty(n_levels)
    px_plus_y = np.empty(2 * n_levels)
    px_minus_y = np.empty(n_levels)
    inverse_difference = np.empty(n_levels)  # 1 / (1 + (i - j)**2)
    for k in range(n_levels):
        inverse_difference[k] = 1.0 / (k * k + 1)

    for m in range(n_mats):
        cmat = cmats[m]
        total = np.int64(0)
        for i in range(start, n_levels):
            for j in range(start, n_levels):
                total += np.int64(cmat[i, j])
        if total == 0:
            out[m, :13] = np.nan
            continue
        total_f = float(total)
        log2_total = _log2_count(total, log2_small)

        px[:] = 0.0
        py[:] = 0.0
        px_plus_y[:] = 0.0
        px_minus_y[:] = 0.0
        angular_second_moment = 0.0
        sum_ij_p = 0.0
        inverse_difference_moment = 0.0
        c_log_c = 0.0
        # Sums over the L**2 entries are accumulated per row, then over rows:
        # a single running sum of 65536 terms loses ~1e-12 relative, which the
        # cancellation in IMC1 amplifies beyond 1e-10.
        for i in range(start, n_levels):
            row_asm = 0.0
            row_ij = 0.0
            row_idm = 0.0
            row_log = 0.0
            for j in range(start, n_levels):
                count = cmat[i, j]
                if count == 0:
                    continue
                p = np.int64(count) / total_f
                px[j] += p
                py[i] += p
                px_plus_y[i + j] += p
                diff = abs(i - j)
                px_minus_y[diff] += p
                row_asm += p * p
                row_ij += (i * j) * p
                row_idm += inverse_difference[diff] * p
                # p * log2(p) * T, with log2(p) = log2(count) - log2(T): the
                # same function for both logs, so a lone cell (count == T)
                # gives exactly 0, as in mahotas
                row_log += (_log2_count(count, log2_small) - log2_total) * count
            angular_second_moment += row_asm
            sum_ij_p += row_ij
            inverse_difference_moment += row_idm
            c_log_c += row_log
        entropy = -c_log_c / total_f

        ux = 0.0
        uy = 0.0
        px_k2 = 0.0
        py_k2 = 0.0
        sum_px = 0.0
        sum_py = 0.0
        for k in range(n_levels):
            ux += px[k] * k
            uy += py[k] * k
            px_k2 += px[k] * (k * k)
            py_k2 += py[k] * (k * k)
            sum_px += px[k]
            sum_py += py[k]
            log_px[k] = np.log2(px[k]) if px[k] != 0.0 else 0.0
            log_py[k] = np.log2(py[k]) if py[k] != 0.0 else 0.0
            py_mask[k] = 1.0 if py[k] != 0.0 else 0.0
        vx = px_k2 - ux**2
        vy = py_k2 - uy**2
        sx = np.sqrt(vx)
        sy = np.sqrt(vy)

        # HXY1 = -sum p[i, j] * log2(px[i] * py[j]), the log taken as 0 when
        # the product is 0. No product of non-zero marginals underflows (each
        # is >= 1 / total), so log2(px[i] * py[j]) = log2(px[i]) + log2(py[j])
        # up to rounding, without a log per entry.
        # Branch-free over j (vectorisable): log_py is 0 where py is 0 and
        # py_mask zeroes p there, so only cells with px[i] * py[j] > 0 count.
        p_log_pxpy = 0.0
        for i in range(start, n_levels):
            if px[i] == 0.0:
                continue
            row_p = 0.0
            row_log = 0.0
            for j in range(start, n_levels):
                p = cmat[i, j] / total_f
                row_p += p * py_mask[j]
                row_log += p * log_py[j]
            p_log_pxpy += log_px[i] * row_p + row_log
        hxy1 = -p_log_pxpy

        hx = _entropy(px)
        hy = _entropy(py)
        # HXY2 = entropy of the outer product px * py (zeros mapped to 1).
        # Closed form: sum_ij px_i py_j (log px_i + log py_j) over non-zero
        # marginals = sum(py) * sum(px log px) + sum(px) * sum(py log py), i.e.
        # sum(py) * HX + sum(px) * HY.  It differs from mahotas's L**2-term
        # sum by rounding only (< 1e-14 relative in our parity tests) and
        # avoids L**2 logarithms.
        hxy2 = sum_py * hx + sum_px * hy

        sum_average = 0.0
        sum_tk2 = 0.0
        for k in range(2 * n_levels):
            sum_average += px_plus_y[k] * k
            sum_tk2 += px_plus_y[k] * (k * k)

        contrast = 0.0
        mean_diff = 0.0  # sum_k k * P(|x-y| = k)
        mean_prob = 0.0  # sum_k P(|x-y| = k)
        for k in range(n_levels):
            contrast += px_minus_y[k] * (k * k)
            mean_diff += px_minus_y[k] * k
            mean_prob += px_minus_y[k]
        if use_x_minus_y_variance:
            # VAR[|x-y|]
            difference_variance = contrast - mean_diff**2
        else:
            # mahotas's default, px_minus_y.var(): VAR[P(|x-y|)] over the L
            # probabilities, two-pass like numpy
            mean_prob /= n_levels
            difference_variance = 0.0
            for k in range(n_levels):
                deviation = px_minus_y[k] - mean_prob
                difference_variance += deviation * deviation
            difference_variance /= n_levels

        feats = out[m]
        feats[0] = angular_second_moment
        feats[1] = contrast
        if sx == 0.0 or sy == 0.0:
            feats[2] = 1.0
        else:
            feats[2] = (1.0 / sx / sy) * (sum_ij_p - ux * uy)
        feats[3] = vx
        feats[4] = inverse_difference_moment
        feats[5] = sum_average
        feats[6] = sum_tk2 - sum_average**2
        feats[7] = _entropy(px_plus_y)
        feats[8] = entropy
        feats[9] = difference_variance
        feats[10] = _entropy(px_minus_y)
        max_hx_hy = max(hx, hy)
        if max_hx_hy == 0.0:
            feats[11] = entropy - hxy1
        else:
            feats[11] = (entropy - hxy1) / max_hx_hy
        feats[12] = np.sqrt(max(0.0, 1.0 - np.exp(-2.0 * (hxy2 - entropy))))


def _maximal_correlation_coefficient(cmat, ignore_zeros):
    """Feature 14 of one matrix with numpy, exactly as mahotas computes it."""
    if ignore_zeros:
        cmat = cmat.copy()
        cmat[0] = 0
        cmat[:, 0] = 0
    total = cmat.sum()
    if not total:
        return np.nan
    p = cmat / float(total)
    px = p.sum(0)
    nonzero = px != 0
    nz_pmat = p[nonzero, :][:, nonzero]
    if nz_pmat.shape[0] <= 2:
        return 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        e_vals = np.linalg.eigvalsh(np.corrcoef(nz_pmat))
        e_vals.sort()
        return np.sqrt(e_vals[-2])


def haralick_features(
    cmats, *, ignore_zeros=False, compute_14th_feature=False, use_x_minus_y_variance=False
):
    """Haralick texture features of gray-level co-occurrence matrices.

    Computes the 13 (or 14) features of Haralick et al. [1]_ for each matrix,
    with the formulas and conventions of ``mahotas.features.haralick``
    (feature order as :data:`HARALICK_LABELS`), to about 1e-12 relative.
    Unlike mahotas, an empty matrix does not raise: its features are NaN.

    Parameters
    ----------
    cmats : ndarray of int, shape (..., L, L)
        Co-occurrence matrices (counts), e.g. the output of
        :func:`~haralick_learn._glcm.cooccurrence`. Not modified.
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
    assert cmats.ndim >= 2 and cmats.shape[-1] == cmats.shape[-2]
    assert np.issubdtype(cmats.dtype, np.integer)
    batch_shape = cmats.shape[:-2]
    n_levels = cmats.shape[-1]
    # one compiled specialisation (int64); no copy for cooccurrence's output
    flat = np.ascontiguousarray(cmats.reshape((-1, n_levels, n_levels)), dtype=np.int64)
    n_features = 14 if compute_14th_feature else 13
    out = np.empty((flat.shape[0], n_features), dtype=np.float64)
    _haralick_kernel(
        flat, bool(ignore_zeros), bool(use_x_minus_y_variance), _LOG2_SMALL_COUNTS, out
    )
    if compute_14th_feature:
        for m in range(flat.shape[0]):
            out[m, 13] = _maximal_correlation_coefficient(flat[m], ignore_zeros)
    return out.reshape(batch_shape + (n_features,))


def haralick_image(
    gray,
    distances=(1,),
    *,
    ignore_zeros=False,
    compute_14th_feature=False,
    use_x_minus_y_variance=False,
):
    """Haralick features of a gray image for each distance and direction.

    Equivalent to ``mahotas.features.haralick(gray, distance=d, ...)`` for
    each ``d`` in `distances`, stacked, except that a direction without any
    pixel pair gives NaN instead of raising.

    Parameters
    ----------
    gray : ndarray of int, shape (height, width)
        Gray image with integer values in ``[0, L)``; uint8 is the fastest.
    distances : tuple of int, default=(1,)
        Positive neighbour distances, in pixels.
    ignore_zeros : bool, default=False
        Ignore pixel pairs involving gray level 0.
    compute_14th_feature : bool, default=False
        Also compute the (slow) maximal correlation coefficient.
    use_x_minus_y_variance : bool, default=False
        Use ``VAR[|x-y|]`` instead of mahotas's default ``VAR[P(|x-y|)]`` for
        feature 10 (index 9).

    Returns
    -------
    features : ndarray of float64, shape (len(distances), 4, n_features)
        ``n_features`` is 13, or 14 with `compute_14th_feature`. Directions
        are horizontal, diagonal, vertical, anti-diagonal, as in mahotas.

    See Also
    --------
    haralick_features : the features of given co-occurrence matrices.

    References
    ----------
    .. [1] R. M. Haralick, K. Shanmugam and I. Dinstein, "Textural Features for
       Image Classification", IEEE Transactions on Systems, Man, and
       Cybernetics, SMC-3(6):610-621, 1973. doi:10.1109/TSMC.1973.4309314

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.array([[0, 1, 1, 2],
    ...                  [0, 1, 2, 2],
    ...                  [3, 3, 2, 2]], dtype=np.uint8)
    >>> feats = haralick_image(gray, distances=(1, 2))
    >>> feats.shape
    (2, 4, 13)
    >>> float(feats[0, 0, 1])  # contrast, horizontal direction, distance 1
    0.5555...
    >>> haralick_image(gray[:1]).shape  # one row: only horizontal pairs
    (1, 4, 13)
    >>> np.isnan(haralick_image(gray[:1])[0, :, 0])
    array([False,  True,  True,  True])
    """
    cmats = cooccurrence(gray, distances)
    return haralick_features(
        cmats,
        ignore_zeros=ignore_zeros,
        compute_14th_feature=compute_14th_feature,
        use_x_minus_y_variance=use_x_minus_y_variance,
    )
