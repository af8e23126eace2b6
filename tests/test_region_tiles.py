"""Region tables tile by tile: Zarr, OME-Zarr, OME-TIFF and Dask inputs give the in-memory table.

The image is scikit-image's coins and its regions the coins (a threshold, then connected
components), written in chunks small enough that many regions cross chunk and tile borders.
Each region's row must be computed once, from its own pixels, and equal the in-memory row
bit for bit, in label order; the boxes and counts are exact integers whatever the tiles.
"""

import numpy as np
import pandas as pd
import pytest
import skimage.data
from skimage.filters import threshold_otsu
from skimage.measure import label as connected_components

from haralick_learn import region_features
from haralick_learn._regions import region_rows

zarr = pytest.importorskip("zarr")
tifffile = pytest.importorskip("tifffile")

SETTINGS = {"aggregate": "mean", "distance": [1, 2]}


@pytest.fixture(scope="module")
def coins():
    """coins() and its coins as uint32 labels, specks under 20 pixels dropped."""
    image = skimage.data.coins()
    labels = connected_components(image > threshold_otsu(image)).astype(np.uint32)
    labels[(np.bincount(labels.ravel()) < 20)[labels]] = 0
    return image, labels


def crossing(labels, tile):
    """How many labels have pixels in more than one tile of shape ``tile``."""
    rows, cols = np.nonzero(labels)
    tiles = (rows // tile[0]) * 1000 + cols // tile[1]
    per_label = pd.DataFrame({"label": labels[rows, cols], "tile": tiles})
    return int((per_label.groupby("label")["tile"].nunique() > 1).sum())


def write_zarr(path, array, chunks):
    stored = zarr.open_array(str(path), mode="w", shape=array.shape, chunks=chunks,
                             dtype=array.dtype)
    stored[...] = array
    return str(path)


def write_ngff(path, array, axes, chunks, version="0.4"):
    """An OME-Zarr image written by hand: a group, its multiscales metadata, level "0"
    (and a half-resolution level "1" that must not be read)."""
    if version == "0.5":
        pytest.importorskip("zarr", minversion="3")
        group = zarr.open_group(str(path), mode="w", zarr_format=3)
    else:
        group = zarr.open_group(str(path), mode="w", **(
            {"zarr_format": 2} if int(zarr.__version__.split(".")[0]) >= 3 else {}))
    spatial = [i for i, axis in enumerate(axes) if axis in "zyx"]
    half = array[tuple(slice(None, None, 2) if i in spatial else slice(None)
                       for i in range(array.ndim))]
    create = getattr(group, "create_array", None) or group.create_dataset  # zarr 3, zarr 2
    for name, level in (("0", array), ("1", half)):
        create(name, shape=level.shape, dtype=level.dtype, chunks=chunks)[...] = level
    kinds = {"t": "time", "c": "channel"}
    multiscales = [{
        "name": "image",
        "axes": [{"name": axis, "type": kinds.get(axis, "space")} for axis in axes],
        "datasets": [
            {"path": "0", "coordinateTransformations": [{"type": "scale",
                                                          "scale": [1.0] * len(axes)}]},
            {"path": "1", "coordinateTransformations": [{"type": "scale", "scale": [
                2.0 if axis in "zyx" else 1.0 for axis in axes]}]},
        ],
    }]
    if version == "0.5":
        group.attrs["ome"] = {"version": "0.5", "multiscales": multiscales}
    else:
        multiscales[0]["version"] = "0.4"
        group.attrs["multiscales"] = multiscales
    return str(path)


def write_ome_tiff(path, array, axes, tile=(64, 64), **kwargs):
    tifffile.imwrite(path, array, tile=tile, ome=True, metadata={"axes": axes}, **kwargs)
    return str(path)


def inputs(kind, folder, image, labels):
    """``image`` and ``labels`` stored as ``kind`` in ``folder``, chunked 64 x 64 (the labels
    48 x 80)."""
    if kind == "zarr":
        return (write_zarr(folder / "image.zarr", image, (64, 64)),
                write_zarr(folder / "labels.zarr", labels, (48, 80)))
    if kind in ("ome-zarr-0.4", "ome-zarr-0.5"):
        version = kind.rsplit("-", 1)[1]
        return (write_ngff(folder / "image.ome.zarr", image[None, None], "tcyx", (1, 1, 64, 64),
                           version),
                write_ngff(folder / "labels.ome.zarr", labels, "yx", (48, 80), version))
    if kind == "ome-tiff":
        return (write_ome_tiff(folder / "image.ome.tif", image, "YX"),
                write_ome_tiff(folder / "labels.ome.tiff", labels, "YX", tile=(48, 80)))
    if kind == "dask":
        da = pytest.importorskip("dask.array")
        return (da.from_array(image, chunks=(64, 64)),
                da.from_zarr(write_zarr(folder / "labels.zarr", labels, (48, 80))))
    if kind == "zarr-arrays":
        return (zarr.open_array(write_zarr(folder / "image.zarr", image, (64, 64)), mode="r"),
                zarr.open_array(write_zarr(folder / "labels.zarr", labels, (48, 80)), mode="r"))
    if kind == "labels-only":  # the image in memory, the labels on disk
        return image, write_zarr(folder / "labels.zarr", labels, (48, 80))
    if kind == "image-only":
        return write_zarr(folder / "image.zarr", image, (64, 64)), labels
    raise AssertionError(kind)


KINDS = ["zarr", "ome-zarr-0.4", "ome-zarr-0.5", "ome-tiff", "dask", "zarr-arrays",
         "labels-only", "image-only"]


@pytest.mark.parametrize("kind", KINDS)
def test_each_input_kind_gives_the_in_memory_table(coins, tmp_path, kind):
    image, labels = coins
    assert crossing(labels, (64, 64)) >= 15  # most regions cross tile borders
    expected = region_features(image, labels, **SETTINGS)
    assert len(expected) >= 20
    image_in, labels_in = inputs(kind, tmp_path, image, labels)
    # tiles of whole chunks, tiles across chunks, and the default (the whole image here)
    for tile_shape in ((64, 64), (48, 100), None) if kind == "zarr" else ((48, 100),):
        table = region_features(image_in, labels_in, tile_shape=tile_shape, **SETTINGS)
        pd.testing.assert_frame_equal(table, expected, check_exact=True)


#: The binning rules, each tried tile by tile on a 16-bit image and a float one.
WIDE_RULES = {
    "levels": {"levels": 32},
    "bin_width": {"features": "ibsi", "bin_width": "wide", "aggregate": "mean"},
    "gray_range": {"levels": 16, "gray_range": "image", "compute_14th_feature": True},
    "pyradiomics": {"features": ["skimage", "ibsi_MCC"], "offsets": "pyradiomics",
                    "symmetric": False},
}


# Float images tile by tile in the slow step: a batch's labels reach the compiled pass as int64
# there (int32 in memory), a compilation of seconds for each pixel type; the float rules are
# in test_region_pass.py's default run, in memory.
@pytest.mark.parametrize("depth, params", [
    pytest.param(depth, params, id=f"{depth}-{name}",
                 marks=[pytest.mark.slow] if depth == "float" else [])
    for depth in ("16-bit", "float") for name, params in WIDE_RULES.items()
])
def test_each_region_is_binned_from_its_own_pixels(coins, tmp_path, depth, params):
    """A 16-bit or float image: each region's levels from its own minimum and maximum (or
    its bins from its own minimum), read tile by tile as in memory."""
    image, labels = coins
    image = image.astype(np.uint16) * 251 + 300 if depth == "16-bit" else image / 255.0 - 0.3
    if params.get("bin_width") == "wide":
        params = {**params, "bin_width": 1500 if depth == "16-bit" else 0.03}
    expected = region_features(image, labels, **params)
    stored = write_zarr(tmp_path / "image.zarr", image, (64, 64))
    table = region_features(stored, write_zarr(tmp_path / "labels.zarr", labels, (32, 64)),
                            tile_shape=64, **params)
    pd.testing.assert_frame_equal(table, expected, check_exact=True)


@pytest.mark.parametrize("volume", [True, "2.5d"])
def test_volumes_tile_by_tile(coins, tmp_path, volume):
    """3-D Zarr and OME-TIFF volumes, blobs crossing tiles along all three axes."""
    image, _ = coins
    stack = np.stack([image[k : k + 150, :300] for k in range(0, 24, 2)])  # 12 x 150 x 300
    blobs = connected_components(stack > threshold_otsu(stack)).astype(np.int32)
    blobs[(np.bincount(blobs.ravel()) < 30)[blobs]] = 0
    params = {"volume": volume, "aggregate": "mean", "levels": 32}
    expected = region_features(stack, blobs, **params)
    assert len(expected) >= 10
    zarr_table = region_features(write_zarr(tmp_path / "stack.zarr", stack, (4, 32, 32)),
                                 write_zarr(tmp_path / "blobs.zarr", blobs, (5, 30, 40)),
                                 tile_shape=(5, 32, 48), **params)
    pd.testing.assert_frame_equal(zarr_table, expected, check_exact=True)
    tiff_table = region_features(write_ome_tiff(tmp_path / "stack.ome.tif", stack, "ZYX"),
                                 write_ome_tiff(tmp_path / "blobs.ome.tif", blobs, "ZYX"),
                                 tile_shape=(4, 64, 64), **params)
    pd.testing.assert_frame_equal(tiff_table, expected, check_exact=True)


@pytest.mark.parametrize("gray_conversion", ["exact", "mahotas"])
def test_8bit_colour_turns_gray_box_by_box(tmp_path, gray_conversion):
    """RGB OME-TIFF, with samples last (YXS) or channels first (CYX): the gray image of the
    in-memory table, converted one box at a time."""
    rgb = skimage.data.coffee()
    regions = connected_components(rgb[..., 0] > 150)
    regions[(np.bincount(regions.ravel()) < 20)[regions]] = 0
    params = {"gray_conversion": gray_conversion, "levels": 64}
    expected = region_features(rgb, regions, **params)
    samples = write_ome_tiff(tmp_path / "yxs.ome.tif", rgb, "YXS", photometric="rgb")
    channels = write_ome_tiff(tmp_path / "cyx.ome.tif", np.moveaxis(rgb, -1, 0), "CYX",
                              photometric="minisblack")
    for source in (samples, channels):
        table = region_features(source, regions, tile_shape=96, **params)
        pd.testing.assert_frame_equal(table, expected, check_exact=True)


def test_colour_spaces_need_the_image_in_memory(tmp_path):
    """color="hsv" with labels on disk: the channels converted once, as in memory; an image
    on disk is refused with the reason."""
    rgb = skimage.data.coffee()[:200, :300]
    regions = connected_components(rgb[..., 0] > 150)
    regions[(np.bincount(regions.ravel()) < 20)[regions]] = 0
    params = {"color": "hsv", "color_pairs": [("V", "H")], "aggregate": "mean"}
    stored = write_zarr(tmp_path / "regions.zarr", regions, (64, 64))
    pd.testing.assert_frame_equal(region_features(rgb, stored, tile_shape=64, **params),
                                  region_features(rgb, regions, **params), check_exact=True)
    on_disk = write_ome_tiff(tmp_path / "rgb.ome.tif", rgb, "YXS", photometric="rgb")
    with pytest.raises(ValueError, match=r"rgb.ome.tif'.*color='hsv' needs the image in memory"):
        region_features(on_disk, regions, **params)


def test_each_region_is_read_within_two_tiles_and_computed_once(coins, tmp_path, monkeypatch):
    """Memory follows the tile and the largest region: every box read is at most two tiles
    along each axis, or the bounding box of one region larger than a tile; and each label's
    row is computed exactly once, though many cross tile borders."""
    from haralick_learn import _region_tiles
    from haralick_learn.io import chunked as _chunked

    image, labels = coins
    labels = labels.copy()
    labels[150:154, 20:330] = 10_000  # a bar across five tiles
    tile = (64, 64)
    reads, computed = [], []
    read, rows = _chunked.ChunkedArray.read, _region_tiles.region_rows

    def recording_read(self, box):
        reads.append(tuple(part.stop - part.start for part in box))
        return read(self, box)

    def recording_rows(pixels, labels, ids, *args):
        computed.extend(ids.tolist())
        return rows(pixels, labels, ids, *args)

    monkeypatch.setattr(_chunked.ChunkedArray, "read", recording_read)
    monkeypatch.setattr(_region_tiles, "region_rows", recording_rows)
    table = region_features(write_zarr(tmp_path / "image.zarr", image, (32, 32)),
                            write_zarr(tmp_path / "labels.zarr", labels, (32, 32)),
                            tile_shape=tile, **SETTINGS)
    pd.testing.assert_frame_equal(table, region_features(image, labels, **SETTINGS),
                                  check_exact=True)
    assert sorted(computed) == table["label"].tolist()  # each once
    extents = table[["bbox_0_max", "bbox_1_max"]].to_numpy() - table[["bbox_0_min",
                                                                      "bbox_1_min"]].to_numpy()
    larger = {tuple(extent) for extent in extents.tolist() if max(np.subtract(extent, tile)) > 0}
    assert (4, 310) in larger  # the bar, and the coins' largest part of the background
    for shape in reads:
        assert all(n <= 2 * t for n, t in zip(shape, tile)) or shape in larger, shape
    assert larger <= set(reads)  # each read alone


def test_the_batches_of_a_tile_are_read_together(coins, tmp_path, monkeypatch):
    """A tile whose regions make several batches is read once for all of them (each chunk
    decoded once, not once per batch), each batch computed on its part of that box."""
    from haralick_learn import _region_tiles
    from haralick_learn.io import chunked as _chunked

    image, labels = coins
    monkeypatch.setattr(_region_tiles, "BATCH_REGIONS", 1)
    reads, computed = {"image.zarr": 0, "labels.zarr": 0}, []
    read, rows = _chunked.ChunkedArray.read, _region_tiles.region_rows

    def counting_read(self, box):
        reads[self.name.rsplit("/", 1)[-1].strip("'")] += 1
        return read(self, box)

    def recording_rows(pixels, labels, ids, *args):
        computed.append(ids.tolist())
        return rows(pixels, labels, ids, *args)

    monkeypatch.setattr(_chunked.ChunkedArray, "read", counting_read)
    monkeypatch.setattr(_region_tiles, "region_rows", recording_rows)
    tile = 128
    table = region_features(write_zarr(tmp_path / "image.zarr", image, (32, 32)),
                            write_zarr(tmp_path / "labels.zarr", labels, (32, 32)),
                            tile_shape=tile, **SETTINGS)
    pd.testing.assert_frame_equal(table, region_features(image, labels, **SETTINGS),
                                  check_exact=True)
    assert sorted(sum(computed, [])) == table["label"].tolist()  # each region once
    # a read per tile holding first corners of regions within a tile, and one per larger region
    starts = table[["bbox_0_min", "bbox_1_min"]].to_numpy()
    extents = table[["bbox_0_max", "bbox_1_max"]].to_numpy() - starts
    larger = (extents > tile).any(axis=1)
    n_reads = len({tuple(corner) for corner in (starts[~larger] // tile).tolist()}) + larger.sum()
    assert len(computed) >= n_reads + 5  # several batches in some tiles
    n_tiles = len(range(0, image.shape[0], tile)) * len(range(0, image.shape[1], tile))
    assert reads == {"image.zarr": n_reads, "labels.zarr": n_tiles + n_reads}  # + the survey


def test_ids_are_names_on_disk_too(coins, tmp_path):
    """Ids far apart (up to 2**40) and out of order, in uint64: the same rows, in label order."""
    image, labels = coins
    ids = labels.astype(np.uint64)
    ids[ids % 3 == 0] *= 2**40
    ids[ids % 3 == 1] += 2**33
    expected = region_features(image, ids, **SETTINGS)
    assert expected["label"].dtype == np.uint64
    table = region_features(image, write_zarr(tmp_path / "ids.zarr", ids, (64, 64)),
                            tile_shape=64, **SETTINGS)
    pd.testing.assert_frame_equal(table, expected, check_exact=True)


def test_64_bit_labels_are_read_by_value(coins, tmp_path):
    """64-bit labels: read as int32 when every one fits, else by their ids; a label of
    2**32 + k among the pixels of label k (which int32 would read as k) keeps its own."""
    image, labels = coins
    small = labels.astype(np.int64)
    k = np.bincount(small.ravel())[1:].argmax() + 1  # the largest coin: stripes of 4 rows
    far = small.copy()
    far[(small == k) & (np.arange(small.shape[0])[:, None] // 4 % 2 == 0)] = 2**32 + k
    for ids in (small, far):
        expected = region_features(image, ids, **SETTINGS)
        for tile in (64, 512):  # many crops; one crop that holds both labels
            table = region_features(image, write_zarr(tmp_path / f"ids{tile}.zarr", ids,
                                                      (64, 64)), tile_shape=tile, **SETTINGS)
            pd.testing.assert_frame_equal(table, expected, check_exact=True)
    assert 2**32 + k in expected["label"].tolist() and k in expected["label"].tolist()


def test_big_endian_inputs_are_read_by_value(coins):
    """Labels and images in big-endian byte order (Dask arrays of '>i4' and '>f8', as a
    big-endian .npy file or a Zarr v2 store gives them): the table of the same values."""
    da = pytest.importorskip("dask.array")
    image, labels = coins
    expected = region_features(image / 7, labels.astype(np.int32), **SETTINGS)
    big_endian_labels = da.from_array(labels.astype(">i4"), chunks=(48, 80))
    for image_in in (image / 7, da.from_array((image / 7).astype(">f8"), chunks=64)):
        table = region_features(image_in, big_endian_labels, tile_shape=64, **SETTINGS)
        pd.testing.assert_frame_equal(table, expected, check_exact=True)


def test_on_error_and_empty_labels(coins, tmp_path):
    image, labels = coins
    specks = labels.copy()
    specks[0, 0], specks[100, 63:65] = 7001, 7002  # one pixel; a pair across a tile border
    stored = write_zarr(tmp_path / "specks.zarr", specks, (64, 64))
    with pytest.raises(ValueError, match="label 7001"):
        region_features(image, stored, tile_shape=64)
    table = region_features(image, stored, tile_shape=64, on_error="nan", **SETTINGS)
    pd.testing.assert_frame_equal(
        table, region_features(image, specks, on_error="nan", **SETTINGS), check_exact=True)
    assert table.set_index("label").loc[7001].iloc[5:].isna().all()
    empty = write_zarr(tmp_path / "empty.zarr", np.zeros_like(labels), (64, 64))
    pd.testing.assert_frame_equal(region_features(image, empty, **SETTINGS),
                                  region_features(image, np.zeros_like(labels), **SETTINGS))


def test_n_jobs_gives_the_same_rows(coins, tmp_path):
    image, labels = coins
    params = {"features": ["haralick", "ibsi_MCC"], "compute_14th_feature": True, "levels": 16}
    stored = write_zarr(tmp_path / "labels.zarr", labels, (64, 64))
    pd.testing.assert_frame_equal(region_features(image, stored, n_jobs=2, tile_shape=64,
                                                  **params),
                                  region_features(image, labels, **params), check_exact=True)


#: The workers that computed batches of regions (the recorder below, run by them).
_WORKERS = []


def _rows_on_a_worker(*args):
    from distributed import get_worker

    _WORKERS.append(get_worker().address)  # raises outside a worker
    return region_rows(*args)


def test_dask_backend_computes_the_batches(coins, tmp_path, threaded_client, monkeypatch):
    """joblib.parallel_config(backend="dask"): the batches run on the cluster's workers, the
    rows those of memory (a Dask image too: read with Dask's local threads)."""
    import joblib

    from haralick_learn import _region_tiles

    da = pytest.importorskip("dask.array")
    image, labels = coins
    expected = region_features(image, labels, **SETTINGS)
    stored = write_zarr(tmp_path / "labels.zarr", labels, (64, 64))
    monkeypatch.setattr(_region_tiles, "region_rows", _rows_on_a_worker)
    _WORKERS.clear()
    with joblib.parallel_config(backend="dask"):
        table = region_features(da.from_array(image, chunks=64), stored, tile_shape=64,
                                **SETTINGS)
    pd.testing.assert_frame_equal(table, expected, check_exact=True)
    assert len(set(_WORKERS)) == 2


@pytest.mark.slow
def test_dask_backend_across_processes(coins, tmp_path, client):
    import joblib

    image, labels = coins
    stored = write_zarr(tmp_path / "labels.zarr", labels, (64, 64))
    with joblib.parallel_config(backend="dask"):
        table = region_features(write_zarr(tmp_path / "image.zarr", image, (64, 64)), stored,
                                tile_shape=64, **SETTINGS)
    pd.testing.assert_frame_equal(table, region_features(image, labels, **SETTINGS),
                                  check_exact=True)


def test_errors_name_the_inputs(coins, tmp_path):
    image, labels = coins
    image_path = write_zarr(tmp_path / "image.zarr", image, (64, 64))
    short = write_zarr(tmp_path / "short.zarr", labels[:200], (64, 64))
    with pytest.raises(ValueError, match=r"labels '.*short.zarr' of shape \(200, 384\) do not "
                       r"match the image's gray shape \(303, 384\) \(image '.*image.zarr'\)"):
        region_features(image_path, short)
    with pytest.raises(ValueError, match=r"the labels of shape \(200, 384\) do not match"):
        region_features(image_path, labels[:200])
    floats = write_zarr(tmp_path / "floats.zarr", labels.astype(np.float32), (64, 64))
    with pytest.raises(TypeError, match=r"labels '.*floats.zarr': .*integer label image"):
        region_features(image_path, floats)
    negative = labels.astype(np.int32)
    negative[250, 300] = -4
    with pytest.raises(ValueError, match=r"'.*negative.zarr': labels must be non-negative.*"
                       r"tile \[192:256, 256:320\] holds -4"):
        region_features(image, write_zarr(tmp_path / "negative.zarr", negative, (64, 64)),
                        tile_shape=64)
    nan = image / 255.0
    nan[10, 300] = np.nan
    with pytest.raises(ValueError, match=r"image '.*nan.zarr': image contains NaN"):
        region_features(write_zarr(tmp_path / "nan.zarr", nan, (64, 64)), labels)
    movie = write_ngff(tmp_path / "movie.ome.zarr", np.stack([image, image]), "tyx", (1, 64, 64))
    with pytest.raises(ValueError, match=r"movie.ome.zarr'.*axis 't' \(time\) has 2 entries"):
        region_features(movie, labels)
    stack = write_ngff(tmp_path / "stack.ome.zarr", np.stack([image] * 3), "zyx", (1, 64, 64))
    with pytest.raises(ValueError, match=r"stack.ome.zarr'.*needs volume=True"):
        region_features(stack, labels)
    group = zarr.open_group(str(tmp_path / "group.zarr"), mode="w")
    with pytest.raises(ValueError, match=r"group.zarr'.*without OME-Zarr \(NGFF\) 'multiscales'"):
        region_features(image, str(tmp_path / "group.zarr"))
    del group
    wide = write_ome_tiff(tmp_path / "wide.ome.tif", np.stack([image.astype(np.uint16)] * 3, -1),
                          "YXS", photometric="rgb")
    with pytest.raises(ValueError, match=r"wide.ome.tif'.*must be 8-bit \(uint8\), got uint16"):
        region_features(wide, labels)
    with pytest.raises(FileNotFoundError, match=r"labels '.*missing.zarr': no such file"):
        region_features(image, str(tmp_path / "missing.zarr"))
    with pytest.raises(ValueError, match=r"tile_shape must be a positive integer or 2 of them"):
        region_features(image_path, labels, tile_shape=(64, 0))
    with pytest.raises(ValueError, match=r"tile_shape must be"):
        region_features(image_path, labels, tile_shape=(64, 64, 64))


def test_ome_zarr_labels_group_of_an_image(coins, tmp_path):
    """An OME-Zarr image with its labels under ``labels/<name>`` (NGFF's image-label): the
    labels' group is read at full resolution, the image's channel axis of one dropped."""
    image, labels = coins
    root = write_ngff(tmp_path / "slide.ome.zarr", image[None], "cyx", (1, 64, 64))
    cells = write_ngff(tmp_path / "slide.ome.zarr" / "labels" / "coins", labels, "yx", (64, 64))
    zarr.open_group(root + "/labels", mode="a").attrs["labels"] = ["coins"]
    zarr.open_group(cells, mode="a").attrs["image-label"] = {"version": "0.4"}
    table = region_features(root, cells, tile_shape=64, **SETTINGS)
    pd.testing.assert_frame_equal(table, region_features(image, labels, **SETTINGS),
                                  check_exact=True)
