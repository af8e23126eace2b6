"""Eigenvalues of small symmetric matrices in compiled loops, the same bits on every machine.

The maximal correlation coefficient (Haralick's 14th feature, IBSI's MCC) is
an eigenvalue. LAPACK's routines run through the BLAS, whose kernel (chosen
for the CPU: one for AVX2, another for AVX-512) and thread count decide the
last bits of the result. These loops make the same floating-point operations
in the same order on every CPU: reduction to a tridiagonal matrix by
Householder reflections, then the implicit QL iteration, as EISPACK's
``tred1`` and ``tql1`` [1]_. Their results agree with LAPACK's to rounding:
about ``1e-16`` times the matrix's norm.

References
----------
.. [1] B. T. Smith et al., *Matrix Eigensystem Routines - EISPACK Guide*,
   Lecture Notes in Computer Science 6, Springer, 1976.
   :doi:`10.1007/3-540-07546-1`
"""

import math

import numba
import numpy as np

from .indexing import unsigned  # in the loops: no handling of negative indices

__all__ = ["products_with_rows", "second_largest_symmetric_eigenvalue", "symmetric_eigenvalues"]

#: Iterations of the QL step allowed per eigenvalue
_MAX_ITERATIONS = 60


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _tridiagonal(z, n, d, e):
    """Reduce the symmetric ``z[:n, :n]`` (both triangles; destroyed) to the tridiagonal
    matrix of diagonal ``d`` and subdiagonal ``e[1:n]`` by Householder reflections (EISPACK's
    ``tred1``). Both triangles are updated, so that every sum runs along a row."""
    for i in range(n - 1, 0, -1):
        low = i - 1
        h = 0.0
        scale = 0.0
        for k in range(i):
            scale += abs(z[unsigned(i), unsigned(k)])
        if low == 0 or scale == 0.0:
            e[i] = z[unsigned(i), unsigned(low)]
        else:
            for k in range(i):
                z[unsigned(i), unsigned(k)] /= scale
                h += z[unsigned(i), unsigned(k)] * z[unsigned(i), unsigned(k)]
            f = z[unsigned(i), unsigned(low)]
            g = -math.sqrt(h) if f >= 0.0 else math.sqrt(h)
            e[i] = scale * g
            h -= f * g
            z[unsigned(i), unsigned(low)] = f - g
            # p = A u / h, four rows at a time (four independent sums, each in row order)
            f = 0.0
            for first in range(0, i, 4):
                r1, r2, r3 = min(first + 1, i - 1), min(first + 2, i - 1), min(first + 3, i - 1)
                g0 = g1 = g2 = g3 = 0.0
                for k in range(i):
                    u = z[unsigned(i), unsigned(k)]
                    g0 += z[unsigned(first), unsigned(k)] * u
                    g1 += z[unsigned(r1), unsigned(k)] * u
                    g2 += z[unsigned(r2), unsigned(k)] * u
                    g3 += z[unsigned(r3), unsigned(k)] * u
                e[first] = g0 / h
                e[r1] = g1 / h
                e[r2] = g2 / h
                e[r3] = g3 / h
            for j in range(i):
                f += e[j] * z[unsigned(i), unsigned(j)]
            half = f / (h + h)
            for j in range(i):
                e[j] -= half * z[unsigned(i), unsigned(j)]
            for j in range(i):  # A -= u q' + q u'
                u = z[unsigned(i), unsigned(j)]
                q = e[j]
                for k in range(i):
                    z[unsigned(j), unsigned(k)] -= u * e[k] + q * z[unsigned(i), unsigned(k)]
        d[i] = h
    for i in range(n):
        d[i] = z[unsigned(i), unsigned(i)]
    e[0] = 0.0


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _pythagoras(a, b):
    """sqrt(a**2 + b**2) without overflow or destructive underflow."""
    a, b = abs(a), abs(b)
    if a > b:
        return a * math.sqrt(1.0 + (b / a) * (b / a))
    return 0.0 if b == 0.0 else b * math.sqrt(1.0 + (a / b) * (a / b))


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _tridiagonal_eigenvalues(d, e, n):
    """The eigenvalues of the tridiagonal ``d``, ``e[1:n]`` into ``d`` by the implicit QL
    method (EISPACK's ``tql1``); False if some eigenvalue did not converge."""
    epsilon = np.finfo(np.float64).eps
    for i in range(1, n):
        e[i - 1] = e[i]
    e[n - 1] = 0.0
    # an off-diagonal element is negligible beside its neighbours or beside the whole matrix:
    # the rotations leave errors of epsilon times the largest elements, so that a block of
    # tiny ones (the zero eigenvalues of a matrix of low rank) never gets smaller
    norm = 0.0
    for i in range(n):
        norm = max(norm, abs(d[i]) + abs(e[i]))
    for low in range(n):
        iterations = 0
        while True:
            m = low
            while m < n - 1:
                dd = abs(d[m]) + abs(d[m + 1])
                if abs(e[m]) <= epsilon * max(dd, norm):
                    break
                m += 1
            if m == low:
                break
            if iterations == _MAX_ITERATIONS:
                return False
            iterations += 1
            g = (d[low + 1] - d[low]) / (2.0 * e[low])
            r = _pythagoras(g, 1.0)
            g = d[m] - d[low] + e[low] / (g + math.copysign(r, g))
            s = c = 1.0
            p = 0.0
            deflated = False
            for i in range(m - 1, low - 1, -1):
                f = s * e[i]
                b = c * e[i]
                r = _pythagoras(f, g)
                e[i + 1] = r
                if r == 0.0:  # underflow: deflate and start again
                    d[i + 1] -= p
                    e[m] = 0.0
                    deflated = True
                    break
                s = f / r
                c = g / r
                g = d[i + 1] - p
                r = (d[i] - g) * s + 2.0 * c * b
                p = s * r
                d[i + 1] = g + p
                g = c * r - b
            if deflated:
                continue
            d[low] -= p
            e[low] = g
            e[m] = 0.0
    return True


@numba.njit(nogil=True, cache=True, error_model="numpy")
def second_largest_symmetric_eigenvalue(z, n, d, e):
    """The second largest eigenvalue of the symmetric ``z[:n, :n]`` (``n >= 2``, both
    triangles; destroyed), with ``d``, ``e`` of length at least ``n`` as scratch. NaN if the
    iteration does not converge."""
    _tridiagonal(z, n, d, e)
    if not _tridiagonal_eigenvalues(d, e, n):
        return np.nan
    top = 0
    for i in range(1, n):
        if d[i] > d[top]:
            top = i
    second = 1 if top == 0 else 0
    for i in range(n):
        if i != top and d[i] > d[second]:
            second = i
    return d[second]


@numba.njit(nogil=True, cache=True, error_model="numpy")
def products_with_rows(a, b, n, length, out, symmetric=False):
    """``out[i, j] = sum_k a[i, k] b[j, k]`` for ``i, j < n``, ``k < length``:
    each sum in the order of ``k``. Row ``i`` of ``out`` gathers ``a[i, k]`` times row ``k``
    of ``b``'s transpose, ``k`` after ``k``: the same operations on every element, which the
    compiler may run side by side (vectors of any width: the same bits). ``symmetric``:
    ``b`` is ``a``, the elements above the diagonal are copies of those below (the same
    products, in the same order)."""
    transposed = np.empty((length, n))
    for j in range(n):
        for k in range(length):
            transposed[unsigned(k), unsigned(j)] = b[unsigned(j), unsigned(k)]
    row = np.empty(n)
    for i in range(n):
        stop = i + 1 if symmetric else n
        for j in range(stop):
            row[unsigned(j)] = 0.0
        for k in range(length):
            factor = a[unsigned(i), unsigned(k)]
            for j in range(stop):
                row[unsigned(j)] += factor * transposed[unsigned(k), unsigned(j)]
        for j in range(stop):
            out[unsigned(i), unsigned(j)] = row[unsigned(j)]
            if symmetric:
                out[unsigned(j), unsigned(i)] = row[unsigned(j)]


def symmetric_eigenvalues(a):
    """The eigenvalues of a real symmetric matrix, in increasing order.

    The same bits on every CPU, whatever the BLAS; equal to
    :func:`numpy.linalg.eigvalsh`' up to rounding. Only the lower triangle
    need be right: the upper one is taken from it.

    Parameters
    ----------
    a : array_like of float, shape (n, n)

    Returns
    -------
    ndarray of float64, shape (n,)

    Examples
    --------
    >>> symmetric_eigenvalues([[2.0, 1.0], [1.0, 2.0]])
    array([1., 3.])
    """
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"a must be a square matrix, got shape {a.shape}")
    n = a.shape[0]
    z = np.tril(a) + np.tril(a, -1).T
    d, e = np.empty(n), np.empty(n)
    if n:
        _tridiagonal(z, n, d, e)
        if not _tridiagonal_eigenvalues(d, e, n):
            d[:] = np.nan
    return np.sort(d)
