"""``haralick-learn regions IMAGE LABELS -o table``: the table of ``region_features``, one row
per label, on scikit-image's coins and the connected parts of their threshold."""

import csv
import importlib.util
import os

import numpy as np
import pandas as pd
import pytest
import tifffile
from PIL import Image
from skimage.data import coins
from skimage.filters import threshold_otsu
from skimage.measure import label, regionprops

from haralick_learn import region_features

from conftest import run_cli

SETTINGS = ["--features", "ibsi", "--bin-width", "25", "--aggregate", "mean"]


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    """coins.png (a crop), its coins as a 16-bit PNG of labels and as .npy."""
    folder = tmp_path_factory.mktemp("cells")
    image = coins()[:120, :200]
    labels = label(image > threshold_otsu(image))
    labels[(np.bincount(labels.ravel()) < 200)[labels]] = 0  # drop specks
    assert len(np.unique(labels)) >= 5
    Image.fromarray(image).save(folder / "coins.png")
    Image.fromarray(labels.astype(np.uint16)).save(folder / "labels.png")  # 16-bit PNG
    np.save(folder / "labels.npy", labels.astype(np.int32))
    return folder, image, labels


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


@pytest.mark.parametrize("labels_file", ["labels.png", "labels.npy"])
def test_the_csv_is_region_features_with_regionprops_boxes(capsys, cells, tmp_path, labels_file):
    folder, image, labels = cells
    out = tmp_path / "cells.csv"
    code, stdout, err = run_cli(capsys, "regions", folder / "coins.png", folder / labels_file,
                                "-o", out, *SETTINGS)
    assert code == 0, err
    expected = region_features(image, labels, features="ibsi", bin_width=25, aggregate="mean")
    header, rows = read_csv(out)
    assert header == list(expected.columns)
    assert header[:6] == ["label", "bbox_0_min", "bbox_1_min", "bbox_0_max", "bbox_1_max",
                          "count"]
    written = pd.read_csv(out)
    pd.testing.assert_frame_equal(written, expected, check_dtype=False, rtol=0, atol=0)
    props = regionprops(labels)
    assert [int(row[0]) for row in rows] == [prop.label for prop in props]
    assert [[int(v) for v in row[1:5]] for row in rows] == [list(p.bbox) for p in props]
    assert [int(row[5]) for row in rows] == [prop.num_pixels for prop in props]
    assert f"Wrote {len(props)} regions x 24 features to {out}" in stdout


def test_volume_labels_and_n_jobs(capsys, tmp_path):
    """--volume: LABELS is a volume file; the rows are region_features(volume=True)'s."""
    image = coins()
    volume = np.stack([image[k : k + 40, :60] for k in range(0, 24, 3)])  # 8 x 40 x 60
    blobs = label(volume > threshold_otsu(volume))
    blobs[(np.bincount(blobs.ravel()) < 100)[blobs]] = 0
    tifffile.imwrite(tmp_path / "volume.tif", volume, photometric="minisblack")
    tifffile.imwrite(tmp_path / "blobs.tif", blobs.astype(np.uint16), photometric="minisblack")
    code, _, err = run_cli(capsys, "regions", tmp_path / "volume.tif", tmp_path / "blobs.tif",
                           "--volume", "--n-jobs", "2", "--aggregate", "mean",
                           "-o", tmp_path / "blobs.csv")
    assert code == 0, err
    expected = region_features(volume, blobs, volume=True, aggregate="mean")
    assert list(expected.columns[1:7]) == ["bbox_0_min", "bbox_1_min", "bbox_2_min",
                                           "bbox_0_max", "bbox_1_max", "bbox_2_max"]
    written = pd.read_csv(tmp_path / "blobs.csv")
    pd.testing.assert_frame_equal(written, expected, check_dtype=False, rtol=0, atol=0)


def test_a_one_pixel_region_stops_the_run_or_is_nan(capsys, cells, tmp_path):
    folder, image, labels = cells
    labels = labels.copy()
    labels[0, 0] = 99
    np.save(tmp_path / "speck.npy", labels)
    out = tmp_path / "cells.csv"
    code, _, err = run_cli(capsys, "regions", folder / "coins.png", tmp_path / "speck.npy",
                           "-o", out)
    # the progress of the regions done, then one line that names the region and why
    lines = err.strip().splitlines()
    assert code == 1 and "label 99" in lines[-1]
    assert all(line.startswith("Regions [") for line in lines[:-1])
    assert not out.exists()
    code, _, err = run_cli(capsys, "regions", folder / "coins.png", tmp_path / "speck.npy",
                           "-o", out, "--on-error", "nan")
    assert code == 0 and "1 region without any pixel pair (written as nan): labels 99" in err
    header, rows = read_csv(out)
    assert rows[-1][:6] == ["99", "0", "0", "1", "1", "1"]
    assert all(value == "nan" for value in rows[-1][6:])


def test_errors_are_one_line_and_write_nothing(capsys, cells, tmp_path):
    folder, image, labels = cells
    np.save(tmp_path / "small.npy", labels[:100])
    np.save(tmp_path / "float.npy", labels.astype(np.float64))
    tifffile.imwrite(tmp_path / "float.tif", labels.astype(np.float32))
    Image.fromarray(np.stack([image] * 3, axis=-1)).save(tmp_path / "rgb.png")
    out = tmp_path / "cells.csv"
    cases = [
        ("small.npy", out, "do not match the image's gray shape"),
        ("float.npy", out, "a label image holds integers, got float64"),
        ("float.tif", out, "a label image holds integers, got float32"),
        ("rgb.png", out, "one channel of integers, not mode RGB"),
        ("small.npy", tmp_path / "cells.xlsx", "must end in .csv or .parquet"),
    ]
    for labels_file, output, message in cases:
        code, _, err = run_cli(capsys, "regions", folder / "coins.png", tmp_path / labels_file,
                               "-o", output)
        assert code == 1 and message in err, err
        assert len(err.strip().splitlines()) == 1
        assert not os.path.exists(output)
    assert sorted(os.listdir(tmp_path)) == ["float.npy", "float.tif", "rgb.png", "small.npy"]
    # onto an input, by another name (a link): the labels and the image are left as they were
    links = tmp_path / "links"
    links.mkdir()
    for name in ("labels.npy", "coins.png"):
        before = (folder / name).read_bytes()
        os.symlink(folder / name, links / f"{name}.csv")
        code, _, err = run_cli(capsys, "regions", folder / "coins.png", folder / "labels.npy",
                               "-o", links / f"{name}.csv")
        assert code == 1 and "it is the input image" in err, err
        assert (folder / name).read_bytes() == before

def test_parquet_is_written_or_names_pyarrow(capsys, cells, tmp_path, monkeypatch):
    folder, image, labels = cells
    out = tmp_path / "cells.parquet"
    args = ("regions", folder / "coins.png", folder / "labels.npy", "-o", out, *SETTINGS)
    if importlib.util.find_spec("pyarrow") is not None:
        code, _, err = run_cli(capsys, *args)
        assert code == 0, err
        expected = region_features(image, labels, features="ibsi", bin_width=25,
                                   aggregate="mean")
        pd.testing.assert_frame_equal(pd.read_parquet(out), expected, check_dtype=False)
        monkeypatch.setitem(__import__("sys").modules, "pyarrow", None)  # as if not installed
        out.unlink()
    calls = []
    monkeypatch.setattr("haralick_learn._regions.region_features",
                        lambda *a, **k: calls.append(a))
    code, _, err = run_cli(capsys, *args)
    assert code == 1 and "pip install pyarrow" in err and len(err.strip().splitlines()) == 1
    assert calls == [] and not out.exists()  # checked before any work


def test_a_bilevel_label_image_is_one_region(capsys, cells, tmp_path):
    folder, image, labels = cells
    Image.fromarray(labels > 0).save(tmp_path / "mask.png")  # mode "1"
    out = tmp_path / "one.csv"
    code, _, err = run_cli(capsys, "regions", folder / "coins.png", tmp_path / "mask.png",
                           "-o", out, *SETTINGS)
    assert code == 0, err
    expected = region_features(image, (labels > 0).astype(np.uint8), features="ibsi",
                               bin_width=25, aggregate="mean")
    header, rows = read_csv(out)
    assert len(rows) == 1 and rows[0][0] == "1"
    np.testing.assert_array_equal(np.array(rows[0][6:], float), expected.iloc[0, 6:].to_numpy())


def test_volume_labels_stored_flipped_are_turned_onto_the_images_grid(capsys, tmp_path):
    """A NIfTI label map in another orientation: the labels of each voxel, as for masks."""
    nibabel = pytest.importorskip("nibabel")
    image = coins()[:60, :80]
    volume = np.stack([image[z : z + 40, z : z + 60] for z in range(6)])
    labels = label(volume > threshold_otsu(volume)).astype(np.int16)
    affine = np.diag([0.8, 0.7, 2.5, 1.0])
    nibabel.save(nibabel.Nifti1Image(volume, affine), tmp_path / "scan.nii.gz")
    nibabel.save(nibabel.Nifti1Image(labels, affine), tmp_path / "labels.nii.gz")
    flip = np.eye(4)
    flip[0, 0], flip[0, 3] = -1, volume.shape[0] - 1  # the same voxels, axis 0 stored reversed
    nibabel.save(nibabel.Nifti1Image(labels[::-1].copy(), affine @ flip),
                 tmp_path / "flipped.nii.gz")
    tables = []
    for name in ("labels.nii.gz", "flipped.nii.gz"):
        out = tmp_path / f"{name}.csv"
        code, _, err = run_cli(capsys, "regions", tmp_path / "scan.nii.gz", tmp_path / name,
                               "-o", out, "--volume", "--aggregate", "mean")
        assert code == 0, err
        tables.append(read_csv(out))
    assert tables[0] == tables[1]
    shifted = affine.copy()
    shifted[0, 3] = 5.0  # another origin: another grid, refused
    nibabel.save(nibabel.Nifti1Image(labels, shifted), tmp_path / "elsewhere.nii.gz")
    code, _, err = run_cli(capsys, "regions", tmp_path / "scan.nii.gz",
                           tmp_path / "elsewhere.nii.gz", "-o", tmp_path / "no.csv", "--volume")
    assert code == 1 and "another voxel grid" in err
    assert not (tmp_path / "no.csv").exists()
