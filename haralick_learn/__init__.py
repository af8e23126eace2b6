"""Haralick texture features as scikit-learn estimators.

Featurize images (:class:`HaralickFeaturizer`), label them from their file
names (:class:`FilenameLabelExtractor`) and find the most similar ones
(:class:`DistanceNeighbors`), all composable in a scikit-learn ``Pipeline``.
"""

from ._display import SimilarImagesDisplay
from ._featurizer import HaralickFeaturizer, ImageFeaturizationWarning
from ._functional import cooccurrence, matrix_features
from ._labels import FilenameLabelExtractor
from ._maps import texture_maps
from ._neighbors import DistanceNeighbors
from ._regions import region_features

__version__ = "0.1.0"

__all__ = [
    "DistanceNeighbors",
    "FilenameLabelExtractor",
    "HaralickFeaturizer",
    "ImageFeaturizationWarning",
    "SimilarImagesDisplay",
    "cooccurrence",
    "matrix_features",
    "region_features",
    "texture_maps",
    "__version__",
]
