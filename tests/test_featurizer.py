"""HaralickFeaturizer against the reference (mahotas) on real photographs."""

import os
import warnings

import mahotas
import numpy as np
import pytest
from PIL import Image
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from haralick_learn import HaralickFeaturizer, ImageFeaturizationWarning
from haralick_learn.datasets import load_sample_images

from conftest import (BACKENDS, MAHOTAS_GRAY, RTOL, exact_reference_row, reference_gray,
                      reference_row)


@pytest.mark.parametrize("backend", BACKENDS)
def test_mahotas_gray_conversion_matches_reference_on_photographs(photo_paths, backend):
    expected = np.vstack([reference_row(p) for p in photo_paths])
    got = HaralickFeaturizer(backend=backend, **MAHOTAS_GRAY).fit_transform(photo_paths)
    assert got.shape == (len(photo_paths), 52)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_default_is_mahotas_features_of_the_exact_gray_image(photo_paths, backend):
    expected = np.vstack([exact_reference_row(p) for p in photo_paths])
    got = HaralickFeaturizer(backend=backend).fit_transform(photo_paths)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0)


@pytest.mark.parametrize(
    "params, reference_options",
    [
        ({"ignore_zeros": True}, {"ignore_zeros": True}),
        ({"compute_14th_feature": True}, {"compute_14th_feature": True}),
        ({"use_x_minus_y_variance": True}, {"use_x_minus_y_variance": True}),
        ({"aggregate": "mean"}, {"return_mean": True}),
        ({"aggregate": "mean_ptp"}, {"return_mean_ptp": True}),
        ({"distance": 3}, {"distance": 3}),
    ],
    ids=lambda v: str(v),
)
@pytest.mark.parametrize("backend", BACKENDS)
def test_options_match_reference(jpeg_paths, params, reference_options, backend):
    expected = np.vstack([reference_row(p, **reference_options) for p in jpeg_paths])
    got = HaralickFeaturizer(backend=backend, **MAHOTAS_GRAY, **params).fit_transform(jpeg_paths)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0)


def test_distance_list_concatenates_blocks(jpeg_paths):
    got = HaralickFeaturizer(distance=[1, 2, 4], **MAHOTAS_GRAY).fit_transform(jpeg_paths)
    expected = np.vstack(
        [np.concatenate([reference_row(p, distance=d) for d in (1, 2, 4)]) for p in jpeg_paths]
    )
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0)
    names = HaralickFeaturizer(distance=[1, 2, 4]).get_feature_names_out()
    assert len(names) == got.shape[1] == 156
    assert len(set(names)) == len(names)


def test_mahotas_gray_conversion_is_bit_identical(photo_paths):
    from haralick_learn.io.decode import load_image

    for path in photo_paths:
        assert np.array_equal(load_image(path, gray_conversion="mahotas"),
                              reference_gray(path)), path


def test_path_pil_and_array_give_the_same_row(jpeg_paths):
    path = jpeg_paths[0]
    rgb = np.asarray(Image.open(path))
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    with Image.open(path) as pil:
        rows = HaralickFeaturizer(**MAHOTAS_GRAY).fit_transform(
            [path, rgb, pil, rgba, reference_gray(path)])
    for row in rows[1:]:
        np.testing.assert_array_equal(row, rows[0])


def test_pathlike_and_numpy_array_of_paths(jpeg_paths):
    from pathlib import Path

    as_str = HaralickFeaturizer().fit_transform(jpeg_paths)
    as_path = HaralickFeaturizer().fit_transform([Path(p) for p in jpeg_paths])
    as_array = HaralickFeaturizer().fit_transform(np.array(jpeg_paths, dtype=object))
    np.testing.assert_array_equal(as_path, as_str)
    np.testing.assert_array_equal(as_array, as_str)


def test_flattened_rows_with_image_shape(jpeg_paths):
    grays = [reference_gray(p)[:100, :120] for p in jpeg_paths]
    X = np.vstack([g.ravel() for g in grays])
    got = HaralickFeaturizer(image_shape=(100, 120)).fit_transform(X)
    expected = np.vstack([mahotas.features.haralick(g).ravel() for g in grays])
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0)
    with pytest.raises(ValueError, match=r"image_shape=\(10, 10\) holds 100 pixels.*12000 columns"):
        HaralickFeaturizer(image_shape=(10, 10)).fit(X)


def test_stack_of_gray_images(jpeg_paths):
    stack = np.stack([reference_gray(p)[:64, :64] for p in jpeg_paths])
    got = HaralickFeaturizer().fit_transform(stack)
    expected = np.vstack([mahotas.features.haralick(g).ravel() for g in stack])
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0)


def test_one_pixel_high_strips_have_nan_for_empty_directions():
    rng = np.random.default_rng(1)
    X = rng.integers(0, 8, size=(4, 50)).astype(np.uint8)
    with pytest.warns(UserWarning, match="one pixel high"):
        rows = HaralickFeaturizer().fit_transform(X).reshape(4, 4, 13)
    assert np.isfinite(rows[:, 0]).all()  # horizontal pairs exist
    assert np.isnan(rows[:, 1:]).all()  # no diagonal or vertical pair in one row
    with pytest.warns(UserWarning, match="one pixel high"):
        mean = HaralickFeaturizer(aggregate="mean").fit_transform(X)
    np.testing.assert_allclose(mean, rows[:, 0], rtol=RTOL)


def test_one_gray_image_as_X_is_told_to_wrap_it_in_a_list(jpeg_paths):
    gray = reference_gray(jpeg_paths[0])  # (427, 640): one image, not 427 images
    with pytest.warns(UserWarning, match=r"wrap it in a list \(\[X\]\).*image_shape"):
        rows = HaralickFeaturizer().fit_transform(gray)
    assert rows.shape == (427, 52)
    wrapped = HaralickFeaturizer().fit_transform([gray])
    np.testing.assert_allclose(wrapped[0], mahotas.features.haralick(gray).ravel(), rtol=RTOL)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # with image_shape: no warning
        HaralickFeaturizer(image_shape=gray.shape).fit_transform(gray.reshape(1, -1))


def test_one_colour_image_as_X_is_told_to_wrap_it_in_a_list(jpeg_paths):
    from PIL import Image as PILImage

    with PILImage.open(jpeg_paths[0]) as im:
        rgb = np.asarray(im.convert("RGB"))[:64, :80]  # one colour image, not 64 strips
    with pytest.warns(UserWarning, match=r"shape \(64, 80, 3\).*wrap it in a list \(\[X\]\)"):
        rows = HaralickFeaturizer().fit_transform(rgb)
    assert rows.shape == (64, 52)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as a list: the image, and no warning
        row = HaralickFeaturizer().fit_transform([rgb])
        stack = HaralickFeaturizer().fit_transform(np.stack([rgb[:, :, 0], rgb[:, :, 1]]))
    assert row.shape == (1, 52) and stack.shape == (2, 52)


def test_paths_in_every_container_a_user_hands_over(jpeg_paths):
    import pandas as pd
    from sklearn.compose import ColumnTransformer

    expected = HaralickFeaturizer().fit_transform(jpeg_paths)
    frame = pd.DataFrame({"image": jpeg_paths, "label": ["a", "b"]})
    containers = {
        "numpy str array": np.array(jpeg_paths),
        "numpy bytes array": np.array([os.fsencode(p) for p in jpeg_paths]),
        "bytes": [os.fsencode(p) for p in jpeg_paths],
        "one-column 2-D array": np.array(jpeg_paths)[:, None],
        "Series": frame["image"],
        "one-column DataFrame": frame[["image"]],
    }
    for name, X in containers.items():
        np.testing.assert_array_equal(HaralickFeaturizer().fit_transform(X), expected, err_msg=name)
    selected = ColumnTransformer([("h", HaralickFeaturizer(), ["image"])]).fit_transform(frame)
    np.testing.assert_array_equal(selected, expected)
    with pytest.raises(ValueError, match=r"columns 'image' and 'label' are read as \(image, "
                                         r"mask\) pairs.*X\[\['image'\]\]"):
        HaralickFeaturizer().fit_transform(frame)


@pytest.mark.parametrize("backend", ["loky", "threading", "multiprocessing"])
def test_every_joblib_backend_gives_the_same_rows_in_order(jpeg_paths, backend):
    from joblib import parallel_config

    images = [reference_gray(p)[:120, :160] for p in jpeg_paths] * 2
    expected = HaralickFeaturizer().fit_transform(images)
    with parallel_config(backend=backend, n_jobs=2):
        got = HaralickFeaturizer(n_jobs=2).fit_transform(images)
    np.testing.assert_array_equal(got, expected)


def test_pipeline_cross_val_score_equals_hand_written_loop():
    """The tutorial's loop and the library's Pipeline on paths give the same scores."""
    paths, labels = load_sample_images(return_X_y=True)
    features = np.array([reference_row(p) for p in paths])
    tutorial_labels = np.array([os.path.basename(p)[: -len("00.jpg")] for p in paths])
    np.testing.assert_array_equal(labels, tutorial_labels)

    def classifier():
        return Pipeline([("preproc", StandardScaler()), ("classifier", LogisticRegression())])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        expected = cross_val_score(classifier(), features, tutorial_labels)
        pipeline = Pipeline([("feat", HaralickFeaturizer(**MAHOTAS_GRAY))] + classifier().steps)
        got = cross_val_score(pipeline, paths, labels)
    np.testing.assert_array_equal(got, expected)
    assert got.mean() > 0.8  # the sample classes are learnable


def test_set_output_pandas(jpeg_paths):
    pd = pytest.importorskip("pandas")
    out = HaralickFeaturizer(aggregate="mean").set_output(transform="pandas").fit_transform(
        jpeg_paths
    )
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns)[:2] == ["angular_second_moment_mean_d1", "contrast_mean_d1"]


def test_feature_names_are_unique_and_readable():
    names = HaralickFeaturizer(compute_14th_feature=True,
                               aggregate="mean_ptp").get_feature_names_out()
    assert len(names) == 28 and len(set(names)) == 28
    assert names[0] == "angular_second_moment_mean_d1"
    assert names[-1] == "maximal_correlation_coefficient_ptp_d1"
    default = HaralickFeaturizer().get_feature_names_out()
    assert default[13] == "angular_second_moment_diagonal_nwse_d1"


def test_input_features_are_checked_against_what_fit_saw(jpeg_paths):
    # scikit-learn's rule for get_feature_names_out(input_features), on flattened images
    # (the input that has columns); the output names never depend on them.
    pd = pytest.importorskip("pandas")
    grays = [reference_gray(p)[:8, :8].ravel() for p in jpeg_paths]
    columns = [f"pixel_{i}" for i in range(64)]
    names = HaralickFeaturizer().get_feature_names_out()
    fitted = HaralickFeaturizer(image_shape=(8, 8)).fit(pd.DataFrame(grays, columns=columns))
    np.testing.assert_array_equal(fitted.get_feature_names_out(columns), names)
    with pytest.raises(ValueError, match="input_features is not equal to feature_names_in_"):
        fitted.get_feature_names_out(columns[::-1])
    flat = HaralickFeaturizer(image_shape=(8, 8)).fit(np.vstack(grays))
    np.testing.assert_array_equal(flat.get_feature_names_out(columns), names)
    with pytest.raises(ValueError, match=r"length equal to number of features \(64\), got 3"):
        flat.get_feature_names_out(["a", "b", "c"])


def test_n_jobs_gives_identical_rows_in_order(photo_paths):
    paths = photo_paths * 2
    serial = HaralickFeaturizer(n_jobs=1).fit_transform(paths)
    parallel = HaralickFeaturizer(n_jobs=2).fit_transform(paths)
    np.testing.assert_array_equal(parallel, serial)


@pytest.mark.parametrize("params", [{"compute_14th_feature": True},
                                    {"features": ["contrast", "ibsi_MCC"]},
                                    {"backend": "mahotas"}])
def test_rows_do_not_depend_on_n_jobs_or_blas_threads(params):
    """Rows are the same with one worker as with several, whatever the BLAS threads the
    process happens to have: the MCC columns (eigenvalues) because no BLAS computes them,
    mahotas's own functions (dot products through the BLAS) because they run on one BLAS
    thread."""
    from threadpoolctl import threadpool_limits

    paths = load_sample_images().paths[::23]
    parallel = HaralickFeaturizer(n_jobs=2, **params).fit_transform(paths)
    with threadpool_limits(limits=2, user_api="blas"):  # the suite itself runs on one
        serial = HaralickFeaturizer(n_jobs=1, **params).fit_transform(paths)
    np.testing.assert_array_equal(serial, parallel)


# -- bad input -------------------------------------------------------------


def test_missing_path_names_it(tmp_path):
    missing = str(tmp_path / "nope.jpg")
    with pytest.raises(FileNotFoundError, match="nope.jpg"):
        HaralickFeaturizer().fit_transform([missing])


def test_non_image_file_is_value_error_naming_it(tmp_path):
    fake = tmp_path / "notes.jpg"
    fake.write_text("this is not a JPEG")
    with pytest.raises(ValueError, match="notes.jpg.*not an image"):
        HaralickFeaturizer().fit_transform([str(fake)])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_array_is_value_error_naming_the_sample(bad):
    image = np.ones((8, 8))
    image[3, 4] = bad
    good = np.arange(64, dtype=float).reshape(8, 8)
    with pytest.raises(ValueError, match="sample 1.*NaN or infinity"):
        HaralickFeaturizer().fit_transform([good, image])


def test_on_error_nan_keeps_the_batch(jpeg_paths, tmp_path):
    fake = tmp_path / "broken.jpg"
    fake.write_bytes(b"\xff\xd8 truncated")
    batch = [jpeg_paths[0], str(fake), jpeg_paths[1], str(tmp_path / "missing.png")]
    with pytest.warns(ImageFeaturizationWarning, match="2 of 4 images") as record:
        rows = HaralickFeaturizer(on_error="nan").fit_transform(batch)
    failures = record[0].message.failures
    assert [index for index, _ in failures] == [1, 3]
    assert "broken.jpg" in failures[0][1] and "missing.png" in failures[1][1]
    assert np.isnan(rows[[1, 3]]).all()
    np.testing.assert_array_equal(rows[[0, 2]], HaralickFeaturizer().fit_transform(jpeg_paths))


def test_single_path_is_rejected_with_a_hint(jpeg_paths):
    with pytest.raises(TypeError, match="wrap it in a list"):
        HaralickFeaturizer().fit_transform(jpeg_paths[0])


@pytest.mark.parametrize(
    "params, message",
    [
        ({"distance": [1, 1]}, "duplicates"),
        ({"distance": [0]}, "positive"),
        ({"image_shape": (0, 3)}, "image_shape"),
    ],
)
def test_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        HaralickFeaturizer(**params).fit_transform([np.eye(4)])
