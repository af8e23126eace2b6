"""The aggregate stage: the features of each direction become one row."""

import numpy as np

__all__ = ["aggregate_directions"]


def aggregate_directions(features, aggregate):
    """One row from the features of every distance and direction.

    Parameters
    ----------
    features : ndarray of shape (n_distances, n_directions, n_features)
        NaN rows for directions without any pixel pair.
    aggregate : {None, "mean", "mean_ptp", "mean_std", "min_max", "merged"}
        ``None`` keeps every direction; ``"mean"`` averages over the
        directions that have pairs; ``"mean_ptp"`` adds their range,
        ``"mean_std"`` their standard deviation; ``"min_max"`` gives the
        minimum then the maximum; ``"merged"`` features come from one matrix
        per distance (the directions' matrices summed), kept as they are.

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
    """
    if aggregate in (None, "merged"):  # merged: one matrix per distance already
        return features.ravel()
    if aggregate not in _REDUCTIONS:
        raise ValueError(f"aggregate must be None, 'merged' or one of {list(_REDUCTIONS)}, "
                         f"got {aggregate!r}")
    blocks = []
    for block in features:
        # Directions without any pair (all-NaN rows) are left out of the aggregate.
        present = block[~np.isnan(block).all(axis=1)]
        blocks.extend(reduce(present, axis=0) for reduce in _REDUCTIONS[aggregate])
    return np.concatenate(blocks)


#: Each aggregate's reductions over the directions, in column order (``std``: population,
#: ``ddof=0``).
_REDUCTIONS = {
    "mean": (np.mean,),
    "mean_ptp": (np.mean, np.ptp),
    "mean_std": (np.mean, np.std),
    "min_max": (np.min, np.max),
}
