"""The co-occurrence stage: gray-level co-occurrence matrices, equal to mahotas's.

The kernels are math on arrays and check nothing; :func:`cooccurrence`, the
stage's entry point, validates what they need (an integer 2-D image or 3-D
volume of non-negative levels, positive distances, offsets whose first
non-zero component is positive, a mask of the image's shape) with
``ValueError`` / ``TypeError``. Offsets are data: the four 2-D directions and
mahotas's thirteen 3-D ones are the defaults, and any set of offsets is
counted the same way.
"""

import functools
import math
import threading

import numba
import numpy as np

from .._buffers import working_array
from .indexing import unsigned
from .libm import log2
from .._settings import DIRECTIONS_2D, DIRECTIONS_3D as _NAMED_3D

__all__ = [
    "DIRECTIONS", "DIRECTIONS_3D", "LOG2_SMALL_COUNTS", "CooccurrenceSums", "cooccurrence",
    "cooccurrence_sums", "crop_matrices", "crop_sums", "cross_cooccurrence", "eps_cell_entropies",
    "in_a_table", "largest_counts", "level_statistics", "normalised_counts", "sum_moments",
    "LEVEL_STATISTICS", "MAX_MATRIX_SUM", "matrix_sums", "max_matrix_pairs", "padded_length",
    "stack_sums",
]

#: Neighbour offsets ``(dy, dx)`` per unit distance, in mahotas's order:
#: horizontal, diagonal (nw-se), vertical, anti-diagonal (ne-sw).
DIRECTIONS = tuple(offset for _, offset in DIRECTIONS_2D)

#: The 13 offsets ``(d0, d1, d2)`` of a volume along its axes 0, 1, 2, in
#: mahotas's order (``mahotas.features.texture._3d_deltas``).
DIRECTIONS_3D = tuple(offset for _, offset in _NAMED_3D)

#: Bound of a co-occurrence matrix's exact int64 sums, with a margin below 2**63 for their
#: float64 estimates. The largest two are the sum of its squared counts, ``sum P**2``, and
#: the sum histogram's second moment, ``sum (i + j)**2 P[i, j]``, which is no smaller than
#: the sums of ``i j P``, ``i**2 P`` and ``(i - j)**2 P``.
MAX_MATRIX_SUM = 2**62
# The largest total T whose square T**2 stays below MAX_MATRIX_SUM: 2**31 - 1.
_MAX_TOTAL = math.isqrt(MAX_MATRIX_SUM - 1)


def max_matrix_pairs(n_levels):
    """The most pixel pairs a matrix of ``n_levels`` gray levels holds with exact sums.

    ``T`` pairs all in the cell of the top level ``L - 1`` (a flat image)
    give ``sum P**2 = T**2`` and ``sum (i + j)**2 P = 4 (L - 1)**2 T``, the
    most that either sum reaches with ``T`` pairs: a matrix of at most this
    many pairs keeps every sum below :data:`MAX_MATRIX_SUM`, whatever its
    cells.

    Parameters
    ----------
    n_levels : int
        The matrix's levels ``L`` (its largest level + 1).

    Returns
    -------
    pairs : int
        The largest total count ``T`` (both orders of a pair, for a
        symmetric matrix) allowed.

    Examples
    --------
    >>> max_matrix_pairs(256)  # the squared counts bound it: 2**31 - 1
    2147483647
    >>> max_matrix_pairs(2**16)  # the levels do
    268443648
    """
    spread = 4 * (int(n_levels) - 1) ** 2
    return min(_MAX_TOTAL, (MAX_MATRIX_SUM - 1) // spread) if spread > 0 else _MAX_TOTAL


@numba.njit(nogil=True, cache=True)
def _count_row(row, neighbour_row, dx, x_start, x_stop, n_levels, counts):
    """Count the pairs ``(row[x], neighbour_row[x + dx])`` for x in [x_start, x_stop)."""
    for x in range(x_start, x_stop):
        counts[np.intp(row[x]) * n_levels + np.intp(neighbour_row[x + dx])] += 1


@numba.njit(nogil=True, cache=True)
def _count_two_directions(gray, dy1, dx1, dy2, dx2, n_levels, counts1, counts2):
    """Add the non-symmetric pair counts of two offsets ``(dy, dx)``, ``dy >= 0``.

    ``counts1[a * n_levels + b]`` is incremented once for each pixel ``p`` of
    value ``a`` whose neighbour ``p + (dy1, dx1)`` lies inside the image and
    has value ``b``; likewise ``counts2`` for ``(dy2, dx2)``.

    :func:`_count_pairs` counts four offsets per pass
    (:func:`_count_four_directions`, measured faster) and two left over here:
    two interleaved tables halve the store-to-load dependency chains that a
    single table forms on flat image regions (the same cell again and
    again). Where both neighbours exist the row is
    counted in one branch-free loop over contiguous slices with a
    non-negative index, so that numba emits neither wraparound nor bounds
    checks; the few border pixels go through :func:`_count_row`.
    """
    height, width = gray.shape
    x_start1 = max(0, -dx1)
    x_stop1 = width - max(0, dx1)
    x_start2 = max(0, -dx2)
    x_stop2 = width - max(0, dx2)
    y_stop1 = height - dy1
    y_stop2 = height - dy2
    common_start = max(x_start1, x_start2)
    common_stop = min(x_stop1, x_stop2)
    for y in range(max(y_stop1, y_stop2)):
        row = gray[y]
        if y < y_stop1 and y < y_stop2 and common_stop > common_start:
            source = row[common_start:common_stop]
            neighbour1 = gray[y + dy1, common_start + dx1 : common_stop + dx1]
            neighbour2 = gray[y + dy2, common_start + dx2 : common_stop + dx2]
            for i in range(common_stop - common_start):
                a = np.intp(source[i]) * n_levels
                counts1[np.uintp(a + np.intp(neighbour1[i]))] += 1
                counts2[np.uintp(a + np.intp(neighbour2[i]))] += 1
            below1 = gray[y + dy1]
            below2 = gray[y + dy2]
            _count_row(row, below1, dx1, x_start1, min(common_start, x_stop1), n_levels, counts1)
            _count_row(row, below1, dx1, max(common_stop, x_start1), x_stop1, n_levels, counts1)
            _count_row(row, below2, dx2, x_start2, min(common_start, x_stop2), n_levels, counts2)
            _count_row(row, below2, dx2, max(common_stop, x_start2), x_stop2, n_levels, counts2)
        else:
            if y < y_stop1:
                _count_row(row, gray[y + dy1], dx1, x_start1, x_stop1, n_levels, counts1)
            if y < y_stop2:
                _count_row(row, gray[y + dy2], dx2, x_start2, x_stop2, n_levels, counts2)


@numba.njit(nogil=True, cache=True)
def _count_four_directions(gray, offsets, n_levels, counts0, counts1, counts2, counts3):
    """Add the non-symmetric pair counts of four offsets ``offsets[m] = (dy, dx)``, ``dy >= 0``.

    As :func:`_count_two_directions`, ``counts{m}`` for ``offsets[m]``, in one
    pass over the image: each pixel's value is loaded and scaled once for its
    four pairs, whose four increments go to four tables and do not depend on
    each other. Where all four neighbours exist, one branch-free loop over
    contiguous slices with a non-negative index; the other pixels through
    :func:`_count_row`.
    """
    height, width = gray.shape
    x_start = 0
    x_stop = width
    y_stop = height
    for m in range(4):
        x_start = max(x_start, -offsets[m, 1])
        x_stop = min(x_stop, width - max(0, offsets[m, 1]))
        y_stop = min(y_stop, height - offsets[m, 0])
    dy0, dx0 = offsets[0, 0], offsets[0, 1]
    dy1, dx1 = offsets[1, 0], offsets[1, 1]
    dy2, dx2 = offsets[2, 0], offsets[2, 1]
    dy3, dx3 = offsets[3, 0], offsets[3, 1]
    if x_stop > x_start:
        for y in range(max(0, y_stop)):
            source = gray[y, x_start:x_stop]
            neighbour0 = gray[y + dy0, x_start + dx0 : x_stop + dx0]
            neighbour1 = gray[y + dy1, x_start + dx1 : x_stop + dx1]
            neighbour2 = gray[y + dy2, x_start + dx2 : x_stop + dx2]
            neighbour3 = gray[y + dy3, x_start + dx3 : x_stop + dx3]
            for i in range(x_stop - x_start):
                a = np.intp(source[i]) * n_levels
                counts0[np.uintp(a + np.intp(neighbour0[i]))] += 1
                counts1[np.uintp(a + np.intp(neighbour1[i]))] += 1
                counts2[np.uintp(a + np.intp(neighbour2[i]))] += 1
                counts3[np.uintp(a + np.intp(neighbour3[i]))] += 1
    for m in range(4):
        counts = (counts0, counts1, counts2, counts3)[m]
        dy, dx = offsets[m, 0], offsets[m, 1]
        row_start = max(0, -dx)
        row_stop = width - max(0, dx)
        for y in range(height - dy):
            if y < y_stop and x_stop > x_start:  # the rest of the row was counted above
                _count_row(gray[y], gray[y + dy], dx, row_start, min(x_start, row_stop),
                           n_levels, counts)
                _count_row(gray[y], gray[y + dy], dx, max(x_stop, row_start), row_stop,
                           n_levels, counts)
            else:
                _count_row(gray[y], gray[y + dy], dx, row_start, row_stop, n_levels, counts)


def _count_pairs(gray, offsets, n_levels, counts):
    """Fill ``counts[m]`` (flat ``L * L``) with the non-symmetric counts of ``offsets[m]``.

    One pass over the image per four offsets (:func:`_count_four_directions`),
    then one per two (:func:`_count_two_directions`), the last one alone.
    When ``L`` is a multiple of 32, four offsets per pass go through scratch
    tables on images of at least ``64 * L**2`` pixels, and passes of two
    offsets count smaller ones (see below).

    Measured on the 12 photographs of ``benchmarks/_data/photos_5mp`` (2592 x
    1944, gray uint8, the four directions; counting alone, median of
    interleaved rounds; AMD EPYC AVX-512, family 25 model 17, 2 cores, 1 MiB L2, shared):
    four tables per pass take 0.81x the time of two passes of two tables (the
    kernel before: 8.44 against 10.38 ms per image), 0.84x with distances 1, 2
    and 4, 0.87x on uint16 images and 0.68x on images of 64 levels. Slower, and
    not kept: each table split by x parity (two directions: 0.98x, no
    consistent gain; four: 8 tables, 1.18x), rows in pairs (1.16x), rows y and
    y + H/2 interleaved into the same four tables (1.08x), tables indexed by
    ``(b - a) mod 256`` so that the hot cells near the diagonal are contiguous
    (1.24x; four tables: 1.08x), fixed 257-cell rows with constant table
    offsets (fewer instructions, no gain: 0.87x against 0.84x in the same run).
    When ``L`` is a multiple of 32 (``L = 256`` in a photograph with pure
    white), rows are a power of two bytes long and the tables' starts a
    multiple of 4 KiB apart: hot cells collide (in cache sets and in the 4 KiB
    store-to-load check, presumably) and such a photograph took 1.19x to 1.25x
    the time of the two-table kernel. These ``L`` are counted in scratch tables
    of rows of ``L + 1`` cells, 1 KiB apart mod 4 KiB, added to ``counts``
    after each pass (0.87x to 0.90x on that photograph). Other ``L`` gain
    nothing from scratch tables (``L = 254``: 0.95x with, 0.83x without). Their
    allocation costs about 0.4 ms at ``L = 256`` (page faults, it seems), more
    than they save on a 512 x 512 image (skimage's camera: 1.1x to 1.9x the
    two-table kernel's time with them, 1.26x with four tables in place), so
    smaller images of such ``L`` keep passes of two tables (1.00x).
    """
    # Python, not numba: the passes are few, and compiling this loop took 0.9 s of a cold
    # first transform (the kernels it calls are the compiled work).
    n_offsets = offsets.shape[0]
    size = n_levels * n_levels
    aliased = size % 1024 == 0  # L a multiple of 32
    # scratch tables cost an allocation (0.4 ms at L = 256): worth it on large images only
    use_scratch = aliased and size <= 65536 and gray.size >= 64 * size and n_offsets >= 4
    row = n_levels + 1 if use_scratch else n_levels  # scratch rows: one spare cell
    table = n_levels * row
    scratch_stride = (table // 1024 + 1) * 1024 + 256  # cells: starts 1 KiB apart mod 4 KiB
    scratch = np.zeros(4 * scratch_stride if use_scratch else 0, counts.dtype)
    m = 0
    while m + 4 <= n_offsets and (use_scratch or not aliased):
        if use_scratch:
            if m > 0:
                scratch[:] = 0
            tables = [scratch[j * scratch_stride : j * scratch_stride + table] for j in range(4)]
            _count_four_directions(gray, offsets[m : m + 4], row, *tables)
            for j in range(4):
                counts[m + j].reshape(n_levels, n_levels)[:] += (
                    tables[j].reshape(n_levels, row)[:, :n_levels])
        else:
            _count_four_directions(gray, offsets[m : m + 4], n_levels, counts[m], counts[m + 1],
                                   counts[m + 2], counts[m + 3])
        m += 4
    while m + 2 <= n_offsets:
        _count_two_directions(gray, offsets[m, 0], offsets[m, 1], offsets[m + 1, 0],
                              offsets[m + 1, 1], n_levels, counts[m], counts[m + 1])
        m += 2
    if m < n_offsets:
        _count_one_direction(gray, offsets[m, 0], offsets[m, 1], n_levels, counts[m])


@numba.njit(nogil=True, cache=True)
def _count_one_direction(gray, dy, dx, n_levels, counts):
    """Add the non-symmetric pair counts of one offset ``(dy, dx)``, ``dy >= 0``."""
    for y in range(gray.shape[0] - dy):
        _count_row(gray[y], gray[y + dy], dx, max(0, -dx), gray.shape[1] - max(0, dx),
                   n_levels, counts)


@numba.njit(nogil=True, cache=True)
def _count_two_offsets_3d(vol, dz1, dy1, dx1, dz2, dy2, dx2, n_levels, counts1, counts2):
    """The 3-D :func:`_count_two_directions`: two offsets ``(dz, dy, dx)`` in one pass.

    A volume is a stack of rows ``vol[z, y]``; each offset pairs a row with
    the row ``vol[z + dz, y + dy]`` shifted by ``dx``, so the inner loop is the
    2-D one: one branch-free loop where both neighbours exist, the border
    pixels through :func:`_count_row`. ``dy`` may be negative (``dz > 0``).
    """
    depth, height, width = vol.shape
    x_start1 = max(0, -dx1)
    x_stop1 = width - max(0, dx1)
    x_start2 = max(0, -dx2)
    x_stop2 = width - max(0, dx2)
    common_start = max(x_start1, x_start2)
    common_stop = min(x_stop1, x_stop2)
    for z in range(depth):
        z1 = z + dz1
        z2 = z + dz2
        z1_in = 0 <= z1 < depth
        z2_in = 0 <= z2 < depth
        if not (z1_in or z2_in):
            continue
        for y in range(height):
            y1 = y + dy1
            y2 = y + dy2
            in1 = z1_in and 0 <= y1 < height
            in2 = z2_in and 0 <= y2 < height
            row = vol[z, y]
            if in1 and in2 and common_stop > common_start:
                source = row[common_start:common_stop]
                neighbour1 = vol[z1, y1, common_start + dx1 : common_stop + dx1]
                neighbour2 = vol[z2, y2, common_start + dx2 : common_stop + dx2]
                for i in range(common_stop - common_start):
                    a = np.intp(source[i]) * n_levels
                    counts1[np.uintp(a + np.intp(neighbour1[i]))] += 1
                    counts2[np.uintp(a + np.intp(neighbour2[i]))] += 1
                below1 = vol[z1, y1]
                below2 = vol[z2, y2]
                _count_row(row, below1, dx1, x_start1, min(common_start, x_stop1), n_levels,
                           counts1)
                _count_row(row, below1, dx1, max(common_stop, x_start1), x_stop1, n_levels,
                           counts1)
                _count_row(row, below2, dx2, x_start2, min(common_start, x_stop2), n_levels,
                           counts2)
                _count_row(row, below2, dx2, max(common_stop, x_start2), x_stop2, n_levels,
                           counts2)
            else:
                if in1:
                    _count_row(row, vol[z1, y1], dx1, x_start1, x_stop1, n_levels, counts1)
                if in2:
                    _count_row(row, vol[z2, y2], dx2, x_start2, x_stop2, n_levels, counts2)


@numba.njit(nogil=True, cache=True)
def _count_pairs_3d(vol, offsets, n_levels, counts):
    """The 3-D :func:`_count_pairs`: one pass over the volume per pair of offsets."""
    n_offsets = offsets.shape[0]
    for m in range(0, n_offsets - 1, 2):
        _count_two_offsets_3d(vol, offsets[m, 0], offsets[m, 1], offsets[m, 2],
                              offsets[m + 1, 0], offsets[m + 1, 1], offsets[m + 1, 2],
                              n_levels, counts[m], counts[m + 1])
    if n_offsets % 2:
        last = n_offsets - 1
        dz, dy, dx = offsets[last, 0], offsets[last, 1], offsets[last, 2]
        depth, height, width = vol.shape
        for z in range(max(0, -dz), depth - max(0, dz)):
            for y in range(max(0, -dy), height - max(0, dy)):
                _count_row(vol[z, y], vol[z + dz, y + dy], dx, max(0, -dx),
                           width - max(0, dx), n_levels, counts[last])


@numba.njit(nogil=True, cache=True)
def _symmetrize(counts, out, n_out):
    """Write ``counts + counts.T`` (per matrix, its first ``n_out`` levels) into ``out``."""
    n_dist, n_dir = counts.shape[:2]
    for k in range(n_dist):
        for direction in range(n_dir):
            c = counts[k, direction]
            o = out[k, direction]
            for i in range(n_out):
                for j in range(n_out):
                    o[i, j] = np.int64(c[i, j]) + np.int64(c[j, i])


@numba.njit(nogil=True, cache=True)
def _count_cross_pairs(first, second, offsets, n_levels, forward, backward):
    """Count the pairs of both pixel orders of each offset, into two tables (flat ``L * L``).

    For each pixel ``p`` whose neighbour ``q = p + offsets[m]`` lies inside the
    image: ``forward[m]`` counts ``(first[p], second[q])`` and ``backward[m]``
    counts ``(second[p], first[q])`` (the transpose of the second order). One
    pass over the two images per offset; two tables halve the store-to-load
    chains on flat regions, and contiguous slices with non-negative indices
    spare numba's wraparound checks (as in :func:`_count_two_directions`).
    """
    height, width = first.shape
    for m in range(offsets.shape[0]):
        dy, dx = offsets[m, 0], offsets[m, 1]
        x_start = max(0, -dx)
        x_stop = width - max(0, dx)
        fwd, bwd = forward[m], backward[m]
        for y in range(height - dy):
            a = first[y, x_start:x_stop]
            b = second[y, x_start:x_stop]
            a_next = first[y + dy, x_start + dx:x_stop + dx]
            b_next = second[y + dy, x_start + dx:x_stop + dx]
            for i in range(x_stop - x_start):
                fwd[np.uintp(np.intp(a[i]) * n_levels + np.intp(b_next[i]))] += 1
                bwd[np.uintp(np.intp(b[i]) * n_levels + np.intp(a_next[i]))] += 1


def _checked_levels(image, name, mask=None):
    """Validated ``(image, its largest level)``, the levels inside ``mask`` only when given."""
    image = np.asarray(image)
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {image.shape}")
    if image.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer levels, got dtype {image.dtype}")
    counted = image if mask is None else image[mask]
    low, high = int(counted.min()), int(counted.max())
    if low < 0:
        raise ValueError(f"{name} levels must be non-negative, got a minimum of {low}")
    if high >= 2**16:
        raise ValueError(f"at most 65536 levels are counted, got a maximum of {high} in {name}")
    return image, high


def _checked_distances(distances):
    distances = np.asarray(distances)
    if distances.ndim != 1 or distances.size == 0 or distances.dtype.kind not in "iu" or (
        distances < 1
    ).any():
        raise ValueError(f"distances must be a non-empty list of positive ints, got {distances}")
    return distances


def _checked_offsets(distances, directions):
    distances = _checked_distances(distances)
    units = np.asarray(directions, dtype=np.intp).reshape(-1, 2)
    if len(units) == 0 or (units[:, 0] < 0).any() or (
        (units[:, 0] == 0) & (units[:, 1] <= 0)
    ).any():
        raise ValueError(f"directions must be (dy, dx) with dy >= 0 (dx > 0 if dy == 0), "
                         f"got {units.tolist()}")
    return distances, units


def cross_cooccurrence(first, second, distances=(1,), directions=DIRECTIONS, *,
                       symmetric=True, mask=None):
    """Cross-channel co-occurrence matrices of two channel images, one per distance and direction.

    For each distance ``d`` and direction ``(dy, dx)``, every pair of pixels
    ``(p, q = p + d * (dy, dx))`` inside the image is counted in both orders:
    once at ``(first[p], second[q])`` and once at ``(first[q], second[p])``.
    Rows are levels of ``first``, columns levels of ``second``; the matrix
    is not symmetric in general, and that of ``(second, first)`` is its
    transpose. With ``first`` and ``second`` the same image it is the
    symmetric gray-level co-occurrence matrix of :func:`cooccurrence` (and of
    ``mahotas.features.texture.cooccurence(..., symmetric=True)``). This is
    the between-channel matrix of the colour-texture literature [1]_ [2]_,
    counted over the full circle of each direction (both ``+offset`` and
    ``-offset``), as the symmetric gray matrix is.

    With ``symmetric=False`` each pixel pair is counted once, at
    ``(first[p], second[q])``: the matrix of both orders is this one plus the
    transpose of the ``(second, first)`` one, and with ``first`` and
    ``second`` the same image it is ``cooccurrence(..., symmetric=False)``.

    Parameters
    ----------
    first, second : ndarray of int, shape (height, width)
        Channel images of non-negative integer levels, of the same shape.
        Both axes have ``L = max(first.max(), second.max()) + 1`` levels.
    distances : tuple of int, default=(1,)
        Positive neighbour distances, in pixels.
    directions : sequence of (dy, dx), default=DIRECTIONS
        Offsets per unit distance, each with ``dy >= 0`` (and ``dx > 0`` when
        ``dy == 0``).
    symmetric : bool, default=True
        Count both orders of each pixel pair (see above), or the first only.
    mask : ndarray of bool of the images' shape, default=None
        Count only the pixel pairs whose two pixels both lie in the mask
        (as :func:`cooccurrence` does). ``L`` is then taken from the levels
        inside it.

    Returns
    -------
    cmats : ndarray of int64, shape (len(distances), len(directions), L, L)

    Raises
    ------
    ValueError, TypeError
        For images that are not 2-D, not integer, empty, negative or of
        different shapes, distances or directions out of their ranges, or a
        mask of another shape or without any pixel.

    References
    ----------
    .. [1] C. Palm, "Color texture classification by integrative co-occurrence
       matrices", Pattern Recognition 37(5):965-976, 2004.
       doi:10.1016/j.patcog.2003.09.010
    .. [2] V. Arvis, C. Debain, M. Berducat and A. Benassi, "Generalization of
       the cooccurrence matrix for colour images: application to colour
       texture classification", Image Analysis & Stereology 23(1):63-72, 2004.
       doi:10.5566/ias.v23.p63-72

    Examples
    --------
    >>> import numpy as np
    >>> red = np.array([[0, 1, 1]], dtype=np.uint8)
    >>> green = np.array([[2, 2, 0]], dtype=np.uint8)
    >>> cross_cooccurrence(red, green)[0, 0]  # (0, 2), (1, 0) then (1, 2), (1, 2)
    array([[0, 0, 1],
           [1, 0, 2],
           [0, 0, 0]])
    >>> cross_cooccurrence(red, green, mask=np.array([[True, True, False]]))[0, 0]  # (0, 2), (1, 2)
    array([[0, 0, 1],
           [0, 0, 1],
           [0, 0, 0]])
    >>> cross_cooccurrence(red, green[:, :2])
    Traceback (most recent call last):
    ...
    ValueError: first and second must have the same shape, got (1, 3) and (1, 2)
    """
    first, second = np.asarray(first), np.asarray(second)
    if first.shape != second.shape:
        raise ValueError(f"first and second must have the same shape, got {first.shape} "
                         f"and {second.shape}")
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != first.shape:
            raise ValueError(f"mask of shape {mask.shape} does not match the images' "
                             f"{first.shape}")
        if mask.dtype != bool:
            raise TypeError(f"mask must be a boolean array, got dtype {mask.dtype}")
        if not mask.any():
            raise ValueError("mask is empty: it selects no pixel")
    first, high_first = _checked_levels(first, "first", mask)
    second, high_second = _checked_levels(second, "second", mask)
    distances, units = _checked_offsets(distances, directions)
    n_levels = max(high_first, high_second) + 1
    n_counted = n_levels
    if mask is not None:
        if n_levels >= 2**16:  # the extra level must fit in 16 bits too
            raise ValueError(f"at most {2**16 - 1} levels are counted inside a mask, got a "
                             f"maximum of {n_levels - 1}")
        # As in cooccurrence: outside pixels take the extra level n_levels, whose row and
        # column (every pair with a pixel outside) are dropped after counting.
        n_counted = n_levels + 1
    dtype = np.uint8 if n_counted <= 256 else np.uint16
    first = np.ascontiguousarray(first, dtype=dtype)
    second = np.ascontiguousarray(second, dtype=dtype)
    if mask is not None:  # in the counting dtype, which holds the extra level
        first = np.where(mask, first, dtype(n_levels))
        second = np.where(mask, second, dtype(n_levels))
    offsets = (distances.astype(np.intp)[:, None, None] * units[None]).reshape(-1, 2)
    acc_dtype = np.int32 if first.size < 2**31 else np.int64
    forward = np.zeros((offsets.shape[0], n_counted * n_counted), dtype=acc_dtype)
    backward = np.zeros_like(forward)
    _count_cross_pairs(first, second, offsets, n_counted, forward, backward)
    shape = (offsets.shape[0], n_counted, n_counted)
    out = forward.reshape(shape)[:, :n_levels, :n_levels].astype(np.int64)
    if symmetric:
        out += backward.reshape(shape)[:, :n_levels, :n_levels].transpose(0, 2, 1)
    return out.reshape(distances.shape[0], len(units), n_levels, n_levels)


def _checked_distances_and_units(distances, directions, ndim):
    """Validated ``(distances, unit offsets)`` for an array of ``ndim`` axes, as read-only arrays.

    The same few values come with every image of a batch: they are checked
    once (cached by their shape, dtype and values), other input as it is.
    """
    try:
        return _checked_once(_as_key(distances), _as_key(directions), ndim)
    except TypeError:  # unhashable (ragged, objects): checked as given, which raises
        return _checked_offsets_of(distances, directions, ndim)


def _as_key(value):
    array = np.asarray(value)
    return array.shape, array.dtype.str, tuple(array.ravel().tolist())


@functools.lru_cache(maxsize=64)
def _checked_once(distances_key, directions_key, ndim):
    arrays = [np.array(values, dtype=dtype).reshape(shape)
              for shape, dtype, values in (distances_key, directions_key)]
    return _checked_offsets_of(*arrays, ndim)


def _checked_offsets_of(distances, directions, ndim):
    distances = _checked_distances(distances)
    units = np.asarray(directions, dtype=np.intp)
    if units.ndim == 1 and units.size == ndim:
        units = units[None]
    if units.ndim != 2 or units.shape[1] != ndim or len(units) == 0 or not all(
        any(c != 0 for c in u) and [c for c in u if c != 0][0] > 0 for u in units.tolist()
    ):
        raise ValueError(
            f"directions must be offsets of {ndim} components, each with its first "
            f"non-zero component positive, got {units.tolist()}"
        )
    distances.flags.writeable = False
    units.flags.writeable = False
    return distances, units


def _checked_image(gray, distances, directions, mask):
    """Validated ``(gray, mask, counted pixels, their maximum, distances, unit offsets)``."""
    gray = np.asarray(gray)
    if gray.ndim not in (2, 3) or gray.size == 0:
        raise ValueError(f"gray must be a non-empty 2-D or 3-D array, got shape {gray.shape}")
    if gray.dtype.kind not in "iu":
        raise TypeError(f"gray must hold integer levels, got dtype {gray.dtype}")
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != gray.shape:
            raise ValueError(f"mask of shape {mask.shape} does not match gray's {gray.shape}")
        if mask.dtype != bool:
            raise TypeError(f"mask must be a boolean array, got dtype {mask.dtype}")
        if not mask.any():
            raise ValueError("mask is empty: it selects no pixel")
        counted = gray[mask]
    else:
        counted = gray
    low, high = int(counted.min()), int(counted.max())
    if low < 0:
        raise ValueError(f"gray levels must be non-negative, got a minimum of {low}")
    if high >= 2**16 - (mask is not None):  # a mask takes one level (see below)
        raise ValueError(f"at most {2**16 - (mask is not None)} gray levels are counted, "
                         f"got a maximum of {high}")
    if directions is None:
        directions = DIRECTIONS if gray.ndim == 2 else DIRECTIONS_3D
    distances, units = _checked_distances_and_units(distances, directions, gray.ndim)
    return gray, mask, counted, high, distances, units


def cooccurrence(gray, distances=(1,), directions=None, *, symmetric=True, mask=None,
                 compact=False):
    """Gray-level co-occurrence matrices, one per distance and direction.

    For each distance ``d`` and direction (by default :data:`DIRECTIONS` for
    an image: horizontal, diagonal, vertical, anti-diagonal; the 13 offsets
    of :data:`DIRECTIONS_3D` for a volume), counts the pixel pairs
    ``(p, p + d * direction)`` that both lie inside the image by their gray
    levels, then (``symmetric=True``) adds the transpose, so the diagonal
    counts each pair of equal values twice. The result equals
    ``mahotas.features.texture.cooccurence(gray, direction, symmetric=symmetric,
    distance=d)`` for every direction and distance [1]_, 2-D and 3-D,
    computed with one pass over the image per four offsets (a volume: per
    two) instead of one per offset.

    Parameters
    ----------
    gray : ndarray of int, shape (height, width) or (depth, height, width)
        Gray image or volume with non-negative integer values;
        ``L = gray.max() + 1`` levels, at most 65536. uint8 is the fastest.
    distances : tuple of int, default=(1,)
        Positive neighbour distances, in pixels.
    directions : sequence of (dy, dx) or (dz, dy, dx), default=None
        Offsets per unit distance along the array's axes, one component per
        axis of ``gray``, each with its first non-zero component positive (a
        pair and its mirror are the same symmetric matrix). ``None``: the
        reference's directions for ``gray``'s number of axes.
    symmetric : bool, default=True
        Add the transpose (mahotas's default); ``False`` keeps the counts of
        ``(gray[p], gray[p + offset])`` as they are.
    mask : ndarray of bool of ``gray``'s shape, default=None
        Count only the pairs whose two pixels both lie in the mask
        (pyradiomics's rule). ``L`` is then ``gray[mask].max() + 1``.
    compact : {False, True, "auto"}, default=False
        Count only the gray levels present (in the mask): the matrices are
        ``M x M`` for the ``M`` distinct levels, and the work after counting
        scales with ``M**2`` instead of ``L**2`` (a small region of a
        256-level image has few distinct levels). ``"auto"`` compacts when
        there are fewer counted pixels than ``L**2`` cells. Either value
        returns ``(cmats, level_values, L)``.

    Returns
    -------
    cmats : ndarray of int64, shape (len(distances), len(directions), L, L)
        ``cmats[k, j]`` is the co-occurrence matrix for ``distances[k]`` and
        ``directions[j]``. With ``compact``: ``(cmats, level_values, L)``,
        the matrices' rows and columns standing for the increasing gray
        levels ``level_values``.

    Raises
    ------
    ValueError, TypeError
        For an image that is not 2-D or 3-D, not integer, empty or negative,
        distances or directions out of their ranges, or a mask of another
        shape or without any pixel.

    References
    ----------
    .. [1] R. M. Haralick, K. Shanmugam and I. Dinstein, "Textural Features for
       Image Classification", IEEE Transactions on Systems, Man, and
       Cybernetics, SMC-3(6):610-621, 1973. doi:10.1109/TSMC.1973.4309314

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.array([[0, 0, 1],
    ...                  [1, 2, 2]], dtype=np.uint8)
    >>> cmats = cooccurrence(gray, distances=(1,))
    >>> cmats.shape
    (1, 4, 3, 3)
    >>> cmats[0, 0]  # horizontal pairs (0,0), (0,1), (1,2), (2,2), symmetrized
    array([[2, 1, 0],
           [1, 0, 1],
           [0, 1, 2]])
    >>> cooccurrence(gray, symmetric=False)[0, 0]
    array([[1, 1, 0],
           [0, 0, 1],
           [0, 0, 1]])
    >>> mask = np.array([[True, True, False], [True, True, True]])
    >>> cooccurrence(gray, mask=mask)[0, 0]  # the pair (0, 1) is left out
    array([[2, 0, 0],
           [0, 0, 1],
           [0, 1, 2]])
    >>> cooccurrence(np.zeros((2, 3, 4), np.uint8)).shape  # a volume: 13 directions
    (1, 13, 1, 1)
    >>> cmats, level_values, n_levels = cooccurrence(gray * 100, compact=True)
    >>> cmats[0, 0], level_values, n_levels
    (array([[2, 1, 0],
           [1, 0, 1],
           [0, 1, 2]]), array([  0, 100, 200]), 201)
    >>> cooccurrence(np.array([[0, -1]]))
    Traceback (most recent call last):
    ...
    ValueError: gray levels must be non-negative, got a minimum of -1
    """
    if compact not in (False, True, "auto"):
        raise ValueError(f"compact must be False, True or 'auto', got {compact!r}")
    gray, mask, counted, high, distances, units = _checked_image(gray, distances, directions,
                                                                 mask)
    full_levels = high + 1
    compacted = compact is True or (compact == "auto" and counted.size < full_levels**2)
    gray, level_values, n_levels, n_counted = _levels_to_count(gray, mask, counted, high,
                                                               compacted)
    counts = _dense_counts(gray, distances, units, n_counted)
    in_order = counts.reshape((distances.shape[0], len(units), n_counted, n_counted))
    out_shape = (distances.shape[0], len(units), n_levels, n_levels)
    if not symmetric:
        out = in_order[:, :, :n_levels, :n_levels].astype(np.int64)
    else:
        out = np.empty(out_shape, dtype=np.int64)
        _symmetrize(in_order, out, n_levels)
    if compact is False:
        return out
    return out, level_values, full_levels


def _levels_to_count(gray, mask, counted, high, compacted):
    """The image the kernels count, as ``(gray, level_values, n_levels, n_counted)``.

    ``compacted``: the levels present are renumbered ``0 .. M - 1``
    (``level_values`` maps them back). With a mask, outside pixels take the
    extra level ``n_levels`` (``n_counted = n_levels + 1``), counted then
    dropped: a pair counts in the first ``n_levels`` rows and columns only
    when both of its pixels lie in the mask, so one kernel serves both.
    """
    n_levels = high + 1
    level_values = np.arange(n_levels)
    if compacted:
        present = np.zeros(n_levels, bool)
        present[counted] = True
        level_values = np.flatnonzero(present)
        lookup = np.zeros(n_levels, np.uint16)
        lookup[level_values] = np.arange(len(level_values), dtype=np.uint16)
        if mask is not None:  # outside pixels may hold any value: any valid one will do
            gray = np.where(mask, gray, counted[0])
        gray = lookup[gray]
        n_levels = len(level_values)
        if n_levels < 256:
            gray = gray.astype(np.uint8)
    n_counted = n_levels
    if mask is not None:
        sentinel_dtype = np.uint8 if n_levels < 255 else np.uint16
        gray = gray.astype(sentinel_dtype)
        gray[~mask] = n_levels
        n_counted = n_levels + 1
    # Two compiled specialisations only (each costs ~1 s to compile):
    # uint8, the hot path, and uint16 for every other integer dtype.
    gray = np.ascontiguousarray(gray, dtype=np.uint8 if gray.dtype == np.uint8 else np.uint16)
    return gray, level_values, n_levels, n_counted


def _dense_counts(gray, distances, units, n_counted):
    """Non-symmetric counts, shape ``(n_distances * n_directions, n_counted**2)``, in that order."""
    if gray.ndim == 2:
        # Four offsets per pass; offsets left over pair (horizontal, vertical) and
        # (diagonal, anti-diagonal), the measured fastest pairing of two;
        # `order` maps pass position -> output.
        order = np.argsort([0 if dy == 0 or dx == 0 else 1 for dy, dx in units], kind="stable")
    else:
        order = np.arange(len(units))
    offsets = (distances.astype(np.intp)[:, None, None] * units[order][None])
    offsets = offsets.reshape(-1, gray.ndim)
    # int32 accumulators halve the cache footprint of the hot loop; a single
    # matrix never holds more than gray.size pairs.
    acc_dtype = np.int32 if gray.size < 2**31 else np.int64
    counts = np.zeros((offsets.shape[0], n_counted * n_counted), dtype=acc_dtype)
    if gray.ndim == 2:
        _count_pairs(gray, offsets, n_counted, counts)
    else:
        _count_pairs_3d(gray, offsets, n_counted, counts)
    if (order == np.arange(len(units))).all():
        return counts
    in_pass_order = counts.reshape((distances.shape[0], len(units), -1))
    ordered = np.empty_like(in_pass_order)
    ordered[:, order] = in_pass_order
    return ordered.reshape(counts.shape)


# -- sums of the matrices: what every feature needs, computed exactly --------------------------

# log2 of the small counts: 4096 entries (32 KB) cover ~99% of the non-zero
# cells of a photograph's co-occurrence matrix and spare one libm call each.
LOG2_SMALL_COUNTS = log2(np.maximum(np.arange(4096, dtype=np.float64), 1.0))
_FRACTION_UNITS = 2.0**52  # count_log_count's fractions are summed in units of 2**-52
_ONE_IN_UNITS = np.int64(1) << 52


def _split_count_log_counts(log2_small):
    """``count * log2(count)`` of the counts below ``len(log2_small)`` (0 below 2) as
    :func:`_add_count_log_count` splits it, a row per count: integer part, then fraction in
    units of 2**-52. The same float operations as :func:`_term`'s, element by element."""
    terms = np.arange(len(log2_small), dtype=np.int64) * log2_small
    terms[:2] = 0.0
    integers = np.floor(terms)
    fractions = ((terms - integers) * _FRACTION_UNITS).astype(np.int64)
    return np.stack([integers.astype(np.int64), fractions], axis=1)


#: :func:`_split_count_log_counts` of :data:`LOG2_SMALL_COUNTS`: two loads instead of a
#: product, a floor and two conversions per cell of a region's matrices.
COUNT_LOG_COUNT_PARTS = _split_count_log_counts(LOG2_SMALL_COUNTS)


@numba.njit(nogil=True, cache=True, inline="always")
def _term(count, log2_small):
    """``count * log2(count)`` (0 for counts below 2), the one rounding of every such term."""
    if count < 2:
        return 0.0
    if count < log2_small.shape[0]:
        return count * log2_small[unsigned(count)]
    return count * np.log2(float(count))


@numba.njit(nogil=True, cache=True, inline="always")
def _add_count_log_count(count, times, log2_small, whole, fraction):
    """``(whole, fraction)`` plus ``times * count * log2(count)``, exactly (``times`` 1 or 2).

    The sum is kept as an integer part and a fraction in units of 2**-52:
    ``count * log2(count)`` is 0 or at least 2, so its fractional part is an
    exact multiple of 2**-51 (Sterbenz: the subtraction is exact). The total is
    then the exact sum of the rounded terms, whatever their order: a matrix
    gives the same bits however its cells are visited (dense or sparse,
    upper triangle or all cells). Straight-line code: it compiles in a
    fraction of the time of a loop (a cold first transform compiles it).
    """
    integer, units = _split_term(_term(count, log2_small))
    fraction += units * times
    whole += integer * times + (fraction >> 52)
    return whole, fraction & (_ONE_IN_UNITS - 1)


@numba.njit(nogil=True, cache=True, inline="always")
def _split_term(term):
    """A term ``c log2 c`` (0, or at least 2) as its integer part and its fraction in units
    of 2**-52 (exact: see :func:`_add_count_log_count`)."""
    integer = np.floor(term)
    return np.int64(integer), np.int64((term - integer) * _FRACTION_UNITS)


@numba.njit(nogil=True, cache=True, inline="always")
def _count_log_count_parts(count, parts):
    """``count * log2(count)`` split as :func:`_add_count_log_count` splits it: its integer
    part and its fraction in units of 2**-52, from ``parts`` for the small counts."""
    if count < parts.shape[0]:
        return parts[unsigned(count), 0], parts[unsigned(count), 1]
    return _split_term(count * np.log2(float(count)))  # as _term, beyond the small counts


@numba.njit(nogil=True, cache=True)
def _dense_sums(counts, n_cells, n_valid, values, symmetric, start, log2_small, sums, logs,
                row_counts, col_counts, sum_counts, diff_counts):
    """The sums of each matrix of ``counts`` (flat ``n_cells * n_cells``, non-symmetric counts).

    Rows and columns ``[start, n_valid)`` are the matrix (``start`` 1 leaves
    out level 0, a last ``n_cells - n_valid`` row is a mask's outside level);
    ``values`` maps them to gray levels. With ``symmetric`` the matrix is
    ``counts + counts.T``, read directly (no symmetrised copy), its upper
    triangle once with each off-diagonal cell standing for its mirror too.
    Integer sums only (exact), plus ``sum c log2 c`` exactly rounded: see
    :func:`cooccurrence_sums` for what each output holds.
    """
    for m in range(counts.shape[0]):
        c = counts[m]
        whole = fraction = total = square = product = np.int64(0)
        for a in range(start, n_valid):
            i = values[a]
            for b in range(a if symmetric else start, n_valid):
                s = np.int64(c[a * n_cells + b])
                if symmetric:
                    s += np.int64(c[b * n_cells + a])
                if s == 0:
                    continue
                # The cell (and its mirror): written out here and in _sparse_sums, as
                # a shared helper function made both 3x slower (measured).
                j = values[b]
                mirrored = symmetric and a != b
                times = 2 if mirrored else 1
                row_counts[m, i] += s
                col_counts[m, j] += s
                if mirrored:
                    row_counts[m, j] += s
                    col_counts[m, i] += s
                sum_counts[m, i + j] += times * s
                diff_counts[m, abs(i - j)] += times * s
                total += times * s
                square += times * s * s
                product += times * i * j * s
                whole, fraction = _add_count_log_count(s, 2 if mirrored else 1, log2_small,
                                                       whole, fraction)
        sums[m, 0], sums[m, 1], sums[m, 2] = total, square, product
        logs[m, 0] = float(whole) + fraction / _FRACTION_UNITS
        logs[m, 1] = _term(total, log2_small)


@numba.njit(nogil=True, cache=True)
def _dense_weights(counts, n_cells, n_valid, values, start, row_counts, col_counts,
                   row_weights, col_weights):
    """HXY1's weights of non-symmetric matrices (a kernel of its own: rarely compiled).

    The cells whose row level has a non-empty column and whose column level
    has a non-empty row (mahotas: ``log2(px[i] py[j])`` of the others counts 0).
    """
    for m in range(counts.shape[0]):
        c = counts[m]
        for a in range(start, n_valid):
            i = values[a]
            for b in range(start, n_valid):
                s = np.int64(c[a * n_cells + b])
                j = values[b]
                if s != 0 and col_counts[m, i] != 0 and row_counts[m, j] != 0:
                    row_weights[m, i] += s
                    col_weights[m, j] += s


@numba.njit(nogil=True, cache=True)
def _sparse_sums(gray, offsets, bits, n_valid, symmetric, start, log2_small, scratch, touched,
                 first, sums, logs, row_counts, col_counts, sum_counts, diff_counts, row_weights,
                 col_weights):
    """:func:`_dense_sums` of a small 2-D image's matrices, visiting only the cells it fills.

    Each offset's pairs are counted into ``scratch`` (flat, cell ``(a, b)`` at
    ``a << bits | b``; all zero on entry and on return), the cells filled
    first listed in ``touched``; the sums then read those cells only
    (:func:`_sparse_fill`), so the cost follows the image's pixels, not the
    ``L**2`` cells of its matrices. Matrix ``m`` goes to row ``first + m`` of
    the outputs.
    """
    height, width = gray.shape
    for offset in range(offsets.shape[0]):
        dy, dx = offsets[offset, 0], offsets[offset, 1]
        # int64, not a literal 0: a literal argument compiles the fill once more for its type
        n_touched = np.int64(0)
        for y in range(height - dy):
            row = gray[y]
            below = gray[y + dy]
            for x in range(max(0, -dx), width - max(0, dx)):
                code = (np.intp(row[x]) << bits) | np.intp(below[x + dx])
                count = scratch[code]
                # branch-free: new cells come at random, a branch would mispredict
                touched[n_touched] = code
                n_touched += count == 0
                scratch[code] = count + 1
        _sparse_fill(scratch, touched, n_touched, bits, np.int64(0), n_valid, symmetric, start,
                     log2_small, first + offset, first + offset, sums, logs, row_counts,
                     col_counts, sum_counts, diff_counts, row_weights, col_weights)


@numba.njit(nogil=True, cache=True)
def _sparse_fill(scratch, touched, n_touched, bits, lowest, n_valid, symmetric, start,
                 log2_small, m, r, sums, logs, row_counts, col_counts, sum_counts, diff_counts,
                 row_weights, col_weights):
    """Row ``m`` of the sums from the ``n_touched`` cells of ``scratch`` listed in ``touched``
    (row ``r`` of the arrays by level).

    The cells of one matrix's non-symmetric pair counts (levels ``(a, b)`` at
    ``(a - lowest) << bits | (b - lowest)``), as :func:`_sparse_sums` counts
    them; rows and columns outside ``[start, n_valid)`` are left out.
    ``scratch`` is all zero again on return.
    """
    low = (1 << bits) - 1
    whole = fraction = total = square = product = np.int64(0)
    for k in range(n_touched):
        code = touched[k]
        s = np.int64(scratch[unsigned(code)])
        a = (code >> bits) + lowest
        b = (code & low) + lowest
        if symmetric:
            mirror = ((b - lowest) << bits) | (a - lowest)
            s += np.int64(scratch[unsigned(mirror)])
            scratch[unsigned(mirror)] = 0  # the mirror's own entry (if any) then reads 0: skipped
            scratch[unsigned(code)] = 0
        if s == 0 or a < start or b < start or a >= n_valid or b >= n_valid:
            continue
        if symmetric and a > b:  # the cell and its mirror, added from the upper triangle
            a, b = b, a
        mirrored = symmetric and a != b
        times = 2 if mirrored else 1
        row_counts[unsigned(r), unsigned(a)] += s
        col_counts[unsigned(r), unsigned(b)] += s
        if mirrored:
            row_counts[unsigned(r), unsigned(b)] += s
            col_counts[unsigned(r), unsigned(a)] += s
        sum_counts[unsigned(r), unsigned(a + b)] += times * s
        diff_counts[unsigned(r), unsigned(abs(a - b))] += times * s
        total += times * s
        square += times * s * s
        product += times * a * b * s
        if s > 1:  # a count of 1 adds 0 (most cells of a small region)
            whole, fraction = _add_count_log_count(s, 2 if mirrored else 1, log2_small,
                                                   whole, fraction)
    sums[m, 0], sums[m, 1], sums[m, 2] = total, square, product
    logs[m, 0] = float(whole) + fraction / _FRACTION_UNITS
    logs[m, 1] = _term(total, log2_small)
    if symmetric:  # the marginals, over the levels that can be non-zero
        for k in range(lowest, n_valid):  # a loop: a slice copy compiles 10x longer
            row_weights[unsigned(r), unsigned(k)] = row_counts[unsigned(r), unsigned(k)]
            col_weights[unsigned(r), unsigned(k)] = col_counts[unsigned(r), unsigned(k)]
        return
    for k in range(n_touched):
        code = touched[k]
        a = (code >> bits) + lowest
        b = (code & low) + lowest
        s = np.int64(scratch[unsigned(code)])
        scratch[unsigned(code)] = 0
        if a < start or b < start or a >= n_valid or b >= n_valid:
            continue
        if (col_counts[unsigned(r), unsigned(a)] != 0
                and row_counts[unsigned(r), unsigned(b)] != 0):
            row_weights[unsigned(r), unsigned(a)] += s
            col_weights[unsigned(r), unsigned(b)] += s


def padded_length(n_levels):
    """The length of the by-level arrays of :class:`CooccurrenceSums` for ``n_levels`` levels.

    256, or the next power of two: fixed by the matrix's own levels, so that
    numpy sums over the arrays (whose rounding depends on their length) give
    a matrix the same bits alone or in any batch.
    """
    return max(256, 1 << (max(int(n_levels), 1) - 1).bit_length())


class CooccurrenceSums:
    """What every feature needs of a batch of co-occurrence matrices, summed exactly.

    One entry per matrix (axis 0), for matrices ``P`` of ``n_levels[m]``
    gray levels (the arrays of a batch are padded with zeros to the longest):

    ``total``
        ``sum P`` (0: an empty matrix, no pixel pair).
    ``square_sum``, ``product_sum``
        ``sum P**2`` and ``sum i j P``.
    ``count_log_count``, ``total_log_total``
        ``sum P log2 P`` (cells of 0 counting 0), the exact sum of the
        rounded terms, rounded once: the same bits in whatever order the
        cells are visited; and ``total log2 total``, rounded as each term.
    ``row_counts``, ``col_counts``
        ``P.sum(1)`` and ``P.sum(0)``, by gray level.
    ``sum_counts``, ``diff_counts``
        ``sum P[i, j]`` over ``i + j = k`` (``2 L`` entries) and over
        ``|i - j| = k``.
    ``row_weights``, ``col_weights``
        ``sum_j P[i, j]`` over the cells whose ``log2(px[i] py[j])`` mahotas
        counts (``px[i] py[j] > 0``), by row, and likewise ``sum_i`` by column:
        ``HXY1`` is a sum over levels of these. Equal to the row and column
        counts for a symmetric matrix.

    Everything but ``count_log_count`` is an integer, so the features derived
    from these do not depend on how the matrices were counted.
    """

    # The arrays that hold everything, one row per matrix (what batches concatenate)
    _ARRAYS = ("n_levels", "_integers", "_logs", "row_counts", "col_counts", "sum_counts",
               "diff_counts", "row_weights", "col_weights")
    _FIELDS = ("total", "square_sum", "product_sum", "count_log_count", "total_log_total",
               "row_counts",
               "col_counts", "sum_counts", "diff_counts", "row_weights", "col_weights",
               "n_levels")

    def __init__(self, n_matrices, n_levels, by_level=True):
        # Plain attribute assignments: this runs once per image, and small images are
        # featurized in tens of microseconds.
        if np.ndim(n_levels) == 0:
            length = int(n_levels)
            self.n_levels = np.full(n_matrices, length, np.int64)
        else:
            self.n_levels = np.asarray(n_levels, np.int64)
            length = int(self.n_levels.max(initial=1))
        # without arrays by level (by_level False): sums whose level statistics are known
        length = padded_length(length) if by_level else 0
        self._integers = np.zeros((n_matrices, 3), np.int64)
        self._logs = np.zeros((n_matrices, 2))
        # one allocation for the five arrays by level (each a C-contiguous view)
        by_level = working_array((5, n_matrices, length), np.int64, zeroed=True)
        (self.row_counts, self.col_counts, self.diff_counts, self.row_weights,
         self.col_weights) = by_level
        self.sum_counts = working_array((n_matrices, 2 * length), np.int64, zeroed=True)

    total = property(lambda self: self._integers[:, 0])
    square_sum = property(lambda self: self._integers[:, 1])
    product_sum = property(lambda self: self._integers[:, 2])
    count_log_count = property(lambda self: self._logs[:, 0])
    total_log_total = property(lambda self: self._logs[:, 1])

    def __len__(self):
        return self._integers.shape[0]

    @classmethod
    def concatenate(cls, parts):
        """One batch of the matrices of ``parts``, in order (all of one :func:`padded_length`)."""
        if len({part.row_counts.shape[1] for part in parts}) != 1:
            raise ValueError("sums of different padded lengths cannot share a batch")
        if len(parts) == 1:
            return parts[0]
        out = cls.__new__(cls)
        for name in cls._ARRAYS:
            setattr(out, name, np.concatenate([getattr(part, name) for part in parts]))
        return out

    def rows(self, start, stop):
        """The sums of matrices ``start`` to ``stop`` (views)."""
        out = CooccurrenceSums.__new__(CooccurrenceSums)
        for name in self._ARRAYS:
            setattr(out, name, getattr(self, name)[start:stop])
        return out

    def fill_dense(self, counts, n_cells, n_valid, level_values, symmetric, ignore_zeros):
        """Fill from flat non-symmetric ``counts`` (one row per matrix): see :func:`_dense_sums`."""
        start = 1 if ignore_zeros and level_values[0] == 0 else 0
        level_values = np.ascontiguousarray(level_values, np.int64)
        _dense_sums(counts, n_cells, n_valid, level_values, symmetric, start,
                    LOG2_SMALL_COUNTS, self._integers, self._logs, self.row_counts,
                    self.col_counts, self.sum_counts, self.diff_counts)
        if symmetric:  # every cell counts in HXY1: the weights are the marginals
            self.row_weights[:] = self.row_counts
            self.col_weights[:] = self.col_counts
        else:
            _dense_weights(counts, n_cells, n_valid, level_values, start, self.row_counts,
                           self.col_counts, self.row_weights, self.col_weights)
        return self


def matrix_sums(cmats, *, ignore_zeros=False, level_values=None, n_levels=None):
    """The :class:`CooccurrenceSums` of given matrices (``(..., L, L)`` counts), as they are.

    ``level_values``/``n_levels`` for compact matrices (see :func:`cooccurrence`).

    Examples
    --------
    >>> import numpy as np
    >>> sums = matrix_sums(np.array([[[2, 1], [1, 0]]]))
    >>> sums.total, sums.square_sum, sums.row_counts[0, :2], sums.diff_counts[0, :2]
    (array([4]), array([6]), array([3, 1]), array([2, 2]))
    """
    n_cells = cmats.shape[-1]
    flat = np.ascontiguousarray(cmats.reshape((-1, n_cells * n_cells)), dtype=np.int64)
    if level_values is None:
        level_values, n_levels = np.arange(n_cells), n_cells
    out = CooccurrenceSums(flat.shape[0], n_levels)
    return out.fill_dense(flat, n_cells, n_cells, level_values, False, ignore_zeros)


# Scratch tables of the sparse counting, one per thread and size: all zero between calls.
_SCRATCH = threading.local()
_SPARSE_MAX_LEVELS = 512  # a table of 4 MB at most (1024 x 1024 cells with a mask)


def _scratch_table(bits):
    tables = _SCRATCH.__dict__.setdefault("tables", {})
    table = tables.get(bits)
    if table is None:
        table = tables[bits] = np.zeros(1 << (2 * bits), np.int32)
    return table


def _four_tables(bits):
    """Four scratch tables of ``1 << 2 bits`` cells, one after the other at
    :func:`_four_table_stride` (all zero between calls; one per thread and size)."""
    tables = _SCRATCH.__dict__.setdefault("four_tables", {})
    table = tables.get(bits)
    if table is None:
        table = tables[bits] = np.zeros(4 * _four_table_stride(bits), np.int32)
    return table


@numba.njit(nogil=True, cache=True)
def _four_table_stride(bits):
    """The cells from one of four tables to the next: 1 KiB more than a table, so that the
    same cell of the four tables does not lie at a multiple of 4 KiB (where the CPU takes a
    store to one for a load of another, and waits)."""
    return (1 << (2 * bits)) + 256


def cooccurrence_sums(gray, distances=(1,), directions=None, *, symmetric=True, mask=None,
                      ignore_zeros=False):
    """The :class:`CooccurrenceSums` of :func:`cooccurrence`'s matrices, without building them.

    Equal to ``matrix_sums(cooccurrence(gray, distances, directions, symmetric=symmetric,
    mask=mask))``, matrices in the same (distance, direction) order, bit for bit, and
    faster: the symmetric matrices are read from the pair counts directly, and an image
    with fewer counted pixels than cells (a 96 x 96 patch, a small region of a 256-level
    image) is counted sparsely, its cost following its pixels rather than ``L**2``.
    ``ignore_zeros`` leaves out row and column 0.

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.array([[0, 0, 1],
    ...                  [1, 2, 2]], dtype=np.uint8)
    >>> sums = cooccurrence_sums(gray)
    >>> sums.total  # pairs of each direction, both orders
    array([8, 4, 6, 4])
    >>> sums.row_counts[0, :3]  # the horizontal matrix's row sums, by level
    array([3, 2, 3])
    """
    gray, mask, counted, high, distances, units = _checked_image(gray, distances, directions,
                                                                 mask)
    n_levels = high + 1
    # The counting with the least work for these counted pixels (a choice that
    # depends on them alone; any choice gives the same sums): all L**2 cells
    # when there are at least as many pixels; else the cells of the range of
    # levels present when those are few (a smooth 96 x 96 patch); else only
    # the cells the pairs fill (sparse, 2-D); else the levels present only.
    low = int(counted.min())
    ranged = counted.size < n_levels**2 and (high - low + 1) ** 2 <= counted.size
    sparse = (not ranged and gray.ndim == 2 and n_levels <= _SPARSE_MAX_LEVELS
              and counted.size < n_levels**2)
    compacted = not (ranged or sparse) and counted.size < n_levels**2
    if ranged and low > 0:
        if mask is not None:  # outside pixels may hold any value: any counted one will do
            gray = np.where(mask, gray, counted[0])
        counted = counted - counted.dtype.type(low)
        gray = gray - gray.dtype.type(low)
        high -= low
    gray, level_values, n_cells, n_counted = _levels_to_count(gray, mask, counted, high,
                                                              compacted)
    if ranged:
        level_values = level_values + low
    n_matrices = distances.shape[0] * len(units)
    out = CooccurrenceSums(n_matrices, n_levels)
    if not sparse:
        counts = _dense_counts(gray, distances, units, n_counted)
        return out.fill_dense(counts, n_counted, n_cells, level_values, symmetric,
                              ignore_zeros)
    offsets = (distances.astype(np.intp)[:, None, None] * units[None]).reshape(-1, 2)
    start = 1 if ignore_zeros else 0
    touched = np.empty(gray.size + 1, np.intp)  # + 1: the branch-free write after the last
    bits = max(1, int(n_counted - 1).bit_length())
    _sparse_sums(gray, offsets, bits, n_cells, symmetric, start, LOG2_SMALL_COUNTS,
                 _scratch_table(bits), touched, 0, out._integers, out._logs,
                 out.row_counts, out.col_counts, out.sum_counts, out.diff_counts,
                 out.row_weights, out.col_weights)
    return out


@numba.njit(nogil=True, cache=True)
def _entropies(counts, totals, log2_small, out):
    """``-sum p log2 p`` of each row, ``p = counts / total``, from exactly summed ``c log2 c``.

    NaN for a total of 0. The same bits in any batch (the sum is exact).
    """
    for m in range(counts.shape[0]):
        total = totals[m]
        if total == 0:
            out[m] = np.nan
            continue
        whole = fraction = np.int64(0)
        for k in range(counts.shape[1]):
            if counts[m, k] > 1:
                whole, fraction = _add_count_log_count(counts[m, k], 1, log2_small, whole,
                                                       fraction)
        out[m] = (_term(total, log2_small) - (float(whole) + fraction / _FRACTION_UNITS)) / total


def _entropies_of(counts, totals):
    out = np.empty(len(totals))
    _entropies(np.ascontiguousarray(counts), np.ascontiguousarray(totals), LOG2_SMALL_COUNTS,
               out)
    return out


#: The columns of :func:`level_statistics`, in order.
LEVEL_STATISTICS = (
    "ux", "uy", "ex2", "ey2", "hx", "hy", "sum_average", "sum_square", "sum_entropy",
    "contrast", "difference_average", "difference_entropy", "idm", "difference_variance",
    "hxy1",
)


def level_statistics(sums):
    """The statistics over gray levels of each matrix of ``sums``: (n_matrices, 15).

    Columns :data:`LEVEL_STATISTICS`: the means of the column (``x``) and row
    (``y``) levels and of their squares, ``HX``, ``HY``, the sum average,
    ``sum k**2 P(x + y = k)``, the sum entropy, the contrast, the difference
    average, the difference entropy, the inverse difference moment, the
    variance of the ``L`` probabilities ``P(|x - y| = k)`` and ``HXY1``. NaN
    for an empty matrix.

    Moments are integer sums (exact) divided once by the total; entropies come
    from exactly summed ``c log2 c`` (:func:`_entropies`); the rest are the
    sums numpy makes over arrays of a length fixed by each matrix's levels
    (its pairwise sums, and ``einsum``'s two-lane dot products), their terms
    in numpy's order. One compiled pass over every matrix, each read only
    over the levels it holds (a region of a 256-level image spans a few
    dozen): the cost follows the levels present, not the arrays' length,
    and a matrix gets the same bits alone or in any batch.

    Examples
    --------
    >>> import numpy as np
    >>> stats = level_statistics(matrix_sums(np.array([[[2, 1], [1, 0]]])))
    >>> float(stats[0, LEVEL_STATISTICS.index("contrast")])  # (1 + 1) / 4
    0.5
    >>> float(stats[0, LEVEL_STATISTICS.index("ux")])  # level 1 in one of four pairs
    0.25
    """
    out = np.empty((len(sums), len(LEVEL_STATISTICS)))
    length = sums.row_counts.shape[1]
    if numba.config.USING_SVML or length < 128 or length & (length - 1) or len(sums) == 0:
        # SVML would vectorize the compiled logarithms with its own code (see libm)
        return _numpy_level_statistics(sums)
    _level_statistics(sums.row_counts, sums.col_counts, sums.sum_counts, sums.diff_counts,
                      sums.row_weights, sums.col_weights, np.ascontiguousarray(sums.total),
                      np.ascontiguousarray(sums.n_levels), LOG2_SMALL_COUNTS,
                      COUNT_LOG_COUNT_PARTS, np.empty(2 * length), np.zeros(8), out)
    return out


def _numpy_level_statistics(sums):
    """:func:`level_statistics` in numpy: the sums whose order the compiled pass follows."""
    totals = sums.total
    empty = totals == 0
    t = np.where(empty, 1, totals).astype(np.float64)
    length = sums.row_counts.shape[1]
    sum_levels = np.arange(2 * length, dtype=np.int64)
    levels = sum_levels[:length]
    out = np.empty((len(sums), len(LEVEL_STATISTICS)))
    moments = np.stack([levels, levels**2], axis=1)
    out[:, [0, 2]] = _exact_products(sums.col_counts, moments, totals) / t[:, None]
    out[:, [1, 3]] = _exact_products(sums.row_counts, moments, totals) / t[:, None]
    out[:, 4] = _entropies_of(sums.col_counts, totals)
    # a symmetric matrix's marginals are equal: HY is HX (the same bits), computed once
    asymmetric = (sums.row_counts != sums.col_counts).any(axis=1)
    out[:, 5] = out[:, 4]
    if asymmetric.any():
        out[asymmetric, 5] = _entropies_of(sums.row_counts[asymmetric], totals[asymmetric])
    out[:, [6, 7]] = _exact_products(sums.sum_counts, np.stack([sum_levels, sum_levels**2],
                                                               axis=1), totals) / t[:, None]
    out[:, 8] = _entropies_of(sums.sum_counts, totals)
    out[:, [9, 10]] = _exact_products(sums.diff_counts, moments[:, ::-1], totals) / t[:, None]
    out[:, 11] = _entropies_of(sums.diff_counts, totals)
    out[:, 12] = np.einsum("mk,k->m", sums.diff_counts, 1.0 / (1.0 + levels**2)) / t
    # mahotas's default difference variance: the variance of the L probabilities
    n = sums.n_levels[:, None]
    probabilities = sums.diff_counts / t[:, None]
    mean = probabilities.sum(axis=1, keepdims=True) / n
    inside = levels[None, :] < n
    out[:, 13] = np.where(inside, (probabilities - mean) ** 2, 0.0).sum(axis=1) / n[:, 0]
    # HXY1 = -sum p log2(px[i] py[j]), by level: log2(c / T) = log2(c) - log2(T)
    log2_t = log2(t)[:, None]
    weighted = (_weighted_log_counts(sums.row_weights, sums.col_counts, log2_t)
                + _weighted_log_counts(sums.col_weights, sums.row_counts, log2_t))
    out[:, 14] = -weighted / t
    out[empty] = np.nan
    return out


@numba.njit(nogil=True, cache=True)
def _level_statistics(row_counts, col_counts, sum_counts, diff_counts, row_weights, col_weights,
                      totals, n_levels, log2_small, parts, dense, lanes, out):
    """:func:`level_statistics` of each matrix (:func:`_matrix_statistics`)."""
    partial = np.empty(row_counts.shape[1] // 128)
    for m in range(row_counts.shape[0]):
        _matrix_statistics(row_counts, col_counts, sum_counts, diff_counts, row_weights,
                           col_weights, m, totals[m], np.int64(0), n_levels[m], log2_small,
                           parts, dense, lanes, partial, out, m)


@numba.njit(nogil=True, cache=True)
def _matrix_statistics(row_counts, col_counts, sum_counts, diff_counts, row_weights,
                       col_weights, r, total, lowest, n_levels, log2_small, parts, dense,
                       lanes, partial, out, m):
    """Row ``m`` of :func:`level_statistics` from row ``r`` of the arrays by level, read over
    the matrix's levels ``[lo, n)`` only (none below ``lowest``).

    The integer sums and entropies are exact (any order); numpy's float sums
    over the arrays' ``L`` levels are rebuilt from their non-zero terms:
    ``einsum``'s (:func:`_einsum_sum`) for the inverse difference moment and
    ``HXY1``, the pairwise sum (:func:`_dense_pairwise`) for the difference
    variance. Every level the matrix holds is below its ``n_levels``.
    """
    length = row_counts.shape[1]
    if total == 0:
        out[m, :] = np.nan
        return
    t = float(total)
    n = min(n_levels, length)
    lo = lowest
    while (lo < n and row_counts[unsigned(r), unsigned(lo)] == 0
           and col_counts[unsigned(r), unsigned(lo)] == 0):
        lo += 1
    # the marginals: moments, HX and HY, and whether they differ (HY is then its own)
    sx = sx2 = sy = sy2 = np.int64(0)
    asymmetric = False
    for k in range(lo, n):
        x_count = col_counts[unsigned(r), unsigned(k)]
        y_count = row_counts[unsigned(r), unsigned(k)]
        sx += x_count * k
        sx2 += x_count * (k * k)
        sy += y_count * k
        sy2 += y_count * (k * k)
        if y_count != x_count:
            asymmetric = True
    out[m, 0] = float(sx) / t
    out[m, 1] = float(sy) / t
    out[m, 2] = float(sx2) / t
    out[m, 3] = float(sy2) / t
    out[m, 4] = _range_entropy(col_counts, r, lo, n, total, log2_small, parts)
    out[m, 5] = out[m, 4]
    if asymmetric:
        out[m, 5] = _range_entropy(row_counts, r, lo, n, total, log2_small, parts)
    # the sum histogram: levels i + j from 2 lo to 2 (n - 1)
    ss = ss2 = np.int64(0)
    sum_stop = min(2 * n - 1, sum_counts.shape[1])
    for k in range(2 * lo, sum_stop):
        s = sum_counts[unsigned(r), unsigned(k)]
        ss += s * k
        ss2 += s * (k * k)
    out[m, 6] = float(ss) / t
    out[m, 7] = float(ss2) / t
    out[m, 8] = _range_entropy(sum_counts, r, 2 * lo, sum_stop, total, log2_small, parts)
    # the difference histogram: |i - j| below n - lo
    top = n - lo
    sd = sd2 = np.int64(0)
    for k in range(top):
        d = diff_counts[unsigned(r), unsigned(k)]
        sd += d * k
        sd2 += d * (k * k)
        dense[unsigned(k)] = float(d) * (1.0 / (1.0 + float(k * k)))
    out[m, 9] = float(sd2) / t
    out[m, 10] = float(sd) / t
    out[m, 11] = _range_entropy(diff_counts, r, np.int64(0), top, total, log2_small, parts)
    # an integer row is cast to floats in buffers of 8192 entries: a sum per buffer
    idm = 0.0
    for chunk in range(0, top, _EINSUM_BUFFER):
        idm = _einsum_sum(dense, chunk, min(chunk + _EINSUM_BUFFER, top)) + idm
    out[m, 12] = idm / t
    # mahotas's difference variance: the variance of the n_levels probabilities (numpy's
    # pairwise sums over the L levels, whose terms from n_levels on are 0)
    levels = float(n_levels)
    for k in range(top):
        d = diff_counts[unsigned(r), unsigned(k)]
        dense[unsigned(k)] = float(d) / t if d != 0 else 0.0
    mean = _dense_pairwise(dense, top, length, lanes, partial) / levels
    for k in range(n):
        centred = (dense[unsigned(k)] if k < top else 0.0) - mean
        dense[unsigned(k)] = centred * centred
    out[m, 13] = _dense_pairwise(dense, n, length, lanes, partial) / levels
    # HXY1: sum_k w_k (log2 c_k - log2 T) for the row weights against the column counts
    # and the column weights against the row counts
    # (the same two terms, bit for bit, when the marginals and the weights are equal)
    mirrored = not asymmetric
    for k in range(lo, n):
        if row_weights[unsigned(r), unsigned(k)] != col_weights[unsigned(r), unsigned(k)]:
            mirrored = False
            break
    log2_t = math.log2(t)
    weighted = 0.0
    for side in range(1 if mirrored else 2):
        weights = row_weights if side == 0 else col_weights
        counts = col_counts if side == 0 else row_counts
        weight_sum = np.int64(0)
        for k in range(lo, n):
            w = weights[unsigned(r), unsigned(k)]
            weight_sum += w
            count = counts[unsigned(r), unsigned(k)]
            if w == 0:
                dense[unsigned(k)] = 0.0
            elif count < log2_small.shape[0]:  # the C library's log2 of small counts
                dense[unsigned(k)] = float(w) * log2_small[unsigned(count)]
            else:
                dense[unsigned(k)] = float(w) * math.log2(float(count))
        value = _einsum_sum(dense, lo, n) - log2_t * float(weight_sum)
        weighted = value if side == 0 else weighted + value
    if mirrored:
        weighted = weighted + weighted
    out[m, 14] = -weighted / t


@numba.njit(nogil=True, cache=True)
def _range_entropy(counts, r, first, stop, total, log2_small, parts):
    """``-sum p log2 p`` of ``counts[r, first:stop] / total`` (the rest 0), as :func:`_entropies`:
    from the exactly summed ``c log2 c``. A function of its own: the statistics compile faster."""
    whole = fraction = np.int64(0)
    for k in range(first, stop):  # branch-free: counts 0 and 1 add zeros
        cell_whole, cell_fraction = _count_log_count_parts(counts[unsigned(r), unsigned(k)],
                                                           parts)
        fraction += cell_fraction
        whole += cell_whole + (fraction >> 52)
        fraction &= _ONE_IN_UNITS - 1
    return (_term(total, log2_small) - (float(whole) + fraction / _FRACTION_UNITS)) / total


@numba.njit(nogil=True, cache=True)
def _dense_pairwise(values, n, length, lanes, partial):
    """numpy's pairwise sum of ``a[0:length]``, ``a[k] = values[k]`` below ``n``, else 0.

    For a length of 128 times a power of two (the sums' arrays): numpy then
    halves it exactly down to blocks of 128, each summed in 8 lanes
    (:func:`_block_sum`'s order), the blocks added pair by pair up the tree;
    the blocks from ``n`` on are 0 and add nothing. Non-negative terms
    (no sign of a zero to keep).
    """
    n_blocks = length // 128
    for block in range(n_blocks):
        first = block * 128
        if first >= n:
            partial[block] = 0.0
            continue
        lanes[:] = 0.0
        for k in range(first, min(first + 128, n)):
            lanes[unsigned(k & 7)] += values[unsigned(k)]
        partial[block] = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + (
            (lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
    while n_blocks > 1:
        n_blocks //= 2
        for block in range(n_blocks):
            partial[block] = partial[2 * block] + partial[2 * block + 1]
    return partial[0]


#: The entries numpy casts at a time for ``einsum`` (its buffer size).
_EINSUM_BUFFER = 8192


@numba.njit(nogil=True, cache=True)
def _einsum_sum(dense, first, stop):
    """numpy's ``einsum`` dot product of rows whose terms are ``dense[first:stop]`` (else 0).

    numpy's kernel (built for its baseline of 128-bit vectors, no fused
    multiply-add): two lanes (even and odd positions), each adding the
    vectors of a block of 8 terms last first, ``(6, 7), (4, 5), (2, 3),
    (0, 1)``, block after block; then lane 0 plus lane 1. Zero terms change
    no lane. Rows whose length is a multiple of 8 (the sums' arrays).
    """
    even = odd = 0.0
    block = first - first % 8
    while block < stop:
        for j in range(6, -2, -2):
            k = block + j
            if first <= k < stop:
                even = dense[unsigned(k)] + even
            if first <= k + 1 < stop:
                odd = dense[unsigned(k + 1)] + odd
        block += 8
    return even + odd


def _weighted_log_counts(weights, counts, log2_t):
    """``sum_k weights_k (log2(counts_k) - log2 T)`` per row, over the non-zero weights."""
    weights = weights.astype(np.float64)
    logs = log2(counts, where=weights != 0)
    return np.einsum("mk,mk->m", weights, logs) - log2_t[:, 0] * weights.sum(axis=1)


def _exact_products(counts, weights, totals):
    """``counts @ weights`` for integer arrays, exactly, as float64.

    Every row of ``counts`` sums to at most its total, so each product is at
    most ``max(weights) * max(totals)``: below 2**53 the float64 value of the
    integer sum is exact, whatever the order of the additions; beyond, the
    same integer arithmetic (modulo 2**64) as numpy's integer product. One
    compiled pass, without converting ``counts`` to floats.
    """
    out = np.empty((counts.shape[0], weights.shape[1]))
    _integer_products(counts, np.ascontiguousarray(weights, np.int64), out)
    return out


@numba.njit(nogil=True, cache=True)
def _integer_products(counts, weights, out):
    totals = np.zeros(weights.shape[1], np.int64)
    for m in range(counts.shape[0]):
        totals[:] = 0
        for k in range(counts.shape[1]):
            count = counts[m, k]
            if count != 0:  # most levels of a small region's marginals are empty
                for j in range(weights.shape[1]):
                    totals[j] += count * weights[k, j]
        for j in range(weights.shape[1]):
            out[m, j] = float(totals[j])


@numba.njit(nogil=True, cache=True)
def _stack_sums(stack, highs, offsets, symmetric, start, log2_small, scratch, touched, sums,
                logs, row_counts, col_counts, sum_counts, diff_counts, row_weights,
                col_weights):
    """:func:`_sparse_sums` of every image of a stack, image ``i``'s matrices from row ``i * M``."""
    for i in range(stack.shape[0]):
        _sparse_sums(stack[i], offsets, np.int64(8), highs[i] + 1, symmetric, start,
                     log2_small, scratch, touched, i * offsets.shape[0], sums, logs, row_counts,
                     col_counts, sum_counts, diff_counts, row_weights, col_weights)


def stack_sums(stack, distances=(1,), directions=DIRECTIONS, *, symmetric=True,
               ignore_zeros=False):
    """:func:`cooccurrence_sums` of each image of a stack of small 8-bit images, in one call.

    The sums of image ``i`` are rows ``i * M`` to ``(i + 1) * M`` (``M``
    matrices per image, in (distance, direction) order), equal bit for bit
    to ``cooccurrence_sums(stack[i], ...)``, which they are also faster than:
    one compiled call for the whole stack, without the GIL, where a call per
    image holds it for its checks (a batch of 32 x 32 images then scales
    over threads).

    Parameters
    ----------
    stack : ndarray of uint8, shape (n_images, height, width)
        The images, each of fewer than 65536 pixels (the sparse counting's domain).

    Examples
    --------
    >>> import numpy as np
    >>> stack = np.array([[[0, 0, 1], [1, 2, 2]], [[5, 5, 5], [5, 5, 5]]], dtype=np.uint8)
    >>> sums = stack_sums(stack)
    >>> sums.total.reshape(2, 4)
    array([[8, 4, 6, 4],
           [8, 4, 6, 4]])
    >>> sums.n_levels.reshape(2, 4)[:, 0]
    array([3, 6])
    """
    stack = np.asarray(stack)
    if stack.ndim != 3 or stack.dtype != np.uint8 or stack.shape[1] * stack.shape[2] >= 65536:
        raise ValueError("stack must be a uint8 array (n_images, height, width) of images "
                         f"of fewer than 65536 pixels, got {stack.dtype} {stack.shape}")
    _, _, _, _, distances, units = _checked_image(stack[0], distances, directions, None)
    stack = np.ascontiguousarray(stack)
    highs = stack.max(axis=(1, 2)).astype(np.intp)
    offsets = (distances.astype(np.intp)[:, None, None] * units[None]).reshape(-1, 2)
    out = CooccurrenceSums(len(stack) * len(offsets), np.repeat(highs + 1, len(offsets)))
    touched = np.empty(stack.shape[1] * stack.shape[2] + 1, np.intp)
    _stack_sums(stack, highs, offsets, symmetric, 1 if ignore_zeros else 0, LOG2_SMALL_COUNTS,
                _scratch_table(8), touched, out._integers, out._logs, out.row_counts,
                out.col_counts, out.sum_counts, out.diff_counts, out.row_weights,
                out.col_weights)
    return out


def crop_sums(levels, starts, shapes, n_levels, offsets, counted=None, lowest=None, *,
              symmetric=True, ignore_zeros=False, matrices=None, statistics=None):
    """The :class:`CooccurrenceSums` of many masked crops, in one compiled pass.

    Crop ``i`` is ``levels[starts[i]:starts[i] + shapes[i].prod()].reshape(shapes[i])``
    (3-D; an image is a volume of one slice), its pixels of level
    ``n_levels[i]`` outside its mask and every other pixel below it. Its
    matrices are rows ``i * S`` to ``(i + 1) * S`` for the ``S`` offsets,
    equal bit for bit to ``cooccurrence_sums(crop, (1,), offsets, mask=crop
    != n_levels[i], ...)`` (each with ``n_levels[i]`` levels), as the regions
    of a label image need them: one call without the GIL for all the crops,
    each counted sparsely (its cost follows its pixels, not its
    ``n_levels**2`` cells) and, row by row, only between the first and the
    last pixel inside its mask.

    Parameters
    ----------
    levels : ndarray of uint16
        The crops one after the other.
    starts : ndarray of int, shape (n,)
    shapes : ndarray of int, shape (n, 3)
    n_levels : ndarray of int, shape (n,)
        Each crop's number of levels, at most 1024, all of one
        :func:`padded_length` (the sums of a batch share it).
    offsets : ndarray of int, shape (S, 3)
        The offsets counted, each with its first non-zero component positive.
    counted : ndarray of bool, shape (S,), default=None
        False for an offset that stands for an empty matrix (the padding of
        pyradiomics's offsets); None counts every offset.
    lowest : ndarray of int, shape (n,), default=None
        The lowest level inside each crop's mask, if known: the pairs are
        then counted in a table over the crop's range of levels only (a
        region of a 256-level image spans far fewer), smaller and faster.
    symmetric, ignore_zeros : bool
        As for :func:`cooccurrence_sums`.
    matrices : ndarray of int64, shape (n * S, W, W), default=None
        All zero, to receive the matrices too, each over its crop's range of
        levels as :func:`crop_matrices` counts them with ``lowest`` (``W`` at
        least every crop's range), from the same pass over the pixels.
    statistics : ndarray of float64, shape (n * S, len(LEVEL_STATISTICS)), default=None
        To receive each matrix's :func:`level_statistics`, computed as each
        matrix is counted, its arrays by level held for that time only: the
        sums returned then hold no arrays by level (all of length 0), which
        saves writing (and allocating) a padded row of each per matrix.

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.array([[0, 0, 1], [1, 2, 2]], dtype=np.uint16)
    >>> mask = np.array([[True, True, False], [True, True, True]])
    >>> crop = np.where(mask, gray, 3).astype(np.uint16)  # 3 levels, 3 outside the mask
    >>> sums = crop_sums(crop.ravel(), np.array([0]), np.array([[1, 2, 3]]), np.array([3]),
    ...                  np.array([[0, 0, 1], [0, 1, 0]]))
    >>> sums.total, cooccurrence_sums(gray, directions=((0, 1), (1, 0)), mask=mask).total
    (array([6, 4]), array([6, 4]))
    >>> sums.row_counts[:, :3]
    array([[2, 1, 3],
           [2, 1, 1]])
    """
    n_levels = np.ascontiguousarray(n_levels, np.int64)
    offsets = np.ascontiguousarray(offsets, np.intp)
    # padded_length grows with the levels: one length for all when the extremes share it
    if len(n_levels) and (padded_length(n_levels.min()) != padded_length(n_levels.max())
                          or n_levels.max() > MAX_CROP_LEVELS):
        lengths = sorted({padded_length(n) for n in np.unique(n_levels)})
        raise ValueError(f"crops of at most {MAX_CROP_LEVELS} levels, all of one padded "
                         f"length, are counted together; got padded lengths {lengths}")
    if counted is None:
        counted = np.ones(len(offsets), bool)
    lowest = (np.zeros(len(n_levels), np.int64) if lowest is None
              else np.ascontiguousarray(lowest, np.int64))
    shapes = np.ascontiguousarray(shapes, np.int64)
    own = statistics is not None
    if own and (statistics.shape != (len(n_levels) * len(offsets), len(LEVEL_STATISTICS))
                or statistics.dtype != np.float64 or not statistics.flags.c_contiguous):
        raise ValueError(f"statistics must be a C-contiguous float64 array of shape "
                         f"({len(n_levels) * len(offsets)}, {len(LEVEL_STATISTICS)})")
    out = CooccurrenceSums(len(n_levels) * len(offsets), np.repeat(n_levels, len(offsets)),
                           by_level=not own)
    if len(n_levels) == 0:
        return out
    length = padded_length(int(n_levels.max()))
    # the one row by level each matrix is filled into, with statistics
    own_rows = np.zeros((5, 4, length if own else 0), np.int64)  # four: a pass's offsets
    own_sums = np.zeros((4, 2 * length if own else 0), np.int64)
    bits = int((n_levels - lowest).max()).bit_length()
    largest = int(shapes.prod(axis=1).max())
    touched = np.empty(largest + 1, np.intp)  # + 1: the branch-free write after the last
    spans = np.empty((int((shapes[:, 0] * shapes[:, 1]).max()), 2), np.int64)
    if matrices is not None and (
            matrices.shape[0] != len(out) or matrices.dtype != np.int64
            or not matrices.flags.c_contiguous
            or int((n_levels - lowest).max()) > min(matrices.shape[1:])):
        raise ValueError(f"matrices must be a C-contiguous int64 array of {len(out)} matrices "
                         f"of at least {int((n_levels - lowest).max())} levels")
    _crop_sums(levels, np.ascontiguousarray(starts, np.int64), shapes, n_levels, lowest,
               offsets, np.ascontiguousarray(counted, np.bool_), symmetric,
               1 if ignore_zeros else 0, LOG2_SMALL_COUNTS, COUNT_LOG_COUNT_PARTS,
               _scratch_table(bits), _four_tables(bits), touched, spans, out._integers,
               out._logs, out.row_counts, out.col_counts, out.sum_counts, out.diff_counts,
               out.row_weights, out.col_weights, matrices is not None,
               np.zeros((1, 1, 1), np.int64) if matrices is None else matrices,
               statistics if own else np.empty((0, len(LEVEL_STATISTICS))),
               (own_rows[0], own_rows[1], own_rows[2], own_rows[3], own_rows[4]), own_sums)
    return out


#: The most levels a crop of :func:`crop_sums` has (pyradiomics's bin_width allows 1024).
MAX_CROP_LEVELS = 1024


#: The levels (the outside one included) up to which a crop is counted in a table whatever its
#: pixels: a table of at most 32 x 32 cells is read faster than the list of the cells its pairs
#: fill (:func:`crop_sums` of nuclei of about 115 pixels spanning 17 levels in about 0.94x the
#: time, the regions of a photograph in the same time).
_SMALL_TABLE_SPAN = 32


@numba.njit(nogil=True, cache=True, inline="always")
def in_a_table(span, n_pixels):
    """Whether :func:`crop_sums` counts a crop of ``n_pixels`` pixels, whose levels span
    ``span`` (its outside level included), in a table rather than a list of cells.

    Examples
    --------
    >>> in_a_table(17, 154), in_a_table(100, 5000), in_a_table(100, 20000)
    (True, False, True)
    """
    return span <= _SMALL_TABLE_SPAN or span * span <= n_pixels


@numba.njit(nogil=True, cache=True)
def _crop_sums(levels, starts, shapes, n_levels, lowest, offsets, counted, symmetric, start,
               log2_small, parts, scratch, four, touched, spans, sums, logs, row_counts,
               col_counts, sum_counts, diff_counts, row_weights, col_weights, emit, matrices,
               statistics, own, own_sums):
    """:func:`_sparse_sums` of each crop of :func:`crop_sums` (its outside level left out).

    A crop whose range of levels makes a table of no more cells than it has
    pixels (most regions of a photograph span a few dozen levels), or of
    at most :data:`_SMALL_TABLE_SPAN` levels (a small cell of a microscopy
    image), is counted into that table as it is, then read cell by cell
    (:func:`_table_fill`); a wider one lists the cells its pairs fill
    (:func:`_sparse_fill`): 0.66x the time on the regions of
    ``benchmarks/bench_regions.py`` (:func:`in_a_table`). Either gives
    the same sums. An image's crop counted into tables takes four offsets
    in one pass over its pixels (:func:`_count_four_offsets`, into the four
    tables of ``four``), as the whole image's counting does.

    With ``statistics`` (a row per matrix), each matrix's arrays by level go
    to a row of ``own`` and ``own_sums`` (row, column, difference counts and
    row, column weights; sums; four rows, for four offsets counted in one
    pass), its :func:`level_statistics` into ``statistics``, and the row is
    cleared for the next: the matrices' arrays by level are then never
    written (nor allocated).
    """
    n_offsets = offsets.shape[0]
    in_place = statistics.shape[0] == 0
    if in_place:
        by_level = (row_counts, col_counts, diff_counts, row_weights, col_weights)
        by_sum = sum_counts
    else:
        by_level = (own[0], own[1], own[2], own[3], own[4])
        by_sum = own_sums
    length = by_level[0].shape[1]
    partial = np.empty(max(1, length // 128))
    dense = np.empty(2 * length)
    lanes = np.zeros(8)
    for i in range(starts.shape[0]):
        depth, height, width = shapes[i, 0], shapes[i, 1], shapes[i, 2]
        base = starts[i]
        n_valid = n_levels[i]
        low = lowest[i]
        bits = 1
        while (1 << bits) <= n_valid - low:  # cell codes up to the outside level
            bits += 1
        span = n_valid - low + 1  # the levels in the table, the outside one included
        tabled = in_a_table(span, depth * height * width)
        # The first and one past the last pixel inside the mask of each row: the pairs
        # beyond them have a pixel outside, and are not counted at all.
        _row_spans(levels, base, depth * height, width, n_valid, spans)
        quad = 0  # the offsets from `quad` on are counted four at a time
        while (tabled and depth == 1 and quad + 4 <= n_offsets and counted[quad]
               and counted[quad + 1] and counted[quad + 2] and counted[quad + 3]):
            stride = _four_table_stride(bits)
            tables = (four[:stride], four[stride:2 * stride], four[2 * stride:3 * stride],
                      four[3 * stride:])
            _count_four_offsets(levels, base, height, width, spans, offsets[quad:quad + 4],
                                low, bits, tables[0], tables[1], tables[2], tables[3])
            first = i * n_offsets + quad  # the four matrices' rows
            if emit:
                for j in range(4):
                    _emit_matrix(tables[j], touched, np.int64(0), tabled, span - 1, bits,
                                 symmetric, matrices[first + j])
            if symmetric:  # the four tables read side by side
                _table_fill_four(tables[0], tables[1], tables[2], tables[3], span, bits, low,
                                 n_valid, start, log2_small, parts, first,
                                 first if in_place else 0,
                                 sums, logs, by_level[0], by_level[1], by_sum, by_level[2],
                                 by_level[3], by_level[4])
            else:
                for j in range(4):
                    _table_fill(tables[j], span, bits, low, n_valid, symmetric, start,
                                log2_small, first + j, first + j if in_place else j, sums, logs,
                                by_level[0], by_level[1], by_sum, by_level[2], by_level[3],
                                by_level[4])
            if not in_place:
                for j in range(4):
                    _own_statistics(by_level, by_sum, sums, first + j, j, low, n_valid,
                                    log2_small, parts, dense, lanes, partial, statistics)
            quad += 4
        for o in range(quad, n_offsets):
            if not counted[o]:
                continue
            dz, dy, dx = offsets[o, 0], offsets[o, 1], offsets[o, 2]
            n_touched = np.int64(0)
            for z in range(max(0, -dz), depth - max(0, dz)):
                for y in range(max(0, -dy), height - max(0, dy)):
                    here = z * height + y
                    there = (z + dz) * height + y + dy
                    x_start = max(spans[unsigned(here), 0], spans[unsigned(there), 0] - dx)
                    x_stop = min(spans[unsigned(here), 1], spans[unsigned(there), 1] - dx)
                    if x_stop <= x_start:
                        continue
                    # slices indexed from 0: no negative-index checks in the loops
                    sources = levels[base + here * width + x_start:base + here * width + x_stop]
                    neighbours = levels[base + there * width + x_start + dx:
                                        base + there * width + x_stop + dx]
                    if tabled:
                        for x in range(sources.shape[0]):
                            scratch[np.uintp(((np.intp(sources[x]) - low) << bits)
                                             | (np.intp(neighbours[x]) - low))] += 1
                        continue
                    for x in range(sources.shape[0]):
                        code = np.uintp(((np.intp(sources[x]) - low) << bits)
                                        | (np.intp(neighbours[x]) - low))
                        count = scratch[code]
                        touched[np.uintp(n_touched)] = code  # branch-free, as in _sparse_sums
                        n_touched += count == 0
                        scratch[code] = count + 1
            if emit:  # the matrix too, before the fill empties the table
                _emit_matrix(scratch, touched, n_touched, tabled, span - 1, bits, symmetric,
                             matrices[i * n_offsets + o])
            m = i * n_offsets + o
            r = m if in_place else 0
            if tabled:
                _table_fill(scratch, span, bits, low, n_valid, symmetric, start, log2_small,
                            m, r, sums, logs, by_level[0], by_level[1], by_sum, by_level[2],
                            by_level[3], by_level[4])
            else:
                _sparse_fill(scratch, touched, n_touched, bits, low, n_valid, symmetric, start,
                             log2_small, m, r, sums, logs, by_level[0], by_level[1], by_sum,
                             by_level[2], by_level[3], by_level[4])
            if not in_place:
                _own_statistics(by_level, by_sum, sums, m, np.int64(0), low, n_valid,
                                log2_small, parts, dense, lanes, partial, statistics)
        if not in_place:  # the offsets not counted: empty matrices
            for o in range(n_offsets):
                if not counted[o]:
                    statistics[i * n_offsets + o, :] = np.nan


@numba.njit(nogil=True, cache=True)
def _own_statistics(by_level, by_sum, sums, m, r, low, n_valid, log2_small, parts, dense,
                    lanes, partial, statistics):
    """Row ``m`` of ``statistics`` from row ``r`` of ``by_level`` and ``by_sum``, which
    matrix ``m`` was filled into (its levels ``[low, n_valid)``), then that row cleared."""
    _matrix_statistics(by_level[0], by_level[1], by_sum, by_level[2], by_level[3], by_level[4],
                       r, sums[m, 0], low, n_valid, log2_small, parts, dense, lanes,
                       partial, statistics, m)
    for k in range(low, n_valid):
        by_level[0][unsigned(r), unsigned(k)] = 0
        by_level[1][unsigned(r), unsigned(k)] = 0
        by_level[3][unsigned(r), unsigned(k)] = 0
        by_level[4][unsigned(r), unsigned(k)] = 0
    for k in range(n_valid - low):
        by_level[2][unsigned(r), unsigned(k)] = 0
    for k in range(2 * low, 2 * n_valid):
        by_sum[unsigned(r), unsigned(k)] = 0


@numba.njit(nogil=True, cache=True, inline="always")
def _add_mirrored_cell(s, b, a_plus_b, difference, row, row_counts, sum_counts, diff_counts,
                       parts, sum_s, sum_squares, sum_bs, whole, fraction):
    """A cell ``(a, b)``, ``a < b``, of a symmetric matrix (``s`` pairs each way) into its row
    ``row`` of the arrays by level, and into the running sums of its row of levels ``a``."""
    row_counts[unsigned(row), unsigned(b)] += s
    sum_counts[unsigned(row), unsigned(a_plus_b)] += 2 * s
    diff_counts[unsigned(row), unsigned(difference)] += 2 * s
    cell_whole, cell_fraction = _count_log_count_parts(s, parts)
    return (sum_s + s, sum_squares + s * s, sum_bs + b * s, whole + cell_whole,
            fraction + cell_fraction)


@numba.njit(nogil=True, cache=True, inline="always")
def _close_level_row(a, d, sum_s, sum_squares, sum_bs, row_whole, row_fraction, d_whole,
                     d_fraction, row, row_counts, total, square, product, whole, fraction):
    """Add the row of level ``a`` (diagonal cell ``d``, its cells beyond the diagonal summed
    in ``sum_*`` and ``row_*``, each counted twice) to a matrix's sums."""
    row_counts[unsigned(row), unsigned(a)] += d + sum_s
    total += d + 2 * sum_s
    square += d * d + 2 * sum_squares
    product += a * (a * d + 2 * sum_bs)
    # at most 1024 fractions below 2**52 each in a row's sum: no overflow before this carry
    fraction += 2 * (row_fraction & (_ONE_IN_UNITS - 1)) + d_fraction
    whole += 2 * (row_whole + (row_fraction >> 52)) + d_whole + (fraction >> 52)
    return total, square, product, whole, fraction & (_ONE_IN_UNITS - 1)


@numba.njit(nogil=True, cache=True)
def _table_fill_four(table0, table1, table2, table3, span, bits, lowest, n_valid, start,
                     log2_small, parts, m, r, sums, logs, row_counts, col_counts, sum_counts,
                     diff_counts, row_weights, col_weights):
    """:func:`_table_fill` of four symmetric tables at once, into rows ``m`` to ``m + 3`` of
    the sums (``r`` to ``r + 3`` of the arrays by level).

    Each cell of the upper triangle is read in the four tables side by side,
    and passed over at once when empty in all four (most cells are); a
    symmetric matrix's column counts are its row counts (copied once). The
    sums of a row of levels stay in registers until its end, and
    ``count * log2(count)`` of the small counts comes split from ``parts``
    (:data:`COUNT_LOG_COUNT_PARTS`): the same integers as
    :func:`_add_count_log_count`'s, so the same bits.
    """
    outside = span - 1  # the outside level's cells: pairs with a pixel outside the mask
    for u in range(span):
        code = np.uintp((u << bits) | outside)
        mirror = np.uintp((outside << bits) | u)
        table0[code] = table1[code] = table2[code] = table3[code] = 0
        table0[mirror] = table1[mirror] = table2[mirror] = table3[mirror] = 0
    skip = min(max(0, start - lowest), outside)  # rows of levels below `start`: left out
    for u in range(skip):
        for v in range(u, outside):
            code = np.uintp((u << bits) | v)
            mirror = np.uintp((v << bits) | u)
            table0[code] = table1[code] = table2[code] = table3[code] = 0
            table0[mirror] = table1[mirror] = table2[mirror] = table3[mirror] = 0
    zero = np.int64(0)
    total0 = total1 = total2 = total3 = square0 = square1 = square2 = square3 = zero
    product0 = product1 = product2 = product3 = zero
    whole0 = whole1 = whole2 = whole3 = fraction0 = fraction1 = fraction2 = fraction3 = zero
    for u in range(skip, outside):
        a = u + lowest
        code = np.uintp((u << bits) | u)
        d0 = 2 * np.int64(table0[code])
        d1 = 2 * np.int64(table1[code])
        d2 = 2 * np.int64(table2[code])
        d3 = 2 * np.int64(table3[code])
        table0[code] = table1[code] = table2[code] = table3[code] = 0
        sum_counts[unsigned(r), unsigned(2 * a)] += d0
        sum_counts[unsigned(r + 1), unsigned(2 * a)] += d1
        sum_counts[unsigned(r + 2), unsigned(2 * a)] += d2
        sum_counts[unsigned(r + 3), unsigned(2 * a)] += d3
        diff_counts[unsigned(r), 0] += d0
        diff_counts[unsigned(r + 1), 0] += d1
        diff_counts[unsigned(r + 2), 0] += d2
        diff_counts[unsigned(r + 3), 0] += d3
        dw0, df0 = _count_log_count_parts(d0, parts)
        dw1, df1 = _count_log_count_parts(d1, parts)
        dw2, df2 = _count_log_count_parts(d2, parts)
        dw3, df3 = _count_log_count_parts(d3, parts)
        s0_sum = s1_sum = s2_sum = s3_sum = q0 = q1 = q2 = q3 = bs0 = bs1 = bs2 = bs3 = zero
        w0 = w1 = w2 = w3 = f0 = f1 = f2 = f3 = zero
        for v in range(u + 1, outside):
            code = np.uintp((u << bits) | v)
            mirror = np.uintp((v << bits) | u)
            s0 = np.int64(table0[code] + table0[mirror])
            s1 = np.int64(table1[code] + table1[mirror])
            s2 = np.int64(table2[code] + table2[mirror])
            s3 = np.int64(table3[code] + table3[mirror])
            if (s0 | s1 | s2 | s3) == 0:
                continue
            table0[code] = table0[mirror] = 0
            table1[code] = table1[mirror] = 0
            table2[code] = table2[mirror] = 0
            table3[code] = table3[mirror] = 0
            b = v + lowest
            # branch-free in the four tables: an empty cell adds zeros
            s0_sum, q0, bs0, w0, f0 = _add_mirrored_cell(
                s0, b, a + b, v - u, r, row_counts, sum_counts, diff_counts, parts, s0_sum, q0,
                bs0, w0, f0)
            s1_sum, q1, bs1, w1, f1 = _add_mirrored_cell(
                s1, b, a + b, v - u, r + 1, row_counts, sum_counts, diff_counts, parts, s1_sum,
                q1, bs1, w1, f1)
            s2_sum, q2, bs2, w2, f2 = _add_mirrored_cell(
                s2, b, a + b, v - u, r + 2, row_counts, sum_counts, diff_counts, parts, s2_sum,
                q2, bs2, w2, f2)
            s3_sum, q3, bs3, w3, f3 = _add_mirrored_cell(
                s3, b, a + b, v - u, r + 3, row_counts, sum_counts, diff_counts, parts, s3_sum,
                q3, bs3, w3, f3)
        total0, square0, product0, whole0, fraction0 = _close_level_row(
            a, d0, s0_sum, q0, bs0, w0, f0, dw0, df0, r, row_counts, total0, square0, product0,
            whole0, fraction0)
        total1, square1, product1, whole1, fraction1 = _close_level_row(
            a, d1, s1_sum, q1, bs1, w1, f1, dw1, df1, r + 1, row_counts, total1, square1,
            product1, whole1, fraction1)
        total2, square2, product2, whole2, fraction2 = _close_level_row(
            a, d2, s2_sum, q2, bs2, w2, f2, dw2, df2, r + 2, row_counts, total2, square2,
            product2, whole2, fraction2)
        total3, square3, product3, whole3, fraction3 = _close_level_row(
            a, d3, s3_sum, q3, bs3, w3, f3, dw3, df3, r + 3, row_counts, total3, square3,
            product3, whole3, fraction3)
    for j in range(4):
        total, square, product, whole, fraction = (
            (total0, square0, product0, whole0, fraction0),
            (total1, square1, product1, whole1, fraction1),
            (total2, square2, product2, whole2, fraction2),
            (total3, square3, product3, whole3, fraction3))[j]
        sums[m + j, 0], sums[m + j, 1], sums[m + j, 2] = total, square, product
        logs[m + j, 0] = float(whole) + fraction / _FRACTION_UNITS
        logs[m + j, 1] = _term(total, log2_small)
        row = r + j
        for k in range(lowest, n_valid):  # a loop: a slice copy compiles 10x longer
            count = row_counts[unsigned(row), unsigned(k)]
            col_counts[unsigned(row), unsigned(k)] = count
            row_weights[unsigned(row), unsigned(k)] = count
            col_weights[unsigned(row), unsigned(k)] = count


@numba.njit(nogil=True, cache=True)
def _count_four_offsets(levels, base, height, width, spans, offsets, low, bits, table0, table1,
                        table2, table3):
    """Count the pairs of four offsets ``(0, dy, dx)`` of an image's crop in one pass.

    Crop pixel ``(y, x)`` is ``levels[base + y * width + x]``; the pairs of
    ``offsets[m]`` go to ``table{m}``, the cell of levels ``(a, b)`` at
    ``(a - low) << bits | (b - low)``. Source pixels are those of each row's
    span inside the mask (``spans``); a neighbour outside the mask holds the
    outside level, whose cells the fill leaves out. Where all four
    neighbours lie in the crop, one loop loads each pixel once for its four
    pairs and makes four independent increments, over slices indexed from 0
    (no wraparound checks); the rest, the crop's border, offset by offset.
    """
    dy0, dx0 = offsets[0, 1], offsets[0, 2]
    dy1, dx1 = offsets[1, 1], offsets[1, 2]
    dy2, dx2 = offsets[2, 1], offsets[2, 2]
    dy3, dx3 = offsets[3, 1], offsets[3, 2]
    x_first = max(max(0, -dx0), max(0, -dx1), max(0, -dx2), max(0, -dx3))
    x_end = width - max(max(0, dx0), max(0, dx1), max(0, dx2), max(0, dx3))
    y_end = height - max(max(dy0, dy1), max(dy2, dy3))
    for y in range(height):
        first, stop = spans[unsigned(y), 0], spans[unsigned(y), 1]
        if stop <= first:
            continue
        row = base + y * width
        fast_first = fast_stop = stop  # the part counted four at a time: none yet
        if y < y_end:
            fast_first = max(first, x_first)
            fast_stop = min(stop, x_end)
            if fast_stop > fast_first:
                n = fast_stop - fast_first
                sources = levels[row + fast_first:row + fast_stop]
                near0 = levels[row + dy0 * width + fast_first + dx0:
                               row + dy0 * width + fast_stop + dx0]
                near1 = levels[row + dy1 * width + fast_first + dx1:
                               row + dy1 * width + fast_stop + dx1]
                near2 = levels[row + dy2 * width + fast_first + dx2:
                               row + dy2 * width + fast_stop + dx2]
                near3 = levels[row + dy3 * width + fast_first + dx3:
                               row + dy3 * width + fast_stop + dx3]
                for x in range(n):
                    a = (np.intp(sources[x]) - low) << bits
                    table0[np.uintp(a | (np.intp(near0[x]) - low))] += 1
                    table1[np.uintp(a | (np.intp(near1[x]) - low))] += 1
                    table2[np.uintp(a | (np.intp(near2[x]) - low))] += 1
                    table3[np.uintp(a | (np.intp(near3[x]) - low))] += 1
            else:
                fast_first = fast_stop = stop
        if fast_first <= first and fast_stop >= stop:
            continue
        # the rest of the span, [first, fast_first) and [fast_stop, stop), offset by offset
        for m in range(4):
            table = (table0, table1, table2, table3)[m]
            dy, dx = offsets[m, 1], offsets[m, 2]
            if y + dy >= height:
                continue
            valid_first = max(0, -dx)
            valid_stop = width - max(0, dx)
            for part in range(2):
                x_from = first if part == 0 else fast_stop
                x_to = fast_first if part == 0 else stop
                for x in range(max(x_from, valid_first), min(x_to, valid_stop)):
                    a = np.intp(levels[unsigned(row + x)]) - low
                    b = np.intp(levels[unsigned(row + dy * width + x + dx)]) - low
                    table[np.uintp((a << bits) | b)] += 1


@numba.njit(nogil=True, cache=True)
def _emit_matrix(scratch, touched, n_touched, tabled, width, bits, symmetric, matrix):
    """Add the counts of ``scratch`` (levels from the crop's lowest, the outside level
    ``width`` left out) to ``matrix``, with their transpose when ``symmetric``."""
    if tabled:
        for u in range(width):
            for v in range(width):
                count = scratch[np.uintp((u << bits) | v)]
                if count != 0:
                    matrix[u, v] += count
                    if symmetric:
                        matrix[v, u] += count
        return
    low = (1 << bits) - 1
    for k in range(n_touched):
        code = touched[k]
        u, v = code >> bits, code & low
        if u < width and v < width:
            count = scratch[code]
            matrix[u, v] += count
            if symmetric:
                matrix[v, u] += count


@numba.njit(nogil=True, cache=True)
def _table_fill(scratch, span, bits, lowest, n_valid, symmetric, start, log2_small, m, r, sums,
                logs, row_counts, col_counts, sum_counts, diff_counts, row_weights, col_weights):
    """Row ``m`` of the sums from a table of counts over ``span`` levels from ``lowest``
    (row ``r`` of the arrays by level).

    As :func:`_sparse_fill`, the cell of levels ``(a, b)`` at ``(a - lowest)
    << bits | (b - lowest)``, every cell of the ``span x span`` table read
    (the upper triangle with its mirror when ``symmetric``, as
    :func:`_dense_sums` reads a matrix); the table is all zero again on return.
    """
    whole = fraction = total = square = product = np.int64(0)
    for u in range(span):
        a = u + lowest
        for v in range(u if symmetric else 0, span):
            code = np.uintp((u << bits) | v)
            s = np.int64(scratch[code])
            if symmetric:
                mirror = np.uintp((v << bits) | u)
                s += np.int64(scratch[mirror])
                scratch[mirror] = 0
                scratch[code] = 0
            b = v + lowest
            if s == 0 or a < start or b < start or a >= n_valid or b >= n_valid:
                continue
            mirrored = symmetric and a != b
            times = 2 if mirrored else 1
            row_counts[unsigned(r), unsigned(a)] += s
            col_counts[unsigned(r), unsigned(b)] += s
            if mirrored:
                row_counts[unsigned(r), unsigned(b)] += s
                col_counts[unsigned(r), unsigned(a)] += s
            sum_counts[unsigned(r), unsigned(a + b)] += times * s
            diff_counts[unsigned(r), unsigned(abs(a - b))] += times * s
            total += times * s
            square += times * s * s
            product += times * a * b * s
            if s > 1:  # a count of 1 adds 0
                whole, fraction = _add_count_log_count(s, 2 if mirrored else 1, log2_small,
                                                       whole, fraction)
    sums[m, 0], sums[m, 1], sums[m, 2] = total, square, product
    logs[m, 0] = float(whole) + fraction / _FRACTION_UNITS
    logs[m, 1] = _term(total, log2_small)
    if symmetric:  # the marginals, over the levels that can be non-zero
        for k in range(lowest, n_valid):  # a loop: a slice copy compiles 10x longer
            row_weights[unsigned(r), unsigned(k)] = row_counts[unsigned(r), unsigned(k)]
            col_weights[unsigned(r), unsigned(k)] = col_counts[unsigned(r), unsigned(k)]
        return
    for u in range(span):
        a = u + lowest
        for v in range(span):
            code = np.uintp((u << bits) | v)
            s = np.int64(scratch[code])
            scratch[code] = 0
            b = v + lowest
            if s == 0 or a < start or b < start or a >= n_valid or b >= n_valid:
                continue
            if (col_counts[unsigned(r), unsigned(a)] != 0
                    and row_counts[unsigned(r), unsigned(b)] != 0):
                row_weights[unsigned(r), unsigned(a)] += s
                col_weights[unsigned(r), unsigned(b)] += s


def crop_matrices(levels, starts, shapes, n_levels, offsets, counted=None, *, symmetric=True,
                  side=None, lowest=None):
    """The co-occurrence matrices of many masked crops, in one compiled pass.

    The crops as for :func:`crop_sums` (crop ``i``'s outside pixels of level
    ``n_levels[i]``). Returns int64 matrices of shape ``(n * S, side,
    side)``, crop ``i``'s from row ``i * S``: its ``n_levels[i] x
    n_levels[i]`` matrices, equal to ``cooccurrence(crop, (1,), offsets,
    symmetric=symmetric, mask=crop != n_levels[i])`` (an offset not
    ``counted``: a matrix of zeros), padded with zeros to ``side``, by
    default every crop's number of levels (which must then be one). With
    ``lowest`` (the lowest level inside each crop's mask), crop ``i``'s
    matrices hold its levels from ``lowest[i]`` on only (cell ``(0, 0)``
    for levels ``(lowest[i], lowest[i])``): ``side`` may then be the
    largest range of levels, a few levels where a region of a 256-level
    image spans few.

    Examples
    --------
    >>> import numpy as np
    >>> crop = np.array([[0, 0, 3], [1, 2, 2]], dtype=np.uint16)  # 3: outside
    >>> crop_matrices(crop.ravel(), np.array([0]), np.array([[1, 2, 3]]), np.array([3]),
    ...               np.array([[0, 0, 1]]))[0]
    array([[2, 0, 0],
           [0, 0, 1],
           [0, 1, 2]])
    >>> crop_matrices(crop.ravel(), np.array([0]), np.array([[1, 2, 3]]), np.array([3]),
    ...               np.array([[0, 0, 1]]), side=4)[0, 3]  # padded
    array([0, 0, 0, 0])
    """
    n_levels = np.ascontiguousarray(n_levels, np.int64)
    offsets = np.ascontiguousarray(offsets, np.intp)
    if side is None:
        if len(np.unique(n_levels)) > 1:
            raise ValueError("crops of one number of levels are counted together, got "
                             f"{np.unique(n_levels).tolist()}")
        side = int(n_levels[0]) if len(n_levels) else 1
    lowest = (np.zeros(len(n_levels), np.int64) if lowest is None
              else np.ascontiguousarray(lowest, np.int64))
    if len(n_levels) and int((n_levels - lowest).max()) > side:
        raise ValueError(f"matrices of side {side} cannot hold crops of "
                         f"{int((n_levels - lowest).max())} levels")
    if counted is None:
        counted = np.ones(len(offsets), bool)
    out = np.zeros((len(n_levels) * len(offsets), side, side), np.int64)
    if len(n_levels) == 0:
        return out
    shapes = np.ascontiguousarray(shapes, np.int64)
    spans = np.empty((int((shapes[:, 0] * shapes[:, 1]).max()), 2), np.int64)
    _crop_matrices(levels, np.ascontiguousarray(starts, np.int64), shapes, n_levels, lowest,
                   offsets, np.ascontiguousarray(counted, np.bool_), symmetric, spans, out)
    return out


@numba.njit(nogil=True, cache=True)
def _crop_matrices(levels, starts, shapes, n_levels, lowest, offsets, counted, symmetric, spans,
                   out):
    """:func:`crop_matrices`'s counting: pairs with an outside pixel (level ``n_levels[i]``)
    left out, levels from ``lowest[i]``."""
    n_offsets = offsets.shape[0]
    for i in range(starts.shape[0]):
        depth, height, width = shapes[i, 0], shapes[i, 1], shapes[i, 2]
        base = starts[i]
        top = n_levels[i]
        low = lowest[i]
        side = top - low
        _row_spans(levels, base, depth * height, width, top, spans)
        for o in range(n_offsets):
            if not counted[o]:
                continue
            dz, dy, dx = offsets[o, 0], offsets[o, 1], offsets[o, 2]
            matrix = out[i * n_offsets + o]
            for z in range(max(0, -dz), depth - max(0, dz)):
                for y in range(max(0, -dy), height - max(0, dy)):
                    here = z * height + y
                    there = (z + dz) * height + y + dy
                    x_start = max(spans[here, 0], spans[there, 0] - dx)
                    x_stop = min(spans[here, 1], spans[there, 1] - dx)
                    if x_stop <= x_start:
                        continue
                    sources = levels[base + here * width + x_start:base + here * width + x_stop]
                    neighbours = levels[base + there * width + x_start + dx:
                                        base + there * width + x_stop + dx]
                    for x in range(sources.shape[0]):
                        a, b = np.intp(sources[x]), np.intp(neighbours[x])
                        if a < top and b < top:
                            matrix[a - low, b - low] += 1
            if symmetric:  # P + P.T, the diagonal twice
                for a in range(side):
                    matrix[a, a] *= 2
                    for b in range(a + 1, side):
                        total = matrix[a, b] + matrix[b, a]
                        matrix[a, b] = total
                        matrix[b, a] = total


@numba.njit(nogil=True, cache=True)
def _row_spans(levels, base, n_rows, width, n_valid, spans):
    """The first and one past the last pixel below ``n_valid`` of each crop row (else ``W, 0``).

    The whole row is read, in a loop that vectorizes (twice as fast as
    stopping at the first pixel inside from each end, a scalar loop); in
    16-bit positions when the row allows, as many lanes as the levels' (0.56x
    the time of 64-bit positions, which take four vectors per vector of levels).
    """
    if width < 2**15 and n_valid < 2**16:
        end = np.int16(width)
        top = np.uint16(n_valid)
        for r in range(n_rows):
            row = levels[base + r * width:base + (r + 1) * width]
            first, stop = end, np.int16(0)
            for x in range(width):
                inside = row[x] < top
                position = np.int16(x)
                first = min(first, position if inside else end)
                stop = max(stop, np.int16(position + np.int16(1)) if inside else np.int16(0))
            spans[unsigned(r), 0], spans[unsigned(r), 1] = first, stop
        return
    for r in range(n_rows):
        row = levels[base + r * width:base + (r + 1) * width]
        first, stop = width, 0
        for x in range(width):
            inside = row[x] < n_valid
            first = min(first, x if inside else width)
            stop = max(stop, x + 1 if inside else 0)
        spans[unsigned(r), 0], spans[unsigned(r), 1] = first, stop


def eps_cell_entropies(cmats, row_counts, col_counts, totals, ignore_zeros=False, sides=None,
                       lows=None):
    """pyradiomics's entropies over the cells of each matrix: ``(HXY, HXY1, HXY2)``.

    With ``p = cmats / totals`` (row and column 0 left out when
    ``ignore_zeros``), ``py = row_counts / totals``, ``px = col_counts / totals``
    and ``q = py[i] px[j]``: ``-sum p log2(p + eps)``, ``-sum p log2(q + eps)``
    and ``-sum q log2(q + eps)`` over the ``L x L`` cells, ``eps =
    numpy.spacing(1)``, logarithms of the C library (as
    :func:`~haralick_learn.texture.libm.log2`). Equal bit for bit to numpy's
    ``-(terms).reshape(n, -1).sum(axis=1)`` over the dense ``(n, L, L)``
    arrays: the same terms summed in numpy's pairwise order
    (:func:`_pairwise_sum`), the zero terms (most cells) left out, which
    change no sum. The work follows the cells of the levels present, not
    ``L**2``, and no ``(n, L, L)`` array of floats is made.

    Parameters
    ----------
    cmats : ndarray of int, shape (n, L, L)
    row_counts, col_counts : ndarray of int, shape (n, at least L)
        The matrices' row and column sums (as :class:`CooccurrenceSums` holds them).
    totals : ndarray of float64, shape (n,)
        What the counts are divided by (1 for an empty matrix).
    sides : ndarray of int, shape (n,), default=None
        Each matrix's own number of levels, when ``cmats`` are padded with
        zeros to the largest: matrix ``m``'s sums are those of its first
        ``sides[m] x sides[m]`` cells. None: ``L`` for every matrix.
    lows : ndarray of int, shape (n,), default=None
        Matrix ``m``'s cell ``(i, j)`` stands for the levels ``(lows[m] + i,
        lows[m] + j)`` (matrices of the levels from ``lows[m]`` on, as
        :func:`crop_matrices` counts them with ``lowest``). None: 0.

    Returns
    -------
    entropies : ndarray of float64, shape (3, n)

    Examples
    --------
    >>> import numpy as np
    >>> cmats = np.array([[[2, 1], [1, 0]]])
    >>> hxy, hxy1, hxy2 = eps_cell_entropies(cmats, cmats.sum(2), cmats.sum(1), np.array([4.0]))
    >>> round(float(hxy[0]), 6)  # -(1/2 log2 1/2 + 2 * 1/4 log2 1/4)
    1.5
    """
    cmats = np.ascontiguousarray(cmats)
    out = np.empty((3, cmats.shape[0]))
    if cmats.shape[0] == 0:
        return out
    size = cmats.shape[1] * cmats.shape[2]
    sides = (np.full(len(cmats), cmats.shape[1], np.int64) if sides is None
             else np.ascontiguousarray(sides, np.int64))
    lows = (np.zeros(len(cmats), np.int64) if lows is None
            else np.ascontiguousarray(lows, np.int64))
    if (len(sides) != len(cmats) or len(lows) != len(cmats) or (lows < 0).any()
            or (sides - lows > cmats.shape[1]).any()):
        raise ValueError(f"sides and lows must be {len(cmats)} numbers of levels, each range "
                         f"of at most {cmats.shape[1]} levels")
    _eps_cell_entropies(cmats, sides, lows, np.ascontiguousarray(row_counts),
                        np.ascontiguousarray(col_counts),
                        np.ascontiguousarray(totals, np.float64), bool(ignore_zeros), _EPS,
                        _LOG2_EPS, np.empty((3, size), np.int64), np.empty((3, size)),
                        np.zeros(8), out)
    return out


_EPS = float(np.spacing(1))
_LOG2_EPS = -52.0  # log2(spacing(1)), exactly


@numba.njit(nogil=True, cache=True)
def _eps_cell_entropies(cmats, sides, lows, row_counts, col_counts, totals, ignore_zeros, eps,
                        log2_eps, positions, terms, lanes, out):
    """:func:`eps_cell_entropies`: each matrix's non-zero terms listed by cell, then summed."""
    frames = np.empty((64, 6), np.int64)  # halves of halves: 64 levels of them at most
    partial = np.empty(64)
    n_terms = np.zeros(3, np.intp)
    width = cmats.shape[1]
    logs = np.empty((width, width))  # log2(q + eps) of the cells taken so far
    for m in range(cmats.shape[0]):
        side = sides[m]
        low = lows[m]
        size = side * side
        t = totals[m]
        n_terms[:] = 0
        # Equal marginals (a symmetric matrix): q(i, j) = py(i) py(j) = q(j, i), bit for bit
        # (a product of the same two numbers), so each logarithm is taken once
        mirrored = True
        for i in range(low, side):
            if row_counts[m, i] != col_counts[m, i]:
                mirrored = False
                break
        for u in range(side - low):
            i = u + low  # the level of row u
            if row_counts[m, i] == 0:  # q and p are 0 on the whole row
                continue
            py = row_counts[m, i] / t
            for v in range(side - low):
                j = v + low
                if col_counts[m, j] == 0:
                    continue
                q = py * (col_counts[m, j] / t)
                if mirrored and v < u:  # row v took it, at (v, u)
                    log_q = logs[v, u]
                else:
                    log_q = math.log2(q + eps) if q != 0 else log2_eps
                    logs[u, v] = log_q
                cell = i * side + j
                values = (0.0, 0.0, q * log_q)
                count = cmats[m, u, v]
                if count != 0 and not (ignore_zeros and (i == 0 or j == 0)):
                    p = count / t
                    values = (p * math.log2(p + eps), p * log_q, q * log_q)
                for k in range(3):
                    if values[k] != 0:  # a zero term changes no sum
                        positions[k, n_terms[k]] = cell
                        terms[k, n_terms[k]] = values[k]
                        n_terms[k] += 1
        for k in range(3):
            out[k, m] = -(0.0 + _pairwise_sum(positions[k], terms[k], np.int64(0), n_terms[k],
                                              size, lanes, frames, partial))


@numba.njit(nogil=True, cache=True)
def _pairwise_sum(positions, terms, first, stop, n, lanes, frames, partial):
    """numpy's pairwise sum of ``a[0:n]``, whose non-zero entries are ``terms[first:stop]``
    at the increasing ``positions`` (the others 0).

    numpy's float64 ``add`` reduction splits an array longer than 128 into
    two halves (the first a multiple of 8 long), summed so and added; a
    block of at most 128 goes through :func:`_block_sum`. A zero entry
    leaves every partial sum it meets as it is (but for the sign of a zero),
    so the non-zero ones alone give the same bits. The halves are followed
    with a stack of ``frames`` (start, length, first, stop, state, split),
    not by recursion (which numba's cache does not load back safely).
    """
    depth = 0
    frames[0, 0], frames[0, 1], frames[0, 2], frames[0, 3], frames[0, 4] = 0, n, first, stop, 0
    while True:
        start, length = frames[depth, 0], frames[depth, 1]
        low, high = frames[depth, 2], frames[depth, 3]
        if low == high or length <= 128:
            value = _block_sum(positions, terms, low, high, start, length, lanes)
            while True:  # back up to the first half-done frame
                depth -= 1
                if depth < 0:
                    return value
                if frames[depth, 4] == 1:  # its first half done: the second one next
                    partial[depth] = value
                    frames[depth, 4] = 2
                    half = frames[depth, 1] // 2
                    half -= half % 8
                    frames[depth + 1, 0] = frames[depth, 0] + half
                    frames[depth + 1, 1] = frames[depth, 1] - half
                    frames[depth + 1, 2] = frames[depth, 5]
                    frames[depth + 1, 3] = frames[depth, 3]
                    frames[depth + 1, 4] = 0
                    depth += 1
                    break
                value = partial[depth] + value  # both halves done
        else:
            half = length // 2
            half -= half % 8
            split = low
            while split < high and positions[split] < start + half:
                split += 1
            frames[depth, 4], frames[depth, 5] = 1, split
            depth += 1
            frames[depth, 0], frames[depth, 1], frames[depth, 2] = start, half, low
            frames[depth, 3], frames[depth, 4] = split, 0


@numba.njit(nogil=True, cache=True)
def _block_sum(positions, terms, first, stop, start, n, lanes):
    """numpy's sum of a block ``a[start:start + n]`` of at most 128 entries (see above).

    Fewer than 8 entries one after the other; else in 8 lanes (entry ``k``
    into lane ``k % 8`` up to the last multiple of 8, the lanes then added
    ``((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7))``), the rest one by one.
    """
    if first == stop:
        return 0.0
    if n < 8:
        total = 0.0
        for k in range(first, stop):
            total += terms[k]
        return total
    body = n - n % 8
    lanes[:] = 0.0
    k = first
    while k < stop and positions[k] - start < body:
        lanes[(positions[k] - start) & 7] += terms[k]
        k += 1
    total = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + (
        (lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
    while k < stop:
        total += terms[k]
        k += 1
    return total


def normalised_counts(counts, totals):
    """``counts / totals[:, None]`` (float64) of non-negative integer counts, one row a matrix.

    The same division, element by element, as numpy's; a count of 0 gives
    0 without dividing (most levels of a region's marginals and histograms
    are empty), and the integers are not first converted into a float copy.

    Examples
    --------
    >>> normalised_counts(np.array([[1, 0, 3]]), np.array([4.0]))
    array([[0.25, 0.  , 0.75]])
    """
    counts = np.ascontiguousarray(counts)
    out = working_array(counts.shape, np.float64)
    _normalised_counts(counts.reshape(len(counts), -1),
                       np.ascontiguousarray(totals, np.float64), out.reshape(len(counts), -1))
    return out


@numba.njit(nogil=True, cache=True)
def _normalised_counts(counts, totals, out):
    for m in range(counts.shape[0]):
        t = totals[m]
        for k in range(counts.shape[1]):
            count = counts[m, k]
            out[m, k] = count / t if count != 0 else 0.0


def largest_counts(cmats, widths, skip_first=None):
    """The largest count of each matrix over its first ``widths[m]`` rows and columns.

    ``skip_first[m]``: leave row and column 0 of matrix ``m`` out. For
    matrices padded beyond their own levels (the padding is 0), read over
    their own cells only.

    Examples
    --------
    >>> largest_counts(np.array([[[5, 1, 0], [1, 2, 0], [0, 0, 0]]]), np.array([2]),
    ...                np.array([True]))
    array([2])
    """
    cmats = np.ascontiguousarray(cmats)
    widths = np.ascontiguousarray(widths, np.int64)
    if len(widths) != len(cmats) or (widths > min(cmats.shape[1:], default=0)).any():
        raise ValueError(f"widths must be {len(cmats)} numbers of levels of at most "
                         f"{min(cmats.shape[1:], default=0)}")
    skip_first = (np.zeros(len(cmats), np.bool_) if skip_first is None
                  else np.ascontiguousarray(skip_first, np.bool_))
    out = np.zeros(len(cmats), cmats.dtype)
    _largest_counts(cmats, widths, skip_first, out)
    return out


@numba.njit(nogil=True, cache=True)
def _largest_counts(cmats, widths, skip_first, out):
    for m in range(cmats.shape[0]):
        first = 1 if skip_first[m] else 0
        largest = out[m]
        for u in range(first, widths[m]):
            for v in range(first, widths[m]):
                largest = max(largest, cmats[m, u, v])
        out[m] = largest


def sum_moments(sum_hist, centres):
    """``sum_k q_k (k - c)**n`` for n = 2, 3, 4 of each row, ``q`` a histogram of sums of levels.

    With ``d = k - c``: ``w = q d d``, then the sums of ``w``, ``w d`` and
    ``w d d`` (numpy's element by element products), over the non-zero
    ``q`` only and in numpy's pairwise order (:func:`_pairwise_sum`): the bits
    of ``(q * d * d).sum(axis=1)`` and the others over the whole rows, whose
    zeros change no sum.

    Parameters
    ----------
    sum_hist : ndarray of float64, shape (n, K)
    centres : ndarray of float64, shape (n,)

    Returns
    -------
    moments : ndarray of float64, shape (3, n)

    Examples
    --------
    >>> sum_moments(np.array([[0.0, 0.5, 0.0, 0.5]]), np.array([2.0]))
    array([[1.],
           [0.],
           [1.]])
    """
    sum_hist = np.ascontiguousarray(sum_hist, np.float64)
    out = np.empty((3, sum_hist.shape[0]))
    width = sum_hist.shape[1]
    _sum_moments(sum_hist, np.ascontiguousarray(centres, np.float64),
                 np.empty((3, width), np.int64), np.empty((3, width)), np.zeros(8), out)
    return out


@numba.njit(nogil=True, cache=True)
def _sum_moments(sum_hist, centres, positions, terms, lanes, out):
    frames = np.empty((64, 6), np.int64)
    partial = np.empty(64)
    width = sum_hist.shape[1]
    n_terms = np.zeros(3, np.intp)
    for m in range(sum_hist.shape[0]):
        n_terms[:] = 0
        for k in range(width):
            q = sum_hist[m, k]
            if q == 0:
                continue
            centred = float(k) - centres[m]
            squared = centred * centred
            weighted = q * squared
            values = (weighted, weighted * centred, weighted * squared)
            for j in range(3):
                if values[j] != 0:  # a zero term changes no sum
                    positions[j, n_terms[j]] = k
                    terms[j, n_terms[j]] = values[j]
                    n_terms[j] += 1
        for j in range(3):
            out[j, m] = 0.0 + _pairwise_sum(positions[j], terms[j], np.int64(0), n_terms[j],
                                            width, lanes, frames, partial)
