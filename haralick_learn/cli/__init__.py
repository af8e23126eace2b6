"""The ``haralick-learn`` command.

Exit codes: 0 success, 1 runtime error (one line on standard error, e.g. an
unreadable image), 2 usage error (argparse's message and usage).
"""

import argparse
import contextlib
import csv
import fnmatch
import glob
import json
import os
import re
import sys
import textwrap
import warnings

from ..io.files import atomic_output
from .._params import argparse_arguments, parameter, parameter_names

#: Files a directory contributes, by extension (case-insensitive).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".gif", ".webp")
#: Files a directory contributes with ``--volume``.
VOLUME_EXTENSIONS = (".tif", ".tiff", ".nii", ".nii.gz", ".nrrd")


class CommandError(Exception):
    """A runtime error reported as one line, exit code 1."""


def find_images(source, *, recursive=False, extensions=IMAGE_EXTENSIONS):
    """Sorted image files of a directory, or the files a glob pattern matches.

    A directory gives its files with an image extension (``IMAGE_EXTENSIONS``,
    any case), hidden files excluded, with its subdirectories when
    ``recursive``; a glob pattern gives the files it matches (``**`` spans
    directories when ``recursive``); a file gives itself. Symbolic links to
    directories are not entered when searching subdirectories (a link to a
    parent would loop or repeat files); links to files are listed.
    """
    if os.path.isdir(source):
        if recursive:
            found = [os.path.join(folder, name) for folder, dirs, names in os.walk(source)
                     for name in names]
        else:
            found = [os.path.join(source, name) for name in os.listdir(source)]
        found = [path for path in found if os.path.isfile(path)
                 and not os.path.basename(path).startswith(".")
                 and path.lower().endswith(extensions)]
        if not found:
            raise CommandError(
                f"no image files in {source!r} (looked for {', '.join(extensions)}"
                f"{'' if recursive else '; --recursive searches subdirectories'})"
            )
    elif glob.has_magic(source):
        if recursive and "**" in source:
            found = _recursive_glob(source)
        else:
            found = glob.glob(source)
        found = [path for path in found if os.path.isfile(path)]
        if not found:
            raise CommandError(f"no files match {source!r}")
    elif os.path.isfile(source):
        found = [source]
    else:
        raise CommandError(f"{source!r}: no such directory, file or glob pattern")
    return sorted(found)


def _recursive_glob(pattern):
    """``glob.glob(pattern, recursive=True)`` without entering linked directories.

    glob's ``**`` follows symbolic links to directories, so a link to a parent
    repeats every file through it, and a loop of links does not end. Here the
    folder before the first wildcard is walked with ``os.walk`` (links to
    directories are not entered, as for a folder), and each file's path is
    matched part by part: ``**`` spans zero or more folders, a wildcard does
    not match a hidden name unless its part starts with ``.``, as in glob.
    """
    parts = pattern.replace(os.altsep, os.sep).split(os.sep) if os.altsep else pattern.split(os.sep)
    fixed = 0
    while fixed < len(parts) - 1 and not glob.has_magic(parts[fixed]):
        fixed += 1
    top = os.sep.join(parts[:fixed]) if fixed else ""
    if fixed == 1 and parts[0] == "":
        top = os.sep  # the pattern starts at the root
    wanted = parts[fixed:]
    found = []
    for folder, _, names in os.walk(top or os.curdir):
        inside = os.path.relpath(folder, top or os.curdir)
        inside = [] if inside == os.curdir else inside.split(os.sep)
        found += [os.path.join(top, *inside, name) for name in names
                  if _glob_match(wanted, [*inside, name])]
    return found


def _glob_match(pattern_parts, path_parts):
    """Whether the path's parts match the pattern's, with glob's meaning of ``**``."""
    if not pattern_parts:
        return not path_parts
    head, rest = pattern_parts[0], pattern_parts[1:]
    if head == "**":
        for skip in range(len(path_parts) + 1):
            if _glob_match(rest, path_parts[skip:]):
                return True
            if skip < len(path_parts) and path_parts[skip].startswith("."):
                return False  # ** does not span hidden folders (nor match hidden files)
        return False
    if not path_parts:
        return False
    name = path_parts[0]
    if name.startswith(".") and not head.startswith("."):
        return False
    return fnmatch.fnmatch(name, head) and _glob_match(rest, path_parts[1:])


def _count(n, noun):
    """``1 image``, ``2 images``; ``1 class``, ``2 classes``."""
    if n == 1:
        return f"{n} {noun}"
    return f"{n} {noun}{'es' if noun.endswith('s') else 's'}"


def _warn(args, text):
    print(f"haralick-learn {args.command}: warning: {text}", file=sys.stderr)


def _either(items):
    """``a``, ``a or b``, ``a, b or c``."""
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _check_output(path, *, suffixes=None, writes=None):
    """Fail before any featurizing if ``path`` cannot be written (``None``, ``-``: nothing).

    ``suffixes``: the lower-case suffixes the file may end in (any case);
    ``writes`` says what is written in them, for the error.
    """
    if path is None or path == "-":
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        reason = "not a directory" if os.path.exists(folder) else "no such directory"
        raise CommandError(f"cannot write {path!r}: {reason} {folder!r}")
    if os.path.isdir(path):
        raise CommandError(f"cannot write {path!r}: it is a directory")
    if not os.access(folder, os.W_OK | os.X_OK) or (
        os.path.exists(path) and not os.access(path, os.W_OK)
    ):
        raise CommandError(f"cannot write {path!r}: permission denied")
    if suffixes is not None and not path.lower().endswith(tuple(suffixes)):
        raise CommandError(f"cannot write {path!r}: {writes}; the file must end in "
                           f"{_either(suffixes)} (any case)")


def _refuse_inputs(path, inputs):
    """Fail if ``path`` is one of the files ``inputs`` (by any name: a link, ``./x``...)."""
    if path is None or path == "-" or not os.path.exists(path):
        return
    written = os.stat(path)
    for source in inputs:
        try:
            same = os.path.samestat(written, os.stat(source))
        except OSError:  # an input that is gone is reported where it is read
            continue
        if same:
            raise CommandError(f"cannot write {path!r}: it is the input image {source!r}")


#: What ``featurize -o`` writes.
CSV_SUFFIXES = (".csv",)
#: What ``map -o`` writes.
MAP_SUFFIXES = (".tif", ".tiff", ".npy", ".zarr")


def _figure_suffixes():
    """The suffixes of the formats matplotlib writes a figure in (``.png``, ``.pdf``...)."""
    from matplotlib.backend_bases import FigureCanvasBase

    return tuple(f".{kind}" for kind in sorted(FigureCanvasBase.get_supported_filetypes()))


def _check_figure(path):
    if path is None:
        return
    _check_output(path, suffixes=_figure_suffixes(), writes="the figure is written by matplotlib")


#: The compiled kernels of each kind of work: their module, what they compute, and about
#: how long their first run on a machine compiles them.
_KERNELS = {
    "features": ("haralick_learn.texture.counting", "feature", "a few seconds"),
    "maps": ("haralick_learn.texture.windowed", "texture-map", "about 10 s"),
}


def _say_if_compiling(args, kind):
    """One line on standard error before work whose kernels this machine has not compiled.

    numba compiles them on their first run here and caches them on disk: later
    runs load them in a moment, and say nothing.
    """
    from .._numba_cache import compiled_here

    module, what, duration = _KERNELS[kind]
    said = vars(args).setdefault("_compiling_said", set())
    if kind in said or compiled_here(module):
        return
    said.add(kind)
    print(f"haralick-learn {args.command}: compiling the {what} kernels, once per machine "
          f"({duration}); later runs load them from numba's cache", file=sys.stderr, flush=True)


def _rows(args, featurizer, images):
    """``featurizer.fit_transform(images)``, said first if its kernels compile."""
    _say_if_compiling(args, "features")
    return featurizer.fit_transform(images)


def _featurizer(args, verbose=1):
    from .. import HaralickFeaturizer

    return HaralickFeaturizer(n_jobs=args.n_jobs, verbose=verbose,
                              on_error=getattr(args, "on_error", "raise"),
                              **{name: getattr(args, name) for name in parameter_names()})


def _stem(name):
    """A file name without its image or volume extension (``a.nii.gz`` -> ``a``)."""
    lower = name.lower()
    for extension in sorted(set(IMAGE_EXTENSIONS + VOLUME_EXTENSIONS), key=len, reverse=True):
        if lower.endswith(extension):
            return name[: -len(extension)]
    return os.path.splitext(name)[0]


def image_root(source):
    """The folder image paths of ``source`` are relative to, for matching masks.

    A folder is its own root; a glob pattern's root is the folder before its
    first wildcard (``photos/**/*.png`` -> ``photos``); a file's root is its
    folder.
    """
    if os.path.isdir(source):
        return source
    if glob.has_magic(source):
        parts = (source.replace(os.altsep, os.sep) if os.altsep else source).split(os.sep)
        fixed = 0
        while fixed < len(parts) - 1 and not glob.has_magic(parts[fixed]):
            fixed += 1
        if fixed == 1 and parts[0] == "":
            return os.sep
        return os.sep.join(parts[:fixed]) or os.curdir
    return os.path.dirname(source) or os.curdir


def _masks_in(folder, name):
    """The files of ``folder`` that may be the mask of an image called ``name``.

    The file of the same name, else every file whose name without its
    extension is the image's (``a.jpg`` -> ``a.png``, ``a.nii.gz`` -> ``a.nrrd``).
    """
    if not os.path.isdir(folder):
        return []
    if os.path.isfile(os.path.join(folder, name)):
        return [name]
    stem = _stem(name)
    return [other for other in sorted(os.listdir(folder))
            if not other.startswith(".") and _stem(other) == stem
            and os.path.isfile(os.path.join(folder, other))]


def match_masks(paths, folder, root=None):
    """The mask file of each image in ``folder``, matched by relative path, or None.

    An image's mask is at its path relative to ``root`` (the image folder) in
    ``folder``: ``root/x/a.jpg`` takes ``FOLDER/x/a.jpg`` or, failing that,
    the one file of ``FOLDER/x`` whose name without its extension is the
    image's (``FOLDER/x/a.png``; ``scan.nii.gz`` -> ``scan.nrrd``). An image
    in a subfolder without such a mask takes the one of ``FOLDER`` itself
    (``FOLDER/a.png``), as long as no other image is called ``a``. Several
    masks for one image, or one flat mask for several images, is an error
    naming the files. ``root=None``: each image's own folder (match by name).
    """
    if not os.path.isdir(folder):
        raise CommandError(f"--masks {folder!r}: no such directory")
    relative = [os.path.basename(path) if root is None else os.path.relpath(path, root)
                for path in paths]
    stems = {}
    for path, rel in zip(paths, relative):
        stems.setdefault(_stem(os.path.basename(rel)), []).append(path)
    masks = []
    for path, rel in zip(paths, relative):
        inside, name = os.path.split(rel)
        where = os.path.join(folder, inside)
        candidates = _masks_in(where, name)
        if not candidates and inside:
            mirrored, where = where, folder  # a flat mask folder for a tree of images
            candidates = _masks_in(where, name)
            sharing = stems[_stem(name)]
            if candidates and len(sharing) > 1:
                raise CommandError(
                    f"{path}: no mask in {mirrored!r}, and {os.path.join(where, candidates[0])} "
                    f"is ambiguous: {_count(len(sharing), 'image')} are called "
                    f"{_stem(name)!r} ({', '.join(sharing)}); put each image's mask at its "
                    f"relative path ({os.path.join(mirrored, candidates[0])})")
        if len(candidates) > 1:
            raise CommandError(f"{path}: several masks match in {where!r}: "
                               f"{', '.join(candidates)}")
        masks.append(os.path.join(where, candidates[0]) if candidates else None)
    return masks


#: The direction in a feature's name, ``{feature}_{direction}_d{distance}``.
_DIRECTION = re.compile(r"_(horizontal|diagonal_nwse|vertical|diagonal_nesw)_d\d+$")


def _nan_reasons(features, names):
    """Why each featurized row has NaN features: ``{row index: reason}``.

    A direction without any pixel pair (the vertical one of an image 1 pixel
    high) gives NaN features. Rows entirely NaN are images that could not be
    featurized at all (``--on-error nan``), already reported: not listed.
    """
    import numpy as np

    missing = np.isnan(features)
    reasons = {}
    for row in np.flatnonzero(missing.any(axis=1) & ~missing.all(axis=1)):
        directions = []
        for name in names[missing[row]]:
            match = _DIRECTION.search(name)
            if match and match.group(1) not in directions:
                directions.append(match.group(1))
        if not directions:
            reasons[row] = "NaN features"
            continue
        shape = ("1 pixel high: " if "vertical" in directions
                 else "1 pixel wide: " if "horizontal" in directions else "")
        reasons[row] = (f"{shape}no pixel pair in the {', '.join(directions)} "
                        f"direction{'' if len(directions) == 1 else 's'}")
    return reasons


def _described(paths, reasons):
    return "; ".join(f"{paths[row]} ({reason})" for row, reason in reasons.items())


def _leave_out_nan(args, paths, features, names):
    """Images whose features are all numbers: their paths, rows and old indices.

    Distances and classifiers take no NaN: an image with a NaN feature is left
    out, with one warning line naming each such image and why.
    """
    import numpy as np

    reasons = _nan_reasons(features, names)
    if not reasons:
        return paths, features, np.arange(len(paths)), reasons
    _warn(args, f"left out {_count(len(reasons), 'image')} whose features are NaN "
                f"(distances and classifiers need numbers): {_described(paths, reasons)}")
    kept = np.array([i for i in range(len(paths)) if i not in reasons], dtype=np.intp)
    if not kept.size:
        every = "the only image has" if len(paths) == 1 else f"all {len(paths)} images have"
        raise CommandError(f"no image left: {every} NaN features")
    return [paths[i] for i in kept], features[kept], kept, reasons


def _check_volume_readers(paths):
    """Fail before any work when a volume file's optional reader is not installed."""
    from ..io.decode import check_volume_reader

    for path in paths:
        try:
            check_volume_reader(path)
        except ImportError as exc:
            raise CommandError(f"--volume {path}: {exc}") from None


def _samples(args):
    """The files of ``args.images``: images, or with ``--volume`` volumes (readers checked)."""
    extensions = VOLUME_EXTENSIONS if args.volume else IMAGE_EXTENSIONS
    paths = find_images(args.images, recursive=args.recursive, extensions=extensions)
    if args.volume:
        _check_volume_readers(paths)
    return paths


def _featurize(args):
    import numpy as np

    _check_output(args.output, suffixes=CSV_SUFFIXES,
                  writes="featurize writes CSV ('-o -': to standard output)")
    paths = _samples(args)
    _refuse_inputs(args.output, paths)
    featurizer = _featurizer(args)
    names = featurizer.get_feature_names_out()
    if args.masks is None:
        features = _rows(args, featurizer, paths)
    else:
        masks = match_masks(paths, args.masks, image_root(args.images))
        if args.volume:
            _check_volume_readers([mask for mask in masks if mask is not None])
        unmatched = [path for path, mask in zip(paths, masks) if mask is None]
        if unmatched and args.on_error == "raise":
            raise CommandError(f"no mask in {args.masks!r} for {_count(len(unmatched), 'image')}"
                               f": {', '.join(unmatched)} (--on-error nan gives them NaN rows)")
        if unmatched:
            _warn(args, f"no mask in {args.masks!r} for {_count(len(unmatched), 'image')} "
                        f"(written as nan): {', '.join(unmatched)}")
        features = np.full((len(paths), len(names)), np.nan)
        matched = [i for i, mask in enumerate(masks) if mask is not None]
        if matched:
            features[matched] = _rows(args, featurizer,
                                      [(paths[i], masks[i]) for i in matched])
    reasons = _nan_reasons(features, names)
    if reasons:
        _warn(args, f"{_count(len(reasons), 'image')} with NaN features (written as nan): "
                    f"{_described(paths, reasons)}")
    to_stdout = args.output == "-"
    with contextlib.ExitStack() as stack:
        if to_stdout:
            out = sys.stdout
        else:
            temporary = stack.enter_context(atomic_output(args.output))
            out = stack.enter_context(open(temporary, "w", newline="", encoding="utf-8"))
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["path", *names])
        for path, row in zip(paths, features):
            writer.writerow([path, *(repr(float(value)) for value in row)])
    report = sys.stderr if to_stdout else sys.stdout
    where = "standard output" if to_stdout else os.path.abspath(args.output)
    print(f"Wrote {_count(len(paths), 'image')} x {_count(len(names), 'feature')} to {where}",
          file=report)
    return 0


def _resolve_query(query, folder):
    """A query path as given, else the file of that name in the collection's folder."""
    if os.path.exists(query) or not os.path.isdir(folder):
        return query
    inside = os.path.join(folder, query)
    return inside if os.path.exists(inside) else query


def _same_path(path):
    return os.path.normcase(os.path.abspath(path))


def _match_queries(queries, folder, paths):
    """Per query: its index among ``paths`` (or None) and the path it is named by.

    A query is the collection's image of the same path (as given, or within
    ``folder``); only when none has that path, the image that is the same file
    (through symbolic links). A symlinked duplicate of a query is then still
    one of its neighbours, but never the query.
    """
    by_path, by_file = {}, {}
    for i, path in enumerate(paths):
        by_path.setdefault(_same_path(path), i)
        real = os.path.normcase(os.path.realpath(path))
        if real not in by_file or _same_path(path) == real:  # the file itself over a link
            by_file[real] = i
    matched = []
    for query in queries:
        query = _resolve_query(query, folder)
        if os.path.isdir(query):
            raise CommandError(f"query {query!r}: is a directory, not an image file")
        if not os.path.isfile(query):
            raise CommandError(f"query {query!r}: no such file")
        index = by_path.get(_same_path(query))
        if index is None:
            index = by_file.get(os.path.normcase(os.path.realpath(query)))
            name = query
        else:
            name = paths[index]
        matched.append((index, name))
    return matched


def _similar(args):
    import numpy as np
    from sklearn.preprocessing import StandardScaler

    from .. import DistanceNeighbors

    if args.index:
        _check_figure(args.plot)
        # every positional argument is a query (the index's images are checked in _answer)
        _refuse_inputs(args.plot, [args.images, *args.queries])
        return _similar_from_index(args)
    if not args.queries:
        args.usage_error("the following arguments are required: QUERY (or --index INDEX)")
    _check_figure(args.plot)
    paths = _samples(args)
    queries = _match_queries(args.queries, args.images, paths)
    _refuse_inputs(args.plot, [*paths, *(name for _, name in queries)])
    featurizer = _featurizer(args)
    names = featurizer.get_feature_names_out()
    # New images first: an unusable query fails before the collection is featurized.
    new = [name for index, name in queries if index is None]
    new_features = _rows(args, _featurizer(args, verbose=0), new) if new else None
    if new:
        for row, reason in _nan_reasons(new_features, names).items():
            raise CommandError(f"query {new[row]!r}: {reason}, so its features are NaN "
                               "and have no distance to other images")
    features = _rows(args, featurizer, paths)
    kept_paths, kept_features, kept, reasons = _leave_out_nan(args, paths, features, names)
    position = {old: new_index for new_index, old in enumerate(kept)}
    for index, name in queries:
        if index is not None and index not in position:
            raise CommandError(f"query {name!r}: {reasons[index]}, so its features are NaN "
                               "and it was left out of the collection")
    # What make_pipeline(featurizer, StandardScaler(), DistanceNeighbors()).fit(kept_paths)
    # fits, from the rows already featurized (the featurizer is stateless).
    scaler = StandardScaler().fit(kept_features)
    search = DistanceNeighbors().fit(scaler.transform(kept_features))
    return _answer(args, queries, kept_paths, position, scaler, search, new_features)


def _answer(args, queries, kept_paths, position, scaler, search, new_features):
    """Print (and draw) each query's neighbours among ``kept_paths``."""
    import numpy as np

    _refuse_inputs(args.plot, kept_paths)  # the figure reads them
    distances = np.empty((len(queries), args.k))
    indices = np.empty((len(queries), args.k), dtype=np.intp)
    own = [q for q, (index, _) in enumerate(queries) if index is not None]
    if own:  # images of the collection: each is not its own neighbour
        distances[own], indices[own] = search.kneighbors_by_index(
            [position[queries[q][0]] for q in own], args.k)
    others = [q for q, (index, _) in enumerate(queries) if index is None]
    if others:
        distances[others], indices[others] = search.kneighbors(
            scaler.transform(new_features), args.k)
    for (index, name), dist, ind in zip(queries, distances, indices):
        print(f"{_count(args.k, 'image')} most similar to {name}:")
        for rank, (d, i) in enumerate(zip(dist, ind), start=1):
            print(f"  {rank}. {kept_paths[i]}  distance {d:.3f}")
    if args.plot:
        shown = [name if index is None else position[index] for index, name in queries]
        _save(_plot(kept_paths, shown, indices, distances), args.plot)
    return 0


def _feature_params(featurizer):
    """The featurizer's row-changing parameters: what an index records and compares."""
    params = featurizer.get_params()
    return {name: params[name] for name in parameter_names()}


def _check_pynndescent(what):
    """Fail before any work when the approximate search's package is missing."""
    try:
        import pynndescent  # noqa: F401
    except ImportError:
        raise CommandError(f"{what} needs pynndescent: "
                           'pip install "haralick_learn[approximate]"') from None


def _index(args):
    from sklearn.preprocessing import StandardScaler

    from ..neighbors.saved_index import file_identity, write_index
    from .._version import __version__

    if args.algorithm == "nndescent":
        _check_pynndescent("--algorithm nndescent")
    _check_output(args.output)
    paths = [os.path.abspath(path) for path in _samples(args)]
    _refuse_inputs(args.output, paths)
    featurizer = _featurizer(args).set_params(memory=args.cache)
    # Before featurizing: a file changed meanwhile no longer matches, and is featurized again.
    identities = [file_identity(path) for path in paths]
    features = _rows(args, featurizer, paths)
    kept_paths, kept_features, kept, _ = _leave_out_nan(args, paths, features,
                                                        featurizer.get_feature_names_out())
    scaler = StandardScaler().fit(kept_features)
    # The approximate graph is rebuilt at each load (it cannot be saved without pickle):
    # a fixed seed and one thread give the same graph, so the same answers, each time.
    algorithm_params = None
    if args.algorithm == "nndescent":
        from ..neighbors.saved_index import GRAPH_RANDOM_STATE

        algorithm_params = {"random_state": GRAPH_RANDOM_STATE, "n_jobs": 1}
    write_index(args.output, folder=os.path.abspath(args.images), paths=kept_paths,
                identities=[identities[i] for i in kept], features=kept_features,
                feature_names=list(featurizer.get_feature_names_out()),
                feature_params=_feature_params(featurizer), scaler=scaler,
                algorithm=args.algorithm, algorithm_params=algorithm_params,
                version=__version__)
    print(f"Wrote an index of {_count(len(kept_paths), 'image')} ({args.algorithm} search) "
          f"to {os.path.abspath(args.output)}")
    return 0


def load_index(path, featurizer):
    """A saved index, after checking that ``featurizer``'s rows are comparable with it.

    The file is read as arrays and JSON only (no code runs). Refuses
    (``CommandError``, or ``ValueError`` for a damaged or foreign file) an
    index made by another version of haralick_learn (its features may
    differ) or whose featurizer settings differ from ``featurizer``'s:
    distances between their rows mean nothing.
    """
    from ..neighbors.saved_index import jsonable_params, read_index
    from .._version import __version__

    if not os.path.isfile(path):
        raise CommandError(f"index {path!r}: no such file (make one with "
                           "'haralick-learn index FOLDER -o INDEX')")
    index = read_index(path)
    if index["haralick_learn_version"] != __version__:
        raise CommandError(
            f"index {path!r} was made by haralick_learn {index['haralick_learn_version']}, "
            f"this is {__version__}, whose features may differ: rebuild it with "
            "'haralick-learn index'")
    wanted = jsonable_params(_feature_params(featurizer))
    saved = index["feature_params"]
    differ = [f"{key}={wanted.get(key)!r} (index: {saved.get(key)!r})"
              for key in sorted(set(wanted) | set(saved)) if wanted.get(key) != saved.get(key)]
    if differ:
        raise CommandError(
            f"index {path!r} was made with other featurizer settings than the queries': "
            f"{', '.join(differ)}; use the index's settings or rebuild it")
    return index


def _similar_from_index(args):
    import numpy as np
    from sklearn.preprocessing import StandardScaler

    from .. import DistanceNeighbors
    from ..neighbors.saved_index import changed_files, fitted_scaler

    queries = [args.images, *args.queries]  # with --index, every positional is a query
    _check_output(args.plot)
    featurizer = _featurizer(args, verbose=0)
    index = load_index(args.index, featurizer)
    search = index["search"]
    if search["algorithm"] == "nndescent":
        _check_pynndescent(f"index {args.index!r} (an nndescent search)")
    paths = index["paths"]
    names = featurizer.get_feature_names_out()
    matched = _match_queries(queries, index["folder"], paths)
    new = [name for i, name in matched if i is None]
    new_features = _rows(args, featurizer, new) if new else None
    if new:
        for row, reason in _nan_reasons(new_features, names).items():
            raise CommandError(f"query {new[row]!r}: {reason}, so its features are NaN "
                               "and have no distance to other images")
    features, scaler = index["features"], fitted_scaler(index)
    changed, missing = changed_files(index)
    if missing:
        _warn(args, f"{_count(len(missing), 'image')} of the index no longer "
                    f"{'exists' if len(missing) == 1 else 'exist'}, left out: "
                    f"{', '.join(paths[i] for i in missing)}")
    if changed:
        _warn(args, f"{_count(len(changed), 'image')} changed since the index was made, "
                    f"featurized again: {', '.join(paths[i] for i in changed)} (rebuild the "
                    "index to skip this)")
        features[changed] = _rows(args, featurizer, [paths[i] for i in changed])
    gone = set(missing)
    present = np.array([i for i in range(len(paths)) if i not in gone], dtype=np.intp)
    if not present.size:
        raise CommandError(f"index {args.index!r}: none of its images exists any more")
    kept_paths, kept_features, still, reasons = _leave_out_nan(
        args, [paths[i] for i in present], features[present], names)
    reasons = {int(present[row]): reason for row, reason in reasons.items()}
    position = {int(old): new_index for new_index, old in enumerate(present[still])}
    for i, name in matched:
        if i is not None and i not in position:
            raise CommandError(f"query {name!r}: {reasons[i]}, so its features are NaN "
                               "and it was left out of the collection")
    if changed or missing:  # as 'similar DIR' would fit them on the files as they are
        scaler = StandardScaler().fit(kept_features)
    nn = DistanceNeighbors(algorithm=search["algorithm"], n_jobs=args.n_jobs,
                           algorithm_params=search["algorithm_params"])
    if search["algorithm"] == "nndescent":
        print(f"haralick-learn {args.command}: building the nndescent search graph of "
              f"{_count(len(kept_paths), 'image')} (about a minute: pynndescent compiles its "
              "code at each run)", file=sys.stderr, flush=True)
    nn.fit(scaler.transform(kept_features))
    return _answer(args, matched, kept_paths, position, scaler, nn, new_features)


def _plot(images, queries, indices, distances):
    import matplotlib

    matplotlib.use("Agg")  # files only: must run without a display
    from .. import SimilarImagesDisplay

    return SimilarImagesDisplay.from_predictions(images, queries, indices, distances).figure_


def _save(figure, path, what="the similar-images figure"):
    """Write ``figure`` to exactly ``path``, in the format its suffix names, then report it."""
    import matplotlib.pyplot as plt

    kind = os.path.splitext(path)[1][1:].lower()
    try:
        with atomic_output(path) as temporary, open(temporary, "wb") as f:
            figure.savefig(f, format=kind, dpi=100)
    finally:
        plt.close(figure)
    print(f"Wrote {what} to {os.path.abspath(path)}")


def _check_classes(args, paths, labels, *, show):
    """The classes and their counts; an error if they cannot be cross-validated.

    ``show``: print the summary line (``18 images, 3 classes: ...``) first;
    otherwise it is printed only with an error.
    """
    import numpy as np

    classes, counts = np.unique(labels, return_counts=True)
    summary = (f"{_count(len(paths), 'image')}, {_count(len(classes), 'class')}: "
               + ", ".join(f"{c} ({n})" for c, n in zip(classes, counts)))
    if len(classes) < 2:
        source = "file names" if args.labels == "name" else "folder names"
        other = "parent" if args.labels == "name" else "name"
        error = (f"need at least 2 classes to evaluate, found {len(classes)} "
                 f"(labels from the {source}; try --labels {other})")
    elif counts.min() < args.cv:
        error = (f"class '{classes[counts.argmin()]}' has {_count(counts.min(), 'image')}, "
                 f"fewer than the {args.cv} folds of --cv {args.cv}")
    else:
        error = None
    if show or error:
        print(summary)
    if error:
        raise CommandError(error)


def _evaluate(args):
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import classification_report
    from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_val_score
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from .. import FilenameLabelExtractor

    paths = _samples(args)
    labels = FilenameLabelExtractor(source=args.labels).fit_transform(paths)
    _check_classes(args, paths, labels, show=False)  # before the long part
    # The featurizer is stateless: featurizing once and cross-validating the
    # rest of the pipeline scores the whole pipeline on the paths.
    featurizer = _featurizer(args)
    features = _rows(args, featurizer, paths)
    paths, features, kept, _ = _leave_out_nan(args, paths, features,
                                              featurizer.get_feature_names_out())
    labels = np.asarray(labels)[kept]
    _check_classes(args, paths, labels, show=True)  # of the images evaluated
    classifier = Pipeline([("preproc", StandardScaler()),
                           ("classifier", LogisticRegression(max_iter=1000))])
    folds = StratifiedKFold(n_splits=args.cv)
    scores = cross_val_score(classifier, features, labels, cv=folds)
    print(f"{args.cv}-fold accuracy: {scores.mean():.1%} (+/- {scores.std():.1%})")
    predicted = cross_val_predict(classifier, features, labels, cv=folds)
    print(f"Per class, over the {args.cv} held-out folds:")
    print(classification_report(labels, predicted, zero_division=0))
    return 0


def _demo(args):
    import matplotlib

    matplotlib.use("Agg")  # files only: the demo must run without a display
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from .. import DistanceNeighbors, FilenameLabelExtractor, HaralickFeaturizer
    from ..datasets import load_sample_images

    _check_figure(args.output)
    paths = load_sample_images().paths
    _refuse_inputs(args.output, paths)
    query = args.query
    if not 0 <= query < len(paths):
        raise ValueError(f"--query must be an index in [0, {len(paths) - 1}], got {query}")
    labels = FilenameLabelExtractor().fit_transform(paths)
    print(f"{len(paths)} sample images, classes: {', '.join(np.unique(labels))}")

    # The featurizer is stateless, so featurizing once and cross-validating
    # the rest of the pipeline gives the scores of the full pipeline on paths.
    featurizer = HaralickFeaturizer(n_jobs=args.n_jobs, verbose=1,
                                    gray_conversion=args.gray_conversion)
    features = _rows(args, featurizer, paths)
    classifier = Pipeline([("preproc", StandardScaler()), ("classifier", LogisticRegression())])
    scores = cross_val_score(classifier, features, labels, cv=5)
    print(f"5-fold accuracy: {scores.mean():.1%} (+/- {scores.std():.1%})")

    scaled = StandardScaler().fit_transform(features)
    neighbors = DistanceNeighbors(n_neighbors=3).fit(scaled)
    distances, indices = neighbors.kneighbors()
    print(f"3 images most similar to {os.path.basename(paths[query])}:")
    for rank, (d, i) in enumerate(zip(distances[query], indices[query]), start=1):
        print(f"  {rank}. {os.path.basename(paths[i])}  distance {d:.3f}")

    _save(_plot(paths, [query], indices[[query]], distances[[query]]), args.output)
    return 0


def available_memory():
    """Bytes of memory a new allocation can get without swapping, or None if unknown.

    Linux's ``MemAvailable`` (page cache included), within a container's
    cgroup limit; elsewhere the free physical pages.
    """
    available = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
    with contextlib.suppress(OSError, ValueError):  # cgroup v2: "max" when unlimited
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as f:
            limit = f.read().strip()
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as f:
            used = int(f.read())
        if limit != "max":
            left = max(0, int(limit) - used)
            available = left if available is None else min(available, left)
    if available is not None:
        return available
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _size(n_bytes):
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.0f} MB"


def _image_shape(path):
    """``(height, width)`` from the image file's header, None if Pillow cannot tell."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # reported when the image is read
            with Image.open(path) as im:
                return im.height, im.width
    except Exception:  # not an image Pillow reads: texture_maps says why
        return None


#: Bytes per output pixel the preview takes while matplotlib draws it (about 80 measured).
_PREVIEW_BYTES_PER_PIXEL = 96


def _map_memory(args, kind, shape, options, n_kept, n_features):
    """Bytes ``haralick-learn map`` needs to map an image of ``shape`` in memory.

    ``texture_maps``'s own (``texture_maps_memory``), plus the copy of the
    ``n_kept`` features of ``n_features`` written to ``.npy`` (``--features``),
    the float32 page written at a time to ``.tif``, and the preview's drawing.
    """
    from .._maps import texture_maps_memory

    n_pixels = -(-shape[0] // args.step) * -(-shape[1] // args.step)
    n_bytes = texture_maps_memory(shape, args.window, step=args.step, n_jobs=args.n_jobs,
                                  **options)
    if kind == ".npy" and n_kept < n_features:
        n_bytes += n_pixels * n_kept * 8
    if kind in (".tif", ".tiff"):
        n_bytes += n_pixels * 4
    if args.preview:
        n_bytes += n_pixels * _PREVIEW_BYTES_PER_PIXEL
    return n_bytes


#: The featurizer's parameters that ``map`` takes as options; ``features`` is map's own
#: ``--features``, which also names the columns to keep (see ``_map_features``).
_MAP_OPTIONS = tuple(name for name in parameter_names("maps") if name != "features")
#: What ``map --volume -o`` writes; NIfTI and NRRD carry the volume's geometry.
VOLUME_MAP_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".npy", ".zarr")
#: The volume formats that place the maps in space, with a JSON sidecar naming the features.
_GEOMETRY_SUFFIXES = (".nii", ".nii.gz", ".nrrd")


def _map_features(values):
    """``(features, patterns)`` of ``map --features``: what is computed, which columns are kept.

    A set's name (``haralick``, ``skimage``, ``ibsi``) or a feature's
    (``ibsi_Contrast``, ``contrast``) chooses what is computed: the
    featurizer's ``features`` (default: the table's). Any other value is a
    column's name or a pattern (``contrast_*``, ``ibsi_Contrast_mean_d1``)
    choosing the columns written.
    """
    from .._settings import FEATURE_SETS

    known = {*FEATURE_SETS, *(name for names in FEATURE_SETS.values() for name in names),
             "maximal_correlation_coefficient"}
    computed = [value for value in values or () if value in known]
    patterns = [value for value in values or () if value not in known]
    if not computed:
        return parameter("features").default, patterns
    return (computed[0] if len(computed) == 1 else computed), patterns


def _map(args):
    import numpy as np

    from .. import HaralickFeaturizer, texture_maps

    output = args.output
    if output.rstrip("/\\").lower().endswith(".zarr"):
        output = output.rstrip("/\\")  # a store is a folder: 'X.zarr/' names it too
    lower = output.lower()
    if args.volume and lower.endswith((".tif", ".tiff")):
        raise CommandError(
            f"cannot write {output!r}: a .tif holds a 2-D image's maps (a page per feature); "
            f"a volume's maps are written as NIfTI or NRRD (with its geometry), NumPy or Zarr: "
            f"end the file in {_either(VOLUME_MAP_SUFFIXES)}")
    if not args.volume and lower.endswith(_GEOMETRY_SUFFIXES):
        raise CommandError(
            f"cannot write {output!r}: NIfTI and NRRD hold a volume's maps: add --volume "
            "(IMAGE a volume file), or write a 2-D image's maps to .tif, .npy or .zarr")
    suffixes = VOLUME_MAP_SUFFIXES if args.volume else MAP_SUFFIXES
    if not lower.endswith(suffixes):
        _check_output(output, suffixes=suffixes,
                      writes="a volume's maps are written as NIfTI, NRRD, NumPy or Zarr"
                      if args.volume else "maps are written as TIFF, NumPy or Zarr")
    kind = next(suffix for suffix in suffixes if lower.endswith(suffix))
    if args.volume and args.preview:
        raise CommandError("--preview draws a 2-D image's maps; a volume's NIfTI or NRRD maps "
                           "open over the scan in a viewer (3D Slicer, ITK-SNAP, FSLeyes)")
    tiled = kind == ".zarr" and not args.volume  # a 2-D image's store: Dask tiles
    if tiled and (args.mask or args.bin_width is not None or args.gray_range is not None):
        raise CommandError("a 2-D image's .zarr maps are computed tile by tile with the --levels "
                           "binning only: --mask, --bin-width and --gray-range need the whole "
                           "image in memory (write .npy or .tif)")
    if kind == ".zarr":
        if tiled and args.step != 1:
            raise CommandError("a .zarr output is written tile by tile with --step 1 only")
        if os.path.exists(output):
            raise CommandError(f"cannot write {output!r}: it exists (remove it first)")
        try:
            import dask.array  # noqa: F401
            import zarr  # noqa: F401
        except ImportError:
            raise CommandError(
                "writing Zarr needs dask and zarr: pip install 'haralick_learn[maps]'"
            ) from None
    _check_output(output)
    _check_figure(args.preview)
    inputs = [args.image] + ([args.mask] if args.mask else [])
    _refuse_inputs(output, inputs)
    _refuse_inputs(args.preview, inputs)
    if args.preview and (os.path.realpath(args.preview) == os.path.realpath(output) or (
            os.path.exists(output) and os.path.exists(args.preview)
            and os.path.samefile(output, args.preview))):
        raise CommandError(f"cannot write {args.preview!r}: --preview and -o name the same file")
    features, patterns = _map_features(args.features)
    options = dict({name: getattr(args, name) for name in _MAP_OPTIONS}, features=features)
    names = list(HaralickFeaturizer(**options).get_feature_names_out())
    chosen = list(range(len(names)))
    if patterns:
        chosen = [k for k, name in enumerate(names)
                  if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)]
        if not chosen:
            raise CommandError(
                f"--features {' '.join(args.features)} matches none of the {len(names)} "
                f"features ({names[0]}, {names[1]}, ...)"
            )
    if kind in (".tif", ".tiff"):
        try:
            import tifffile
        except ImportError:
            raise CommandError(
                "writing TIFF needs tifffile: pip install 'haralick_learn[maps]' "
                "(or write .npy)"
            ) from None
    chosen_names = [names[k] for k in chosen]
    if args.volume:
        return _map_volume(args, output, kind, options, chosen, chosen_names, len(names))
    if kind == ".zarr":
        return _map_zarr(args, output, options, chosen, chosen_names)
    shape = _image_shape(args.image)
    if shape is not None:
        needed = _map_memory(args, kind, shape, options, len(chosen), len(names))
        available = available_memory()
        if available is not None and needed > available:
            raise CommandError(
                f"mapping {args.image!r} ({shape[0]} x {shape[1]} pixels) in memory to {kind} "
                f"needs about {_size(needed)}, more than the {_size(available)} available: "
                "write a .zarr store instead (computed and written tile by tile), or "
                "--aggregate mean (a quarter of the features), or a --step"
            )
    _say_if_compiling(args, "maps")
    maps = texture_maps(args.image, args.window, step=args.step, n_jobs=args.n_jobs, verbose=1,
                        mask=args.mask, masked_window=args.masked_window, **options)
    if len(chosen) < len(names):
        maps = maps[..., chosen]
    with atomic_output(output) as temporary, open(temporary, "wb") as f:
        if kind == ".npy":
            np.save(f, maps)  # a file object: np.save adds no suffix to its name
        else:
            # one float32 page per feature, named in the description (ImageJ/GIS read the
            # bands), converted a page at a time
            with tifffile.TiffWriter(f) as tif:
                tif.write((maps[..., k].astype(np.float32) for k in range(maps.shape[-1])),
                          shape=(maps.shape[-1], *maps.shape[:2]), dtype=np.float32,
                          photometric="minisblack", metadata={"features": chosen_names})
    print(f"Wrote {maps.shape[0]} x {maps.shape[1]} maps of {len(chosen)} features "
          f"(window {args.window}, step {args.step}) to {os.path.abspath(output)}")
    if args.preview:
        _map_preview(args, maps, chosen_names)
    return 0


#: Bytes a voxel of the volume takes while it is read, binned and masked, at most: the
#: voxels as stored, their float64 binning's temporaries and levels, the mask's copies.
_VOLUME_READ_BYTES_PER_VOXEL = 40


def _volume_map_memory(args, kind, shape, n_features, n_kept):
    """Bytes ``map --volume`` needs for a volume of ``shape``: all of it is held in memory.

    The float64 maps of every feature, the volume while it is read and binned,
    the copy of the kept features (``--features`` patterns), and one more copy
    of what is written to NIfTI or NRRD (their writers reorder the axes).
    """
    n_out = 1
    for side in shape:
        n_out *= -(-int(side) // args.step)
    n_voxels = int(shape[0]) * int(shape[1]) * int(shape[2])
    n_bytes = n_out * n_features * 8 + n_voxels * _VOLUME_READ_BYTES_PER_VOXEL
    if n_kept < n_features:
        n_bytes += n_out * n_kept * 8
    if kind in _GEOMETRY_SUFFIXES:
        n_bytes += n_out * n_kept * 8
    return n_bytes


def _map_volume(args, output, kind, options, chosen, chosen_names, n_features):
    """The maps of a volume: computed in memory, written with the volume's geometry."""
    import numpy as np

    from .. import texture_maps
    from ..io.decode import check_volume_reader, volume_affine, volume_shape

    _check_volume_readers([args.image] + ([args.mask] if args.mask else []))
    if kind in _GEOMETRY_SUFFIXES:
        try:
            check_volume_reader(output)  # its reader writes it too
        except ImportError as exc:
            raise CommandError(str(exc).replace("reading", "writing", 1)) from None
    sidecar = _sidecar_path(output) if kind in _GEOMETRY_SUFFIXES else None
    _check_output(sidecar)
    _refuse_inputs(sidecar, [args.image] + ([args.mask] if args.mask else []))
    shape = volume_shape(args.image)
    if shape is not None:
        needed = _volume_map_memory(args, kind, shape, n_features, len(chosen))
        available = available_memory()
        if available is not None and needed > available:
            raise CommandError(
                f"mapping {args.image!r} ({' x '.join(map(str, shape))} voxels) needs about "
                f"{_size(needed)}, more than the {_size(available)} available: --aggregate "
                "mean (a 13th of the features), fewer --features, or a --step")
    affine = None
    if kind in _GEOMETRY_SUFFIXES:
        affine = volume_affine(args.image)
        if affine is None:
            _warn(args, f"{args.image} does not place its voxels in space (no NIfTI or NRRD "
                        "geometry): the maps' voxels are 1 x 1 x 1 at the origin")
            affine = np.eye(4)
        # output voxel (i, j, k) is the volume's voxel (step i, step j, step k)
        affine = affine @ np.diag([args.step, args.step, args.step, 1.0])
    _say_if_compiling(args, "maps")
    maps = texture_maps(args.image, args.window, step=args.step, n_jobs=args.n_jobs, verbose=1,
                        mask=args.mask, masked_window=args.masked_window, **options)
    if len(chosen) < n_features:
        maps = maps[..., chosen]
    if kind == ".zarr":
        _write_volume_zarr(output, maps, chosen_names)
    elif kind == ".npy":
        with atomic_output(output) as temporary, open(temporary, "wb") as f:
            np.save(f, maps)
    else:
        description = _map_description(args, options, chosen_names)
        # The sidecar is renamed first, the maps last: an interruption between the two
        # renames leaves a sidecar without maps, which does not look complete; a failed
        # rename of the maps removes the sidecar it would describe.
        sidecar_written = False
        try:
            with atomic_output(output) as temporary:
                with atomic_output(sidecar) as temporary_sidecar:
                    with open(temporary_sidecar, "w", encoding="utf-8") as f:
                        json.dump(description, f, indent=2)
                        f.write("\n")
                    with open(temporary, "wb") as f:
                        if kind == ".nrrd":
                            _write_nrrd(f, maps, affine)
                        else:
                            _write_nifti(f, maps, affine, args.image, kind == ".nii.gz",
                                         os.path.basename(sidecar))
                sidecar_written = True
        except BaseException:
            if sidecar_written:
                with contextlib.suppress(OSError):
                    os.remove(sidecar)
            raise
    shown = " x ".join(str(side) for side in maps.shape[:3])
    names_at = f" (feature names in {os.path.abspath(sidecar)})" if sidecar else ""
    print(f"Wrote {shown} maps of {len(chosen)} features (window {args.window}, step "
          f"{args.step}) to {os.path.abspath(output)}{names_at}")
    return 0


def _sidecar_path(output):
    """The JSON sidecar of a NIfTI or NRRD file: its name plus ``.json`` (``maps.nii.gz.json``).

    One per file: the maps of one scan written as ``.nii.gz`` and as ``.nrrd``
    with other settings keep their own (a BIDS-style ``maps.json`` would be
    shared).
    """
    return output + ".json"


def _map_description(args, options, names):
    """What the sidecar says of the maps: their feature names (in order) and how they were made."""
    from .._version import __version__

    return {
        "feature_names": list(names),
        "image": args.image,
        "mask": args.mask,
        "window": args.window,
        "step": args.step,
        "masked_window": bool(args.masked_window) if args.mask else None,
        "parameters": {name: list(value) if isinstance(value, tuple) else value
                       for name, value in options.items()},
        "haralick_learn": __version__,
    }


def _write_nifti(f, maps, affine, image, compress, sidecar_name):
    """One 4-D NIfTI image ``(i, j, k, feature)`` of float64, on the volume's voxel grid.

    ``load_volume`` reads a NIfTI file's voxel axes i, j, k as stored, so the
    maps' first three axes are the file's; their affine is the volume's, with
    its sform and qform codes (``aligned`` for a volume that had none) and its
    unit of length.
    """
    import gzip

    import nibabel

    nifti = nibabel.Nifti1Image(maps, affine)
    code, unit = 2, "unknown"  # aligned
    if image.lower().endswith((".nii", ".nii.gz")):
        header = nibabel.load(image).header
        code = int(header["sform_code"]) or int(header["qform_code"]) or 2
        unit = header.get_xyzt_units()[0]
    elif image.lower().endswith(".nrrd"):
        code, unit = 1, "mm"  # scanner: NRRD's anatomical spaces are in millimetres
    nifti.set_sform(affine, code=code)
    nifti.set_qform(affine, code=code)
    nifti.header.set_xyzt_units(xyz=unit)
    nifti.header["descrip"] = f"haralick_learn texture maps; names: {sidecar_name}"[:79].encode()
    if compress:
        # no file name or time in the gzip header: the same maps give the same bytes
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=1,
                           mtime=0) as stream:
            nifti.to_file_map({"image": nibabel.FileHolder(fileobj=stream)})
    else:
        nifti.to_file_map({"image": nibabel.FileHolder(fileobj=f)})


def _write_nrrd(f, maps, affine):
    """One 4-D NRRD ``(feature, i, j, k)``: the features a list axis, first as NRRD and ITK
    expect of a vector image; the geometry in LPS (what 3D Slicer and ITK write)."""
    import numpy as np
    import nrrd

    lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine  # RAS+ -> LPS
    header = {
        "kinds": ["list", "domain", "domain", "domain"],
        "space": "left-posterior-superior",
        "space directions": np.vstack([np.full(3, np.nan), lps[:3, :3].T]),
        "space origin": lps[:3, 3],
        "encoding": "gzip",
    }
    nrrd.write(f, np.moveaxis(maps, -1, 0), header, compression_level=1)


def _write_volume_zarr(output, maps, names):
    """A volume's maps as a Zarr store (the names in ``feature_names.txt`` inside it)."""
    import dask.array as da

    with atomic_output(output, directory=True) as temporary:
        chunks = tuple(min(side, 64) for side in maps.shape[:3]) + (maps.shape[3],)
        da.from_array(maps, chunks=chunks).to_zarr(temporary)
        with open(os.path.join(temporary, "feature_names.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(names) + "\n")


def _map_zarr(args, output, options, chosen, chosen_names):
    """Maps computed and written tile by tile: the (large) maps are never held at once."""
    from concurrent.futures import ThreadPoolExecutor

    import dask
    import dask.array as da

    from .. import texture_maps
    from ..io.decode import load_image
    from ..preprocess.quantize import to_gray_levels

    # One gray scale for every tile: the whole image quantized once, as in memory.
    levels = to_gray_levels(load_image(args.image, gray_conversion=args.gray_conversion),
                            options["levels"])
    lazy = texture_maps(da.from_array(levels, chunks=1024), args.window, verbose=1,
                        **dict(options, levels=None))[..., chosen]
    _say_if_compiling(args, "maps")
    workers = 1 if args.n_jobs is None else args.n_jobs
    pool = ThreadPoolExecutor(workers if workers > 0 else os.cpu_count())
    with atomic_output(output, directory=True) as temporary:
        try:
            with dask.config.set(scheduler="threads", pool=pool):
                lazy.to_zarr(temporary)
        finally:
            # Ctrl-C stops the scheduler, not the tiles being computed: they finish
            # (into the temporary store) before it is removed.
            pool.shutdown(wait=True, cancel_futures=True)
        with open(os.path.join(temporary, "feature_names.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(chosen_names) + "\n")
    print(f"Wrote {lazy.shape[0]} x {lazy.shape[1]} maps of {len(chosen)} features "
          f"(window {args.window}, tiles of 1024 x 1024) to {os.path.abspath(output)}")
    if args.preview:
        _map_preview(args, da.from_zarr(output)[..., :3].compute(), chosen_names[:3])
    return 0


def _map_preview(args, maps, names):
    import matplotlib

    matplotlib.use("Agg")  # files only: must run without a display
    import matplotlib.pyplot as plt

    from ..io.decode import load_display_pixels

    shown = names[:3]
    figure, axes = plt.subplots(1, 1 + len(shown), figsize=(3.2 * (1 + len(shown)), 3.4),
                                layout="constrained", squeeze=False)
    axes = axes[0]
    axes[0].imshow(load_display_pixels(args.image), cmap="gray")
    axes[0].set_title(os.path.basename(args.image), fontsize=9)
    for ax, name in zip(axes[1:], shown):
        image = ax.imshow(maps[..., names.index(name)], cmap="magma")
        figure.colorbar(image, ax=ax, shrink=0.7)
        ax.set_title(name, fontsize=8)
    for ax in axes:
        ax.axis("off")
    _save(figure, args.preview, f"the preview of {', '.join(shown)}")


#: What ``regions -o`` writes.
REGION_SUFFIXES = (".csv", ".parquet")
#: Label files of a 2-D image read as stored (PIL reads the others: PNG, BMP...).
_ARRAY_LABELS = (".npy", ".tif", ".tiff")


def _load_labels(path, volume):
    """The integer label image of ``path``: an image file, a ``.npy`` array, or a volume file."""
    import numpy as np

    lower = path.lower()
    if lower.endswith(".npy"):
        try:
            labels = np.load(path, allow_pickle=False)  # a label file never runs code
        except ValueError as exc:
            raise CommandError(f"cannot read labels {path!r}: {exc}") from None
    elif volume:
        from ..io.decode import load_volume

        labels = load_volume(path)
    elif lower.endswith(_ARRAY_LABELS):
        import tifffile

        labels = tifffile.imread(path)
    else:
        from PIL import Image

        if not os.path.isfile(path):
            raise CommandError(f"cannot read labels {path!r}: no such file")
        with Image.open(path) as im:
            if im.mode not in ("L", "P", "I", "I;16", "I;16B", "I;16L", "1"):
                raise CommandError(f"labels {path!r}: a label image has one channel of "
                                   f"integers, not mode {im.mode}")
            labels = np.asarray(im)
    if labels.dtype == bool:  # a bilevel image: one region, label 1
        labels = labels.astype(np.uint8)
    if labels.dtype.kind not in "iu":
        raise CommandError(f"labels {path!r}: a label image holds integers, got {labels.dtype}")
    return labels


def _regions(args):
    from ..io.chunked import is_chunked
    from .._region_runs import run_key, write_region_table
    from .._region_tiles import RegionTiles
    from .._settings import TextureSettings

    _check_output(args.output, suffixes=REGION_SUFFIXES,
                  writes="regions writes CSV or Parquet")
    _refuse_inputs(args.output, [args.image, args.labels])
    if args.output.lower().endswith(".parquet"):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise CommandError("writing Parquet needs pyarrow: pip install pyarrow, or "
                               "haralick-learn[tables] (or write .csv)") from None
    # Zarr stores and OME-TIFF files are read tile by tile; the other files are read whole.
    image_tiled, labels_tiled = is_chunked(args.image), is_chunked(args.labels)
    if args.volume:
        _check_volume_readers([path for path, tiled in ((args.image, image_tiled),
                                                        (args.labels, labels_tiled))
                               if not tiled])
    labels = args.labels if labels_tiled else _load_labels(args.labels, args.volume)
    image = args.image
    if args.volume and not image_tiled:
        from ..io.decode import load_volume, mask_on_image_grid

        image = load_volume(args.image)
        if not labels_tiled:
            # As a mask: a label file stored in another orientation is turned onto the
            # image's voxel grid, another geometry refused (applied voxel for voxel it
            # would be wrong).
            try:
                labels = mask_on_image_grid(labels, args.labels, args.image, image.shape,
                                            repr(args.image))
            except ValueError as exc:
                raise CommandError(str(exc)) from None
    params = {name: getattr(args, name) for name in parameter_names("regions")}
    try:
        settings = TextureSettings.from_params(**params)
        tile_shape = args.tile_shape
        if tile_shape is not None:  # one length for every axis, or one per axis
            tile_shape = tile_shape[0] if len(tile_shape) == 1 else tuple(tile_shape)
        tiles = RegionTiles(image, labels, settings, on_error=args.on_error,
                            tile_shape=tile_shape)
    except (ValueError, TypeError) as exc:
        raise CommandError(f"{args.image!r} with labels {args.labels!r}: {exc}") from None
    try:
        key = run_key([args.image, args.labels], settings, args.on_error, tiles.tile_shape)
        _say_if_compiling(args, "features")
        plan, failed = write_region_table(
            tiles, args.output, key, n_jobs=args.n_jobs, verbose=1,
            say=lambda text: print(f"haralick-learn regions: {text}", file=sys.stderr))
    except (ValueError, TypeError) as exc:
        raise CommandError(f"{args.image!r} with labels {args.labels!r}: {exc}") from None
    finally:
        tiles.close()
    if len(failed):
        _warn(args, f"{_count(len(failed), 'region')} without any pixel pair "
                    f"(written as nan): labels {', '.join(map(str, failed))}")
    print(f"Wrote {_count(len(plan), 'region')} x {_count(settings.n_features, 'feature')} "
          f"to {os.path.abspath(args.output)}")
    return 0


def _wrap(text):
    return textwrap.fill(text, width=79)


def _jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError(
            "0 is invalid: give the number of images featurized at once "
            "(1 or more), or -1 for all processors")
    return value


def _n_jobs(parser):
    parser.add_argument("--n-jobs", type=_jobs, default=None, metavar="N",
                        help="images featurized in parallel (default 1; -1: all processors, "
                        "-2: all but one)")


def _table_options(parser, names=None):
    """The options of the featurizer's row-changing parameters ``names`` (default: all).

    Generated from the parameter table (``_params``): ``--features ibsi --bin-width 25``,
    with the featurizer's defaults.
    """
    group = parser.add_argument_group(
        "featurizer settings", "HaralickFeaturizer's parameters of the same names")
    for name in parameter_names() if names is None else names:
        flags, options = argparse_arguments(parameter(name))
        group.add_argument(*flags, **options)


def _positive(minimum):
    def check(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return check


def build_parser():
    from .._version import __version__

    parser = argparse.ArgumentParser(
        prog="haralick-learn",
        description="Haralick texture features for scikit-learn: classify images, "
        "find similar ones.",
        epilog="Run 'haralick-learn COMMAND --help' for a command's options. Exit codes: "
        "0 success, 1 runtime error, 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    formatter = argparse.RawDescriptionHelpFormatter  # examples in epilogs keep their lines

    featurize = commands.add_parser(
        "featurize", formatter_class=formatter,
        help="write the Haralick features of a folder of images to CSV",
        description=_wrap("Featurize every image of a folder (or the files a glob pattern matches) "
        "and write one CSV row per image: a 'path' column, then the named features "
        "(contrast_horizontal_d1, ...)."),
        epilog="examples:\n  haralick-learn featurize photos -o features.csv\n"
        "  haralick-learn featurize 'photos/**/*.png' --recursive -o - > features.csv\n"
        "  haralick-learn featurize scans --volume --masks scans_masks -o features.csv",
    )
    featurize.add_argument("images", metavar="DIR_OR_GLOB",
                           help=f"a folder (its {', '.join(IMAGE_EXTENSIONS)} files, sorted), "
                           "a quoted glob pattern, or one file")
    featurize.add_argument("-o", "--output", default="features.csv",
                           help="CSV file to write, '-' for standard output "
                           "(default ./features.csv)")
    featurize.add_argument("-r", "--recursive", action="store_true",
                           help="include subfolders (a glob's ** spans folders); links to "
                           "folders are not followed")
    featurize.add_argument("--on-error", choices=["raise", "nan"], default="raise",
                           help="an unreadable image stops the run (raise, default) or gets a "
                           "row of NaN and a warning (nan)")
    _n_jobs(featurize)
    featurize.add_argument("--masks", metavar="FOLDER", default=None,
                           help="featurize each image inside its mask: the file of FOLDER at the "
                           "image's path relative to DIR (x/a.jpg -> FOLDER/x/a.jpg), else the "
                           "one with the same name without extension (FOLDER/x/a.png), else "
                           "FOLDER/a.png if no other image is called a; non-zero pixels are "
                           "inside. An image without a mask stops the run (or, with --on-error "
                           "nan, gets a row of NaN)")
    _table_options(featurize)
    featurize.set_defaults(func=_featurize)

    similar = commands.add_parser(
        "similar", formatter_class=formatter,
        help="list (and draw) the images of a folder most similar to query images",
        description=_wrap("Rank the images of DIR by their distance to each QUERY, on standardised "
        "Haralick features (euclidean). A query that is one of DIR's images is not its own "
        "neighbour; a query may be given by its file name within DIR. Images 1 pixel high or "
        "wide (NaN features) are left out, with a warning."),
        epilog="example:\n  haralick-learn similar photos photos/cat01.jpg -k 5 --plot similar.png",
    )
    similar.add_argument("images", metavar="DIR", help="the folder (or glob) to search "
                         "(with --index: the first QUERY)")
    similar.add_argument("queries", metavar="QUERY", nargs="*", help="query image file(s)")
    similar.add_argument("-k", type=_positive(1), default=3, metavar="K",
                         help="similar images per query (default 3)")
    similar.add_argument("--plot", metavar="PNG",
                         help="also draw each query and its similar images into this file")
    similar.add_argument("-r", "--recursive", action="store_true",
                         help="include subfolders (links to folders are not followed)")
    _n_jobs(similar)
    similar.add_argument("--index", metavar="INDEX",
                         help="answer from an index saved by 'haralick-learn index' instead of "
                         "featurizing DIR (every positional argument is then a QUERY)")
    _table_options(similar)
    similar.set_defaults(func=_similar, usage_error=similar.error)

    index = commands.add_parser(
        "index", formatter_class=formatter,
        help="featurize a folder of images once and save a search index for 'similar --index'",
        description=_wrap("Featurize every image of DIR (or the files a glob pattern matches), "
        "standardise the features and save the rows, the featurizer's settings, the scaler "
        "and the search's settings in one file (.npz arrays and JSON: loading it runs no "
        "code). 'haralick-learn similar --index INDEX QUERY...' then only featurizes the "
        "queries, and the images changed since. The index refuses queries featurized with "
        "other settings or by another version of haralick_learn."),
        epilog="example:\n  haralick-learn index photos -o photos.index --cache .feature_cache\n"
        "  haralick-learn similar --index photos.index photos/cat01.jpg -k 5",
    )
    index.add_argument("images", metavar="DIR_OR_GLOB", help="the folder (or glob) to index")
    index.add_argument("-o", "--output", required=True, metavar="INDEX",
                       help="index file to write")
    index.add_argument("-r", "--recursive", action="store_true",
                       help="include subfolders (links to folders are not followed)")
    index.add_argument("--cache", metavar="DIR", default=None,
                       help="feature cache folder: a rerun featurizes only new or changed images")
    index.add_argument("--algorithm", choices=["brute", "nndescent"], default="brute",
                       help="exact search (brute, default) or an approximate graph (nndescent: "
                       "built anew, the same each time, whenever the index is loaded; needs "
                       "pip install 'haralick_learn[approximate]')")
    _n_jobs(index)
    _table_options(index)
    index.set_defaults(func=_index)

    evaluate = commands.add_parser(
        "evaluate", formatter_class=formatter,
        help="cross-validated accuracy of a classifier on the images of a folder",
        description=_wrap("Label each image of DIR from its file name (building07.jpg -> building) "
        "or its folder (--labels parent), featurize, and cross-validate "
        "StandardScaler + LogisticRegression: the accuracy over the folds with its spread, "
        "then a per-class report (precision, recall, F1) of the held-out predictions. "
        "Images 1 pixel high or wide (NaN features) are left out, with a warning."),
        epilog="example:\n  haralick-learn evaluate dataset --labels parent --recursive --cv 5",
    )
    evaluate.add_argument("images", metavar="DIR", help="the folder (or glob) of labelled images")
    evaluate.add_argument("--labels", choices=["name", "parent"], default="name",
                          help="label from the file name (default) or the parent folder's name")
    evaluate.add_argument("--cv", type=_positive(2), default=5, metavar="FOLDS",
                          help="number of stratified folds (default 5)")
    evaluate.add_argument("-r", "--recursive", action="store_true",
                          help="include subfolders (links to folders are not followed)")
    _n_jobs(evaluate)
    _table_options(evaluate)
    evaluate.set_defaults(func=_evaluate)

    demo = commands.add_parser(
        "demo",
        help="classify the shipped sample images and show the most similar ones",
        description="Run the whole flow on the 90 sample images shipped with the "
        "package: featurize, 5-fold accuracy, 3 most similar images to a query, "
        "and a PNG figure of them.",
    )
    demo.add_argument("--query", type=int, default=0, help="index of the query image (default 0)")
    demo.add_argument(
        "-o", "--output", default="similar_images.png",
        help="where to write the figure (default ./similar_images.png)",
    )
    _n_jobs(demo)
    _table_options(demo, ["gray_conversion"])
    demo.set_defaults(func=_demo)

    regions = commands.add_parser(
        "regions", formatter_class=formatter,
        help="one row of Haralick features per labelled region of an image",
        description=_wrap("Featurize each labelled region of IMAGE inside its own mask (the "
        "rows of region_features) and write one row per label: 'label', its bounding box "
        "(bbox_0_min, bbox_1_min, bbox_0_max, bbox_1_max as skimage's regionprops: the "
        "maximum excluded; a third axis for a volume), 'count' (its pixels), then the named "
        "features. LABELS has IMAGE's shape: 0 is background, each positive integer a "
        "region. Zarr stores, OME-Zarr images and OME-TIFF files (.ome.tif) are read tile by "
        "tile, in memory that follows the tile size, not the image's. Finished batches of "
        "regions are kept in a hidden directory beside OUT: an interrupted run, run again "
        "with the same inputs and options, resumes where it stopped. OUT itself is written "
        "at the end, whole."),
        epilog="examples:\n  haralick-learn regions cells.png labels.png -o cells.csv "
        "--features ibsi --bin-width 25 --aggregate mean\n"
        "  haralick-learn regions slide.ome.tif nuclei.zarr -o nuclei.parquet\n"
        "  haralick-learn regions scan.nii.gz organs.nii.gz --volume -o organs.parquet",
    )
    regions.add_argument("image", metavar="IMAGE",
                         help="the image file (with --volume, the volume file), or a Zarr "
                         "store, OME-Zarr image or OME-TIFF file (read tile by tile)")
    regions.add_argument("labels", metavar="LABELS",
                         help="the label image: a one-channel PNG/TIFF of integers (16-bit "
                         "PNG too) or a .npy array; with --volume, a volume file or .npy; or "
                         "a Zarr store, OME-Zarr image or OME-TIFF file (read tile by tile)")
    regions.add_argument("-o", "--output", required=True, metavar="OUT",
                         help="OUT.csv, or OUT.parquet (needs pyarrow)")
    regions.add_argument("--on-error", choices=["raise", "nan"], default="raise",
                         help="a region without any pixel pair (one pixel, say) stops the run "
                         "(raise, default) or gets a row of NaN and a warning (nan)")
    regions.add_argument("--n-jobs", type=_jobs, default=None, metavar="N",
                         help="batches of regions featurized in parallel (default 1; -1: all "
                         "processors)")
    regions.add_argument("--tile-shape", type=_positive(1), nargs="+", default=None,
                         metavar="N", help="the tiles read at once: one length for every "
                         "axis, or one per axis (default: the labels' chunks, grouped to "
                         "about a million pixels)")
    _table_options(regions, parameter_names("regions"))
    regions.set_defaults(func=_regions)

    texture_map = commands.add_parser(
        "map", formatter_class=formatter,
        help="texture maps: the Haralick features of the window around each pixel or voxel",
        description=_wrap("Compute the features of the window around every pixel of IMAGE "
        "(exact: the featurizer's row of each window's crop, windows clipped at the edges) "
        "and write them: .npy (height, width, features) float64, .tif (one float32 page "
        "per feature, their names in the metadata), or .zarr (float64, computed and written "
        "in 1024 x 1024 tiles, the names in feature_names.txt inside the store). A .tif or .npy "
        "run that would need more memory than is available is refused before it starts: "
        "write .zarr then.") + "\n\n" + _wrap(
        "With --volume, IMAGE is a volume (NIfTI, NRRD or multi-page TIFF) mapped with cubic "
        "windows and the 13 3-D directions, in memory, and written as one 4-D float64 image "
        "on the volume's voxel grid: .nii or .nii.gz (i, j, k, feature) with the volume's "
        "affine, or .nrrd (feature, i, j, k) with its space directions and origin, the "
        "feature names in a JSON sidecar (maps.nii.gz.json); or "
        ".npy / .zarr (i, j, k, features) as for an image. With --mask, only the voxels "
        "inside it are mapped (NaN elsewhere): pyradiomics's voxel-based maps, "
        "window = 2 * kernelRadius + 1."),
        epilog="examples:\n  haralick-learn map photo.jpg -o maps.tif --window 15 "
        "--aggregate mean --features 'contrast_*' 'entropy_*' --preview maps.png\n"
        "  haralick-learn map scan.nii.gz --volume --mask lesion.nii.gz -o maps.nii.gz "
        "--window 3 --features ibsi --bin-width 25 --aggregate mean",
    )
    texture_map.add_argument("image", metavar="IMAGE",
                             help="the image file (with --volume, the volume file)")
    texture_map.add_argument("-o", "--output", required=True,
                             help="OUT.tif, OUT.tiff, OUT.npy or OUT.zarr (written tile by "
                             "tile); with --volume OUT.nii, OUT.nii.gz, OUT.nrrd, OUT.npy or "
                             "OUT.zarr")
    texture_map.add_argument("--window", type=_positive(3), default=15,
                             help="odd side of the window (default 15; pyradiomics's "
                             "kernelRadius r is --window 2r+1)")
    texture_map.add_argument("--step", type=_positive(1), default=1,
                             help="every STEP-th row and column (and slice) only (default 1)")
    texture_map.add_argument("--features", nargs="+", metavar="NAME",
                             help="what is computed: a set (haralick, skimage, ibsi) or "
                             "features (ibsi_Contrast, contrast), default haralick; and which "
                             "columns are kept: names or patterns (contrast_*, "
                             "ibsi_JointEntropy_mean_d1)")
    texture_map.add_argument("--mask", metavar="MASK", default=None,
                             help="map the pixels (voxels) inside MASK only, NaN elsewhere: "
                             "a mask image of IMAGE's size, or with --volume a volume file on "
                             "IMAGE's voxel grid; non-zero is inside")
    texture_map.add_argument("--masked-window", action=argparse.BooleanOptionalAction,
                             default=True,
                             help="with --mask, count only the pairs of pixels both inside "
                             "it, and bin the levels over it (pyradiomics's maskedKernel); "
                             "--no-masked-window: whole windows, binned over the "
                             "whole image (default --masked-window)")
    _table_options(texture_map, _MAP_OPTIONS)
    texture_map.add_argument("--preview", metavar="PNG",
                             help="also draw the image beside the first 3 kept maps "
                             "(a 2-D image only)")
    texture_map.add_argument("--n-jobs", type=_jobs, default=None, metavar="N",
                             help="bands of rows computed in parallel (default 1; -1: all "
                             "processors)")
    texture_map.set_defaults(func=_map)
    return parser


def main(argv=None):
    """Entry point of the ``haralick-learn`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)

    def one_line_warning(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        print(f"haralick-learn {args.command}: warning: {text}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = one_line_warning
            return args.func(args)
    except (CommandError, OSError, ValueError, TypeError, IndexError, MemoryError,
            ImportError) as exc:  # ImportError: an optional package not installed
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"haralick-learn {args.command}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"haralick-learn {args.command}: interrupted", file=sys.stderr)
        return 130
