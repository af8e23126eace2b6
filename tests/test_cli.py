"""The haralick-learn command, run as users run it."""

import os
import re
import subprocess
import sys

from PIL import Image

import haralick_learn

# The subprocess imports the same haralick_learn as this test process.
PACKAGE_PARENT = os.path.dirname(os.path.dirname(haralick_learn.__file__))


def run(*args, cwd):
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    return subprocess.run(
        [sys.executable, "-m", "haralick_learn.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=600, env=env,
    )


def test_demo_runs_the_whole_flow(tmp_path):
    result = run("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    accuracy = float(re.search(r"5-fold accuracy: ([\d.]+)%", out).group(1))
    assert 80 <= accuracy <= 100
    similar = re.findall(r"^\s+\d\. (\w+\d+\.jpg)\s+distance ([\d.]+)$", out, flags=re.M)
    assert len(similar) == 3
    assert [float(d) for _, d in similar] == sorted(float(d) for _, d in similar)
    figure = tmp_path / "similar_images.png"
    assert f"Wrote the similar-images figure to {figure}" in out
    with Image.open(figure) as im:
        assert im.format == "PNG" and im.width > im.height
    assert "90/90 images" in result.stderr  # the progress bar reached the end


def test_unknown_command_and_bad_query(tmp_path):
    assert run("nonsense", cwd=tmp_path).returncode == 2
    bad = run("demo", "--query", "999", cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr.strip().startswith("haralick-learn demo: error:")


# --- featurize, similar, evaluate on images the tests write ---

import csv  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from haralick_learn import DistanceNeighbors, HaralickFeaturizer  # noqa: E402

KINDS = ("stripes", "checks", "noise")


def texture(kind, seed, size=32):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    period = 2 + seed % 3
    base = {"stripes": (xx // period) % 2,
            "checks": ((xx // period) + (yy // period)) % 2,
            "noise": rng.integers(0, 2, (size, size))}[kind]
    gray = (base * 170 + rng.integers(0, 80, (size, size))).astype(np.uint8)
    return Image.fromarray(np.stack([gray, gray // 2 + 60, 255 - gray], axis=-1))


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """photos/{kind}{i}.png|jpg flat, 5 per kind, plus files that are not images."""
    folder = tmp_path_factory.mktemp("cli") / "photos"
    folder.mkdir()
    for k, kind in enumerate(KINDS):
        for i in range(5):
            texture(kind, 10 * k + i).save(folder / f"{kind}{i:02d}.{'png' if i % 2 else 'JPG'}")
    (folder / "notes.txt").write_text("not an image")
    (folder / ".hidden.png").write_bytes(b"")
    return folder


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """dataset/{kind}/img{i}.png: labels from the folders, one level down."""
    root = tmp_path_factory.mktemp("cli") / "dataset"
    for k, kind in enumerate(KINDS):
        (root / kind).mkdir(parents=True)
        for i in range(4):
            texture(kind, 100 + 10 * k + i).save(root / kind / f"img{i}.png")
    return root


def image_paths(folder):
    return sorted(str(p) for p in folder.iterdir()
                  if p.suffix.lower() in (".png", ".jpg") and not p.name.startswith("."))


def test_featurize_writes_path_and_named_feature_columns(photos, tmp_path):
    result = run("featurize", str(photos), "-o", "features.csv", "--n-jobs", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Wrote 15 images x 52 features to" in result.stdout
    assert "15/15 images" in result.stderr  # progress bar
    with open(tmp_path / "features.csv", newline="") as f:
        rows = list(csv.reader(f))
    featurizer = HaralickFeaturizer()
    paths = image_paths(photos)
    assert rows[0] == ["path", *featurizer.get_feature_names_out()]
    assert [row[0] for row in rows[1:]] == paths  # sorted; .txt and hidden files skipped
    np.testing.assert_array_equal(np.array([row[1:] for row in rows[1:]], dtype=float),
                                  featurizer.fit_transform(paths))  # repr: exact round trip


def test_featurize_glob_recursive_to_stdout(labelled, tmp_path):
    result = run("featurize", str(labelled / "**" / "*.png"), "--recursive", "-o", "-",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("path,angular_second_moment_horizontal_d1,")
    assert len(lines) == 1 + 12 and "Wrote 12 images" in result.stderr
    # Without --recursive a folder of folders holds no image.
    flat = run("featurize", str(labelled), cwd=tmp_path)
    assert flat.returncode == 1
    assert flat.stderr.strip().splitlines() == [
        f"haralick-learn featurize: error: no image files in {str(labelled)!r} (looked for "
        ".jpg, .jpeg, .png, .tif, .tiff, .bmp, .gif, .webp; --recursive searches subdirectories)"
    ]


def test_similar_ranks_paths_and_draws_the_picture(photos, tmp_path):
    outside = tmp_path / "query.png"
    texture("checks", 999).save(outside)
    result = run("similar", str(photos), "stripes01.png", str(outside), "-k", "3",
                 "--plot", "similar.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    paths = image_paths(photos)
    search = make_pipeline(HaralickFeaturizer(), StandardScaler(), DistanceNeighbors()).fit(paths)
    own = paths.index(str(photos / "stripes01.png"))
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
    assert result.stdout.splitlines() == expected
    with Image.open(figure) as im:
        assert im.format == "PNG" and im.width > im.height  # 2 rows x 4 images


def test_evaluate_reports_accuracy_and_per_class_scores(labelled, tmp_path):
    result = run("evaluate", str(labelled), "--labels", "parent", "--recursive", "--cv", "4",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("12 images, 3 classes: checks (4), noise (4), stripes (4)\n")
    accuracy, spread = map(float, re.search(r"4-fold accuracy: ([\d.]+)% \(\+/- ([\d.]+)%\)",
                                            out).groups())
    assert 0 <= accuracy <= 100 and spread >= 0
    assert re.search(r"precision\s+recall\s+f1-score\s+support", out)
    for kind in KINDS:
        assert re.search(rf"^\s+{kind}\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+4$", out, flags=re.M)


def test_runtime_errors_are_one_line_with_exit_code_1(photos, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "ok.png").write_bytes((photos / "checks01.png").read_bytes())
    (broken / "truncated.png").write_bytes((photos / "checks01.png").read_bytes()[:200])
    cases = [
        (("featurize", str(tmp_path / "missing")), "featurize", "no such directory"),
        (("featurize", str(broken), "-o", "x.csv"), "featurize", "truncated.png"),
        (("similar", str(photos), "nothere.png"), "similar", "query 'nothere.png': no such file"),
        (("similar", str(photos), "checks01.png", "-k", "15"), "similar", "n_neighbors <= 14"),
        (("evaluate", str(photos), "--cv", "6"), "evaluate", "fewer than the 6 folds"),
    ]
    for args, command, reason in cases:
        result = run(*args, cwd=tmp_path)
        assert result.returncode == 1, (args, result.stderr)
        errors = [line for line in result.stderr.splitlines() if "error" in line]
        assert len(errors) == 1 and errors[0].startswith(f"haralick-learn {command}: error: ")
        assert reason in errors[0], errors
        assert "Traceback" not in result.stderr


def test_help_and_usage_errors(tmp_path):
    for command in ("featurize", "similar", "evaluate", "demo"):
        result = run(command, "--help", cwd=tmp_path)
        assert result.returncode == 0 and result.stdout.startswith(
            f"usage: haralick-learn {command}")
    for args in [("featurize",), ("similar", "dir"), ("evaluate", "dir", "--cv", "1"),
                 ("evaluate", "dir", "--labels", "colour"), ("similar", "d", "q", "-k", "x")]:
        result = run(*args, cwd=tmp_path)
        assert result.returncode == 2, args
        assert result.stderr.splitlines()[-1].startswith(f"haralick-learn {args[0]}: error:")
