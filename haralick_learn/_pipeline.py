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
from ._buffers import kept_array, reused_arrays, working_array
from .preprocess.channels import channel_images
from .texture.counting import (
    LEVEL_STATISTICS, CooccurrenceSums, crop_matrices, crop_sums, max_matrix_pairs,
    padded_length, stack_sums,
)
from .texture.catalogue import (
    MATRIX_FEATURES, PADDED_MATRIX_FEATURES, GLCMStatistics, compacts_matrices,
    features_of_statistics, image_features, image_sums, is_flat, pair_features,
    statistics_suffice, sums_suffice,
)
from .io.decode import (
    describe_source, load_color_pixels, load_gray, load_mask, split_sample,
)
from .preprocess.quantize import REGION_DONE, quantize, quantize_regions

__all__ = ["covers_regions", "featurize_batch", "featurize_sample", "row_from_channel_images",
           "row_from_channels", "row_from_gray", "rows_from_gray", "rows_from_labels",
           "sample_levels"]


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
    """The quantize stage, after checking the mask against the settings; then the size."""
    _check_mask(mask, source, settings)
    levels = quantize(gray, settings, mask)
    _check_pair_count(levels, source, settings, "volume" if settings.volume else "image")
    return levels


def _matrix_pairs(pixels, settings):
    """The most pixel pairs a matrix of an image of ``pixels`` pixels counts.

    A pixel is the first of at most one pair per offset, both orders
    counted in a symmetric matrix; ``aggregate="merged"`` sums the offsets
    of a distance into one matrix.
    """
    pairs = pixels * (2 if settings.symmetric else 1)
    if settings.aggregate == "merged":
        pairs = pairs * max(len(settings.offsets_at(d)) for d in settings.distances)
    return pairs


def _check_pair_count(levels, source, settings, kind):
    """Raise, naming ``source``, when a matrix of ``levels`` may count more pixel pairs than
    its exact int64 sums hold (:func:`~haralick_learn.texture.counting.max_matrix_pairs`).

    From the pixel count, before anything is counted: the kernels' sums would
    wrap around silently.
    """
    pixels = levels[0].size if settings.volume == "2d" else levels.size  # a slice at a time
    pairs = _matrix_pairs(pixels, settings)
    # The levels' type bounds them; their maximum is read only near that bound's limit
    limit = max_matrix_pairs(1 << 8 * levels.dtype.itemsize)
    if pairs > limit and levels.size:
        limit = max_matrix_pairs(int(levels.max()) + 1)
    if pairs > limit:
        raise ValueError(
            f"{source}: {kind} of shape {levels.shape} is too large: a co-occurrence matrix "
            f"of {pixels} pixels may count {pairs} pixel pairs, more than the {limit} whose "
            "sums stay exact in 64-bit integers; featurize it in crops or tiles"
        )


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
    (:func:`~haralick_learn.texture.counting.stack_sums`: a batch of 32 x 32 patches
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
    groups = {}
    for k, part in zip(owners, parts):
        groups.setdefault(part.row_counts.shape[1], []).append((k, part))
    for group in groups.values():
        rows = _rows_of_sums(CooccurrenceSums.concatenate([part for _, part in group]),
                             len(group), settings)
        for (k, _), row in zip(group, rows):
            results[k] = (row, None)


def _rows_of_sums(sums, n_samples, settings, cmats=None):
    """The feature rows of ``n_samples`` samples whose matrices' sums are ``sums``, in order.

    ``cmats``: the matrices themselves, for features that need them.
    """
    return _rows_of_features(_features_of_sums(sums, n_samples, settings, cmats), settings)


def _features_of_sums(sums, n_samples, settings, cmats=None, statistics=None):
    """Features by sample, distance and direction: (n_samples, n_distances, n_rows, n_features).

    ``statistics``: the level statistics of the sums, if known (see :class:`GLCMStatistics`).
    """
    stats = GLCMStatistics(sums, settings.ignore_zeros, cmats, statistics)
    return features_of_statistics(
        stats, settings.features, use_x_minus_y_variance=settings.use_x_minus_y_variance,
        preserve_haralick_bug=settings.preserve_haralick_bug,
    ).reshape(n_samples, len(settings.distances), -1, len(settings.features))


def _rows_of_features(features, settings):
    """The aggregate stage of each sample's features (as :func:`_features_of_sums` gives them)."""
    n_directions = _n_directions(settings)
    if settings.aggregate is None:  # every direction as it is (padding dropped)
        if n_directions is None:
            return features.reshape(len(features), settings.n_features)
        return np.concatenate([features[:, k, :n].reshape(len(features), n * features.shape[3])
                               for k, n in enumerate(n_directions)], axis=1)
    rows = [aggregate_directions(block, settings.aggregate, n_directions) for block in features]
    return np.array(rows).reshape(len(features), settings.n_features)


#: Matrix cells per pass of the features of matrices padded to the widest range of levels
#: (8 MB of int64: they stay in the allocator's memory from pass to pass).
_PADDED_CELLS = 1 << 20
#: Matrix cells counted per pass of the features that need the matrices (32 MB of int64, a
#: few times that in the features' float arrays): 256 regions of 64 levels, 16 of 256.
_MATRIX_CELLS = 1 << 22


def rows_from_labels(gray, labels, boxes, numbers, settings):
    """The feature rows of many regions of a label image, through one compiled pass.

    Region ``i`` is the pixels of ``labels`` equal to ``numbers[i]`` in the
    bounding box ``boxes[i]`` (an array, a row per region: first indices then
    ends, as :func:`skimage.measure.regionprops`'s ``bbox``). Its row equals
    ``row_from_gray(gray[box], source, settings, labels[box] == numbers[i])``
    bit for bit: every region is quantized by its own rule
    (:func:`~haralick_learn.preprocess.quantize.quantize_regions`), its pixel pairs
    counted into its matrices' sums (:func:`~haralick_learn.texture.counting.crop_sums`;
    the matrices too, :func:`~haralick_learn.texture.counting.crop_matrices`, for the
    features that need them, one call per number of levels), each in one
    compiled call for all the regions, then the features of all of them in
    one pass (those of the matrices: one per number of levels). Features of
    the level statistics alone (:func:`~haralick_learn.texture.catalogue.statistics_suffice`)
    take each matrix's statistics as it is counted, with no arrays by level.

    Only for the settings of :func:`covers_regions`. Returns ``(rows, left)``:
    ``left`` marks the regions this pass leaves to :func:`rows_from_gray`
    (their rows are NaN here): a region without any pixel pair at some
    distance (an error, or a row of NaN, there), one whose binning
    :func:`~haralick_learn.preprocess.quantize.quantize` refuses, whose integer
    arithmetic needs more than 63 bits, or whose matrices may count more pairs
    than their exact sums hold.
    """
    # the batch's working arrays (sums by level, probabilities...) from the last batch's
    with reused_arrays():
        return _rows_from_labels(gray, labels, boxes, numbers, settings)


def _rows_from_labels(gray, labels, boxes, numbers, settings):
    """:func:`rows_from_labels`, its working arrays from :func:`working_array`."""
    ndim = boxes.shape[1] // 2
    # the crops in this thread's kept array: a new one each batch costs its page faults
    size = int((boxes[:, ndim:] - boxes[:, :ndim]).prod(axis=1).sum())
    crops = quantize_regions(gray, labels, boxes, numbers, settings,
                             kept_array("region levels", size, np.uint16))
    offsets, counted = _region_offsets(settings, gray.ndim)
    rows = np.full((len(numbers), settings.n_features), np.nan)
    left = crops.status != REGION_DONE
    # A region whose matrices may count more pairs than their exact sums hold: left to
    # rows_from_gray, which refuses it, naming it (the batch's most levels bound each's)
    pairs = _matrix_pairs(crops.shapes.prod(axis=1), settings)
    left |= pairs > max_matrix_pairs(int(crops.n_levels.max(initial=1)))
    matrices = not sums_suffice(settings)
    own_statistics = statistics_suffice(settings)
    # Regions whose sums share one pass: of one padded length of the sums (so one array
    # length): 256 up to 256 levels (every 8-bit rule), a pass per wider length
    keys = np.full(len(crops.n_levels), padded_length(256))
    wide = np.flatnonzero(crops.n_levels > 256)
    keys[wide] = [padded_length(n) for n in crops.n_levels[wide]]
    for key in np.unique(keys[~left]):
        group = np.flatnonzero((keys == key) & ~left)
        emitted = None
        if matrices:  # by number of levels: the matrices of one shape side by side
            group = group[np.argsort(crops.n_levels[group], kind="stable")]
            width = int((crops.n_levels[group] - crops.lowest[group]).max())
            if (PADDED_MATRIX_FEATURES & set(settings.features)
                    and len(group) * len(offsets) * width**2 <= _MATRIX_CELLS):
                # the matrices over each region's range of levels, from the same pass
                emitted = working_array((len(group) * len(offsets), width, width), np.int64,
                                        zeroed=True)
        # the level statistics as each matrix is counted, when they are all its features need
        statistics = (np.empty((len(group) * len(offsets), len(LEVEL_STATISTICS)))
                      if own_statistics else None)
        sums = crop_sums(crops.levels, crops.starts[group], crops.shapes[group],
                         crops.n_levels[group], offsets, counted, crops.lowest[group],
                         symmetric=settings.symmetric, ignore_zeros=settings.ignore_zeros,
                         matrices=emitted, statistics=statistics)
        if not matrices:
            # as _check_sums: a distance without any pair in any direction
            no_pair = (sums.total.reshape(len(group), len(settings.distances), -1)
                       == 0).all(axis=2).any(axis=1)
            left[group[no_pair]] = True
            features = _features_of_sums(sums, len(group), settings, statistics=statistics)
            rows[group[~no_pair]] = _rows_of_features(features[~no_pair], settings)
            continue
        features = _features_with_matrices(crops, group, sums, offsets, counted, settings,
                                           emitted)
        # as _row_from_levels: a distance whose features are all NaN (no pair)
        failed = np.isnan(features).all(axis=(2, 3)).any(axis=1)
        left[group[failed]] = True
        rows[group[~failed]] = _rows_of_features(features[~failed], settings)
    rows[left] = np.nan
    return rows, left


def _features_with_matrices(crops, group, sums, offsets, counted, settings, emitted=None):
    """The features of the regions ``group`` (sorted by number of levels) of ``crops``.

    The features of the sums over all the regions at once (one
    :class:`GLCMStatistics`); those of the matrices (:data:`MATRIX_FEATURES`)
    from that statistics' rows and the regions' matrices: for
    :data:`PADDED_MATRIX_FEATURES`, a pass per :data:`_PADDED_CELLS` of
    matrices each over its region's range of levels, padded to the widest;
    for the others, a pass per number of levels (one matrix shape).
    ``emitted``: the regions' matrices over their ranges of levels, if
    counted with their sums (all of them for :data:`PADDED_MATRIX_FEATURES`). Every formula
    works matrix by matrix: a region's features are those it gets alone. Shape as
    :func:`_features_of_sums`.
    """
    names = settings.features
    options = dict(use_x_minus_y_variance=settings.use_x_minus_y_variance,
                   preserve_haralick_bug=settings.preserve_haralick_bug)
    n_offsets = len(offsets)
    stats = GLCMStatistics(sums, settings.ignore_zeros)
    features = np.empty((len(sums), len(names)))
    n_levels = crops.n_levels[group]
    if "ibsi_MCC" in names:  # 1 for a matrix of one level in a flat region only
        stats.flat_mcc = np.repeat(_flat_regions(crops, group, settings.ignore_zeros),
                                   n_offsets).astype(np.float64)

    def matrix_features(columns, parts):
        """The features ``columns`` of each part ``(start, stop, side)`` of the regions."""
        chosen = [names[j] for j in columns]
        for start, stop, side, own_levels in parts:
            which = group[start:stop]
            lowest = None if own_levels else crops.lowest[which]
            if emitted is not None and not own_levels:
                cmats = emitted[start * n_offsets:stop * n_offsets]
            else:
                cmats = crop_matrices(crops.levels, crops.starts[which], crops.shapes[which],
                                      crops.n_levels[which], offsets, counted,
                                      symmetric=settings.symmetric, side=side, lowest=lowest)
            part = stats.rows(start * n_offsets, stop * n_offsets, cmats,
                              np.repeat(crops.n_levels[which], n_offsets),
                              None if own_levels else np.repeat(lowest, n_offsets))
            features[start * n_offsets:stop * n_offsets, columns] = features_of_statistics(
                part, chosen, **options)

    padded = [j for j, name in enumerate(names) if name in PADDED_MATRIX_FEATURES]
    if padded and emitted is not None:
        matrix_features(padded, [(0, len(group), emitted.shape[1], False)])
    elif padded:
        # Matrices of any size side by side, each over its range of levels (a region spans
        # few), padded to the widest: as many as _PADDED_CELLS hold
        spans = n_levels - crops.lowest[group]
        parts, start = [], 0
        while start < len(group):
            stop, widest = start + 1, int(spans[start])
            while stop < len(group) and (stop + 1 - start) * n_offsets * max(
                    widest, int(spans[stop])) ** 2 <= _PADDED_CELLS:
                widest = max(widest, int(spans[stop]))
                stop += 1
            parts.append((start, stop, widest, False))
            start = stop
        matrix_features(padded, parts)
    by_shape = [j for j, name in enumerate(names)
                if name in MATRIX_FEATURES and name not in PADDED_MATRIX_FEATURES]
    if by_shape:  # the regions of one number of levels, a pass per _MATRIX_CELLS
        bounds = np.flatnonzero(np.r_[True, n_levels[1:] != n_levels[:-1], True])
        parts = []
        for first, end in zip(bounds[:-1], bounds[1:]):
            size = max(1, _MATRIX_CELLS // (n_offsets * int(n_levels[first]) ** 2))
            parts += [(start, min(start + size, end), int(n_levels[first]), True)
                      for start in range(first, end, size)]
        matrix_features(by_shape, parts)
    of_sums = [j for j, name in enumerate(names) if name not in MATRIX_FEATURES]
    if of_sums:
        features[:, of_sums] = features_of_statistics(stats, [names[j] for j in of_sums],
                                                      **options)
    return features.reshape(len(group), len(settings.distances), -1, len(names))


def _flat_regions(crops, group, ignore_zeros):
    """Whether each region ``group`` of ``crops`` has fewer than two levels (not counting
    level 0 with ``ignore_zeros``)."""
    flat = crops.n_levels[group] - crops.lowest[group] <= 1
    if ignore_zeros:
        for k, i in enumerate(group):
            crop = crops.levels[crops.starts[i]:crops.starts[i] + crops.shapes[i].prod()]
            flat[k] = is_flat(crop, crop < crops.n_levels[i], ignore_zeros=True)
    return flat


def covers_regions(settings):
    """Whether :func:`rows_from_labels` computes the rows of ``settings``.

    Gray images with the compiled kernels (not ``backend="mahotas"``),
    directions not merged (``aggregate="merged"``), not ``volume="2d"``,
    and features that derive from the matrices' sums or need the full
    matrices (not the compact ones of the Haralick set's 14th feature:
    :func:`~haralick_learn.texture.catalogue.compacts_matrices`).
    """
    if (settings.color != "gray" or settings.backend == "mahotas"
            or settings.aggregate == "merged" or settings.volume == "2d"):
        return False
    return sums_suffice(settings) or not compacts_matrices(settings)


def _region_offsets(settings, ndim):
    """The offsets of a region's matrices in :func:`image_sums`'s order, as 3-D offsets.

    Returns ``(offsets, counted)``: with pyradiomics's offsets each
    distance's block is padded to the longest by offsets not counted (empty
    matrices).
    """
    if settings.scaled_directions:
        blocks = [[tuple(d * c for c in unit) for _, unit in settings.directions]
                  for d in settings.distances]
    else:
        blocks = [list(settings.offsets_at(d)) for d in settings.distances]
    width = max(len(block) for block in blocks)
    offsets, counted = [], []
    for block in blocks:
        offsets += block + [block[0]] * (width - len(block))
        counted += [True] * len(block) + [False] * (width - len(block))
    offsets = np.array(offsets, np.intp).reshape(len(offsets), ndim)
    if ndim == 2:
        offsets = np.column_stack([np.zeros(len(offsets), np.intp), offsets])
    return offsets, np.array(counted)


def _reason(exc, sample, index):
    """The error message of a failed sample, starting with its name."""
    source = describe_source(split_sample(sample)[0], index)
    reason = str(exc)
    return reason if reason.startswith(source) else f"{source}: {reason}"


def row_from_channels(pixels, source, settings, mask=None):
    """The feature row of a colour sample (the stages after reading, ``settings.color`` != gray).

    The channel images of ``settings.color``
    (:func:`~haralick_learn.preprocess.channels.channel_images`),
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
    for name in settings.channels:  # before any is counted
        _check_pair_count(levels[name], source, settings, f"channel {name} of the image")
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
