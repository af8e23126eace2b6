"""Elementary functions that do not follow numpy's choice of SIMD code for the CPU.

numpy picks a SIMD implementation of ``log2``, ``exp`` and ``power`` for the
CPU it runs on (AVX-512 has its own), and those differ from the C library's
in the last bit for some arguments: a feature computed with them would
depend on the machine. These call the C library's scalar functions from
compiled loops instead, one element at a time: the same bits wherever the C
library computes them alike (glibc on x86-64 CPUs with FMA, as tested). With
Intel's SVML installed, numba would vectorize such loops through SVML's own
CPU-specific code: there the values go through Python's ``math`` one by one
instead (slower, the same C library functions).
"""

import math

import numba
import numpy as np

from .._buffers import working_array

__all__ = ["exp", "log2", "log2_plus"]


@numba.njit(nogil=True, cache=True)
def _log2_into(x, out):
    for i in range(x.shape[0]):
        out[i] = math.log2(x[i])


@numba.njit(nogil=True, cache=True)
def _log2_where_into(x, where, out):
    for i in range(x.shape[0]):
        out[i] = math.log2(x[i]) if where[i] else 0.0


@numba.njit(nogil=True, cache=True)
def _log2_plus_into(x, offset, zero, out):
    for i in range(x.shape[0]):
        out[i] = math.log2(x[i] + offset) if x[i] != 0 else zero


@numba.njit(nogil=True, cache=True)
def _exp_into(x, out):
    for i in range(x.shape[0]):
        out[i] = math.exp(x[i])


def _log2_or_inf(value):
    return math.log2(value) if value > 0 else (-math.inf if value == 0 else math.nan)


def _exp_or_inf(value):
    try:
        return math.exp(value)
    except OverflowError:
        return math.inf


#: The scalar C-library function of each kernel, for machines where numba uses SVML.
_SCALAR = {_log2_into: _log2_or_inf, _exp_into: _exp_or_inf}


def _apply(kernel, x, where):
    x = np.asarray(x)
    if (where is not None and kernel is _log2_into and not numba.config.USING_SVML
            and x.dtype in (np.int64, np.float64)):
        # Only where wanted (most of a small region's marginals are 0), in one pass: the
        # same C-library values.
        where = np.ascontiguousarray(np.broadcast_to(where, x.shape))
        out = np.empty(x.shape)
        _log2_where_into(np.ascontiguousarray(x).reshape(-1), where.reshape(-1),
                         out.reshape(-1))
        return out
    x = np.asarray(x, dtype=np.float64)
    if where is not None:
        # 1 where not wanted: log2(1) = 0 and exp(1) is finite, then replaced by 0
        where = np.broadcast_to(where, x.shape)
        x = np.where(where, x, 1.0)
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty(flat.shape)
    if numba.config.USING_SVML:
        scalar = _SCALAR[kernel]
        out[:] = [scalar(value) for value in flat.tolist()]
    else:
        kernel(flat, out)
    out = out.reshape(x.shape)
    if where is not None:
        out[~where] = 0.0
    return out


def log2(x, where=None):
    """Base-2 logarithm of each element, as float64.

    Parameters
    ----------
    x : array-like
        Values (``log2(0)`` is ``-inf``, a negative value gives NaN).
    where : array-like of bool, optional
        Where to compute it; elsewhere the result is 0.

    Examples
    --------
    >>> log2([1.0, 8.0, 0.5])
    array([ 0.,  3., -1.])
    >>> log2([0.0, 4.0], where=[False, True])
    array([0., 2.])
    """
    return _apply(_log2_into, x, where)


def exp(x, where=None):
    """``e ** x`` of each element, as float64 (``where`` as for :func:`log2`).

    Examples
    --------
    >>> exp([0.0, 1.0])
    array([1.        , 2.71828183])
    """
    return _apply(_exp_into, x, where)


def log2_plus(x, offset, zero):
    """``log2(x + offset)`` of each non-zero element, ``zero`` where ``x`` is 0, as float64.

    One pass over ``x`` (of which most elements may be 0, as in a small
    region's co-occurrence matrix) instead of ``log2(x + offset, where=x != 0)``
    and a fill: the same values.

    Examples
    --------
    >>> log2_plus([0.0, 0.5, 3.0], 1.0, -52.0)
    array([-52.       ,   0.5849625,   2.       ])
    """
    x = np.asarray(x, dtype=np.float64)
    if numba.config.USING_SVML:  # see _apply: the C library's values through Python's math
        nonzero = x != 0
        out = log2(x + offset, where=nonzero)
        out[~nonzero] = zero
        return out
    out = working_array(x.shape, np.float64)
    _log2_plus_into(np.ascontiguousarray(x).reshape(-1), float(offset), float(zero),
                    out.reshape(-1))
    return out
