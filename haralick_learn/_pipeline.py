"""The path of stages for one sample: read -> channels -> quantize -> co-occurrence -> features
-> aggregate.

``HaralickFeaturizer`` drives it once per image (in parallel, through the
cache); texture maps and region tables will drive the same stages per window
and per label. Every stage reads the same :class:`TextureSettings`.
"""

import numpy as np

from ._aggregate import aggregate_directions
from ._channels import channel_images
from ._haralick import image_features, pair_features
from ._io import (
    describe_source, load_color_pixels, load_image, load_mask, load_volume, split_sample,
)
from ._quantize import quantize

__all__ = ["featurize_sample", "row_from_channels", "row_from_gray"]


def _row_from_levels(levels, source, settings, mask=None, kind="image"):
    features = image_features(levels, settings, mask)
    for block, d in zip(features, settings.distances):
        if np.isnan(block).all():
            what = "pair of non-zero pixels" if settings.ignore_zeros else "pixel pair"
            where = " inside its mask" if mask is not None else ""
            raise ValueError(
                f"{source}: {kind} of shape {levels.shape} has no {what}{where} at distance "
                f"{d} in any direction"
            )
    return aggregate_directions(features, settings.aggregate, _n_directions(settings))


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
    if mask is not None and not mask.any():
        raise ValueError(f"{source}: its mask is empty (no pixel inside)")
    if mask is not None and settings.backend == "mahotas":
        raise ValueError(f"{source}: masks need the compiled kernels; backend='mahotas' "
                         "has none (use backend='auto')")
    return _row_from_levels(quantize(gray, settings, mask), source, settings, mask=mask,
                            kind="volume" if settings.volume else "image")


def row_from_channels(pixels, source, settings):
    """The feature row of a colour sample (the stages after reading, ``settings.color`` != gray).

    The channel images of ``settings.color`` (:func:`~haralick_learn._channels.channel_images`),
    each quantized once; the row of each channel as :func:`row_from_gray` computes it,
    then the row of each pair of ``settings.color_pairs`` from their cross-channel
    co-occurrence, concatenated in the order of ``settings.feature_names``.
    """
    channels = channel_images(pixels, settings.color, source)
    levels = dict(zip(settings.channels,
                      (quantize(c, settings) for c in channels)))
    rows = [_row_from_levels(levels[name], source, settings, kind=f"channel {name} of the image")
            for name in settings.channels]
    for a, b in settings.color_pairs:
        features = pair_features(levels[a], levels[b], settings)
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
            if mask is not None:
                raise ValueError(f"{source}: masks are for gray images and volumes; "
                                 f"color={settings.color!r} takes whole images")
            pixels = load_color_pixels(image, index)
            return row_from_channels(pixels, source, settings), None
        gray = (load_volume if settings.volume else load_image)(image, index)
        if mask is not None:
            mask = load_mask(mask, gray.shape, source)
        return row_from_gray(gray, source, settings, mask), None
    except (OSError, ValueError, TypeError) as exc:
        if not catch:
            raise
        source = describe_source(image, index)
        reason = str(exc)
        return None, reason if reason.startswith(source) else f"{source}: {reason}"
