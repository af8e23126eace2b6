"""The aggregate stage: the features of each direction become one row."""

import numpy as np

__all__ = ["aggregate_directions"]


def aggregate_directions(features, aggregate):
    """One row from the features of every distance and direction.

    Parameters
    ----------
    features : ndarray of shape (n_distances, n_directions, n_features)
        NaN rows for directions without any pixel pair.
    aggregate : {None, "mean", "mean_ptp"}
        ``None`` keeps every direction; ``"mean"`` averages over the
        directions that have pairs; ``"mean_ptp"`` adds their range.

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
    """
    if aggregate is None:
        return features.ravel()
    if aggregate not in ("mean", "mean_ptp"):
        raise ValueError(f"aggregate must be None, 'mean' or 'mean_ptp', got {aggregate!r}")
    blocks = []
    for block in features:
        # Directions without any pair (all-NaN rows) are left out of the aggregate.
        present = block[~np.isnan(block).all(axis=1)]
        blocks.append(present.mean(axis=0))
        if aggregate == "mean_ptp":
            blocks.append(np.ptp(present, axis=0))
    return np.concatenate(blocks)
