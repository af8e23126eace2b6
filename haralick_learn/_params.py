"""The one table of the parameters that change a feature row.

Each row-changing parameter is one :class:`Parameter` of :data:`PARAMETERS`:
its name, default, constraint, one-line help, how the command line spells it,
and the entry points that take it. Everything else is derived from it:

- :meth:`TextureSettings.from_params <haralick_learn._settings.TextureSettings.from_params>`
  takes its defaults and accepted names from the table;
- ``HaralickFeaturizer._parameter_constraints`` is the table's constraints plus the
  estimator's run parameters (which change no row: ``n_jobs``, ``memory``...);
- :func:`~haralick_learn.region_features` and :func:`~haralick_learn.texture_maps`
  accept :func:`parameter_names` of their entry point;
- the command's options (``--features ibsi --bin-width 25 --aggregate mean``) come from
  :func:`argparse_arguments`.

The table is plain data and this module imports neither numpy nor scikit-learn, so that
``haralick-learn --help`` stays instant: constraints are :class:`Options` and
:class:`Range` records that the estimator turns into scikit-learn's objects, beside
scikit-learn's own spellings (``None``, ``"boolean"``, ``"array-like"``, types).

>>> from haralick_learn._params import PARAMETERS, parameter_names
>>> PARAMETERS[0].name, PARAMETERS[0].default
('distance', 1)
>>> parameter_names("maps")[:3]
('distance', 'aggregate', 'ignore_zeros')
>>> flags, options = argparse_arguments(parameter("bin_width"))
>>> flags, options["type"]("25")
(['--bin-width'], 25)
"""

import argparse
import dataclasses
import math
from numbers import Integral, Real

__all__ = ["ENTRY_POINTS", "PARAMETERS", "Options", "Parameter", "Range", "argparse_arguments",
           "parameter", "parameter_names"]

#: Who takes parameters from the table: the estimator (and its settings and the command's
#: featurizing options), region tables, texture maps.
ENTRY_POINTS = ("featurizer", "regions", "maps")


@dataclasses.dataclass(frozen=True)
class Options:
    """A choice among strings: scikit-learn's ``StrOptions``, the command's ``choices``."""

    values: tuple


@dataclasses.dataclass(frozen=True)
class Range:
    """A number in an interval: scikit-learn's ``Interval(type, low, high, closed=closed)``."""

    type: type
    low: object
    high: object
    closed: str

    def __contains__(self, value):
        # A missing bound is infinite, and excluded unless the interval is closed there, as in
        # scikit-learn's Interval (which the estimator validates with): inf is no bin width.
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        low_ok = value >= low if self.closed in ("left", "both") else value > low
        high_ok = value <= high if self.closed in ("right", "both") else value < high
        return low_ok and high_ok

    def describe(self):
        kind = "an int" if self.type is Integral else "a number"
        if self.high is None:
            return f"{kind} {'>=' if self.closed in ('left', 'both') else '>'} {self.low}"
        return f"{kind} from {self.low} to {self.high}"


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One row-changing parameter.

    Attributes
    ----------
    name : str
        The keyword, as :class:`~haralick_learn.HaralickFeaturizer` takes it.
    default : object
        Its default everywhere.
    constraints : tuple
        What it accepts, in scikit-learn's ``_parameter_constraints`` terms, with
        :class:`Options` and :class:`Range` for ``StrOptions`` and ``Interval``.
    help : str
        One line: what it does.
    cli : tuple of (str, object)
        ``argparse`` keywords that the constraints do not imply (``nargs``, ``type``,
        ``action``, ``metavar``, a ``help`` for a spelling that differs from the
        parameter's); see :func:`argparse_arguments`.
    where : frozenset of str
        The :data:`ENTRY_POINTS` that take it.
    """

    name: str
    default: object
    constraints: tuple
    help: str
    cli: tuple = ()
    where: frozenset = frozenset(ENTRY_POINTS)

    @property
    def flag(self):
        """The command's option: ``--bin-width`` for ``bin_width``."""
        return "--" + self.name.replace("_", "-")


class _OneOrMany(argparse.Action):
    """``nargs="+"`` that keeps one value as a scalar: ``--distance 2`` is ``distance=2``."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values[0] if len(values) == 1 else list(values))


def _number_in(allowed):
    """An argparse ``type``: a number (an int where it is one) within the Range ``allowed``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            if allowed.type is Integral:
                raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
            try:
                value = float(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None
        if value != value or value not in allowed:  # NaN is in no range
            raise argparse.ArgumentTypeError(f"must be {allowed.describe()}, got {text}")
        return value

    return parse


def _gray_range(text):
    """``image`` or ``LOW,HIGH`` (two numbers)."""
    if text == "image":
        return text
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be 'image' or two numbers LOW,HIGH (0,4095), got {text!r}") from None
    return low, high


_CONVENTIONS = ("mahotas", "skimage", "pyradiomics")


def _offset(text):
    """A convention's name, an angle in radians (``0.5``), or an offset vector (``2,-1``)."""
    if text in _CONVENTIONS:
        return text
    try:
        if "," in text:
            return tuple(int(part) for part in text.split(","))
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be {', '.join(_CONVENTIONS)}, angles in radians (0 0.5) or offset vectors "
            f"DY,DX (0,1 2,1), got {text!r}") from None


class _Offsets(argparse.Action):
    """One convention's name, or a list of angles or of vectors (checked by the settings)."""

    def __call__(self, parser, namespace, values, option_string=None):
        names = [value for value in values if isinstance(value, str)]
        if names and len(values) > 1:
            raise argparse.ArgumentError(self, f"a convention ({names[0]}) is given alone")
        setattr(namespace, self.dest, values[0] if names else list(values))


_BOTH = frozenset({"featurizer", "regions"})
_ALL = frozenset(ENTRY_POINTS)

#: The row-changing parameters, in the estimator's order.
PARAMETERS = (
    Parameter("distance", 1, (Range(Integral, 1, None, "left"), "array-like"),
              "pixel distance(s) of the co-occurring pairs; several: a block of columns each",
              cli=(("nargs", "+"), ("action", _OneOrMany), ("metavar", "D"))),
    Parameter("aggregate", None,
              (None, Options(("mean", "mean_ptp", "mean_std", "min_max", "merged", "mean_all"))),
              "how the directions become columns: each kept (default), their mean, mean and "
              "range, mean and std, min and max, the matrices merged, or one mean over every "
              "distance"),
    Parameter("ignore_zeros", False, ("boolean",),
              "leave out the pixel pairs involving a zero (background) pixel"),
    Parameter("compute_14th_feature", False, ("boolean",),
              "also the maximal correlation coefficient (slow)"),
    Parameter("use_x_minus_y_variance", False, ("boolean",),
              "feature 10 as VAR[|x - y|] instead of mahotas's VAR[P(|x - y|)]"),
    Parameter("levels", None, (None, Range(Integral, 2, 256, "both")),
              "gray levels, 2 to 256 (default: 8-bit images keep theirs, others are binned "
              "into 256)", cli=(("metavar", "N"),)),
    Parameter("backend", "auto", (Options(("auto", "numba", "mahotas")),),
              "what computes the features: the compiled kernels (auto, numba) or mahotas"),
    Parameter("features", "haralick", (str, list, tuple),
              "the features: a set (haralick, skimage, ibsi) or set and feature names",
              cli=(("nargs", "+"), ("action", _OneOrMany), ("metavar", "NAME")),
              where=_ALL),
    Parameter("offsets", None,
              (None, Options(_CONVENTIONS), "array-like"),
              "how a direction's offset grows with the distance: a convention (default: the "
              "features' own library's), angles in radians (0 0.5) or offset vectors per unit "
              "distance (0,1 2,1)",
              cli=(("nargs", "+"), ("action", _Offsets), ("type", _offset),
                   ("metavar", "mahotas|skimage|pyradiomics|ANGLE|DY,DX")),
              where=_ALL),
    Parameter("bin_width", None, (None, Range(Real, 0, None, "neither")),
              "fixed bin width, pyradiomics's binWidth (excludes levels and gray_range)",
              cli=(("metavar", "W"),), where=_ALL),
    Parameter("gray_range", None, (None, Options(("image",)), tuple, list),
              "the intensities the levels are spread over: the image's own min to max "
              "('image') or LOW,HIGH for every image",
              cli=(("type", _gray_range), ("metavar", "image|LOW,HIGH")), where=_ALL),
    Parameter("volume", False, ("boolean", Options(("2d", "2.5d", "3d"))),
              "each sample is a 3-D volume (multi-page TIFF, NIfTI .nii/.nii.gz, NRRD .nrrd; "
              "a folder gives those files): mahotas's 13 3-D directions",
              cli=(("help", "each sample is a 3-D volume (multi-page TIFF, NIfTI .nii/.nii.gz, "
                    "NRRD .nrrd; a folder gives those files): mahotas's 13 3-D directions "
                    "(IBSI's 3-D; the 2-D and 2.5-D modes are the Python API's volume='2d' / "
                    "'2.5d')"),),
              where=_ALL),
    Parameter("symmetric", True, ("boolean",),
              "add each co-occurrence matrix's transpose, as mahotas does", where=_ALL),
    Parameter("preserve_haralick_bug", False, ("boolean",),
              "mahotas's option: the sum variance around the sum entropy, as Haralick's "
              "paper prints it", where=_BOTH),
    Parameter("color", "gray", (Options(("gray", "rgb", "hsv", "lab")),),
              "the channels featurized: gray (the reference's numbers), or each channel of "
              "RGB, HSV or CIE L*a*b* (columns prefixed R_, H_, L_...)", where=_ALL),
    Parameter("color_pairs", None, (None, Options(("all",)), list, tuple),
              "cross-channel co-occurrence of channel pairs of a colour space ('all': every "
              "pair)",
              cli=(("action", "store_const"), ("const", "all"),
                   ("help", "with --color rgb|hsv|lab, also the cross-channel co-occurrence of "
                    "every pair of channels (columns prefixed RG_, HS_, La_...)")),
              where=_ALL),
    Parameter("gray_conversion", "exact", (Options(("exact", "mahotas")),),
              "how RGB becomes gray: exact integer arithmetic, the same on every machine, or "
              "mahotas's rgb2gray bit for bit, which depends on the machine's BLAS"),
)

_BY_NAME = {p.name: p for p in PARAMETERS}


def parameter(name):
    """The :class:`Parameter` called ``name`` (``KeyError`` if the table has none)."""
    return _BY_NAME[name]


def parameter_names(entry_point="featurizer"):
    """The names of the parameters that ``entry_point`` takes, in the table's order.

    Parameters
    ----------
    entry_point : {"featurizer", "regions", "maps"}, default="featurizer"
        ``"featurizer"``: every parameter (the estimator, its settings, the command's
        featurizing options).

    Returns
    -------
    names : tuple of str
    """
    if entry_point not in ENTRY_POINTS:
        raise ValueError(f"entry_point must be one of {list(ENTRY_POINTS)}; got {entry_point!r}")
    return tuple(p.name for p in PARAMETERS if entry_point in p.where)


def argparse_arguments(param):
    """``(flags, keywords)`` of ``parser.add_argument`` for the command's option of ``param``.

    A boolean is ``--name/--no-name``; a choice of strings takes them as ``choices``; a
    :class:`Range` checks its number; :attr:`Parameter.cli` adds or overrides keywords.
    The default is the table's.
    """
    options = {"default": param.default, "help": param.help}
    choices = [c for c in param.constraints if isinstance(c, Options)]
    ranges = [c for c in param.constraints if isinstance(c, Range)]
    if "boolean" in param.constraints:
        options["action"] = argparse.BooleanOptionalAction
    elif choices and all(c is None or isinstance(c, Options) for c in param.constraints):
        options["choices"] = list(choices[0].values)
    elif ranges:
        options["type"] = _number_in(ranges[0])
    options.update(param.cli)
    if options.get("action") is argparse.BooleanOptionalAction:
        options["help"] += f" (default {param.flag if param.default else '--no-' + param.flag[2:]})"
    elif options["default"] is not None:
        options["help"] += f" (default {options['default']})"
    return [param.flag], options
