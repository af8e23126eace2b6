"""Masks: a sample given as ``(image, mask)`` counts only the pairs inside its mask.

The masks are honest: thresholds of the real images they go with, rectangles,
and an all-true mask. The rule (a pair counts when both of its pixels lie in
the mask, pyradiomics's) is checked against mahotas's own counting: mahotas
counts the image whose outside pixels take one extra gray level, and that
level's row and column are dropped.
"""

import os
import warnings

import mahotas
import mahotas.features.texture as mahotas_texture
import numpy as np
import pytest
import skimage.data
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from haralick_learn import HaralickFeaturizer, ImageFeaturizationWarning
from haralick_learn.texture.counting import cooccurrence
from haralick_learn.preprocess.gray import rgb_to_gray_uint8
from haralick_learn.texture.catalogue import haralick_features
from haralick_learn.datasets import load_sample_images

from conftest import RTOL
from test_volumes import VOLUMES


IMAGES = {
    "camera": lambda: skimage.data.camera()[100:260, 150:330],
    "brick": lambda: skimage.data.brick()[:150, :170],
    "coffee": lambda: skimage.data.coffee()[100:260, 200:380],  # RGB
}


@pytest.fixture(scope="module", params=sorted(IMAGES))
def image(request):
    return np.ascontiguousarray(IMAGES[request.param]())


def gray_of(image):
    """The featurizer's gray image: the default, exact conversion of an RGB image."""
    return image if image.ndim == 2 else rgb_to_gray_uint8(image)


def threshold_mask(gray):
    """An irregular mask: the brighter half of the real image."""
    return gray > np.median(gray)


def mahotas_masked_cmats(gray, mask, distance, symmetric=True):
    """mahotas's counts of the pairs inside ``mask``: outside pixels as an extra level."""
    n_levels = int(gray[mask].max()) + 1
    marked = np.where(mask, gray.astype(np.int32), n_levels)
    cmats = []
    for direction in range(4 if gray.ndim == 2 else 13):
        cmat = np.zeros((n_levels + 1, n_levels + 1), np.int32)
        mahotas_texture.cooccurence(marked, direction, cmat, symmetric=symmetric,
                                    distance=distance)
        cmats.append(cmat[:n_levels, :n_levels])
    return np.array(cmats)


def featurize(samples, **params):
    return HaralickFeaturizer(**params).fit_transform(samples)


# -- the counting rule ------------------------------------------------------------


@pytest.mark.parametrize("symmetric", [True, False])
def test_masked_counts_equal_mahotas_counts_of_the_pairs_inside(image, symmetric):
    gray = gray_of(image)
    mask = threshold_mask(gray)
    ours = cooccurrence(gray, (1, 3), symmetric=symmetric, mask=mask)
    for k, distance in enumerate((1, 3)):
        np.testing.assert_array_equal(ours[k], mahotas_masked_cmats(gray, mask, distance,
                                                                    symmetric))
    # Pairs that straddle the mask's border are left out: fewer pairs than unmasked.
    assert 0 < ours[0, 0].sum() < cooccurrence(gray)[0, 0].sum()


def test_masked_rows_equal_mahotas_features_of_those_counts(image):
    gray = gray_of(image)
    mask = threshold_mask(gray)
    row = featurize([(image, mask)], distance=[1, 2], compute_14th_feature=True)[0]
    expected = [mahotas_texture.haralick_features(list(mahotas_masked_cmats(gray, mask, d)),
                                                  compute_14th_feature=True)
                for d in (1, 2)]
    np.testing.assert_allclose(row, np.ravel(expected), rtol=RTOL, atol=0)


def test_masked_volume_counts_equal_mahotas():
    volume = VOLUMES["gravel"]()
    mask = threshold_mask(volume)
    ours = cooccurrence(volume, (1, 2), mask=mask)
    for k, distance in enumerate((1, 2)):
        np.testing.assert_array_equal(ours[k], mahotas_masked_cmats(volume, mask, distance))
    row = featurize([(volume, mask)], volume=True)[0]
    expected = mahotas_texture.haralick_features(list(mahotas_masked_cmats(volume, mask, 1)))
    # One direction's difference histogram has a single bin: its entropy is exactly 0
    # here, -3.2e-16 in mahotas (its probabilities, rounded, sum to 1 - 2e-16).
    np.testing.assert_allclose(row, expected.ravel(), rtol=RTOL, atol=1e-13)


# -- all-true masks and rectangles: exactly the unmasked numbers ----------------------

OPTIONS = [
    {},
    {"distance": [1, 3], "aggregate": "mean_ptp"},
    {"ignore_zeros": True, "compute_14th_feature": True},
    {"levels": 16, "use_x_minus_y_variance": True},
    {"symmetric": False, "preserve_haralick_bug": True},
]


@pytest.mark.parametrize("params", OPTIONS, ids=lambda p: "-".join(p) or "default")
def test_an_all_true_mask_gives_exactly_the_unmasked_row(image, params):
    everywhere = np.ones(image.shape[:2], bool)
    masked, plain = featurize([(image, everywhere), image], **params)
    np.testing.assert_array_equal(masked, plain)


@pytest.mark.parametrize("params", OPTIONS, ids=lambda p: "-".join(p) or "default")
def test_a_rectangular_mask_gives_exactly_the_cropped_rectangle(image, params):
    box = (slice(23, 101), slice(41, 150))
    mask = np.zeros(image.shape[:2], bool)
    mask[box] = True
    masked, cropped = featurize([(image, mask), image[box]], **params)
    np.testing.assert_array_equal(masked, cropped)


def test_quantization_uses_only_the_pixels_inside_the_mask():
    """A float / 16-bit image is binned from the masked pixels' own range."""
    gray = skimage.data.camera()[100:260, 150:330].astype(np.float64) / 3.0
    mask = np.zeros(gray.shape, bool)
    mask[30:90, 20:120] = True
    gray[~mask] = 1e6  # far outside the rectangle's range: must not matter
    for levels in (None, 32):
        for sample in (gray, (gray * 100).astype(np.uint16)):
            masked, cropped = featurize([(sample, mask), sample[30:90, 20:120]], levels=levels)
            np.testing.assert_array_equal(masked, cropped)


def test_volume_masks_all_true_and_box():
    volume = VOLUMES["brick"]()
    everywhere = np.ones(volume.shape, bool)
    box = np.zeros(volume.shape, bool)
    box[1:6, 5:40, 3:30] = True
    rows = featurize([(volume, everywhere), volume, (volume, box), volume[1:6, 5:40, 3:30]],
                     volume=True, distance=[1, 2])
    np.testing.assert_array_equal(rows[0], rows[1])
    np.testing.assert_array_equal(rows[2], rows[3])


# -- mask files and errors -----------------------------------------------------------


def test_mask_files_give_the_rows_of_their_arrays(tmp_path, image):
    import tifffile

    mask = threshold_mask(gray_of(image))
    png = tmp_path / "mask.png"
    Image.fromarray(mask.astype(np.uint8) * 255).save(png)
    image_path = tmp_path / "image.png"
    Image.fromarray(image).save(image_path)
    rows = featurize([(image, mask), (str(image_path), str(png)), (image, Image.open(png)),
                      (image, mask.astype(np.uint8))])
    for row in rows[1:]:
        np.testing.assert_array_equal(row, rows[0])
    volume = VOLUMES["camera"]()
    vmask = threshold_mask(volume)
    tif = tmp_path / "mask.tif"
    tifffile.imwrite(tif, vmask.astype(np.uint8))
    rows = featurize([(volume, vmask), (volume, str(tif))], volume=True)
    np.testing.assert_array_equal(rows[0], rows[1])


@pytest.mark.parametrize(
    "mask, message",
    [
        (np.ones((5, 5), bool), r"sample 1: its mask has shape \(5, 5\), but the image has "
                                r"shape \(160, 180\)"),
        (np.zeros((160, 180), bool), "sample 1: its mask is empty"),
        (np.pad(np.ones((1, 2), bool), ((50, 109), (50, 128))),
         "sample 1: image of shape .* no pixel pair inside its mask at distance 2"),
        (np.full((160, 180), 0.5), "sample 1: a mask must be a boolean"),
    ],
    ids=["shape", "empty", "no-pair", "float"],
)
def test_bad_masks_name_the_sample_or_give_nan_rows(mask, message):
    gray = IMAGES["camera"]()
    samples = [gray, (gray, mask), gray]
    with pytest.raises((ValueError, TypeError), match=message):
        featurize(samples, distance=[1, 2])
    with pytest.warns(ImageFeaturizationWarning, match=message):
        rows = featurize(samples, distance=[1, 2], on_error="nan")
    assert np.isnan(rows[1]).all()
    np.testing.assert_array_equal(rows[0], rows[2])
    assert np.isfinite(rows[0]).all()


def test_a_missing_mask_file_names_it(tmp_path):
    gray = IMAGES["camera"]()
    with pytest.raises(FileNotFoundError, match="nowhere.png"):
        featurize([(gray, str(tmp_path / "nowhere.png"))])


def test_masks_need_the_compiled_backend():
    gray = IMAGES["camera"]()
    with pytest.raises(ValueError, match="sample 0: masks need the compiled kernels"):
        featurize([(gray, gray > 100)], backend="mahotas")


# -- through the cache, Pipeline, cross_val_score and GridSearchCV -------------------


def test_the_mask_is_part_of_the_cache_key(tmp_path):
    gray = IMAGES["camera"]()
    mask = threshold_mask(gray)
    featurizer = HaralickFeaturizer(memory=tmp_path)
    first = featurizer.fit_transform([(gray, mask), (gray, ~mask), gray])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = featurizer.fit_transform([(gray, mask), (gray, ~mask), gray])
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first[0], first[1]) and not np.allclose(first[0], first[2])
    np.testing.assert_array_equal(first, featurize([(gray, mask), (gray, ~mask), gray]))


def test_a_changed_mask_file_gets_new_features(tmp_path):
    gray = IMAGES["camera"]()
    path = tmp_path / "mask.png"
    Image.fromarray(threshold_mask(gray).astype(np.uint8) * 255).save(path)
    featurizer = HaralickFeaturizer(memory=tmp_path / "cache")
    before = featurizer.fit_transform([(gray, str(path))])
    Image.fromarray((~threshold_mask(gray)).astype(np.uint8) * 255).save(path)
    after = featurizer.fit_transform([(gray, str(path))])
    np.testing.assert_array_equal(after, featurize([(gray, ~threshold_mask(gray))]))
    assert not np.allclose(before, after)


@pytest.fixture(scope="module")
def masked_samples():
    """The package's real sample photos (3 classes), each with its threshold mask."""
    bunch = load_sample_images()
    paths, y = bunch.paths[::3], bunch.target[::3]
    samples = []
    for path in paths:
        gray = mahotas.colors.rgb2gray(np.asarray(Image.open(path)), dtype=np.uint8)
        samples.append((path, threshold_mask(gray)))
    return samples, y


def test_pairs_travel_through_pipeline_cross_val_and_grid_search(masked_samples, tmp_path):
    samples, y = masked_samples
    X = featurize(samples, aggregate="mean", levels=32)
    plain_scores = cross_val_score(make_pipeline(StandardScaler(),
                                                 LogisticRegression(max_iter=2000)), X, y, cv=3)
    pipe = make_pipeline(HaralickFeaturizer(aggregate="mean", levels=32, memory=tmp_path),
                         StandardScaler(), LogisticRegression(max_iter=2000))
    np.testing.assert_array_equal(cross_val_score(pipe, samples, y, cv=3), plain_scores)
    search = GridSearchCV(pipe, {"haralickfeaturizer__levels": [16, 32]}, cv=3, n_jobs=2)
    search.fit(samples, y)  # worker processes (loky) receive the (path, mask) pairs
    assert search.best_params_["haralickfeaturizer__levels"] in (16, 32)
    scores = dict(zip(search.cv_results_["param_haralickfeaturizer__levels"],
                      search.cv_results_["mean_test_score"]))
    assert scores[32] == pytest.approx(plain_scores.mean())
    np.testing.assert_array_equal(search.best_estimator_[0].transform(samples[:4]),
                                  featurize(samples[:4], aggregate="mean",
                                            levels=search.best_params_[
                                                "haralickfeaturizer__levels"]))


def test_process_workers_featurize_pairs(masked_samples):
    from joblib import parallel_config

    samples, _ = masked_samples
    with parallel_config(backend="loky"):
        rows = featurize(samples[:6], n_jobs=2)
    np.testing.assert_array_equal(rows, featurize(samples[:6]))


def test_masked_features_of_given_matrices_are_those_of_haralick_features():
    """The masked path feeds the same catalogue as the unmasked one."""
    gray = IMAGES["brick"]()
    mask = threshold_mask(gray)
    row = featurize([(gray, mask)])[0]
    np.testing.assert_array_equal(row, haralick_features(cooccurrence(gray, mask=mask)).ravel())


def test_pairs_of_paths_in_a_two_column_array_or_dataframe(tmp_path):
    import pandas as pd
    from sklearn.compose import ColumnTransformer

    paths = load_sample_images().paths[::30]  # three real photographs
    masks = []
    for path in paths:
        gray = mahotas.colors.rgb2gray(np.asarray(Image.open(path)), dtype=np.uint8)
        masks.append(str(tmp_path / (os.path.basename(path) + ".png")))
        Image.fromarray(threshold_mask(gray).astype(np.uint8) * 255).save(masks[-1])
    expected = featurize(list(zip(paths, masks)))
    frame = pd.DataFrame({"image": paths, "mask": masks, "label": ["brick", "grass", "gravel"]})
    containers = {
        "(n, 2) str array": np.array([paths, masks]).T,
        "(n, 2) object array": np.array([paths, masks], dtype=object).T,
        "(n, 2) bytes array": np.array([[os.fsencode(p) for p in paths],
                                        [os.fsencode(m) for m in masks]]).T,
        "two-column DataFrame": frame[["image", "mask"]],
    }
    for name, X in containers.items():
        np.testing.assert_array_equal(featurize(X), expected, err_msg=name)
    selected = ColumnTransformer([("h", HaralickFeaturizer(), ["image", "mask"])])
    np.testing.assert_array_equal(selected.fit_transform(frame), expected)
    # A second column of class labels is not one of masks: said, with the way out.
    with pytest.raises(ValueError, match=r"'image' and 'label' are read as \(image, mask\) "
                                         r"pairs.*'brick'.*X\[\['image'\]\]"):
        featurize(frame[["image", "label"]])
    with pytest.raises(ValueError, match=r"columns \['image', 'mask', 'label'\].*one column "
                                         r"of paths, or two: images and their masks"):
        featurize(frame)


# -- volume files with geometry: the mask must lie on the image's grid ---------------------


def _flip_affine(affine, axis, size):
    """The affine of an array flipped along ``axis`` that keeps every voxel where it was."""
    flip = np.eye(4)
    flip[axis, axis] = -1
    flip[axis, 3] = size - 1
    return affine @ flip


@pytest.fixture
def nifti_volume(tmp_path):
    """A real volume (stacked camera crops) saved as NIfTI with an oblique-free, anisotropic
    affine, and its threshold mask as an array."""
    nibabel = pytest.importorskip("nibabel")
    volume = VOLUMES["camera"]()
    affine = np.diag([0.8, 0.7, 2.5, 1.0])
    affine[:3, 3] = (-12.0, 30.5, 7.25)
    path = tmp_path / "image.nii.gz"
    nibabel.save(nibabel.Nifti1Image(volume, affine), path)
    return str(path), volume, threshold_mask(volume), affine


def _save_nifti(path, array, affine):
    import nibabel

    nibabel.save(nibabel.Nifti1Image(array.astype(np.uint8), affine), path)
    return str(path)


def test_a_mask_on_the_images_grid_is_taken(nifti_volume, tmp_path):
    image, volume, mask, affine = nifti_volume
    same = _save_nifti(tmp_path / "mask.nii.gz", mask, affine)
    rows = featurize([(image, same), (volume, mask)], volume=True)
    np.testing.assert_array_equal(rows[0], rows[1])


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_a_flipped_mask_with_its_flipped_affine_is_aligned(nifti_volume, tmp_path, axis):
    """The same voxels stored in another axis order: reoriented onto the image's grid,
    exactly, so the row is the one of the mask in the image's order."""
    image, volume, mask, affine = nifti_volume
    flipped = np.flip(mask, axis)
    path = _save_nifti(tmp_path / "flipped.nii.gz", flipped,
                       _flip_affine(affine, axis, mask.shape[axis]))
    rows = featurize([(image, path), (volume, mask), (volume, flipped)], volume=True)
    np.testing.assert_array_equal(rows[0], rows[1])
    assert not np.allclose(rows[2], rows[1])  # voxel for voxel it would be another region


def test_a_permuted_mask_is_aligned(nifti_volume, tmp_path):
    image, volume, mask, affine = nifti_volume
    permuted = np.transpose(mask, (2, 0, 1))  # its axes 0, 1, 2 are the image's 2, 0, 1
    path = _save_nifti(tmp_path / "permuted.nii.gz", permuted, affine[:, [2, 0, 1, 3]])
    rows = featurize([(image, path), (volume, mask)], volume=True)
    np.testing.assert_array_equal(rows[0], rows[1])


def _rotation_z(angle):
    rotation = np.eye(4)
    rotation[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    return rotation


@pytest.mark.parametrize("change, message", [
    (lambda a: a + np.diag([0, 0, 0.5, 0]), r"spacing \(0\.8, 0\.7, 2\.5\) against "
                                            r"\(0\.8, 0\.7, 3(\.0)?\)"),
    (lambda a: a + np.pad([[0, 0, 0, 0.35]], ((0, 3), (0, 0))), r"origin \(-12, 30\.5, 7\.25\) "
                                                                 r"against \(-11\.65, 30\.5, "
                                                                 r"7\.25\)"),
    (lambda a: a @ np.diag([1.0, -1.0, 1.0, 1.0]), "orientation RAS against RPS"),
    (lambda a: _rotation_z(0.2) @ a, r"directions \(\(1, 0, 0\), \(0, 1, 0\), \(0, 0, 1\)\) "
                                     r"against \(\(0\.98, 0\.199, 0\), "),
])
def test_a_mask_of_another_geometry_is_refused(nifti_volume, tmp_path, change, message):
    """Same shape, other grid (pyradiomics: "Image/Mask geometry mismatch"): refused, naming
    both files and what differs, never applied voxel for voxel."""
    image, _, mask, affine = nifti_volume
    path = _save_nifti(tmp_path / "other.nii.gz", mask, change(affine))
    with pytest.raises(ValueError, match=r"image\.nii\.gz.*other\.nii\.gz.*" + message):
        featurize([(image, path)], volume=True)


def test_nrrd_geometry_is_compared_in_the_same_space(nifti_volume, tmp_path):
    """An NRRD in LPS space and a NIfTI (RAS) describing the same grid are one geometry."""
    nrrd = pytest.importorskip("nrrd")
    image, volume, mask, affine = nifti_volume
    to_lps = np.diag([-1.0, -1.0, 1.0])
    header = {"space": "left-posterior-superior",
              "space directions": (to_lps @ affine[:3, :3]).T,
              "space origin": to_lps @ affine[:3, 3]}
    same = tmp_path / "mask.nrrd"
    nrrd.write(str(same), mask.astype(np.uint8), header=header)
    shifted = tmp_path / "shifted.nrrd"
    nrrd.write(str(shifted), mask.astype(np.uint8),
               header={**header, "space origin": header["space origin"] + [0, 0, 5.0]})
    rows = featurize([(image, str(same)), (volume, mask)], volume=True)
    np.testing.assert_array_equal(rows[0], rows[1])
    with pytest.raises(ValueError, match=r"shifted\.nrrd.*origin"):
        featurize([(image, str(shifted))], volume=True)
