"""``haralick-learn index`` and ``similar --index`` on a real collection: the 90 sample images.

The reference is the command without an index (``similar DIR QUERY...``),
which featurizes the whole folder each time: from a saved index, the same
queries must get the same answers, line for line.
"""

import json
import os
import pickle
import shutil
import sys
import types

import joblib
import numpy as np
import pytest
from PIL import Image
from sklearn.preprocessing import StandardScaler

import haralick_learn
from haralick_learn.cli import images as image_commands
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


def read_npz(path):
    """An index file's arrays and metadata, as any reader would load them: no pickle."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    return json.loads(arrays.pop("metadata").tobytes().decode("utf-8")), arrays


def test_index_holds_arrays_and_json_metadata(collection, index):
    folder, _ = collection
    metadata, arrays = read_npz(index)
    assert metadata["format"] == "haralick-learn index" and metadata["format_version"] == 2
    assert metadata["haralick_learn_version"] == haralick_learn.__version__
    assert metadata["paths"] == sorted(str(folder / os.path.basename(p)) for p in SAMPLES)
    assert metadata["feature_params"]["distance"] == 1
    assert metadata["search"]["algorithm"] == "brute"
    assert len(metadata["feature_names"]) == 52
    features = arrays["features"]
    assert features.shape == (90, 52)
    featurizer = haralick_learn.HaralickFeaturizer()
    np.testing.assert_array_equal(features[:3], featurizer.fit_transform(metadata["paths"][:3]))
    scaler = StandardScaler().fit(features)
    np.testing.assert_array_equal(arrays["scaler_mean"], scaler.mean_)
    np.testing.assert_array_equal(arrays["scaler_scale"], scaler.scale_)
    first = metadata["paths"][0]
    assert arrays["file_size"][0] == os.path.getsize(first)
    assert arrays["file_mtime_ns"][0] == os.stat(first).st_mtime_ns
    with open(first, "rb") as f:
        import hashlib

        assert arrays["file_blake2b"][0].tobytes() == hashlib.blake2b(
            f.read(), digest_size=32).digest()


class RunsCode:
    """Unpickling this writes a marker file: what a crafted index could do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('ran')",)


@pytest.mark.parametrize("writer", ["joblib", "pickle"])
def test_a_pickled_index_is_refused_and_never_run(capsys, collection, tmp_path, writer):
    folder, _ = collection
    marker = tmp_path / "marker"
    path = tmp_path / "crafted.index"
    crafted = {"format": "haralick-learn index 1", "version": haralick_learn.__version__,
               "payload": RunsCode(marker)}
    if writer == "joblib":
        joblib.dump(crafted, path)
    else:
        path.write_bytes(pickle.dumps(crafted))
    try:
        code, out, err = cli(capsys, "similar", "--index", path, folder / "brick01.jpg")
    finally:
        assert not marker.exists(), "loading the index ran the code it holds"
    assert code == 1
    assert err.splitlines() == [
        f"haralick-learn similar: error: index '{path}': a pickle (as indexes of earlier "
        "haralick_learn versions were, or another program's), refused: loading a pickle can "
        "run code; rebuild the index with 'haralick-learn index'"]


def test_index_from_another_version_is_refused(capsys, collection, tmp_path, monkeypatch):
    folder, _ = collection
    old = tmp_path / "old.index"
    monkeypatch.setattr(haralick_learn._version, "__version__", "0.0.1")  # what the package reads
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
    featurizer = image_commands._featurizer
    monkeypatch.setattr(image_commands, "_featurizer",
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


def savez(path, **arrays):
    with open(path, "wb") as f:  # np.savez would add .npz to a name
        np.savez(f, **arrays)


def rewrite(index, path, *, metadata=None, drop=(), **arrays):
    """A copy of a valid index with its metadata changed or arrays replaced or dropped."""
    saved_metadata, saved = read_npz(index)
    saved.update(arrays)
    for name in drop:
        saved.pop(name)
    text = json.dumps(metadata(saved_metadata) if metadata else saved_metadata)
    savez(path, metadata=np.frombuffer(text.encode(), dtype=np.uint8), **saved)


def without(key):
    return lambda metadata: {k: v for k, v in metadata.items() if k != key}


@pytest.mark.parametrize("make, reason", [
    (None, "no such file"),
    (lambda index, path: path.write_bytes(b"not an index at all"),
     "not an index written by 'haralick-learn index' (not an .npz archive)"),
    (lambda index, path: joblib.dump({"format": "haralick-learn index 1"}, path),
     "a pickle (as indexes of earlier haralick_learn versions were"),
    (lambda index, path: path.write_bytes(index.read_bytes()[:5000]), "cannot be read"),
    (lambda index, path: savez(path, features=np.zeros((2, 52))),
     "not an index written by 'haralick-learn index' (an .npz archive without metadata)"),
    (lambda index, path: savez(path, metadata=np.frombuffer(b"{x", np.uint8)),
     "its metadata cannot be read"),
    (lambda index, path: rewrite(index, path, metadata=lambda m: {**m, "format": "other"}),
     "its metadata names no such format"),
    (lambda index, path: rewrite(index, path, metadata=without("paths")),
     "its metadata has no 'paths'"),
    (lambda index, path: rewrite(index, path, metadata=without("haralick_learn_version")),
     "its metadata has no 'haralick_learn_version'"),
    (lambda index, path: rewrite(index, path, metadata=lambda m: {**m, "format_version": 3}),
     "written in index format version 3, newer than this haralick_learn reads (2)"),
    (lambda index, path: rewrite(index, path, metadata=lambda m: {
        **m, "search": {"algorithm": "nndescent", "algorithm_params": {"tree_init": "x"}}}),
     "its metadata's search {'algorithm': 'nndescent', 'algorithm_params': {'tree_init': 'x'}} "
     "is not one this haralick_learn builds"),
    *[(lambda index, path, params=params: rewrite(index, path, metadata=lambda m: {
        **m, "search": {"algorithm": "nndescent", "metric": "euclidean",
                        "algorithm_params": params}}),
       f"its metadata's search {{'algorithm': 'nndescent', 'metric': 'euclidean', "
       f"'algorithm_params': {params!r}}} is not one this haralick_learn builds")
      for params in [{"n_neighbors": 2.5}, {"random_state": 1.5}, {"random_state": -1},
                     {"n_jobs": 0}, {"epsilon": float("nan")}]],
    (lambda index, path: rewrite(index, path, metadata=lambda m: {
        **m, "search": {**m["search"], "metric": "cosine"}}),
     "its metadata's search {'algorithm': 'brute', 'metric': 'cosine', 'algorithm_params': "
     "None} is not one this haralick_learn builds"),
    (lambda index, path: rewrite(
        index, path, metadata=lambda m: {**m, "feature_names": m["feature_names"][:3]},
        **{name: array[..., :3] for name, array in read_npz(index)[1].items()
           if name in ("features", "scaler_mean", "scaler_var", "scaler_scale")}),
     "its feature names are not those of its featurizer settings (3 features, not 52)"),
    (lambda index, path: rewrite(index, path, metadata=lambda m: {**m, "folder": None}),
     "its metadata's 'folder' is not a path"),
    (lambda index, path: rewrite(index, path, drop=["scaler_scale"]),
     "it has no 'scaler_scale' array"),
    (lambda index, path: rewrite(index, path, features=np.zeros((89, 52))),
     "its 'features' array is float64 (89, 52), not float64 (90, 52) (90 images, "
     "52 features)"),
])
def test_a_malformed_or_foreign_index_is_one_error_line(capsys, collection, index, tmp_path,
                                                        make, reason):
    folder, _ = collection
    path = tmp_path / "bad.index"
    if make is not None:
        make(index, path)
    code, out, err = cli(capsys, "similar", "--index", path, folder / "brick01.jpg")
    assert code == 1
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"haralick-learn similar: error: index '{path}'")
    assert reason in err


def test_an_object_array_in_an_index_is_never_unpickled(capsys, collection, index, tmp_path):
    folder, _ = collection
    marker = tmp_path / "marker"
    path = tmp_path / "crafted.index"
    rewrite(index, path, file_size=np.array([RunsCode(marker)] * 90, dtype=object))
    try:
        code, out, err = cli(capsys, "similar", "--index", path, folder / "brick01.jpg")
    finally:
        assert not marker.exists(), "loading the index ran the code it holds"
    assert code == 1
    assert err.splitlines() == [f"haralick-learn similar: error: index '{path}': its "
                                "'file_size' array cannot be read (Object arrays cannot be "
                                "loaded when allow_pickle=False)"]


@pytest.fixture
def small(tmp_path):
    """Nine sample photographs in a folder, indexed."""
    folder = tmp_path / "small"
    folder.mkdir()
    for kind in ("brick", "grass", "gravel"):
        for i in range(3):
            shutil.copy(next(p for p in SAMPLES if p.endswith(f"{kind}{i:02d}.jpg")), folder)
    path = tmp_path / "small.index"
    assert main(["index", str(folder), "-o", str(path)]) == 0
    return folder, path


def test_settings_spelled_otherwise_answer_from_the_index(capsys, small, monkeypatch):
    # --offsets mahotas is the default of Haralick's set, and --features haralick its default
    # list: the same rows, so the index answers (it refused them as other settings)
    folder, path = small
    monkeypatch.chdir(folder.parent)
    queries = [folder / "grass00.jpg", folder / "brick02.jpg"]
    code, expected, err = cli(capsys, "similar", "--index", path, *queries)
    assert code == 0, err
    code, out, err = cli(capsys, "similar", "--index", path, *queries, "--offsets", "mahotas",
                         "--features", "haralick", "--backend", "numba")
    assert code == 0, err
    assert out == expected
    code, out, err = cli(capsys, "similar", "--index", path, *queries, "--offsets", "skimage")
    assert code == 1 and "offsets='skimage' (index: None)" in err  # other rows: refused


def test_an_image_changed_since_indexing_is_featurized_again(capsys, small, monkeypatch):
    folder, path = small
    monkeypatch.chdir(folder.parent)
    changed = folder / "brick01.jpg"
    shutil.copy(next(p for p in SAMPLES if p.endswith("grass20.jpg")), changed)
    queries = [folder / "grass00.jpg", changed]
    code, expected, err = cli(capsys, "similar", folder, *queries)
    assert code == 0, err
    code, out, err = cli(capsys, "similar", "--index", path, *queries)
    assert code == 0, err
    assert out == expected  # the row of brick01.jpg as it is now, not the indexed one
    assert err.splitlines() == [
        "haralick-learn similar: warning: 1 image changed since the index was made, "
        f"featurized again: {changed} (rebuild the index to skip this)"]


def test_an_image_touched_or_gone_since_indexing(capsys, small, monkeypatch):
    folder, path = small
    monkeypatch.chdir(folder.parent)
    query = folder / "gravel02.jpg"
    code, before, err = cli(capsys, "similar", "--index", path, query)
    assert code == 0 and err == ""
    os.utime(folder / "grass01.jpg", ns=(0, 10**18))  # same bytes, another time: same row
    code, out, err = cli(capsys, "similar", "--index", path, query)
    assert (code, out, err) == (0, before, "")
    (folder / "gravel00.jpg").unlink()
    code, expected, err = cli(capsys, "similar", folder, query)
    assert code == 0, err
    code, out, err = cli(capsys, "similar", "--index", path, query)
    assert code == 0, err
    assert out == expected
    assert err.splitlines() == ["haralick-learn similar: warning: 1 image of the index no "
                                f"longer exists, left out: {folder / 'gravel00.jpg'}"]


def test_index_never_writes_onto_an_image_it_indexes(capsys, small):
    folder, _ = small
    target = folder / "grass02.jpg"
    content = target.read_bytes()
    code, out, err = cli(capsys, "index", folder, "-o", target)
    assert code == 1
    assert len(err.splitlines()) == 1
    assert err.startswith(f"haralick-learn index: error: cannot write '{target}': it is ")
    assert target.read_bytes() == content


def test_index_and_its_cache_in_one_path_fail_before_featurizing(capsys, small, tmp_path,
                                                                  monkeypatch):
    folder, _ = small
    calls = featurizing_calls(monkeypatch)
    for path in (tmp_path / "new.index", tmp_path / "small.index"):  # new, and one to replace
        code, out, err = cli(capsys, "index", folder, "-o", path, "--cache", path)
        assert (code, out, calls) == (1, "", [])
        assert err == (f"haralick-learn index: error: cannot write '{path}': it is the "
                       "--cache folder\n")
    assert not (tmp_path / "new.index").exists()
    assert (tmp_path / "small.index").is_file()


def featurizing_calls(monkeypatch):
    """A list that records each featurizer transform, to show none happened."""
    calls = []
    transform = haralick_learn.HaralickFeaturizer.transform

    def recorded(self, X):
        calls.append(X)
        return transform(self, X)

    monkeypatch.setattr(haralick_learn.HaralickFeaturizer, "transform", recorded)
    return calls


def test_nndescent_without_pynndescent_fails_before_featurizing(capsys, small, tmp_path,
                                                                monkeypatch):
    folder, _ = small
    nn_index = tmp_path / "nn.index"
    # An nndescent index holds the rows (its graph is built at each load): written with an empty
    # stand-in module, as pynndescent's import compiles its code for about 20 s in a process
    with monkeypatch.context() as patched:
        patched.setitem(sys.modules, "pynndescent", types.ModuleType("pynndescent"))
        assert main(["index", str(folder), "-o", str(nn_index), "--algorithm", "nndescent"]) == 0
    monkeypatch.setitem(sys.modules, "pynndescent", None)  # import pynndescent fails
    calls = featurizing_calls(monkeypatch)
    code, out, err = cli(capsys, "index", folder, "-o", tmp_path / "other.index",
                         "--algorithm", "nndescent")
    assert code == 1
    assert err.splitlines() == ['haralick-learn index: error: --algorithm nndescent needs '
                                'pynndescent: pip install "haralick_learn[approximate]"']
    assert not (tmp_path / "other.index").exists()
    outside = tmp_path / "query.png"
    with Image.open(SAMPLES[45]) as im:
        im.rotate(90).save(outside)
    code, out, err = cli(capsys, "similar", "--index", nn_index, outside)
    assert code == 1
    assert err.splitlines() == [f"haralick-learn similar: error: index '{nn_index}' (an "
                                "nndescent search) needs pynndescent: pip install "
                                '"haralick_learn[approximate]"']
    assert calls == []


@pytest.mark.slow  # pynndescent compiles its graph search for 30-40 s in each new process
def test_approximate_index(capsys, collection, tmp_path):
    pytest.importorskip("pynndescent")
    folder, _ = collection
    path = tmp_path / "nn.index"
    assert main(["index", str(folder), "-o", str(path), "--algorithm", "nndescent"]) == 0
    metadata, _ = read_npz(path)
    assert metadata["search"] == {"algorithm": "nndescent", "metric": "euclidean",
                                  "algorithm_params": {"random_state": 0, "n_jobs": 1}}
    query = folder / "grass10.jpg"
    code, out, err = cli(capsys, "similar", "--index", path, query, "-k", "3")
    assert code == 0, err
    assert out.count("distance") == 3
    # The graph's build is long (pynndescent compiles): said before it starts.
    assert err.splitlines() == ["haralick-learn similar: building the nndescent search graph of "
                                "90 images (about a minute: pynndescent compiles its code at "
                                "each run)"]
    assert os.path.basename(str(query)) not in out.split(":", 1)[1]
    # The graph, rebuilt at each load, is the same graph: the same answers.
    assert cli(capsys, "similar", "--index", path, query, "-k", "3", "--n-jobs", "2")[1] == out


def test_an_interrupted_index_write_keeps_the_previous_index_and_leaves_nothing(capsys, small,
                                                                               monkeypatch):
    folder, _ = small
    out = folder.parent / "photos.index"
    assert run_cli(capsys, "index", folder, "-o", out)[0] == 0
    before = out.read_bytes()
    leftover = folder.parent / f"photos.index.{os.getpid()}.partial"  # not this run's
    leftover.write_bytes(b"someone else's file")
    listing = sorted(os.listdir(folder.parent))

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    code, _, _ = run_cli(capsys, "index", folder, "-o", out)
    assert code != 0
    assert out.read_bytes() == before and leftover.read_bytes() == b"someone else's file"
    assert sorted(os.listdir(folder.parent)) == listing  # no temporary left behind
