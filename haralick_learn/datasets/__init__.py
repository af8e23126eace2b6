"""Sample data for examples, tutorials and tests."""

from ._samples import load_sample_images

__all__ = ["load_sample_images"]
