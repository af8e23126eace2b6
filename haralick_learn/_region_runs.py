"""A region table written as it goes, so that an interrupted run resumes where it stopped.

The ``regions`` command's runs. Each run works in a hidden directory beside
its output, ``.NAME.KEY.regions``, where ``KEY`` is a hash of the inputs
(each file's path, size and modification time; every file of a Zarr store),
the settings, ``on_error``, the tile shape and the package's version. It holds:

* ``plan.npz``: each region's label, bounding box and pixel count (the survey);
* ``rows.npy``: one row of features per region, in label order, filled as
  batches finish;
* ``done``: the finished batches, one number a line, each written after its
  rows.

A rerun with the same key reads them and computes the batches not listed; a
changed input or setting makes another key, so nothing of another run is
taken. The output file appears only at the end, whole (written under a
temporary name and renamed), and the work directory is then removed: an
interrupted run leaves no file that looks complete.
"""

import contextlib
import csv
import hashlib
import json
import os
import shutil
import time

import numpy as np

from .io.files import atomic_output
from ._progress import Progress
from ._region_tiles import BATCH_REGIONS, RegionPlan, region_table
from ._regions import region_columns
from ._version import __version__

__all__ = ["run_key", "work_directory", "write_region_table"]

#: Rows written to the output at a time (a Parquet row group).
_CHUNK_ROWS = 65536
#: Changes when the work directory's files change meaning.
_FORMAT = 1
#: Seconds between writes of the finished batches to disk (and at the end, or on Ctrl-C).
_SYNC_SECONDS = 5.0


def run_key(inputs, settings, on_error, tile_shape):
    """The hash (hex) that names a run's work directory: inputs, settings and version.

    ``inputs``: the image and labels as given (paths are described by their
    files' sizes and modification times, arrays by their bytes).
    """
    description = {
        "format": _FORMAT,
        "version": __version__,
        "inputs": [_describe_input(source) for source in inputs],
        "settings": settings.cache_key().decode(),
        "on_error": on_error,
        "tile_shape": [int(n) for n in tile_shape],
        "batch": BATCH_REGIONS,
    }
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()


def _describe_input(source):
    if isinstance(source, (str, os.PathLike)):
        path = os.path.realpath(source)
        if os.path.isdir(path):
            digest = hashlib.sha256()
            for folder, subfolders, files in os.walk(path):
                subfolders.sort()
                for name in sorted(files):
                    full = os.path.join(folder, name)
                    stat = os.stat(full)
                    digest.update(f"{os.path.relpath(full, path)}\0{stat.st_size}\0"
                                  f"{stat.st_mtime_ns}\n".encode())
            return [path, digest.hexdigest()]
        stat = os.stat(path)
        return [path, stat.st_size, stat.st_mtime_ns]
    array = np.ascontiguousarray(source)
    return [str(array.dtype), list(array.shape), hashlib.sha256(array.data).hexdigest()]


def work_directory(output, key):
    """The hidden work directory of the run ``key`` writing ``output``: beside it."""
    folder, name = os.path.split(os.path.realpath(output))
    return os.path.join(folder, f".{name}.{key[:16]}.regions")


def write_region_table(tiles, output, key, *, n_jobs=None, verbose=0, say=None):
    """Compute the region table of ``tiles`` into ``output`` (.csv or .parquet), resumably.

    Parameters
    ----------
    tiles : RegionTiles
    output : str
    key : str
        :func:`run_key` of the run.
    n_jobs : int, optional
        As for :func:`~haralick_learn.region_features`.
    verbose : int
        Progress bars on standard error when positive.
    say : callable, optional
        Called with a line for the user (a resumed run says what it found).

    Returns
    -------
    plan : RegionPlan
    failed : ndarray
        The labels whose row is NaN (``on_error="nan"``).
    """
    work = work_directory(output, key)
    others = [path for path in _work_directories(output) if path != work]
    if others and say is not None:
        say(f"unfinished runs of other inputs or settings beside the output (remove them "
            f"unless you will resume them): {', '.join(others)}")
    os.makedirs(work, exist_ok=True)
    try:
        plan, failed = _run(tiles, output, work, n_jobs, verbose, say)
    except (ValueError, TypeError):
        # A data error (a region without pixel pairs, a damaged chunk) stops a rerun at the
        # same place: nothing is worth resuming. An interruption or an OSError keeps it.
        shutil.rmtree(work, ignore_errors=True)
        raise
    shutil.rmtree(work, ignore_errors=True)
    return plan, failed


def _work_directories(output):
    folder, name = os.path.split(os.path.realpath(output))
    prefix = f".{name}."
    with contextlib.suppress(OSError):
        return sorted(os.path.join(folder, entry) for entry in os.listdir(folder)
                      if entry.startswith(prefix) and entry.endswith(".regions")
                      and len(entry) == len(prefix) + 16 + len(".regions"))
    return []


def _run(tiles, output, work, n_jobs, verbose, say):
    with _locked(work):
        plan = _plan(tiles, work, n_jobs, verbose)
        batches = tiles.batches(plan)
        n_features = tiles.settings.n_features
        rows = _rows_file(work, len(plan), n_features)
        done = _finished(work, len(batches))
        if done and say is not None:
            regions = sum(len(batches[i].regions) for i in done)
            say(f"resuming the unfinished run in {work}: {len(done)} of {len(batches)} "
                f"batches ({regions} of {len(plan)} regions) already computed")
        pending = [batch for batch in batches if batch.index not in done]
        progress = Progress(sum(len(batch.regions) for batch in pending), enabled=verbose > 0,
                            label="Regions", unit="regions")
        with open(os.path.join(work, "done"), "a", encoding="ascii") as log:
            finished, last = [], time.monotonic()
            try:
                for batch, batch_rows in tiles.rows(plan, pending, n_jobs):
                    rows[batch.regions] = batch_rows
                    finished.append(batch.index)
                    progress.update(len(batch.regions))
                    if time.monotonic() - last > _SYNC_SECONDS:
                        _record(rows, log, finished)
                        rows = _remapped(rows)
                        last = time.monotonic()
            finally:  # Ctrl-C included: the batches finished so far are kept
                _record(rows, log, finished)
        progress.close()
        if rows is None:
            rows = np.empty((0, n_features))
        failed = _failed(plan, rows)
        _write(output, plan, rows, tiles.settings.feature_names)
        del rows
    return plan, failed


@contextlib.contextmanager
def _locked(work):
    """Hold the work directory: a second run of the same key fails instead of mixing rows."""
    try:
        import fcntl
    except ImportError:  # no advisory locks (Windows): one run at a time is the user's care
        yield
        return
    with open(os.path.join(work, "lock"), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            # An OSError, not a data error: the other run's directory is left as it is.
            raise BlockingIOError(f"another run is writing this table (its work directory "
                                  f"{work} is in use)") from None
        yield


def _plan(tiles, work, n_jobs, verbose):
    path = os.path.join(work, "plan.npz")
    if os.path.exists(path):
        with contextlib.suppress(OSError, ValueError, KeyError):
            return RegionPlan.load(path)
    plan = tiles.survey(n_jobs, verbose)
    temporary = os.path.join(work, "plan.partial.npz")
    plan.save(temporary)
    os.replace(temporary, path)
    return plan


def _rows_file(work, n_regions, n_features):
    """The rows (a memory map of ``rows.npy``), made when missing; None without regions."""
    if n_regions == 0:
        return None
    path = os.path.join(work, "rows.npy")
    if os.path.exists(path):
        try:
            rows = np.lib.format.open_memmap(path, mode="r+")
            if rows.shape == (n_regions, n_features) and rows.dtype == np.float64:
                return rows
        except (OSError, ValueError):
            pass
        # Not this plan's (a damaged file): nothing finished can be trusted.
        with contextlib.suppress(OSError):
            os.remove(os.path.join(work, "done"))
    temporary = os.path.join(work, "rows.partial.npy")
    made = np.lib.format.open_memmap(temporary, mode="w+", dtype=np.float64,
                                     shape=(n_regions, n_features))
    made.flush()
    del made
    os.replace(temporary, path)
    return np.lib.format.open_memmap(path, mode="r+")


def _record(rows, log, finished):
    """List ``finished`` batches as done, once their rows are on disk (not only in memory)."""
    if not finished:
        return
    # A killed process's rows are safe in the system's cache; a machine that stops may lose
    # them unless synced, so a batch is listed only after its rows are.
    rows.flush()
    log.write("".join(f"{index}\n" for index in finished))
    log.flush()
    os.fsync(log.fileno())
    finished.clear()


def _remapped(rows):
    """The rows file mapped afresh, once its rows are on disk: the old map's pages leave the
    process (the system keeps them as cached file pages, written out and dropped as it needs),
    so that its resident memory follows the batches of a few seconds, not the table."""
    return np.lib.format.open_memmap(rows.filename, mode="r+")


def _rows_part(rows, part):
    """A copy of the rows ``part`` (a slice), the file mapped for that part only: reading the
    whole table a part at a time holds one part in memory."""
    if not isinstance(rows, np.memmap):
        return rows[part]
    start, stop, _ = part.indices(len(rows))
    if stop <= start:
        return rows[part]
    width = rows.shape[1]
    mapped = np.memmap(rows.filename, dtype=rows.dtype, mode="r", shape=(stop - start, width),
                       offset=rows.offset + start * width * rows.dtype.itemsize)
    return np.array(mapped)


def _finished(work, n_batches):
    """The batches the ``done`` list names (its last line only when whole)."""
    path = os.path.join(work, "done")
    if not os.path.exists(path):
        return set()
    with open(path, encoding="ascii", errors="replace") as log:
        lines = log.read().split("\n")[:-1]  # the text after the last newline is not whole
    return {int(line) for line in lines if line.isdigit() and int(line) < n_batches}


def _failed(plan, rows):
    """Labels whose row is all NaN, read a chunk at a time."""
    failed = [plan.ids[start : start + _CHUNK_ROWS][
        np.isnan(_rows_part(rows, slice(start, start + _CHUNK_ROWS))).all(axis=1)]
        for start in range(0, len(plan), _CHUNK_ROWS)]
    return np.concatenate(failed) if failed else plan.ids[:0]


def _chunks(plan, rows, feature_names):
    """The table a chunk of rows at a time (DataFrames)."""
    if not len(plan):
        yield region_table(plan, rows, feature_names)
        return
    for start in range(0, len(plan), _CHUNK_ROWS):
        part = slice(start, start + _CHUNK_ROWS)
        yield region_table(RegionPlan(plan.ids[part], plan.boxes[part], plan.counts[part]),
                           _rows_part(rows, part), feature_names)


def _write(output, plan, rows, feature_names):
    with atomic_output(output) as temporary:
        if output.lower().endswith(".parquet"):
            _write_parquet(temporary, _chunks(plan, rows, feature_names))
        else:
            _write_csv(temporary, _chunks(plan, rows, feature_names),
                       len(region_columns(plan.boxes.shape[1] // 2)))


def _write_parquet(path, tables):
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for table in tables:
            arrow = pa.Table.from_pandas(table, preserve_index=False)
            if writer is None:
                # no dictionaries: a table's features (and labels) are mostly distinct values,
                # which Parquet's default tries to encode in dictionaries first (for a million
                # rows, seconds and a larger file)
                writer = pq.ParquetWriter(path, arrow.schema, use_dictionary=False)
            writer.write_table(arrow)
    finally:
        if writer is not None:
            writer.close()


def _write_csv(path, tables, n_whole):
    """Integers as they are, features as ``repr``: read back bit for bit."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        for number, table in enumerate(tables):
            if number == 0:
                writer.writerow(table.columns)
            whole = table.columns[:n_whole]
            features = table[table.columns[n_whole:]].to_numpy(np.float64)
            for values, row in zip(zip(*(table[name].to_numpy() for name in whole)), features):
                writer.writerow([*(int(value) for value in values),
                                 *(repr(float(value)) for value in row)])
