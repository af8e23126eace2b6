"""The quantize stage: a gray image becomes non-negative integer levels.

Pixel arithmetic only: no file is read here. The rule depends only on each
image itself (never on the rest of a batch); see :func:`to_gray_levels`.
"""

import numpy as np

__all__ = ["is_8bit", "to_gray_levels"]


def is_8bit(array):
    """uint8, or integers that all lie within 0..255."""
    if array.dtype == np.uint8:
        return True
    return bool(
        array.dtype.kind in "ui" and array.size and array.min() >= 0 and array.max() <= 255
    )


def to_gray_levels(gray, levels=None, mask=None):
    """Quantize a gray image into non-negative integer levels.

    The rule depends only on the image itself, never on the other images of
    a batch:

    * An image of integers within ``0..255`` (any integer dtype) is 8-bit:
      with ``levels=None`` it is used as it is, which reproduces the
      reference's numbers; with ``levels=k`` it is binned on the fixed 8-bit
      scale, ``level = value * k // 256``, so images stay comparable.
    * Any other image (wider integers such as 16-bit, negative values, floats)
      is rescaled from its own ``[min, max]`` onto ``k`` bins (``k=256`` when
      ``levels=None``): ``level = floor((value - min) / (max - min) * k)``,
      the maximum going to ``k - 1``, computed exactly in integers for integer
      images and in float64 for float images. A constant image becomes all
      zeros.

    Either way the result has at most ``k`` levels, so a co-occurrence matrix
    has at most ``k**2`` cells, whatever the input's bit depth.

    Parameters
    ----------
    gray : ndarray of shape (height, width)
        Output of :func:`load_image`.
    levels : int in [2, 256] or None, default=None
        Number of gray levels.
    mask : ndarray of bool of ``gray``'s shape, default=None
        Only the pixels inside the mask decide the levels (whether the image
        is 8-bit, its minimum and maximum); pixels outside it become 0.

    Returns
    -------
    levels_image : ndarray of uint8, of ``gray``'s shape (2-D or 3-D)

    Examples
    --------
    >>> import numpy as np
    >>> to_gray_levels(np.array([[0, 100], [200, 255]], dtype=np.uint8))
    array([[  0, 100],
           [200, 255]], dtype=uint8)
    >>> to_gray_levels(np.array([[0, 100], [200, 255]], dtype=np.uint8), levels=4)
    array([[0, 1],
           [3, 3]], dtype=uint8)
    >>> to_gray_levels(np.array([[0.0, 0.5], [0.75, 1.0]]), levels=4)
    array([[0, 2],
           [3, 3]], dtype=uint8)
    >>> to_gray_levels(np.array([[0, 256], [32768, 65535]], dtype=np.uint16))
    array([[  0,   1],
           [128, 255]], dtype=uint8)
    >>> to_gray_levels(np.array([[0.0, 0.5], [0.75, 1.0]]), levels=4,
    ...                mask=np.array([[False, True], [True, True]]))
    array([[0, 0],
           [2, 3]], dtype=uint8)
    """
    if mask is not None:
        out = np.zeros(gray.shape, np.uint8)
        out[mask] = to_gray_levels(gray[mask], levels)
        return out
    if is_8bit(gray):
        eight_bit = gray.astype(np.uint8, copy=False)
        if levels is None or levels == 256:
            return eight_bit
        return (eight_bit.astype(np.uint16) * levels // 256).astype(np.uint8)
    n_levels = 256 if levels is None else int(levels)
    if gray.dtype.kind in "ui":
        return _bin_integers(gray, n_levels)
    return _bin_floats(gray, n_levels)


def _bin_integers(gray, n_levels):
    """``floor((value - min) * k / (max - min))``, exactly, in integers."""
    lo, hi = int(gray.min()), int(gray.max())
    span = hi - lo
    if span == 0:
        return np.zeros(gray.shape, np.uint8)
    if span * n_levels < 2**32:  # 16-bit images: 4 bytes per pixel
        work = np.uint32
    elif span * n_levels < 2**64:
        work = np.uint64
    else:  # int64/uint64 ranges beyond 2**56: Python integers, slow but exact
        work = object
    if work is object:
        diff = gray.astype(object) - lo
    else:
        # Modulo 2**bits the difference is exact, because it lies in [0, span].
        diff = gray.astype(work)
        diff -= work(lo % 2 ** (8 * np.dtype(work).itemsize))
    diff *= n_levels
    diff //= span
    np.minimum(diff, n_levels - 1, out=diff)  # the maximum goes to k - 1
    return diff.astype(np.uint8)


def _bin_floats(gray, n_levels):
    """``floor((value - min) / (max - min) * k)`` in float64."""
    scaled = gray.astype(np.float64)
    lo, hi = float(scaled.min()), float(scaled.max())
    if hi == lo:
        return np.zeros(gray.shape, np.uint8)
    span = hi - lo  # Python floats: inf on overflow, without a warning
    if not np.isfinite(span):  # e.g. -1e308 .. 1e308: halve everything (exact)
        scaled *= 0.5
        lo, span = lo * 0.5, hi * 0.5 - lo * 0.5
    scaled -= lo
    scaled /= span
    scaled *= n_levels
    np.floor(scaled, out=scaled)
    np.clip(scaled, 0, n_levels - 1, out=scaled)
    return scaled.astype(np.uint8)
