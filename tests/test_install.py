"""The first transform of a package installed where it cannot write (numba's user-wide cache).

numba caches the compiled kernels (``cache=True``) in ``__pycache__`` beside the sources, or,
when that folder is not writable, in a user cache folder (``$XDG_CACHE_HOME/numba``, else
``~/.cache/numba``). These tests copy the package to a read-only folder and run it in fresh
subprocesses that really cannot write there: as the current user when it is not root; as root,
as the unprivileged user ``nobody`` if it can read this Python and its packages, else as root
without the capabilities that bypass file permissions (``CAP_DAC_OVERRIDE``,
``CAP_DAC_READ_SEARCH``, ``CAP_FOWNER``, dropped from the bounding set before ``exec``).

Marked ``readonly_install`` and ``slow`` (they pay a cold numba compilation in fresh processes):
not in the default run; ``pytest -m slow`` runs them with the other slow tests, and
``pytest -m readonly_install`` runs them alone.
"""

import ctypes
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

import numpy as np
import pytest
from numba.core import caching

import haralick_learn
from haralick_learn import HaralickFeaturizer

from conftest import RTOL, exact_reference_row

pytestmark = [pytest.mark.readonly_install, pytest.mark.slow]

NOBODY = 65534
#: CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER (linux/capability.h).
BYPASS_CAPABILITIES = (1, 2, 3)
PR_CAPBSET_DROP = 24

#: Run in the subprocess: the first transform of one image, and what numba did.
FIRST_TRANSFORM = r"""
import json, os, sys, time
package_dir = sys.argv[2]
try:  # the premise: this process cannot write beside the sources
    open(os.path.join(package_dir, "write-probe"), "w").close()
    can_write = True
except OSError:
    can_write = False
start = time.perf_counter()
import haralick_learn
from haralick_learn import HaralickFeaturizer
imported = time.perf_counter()
row = HaralickFeaturizer().fit_transform([sys.argv[1]])[0]
done = time.perf_counter()
from numba.core.dispatcher import Dispatcher
dispatchers = {id(obj): obj for name, module in list(sys.modules.items())
               if name.startswith("haralick_learn") for obj in vars(module).values()
               if isinstance(obj, Dispatcher)}
hits = sum(sum(d.stats.cache_hits.values()) for d in dispatchers.values())
misses = sum(sum(d.stats.cache_misses.values()) for d in dispatchers.values())
print(json.dumps({"file": haralick_learn.__file__, "can_write": can_write,
                  "row": row.tolist(), "hits": hits, "misses": misses,
                  "import_s": imported - start, "transform_s": done - imported}))
"""


def _drop_bypass_capabilities():
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in BYPASS_CAPABILITIES:
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _become_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def _run(script, args, env, cwd, preexec_fn):
    return subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        env=env, cwd=cwd, preexec_fn=preexec_fn, capture_output=True, text=True, timeout=300,
    )


def _clean_env(home):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NUMBA_", "PYTHON", "XDG_"))}
    env.update(HOME=str(home), XDG_CACHE_HOME=os.path.join(home, "xdg-cache"))
    return env


def _unprivileged_route(root, image):
    """(preexec_fn, uid owning the cache home, description), or a skip with the reason."""
    if os.geteuid() != 0:
        return None, os.geteuid(), f"uid {os.geteuid()} (not root)"
    probe_dir = os.path.join(root, "probe")
    os.mkdir(probe_dir, 0o555)
    os.chmod(probe_dir, 0o555)  # mkdir's mode is filtered by the umask
    script = (
        "import sys, numba, numpy, sklearn, PIL, mahotas\n"
        "open(sys.argv[1], 'rb').close()\n"
        "try:\n    open(sys.argv[2] + '/x', 'w')\nexcept PermissionError:\n    sys.exit(0)\n"
        "sys.exit('wrote into a read-only folder')\n"
    )
    reasons = []
    for preexec_fn, uid, description in (
        (_become_nobody, NOBODY, f"root, run as nobody (uid {NOBODY})"),
        (_drop_bypass_capabilities, 0, "root without CAP_DAC_OVERRIDE/READ_SEARCH/FOWNER"),
    ):
        try:
            probe = _run(script, [image, probe_dir], _clean_env(root), root, preexec_fn)
        except (OSError, subprocess.SubprocessError) as exc:
            reasons.append(f"{description}: {exc}")
            continue
        if probe.returncode == 0:
            return preexec_fn, uid, description
        reasons.append(f"{description}: {probe.stderr.strip().splitlines()[-1:]}")
    pytest.skip("running as root and no route makes a folder unwritable for the subprocess "
                "while it can still read Python and its packages: " + "; ".join(reasons))


def _make_read_only(folder):
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o444)
        os.chmod(dirpath, 0o555)


def _snapshot(folder):
    return {
        os.path.relpath(os.path.join(dirpath, name), folder):
            os.stat(os.path.join(dirpath, name)).st_mtime_ns
        for dirpath, dirnames, filenames in os.walk(folder) for name in dirnames + filenames
    }


@pytest.fixture
def read_only_install():
    """A copy of the package in a read-only folder, an empty user home, and how to run there."""
    root = tempfile.mkdtemp(prefix="haralick-readonly-")
    try:
        os.chmod(root, 0o755)  # traversable by an unprivileged user
        site = os.path.join(root, "site")
        source = os.path.dirname(haralick_learn.__file__)
        shutil.copytree(source, os.path.join(site, "haralick_learn"),
                        ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc", "*.pyc"))
        home = os.path.join(root, "home")
        os.mkdir(home)
        yield root, site, home
    finally:
        for dirpath, dirnames, filenames in os.walk(root):
            os.chmod(dirpath, stat.S_IRWXU)
        shutil.rmtree(root, ignore_errors=True)


def test_first_transform_from_read_only_install_caches_in_user_folder(
    read_only_install, jpeg_paths
):
    root, site, home = read_only_install
    image = jpeg_paths[0]
    preexec_fn, uid, route = _unprivileged_route(root, image)
    os.chown(home, uid, uid)
    _make_read_only(site)
    installed = _snapshot(site)
    env = _clean_env(home)
    env["PYTHONPATH"] = site
    user_cache = os.path.join(env["XDG_CACHE_HOME"], "numba")
    package_dir = os.path.join(site, "haralick_learn")
    expected = HaralickFeaturizer().fit_transform([image])[0]

    def first_transform():
        # cwd is the empty home: the checkout under test is not on the path.
        run = _run(FIRST_TRANSFORM, [image, package_dir], env, home, preexec_fn)
        assert run.returncode == 0, f"subprocess ({route}) failed:\n{run.stderr}"
        return json.loads(run.stdout.strip().splitlines()[-1])

    cold = first_transform()
    assert cold["file"] == os.path.join(package_dir, "__init__.py")
    assert not cold["can_write"], f"{route}: the subprocess could write into {package_dir}"
    assert cold["misses"] > 0 and cold["hits"] == 0, cold  # an empty cache: compiled
    np.testing.assert_array_equal(np.array(cold["row"]), expected)
    np.testing.assert_allclose(cold["row"], exact_reference_row(image), rtol=RTOL)
    # Nothing was written beside the sources (no __pycache__, no .nbi/.nbc) ...
    assert _snapshot(site) == installed
    # ... the compiled kernels are in the user cache folder, under the installed sources' path.
    cached = {path: mtime for path, mtime in _snapshot(user_cache).items()
              if path.endswith((".nbi", ".nbc"))}
    assert any(path.endswith(".nbi") for path in cached), sorted(_snapshot(home))
    locator = getattr(caching, "UserWideCacheLocator", None) or caching._UserWideCacheLocator
    # numba's folder name for each folder of the installed copy (the package and its stages)
    installed_subpaths = {locator.get_suitable_cache_subpath(os.path.join(folder, "module.py"))
                          for folder in [package_dir] + [os.path.join(package_dir, stage)
                                                         for stage in ("io", "preprocess",
                                                                       "texture", "neighbors")]}
    folders = {path.split(os.sep)[0] for path in cached}
    assert folders and folders <= installed_subpaths, sorted(cached)

    warm = first_transform()
    np.testing.assert_array_equal(np.array(warm["row"]), expected)
    assert warm["misses"] == 0 and warm["hits"] > 0, warm  # every kernel loaded from the cache
    assert {path: mtime for path, mtime in _snapshot(user_cache).items()
            if path.endswith((".nbi", ".nbc"))} == cached  # and nothing rewritten
    assert _snapshot(site) == installed
