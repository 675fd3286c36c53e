"""Neural forecasters: the series interface, windows, exogenous variables, sklearn tools."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score

import seqestim
from seqestim import GRUForecaster, LSTMForecaster, RNNForecaster


def _series(n=96):
    t = np.arange(n)
    return pd.Series(
        np.sin(t / 4.0) + 0.02 * t, index=pd.period_range("2001-01", periods=n, freq="M")
    )


def _fast(cls=GRUForecaster, **params):
    defaults = {"d_model": 8, "window_length": 12, "horizon": 4, "max_epochs": 3, "random_state": 0}
    return cls(**{**defaults, **params})


def test_period_index_round_trip():
    y = _series()
    forecast = _fast().fit(y).predict(fh=6)
    assert isinstance(forecast, pd.Series)
    expected = pd.period_range(y.index[-1] + 1, periods=6, freq="M")
    assert forecast.index.equals(expected)


def test_fh_int_array_and_default():
    f = _fast().fit(_series())
    assert len(f.predict()) == 4  # default fh = horizon
    full = f.predict(fh=10)  # beyond horizon: recursive blocks
    picked = f.predict(fh=np.array([2, 7, 10]))
    np.testing.assert_allclose(picked.to_numpy(), full.to_numpy()[[1, 6, 9]])
    for bad in (0, -1, [0, 1], [1.5]):
        with pytest.raises(ValueError):
            f.predict(fh=bad)


def test_forecaster_learns_a_seasonal_series():
    y = _series(160)
    f = GRUForecaster(
        d_model=16, window_length=16, horizon=8, max_epochs=60, lr=0.01, random_state=0
    ).fit(y[:144])
    assert f.score(y[144:]) > 0.8


def test_exogenous_variables_are_used_and_checked():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 2))
    y = pd.Series(np.r_[0.0, 2.0 * X[:-1, 0]] * 0 + 3.0 * X[:, 1])  # y_t = 3 X_t[1]
    f = _fast(LSTMForecaster, max_epochs=80, lr=0.01, d_model=16).fit(y[:90], X[:90])
    assert f.score(y[90:], X=X[90:]) > 0.8  # only possible by reading future X
    with pytest.raises(ValueError, match="exogenous"):
        f.predict(fh=3)
    with pytest.raises(ValueError, match="column"):
        f.predict(fh=3, X=X[90:, :1])
    with pytest.raises(ValueError, match="row"):
        f.predict(fh=5, X=X[90:92])


def test_multivariate_y():
    rng = np.random.RandomState(1)
    frame = pd.DataFrame(rng.normal(size=(80, 3)).cumsum(axis=0), columns=["a", "b", "c"])
    forecast = _fast(RNNForecaster).fit(frame).predict(fh=5)
    assert isinstance(forecast, pd.DataFrame) and list(forecast.columns) == ["a", "b", "c"]
    assert forecast.index.tolist() == list(range(80, 85))
    array_forecast = _fast(RNNForecaster).fit(frame.to_numpy()).predict(fh=5)
    np.testing.assert_allclose(array_forecast, forecast.to_numpy())


def test_cross_val_score_and_grid_search_with_time_series_split():
    y = _series(120)
    scores = cross_val_score(_fast(), y, cv=TimeSeriesSplit(5))
    assert scores.shape == (5,) and np.isfinite(scores).all()
    search = GridSearchCV(
        _fast(), {"d_model": [4, 8], "window_length": [8, 12]}, cv=TimeSeriesSplit(3)
    )
    search.fit(y)
    assert set(search.best_params_) == {"d_model", "window_length"}


def test_bad_input():
    with pytest.raises(ValueError, match="at least 16"):
        _fast().fit(np.arange(10.0))  # shorter than window_length + horizon
    with pytest.raises(ValueError, match=r"NaN|inf"):
        _fast().fit(np.r_[np.arange(30.0), np.nan])
    with pytest.raises(ValueError, match="window_length"):
        _fast(window_length=0).fit(np.arange(40.0))


def test_pickle_save_load(tmp_path):
    y = _series()
    f = _fast().fit(y)
    expected = f.predict(fh=7)
    pd.testing.assert_series_equal(pickle.loads(pickle.dumps(f)).predict(fh=7), expected)
    f.save(tmp_path / "f")
    pd.testing.assert_series_equal(seqestim.load(tmp_path / "f").predict(fh=7), expected)


def test_datetime_indexed_forecaster_saves_and_loads(tmp_path):
    # a DatetimeIndex's frequency used to be kept as a pandas offset, which JSON cannot hold
    y = pd.Series(np.sin(np.arange(60) / 3.0), index=pd.date_range("2020-01-01", periods=60))
    f = _fast().fit(y)
    f.save(tmp_path / "f")
    loaded = seqestim.load(tmp_path / "f")
    pd.testing.assert_series_equal(loaded.predict(fh=3), f.predict(fh=3))
    assert loaded.predict(fh=1).index[0] == pd.Timestamp("2020-03-01")
