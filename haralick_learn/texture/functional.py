"""The functional API: co-occurrence matrices and their features, as scikit-image's.

:func:`cooccurrence` counts the matrices of ``skimage.feature.graycomatrix``,
same shape, dtype and values, for any list of angles (or explicit offsets,
and volumes), with the package's compiled counting; :func:`matrix_features`
computes any feature of the catalogue from such matrices, scikit-image's
``graycoprops`` properties among them. Both are the public face of the
co-occurrence and features stages and add no formula of their own.
"""

import math
from numbers import Integral

import numpy as np

from . import counting
from .catalogue import features_of_matrices
from .offsets import MAX_STEP, angle_offset
from .._settings import FEATURE_SETS, TextureSettings

__all__ = ["angle_offsets", "cooccurrence", "matrix_features"]

#: ``angles=None`` (2-D): scikit-image's usual four, 0, pi/4, pi/2 and 3 pi/4, which
#: are mahotas's four directions at distance 1 and in the same order.
DEFAULT_ANGLES = (0.0, math.pi / 4, math.pi / 2, 3 * math.pi / 4)

# Features cannot be computed from more levels than the counting takes.
_MAX_LEVELS = 2**16


def angle_offsets(distances, angles):
    """scikit-image's ``(row, column)`` offset of each distance and angle.

    ``(round(sin(a) d), round(cos(a) d))`` as ``graycomatrix`` computes it:
    the C library's ``sin`` and ``cos`` of the float64 angle, times the
    distance, rounded by scikit-image's rule (the one the estimator's
    ``offsets`` of angles take too). An angle of 0 is the pixel to the
    right, ``pi / 2`` the pixel below (the next row).

    Parameters
    ----------
    distances : sequence of int
        Positive pixel distances.
    angles : sequence of float
        Angles in radians, finite.

    Returns
    -------
    offsets : ndarray of int, shape (len(distances), len(angles), 2)

    Examples
    --------
    >>> import numpy as np
    >>> angle_offsets([1, 4], [0, np.pi / 4, np.pi / 6])[:, :, :].tolist()
    [[[0, 1], [1, 1], [1, 1]], [[0, 4], [3, 3], [2, 3]]]
    """
    distances = _checked_distances(distances)
    angles = _checked_angles(angles)
    out = np.empty((len(distances), len(angles), 2), dtype=np.intp)
    for i, distance in enumerate(distances.tolist()):
        for j, angle in enumerate(angles.tolist()):
            out[i, j] = angle_offset(angle, distance)
    return out


def _checked_distances(distances):
    distances = np.asarray(distances)
    if (distances.ndim != 1 or distances.size == 0 or distances.dtype.kind not in "iu"
            or (distances < 1).any()):
        raise ValueError(f"distances must be a non-empty list of positive ints, got "
                         f"{distances.tolist()!r}")
    if (distances > MAX_STEP).any():  # beyond any image, and offsets beyond 64 bits
        raise ValueError(f"distances must be at most {MAX_STEP} pixels, got "
                         f"{distances.tolist()!r}")
    return distances.astype(np.intp)


def _checked_angles(angles):
    array = np.asarray(angles)
    if (array.ndim != 1 or array.size == 0 or array.dtype.kind not in "iuf"
            or not np.isfinite(array).all()):
        raise ValueError(f"angles must be a non-empty list of finite angles in radians, got "
                         f"{array.tolist()!r}")
    return array.astype(np.float64)


def _checked_offsets(offsets, ndim):
    array = np.asarray(offsets)
    if array.ndim == 1 and array.size == ndim:
        array = array[None]
    if (array.ndim != 2 or array.shape[0] == 0 or array.shape[1] != ndim
            or array.dtype.kind not in "iu" or not array.any(axis=1).all()):
        raise ValueError(f"offsets must be a non-empty list of non-zero integer vectors of "
                         f"{ndim} components (one per axis of image), got {array.tolist()!r}")
    if ((array > MAX_STEP) | (array < -MAX_STEP)).any():
        raise ValueError(f"offsets must step at most {MAX_STEP} pixels along an axis, got "
                         f"{array.tolist()!r}")
    return array.astype(np.intp)


def _checked_image(image, mask):
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.size == 0:
        raise ValueError(f"image must be a non-empty 2-D image or 3-D volume, got shape "
                         f"{image.shape}")
    if image.dtype.kind not in "iu":
        raise TypeError(f"image must hold integer gray levels (scikit-image's rule: convert "
                        f"a float image to an unsigned integer type), got dtype {image.dtype}")
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise TypeError(f"mask must be a boolean array, got dtype {mask.dtype}")
        if mask.shape != image.shape:
            raise ValueError(f"mask of shape {mask.shape} does not match image's {image.shape}")
        if not mask.any():
            raise ValueError("mask is empty: it selects no pixel")
    counted = image if mask is None else image[mask]
    low, high = int(counted.min()), int(counted.max())
    if low < 0:
        raise ValueError(f"image levels must be non-negative, got a minimum of {low}")
    return image, mask, high


def _checked_levels(levels, image, high, mask):
    if levels is None:
        # scikit-image's default for 8-bit images; other types: just enough levels
        levels = 256 if image.dtype in (np.uint8, np.int8) else high + 1
    elif isinstance(levels, bool) or not isinstance(levels, Integral) or levels < 1:
        raise ValueError(f"levels must be None or a positive int, got {levels!r}")
    if high >= levels:
        raise ValueError(f"the image's maximum gray level, {high}, must be smaller than "
                         f"levels={levels}")
    if high >= _MAX_LEVELS - (mask is not None):  # a mask takes one level of the counting
        raise ValueError(f"at most {_MAX_LEVELS - (mask is not None)} gray levels are "
                         f"counted, got a maximum of {high}")
    return int(levels)


def cooccurrence(image, distances, angles=None, *, offsets=None, levels=None, symmetric=False,
                 normed=False, mask=None):
    """Gray-level co-occurrence matrices, as scikit-image's ``graycomatrix``.

    ``P[i, j, d, a]`` counts the pixels ``p`` of level ``i`` whose neighbour
    ``p + offset`` (the offset of distance ``distances[d]`` and direction
    ``a``) lies inside the image and has level ``j``. With ``angles``, the
    result equals ``skimage.feature.graycomatrix(image, distances, angles,
    levels=levels, symmetric=symmetric, normed=normed)`` for any angles, its
    rounding of each offset included (``angle_offsets``): same shape,
    dtype and values.

    Parameters
    ----------
    image : ndarray of int, shape (height, width) or (depth, height, width)
        Non-negative integer gray levels (any integer dtype). A volume needs
        ``offsets`` of three components, or takes mahotas's 13 directions.
    distances : sequence of int
        Positive pixel distances.
    angles : sequence of float, default=None
        Angles in radians (0: the pixel to the right; ``pi / 2``: the pixel
        below, in the next row); the offset at distance ``d`` is scikit-image's
        ``(round(d sin a), round(d cos a))``. ``None`` (and no ``offsets``): a
        2-D image takes the four angles 0, ``pi / 4``, ``pi / 2`` and
        ``3 pi / 4``, a volume mahotas's 13 3-D directions times each distance.
    offsets : sequence of int vectors, default=None
        Instead of ``angles``: integer offsets per unit distance, ``(dy, dx)``
        for an image or ``(dz, dy, dx)`` for a volume, each multiplied by every
        distance (as mahotas's directions: ``(1, 1)`` at distance 4 is
        ``(4, 4)``, where the angle ``pi / 4`` gives ``(3, 3)``). Any signs:
        the matrix of ``-o`` is the transpose of that of ``o``.
    levels : int, default=None
        The matrices' size; every counted level must be smaller. ``None``:
        256 for uint8 and int8 images (scikit-image's default), otherwise the
        largest counted level + 1 (where scikit-image requires ``levels``).
    symmetric : bool, default=False
        Add each matrix's transpose: ``(i, j)`` and ``(j, i)`` both count
        each pair (scikit-image's default is False, mahotas's True).
    normed : bool, default=False
        Divide each matrix by its total (float64, summing to 1; an empty
        matrix stays zero), as scikit-image.
    mask : ndarray of bool of ``image``'s shape, default=None
        Count only the pairs whose two pixels both lie in the mask
        (pyradiomics's rule; scikit-image has no mask). The levels outside
        it are not checked against ``levels``.

    Returns
    -------
    P : ndarray of shape (levels, levels, len(distances), n_directions)
        uint32 counts, or float64 when ``normed``. ``n_directions`` is
        ``len(angles)`` or ``len(offsets)``.

    Raises
    ------
    ValueError, TypeError
        For an image that is not 2-D or 3-D, not integer, empty or negative,
        a level not below ``levels``, distances, angles or offsets out of
        their ranges, both ``angles`` and ``offsets``, angles for a volume,
        or a mask of another shape, not boolean, or empty.

    See Also
    --------
    matrix_features : the features of these matrices.

    Notes
    -----
    Counting goes through the package's compiled kernels, one pass over the
    image per four offsets; an offset and its opposite are counted once.

    Examples
    --------
    scikit-image's own example:

    >>> import numpy as np
    >>> image = np.array([[0, 0, 1, 1],
    ...                   [0, 0, 1, 1],
    ...                   [0, 2, 2, 2],
    ...                   [2, 2, 3, 3]], dtype=np.uint8)
    >>> P = cooccurrence(image, [1], [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4], levels=4)
    >>> P.shape, P.dtype
    ((4, 4, 1, 4), dtype('uint32'))
    >>> P[:, :, 0, 0]
    array([[2, 2, 1, 0],
           [0, 2, 0, 0],
           [0, 0, 3, 1],
           [0, 0, 0, 1]], dtype=uint32)

    Offsets per unit distance, and a mask:

    >>> P = cooccurrence(image, [1, 2], offsets=[(0, 1)], levels=4, symmetric=True)
    >>> P[:, :, 1, 0]  # offset (0, 2): pairs (0, 1) four times, (0, 2), (2, 2), (2, 3) twice
    array([[0, 4, 1, 0],
           [4, 0, 0, 0],
           [1, 0, 2, 2],
           [0, 0, 2, 0]], dtype=uint32)
    >>> cooccurrence(image, [1], [0], levels=4, mask=image < 2)[:, :, 0, 0]
    array([[2, 2, 0, 0],
           [0, 2, 0, 0],
           [0, 0, 0, 0],
           [0, 0, 0, 0]], dtype=uint32)
    """
    image, mask, high = _checked_image(image, mask)
    levels = _checked_levels(levels, image, high, mask)
    if angles is not None and offsets is not None:
        raise ValueError("pass angles or offsets, not both")
    if image.ndim == 3 and angles is not None:
        raise ValueError("angles describe 2-D directions: a volume takes offsets of three "
                         "components (dz, dy, dx)")
    if offsets is None and (angles is not None or image.ndim == 2):
        vectors = angle_offsets(distances, DEFAULT_ANGLES if angles is None else angles)
    else:
        units = counting.DIRECTIONS_3D if offsets is None else offsets
        units = _checked_offsets(units, image.ndim)
        distances = _checked_distances(distances)
        vectors = distances[:, None, None] * units[None]
    n_distances, n_directions = vectors.shape[:2]
    counts = _pair_counts(image, vectors.reshape(-1, image.ndim), mask)
    n_counted = counts.shape[-1]
    counts = counts.reshape(n_distances, n_directions, n_counted, n_counted)
    if symmetric:
        counts = counts + counts.transpose(0, 1, 3, 2)
    out = np.zeros((levels, levels, n_distances, n_directions), dtype=np.uint32)
    out[:n_counted, :n_counted] = counts.transpose(2, 3, 0, 1)
    if normed:
        out = out.astype(np.float64)
        totals = out.sum(axis=(0, 1), keepdims=True)
        totals[totals == 0] = 1
        out /= totals
    return out


def _pair_counts(image, vectors, mask):
    """The non-symmetric counts of each offset vector: (n_vectors, L, L), L the level count.

    The compiled counting takes offsets whose first non-zero component is
    positive: the others are counted as their opposite and transposed (the
    pair ``(p, p - o)`` is the pair ``(q, q + o)`` read backwards), and each
    distinct offset once.
    """
    first = vectors[np.arange(len(vectors)), (vectors != 0).argmax(axis=1)]
    flipped = first < 0
    canonical = np.where(flipped[:, None], -vectors, vectors)
    unique, index = np.unique(canonical, axis=0, return_inverse=True)
    counted = counting.cooccurrence(image, (1,), unique, symmetric=False, mask=mask)[0]
    out = counted[index.reshape(-1)]
    out[flipped] = out[flipped].transpose(0, 2, 1)
    return out


def _feature_keys(features, names):
    """The output keys: a set's own names for one set's name, else the catalogue keys."""
    if isinstance(features, str) and features in FEATURE_SETS and features != "haralick":
        prefix = features + "_"
        return [name[len(prefix):] for name in names]
    return list(names)


def _checked_matrices(P):
    P = np.asarray(P)
    if P.ndim != 4 or P.shape[0] != P.shape[1] or 0 in P.shape:
        raise ValueError(f"P must be co-occurrence matrices of shape (levels, levels, "
                         f"n_distances, n_directions), got shape {P.shape}")
    if P.dtype.kind == "f":
        whole = np.isfinite(P).all() and (P == np.floor(P)).all()
        if not whole or np.abs(P).max() >= 2**53:
            raise TypeError("P must hold counts (integers), as cooccurrence(..., normed=False) "
                            "returns: every feature normalises each matrix itself, so counts "
                            "give the features of the normed matrices")
    elif P.dtype.kind not in "iu":
        raise TypeError(f"P must hold integer counts, got dtype {P.dtype}")
    if P.min() < 0:
        raise ValueError("P must hold non-negative counts")
    if P.shape[0] > _MAX_LEVELS:
        raise ValueError(f"P has {P.shape[0]} levels; at most {_MAX_LEVELS} are supported")
    # The features come from exact int64 sums of each matrix (counting.MAX_MATRIX_SUM): counts
    # whose sums pass 2**63 would wrap around into wrong numbers. (i + j)**2 = i**2 + 2 i j
    # + j**2, summed term by term: no L x L array of weights.
    counts = P.astype(np.float64)
    levels = np.arange(P.shape[0], dtype=np.float64)
    squares = levels * levels
    level_sum = (np.einsum("i,ijkl->kl", squares, counts) + np.einsum("j,ijkl->kl", squares, counts)
                 + 2 * np.einsum("i,j,ijkl->kl", levels, levels, counts))
    largest = max(np.einsum("ijkl,ijkl->kl", counts, counts).max(), level_sum.max())
    if largest >= counting.MAX_MATRIX_SUM:
        raise ValueError(f"P's counts are too large: the sums of a matrix's squared counts and "
                         f"of (i + j)**2 P[i, j] must stay below 2**62, got {largest:.3g}")
    return P


def matrix_features(P, features="haralick"):
    """Texture features of co-occurrence matrices, as ``graycoprops``, mahotas or pyradiomics.

    One value per matrix, from the package's catalogue of features (the same
    formulas as :class:`HaralickFeaturizer`'s ``features``): the Haralick set
    equals ``mahotas.features.texture.haralick_features`` of each matrix,
    the scikit-image set ``skimage.feature.graycoprops(P, prop)``, the IBSI
    set pyradiomics's ``RadiomicsGLCM`` features of that matrix.

    Parameters
    ----------
    P : ndarray of int, shape (levels, levels, n_distances, n_directions)
        Co-occurrence counts, as :func:`cooccurrence` (``normed=False``) or
        ``graycomatrix`` return them. Every feature normalises each matrix by
        its total, so counts give the features of the normed matrices; normed
        (fractional) matrices are refused, as their counts are lost.
    features : str or list of str, default="haralick"
        ``"haralick"`` (mahotas's 13), ``"skimage"`` (scikit-image's 10
        properties), ``"ibsi"`` (pyradiomics's 24), or a list of set names
        and catalogue keys (``"contrast"``, ``"skimage_ASM"``,
        ``"ibsi_Idmn"``, ``"maximal_correlation_coefficient"``...), as
        :class:`HaralickFeaturizer`'s ``features``.

    Returns
    -------
    features : dict of str to ndarray of float64, shape (n_distances, n_directions)
        In the order of ``features``. Keys: for one set's name, the set's
        own names (``"ASM"``, ``"correlation"`` for ``"skimage"``, as
        ``graycoprops``'s ``prop``; ``"Idmn"`` for ``"ibsi"``, as
        pyradiomics; the catalogue's ``"angular_second_moment"``... for
        ``"haralick"``); for a list, the catalogue keys (``"skimage_ASM"``),
        unique across sets, as the stems of the featurizer's column names.
        NaN for an empty matrix (no pixel pair), where ``graycoprops`` gives
        0 (or 1 for the correlation).

    Raises
    ------
    ValueError, TypeError
        For ``P`` that is not 4-D with square matrices, holds negative or
        non-integer values, or counts too large for the exact int64 sums the
        features come from (a matrix's squared counts, or its counts weighted
        by ``(i + j)**2``, summing to 2**62 or more), or an unknown feature.

    Notes
    -----
    ``N_g``, the number of gray levels in Haralick's difference variance
    (mahotas's default: the variance of the ``N_g`` probabilities
    ``P(|i - j| = k)``) and in pyradiomics's Idmn and Idn, is the matrices'
    size ``levels``. mahotas and pyradiomics take the image's maximum + 1:
    count with ``levels=image.max() + 1`` to reproduce them. The other
    features do not depend on empty trailing levels.

    Examples
    --------
    scikit-image's example of ``graycoprops``:

    >>> import numpy as np
    >>> image = np.array([[0, 0, 1, 1],
    ...                   [0, 0, 1, 1],
    ...                   [0, 2, 2, 2],
    ...                   [2, 2, 3, 3]], dtype=np.uint8)
    >>> P = cooccurrence(image, [1, 2], [0, np.pi / 2], levels=4, symmetric=True)
    >>> props = matrix_features(P, "skimage")
    >>> list(props)[:4]
    ['contrast', 'dissimilarity', 'homogeneity', 'energy']
    >>> props["contrast"]
    array([[0.58333333, 1.        ],
           [1.25      , 2.75      ]])
    >>> matrix_features(P, ["contrast", "ibsi_Idmn"])["ibsi_Idmn"].shape
    (2, 2)
    """
    P = _checked_matrices(P)
    names = TextureSettings.from_params(features=features).features
    levels, _, n_distances, n_directions = P.shape
    cmats = np.ascontiguousarray(P.transpose(2, 3, 0, 1), dtype=np.int64)
    values = features_of_matrices(cmats.reshape(-1, levels, levels), names)
    return {key: values[:, column].reshape(n_distances, n_directions)
            for column, key in enumerate(_feature_keys(features, names))}
