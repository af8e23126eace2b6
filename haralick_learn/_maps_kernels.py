"""Compiled kernels of the texture maps: Haralick features of a sliding window, updated.

Math on arrays only: the caller (``_maps``) validates, quantizes, allocates
the output and runs the bands of rows in threads; these functions fill the
output and check nothing. They release the GIL (``nogil``).

When the window moves by one pixel, one column of pixels leaves it and one
enters: only the pixel pairs with a pixel in those columns change. Every one
of the 13 Haralick features of a symmetric co-occurrence matrix ``C`` (total
``T``) is a formula over sums of a function of *one* count, of the matrix,
of its marginal ``Px`` (= ``Py``), of the difference histogram
``D[k] = sum_{|i-j|=k} C[i, j]`` or of the sum histogram
``S[k] = sum_{i+j=k} C[i, j]``, so the kernel keeps, per offset, those
counts and these sums and updates them pair by pair (:func:`_add_pair`):

* integer sums, exact: ``T``, ``sum C**2``, ``sum_i i Px[i]``,
  ``sum_i i**2 Px[i]``, ``sum_ij i j C[i, j]``, ``sum D[k]**2``,
  ``sum k D[k]``;
* fixed-point sums, exact as integers (no drift, whatever the path of the
  window): ``sum n log2 n`` over the cells, ``Px``, ``D`` and ``S``, from a
  table of ``round(n log2(n) * 2**shift)`` for every count ``n`` a window can
  hold, and ``sum D[k] / (1 + k**2)`` from a table of
  ``round(2**shift / (1 + k**2))``.

The features then follow in a few operations per window
(:func:`_window_features`), with the cancellations of the float formulas
(variances, correlation, the information measures) done in integers. Nothing
accumulates rounding from one window to the next: a window's value depends
only on the pixels inside it, not on the order the kernel visited them, so
bands of rows and tiles give identical values.
"""

import math

import numba
import numpy as np

from ._libm import log2

# Fields of the per-offset integer accumulators ``acc[m]``.
_T, _Q, _S1, _S2, _SIJ, _DQ, _DK1, _H, _HX, _HD, _HS, _IDM = range(12)
N_ACC = 12
#: Number of Haralick features a window gets (the 14th is refused).
N_FEATURES = 13


def fixed_point_tables(max_count, n_levels):
    """``(nlogn, inv, nlogn_scale, inv_scale)``: the fixed-point tables of a window size.

    ``nlogn[n] = round(n log2(n) * 2**a)`` for ``n <= max_count`` and
    ``inv[k] = round(2**b / (1 + k**2))`` for ``k < n_levels``, with ``a`` and
    ``b`` as large as int64 sums over a window allow; the scales are
    ``2**-a`` and ``2**-b``.
    """
    n = np.arange(max_count + 1, dtype=np.float64)
    nlogn = n * log2(np.maximum(n, 1.0))
    # Any sum of n log2 n over a window is at most T log2 T <= max_count log2 max_count.
    top = max(float(nlogn[-1]), 1.0)
    a = min(52, int(np.floor(61 - math.log2(top + 1.0))))
    b = min(52, int(np.floor(61 - math.log2(max_count + 1.0))))
    nlogn_fixed = np.rint(np.ldexp(nlogn, a)).astype(np.int64)
    k = np.arange(n_levels, dtype=np.float64)
    inv_fixed = np.rint(np.ldexp(1.0 / (1.0 + k * k), b)).astype(np.int64)
    return nlogn_fixed, inv_fixed, float(np.ldexp(1.0, -a)), float(np.ldexp(1.0, -b))


@numba.njit(nogil=True, cache=True, inline="always")
def _add_pair(a, b, s, n_levels, cells, px, dh, sh, acc, nlogn, inv):
    """Add (``s = 1``) or remove (``s = -1``) the pixel pair of levels ``(a, b)``."""
    if a > b:
        a, b = b, a
    acc[_T] += 2 * s
    acc[_S1] += s * (a + b)
    acc[_S2] += s * (a * a + b * b)
    acc[_SIJ] += 2 * s * a * b
    # cells holds each unordered pair once: C[a, b] = C[b, a] = n (a != b), C[a, a] = 2 n
    idx = a * n_levels + b
    old = np.int64(cells[idx])
    new = old + s
    cells[idx] = new
    if a == b:
        acc[_Q] += 4 * (new * new - old * old)
        acc[_H] += nlogn[2 * new] - nlogn[2 * old]
    else:
        acc[_Q] += 2 * (new * new - old * old)
        acc[_H] += 2 * (nlogn[new] - nlogn[old])
    old = np.int64(px[a])
    px[a] = old + s
    acc[_HX] += nlogn[old + s] - nlogn[old]
    old = np.int64(px[b])
    px[b] = old + s
    acc[_HX] += nlogn[old + s] - nlogn[old]
    k = b - a
    old = np.int64(dh[k])
    new = old + 2 * s
    dh[k] = new
    acc[_DQ] += new * new - old * old
    acc[_HD] += nlogn[new] - nlogn[old]
    acc[_DK1] += 2 * s * k
    acc[_IDM] += 2 * s * inv[k]
    k = a + b
    old = np.int64(sh[k])
    new = old + 2 * s
    sh[k] = new
    acc[_HS] += nlogn[new] - nlogn[old]


@numba.njit(nogil=True, cache=True)
def _column_pairs(levels, c, lo, hi, y0, y1, oy, ox, s, ignore_zeros, n_levels,
                  cells, px, dh, sh, acc, nlogn, inv):
    """Add or remove the pairs of offset ``(oy, ox)`` with a pixel in column ``c``.

    Only pairs with both pixels in rows ``[y0, y1)`` and columns ``[lo, hi)``
    (which holds ``c``) count.
    """
    if ox == 0:
        for i in range(y0, y1 - oy):
            a = np.int64(levels[i, c])
            b = np.int64(levels[i + oy, c])
            if not (ignore_zeros and (a == 0 or b == 0)):
                _add_pair(a, b, s, n_levels, cells, px, dh, sh, acc, nlogn, inv)
        return
    j = c + ox  # c holds the first pixel
    if lo <= j < hi:
        for i in range(y0, y1 - oy):
            a = np.int64(levels[i, c])
            b = np.int64(levels[i + oy, j])
            if not (ignore_zeros and (a == 0 or b == 0)):
                _add_pair(a, b, s, n_levels, cells, px, dh, sh, acc, nlogn, inv)
    j = c - ox  # c holds the second pixel
    if lo <= j < hi:
        for i in range(y0, y1 - oy):
            a = np.int64(levels[i, j])
            b = np.int64(levels[i + oy, c])
            if not (ignore_zeros and (a == 0 or b == 0)):
                _add_pair(a, b, s, n_levels, cells, px, dh, sh, acc, nlogn, inv)


@numba.njit(nogil=True, cache=True, inline="always")
def _window_features(acc, n_levels_window, use_x_minus_y_variance, nlogn, nlogn_scale,
                     inv_scale, out):
    """The 13 features of one offset's accumulators, in mahotas's order, into ``out``.

    NaN when the window has no (counted) pair for this offset.
    """
    t = acc[_T]
    if t == 0:
        out[:] = np.nan
        return
    tf = float(t)
    t2 = tf * tf
    rt = 1.0 / tf
    rt2 = 1.0 / t2
    s1, s2, sij = acc[_S1], acc[_S2], acc[_SIJ]
    var_num = t * s2 - s1 * s1  # T**2 * var(x), exact
    ft = nlogn[t]  # T log2 T in the same fixed point: exact zeros stay zeros
    entropy = float(ft - acc[_H]) * (nlogn_scale * rt)
    hx = float(ft - acc[_HX]) * (nlogn_scale * rt)
    # HXY - HXY1 with HXY1 = HX + HY = 2 HX (symmetric matrix), in integers
    mutual = 2 * acc[_HX] - acc[_H] - ft  # (HXY - 2 HX) * T / scale
    out[0] = float(acc[_Q]) * rt2
    out[1] = float(2 * s2 - 2 * sij) * rt
    out[2] = 1.0 if var_num == 0 else float(t * sij - s1 * s1) / float(var_num)
    out[3] = float(var_num) * rt2
    out[4] = float(acc[_IDM]) * (inv_scale * rt)
    out[5] = float(2 * s1) * rt
    out[6] = float(t * (2 * s2 + 2 * sij) - 4 * s1 * s1) * rt2
    out[7] = float(ft - acc[_HS]) * (nlogn_scale * rt)
    out[8] = entropy
    if use_x_minus_y_variance:
        out[9] = float(t * (2 * s2 - 2 * sij) - acc[_DK1] * acc[_DK1]) * rt2
    else:  # mahotas: the variance of the L values P(|x - y| = k), L = window max + 1
        n = np.int64(n_levels_window)
        out[9] = float(n * acc[_DQ] - t * t) / (t2 * float(n * n))
    out[10] = float(ft - acc[_HD]) * (nlogn_scale * rt)
    if ft == acc[_HX]:  # HX = 0: one level only, and then HXY - HXY1 = 0
        out[11] = float(mutual) * (nlogn_scale * rt)
    else:
        out[11] = float(mutual) / float(ft - acc[_HX])
    out[12] = np.sqrt(max(0.0, 1.0 - np.exp(2.0 * float(mutual) * (nlogn_scale * rt))))


@numba.njit(nogil=True, cache=True)
def _emit(acc_all, n_dist, n_dir, window_max, aggregate, use_x_minus_y_variance, nlogn,
          nlogn_scale, inv_scale, feats, out_row):
    """Write one window's output row (per direction, or aggregated as ``aggregate`` says).

    ``aggregate``: 0 every direction, 1 their mean, 2 mean then range (ptp),
    over the directions that have pairs (NaN when none has).
    """
    n_f = N_FEATURES
    col = 0
    for d in range(n_dist):
        for j in range(n_dir):
            _window_features(acc_all[d * n_dir + j], window_max + 1, use_x_minus_y_variance,
                             nlogn, nlogn_scale, inv_scale, feats[j])
        if aggregate == 0:
            for j in range(n_dir):
                for f in range(n_f):
                    out_row[col] = feats[j, f]
                    col += 1
            continue
        for f in range(n_f):
            total = 0.0
            count = 0
            low = np.inf
            high = -np.inf
            for j in range(n_dir):
                if acc_all[d * n_dir + j, _T] == 0:
                    continue
                v = feats[j, f]
                total += v
                count += 1
                low = min(low, v)
                high = max(high, v)
            out_row[col + f] = total / count if count else np.nan
            if aggregate == 2:
                out_row[col + n_f + f] = high - low if count else np.nan
        col += n_f * (2 if aggregate == 2 else 1)


@numba.njit(nogil=True, cache=True)
def map_rows(levels, row_start, row_stop, step, radius, offsets, n_dist, n_levels, aggregate,
             ignore_zeros, use_x_minus_y_variance, nlogn, inv, nlogn_scale, inv_scale, cells, out):
    """Fill ``out[g - row_start]`` with the rows of the map for grid rows ``g`` in a band.

    Grid row ``g`` is image row ``g * step``, grid column ``h`` image column
    ``h * step``; the window of pixel ``(y, x)`` is rows
    ``[max(0, y - radius), min(height, y + radius + 1))`` and likewise for the
    columns. ``offsets[m]`` is the ``(dy, dx)`` of distance ``m // n_dir``,
    direction ``m % n_dir``. Each grid row starts from an empty state, adds
    the columns of its first window, slides, and removes its last window's
    columns, so the state is back to zero (exactly: integers) at the end.
    ``cells`` (zeros, ``(n_offsets, n_levels**2)``, uint16 or int32) holds the
    number of each unordered pair of levels per offset.
    """
    height, width = levels.shape
    n_off = offsets.shape[0]
    n_dir = n_off // n_dist
    px = np.zeros((n_off, n_levels), np.int32)
    dh = np.zeros((n_off, n_levels), np.int32)
    sh = np.zeros((n_off, 2 * n_levels), np.int32)
    acc = np.zeros((n_off, N_ACC), np.int64)
    hist = np.zeros(n_levels, np.int64)  # the window's pixels, for its maximum
    feats = np.empty((n_dir, N_FEATURES))
    n_cols = out.shape[1]
    for g in range(row_start, row_stop):
        y = g * step
        y0 = max(0, y - radius)
        y1 = min(height, y + radius + 1)
        x0 = 0
        x1 = 0
        window_max = 0
        for h in range(n_cols):
            x = h * step
            lo = max(0, x - radius)
            hi = min(width, x + radius + 1)
            while x0 < lo and x0 < x1:  # the left column leaves
                for m in range(n_off):
                    _column_pairs(levels, x0, x0, x1, y0, y1, offsets[m, 0], offsets[m, 1], -1,
                                  ignore_zeros, n_levels, cells[m], px[m], dh[m], sh[m],
                                  acc[m], nlogn, inv)
                for i in range(y0, y1):
                    hist[levels[i, x0]] -= 1
                x0 += 1
            if x0 < lo:  # a step wider than the window: it emptied
                x0 = lo
                x1 = max(x1, lo)
            while window_max > 0 and hist[window_max] == 0:
                window_max -= 1
            while x1 < hi:  # a column enters on the right
                for m in range(n_off):
                    _column_pairs(levels, x1, x0, x1 + 1, y0, y1, offsets[m, 0], offsets[m, 1],
                                  1, ignore_zeros, n_levels, cells[m], px[m], dh[m], sh[m],
                                  acc[m], nlogn, inv)
                for i in range(y0, y1):
                    v = levels[i, x1]
                    hist[v] += 1
                    if v > window_max:
                        window_max = v
                x1 += 1
            _emit(acc, n_dist, n_dir, window_max, aggregate, use_x_minus_y_variance, nlogn,
                  nlogn_scale, inv_scale, feats, out[g - row_start, h])
        while x0 < x1:
            for m in range(n_off):
                _column_pairs(levels, x0, x0, x1, y0, y1, offsets[m, 0], offsets[m, 1], -1,
                              ignore_zeros, n_levels, cells[m], px[m], dh[m], sh[m], acc[m],
                              nlogn, inv)
            for i in range(y0, y1):
                hist[levels[i, x0]] -= 1
            x0 += 1
