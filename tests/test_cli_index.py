"""``haralick-learn index`` and ``similar --index`` on a real collection: the 90 sample images.

The reference is the command without an index (``similar DIR QUERY...``),
which featurizes the whole folder each time: from a saved index, the same
queries must get the same answers, line for line.
"""

import os
import shutil

import joblib
import pytest
from PIL import Image

import haralick_learn
from haralick_learn import cli as cli_module
from haralick_learn.cli import main
from haralick_learn.datasets import load_sample_images

from conftest import run_cli

SAMPLES = load_sample_images().paths


cli = run_cli


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """The 90 sample photographs in a folder, and an index of them (with a feature cache)."""
    root = tmp_path_factory.mktemp("index")
    folder = root / "photos"
    folder.mkdir()
    for path in SAMPLES:
        shutil.copy(path, folder)
    return folder, root / "photos.index"


@pytest.fixture(scope="module")
def index(collection):
    folder, path = collection
    cache = folder.parent / "cache"
    code = main(["index", str(folder), "-o", str(path), "--cache", str(cache), "--n-jobs", "2"])
    assert code == 0
    assert (cache / "haralick_learn").is_dir()  # the rows were cached
    return path


def test_index_answers_as_the_folder_does(capsys, collection, index, tmp_path, monkeypatch):
    folder, _ = collection
    monkeypatch.chdir(tmp_path)
    outside = tmp_path / "query.png"
    with Image.open(SAMPLES[45]) as im:
        im.rotate(90).save(outside)  # a new image, not in the collection
    queries = [folder / "brick03.jpg", outside, folder / "gravel29.jpg"]
    code, expected, err = cli(capsys, "similar", folder, *queries, "-k", "4")
    assert code == 0, err
    code, out, err = cli(capsys, "similar", "--index", index, *queries, "-k", "4",
                         "--plot", "similar.png")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:-1] == [line.replace(str(folder), str(folder.resolve()))
                          for line in expected.splitlines()]
    assert "brick03.jpg  distance" not in out.split("most similar to")[1]  # not its own
    assert lines[-1] == f"Wrote the similar-images figure to {tmp_path / 'similar.png'}"
    with Image.open(tmp_path / "similar.png") as im:
        assert im.format == "PNG" and im.width > im.height


def test_index_holds_featurizer_scaler_and_search(collection, index):
    saved = joblib.load(index)
    assert saved["version"] == haralick_learn.__version__
    assert len(saved["paths"]) == 90
    assert saved["search"].n_samples_fit_ == 90
    assert saved["featurizer"].get_params()["distance"] == 1
    assert saved["scaler"].n_features_in_ == saved["search"].n_features_in_ == 52


def test_index_from_another_version_is_refused(capsys, collection, tmp_path, monkeypatch):
    folder, _ = collection
    old = tmp_path / "old.index"
    monkeypatch.setattr(haralick_learn, "__version__", "0.0.1")
    assert main(["index", str(folder / "brick0*.jpg"), "-o", str(old)]) == 0
    monkeypatch.undo()
    code, out, err = cli(capsys, "similar", "--index", old, folder / "brick01.jpg")
    assert code == 1
    assert f"index '{old}' was made by haralick_learn 0.0.1, this is " \
           f"{haralick_learn.__version__}" in err


def test_index_with_other_featurizer_settings_is_refused(capsys, collection, tmp_path,
                                                         monkeypatch):
    folder, _ = collection
    other = tmp_path / "other.index"
    featurizer = cli_module._featurizer
    monkeypatch.setattr(cli_module, "_featurizer",
                        lambda args, verbose=1: featurizer(args, verbose).set_params(
                            aggregate="mean", distance=[1, 2]))
    assert main(["index", str(folder / "grass0*.jpg"), "-o", str(other)]) == 0
    monkeypatch.undo()
    code, out, err = cli(capsys, "similar", "--index", other, folder / "grass01.jpg")
    assert code == 1
    assert "other featurizer settings" in err
    assert "aggregate=None (index: 'mean')" in err and "distance=1 (index: [1, 2])" in err


def test_similar_needs_a_query_or_an_index(capsys, collection):
    folder, _ = collection
    code, out, err = cli(capsys, "similar", folder)
    assert code == 2
    assert "QUERY (or --index INDEX)" in err


@pytest.mark.parametrize("content, reason", [
    (None, "no such file"), (b"not a pickle", "cannot be read"),
    ("dict", "is not an index written by 'haralick-learn index'"),
])
def test_unreadable_index_is_named(capsys, collection, tmp_path, content, reason):
    folder, _ = collection
    path = tmp_path / "bad.index"
    if content == "dict":
        joblib.dump({"format": "something else"}, path)
    elif content is not None:
        path.write_bytes(content)
    code, out, err = cli(capsys, "similar", "--index", path, folder / "brick01.jpg")
    assert code == 1
    assert f"'{path}'" in err and reason in err


def test_approximate_index(capsys, collection, tmp_path):
    pytest.importorskip("pynndescent")
    folder, _ = collection
    path = tmp_path / "nn.index"
    assert main(["index", str(folder), "-o", str(path), "--algorithm", "nndescent"]) == 0
    code, out, err = cli(capsys, "similar", "--index", path, folder / "grass10.jpg", "-k", "3")
    assert code == 0, err
    assert joblib.load(path)["search"].algorithm == "nndescent"
    assert out.count("distance") == 3
    assert os.path.basename(str(folder / "grass10.jpg")) not in out.split(":", 1)[1]
