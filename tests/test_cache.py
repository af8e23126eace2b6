"""The per-image feature cache (``HaralickFeaturizer(memory=...)``)."""

import os
import shutil
import threading
import time
import warnings
from dataclasses import replace
from pathlib import Path

import joblib
import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import haralick_learn
from haralick_learn import HaralickFeaturizer, ImageFeaturizationWarning
from haralick_learn import _cache, _pipeline
from haralick_learn._cache import CACHE_FORMAT_VERSION, FeatureCache
from haralick_learn.io.decode import describe_source, split_sample
from haralick_learn._settings import TextureSettings
from haralick_learn.datasets import load_sample_images


@pytest.fixture
def computed(monkeypatch):
    """Count the rows really computed (not read from the cache), per thread-safe counter."""
    calls = []
    lock = threading.Lock()
    original_row, original_levels = _pipeline.row_from_gray, _pipeline.sample_levels

    def counting_row(gray, source, settings, *mask):  # one image at a time
        with lock:
            calls.append(source)
        return original_row(gray, source, settings, *mask)

    def counting_levels(sample, index, settings):  # each image of a batch
        with lock:
            calls.append(describe_source(split_sample(sample)[0], index))
        return original_levels(sample, index, settings)

    monkeypatch.setattr(_pipeline, "row_from_gray", counting_row)
    monkeypatch.setattr(_pipeline, "sample_levels", counting_levels)
    return calls


@pytest.fixture(scope="module")
def sample_paths():
    return load_sample_images().paths[::9]  # 10 images, the three classes


def entries(folder):
    return sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(folder)
        for name in names
        if name.endswith(".row")
    )


def test_second_run_reads_the_cache(sample_paths, tmp_path, computed):
    expected = HaralickFeaturizer().fit_transform(sample_paths)
    assert len(computed) == len(sample_paths)
    featurizer = HaralickFeaturizer(memory=tmp_path)
    first = featurizer.fit_transform(sample_paths)
    assert len(computed) == 2 * len(sample_paths)
    assert len(entries(tmp_path)) == len(sample_paths)
    second = featurizer.fit_transform(sample_paths)
    assert len(computed) == 2 * len(sample_paths)  # nothing recomputed
    np.testing.assert_array_equal(first, expected)
    np.testing.assert_array_equal(second, expected)


def test_str_pathlike_and_joblib_memory_share_one_layout(sample_paths, tmp_path, computed):
    HaralickFeaturizer(memory=str(tmp_path)).fit_transform(sample_paths[:3])
    HaralickFeaturizer(memory=tmp_path).fit_transform(sample_paths[:3])
    memory = joblib.Memory(location=tmp_path, verbose=0)
    HaralickFeaturizer(memory=memory).fit_transform(sample_paths[:3])
    assert len(computed) == 3
    root = tmp_path / "haralick_learn" / f"v{CACHE_FORMAT_VERSION}"
    assert len(entries(root)) == 3
    # the folder the scaling guide names
    guide = (Path(__file__).parents[1] / "docs" / "scaling.md").read_text(encoding="utf-8")
    assert f"`<folder>/haralick_learn/v{CACHE_FORMAT_VERSION}/`" in guide


def test_joblib_memory_without_location_caches_nothing(sample_paths, tmp_path, computed):
    featurizer = HaralickFeaturizer(memory=joblib.Memory(location=None))
    featurizer.fit_transform(sample_paths[:2])
    featurizer.fit_transform(sample_paths[:2])
    assert len(computed) == 4


def test_cross_val_score_computes_each_image_once(tmp_path, computed):
    paths, y = load_sample_images(return_X_y=True)
    paths, y = paths[::6], y[::6]  # 15 images, 5 per class
    clf = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])
    pipe = Pipeline([("feat", HaralickFeaturizer(memory=tmp_path))] + clf.steps)
    cached = cross_val_score(pipe, paths, y, cv=5)
    # Without the cache each image would be computed 5 times (4 fits, 1 test).
    assert len(computed) == len(paths)
    assert sorted(computed) == sorted(repr(p) for p in paths)
    # Same scores as the pipeline without the featurizer on precomputed rows.
    X = HaralickFeaturizer().fit_transform(paths)
    np.testing.assert_array_equal(cached, cross_val_score(clf, X, y, cv=5))


def test_changed_file_gets_new_features(sample_paths, tmp_path, computed):
    expected = HaralickFeaturizer().fit_transform([sample_paths[-1]])
    computed.clear()
    path = tmp_path / "image.jpg"
    shutil.copyfile(sample_paths[0], path)
    featurizer = HaralickFeaturizer(memory=tmp_path / "cache")
    before = featurizer.fit_transform([path])
    # Same name, new content.
    shutil.copyfile(sample_paths[-1], path)
    after = featurizer.fit_transform([path])
    assert len(computed) == 2
    np.testing.assert_array_equal(after, expected)
    assert not np.array_equal(before, after)
    # A copy elsewhere has the same content, hence the same entry.
    copy = tmp_path / "copy.jpg"
    shutil.copyfile(path, copy)
    np.testing.assert_array_equal(featurizer.fit_transform([copy]), after)
    assert len(computed) == 2


def write_bmp(path, seed):
    """A 64 x 64 gray BMP: every such file has the same size, whatever its pixels."""
    pixels = np.random.default_rng(seed).integers(0, 256, (64, 64), dtype=np.uint8)
    Image.fromarray(pixels).save(path, format="BMP")
    return path


@pytest.fixture
def eager_digests(monkeypatch):
    """Remember file digests at once (no 2 s settling delay), from an empty memo."""
    monkeypatch.setattr(_cache, "_RACY_NS", 0)
    monkeypatch.setattr(_cache, "_DIGESTS", {})
    reads = []
    real_open = open

    def counting_open(file, mode="r", *args, **kwargs):
        if "r" in mode and str(file).endswith(".bmp"):
            reads.append(file)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(_cache, "open", counting_open, raising=False)
    return reads


def test_unchanged_file_is_hashed_once_per_process(tmp_path, computed, eager_digests):
    paths = [write_bmp(tmp_path / f"im{i}.bmp", i) for i in range(3)]
    featurizer = HaralickFeaturizer(memory=tmp_path / "cache")
    for _ in range(4):
        featurizer.fit_transform(paths)
    assert len(eager_digests) == 3
    assert len(computed) == 3


def test_same_size_rewrite_with_mtime_restored_gets_new_features(
    tmp_path, computed, eager_digests
):
    path = write_bmp(tmp_path / "im.bmp", 0)
    featurizer = HaralickFeaturizer(memory=tmp_path / "cache")
    before = featurizer.fit_transform([path])
    stat = os.stat(path)
    time.sleep(0.05)  # past the file system's timestamp tick
    write_bmp(tmp_path / "other.bmp", 1)
    with open(path, "r+b") as f:  # in place: same inode, same size
        f.write((tmp_path / "other.bmp").read_bytes())
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as `cp -p` or `touch -d` would
    assert os.path.getsize(path) == stat.st_size and os.stat(path).st_mtime_ns == stat.st_mtime_ns
    after = featurizer.fit_transform([path])
    assert len(computed) == 2
    assert not np.array_equal(before, after)
    np.testing.assert_array_equal(after,
                                  HaralickFeaturizer().fit_transform([tmp_path / "other.bmp"]))


def test_freshly_written_file_is_not_remembered(tmp_path, monkeypatch):
    monkeypatch.setattr(_cache, "_DIGESTS", {})
    path = write_bmp(tmp_path / "im.bmp", 0)
    HaralickFeaturizer(memory=tmp_path / "cache").fit_transform([path])
    assert _cache._DIGESTS == {}  # a rewrite within the same timestamp tick stays visible


@pytest.mark.parametrize(
    "params",
    [
        {"distance": 2},
        {"distance": [1, 2]},
        {"aggregate": "mean"},
        {"aggregate": "mean_ptp"},
        {"ignore_zeros": True},
        {"compute_14th_feature": True},
        {"use_x_minus_y_variance": True},
        {"levels": 32},
        # The backends agree to ~1e-12, not bit for bit: each caches its own rows.
        {"backend": "mahotas"},
    ],
    ids=str,
)
def test_parameters_that_change_the_numbers_change_the_key(
    sample_paths, tmp_path, computed, params
):
    image = sample_paths[:1]
    base = HaralickFeaturizer(memory=tmp_path)
    base.fit_transform(image)
    other = HaralickFeaturizer(memory=tmp_path, **params)
    got = other.fit_transform(image)
    assert len(computed) == 2
    assert len(entries(tmp_path)) == 2
    np.testing.assert_array_equal(got, HaralickFeaturizer(**params).fit_transform(image))


@pytest.mark.parametrize(
    "params", [{"n_jobs": 2}, {"verbose": 1}, {"on_error": "nan"}],
    ids=str,
)
def test_parameters_that_keep_the_numbers_share_the_key(
    sample_paths, tmp_path, computed, params, capsys
):
    HaralickFeaturizer(memory=tmp_path).fit_transform(sample_paths[:2])
    HaralickFeaturizer(memory=tmp_path, **params).fit_transform(sample_paths[:2])
    assert len(computed) == 2


def test_key_covers_content_settings_and_versions(tmp_path):
    settings = TextureSettings(backend="mahotas")
    cache = FeatureCache(tmp_path, settings)
    image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    key, _ = cache.key(image)
    assert key == cache.key(image.copy())[0]
    # The backends agree to ~1e-12, not bit for bit: a row is the backend's own.
    assert key != FeatureCache(tmp_path, replace(settings, backend="numba")).key(image)[0]
    assert key != cache.key(image.reshape(4, 3))[0]  # shape (hence image_shape)
    assert key != cache.key(image.astype(np.uint16))[0]  # dtype
    assert key != cache.key(image[:, ::-1])[0]  # pixels
    assert key != FeatureCache(tmp_path, replace(settings, levels=8)).key(image)[0]
    assert CACHE_FORMAT_VERSION >= 1 and haralick_learn.__version__.encode() in cache.params
    assert cache.key(np.array(["a", "b"], dtype=object)) == (None, None)
    assert cache.key(tmp_path / "missing.png") == (None, None)


def test_arrays_and_pil_images_are_cached_by_pixels(sample_paths, tmp_path, computed):
    with Image.open(sample_paths[0]) as im:
        im.load()
        array = np.asarray(im)
        featurizer = HaralickFeaturizer(memory=tmp_path)
        first = featurizer.fit_transform([array, im, array[:100]])
        again = featurizer.fit_transform([array.copy(), im.copy(), array[:100].copy()])
    assert len(computed) == 3
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first[0], first[1])
    # Rows of a 2-D matrix: image_shape decides the images, hence the keys.
    flat = np.asarray(Image.open(sample_paths[1]).convert("L"), dtype=np.uint8)[:40, :40]
    X = np.vstack([flat.ravel(), flat[::-1].ravel()])
    square = HaralickFeaturizer(memory=tmp_path, image_shape=(40, 40)).fit_transform(X)
    wide = HaralickFeaturizer(memory=tmp_path, image_shape=(20, 80)).fit_transform(X)
    np.testing.assert_array_equal(square, HaralickFeaturizer(image_shape=(40, 40)).fit_transform(X))
    np.testing.assert_array_equal(wide, HaralickFeaturizer(image_shape=(20, 80)).fit_transform(X))
    assert len(computed) == 3 + 2 * 2 + 2 * 2  # cached runs then the uncached references


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[: len(blob) // 2],  # truncated
        lambda blob: b"",  # empty
        lambda blob: os.urandom(len(blob)),  # garbage of the right length
        lambda blob: blob[:60] + bytes([blob[60] ^ 1]) + blob[61:],  # one flipped bit in a value
        lambda blob: blob + b"\0" * 8,  # one value too many
    ],
    ids=["truncated", "empty", "garbage", "bit-flip", "wrong-shape"],
)
def test_corrupt_entry_is_recomputed_and_rewritten(sample_paths, tmp_path, computed, damage):
    featurizer = HaralickFeaturizer(memory=tmp_path)
    expected = featurizer.fit_transform(sample_paths[:1])
    (entry,) = entries(tmp_path)
    with open(entry, "rb") as f:
        blob = f.read()
    with open(entry, "wb") as f:
        f.write(damage(blob))
    np.testing.assert_array_equal(featurizer.fit_transform(sample_paths[:1]), expected)
    assert len(computed) == 2
    with open(entry, "rb") as f:
        assert f.read() == blob  # rewritten
    featurizer.fit_transform(sample_paths[:1])
    assert len(computed) == 2


def test_entry_of_another_key_is_not_trusted(sample_paths, tmp_path, computed):
    featurizer = HaralickFeaturizer(memory=tmp_path)
    expected = featurizer.fit_transform(sample_paths[:2])
    first, second = entries(tmp_path)
    shutil.copyfile(first, second)  # a valid entry, but stored under the wrong name
    np.testing.assert_array_equal(featurizer.fit_transform(sample_paths[:2]), expected)
    assert len(computed) == 3


def test_parallel_workers_share_one_cache(tmp_path, computed):
    paths = load_sample_images().paths[::5]  # 18 images
    expected = HaralickFeaturizer(n_jobs=1).fit_transform(paths)
    computed.clear()
    # Every image twice in one batch: the two threads race for the same keys.
    X = paths + paths[::-1]
    got = HaralickFeaturizer(memory=tmp_path, n_jobs=2).fit_transform(X)
    np.testing.assert_array_equal(got, np.vstack([expected, expected[::-1]]))
    assert len(entries(tmp_path)) == len(paths)
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    n_computed = len(computed)
    again = HaralickFeaturizer(memory=tmp_path, n_jobs=2).fit_transform(paths)
    np.testing.assert_array_equal(again, expected)
    assert len(computed) == n_computed


def test_failed_images_are_not_cached(sample_paths, tmp_path, computed):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    featurizer = HaralickFeaturizer(memory=tmp_path / "cache", on_error="nan")
    with pytest.warns(ImageFeaturizationWarning):
        X = featurizer.fit_transform([sample_paths[0], bad, tmp_path / "missing.jpg"])
    assert np.isnan(X[1:]).all() and not np.isnan(X[0]).any()
    assert len(entries(tmp_path / "cache")) == 1
    # The bad file is fixed: its real row is computed, not a cached NaN row.
    shutil.copyfile(sample_paths[1], bad)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImageFeaturizationWarning)
        row = featurizer.fit_transform([bad])
    np.testing.assert_array_equal(row, HaralickFeaturizer().fit_transform([sample_paths[1]]))


def test_errors_still_raise_with_a_cache(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.jpg"):
        HaralickFeaturizer(memory=tmp_path).fit_transform([tmp_path / "missing.jpg"])


def test_unwritable_cache_warns_and_still_returns_rows(sample_paths, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.warns(RuntimeWarning, match="could not write"):
        X = HaralickFeaturizer(memory=tmp_path).fit_transform(sample_paths[:1])
    np.testing.assert_array_equal(X, HaralickFeaturizer().fit_transform(sample_paths[:1]))
    assert not [n for _, _, names in os.walk(tmp_path) for n in names]  # no temp file left


def test_cache_folder_that_cannot_be_created_gives_rows_and_one_warning(
    sample_paths, tmp_path, monkeypatch
):
    """A read-only file system: every row returned, one warning for the whole transform."""
    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(os, "makedirs", read_only)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X = HaralickFeaturizer(memory=tmp_path / "cache").fit_transform(sample_paths[:4])
    cache_warnings = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(cache_warnings) == 1
    assert "4 of 4 rows were computed but not cached" in str(cache_warnings[0].message)
    assert "Read-only file system" in str(cache_warnings[0].message)
    monkeypatch.undo()
    np.testing.assert_array_equal(X, HaralickFeaturizer().fit_transform(sample_paths[:4]))


def test_memory_is_a_plain_parameter(tmp_path):
    featurizer = HaralickFeaturizer(memory=tmp_path)
    assert featurizer.get_params()["memory"] == tmp_path
    cloned = clone(featurizer)
    assert cloned.memory == tmp_path
    assert cloned.set_params(memory=None).memory is None
    memory = joblib.Memory(location=tmp_path, verbose=0)
    assert clone(HaralickFeaturizer(memory=memory)).memory.location == memory.location
    assert "memory" in repr(HaralickFeaturizer(memory="cache_dir"))


@pytest.mark.parametrize("memory", [3, object(), ["a"]])
def test_bad_memory_is_rejected(memory):
    with pytest.raises(ValueError, match="memory"):
        HaralickFeaturizer(memory=memory).fit_transform([np.zeros((4, 4), np.uint8)])


def test_rows_read_while_pillow_fills_truncated_files_are_not_cached(sample_paths, tmp_path,
                                                                       monkeypatch):
    # Under the program's LOAD_TRUNCATED_IMAGES a truncated file is read, missing rows filled;
    # cached, that row would later be served where the default reading refuses the file.
    from PIL import ImageFile

    truncated = tmp_path / "truncated.jpg"
    data = open(sample_paths[0], "rb").read()
    truncated.write_bytes(data[: len(data) // 2])
    featurizer = HaralickFeaturizer(memory=tmp_path / "cache")
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.warns(RuntimeWarning, match="LOAD_TRUNCATED_IMAGES is True"):
        filled = featurizer.fit_transform([truncated, sample_paths[1]])
    assert np.isfinite(filled).all() and entries(tmp_path / "cache") == []
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", False)
    with pytest.raises(ValueError, match="truncated.jpg"):
        featurizer.fit_transform([truncated])


@pytest.mark.parametrize("stored_under", [None, 10**9, Image.MAX_IMAGE_PIXELS])
def test_rows_are_served_only_under_the_decompression_bomb_limit_they_were_read_under(
        sample_paths, tmp_path, monkeypatch, computed, stored_under):
    # A row read under no limit, a raised one or Pillow's default is of a file that a lower
    # Image.MAX_IMAGE_PIXELS refuses (beyond twice the limit): that reading must refuse it too.
    path = sample_paths[0]
    with Image.open(path) as im:
        refusing = im.width * im.height // 3
    featurizer = HaralickFeaturizer(memory=tmp_path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", stored_under)
    row = featurizer.fit_transform([path])
    assert len(entries(tmp_path)) == 1
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", refusing)
    with pytest.raises(ValueError, match=f"{os.path.basename(path)}.*decompression bomb"):
        featurizer.fit_transform([path])
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", stored_under)
    np.testing.assert_array_equal(featurizer.fit_transform([path]), row)
    assert len(computed) == 2  # the stored row served again under its own limit
