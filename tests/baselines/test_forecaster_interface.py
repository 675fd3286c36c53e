"""The shared forecaster interface of seqestim._series.BaseForecaster, through the baselines."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score

from seqestim.baselines import ARIMAForecaster, NaiveForecaster, VARMAForecaster
from seqestim.estimators._series import BaseForecaster, check_fh


@pytest.fixture
def monthly():
    index = pd.period_range("2000-01", periods=48, freq="M")
    values = 10 + np.sin(np.arange(48) * 2 * np.pi / 12) + 0.05 * np.arange(48)
    return pd.Series(values, index=index, name="sales")


class MeanOfExog(BaseForecaster):
    """A toy subclass: forecast = last y + sum of the exogenous row (tests the plug-in API)."""

    def __init__(self, offset=0.0):
        self.offset = offset

    def _fit(self, y, X=None):
        self.last_ = y[-1]

    def _predict(self, steps, X=None):
        extra = np.zeros(len(steps)) if X is None else X[steps - 1].sum(axis=1)
        return self.last_ + self.offset + extra[:, None]


def test_period_index_round_trip(monthly):
    forecaster = NaiveForecaster().fit(monthly)
    pred = forecaster.predict(3)
    assert isinstance(pred, pd.Series) and pred.name == "sales"
    assert list(pred.index.astype(str)) == ["2004-01", "2004-02", "2004-03"]
    assert pred.index.freqstr == monthly.index.freqstr
    assert forecaster.cutoff_ == pd.Period("2003-12", "M")
    pred = forecaster.predict([2, 12])
    assert list(pred.index.astype(str)) == ["2004-02", "2004-12"]


def test_datetime_and_range_index(monthly):
    dated = monthly.copy()
    dated.index = pd.date_range("2000-01-01", periods=48, freq="MS")
    pred = NaiveForecaster().fit(dated).predict(2)
    assert list(pred.index) == [pd.Timestamp("2004-01-01"), pd.Timestamp("2004-02-01")]
    # a DatetimeIndex that lost its freq (as after sklearn's fold indexing) is inferred
    pred = NaiveForecaster().fit(dated.iloc[np.arange(10, 30)]).predict(1)
    assert pred.index[0] == pd.Timestamp("2002-07-01")
    ranged = pd.Series(monthly.to_numpy(), index=pd.RangeIndex(100, 148))
    assert list(NaiveForecaster().fit(ranged).predict([1, 3]).index) == [148, 150]


def test_dataframe_and_arrays_keep_their_type(monthly):
    frame = pd.DataFrame({"a": monthly, "b": 2 * monthly})
    pred = NaiveForecaster(strategy="mean").fit(frame).predict(2)
    assert isinstance(pred, pd.DataFrame) and list(pred.columns) == ["a", "b"]
    np.testing.assert_allclose(pred.to_numpy(), np.tile(frame.mean().to_numpy(), (2, 1)))
    one_d = NaiveForecaster().fit(monthly.to_numpy()).predict(4)
    assert isinstance(one_d, np.ndarray) and one_d.shape == (4,)
    two_d = NaiveForecaster().fit(frame.to_numpy()).predict(np.array([1, 5]))
    assert two_d.shape == (2, 2)
    column = NaiveForecaster().fit(monthly.to_numpy()[:, None]).predict(3)
    assert column.shape == (3, 1)
    listed = NaiveForecaster().fit(list(range(5))).predict(1)
    assert listed.tolist() == [4.0]


def test_fh_forms_and_errors(monthly):
    forecaster = NaiveForecaster(strategy="drift").fit(monthly)
    full = forecaster.predict(6)
    np.testing.assert_allclose(forecaster.predict([6, 2]).to_numpy(), full.to_numpy()[[5, 1]])
    np.testing.assert_allclose(forecaster.predict(range(1, 7)).to_numpy(), full.to_numpy())
    assert len(forecaster.predict()) == 1
    for bad in (0, -2, [0, 1], [1.5], [], "a", True):
        with pytest.raises(ValueError, match="fh"):
            forecaster.predict(bad)
    np.testing.assert_array_equal(check_fh(np.int64(3)), [1, 2, 3])
    np.testing.assert_array_equal(check_fh([2.0, 4.0]), [2, 4])


def test_bad_series(monthly):
    for bad in (np.array([1.0, np.nan, 3.0]), np.array([1.0, np.inf, 3.0])):
        with pytest.raises(ValueError, match="NaN or infinite"):
            NaiveForecaster().fit(bad)
    with pytest.raises(ValueError, match="numeric"):
        NaiveForecaster().fit(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="empty"):
        NaiveForecaster().fit(np.array([]))
    with pytest.raises(ValueError, match="1D or 2D"):
        NaiveForecaster().fit(np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="at least 12"):
        NaiveForecaster(strategy="seasonal_last", sp=12).fit(monthly.iloc[:5])
    with pytest.raises(ValueError, match="at least"):
        ARIMAForecaster(order=(3, 1, 1)).fit(monthly.iloc[:4])
    with pytest.raises(ValueError, match="one series"):
        ARIMAForecaster().fit(np.zeros((20, 2)))
    with pytest.raises(ValueError, match="at least 2 columns"):
        VARMAForecaster().fit(monthly)
    with pytest.raises(ValueError, match="columns"):
        NaiveForecaster().fit(np.zeros((10, 2))).score(np.zeros((3, 3)))


def test_exogenous_variables():
    rng = np.random.RandomState(0)
    y, X = rng.normal(size=30), rng.normal(size=(30, 2))
    forecaster = MeanOfExog().fit(y, X)
    assert forecaster.n_exog_ == 2
    X_future = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_allclose(
        forecaster.predict([1, 3], X=X_future), y[-1] + np.array([3.0, 11.0])
    )
    # rows beyond max(fh) are ignored
    np.testing.assert_allclose(forecaster.predict(1, X=X_future), [y[-1] + 3.0])
    with pytest.raises(ValueError, match="future values"):
        forecaster.predict(2)
    with pytest.raises(ValueError, match="column"):
        forecaster.predict(2, X=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="needs 3 row"):
        forecaster.predict(3, X=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        forecaster.predict(1, X=np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="one row per observation"):
        MeanOfExog().fit(y, X[:20])
    with pytest.raises(ValueError, match="without exogenous"):
        MeanOfExog().fit(y).predict(1, X=X_future)
    with pytest.raises(ValueError, match="does not use exogenous"):
        NaiveForecaster().fit(y, X)


def test_arima_with_exogenous_regressor_uses_it():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(120, 1))
    y = 3.0 * X[:, 0] + 0.1 * rng.normal(size=120)
    forecaster = ARIMAForecaster(order=(0, 0, 0), trend="n").fit(y[:100], X[:100])
    np.testing.assert_allclose(forecaster.predict(20, X=X[100:]), 3.0 * X[100:, 0], atol=0.1)
    assert forecaster.score(y[100:], X=X[100:]) > 0.95


def test_score_is_r2_of_the_following_steps(monthly):
    from sklearn.metrics import r2_score

    forecaster = NaiveForecaster(strategy="seasonal_last", sp=12).fit(monthly.iloc[:36])
    expected = r2_score(monthly.iloc[36:], forecaster.predict(12))
    assert forecaster.score(monthly.iloc[36:]) == pytest.approx(expected)


def test_cross_val_score_and_grid_search(monthly):
    scores = cross_val_score(
        NaiveForecaster(strategy="seasonal_last", sp=12), monthly, cv=TimeSeriesSplit(2)
    )
    assert scores.shape == (2,) and np.all(np.isfinite(scores))
    scores = cross_val_score(
        NaiveForecaster(strategy="drift"), monthly.to_numpy(), cv=TimeSeriesSplit(5)
    )
    assert scores.shape == (5,)
    search = GridSearchCV(
        NaiveForecaster(sp=12),
        {"strategy": ["last", "mean", "seasonal_last"]},
        cv=TimeSeriesSplit(3, test_size=12),
    ).fit(monthly)
    # the series is seasonal with a small trend: repeating last year's season wins
    assert search.best_params_ == {"strategy": "seasonal_last"}
    assert isinstance(search.predict(2), pd.Series)


def test_arima_grid_search_with_time_series_split():
    from seqestim.datasets.forecasting import make_arma_process

    y = make_arma_process([0.8], [], 150, random_state=0)
    search = GridSearchCV(
        ARIMAForecaster(trend="n"),
        {"order": [(0, 0, 0), (1, 0, 0)]},
        cv=TimeSeriesSplit(3, test_size=5),
    ).fit(y)
    assert search.best_params_["order"] == (1, 0, 0)


def test_clone_params_pickle(monthly):
    forecaster = NaiveForecaster(strategy="drift", sp=3)
    assert clone(forecaster).get_params() == forecaster.get_params()
    assert forecaster.set_params(strategy="last").strategy == "last"
    for est in (NaiveForecaster(strategy="drift"), ARIMAForecaster(order=(1, 0, 0))):
        fitted = est.fit(monthly)
        restored = pickle.loads(pickle.dumps(fitted))
        pd.testing.assert_series_equal(restored.predict(5), fitted.predict(5))
    with pytest.raises(Exception, match="not fitted"):
        NaiveForecaster().predict(1)
