"""FilenameLabelExtractor on the shipped sample paths and on tricky names."""

import os

import numpy as np
import pytest

from haralick_learn import FilenameLabelExtractor
from haralick_learn.datasets import load_sample_images


@pytest.mark.parametrize(
    "path, label",
    [
        ("building07.jpg", "building"),
        ("photos/cat_001.png", "cat"),
        ("a/b/dog-12.jpeg", "dog"),
        (r"C:\Users\me\photos\tree 3.JPG", "tree"),
        ("v2_cat.jpg", "v2_cat"),
        ("sky.tar.gz", "sky.tar"),
        ("noindex.jpg", "noindex"),
    ],
)
def test_default_rule(path, label):
    assert FilenameLabelExtractor().fit_transform([path]).tolist() == [label]


def test_sample_images_labels_in_order():
    data = load_sample_images()
    labels = FilenameLabelExtractor().fit_transform(data.paths)
    np.testing.assert_array_equal(labels, data.target)
    assert labels.shape == (90,)


def test_parent_source_with_windows_and_posix_paths():
    paths = ["train/dog/001.jpg", r"D:\train\cat\002.jpg"]
    assert FilenameLabelExtractor(source="parent").fit_transform(paths).tolist() == ["dog", "cat"]


def test_pattern_group_named_group_and_whole_match():
    paths = ["scan_lung_0001.tif", "scan_liver_0002.tif"]
    assert FilenameLabelExtractor(pattern=r"scan_([a-z]+)_").fit_transform(paths).tolist() == [
        "lung",
        "liver",
    ]
    named = FilenameLabelExtractor(pattern=r"(?P<prefix>scan)_(?P<label>[a-z]+)")
    assert named.fit_transform(paths).tolist() == ["lung", "liver"]
    assert FilenameLabelExtractor(pattern=r"l[a-z]+").fit_transform(paths).tolist() == [
        "lung",
        "liver",
    ]


def test_empty_label_is_value_error_naming_the_path():
    with pytest.raises(ValueError, match=r"'photos/0042.jpg'.*empty"):
        FilenameLabelExtractor().fit_transform(["ok1.jpg", "photos/0042.jpg"])


def test_pattern_without_match_names_the_path():
    with pytest.raises(ValueError, match=r"'x/other.jpg'.*does not match"):
        FilenameLabelExtractor(pattern=r"scan_(\w+)").fit_transform(["x/other.jpg"])


def test_invalid_regex_and_non_path_input():
    with pytest.raises(ValueError, match="not a valid regex"):
        FilenameLabelExtractor(pattern="(").fit(["a.jpg"])
    with pytest.raises(TypeError, match="sample 1: expected a path"):
        FilenameLabelExtractor().fit_transform(["a1.jpg", 3])
    with pytest.raises(TypeError, match="single path"):
        FilenameLabelExtractor().fit_transform("a1.jpg")


# -- the shapes X comes in: DataFrame, Series, numpy arrays, bytes -----------


def test_one_column_dataframe_and_series_give_one_label_per_row():
    pd = pytest.importorskip("pandas")
    data = load_sample_images()
    # A shuffled, non-default index: the labels follow the rows' order, not the index.
    order = np.random.default_rng(0).permutation(len(data.paths))
    paths = [data.paths[i] for i in order]
    expected = data.target[order]
    frame = pd.DataFrame({"image": paths}, index=order)
    for X in (frame, frame["image"], frame.astype({"image": "string"})):
        labels = FilenameLabelExtractor().fit(X).transform(X)
        np.testing.assert_array_equal(labels, expected)
        np.testing.assert_array_equal(FilenameLabelExtractor().fit_transform(X), expected)


def test_dataframe_with_several_columns_is_a_value_error_naming_them():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"image": ["cat_1.jpg", "dog_2.jpg"], "split": ["train", "test"]})
    for method in ("fit", "fit_transform"):
        with pytest.raises(ValueError, match=r"2 columns \['image', 'split'\].*one column"):
            getattr(FilenameLabelExtractor(), method)(frame)
    with pytest.raises(ValueError, match="no column"):
        FilenameLabelExtractor().fit_transform(pd.DataFrame(index=[0, 1]))


@pytest.mark.parametrize("dtype", [str, object])
def test_numpy_string_arrays_one_dimensional_or_one_column(dtype):
    data = load_sample_images()
    paths = np.asarray(data.paths, dtype=dtype)
    assert paths.dtype.kind == ("U" if dtype is str else "O")
    np.testing.assert_array_equal(FilenameLabelExtractor().fit_transform(paths), data.target)
    column = paths.reshape(-1, 1)
    np.testing.assert_array_equal(FilenameLabelExtractor().fit_transform(column), data.target)
    with pytest.raises(ValueError, match=r"shape \(45, 2\).*one column"):
        FilenameLabelExtractor().fit_transform(paths.reshape(-1, 2))
    with pytest.raises(TypeError, match="single path"):
        FilenameLabelExtractor().fit_transform(np.asarray(data.paths[0], dtype=dtype))


def test_bytes_paths_give_the_same_labels_as_str_paths():
    data = load_sample_images()
    as_bytes = [os.fsencode(path) for path in data.paths]
    np.testing.assert_array_equal(FilenameLabelExtractor().fit_transform(as_bytes), data.target)
    np.testing.assert_array_equal(
        FilenameLabelExtractor().fit_transform(np.asarray(as_bytes)), data.target
    )
    labels = FilenameLabelExtractor(source="parent").fit_transform([b"train/dog/1.jpg"])
    assert labels.tolist() == ["dog"]
    with pytest.raises(TypeError, match="single path"):
        FilenameLabelExtractor().fit_transform(b"cat_1.jpg")
