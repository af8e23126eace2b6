"""The library's own eigenvalue solvers against LAPACK's (numpy.linalg), on matrices of real
images' co-occurrences (scikit-image's photographs, public domain / CC0) and on the shapes
that test a QR iteration: complex pairs, repeated and zero eigenvalues, a triangular matrix."""

import numpy as np
import pytest
from skimage import data

from haralick_learn.texture.counting import cooccurrence
from haralick_learn.texture.eigen import eigenvalues, symmetric_eigenvalues


def _q_matrices():
    """pyradiomics's Q and mahotas's correlation matrix of the camera's and the coins'
    co-occurrence matrices, over their levels present."""
    out = []
    for image in (data.camera() // 4, data.coins() // 2, data.moon()[:200, :200]):
        for counts in cooccurrence(image.astype(np.uint8))[0]:
            p = counts / counts.sum()
            present = p.sum(axis=0) > 0
            p = p[present][:, present]
            px, py = p.sum(axis=1), p.sum(axis=0)
            q = (p / (px[:, None] * py[None, :] + np.spacing(1))) @ p.T
            out.append((q, np.corrcoef(p)))
    return out


@pytest.mark.parametrize("k", range(12))
def test_eigenvalues_of_real_matrices_equal_lapack(k):
    q, correlations = _q_matrices()[k]
    assert q.shape[0] >= 64
    got, expected = np.sort(eigenvalues(q)), np.sort(np.linalg.eigvals(q))
    # Q's largest eigenvalue is about 1 (not quite: the eps of its denominators)
    np.testing.assert_allclose(got.real, expected.real, rtol=0, atol=1e-13)
    np.testing.assert_allclose(got.imag, expected.imag, rtol=0, atol=1e-13)
    np.testing.assert_allclose(symmetric_eigenvalues(correlations),
                               np.linalg.eigvalsh(correlations), rtol=0,
                               atol=1e-13 * len(correlations))


@pytest.mark.parametrize("matrix, expected", [
    ([[0.0, -1.0], [1.0, 0.0]], [-1j, 1j]),  # a rotation: a complex pair
    ([[2.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.0, 0.0, 2.0]], [2, 2, 2]),  # a Jordan block
    ([[1.0, 2.0], [2.0, 4.0]], [0, 5]),  # rank one
    (np.diag([3.0, -1.0, 0.0, 7.0]), [-1, 0, 3, 7]),
    ([[5.0]], [5]),
])
def test_eigenvalues_of_special_matrices(matrix, expected):
    got = np.sort(eigenvalues(matrix))
    np.testing.assert_allclose(got, np.sort(np.asarray(expected, complex)), atol=1e-6)
    if np.allclose(matrix, np.transpose(matrix)):
        np.testing.assert_allclose(symmetric_eigenvalues(matrix), np.real(got), atol=1e-14)


def test_random_matrices_equal_lapack():
    rng = np.random.default_rng(0)
    for n in (2, 3, 5, 17, 40):
        for _ in range(20):
            a = rng.standard_normal((n, n))
            got, expected = np.sort(eigenvalues(a)), np.sort(np.linalg.eigvals(a))
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12 * np.abs(expected).max())
            s = a + a.T
            np.testing.assert_allclose(symmetric_eigenvalues(s), np.linalg.eigvalsh(s), rtol=0,
                                       atol=1e-13 * np.abs(s).sum())


def test_not_square_is_refused():
    with pytest.raises(ValueError, match="square"):
        eigenvalues(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="square"):
        symmetric_eigenvalues(np.zeros(3))
