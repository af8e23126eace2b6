"""Array indices for the compiled loops.

numba handles a negative index of a signed integer type (counted from the
end of the axis): a compare and a select per array access, which a loop
over tables pays on every cell it reads or writes. An index of an unsigned
type has no such handling.
"""

import numba
import numpy as np

__all__ = ["unsigned"]


@numba.njit(nogil=True, cache=True, inline="always")
def unsigned(index):
    """``index``, known to be >= 0, as an unsigned 64-bit integer, to index an array with.

    numba then leaves out its handling of negative indices. Use it at the
    index only (``table[unsigned(k)]``): numba's arithmetic mixing unsigned
    and signed 64-bit integers gives a float.

    Parameters
    ----------
    index : int
        An index that is never negative.

    Returns
    -------
    numpy.uint64
        The same index.

    Examples
    --------
    >>> import numba
    >>> import numpy as np
    >>> @numba.njit
    ... def total(table, positions):
    ...     result = 0
    ...     for k in range(positions.shape[0]):
    ...         result += table[unsigned(positions[k])]
    ...     return result
    >>> int(total(np.array([5, 6, 7]), np.array([2, 0, 2])))
    19
    """
    return np.uint64(index)
