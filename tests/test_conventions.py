"""Feature sets and conventions, each against the peer library itself (2-D).

* ``features="skimage"``: scikit-image's ``graycoprops(graycomatrix(...))``;
* ``features="ibsi"``: pyradiomics's ``RadiomicsGLCM`` (marker ``pyradiomics``: these
  tests skip when pyradiomics is not installed; ``.ci/run`` installs it and runs them);
* the Haralick set stays mahotas's, unchanged, beside the others.

Real images only: scikit-image's shipped textures and photographs, scikit-learn's
JPEGs. pyradiomics is compared on whole images (a mask of ones), on 2-D images with
real masks (a disk, a threshold, a band of gray values that leaves levels absent), per
label of a region table (scikit-image's thresholded coins), and on 3-D volumes (stacks
of consecutive crops of real photographs) with 3-D masks (an ellipsoid, a threshold),
in 3-D and in 2.5-D (force2D along array axis 0).
scikit-image has no masks: its parity is on whole images only.
"""

import json
import logging
import os

import numpy as np
import pytest
from conftest import MAHOTAS_GRAY, RTOL, reference_gray, reference_row, stack_of_crops

from haralick_learn import HaralickFeaturizer, region_features, texture_maps
from haralick_learn.preprocess.quantize import bin_by_range, to_gray_levels
from haralick_learn._settings import (
    DIRECTIONS_3D, FEATURE_NAMES, FEATURE_SETS, IBSI_FEATURES, SKIMAGE_PROPS,
    TextureSettings,
)

skimage_data = pytest.importorskip("skimage.data")
from skimage.feature import graycomatrix, graycoprops  # noqa: E402

#: scikit-image's angles in our direction order: horizontal, nw-se, vertical, ne-sw.
SKIMAGE_ANGLES = [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4]
TEXTURES = ["brick", "grass", "gravel", "camera"]


@pytest.fixture(scope="module")
def real_grays(photo_paths):
    """Gray uint8 images: scikit-image's textures and camera, and the photographs."""
    images = {name: getattr(skimage_data, name)() for name in TEXTURES}
    for path in photo_paths[:3]:
        images[path.rsplit("/", 1)[-1]] = reference_gray(path)
    return images


def _relative(ours, ref, floor=0.0):
    ours, ref = np.asarray(ours, float), np.asarray(ref, float)
    return np.abs(ours - ref) / np.maximum(np.abs(ref), floor)


# -- scikit-image ---------------------------------------------------------------------


@pytest.mark.parametrize("levels", [None, 16])
def test_skimage_set_equals_graycoprops(real_grays, levels):
    distances = [1, 2, 3, 4]
    for name, gray in real_grays.items():
        featurizer = HaralickFeaturizer(features="skimage", offsets="skimage",
                                        distance=distances, levels=levels)
        row = featurizer.fit_transform([gray])[0]
        ours = row.reshape(len(distances), 4, len(SKIMAGE_PROPS))
        # scikit-image counts the same levels; symmetric=True is haralick_learn's matrix
        quantized = to_gray_levels(gray, levels)
        glcm = graycomatrix(quantized, distances, SKIMAGE_ANGLES,
                            levels=int(quantized.max()) + 1, symmetric=True, normed=True)
        for k, prop in enumerate(SKIMAGE_PROPS):
            ref = graycoprops(glcm, prop)
            assert _relative(ours[:, :, k], ref).max() < RTOL, (name, prop)


def test_offset_conventions_match_their_library(real_grays):
    """At distance 4 the diagonals differ: (4, 4) for mahotas, (3, 3) for scikit-image."""
    gray = real_grays["brick"]
    mahotas_row = HaralickFeaturizer(distance=4).fit_transform([gray])[0]
    np.testing.assert_allclose(mahotas_row, reference_row_of(gray, distance=4), rtol=RTOL)

    glcm = graycomatrix(gray, [4], SKIMAGE_ANGLES, levels=256, symmetric=True, normed=True)
    ref = graycoprops(glcm, "contrast")[0]
    for offsets, equal in (("skimage", True), ("mahotas", False)):
        row = HaralickFeaturizer(features=["skimage_contrast"], distance=4,
                                 offsets=offsets).fit_transform([gray])[0]
        assert bool(_relative(row, ref).max() < RTOL) is equal, offsets
        # horizontal and vertical offsets are the same in both conventions
        np.testing.assert_allclose(row[[0, 2]], ref[[0, 2]], rtol=RTOL)
    assert TextureSettings(offsets="skimage").offsets_at(2)[1] == (1, 1)


def test_skimage_set_takes_skimage_offsets_by_default():
    """``features="skimage"`` without ``offsets`` is ``graycoprops`` at every distance."""
    brick = skimage_data.brick()
    featurizer = HaralickFeaturizer(features="skimage", distance=3)
    row = featurizer.fit_transform([brick])[0].reshape(4, len(SKIMAGE_PROPS))
    glcm = graycomatrix(brick, [3], SKIMAGE_ANGLES, levels=256, symmetric=True, normed=True)
    for k, prop in enumerate(SKIMAGE_PROPS):
        assert _relative(row[:, k], graycoprops(glcm, prop)[0]).max() < RTOL, prop
    # the estimator keeps its parameter as given (None); the settings resolve it
    assert featurizer.get_params()["offsets"] is None
    # an explicit convention still wins
    mahotas_offsets = HaralickFeaturizer(features="skimage", distance=3, offsets="mahotas")
    other = mahotas_offsets.fit_transform([brick])[0].reshape(4, len(SKIMAGE_PROPS))
    assert _relative(other[:, 0], graycoprops(glcm, "contrast")[0]).max() > 0.1


@pytest.mark.parametrize("features, volume, offsets", [
    ("haralick", False, "mahotas"), ("skimage", False, "skimage"),
    ("ibsi", False, "pyradiomics"), (["contrast", "skimage_ASM"], False, "mahotas"),
    ("haralick", True, "mahotas"), ("skimage", True, "mahotas"), ("ibsi", True, "mahotas"),
])
def test_default_offsets_are_the_convention_of_the_feature_set(features, volume, offsets):
    settings = TextureSettings.from_params(features=features, volume=volume)
    assert settings.offsets == offsets


@pytest.mark.parametrize("params, message", [
    (dict(features=["haralick", "skimage"], distance=[1, 2]),
     "features mixes sets whose offsets differ at distance 2"),
    (dict(features="ibsi", volume=True, distance=2),
     "pyradiomics's 3-D offsets at distance 2"),
])
def test_default_offsets_refuse_what_no_convention_answers(params, message):
    with pytest.raises(ValueError, match=message):
        TextureSettings.from_params(**params)
    # an explicit convention is taken as given
    TextureSettings.from_params(**params, offsets="mahotas")


def reference_row_of(gray, **options):
    import mahotas

    return mahotas.features.haralick(gray, **options).ravel()


# -- the sets together, names, settings ------------------------------------------------


def test_default_haralick_set_is_unchanged(photo_paths):
    path = photo_paths[0]
    row = HaralickFeaturizer(**MAHOTAS_GRAY).fit_transform([path])[0]
    np.testing.assert_allclose(row, reference_row(path), rtol=RTOL)
    explicit = HaralickFeaturizer(features="haralick", **MAHOTAS_GRAY).fit_transform([path])[0]
    np.testing.assert_array_equal(explicit, row)
    assert HaralickFeaturizer().get_feature_names_out()[0] == "angular_second_moment_horizontal_d1"


def test_sets_together_equal_each_set_alone(real_grays):
    gray = real_grays["grass"]
    both = HaralickFeaturizer(features=["haralick", "skimage", "ibsi"], aggregate="mean",
                              bin_width=8)
    row = both.fit_transform([gray])[0]
    names = list(both.get_feature_names_out())
    start = 0
    for name in ("haralick", "skimage", "ibsi"):
        alone = HaralickFeaturizer(features=name, aggregate="mean", bin_width=8)
        part = alone.fit_transform([gray])[0]
        np.testing.assert_allclose(row[start:start + len(part)], part, rtol=1e-13)
        assert names[start:start + len(part)] == list(alone.get_feature_names_out())
        start += len(part)
    assert start == len(row)


def test_feature_names_name_set_feature_group_and_distance():
    names = HaralickFeaturizer(features="skimage", distance=[1, 2]).get_feature_names_out()
    assert names[0] == "skimage_contrast_horizontal_d1"
    assert names[-1] == "skimage_entropy_diagonal_nesw_d2"
    names = HaralickFeaturizer(features=["ibsi_Idmn", "contrast"],
                               aggregate="mean_std").get_feature_names_out()
    assert list(names) == ["ibsi_Idmn_mean_d1", "contrast_mean_d1", "ibsi_Idmn_std_d1",
                           "contrast_std_d1"]
    assert len(FEATURE_SETS["ibsi"]) == 24 and len(FEATURE_SETS["skimage"]) == 10


def test_default_cache_key_is_unchanged():
    """New fields at the values earlier versions used stay out of the key: their caches remain
    valid. Earlier versions converted colour as mahotas does, so the exact conversion (the
    default) is in the key and ``gray_conversion="mahotas"`` is not."""
    key = json.loads(TextureSettings.from_params(gray_conversion="mahotas").cache_key())
    assert set(key) == {"distances", "aggregate", "ignore_zeros", "compute_14th_feature",
                        "use_x_minus_y_variance", "levels", "backend"}
    assert json.loads(TextureSettings.from_params().cache_key())["gray_conversion"] == "exact"
    other = TextureSettings.from_params(features="ibsi").cache_key()
    assert other != TextureSettings.from_params().cache_key()


@pytest.mark.parametrize("params, message", [
    (dict(features="glrlm"), "unknown feature 'glrlm'"),
    (dict(features=["contrast", "contrast"]), "duplicates"),
    (dict(features=[]), "non-empty list"),
    (dict(bin_width=10, levels=8), "bin_width sets the levels"),
    (dict(gray_range=(5, 5)), "low < high"),
    (dict(gray_range=(-1e308, 1e308)), r"gray_range .*finite high - low"),
    (dict(gray_range="global"), "gray_range"),
    (dict(features="ibsi", backend="mahotas"), "backend='mahotas'"),
    (dict(offsets="matlab"), "'offsets' parameter"),
])
def test_invalid_settings_are_value_errors(params, message):
    with pytest.raises(ValueError, match=message):
        HaralickFeaturizer(**params).fit_transform([skimage_data.brick()[:32, :32]])


def test_bin_width_makes_at_most_1024_levels():
    image = np.arange(4096, dtype=np.uint16).reshape(64, 64)
    with pytest.raises(ValueError, match="makes 4096 levels"):
        HaralickFeaturizer(bin_width=1).fit_transform([image])


@pytest.mark.parametrize("entry_point", ["featurizer", "regions", "maps"])
def test_a_bin_width_far_too_narrow_is_refused_before_its_bins_are_made(entry_point):
    # 1e12 bins over the photograph's range in [0, 1]: their edges alone would take 8 TB
    image = skimage_data.camera()[:32, :32] / 255
    params = {"bin_width": 1e-12}
    with pytest.raises(ValueError, match=r"bin_width=1e-12 makes \d+ levels, more than 1024"):
        if entry_point == "featurizer":
            HaralickFeaturizer(**params).fit_transform([image])
        elif entry_point == "regions":
            region_features(image, np.ones(image.shape, int), **params)
        else:
            texture_maps(image, 3, **params)


# -- aggregates and gray ranges ----------------------------------------------------------


@pytest.mark.parametrize("aggregate, reductions", [
    ("mean_std", (np.mean, np.std)), ("min_max", (np.min, np.max)),
])
def test_new_aggregates_reduce_the_directions(real_grays, aggregate, reductions):
    gray = real_grays["gravel"]
    per_direction = HaralickFeaturizer(distance=[1, 2]).fit_transform([gray])[0].reshape(2, 4, 13)
    row = HaralickFeaturizer(distance=[1, 2], aggregate=aggregate).fit_transform([gray])[0]
    expected = np.concatenate([reduce(block, axis=0) for block in per_direction
                               for reduce in reductions])
    np.testing.assert_allclose(row, expected, rtol=1e-14)


def test_fixed_gray_range_means_the_same_intensity_in_every_image(real_grays):
    """With a fixed range a level is the same intensities whatever the image's own range."""
    gray = real_grays["camera"]
    darker = (gray // 2).astype(np.uint8)  # 0..127
    fixed = [bin_by_range(image, 16, (0, 256)) for image in (gray, darker)]
    # on the 8-bit scale, (0, 256) is the default rule's levels=16: value * 16 // 256
    np.testing.assert_array_equal(fixed[0], to_gray_levels(gray, 16))
    np.testing.assert_array_equal(fixed[1], to_gray_levels(darker, 16))
    own = bin_by_range(darker, 16, "image")
    assert own.max() == 15 and fixed[1].max() == 7


# -- pyradiomics (IBSI) ------------------------------------------------------------------

#: (pyradiomics settings, haralick_learn parameters) that mean the same.
PYRADIOMICS_CASES = [
    (dict(binWidth=25), dict(bin_width=25, aggregate="mean")),
    (dict(binWidth=8), dict(bin_width=8, aggregate="mean")),
    (dict(binCount=32), dict(levels=32, gray_range="image", aggregate="mean")),
    (dict(binCount=16), dict(levels=16, gray_range="image", aggregate="mean")),
    (dict(binWidth=25, weightingNorm="no_weighting"), dict(bin_width=25, aggregate="merged")),
]
#: Features near 0 (ClusterShade of a symmetric histogram, Imc1 near independence) are
#: compared with this absolute floor instead of relative to themselves.
ABSOLUTE_FLOOR = 1e-3


def pyradiomics_glcm(image, mask=None, distances=(1,), symmetricalGLCM=True, force2D=None,
                     **settings):
    """pyradiomics's 24 GLCM features of a 2-D image (force2D) or a 3-D volume (13 angles).

    ``mask=None`` is a mask of ones (the whole image); ``force2D=True`` on a volume takes
    pyradiomics's in-plane angles of the slices along array axis 0 (SimpleITK's z).
    """
    sitk = pytest.importorskip("SimpleITK")
    radiomics = pytest.importorskip("radiomics")
    from radiomics import glcm

    radiomics.setVerbosity(logging.ERROR)
    volume = np.asarray(image)
    mask = np.ones(volume.shape, bool) if mask is None else np.asarray(mask, bool)
    is_2d = volume.ndim == 2
    if is_2d:  # one slice: (1, height, width)
        volume, mask = volume[None], mask[None]
    if volume.dtype.kind == "u":
        # pyradiomics computes binWidth's edges in the image's dtype (max + 2 W overflows
        # uint8): give it the same values as signed integers
        volume = volume.astype(np.int64)
    extractor = glcm.RadiomicsGLCM(
        sitk.GetImageFromArray(volume), sitk.GetImageFromArray(mask.astype(np.uint8)),
        force2D=is_2d if force2D is None else force2D, force2Ddimension=0,
        distances=list(distances), symmetricalGLCM=symmetricalGLCM, **settings)
    extractor.enableAllFeatures()
    values = extractor.execute()
    return np.array([float(values[name]) for name in IBSI_FEATURES])


@pytest.mark.pyradiomics
@pytest.mark.parametrize("pyradiomics_settings, params", PYRADIOMICS_CASES,
                         ids=[str(case[0]) for case in PYRADIOMICS_CASES])
def test_ibsi_set_equals_pyradiomics(real_grays, pyradiomics_settings, params):
    pytest.importorskip("radiomics")
    for name, gray in real_grays.items():
        ref = pyradiomics_glcm(gray, **pyradiomics_settings)
        row = HaralickFeaturizer(features="ibsi", **params).fit_transform([gray])[0]
        error = _relative(row, ref, ABSOLUTE_FLOOR)
        worst = int(np.argmax(error))
        assert error.max() < RTOL, (name, IBSI_FEATURES[worst], row[worst], ref[worst])


@pytest.mark.pyradiomics
@pytest.mark.parametrize("image, pyradiomics_settings, params", [
    ("float", dict(binWidth=0.05), dict(bin_width=0.05)),
    ("float", dict(binCount=20), dict(levels=20, gray_range="image")),
    ("wide", dict(binWidth=100), dict(bin_width=100)),
])
def test_ibsi_set_equals_pyradiomics_on_float_and_wide_images(image, pyradiomics_settings,
                                                              params):
    """Edges of float bins (pyradiomics's own arange / histogram edges), negative values."""
    pytest.importorskip("radiomics")
    camera = skimage_data.camera()
    gray = camera / 255.0 if image == "float" else camera.astype(np.int32) * 40 - 3000
    ref = pyradiomics_glcm(gray, **pyradiomics_settings)
    row = HaralickFeaturizer(features="ibsi", aggregate="mean", **params).fit_transform([gray])[0]
    assert _relative(row, ref, ABSOLUTE_FLOOR).max() < RTOL


@pytest.mark.pyradiomics
def test_bin_width_levels_are_pyradiomics_bins_minus_one(real_grays):
    pytest.importorskip("radiomics")
    from radiomics import imageoperations

    from haralick_learn.preprocess.quantize import bin_by_width

    for gray in real_grays.values():
        for width in (25, 7):
            bins, _ = imageoperations.binImage(gray.astype(np.int64), binWidth=width)
            np.testing.assert_array_equal(bin_by_width(gray, width), bins - 1)
        bins, _ = imageoperations.binImage(gray.astype(np.int64), binCount=32)
        np.testing.assert_array_equal(bin_by_range(gray, 32, "image"), bins - 1)
    # beyond the lookup table's 2**16 values: the plain integer path
    wide = real_grays["camera"].astype(np.int64) * 1000 - 7
    bins, _ = imageoperations.binImage(wide, binWidth=25000)
    np.testing.assert_array_equal(bin_by_width(wide, 25000), bins - 1)


# -- pyradiomics with masks, 2-D and 3-D -------------------------------------------------


def disk_mask(shape):
    """A centred disk (non-rectangular), its radius 0.4 of the shorter side."""
    rows, cols = np.indices(shape)
    radius = 0.4 * min(shape)
    return (rows - (shape[0] - 1) / 2) ** 2 + (cols - (shape[1] - 1) / 2) ** 2 <= radius**2


def ellipsoid_mask(shape):
    """A centred ellipsoid touching 0.9 of each axis."""
    grid = np.indices(shape).astype(float)
    return sum(((grid[axis] - (size - 1) / 2) / (0.45 * size)) ** 2
               for axis, size in enumerate(shape)) <= 1


def masks_of(gray):
    """Real masks of a real image: a disk, a threshold, a band that leaves levels absent."""
    low, mid, high = np.percentile(gray, [30, 40, 70])
    return {"disk": disk_mask(gray.shape), "threshold": gray > mid,
            "band": (gray < low) | (gray > high)}


def assert_equals_pyradiomics(image, mask, pyradiomics_settings, params, label):
    ref = pyradiomics_glcm(image, mask, **pyradiomics_settings)
    row = HaralickFeaturizer(features="ibsi", volume=image.ndim == 3,
                             **params).fit_transform([(image, mask)])[0]
    error = _relative(row, ref, ABSOLUTE_FLOOR)
    worst = int(np.argmax(error))
    assert error.max() < RTOL, (label, IBSI_FEATURES[worst], row[worst], ref[worst])


@pytest.mark.pyradiomics
@pytest.mark.parametrize("pyradiomics_settings, params", PYRADIOMICS_CASES,
                         ids=[str(case[0]) for case in PYRADIOMICS_CASES])
def test_ibsi_set_equals_pyradiomics_with_masks(real_grays, pyradiomics_settings, params):
    """2-D, force2D: pyradiomics discretises the pixels inside the mask and counts the
    pairs with both pixels inside; the levels absent from the mask are not levels."""
    pytest.importorskip("radiomics")
    for name, gray in real_grays.items():
        for mask_name, mask in masks_of(gray).items():
            assert_equals_pyradiomics(gray, mask, pyradiomics_settings, params,
                                      (name, mask_name))


def real_volumes(photo_paths):
    """Stacks of consecutive crops of real photographs and textures."""
    china = reference_gray(photo_paths[0])
    return {
        "gravel": stack_of_crops(skimage_data.gravel(), 10, 40),
        "camera": stack_of_crops(skimage_data.camera(), 12, 32, 200, 200),
        "brick": stack_of_crops(skimage_data.brick(), 7, 48, 100, 50),
        "photo": stack_of_crops(china, 9, 36, 150, 300),
    }


@pytest.mark.pyradiomics
@pytest.mark.parametrize("pyradiomics_settings, params", PYRADIOMICS_CASES,
                         ids=[str(case[0]) for case in PYRADIOMICS_CASES])
def test_ibsi_set_equals_pyradiomics_in_3d(photo_paths, pyradiomics_settings, params):
    """3-D, no force2D: pyradiomics's 13 angles, the mean over them (or, unweighted, their
    sum), on the whole volume, an ellipsoid and a threshold."""
    pytest.importorskip("radiomics")
    for name, volume in real_volumes(photo_paths).items():
        masks = {"whole": np.ones(volume.shape, bool), "ellipsoid": ellipsoid_mask(volume.shape),
                 "threshold": volume > np.percentile(volume, 40)}
        for mask_name, mask in masks.items():
            assert_equals_pyradiomics(volume, mask, pyradiomics_settings, params,
                                      (name, mask_name))


@pytest.mark.pyradiomics
@pytest.mark.parametrize("pyradiomics_settings, params", [
    (dict(binWidth=0.05), dict(bin_width=0.05, aggregate="mean")),
    (dict(binCount=20), dict(levels=20, gray_range="image", aggregate="mean")),
])
def test_ibsi_set_equals_pyradiomics_on_a_masked_float_volume(pyradiomics_settings, params):
    pytest.importorskip("radiomics")
    volume = stack_of_crops(skimage_data.camera(), 12, 32, 200, 200) / 255.0
    assert_equals_pyradiomics(volume, ellipsoid_mask(volume.shape), pyradiomics_settings,
                              params, "float camera")


@pytest.mark.pyradiomics
def test_directions_without_pairs_are_left_out_as_pyradiomics_does():
    """A one-row mask has no vertical or diagonal pair, a one-column-wide slab in 3-D has
    no pair along that axis: pyradiomics drops such angles before the mean; so do we."""
    pytest.importorskip("radiomics")
    camera = skimage_data.camera()
    row_mask = np.zeros(camera.shape, bool)
    row_mask[300, 20:400] = True
    assert_equals_pyradiomics(camera, row_mask, dict(binWidth=4),
                              dict(bin_width=4, aggregate="mean"), "one row")
    volume = stack_of_crops(camera, 6, 30, 200, 200)
    slab = np.zeros(volume.shape, bool)
    slab[:, 5:25, 15] = True
    assert_equals_pyradiomics(volume, slab, dict(binWidth=8),
                              dict(bin_width=8, aggregate="mean"), "one slab")


@pytest.mark.pyradiomics
@pytest.mark.parametrize("pyradiomics_settings, params", PYRADIOMICS_CASES,
                         ids=[str(case[0]) for case in PYRADIOMICS_CASES])
def test_region_table_equals_pyradiomics_per_label(pyradiomics_settings, params):
    """``region_features(image, labels, features="ibsi", bin_width=25, aggregate="mean")``:
    each coin's row is pyradiomics's ``RadiomicsGLCM`` of the image with that label's mask
    (a one-slice volume, force2D), each region discretised from its own pixels."""
    pytest.importorskip("radiomics")
    from skimage.filters import threshold_otsu
    from skimage.measure import label

    from haralick_learn import region_features

    image = skimage_data.coins()[:170]  # the top two rows of coins, touching ones included
    cells = label(image > threshold_otsu(image))
    cells[(np.bincount(cells.ravel()) < 300)[cells]] = 0  # drop specks
    table = region_features(image, cells, features="ibsi", **params)
    assert len(table) >= 8
    features = table.columns[table.columns.get_loc("count") + 1:]
    for value, row in zip(table["label"], table[features].to_numpy()):
        ref = pyradiomics_glcm(image, cells == value, **pyradiomics_settings)
        error = _relative(row, ref, ABSOLUTE_FLOOR)
        worst = int(np.argmax(error))
        assert error.max() < RTOL, (value, IBSI_FEATURES[worst], row[worst], ref[worst])


@pytest.mark.pyradiomics
@pytest.mark.parametrize("pyradiomics_settings, params", [
    (dict(binWidth=25), dict(bin_width=25, aggregate="mean")),
    (dict(binWidth=25, weightingNorm="no_weighting"), dict(bin_width=25, aggregate="merged")),
], ids=["mean", "merged"])
def test_2_5d_equals_pyradiomics_force2d(photo_paths, pyradiomics_settings, params):
    """``volume="2.5d"``: pyradiomics's ``force2D=True, force2Ddimension=0`` sums each
    in-plane angle's matrices over the slices along array axis 0 (SimpleITK's z), then
    averages the four angles' features (or, unweighted, sums the four matrices)."""
    pytest.importorskip("radiomics")
    for name, volume in real_volumes(photo_paths).items():
        masks = {"whole": np.ones(volume.shape, bool), "ellipsoid": ellipsoid_mask(volume.shape),
                 "threshold": volume > np.percentile(volume, 40)}
        for mask_name, mask in masks.items():
            ref = pyradiomics_glcm(volume, mask, force2D=True, **pyradiomics_settings)
            row = HaralickFeaturizer(features="ibsi", volume="2.5d",
                                     **params).fit_transform([(volume, mask)])[0]
            error = _relative(row, ref, ABSOLUTE_FLOOR)
            worst = int(np.argmax(error))
            assert error.max() < RTOL, (name, mask_name, IBSI_FEATURES[worst], row[worst],
                                        ref[worst])


@pytest.mark.pyradiomics
def test_2_5d_of_nifti_files_is_pyradiomics_force2d_along_its_last_axis(tmp_path):
    """The radiomics guide's table: a NIfTI file is read here as ``(i, j, k)`` and by
    SimpleITK as ``(k, j, i)``, so ``volume="2.5d"`` on the files (slices along ``i``) is
    pyradiomics's ``force2Ddimension=2``, and its ``force2Ddimension=0`` (along ``k``) is
    ``volume="2.5d"`` on the voxels transposed."""
    sitk = pytest.importorskip("SimpleITK")
    nibabel = pytest.importorskip("nibabel")
    radiomics = pytest.importorskip("radiomics")
    from radiomics import glcm

    radiomics.setVerbosity(logging.ERROR)
    source = os.path.join(os.path.dirname(nibabel.__file__), "tests", "data", "anatomical.nii")
    if not os.path.exists(source):
        pytest.skip("this nibabel install ships no anatomical.nii")
    scan = np.asarray(nibabel.load(source).dataobj).astype(np.int16)[10:22, 8:32, 6:20]
    mask = ellipsoid_mask(scan.shape)
    affine = np.diag([0.9, 1.3, 2.7, 1.0])  # anisotropic, so that no axis can stand for another
    nibabel.save(nibabel.Nifti1Image(scan, affine), tmp_path / "scan.nii.gz")
    nibabel.save(nibabel.Nifti1Image(mask.astype(np.uint8), affine), tmp_path / "mask.nii.gz")
    pair = (str(tmp_path / "scan.nii.gz"), str(tmp_path / "mask.nii.gz"))

    def pyradiomics(dimension):
        extractor = glcm.RadiomicsGLCM(sitk.ReadImage(pair[0]), sitk.ReadImage(pair[1]),
                                       binWidth=100, force2D=True, force2Ddimension=dimension)
        extractor.enableAllFeatures()
        values = extractor.execute()
        return np.array([float(values[name]) for name in IBSI_FEATURES])

    featurizer = HaralickFeaturizer(features="ibsi", volume="2.5d", bin_width=100,
                                    aggregate="mean")
    from_files, transposed = featurizer.fit_transform(
        [pair, (scan.transpose(2, 1, 0), mask.transpose(2, 1, 0))])
    for ours, dimension in ((from_files, 2), (transposed, 0)):
        ref = pyradiomics(dimension)
        error = _relative(ours, ref, ABSOLUTE_FLOOR)
        assert error.max() < RTOL, (dimension, IBSI_FEATURES[int(np.argmax(error))])
    assert _relative(from_files, pyradiomics(0), ABSOLUTE_FLOOR).max() > 1e-3


@pytest.mark.pyradiomics
def test_pyradiomics_3d_angles_are_mahotas_directions_up_to_sign():
    """A symmetric matrix counts an offset and its opposite alike."""
    pytest.importorskip("radiomics")
    from radiomics import cMatrices

    angles = cMatrices.generate_angles(np.array([5, 5, 5]), np.array([1]), False, False, 0)
    canonical = {max(tuple(angle), tuple(-angle)) for angle in np.asarray(angles)}
    ours = {max(offset, tuple(-c for c in offset)) for _, offset in DIRECTIONS_3D}
    assert len(angles) == 13 and canonical == ours


def test_haralick_names_are_the_first_catalogue_entries():
    assert FEATURE_SETS["haralick"] == FEATURE_NAMES


@pytest.mark.pyradiomics
def test_asymmetric_matrices_equal_pyradiomics_symmetricalGLCM_false(real_grays):
    """``symmetric=False`` counts each offset one way only, as ``symmetricalGLCM=False``."""
    pytest.importorskip("radiomics")
    settings, params = dict(binWidth=25), dict(bin_width=25, aggregate="mean")
    for name, gray in real_grays.items():
        for mask_name, mask in masks_of(gray).items():
            ref = pyradiomics_glcm(gray, mask, symmetricalGLCM=False, **settings)
            row = HaralickFeaturizer(features="ibsi", symmetric=False,
                                     **params).fit_transform([(gray, mask)])[0]
            error = _relative(row, ref, ABSOLUTE_FLOOR)
            worst = int(np.argmax(error))
            assert error.max() < RTOL, (name, mask_name, IBSI_FEATURES[worst], row[worst],
                                        ref[worst])
            # the symmetric matrices give other numbers: the test can fail
            symmetric = HaralickFeaturizer(features="ibsi", **params).fit_transform(
                [(gray, mask)])[0]
            assert _relative(symmetric, ref, ABSOLUTE_FLOOR).max() > 1e-6


@pytest.mark.pyradiomics
@pytest.mark.parametrize("distances, aggregate, symmetric", [
    ([1, 2], "mean_all", True), ([2], "mean", True), ([1, 3], "mean_all", True),
    ([1, 2], "mean_all", False),
])
def test_pyradiomics_distances_above_1(real_grays, distances, aggregate, symmetric):
    """pyradiomics's ``distances``: every offset of infinity norm d (8 at d = 2), the
    features of all the angles of all the distances merged into one mean (``"mean_all"``).
    ``offsets="pyradiomics"`` is the ``"ibsi"`` set's default: not given here."""
    pytest.importorskip("radiomics")
    params = dict(features="ibsi", distance=distances,
                  aggregate=aggregate, symmetric=symmetric, bin_width=25)
    for name, gray in real_grays.items():
        masks = {"whole": None, **masks_of(gray)}
        for mask_name, mask in masks.items():
            ref = pyradiomics_glcm(gray, mask, distances=distances, symmetricalGLCM=symmetric,
                                   binWidth=25)
            sample = gray if mask is None else (gray, mask)
            row = HaralickFeaturizer(**params).fit_transform([sample])[0]
            error = _relative(row, ref, ABSOLUTE_FLOOR)
            worst = int(np.argmax(error))
            assert error.max() < RTOL, (name, mask_name, IBSI_FEATURES[worst], row[worst],
                                        ref[worst])
    # mahotas's 4 directions at d = 2 are not pyradiomics's 8: the test can fail
    gray = real_grays["brick"]
    ref = pyradiomics_glcm(gray, distances=distances, symmetricalGLCM=symmetric, binWidth=25)
    other = HaralickFeaturizer(**{**params, "offsets": "mahotas"}).fit_transform([gray])[0]
    assert _relative(other, ref, ABSOLUTE_FLOOR).max() > 1e-6


def test_pyradiomics_offsets_names_and_unaggregated_columns(real_grays):
    """Columns name each offset; their mean over every offset is ``"mean_all"``."""
    gray = real_grays["gravel"]
    params = dict(features=["ibsi_Contrast", "ibsi_Idmn"], offsets="pyradiomics",
                  distance=[1, 2], bin_width=8)
    featurizer = HaralickFeaturizer(**params)
    row = featurizer.fit_transform([gray])[0]
    names = list(featurizer.get_feature_names_out())
    assert len(row) == len(names) == 2 * (4 + 8)
    assert names[:2] == ["ibsi_Contrast_offset_0_1_d1", "ibsi_Idmn_offset_0_1_d1"]
    assert "ibsi_Contrast_offset_2_m1_d2" in names and names[-1] == "ibsi_Idmn_offset_1_m2_d2"
    merged = HaralickFeaturizer(aggregate="mean_all", **params)
    np.testing.assert_allclose(merged.fit_transform([gray])[0], row.reshape(12, 2).mean(axis=0),
                               rtol=1e-13)
    assert list(merged.get_feature_names_out()) == ["ibsi_Contrast_mean_d1_2",
                                                    "ibsi_Idmn_mean_d1_2"]
    with pytest.raises(ValueError, match="2-D rule"):
        HaralickFeaturizer(offsets="pyradiomics", volume=True).fit_transform(
            [np.zeros((3, 8, 8), np.uint8)])


@pytest.mark.pyradiomics
def test_mcc_of_a_direction_with_one_level_in_a_region_of_more_is_0():
    """pyradiomics's matrices span the region's levels: in a direction where the region's
    other levels have no pair (scikit-image's logo: a 32 x 32 crop of one level but for a
    corner pixel), Q's second eigenvalue is 0, not a flat region's 1."""
    pytest.importorskip("radiomics")
    import mahotas

    from haralick_learn import region_features

    gray = mahotas.colors.rgb2gray(skimage_data.logo()[..., :3], dtype=np.uint8)
    crop = np.ascontiguousarray(gray[416:448, 176:208])
    assert np.unique(crop).size == 2 and (crop != crop[1, 1]).sum() == 1
    per_direction = HaralickFeaturizer(features=["ibsi_MCC"], bin_width=1).fit_transform([crop])
    assert per_direction[0, 3] == 0.0  # north-east to south-west: the corner has no pair
    params = dict(features="ibsi", bin_width=1, aggregate="mean")
    ref = pyradiomics_glcm(crop, binWidth=1)
    for sample in (crop, (crop, np.ones(crop.shape, bool))):
        row = HaralickFeaturizer(**params).fit_transform([sample])[0]
        assert _relative(row, ref, ABSOLUTE_FLOOR).max() < RTOL
    # the same crop as a region of a larger image, beside a region of several levels
    image = np.ascontiguousarray(gray[400:464, 160:224])
    labels = np.zeros(image.shape, np.int32)
    labels[16:48, 16:48], labels[:10, :20] = 1, 2
    table = region_features(image, labels, **params)
    features = table.columns[table.columns.get_loc("count") + 1:]
    for value, row in zip(table["label"], table[features].to_numpy()):
        ref = pyradiomics_glcm(image, labels == value, binWidth=1)
        assert _relative(row, ref, ABSOLUTE_FLOOR).max() < RTOL, value
    # a flat region's MCC stays 1
    flat = np.full((8, 8), 154, np.uint8)
    assert HaralickFeaturizer(features=["ibsi_MCC"], bin_width=1).fit_transform([flat])[0, 0] == 1


def test_skimage_set_keeps_the_digits_of_a_nearly_flat_bright_region():
    """graycoprops centres the levels on their mean: the variance and correlation of a
    bright, nearly flat patch (the astronaut's levels 254 and 255) keep their digits, in the
    featurizer's rows and in texture maps (E[x**2] - E[x]**2 lost 1e-7 of the correlation)."""
    import mahotas

    from haralick_learn import texture_maps

    gray = mahotas.colors.rgb2gray(skimage_data.astronaut(), dtype=np.uint8)
    patch = np.ascontiguousarray(gray[432:440, 360:368])
    assert set(np.unique(patch)) == {254, 255}
    row = HaralickFeaturizer(features="skimage").fit_transform([patch])[0].reshape(4, -1)
    glcm = graycomatrix(patch, [1], SKIMAGE_ANGLES, levels=256, symmetric=True, normed=True)
    for k, prop in enumerate(SKIMAGE_PROPS):
        np.testing.assert_allclose(row[:, k], graycoprops(glcm, prop)[0], rtol=RTOL, atol=0,
                                   err_msg=prop)
    region = np.ascontiguousarray(gray[420:460, 340:380])
    maps = texture_maps(region, 15, features="skimage")
    for y, x in ((24, 18), (20, 20), (7, 30), (33, 12)):
        crop = region[y - 7:y + 8, x - 7:x + 8]
        glcm = graycomatrix(crop, [1], SKIMAGE_ANGLES, levels=256, symmetric=True, normed=True)
        ref = np.stack([graycoprops(glcm, prop)[0] for prop in SKIMAGE_PROPS], axis=1)
        np.testing.assert_allclose(maps[y, x], ref.ravel(), rtol=RTOL, atol=0,
                                   err_msg=str((y, x)))


@pytest.mark.pyradiomics
def test_ibsi_variances_keep_the_digits_of_a_nearly_flat_region():
    """pyradiomics centres the levels on their mean: SumSquares, Correlation and
    DifferenceVariance of a region of one level but for a pixel (a crop of scikit-image's
    motorcycle disparity, ``binWidth=1``) keep their digits."""
    pytest.importorskip("radiomics")
    _, _, disparity = skimage_data.stereo_motorcycle()
    crop = np.ascontiguousarray(np.clip(disparity, 0, 255).astype(np.uint8)[224:256, 272:304])
    assert (crop == crop.min()).sum() == 1 and np.unique(crop).size == 2
    ref = pyradiomics_glcm(crop, binWidth=1)
    row = HaralickFeaturizer(features="ibsi", bin_width=1, aggregate="mean").fit_transform(
        [crop])[0]
    for name in ("SumSquares", "Correlation", "DifferenceVariance"):
        k = IBSI_FEATURES.index(name)
        assert _relative(row[k], ref[k]) < RTOL, (name, row[k], ref[k])
