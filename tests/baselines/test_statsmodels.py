import warnings

import numpy as np
import pandas as pd
import pytest

from seqestim.baselines import (
    ARIMAForecaster,
    AutoARIMAForecaster,
    SARIMAXForecaster,
    VARMAForecaster,
)
from seqestim.datasets.forecasting import load_airline, make_arma_process, make_varma_process


def test_arima_matches_statsmodels_and_exposes_coefficients():
    from statsmodels.tsa.arima.model import ARIMA

    y = make_arma_process([0.5], [0.3], 400, random_state=0)
    forecaster = ARIMAForecaster(order=(1, 0, 1), trend="n").fit(y)
    reference = ARIMA(y, order=(1, 0, 1), trend="n").fit()
    np.testing.assert_allclose(forecaster.predict([1, 4]), reference.forecast(4)[[0, 3]])
    np.testing.assert_allclose(forecaster.ar_coefficients_, reference.arparams)
    np.testing.assert_allclose(forecaster.ma_coefficients_, reference.maparams)
    assert forecaster.aic_ == pytest.approx(reference.aic)
    assert list(forecaster.params_.index) == list(reference.param_names)


def test_seasonal_arima_on_airline_keeps_monthly_index():
    y = np.log(load_airline())
    forecaster = ARIMAForecaster(order=(0, 1, 1), seasonal_order=(0, 1, 1, 12)).fit(y.iloc[:-12])
    pred = forecaster.predict(12)
    pd.testing.assert_index_equal(pred.index, y.index[-12:])
    # the airline model forecasts the last year of log passengers closely
    assert np.abs(pred - y.iloc[-12:]).mean() < 0.1
    assert forecaster.score(y.iloc[-12:]) > 0.5


def test_sarimax_options_and_validation():
    y = make_arma_process([0.7], [], 200, random_state=2)
    forecaster = SARIMAXForecaster(order=(1, 0, 0), trend="c", maxiter=100).fit(y)
    assert forecaster.ar_coefficients_[0] == pytest.approx(0.7, abs=0.1)
    assert forecaster.predict(3).shape == (3,)
    with pytest.raises(ValueError, match="order"):
        SARIMAXForecaster(order=(1, 0)).fit(y)
    with pytest.raises(ValueError, match="period"):
        SARIMAXForecaster(seasonal_order=(1, 0, 0, 1)).fit(y)


def test_auto_arima_selects_the_true_ar_order_by_bic():
    y = make_arma_process([0.6, -0.3], [], 300, random_state=3)
    grid = AutoARIMAForecaster(max_p=3, max_q=2, information_criterion="bic", stepwise=False)
    grid.fit(y)
    assert grid.order_ == (2, 0, 0)
    assert grid.seasonal_order_ == (0, 0, 0, 0)
    table = grid.search_results_
    assert len(table) == 12 and table["bic"].iloc[0] == pytest.approx(grid.model_.bic)
    assert grid.predict(2).shape == (2,)
    # the stepwise search visits fewer models and can only be as good as the full grid
    stepwise = AutoARIMAForecaster(max_p=3, max_q=2, information_criterion="bic").fit(y)
    assert len(stepwise.search_results_) < 12
    assert stepwise.model_.bic >= grid.model_.bic - 1e-9
    assert stepwise.search_results_["bic"].iloc[0] == pytest.approx(stepwise.model_.bic)


def test_auto_arima_differencing_choices():
    rng = np.random.RandomState(0)
    walk = np.cumsum(rng.normal(size=300))
    assert AutoARIMAForecaster(max_p=1, max_q=0).fit(walk).order_[1] == 1
    seasonal = np.tile([0.0, 5.0, 10.0, 5.0], 20) + 0.2 * rng.normal(size=80)
    forecaster = AutoARIMAForecaster(max_p=1, max_q=0, sp=4, max_P=0, max_Q=0).fit(seasonal)
    assert forecaster.seasonal_order_ == (0, 1, 0, 4)
    with pytest.raises(ValueError, match="information_criterion"):
        AutoARIMAForecaster(information_criterion="r2").fit(walk)


def test_varma_matches_statsmodels():
    from statsmodels.tsa.statespace.varmax import VARMAX

    y = make_varma_process([[0.5, 0.1], [0.0, 0.4]], None, 300, random_state=0)
    frame = pd.DataFrame(y, columns=["a", "b"], index=pd.date_range("2020", periods=300, freq="D"))
    forecaster = VARMAForecaster(order=(1, 0)).fit(frame)
    pred = forecaster.predict(3)
    assert list(pred.columns) == ["a", "b"] and pred.index[0] == pd.Timestamp("2020-10-27")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = VARMAX(y, order=(1, 0), trend="c").fit(disp=False, maxiter=50)
    np.testing.assert_allclose(pred.to_numpy(), reference.forecast(3), rtol=1e-6)
    assert forecaster.ar_coefficients_.shape == (1, 2, 2) and forecaster.ma_coefficients_.shape == (
        0,
        2,
        2,
    )
    np.testing.assert_allclose(forecaster.ar_coefficients_[0], [[0.5, 0.1], [0.0, 0.4]], atol=0.12)
