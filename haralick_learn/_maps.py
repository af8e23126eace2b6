"""Texture maps: the Haralick features of the window around every pixel.

Drives the same stages as :class:`~haralick_learn.HaralickFeaturizer` (read
with ``_io.load_image``, quantize with ``_quantize.to_gray_levels``, the
settings of ``TextureSettings.from_params`` and their feature names), with
the co-occurrence and features stages done per window by the incremental
kernels of ``_maps_kernels``, exact against the featurizer on each window's
crop (see :func:`texture_maps`).
"""

import threading
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from ._io import load_gray
from ._maps_kernels import fixed_point_tables, map_rows
from ._params import parameter_names
from ._progress import Progress
from ._quantize import to_gray_levels
from ._settings import TextureSettings

__all__ = ["texture_maps"]

_AGGREGATE_CODES = {None: 0, "mean": 1, "mean_ptp": 2}
#: The featurizer's parameters that make sense per window.
_WINDOW_PARAMS = parameter_names("maps")


def texture_maps(image, window=15, *, step=1, n_jobs=None, verbose=0, **featurizer_params):
    """Haralick features of the window around each pixel, as an image of features.

    The value at pixel ``(y, x)`` is the row that
    ``HaralickFeaturizer(**featurizer_params)`` computes for the crop of the
    image inside the window around ``(y, x)``, to 1e-9 relative (typically
    1e-12; near zero, the featurizer's own rounding dominates: see the user
    guide's bounds): the kernel updates exact integer counts and sums as the
    window slides instead of recounting each window (see Notes).

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image, array-like or dask.array.Array
        One image, as ``HaralickFeaturizer`` reads it: a path, a PIL image, a
        2-D gray array or an RGB(A) array (converted to 8-bit gray exactly as
        the featurizer does). A 2-D uint8 Dask array (a raster larger than
        memory, read lazily) gives a lazy Dask array of maps, computed tile
        by tile with an overlap of ``window // 2`` pixels and identical to the
        in-memory maps; ``step`` must then be 1. Write it with
        ``maps.to_zarr(...)`` (or reduce it) instead of holding it in memory.
    window : int, default=15
        Side of the square window, odd, from 3 to 1001.
    step : int, default=1
        Compute every ``step``-th row and column only: the output's pixel
        ``(i, j)`` is the image's pixel ``(i * step, j * step)``.
    n_jobs : int or None, default=None
        Threads, each computing one band of rows (``None``: 1; ``-1``: all
        processors). The values do not depend on it.
    verbose : int, default=0
        Above 0, a progress line on standard error: the rows mapped (for a
        Dask array, the tiles, as each computation of the maps goes).
    **featurizer_params
        ``distance``, ``aggregate``, ``ignore_zeros``,
        ``use_x_minus_y_variance``, ``levels`` and ``backend`` (``"auto"`` or
        ``"numba"``), with the meaning and defaults of
        :class:`~haralick_learn.HaralickFeaturizer`. ``compute_14th_feature``
        must stay False: the maximal correlation coefficient needs an
        eigen-decomposition per window.

    Returns
    -------
    maps : ndarray of float64, shape (ceil(height / step), ceil(width / step), n_features)
        (a Dask array for a Dask input, chunked like its tiles)
        The features of each window, in the order (and with the names) of
        ``HaralickFeaturizer(**featurizer_params).get_feature_names_out()``.
        NaN where a direction has no pixel pair (aggregates leave such
        directions out; all NaN where the featurizer would raise).

    Raises
    ------
    ValueError, TypeError
        For a parameter out of its range (naming it), an unknown parameter,
        or an image that cannot be read (naming it).

    Notes
    -----
    **Borders.** Windows are clipped to the image: at pixel ``(y, x)`` the
    window is rows ``max(0, y - r) .. min(height, y + r + 1) - 1`` and the
    same for columns, ``r = window // 2``, so a corner pixel's window is
    ``(r + 1) x (r + 1)``. The output keeps the image's size (with
    ``step=1``) and can be stacked with other per-pixel features.

    **Quantization.** The whole image is quantized once, with the
    featurizer's rule (its quantize stage, ``to_gray_levels``), so
    that every window shares one gray scale: an 8-bit image keeps its levels
    with ``levels=None`` (``value * levels // 256`` otherwise), exactly as the
    featurizer does on each crop. Any other image (16-bit, float) is rescaled
    from the *whole image's* ``[min, max]``, not each window's: its maps equal
    the featurizer's rows on the crops of ``to_gray_levels(gray, levels)``.

    **Exactness.** Per direction and distance, the kernel keeps the window's
    co-occurrence counts, marginal, sum and difference histograms, and the
    integer sums the features are built from (``sum C**2``, the moments of the
    marginal, ``sum i j C``, ``sum D**2``...), plus the entropies' sums of
    ``n log2 n`` and the inverse difference moment's ``sum D[k] / (1 + k**2)``
    in fixed point (2**-49 for a 15 x 15 window, coarser for larger ones),
    exact as integers. A window's value thus
    depends on its pixels only (bands and steps change nothing), and the
    variances, correlation and information measures are computed without the
    cancellations of the float formulas: where the featurizer's own rounding
    is large (a near-constant window), the map is the more accurate of the
    two. ``difference_variance`` follows mahotas: the variance of the ``L``
    values ``P(|x - y| = k)``, ``L`` the window's maximum level + 1.

    Examples
    --------
    >>> import numpy as np
    >>> from haralick_learn import HaralickFeaturizer, texture_maps
    >>> rng = np.random.default_rng(0)
    >>> image = rng.integers(0, 8, size=(20, 30), dtype=np.uint8)
    >>> maps = texture_maps(image, window=7, aggregate="mean")
    >>> maps.shape
    (20, 30, 13)
    >>> crop = image[10 - 3:10 + 4, 0:0 + 4]  # pixel (10, 0): window clipped at the left
    >>> row = HaralickFeaturizer(aggregate="mean").transform([crop])[0]
    >>> bool(np.allclose(maps[10, 0], row, rtol=1e-12, atol=0))
    True
    >>> texture_maps(image, window=7, step=4).shape  # pixels (0, 0), (0, 4), ... (16, 28)
    (5, 8, 52)
    >>> names = HaralickFeaturizer(aggregate="mean").get_feature_names_out()
    >>> str(names[1])
    'contrast_mean_d1'
    """
    window, step, n_jobs, settings = _validate(window, step, n_jobs, featurizer_params)
    if isinstance(verbose, bool) or not isinstance(verbose, Integral):
        raise TypeError(f"verbose must be an int, got {verbose!r}")
    if _is_dask_array(image):
        return _dask_maps(image, window, step, settings, verbose)
    shape = np.shape(image) if isinstance(image, (np.ndarray, list, tuple)) else None
    if shape is not None and not (len(shape) == 2 or len(shape) == 3 and 1 <= shape[2] <= 4):
        raise ValueError(f"image: texture maps take one 2-D image (gray, or 1 to 4 channels "
                         f"in its last axis), got an array of shape {shape}; map a stack or "
                         "a volume one 2-D image at a time")
    gray = load_gray(image, 0, gray_conversion=settings.gray_conversion)
    levels = np.ascontiguousarray(to_gray_levels(gray, settings.levels), dtype=np.uint8)
    return _map_levels(levels, window, step, n_jobs, settings, verbose)


#: Bytes a pixel of the image takes while it is read and quantized, at most: the decoded
#: pixels (4 for 8-bit RGB in Pillow), and for 16-bit or float images their float64
#: rescaling's temporaries (two of 8 bytes), the gray image and its uint8 levels.
_READ_BYTES_PER_PIXEL = 32


def texture_maps_memory(shape, window=15, *, step=1, n_jobs=None, **featurizer_params):
    """Bytes of memory :func:`texture_maps` needs for an in-memory image of ``shape``.

    An estimate made before reading the image, with the arguments of
    ``texture_maps``: the maps (float64, ``ceil(height / step) *
    ceil(width / step) * n_features * 8`` bytes, nearly all of it for a
    photograph), the image while it is read and quantized (at most 32 bytes
    a pixel), and each thread's co-occurrence matrices. It bounds what
    ``texture_maps`` allocates (tested); a Dask input is mapped tile by tile
    instead, in memory independent of the image's size.

    Parameters
    ----------
    shape : tuple of int
        ``(height, width)`` of the image (a colour image's channels, after
        them, are ignored).
    window, step, n_jobs, **featurizer_params
        As for :func:`texture_maps`, and checked as it checks them.

    Returns
    -------
    n_bytes : int

    Examples
    --------
    >>> n_bytes = texture_maps_memory((1944, 2592), window=15)  # a 5 MP photograph
    >>> round(n_bytes / 1e9, 1)  # 52 float64 maps: 2.1 GB
    2.3
    >>> round(texture_maps_memory((1944, 2592), aggregate="mean") / 1e9, 1)  # 13 maps
    0.7
    """
    window, step, n_jobs, settings = _validate(window, step, n_jobs, featurizer_params)
    height, width = (int(side) for side in shape[:2])
    n_rows, n_cols = -(-height // step), -(-width // step)
    maps = n_rows * n_cols * settings.n_features * 8
    read = height * width * _READ_BYTES_PER_PIXEL
    n_bands = min(n_rows, max(1, effective_n_jobs(1 if n_jobs is None else n_jobs)))
    n_levels = settings.levels or 256
    cell_bytes = 2 if window * window < 2**16 else 4
    n_offsets = len(settings.directions) * len(settings.distances)
    cells = n_bands * n_offsets * n_levels * n_levels * cell_bytes
    return maps + read + cells


def _validate(window, step, n_jobs, featurizer_params):
    unknown = sorted(set(featurizer_params) - set(_WINDOW_PARAMS))
    if unknown:
        raise TypeError(
            f"texture_maps got unexpected parameters {unknown}; it takes window, step, "
            f"n_jobs, verbose and the featurizer's {', '.join(_WINDOW_PARAMS)}"
        )
    if isinstance(window, bool) or not isinstance(window, Integral) or not (
        3 <= window <= 1001 and window % 2 == 1
    ):
        raise ValueError(f"window must be an odd int from 3 to 1001, got {window!r}")
    if isinstance(step, bool) or not isinstance(step, Integral) or step < 1:
        raise ValueError(f"step must be a positive int, got {step!r}")
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral)
                               or n_jobs == 0):
        raise ValueError(f"n_jobs must be None or a non-zero int, got {n_jobs!r}")
    settings = TextureSettings.from_params(**featurizer_params)
    if settings.aggregate not in _AGGREGATE_CODES:
        raise ValueError(
            f"texture maps aggregate with None, 'mean' or 'mean_ptp'; got {settings.aggregate!r}"
        )
    if settings.compute_14th_feature:
        raise ValueError(
            "compute_14th_feature=True is not available in texture maps: the maximal "
            "correlation coefficient needs an eigen-decomposition per window"
        )
    if settings.backend != "numba":
        raise ValueError(
            f"texture maps are computed by their own compiled kernel: backend must be 'auto' "
            f"or 'numba', got {settings.backend!r}"
        )
    too_far = [d for d in settings.distances if d >= window]
    if too_far:
        raise ValueError(
            f"distance {too_far[0]} >= window {window}: no window would have a pixel pair"
        )
    return int(window), int(step), n_jobs, settings


#: Rows of a band are mapped in about this many calls of the kernel, so that the progress
#: line moves while a band runs; every row starts from an empty window, so chunks change
#: no value.
_CHUNKS = 100


def _map_levels(levels, window, step, n_jobs, settings, verbose=0):
    """The maps of a quantized image (uint8 levels); ``verbose > 0``: a progress line."""
    height, width = levels.shape
    units = np.array([offset for _, offset in settings.directions], dtype=np.int64)
    offsets = np.concatenate([d * units for d in settings.distances]).astype(np.int64)
    n_levels = int(levels.max()) + 1
    max_count = 2 * window * window  # T of a window, and every count within it
    nlogn, inv, nlogn_scale, inv_scale = fixed_point_tables(max_count, n_levels)
    # Each cell counts the unordered pairs of its two levels, at most window**2:
    # 16 bits halve the cache footprint of the 256 x 256 matrices up to 255 x 255.
    cell_dtype = np.uint16 if window * window < 2**16 else np.int32
    n_rows = -(-height // step)
    n_cols = -(-width // step)
    out = np.empty((n_rows, n_cols, settings.n_features))
    n_bands = min(n_rows, max(1, effective_n_jobs(1 if n_jobs is None else n_jobs)))
    bounds = np.linspace(0, n_rows, n_bands + 1).astype(int)
    chunk = max(1, -(-n_rows // _CHUNKS))
    progress = Progress(n_rows, enabled=verbose > 0, label="Mapping", unit="rows")
    lock = threading.Lock()

    def band(start, stop):
        cells = np.zeros((len(offsets), n_levels * n_levels), cell_dtype)
        for first in range(start, stop, chunk):
            last = min(stop, first + chunk)
            map_rows(levels, first, last, step, window // 2, offsets, len(settings.distances),
                     n_levels, _AGGREGATE_CODES[settings.aggregate], settings.ignore_zeros,
                     settings.use_x_minus_y_variance, nlogn, inv, nlogn_scale, inv_scale,
                     cells, out[first:last])
            with lock:
                progress.update(last - first)

    if n_bands == 1:
        band(0, n_rows)
    else:
        Parallel(n_jobs=n_bands, prefer="threads")(
            delayed(band)(bounds[k], bounds[k + 1]) for k in range(n_bands)
        )
    progress.close()
    return out


def _is_dask_array(image):
    return type(image).__module__.split(".")[0] == "dask" and hasattr(image, "chunks")


def _tile_sizes(length, size, depth):
    """Regular tiles along ``length``: the smallest size from ``max(size, depth)`` whose
    last, shorter tile (if any) is at least ``depth`` long; one tile if that size holds
    the whole length."""
    size = max(size, depth)
    if length <= size:
        return (length,)
    while length % size and length % size < depth:
        size += 1
    return (size,) * (length // size) + ((length % size,) if length % size else ())


class _TileProgress:
    """A progress line over the tiles of a lazy map, one per computation of it.

    The tiles run in the scheduler's threads, each counted once done; a
    count that reached the number of tiles starts a new line (the maps
    computed again).
    """

    def __init__(self, n_tiles, enabled):
        self.n_tiles = n_tiles
        self.enabled = enabled
        self.lock = threading.Lock()
        self.progress = None

    def update(self):
        if not self.enabled:
            return
        with self.lock:
            if self.progress is None or self.progress.done >= self.n_tiles:
                self.progress = Progress(self.n_tiles, enabled=True, label="Mapping",
                                         unit="tiles")
            self.progress.update()
            if self.progress.done == self.n_tiles:
                self.progress.close()


def _dask_maps(image, window, step, settings, verbose=0):
    """Lazy maps of a 2-D uint8 Dask array, tile by tile, identical to the in-memory maps.

    Each tile is extended by ``window // 2`` pixels of its neighbours
    (``dask.array.overlap.overlap`` with ``boundary="none"``: nothing is added
    at the image's edges, so windows are clipped there as in memory), mapped
    in memory, and trimmed back. A tile's memory is its extended pixels plus
    its maps: ``(tile_h + 2r) * (tile_w + 2r) * (1 + 8 * n_features)`` bytes.
    """
    import dask.array as da

    if image.ndim != 2 or image.dtype != np.uint8:
        raise ValueError(
            "a Dask array must be 2-D 8-bit gray (uint8) so that its tiles share one gray "
            f"scale; got shape {image.shape} and dtype {image.dtype}"
        )
    if step != 1:
        raise ValueError(f"a Dask array is mapped with step=1 only, got step={step}")
    r = window // 2
    if any(min(c) < r or len(set(c[:-1])) > 1 for c in image.chunks if len(c) > 1):
        # dask's overlap needs tiles at least as deep as the overlap
        image = image.rechunk(tuple(_tile_sizes(sum(c), max(c), r) for c in image.chunks))
    # Along an axis of one tile there is no neighbour to overlap (and the image
    # may be thinner than r, which dask's overlap refuses).
    depth = {axis: r if len(c) > 1 else 0 for axis, c in enumerate(image.chunks)}
    extended = da.overlap.overlap(image, depth=depth, boundary="none")
    n_blocks = image.numblocks
    progress = _TileProgress(n_blocks[0] * n_blocks[1], enabled=verbose > 0)

    def tile(block, block_info=None):
        i, j = block_info[0]["chunk-location"]
        levels = np.ascontiguousarray(to_gray_levels(block, settings.levels), dtype=np.uint8)
        maps = _map_levels(levels, window, 1, None, settings)
        progress.update()
        top = r if i > 0 else 0
        left = r if j > 0 else 0
        bottom = maps.shape[0] - (r if i < n_blocks[0] - 1 else 0)
        right = maps.shape[1] - (r if j < n_blocks[1] - 1 else 0)
        return maps[top:bottom, left:right]

    return extended.map_blocks(tile, new_axis=2, dtype=np.float64,
                               chunks=image.chunks + ((settings.n_features,),))
