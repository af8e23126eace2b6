"""The matrices' exact sums, the small-image paths and batches, on real images.

Every way of counting (all cells, the range of levels present, sparse, a stack
of small images) must give the same sums as the matrices themselves, bit for
bit, and rows that equal mahotas's; a row must not depend on the batch it is
computed in. An image whose matrices could hold more pairs than their int64
sums can is refused, by every entry point, before it is counted.
"""

import math

import mahotas
import numpy as np
import pytest
import skimage.data
from PIL import Image
from sklearn.datasets import load_sample_image

from conftest import RTOL, reference_gray
from haralick_learn import HaralickFeaturizer, _maps, _pipeline, region_features, texture_maps
from haralick_learn.texture.counting import (CooccurrenceSums, cooccurrence, cooccurrence_sums,
                                             matrix_sums)
from haralick_learn.texture.counting import (
    LEVEL_STATISTICS, MAX_MATRIX_SUM, in_a_table, level_statistics, max_matrix_pairs, stack_sums,
)


def _china():
    return mahotas.colors.rgb2gray(load_sample_image("china.jpg"), dtype=np.uint8)


def _crops(gray, size, count, step):
    return [np.ascontiguousarray(gray[y : y + size, x : x + size])
            for y in range(0, gray.shape[0] - size, step)
            for x in range(0, gray.shape[1] - size, step)][:count]


def assert_same_sums(ours, expected):
    for field in CooccurrenceSums._FIELDS:
        np.testing.assert_array_equal(getattr(ours, field), getattr(expected, field),
                                      err_msg=field)


# Real images, each taking another counting path: all L**2 cells (camera, 512 x 512), the
# range of levels present (a 96 x 96 crop of sky-like flat texture), sparse (32 x 32 crops
# of gravel and china, whose levels span most of 0..255), the levels present only (a
# 16-bit image) and a volume.
IMAGES = {
    "camera_full": lambda: skimage.data.camera(),
    "moon_range": lambda: (skimage.data.moon()[:96, :96] // 4 + 40).astype(np.uint8),
    "gravel_sparse": lambda: skimage.data.gravel()[100:132, 200:232],
    "china_sparse": lambda: _china()[200:240, 300:337],
    "brick_16bit": lambda: skimage.data.brick()[:60, :70].astype(np.uint16) * 251,
    "camera_volume": lambda: np.stack([skimage.data.camera()[z : z + 24, :30]
                                       for z in range(6)]),
}


@pytest.mark.parametrize("name", sorted(IMAGES))
@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("ignore_zeros", [False, True])
def test_sums_equal_those_of_the_matrices(name, symmetric, ignore_zeros):
    image = IMAGES[name]()
    rng = np.random.default_rng(0)
    for mask in (None, rng.random(image.shape) < 0.8):
        for distances in ((1,), (1, 3)):
            ours = cooccurrence_sums(image, distances, symmetric=symmetric, mask=mask,
                                     ignore_zeros=ignore_zeros)
            # compact: the levels present only (a 16-bit image's full matrices would not fit)
            matrices, level_values, n_levels = cooccurrence(
                image, distances, symmetric=symmetric, mask=mask, compact=True)
            assert_same_sums(ours, matrix_sums(matrices, ignore_zeros=ignore_zeros,
                                               level_values=level_values, n_levels=n_levels))
            first = 1 if ignore_zeros and level_values[0] == 0 else 0  # level 0 left out
            assert ours.total.tolist() == [
                int(m[first:, first:].sum()) for m in matrices.reshape((-1,) + matrices.shape[-2:])]


def test_a_stack_gives_the_sums_of_each_image():
    crops = _crops(skimage.data.gravel(), 32, 40, 37) + _crops(_china(), 32, 40, 41)
    crops.append(np.full((32, 32), 7, np.uint8))  # flat: one cell
    for symmetric in (True, False):
        for distances in ((1,), (2, 5)):
            together = stack_sums(np.stack(crops), distances, symmetric=symmetric)
            per_image = len(together) // len(crops)
            for k, crop in enumerate(crops):
                assert_same_sums(together.rows(k * per_image, (k + 1) * per_image),
                                 cooccurrence_sums(crop, distances, symmetric=symmetric))


@pytest.mark.parametrize("size", [32, 96])
def test_small_crops_of_photographs_match_mahotas(size):
    # 20 crops of each photograph, spread over it (mahotas takes ~30 ms a crop)
    crops = _crops(_china(), size, 20, 97) + _crops(skimage.data.camera(), size, 20, 89)
    ours = HaralickFeaturizer().fit_transform(crops)  # one stack, or one image at a time
    expected = np.array([mahotas.features.haralick(crop).ravel() for crop in crops])
    np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=1e-13)


def test_small_jpeg_patches_match_the_reference_loop(tmp_path):
    """The tutorial's loop on 96 x 96 JPEG files cut from a real photograph."""
    rgb = load_sample_image("flower.jpg")
    paths = []
    for k, (y, x) in enumerate([(0, 0), (150, 300), (300, 500), (330, 100), (200, 200)]):
        path = tmp_path / f"patch{k}.jpg"
        Image.fromarray(rgb[y : y + 96, x : x + 96]).save(path, quality=90)
        paths.append(str(path))
    ours = HaralickFeaturizer(gray_conversion="mahotas").fit_transform(paths)
    expected = np.array([mahotas.features.haralick(reference_gray(p)).ravel() for p in paths])
    np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=1e-13)


@pytest.mark.parametrize("params", [{}, {"aggregate": "mean_std", "distance": [1, 2]},
                                    {"ignore_zeros": True, "features": ["skimage", "entropy"]},
                                    {"symmetric": False}],
                         ids=["default", "mean_std", "skimage", "asymmetric"])
def test_a_row_does_not_depend_on_its_batch(params):
    """Alone, in a stack of arrays, or beside images of other sizes and depths: the same bits."""
    crops = _crops(skimage.data.brick(), 32, 12, 53)
    others = [skimage.data.camera()[:200, :300], crops[0].astype(np.uint16) * 300]
    alone = np.vstack([HaralickFeaturizer(**params).fit_transform([c]) for c in crops])
    stacked = HaralickFeaturizer(**params).fit_transform(crops)
    mixed = HaralickFeaturizer(**params).fit_transform(others + crops)[len(others):]
    two_threads = HaralickFeaturizer(n_jobs=2, **params).fit_transform(crops)
    np.testing.assert_array_equal(stacked, alone)
    np.testing.assert_array_equal(mixed, alone)
    np.testing.assert_array_equal(two_threads, alone)


def test_a_stack_reports_the_images_without_pairs_by_index():
    crops = [np.zeros((3, 3), np.uint8), skimage.data.camera()[:3, :3].copy()]
    with pytest.raises(ValueError, match=r"^sample 0: image of shape \(3, 3\) has no pixel pair "
                                         "at distance 5"):
        HaralickFeaturizer(distance=5).fit_transform(crops)
    with pytest.warns(UserWarning, match="2 of 2 images could not be featurized"):
        rows = HaralickFeaturizer(distance=[1, 5], on_error="nan").fit_transform(crops)
    assert np.isnan(rows).all()


def test_stack_sums_refuses_what_it_cannot_count():
    with pytest.raises(ValueError, match="uint8 array"):
        stack_sums(np.zeros((2, 300, 300), np.uint8))
    with pytest.raises(ValueError, match="uint8 array"):
        stack_sums(np.zeros((2, 8, 8), np.int32))


def _dense_eps_entropies(cmats, ignore_zeros):
    """pyradiomics's cell entropies as numpy computes them over the dense (n, L, L) arrays."""
    from haralick_learn.texture.catalogue import _log2_plus_eps

    cmats = cmats.copy()
    if ignore_zeros:
        cmats[:, 0] = 0
        cmats[:, :, 0] = 0
    totals = cmats.sum(axis=(1, 2)).astype(np.float64)
    totals[totals == 0] = 1.0
    p = cmats / totals[:, None, None]
    # the marginals as the statistics hold them: integer sums over the total
    outer = ((cmats.sum(axis=2) / totals[:, None])[:, :, None]
             * (cmats.sum(axis=1) / totals[:, None])[:, None, :])
    log_outer = _log2_plus_eps(outer)
    n = len(cmats)
    return np.stack([-(p * _log2_plus_eps(p)).reshape(n, -1).sum(axis=1),
                     -(p * log_outer).reshape(n, -1).sum(axis=1),
                     -(outer * log_outer).reshape(n, -1).sum(axis=1)])


@pytest.mark.parametrize("n_levels", [3, 16, 64, 200, 256, 600])
@pytest.mark.parametrize("ignore_zeros", [False, True])
def test_cell_entropies_are_numpys_dense_sums_bit_for_bit(n_levels, ignore_zeros):
    """HXY, HXY1 and HXY2 from the non-zero cells only, in numpy's pairwise order: the bits
    of the dense (n, L, L) formula, for matrices of few and many levels (pairwise sums over
    8 lanes, and over halves beyond 128 cells), flat, empty and asymmetric ones included."""
    from haralick_learn.texture.counting import eps_cell_entropies

    gray = _china()
    levels = (gray.astype(np.int64) * n_levels // 256).astype(np.uint16)
    blocks = [levels[y : y + size, x : x + size]
              for y, x, size in [(0, 0, 12), (40, 100, 30), (200, 300, 64), (5, 5, 3),
                                 (300, 20, 120)]]
    blocks.append(np.full((5, 5), n_levels // 2, np.uint16))  # one gray level
    cmats = []
    for block in blocks:
        for symmetric in (True, False):
            matrices = cooccurrence(block, symmetric=symmetric)[0]
            full = np.zeros((len(matrices), n_levels, n_levels), np.int64)
            side = matrices.shape[1]
            full[:, :side, :side] = matrices
            cmats.append(full)
    cmats.append(np.zeros((1, n_levels, n_levels), np.int64))  # no pair
    cmats = np.concatenate(cmats)
    masked = cmats.copy()
    if ignore_zeros:
        masked[:, 0] = 0
        masked[:, :, 0] = 0
    totals = masked.sum(axis=(1, 2)).astype(np.float64)
    totals[totals == 0] = 1.0
    ours = eps_cell_entropies(cmats, masked.sum(axis=2), masked.sum(axis=1), totals,
                              ignore_zeros)
    expected = _dense_eps_entropies(cmats, ignore_zeros)
    assert (ours.view(np.int64) == expected.view(np.int64)).all()
    assert np.isfinite(ours).all() and (ours[:, :-1] > 0).any(axis=1).all()


def test_log2_plus_is_the_c_librarys_log2_of_the_sum_where_not_zero():
    """pyradiomics's log2(p + eps) in one pass: the bits of numpy's sum then the C library's
    log2 (libm.log2, where p is not 0), and log2(eps) where p is 0, on a photograph's
    probabilities."""
    from haralick_learn.texture.libm import log2, log2_plus

    eps = np.spacing(1)
    cmats = cooccurrence(_china()[:200, :300])[0]
    p = cmats / cmats.sum(axis=(1, 2), keepdims=True)
    expected = log2(p + eps, where=p != 0)
    expected[p == 0] = -52.0
    ours = log2_plus(p, eps, -52.0)
    assert (p == 0).any() and (p != 0).any()
    assert (ours.view(np.int64) == expected.view(np.int64)).all() and ours.shape == p.shape


def test_sum_moments_are_numpys_dense_sums_bit_for_bit():
    """Cluster tendency, shade and prominence from the non-zero sum histogram only, in numpy's
    pairwise order: the bits of the dense formula, on a photograph's matrices of 8 to 256
    levels, and on histograms of 1024 sums (a wider padded length)."""
    from haralick_learn.texture.catalogue import GLCMStatistics
    from haralick_learn.texture.counting import sum_moments

    gray = _china()
    for n_levels in (8, 64, 256, 512):
        levels = (gray.astype(np.int64) * n_levels // 256)[:150, :200]
        stats = GLCMStatistics(cooccurrence_sums(levels, symmetric=False))
        centres = stats.ux + stats.uy
        centred = stats.sum_levels[None, :] - centres[:, None]
        squared = centred * centred
        weighted = stats.sum_hist * squared
        expected = np.stack([weighted.sum(axis=1), (weighted * centred).sum(axis=1),
                             (weighted * squared).sum(axis=1)])
        ours = sum_moments(stats.sum_hist, centres)
        assert (ours.view(np.int64) == expected.view(np.int64)).all() and (ours[0] > 0).all()


def _numpy_level_statistics(sums):
    """The statistics over gray levels as numpy sums them over the arrays' whole length."""
    from haralick_learn.texture.libm import log2

    totals = sums.total
    empty = totals == 0
    t = np.where(empty, 1, totals).astype(np.float64)
    length = sums.row_counts.shape[1]
    sum_levels = np.arange(2 * length, dtype=np.int64)
    levels = sum_levels[:length]

    def mean_of(counts, weights):
        return np.array([float(v) for v in counts @ weights]) / t

    def entropy(counts):
        # (T log2 T - sum c log2 c) / T, the sum of the rounded terms rounded once (exact)
        terms = counts * log2(counts, where=counts > 1)
        return np.array([(total * log2(np.array([float(total)]))[0] - math.fsum(row)) / total
                         for total, row in zip(t, terms)])

    def weighted_log_counts(weights, counts):
        weights = weights.astype(np.float64)
        logs = log2(counts, where=weights != 0)
        return np.einsum("mk,mk->m", weights, logs) - log2(t) * weights.sum(axis=1)

    n = sums.n_levels[:, None]
    probabilities = sums.diff_counts / t[:, None]
    mean = probabilities.sum(axis=1, keepdims=True) / n
    variance = np.where(levels[None, :] < n, (probabilities - mean) ** 2, 0.0).sum(axis=1)
    hxy1 = -(weighted_log_counts(sums.row_weights, sums.col_counts)
             + weighted_log_counts(sums.col_weights, sums.row_counts)) / t
    columns = [mean_of(sums.col_counts, levels), mean_of(sums.row_counts, levels),
               mean_of(sums.col_counts, levels**2), mean_of(sums.row_counts, levels**2),
               entropy(sums.col_counts), entropy(sums.row_counts),
               mean_of(sums.sum_counts, sum_levels), mean_of(sums.sum_counts, sum_levels**2),
               entropy(sums.sum_counts), mean_of(sums.diff_counts, levels**2),
               mean_of(sums.diff_counts, levels), entropy(sums.diff_counts),
               np.einsum("mk,k->m", sums.diff_counts, 1.0 / (1.0 + levels**2)) / t,
               variance / n[:, 0], hxy1]
    out = np.stack(columns, axis=1)
    out[empty] = np.nan
    return out


def _labelled_camera():
    """Camera's SLIC superpixels, with a region of one pixel, one of one gray level (the
    pixels of its most frequent level in a corner) and one spanning levels 0 to 255."""
    from skimage.segmentation import slic

    gray = skimage.data.camera()
    labels = slic(gray, n_segments=300, compactness=0.1, channel_axis=None, start_label=1)
    labels[100:400, 100:440] = labels.max() + 1  # holds a 0 (at 387, 118) and a 255
    corner = labels[:120, :120]
    corner[gray[:120, :120] == np.bincount(gray[:120, :120].ravel()).argmax()] = labels.max() + 1
    labels[511, 511] = labels.max() + 1
    return gray, labels


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("ignore_zeros", [False, True])
def test_level_statistics_are_numpys_sums_bit_for_bit(symmetric, ignore_zeros):
    """The statistics over gray levels in one compiled pass over each matrix's own levels: the
    bits of numpy's sums over the whole padded arrays (its pairwise sums, einsum's dot
    products; the inverse difference moment of 65536 levels cast in buffers), for the
    matrices of a label image's regions (one of one pixel, without pairs; one of one gray
    level; one spanning 0..255), a whole photograph's and a 16-bit image's."""
    from haralick_learn._pipeline import _region_offsets
    from haralick_learn._regions import _survey
    from haralick_learn._settings import TextureSettings
    from haralick_learn.preprocess.quantize import quantize_regions
    from haralick_learn.texture.counting import crop_sums, level_statistics

    gray, labels = _labelled_camera()
    settings = TextureSettings.from_params(distance=[1, 2])
    ids, compact, boxes, counts = _survey(labels)
    present = np.flatnonzero(counts)
    crops = quantize_regions(gray, compact, boxes[present], present + 1, settings)
    offsets, counted = _region_offsets(settings, 2)
    spans = crops.n_levels - crops.lowest
    assert spans.min() == 1 and crops.n_levels.max() == 256 and crops.lowest.min() == 0
    options = dict(symmetric=symmetric, ignore_zeros=ignore_zeros)
    everything = [crop_sums(crops.levels, crops.starts, crops.shapes, crops.n_levels, offsets,
                            counted, crops.lowest, **options),
                  cooccurrence_sums(gray, (1, 3), **options),
                  cooccurrence_sums(skimage.data.brick()[:80, :90].astype(np.uint16) * 257,
                                    **options)]
    for sums in everything:
        ours = level_statistics(sums)
        expected = _numpy_level_statistics(sums)
        assert (ours.view(np.int64) == expected.view(np.int64)).all()
    region_rows = level_statistics(everything[0])
    assert np.isnan(region_rows).all(axis=1).any() and np.isfinite(region_rows).all(axis=1).any()
    # computed as each matrix is counted (its arrays by level never kept), for pyradiomics's
    # offsets too (blocks padded with offsets not counted): the same bits
    for params in ({"distance": [1, 2]}, {"distance": [1, 2], "offsets": "pyradiomics"}):
        offsets, counted = _region_offsets(TextureSettings.from_params(**params), 2)
        arguments = (crops.levels, crops.starts, crops.shapes, crops.n_levels, offsets,
                     counted, crops.lowest)
        statistics = np.empty((len(crops.starts) * len(offsets), 15))
        sums = crop_sums(*arguments, statistics=statistics, **options)
        expected = crop_sums(*arguments, **options)
        assert sums.row_counts.shape == (len(statistics), 0)
        assert (sums.total == expected.total).all()
        assert (statistics.view(np.int64) == level_statistics(expected).view(np.int64)).all()
    tabled = [in_a_table(span + 1, n) for span, n in zip(spans, crops.shapes.prod(axis=1))]
    assert any(tabled) and not all(tabled)  # both ways of counting a crop


@pytest.mark.parametrize("n_levels", [2, 256, 1024, 2**16])
def test_a_matrix_of_max_matrix_pairs_keeps_its_statistics_exact(n_levels):
    # The most a matrix of T pairs sums to: all of them in the top level's cell (a flat
    # image). At the limit its sums stay below MAX_MATRIX_SUM and its statistics exact (the
    # sum histogram's (i + j)**2 moment passes 2**63 first at many levels); one pair more
    # and they would not.
    pairs, top = max_matrix_pairs(n_levels), n_levels - 1
    sums = CooccurrenceSums(1, n_levels)
    sums.total[0], sums.square_sum[0], sums.product_sum[0] = pairs, pairs**2, top**2 * pairs
    for by_level in (sums.row_counts, sums.col_counts, sums.row_weights, sums.col_weights):
        by_level[0, top] = pairs
    sums.sum_counts[0, 2 * top] = pairs
    sums.diff_counts[0, 0] = pairs
    stats = dict(zip(LEVEL_STATISTICS, level_statistics(sums)[0]))
    np.testing.assert_allclose([stats["ex2"], stats["sum_average"], stats["sum_square"]],
                               [top**2, 2 * top, (2 * top) ** 2], rtol=1e-15)

    def largest(t):
        return max(t * t, (2 * top) ** 2 * t)

    assert largest(pairs) < MAX_MATRIX_SUM <= largest(pairs + 1)


def _fail_if_counted(monkeypatch):
    """The counting stage fails the test: the size must be refused before it."""
    def counting(*args, **kwargs):
        pytest.fail("the image was counted")

    for name in ("image_sums", "image_features", "stack_sums", "pair_features"):
        monkeypatch.setattr(_pipeline, name, counting)


@pytest.mark.parametrize("params, shape", [
    ({}, (32768, 32768)),
    (dict(volume=True), (1024, 1024, 1024)),
    (dict(symmetric=False, aggregate="merged"), (16384, 32768)),
])
def test_an_image_beyond_the_exact_sums_is_refused_before_it_is_counted(monkeypatch, params,
                                                                        shape):
    # 2**31 pairs in a matrix (symmetric, or the 4 directions of a distance merged), one more
    # than max_matrix_pairs: a flat image's squared counts would sum to 2**62. A view of one
    # value: the image takes no memory, and is read and quantized without a copy.
    image = np.broadcast_to(np.uint8(7), shape)
    _fail_if_counted(monkeypatch)
    kind = "volume" if params.get("volume") else "image"
    shown = ", ".join(map(str, shape))
    with pytest.raises(ValueError, match=rf"^sample 0: {kind} of shape \({shown}\) is too "
                                         r"large: .* 2147483648 pixel pairs, more than the "
                                         r"2147483647 whose sums stay exact"):
        HaralickFeaturizer(**params).fit_transform([image])


def test_each_entry_point_checks_the_pairs_of_its_matrices(monkeypatch):
    # The limit lowered to 8192 pairs: a symmetric matrix of 4096 pixels is counted, one of
    # more is refused, naming the sample, the channel or the region, whatever the path.
    monkeypatch.setattr(_pipeline, "max_matrix_pairs", lambda n_levels: 8192)
    gray = skimage.data.camera()
    assert np.isfinite(HaralickFeaturizer().fit_transform([gray[:64, :64]])).all()
    assert np.isfinite(HaralickFeaturizer(volume="2d").fit_transform(
        [np.stack([gray[:64, :64], gray[64:128, :64]])])).all()  # each slice on its own
    refused = [
        ({}, gray[:64, :65], r"sample 0: image of shape \(64, 65\)"),
        (dict(aggregate="merged"), gray[:32, :64], r"sample 0: image of shape \(32, 64\)"),
        (dict(volume=True), np.stack([gray[:64, :64], gray[64:128, :64]]),
         r"sample 0: volume of shape \(2, 64, 64\)"),
        (dict(color="rgb"), skimage.data.astronaut()[:64, :65],
         r"sample 0: channel R of the image of shape \(64, 65\)"),
    ]
    for params, image, match in refused:
        with pytest.raises(ValueError, match=match + " is too large"):
            HaralickFeaturizer(**params).fit_transform([image])
    # regions: the compiled pass of region tables leaves the large one to the region by
    # region path, which refuses it; the other is counted
    labels = np.zeros((64, 128), np.int32)
    labels[:, :60], labels[:, 60:] = 1, 2
    with pytest.raises(ValueError, match=r"label 2: image of shape \(64, 68\) is too large"):
        region_features(gray[:64, :128], labels)
    table = region_features(gray[:64, :128], labels, on_error="nan")
    features = table[HaralickFeaturizer().get_feature_names_out()]
    assert np.isfinite(features.iloc[0]).all() and features.iloc[1].isna().all()


def test_a_texture_map_window_beyond_the_exact_sums_is_refused(monkeypatch):
    # 13 directions merged in windows of 437**3 voxels: 2 * 13 * 437**3 pairs, more than
    # 2**31 - 1. Refused before the tables of that many counts (tens of gigabytes).
    def tables(*args):
        pytest.fail("the tables were allocated")

    monkeypatch.setattr(_maps, "fixed_point_tables", tables)
    volume = np.stack([skimage.data.camera()[:6, :6]] * 6)
    with pytest.raises(ValueError, match=r"window=437: a window's co-occurrence matrix may "
                                         rf"count {2 * 13 * 437**3} pixel pairs \(13 offsets"):
        texture_maps(volume, 437, volume=True, aggregate="merged")
