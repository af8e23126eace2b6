"""The aggregate stage: the features of each direction become one row."""

import numpy as np

__all__ = ["aggregate_directions", "aggregate_windows"]


def aggregate_directions(features, aggregate, n_directions=None):
    """One row from the features of every distance and direction.

    Parameters
    ----------
    features : ndarray of shape (n_distances, n_directions, n_features)
        NaN rows for directions without any pixel pair.
    aggregate : {None, "mean", "mean_ptp", "mean_std", "min_max", "merged"}
        ``None`` keeps every direction; ``"mean"`` averages each feature over
        the directions where it is defined (that have pairs, and where its
        formula gives a number: pyradiomics's ``nanmean``); ``"mean_ptp"`` adds their range,
        ``"mean_std"`` their standard deviation; ``"min_max"`` gives the
        minimum then the maximum; ``"merged"`` features come from one matrix
        per distance (the directions' matrices summed), kept as they are;
        ``"mean_all"`` is one mean over the directions of every distance together
        (pyradiomics's merge of several distances).
    n_directions : sequence of int, default=None
        The number of directions at each distance when it varies (pyradiomics's
        offsets): the rows beyond it in a block are padding, dropped without
        ``aggregate``. ``None``: every row is a direction.

    Returns
    -------
    row : ndarray of shape (n_features_out,)
        Blocks per distance, in order, as the settings' feature names say.

    Examples
    --------
    >>> import numpy as np
    >>> features = np.array([[[1.0, 2.0], [3.0, 6.0], [np.nan, np.nan]]])
    >>> aggregate_directions(features, "mean_ptp")
    array([2., 4., 2., 4.])
    >>> aggregate_directions(features, "min_max")
    array([1., 2., 3., 6.])
    >>> two = np.array([[[1.0], [3.0]], [[8.0], [np.nan]]])
    >>> aggregate_directions(two, "mean"), aggregate_directions(two, "mean_all")
    (array([2., 8.]), array([4.]))
    """
    if aggregate == "merged":  # one matrix per distance already
        return features.ravel()
    if aggregate is None:
        if n_directions is None:
            return features.ravel()
        return np.concatenate([block[:n].ravel() for block, n in zip(features, n_directions)])
    if aggregate == "mean_all":
        return aggregate_directions(features.reshape((1, -1, features.shape[-1])), "mean")
    if aggregate not in _REDUCTIONS:
        raise ValueError(f"aggregate must be None, 'merged' or one of {list(_REDUCTIONS)}, "
                         f"got {aggregate!r}")
    return aggregate_windows(features[None], aggregate)[0]


#: The aggregates that reduce over directions, and their reductions in column order.
_REDUCTIONS = {
    "mean": ("mean",),
    "mean_ptp": ("mean", "ptp"),
    "mean_std": ("mean", "std"),
    "min_max": ("min", "max"),
}


def aggregate_windows(features, aggregate, n_directions=None):
    """:func:`aggregate_directions` of many samples at once: one row each.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_distances, n_directions, n_features)
        NaN rows for directions without any pixel pair.
    aggregate, n_directions
        As for :func:`aggregate_directions`.

    Returns
    -------
    rows : ndarray of shape (n_samples, n_features_out)
        Each row as :func:`aggregate_directions` makes it from ``features[i]``
        (the reductions visit the directions in order, as numpy's reductions
        over the first axis of ``aggregate_directions`` do), NaN where a
        distance has no direction with pairs.

    Examples
    --------
    >>> import numpy as np
    >>> features = np.array([[[[1.0, 2.0], [3.0, 6.0], [np.nan, np.nan]]]])
    >>> aggregate_windows(features, "mean_ptp")
    array([[2., 4., 2., 4.]])
    >>> aggregate_windows(features, None)
    array([[ 1.,  2.,  3.,  6., nan, nan]])
    """
    n = features.shape[0]
    if aggregate == "merged":
        return features.reshape(n, -1)
    if aggregate is None:
        if n_directions is None:
            return features.reshape(n, -1)
        return np.concatenate([features[:, d, :k].reshape(n, -1)
                               for d, k in enumerate(n_directions)], axis=1)
    if aggregate == "mean_all":
        return aggregate_windows(features.reshape((n, 1, -1, features.shape[-1])), "mean")
    if aggregate not in _REDUCTIONS:
        raise ValueError(f"aggregate must be None, 'merged' or one of {list(_REDUCTIONS)}, "
                         f"got {aggregate!r}")
    blocks = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for d in range(features.shape[1]):
            block = features[:, d]
            # Each feature over the directions where it is defined (pyradiomics's nanmean):
            # a direction without pairs is all NaN, and one feature may be undefined alone
            present = ~np.isnan(block)  # (n, n_directions, n_features)
            count = present.sum(axis=1)
            none = count == 0
            total = np.zeros((n, block.shape[2]))
            extremes = aggregate in ("mean_ptp", "min_max")
            if extremes:
                low = np.full((n, block.shape[2]), np.inf)
                high = np.full((n, block.shape[2]), -np.inf)
            for j in range(block.shape[1]):  # in order: the bits of numpy's sum over axis 0
                here = present[:, j]
                value = block[:, j]
                np.add(total, value, out=total, where=here)
                if extremes:
                    np.minimum(low, value, out=low, where=here)
                    np.maximum(high, value, out=high, where=here)
            mean = np.where(none, np.nan, total / np.where(none, 1, count))
            if extremes:
                low = np.where(none, np.nan, low)
                high = np.where(none, np.nan, high)
            if aggregate == "mean":
                blocks.append(mean)
            elif aggregate == "mean_ptp":
                blocks += [mean, high - low]
            elif aggregate == "min_max":
                blocks += [low, high]
            else:  # mean_std: the population deviation, as numpy's std computes it
                squares = np.zeros_like(total)
                for j in range(block.shape[1]):
                    deviation = block[:, j] - mean
                    squares = np.where(present[:, j], squares + deviation * deviation, squares)
                blocks += [mean, np.sqrt(squares / np.where(none, 1, count))]
    return np.concatenate(blocks, axis=1)
