"""The haralick-learn command: in-process through ``main(argv)``; twice as the installed command."""

import csv
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest
from PIL import Image
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import haralick_learn
from haralick_learn import DistanceNeighbors, HaralickFeaturizer
from haralick_learn.datasets import load_sample_images

from conftest import run_cli, time_limit

KINDS = ("brick", "grass", "gravel")
SAMPLES = load_sample_images().paths  # real photographs: brick00.jpg ... gravel29.jpg


def sample(kind, i):
    return next(p for p in SAMPLES if os.path.basename(p) == f"{kind}{i:02d}.jpg")


cli = run_cli


def errors(err):
    return [line for line in err.splitlines() if ": error: " in line]


def warnings_of(err):
    return [line for line in err.splitlines() if ": warning: " in line]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """photos/{kind}{i}.png|JPG flat, 5 per kind, plus files that are not images."""
    folder = tmp_path_factory.mktemp("cli") / "photos"
    folder.mkdir()
    for kind in KINDS:
        for i in range(5):
            if i % 2:
                with Image.open(sample(kind, i)) as im:
                    im.save(folder / f"{kind}{i:02d}.png")
            else:  # the extension's case does not matter
                shutil.copy(sample(kind, i), folder / f"{kind}{i:02d}.JPG")
    (folder / "notes.txt").write_text("not an image")
    (folder / ".hidden.png").write_bytes(b"")
    return folder


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """dataset/{kind}/img{i}.jpg: labels from the folders, one level down."""
    root = tmp_path_factory.mktemp("cli") / "dataset"
    for kind in KINDS:
        (root / kind).mkdir(parents=True)
        for i in range(4):
            shutil.copy(sample(kind, 10 + i), root / kind / f"img{i}.jpg")
    return root


def image_paths(folder):
    return sorted(str(p) for p in folder.iterdir()
                  if p.suffix.lower() in (".png", ".jpg") and not p.name.startswith("."))


def one_pixel_crop(photo, path, *, high=True):
    """A real photograph's first row (1 pixel high) or first column (1 pixel wide)."""
    with Image.open(photo) as im:
        box = (0, 0, im.width, 1) if high else (0, 0, 1, im.height)
        im.crop(box).save(path)
    return path


# --- the installed entry point, run as users run it -----------------------------------------

def run_entry_point(*args, cwd):
    exe = shutil.which("haralick-learn")
    if exe is None:
        pytest.skip("the haralick-learn command is not installed (pip install .)")
    # The command imports the same haralick_learn as this test process.
    package_parent = os.path.dirname(os.path.dirname(haralick_learn.__file__))
    env = dict(os.environ, PYTHONPATH=package_parent)
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env=env)


def test_entry_point_version(tmp_path):
    result = run_entry_point("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"haralick-learn {haralick_learn.__version__}"


def test_entry_point_featurizes_to_standard_output(tmp_path):
    for kind in KINDS:
        shutil.copy(sample(kind, 0), tmp_path / f"{kind}00.jpg")
    result = run_entry_point("featurize", ".", "-o", "-", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(result.stdout.splitlines()))
    assert rows[0] == ["path", *HaralickFeaturizer().get_feature_names_out()]
    assert [row[0] for row in rows[1:]] == [f"./{kind}00.jpg" for kind in KINDS]
    assert "Wrote 3 images x 52 features to standard output" in result.stderr


# --- the command starts at once: nothing heavy is imported to parse arguments ----------------

#: Run in a fresh interpreter: the command's help and a usage error, then what was imported.
START_AT_ONCE = r"""
import contextlib, io, json, sys
import haralick_learn.cli as cli
for argv in (["--help"], ["map", "--help"], ["featurize", "--help"], ["map"], ["--version"]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            cli.main(argv)
        except SystemExit:
            pass
heavy = sorted(name for name in ("numpy", "sklearn", "numba", "matplotlib", "scipy", "PIL")
               if name in sys.modules)
import haralick_learn
resolved = haralick_learn.HaralickFeaturizer.__module__
print(json.dumps({"heavy": heavy, "resolved": resolved,
                  "after": [name for name in ("sklearn", "numba") if name in sys.modules]}))
"""


def test_help_and_usage_errors_import_nothing_heavy(tmp_path):
    package_parent = os.path.dirname(os.path.dirname(haralick_learn.__file__))
    env = dict(os.environ, PYTHONPATH=package_parent)
    run = subprocess.run([sys.executable, "-c", START_AT_ONCE], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr
    imported = json.loads(run.stdout)
    assert imported["heavy"] == [], f"parsing the command's arguments imported {imported['heavy']}"
    # The public names still resolve, importing their modules on first use.
    assert imported["resolved"] == "haralick_learn._featurizer"
    assert imported["after"] == ["sklearn", "numba"]


def test_public_names_resolve_and_are_listed():
    assert haralick_learn.HaralickFeaturizer is HaralickFeaturizer
    from haralick_learn import texture_maps
    from haralick_learn._maps import texture_maps as defined

    assert texture_maps is defined
    assert set(haralick_learn.__all__) <= set(dir(haralick_learn))
    with pytest.raises(AttributeError, match="has no attribute 'HaralickFeaturiser'"):
        haralick_learn.HaralickFeaturiser  # noqa: B018


def test_the_version_is_read_without_importing_the_package():
    # The build reads the version from its own module, which setuptools parses statically.
    tomllib = pytest.importorskip("tomllib")
    from setuptools.config.expand import StaticModule

    root = os.path.dirname(os.path.dirname(haralick_learn.__file__))
    with open(os.path.join(root, "pyproject.toml"), "rb") as f:
        attr = tomllib.load(f)["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    module, _, name = attr.rpartition(".")
    assert module == "haralick_learn._version"
    static = StaticModule(module, importlib.util.find_spec(module))
    assert getattr(static, name) == haralick_learn.__version__


def test_first_run_on_a_machine_says_it_compiles(tmp_path):
    # An empty numba cache folder (NUMBA_CACHE_DIR) is a machine where nothing was compiled:
    # the command says so before it starts compiling (10 s). Stopped once it has said it.
    package_parent = os.path.dirname(os.path.dirname(haralick_learn.__file__))
    env = dict(os.environ, PYTHONPATH=package_parent, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    shutil.copy(sample("brick", 0), tmp_path / "brick00.jpg")
    process = subprocess.Popen([sys.executable, "-m", "haralick_learn.cli", "map", "brick00.jpg",
                                "-o", "maps.npy"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(120, process.kill)  # a silent run fails, not hangs
    watchdog.start()
    try:
        line = process.stderr.readline()
    finally:
        watchdog.cancel()
        process.kill()
        process.communicate()
    assert line == ("haralick-learn map: compiling the texture-map kernels, once per machine "
                    "(about 10 s); later runs load them from numba's cache\n")
    assert sorted(os.listdir(tmp_path)) == ["brick00.jpg", "numba"]  # stopped: no output


def test_a_first_map_of_ordered_pairs_says_it_compiles(capsys, photos, tmp_path, monkeypatch):
    # A machine that compiled symmetric maps only: symmetric=False and colour pairs run a
    # kernel of their own, compiled on their first map, and say so.
    from haralick_learn import _numba_cache

    cached = {"map_rows"}
    monkeypatch.setattr(_numba_cache, "compiled_here",
                        lambda module, kernel=None: kernel in cached)
    path = photos / "brick00.JPG"
    code, _, err = cli(capsys, "map", path, "-o", tmp_path / "b.npy", "--window", "3",
                       "--step", "8", "--levels", "16", "--no-symmetric")
    assert code == 0, err
    assert err.splitlines()[0] == (
        "haralick-learn map: compiling the ordered-pair texture-map kernels, once per "
        "machine (about 11 s); later runs load them from numba's cache")
    # The symmetric map second: on a cold run, the other test process may have saved its
    # kernel to numba's cache meanwhile (the two kernels compile for about 10 s each)
    code, _, err = cli(capsys, "map", path, "-o", tmp_path / "a.npy", "--window", "3",
                       "--step", "8")
    assert code == 0 and "compiling" not in err
    # colour pairs run the same kernel, symmetric or not
    from haralick_learn.cli.maps import _kind_of_maps

    assert _kind_of_maps({"symmetric": True, "color_pairs": "all"}) == "ordered maps"
    assert _kind_of_maps({"symmetric": True, "color_pairs": None}) == "maps"


def test_featurizing_commands_say_when_they_compile(capsys, photos, tmp_path, monkeypatch):
    from haralick_learn import _numba_cache
    from haralick_learn.cli import main

    main(["featurize", str(photos), "-o", str(tmp_path / "warm.csv")])
    # The kernels just ran: numba's cache has them for this machine, and nothing is said.
    assert _numba_cache.compiled_here("haralick_learn.texture.counting")
    code, out, err = cli(capsys, "similar", photos, photos / "brick00.JPG", "-k", "1")
    assert code == 0 and "compiling" not in err
    # As on a machine where they were never compiled: one line, before the progress bar.
    monkeypatch.setattr(_numba_cache, "compiled_here", lambda module, kernel=None: False)
    for args in [("featurize", photos, "-o", tmp_path / "f.csv"),
                 ("similar", photos, photos / "brick00.JPG", "-k", "1")]:
        code, said, err = cli(capsys, *args)
        assert code == 0, err
        lines = err.splitlines()
        assert lines[0] == (f"haralick-learn {args[0]}: compiling the feature kernels, once per "
                            "machine (a few seconds); later runs load them from numba's cache")
        assert lines[1].startswith("Featurizing [") and "compiling" not in "".join(lines[1:])
        assert "compiling" not in said


# --- every command in this process ------------------------------------------------------------

def test_demo_runs_the_whole_flow(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "demo")
    assert code == 0, err
    accuracy = float(re.search(r"5-fold accuracy: ([\d.]+)%", out).group(1))
    assert 80 <= accuracy <= 100
    similar = re.findall(r"^\s+\d\. (\w+\d+\.jpg)\s+distance ([\d.]+)$", out, flags=re.M)
    assert len(similar) == 3
    assert [float(d) for _, d in similar] == sorted(float(d) for _, d in similar)
    figure = tmp_path / "similar_images.png"
    assert f"Wrote the similar-images figure to {figure}" in out
    with Image.open(figure) as im:
        assert im.format == "PNG" and im.width > im.height
    assert "90/90 images" in err  # the progress bar reached the end


def test_unknown_command_and_bad_query(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli(capsys, "nonsense")[0] == 2
    code, _, err = cli(capsys, "demo", "--query", "999")
    assert code == 1
    assert err.strip().startswith("haralick-learn demo: error:")


def test_featurize_writes_path_and_named_feature_columns(capsys, photos, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "featurize", photos, "-o", "features.csv", "--n-jobs", "2")
    assert code == 0, err
    assert "Wrote 15 images x 52 features to" in out
    assert "15/15 images" in err  # progress bar
    with open(tmp_path / "features.csv", newline="") as f:
        rows = list(csv.reader(f))
    featurizer = HaralickFeaturizer()
    paths = image_paths(photos)
    assert rows[0] == ["path", *featurizer.get_feature_names_out()]
    assert [row[0] for row in rows[1:]] == paths  # sorted; .txt and hidden files skipped
    np.testing.assert_array_equal(np.array([row[1:] for row in rows[1:]], dtype=float),
                                  featurizer.fit_transform(paths))  # repr: exact round trip


def test_featurize_glob_recursive_to_stdout(capsys, labelled, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "featurize", labelled / "**" / "*.jpg", "--recursive", "-o", "-")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("path,angular_second_moment_horizontal_d1,")
    assert [line.split(",")[0] for line in lines[1:]] == sorted(
        str(labelled / kind / f"img{i}.jpg") for kind in KINDS for i in range(4))
    assert "Wrote 12 images" in err
    # Without --recursive a folder of folders holds no image.
    code, _, err = cli(capsys, "featurize", labelled)
    assert code == 1
    assert err.strip().splitlines() == [
        f"haralick-learn featurize: error: no image files in {str(labelled)!r} (looked for "
        ".jpg, .jpeg, .png, .tif, .tiff, .bmp, .gif, .webp; --recursive searches subdirectories)"
    ]


def test_similar_ranks_paths_and_draws_the_picture(capsys, photos, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outside = tmp_path / "query.png"
    with Image.open(sample("grass", 20)) as im:
        im.save(outside)
    code, out, err = cli(capsys, "similar", photos, "brick01.png", outside, "-k", "3",
                         "--plot", "similar.png")
    assert code == 0, err
    paths = image_paths(photos)
    search = make_pipeline(HaralickFeaturizer(), StandardScaler(), DistanceNeighbors()).fit(paths)
    own = paths.index(str(photos / "brick01.png"))
    dist, ind = search[-1].kneighbors(n_neighbors=3)
    new_dist, new_ind = search[-1].kneighbors(search[:-1].transform([str(outside)]), n_neighbors=3)
    expected = [f"3 images most similar to {paths[own]}:"]
    expected += [f"  {r}. {paths[i]}  distance {d:.3f}" for r, (d, i) in
                 enumerate(zip(dist[own], ind[own]), start=1)]
    expected += [f"3 images most similar to {outside}:"]
    expected += [f"  {r}. {paths[i]}  distance {d:.3f}" for r, (d, i) in
                 enumerate(zip(new_dist[0], new_ind[0]), start=1)]
    figure = tmp_path / "similar.png"
    expected += [f"Wrote the similar-images figure to {figure}"]
    assert out.splitlines() == expected
    with Image.open(figure) as im:
        assert im.format == "PNG" and im.width > im.height  # 2 rows x 4 images


def test_evaluate_reports_accuracy_and_per_class_scores(capsys, labelled, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "evaluate", labelled, "--labels", "parent", "--recursive",
                         "--cv", "4")
    assert code == 0, err
    assert out.startswith("12 images, 3 classes: brick (4), grass (4), gravel (4)\n")
    accuracy, spread = map(float, re.search(r"4-fold accuracy: ([\d.]+)% \(\+/- ([\d.]+)%\)",
                                            out).groups())
    assert 0 <= accuracy <= 100 and spread >= 0
    assert re.search(r"precision\s+recall\s+f1-score\s+support", out)
    for kind in KINDS:
        assert re.search(rf"^\s+{kind}\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+4$", out, flags=re.M)


def test_runtime_errors_are_one_line_with_exit_code_1(capsys, photos, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "ok.png").write_bytes((photos / "brick01.png").read_bytes())
    (broken / "truncated.png").write_bytes((photos / "brick01.png").read_bytes()[:200])
    cases = [
        (("featurize", tmp_path / "missing"), "featurize", "no such directory"),
        (("featurize", broken, "-o", "x.csv"), "featurize", "truncated.png"),
        (("similar", photos, "nothere.png"), "similar", "query 'nothere.png': no such file"),
        (("similar", photos, "brick01.png", "-k", "15"), "similar", "n_neighbors <= 14"),
        (("evaluate", photos, "--cv", "6"), "evaluate", "fewer than the 6 folds"),
    ]
    for args, command, reason in cases:
        code, _, err = cli(capsys, *args)
        assert code == 1, (args, err)
        assert len(errors(err)) == 1 and errors(err)[0].startswith(
            f"haralick-learn {command}: error: ")
        assert reason in errors(err)[0], errors(err)
        assert "Traceback" not in err


def test_help_and_usage_errors(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command in ("featurize", "similar", "evaluate", "demo"):
        code, out, _ = cli(capsys, command, "--help")
        assert code == 0 and out.startswith(f"usage: haralick-learn {command}")
    for args in [("featurize",), ("similar", "dir"), ("evaluate", "dir", "--cv", "1"),
                 ("evaluate", "dir", "--labels", "colour"), ("similar", "d", "q", "-k", "x")]:
        code, _, err = cli(capsys, *args)
        assert code == 2, args
        assert err.splitlines()[-1].startswith(f"haralick-learn {args[0]}: error:")


# --- images 1 pixel high or wide -------------------------------------------------

NO_VERTICAL = ("1 pixel high: no pixel pair in the diagonal_nwse, vertical, diagonal_nesw "
               "directions")
NO_HORIZONTAL = ("1 pixel wide: no pixel pair in the horizontal, diagonal_nwse, diagonal_nesw "
                 "directions")


@pytest.fixture
def with_thin(photos, photo_paths, tmp_path):
    """The photos plus a real photograph cropped to 1 pixel high and another to 1 pixel wide."""
    folder = tmp_path / "with_thin"
    shutil.copytree(photos, folder)
    one_pixel_crop(photo_paths[0], folder / "brick98.png", high=True)
    one_pixel_crop(photo_paths[1], folder / "grass99.png", high=False)
    return folder


def test_similar_leaves_out_one_pixel_images_and_names_them(capsys, with_thin, tmp_path,
                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "similar", with_thin, "brick01.png", "-k", "14")
    assert code == 0, err
    assert warnings_of(err) == [
        "haralick-learn similar: warning: left out 2 images whose features are NaN (distances "
        f"and classifiers need numbers): {with_thin / 'brick98.png'} ({NO_VERTICAL}); "
        f"{with_thin / 'grass99.png'} ({NO_HORIZONTAL})"
    ]
    kept = [p for p in image_paths(with_thin) if not p.endswith(("brick98.png", "grass99.png"))]
    search = make_pipeline(HaralickFeaturizer(), StandardScaler(), DistanceNeighbors()).fit(kept)
    own = kept.index(str(with_thin / "brick01.png"))
    dist, ind = search[-1].kneighbors_by_index([own], 14)
    assert out.splitlines() == [f"14 images most similar to {kept[own]}:"] + [
        f"  {r}. {kept[i]}  distance {d:.3f}" for r, (d, i) in enumerate(zip(dist[0], ind[0]), 1)]


def test_similar_refuses_a_one_pixel_query_and_names_it(capsys, with_thin, photo_paths,
                                                        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, "similar", with_thin, "brick98.png")
    assert code == 1
    assert errors(err) == [
        f"haralick-learn similar: error: query {str(with_thin / 'brick98.png')!r}: "
        f"{NO_VERTICAL}, so its features are NaN and it was left out of the collection"]
    outside = one_pixel_crop(photo_paths[2], tmp_path / "thin_query.png", high=False)
    code, _, err = cli(capsys, "similar", with_thin, outside)
    assert code == 1
    assert errors(err) == [
        f"haralick-learn similar: error: query {str(outside)!r}: {NO_HORIZONTAL}, so its "
        "features are NaN and have no distance to other images"]
    assert "Featurizing" not in err  # refused before the collection is featurized


def test_evaluate_leaves_out_one_pixel_images(capsys, with_thin, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "evaluate", with_thin, "--cv", "5")
    assert code == 0, err
    assert len(warnings_of(err)) == 1
    assert "left out 2 images" in warnings_of(err)[0] and NO_HORIZONTAL in warnings_of(err)[0]
    assert out.startswith("15 images, 3 classes: brick (5), grass (5), gravel (5)\n")
    accuracy = float(re.search(r"5-fold accuracy: ([\d.]+)% \(\+/- ([\d.]+)%\)", out).group(1))
    assert 0 <= accuracy <= 100  # a number, not nan%
    for kind in KINDS:
        assert re.search(rf"^\s+{kind}\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+5$", out, flags=re.M)


def test_evaluate_counts_the_images_it_uses_and_names_those_left_out(capsys, photo_paths,
                                                                     tmp_path, monkeypatch):
    """Enough images per class on disk, too few once those with NaN features are left out."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "short"
    folder.mkdir()
    for name in ["brick00.jpg", "brick01.jpg", "grass00.jpg", "grass01.jpg", "grass02.jpg"]:
        shutil.copy(sample(name[:-6], int(name[-6:-4])), folder / name)
    thin = one_pixel_crop(photo_paths[0], folder / "brick02.png")
    code, out, err = cli(capsys, "evaluate", folder, "--cv", "3")
    assert code == 1
    assert "Featurizing" in err  # 3 bricks on disk: refused only once featurized
    assert out == "5 images, 2 classes: brick (2), grass (3)\n"
    assert errors(err) == [
        "haralick-learn evaluate: error: class 'brick' has 2 images, fewer than the 3 folds of "
        f"--cv 3, after leaving out 1 of its images with NaN features: {thin}"]
    # every image of a class left out: that class has none, not a hint about the labels
    for name in ["brick00.jpg", "brick01.jpg"]:
        (folder / name).unlink()
    thin_too = one_pixel_crop(photo_paths[1], folder / "brick03.png", high=False)
    code, out, err = cli(capsys, "evaluate", folder, "--cv", "2")
    assert code == 1
    assert out == "3 images, 2 classes: brick (0), grass (3)\n"
    assert errors(err) == [
        "haralick-learn evaluate: error: class 'brick' has 0 images, fewer than the 2 folds of "
        f"--cv 2, after leaving out 2 of its images with NaN features: {thin}, {thin_too}"]


def test_featurize_writes_the_row_of_a_one_pixel_image_with_a_warning(capsys, photo_paths,
                                                                      tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "two"
    folder.mkdir()
    shutil.copy(sample("brick", 0), folder / "brick00.jpg")
    thin = one_pixel_crop(photo_paths[0], folder / "thin.png")
    code, out, err = cli(capsys, "featurize", folder, "-o", "-")
    assert code == 0, err
    assert warnings_of(err) == [
        f"haralick-learn featurize: warning: 1 image with NaN features (written as nan): "
        f"{thin} ({NO_VERTICAL})"]
    rows = list(csv.reader(out.splitlines()))
    assert [row[0] for row in rows[1:]] == [str(folder / "brick00.jpg"), str(thin)]
    names = rows[0][1:]
    values = np.array(rows[2][1:], dtype=float)
    assert {n for n, v in zip(names, values) if np.isnan(v)} == {
        n for n in names if "_vertical_" in n or "_diagonal_" in n}
    np.testing.assert_array_equal(values, HaralickFeaturizer().fit_transform([str(thin)])[0])


# --- the output's folder is checked before featurizing ----------------------------

def test_output_into_a_missing_folder_fails_before_featurizing(capsys, photos, tmp_path,
                                                               monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_text("a file, not a folder")
    cases = [
        (("featurize", photos, "-o", "missing/features.csv"), "missing/features.csv",
         f"no such directory {str(tmp_path / 'missing')!r}"),
        (("similar", photos, "brick01.png", "--plot", "missing/similar.png"),
         "missing/similar.png", f"no such directory {str(tmp_path / 'missing')!r}"),
        (("demo", "-o", "missing/similar.png"), "missing/similar.png",
         f"no such directory {str(tmp_path / 'missing')!r}"),
        (("featurize", photos, "-o", "file.txt/features.csv"), "file.txt/features.csv",
         f"not a directory {str(tmp_path / 'file.txt')!r}"),
        (("featurize", photos, "-o", "."), ".", "it is a directory"),
    ]
    for args, path, reason in cases:
        code, _, err = cli(capsys, *args)
        assert code == 1, (args, err)
        assert errors(err) == [f"haralick-learn {args[0]}: error: cannot write {path!r}: {reason}"]
        assert "Featurizing" not in err  # nothing was featurized
    assert not (tmp_path / "missing").exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root may write into any folder")
def test_output_into_an_unwritable_folder_fails_before_featurizing(capsys, photos, tmp_path,
                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = cli(capsys, "featurize", photos, "-o", "locked/f.csv")
    finally:
        locked.chmod(0o700)
    assert code == 1
    assert errors(err) == ["haralick-learn featurize: error: cannot write 'locked/f.csv': "
                           "permission denied"]
    assert "Featurizing" not in err


# --- recursive glob and directory links -------------------------------------------

@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM")
def test_recursive_glob_gives_each_image_once_through_directory_links(capsys, tmp_path,
                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "tree"
    (root / "a" / "b").mkdir(parents=True)
    (root / ".hidden").mkdir()
    images = [root / "top.jpg", root / "a" / "mid.jpg", root / "a" / "b" / "deep.jpg"]
    for path, kind in zip(images, KINDS):
        shutil.copy(sample(kind, 0), path)
    shutil.copy(sample("brick", 1), root / ".hidden" / "secret.jpg")
    os.symlink("..", root / "a" / "up")          # up -> .. : the parent again
    os.symlink(".", root / "a" / "b" / "self")   # a loop
    os.symlink("../b", root / "a" / "b" / "again")
    os.symlink(images[0], root / "a" / "top_link.jpg")  # a link to a file is a file
    expected = sorted(map(str, [*images, root / "a" / "top_link.jpg"]))
    with time_limit(20):
        code, out, err = cli(capsys, "featurize", root / "**" / "*.jpg", "-r", "-o", "-")
    assert code == 0, err
    assert [line.split(",")[0] for line in out.splitlines()[1:]] == expected
    # The same files as the folder itself, searched with --recursive (which, unlike
    # glob's **, also searches hidden folders).
    code, folder_out, _ = cli(capsys, "featurize", root, "-r", "-o", "-")
    assert [line for line in folder_out.splitlines() if "/.hidden/" not in line] == \
        out.splitlines()
    # glob's meaning otherwise: ** spans zero or more folders, a pattern that names a
    # hidden folder enters it, and relative patterns give relative paths.
    code, out, err = cli(capsys, "featurize", "tree/**/b/*.jpg", "-r", "-o", "-")
    assert [line.split(",")[0] for line in out.splitlines()[1:]] == ["tree/a/b/deep.jpg"]
    code, out, err = cli(capsys, "featurize", "tree/.hidden/**", "-r", "-o", "-")
    assert [line.split(",")[0] for line in out.splitlines()[1:]] == ["tree/.hidden/secret.jpg"]


# --- the query is the file named -------------------------------------------------

def test_similar_queries_the_file_named_not_a_link_to_it(capsys, photos, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "linked"
    shutil.copytree(photos, folder)
    os.symlink("brick00.JPG", folder / "zlink.jpg")  # sorts after brick00.JPG
    real, link = str(folder / "brick00.JPG"), str(folder / "zlink.jpg")
    code, out, err = cli(capsys, "similar", folder, "brick00.JPG", "zlink.jpg", "-k", "1")
    assert code == 0, err
    assert out.splitlines() == [f"1 image most similar to {real}:", f"  1. {link}  distance 0.000",
                                f"1 image most similar to {link}:", f"  1. {real}  distance 0.000"]
    # Named by another path to the same file (a link outside): the file itself is the query.
    outside = tmp_path / "elsewhere.jpg"
    os.symlink(real, outside)
    code, out, err = cli(capsys, "similar", folder, outside, "-k", "1")
    assert code == 0, err
    assert out.splitlines() == [f"1 image most similar to {outside}:",
                                f"  1. {link}  distance 0.000"]


# --- clearer messages ------------------------------------------------------------

def test_a_folder_as_query_is_named_a_directory(capsys, photos, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "photos"
    shutil.copytree(photos, folder)
    (folder / "sub.png").mkdir()  # a folder, named like an image, inside the collection
    for query, named in [("sub.png", str(folder / "sub.png")), (tmp_path, str(tmp_path))]:
        code, _, err = cli(capsys, "similar", folder, query)
        assert code == 1
        assert errors(err) == [f"haralick-learn similar: error: query {named!r}: "
                               "is a directory, not an image file"]


def test_n_jobs_0_is_a_usage_error(capsys, photos, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for args in [("featurize", photos), ("similar", photos, "brick01.png"),
                 ("evaluate", photos), ("demo",)]:
        code, _, err = cli(capsys, *args, "--n-jobs", "0")
        assert code == 2, args
        assert err.splitlines()[-1] == (
            f"haralick-learn {args[0]}: error: argument --n-jobs: 0 is invalid: give the number "
            "of images featurized at once (1 or more), or -1 for all processors")
        assert "Featurizing" not in err


def test_counts_are_pluralized(capsys, photos, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "featurize", photos / "brick01.png", "-o", "one.csv")
    assert code == 0, err
    assert f"Wrote 1 image x 52 features to {tmp_path / 'one.csv'}" in out
    code, out, err = cli(capsys, "similar", photos, "brick01.png", "-k", "1")
    assert out.startswith(f"1 image most similar to {photos / 'brick01.png'}:\n")
    folder = tmp_path / "uneven"
    folder.mkdir()
    for name in ["brick00.jpg", "brick01.jpg", "grass00.jpg"]:
        shutil.copy(sample(name[:-6], int(name[-6:-4])), folder / name)
    code, out, err = cli(capsys, "evaluate", folder, "--cv", "2")
    assert out == "3 images, 2 classes: brick (2), grass (1)\n"
    assert errors(err) == ["haralick-learn evaluate: error: class 'grass' has 1 image, fewer "
                           "than the 2 folds of --cv 2"]
    code, out, err = cli(capsys, "evaluate", folder / "grass*.jpg", "--cv", "2")
    assert out == "1 image, 1 class: grass (1)\n"
    assert errors(err) == ["haralick-learn evaluate: error: need at least 2 classes to evaluate, "
                           "found 1 (labels from the file names; try --labels parent)"]


def test_color_option_on_featurize_similar_and_evaluate(capsys, photos, labelled, tmp_path,
                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = image_paths(photos)
    code, out, err = cli(capsys, "featurize", photos, "-o", "lab.csv", "--color", "lab")
    assert code == 0, err
    with open(tmp_path / "lab.csv", newline="") as f:
        rows = list(csv.reader(f))
    featurizer = HaralickFeaturizer(color="lab")
    assert rows[0] == ["path", *featurizer.get_feature_names_out()]
    assert rows[0][1] == "L_angular_second_moment_horizontal_d1"
    np.testing.assert_array_equal(np.array([row[1:] for row in rows[1:]], dtype=float),
                                  featurizer.fit_transform(paths))
    code, out, err = cli(capsys, "similar", photos, "brick01.png", "-k", "2", "--color", "hsv")
    assert code == 0, err
    search = make_pipeline(HaralickFeaturizer(color="hsv"), StandardScaler(),
                           DistanceNeighbors()).fit(paths)
    dist, ind = search[-1].kneighbors(n_neighbors=2)
    own = paths.index(str(photos / "brick01.png"))
    assert out.splitlines()[1:] == [f"  {r}. {paths[i]}  distance {d:.3f}" for r, (d, i) in
                                    enumerate(zip(dist[own], ind[own]), start=1)]
    code, out, err = cli(capsys, "evaluate", labelled, "--labels", "parent", "--recursive",
                         "--cv", "4", "--color", "rgb")
    assert code == 0, err
    assert "4-fold accuracy" in out
    code, _, err = cli(capsys, "featurize", photos, "--color", "cmyk")
    assert code == 2 and "invalid choice: 'cmyk'" in err
    code, out, err = cli(capsys, "featurize", photos, "-o", "-", "--color", "hsv", "--color-pairs")
    assert code == 0, err
    header = out.splitlines()[0].split(",")
    assert header[1:] == list(HaralickFeaturizer(color="hsv", color_pairs="all")
                              .get_feature_names_out())
    assert header[-1] == "SV_information_measure_of_correlation_2_diagonal_nesw_d1"
    code, _, err = cli(capsys, "featurize", photos, "--color-pairs")
    assert code == 1 and "color_pairs needs a colour space" in err


# --- optional packages are checked before any work ------------------------------------------

def featurizing_calls(monkeypatch):
    """A list that records each featurizer transform, to show none happened."""
    calls = []
    transform = HaralickFeaturizer.transform

    def recorded(self, X):
        calls.append(X)
        return transform(self, X)

    monkeypatch.setattr(HaralickFeaturizer, "transform", recorded)
    return calls


@pytest.mark.parametrize("name, module, what", [
    ("scan.nii.gz", "nibabel", "NIfTI"), ("scan.nrrd", "nrrd", "NRRD"),
])
def test_a_volume_reader_missing_is_one_line_before_featurizing(capsys, tmp_path, monkeypatch,
                                                                name, module, what):
    import tifffile

    reader = pytest.importorskip(module)
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "scans"
    folder.mkdir()
    with Image.open(sample("gravel", 3)) as im:
        gray = np.asarray(im.convert("L"))
    volume = np.ascontiguousarray(np.stack([gray[z:z + 24, :24] for z in range(6)]))
    tifffile.imwrite(folder / "a.tif", volume)  # read without an optional package
    if module == "nibabel":
        reader.save(reader.Nifti1Image(volume, np.eye(4)), folder / name)
    else:
        reader.write(str(folder / name), volume)
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    calls = featurizing_calls(monkeypatch)
    code, out, err = cli(capsys, "featurize", folder, "--volume", "-o", "features.csv")
    assert code == 1
    assert err.splitlines() == [
        f"haralick-learn featurize: error: --volume {folder / name}: reading {what} files "
        f"needs the optional package {module!r}: pip install 'haralick_learn[volumes]'"]
    assert calls == [] and not (tmp_path / "features.csv").exists()


def test_any_missing_module_is_one_error_line(capsys, photos, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def missing(self, X):
        raise ModuleNotFoundError("No module named 'somewhere_optional'")

    monkeypatch.setattr(HaralickFeaturizer, "transform", missing)
    code, out, err = cli(capsys, "featurize", photos, "-o", "features.csv")
    assert code == 1
    assert err.splitlines() == [
        "haralick-learn featurize: error: No module named 'somewhere_optional'"]


# --- every featurizer parameter is an option, generated from the parameter table ------------

#: An option of each row-changing parameter, and the value it gives the featurizer.
OPTIONS = {
    "distance": (["--distance", "1", "2"], [1, 2]),
    "aggregate": (["--aggregate", "mean_std"], "mean_std"),
    "ignore_zeros": (["--ignore-zeros"], True),
    "compute_14th_feature": (["--compute-14th-feature"], True),
    "use_x_minus_y_variance": (["--use-x-minus-y-variance"], True),
    "levels": (["--levels", "64"], 64),
    "backend": (["--backend", "mahotas"], "mahotas"),
    "features": (["--features", "ibsi"], "ibsi"),
    "offsets": (["--offsets", "skimage"], "skimage"),
    "bin_width": (["--bin-width", "2.5"], 2.5),
    "gray_range": (["--gray-range", "0,4095"], (0.0, 4095.0)),
    "volume": (["--volume"], True),
    "symmetric": (["--no-symmetric"], False),
    "preserve_haralick_bug": (["--preserve-haralick-bug"], True),
    "color": (["--color", "hsv"], "hsv"),
    "color_pairs": (["--color-pairs"], "all"),
    "gray_conversion": (["--gray-conversion", "mahotas"], "mahotas"),
}

#: The smallest command line of each command that featurizes.
FEATURIZING = {"featurize": ["featurize", "DIR"], "similar": ["similar", "DIR", "QUERY"],
               "index": ["index", "DIR", "-o", "x.index"], "evaluate": ["evaluate", "DIR"],
               "regions": ["regions", "IMAGE", "LABELS", "-o", "cells.csv"]}


@pytest.mark.parametrize("command", FEATURIZING)
def test_featurizing_commands_have_an_option_per_parameter(command):
    import inspect

    from haralick_learn._params import parameter_names
    from haralick_learn.cli import build_parser

    assert set(OPTIONS) == set(parameter_names())
    signature = inspect.signature(HaralickFeaturizer.__init__).parameters
    parser = build_parser()
    defaults = vars(parser.parse_args(FEATURIZING[command]))
    for name, (argv, value) in OPTIONS.items():
        assert defaults[name] == signature[name].default, name
        given = vars(parser.parse_args(FEATURIZING[command] + argv))
        assert given[name] == value, argv
        HaralickFeaturizer(**{name: given[name]})._validate_params()  # the estimator takes it
    # map and demo share some: the same defaults
    shared = vars(parser.parse_args(["map", "IMAGE", "-o", "maps.npy"]))
    for name in ("distance", "aggregate", "levels", "gray_conversion"):
        assert shared[name] == signature[name].default
    assert vars(parser.parse_args(["demo"]))["gray_conversion"] == "exact"


@pytest.mark.parametrize("argv, params", [
    (["--features", "ibsi", "--bin-width", "25", "--aggregate", "mean"],
     {"features": "ibsi", "bin_width": 25, "aggregate": "mean"}),
    (["--features", "contrast", "skimage_energy", "--distance", "1", "3", "--offsets", "skimage",
      "--levels", "64", "--gray-range", "image", "--no-symmetric"],
     {"features": ["contrast", "skimage_energy"], "distance": [1, 3], "offsets": "skimage",
      "levels": 64, "gray_range": "image", "symmetric": False}),
])
def test_featurize_options_give_the_featurizer_rows(capsys, tmp_path, monkeypatch, argv, params):
    monkeypatch.chdir(tmp_path)
    for kind in KINDS:
        shutil.copy(sample(kind, 1), tmp_path / f"{kind}01.jpg")
    code, out, err = cli(capsys, "featurize", ".", *argv, "-o", "out.csv")
    assert code == 0, err
    with open(tmp_path / "out.csv", newline="") as f:
        rows = list(csv.reader(f))
    featurizer = HaralickFeaturizer(**params)
    assert rows[0] == ["path", *featurizer.get_feature_names_out()]
    np.testing.assert_array_equal(
        np.array([row[1:] for row in rows[1:]], dtype=float),
        featurizer.fit_transform([f"./{kind}01.jpg" for kind in KINDS]))


def test_option_values_are_checked_as_usage_errors(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for argv, message in [(["--levels", "300"], "must be an int from 2 to 256, got 300"),
                          (["--bin-width", "0"], "must be a number > 0, got 0"),
                          # no width, as the estimator's Interval says
                          (["--bin-width", "inf"], "must be a number > 0, got inf"),
                          (["--gray-range", "4095"], "must be 'image' or two numbers LOW,HIGH"),
                          (["--aggregate", "median"], "invalid choice: 'median'")]:
        code, _, err = cli(capsys, "featurize", ".", *argv)
        assert code == 2 and message in err, err
    # what only the settings know: one line, exit code 1
    shutil.copy(sample("brick", 0), tmp_path)
    code, _, err = cli(capsys, "featurize", ".", "--bin-width", "25", "--levels", "64")
    assert code == 1 and errors(err) == ["haralick-learn featurize: error: bin_width sets the "
                                         "levels itself: levels and gray_range must be None "
                                         "with it"]


def test_an_index_refuses_queries_with_other_options(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "photos"
    folder.mkdir()
    for kind in KINDS:
        for i in range(2):
            shutil.copy(sample(kind, i), folder)
    settings = ["--features", "ibsi", "--bin-width", "25"]
    code, out, err = cli(capsys, "index", folder, "-o", "photos.index", *settings)
    assert code == 0, err
    code, out, err = cli(capsys, "similar", "--index", "photos.index", folder / "grass01.jpg",
                         "-k", "2", *settings)
    assert code == 0, err
    answer = out
    code, same, err = cli(capsys, "similar", folder, folder / "grass01.jpg", "-k", "2", *settings)
    assert code == 0 and same == answer  # the index answers as the folder does
    code, out, err = cli(capsys, "similar", "--index", "photos.index", folder / "grass01.jpg",
                         "--features", "ibsi", "--bin-width", "10")
    assert code == 1 and out == ""
    assert errors(err) == ["haralick-learn similar: error: index 'photos.index' was made with "
                           "other featurizer settings than the queries': bin_width=10 (index: "
                           "25); use the index's settings or rebuild it"]
    code, out, err = cli(capsys, "similar", "--index", "photos.index", folder / "grass01.jpg")
    assert code == 1
    assert "bin_width=None (index: 25), features='haralick' (index: 'ibsi')" in err
