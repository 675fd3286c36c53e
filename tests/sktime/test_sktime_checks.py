"""sktime's own conformance suite (``check_estimator``) on every adapter: zero failures.

Each (adapter, sktime check) pair is one pytest item, named ``<Adapter>-<check>``, so a failure
names both. A check runs all of sktime's fixtures (scenarios) for that check and raises the
first failure.

Cost: sktime's suite fits an adapter about 350 times for a forecaster (353 check-fixture
pairs) and about 100 times for a classifier (138) or regressor (81). Measured on the shared
2-core development machine (load average ~13) with one parameter set per adapter: classifiers
20-120 s, regressors 11-70 s, forecasters 47-232 s each; all 25 adapters take ~30 min per
parameter set, ~60 min for both. The default run therefore checks one representative per task
(the GRU adapters, the reference recurrent backbone) on ``get_test_params()[0]``: 164 items,
about 4 min there. ``-m slow`` runs the full suite on every adapter class, which sktime
instantiates with each of its ``get_test_params()`` sets.
"""

import pytest
from sktime.utils.estimator_checks import check_estimator, parametrize_with_checks

import seqestim.sktime as sk
from seqestim.sktime._generated import __all__ as ADAPTER_NAMES

#: Checked in the default run (one per task); every adapter is checked under ``-m slow``.
REPRESENTATIVES = ("GRUClassifier", "GRURegressor", "GRUForecaster")


def _cases(obj, label, marks=()):
    (_, pairs) = parametrize_with_checks(obj).args
    return [
        pytest.param(instance, check, id=f"{label}-{check}", marks=marks)
        for instance, check in pairs
    ]


def _all_cases():
    cases = []
    for name in REPRESENTATIVES:
        cls = getattr(sk, name)
        cases += _cases(cls(**cls.get_test_params()[0]), name)
    for name in ADAPTER_NAMES:
        cases += _cases(getattr(sk, name), f"{name}[all-params]", marks=pytest.mark.slow)
    return cases


def test_representatives_exist():
    assert set(REPRESENTATIVES) <= set(ADAPTER_NAMES)
    tasks = {getattr(sk, name)._estimator_class._task for name in REPRESENTATIVES}
    assert tasks == {"classifier", "regressor", "forecaster"}


@pytest.mark.parametrize("obj, check", _all_cases())
def test_sktime_conformance(obj, check):
    check_estimator(obj, tests_to_run=check, raise_exceptions=True, verbose=False)
