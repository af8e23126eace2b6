"""FilenameLabelExtractor: the class of each image from its path."""

import os
import re
from pathlib import PureWindowsPath

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from ._compat import StrOptions, validate_parameters

# Trailing index digits and the separators around them: "cat_001" -> "cat".
_TRAILING_INDEX = re.compile(r"[\d\s_.\-]+$")


def _paths_of(X):
    """The paths in ``X``, one per row and in order, as a sequence.

    Iterating a DataFrame would give its column names, and a 2-D array its
    rows: a DataFrame or 2-D array must have exactly one column, whose
    values are the paths.
    """
    if isinstance(X, (str, bytes, os.PathLike)):
        raise TypeError("X must be a sequence of paths, got a single path; wrap it in a list")
    columns = getattr(X, "columns", None)
    if columns is not None and getattr(X, "ndim", 2) == 2:  # a DataFrame (pandas, polars...)
        names = [str(name) for name in columns]
        if len(names) != 1:
            found = f"{len(names)} columns {names}" if names else "no column"
            raise ValueError(
                f"X is a table with {found}; expected one column of paths "
                "(select it, e.g. X[['image']] or X['image'])"
            )
        return np.asarray(X, dtype=object)[:, 0]
    if not isinstance(X, np.ndarray):
        return X  # a list, a tuple, a Series...: iterating it gives its paths
    array = X
    if array.ndim == 0:
        raise TypeError("X must be a sequence of paths, got a single path; wrap it in a list")
    if array.ndim == 2 and array.shape[1] == 1:
        return array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"X is an array of shape {array.shape}; expected one path per row "
            "(a 1-D array, or a 2-D array with one column)"
        )
    return array


class FilenameLabelExtractor(TransformerMixin, BaseEstimator):
    """Extract a class label from each image's path.

    By default the label is the file's stem with its trailing index digits
    and separators removed: ``building07.jpg`` gives ``building`` and
    ``photos/cat_001.png`` gives ``cat``. Paths may use ``/`` or ``\\`` on any
    operating system.

    Read more in the :ref:`User Guide <label-extractor-guide>`.

    Parameters
    ----------
    pattern : str or None, default=None
        A regular expression searched in the file name (with
        ``source="name"``) or the folder name (with ``source="parent"``). The
        label is its group named ``label`` if it has one, else its first
        group, else the whole match. ``None`` uses the default rule above
        (with ``source="parent"``: the folder name itself).
    source : {"name", "parent"}, default="name"
        Where the label comes from: the file name, or the name of the folder
        that holds the file.

    See Also
    --------
    HaralickFeaturizer : Features of the same images.

    Examples
    --------
    >>> from haralick_learn import FilenameLabelExtractor
    >>> FilenameLabelExtractor().fit_transform(["img/building07.jpg", r"C:\\data\\cat_001.png"])
    array(['building', 'cat'], dtype='<U8')
    >>> FilenameLabelExtractor(source="parent").fit_transform(["train/dog/1.jpg"])
    array(['dog'], dtype='<U3')
    >>> FilenameLabelExtractor(pattern=r"^(\\w+?)-").fit_transform(["sky-2024.jpg"])
    array(['sky'], dtype='<U3')

    A one-column DataFrame (or a Series) gives one label per row:

    >>> import pandas as pd
    >>> FilenameLabelExtractor().fit_transform(pd.DataFrame({"image": ["a/cat_1.png", "dog2.jpg"]}))
    array(['cat', 'dog'], dtype='<U3')
    """

    _parameter_constraints = {
        "pattern": [None, str],
        "source": [StrOptions({"name", "parent"})],
    }

    def __init__(self, *, pattern=None, source="name"):
        self.pattern = pattern
        self.source = source

    def fit(self, X, y=None):
        """Check the parameters; nothing is learned.

        Parameters
        ----------
        X : sequence of str, bytes or os.PathLike, 1-D array, Series or one-column DataFrame
            Paths of the images, one per row.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The extractor itself.
        """
        validate_parameters(self)
        self._compiled_pattern()
        _paths_of(X)
        return self

    def transform(self, X):
        """Return the label of each path.

        Parameters
        ----------
        X : sequence of str, bytes or os.PathLike, 1-D array, Series or one-column DataFrame
            Paths of the images, one per row.

        Returns
        -------
        labels : ndarray of str, shape (n_samples,)
            One label per path, in input order.
        """
        validate_parameters(self)
        pattern = self._compiled_pattern()
        labels = [self._label(path, index, pattern) for index, path in enumerate(_paths_of(X))]
        return np.asarray(labels, dtype=str) if labels else np.empty(0, dtype=str)

    def __sklearn_is_fitted__(self):
        """Stateless: always ready to transform."""
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        # Paths are a 1-D sequence of strings, not a numeric matrix: the
        # array-based common checks do not apply (see tests/test_common.py).
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        return tags

    def _compiled_pattern(self):
        if self.pattern is None:
            return None
        try:
            return re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(f"pattern {self.pattern!r} is not a valid regex: {exc}") from exc

    def _label(self, path, index, pattern):
        if not isinstance(path, (str, bytes, os.PathLike)):
            raise TypeError(
                f"sample {index}: expected a path (str, bytes or os.PathLike), "
                f"got {type(path).__name__}"
            )
        text = os.fsdecode(path)  # bytes paths as the file system encodes them
        # PureWindowsPath splits on both "/" and "\\", so Windows paths work everywhere.
        parsed = PureWindowsPath(text)
        part = parsed.parent.name if self.source == "parent" else parsed.name
        if pattern is None:
            label = part if self.source == "parent" else _TRAILING_INDEX.sub("", parsed.stem)
        else:
            match = pattern.search(part)
            if match is None:
                raise ValueError(f"{text!r}: pattern {self.pattern!r} does not match {part!r}")
            if "label" in pattern.groupindex:
                label = match.group("label")
            else:
                label = match.group(1) if pattern.groups else match.group(0)
        if not label:
            raise ValueError(f"{text!r}: the label extracted from {part!r} is empty")
        return label
