"""The interfaces of scikit-learn and joblib that neither library documents, in one place.

Each is used because no documented one does the job, and each has a fallback
that keeps the package working if a release moves it (``tests/test_compat.py``
runs every fallback):

- Parameter validation. scikit-learn validates its estimators' parameters
  against their ``_parameter_constraints`` with ``sklearn.utils._param_validation``
  (``Interval``, ``StrOptions``, ``HasMethods``, ``validate_parameter_constraints``),
  which it does not export. Estimators outside scikit-learn use it for the same
  checks and messages (``check_estimator``'s ``check_param_validation`` expects
  them). Without it, a minimal validator below makes the same decisions on the
  constraints this package uses, with the same message.
- The active joblib backend. ``joblib.parallel.get_active_backend`` (in
  joblib's public module, but not documented) tells the backend and ``n_jobs``
  an enclosing ``joblib.parallel_config`` set; ``joblib.parallel.BACKENDS``
  holds the classes of joblib's own backends. Without them, no context is seen:
  searches run on local threads, which give the same answers.

The two other such interfaces sit beside the one function that uses each, with
its fallback: Pillow's raw encoder in ``io.decode._encode_box`` (a single-copy read)
and numba's cache index in ``_numba_cache.compiled_here``.
"""

from numbers import Integral

import numpy as np

__all__ = ["HasMethods", "Interval", "InvalidParameterError", "StrOptions", "active_n_jobs",
           "remote_backend_active", "validate_parameters"]


class MinimalInvalidParameterError(ValueError, TypeError):
    """A parameter outside its constraints (scikit-learn's ``InvalidParameterError``)."""


class MinimalStrOptions:
    """A string among ``options`` (scikit-learn's ``StrOptions``)."""

    def __init__(self, options):
        self.options = set(options)

    def is_satisfied_by(self, value):
        return isinstance(value, str) and value in self.options

    def __str__(self):
        return f"a str among {{{', '.join(repr(o) for o in sorted(self.options))}}}"


class MinimalInterval:
    """A number of ``type`` between ``left`` and ``right`` (scikit-learn's ``Interval``)."""

    def __init__(self, type, left, right, *, closed):
        self.type, self.left, self.right, self.closed = type, left, right, closed

    def is_satisfied_by(self, value):
        if not isinstance(value, self.type):
            return False
        if not isinstance(value, Integral) and np.isnan(value):
            return False
        # A missing bound is an infinite one, excluded unless the interval is closed there.
        left = -np.inf if self.left is None else self.left
        right = np.inf if self.right is None else self.right
        above = value >= left if self.closed in ("left", "both") else value > left
        below = value <= right if self.closed in ("right", "both") else value < right
        return bool(above and below)

    def __str__(self):
        kind = "an int" if self.type is Integral else "a float"
        left = "[" if self.closed in ("left", "both") else "("
        right = "]" if self.closed in ("right", "both") else ")"
        low = "-inf" if self.left is None else self.left
        high = "inf" if self.right is None else self.right
        return f"{kind} in the range {left}{low}, {high}{right}"


class MinimalHasMethods:
    """An object with callable ``methods`` (scikit-learn's ``HasMethods``)."""

    def __init__(self, methods):
        self.methods = [methods] if isinstance(methods, str) else list(methods)

    def is_satisfied_by(self, value):
        return all(callable(getattr(value, method, None)) for method in self.methods)

    def __str__(self):
        return f"an object implementing {', '.join(repr(m) for m in self.methods)}"


def _satisfies(value, constraint):
    """Whether ``value`` meets one entry of a ``_parameter_constraints`` list."""
    if constraint is None:
        return value is None
    if constraint is callable:
        return callable(value)
    if isinstance(constraint, type):
        return isinstance(value, constraint)
    if isinstance(constraint, str):
        if constraint == "boolean":
            return isinstance(value, (bool, np.bool_))
        if constraint == "verbose":
            return isinstance(value, (bool, np.bool_)) or (
                isinstance(value, Integral) and value >= 0)
        if constraint == "array-like":
            return ((hasattr(value, "__len__") or hasattr(value, "shape")
                     or hasattr(value, "__array__")) and not np.isscalar(value))
        raise ValueError(f"unknown constraint {constraint!r}")
    return constraint.is_satisfied_by(value)


_NAMED_CONSTRAINTS = {
    "boolean": "an instance of 'bool' or an instance of 'numpy.bool'",
    "verbose": "an int, bool or numpy.bool",
    "array-like": "an array-like",
}


def _describe(constraint):
    if constraint is None:
        return "None"
    if constraint is callable:
        return "a callable"
    if isinstance(constraint, type):
        return f"an instance of {constraint.__qualname__!r}"
    if isinstance(constraint, str):
        return _NAMED_CONSTRAINTS[constraint]
    return str(constraint)


def minimal_validate_parameter_constraints(parameter_constraints, params, caller_name):
    """Raise for the first parameter that meets none of its constraints (as scikit-learn)."""
    for name, value in params.items():
        constraints = parameter_constraints.get(name, "no_validation")
        if constraints == "no_validation":
            continue
        if not any(_satisfies(value, constraint) for constraint in constraints):
            described = [_describe(constraint) for constraint in constraints]
            if len(described) > 1:
                described = [f"{', '.join(described[:-1])} or {described[-1]}"]
            raise MinimalInvalidParameterError(
                f"The {name!r} parameter of {caller_name} must be {described[0]}. "
                f"Got {value!r} instead."
            )


try:
    from sklearn.utils._param_validation import (
        HasMethods, Interval, InvalidParameterError, StrOptions, validate_parameter_constraints,
    )
except ImportError:  # moved in some scikit-learn release: the minimal validator above
    HasMethods, Interval, StrOptions = MinimalHasMethods, MinimalInterval, MinimalStrOptions
    InvalidParameterError = MinimalInvalidParameterError
    validate_parameter_constraints = minimal_validate_parameter_constraints


def validate_parameters(estimator):
    """Check an estimator's parameters against its ``_parameter_constraints``.

    Raises
    ------
    InvalidParameterError
        A ``ValueError`` and ``TypeError`` naming the parameter, what it must be
        and the value given.
    """
    validate_parameter_constraints(estimator._parameter_constraints,
                                   estimator.get_params(deep=False),
                                   caller_name=type(estimator).__name__)


#: joblib's backends that run on this machine (``joblib.parallel.BACKENDS``' names).
_LOCAL_BACKENDS = ("loky", "multiprocessing", "sequential", "threading")


def _active_backend():
    """``(backend, n_jobs)`` of the enclosing joblib context, ``(None, None)`` when unknown."""
    try:
        from joblib.parallel import get_active_backend

        backend, n_jobs = get_active_backend()
    except Exception:  # an undocumented interface changed: no context is seen
        return None, None
    return backend, n_jobs


def active_n_jobs():
    """The ``n_jobs`` an enclosing ``joblib.parallel_config`` sets, or None."""
    return _active_backend()[1]


def remote_backend_active():
    """Whether an enclosing joblib context made a backend other than joblib's local ones active.

    Dask's backend, say; loky, multiprocessing, threading and sequential run
    here (and so do backends derived from them). False when joblib's interface
    cannot tell.
    """
    backend = _active_backend()[0]
    try:
        from joblib.parallel import BACKENDS

        local = tuple(BACKENDS[name] for name in _LOCAL_BACKENDS)
    except Exception:  # an undocumented interface changed: run locally
        return False
    return backend is not None and not isinstance(backend, local)
