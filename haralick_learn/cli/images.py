"""The commands on a collection of images: featurize, similar, index, evaluate, demo."""

import argparse
import contextlib
import csv
import os
import re
import sys
from collections import Counter

from ..io.files import atomic_output
from .._params import parameter_names
from .common import (IMAGE_EXTENSIONS, VOLUME_EXTENSIONS, CommandError, add_n_jobs,
                     add_table_options, at_least, check_figure, check_output,
                     check_volume_readers, counted, find_images, image_root, match_masks,
                     refuse_inputs, save_figure, say_if_compiling, warn, wrap)


#: What ``featurize -o`` writes.
CSV_SUFFIXES = (".csv",)


def _rows(args, featurizer, images):
    """``featurizer.fit_transform(images)``, said first if its kernels compile."""
    say_if_compiling(args, "features")
    return featurizer.fit_transform(images)


def _featurizer(args, verbose=1):
    from .. import HaralickFeaturizer

    return HaralickFeaturizer(n_jobs=args.n_jobs, verbose=verbose,
                              on_error=getattr(args, "on_error", "raise"),
                              **{name: getattr(args, name) for name in parameter_names()})


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
    warn(args, f"left out {counted(len(reasons), 'image')} whose features are NaN "
               f"(distances and classifiers need numbers): {_described(paths, reasons)}")
    kept = np.array([i for i in range(len(paths)) if i not in reasons], dtype=np.intp)
    if not kept.size:
        every = "the only image has" if len(paths) == 1 else f"all {len(paths)} images have"
        raise CommandError(f"no image left: {every} NaN features")
    return [paths[i] for i in kept], features[kept], kept, reasons


def _samples(args):
    """The files of ``args.images``: images, or with ``--volume`` volumes (readers checked)."""
    extensions = VOLUME_EXTENSIONS if args.volume else IMAGE_EXTENSIONS
    paths = find_images(args.images, recursive=args.recursive, extensions=extensions)
    if args.volume:
        check_volume_readers(paths)
    return paths


def _featurize(args):
    import numpy as np

    check_output(args.output, suffixes=CSV_SUFFIXES,
                 writes="featurize writes CSV ('-o -': to standard output)")
    paths = _samples(args)
    refuse_inputs(args.output, paths)
    featurizer = _featurizer(args)
    names = featurizer.get_feature_names_out()
    if args.masks is None:
        features = _rows(args, featurizer, paths)
    else:
        masks = match_masks(paths, args.masks, image_root(args.images))
        if args.volume:
            check_volume_readers([mask for mask in masks if mask is not None])
        unmatched = [path for path, mask in zip(paths, masks) if mask is None]
        if unmatched and args.on_error == "raise":
            raise CommandError(f"no mask in {args.masks!r} for {counted(len(unmatched), 'image')}"
                               f": {', '.join(unmatched)} (--on-error nan gives them NaN rows)")
        if unmatched:
            warn(args, f"no mask in {args.masks!r} for {counted(len(unmatched), 'image')} "
                       f"(written as nan): {', '.join(unmatched)}")
        features = np.full((len(paths), len(names)), np.nan)
        matched = [i for i, mask in enumerate(masks) if mask is not None]
        if matched:
            features[matched] = _rows(args, featurizer,
                                      [(paths[i], masks[i]) for i in matched])
    reasons = _nan_reasons(features, names)
    if reasons:
        warn(args, f"{counted(len(reasons), 'image')} with NaN features (written as nan): "
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
    print(f"Wrote {counted(len(paths), 'image')} x {counted(len(names), 'feature')} to {where}",
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
    from sklearn.preprocessing import StandardScaler

    from .. import DistanceNeighbors

    if args.index:
        check_figure(args.plot)
        # every positional argument is a query (the index's images are checked in _answer)
        refuse_inputs(args.plot, [args.images, *args.queries])
        return _similar_from_index(args)
    if not args.queries:
        args.usage_error("the following arguments are required: QUERY (or --index INDEX)")
    check_figure(args.plot)
    paths = _samples(args)
    queries = _match_queries(args.queries, args.images, paths)
    refuse_inputs(args.plot, [*paths, *(name for _, name in queries)])
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

    refuse_inputs(args.plot, kept_paths)  # the figure reads them
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
        print(f"{counted(args.k, 'image')} most similar to {name}:")
        for rank, (d, i) in enumerate(zip(dist, ind), start=1):
            print(f"  {rank}. {kept_paths[i]}  distance {d:.3f}")
    if args.plot:
        shown = [name if index is None else position[index] for index, name in queries]
        save_figure(_plot(kept_paths, shown, indices, distances), args.plot)
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
    check_output(args.output)
    if args.cache is not None and os.path.abspath(args.cache) == os.path.abspath(args.output):
        # the cache would be made a folder there, and the index then not written onto it
        raise CommandError(f"cannot write {args.output!r}: it is the --cache folder")
    paths = [os.path.abspath(path) for path in _samples(args)]
    refuse_inputs(args.output, paths)
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
    print(f"Wrote an index of {counted(len(kept_paths), 'image')} ({args.algorithm} search) "
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
    if differ and _same_settings(wanted, saved):  # two spellings of the same rows
        differ = []
    if differ:
        raise CommandError(
            f"index {path!r} was made with other featurizer settings than the queries': "
            f"{', '.join(differ)}; use the index's settings or rebuild it")
    names = list(featurizer.get_feature_names_out())
    if index["feature_names"] != names:  # its rows are not those the settings give
        raise CommandError(
            f"index {path!r}: its feature names are not those of its featurizer settings "
            f"({len(index['feature_names'])} features, not {len(names)}): the file is damaged "
            "or not written by 'haralick-learn index'; rebuild it")
    return index


def _same_settings(wanted, saved):
    """Whether two sets of featurizer parameters give the same rows (``offsets=None`` and
    ``"mahotas"`` with Haralick's set, say): their settings' keys are equal."""
    from .._settings import TextureSettings

    try:
        return (TextureSettings.from_params(**wanted).cache_key()
                == TextureSettings.from_params(**saved).cache_key())
    except (TypeError, ValueError):  # a parameter this version does not know
        return False


def _similar_from_index(args):
    import numpy as np
    from sklearn.preprocessing import StandardScaler

    from .. import DistanceNeighbors
    from ..neighbors.saved_index import changed_files, fitted_scaler

    queries = [args.images, *args.queries]  # with --index, every positional is a query
    check_output(args.plot)
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
        warn(args, f"{counted(len(missing), 'image')} of the index no longer "
                   f"{'exists' if len(missing) == 1 else 'exist'}, left out: "
                   f"{', '.join(paths[i] for i in missing)}")
    if changed:
        warn(args, f"{counted(len(changed), 'image')} changed since the index was made, "
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
              f"{counted(len(kept_paths), 'image')} (about a minute: pynndescent compiles its "
              "code at each run)", file=sys.stderr, flush=True)
    nn.fit(scaler.transform(kept_features))
    return _answer(args, matched, kept_paths, position, scaler, nn, new_features)


def _plot(images, queries, indices, distances):
    import matplotlib

    matplotlib.use("Agg")  # files only: must run without a display
    from .. import SimilarImagesDisplay

    return SimilarImagesDisplay.from_predictions(images, queries, indices, distances).figure_


def _check_classes(args, paths, labels, *, show, left_out=()):
    """The classes and their counts; an error if they cannot be cross-validated.

    ``show``: print the summary line (``18 images, 3 classes: ...``) first;
    otherwise it is printed only with an error. ``left_out``: ``(path, label)``
    of the images left out for their NaN features. Their classes are counted
    with the images used, so a class they leave with too few images, or none,
    is refused, naming them.
    """
    count = Counter(labels)
    dropped = {}
    for path, label in left_out:
        dropped.setdefault(label, []).append(path)
    classes = sorted(set(count) | set(dropped))
    summary = (f"{counted(len(paths), 'image')}, {counted(len(classes), 'class')}: "
               + ", ".join(f"{c} ({count[c]})" for c in classes))
    short = min(classes, key=count.__getitem__, default=None)
    if len(classes) < 2:
        source = "file names" if args.labels == "name" else "folder names"
        other = "parent" if args.labels == "name" else "name"
        error = (f"need at least 2 classes to evaluate, found {len(classes)} "
                 f"(labels from the {source}; try --labels {other})")
    elif count[short] < args.cv:
        error = (f"class '{short}' has {counted(count[short], 'image')}, "
                 f"fewer than the {args.cv} folds of --cv {args.cv}")
        if short in dropped:
            error += (f", after leaving out {len(dropped[short])} of its images with NaN "
                      f"features: {', '.join(dropped[short])}")
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
    # Before the long part: leaving out images with NaN features only lowers the counts.
    _check_classes(args, paths, labels, show=False)
    # The featurizer is stateless: featurizing once and cross-validating the
    # rest of the pipeline scores the whole pipeline on the paths.
    featurizer = _featurizer(args)
    features = _rows(args, featurizer, paths)
    used, features, kept, reasons = _leave_out_nan(args, paths, features,
                                                   featurizer.get_feature_names_out())
    left_out = [(paths[row], labels[row]) for row in reasons]
    labels = np.asarray(labels)[kept]
    _check_classes(args, used, labels, show=True, left_out=left_out)  # of the images used
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

    check_figure(args.output)
    paths = load_sample_images().paths
    refuse_inputs(args.output, paths)
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

    save_figure(_plot(paths, [query], indices[[query]], distances[[query]]), args.output)
    return 0


def add_commands(commands):
    """Add the images commands to ``commands`` (the top-level subparsers)."""
    formatter = argparse.RawDescriptionHelpFormatter  # examples in epilogs keep their lines

    featurize = commands.add_parser(
        "featurize", formatter_class=formatter,
        help="write the Haralick features of a folder of images to CSV",
        description=wrap("Featurize every image of a folder (or the files a glob pattern matches) "
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
    add_n_jobs(featurize)
    featurize.add_argument("--masks", metavar="FOLDER", default=None,
                           help="featurize each image inside its mask: the file of FOLDER at the "
                           "image's path relative to DIR (x/a.jpg -> FOLDER/x/a.jpg), else the "
                           "one with the same name without extension (FOLDER/x/a.png), else "
                           "FOLDER/a.png if no other image is called a; non-zero pixels are "
                           "inside. An image without a mask stops the run (or, with --on-error "
                           "nan, gets a row of NaN)")
    add_table_options(featurize)
    featurize.set_defaults(func=_featurize)

    similar = commands.add_parser(
        "similar", formatter_class=formatter,
        help="list (and draw) the images of a folder most similar to query images",
        description=wrap("Rank the images of DIR by their distance to each QUERY, on standardised "
        "Haralick features (euclidean). A query that is one of DIR's images is not its own "
        "neighbour; a query may be given by its file name within DIR. Images 1 pixel high or "
        "wide (NaN features) are left out, with a warning."),
        epilog="example:\n  haralick-learn similar photos photos/cat01.jpg -k 5 --plot similar.png",
    )
    similar.add_argument("images", metavar="DIR", help="the folder (or glob) to search "
                         "(with --index: the first QUERY)")
    similar.add_argument("queries", metavar="QUERY", nargs="*", help="query image file(s)")
    similar.add_argument("-k", type=at_least(1), default=3, metavar="K",
                         help="similar images per query (default 3)")
    similar.add_argument("--plot", metavar="PNG",
                         help="also draw each query and its similar images into this file")
    similar.add_argument("-r", "--recursive", action="store_true",
                         help="include subfolders (links to folders are not followed)")
    add_n_jobs(similar)
    similar.add_argument("--index", metavar="INDEX",
                         help="answer from an index saved by 'haralick-learn index' instead of "
                         "featurizing DIR (every positional argument is then a QUERY)")
    add_table_options(similar)
    similar.set_defaults(func=_similar, usage_error=similar.error)

    index = commands.add_parser(
        "index", formatter_class=formatter,
        help="featurize a folder of images once and save a search index for 'similar --index'",
        description=wrap("Featurize every image of DIR (or the files a glob pattern matches), "
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
    add_n_jobs(index)
    add_table_options(index)
    index.set_defaults(func=_index)

    evaluate = commands.add_parser(
        "evaluate", formatter_class=formatter,
        help="cross-validated accuracy of a classifier on the images of a folder",
        description=wrap("Label each image of DIR from its file name (building07.jpg -> building) "
        "or its folder (--labels parent), featurize, and cross-validate "
        "StandardScaler + LogisticRegression: the accuracy over the folds with its spread, "
        "then a per-class report (precision, recall, F1) of the held-out predictions. "
        "Images 1 pixel high or wide (NaN features) are left out, with a warning."),
        epilog="example:\n  haralick-learn evaluate dataset --labels parent --recursive --cv 5",
    )
    evaluate.add_argument("images", metavar="DIR", help="the folder (or glob) of labelled images")
    evaluate.add_argument("--labels", choices=["name", "parent"], default="name",
                          help="label from the file name (default) or the parent folder's name")
    evaluate.add_argument("--cv", type=at_least(2), default=5, metavar="FOLDS",
                          help="number of stratified folds (default 5)")
    evaluate.add_argument("-r", "--recursive", action="store_true",
                          help="include subfolders (links to folders are not followed)")
    add_n_jobs(evaluate)
    add_table_options(evaluate)
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
    add_n_jobs(demo)
    add_table_options(demo, ["gray_conversion"])
    demo.set_defaults(func=_demo)
