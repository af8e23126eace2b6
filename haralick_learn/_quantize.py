"""The quantize stage: a gray image becomes non-negative integer levels.

Pixel arithmetic only: no file is read here. The rule depends only on each
image itself (never on the rest of a batch); see :func:`to_gray_levels`.
"""

import numba
import numpy as np

__all__ = ["MAX_BINS", "is_8bit", "quantize", "to_gray_levels"]

#: Most levels ``bin_width`` may produce (a co-occurrence matrix has their square of cells).
MAX_BINS = 1024


def is_8bit(array):
    """uint8, or integers that all lie within 0..255."""
    if array.dtype == np.uint8:
        return True
    return bool(
        array.dtype.kind in "ui" and array.size and array.min() >= 0 and array.max() <= 255
    )


def quantize(gray, settings, mask=None):
    """The quantize stage, driven by the settings' ``levels``, ``bin_width`` and ``gray_range``.

    * ``bin_width`` (pyradiomics's ``binWidth``): see :func:`bin_by_width`;
    * ``gray_range`` (``"image"`` or ``(low, high)``) with ``levels=k`` (256 when None):
      see :func:`bin_by_range`;
    * otherwise :func:`to_gray_levels` (the default rule).

    With a ``mask`` only the pixels inside it decide the levels (pyradiomics's
    rule); the pixels outside are not counted by the next stage, so their
    levels do not matter.
    """
    if mask is not None and (settings.bin_width is not None or settings.gray_range is not None):
        # Outside pixels take an inside value: the image's minimum and maximum
        # are then the mask's, and every level lies in the mask's range.
        gray = np.where(mask, gray, gray[mask].flat[0])
    elif mask is not None:
        return to_gray_levels(gray, settings.levels, mask)
    if settings.bin_width is not None:
        return bin_by_width(gray, settings.bin_width)
    if settings.gray_range is not None:
        return bin_by_range(gray, 256 if settings.levels is None else settings.levels,
                            settings.gray_range)
    return to_gray_levels(gray, settings.levels)


def bin_by_width(gray, width):
    """pyradiomics's fixed bin width: ``level = floor(x / W) - floor(min / W)``.

    The bins are ``[k W, (k + 1) W)``, equally spaced from 0, half-open (a value
    on an edge goes to the upper bin), and level 0 is the bin of the image's
    minimum: pyradiomics's ``binWidth`` bin number minus 1 (its bins count from 1).
    Integer images with an integer width are binned exactly in integers; any
    other image through pyradiomics's own edges (``numpy.arange(low, max + 2W,
    W)`` from ``low = min - min % W``, then ``numpy.digitize``), so that the
    float rounding of the edges is the same.

    Examples
    --------
    >>> import numpy as np
    >>> bin_by_width(np.array([[54, 74], [75, 166]]), 25)
    array([[0, 0],
           [1, 4]], dtype=uint16)
    >>> bin_by_width(np.array([[0.5, 1.0], [1.49, 2.0]]), 0.5)
    array([[0, 1],
           [1, 3]], dtype=uint16)
    """
    values = np.asarray(gray)
    if values.dtype == bool:
        values = values.astype(np.uint8)
    low, high = values.min(), values.max()
    if values.dtype.kind in "ui" and float(width).is_integer():
        width = int(width)
        lo_bin, hi_bin = int(low) // width, int(high) // width
        n_bins = hi_bin - lo_bin + 1
        _check_bins(n_bins, width)
        if int(high) - int(low) < 2**16:  # a table over the image's values, one lookup a pixel
            table = (np.arange(int(low), int(high) + 1) // width - lo_bin).astype(np.uint16)
            flat = np.ascontiguousarray(values).reshape(-1)
            out = np.empty(flat.shape, np.uint16)
            _lookup(flat, np.int64(low), table, out)
            return out.reshape(values.shape)
        work = values.astype(np.int64) // width
        work -= lo_bin
    else:
        low_edge = low - (low % width)
        edges = np.arange(low_edge, high + 2 * width, width)
        if len(edges) == 1:  # a flat image: one bin
            edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
        _check_bins(len(edges) - 1, width)
        work = np.digitize(values, edges) - 1
    return work.astype(np.uint16)


def _check_bins(n_bins, width):
    if n_bins > MAX_BINS:
        raise ValueError(f"bin_width={width} makes {n_bins} levels, more than {MAX_BINS}: "
                         "use a wider bin")


def bin_by_range(gray, n_levels, gray_range):
    """``n_levels`` equal bins over a range: the image's own (``"image"``) or a fixed one.

    The edges are numpy's (``numpy.histogram_bin_edges``); a value ``x`` goes to
    the number of interior edges ``<= x``, so the top of the range falls in the
    last bin, values below the range in level 0 and above it in the last
    level. With ``"image"`` this is pyradiomics's ``binCount`` (its bin number
    minus 1), a flat image going to the middle bin as numpy's histogram puts it;
    with ``(low, high)`` a level means the same intensities in every image.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.array([[0, 100], [200, 255]], dtype=np.uint8)
    >>> bin_by_range(image, 4, (0, 256))
    array([[0, 1],
           [3, 3]], dtype=uint8)
    >>> bin_by_range(image, 4, "image")
    array([[0, 1],
           [3, 3]], dtype=uint8)
    >>> bin_by_range(image // 2 + 50, 4, (0, 256))   # 50..177 in a fixed range
    array([[0, 1],
           [2, 2]], dtype=uint8)
    """
    values = np.asarray(gray)
    if values.dtype == bool:
        values = values.astype(np.uint8)
    if isinstance(gray_range, str):
        edges = np.histogram_bin_edges(values, n_levels)
    else:
        edges = np.histogram_bin_edges(np.empty(0), n_levels, range=gray_range)
    interior = edges[1:-1]
    if values.dtype.kind in "ui":
        low, high = int(values.min()), int(values.max())
        if high - low < 2**16:  # a table over the image's values: exact, one lookup a pixel
            table = np.searchsorted(interior, np.arange(low, high + 1), side="right")
            flat = np.ascontiguousarray(values).reshape(-1)
            out = np.empty(flat.shape, np.uint8)
            _lookup(flat, np.int64(low), table.astype(np.uint8), out)
            return out.reshape(values.shape)
    return np.searchsorted(interior, values, side="right").astype(np.uint8)


@numba.njit(nogil=True, cache=True)
def _lookup(values, low, table, out):
    """``out[i] = table[values[i] - low]``, one pass, no index array."""
    for i in range(values.shape[0]):
        out[i] = table[np.int64(values[i]) - low]


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
