"""The quantize stage: a gray image becomes non-negative integer levels.

Pixel arithmetic only: no file is read here. The rule depends only on each
image itself (never on the rest of a batch); see :func:`to_gray_levels`.
"""

import math

import numba
import numpy as np

from ..texture.indexing import unsigned

__all__ = ["MAX_BINS", "REGION_DONE", "REGION_LEFT", "RegionCrops", "is_8bit", "quantize",
           "quantize_regions", "region_pass_arrays", "to_gray_levels"]

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
    if values.dtype.kind in "ui" and _integer_width(width):
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
        n_bins = _bins_of_width(low_edge, high + 2 * width, width)
        if MAX_BINS + 1 < n_bins < np.inf:  # far too many: refused before the edges are made
            _check_bins(math.ceil(n_bins), width)
        edges = np.arange(low_edge, high + 2 * width, width)
        if len(edges) == 1:  # a flat image: one bin
            edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
        _check_bins(len(edges) - 1, width)
        work = np.digitize(values, edges) - 1
    return work.astype(np.uint16)


def _integer_width(width):
    """Whether integers are binned by ``width`` in integer arithmetic: a whole number within
    63 bits (a wider one makes at most two bins, through the float edges)."""
    return float(width).is_integer() and width < 2**62


def _bins_of_width(low_edge, stop, width):
    """About the number of bins of the edges ``numpy.arange(low_edge, stop, width)``, counted
    without making them: a narrow bin over a wide range would take terabytes of edges."""
    return (float(stop) - float(low_edge)) / float(width) - 1


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


# -- the quantize stage of many regions of one image, in one compiled pass ---------------------

#: The rules of :func:`quantize_regions`, one per branch of :func:`quantize`.
_BY_LEVELS, _BY_INTEGER_WIDTH, _BY_EDGES = 0, 1, 2
#: What :func:`quantize_regions` says of a region: done, or left to :func:`quantize`.
REGION_DONE, REGION_LEFT = 0, 1


class RegionCrops:
    """Each region's bounding box quantized as :func:`quantize` bins it under its mask.

    What :func:`quantize_regions` returns, for ``n`` regions:

    ``levels`` : ndarray of uint16
        The crops one after the other (C order, each 3-D: a 2-D image is a
        volume of one slice): region ``i``'s crop is
        ``levels[starts[i]:starts[i] + shapes[i].prod()].reshape(shapes[i])``.
        Inside the region a pixel holds its level, outside it the region's
        ``n_levels`` (a level no pixel of the region has, as the co-occurrence
        stage marks a mask's outside).
    ``starts``, ``shapes``, ``n_levels``, ``lowest`` : ndarray of int64
        Shapes (n,), (n, 3), (n,) and (n,).
        ``n_levels[i]`` is the region's highest level plus one (what
        :func:`quantize` gives inside the mask, its maximum plus one),
        ``lowest[i]`` its lowest level.
    ``status`` : ndarray of int8, shape (n,)
        :data:`REGION_DONE`, or :data:`REGION_LEFT` for a region this pass
        leaves to :func:`quantize` on its own: one that :func:`quantize`
        refuses (too many bins of ``bin_width``, bins too narrow for a float
        range) or whose arithmetic needs more than 63 bits; its crop is
        then not written.
    """

    def __init__(self, levels, starts, shapes, n_levels, lowest, status):
        self.levels, self.starts, self.shapes = levels, starts, shapes
        self.n_levels, self.lowest, self.status = n_levels, lowest, status


def quantize_regions(gray, labels, boxes, numbers, settings, out=None):
    """The quantize stage of many regions of one image: :func:`quantize` of each, in one pass.

    Region ``i`` is the pixels of ``labels`` equal to ``numbers[i]`` inside
    the bounding box ``boxes[i]``; its levels are those of
    ``quantize(gray[box], settings, labels[box] == numbers[i])`` inside it,
    bit for bit: the region's own rule (8-bit or not, its minimum and
    maximum, its bins), decided from its own pixels. One compiled call
    (without the GIL) for all the regions, where :func:`quantize` is a few
    numpy calls per region.

    Parameters
    ----------
    gray : ndarray of int or float, shape (height, width) or (depth, height, width)
        The gray image (as read), finite.
    labels : ndarray of int, ``gray``'s shape
        The label image.
    boxes : ndarray of int, shape (n, 2 * gray.ndim)
        Each region's bounding box: its first index along every axis, then
        its end (exclusive), as :func:`skimage.measure.regionprops`'s ``bbox``.
    numbers : ndarray of int, shape (n,)
        Each region's label in ``labels``; every box holds at least one pixel
        of its label.
    settings : TextureSettings
        ``levels``, ``bin_width`` and ``gray_range``.
    out : ndarray of uint16, default=None
        Where to write the crops (at least the boxes' total size; the crops'
        ``levels`` are then its start), rather than a new array.

    Returns
    -------
    crops : RegionCrops

    Examples
    --------
    >>> import numpy as np
    >>> from haralick_learn._settings import TextureSettings
    >>> gray = np.array([[10, 20, 300], [40, 1000, 60]], dtype=np.uint16)
    >>> labels = np.array([[1, 1, 2], [1, 2, 2]])
    >>> crops = quantize_regions(gray, labels, np.array([[0, 0, 2, 2], [0, 1, 2, 3]]),
    ...                          np.array([1, 2]), TextureSettings.from_params(levels=4))
    >>> crops.n_levels  # region 1: 10..40, 8-bit; region 2: 60..1000 onto 4 levels
    array([1, 4])
    >>> crops.levels[:4].reshape(2, 2)  # outside the region: its number of levels
    array([[0, 0],
           [0, 1]], dtype=uint16)
    >>> crops.levels[4:].reshape(2, 2)
    array([[4, 1],
           [3, 0]], dtype=uint16)
    """
    if gray.ndim == 2:  # a volume of one slice: one compiled specialisation for both
        gray, labels = gray[None], labels[None]
        boxes = np.column_stack([np.zeros(len(boxes), np.int64), boxes[:, :2],
                                 np.ones(len(boxes), np.int64), boxes[:, 2:]])
    gray, labels = region_pass_arrays(gray, labels)  # as they come when already converted
    boxes = np.ascontiguousarray(boxes, dtype=np.int64)
    shapes = boxes[:, 3:] - boxes[:, :3]
    sizes = shapes.prod(axis=1)
    starts = np.zeros(len(boxes), np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    numbers = np.asarray(numbers).astype(labels.dtype)
    status = np.zeros(len(boxes), np.int8)
    rule, n_bins, width = _BY_LEVELS, 256 if settings.levels is None else settings.levels, 1
    edges, bounds, shift = np.zeros(1), np.zeros(len(boxes) + 1, np.int64), 0
    shared = False
    if settings.bin_width is not None and gray.dtype.kind in "ui" and _integer_width(
            settings.bin_width):
        rule, width = _BY_INTEGER_WIDTH, int(settings.bin_width)
    elif settings.bin_width is not None or settings.gray_range is not None:
        rule = _BY_EDGES
        edges, bounds, shift, status = _region_edges(gray, labels, boxes, numbers, settings)
        shared = settings.bin_width is None and not isinstance(settings.gray_range, str)
    if out is not None and (out.dtype != np.uint16 or out.ndim != 1 or out.size < sizes.sum()
                            or not out.flags.c_contiguous):
        raise ValueError(f"out must be a contiguous uint16 array of at least {sizes.sum()} "
                         f"elements")
    levels = np.empty(int(sizes.sum()), np.uint16) if out is None else out[:sizes.sum()]
    n_levels = np.zeros(len(boxes), np.int64)
    lowest = np.zeros(len(boxes), np.int64)
    _quantize_crops(gray, labels, boxes, numbers, rule, n_bins, settings.levels is None,
                    width, MAX_BINS, edges, bounds, shared, shift, gray.dtype.kind in "ui",
                    gray.dtype == np.uint8, levels, starts, n_levels, lowest, status)
    return RegionCrops(levels, starts, shapes, n_levels, lowest, status)


def region_pass_arrays(gray, labels):
    """``gray`` and ``labels`` as :func:`quantize_regions` compiles for: a few types, contiguous.

    Each other combination of types and layouts would compile the region pass
    again, for seconds, on its first call. Values are unchanged: integer
    images other than 8-bit and 16-bit become int64 (uint64 stays: its top
    half does not fit), floats keep their type (float32's bins are computed in
    float32), and labels become int32 or int64 (equality between labels is
    all that is read). Arrays already of those types are returned as they
    are, so a caller running many batches over one image converts it once.

    Examples
    --------
    >>> import numpy as np
    >>> gray, labels = region_pass_arrays(np.zeros((2, 2), np.int16), np.ones((2, 2), np.uint8))
    >>> gray.dtype, labels.dtype
    (dtype('int64'), dtype('int32'))
    """
    if not gray.dtype.isnative:  # numba compiles for this machine's byte order only
        gray = gray.astype(gray.dtype.newbyteorder("="))
    if gray.dtype.kind in "iu" and gray.dtype not in (np.uint8, np.uint16, np.uint64):
        gray = gray.astype(np.int64)
    elif gray.dtype == bool:
        gray = gray.view(np.uint8)
    label_type = np.int64 if labels.dtype.itemsize == 8 else np.int32
    if labels.dtype != label_type:  # uint64 labels wrap onto int64 one to one
        labels = labels.astype(label_type)
    return np.ascontiguousarray(gray), np.ascontiguousarray(labels)


def _region_edges(gray, labels, boxes, numbers, settings):
    """The bin edges of each region, as :func:`bin_by_width` / :func:`bin_by_range` make them.

    Returns ``(edges, bounds, shift, status)``: region ``i``'s edges are
    ``edges[bounds[i]:bounds[i + 1]]`` (float64, exact copies), its level the
    number of them at or below a value minus ``shift``; ``status`` marks the
    regions those functions refuse (:data:`REGION_LEFT`).
    """
    n = len(boxes)
    status = np.zeros(n, np.int8)
    if settings.bin_width is None and not isinstance(settings.gray_range, str):
        n_levels = 256 if settings.levels is None else settings.levels
        try:  # one set of edges for every region
            interior = np.histogram_bin_edges(np.empty(0), n_levels,
                                              range=settings.gray_range)[1:-1]
        except ValueError:  # bin_by_range raises it for every region
            return np.zeros(1), np.zeros(n + 1, np.int64), 0, np.full(n, REGION_LEFT, np.int8)
        return interior.astype(np.float64), np.zeros(n + 1, np.int64), 0, status
    lows = np.empty(n, gray.dtype)
    highs = np.empty(n, gray.dtype)
    _region_extremes(gray, labels, boxes, numbers, lows, highs)
    if settings.bin_width is None:
        n_levels = 256 if settings.levels is None else settings.levels
        every = _range_edges(lows, highs, n_levels)
        status[np.any(every[:, :-1] >= every[:, 1:], axis=1)] = REGION_LEFT  # "too many bins"
        interior = every[:, 1:-1].astype(np.float64)
        bounds = np.arange(n + 1, dtype=np.int64) * interior.shape[1]
        return interior.ravel(), bounds, 0, status
    width = settings.bin_width
    parts = []
    for i, (low, high) in enumerate(zip(lows, highs)):  # numpy scalars of gray's dtype
        # bin_by_width's edges, computed by the same expression
        low_edge = low - (low % width)
        if MAX_BINS + 1 < _bins_of_width(low_edge, high + 2 * width, width) < np.inf:
            status[i] = REGION_LEFT  # far too many bins: not made
            parts.append(np.empty(0))
            continue
        edges = np.arange(low_edge, high + 2 * width, width)
        if len(edges) == 1:
            edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
        if len(edges) - 1 > MAX_BINS:
            status[i] = REGION_LEFT
            edges = edges[:0]
        parts.append(edges.astype(np.float64))
    bounds = np.zeros(n + 1, np.int64)
    np.cumsum([len(part) for part in parts], out=bounds[1:])
    return np.concatenate(parts), bounds, 1, status


def _range_edges(lows, highs, n_levels):
    """``numpy.histogram_bin_edges(region, n_levels)`` of every region from its extremes.

    numpy's edges depend on the values' minimum, maximum and dtype only; here
    through one :func:`numpy.linspace` of all the regions' ranges, the same
    operations element by element as one call per region, unless some range
    is so narrow that its step underflows to 0 (numpy then computes every
    row another way): one call per region then.
    """
    firsts, lasts = lows.copy(), highs.copy()
    if lows.dtype.kind in "ui":  # numpy's edges of integers are float64 from the start
        firsts, lasts = firsts.astype(np.float64), lasts.astype(np.float64)
    flat = firsts == lasts
    firsts[flat] -= 0.5
    lasts[flat] += 0.5
    with np.errstate(over="ignore", invalid="ignore"):
        step = (lasts - firsts) / n_levels
    if step.size == 0 or np.any(step == 0):
        if step.size == 0:
            return np.empty((0, n_levels + 1))
        return np.stack([np.histogram_bin_edges(np.array([low, high]), n_levels)
                         for low, high in zip(lows, highs)])
    bin_type = np.result_type(lows.dtype, float) if lows.dtype.kind in "ui" else lows.dtype
    return np.linspace(firsts, lasts, n_levels + 1, dtype=bin_type, axis=1)


@numba.njit(nogil=True, cache=True)
def _region_extremes(gray, labels, boxes, numbers, lows, highs):
    """The minimum and maximum of each region's pixels (boxes and arrays 3-D)."""
    for i in range(numbers.shape[0]):
        lows[i], highs[i] = _extremes(gray, labels, boxes[i], numbers[i])


@numba.njit(nogil=True, cache=True, inline="always")
def _extremes(gray, labels, box, number):
    """The minimum and maximum of the pixels of ``labels == number`` in ``box`` (one inside)."""
    low = high = seed = gray[box[0], box[1], box[2]]
    found = False
    for z in range(box[0], box[3]):
        for y in range(box[1], box[4]):
            marks = labels[unsigned(z), unsigned(y), box[2]:box[5]]
            values = gray[unsigned(z), unsigned(y), box[2]:box[5]]
            if not found:
                for x in range(marks.shape[0]):
                    if marks[x] == number:
                        low = high = seed = values[x]
                        found = True
                        break
            # row slices indexed from 0: no negative-index checks, a loop that vectorizes
            # (against a pixel of the region outside it, not the running extremes: a
            # dependency from pixel to pixel that keeps it from vectorizing)
            for x in range(marks.shape[0]):
                inside = marks[x] == number
                value = values[x]
                low = min(low, value if inside else seed)
                high = max(high, value if inside else seed)
    return low, high


@numba.njit(nogil=True, cache=True)
def _quantize_crops(gray, labels, boxes, numbers, rule, n_bins, keep_8bit, width, max_bins,
                    edges, bounds, shared, shift, integer, eight_bit, out, starts, n_levels,
                    lowest, status):
    """Write each region's crop of levels into ``out`` (see :func:`quantize_regions`).

    The arithmetic of :func:`to_gray_levels`, :func:`bin_by_width` and
    :func:`bin_by_range`, value by value: integers exactly in 64 bits (a
    region needing more is left), floats by the same float64 operations in
    the same order; every rule is monotonic, so a region's highest level is
    that of its maximum.
    """
    for i in range(numbers.shape[0]):
        if status[i] != 0:
            continue
        box = boxes[i]
        number = numbers[i]
        if rule == 0 and eight_bit:
            # uint8: the rule needs no extremes, one pass over the box (its levels' range
            # found as they are written)
            n_levels[i], lowest[i] = _write_8bit(gray, labels, box, number,
                                                 0 if keep_8bit or n_bins == 256 else n_bins,
                                                 out[starts[i]:])
            continue
        low, high = _extremes(gray, labels, box, number)
        # The region's rule: kind 0 levels as they are, 1 on the 8-bit scale, 2 an integer
        # range, 3 a float range, 4 integer bins of `width`, 5 edges.
        kind, k = 0, np.int64(n_bins)
        low_int = span_int = np.int64(0)
        low_float = span_float = 0.0
        if rule == 0:
            if integer and low >= 0 and high <= 255:  # to_gray_levels's 8-bit rule
                kind = 0 if keep_8bit or n_bins == 256 else 1
            elif integer:
                if high > 2**62 or low < -2**62:  # beyond 63-bit arithmetic
                    status[i] = 1
                    continue
                kind, low_int = 2, np.int64(low)
                span_int = np.int64(high) - low_int
                if span_int > (2**63 - 1) // k:
                    status[i] = 1
                    continue
            else:
                kind, low_float = 3, np.float64(low)
                span_float = np.float64(high) - low_float
                if not np.isfinite(span_float):  # to_gray_levels halves such a range
                    status[i] = 1
                    continue
        elif rule == 1:
            if high > 2**62 or low < -2**62:
                status[i] = 1
                continue
            kind = 4
            low_int = np.int64(low) // width  # the first bin: level 0
            if np.int64(high) // width - low_int + 1 > max_bins:  # bin_by_width refuses it
                status[i] = 1
                continue
        else:
            kind = 5
        first, last = bounds[i], bounds[i + 1]
        if shared:  # one set of edges for every region
            first, last = 0, edges.shape[0]
        n_levels[i] = _level(high, kind, k, low_int, span_int, low_float, span_float, width,
                             edges, first, last, shift) + 1
        outside = np.uint16(n_levels[i])
        lowest[i] = _level(low, kind, k, low_int, span_int, low_float, span_float, width, edges,
                           first, last, shift)
        position = starts[i]
        for z in range(box[0], box[3]):
            for y in range(box[1], box[4]):
                marks = labels[unsigned(z), unsigned(y), box[2]:box[5]]
                values = gray[unsigned(z), unsigned(y), box[2]:box[5]]
                crop_row = out[position:position + marks.shape[0]]
                position += marks.shape[0]
                for x in range(marks.shape[0]):
                    if marks[x] == number:
                        crop_row[x] = _level(values[x], kind, k, low_int, span_int, low_float,
                                             span_float, width, edges, first, last, shift)
                    else:
                        crop_row[x] = outside


@numba.njit(nogil=True, cache=True, inline="always")
def _write_8bit(gray, labels, box, number, n_bins, out):
    """The crop of a uint8 region (levels as they are, or ``n_bins`` on the 8-bit scale).

    Returns its number of levels and its lowest level. Pixels outside are first
    marked 65535; the extremes are then found over the whole crop at once and
    the marked pixels given the number of levels (the box is in cache by
    then). The extremes of the crop, one loop over contiguous levels, rather
    than row by row as they are written: a box's rows are short, and each
    row's vectorized reduction and its tail cost as much as the row (0.83x
    the time of this pass on the regions of ``benchmarks/bench_regions.py``).
    """
    marked = np.uint16(65535)
    position = 0
    for z in range(box[0], box[3]):
        for y in range(box[1], box[4]):
            marks = labels[unsigned(z), unsigned(y), box[2]:box[5]]
            values = gray[unsigned(z), unsigned(y), box[2]:box[5]]
            crop_row = out[position:position + marks.shape[0]]
            position += marks.shape[0]
            for x in range(marks.shape[0]):  # branch-free: it vectorizes
                level = np.uint16(values[x])
                if n_bins:  # at most 255 * 256: 16 bits hold it
                    level = np.uint16(level * np.uint16(n_bins) // np.uint16(256))
                crop_row[x] = level if marks[x] == number else marked
    crop = out[:position]
    # marked pixels are above every level: the lowest needs no test
    low, high = marked, np.uint16(0)
    for p in range(position):
        level = crop[p]
        low = min(low, level)
        high = max(high, level if level != marked else np.uint16(0))
    outside = np.uint16(high + 1)
    for p in range(position):
        crop[p] = outside if crop[p] == marked else crop[p]
    return np.int64(high) + 1, np.int64(low)


@numba.njit(nogil=True, cache=True, inline="always")
def _level(value, kind, k, low_int, span_int, low_float, span_float, width, edges, first,
           last, shift):
    """The level of one value under a region's rule (see :func:`_quantize_crops`)."""
    if kind == 0:
        return np.int64(value)
    if kind == 1:
        return np.int64(value) * k // 256
    if kind == 2:
        if span_int == 0:
            return np.int64(0)
        return min((np.int64(value) - low_int) * k // span_int, k - 1)
    if kind == 3:
        if span_float == 0.0:
            return np.int64(0)
        scaled = np.floor((np.float64(value) - low_float) / span_float * k)
        return np.int64(min(max(scaled, 0.0), k - 1.0))
    if kind == 4:
        return np.int64(value) // width - low_int
    # kind 5: the number of edges at or below the value (numpy.searchsorted, side="right")
    target = np.float64(value)
    lo, hi = first, last
    while lo < hi:
        middle = (lo + hi) // 2
        if edges[middle] <= target:
            lo = middle + 1
        else:
            hi = middle
    return np.int64(lo - first - shift)
