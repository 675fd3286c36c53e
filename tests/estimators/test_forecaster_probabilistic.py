"""Probabilistic neural forecasts, the temporal early-stopping split and backtests without refit."""

import copy

import numpy as np
import pandas as pd
import pytest

from seqestim import GRUForecaster, S5Forecaster
from seqestim.datasets import make_arma_process
from seqestim.estimators.forecaster import PinballLoss, WindowSplit, temporal_window_split
from seqestim.model_selection import compare_forecasters, historical_forecasts


def _series(n=120):
    t = np.arange(n)
    return pd.Series(
        np.sin(t / 4.0) + 0.02 * t, index=pd.period_range("2001-01", periods=n, freq="M")
    )


def _fast(**params):
    defaults = {"d_model": 8, "window_length": 12, "horizon": 4, "max_epochs": 3, "random_state": 0}
    return GRUForecaster(**{**defaults, **params})


@pytest.mark.parametrize("loss", ["quantile", "normal"])
def test_quantiles_are_monotone_and_bracket_the_point_forecast(loss):
    y = _series()
    f = _fast(loss=loss).fit(y)
    alpha = [0.02, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.98]
    fh = [1, 2, 4, 6, 9]  # beyond horizon=4: read off sample paths
    q = f.predict_quantiles(fh=fh, alpha=alpha)
    assert q.index.equals(pd.period_range("2011-01", periods=9, freq="M")[np.array(fh) - 1])
    assert list(q.columns) == [(0, a) for a in alpha]  # the Series has no name: variable 0
    assert (np.diff(q.to_numpy(), axis=1) >= 0).all()
    assert (np.diff(q.to_numpy()[:4], axis=1) > 0).all()  # strictly, within the horizon
    intervals = f.predict_interval(fh=fh, coverage=[0.5, 0.9])
    lower50, upper50 = intervals[(0, 0.5, "lower")], intervals[(0, 0.5, "upper")]
    lower90, upper90 = intervals[(0, 0.9, "lower")], intervals[(0, 0.9, "upper")]
    median = q[(0, 0.5)]
    assert (lower90 <= lower50).all() and (lower50 <= median).all()
    assert (median <= upper50).all() and (upper50 <= upper90).all()
    if loss == "quantile":  # the point forecast is the median within the horizon
        np.testing.assert_allclose(f.predict(fh=[1, 2, 4]).to_numpy(), median.iloc[:3])


def test_quantile_head_never_crosses_whatever_its_weights():
    from seqestim.estimators.forecaster import _ForecastNet
    from seqestim.nn.gated_rnn import GRU, RecurrentParams

    net = _ForecastNet(GRU(1, RecurrentParams(d_model=4)), 3, "quantile", 7, 3)
    for p in net.parameters():
        p.data.normal_(0.0, 5.0)  # far from any trained state
    import torch

    out = net(torch.randn(16, 10, 1))  # (B, T, Q)
    assert out.shape == (16, 3, 7) and (out.diff(dim=-1) >= 0).all()
    # the pinball loss is zero exactly at the truth and grows away from it
    loss = PinballLoss([0.1, 0.5, 0.9])
    target = torch.zeros(2, 3)
    assert float(loss(torch.zeros(2, 3, 3), target)) == 0.0
    assert float(loss(torch.ones(2, 3, 3), target)) > 0.0


def test_point_forecaster_and_untrained_levels_are_refused():
    y = _series()
    with pytest.raises(NotImplementedError, match="loss='mse'"):
        _fast(loss="mse").fit(y).predict_interval(fh=2)
    f = _fast(loss="quantile", quantiles=(0.1, 0.9)).fit(y)
    assert f.quantile_levels_.tolist() == [0.1, 0.5, 0.9]  # the median is always learned
    with pytest.raises(ValueError, match="outside"):
        f.predict_quantiles(fh=2, alpha=0.05)
    with pytest.raises(ValueError, match=r"strictly between 0 and 1"):
        f.predict_interval(fh=2, coverage=1.0)
    for bad in ({"loss": "mae"}, {"quantiles": (0.0, 0.5)}, {"window_normalization": "z"}):
        with pytest.raises(ValueError):
            _fast(**bad).fit(y)


@pytest.mark.parametrize("loss", ["quantile", "normal"])
def test_ninety_percent_intervals_cover_about_ninety_percent_of_an_ar1(loss):
    # a long AR(1); 400 rolling origins after the training part, every step of the horizon
    y = make_arma_process(ar=[0.7], n_samples=1600, sigma=1.0, random_state=3)
    f = GRUForecaster(
        d_model=8,
        window_length=8,
        horizon=2,
        max_epochs=15,
        lr=0.01,
        batch_size=64,
        loss=loss,
        random_state=0,
    ).fit(y[:1200])
    forecasts, intervals = historical_forecasts(
        f, y, np.arange(1199, 1598), fh=[1, 2], coverage=0.9
    )
    truth = y[np.concatenate([[o + 1, o + 2] for o in range(1199, 1598)])]
    lower = intervals[(0, 0.9, "lower")].to_numpy()
    upper = intervals[(0, 0.9, "upper")].to_numpy()
    coverage = np.mean((truth >= lower) & (truth <= upper))
    assert 0.85 <= coverage <= 0.95, coverage
    # and the point forecasts are those of a good AR(1) predictor: RMSE near sigma at step 1
    step1 = forecasts.to_numpy()[::2, 0]
    assert np.sqrt(np.mean((y[1200:1599] - step1) ** 2)) < 1.15


def test_early_stopping_validates_on_the_last_windows_after_a_gap():
    y = _series(140)
    f = _fast(early_stopping=True, validation_fraction=0.2, max_epochs=4, horizon=5).fit(y)
    split = f.net_.train_split
    assert isinstance(split, WindowSplit)
    starts = np.arange(12, 140 - 5 + 1)  # first forecast step of every window, in order
    train, valid = starts[split.train], starts[split.valid]
    assert len(valid) == round(0.2 * len(starts))
    assert train.max() + f.horizon <= valid.min()  # no validation step is a training target
    assert set(valid) == set(starts[-len(valid) :])
    assert "valid_loss" in f.history_[-1]
    # several series: the same holds within each, and every series gives validation windows
    series = np.repeat([0, 1, 2], [30, 50, 20])
    starts = np.concatenate([np.arange(30), np.arange(50), np.arange(20)])
    train, valid = temporal_window_split(series, starts, 0.1, gap=6)
    for s in range(3):
        t, v = starts[train][series[train] == s], starts[valid][series[valid] == s]
        assert len(v) >= 1 and t.max() + 6 <= v.min() and v.max() == starts[series == s].max()
    assert not set(train) & set(valid)


def test_early_stopping_on_too_few_windows_is_a_clear_error():
    with pytest.raises(ValueError, match="early_stopping"):
        _fast(early_stopping=True, window_length=10, horizon=4).fit(np.arange(16.0))


@pytest.mark.parametrize("cls", [GRUForecaster, S5Forecaster])
def test_backtest_without_refit_equals_predicting_from_each_origin(cls):
    y = _series(130)
    params = {"window_length": 12, "horizon": 4, "max_epochs": 2, "random_state": 0}
    if cls is S5Forecaster:
        params.update(d_model=8, d_state=8, n_layers=1)
    f = cls(**params).fit(y.iloc[:100])
    origins = np.array([99, 104, 111, 120])
    forecasts, intervals = historical_forecasts(f, y, origins, fh=[1, 3, 6], coverage=0.8)
    for o in origins:
        moved = copy.deepcopy(f)
        moved.last_window_ = y.to_numpy()[o + 1 - 12 : o + 1, None]
        moved._y_meta.index = y.index[o - 2 : o + 1]
        expected = moved.predict(fh=[1, 3, 6])
        got = forecasts.loc[y.index[o]]
        assert got.index.equals(expected.index)
        np.testing.assert_allclose(got.iloc[:, 0].to_numpy(), expected.to_numpy(), rtol=1e-10)
        expected_interval = moved.predict_interval(fh=[1, 3, 6], coverage=0.8)
        np.testing.assert_allclose(
            intervals.loc[y.index[o]].to_numpy(), expected_interval.to_numpy(), rtol=1e-10
        )


def test_compare_without_refit_fits_once_and_forecasts_every_origin():
    from sklearn.model_selection import TimeSeriesSplit

    from seqestim.baselines import ARIMAForecaster, NaiveForecaster

    y = _series(120)
    cv = TimeSeriesSplit(3, test_size=6)
    models = {
        "gru": _fast(horizon=6),
        "arima": ARIMAForecaster(order=(1, 1, 0)),
        "seasonal": NaiveForecaster(strategy="seasonal_last", sp=12),
    }
    table, forecasts = compare_forecasters(models, y, cv=cv, refit=False, return_forecasts=True)
    assert table["error"].isna().all() and len(table) == 9
    fitted_on = {fold: table.query(f"fold == {fold}")["fit_time"] for fold in range(3)}
    assert (fitted_on[0] > 0).all() and (fitted_on[1] == 0).all() and (fitted_on[2] == 0).all()
    gru = _fast(horizon=6).fit(y.iloc[:102])  # the first fold's training part
    backtest = historical_forecasts(gru, y, [101, 107, 113], fh=np.arange(1, 7))
    for fold, origin in enumerate([101, 107, 113]):
        np.testing.assert_allclose(
            forecasts["gru"][fold].to_numpy(), backtest.loc[y.index[origin]].iloc[:, 0].to_numpy()
        )
    # ARIMA keeps its first-fold parameters and filters the longer histories
    arima = ARIMAForecaster(order=(1, 1, 0)).fit(y.iloc[:102])
    last = arima.model_.apply(y.to_numpy()[:114]).forecast(6)
    np.testing.assert_allclose(forecasts["arima"][2].to_numpy(), last)
    # the seasonal naive forecast of a later origin only needs the history
    refit_table = compare_forecasters(
        {"seasonal": NaiveForecaster(strategy="seasonal_last", sp=12)}, y, cv=cv
    )
    no_refit = table[table.model == "seasonal"]["mae"].to_numpy()
    np.testing.assert_allclose(no_refit, refit_table["mae"].to_numpy())


def test_differenced_point_forecaster_has_no_intervals_but_forecasts():
    from seqestim import ARMACellForecaster
    from seqestim.compose import Differenced

    y = _series(90)
    f = Differenced(ARMACellForecaster(p=2, q=1, max_epochs=1), lags=(12,)).fit(y)
    assert np.isfinite(f.predict(fh=12).to_numpy()).all()
    with pytest.raises(NotImplementedError, match="point forecasts only"):
        f.predict_interval(fh=12)
