"""The one settings object that travels down the path of stages.

``read -> channels -> quantize -> co-occurrence -> features -> aggregate``:
every stage receives a :class:`TextureSettings`, built and validated once
from an estimator's parameters. It knows which fields change the numbers
(all of them: they make the cache key) and the names of the features it
produces, so that the featurizer, the cache and, later, texture maps and
region tables agree on both by construction.
"""

import dataclasses
import functools
import inspect
import json
import math
import types
from numbers import Integral, Real

import numpy as np

from .preprocess.gray import GRAY_CONVERSIONS
from .texture.offsets import (MAX_STEP, angle_name, angle_offset, canonical_offset,
                              checked_offset_list, offset_name)
from ._params import PARAMETERS, parameter_names

__all__ = [
    "AGGREGATES", "COLOR_CHANNELS", "DIRECTIONS_2D", "DIRECTIONS_3D", "FEATURE_NAMES",
    "FEATURE_SETS",
    "IBSI_FEATURES", "OFFSET_CONVENTIONS", "SKIMAGE_PROPS", "TextureSettings",
]

#: Haralick's features, in mahotas's order (``haralick_labels``), as column names.
FEATURE_NAMES = (
    "angular_second_moment",
    "contrast",
    "correlation",
    "sum_of_squares_variance",
    "inverse_difference_moment",
    "sum_average",
    "sum_variance",
    "sum_entropy",
    "entropy",
    "difference_variance",
    "difference_entropy",
    "information_measure_of_correlation_1",
    "information_measure_of_correlation_2",
    "maximal_correlation_coefficient",
)

#: The four 2-D directions as ``(name, (dy, dx))`` per unit distance, in
#: mahotas's order. Offsets are data: 3-D adds its thirteen here.
DIRECTIONS_2D = (
    ("horizontal", (0, 1)),
    ("diagonal_nwse", (1, 1)),
    ("vertical", (1, 0)),
    ("diagonal_nesw", (1, -1)),
)

#: scikit-image's ``graycoprops`` properties, in its documentation's order.
SKIMAGE_PROPS = (
    "contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM", "mean",
    "variance", "std", "entropy",
)

#: pyradiomics's 24 GLCM features (``RadiomicsGLCM``), in its alphabetical order.
IBSI_FEATURES = (
    "Autocorrelation", "ClusterProminence", "ClusterShade", "ClusterTendency", "Contrast",
    "Correlation", "DifferenceAverage", "DifferenceEntropy", "DifferenceVariance", "Id", "Idm",
    "Idmn", "Idn", "Imc1", "Imc2", "InverseVariance", "JointAverage", "JointEnergy",
    "JointEntropy", "MCC", "MaximumProbability", "SumAverage", "SumEntropy", "SumSquares",
)

#: The named feature sets: ``features="haralick"`` (the default, mahotas's 13; the 14th with
#: ``compute_14th_feature``), ``"skimage"`` and ``"ibsi"``. Column names are catalogue keys:
#: the Haralick set's as before, the others prefixed with their set.
FEATURE_SETS = {
    "haralick": FEATURE_NAMES,
    "skimage": tuple(f"skimage_{prop}" for prop in SKIMAGE_PROPS),
    "ibsi": tuple(f"ibsi_{name}" for name in IBSI_FEATURES),
}

#: How the offset of a direction grows with the distance ``d``: mahotas's ``d * (dy, dx)``,
#: scikit-image's ``(round(d sin a), round(d cos a))`` (diagonals ``round(d / sqrt 2)``), or
#: pyradiomics's every offset of infinity norm ``d`` up to sign (``4 d`` of them, 2-D only).
#: ``offsets`` may also be a list of angles or of offset vectors (see
#: :func:`haralick_learn.texture.offsets.checked_offset_list`).
OFFSET_CONVENTIONS = ("mahotas", "skimage", "pyradiomics")


#: mahotas's 13 3-D directions (``mahotas.features.texture._3d_deltas``, in
#: its order) as ``(name, (d0, d1, d2))`` per unit distance along the
#: volume's axes 0, 1, 2; ``offset_1_m1_0`` is the offset ``(1, -1, 0)``.
DIRECTIONS_3D = tuple(
    (offset_name(offset), offset)
    for offset in (
        (1, 0, 0), (1, 1, 0), (0, 1, 0), (1, -1, 0), (0, 0, 1), (1, 0, 1), (0, 1, 1),
        (1, 1, 1), (1, -1, 1), (1, 0, -1), (0, 1, -1), (1, 1, -1), (1, -1, -1),
    )
)

#: How a volume is read (``volume=True`` is ``"3d"``): IBSI's 2-D (per slice along axis 0),
#: 2.5-D (the slices' matrices summed) and 3-D aggregations.
VOLUME_MODES = ("2d", "2.5d", "3d")

#: How the directions of one distance become columns: the names of the groups.
#: ``"merged"`` sums the directions' matrices before the features (IBSI's merged mode).
AGGREGATES = {
    None: None, "mean": ("mean",), "mean_ptp": ("mean", "ptp"), "mean_std": ("mean", "std"),
    "min_max": ("min", "max"), "merged": ("merged",), "mean_all": ("mean",),
}

BACKENDS = ("numba", "mahotas")

#: The channels of each ``color`` setting, in output order (``"gray"``: one, unnamed).
COLOR_CHANNELS = {
    "gray": ("gray",),
    "rgb": ("R", "G", "B"),
    "hsv": ("H", "S", "V"),
    "lab": ("L", "a", "b"),
}


@dataclasses.dataclass(frozen=True)
class TextureSettings:
    """Every setting that changes a feature row, validated.

    Build it with :meth:`from_params`; it is immutable and hashable, pickles
    cheaply to worker processes, and is the only thing the stages read.

    Parameters
    ----------
    distances : tuple of int
        Positive pixel distances, without duplicates, in output order.
    aggregate : None or str
        How directions are combined: a key of :data:`AGGREGATES`.
    ignore_zeros, compute_14th_feature, use_x_minus_y_variance : bool
        mahotas's options of the same names.
    levels : int in [2, 256] or None
        Quantization (see :func:`haralick_learn.preprocess.quantize.to_gray_levels`).
    backend : {"numba", "mahotas"}
        Which implementation computes the features (resolved: no ``"auto"``).
    features : tuple of str
        Catalogue keys of the features, in output order (resolved from a set's
        name or a list; see :data:`FEATURE_SETS`).
    offsets : {"mahotas", "skimage", "pyradiomics"}, tuple of float or tuple of tuple of int
        How a direction's offset grows with the distance (:data:`OFFSET_CONVENTIONS`),
        or the user's angles (floats, radians) or offset vectors per unit distance;
        resolved: ``from_params(offsets=None)`` takes the features' own convention.
    bin_width : float or None
        pyradiomics's fixed bin width (see
        :func:`haralick_learn.preprocess.quantize.to_gray_levels`).
    gray_range : None, "image" or (low, high)
        The intensity range that ``levels`` bins are spread over.
    volume : False or {"2d", "2.5d", "3d"}
        Samples are 3-D volumes (:data:`VOLUME_MODES`): ``"3d"`` mahotas's 13 3-D
        directions; ``"2.5d"`` and ``"2d"`` the 4 in-plane ones of slices along axis 0,
        their matrices summed over the slices (``"2.5d"``) or each slice's features
        averaged (``"2d"``).
    symmetric : bool
        Add each co-occurrence matrix's transpose (mahotas's default).
    preserve_haralick_bug : bool
        mahotas's option of the same name (sum variance around the sum entropy).
    color : {"gray", "rgb", "hsv", "lab"}
        The channel images featurized (see :mod:`haralick_learn.preprocess.channels`).
    color_pairs : tuple of (str, str)
        Channel pairs whose cross-channel co-occurrence is featurized, in output order.
    gray_conversion : {"exact", "mahotas"}
        How RGB becomes gray (see :mod:`haralick_learn.preprocess.gray`).
    """

    distances: tuple = (1,)
    aggregate: object = None
    ignore_zeros: bool = False
    compute_14th_feature: bool = False
    use_x_minus_y_variance: bool = False
    levels: object = None
    backend: str = "numba"
    features: tuple = FEATURE_NAMES[:13]
    offsets: object = "mahotas"
    bin_width: object = None
    gray_range: object = None
    volume: object = False
    symmetric: bool = True
    preserve_haralick_bug: bool = False
    color: str = "gray"
    color_pairs: tuple = ()
    gray_conversion: str = "exact"

    @classmethod
    def from_params(cls, **params):
        """Validate an estimator's parameters (ValueError / TypeError) and build the settings.

        Takes the row-changing parameters of :data:`haralick_learn._params.PARAMETERS`,
        by keyword, each defaulting to the table's default.

        Examples
        --------
        >>> s = TextureSettings.from_params(distance=[1, 2], aggregate="mean")
        >>> s.distances, s.n_features
        ((1, 2), 26)
        >>> TextureSettings.from_params(distance=[2, 2])
        Traceback (most recent call last):
        ...
        ValueError: distance contains duplicates: [2, 2]
        >>> s = TextureSettings.from_params(color="rgb", color_pairs="all", aggregate="mean")
        >>> s.color_pairs, s.n_features
        ((('R', 'G'), ('R', 'B'), ('G', 'B')), 78)
        >>> s.feature_names[0], s.feature_names[-1]
        ('R_angular_second_moment_mean_d1', 'GB_information_measure_of_correlation_2_mean_d1')
        >>> TextureSettings.from_params(bin_widht=25)
        Traceback (most recent call last):
        ...
        TypeError: unknown parameter 'bin_widht'; the settings are distance, aggregate, ...
        """
        unknown = sorted(set(params) - set(parameter_names()))
        if unknown:
            raise TypeError(
                f"unknown parameter{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(repr, unknown))}; the settings are {', '.join(parameter_names())}"
            )
        p = types.SimpleNamespace(**{param.name: params.get(param.name, param.default)
                                     for param in PARAMETERS})
        for name in _SWITCHES:
            # bool("no") is True: a switch is never taken for its truth value
            value = getattr(p, name)
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool (True or False); got {value!r}")
        if not isinstance(p.aggregate, (str, type(None))) or p.aggregate not in AGGREGATES:
            raise ValueError(f"aggregate must be one of {list(AGGREGATES)}; got {p.aggregate!r}")
        if p.backend not in ("auto", *BACKENDS):
            raise ValueError(f"backend must be 'auto', 'numba' or 'mahotas'; got {p.backend!r}")
        if p.levels is not None and (
            isinstance(p.levels, bool) or not isinstance(p.levels, Integral)
            or not 2 <= p.levels <= 256
        ):
            raise ValueError(f"levels must be None or an int in [2, 256]; got {p.levels!r}")
        if not isinstance(p.color, str) or p.color not in COLOR_CHANNELS:
            raise ValueError(f"color must be 'gray', 'rgb', 'hsv' or 'lab'; got {p.color!r}")
        if not isinstance(p.gray_conversion, str) or p.gray_conversion not in GRAY_CONVERSIONS:
            raise ValueError(f"gray_conversion must be 'exact' or 'mahotas'; "
                             f"got {p.gray_conversion!r}")
        if isinstance(p.offsets, str) and p.offsets not in OFFSET_CONVENTIONS:
            raise ValueError(f"offsets must be None, 'mahotas', 'skimage', 'pyradiomics' or a "
                             f"list of angles or of offset vectors; got {p.offsets!r}")
        volume = _volume_mode(p.volume)
        p.volume = volume
        if p.volume and p.color != "gray":
            raise ValueError(f"color={p.color!r} needs 2-D colour images; volumes are gray "
                             "(color='gray')")
        if p.volume and isinstance(p.offsets, str) and p.offsets != "mahotas":
            raise ValueError(f"offsets={p.offsets!r} is a 2-D rule; volumes use "
                             "mahotas's 3-D offsets (offsets='mahotas') or offset vectors")
        names = _feature_names(p.features, p.compute_14th_feature)
        distances = _distances(p.distance)
        offsets = p.offsets
        if offsets is None:
            offsets = _default_offsets(names, distances, bool(p.volume))
        elif not isinstance(offsets, str):
            offsets = checked_offset_list(offsets, volume=bool(p.volume),
                                          symmetric=bool(p.symmetric), distances=distances)
            if volume in ("2d", "2.5d") and any(offset[0] for offset in offsets):
                raise ValueError(f"volume={volume!r} counts pairs within slices (along axis 0): "
                                 f"offset vectors need dz = 0; got {list(offsets)}")
        bin_width, gray_range = _binning(p.bin_width, p.gray_range, p.levels)
        if p.backend == "mahotas" and (
            not set(names) <= set(FEATURE_NAMES) or offsets != "mahotas"
            or p.aggregate in ("merged", "mean_all") or bin_width is not None
            or gray_range is not None
        ):
            raise ValueError(
                "backend='mahotas' computes mahotas's own features only: the Haralick set, "
                "offsets='mahotas', no bin_width, gray_range or aggregate='merged' / 'mean_all'"
            )
        return cls(
            distances=distances,
            aggregate=p.aggregate,
            ignore_zeros=bool(p.ignore_zeros),
            compute_14th_feature=bool(p.compute_14th_feature),
            use_x_minus_y_variance=bool(p.use_x_minus_y_variance),
            levels=None if p.levels is None else int(p.levels),
            # numba is a dependency: "auto" always finds the compiled kernels.
            backend="numba" if p.backend == "auto" else p.backend,
            features=names,
            offsets=offsets,
            bin_width=bin_width,
            gray_range=gray_range,
            volume=volume,
            symmetric=bool(p.symmetric),
            preserve_haralick_bug=bool(p.preserve_haralick_bug),
            color=p.color,
            color_pairs=_color_pairs(p.color_pairs, p.color, bool(p.symmetric)),
            gray_conversion=p.gray_conversion,
        )

    @property
    def offset_kind(self):
        """``"convention"`` (a name in :data:`OFFSET_CONVENTIONS`), ``"angles"``, ``"vectors"``."""
        if isinstance(self.offsets, str):
            return "convention"
        return "vectors" if isinstance(self.offsets[0], tuple) else "angles"

    @property
    def scaled_directions(self):
        """Whether the offsets at distance ``d`` are ``d`` times :attr:`directions`.

        True for mahotas's convention and offset vectors; angles and the other
        conventions round or enumerate the offsets of each distance
        (:meth:`offsets_at`).
        """
        return self.offsets == "mahotas" or self.offset_kind == "vectors"

    @property
    def directions(self):
        """``((name, offset), ...)`` per unit distance: 4 in 2-D, 13 for volumes (4 in-plane
        ones with ``volume="2d"`` or ``"2.5d"``).

        Offset vectors give theirs, each as counted (:meth:`offsets_at`); angles
        their offsets at distance 1.
        """
        if self.offset_kind == "vectors":
            return tuple((offset_name(v), canonical_offset(v)) for v in self.offsets)
        if self.offset_kind == "angles":
            return tuple(zip(self.direction_names_at(1), self.offsets_at(1)))
        if self.volume in ("2d", "2.5d"):
            return _IN_PLANE_3D
        return DIRECTIONS_3D if self.volume else DIRECTIONS_2D

    def offsets_at(self, distance):
        """The offset of each direction at ``distance``, as counted, by :attr:`offsets`.

        An offset whose first non-zero component is negative (from a vector or
        an angle) is counted as its opposite: the same symmetric matrix
        (:meth:`from_params` refuses it with ``symmetric=False``).

        Examples
        --------
        >>> TextureSettings(offsets="mahotas").offsets_at(4)
        ((0, 4), (4, 4), (4, 0), (4, -4))
        >>> TextureSettings(offsets="skimage").offsets_at(4)
        ((0, 4), (3, 3), (4, 0), (3, -3))
        >>> TextureSettings(offsets="pyradiomics").offsets_at(2)
        ((0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (2, -1), (2, -2), (1, -2))
        >>> TextureSettings(offsets=((0, 1), (2, 1))).offsets_at(3)
        ((0, 3), (6, 3))
        >>> TextureSettings(offsets=(0.0, 0.3, 2.0)).offsets_at(3)
        ((0, 3), (1, 3), (3, -1))
        """
        if self.offsets == "pyradiomics":
            return _chebyshev_offsets(distance)
        if self.scaled_directions:
            return tuple(tuple(distance * c for c in unit) for _, unit in self.directions)
        if self.offset_kind == "angles":
            angles = self.offsets
        else:  # scikit-image's rounding of mahotas's four directions' angles
            angles = [math.atan2(dy, dx) for _, (dy, dx) in self.directions]
        return tuple(canonical_offset(angle_offset(a, distance)) for a in angles)

    def direction_names_at(self, distance):
        """The names of the directions at ``distance``.

        ``horizontal``... (2-D conventions), ``offset_2_m1`` for pyradiomics's,
        offset vectors and volumes, ``angle_17.1887`` for an angle (its degrees).
        """
        if self.offsets == "pyradiomics":
            return tuple(offset_name(offset) for offset in self.offsets_at(distance))
        if self.offset_kind == "angles":
            return tuple(angle_name(angle) for angle in self.offsets)
        return tuple(name for name, _ in self.directions)

    @property
    def n_haralick_features(self):
        return 14 if self.compute_14th_feature else 13

    @property
    def channels(self):
        """Names of the channel images, in output order (``("gray",)`` for gray)."""
        return COLOR_CHANNELS[self.color]

    @functools.cached_property  # read for every batch of regions: built once
    def feature_names(self):
        """Column names: ``{feature}_{direction or aggregate}_d{distance}``.

        ``feature`` is a catalogue key: ``contrast`` (Haralick's, as mahotas),
        ``skimage_contrast``, ``ibsi_Contrast``... With a colour space, one such
        block per channel, each name prefixed by the channel
        (``R_contrast_horizontal_d1``), then one block per channel pair, prefixed
        by the two channels' names (``RG_contrast_horizontal_d1``).
        """
        if self.aggregate == "mean_all":  # one mean over every distance: d1_2
            label = "_".join(str(d) for d in self.distances)
            block = tuple(f"{feature}_mean_d{label}" for feature in self.features)
        else:
            block = tuple(
                f"{feature}_{group}_d{d}"
                for d in self.distances
                for group in AGGREGATES[self.aggregate] or self.direction_names_at(d)
                for feature in self.features
            )
        if self.color == "gray":
            return block
        prefixes = self.channels + tuple(a + b for a, b in self.color_pairs)
        return tuple(f"{prefix}_{name}" for prefix in prefixes for name in block)

    @property
    def n_features(self):
        """Length of a row."""
        return len(self.feature_names)

    def cache_key(self):
        """Bytes that identify these settings: every field, since every field changes a row.

        The backend is in it too: the two backends agree to about 1e-12, not
        bit for bit, and a cached row must be the one this setting computes.
        """
        fields = dataclasses.asdict(self)
        # A field at the value that keys made without it stand for is left out, so that
        # adding a field changes no existing key and the rows cached under it stay found:
        # keys without gray_conversion are mahotas's conversion.
        if fields["gray_conversion"] == "mahotas":
            del fields["gray_conversion"]
        if fields["volume"] == "3d":  # keyed as its other spelling, volume=True
            fields["volume"] = True
        if self.offset_kind != "convention":  # not a convention's name, whatever JSON makes
            fields["offsets"] = {self.offset_kind: fields["offsets"]}
        if tuple(fields["features"]) == FEATURE_NAMES[: self.n_haralick_features]:
            del fields["features"]
        for name, default in (("offsets", "mahotas"), ("bin_width", None),
                              ("gray_range", None), ("volume", False), ("symmetric", True),
                              ("preserve_haralick_bug", False), ("color", "gray"),
                              ("color_pairs", ())):
            if fields[name] == default:
                del fields[name]
        return json.dumps(fields, sort_keys=True).encode()


# help() and inspect.signature() show the table's keywords and defaults.
TextureSettings.from_params.__func__.__signature__ = inspect.Signature(
    [inspect.Parameter("cls", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    + [inspect.Parameter(param.name, inspect.Parameter.KEYWORD_ONLY, default=param.default)
       for param in PARAMETERS]
)


def _chebyshev_offsets(distance):
    """pyradiomics's 2-D offsets at ``distance``: the ``4 d`` offsets ``(dy, dx)`` of infinity
    norm ``d``, one of each pair ``a, -a`` (``dy > 0``, or ``dy == 0`` and ``dx > 0``), going
    round from ``(0, d)``; at ``d = 1`` mahotas's four directions in their order."""
    ring = [(dy, distance) for dy in range(0, distance)]
    ring += [(distance, dx) for dx in range(distance, -distance - 1, -1)]
    ring += [(dy, -distance) for dy in range(distance - 1, 0, -1)]
    return tuple(ring)


#: The table's parameters that are True or False only (``volume`` also takes its modes).
_SWITCHES = tuple(param.name for param in PARAMETERS if param.constraints == ("boolean",))


#: The 4 in-plane directions of a volume's slices along axis 0, in mahotas's 2-D order.
_IN_PLANE_3D = tuple((offset_name((0, *offset)), (0, *offset)) for _, offset in DIRECTIONS_2D)


def _volume_mode(volume):
    """``volume`` as the settings store it: False or a name of :data:`VOLUME_MODES`."""
    if isinstance(volume, (bool, np.bool_)):
        return "3d" if volume else False
    if isinstance(volume, str) and volume in VOLUME_MODES:
        return volume
    raise ValueError(f"volume must be a bool or one of {list(VOLUME_MODES)}; got {volume!r}")


#: The offsets of each feature set's own library (2-D; volumes have mahotas's only).
_SET_OFFSETS = {"haralick": "mahotas", "skimage": "skimage", "ibsi": "pyradiomics"}


def _default_offsets(names, distances, volume):
    """``offsets=None``: the convention of the library whose features ``names`` are.

    mahotas's for the Haralick set, scikit-image's for ``skimage_*``,
    pyradiomics's for ``ibsi_*``; volumes have mahotas's 13 offsets only, which
    are pyradiomics's at distance 1 (beyond it pyradiomics takes more). Features
    of several sets agree at distance 1 (every convention's four offsets are
    the unit ones: mahotas's are taken); beyond it they need ``offsets``.
    """
    sets = {_SET_OFFSETS[_set_of(name)] for name in names}
    far = [d for d in distances if d > 1]
    if volume:
        if "pyradiomics" in sets and far:
            raise ValueError(
                f"features 'ibsi_*' on volumes: pyradiomics's 3-D offsets at distance "
                f"{far[0]} (every offset of infinity norm {far[0]}) are not available; pass "
                f"offsets='mahotas' for mahotas's 13 offsets d * (unit offset)"
            )
        return "mahotas"
    if len(sets) == 1:
        return sets.pop()
    if far:
        raise ValueError(
            f"features mixes sets whose offsets differ at distance {far[0]} "
            f"({', '.join(sorted(sets))}): pass offsets='mahotas', 'skimage' or 'pyradiomics'"
        )
    return "mahotas"


def _set_of(name):
    """The feature set a catalogue key belongs to."""
    for set_name in ("skimage", "ibsi"):
        if name.startswith(set_name + "_"):
            return set_name
    return "haralick"


def _feature_names(features, compute_14th_feature):
    """Catalogue keys from a set's name or a list of set names and keys, in order."""
    haralick = FEATURE_NAMES[: 14 if compute_14th_feature else 13]
    known = dict.fromkeys(FEATURE_NAMES + FEATURE_SETS["skimage"] + FEATURE_SETS["ibsi"])
    # A list or tuple: the columns' order is theirs (a set's would follow the strings' hashes,
    # which change from run to run)
    items = ([features] if isinstance(features, str)
             else list(features) if isinstance(features, (list, tuple)) else None)
    if not items or not all(isinstance(item, str) for item in items):
        raise ValueError(
            f"features must be 'haralick', 'skimage', 'ibsi' or a non-empty list of set and "
            f"feature names; got {features!r}"
        )
    names = []
    for item in items:
        if item == "haralick":
            names.extend(haralick)
        elif item in FEATURE_SETS:
            names.extend(FEATURE_SETS[item])
        elif item in known:
            names.append(item)
        else:
            raise ValueError(
                f"unknown feature {item!r}: features are the sets 'haralick', 'skimage', "
                f"'ibsi' or names of theirs (e.g. 'contrast', 'skimage_contrast', "
                f"'ibsi_Contrast'); see haralick_learn._settings.FEATURE_SETS"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"features contains duplicates: {names}")
    return tuple(names)


def _binning(bin_width, gray_range, levels):
    """Validated ``(bin_width, gray_range)``."""
    if bin_width is not None:
        if isinstance(bin_width, bool) or not isinstance(bin_width, Real) or not (
            np.isfinite(bin_width) and bin_width > 0
        ):
            raise ValueError(f"bin_width must be None or a positive number; got {bin_width!r}")
        if levels is not None or gray_range is not None:
            raise ValueError("bin_width sets the levels itself: levels and gray_range must "
                             "be None with it")
        # whole widths binned in integers; a float beyond 63 bits (at most two bins)
        bin_width = (int(bin_width) if float(bin_width).is_integer() and bin_width < 2**62
                     else float(bin_width))
    if gray_range is None or (isinstance(gray_range, str) and gray_range == "image"):
        return bin_width, gray_range
    try:
        low, high = (float(v) for v in gray_range)
    except (TypeError, ValueError):
        low = high = np.nan
    with np.errstate(over="ignore"):
        finite = np.isfinite(low) and np.isfinite(high) and np.isfinite(high - low)
    if not (finite and low < high):
        raise ValueError(f"gray_range must be None, 'image' or (low, high) with finite "
                         f"low < high (and a finite high - low); got {gray_range!r}")
    return bin_width, (low, high)


def _distances(distance):
    if isinstance(distance, Integral) and not isinstance(distance, bool):
        values = (distance,)
    else:
        try:
            values = tuple(np.asarray(distance, dtype=object).ravel().tolist())
        except TypeError:
            values = ()
        if not values:
            raise ValueError("distance must be a positive int or a non-empty list of them")
    for d in values:
        if isinstance(d, bool) or not isinstance(d, Integral) or d < 1:
            raise ValueError(f"distance must contain positive ints, got {d!r}")
        if d > MAX_STEP:
            raise ValueError(f"distance must be at most {MAX_STEP} pixels (longer than any "
                             f"image), got {d!r}")
    if len(set(values)) != len(values):
        raise ValueError(f"distance contains duplicates: {list(values)}")
    return tuple(int(d) for d in values)


def _color_pairs(color_pairs, color, symmetric=True):
    """``color_pairs`` as a tuple of ``(a, b)`` channel names, validated against ``color``.

    With ``symmetric`` a pair and its reverse are one pair (transposed matrices);
    without, ``(b, a)`` counts ``b`` before ``a`` along each direction: another pair.
    """
    if color_pairs is None:
        return ()
    channels = COLOR_CHANNELS[color]
    if color == "gray":
        raise ValueError(
            "color_pairs needs a colour space (color='rgb', 'hsv' or 'lab'); got color='gray'"
        )
    if isinstance(color_pairs, str):
        if color_pairs != "all":
            raise ValueError(f"color_pairs must be None, 'all' or a list of channel pairs; "
                             f"got {color_pairs!r}")
        return tuple((a, b) for i, a in enumerate(channels) for b in channels[i + 1:])
    try:
        pairs = [tuple(pair) for pair in color_pairs]
    except TypeError:
        pairs = None
    if not pairs:
        raise ValueError("color_pairs must be None, 'all' or a non-empty list of channel pairs "
                         f"such as [{channels[:2]!r}]; got {color_pairs!r}")
    seen = set()
    for pair in pairs:
        if len(pair) != 2 or not all(isinstance(c, str) and c in channels for c in pair):
            raise ValueError(f"color_pairs: each pair must be two of the channels "
                             f"{list(channels)} of color={color!r}; got {pair!r}")
        if pair[0] == pair[1]:
            raise ValueError(f"color_pairs: {pair!r} pairs a channel with itself, whose "
                             "co-occurrence is already that channel's own block")
        if pair in seen:
            raise ValueError(f"color_pairs: {pair!r} repeats a pair")
        if symmetric and pair[::-1] in seen:
            # The matrix of (b, a) is the transpose of that of (a, b).
            raise ValueError(f"color_pairs: {pair!r} repeats a pair (with symmetric=True a "
                             "pair and its reverse are the same pair)")
        seen.add(pair)
    return tuple(pairs)
