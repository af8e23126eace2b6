"""What the haralick-learn commands write.

Never onto one of their inputs, exactly the file named (in a format its suffix
names), whole or not at all (an interrupted run leaves nothing), and only what
fits in memory. Real images: the package's sample photographs, scikit-learn's
china.jpg.
"""

import csv
import os
import shutil
import sys

import numpy as np
import pytest
from PIL import Image

from haralick_learn import HaralickFeaturizer, texture_maps
from haralick_learn.datasets import load_sample_images

from conftest import run_cli as cli

SAMPLES = load_sample_images().paths  # brick00.jpg ... gravel29.jpg


def errors(err):
    return [line for line in err.splitlines() if ": error: " in line]


def listing(folder):
    """Every name under ``folder``, hidden ones included."""
    return sorted(os.path.relpath(os.path.join(parent, name), folder)
                  for parent, dirs, names in os.walk(folder) for name in dirs + names)


@pytest.fixture
def images(tmp_path, monkeypatch):
    """imgs/ with 4 photographs (PNG), a TIFF crop scan.tif, and tmp_path as working folder."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "imgs"
    folder.mkdir()
    for name, path in zip(["a", "b", "c", "d"], [SAMPLES[0], SAMPLES[1], SAMPLES[30],
                                                 SAMPLES[60]]):
        with Image.open(path) as im:
            im.save(folder / f"{name}.png")
    with Image.open(SAMPLES[2]) as im:
        im.convert("L").crop((0, 0, 40, 30)).save(tmp_path / "scan.tif")
    return folder


# --- never onto an input ------------------------------------------------------------------

def test_no_command_writes_onto_one_of_its_inputs(capsys, images, tmp_path):
    os.link(images / "a.png", tmp_path / "features.csv")  # another name of imgs/a.png
    os.link(tmp_path / "scan.tif", tmp_path / "linked.tif")
    os.symlink(images / "b.png", tmp_path / "plot.png")
    cases = [
        (("map", "scan.tif", "-o", "scan.tif"), "scan.tif"),
        (("map", "scan.tif", "-o", "./scan.tif"), "./scan.tif"),
        (("map", "scan.tif", "-o", "linked.tif"), "linked.tif"),
        (("map", "scan.tif", "-o", "maps.npy", "--preview", "linked.tif"), "linked.tif"),
        (("similar", "imgs", "imgs/a.png", "--plot", "imgs/a.png"), "imgs/a.png"),
        (("similar", "imgs", "a.png", "--plot", "imgs/c.png"), "imgs/c.png"),  # not a query
        (("similar", "imgs", "imgs/a.png", "--plot", "plot.png"), "plot.png"),  # a link
        (("featurize", "imgs", "-o", "features.csv"), "features.csv"),
        (("index", "imgs", "-o", "imgs/d.png"), "imgs/d.png"),
    ]
    before = {path: path.read_bytes() for path in [*images.iterdir(), tmp_path / "scan.tif"]}
    for args, written in cases:
        code, out, err = cli(capsys, *args)
        assert code == 1, (args, err)
        [line] = errors(err)
        assert line.startswith(f"haralick-learn {args[0]}: error: cannot write {written!r}: "
                               "it is the input "), line
        assert "Featurizing" not in err and not out  # refused before any work
        assert {path: path.read_bytes() for path in before} == before
    assert not (tmp_path / "maps.npy").exists()


def test_demo_does_not_write_onto_a_sample_image(capsys, images, tmp_path, monkeypatch):
    import haralick_learn.datasets

    bunch = load_sample_images()
    copies = tmp_path / "samples"
    shutil.copytree(os.path.dirname(bunch.paths[0]), copies,
                    ignore=shutil.ignore_patterns("*.md", "*.txt"))
    bunch.paths = [str(copies / os.path.basename(path)) for path in bunch.paths]
    monkeypatch.setattr(haralick_learn.datasets, "load_sample_images", lambda: bunch)
    target = copies / os.path.basename(bunch.paths[5])
    before = target.read_bytes()
    code, out, err = cli(capsys, "demo", "-o", target)
    assert code == 1
    assert errors(err) == [f"haralick-learn demo: error: cannot write {str(target)!r}: "
                           f"it is the input {bunch.paths[5]!r}"]
    assert target.read_bytes() == before and "Featurizing" not in err


def test_map_preview_and_output_must_differ(capsys, images, tmp_path):
    code, _, err = cli(capsys, "map", "scan.tif", "-o", "maps.tif", "--preview", "./maps.tif")
    assert code == 1
    assert errors(err) == ["haralick-learn map: error: cannot write './maps.tif': "
                           "--preview and -o name the same file"]
    assert not (tmp_path / "maps.tif").exists()


# --- exactly the file named, in a format it names ----------------------------------------

def test_map_writes_exactly_the_file_named_whatever_the_suffix_case(capsys, images, tmp_path):
    tifffile = pytest.importorskip("tifffile")
    expected = texture_maps("scan.tif", 7, aggregate="mean")
    code, out, err = cli(capsys, "map", "scan.tif", "-o", "MAPS.NPY", "--window", "7",
                         "--aggregate", "mean", "--preview", "Preview.PNG")
    assert code == 0, err
    assert sorted(os.listdir(tmp_path)) == ["MAPS.NPY", "Preview.PNG", "imgs", "scan.tif"]
    np.testing.assert_array_equal(np.load(tmp_path / "MAPS.NPY"), expected)
    assert f"to {tmp_path / 'MAPS.NPY'}" in out and f"to {tmp_path / 'Preview.PNG'}" in out
    with Image.open(tmp_path / "Preview.PNG") as im:
        assert im.format == "PNG"
    code, out, err = cli(capsys, "map", "scan.tif", "-o", "Maps.TIFF", "--window", "7",
                         "--aggregate", "mean")
    assert code == 0, err
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "Maps.TIFF"),
                                  np.moveaxis(expected, -1, 0).astype(np.float32))


def test_unknown_suffixes_are_refused_with_the_supported_ones(capsys, images, tmp_path):
    cases = [
        (("featurize", "imgs", "-o", "features.xlsx"), "features.xlsx", ".csv"),
        (("similar", "imgs", "a.png", "--plot", "similar"), "similar", ".png"),
        (("similar", "imgs", "a.png", "--plot", "similar.doc"), "similar.doc", ".pdf"),
        (("demo", "-o", "figure.txt"), "figure.txt", ".svg"),
        (("map", "scan.tif", "-o", "maps.npy", "--preview", "preview"), "preview", ".png"),
        (("map", "scan.tif", "-o", "maps.h5"), "maps.h5", ".tif, .tiff, .npy or .zarr"),
    ]
    for args, written, supported in cases:
        code, out, err = cli(capsys, *args)
        assert code == 1, (args, err)
        [line] = errors(err)
        assert line.startswith(f"haralick-learn {args[0]}: error: cannot write {written!r}: ")
        assert "must end in" in line and supported in line, line
        assert "Featurizing" not in err and not out
    assert listing(tmp_path) == ["imgs", *(f"imgs/{n}.png" for n in "abcd"), "scan.tif"]


def test_a_zarr_map_of_colour_channels_is_refused_with_its_reason(capsys, images, tmp_path):
    # a 2-D .zarr store is mapped tile by tile from the image's gray levels; the channels of
    # a colour space are mapped in memory, as for .npy and .tif
    code, out, err = cli(capsys, "map", "imgs/a.png", "--color", "hsv", "-o", "maps.zarr")
    assert code == 1 and not out
    [line] = errors(err)
    assert "--color hsv needs the whole image in memory (write .npy or .tif)" in line, line
    assert not os.path.exists("maps.zarr")


def test_featurize_and_similar_write_the_names_given(capsys, images, tmp_path):
    code, out, err = cli(capsys, "featurize", "imgs", "-o", "Features.CSV")
    assert code == 0, err
    with open(tmp_path / "Features.CSV", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["path", *HaralickFeaturizer().get_feature_names_out()]
    code, out, err = cli(capsys, "similar", "imgs", "a.png", "-k", "2", "--plot", "similar.PDF")
    assert code == 0, err
    assert (tmp_path / "similar.PDF").read_bytes().startswith(b"%PDF")
    assert f"Wrote the similar-images figure to {tmp_path / 'similar.PDF'}" in out
    assert listing(tmp_path) == ["Features.CSV", "imgs", *(f"imgs/{n}.png" for n in "abcd"),
                                 "scan.tif", "similar.PDF"]


# --- whole or not at all -----------------------------------------------------------------

def test_an_interrupted_zarr_map_leaves_nothing_and_a_rerun_succeeds(capsys, tmp_path,
                                                                     monkeypatch):
    zarr = pytest.importorskip("zarr")
    pytest.importorskip("dask.array")
    import haralick_learn._maps

    monkeypatch.chdir(tmp_path)
    with Image.open(SAMPLES[40]) as im:  # 1030 x 24: two tiles of rows (1024 and 6)
        gray = np.asarray(im.convert("L"))
    Image.fromarray(np.tile(gray[:, :24], (11, 1))[:1030]).save("tall.png")
    real = haralick_learn._maps._map_levels
    calls = []

    def first_tile_only(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise KeyboardInterrupt  # Ctrl-C after the first tile
        return real(*args, **kwargs)

    monkeypatch.setattr(haralick_learn._maps, "_map_levels", first_tile_only)
    code, out, err = cli(capsys, "map", "tall.png", "-o", "maps.zarr", "--window", "7",
                         "--aggregate", "mean")
    # the progress line of the first tile, then the one line that says why it stopped
    assert (code, err.strip().splitlines()[-1]) == (130, "haralick-learn map: interrupted")
    assert len(calls) == 2 and listing(tmp_path) == ["tall.png"]  # no store, no temporary
    monkeypatch.setattr(haralick_learn._maps, "_map_levels", real)
    code, out, err = cli(capsys, "map", "tall.png", "-o", "maps.zarr", "--window", "7",
                         "--aggregate", "mean")
    assert code == 0, err
    np.testing.assert_array_equal(zarr.open(str(tmp_path / "maps.zarr"))[:],
                                  texture_maps("tall.png", 7, aggregate="mean"))


@pytest.mark.parametrize("n_jobs", [-1, -2, 2])
def test_zarr_maps_count_threads_as_joblib(capsys, tmp_path, monkeypatch, n_jobs):
    """``map -o X.zarr --n-jobs N`` computes its tiles in joblib's count of threads (-2: every
    core but one), as every other command counts ``--n-jobs``."""
    import concurrent.futures

    from joblib import effective_n_jobs

    pytest.importorskip("zarr")
    monkeypatch.chdir(tmp_path)
    with Image.open(SAMPLES[3]) as im:
        Image.fromarray(np.asarray(im.convert("L"))[:40, :48]).save("small.png")
    pools = []

    class RecordedPool(concurrent.futures.ThreadPoolExecutor):
        def __init__(self, max_workers=None, *args, **kwargs):
            if sys._getframe(1).f_globals["__name__"] == "haralick_learn.cli.maps":
                pools.append(max_workers)  # the command's pool, not Dask's or joblib's
            super().__init__(max_workers, *args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", RecordedPool)
    code, out, err = cli(capsys, "map", "small.png", "-o", "maps.zarr", "--window", "7",
                         "--aggregate", "mean", "--n-jobs", str(n_jobs))
    assert code == 0, err
    assert pools == [effective_n_jobs(n_jobs)]


def _interrupt_numpy(monkeypatch):
    real = np.lib.format.write_array

    def write_array(fp, array, *args, **kwargs):
        np.lib.format.write_array_header_1_0(
            fp, np.lib.format.header_data_from_array_1_0(array))
        raise KeyboardInterrupt  # after the header

    monkeypatch.setattr(np.lib.format, "write_array", write_array)
    return real


def _interrupt_tiff(monkeypatch):
    tifffile = pytest.importorskip("tifffile")
    real = tifffile.TiffWriter.write

    def write(self, *args, **kwargs):
        real(self, *args, **kwargs)
        raise KeyboardInterrupt  # before the file is closed

    monkeypatch.setattr(tifffile.TiffWriter, "write", write)


def _interrupt_csv(monkeypatch):
    from haralick_learn.cli import images as image_commands

    real = csv.writer

    class Writer:
        def __init__(self, *args, **kwargs):
            self.writer, self.rows = real(*args, **kwargs), 0

        def writerow(self, row):
            if self.rows == 2:
                raise KeyboardInterrupt  # after the header and one image's row
            self.rows += 1
            return self.writer.writerow(row)

    monkeypatch.setattr(image_commands.csv, "writer", Writer)


def _interrupt_figure(monkeypatch):
    from matplotlib.figure import Figure

    real = Figure.savefig

    def savefig(self, fname, **kwargs):
        real(self, fname, **kwargs)
        raise KeyboardInterrupt  # once written, before the command ends

    monkeypatch.setattr(Figure, "savefig", savefig)


@pytest.mark.parametrize("args, written, interrupt", [
    (("map", "scan.tif", "-o", "maps.npy", "--window", "5"), "maps.npy", _interrupt_numpy),
    (("map", "scan.tif", "-o", "maps.tif", "--window", "5"), "maps.tif", _interrupt_tiff),
    (("map", "scan.tif", "-o", "m.npy", "--preview", "p.png"), "p.png", _interrupt_figure),
    (("featurize", "imgs", "-o", "features.csv"), "features.csv", _interrupt_csv),
    (("similar", "imgs", "a.png", "-k", "2", "--plot", "s.png"), "s.png", _interrupt_figure),
], ids=["npy", "tif", "preview", "csv", "plot"])
def test_an_interrupted_write_leaves_no_file_that_looks_complete(capsys, images, tmp_path,
                                                                 monkeypatch, args, written,
                                                                 interrupt):
    before = listing(tmp_path)
    with monkeypatch.context() as patch:
        interrupt(patch)
        code, out, err = cli(capsys, *args)
    assert code == 130, err
    assert written not in listing(tmp_path)
    assert not [name for name in listing(tmp_path) if "partial" in name]  # no temporary
    assert f"to {tmp_path / written}" not in out  # not reported
    code, out, err = cli(capsys, *args)
    assert code == 0, err
    assert f"to {tmp_path / written}" in out
    assert set(listing(tmp_path)) - set(before) >= {written}


def test_an_interrupted_rerun_keeps_the_previous_output(capsys, images, tmp_path, monkeypatch):
    assert cli(capsys, "featurize", "imgs", "-o", "features.csv")[0] == 0
    complete = (tmp_path / "features.csv").read_bytes()
    (tmp_path / "features.csv").chmod(0o640)
    with monkeypatch.context() as patch:
        _interrupt_csv(patch)
        assert cli(capsys, "featurize", "imgs", "-o", "features.csv")[0] == 130
    assert (tmp_path / "features.csv").read_bytes() == complete
    assert cli(capsys, "featurize", "imgs", "-o", "features.csv")[0] == 0
    assert (tmp_path / "features.csv").stat().st_mode & 0o777 == 0o640  # replaced, same mode


# --- memory ---------------------------------------------------------------------------

def test_map_refuses_when_the_maps_need_more_memory_than_available(capsys, images, tmp_path,
                                                                   monkeypatch, jpeg_paths):
    import re

    from haralick_learn.cli import maps as command
    from haralick_learn._maps import texture_maps_memory

    shutil.copy(jpeg_paths[0], tmp_path / "china.jpg")  # 427 x 640
    maps_bytes = 427 * 640 * 52 * 8  # the 52 float64 maps alone
    monkeypatch.setattr(command, "available_memory", lambda: 100_000_000)
    code, out, err = cli(capsys, "map", "china.jpg", "-o", "maps.tif")
    assert code == 1
    [line] = errors(err)
    needed = re.search(r"needs about ([\d.]+) MB, more than the 100 MB available", line)
    assert needed, line
    assert maps_bytes / 1e6 < float(needed.group(1)) < 1.5 * maps_bytes / 1e6
    assert float(needed.group(1)) >= texture_maps_memory((427, 640)) / 1e6 - 0.1
    assert "'china.jpg' (427 x 640 pixels)" in line and ".zarr" in line
    assert not (tmp_path / "maps.tif").exists() and not out
    # a quarter of the features fits
    code, out, err = cli(capsys, "map", "china.jpg", "-o", "maps.tif", "--aggregate", "mean")
    assert code == 0, err
    # an unknown figure does not stop the run
    monkeypatch.setattr(command, "available_memory", lambda: None)
    code, out, err = cli(capsys, "map", "china.jpg", "-o", "maps.npy", "--step", "4")
    assert code == 0, err


def test_available_memory_is_a_plausible_figure():
    from haralick_learn.cli import available_memory

    available = available_memory()
    if not hasattr(os, "sysconf") or "SC_PHYS_PAGES" not in os.sysconf_names:
        pytest.skip("no physical memory figure to compare with")
    assert 0 < available <= os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
