"""Loader for the sample texture images shipped with the package."""

import atexit
import contextlib
import functools
import re
from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

_IMAGES_DIR = "images"
_README = "README.md"
_NAME_PATTERN = re.compile(r"(?P<label>.+?)\d+")


@functools.cache
def _data_dir():
    """Return the package's ``data`` directory as a real filesystem path.

    ``as_file`` hands back an installed directory unchanged; for a zipped
    install it extracts a copy, kept until the interpreter exits so the
    returned paths stay valid.
    """
    stack = contextlib.ExitStack()
    atexit.register(stack.close)
    data = resources.files(__package__).joinpath("data")
    return stack.enter_context(resources.as_file(data))


def _label(path):
    """Return the class name of ``brick07.jpg``: its stem without the number."""
    return _NAME_PATTERN.fullmatch(path.stem).group("label")


def load_sample_images(*, return_X_y=False):
    """Load the sample texture images: 3 classes of 30 RGB JPEG photos.

    The images are crops of varied size (128 to 200 pixels square), orientation,
    scale and tone cut from scikit-image's CC0 brick, grass and gravel textures.
    They are named ``<class><NN>.jpg`` (``brick00.jpg`` ... ``gravel29.jpg``);
    the class is the file name without its number.

    =================   ========================
    Classes                                    3
    Samples per class                         30
    Samples total                             90
    Image size          128 to 200 px, square
    Format              RGB JPEG, equal channels
    =================   ========================

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(paths, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        paths : list of str
            Absolute paths of the 90 images, sorted.
        target : ndarray of str, shape (90,)
            Class name of each image, taken from its file name.
        target_names : ndarray of str, shape (3,)
            The sorted unique class names.
        DESCR : str
            Description of the images: provenance, licence and how they
            were cut.

    (paths, target) : tuple if ``return_X_y`` is True
        The ``paths`` list and ``target`` array described above.

    Examples
    --------
    >>> from PIL import Image
    >>> from haralick_learn.datasets import load_sample_images
    >>> data = load_sample_images()
    >>> len(data.paths)
    90
    >>> data.target_names.tolist()
    ['brick', 'grass', 'gravel']
    >>> data.paths[0].endswith("brick00.jpg"), str(data.target[0])
    (True, 'brick')
    >>> Image.open(data.paths[-1]).mode
    'RGB'
    >>> paths, target = load_sample_images(return_X_y=True)
    >>> int((target == "grass").sum())
    30
    """
    data_dir = _data_dir()
    paths = sorted(str(path.resolve()) for path in (data_dir / _IMAGES_DIR).glob("*.jpg"))
    target = np.array([_label(Path(path)) for path in paths])
    if return_X_y:
        return paths, target
    return Bunch(
        paths=paths,
        target=target,
        target_names=np.unique(target),
        DESCR=(data_dir / _README).read_text(encoding="utf-8"),
    )
