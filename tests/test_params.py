"""Every entry point takes the row-changing parameters of the one table (``_params``).

A parameter added to, renamed in or given another default by one entry point and not the
table (or the reverse) fails here. The command's options are checked in test_cli.py.
"""

import inspect

import numpy as np
import pytest
from skimage.data import camera

from haralick_learn import HaralickFeaturizer, region_features, texture_maps
from haralick_learn.preprocess.gray import GRAY_CONVERSIONS
from haralick_learn._params import PARAMETERS, Options, parameter, parameter_names
from haralick_learn._settings import (AGGREGATES, BACKENDS, COLOR_CHANNELS, OFFSET_CONVENTIONS,
                                      TextureSettings)

TABLE = {p.name: p.default for p in PARAMETERS}
#: The estimator's parameters that change no row: how rows are computed, not what they hold.
RUN_PARAMS = {"image_shape", "on_error", "n_jobs", "verbose", "memory"}


def keyword_defaults(function):
    return {name: p.default for name, p in inspect.signature(function).parameters.items()
            if p.kind is p.KEYWORD_ONLY}


def test_the_estimator_signature_is_the_table_and_its_run_parameters():
    signature = keyword_defaults(HaralickFeaturizer.__init__)
    assert {name: default for name, default in signature.items() if name in TABLE} == TABLE
    assert set(signature) - set(TABLE) == RUN_PARAMS
    assert set(HaralickFeaturizer._parameter_constraints) == set(signature)
    params = HaralickFeaturizer().get_params()
    assert {name: params[name] for name in TABLE} == TABLE


def test_the_estimator_validates_with_the_table_constraints():
    # A value outside the table's constraint is refused by scikit-learn's validation,
    # naming the parameter, before any image is read.
    for name, value in [("levels", 300), ("aggregate", "median"), ("bin_width", 0),
                        ("gray_conversion", "fast"), ("symmetric", "yes")]:
        with pytest.raises(ValueError, match=f"'{name}' parameter of HaralickFeaturizer"):
            HaralickFeaturizer(**{name: value}).fit([camera()[:8, :8]])


def test_settings_take_exactly_the_table():
    assert keyword_defaults(TextureSettings.from_params) == TABLE
    assert TextureSettings.from_params(**TABLE) == TextureSettings.from_params()
    for name in RUN_PARAMS | {"distances", "window"}:
        with pytest.raises(TypeError, match=f"unknown parameter '{name}'; the settings are "
                                            f"{', '.join(TABLE)}"):
            TextureSettings.from_params(**{name: None})


def test_the_table_choices_are_those_the_settings_know():
    def choices(name):
        param = parameter(name)
        values = {v for c in param.constraints if isinstance(c, Options) for v in c.values}
        return values | ({None} if None in param.constraints else set())

    assert choices("aggregate") == set(AGGREGATES)
    assert choices("backend") == {"auto", *BACKENDS}
    assert choices("color") == set(COLOR_CHANNELS)
    assert choices("gray_conversion") == set(GRAY_CONVERSIONS)
    assert choices("offsets") == {None, *OFFSET_CONVENTIONS}


#: Each entry point that takes the settings, as a call on an image with parameters.
ENTRY_POINT_CALLS = {
    "featurizer": lambda image, **params: HaralickFeaturizer(**params).fit_transform([image]),
    "regions": lambda image, **params: region_features(
        image, np.ones(image.shape, int), **params),
    "maps": lambda image, **params: texture_maps(image, 3, **params),
}


@pytest.mark.parametrize("entry_point", ["regions", "maps"])
def test_regions_and_maps_take_the_names_the_table_gives_them(entry_point):
    call = ENTRY_POINT_CALLS[entry_point]
    image = camera()[:12, :12]
    names = parameter_names(entry_point)
    assert set(names) <= set(TABLE)
    for name in TABLE:
        if name in names:  # its default changes nothing
            np.testing.assert_array_equal(np.asarray(call(image, **{name: TABLE[name]})),
                                          np.asarray(call(image)))
        else:
            with pytest.raises(TypeError, match=rf"\['{name}'\]"):
                call(image, **{name: TABLE[name]})


def test_parameter_names_refuses_an_unknown_entry_point():
    assert parameter_names() == tuple(TABLE)
    with pytest.raises(ValueError, match="entry_point must be one of"):
        parameter_names("cli")


@pytest.mark.parametrize("entry_point, call", ENTRY_POINT_CALLS.items(), ids=ENTRY_POINT_CALLS)
def test_every_entry_point_refuses_a_switch_that_is_not_a_bool(entry_point, call):
    # bool("no") is True and bool(None) False: a switch taken as its truth value would
    # compute other numbers than asked, without a word.
    image = camera()[:12, :12]
    switches = [p.name for p in PARAMETERS if "boolean" in p.constraints
                and entry_point in p.where and p.name != "volume"]
    assert "symmetric" in switches and "ignore_zeros" in switches
    for name in switches:
        for value in ("no", None, 1):
            with pytest.raises(TypeError, match=rf"{name}.* must be .*bool.*{value!r}"):
                call(image, **{name: value})


@pytest.mark.parametrize("call", ENTRY_POINT_CALLS.values(), ids=ENTRY_POINT_CALLS)
def test_features_in_no_order_are_refused(call):
    # A set's order follows the strings' hashes, which change from run to run: its columns
    # would come in another order each time.
    with pytest.raises(ValueError, match=r"features.* must be .*list.*\{'contrast'\}"):
        call(camera()[:12, :12], features={"contrast"})


@pytest.mark.parametrize("call", ENTRY_POINT_CALLS.values(), ids=ENTRY_POINT_CALLS)
def test_steps_beyond_any_image_are_refused_by_name(call):
    # Beyond 64-bit integers they failed deep inside numpy or numba (OverflowError, naming
    # neither the parameter nor the value); a step longer than any image counts nothing.
    image = camera()[:12, :12]
    with pytest.raises(ValueError, match=rf"distance must be at most {2**31 - 1}.*{2**70}"):
        call(image, distance=2**70)
    with pytest.raises(ValueError, match=rf"offsets: \(0, {2**64}\) steps more than"):
        call(image, offsets=[(0, 2**64)])


def test_a_bin_width_beyond_63_bits_bins_every_image_in_one_bin():
    # An integer image with a whole width was binned in 64-bit integers, which a width of
    # 1e19 overflowed: it is binned through the float edges instead, one bin for the image.
    image = camera()[:32, :32]
    labels = np.ones(image.shape, int)
    labels[:, 16:] = 2
    params = dict(features="ibsi", aggregate="mean")
    flat = HaralickFeaturizer(**params, bin_width=1e19).fit_transform([image * 0])
    for width in (1e19, 2**62, 1e300):
        for dtype in (np.uint8, np.uint16, np.int64, np.uint64):
            row = HaralickFeaturizer(**params, bin_width=width).fit_transform(
                [image.astype(dtype)])
            np.testing.assert_array_equal(row, flat)  # one level: a flat image's features
        table = region_features(image, labels, **params, bin_width=width)
        masked = HaralickFeaturizer(**params, bin_width=width).fit_transform(
            [(image, labels == 1), (image, labels == 2)])
        np.testing.assert_array_equal(table.iloc[:, 6:].to_numpy(float), masked)
