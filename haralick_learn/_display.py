"""SimilarImagesDisplay: query images next to their most similar images."""

import os
from numbers import Integral

import numpy as np
from PIL import Image
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .io.decode import describe_source, load_display_pixels, load_mask, split_sample
from .neighbors.search import DistanceNeighbors


class SimilarImagesDisplay:
    """Query images, each followed by its most similar images and their distances.

    One row per query: the query image, titled with its name and ``query``,
    then its neighbours, nearest first, titled with their name and distance.
    A name is the file name, else ``#index`` for an in-memory image of the
    collection; a query that is an in-memory image of its own is titled
    ``query r`` (``r`` its row). An ``(image, mask)`` sample is drawn whole,
    its pixels outside the mask faded.

    Read more in the :ref:`User Guide <similar-images-display-guide>`.

    It is recommended to create one with :meth:`from_estimator` (a fitted
    :class:`DistanceNeighbors`, or a fitted pipeline ending in one) or
    :meth:`from_predictions` (the output of ``kneighbors``). All parameters
    are stored as attributes.

    Parameters
    ----------
    images : sequence of images
        The collection the neighbours are taken from: file paths, PIL images
        or arrays (2-D gray or ``(height, width, channels)``), or
        ``(image, mask)`` samples, in the order of the rows the neighbours
        were searched among.
    queries : sequence
        One entry per query: an ``int`` is the index of a query among
        ``images``; anything else is the query image itself (path, PIL image,
        array or ``(image, mask)`` sample).
    neighbor_indices : array-like of shape (n_queries, n_neighbors)
        Indices into ``images`` of each query's neighbours, nearest first.
    distances : array-like of shape (n_queries, n_neighbors)
        Their distances.

    Attributes
    ----------
    figure_ : matplotlib Figure
        Figure holding the images.
    axes_ : ndarray of matplotlib Axes, shape (n_queries, n_neighbors + 1)
        Row ``i``: the query, then its neighbours.
    images_ : ndarray of matplotlib AxesImage, shape (n_queries, n_neighbors + 1)
        The images drawn.

    See Also
    --------
    DistanceNeighbors : Finds the neighbours.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from haralick_learn import DistanceNeighbors, HaralickFeaturizer, SimilarImagesDisplay
    >>> from haralick_learn.datasets import load_sample_images
    >>> paths = load_sample_images().paths[::6]  # 15 of the 90 sample images
    >>> search = make_pipeline(HaralickFeaturizer(), StandardScaler(), DistanceNeighbors())
    >>> search = search.fit(paths)
    >>> display = SimilarImagesDisplay.from_estimator(search, paths, [0, 7], n_neighbors=3)
    >>> display.axes_.shape
    (2, 4)
    >>> display.axes_[1, 0].get_title().splitlines()  # the query, by its file name
    ['grass12.jpg', 'query']
    >>> display.axes_[0, 1].get_title().splitlines()[0]  # its nearest neighbour
    'brick12.jpg'
    >>> display.axes_[0, 1].get_title().splitlines()[1]  # doctest: +ELLIPSIS
    'distance 3...'
    """

    def __init__(self, images, queries, neighbor_indices, distances):
        self.images = images
        self.queries = queries
        self.neighbor_indices = neighbor_indices
        self.distances = distances

    @classmethod
    def from_estimator(cls, estimator, images, queries, *, n_neighbors=3, ax=None, imshow_kw=None):
        """Search the neighbours of the queries with a fitted estimator and plot them.

        Parameters
        ----------
        estimator : DistanceNeighbors or Pipeline
            A fitted :class:`DistanceNeighbors`, or a fitted pipeline whose
            last step is one and whose earlier steps turn images into its
            feature rows (e.g. ``HaralickFeaturizer``, ``StandardScaler``).
        images : sequence of images
            The images the estimator was fitted on (paths, PIL images or
            arrays), in the same order: neighbour ``j`` is ``images[j]``.
        queries : int, image or sequence
            An ``int`` queries the fitted image of that index, which is then
            not its own neighbour (as ``kneighbors()`` without ``X``); any
            other entry is a new query image, turned into features by the
            pipeline's earlier steps (a pipeline is then required). A single
            int, path or PIL image is one query.
        n_neighbors : int, default=3
            Neighbours shown per query.
        ax : matplotlib Axes or array of Axes, default=None
            Where to draw; see :meth:`plot`.
        imshow_kw : dict, default=None
            Keyword arguments of every ``imshow`` call.

        Returns
        -------
        display : SimilarImagesDisplay
        """
        images, queries, distances, neighbor_indices = _search(
            estimator, images, queries, n_neighbors)
        display = cls(images, queries, neighbor_indices, distances)
        return display.plot(ax=ax, imshow_kw=imshow_kw)

    @classmethod
    def from_predictions(cls, images, queries, neighbor_indices, distances, *, ax=None,
                         imshow_kw=None):
        """Plot neighbours already found, e.g. by ``kneighbors``.

        Parameters
        ----------
        images : sequence of images
            The collection the neighbours index into.
        queries : int, image or sequence
            Per query, its index among ``images`` or the query image itself.
        neighbor_indices : array-like of shape (n_queries, n_neighbors)
            Indices into ``images``, nearest first.
        distances : array-like of shape (n_queries, n_neighbors)
            Their distances.
        ax : matplotlib Axes or array of Axes, default=None
            Where to draw; see :meth:`plot`.
        imshow_kw : dict, default=None
            Keyword arguments of every ``imshow`` call.

        Returns
        -------
        display : SimilarImagesDisplay
        """
        images = _as_list(images, "images")
        queries = _as_list(queries, "queries")
        for q in queries:
            if _is_index(q):
                _check_index(q, len(images))
        neighbor_indices = np.asarray(neighbor_indices)
        distances = np.asarray(distances, dtype=float)
        if neighbor_indices.ndim == 1:
            neighbor_indices, distances = neighbor_indices[None], distances[None]
        if neighbor_indices.shape != distances.shape or len(neighbor_indices) != len(queries):
            raise ValueError(
                f"neighbor_indices {neighbor_indices.shape} and distances {distances.shape} "
                f"must both have shape (n_queries, n_neighbors) with n_queries = {len(queries)}"
            )
        if neighbor_indices.dtype.kind not in "iu":
            raise TypeError(f"neighbor_indices must be integers, got {neighbor_indices.dtype}")
        for index in np.unique(neighbor_indices):
            _check_index(index, len(images))
        display = cls(images, queries, neighbor_indices, distances)
        return display.plot(ax=ax, imshow_kw=imshow_kw)

    def plot(self, *, ax=None, imshow_kw=None):
        """Draw the queries and their neighbours, one row per query.

        Parameters
        ----------
        ax : matplotlib Axes or array of Axes, default=None
            ``None``: a new figure. One Axes: its area is divided into the
            grid (the Axes itself is removed). Otherwise ``n_queries *
            (n_neighbors + 1)`` Axes, filled row by row.
        imshow_kw : dict, default=None
            Keyword arguments of every ``imshow`` call (they override the
            defaults, e.g. ``cmap="gray"`` for 2-D images).

        Returns
        -------
        display : SimilarImagesDisplay
            ``self``, with ``figure_``, ``axes_`` and ``images_`` set.
        """
        import matplotlib.pyplot as plt
        from matplotlib.axes import Axes

        images = _as_list(self.images, "images")
        queries = _as_list(self.queries, "queries")
        indices = np.atleast_2d(np.asarray(self.neighbor_indices))
        distances = np.atleast_2d(np.asarray(self.distances, dtype=float))
        n_rows, n_cols = len(queries), indices.shape[1] + 1

        if ax is None:
            fig, axes = plt.subplots(n_rows, n_cols, figsize=(3 * n_cols, 3.3 * n_rows),
                                     squeeze=False, layout="constrained")
        elif isinstance(ax, Axes):
            spec = ax.get_subplotspec()
            if spec is None:
                raise ValueError("ax must be a subplot (made by add_subplot or subplots) "
                                 "to be divided into the grid; or pass an array of Axes")
            fig = ax.figure
            grid = spec.subgridspec(n_rows, n_cols)
            ax.remove()
            axes = np.array([[fig.add_subplot(grid[r, c]) for c in range(n_cols)]
                             for r in range(n_rows)])
        else:
            axes = np.asarray(ax, dtype=object)
            if axes.size != n_rows * n_cols:
                raise ValueError(f"ax has {axes.size} Axes; {n_rows} queries x "
                                 f"({n_cols - 1} neighbours + the query) need {n_rows * n_cols}")
            axes = axes.reshape(n_rows, n_cols)
            fig = axes[0, 0].figure

        drawn = np.empty((n_rows, n_cols), dtype=object)
        for r, query in enumerate(queries):
            if _is_index(query):
                name = _name(split_sample(images[query])[0], query)
                cells = [(images[query], f"{name}\nquery", f"image #{query}")]
            else:
                name = _name(split_sample(query)[0], None)
                title = f"{name}\nquery" if name else f"query {r}"
                cells = [(query, title, f"query {r}")]
            cells += [(images[j], f"{_name(split_sample(images[j])[0], j)}\ndistance {d:.3g}",
                       f"image #{j}") for j, d in zip(indices[r], distances[r])]
            for c, (image, title, name) in enumerate(cells):
                pixels, defaults = _displayable(image, name)
                drawn[r, c] = axes[r, c].imshow(pixels, **{**defaults, **(imshow_kw or {})})
                axes[r, c].set_title(title)
                axes[r, c].axis("off")
        self.figure_, self.axes_, self.images_ = fig, axes, drawn
        return self


def _search(estimator, images, queries, n_neighbors):
    """The neighbours of ``queries`` (indices or images) among ``images``.

    Returns the images and queries as lists, the distances and the indices.
    """
    searcher, featurize = _split_estimator(estimator)
    # Checked before the result arrays are sized by it, which would fail without naming it.
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, Integral):
        raise TypeError(f"n_neighbors must be an int, got {n_neighbors!r}")
    if n_neighbors < 1:
        raise ValueError(f"n_neighbors must be positive, got {n_neighbors}")
    images = _as_list(images, "images")
    if len(images) != searcher.n_samples_fit_:
        raise ValueError(
            f"images has {len(images)} entries but the estimator was fitted on "
            f"{searcher.n_samples_fit_} rows; pass the images it was fitted on, in order"
        )
    queries = _as_list(queries, "queries")
    by_index = [i for i, q in enumerate(queries) if _is_index(q)]
    by_image = [i for i, q in enumerate(queries) if not _is_index(q)]
    neighbor_indices = np.empty((len(queries), n_neighbors), dtype=np.intp)
    distances = np.empty((len(queries), n_neighbors))
    if by_index:
        rows = np.array([_check_index(queries[i], len(images)) for i in by_index])
        distances[by_index], neighbor_indices[by_index] = searcher.kneighbors_by_index(
            rows, n_neighbors
        )
    if by_image:
        if featurize is None:
            raise TypeError(
                "queries that are images need a Pipeline whose earlier steps turn images "
                "into the DistanceNeighbors' feature rows; with a bare DistanceNeighbors "
                "pass the indices of fitted images"
            )
        features = featurize.transform([queries[i] for i in by_image])
        distances[by_image], neighbor_indices[by_image] = searcher.kneighbors(
            features, n_neighbors=n_neighbors
        )
    return images, queries, distances, neighbor_indices


def _split_estimator(estimator):
    """The DistanceNeighbors and the transformer before it (None for a bare one)."""
    if isinstance(estimator, Pipeline):
        searcher = estimator.steps[-1][1]
        featurize = estimator[:-1] if len(estimator.steps) > 1 else None
    else:
        searcher, featurize = estimator, None
    if not isinstance(searcher, DistanceNeighbors):
        raise TypeError(
            "estimator must be a fitted DistanceNeighbors or a Pipeline ending in one, "
            f"got {type(estimator).__name__}"
        )
    check_is_fitted(searcher, "n_samples_fit_")
    return searcher, featurize


def _as_list(items, name):
    if _is_index(items) or isinstance(items, (str, os.PathLike, Image.Image)):
        return [items]
    if isinstance(items, np.ndarray) and items.ndim == 2:
        raise ValueError(f"{name} is a 2-D array, which is one gray image: pass a list of "
                         "images (or of indices)")
    try:
        return list(items)
    except TypeError:
        raise TypeError(f"{name} must be a sequence, got {type(items).__name__}") from None


def _is_index(item):
    return isinstance(item, Integral) and not isinstance(item, bool)


def _check_index(index, n_images):
    if not -n_images <= index < n_images:
        raise IndexError(f"index {index} is out of range for {n_images} images")
    return int(index) % n_images


def _name(image, index):
    """The file name of an image, else ``#index`` (None when ``index`` is None)."""
    if isinstance(image, (str, os.PathLike)):
        return os.path.basename(os.fspath(image))
    filename = getattr(image, "filename", None)
    if isinstance(image, Image.Image) and filename:
        return os.path.basename(filename)
    return None if index is None else f"#{index}"


def _displayable(sample, name):
    """Pixels ``imshow`` draws faithfully, and its default keywords for them.

    A sample with a mask keeps its pixels; those outside the mask are faded
    (partly transparent), so that the region featurized stands out. ``name``
    names an in-memory sample in errors (a file is named by its path).
    """
    image, mask = split_sample(sample)
    pixels, defaults = _displayable_pixels(load_display_pixels(image))
    if mask is not None:
        source = describe_source(image, 0) if isinstance(image, (str, os.PathLike)) else name
        inside = load_mask(mask, pixels.shape[:2], source)
        defaults["alpha"] = np.where(inside, 1.0, 0.35)
    return pixels, defaults


def _displayable_pixels(pixels):
    if pixels.dtype == bool:
        pixels = pixels.astype(np.uint8) * 255
    if pixels.ndim == 3 and pixels.shape[2] in (1, 2):
        pixels = pixels[:, :, 0]  # gray (+ alpha)
    if pixels.ndim == 2:
        if pixels.dtype == np.uint8:
            return pixels, {"cmap": "gray", "vmin": 0, "vmax": 255}
        return pixels, {"cmap": "gray"}
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ValueError(f"cannot display an image of shape {pixels.shape}")
    if pixels.dtype != np.uint8:
        low, high = float(pixels.min()), float(pixels.max())
        pixels = (pixels - low) / (high - low) if high > low else np.zeros(pixels.shape)
    return pixels, {}
