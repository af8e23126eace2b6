"""Tests for haralick_learn.datasets.load_sample_images and its shipped data."""

import os
import re
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from haralick_learn.datasets import load_sample_images

CLASSES = ["brick", "grass", "gravel"]
MAX_TOTAL_BYTES = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def data():
    return load_sample_images()


def test_ninety_images_thirty_per_class(data):
    assert len(data.paths) == 90
    assert len(data.target) == 90
    assert Counter(data.target.tolist()) == {name: 30 for name in CLASSES}


def test_target_names_are_sorted_unique_classes(data):
    assert data.target_names.tolist() == CLASSES


def test_paths_are_sorted_absolute_and_exist(data):
    assert all(isinstance(path, str) for path in data.paths)
    assert data.paths == sorted(data.paths)
    assert all(os.path.isabs(path) and os.path.isfile(path) for path in data.paths)


def test_file_names_follow_class_and_two_digit_number(data):
    names = sorted(os.path.basename(path) for path in data.paths)
    expected = sorted(f"{name}{i:02d}.jpg" for name in CLASSES for i in range(30))
    assert names == expected


def test_labels_match_file_names(data):
    for path, label in zip(data.paths, data.target):
        stem = os.path.splitext(os.path.basename(path))[0]
        assert re.fullmatch(rf"{label}\d\d", stem), (path, label)


def test_every_image_is_an_rgb_jpeg(data):
    for path in data.paths:
        with Image.open(path) as image:
            assert image.format == "JPEG", path
            assert image.mode == "RGB", path
            assert 128 <= min(image.size) and max(image.size) <= 200, path
            image.load()


def test_total_size_at_most_2_mb(data):
    assert sum(os.path.getsize(path) for path in data.paths) <= MAX_TOTAL_BYTES


def test_descr_is_the_readme_with_provenance(data):
    assert isinstance(data.DESCR, str)
    assert "CC0" in data.DESCR
    assert "skimage.data.brick()" in data.DESCR


def test_return_X_y_matches_bunch(data):
    paths, target = load_sample_images(return_X_y=True)
    assert paths == data.paths
    assert isinstance(target, np.ndarray)
    np.testing.assert_array_equal(target, data.target)


def test_generator_reproduces_shipped_images(data, tmp_path):
    # The committed JPEGs must be what the generator makes; compare pixels, not
    # bytes, so another libjpeg build does not fail the test over rounding.
    pytest.importorskip("skimage")
    from haralick_learn.datasets._make_sample_images import make_sample_images

    make_sample_images(tmp_path)
    for path in data.paths:
        with Image.open(path) as shipped, Image.open(tmp_path / os.path.basename(path)) as fresh:
            assert shipped.size == fresh.size, path
            difference = np.abs(np.asarray(shipped, int) - np.asarray(fresh, int))
            assert difference.max() <= 2, path
