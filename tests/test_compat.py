"""The undocumented interfaces of other libraries the package uses, and each one's fallback.

scikit-learn's parameter validation and joblib's active backend live in
``haralick_learn/_compat.py``; numba's cache index in ``_numba_cache.py``;
Pillow's raw encoder in ``_io.py`` (its fallback is tested in test_io.py).
"""

import importlib.util
import pathlib
import sys

import joblib
import joblib.parallel
import numpy as np
import pytest
import sklearn.utils._param_validation as sklearn_validation

import haralick_learn._compat as compat
from haralick_learn import DistanceNeighbors, FilenameLabelExtractor, HaralickFeaturizer

ESTIMATORS = [HaralickFeaturizer, DistanceNeighbors, FilenameLabelExtractor]

#: Values of every kind a parameter may be given, right or wrong.
PROBES = [
    None, True, False, np.bool_(True), 0, 1, 2, 3, 255, 256, 257, -1, np.int64(4), 0.5, 1.5,
    25.0, np.float32(2.0), float("nan"), float("inf"), "", "x", "mean", "mean_ptp", "merged",
    "image", "gray", "rgb", "all", "2d", "3d", "haralick", "ibsi", "skimage", "exact",
    "mahotas", "auto", "numba", "euclidean", "cosine", "brute", "nndescent", "name", "parent",
    "raise", "nan", [1, 2], (1, 2), (0, 255), [], (), np.array([1, 2]), {}, {"p": 1}, print,
    object(), pathlib.Path("cache"), joblib.Memory(None), (32, 32), [(0, 1), (1, 0)],
]


def _minimal(constraint):
    """The fallback's constraint for one of scikit-learn's."""
    if isinstance(constraint, sklearn_validation.StrOptions):
        return compat.MinimalStrOptions(constraint.options)
    if isinstance(constraint, sklearn_validation.Interval):
        return compat.MinimalInterval(constraint.type, constraint.left, constraint.right,
                                      closed=constraint.closed)
    if isinstance(constraint, sklearn_validation.HasMethods):
        return compat.MinimalHasMethods(constraint.methods)
    return constraint


def _verdict(validate, constraints, name, value, caller):
    try:
        validate({name: constraints}, {name: value}, caller)
    except (ValueError, TypeError) as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_minimal_validator_decides_as_scikit_learns(estimator):
    # Every parameter of the package's estimators, every probe: the fallback accepts and
    # refuses exactly what scikit-learn does, with scikit-learn's message around it.
    caller = estimator.__name__
    accepted = refused = 0
    for name, constraints in estimator._parameter_constraints.items():
        minimal = [_minimal(c) for c in constraints]
        for value in PROBES:
            ours = _verdict(compat.minimal_validate_parameter_constraints, minimal, name,
                            value, caller)
            theirs = _verdict(sklearn_validation.validate_parameter_constraints, constraints,
                              name, value, caller)
            assert (ours is None) == (theirs is None), (name, value, ours, theirs)
            if ours is None:
                accepted += 1
                continue
            refused += 1
            assert ours.startswith(f"The {name!r} parameter of {caller} must be ")
            assert ours.endswith(f"Got {value!r} instead.")
    assert accepted > 10 and refused > 10


def test_minimal_validator_is_what_the_estimators_use_without_scikit_learns(monkeypatch):
    # A scikit-learn without sklearn.utils._param_validation: a fresh copy of the module
    # binds the minimal classes, and its validation refuses and accepts as the estimator's.
    monkeypatch.setitem(sys.modules, "sklearn.utils._param_validation", None)
    spec = importlib.util.spec_from_file_location("compat_without_sklearns", compat.__file__)
    fallback = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fallback)
    assert fallback.Interval is fallback.MinimalInterval
    assert fallback.StrOptions is fallback.MinimalStrOptions
    assert fallback.HasMethods is fallback.MinimalHasMethods
    assert fallback.validate_parameter_constraints is (
        fallback.minimal_validate_parameter_constraints)

    class Estimator(HaralickFeaturizer):
        _parameter_constraints = {name: [_minimal(c) for c in constraints]
                                  for name, constraints in
                                  HaralickFeaturizer._parameter_constraints.items()}

    fallback.validate_parameters(Estimator(levels=16, aggregate="mean", n_jobs=2))
    with pytest.raises(fallback.InvalidParameterError,
                       match=r"The 'levels' parameter of Estimator must be None or an int in "
                             r"the range \[2, 256\]. Got 1 instead."):
        fallback.validate_parameters(Estimator(levels=1))
    with pytest.raises(ValueError, match="The 'aggregate' parameter of Estimator must be"):
        fallback.validate_parameters(Estimator(aggregate="median"))


def test_the_estimators_validate_through_the_one_place(monkeypatch):
    calls = []
    real = compat.validate_parameter_constraints

    def counting(constraints, params, caller_name):
        calls.append(caller_name)
        return real(constraints, params, caller_name)

    monkeypatch.setattr(compat, "validate_parameter_constraints", counting)
    X = np.random.default_rng(0).integers(0, 256, (2, 8, 8), dtype=np.uint8)
    HaralickFeaturizer().fit_transform(list(X))
    DistanceNeighbors(n_neighbors=1).fit([[0.0], [1.0]])
    FilenameLabelExtractor().fit_transform(["a/cat_1.png"])
    assert {"HaralickFeaturizer", "DistanceNeighbors", "FilenameLabelExtractor"} <= set(calls)


# -- the active joblib backend ---------------------------------------------------------


class _RemoteBackend(joblib.ParallelBackendBase):
    """A backend that is none of joblib's local ones (as Dask's), never asked to run."""

    def effective_n_jobs(self, n_jobs):
        return 1


@pytest.fixture
def remote_backend(monkeypatch):
    monkeypatch.setitem(joblib.parallel.BACKENDS, "remote_for_tests", _RemoteBackend)
    return "remote_for_tests"


def test_the_active_backend_is_seen(remote_backend):
    assert compat.remote_backend_active() is False and compat.active_n_jobs() is None
    for local in ("threading", "sequential", "loky", "multiprocessing"):
        with joblib.parallel_config(backend=local, n_jobs=3):
            assert compat.remote_backend_active() is False
            assert compat.active_n_jobs() == 3
    with joblib.parallel_config(backend=remote_backend, n_jobs=2):
        assert compat.remote_backend_active() is True
        assert compat.active_n_jobs() == 2


@pytest.mark.parametrize("missing", ["get_active_backend", "BACKENDS"])
def test_without_joblibs_interface_no_context_is_seen(remote_backend, missing):
    X = np.random.default_rng(0).normal(size=(30, 3))
    expected = DistanceNeighbors(n_neighbors=3).fit(X).kneighbors()
    # Removed once inside the context: joblib itself needs BACKENDS to enter one.
    with joblib.parallel_config(backend=remote_backend, n_jobs=2), \
            pytest.MonkeyPatch.context() as patch:
        patch.delattr(joblib.parallel, missing)
        assert compat.remote_backend_active() is False  # searches stay on local threads
        if missing == "get_active_backend":
            assert compat.active_n_jobs() is None
            # The answers do not depend on it.
            dist, ind = DistanceNeighbors(n_neighbors=3).fit(X).kneighbors()
            np.testing.assert_array_equal(ind, expected[1])
            np.testing.assert_array_equal(dist, expected[0])


# -- numba's cache index ----------------------------------------------------------------


def test_compiled_here_says_false_when_numbas_cache_index_cannot_be_read(monkeypatch):
    from numba.core.caching import IndexDataCacheFile

    from haralick_learn import _numba_cache
    from haralick_learn.texture.counting import cooccurrence

    cooccurrence(np.zeros((4, 4), np.uint8), (1,))  # the module's kernels have run here
    assert _numba_cache.compiled_here("haralick_learn.texture.counting")

    def changed(self):
        raise AttributeError("numba's cache layout changed")

    monkeypatch.setattr(IndexDataCacheFile, "_load_index", changed)
    assert _numba_cache.compiled_here("haralick_learn.texture.counting") is False
