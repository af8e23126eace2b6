"""Parity of the compiled kernels with mahotas, the reference implementation."""

import json
import os
import subprocess
import sys

import mahotas
import mahotas.features.texture as mahotas_texture
import numpy as np
import pytest
import skimage.data
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.datasets import load_sample_images

import haralick_learn
from haralick_learn.texture.counting import DIRECTIONS, cooccurrence
from haralick_learn.preprocess import gray as gray_module
from haralick_learn.preprocess.gray import rgb_to_gray_uint8, rgbx_to_gray_uint8
from haralick_learn.texture.catalogue import haralick_features

from _helpers import haralick_image
from conftest import RTOL


# Photographs shipped inside the installed packages (no network needed).
SKIMAGE_RGB = [
    "astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field",
]
SKIMAGE_GRAY = ["camera", "brick", "grass", "gravel", "moon", "coins"]


def _sample_images():
    images = {name: getattr(skimage.data, name)() for name in SKIMAGE_RGB + SKIMAGE_GRAY}
    bunch = load_sample_images()
    for filename, image in zip(bunch.filenames, bunch.images):
        images[filename.replace("\\", "/").rsplit("/", 1)[-1]] = image
    return images


SAMPLE_IMAGES = _sample_images()


def _gray(image):
    """Our gray image, checked bit-identical to mahotas's on the way."""
    if image.ndim == 2:
        return image
    gray = rgb_to_gray_uint8(image, "mahotas")
    np.testing.assert_array_equal(gray, mahotas.colors.rgb2gray(image, dtype=np.uint8))
    return gray


def _mahotas_cmat(gray, direction, distance):
    n_levels = int(gray.max()) + 1
    # mahotas's own allocation computes gray.max() + 1 in the image dtype,
    # which wraps to 0 for a uint8 image reaching 255: pass the output.
    cmat = np.zeros((n_levels, n_levels), np.int32)
    mahotas_texture.cooccurence(gray, direction, cmat, symmetric=True, distance=distance)
    return cmat


def _cancellation_atol(cmat, ignore_zeros, n_features, use_x_minus_y_variance):
    """Absolute tolerances for the features that are differences of large terms.

    Rounding errors of a difference ``A - B`` scale with ``|A| + |B|``, not with
    the result: when the result is close to 0 (a nearly constant image at high
    gray levels, nearly independent pixel pairs), two correct implementations
    that sum in different orders disagree by ``~1e-16 * (|A| + |B|)``, an
    arbitrarily large fraction of the result.  Those features get an absolute
    tolerance of ``1e-12`` times the size of the cancelling terms (10 000
    times the double precision error, so real mismatches still fail); all
    other features are compared with the relative tolerance alone.
    """
    cmat = np.array(cmat, dtype=np.float64)
    if ignore_zeros:
        cmat[0] = 0
        cmat[:, 0] = 0
    p = cmat / cmat.sum()
    k2 = np.arange(len(p), dtype=np.float64) ** 2
    px = p.sum(0)
    moment2 = px @ k2  # E[x**2], the size of the terms of the variance
    variance = moment2 - (px @ np.arange(len(p))) ** 2
    nonzero = px[px > 0]
    hx = -(nonzero * np.log2(nonzero)).sum()
    atol = np.zeros(n_features)
    # correlation: (E[xy] - ux * uy) / (sx * sy)
    atol[2] = 1e-12 * moment2 / variance if variance > 0 else 0.0
    atol[3] = 1e-12 * moment2  # Sum of Squares: Variance = E[x**2] - ux**2
    atol[6] = 4e-12 * moment2  # Sum Variance = E[(x+y)**2] - E[x+y]**2
    atol[9] = 1e-12 * (moment2 if use_x_minus_y_variance else 1.0)
    # IMC1 = (HXY - HXY1) / max(HX, HY), entropies up to log2(L**2) bits
    atol[11] = 1e-12 * 2 * np.log2(len(p) + 1) / max(hx, 1e-300)
    # The entropies -sum q log2 q (sum, joint and difference histograms): the reference
    # rounds each q = count / total by up to half an ulp, which moves the sum by up to
    # eps * (log2(bins) + 1 / ln 2): a single-bin histogram gives ~1e-16, not 0.
    # Four times that bound, over the joint matrix's L**2 cells.
    entropy_rounding = 4 * np.finfo(np.float64).eps * (np.log2(len(p) ** 2 + 1) + 1.5)
    atol[[7, 8, 10]] = entropy_rounding
    return atol


def assert_features_match(ours, reference, atol=None, squared_imc2=False):
    """Compare feature rows at ``RTOL`` (plus the cancellation tolerances)."""
    ours = np.asarray(ours)
    reference = np.asarray(reference)
    assert ours.shape == reference.shape
    if atol is None:
        atol = np.zeros(reference.shape[-1])
    if squared_imc2:
        # IMC2 = sqrt(1 - exp(-2 (HXY2 - HXY))): near 0, sqrt turns a 1e-16
        # rounding difference of HXY2 - HXY into 1e-8. Its square is well
        # conditioned; compare that instead.
        ours = ours.copy()
        reference = reference.copy()
        ours[..., 12] **= 2
        reference[..., 12] **= 2
        atol = atol.copy()
        atol[12] = 1e-12
    if ours.shape[-1] == 14:
        # The 14th, sqrt of an eigenvalue: where that eigenvalue is 0, each side's sqrt is
        # that of its own rounding (about 1e-8), or NaN where it came out negative, as
        # mahotas's np.sqrt gives. The eigenvalues themselves agree to rounding.
        ours = ours.copy()
        reference = reference.copy()
        for side in (ours, reference):
            side[..., 13] = np.where(np.isnan(side[..., 13]), 0.0, side[..., 13] ** 2)
        atol = atol.copy()
        atol[13] = 1e-12
    # one vectorised check (hypothesis calls this thousands of times), with
    # assert_allclose's rule: |ours - reference| <= atol + RTOL * |reference|
    close = np.abs(ours - reference) <= atol + RTOL * np.abs(reference)
    close |= np.isnan(ours) & np.isnan(reference)
    if not close.all():
        bad = sorted(set(np.nonzero(~close)[-1]))
        details = [
            f"{mahotas_texture.haralick_labels[i]}: ours {ours[..., i]!r} "
            f"mahotas {reference[..., i]!r} atol {atol[i]:.3g}"
            for i in bad
        ]
        raise AssertionError("features differ beyond rtol=%g:\n%s" % (RTOL, "\n".join(details)))


# --------------------------------------------------------------------------
# gray conversion


@pytest.fixture(scope="module")
def all_colours():
    """Every 24-bit colour once, as a 4096 x 4096 RGB image; mahotas's gray levels of it;
    and each colour's exact gray value times 100, ``n = 30 R + 59 G + 11 B``.

    Built once for the three tests below (about 3 s each time).
    """
    codes = np.arange(1 << 24, dtype=np.uint32)
    rgb = np.stack([codes >> 16, (codes >> 8) & 255, codes & 255], axis=-1).astype(np.uint8)
    rgb = rgb.reshape(4096, 4096, 3)
    reference = mahotas.colors.rgb2gray(rgb, dtype=np.uint8)
    r, g, b = (rgb[..., k].astype(np.int64) for k in range(3))
    return rgb, reference, 30 * r + 59 * g + 11 * b


def test_mahotas_conversion_all_colours_bit_identical(all_colours):
    rgb, expected, _ = all_colours
    np.testing.assert_array_equal(rgb_to_gray_uint8(rgb, "mahotas"), expected)
    # Pillow's 4-byte layout, the route every RGB file takes; a random fourth
    # byte proves it is ignored.
    rgbx = np.concatenate(
        [rgb, np.random.default_rng(0).integers(0, 256, (4096, 4096, 1), dtype=np.uint8)],
        axis=-1,
    )
    gray = np.empty(1 << 24, np.uint8)
    rgbx_to_gray_uint8(rgbx.reshape(-1).view(np.uint32), gray, "mahotas")
    np.testing.assert_array_equal(gray.reshape(4096, 4096), expected)


def test_exact_conversion_is_mahotas_wherever_mahotas_does_not_depend_on_the_machine(
    all_colours,
):
    """Every colour: mahotas's level where its float rounding cannot matter, else the exact one.

    The exact gray value is ``n / 100``, ``n = 30 R + 59 G + 11 B``. Where ``n``
    is not a multiple of 100 every machine's mahotas truncates it alike, and
    the exact conversion must give that level; where it is, mahotas gives
    ``n / 100`` or one less depending on its BLAS kernel, and the exact
    conversion gives ``n / 100`` itself.
    """
    rgb, reference, n = all_colours
    exact = rgb_to_gray_uint8(rgb)
    integral = n % 100 == 0
    np.testing.assert_array_equal(exact[~integral], reference[~integral])
    np.testing.assert_array_equal(exact[integral], n[integral] // 100)
    below = reference[integral].astype(np.int64) - n[integral] // 100
    assert set(np.unique(below)) <= {-1, 0}
    # Pillow's 4-byte layout gives the same levels.
    rgbx = np.concatenate([rgb, np.full((4096, 4096, 1), 7, np.uint8)], axis=-1)
    gray = np.empty(1 << 24, np.uint8)
    rgbx_to_gray_uint8(rgbx.reshape(-1).view(np.uint32), gray)
    np.testing.assert_array_equal(gray.reshape(4096, 4096), exact)


def test_exact_conversion_keeps_the_levels_of_a_gray_picture_stored_as_rgb():
    gray = skimage.data.camera()
    rgb = np.repeat(gray[:, :, None], 3, axis=2)
    np.testing.assert_array_equal(rgb_to_gray_uint8(rgb), gray)
    # the reference does not: some levels v come out as v - 1 on some machines, and the
    # exact conversion never does
    wide = rgb.astype(np.uint16) * 257
    np.testing.assert_array_equal(gray_module.rgb_to_gray(wide), gray * 257.0)
    floats = rgb / 255.0
    np.testing.assert_array_equal(gray_module.rgb_to_gray(floats), gray / 255.0)


def test_every_gray_kernel_agrees_with_the_reference_where_it_is_chosen(all_colours):
    """The machine's reference rounds integer-valued colours its own way (BLAS, FMA).

    The table kernel (the fallback for a BLAS that follows no known formula)
    must equal mahotas on every colour; the kernel chosen for this machine
    must agree with the table on every colour where rounding can matter.
    """
    rgb, expected, n = (array.reshape(1 << 24, -1).squeeze() for array in all_colours)
    pixels = np.concatenate([rgb, np.zeros((1 << 24, 1), np.uint8)], axis=-1)
    pixels = pixels.reshape(-1).view(np.uint32)
    # The table of mahotas's levels of the integer-valued colours, at their places in the
    # conversion's own table: (R * 256 + G) * 3 + B // 100 (B = 0 where no third B fits).
    r, g = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    b = (-91 * (30 * r + 59 * g)) % 100 + 100 * np.arange(3)[:, None, None]
    b = np.where(b <= 255, b, 0)
    table = expected[(r << 16 | g << 8 | b).transpose(1, 2, 0).ravel()]
    np.testing.assert_array_equal(gray_module._conversion()[1], table)
    got = np.empty(1 << 24, np.uint8)
    gray_module._table_kernel(pixels, table, got)
    np.testing.assert_array_equal(got, expected)
    # Away from integer values every formula truncates alike: only the
    # 167,832 integer-valued colours can tell the kernels apart.
    assert (n % 100 == 0).sum() == 167_832
    for kernel in (gray_module._sequential_kernel, gray_module._fma_kernel):
        kernel(pixels, table, got)
        differ = got != expected
        assert not (differ & (n % 100 != 0)).any()
        if kernel is gray_module._sequential_kernel:
            # _conversion checks this kernel with numpy's formula, without compiling it
            channels = rgb.astype(np.float64).T
            numpy_formula = (channels[0] * 0.30 + channels[1] * 0.59) + channels[2] * 0.11
            np.testing.assert_array_equal(numpy_formula.astype(np.int32).astype(np.uint8), got)
    kernel, _ = gray_module._conversion()
    kernel(pixels, table, got)
    np.testing.assert_array_equal(got, expected)


def test_rgb_to_gray_non_contiguous_rgba_slice():
    rgba = skimage.data.logo()  # (500, 500, 4)
    rgb = rgba[::2, 1::3, :3]
    assert not rgb.flags.c_contiguous
    gray = rgb_to_gray_uint8(rgb, "mahotas")
    assert gray.dtype == np.uint8 and gray.shape == rgb.shape[:2]
    np.testing.assert_array_equal(gray, mahotas.colors.rgb2gray(rgb, dtype=np.uint8))


# --------------------------------------------------------------------------
# real photographs


@pytest.fixture(scope="module", params=sorted(SAMPLE_IMAGES))
def photo_gray(request):
    return _gray(SAMPLE_IMAGES[request.param])


def test_cooccurrence_photo_matches_mahotas(photo_gray):
    cmats = cooccurrence(photo_gray, (1, 3))
    assert cmats.dtype == np.int64
    for k, distance in enumerate((1, 3)):
        for direction in range(len(DIRECTIONS)):
            expected = _mahotas_cmat(photo_gray, direction, distance)
            np.testing.assert_array_equal(cmats[k, direction], expected)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"ignore_zeros": True},
        {"use_x_minus_y_variance": True},
        {"compute_14th_feature": True},
    ],
    ids=["default", "ignore_zeros", "x_minus_y_variance", "14th"],
)
def test_haralick_photo_matches_mahotas(photo_gray, options):
    distances = (1, 2, 3) if not options else (1,)
    ours = haralick_image(photo_gray, distances, **options)
    assert ours.shape == (len(distances), 4, 14 if options.get("compute_14th_feature") else 13)
    for k, distance in enumerate(distances):
        expected = mahotas.features.haralick(photo_gray, distance=distance, **options)
        # plain relative tolerance: no cancellation tolerance on photographs
        assert_features_match(ours[k], expected)


# --------------------------------------------------------------------------
# property-based: random small images


@st.composite
def gray_images(draw):
    dtype = draw(st.sampled_from([np.uint8, np.uint16, np.int32]))
    max_value = draw(st.integers(0, 255 if dtype == np.uint8 else 300))
    shape = draw(
        st.one_of(
            st.sampled_from([(1, 1), (2, 2), (1, 7), (7, 1), (3, 1), (1, 3), (2, 5)]),
            hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=24),
        )
    )
    low = draw(st.integers(0, max_value))
    return draw(hnp.arrays(dtype, shape, elements=st.integers(low, max_value)))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    gray=gray_images(),
    distance=st.integers(1, 4),
    ignore_zeros=st.booleans(),
    use_x_minus_y_variance=st.booleans(),
    compute_14th_feature=st.booleans(),
)
# Found by hypothesis: one sum-histogram bin, whose entropy mahotas rounds to 1.6e-16.
@example(gray=np.array([[8, 1, 9, 0, 1, 8, 0]], np.uint8), distance=4, ignore_zeros=False,
         use_x_minus_y_variance=False, compute_14th_feature=False)
# The reference's 14th feature is the square root of an eigenvalue that rounding leaves
# slightly below 0 on some tiny images (e.g. [[1, 2], [0, 0]]): mahotas warns and gives NaN,
# and so must we (NaN matches only NaN).
@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning:"
                            "mahotas.features.texture")
def test_random_images_match_mahotas(
    gray, distance, ignore_zeros, use_x_minus_y_variance, compute_14th_feature
):
    options = dict(
        ignore_zeros=ignore_zeros,
        use_x_minus_y_variance=use_x_minus_y_variance,
        compute_14th_feature=compute_14th_feature,
    )
    original = gray.copy()
    cmats = cooccurrence(gray, (distance,))
    ours = haralick_image(gray, (distance,), **options)[0]
    np.testing.assert_array_equal(gray, original)
    n_features = 14 if compute_14th_feature else 13
    assert ours.shape == (4, n_features)

    any_empty = False
    for direction in range(4):
        cmat = _mahotas_cmat(gray, direction, distance)
        np.testing.assert_array_equal(cmats[0, direction], cmat)
        try:
            expected = mahotas_texture.haralick_features([cmat.copy()], **options)[0]
        except ValueError:  # mahotas: "the input is empty"
            any_empty = True
            assert np.isnan(ours[direction]).all()
            continue
        except np.linalg.LinAlgError:  # the 14th of a constant row: NaN to LAPACK
            any_empty = True
            assert np.isnan(ours[direction, 13])
            expected = mahotas_texture.haralick_features(
                [cmat.copy()], **dict(options, compute_14th_feature=False))[0]
            atol = _cancellation_atol(cmat, ignore_zeros, 13, use_x_minus_y_variance)
            assert_features_match(ours[direction, :13], expected, atol, squared_imc2=True)
            continue
        atol = _cancellation_atol(cmat, ignore_zeros, n_features, use_x_minus_y_variance)
        assert_features_match(ours[direction], expected, atol, squared_imc2=True)

    if not any_empty:
        expected = mahotas.features.haralick(gray, distance=distance, **options)
        for direction in range(4):
            atol = _cancellation_atol(
                cmats[0, direction], ignore_zeros, n_features, use_x_minus_y_variance
            )
            assert_features_match(ours[direction], expected[direction], atol, squared_imc2=True)


@settings(max_examples=100, deadline=None)
@given(
    cmats=hnp.arrays(
        np.int64,
        st.tuples(st.integers(1, 3), st.integers(1, 9)).map(lambda s: (s[0], s[1], s[1])),
        elements=st.integers(0, 1000),
    ),
    ignore_zeros=st.booleans(),
)
def test_non_symmetric_matrices_match_mahotas(cmats, ignore_zeros):
    """haralick_features also follows mahotas on arbitrary (non-symmetric) counts."""
    original = cmats.copy()
    ours = haralick_features(cmats, ignore_zeros=ignore_zeros)
    np.testing.assert_array_equal(cmats, original)
    for m, cmat in enumerate(cmats):
        try:
            expected = mahotas_texture.haralick_features(
                [cmat.copy()], ignore_zeros=ignore_zeros
            )[0]
        except ValueError:
            assert np.isnan(ours[m]).all()
            continue
        atol = _cancellation_atol(cmat, ignore_zeros, 13, False)
        # non-symmetric: py differs from px, so allow for both in correlation
        atol[2] = max(atol[2], _cancellation_atol(cmat.T, ignore_zeros, 13, False)[2])
        assert_features_match(ours[m], expected, atol, squared_imc2=True)


# --------------------------------------------------------------------------
# behaviour


def test_empty_directions_are_nan():
    row = np.array([[1, 2, 3, 2, 1]], dtype=np.uint8)  # 1 pixel high
    feats = haralick_image(row, (1, 2))
    assert feats.shape == (2, 4, 13)
    assert np.isfinite(feats[:, 0]).all()
    assert np.isnan(feats[:, 1:]).all()
    np.testing.assert_allclose(feats[0, 0], mahotas_texture.haralick_features(
        [_mahotas_cmat(row, 0, 1)])[0], rtol=RTOL)

    column = row.T.copy()  # 1 pixel wide: only vertical pairs
    assert np.isnan(haralick_image(column)[0, [0, 1, 3]]).all()
    assert np.isfinite(haralick_image(column)[0, 2]).all()

    # a distance longer than the image: no pairs at all
    assert np.isnan(haralick_image(row, (5,), compute_14th_feature=True)).all()


def test_ignore_zeros_without_non_zero_pairs_is_nan():
    gray = np.array([[0, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]], np.uint8)
    with pytest.raises(ValueError):
        mahotas.features.haralick(gray, ignore_zeros=True)
    feats = haralick_image(gray, ignore_zeros=True, compute_14th_feature=True)[0]
    # only the vertical direction has a pair (1, 1)
    assert np.isnan(feats[[0, 1, 3]]).all()
    assert np.isfinite(feats[2]).all()
    assert np.isnan(haralick_image(np.zeros((3, 3), np.uint8), ignore_zeros=True)).all()


def test_inputs_not_mutated():
    gray = _gray(SAMPLE_IMAGES["coffee"])[::3, ::3]
    gray[::5] = 0  # pairs with level 0 for ignore_zeros to drop
    gray_before = gray.copy()
    cmats = cooccurrence(gray, (1, 2))
    cmats_before = cmats.copy()
    haralick_features(cmats, ignore_zeros=True, compute_14th_feature=True)
    np.testing.assert_array_equal(gray, gray_before)
    np.testing.assert_array_equal(cmats, cmats_before)
    assert cmats[..., 0, :].any()  # ignore_zeros did not zero the caller's row 0


def test_cooccurrence_is_symmetric_and_counts_pairs():
    gray = _gray(SAMPLE_IMAGES["chelsea"])
    height, width = gray.shape
    distances = (1, 2, 5)
    cmats = cooccurrence(gray, distances)
    n_levels = int(gray.max()) + 1
    assert cmats.shape == (3, 4, n_levels, n_levels)
    np.testing.assert_array_equal(cmats, np.swapaxes(cmats, -1, -2))
    for k, d in enumerate(distances):
        expected_pairs = [
            height * (width - d),
            (height - d) * (width - d),
            (height - d) * width,
            (height - d) * (width - d),
        ]
        np.testing.assert_array_equal(cmats[k].sum(axis=(-1, -2)), 2 * np.array(expected_pairs))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.int64])
def test_cooccurrence_dtypes_agree(dtype):
    gray = _gray(SAMPLE_IMAGES["camera"])[100:180, 50:170]
    expected = cooccurrence(gray, (1, 2))
    np.testing.assert_array_equal(cooccurrence(gray.astype(dtype), (1, 2)), expected)
    # non-contiguous input
    np.testing.assert_array_equal(
        cooccurrence(np.asfortranarray(gray.astype(dtype)), (1, 2)), expected
    )


def test_haralick_features_batch_shapes():
    gray = _gray(SAMPLE_IMAGES["brick"])[:64, :64]
    cmats = cooccurrence(gray, (1, 2))
    feats = haralick_features(cmats)
    assert feats.shape == (2, 4, 13) and feats.dtype == np.float64
    np.testing.assert_array_equal(haralick_features(cmats[1, 2]), feats[1, 2])
    np.testing.assert_array_equal(haralick_features(cmats.astype(np.int32)), feats)
    assert haralick_features(cmats, compute_14th_feature=True).shape == (2, 4, 14)


# --------------------------------------------------------------------------
# validation at the kernels' boundaries (ValueError, never assert: python -O)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: cooccurrence(np.array([[0, -1], [2, 3]], np.int32)), ValueError,
         "non-negative"),
        (lambda: cooccurrence(np.zeros((2, 2), np.float64)), TypeError, "integer levels"),
        (lambda: cooccurrence(np.zeros((2, 2, 2, 2), np.uint8)), ValueError, "2-D or 3-D"),
        (lambda: cooccurrence(np.zeros((2, 2), np.uint8), (0,)), ValueError, "positive"),
        (lambda: cooccurrence(np.zeros((2, 2), np.uint8), (1,), [(-1, 0)]), ValueError,
         "first non-zero component positive"),
        (lambda: cooccurrence(np.zeros((2, 2, 2), np.uint8), (1,), [(0, 1)]), ValueError,
         "offsets of 3 components"),
        (lambda: haralick_features(np.zeros((3, 4), np.int64)), ValueError, "square"),
        (lambda: haralick_features(np.zeros((3, 3))), TypeError, "integer counts"),
        (lambda: haralick_features(-np.ones((3, 3), np.int64)), ValueError, "non-negative"),
        (lambda: rgb_to_gray_uint8(np.zeros((2, 2, 3), np.uint16)), ValueError, "uint8"),
        (lambda: rgbx_to_gray_uint8(np.zeros(4, np.uint32), np.zeros(3, np.uint8)), ValueError,
         "same shape|of its shape"),
    ],
)
def test_kernel_entry_points_refuse_bad_input_with_an_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_cooccurrence_counts_any_offsets_like_the_four_directions(photo_gray):
    """Offsets are data: a custom order or subset gives the same matrices."""
    full = cooccurrence(photo_gray, (1, 2))
    reordered = cooccurrence(photo_gray, (1, 2), [(1, -1), (0, 1), (1, 0)])
    np.testing.assert_array_equal(reordered, full[:, [3, 0, 2]])


# The 2-D counting kernel counts four offsets per pass, then two, then one. L a multiple of
# 32: in scratch tables on images of at least 64 L**2 pixels (camera tiled to 2048 x 2048,
# camera // 4, moon // 8), else in passes of two (camera, 512 x 512 of L = 256).
TEXTURE_LEVELS = {
    "camera": lambda image: image,
    "camera tiled 4 x 4": lambda image: np.tile(image, (4, 4)),
    "camera // 4": lambda image: image // 4,
    "moon // 8": lambda image: image // 8,
    "brick": lambda image: image,
    "grass * 3 + 1 (uint16)": lambda image: image.astype(np.uint16) * 3 + 1,
    "gravel * 257 // 64 (uint16)": lambda image: (image.astype(np.uint16) * 257) // 64,
}


@pytest.mark.parametrize("name", sorted(TEXTURE_LEVELS))
@pytest.mark.parametrize(
    "directions", [(0, 1, 2, 3), (3, 0, 2), (2, 1), (1,), (0, 1, 2, 3, 1)], ids=str
)
def test_every_pass_grouping_matches_mahotas_on_real_textures(name, directions):
    """Distances (1, 2, 4) of 1 to 5 directions: passes of four, two and one offsets."""
    gray = TEXTURE_LEVELS[name](SAMPLE_IMAGES[name.split()[0]])
    n_levels = int(gray.max()) + 1
    assert n_levels == {"camera": 256, "camera // 4": 64, "moon // 8": 32}.get(
        name.replace(" tiled 4 x 4", ""), n_levels
    )
    assert gray.size >= 64 * n_levels**2 if "tiled" in name else gray.size <= 512**2
    assert (gray.dtype == np.uint16) == name.endswith("(uint16)") and (
        n_levels > 256 or gray.dtype == np.uint8
    )
    distances = (1, 2, 4)
    cmats = cooccurrence(gray, distances, [DIRECTIONS[j] for j in directions])
    for k, distance in enumerate(distances):
        for m, direction in enumerate(directions):
            expected = _mahotas_cmat(gray, direction, distance)
            np.testing.assert_array_equal(cmats[k, m], expected, err_msg=f"{distance} {m}")


def test_the_feature_catalogue_names_the_haralick_features_in_order():
    from haralick_learn.texture.catalogue import FEATURES
    from haralick_learn._settings import FEATURE_NAMES, FEATURE_SETS

    assert tuple(FEATURES)[: len(FEATURE_NAMES)] == FEATURE_NAMES
    assert tuple(FEATURES) == sum(FEATURE_SETS.values(), ())


_LITERAL_VARIANTS = r"""
import json
import numba
import numpy as np
import skimage.data
from numba.core import types

from haralick_learn import HaralickFeaturizer, region_features, texture_maps
from haralick_learn.texture import counting, windowed

gray = skimage.data.camera()[:48, :48]
labels = np.repeat(np.arange(1, 5, dtype=np.int32), 576).reshape(48, 48)
texture_maps(gray, 5, step=8)
texture_maps(gray, 5, step=8, symmetric=False)
region_features(gray, labels)
HaralickFeaturizer().fit_transform([gray[:16, :16], gray[16:32, :16]])
literal = {}
for module in (counting, windowed):
    for name, kernel in vars(module).items():
        if isinstance(kernel, numba.core.registry.CPUDispatcher):
            for signature in kernel.signatures:
                if any(isinstance(t, types.Literal) for t in signature):
                    literal.setdefault(name, []).append(str(signature))
print(json.dumps(literal))
"""


@pytest.mark.slow
def test_kernels_compile_one_variant_per_argument_type_not_per_constant(tmp_path):
    # A kernel calling another with a literal constant (0, 8, -1), or with a variable first
    # set to one, makes numba compile the callee once more for the literal's type, on every
    # machine's first run. Compiled from an empty cache: texture maps, ordered maps, region
    # tables and the featurizer's batches of small images.
    package_parent = os.path.dirname(os.path.dirname(haralick_learn.__file__))
    env = dict(os.environ, PYTHONPATH=package_parent, NUMBA_CACHE_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", _LITERAL_VARIANTS], env=env, cwd=tmp_path,
                            capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.splitlines()[-1]) == {}
