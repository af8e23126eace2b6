"""Compiled kernels of the texture maps: the co-occurrence sums of a sliding window, updated.

Math on arrays only: the caller (``_maps``) validates, quantizes, allocates
the outputs and turns the sums into features with the catalogue's formulas
(``texture.catalogue.features_of_statistics``); these functions fill the outputs and
check nothing. They release the GIL (``nogil``).

Images are volumes here: a 2-D image is a volume of one slice. When the
window moves by one voxel along the last axis, one column of voxels (a
``depth x height`` block) leaves it and one enters: only the voxel pairs
with a voxel in those columns change. Every statistic the catalogue's
formulas read of a symmetric co-occurrence matrix ``C`` (total ``T``) is a
sum of a function of *one* count of the matrix, of its marginal ``Px``
(= ``Py``), of the difference histogram ``D[k] = sum_{|i-j|=k} C[i, j]`` or of
the sum histogram ``S[k] = sum_{i+j=k} C[i, j]``, so the kernel keeps, per
offset (or per group of offsets merged into one matrix), those counts and
these sums and updates them pair by pair (:func:`_column_pairs`):

* integer sums, exact: ``T``, ``sum C**2``, ``sum_i i Px[i]``,
  ``sum_i i**2 Px[i]``, ``sum_ij i j C[i, j]``, ``sum D[k]**2``,
  ``sum k D[k]`` and the largest count ``max C``;
* fixed-point sums, exact as integers (no drift, whatever the path of the
  window): ``sum n log2 n`` over the cells, ``Px``, ``D`` and ``S``, from a
  table of ``round(n log2(n) * 2**shift)`` for every count ``n`` a window can
  hold, and ``sum D[k] / (1 + k**2)`` from a table of
  ``round(2**shift / (1 + k**2))``.

A matrix that is not symmetric (``symmetric=False``: each voxel pair counted
once; or the cross-channel matrix of two channels) is counted by its own
kernel, :func:`map_rows_ordered`: a cell per ordered pair of levels, the row
and column marginals (``Py``, ``Px``) with their own sums, and mahotas's
``HXY1``, which is ``HX + HY`` for a symmetric matrix only (its ``px[i] py[j]``
pairs the column sums with the rows), from the marginals' logarithms as they
change and the window's edge levels when it is written.

Every type of array is fixed by the caller (16-bit levels, 32-bit counts),
so that one machine code serves every image. A window's sums
(:data:`ACCUMULATORS`) are written out as they are, and for
the features over gray levels beyond those sums (IBSI's cluster moments and
inverse differences) the window's histograms are summed when it is written
(:data:`LEVEL_SUMS`). Nothing accumulates rounding from one window to the
next: a window's sums depend only on the voxels inside it, not on the order
the kernel visited them, so bands of rows and tiles give identical values.
"""

import math

import numba
import numpy as np

from .indexing import unsigned
from .libm import log2

#: The integer accumulators of a window's matrix, in the order of their column.
#: The level sums and the marginal's are the column's (``x``: ``sum_ij j C[i, j]``...); the
#: ``row_`` ones are the row's (``y``), equal to them for a symmetric matrix. ``hxy1_sum``,
#: written with each window of an ordered matrix (not slid), is ``T`` times mahotas's
#: ``HXY1`` in the fixed point of ``n log2 n`` (see :func:`map_rows_ordered`; a symmetric
#: matrix's is ``HX + HY``).
ACCUMULATORS = ("total", "square_sum", "level_sum", "level_square_sum", "product_sum",
                "difference_square_sum", "difference_sum", "count_log_count",
                "marginal_log_count", "difference_log_count", "sum_log_count",
                "inverse_difference_moment", "max_count", "row_level_sum",
                "row_level_square_sum", "row_marginal_log_count", "hxy1_sum")
(_T, _Q, _S1, _S2, _SIJ, _DQ, _DK1, _H, _HX, _HD, _HS, _IDM, _CMAX, _S1Y, _S2Y,
 _HY, _HXY1) = range(17)
N_ACC = len(ACCUMULATORS)

#: The sums over gray levels written with each window when asked (floats): the second,
#: third and fourth central moments of the sum histogram, and the difference histogram
#: weighted by ``1 / (1 + k)``, ``1 / (1 + k / N_g)``, ``1 / (1 + k**2 / N_g**2)`` and
#: ``1 / k**2`` (``k > 0``), all divided by ``T``.
LEVEL_SUMS = ("cluster_tendency", "cluster_shade", "cluster_prominence",
              "inverse_difference", "inverse_difference_normalized",
              "inverse_difference_moment_normalized", "inverse_variance")
N_LEVEL_SUMS = len(LEVEL_SUMS)


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


def fixed_point_log2(max_count, nlogn_scale):
    """``round(log2(n) / nlogn_scale)`` for ``n <= max_count`` (0 for ``n = 0``): the
    logarithms of counts in the fixed point of :func:`fixed_point_tables`'s ``nlogn``.

    A sum of ``c * log2(n)`` over a window's cells is at most ``2 T log2 T``: it fits in
    int64 at the scale that holds ``T log2 T`` below ``2**61``.
    """
    n = np.arange(max_count + 1, dtype=np.float64)
    return np.rint(log2(np.maximum(n, 1.0)) / nlogn_scale).astype(np.int64)


# Inlined into its one caller: a call per column and offset, with its two dozen arguments,
# costs more than the dozen pairs it counts in 2-D.
@numba.njit(nogil=True, cache=True, inline="always")
def _column_pairs(levels, mask, use_mask, c, lo, hi, z0, z1, y0, y1, oz, oy, ox, s,
                  ignore_zeros, n_levels, cells, px, dh, sh, acc, step1, step2, inv, chist,
                  track_max):
    """Add (``s = 1``) or remove (``s = -1``) column ``c``'s pairs of offset ``(oz, oy, ox)``.

    Only pairs with both voxels in slices ``[z0, z1)``, rows ``[y0, y1)`` and
    columns ``[lo, hi)`` (which holds ``c``), and with ``use_mask`` both in
    the mask, count. ``cells``, ``px``, ``dh``, ``sh``, ``acc`` and ``chist``
    are one matrix's. The sums change by the column's pairs, added up in local
    integers (registers) and into ``acc`` once: the same integers in any order.
    With ``track_max``, ``chist[n]`` is the number of cells of ``C`` holding
    ``n`` and ``acc[_CMAX]`` follows the largest count.
    """
    za = max(z0, z0 - oz)
    zb = min(z1, z1 - oz)
    ya = max(y0, y0 - oy)
    yb = min(y1, y1 - oy)
    n_pairs = 0  # every sum is counted unsigned, signed once at the end
    level_sum = 0
    level_square_sum = 0
    product_sum = 0
    difference_sum = 0
    idm = 0
    square_sum = 0
    count_log_count = 0
    marginal_log_count = 0
    difference_square_sum = 0
    difference_log_count = 0
    sum_log_count = 0
    max_count = acc[_CMAX]
    down = 1 if s < 0 else 0  # a removal's lower count is the new one
    plain = not (use_mask or ignore_zeros or track_max)
    for side in range(2):
        if ox == 0:
            if side == 1:
                break
            first = c
            second = c
        elif side == 0:  # c holds the first voxel
            first = c
            second = c + ox
        else:  # c holds the second voxel
            first = c - ox
            second = c
        if not (lo <= first < hi and lo <= second < hi):
            continue
        if plain:  # its own loop: no test per pair of what the common case lacks
            for z in range(za, zb):
                first_column = levels[z, :, first]
                second_column = levels[z + oz, :, second]
                for y in range(ya, yb):
                    a = np.int64(first_column[unsigned(y)])
                    b = np.int64(second_column[unsigned(y + oy)])
                    a, b = min(a, b), max(a, b)
                    n_pairs += 1
                    level_sum += a + b
                    level_square_sum += a * a + b * b
                    product_sum += a * b
                    # cells holds each unordered pair once: C[a, b] = C[b, a] = n (a != b),
                    # C[a, a] = 2 n. Each count moves by one step (+-1, +-2 on the diagonal and
                    # in the histograms of 2 C): its functions' changes are the steps' values at
                    # the lower count, signed once at the end.
                    idx = ((b * (b + 1)) >> 1) + a  # the lower triangle, row b
                    old = np.int64(cells[unsigned(idx)])
                    new = old + s
                    cells[unsigned(idx)] = new
                    low = old - down
                    diagonal = np.int64(a == b)  # without a branch: a == b is unpredictable
                    square_sum += (4 * low + 2) << diagonal
                    by_two = step2[unsigned(2 * low)]
                    by_one = 2 * step1[unsigned(low)]
                    count_log_count += by_two if diagonal else by_one
                    old <<= diagonal
                    new <<= diagonal
                    old = np.int64(px[unsigned(a)])
                    px[unsigned(a)] = old + s
                    marginal_log_count += step1[unsigned(old - down)]
                    old = np.int64(px[unsigned(b)])
                    px[unsigned(b)] = old + s
                    marginal_log_count += step1[unsigned(old - down)]
                    k = b - a
                    old = np.int64(dh[unsigned(k)])
                    dh[unsigned(k)] = old + 2 * s
                    low = old - 2 * down
                    difference_square_sum += 4 * low + 4
                    difference_log_count += step2[unsigned(low)]
                    difference_sum += k
                    idm += inv[unsigned(k)]
                    k = a + b
                    old = np.int64(sh[unsigned(k)])
                    sh[unsigned(k)] = old + 2 * s
                    sum_log_count += step2[unsigned(old - 2 * down)]
        else:
            for z in range(za, zb):
                for y in range(ya, yb):
                    if use_mask and not (mask[z, y, first] and mask[z + oz, y + oy, second]):
                        continue
                    a = np.int64(levels[z, y, first])
                    b = np.int64(levels[z + oz, y + oy, second])
                    if ignore_zeros and (a == 0 or b == 0):
                        continue
                    a, b = min(a, b), max(a, b)
                    n_pairs += 1
                    level_sum += a + b
                    level_square_sum += a * a + b * b
                    product_sum += a * b
                    # cells holds each unordered pair once: C[a, b] = C[b, a] = n (a != b),
                    # C[a, a] = 2 n. Each count moves by one step (+-1, +-2 on the diagonal and
                    # in the histograms of 2 C): its functions' changes are the steps' values at
                    # the lower count, signed once at the end.
                    idx = ((b * (b + 1)) >> 1) + a  # the lower triangle, row b
                    old = np.int64(cells[unsigned(idx)])
                    new = old + s
                    cells[unsigned(idx)] = new
                    low = old - down
                    diagonal = np.int64(a == b)  # without a branch: a == b is unpredictable
                    square_sum += (4 * low + 2) << diagonal
                    by_two = step2[unsigned(2 * low)]
                    by_one = 2 * step1[unsigned(low)]
                    count_log_count += by_two if diagonal else by_one
                    old <<= diagonal
                    new <<= diagonal
                    if track_max:  # old and new are now counts of C
                        # chist[0] counts nothing (it is never read): no branch for empty cells
                        chist[unsigned(old)] -= 1
                        chist[unsigned(new)] += 1
                        max_count = max(max_count, new)
                        while max_count > 0 and chist[max_count] == 0:
                            max_count -= 1
                    old = np.int64(px[unsigned(a)])
                    px[unsigned(a)] = old + s
                    marginal_log_count += step1[unsigned(old - down)]
                    old = np.int64(px[unsigned(b)])
                    px[unsigned(b)] = old + s
                    marginal_log_count += step1[unsigned(old - down)]
                    k = b - a
                    old = np.int64(dh[unsigned(k)])
                    dh[unsigned(k)] = old + 2 * s
                    low = old - 2 * down
                    difference_square_sum += 4 * low + 4
                    difference_log_count += step2[unsigned(low)]
                    difference_sum += k
                    idm += inv[unsigned(k)]
                    k = a + b
                    old = np.int64(sh[unsigned(k)])
                    sh[unsigned(k)] = old + 2 * s
                    sum_log_count += step2[unsigned(old - 2 * down)]
    acc[_T] += 2 * s * n_pairs
    acc[_S1] += s * level_sum
    acc[_S2] += s * level_square_sum
    acc[_SIJ] += 2 * s * product_sum
    acc[_DK1] += 2 * s * difference_sum
    acc[_IDM] += 2 * s * idm
    acc[_Q] += s * square_sum
    acc[_H] += s * count_log_count
    acc[_HX] += s * marginal_log_count
    acc[_DQ] += s * difference_square_sum
    acc[_HD] += s * difference_log_count
    acc[_HS] += s * sum_log_count
    acc[_CMAX] = max_count
    # a symmetric matrix's row sums are its column sums
    acc[_S1Y] += s * level_sum
    acc[_S2Y] += s * level_square_sum
    acc[_HY] += s * marginal_log_count


@numba.njit(nogil=True, cache=True)
def _difference_weights(n_levels, n_levels_image):
    """The weights of the inverse differences at each difference ``k``, computed once as the
    catalogue's formulas compute them: ``1 / (1 + k)``, ``1 / (1 + k / N_g)``,
    ``1 / (1 + k**2 / N_g**2)`` and ``1 / k**2`` (0 for ``k = 0``)."""
    ng = float(n_levels_image)
    weights = np.empty((4, n_levels))
    for k in range(n_levels):
        weights[0, k] = 1.0 / (1.0 + k)
        weights[1, k] = 1.0 / (1.0 + k / ng)
        weights[2, k] = 1.0 / (1.0 + (k * k) / (ng * ng))
        weights[3, k] = 1.0 / (k * k) if k > 0 else 0.0
    return weights


@numba.njit(nogil=True, cache=True)
def _level_sums(acc, dh, sh, window_min, window_max, weights, out):
    """The :data:`LEVEL_SUMS` of one matrix from its histograms (NaN for an empty one).

    The window's levels are in ``[window_min, window_max]``: the sum histogram's
    other bins, and the difference histogram's beyond ``window_max - window_min``,
    are zeros, skipped as every zero bin is (the same sums, term by term).
    ``weights``: those of the inverse differences (:func:`_difference_weights`).
    The probabilities are the counts times ``1 / T`` (a multiplication per bin,
    not a division: within a unit in the last place of the featurizer's).
    """
    t = acc[_T]
    if t == 0:
        out[:] = np.nan
        return
    tf = float(t)
    rt = 1.0 / tf
    mu = float(acc[_S1] + acc[_S1Y]) / tf  # ux + uy
    m2 = 0.0
    m3 = 0.0
    m4 = 0.0
    for k in range(2 * window_min, 2 * window_max + 1):
        if sh[unsigned(k)] == 0:
            continue
        p = sh[unsigned(k)] * rt
        d = k - mu
        d2 = d * d
        m2 += p * d2
        m3 += p * d2 * d
        m4 += p * d2 * d2
    inv1 = 0.0
    invn = 0.0
    invmn = 0.0
    invvar = 0.0
    for k in range(window_max - window_min + 1):
        if dh[unsigned(k)] == 0:
            continue
        p = dh[unsigned(k)] * rt
        inv1 += p * weights[0, unsigned(k)]
        invn += p * weights[1, unsigned(k)]
        invmn += p * weights[2, unsigned(k)]
        invvar += p * weights[3, unsigned(k)]
    out[0] = m2
    out[1] = m3
    out[2] = m4
    out[3] = inv1
    out[4] = invn
    out[5] = invmn
    out[6] = invvar


@numba.njit(nogil=True, cache=True)
def _move_column(levels, mask, use_mask, c, lo, hi, z0, z1, y0, y1, offsets, groups, s,
                 ignore_zeros, n_levels, cells, px, dh, sh, acc, step1, step2, inv, chist,
                 track_max, hist):
    """Add (``s = 1``) or remove (``s = -1``) column ``c``: its pairs of every offset, and its
    voxels to the window's histogram ``hist``; the smallest and largest levels moved."""
    for m in range(offsets.shape[0]):
        g = groups[m]
        _column_pairs(levels, mask, use_mask, c, lo, hi, z0, z1, y0, y1, offsets[m, 0],
                      offsets[m, 1], offsets[m, 2], s, ignore_zeros, n_levels, cells[g], px[g],
                      dh[g], sh[g], acc[g], step1, step2, inv, chist[g], track_max)
    top = 0
    bottom = n_levels
    for z in range(z0, z1):
        column = levels[z, :, c]
        for y in range(y0, y1):
            if use_mask and not mask[z, y, c]:
                continue
            v = np.int64(column[unsigned(y)])
            hist[unsigned(v)] += s
            if s > 0:  # a leaving column's levels are not asked for
                top = max(top, v)
                bottom = min(bottom, v)
    return bottom, top


@numba.njit(nogil=True, cache=True)
def map_rows(levels, mask, use_mask, only_mask, row_start, row_stop, n_grid_y, step, radius,
             offsets, groups, n_groups, n_levels, n_levels_image, ignore_zeros, nlogn, inv,
             track_max, want_level_sums, want_matrices, cells, acc_out, max_out, level_out,
             matrix_out, written):
    """Write the sums of the windows of grid rows ``row_start`` to ``row_stop``.

    Grid row ``g`` is slice ``(g // n_grid_y) * step`` and row
    ``(g % n_grid_y) * step`` of ``levels`` (``(depth, height, width)``);
    grid column ``h`` is column ``h * step``. The window of voxel
    ``(z, y, x)`` is ``[max(0, z - rz), min(depth, z + rz + 1))`` and likewise
    along the other axes, ``radius = (rz, ry, rx)``. ``offsets[m]`` is counted
    into matrix ``groups[m]`` (``track_max``: also the largest count), each
    offset its own matrix, or the directions of a
    distance merged into one). Each grid row starts from an empty state, adds
    the columns of its first window, slides, and removes its last window's
    columns, so the state is back to zero (exactly: integers) at the end.
    ``cells[g]`` (zeros, ``n_levels (n_levels + 1) / 2`` of them) holds matrix
    ``g``'s count of each unordered pair of levels ``a <= b`` at
    ``b (b + 1) / 2 + a``: the lower triangle, half the memory of the whole
    matrix, which the pairs of a window hit at random.

    Outputs, at ``[g - row_start, h]``: ``acc_out`` the :data:`ACCUMULATORS`
    of each matrix, ``max_out`` the window's largest counted level,
    ``level_out`` the :data:`LEVEL_SUMS` (if ``want_level_sums``),
    ``matrix_out`` the symmetric matrices (if ``want_matrices``), and
    ``written`` whether the window was written: with ``only_mask``, only the
    windows of voxels inside the mask are.
    """
    depth, height, width = levels.shape
    rz, ry, rx = radius[0], radius[1], radius[2]
    px = np.zeros((n_groups, n_levels), np.int32)
    dh = np.zeros((n_groups, n_levels), np.int32)
    sh = np.zeros((n_groups, 2 * n_levels), np.int32)
    acc = np.zeros((n_groups, N_ACC), np.int64)
    chist = np.zeros((n_groups, nlogn.shape[0]), np.int32)  # cells by count (largest count)
    # the change of n log2 n by a step of one and of two from n, exact integers
    step1 = np.zeros(nlogn.shape[0], np.int64)
    step2 = np.zeros(nlogn.shape[0], np.int64)
    for n in range(nlogn.shape[0] - 1):
        step1[n] = nlogn[n + 1] - nlogn[n]
    for n in range(nlogn.shape[0] - 2):
        step2[n] = nlogn[n + 2] - nlogn[n]
    weights = _difference_weights(n_levels, n_levels_image)
    hist = np.zeros(n_levels, np.int64)  # the window's counted voxels, for its maximum
    n_cols = acc_out.shape[1]
    for g in range(row_start, row_stop):
        z = (g // n_grid_y) * step
        y = (g % n_grid_y) * step
        z0 = max(0, z - rz)
        z1 = min(depth, z + rz + 1)
        y0 = max(0, y - ry)
        y1 = min(height, y + ry + 1)
        # int64 values, not literals: a literal argument compiles a column move once more
        x0 = x1 = np.int64(0)
        leaving, entering = np.int64(-1), np.int64(1)
        window_max = 0
        window_min = n_levels  # above every level: the row's window is empty
        h_start = 0
        h_stop = n_cols
        if only_mask:  # slide only from the row's first voxel in the mask to its last
            row = g - row_start
            for h in range(n_cols):
                written[row, h] = False
            while h_start < n_cols and not mask[z, y, h_start * step]:
                h_start += 1
            while h_stop > h_start and not mask[z, y, (h_stop - 1) * step]:
                h_stop -= 1
        for h in range(h_start, h_stop):
            x = h * step
            lo = max(0, x - rx)
            hi = min(width, x + rx + 1)
            while x0 < lo and x0 < x1:  # the left column leaves
                _move_column(levels, mask, use_mask, x0, x0, x1, z0, z1, y0, y1, offsets,
                             groups, leaving, ignore_zeros, n_levels, cells, px, dh, sh, acc, step1,
                             step2, inv, chist, track_max, hist)
                x0 += 1
            if x0 < lo:  # a step wider than the window: it emptied
                x0 = lo
                x1 = max(x1, lo)
            while window_max > 0 and hist[window_max] == 0:
                window_max -= 1
            while window_min < window_max and hist[window_min] == 0:
                window_min += 1
            while x1 < hi:  # a column enters on the right
                bottom, top = _move_column(levels, mask, use_mask, x1, x0, x1 + 1, z0, z1, y0,
                                           y1, offsets, groups, entering, ignore_zeros, n_levels,
                                           cells, px, dh, sh, acc, step1, step2, inv, chist,
                                           track_max, hist)
                window_max = max(window_max, top)
                window_min = min(window_min, bottom)
                x1 += 1
            row = g - row_start
            if only_mask and not mask[z, y, x]:
                written[row, h] = False
                continue
            written[row, h] = True
            max_out[row, h] = window_max
            for k in range(n_groups):
                for f in range(N_ACC):
                    acc_out[row, h, k, f] = acc[k, f]
                if want_level_sums:
                    _level_sums(acc[k], dh[k], sh[k], window_min, window_max, weights,
                                level_out[row, h, k])
                if want_matrices:
                    _write_matrix(cells[k], n_levels, matrix_out[row, h, k])
        while x0 < x1:
            _move_column(levels, mask, use_mask, x0, x0, x1, z0, z1, y0, y1, offsets, groups,
                         leaving, ignore_zeros, n_levels, cells, px, dh, sh, acc, step1, step2, inv,
                         chist, track_max, hist)
            x0 += 1


@numba.njit(nogil=True, cache=True)
def _write_matrix(cells, n_levels, out):
    """The symmetric matrix ``C`` of unordered pair counts ``cells`` (see :func:`map_rows`)."""
    for b in range(n_levels):
        row = (b * (b + 1)) >> 1
        for a in range(b):
            n = cells[row + a]
            out[a, b] = n
            out[b, a] = n
        out[b, b] = 2 * cells[row + b]


# Ordered counting: a matrix that is not symmetric (``symmetric=False``, or two channels'
# cross-channel matrix) has a cell per ordered pair of levels and two marginals. Its own
# kernel, so that the symmetric one (the default) keeps its code and its compile time.


@numba.njit(nogil=True, cache=True, inline="always")
def _ordered_column_pairs(first_levels, second_levels, both_orders, mask, use_mask, c, lo, hi,
                          z0, z1, y0, y1, oz, oy, ox, s, ignore_zeros, cells, px, py, dh, sh, acc,
                          step1, inv, chist, track_max, want_hxy1, lg, sided):
    """Add (``s = 1``) or remove (``s = -1``) column ``c``'s pairs of offset ``(oz, oy, ox)``,
    ordered.

    A voxel pair ``(p, q = p + offset)`` counts at row ``first_levels[p]`` and column
    ``second_levels[q]`` (``cells[row * n_levels + column]``, ``py`` the row sums, ``px``
    the column sums), and with ``both_orders`` also at ``(first_levels[q],
    second_levels[p])``: the featurizer's ``cooccurrence(symmetric=False)`` with one image,
    its ``cross_cooccurrence`` with two. Every count moves by one: the sums change by the
    steps at the lower count, added up in local integers and into ``acc`` once, as in
    :func:`_column_pairs`. With ``want_hxy1``, ``acc[_HXY1]`` follows
    ``sum_k py[k] lg[px[k]] + px[k] lg[py[k]]`` (``lg`` the fixed-point ``log2``,
    :func:`fixed_point_log2`), from which :func:`_hxy1_sum` makes mahotas's ``HXY1``, and
    ``sided`` the set of the levels that are a row's but no column's or the reverse
    (:func:`_toggle`).
    """
    n_levels = px.shape[0]  # (an argument fewer: an inlined call takes at most 30)
    za = max(z0, z0 - oz)
    zb = min(z1, z1 - oz)
    ya = max(y0, y0 - oy)
    yb = min(y1, y1 - oy)
    n_orders = 2 if both_orders else 1
    n_pairs = 0
    col_sum = 0
    col_square_sum = 0
    row_sum = 0
    row_square_sum = 0
    product_sum = 0
    difference_sum = 0
    idm = 0
    square_sum = 0
    count_log_count = 0
    col_log_count = 0
    row_log_count = 0
    difference_square_sum = 0
    difference_log_count = 0
    sum_log_count = 0
    cross_log = 0
    max_count = acc[_CMAX]
    down = 1 if s < 0 else 0  # a removal's lower count is the new one
    for side in range(2):
        if ox == 0:
            if side == 1:
                break
            first = c
            second = c
        elif side == 0:  # c holds the first voxel
            first = c
            second = c + ox
        else:  # c holds the second voxel
            first = c - ox
            second = c
        if not (lo <= first < hi and lo <= second < hi):
            continue
        for z in range(za, zb):
            for y in range(ya, yb):
                if use_mask and not (mask[z, y, first] and mask[z + oz, y + oy, second]):
                    continue
                for order in range(n_orders):
                    if order == 0:
                        a = np.int64(first_levels[z, y, first])
                        b = np.int64(second_levels[z + oz, y + oy, second])
                    else:
                        a = np.int64(first_levels[z + oz, y + oy, second])
                        b = np.int64(second_levels[z, y, first])
                    if ignore_zeros and (a == 0 or b == 0):
                        continue
                    n_pairs += 1  # a the row's level, b the column's
                    row_sum += a
                    row_square_sum += a * a
                    col_sum += b
                    col_square_sum += b * b
                    product_sum += a * b
                    idx = a * n_levels + b
                    old = np.int64(cells[unsigned(idx)])
                    new = old + s
                    cells[unsigned(idx)] = new
                    low = old - down
                    square_sum += 2 * low + 1
                    count_log_count += step1[unsigned(low)]
                    if track_max:
                        chist[old] -= 1  # chist[0] is never read
                        chist[new] += 1
                        max_count = max(max_count, new)
                        while max_count > 0 and chist[max_count] == 0:
                            max_count -= 1
                    if want_hxy1:  # the terms of levels a and b, before
                        cross_log -= _cross_log_term(px, py, lg, a)
                        one_sided_a = (px[a] == 0) != (py[a] == 0)
                        one_sided_b = (px[b] == 0) != (py[b] == 0)
                        if b != a:
                            cross_log -= _cross_log_term(px, py, lg, b)
                    old = np.int64(py[unsigned(a)])
                    py[unsigned(a)] = old + s
                    row_log_count += step1[unsigned(old - down)]
                    old = np.int64(px[unsigned(b)])
                    px[unsigned(b)] = old + s
                    col_log_count += step1[unsigned(old - down)]
                    if want_hxy1:  # and after
                        cross_log += _cross_log_term(px, py, lg, a)
                        if one_sided_a != ((px[a] == 0) != (py[a] == 0)):
                            _toggle(sided, a)
                        if b != a:
                            cross_log += _cross_log_term(px, py, lg, b)
                            if one_sided_b != ((px[b] == 0) != (py[b] == 0)):
                                _toggle(sided, b)
                    k = abs(a - b)
                    old = np.int64(dh[unsigned(k)])
                    dh[unsigned(k)] = old + s
                    low = old - down
                    difference_square_sum += 2 * low + 1
                    difference_log_count += step1[unsigned(low)]
                    difference_sum += k
                    idm += inv[unsigned(k)]
                    k = a + b
                    old = np.int64(sh[unsigned(k)])
                    sh[unsigned(k)] = old + s
                    sum_log_count += step1[unsigned(old - down)]
    acc[_T] += s * n_pairs
    acc[_S1] += s * col_sum
    acc[_S2] += s * col_square_sum
    acc[_S1Y] += s * row_sum
    acc[_S2Y] += s * row_square_sum
    acc[_SIJ] += s * product_sum
    acc[_DK1] += s * difference_sum
    acc[_IDM] += s * idm
    acc[_Q] += s * square_sum
    acc[_H] += s * count_log_count
    acc[_HX] += s * col_log_count
    acc[_HY] += s * row_log_count
    acc[_DQ] += s * difference_square_sum
    acc[_HD] += s * difference_log_count
    acc[_HS] += s * sum_log_count
    acc[_HXY1] += cross_log  # already signed: the terms' differences
    acc[_CMAX] = max_count


@numba.njit(nogil=True, cache=True)
def _toggle(members, k):
    """Add level ``k`` to the set ``members`` or remove it, in O(1).

    ``members[0, :n]`` are the members, ``n = members[0, -1]``, and ``members[1, k]`` is
    the index of ``k`` there, -1 if it is not a member (a removed member's place takes the
    last one).
    """
    n = members[0, members.shape[1] - 1]
    at = members[1, k]
    if at < 0:
        members[0, n] = k
        members[1, k] = n
        members[0, members.shape[1] - 1] = n + 1
    else:
        last = members[0, n - 1]
        members[0, at] = last
        members[1, last] = at
        members[1, k] = -1
        members[0, members.shape[1] - 1] = n - 1


@numba.njit(nogil=True, cache=True, inline="always")
def _cross_log_term(px, py, lg, k):
    """Level ``k``'s term ``py[k] lg[px[k]] + px[k] lg[py[k]]`` (``lg[0] = 0``)."""
    return np.int64(py[k]) * lg[px[k]] + np.int64(px[k]) * lg[py[k]]


@numba.njit(nogil=True, cache=True)
def _hxy1_sum(acc, cells, px, py, n_levels, window_min, window_max, lg, sided):
    """``T`` times mahotas's ``HXY1`` of an ordered matrix, in the fixed point of ``lg``.

    mahotas's ``HXY1 = -sum p[i, j] log2(px[i] py[j])``, ``px`` the column sums and ``py``
    the row sums (both indexed by the level, whatever the axis), over the cells with
    ``px[i] py[j] > 0``. With ``G = sum_ij C[i, j] (lg[px[i]] + lg[py[j]])`` over those
    cells and ``W`` their count, ``T HXY1 = 2 W log2 T - G``. ``acc[_HXY1]`` holds ``G``
    over every cell (``lg[0] = 0``: a cell with ``px[i] = 0`` or ``py[j] = 0`` adds the
    other level's term only); a cell is left out when its row's level is no column's
    (``px[i] = 0``) or its column's level no row's (``py[j] = 0``): levels at the window's
    edge (the set ``sided`` of :func:`_toggle`), whose few cells are found from the diagonal
    outwards (neighbours' levels are close), until the row's (column's) count is reached.
    """
    g = acc[_HXY1]
    w = acc[_T]
    for member in range(sided[0, sided.shape[1] - 1]):
        i = sided[0, member]
        if py[i] != 0 and px[i] == 0:  # row i: only its cells with py[j] > 0 added lg[py[j]]
            w -= py[i]
            left = np.int64(py[i])
            d = 0
            while left > 0 and d <= window_max - window_min:
                for j in (i - d, i + d):
                    if window_min <= j <= window_max:
                        n = np.int64(cells[i * n_levels + j])
                        left -= n
                        g -= n * lg[py[j]]
                    if d == 0:
                        break
                d += 1
        elif px[i] != 0 and py[i] == 0:  # column i: its cells with px[j] > 0 added lg[px[j]]
            w -= px[i]
            left = np.int64(px[i])
            d = 0
            while left > 0 and d <= window_max - window_min:
                for j in (i - d, i + d):
                    if window_min <= j <= window_max:
                        n = np.int64(cells[j * n_levels + i])
                        left -= n
                        g -= n * lg[px[j]]
                        if px[j] == 0:  # a cell of a row left out too: its count once
                            w += n
                    if d == 0:
                        break
                d += 1
    return 2 * w * lg[acc[_T]] - g


@numba.njit(nogil=True, cache=True)
def _move_ordered_column(first_levels, second_levels, both_orders, mask, use_mask, c, lo, hi,
                         z0, z1, y0, y1, offsets, groups, s, ignore_zeros, cells, px, py, dh, sh,
                         acc, step1, inv, chist, track_max, want_hxy1, lg, sided, hist):
    """:func:`_move_column` of ordered pairs; ``hist`` counts the voxels of both images."""
    n_levels = px.shape[1]
    for m in range(offsets.shape[0]):
        g = groups[m]
        _ordered_column_pairs(first_levels, second_levels, both_orders, mask, use_mask, c, lo,
                              hi, z0, z1, y0, y1, offsets[m, 0], offsets[m, 1], offsets[m, 2],
                              s, ignore_zeros, cells[g], px[g], py[g], dh[g], sh[g],
                              acc[g], step1, inv, chist[g], track_max, want_hxy1, lg, sided[g])
    top = 0
    bottom = n_levels
    for z in range(z0, z1):
        for y in range(y0, y1):
            if use_mask and not mask[z, y, c]:
                continue
            v = np.int64(first_levels[z, y, c])
            w = np.int64(second_levels[z, y, c])
            hist[v] += s
            hist[w] += s
            top = max(top, v, w)
            bottom = min(bottom, v, w)
    return bottom, top


@numba.njit(nogil=True, cache=True)
def map_rows_ordered(first_levels, second_levels, both_orders, mask, use_mask, only_mask,
                     row_start, row_stop, n_grid_y, step, radius, offsets, groups, n_groups,
                     n_levels, n_levels_image, ignore_zeros, nlogn, inv, track_max,
                     want_hxy1, lg, want_level_sums, want_matrices, cells, acc_out, max_out,
                     level_out, matrix_out, written):
    """:func:`map_rows` of matrices that are not symmetric: ordered pairs.

    A voxel pair ``(p, p + offset)`` counts at row ``first_levels[p]`` and column
    ``second_levels[p + offset]``, and with ``both_orders`` also at
    ``(first_levels[p + offset], second_levels[p])`` (see
    :func:`_ordered_column_pairs`); ``cells`` holds ``n_levels**2`` ordered cells per
    matrix. The outputs are :func:`map_rows`'s, ``max_out`` the largest level of either
    image in the window and ``matrix_out`` the ordered matrices; with ``want_hxy1``,
    ``acc_out``'s ``hxy1_sum`` is mahotas's (:func:`_hxy1_sum`, ``lg`` from
    :func:`fixed_point_log2`), else 0.
    """
    depth, height, width = first_levels.shape
    rz, ry, rx = radius[0], radius[1], radius[2]
    px = np.zeros((n_groups, n_levels), np.int32)
    py = np.zeros((n_groups, n_levels), np.int32)
    dh = np.zeros((n_groups, n_levels), np.int32)
    sh = np.zeros((n_groups, 2 * n_levels), np.int32)
    acc = np.zeros((n_groups, N_ACC), np.int64)
    chist = np.zeros((n_groups, nlogn.shape[0]), np.int32)  # cells by count (largest count)
    step1 = np.zeros(nlogn.shape[0], np.int64)  # the change of n log2 n from n to n + 1
    for n in range(nlogn.shape[0] - 1):
        step1[n] = nlogn[n + 1] - nlogn[n]
    weights = _difference_weights(n_levels, n_levels_image)
    hist = np.zeros(n_levels, np.int64)  # the window's counted voxels, for its maximum
    # the levels of each matrix that are a row's but no column's, or the reverse (_toggle)
    sided = np.full((n_groups, 2, n_levels + 1), -1, np.int64)
    sided[:, 0, n_levels] = 0
    n_cols = acc_out.shape[1]
    for g in range(row_start, row_stop):
        z = (g // n_grid_y) * step
        y = (g % n_grid_y) * step
        z0 = max(0, z - rz)
        z1 = min(depth, z + rz + 1)
        y0 = max(0, y - ry)
        y1 = min(height, y + ry + 1)
        # int64 values, not literals: a literal argument compiles a column move once more
        x0 = x1 = np.int64(0)
        leaving, entering = np.int64(-1), np.int64(1)
        window_max = 0
        window_min = n_levels  # above every level: the row's window is empty
        h_start = 0
        h_stop = n_cols
        if only_mask:  # slide only from the row's first voxel in the mask to its last
            row = g - row_start
            for h in range(n_cols):
                written[row, h] = False
            while h_start < n_cols and not mask[z, y, h_start * step]:
                h_start += 1
            while h_stop > h_start and not mask[z, y, (h_stop - 1) * step]:
                h_stop -= 1
        for h in range(h_start, h_stop):
            x = h * step
            lo = max(0, x - rx)
            hi = min(width, x + rx + 1)
            while x0 < lo and x0 < x1:  # the left column leaves
                _move_ordered_column(first_levels, second_levels, both_orders, mask, use_mask,
                                     x0, x0, x1, z0, z1, y0, y1, offsets, groups, leaving,
                                     ignore_zeros, cells, px, py, dh, sh, acc, step1,
                                     inv, chist, track_max, want_hxy1, lg, sided, hist)
                x0 += 1
            if x0 < lo:  # a step wider than the window: it emptied
                x0 = lo
                x1 = max(x1, lo)
            while window_max > 0 and hist[window_max] == 0:
                window_max -= 1
            while window_min < window_max and hist[window_min] == 0:
                window_min += 1
            while x1 < hi:  # a column enters on the right
                bottom, top = _move_ordered_column(
                    first_levels, second_levels, both_orders, mask, use_mask, x1, x0, x1 + 1,
                    z0, z1, y0, y1, offsets, groups, entering, ignore_zeros, cells, px, py,
                    dh, sh, acc, step1, inv, chist, track_max, want_hxy1, lg, sided, hist)
                window_max = max(window_max, top)
                window_min = min(window_min, bottom)
                x1 += 1
            row = g - row_start
            if only_mask and not mask[z, y, x]:
                written[row, h] = False
                continue
            written[row, h] = True
            max_out[row, h] = window_max
            for k in range(n_groups):
                for f in range(N_ACC):
                    acc_out[row, h, k, f] = acc[k, f]
                acc_out[row, h, k, _HXY1] = 0
                if want_hxy1 and acc[k, _T] != 0:
                    acc_out[row, h, k, _HXY1] = _hxy1_sum(acc[k], cells[k], px[k], py[k],
                                                          n_levels, window_min, window_max, lg,
                                                          sided[k])
                if want_level_sums:
                    _level_sums(acc[k], dh[k], sh[k], window_min, window_max, weights,
                                level_out[row, h, k])
                if want_matrices:
                    _write_ordered_matrix(cells[k], n_levels, matrix_out[row, h, k])
        while x0 < x1:
            _move_ordered_column(first_levels, second_levels, both_orders, mask, use_mask, x0,
                                 x0, x1, z0, z1, y0, y1, offsets, groups, leaving, ignore_zeros,
                                 cells, px, py, dh, sh, acc, step1, inv, chist,
                                 track_max, want_hxy1, lg, sided, hist)
            x0 += 1


@numba.njit(nogil=True, cache=True)
def _write_ordered_matrix(cells, n_levels, out):
    """The matrix ``C`` of ordered pair counts ``cells`` (row-major)."""
    for a in range(n_levels):
        for b in range(n_levels):
            out[a, b] = cells[a * n_levels + b]


#: The statistics of :func:`window_statistics`, one row each, in order (``x`` the column's
#: level, ``y`` the row's: the same for a symmetric matrix).
WINDOW_STATISTICS = ("total", "asm", "sum_ij_p", "entropy", "hx", "ux", "ex2", "vx", "contrast",
                     "difference_average", "sum_average", "sum_square", "sum_entropy",
                     "difference_entropy", "idm", "difference_variance",
                     "maximum_probability", "hy", "uy", "ey2", "vy", "hxy1")
#: The last of :data:`WINDOW_STATISTICS`, the row's (``y``): those of a matrix that is not
#: symmetric only (a symmetric one's are ``hx``, ``ux``, ``ex2``, ``vx`` and ``HX + HY``).
ROW_STATISTICS = WINDOW_STATISTICS[-5:]


@numba.njit(nogil=True, cache=True)
def window_statistics(acc, window_max, nlogn, nlogn_scale, inv_scale, out):
    """The :data:`WINDOW_STATISTICS` of each matrix's accumulators (``acc[m]``), into ``out[:, m]``.

    The operations (and so the bits) of the statistics the batch path derives
    from its exact sums: each integer sum divided once by the total ``T``
    (``sum C**2 / T / T``...), ``E[x**2] - E[x]**2`` as a float difference,
    the entropies from the fixed-point sums of ``n log2 n``; mahotas's
    difference variance over the ``L = window_max[m] + 1`` values of the
    difference histogram, exactly: ``(L sum D**2 - T**2) / (T**2 L**2)``.
    An empty matrix (``T = 0``) gets the values of ``T = 1`` (its features are
    NaN all the same). The row's statistics (the last :data:`ROW_STATISTICS`)
    are written only if ``out`` has their rows: a symmetric matrix's are its
    column's.
    """
    for m in range(acc.shape[0]):
        t = acc[m, _T]
        tf = float(t) if t != 0 else 1.0
        ft = nlogn[t]  # T log2 T in the same fixed point: exact zeros stay zeros
        ux = acc[m, _S1] / tf
        ex2 = acc[m, _S2] / tf
        uy = acc[m, _S1Y] / tf
        ey2 = acc[m, _S2Y] / tf
        n = np.int64(window_max[m]) + 1
        out[0, m] = float(t)
        out[1, m] = acc[m, _Q] / tf / tf
        out[2, m] = acc[m, _SIJ] / tf
        out[3, m] = (ft - acc[m, _H]) * nlogn_scale / tf
        out[4, m] = (ft - acc[m, _HX]) * nlogn_scale / tf
        out[5, m] = ux
        out[6, m] = ex2
        out[7, m] = ex2 - ux * ux
        # sums of k D[k], k**2 D[k], k S[k]...: exact integers of the moments, divided once
        out[8, m] = (acc[m, _S2] + acc[m, _S2Y] - 2 * acc[m, _SIJ]) / tf
        out[9, m] = acc[m, _DK1] / tf
        out[10, m] = (acc[m, _S1] + acc[m, _S1Y]) / tf
        out[11, m] = (acc[m, _S2] + acc[m, _S2Y] + 2 * acc[m, _SIJ]) / tf
        out[12, m] = (ft - acc[m, _HS]) * nlogn_scale / tf
        out[13, m] = (ft - acc[m, _HD]) * nlogn_scale / tf
        out[14, m] = acc[m, _IDM] * inv_scale / tf
        out[15, m] = (n * acc[m, _DQ] - t * t) / (tf * tf * float(n * n))
        out[16, m] = acc[m, _CMAX] / tf
        if out.shape[0] < len(WINDOW_STATISTICS):  # a symmetric matrix: the row's are these
            continue
        out[17, m] = (ft - acc[m, _HY]) * nlogn_scale / tf
        out[18, m] = uy
        out[19, m] = ey2
        out[20, m] = ey2 - uy * uy
        out[21, m] = acc[m, _HXY1] * nlogn_scale / tf
