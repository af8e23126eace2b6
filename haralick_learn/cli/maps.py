"""``haralick-learn map``: the texture maps of an image or a volume, and their files."""

import argparse
import contextlib
import fnmatch
import json
import os
import shutil
import warnings

from ..io.files import atomic_output
from .._params import parameter, parameter_names
from .common import (CommandError, add_table_options, at_least, available_memory,
                     check_figure, check_output, check_volume_readers, counted, either,
                     parse_jobs, readable_size, refuse_inputs, save_figure, say_if_compiling,
                     warn, wrap)


#: What ``map -o`` writes.
MAP_SUFFIXES = (".tif", ".tiff", ".npy", ".zarr")


#: What ``map --volume -o`` writes; NIfTI and NRRD carry the volume's geometry.
VOLUME_MAP_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".npy", ".zarr")


#: The volume formats that place the maps in space, with a JSON sidecar naming the features.
_GEOMETRY_SUFFIXES = (".nii", ".nii.gz", ".nrrd")


#: The featurizer's parameters that ``map`` takes as options; ``features`` is map's own
#: ``--features``, which also names the columns to keep (see ``_map_features``).
_MAP_OPTIONS = tuple(name for name in parameter_names("maps") if name != "features")


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

    from .. import HaralickFeaturizer

    output = args.output
    if output.rstrip("/\\").lower().endswith(".zarr"):
        output = output.rstrip("/\\")  # a store is a folder: 'X.zarr/' names it too
    lower = output.lower()
    if args.volume and lower.endswith((".tif", ".tiff")):
        raise CommandError(
            f"cannot write {output!r}: a .tif holds a 2-D image's maps (a page per feature); "
            f"a volume's maps are written as NIfTI or NRRD (with its geometry), NumPy or Zarr: "
            f"end the file in {either(VOLUME_MAP_SUFFIXES)}")
    if not args.volume and lower.endswith(_GEOMETRY_SUFFIXES):
        raise CommandError(
            f"cannot write {output!r}: NIfTI and NRRD hold a volume's maps: add --volume "
            "(IMAGE a volume file), or write a 2-D image's maps to .tif, .npy or .zarr")
    suffixes = VOLUME_MAP_SUFFIXES if args.volume else MAP_SUFFIXES
    if not lower.endswith(suffixes):
        check_output(output, suffixes=suffixes,
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
    if tiled and args.color != "gray":
        raise CommandError(f"a 2-D image's .zarr maps are computed tile by tile from its gray "
                           f"levels: --color {args.color} needs the whole image in memory "
                           "(write .npy or .tif)")
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
    check_output(output)
    check_figure(args.preview)
    inputs = [args.image] + ([args.mask] if args.mask else [])
    refuse_inputs(output, inputs)
    refuse_inputs(args.preview, inputs)
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
                f"needs about {readable_size(needed)}, more than the "
                f"{readable_size(available)} available: "
                "write a .zarr store instead (computed and written tile by tile), or "
                "--aggregate mean (a quarter of the features), or a --step"
            )
    maps = _computed_maps(args, options, chosen, len(names))
    with atomic_output(output) as temporary, open(temporary, "wb") as f:
        if kind == ".npy":
            np.save(f, maps)  # a file object: np.save adds no suffix to its name
        else:
            import tifffile

            # one float32 page per feature, named in the description (ImageJ/GIS read the
            # bands), converted a page at a time
            with tifffile.TiffWriter(f) as tif:
                tif.write((maps[..., k].astype(np.float32) for k in range(maps.shape[-1])),
                          shape=(maps.shape[-1], *maps.shape[:2]), dtype=np.float32,
                          photometric="minisblack", metadata={"features": chosen_names})
    print(f"Wrote {maps.shape[0]} x {maps.shape[1]} maps of {counted(len(chosen), 'feature')} "
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


def _kind_of_maps(options):
    """The kernels the maps of ``options`` run (see ``say_if_compiling``)."""
    ordered = options.get("symmetric") is False or bool(options.get("color_pairs"))
    return "ordered maps" if ordered else "maps"


def _computed_maps(args, options, chosen, n_features):
    """The maps of ``args.image`` in memory, only the ``chosen`` of its ``n_features`` kept."""
    from .. import texture_maps

    say_if_compiling(args, _kind_of_maps(options))
    maps = texture_maps(args.image, args.window, step=args.step, n_jobs=args.n_jobs, verbose=1,
                        mask=args.mask, masked_window=args.masked_window, **options)
    if len(chosen) < n_features:
        maps = maps[..., chosen]
    return maps


def _map_volume(args, output, kind, options, chosen, chosen_names, n_features):
    """The maps of a volume: computed in memory, written with the volume's geometry."""
    import numpy as np

    from ..io.decode import check_volume_reader, volume_affine, volume_shape

    check_volume_readers([args.image] + ([args.mask] if args.mask else []))
    if kind in _GEOMETRY_SUFFIXES:
        try:
            check_volume_reader(output)  # its reader writes it too
        except ImportError as exc:
            raise CommandError(str(exc).replace("reading", "writing", 1)) from None
    sidecar = _sidecar_path(output) if kind in _GEOMETRY_SUFFIXES else None
    check_output(sidecar)
    refuse_inputs(sidecar, [args.image] + ([args.mask] if args.mask else []))
    shape = volume_shape(args.image)
    if shape is not None:
        needed = _volume_map_memory(args, kind, shape, n_features, len(chosen))
        available = available_memory()
        if available is not None and needed > available:
            raise CommandError(
                f"mapping {args.image!r} ({' x '.join(map(str, shape))} voxels) needs about "
                f"{readable_size(needed)}, more than the {readable_size(available)} available: "
                "--aggregate mean (a 13th of the features), fewer --features, or a --step")
    affine = None
    if kind in _GEOMETRY_SUFFIXES:
        affine = volume_affine(args.image)
        if affine is None:
            warn(args, f"{args.image} does not place its voxels in space (no NIfTI or NRRD "
                       "geometry): the maps' voxels are 1 x 1 x 1 at the origin")
            affine = np.eye(4)
        # output voxel (i, j, k) is the volume's voxel (step i, step j, step k)
        affine = affine @ np.diag([args.step, args.step, args.step, 1.0])
    maps = _computed_maps(args, options, chosen, n_features)
    if kind == ".zarr":
        _write_volume_zarr(output, maps, chosen_names)
    elif kind == ".npy":
        with atomic_output(output) as temporary, open(temporary, "wb") as f:
            np.save(f, maps)
    else:
        description = _map_description(args, options, chosen_names)
        # Two renames cannot be one step. Once both files are written, the earlier maps
        # are removed, then the sidecar renamed, the maps last: at no instant does a new
        # sidecar sit beside earlier maps, and an interruption leaves a sidecar without
        # maps, which does not look complete. A failed rename of the maps removes the
        # sidecar it would describe.
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
                    _remove_earlier(output, temporary)
                sidecar_written = True
        except BaseException:
            if sidecar_written:
                with contextlib.suppress(OSError):
                    os.remove(sidecar)
            raise
    shown = " x ".join(str(side) for side in maps.shape[:3])
    names_at = f" (feature names in {os.path.abspath(sidecar)})" if sidecar else ""
    print(f"Wrote {shown} maps of {counted(len(chosen), 'feature')} (window {args.window}, step "
          f"{args.step}) to {os.path.abspath(output)}{names_at}")
    return 0


def _remove_earlier(path, temporary):
    """Remove the file at ``path`` (through a link, the file it names): ``temporary`` replaces it.

    ``temporary`` takes the removed file's permissions, as ``atomic_output``
    would have given it.
    """
    target = os.path.realpath(path)
    if os.path.isfile(target):
        shutil.copymode(target, temporary)
        os.remove(target)


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


def _write_feature_names(store, names):
    """The names of a Zarr store's features, in order, in ``feature_names.txt`` inside it."""
    with open(os.path.join(store, "feature_names.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(names) + "\n")


def _write_volume_zarr(output, maps, names):
    """A volume's maps as a Zarr store (the names in ``feature_names.txt`` inside it)."""
    import dask.array as da

    with atomic_output(output, directory=True) as temporary:
        chunks = tuple(min(side, 64) for side in maps.shape[:3]) + (maps.shape[3],)
        da.from_array(maps, chunks=chunks).to_zarr(temporary)
        _write_feature_names(temporary, names)


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
    say_if_compiling(args, _kind_of_maps(options))
    from joblib import effective_n_jobs

    # joblib's count, as everywhere: -1 every core, -2 all but one
    pool = ThreadPoolExecutor(effective_n_jobs(1 if args.n_jobs is None else args.n_jobs))
    with atomic_output(output, directory=True) as temporary:
        try:
            with dask.config.set(scheduler="threads", pool=pool):
                lazy.to_zarr(temporary)
        finally:
            # Ctrl-C stops the scheduler, not the tiles being computed: they finish
            # (into the temporary store) before it is removed.
            pool.shutdown(wait=True, cancel_futures=True)
        _write_feature_names(temporary, chosen_names)
    print(f"Wrote {lazy.shape[0]} x {lazy.shape[1]} maps of {counted(len(chosen), 'feature')} "
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
    save_figure(figure, args.preview, f"the preview of {', '.join(shown)}")


def add_commands(commands):
    """Add the maps commands to ``commands`` (the top-level subparsers)."""
    formatter = argparse.RawDescriptionHelpFormatter  # examples in epilogs keep their lines

    texture_map = commands.add_parser(
        "map", formatter_class=formatter,
        help="texture maps: the Haralick features of the window around each pixel or voxel",
        description=wrap("Compute the features of the window around every pixel of IMAGE "
        "(exact: the featurizer's row of each window's crop, windows clipped at the edges) "
        "and write them: .npy (height, width, features) float64, .tif (one float32 page "
        "per feature, their names in the metadata), or .zarr (float64, computed and written "
        "in 1024 x 1024 tiles, the names in feature_names.txt inside the store). A .tif or .npy "
        "run that would need more memory than is available is refused before it starts: "
        "write .zarr then.") + "\n\n" + wrap(
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
    texture_map.add_argument("--window", type=at_least(3), default=15,
                             help="odd side of the window (default 15; pyradiomics's "
                             "kernelRadius r is --window 2r+1)")
    texture_map.add_argument("--step", type=at_least(1), default=1,
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
    add_table_options(texture_map, _MAP_OPTIONS)
    texture_map.add_argument("--preview", metavar="PNG",
                             help="also draw the image beside the first 3 kept maps "
                             "(a 2-D image only)")
    texture_map.add_argument("--n-jobs", type=parse_jobs, default=None, metavar="N",
                             help="bands of rows computed in parallel (default 1; -1: all "
                             "processors)")
    texture_map.set_defaults(func=_map)
