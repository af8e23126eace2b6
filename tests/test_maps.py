"""texture_maps: each pixel's value is HaralickFeaturizer's row of its window's crop.

Real images only (scikit-learn's china.jpg, scikit-image's photographs and
textures); the reference is the featurizer itself on each crop (and mahotas,
through ``backend="mahotas"``, on a sample).

Tolerance: 1e-9 relative, plus an absolute bound for three features that are
differences of nearly equal terms in the float formulas of the reference,
whose own rounding the maps (exact integer sums) do not share:

* correlation (in [-1, 1]): ``sum(i j p) - ux * uy`` cancels; 1e-9 absolute;
* information measure of correlation 1 (in [-1, 0]): ``HXY - HXY1`` cancels;
  1e-12 absolute;
* information measure of correlation 2: ``sqrt(1 - exp(-2 (HXY2 - HXY)))``,
  the square root of the mutual information ``HXY2 - HXY``; both sides agree
  on that information to 1e-13 absolute, which the square root turns into up
  to ``sqrt(2e-13)`` (4.5e-7) where the information is near zero:
  ``min(sqrt(2e-13), 1e-13 / imc2)`` absolute;
* the variances (sum of squares, sum, difference with the x-minus-y option),
  ``E[x**2] - E[x]**2`` in the reference: 3e-10 absolute (1e-15 x 510**2);
* an aggregated row's columns: the mean of the per-direction tolerances
  (mean), twice their largest (a range, ``ptp``, subtracts two directions).
"""

import os
import re
import signal

import numpy as np
import pytest
from PIL import Image

from haralick_learn import HaralickFeaturizer, texture_maps
from haralick_learn.io.decode import load_image
from haralick_learn.preprocess.quantize import to_gray_levels

from conftest import time_limit

RTOL_MAPS = 1e-9
OPTIONS = [
    {},
    {"distance": [1, 3], "aggregate": "mean_ptp"},
    {"ignore_zeros": True, "levels": 16},
    {"use_x_minus_y_variance": True, "levels": 64, "aggregate": "mean"},
]
OPTION_IDS = ["default", "d13_mean_ptp", "ignore_zeros", "x_minus_y_mean"]


#: Absolute bounds (see the module docstring), by feature.
ABSOLUTE = {
    "correlation": 1e-9,
    "information_measure_of_correlation_1": 1e-12,
    # E[x**2] - E[x]**2 in the reference: rounding ~1e-15 x (2 x 255)**2
    "sum_of_squares_variance": 3e-10,
    "sum_variance": 3e-10,
    "difference_variance": 3e-10,
}


def _allowed(names, reference):
    """Per column of a per-direction row: the tolerance on its absolute error."""
    allowed = RTOL_MAPS * np.abs(reference)
    for k, name in enumerate(names):
        feature = re.sub(r"_(horizontal|diagonal_nwse|vertical|diagonal_nesw)_d\d+$", "", name)
        value = abs(reference[k])
        if feature == "information_measure_of_correlation_2":
            allowed[k] += min(np.sqrt(2e-13), 1e-13 / value if value else np.inf)
        else:
            allowed[k] += ABSOLUTE.get(feature, 0.0)
    return allowed


def _aggregated_allowed(per_direction_row, options):
    """Tolerances of an aggregated row, from the per-direction row's tolerances.

    A mean's error is at most the mean of its terms' errors; a range (ptp)
    subtracts two directions' values: at most twice the largest error.
    """
    names = HaralickFeaturizer(**dict(options, aggregate=None)).get_feature_names_out()
    reference = per_direction_row
    allowed = _allowed(names, reference).reshape(-1, 4, 13)
    present = ~np.isnan(reference.reshape(-1, 4, 13))
    blocks = []
    for block, ok in zip(allowed, present):
        rows = block[ok.all(axis=1)]
        blocks.append(rows.mean(axis=0) * (1 + 1e-12))
        if options["aggregate"] == "mean_ptp":
            blocks.append(2 * rows.max(axis=0))
    return np.concatenate(blocks)


def _rows(featurizer, crops):
    """The featurizer's row of each crop, or None where it raises ValueError (no pixel pair).

    One call for all the crops (a call per crop would spend most of the time in each
    call's set-up); crop by crop only when one of them raises.
    """
    try:
        return list(featurizer.transform(crops))
    except ValueError:
        pass
    rows = []
    for crop in crops:
        try:
            rows.append(featurizer.transform([crop])[0])
        except ValueError:
            rows.append(None)
    return rows


def check_pixels(gray, maps, window, pixels, step=1, **options):
    """Compare ``maps`` at grid ``pixels`` with the featurizer on each window's crop."""
    featurizer = HaralickFeaturizer(**options)
    names = featurizer.get_feature_names_out()
    r = window // 2
    crops = [gray[max(0, i * step - r) : i * step + r + 1, max(0, j * step - r) : j * step + r + 1]
             for i, j in pixels]
    references = _rows(featurizer, crops)
    if options.get("aggregate"):
        per_direction = _rows(HaralickFeaturizer(**dict(options, aggregate=None)), crops)
    checked = 0
    for k, ((i, j), reference) in enumerate(zip(pixels, references)):
        y, x = i * step, j * step
        if reference is None:  # no pixel pair at some distance: the map says NaN
            assert np.isnan(maps[i, j]).all(), (y, x)
            continue
        value = maps[i, j]
        np.testing.assert_array_equal(np.isnan(value), np.isnan(reference), err_msg=str((y, x)))
        ok = ~np.isnan(reference)
        error = np.abs(value - reference)[ok]
        if options.get("aggregate"):
            allowed = (_aggregated_allowed(per_direction[k], options)[ok]
                       + RTOL_MAPS * np.abs(reference[ok]))
        else:
            allowed = _allowed(names, reference)[ok]
        bad = np.flatnonzero(error > allowed)
        assert not bad.size, (
            f"pixel {(y, x)}: {names[ok][bad[0]]} = {value[ok][bad[0]]!r}, "
            f"reference {reference[ok][bad[0]]!r}"
        )
        checked += 1
    return checked


@pytest.fixture(scope="module")
def china_gray(jpeg_paths):
    return load_image(jpeg_paths[0])  # china.jpg through the featurizer's gray conversion


@pytest.mark.parametrize("options", OPTIONS, ids=OPTION_IDS)
def test_every_pixel_of_a_small_image(china_gray, options):
    gray = china_gray[150:182, 300:340]  # 32 x 40: every pixel, borders included
    window = 9
    maps = texture_maps(gray, window, **options)
    assert maps.shape == (32, 40, len(HaralickFeaturizer(**options).get_feature_names_out()))
    pixels = [(y, x) for y in range(32) for x in range(40)]
    assert check_pixels(gray, maps, window, pixels, **options) > 1000


# The default run: each option on two of the images, each image under two options (every
# pixel of a crop is checked under each option above); the other pairs are slow.
IMAGE_NAMES = ["camera", "brick", "gravel", "china"]
PAIRS = [
    pytest.param(name, options, id=f"{name}-{OPTION_IDS[k]}",
                 marks=() if (i - k) % 4 in (0, 1) else pytest.mark.slow)
    for k, options in enumerate(OPTIONS) for i, name in enumerate(IMAGE_NAMES)
]


@pytest.mark.parametrize("name, options", PAIRS)
def test_random_pixels_of_real_images(china_gray, name, options):
    skimage_data = pytest.importorskip("skimage.data")
    gray = china_gray[100:300, 150:450] if name == "china" else getattr(skimage_data, name)()
    gray = gray[:200, :300]
    window = 15
    maps = texture_maps(gray, window, **options)
    rng = np.random.default_rng(15)
    height, width = gray.shape
    pixels = list(zip(rng.integers(0, height, 60), rng.integers(0, width, 60)))
    # the four corners and a pixel of each border
    pixels += [(0, 0), (0, width - 1), (height - 1, 0), (height - 1, width - 1),
               (0, 77), (height - 1, 31), (100, 0), (66, width - 1)]
    assert check_pixels(gray, maps, window, pixels, **options) >= 60


def test_matches_mahotas_on_a_sample(china_gray):
    gray = china_gray[200:260, 100:180]
    maps = texture_maps(gray, 11)
    pixels = [(0, 0), (5, 79), (30, 40), (59, 13), (17, 66)]
    assert check_pixels(gray, maps, 11, pixels, backend="mahotas") == len(pixels)


@pytest.mark.parametrize("step", [2, 5, 16])
def test_step_is_the_strided_grid(china_gray, step):
    gray = china_gray[40:101, 50:133]  # 61 x 83: the last rows and columns are not multiples
    full = texture_maps(gray, 7, distance=[1, 2])
    strided = texture_maps(gray, 7, step=step, distance=[1, 2])
    assert strided.shape[:2] == (-(-61 // step), -(-83 // step))
    # output pixel (i, j) is image pixel (i * step, j * step), to the bit
    np.testing.assert_array_equal(strided, full[::step, ::step])
    pixels = [(0, 0), (strided.shape[0] - 1, strided.shape[1] - 1), (1, 2)]
    check_pixels(gray, strided, 7, pixels, step=step, distance=[1, 2])


def test_bands_give_identical_values(china_gray):
    gray = china_gray[:90, :120]
    one = texture_maps(gray, 15, aggregate="mean_ptp")
    np.testing.assert_array_equal(texture_maps(gray, 15, aggregate="mean_ptp", n_jobs=2), one)
    np.testing.assert_array_equal(texture_maps(gray, 15, aggregate="mean_ptp", n_jobs=7), one)


PROGRESS = re.compile(r"^Mapping \[[#.]{30}\] (\d+)/(\d+) (rows|tiles), [\d.]+ s$")


def progress_counts(err, unit):
    """The counts of the progress lines on standard error, each checked."""
    counts = []
    for line in err.splitlines():
        match = PROGRESS.match(line)
        assert match and match[3] == unit, f"not a progress line: {line!r}"
        counts.append((int(match[1]), int(match[2])))
    return counts


def test_verbose_shows_the_rows_mapped_on_standard_error(china_gray, capsys):
    gray = china_gray[:90, :120]
    quiet = texture_maps(gray, 15, aggregate="mean")
    assert capsys.readouterr() == ("", "")
    for n_jobs in (None, 2):  # bands in threads: one line, counted across them
        maps = texture_maps(gray, 15, aggregate="mean", n_jobs=n_jobs, verbose=1)
        np.testing.assert_array_equal(maps, quiet)
        out, err = capsys.readouterr()
        assert out == ""
        counts = progress_counts(err, "rows")  # a line at each quarter (not a terminal)
        assert 4 <= len(counts) <= 5 and counts[-1] == (90, 90)
        assert [done for done, _ in counts] == sorted({done for done, _ in counts})
    texture_maps(gray, 15, step=4, verbose=1)  # the grid's rows
    assert progress_counts(capsys.readouterr().err, "rows")[-1] == (23, 23)


def test_verbose_counts_the_tiles_of_a_dask_array_at_each_computation(china_gray, capsys):
    da = pytest.importorskip("dask.array")
    gray = china_gray[60:160, 200:330]
    lazy = texture_maps(da.from_array(gray, chunks=(50, 65)), 9, aggregate="mean", verbose=1)
    assert capsys.readouterr().err == ""  # nothing is computed yet
    expected = texture_maps(gray, 9, aggregate="mean")
    for _ in range(2):
        np.testing.assert_array_equal(lazy.compute(scheduler="threads"), expected)
        counts = progress_counts(capsys.readouterr().err, "tiles")
        assert counts == [(k, 4) for k in range(1, 5)]


def test_cli_map_shows_progress_on_standard_error_only(jpeg_paths, tmp_path, capsys):
    from haralick_learn import cli

    path = tmp_path / "china_crop.png"
    with Image.open(jpeg_paths[0]) as im:
        im.convert("RGB").crop((0, 0, 50, 30)).save(path)
    out_file = tmp_path / "maps.npy"
    wrote = f"Wrote 30 x 50 maps of 52 features (window 5, step 1) to {out_file}\n"
    compiling = "haralick-learn map: compiling the texture-map kernels, once per machine"
    assert cli.main(["map", str(path), "-o", str(out_file), "--window", "5"]) == 0
    out, err = capsys.readouterr()
    assert out == wrote
    if err.startswith(compiling):  # the kernels were not in numba's cache yet
        err = err.split("\n", 1)[1]
    assert progress_counts(err, "rows")[-1] == (30, 30)
    # Now they are: the next run says nothing of compiling.
    assert cli.main(["map", str(path), "-o", str(out_file), "--window", "5"]) == 0
    out, err = capsys.readouterr()
    assert out == wrote
    assert progress_counts(err, "rows")[-1] == (30, 30)


def test_reads_paths_pil_and_rgb_like_the_featurizer(jpeg_paths, china_gray, tmp_path):
    path = jpeg_paths[1]  # flower.jpg
    gray = load_image(path)[:40, :50]
    small = tmp_path / "flower_crop.png"
    with Image.open(path) as im:
        im.convert("RGB").crop((0, 0, 50, 40)).save(small)
    expected = texture_maps(gray, 5)
    np.testing.assert_array_equal(texture_maps(str(small), 5), expected)
    with Image.open(small) as im:
        np.testing.assert_array_equal(texture_maps(im, 5), expected)
    rgb = np.asarray(Image.open(small).convert("RGB"))
    np.testing.assert_array_equal(texture_maps(rgb, 5), expected)


def test_non_8bit_images_share_the_whole_image_quantization():
    skimage_data = pytest.importorskip("skimage.data")
    # A real 16-bit-range image: the moon photograph scaled to 0..65535 plus a gradient
    moon = skimage_data.moon()[100:150, 200:260].astype(np.uint16)
    gray = moon * 257 + np.arange(60, dtype=np.uint16)[None, :]
    maps = texture_maps(gray, 9, levels=32)
    levels = to_gray_levels(gray, 32)  # the whole image's range, once
    np.testing.assert_array_equal(maps, texture_maps(levels, 9))
    pixels = [(0, 0), (25, 30), (49, 59), (10, 55)]
    check_pixels(levels, maps, 9, pixels)


def test_nan_where_the_featurizer_finds_no_pair(china_gray):
    gray = china_gray[150:182, 300:340].copy()
    gray[:12, :12] = 0  # with ignore_zeros the corner's windows have no counted pair
    maps = texture_maps(gray, 5, ignore_zeros=True)
    assert np.isnan(maps[0, 0]).all()
    with pytest.raises(ValueError, match="no pair of non-zero pixels"):
        HaralickFeaturizer(ignore_zeros=True).transform([gray[:3, :3]])
    assert not np.isnan(maps[20, 20]).any()
    check_pixels(gray, maps, 5, [(0, 0), (9, 9), (11, 13), (20, 20)], ignore_zeros=True)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"window": 4}, ValueError, "window must be an odd int"),
        ({"window": 1}, ValueError, "window must be an odd int"),
        ({"window": 15.0}, ValueError, "window must be an odd int"),
        ({"step": 0}, ValueError, "step must be a positive int"),
        ({"n_jobs": 0}, ValueError, "n_jobs"),
        ({"compute_14th_feature": True}, ValueError, "whole matrix.*at most 64 gray levels"),
        ({"volume": "2.5d"}, ValueError, "merges a whole volume"),
        ({"masked_window": 1}, TypeError, "masked_window must be a bool"),
        ({"backend": "mahotas"}, ValueError, "backend must be 'auto' or 'numba'"),
        ({"distance": 15}, ValueError, "distance 15 >= window 15"),
        ({"levels": 1}, ValueError, "levels must be"),
        ({"memory": "cache"}, TypeError, r"unexpected parameters \['memory'\]"),
        ({"verbose": "yes"}, TypeError, "verbose must be an int, got 'yes'"),
    ],
)
def test_parameter_errors(china_gray, kwargs, error, match):
    with pytest.raises(error, match=match):
        texture_maps(china_gray[:20, :20], **kwargs)


def test_unreadable_file_is_named(tmp_path):
    bad = tmp_path / "not_an_image.png"
    bad.write_bytes(b"nothing here")
    with pytest.raises(ValueError, match="not_an_image.png"):
        texture_maps(str(bad))
    with pytest.raises(FileNotFoundError, match="missing.png"):
        texture_maps(os.path.join(tmp_path, "missing.png"))


def test_a_stack_or_volume_is_refused_as_one_image(china_gray):
    stack = np.stack([china_gray[i : i + 30, :30] for i in range(5)])  # (5, 30, 30)
    for array in (stack, stack[None]):
        with pytest.raises(ValueError, match=r"^image: texture maps take one 2-D image.*"
                                             rf"shape {re.escape(str(array.shape))}"):
            texture_maps(array, window=5)


def test_cli_map_writes_npy_tiff_and_preview(jpeg_paths, tmp_path, capsys):
    tifffile = pytest.importorskip("tifffile")
    from haralick_learn import cli

    path = tmp_path / "flower_crop.png"
    with Image.open(jpeg_paths[1]) as im:
        im.convert("RGB").crop((100, 100, 160, 140)).save(path)
    expected = texture_maps(str(path), 9, aggregate="mean")
    names = list(HaralickFeaturizer(aggregate="mean").get_feature_names_out())

    npy = tmp_path / "maps.npy"
    assert cli.main(["map", str(path), "-o", str(npy), "--window", "9",
                     "--aggregate", "mean"]) == 0
    np.testing.assert_array_equal(np.load(npy), expected)

    tif, png = tmp_path / "maps.tif", tmp_path / "preview.png"
    assert cli.main(["map", str(path), "-o", str(tif), "--window", "9", "--aggregate", "mean",
                     "--features", "contrast_*", "entropy_mean_d1", "--step", "2",
                     "--preview", str(png)]) == 0
    keep = [names.index("contrast_mean_d1"), names.index("entropy_mean_d1")]
    pages = tifffile.imread(tif)
    assert pages.shape == (2, 20, 30)
    np.testing.assert_array_equal(pages, np.moveaxis(expected[::2, ::2, keep], -1, 0)
                                  .astype(np.float32))
    with Image.open(png) as im:
        assert im.size[0] > im.size[1] > 100
    assert "contrast_mean_d1, entropy_mean_d1" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra, message",
    [
        (["-o", "maps.h5"], "must end in .tif, .tiff, .npy or .zarr"),
        (["-o", "maps.zarr", "--step", "2"], "--step 1 only"),
        (["-o", "maps.npy", "--features", "nothing_*"], "matches none of the 52 features"),
        (["-o", "maps.npy", "--window", "8"], "window must be an odd int"),
    ],
)
def test_cli_map_errors(jpeg_paths, tmp_path, capsys, extra, message):
    from haralick_learn import cli

    extra = [str(tmp_path / e) if e.startswith("maps.") else e for e in extra]
    assert cli.main(["map", jpeg_paths[0], *extra]) == 1
    assert message in capsys.readouterr().err


def test_dask_tiles_equal_the_in_memory_maps(china_gray, tmp_path):
    da = pytest.importorskip("dask.array")
    gray = china_gray[60:160, 200:330]  # 100 x 130
    expected = texture_maps(gray, 15, distance=[1, 2], aggregate="mean_ptp")
    for chunks in [(37, 53), (100, 40), (7, 130)]:  # tiles thinner than the overlap: rechunked
        lazy = texture_maps(da.from_array(gray, chunks=chunks), 15, distance=[1, 2],
                            aggregate="mean_ptp")
        assert lazy.shape == expected.shape
        np.testing.assert_array_equal(lazy.compute(scheduler="threads"), expected)
    with pytest.raises(ValueError, match="one 2-D gray image"):
        texture_maps(da.from_array(np.stack([gray, gray]), chunks=50))
    with pytest.raises(ValueError, match="step=1 only"):
        texture_maps(da.from_array(gray, chunks=50), step=2)
    zarr = pytest.importorskip("zarr")
    lazy = texture_maps(da.from_array(gray, chunks=(50, 64)), 15, aggregate="mean")
    lazy.to_zarr(str(tmp_path / "maps.zarr"))
    np.testing.assert_array_equal(zarr.open(str(tmp_path / "maps.zarr"))[:],
                                  texture_maps(gray, 15, aggregate="mean"))


def test_dask_tiles_refuse_what_the_in_memory_maps_refuse(china_gray):
    da = pytest.importorskip("dask.array")
    gray = china_gray[60:124, 200:264].astype(np.float64)
    holed, infinite = gray.copy(), gray.copy()
    holed[3, 3], infinite[40, 50] = np.nan, np.inf
    inside = np.zeros(gray.shape, bool)
    inside[30:60, 30:60] = True
    for image, mask, masked_window in [(holed, None, True), (infinite, None, True),
                                       (infinite, inside, True), (holed, inside, False)]:
        with pytest.raises(ValueError, match="NaN or infinity"):
            texture_maps(image, 5, mask=mask, masked_window=masked_window)
        with pytest.raises(ValueError, match="finite"):
            texture_maps(da.from_array(image, chunks=32), 5, mask=mask,
                         masked_window=masked_window, aggregate="mean")
    for masked_window in (True, False):
        with pytest.raises(ValueError, match="selects no pixel"):
            texture_maps(da.from_array(gray, chunks=32), 5, masked_window=masked_window,
                         mask=da.zeros(gray.shape, dtype=bool, chunks=32))
    with pytest.raises(TypeError, match="boolean .or integer"):
        texture_maps(da.from_array(gray, chunks=32), 5, mask=inside + 0.5)


def test_cli_map_zarr_is_written_tile_by_tile(jpeg_paths, tmp_path):
    zarr = pytest.importorskip("zarr")
    pytest.importorskip("dask.array")
    from haralick_learn import cli

    path = tmp_path / "china_crop.png"
    with Image.open(jpeg_paths[0]) as im:
        im.convert("RGB").crop((0, 0, 1100, 300)).resize((1100, 300)).save(path)
    out = tmp_path / "maps.zarr"
    assert cli.main(["map", str(path), "-o", str(out), "--window", "7", "--levels", "64",
                     "--features", "entropy_*", "--preview", str(tmp_path / "p.png")]) == 0
    expected = texture_maps(str(path), 7, levels=64)  # 1100 wide: two 1024-pixel tiles
    names = list(HaralickFeaturizer().get_feature_names_out())
    keep = [k for k, name in enumerate(names) if name.startswith("entropy_")]
    np.testing.assert_array_equal(zarr.open(str(out))[:], expected[..., keep])
    assert (out / "feature_names.txt").read_text().split() == [names[k] for k in keep]
    assert cli.main(["map", str(path), "-o", str(out)]) == 1  # never overwritten


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM")
def test_dask_tiles_of_images_thinner_than_the_overlap():
    da = pytest.importorskip("dask.array")
    camera = pytest.importorskip("skimage.data").camera()  # 512 x 512
    cases = [
        (camera[200:210, :300], None, 31),  # 10 rows, one tile: shallower than the overlap (15)
        (camera[200:210, :300], (4, 100), 31),  # 10 rows in tiles of 4, 3 columns of tiles
        (camera[:300, 250:255], (128, 5), 15),  # 5 columns, tiles of 128 rows
    ]
    for gray, chunks, window in cases:
        expected = texture_maps(gray, window, aggregate="mean")
        with time_limit(30):
            lazy = texture_maps(da.from_array(gray, chunks=chunks or gray.shape), window,
                                aggregate="mean")
            np.testing.assert_array_equal(lazy.compute(scheduler="sync"), expected)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM")
def test_cli_map_zarr_of_a_thin_image(tmp_path, capsys):
    zarr = pytest.importorskip("zarr")
    pytest.importorskip("dask.array")
    from haralick_learn import cli

    camera = pytest.importorskip("skimage.data").camera()
    # 2050 x 5: 1024-row tiles and a last one of 2 rows, all 5 pixels wide (< window // 2)
    thin = np.tile(camera[:, 300:305], (5, 1))[:2050]
    path = tmp_path / "thin.png"
    Image.fromarray(thin).save(path)
    out = tmp_path / "maps.zarr"
    with time_limit(30):
        assert cli.main(["map", str(path), "-o", str(out), "--window", "15",
                         "--aggregate", "mean"]) == 0, capsys.readouterr().err
    np.testing.assert_array_equal(zarr.open(str(out))[:],
                                  texture_maps(str(path), 15, aggregate="mean"))


@pytest.mark.parametrize("options", [{}, {"aggregate": "mean"}, {"levels": 16, "distance": [1, 2]},
                                     {"step": 3, "n_jobs": 2}])
def test_memory_estimate_bounds_what_texture_maps_allocates(jpeg_paths, options):
    import tracemalloc

    from haralick_learn._maps import texture_maps_memory

    texture_maps(np.zeros((8, 8), np.uint8), 3)  # compiled before measuring
    tracemalloc.start()
    try:
        maps = texture_maps(jpeg_paths[0], 15, **options)  # china.jpg, 427 x 640
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    estimate = texture_maps_memory((427, 640, 3), 15, **options)
    assert maps.nbytes < peak <= estimate < 2 * peak
    with pytest.raises(ValueError, match="window must be an odd int"):
        texture_maps_memory((427, 640), 8)


# IBSI's binning without MCC, whose eigenproblem per window is beside the point here
@pytest.mark.parametrize("params", [dict(levels=32), dict(features=["ibsi_Contrast", "ibsi_Idn"],
                                                          bin_width=700, aggregate="mean")],
                         ids=["levels", "ibsi_bin_width"])
def test_dask_tiles_of_16_bit_images_share_the_whole_image_levels(china_gray, params):
    """Each tile is binned with the whole image's minimum and maximum, not its own."""
    da = pytest.importorskip("dask.array")
    wide = china_gray[60:110, 200:270].astype(np.uint16) * 150 + 3000
    expected = texture_maps(wide, 9, **params)
    lazy = texture_maps(da.from_array(wide, chunks=(30, 45)), 9, **params)
    np.testing.assert_array_equal(lazy.compute(scheduler="threads"), expected)


def test_dask_volumes_with_a_mask_equal_the_in_memory_voxel_maps():
    da = pytest.importorskip("dask.array")
    nibabel = pytest.importorskip("nibabel")
    path = os.path.join(os.path.dirname(nibabel.__file__), "tests", "data", "anatomical.nii")
    if not os.path.exists(path):
        pytest.skip("this nibabel install ships no anatomical.nii")
    volume = np.ascontiguousarray(
        np.asarray(nibabel.load(path).dataobj).astype(np.int16)
        .transpose(2, 0, 1)[6:12, 5:30, 8:36])
    mask = volume > np.percentile(volume, 55)
    params = dict(volume=True, features=["ibsi_Contrast", "ibsi_JointEntropy", "ibsi_Idn",
                                         "ibsi_MCC"], bin_width=1500, aggregate="mean")
    for masked_window in (True, False):
        expected = texture_maps(volume, 3, mask=mask, masked_window=masked_window, **params)
        lazy = texture_maps(da.from_array(volume, chunks=(5, 20, 15)), 3,
                            mask=da.from_array(mask, chunks=(6, 11, 19)),
                            masked_window=masked_window, **params)
        assert lazy.shape == volume.shape + (4,)
        np.testing.assert_array_equal(lazy.compute(scheduler="threads"), expected)


def test_one_machine_code_of_the_kernel_maps_every_kind_of_image(china_gray):
    # Each type of array the kernel is called with compiles its own machine code, seconds on
    # a machine's first map: every image (8-bit, read-only, 16-bit, float, masked, colour,
    # a volume, the windows' whole matrices) is mapped by one (a window whose counts exceed
    # 16 bits by a second: see the next test).
    from haralick_learn.texture.windowed import map_rows, map_rows_ordered

    gray = china_gray[60:84, 90:120]
    readonly = gray.copy()
    readonly.setflags(write=False)
    mask = gray > np.median(gray)
    rgb = np.stack([gray, gray[::-1], gray[:, ::-1]], axis=-1)
    volume = np.stack([china_gray[60 + k:84 + k, 90:120] for k in (0, 7, 14)]).astype(np.int16)
    texture_maps(gray, 5)
    texture_maps(readonly, 3, aggregate="mean")
    texture_maps(gray, 3, features="ibsi", aggregate="mean", levels=32)
    texture_maps(gray.astype(np.uint16) * 257, 3, bin_width=50)  # levels beyond 255
    texture_maps(gray / 255.0, 3, levels=16, features=["ibsi_MCC"])
    texture_maps(gray, 3, mask=mask, ignore_zeros=True)
    texture_maps(gray, 3, mask=mask, masked_window=False, aggregate="merged")
    texture_maps(rgb, 3, color="rgb", levels=8)
    texture_maps(volume, 3, volume=True, mask=volume > 100, bin_width=25)
    texture_maps(volume, 3, volume="2d", step=2)
    # and one of the ordered pairs' kernel (symmetric=False, colour pairs)
    texture_maps(gray, 3, symmetric=False)
    texture_maps(readonly, 5, symmetric=False, aggregate="mean", features="ibsi", levels=32)
    texture_maps(gray.astype(np.uint16) * 257, 3, bin_width=50, symmetric=False)
    texture_maps(gray, 3, mask=mask, ignore_zeros=True, symmetric=False, levels=16,
                 features=["ibsi_MCC", "ibsi_MaximumProbability"])
    texture_maps(rgb, 3, color="rgb", color_pairs="all", levels=8)
    texture_maps(rgb, 3, color="hsv", color_pairs=[("V", "H")], symmetric=False, mask=mask)
    texture_maps(volume, 3, volume=True, mask=volume > 100, bin_width=25, symmetric=False)
    assert len(map_rows_ordered.signatures) == 1, map_rows_ordered.signatures
    assert {str(signature[20].dtype) for signature in map_rows.signatures} <= {"uint16", "int32"}
    assert len({signature[:20] + signature[21:] for signature in map_rows.signatures}) == 1


@pytest.mark.slow
def test_a_window_beyond_16_bit_counts_has_a_machine_code_of_its_own(china_gray):
    # Counts in 16 bits keep a window's matrices small; a window with more pairs than 16 bits
    # count (257 x 257 here) takes 32-bit counts: a second machine code, the same maps.
    from haralick_learn.texture.windowed import map_rows

    tiled = np.tile(china_gray[60:84, 90:120], (11, 9))[:259, :259]
    maps = texture_maps(tiled, 257, step=128)
    assert "int32" in {str(signature[20].dtype) for signature in map_rows.signatures}
    # pixel (128, 128): the window of rows and columns 0 to 256
    centre = HaralickFeaturizer().fit_transform([tiled[:257, :257]])[0]
    np.testing.assert_allclose(maps[1, 1], centre, rtol=1e-9, atol=1e-9)


def test_dask_tiles_of_non_symmetric_maps_equal_the_in_memory_maps(china_gray):
    import dask.array as da

    gray = china_gray[:90, :70]
    params = dict(symmetric=False, features="ibsi", levels=32, aggregate="mean")
    lazy = texture_maps(da.from_array(gray, chunks=(40, 30)), 7, **params)
    np.testing.assert_array_equal(lazy.compute(scheduler="threads"),
                                  texture_maps(gray, 7, **params))
