"""Shared data, small estimators and hypothesis profiles of the reliability tests.

The hypothesis profile ``default`` keeps the property-based tests within the default run's time
budget; ``slow`` runs many more examples::

    pytest tests/reliability --hypothesis-profile=slow
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

from seqestim import GRUClassifier, GRUForecaster, GRURegressor

_COMMON = {
    "deadline": None,  # a fit takes a variable fraction of a second on a shared machine
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    "derandomize": True,  # the default run is the same on every machine
}
# registering the active profile ("default") takes effect at once; --hypothesis-profile=slow
# selects the other
settings.register_profile("default", max_examples=12, **_COMMON)
settings.register_profile("slow", max_examples=300, **{**_COMMON, "derandomize": False})

TINY = {"d_model": 4, "max_epochs": 2, "batch_size": 16, "random_state": 0}


def panel(n=24, channels=2, length=10, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, channels, length)).astype(np.float32)
    return X, np.where(X[:, 0].mean(axis=1) > 0, "up", "down")


def series(n=60, index=None, seed=0):
    rng = np.random.RandomState(seed)
    values = np.sin(np.arange(n) / 3.0) + 0.1 * rng.normal(size=n)
    return pd.Series(values, index=index if index is not None else pd.RangeIndex(n))


def tiny_classifier(**params):
    return GRUClassifier(**{**TINY, **params})


def tiny_regressor(**params):
    return GRURegressor(**{**TINY, **params})


def tiny_forecaster(**params):
    return GRUForecaster(**{**TINY, "window_length": 6, "horizon": 2, **params})


@pytest.fixture(scope="module")
def fitted_classifier():
    X, y = panel()
    return tiny_classifier().fit(X, y), X


TEXTS = ["hello world", "the quick brown fox", "abc abc abc", "a small corpus"]


def task_data(task, seed=0):
    """Tiny training data for ``task``: the ``fit`` arguments, and a function of the fitted
    estimator that returns its predictions as one float array."""
    rng = np.random.RandomState(seed)
    if task in ("classifier", "regressor"):
        X, labels = panel(seed=seed)
        y = labels if task == "classifier" else X[:, 0].sum(axis=1)
        if task == "classifier":
            return (X, y), lambda est: est.predict_proba(X)
        return (X, y), lambda est: est.predict(X)
    if task == "forecaster":
        return (series(seed=seed),), lambda est: est.predict(fh=3).to_numpy()
    if task == "language_model":
        return (TEXTS,), lambda est: est.predict_proba(["hel", "abc"])
    if task == "frame_forecaster":
        return (rng.rand(9, 5, 5, 1),), lambda est: est.predict(fh=2)
    if task == "seq2seq":
        X, y = ["3 mai", "12 juin", "1 mai", "7 juin"], ["05-03", "06-12", "05-01", "06-07"]
        return (X, y), lambda est: est.score_sequences(X, y)
    if task == "polyphonic":
        rolls = (rng.rand(8, 4, 7) < 0.4).astype(np.float32)  # 8 piano rolls, 4 pitches
        return (rolls,), lambda est: est.predict_proba(rolls)
    raise ValueError(task)


def small_named(cls, **overrides):
    """A fast instance of any named estimator (its registry test parameters, few epochs)."""
    from tests._instances import small_instance

    return small_instance(cls, **{"max_epochs": 2, **overrides})
