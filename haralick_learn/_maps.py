"""Texture maps: the Haralick features of the window around every pixel.

Drives the same stages as :class:`~haralick_learn.HaralickFeaturizer` (read
with ``io.decode.load_image``, quantize with ``preprocess.quantize.to_gray_levels``, the
settings of ``TextureSettings.from_params`` and their feature names), with
the co-occurrence and features stages done per window by the incremental
kernels of ``texture.windowed``, exact against the featurizer on each window's
crop (see :func:`texture_maps`).
"""

import dataclasses
import functools
import threading
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from .preprocess.channels import channel_images
from .io.decode import describe_source, load_color_pixels, load_gray, load_mask
from ._aggregate import aggregate_windows
from .texture.catalogue import (
    EIGENVALUE_FEATURES, GLCMStatistics, centred_moments, eigenvalue_features,
    features_of_statistics,
)
from .texture.counting import max_matrix_pairs
from .texture.windowed import (
    LEVEL_SUMS, N_ACC, N_LEVEL_SUMS, ROW_STATISTICS, WINDOW_STATISTICS, fixed_point_log2,
    fixed_point_tables, map_rows, map_rows_ordered, window_statistics,
)
from ._params import parameter_names
from ._progress import Progress
from .preprocess.quantize import quantize
from ._settings import TextureSettings

__all__ = ["texture_maps"]

#: The featurizer's parameters that make sense per window.
_WINDOW_PARAMS = parameter_names("maps")


def texture_maps(image, window=15, *, mask=None, masked_window=True, step=1, n_jobs=None,
                 verbose=0, **featurizer_params):
    """The texture features of the window around each pixel (or voxel), as an image of features.

    The value at pixel ``(y, x)`` is the row that
    ``HaralickFeaturizer(**featurizer_params)`` computes for the crop of the
    image's levels inside the window around ``(y, x)``, to 1e-9 relative
    (typically 1e-12; near zero, the featurizer's own rounding dominates: see
    the user guide's bounds), for every feature of the catalogue (Haralick's,
    scikit-image's, IBSI's): the kernel keeps each window's co-occurrence
    counts and their sums as the window slides, and the featurizer's own
    formulas turn those sums into features (see Notes). With ``volume=True``
    the windows are cubes of a volume with the 13 3-D directions:
    pyradiomics's voxel-based maps (its ``kernelRadius`` is ``window // 2``).

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image, array-like or dask.array.Array
        One image, as ``HaralickFeaturizer`` reads it: a path, a PIL image, a
        2-D gray array or an RGB(A) array (converted to 8-bit gray exactly as
        the featurizer does); with ``volume`` a 3-D array or a volume file
        (NIfTI, NRRD, multi-page TIFF). A gray Dask array, 2-D or with
        ``volume`` 3-D (a raster or a volume larger than memory, read lazily)
        gives a lazy Dask array of maps, computed tile by tile with an
        overlap of ``window // 2`` pixels and identical to the in-memory
        maps (the levels decided once from the whole image's minimum and
        maximum, computed first); ``step`` must then be 1. Write it with
        ``maps.to_zarr(...)`` (or reduce it) instead of holding it in memory.
    window : int, default=15
        Side of the square (cubic) window, odd, from 3 to 1001.
    mask : array-like of bool or str, default=None
        The region to map (an array of the image's shape, or a mask file):
        only its pixels get values (NaN elsewhere), the levels are binned from
        its pixels, and with ``masked_window`` only the pixel pairs inside it
        count.
    masked_window : bool, default=True
        With a mask, count only the pairs of pixels both inside it in each
        window (pyradiomics's ``maskedKernel=True``). False counts every pair
        of the window and bins the levels over the whole image
        (``maskedKernel=False``).
    step : int, default=1
        Compute every ``step``-th row and column (and slice) only: the
        output's pixel ``(i, j)`` is the image's pixel ``(i * step, j * step)``.
    n_jobs : int or None, default=None
        Threads, each computing one band of rows (``None``: 1; ``-1``: all
        processors). The values do not depend on it.
    verbose : int, default=0
        Above 0, a progress line on standard error: the rows mapped (for a
        Dask array, the tiles, as each computation of the maps goes).
    **featurizer_params
        Every parameter of the featurizer that changes a row and makes sense
        per window (``features``, ``distance``, ``offsets``, ``aggregate``,
        ``levels``, ``bin_width``, ``gray_range``, ``ignore_zeros``,
        ``use_x_minus_y_variance``, ``compute_14th_feature``, ``volume``
        (``True``/``"3d"``: cubic windows; ``"2d"``: square windows in each
        slice), ``symmetric``, ``color``, ``color_pairs``, ``gray_conversion``,
        ``backend`` (``"auto"`` or ``"numba"``)), with the meaning and defaults
        of :class:`~haralick_learn.HaralickFeaturizer`. ``symmetric=False``
        counts each pixel pair once, ``(p, p + offset)``, as the featurizer
        does. With ``color``, each channel is mapped, then with
        ``color_pairs`` each pair ``(a, b)`` from its cross-channel matrices
        (rows: ``a``'s levels, columns: ``b``'s; both pixel orders unless
        ``symmetric=False``), its columns named with both channels in front
        (``RG_contrast_mean_d1``), as the featurizer's.
        Features that need each window's whole matrix (the maximal correlation
        coefficient, IBSI's MCC) are computed from it, for images of at most
        64 levels (bin them with ``levels`` or ``bin_width``), and cost far
        more than the others (an eigenvalue problem per window and direction).

    Returns
    -------
    maps : ndarray of float64, shape (ceil(height / step), ceil(width / step), n_features)
        (a Dask array for a Dask input, chunked like its tiles)
        The features of each window, in the order (and with the names) of
        ``HaralickFeaturizer(**featurizer_params).get_feature_names_out()``.
        NaN where a direction has no pixel pair (aggregates leave such
        directions out; all NaN where the featurizer would raise), and outside
        the mask. A volume's maps have shape ``(depth, height, width,
        n_features)``.

    Raises
    ------
    ValueError, TypeError
        For a parameter out of its range (naming it), an unknown parameter,
        an image that cannot be read (naming it), or a window whose matrix
        may count more than 2**31 - 1 pixel pairs, beyond which its exact
        64-bit sums would wrap around: with ``aggregate="merged"``, a cubic
        window over 435 voxels a side, or a square one with hundreds of
        offsets at a distance.

    Notes
    -----
    **Borders.** Windows are clipped to the image: at pixel ``(y, x)`` the
    window is rows ``max(0, y - r) .. min(height, y + r + 1) - 1`` and the
    same for columns, ``r = window // 2``, so a corner pixel's window is
    ``(r + 1) x (r + 1)``. The output keeps the image's size (with
    ``step=1``) and can be stacked with other per-pixel features.

    **Binning once.** The levels are decided once for the whole image (or
    the mask), as a radiomics user expects: ``bin_width``'s bins from the
    image's (mask's) minimum, ``gray_range``'s bins, and ``levels`` of a
    16-bit or float image from the image's (mask's) range. A window's row
    is then the featurizer's on the crop of those levels, not on the crop
    of the raw image binned on its own. IBSI's normalised inverse
    differences (Idn, Idmn) divide by ``N_g``, the image's (mask's) largest
    level + 1, and a window with one level in a direction has IBSI's MCC 0
    there (its matrix spans the image's levels), as in pyradiomics's
    voxel-based maps; a window's aggregate averages each feature over the
    directions where it is defined (pyradiomics's ``nanmean``).

    **Quantization.** The whole image is quantized once, with the
    featurizer's rule (its quantize stage, ``to_gray_levels``), so
    that every window shares one gray scale: an 8-bit image keeps its levels
    with ``levels=None`` (``value * levels // 256`` otherwise), exactly as the
    featurizer does on each crop. Any other image (16-bit, float) is rescaled
    from the *whole image's* ``[min, max]``, not each window's: its maps equal
    the featurizer's rows on the crops of ``to_gray_levels(gray, levels)``.

    **One catalogue.** Per direction and distance, the kernel keeps the
    window's co-occurrence counts, marginal (a matrix that is not symmetric,
    of ``symmetric=False`` or of a colour pair: its ordered counts and both
    marginals, in a kernel of its own), sum and difference histograms,
    and the integer sums the features are built from (``sum C**2``, the
    moments of the marginal, ``sum i j C``, ``sum D**2``...), plus the
    entropies' sums of ``n log2 n`` and the inverse difference moment's
    ``sum D[k] / (1 + k**2)`` in fixed point (2**-49 for a 15 x 15 window,
    coarser for larger ones), exact as integers. Each window's sums become
    the statistics the featurizer's formulas read (the moments with the same
    bits as the featurizer's), and the featurizer's catalogue of formulas
    gives the features: a feature added to the catalogue is in maps too. A
    window's value depends on its pixels only (bands, steps and threads
    change nothing). ``difference_variance`` follows mahotas: the variance of
    the ``L`` values ``P(|x - y| = k)``, ``L`` the window's maximum level + 1.

    A volume of ``Z x Y x X`` voxels with a mask and ``volume=True`` gives
    pyradiomics's voxel-based GLCM maps (``RadiomicsGLCM(voxelBased=True,
    kernelRadius=window // 2, maskedKernel=masked_window, binWidth=bin_width)``,
    the mean over directions) to 1e-10 relative for its 24 features (tested).

    Examples
    --------
    >>> import numpy as np
    >>> from haralick_learn import HaralickFeaturizer, texture_maps
    >>> volume = np.random.default_rng(1).integers(0, 200, size=(6, 10, 12))
    >>> mask = np.zeros(volume.shape, bool)
    >>> mask[1:5, 2:8, 3:10] = True
    >>> maps = texture_maps(volume, 3, volume=True, mask=mask, features="ibsi",
    ...                     bin_width=25, aggregate="mean")
    >>> maps.shape, bool(np.isnan(maps[0]).all())  # (Z, Y, X, features): NaN off the mask
    ((6, 10, 12, 24), True)
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
    >>> rgb = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
    >>> params = dict(color="rgb", color_pairs=[("R", "G")], symmetric=False, levels=8,
    ...               aggregate="mean")
    >>> maps = texture_maps(rgb, 5, **params)  # R, G, B, then the pair RG
    >>> str(HaralickFeaturizer(**params).get_feature_names_out()[3 * 13 + 1])
    'RG_contrast_mean_d1'
    >>> row = HaralickFeaturizer(**params).transform([rgb[4:9, 6:11]])[0]  # pixel (6, 8)
    >>> bool(np.allclose(maps[6, 8], row, rtol=1e-9, atol=1e-12))
    True
    """
    window, step, n_jobs, settings = _validate(window, step, n_jobs, featurizer_params)
    if isinstance(verbose, bool) or not isinstance(verbose, Integral):
        raise TypeError(f"verbose must be an int, got {verbose!r}")
    if not isinstance(masked_window, (bool, np.bool_)):
        raise TypeError(f"masked_window must be a bool, got {masked_window!r}")
    if _is_dask_array(image):
        return _dask_maps(image, window, step, settings, verbose, mask, masked_window)
    volume = bool(settings.volume)
    shape = np.shape(image) if isinstance(image, (np.ndarray, list, tuple)) else None
    if not volume and shape is not None and not (
            len(shape) == 2 or len(shape) == 3 and 1 <= shape[2] <= 4):
        raise ValueError(f"image: texture maps take one 2-D image (gray, or 1 to 4 channels "
                         f"in its last axis), got an array of shape {shape}; a volume "
                         "takes volume=True (3-D windows) or volume='2d' (each slice)")
    source = describe_source(image, 0)
    if settings.color != "gray":
        return _colour_maps(image, source, window, step, n_jobs, settings, verbose, mask,
                            masked_window)
    gray = load_gray(image, 0, volume=volume, gray_conversion=settings.gray_conversion)
    mask = _checked_mask(mask, gray.shape, source, image)
    levels, n_levels = _quantized_once(gray, settings, mask, masked_window)
    return _map_levels(levels, window, step, n_jobs, settings, verbose, mask=mask,
                       masked_window=masked_window, n_levels=n_levels)


def _checked_mask(mask, shape, source, image):
    if mask is None:
        return None
    mask = load_mask(mask, shape, source, image)
    if not mask.any():
        raise ValueError(f"{source}: its mask selects no pixel")
    return mask


def _colour_maps(image, source, window, step, n_jobs, settings, verbose, mask, masked_window):
    """The maps of each channel of ``settings.color``, then of each pair of
    ``settings.color_pairs``, in the featurizer's column order.

    The channels are binned together, once for the whole image (the
    featurizer's one scale for the channels of a sample), then each is mapped
    as a gray image, and each pair ``(a, b)`` from its cross-channel matrices
    (rows: ``a``'s levels, columns: ``b``'s), whose ``N_g`` is the pair's largest
    level + 1, as the featurizer's matrix of the pair spans both channels' levels.
    """
    if settings.volume:
        raise ValueError("texture maps of a colour image are 2-D: volume must be False")
    channels = channel_images(load_color_pixels(image, 0), settings.color, source)
    mask = _checked_mask(mask, channels[0].shape, source, image)
    stacked = np.stack(channels)
    deciding = mask if mask is not None and masked_window else None
    stacked_mask = None if deciding is None else np.broadcast_to(deciding, stacked.shape)
    levels = dict(zip(settings.channels, quantize(stacked, settings, stacked_mask)))
    per_channel = dataclasses.replace(settings, color="gray", color_pairs=())
    # each channel's counted levels: its N_g (the largest + 1) and whether it is flat
    lowest, highest = {}, {}
    for name, channel in levels.items():
        counted = channel[deciding] if deciding is not None else channel
        lowest[name], highest[name] = int(counted.min(initial=0)), int(counted.max(initial=0))
    maps = [_map_levels(levels[name], window, step, n_jobs, per_channel, verbose, mask=mask,
                        masked_window=masked_window, n_levels=highest[name] + 1)
            for name in settings.channels]
    for a, b in settings.color_pairs:
        low, high = min(lowest[a], lowest[b]), max(highest[a], highest[b])
        maps.append(_map_levels(levels[a], window, step, n_jobs, per_channel, verbose,
                                mask=mask, masked_window=masked_window, n_levels=high + 1,
                                image_flat=low == high, second=levels[b]))
    return np.concatenate(maps, axis=-1)


def _quantized_once(gray, settings, mask, masked_window):
    """The levels of the whole image, decided once (every window shares them), and N_g.

    The featurizer's quantize stage on the whole image: with a mask and
    ``masked_window``, the mask's pixels decide the levels (``bin_width``'s
    bins from its minimum, ``levels`` of a 16-bit or float image from its
    range), as pyradiomics bins a voxel-based map; without (pyradiomics's
    ``maskedKernel=False``), the whole image does. ``N_g``, the number of
    levels of IBSI's normalised features, is the largest level of those
    pixels + 1.
    """
    deciding = mask if mask is not None and masked_window else None
    levels = quantize(gray, settings, deciding)
    counted = levels[deciding] if deciding is not None else levels
    n_levels = int(counted.max(initial=0)) + 1
    return levels, n_levels


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
    n_offsets = len(settings.directions) * len(settings.distances)
    # a symmetric matrix's lower triangle, or every ordered pair (symmetric=False, pairs)
    ordered = not settings.symmetric or bool(settings.color_pairs)
    n_cell_slots = n_levels * n_levels if ordered else n_levels * (n_levels + 1) // 2
    cells = n_bands * n_offsets * n_cell_slots * np.dtype(_CELL_DTYPES[-1]).itemsize
    read += height * width * np.dtype(_LEVEL_DTYPE).itemsize  # the kernel's copy of the levels
    # Each band's windows of one kernel call: their sums, statistics and features
    n_windows = _chunk_rows(n_rows, n_cols) * n_cols
    n_names = len(settings.features)
    sums = n_bands * n_windows * (n_offsets * 8 * (N_ACC + N_LEVEL_SUMS + 40 + 3 * n_names)
                                  + settings.n_features * 8 * 3)
    return maps + read + cells + sums


def _chunk_rows(n_rows, n_cols):
    """Grid rows per kernel call: about 1/_CHUNKS of the rows, at most _WINDOWS_PER_CALL windows."""
    return max(1, min(-(-n_rows // _CHUNKS), _WINDOWS_PER_CALL // n_cols))


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
    if settings.volume == "2.5d":
        raise ValueError("texture maps of a volume take volume=True (cubic windows, the 13 "
                         "3-D directions) or volume='2d' (square windows in each slice); "
                         "'2.5d' merges a whole volume's slices, which a window does not have")
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


def _offsets_and_groups(settings):
    """The offsets a map counts (``(n, 3)``, 2-D ones with ``dz = 0``), the matrix each is
    counted into, the number of matrices per distance, and the directions at each distance.

    Matrix ``d * n_dir + j`` is direction ``j`` at distance ``d`` (``n_dir`` the most
    directions of any distance: pyradiomics's offsets grow with it, and the missing ones
    stay empty, as the featurizer pads them); with ``aggregate="merged"`` the directions
    of distance ``d`` are summed into matrix ``d``.
    """
    per_distance = [settings.offsets_at(d) for d in settings.distances]
    n_dir = max(len(offsets) for offsets in per_distance)
    merged = settings.aggregate == "merged"
    offsets, groups = [], []
    for d, block in enumerate(per_distance):
        for j, offset in enumerate(block):
            offsets.append((0,) * (3 - len(offset)) + tuple(int(c) for c in offset))
            groups.append(d if merged else d * n_dir + j)
    n_groups = len(per_distance) * (1 if merged else n_dir)
    n_directions = tuple(len(block) for block in per_distance)
    return (np.array(offsets, np.int64), np.array(groups, np.int64), n_groups,
            1 if merged else n_dir, n_directions)


class _WindowStatistics:
    """The catalogue's statistics of the windows' matrices, from their sliding sums.

    The attributes that the formulas of :data:`~haralick_learn.texture.catalogue.FEATURES`
    read of a :class:`~haralick_learn.texture.catalogue.GLCMStatistics`, for the
    matrices of many windows (one entry each), computed from the integer and
    fixed-point sums of :func:`~haralick_learn.texture.windowed.map_rows`: the
    moments as the batch's statistics compute them (exact integer sums divided
    once, so the same bits), the entropies from the fixed-point sums of
    ``n log2 n`` (within about 1e-15 of the exactly rounded ones), and
    pyradiomics's entropies without its ``eps`` (which moves a window's
    entropy by less than 1e-13).
    """

    def __init__(self, acc, window_max, level_sums, tables, n_levels, scratch, ordered):
        nlogn, nlogn_scale, inv_scale = tables
        # a symmetric matrix's row statistics are its column's: not computed again
        n_rows = len(WINDOW_STATISTICS) - (0 if ordered else len(ROW_STATISTICS))
        values = scratch.statistics(n_rows, acc.shape[0])
        window_statistics(acc, window_max, nlogn, nlogn_scale, inv_scale, values)
        for name, row in zip(WINDOW_STATISTICS, values):
            setattr(self, name, row)
        self.empty = acc[:, 0] == 0
        if not ordered:
            self.hy, self.uy, self.ey2, self.vy = self.hx, self.ux, self.ex2, self.vx
        self.hxy2 = self.hx + self.hy  # for any matrix; HXY1 too for a symmetric one
        if not ordered:
            self.hxy1 = self.hxy2
        self.n_levels = np.full(acc.shape[0], float(n_levels))
        if level_sums is not None:
            for k, name in enumerate(LEVEL_SUMS):
                setattr(self, name, level_sums[:, k])
            self.sum_moments = (self.cluster_tendency, self.cluster_shade,
                                self.cluster_prominence)
        # pyradiomics's HXY1 is HX + HY for any matrix (its px are the row sums, mahotas's
        # the column sums)
        self.eps_entropies = (self.entropy, self.hx, self.hy, self.hxy2, self.hxy2)
        self.eps_sum_entropy = self.sum_entropy
        self.eps_difference_entropy = self.difference_entropy

    @functools.cached_property
    def centred_moments(self):
        """As :attr:`GLCMStatistics.centred_moments`."""
        return centred_moments(self)


class _Scratch:
    """Arrays of a band's windows reused call after call: allocating and freeing megabytes
    per call of the kernel costs the system's time (the memory is mapped and zeroed anew)
    about as much as the statistics themselves."""

    def __init__(self, n_matrices, n_names):
        self._statistics = np.empty(len(WINDOW_STATISTICS) * n_matrices)
        self._features = np.empty(n_names * n_matrices)

    def statistics(self, n_rows, n_matrices):
        """C-ordered ``(n_rows, n_matrices)``, ``n_rows`` at most ``len(WINDOW_STATISTICS)``."""
        return self._statistics[:n_rows * n_matrices].reshape(n_rows, n_matrices)

    def features(self, n_names, n_matrices):
        """C-ordered ``(n_names, n_matrices)``."""
        return self._features[:n_names * n_matrices].reshape(n_names, n_matrices)


#: pyradiomics's features of entropies with its eps: from the windows' matrices when they
#: are computed anyway (then equal to pyradiomics's bits where HXY and HXY2 meet).
_EPS_ENTROPY_FEATURES = frozenset({"ibsi_Imc1", "ibsi_Imc2", "ibsi_JointEntropy"})
#: The features that read mahotas's HXY1, which a matrix that is not symmetric gets from
#: its marginals at the window's levels when it is written (HX + HY for a symmetric one).
_HXY1_FEATURES = frozenset({"information_measure_of_correlation_1"})
#: The features that need the window's sums over gray levels (LEVEL_SUMS).
_LEVEL_SUM_FEATURES = frozenset({
    "ibsi_ClusterProminence", "ibsi_ClusterShade", "ibsi_ClusterTendency", "ibsi_Id",
    "ibsi_Idmn", "ibsi_Idn", "ibsi_InverseVariance"})
#: The most gray levels of a map whose features need each window's whole matrix.
_MAX_MATRIX_LEVELS = 64
#: Windows written per call of the kernel at most (bounds the sums held at once).
_WINDOWS_PER_CALL = 4096
#: The kernel's types of levels and of co-occurrence counts, whatever the image: the
#: levels of any quantization (at most 65,536), and the counts of a window: 16 bits
#: when they fit (a window of up to 255 x 255 pixels: half the memory of 32 bits, so
#: the counts of 256 levels stay in the CPU's cache as the window slides), else 32 (a
#: 1001 x 1001 window's pairs exceed 16 bits). numba compiles one machine code per type.
_LEVEL_DTYPE = np.uint16
_CELL_DTYPES = (np.uint16, np.int32)


def _map_levels(levels, window, step, n_jobs, settings, verbose=0, mask=None,
                masked_window=True, n_levels=None, image_flat=None, second=None):
    """The maps of quantized levels (2-D, or 3-D with ``settings.volume``).

    ``mask``: only the windows of voxels inside it are computed (NaN elsewhere),
    and with ``masked_window`` only the pairs of voxels both inside it count.
    ``n_levels``: N_g of IBSI's normalised features (default: the maximum level + 1).
    ``second``: another channel's levels, of ``levels``'s shape: the maps of the
    cross-channel matrices, ``levels`` the rows' channel and ``second`` the columns'
    (the featurizer's ``cross_cooccurrence``). ``n_levels`` and ``image_flat`` then
    cover both channels.
    """
    flat = levels.ndim == 2
    # One type of every array the kernel takes (writable, C-ordered, 16-bit levels,
    # 32-bit cells): numba compiles one machine code for all images instead of one per
    # type, each costing seconds on its first call on a machine.
    volume3 = np.require(levels[None] if flat else levels, _LEVEL_DTYPE, ["C", "W"])
    if mask is not None:
        mask3 = np.require(mask[None] if flat else mask, np.bool_, ["C", "W"])
    else:
        mask3 = np.ones((1, 1, 1), np.bool_)
    # Not symmetric: ordered pairs (their own kernel), of one image or of two channels
    ordered = second is not None or not settings.symmetric
    if second is not None:
        second3 = np.require(second[None] if flat else second, _LEVEL_DTYPE, ["C", "W"])
    else:
        second3 = volume3
    depth, height, width = volume3.shape
    r = window // 2
    in_plane = flat or settings.volume == "2d"
    radius = np.array([0 if in_plane else r, r, r], np.int64)
    offsets, groups, n_groups, n_dir, n_directions = _offsets_and_groups(settings)
    if n_levels is None:
        counted = volume3 if mask is None or not masked_window else volume3[mask3]
        n_levels = int(counted.max(initial=0)) + 1
    # The matrices span the image's levels (a tile's too: the same arrays, the same bits)
    n_cells = max(int(volume3.max(initial=0)) + 1, n_levels)
    if second is not None:
        n_cells = max(n_cells, int(second3.max(initial=0)) + 1)
    if image_flat is None:  # whether the image (mask) has one level: MCC's flat region
        counted = volume3[mask3] if mask is not None and masked_window else volume3
        image_flat = int(counted.min(initial=0)) == int(counted.max(initial=0))
    window_voxels = (2 * int(radius[0]) + 1) * window * window
    per_matrix = int(np.bincount(groups).max())  # offsets counted into one matrix
    max_count = 2 * window_voxels * per_matrix  # T of a window, and every count within it
    # Windows of more pairs than int64 sums hold exactly would wrap them around (and the
    # tables below, of max_count entries, take tens of gigabytes): refused before those
    limit = max_matrix_pairs(n_cells)
    if max_count > limit:
        raise ValueError(
            f"window={window}: a window's co-occurrence matrix may count {max_count} pixel "
            f"pairs ({per_matrix} offsets in {window_voxels} pixels), more than the {limit} "
            "whose sums stay exact in 64-bit integers; use a smaller window"
        )
    nlogn, inv, nlogn_scale, inv_scale = fixed_point_tables(max_count, n_cells)
    log2_counts = fixed_point_log2(max_count, nlogn_scale) if ordered else None
    if ordered:  # a cell per ordered pair, counts up to T: 32 bits (the kernel's one type)
        n_cell_slots, cell_dtype = n_cells * n_cells, _CELL_DTYPES[-1]
    else:  # the lower triangle of unordered pairs, each count at most half of T
        n_cell_slots = n_cells * (n_cells + 1) // 2
        cell_dtype = next(dtype for dtype in _CELL_DTYPES
                          if max_count // 2 <= np.iinfo(dtype).max)
    names = settings.features
    # the features a window's sums cannot give: they need its whole matrix
    by_matrix = [name for name in names if name in EIGENVALUE_FEATURES]
    if by_matrix:  # the matrices are there: pyradiomics's own entropies (with its eps) too
        by_matrix = [name for name in names
                     if name in EIGENVALUE_FEATURES or name in _EPS_ENTROPY_FEATURES]
    by_sums = [name for name in names if name not in by_matrix]
    want_level_sums = bool(set(names) & _LEVEL_SUM_FEATURES)
    track_max = "ibsi_MaximumProbability" in names
    want_hxy1 = bool(set(by_sums) & _HXY1_FEATURES)
    want_matrices = bool(by_matrix)
    if want_matrices and n_cells > _MAX_MATRIX_LEVELS:
        raise ValueError(
            f"{by_matrix[0]} needs each window's whole matrix: texture maps compute it for at "
            f"most {_MAX_MATRIX_LEVELS} gray levels, and this image has {n_cells} (bin it with "
            "levels=... or bin_width=...)")
    n_grid_z = -(-depth // step) if not flat else 1
    n_grid_y = -(-height // step)
    n_cols = -(-width // step)
    n_rows = n_grid_z * n_grid_y
    out = np.empty((n_rows, n_cols, settings.n_features))
    n_bands = min(n_rows, max(1, effective_n_jobs(1 if n_jobs is None else n_jobs)))
    bounds = np.linspace(0, n_rows, n_bands + 1).astype(int)
    chunk = 1 if want_matrices else _chunk_rows(n_rows, n_cols)
    progress = Progress(n_rows, enabled=verbose > 0, label="Mapping", unit="rows")
    lock = threading.Lock()
    tables = (nlogn, nlogn_scale, inv_scale)
    options = dict(use_x_minus_y_variance=settings.use_x_minus_y_variance)
    only_mask = mask is not None

    def band(start, stop):
        cells = np.zeros((n_groups, n_cell_slots), cell_dtype)
        rows = min(chunk, stop - start)
        acc = np.zeros((rows, n_cols, n_groups, N_ACC), np.int64)
        window_max = np.zeros((rows, n_cols), np.int64)
        level_sums = np.zeros((rows, n_cols, n_groups, N_LEVEL_SUMS) if want_level_sums
                              else (1, 1, 1, 1))
        matrices = np.zeros((rows, n_cols, n_groups, n_cells, n_cells) if want_matrices
                            else (1, 1, 1, 1, 1), np.int32)
        written = np.zeros((rows, n_cols), np.bool_)
        scratch = _Scratch(rows * n_cols * n_groups, len(names))
        for first in range(start, stop, chunk):
            last = min(stop, first + chunk)
            k = last - first
            if ordered:
                map_rows_ordered(volume3, second3, second is not None and settings.symmetric,
                                 mask3, mask is not None and masked_window, only_mask,
                                 int(first), int(last), n_grid_y, step, radius, offsets, groups,
                                 n_groups, n_cells, n_levels, bool(settings.ignore_zeros), nlogn,
                                 inv, track_max, want_hxy1, log2_counts, want_level_sums,
                                 want_matrices, cells, acc, window_max, level_sums, matrices,
                                 written)
            else:
                map_rows(volume3, mask3, mask is not None and masked_window, only_mask,
                         int(first), int(last), n_grid_y, step, radius, offsets, groups,
                         n_groups, n_cells, n_levels, bool(settings.ignore_zeros), nlogn, inv,
                         track_max, want_level_sums, want_matrices, cells, acc, window_max,
                         level_sums, matrices, written)
            # every window is written without a mask: no selection (copies) then
            keep = slice(None) if not only_mask else written[:k].ravel()
            rows_out = out[first:last].reshape(-1, out.shape[2])
            if only_mask:
                rows_out[~keep] = np.nan
            if not only_mask and _writes_rows_in_place(settings, by_matrix):
                _window_rows(acc[:k].reshape(-1, n_groups, N_ACC), window_max[:k].ravel(),
                             level_sums[:k].reshape(-1, n_groups, N_LEVEL_SUMS)
                             if want_level_sums else None, None, settings, by_sums,
                             by_matrix, tables, n_levels, n_dir, n_directions, options,
                             image_flat, scratch, ordered, out=rows_out)
            elif not only_mask or keep.any():
                rows_out[keep] = _window_rows(
                    acc[:k].reshape(-1, n_groups, N_ACC)[keep],
                    window_max[:k].ravel()[keep],
                    level_sums[:k].reshape(-1, n_groups, N_LEVEL_SUMS)[keep]
                    if want_level_sums else None,
                    matrices[:k].reshape((-1, n_groups, n_cells, n_cells))[keep]
                    if want_matrices else None,
                    settings, by_sums, by_matrix, tables, n_levels, n_dir, n_directions,
                    options, image_flat, scratch, ordered)
            with lock:
                progress.update(last - first)

    if n_bands == 1:
        band(0, n_rows)
    else:
        Parallel(n_jobs=n_bands, prefer="threads")(
            delayed(band)(bounds[k], bounds[k + 1]) for k in range(n_bands)
        )
    progress.close()
    if flat:
        return out
    return out.reshape(n_grid_z, n_grid_y, n_cols, settings.n_features)


def _writes_rows_in_place(settings, by_matrix):
    """Whether a window's output row is its matrices' features as they come (no aggregate,
    no padded directions, no feature from the matrices): then they are written in place."""
    return settings.aggregate is None and settings.offsets != "pyradiomics" and not by_matrix


def _window_rows(acc, window_max, level_sums, matrices, settings, by_sums, by_matrix, tables,
                 n_levels, n_dir, n_directions, options, image_flat, scratch, ordered,
                 out=None):
    """The output rows of windows from their sums: the catalogue's formulas, aggregated.

    ``scratch``: a :class:`_Scratch` for as many matrices; ``ordered``: whether the
    matrices are not symmetric; ``out``: the rows to write (when
    :func:`_writes_rows_in_place`).
    """
    n_windows, n_groups = acc.shape[:2]
    names = settings.features
    if out is not None:
        stats = _WindowStatistics(acc.reshape(-1, N_ACC), np.repeat(window_max, n_groups),
                                  None if level_sums is None
                                  else level_sums.reshape(-1, N_LEVEL_SUMS),
                                  tables, n_levels, scratch, ordered)
        # each feature into a contiguous row, then one transposing copy into the output
        by_feature = scratch.features(len(names), n_windows * n_groups)
        features_of_statistics(stats, names, out=by_feature.T, **options)
        out.reshape(-1, len(names))[:] = by_feature.T
        no_pair = (acc[:, :, 0].reshape(n_windows, -1, n_dir) == 0).all(axis=2).any(axis=1)
        out[no_pair] = np.nan
        return out
    features = np.empty((n_windows * n_groups, len(names)))
    if by_sums:
        stats = _WindowStatistics(acc.reshape(-1, N_ACC), np.repeat(window_max, n_groups),
                                  None if level_sums is None
                                  else level_sums.reshape(-1, N_LEVEL_SUMS),
                                  tables, n_levels, scratch, ordered)
        computed = features_of_statistics(stats, by_sums, **options)
        if len(by_sums) == len(names):
            features = computed
        else:
            features[:, [names.index(n) for n in by_sums]] = computed
    if by_matrix:
        n_cells = matrices.shape[-1]
        cmats = matrices.reshape(-1, n_cells, n_cells)
        # a window's matrix spans the image's levels, as pyradiomics's voxel-based ones: a
        # window with one level has MCC 0 (Q's second eigenvalue) unless the image is flat
        flat_mcc = 1.0 if image_flat else 0.0
        eigen = [name for name in by_matrix if name in EIGENVALUE_FEATURES]
        features[:, [names.index(n) for n in eigen]] = eigenvalue_features(
            cmats, eigen, ignore_zeros=settings.ignore_zeros, flat_mcc=flat_mcc)
        rest = [name for name in by_matrix if name not in EIGENVALUE_FEATURES]
        if rest:  # pyradiomics's entropies, from the matrices' sums
            stats = GLCMStatistics.from_matrices(cmats, settings.ignore_zeros)
            features[:, [names.index(n) for n in rest]] = features_of_statistics(
                stats, rest, **options)
    features = features.reshape(n_windows, -1, n_dir, len(names))
    rows = aggregate_windows(features, settings.aggregate,
                             n_directions if settings.offsets == "pyradiomics" else None)
    # A distance without any pair in any direction: the featurizer raises, the map says NaN
    no_pair = (acc[:, :, 0].reshape(n_windows, -1, n_dir) == 0).all(axis=2).any(axis=1)
    rows[no_pair] = np.nan
    return rows


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


def _dask_maps(image, window, step, settings, verbose=0, mask=None, masked_window=True):
    """Lazy maps of a Dask array (2-D, or 3-D with ``settings.volume``), tile by tile,
    identical to the in-memory maps.

    The levels are decided once for the whole image, as in memory: every rule
    of the quantize stage depends on the image (or mask) only through its
    minimum and maximum, which are computed first; each tile is then
    quantized together with those two values, so that it gets the whole
    image's levels. Each tile is extended by ``window // 2`` pixels of its
    neighbours (``dask.array.overlap.overlap`` with ``boundary="none"``:
    nothing is added at the image's edges, so windows are clipped there as in
    memory), mapped in memory, and trimmed back. A tile's memory is its
    extended pixels plus its maps: ``(tile_h + 2r) * (tile_w + 2r) * (1 + 8 *
    n_features)`` bytes in 2-D.
    """
    import dask.array as da

    ndim = 3 if settings.volume else 2
    if image.ndim != ndim:
        raise ValueError(f"a Dask array is mapped as one {ndim}-D gray image"
                         f"{' (volume)' if ndim == 3 else ''}; got shape {image.shape}")
    if image.dtype.kind not in "uif" or settings.color != "gray":
        colour = f" and color={settings.color!r}" if settings.color != "gray" else ""
        raise ValueError(f"a Dask array must hold gray values (integers or floats); got "
                         f"{image.dtype}{colour}")
    if step != 1:
        raise ValueError(f"a Dask array is mapped with step=1 only, got step={step}")
    r = window // 2
    in_plane = ndim == 2 or settings.volume == "2d"
    radius = [0 if in_plane and axis == 0 and ndim == 3 else r for axis in range(ndim)]
    if mask is not None:
        mask = da.asarray(mask)
        if mask.shape != image.shape:
            raise ValueError(f"the mask's shape {mask.shape} is not the image's {image.shape}")
        if mask.dtype.kind not in "bui":  # as load_mask: a float mask is no region
            raise TypeError(f"a mask must be a boolean (or integer) array, got dtype "
                            f"{mask.dtype}")
        mask = mask.astype(bool)
    if any(min(c) < d or len(set(c[:-1])) > 1
           for c, d in zip(image.chunks, radius) if len(c) > 1):
        # dask's overlap needs tiles at least as deep as the overlap
        image = image.rechunk(tuple(_tile_sizes(sum(c), max(c), d)
                                    for c, d in zip(image.chunks, radius)))
    if mask is not None:
        mask = mask.rechunk(image.chunks)
    deciding = mask if mask is not None and masked_window else None
    counted = image if deciding is None else image[deciding]
    # one pass over the inputs for the extremes and the mask's emptiness (a store is read once)
    try:
        low, high, *selects = da.compute(counted.min(), counted.max(),
                                         *([mask.any()] if mask is not None else []))
    except ValueError as exc:  # the minimum of no pixel: an empty mask
        if deciding is None or "zero-size" not in str(exc):
            raise
        selects = [False]
    if selects and not selects[0]:
        raise ValueError("the mask selects no pixel")
    # A NaN or infinity among the values counted (the whole image without masked_window)
    # gives a NaN minimum or an infinite extreme; left, it would make every level garbage.
    if image.dtype.kind == "f" and not np.isfinite([low, high]).all():
        where = "inside the mask " if deciding is not None else ""
        raise ValueError(f"the image's values {where}must be finite (no NaN or infinity)")
    anchors = np.array([low, high], dtype=image.dtype)
    n_levels = int(quantize(anchors, settings).max()) + 1
    image_flat = bool(low == high)

    def levels_of(block, block_mask=None):
        values = block if block_mask is None else np.where(block_mask, block, anchors[0])
        both = np.concatenate([np.ravel(values), anchors])
        return quantize(both, settings)[:-2].reshape(block.shape)

    # Along an axis of one tile there is no neighbour to overlap (and the image
    # may be thinner than r, which dask's overlap refuses).
    depth = {axis: d if len(c) > 1 else 0
             for axis, (c, d) in enumerate(zip(image.chunks, radius))}
    extended = da.overlap.overlap(image, depth=depth, boundary="none")
    extended_mask = (None if mask is None
                     else da.overlap.overlap(mask, depth=depth, boundary="none"))
    n_blocks = image.numblocks
    progress = _TileProgress(int(np.prod(n_blocks)), enabled=verbose > 0)

    def tile(block, block_mask=None, block_info=None):
        location = block_info[0]["chunk-location"]
        levels = levels_of(block, None if deciding is None else block_mask)
        maps = _map_levels(levels, window, 1, None, settings, mask=block_mask,
                           masked_window=masked_window, n_levels=n_levels,
                           image_flat=image_flat)
        progress.update()
        keep = tuple(slice(depth[axis] if location[axis] > 0 else 0,
                           maps.shape[axis] - (depth[axis] if location[axis] < n_blocks[axis] - 1
                                               else 0))
                     for axis in range(ndim))
        return maps[keep]

    blocks = (extended,) if mask is None else (extended, extended_mask)
    return da.map_blocks(tile, *blocks, new_axis=ndim, dtype=np.float64,
                         chunks=image.chunks + ((settings.n_features,),))
