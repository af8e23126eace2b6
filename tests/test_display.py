"""SimilarImagesDisplay: the figure it draws, read back."""

import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from haralick_learn import DistanceNeighbors, HaralickFeaturizer, SimilarImagesDisplay  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def textures(n=12, size=24, seed=0):
    """Gray uint8 textures of three kinds: stripes, checks, noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    images = []
    for i in range(n):
        period = 2 + i % 4
        kind = i % 3
        base = [(xx // period) % 2, ((xx // period) + (yy // period)) % 2,
                rng.integers(0, 2, (size, size))][kind]
        images.append((base * 180 + rng.integers(0, 60, (size, size))).astype(np.uint8))
    return images


@pytest.fixture(scope="module")
def image_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("textures")
    paths = []
    for i, pixels in enumerate(textures()):
        path = folder / f"texture{i:02d}.png"
        Image.fromarray(np.stack([pixels] * 3, axis=-1)).save(path)
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def fitted_pipeline(image_files):
    return make_pipeline(HaralickFeaturizer(), StandardScaler(), DistanceNeighbors()).fit(
        image_files)


def titles(display):
    return [[ax.get_title() for ax in row] for row in display.axes_]


def test_from_estimator_with_indices_shows_the_named_query_then_ranked_neighbours(
        fitted_pipeline, image_files):
    display = SimilarImagesDisplay.from_estimator(fitted_pipeline, image_files, [0, 5],
                                                  n_neighbors=3)
    dist, ind = fitted_pipeline[-1].kneighbors(n_neighbors=3)
    assert display.axes_.shape == (2, 4) and display.images_.shape == (2, 4)
    assert len(display.figure_.axes) == 8
    for row, query in zip(titles(display), [0, 5]):
        assert row[0] == f"texture{query:02d}.png\nquery"
        expected = [f"texture{j:02d}.png\ndistance {d:.3g}"
                    for j, d in zip(ind[query], dist[query])]
        assert row[1:] == expected
    np.testing.assert_array_equal(display.neighbor_indices, ind[[0, 5]])
    np.testing.assert_array_equal(display.distances, dist[[0, 5]])
    # The query row shows the query's own pixels (RGB, as read from the file).
    np.testing.assert_array_equal(display.images_[1, 0].get_array(),
                                  np.asarray(Image.open(image_files[5])))


def test_from_estimator_with_new_images_and_mixed_queries(fitted_pipeline, image_files):
    new = textures(n=3, seed=1)
    display = SimilarImagesDisplay.from_estimator(fitted_pipeline, image_files,
                                                  [new[0], 3, image_files[4]], n_neighbors=2)
    features = fitted_pipeline[:-1].transform([new[0], image_files[4]])
    dist, ind = fitted_pipeline[-1].kneighbors(features, n_neighbors=2)
    np.testing.assert_array_equal(display.neighbor_indices[[0, 2]], ind)
    np.testing.assert_array_equal(display.distances[[0, 2]], dist)
    assert display.neighbor_indices[2, 0] == 4 and display.distances[2, 0] == 0  # itself
    np.testing.assert_array_equal(display.neighbor_indices[1],
                                  fitted_pipeline[-1].kneighbors(n_neighbors=2)[1][3])
    # An in-memory query is named by its row, a file by its name.
    assert [row[0] for row in titles(display)] == ["query 0", "texture03.png\nquery",
                                                   "texture04.png\nquery"]
    assert display.images_[0, 0].get_cmap().name == "gray"  # a 2-D array query


def test_bare_distance_neighbors_takes_indices_of_fitted_rows():
    images = textures()
    X = HaralickFeaturizer(aggregate="mean").fit_transform(images)
    nn = DistanceNeighbors().fit(X)
    display = SimilarImagesDisplay.from_estimator(nn, images, 2, n_neighbors=4)
    dist, ind = nn.kneighbors(n_neighbors=4)
    assert display.axes_.shape == (1, 5)
    assert titles(display)[0] == ["#2\nquery"] + [f"#{j}\ndistance {d:.3g}"
                                                  for j, d in zip(ind[2], dist[2])]
    with pytest.raises(TypeError, match="need a Pipeline"):
        SimilarImagesDisplay.from_estimator(nn, images, [images[0]])
    with pytest.raises(ValueError, match="images has 11 entries but the estimator was fitted on"):
        SimilarImagesDisplay.from_estimator(nn, images[:-1], [0])
    with pytest.raises(IndexError, match="index 12 is out of range for 12 images"):
        SimilarImagesDisplay.from_estimator(nn, images, [12])
    with pytest.raises(TypeError, match="DistanceNeighbors or a Pipeline ending in one"):
        SimilarImagesDisplay.from_estimator(StandardScaler().fit(X), images, [0])


def test_from_estimator_names_n_neighbors_that_is_not_a_positive_int():
    # photograph tiles: a float, a string, None or a bool must not surface as numpy's
    # "'float' object cannot be interpreted as an integer" or a negative-dimensions error
    photo = data.astronaut()
    images = [photo[y:y + 48, x:x + 48] for y in (0, 200, 400) for x in (0, 200, 400)]
    search = make_pipeline(HaralickFeaturizer(color="hsv", aggregate="mean"), StandardScaler(),
                           DistanceNeighbors()).fit(images)
    for queries in ([0], [photo[100:148, 100:148]]):
        for bad in (2.0, "2", None, True):
            with pytest.raises(TypeError, match="n_neighbors must be an int, got"):
                SimilarImagesDisplay.from_estimator(search, images, queries, n_neighbors=bad)
        with pytest.raises(ValueError, match="n_neighbors must be positive, got -1"):
            SimilarImagesDisplay.from_estimator(search, images, queries, n_neighbors=-1)
    display = SimilarImagesDisplay.from_estimator(search, images, [0], n_neighbors=np.int64(2))
    assert display.axes_.shape == (1, 3)


def test_from_predictions_draws_arrays_pil_images_and_paths(image_files):
    rgb_float = np.random.default_rng(0).uniform(-1, 3, size=(10, 12, 3))
    pil = Image.open(image_files[1])
    images = [textures()[0], rgb_float, pil, image_files[2]]
    display = SimilarImagesDisplay.from_predictions(
        images, [0, image_files[3]], [[1, 2, 3], [3, 2, 1]], [[0.5, 1.25, 2.0], [1, 2, 3]])
    assert display.axes_.shape == (2, 4)
    assert titles(display)[0] == ["#0\nquery", "#1\ndistance 0.5", "texture01.png\ndistance 1.25",
                                  "texture02.png\ndistance 2"]
    assert titles(display)[1][0] == "texture03.png\nquery"
    shown = display.images_[0, 1].get_array()
    assert shown.min() == 0 and shown.max() == 1  # float RGB rescaled into [0, 1]
    with pytest.raises(ValueError, match="must both have shape"):
        SimilarImagesDisplay.from_predictions(images, [0], [[1, 2]], [[1.0]])
    with pytest.raises(IndexError):
        SimilarImagesDisplay.from_predictions(images, [0], [[7]], [[1.0]])


def test_plot_into_given_axes(fitted_pipeline, image_files):
    fig, axes = plt.subplots(2, 3)
    display = SimilarImagesDisplay.from_estimator(fitted_pipeline, image_files, [0, 1],
                                                  n_neighbors=2, ax=axes)
    assert display.figure_ is fig and (display.axes_ == axes).all()
    # One Axes: its area is divided into the grid.
    fig, (left, right) = plt.subplots(1, 2)
    display.plot(ax=right)
    assert display.figure_ is fig and len(fig.axes) == 1 + 6 and right not in fig.axes
    with pytest.raises(ValueError, match="ax has 4 Axes"):
        display.plot(ax=plt.subplots(2, 2)[1])


def test_figure_saves_as_png(fitted_pipeline, image_files, tmp_path):
    display = SimilarImagesDisplay.from_estimator(fitted_pipeline, image_files, [0], n_neighbors=3)
    out = tmp_path / "similar.png"
    display.figure_.savefig(out, dpi=50)
    with Image.open(out) as im:
        assert im.format == "PNG" and im.width > 3 * im.height


def test_colour_files_and_modes_are_shown_in_colour(tmp_path):
    rgb = np.zeros((6, 8, 3), dtype=np.uint8)
    rgb[..., 0] = 200  # red
    Image.fromarray(rgb).save(tmp_path / "red.png")
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE).save(tmp_path / "palette.png")
    Image.fromarray(rgb[..., 0]).save(tmp_path / "gray.png")
    paths = [str(tmp_path / name) for name in ("red.png", "palette.png", "gray.png")]
    display = SimilarImagesDisplay.from_predictions(paths, [0], [[1, 2]], [[0.0, 1.0]])
    np.testing.assert_array_equal(display.images_[0, 0].get_array(), rgb)
    np.testing.assert_array_equal(display.images_[0, 1].get_array(), rgb)
    assert display.images_[0, 2].get_array().shape == (6, 8)
    with pytest.raises(FileNotFoundError, match="missing.png"):
        SimilarImagesDisplay.from_predictions([str(tmp_path / "missing.png")], [0], [[0]], [[0.0]])


def test_image_and_mask_samples_are_drawn_with_the_outside_faded(tmp_path):
    from haralick_learn.datasets import load_sample_images

    paths = load_sample_images().paths[::15]  # six real photographs, two of each kind
    samples = []
    for path in paths:
        gray = np.asarray(Image.open(path).convert("L"))
        mask_path = tmp_path / (os.path.basename(path) + ".mask.png")
        Image.fromarray((gray > np.median(gray)).astype(np.uint8) * 255).save(mask_path)
        samples.append((path, str(mask_path)))
    search = make_pipeline(HaralickFeaturizer(), StandardScaler(), DistanceNeighbors()).fit(samples)
    query = (paths[1], np.asarray(Image.open(samples[1][1])) == 0)  # a new sample: the other half
    display = SimilarImagesDisplay.from_estimator(search, samples, [0, query], n_neighbors=2)
    dist, ind = search[-1].kneighbors(n_neighbors=2)
    assert [row[0] for row in titles(display)] == [
        f"{os.path.basename(paths[0])}\nquery", f"{os.path.basename(paths[1])}\nquery"]
    assert titles(display)[0][1:] == [
        f"{os.path.basename(paths[j])}\ndistance {d:.3g}" for j, d in zip(ind[0], dist[0])]
    for drawn, (path, mask) in [(display.images_[0, 0], samples[0]),
                                (display.images_[1, 0], query)]:
        np.testing.assert_array_equal(drawn.get_array(), np.asarray(Image.open(path)))
        inside = np.asarray(Image.open(mask)) > 0 if isinstance(mask, str) else mask
        alpha = np.asarray(drawn.get_alpha())
        assert (alpha[inside] == 1).all() and (alpha[~inside] < 1).all()
    display.figure_.savefig(tmp_path / "similar.png", dpi=30)  # the faded pixels render
    with pytest.raises(ValueError, match="query 0: its mask has shape"):
        SimilarImagesDisplay.from_predictions(samples, [(textures()[0], query[1])], [[0]], [[1.0]])
