"""``haralick-learn featurize --volume`` and ``--masks FOLDER``."""

import csv
import os
import shutil

import mahotas
import numpy as np
import pytest
import tifffile
from PIL import Image

from haralick_learn import HaralickFeaturizer
from haralick_learn.datasets import load_sample_images

from conftest import run_cli

from test_volumes import VOLUMES


cli = run_cli


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], [row[0] for row in rows[1:]], np.array([[float(v) for v in row[1:]]
                                                            for row in rows[1:]])


@pytest.fixture
def photos_and_masks(tmp_path):
    """Three real photos (JPEG) and their threshold masks as PNG, matched by stem."""
    photos, masks = tmp_path / "photos", tmp_path / "masks"
    photos.mkdir()
    masks.mkdir()
    paths = load_sample_images().paths[::30]
    for path in paths:
        shutil.copy(path, photos)
        gray = mahotas.colors.rgb2gray(np.asarray(Image.open(path)), dtype=np.uint8)
        name = os.path.splitext(os.path.basename(path))[0] + ".png"
        Image.fromarray((gray > np.median(gray)).astype(np.uint8) * 255).save(masks / name)
    return photos, masks


def test_masks_folder_matched_by_name(capsys, tmp_path, photos_and_masks):
    photos, masks = photos_and_masks
    out = tmp_path / "features.csv"
    code, _, err = cli(capsys, "featurize", photos, "--masks", masks, "-o", out)
    assert code == 0, err
    header, paths, features = read_csv(out)
    samples = [(p, str(masks / (os.path.splitext(os.path.basename(p))[0] + ".png")))
               for p in paths]
    np.testing.assert_array_equal(features, HaralickFeaturizer().fit_transform(samples))
    assert header[1:] == list(HaralickFeaturizer().get_feature_names_out())


def test_an_image_without_mask_stops_the_run_or_gets_nan(capsys, tmp_path, photos_and_masks):
    photos, masks = photos_and_masks
    lonely = sorted(os.listdir(masks))[0]
    os.remove(masks / lonely)
    out = tmp_path / "features.csv"
    code, _, err = cli(capsys, "featurize", photos, "--masks", masks, "-o", out)
    assert code == 1 and "no mask in" in err and os.path.splitext(lonely)[0] in err
    assert not out.exists()
    code, _, err = cli(capsys, "featurize", photos, "--masks", masks, "-o", out,
                       "--on-error", "nan")
    assert code == 0 and "warning: no mask in" in err
    _, paths, features = read_csv(out)
    missing = [os.path.splitext(os.path.basename(p))[0] == os.path.splitext(lonely)[0]
               for p in paths]
    assert np.isnan(features[missing]).all() and np.isfinite(features[~np.array(missing)]).all()


def test_volume_folder_with_masks(capsys, tmp_path):
    volumes, masks = tmp_path / "volumes", tmp_path / "masks"
    volumes.mkdir()
    masks.mkdir()
    samples = []
    for name in ("camera", "gravel"):
        volume = VOLUMES[name]()
        mask = volume > np.median(volume)
        tifffile.imwrite(volumes / f"{name}.tif", volume)
        tifffile.imwrite(masks / f"{name}.tif", mask.astype(np.uint8))
        samples.append((volume, mask))
    (volumes / "notes.txt").write_text("not a volume")
    out = tmp_path / "features.csv"
    code, _, err = cli(capsys, "featurize", volumes, "--volume", "-o", out)
    assert code == 0, err
    header, paths, features = read_csv(out)
    assert [os.path.basename(p) for p in paths] == ["camera.tif", "gravel.tif"]
    assert len(header) == 1 + 169
    np.testing.assert_array_equal(
        features, HaralickFeaturizer(volume=True).fit_transform([v for v, _ in samples]))
    code, _, err = cli(capsys, "featurize", volumes, "--volume", "--masks", masks, "-o", out)
    assert code == 0, err
    np.testing.assert_array_equal(read_csv(out)[2],
                                  HaralickFeaturizer(volume=True).fit_transform(samples))


def test_missing_masks_folder(capsys, tmp_path, photos_and_masks):
    photos, _ = photos_and_masks
    code, _, err = cli(capsys, "featurize", photos, "--masks", tmp_path / "nowhere",
                       "-o", tmp_path / "f.csv")
    assert code == 1 and "no such directory" in err


def threshold_mask(path, where, *, darker=False):
    """Save the (above or below median) threshold mask of the photograph at ``path`` as PNG."""
    gray = mahotas.colors.rgb2gray(np.asarray(Image.open(path)), dtype=np.uint8)
    inside = gray < np.median(gray) if darker else gray > np.median(gray)
    where.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(inside.astype(np.uint8) * 255).save(where)


@pytest.fixture
def tree_of_photos(tmp_path):
    """Two folders holding different photographs of the same name: x/a.jpg, y/a.jpg."""
    photos = tmp_path / "photos"
    sources = load_sample_images().paths[::45]
    for folder, source in zip("xy", sources):
        (photos / folder).mkdir(parents=True)
        shutil.copy(source, photos / folder / "a.jpg")
    return photos, sources


def test_masks_of_a_tree_are_matched_by_relative_path(capsys, tmp_path, tree_of_photos):
    photos, sources = tree_of_photos
    masks = tmp_path / "masks"
    threshold_mask(sources[0], masks / "x" / "a.png")
    threshold_mask(sources[1], masks / "y" / "a.png", darker=True)
    threshold_mask(sources[1], masks / "a.png")  # a flat mask too: the mirrored ones win
    out = tmp_path / "features.csv"
    for images in (photos, os.path.join(photos, "**", "*.jpg")):
        code, _, err = cli(capsys, "featurize", images, "-r", "--masks", masks, "-o", out)
        assert code == 0, err
        _, paths, features = read_csv(out)
        assert [os.path.relpath(p, photos) for p in paths] == [os.path.join("x", "a.jpg"),
                                                               os.path.join("y", "a.jpg")]
        expected = HaralickFeaturizer().fit_transform(
            [(str(photos / "x" / "a.jpg"), str(masks / "x" / "a.png")),
             (str(photos / "y" / "a.jpg"), str(masks / "y" / "a.png"))])
        np.testing.assert_array_equal(features, expected)


def test_a_flat_mask_for_images_of_the_same_name_is_an_error(capsys, tmp_path, tree_of_photos):
    photos, sources = tree_of_photos
    masks = tmp_path / "masks"
    threshold_mask(sources[0], masks / "a.png")
    out = tmp_path / "features.csv"
    code, _, err = cli(capsys, "featurize", photos, "-r", "--masks", masks, "-o", out)
    assert code == 1 and not out.exists()
    assert "ambiguous" in err and str(masks / "a.png") in err
    assert str(photos / "x" / "a.jpg") in err and str(photos / "y" / "a.jpg") in err


def test_a_flat_mask_folder_serves_a_tree_of_distinct_names(capsys, tmp_path, photos_and_masks):
    photos, masks = photos_and_masks
    names = sorted(os.listdir(photos))
    os.mkdir(photos / "sub")
    os.replace(photos / names[0], photos / "sub" / names[0])
    out = tmp_path / "features.csv"
    code, _, err = cli(capsys, "featurize", photos, "-r", "--masks", masks, "-o", out)
    assert code == 0, err
    _, paths, features = read_csv(out)
    samples = [(p, str(masks / (os.path.splitext(os.path.basename(p))[0] + ".png")))
               for p in paths]
    np.testing.assert_array_equal(features, HaralickFeaturizer().fit_transform(samples))
