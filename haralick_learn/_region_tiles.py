"""Region tables tile by tile: images and label images larger than memory.

Two passes over the labels, each reading a tile (a box of whole chunks) at a
time. The survey finds each label's bounding box and pixel count: in integers,
each tile's boxes and counts merged with the others' by minimum, maximum and
sum, so they are exact whatever the tiles. Then each region is cut from the
image by its bounding box and its row computed once, by the in-memory stages
(:func:`haralick_learn._regions.region_rows`), even when it crosses tile
borders. Regions are grouped by the tile that holds their box's first corner,
and each batch of a group reads the one box that holds its regions (the tile
and the regions' overhang: at most two tiles along each axis); a region larger
than a tile is read alone. So memory follows the tile size and the largest
region, never the image, and the rows are those of the in-memory table.
"""

import dataclasses
import itertools
import os

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from .preprocess.channels import channel_images
from .io.chunked import is_chunked, open_chunked
from .preprocess.gray import rgb_to_gray_uint8
from .io.decode import describe_source, load_color_pixels, load_gray
from ._progress import Progress
from ._regions import (
    check_region_settings, ordered_results, present_labels, region_box_names, region_rows,
)

__all__ = ["Batch", "RegionPlan", "RegionTiles", "region_table"]

#: Regions computed in one task at most (one pass of the features over their sums).
BATCH_REGIONS = 256
#: Pixels (voxels) a default tile reaches: the labels' chunks, grouped.
TILE_PIXELS = 2**20


@dataclasses.dataclass(frozen=True)
class RegionPlan:
    """What the survey found: each region's label, bounding box and pixel count, by label.

    ``boxes[k]`` holds region ``k``'s first index along each axis, then its
    end (excluded): the ``bbox`` columns of the table.
    """

    ids: np.ndarray
    boxes: np.ndarray
    counts: np.ndarray

    def __len__(self):
        return len(self.ids)

    def box(self, k):
        """Region ``k``'s bounding box as a tuple of slices."""
        ndim = self.boxes.shape[1] // 2
        return tuple(slice(int(self.boxes[k, a]), int(self.boxes[k, ndim + a]))
                     for a in range(ndim))

    def save(self, path):
        """Write the plan to ``path`` (``.npz``, arrays only: no pickle)."""
        np.savez(path, ids=self.ids, boxes=self.boxes, counts=self.counts)

    @classmethod
    def load(cls, path):
        """The plan :meth:`save` wrote."""
        with np.load(path, allow_pickle=False) as saved:
            return cls(saved["ids"], saved["boxes"], saved["counts"])


@dataclasses.dataclass(frozen=True)
class Batch:
    """Regions computed together: their positions in the plan and the box that holds them.

    ``tile``: the tile of the regions' first corners, whose batches are read
    together (-1: a region larger than a tile, read by itself).
    """

    index: int
    regions: np.ndarray
    box: tuple
    tile: int = -1


class RegionTiles:
    """An image and its label image, read tile by tile, for a region table.

    Parameters
    ----------
    image, labels
        As :func:`~haralick_learn.region_features` takes them. Each may be
        chunked (a path to a Zarr store, OME-Zarr image or OME-TIFF file, a
        Zarr or Dask array) or in memory (read and converted once, as in
        memory, then cut into tiles).
    settings : TextureSettings
    on_error : {"raise", "nan"}
    tile_shape : tuple of int, optional
        The tiles' shape; default: the labels' chunks, grouped to about
        :data:`TILE_PIXELS` pixels.
    """

    def __init__(self, image, labels, settings, *, on_error="raise", tile_shape=None):
        if on_error not in ("raise", "nan"):
            raise ValueError(f"on_error must be 'raise' or 'nan', got {on_error!r}")
        check_region_settings(settings)
        self.settings, self.catch = settings, on_error == "nan"
        self._opened = []
        try:
            self.labels = self._open(labels, "labels", colour_last=False)
            self._check_labels()
            self._open_image(image)
            self.tile_shape = self._tiles(tile_shape)
        except BaseException:
            self.close()
            raise

    # -- inputs ----------------------------------------------------------------------------

    def _open(self, source, what, colour_last):
        opened = open_chunked(source, what, colour_last=colour_last)
        self._opened.append(opened)
        return opened

    def _check_labels(self):
        labels = self.labels
        if labels.has_channels:
            raise ValueError(f"{labels.name}: a label image has one channel, got shape "
                             f"{labels.shape}")
        if labels.dtype.kind not in "iu":
            raise TypeError(f"{labels.name}: labels must be an integer label image, got dtype "
                            f"{labels.dtype}")
        if labels.ndim not in (2, 3):
            raise ValueError(f"{labels.name}: labels must be 2-D or 3-D, got shape "
                             f"{labels.shape}")

    def _open_image(self, image):
        settings = self.settings
        self._check_finite = False
        if not is_chunked(image):
            # In memory: read and converted once, exactly as region_features does.
            if settings.color == "gray":
                pixels = load_gray(image, 0, volume=settings.volume,
                                   gray_conversion=settings.gray_conversion)
            else:
                pixels = channel_images(load_color_pixels(image, 0), settings.color,
                                        describe_source(image, 0))
            self.image_name = "the image"
            self._in_memory = pixels
            shape = pixels.shape if settings.color == "gray" else pixels[0].shape
            self._check_shapes(shape)
            return
        self._in_memory = None
        chunked = self.image = self._open(image, "image", colour_last=not settings.volume)
        self.image_name = chunked.name
        if settings.color != "gray":
            raise ValueError(f"{chunked.name}: color={settings.color!r} needs the image in "
                             "memory (pass it as a NumPy array); an image read tile by tile "
                             "is gray, or 8-bit RGB turned gray")
        if chunked.dtype != bool and chunked.dtype.kind not in "uif":
            raise TypeError(f"{chunked.name}: unsupported pixel dtype {chunked.dtype}; expected "
                            "integers or floats")
        if settings.volume and (chunked.has_channels or chunked.ndim != 3):
            raise ValueError(f"{chunked.name}: a volume must be 3-D, got shape "
                             f"{chunked.shape}")
        if not settings.volume and chunked.ndim != 2:
            raise ValueError(f"{chunked.name}: an image must be 2-D (gray) or 2-D with "
                             f"channels (colour), got shape {chunked.shape} (a volume needs "
                             "volume=True)")
        if chunked.has_channels:
            n_channels = chunked.shape[-1]
            if n_channels not in (1, 2, 3, 4):
                raise ValueError(f"{chunked.name}: a colour image must have 1 to 4 channels, "
                                 f"got shape {chunked.shape}")
            if n_channels >= 3 and chunked.dtype != np.uint8:
                raise ValueError(f"{chunked.name}: a colour image read tile by tile must be "
                                 f"8-bit (uint8), got {chunked.dtype}; convert it to gray first")
        if int(np.prod(chunked.spatial_shape)) < 2:
            raise ValueError(f"{chunked.name}: image of shape {chunked.spatial_shape} is too "
                             "small to have any pixel pair")
        # NaN anywhere is an error in memory: a float image is checked in the survey.
        self._check_finite = chunked.dtype.kind == "f"
        self._check_shapes(chunked.spatial_shape)

    def _check_shapes(self, shape):
        if tuple(shape) != self.labels.spatial_shape:
            what = "volume" if self.settings.volume else "gray"
            named = "" if self.image_name == "the image" else f" ({self.image_name})"
            raise ValueError(f"{self.labels.name} of shape {self.labels.spatial_shape} do not "
                             f"match the image's {what} shape {tuple(shape)}{named}")

    def _tiles(self, tile_shape):
        shape = self.labels.spatial_shape
        if tile_shape is None:
            return _grouped_chunks(self.labels.chunk_shape, shape)
        lengths = [tile_shape] * len(shape) if np.ndim(tile_shape) == 0 else list(tile_shape)
        if len(lengths) != len(shape) or not all(
                isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1
                for n in lengths):
            raise ValueError(f"tile_shape must be a positive integer or {len(shape)} of them "
                             f"(one per axis of the labels), got {tile_shape!r}")
        return tuple(int(n) for n in lengths)

    def read_pixels(self, box):
        """The gray pixels (or channel images) of ``box``, as the in-memory table sees them."""
        if self._in_memory is not None:
            if self.settings.color == "gray":
                return self._in_memory[box]
            return [channel[box] for channel in self._in_memory]
        return self._gray(self.image.read(box))

    def _gray(self, block):
        if block.dtype == bool:
            block = block.astype(np.uint8) * np.uint8(255)
        if self.image.has_channels:
            if block.shape[-1] in (1, 2):
                return block[..., 0]
            return rgb_to_gray_uint8(block[..., :3], self.settings.gray_conversion)
        return block

    def close(self):
        """Close the files the inputs read."""
        for opened in self._opened:
            opened.close()
        self._opened = []

    # -- first pass: boxes and counts ------------------------------------------------------

    def tiles(self):
        """The tiles' boxes, in raster order."""
        shape, tile = self.labels.spatial_shape, self.tile_shape
        starts = [range(0, size, step) for size, step in zip(shape, tile)]
        return [tuple(slice(s, min(s + t, n)) for s, t, n in zip(corner, tile, shape))
                for corner in itertools.product(*starts)]

    def survey(self, n_jobs=None, verbose=0):
        """Each label's bounding box and pixel count, from one pass over the label tiles.

        Tiles are read in this process and summarized in ``n_jobs`` threads.
        """
        tiles = self.tiles()
        progress = Progress(len(tiles), enabled=verbose > 0, label="Survey", unit="tiles")

        def jobs():
            for box in tiles:
                pixels = self.image.read(box) if self._check_finite else None
                yield delayed(_tile_summary)(self.labels.read(box), box, self.labels.name,
                                             pixels, self.image_name)

        summaries = []
        threads = Parallel(n_jobs=_threads(n_jobs), backend="threading", return_as="generator")
        for summary in threads(jobs()):
            summaries.append(summary)
            progress.update()
        progress.close()
        return _merge(summaries, self.labels.dtype, self.labels.ndim)

    # -- second pass: rows -----------------------------------------------------------------

    def batches(self, plan):
        """The plan's regions in batches: by tile of their first corner, then by position.

        Depends on the plan and the tile shape only (not on ``n_jobs``), so a
        resumed run finds the same batches.
        """
        if not len(plan):
            return []
        ndim = self.labels.ndim
        tile = np.array(self.tile_shape)
        starts, ends = plan.boxes[:, :ndim], plan.boxes[:, ndim:]
        grid = -(-np.array(self.labels.spatial_shape) // tile)
        tile_index = np.ravel_multi_index(tuple((starts // tile).T), tuple(grid))
        alone = ((ends - starts) > tile).any(axis=1)  # larger than a tile: read by itself
        order = np.lexsort((*starts.T[::-1], alone, tile_index))
        # each tile's regions in order: those within a tile in batches, then each larger one
        groups = np.flatnonzero(np.diff(tile_index[order])) + 1
        batches = []
        for members in np.split(order, groups):
            together, larger = members[~alone[members]], members[alone[members]]
            for start in range(0, len(together), BATCH_REGIONS):
                part = together[start : start + BATCH_REGIONS]
                batches.append(Batch(len(batches), part, _union_box(plan, part),
                                     int(tile_index[part[0]])))
            batches += [Batch(len(batches) + j, np.array([k]), plan.box(k))
                        for j, k in enumerate(larger)]
        return batches

    def rows(self, plan, batches, n_jobs=None):
        """``(batch, rows)`` for each batch, in order, computed in parallel.

        The batches of one tile are read in this process as one box (a chunk
        is then decoded once for all of them, not once per batch); each
        batch's rows are computed by a joblib task (threads by default, or
        the active :func:`joblib.parallel_config` backend, a Dask cluster
        included) on its part of that box.
        """
        settings, catch = self.settings, self.catch

        def jobs():
            for group in _read_together(batches):
                box = _union_box(plan, np.concatenate([batch.regions for batch in group]))
                pixels, labels = self.read_pixels(box), self.labels.read(box)
                for batch in group:
                    inside = tuple(slice(part.start - whole.start, part.stop - whole.start)
                                   for part, whole in zip(batch.box, box))
                    corner = [part.start for part in batch.box]
                    # the regions' boxes inside the batch's box
                    corners = plan.boxes[batch.regions] - np.array(corner + corner)
                    yield delayed(region_rows)(_part(pixels, inside), labels[inside],
                                               plan.ids[batch.regions], corners, settings, catch)

        return zip(batches, ordered_results(jobs(), n_jobs))

    def table(self, n_jobs=None, verbose=0):
        """The region table (a DataFrame), survey and rows, held in memory."""
        plan = self.survey(n_jobs, verbose)
        batches = self.batches(plan)
        rows = np.empty((len(plan), self.settings.n_features))
        progress = Progress(len(plan), enabled=verbose > 0, label="Regions", unit="regions")
        for batch, batch_rows in self.rows(plan, batches, n_jobs):
            rows[batch.regions] = batch_rows
            progress.update(len(batch.regions))
        progress.close()
        return region_table(plan, rows, self.settings.feature_names)


def region_table(plan, rows, feature_names):
    """The DataFrame of a plan and its rows: label, bounding box, count, features."""
    import pandas as pd

    ndim = plan.boxes.shape[1] // 2
    rows = np.asarray(rows, dtype=np.float64).reshape(len(plan), len(feature_names))
    columns = {"label": plan.ids}
    for column, name in enumerate(region_box_names(ndim)):
        columns[name] = plan.boxes[:, column]
    columns["count"] = plan.counts
    columns.update((name, rows[:, j]) for j, name in enumerate(feature_names))
    return pd.DataFrame(columns)


def _threads(n_jobs):
    """Threads for the survey: ``n_jobs`` as joblib counts it, at least one."""
    try:
        count = effective_n_jobs(n_jobs)
    except ValueError:
        count = 1
    return max(1, min(count, os.cpu_count() or 1))


def _grouped_chunks(chunk_shape, shape):
    """Whole chunks grouped into a tile of about TILE_PIXELS pixels: the shortest axis doubled."""
    tile = [max(1, min(c, n)) for c, n in zip(chunk_shape, shape)]
    while np.prod(tile, dtype=np.float64) < TILE_PIXELS:
        growing = [a for a in range(len(tile)) if tile[a] < shape[a]]
        if not growing:
            break
        axis = min(growing, key=lambda a: (tile[a], -a))
        tile[axis] = min(shape[axis], 2 * tile[axis])
    return tuple(tile)


def _union_box(plan, members):
    ndim = plan.boxes.shape[1] // 2
    low = plan.boxes[members, :ndim].min(axis=0)
    high = plan.boxes[members, ndim:].max(axis=0)
    return tuple(slice(int(a), int(b)) for a, b in zip(low, high))


def _read_together(batches):
    """``batches`` in runs of consecutive batches of one tile (each larger region alone)."""
    group = []
    for batch in batches:
        if group and (batch.tile < 0 or batch.tile != group[-1].tile):
            yield group
            group = []
        group.append(batch)
    if group:
        yield group


def _part(pixels, box):
    """``box`` of the gray pixels, or of each channel image."""
    return pixels[box] if isinstance(pixels, np.ndarray) else [image[box] for image in pixels]


def _tile_summary(labels, box, name, pixels=None, image_name=None):
    """The labels of one tile: ``(ids, starts, ends, counts)`` in the image's coordinates.

    ``pixels``: the image's tile, checked for NaN and infinity (float images).
    """
    if pixels is not None and not np.isfinite(pixels).all():
        raise ValueError(f"{image_name}: image contains NaN or infinity (in the tile "
                         f"{_describe_box(box)})")
    ndim = labels.ndim
    try:
        ids, boxes, counts = present_labels(labels)
    except ValueError:
        raise ValueError(f"{name}: labels must be non-negative (0 is background); the tile "
                         f"{_describe_box(box)} holds {labels.min()}") from None
    corner = np.array([part.start for part in box], np.intp)
    starts = boxes[:, :ndim].astype(np.intp)
    ends = boxes[:, ndim:].astype(np.intp)
    return ids, starts + corner, ends + corner, counts.astype(np.intp)


def _merge(summaries, dtype, ndim):
    """The tiles' summaries merged by label: boxes by minimum and maximum, counts summed."""
    ids = np.concatenate([s[0] for s in summaries]) if summaries else np.array([], dtype)
    if not ids.size:
        return RegionPlan(ids.astype(dtype), np.empty((0, 2 * ndim), np.intp),
                          np.empty(0, np.intp))
    starts = np.concatenate([s[1] for s in summaries])
    ends = np.concatenate([s[2] for s in summaries])
    counts = np.concatenate([s[3] for s in summaries])
    order = np.argsort(ids, kind="stable")
    ids, starts, ends, counts = ids[order], starts[order], ends[order], counts[order]
    first = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    return RegionPlan(
        ids[first].astype(dtype, copy=False),
        np.hstack([np.minimum.reduceat(starts, first, axis=0),
                   np.maximum.reduceat(ends, first, axis=0)]).astype(np.intp),
        np.add.reduceat(counts, first).astype(np.intp),
    )


def _describe_box(box):
    return "[" + ", ".join(f"{part.start}:{part.stop}" for part in box) + "]"
