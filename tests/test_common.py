"""scikit-learn's common estimator checks, run for real.

Both estimators declare ``two_d_array`` input, so ``parametrize_with_checks``
yields the full battery (API, input validation, transformer checks), not a
vacuous skip. Any check expected to fail is listed in EXPECTED_FAILED_CHECKS
with its reason; ``xfail_strict=True`` makes an expected failure that starts
passing an error, so the dict cannot go stale.
"""

import pytest
from sklearn.utils.estimator_checks import (
    check_do_not_raise_errors_in_init_or_set_params,
    check_estimator_cloneable,
    check_estimator_repr,
    check_estimator_tags_renamed,
    check_get_params_invariance,
    check_mixin_order,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    check_valid_tag_types,
    parametrize_with_checks,
)

from haralick_learn import DistanceNeighbors, FilenameLabelExtractor, HaralickFeaturizer

# One place for every expected failure: {estimator class name: {check name: reason}}.
EXPECTED_FAILED_CHECKS = {
    "HaralickFeaturizer": {},
    "DistanceNeighbors": {},
}

ESTIMATORS = [HaralickFeaturizer(), DistanceNeighbors()]


# The checks feed HaralickFeaturizer 2-D numeric arrays, which it featurizes row by row as
# images one pixel high and warns about (the warning a user with a flattened image needs).
@pytest.mark.filterwarnings("ignore:X is a 2-D numeric array:UserWarning")
@parametrize_with_checks(
    ESTIMATORS,
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS[type(est).__name__],
    xfail_strict=True,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# FilenameLabelExtractor takes a 1-D sequence of path strings, which the
# array-based checks cannot feed it; these are the checks that need no data.
DATA_FREE_CHECKS = [
    check_estimator_cloneable,
    check_estimator_tags_renamed,
    check_valid_tag_types,
    check_estimator_repr,
    check_no_attributes_set_in_init,
    check_do_not_raise_errors_in_init_or_set_params,
    check_mixin_order,
    check_parameters_default_constructible,
    check_get_params_invariance,
    check_set_params,
]


@pytest.mark.parametrize("check", DATA_FREE_CHECKS, ids=lambda c: c.__name__)
def test_label_extractor_api_checks(check):
    check("FilenameLabelExtractor", FilenameLabelExtractor())


def test_common_checks_really_run():
    """Guard against a vacuous run: enough checks must be collected per estimator."""
    from sklearn.utils.estimator_checks import _yield_all_checks

    for estimator in ESTIMATORS:
        checks = list(_yield_all_checks(estimator, legacy=True))
        assert len(checks) >= 25, (type(estimator).__name__, len(checks))
