"""Region tables: ``region_features(image, labels)`` gives one row per label, equal to
featurizing each region's mask on its own (and, for rectangles, to mahotas on the crop).

Label images are honest: SLIC superpixels and connected components of
thresholds of the real images they go with.
"""

import mahotas
import numpy as np
import pandas as pd
import pytest
import skimage.data
from skimage.measure import label as connected_components
from skimage.measure import regionprops
from skimage.segmentation import slic

from haralick_learn import HaralickFeaturizer, region_features
from haralick_learn._regions import region_box_names, region_columns

from conftest import RTOL
from test_volumes import VOLUMES


@pytest.fixture(scope="module")
def coffee():
    rgb = skimage.data.coffee()[60:260, 100:400]
    labels = slic(rgb, n_segments=25, compactness=10, start_label=1)
    return rgb, labels


#: Every aggregate, feature set, offset convention, binning rule and colour space.
PARAMS = [
    {},
    {"distance": [1, 2], "aggregate": "mean"},
    {"levels": 32, "ignore_zeros": True, "compute_14th_feature": True},
    {"symmetric": False, "aggregate": "mean_ptp", "use_x_minus_y_variance": True},
    {"features": "ibsi", "bin_width": 25, "aggregate": "mean"},
    {"features": "skimage", "distance": [1, 3], "aggregate": "mean_std"},
    {"features": ["contrast", "ibsi_Idmn", "skimage_ASM"], "offsets": "pyradiomics",
     "distance": [1, 2], "aggregate": "min_max"},
    {"features": ["skimage", "ibsi"], "levels": 16, "gray_range": "image", "aggregate": "merged"},
    {"levels": 8, "gray_range": (40, 220), "distance": [1, 2], "aggregate": "mean_all"},
    {"gray_conversion": "mahotas", "preserve_haralick_bug": True},
    {"color": "rgb", "color_pairs": "all", "aggregate": "mean"},
    {"color": "hsv", "color_pairs": [("V", "H")], "symmetric": False, "bin_width": 16},
    {"color": "lab", "features": "skimage", "levels": 32, "gray_range": "image"},
]


def assert_rows_equal_the_featurizer(image, labels, params, **options):
    """The table of ``region_features`` is the featurizer's rows of ``(image, labels == k)``."""
    table = region_features(image, labels, **params, **options)
    featurizer = HaralickFeaturizer(**params)
    present = np.unique(labels[labels > 0])
    assert isinstance(table, pd.DataFrame)
    columns = region_columns(labels.ndim)
    assert list(table.columns) == [*columns, *featurizer.get_feature_names_out()]
    assert table["label"].tolist() == present.tolist()
    assert_boxes_and_counts_are_regionprops(table, labels)
    expected = featurizer.fit_transform([(image, labels == value) for value in present])
    np.testing.assert_array_equal(table.drop(columns=columns).to_numpy(), expected)
    return table


def assert_boxes_and_counts_are_regionprops(table, labels):
    """The bbox and count columns are skimage's ``bbox`` and ``num_pixels`` of each label."""
    props = regionprops(labels)
    assert table["label"].tolist() == [prop.label for prop in props]
    boxes = table[region_columns(labels.ndim)[1:-1]].to_numpy()
    np.testing.assert_array_equal(boxes, [prop.bbox for prop in props])
    np.testing.assert_array_equal(table["count"], [prop.num_pixels for prop in props])


@pytest.mark.parametrize("params", PARAMS, ids=lambda p: "-".join(p) or "default")
def test_each_row_equals_the_region_featurized_as_a_mask(coffee, params):
    rgb, labels = coffee
    assert_rows_equal_the_featurizer(rgb, labels, params)


@pytest.fixture(scope="module")
def camera_regions():
    """A crop of camera() and its SLIC superpixels."""
    gray = skimage.data.camera()[60:220, 140:340]
    return gray, slic(gray, n_segments=12, compactness=0.1, channel_axis=None, start_label=1)


@pytest.mark.parametrize("depth", ["16-bit", "float"])
@pytest.mark.parametrize("params", [
    {}, {"levels": 32}, {"levels": 16, "gray_range": "image", "aggregate": "mean"},
    {"bin_width": "wide", "features": "ibsi", "aggregate": "mean"},
], ids=["default", "levels", "gray_range", "bin_width"])
def test_wide_and_float_images_are_binned_from_each_regions_pixels(camera_regions, depth,
                                                                   params):
    """16-bit and float images: the levels of a region come from its own minimum and maximum
    (or its bins from its own minimum), as for a masked sample."""
    gray, labels = camera_regions
    image = gray.astype(np.uint16) * 257 + 7 if depth == "16-bit" else gray / 255.0
    if params.get("bin_width") == "wide":
        params = {**params, "bin_width": 1500 if depth == "16-bit" else 0.03}
    table = assert_rows_equal_the_featurizer(image, labels, params)
    # A region's rows do not depend on the rest of the image: one region alone gives the same.
    first = labels == 1
    alone = region_features(np.where(first, image, image.max()), first.astype(int), **params)
    np.testing.assert_array_equal(alone.iloc[0, 1:], table.iloc[0, 1:])


def test_n_jobs_gives_the_same_rows_in_label_order():
    """Parallel batches of regions: the rows of n_jobs=1, bit for bit (the 14th feature and
    IBSI's MCC too), whatever the number of batches."""
    rgb = skimage.data.coffee()[60:260, 100:400]
    labels = slic(rgb, n_segments=120, compactness=10, start_label=1)
    labels[labels % 5 == 0] *= 1000  # ids out of order of appearance, with gaps
    for params in ({"features": ["haralick", "ibsi_MCC"], "compute_14th_feature": True,
                    "levels": 16},
                   {"color": "rgb", "color_pairs": [("R", "G")], "aggregate": "mean"}):
        one = region_features(rgb, labels, n_jobs=1, **params)
        assert one["label"].tolist() == np.unique(labels).tolist()
        # three threads, a dozen batches of regions
        pd.testing.assert_frame_equal(region_features(rgb, labels, n_jobs=3, **params), one)
    assert_rows_equal_the_featurizer(rgb, labels, {"features": "ibsi", "bin_width": 25},
                                     n_jobs=2)


def test_a_process_backend_of_joblib_gives_the_same_rows(coffee):
    """Under joblib's multiprocessing backend (which, like Ray's, streams no results): the
    rows of n_jobs=1, in memory as tile by tile."""
    joblib = pytest.importorskip("joblib")
    rgb, labels = coffee
    one = region_features(rgb, labels, aggregate="mean")
    with joblib.parallel_config(backend="multiprocessing", n_jobs=2):
        for options in ({}, {"tile_shape": 100}):
            pd.testing.assert_frame_equal(region_features(rgb, labels, aggregate="mean",
                                                          **options), one)


def test_every_settings_parameter_is_taken_and_documented(coffee):
    """The names come from TextureSettings.from_params: each of them, at its default, is
    taken, gives the default table, and is in the docstring."""
    import inspect

    from haralick_learn._settings import TextureSettings

    rgb, labels = coffee
    crop, labels = rgb[:60, :80], labels[:60, :80]
    default = region_features(crop, labels)
    signature = inspect.signature(TextureSettings.from_params)
    names = [name for name, p in signature.parameters.items() if p.kind is p.KEYWORD_ONLY]
    assert len(names) >= 17
    for name in names:
        given = region_features(crop, labels, **{name: signature.parameters[name].default})
        pd.testing.assert_frame_equal(given, default)
        assert f"``{name}``" in region_features.__doc__, name


def test_rectangular_regions_equal_mahotas_on_their_crops():
    gray = skimage.data.camera()
    labels = np.zeros(gray.shape, np.int32)
    boxes = {3: (slice(10, 90), slice(20, 200)), 9: (slice(300, 420), slice(250, 330))}
    for value, box in boxes.items():
        labels[box] = value
    table = region_features(gray, labels, distance=[1, 3])
    for value, box in boxes.items():
        row = table.loc[table["label"] == value].drop(columns=region_columns(2)).to_numpy()[0]
        expected = np.concatenate([mahotas.features.haralick(gray[box], distance=d).ravel()
                                   for d in (1, 3)])
        np.testing.assert_allclose(row, expected, rtol=RTOL, atol=0)


def test_volume_regions_equal_masked_volumes():
    volume = VOLUMES["camera"]()
    labels = connected_components(volume > np.median(volume))
    big = np.flatnonzero(np.bincount(labels.ravel())[1:] >= 30) + 1
    labels = np.where(np.isin(labels, big), labels, 0)
    table = region_features(volume, labels, volume=True, aggregate="mean")
    assert table["label"].tolist() == big.tolist()
    expected = HaralickFeaturizer(volume=True, aggregate="mean").fit_transform(
        [(volume, labels == value) for value in big])
    np.testing.assert_array_equal(table.drop(columns=region_columns(3)).to_numpy(), expected)
    assert_boxes_and_counts_are_regionprops(table, labels)


@pytest.mark.parametrize("volume_mode, aggregate", [
    (True, "mean"), ("3d", "merged"), ("2.5d", "mean"), ("2.5d", "merged"), ("2d", "mean"),
])
def test_volume_regions_in_every_mode_equal_the_featurizer(volume_mode, aggregate):
    """A real 3-D label image (supervoxels of a real volume, and the connected parts of its
    threshold): each label's row is the featurizer's row of ``(volume, labels == label)``."""
    volume = VOLUMES["brick"]()
    supervoxels = slic(volume, n_segments=12, compactness=0.1, channel_axis=None,
                       start_label=1)
    parts = connected_components(volume > np.percentile(volume, 60))
    parts[(np.bincount(parts.ravel()) < 40)[parts]] = 0  # drop specks
    params = {"features": "ibsi", "bin_width": 25, "aggregate": aggregate,
              "volume": volume_mode}
    for labels in (supervoxels, parts):
        assert len(np.unique(labels[labels > 0])) >= 4
        assert_rows_equal_the_featurizer(volume, labels, params)


def test_labels_with_gaps_and_background_only(coffee):
    rgb, labels = coffee
    sparse = np.where(labels % 3 == 0, labels * 10, 0)
    table = region_features(rgb, sparse)
    assert table["label"].tolist() == sorted(set(np.unique(sparse)) - {0})
    empty = region_features(rgb, np.zeros(labels.shape, np.int64))
    assert empty.shape == (0, 6 + 52) and list(empty.columns[:6]) == region_columns(2)


@pytest.mark.parametrize("big, dtype", [(2**40, np.int64), (2**64 - 1, np.uint64)],
                         ids=["2**40", "uint64-max"])
def test_label_ids_are_names_not_counts(big, dtype):
    # find_objects lists every id up to the largest: 2**40 raised MemoryError.
    gray = skimage.data.camera()[:80, :120]
    small = np.zeros(gray.shape, np.int64)
    small[:, :60], small[10:70, 70:110] = 1, 2
    large = np.zeros(gray.shape, dtype)
    large[small == 1], large[small == 2] = 7, big
    table = region_features(gray, large, distance=[1, 2])
    assert table["label"].tolist() == [7, big] and table["label"].dtype == dtype
    expected = region_features(gray, small, distance=[1, 2])
    np.testing.assert_array_equal(table.drop(columns="label").to_numpy(),
                                  expected.drop(columns="label").to_numpy())
    assert_boxes_and_counts_are_regionprops(expected, small)


def test_big_endian_arrays_are_read_by_value(coffee):
    """Labels and a float image in big-endian byte order (as a .npy file or a FITS image may
    hold them): the table of the same values, its label column in the machine's order."""
    rgb, labels = coffee
    gray = rgb[..., 1] / 7.0
    expected = region_features(gray, labels.astype(np.int32), aggregate="mean")
    for options in ({}, {"tile_shape": 64}):
        table = region_features(gray.astype(">f8"), labels.astype(">i4"), aggregate="mean",
                                **options)
        pd.testing.assert_frame_equal(table, expected, check_exact=True)

@pytest.mark.parametrize("params", [{}, {"color": "rgb", "color_pairs": "all"}],
                         ids=["gray", "colour"])
def test_a_region_without_pairs_names_its_label_or_gets_nan(coffee, params):
    rgb, labels = coffee
    labels = labels.copy()
    labels[0, 0] = 99  # a one-pixel region
    with pytest.raises(ValueError, match="label 99: .*no pixel pair inside its mask"):
        region_features(rgb, labels, **params)
    table = region_features(rgb, labels, on_error="nan", **params)
    assert np.isnan(table.iloc[-1, 6:].to_numpy(float)).all()
    assert table.iloc[-1, :6].tolist() == [99, 0, 0, 1, 1, 1]
    assert np.isfinite(table.iloc[:-1, 6:].to_numpy(float)).all()


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda g, l: region_features(g, l[:-1]), ValueError, "do not match"),
        (lambda g, l: region_features(g, l.astype(float)), TypeError, "integer label image"),
        (lambda g, l: region_features(g, -l), ValueError, "non-negative"),
        (lambda g, l: region_features(g, l, level=8), TypeError,
         r"unknown parameters \['level'\]; it takes distance, .*, levels, .* n_jobs"),
        (lambda g, l: region_features(g, l, memory="cache"), TypeError,
         "region_features takes no memory: the featurizer's cache keeps the rows of whole"),
        (lambda g, l: region_features(g, l, on_error="skip"), ValueError, "on_error"),
        (lambda g, l: region_features(g, l, levels=1), ValueError, "levels"),
        # refused, not a row of NaN for every region
        (lambda g, l: region_features(g, l, backend="mahotas", on_error="nan"), ValueError,
         "backend='mahotas' has none"),
        (lambda g, l: region_features(g, l, backend="mahotas", on_error="nan", tile_shape=64),
         ValueError, "backend='mahotas' has none"),
    ],
    ids=["shape", "float", "negative", "unknown", "memory", "on_error", "levels", "mahotas",
         "mahotas-tiles"],
)
def test_bad_arguments_are_refused(coffee, call, error, message):
    rgb, labels = coffee
    with pytest.raises(error, match=message):
        call(rgb, labels)


def test_a_label_file_that_is_not_read_tile_by_tile_is_refused_naming_it(tmp_path):
    """A path to a NIfTI or PNG label file (which ``haralick-learn regions`` reads) is not one
    of the stores read here: refused naming it, before the image is read."""
    nibabel = pytest.importorskip("nibabel")
    from PIL import Image

    volume = VOLUMES["camera"]()
    labels = connected_components(volume > np.median(volume)).astype(np.uint16)
    nibabel.save(nibabel.Nifti1Image(labels, np.eye(4)), tmp_path / "organs.nii.gz")
    Image.fromarray(labels[0]).save(tmp_path / "cells.png")
    for path, image, volume_mode in ((tmp_path / "organs.nii.gz", volume, True),
                                     (str(tmp_path / "cells.png"), volume[0], False)):
        with pytest.raises(TypeError, match=r"labels '.*(organs\.nii\.gz|cells\.png)': a path "
                                            r"to labels is a Zarr store.*integer array"):
            region_features(image, path, volume=volume_mode)


def test_verbose_shows_the_regions_done_on_standard_error(capsys):
    """The progress of a table on standard error, and the same rows as without it."""
    image = skimage.data.coins()[:120, :160]
    labels = connected_components(image > np.median(image))
    quiet = region_features(image, labels, aggregate="mean", on_error="nan")  # specks: NaN
    assert capsys.readouterr().err == ""
    shown = region_features(image, labels, aggregate="mean", on_error="nan", verbose=1,
                            n_jobs=2)
    captured = capsys.readouterr()
    assert captured.out == ""
    done = f"Regions [{'#' * 30}] {len(quiet)}/{len(quiet)} regions"
    assert captured.err.splitlines()[-1].startswith(done)
    pd.testing.assert_frame_equal(shown, quiet)


@pytest.mark.parametrize("params", [{"compute_14th_feature": True}, {"features": "ibsi"}])
def test_eigenvalue_features_follow_no_n_jobs_nor_blas_threads(params):
    """The MCC columns (eigenvalues) are the same whatever n_jobs and the process's BLAS
    threads, in memory and tile by tile, and in texture maps: no BLAS computes them."""
    from threadpoolctl import threadpool_limits

    from haralick_learn import texture_maps

    image = skimage.data.coins()
    labels = connected_components(image > 110)
    expected = region_features(image, labels, on_error="nan", **params)
    with threadpool_limits(limits=2, user_api="blas"):  # the suite itself runs on one
        for extra in ({"n_jobs": 2}, {"n_jobs": 2, "tile_shape": 128}):
            table = region_features(image, labels, on_error="nan", **params, **extra)
            pd.testing.assert_frame_equal(table, expected, check_exact=True)
        maps = texture_maps(image[:96, :96], 15, step=8, levels=64, n_jobs=2, **params)
    np.testing.assert_array_equal(
        maps, texture_maps(image[:96, :96], 15, step=8, levels=64, **params))


def test_batches_hold_as_many_regions_as_their_pixels_allow(monkeypatch):
    """Regions go through the pass in batches of boxes of at most so many pixels (one region
    alone when its box is larger), four per worker with several workers; the rows are the
    same in any batch, and in label order."""
    import haralick_learn._regions as regions_module
    from haralick_learn._pipeline import rows_from_labels

    rgb = skimage.data.coffee()[60:260, 100:400]
    labels = slic(rgb, n_segments=120, compactness=10, start_label=1)
    expected = region_features(rgb, labels, levels=32)
    boxes = expected[region_box_names(2)].to_numpy()
    pixels = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    seen = []
    # each batch's first region and size (threads may finish them in any order)
    monkeypatch.setattr(regions_module, "rows_from_labels",
                        lambda gray, labels, boxes, numbers, *args:
                        seen.append((int(numbers[0]), len(boxes)))
                        or rows_from_labels(gray, labels, boxes, numbers, *args))
    for budget in (int(pixels.max()) // 2, 3 * int(pixels.max()), 10**9):
        monkeypatch.setattr(regions_module, "_BATCH_PIXELS", budget)
        for n_jobs in (1, 2):
            seen.clear()
            table = region_features(rgb, labels, levels=32, n_jobs=n_jobs)
            pd.testing.assert_frame_equal(table, expected, check_exact=True)
            # consecutive batches, each within the budget unless it is one region
            sizes = [size for _, size in sorted(seen)]
            ends = np.cumsum(sizes)
            assert [first for first, _ in sorted(seen)] == list(np.r_[0, ends[:-1]] + 1)
            for start, stop in zip(np.r_[0, ends[:-1]], ends):
                assert stop - start == 1 or pixels[start:stop].sum() <= budget
            if n_jobs == 2:
                assert len(seen) >= 8
            elif budget == 10**9:
                assert sizes == [len(table)]  # one worker: one pass for all
            elif budget < pixels.max():
                assert 1 in sizes  # the largest box alone


def test_a_second_table_reuses_its_working_arrays():
    """The labels' int32 copy and the regions' levels are kept from one table to the next
    (a new image-sized array each time costs its page faults): the second table of an
    image allocates a fraction of them."""
    import tracemalloc

    rgb = skimage.data.astronaut()
    gray = mahotas.colors.rgb2gray(rgb, dtype=np.uint8)
    small = slic(rgb, n_segments=200, compactness=10, start_label=1)
    # 1024 x 1024 pixels: a 4 MB copy of the labels, about as much of levels
    gray, labels = (np.kron(a, np.ones((2, 2), a.dtype)) for a in (gray, small))
    first = region_features(gray, labels)
    tracemalloc.start()
    try:
        second = region_features(gray, labels)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    pd.testing.assert_frame_equal(second, first, check_exact=True)
    assert peak < labels.size * 4 / 4, f"{peak / 2**20:.1f} MB at the peak"


@pytest.mark.parametrize("params", [{"features": "ibsi", "bin_width": 25},
                                    {"features": ["haralick", "ibsi_MCC"], "levels": 32},
                                    {"features": "skimage", "levels": 64}])
def test_batches_reusing_working_arrays_give_each_regions_own_row(monkeypatch, params):
    """Batch after batch in one thread, and table after table, the matrices' sums,
    probabilities and logarithms come from the arrays of the batch before (of other sizes:
    other regions' levels): every row is still the region's own."""
    import haralick_learn._buffers as buffers
    import haralick_learn._regions as regions_module

    rgb = skimage.data.coffee()[60:260, 100:400]
    labels = slic(rgb, n_segments=60, compactness=10, start_label=1)
    for name in ("_BATCH", "_STATISTICS_BATCH"):
        monkeypatch.setattr(regions_module, name, 7)
    table = assert_rows_equal_the_featurizer(rgb, labels, params)
    assert len(table) > 3 * 7  # a few batches
    kept = buffers._REUSED.__dict__["arrays"]
    assert kept and sum(array.nbytes for array in kept) <= buffers.REUSED_BYTES
    # the next table, from the same arrays (a crop: other regions, other levels)
    assert_rows_equal_the_featurizer(rgb[20:], labels[20:], params)
