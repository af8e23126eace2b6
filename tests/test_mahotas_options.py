"""Every keyword of ``mahotas.features.haralick`` has its counterpart, and mahotas's own
texture test cases (``mahotas/tests/test_texture.py``, mahotas 1.4) run through the featurizer.

The deliberate differences (see the user guide) are tested as such: float and
negative images are binned where mahotas refuses them, and a direction
without any pair gives NaN (or an error naming the sample) where mahotas
raises a bare ``ValueError``.
"""

import mahotas
import mahotas.features.texture as mahotas_texture
import numpy as np
import pytest
import skimage.data

from haralick_learn import HaralickFeaturizer
from haralick_learn.texture.counting import cooccurrence

from conftest import BACKENDS, MAHOTAS_GRAY, RTOL, reference_gray


PHOTOS = {
    "camera": lambda: skimage.data.camera()[100:260, 150:330],
    "brick": lambda: skimage.data.brick()[:200, :200],
    "grass": lambda: skimage.data.grass()[:200, :200],
}


@pytest.fixture(scope="module", params=sorted(PHOTOS))
def photo(request):
    return np.ascontiguousarray(PHOTOS[request.param]())


def mahotas_non_symmetric(gray, distance=1, **options):
    """mahotas's features of its own ``cooccurence(..., symmetric=False)`` matrices."""
    n_levels = int(gray.max()) + 1
    rows = []
    for direction in range(4 if gray.ndim == 2 else 13):
        cmat = np.zeros((n_levels, n_levels), np.int32)
        mahotas_texture.cooccurence(gray, direction, cmat, symmetric=False, distance=distance)
        rows.append(mahotas_texture.haralick_features([cmat], **options)[0])
    return np.array(rows)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("options", [{}, {"compute_14th_feature": True},
                                     {"use_x_minus_y_variance": True}],
                         ids=["default", "14th", "x_minus_y_variance"])
def test_non_symmetric_rows_equal_mahotas(photo, backend, options):
    row = HaralickFeaturizer(symmetric=False, distance=[1, 2], backend=backend,
                             **options).fit_transform([photo])[0]
    expected = np.concatenate([mahotas_non_symmetric(photo, d, **options).ravel()
                               for d in (1, 2)])
    np.testing.assert_allclose(row, expected, rtol=RTOL, atol=0)
    symmetric = HaralickFeaturizer(distance=[1, 2], **options).fit_transform([photo])[0]
    assert not np.allclose(row, symmetric)


def test_non_symmetric_cooccurrence_equals_mahotas(photo):
    cmats = cooccurrence(photo, (1, 3), symmetric=False)
    n_levels = int(photo.max()) + 1
    for k, distance in enumerate((1, 3)):
        for direction in range(4):
            # mahotas's own allocation overflows for a uint8 image reaching 255
            expected = np.zeros((n_levels, n_levels), np.int32)
            mahotas_texture.cooccurence(photo, direction, expected, symmetric=False,
                                        distance=distance)
            np.testing.assert_array_equal(cmats[k, direction], expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_preserve_haralick_bug_equals_mahotas(photo, backend):
    row = HaralickFeaturizer(preserve_haralick_bug=True, backend=backend).fit_transform(
        [photo])[0]
    expected = mahotas.features.haralick(photo, preserve_haralick_bug=True).ravel()
    np.testing.assert_allclose(row, expected, rtol=RTOL, atol=0)
    plain = HaralickFeaturizer(backend=backend).fit_transform([photo])[0].reshape(4, 13)
    bugged = row.reshape(4, 13)
    # Only the sum variance (feature 7) changes.
    assert (bugged[:, 6] != plain[:, 6]).all()
    np.testing.assert_array_equal(np.delete(bugged, 6, axis=1), np.delete(plain, 6, axis=1))


def test_every_keyword_of_mahotas_haralick_has_its_counterpart(photo_paths):
    """Each keyword, set on its own, gives mahotas's numbers for a real photograph."""
    import inspect

    keywords = set(inspect.signature(mahotas.features.haralick).parameters) - {"f"}
    counterpart = {
        "ignore_zeros": ("ignore_zeros", True),
        "preserve_haralick_bug": ("preserve_haralick_bug", True),
        "compute_14th_feature": ("compute_14th_feature", True),
        "return_mean": ("aggregate", "mean"),
        "return_mean_ptp": ("aggregate", "mean_ptp"),
        "use_x_minus_y_variance": ("use_x_minus_y_variance", True),
        "distance": ("distance", 2),
    }
    assert keywords == set(counterpart)
    path = photo_paths[1]
    for keyword, (param, value) in counterpart.items():
        ours = HaralickFeaturizer(**{param: value}, **MAHOTAS_GRAY).fit_transform([path])[0]
        expected = mahotas.features.haralick(
            reference_gray(path), **{keyword: value if keyword == "distance" else True}
        ).ravel()
        np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=0, err_msg=keyword)


# -- mahotas/tests/test_texture.py, case by case ---------------------------------


def brute_force3(f, dy, dx, dz):
    """mahotas's test's own reference count (``brute_force3``), as it is written there."""
    res = np.zeros((f.max() + 1, f.max() + 1), np.double)
    for y in range(f.shape[0]):
        for x in range(f.shape[1]):
            for z in range(f.shape[2]):
                if 0 <= y + dy < f.shape[0] and 0 <= x + dx < f.shape[1] and \
                        0 <= z + dz < f.shape[2]:
                    res[f[y, x, z], f[y + dy, x + dx, z + dz]] += 1
    return res


def test_mahotas_case_cooccurence():
    np.random.seed(222)
    f = (np.random.rand(32, 32) * 255).astype(np.int32)
    for symmetric in (False, True):
        cmats = cooccurrence(f, symmetric=symmetric)[0]
        for direction in range(4):
            np.testing.assert_array_equal(
                cmats[direction],
                mahotas_texture.cooccurence(f, direction, distance=1, symmetric=symmetric))


def test_mahotas_case_cooccurence3():
    np.random.seed(222)
    f = (np.random.rand(32, 32, 8) * 255).astype(np.int32)
    cmats = cooccurrence(f, symmetric=False)[0]
    for direction, delta in enumerate(mahotas_texture._3d_deltas):
        np.testing.assert_array_equal(cmats[direction], brute_force3(f, *delta))


#: Random pixels are nearly independent: correlation and IMC1 come out near 0
#: as differences of terms near 1e4 and 16, whose rounding (~1e-16 of the
#: terms, summed in another order than mahotas's) is an absolute 1e-13 or so.
RANDOM_ATOL = 1e-12


def test_mahotas_case_haralick():
    np.random.seed(123)
    f = (np.random.rand(1024, 1024) * 255).astype(np.int32)
    row = HaralickFeaturizer().fit_transform([f])[0]
    assert not np.isnan(row).any()
    np.testing.assert_allclose(row, mahotas_texture.haralick(f).ravel(), rtol=RTOL,
                               atol=RANDOM_ATOL)


def test_mahotas_case_haralick3():
    np.random.seed(123)
    f = (np.random.rand(34, 12, 8) * 255).astype(np.int32)
    row = HaralickFeaturizer(volume=True).fit_transform([f])[0]
    assert not np.isnan(row).any()
    np.testing.assert_allclose(row, mahotas_texture.haralick(f).ravel(), rtol=RTOL,
                               atol=RANDOM_ATOL)


def test_mahotas_case_haralick3d():
    np.random.seed(22)
    img = mahotas.stretch(255 * np.random.rand(20, 20, 4))
    volume = HaralickFeaturizer(volume=True).fit_transform([img])
    assert volume.shape == (1, 13 * 13)
    np.testing.assert_allclose(volume[0], mahotas_texture.haralick(img).ravel(), rtol=RTOL,
                               atol=RANDOM_ATOL)
    slice0 = HaralickFeaturizer().fit_transform([img[:, :, 0]])
    assert slice0.shape == (1, 4 * 13)
    np.testing.assert_allclose(slice0[0], mahotas_texture.haralick(img[:, :, 0]).ravel(),
                               rtol=RTOL, atol=RANDOM_ATOL)
    options = dict(ignore_zeros=True, preserve_haralick_bug=True, compute_14th_feature=True)
    projected = HaralickFeaturizer(**options).fit_transform([img.max(0)])
    assert projected.shape == (1, 4 * 14)
    np.testing.assert_allclose(projected[0], mahotas_texture.haralick(img.max(0), **options)
                               .ravel(), rtol=RTOL, atol=RANDOM_ATOL)
    # A deliberate difference: without volume=True, (20, 20, 4) is an RGBA image.
    assert HaralickFeaturizer().fit_transform([img]).shape == (1, 4 * 13)


def test_mahotas_case_zeros_and_ignore_zeros_raise():
    zeros = np.zeros((64, 64), np.uint8)
    row = HaralickFeaturizer().fit_transform([zeros])[0]
    assert not np.isnan(row).any()
    np.testing.assert_array_equal(row, mahotas_texture.haralick(zeros).ravel())
    with pytest.raises(ValueError, match="sample 0: .*no pair of non-zero pixels"):
        HaralickFeaturizer(ignore_zeros=True).fit_transform([zeros])
    with pytest.warns(UserWarning, match="sample 0"):
        row = HaralickFeaturizer(ignore_zeros=True, on_error="nan").fit_transform([zeros])[0]
    assert np.isnan(row).all()


def test_mahotas_case_4d_image():
    f = np.arange(4**5).reshape((4, 4, 4, 4, 4))
    for volume in (False, True):
        with pytest.raises(ValueError, match="sample 0"):
            HaralickFeaturizer(volume=volume).fit_transform([f])


def test_mahotas_case_single_point():
    a = np.zeros((5, 5), np.uint8)
    a[2, 2] = 12
    assert not np.isnan(cooccurrence(a)).any()
    np.testing.assert_allclose(HaralickFeaturizer().fit_transform([a])[0],
                               mahotas_texture.haralick(a).ravel(), rtol=RTOL)


def test_mahotas_case_float_images_are_binned_where_mahotas_refuses_them():
    a = np.zeros((5, 5), np.float32)
    a[2, 2] = 12
    with pytest.raises(TypeError):
        mahotas_texture.haralick(a)
    # Deliberate difference: binned from its own range (12 -> level 255).
    row = HaralickFeaturizer().fit_transform([a])[0]
    np.testing.assert_allclose(row, mahotas_texture.haralick((a > 0).astype(np.uint8) * 255)
                               .ravel(), rtol=RTOL)


def test_mahotas_case_return_mean_ptp_and_x_minus_y():
    np.random.seed(26)
    f = (255 * np.random.random((128, 128))).astype(np.uint8)
    directions = HaralickFeaturizer().fit_transform([f])[0].reshape(4, 13)
    mean_ptp = HaralickFeaturizer(aggregate="mean_ptp").fit_transform([f])[0]
    np.testing.assert_allclose(mean_ptp, mahotas.features.haralick(f, return_mean_ptp=1),
                               rtol=RTOL, atol=RANDOM_ATOL)
    np.testing.assert_allclose(mean_ptp[:13], directions.mean(0), rtol=RTOL)
    x_minus_y = HaralickFeaturizer(use_x_minus_y_variance=True).fit_transform([f])[0]
    assert np.sum(x_minus_y.reshape(4, 13) != directions) == 4


def test_mahotas_case_negative_values_are_binned_where_mahotas_refuses_them():
    np.random.seed(72)
    f = (255 * np.random.random((16, 16))).astype(np.int8)  # wraps: negative values
    with pytest.raises(ValueError):
        mahotas.features.haralick(f)
    row = HaralickFeaturizer().fit_transform([f])[0]
    assert np.isfinite(row).all()
    positive = (64 * np.random.random((16, 16))).astype(np.int8)
    np.testing.assert_allclose(HaralickFeaturizer().fit_transform([positive])[0],
                               mahotas.features.haralick(positive).ravel(), rtol=RTOL,
                               atol=RANDOM_ATOL)
