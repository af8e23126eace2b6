"""The first transform in a new process: import time, then a cold and a warm numba cache.

Usage::

    apt-get install mate-backgrounds      # once: the photographs (see bench_featurize.py)
    python benchmarks/bench_first_call.py [--repeat 3] [--top 8]

Every figure comes from a fresh subprocess. For one 5 MP photograph and one 96 x 96 crop of
it, two installs are measured:

- "empty NUMBA_CACHE_DIR": the checkout, numba's cache redirected to a new empty folder;
- "read-only venv": a fresh virtual environment (``python -m venv --without-pip``; the
  dependencies come from this interpreter's site-packages through a ``.pth`` file) holding a
  copy of the package, made read-only, and run where it cannot write (as root: without the
  capabilities that bypass file permissions, so as a user would be): numba then caches in the
  user's folder (``$XDG_CACHE_HOME/numba``), which starts empty. ``NUMBA_CACHE_DIR`` unset.

Each cold process (empty cache) is followed by a warm one (the same cache, now filled). The
variants run interleaved, one after the other in each of ``--repeat`` rounds (this machine's
speed drifts); printed are the median and range over the rounds of: the import of
haralick_learn, the first transform (``HaralickFeaturizer().fit_transform([path])``) and both
together, with the first transform's CPU time (process time: less sensitive than the wall clock
to other jobs on a shared machine). Then, from the rounds' cold and warm 5 MP processes, which
kernels numba compiled (or loaded from its cache) during the first transform and how long each
took (timing ``Dispatcher.compile``; "own" excludes the kernels compiled inside it), the top
``--top``.
The bound it checks: a cold first transform under 3 s.
"""

import argparse
import ctypes
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections import defaultdict

import numpy as np
from PIL import Image

from _machine import describe_machine
from bench_featurize import DATA, prepare_photos

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(HERE)
PACKAGE = os.path.join(CHECKOUT, "haralick_learn")
MAX_COLD_S = 3.0
SMALL = 96

PROBE = r"""
import json, sys, time
start = time.perf_counter()
import haralick_learn
from haralick_learn import HaralickFeaturizer
imported = time.perf_counter()

from numba.core import dispatcher
compile_ = dispatcher.Dispatcher.compile
stack, records = [], []

def timed_compile(self, sig):
    hits = sum(self._cache_hits.values())
    misses = sum(self._cache_misses.values())
    stack.append(0.0)
    t = time.perf_counter()
    try:
        return compile_(self, sig)
    finally:
        total = time.perf_counter() - t
        inner = stack.pop()
        if stack:
            stack[-1] += total
        if sum(self._cache_misses.values()) > misses:
            how = "compiled"
        elif sum(self._cache_hits.values()) > hits:
            how = "loaded"
        else:
            how = None  # already compiled in this process
        if how:
            name = f"{self.py_func.__module__}.{self.py_func.__qualname__}"
            records.append([name, how, total, total - inner])

dispatcher.Dispatcher.compile = timed_compile
t, cpu = time.perf_counter(), time.process_time()
row = HaralickFeaturizer().fit_transform([sys.argv[1]])[0]
transformed, cpu = time.perf_counter(), time.process_time() - cpu
print(json.dumps({"file": haralick_learn.__file__, "import": imported - start,
                  "transform": transformed - t, "transform_cpu": cpu, "row": row.tolist(),
                  "kernels": records}))
"""

BYPASS_CAPABILITIES = (1, 2, 3)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
PR_CAPBSET_DROP = 24


def drop_bypass_capabilities():
    """As root, obey file permissions in the child (the bounding set is dropped before exec)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in BYPASS_CAPABILITIES:
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def make_read_only_venv(root):
    """A fresh venv with a read-only copy of the package; its python."""
    venv = os.path.join(root, "venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = os.path.join(venv, "bin", "python")
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    with open(os.path.join(site, "_dependencies.pth"), "w") as f:
        f.write(sysconfig.get_paths()["purelib"] + "\n")  # numpy, numba, ... of this interpreter
    shutil.copytree(PACKAGE, os.path.join(site, "haralick_learn"),
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc"))
    for dirpath, dirnames, filenames in os.walk(venv):
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.chmod(path, 0o555 if os.access(path, os.X_OK) else 0o444)
        os.chmod(dirpath, 0o555)
    return python, os.path.join(site, "haralick_learn")


def clean_env():
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("NUMBA_", "PYTHON", "XDG_"))}


def run_probe(python, image, env, cwd, preexec_fn=None):
    out = subprocess.run([python, "-c", PROBE, image], env=env, cwd=cwd,
                         preexec_fn=preexec_fn, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"probe failed ({python}, {image}):\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def import_breakdown(env):
    """Seconds of importing ``HaralickFeaturizer`` by top-level package (``-X importtime`` self
    times); ``import haralick_learn`` alone imports nothing more until a name is used."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c",
                          "from haralick_learn import HaralickFeaturizer"],
                         env=env, cwd=HERE, capture_output=True, text=True, check=True)
    seconds = defaultdict(float)
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[0].startswith("import time:") and parts[0][12:].strip(
        ).isdigit():
            package = parts[2].strip().split(".")[0]
            seconds[package] += int(parts[0][12:]) / 1e6
    return seconds


def make_small(photo):
    path = os.path.join(DATA, f"crop_{SMALL}.jpg")
    if not os.path.exists(path):
        with Image.open(photo) as im:
            im.crop((1000, 800, 1000 + SMALL, 800 + SMALL)).save(path, quality=90)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()

    photo = prepare_photos(1)[0]
    images = {"5 MP": photo, f"{SMALL}x{SMALL}": make_small(photo)}
    root = tempfile.mkdtemp(prefix="bench-first-call-")
    os.chmod(root, 0o755)
    as_user = drop_bypass_capabilities if os.geteuid() == 0 else None
    results = defaultdict(list)  # (install, image, cold|warm) -> probe outputs
    breakdowns = []  # per round: import seconds by top-level package (warm checkout)
    try:
        python, installed = make_read_only_venv(root)
        for round_ in range(args.repeat):
            for label, image in images.items():
                cache = os.path.join(root, f"numba-cache-{round_}-{label}")
                env = dict(clean_env(), NUMBA_CACHE_DIR=cache, PYTHONPATH=CHECKOUT)
                for state in ("cold", "warm"):
                    out = run_probe(sys.executable, image, env, HERE)
                    assert out["file"].startswith(PACKAGE), out["file"]
                    results["empty NUMBA_CACHE_DIR", label, state].append(out)
                home = os.path.join(root, f"home-{round_}-{label}")
                os.mkdir(home)
                env = dict(clean_env(), HOME=home, XDG_CACHE_HOME=os.path.join(home, ".cache"))
                for state in ("cold", "warm"):
                    out = run_probe(python, image, env, home, as_user)
                    assert out["file"].startswith(installed), out["file"]
                    results["read-only venv", label, state].append(out)
                assert os.path.isdir(os.path.join(home, ".cache", "numba")), "no user cache"
            breakdowns.append(import_breakdown(dict(clean_env(), PYTHONPATH=CHECKOUT)))
        leftovers = [os.path.join(d, f) for d, _, files in os.walk(installed) for f in files
                     if "__pycache__" in d or f.endswith((".nbi", ".nbc"))]
    finally:
        for dirpath, dirnames, filenames in os.walk(root):
            os.chmod(dirpath, 0o755)
        shutil.rmtree(root, ignore_errors=True)

    from bench_featurize import reference_loop

    reference = reference_loop([images["5 MP"]]).ravel()
    rows = [np.array(out["row"]) for (_, label, _), outs in results.items() if label == "5 MP"
            for out in outs]
    max_rel = max(float(np.max(np.abs(r - reference) / np.abs(reference))) for r in rows)

    print(f"first transform in a new process, {args.repeat} interleaved rounds "
          f"(5 MP = {photo}; {SMALL}x{SMALL} = a crop of it)")
    print(describe_machine())
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          "(the machine is shared)")
    print(f"max relative difference of the 5 MP rows from the reference: {max_rel:.1e}; "
          f"files written beside the read-only sources: {len(leftovers)}")
    print()
    header = f"{'seconds: median [range]':46s} {'import':>18s} {'first transform':>18s} " \
             f"{'its CPU time':>18s} {'import + transform':>18s}"
    print(header)

    def stat(values):
        values = np.array(values)
        return f"{np.median(values):6.2f} [{values.min():.2f}-{values.max():.2f}]"

    for (install, label, state), outs in results.items():
        imports = [o["import"] for o in outs]
        transforms = [o["transform"] for o in outs]
        cpu = [o["transform_cpu"] for o in outs]
        both = [o["import"] + o["transform"] for o in outs]
        print(f"{label + ', ' + install + ', ' + state:46s} {stat(imports):>18s} "
              f"{stat(transforms):>18s} {stat(cpu):>18s} {stat(both):>18s}")

    print()
    packages = sorted({p for b in breakdowns for p in b}, key=lambda p: -breakdowns[0][p])
    shown = packages[:7]
    print("from haralick_learn import HaralickFeaturizer (checkout, warm), seconds by "
          "top-level package, median: "
          + ", ".join(f"{p} {np.median([b[p] for b in breakdowns]):.3f}" for p in shown)
          + f", other {np.median([sum(b[p] for p in packages[7:]) for b in breakdowns]):.3f}; "
          f"total {np.median([sum(b.values()) for b in breakdowns]):.3f} "
          "(-X importtime self times; sklearn.base pulls scipy and pandas in)")

    for state in ("cold", "warm"):
        outs = results["read-only venv", "5 MP", state] + results["empty NUMBA_CACHE_DIR",
                                                                "5 MP", state]
        own, total, how = defaultdict(list), defaultdict(list), {}
        for out in outs:
            per = defaultdict(lambda: [0.0, 0.0])
            for name, kind, seconds, own_seconds in out["kernels"]:
                per[name][0] += seconds
                per[name][1] += own_seconds
                how[name] = kind
            for name, (seconds, own_seconds) in per.items():
                total[name].append(seconds)
                own[name].append(own_seconds)
        all_own = [sum(o[3] for o in out["kernels"]) for out in outs]
        print()
        print(f"5 MP, {state} cache: {len(own)} kernels "
              f"{'compiled' if state == 'cold' else 'loaded'}, their own time "
              f"{stat(all_own)} s per process (median [range] over {len(outs)} processes); "
              f"top {args.top} by own time (median s):")
        ranked = sorted(own, key=lambda name: -np.median(own[name]))[: args.top]
        for name in ranked:
            print(f"  {name:60s} {how[name]:8s} own {np.median(own[name]):6.3f}  "
                  f"with callees {np.median(total[name]):6.3f}")

    print("  (the first kernel of a process, compiled or loaded, also pays numba's one-time setup "
          "of its typing and target contexts: most of the warm top line)")
    cold = results["read-only venv", "5 MP", "cold"]
    print()
    print(f"bound: cold first transform of a 5 MP photo from the read-only venv < {MAX_COLD_S} s:")
    for what, key in (("wall-clock", "transform"), ("CPU time (what a busy machine spares)",
                                                    "transform_cpu")):
        values = [o[key] for o in cold]
        median, worst = np.median(values), max(values)
        print(f"  {what}: median {median:.2f} s ({'met' if median < MAX_COLD_S else 'NOT met'}), "
              f"worst of {len(values)} {worst:.2f} s "
              f"({'met' if worst < MAX_COLD_S else 'NOT met'})")


if __name__ == "__main__":
    main()
