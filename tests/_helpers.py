"""Helpers that only the tests use: small compositions of the package's stages, kept here so
that the package holds no code without a caller of its own."""

import numpy as np

from haralick_learn.texture.counting import cooccurrence
from haralick_learn.texture.catalogue import haralick_features


def haralick_image(
    gray,
    distances=(1,),
    *,
    ignore_zeros=False,
    compute_14th_feature=False,
    use_x_minus_y_variance=False,
):
    """Haralick features of a gray image for each distance and direction.

    Equivalent to ``mahotas.features.haralick(gray, distance=d, ...)`` for
    each ``d`` in `distances`, stacked, except that a direction without any
    pixel pair gives NaN instead of raising.

    Parameters
    ----------
    gray : ndarray of int, shape (height, width)
        Gray image with integer values in ``[0, L)``; uint8 is the fastest.
    distances : tuple of int, default=(1,)
        Positive neighbour distances, in pixels.
    ignore_zeros : bool, default=False
        Ignore pixel pairs involving gray level 0.
    compute_14th_feature : bool, default=False
        Also compute the (slow) maximal correlation coefficient.
    use_x_minus_y_variance : bool, default=False
        Use ``VAR[|x-y|]`` instead of mahotas's default ``VAR[P(|x-y|)]`` for
        feature 10 (index 9).

    Returns
    -------
    features : ndarray of float64, shape (len(distances), 4, n_features)
        ``n_features`` is 13, or 14 with `compute_14th_feature`. Directions
        are horizontal, diagonal, vertical, anti-diagonal, as in mahotas.

    Examples
    --------
    >>> gray = np.array([[0, 1, 1, 2],
    ...                  [0, 1, 2, 2],
    ...                  [3, 3, 2, 2]], dtype=np.uint8)
    >>> feats = haralick_image(gray, distances=(1, 2))
    >>> feats.shape
    (2, 4, 13)
    >>> float(feats[0, 0, 1])  # contrast, horizontal direction, distance 1
    0.5555...
    >>> haralick_image(gray[:1]).shape  # one row: only horizontal pairs
    (1, 4, 13)
    >>> np.isnan(haralick_image(gray[:1])[0, :, 0])
    array([False,  True,  True,  True])
    """
    return haralick_features(
        cooccurrence(gray, distances),
        ignore_zeros=ignore_zeros,
        compute_14th_feature=compute_14th_feature,
        use_x_minus_y_variance=use_x_minus_y_variance,
    )


def lab_to_levels(lab):
    """8-bit CIELAB encoding of float L*a*b* values, shape (..., 3) -> uint8 (..., 3).

    ``round(L * 255 / 100)``, ``round(a + 128)``, ``round(b + 128)``, ties to
    even, clipped to 0..255: the rule ``rgb_to_lab_levels`` follows, applied to
    given values (``skimage.color.rgb2lab``'s, say).

    Examples
    --------
    >>> lab_to_levels(np.array([100.0, -128.6, 127.4]))
    array([255,   0, 255], dtype=uint8)
    """
    lab = np.asarray(lab, dtype=np.float64)
    scaled = np.empty_like(lab)
    scaled[..., 0] = lab[..., 0] * (255.0 / 100.0)
    scaled[..., 1:] = lab[..., 1:] + 128.0
    np.rint(scaled, out=scaled)
    np.clip(scaled, 0, 255, out=scaled)
    return scaled.astype(np.uint8)
