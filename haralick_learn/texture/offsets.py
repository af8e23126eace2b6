"""Offsets: how a direction at a distance becomes the step between two counted pixels.

The one home of the offset rules that the settings (the estimator's
``offsets``) and the functional API (:func:`~haralick_learn.cooccurrence`)
share: scikit-image's rounding of an angle's offset, the column names of
offset vectors and angles, and the validation of a list of either.
"""

import math
from numbers import Integral, Real

import numpy as np


#: The longest pixel step an offset or a distance may take: longer than any image (and
#: products of two of them stay within 64-bit integers).
MAX_STEP = 2**31 - 1

__all__ = ["MAX_STEP", "angle_name", "angle_offset", "canonical_offset", "checked_offset_list",
           "offset_name", "skimage_round"]


def skimage_round(value):
    """scikit-image's rounding of an offset (its Cython ``round``), bit for bit.

    ``int(value + 0.5)`` for a positive value, ``int(value - 0.5)`` otherwise,
    each truncated towards zero: half away from zero, except that the sum is
    rounded to a double first, so ``sin(pi / 6) = 0.49999999999999994`` gives
    1 (where Python's ``round`` gives 0).

    Examples
    --------
    >>> import math
    >>> skimage_round(math.sin(math.pi / 6)), round(math.sin(math.pi / 6))
    (1, 0)
    >>> skimage_round(-2.5), skimage_round(1e-17)
    (-3, 0)
    """
    return int(value + 0.5) if value > 0.0 else int(value - 0.5)


def angle_offset(angle, distance):
    """scikit-image's ``(row, column)`` offset of ``angle`` (radians) at ``distance``.

    ``(round(sin(a) d), round(cos(a) d))`` as ``graycomatrix`` computes it:
    the C library's ``sin`` and ``cos`` of the float64 angle, times the
    distance, rounded by :func:`skimage_round`. An angle of 0 is the pixel
    to the right, ``pi / 2`` the pixel below (the next row).

    Examples
    --------
    >>> import math
    >>> angle_offset(math.pi / 4, 4), angle_offset(math.pi / 6, 1)
    ((3, 3), (1, 1))
    """
    # math.sin is the C library's sin, as in scikit-image's compiled loop
    return (skimage_round(math.sin(angle) * float(distance)),
            skimage_round(math.cos(angle) * float(distance)))


def canonical_offset(offset):
    """``offset`` or its opposite, whichever has its first non-zero component positive.

    The counting takes such offsets only; the other one counts the same
    pixel pairs read backwards (the transposed matrix: the same one once
    symmetrized).

    >>> canonical_offset((0, -2)), canonical_offset((-1, 2, 0)), canonical_offset((1, -1))
    ((0, 2), (1, -2, 0), (1, -1))
    """
    first = next(c for c in offset if c != 0)
    return tuple(offset) if first > 0 else tuple(-c for c in offset)


def offset_name(offset):
    """The column name of an offset vector: ``offset_1_m1`` for ``(1, -1)``."""
    return "offset_" + "_".join(f"m{-c}" if c < 0 else str(c) for c in offset)


def angle_name(angle):
    """The column name of an angle (radians): its degrees to 4 decimals, ``m`` for minus.

    >>> import math
    >>> angle_name(0.0), angle_name(math.pi / 4), angle_name(0.3), angle_name(-math.pi / 6)
    ('angle_0', 'angle_45', 'angle_17.1887', 'angle_m30')
    """
    degrees = round(math.degrees(angle), 4)
    text = f"{abs(degrees):.4f}".rstrip("0").rstrip(".")
    return "angle_" + ("m" if degrees < 0 else "") + text


def _is_number(item):
    return isinstance(item, Real) and not isinstance(item, (bool, np.bool_))


def checked_offset_list(offsets, *, volume=False, symmetric=True, distances=(1,)):
    """The estimator's list of angles or offset vectors, validated, as a tuple.

    A list of numbers is angles in radians (scikit-image's ``angles``);
    a list of 2-sequences of ints (3 with ``volume``) is offset vectors per
    unit distance. The counting takes an offset whose first non-zero
    component is negative as its opposite, which gives the same matrix
    when ``symmetric`` only: without it such offsets are refused.

    Returns
    -------
    offsets : tuple of float or tuple of tuple of int
        The angles as floats, or the vectors as tuples of ints, in order.

    Raises
    ------
    ValueError
        Naming the item that is wrong: an empty list, a mix of angles and
        vectors, an angle that is not finite or angles with ``volume``, a
        vector that is zero, not of ints or of the wrong length, duplicate
        directions, or an offset with a negative first component without
        ``symmetric``.

    Examples
    --------
    >>> checked_offset_list([0, 0.5])
    (0.0, 0.5)
    >>> checked_offset_list([(0, 1), [2, -1]])
    ((0, 1), (2, -1))
    >>> checked_offset_list([(0, 1), (0, -1)])
    Traceback (most recent call last):
    ...
    ValueError: offsets: (0, -1) and (0, 1) are the same direction (an offset and its ...
    """
    try:
        items = list(offsets)
    except TypeError:
        items = None
    if not items:
        raise ValueError(f"offsets must be None, 'mahotas', 'skimage', 'pyradiomics' or a "
                         f"non-empty list of angles or of offset vectors; got {offsets!r}")
    numbers = [_is_number(item) for item in items]
    if all(numbers):
        return _checked_angles(items, volume, symmetric, distances)
    if any(numbers):
        raise ValueError(f"offsets mixes angles (numbers) and offset vectors: {offsets!r}; "
                         "pass a list of angles or a list of vectors")
    return _checked_vectors(items, volume, symmetric)


def _checked_angles(items, volume, symmetric, distances):
    if volume:
        raise ValueError("offsets: angles describe 2-D directions; volume=True takes offset "
                         "vectors (dz, dy, dx)")
    angles = tuple(float(item) for item in items)
    seen = {}
    for angle in angles:
        if not math.isfinite(angle):
            raise ValueError(f"offsets: the angle {angle!r} is not finite")
        name = angle_name(angle)
        if name in seen:
            raise ValueError(f"offsets: the angles {seen[name]!r} and {angle!r} are the same "
                             f"direction to 4 decimals of a degree ({name})")
        seen[name] = angle
        if not symmetric:
            for d in distances:
                offset = angle_offset(angle, d)
                if canonical_offset(offset) != offset:
                    raise ValueError(_backward(f"the angle {angle!r} gives the offset {offset} "
                                               f"at distance {d}, which"))
    return angles


def _checked_vectors(items, volume, symmetric):
    ndim = 3 if volume else 2
    vectors, seen = [], {}
    for item in items:
        try:
            vector = tuple(item)
        except TypeError:
            raise ValueError(f"offsets: {item!r} is neither an angle nor an offset vector") \
                from None
        if len(vector) != ndim:
            axes = "(dz, dy, dx) for volume=True" if volume else "(dy, dx) (3 with volume=True)"
            raise ValueError(f"offsets: {vector!r} has {len(vector)} components; "
                             f"offset vectors are {axes}")
        if not all(isinstance(c, Integral) and not isinstance(c, (bool, np.bool_))
                   for c in vector):
            raise ValueError(f"offsets: {vector!r} is not a vector of ints (pixel steps)")
        vector = tuple(int(c) for c in vector)
        if max(abs(c) for c in vector) > MAX_STEP:
            raise ValueError(f"offsets: {vector} steps more than {MAX_STEP} pixels, beyond "
                             "any image")
        if not any(vector):
            raise ValueError(f"offsets: {vector} is the zero vector (a pixel and itself)")
        key = canonical_offset(vector)
        if key != vector and not symmetric:
            raise ValueError(_backward(f"the offset {vector}"))
        if key in seen:
            same = ("duplicates" if seen[key] == vector else
                    "are the same direction (an offset and its opposite count the same "
                    "pixel pairs)")
            raise ValueError(f"offsets: {vector} and {seen[key]} {same}")
        seen[key] = vector
        vectors.append(vector)
    return tuple(vectors)


def _backward(what):
    return (f"offsets: {what} has a negative first non-zero component, counted as its "
            f"opposite: the same matrix with symmetric=True only (or take the opposite)")
