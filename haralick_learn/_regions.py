"""Region tables: one row of Haralick features per label of a label image.

The third way of driving the path of stages (after the featurizer's whole
images): the image is read and turned gray once, then each label's bounding
box (found for all labels in one compiled pass, :func:`label_boxes`)
goes through the same quantize -> co-occurrence -> features -> aggregate
stages as a masked sample, with the label's pixels as its mask. Gray
settings go through them a batch of regions at a time, in one compiled pass
each (:func:`~haralick_learn._pipeline.rows_from_labels`); the others, and
the regions that pass leaves, region by region
(:func:`~haralick_learn._pipeline.rows_from_gray`; colour:
:func:`~haralick_learn._pipeline.row_from_channel_images` on the crops of the
channel images, converted once). The work per region scales with its bounding
box, and only one batch's matrices exist at a time (per worker: batches of
regions run in parallel with ``n_jobs``). Inputs larger than memory take the
same stages tile by tile (:mod:`haralick_learn._region_tiles`), each batch of
regions through :func:`region_rows` on the crop that holds it.
"""

import os

import numba
import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from .preprocess.channels import channel_images
from .preprocess.quantize import region_pass_arrays
from .texture.catalogue import statistics_suffice
from .texture.indexing import unsigned
from .io.chunked import is_chunked
from .io.decode import describe_source, load_color_pixels, load_gray
from ._buffers import kept_array
from ._params import parameter_names
from ._pipeline import (
    covers_regions, row_from_channel_images, rows_from_gray, rows_from_labels,
)
from ._progress import Progress
from ._settings import TextureSettings

__all__ = ["label_boxes", "present_labels", "region_box_names", "region_columns",
           "region_features", "region_rows"]

#: Regions whose features are computed in one pass when their sums hold arrays by level (those
#: of 256 regions hold about 15 MB).
_BATCH = 256
#: The same when each matrix's statistics are taken as it is counted (a few numbers per matrix).
_STATISTICS_BATCH = 4096
#: The most pixels of the regions' boxes in one pass (their levels take 2 bytes each), but
#: always one region.
_BATCH_PIXELS = 1 << 24


def region_params():
    """The names of the parameters that change a region's row, in the table's order.

    The parameter table's (:func:`haralick_learn._params.parameter_names`):
    a parameter added there reaches region tables with nothing listed here.

    Examples
    --------
    >>> names = region_params()
    >>> "features" in names and "bin_width" in names and "memory" not in names
    True
    """
    return parameter_names("regions")


#: The featurizer's parameters that do not change a row, and why a region table has none.
_NOT_FOR_REGIONS = {
    "memory": "the featurizer's cache keeps the rows of whole samples, and a region table "
              "reads its image once and computes each region once (save the table instead)",
    "image_shape": "labels give the image's shape",
}


def region_features(image, labels, *, on_error="raise", n_jobs=None, verbose=0,
                    tile_shape=None, **featurizer_params):
    """Haralick features of each labelled region of an image: one table row per label.

    In the style of :func:`skimage.measure.regionprops_table`: each non-zero
    label of ``labels`` is a region, and its row equals
    ``HaralickFeaturizer(**featurizer_params).transform([(image, labels == label)])``,
    the image featurized with that region as its mask: only pixel pairs whose
    two pixels both lie in the region are counted, and the gray levels are
    quantized from the region's own pixels (``levels`` of a 16-bit or float
    image from the region's minimum and maximum, ``bin_width``'s bins from
    the region's minimum, ``gray_range="image"`` over the region's range, as
    pyradiomics does with a mask). With a colour space (``color``) every
    channel and channel pair is counted inside the region, the channels
    binned together from the region's pixels.

    Images and label images larger than memory are read tile by tile: a
    path to a Zarr store, an OME-Zarr image (its full-resolution level) or an
    OME-TIFF file (``.ome.tif``, through tifffile's Zarr store), a Zarr array
    or a Dask array, for either input. A first pass over the label tiles
    finds each label's bounding box and pixel count (exact integers, merged
    across tiles); then each region is cut from the image by its bounding
    box, reading only the chunks that hold it, and computed once, even when
    it crosses tile borders. Memory follows the tile size and the largest
    region, not the image, and the rows are those of the in-memory table,
    bit for bit. An image read so is gray (any numeric dtype; 8-bit RGB is
    turned gray box by box, as in memory); ``color`` needs the image in
    memory (the labels may still be on disk).

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image, array-like, zarr.Array or dask.array.Array
        The image (as :class:`HaralickFeaturizer` reads it), or with
        ``volume=True`` the volume; or a Zarr store, OME-Zarr image or
        OME-TIFF file (path), a Zarr array or a Dask array, read tile by
        tile. OME metadata drops a time or channel axis of length 1 and a
        single z plane, and moves channels last.
    labels : array-like of int, zarr.Array, dask.array.Array or str
        Label image of the gray image's shape (2-D or 3-D): 0 is background,
        each positive integer a region (as made by :func:`skimage.measure.label`,
        :func:`skimage.segmentation.slic` or
        :func:`skimage.segmentation.watershed`); negative ids are refused.
        Ids are names, not counts: any size of id costs the same (the work
        follows the pixels and regions, not the largest id). Also a Zarr
        store, OME-Zarr image (an image's ``labels/<name>`` group too) or
        OME-TIFF file, or a Zarr or Dask array, read tile by tile.
    on_error : {"raise", "nan"}, default="raise"
        A region without any pixel pair at some distance (a region of one
        pixel, say): raise an error naming its label, or give it a row of NaN.
    n_jobs : int, default=None
        Number of batches of regions featurized in parallel (joblib threads;
        ``None`` means 1 unless in a :func:`joblib.parallel_config` context,
        ``-1`` all processors). The rows are the same, in label order,
        whatever ``n_jobs``.
    verbose : int, default=0
        Show a progress bar of the regions done on standard error when positive.
    tile_shape : int or tuple of int, default=None
        The tiles read at once (one length for every axis, or one per axis),
        for inputs read tile by tile; default: the labels' chunks, grouped to
        about a million pixels. Given with in-memory inputs, they are worked
        through tile by tile too. The rows do not depend on it.
    **featurizer_params
        Every :class:`HaralickFeaturizer` parameter that changes the numbers,
        with the same meaning and default: ``distance``, ``aggregate`` (any of
        them), ``ignore_zeros``, ``compute_14th_feature``,
        ``use_x_minus_y_variance``, ``levels``, ``backend`` (``"auto"`` only:
        masks need the compiled kernels), ``features``, ``offsets``,
        ``bin_width``, ``gray_range``, ``volume``, ``symmetric``,
        ``preserve_haralick_bug``, ``color``, ``color_pairs``,
        ``gray_conversion``. The featurizer's ``memory`` (its cache keeps
        whole samples' rows, not regions') and ``image_shape`` are refused.

    Returns
    -------
    table : pandas.DataFrame
        One row per label present, in increasing label order: a ``label``
        column; its bounding box, as :func:`skimage.measure.regionprops`'s
        ``bbox`` (``bbox_0_min, bbox_1_min, bbox_0_max, bbox_1_max`` for 2-D
        labels, a third axis for 3-D; the minimum included, the maximum
        excluded, so ``image[bbox_0_min:bbox_0_max, bbox_1_min:bbox_1_max]``
        is its crop); ``count``, its number of pixels (voxels); then the
        featurizer's feature names
        (:meth:`HaralickFeaturizer.get_feature_names_out`).

    Raises
    ------
    ValueError, TypeError
        For labels that are not integers, negative, or of another shape than
        the image (naming the inputs read tile by tile), for unknown or
        refused parameters (``backend="mahotas"`` too), and
        (``on_error="raise"``) for a region without any pixel pair at some
        distance, or one whose bounding box holds too many pixels for its
        matrices' exact 64-bit sums (2**30 with symmetric matrices), naming
        its label.

    See Also
    --------
    HaralickFeaturizer : the same rows, one per ``(image, mask)`` sample.

    Notes
    -----
    Gray images are quantized, counted and featurized a batch of regions at a
    time, each step in one compiled pass over the batch's regions (without the
    GIL: ``n_jobs`` threads run batches side by side), with rows identical bit
    for bit to featurizing each region on its own. Settings that pass does not
    cover go region by region, with the same rows: colour (``color``),
    ``aggregate="merged"``, ``volume="2d"``, and the Haralick set's 14th
    feature (``compute_14th_feature``, which counts compact matrices).
    Regions it leaves (no pixel pair at some distance,
    bins that ``bin_width`` or a float range refuse, integers beyond 63-bit
    arithmetic, too many pixels for exact sums) go region by region too,
    which raises or gives NaN as ``on_error`` says.

    Examples
    --------
    >>> import numpy as np
    >>> from skimage.data import camera
    >>> from haralick_learn import region_features
    >>> image = camera()[:64, :96]
    >>> labels = np.zeros(image.shape, int)
    >>> labels[:, :48], labels[10:50, 60:90] = 1, 7
    >>> table = region_features(image, labels, aggregate="mean")
    >>> table.shape
    (2, 19)
    >>> table.iloc[:, :6].values.tolist()
    [[1, 0, 0, 64, 48, 3072], [7, 10, 60, 50, 90, 1200]]
    >>> list(table.columns[5:8])
    ['count', 'angular_second_moment_mean_d1', 'contrast_mean_d1']
    >>> ibsi = region_features(image, labels, features="ibsi", bin_width=25, aggregate="mean")
    >>> list(ibsi.columns[5:8])
    ['count', 'ibsi_Autocorrelation_mean_d1', 'ibsi_ClusterProminence_mean_d1']

    Tile by tile (here tiles of 32 x 32 pixels, which both regions cross),
    the same table:

    >>> tiled = region_features(image, labels, aggregate="mean", tile_shape=32)
    >>> tiled.equals(table)
    True
    """
    import pandas as pd

    _check_params(featurizer_params)
    if on_error not in ("raise", "nan"):
        raise ValueError(f"on_error must be 'raise' or 'nan', got {on_error!r}")
    settings = TextureSettings.from_params(**featurizer_params)
    check_region_settings(settings)
    if tile_shape is not None or is_chunked(image) or is_chunked(labels):
        from ._region_tiles import RegionTiles  # it computes its batches with region_rows

        tiles = RegionTiles(image, labels, settings, on_error=on_error, tile_shape=tile_shape)
        try:
            return tiles.table(n_jobs=n_jobs, verbose=verbose)
        finally:
            tiles.close()
    if isinstance(labels, (str, os.PathLike)):
        # np.asarray would make it an array of one string, refused as "dtype <U12"
        raise TypeError(
            f"labels {os.fspath(labels)!r}: a path to labels is a Zarr store, OME-Zarr image "
            "or OME-TIFF file (read tile by tile); read other label files into an integer "
            "array first (haralick-learn regions reads NIfTI, NRRD, TIFF, PNG and .npy labels)"
        )
    if settings.color == "gray":
        pixels = load_gray(image, 0, volume=settings.volume,
                           gray_conversion=settings.gray_conversion)
    else:  # the channel images, converted once; a region's are their crops
        pixels = channel_images(load_color_pixels(image, 0), settings.color,
                                describe_source(image, 0))
    shape = pixels.shape if settings.color == "gray" else pixels[0].shape
    labels = np.asarray(labels)
    if not labels.dtype.isnative:  # the compiled passes view labels in this machine's order
        labels = labels.astype(labels.dtype.newbyteorder("="))
    if labels.dtype.kind not in "iu" or labels.dtype == bool:
        raise TypeError(f"labels must be an integer label image, got dtype {labels.dtype}")
    if labels.shape != shape:
        raise ValueError(
            f"labels of shape {labels.shape} do not match the image's gray shape {shape}"
        )
    # one compiled pass: the bounding box and pixel count of every region
    ids, compact, corners, counts = _survey(labels, kept=True)
    names = settings.feature_names
    box_names = region_box_names(labels.ndim)
    if not len(ids):
        return pd.DataFrame({"label": np.array([], dtype=labels.dtype),
                             **{name: np.array([], dtype=np.intp) for name in box_names},
                             "count": np.array([], dtype=np.intp),
                             **{name: np.array([]) for name in names}})
    present = np.flatnonzero(counts)
    regions = _Regions(pixels, compact, corners, ids, settings, on_error == "nan")
    batches = _batches(present, corners, settings, effective_n_jobs(n_jobs))
    progress = Progress(len(present), enabled=verbose > 0, label="Regions", unit="regions")
    results = []
    for batch, result in zip(batches, ordered_results(
            [delayed(regions.rows)(batch) for batch in batches], n_jobs)):
        results.append(result)
        progress.update(len(batch))
    progress.close()
    rows = np.concatenate(results) if results else np.empty((0, len(names)))
    # The label, bounding box and pixel count (the regionprops columns a table is usually
    # joined with, from the survey above, at no extra cost), then the features.
    columns = {"label": ids[present]}
    for column, name in enumerate(box_names):
        columns[name] = corners[present, column].astype(np.intp)
    columns["count"] = counts[present].astype(np.intp)
    # the features as one block (a column at a time costs pandas 0.3 ms per 1,000 rows)
    return pd.concat([pd.DataFrame(columns), pd.DataFrame(rows, columns=list(names))], axis=1)


def _batches(present, corners, settings, n_workers):
    """``present`` (indices into ``corners``) in consecutive batches, each in one pass.

    As many regions as a pass holds (:data:`_BATCH` or :data:`_STATISTICS_BATCH`, boxes of
    at most :data:`_BATCH_PIXELS` pixels), but at least four batches per worker when there
    are several, so that they stay balanced. A row is the same in any batch.
    """
    most = _STATISTICS_BATCH if statistics_suffice(settings) else _BATCH
    if n_workers > 1:
        most = max(1, min(most, -(-len(present) // (4 * n_workers))))
    ndim = corners.shape[1] // 2
    ends = np.cumsum((corners[present, ndim:] - corners[present, :ndim]).prod(axis=1))
    bounds = [0]
    while bounds[-1] < len(present):
        start = bounds[-1]
        budget = (ends[start - 1] if start else 0) + _BATCH_PIXELS
        fits = int(np.searchsorted(ends, budget, side="right"))
        bounds.append(max(start + 1, min(start + most, fits)))
    return [present[start:stop] for start, stop in zip(bounds[:-1], bounds[1:])]


def region_box_names(ndim):
    """The bounding-box columns of a region table of ``ndim``-D labels, in its order.

    skimage's ``regionprops`` convention: every axis's first index, then every
    axis's end (exclusive).

    Examples
    --------
    >>> region_box_names(2)
    ['bbox_0_min', 'bbox_1_min', 'bbox_0_max', 'bbox_1_max']
    """
    return ([f"bbox_{axis}_min" for axis in range(ndim)]
            + [f"bbox_{axis}_max" for axis in range(ndim)])


def region_columns(ndim):
    """The columns a region table of ``ndim``-D labels has before its features.

    Examples
    --------
    >>> region_columns(2)
    ['label', 'bbox_0_min', 'bbox_1_min', 'bbox_0_max', 'bbox_1_max', 'count']
    """
    return ["label", *region_box_names(ndim), "count"]


def region_rows(pixels, labels, ids, corners, settings, catch=False):
    """The rows of the regions ``ids`` of ``labels``, each computed inside its box.

    What one batch of a region table computes, for callers that hold a crop
    of the image (a tile and its neighbourhood): ``pixels`` (the gray image,
    or the list of channel images) and ``labels`` are of one shape; region
    ``ids[k]`` lies inside the box ``corners[k]`` (its first index along every
    axis of the crop, then its ends, exclusive), and its row is the one
    :func:`region_features` gives it on the whole image.

    Returns
    -------
    rows : ndarray of shape (len(ids), n_features)
        In the order of ``ids``; a row of NaN for a region without any pixel
        pair when ``catch`` (else that region's ``ValueError`` is raised).
    """
    ids = np.asarray(ids)
    corners = np.asarray(corners, dtype=np.int64).reshape(len(ids), 2 * labels.ndim)
    narrow = _narrowed_labels(labels)
    if narrow is not None:  # each region's pixels hold its own id
        return _Regions(pixels, narrow, corners, ids, settings, catch,
                        numbers=ids.astype(narrow.dtype)).rows(np.arange(len(ids)))
    # Regions numbered 1, 2, ... in the order of ids (0 elsewhere): a pixel holds one label,
    # so each region's mask inside its box is that of its label.
    compact = _numbered_in_order(labels, ids)
    return _Regions(pixels, compact, corners, ids, settings, catch).rows(np.arange(len(ids)))


def _narrowed_labels(labels):
    """``labels`` as the int32 the region pass reads, values unchanged (32-bit ones viewed as
    int32, one to one), or None when some label lies beyond int32's range."""
    if labels.dtype.itemsize <= 4:  # smaller types widened, uint32 wrapped one to one
        return np.ascontiguousarray(labels.astype(np.int32, copy=False))
    volume = labels.reshape((1,) * (3 - labels.ndim) + labels.shape).view(np.int64)
    narrow = np.empty(volume.shape, np.int32)
    return narrow.reshape(labels.shape) if _narrow(volume, narrow) else None


@numba.njit(nogil=True, cache=True)
def _narrow(values, out):
    """``out = values`` as int32 (3-D arrays, ``values`` of any strides); whether every value
    lay in int32's non-negative range."""
    outside = False
    for z in range(values.shape[0]):
        for y in range(values.shape[1]):
            row, narrow = values[z, y], out[z, y]
            for x in range(row.shape[0]):  # branch-free
                value = row[x]
                narrow[x] = np.int32(value)
                outside |= (value < 0) | (value > 2147483647)
    return not outside


def _numbered_in_order(labels, ids):
    """``labels`` with ``ids[k]`` as ``k + 1`` and every other label as 0.

    int32 (the type the in-memory table reads labels as: one compiled region
    pass for both) while the ids are fewer than int32's largest value. One
    compiled pass through a table over the ids' range when that range is
    at most a few times the pixels (the ids of a batch's regions lie close
    together), else a binary search of each pixel among the sorted ids.
    """
    if len(ids) and len(ids) < np.iinfo(np.int32).max and labels.size:
        values = _pass_labels(labels)
        keys = _pass_labels(np.asarray(ids, labels.dtype)).reshape(-1)
        low, high = int(keys.min()), int(keys.max())
        if low >= 0 and high - low < 4 * labels.size + 1024:
            table = np.zeros(high - low + 2, np.int32)  # the last entry: labels outside
            table[keys - low] = np.arange(1, len(keys) + 1, dtype=np.int32)
            out = np.empty(values.shape, np.int32)
            _look_up(values.reshape(-1), low, table, out.reshape(-1))
            return out.reshape(labels.shape)
    sorter = np.argsort(ids, kind="stable")
    position = np.minimum(np.searchsorted(ids[sorter], labels), max(len(ids) - 1, 0))
    compact = np.where(ids[sorter][position] == labels, sorter[position] + 1, 0)
    if len(ids) < np.iinfo(np.int32).max:
        compact = compact.astype(np.int32)
    return compact


@numba.njit(nogil=True, cache=True)
def _look_up(values, low, table, out):
    """``out[p] = table[values[p] - low]``, the table's last entry for values outside it."""
    last = table.shape[0] - 1
    for p in range(values.shape[0]):  # branch-free: a loop that vectorizes
        k = np.int64(values[p]) - low
        inside = (k >= 0) & (k < last)
        out[p] = table[unsigned(k if inside else last)]


def ordered_results(jobs, n_jobs):
    """Results of ``jobs`` in order, streamed where the joblib backend can."""
    try:
        return Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")(jobs)
    except ValueError as exc:  # multiprocessing (and Ray's) backends: a list at the end
        if "return_as" not in str(exc):
            raise
    return Parallel(n_jobs=n_jobs, prefer="threads")(jobs)


def check_region_settings(settings):
    """Refuse settings under which every region fails alike (not a table of NaN rows)."""
    if settings.backend == "mahotas":
        raise ValueError("region tables count pixel pairs inside masks, which need the "
                         "compiled kernels; backend='mahotas' has none (use backend='auto')")


def _check_params(params):
    """Refuse, with the reason, a parameter that is not one of :func:`region_params`."""
    accepted = region_params()
    refused = sorted(set(params) & set(_NOT_FOR_REGIONS))
    if refused:
        raise TypeError(f"region_features takes no {refused[0]}: {_NOT_FOR_REGIONS[refused[0]]}")
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise TypeError(
            f"region_features got unknown parameters {unknown}; it takes "
            f"{', '.join(accepted)}, on_error and n_jobs"
        )


class _Regions:
    """The rows of batches of regions of one image (a task for a worker).

    ``corners``: each region's bounding box (first indices, then ends), a row
    per region; ``numbers``: the label its pixels hold in ``compact``, by
    default region ``k`` (row ``k - 1``) holds ``k``.
    """

    def __init__(self, pixels, compact, corners, ids, settings, catch, numbers=None):
        self.pixels, self.compact, self.corners, self.ids = pixels, compact, corners, ids
        self.settings, self.catch = settings, catch
        self.numbers = (np.arange(1, len(corners) + 1, dtype=np.int64) if numbers is None
                        else numbers)
        # The compiled pass's types, converted once for every batch (the regions left to the
        # featurizer keep the image's own type)
        self.pass_arrays = (region_pass_arrays(pixels, compact)
                            if covers_regions(settings) and isinstance(pixels, np.ndarray)
                            else (pixels, compact))

    def rows(self, batch):
        """The rows of the regions ``batch`` (indices into the corners), NaN where one failed.

        In one compiled pass when the settings allow it (:func:`covers_regions`),
        the regions it leaves (and those that fail) then one by one.
        """
        batch = np.asarray(batch, dtype=np.intp)
        if not covers_regions(self.settings):
            return self.rows_one_by_one(batch)
        out, left = rows_from_labels(*self.pass_arrays, self.corners[batch],
                                     self.numbers[batch], self.settings)
        if left.any():  # the same error, NaN row or row as one by one
            out[left] = self.rows_one_by_one(batch[left])
        return out

    def box(self, index):
        """Region ``index``'s bounding box, as a tuple of slices."""
        ndim = self.corners.shape[1] // 2
        corner = self.corners[index].tolist()
        return tuple(slice(corner[axis], corner[ndim + axis]) for axis in range(ndim))

    def rows_one_by_one(self, batch):
        """:meth:`rows`, each region through the stages on its own (any settings)."""
        settings = self.settings
        out = np.empty((len(batch), settings.n_features))
        boxes = [self.box(index) for index in batch]
        items = [(box, f"label {self.ids[index]}", self.compact[box] == self.numbers[index])
                 for box, index in zip(boxes, batch)]
        if settings.color == "gray":
            results = rows_from_gray([(self.pixels[box], source, mask)
                                      for box, source, mask in items], settings, self.catch)
        else:
            results = [self._colour_row(box, source, mask) for box, source, mask in items]
        for r, (row, error) in enumerate(results):
            out[r] = np.nan if error is not None else row
        return out

    def _colour_row(self, box, source, mask):
        try:
            return row_from_channel_images([channel[box] for channel in self.pixels], source,
                                           self.settings, mask), None
        except ValueError as exc:
            if not self.catch:
                raise
            return None, str(exc)


def label_boxes(labels, n_labels):
    """The bounding box and pixel count of each region ``1 .. n_labels`` of a label image.

    One compiled pass over the pixels (a run of equal labels along the last
    axis at a time, each row's runs found first), where
    :func:`scipy.ndimage.find_objects` and a :func:`numpy.bincount` make two,
    and a list of slices per label.

    Parameters
    ----------
    labels : ndarray of int, shape (height, width) or (depth, height, width)
        0 is background; every other value is at most ``n_labels``.
    n_labels : int

    Returns
    -------
    boxes : ndarray of int64, shape (n_labels, 2 * labels.ndim)
        Region ``k``'s box in row ``k - 1``: its first index along every axis,
        then its ends (exclusive), as :func:`skimage.measure.regionprops`'s
        ``bbox``; zeros for a label without any pixel.
    counts : ndarray of int64, shape (n_labels,)
        Region ``k``'s number of pixels in row ``k - 1``.

    Raises
    ------
    ValueError
        For a label below 0 or above ``n_labels``.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.array([[0, 1, 1], [2, 2, 1], [0, 0, 0]])
    >>> boxes, counts = label_boxes(labels, 3)
    >>> boxes.tolist(), counts.tolist()
    ([[0, 1, 2, 3], [1, 0, 2, 2], [0, 0, 0, 0]], [3, 2, 0])
    """
    n_labels = int(n_labels)
    values = _pass_labels(labels)
    status, _, table = _survey_pass(values, _NO_NARROW, n_labels, n_labels, 1)
    if status != _SURVEYED:
        raise ValueError(f"labels must lie in 0..{n_labels}")
    return _boxes_and_counts(table, labels.shape)


def present_labels(labels):
    """The labels present in a label image, with their bounding boxes and pixel counts.

    For a part of a larger label image (a tile of a slide), whose ids need
    not start at 1: one compiled pass for the range of its non-zero ids,
    then :func:`label_boxes`'s pass over the ids from the smallest, when
    they span at most as many values as the pixels; else the ids are
    numbered by a sort of the pixels first.

    Parameters
    ----------
    labels : ndarray of int, 2-D or 3-D

    Returns
    -------
    ids : ndarray of the labels' dtype
        The non-zero labels present, in increasing order.
    boxes : ndarray of int64, shape (len(ids), 2 * labels.ndim)
        Each one's bounding box, as :func:`label_boxes`.
    counts : ndarray of int64
        Each one's number of pixels.

    Raises
    ------
    ValueError
        For a negative label.

    Examples
    --------
    >>> import numpy as np
    >>> ids, boxes, counts = present_labels(np.array([[0, 7, 7], [9, 9, 7]]))
    >>> ids.tolist(), boxes.tolist(), counts.tolist()
    ([7, 9], [[0, 1, 2, 3], [1, 0, 2, 2]], [3, 2])
    """
    ndim = labels.ndim
    empty = (np.array([], labels.dtype), np.empty((0, 2 * ndim), np.int64),
             np.empty(0, np.int64))
    if labels.size == 0:
        return empty
    values = _pass_labels(labels)
    smallest, low, high = _nonzero_range(values.reshape(-1), np.iinfo(values.dtype).max)
    if smallest < 0 and labels.dtype.kind == "i":
        raise ValueError("labels must be non-negative (0 is background)")
    if smallest >= 0:  # else unsigned ids beyond the signed range: sorted below
        if high == 0:
            return empty
        if high - low < labels.size:
            n_rows = int(high - low + 1)
            _, _, table = _survey_pass(values, _NO_NARROW, n_rows, n_rows, int(low))
            # the rows of the ids present only: a tile of a slide numbered in raster order
            # holds a few thousand of the hundred thousand ids its range spans
            present = np.flatnonzero(table[:, 6])
            boxes, counts = _boxes_and_counts(table[present], labels.shape)
            return (present + int(low)).astype(labels.dtype), boxes, counts
    ids, compact = _consecutive_ids(labels)
    if not len(ids):
        return empty
    boxes, counts = label_boxes(compact, len(ids))
    return ids, boxes, counts


@numba.njit(nogil=True, cache=True)
def _nonzero_range(values, top):
    """``(smallest, smallest non-zero, largest)`` of ``values`` (``top`` for no non-zero)."""
    smallest = largest = values[0]
    low = top
    for k in range(values.shape[0]):  # a loop that vectorizes
        value = values[k]
        smallest = min(smallest, value)
        largest = max(largest, value)
        low = min(low, value if value != 0 else top)
    return smallest, low, largest


def _survey(labels, kept=False):
    """The regions of a label image, in one compiled pass over it.

    Returns ``(ids, compact, corners, counts)``: region ``k`` of ``compact``
    (``k >= 1``, background 0) has the label ``ids[k - 1]``, the bounding box
    ``corners[k - 1]`` (as :func:`label_boxes`) and ``counts[k - 1]`` pixels;
    ``ids`` is empty when every label is 0. The arrays follow the ids up to
    the number of pixels; larger ids are made consecutive first (a sort of
    the pixels), so the cost follows the pixels, never the ids. ``compact``
    is int64 labels' int32 copy, written in the same pass (the passes over
    the regions' boxes then read half the bytes); labels of other types in
    the type the region pass reads them as (int32 or int64). ``kept``: that
    copy in this thread's kept array (:func:`~haralick_learn._buffers.kept_array`),
    for a caller that lets it go before its next survey.

    Raises
    ------
    ValueError
        For a negative label.
    """
    if labels.size == 0:
        return (np.array([], labels.dtype), labels, np.zeros((0, 2 * labels.ndim), np.int64),
                np.zeros(0, np.int64))
    values = _pass_labels(labels)
    n_pixels = labels.size
    narrow = _NO_NARROW
    if values.dtype == np.int64 and n_pixels <= np.iinfo(np.int32).max:
        narrow = (kept_array("labels", values.shape, np.int32) if kept
                  else np.empty(values.shape, np.int32))
    status, largest, table = _survey_pass(values, narrow, n_pixels, min(n_pixels, 1024), 1)
    if status == _SURVEYED:
        ids = np.arange(1, largest + 1, dtype=labels.dtype)
        compact = (narrow if narrow.size else values).reshape(labels.shape)
        corners, counts = _boxes_and_counts(table[:largest], labels.shape)
        return ids, compact, corners, counts
    # The pass stopped at a negative label, or at an id beyond the number of pixels (or an
    # unsigned one beyond the signed range, read as negative): a negative label may come later.
    negative = labels.dtype.kind == "i" and (status == _NEGATIVE or labels.min() < 0)
    if negative:
        raise ValueError("labels must be non-negative (0 is background)")
    ids, compact = _consecutive_ids(labels)
    corners, counts = label_boxes(compact, len(ids))
    return ids, compact, corners, counts


def _pass_labels(labels):
    """``labels`` as :func:`_survey_pass` is compiled for: 3-D, C-contiguous, int32 or int64.

    64-bit and 32-bit labels are viewed as signed (unsigned ids beyond the
    signed range then read as negative, which the pass reports), smaller
    types copied to int32 (the type the region pass reads them as).
    """
    volume = labels.reshape((1,) * (3 - labels.ndim) + labels.shape)
    if volume.dtype.itemsize == 8:
        volume = volume.view(np.int64) if volume.dtype != np.int64 else volume
    elif volume.dtype.itemsize == 4:
        volume = volume.view(np.int32) if volume.dtype != np.int32 else volume
    else:
        volume = volume.astype(np.int32)
    return np.ascontiguousarray(volume)


def _boxes_and_counts(table, shape):
    """:func:`_survey_pass`'s table (labels of ``shape``) as :func:`label_boxes`'s results."""
    ndim = len(shape)
    counts = table[:, 6].copy()
    firsts = np.asarray(shape, np.int64) - table[:, 3 - ndim:3]
    firsts[counts == 0] = 0
    return np.concatenate([firsts, table[:, 6 - ndim:6]], axis=1), counts


#: :func:`_survey_pass`'s status: every label counted; a negative label; a label over the limit.
_SURVEYED, _NEGATIVE, _BEYOND = 0, 1, 2

#: The ``narrow`` of a pass that writes no int32 copy.
_NO_NARROW = np.empty((0, 0, 0), np.int32)


@numba.njit(nogil=True, cache=True)
def _survey_pass(labels, narrow, limit, capacity, first):
    """Each label's bounding box and pixel count in one pass over a volume, runs along the rows.

    Returns ``(status, largest, table)``: ``table`` has a row per label
    ``first .. first + capacity - 1`` (``first``: no smaller label but 0;
    always given, so that every call shares one compiled signature),
    grown (by doubling) up to the largest label while it makes at most
    ``limit`` rows: the volume's length minus the label's first index
    along each axis (so that every column is a maximum over the label's
    runs, and a new row is zeros), its ends (exclusive) and its pixel count.
    ``status`` is :data:`_NEGATIVE` or :data:`_BEYOND` at a row holding a
    negative label or one beyond ``limit`` rows (the pass stops there), else
    :data:`_SURVEYED`. When ``narrow`` has the volume's shape, the labels are
    written to it as int32 along the way, while each row is in the cache:
    one pass over the labels, not two.

    Each row is read once by a loop that vectorizes: the copy, its extremes
    and a byte per position (1 where the next label differs). Those bytes
    are then read eight at a time: where any is set, the eight positions'
    run ends are listed branch-free (every position written, the count
    advanced where the label changes). Then each run updates its label's row
    of the table once. Finding the end of each run by reading until the label
    changes mispredicts a branch or two per run: 0.8x the time.
    """
    depth, height, width = labels.shape
    write = narrow.shape == labels.shape
    table = np.zeros((capacity, 7), np.int64)
    largest = np.int64(0)
    if width == 0:
        return _SURVEYED, largest, table
    n_words = (width + 7) // 8
    changes = np.zeros(8 * n_words, np.uint8)
    words = changes.view(np.uint64)
    run_ends = np.empty(width + 1, np.int64)
    scratch = np.empty(width, np.int32)
    for z in range(depth):
        for y in range(height):
            row = labels[z, y]
            # One loop (0.8x the time of a copy then a comparison), compiled once: without a
            # copy asked for, the copy goes to a row that stays in the cache.
            low = high = row[0]
            out = narrow[z, y] if write else scratch
            out[0] = np.int32(low)
            for x in range(width - 1):
                value = row[x + 1]
                out[x + 1] = np.int32(value)
                changes[x] = row[x] != value
                low = min(low, value)
                high = max(high, value)
            if low < 0:
                return _NEGATIVE, largest, table
            n_rows = np.int64(high) - first + 1
            if n_rows > table.shape[0]:
                if n_rows > limit:
                    return _BEYOND, largest, table
                table = _grown(table, min(limit, max(2 * table.shape[0], n_rows)))
            largest = max(largest, np.int64(high))
            n_runs = 0
            for w in range(n_words):
                if words[w] != 0:
                    for j in range(8):
                        run_ends[unsigned(n_runs)] = 8 * w + j + 1
                        n_runs += changes[unsigned(8 * w + j)]
            run_ends[unsigned(n_runs)] = width
            n_runs += 1
            start = 0
            for run in range(n_runs):
                stop = run_ends[unsigned(run)]
                label = row[unsigned(start)]
                if label != 0:
                    k = unsigned(label - first)
                    table[k, 0] = max(table[k, 0], depth - z)
                    table[k, 1] = max(table[k, 1], height - y)
                    table[k, 2] = max(table[k, 2], width - start)
                    table[k, 3] = max(table[k, 3], z + 1)
                    table[k, 4] = max(table[k, 4], y + 1)
                    table[k, 5] = max(table[k, 5], stop)
                    table[k, 6] += stop - start
                start = stop
    return _SURVEYED, largest, table


@numba.njit(nogil=True, cache=True)
def _grown(table, n_rows):
    """``table`` with rows for labels up to ``n_rows``."""
    larger = np.zeros((n_rows, 7), np.int64)
    for k in range(table.shape[0]):  # a loop: numba's slice assignments take seconds to compile
        for column in range(7):
            larger[k, column] = table[k, column]
    return larger


def _consecutive_ids(labels):
    """The non-zero ids present and the labels numbered ``1, 2, ...`` in their order (0 stays).

    By a sort of the pixels, for ids too far apart for :func:`label_boxes`'s
    arrays (as long as the largest id): the cost follows the pixels, never the ids.
    """
    ids, compact = np.unique(labels, return_inverse=True)
    compact = compact.reshape(labels.shape)
    if ids[0] == 0:
        return ids[1:], compact
    return ids, compact + 1
