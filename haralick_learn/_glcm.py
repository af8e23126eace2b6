"""Gray-level co-occurrence matrices, equal to mahotas's ``cooccurence``.

Math on arrays only: the caller validates the image (2-D, integer, values in
``[0, L)``) and the distances (positive ints).
"""

import numba
import numpy as np

__all__ = ["DIRECTIONS", "cooccurrence"]

#: Neighbour offsets ``(dy, dx)`` per unit distance, in mahotas's order:
#: horizontal, diagonal (nw-se), vertical, anti-diagonal (ne-sw).
DIRECTIONS = ((0, 1), (1, 1), (1, 0), (1, -1))


@numba.njit(nogil=True, cache=True)
def _count_pairs(gray, distances, counts):
    """Add the non-symmetric pair counts of every distance and direction.

    ``counts[k, direction, a, b]`` is incremented once for each pixel ``p``
    with value ``a`` whose neighbour ``p + distances[k] * DIRECTIONS[direction]``
    lies inside the image and has value ``b``.  One pass over the image serves
    all distances: row ``y`` and the row ``y + d`` below it are still in L1
    when the next distance uses them.

    The four directions are counted in the same inner loop so that runs of
    equal pixels (frequent in photographs) make four independent chains of
    increments instead of one long store-to-load dependency.  The image borders
    are handled by splitting each row into a left part, a branch-free middle
    part and a right part.
    """
    height, width = gray.shape
    for y in range(height):
        row = gray[y]
        for k in range(distances.shape[0]):
            d = distances[k]
            c_h = counts[k, 0]
            c_d = counts[k, 1]
            c_v = counts[k, 2]
            c_a = counts[k, 3]
            if y + d >= height:
                # no row below: only the horizontal direction has pairs
                for x in range(width - d):
                    c_h[row[x], row[x + d]] += 1
                continue
            below = gray[y + d]
            # left part, x < d: no anti-diagonal neighbour (x - d < 0)
            for x in range(min(d, width)):
                a = row[x]
                c_v[a, below[x]] += 1
                if x + d < width:
                    c_h[a, row[x + d]] += 1
                    c_d[a, below[x + d]] += 1
            # middle part, d <= x < width - d: all four neighbours exist
            for x in range(d, width - d):
                a = row[x]
                c_h[a, row[x + d]] += 1
                c_d[a, below[x + d]] += 1
                c_v[a, below[x]] += 1
                c_a[a, below[x - d]] += 1
            # right part, x >= max(d, width - d): no right-hand neighbour
            for x in range(max(d, width - d), width):
                a = row[x]
                c_v[a, below[x]] += 1
                c_a[a, below[x - d]] += 1


@numba.njit(nogil=True, cache=True)
def _symmetrize(counts, out):
    """Write ``counts + counts.T`` (per matrix) into the int64 array ``out``."""
    n_dist, n_dir, n_levels, _ = counts.shape
    for k in range(n_dist):
        for direction in range(n_dir):
            c = counts[k, direction]
            o = out[k, direction]
            for i in range(n_levels):
                for j in range(n_levels):
                    o[i, j] = np.int64(c[i, j]) + np.int64(c[j, i])


def cooccurrence(gray, distances=(1,)):
    """Symmetric gray-level co-occurrence matrices for the four 2-D directions.

    For each distance ``d`` and direction ``(dy, dx)`` in :data:`DIRECTIONS`
    (horizontal, diagonal, vertical, anti-diagonal), counts the pixel pairs
    ``(p, p + d * (dy, dx))`` that both lie inside the image by their gray
    levels, then adds the transpose (so the diagonal counts each pair of equal
    values twice). The result equals
    ``mahotas.features.texture.cooccurence(gray, direction, symmetric=True,
    distance=d)`` for every direction and distance, computed in one pass over
    the image for all of them [1]_.

    Parameters
    ----------
    gray : ndarray of int, shape (height, width)
        Gray image with integer values in ``[0, L)``, ``L = gray.max() + 1``.
        Any integer dtype; uint8 is the fastest.
    distances : tuple of int, default=(1,)
        Positive neighbour distances, in pixels.

    Returns
    -------
    cmats : ndarray of int64, shape (len(distances), 4, L, L)
        ``cmats[k, direction]`` is the symmetric co-occurrence matrix for
        ``distances[k]`` and ``DIRECTIONS[direction]``.

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
    """
    assert gray.ndim == 2 and gray.size > 0
    distances = np.asarray(distances, dtype=np.intp)
    assert distances.ndim == 1 and np.all(distances > 0)
    n_levels = int(gray.max()) + 1
    assert n_levels <= 2**16
    # Two compiled specialisations only (each costs ~1 s to compile):
    # uint8, the hot path, and uint16 for every other integer dtype.
    gray = np.ascontiguousarray(gray, dtype=np.uint8 if gray.dtype == np.uint8 else np.uint16)
    # int32 accumulators halve the cache footprint of the hot loop; a single
    # matrix never holds more than height * width pairs.
    acc_dtype = np.int32 if gray.size < 2**31 else np.int64
    counts = np.zeros((distances.shape[0], len(DIRECTIONS), n_levels, n_levels), dtype=acc_dtype)
    _count_pairs(gray, distances, counts)
    out = np.empty(counts.shape, dtype=np.int64)
    _symmetrize(counts, out)
    return out
