"""The read stage: whatever a user hands over becomes a 2-D gray array.

This is the only module that reads files. :func:`load_image` reads a path, a
PIL image or an array and returns a 2-D gray array; the channel stage (an
8-bit RGB image through the gray conversion of ``preprocess.gray``: exact integer
arithmetic, or mahotas's ``rgb2gray`` bit for bit) runs inside the read, a strip of rows at
a time, so that a photograph is never held both in colour and in gray. Quantization is the next
stage (``preprocess.quantize``).
"""

import os
import stat
import warnings
from functools import partial

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from ..preprocess.gray import rgb_to_gray, rgb_to_gray_uint8, rgbx_to_gray_uint8
from ..preprocess.quantize import is_8bit

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

# Truncated files. Pillow raises "image file is truncated" (OSError) when a
# file ends before its pixels do, and _read_file turns that into the sample's
# error. Pillow's process-wide ImageFile.LOAD_TRUNCATED_IMAGES = True makes it
# fill the missing rows with a constant instead, which is not the texture; the
# setting belongs to the program, so it is only read here, never changed (a
# library that switched it would change every other thread's reads too), and
# a read under it warns that truncated files go undetected.
_TRUNCATED_FILES_READ = (
    "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True: Pillow fills the missing rows of a "
    "truncated file with a constant and haralick_learn cannot tell such a file from a "
    "complete one; set it to False to have truncated files refused"
)


def _warn_if_truncated_files_are_read():
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # One message whatever the file: under Python's default filter it is shown once.
        warnings.warn(_TRUNCATED_FILES_READ, RuntimeWarning, stacklevel=2)


def describe_source(image, index):
    """Name a sample in error messages: its path if it has one, else its index."""
    if isinstance(image, (str, os.PathLike)):
        return f"{os.fspath(image)!r}"
    filename = getattr(image, "filename", None)
    if isinstance(image, Image.Image) and filename:
        return f"{filename!r}"
    return f"sample {index}"


# A JPEG's header may declare far more pixels than its data hold (a corrupted
# or patched header): libjpeg then fills the missing blocks with gray, and
# Pillow, which silences libjpeg's warnings ("Corrupt JPEG data: premature end
# of data segment"; see its src/libImaging/JpegDecode.c), decodes the file
# without a word. A Huffman-coded JPEG spends at least one bit on each 8 x 8
# block of its full-resolution component (every block codes its DC
# coefficient, and a Huffman code is at least one bit long), so it holds at
# most 512 pixels a byte of file; the smoothest JPEGs measured (a flat colour,
# optimized tables, baseline or progressive, by Pillow and by libjpeg-turbo's
# cjpeg) reach 256. A JPEG declaring more than twice the bound is refused,
# before anything is decoded. Arithmetic-coded JPEGs have no such bound (a flat
# one holds 8 000 pixels a byte and more) and are not checked.
_JPEG_MAX_PIXELS_PER_BYTE = 1024
_JPEG_HUFFMAN_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3}  # SOF0..SOF3
_JPEG_FRAMES = _JPEG_HUFFMAN_FRAMES | {0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_frame_marker(fp):
    """The second byte of a JPEG file's SOFn marker, or None where it cannot be found.

    Walks the header's segments as Pillow does (skipping fill and stray bytes),
    reading their lengths only, up to the first frame header.
    """
    fp.seek(0)
    if fp.read(2) != b"\xff\xd8":
        return None
    while True:
        byte = fp.read(1)
        if not byte:
            return None
        if byte != b"\xff":
            continue  # stray bytes between segments, which Pillow skips too
        marker = fp.read(1)
        while marker == b"\xff":  # fill bytes
            marker = fp.read(1)
        if not marker:
            return None
        code = marker[0]
        if code in _JPEG_FRAMES:
            return code
        if code in (0xD9, 0xDA):  # end of image, start of scan: no frame header before
            return None
        if code == 0x01 or 0xD0 <= code <= 0xD8 or code == 0x00:  # markers without a length
            continue
        length = fp.read(2)
        if len(length) < 2:
            return None
        fp.seek(int.from_bytes(length, "big") - 2, os.SEEK_CUR)


def _jpeg_size_problem(im, name, n_bytes):
    """Why the JPEG ``im`` (opened from ``name``) cannot hold the pixels it declares, or None."""
    if im.format not in ("JPEG", "MPO"):
        return None
    width, height = im.size
    if width * height <= _JPEG_MAX_PIXELS_PER_BYTE * n_bytes:
        return None
    with open(name, "rb") as fp:
        if _jpeg_frame_marker(fp) not in _JPEG_HUFFMAN_FRAMES:
            return None
    return (
        f"corrupt JPEG: its header declares {width} x {height} pixels, far more than its "
        f"{n_bytes} bytes can encode (over {_JPEG_MAX_PIXELS_PER_BYTE} pixels a byte; a "
        "Huffman-coded JPEG holds at most 512)"
    )


def _read_file(path, to_array=None):
    """Decode the first frame of an image file into a numpy array (``to_array(im)``)."""
    to_array = to_array or _pil_to_array
    name = os.fspath(path)
    try:
        status = os.stat(name)  # one system call for the three checks (small images)
    except (FileNotFoundError, NotADirectoryError):
        raise FileNotFoundError(f"{name!r}: no such file") from None
    except OSError as exc:
        raise OSError(f"{name!r}: cannot read the file ({exc.strerror})") from exc
    if stat.S_ISDIR(status.st_mode):
        raise IsADirectoryError(f"{name!r}: is a directory, not an image file")
    n_bytes = status.st_size
    if n_bytes == 0:
        raise ValueError(f"{name!r}: empty file, not an image")
    _warn_if_truncated_files_are_read()
    try:
        # Pillow's own warnings (DecompressionBombWarning, "malformed MPO file"...)
        # reach the program as Pillow raises them: naming the file in them would
        # take warnings.catch_warnings, which swaps process-wide state before
        # Python 3.14 and is not safe while other threads read or warn.
        with Image.open(name) as im:
            im.seek(0)  # multi-frame files (GIF, TIFF stacks): the first frame
            problem = _jpeg_size_problem(im, name, n_bytes)
            if problem is None:
                return to_array(im)
    except UnidentifiedImageError as exc:
        if name.lower().endswith(_NIFTI_SUFFIXES + _NRRD_SUFFIXES):
            raise ValueError(f"{name!r}: not an image file Pillow can read "
                             "(a volume: use volume=True / --volume)") from exc
        raise ValueError(f"{name!r}: not an image file Pillow can read ({exc})") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # The warning arrives here as an exception only when the program turned
        # it into an error (warnings.simplefilter("error", ...)).
        raise ValueError(f"{name!r}: refused as a decompression bomb ({exc})") from exc
    except (OSError, SyntaxError, EOFError, ValueError) as exc:
        # Truncated or corrupt data surfaces as OSError (SyntaxError or
        # ValueError for some broken headers) only when the pixels are decoded.
        raise ValueError(f"{name!r}: cannot decode image data ({exc})") from exc
    raise ValueError(f"{name!r}: {problem}")


# Bytes of RGBX pixels converted at a time by _pil_rgb_to_gray: a strip stays
# in L2 while it is converted, and is small next to a photograph (20 MB at 5 MP).
_GRAY_STRIP_BYTES = 1 << 19


def _pil_to_array(im, conversion="exact"):
    """Pixels of a PIL image as an array, colour modes reduced to L, RGB(A) or numeric.

    8-bit RGB(A) comes back already gray (see :func:`_pil_rgb_to_gray`).
    """
    if im.mode == "P":
        return _expand_palette(im)
    if im.mode in ("RGB", "RGBA", "RGBX"):
        return _pil_rgb_to_gray(im, conversion)
    target = _PIL_CONVERSIONS.get(im.mode)
    if target is not None:
        im = im.convert(target)
    return np.asarray(im)


def _pil_rgb_to_gray(im, conversion):
    """Gray conversion of an 8-bit RGB(A) PIL image, a strip of rows at a time.

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
        rgbx_to_gray_uint8(pixels, flat_gray[top * width : bottom * width], conversion)
    return gray


def _raw_pixels(im, box, rawmode):
    """The bytes of ``im.crop(box).tobytes("raw", rawmode)``, copied once instead of three times.

    Pillow's raw-encoder interface used for the single copy is internal to
    Pillow: any failure of it (a changed interface, but also the OSError of an
    unknown encoder, the ValueError of a raw mode it cannot pack, a short or
    non-bytes result) falls back to the public (slower) route, which fails on
    its own terms if the image itself is at fault.
    """
    left, top, right, bottom = box
    n_bytes = (right - left) * (bottom - top) * 4
    try:
        data = _encode_box(im, box, rawmode, n_bytes)
    except Exception:  # any failure of a private interface: the public route
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


def _pil_color_pixels(im):
    """Pixels of a PIL image for the colour path: 8-bit RGB as (height, width, 3), else as read.

    One decode, no gray conversion: alpha is dropped, palettes of grays stay
    gray (2-D), and the other modes go through the same conversions as the
    gray path.
    """
    if im.mode == "P":
        return _expand_palette(im)
    if im.mode in ("RGBA", "RGBX"):
        im = im.convert("RGB")
    target = _PIL_CONVERSIONS.get(im.mode)
    if target is not None:
        im = im.convert(target)
    return np.asarray(im)


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


def load_image(image, index=0, gray_conversion="exact"):
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
    gray_conversion : {"exact", "mahotas"}, default="exact"
        How colour becomes gray (see :mod:`haralick_learn.preprocess.gray`): exact
        integer arithmetic, the same on every machine, or mahotas's
        ``rgb2gray``, bit for bit as the local mahotas computes it.

    Returns
    -------
    gray : ndarray of shape (height, width)
        ``uint8`` for 8-bit input; float64 for wider or float colour; the
        input's own numeric dtype for other gray input (``uint16``,
        ``int32``, ``float32``...).

    Raises
    ------
    FileNotFoundError, IsADirectoryError, ValueError, TypeError
        With a message that names the file (or the sample's index) and the reason.

    Warns
    -----
    RuntimeWarning
        When a file is decoded while ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES``
        is True (truncated files then go undetected).
    Warning
        Pillow's own warnings (``DecompressionBombWarning``, say), as Pillow
        raises them.

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
    pixels = _read_pixels(image, source, partial(_pil_to_array, conversion=gray_conversion))
    return _array_to_gray(pixels, source, gray_conversion)


def load_gray(image, index=0, *, volume=False, gray_conversion="exact"):
    """The gray image (or, with ``volume``, the volume) of one sample.

    :func:`load_volume` when ``volume`` is true, else :func:`load_image` with
    ``gray_conversion``: what the featurizer, region tables and texture maps
    read a sample with.

    Examples
    --------
    >>> import numpy as np
    >>> load_gray(np.full((2, 2, 3), 77, np.uint8))
    array([[77, 77],
           [77, 77]], dtype=uint8)
    >>> load_gray(np.zeros((2, 3, 4), np.uint8), volume=True).shape
    (2, 3, 4)
    """
    if volume:
        return load_volume(image, index)
    return load_image(image, index, gray_conversion)


def _read_pixels(image, source, pil_to_array):
    """The pixels of a path, PIL image or array, PIL images through ``pil_to_array``."""
    if isinstance(image, (str, os.PathLike)):
        return _read_file(image, to_array=pil_to_array)
    if isinstance(image, Image.Image):
        try:
            # A lazily opened PIL image decodes its file here: Pillow's errors
            # (truncated data among them) become the sample's, as for paths.
            if getattr(image, "tile", None):
                _warn_if_truncated_files_are_read()
            return pil_to_array(image)
        except (OSError, SyntaxError, EOFError, ValueError) as exc:
            raise ValueError(f"{source}: cannot decode image data ({exc})") from exc
    array = np.asarray(image)
    if array.dtype == object and array.ndim == 0:
        raise TypeError(
            f"{source}: expected a path, a PIL image or an array, got {type(image).__name__}"
        )
    return array


def load_color_pixels(image, index=0):
    """Return the pixels of one sample for the colour path: RGB, or gray for a gray image.

    The read stage of ``color="rgb" | "hsv" | "lab"``: the same sources, checks
    and error messages as :func:`load_image`, with one decode, but an RGB
    image stays in colour (the channels stage,
    :func:`haralick_learn.preprocess.channels.channel_images`, converts it).

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or array-like
        As for :func:`load_image`.
    index : int, default=0
        Position of the sample in its batch, used to name it in errors.

    Returns
    -------
    pixels : ndarray of shape (height, width, 3) or (height, width)
        RGB (alpha dropped) in the input's dtype; or the 2-D gray image of a
        gray source (a gray file, a gray palette, a 2-D array, gray + alpha).

    Examples
    --------
    >>> import numpy as np
    >>> load_color_pixels(np.zeros((2, 3, 4), np.uint8)).shape
    (2, 3, 3)
    >>> load_color_pixels(np.zeros((2, 3, 2), np.uint8)).shape
    (2, 3)
    """
    source = describe_source(image, index)
    return _checked_pixels(_read_pixels(image, source, _pil_color_pixels), source)


def _array_to_gray(array, source, conversion):
    array = _checked_pixels(array, source)
    if array.ndim == 3:
        if is_8bit(array):
            # 8-bit colour in any integer dtype, so that an int64 copy of a
            # uint8 image gives the same gray image.
            return rgb_to_gray_uint8(array.astype(np.uint8, copy=False), conversion)
        # Wider or float colour: float64, so that nothing is lost before quantization.
        return rgb_to_gray(array, conversion)
    return array


def _checked_pixels(array, source):
    """The array validated, as 2-D gray or (height, width, 3) RGB (alpha dropped)."""
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
    return array


# -- volumes and masks -------------------------------------------------------

#: File suffixes read as volumes, and the optional extra each needs.
_NIFTI_SUFFIXES = (".nii", ".nii.gz")
_NRRD_SUFFIXES = (".nrrd",)
_TIFF_SUFFIXES = (".tif", ".tiff")  # any other file is tried as a TIFF stack too


def split_sample(sample):
    """``(image, mask)`` of a sample: a tuple of two is an image and its mask, else no mask.

    Examples
    --------
    >>> split_sample("a.png")
    ('a.png', None)
    >>> split_sample(("a.png", "a_mask.png"))
    ('a.png', 'a_mask.png')
    """
    if isinstance(sample, tuple) and len(sample) == 2:
        return sample
    return sample, None


def _volume_module(name, what):
    try:
        return __import__(name)
    except ImportError as exc:
        raise ImportError(
            f"reading {what} files needs the optional package {name!r}: "
            "pip install 'haralick_learn[volumes]'"
        ) from exc


def check_volume_reader(path):
    """Import the optional package that reads the volume file ``path``, if any.

    NIfTI (``.nii``, ``.nii.gz``) needs nibabel and NRRD (``.nrrd``) pynrrd;
    a TIFF needs nothing optional. Lets a caller fail before any work.

    Raises
    ------
    ImportError
        Naming the extra to install.
    """
    lower = os.fspath(path).lower()
    if lower.endswith(_NIFTI_SUFFIXES):
        _volume_module("nibabel", "NIfTI")
    elif lower.endswith(_NRRD_SUFFIXES):
        _volume_module("nrrd", "NRRD")


def _read_volume_file(path):
    """The voxels of a volume file: a multi-page TIFF, NIfTI or NRRD, as stored."""
    name = os.fspath(path)
    if not os.path.exists(name):
        raise FileNotFoundError(f"{name!r}: no such file")
    if os.path.isdir(name):
        raise IsADirectoryError(f"{name!r}: is a directory, not a volume file")
    lower = name.lower()
    if lower.endswith(_NIFTI_SUFFIXES + _NRRD_SUFFIXES):
        # Their readers allocate every voxel the header declares before any is read: a 4-D
        # series (an fMRI run), or a header declaring more than the file holds, is refused
        # from the header instead of after reading all of it.
        shape = _declared_shape(name)
        if shape is not None and len(shape) != 3:
            raise ValueError(f"{name!r}: a volume must be 3-D, got shape {shape} (from its "
                             "header)")
    colour = ""
    try:
        if lower.endswith(_NIFTI_SUFFIXES):
            nibabel = _volume_module("nibabel", "NIfTI")
            array = np.asarray(nibabel.load(name).dataobj)
        elif lower.endswith(_NRRD_SUFFIXES):
            nrrd = _volume_module("nrrd", "NRRD")
            array, _ = nrrd.read(name)
        else:
            array, colour = _read_tiff_stack(name)
    except ImportError:
        raise
    except Exception as exc:  # each reader has its own errors: all name the file here
        raise ValueError(f"{name!r}: cannot read a volume from this file ({exc})") from exc
    if colour:
        # tifffile reads an RGB page as (height, width, 3): three slices to a volume reader
        raise ValueError(f"{name!r}: {colour} is a colour image, not a volume (a volume TIFF "
                         "has one gray page per slice: tifffile.imwrite(path, volume, "
                         "photometric='minisblack'))")
    array = np.asarray(array)
    while array.ndim > 3 and array.shape[-1] == 1:  # e.g. NIfTI's (x, y, z, 1)
        array = array[..., 0]
    return array


def _read_tiff_stack(name):
    """``(pixels, colour)`` of a TIFF: ``colour`` describes pages of several samples, else ''."""
    import tifffile

    with tifffile.TiffFile(name) as tif:
        page = tif.pages[0]
        samples = int(page.samplesperpixel)
        if samples > 1:
            n_pages = len(tif.pages)
            pages = f"{n_pages} page{'s' if n_pages > 1 else ''}"
            kind = "an RGB TIFF" if page.photometric == tifffile.PHOTOMETRIC.RGB else "a TIFF"
            return None, (f"{kind} ({pages} of {samples} samples per pixel, photometric "
                          f"{page.photometric.name})")
        return tif.asarray(), ""


def load_volume(image, index=0):
    """Return the 3-D gray volume of one sample (``HaralickFeaturizer(volume=True)``).

    Parameters
    ----------
    image : str, os.PathLike or array-like
        A 3-D array, or a path to a multi-page TIFF of gray pages (tifffile:
        pages on axis 0; pages of several samples per pixel, such as an RGB
        photograph, are refused), a NIfTI file (``.nii``, ``.nii.gz``, nibabel: the voxel axes
        i, j, k as stored) or an NRRD file (``.nrrd``, pynrrd: its axes as
        pynrrd reads them). NIfTI and NRRD need the optional extra
        ``haralick_learn[volumes]``. Boolean voxels are 0 and 255.
    index : int, default=0
        Position of the sample in its batch, used to name it in errors.

    Returns
    -------
    volume : ndarray of shape (n0, n1, n2)
        The voxels in their own numeric dtype.

    Raises
    ------
    FileNotFoundError, ValueError, TypeError
        Naming the file (or ``sample i``) and the reason.
    ImportError
        Naming the extra to install, for NIfTI or NRRD without it.

    Examples
    --------
    >>> import numpy as np
    >>> load_volume(np.zeros((2, 3, 4), np.uint8)).shape
    (2, 3, 4)
    >>> load_volume(np.zeros((3, 4), np.uint8), index=5)
    Traceback (most recent call last):
    ...
    ValueError: sample 5: a volume must be 3-D, got shape (3, 4)
    """
    source = describe_source(image, index)
    if isinstance(image, (str, os.PathLike)):
        array = _read_volume_file(image)
    elif isinstance(image, Image.Image):
        raise TypeError(f"{source}: a volume is a 3-D array or a volume file, not a PIL image")
    else:
        array = np.asarray(image)
    if array.dtype == bool:
        array = array.astype(np.uint8) * np.uint8(255)
    if array.dtype.kind not in "uif":
        raise TypeError(
            f"{source}: unsupported voxel dtype {array.dtype}; expected integers or floats"
        )
    if array.ndim != 3:
        raise ValueError(f"{source}: a volume must be 3-D, got shape {array.shape}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"{source}: volume contains NaN or infinity")
    if array.size < 2:
        raise ValueError(f"{source}: volume of shape {array.shape} is too small to have "
                         "any voxel pair")
    return array


def load_mask(mask, shape, source, image=None):
    """The boolean mask of a sample of gray shape ``shape``.

    Parameters
    ----------
    mask : str, os.PathLike, PIL image or array-like
        A boolean (or integer: non-zero is inside) array, or a mask file: an
        image file for a 2-D image, a volume file (see :func:`load_volume`)
        for a volume; its non-zero pixels (after the gray conversion) are
        inside.
    shape : tuple of int
        Shape of the sample's gray image or volume.
    source : str
        The sample's name, for errors.
    image : str, os.PathLike or None, default=None
        The sample's image. When it and ``mask`` are both volume files that
        place their voxels in space (NIfTI, NRRD with a space), the mask must
        lie on the image's voxel grid (see :func:`mask_on_image_grid`).

    Returns
    -------
    mask : ndarray of bool, shape ``shape``

    Examples
    --------
    >>> import numpy as np
    >>> load_mask(np.eye(2, dtype=bool), (2, 2), "sample 0")
    array([[ True, False],
           [False,  True]])
    >>> load_mask(np.ones((2, 3), bool), (2, 2), "sample 4")
    Traceback (most recent call last):
    ...
    ValueError: sample 4: its mask has shape (2, 3), but the image has shape (2, 2)
    """
    if isinstance(mask, (str, os.PathLike)):
        name = f"{os.fspath(mask)!r}"
        array = load_volume(mask) if len(shape) == 3 else load_image(mask)
        array = array != 0
        if len(shape) == 3 and isinstance(image, (str, os.PathLike)):
            array = mask_on_image_grid(array, mask, image, shape, source)
    else:
        name = "its mask"
        if isinstance(mask, Image.Image):
            array = load_image(mask) != 0
        else:
            array = np.asarray(mask)
            if array.dtype != bool:
                if array.dtype.kind not in "ui":
                    raise TypeError(
                        f"{source}: a mask must be a boolean (or integer) array or a mask "
                        f"file, got dtype {array.dtype}"
                    )
                array = array != 0
    if array.shape != tuple(shape):
        what = "its mask" if name == "its mask" else f"its mask {name}"
        raise ValueError(
            f"{source}: {what} has shape {array.shape}, but the image has shape {tuple(shape)}"
        )
    return array


# NRRD's anatomical spaces, and the signs that take their coordinates to RAS+ (NIfTI's).
_NRRD_SPACES = {
    "right-anterior-superior": (1, 1, 1), "ras": (1, 1, 1),
    "left-anterior-superior": (-1, 1, 1), "las": (-1, 1, 1),
    "left-posterior-superior": (-1, -1, 1), "lps": (-1, -1, 1),
}
#: How far (in voxels) a mask's voxel may lie from the image's voxel it is taken for: the
#: rounding of float32 affines passes, any real shift, resampling or rotation does not.
GRID_TOLERANCE = 1e-3


def volume_affine(path):
    """The voxel-to-world affine of a volume file (4 x 4, RAS+ millimetres), or None.

    A NIfTI file's is nibabel's ``affine`` (its sform, else its qform, else
    the voxel sizes); an NRRD file's comes from its ``space directions`` and
    ``space origin`` in an anatomical ``space`` (RAS, LAS or LPS, turned to
    RAS+). Files that do not place their voxels in space (TIFF stacks, NRRD
    without such a space) have None. Voxel axes are those of
    :func:`load_volume`.

    Examples
    --------
    >>> volume_affine("stack.tif") is None
    True

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file, when it is missing or its header cannot be read.
    ImportError
        Naming the extra to install, for NIfTI or NRRD without it.
    """
    name = os.fspath(path)
    lower = name.lower()
    nifti = lower.endswith(_NIFTI_SUFFIXES)
    if not nifti and not lower.endswith(_NRRD_SUFFIXES):
        return None
    module = _volume_module("nibabel", "NIfTI") if nifti else _volume_module("nrrd", "NRRD")
    if not os.path.exists(name):
        raise FileNotFoundError(f"{name!r}: no such file")
    try:
        if nifti:
            return np.asarray(module.load(name).affine, dtype=np.float64)
        header = module.read_header(name)
    except Exception as exc:  # the geometry may be read before the voxels: name the file too
        raise ValueError(f"{name!r}: cannot read a volume from this file ({exc})") from exc
    signs = _NRRD_SPACES.get(str(header.get("space", "")).lower())
    directions = header.get("space directions")
    if signs is None or directions is None:
        return None
    directions = np.asarray(directions, dtype=np.float64)
    spatial = directions[~np.isnan(directions).any(axis=1)]  # pynrrd: NaN for other axes
    if spatial.shape != (3, 3):
        return None
    affine = np.eye(4)
    affine[:3, :3] = spatial.T
    affine[:3, 3] = np.asarray(header.get("space origin", np.zeros(3)), dtype=np.float64)
    affine[:3] *= np.array(signs, dtype=np.float64)[:, None]
    return affine


def volume_shape(path):
    """The shape :func:`load_volume` gives the volume file ``path``, from its header alone.

    Lets a caller size its work before reading the voxels. None when the
    header does not tell (not a volume file, an unreadable one: reading it
    says why).

    Examples
    --------
    >>> volume_shape("missing.nii.gz") is None
    True
    """
    shape = _declared_shape(os.fspath(path))
    return shape if shape is not None and len(shape) == 3 else None


def _declared_shape(name):
    """The shape a volume file's header declares, axes of length 1 at its end dropped (as
    :func:`_read_volume_file` drops them), or None when the header does not tell."""
    lower = name.lower()
    try:
        if lower.endswith(_NIFTI_SUFFIXES):
            shape = tuple(_volume_module("nibabel", "NIfTI").load(name).shape)
        elif lower.endswith(_NRRD_SUFFIXES):
            shape = tuple(int(n) for n in _volume_module("nrrd", "NRRD").read_header(name)["sizes"])
        elif lower.endswith(_TIFF_SUFFIXES):
            import tifffile

            with tifffile.TiffFile(name) as tif:
                shape = tuple(tif.series[0].shape)
        else:
            return None
    except Exception:  # reading the volume reports it, naming the file
        return None
    while len(shape) > 3 and shape[-1] == 1:  # as _read_volume_file: NIfTI's (x, y, z, 1)
        shape = shape[:-1]
    return shape


def mask_on_image_grid(mask, mask_path, image_path, shape, source):
    """A volume mask read from ``mask_path``, on the voxel grid of the image ``image_path``.

    When both files place their voxels in space (:func:`volume_affine`), the
    mask's voxels must be the image's: the same grid, or the same grid with
    its axes stored in another order or direction (the mask is then
    reoriented onto the image's axes, exactly). Any other geometry (another
    spacing, origin, rotation or size) is refused, as pyradiomics refuses it
    ("Image/Mask geometry mismatch"): applied voxel for voxel, the mask would
    outline another region. Otherwise the mask is returned as it is.

    Raises
    ------
    ValueError
        Naming both files and what differs.
    """
    image_affine = volume_affine(image_path)
    mask_affine = volume_affine(mask_path)
    if image_affine is None or mask_affine is None:
        return mask
    axes = _grid_axes(image_affine, mask_affine, tuple(shape), mask.shape)
    if axes is None:
        difference = _geometry_difference(image_affine, mask_affine, tuple(shape), mask.shape)
        raise ValueError(
            f"{source}: its mask {os.fspath(mask_path)!r} lies on another voxel grid than "
            f"the image: {difference}; resample the mask onto the image's grid"
        )
    if axes == [(0, 1), (1, 1), (2, 1)]:
        return mask
    out = np.transpose(mask, [axis for axis, _ in axes])
    flipped = tuple(i for i, (_, sign) in enumerate(axes) if sign < 0)
    return np.ascontiguousarray(np.flip(out, flipped) if flipped else out)


def _grid_axes(image_affine, mask_affine, image_shape, mask_shape):
    """For each image axis, ``(mask axis, sign)`` when the mask's grid is the image's, or None."""
    try:
        to_image = np.linalg.solve(image_affine, mask_affine)  # mask index -> image index
    except np.linalg.LinAlgError:
        return None
    if len(mask_shape) != 3 or not np.isfinite(to_image).all():
        return None
    exact = np.rint(to_image[:3, :3])
    shift = np.rint(to_image[:3, 3])
    if not ((np.abs(exact).sum(axis=0) == 1).all() and (np.abs(exact).sum(axis=1) == 1).all()):
        return None
    corners = np.array(np.meshgrid(*[(0, n - 1) for n in mask_shape])).reshape(3, -1).T
    error = corners @ (to_image[:3, :3] - exact).T + (to_image[:3, 3] - shift)
    if np.abs(error).max() > GRID_TOLERANCE:
        return None
    axes = []
    for i in range(3):
        j = int(np.flatnonzero(exact[i])[0])
        sign = int(exact[i, j])
        if image_shape[i] != mask_shape[j] or shift[i] != (0 if sign > 0 else mask_shape[j] - 1):
            return None
        axes.append((j, sign))
    return axes


def _geometry_difference(image_affine, mask_affine, image_shape, mask_shape):
    """What differs between two grids, in words: ``spacing (..) against (..)``, ..."""
    parts = []
    if tuple(image_shape) != tuple(mask_shape):
        parts.append(f"shape {tuple(image_shape)} against {tuple(mask_shape)}")
    spacings = [np.linalg.norm(a[:3, :3], axis=0) for a in (image_affine, mask_affine)]
    length = GRID_TOLERANCE * spacings[0].min()
    if np.abs(spacings[0] - spacings[1]).max() > length:
        parts.append(f"spacing {_numbers(spacings[0])} against {_numbers(spacings[1])}")
    directions = [a[:3, :3] / s for a, s in zip((image_affine, mask_affine), spacings)]
    codes = [_axis_codes(d) for d in directions]
    if codes[0] != codes[1]:
        parts.append(f"orientation {codes[0]} against {codes[1]}")
    elif np.abs(directions[0] - directions[1]).max() > GRID_TOLERANCE:
        columns = [", ".join(_numbers(c, 3) for c in d.T) for d in directions]
        parts.append(f"directions ({columns[0]}) against ({columns[1]})")
    if np.abs(image_affine[:3, 3] - mask_affine[:3, 3]).max() > length:
        parts.append(f"origin {_numbers(image_affine[:3, 3])} against "
                     f"{_numbers(mask_affine[:3, 3])}")
    return ", ".join(parts) or "grids that do not coincide"


def _numbers(values, digits=6):
    return "(" + ", ".join(f"{float(v) + 0.0:.{digits}g}" for v in values) + ")"


def _axis_codes(directions):
    """The anatomical direction each voxel axis points to most: ``RAS``, ``LPS``..."""
    letters = ("LR", "PA", "IS")
    out = ""
    for column in np.asarray(directions).T:
        world = int(np.argmax(np.abs(column)))
        out += letters[world][int(column[world] > 0)]
    return out
