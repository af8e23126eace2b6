"""Per-image feature cache behind ``HaralickFeaturizer(memory=...)``.

Each image's row is stored in its own small file, named by a key that hashes

* the image's *content*: the bytes of the file for a path (so a file that
  changes gets new features, and a copy of a file at another path hits the
  same entry), or the pixels, shape and dtype of an array / PIL image. A
  process remembers the digest of a file it has hashed while the file's
  ``os.stat`` signature (device, inode, size, mtime, ctime) stays the same,
  so repeated transforms (cross-validation folds) hash each file once;
* for a path, Pillow's ``Image.MAX_IMAGE_PIXELS`` where the file is read,
  beyond twice which Pillow refuses the file;
* the :class:`~haralick_learn._settings.TextureSettings` of the row
  (:meth:`~haralick_learn._settings.TextureSettings.cache_key`: every field,
  the backend included, since the backends agree to about 1e-12, not bit for
  bit); ``n_jobs``, ``verbose`` and ``on_error`` are not settings of a row.
  ``image_shape`` enters through the shape of each reshaped image;
* :data:`CACHE_FORMAT_VERSION` and the package version, so that an upgrade
  never reads rows computed by another version.

Layout: ``<folder>/haralick_learn/v<format>/<2 hex>/<64 hex>.row``. An entry
is ``MAGIC | key (32 bytes) | n (uint64) | n float64 | sha256 of the rest``,
little-endian. A reader checks the length, magic, key, ``n`` and checksum; an
entry that fails any check (truncated, garbage, another shape) is a miss: the
row is recomputed and the entry rewritten.

Writers never expose a partial entry: they write a uniquely named temporary
file in the entry's own folder then ``os.replace`` it, which is atomic, so
threads, processes and Dask workers on a shared file system can fill one
cache at the same time (two writers of one key write the same bytes).

Rows of images that fail (``on_error="nan"``) are never stored. A file that
changes while it is being featurized (its size or modification time differs
before and after) is not stored either.

A cache that cannot be written (read-only file system, full disk) never costs
a row: rows are computed and returned, and the featurizer emits one warning
per transform that says how many rows were not cached and why.
"""

import hashlib
import os
import struct
import threading
import time
import uuid

import numpy as np
from PIL import Image, ImageFile

#: Bump when the entry format or the meaning of a row changes.
CACHE_FORMAT_VERSION = 2

_MAGIC = b"HLROW\x00\x01\n"
_KEY_SIZE = 32  # sha256 digest
_HEADER = struct.Struct("<8s32sQ")
_CHECKSUM_SIZE = 32
_CHUNK = 1 << 20


class FeatureCache:
    """Content-addressed store of feature rows in a folder.

    Parameters
    ----------
    folder : str or os.PathLike
        Root folder; entries go under ``folder/haralick_learn/v<format>/``.
    settings : TextureSettings
        The settings of the rows; their cache key and row length.
    """

    def __init__(self, folder, settings):
        from ._version import __version__

        self.root = os.path.join(
            os.fspath(folder), "haralick_learn", f"v{CACHE_FORMAT_VERSION}"
        )
        self.n_features = settings.n_features
        self.params = b"\0".join(
            [str(CACHE_FORMAT_VERSION).encode(), __version__.encode(), settings.cache_key()]
        )

    # -- keys ------------------------------------------------------------

    def key(self, image):
        """``(key, signature)`` of one image, or ``(None, None)`` if it cannot be keyed.

        ``signature`` is the file's :func:`os.stat` signature for a path
        (checked again before storing), else ``None``; for an ``(image,
        mask)`` pair, the pair of their signatures (the mask's content is
        part of the key). An unreadable file or an
        unsupported object is not keyed: it is featurized without the cache,
        which raises (or reports) its error as usual.
        """
        hasher = hashlib.sha256(self.params)
        try:
            if isinstance(image, tuple) and len(image) == 2:  # (image, mask)
                hasher.update(b"\0pair\0")
                signature = (_hash_content(hasher, image[0]), _hash_content(hasher, image[1]))
            else:
                signature = _hash_content(hasher, image)
        except (OSError, ValueError, TypeError):
            return None, None
        return hasher.digest(), signature

    def path(self, key):
        """Where the entry of ``key`` lives."""
        name = key.hex()
        return os.path.join(self.root, name[:2], name + ".row")

    # -- entries ---------------------------------------------------------

    def load(self, key):
        """The stored row of ``key``, or ``None`` when absent or corrupt."""
        try:
            with open(self.path(key), "rb") as f:
                blob = f.read()
        except OSError:
            return None
        expected = _HEADER.size + 8 * self.n_features + _CHECKSUM_SIZE
        if len(blob) != expected:
            return None
        body, checksum = blob[:-_CHECKSUM_SIZE], blob[-_CHECKSUM_SIZE:]
        magic, stored_key, n = _HEADER.unpack_from(body)
        if (
            magic != _MAGIC
            or stored_key != key
            or n != self.n_features
            or hashlib.sha256(body).digest() != checksum
        ):
            return None
        return np.frombuffer(body, dtype="<f8", offset=_HEADER.size).astype(np.float64)

    def store(self, key, row):
        """Write the entry of ``key`` atomically.

        Returns
        -------
        problem : str or None
            Why the entry could not be written (never raised: the row is
            still the caller's), or ``None``.
        """
        row = np.ascontiguousarray(row, dtype="<f8").ravel()
        if row.size != self.n_features:
            return None
        body = _HEADER.pack(_MAGIC, key, row.size) + row.tobytes()
        blob = body + hashlib.sha256(body).digest()
        final = self.path(key)
        tmp = f"{final}.{os.getpid()}-{threading.get_ident()}-{uuid.uuid4().hex}.tmp"
        try:
            os.makedirs(os.path.dirname(final), exist_ok=True)
            with open(tmp, "xb") as f:
                f.write(blob)
            os.replace(tmp, final)
        except OSError as exc:
            _remove_quietly(tmp)
            if not os.path.exists(final):  # else another writer got there first
                return f"could not write {final!r} ({exc})"
        return None

    def unchanged(self, image, signature):
        """True unless ``image`` (or its mask) is a file whose size or mtime changed since keyed."""
        if signature is None:
            return True
        if isinstance(image, tuple) and len(image) == 2:  # (image, mask): both unchanged
            return all(self.unchanged(part, sig) for part, sig in zip(image, signature))
        try:
            return _file_signature(image) == signature
        except OSError:
            return False


def _hash_content(hasher, image):
    """Feed ``image``'s content into ``hasher``; its file signature, or None.

    Raises ValueError for an object that cannot be keyed.
    """
    if isinstance(image, (str, os.PathLike)):
        signature, digest = file_digest(image)
        hasher.update(b"\0file\0")
        hasher.update(digest)
        # Pillow refuses a file of over 2 * MAX_IMAGE_PIXELS pixels (a decompression bomb):
        # keyed on the limit of the process that reads it, a row is served only where the
        # file was read under the same limit, never where a lower one refuses the file.
        hasher.update(repr(Image.MAX_IMAGE_PIXELS).encode())
        return signature
    if isinstance(image, Image.Image):
        hasher.update(b"\0pil\0")
        hasher.update(repr((image.mode, image.size)).encode())
        palette = image.getpalette() if image.mode in ("P", "PA") else None
        hasher.update(repr((palette, image.info.get("transparency"))).encode())
        hasher.update(image.tobytes())
        return None
    array = np.asarray(image)
    if array.dtype.kind not in "biuf":
        raise ValueError("an array of this dtype cannot be keyed")
    hasher.update(b"\0array\0")
    hasher.update(repr((array.dtype.str, array.shape)).encode())
    hasher.update(np.ascontiguousarray(array).data)
    return None


def make_cache(memory, settings):
    """The :class:`FeatureCache` of a ``memory`` parameter, or ``None``.

    ``memory`` is ``None`` (no cache), a folder path, or a :class:`joblib.Memory`
    whose ``location`` is used as the folder (``location=None``: no cache).
    The folder is created here, in the caller's process, so that a bad path
    is found at once rather than in every worker. A folder that cannot be
    created (read-only file system) still gives a cache: entries already in
    it are read, and failed writes are reported once per transform.
    """
    if memory is None:
        return None
    if isinstance(memory, (str, os.PathLike)):
        folder = memory
    else:
        folder = getattr(memory, "location", None)
        if folder is None:
            return None
        if not isinstance(folder, (str, os.PathLike)):
            raise ValueError(
                "memory must be None, a folder path or a joblib.Memory with a "
                f"location on disk; got {memory!r} with location {folder!r}"
            )
    cache = FeatureCache(folder, settings)
    try:
        os.makedirs(cache.root, exist_ok=True)
    except OSError:
        pass  # reported by the writes, once per transform
    return cache


def cached_featurize_batch(cache, featurize_batch, samples, indices, *args):
    """``featurize_batch(samples, indices, *args)`` through ``cache``: hits skip the computation.

    Returns one ``(row, error, cache_problem)`` per sample, in order:
    ``featurize_batch``'s result and why the row could not be stored, if it
    could not. The samples missing from the cache are computed together, as
    one batch.

    Module-level (with ``cache`` a plain object) so that it pickles by
    reference when joblib ships it to processes or Dask workers; the worker
    receives the paths and hashes the files itself.
    """
    results = [None] * len(samples)
    missing = []
    for k, sample in enumerate(samples):
        key, signature = cache.key(sample)
        row = cache.load(key) if key is not None else None
        if row is not None:
            results[k] = (row, None, None)
        else:
            missing.append((k, key, signature))
    computed = featurize_batch([samples[k] for k, _, _ in missing],
                               [indices[k] for k, _, _ in missing], *args)
    # Rows read while Pillow fills truncated files (the program's LOAD_TRUNCATED_IMAGES) may
    # be of a file the default reading refuses: not stored, never served to such a reading.
    storing = not ImageFile.LOAD_TRUNCATED_IMAGES
    for (k, key, signature), (row, error) in zip(missing, computed):
        problem = None
        if (storing and key is not None and error is None
                and cache.unchanged(samples[k], signature)):
            problem = cache.store(key, row)
        results[k] = (row, error, problem)
    return results


def _file_signature(path):
    """What changes whenever a file's content may have: identity, size, mtime, ctime.

    ``st_ctime_ns`` moves on every write and cannot be set by users (``touch``,
    ``cp -p`` and ``rsync -t`` set only ``mtime``).
    """
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


# Content digests of files already hashed by this process, by their stat
# signature, so that the folds of a cross-validation read each file once to
# hash it rather than once per fold. Like git's index, a digest is remembered
# only when the file's timestamps are older than _RACY_NS at hashing time: a
# rewrite within the same timestamp tick cannot then go unnoticed.
_DIGESTS = {}
_MAX_DIGESTS = 1 << 18
_RACY_NS = 2_000_000_000


def file_digest(path):
    """``(signature, sha256 of the file's bytes)``, remembered while the file is unchanged."""
    signature = _file_signature(path)
    digest = _DIGESTS.get(signature)
    if digest is not None:
        return signature, digest
    hasher = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            hasher.update(chunk)
    digest = hasher.digest()
    _, _, _, mtime_ns, ctime_ns = signature
    settled = time.time_ns() - max(mtime_ns, ctime_ns) > _RACY_NS
    if settled and _file_signature(path) == signature:
        if len(_DIGESTS) >= _MAX_DIGESTS:
            _DIGESTS.clear()
        _DIGESTS[signature] = digest
    return signature, digest


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass
