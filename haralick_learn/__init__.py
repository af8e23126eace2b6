"""Haralick texture features as scikit-learn estimators.

Featurize images (:class:`HaralickFeaturizer`), label them from their file
names (:class:`FilenameLabelExtractor`) and find the most similar ones
(:class:`DistanceNeighbors`), all composable in a scikit-learn ``Pipeline``.

Importing the package is cheap: each public name imports the module that
defines it (and numpy, scikit-learn, numba...) on first use, so that the
``haralick-learn`` command answers ``--help`` at once.

>>> import haralick_learn
>>> haralick_learn.HaralickFeaturizer.__name__
'HaralickFeaturizer'
>>> from haralick_learn import texture_maps
>>> texture_maps.__name__
'texture_maps'
"""

from importlib import import_module as _import_module

from ._version import __version__

#: Public name -> the private module that defines it, imported on first access.
_PUBLIC = {
    "DistanceNeighbors": ".neighbors.search",
    "FilenameLabelExtractor": "._labels",
    "HaralickFeaturizer": "._featurizer",
    "ImageFeaturizationWarning": "._featurizer",
    "SimilarImagesDisplay": "._display",
    "cooccurrence": ".texture.functional",
    "matrix_features": ".texture.functional",
    "region_features": "._regions",
    "texture_maps": "._maps",
}

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


def __getattr__(name):
    # Called only for names not yet in the module's namespace (PEP 562).
    try:
        module = _PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(_import_module(module, __name__), name)
    globals()[name] = value  # later accesses skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))
