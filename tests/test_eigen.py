"""The library's own symmetric eigenvalue solver against LAPACK's (numpy.linalg), on matrices
of real images' co-occurrences (scikit-image's photographs, public domain / CC0) and on the
shapes that test a QL iteration: repeated and zero eigenvalues, a diagonal matrix."""

import numpy as np
import pytest
from skimage import data

from haralick_learn.texture.counting import cooccurrence
from haralick_learn.texture.eigen import symmetric_eigenvalues


def _matrices():
    """mahotas's correlation matrix of the rows of the camera's, the coins' and the moon's
    co-occurrence matrices, and the symmetric form of pyradiomics's Q, over their levels
    present."""
    out = []
    for image in (data.camera() // 4, data.coins() // 2, data.moon()[:200, :200]):
        for counts in cooccurrence(image.astype(np.uint8))[0]:
            p = counts / counts.sum()
            present = p.sum(axis=0) > 0
            p = p[present][:, present]
            px = p.sum(axis=1)
            roots = np.sqrt(px)
            # D^(1/2) Q D^(-1/2), Q = D^-1 P D^-1 P' for a symmetric P
            s = (p / np.outer(roots, roots)) @ (p / np.outer(roots, roots)).T
            out.append((np.corrcoef(p), s))
    return out


@pytest.mark.parametrize("k", range(12))
def test_eigenvalues_of_real_matrices_equal_lapack(k):
    correlations, q = _matrices()[k]
    assert len(q) >= 64
    np.testing.assert_allclose(symmetric_eigenvalues(correlations),
                               np.linalg.eigvalsh(correlations), rtol=0,
                               atol=1e-13 * len(correlations))
    # Q's largest eigenvalue is 1, its second the square of the MCC
    got, expected = symmetric_eigenvalues(q), np.linalg.eigvalsh(q)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-14)
    assert abs(got[-1] - 1) < 1e-14 and 0.1 < got[-2] < 1


@pytest.mark.parametrize("matrix, expected", [
    ([[2.0, 1.0], [1.0, 2.0]], [1, 3]),
    ([[1.0, 2.0], [2.0, 4.0]], [0, 5]),  # rank one
    (np.ones((4, 4)), [0, 0, 0, 4]),  # a repeated 0
    (np.diag([3.0, -1.0, 0.0, 7.0]), [-1, 0, 3, 7]),
    ([[5.0]], [5]),
    (np.zeros((0, 0)), []),
])
def test_eigenvalues_of_special_matrices(matrix, expected):
    np.testing.assert_allclose(symmetric_eigenvalues(matrix), expected, rtol=0, atol=1e-14)


def test_random_matrices_equal_lapack():
    rng = np.random.default_rng(0)
    for n in (2, 3, 5, 17, 40, 128):
        for _ in range(10):
            a = rng.standard_normal((n, n))
            s = a + a.T
            np.testing.assert_allclose(symmetric_eigenvalues(s), np.linalg.eigvalsh(s), rtol=0,
                                       atol=1e-14 * np.abs(s).sum())


@pytest.mark.parametrize("n", [60, 128, 256])
def test_matrices_of_low_rank_converge(n):
    """A matrix of ones (rank one, the correlations of identical rows): the QL iteration on
    its tridiagonal form, whose elements but one are rounding errors, some subnormal, stops
    at the rounding of the whole matrix instead of iterating on the tiny ones for ever."""
    ones = np.ones((n, n))
    got = symmetric_eigenvalues(ones)
    np.testing.assert_allclose(got, np.linalg.eigvalsh(ones), rtol=0, atol=1e-14 * n * n)
    assert got[-1] == pytest.approx(n, rel=1e-14)


def test_not_square_is_refused():
    with pytest.raises(ValueError, match="square"):
        symmetric_eigenvalues(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="square"):
        symmetric_eigenvalues(np.zeros(3))
