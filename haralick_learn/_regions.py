"""Region tables: one row of Haralick features per label of a label image.

The third way of driving the path of stages (after the featurizer's whole
images): the image is read and turned gray once, then each label's bounding
box (found for all labels in one pass, :func:`scipy.ndimage.find_objects`)
goes through the same quantize -> co-occurrence -> features -> aggregate
stages as a masked sample (:func:`~haralick_learn._pipeline.row_from_gray`),
with the label's pixels as its mask. The work per region scales with its
bounding box, and only one region's matrices exist at a time.
"""

import numpy as np
from scipy import ndimage

from ._io import load_gray
from ._params import parameter_names
from ._pipeline import rows_from_gray
from ._settings import TextureSettings

__all__ = ["region_features"]

#: The featurizer's parameters that a region table takes (those of its settings).
_SETTINGS_PARAMS = parameter_names("regions")


def region_features(image, labels, *, on_error="raise", **featurizer_params):
    """Haralick features of each labelled region of an image: one table row per label.

    In the style of :func:`skimage.measure.regionprops_table`: each non-zero
    label of ``labels`` is a region, and its row equals
    ``HaralickFeaturizer(**featurizer_params).transform([(image, labels == label)])``,
    the image featurized with that region as its mask (only pixel pairs whose
    two pixels both lie in the region are counted; gray levels are quantized
    from the region's own pixels).

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or array-like
        The image (as :class:`HaralickFeaturizer` reads it), or with
        ``volume=True`` the volume.
    labels : array-like of int, the gray image's shape (2-D or 3-D)
        Label image: 0 is background, each positive integer a region (as
        made by :func:`skimage.measure.label`, :func:`skimage.segmentation.slic`
        or :func:`skimage.segmentation.watershed`); negative ids are refused.
        Ids are names, not counts: any size of id costs the same (the work
        follows the pixels and regions, not the largest id).
    on_error : {"raise", "nan"}, default="raise"
        A region without any pixel pair at some distance (a region of one
        pixel, say): raise an error naming its label, or give it a row of NaN.
    **featurizer_params
        The :class:`HaralickFeaturizer` parameters that change the numbers:
        ``distance``, ``aggregate``, ``ignore_zeros``, ``compute_14th_feature``,
        ``use_x_minus_y_variance``, ``levels``, ``backend`` (``"auto"`` only:
        masks need the compiled kernels), ``volume``, ``symmetric``,
        ``preserve_haralick_bug``, ``gray_conversion``.

    Returns
    -------
    table : pandas.DataFrame
        One row per label present, in increasing label order: a ``label``
        column, then the featurizer's feature names
        (:meth:`HaralickFeaturizer.get_feature_names_out`).

    Raises
    ------
    ValueError, TypeError
        For labels that are not integers, negative, or of another shape than
        the image, for unknown parameters, and (``on_error="raise"``) for a
        region without any pixel pair at some distance, naming its label.

    See Also
    --------
    HaralickFeaturizer : the same rows, one per ``(image, mask)`` sample.

    Examples
    --------
    >>> import numpy as np
    >>> from skimage.data import camera
    >>> from haralick_learn import region_features
    >>> image = camera()[:64, :96]
    >>> labels = np.zeros(image.shape, int)
    >>> labels[:, :48], labels[10:50, 60:90] = 1, 7
    >>> table = region_features(image, labels, aggregate="mean")
    >>> table.shape
    (2, 14)
    >>> table["label"].tolist()
    [1, 7]
    >>> list(table.columns[:3])
    ['label', 'angular_second_moment_mean_d1', 'contrast_mean_d1']
    """
    import pandas as pd

    unknown = sorted(set(featurizer_params) - set(_SETTINGS_PARAMS))
    if unknown:
        raise TypeError(
            f"region_features got unknown parameters {unknown}; it takes "
            f"{', '.join(_SETTINGS_PARAMS)} and on_error"
        )
    if on_error not in ("raise", "nan"):
        raise ValueError(f"on_error must be 'raise' or 'nan', got {on_error!r}")
    settings = TextureSettings.from_params(**featurizer_params)
    gray = load_gray(image, 0, volume=settings.volume, gray_conversion=settings.gray_conversion)
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu" or labels.dtype == bool:
        raise TypeError(f"labels must be an integer label image, got dtype {labels.dtype}")
    if labels.shape != gray.shape:
        raise ValueError(
            f"labels of shape {labels.shape} do not match the image's gray shape {gray.shape}"
        )
    if labels.size and labels.min() < 0:
        raise ValueError("labels must be non-negative (0 is background)")
    names = settings.feature_names
    if labels.size == 0 or labels.max() == 0:
        return pd.DataFrame({"label": np.array([], dtype=labels.dtype),
                             **{name: np.array([]) for name in names}})
    ids, compact = _compact_ids(labels)
    boxes = ndimage.find_objects(compact)  # one pass: the bounding box of every region
    present = [index for index, box in enumerate(boxes) if box is not None]
    rows = np.empty((len(present), len(names)))
    # Batches of regions: their features in one pass each (the sums of 256 regions hold
    # about 15 MB), the same rows as one region at a time.
    for start in range(0, len(present), 256):
        batch = present[start : start + 256]
        items = [(gray[boxes[index]], f"label {ids[index]}", compact[boxes[index]] == index + 1)
                 for index in batch]
        for r, (row, error) in enumerate(rows_from_gray(items, settings,
                                                        catch=on_error == "nan")):
            rows[start + r] = np.nan if error is not None else row
    table = pd.DataFrame(rows, columns=list(names))
    table.insert(0, "label", ids[present])
    return table


def _compact_ids(labels):
    """The region ids of a label image and the image relabelled ``1, 2, ...`` in their order.

    Returns ``(ids, compact)``: region ``k`` of ``compact`` (``k >= 1``) has
    the label ``ids[k - 1]``, background stays 0. Label ids are names, not
    counts: :func:`scipy.ndimage.find_objects` makes a list as long as the
    largest id, so ids beyond the number of pixels are first made consecutive
    (a sort of the pixels), and the cost follows the pixels, never the ids.
    """
    largest = int(labels.max())
    if largest <= labels.size:
        return np.arange(1, largest + 1, dtype=labels.dtype), labels
    ids, compact = np.unique(labels, return_inverse=True)
    compact = compact.reshape(labels.shape)
    if ids[0] == 0:
        return ids[1:], compact
    return ids, compact + 1
