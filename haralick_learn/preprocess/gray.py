"""RGB to gray conversions: exact integer arithmetic, or mahotas's, bit for bit.

Both weigh the channels as mahotas's ``rgb2gray`` does, ``0.30 R + 0.59 G +
0.11 B``; they differ in how 8-bit results are rounded.

``"exact"`` (the default everywhere)
    The 8-bit gray level is ``(30 R + 59 G + 11 B) // 100``: the exact value
    truncated, in integer arithmetic, the same on every machine. A gray
    picture stored as RGB (``R = G = B = v``) keeps its levels ``v``. Wider
    integer colour becomes ``(30 R + 59 G + 11 B) / 100`` and float colour
    ``R + (59 (G - R) + 11 (B - R)) / 100`` in float64 (elementwise, so
    again ``v`` when ``R = G = B = v``), binned afterwards by the quantize
    stage.

``"mahotas"``
    ``mahotas.colors.rgb2gray(rgb, dtype=np.uint8)``, which is
    ``np.dot(rgb, [0.30, 0.59, 0.11]).astype(np.uint8)``: a float64 dot
    product that numpy hands to the BLAS, truncated. The exact value is
    ``n / 100`` with ``n = 30 R + 59 G + 11 B``: when ``n`` is not a multiple
    of 100 it lies at least 0.01 from an integer, and every evaluation order
    truncates it to the exact conversion's level; when ``n`` is a multiple
    of 100 (167,832 of the 2**24 colours) the float result lands on the
    integer or just below it depending on the BLAS kernel (whether it fuses
    multiply-adds), so mahotas itself gives ``v`` or ``v - 1`` depending on
    the CPU. To reproduce the local mahotas bit for bit, once per process
    (about 10 ms) the conversion asks ``np.dot`` itself for the gray levels
    of those colours (a table), and uses the first vectorized formula that
    agrees with it on all of them: left-to-right sums without FMA, or an FMA
    chain; on a machine whose BLAS follows neither, a (slower) kernel reads
    those colours from the table. Wider and float colour: the float64 sum
    ``0.30 R + 0.59 G + 0.11 B``, elementwise.

Math on arrays only: the caller validates shapes and dtypes; the public
functions check what a kernel without bounds checks needs.
"""

import sys
import threading

import numba
import numpy as np
from numba.core import types
from numba.extending import intrinsic

__all__ = ["GRAY_CONVERSIONS", "rgb_to_gray", "rgb_to_gray_uint8", "rgbx_to_gray_uint8"]

#: The RGB to gray conversions, the default first (see the module's docstring).
GRAY_CONVERSIONS = ("exact", "mahotas")

_WEIGHTS = np.array([0.30, 0.59, 0.11])
# Where R, G and B sit in a 4-byte RGBX (or RGBA) pixel read as one uint32.
_R_SHIFT, _G_SHIFT, _B_SHIFT = (0, 8, 16) if sys.byteorder == "little" else (24, 16, 8)


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (LLVM's ``llvm.fma``: exact on every CPU)."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return sig, codegen


@numba.njit(nogil=True, cache=True, inline="always")
def _channels(p):
    r = np.float64((p >> _R_SHIFT) & 0xFF)
    g = np.float64((p >> _G_SHIFT) & 0xFF)
    b = np.float64((p >> _B_SHIFT) & 0xFF)
    return r, g, b


@numba.njit(nogil=True, cache=True)
def _exact_kernel(pixels, table, out):
    # Integer arithmetic: (30 R + 59 G + 11 B) // 100, at most 25,500 // 100.
    for i in range(out.shape[0]):
        p = pixels[i]
        n = (30 * ((p >> _R_SHIFT) & 0xFF) + 59 * ((p >> _G_SHIFT) & 0xFF)
             + 11 * ((p >> _B_SHIFT) & 0xFF))
        out[i] = np.uint8(n // 100)


@numba.njit(nogil=True, cache=True)
def _sequential_kernel(pixels, table, out):
    # No fastmath: the same float64 operations in the same order, no FMA;
    # on whole 4-byte pixels LLVM vectorizes them.
    for i in range(out.shape[0]):
        r, g, b = _channels(pixels[i])
        out[i] = np.uint8(np.int32((r * 0.30 + g * 0.59) + b * 0.11))


@numba.njit(nogil=True, cache=True)
def _fma_kernel(pixels, table, out):
    for i in range(out.shape[0]):
        r, g, b = _channels(pixels[i])
        out[i] = np.uint8(np.int32(_fma(b, 0.11, _fma(g, 0.59, r * 0.30))))


@numba.njit(nogil=True, cache=True)
def _table_kernel(pixels, table, out):
    for i in range(out.shape[0]):
        p = pixels[i]
        r = np.intp((p >> _R_SHIFT) & 0xFF)
        g = np.intp((p >> _G_SHIFT) & 0xFF)
        b = np.intp((p >> _B_SHIFT) & 0xFF)
        n = 30 * r + 59 * g + 11 * b
        if n % 100 == 0:
            out[i] = table[(r * 256 + g) * 3 + b // 100]
        else:
            out[i] = np.uint8(n // 100)


_state = {}
_state_lock = threading.Lock()


def _integer_colours():
    """Packed RGBX pixels of the colours whose exact gray level is an integer.

    For each ``(R, G)`` exactly one ``B0`` in ``[0, 100)`` makes
    ``30 R + 59 G + 11 B`` a multiple of 100 (11 is invertible modulo 100), so
    the colours are ``(R, G, B0 + 100 j)``, ``j = 0, 1, 2``, at position
    ``(R * 256 + G) * 3 + j`` (``B = 0`` where ``B0 + 200 > 255``).
    """
    r, g = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    b0 = (-91 * (30 * r + 59 * g)) % 100  # 91 = 11^-1 (mod 100)
    b = b0[..., None] + 100 * np.arange(3)
    rgbx = np.zeros((256, 256, 3, 4), np.uint8)
    rgbx[..., 0] = r[..., None]
    rgbx[..., 1] = g[..., None]
    rgbx[..., 2] = np.where(b <= 255, b, 0)
    return rgbx.reshape(-1, 4)


def _conversion():
    """``(kernel, table)``: the fastest kernel that reproduces this machine's reference."""
    if not _state:
        with _state_lock:
            if not _state:
                rgbx = _integer_colours()
                # As mahotas does: np.dot of a 3-D uint8 image, numpy's per-pixel path.
                table = np.dot(rgbx[None, :, :3], _WEIGHTS).astype(np.uint8).ravel()
                table.flags.writeable = False
                pixels = np.ascontiguousarray(rgbx).view(np.uint32).ravel()
                # The sequential formula is checked with numpy (one rounding per
                # operation, as the kernel): on an FMA machine its kernel is then
                # never compiled, which saves 0.4 s of a first transform's compilation.
                r, g, b = (rgbx[:, k].astype(np.float64) for k in range(3))
                sequential = ((r * 0.30 + g * 0.59) + b * 0.11).astype(np.int32)
                if np.array_equal(sequential.astype(np.uint8), table):
                    kernel = _sequential_kernel
                else:
                    kernel = _table_kernel
                    got = np.empty(table.shape, np.uint8)
                    _fma_kernel(pixels, table, got)
                    if np.array_equal(got, table):
                        kernel = _fma_kernel
                _state.update(kernel=kernel, table=table)
    return _state["kernel"], _state["table"]


def _check_conversion(conversion):
    if not isinstance(conversion, str) or conversion not in GRAY_CONVERSIONS:
        raise ValueError(f"gray_conversion must be 'exact' or 'mahotas'; got {conversion!r}")


def rgbx_to_gray_uint8(pixels, out, conversion="exact"):
    """Gray conversion of packed 4-byte pixels, into ``out``.

    The layout Pillow keeps RGB images in (``RGBX``, or ``RGBA``), so that a
    decoded image converts with one copy out of Pillow and no repacking.

    Parameters
    ----------
    pixels : ndarray of uint32, shape (n,)
        Pixels whose bytes in memory are R, G, B and a fourth byte (ignored).
    out : ndarray of uint8, shape (n,)
        Receives the gray levels.
    conversion : {"exact", "mahotas"}, default="exact"
        ``"exact"``: ``(30 R + 59 G + 11 B) // 100``, the same on every
        machine. ``"mahotas"``: bit-identical to
        ``mahotas.colors.rgb2gray(rgb, dtype=np.uint8)`` on this machine
        (see the module's docstring for why that depends on the machine).

    Examples
    --------
    >>> import numpy as np
    >>> rgbx = np.array([[255, 255, 255, 0], [255, 0, 0, 0], [10, 20, 30, 99],
    ...                  [77, 77, 77, 0]], np.uint8)
    >>> out = np.empty(4, np.uint8)
    >>> rgbx_to_gray_uint8(rgbx.view(np.uint32).ravel(), out)
    >>> out
    array([255,  76,  18,  77], dtype=uint8)
    """
    if not (isinstance(pixels, np.ndarray) and isinstance(out, np.ndarray)
            and pixels.ndim == 1 and pixels.dtype == np.uint32
            and out.shape == pixels.shape and out.dtype == np.uint8):
        raise ValueError("pixels must be a 1-D uint32 array and out a uint8 array of its shape")
    _check_conversion(conversion)
    if conversion == "exact":
        _exact_kernel(pixels, None, out)
        return
    kernel, table = _conversion()
    kernel(pixels, table, out)


def rgb_to_gray_uint8(rgb, conversion="exact"):
    """Convert an 8-bit RGB image to 8-bit gray, without a float64 temporary image.

    Parameters
    ----------
    rgb : ndarray of uint8, shape (height, width, 3)
        RGB image. It may be non-contiguous, e.g. ``rgba[..., :3]``.
    conversion : {"exact", "mahotas"}, default="exact"
        As for :func:`rgbx_to_gray_uint8`.

    Returns
    -------
    gray : ndarray of uint8, shape (height, width)
        Gray image (new, C-contiguous array).

    Examples
    --------
    >>> import numpy as np
    >>> rgb = np.array([[[255, 255, 255], [255, 0, 0]],
    ...                 [[0, 255, 0], [10, 20, 30]]], dtype=np.uint8)
    >>> rgb_to_gray_uint8(rgb)
    array([[255,  76],
           [150,  18]], dtype=uint8)
    """
    if not (isinstance(rgb, np.ndarray) and rgb.ndim == 3 and rgb.shape[2] == 3
            and rgb.dtype == np.uint8):
        raise ValueError(
            f"rgb must be a uint8 array of shape (height, width, 3), got {type(rgb).__name__} "
            f"of shape {getattr(rgb, 'shape', None)}"
        )
    height, width, _ = rgb.shape
    rgbx = np.zeros((height, width, 4), np.uint8)  # Pillow's layout: one kernel for both
    rgbx[:, :, :3] = rgb
    out = np.empty((height, width), np.uint8)
    rgbx_to_gray_uint8(rgbx.view(np.uint32).reshape(-1), out.reshape(-1), conversion)
    return out


# Integer channels whose weighted sum 100 * max|value| stays below 2**63.
_EXACT_INTEGER_BOUND = 2**56


def rgb_to_gray(rgb, conversion="exact"):
    """Convert wider or float RGB (16-bit, 32-bit, float) to a float64 gray image.

    Elementwise float64 arithmetic only (no reduction whose order a library
    may choose), so the result is the same on every machine; the quantize
    stage bins it afterwards.

    Parameters
    ----------
    rgb : ndarray of shape (height, width, 3), integer or float dtype
        RGB image.
    conversion : {"exact", "mahotas"}, default="exact"
        ``"exact"``: integers give ``(30 R + 59 G + 11 B) / 100`` from an
        exact integer sum, floats ``R + (59 (G - R) + 11 (B - R)) / 100``;
        either way ``R = G = B = v`` gives ``v``. ``"mahotas"``:
        ``0.30 R + 0.59 G + 0.11 B`` summed left to right, as before the
        exact conversion existed.

    Returns
    -------
    gray : ndarray of float64, shape (height, width)

    Examples
    --------
    >>> import numpy as np
    >>> rgb = np.array([[[1000, 1000, 1000], [65535, 0, 0]]], np.uint16)
    >>> rgb_to_gray(rgb)
    array([[ 1000. , 19660.5]])
    >>> rgb_to_gray(np.full((1, 1, 3), 0.7))
    array([[0.7]])
    """
    _check_conversion(conversion)
    if not (isinstance(rgb, np.ndarray) and rgb.ndim == 3 and rgb.shape[2] == 3
            and rgb.dtype.kind in "uif"):
        raise ValueError(f"rgb must be a numeric array of shape (height, width, 3), got "
                         f"{type(rgb).__name__} of shape {getattr(rgb, 'shape', None)}")
    with np.errstate(over="ignore", invalid="ignore"):
        if conversion == "exact" and rgb.dtype.kind in "ui" and rgb.size and (
            int(rgb.max()) < _EXACT_INTEGER_BOUND and int(rgb.min()) > -_EXACT_INTEGER_BOUND
        ):
            r, g, b = (rgb[:, :, k].astype(np.int64) for k in range(3))
            return (30 * r + 59 * g + 11 * b) / 100.0
        gray = _float_gray(rgb, conversion, 1.0)
        if not np.isfinite(gray).all():
            # Channels near float64's maximum: a power-of-two scale is exact
            # and binning is scale-free, so the levels are the same. 2**-8: the
            # weighted differences reach 70 times twice a channel's magnitude.
            gray = _float_gray(rgb, conversion, 2.0**-8)
    return gray


def _float_gray(rgb, conversion, scale):
    r, g, b = (rgb[:, :, k].astype(np.float64) * scale for k in range(3))
    if conversion == "exact":
        return r + (59.0 * (g - r) + 11.0 * (b - r)) / 100.0
    return (r * 0.30 + g * 0.59) + b * 0.11
