"""The one settings object that travels down the path of stages.

``read -> channels -> quantize -> co-occurrence -> features -> aggregate``:
every stage receives a :class:`TextureSettings`, built and validated once
from an estimator's parameters. It knows which fields change the numbers
(all of them: they make the cache key) and the names of the features it
produces, so that the featurizer, the cache and, later, texture maps and
region tables agree on both by construction.
"""

import dataclasses
import json
from numbers import Integral

import numpy as np

__all__ = ["AGGREGATES", "DIRECTIONS_2D", "DIRECTIONS_3D", "FEATURE_NAMES", "TextureSettings"]

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


def _offset_name(offset):
    return "offset_" + "_".join(f"m{-c}" if c < 0 else str(c) for c in offset)


#: mahotas's 13 3-D directions (``mahotas.features.texture._3d_deltas``, in
#: its order) as ``(name, (d0, d1, d2))`` per unit distance along the
#: volume's axes 0, 1, 2; ``offset_1_m1_0`` is the offset ``(1, -1, 0)``.
DIRECTIONS_3D = tuple(
    (_offset_name(offset), offset)
    for offset in (
        (1, 0, 0), (1, 1, 0), (0, 1, 0), (1, -1, 0), (0, 0, 1), (1, 0, 1), (0, 1, 1),
        (1, 1, 1), (1, -1, 1), (1, 0, -1), (0, 1, -1), (1, 1, -1), (1, -1, -1),
    )
)

#: How the directions of one distance become columns: the names of the groups.
AGGREGATES = {None: None, "mean": ("mean",), "mean_ptp": ("mean", "ptp")}

BACKENDS = ("numba", "mahotas")


@dataclasses.dataclass(frozen=True)
class TextureSettings:
    """Every setting that changes a feature row, validated.

    Build it with :meth:`from_params`; it is immutable and hashable, pickles
    cheaply to worker processes, and is the only thing the stages read.

    Parameters
    ----------
    distances : tuple of int
        Positive pixel distances, without duplicates, in output order.
    aggregate : {None, "mean", "mean_ptp"}
        How directions are combined.
    ignore_zeros, compute_14th_feature, use_x_minus_y_variance : bool
        mahotas's options of the same names.
    levels : int in [2, 256] or None
        Quantization (see :func:`haralick_learn._quantize.to_gray_levels`).
    backend : {"numba", "mahotas"}
        Which implementation computes the features (resolved: no ``"auto"``).
    volume : bool
        Samples are 3-D volumes: mahotas's 13 3-D directions.
    symmetric : bool
        Add each co-occurrence matrix's transpose (mahotas's default).
    preserve_haralick_bug : bool
        mahotas's option of the same name (sum variance around the sum entropy).
    """

    distances: tuple = (1,)
    aggregate: object = None
    ignore_zeros: bool = False
    compute_14th_feature: bool = False
    use_x_minus_y_variance: bool = False
    levels: object = None
    backend: str = "numba"
    volume: bool = False
    symmetric: bool = True
    preserve_haralick_bug: bool = False

    @classmethod
    def from_params(cls, *, distance=1, aggregate=None, ignore_zeros=False,
                    compute_14th_feature=False, use_x_minus_y_variance=False, levels=None,
                    backend="auto", volume=False, symmetric=True,
                    preserve_haralick_bug=False):
        """Validate an estimator's parameters (ValueError / TypeError) and build the settings.

        Examples
        --------
        >>> s = TextureSettings.from_params(distance=[1, 2], aggregate="mean")
        >>> s.distances, s.n_features
        ((1, 2), 26)
        >>> TextureSettings.from_params(distance=[2, 2])
        Traceback (most recent call last):
        ...
        ValueError: distance contains duplicates: [2, 2]
        """
        if aggregate not in AGGREGATES:
            raise ValueError(f"aggregate must be one of None, 'mean', 'mean_ptp'; got {aggregate!r}")
        if backend not in ("auto", *BACKENDS):
            raise ValueError(f"backend must be 'auto', 'numba' or 'mahotas'; got {backend!r}")
        if levels is not None and (
            isinstance(levels, bool) or not isinstance(levels, Integral) or not 2 <= levels <= 256
        ):
            raise ValueError(f"levels must be None or an int in [2, 256]; got {levels!r}")
        return cls(
            distances=_distances(distance),
            aggregate=aggregate,
            ignore_zeros=bool(ignore_zeros),
            compute_14th_feature=bool(compute_14th_feature),
            use_x_minus_y_variance=bool(use_x_minus_y_variance),
            levels=None if levels is None else int(levels),
            # numba is a dependency: "auto" always finds the compiled kernels.
            backend="numba" if backend == "auto" else backend,
            volume=bool(volume),
            symmetric=bool(symmetric),
            preserve_haralick_bug=bool(preserve_haralick_bug),
        )

    @property
    def directions(self):
        """``((name, offset), ...)`` per unit distance: 4 in 2-D, 13 for volumes."""
        return DIRECTIONS_3D if self.volume else DIRECTIONS_2D

    @property
    def n_haralick_features(self):
        return 14 if self.compute_14th_feature else 13

    @property
    def feature_names(self):
        """Column names: ``{feature}_{direction or aggregate}_d{distance}``."""
        features = FEATURE_NAMES[: self.n_haralick_features]
        groups = AGGREGATES[self.aggregate] or tuple(name for name, _ in self.directions)
        return tuple(
            f"{feature}_{group}_d{d}"
            for d in self.distances
            for group in groups
            for feature in features
        )

    @property
    def n_features(self):
        """Length of a row."""
        return len(self.feature_names)

    def cache_key(self):
        """Bytes that identify these settings: every field, since every field changes a row.

        The backend is in it too: the two backends agree to about 1e-12, not
        bit for bit, and a cached row must be the one this setting computes.
        """
        return json.dumps(dataclasses.asdict(self), sort_keys=True).encode()


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
    if len(set(values)) != len(values):
        raise ValueError(f"distance contains duplicates: {list(values)}")
    return tuple(int(d) for d in values)
