"""3-D volumes (``HaralickFeaturizer(volume=True)``): parity with ``mahotas.features.haralick``.

The volumes are real: stacks of consecutive crops of real photographs and
textures (each slice the crop one row lower than the previous), so that
neighbouring slices are as correlated as neighbouring rows.
"""

import sys
import warnings

import mahotas
import mahotas.features.texture as mahotas_texture
import numpy as np
import pytest
import skimage.data
from sklearn.datasets import load_sample_image

from haralick_learn import HaralickFeaturizer, ImageFeaturizationWarning
from haralick_learn.texture.counting import DIRECTIONS_3D, cooccurrence
from haralick_learn.io.decode import load_volume
from haralick_learn.preprocess.quantize import to_gray_levels
from haralick_learn._settings import DIRECTIONS_3D as NAMED_3D

from conftest import BACKENDS, RTOL, stack_of_crops


def _china_gray():
    return mahotas.colors.rgb2gray(load_sample_image("china.jpg"), dtype=np.uint8)


VOLUMES = {
    "gravel": lambda: stack_of_crops(skimage.data.gravel(), 10, 40),
    "brick": lambda: stack_of_crops(skimage.data.brick(), 7, 48, 100, 50),
    "camera": lambda: stack_of_crops(skimage.data.camera(), 12, 32, 200, 200),
    "china": lambda: stack_of_crops(_china_gray(), 9, 36, 150, 300),
}


@pytest.fixture(scope="module", params=sorted(VOLUMES))
def volume(request):
    return VOLUMES[request.param]()


def with_background(volume):
    """The volume with its darkest quarter set to 0 (a background for ignore_zeros)."""
    out = volume.copy()
    out[out < np.percentile(out, 25)] = 0
    return out


def reference(volume, distances=(1,), **options):
    return np.concatenate(
        [mahotas.features.haralick(volume, distance=d, **options).ravel() for d in distances]
    )


def assert_matches(ours, expected):
    # atol: along a stack of identical slices every pair has |x - y| = 0, a difference
    # entropy of exactly 0 here and of up to 1.6e-15 in mahotas (the rounding of its
    # probabilities, which do not sum to exactly 1)
    np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=1e-13)


# -- the co-occurrence kernel -------------------------------------------------


def test_the_13_directions_are_mahotas_in_its_order():
    assert DIRECTIONS_3D == tuple(tuple(d) for d in mahotas_texture._3d_deltas)
    assert tuple(offset for _, offset in NAMED_3D) == DIRECTIONS_3D


@pytest.mark.parametrize("symmetric", [True, False])
def test_3d_cooccurrence_equals_mahotas(volume, symmetric):
    cmats = cooccurrence(volume, (1, 2, 4), symmetric=symmetric)
    n_levels = int(volume.max()) + 1
    assert cmats.shape == (3, 13, n_levels, n_levels)
    for k, distance in enumerate((1, 2, 4)):
        for direction in range(13):
            expected = np.zeros((n_levels, n_levels), np.int32)
            mahotas_texture.cooccurence(volume, direction, expected, symmetric=symmetric,
                                        distance=distance)
            np.testing.assert_array_equal(cmats[k, direction], expected)


def test_3d_cooccurrence_of_wide_integers_equals_uint8(volume):
    np.testing.assert_array_equal(cooccurrence(volume.astype(np.int32), (1, 3)),
                                  cooccurrence(volume, (1, 3)))


# -- the featurizer against mahotas.features.haralick -------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "params, options",
    [
        ({}, {}),
        ({"distance": [1, 3]}, {}),
        ({"compute_14th_feature": True}, {"compute_14th_feature": True}),
        ({"use_x_minus_y_variance": True}, {"use_x_minus_y_variance": True}),
        ({"preserve_haralick_bug": True}, {"preserve_haralick_bug": True}),
    ],
    ids=["default", "distances", "14th", "x_minus_y_variance", "haralick_bug"],
)
def test_volume_rows_equal_mahotas(volume, backend, params, options):
    featurizer = HaralickFeaturizer(volume=True, backend=backend, **params)
    row = featurizer.fit_transform([volume])[0]
    assert row.shape == (featurizer.get_feature_names_out().size,)
    assert_matches(row, reference(volume, params.get("distance", (1,)), **options))


@pytest.mark.parametrize("backend", BACKENDS)
def test_volume_ignore_zeros_equals_mahotas(volume, backend):
    volume = with_background(volume)
    row = HaralickFeaturizer(volume=True, ignore_zeros=True, distance=[1, 3],
                             backend=backend).fit_transform([volume])[0]
    assert_matches(row, reference(volume, (1, 3), ignore_zeros=True))
    assert not np.allclose(row, HaralickFeaturizer(volume=True, distance=[1, 3]).fit_transform(
        [volume])[0])


@pytest.mark.parametrize("aggregate, option", [("mean", "return_mean"),
                                               ("mean_ptp", "return_mean_ptp")])
def test_volume_aggregates_equal_mahotas(volume, aggregate, option):
    row = HaralickFeaturizer(volume=True, aggregate=aggregate).fit_transform([volume])[0]
    assert_matches(row, mahotas.features.haralick(volume, **{option: True}))


@pytest.mark.parametrize("levels", [8, 64])
def test_volume_levels_equal_mahotas_on_the_binned_volume(volume, levels):
    binned = to_gray_levels(volume, levels)
    # The volume is binned as each of its slices is in 2-D (the rule is per value).
    for z in (0, len(volume) - 1):
        np.testing.assert_array_equal(binned[z], to_gray_levels(volume[z], levels))
    assert binned.max() < levels
    row = HaralickFeaturizer(volume=True, levels=levels).fit_transform([volume])[0]
    assert_matches(row, reference(binned))


def test_wide_and_float_volumes_are_binned_as_2d_images():
    volume = VOLUMES["camera"]().astype(np.uint16) * 200  # 16-bit range
    row = HaralickFeaturizer(volume=True).fit_transform([volume])[0]
    assert_matches(row, reference(to_gray_levels(volume)))
    as_float = HaralickFeaturizer(volume=True).fit_transform([volume / 7.0])[0]
    assert_matches(as_float, reference(to_gray_levels(volume / 7.0)))


def test_feature_names_name_the_13_directions():
    featurizer = HaralickFeaturizer(volume=True, distance=[1, 2])
    names = featurizer.get_feature_names_out()
    assert names.size == 2 * 13 * 13
    assert names[0] == "angular_second_moment_offset_1_0_0_d1"
    assert names[13 * 3] == "angular_second_moment_offset_1_m1_0_d1"
    assert names[13 * 13 - 1] == "information_measure_of_correlation_2_offset_1_m1_m1_d1"
    assert len(set(names)) == names.size
    assert HaralickFeaturizer(volume=True, aggregate="mean").get_feature_names_out().size == 13


def test_a_3d_array_is_a_colour_image_unless_volume_is_set():
    rgba = VOLUMES["camera"]()[:4].transpose(1, 2, 0)  # (32, 32, 4): RGBA without volume
    as_image = HaralickFeaturizer().fit_transform([rgba])
    as_volume = HaralickFeaturizer(volume=True).fit_transform([rgba])
    assert as_image.shape == (1, 52) and as_volume.shape == (1, 169)
    assert_matches(as_volume[0], reference(rgba))


def test_one_volume_as_X_is_told_to_wrap_it_in_a_list():
    volume = VOLUMES["gravel"]()  # (10, 40, 40): one volume, not ten slices
    with pytest.raises(ValueError, match=r"X is one volume of shape \(10, 40, 40\).*\[volume\]"):
        HaralickFeaturizer(volume=True).fit_transform(volume)
    assert_matches(HaralickFeaturizer(volume=True).fit_transform([volume])[0], reference(volume))


def test_a_4d_array_is_a_stack_of_volumes_and_rows_keep_their_order():
    volumes = [VOLUMES["gravel"](), stack_of_crops(skimage.data.gravel(), 10, 40, 200, 200)]
    rows = HaralickFeaturizer(volume=True).fit_transform(np.stack(volumes))
    for row, volume in zip(rows, volumes):
        assert_matches(row, reference(volume))


# -- files ---------------------------------------------------------------------


def test_volume_files_give_the_rows_of_their_arrays(tmp_path, volume):
    import nibabel
    import nrrd
    import tifffile

    paths = [tmp_path / "v.tif", tmp_path / "v.nii.gz", tmp_path / "v.nii", tmp_path / "v.nrrd"]
    tifffile.imwrite(paths[0], volume)
    for path in paths[1:3]:
        nibabel.save(nibabel.Nifti1Image(volume, np.eye(4)), path)
    nrrd.write(str(paths[3]), volume)
    for path in paths:
        np.testing.assert_array_equal(load_volume(path), volume)
    rows = HaralickFeaturizer(volume=True).fit_transform([str(p) for p in paths])
    for row in rows:
        assert_matches(row, reference(volume))


def test_a_single_page_tiff_is_not_a_volume(tmp_path):
    import tifffile

    path = tmp_path / "flat.tif"
    tifffile.imwrite(path, skimage.data.camera()[:20, :20])
    with pytest.raises(ValueError, match=r"flat\.tif.*a volume must be 3-D"):
        HaralickFeaturizer(volume=True).fit_transform([str(path)])


@pytest.mark.parametrize("pages", [1, 4])
def test_an_rgb_tiff_is_not_a_volume(tmp_path, pages):
    """Its three samples per pixel are colour, not three slices: refused, naming the file."""
    import tifffile

    rgb = load_sample_image("china.jpg")[100:140, 200:250]
    path = tmp_path / "photo.tif"
    data = rgb if pages == 1 else np.stack([rgb] * pages)
    tifffile.imwrite(path, data, photometric="rgb")
    assert tifffile.imread(path).shape == data.shape  # what was read as a volume before
    with pytest.raises(ValueError, match=r"'.*photo\.tif': an RGB TIFF .*not a volume"):
        load_volume(str(path))
    with pytest.raises(ValueError, match=r"photo\.tif"):
        HaralickFeaturizer(volume=True).fit_transform([str(path)])
    # a gray stack of the same pages is a volume
    gray = tmp_path / "gray.tif"
    tifffile.imwrite(gray, np.stack([rgb[..., 0]] * 3), photometric="minisblack")
    assert load_volume(str(gray)).shape == (3, 40, 50)


@pytest.mark.parametrize("module, suffix", [("nibabel", ".nii.gz"), ("nrrd", ".nrrd")])
def test_missing_optional_reader_names_the_extra(tmp_path, monkeypatch, module, suffix):
    path = tmp_path / f"v{suffix}"
    path.write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    with pytest.raises(ImportError, match=r"haralick_learn\[volumes\]"):
        HaralickFeaturizer(volume=True, on_error="nan").fit_transform([str(path)])


def test_unreadable_volume_file_names_it(tmp_path):
    path = tmp_path / "broken.nrrd"
    path.write_bytes(b"NRRD0004\ngarbage")
    with pytest.raises(ValueError, match=r"broken\.nrrd"):
        HaralickFeaturizer(volume=True).fit_transform([str(path)])


@pytest.mark.parametrize("suffix", [".nii", ".nrrd"])
def test_a_4d_volume_file_is_refused_from_its_header(tmp_path, suffix):
    """A time series (nibabel's fMRI test run, 17 x 21 x 3 x 20) is not one volume, and its
    readers allocate every voxel its header declares: refused before any is read, so that a
    run larger than memory, or a header declaring more than the file holds, costs nothing."""
    nibabel = pytest.importorskip("nibabel")
    nrrd = pytest.importorskip("nrrd")
    import os

    source = os.path.join(os.path.dirname(nibabel.__file__), "tests", "data", "functional.nii")
    if not os.path.exists(source):
        pytest.skip("this nibabel install ships no functional.nii")
    run = nibabel.load(source)
    path = tmp_path / f"run{suffix}"
    if suffix == ".nii":
        nibabel.save(run, path)
    else:
        nrrd.write(str(path), np.asarray(run.dataobj), {"encoding": "raw"})
    complete = path.read_bytes()
    message = r"run%s'?: a volume must be 3-D, got shape \(17, 21, 3, 20\)" % suffix
    for content in (complete, complete[: len(complete) // 4]):  # whole, or cut short
        path.write_bytes(content)
        with pytest.raises(ValueError, match=message):
            load_volume(str(path))
    with pytest.warns(ImageFeaturizationWarning, match=message):
        rows = HaralickFeaturizer(volume=True, on_error="nan").fit_transform([str(path)])
    assert np.isnan(rows).all()


# -- on_error, cache, n_jobs -----------------------------------------------------


def test_on_error_nan_gives_a_nan_row_naming_the_sample():
    good = VOLUMES["gravel"]()
    with pytest.warns(ImageFeaturizationWarning, match="sample 1: a volume must be 3-D"):
        rows = HaralickFeaturizer(volume=True, on_error="nan").fit_transform(
            [good, good[0], good])
    assert np.isnan(rows[1]).all()
    assert_matches(rows[0], reference(good))
    assert_matches(rows[2], reference(good))
    with pytest.raises(ValueError, match="sample 1: a volume must be 3-D"):
        HaralickFeaturizer(volume=True).fit_transform([good, good[0]])


def test_a_volume_without_pairs_at_a_distance_names_it():
    thin = VOLUMES["gravel"]()[:4, :3, :3]
    with pytest.raises(ValueError, match="sample 0: volume of shape .* no pixel pair at "
                                         "distance 5"):
        HaralickFeaturizer(volume=True, distance=[1, 5]).fit_transform([thin])


def test_cache_and_n_jobs_give_the_same_rows(tmp_path):
    volumes = [VOLUMES[name]() for name in sorted(VOLUMES)]
    expected = np.vstack([reference(v, (1, 2)) for v in volumes])
    for n_jobs in (1, 2):
        featurizer = HaralickFeaturizer(volume=True, distance=[1, 2], n_jobs=n_jobs,
                                        memory=tmp_path)
        for _ in range(2):  # computed, then read from the cache
            assert_matches(featurizer.fit_transform(volumes), expected)
    # A volume and the same array read as a colour image are different cache entries.
    rgba = volumes[0][:4].transpose(1, 2, 0).copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert HaralickFeaturizer(memory=tmp_path).fit_transform([rgba]).shape == (1, 52)
        assert HaralickFeaturizer(volume=True, memory=tmp_path).fit_transform(
            [rgba]).shape == (1, 169)


def test_process_workers_give_the_same_rows():
    from joblib import parallel_config

    volumes = [VOLUMES[name]() for name in sorted(VOLUMES)]
    # In this process first: the kernels it compiles are saved to numba's cache, where the
    # workers find them instead of each compiling them again
    in_process = HaralickFeaturizer(volume=True).fit_transform(volumes)
    with parallel_config(backend="loky"):
        rows = HaralickFeaturizer(volume=True, n_jobs=2).fit_transform(volumes)
    np.testing.assert_array_equal(rows, in_process)
    for row, volume in zip(rows, volumes):
        assert_matches(row, reference(volume))


def test_a_volume_file_read_as_an_image_says_to_set_volume(tmp_path):
    import nibabel
    import nrrd

    volume = VOLUMES["brick"]()
    paths = [tmp_path / "v.nii", tmp_path / "v.nii.gz", tmp_path / "v.NRRD"]
    for path in paths[:2]:
        nibabel.save(nibabel.Nifti1Image(volume, np.eye(4)), path)
    nrrd.write(str(paths[2]), volume)
    for path in paths:
        with pytest.raises(ValueError, match=rf"{path.name}.*a volume: use volume=True / --volume"):
            HaralickFeaturizer().fit_transform([str(path)])


# -- IBSI's 2-D and 2.5-D aggregations (slices along axis 0) -------------------


def test_volume_3d_is_volume_true(volume):
    ours = HaralickFeaturizer(volume="3d", aggregate="mean")
    theirs = HaralickFeaturizer(volume=True, aggregate="mean")
    np.testing.assert_array_equal(ours.fit_transform([volume]), theirs.fit_transform([volume]))
    assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())


def _slice_rows(volume, **params):
    """The 2-D featurizer's rows of each slice (slices along axis 0)."""
    return HaralickFeaturizer(**params).fit_transform(list(volume))


@pytest.mark.parametrize("aggregate", [None, "merged"])
def test_2d_averages_the_slices_rows(volume, aggregate):
    # None: each direction over the slices; merged: each slice's merged matrix (2D:smrg)
    ours = HaralickFeaturizer(volume="2d", aggregate=aggregate).fit_transform([volume])[0]
    np.testing.assert_allclose(ours, _slice_rows(volume, aggregate=aggregate).mean(axis=0),
                               rtol=RTOL)


@pytest.mark.parametrize("aggregate", ["mean", "mean_ptp", "min_max"])
def test_2d_aggregates_every_slice_and_direction(volume, aggregate):
    # IBSI's 2D:avg with "mean": the features of each slice and direction, averaged
    per_direction = _slice_rows(volume).reshape(-1, 13)
    reductions = {"mean": (np.mean,), "mean_ptp": (np.mean, np.ptp), "min_max": (np.min, np.max)}
    expected = np.concatenate([f(per_direction, axis=0) for f in reductions[aggregate]])
    ours = HaralickFeaturizer(volume="2d", aggregate=aggregate).fit_transform([volume])[0]
    np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=1e-13)


def test_2d_feature_names_are_the_in_plane_directions(volume):
    names = HaralickFeaturizer(volume="2d").fit([volume]).get_feature_names_out()
    assert [n.rsplit("_d1", 1)[0].split("second_moment_")[1] for n in names[::13]] == [
        "offset_0_0_1", "offset_0_1_1", "offset_0_1_0", "offset_0_1_m1"]


@pytest.mark.parametrize("aggregate", [None, "mean", "merged"])
def test_2_5d_sums_the_slices_matrices(volume, aggregate):
    # The slices one above the other with a row between them left out of the mask:
    # a 2-D image whose matrices are the slices' matrices summed.
    depth, height, width = volume.shape
    tiled = np.zeros((depth * (height + 1), width), volume.dtype)
    mask = np.zeros(tiled.shape, bool)
    for z in range(depth):
        tiled[z * (height + 1):z * (height + 1) + height] = volume[z]
        mask[z * (height + 1):z * (height + 1) + height] = True
    expected = HaralickFeaturizer(aggregate=aggregate).fit_transform([(tiled, mask)])[0]
    ours = HaralickFeaturizer(volume="2.5d", aggregate=aggregate).fit_transform([volume])[0]
    np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=1e-13)


@pytest.mark.parametrize("volume_mode", ["2d", "2.5d"])
@pytest.mark.parametrize("aggregate", [None, "mean", "merged"])
def test_an_empty_slice_is_left_out(volume, volume_mode, aggregate):
    # a slice whose mask has no pair counts in no average (as IBSI and MIRP do)
    mask = np.ones(volume.shape, bool)
    mask[2] = False
    mask[4, :, :] = False
    mask[4, 0, 0] = True  # one voxel: no pair in any direction
    kept = np.delete(volume, [2, 4], axis=0)
    params = dict(volume=volume_mode, aggregate=aggregate)
    ours = HaralickFeaturizer(**params).fit_transform([(volume, mask)])[0]
    expected = HaralickFeaturizer(**params).fit_transform(
        [(kept, np.ones(kept.shape, bool))])[0]
    np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=1e-13)


@pytest.mark.parametrize("value", ["3D", "4d", 1, None])
def test_volume_must_be_a_bool_or_a_mode(value):
    with pytest.raises(ValueError, match="volume"):
        HaralickFeaturizer(volume=value).fit([np.zeros((2, 4, 4), np.uint8)])


def test_2d_offset_vectors_must_stay_in_the_slice():
    with pytest.raises(ValueError, match="dz = 0"):
        HaralickFeaturizer(volume="2d", offsets=[(1, 0, 0)]).fit([np.zeros((2, 4, 4), np.uint8)])
    row = HaralickFeaturizer(volume="2.5d", offsets=[(0, 0, 1)]).fit_transform(
        [stack_of_crops(skimage.data.camera(), 3, 16)])
    assert row.shape == (1, 13)


def test_volume_3d_keeps_the_cache_key_of_volume_true():
    # rows cached before the volume modes existed (volume stored as true) stay valid
    from haralick_learn._settings import TextureSettings
    key = TextureSettings.from_params(volume="3d").cache_key()
    assert key == TextureSettings.from_params(volume=True).cache_key()
    assert b'"volume": true' in key
    assert TextureSettings.from_params(volume="2.5d").cache_key() != key
