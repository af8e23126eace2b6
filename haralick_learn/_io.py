"""Turn whatever a user hands over into a 2-D integer gray image.

This is the only module that reads files. Everything downstream (``_glcm``,
``_haralick``) receives a 2-D array of non-negative integer gray levels and
checks nothing.

Two steps:

1. :func:`load_image` reads a path, a PIL image or an array and returns a 2-D
   gray array. An 8-bit RGB image goes through the reference conversion
   (``mahotas.colors.rgb2gray(im, dtype=np.uint8)``: 0.30 R + 0.59 G + 0.11 B,
   truncated), bit for bit.
2. :func:`to_gray_levels` turns that gray array into integer levels, either
   keeping 8-bit values as they are (the reference numbers) or binning them
   into ``levels`` bins by the documented rule.
"""

import os
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from ._gray import rgb_to_gray_uint8

# PIL modes that are converted before anything else, and what to.
_PIL_CONVERSIONS = {
    "1": "L",  # bilevel -> 0/255
    "P": "RGBA",  # palette expanded; alpha (if any) dropped below
    "PA": "RGBA",
    "CMYK": "RGB",
    "YCbCr": "RGB",
    "LAB": "RGB",
    "HSV": "RGB",
    "La": "LA",
    "RGBa": "RGBA",
    "RGBX": "RGB",
}


def describe_source(image, index):
    """Name a sample in error messages: its path if it has one, else its index."""
    if isinstance(image, (str, os.PathLike)):
        return f"{os.fspath(image)!r}"
    filename = getattr(image, "filename", None)
    if isinstance(image, Image.Image) and filename:
        return f"{filename!r}"
    return f"sample {index}"


def _read_file(path):
    """Decode the first frame of an image file into a numpy array."""
    name = os.fspath(path)
    if not os.path.exists(name):
        raise FileNotFoundError(f"{name!r}: no such file")
    if os.path.isdir(name):
        raise IsADirectoryError(f"{name!r}: is a directory, not an image file")
    if os.path.getsize(name) == 0:
        raise ValueError(f"{name!r}: empty file, not an image")
    try:
        with Image.open(name) as im:
            im.seek(0)  # multi-frame files (GIF, TIFF stacks): the first frame
            return _pil_to_array(im)
    except UnidentifiedImageError as exc:
        raise ValueError(f"{name!r}: not an image file Pillow can read ({exc})") from exc
    except Image.DecompressionBombError as exc:
        raise ValueError(f"{name!r}: refused as a decompression bomb ({exc})") from exc
    except (OSError, SyntaxError) as exc:
        # Truncated or corrupt data surfaces as OSError (or SyntaxError for
        # some broken headers) only when the pixels are decoded.
        raise ValueError(f"{name!r}: cannot decode image data ({exc})") from exc


def _pil_to_array(im):
    """Pixels of a PIL image as an array, colour modes reduced to L, RGB(A) or numeric."""
    with warnings.catch_warnings():
        # Pillow warns (not raises) between its two decompression-bomb limits;
        # we let the hard limit raise and keep the batch quiet otherwise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        target = _PIL_CONVERSIONS.get(im.mode)
        if target is not None:
            im = im.convert(target)
        return np.asarray(im)


def load_image(image, index=0):
    """Return the 2-D gray image of one sample.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or array-like
        A path to an image file, a PIL image, a 2-D gray array, or a 3-D
        ``(height, width, channels)`` array with 1, 2 (gray + alpha), 3 (RGB)
        or 4 (RGBA) channels. Alpha is dropped.
    index : int, default=0
        Position of the sample in its batch, used to name it in errors.

    Returns
    -------
    gray : ndarray of shape (height, width)
        ``uint8`` for 8-bit input (RGB through the reference conversion); the
        input's own numeric dtype otherwise (``uint16``, ``int32``, ``float32``...).

    Raises
    ------
    FileNotFoundError, IsADirectoryError, ValueError, TypeError
        With a message that names the file (or the sample's index) and the reason.
    """
    if isinstance(image, (str, os.PathLike)):
        array = _read_file(image)
    elif isinstance(image, Image.Image):
        array = _pil_to_array(image)
    else:
        array = np.asarray(image)
    return _array_to_gray(array, describe_source(image, index))


def _array_to_gray(array, source):
    if array.dtype == bool:
        array = array.view(np.uint8)
    if array.dtype.kind not in "uif":
        raise TypeError(
            f"{source}: unsupported pixel dtype {array.dtype}; expected integers or floats"
        )
    if array.ndim == 3:
        n_channels = array.shape[2]
        if n_channels in (1, 2):  # gray, gray + alpha
            array = array[:, :, 0]
        elif n_channels in (3, 4):  # RGB, RGBA
            array = _rgb_to_gray(array[:, :, :3])
        else:
            raise ValueError(
                f"{source}: a 3-D image must have 1 to 4 channels in its last axis, "
                f"got shape {array.shape}"
            )
    elif array.ndim != 2:
        raise ValueError(
            f"{source}: an image must be 2-D (gray) or 3-D (colour), got {array.ndim} "
            f"dimension(s) with shape {array.shape}"
        )
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"{source}: image contains NaN or infinity")
    if array.shape[0] * array.shape[1] < 2:
        raise ValueError(
            f"{source}: image of shape {array.shape} is too small to have any pixel pair"
        )
    return array


def _rgb_to_gray(rgb):
    if rgb.dtype == np.uint8:
        return rgb_to_gray_uint8(rgb)
    # Same weights as the reference, kept in float so that wider images lose
    # nothing before quantization.
    gray = rgb[:, :, 0] * 0.30
    gray += rgb[:, :, 1] * 0.59
    gray += rgb[:, :, 2] * 0.11
    return gray


def to_gray_levels(gray, levels=None):
    """Quantize a gray image into non-negative integer levels.

    The rule depends only on the image itself, never on the other images of
    a batch:

    * An image of integers within ``0..255`` (any integer dtype) is 8-bit:
      with ``levels=None`` it is used as it is, which reproduces the
      reference's numbers; with ``levels=k`` it is binned on the fixed 8-bit
      scale, ``level = value * k // 256``, so images stay comparable.
    * Any other image (wider integers such as 16-bit, negative values, floats)
      is rescaled from its own ``[min, max]`` onto ``k`` bins (``k=256`` when
      ``levels=None``): ``level = floor((value - min) / (max - min) * k)``,
      the maximum going to ``k - 1``. A constant image becomes all zeros.

    Parameters
    ----------
    gray : ndarray of shape (height, width)
        Output of :func:`load_image`.
    levels : int in [2, 256] or None, default=None
        Number of gray levels.

    Returns
    -------
    levels_image : ndarray of uint8, shape (height, width)

    Examples
    --------
    >>> import numpy as np
    >>> to_gray_levels(np.array([[0, 100], [200, 255]], dtype=np.uint8))
    array([[  0, 100],
           [200, 255]], dtype=uint8)
    >>> to_gray_levels(np.array([[0, 100], [200, 255]], dtype=np.uint8), levels=4)
    array([[0, 1],
           [3, 3]], dtype=uint8)
    >>> to_gray_levels(np.array([[0.0, 0.5], [0.75, 1.0]]), levels=4)
    array([[0, 2],
           [3, 3]], dtype=uint8)
    """
    if gray.dtype == np.uint8 or (
        gray.dtype.kind in "ui" and gray.size and gray.min() >= 0 and gray.max() <= 255
    ):
        eight_bit = gray.astype(np.uint8, copy=False)
        if levels is None or levels == 256:
            return eight_bit
        return (eight_bit.astype(np.uint16) * levels // 256).astype(np.uint8)
    n_levels = 256 if levels is None else levels
    lo = gray.min()
    hi = gray.max()
    if hi == lo:
        return np.zeros(gray.shape, np.uint8)
    scaled = (gray.astype(np.float64) - float(lo)) * (n_levels / (float(hi) - float(lo)))
    np.floor(scaled, out=scaled)
    np.clip(scaled, 0, n_levels - 1, out=scaled)
    return scaled.astype(np.uint8)
