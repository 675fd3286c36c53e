"""sktime's own conformance suite (``check_estimator``) on every adapter: zero failures.

Each (adapter, sktime check) pair is one pytest item, named ``<Adapter>-<check>``, so a failure
names both. A check runs all of sktime's fixtures (scenarios) for that check and raises the
first failure.

Cost: sktime's suite fits an adapter about 350 times for a forecaster and about 100 times for a
classifier or regressor, and each adapter's ``get_test_params`` holds one small estimator per
registered model of its task. The default run therefore checks each adapter with one estimator
(the GRU, the reference recurrent backbone); ``-m slow`` runs the full suite on each adapter
class, which sktime instantiates with every one of its test parameter sets (every model).
"""

import pytest
from sktime.utils.estimator_checks import check_estimator, parametrize_with_checks

import seqestim.sktime as sk
from seqestim import GRUClassifier, GRUForecaster, GRURegressor
from seqestim.sktime import small_estimator

#: Checked in the default run: each adapter around the GRU estimator of its task.
REPRESENTATIVES = {
    "SeqestimClassifier": GRUClassifier,
    "SeqestimRegressor": GRURegressor,
    "SeqestimForecaster": GRUForecaster,
}


def _cases(obj, label, marks=()):
    (_, pairs) = parametrize_with_checks(obj).args
    return [
        pytest.param(instance, check, id=f"{label}-{check}", marks=marks)
        for instance, check in pairs
    ]


def _all_cases():
    cases = []
    for name, core in REPRESENTATIVES.items():
        adapter = getattr(sk, name)
        cases += _cases(adapter(estimator=small_estimator(core)), f"{name}[gru]")
    for name in REPRESENTATIVES:
        cases += _cases(getattr(sk, name), f"{name}[all-models]", marks=pytest.mark.slow)
    return cases


@pytest.mark.parametrize("obj, check", _all_cases())
def test_sktime_conformance(obj, check):
    check_estimator(obj, tests_to_run=check, raise_exceptions=True, verbose=False)
