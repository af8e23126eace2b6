"""Texture maps of every feature set, aggregate and binning: the featurizer's row on each crop.

The maps take their features from the featurizer's catalogue (the same
formulas over the same statistics, kept as sums while the window slides). The
reference is ``HaralickFeaturizer`` on each window's crop of the image's levels
(maps bin the whole image once: ``quantize`` of the whole image, then crops of
it, which an 8-bit levels image keeps as they are). Real images: scikit-image's
camera and brick, scikit-learn's china.jpg.

Tolerances: 1e-9 relative plus a small absolute bound: the map's entropies
come from fixed-point sums (1e-15), pyradiomics's entropies add ``eps`` to
each probability (a window's differ from the exact ones by under 1e-13), and
the square roots of near-zero information (IMC2) and correlations of
near-constant windows amplify the last bits (see ``tests/test_maps.py``).
"""

import numpy as np
import pytest
from skimage import data

from haralick_learn import HaralickFeaturizer, texture_maps
from haralick_learn.preprocess.quantize import quantize
from haralick_learn._settings import TextureSettings

#: Absolute tolerances by feature (beyond 1e-9 relative), see the module docstring.
ABSOLUTE = {"correlation": 1e-9, "skimage_correlation": 1e-9, "ibsi_Correlation": 1e-9,
            "ibsi_Imc2": 5e-7, "information_measure_of_correlation_2": 5e-7}


def _levels(gray, **params):
    settings = TextureSettings.from_params(**params)
    return quantize(gray, settings).astype(np.uint8)


def _crop_params(params):
    """The featurizer's parameters for crops of already quantized levels."""
    return {k: v for k, v in params.items() if k not in ("bin_width", "gray_range", "levels")}


def _compare(maps, levels, window, pixels, params, skip=()):
    featurizer = HaralickFeaturizer(**_crop_params(params))
    names = featurizer.get_feature_names_out().astype(str)
    r = window // 2
    crops = [levels[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1] for y, x in pixels]
    checked = 0
    for (y, x), crop in zip(pixels, crops):
        value = maps[y, x]
        try:
            reference = featurizer.transform([crop])[0]
        except ValueError:  # no pixel pair at some distance: the map says NaN
            assert np.isnan(value).all(), (y, x)
            continue
        for k, name in enumerate(names):
            if any(name.startswith(prefix) for prefix in skip):
                continue
            feature = name.split("_d")[0]
            base = next((f for f in ABSOLUTE if feature.startswith(f)), None)
            atol = 1e-12 + (ABSOLUTE[base] if base else 0.0)
            if np.isnan(reference[k]):
                # pyradiomics's IMC2 is NaN where rounding puts HXY above HXY2; the map's
                # exact sums give the information's true value there: zero
                if name.startswith("ibsi_Imc2"):
                    assert np.isnan(value[k]) or abs(value[k]) < 1e-6, (name, y, x)
                else:
                    assert np.isnan(value[k]), (name, y, x, value[k])
                continue
            if name.startswith("ibsi_MCC") and reference[k] == 1.0 and value[k] == 0.0:
                # a direction of one level: a map's window spans the image's levels, as in
                # pyradiomics's voxel-based maps, and its Q's second eigenvalue is 0
                continue
            assert abs(value[k] - reference[k]) <= 1e-9 * abs(reference[k]) + atol, (
                name, (y, x), value[k], reference[k])
            checked += 1
    return checked


PIXELS = [(0, 0), (3, 41), (17, 17), (20, 5), (39, 49), (25, 33), (11, 26)]
CASES = [
    dict(features="skimage"),
    dict(features="skimage", offsets="skimage", distance=[1, 3], aggregate="mean_std"),
    dict(features="ibsi", bin_width=25),
    dict(features="ibsi", bin_width=16, aggregate="mean", distance=[1, 2]),
    dict(features="ibsi", bin_width=32, offsets="pyradiomics", distance=[1, 2]),
    dict(features="ibsi", levels=16, aggregate="mean_all", distance=[1, 2]),
    dict(features=["haralick", "ibsi_MaximumProbability", "skimage_energy"], levels=32,
         aggregate="min_max"),
    dict(aggregate="merged"),
    dict(features="ibsi", bin_width=25, aggregate="merged"),
    dict(levels=32, compute_14th_feature=True, aggregate="mean"),
    dict(features=["ibsi_MCC", "ibsi_Contrast"], bin_width=40),
    dict(features="ibsi", levels=8, ignore_zeros=True),
    dict(offsets=[0.0, 0.5, 2.0], aggregate="mean_ptp"),
    dict(offsets=[(0, 1), (2, 1)], gray_range=(20, 230), levels=64),
]


@pytest.mark.parametrize("params", CASES, ids=[str(i) for i in range(len(CASES))])
def test_every_feature_set_aggregate_and_binning_equals_the_featurizer(params):
    gray = data.camera()[100:140, 200:250]
    maps = texture_maps(gray, 7, **params)
    assert maps.shape == (40, 50, len(HaralickFeaturizer(**params).get_feature_names_out()))
    # IBSI's normalised inverse differences divide by the whole image's N_g: tested below
    # and a window of one level in a direction has MCC 0 there: aggregates are not compared
    skip = ("ibsi_Idn", "ibsi_Idmn") + (("ibsi_MCC",) if params.get("aggregate") else ())
    checked = _compare(maps, _levels(gray, **params), 7, PIXELS, params, skip=skip)
    assert checked >= 0.5 * len(PIXELS) * maps.shape[2]  # most columns of most pixels


def test_binning_is_decided_once_for_the_whole_image():
    """A window's levels are the whole image's bins, not its own: bin_width from the
    image's minimum, the 16-bit levels from the image's range."""
    brick = data.brick()[:48, :48]
    wide = brick.astype(np.uint16) * 200 + 1000  # 16-bit, far from 0
    for params in (dict(features="ibsi", bin_width=800), dict(levels=32)):
        maps = texture_maps(wide, 9, **params)
        levels = _levels(wide, **params)
        assert _compare(maps, levels, 9, [(4, 4), (30, 12), (47, 47)], params,
                        skip=("ibsi_Idn", "ibsi_Idmn", "ibsi_MCC")) > 20
        # a window quantized on its own gets other levels (and other absolute features)
        own = HaralickFeaturizer(**params).transform([wide[26:35, 8:17]])[0]
        assert not np.allclose(own, maps[30, 12], equal_nan=True)


def test_normalised_inverse_differences_use_the_image_number_of_levels():
    """IBSI's Idn and Idmn divide by N_g, the whole image's (its largest level + 1), as
    pyradiomics's voxel-based maps do: equal to the featurizer on windows that hold the
    image's largest level, and not on the others."""
    gray = data.camera()[100:140, 200:250]
    params = dict(features=["ibsi_Idn", "ibsi_Idmn", "ibsi_Id"], bin_width=20)
    maps = texture_maps(gray, 5, **params)
    levels = _levels(gray, **params)
    top = levels.max()
    holding = [(int(y), int(x)) for y, x in zip(*np.nonzero(levels == top))][:5]
    assert _compare(maps, levels, 5, holding, params) == len(holding) * 12
    r = 2
    lacking = next((y, x) for y in range(40) for x in range(50)
                   if levels[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1].max() < top - 1)
    crop = levels[max(0, lacking[0] - r):lacking[0] + r + 1,
                  max(0, lacking[1] - r):lacking[1] + r + 1]
    featurizer = HaralickFeaturizer(**_crop_params(params))
    names = featurizer.get_feature_names_out().astype(str)
    own = featurizer.transform([crop])[0]
    normalised = np.char.startswith(names, "ibsi_Idn") | np.char.startswith(names, "ibsi_Idmn")
    assert not np.isclose(own, maps[lacking]).any(where=normalised)  # another N_g
    np.testing.assert_allclose(own[~normalised], maps[lacking][~normalised], rtol=1e-12)


def test_a_mask_maps_its_pixels_only_and_counts_its_pairs_only():
    gray = data.camera()[100:160, 200:260]
    mask = np.zeros(gray.shape, bool)
    mask[10:50, 5:40] = gray[10:50, 5:40] > 100
    params = dict(features="ibsi", bin_width=25, aggregate="mean")
    maps = texture_maps(gray, 7, mask=mask, **params)
    assert np.isnan(maps[~mask]).all()
    assert not np.isnan(maps[mask]).all(axis=1).any()
    settings = TextureSettings.from_params(**params)
    levels = quantize(gray, settings, mask).astype(np.uint8)  # the mask's bins
    featurizer = HaralickFeaturizer(**_crop_params(params))
    names = featurizer.get_feature_names_out().astype(str)
    keep = ~np.char.startswith(names, "ibsi_Idn") & ~np.char.startswith(names, "ibsi_Idmn")
    checked = 0
    for y, x in list(zip(*np.nonzero(mask)))[::41]:
        box = (slice(max(0, y - 3), y + 4), slice(max(0, x - 3), x + 4))
        try:
            row = featurizer.transform([(levels[box], mask[box])])[0]
        except ValueError:  # no pair inside the mask: the map says NaN
            assert np.isnan(maps[y, x]).all()
            continue
        np.testing.assert_allclose(maps[y, x][keep], row[keep], rtol=1e-9, atol=1e-9)
        checked += 1
    assert checked > 5
    # the whole image decides the bins without masked_window (pyradiomics's maskedKernel=False)
    unmasked = texture_maps(gray, 7, mask=mask, masked_window=False, **params)
    assert np.isnan(unmasked[~mask]).all()
    whole = texture_maps(gray, 7, **params)
    np.testing.assert_array_equal(unmasked[mask], whole[mask])


def test_matrix_features_refuse_many_levels_with_a_reason():
    with pytest.raises(ValueError, match="whole matrix.*at most 64 gray levels"):
        texture_maps(data.camera()[:20, :20], 5, features=["ibsi_MCC"])


@pytest.mark.parametrize("params", [dict(color="hsv"),
                                    dict(color="lab", levels=32, features="ibsi",
                                         aggregate="mean")], ids=["hsv", "lab_ibsi"])
def test_colour_maps_are_the_featurizer_on_each_crop_of_the_photograph(params):
    from sklearn.datasets import load_sample_image

    photo = load_sample_image("china.jpg")[100:140, 200:250]
    maps = texture_maps(photo, 7, **params)
    featurizer = HaralickFeaturizer(**params)
    names = featurizer.get_feature_names_out().astype(str)
    assert maps.shape == (40, 50, len(names))
    own_levels = np.char.find(names, "ibsi_Id") >= 0  # Idn and Idmn: the image's N_g
    for y, x in [(0, 0), (20, 20), (39, 49), (9, 31)]:
        crop = photo[max(0, y - 3):y + 4, max(0, x - 3):x + 4]
        row = featurizer.transform([crop])[0]
        np.testing.assert_allclose(maps[y, x][~own_levels], row[~own_levels], rtol=1e-9,
                                   atol=1e-9)


NON_SYMMETRIC = [
    dict(levels=32),
    dict(features="ibsi", bin_width=25, aggregate="mean", distance=[1, 2]),
    dict(features="skimage", offsets="skimage", distance=[1, 3], aggregate="mean_std"),
    dict(features="ibsi", levels=16, aggregate="merged"),
    dict(levels=16, compute_14th_feature=True, features=["haralick", "ibsi_MCC",
                                                         "ibsi_JointEntropy", "ibsi_Imc1"]),
    dict(features="ibsi", levels=8, ignore_zeros=True),
    dict(offsets=[(0, 1), (2, 1)], gray_range=(20, 230), levels=64),
]


@pytest.mark.parametrize("params", NON_SYMMETRIC, ids=[str(i) for i in range(len(NON_SYMMETRIC))])
def test_non_symmetric_maps_are_the_featurizer_on_each_crop(params):
    """symmetric=False counts each pixel pair once, (p, p + offset): rows and columns have
    their own marginals (HX and HY, mahotas's HXY1 over its px[i] py[j], pyradiomics's
    joint average of the rows...), each window as the featurizer's on its crop."""
    gray = data.camera()[100:140, 200:250]
    params = dict(params, symmetric=False)
    maps = texture_maps(gray, 7, **params)
    assert maps.shape == (40, 50, len(HaralickFeaturizer(**params).get_feature_names_out()))
    skip = ("ibsi_Idn", "ibsi_Idmn") + (("ibsi_MCC",) if params.get("aggregate") else ())
    checked = _compare(maps, _levels(gray, **params), 7, PIXELS, params, skip=skip)
    assert checked >= 0.5 * len(PIXELS) * maps.shape[2]
    # not the symmetric matrix's: its marginals differ from a window's columns' somewhere
    symmetric = texture_maps(gray, 7, **dict(params, symmetric=True))
    assert not np.allclose(maps, symmetric, rtol=1e-6, equal_nan=True)


def test_non_symmetric_maps_of_a_mask_and_of_a_volume():
    gray = data.camera()[100:160, 200:260]
    mask = np.zeros(gray.shape, bool)
    mask[10:50, 5:40] = gray[10:50, 5:40] > 100
    params = dict(features="ibsi", bin_width=25, aggregate="mean", symmetric=False)
    maps = texture_maps(gray, 7, mask=mask, **params)
    assert np.isnan(maps[~mask]).all()
    levels = quantize(gray, TextureSettings.from_params(**params), mask).astype(np.uint8)
    featurizer = HaralickFeaturizer(**_crop_params(params))
    names = featurizer.get_feature_names_out().astype(str)
    keep = ~np.char.startswith(names, "ibsi_Idn") & ~np.char.startswith(names, "ibsi_Idmn")
    checked = 0
    for y, x in list(zip(*np.nonzero(mask)))[::41]:
        box = (slice(max(0, y - 3), y + 4), slice(max(0, x - 3), x + 4))
        try:
            row = featurizer.transform([(levels[box], mask[box])])[0]
        except ValueError:  # no pair inside the mask: the map says NaN
            assert np.isnan(maps[y, x]).all()
            continue
        np.testing.assert_allclose(maps[y, x][keep], row[keep], rtol=1e-9, atol=1e-9)
        checked += 1
    assert checked > 5
    # a volume's cubes, the 13 directions each counted one way
    volume = np.stack([data.camera()[100 + 5 * k:130 + 5 * k, 200:230] for k in range(6)])
    params = dict(levels=16, aggregate="mean", symmetric=False)
    maps = texture_maps(volume, 5, volume=True, **params)
    levels = _levels(volume, **params)
    featurizer = HaralickFeaturizer(**dict(_crop_params(params), volume=True))
    for z, y, x in [(0, 0, 0), (3, 14, 17), (5, 29, 29)]:
        crop = levels[max(0, z - 2):z + 3, max(0, y - 2):y + 3, max(0, x - 2):x + 3]
        np.testing.assert_allclose(maps[z, y, x], featurizer.transform([crop])[0], rtol=1e-9,
                                   atol=1e-9)


PAIRS = [
    dict(color="rgb", color_pairs="all", levels=16),
    dict(color="hsv", color_pairs=[("V", "H"), ("S", "V")], symmetric=False, levels=32,
         aggregate="mean", features=["ibsi_Correlation", "ibsi_Imc1", "ibsi_Imc2", "ibsi_Idn",
                                     "ibsi_JointAverage", "ibsi_ClusterShade", "ibsi_SumEntropy",
                                     "ibsi_MaximumProbability", "ibsi_DifferenceVariance"]),
    dict(color="lab", color_pairs="all", levels=32, features=["haralick", "ibsi_MCC"]),
    dict(color="rgb", color_pairs=[("B", "R"), ("R", "B")], symmetric=False, levels=8,
         ignore_zeros=True, features=["haralick", "ibsi_Imc1", "ibsi_JointAverage"]),
]


@pytest.mark.parametrize("params", PAIRS, ids=["rgb", "hsv_ordered", "lab_mcc", "rgb_both_ways"])
def test_colour_pair_maps_are_the_featurizer_on_each_crop_of_the_photograph(params):
    """The channels' maps, then each pair's (rows: the first channel's levels, columns: the
    second's; both pixel orders with symmetric=True), named and ordered as the featurizer's
    columns (RG_contrast_..., VH_ibsi_...)."""
    from sklearn.datasets import load_sample_image

    photo = load_sample_image("china.jpg")[100:140, 200:250]
    maps = texture_maps(photo, 7, **params)
    featurizer = HaralickFeaturizer(**params)
    names = featurizer.get_feature_names_out().astype(str)
    assert maps.shape == (40, 50, len(names))
    prefixes = [a + b for a, b in TextureSettings.from_params(**params).color_pairs]
    assert any(name.startswith(prefixes[-1] + "_") for name in names)
    # Idn and Idmn: the image's N_g; MCC: a window of one level is 0 (spans the image's)
    own_levels = (np.char.find(names, "ibsi_Id") >= 0) | (np.char.find(names, "ibsi_MCC") >= 0)
    checked = 0
    for y, x in [(0, 0), (20, 20), (39, 49), (9, 31), (30, 2)]:
        crop = photo[max(0, y - 3):y + 4, max(0, x - 3):x + 4]
        row = featurizer.transform([crop])[0]
        np.testing.assert_allclose(maps[y, x][~own_levels], row[~own_levels], rtol=1e-9,
                                   atol=1e-9, err_msg=str((y, x)))
        mcc = np.char.find(names, "ibsi_MCC") >= 0
        same = (maps[y, x] == row) | (row == 1.0) & (maps[y, x] == 0.0)
        assert np.allclose(maps[y, x][mcc], row[mcc], rtol=1e-9, atol=1e-9) or same[mcc].all()
        checked += 1
    assert checked == 5


def test_colour_pair_maps_of_a_mask_bin_the_channels_together():
    """bin_width's bins from the channels' minimum inside the mask, one scale for every
    channel: each pair's window is the featurizer's on the crop of those levels."""
    from sklearn.datasets import load_sample_image

    photo = load_sample_image("china.jpg")[100:160, 200:260]
    mask = photo[:, :, 0] > 60
    params = dict(color="rgb", color_pairs="all", bin_width=20, features="ibsi")
    maps = texture_maps(photo, 5, mask=mask, **params)
    assert np.isnan(maps[~mask]).all()
    settings = TextureSettings.from_params(**params)
    stacked = np.moveaxis(photo, -1, 0)
    levels = quantize(stacked, settings, np.broadcast_to(mask, stacked.shape))
    levels = np.moveaxis(levels, 0, -1).astype(np.uint8)  # RGB of the levels: kept as they are
    featurizer = HaralickFeaturizer(**_crop_params(params))
    names = featurizer.get_feature_names_out().astype(str)
    keep = ~np.char.startswith(np.char.partition(names, "_")[:, 2], "ibsi_Idn") & \
        ~np.char.startswith(np.char.partition(names, "_")[:, 2], "ibsi_Idmn")
    checked = 0
    for y, x in list(zip(*np.nonzero(mask)))[::97]:
        box = (slice(max(0, y - 2), y + 3), slice(max(0, x - 2), x + 3))
        try:
            row = featurizer.transform([(levels[box], mask[box])])[0]
        except ValueError:
            assert np.isnan(maps[y, x]).all()
            continue
        np.testing.assert_allclose(maps[y, x][keep], row[keep], rtol=1e-9, atol=1e-9)
        checked += 1
    assert checked > 5


def _mcc_of_one_matrix(counts, ignore_zeros):
    """pyradiomics's MCC of one matrix, straight from its definition: sqrt of the second
    largest eigenvalue of Q over the levels present (1 for fewer than 2 levels)."""
    counts = counts.copy()
    if ignore_zeros:
        counts[0] = 0
        counts[:, 0] = 0
    total = counts.sum()
    if total == 0:
        return np.nan  # no pair: the features are NaN
    p = counts / total
    rows, cols = counts.sum(axis=1) / total, counts.sum(axis=0) / total
    present = (rows > 0) | (cols > 0)
    if present.sum() < 2:
        return 1.0
    p, rows, cols = p[present][:, present], rows[present], cols[present]
    q = (p / (rows[:, None] * cols[None, :] + np.spacing(1))) @ p.T
    return np.sqrt(complex(np.sort(np.linalg.eigvals(q))[-2])).real


@pytest.mark.parametrize("symmetric", [True, False])
def test_ibsi_mcc_of_isolated_levels_on_a_flat_background(symmetric):
    """Impulse noise: 100 isolated pixels, each of its own level, on a background of one.
    Each rare level pairs with the background only: Q is of rank two or three, and the
    tridiagonal form of its symmetric form holds tiny (subnormal) elements, on which the QL
    iteration must stop at the matrix's rounding rather than give up (NaN)."""
    from haralick_learn.texture.catalogue import features_of_matrices, haralick_features
    from haralick_learn.texture.counting import cooccurrence

    image = np.zeros((64, 64), np.uint8)
    where = np.arange(100) * 3
    image[2 + 4 * (where // 60), 2 + where % 60] = np.arange(1, 101)
    cmats = cooccurrence(image, symmetric=symmetric)[0]
    expected = np.array([_mcc_of_one_matrix(c, False) for c in cmats])
    got = features_of_matrices(cmats, ["ibsi_MCC"])[:, 0]
    np.testing.assert_allclose(got**2, expected**2, rtol=1e-12, atol=1e-14)
    # mahotas's 14th feature: the correlations of identical rows, rank one (a second
    # eigenvalue of rounding errors, whose square root is about 1e-7)
    fourteenth = haralick_features(cmats, compute_14th_feature=True)[:, 13]
    assert np.all(fourteenth < 1e-5)


@pytest.mark.parametrize("symmetric, ignore_zeros", [(True, False), (False, True)])
def test_ibsi_mcc_of_many_matrices_is_each_matrix_alone(symmetric, ignore_zeros):
    """Maps and region tables solve many small matrices at once (grouped by their number
    of levels present): each value is the definition's on that matrix alone (its
    eigenvalue to rounding), the same bits in any batch."""
    from haralick_learn.texture.catalogue import features_of_matrices
    from haralick_learn.texture.counting import cooccurrence

    levels = (data.camera() // 8).astype(np.uint8)  # 32 levels
    crops = [levels[y:y + 7, x:x + 7] for y in range(0, 500, 23) for x in range(0, 500, 29)]
    counted = [len(np.unique(crop)) for crop in crops]
    # the sky's flat crops, crops of 2 levels, up to 23 levels
    assert {1, 2, 17, 18, 20, 23}.issubset(counted)
    single = np.zeros((7, 7), bool)
    single[3, 3] = True  # one pixel: no pair, an empty matrix

    def matrices(crop, **params):  # a crop's matrices span its levels: pad them to 32
        counts = cooccurrence(crop, distances=(1, 2), symmetric=symmetric, **params)
        counts = counts.reshape(-1, *counts.shape[-2:])
        return np.pad(counts, ((0, 0), (0, 32 - counts.shape[1]), (0, 32 - counts.shape[2])))

    cmats = np.concatenate([matrices(crop) for crop in crops]
                           + [matrices(crops[-1], mask=single)[:1]])
    expected = np.array([_mcc_of_one_matrix(c, ignore_zeros) for c in cmats])
    got = features_of_matrices(cmats, ["ibsi_MCC"], ignore_zeros=ignore_zeros)[:, 0]
    # Q's largest eigenvalue is 1: the second agrees to rounding, its sqrt where it is 0 not
    # (about 1e-8 on either side)
    np.testing.assert_allclose(got**2, expected**2, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    assert np.isnan(got[-1]) and (got == 1.0).any() and (got < 1.0).any()
    # any batch, any order: the same values
    order = np.random.default_rng(0).permutation(len(cmats))[:97]
    np.testing.assert_array_equal(
        features_of_matrices(cmats[order], ["ibsi_MCC"], ignore_zeros=ignore_zeros)[:, 0],
        got[order])


@pytest.mark.parametrize("ignore_zeros", [False, True])
def test_eigenvalue_features_of_counts_alone_equal_the_catalogue(ignore_zeros):
    """Maps take the 14th feature and MCC from the windows' counts alone, without their
    sums: the catalogue's values bit for bit, NaN for a matrix without a pair."""
    from haralick_learn.texture.catalogue import eigenvalue_features, features_of_matrices
    from haralick_learn.texture.counting import cooccurrence

    levels = (data.camera() // 16).astype(np.uint8)  # 16 levels

    def matrices(crop):  # a crop's matrices span its levels: pad them to 16
        counts = cooccurrence(crop)
        counts = counts.reshape(-1, *counts.shape[-2:])
        return np.pad(counts, ((0, 0), (0, 16 - counts.shape[1]), (0, 16 - counts.shape[2])))

    crops = [levels[y:y + 9, x:x + 9] for y in range(0, 500, 37) for x in range(0, 500, 41)]
    cmats = np.concatenate([matrices(crop) for crop in crops] + [np.zeros((1, 16, 16), int)])
    names = ["maximal_correlation_coefficient", "ibsi_MCC"]
    for flat_mcc in (0.0, 1.0):
        expected = features_of_matrices(cmats, names, ignore_zeros=ignore_zeros,
                                        flat_mcc=flat_mcc)
        got = eigenvalue_features(cmats, names, ignore_zeros=ignore_zeros, flat_mcc=flat_mcc)
        np.testing.assert_array_equal(got, expected)
        assert np.isnan(got[-1]).all() and (got[:-1, 1] == flat_mcc).any()
