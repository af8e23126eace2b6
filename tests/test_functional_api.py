"""The functional API: ``cooccurrence`` and ``matrix_features`` against their libraries.

``TestGLCM`` is scikit-image's own test class of ``graycomatrix`` / ``graycoprops``
(``skimage/feature/tests/test_texture.py``, scikit-image 0.2x, BSD-3-Clause), its
cases and data carried over, each run against these two functions; where the
package deliberately differs (the levels default, empty matrices, the error's
type for a float image), the case says so and tests the package's rule. The
tests after it compare with the installed scikit-image, mahotas and the
package's featurizer on crops of real images.
"""

import math
import warnings

import mahotas
import numpy as np
import pytest
import skimage.data
from skimage.feature import graycomatrix, graycoprops

import haralick_learn
from haralick_learn import HaralickFeaturizer, cooccurrence, matrix_features
from haralick_learn.texture.functional import angle_offsets
from haralick_learn.preprocess.quantize import bin_by_width
from haralick_learn._settings import FEATURE_SETS, SKIMAGE_PROPS

from conftest import RTOL, stack_of_crops

FOUR_ANGLES = [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4]
#: Angles whose offsets scikit-image rounds in every way: ties that its ``round``
#: (``int(x + 0.5)`` in doubles) takes up where Python's rounds down (pi / 6 at
#: distance 1, 3), negative components, opposite directions, beyond 2 pi.
ODD_ANGLES = [0, 0.3, 1.0, np.pi / 3, 2.5, np.pi / 6, 5 * np.pi / 6, 2 * np.pi / 3, np.pi,
              -2.0, 7.0]
UNIT_OFFSETS = [(0, 1), (1, 1), (1, 0), (1, -1)]


def _crop(name):
    return {"camera": lambda: skimage.data.camera()[200:296, 150:246],
            "brick": lambda: skimage.data.brick()[100:196, 300:396]}[name]()


def pair_counts(image, offset, levels, mask=None):
    """The reference count: ``(image[p], image[p + offset])`` over p with both in the image
    (and in ``mask``), from slices."""
    source, target = [], []
    for o, n in zip(offset, image.shape):
        low, high = max(0, -o), n - max(0, o)
        if high <= low:
            return np.zeros((levels, levels), np.int64)
        source.append(slice(low, high))
        target.append(slice(low + o, high + o))
    a, b = image[tuple(source)].ravel(), image[tuple(target)].ravel()
    if mask is not None:
        both = mask[tuple(source)].ravel() & mask[tuple(target)].ravel()
        a, b = a[both], b[both]
    counts = np.zeros((levels, levels), np.int64)
    np.add.at(counts, (a.astype(np.intp), b.astype(np.intp)), 1)
    return counts


class TestGLCM:
    """scikit-image's ``TestGLCM``, run against ``cooccurrence`` and ``matrix_features``."""

    image = np.array([[0, 0, 1, 1],
                      [0, 0, 1, 1],
                      [0, 2, 2, 2],
                      [2, 2, 3, 3]], dtype=np.uint8)
    symmetric_vertical = np.array([[6, 0, 2, 0],
                                   [0, 4, 2, 0],
                                   [2, 2, 2, 2],
                                   [0, 0, 2, 0]], dtype=np.uint32)

    def test_output_angles(self):
        result = cooccurrence(self.image, [1], FOUR_ANGLES, levels=4)
        assert result.shape == (4, 4, 1, 4)
        expected = [
            [[2, 2, 1, 0], [0, 2, 0, 0], [0, 0, 3, 1], [0, 0, 0, 1]],
            [[1, 1, 3, 0], [0, 1, 1, 0], [0, 0, 0, 2], [0, 0, 0, 0]],
            [[3, 0, 2, 0], [0, 2, 2, 0], [0, 0, 1, 2], [0, 0, 0, 0]],
            [[2, 0, 0, 0], [1, 1, 2, 0], [0, 0, 2, 1], [0, 0, 0, 0]],
        ]
        for a in range(4):
            np.testing.assert_array_equal(result[:, :, 0, a], np.array(expected[a], np.uint32))

    def test_output_symmetric_1(self):
        result = cooccurrence(self.image, [1], [np.pi / 2], levels=4, symmetric=True)
        assert result.shape == (4, 4, 1, 1)
        np.testing.assert_array_equal(result[:, :, 0, 0], self.symmetric_vertical)

    @pytest.mark.parametrize("dtype", [float, np.double, np.float16, np.float32, np.float64])
    def test_error_raise_float(self, dtype):
        # scikit-image raises a ValueError; the package a TypeError for a wrong dtype
        with pytest.raises(TypeError, match="integer gray levels"):
            cooccurrence(self.image.astype(dtype), [1], [np.pi], levels=4)

    @pytest.mark.parametrize("dtype", [np.int16, np.int32, np.int64, np.uint16, np.uint32,
                                       np.uint64])
    def test_error_raise_int_types(self, dtype):
        # scikit-image requires levels beyond 8 bits; here levels=None is the maximum + 1
        result = cooccurrence(self.image.astype(dtype), [1], [np.pi])
        np.testing.assert_array_equal(result, graycomatrix(self.image, [1], [np.pi], 4))

    def test_error_raise_negative(self):
        with pytest.raises(ValueError, match="non-negative"):
            cooccurrence(self.image.astype(np.int16) - 1, [1], [np.pi], levels=4)

    def test_error_raise_levels_smaller_max(self):
        with pytest.raises(ValueError, match="smaller than levels=3"):
            cooccurrence(self.image - 1, [1], [np.pi], levels=3)

    @pytest.mark.parametrize("dtype", [np.uint16, np.uint32, np.uint64, np.int16, np.int32,
                                       np.int64])
    def test_image_data_types(self, dtype):
        result = cooccurrence(self.image.astype(dtype), [1], [np.pi / 2], levels=4,
                              symmetric=True)
        assert result.shape == (4, 4, 1, 1)
        np.testing.assert_array_equal(result[:, :, 0, 0], self.symmetric_vertical)

    def test_output_distance(self):
        im = np.array([[0, 0, 0, 0],
                       [1, 0, 0, 1],
                       [2, 0, 0, 2],
                       [3, 0, 0, 3]], dtype=np.uint8)
        result = cooccurrence(im, [3], [0], levels=4, symmetric=False)
        np.testing.assert_array_equal(result[:, :, 0, 0], np.eye(4, dtype=np.uint32))

    def test_output_combo(self):
        im = np.array([[0], [1], [2], [3]], dtype=np.uint8)
        result = cooccurrence(im, [1, 2], [0, np.pi / 2], levels=4)
        assert result.shape == (4, 4, 2, 2)
        zero = np.zeros((4, 4), dtype=np.uint32)
        np.testing.assert_array_equal(result[:, :, 0, 0], zero)
        np.testing.assert_array_equal(result[:, :, 1, 0], zero)
        np.testing.assert_array_equal(result[:, :, 0, 1], np.eye(4, k=1, dtype=np.uint32))
        np.testing.assert_array_equal(result[:, :, 1, 1], np.eye(4, k=2, dtype=np.uint32))

    @pytest.mark.parametrize("normed", [False, True])
    def test_output_empty(self, normed):
        result = cooccurrence(self.image, [10], [0], levels=4, normed=normed)
        np.testing.assert_array_equal(result[:, :, 0, 0], np.zeros((4, 4)))

    def test_normed_symmetric(self):
        result = cooccurrence(self.image, [1, 2, 3], [0, np.pi / 2, np.pi], levels=4,
                              normed=True, symmetric=True)
        for d in range(result.shape[2]):
            for a in range(result.shape[3]):
                np.testing.assert_almost_equal(result[:, :, d, a].sum(), 1.0)
                np.testing.assert_array_equal(result[:, :, d, a], result[:, :, d, a].T)

    def _rounded_counts(self, distances, angles):
        # scikit-image rounds the normed matrix to 3 decimals: the same matrix, in counts of
        # thousandths (np.round(x, 3) is rint(1000 x) / 1000), scaling changes no feature
        normed = cooccurrence(self.image, distances, angles, levels=4, normed=True,
                              symmetric=True)
        return np.rint(normed * 1000).astype(np.int64)

    def test_contrast(self):
        contrast = matrix_features(self._rounded_counts([1, 2], [0]), "skimage")["contrast"]
        np.testing.assert_almost_equal(contrast[0, 0], 0.585, decimal=3)

    def test_dissimilarity(self):
        props = matrix_features(self._rounded_counts([1], [0, np.pi / 2]), "skimage")
        np.testing.assert_almost_equal(props["dissimilarity"][0, 0], 0.418, decimal=3)

    def test_dissimilarity_2(self):
        props = matrix_features(self._rounded_counts([1, 3], [np.pi / 2]), "skimage")
        np.testing.assert_almost_equal(props["dissimilarity"][0, 0], 0.665, decimal=3)

    def test_non_normalized_glcm(self):
        # scikit-image's image is random; here a real one of 8 levels
        img = skimage.data.camera()[100:200, 100:200] // 32
        p = cooccurrence(img, [1, 2, 4, 5], [0, 0.25, 1, 1.5], levels=8)
        assert np.max(matrix_features(p, "skimage")["correlation"]) < 1.0

    def test_invalid_property(self):
        result = cooccurrence(self.image, [1], [0], levels=4)
        with pytest.raises(ValueError, match="unknown feature 'ABC'"):
            matrix_features(result, ["ABC"])
        with pytest.raises(ValueError, match="unknown feature 'ABC'"):
            matrix_features(result, "ABC")

    @pytest.mark.parametrize("prop, angles, expected", [
        ("homogeneity", [0, 6], 0.80833333),
        ("energy", [0, 4], 0.38188131),
        ("mean", [0, np.pi / 2], 1.29166667),
        ("variance", [0, np.pi / 2], 1.03993055),
        ("std", [0, np.pi / 2], 1.01976985),
        ("entropy", [0, np.pi / 2], 2.09472904),
    ])
    def test_property(self, prop, angles, expected):
        # scikit-image's test_homogeneity, test_energy, test_mean, ... test_entropy
        result = cooccurrence(self.image, [1], angles, levels=4, symmetric=True)
        np.testing.assert_almost_equal(matrix_features(result, "skimage")[prop][0, 0],
                                       expected)

    def test_correlation(self):
        result = cooccurrence(self.image, [1, 2], [0], levels=4, symmetric=True)
        correlation = matrix_features(result, "skimage")["correlation"]
        np.testing.assert_almost_equal(correlation[0, 0], 0.71953255)
        np.testing.assert_almost_equal(correlation[1, 0], 0.41176470)

    def test_uniform_properties(self):
        im = np.ones((4, 4), dtype=np.uint8)
        result = cooccurrence(im, [1, 2, 8], [0, np.pi / 2], levels=4, symmetric=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            props = matrix_features(result, "skimage")
        assert list(props) == list(SKIMAGE_PROPS)
        # a flat image: graycoprops's values where there are pairs; distance 8 has none,
        # NaN here where graycoprops gives 0 (1 for the correlation)
        expected = graycoprops(result, "correlation")
        np.testing.assert_array_equal(props["correlation"][:2], expected[:2])
        assert np.isnan(props["correlation"][2]).all()
        assert props["contrast"][0, 0] == 0.0 and props["ASM"][0, 0] == 1.0


@pytest.mark.parametrize("name", ["camera", "brick"])
@pytest.mark.parametrize("symmetric", [False, True])
@pytest.mark.parametrize("normed", [False, True])
def test_cooccurrence_equals_graycomatrix_for_any_angles(name, symmetric, normed):
    image = _crop(name)
    expected = graycomatrix(image, [1, 2, 5], ODD_ANGLES, symmetric=symmetric, normed=normed)
    result = cooccurrence(image, [1, 2, 5], ODD_ANGLES, symmetric=symmetric, normed=normed)
    assert result.dtype == expected.dtype and result.shape == expected.shape == (256, 256, 3, 11)
    np.testing.assert_array_equal(result, expected)


def test_angle_offsets_round_as_scikit_image():
    # sin(pi / 6) is 0.49999999999999994: scikit-image's int(x + 0.5) gives 1, round() 0
    assert math.sin(np.pi / 6) < 0.5 and round(math.sin(np.pi / 6)) == 0
    offsets = angle_offsets([1, 3], [np.pi / 6, 2 * np.pi / 3, np.pi])
    assert offsets.tolist() == [[[1, 1], [1, 0], [0, -1]], [[1, 3], [3, -1], [0, -3]]]
    image = _crop("camera")
    for d, row in zip([1, 3], offsets):
        expected = graycomatrix(image, [d], [np.pi / 6, 2 * np.pi / 3, np.pi])[:, :, 0]
        for a, offset in enumerate(row):
            np.testing.assert_array_equal(pair_counts(image, offset, 256), expected[:, :, a])


@pytest.mark.parametrize("dtype, levels", [(np.uint16, None), (np.uint16, 300), (np.int8, None),
                                           (np.int32, 256)])
def test_levels(dtype, levels):
    image = (_crop("brick") // 2).astype(dtype)
    expected_levels = levels or (256 if dtype == np.int8 else int(image.max()) + 1)
    expected = graycomatrix(image, [1, 2], FOUR_ANGLES, levels=expected_levels)
    np.testing.assert_array_equal(cooccurrence(image, [1, 2], FOUR_ANGLES, levels=levels),
                                  expected)


def test_default_angles_are_the_four_directions():
    image = _crop("brick")
    np.testing.assert_array_equal(cooccurrence(image, [1, 4]),
                                  graycomatrix(image, [1, 4], FOUR_ANGLES))


def test_offsets_are_per_unit_distance_any_sign():
    image = _crop("camera")[:40, :50] // 8
    offsets = [(0, 1), (1, 1), (-1, 2), (0, -3), (2, -1), (-1, 0)]
    result = cooccurrence(image, [1, 2, 5], offsets=offsets, levels=32)
    assert result.shape == (32, 32, 3, 6)
    for i, d in enumerate([1, 2, 5]):
        for j, (dy, dx) in enumerate(offsets):
            np.testing.assert_array_equal(result[:, :, i, j],
                                          pair_counts(image, (d * dy, d * dx), 32))
    symmetric = cooccurrence(image, [1, 2, 5], offsets=offsets, levels=32, symmetric=True)
    np.testing.assert_array_equal(symmetric, result + result.transpose(1, 0, 2, 3))


def test_volume_offsets_and_mahotas_directions():
    volume = stack_of_crops(skimage.data.brick(), 5, 24, 100, 50) // 16
    offsets = [(1, 0, 0), (0, -1, 2), (-1, 1, -1)]
    result = cooccurrence(volume, [1, 2], offsets=offsets, levels=16)
    assert result.shape == (16, 16, 2, 3)
    for i, d in enumerate([1, 2]):
        for j, offset in enumerate(offsets):
            np.testing.assert_array_equal(result[:, :, i, j],
                                          pair_counts(volume, [d * c for c in offset], 16))
    # no offsets: mahotas's 13 directions, as mahotas counts them (distance 2: 2 * direction)
    default = cooccurrence(volume.astype(np.uint16), [2], symmetric=True)  # levels: max + 1
    assert default.shape == (12, 12, 1, 13)
    for j in range(13):
        expected = mahotas.features.texture.cooccurence(volume, j, symmetric=True, distance=2)
        np.testing.assert_array_equal(default[:, :, 0, j], expected)


def test_mask_counts_pairs_inside_it_only():
    image = _crop("camera")[:64, :64]
    mask = image > np.percentile(image, 40)
    background = np.where(mask, image, 255).astype(np.uint16) * 4  # levels outside: not checked
    inside = np.where(mask, image, 0).astype(np.uint16)
    result = cooccurrence(np.where(mask, inside, background), [1, 3], [0.4, 2.0], mask=mask,
                          levels=256)
    offsets = angle_offsets([1, 3], [0.4, 2.0])
    for i in range(2):
        for j in range(2):
            np.testing.assert_array_equal(result[:, :, i, j],
                                          pair_counts(image, offsets[i, j], 256, mask))


@pytest.mark.parametrize("name", ["camera", "brick"])
@pytest.mark.parametrize("symmetric", [False, True])
def test_skimage_features_equal_graycoprops(name, symmetric):
    P = cooccurrence(_crop(name), [1, 2, 5], ODD_ANGLES, symmetric=symmetric)
    props = matrix_features(P, "skimage")
    assert list(props) == list(SKIMAGE_PROPS)
    for prop, values in props.items():
        np.testing.assert_allclose(values, graycoprops(P, prop), rtol=RTOL, atol=1e-13,
                                   err_msg=prop)
    # scikit-image's own matrices (uint32), and counts as floats, give the same
    from_skimage = matrix_features(graycomatrix(_crop(name), [1, 2, 5], ODD_ANGLES,
                                                symmetric=symmetric), "skimage")
    as_floats = matrix_features(P.astype(np.float64), "skimage")
    for prop in props:
        np.testing.assert_array_equal(from_skimage[prop], props[prop])
        np.testing.assert_array_equal(as_floats[prop], props[prop])


@pytest.mark.parametrize("name", ["camera", "brick"])
def test_haralick_features_equal_mahotas(name):
    image = _crop(name)[:48, :48]
    P = cooccurrence(image, [1, 3], offsets=UNIT_OFFSETS, levels=int(image.max()) + 1,
                     symmetric=True)
    features = matrix_features(P, ["haralick", "maximal_correlation_coefficient"])
    assert list(features) == list(FEATURE_SETS["haralick"])  # the 13, then the 14th
    ours = np.stack(list(features.values()), axis=-1)
    expected = np.stack([mahotas.features.haralick(image, distance=d, compute_14th_feature=True)
                         for d in (1, 3)])
    np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=1e-12)
    assert list(matrix_features(P)) == list(FEATURE_SETS["haralick"][:13])


def test_ibsi_features_equal_the_featurizer():
    image = _crop("brick")[:64, :64]
    featurizer = HaralickFeaturizer(features="ibsi", bin_width=25, aggregate=None,
                                    distance=[1, 2], offsets="mahotas")
    row = featurizer.fit_transform([image])[0].reshape(2, 4, 24)
    P = cooccurrence(bin_by_width(image, 25), [1, 2], offsets=UNIT_OFFSETS, symmetric=True)
    features = matrix_features(P, "ibsi")
    assert [f"ibsi_{key}" for key in features] == list(FEATURE_SETS["ibsi"])
    np.testing.assert_array_equal(np.stack(list(features.values()), axis=-1), row)


def test_keys_of_a_list_are_catalogue_keys():
    P = cooccurrence(_crop("camera") // 8, [1], levels=32)
    mixed = matrix_features(P, ["skimage_ASM", "contrast", "ibsi", "entropy"])
    assert list(mixed) == ["skimage_ASM", "contrast", *FEATURE_SETS["ibsi"], "entropy"]
    alone = matrix_features(P, "skimage")
    np.testing.assert_array_equal(mixed["skimage_ASM"], alone["ASM"])
    # Haralick's entropy is in bits, scikit-image's in nats
    np.testing.assert_allclose(mixed["entropy"] * np.log(2), alone["entropy"], rtol=RTOL)


def test_public_names():
    assert {"cooccurrence", "matrix_features"} <= set(haralick_learn.__all__)
    assert haralick_learn.cooccurrence is cooccurrence


@pytest.mark.parametrize("kwargs, error, match", [
    ({"angles": [0], "offsets": [(0, 1)]}, ValueError, "not both"),
    ({"angles": [0, np.nan]}, ValueError, "finite angles"),
    ({"angles": 0.5}, ValueError, "finite angles"),
    ({"distances": [1.5]}, ValueError, "positive ints"),
    ({"distances": [0, 1]}, ValueError, "positive ints"),
    ({"offsets": [(0, 0)]}, ValueError, "non-zero integer vectors of 2"),
    ({"offsets": [(0, 1, 1)]}, ValueError, "non-zero integer vectors of 2"),
    ({"offsets": [(0.5, 1)]}, ValueError, "non-zero integer vectors"),
    ({"levels": 0}, ValueError, "positive int"),
    ({"levels": True}, ValueError, "positive int"),
    ({"mask": np.ones((3, 3), bool)}, ValueError, "does not match"),
    ({"mask": np.ones((8, 8), np.uint8)}, TypeError, "boolean"),
    ({"mask": np.zeros((8, 8), bool)}, ValueError, "selects no pixel"),
])
def test_cooccurrence_errors(kwargs, error, match):
    image = skimage.data.camera()[:8, :8]
    arguments = {"distances": [1], **kwargs}
    with pytest.raises(error, match=match):
        cooccurrence(image, **arguments)


def test_cooccurrence_errors_of_images():
    with pytest.raises(ValueError, match="angles describe 2-D directions"):
        cooccurrence(np.zeros((2, 3, 4), np.uint8), [1], [0])
    with pytest.raises(ValueError, match="non-empty 2-D image or 3-D volume"):
        cooccurrence(np.zeros(5, np.uint8), [1])
    with pytest.raises(TypeError, match="integer gray levels"):
        cooccurrence(np.zeros((4, 4), bool), [1])


@pytest.mark.parametrize("P, error, match", [
    (np.zeros((4, 4, 1)), ValueError, "shape"),
    (np.zeros((4, 3, 1, 1)), ValueError, "shape"),
    (np.zeros((4, 4, 0, 1)), ValueError, "shape"),
    (np.full((2, 2, 1, 1), 0.25), TypeError, "counts"),
    (np.full((2, 2, 1, 1), -1), ValueError, "non-negative"),
    (np.ones((2, 2, 1, 1), bool), TypeError, "integer counts"),
])
def test_matrix_features_errors(P, error, match):
    with pytest.raises(error, match=match):
        matrix_features(P)


def test_counts_beyond_the_exact_sums_are_refused_not_wrapped_around():
    # The counts of a photograph, times k: every feature normalises the matrix, so k changes
    # nothing while a matrix's sums fit in int64; beyond, the sum of squared counts wrapped
    # around (a negative ASM, a NaN energy) instead of an error.
    P = cooccurrence(skimage.data.astronaut()[:128, :128, 1], [1], [0, np.pi / 2],
                     symmetric=True).astype(np.int64)
    expected = matrix_features(P, "skimage")
    for key, values in matrix_features(P * 10**6, "skimage").items():
        np.testing.assert_allclose(values, expected[key], rtol=1e-12)
    for big in (P * 10**7, np.full((2, 2, 1, 1), 2**63 + 5, np.uint64)):
        with pytest.raises(ValueError, match=r"P's counts are too large.*below 2\*\*62"):
            matrix_features(big, "skimage")


def test_normed_matrices_are_refused_with_the_fix():
    P = cooccurrence(_crop("brick"), [1], normed=True)
    with pytest.raises(TypeError, match=r"normed=False"):
        matrix_features(P, "skimage")


def test_steps_beyond_any_image_are_refused_by_name():
    # A distance times an offset beyond 64-bit integers wrapped around (numpy's products do,
    # silently) into some other offset, or failed inside the counting naming "directions".
    image = skimage.data.camera()[:16, :16]
    cases = (([2**62], None, "distances"), ([2**40], [(2, 1)], "distances"),
             ([1], [(0, 2**40)], "offsets"))
    for distances, offsets, name in cases:
        with pytest.raises(ValueError, match=rf"{name} must .*at most {2**31 - 1} pixels"):
            cooccurrence(image, distances, offsets=offsets)
    # the longest step allowed is counted, as no pair
    assert not cooccurrence(image, [2**31 - 1], offsets=[(2, 1)]).any()
