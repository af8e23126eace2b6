"""Eigenvalues of small real matrices in compiled loops, the same bits on every machine.

The maximal correlation coefficient (Haralick's 14th feature, IBSI's MCC) is
an eigenvalue. LAPACK's routines run through the BLAS, whose kernel (chosen
for the CPU: one for AVX2, another for AVX-512) and thread count decide the
last bits of the result. These loops make the same floating-point operations
in the same order on every CPU: balancing by powers of 2 (exact), reduction
to Hessenberg form by Householder reflections, then Francis's double-shift
QR iteration, as EISPACK's ``balanc``, ``orthes`` and ``hqr`` [1]_. Their
results agree with LAPACK's to rounding: about ``1e-16`` times the matrix's
norm.

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

__all__ = ["eigenvalues", "products_with_rows", "second_largest_eigenvalue",
           "second_largest_symmetric_eigenvalue", "symmetric_eigenvalues"]

#: Iterations of the QR step allowed per eigenvalue, with an exceptional shift every tenth
_MAX_ITERATIONS = 60


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _balance(a, n):
    """Scale rows and columns of ``a[1:n+1, 1:n+1]`` by powers of 2 until their norms match:
    a similarity transform without rounding, after which small eigenvalues are more exact."""
    radix = 2.0
    squared = radix * radix
    done = False
    while not done:
        done = True
        for i in range(1, n + 1):
            r = c = 0.0
            for j in range(1, n + 1):
                if j != i:
                    c += abs(a[unsigned(j), unsigned(i)])
                    r += abs(a[unsigned(i), unsigned(j)])
            if c != 0.0 and r != 0.0:
                g = r / radix
                f = 1.0
                s = c + r
                while c < g:
                    f *= radix
                    c *= squared
                g = r * radix
                while c > g:
                    f /= radix
                    c /= squared
                if (c + r) / f < 0.95 * s:
                    done = False
                    g = 1.0 / f
                    for j in range(1, n + 1):
                        a[unsigned(i), unsigned(j)] *= g
                    for j in range(1, n + 1):
                        a[unsigned(j), unsigned(i)] *= f


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _hessenberg(a, n, ort):
    """Reduce ``a[1:n+1, 1:n+1]`` to upper Hessenberg form by Householder reflections."""
    product = np.empty(n + 1)  # u'a / h
    for m in range(2, n):
        scale = 0.0
        for i in range(m, n + 1):
            scale += abs(a[unsigned(i), unsigned(m - 1)])
        if scale == 0.0:
            continue
        h = 0.0
        for i in range(n, m - 1, -1):
            ort[i] = a[unsigned(i), unsigned(m - 1)] / scale
            h += ort[i] * ort[i]
        g = -math.copysign(math.sqrt(h), ort[m])
        h -= ort[m] * g
        ort[m] -= g
        # (I - u u'/h) a, row by row (contiguous)
        for j in range(m, n + 1):
            product[j] = 0.0
        for i in range(m, n + 1):
            u = ort[i]
            for j in range(m, n + 1):
                product[j] += u * a[unsigned(i), unsigned(j)]
        for j in range(m, n + 1):
            product[j] /= h
        for i in range(m, n + 1):
            u = ort[i]
            for j in range(m, n + 1):
                a[unsigned(i), unsigned(j)] -= product[j] * u
        # a (I - u u'/h): four rows at a time, four independent sums in the same order as one
        for first in range(1, n + 1, 4):
            last = min(first + 3, n)
            f0 = f1 = f2 = f3 = 0.0
            r1, r2, r3 = min(first + 1, last), min(first + 2, last), min(first + 3, last)
            for j in range(m, n + 1):
                u = ort[j]
                f0 += u * a[unsigned(first), unsigned(j)]
                f1 += u * a[unsigned(r1), unsigned(j)]
                f2 += u * a[unsigned(r2), unsigned(j)]
                f3 += u * a[unsigned(r3), unsigned(j)]
            f0 /= h
            f1 /= h
            f2 /= h
            f3 /= h
            for j in range(m, n + 1):
                a[unsigned(first), unsigned(j)] -= f0 * ort[j]
            if r1 > first:
                for j in range(m, n + 1):
                    a[unsigned(r1), unsigned(j)] -= f1 * ort[j]
            if r2 > r1:
                for j in range(m, n + 1):
                    a[unsigned(r2), unsigned(j)] -= f2 * ort[j]
            if r3 > r2:
                for j in range(m, n + 1):
                    a[unsigned(r3), unsigned(j)] -= f3 * ort[j]
        a[unsigned(m), unsigned(m - 1)] = scale * g
        for i in range(m + 1, n + 1):
            a[unsigned(i), unsigned(m - 1)] = 0.0


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _hqr(a, n, wr, wi):
    """The eigenvalues ``wr + i wi`` (1-based) of the Hessenberg ``a[1:n+1, 1:n+1]``, which
    is destroyed. Returns False if some eigenvalue did not converge."""
    norm = 0.0
    for i in range(1, n + 1):
        for j in range(max(i - 1, 1), n + 1):
            norm += abs(a[unsigned(i), unsigned(j)])
    nn = n
    t = 0.0
    x = y = z = w = p = q = r = 0.0
    while nn >= 1:
        its = 0
        while True:
            # look for a single small subdiagonal element
            low = 1
            for candidate in range(nn, 1, -1):
                s = abs(a[candidate - 1, candidate - 1]) + abs(a[candidate, candidate])
                if s == 0.0:
                    s = norm
                if abs(a[unsigned(candidate), unsigned(candidate - 1)]) + s == s:
                    a[unsigned(candidate), unsigned(candidate - 1)] = 0.0
                    low = candidate
                    break
            x = a[unsigned(nn), unsigned(nn)]
            if low == nn:  # one root found
                wr[nn] = x + t
                wi[nn] = 0.0
                nn -= 1
                break
            y = a[unsigned(nn - 1), unsigned(nn - 1)]
            w = a[unsigned(nn), unsigned(nn - 1)] * a[unsigned(nn - 1), unsigned(nn)]
            if low == nn - 1:  # two roots found
                p = 0.5 * (y - x)
                q = p * p + w
                z = math.sqrt(abs(q))
                x += t
                if q >= 0.0:  # a real pair
                    z = p + math.copysign(z, p)
                    wr[nn - 1] = wr[nn] = x + z
                    if z != 0.0:
                        wr[nn] = x - w / z
                    wi[nn - 1] = wi[nn] = 0.0
                else:  # a complex pair
                    wr[nn - 1] = wr[nn] = x + p
                    wi[nn - 1] = -z
                    wi[nn] = z
                nn -= 2
                break
            if its == _MAX_ITERATIONS:
                return False
            if its % 10 == 0 and its > 0:  # an exceptional shift
                t += x
                for i in range(1, nn + 1):
                    a[unsigned(i), unsigned(i)] -= x
                s = abs(a[nn, nn - 1]) + abs(a[nn - 1, nn - 2])
                y = x = 0.75 * s
                w = -0.4375 * s * s
            its += 1
            # form the shift and look for two consecutive small subdiagonal elements
            m = nn - 2
            while m >= low:
                z = a[unsigned(m), unsigned(m)]
                r = x - z
                s = y - z
                p = (r * s - w) / a[unsigned(m + 1), unsigned(m)] + a[unsigned(m), unsigned(m + 1)]
                q = a[unsigned(m + 1), unsigned(m + 1)] - z - r - s
                r = a[unsigned(m + 2), unsigned(m + 1)]
                s = abs(p) + abs(q) + abs(r)
                p /= s
                q /= s
                r /= s
                if m == low:
                    break
                u = abs(a[unsigned(m), unsigned(m - 1)]) * (abs(q) + abs(r))
                v = abs(p) * (abs(a[m - 1, m - 1]) + abs(z) + abs(a[m + 1, m + 1]))
                if u + v == v:
                    break
                m -= 1
            for i in range(m + 2, nn + 1):
                a[unsigned(i), unsigned(i - 2)] = 0.0
                if i != m + 2:
                    a[unsigned(i), unsigned(i - 3)] = 0.0
            # the double QR step on rows low..nn and columns m..nn
            for k in range(m, nn):
                if k != m:
                    p = a[unsigned(k), unsigned(k - 1)]
                    q = a[unsigned(k + 1), unsigned(k - 1)]
                    r = 0.0
                    if k != nn - 1:
                        r = a[unsigned(k + 2), unsigned(k - 1)]
                    x = abs(p) + abs(q) + abs(r)
                    if x != 0.0:
                        p /= x
                        q /= x
                        r /= x
                s = math.copysign(math.sqrt(p * p + q * q + r * r), p)
                if s != 0.0:
                    if k == m:
                        if low != m:
                            a[unsigned(k), unsigned(k - 1)] = -a[unsigned(k), unsigned(k - 1)]
                    else:
                        a[unsigned(k), unsigned(k - 1)] = -s * x
                    p += s
                    x = p / s
                    y = q / s
                    z = r / s
                    q /= p
                    r /= p
                    for j in range(k, nn + 1):  # row modification
                        p = a[unsigned(k), unsigned(j)] + q * a[unsigned(k + 1), unsigned(j)]
                        if k != nn - 1:
                            p += r * a[unsigned(k + 2), unsigned(j)]
                            a[unsigned(k + 2), unsigned(j)] -= p * z
                        a[unsigned(k + 1), unsigned(j)] -= p * y
                        a[unsigned(k), unsigned(j)] -= p * x
                    for i in range(low, min(nn, k + 3) + 1):  # column modification
                        p = x * a[unsigned(i), unsigned(k)] + y * a[unsigned(i), unsigned(k + 1)]
                        if k != nn - 1:
                            p += z * a[unsigned(i), unsigned(k + 2)]
                            a[unsigned(i), unsigned(k + 2)] -= p * r
                        a[unsigned(i), unsigned(k + 1)] -= p * q
                        a[unsigned(i), unsigned(k)] -= p
    return True


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _eigenvalues_in_place(work, n, ort, wr, wi):
    """The eigenvalues of the matrix in ``work[1:n+1, 1:n+1]`` (destroyed) into ``wr``,
    ``wi`` (1-based); False if the iteration did not converge."""
    _balance(work, n)
    _hessenberg(work, n, ort)
    return _hqr(work, n, wr, wi)


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _eigenvalues(a, real, imaginary):
    n = a.shape[0]
    work = np.zeros((n + 1, n + 1))
    work[1:, 1:] = a
    ort = np.zeros(n + 1)
    wr = np.zeros(n + 1)
    wi = np.zeros(n + 1)
    converged = _eigenvalues_in_place(work, n, ort, wr, wi)
    for i in range(n):
        real[i] = wr[i + 1] if converged else np.nan
        imaginary[i] = wi[i + 1] if converged else np.nan


def eigenvalues(a):
    """The eigenvalues of a real square matrix, in the order they were found.

    The same bits on every CPU, whatever the BLAS (see the module's notes);
    equal to :func:`numpy.linalg.eigvals`' up to rounding, about ``1e-16``
    times the matrix's norm. NaN if the iteration does not converge.

    Parameters
    ----------
    a : array_like of float, shape (n, n)

    Returns
    -------
    ndarray of complex128, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> np.sort(eigenvalues([[2.0, 1.0], [1.0, 2.0]]))
    array([1.+0.j, 3.+0.j])
    >>> np.sort(eigenvalues([[0.0, -1.0], [1.0, 0.0]]))
    array([0.-1.j, 0.+1.j])
    """
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"a must be a square matrix, got shape {a.shape}")
    real = np.empty(a.shape[0])
    imaginary = np.empty(a.shape[0])
    _eigenvalues(np.ascontiguousarray(a), real, imaginary)
    return real + 1j * imaginary


@numba.njit(nogil=True, cache=True, error_model="numpy")
def second_largest_eigenvalue(work, n, ort, wr, wi):
    """The second largest eigenvalue ``(real, imaginary)`` of the matrix in
    ``work[1:n+1, 1:n+1]`` (``n >= 2``; destroyed), in :func:`numpy.sort`'s order of complex
    numbers (by real part, then imaginary part), with ``ort``, ``wr``, ``wi`` of length at
    least ``n + 1`` as scratch. NaN if the iteration does not converge."""
    if not _eigenvalues_in_place(work, n, ort, wr, wi):
        return np.nan, np.nan
    # the largest, then the largest of the rest
    top = 1
    for i in range(2, n + 1):
        if wr[i] > wr[top] or (wr[i] == wr[top] and wi[i] > wi[top]):
            top = i
    second = 1 if top != 1 else 2
    for i in range(1, n + 1):
        if i != top and (wr[i] > wr[second] or (wr[i] == wr[second] and wi[i] > wi[second])):
            second = i
    return wr[second], wi[second]


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
    for low in range(n):
        iterations = 0
        while True:
            m = low
            while m < n - 1:
                dd = abs(d[m]) + abs(d[m + 1])
                if abs(e[m]) <= epsilon * dd:
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
def products_with_rows(a, b, n, length, out, offset):
    """``out[offset + i, offset + j] = sum_k a[i, k] b[j, k]`` for ``i, j < n``, ``k < length``:
    each sum in the order of ``k``, four rows of ``b`` at a time (independent sums)."""
    for i in range(n):
        for first in range(0, n, 4):
            r1, r2, r3 = min(first + 1, n - 1), min(first + 2, n - 1), min(first + 3, n - 1)
            s0 = s1 = s2 = s3 = 0.0
            for k in range(length):
                x = a[unsigned(i), unsigned(k)]
                s0 += x * b[unsigned(first), unsigned(k)]
                s1 += x * b[unsigned(r1), unsigned(k)]
                s2 += x * b[unsigned(r2), unsigned(k)]
                s3 += x * b[unsigned(r3), unsigned(k)]
            out[unsigned(offset + i), unsigned(offset + first)] = s0
            out[unsigned(offset + i), unsigned(offset + r1)] = s1
            out[unsigned(offset + i), unsigned(offset + r2)] = s2
            out[unsigned(offset + i), unsigned(offset + r3)] = s3


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
