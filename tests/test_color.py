"""Colour texture: channel images, per-channel and cross-channel features, on real photos.

The references: mahotas (reading, co-occurrence, features), scikit-image
(``rgb2hsv``, ``rgb2lab``) and direct counts of the pixel pairs.
"""

import ast
import re
import warnings

import mahotas
import numpy as np
import pytest
import skimage.color
import skimage.data
from PIL import Image

from haralick_learn import HaralickFeaturizer, ImageFeaturizationWarning
from haralick_learn.preprocess.channels import channel_images, rgb_to_hsv_levels
from haralick_learn.texture.counting import DIRECTIONS, cooccurrence, cross_cooccurrence
from haralick_learn.io.decode import load_color_pixels
from haralick_learn.preprocess.quantize import to_gray_levels

from _helpers import lab_to_levels
from conftest import BACKENDS, MAHOTAS_GRAY, RTOL

N_BLOCK = 52  # 13 features x 4 directions, distance 1


def _blocks(row, n_blocks):
    assert row.shape == (n_blocks * N_BLOCK,)
    return row.reshape(n_blocks, N_BLOCK)


# -- the read stage ---------------------------------------------------------


def test_color_pixels_are_the_reference_reading(photo_paths):
    for path in photo_paths:
        expected = mahotas.imread(path)[:, :, :3]
        got = load_color_pixels(path)
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, expected)


def test_color_pixels_of_pil_images_drop_alpha_and_keep_gray_palettes(jpeg_paths):
    rgb = np.asarray(Image.open(jpeg_paths[0]).convert("RGB"))
    rgba = Image.open(jpeg_paths[0]).convert("RGBA")
    np.testing.assert_array_equal(load_color_pixels(rgba), rgb)
    gray = Image.open(jpeg_paths[0]).convert("L")
    np.testing.assert_array_equal(load_color_pixels(gray.convert("P")), np.asarray(gray))
    assert load_color_pixels(gray).ndim == 2


def test_color_pixels_errors_name_the_sample(tmp_path):
    with pytest.raises(ValueError, match="sample 4: image of shape"):
        load_color_pixels(np.zeros((1, 1, 3), np.uint8), index=4)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(ValueError, match="bad.png"):
        load_color_pixels(str(bad))


# -- the channels stage, against scikit-image ----------------------------------


def test_hsv_levels_match_skimage(photo_paths):
    for path in photo_paths:
        rgb = load_color_pixels(path)
        got = rgb_to_hsv_levels(rgb)
        hsv = skimage.color.rgb2hsv(rgb)
        # H: floor(256 h). Where 256 h is an integer exactly, skimage's float
        # lands on it or just below; the exact level is that integer.
        h = hsv[..., 0] * 256
        tie = np.abs(h - np.rint(h)) < 1e-9
        expected_h = np.where(tie, np.rint(h) % 256, np.floor(h))
        np.testing.assert_array_equal(got[0], expected_h)
        # S: round(255 s), half up (ties checked apart), V: max(R, G, B).
        s = hsv[..., 1] * 255
        s_tie = np.abs(s - np.floor(s) - 0.5) < 1e-9
        np.testing.assert_array_equal(got[1][~s_tie], np.floor(s + 0.5)[~s_tie])
        np.testing.assert_array_equal(got[1][s_tie], np.ceil(s[s_tie] - 1e-6))
        np.testing.assert_array_equal(got[2], np.rint(hsv[..., 2] * 255))


def test_hsv_levels_of_primary_and_gray_colours():
    # The hexcone: red 0, green 1/3, blue 2/3 of a turn; grays have H = S = 0.
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 0, 1], [90, 90, 90]]],
                   np.uint8)
    hsv = skimage.color.rgb2hsv(rgb)
    got = rgb_to_hsv_levels(rgb)
    np.testing.assert_array_equal(got[0, 0], np.floor(hsv[0, :, 0] * 256))
    assert got[0, 0].tolist() == [0, 85, 170, 255, 0]
    assert got[1, 0].tolist() == [255, 255, 255, 255, 0]


def test_lab_levels_match_skimage(photo_paths):
    for path in photo_paths:
        rgb = load_color_pixels(path)
        got = np.moveaxis(np.stack(channel_images(rgb, "lab")), 0, -1)
        lab = skimage.color.rgb2lab(rgb)
        scaled = np.stack([lab[..., 0] * 2.55, lab[..., 1] + 128, lab[..., 2] + 128], -1)
        near_tie = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
        expected = np.clip(np.rint(scaled), 0, 255)
        assert not near_tie.any() or (np.abs(got - scaled)[near_tie] <= 0.5 + 1e-6).all()
        np.testing.assert_array_equal(got[~near_tie], expected[~near_tie])
        # The encoding itself, on skimage's own floats.
        assert np.mean(lab_to_levels(lab) == got) > 0.9999


def test_lab_levels_span_the_8_bit_range():
    rgb = np.array([[[255, 255, 255], [0, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8)
    lab = skimage.color.rgb2lab(rgb)[0]
    got = np.stack(channel_images(rgb, "lab"))[:, 0].T
    np.testing.assert_array_equal(got[:, 0], np.rint(lab[:, 0] * 2.55))
    np.testing.assert_array_equal(got[:, 1:], np.clip(np.rint(lab[:, 1:]) + 128, 0, 255))
    assert got[1].tolist() == [0, 128, 128] and got[0].tolist() == [255, 128, 128]


# -- per-channel features equal the gray featurizer's on each channel image -----


@pytest.mark.parametrize("color", ["rgb", "hsv", "lab"])
def test_channel_blocks_equal_gray_features_of_channel_images(photo_paths, color):
    got = HaralickFeaturizer(color=color).fit_transform(photo_paths)
    assert got.shape == (len(photo_paths), 3 * N_BLOCK)
    for path, row in zip(photo_paths, got):
        channels = channel_images(load_color_pixels(path), color)
        gray_rows = HaralickFeaturizer().fit_transform(channels)
        np.testing.assert_array_equal(_blocks(row, 3), gray_rows)
        for channel, block in zip(channels, _blocks(row, 3)):
            expected = mahotas.features.haralick(np.ascontiguousarray(channel)).ravel()
            np.testing.assert_allclose(block, expected, rtol=RTOL, atol=0)


@pytest.mark.parametrize("color", ["rgb", "hsv", "lab"])
def test_channel_blocks_with_the_mahotas_backend(jpeg_paths, color):
    got = HaralickFeaturizer(color=color, backend="mahotas").fit_transform(jpeg_paths)
    for path, row in zip(jpeg_paths, got):
        channels = channel_images(load_color_pixels(path), color)
        expected = HaralickFeaturizer(backend="mahotas").fit_transform(channels)
        np.testing.assert_array_equal(_blocks(row, 3), expected)
    compiled = HaralickFeaturizer(color=color).fit_transform(jpeg_paths)
    np.testing.assert_allclose(got, compiled, rtol=RTOL, atol=0)


def test_rgb_blocks_are_mahotas_on_the_read_channels(jpeg_paths):
    params = dict(distance=[1, 2], aggregate="mean_ptp", ignore_zeros=True)
    got = HaralickFeaturizer(color="rgb", **params).fit_transform(jpeg_paths)
    for path, row in zip(jpeg_paths, got):
        rgb = mahotas.imread(path)
        expected = [
            mahotas.features.haralick(np.ascontiguousarray(rgb[:, :, c]), distance=d,
                                      ignore_zeros=True, return_mean_ptp=True)
            for c in range(3) for d in (1, 2)
        ]
        np.testing.assert_allclose(row, np.concatenate(expected), rtol=RTOL, atol=0)


def test_levels_apply_to_each_channel(jpeg_paths):
    got = HaralickFeaturizer(color="hsv", levels=32).fit_transform(jpeg_paths[:1])[0]
    channels = channel_images(load_color_pixels(jpeg_paths[0]), "hsv")
    expected = HaralickFeaturizer(levels=32).fit_transform(channels).ravel()
    np.testing.assert_array_equal(got, expected)


def test_default_gray_is_unchanged(jpeg_paths):
    featurizer = HaralickFeaturizer(**MAHOTAS_GRAY)
    assert featurizer.get_params()["color"] == "gray"
    assert featurizer.get_params()["color_pairs"] is None
    got = featurizer.fit_transform(jpeg_paths)
    expected = [
        mahotas.features.haralick(
            mahotas.colors.rgb2gray(mahotas.imread(p), dtype=np.uint8)).ravel()
        for p in jpeg_paths
    ]
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0)
    assert featurizer.get_feature_names_out()[0] == "angular_second_moment_horizontal_d1"


# -- cross-channel co-occurrence --------------------------------------------


def _direct_count(first, second, offset, n_levels):
    """Each pixel pair (p, q = p + offset): (first[p], second[q]), then (first[q], second[p])."""
    dy, dx = offset
    height, width = first.shape
    counts = np.zeros((n_levels, n_levels), np.int64)
    for y in range(height):
        for x in range(width):
            qy, qx = y + dy, x + dx
            if 0 <= qy < height and 0 <= qx < width:
                counts[first[y, x], second[qy, qx]] += 1
                counts[first[qy, qx], second[y, x]] += 1
    return counts


def test_cross_cooccurrence_equals_a_direct_count_on_photographs(photo_paths):
    for path, color in zip(photo_paths[:3], ["rgb", "hsv", "lab"]):
        # A 40 x 50 crop keeps the pure-Python count short; levels=16 as well
        # as 256 levels checks both sizes of matrix.
        channels = [c[100:140, 60:110] for c in channel_images(load_color_pixels(path), color)]
        first, second = channels[0], channels[2]
        for a, b in ((first, second), (first // 16, second // 16)):
            n_levels = int(max(a.max(), b.max())) + 1
            got = cross_cooccurrence(a, b, distances=(1, 3))
            assert got.shape == (2, 4, n_levels, n_levels)
            for k, d in enumerate((1, 3)):
                for j, (dy, dx) in enumerate(DIRECTIONS):
                    expected = _direct_count(a, b, (d * dy, d * dx), n_levels)
                    np.testing.assert_array_equal(got[k, j], expected)
            # (b, a) is the transpose of (a, b).
            np.testing.assert_array_equal(cross_cooccurrence(b, a, distances=(1, 3)),
                                          got.transpose(0, 1, 3, 2))


def test_cross_cooccurrence_of_a_channel_with_itself_is_mahotas_glcm(photo_paths):
    for path in photo_paths:
        red = np.ascontiguousarray(load_color_pixels(path)[:, :, 0])
        got = cross_cooccurrence(red, red, distances=(2,))
        np.testing.assert_array_equal(got, cooccurrence(red, distances=(2,)))
        n_levels = int(red.max()) + 1
        for j in range(4):
            expected = np.zeros((n_levels, n_levels), np.int32)
            mahotas.features.texture.cooccurence(red, j, output=expected, symmetric=True,
                                                 distance=2)
            np.testing.assert_array_equal(got[0, j], expected)


def test_cross_cooccurrence_validates_its_inputs():
    image = np.zeros((3, 4), np.uint8)
    with pytest.raises(ValueError, match="same shape"):
        cross_cooccurrence(image, image[:, :3])
    with pytest.raises(TypeError, match="second must hold integer levels"):
        cross_cooccurrence(image, image.astype(float))
    with pytest.raises(ValueError, match="first levels must be non-negative"):
        cross_cooccurrence(image.astype(int) - 1, image)
    with pytest.raises(ValueError, match="distances"):
        cross_cooccurrence(image, image, distances=(0,))
    with pytest.raises(ValueError, match="directions"):
        cross_cooccurrence(image, image, directions=[(-1, 0)])


@pytest.mark.parametrize("backend", BACKENDS)
def test_pair_blocks_are_mahotas_features_of_the_cross_matrices(jpeg_paths, backend):
    # mahotas has no cross-channel co-occurrence: both backends count the
    # pairs with the compiled kernel; mahotas's feature function is the reference.
    featurizer = HaralickFeaturizer(color="rgb", color_pairs=[("G", "B"), ("R", "G")],
                                    backend=backend)
    got = featurizer.fit_transform(jpeg_paths)
    names = featurizer.get_feature_names_out()
    assert names[3 * N_BLOCK] == "GB_angular_second_moment_horizontal_d1"
    assert names[4 * N_BLOCK] == "RG_angular_second_moment_horizontal_d1"
    for path, row in zip(jpeg_paths, got):
        rgb = mahotas.imread(path)
        blocks = _blocks(row, 5)
        for block, (a, b) in zip(blocks[3:], [(1, 2), (0, 1)]):
            cmats = cross_cooccurrence(rgb[:, :, a], rgb[:, :, b])[0]
            expected = mahotas.features.texture.haralick_features(cmats).ravel()
            np.testing.assert_allclose(block, expected, rtol=RTOL, atol=0)


def test_all_pairs_in_channel_order(jpeg_paths):
    featurizer = HaralickFeaturizer(color="lab", color_pairs="all", aggregate="mean")
    got = featurizer.fit_transform(jpeg_paths[:1])
    names = featurizer.get_feature_names_out()
    assert got.shape == (1, 6 * 13) == (1, len(names))
    assert [n.split("_")[0] for n in names[::13]] == ["L", "a", "b", "La", "Lb", "ab"]
    assert names[-1] == "ab_information_measure_of_correlation_2_mean_d1"
    assert np.isfinite(got).all()


# -- gray images, non-8-bit images, errors -----------------------------------


def test_gray_image_is_its_gray_channel_repeated(jpeg_paths):
    gray = np.asarray(Image.open(jpeg_paths[1]).convert("L"))
    gray_row = HaralickFeaturizer().fit_transform([gray])[0]
    rgb_row = HaralickFeaturizer(color="rgb", color_pairs="all").fit_transform([gray])[0]
    # Each channel and each pair of (g, g, g) is the gray image's own GLCM.
    np.testing.assert_array_equal(_blocks(rgb_row, 6), np.tile(gray_row, (6, 1)))
    hsv = _blocks(HaralickFeaturizer(color="hsv").fit_transform([gray])[0], 3)
    np.testing.assert_array_equal(hsv[2], gray_row)  # V = g
    constant = HaralickFeaturizer().fit_transform([np.zeros_like(gray)])[0]
    np.testing.assert_array_equal(hsv[0], constant)  # H = 0
    np.testing.assert_array_equal(hsv[1], constant)  # S = 0


def test_a_channel_without_counted_pairs_is_named():
    gray = np.array([[0, 10, 20], [30, 40, 50]], np.uint8)  # H = S = 0 everywhere
    with pytest.raises(ValueError, match="sample 0: channel H of the image of shape .2, 3. "
                                         "has no pair of non-zero pixels at distance 1"):
        HaralickFeaturizer(color="hsv", ignore_zeros=True).fit_transform([gray])


def test_16_bit_rgb_is_binned_on_one_scale_but_refused_by_hsv_and_lab(photo_paths):
    # a real photograph on 16 bits, its channels of different ranges
    rgb16 = load_color_pixels(photo_paths[0])[100:140, 200:260].astype(np.uint16) * 257
    rgb16[..., 2] //= 3
    rgb_row = HaralickFeaturizer(color="rgb").fit_transform([rgb16])[0]
    # the channels binned as one image: one minimum and maximum for the three
    levels = to_gray_levels(np.moveaxis(rgb16, -1, 0))
    expected = HaralickFeaturizer().fit_transform(list(levels)).ravel()
    np.testing.assert_array_equal(rgb_row, expected)
    own = HaralickFeaturizer().fit_transform([rgb16[:, :, 2]]).ravel()
    assert not np.allclose(_blocks(rgb_row, 3)[2], own)  # B alone spans all 256 levels
    for color in ("hsv", "lab"):
        with pytest.raises(ValueError, match=f"sample 1: color='{color}' needs 8-bit RGB"):
            HaralickFeaturizer(color=color).fit_transform([rgb16[:, :, 0] // 256, rgb16])
    with pytest.warns(ImageFeaturizationWarning, match="needs 8-bit RGB"):
        rows = HaralickFeaturizer(color="lab", on_error="nan").fit_transform(
            [rgb16.astype(np.uint8), rgb16])
    assert np.isfinite(rows[0]).all() and np.isnan(rows[1]).all()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"color": "cmyk"}, "color"),
        ({"color_pairs": "all"}, "color_pairs needs a colour space"),
        ({"color": "rgb", "color_pairs": "some"}, "'color_pairs' parameter"),
        ({"color": "rgb", "color_pairs": []}, "non-empty list"),
        ({"color": "rgb", "color_pairs": [("R", "H")]}, r"two of the channels \['R', 'G', 'B'\]"),
        ({"color": "rgb", "color_pairs": [("R", "G", "B")]}, "two of the channels"),
        ({"color": "hsv", "color_pairs": [("S", "S")]}, "pairs a channel with itself"),
        ({"color": "rgb", "color_pairs": [("R", "G"), ("G", "R")]},
         "with symmetric=True a pair and its reverse are the same pair"),
        ({"color": "rgb", "color_pairs": [("R", "G"), ("R", "G")], "symmetric": False},
         "repeats a pair"),
    ],
)
def test_invalid_color_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        HaralickFeaturizer(**params).fit([np.zeros((4, 4), np.uint8)])


@pytest.mark.parametrize("color", ["rgb", "hsv", "lab"])
def test_the_color_pairs_example_of_the_error_is_a_valid_value(color):
    # the message's example, passed as it is printed, must be accepted: a flat list of two
    # channel names is read as pairs of one name each
    photo = skimage.data.chelsea()[100:140, 150:190]
    with pytest.raises(ValueError, match="non-empty list of channel pairs") as error:
        HaralickFeaturizer(color=color, color_pairs=[]).fit([photo])
    example = ast.literal_eval(re.search(r"such as (\[.*\]);", str(error.value)).group(1))
    featurizer = HaralickFeaturizer(color=color, color_pairs=example, aggregate="mean")
    assert featurizer.fit_transform([photo]).shape == (1, 4 * 13)


def test_colour_rows_are_cached_apart_from_gray(jpeg_paths, tmp_path):
    gray = HaralickFeaturizer(memory=tmp_path).fit_transform(jpeg_paths)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rgb = HaralickFeaturizer(memory=tmp_path, color="rgb").fit_transform(jpeg_paths)
        again = HaralickFeaturizer(memory=tmp_path, color="rgb").fit_transform(jpeg_paths)
    assert gray.shape == (2, N_BLOCK) and rgb.shape == (2, 3 * N_BLOCK)
    np.testing.assert_array_equal(again, rgb)


def test_channel_images_validation():
    with pytest.raises(ValueError, match="'x.png': pixels must be"):
        channel_images(np.zeros((2, 2, 4), np.uint8), "rgb", "'x.png'")
    with pytest.raises(ValueError, match="color must be"):
        channel_images(np.zeros((2, 2, 3), np.uint8), "gray")


def test_colour_with_the_other_conventions(jpeg_paths):
    """Sets, offsets, binning and the merged aggregate apply to every channel and pair."""
    from skimage.feature import graycoprops

    from haralick_learn.preprocess.quantize import quantize
    from haralick_learn._settings import SKIMAGE_PROPS, TextureSettings

    params = dict(features="skimage", offsets="skimage", distance=4, aggregate="merged",
                  levels=32, gray_range=(0, 256))
    featurizer = HaralickFeaturizer(color="lab", color_pairs=[("a", "b")], **params)
    row = featurizer.fit_transform(jpeg_paths[:1])[0]
    channels = channel_images(load_color_pixels(jpeg_paths[0]), "lab")
    gray_rows = HaralickFeaturizer(**params).fit_transform(channels)
    n = gray_rows.shape[1]
    assert row.shape == (4 * n,)
    np.testing.assert_array_equal(row[:3 * n], gray_rows.ravel())
    # The pair: scikit-image's graycoprops of the merged cross-channel matrix.
    settings = TextureSettings.from_params(**params)
    a, b = (quantize(c, settings) for c in channels[1:])
    cmats = cross_cooccurrence(a, b, (1,), settings.offsets_at(4)).sum(axis=1)[0]
    assert settings.offsets_at(4)[1] == (3, 3)
    matrix = cmats[:, :, None, None].astype(float)
    expected = [graycoprops(matrix / matrix.sum(), prop)[0, 0] for prop in SKIMAGE_PROPS]
    assert featurizer.get_feature_names_out()[3 * n] == f"ab_skimage_{SKIMAGE_PROPS[0]}_merged_d4"
    np.testing.assert_allclose(row[3 * n:], expected, rtol=RTOL, atol=1e-12)


def test_colour_with_volumes_is_a_clear_error(jpeg_paths):
    """Colour takes 2-D images; volumes are gray (a clear error, not a guess)."""
    from haralick_learn import HaralickFeaturizer

    with pytest.raises(ValueError, match="volumes are gray"):
        HaralickFeaturizer(color="rgb", volume=True).fit_transform(jpeg_paths[:1])
    image = np.asarray(Image.open(jpeg_paths[0]))
    with pytest.raises(ValueError, match=r"sample 0: its mask has shape \(2, 2\)"):
        HaralickFeaturizer(color="hsv").fit_transform([(image, np.ones((2, 2), bool))])
    with pytest.raises(ValueError, match="offsets='skimage' is a 2-D rule"):
        HaralickFeaturizer(volume=True, offsets="skimage").fit_transform([np.zeros((4, 4, 4))])


# -- masks: channels and pairs counted inside the mask ------------------------------------


def _masked_count(first, second, mask, offset, n_levels, symmetric=True):
    """Each pixel pair (p, q = p + offset) with both pixels in ``mask``: (first[p], second[q]),
    then (symmetric) (first[q], second[p]); numpy indexing, no kernel of the package."""
    dy, dx = offset
    ys, xs = np.nonzero(mask)
    qy, qx = ys + dy, xs + dx
    keep = (qy >= 0) & (qy < mask.shape[0]) & (qx >= 0) & (qx < mask.shape[1])
    ys, xs, qy, qx = ys[keep], xs[keep], qy[keep], qx[keep]
    keep = mask[qy, qx]
    ys, xs, qy, qx = ys[keep], xs[keep], qy[keep], qx[keep]
    counts = np.zeros((n_levels, n_levels), np.int64)
    np.add.at(counts, (first[ys, xs], second[qy, qx]), 1)
    if symmetric:
        np.add.at(counts, (first[qy, qx], second[ys, xs]), 1)
    return counts


@pytest.fixture(scope="module")
def masked_photo():
    """A textured crop of china.jpg (roof edge and sky, V up to 255) and a threshold of it."""
    rgb = load_color_pixels(_sklearn_jpeg("china.jpg"))[80:128, 240:304]
    gray = rgb.mean(axis=2)
    return rgb, gray > np.percentile(gray, 30)


def test_masked_cross_cooccurrence_equals_a_direct_count(masked_photo):
    rgb, mask = masked_photo
    hue, _, value = channel_images(rgb, "hsv")
    # 256 levels inside the mask: the outside pixels' extra level needs 16 bits.
    assert value[mask].max() == 255
    for a, b in ((hue, value), (hue // 16, value // 16)):
        n_levels = int(max(a[mask].max(), b[mask].max())) + 1
        for symmetric in (True, False):
            got = cross_cooccurrence(a, b, distances=(1, 3), mask=mask, symmetric=symmetric)
            assert got.shape == (2, 4, n_levels, n_levels)
            for k, d in enumerate((1, 3)):
                for j, (dy, dx) in enumerate(DIRECTIONS):
                    expected = _masked_count(a, b, mask, (d * dy, d * dx), n_levels, symmetric)
                    np.testing.assert_array_equal(got[k, j], expected)
    with pytest.raises(ValueError, match="mask is empty"):
        cross_cooccurrence(hue, value, mask=np.zeros(mask.shape, bool))
    with pytest.raises(ValueError, match="does not match"):
        cross_cooccurrence(hue, value, mask=mask[1:])


@pytest.mark.parametrize("params", [
    dict(color="rgb", color_pairs=[("R", "B")], bin_width=16, distance=[1, 2]),
    dict(color="hsv", color_pairs=[("V", "H")], symmetric=False),
], ids=["rgb-bin_width", "hsv-asymmetric"])
def test_masked_colour_rows_equal_an_independent_computation(masked_photo, params):
    """Levels from the channels' pixels inside the mask, together (one scale); pairs of pixels
    both inside it counted, within each channel and across each pair; scikit-image's
    ``graycoprops`` of those counts."""
    from skimage.feature import graycoprops

    from haralick_learn._settings import COLOR_CHANNELS, SKIMAGE_PROPS

    rgb, mask = masked_photo
    featurizer = HaralickFeaturizer(features="skimage", offsets="mahotas", **params)
    row = featurizer.fit_transform([(rgb, mask)])[0]
    channels = np.stack(channel_images(rgb, params["color"])).astype(np.int64)
    if "bin_width" in params:  # floor(x / W) - floor(min / W), min over every channel inside
        width = params["bin_width"]
        channels = channels // width - channels[:, mask].min() // width
    else:  # 8-bit channels are their own levels
        assert channels[:, mask].max() == 255
    levels = dict(zip(COLOR_CHANNELS[params["color"]], channels))
    n_levels = int(channels[:, mask].max()) + 1
    symmetric = params.get("symmetric", True)
    expected = []
    for a, b in [(name, name) for name in levels] + list(params["color_pairs"]):
        for d in params.get("distance", [1]):
            for dy, dx in DIRECTIONS:
                counts = _masked_count(levels[a], levels[b], mask, (d * dy, d * dx), n_levels,
                                       symmetric)
                matrix = counts[:, :, None, None].astype(float)
                expected += [graycoprops(matrix, prop)[0, 0] for prop in SKIMAGE_PROPS]
    assert row.shape == (len(expected),)
    np.testing.assert_allclose(row, expected, rtol=RTOL, atol=1e-12)


# -- the two channels of a pair on one scale; symmetric=False ------------------------------


def _sky_with_equal_r_and_g(darker=None):
    """A real crop (china.jpg's sky, R within 183..196) whose G is its R, one G pixel set to
    ``darker``: a pair whose channels differ by one pixel."""
    rgb = load_color_pixels(_sklearn_jpeg("china.jpg"))[0:40, 100:190].copy()
    rgb[..., 1] = rgb[..., 0]
    if darker is not None:
        rgb[20, 40, 1] = darker
    return rgb


def _sklearn_jpeg(name):
    import os

    import sklearn.datasets

    return os.path.join(os.path.dirname(sklearn.datasets.__file__), "images", name)


#: Binning that depends on each image's own values, on 8-bit, 16-bit and float colour.
SCALED = {
    "bin_width": (lambda rgb: rgb, dict(bin_width=25)),
    "gray_range_image": (lambda rgb: rgb, dict(levels=16, gray_range="image")),
    "16_bit": (lambda rgb: rgb.astype(np.uint16) * 257, dict(levels=16)),
    "float": (lambda rgb: rgb / 255.0, dict(levels=32)),
}


def _pair_row(rgb, **params):
    featurizer = HaralickFeaturizer(color="rgb", color_pairs=[("R", "G")], **params)
    row = featurizer.fit_transform([rgb])[0]
    return dict(zip(featurizer.get_feature_names_out(), row)), row


@pytest.mark.parametrize("case", sorted(SCALED))
def test_a_pair_of_equal_channels_is_that_channel(case):
    """R == G: the cross co-occurrence of R and G is R's own, so the RG block is the R block."""
    convert, params = SCALED[case]
    _, row = _pair_row(convert(_sky_with_equal_r_and_g()), **params)
    blocks = _blocks(row, 4)
    np.testing.assert_array_equal(blocks[3], blocks[0])


@pytest.mark.parametrize("case", sorted(SCALED))
def test_one_darker_pixel_does_not_shift_the_pair(case):
    """A G pixel darker than every R pixel must not move every G level against R's: the two
    channels of a pair are binned on one scale (both from the pair's minimum)."""
    convert, params = SCALED[case]
    named, _ = _pair_row(convert(_sky_with_equal_r_and_g(darker=143)), aggregate="mean",
                         **params)
    r, rg = named["R_contrast_mean_d1"], named["RG_contrast_mean_d1"]
    # one pixel of 3600 differs: its 8 pairs can move the contrast by little
    assert abs(rg - r) < 0.2, (r, rg)


def test_pair_levels_are_binned_from_the_pairs_minimum():
    """The RG block of ``bin_width=W`` is mahotas's features of the cross matrices of
    ``x // W - min(R, G) // W`` (pyradiomics's bins of both channels together)."""
    rgb = _sky_with_equal_r_and_g(darker=143)
    rgb[..., 1] = np.minimum(rgb[..., 1].astype(int) + 30, 255)  # G brighter but one pixel
    _, row = _pair_row(rgb, bin_width=25)
    low = min(rgb[..., 0].min(), rgb[..., 1].min()) // 25
    red, green = (rgb[..., c].astype(np.int64) // 25 - low for c in (0, 1))
    cmats = cross_cooccurrence(red, green)[0]
    expected = mahotas.features.texture.haralick_features(cmats).ravel()
    np.testing.assert_allclose(_blocks(row, 4)[3], expected, rtol=RTOL, atol=1e-12)


def _forward_counts(first, second, offset, n_levels):
    """(first[p], second[p + offset]) over the pixels p whose neighbour is inside, by numpy."""
    dy, dx = offset
    height, width = first.shape
    a = first[max(0, -dy):height - max(0, dy), max(0, -dx):width - max(0, dx)]
    b = second[max(0, dy):height + min(0, dy), max(0, dx):width + min(0, dx)]
    counts = np.zeros((n_levels, n_levels), np.int64)
    np.add.at(counts, (a.ravel(), b.ravel()), 1)
    return counts


def test_asymmetric_pairs_count_one_order_of_each_pixel_pair(jpeg_paths):
    """``symmetric=False``: channel a at p against channel b at p + offset, nothing added."""
    rgb = load_color_pixels(jpeg_paths[1])[200:260, 300:380]
    red, blue = (np.ascontiguousarray(rgb[..., c]) for c in (0, 2))
    n_levels = int(max(red.max(), blue.max())) + 1
    counts = [_forward_counts(red, blue, offset, n_levels) for offset in DIRECTIONS]
    # the cross matrix of both orders is the sum of the (R, B) and transposed (B, R) counts
    reverse = [_forward_counts(blue, red, offset, n_levels) for offset in DIRECTIONS]
    np.testing.assert_array_equal(cross_cooccurrence(red, blue)[0],
                                  [c + r.T for c, r in zip(counts, reverse)])
    np.testing.assert_array_equal(cross_cooccurrence(red, blue, symmetric=False)[0], counts)

    featurizer = HaralickFeaturizer(color="rgb", color_pairs=[("R", "B")], symmetric=False)
    row = featurizer.fit_transform([rgb])[0]
    expected = mahotas.features.texture.haralick_features(np.array(counts)).ravel()
    np.testing.assert_allclose(_blocks(row, 4)[3], expected, rtol=RTOL, atol=1e-12)
    # and the channels' own blocks are the gray symmetric=False rows of each channel
    gray_rows = HaralickFeaturizer(symmetric=False).fit_transform(
        [np.ascontiguousarray(rgb[..., c]) for c in range(3)])
    np.testing.assert_array_equal(_blocks(row, 4)[:3], gray_rows)
    symmetric = HaralickFeaturizer(color="rgb", color_pairs=[("R", "B")]).fit_transform([rgb])
    assert np.abs(_blocks(symmetric[0], 4)[3] - _blocks(row, 4)[3]).max() > 1e-6


def test_without_symmetry_a_reversed_pair_is_the_opposite_offsets(jpeg_paths):
    """``symmetric=False``: (G, R) counts G at p against R at p + offset, i.e. the transposed
    (R, G) counts of the opposite offset: another pair, allowed."""
    rgb = load_color_pixels(jpeg_paths[0])[150:200, 250:330]
    red, green = (np.ascontiguousarray(rgb[..., c]) for c in (0, 1))
    n_levels = int(max(red.max(), green.max())) + 1
    reverse = cross_cooccurrence(green, red, symmetric=False)[0]
    for j, (dy, dx) in enumerate(DIRECTIONS):
        np.testing.assert_array_equal(reverse[j],
                                      _forward_counts(red, green, (-dy, -dx), n_levels).T)
    featurizer = HaralickFeaturizer(color="rgb", color_pairs=[("R", "G"), ("G", "R")],
                                    symmetric=False)
    blocks = _blocks(featurizer.fit_transform([rgb])[0], 5)
    expected = mahotas.features.texture.haralick_features(reverse).ravel()
    np.testing.assert_allclose(blocks[4], expected, rtol=RTOL, atol=1e-12)
    assert featurizer.get_feature_names_out()[4 * N_BLOCK].startswith("GR_")
