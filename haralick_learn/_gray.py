"""Gray conversion, bit-identical to the reference."""

import numpy as np


def rgb_to_gray_uint8(rgb):
    """``mahotas.colors.rgb2gray(rgb, dtype=np.uint8)``, bit for bit.

    The reference computes ``0.30 R + 0.59 G + 0.11 B`` in float64 and
    truncates; summing the three products in that order reproduces it for
    all 256**3 colours.
    """
    gray = rgb[..., 0] * 0.30
    gray += rgb[..., 1] * 0.59
    gray += rgb[..., 2] * 0.11
    return gray.astype(np.uint8)
