"""RGB to 8-bit gray conversion, bit-identical to ``mahotas.colors.rgb2gray``.

mahotas computes ``np.dot(rgb, [0.30, 0.59, 0.11]).astype(np.uint8)``. How that
float64 dot product rounds depends on the machine: numpy hands each pixel to
the BLAS (``ddot``), whose kernel may fuse the multiply-adds (FMA, as
OpenBLAS's AVX-512 kernels do) or not, so the reference's own result differs
from one CPU to another. It can only differ on known colours:

* the exact value is ``n / 100`` with ``n = 30 R + 59 G + 11 B``. When ``n`` is
  not a multiple of 100 it lies at least 0.01 from an integer, far beyond any
  rounding of a three-term dot product (about 1e-13): every evaluation order
  truncates it to the same level;
* when ``n`` is a multiple of 100 (167,832 of the 2**24 colours) the float
  result lands on the integer or just below it, depending on the BLAS.

So, once per process (about 10 ms), :func:`reference_colour_table` asks
``np.dot`` itself for those colours, and the conversion uses the first
vectorized formula that agrees with it on all of them: left-to-right sums
without FMA, or an FMA chain. On a machine whose BLAS follows neither, a
(slower) kernel reads those colours from the table. Either way the result is
the reference's on this machine, for every colour.

Math on arrays only: the caller validates shapes and dtypes; the public
functions check what a kernel without bounds checks needs.
"""

import sys
import threading

import numba
import numpy as np
from numba.core import types
from numba.extending import intrinsic

__all__ = ["reference_colour_table", "rgb_to_gray_uint8", "rgbx_to_gray_uint8"]

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


def reference_colour_table():
    """The reference's gray level of each colour whose exact gray level is an integer.

    Returns
    -------
    table : ndarray of uint8, shape (196608,)
        Entry ``(R * 256 + G) * 3 + B // 100`` for the colour ``(R, G, B)``
        with ``30 R + 59 G + 11 B`` a multiple of 100; read-only, computed
        once per process with ``np.dot``.
    """
    return _conversion()[1]


def rgbx_to_gray_uint8(pixels, out):
    """Reference gray conversion of packed 4-byte pixels, into ``out``.

    The layout Pillow keeps RGB images in (``RGBX``, or ``RGBA``), so that a
    decoded image converts with one copy out of Pillow and no repacking.
    Bit-identical to ``mahotas.colors.rgb2gray(rgb, dtype=np.uint8)`` for every
    colour, on this machine (see the module's docstring for why).

    Parameters
    ----------
    pixels : ndarray of uint32, shape (n,)
        Pixels whose bytes in memory are R, G, B and a fourth byte (ignored).
    out : ndarray of uint8, shape (n,)
        Receives the gray levels.

    Examples
    --------
    >>> import numpy as np
    >>> rgbx = np.array([[255, 255, 255, 0], [255, 0, 0, 0], [10, 20, 30, 99]], np.uint8)
    >>> out = np.empty(3, np.uint8)
    >>> rgbx_to_gray_uint8(rgbx.view(np.uint32).ravel(), out)
    >>> out
    array([255,  76,  18], dtype=uint8)
    """
    if not (isinstance(pixels, np.ndarray) and isinstance(out, np.ndarray)
            and pixels.ndim == 1 and pixels.dtype == np.uint32
            and out.shape == pixels.shape and out.dtype == np.uint8):
        raise ValueError("pixels must be a 1-D uint32 array and out a uint8 array of its shape")
    kernel, table = _conversion()
    kernel(pixels, table, out)


def rgb_to_gray_uint8(rgb):
    """Convert an RGB image to 8-bit gray exactly as mahotas does.

    Bit-identical to ``mahotas.colors.rgb2gray(rgb, dtype=np.uint8)`` for every
    colour, on this machine, without a float64 temporary image.

    Parameters
    ----------
    rgb : ndarray of uint8, shape (height, width, 3)
        RGB image. It may be non-contiguous, e.g. ``rgba[..., :3]``.

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
    rgbx_to_gray_uint8(rgbx.view(np.uint32).reshape(-1), out.reshape(-1))
    return out
