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
from ._io import describe_source, load_color_pixels, load_image
from ._quantize import quantize

__all__ = ["featurize_sample", "row_from_channels", "row_from_gray"]


def _row_from_levels(levels, source, settings, channel=None):
    features = image_features(levels, settings)
    for block, d in zip(features, settings.distances):
        if np.isnan(block).all():
            what = "pair of non-zero pixels" if settings.ignore_zeros else "pixel pair"
            raise ValueError(
                f"{source}: {'' if channel is None else f'channel {channel} of the '}image of "
                f"shape {levels.shape} has no {what} at distance {d} in any direction"
            )
    return aggregate_directions(features, settings.aggregate)


def row_from_gray(gray, source, settings):
    """The feature row of a gray image (the stages after reading).

    Raises
    ------
    ValueError
        Naming ``source``, when some distance has no pixel pair in any direction.
    """
    return _row_from_levels(quantize(gray, settings), source, settings)


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
    rows = [_row_from_levels(levels[name], source, settings, name) for name in settings.channels]
    for a, b in settings.color_pairs:
        features = pair_features(levels[a], levels[b], settings)
        rows.append(aggregate_directions(features, settings.aggregate))
    return np.concatenate(rows)


def featurize_sample(image, index, settings, catch=False):
    """Feature row of one sample: ``(row, None)``, or ``(None, reason)`` when ``catch``.

    ``reason`` names the sample (its path, or its index in the batch).
    """
    try:
        if settings.color == "gray":
            gray = load_image(image, index)
            return row_from_gray(gray, describe_source(image, index), settings), None
        pixels = load_color_pixels(image, index)
        return row_from_channels(pixels, describe_source(image, index), settings), None
    except (OSError, ValueError, TypeError) as exc:
        if not catch:
            raise
        source = describe_source(image, index)
        reason = str(exc)
        return None, reason if reason.startswith(source) else f"{source}: {reason}"
