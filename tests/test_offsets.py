"""The estimator's ``offsets`` as a list of angles or of offset vectors.

Angles against scikit-image's ``graycoprops(graycomatrix(...))`` itself, vectors
(2-D and 3-D) against the functional API's ``cooccurrence(..., offsets=...)``, on
real images (scikit-image's brick, a volume of stacked crops of it).
"""

import json

import numpy as np
import pytest
from conftest import stack_of_crops
from sklearn.base import clone

from haralick_learn import HaralickFeaturizer, cooccurrence, matrix_features
from haralick_learn._settings import TextureSettings

skimage_data = pytest.importorskip("skimage.data")
from skimage.feature import graycomatrix, graycoprops  # noqa: E402

PROPS = ["contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM", "mean",
         "variance", "std", "entropy"]
#: Angles that are none of the four: rounded offsets, sin(pi / 6) rounding up, and 4.0,
#: whose offsets point backwards (counted as their opposite: the same symmetric matrix).
ODD_ANGLES = [0, 0.3, np.pi / 6, 2.0, 4.0]


@pytest.fixture(scope="module")
def brick():
    return skimage_data.brick()[100:164, 40:120]


def _columns(featurizer, row, pattern, distances, directions, features):
    """``row`` as (n_features, n_distances, n_directions), by name."""
    names = list(featurizer.get_feature_names_out())
    return np.array([[[row[names.index(pattern.format(f=f, a=a, d=d))] for a in directions]
                      for d in distances] for f in features])


def test_angles_equal_graycoprops(brick):
    distances = [1, 3]
    featurizer = HaralickFeaturizer(features="skimage", offsets=ODD_ANGLES, distance=distances,
                                    aggregate=None)
    row = featurizer.fit_transform([brick])[0]
    assert row.shape == (len(PROPS) * len(distances) * len(ODD_ANGLES),)
    names = ["angle_0", "angle_17.1887", "angle_30", "angle_114.5916", "angle_229.1831"]
    ours = _columns(featurizer, row, "skimage_{f}_{a}_d{d}", distances, names, PROPS)
    P = graycomatrix(brick, distances, ODD_ANGLES, levels=256, symmetric=True, normed=True)
    for prop, values in zip(PROPS, ours):
        np.testing.assert_allclose(values, graycoprops(P, prop), rtol=1e-9, atol=1e-12,
                                   err_msg=prop)


def test_an_array_of_angles_is_a_list_of_angles(brick):
    angles = np.linspace(0, np.pi, 3, endpoint=False)
    ours = HaralickFeaturizer(features="skimage", offsets=angles).fit_transform([brick])
    same = HaralickFeaturizer(features="skimage", offsets=list(angles)).fit_transform([brick])
    np.testing.assert_array_equal(ours, same)
    P = graycomatrix(brick, [1], angles, levels=256, symmetric=True, normed=True)
    np.testing.assert_allclose(ours[0, :3 * 10:10], graycoprops(P, "contrast")[0], rtol=1e-9)


@pytest.mark.parametrize("symmetric", [True, False])
def test_vectors_equal_cooccurrence_with_offsets(brick, symmetric):
    vectors = [(0, 1), (2, 1)] + ([(-1, 2)] if symmetric else [])
    distances = [1, 3]
    features = ["haralick", "skimage", "ibsi_Idmn"]
    featurizer = HaralickFeaturizer(features=features, offsets=vectors, distance=distances,
                                    symmetric=symmetric)
    row = featurizer.fit_transform([brick])[0]
    # Haralick's difference variance counts the image's levels, as mahotas does
    P = cooccurrence(brick, distances, offsets=vectors, symmetric=symmetric,
                     levels=int(brick.max()) + 1)
    reference = matrix_features(P, features)
    names = ["offset_0_1", "offset_2_1", "offset_m1_2"][:len(vectors)]
    ours = _columns(featurizer, row, "{f}_{a}_d{d}", distances, names, list(reference))
    np.testing.assert_allclose(ours, np.stack(list(reference.values())), rtol=1e-9,
                               atol=1e-12)


def test_3d_vectors_equal_cooccurrence_on_a_volume(brick):
    volume = stack_of_crops(skimage_data.brick(), 6, 24, top=200, left=200)
    vectors = [(1, 0, 0), (0, 2, -1), (1, 1, 1)]
    featurizer = HaralickFeaturizer(volume=True, offsets=vectors, distance=[1, 2])
    row = featurizer.fit_transform([volume])[0]
    P = cooccurrence(volume, [1, 2], offsets=vectors, symmetric=True,
                     levels=int(volume.max()) + 1)
    reference = matrix_features(P)
    names = ["offset_1_0_0", "offset_0_2_m1", "offset_1_1_1"]
    ours = _columns(featurizer, row, "{f}_{a}_d{d}", [1, 2], names, list(reference))
    np.testing.assert_allclose(ours, np.stack(list(reference.values())), rtol=1e-9,
                               atol=1e-12)
    # aggregated over the vectors, as over mahotas's 13 directions
    mean = HaralickFeaturizer(volume=True, offsets=vectors, distance=[1, 2],
                              aggregate="mean").fit_transform([volume])[0]
    np.testing.assert_allclose(mean, ours.mean(axis=2).T.ravel(), rtol=1e-12)


def test_names_settings_and_params():
    featurizer = HaralickFeaturizer(offsets=[0.3, -np.pi / 6], features=["contrast"],
                                    distance=[1, 2])
    assert list(featurizer.get_feature_names_out()) == [
        "contrast_angle_17.1887_d1", "contrast_angle_m30_d1",
        "contrast_angle_17.1887_d2", "contrast_angle_m30_d2"]
    vectors = [[0, 1], [2, -1]]
    featurizer = HaralickFeaturizer(offsets=vectors, features=["contrast"], aggregate="mean")
    assert list(featurizer.get_feature_names_out()) == ["contrast_mean_d1"]
    assert featurizer.get_params()["offsets"] is vectors  # what the user passed
    assert clone(featurizer).get_params()["offsets"] == vectors
    settings = TextureSettings.from_params(offsets=vectors)
    assert settings.offsets == ((0, 1), (2, -1)) and hash(settings)
    assert settings.direction_names_at(1) == ("offset_0_1", "offset_2_m1")


def test_the_cache_key_holds_the_offsets():
    def key(offsets):
        return json.loads(TextureSettings.from_params(offsets=offsets).cache_key())["offsets"]

    assert key([0, 1]) == {"angles": [0.0, 1.0]}
    assert key([(0, 1)]) == {"vectors": [[0, 1]]}
    keys = {TextureSettings.from_params(offsets=offsets).cache_key()
            for offsets in ("skimage", [0, np.pi / 4], [0, 0.8], [(0, 1), (1, 1)])}
    assert len(keys) == 4


@pytest.mark.parametrize("params, message", [
    (dict(offsets=[(0, 0)]), r"\(0, 0\) is the zero vector"),
    (dict(offsets=[(0, 1.5)]), r"\(0, 1.5\) is not a vector of ints"),
    (dict(offsets=[(0, 1), (0, 1)]), r"\(0, 1\) and \(0, 1\) duplicates"),
    (dict(offsets=[(1, 1), (-1, -1)]), r"\(-1, -1\) and \(1, 1\) are the same direction"),
    (dict(offsets=[(0, 1, 1)]), "has 3 components; offset vectors are \\(dy, dx\\)"),
    (dict(offsets=[(0, 1)], volume=True), r"has 2 components; .* \(dz, dy, dx\) for volume"),
    (dict(offsets=[0, 0.5], volume=True), "angles describe 2-D directions"),
    (dict(offsets=[0, (0, 1)]), "mixes angles"),
    (dict(offsets=[0.5, 0.5 + 1e-9]), "are the same direction to 4 decimals"),
    (dict(offsets=[float("nan")]), "not finite"),
    (dict(offsets=[(0, -1)], symmetric=False), "negative first non-zero component"),
    (dict(offsets=[np.pi], symmetric=False), r"angle 3.14.* gives the offset \(0, -1\)"),
    (dict(offsets=[(0, 1)], backend="mahotas"), "backend='mahotas'"),
    (dict(offsets=[]), "'offsets' parameter|non-empty list"),
])
def test_invalid_offsets_are_value_errors(brick, params, message):
    with pytest.raises(ValueError, match=message):
        HaralickFeaturizer(**params).fit_transform([brick[:16, :16]])


@pytest.mark.parametrize("argv, offsets", [
    (["--offsets", "skimage"], "skimage"),
    (["--offsets", "0,1", "2,-1"], [(0, 1), (2, -1)]),
    (["--offsets", "0,1"], [(0, 1)]),
    (["--offsets", "0", "0.3"], [0.0, 0.3]),
])
def test_the_command_takes_angles_and_vectors(argv, offsets):
    from haralick_learn.cli import build_parser

    given = vars(build_parser().parse_args(["featurize", "DIR"] + argv))["offsets"]
    assert given == offsets
    HaralickFeaturizer(offsets=given)._validate_params()


@pytest.mark.parametrize("argv", [["--offsets", "skimage", "0,1"], ["--offsets", "0,x"],
                                  ["--offsets", "matlab"]])
def test_the_command_refuses_other_offsets(argv, capsys):
    from haralick_learn.cli import build_parser

    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["featurize", "DIR"] + argv)
    assert stop.value.code == 2 and "--offsets" in capsys.readouterr().err
