"""HaralickFeaturizer: images in, one row of Haralick features per image out.

The estimator validates its parameters into one
:class:`~haralick_learn._settings.TextureSettings` and orchestrates: it turns
``X`` into a list of samples, runs the path of stages on batches of them
(:func:`~haralick_learn._pipeline.featurize_batch`) in parallel through the
cache, and stacks the rows in input order.
"""

import os
import warnings
from functools import partial
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from PIL import Image
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import gen_batches
from sklearn.utils.validation import validate_data

from ._cache import cached_featurize_batch, make_cache
from ._compat import HasMethods, Interval, StrOptions, validate_parameters
from ._params import PARAMETERS, Options, Range, parameter_names
from ._pipeline import featurize_batch
from ._progress import Progress
from ._settings import TextureSettings
from .texture.catalogue import blas_limits


def _sklearn_constraint(constraint):
    """scikit-learn's constraint object for an entry of the parameter table."""
    if isinstance(constraint, Options):
        return StrOptions(set(constraint.values))
    if isinstance(constraint, Range):
        return Interval(constraint.type, constraint.low, constraint.high, closed=constraint.closed)
    return constraint


def _check_input_features(estimator, input_features):
    """``get_feature_names_out``'s check of ``input_features`` against what ``fit`` saw.

    The rule of scikit-learn's transformers: the names must be the columns of
    the DataFrame fitted on, and as many as the columns fitted on.
    """
    input_features = np.asarray(input_features, dtype=object)
    names_in = getattr(estimator, "feature_names_in_", None)
    if names_in is not None and not np.array_equal(names_in, input_features):
        raise ValueError("input_features is not equal to feature_names_in_")
    n_in = getattr(estimator, "n_features_in_", None)
    if n_in is not None and len(input_features) != n_in:
        raise ValueError(f"input_features should have length equal to number of features "
                         f"({n_in}), got {len(input_features)}")


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
    NE-SW. With the default parameters a gray image gives exactly
    ``mahotas.features.haralick(im).ravel()``, and an 8-bit RGB photograph the
    same of its exact gray conversion, the same on every machine;
    ``gray_conversion="mahotas"`` gives exactly
    ``mahotas.features.haralick(mahotas.colors.rgb2gray(im, dtype=np.uint8)).ravel()``
    as the local mahotas computes it.

    Read more in the :ref:`User Guide <featurizer-guide>`.

    Parameters
    ----------
    distance : int or list of int, default=1
        Pixel distance of the co-occurrence pairs. With a list, the blocks of
        features for each distance are concatenated in the given order.
    aggregate : {None, "mean", "mean_ptp", "mean_std", "min_max", "merged", "mean_all"}, \
            default=None
        ``None`` keeps the features of every direction (as the reference);
        ``"mean"`` averages them over the directions (pyradiomics's default);
        ``"mean_ptp"`` gives the mean then the range (max - min),
        ``"mean_std"`` the mean then the standard deviation, ``"min_max"`` the
        minimum then the maximum over the directions; ``"merged"`` sums the
        directions' co-occurrence matrices and computes the features once
        (IBSI's merged mode, pyradiomics's ``weightingNorm="no_weighting"``);
        ``"mean_all"`` is one mean over the directions of all the distances
        together, columns ``{feature}_mean_d1_2`` (pyradiomics's merge with
        several ``distances``).
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
        256 levels. See the :ref:`user guide <gray-levels>` for the exact
        rule; it depends only on each image itself, never on the rest of the
        batch.
    image_shape : tuple of int or None, default=None
        Shape ``(height, width)`` or ``(height, width, channels)`` of the
        images when ``X`` is a 2-D numeric array whose rows are flattened
        images. ``None`` treats each row as a one-pixel-high strip, with a
        warning: a single gray image must be wrapped in a list (``[image]``).
    backend : {"auto", "numba", "mahotas"}, default="auto"
        ``"numba"`` (and ``"auto"``, the same: numba is a dependency) uses the
        compiled kernels, ``"mahotas"`` calls the reference implementation.
        Both give the same numbers to about 1e-12 relative. mahotas's own
        ``np.dot`` calls go through the BLAS, whose CPU kernel decides their
        last digits: ``"mahotas"`` reproduces this machine's mahotas, its rows
        are not the same bits on another CPU (computed on one BLAS thread, they
        follow no ``n_jobs``).
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
        of failed images are not cached. See :ref:`the cache <feature-cache>`
        in "Featurizing millions of images".
    features : str or list of str, default="haralick"
        Which features: ``"haralick"`` (mahotas's 13, 14 with
        `compute_14th_feature`; names unprefixed), ``"skimage"``
        (scikit-image's ``graycoprops`` properties, named ``skimage_*``),
        ``"ibsi"`` (pyradiomics's 24 GLCM features, ``ibsi_*``), or a list of
        set names and feature names (``["contrast", "ibsi_Idmn"]``). All come
        from the same co-occurrence matrices. See :doc:`/conventions`.
    offsets : {None, "mahotas", "skimage", "pyradiomics"} or list, default=None
        The offset of a direction at distance ``d``: ``"mahotas"`` multiplies
        the unit offset, ``(d, d)`` on the diagonals (mahotas, pyradiomics at
        ``d=1``); ``"skimage"`` rounds ``(d sin a, d cos a)`` as
        ``graycomatrix`` does, ``(round(d / sqrt 2), ...)`` on the diagonals;
        ``"pyradiomics"`` takes every offset of infinity norm ``d`` up to sign,
        ``4 d`` of them (8 at ``d=2``), as pyradiomics's ``distances`` do (2-D
        only; the four directions at ``d=1``), columns named by their offset
        ``(dy, dx)``: ``offset_2_m1``. ``None`` takes the convention of the
        library whose features these are: ``"mahotas"`` for ``"haralick"``,
        ``"skimage"`` for ``"skimage"``, ``"pyradiomics"`` for ``"ibsi"``;
        volumes have mahotas's 3-D offsets only (pyradiomics's at ``d=1``;
        ``"ibsi"`` beyond it needs ``offsets="mahotas"``, said explicitly), and
        features of several sets take ``"mahotas"`` at ``d=1``, where all the
        conventions agree, and need `offsets` beyond it.

        Or your own directions, as a list. A list of numbers is angles in
        radians, as scikit-image's ``graycomatrix(image, distances, angles)``
        takes them (so that its users write the same list): the offset at
        ``d`` is rounded by scikit-image's own rule, columns named by the
        angle in degrees to 4 decimals, ``m`` for minus
        (``contrast_angle_17.1887_d1`` for 0.3, ``contrast_angle_m30_d1``);
        2-D only. A list of integer pairs ``(dy, dx)`` (triples
        ``(dz, dy, dx)`` with `volume`) is offset vectors per unit distance,
        counted ``d`` times each as mahotas's directions (and as
        :func:`~haralick_learn.cooccurrence`'s ``offsets``), columns named by
        the vector (``contrast_offset_2_m1_d1``); one vector is
        ``[(0, 1)]``, as ``[0, 1]`` is two angles. An offset and its
        opposite count the same pairs and are refused together; one whose
        first non-zero component is negative is counted as its opposite (the
        same matrix once symmetrized), so ``symmetric=False`` refuses it.
    bin_width : float or None, default=None
        Fixed bin width (pyradiomics's ``binWidth``): level
        ``floor(x / W) - floor(min / W)``. Excludes `levels` and `gray_range`.
    gray_range : None, "image" or (low, high), default=None
        Spread the `levels` bins (256 when ``levels=None``) over the image's
        own ``[min, max]`` (``"image"``: pyradiomics's ``binCount``) or a
        fixed ``(low, high)`` shared by all images, so that a level means the
        same intensities in every image. ``None`` keeps the default rule.
    volume : bool or {"3d", "2.5d", "2d"}, default=False
        Treat each sample as a 3-D gray volume: a 3-D array, a multi-page
        TIFF, a NIfTI (``.nii``, ``.nii.gz``) or NRRD (``.nrrd``) file (these
        two need ``pip install 'haralick_learn[volumes]'``). ``True`` or
        ``"3d"``: features are computed for mahotas's 13 3-D directions, as
        ``mahotas.features.haralick`` does for a 3-D array. ``"2.5d"`` and
        ``"2d"`` take the volume as slices along axis 0 (transpose a NIfTI
        volume read as ``(x, y, z)`` to ``(z, y, x)`` for axial slices) and
        count the pairs within each slice, in the 4 in-plane directions
        (``offset_0_0_1``, ``offset_0_1_1``, ``offset_0_1_0``,
        ``offset_0_1_m1``): ``"2.5d"`` sums each direction's matrices over the
        slices, ``"2d"`` computes the features of each slice and averages them
        over the slices that have pairs (a slice outside the mask is left
        out). With `aggregate`, these are IBSI's six aggregations:
        ``"mean"`` is IBSI's averaged mode (2D:avg, the features of every
        slice and direction averaged; 2.5D:dmrg; 3D:avg) and ``"merged"`` its
        merged mode (2D:smrg, each slice's directions merged, averaged over
        the slices; 2.5D:mrg; 3D:mrg). With ``"2d"``, ``None`` gives each
        direction averaged over the slices, and ``"mean_ptp"``,
        ``"mean_std"``, ``"min_max"``, ``"mean_all"`` reduce over every slice
        and direction. A volume is never guessed from a shape: without
        `volume` a 3-D array is a colour image (its last axis the channels).
        The command's ``--volume`` is ``"3d"``.
    symmetric : bool, default=True
        Add each co-occurrence matrix's transpose, as mahotas does;
        ``False`` counts each pair ``(p, p + offset)`` once, in that order
        (``mahotas.features.texture.cooccurence(..., symmetric=False)``,
        pyradiomics's ``symmetricalGLCM=False``).
    preserve_haralick_bug : bool, default=False
        mahotas's option of the same name: the sum variance (feature 7) is
        computed around the sum entropy, the typo of Haralick's paper.
    color : {"gray", "rgb", "hsv", "lab"}, default="gray"
        The channels featurized. ``"gray"`` is the reference's gray conversion
        (the numbers above). ``"rgb"``, ``"hsv"`` and ``"lab"`` compute the
        features of each channel image of that colour space (R, G, B; H, S, V;
        L*, a*, b*, each an 8-bit image: exact formulas in the user guide,
        "Colour texture") and concatenate them, each block of names prefixed
        by its channel: ``R_contrast_horizontal_d1``. ``"hsv"`` and ``"lab"``
        need 8-bit RGB; a gray image is the RGB image ``(g, g, g)``. The
        channels of an image are binned on one scale: where the levels depend
        on the image (`bin_width`'s minimum, ``gray_range="image"``, the range
        of a 16-bit or float image) they come from all its channels together,
        so that a level means the same intensity in every channel and pair.
        An ``(image, mask)`` sample bins them from their pixels inside the
        mask and counts only the pixel pairs inside it, in every channel and
        pair.
    color_pairs : None, "all" or list of (str, str), default=None
        Cross-channel co-occurrence: for each pair ``(a, b)`` of channel names
        of ``color`` (``("R", "G")``; ``"all"``: every pair of distinct
        channels, in channel order), the features of the matrices counting
        channel ``a`` at a pixel against channel ``b`` at its neighbour (both
        orders of each pixel pair), appended after the channels' blocks with
        names prefixed by the pair: ``RG_contrast_horizontal_d1``. A pair and
        its reverse are the same pair (transposed matrices); with
        ``symmetric=False`` each pixel pair is counted once, channel ``a`` at
        ``p`` against ``b`` at ``p + offset``, and ``(b, a)`` is another pair
        (that of the opposite offsets). The counting and
        features are the compiled ones whatever ``backend`` (mahotas has no
        cross-channel co-occurrence).
    gray_conversion : {"exact", "mahotas"}, default="exact"
        How an RGB image becomes gray. ``"exact"`` weighs the channels as
        mahotas does, ``0.30 R + 0.59 G + 0.11 B``, in exact integer
        arithmetic: the 8-bit level ``(30 R + 59 G + 11 B) // 100``, the same
        on every machine, and a gray picture stored as RGB
        (``R = G = B``) keeps its levels. ``"mahotas"`` reproduces
        ``mahotas.colors.rgb2gray(im, dtype=np.uint8)`` bit for bit, a float
        dot product whose rounding depends on the machine's BLAS: the
        colours whose exact gray level is an integer (30R + 59G + 11B a
        multiple of 100) come out one level lower on some CPUs. Use it to
        compare with rows computed by mahotas itself on the same machine.
        See the :ref:`user guide <gray-conversion>`.

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
        **{param.name: [_sklearn_constraint(c) for c in param.constraints]
           for param in PARAMETERS},
        # Run parameters: how rows are computed, never what they hold.
        "image_shape": [None, tuple],
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
        features="haralick",
        offsets=None,
        bin_width=None,
        gray_range=None,
        volume=False,
        symmetric=True,
        preserve_haralick_bug=False,
        color="gray",
        color_pairs=None,
        gray_conversion="exact",
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
        self.features = features
        self.offsets = offsets
        self.bin_width = bin_width
        self.gray_range = gray_range
        self.volume = volume
        self.symmetric = symmetric
        self.preserve_haralick_bug = preserve_haralick_bug
        self.color = color
        self.color_pairs = color_pairs
        self.gray_conversion = gray_conversion

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
        self._settings()
        if _as_paths(X) is None and _is_feature_matrix(X):
            validate_data(self, X, reset=True, dtype="numeric")
            self._check_image_shape(self.n_features_in_)
        return self

    def transform(self, X):
        """Compute the Haralick features of each image.

        Parameters
        ----------
        X : sequence of images or array-like of shape (n_samples, n_pixels)
            Each image a path (``str``, ``bytes`` or ``os.PathLike``), a PIL
            image, a 2-D gray array or a 3-D RGB/RGBA array; or a 3-D array of
            gray images stacked on the first axis (a warning when its last axis
            has 3 or 4 values: one colour image goes in a list, ``[X]``); or an
            array, Series or one-column DataFrame of paths; or a 2-D numeric
            array whose rows are flattened images of shape ``image_shape``. With
            ``volume=True`` each image is a 3-D array or a volume file. Any
            sample may be a tuple ``(image, mask)``: the mask (a boolean
            array, or a mask file whose non-zero pixels are inside, of the
            image's shape) restricts quantization and the counted pixel
            pairs to its pixels (a pair counts when both of its pixels lie
            in the mask). An ``(n, 2)`` array of paths, or a two-column
            DataFrame, is ``n`` such ``(image, mask)`` pairs.

        Returns
        -------
        X_features : ndarray of shape (n_samples, n_features_out)
            One row per image, in input order.
        """
        settings = self._settings()
        images = self._images(X)
        return self._featurize(images, settings)

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
            horizontal, diagonal_nwse, vertical, diagonal_nesw (with
            ``volume=True``: ``offset_1_0_0`` ... ``offset_1_m1_m1``, mahotas's
            13 offsets along the volume's axes, ``m1`` for -1; `offsets` of
            angles or vectors: ``angle_17.1887``, ``offset_2_m1``), or ``mean`` /
            ``ptp`` when aggregated; with a ``color`` other than gray, prefixed
            by the channel (``R_``) or the channel pair (``RG_``).
        """
        if hasattr(self, "n_features_in_") and input_features is not None:
            _check_input_features(self, input_features)
        return np.asarray(self._settings().feature_names, dtype=object)

    def __sklearn_is_fitted__(self):
        """Stateless: always ready to transform."""
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = True
        return tags

    # -- helpers ---------------------------------------------------------

    def _settings(self):
        """The validated :class:`TextureSettings` of the current parameters."""
        validate_parameters(self)
        if self.image_shape is not None:
            shape = self.image_shape
            if len(shape) not in (2, 3) or not all(
                isinstance(s, Integral) and s >= 1 for s in shape
            ):
                raise ValueError(
                    "image_shape must be (height, width) or (height, width, channels) "
                    f"with positive ints, got {shape!r}"
                )
        return TextureSettings.from_params(
            **{name: getattr(self, name) for name in parameter_names()}
        )

    def _check_image_shape(self, n_columns):
        if self.image_shape is not None and int(np.prod(self.image_shape)) != n_columns:
            raise ValueError(
                f"image_shape={self.image_shape} holds {int(np.prod(self.image_shape))} "
                f"pixels, but X has {n_columns} columns"
            )

    def _images(self, X):
        """A list of the samples of ``X``, one image-like each, in input order."""
        paths = _as_paths(X)
        if paths is not None:
            images = paths
        elif _is_feature_matrix(X):
            X = validate_data(self, X, reset=False, dtype="numeric")
            self._check_image_shape(X.shape[1])
            if self.image_shape is None and X.shape[1] > 1:
                warnings.warn(
                    f"X is a 2-D numeric array of shape {X.shape} and image_shape is None: "
                    "each row is featurized as an image one pixel high, which has no "
                    "vertical or diagonal pixel pairs (NaN columns). If X is one gray "
                    "image, wrap it in a list ([X]); if its rows are flattened images, "
                    "give image_shape=(height, width).",
                    UserWarning,
                    stacklevel=3,
                )
            shape = self.image_shape or (1, X.shape[1])
            return [row.reshape(shape) for row in X]
        else:
            if self.volume and getattr(X, "ndim", None) == 3 and np.asarray(X).dtype != object:
                raise ValueError(
                    f"X is one volume of shape {np.shape(X)} (a 3-D array with volume=True), "
                    "read as a stack of 2-D slices: pass [volume] (several volumes: a list, "
                    "or a 4-D array)"
                )
            shape = getattr(X, "shape", ())
            if len(shape) == 3 and shape[2] in (3, 4) and getattr(X, "dtype", object) != object:
                warnings.warn(
                    f"X is a 3-D array of shape {shape}: each of its {shape[0]} slices is "
                    f"featurized as a gray image {shape[2]} pixels wide. If X is one colour "
                    "image, wrap it in a list ([X]).",
                    UserWarning,
                    stacklevel=3,
                )
            # A sequence of images, or a 3-D / 4-D array: a stack of gray / colour images.
            images = list(X)
        if not images:
            raise ValueError("X contains no image: at least one is required")
        return [os.fsdecode(image) if isinstance(image, bytes) else image for image in images]

    def _featurize(self, images, settings):
        catch = self.on_error == "nan"
        n_features_out = settings.n_features
        cache = make_cache(self.memory, settings)
        if cache is None:
            task = partial(_uncached, featurize_batch)
        else:
            task = partial(cached_featurize_batch, cache, featurize_batch)
        n_workers = effective_n_jobs(self.n_jobs)
        jobs = [delayed(task)(images[batch], list(range(batch.start, batch.stop)), settings, catch)
                for batch in gen_batches(len(images), _batch_size(len(images), n_workers))]
        progress = Progress(len(images), enabled=self.verbose > 0)
        rows, failures, cache_problems = [], [], []
        # Parallel images already use the cores: BLAS threads inside each (mahotas's own
        # np.dot calls) would oversubscribe them; and mahotas's rows would follow BLAS's
        # thread count (a dot product split between threads sums in another order)
        with blas_limits(n_workers, one_thread=settings.backend == "mahotas"):
            for results in _run(jobs, self.n_jobs):
                for row, error, problem in results:
                    if error is not None:
                        failures.append((len(rows), error))
                        row = np.full(n_features_out, np.nan)
                    if problem is not None:
                        cache_problems.append(problem)
                    rows.append(row)
                    progress.update()
        progress.close()
        if cache_problems:
            warnings.warn(
                f"haralick_learn feature cache: {len(cache_problems)} of {len(images)} rows "
                f"were computed but not cached; the first: {cache_problems[0]}",
                RuntimeWarning,
                stacklevel=3,
            )
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


def _uncached(featurize, samples, *args):
    """``featurize``'s results in the cached task's shape: ``(row, error, None)`` each."""
    return [(row, error, None) for row, error in featurize(samples, *args)]


#: Images per task at most: large enough that a batch of small images shares
#: the fixed costs (a task's dispatch, the features' numpy calls), small
#: enough that the progress bar and the first rows come soon.
_MAX_BATCH = 64


def _batch_size(n_images, n_workers):
    """Images per task: at least four tasks per worker, so that the workers stay balanced.

    (Twelve photographs on two workers go one per task: photographs differ in cost.)
    """
    return int(min(_MAX_BATCH, max(1, n_images // (4 * n_workers))))


def _run(jobs, n_jobs):
    """Results of ``jobs`` in order, as they finish when the joblib backend can stream them.

    The multiprocessing backend (and Ray's, built on it) cannot return a
    generator: there the results come as a list, all at once.
    """
    try:
        return Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")(jobs)
    except ValueError as exc:
        if "return_as" not in str(exc):
            raise
    return Parallel(n_jobs=n_jobs, prefer="threads")(jobs)


def _as_paths(X):
    """``X`` as a list of paths (or ``(image, mask)`` pairs) when it is a table of them, else None.

    A numpy array of strings (``np.array(paths)``), of bytes, or an object
    array / Series / one-column DataFrame whose entries are paths, as a
    :class:`~sklearn.compose.ColumnTransformer` hands over with a list of one
    column. Two columns (an ``(n, 2)`` array of paths, a two-column
    DataFrame) are ``(image, mask)`` pairs; more columns are an error.
    """
    if hasattr(X, "columns") and hasattr(X, "iloc"):  # DataFrame
        # pandas' own dtypes (StringDtype...) are not numpy dtypes; all have .kind
        non_numeric = [c for c in X.columns if getattr(X[c].dtype, "kind", "O") not in "biufc"]
        if not non_numeric:
            return None  # a numeric table: rows are flattened images
        if X.shape[1] == 2 and len(non_numeric) == 2:
            first, second = (repr(str(c)) for c in X.columns)
            return _pairs(zip(X.iloc[:, 0], X.iloc[:, 1]), f"X's columns {first} and {second}",
                          f"X[[{first}]]")
        if X.shape[1] != 1:
            raise ValueError(
                f"X is a DataFrame with columns {list(X.columns)}: a DataFrame of samples has "
                "one column of paths, or two: images and their masks (select them, e.g. "
                "X[['image', 'mask']] or ColumnTransformer([..., ['image', 'mask']]))"
            )
        return list(X.iloc[:, 0])
    if hasattr(X, "dtype") and hasattr(X, "index") and hasattr(X, "iloc"):  # Series
        values = list(X)
        return values if values and all(_is_path(v) for v in values) else None
    if isinstance(X, np.ndarray) and X.dtype.kind in "USO":
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if X.ndim == 1 and X.dtype.kind in "US":
            return X.tolist()
        if X.ndim == 2 and X.shape[1] == 2 and all(_is_path(v) for v in X[:, 0]):
            return _pairs(X.tolist(), f"X's two columns (shape {X.shape})", "X[:, 0]")
    return None


def _pairs(rows, columns, first_only):
    """``(image, mask)`` samples from the rows of a two-column table (bytes paths decoded).

    A second column in which no entry is a mask (an existing file or an
    array) is not one of masks (class labels, say): an error that says how to
    pass the images alone.
    """
    pairs = [tuple(os.fsdecode(value) if isinstance(value, bytes) else value for value in row)
             for row in rows]
    if pairs and not any(not _is_path(mask) or os.path.isfile(mask) for _, mask in pairs):
        raise ValueError(
            f"{columns} are read as (image, mask) pairs, but no entry of the second is a "
            f"mask file (the first is {pairs[0][1]!r}); for the images alone pass their "
            f"column, {first_only}"
        )
    return pairs


def _is_path(value):
    return isinstance(value, (str, bytes, os.PathLike))


def _is_feature_matrix(X):
    """True when ``X`` is tabular (a 2-D numeric matrix, rows = flattened images).

    A 1-D numeric input also counts, so that it is rejected with scikit-learn's
    usual message instead of being read as a list of images.
    """
    if isinstance(X, (str, bytes, os.PathLike, Image.Image)):
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
