"""The file ``haralick-learn index`` writes and ``similar --index`` reads.

An index file is one ``.npz`` archive of plain arrays, read with
``np.load(..., allow_pickle=False)``: loading it runs no code, so an index
received from someone else is safe to open. It holds

* ``metadata``: UTF-8 JSON (as ``uint8``): the format's name and version,
  the haralick_learn version, the featurizer's parameters, the feature
  names, the search's parameters, the folder and the images' absolute paths;
* ``features``: the images' feature rows, before scaling;
* ``scaler_mean``, ``scaler_var``, ``scaler_scale``: the fitted
  ``StandardScaler``;
* ``file_size``, ``file_mtime_ns``, ``file_blake2b``: what identifies each
  image's content when it was featurized, to find images changed since.

The scaler and the search are rebuilt from these arrays; the search is
fitted on the scaled rows, as ``haralick-learn similar`` fits it.
"""

import hashlib
import json
import math
import os
import zipfile

import numpy as np

from ..io.files import atomic_output

#: The format's name, in the metadata of every index file.
FORMAT = "haralick-learn index"
#: The newest format version this module reads and the one it writes. (Version
#: 1 was a pickle, never loaded: loading a pickle can run code.)
FORMAT_VERSION = 2
#: Metadata keys every index file has.
METADATA_KEYS = ("format", "format_version", "haralick_learn_version", "folder", "paths",
                 "feature_names", "feature_params", "n_samples_seen", "search")
#: Digest size of the content hash, in bytes.
DIGEST_SIZE = 32
#: ``random_state`` of an approximate graph, built anew each time an index is
#: loaded: the same graph, so the same answers, on every load.
GRAPH_RANDOM_STATE = 0


class IndexFileError(ValueError):
    """An index file that cannot be used: its message names the file and why."""


def _refuse(path, reason):
    return IndexFileError(f"index {os.fspath(path)!r}: {reason}")


def file_identity(path):
    """``(size, mtime_ns, blake2b digest)`` of a file, what identifies its content.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    size : int
        Its size in bytes.
    mtime_ns : int
        Its modification time, in nanoseconds.
    digest : bytes
        The BLAKE2b hash (32 bytes) of its bytes.
    """
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns, content_digest(path)


def content_digest(path):
    """The BLAKE2b hash (32 bytes) of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.blake2b(digest_size=DIGEST_SIZE)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()


def jsonable_params(params):
    """``params`` as JSON gives them back (tuples become lists); refuses other values.

    Raises
    ------
    ValueError
        Naming a parameter whose value JSON cannot hold (an array, a callable).
    """
    out = {}
    for key, value in params.items():
        try:
            out[key] = json.loads(json.dumps(value, allow_nan=False))
        except (TypeError, ValueError):
            raise ValueError(f"featurizer parameter {key}={value!r} cannot be saved in an "
                             "index (JSON holds numbers, strings, lists and None)") from None
    return out


def write_index(path, *, folder, paths, identities, features, feature_names, feature_params,
                scaler, algorithm, algorithm_params, version):
    """Write an index file, under a temporary name renamed at the end.

    An interrupted write leaves no file at ``path`` (nor one that looks
    complete). The name is used as given (``np.savez`` would add ``.npz``).

    Parameters
    ----------
    path : str
        The index file to write.
    folder : str
        The folder (or glob) indexed, absolute.
    paths : list of str
        The images' absolute paths, one per row of ``features``.
    identities : list of tuple
        :func:`file_identity` of each image, taken before it was featurized.
    features : ndarray of shape (n_images, n_features)
        The feature rows, before scaling.
    feature_names : list of str
        The names of the columns of ``features``.
    feature_params : dict
        The featurizer's parameters that change a row (JSON values).
    scaler : sklearn.preprocessing.StandardScaler
        Fitted on ``features``.
    algorithm : {"brute", "nndescent"}
        The search.
    algorithm_params : dict or None
        The search's ``algorithm_params`` (JSON values).
    version : str
        The haralick_learn version that featurized the rows.
    """
    features = np.asarray(features, dtype=np.float64)
    metadata = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "haralick_learn_version": version,
        "folder": folder, "paths": list(paths), "feature_names": list(feature_names),
        "feature_params": jsonable_params(feature_params),
        "n_samples_seen": int(scaler.n_samples_seen_),
        "search": {"algorithm": algorithm, "metric": "euclidean",
                   "algorithm_params": algorithm_params},
    }
    arrays = {
        "metadata": np.frombuffer(json.dumps(metadata).encode("utf-8"), dtype=np.uint8),
        "features": features,
        "scaler_mean": np.asarray(scaler.mean_, dtype=np.float64),
        "scaler_var": np.asarray(scaler.var_, dtype=np.float64),
        "scaler_scale": np.asarray(scaler.scale_, dtype=np.float64),
        "file_size": np.array([size for size, _, _ in identities], dtype=np.int64),
        "file_mtime_ns": np.array([mtime for _, mtime, _ in identities], dtype=np.int64),
        "file_blake2b": np.array([list(digest) for _, _, digest in identities],
                                 dtype=np.uint8).reshape(len(identities), DIGEST_SIZE),
    }
    with atomic_output(path) as temporary, open(temporary, "wb") as f:
        np.savez(f, **arrays)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


#: The approximate graph's parameters an index file may set, and the values each may take:
#: others would fail deep inside pynndescent (numba's typing errors) or numpy's seeding.
_GRAPH_PARAMS = {
    "random_state": lambda value: _is_int(value) and 0 <= value < 2**32,
    "n_jobs": lambda value: _is_int(value) and value != 0,
    "n_neighbors": lambda value: _is_int(value) and value >= 1,
    "epsilon": lambda value: (isinstance(value, (int, float)) and not isinstance(value, bool)
                              and math.isfinite(value) and value >= 0),
}
#: Each array of an index file: its dtype and shape, in terms of the images
#: (n) and the features (f).
_ARRAYS = {
    "features": (np.float64, ("n", "f")),
    "scaler_mean": (np.float64, ("f",)),
    "scaler_var": (np.float64, ("f",)),
    "scaler_scale": (np.float64, ("f",)),
    "file_size": (np.int64, ("n",)),
    "file_mtime_ns": (np.int64, ("n",)),
    "file_blake2b": (np.uint8, ("n", DIGEST_SIZE)),
}


def read_index(path):
    """The metadata and arrays of an index file, checked; no code runs.

    Parameters
    ----------
    path : str
        An index file written by :func:`write_index`.

    Returns
    -------
    index : dict
        The metadata's keys, and each array of the file by its name.

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    IndexFileError
        A ``ValueError`` naming the file and the reason: not an ``.npz``
        archive (e.g. a pickle, never loaded), no or malformed metadata, a
        missing key or array, a newer format version, inconsistent arrays.
    """
    with open(path, "rb") as f:
        head = f.read(4)
    if not head.startswith(b"PK"):  # every .npz (zip archive) starts so
        if head[:1] == b"\x80" or head[:2] in (b"ZF", b"\x1f\x8b"):
            raise _refuse(path, "a pickle (as indexes of earlier haralick_learn versions "
                                "were, or another program's), refused: loading a pickle can "
                                "run code; rebuild the index with 'haralick-learn index'")
        raise _refuse(path, "not an index written by 'haralick-learn index' (not an .npz "
                            "archive)")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise _refuse(path, f"cannot be read ({type(exc).__name__}: {str(exc)[:200]})") from None
    with archive:
        if "metadata" not in archive.files:
            raise _refuse(path, "not an index written by 'haralick-learn index' (an .npz "
                                "archive without metadata)")
        try:
            raw = archive["metadata"]
            if raw.dtype != np.uint8 or raw.ndim != 1:
                raise ValueError("not UTF-8 bytes")
            metadata = json.loads(raw.tobytes().decode("utf-8"))
        except (ValueError, OSError, zipfile.BadZipFile) as exc:
            raise _refuse(path, f"its metadata cannot be read ({str(exc)[:200]})") from None
        if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
            raise _refuse(path, "not an index written by 'haralick-learn index' (its "
                                "metadata names no such format)")
        version = metadata.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise _refuse(path, f"its metadata's format_version is {version!r}, not a number")
        if version > FORMAT_VERSION:
            raise _refuse(path, f"written in index format version {version}, newer than this "
                                f"haralick_learn reads ({FORMAT_VERSION}): upgrade haralick_learn "
                                "or rebuild the index")
        missing = [key for key in METADATA_KEYS if key not in metadata]
        if missing:
            raise _refuse(path, f"its metadata has no {', '.join(map(repr, missing))}: the "
                                "file is damaged or not written by 'haralick-learn index'")
        index = {key: metadata[key] for key in METADATA_KEYS}
        for name in _ARRAYS:
            if name not in archive.files:
                raise _refuse(path, f"it has no {name!r} array: the file is damaged or not "
                                    "written by 'haralick-learn index'")
            try:
                index[name] = archive[name]
            except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
                raise _refuse(path, f"its {name!r} array cannot be read "
                                    f"({str(exc)[:200]})") from None
    _check_index(path, index)
    return index


def _check_index(path, index):
    """Refuse metadata and arrays that do not fit together (a damaged or forged file)."""
    paths, names = index["paths"], index["feature_names"]
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths) or not paths:
        raise _refuse(path, "its metadata's 'paths' is not a list of image paths")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or not names:
        raise _refuse(path, "its metadata's 'feature_names' is not a list of names")
    if not isinstance(index["folder"], str):  # queries are looked for in it by name
        raise _refuse(path, "its metadata's 'folder' is not a path")
    if not isinstance(index["feature_params"], dict):
        raise _refuse(path, "its metadata's 'feature_params' is not a dictionary")
    search = index["search"]
    params = search.get("algorithm_params") if isinstance(search, dict) else None
    if not isinstance(search, dict) or search.get("algorithm") not in ("brute", "nndescent") \
            or search.get("metric", "euclidean") != "euclidean" \
            or not isinstance(params or {}, dict) or any(
                key not in _GRAPH_PARAMS or not _GRAPH_PARAMS[key](value)
                for key, value in (params or {}).items()):
        raise _refuse(path, f"its metadata's search {search!r} is not one this "
                            "haralick_learn builds")
    seen = index["n_samples_seen"]
    if not isinstance(seen, int) or isinstance(seen, bool) or seen < 1:
        raise _refuse(path, f"its metadata's n_samples_seen {seen!r} is not a count")
    sizes = {"n": len(paths), "f": len(names)}
    for name, (dtype, shape) in _ARRAYS.items():
        array = index[name]
        wanted = tuple(sizes.get(axis, axis) for axis in shape)
        if array.dtype != dtype or array.shape != wanted:
            raise _refuse(path, f"its {name!r} array is {array.dtype} {array.shape}, not "
                                f"{np.dtype(dtype)} {wanted} ({len(paths)} images, "
                                f"{len(names)} features)")
    if not np.isfinite(index["features"]).all():
        raise _refuse(path, "its feature rows are not all numbers")
    scale = index["scaler_scale"]
    if not (np.isfinite(scale).all() and (scale > 0).all()
            and np.isfinite(index["scaler_mean"]).all()):
        raise _refuse(path, "its scaler's mean and scale are not all finite, positive numbers")


def fitted_scaler(index):
    """The ``StandardScaler`` of an index, rebuilt from its arrays."""
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler()
    scaler.mean_ = index["scaler_mean"]
    scaler.var_ = index["scaler_var"]
    scaler.scale_ = index["scaler_scale"]
    scaler.n_samples_seen_ = index["n_samples_seen"]
    scaler.n_features_in_ = index["scaler_mean"].shape[0]
    return scaler


def changed_files(index):
    """The images of an index whose file changed or is gone since they were featurized.

    A file whose size and modification time are those stored is unchanged
    (as make, rsync and git decide); otherwise its content hash decides, so
    a file touched or copied back keeps its row.

    Returns
    -------
    changed : list of int
        Indices of the images whose content differs.
    missing : list of int
        Indices of the images whose file no longer exists.
    """
    changed, missing = [], []
    for i, path in enumerate(index["paths"]):
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            missing.append(i)
            continue
        if (stat.st_size == index["file_size"][i]
                and stat.st_mtime_ns == index["file_mtime_ns"][i]):
            continue
        if not os.path.isfile(path):
            missing.append(i)
        elif content_digest(path) != index["file_blake2b"][i].tobytes():
            changed.append(i)
    return changed, missing
