"""HaralickFeaturizer: images in, one row of Haralick features per image out."""

import os
import sys
import time
import warnings
from functools import partial
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from PIL import Image
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, validate_data
from threadpoolctl import threadpool_limits

from ._cache import cached_featurize_one, make_cache
from ._io import describe_source, load_image, to_gray_levels

FEATURE_NAMES = (
    "angular_second_moment",
    "contrast",
    "correlation",
    "sum_of_squares_variance",
    "inverse_difference_moment",
    "sum_average",
    "sum_variance",
    "sum_entropy",
    "entropy",
    "difference_variance",
    "difference_entropy",
    "information_measure_of_correlation_1",
    "information_measure_of_correlation_2",
    "maximal_correlation_coefficient",
)
# mahotas's order: (dy, dx) = (0, 1), (1, 1), (1, 0), (1, -1).
DIRECTION_NAMES = ("horizontal", "diagonal_nwse", "vertical", "diagonal_nesw")


class ImageFeaturizationWarning(UserWarning):
    """Warning raised by ``on_error="nan"`` when some images could not be featurized.

    Attributes
    ----------
    failures : list of (int, str)
        ``(index, reason)`` of every failed sample, in input order.
    """

    def __init__(self, message, failures=()):
        super().__init__(message)
        self.failures = list(failures)


class HaralickFeaturizer(TransformerMixin, BaseEstimator):
    """Compute Haralick texture features, one row per image.

    The transformer is stateless: ``fit`` only validates its parameters, and
    ``transform`` reads each image, converts it to gray, builds its gray-level
    co-occurrence matrices and computes the 13 (or 14) Haralick features for
    the four directions horizontal, diagonal NW-SE, vertical and diagonal
    NE-SW. With the default parameters an 8-bit RGB photograph gives exactly
    ``mahotas.features.haralick(mahotas.colors.rgb2gray(im, dtype=np.uint8)).ravel()``.

    Parameters
    ----------
    distance : int or list of int, default=1
        Pixel distance of the co-occurrence pairs. With a list, the blocks of
        features for each distance are concatenated in the given order.
    aggregate : {None, "mean", "mean_ptp"}, default=None
        ``None`` keeps the features of every direction (as the reference);
        ``"mean"`` averages them over the directions; ``"mean_ptp"`` gives the
        mean then the range (max - min) over the directions.
    ignore_zeros : bool, default=False
        Ignore pairs involving a zero-valued pixel (background).
    compute_14th_feature : bool, default=False
        Also compute the maximal correlation coefficient (slow).
    use_x_minus_y_variance : bool, default=False
        Compute feature 10 as ``VAR[|x - y|]`` instead of the reference's
        default ``VAR[P(|x - y|)]``.
    levels : int in [2, 256] or None, default=None
        Number of gray levels. ``None`` keeps 8-bit images as they are (the
        reference's numbers) and bins any other image (16-bit, float) into
        256 levels. See the user guide for the exact rule; it depends only on
        each image itself, never on the rest of the batch.
    image_shape : tuple of int or None, default=None
        Shape ``(height, width)`` or ``(height, width, channels)`` of the
        images when ``X`` is a 2-D numeric array whose rows are flattened
        images. ``None`` treats each row as a one-pixel-high strip.
    backend : {"auto", "numba", "mahotas"}, default="auto"
        ``"numba"`` uses the compiled kernels, ``"mahotas"`` calls the
        reference implementation, ``"auto"`` uses the compiled kernels when
        they can be imported. Both give the same numbers.
    on_error : {"raise", "nan"}, default="raise"
        What to do when an image cannot be read or featurized: raise an error
        naming it, or give it a row of NaN, keep going, and emit one
        :class:`ImageFeaturizationWarning` naming the failures.
    n_jobs : int, default=None
        Number of images featurized in parallel (joblib). ``None`` means 1
        unless in a :func:`joblib.parallel_config` context; ``-1`` uses all
        processors.
    verbose : int, default=0
        Show a progress bar on standard error when positive.
    memory : str, os.PathLike or joblib.Memory, default=None
        Cache each image's row on disk so that transforming it again (other
        folds of a cross-validation, another run) reads the row instead of
        computing it. ``None`` caches nothing; a path is the cache's folder;
        a :class:`joblib.Memory` lends its ``location`` (``location=None``:
        no cache). A row is keyed by the image's content (the file's bytes,
        or an array's pixels, shape and dtype) and every parameter that
        changes the numbers, so a changed file gets new features. Parallel
        workers share the cache safely; a corrupt entry is recomputed. Rows
        of failed images are not cached. See "Featurizing millions of
        images" in the documentation.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns of ``X`` seen during :term:`fit`, only when ``X`` was
        a 2-D numeric array.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the columns of ``X`` seen during :term:`fit`, only when ``X``
        was a DataFrame with string column names.

    See Also
    --------
    FilenameLabelExtractor : Labels from file names.
    DistanceNeighbors : Most similar images from the feature rows.

    Notes
    -----
    Directions without any pixel pair (for example the vertical direction of
    a one-pixel-high image) give NaN features; ``aggregate`` then uses the
    other directions. An image without any pixel pair at some distance is an
    error.

    References
    ----------
    R. M. Haralick, K. Shanmugam and I. Dinstein, "Textural Features for Image
    Classification", IEEE Transactions on Systems, Man, and Cybernetics,
    SMC-3(6), 610-621, 1973. :doi:`10.1109/TSMC.1973.4309314`

    Examples
    --------
    >>> import numpy as np
    >>> from haralick_learn import HaralickFeaturizer
    >>> rng = np.random.default_rng(0)
    >>> images = [rng.integers(0, 256, size=(32, 32), dtype=np.uint8) for _ in range(3)]
    >>> X = HaralickFeaturizer().fit_transform(images)
    >>> X.shape
    (3, 52)
    >>> HaralickFeaturizer(aggregate="mean").fit_transform(images).shape
    (3, 13)
    >>> HaralickFeaturizer(distance=[1, 2]).get_feature_names_out()[[0, 52]]
    array(['angular_second_moment_horizontal_d1',
           'angular_second_moment_horizontal_d2'], dtype=object)
    """

    _parameter_constraints = {
        "distance": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "aggregate": [None, StrOptions({"mean", "mean_ptp"})],
        "ignore_zeros": ["boolean"],
        "compute_14th_feature": ["boolean"],
        "use_x_minus_y_variance": ["boolean"],
        "levels": [None, Interval(Integral, 2, 256, closed="both")],
        "image_shape": [None, tuple],
        "backend": [StrOptions({"auto", "numba", "mahotas"})],
        "on_error": [StrOptions({"raise", "nan"})],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
    }

    def __init__(
        self,
        *,
        distance=1,
        aggregate=None,
        ignore_zeros=False,
        compute_14th_feature=False,
        use_x_minus_y_variance=False,
        levels=None,
        image_shape=None,
        backend="auto",
        on_error="raise",
        n_jobs=None,
        verbose=0,
        memory=None,
    ):
        self.distance = distance
        self.aggregate = aggregate
        self.ignore_zeros = ignore_zeros
        self.compute_14th_feature = compute_14th_feature
        self.use_x_minus_y_variance = use_x_minus_y_variance
        self.levels = levels
        self.image_shape = image_shape
        self.backend = backend
        self.on_error = on_error
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.memory = memory

    def fit(self, X, y=None):
        """Validate the parameters (and ``X`` when it is a numeric array).

        Parameters
        ----------
        X : sequence of images or array-like of shape (n_samples, n_pixels)
            Paths, PIL images or arrays; or a 2-D numeric array whose rows are
            flattened images of shape ``image_shape``.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The featurizer itself.
        """
        self._validate_params()
        self._check_options()
        if _is_feature_matrix(X):
            validate_data(self, X, reset=True, dtype="numeric")
            self._check_image_shape(self.n_features_in_)
        return self

    def transform(self, X):
        """Compute the Haralick features of each image.

        Parameters
        ----------
        X : sequence of images or array-like of shape (n_samples, n_pixels)
            Each image a path (``str`` or ``os.PathLike``), a PIL image, a 2-D
            gray array or a 3-D RGB/RGBA array; or a 3-D array of gray images
            stacked on the first axis; or a 2-D numeric array whose rows are
            flattened images of shape ``image_shape``.

        Returns
        -------
        X_features : ndarray of shape (n_samples, n_features_out)
            One row per image, in input order.
        """
        self._validate_params()
        self._check_options()
        images = self._images(X)
        return self._featurize(images)

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the columns seen in :meth:`fit`; the output
            names do not depend on it.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``{feature}_{direction}_d{distance}``, with direction one of
            horizontal, diagonal_nwse, vertical, diagonal_nesw, or ``mean`` /
            ``ptp`` when aggregated.
        """
        if hasattr(self, "n_features_in_"):
            _check_feature_names_in(self, input_features)
        features = FEATURE_NAMES[: self._n_haralick_features()]
        if self.aggregate is None:
            groups = DIRECTION_NAMES
        elif self.aggregate == "mean":
            groups = ("mean",)
        else:
            groups = ("mean", "ptp")
        names = [
            f"{feature}_{group}_d{d}"
            for d in self._distances()
            for group in groups
            for feature in features
        ]
        return np.asarray(names, dtype=object)

    def __sklearn_is_fitted__(self):
        """Stateless: always ready to transform."""
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = True
        return tags

    # -- helpers ---------------------------------------------------------

    def _n_haralick_features(self):
        return 14 if self.compute_14th_feature else 13

    def _distances(self):
        if isinstance(self.distance, Integral):
            return (int(self.distance),)
        distances = tuple(np.asarray(self.distance).ravel().tolist())
        if not distances:
            raise ValueError("distance must be a positive int or a non-empty list of them")
        for d in distances:
            if isinstance(d, bool) or not isinstance(d, Integral) or d < 1:
                raise ValueError(f"distance must contain positive ints, got {d!r}")
        if len(set(distances)) != len(distances):
            raise ValueError(f"distance contains duplicates: {list(distances)}")
        return tuple(int(d) for d in distances)

    def _check_options(self):
        self._distances()
        self._resolve_backend()
        if self.image_shape is not None:
            shape = self.image_shape
            if len(shape) not in (2, 3) or not all(
                isinstance(s, Integral) and s >= 1 for s in shape
            ):
                raise ValueError(
                    "image_shape must be (height, width) or (height, width, channels) "
                    f"with positive ints, got {shape!r}"
                )

    def _check_image_shape(self, n_columns):
        if self.image_shape is not None and int(np.prod(self.image_shape)) != n_columns:
            raise ValueError(
                f"image_shape={self.image_shape} holds {int(np.prod(self.image_shape))} "
                f"pixels, but X has {n_columns} columns"
            )

    def _resolve_backend(self):
        if self.backend == "mahotas":
            return "mahotas"
        try:
            from . import _haralick  # noqa: F401  (compiled kernels)
        except ImportError as exc:
            if self.backend == "numba":
                raise ImportError(
                    f"backend='numba' needs the compiled kernels, which failed to import: {exc}"
                ) from exc
            return "mahotas"
        return "numba"

    def _images(self, X):
        """A list of the samples of ``X``, one image-like each, in input order."""
        if _is_feature_matrix(X):
            X = validate_data(self, X, reset=False, dtype="numeric")
            self._check_image_shape(X.shape[1])
            shape = self.image_shape or (1, X.shape[1])
            return [row.reshape(shape) for row in X]
        # A sequence of images, or a 3-D / 4-D array: a stack of gray / colour images.
        images = list(X)
        if not images:
            raise ValueError("X contains no image: at least one is required")
        return images

    def _featurize(self, images):
        backend = self._resolve_backend()
        settings = dict(
            distances=self._distances(),
            levels=self.levels,
            ignore_zeros=self.ignore_zeros,
            compute_14th_feature=self.compute_14th_feature,
            use_x_minus_y_variance=self.use_x_minus_y_variance,
            aggregate=self.aggregate,
            backend=backend,
        )
        catch = self.on_error == "nan"
        task = _featurize_one
        n_features_out = len(self.get_feature_names_out())
        cache = make_cache(self.memory, settings, n_features_out)
        if cache is not None:
            task = partial(cached_featurize_one, cache, _featurize_one)
        jobs = (delayed(task)(image, index, catch, settings)
                for index, image in enumerate(images))
        parallel = Parallel(n_jobs=self.n_jobs, prefer="threads", return_as="generator")
        progress = _Progress(len(images), enabled=self.verbose > 0)
        rows, failures = [], []
        # Parallel images already use the cores: BLAS threads inside each
        # (mahotas's np.dot, the 14th feature's eigvalsh) would oversubscribe them.
        blas_limit = 1 if effective_n_jobs(self.n_jobs) > 1 else None
        with threadpool_limits(limits=blas_limit, user_api="blas"):
            for index, (row, error) in enumerate(parallel(jobs)):
                if error is not None:
                    failures.append((index, error))
                    row = np.full(n_features_out, np.nan)
                rows.append(row)
                progress.update()
        progress.close()
        if failures:
            shown = "; ".join(reason for _, reason in failures[:3])
            more = f" (and {len(failures) - 3} more)" if len(failures) > 3 else ""
            warnings.warn(
                ImageFeaturizationWarning(
                    f"{len(failures)} of {len(images)} images could not be featurized; "
                    f"their rows are NaN: {shown}{more}",
                    failures,
                ),
                stacklevel=3,
            )
        return np.vstack(rows)


def _is_feature_matrix(X):
    """True when ``X`` is tabular (a 2-D numeric matrix, rows = flattened images).

    A 1-D numeric input also counts, so that it is rejected with scikit-learn's
    usual message instead of being read as a list of images.
    """
    if isinstance(X, (str, os.PathLike, Image.Image)):
        raise TypeError(
            f"X must be a sequence of images, got a single {type(X).__name__}; "
            "wrap it in a list"
        )
    if hasattr(X, "columns") or hasattr(X, "tocsr"):
        return True  # DataFrame, sparse matrix (rejected by validate_data)
    if isinstance(X, np.ndarray) or hasattr(X, "__array__"):
        array = np.asarray(X)
        # A 1-D object array is a sequence of paths or images.
        return array.ndim <= 2 and not (array.ndim == 1 and array.dtype == object)
    first = next(iter(X), None) if isinstance(X, (list, tuple)) else None
    if first is None:
        return False
    if isinstance(first, (Integral, float, np.number)):
        return True
    if isinstance(first, (list, tuple)) or (isinstance(first, np.ndarray) and first.ndim == 1):
        inner = first[0] if len(first) else None
        return isinstance(inner, (Integral, float, np.number))
    return False


def _featurize_one(image, index, catch, settings):
    """Feature row of one sample: ``(row, None)``, or ``(None, reason)`` when caught."""
    try:
        gray = to_gray_levels(load_image(image, index), settings["levels"])
        return _row_from_gray(gray, describe_source(image, index), settings), None
    except (OSError, ValueError, TypeError) as exc:
        if not catch:
            raise
        source = describe_source(image, index)
        reason = str(exc)
        return None, reason if reason.startswith(source) else f"{source}: {reason}"


def _row_from_gray(gray, source, settings):
    distances = settings["distances"]
    options = dict(
        ignore_zeros=settings["ignore_zeros"],
        compute_14th_feature=settings["compute_14th_feature"],
        use_x_minus_y_variance=settings["use_x_minus_y_variance"],
    )
    if settings["backend"] == "numba":
        from ._haralick import haralick_image

        features = haralick_image(gray, distances, **options)
    else:
        features = _mahotas_features(gray, distances, **options)
    for block, d in zip(features, distances):
        if np.isnan(block).all():
            what = "pair of non-zero pixels" if options["ignore_zeros"] else "pixel pair"
            raise ValueError(
                f"{source}: image of shape {gray.shape} has no {what} at distance {d} "
                "in any direction"
            )
    aggregate = settings["aggregate"]
    if aggregate is None:
        return features.ravel()
    blocks = []
    for block in features:
        # Directions without any pair (all-NaN rows) are left out of the aggregate.
        present = block[~np.isnan(block).all(axis=1)]
        blocks.append(present.mean(axis=0))
        if aggregate == "mean_ptp":
            blocks.append(np.ptp(present, axis=0))
    return np.concatenate(blocks)


def _mahotas_features(gray, distances, *, ignore_zeros, compute_14th_feature,
                      use_x_minus_y_variance):
    """The reference: mahotas's own co-occurrence and feature functions.

    Called per direction so that a direction without any pair gives NaN (as
    the compiled kernels do) where ``mahotas.features.haralick`` would raise.
    """
    from mahotas.features import texture

    n_features = 14 if compute_14th_feature else 13
    features = np.full((len(distances), 4, n_features), np.nan)
    # Sized as mahotas.features.haralick does: cooccurence's own allocation
    # overflows for a uint8 image whose maximum is 255.
    n_levels = int(gray.max()) + 1
    for i, d in enumerate(distances):
        for direction in range(4):
            cmat = np.zeros((n_levels, n_levels), np.int32)
            texture.cooccurence(gray, direction, output=cmat, symmetric=True, distance=d)
            counted = cmat[1:, 1:] if ignore_zeros else cmat
            if not counted.any():
                continue
            features[i, direction] = texture.haralick_features(
                [cmat],
                ignore_zeros=ignore_zeros,
                compute_14th_feature=compute_14th_feature,
                use_x_minus_y_variance=use_x_minus_y_variance,
            )[0]
    return features


class _Progress:
    """A one-line progress bar on standard error (no dependency needed).

    Redrawn in place on a terminal; elsewhere (logs, CI) one line at each
    quarter, so that captured output stays readable.
    """

    def __init__(self, total, enabled):
        self.total = total
        self.done = 0
        self.enabled = enabled and total > 0
        self.interactive = self.enabled and sys.stderr.isatty()
        self.start = time.perf_counter()

    def update(self):
        self.done += 1
        if not self.enabled:
            return
        quarter = max(1, self.total // 4)
        if self.interactive or self.done % quarter == 0 or self.done == self.total:
            filled = 30 * self.done // self.total
            elapsed = time.perf_counter() - self.start
            end = "\r" if self.interactive else "\n"
            sys.stderr.write(
                f"Featurizing [{'#' * filled}{'.' * (30 - filled)}] "
                f"{self.done}/{self.total} images, {elapsed:.1f} s{end}"
            )
            sys.stderr.flush()

    def close(self):
        if self.interactive:
            sys.stderr.write("\n")
            sys.stderr.flush()
