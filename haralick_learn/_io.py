"""The read stage: whatever a user hands over becomes a 2-D gray array.

This is the only module that reads files. :func:`load_image` reads a path, a
PIL image or an array and returns a 2-D gray array; the channel stage (an
8-bit RGB image through the reference conversion,
``mahotas.colors.rgb2gray(im, dtype=np.uint8)``, bit for bit, see ``_gray``)
runs inside the read, a strip of rows at a time, so that a photograph is
never held both in colour and in gray. Quantization is the next stage
(``_quantize``).
"""

import os
import threading
from contextlib import contextmanager

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from ._gray import rgb_to_gray_uint8, rgbx_to_gray_uint8
from ._quantize import is_8bit

# PIL modes that are converted before anything else, and what to. Mode "P"
# is handled apart (see _expand_palette).
_PIL_CONVERSIONS = {
    "1": "L",  # bilevel -> 0/255
    "PA": "RGBA",
    "CMYK": "RGB",  # Pillow's conversion, no ICC profile
    "YCbCr": "RGB",
    "LAB": "RGB",
    "HSV": "RGB",
    "La": "LA",
    "RGBa": "RGBA",
    "RGBX": "RGB",
}

# Pillow's decoders read the module-wide ImageFile.LOAD_TRUNCATED_IMAGES when
# they decode. A truncated file decoded anyway has its missing rows filled
# with a constant, which is not the texture: we refuse truncated files even
# when the flag is set, by switching it off while any of our reads runs.
_truncation_lock = threading.Lock()
_truncation_state = {"readers": 0, "saved": False}


@contextmanager
def _refuse_truncated_files():
    with _truncation_lock:
        if _truncation_state["readers"] == 0:
            _truncation_state["saved"] = ImageFile.LOAD_TRUNCATED_IMAGES
        _truncation_state["readers"] += 1
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        with _truncation_lock:
            _truncation_state["readers"] -= 1
            if _truncation_state["readers"] == 0:
                ImageFile.LOAD_TRUNCATED_IMAGES = _truncation_state["saved"]


def describe_source(image, index):
    """Name a sample in error messages: its path if it has one, else its index."""
    if isinstance(image, (str, os.PathLike)):
        return f"{os.fspath(image)!r}"
    filename = getattr(image, "filename", None)
    if isinstance(image, Image.Image) and filename:
        return f"{filename!r}"
    return f"sample {index}"


def _read_file(path, to_array=None):
    """Decode the first frame of an image file into a numpy array (``to_array(im)``)."""
    to_array = to_array or _pil_to_array
    name = os.fspath(path)
    if not os.path.exists(name):
        raise FileNotFoundError(f"{name!r}: no such file")
    if os.path.isdir(name):
        raise IsADirectoryError(f"{name!r}: is a directory, not an image file")
    if os.path.getsize(name) == 0:
        raise ValueError(f"{name!r}: empty file, not an image")
    try:
        with _refuse_truncated_files(), Image.open(name) as im:
            im.seek(0)  # multi-frame files (GIF, TIFF stacks): the first frame
            return to_array(im)
    except UnidentifiedImageError as exc:
        raise ValueError(f"{name!r}: not an image file Pillow can read ({exc})") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # The warning arrives here as an exception only when the user turned
        # it into an error (warnings.simplefilter("error", ...)).
        raise ValueError(f"{name!r}: refused as a decompression bomb ({exc})") from exc
    except (OSError, SyntaxError, EOFError, ValueError) as exc:
        # Truncated or corrupt data surfaces as OSError (SyntaxError or
        # ValueError for some broken headers) only when the pixels are decoded.
        raise ValueError(f"{name!r}: cannot decode image data ({exc})") from exc


# Bytes of RGBX pixels converted at a time by _pil_rgb_to_gray: a strip stays
# in L2 while it is converted, and is small next to a photograph (20 MB at 5 MP).
_GRAY_STRIP_BYTES = 1 << 19


def _pil_to_array(im):
    """Pixels of a PIL image as an array, colour modes reduced to L, RGB(A) or numeric.

    8-bit RGB(A) comes back already gray (see :func:`_pil_rgb_to_gray`).
    """
    if im.mode == "P":
        return _expand_palette(im)
    if im.mode in ("RGB", "RGBA", "RGBX"):
        return _pil_rgb_to_gray(im)
    target = _PIL_CONVERSIONS.get(im.mode)
    if target is not None:
        im = im.convert(target)
    return np.asarray(im)


def _pil_rgb_to_gray(im):
    """Reference gray conversion of an 8-bit RGB(A) PIL image, a strip of rows at a time.

    Pillow keeps such images at 4 bytes a pixel. ``np.asarray(im)`` would
    repack the whole image to 3 bytes a pixel before the conversion; strips
    copied out as they are keep the peak memory of a read near the decoded
    image plus its gray result, and the conversion fast.
    """
    im.load()
    width, height = im.size
    gray = np.empty((height, width), np.uint8)
    flat_gray = gray.reshape(-1)
    rawmode = "RGBA" if im.mode == "RGBA" else "RGBX"  # Pillow's own layout: a plain copy
    rows = max(1, _GRAY_STRIP_BYTES // (4 * width))
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        pixels = np.frombuffer(_raw_pixels(im, (0, top, width, bottom), rawmode), np.uint32)
        rgbx_to_gray_uint8(pixels, flat_gray[top * width : bottom * width])
    return gray


def _raw_pixels(im, box, rawmode):
    """The bytes of ``im.crop(box).tobytes("raw", rawmode)``, copied once instead of three times.

    Pillow's raw-encoder interface used for the single copy is internal to
    Pillow: any sign that it changed falls back to the public (slower) route.
    """
    left, top, right, bottom = box
    n_bytes = (right - left) * (bottom - top) * 4
    try:
        data = _encode_box(im, box, rawmode, n_bytes)
    except (AttributeError, TypeError):
        data = None
    if not isinstance(data, bytes) or len(data) != n_bytes:
        data = im.crop(box).tobytes("raw", rawmode)
    return data


def _encode_box(im, box, rawmode, n_bytes):
    # What Image.tobytes does for the whole image, over the box only.
    encoder = Image._getencoder(im.mode, "raw", (rawmode,))
    try:
        encoder.setimage(im.im, box)
        _, _, data = encoder.encode(n_bytes)
    finally:
        encoder.cleanup()
    return data


def load_display_pixels(image):
    """The pixels of a sample as a person should see them: in colour when it has colour.

    For pictures only (``SimilarImagesDisplay``); features use :func:`load_image`.
    Files are read with the same checks and error messages as :func:`load_image`.
    """
    if isinstance(image, (str, os.PathLike)):
        return _read_file(image, to_array=_pil_display_pixels)
    if isinstance(image, Image.Image):
        return _pil_display_pixels(image)
    return np.asarray(image)


def _pil_display_pixels(im):
    if im.mode in ("L", "LA", "RGB", "RGBA", "I", "I;16", "F"):
        return np.asarray(im)
    has_alpha = "A" in im.mode or "transparency" in im.info
    return np.asarray(im.convert("RGBA" if has_alpha else "RGB"))


def _expand_palette(im):
    """Palette indices -> the colours they stand for, as an array.

    A palette of grays only (a gray GIF, say) gives those gray values
    exactly; any other palette gives RGB, turned gray afterwards by the
    reference conversion like any RGB image. Transparency is ignored (alpha
    is dropped). Done by lookup rather than ``im.convert("RGBA")``, which
    rewrites the palette of the caller's image in place when it has
    transparency.
    """
    indices = np.asarray(im)
    palette = np.zeros((256, 3), np.uint8)  # entries past the palette's end are black
    entries = np.asarray(im.getpalette(rawmode="RGB") or [], np.uint8).reshape(-1, 3)[:256]
    palette[: len(entries)] = entries
    if (entries == entries[:, :1]).all():
        return palette[:, 0][indices]
    return palette[indices]


def load_image(image, index=0):
    """Return the 2-D gray image of one sample.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or array-like
        A path to an image file (its first frame), a PIL image (its current
        frame), a 2-D gray array, or a 3-D ``(height, width, channels)`` array
        with 1, 2 (gray + alpha), 3 (RGB) or 4 (RGBA) channels. Alpha is
        dropped. Boolean pixels are 0 and 255.

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

    Examples
    --------
    >>> import numpy as np
    >>> load_image(np.array([[True, False], [False, True]]))
    array([[255,   0],
           [  0, 255]], dtype=uint8)
    >>> load_image(np.ones((1, 1)), index=3)
    Traceback (most recent call last):
    ...
    ValueError: sample 3: image of shape (1, 1) is too small to have any pixel pair
    """
    source = describe_source(image, index)
    if isinstance(image, (str, os.PathLike)):
        array = _read_file(image)
    elif isinstance(image, Image.Image):
        try:
            # A lazily opened PIL image decodes its file only now: the same
            # policy as for paths, truncated data is an error.
            with _refuse_truncated_files():
                array = _pil_to_array(image)
        except (OSError, SyntaxError, EOFError, ValueError) as exc:
            raise ValueError(f"{source}: cannot decode image data ({exc})") from exc
    else:
        array = np.asarray(image)
        if array.dtype == object and array.ndim == 0:
            raise TypeError(
                f"{source}: expected a path, a PIL image or an array, "
                f"got {type(image).__name__}"
            )
    return _array_to_gray(array, source)


def _array_to_gray(array, source):
    if array.dtype == bool:
        # Black and white on the 8-bit scale, as Pillow's mode "1" (which
        # np.asarray also gives as bool): 0/1 would be two adjacent gray
        # levels, and one level once binned with ``levels``.
        array = array.astype(np.uint8) * np.uint8(255)
    if array.dtype.kind not in "uif":
        raise TypeError(
            f"{source}: unsupported pixel dtype {array.dtype}; expected integers or floats"
        )
    if array.ndim == 3:
        n_channels = array.shape[2]
        if n_channels in (1, 2):  # gray, gray + alpha
            array = array[:, :, 0]
        elif n_channels in (3, 4):  # RGB, RGBA
            array = array[:, :, :3]
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
    # Checked on the channels used (a NaN alpha is dropped with the alpha).
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"{source}: image contains NaN or infinity")
    if array.shape[0] * array.shape[1] < 2:
        raise ValueError(
            f"{source}: image of shape {array.shape[:2]} is too small to have any pixel pair"
        )
    if array.ndim == 3:
        array = _rgb_to_gray(array)
    return array


def _rgb_to_gray(rgb):
    if is_8bit(rgb):
        # 8-bit colour in any integer dtype: the reference conversion, so
        # that an int64 copy of a uint8 image gives the same gray image.
        return rgb_to_gray_uint8(rgb.astype(np.uint8, copy=False))
    # Same weights as the reference, in float64 (as the reference computes)
    # so that wider images lose nothing before quantization.
    with np.errstate(over="ignore"):
        gray = _weighted_sum(rgb, 1.0)
        if not np.isfinite(gray).all():
            # Channels near float64's maximum: a power-of-two scale is exact
            # and binning is scale-free, so the levels are the same.
            gray = _weighted_sum(rgb, 0.25)
    return gray


def _weighted_sum(rgb, scale):
    gray = rgb[:, :, 0].astype(np.float64) * (0.30 * scale)
    gray += rgb[:, :, 1].astype(np.float64) * (0.59 * scale)
    gray += rgb[:, :, 2].astype(np.float64) * (0.11 * scale)
    return gray
