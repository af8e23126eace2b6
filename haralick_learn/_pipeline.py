"""The path of stages for one sample: read -> quantize -> co-occurrence -> features -> aggregate.

``HaralickFeaturizer`` drives it once per image (in parallel, through the
cache); texture maps and region tables will drive the same stages per window
and per label. Every stage reads the same :class:`TextureSettings`.
"""

import numpy as np

from ._aggregate import aggregate_directions
from ._haralick import image_features
from ._io import describe_source, load_image
from ._quantize import quantize

__all__ = ["featurize_sample", "row_from_gray"]


def row_from_gray(gray, source, settings):
    """The feature row of a gray image (the stages after reading).

    Raises
    ------
    ValueError
        Naming ``source``, when some distance has no pixel pair in any direction.
    """
    levels = quantize(gray, settings)
    features = image_features(levels, settings)
    for block, d in zip(features, settings.distances):
        if np.isnan(block).all():
            what = "pair of non-zero pixels" if settings.ignore_zeros else "pixel pair"
            raise ValueError(
                f"{source}: image of shape {gray.shape} has no {what} at distance {d} "
                "in any direction"
            )
    return aggregate_directions(features, settings.aggregate)


def featurize_sample(image, index, settings, catch=False):
    """Feature row of one sample: ``(row, None)``, or ``(None, reason)`` when ``catch``.

    ``reason`` names the sample (its path, or its index in the batch).
    """
    try:
        gray = load_image(image, index)
        return row_from_gray(gray, describe_source(image, index), settings), None
    except (OSError, ValueError, TypeError) as exc:
        if not catch:
            raise
        source = describe_source(image, index)
        reason = str(exc)
        return None, reason if reason.startswith(source) else f"{source}: {reason}"
