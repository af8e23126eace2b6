"""What the commands of ``haralick-learn`` share.

The runtime error (``CommandError``), finding images and their masks, the
checks made before any work (outputs that cannot be written or would
overwrite an input, figure formats, optional readers), the notice before a
first compile, the memory available, and the options several commands take.
"""

import argparse
import contextlib
import fnmatch
import glob
import os
import sys
import textwrap

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


def counted(n, noun):
    """``1 image``, ``2 images``; ``1 class``, ``2 classes``.

    Examples
    --------
    >>> counted(1, "image"), counted(3, "class")
    ('1 image', '3 classes')
    """
    if n == 1:
        return f"{n} {noun}"
    return f"{n} {noun}{'es' if noun.endswith('s') else 's'}"


def warn(args, text):
    """One warning line of the running command on standard error."""
    print(f"haralick-learn {args.command}: warning: {text}", file=sys.stderr)


def either(items):
    """``a``, ``a or b``, ``a, b or c``.

    Examples
    --------
    >>> either([".csv", ".parquet"])
    '.csv or .parquet'
    """
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def check_output(path, *, suffixes=None, writes=None):
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
                           f"{either(suffixes)} (any case)")


def refuse_inputs(path, inputs):
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
            raise CommandError(f"cannot write {path!r}: it is the input {source!r}")


def _figure_suffixes():
    """The suffixes of the formats matplotlib writes a figure in (``.png``, ``.pdf``...)."""
    from matplotlib.backend_bases import FigureCanvasBase

    return tuple(f".{kind}" for kind in sorted(FigureCanvasBase.get_supported_filetypes()))


def check_figure(path):
    """Fail before any work if the figure ``path`` cannot be written (``None``: no figure)."""
    if path is None:
        return
    check_output(path, suffixes=_figure_suffixes(), writes="the figure is written by matplotlib")


def save_figure(figure, path, what="the similar-images figure"):
    """Write ``figure`` to exactly ``path``, in the format its suffix names, then report it."""
    import matplotlib.pyplot as plt

    kind = os.path.splitext(path)[1][1:].lower()
    try:
        with atomic_output(path) as temporary, open(temporary, "wb") as f:
            figure.savefig(f, format=kind, dpi=100)
    finally:
        plt.close(figure)
    print(f"Wrote {what} to {os.path.abspath(path)}")


#: What compiles on a machine's first run of a kind of work: the module, its kernel that
#: tells (None: any of the module's), what to call them and how long they take.
_KERNELS = {
    "features": ("haralick_learn.texture.counting", None, "feature", "a few seconds"),
    "maps": ("haralick_learn.texture.windowed", "map_rows", "texture-map", "about 10 s"),
    # symmetric=False and colour pairs: a kernel of their own, compiled on their first map
    "ordered maps": ("haralick_learn.texture.windowed", "map_rows_ordered",
                     "ordered-pair texture-map", "about 11 s"),
    # gray region tables: one compiled pass for all the regions (survey, quantizing, counting)
    "regions": ("haralick_learn.texture.counting", "_crop_sums", "region-table", "about 25 s"),
}


def say_if_compiling(args, kind):
    """One line on standard error before work whose kernels this machine has not compiled.

    numba compiles them on their first run here and caches them on disk: later
    runs load them in a moment, and say nothing.
    """
    from .._numba_cache import compiled_here

    module, kernel, what, duration = _KERNELS[kind]
    said = vars(args).setdefault("_compiling_said", set())
    if kind in said or compiled_here(module, kernel):
        return
    said.add(kind)
    print(f"haralick-learn {args.command}: compiling the {what} kernels, once per machine "
          f"({duration}); later runs load them from numba's cache", file=sys.stderr, flush=True)


def check_volume_readers(paths):
    """Fail before any work when a volume file's optional reader is not installed."""
    from ..io.decode import check_volume_reader

    for path in paths:
        try:
            check_volume_reader(path)
        except ImportError as exc:
            raise CommandError(f"--volume {path}: {exc}") from None


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

    Examples
    --------
    >>> image_root("photos/**/*.png"), image_root("photos/cats/cat01.jpg")
    ('photos', 'photos/cats')
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
                    f"is ambiguous: {counted(len(sharing), 'image')} are called "
                    f"{_stem(name)!r} ({', '.join(sharing)}); put each image's mask at its "
                    f"relative path ({os.path.join(mirrored, candidates[0])})")
        if len(candidates) > 1:
            raise CommandError(f"{path}: several masks match in {where!r}: "
                               f"{', '.join(candidates)}")
        masks.append(os.path.join(where, candidates[0]) if candidates else None)
    return masks


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


def readable_size(n_bytes):
    """A number of bytes in MB, or GB from a billion on.

    Examples
    --------
    >>> readable_size(427 * 640 * 52 * 8), readable_size(3.2e9)
    ('114 MB', '3.2 GB')
    """
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.0f} MB"


def wrap(text):
    """A command's description as lines of at most 79 characters, for its ``--help``."""
    return textwrap.fill(text, width=79)


def parse_jobs(text):
    """The value of ``--n-jobs``: an integer other than 0 (a usage error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError(
            "0 is invalid: give the number of images featurized at once "
            "(1 or more), or -1 for all processors")
    return value


def add_n_jobs(parser):
    """The ``--n-jobs`` option of a command that featurizes images, for ``parser``."""
    parser.add_argument("--n-jobs", type=parse_jobs, default=None, metavar="N",
                        help="images featurized in parallel (default 1; -1: all processors, "
                        "-2: all but one)")


def add_table_options(parser, names=None):
    """The options of the featurizer's row-changing parameters ``names`` (default: all).

    Generated from the parameter table (``_params``): ``--features ibsi --bin-width 25``,
    with the featurizer's defaults.
    """
    group = parser.add_argument_group(
        "featurizer settings", "HaralickFeaturizer's parameters of the same names")
    for name in parameter_names() if names is None else names:
        flags, options = argparse_arguments(parameter(name))
        group.add_argument(*flags, **options)


def at_least(minimum):
    """The ``type`` of an option taking an integer of ``minimum`` or more (else a usage error)."""
    def check(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return check
