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
