"""``haralick-learn regions``: one row of features per labelled region of an image."""

import argparse
import os
import sys

from .._params import parameter_names
from .common import (CommandError, add_table_options, at_least, check_output,
                     check_volume_readers, counted, parse_jobs, refuse_inputs,
                     say_if_compiling, warn, wrap)


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
        except (ValueError, EOFError) as exc:
            with open(path, "rb") as f:
                is_npy = f.read(6) == b"\x93NUMPY"
            # numpy's message for any other file advises loading it unsafely: not repeated
            reason = exc if is_npy else ("not a NumPy .npy file (a pickle is refused: loading "
                                         "one can run code)")
            raise CommandError(f"cannot read labels {path!r}: {reason}") from None
    elif volume:
        from ..io.decode import load_volume

        labels = load_volume(path)
    elif lower.endswith(_ARRAY_LABELS):
        import tifffile

        try:
            labels = tifffile.imread(path)
        except ValueError as exc:  # tifffile's errors (a damaged file) do not name it
            raise CommandError(f"cannot read labels {path!r}: {exc}") from None
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


def _refuse_inside_stores(path, inputs):
    """Fail if ``path`` lies in an input that is a directory (a Zarr store).

    The table and the run's work directory would be written into the input,
    and would change the key of the run (a store's files), so that it never resumes.
    """
    folder = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    for source in inputs:
        if os.path.isdir(source):
            store = os.path.realpath(source)
            try:
                inside = os.path.commonpath([folder, store]) == store
            except ValueError:  # on another drive (Windows)
                continue
            if inside:
                raise CommandError(f"cannot write {path!r}: it is inside the input {source!r}")


def _regions(args):
    from ..io.chunked import is_chunked
    from .._pipeline import covers_regions
    from .._region_runs import run_key, write_region_table
    from .._region_tiles import RegionTiles
    from .._settings import TextureSettings

    if args.output == "-":  # check_output lets '-' through, as standard output for others
        raise CommandError("cannot write '-': regions writes a file, and keeps the finished "
                           "batches of a run beside it; give OUT.csv or OUT.parquet")
    check_output(args.output, suffixes=REGION_SUFFIXES,
                 writes="regions writes CSV or Parquet")
    refuse_inputs(args.output, [args.image, args.labels])
    _refuse_inside_stores(args.output, [args.image, args.labels])
    if args.output.lower().endswith(".parquet"):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise CommandError("writing Parquet needs pyarrow: pip install pyarrow, or "
                               "haralick-learn[tables] (or write .csv)") from None
    # Zarr stores and OME-TIFF files are read tile by tile; the other files are read whole.
    image_tiled, labels_tiled = is_chunked(args.image), is_chunked(args.labels)
    if args.volume:
        check_volume_readers([path for path, tiled in ((args.image, image_tiled),
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
        # settings the region pass does not cover go region by region, through the featurizer
        say_if_compiling(args, "regions" if covers_regions(settings) else "features")
        plan, failed = write_region_table(
            tiles, args.output, key, n_jobs=args.n_jobs, verbose=1,
            say=lambda text: print(f"haralick-learn regions: {text}", file=sys.stderr))
    except (ValueError, TypeError) as exc:
        raise CommandError(f"{args.image!r} with labels {args.labels!r}: {exc}") from None
    finally:
        tiles.close()
    if len(failed):
        warn(args, f"{counted(len(failed), 'region')} without any pixel pair "
                   f"(written as nan): labels {', '.join(map(str, failed))}")
    print(f"Wrote {counted(len(plan), 'region')} x {counted(settings.n_features, 'feature')} "
          f"to {os.path.abspath(args.output)}")
    return 0


def add_commands(commands):
    """Add the regions commands to ``commands`` (the top-level subparsers)."""
    formatter = argparse.RawDescriptionHelpFormatter  # examples in epilogs keep their lines

    regions = commands.add_parser(
        "regions", formatter_class=formatter,
        help="one row of Haralick features per labelled region of an image",
        description=wrap("Featurize each labelled region of IMAGE inside its own mask (the "
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
    regions.add_argument("--n-jobs", type=parse_jobs, default=None, metavar="N",
                         help="batches of regions featurized in parallel (default 1; -1: all "
                         "processors)")
    regions.add_argument("--tile-shape", type=at_least(1), nargs="+", default=None,
                         metavar="N", help="the tiles read at once: one length for every "
                         "axis, or one per axis (default: the labels' chunks, grouped to "
                         "about a million pixels)")
    add_table_options(regions, parameter_names("regions"))
    regions.set_defaults(func=_regions)
