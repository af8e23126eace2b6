"""Arrays read one box at a time: Zarr, OME-Zarr (NGFF), OME-TIFF and Dask arrays.

The read stage of region tables larger than memory. An input opens as a
:class:`ChunkedArray`: its shape and dtype, the length of its chunks (what a
read costs), and :meth:`ChunkedArray.read` of a box, which reads only the
chunks that hold the box. OME metadata decides which axes are space: a
time or channel axis of length 1 (OME-Zarr's ``t, c, z, y, x``, OME-TIFF's
``TCZYX``) is dropped, and a channel axis (OME-TIFF's samples ``S`` included)
is moved last, where an in-memory colour image keeps its channels.

``zarr`` is needed for Zarr, OME-Zarr and OME-TIFF (tifffile's Zarr store);
``dask`` only to pass Dask arrays. Neither is imported before an input needs it.
"""

import os

import numpy as np

__all__ = ["ChunkedArray", "is_chunked", "is_dask_array", "open_chunked"]

#: Path suffixes read as Zarr stores (a directory is one too) and as OME-TIFF files.
ZARR_SUFFIXES = (".zarr",)
OME_TIFF_SUFFIXES = (".ome.tif", ".ome.tiff")


def is_dask_array(source):
    """Whether ``source`` is a Dask array (without importing Dask)."""
    return type(source).__module__.split(".")[0] == "dask" and hasattr(source, "chunks")


def _is_zarr_object(source):
    return type(source).__module__.split(".")[0] == "zarr"


def is_chunked(source):
    """Whether ``source`` is read box by box: a Dask or Zarr array, a Zarr store or an OME-TIFF.

    Zarr stores are directories (or paths ending ``.zarr``), OME-TIFF files
    end ``.ome.tif`` or ``.ome.tiff``. Other paths (PNG, plain TIFF...) and
    in-memory arrays are not.

    Examples
    --------
    >>> import numpy as np
    >>> is_chunked(np.zeros((2, 2))), is_chunked("slide.ome.tiff"), is_chunked("cells.png")
    (False, True, False)
    """
    if is_dask_array(source) or _is_zarr_object(source):
        return True
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        lower = path.lower().rstrip("/\\")
        return (os.path.isdir(path) or lower.endswith(ZARR_SUFFIXES)
                or lower.endswith(OME_TIFF_SUFFIXES))
    return False


class ChunkedArray:
    """An array read one box at a time, its axes in the order region tables use.

    Parameters
    ----------
    raw : array-like
        What is read: a Zarr array, a Dask array or a NumPy array. Indexing it
        with a tuple of slices and integers gives the box (Dask's is computed).
    name : str
        The input's name in error messages (``'cells.zarr'``, ``the labels
        (a Dask array)``).
    roles : sequence of {"space", "channel", "drop"}
        The role of each of ``raw``'s axes: kept in order (``"space"``), moved
        last (``"channel"``, at most one), or read at index 0 (``"drop"``, an
        axis of length 1).
    chunks : tuple of int
        The length of ``raw``'s chunks along each axis.

    Attributes
    ----------
    shape : tuple of int
        The spatial axes, then the channels (when there is a channel axis).
    spatial_shape : tuple of int
    chunk_shape : tuple of int
        Chunk lengths along the spatial axes.
    has_channels : bool
    dtype : numpy.dtype
    """

    def __init__(self, raw, name, roles, chunks, closer=None):
        if list(roles).count("channel") > 1:
            raise ValueError(f"{name}: has more than one channel axis")
        self.raw, self.name, self.roles = raw, name, tuple(roles)
        self._closer = closer
        spatial = [axis for axis, role in enumerate(self.roles) if role == "space"]
        channel = [axis for axis, role in enumerate(self.roles) if role == "channel"]
        self.spatial_shape = tuple(int(raw.shape[axis]) for axis in spatial)
        self.chunk_shape = tuple(int(chunks[axis]) for axis in spatial)
        self.has_channels = bool(channel)
        self.shape = self.spatial_shape + tuple(int(raw.shape[axis]) for axis in channel)
        # read() gives this machine's byte order (the compiled passes read no other)
        self.dtype = np.dtype(raw.dtype).newbyteorder("=")
        self._channel_position = None
        if channel:  # where the channel axis is among the axes the index keeps
            self._channel_position = sum(role != "drop" for role in self.roles[: channel[0]])

    @property
    def ndim(self):
        """Number of spatial axes."""
        return len(self.spatial_shape)

    def read(self, box):
        """The pixels of ``box`` (slices along the spatial axes) as a NumPy array, channels last."""
        box = tuple(box)
        spatial = iter(box)
        index = tuple(next(spatial) if role == "space" else (0 if role == "drop" else slice(None))
                      for role in self.roles)
        try:
            block = self.raw[index]
            if is_dask_array(block):
                # Dask's local threads, never a distributed client: this may run in joblib's
                # dispatch callback, inside the client's event loop, which would then wait
                # on itself.
                block = block.compute(scheduler="threads")
            block = np.asarray(block)
        except MemoryError:
            raise
        except Exception as exc:  # a damaged chunk or strip: each codec raises its own error
            where = ", ".join(f"{s.start}:{s.stop}" for s in box)
            raise ValueError(f"{self.name}: cannot read its pixels [{where}] "
                             f"({type(exc).__name__}: {str(exc)[:200]})") from exc
        if not block.dtype.isnative:  # a big-endian store (Zarr v2, a Dask array of a .npy)
            block = block.astype(block.dtype.newbyteorder("="))
        if self._channel_position is not None:
            block = np.moveaxis(block, self._channel_position, -1)
        return block

    def close(self):
        """Release the file this array reads (an OME-TIFF); nothing for the others."""
        if self._closer is not None:
            self._closer()
            self._closer = None


def open_chunked(source, what, *, chunks=None, colour_last=False):
    """Open ``source`` as a :class:`ChunkedArray`, named for errors as ``what`` (image, labels).

    ``source`` is a path to a Zarr store (an array, or an OME-Zarr image:
    its first, full-resolution level) or to an OME-TIFF file (its first
    series, full resolution, through tifffile's Zarr store), a Zarr array or
    group, a Dask array, or an in-memory array (read from memory, in chunks
    of ``chunks``, default 256 along each axis). OME metadata says which
    axis holds channels; without it, with ``colour_last``, the last axis of
    a 3-D array does (as for an in-memory colour image).

    Examples
    --------
    >>> import numpy as np
    >>> labels = open_chunked(np.arange(12).reshape(3, 4), "labels")
    >>> labels.shape, labels.chunk_shape
    ((3, 4), (3, 4))
    >>> labels.read((slice(1, 3), slice(0, 2)))
    array([[4, 5],
           [8, 9]])
    """
    if is_dask_array(source):
        name = f"the {what} (a Dask array)"
        return ChunkedArray(source, name, _plain_roles(source.ndim, colour_last),
                            [max(lengths) if lengths else 1 for lengths in source.chunks])
    if _is_zarr_object(source):
        return _open_zarr_object(source, f"the {what} (a Zarr {_zarr_kind(source)})",
                                 colour_last)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        name = f"{what} {path!r}"
        if path.lower().endswith(OME_TIFF_SUFFIXES):
            return _open_ome_tiff(path, name)
        return _open_zarr_path(path, name, colour_last)
    array = np.asarray(source)
    if chunks is None:
        chunks = (256,) * array.ndim
    return ChunkedArray(array, f"the {what}", _plain_roles(array.ndim, colour_last),
                        [min(c, n) or 1 for c, n in zip(chunks, array.shape)])


def _plain_roles(ndim, colour_last):
    """An array without metadata: space, its last axis channels when 3-D and ``colour_last``."""
    if colour_last and ndim == 3:
        return ["space", "space", "channel"]
    return ["space"] * ndim


def _zarr():
    try:
        import zarr
    except ImportError:
        raise ImportError("reading Zarr, OME-Zarr or OME-TIFF tile by tile needs zarr: "
                          "pip install 'haralick_learn[tiles]'") from None
    return zarr


def _zarr_kind(node):
    return "group" if hasattr(node, "group_keys") else "array"


def _open_zarr_path(path, name, colour_last):
    zarr = _zarr()
    if not os.path.exists(path):
        raise FileNotFoundError(f"{name}: no such file or directory")
    try:
        node = zarr.open(path, mode="r")
    except Exception as exc:  # zarr's own errors: not a store, damaged metadata
        raise ValueError(f"{name}: not a Zarr store ({type(exc).__name__}: {exc})") from None
    return _open_zarr_object(node, name, colour_last)


def _open_zarr_object(node, name, colour_last):
    if _zarr_kind(node) == "array":
        return ChunkedArray(node, name, _plain_roles(node.ndim, colour_last), node.chunks)
    multiscales = _multiscales(dict(node.attrs))
    if multiscales is None:
        raise ValueError(f"{name}: a Zarr group without OME-Zarr (NGFF) 'multiscales' "
                         "metadata; give the path of one of its arrays")
    try:
        path = multiscales["datasets"][0]["path"]
        array = node[path]
    except (KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"{name}: its OME-Zarr metadata names no readable first level "
                         f"({type(exc).__name__}: {exc})") from None
    axes = _ngff_axes(multiscales.get("axes"), array.ndim, name)
    return ChunkedArray(array, name, _roles(axes, array.shape, name), array.chunks)


def _multiscales(attributes):
    """The first ``multiscales`` entry of OME-Zarr attributes (NGFF 0.5's under ``ome``)."""
    ome = attributes.get("ome")
    if isinstance(ome, dict) and "multiscales" in ome:
        attributes = ome
    found = attributes.get("multiscales")
    if isinstance(found, list) and found and isinstance(found[0], dict):
        return found[0]
    return None


def _ngff_axes(axes, ndim, name):
    """``(name, type)`` of each axis: NGFF 0.4+ dicts, 0.3's names, or 0.1/0.2's t, c, z, y, x."""
    if axes is None:
        axes = ["t", "c", "z", "y", "x"][-ndim:] if ndim <= 5 else None
    if axes is None or len(axes) != ndim:
        raise ValueError(f"{name}: its OME-Zarr axes {axes!r} do not match its {ndim} dimensions")
    kinds = {"t": "time", "c": "channel"}
    found = []
    for axis in axes:
        label = axis.get("name", "") if isinstance(axis, dict) else str(axis)
        kind = axis.get("type") if isinstance(axis, dict) else None
        if not isinstance(label, str) or not isinstance(kind, (str, type(None))):
            raise ValueError(f"{name}: its OME-Zarr axes {axes!r} are not names and types")
        found.append((label.lower(), kind or kinds.get(label.lower(), "space")))
    return found


def _roles(axes, shape, name):
    """Each axis's role from its ``(name, type)``: space, channel, or dropped (length 1)."""
    roles = []
    for (label, kind), length in zip(axes, shape):
        if kind == "space":
            roles.append("space")
        elif length == 1:
            roles.append("drop")
        elif kind == "channel":
            roles.append("channel")
        else:
            raise ValueError(f"{name}: its axis {label!r} ({kind}) has {length} entries; a "
                             "region table reads one image (select one first)")
    spatial = [axis for axis, role in enumerate(roles) if role == "space"]
    # A 2-D image stored with a z axis of one plane (OME's TCZYX): the plane.
    if len(spatial) == 3 and shape[spatial[0]] == 1:
        roles[spatial[0]] = "drop"
    return roles


def _open_ome_tiff(path, name):
    import tifffile

    _zarr()
    if not os.path.exists(path):
        raise FileNotFoundError(f"{name}: no such file")
    try:
        tiff = tifffile.TiffFile(path)
    except Exception as exc:  # tifffile's errors on a file that is no TIFF
        raise ValueError(f"{name}: cannot read it as a TIFF ({exc})") from None
    try:
        series = tiff.series[0]
        axes = series.axes.upper()
        store = series.aszarr(level=0)
        array = _zarr().open(store, mode="r")
        if _zarr_kind(array) != "array":
            raise ValueError(f"{name}: its first series is not one array")
        letters = {"T": "time", "C": "channel", "S": "channel", "Z": "space", "Y": "space",
                   "X": "space"}
        described = [(letter.lower(), letters.get(letter, "other")) for letter in axes]
        roles = _roles(described, array.shape, name)
    except BaseException:
        tiff.close()
        raise

    def close():
        store.close()
        tiff.close()

    return ChunkedArray(array, name, roles, array.chunks, closer=close)
