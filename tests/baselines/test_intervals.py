"""Prediction intervals of the baselines and the target wrappers, against independent oracles."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from seqestim.baselines import (
    ARIMAForecaster,
    AutoARIMAForecaster,
    NaiveForecaster,
    VARMAForecaster,
)
from seqestim.compose import Differenced, LogTransformed
from seqestim.datasets import load_airline, make_varma_process


@pytest.mark.parametrize(
    "params",
    [
        {"strategy": "last"},
        {"strategy": "drift"},
        {"strategy": "last", "sp": 12},  # sktime's name for seasonal naive
    ],
    ids=lambda p: "-".join(map(str, p.values())),
)
def test_naive_intervals_equal_sktimes(params):
    from sktime.forecasting.naive import NaiveForecaster as SktimeNaive

    y = load_airline()
    ours = dict(params)
    if ours.get("sp", 1) > 1:
        ours["strategy"] = "seasonal_last"
    fh = [1, 2, 12, 13, 30]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        expected = SktimeNaive(**params).fit(y).predict_interval(fh=fh, coverage=[0.5, 0.9])
    got = NaiveForecaster(**ours).fit(y).predict_interval(fh=fh, coverage=[0.5, 0.9])
    assert list(got.columns) == list(expected.columns)
    assert got.index.equals(expected.index)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9)


def test_mean_intervals_use_the_sample_standard_deviation():
    # as R's forecast::meanf: sd(y) * sqrt(1 + 1/n) (sktime divides the variance by n instead)
    y = load_airline()
    got = NaiveForecaster(strategy="mean").fit(y).predict_interval(fh=[1, 7], coverage=0.9)
    half = norm.ppf(0.95) * y.std(ddof=1) * np.sqrt(1 + 1 / len(y))
    expected = np.array([[y.mean() - half, y.mean() + half]] * 2)
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-12)


def test_arima_intervals_are_statsmodels_conf_int():
    y = np.log(load_airline())
    f = ARIMAForecaster(order=(0, 1, 1), seasonal_order=(0, 1, 1, 12)).fit(y)
    got = f.predict_interval(fh=[1, 5, 24], coverage=0.8)
    conf = f.model_.get_forecast(24).conf_int(alpha=0.2)
    np.testing.assert_allclose(got.to_numpy(), np.asarray(conf)[[0, 4, 23]], rtol=1e-9)
    q = f.predict_quantiles(fh=[1, 5, 24], alpha=[0.1, 0.5, 0.9]).to_numpy()
    np.testing.assert_allclose(q[:, 1], f.predict([1, 5, 24]).to_numpy())
    np.testing.assert_allclose(q[:, [0, 2]], got.to_numpy())
    # the order search returns its chosen model's intervals
    auto = AutoARIMAForecaster(max_p=1, max_q=1, sp=1).fit(y.iloc[:60])
    conf = auto.model_.get_forecast(3).conf_int(alpha=0.1)
    np.testing.assert_allclose(auto.predict_interval(fh=3).to_numpy(), np.asarray(conf))


def test_varma_quantiles_per_series():
    y = make_varma_process([[[0.5, 0.1], [0.0, 0.3]]], n_samples=200, random_state=0)
    f = VARMAForecaster(order=(1, 0)).fit(pd.DataFrame(y, columns=["a", "b"]))
    q = f.predict_quantiles(fh=[1, 2], alpha=[0.05, 0.5, 0.95])
    assert list(q.columns) == [(c, a) for c in "ab" for a in (0.05, 0.5, 0.95)]
    np.testing.assert_allclose(q.xs(0.5, axis=1, level=1).to_numpy(), f.predict(2).to_numpy())
    assert (np.diff(q.to_numpy().reshape(2, 2, 3), axis=-1) > 0).all()


def test_log_transformed_maps_quantiles_exactly():
    y = load_airline()
    inner = ARIMAForecaster(order=(0, 1, 1), seasonal_order=(0, 1, 1, 12)).fit(np.log(y))
    wrapped = LogTransformed(ARIMAForecaster(order=(0, 1, 1), seasonal_order=(0, 1, 1, 12)))
    got = wrapped.fit(y).predict_interval(fh=[1, 12], coverage=0.9)
    expected = np.exp(inner.predict_interval(fh=[1, 12], coverage=0.9).to_numpy())
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-9)
    assert list(got.columns) == [("passengers", 0.9, "lower"), ("passengers", 0.9, "upper")]


def test_differenced_intervals_integrate_sample_paths():
    # a random walk with drift: differencing gives i.i.d. N(mu, sigma^2); the mean forecaster of
    # the increments integrates to a line whose h-step variance is h sigma^2 + h^2 sigma^2 / n
    rng = np.random.RandomState(0)
    y = np.cumsum(0.5 + rng.normal(size=400))
    model = Differenced(NaiveForecaster(strategy="mean"), lags=(1,), n_paths=4000).fit(y)
    steps = np.array([1, 5, 20])
    q = model.predict_quantiles(fh=steps, alpha=[0.05, 0.5, 0.95]).to_numpy()
    increments = np.diff(y)
    n, sigma = len(increments), increments.std(ddof=1)
    centre = y[-1] + steps * increments.mean()
    std = sigma * np.sqrt(steps + steps**2 / n)
    expected = centre[:, None] + std[:, None] * norm.ppf([0.05, 0.5, 0.95])
    np.testing.assert_allclose(q, expected, rtol=0, atol=0.1 * std.max())
    np.testing.assert_allclose(q[:, 1], model.predict(steps), atol=0.05 * std.max())
    # the same seed gives the same paths
    again = model.predict_quantiles(fh=steps, alpha=[0.05, 0.5, 0.95]).to_numpy()
    np.testing.assert_array_equal(q, again)


def test_point_only_forecasters_say_so():
    from seqestim.estimators._series import BaseForecaster

    class Constant(BaseForecaster):
        def _fit(self, y, X=None):
            self.value_ = y.mean(axis=0)

        def _predict(self, steps, X=None):
            return np.repeat(self.value_[None], len(steps), axis=0)

    f = Constant().fit(np.arange(10.0))
    with pytest.raises(NotImplementedError, match="point forecasts only"):
        f.predict_interval(fh=2)
    with pytest.raises(NotImplementedError):
        LogTransformed(Constant()).fit(np.arange(1.0, 11.0)).predict_quantiles(fh=2)


def test_statsforecast_autoarima_wraps_statsforecast():
    pytest.importorskip("statsforecast")
    from statsforecast.models import AutoARIMA

    from seqestim.baselines import StatsForecastAutoARIMA

    y = np.log(load_airline())
    f = StatsForecastAutoARIMA(sp=12).fit(y.iloc[:120])
    reference = AutoARIMA(season_length=12).fit(y.to_numpy()[:120])
    expected = reference.predict(h=12, level=[90])
    np.testing.assert_allclose(f.predict(12).to_numpy(), expected["mean"], rtol=1e-10)
    intervals = f.predict_interval(fh=np.arange(1, 13), coverage=0.9)
    np.testing.assert_allclose(intervals.iloc[:, 0], expected["lo-90"], rtol=1e-8)
    np.testing.assert_allclose(intervals.iloc[:, 1], expected["hi-90"], rtol=1e-8)
    assert intervals.index[0] == pd.Period("1959-01", "M")
    assert len(f.order_) == 3 and f.seasonal_order_[-1] == 12
    # forecasts from a later origin without re-estimating: statsforecast's forward
    from seqestim.model_selection import historical_forecasts

    backtest = historical_forecasts(f, y, [131], fh=[1, 2])
    forward = reference.forward(y.to_numpy()[:132], h=2)["mean"]
    np.testing.assert_allclose(backtest.to_numpy()[:, 0], forward, rtol=1e-10)
