"""Regenerate the sample JPEGs shipped in ``haralick_learn/datasets/data/images``.

Not imported by the package; run it from a source checkout::

    python -m haralick_learn.datasets._make_sample_images

Each class is cut from one of scikit-image's CC0 texture images
(``skimage.data.brick``, ``skimage.data.grass``, ``skimage.data.gravel``),
all bundled with scikit-image, so no download is needed. Every crop draws its
size, position, orientation, zoom and tone from a generator seeded per class,
so the output is the same on every run (given the same scikit-image, NumPy and
Pillow/libjpeg versions).
"""

from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ("brick", "grass", "gravel")
N_PER_CLASS = 30
SEED = 20240101
MIN_SIZE, MAX_SIZE = 128, 200
JPEG_QUALITY = 90
OUT_DIR = Path(__file__).resolve().parent / "data" / "images"


def _source_image(name):
    """Return the 512x512 uint8 gray scikit-image texture called ``name``."""
    import skimage.data

    return getattr(skimage.data, name)()


def _random_crop(source, rng):
    """Cut one varied crop from ``source`` and return it as an RGB PIL image.

    The crop side is drawn in [MIN_SIZE, MAX_SIZE]; the region read from the
    source is up to 25 % larger or smaller and resampled to that side, so the
    texture scale varies between crops. It is then rotated by a multiple of 90
    degrees, maybe mirrored, and its contrast and brightness are jittered.
    """
    side = int(rng.integers(MIN_SIZE, MAX_SIZE + 1))
    zoom = rng.uniform(0.8, 1.25)
    region = min(int(round(side * zoom)), min(source.shape))
    top = int(rng.integers(0, source.shape[0] - region + 1))
    left = int(rng.integers(0, source.shape[1] - region + 1))
    patch = source[top : top + region, left : left + region]

    patch = np.rot90(patch, k=int(rng.integers(4)))
    if rng.random() < 0.5:
        patch = patch[:, ::-1]

    gray = Image.fromarray(np.ascontiguousarray(patch))
    gray = gray.resize((side, side), Image.Resampling.BILINEAR)

    values = np.asarray(gray, dtype=np.float64)
    contrast = rng.uniform(0.8, 1.2)
    brightness = rng.uniform(-20.0, 20.0)
    values = (values - values.mean()) * contrast + values.mean() + brightness
    gray = Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8))
    return gray.convert("RGB")


def make_sample_images(out_dir=OUT_DIR):
    """Write ``<class><NN>.jpg`` for every class into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.jpg"):
        stale.unlink()
    for class_index, name in enumerate(CLASSES):
        rng = np.random.default_rng([SEED, class_index])
        source = _source_image(name)
        for i in range(N_PER_CLASS):
            image = _random_crop(source, rng)
            image.save(out_dir / f"{name}{i:02d}.jpg", quality=JPEG_QUALITY)


if __name__ == "__main__":
    make_sample_images()
