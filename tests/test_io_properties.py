"""Property-based tests (hypothesis): any shape, dtype, values and parameters.

Whatever the image, ``HaralickFeaturizer`` either returns one row of the
documented width or raises a documented ``ValueError`` that names the sample,
and only when the image really has no usable pixel pair. Pixel pairs are
counted here independently of the library, in plain numpy.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from haralick_learn import HaralickFeaturizer, ImageFeaturizationWarning
from haralick_learn.io.decode import load_image
from haralick_learn.preprocess.quantize import to_gray_levels

DTYPES = [np.uint8, np.uint16, np.int16, np.int32, np.int64, np.float32, np.float64, bool]
DIRECTIONS = [(0, 1), (1, 1), (1, 0), (1, -1)]  # the reference's order
PROPERTY = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _elements(dtype, spread):
    dtype = np.dtype(dtype)
    if dtype == bool:
        return st.booleans()
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        low, high = {"tiny": (0, 3), "8-bit": (0, 255), "full": (info.min, info.max)}[spread]
        return st.integers(max(low, info.min), min(high, info.max))
    width = dtype.itemsize * 8
    bound = {"tiny": 3.0, "8-bit": 255.0, "full": float(np.finfo(dtype).max)}[spread]
    return st.floats(-bound if spread == "full" else 0.0, bound, width=width,
                     allow_nan=False, allow_infinity=False)


@st.composite
def images(draw, max_side=9):
    """A finite image: 2-D gray or 3-D with 1 to 4 channels, any listed dtype."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    channels = draw(st.sampled_from([None, None, None, 1, 2, 3, 4]))
    if channels is not None:
        shape += (channels,)
    spread = draw(st.sampled_from(["tiny", "8-bit", "full"]))
    return draw(hnp.arrays(dtype, shape, elements=_elements(dtype, spread)))


params = st.fixed_dictionaries({
    "levels": st.one_of(st.none(), st.integers(2, 256)),
    "ignore_zeros": st.booleans(),
    "distance": st.one_of(
        st.integers(1, 4),
        st.lists(st.integers(1, 4), min_size=1, max_size=3, unique=True),
    ),
    "aggregate": st.sampled_from([None, "mean", "mean_ptp"]),
    "backend": st.sampled_from(["auto", "mahotas"]),
})


def _has_pair(levels, d, dy, dx, ignore_zeros):
    """Is there a (non-zero, if asked) pixel pair at offset ``d * (dy, dx)``?

    Pixel by pixel: slow and obviously right, on images of at most 9 x 9.
    """
    h, w = levels.shape
    for y in range(h):
        for x in range(w):
            y2, x2 = y + d * dy, x + d * dx
            if 0 <= y2 < h and 0 <= x2 < w:
                if not ignore_zeros or (levels[y, x] > 0 and levels[y2, x2] > 0):
                    return True
    return False


@PROPERTY
@given(image=images(), p=params)
def test_any_image_gives_a_row_or_a_documented_error(image, p):
    featurizer = HaralickFeaturizer(**p)
    n_features = len(featurizer.get_feature_names_out())
    distances = [p["distance"]] if isinstance(p["distance"], int) else p["distance"]
    if image.shape[0] * image.shape[1] < 2:
        with pytest.raises(ValueError, match=r"^sample 0: .*too small to have any pixel pair"):
            featurizer.fit_transform([image])
        return
    levels = to_gray_levels(load_image(image), p["levels"])
    assert levels.dtype == np.uint8 and levels.shape == image.shape[:2]
    pairs = np.array([[_has_pair(levels, d, dy, dx, p["ignore_zeros"])
                       for dy, dx in DIRECTIONS] for d in distances])
    if not pairs.any(axis=1).all():  # some distance without any pair: a documented error
        what = "pair of non-zero pixels" if p["ignore_zeros"] else "pixel pair"
        with pytest.raises(ValueError, match=f"^sample 0: .*has no {what} at distance"):
            featurizer.fit_transform([image])
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no stray RuntimeWarning either
        row = featurizer.fit_transform([image])
    assert row.shape == (1, n_features)
    if p["aggregate"] is None:
        blocks = row.reshape(len(distances), 4, 13)
        # NaN exactly for the directions without a pair; defined features elsewhere.
        assert (np.isnan(blocks).all(axis=2) == ~pairs).all()
        assert np.isfinite(blocks[pairs]).all()
    else:
        assert np.isfinite(row).all()


def _python_levels(values, dtype, levels):
    """The documented quantization rule, in plain Python numbers."""
    k = 256 if levels is None else levels
    kind = np.dtype(dtype).kind
    if kind in "ui" and min(values) >= 0 and max(values) <= 255:
        return [v if levels is None else v * k // 256 for v in values]
    lo, hi = min(values), max(values)
    if lo == hi:
        return [0] * len(values)
    if kind in "ui":
        return [min((v - lo) * k // (hi - lo), k - 1) for v in values]
    span = float(hi) - float(lo)
    if span == float("inf"):
        return [min(int(np.floor((v / 2 - lo / 2) / (hi / 2 - lo / 2) * k)), k - 1)
                for v in map(float, values)]
    return [min(int(np.floor((float(v) - float(lo)) / span * k)), k - 1) for v in values]


@settings(max_examples=300, deadline=None)
@given(
    image=images().filter(lambda a: a.ndim == 2 and a.dtype != bool and a.size >= 2),
    levels=st.one_of(st.none(), st.integers(2, 256)),
)
def test_quantization_follows_the_documented_rule(image, levels):
    got = to_gray_levels(load_image(image), levels)
    k = 256 if levels is None else levels
    assert got.dtype == np.uint8 and got.shape == image.shape
    assert int(got.max()) < k
    values = [v.item() for v in image.ravel()]
    assert got.ravel().tolist() == _python_levels(values, image.dtype, levels)
    # Order-preserving: a brighter pixel never gets a lower level.
    order = np.argsort(image.ravel(), kind="stable")
    assert (np.diff(got.ravel()[order].astype(int)) >= 0).all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batch=st.lists(
        st.one_of(
            images(),
            st.just(np.full((4, 4), np.nan)),
            st.just(np.zeros((2, 2, 2, 2))),
            st.just(np.ones((3, 3), complex)),
        ),
        min_size=1, max_size=6,
    ),
    n_jobs=st.sampled_from([1, 2]),
    distance=st.integers(1, 3),
)
def test_on_error_nan_never_raises_and_each_row_is_its_own(batch, n_jobs, distance):
    # levels=16 keeps the reference backend fast; the property does not depend on it.
    featurizer = HaralickFeaturizer(on_error="nan", distance=distance, n_jobs=n_jobs, levels=16)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ImageFeaturizationWarning)
        rows = featurizer.fit_transform(batch)
    assert rows.shape == (len(batch), len(featurizer.get_feature_names_out()))
    failed = []
    for index, image in enumerate(batch):
        try:
            alone = HaralickFeaturizer(distance=distance, levels=16).fit_transform([image])[0]
        except (ValueError, TypeError) as exc:
            assert str(exc).startswith("sample 0: ")
            failed.append(index)
            assert np.isnan(rows[index]).all()
        else:
            np.testing.assert_array_equal(rows[index], alone)
    warned = [w.message for w in caught if issubclass(w.category, ImageFeaturizationWarning)]
    assert len(warned) == (1 if failed else 0)
    if failed:
        assert [index for index, _ in warned[0].failures] == failed
        assert str(warned[0]).startswith(f"{len(failed)} of {len(batch)} images")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.tuples(st.integers(1, 6), st.integers(1, 6)),
    n_samples=st.integers(1, 4),
    dtype=st.sampled_from([np.uint8, np.int64, np.float32, np.float64]),
    data=st.data(),
)
def test_flattened_rows_with_image_shape(shape, n_samples, dtype, data):
    spread = data.draw(st.sampled_from(["tiny", "8-bit"]))
    X = data.draw(hnp.arrays(dtype, (n_samples, shape[0] * shape[1]),
                             elements=_elements(dtype, spread)))
    featurizer = HaralickFeaturizer(image_shape=shape, aggregate="mean", levels=16)
    try:
        rows = featurizer.fit_transform(X)
    except ValueError as exc:
        assert shape[0] * shape[1] < 2 or "has no pixel pair" in str(exc), exc
        assert str(exc).startswith("sample ")
        return
    assert rows.shape == (n_samples, 13)
    for i in range(n_samples):
        np.testing.assert_array_equal(
            rows[i],
            HaralickFeaturizer(aggregate="mean", levels=16).fit_transform([X[i].reshape(shape)])[0],
        )
