"""compare_forecasters keeps going past failures and reads its arguments as a user means them."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import TimeSeriesSplit

from seqestim.baselines import NaiveForecaster
from seqestim.estimators._series import BaseForecaster
from seqestim.model_selection import compare_forecasters


class FailsOnShortSeries(BaseForecaster):
    """Fails to fit on series shorter than ``min_length``, else the last value."""

    def __init__(self, min_length=40):
        self.min_length = min_length

    def _fit(self, y, X=None):
        if len(y) < self.min_length:
            raise RuntimeError(f"only {len(y)} observations")
        self.last_ = y[-1]

    def _predict(self, steps, X=None):
        return np.repeat(self.last_[None], len(steps), axis=0)


@pytest.fixture
def y():
    return pd.Series(np.sin(np.arange(60) / 3.0) + 5.0)


def test_a_failing_model_and_fold_is_recorded_and_the_rest_goes_on(y):
    cv = TimeSeriesSplit(3, test_size=6)  # training sizes 42, 48, 54 -> min_length 45 fails once
    with pytest.warns(FitFailedWarning, match=r"1 of 6 fits or forecasts failed"):
        table = compare_forecasters(
            {"fragile": FailsOnShortSeries(min_length=45), "naive": NaiveForecaster()},
            y,
            cv=cv,
        )
    assert len(table) == 6 and "error" in table
    failed = table[table["error"].notna()]
    assert failed[["model", "fold"]].values.tolist() == [["fragile", 0]]
    assert "RuntimeError: only 42 observations" in failed["error"].item()
    assert failed[["mae", "mase", "rmse"]].isna().all(axis=None)
    ok = table[table["error"].isna()]
    assert np.isfinite(ok["mae"]).all() and len(ok) == 5


def test_error_score_raise_reraises_and_a_number_is_used(y):
    cv = TimeSeriesSplit(2, test_size=6)
    with pytest.raises(RuntimeError, match="observations"):
        compare_forecasters(
            {"fragile": FailsOnShortSeries(min_length=100)}, y, cv=cv, error_score="raise"
        )
    with pytest.warns(FitFailedWarning):
        table = compare_forecasters(
            {"fragile": FailsOnShortSeries(min_length=100)}, y, cv=cv, error_score=-1.0
        )
    assert (table["mae"] == -1.0).all()
    with pytest.raises(ValueError, match="error_score"):
        compare_forecasters({"n": NaiveForecaster()}, y, error_score="ignore")


def test_metrics_given_as_one_string_is_one_metric(y):
    table = compare_forecasters(
        {"naive": NaiveForecaster()}, y, cv=TimeSeriesSplit(2, test_size=6), metrics="mae"
    )
    metric_columns = set(table.columns) - {
        "model",
        "fold",
        "train_start",
        "train_end",
        "n_train",
        "n_test",
        "fit_time",
        "predict_time",
        "error",
    }
    assert metric_columns == {"mae"}


def test_exogenous_X_of_the_wrong_length_is_a_clear_error(y):
    from seqestim.baselines import ARIMAForecaster

    X = np.zeros((len(y) - 5, 1))
    with pytest.raises(ValueError, match=r"X must have one row per observation of y: y has 60"):
        compare_forecasters({"arimax": ARIMAForecaster()}, y, X=X, cv=2)


def test_no_warning_when_nothing_fails(y):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitFailedWarning)
        table = compare_forecasters({"naive": NaiveForecaster()}, y, cv=2)
    assert table["error"].isna().all()
