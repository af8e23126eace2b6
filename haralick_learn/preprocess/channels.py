"""The channels stage for colour: an RGB image becomes the channel images of a colour space.

Pixel arithmetic only: no file is read here (the read stage,
:func:`haralick_learn.io.decode.load_color_pixels`, hands over the RGB array).
Every channel image is 8-bit (``uint8`` levels 0..255), so that the quantize
stage treats it as it treats an 8-bit gray image. The conversions, exactly:

``"rgb"``
    R, G and B as they are (any dtype: wider or float channels are then
    binned by the quantize stage, the three together as one image, so that a
    level means the same intensity in every channel).
``"hsv"`` (8-bit RGB only), the hexcone model of ``skimage.color.rgb2hsv``,
    in exact integer arithmetic: with ``V = max(R, G, B)``, ``m = min(R, G, B)``
    and ``C = V - m``,

    * ``V`` level: ``V`` itself;
    * ``S`` level: ``round(255 C / V)`` (half up; 0 when ``C = 0``);
    * ``H`` level: ``floor(256 h)``, ``h = (k C + d) / (6 C) mod 1`` the hue as a
      fraction of a turn, with ``(k, d) = (4, R - G)`` when ``B`` is the
      maximum, else ``(2, B - R)`` when ``G`` is, else ``(0, G - B)`` (the
      order of precedence of scikit-image); 0 when ``C = 0`` (grays). Hue is
      circular: 256 equal arcs of 1.40625 degrees, level 0 starting at red.
      The co-occurrence features are not circular: reds just below and just
      above 0 degrees lie at levels 255 and 0.
``"lab"`` (8-bit RGB only), CIE L*a*b* of ``skimage.color.rgb2lab`` (sRGB,
    D65 white, 2 degree observer), computed with the same float64 formulas
    (one compiled pass, a pixel at a time):
    the sRGB transfer function (``((c + 0.055) / 1.055) ** 2.4`` above 0.04045,
    ``c / 12.92`` below, ``c = value / 255``), the linear-RGB to XYZ matrix,
    division by the white ``(0.95047, 1, 1.08883)``, ``f(t) = t ** (1/3)`` above
    0.008856 else ``7.787 t + 16 / 116``, ``L = 116 f(Y) - 16``,
    ``a = 500 (f(X) - f(Y))``, ``b = 200 (f(Y) - f(Z))``. L* (0..100) and a*, b*
    (about -128..127) are not 8-bit; their levels are the 8-bit CIELAB encoding
    of ICC profiles and OpenCV: ``round(L * 255 / 100)``, ``round(a) + 128``,
    ``round(b) + 128`` (``numpy.rint``, ties to even), clipped to 0..255.

A gray image given to a colour space is the RGB image ``(g, g, g)``: ``"rgb"``
gives the gray image three times, ``"hsv"`` gives ``H = S = 0`` and ``V = g``,
``"lab"`` its lightness and constant ``a = b = 128``.
"""

import math

import numba
import numpy as np

from .quantize import is_8bit

__all__ = ["channel_images", "rgb_to_hsv_levels", "rgb_to_lab_levels"]

# skimage.color.colorconv: xyz_from_rgb and the D65 / 2 degree white point.
_XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
_D65 = np.array([0.95047, 1.0, 1.08883])


def _srgb_to_linear_table():
    """The sRGB transfer function of each 8-bit value (skimage's ``rgb2xyz`` formulas)."""
    # math.pow: the C library's, the same bits on every CPU (numpy's power is CPU-specific).
    c = np.arange(256, dtype=np.float64) / 255.0
    return np.array([math.pow((v + 0.055) / 1.055, 2.4) if v > 0.04045 else v / 12.92
                     for v in c])


_LINEAR = _srgb_to_linear_table()


@numba.njit(nogil=True, cache=True)
def _hsv_kernel(rgb, out):
    """H, S, V levels of the pixels ``rgb`` (n, 3) into ``out`` (3, n), in integers."""
    for i in range(rgb.shape[0]):
        r, g, b = np.int32(rgb[i, 0]), np.int32(rgb[i, 1]), np.int32(rgb[i, 2])
        v = max(r, g, b)
        chroma = v - min(r, g, b)
        out[2, i] = v
        if chroma == 0:
            out[0, i] = 0
            out[1, i] = 0
            continue
        out[1, i] = (510 * chroma + v) // (2 * v)
        if b == v:  # skimage's precedence: blue over green over red when maxima tie
            num = 4 * chroma + r - g
        elif g == v:
            num = 2 * chroma + b - r
        else:
            num = g - b
        if num < 0:
            num += 6 * chroma
        out[0, i] = (256 * num) // (6 * chroma)


@numba.njit(nogil=True, cache=True, inline="always")
def _lab_f(t):
    if t > 0.008856:
        return np.cbrt(t)
    return 7.787 * t + 16.0 / 116.0


@numba.njit(nogil=True, cache=True, inline="always")
def _level(value):
    return np.uint8(min(max(np.rint(value), 0.0), 255.0))


@numba.njit(nogil=True, cache=True)
def _lab_kernel(rgb, linear, matrix, white, out):
    """L*, a*, b* levels of the pixels ``rgb`` (n, 3) into ``out`` (3, n)."""
    for i in range(rgb.shape[0]):
        lr, lg, lb = linear[rgb[i, 0]], linear[rgb[i, 1]], linear[rgb[i, 2]]
        fx = _lab_f((lr * matrix[0, 0] + lg * matrix[0, 1] + lb * matrix[0, 2]) / white[0])
        fy = _lab_f((lr * matrix[1, 0] + lg * matrix[1, 1] + lb * matrix[1, 2]) / white[1])
        fz = _lab_f((lr * matrix[2, 0] + lg * matrix[2, 1] + lb * matrix[2, 2]) / white[2])
        out[0, i] = _level((116.0 * fy - 16.0) * (255.0 / 100.0))
        out[1, i] = _level(500.0 * (fx - fy) + 128.0)
        out[2, i] = _level(200.0 * (fy - fz) + 128.0)


def _check_rgb8(rgb, name):
    if not (isinstance(rgb, np.ndarray) and rgb.ndim == 3 and rgb.shape[2] == 3
            and rgb.dtype == np.uint8):
        raise ValueError(f"{name}: rgb must be a uint8 array of shape (height, width, 3), got "
                         f"{type(rgb).__name__} of shape {getattr(rgb, 'shape', None)}")


def rgb_to_hsv_levels(rgb):
    """H, S and V levels (0..255) of an 8-bit RGB image, exactly (integer arithmetic).

    Parameters
    ----------
    rgb : ndarray of uint8, shape (height, width, 3)

    Returns
    -------
    hsv : ndarray of uint8, shape (3, height, width)
        The H, S and V channel images (formulas in the module's docstring).

    Examples
    --------
    >>> import numpy as np
    >>> rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [200, 100, 100]]], np.uint8)
    >>> rgb_to_hsv_levels(rgb)[:, 0]
    array([[  0,  85, 170,   0],
           [255, 255, 255, 128],
           [255, 255, 255, 200]], dtype=uint8)
    """
    _check_rgb8(rgb, "rgb_to_hsv_levels")
    out = np.empty((3,) + rgb.shape[:2], np.uint8)
    _hsv_kernel(np.ascontiguousarray(rgb).reshape(-1, 3), out.reshape(3, -1))
    return out


def rgb_to_lab_levels(rgb):
    """L*, a* and b* levels (0..255) of an 8-bit RGB image (formulas in the module's docstring).

    One compiled pass over the pixels, no float image: the sRGB transfer
    function is a 256-entry table.

    Parameters
    ----------
    rgb : ndarray of uint8, shape (height, width, 3)

    Returns
    -------
    lab : ndarray of uint8, shape (3, height, width)

    Examples
    --------
    >>> import numpy as np
    >>> rgb = np.array([[[255, 255, 255], [0, 0, 0], [255, 0, 0]]], np.uint8)
    >>> rgb_to_lab_levels(rgb)[:, 0]
    array([[255,   0, 136],
           [128, 128, 208],
           [128, 128, 195]], dtype=uint8)
    """
    _check_rgb8(rgb, "rgb_to_lab_levels")
    out = np.empty((3,) + rgb.shape[:2], np.uint8)
    _lab_kernel(np.ascontiguousarray(rgb).reshape(-1, 3), _LINEAR, _XYZ_FROM_RGB, _D65,
                out.reshape(3, -1))
    return out


def channel_images(pixels, color, source="image"):
    """The channel images of ``color`` from the pixels the read stage returns.

    Parameters
    ----------
    pixels : ndarray, shape (height, width, 3) or (height, width)
        RGB, or gray (treated as the RGB image ``(g, g, g)``), as
        :func:`~haralick_learn.io.decode.load_color_pixels` returns.
    color : {"rgb", "hsv", "lab"}
        The colour space.
    source : str
        Names the sample in errors.

    Returns
    -------
    channels : list of 2-D arrays
        One image per channel of ``color``, in order. ``uint8`` for ``"hsv"``
        and ``"lab"``; the input's dtype for ``"rgb"``.

    Raises
    ------
    ValueError
        For ``"hsv"`` or ``"lab"`` on pixels that are not 8-bit (integers
        within 0..255), naming ``source``.

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.array([[0, 128], [255, 64]], np.uint8)
    >>> [c.tolist() for c in channel_images(gray, "hsv")]
    [[[0, 0], [0, 0]], [[0, 0], [0, 0]], [[0, 128], [255, 64]]]
    >>> channel_images(np.zeros((2, 2, 3), np.float32), "lab", "'a.tif'")
    Traceback (most recent call last):
    ...
    ValueError: 'a.tif': color='lab' needs 8-bit RGB (integers within 0..255), got float32 \
pixels; use color='rgb', or convert the image to 8 bits
    """
    pixels = np.asarray(pixels)
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] != 3):
        raise ValueError(f"{source}: pixels must be (height, width) gray or (height, width, 3) "
                         f"RGB, got shape {pixels.shape}")
    if color == "rgb":
        if pixels.ndim == 2:
            return [pixels, pixels, pixels]
        return [pixels[:, :, i] for i in range(3)]
    if color not in ("hsv", "lab"):
        raise ValueError(f"color must be 'rgb', 'hsv' or 'lab'; got {color!r}")
    if not is_8bit(pixels):
        raise ValueError(
            f"{source}: color={color!r} needs 8-bit RGB (integers within 0..255), got "
            f"{pixels.dtype} pixels; use color='rgb', or convert the image to 8 bits"
        )
    rgb = pixels.astype(np.uint8, copy=False)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    convert = rgb_to_hsv_levels if color == "hsv" else rgb_to_lab_levels
    return list(convert(np.ascontiguousarray(rgb)))
