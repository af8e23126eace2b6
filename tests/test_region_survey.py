"""The survey of a label image before any feature: each region's id, bounding box and pixel count,
and the labels renumbered for the passes over the regions, in one compiled pass
(``haralick_learn._regions._survey``; ``label_boxes`` for the tiles).

Against scikit-image's ``regionprops`` (``label``, ``bbox``, ``area``) on real label images:
SLIC superpixels of the astronaut, connected components of the thresholded coins (2-D) and of a
volume of stacked crops of them (3-D), in every integer type, with ids beyond the number of
pixels, in any memory layout and in rows of every width.
"""

import numpy as np
import pytest
import skimage.data
from skimage.measure import label as connected_components
from skimage.measure import regionprops
from skimage.segmentation import relabel_sequential, slic

from haralick_learn import region_features
from haralick_learn._regions import _numbered_in_order, _survey, label_boxes, present_labels

from conftest import stack_of_crops

INTEGER_TYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
                 np.uint64]


def astronaut_superpixels():
    rgb = skimage.data.astronaut()[100:300, 150:400]
    return slic(rgb, n_segments=100, compactness=10, start_label=1)


def coins_components():
    """The coins above a threshold: background, many specks and some large regions."""
    return connected_components(skimage.data.coins() > 110)


def coins_volume():
    """Connected components (in 3-D) of a volume of consecutive crops of the coins."""
    return connected_components(stack_of_crops(skimage.data.coins(), 12, 90, 40, 60) > 110)


LABEL_IMAGES = {"astronaut-slic": astronaut_superpixels, "coins": coins_components,
                "coins-volume": coins_volume}


@pytest.fixture(scope="module", params=sorted(LABEL_IMAGES))
def label_image(request):
    return LABEL_IMAGES[request.param]()


def assert_survey_is_regionprops(labels, expected_labels=None):
    """``_survey(labels)`` gives regionprops's regions of ``expected_labels`` (default: the
    same labels; for ids beyond the pixels, the image renumbered 1, 2, ... in their order)."""
    ids, compact, corners, counts = _survey(labels)
    present = np.flatnonzero(counts)
    assert ids.dtype == labels.dtype and compact.shape == labels.shape
    assert corners.shape == (len(ids), 2 * labels.ndim) and counts.shape == (len(ids),)
    # the renumbered labels: region k of compact is label ids[k - 1], background stays 0
    assert (compact[labels == 0] == 0).all()
    np.testing.assert_array_equal(ids[compact[labels != 0] - 1], labels[labels != 0])
    # labels without any pixel: zeros
    assert not corners[counts == 0].any()
    props = regionprops(labels if expected_labels is None else expected_labels)
    assert ids[present].tolist() == sorted(np.unique(labels[labels != 0]).tolist())
    assert len(props) == len(present)
    for region, index in zip(props, present):
        assert corners[index].tolist() == list(region.bbox), ids[index]
        assert counts[index] == region.area, ids[index]


@pytest.mark.parametrize("dtype", INTEGER_TYPES, ids=lambda t: np.dtype(t).name)
def test_boxes_and_counts_are_regionprops_in_every_integer_type(label_image, dtype):
    if label_image.max() > np.iinfo(dtype).max:
        label_image = np.where(label_image <= np.iinfo(dtype).max, label_image, 0)
    labels = label_image.astype(dtype)
    assert len(np.unique(labels)) > 20  # many regions, and background
    assert_survey_is_regionprops(labels)


def test_the_table_grows_with_the_ids_and_sorts_those_beyond_the_pixels(label_image):
    """Ids that grow from the first row to the last (the table of boxes grows while passing),
    ids up to the number of pixels, and ids beyond it (sorted, then the same boxes)."""
    n = int(label_image.max())
    renumbered = np.where(label_image > 0, n + 1 - label_image, 0)  # the largest id first
    step = label_image.size // n
    spread = np.where(label_image > 0, label_image * step, 0)
    assert spread.max() <= label_image.size < spread.max() + step
    assert_survey_is_regionprops(renumbered)
    assert_survey_is_regionprops(spread)
    assert_survey_is_regionprops(spread[::-1].copy())  # the largest ids first
    for big, dtype in ((10**12, np.int64), (2**63 + 5, np.uint64), (2**31 + 5, np.uint32)):
        large = np.where(label_image > 0, label_image.astype(dtype) + dtype(big), 0).astype(dtype)
        assert_survey_is_regionprops(large, label_image)
    # one id beyond the number of pixels, found after the others
    late = spread.copy()
    late[-1, -1] = label_image.size + 1
    assert_survey_is_regionprops(late, relabel_sequential(late)[0])


def test_rows_of_every_width_and_any_memory_layout():
    """Rows shorter than the eight positions read at once, of every remainder, one pixel wide;
    transposed, strided and read-only label images."""
    labels = coins_components()[100:160, 40:300]
    for width in [1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65]:
        crop = labels[:, 100:100 + width]
        if crop.any():
            assert_survey_is_regionprops(np.ascontiguousarray(crop))
    assert_survey_is_regionprops(labels[7:8].copy())  # one row
    assert_survey_is_regionprops(labels.T)
    assert_survey_is_regionprops(labels[::3, ::2])
    assert_survey_is_regionprops(np.asfortranarray(labels).astype(np.uint16))
    frozen = labels.copy()
    frozen.flags.writeable = False
    assert_survey_is_regionprops(frozen)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64])
def test_negative_labels_are_refused_wherever_they_are(dtype):
    labels = coins_components()
    labels = np.where(labels <= np.iinfo(dtype).max, labels, 0).astype(dtype)
    for where in [(0, 0), (-1, -1), (150, 200)]:
        negative = labels.copy()
        negative[where] = -1
        with pytest.raises(ValueError, match="non-negative"):
            _survey(negative)
    if dtype in (np.int32, np.int64):  # after an id beyond the pixels, where the pass stops
        beyond = labels.copy()
        beyond[0, 0], beyond[-1, -1] = np.iinfo(dtype).max, -3
        with pytest.raises(ValueError, match="non-negative"):
            _survey(beyond)
    volume = np.stack([labels, labels])
    volume[1, -1, -1] = -2
    with pytest.raises(ValueError, match="non-negative"):
        region_features(np.zeros(volume.shape, np.uint8), volume, volume=True)


def test_background_only_and_empty_label_images():
    for labels in [np.zeros((40, 30), np.int64), np.zeros((3, 5, 4), np.uint8),
                   np.zeros((0, 7), np.int64), np.zeros((5, 0), np.int32)]:
        ids, compact, corners, counts = _survey(labels)
        assert len(ids) == 0 and ids.dtype == labels.dtype and compact.shape == labels.shape
        assert corners.shape == (0, 2 * labels.ndim) and counts.shape == (0,)


def test_label_boxes_refuses_labels_beyond_its_count():
    labels = coins_components()
    n = int(labels.max())
    boxes, counts = label_boxes(labels, n + 3)  # more rows than labels: zeros
    assert counts[n:].tolist() == [0, 0, 0] and not boxes[n:].any()
    with pytest.raises(ValueError, match=f"labels must lie in 0..{n - 1}"):
        label_boxes(labels, n - 1)
    with pytest.raises(ValueError, match=f"labels must lie in 0..{n}"):
        label_boxes(np.where(labels == 5, -1, labels), n)


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.uint32, np.int64, np.uint64])
def test_a_batch_numbers_its_regions_in_the_order_of_its_ids(dtype):
    """A batch of a tiled table renumbers its regions' ids 1, 2... in the order given, every
    other label 0: through a table over the ids' range, or a search when the ids lie far
    apart; ids of uint64 beyond int64's range too."""
    labels = astronaut_superpixels()
    assert labels.max() + 150 <= 255
    rng = np.random.default_rng(0)
    far = {np.uint8: 150, np.int32: 10**6, np.uint32: 2**31, np.int64: 10**12,
           np.uint64: 2**63 + 5}[dtype]
    for shift in (0, far):
        typed = labels.astype(dtype)
        shifted = np.where(typed > 50, typed + dtype(shift), typed)
        present = np.unique(shifted[shifted != 0])
        for ids in (rng.permutation(present)[:30], present[::-1],
                    np.concatenate([present[:5], present[-5:]])):  # close, then far apart
            ids = ids.astype(dtype)
            position = {int(v): k + 1 for k, v in enumerate(ids)}
            expected = np.array([position.get(int(v), 0) for v in shifted.ravel()])
            for layout in (shifted, shifted.T.copy().T, shifted[None]):
                got = _numbered_in_order(layout, ids)
                assert got.dtype == np.int32 and got.shape == layout.shape
                np.testing.assert_array_equal(got.ravel(), expected.reshape(shifted.shape)
                                              .reshape(layout.shape).ravel())


@pytest.mark.parametrize("dtype", [np.uint16, np.int32, np.int64, np.uint64])
def test_the_labels_of_a_tile_are_regionprops_labels_boxes_and_areas(dtype):
    """A tile of a slide holds ids that need not start at 1: its labels, boxes and pixel
    counts, whether its ids lie close together (counted from the smallest) or far apart (a
    sort first), uint64 ids beyond int64's range too; none in an empty tile."""
    labels = astronaut_superpixels()[40:140, 60:200]  # a tile: ids from the middle
    far = {np.uint16: 40000, np.int32: 10**6, np.int64: 10**12, np.uint64: 2**63 + 5}[dtype]
    for shift in (0, 1000, far):
        typed = labels.astype(dtype)
        shifted = np.where(typed > 50, typed + dtype(shift), typed)
        ids, boxes, counts = present_labels(shifted)
        props = sorted(regionprops(_dense(shifted)), key=lambda p: p.label)
        expected_ids = np.unique(shifted[shifted != 0])
        assert ids.dtype == shifted.dtype
        np.testing.assert_array_equal(ids, expected_ids)
        np.testing.assert_array_equal(boxes, [p.bbox for p in props])
        np.testing.assert_array_equal(counts, [p.area for p in props])
    ids, boxes, counts = present_labels(np.zeros((4, 5), dtype))
    assert ids.size == 0 and boxes.shape == (0, 4) and counts.size == 0
    if np.dtype(dtype).kind == "i":
        bad = labels.astype(dtype)
        bad[70, 100] = -1  # late in the tile
        with pytest.raises(ValueError, match="non-negative"):
            present_labels(bad)


def _dense(labels):
    """Labels numbered 1, 2... in the order of their ids (regionprops wants small ids)."""
    ids, inverse = np.unique(labels, return_inverse=True)
    dense = inverse.reshape(labels.shape) + (0 if ids[0] == 0 else 1)
    return dense
