"""``haralick-learn regions IMAGE LABELS -o table``: the table of ``region_features``, one row
per label, on scikit-image's coins and the connected parts of their threshold."""

import csv
import importlib.util
import os
import pickle

import numpy as np
import pandas as pd
import pytest
import tifffile
from PIL import Image
from skimage.data import coins
from skimage.filters import threshold_otsu
from skimage.measure import label, regionprops

from haralick_learn import region_features
from haralick_learn._region_tiles import RegionTiles
from haralick_learn._settings import TextureSettings

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
    # the progress of the survey and of the regions done, then one line that names the
    # region and why; nothing written, nothing kept to resume (it would stop there again)
    lines = err.strip().splitlines()
    assert code == 1 and "label 99" in lines[-1]
    assert all(line.startswith(("Survey [", "Regions [")) for line in lines[:-1])
    assert sorted(os.listdir(tmp_path)) == ["speck.npy"]
    code, _, err = run_cli(capsys, "regions", folder / "coins.png", tmp_path / "speck.npy",
                           "-o", out, "--on-error", "nan")
    assert code == 0 and "1 region without any pixel pair (written as nan): labels 99" in err
    header, rows = read_csv(out)
    assert rows[-1][:6] == ["99", "0", "0", "1", "1", "1"]
    assert all(value == "nan" for value in rows[-1][6:])


def test_errors_are_one_line_and_write_nothing(capsys, cells, tmp_path, monkeypatch):
    folder, image, labels = cells
    np.save(tmp_path / "small.npy", labels[:100])
    np.save(tmp_path / "float.npy", labels.astype(np.float64))
    tifffile.imwrite(tmp_path / "float.tif", labels.astype(np.float32))
    Image.fromarray(np.stack([image] * 3, axis=-1)).save(tmp_path / "rgb.png")
    (tmp_path / "pickled.npy").write_bytes(pickle.dumps(labels))
    (tmp_path / "empty.npy").write_bytes(b"")
    (tmp_path / "damaged.tif").write_bytes(b"not a TIFF")
    out = tmp_path / "cells.csv"
    cases = [
        ("small.npy", out, "do not match the image's gray shape"),
        ("float.npy", out, "a label image holds integers, got float64"),
        ("float.tif", out, "a label image holds integers, got float32"),
        ("rgb.png", out, "one channel of integers, not mode RGB"),
        # refused, and no advice to load it unsafely (numpy's own message gives some)
        ("pickled.npy", out, "not a NumPy .npy file (a pickle is refused: loading one can "
                             "run code)"),
        ("empty.npy", out, "not a NumPy .npy file"),
        ("damaged.tif", out, "cannot read labels '{}'".format(tmp_path / "damaged.tif")),
        ("small.npy", tmp_path / "cells.xlsx", "must end in .csv or .parquet"),
    ]
    for labels_file, output, message in cases:
        code, _, err = run_cli(capsys, "regions", folder / "coins.png", tmp_path / labels_file,
                               "-o", output)
        assert code == 1 and message in err, err
        assert len(err.strip().splitlines()) == 1
        assert not os.path.exists(output)
    # a setting that fails every region alike: refused, not a table of NaN rows
    code, _, err = run_cli(capsys, "regions", folder / "coins.png", folder / "labels.npy",
                           "-o", out, "--backend", "mahotas", "--on-error", "nan")
    assert code == 1 and "backend='mahotas' has none" in err, err
    # '-' is not standard output here (a run resumes from files beside its output), nor a file
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "regions", folder / "coins.png", folder / "labels.npy",
                           "-o", "-")
    assert code == 1 and "cannot write '-'" in err and "OUT.csv or OUT.parquet" in err, err
    assert sorted(os.listdir(tmp_path)) == ["damaged.tif", "empty.npy", "float.npy", "float.tif",
                                            "pickled.npy", "rgb.png", "small.npy"]
    # onto an input, by another name (a link): the labels and the image are left as they were
    links = tmp_path / "links"
    links.mkdir()
    for name in ("labels.npy", "coins.png"):
        before = (folder / name).read_bytes()
        os.symlink(folder / name, links / f"{name}.csv")
        code, _, err = run_cli(capsys, "regions", folder / "coins.png", folder / "labels.npy",
                               "-o", links / f"{name}.csv")
        assert code == 1 and "it is the input " in err and name in err, err
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


def test_big_endian_npy_labels_give_the_table(capsys, cells, tmp_path):
    """A .npy of big-endian labels (saved on such a machine): the table of their values."""
    pytest.importorskip("pyarrow")
    folder, image, labels = cells
    np.save(tmp_path / "big-endian.npy", labels.astype(">i4"))
    out = tmp_path / "cells.parquet"
    code, _, err = run_cli(capsys, "regions", folder / "coins.png", tmp_path / "big-endian.npy",
                           "-o", out)
    assert code == 0, err
    pd.testing.assert_frame_equal(pd.read_parquet(out),
                                  region_features(image, labels.astype(np.int32)),
                                  check_exact=True)


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


# -- inputs read tile by tile, and runs that resume ----------------------------------------


def write_zarr(path, array, chunks):
    zarr = pytest.importorskip("zarr")
    stored = zarr.open_array(str(path), mode="w", shape=array.shape, chunks=chunks,
                             dtype=array.dtype)
    stored[...] = array
    return path


@pytest.fixture
def slide(tmp_path):
    """coins as an OME-TIFF in 64 x 64 tiles and its coins as a Zarr store of 48 x 80 chunks."""
    image = coins()
    labels = label(image > threshold_otsu(image)).astype(np.uint32)
    labels[(np.bincount(labels.ravel()) < 20)[labels]] = 0
    tifffile.imwrite(tmp_path / "coins.ome.tif", image, tile=(64, 64), ome=True,
                     metadata={"axes": "YX"})
    write_zarr(tmp_path / "coins.zarr", labels, (48, 80))
    return tmp_path / "coins.ome.tif", tmp_path / "coins.zarr", image, labels


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_zarr_and_ome_tiff_inputs_give_the_in_memory_table(capsys, slide, tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    image_file, labels_store, image, labels = slide
    out = tmp_path / f"cells{suffix}"
    code, stdout, err = run_cli(capsys, "regions", image_file, labels_store, "-o", out,
                                "--tile-shape", "64", *SETTINGS)
    assert code == 0, err
    expected = region_features(image, labels, features="ibsi", bin_width=25, aggregate="mean")
    written = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    pd.testing.assert_frame_equal(written, expected, check_dtype=suffix == ".parquet",
                                  check_exact=True)
    assert "Survey [" in err and "tiles" in err and "Regions [" in err
    assert f"Wrote {len(expected)} regions x 24 features" in stdout
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        ["coins.ome.tif", "coins.zarr", out.name])  # the work directory is gone


class Interrupt:
    """``region_rows`` that counts its batches and, once, stops the run at one (Ctrl-C)."""

    def __init__(self, monkeypatch, at=None):
        from haralick_learn import _region_tiles

        self.rows, self.at, self.calls = _region_tiles.region_rows, at, []
        monkeypatch.setattr(_region_tiles, "region_rows", self)

    @property
    def batches(self):
        return len(self.calls)

    def __call__(self, *args):
        self.calls.append(1)  # in any thread
        if self.batches == self.at:
            raise KeyboardInterrupt
        return self.rows(*args)


def work_directories(folder):
    return sorted(path for path in folder.iterdir() if path.name.endswith(".regions"))


@pytest.mark.parametrize("suffix, batch_regions", [(".csv", None), (".parquet", None),
                                                  (".csv", 1)])
def test_an_interrupted_run_resumes_where_it_stopped(capsys, slide, tmp_path, monkeypatch,
                                                     suffix, batch_regions):
    """Also with a batch per region: a tile read for its batches is then partly done when
    interrupted, and the rerun reads it for the batches left; and the rows synced (and their
    file mapped afresh) after every batch."""
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    if batch_regions is not None:
        from haralick_learn import _region_runs, _region_tiles

        monkeypatch.setattr(_region_tiles, "BATCH_REGIONS", batch_regions)
        monkeypatch.setattr(_region_runs, "_SYNC_SECONDS", -1.0)
    image_file, labels_store, image, labels = slide
    args = ["regions", image_file, labels_store, "--tile-shape", "64", "--aggregate", "mean"]
    whole = tmp_path / f"whole{suffix}"
    counter = Interrupt(monkeypatch)
    assert run_cli(capsys, *args, "-o", whole)[0] == 0
    n_batches = counter.batches
    assert n_batches >= 8

    out = tmp_path / f"cells{suffix}"
    interrupt = Interrupt(monkeypatch, at=4)
    code, _, err = run_cli(capsys, *args, "-o", out)
    assert code == 130 and "interrupted" in err
    assert not out.exists()  # nothing that looks complete...
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(f".{out.name}.")
                and not path.name.endswith(".regions")]
    (work,) = work_directories(tmp_path)  # ...but the finished batches, hidden beside it
    assert (work / "done").read_text().split() == ["0", "1", "2"]
    assert interrupt.batches == 4

    rerun = Interrupt(monkeypatch)  # n_jobs is not part of the key: any resumes
    code, stdout, err = run_cli(capsys, *args, "-o", out, "--n-jobs", "2")
    assert code == 0, err
    assert rerun.batches == n_batches - 3  # only the batches not finished
    assert f"3 of {n_batches} batches" in err and "already computed" in err
    assert out.read_bytes() == whole.read_bytes()
    read = pd.read_csv if suffix == ".csv" else pd.read_parquet
    pd.testing.assert_frame_equal(read(out), read(whole), check_exact=True)
    pd.testing.assert_frame_equal(read(out), region_features(image, labels, aggregate="mean"),
                                  check_dtype=suffix == ".parquet", check_exact=True)
    assert work_directories(tmp_path) == []


def test_changed_settings_or_inputs_start_afresh(capsys, slide, tmp_path, monkeypatch):
    """The work directory is keyed by the inputs and settings: another setting, or a label
    store changed since, computes every batch; the other run's directory is named."""
    image_file, labels_store, image, labels = slide
    args = ["regions", image_file, labels_store, "--tile-shape", "64", "-o", tmp_path / "t.csv"]
    Interrupt(monkeypatch, at=3)
    assert run_cli(capsys, *args, "--levels", "32")[0] == 130
    (stale,) = work_directories(tmp_path)
    counter = Interrupt(monkeypatch)
    code, _, err = run_cli(capsys, *args, "--levels", "16")
    assert code == 0, err
    n_batches = counter.batches
    assert "already computed" not in err and f"unfinished runs of other inputs or settings " \
        f"beside the output (remove them unless you will resume them): {stale}" in err
    assert work_directories(tmp_path) == [stale]
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "t.csv"),
                                  region_features(image, labels, levels=16), check_dtype=False,
                                  check_exact=True)
    # the interrupted run's labels change (one coin removed): its batches are not taken
    changed = labels.copy()
    changed[changed == changed.max()] = 0
    write_zarr(labels_store, changed, (48, 80))
    counter = Interrupt(monkeypatch)
    assert run_cli(capsys, *args, "--levels", "32")[0] == 0
    tiles = RegionTiles(str(image_file), str(labels_store), TextureSettings.from_params(),
                        tile_shape=64)
    assert counter.batches == len(tiles.batches(tiles.survey())) >= n_batches - 1  # all
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "t.csv"),
                                  region_features(image, changed, levels=32), check_dtype=False,
                                  check_exact=True)


@pytest.mark.slow
def test_ctrl_c_in_a_real_process_keeps_the_finished_batches(capsys, tmp_path):
    """A real run in its own process, stopped by SIGINT once some batches are finished: exit
    130, no output, and a rerun computes only the remaining batches to the uninterrupted
    table."""
    import signal
    import subprocess
    import sys
    import threading

    import haralick_learn

    image = np.tile(coins(), (3, 4))  # 909 x 1536, about 300 coins
    labels = label(image > threshold_otsu(image)).astype(np.uint32)
    labels[(np.bincount(labels.ravel()) < 20)[labels]] = 0
    tifffile.imwrite(tmp_path / "coins.ome.tif", image, tile=(64, 64), ome=True,
                     metadata={"axes": "YX"})
    write_zarr(tmp_path / "coins.zarr", labels, (64, 64))
    args = ["regions", "coins.ome.tif", "coins.zarr", "-o", "cells.csv", "--tile-shape", "64",
            "--distance", "1", "2", "3", "4", "5"]
    package_parent = os.path.dirname(os.path.dirname(haralick_learn.__file__))
    process = subprocess.Popen([sys.executable, "-m", "haralick_learn.cli", *args],
                               cwd=tmp_path, env=dict(os.environ, PYTHONPATH=package_parent),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(120, process.kill)  # a silent run fails, not hangs
    watchdog.start()
    try:
        # stopped by Ctrl-C's signal once the progress bar shows a quarter of the regions done
        line = process.stderr.readline()
        while line and not line.startswith("Regions ["):
            line = process.stderr.readline()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        watchdog.cancel()
        process.kill()
    assert process.returncode == 130, err
    assert not (tmp_path / "cells.csv").exists()
    (work,) = work_directories(tmp_path)
    finished = len((work / "done").read_text().split())
    assert finished >= 1

    from haralick_learn import _region_tiles

    counted = []
    rows = _region_tiles.region_rows
    _region_tiles.region_rows = lambda *a: (counted.append(1), rows(*a))[1]
    try:
        code, _, err = run_cli(capsys, *(tmp_path / arg if arg.startswith(("coins", "cells"))
                                         else arg for arg in args))
    finally:
        _region_tiles.region_rows = rows
    assert code == 0, err
    tiles = RegionTiles(str(tmp_path / "coins.ome.tif"), str(tmp_path / "coins.zarr"),
                        TextureSettings.from_params(), tile_shape=64)
    n_batches = len(tiles.batches(tiles.survey()))
    tiles.close()
    assert len(counted) == n_batches - finished
    expected = region_features(image, labels, distance=[1, 2, 3, 4, 5])
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "cells.csv"), expected,
                                  check_dtype=False, check_exact=True)


def test_errors_of_tiled_inputs_are_one_line_and_leave_nothing(capsys, slide, tmp_path):
    image_file, labels_store, image, labels = slide
    write_zarr(tmp_path / "short.zarr", labels[:200], (48, 80))
    out = tmp_path / "cells.parquet"
    cases = [
        ((image_file, tmp_path / "short.zarr"), (),
         "labels '{0}' of shape (200, 384) do not match the image's gray shape (303, 384) "
         "(image '{1}')".format(tmp_path / "short.zarr", image_file)),
        ((image_file, labels_store), ("--tile-shape", "64", "64", "64"),
         "tile_shape must be a positive integer or 2 of them"),
        ((image_file, tmp_path / "missing.zarr"), (),
         f"labels '{tmp_path / 'missing.zarr'}': no such file or directory"),
        ((image_file, labels_store), ("--color", "hsv"), "color='hsv' needs the image in memory"),
    ]
    for inputs, options, message in cases:
        code, _, err = run_cli(capsys, "regions", *inputs, "-o", out, *options)
        assert code == 1 and message in err, err
        assert len(err.strip().splitlines()) == 1
    # inside an input store: the run would write into it (and its key, the store's files,
    # would change, so that it never resumes)
    store_files = sorted(path.name for path in labels_store.iterdir())
    code, _, err = run_cli(capsys, "regions", image_file, labels_store, "-o",
                           labels_store / "cells.csv")
    assert code == 1 and "it is inside the input" in err, err
    assert sorted(path.name for path in labels_store.iterdir()) == store_files
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "coins.ome.tif", "coins.zarr", "short.zarr"]


def test_a_second_run_of_the_same_table_is_refused_while_the_first_works(capsys, slide,
                                                                          tmp_path,
                                                                          monkeypatch):
    fcntl = pytest.importorskip("fcntl")
    image_file, labels_store, image, labels = slide
    args = ["regions", image_file, labels_store, "--tile-shape", "64", "-o", tmp_path / "t.csv"]
    Interrupt(monkeypatch, at=3)
    assert run_cli(capsys, *args)[0] == 130
    (work,) = work_directories(tmp_path)
    before = sorted(path.name for path in work.iterdir())
    with open(work / "lock") as lock:  # as the first run holds it while it works
        fcntl.flock(lock, fcntl.LOCK_EX)
        code, _, err = run_cli(capsys, *args)
    assert code == 1 and "another run is writing this table" in err, err
    assert sorted(path.name for path in work.iterdir()) == before  # its work is left whole
    assert not (tmp_path / "t.csv").exists()
    counter = Interrupt(monkeypatch)
    assert run_cli(capsys, *args)[0] == 0 and counter.batches > 0
    assert work_directories(tmp_path) == []


def test_a_first_table_says_which_kernels_it_compiles(capsys, cells, tmp_path, monkeypatch):
    # As on a machine that never compiled them: gray tables run the compiled region pass
    # (about 25 s to compile, longer than the featurizer's kernels), colour ones the featurizer
    from haralick_learn import _numba_cache

    folder, _, _ = cells
    monkeypatch.setattr(_numba_cache, "compiled_here", lambda module, kernel=None: False)
    for extra, what, duration in [((), "region-table", "about 25 s"),
                                  (("--color", "hsv"), "feature", "a few seconds")]:
        code, _, err = run_cli(capsys, "regions", folder / "coins.png", folder / "labels.npy",
                               "-o", tmp_path / f"{what}.csv", *SETTINGS, *extra)
        assert code == 0, err
        assert err.splitlines()[0] == (
            f"haralick-learn regions: compiling the {what} kernels, once per machine "
            f"({duration}); later runs load them from numba's cache")
