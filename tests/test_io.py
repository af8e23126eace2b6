"""Every image a user may hand over: modes, formats, bad files, degenerate images, memory.

All files are written by the tests themselves (Pillow, into ``tmp_path``). The
reference numbers come from mahotas wherever mahotas can read the input:
``mahotas.colors.rgb2gray(mahotas.imread(p), dtype=np.uint8)`` then
``mahotas.features.haralick``.
"""

import io
import os
import re
import struct
import subprocess
import sys
import textwrap
import warnings
import zlib

import mahotas
import numpy as np
import pytest
from PIL import Image, ImageFile, features

import haralick_learn
from haralick_learn import HaralickFeaturizer, ImageFeaturizationWarning
from haralick_learn.preprocess.gray import rgb_to_gray_uint8
from haralick_learn.io.decode import _jpeg_frame_marker, load_image
from haralick_learn.preprocess.quantize import to_gray_levels

from conftest import BACKENDS, RTOL, reference_gray

HAS_WEBP = features.check("webp")
needs_webp = pytest.mark.skipif(not HAS_WEBP, reason="Pillow built without WebP")


def texture_rgb(height=48, width=64, seed=0):
    """A smooth colour gradient plus noise: survives lossy codecs, has texture."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 3, y * 4, (x + y) * 2], axis=-1)
    return np.clip(base + rng.integers(0, 60, base.shape), 0, 255).astype(np.uint8)


def featurize(images, **params):
    return HaralickFeaturizer(**params).fit_transform(images)


def save(image, path, fmt=None, **kwargs):
    image.save(path, fmt, **kwargs)
    return str(path)


# -- 8-bit RGB: bit-identical to the reference ------------------------------

RGB_FORMATS = [
    ("JPEG", "jpg"),
    ("PNG", "png"),
    ("TIFF", "tif"),
    ("BMP", "bmp"),
    pytest.param("WEBP", "webp", marks=needs_webp),
]


@pytest.mark.parametrize("fmt, ext", RGB_FORMATS)
def test_rgb_files_are_bit_identical_to_the_reference(tmp_path, fmt, ext):
    path = save(Image.fromarray(texture_rgb()), tmp_path / f"rgb.{ext}", fmt)
    expected_gray = reference_gray(path)
    assert np.array_equal(load_image(path, gray_conversion="mahotas"), expected_gray)
    np.testing.assert_allclose(
        featurize([path], gray_conversion="mahotas"),
        mahotas.features.haralick(expected_gray).ravel()[None],
        rtol=RTOL, atol=0,
    )


def test_integer_rgb_in_any_dtype_takes_the_reference_route():
    rgb = texture_rgb()
    expected = rgb_to_gray_uint8(rgb)
    for dtype in (np.int16, np.int32, np.int64, np.uint16):
        assert np.array_equal(load_image(rgb.astype(dtype)), expected), dtype


# -- every PIL mode, through every format that stores it --------------------


def _source_images():
    """PIL images of every mode, and the gray image each must give."""
    rgb = texture_rgb()
    rng = np.random.default_rng(1)
    alpha = rng.integers(0, 256, rgb.shape[:2], dtype=np.uint8)  # random, to prove it is ignored
    gray8 = np.asarray(Image.fromarray(rgb).convert("L"))
    bits = gray8 > 127
    colour_p = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    colour_p_gray = rgb_to_gray_uint8(np.asarray(colour_p.convert("RGB")))
    gray_p = Image.fromarray(gray8).convert("P")  # a palette of grays only
    transparent_p = colour_p.copy()
    transparent_p.info["transparency"] = 0
    cmyk = Image.fromarray(rgb).convert("CMYK")
    u16 = (rgb[..., 0].astype(np.uint16) * 257 + rng.integers(0, 257, rgb.shape[:2])).astype(
        np.uint16
    )
    i32 = u16.astype(np.int32) - 30000  # negative values too
    f32 = u16.astype(np.float32) / 65535
    return {
        "1": (Image.fromarray(bits), np.where(bits, 255, 0).astype(np.uint8)),
        "L": (Image.fromarray(gray8), gray8),
        "LA": (Image.fromarray(np.dstack([gray8, alpha]), "LA"), gray8),
        "P": (colour_p, colour_p_gray),
        "P-gray": (gray_p, gray8),
        "P-transparency": (transparent_p, colour_p_gray),
        "RGB": (Image.fromarray(rgb), rgb_to_gray_uint8(rgb)),
        "RGBA": (Image.fromarray(np.dstack([rgb, alpha]), "RGBA"), rgb_to_gray_uint8(rgb)),
        "CMYK": (cmyk, rgb_to_gray_uint8(np.asarray(cmyk.convert("RGB")))),
        "I;16": (Image.fromarray(u16), u16),
        "I": (Image.fromarray(i32), i32),
        "F": (Image.fromarray(f32), f32),
    }


SOURCES = _source_images()

# (mode, format, extension): every combination Pillow writes losslessly.
LOSSLESS = [
    ("1", "PNG", "png"), ("1", "TIFF", "tif"), ("1", "BMP", "bmp"),
    ("L", "PNG", "png"), ("L", "TIFF", "tif"), ("L", "BMP", "bmp"), ("L", "GIF", "gif"),
    ("LA", "PNG", "png"), ("LA", "TIFF", "tif"),
    ("P", "PNG", "png"), ("P", "TIFF", "tif"), ("P", "BMP", "bmp"), ("P", "GIF", "gif"),
    ("P-gray", "PNG", "png"), ("P-gray", "GIF", "gif"),
    ("P-transparency", "PNG", "png"), ("P-transparency", "GIF", "gif"),
    ("RGB", "PNG", "png"), ("RGB", "TIFF", "tif"), ("RGB", "BMP", "bmp"),
    ("RGBA", "PNG", "png"), ("RGBA", "TIFF", "tif"),
    ("CMYK", "TIFF", "tif"),
    ("I;16", "PNG", "png"), ("I;16", "TIFF", "tif"),
    ("I", "TIFF", "tif"),
    ("F", "TIFF", "tif"),
]


@pytest.mark.parametrize("mode", list(SOURCES))
def test_every_pil_mode_in_memory(mode):
    image, expected = SOURCES[mode]
    gray = load_image(image)
    assert gray.dtype == expected.dtype
    np.testing.assert_array_equal(gray, expected)


@pytest.mark.parametrize("mode, fmt, ext", LOSSLESS, ids=lambda v: str(v))
def test_every_mode_through_every_lossless_format(tmp_path, mode, fmt, ext):
    image, expected = SOURCES[mode]
    path = save(image, tmp_path / f"image.{ext}", fmt)
    gray = load_image(path)
    assert gray.shape == expected.shape
    if mode == "L" and fmt == "GIF":
        # GIF stores L as a palette of grays: the exact values come back.
        assert Image.open(path).mode == "P"
    np.testing.assert_array_equal(gray, expected)
    row = featurize([path])
    assert row.shape == (1, 52) and np.isfinite(row).all()
    # Whatever the container, the row is the one of the gray image.
    np.testing.assert_array_equal(row, featurize([expected]))


@pytest.mark.parametrize(
    "mode, fmt, ext",
    [("L", "JPEG", "jpg"), ("RGB", "JPEG", "jpg"), ("CMYK", "JPEG", "jpg"),
     pytest.param("RGB", "WEBP", "webp", marks=needs_webp),
     pytest.param("RGBA", "WEBP", "webp", marks=needs_webp),
     pytest.param("L", "WEBP", "webp", marks=needs_webp)],
    ids=lambda v: str(v),
)
def test_lossy_formats_stay_close_to_the_source(tmp_path, mode, fmt, ext):
    image, expected = SOURCES[mode]
    path = save(image, tmp_path / f"image.{ext}", fmt, quality=95)
    gray = load_image(path)
    assert gray.dtype == np.uint8 and gray.shape == expected.shape
    assert np.abs(gray.astype(float) - expected).mean() < 4


def test_reading_a_pil_image_leaves_it_unchanged(tmp_path):
    # Pillow's convert("RGBA") of a palette image with transparency rewrites the
    # source's palette in place (a GIF saved afterwards has garbled colours).
    image, expected = SOURCES["P-transparency"]
    image = image.copy()
    image.info["transparency"] = 0
    before = save(image, tmp_path / "before.gif")
    load_image(image)
    after = save(image, tmp_path / "after.gif")
    with open(before, "rb") as f, open(after, "rb") as g:
        assert f.read() == g.read()
    np.testing.assert_array_equal(load_image(after), expected)


def test_cmyk_converts_sensibly(tmp_path):
    # White paper, full black ink, half black ink, full cyan, a light tint.
    inks = np.array([[0, 0, 0, 0], [0, 0, 0, 255], [0, 0, 0, 128], [255, 0, 0, 0],
                     [40, 40, 40, 0]], np.uint8)
    cmyk = Image.fromarray(np.repeat(inks[:, None, :], 8, axis=1), "CMYK")
    expected_rgb = np.array([[255, 255, 255], [0, 0, 0], [127, 127, 127], [0, 255, 255],
                             [215, 215, 215]], np.uint8)
    expected = rgb_to_gray_uint8(expected_rgb[:, None, :]).repeat(8, axis=1)
    np.testing.assert_array_equal(load_image(cmyk), expected)
    for fmt, ext, options, tolerance in (("TIFF", "tif", {}, 0),
                                         ("JPEG", "jpg", {"quality": 100}, 3)):
        path = save(cmyk, tmp_path / f"cmyk.{ext}", fmt, **options)
        assert Image.open(path).mode == "CMYK"
        assert np.abs(load_image(path).astype(int) - expected).max() <= tolerance, fmt


def test_bool_array_pil_mode_1_and_its_file_agree(tmp_path):
    bits = texture_rgb()[..., 1] > 120
    path = save(Image.fromarray(bits), tmp_path / "bits.png")
    assert Image.open(path).mode == "1"
    rows = featurize([bits, Image.fromarray(bits), path, np.asarray(Image.open(path))])
    for row in rows[1:]:
        np.testing.assert_array_equal(row, rows[0])
    # Black and white sit at both ends of the 8-bit scale, so binning keeps two levels.
    assert set(np.unique(to_gray_levels(load_image(bits), levels=4))) == {0, 3}


# -- 16-bit and other wide images -------------------------------------------


@pytest.mark.parametrize("fmt, ext", [("PNG", "png"), ("TIFF", "tif")])
def test_16_bit_files_load_as_uint16_and_are_binned(tmp_path, fmt, ext):
    image, u16 = SOURCES["I;16"]
    path = save(image, tmp_path / f"deep.{ext}", fmt)
    assert Image.open(path).mode == "I;16"
    gray = load_image(path)
    assert gray.dtype == np.uint16
    np.testing.assert_array_equal(gray, u16)
    lo, hi = int(u16.min()), int(u16.max())
    for levels in (None, 16):
        k = 256 if levels is None else levels
        expected = np.minimum((u16.astype(np.int64) - lo) * k // (hi - lo), k - 1)
        binned = to_gray_levels(gray, levels)
        np.testing.assert_array_equal(binned, expected)
        assert binned.max() == k - 1 and binned.min() == 0
        np.testing.assert_allclose(
            featurize([path], levels=levels),
            mahotas.features.haralick(expected.astype(np.uint8)).ravel()[None],
            rtol=RTOL, atol=0,
        )


def test_big_endian_16_bit_tiff(tmp_path):
    _, u16 = SOURCES["I;16"]
    big_endian = Image.frombytes("I;16B", u16.shape[::-1], u16.astype(">u2").tobytes())
    path = save(big_endian, tmp_path / "be.tif")
    assert Image.open(path).mode == "I;16B"
    np.testing.assert_array_equal(load_image(path), u16)
    np.testing.assert_array_equal(featurize([path]), featurize([u16]))


def _write_rgb48_png(path, rgb16):
    """A 16-bit-per-channel RGB PNG, written by hand (Pillow cannot write one)."""
    height, width, _ = rgb16.shape
    raw = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in rgb16)

    def chunk(kind, data):
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return str(path)


def test_48_bit_rgb_png_is_read_at_8_bits_per_channel(tmp_path):
    rgb16 = texture_rgb().astype(np.uint16) * 257 + 100
    path = _write_rgb48_png(tmp_path / "rgb48.png", rgb16)
    # Pillow keeps the high byte of each channel; then the reference conversion.
    high_bytes = (rgb16 >> 8).astype(np.uint8)
    np.testing.assert_array_equal(load_image(path), rgb_to_gray_uint8(high_bytes))


def test_a_sample_does_not_depend_on_its_batch():
    _, u16 = SOURCES["I;16"]
    alone = featurize([u16])
    dark = (u16 // 4).astype(np.uint16)
    bright = np.full_like(u16, 65535)
    bright[::2] = 0
    batch = featurize([dark, u16, bright, SOURCES["F"][1]])
    np.testing.assert_array_equal(batch[1], alone[0])


# -- multi-frame files ------------------------------------------------------

MULTI_FRAME = [("GIF", "gif"), ("TIFF", "tif"), pytest.param("WEBP", "webp", marks=needs_webp)]


@pytest.mark.parametrize("fmt, ext", MULTI_FRAME)
def test_multi_frame_file_gives_its_first_frame(tmp_path, fmt, ext):
    first, second = texture_rgb(seed=1), texture_rgb(seed=2)[::-1]
    frames = [Image.fromarray(first).convert("L"), Image.fromarray(second).convert("L")]
    kwargs = {"lossless": True} if fmt == "WEBP" else {}
    path = save(frames[0], tmp_path / f"frames.{ext}", fmt, save_all=True,
                append_images=frames[1:], **kwargs)
    with Image.open(path) as im:
        assert im.n_frames == 2
        im.seek(1)
        second_frame = load_image(im)  # a PIL image: its current frame
    first_frame = load_image(path)
    sources = [np.asarray(f, dtype=int) for f in frames]
    # WebP stores gray as RGB, whose reference conversion may truncate by 1.
    assert np.abs(first_frame - sources[0]).max() <= 1
    assert np.abs(second_frame - sources[1]).max() <= 1
    np.testing.assert_array_equal(featurize([path]), featurize([first_frame]))


# -- bad files and bad arrays -----------------------------------------------

# A good image with few gray levels: cheap for the reference backend.
SMALL_GOOD = (np.arange(64, dtype=np.uint8).reshape(8, 8) * 7) % 5


def _jpeg_bytes():
    buf = io.BytesIO()
    Image.fromarray(texture_rgb(96, 128)).save(buf, "JPEG")
    return buf.getvalue()


def _png_bytes():
    buf = io.BytesIO()
    Image.fromarray(texture_rgb(96, 128)).save(buf, "PNG")
    return buf.getvalue()


def _bad_file(tmp_path, kind):
    """Write one bad file; return its path."""
    path = tmp_path / {
        "missing": "missing.jpg", "directory": "folder.jpg", "empty": "empty.png",
        "truncated JPEG": "cut.jpg", "truncated PNG": "cut.png", "text as JPEG": "notes.jpg",
        "random bytes": "noise.png", "1x1": "dot.png",
    }[kind]
    if kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated JPEG":
        path.write_bytes(_jpeg_bytes()[: len(_jpeg_bytes()) // 2])
    elif kind == "truncated PNG":
        path.write_bytes(_png_bytes()[: len(_png_bytes()) // 2])
    elif kind == "text as JPEG":
        path.write_text("this is not a JPEG, it is a shopping list\n")
    elif kind == "random bytes":
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    elif kind == "1x1":
        Image.new("RGB", (1, 1), (10, 20, 30)).save(path)
    return str(path)


BAD_FILES = [
    ("missing", FileNotFoundError, "no such file"),
    ("directory", IsADirectoryError, "is a directory"),
    ("empty", ValueError, "empty file"),
    ("truncated JPEG", ValueError, "cannot decode image data.*truncated"),
    ("truncated PNG", ValueError, "cannot decode image data.*truncated"),
    ("text as JPEG", ValueError, "not an image file"),
    ("random bytes", ValueError, "not an image file"),
    ("1x1", ValueError, r"shape \(1, 1\) is too small to have any pixel pair"),
]


@pytest.mark.parametrize("kind, error, reason", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_file_raises_naming_the_file_and_the_reason(tmp_path, kind, error, reason):
    path = _bad_file(tmp_path, kind)
    with pytest.raises(error, match=f"{os.path.basename(path)}.*{reason}") as caught:
        featurize([_bad_file_neighbour(tmp_path), path])
    assert isinstance(caught.value, (ValueError, OSError))


def _bad_file_neighbour(tmp_path):
    """A good image before the bad one, so that the error is not about sample 0 by luck."""
    return save(Image.fromarray(SMALL_GOOD), tmp_path / "good.png")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "TIFF", "BMP",
                                 pytest.param("WEBP", marks=needs_webp)])
def test_truncated_files_of_every_format_are_errors(tmp_path, fmt):
    buf = io.BytesIO()
    Image.fromarray(texture_rgb(96, 128)).save(buf, fmt)
    data = buf.getvalue()
    for fraction in (0.25, 0.5, 0.9):
        path = tmp_path / f"cut{fraction}.{fmt.lower()}"
        path.write_bytes(data[: int(len(data) * fraction)])
        with pytest.raises(ValueError, match=path.name):
            load_image(str(path))


def _read_under_load_truncated_images(paths, **params):
    """Rows of ``paths`` and the warnings raised, the program having set LOAD_TRUNCATED_IMAGES."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = featurize(paths, **params)
    return rows, [w for w in caught if w.category is RuntimeWarning]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_load_truncated_images_is_the_programs_setting(tmp_path, monkeypatch, n_jobs):
    # By default a truncated file is an error (BAD_FILES above). A program that sets
    # Pillow's process-wide flag gets what Pillow decodes, missing rows filled, and a
    # warning that says so; the flag stays the program's.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    paths = [_bad_file(tmp_path, "truncated JPEG"), _bad_file(tmp_path, "truncated PNG")] * 3
    pillows = []
    for path in paths:
        with Image.open(path) as im:
            pillows.append(np.asarray(im.convert("RGB")))
    rows, warned = _read_under_load_truncated_images(paths, n_jobs=n_jobs)
    np.testing.assert_array_equal(rows, featurize(pillows))
    assert len(warned) == len(paths)
    assert "LOAD_TRUNCATED_IMAGES is True" in str(warned[0].message)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


def test_decompression_bomb_beyond_pillows_limit(tmp_path, monkeypatch):
    path = save(Image.fromarray(texture_rgb(100, 100)), tmp_path / "bomb.png")  # 10 000 pixels
    # Pillow refuses beyond twice MAX_IMAGE_PIXELS and warns beyond it.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 4_000)
    with pytest.raises(ValueError, match="bomb.png.*decompression bomb"):
        featurize([path])
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 8_000)
    with pytest.warns(Image.DecompressionBombWarning):
        assert np.isfinite(featurize([path])).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)  # the user's stricter policy
        with pytest.raises(ValueError, match="bomb.png.*decompression bomb"):
            featurize([path])


@pytest.mark.parametrize("load_truncated", [False, True])
def test_lazily_opened_pil_image_of_a_truncated_file(tmp_path, monkeypatch, load_truncated):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", load_truncated)
    path = _bad_file(tmp_path, "truncated JPEG")
    with Image.open(path) as im:
        if load_truncated:
            rows, warned = _read_under_load_truncated_images([im])
            assert len(warned) == 1
        else:
            with pytest.raises(ValueError, match="cut.jpg.*cannot decode.*truncated"):
                featurize([im])
    if load_truncated:
        with Image.open(path) as im:
            np.testing.assert_array_equal(rows, featurize([np.asarray(im.convert("RGB"))]))
    assert ImageFile.LOAD_TRUNCATED_IMAGES is load_truncated


def _nan_image():
    image = np.ones((8, 8))
    image[2, 3] = np.nan
    return image


BAD_ARRAYS = [
    ("NaN", _nan_image(), ValueError, "NaN or infinity"),
    ("inf", np.full((8, 8), np.inf), ValueError, "NaN or infinity"),
    ("-inf in float32 RGB", np.full((8, 8, 3), -np.inf, np.float32), ValueError, "NaN or infinity"),
    ("4-D", np.zeros((4, 4, 3, 2)), ValueError, "2-D .*or 3-D .*4 dimension"),
    ("1-D", np.arange(10), ValueError, "1 dimension"),
    ("5 channels", np.zeros((8, 8, 5)), ValueError, "1 to 4 channels"),
    ("1x1", np.zeros((1, 1), np.uint8), ValueError, "too small to have any pixel pair"),
    ("0x5", np.zeros((0, 5)), ValueError, "too small to have any pixel pair"),
    ("complex", np.ones((8, 8), complex), TypeError, "unsupported pixel dtype complex128"),
    ("object", np.ones((8, 8), object), TypeError, "unsupported pixel dtype object"),
    ("strings", np.full((8, 8), "a"), TypeError, "unsupported pixel dtype <U1"),
    ("None", None, TypeError, "expected a path, a PIL image or an array, got NoneType"),
]


@pytest.mark.parametrize("name, sample, error, reason", BAD_ARRAYS, ids=[b[0] for b in BAD_ARRAYS])
def test_bad_array_raises_naming_the_sample_index(name, sample, error, reason):
    good = SMALL_GOOD
    with pytest.raises(error, match=f"^sample 2: .*{reason}"):
        featurize([good, good, sample])


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_pixel_pair_at_the_distance_is_an_error(backend):
    with pytest.raises(ValueError, match=r"sample 1: .*\(3, 3\) has no pixel pair at distance 3"):
        featurize([SMALL_GOOD, np.eye(3)], distance=[1, 3], backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_ignore_zeros_without_a_non_zero_pair_is_an_error(backend):
    isolated = np.zeros((6, 6), np.uint8)
    isolated[::3, ::3] = 9  # non-zero pixels, none of them neighbours
    for image in (np.zeros((6, 6), np.uint8), isolated):
        with pytest.raises(ValueError, match="^sample 0: .*no pair of non-zero pixels at distance"):
            featurize([image], ignore_zeros=True, backend=backend)
    # A binned image's darkest bin is level 0 too: one bright pixel has no non-zero pair.
    spot = np.full((3, 3), -1.5)
    spot[1, 1] = 2.5
    with pytest.raises(ValueError, match="no pair of non-zero pixels"):
        featurize([spot], ignore_zeros=True, backend=backend)


# -- on_error="nan" -----------------------------------------------------------


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_on_error_nan_rows_order_and_one_warning(tmp_path, n_jobs):
    good_path = save(Image.fromarray(texture_rgb(seed=3)), tmp_path / "good.jpg", "JPEG")
    u16 = SOURCES["I;16"][1]
    batch = [
        good_path,                                    # 0 good
        _bad_file(tmp_path, "truncated JPEG"),        # 1
        texture_rgb(seed=4),                          # 2 good
        _bad_file(tmp_path, "missing"),               # 3
        _nan_image(),                                 # 4
        u16,                                          # 5 good
        np.zeros((1, 1)),                             # 6
        _bad_file(tmp_path, "text as JPEG"),          # 7
        Image.fromarray(texture_rgb(seed=5)),         # 8 good
    ]
    failed = [1, 3, 4, 6, 7]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = featurize(batch, on_error="nan", n_jobs=n_jobs)
    ours = [w for w in caught if issubclass(w.category, ImageFeaturizationWarning)]
    assert len(ours) == 1
    message = str(ours[0].message)
    assert message.startswith("5 of 9 images could not be featurized")
    assert "cut.jpg" in message and "missing.jpg" in message and "sample 4" in message
    assert "(and 2 more)" in message and "notes.jpg" not in message  # the first three only
    assert [index for index, _ in ours[0].message.failures] == failed
    assert "notes.jpg" in ours[0].message.failures[-1][1]
    # The documented way to find them without the warning: all-NaN rows.
    assert np.flatnonzero(np.isnan(rows).all(axis=1)).tolist() == failed
    for index, sample in enumerate(batch):
        if index not in failed:
            np.testing.assert_array_equal(rows[index], featurize([sample])[0])


def test_on_error_nan_without_failures_warns_nothing(recwarn):
    featurize([texture_rgb()], on_error="nan")
    assert not [w for w in recwarn if issubclass(w.category, ImageFeaturizationWarning)]


# -- degenerate images --------------------------------------------------------

DEGENERATE = {
    "constant 0": np.zeros((6, 7), np.uint8),
    "constant 7": np.full((6, 7), 7, np.uint8),
    "constant 255": np.full((6, 7), 255, np.uint8),
    "two levels (stripes)": np.tile(np.array([0, 9], np.uint8), (6, 4)),
    "two levels (checkerboard)": (np.indices((6, 6)).sum(axis=0) % 2 * 200).astype(np.uint8),
    "2x2": np.array([[1, 2], [3, 4]], np.uint8),
    "2x2 constant": np.full((2, 2), 3, np.uint8),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(DEGENERATE))
def test_degenerate_images_match_the_reference(name, backend):
    image = DEGENERATE[name]
    row = featurize([image], backend=backend)[0]
    assert np.isfinite(row).all()
    np.testing.assert_allclose(row, mahotas.features.haralick(image).ravel(), rtol=RTOL, atol=0)
    if name.startswith("constant") or name == "2x2 constant":
        correlation = row.reshape(4, 13)[:, 2]
        np.testing.assert_array_equal(correlation, 1.0)  # the reference's convention


@pytest.mark.parametrize("backend", BACKENDS)
def test_constant_wide_images_become_level_0(backend):
    expected = featurize([np.zeros((5, 5), np.uint8)], backend=backend)
    for image in (np.full((5, 5), 40000, np.uint16), np.full((5, 5), -3.5), np.full((5, 5), 1e300)):
        assert not to_gray_levels(load_image(image)).any()
        np.testing.assert_array_equal(featurize([image], backend=backend), expected)


def test_extreme_float_range_is_binned_without_overflow():
    image = np.array([[-1e308, 1e308], [0.0, 5e307]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or invalid-value warning
        levels = to_gray_levels(image)
    np.testing.assert_array_equal(levels, [[0, 255], [128, 192]])


def test_extreme_float_colour_becomes_finite_gray():
    # The exact conversion's weighted differences (59 (G - R) + 11 (B - R)) overflow
    # for channels far below float64's maximum.
    rgb = np.array([[[0.0, -1.0272532e307, -1.0272532e307], [-1.0272532e307] * 3]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gray = load_image(rgb)
        levels = to_gray_levels(gray)
    assert np.isfinite(gray).all()
    np.testing.assert_array_equal(levels, [[255, 0]])


# -- memory: a 16-bit 4000 x 4000 image within 1 GiB ------------------------

_PEAK = """
import resource
import numpy as np
from haralick_learn import HaralickFeaturizer

def vm_peak_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmPeak:"):
            return int(line.split()[1])

# What the package needs anyway: import, plus a tiny featurize (compiles kernels if any).
HaralickFeaturizer().fit_transform([np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000])
"""


@pytest.mark.slow  # a 32 MB image and two fresh processes
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc are Linux")
def test_16_bit_4000x4000_image_within_1_gib_of_address_space(tmp_path):
    side = 4000
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 60000, side)
    image = (ramp[:, None] / 2 + ramp[None, :] / 2).astype(np.uint16)
    image += rng.integers(0, 5536, (side, side), dtype=np.uint16)  # full 16-bit range
    path = save(Image.fromarray(image), tmp_path / "microscope.tif")
    del image
    source_root = os.path.dirname(os.path.dirname(haralick_learn.__file__))
    env = dict(os.environ, PYTHONPATH=source_root, OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

    def run(code):
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    (baseline_kib,) = run(_PEAK + "print(vm_peak_kib())")
    limit = int(baseline_kib) * 1024 + 2**30
    out = run(_PEAK + textwrap.dedent(f"""
        resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
        row = HaralickFeaturizer().fit_transform([{path!r}])
        print(row.shape[1], bool(np.isfinite(row).all()))
        # Control: the reference sizes its matrix by the image's maximum,
        # 65536**2 cells, and cannot run under the same limit.
        from PIL import Image
        raw = np.asarray(Image.open({path!r}))
        try:
            __import__("mahotas").features.haralick(raw)
            print("reference-ran")
        except MemoryError:
            print("reference-MemoryError")
    """))
    assert out == ["52", "True", "reference-MemoryError"]


# -- the strip-wise RGB read -------------------------------------------------


@pytest.mark.parametrize("strip_bytes", [1, 4 * 640 * 3 + 4, 1 << 19])
@pytest.mark.parametrize("encoder", ["pillow", "missing", "short-output"])
def test_rgb_photos_read_in_strips_equal_the_reference(
    photo_paths, monkeypatch, strip_bytes, encoder
):
    # Strips of one row, of 3 rows plus a remainder, and the default size; the
    # one-copy route through Pillow's raw encoder, and the public fallback
    # taken when that internal interface is gone or returns too little.
    import haralick_learn.io.decode as io_module

    monkeypatch.setattr(io_module, "_GRAY_STRIP_BYTES", strip_bytes)

    def missing(*args):
        raise AttributeError("module 'PIL.Image' has no attribute '_getencoder'")

    if encoder == "missing":
        monkeypatch.setattr(io_module, "_encode_box", missing)
    elif encoder == "short-output":
        monkeypatch.setattr(io_module, "_encode_box", lambda *args: b"\0" * 4)
    for path in photo_paths:
        with Image.open(path) as im:
            assert im.mode == "RGB"
        np.testing.assert_array_equal(load_image(path, gray_conversion="mahotas"),
                                      reference_gray(path), err_msg=path)
        rgb = np.asarray(Image.open(path))
        np.testing.assert_array_equal(load_image(path), rgb_to_gray_uint8(rgb), err_msg=path)


def test_rgba_and_rgbx_images_read_in_strips_ignore_the_fourth_byte():
    rgb = texture_rgb(37, 53)
    fourth = np.random.default_rng(3).integers(0, 256, rgb.shape[:2], dtype=np.uint8)
    expected = mahotas.colors.rgb2gray(rgb, dtype=np.uint8)
    for mode in ("RGBA", "RGBX"):
        image = Image.fromarray(np.dstack([rgb, fourth]), "RGBA")
        if mode == "RGBX":
            image = image.convert("RGBX")
        assert image.mode == mode
        np.testing.assert_array_equal(load_image(image, gray_conversion="mahotas"), expected,
                                      err_msg=mode)
        np.testing.assert_array_equal(load_image(image), rgb_to_gray_uint8(rgb), err_msg=mode)


def _failing_raw_encoder(kind, calls):
    """A stand-in for ``PIL.Image._getencoder`` that fails, in one way, only for the
    single-copy read (the public fallback, ``Image.tobytes``, uses the same function)."""
    real = Image._getencoder

    class ShortEncoder:  # the real encoder, its output cut short
        def __init__(self, encoder):
            self.encoder = encoder

        def setimage(self, *args):
            self.encoder.setimage(*args)

        def encode(self, n_bytes):
            consumed, status, data = self.encoder.encode(n_bytes)
            return consumed, status, data[: len(data) // 2]

        def cleanup(self):
            self.encoder.cleanup()

    def getencoder(mode, name, args, *extra):
        if sys._getframe(1).f_code.co_name != "_encode_box":
            return real(mode, name, args, *extra)
        calls.append(kind)
        if kind == "unknown encoder":  # Pillow's own OSError: "encoder nosuch not available"
            return real(mode, "nosuch", args, *extra)
        if kind == "bad raw mode":  # Pillow's own ValueError for a raw mode it cannot pack
            return real(mode, name, ("NOSUCHMODE",), *extra)
        if kind == "short output":
            return ShortEncoder(real(mode, name, args, *extra))
        if kind == "not bytes":
            encoder = ShortEncoder(real(mode, name, args, *extra))
            encoder.encode = lambda n_bytes: (n_bytes, 1, bytearray(n_bytes))
            return encoder
        if kind == "changed interface":  # an encoder without setimage: AttributeError
            return object()
        raise RuntimeError("some future failure of Pillow's internals")

    return getencoder


@pytest.mark.parametrize(
    "kind",
    ["unknown encoder", "bad raw mode", "short output", "not bytes", "changed interface",
     "runtime error"],
)
def test_single_copy_read_falls_back_on_any_failure_of_pillows_internals(
    photo_paths, monkeypatch, kind
):
    # Whatever Pillow's private encoder lookup raises or returns, the read takes
    # the public route and gives the normal result, bit for bit.
    expected = [load_image(path) for path in photo_paths]
    pil_expected = load_image(Image.fromarray(texture_rgb(37, 53)))
    calls = []
    monkeypatch.setattr(Image, "_getencoder", _failing_raw_encoder(kind, calls))
    for path, gray in zip(photo_paths, expected):
        np.testing.assert_array_equal(load_image(path), gray, err_msg=path)
    np.testing.assert_array_equal(load_image(Image.fromarray(texture_rgb(37, 53))), pil_expected)
    assert len(calls) >= len(photo_paths) + 1  # the failing route was really taken


# -- reading changes no process-wide state ------------------------------------


def _photo_copies(jpeg_paths, tmp_path, widths):
    """Real photographs saved at the given widths (so each has its own pixel count)."""
    with Image.open(jpeg_paths[0]) as im:
        photo = im.convert("RGB")
    paths = []
    for width in widths:
        height = round(photo.height * width / photo.width)
        paths.append(save(photo.resize((width, height)), tmp_path / f"photo_{width}.png"))
    return paths


def _pixels(path):
    with Image.open(path) as im:
        return im.width * im.height


def _process_wide_state():
    return warnings.warn, ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS


@pytest.mark.parametrize("load_truncated", [False, True])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_reading_leaves_process_wide_state_alone(jpeg_paths, tmp_path, monkeypatch,
                                                 load_truncated, n_jobs):
    # warnings.warn and Pillow's settings are the program's: a read leaves them as they
    # are, seen from inside the read, from another thread while reads run, and afterwards.
    import threading

    import haralick_learn.io.decode as io_module

    paths = _photo_copies(jpeg_paths, tmp_path, [300, 400, 500]) * 4
    paths.insert(5, _bad_file(tmp_path, "truncated JPEG"))
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", load_truncated)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)  # some reads warn
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        expected = _process_wide_state()
        seen = []
        real = io_module._pil_to_array

        def reading(im, **kwargs):
            seen.append(_process_wide_state())
            return real(im, **kwargs)

        done = threading.Event()

        def watch():
            # sample often, but let the reads run: a spinning thread would hold the GIL
            while not done.wait(0.0005):
                seen.append(_process_wide_state())

        monkeypatch.setattr(io_module, "_pil_to_array", reading)
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            for _ in range(3):
                featurize(paths, n_jobs=n_jobs, on_error="nan")
                load_image(paths[0])
                with Image.open(paths[1]) as im:
                    load_image(im)
        finally:
            done.set()
            watcher.join()
        seen.append(_process_wide_state())
    assert len(seen) > 3 * len(paths)
    for warn, load_truncated_images, max_image_pixels in seen:
        assert warn is expected[0]
        assert (load_truncated_images, max_image_pixels) == expected[1:]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_pillows_warnings_reach_the_program_as_pillow_raises_them(jpeg_paths, tmp_path,
                                                                  monkeypatch, n_jobs):
    paths = _photo_copies(jpeg_paths, tmp_path, [400, 410, 420, 430, 440, 450]) * 2
    pixels = [_pixels(path) for path in paths]
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        featurize(paths, n_jobs=n_jobs)
    assert [w.category for w in caught] == [Image.DecompressionBombWarning] * len(paths)
    # Pillow's own message, from Pillow's own line: nothing wraps warnings.warn.
    assert sorted(str(w.message) for w in caught) == sorted(
        f"Image size ({n} pixels) exceeds limit of 100000 pixels, could be decompression "
        "bomb DOS attack." for n in pixels
    )
    assert {os.path.dirname(w.filename) for w in caught} == {os.path.dirname(Image.__file__)}


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_warning_turned_into_an_error_names_each_file(jpeg_paths, tmp_path, monkeypatch,
                                                        n_jobs):
    # The per-sample error path names the files a warning is about, under threads too.
    paths = _photo_copies(jpeg_paths, tmp_path, [200, 400, 250, 450])  # 2nd and 4th too big
    pixels = [_pixels(path) for path in paths]
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        warnings.simplefilter("always", ImageFeaturizationWarning)
        rows = featurize(paths, n_jobs=n_jobs, on_error="nan")
    (warned,) = [w.message for w in caught if w.category is ImageFeaturizationWarning]
    assert [index for index, _ in warned.failures] == [1, 3]
    for index, reason in warned.failures:
        assert reason.startswith(f"{paths[index]!r}: refused as a decompression bomb (Image "
                                 f"size ({pixels[index]} pixels) exceeds limit")
    assert np.flatnonzero(np.isnan(rows).all(axis=1)).tolist() == [1, 3]


def test_other_warnings_of_a_read_pass_through(jpeg_paths, tmp_path):
    # A photograph with an empty MPF (APP2) segment: Pillow warns that it is a malformed
    # MPO file and reads it as the plain JPEG it is.
    data = open(jpeg_paths[0], "rb").read()
    payload = b"MPF\0" + bytes(20)
    path = tmp_path / "malformed_mpo.jpg"
    path.write_bytes(data[:2] + b"\xff\xe2" + struct.pack(">H", len(payload) + 2) + payload
                     + data[2:])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gray = load_image(str(path))
    np.testing.assert_array_equal(gray, load_image(jpeg_paths[0]))
    assert len(caught) == 1 and caught[0].category is UserWarning
    assert str(caught[0].message).startswith("Image appears to be a malformed MPO")


# -- corrupt JPEGs: what is detected, what cannot be -------------------------


def _small_jpeg(jpeg_paths, **save_options):
    """A real photograph, 96 x 96, as JPEG bytes (with EXIF and comment segments to skip)."""
    with Image.open(jpeg_paths[0]) as im:
        photo = im.convert("RGB").resize((96, 96))
    exif = Image.Exif()
    exif[270] = "a photograph"  # ImageDescription
    buf = io.BytesIO()
    photo.save(buf, "JPEG", exif=exif.tobytes(), comment=b"test", **save_options)
    return buf.getvalue()


def _with_declared_size(data, width, height):
    """JPEG bytes whose frame header (SOF0 or SOF2) declares another size."""
    data = bytearray(data)
    at = max(data.find(b"\xff\xc0"), data.find(b"\xff\xc2"))
    assert at > 0 and struct.unpack_from(">HH", data, at + 5) == (96, 96)
    struct.pack_into(">HH", data, at + 5, height, width)
    return bytes(data)


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
@pytest.mark.parametrize("side", [3000, 10000])
def test_jpeg_header_declaring_far_more_pixels_than_its_data_is_refused(
    jpeg_paths, tmp_path, monkeypatch, progressive, side
):
    # 96 x 96 pixels of data under a header of side x side: Pillow decodes it, the missing
    # blocks filled with gray (100 MP of gray for 10000 x 10000).
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # no bomb warning in the way
    path = tmp_path / "patched_header.jpg"
    path.write_bytes(_with_declared_size(_small_jpeg(jpeg_paths, progressive=progressive),
                                         side, side))
    with Image.open(path) as im:
        assert im.size == (side, side)
    reason = f"corrupt JPEG: its header declares {side} x {side} pixels, far more than its"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused, and without a warning first
        with pytest.raises(ValueError, match=f"^{str(path)!r}: {reason}"):
            load_image(str(path))
        with pytest.raises(ValueError, match="patched_header.jpg.*corrupt JPEG"):
            featurize([_bad_file_neighbour(tmp_path), str(path)])


def _flat_jpegs(tmp_path):
    """The smoothest JPEGs there are: one flat colour, 2000 x 2000, every coding option."""
    paths = []
    for mode, colour in (("L", 128), ("RGB", (120, 30, 200))):
        for options in ({}, {"optimize": True}, {"progressive": True}, {"subsampling": 0}):
            path = tmp_path / f"flat_{mode}_{len(paths)}.jpg"
            Image.new(mode, (2000, 2000), colour).save(path, quality=5, **options)
            paths.append(str(path))
    return paths


def test_no_real_or_flat_jpeg_is_refused(photo_paths, tmp_path):
    from haralick_learn.datasets import load_sample_images

    paths = list(load_sample_images().paths) + [p for p in photo_paths if p.endswith(".jpg")]
    for photo in photo_paths:
        with Image.open(photo) as im:
            rgb = im.convert("RGB")
        for quality in (5, 100):
            for options in ({}, {"optimize": True}, {"progressive": True}):
                path = tmp_path / f"{len(paths)}.jpg"
                rgb.save(path, quality=quality, **options)
                paths.append(str(path))
    flat = _flat_jpegs(tmp_path)
    # The flat ones come close to a Huffman-coded JPEG's bound of 512 pixels a byte.
    assert max(2000 * 2000 / os.path.getsize(p) for p in flat) > 250
    for path in paths + flat:
        assert load_image(path).ndim == 2, path
        # The header walk finds each file's Huffman frame (SOF0 or SOF2), so the bound
        # would apply to them all.
        with open(path, "rb") as fp:
            assert _jpeg_frame_marker(fp) in (0xC0, 0xC2), path


# A flat gray 1000 x 1000 JPEG, arithmetic-coded (SOF9), made by libjpeg-turbo's
# `cjpeg -quality 75 -arithmetic`: 125 bytes, 8000 pixels a byte, a real file.
ARITHMETIC_FLAT_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c14"
    "0d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d"
    "38323c2e333432ffc9000b0803e803e801011100ffcc000600101005ffda0008010100003f001eb780"
    "ffd9"
)


def test_arithmetic_coded_jpeg_has_no_such_bound_and_is_read(tmp_path):
    path = tmp_path / "arithmetic.jpg"
    path.write_bytes(ARITHMETIC_FLAT_JPEG)
    try:
        with Image.open(path) as im:
            im.load()
    except OSError:
        pytest.skip("this Pillow's libjpeg cannot decode arithmetic-coded JPEGs")
    assert 1000 * 1000 / len(ARITHMETIC_FLAT_JPEG) > 1024
    with open(path, "rb") as fp:
        assert _jpeg_frame_marker(fp) == 0xC9
    np.testing.assert_array_equal(load_image(str(path)), np.full((1000, 1000), 128, np.uint8))


def test_zeroed_bytes_inside_jpeg_data_are_not_detected(jpeg_paths, tmp_path):
    # The documented limit: 64 KB zeroed in the middle of a photograph's entropy-coded
    # data decode without error or warning (libjpeg resynchronizes and Pillow silences its
    # warnings); only a reference copy could tell. If this starts failing, detect it and
    # update docs/guide/images-and-pipelines.md.
    data = bytearray(open(jpeg_paths[0], "rb").read())
    middle = len(data) // 2
    data[middle - 32768 : middle + 32768] = bytes(65536)
    path = tmp_path / "zeroed.jpg"
    path.write_bytes(bytes(data))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gray = load_image(str(path))
    original = load_image(jpeg_paths[0])
    assert gray.shape == original.shape and (gray != original).mean() > 0.1


def test_a_damaged_chunk_or_tile_is_an_error_naming_the_store(jpeg_paths, tmp_path):
    # A Zarr chunk or an OME-TIFF strip whose bytes are damaged (a copy cut short, a disk
    # error) fails where it is decoded: the error names the store, whatever the codec raised.
    zarr = pytest.importorskip("zarr")
    tifffile = pytest.importorskip("tifffile")
    from haralick_learn import region_features

    gray = load_image(jpeg_paths[0])[100:164, 200:264]
    labels = np.zeros(gray.shape, np.int32)
    labels[5:40, 5:40], labels[40:60, 30:60] = 1, 2
    store = tmp_path / "image.zarr"
    zarr.open_array(str(store), mode="w", shape=gray.shape, chunks=(16, 16),
                    dtype=gray.dtype)[:] = gray
    metadata = {"zarr.json", ".zarray", ".zattrs", ".zgroup"}
    for chunk in [path for path in store.rglob("*") if path.is_file()
                  and path.name not in metadata]:
        chunk.write_bytes(b"not a compressed chunk")
    ome = tmp_path / "image.ome.tif"
    tifffile.imwrite(ome, gray, ome=True, compression="zlib")
    whole = ome.read_bytes()
    ome.write_bytes(whole[: len(whole) // 2] + bytes(len(whole) - len(whole) // 2))
    for source in (store, ome):
        with pytest.raises(ValueError, match=f"image '{re.escape(str(source))}': cannot read "
                                             r"its pixels \[\d+:\d+, \d+:\d+\]"):
            region_features(str(source), labels)


@pytest.mark.parametrize("axis", [{"name": None, "type": "time"}, {"name": "t", "type": 1}])
def test_ome_zarr_axes_that_are_not_names_are_an_error_naming_the_store(jpeg_paths, tmp_path,
                                                                        axis):
    zarr = pytest.importorskip("zarr")
    from haralick_learn.io.chunked import open_chunked

    gray = load_image(jpeg_paths[0])[:64, :64]
    group = zarr.open_group(str(tmp_path / "image.zarr"), mode="w")
    create = getattr(group, "create_array", None) or group.create_dataset  # zarr 3, zarr 2
    create("0", shape=(1,) + gray.shape, chunks=(1, 32, 32), dtype=gray.dtype)[:] = gray[None]
    group.attrs["multiscales"] = [{"datasets": [{"path": "0"}], "axes": [
        axis, {"name": "y", "type": "space"}, {"name": "x", "type": "space"}]}]
    with pytest.raises(ValueError, match=r"image '.*image.zarr': its OME-Zarr axes .* are not"):
        open_chunked(str(tmp_path / "image.zarr"), "image")
