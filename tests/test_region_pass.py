"""Region tables in one compiled pass: the rows of every region, bit for bit those of featurizing
each region on its own, for every setting the pass covers.

The reference is the region-by-region path (``_Regions.rows_one_by_one``, which each region's
``HaralickFeaturizer`` row equals: see test_regions.py). Label images are real: SLIC
superpixels, and the nuclei of mahotas's fluorescence image split by a watershed.
"""

import itertools

import mahotas.demos
import numpy as np
import pytest
import skimage.data
from scipy import ndimage
from skimage.feature import peak_local_max
from skimage.measure import label as connected_components
from skimage.segmentation import slic, watershed

from haralick_learn import region_features
from haralick_learn.texture.counting import (cooccurrence, cooccurrence_sums, crop_matrices,
                                             crop_sums, in_a_table)
from haralick_learn.io.decode import load_gray
from haralick_learn._pipeline import covers_regions, rows_from_labels
from haralick_learn.preprocess.quantize import REGION_DONE, _range_edges, quantize, quantize_regions
from haralick_learn._regions import _Regions, _survey, label_boxes, region_columns
from haralick_learn._settings import TextureSettings

from test_volumes import VOLUMES


def nuclei():
    """A crop of mahotas's fluorescence image of nuclei, split by a threshold and a watershed,
    with a one-pixel region in its corner."""
    gray = mahotas.demos.load("nuclear")[200:520, 300:760, 0]
    inside = ndimage.gaussian_filter(gray.astype(float), 2) > 32
    distance = ndimage.distance_transform_edt(inside)
    peaks = peak_local_max(distance, min_distance=10, labels=connected_components(inside),
                           exclude_border=False)
    markers = np.zeros(gray.shape, np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    labels = watershed(-distance, markers, mask=inside)
    labels[2, 2] = labels.max() + 1
    return gray, labels


@pytest.fixture(scope="module")
def images():
    """Real images of every pixel type, each with its label image."""
    camera = skimage.data.camera()[80:260, 120:400]
    camera_labels = slic(camera, n_segments=40, compactness=0.1, channel_axis=None,
                         start_label=1)
    coffee = skimage.data.coffee()[60:260, 100:400]
    mixed = camera.astype(np.uint16)
    mixed[:, 140:] = mixed[:, 140:] * 200  # regions within 0..255 and regions beyond
    return {
        "coffee": (coffee, slic(coffee, n_segments=50, compactness=10, start_label=1)),
        "nuclei": nuclei(),
        "camera-16bit": (camera.astype(np.uint16) * 257 + 7, camera_labels),
        "camera-mixed": (mixed, camera_labels),
        "camera-float": (camera / 255.0, camera_labels),
        "camera-float32": ((camera / 255.0).astype(np.float32), camera_labels),
        "camera-negative": (camera.astype(np.int32) - 100, camera_labels),
    }


def compact_labels(labels):
    """``(ids, compact)`` as region_features makes them: int64 labels within int32's range
    become int32, the labels the compiled pass reads (each type of labels would compile it
    again, for seconds per pixel type)."""
    ids, compact, _, _ = _survey(labels)
    return ids, compact


def regions_of(image, labels, settings):
    """What region_features hands a batch: the gray image, compact labels, boxes, numbers."""
    gray = load_gray(image, 0, volume=settings.volume, gray_conversion=settings.gray_conversion)
    ids, compact = compact_labels(labels)
    corners, counts = label_boxes(compact, len(ids))
    return gray, compact, corners, ids, np.flatnonzero(counts)


def one_by_one(image, labels, **params):
    """The rows of each label, region by region (the path the compiled pass replaces)."""
    settings = TextureSettings.from_params(**params)
    gray, compact, corners, ids, present = regions_of(image, labels, settings)
    return _Regions(gray, compact, corners, ids, settings, True).rows_one_by_one(present)


def assert_pass_equals_one_by_one(image, labels, params):
    """region_features's rows are those of region by region, and the compiled pass computed
    them all but the regions without pairs (NaN rows)."""
    settings = TextureSettings.from_params(**params)
    assert covers_regions(settings)
    table = region_features(image, labels, on_error="nan", **params)
    rows = table.drop(columns=region_columns(labels.ndim)).to_numpy()
    expected = one_by_one(image, labels, **params)
    np.testing.assert_array_equal(rows, expected)
    gray, compact, corners, _, present = regions_of(image, labels, settings)
    computed, left = rows_from_labels(gray, compact, corners[present], present + 1, settings)
    np.testing.assert_array_equal(computed[~left], expected[~left])
    assert np.isnan(expected[left]).all() and (~left).sum() >= 4
    return rows


#: Binning rules, distances, offsets, asymmetry, zeros left out, every aggregate, feature sets
#: from the sums and from the matrices.
PARAMS = [
    {},
    {"distance": [1, 2], "aggregate": "mean"},
    {"levels": 32, "ignore_zeros": True},
    {"symmetric": False, "aggregate": "mean_ptp", "use_x_minus_y_variance": True},
    {"features": "ibsi", "bin_width": 25, "aggregate": "mean"},
    {"features": "ibsi", "levels": 64},
    {"features": "skimage", "distance": [1, 3], "aggregate": "mean_std"},
    {"features": ["contrast", "ibsi_Idmn", "skimage_ASM"], "offsets": "pyradiomics",
     "distance": [1, 2], "aggregate": "min_max"},
    {"levels": 8, "gray_range": (40, 220), "distance": [1, 2], "aggregate": "mean_all"},
    {"levels": 16, "gray_range": "image", "aggregate": "mean"},
    {"offsets": "skimage", "distance": [2, 3], "preserve_haralick_bug": True},
    {"offsets": [(0, 1), (2, 1)], "symmetric": False},
    {"features": ["ibsi_JointEntropy", "ibsi_Imc1", "ibsi_MaximumProbability", "contrast"],
     "symmetric": False, "levels": 16, "ignore_zeros": True},
]


def image_params(name, params):
    """``params`` with a bin width and a fixed range that suit the image's values."""
    params = dict(params)
    if "bin_width" in params and name.startswith("camera"):
        params["bin_width"] = {"camera-16bit": 1500, "camera-mixed": 900.5}.get(name, 0.03)
        if name == "camera-negative":
            params["bin_width"] = 12.5  # not an integer: numpy's edges
        # camera-mixed's is not an integer either: numpy's edges of an unsigned image in the
        # default run, camera-negative's of a signed one in the slow step
    if isinstance(params.get("gray_range"), tuple) and name.startswith("camera-float"):
        params["gray_range"] = (0.1, 0.9)
    return params


#: The binning rules, tried on every pixel type.
BINNING = [{}, {"levels": 32, "ignore_zeros": True}, PARAMS[4], PARAMS[5], PARAMS[8], PARAMS[9]]


@pytest.mark.parametrize("params", PARAMS, ids=lambda p: "-".join(p) or "default")
@pytest.mark.parametrize("name", ["coffee", "nuclei"])
def test_rows_equal_region_by_region(images, name, params):
    image, labels = images[name]
    assert_pass_equals_one_by_one(image, labels, params)


#: The images beyond 8 bits. Each pixel type compiles the region pass again (seconds per xdist
#: worker): the default run tries 16-bit and float64 images, the slow step float32 and signed
#: ones too (float32's edges are numpy's in test_range_edges_are_numpys_histogram_edges).
WIDE = ["camera-16bit", "camera-mixed", "camera-float", "camera-float32", "camera-negative"]
SLOW_TYPES = ("camera-float32", "camera-negative")


@pytest.mark.parametrize("params", BINNING, ids=lambda p: "-".join(p) or "default")
@pytest.mark.parametrize("name", [
    pytest.param(name, marks=[pytest.mark.slow] if name in SLOW_TYPES else []) for name in WIDE])
def test_wide_float_and_signed_images_equal_region_by_region(images, name, params):
    """Each region binned by its own rule: 8-bit or not, from its own minimum and maximum, its
    own bins (numpy's edges for a float width or range), whatever the pixel type."""
    image, labels = images[name]
    assert_pass_equals_one_by_one(image, labels, image_params(name, params))


@pytest.mark.parametrize("params", [
    {"volume": True, "aggregate": "mean"},
    {"volume": "2.5d", "features": ["ibsi_JointEntropy", "ibsi_Contrast"], "bin_width": 25},
    {"volume": True, "levels": 32, "distance": [1, 2], "symmetric": False},
], ids=["3d", "2.5d-ibsi", "3d-levels"])
def test_volume_rows_equal_region_by_region(params):
    """3-D labels: supervoxels and the connected parts of a threshold of a real volume."""
    volume = VOLUMES["brick"]()
    supervoxels = slic(volume, n_segments=12, compactness=0.1, channel_axis=None,
                       start_label=1)
    parts = connected_components(volume > np.percentile(volume, 60))
    for labels in (supervoxels, parts):  # parts: specks without pairs among them
        assert_pass_equals_one_by_one(volume, labels, params)
        assert_pass_equals_one_by_one(volume.astype(np.uint16) * 3, labels, params)


def test_regions_without_pairs_raise_or_get_nan_as_region_by_region(images):
    """A one-pixel region, and a one-pixel-wide line without diagonal neighbours: the error
    names the label, or its row is NaN, exactly as region by region."""
    gray, labels = images["nuclei"]
    labels = labels.copy()
    labels[10, 0:30:2] = 500  # pixels two apart: no pair at distance 1
    lone = labels[2, 2]  # the first region without pairs, in label order
    with pytest.raises(ValueError, match=f"label {lone}: image of shape \\(1, 1\\) has no "
                                         "pixel pair inside its mask at distance 1"):
        region_features(gray, labels)
    with pytest.raises(ValueError, match="label 500: image of shape \\(1, 29\\) has no pixel "
                                         "pair inside its mask"):
        region_features(gray, np.where(labels == lone, 0, labels))
    table = region_features(gray, labels, on_error="nan")
    rows = table.drop(columns=region_columns(2)).to_numpy()
    np.testing.assert_array_equal(rows, one_by_one(gray, labels))
    assert np.isnan(rows[table["label"] == 500]).all()
    one_pixel = table["count"] == 1
    assert one_pixel.sum() >= 1 and np.isnan(rows[one_pixel.to_numpy()]).all()
    # distance 2: the line has horizontal pairs there (its other directions none: NaN)
    far = region_features(gray, labels, distance=[2], on_error="nan")
    line = far.loc[far["label"] == 500].iloc[0, 6:].to_numpy(float)
    assert np.isfinite(line[:13]).all() and np.isnan(line[13:]).all()
    np.testing.assert_array_equal(far.iloc[:, 6:].to_numpy(),
                                  one_by_one(gray, labels, distance=[2]))


def test_regions_the_pass_leaves_go_region_by_region(images):
    """A bin width that makes more than 1024 bins in some regions: region by region raises
    pyradiomics's error for them, or gives them NaN; the other regions come from the pass."""
    image, labels = images["camera-16bit"]
    params = {"bin_width": 40, "aggregate": "mean"}
    settings = TextureSettings.from_params(**params)
    ids, compact = compact_labels(labels)
    boxes = ndimage.find_objects(compact)
    corners = np.array([[axis.start for axis in box] + [axis.stop for axis in box]
                        for box in boxes])
    rows, left = rows_from_labels(image, compact, corners, np.arange(1, len(boxes) + 1),
                                  settings)
    assert 0 < left.sum() < len(left)  # wide regions left, the others done
    with pytest.raises(ValueError, match="makes .* levels, more than 1024"):
        region_features(image, labels, **params)
    table = region_features(image, labels, on_error="nan", **params)
    np.testing.assert_array_equal(table.iloc[:, 6:].to_numpy(),
                                  one_by_one(image, labels, **params))
    assert np.isnan(table.iloc[:, 6:].to_numpy()[left]).all()
    np.testing.assert_array_equal(table.iloc[:, 6:].to_numpy()[~left], rows[~left])


@pytest.mark.parametrize("params, covered", [
    ({}, True), ({"features": "ibsi"}, True), ({"volume": True}, True),
    ({"color": "rgb"}, False), ({"aggregate": "merged"}, False),
    ({"backend": "mahotas"}, False), ({"compute_14th_feature": True}, False),
    ({"volume": "2d"}, False),
])
def test_settings_the_pass_covers(params, covered):
    assert covers_regions(TextureSettings.from_params(**params)) is covered


@pytest.mark.parametrize("params", [
    {}, {"levels": 8}, {"levels": 256}, {"bin_width": 20}, {"bin_width": 0.04},
    {"gray_range": "image", "levels": 12}, {"gray_range": (30, 200), "levels": 5},
], ids=["default", "levels", "levels-256", "width", "float-width", "image-range",
        "fixed-range"])
@pytest.mark.parametrize("names", [
    pytest.param(["coffee", "nuclei"] + [name for name in WIDE if name not in SLOW_TYPES],
                 id="8-bit-16-bit-float"),
    pytest.param(SLOW_TYPES, id="float32-signed", marks=pytest.mark.slow),
])
def test_quantize_regions_is_quantize_of_each_masked_crop(images, params, names):
    """Each region's levels inside its mask, and its number of levels, as ``quantize`` gives
    them for its crop and mask, whatever the pixel type; labels of int64 (coffee's) and int32
    (the others', as region_features narrows them)."""
    settings = TextureSettings.from_params(**params)
    for name in names:
        image, labels = images[name]
        if name != "coffee":
            labels = compact_labels(labels)[1]
        gray = load_gray(image, 0)
        if isinstance(settings.gray_range, tuple) and gray.dtype.kind == "f":
            continue
        boxes = ndimage.find_objects(labels)
        numbers = [k + 1 for k, box in enumerate(boxes) if box is not None]
        corners = np.array([[axis.start for axis in boxes[n - 1]]
                            + [axis.stop for axis in boxes[n - 1]] for n in numbers])
        crops = quantize_regions(gray, labels, corners, np.array(numbers), settings)
        for i, number in enumerate(numbers):
            mask = labels[boxes[number - 1]] == number
            try:
                expected = quantize(gray[boxes[number - 1]], settings, mask)
            except ValueError:  # refused (too many bins): left to quantize
                assert crops.status[i] != REGION_DONE
                continue
            assert crops.status[i] == REGION_DONE
            crop = crops.levels[crops.starts[i]:crops.starts[i] + mask.size].reshape(mask.shape)
            np.testing.assert_array_equal(crop[mask], expected[mask], err_msg=name)
            assert (crop[~mask] == crops.n_levels[i]).all()
            assert crops.n_levels[i] == int(expected[mask].max()) + 1
            assert crops.lowest[i] == expected[mask].min()


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.float16, np.float32,
                                   np.float64])
def test_range_edges_are_numpys_histogram_edges(dtype):
    """One linspace over all the regions' ranges: numpy's edges of each region, exactly."""
    image = skimage.data.camera()[::4, ::4].astype(np.float64)
    values = (image / 255.0 * 3 - 1).astype(dtype) if dtype in (np.float16, np.float32,
                                                                 np.float64) else (
        image.astype(dtype) * (3 if dtype == np.uint16 else 1))
    blocks = values.reshape(16, -1)
    lows, highs = blocks.min(axis=1), blocks.max(axis=1)
    lows[3] = highs[3]  # a flat region
    for n_levels in (2, 16, 256):
        edges = _range_edges(lows, highs, n_levels)
        for k in range(16):
            region = np.array([lows[k], highs[k]], dtype=dtype)
            try:
                expected = np.histogram_bin_edges(region, n_levels)
            except ValueError:  # "too many bins" (float16): edges that do not increase
                assert (edges[k][:-1] >= edges[k][1:]).any()
                continue
            np.testing.assert_array_equal(edges[k], expected)
            assert edges.dtype == expected.dtype


def test_crop_sums_and_matrices_are_those_of_each_masked_crop(images):
    """The sums and matrices of every region, field by field, as counted crop by crop."""
    gray, labels = images["nuclei"]
    boxes = ndimage.find_objects(labels)
    corners = np.array([[b.start for b in box] + [b.stop for b in box] for box in boxes])
    offsets = np.array([[0, 0, 1], [0, 1, 1], [0, 1, 0], [0, 1, -1], [0, 2, -1]])
    # 32 levels: tables of the crops' ranges; 256 levels (the gray image's, stretched): some
    # ranges too wide for a table, counted sparsely
    for params, symmetric in itertools.product([{"levels": 32}, {}], (True, False)):
        settings = TextureSettings.from_params(**params)
        stretched = gray if params else (gray.astype(np.uint16) * 4).clip(0, 255).astype(np.uint8)
        crops = quantize_regions(stretched, labels, corners, np.arange(1, len(boxes) + 1),
                                 settings)
        sparse = ~np.array([in_a_table(span, n) for span, n in zip(
            crops.n_levels - crops.lowest + 1, crops.shapes.prod(axis=1))])
        assert sparse[::7].any() != bool(params)
        for i in range(0, len(boxes), 7):
            shape = crops.shapes[i]
            crop = crops.levels[crops.starts[i]:crops.starts[i] + shape.prod()].reshape(shape)
            mask = crop != crops.n_levels[i]
            if mask.sum() < 2:
                continue
            arrays = (crops.levels, crops.starts[i:i + 1], crops.shapes[i:i + 1],
                      crops.n_levels[i:i + 1], offsets)
            sums = crop_sums(*arrays, lowest=crops.lowest[i:i + 1], symmetric=symmetric,
                             ignore_zeros=True)
            expected = cooccurrence_sums(crop, (1,), offsets, symmetric=symmetric, mask=mask,
                                         ignore_zeros=True)
            for name in ("total", "square_sum", "product_sum", "count_log_count",
                         "total_log_total", "row_counts", "col_counts", "sum_counts",
                         "diff_counts", "row_weights", "col_weights", "n_levels"):
                np.testing.assert_array_equal(getattr(sums, name), getattr(expected, name),
                                              err_msg=name)
            matrices = crop_matrices(*arrays, symmetric=symmetric)
            counted = cooccurrence(crop, (1,), offsets, symmetric=symmetric, mask=mask)
            np.testing.assert_array_equal(matrices, counted[0])
            # over the crop's range of levels, padded; and counted with the sums
            low, width = crops.lowest[i], crops.n_levels[i] - crops.lowest[i]
            ranged = crop_matrices(*arrays, symmetric=symmetric, side=width + 3,
                                   lowest=crops.lowest[i:i + 1])
            np.testing.assert_array_equal(ranged[:, :width, :width], counted[0][:, low:, low:])
            assert not ranged[:, width:].any() and not ranged[:, :, width:].any()
            with_sums = np.zeros_like(ranged)
            crop_sums(*arrays, lowest=crops.lowest[i:i + 1], symmetric=symmetric,
                      matrices=with_sums)
            np.testing.assert_array_equal(with_sums, ranged)


def test_sums_of_cells_beyond_the_small_count_table(images):
    """A flat region's cells hold more pairs than the table of small counts' ``c log2 c``
    covers (4096): its sums still equal those of its masked crop, bit for bit."""
    gray = skimage.data.camera()[:120, :]
    labels = np.where(gray > 150, 1, 2)  # the sky, and the rest
    settings = TextureSettings.from_params(levels=4)
    crops = quantize_regions(gray, labels, np.array([[0, 0, *gray.shape]] * 2), np.array([1, 2]),
                             settings)
    offsets = np.array([[0, 0, 1], [0, 1, 1], [0, 1, 0], [0, 1, -1]])
    for i in range(2):
        shape = crops.shapes[i]
        crop = crops.levels[crops.starts[i]:crops.starts[i] + shape.prod()].reshape(shape)
        mask = crop != crops.n_levels[i]
        sums = crop_sums(crops.levels, crops.starts[i:i + 1], crops.shapes[i:i + 1],
                         crops.n_levels[i:i + 1], offsets, lowest=crops.lowest[i:i + 1])
        expected = cooccurrence_sums(crop, (1,), offsets, mask=mask)
        assert cooccurrence(crop, (1,), offsets, mask=mask).max() >= 4096  # beyond the table
        for name in ("total", "square_sum", "product_sum", "count_log_count", "row_counts",
                     "sum_counts", "diff_counts", "row_weights"):
            np.testing.assert_array_equal(getattr(sums, name), getattr(expected, name),
                                          err_msg=name)


@pytest.mark.parametrize("name", ["coffee", "nuclei"])
def test_label_boxes_are_find_objects_boxes_and_bincount_counts(images, name):
    """One compiled pass gives every label's box (as find_objects) and pixel count, 2-D and
    3-D, labels of any integer type, with missing labels (no pixel) given zeros."""
    _, labels = images[name]
    labels = labels.copy()
    labels[labels == labels.max() // 2] = 0  # a missing label
    volume = np.stack([labels, np.roll(labels, 5, axis=1), labels[::-1]])
    for array in (labels, volume, labels.astype(np.uint16), volume.astype(np.int32)):
        n = int(array.max())
        boxes, counts = label_boxes(array, n)
        np.testing.assert_array_equal(counts, np.bincount(array.ravel(), minlength=n + 1)[1:])
        for k, box in enumerate(ndimage.find_objects(array)):
            if box is None:
                assert counts[k] == 0 and not boxes[k].any()
                continue
            expected = [axis.start for axis in box] + [axis.stop for axis in box]
            assert boxes[k].tolist() == expected


@pytest.mark.parametrize("params", [
    {"features": "ibsi", "levels": 64},
    {"features": ["ibsi_JointEntropy", "ibsi_Imc1", "ibsi_Imc2", "ibsi_MaximumProbability"],
     "symmetric": False, "bin_width": 7, "ignore_zeros": True, "aggregate": "mean"},
], ids=["ibsi-64", "asymmetric-bin-width"])
@pytest.mark.parametrize("counted_with_sums", [True, False], ids=["with-sums", "apart"])
def test_matrices_padded_to_the_largest_give_each_regions_own_row(params, counted_with_sums,
                                                                   monkeypatch):
    """The features of the matrices of regions of many numbers of levels, counted side by side
    over their own ranges of levels padded to the widest: each row is the featurizer's on that
    region's crop and mask (its own levels), bit for bit. Real data with many labels: SLIC
    superpixels of a photograph, with a one-pixel region (no pair: NaN) and a region of one gray
    level."""
    from haralick_learn import HaralickFeaturizer

    gray = mahotas.colors.rgb2gray(skimage.data.astronaut()[:200, :260], dtype=np.uint8)
    labels = slic(gray, n_segments=120, compactness=0.1, channel_axis=None, start_label=1)
    gray[150:160, 10:30] = 77
    labels[150:160, 10:30] = labels.max() + 1  # one gray level
    labels[0, 0] = labels.max() + 1  # one pixel
    import haralick_learn._pipeline as pipeline

    padded = []  # the passes whose matrices are padded beyond some region's own levels

    def counted(*args, side=None, lowest=None, **kwargs):
        spans = args[3] - (0 if lowest is None else lowest)
        padded.append(side is not None and side > spans.min())
        return crop_matrices(*args, side=side, lowest=lowest, **kwargs)

    def summed(*args, matrices=None, **kwargs):
        if matrices is not None:  # with the sums: each region's range, padded to the widest
            padded.append(matrices.shape[1] > (args[3] - args[6]).min())
        return crop_sums(*args, matrices=matrices, **kwargs)

    monkeypatch.setattr(pipeline, "crop_matrices", counted)
    monkeypatch.setattr(pipeline, "crop_sums", summed)
    if not counted_with_sums:  # too many cells to count them with the sums: passes apart
        monkeypatch.setattr(pipeline, "_MATRIX_CELLS", 4096)
        monkeypatch.setattr(pipeline, "_PADDED_CELLS", 4096)
    table = region_features(gray, labels, on_error="nan", **params)
    assert any(padded)
    settings = TextureSettings.from_params(**params)
    _, compact, corners, ids, present = regions_of(gray, labels, settings)
    crops = quantize_regions(gray, compact, corners[present], present + 1, settings)
    assert len(np.unique(crops.n_levels)) > 10  # matrices of many sizes side by side
    featurizer = HaralickFeaturizer(**params)
    rows = table.drop(columns=region_columns(2)).to_numpy()
    for k, label in enumerate(table["label"]):
        box = tuple(slice(corners[label - 1, axis], corners[label - 1, axis + 2])
                    for axis in range(2))
        mask = labels[box] == label
        try:
            expected = featurizer.fit_transform([(gray[box], mask)])[0]
        except ValueError as exc:  # no pair: the one pixel, the flat region without zeros
            assert "pair" in str(exc) and np.isnan(rows[k]).all()
            assert mask.sum() == 1 or settings.ignore_zeros
            continue
        np.testing.assert_array_equal(rows[k], expected)
    flat = (table["label"] == labels.max() - 1).to_numpy()
    assert np.isfinite(rows[flat]).all() or settings.ignore_zeros
