"""The path of stages for one sample: read -> channels -> quantize -> co-occurrence -> features
-> aggregate.

``HaralickFeaturizer`` drives it over batches of images
(:func:`featurize_batch`, in parallel, through the cache); region tables
drive it per label. Every stage reads the same :class:`TextureSettings`.

Within a batch, each image costs only what must be done per image (reading
it, counting its pixel pairs into the matrices' exact sums); the features of
the whole batch are then one vectorised pass of the catalogue's formulas, so
that a small image does not pay numpy's fixed cost per call 13 times over.
"""

import numpy as np

from ._aggregate import aggregate_directions
from ._channels import channel_images
from ._glcm import CooccurrenceSums, stack_sums
from ._haralick import (
    GLCMStatistics, features_of_statistics, image_features, image_sums, pair_features,
    sums_suffice,
)
from ._io import (
    describe_source, load_color_pixels, load_gray, load_mask, split_sample,
)
from ._quantize import quantize

__all__ = ["featurize_batch", "featurize_sample", "row_from_channel_images",
           "row_from_channels", "row_from_gray", "rows_from_gray", "sample_levels"]


def _row_from_levels(levels, source, settings, mask=None, kind="image"):
    features = image_features(levels, settings, mask)
    _check_pairs(np.isnan(features).all(axis=(1, 2)), levels, source, settings, mask, kind)
    return aggregate_directions(features, settings.aggregate, _n_directions(settings))


def _check_pairs(no_pair, levels, source, settings, mask, kind="image"):
    """Raise, naming ``source``, when some distance has no (counted) pixel pair at all."""
    for empty, d in zip(no_pair, settings.distances):
        if empty:
            what = "pair of non-zero pixels" if settings.ignore_zeros else "pixel pair"
            where = " inside its mask" if mask is not None else ""
            raise ValueError(
                f"{source}: {kind} of shape {levels.shape} has no {what}{where} at distance "
                f"{d} in any direction"
            )


def _n_directions(settings):
    """Directions per distance: ``4 d`` with pyradiomics's offsets, else None (the same for all)."""
    if settings.offsets != "pyradiomics":
        return None
    return tuple(len(settings.offsets_at(d)) for d in settings.distances)


def row_from_gray(gray, source, settings, mask=None):
    """The feature row of a gray image or volume (the stages after reading).

    ``mask`` (boolean, of ``gray``'s shape) restricts quantization and the
    counted pairs to its pixels.

    Raises
    ------
    ValueError
        Naming ``source``, when the mask is empty, or when some distance has
        no (counted) pixel pair in any direction.
    """
    levels = _levels(gray, source, settings, mask)
    return _row_from_levels(levels, source, settings, mask=mask,
                            kind="volume" if settings.volume else "image")


def _levels(gray, source, settings, mask):
    """The quantize stage, after checking the mask against the settings."""
    _check_mask(mask, source, settings)
    return quantize(gray, settings, mask)


def _check_mask(mask, source, settings):
    if mask is not None and not mask.any():
        raise ValueError(f"{source}: its mask is empty (no pixel inside)")
    if mask is not None and settings.backend == "mahotas":
        raise ValueError(f"{source}: masks need the compiled kernels; backend='mahotas' "
                         "has none (use backend='auto')")


def sample_levels(sample, index, settings):
    """The read and quantize stages of one gray sample: ``(levels, mask, source)``.

    Raises as :func:`featurize_sample` does, naming the sample.
    """
    image, mask = split_sample(sample)
    source = describe_source(image, index)
    gray = load_gray(image, index, volume=settings.volume,
                     gray_conversion=settings.gray_conversion)
    if mask is not None:
        mask = load_mask(mask, gray.shape, source, image)
    return _levels(gray, source, settings, mask), mask, source


def _level_sums(levels, mask, source, settings):
    sums = image_sums(levels, settings, mask)
    _check_sums(sums, levels, source, settings, mask)
    return sums


def _check_sums(sums, levels, source, settings, mask):
    no_pair = (sums.total.reshape(len(settings.distances), -1) == 0).all(axis=1)
    _check_pairs(no_pair, levels, source, settings, mask,
                 kind="volume" if settings.volume else "image")


def featurize_batch(samples, indices, settings, catch=False):
    """Feature rows of a batch of samples: a list of ``(row, None)`` or ``(None, reason)``.

    As :func:`featurize_sample` for each sample (``indices``: their positions
    in the input, to name them), in order. When the features derive from the
    matrices' sums (gray samples, ``sums_suffice``), each sample is read and
    quantized in turn; small 8-bit images of one shape are then counted
    together in one compiled call that holds no lock
    (:func:`~haralick_learn._glcm.stack_sums`: a batch of 32 x 32 patches
    scales over threads), the others one by one; and the features of the
    whole batch come at once.
    """
    if settings.color != "gray" or not sums_suffice(settings):
        return [featurize_sample(sample, index, settings, catch)
                for sample, index in zip(samples, indices)]
    results = [None] * len(samples)
    parts, owners = [], []
    stacks = {}  # shape -> [(position, levels, source)]: small 8-bit images counted together
    stackable = settings.scaled_directions and not settings.volume
    for k, (sample, index) in enumerate(zip(samples, indices)):
        try:
            levels, mask, source = sample_levels(sample, index, settings)
            if (stackable and mask is None and levels.dtype == np.uint8
                    and levels.ndim == 2 and levels.size < 65536):
                stacks.setdefault(levels.shape, []).append((k, levels, source))
                continue
            parts.append(_level_sums(levels, mask, source, settings))
            owners.append(k)
        except (OSError, ValueError, TypeError) as exc:
            if not catch:
                raise
            results[k] = (None, _reason(exc, sample, index))
    directions = tuple(offset for _, offset in settings.directions)
    for items in stacks.values():
        sums = stack_sums(np.stack([levels for _, levels, _ in items]), settings.distances,
                          directions, symmetric=settings.symmetric,
                          ignore_zeros=settings.ignore_zeros)
        per_image = len(sums) // len(items)
        for j, (k, levels, source) in enumerate(items):
            own = sums.rows(j * per_image, (j + 1) * per_image)
            try:
                _check_sums(own, levels, source, settings, None)
            except ValueError as exc:
                if not catch:
                    raise
                results[k] = (None, str(exc))
                continue
            parts.append(own)
            owners.append(k)
    _fill_rows(results, owners, parts, settings)
    return results


def rows_from_gray(items, settings, catch=False):
    """:func:`row_from_gray` of many ``(gray, source, mask)``: a list of ``(row, reason)``.

    The features of the items are computed together when they derive from
    the matrices' sums (as :func:`featurize_batch` does): a region table's
    regions cost their counting, and one pass of the features per batch.
    ``reason`` is None, or (``catch``) the message of an item that failed.
    """
    if not sums_suffice(settings):
        return [_caught(row_from_gray, catch, gray, source, settings, mask)
                for gray, source, mask in items]
    results = [None] * len(items)
    parts, owners = [], []
    for k, (gray, source, mask) in enumerate(items):
        try:
            levels = _levels(gray, source, settings, mask)
            sums = _level_sums(levels, mask, source, settings)
        except ValueError as exc:
            if not catch:
                raise
            results[k] = (None, str(exc))
            continue
        parts.append(sums)
        owners.append(k)
    _fill_rows(results, owners, parts, settings)
    return results


def _caught(function, catch, *args):
    try:
        return function(*args), None
    except ValueError as exc:
        if not catch:
            raise
        return None, str(exc)


def _fill_rows(results, owners, parts, settings):
    """Put the rows of the sums ``parts`` at the positions ``owners`` of ``results``.

    One pass of the features per length of the sums' arrays (all 256 for 8-bit
    images): a row is the same alone or in any batch.
    """
    n_directions = _n_directions(settings)
    groups = {}
    for k, part in zip(owners, parts):
        groups.setdefault(part.row_counts.shape[1], []).append((k, part))
    for group in groups.values():
        stats = GLCMStatistics(CooccurrenceSums.concatenate([part for _, part in group]),
                               settings.ignore_zeros)
        features = features_of_statistics(
            stats, settings.features, use_x_minus_y_variance=settings.use_x_minus_y_variance,
            preserve_haralick_bug=settings.preserve_haralick_bug,
        ).reshape(len(group), len(settings.distances), -1, len(settings.features))
        for (k, _), block in zip(group, features):
            results[k] = (aggregate_directions(block, settings.aggregate, n_directions), None)


def _reason(exc, sample, index):
    """The error message of a failed sample, starting with its name."""
    source = describe_source(split_sample(sample)[0], index)
    reason = str(exc)
    return reason if reason.startswith(source) else f"{source}: {reason}"


def row_from_channels(pixels, source, settings, mask=None):
    """The feature row of a colour sample (the stages after reading, ``settings.color`` != gray).

    The channel images of ``settings.color`` (:func:`~haralick_learn._channels.channel_images`),
    then :func:`row_from_channel_images`.
    """
    return row_from_channel_images(channel_images(pixels, settings.color, source), source,
                                   settings, mask)


def row_from_channel_images(channels, source, settings, mask=None):
    """The feature row of the channel images of a colour sample, in ``settings.channels`` order.

    The channels are quantized together, on one scale: the quantize stage sees the channels
    as one image, so that a rule that depends on the image's values (``bin_width``'s minimum,
    ``gray_range="image"``, the range of a 16-bit or float image) takes them from all the
    channels, and a level means the same intensity in every channel, as the fixed 8-bit scale
    already does. Then the row of each channel as :func:`row_from_gray` computes it, and the
    row of each pair of ``settings.color_pairs`` from their cross-channel co-occurrence,
    concatenated in the order of ``settings.feature_names``.

    ``mask`` (boolean, of a channel's shape) restricts both to its pixels, as for a gray
    image: the levels come from the channels' pixels inside it, and only the pixel pairs
    whose two pixels lie in it are counted, within a channel and across a pair.
    """
    _check_mask(mask, source, settings)
    stacked_mask = None if mask is None else np.broadcast_to(mask, (len(channels), *mask.shape))
    # One scale: the cross-channel matrices compare a level of one channel with a level of
    # another, which binning each channel from its own minimum or range would shift.
    levels = dict(zip(settings.channels, quantize(np.stack(channels), settings, stacked_mask)))
    rows = [_row_from_levels(levels[name], source, settings, mask=mask,
                             kind=f"channel {name} of the image")
            for name in settings.channels]
    for a, b in settings.color_pairs:
        features = pair_features(levels[a], levels[b], settings, mask)
        rows.append(aggregate_directions(features, settings.aggregate, _n_directions(settings)))
    return np.concatenate(rows)


def featurize_sample(sample, index, settings, catch=False):
    """Feature row of one sample: ``(row, None)``, or ``(None, reason)`` when ``catch``.

    A sample is an image (a volume when ``settings.volume``), or a tuple
    ``(image, mask)``. ``reason`` names the sample (its path, or its index in
    the batch).
    """
    image, mask = split_sample(sample)
    try:
        source = describe_source(image, index)
        if settings.color != "gray":
            pixels = load_color_pixels(image, index)
            if mask is not None:
                mask = load_mask(mask, pixels.shape[:2], source, image)
            return row_from_channels(pixels, source, settings, mask), None
        gray = load_gray(image, index, volume=settings.volume,
                         gray_conversion=settings.gray_conversion)
        if mask is not None:
            mask = load_mask(mask, gray.shape, source, image)
        return row_from_gray(gray, source, settings, mask), None
    except (OSError, ValueError, TypeError) as exc:
        if not catch:
            raise
        return None, _reason(exc, sample, index)
