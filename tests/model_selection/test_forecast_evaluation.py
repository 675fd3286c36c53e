import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from seqestim.baselines import ARIMAForecaster, NaiveForecaster
from seqestim.model_selection import (
    compare_forecasters,
    make_forecast_scorer,
    mean_absolute_error,
    mean_absolute_scaled_error,
    plot_forecasts,
    root_mean_squared_error,
    symmetric_mean_absolute_percentage_error,
)

Y_TRUE = np.array([2.0, 4.0, 0.0])
Y_PRED = np.array([1.0, 6.0, 0.0])


def test_metrics_against_hand_computed_values():
    assert mean_absolute_error(Y_TRUE, Y_PRED) == pytest.approx(1.0)  # (1 + 2 + 0) / 3
    assert root_mean_squared_error(Y_TRUE, Y_PRED) == pytest.approx(np.sqrt(5 / 3))
    # sMAPE terms: 2*1/3, 2*2/10, and 0 for the 0/0 term
    assert symmetric_mean_absolute_percentage_error(Y_TRUE, Y_PRED) == pytest.approx(
        (2 / 3 + 0.4) / 3
    )
    train = np.array([1.0, 3.0, 2.0, 6.0])
    # naive scale: mean(|2|, |1|, |4|) = 7/3 -> MASE = 1 / (7/3)
    assert mean_absolute_scaled_error(Y_TRUE, Y_PRED, train) == pytest.approx(3 / 7)
    # seasonal scale sp=2: mean(|2-1|, |6-3|) = 2
    assert mean_absolute_scaled_error(Y_TRUE, Y_PRED, train, sp=2) == pytest.approx(0.5)


def test_multivariate_metrics_average_columns():
    y_true = np.column_stack([Y_TRUE, 10 * Y_TRUE])
    y_pred = np.column_stack([Y_PRED, 10 * Y_PRED])
    assert mean_absolute_error(y_true, y_pred) == pytest.approx(5.5)
    assert root_mean_squared_error(y_true, y_pred) == pytest.approx(5.5 * np.sqrt(5 / 3))
    train = np.column_stack([[1.0, 3.0, 2.0, 6.0], [10.0, 30.0, 20.0, 60.0]])
    assert mean_absolute_scaled_error(y_true, y_pred, train) == pytest.approx(3 / 7)


def test_metric_errors():
    with pytest.raises(ValueError, match="shape"):
        mean_absolute_error([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="longer than sp"):
        mean_absolute_scaled_error([1.0], [1.0], [1.0, 2.0], sp=2)
    assert mean_absolute_scaled_error([1.0], [2.0], [3.0, 3.0, 3.0]) == np.inf
    with pytest.raises(ValueError, match="Unknown metric"):
        make_forecast_scorer("mape")


@pytest.fixture
def seasonal():
    index = pd.period_range("2010-01", periods=60, freq="M")
    rng = np.random.RandomState(0)
    values = 20 + 5 * np.sin(np.arange(60) * 2 * np.pi / 12) + 0.3 * rng.normal(size=60)
    return pd.Series(values, index=index)


def test_compare_forecasters_expanding_window(seasonal):
    estimators = {
        "naive": NaiveForecaster(),
        "seasonal": NaiveForecaster(strategy="seasonal_last", sp=12),
    }
    table, forecasts = compare_forecasters(
        estimators, seasonal, cv=TimeSeriesSplit(3, test_size=12), sp=12, return_forecasts=True
    )
    assert len(table) == 6
    assert {
        "model",
        "fold",
        "n_train",
        "n_test",
        "fit_time",
        "mae",
        "rmse",
        "mase",
        "smape",
    } <= set(table)
    assert table["n_train"].tolist() == [24, 24, 36, 36, 48, 48]
    assert (table["n_test"] == 12).all() and (table["fit_time"] >= 0).all()
    means = table.groupby("model")["mase"].mean()
    assert means["seasonal"] < means["naive"]
    # the table's numbers are the metrics of the returned forecasts
    last = forecasts["seasonal"][-1]
    assert last.index[0] == pd.Period("2014-01", "M")
    expected = mean_absolute_error(seasonal.iloc[48:], last)
    assert table.query("model == 'seasonal' and fold == 2")["mae"].item() == pytest.approx(expected)


def test_compare_forecasters_sliding_window_fh_and_exog():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(80, 1))
    y = 2.0 * X[:, 0] + 0.05 * rng.normal(size=80)
    cv = TimeSeriesSplit(4, test_size=5, max_train_size=30)
    table = compare_forecasters(
        {"arimax": ARIMAForecaster(order=(0, 0, 0), trend="n")},
        y,
        cv=cv,
        fh=[1, 3],
        X=X,
        metrics=("mae",),
    )
    assert (table["n_train"] == 30).all() and (table["n_test"] == 2).all()
    assert list(table.columns[-2:]) == ["mae", "error"] and table["mae"].max() < 0.2
    assert table["train_start"].tolist() == [30, 35, 40, 45]


def test_compare_forecasters_errors(seasonal):
    with pytest.raises(ValueError, match="non-empty dict"):
        compare_forecasters({}, seasonal)
    with pytest.raises(ValueError, match="Unknown metric"):
        compare_forecasters({"n": NaiveForecaster()}, seasonal, metrics=("r2",))


def test_scorers_in_grid_search(seasonal):
    search = GridSearchCV(
        NaiveForecaster(sp=12),
        {"strategy": ["last", "mean", "seasonal_last"]},
        cv=TimeSeriesSplit(3, test_size=12),
        scoring={"mase": make_forecast_scorer("mase", sp=12), "mae": make_forecast_scorer("mae")},
        refit="mase",
    ).fit(seasonal)
    assert search.best_params_ == {"strategy": "seasonal_last"}
    assert (search.cv_results_["mean_test_mae"] <= 0).all()
    scorer = make_forecast_scorer("rmse")
    fitted = NaiveForecaster().fit(seasonal.iloc[:48])
    expected = root_mean_squared_error(seasonal.iloc[48:], fitted.predict(12))
    assert scorer(fitted, seasonal.iloc[48:]) == pytest.approx(-expected)


def test_plot_forecasts(seasonal):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    _, forecasts = compare_forecasters(
        {"seasonal": NaiveForecaster(strategy="seasonal_last", sp=12)},
        seasonal.to_numpy(),
        cv=TimeSeriesSplit(2, test_size=6),
        return_forecasts=True,
    )
    ax = plot_forecasts(seasonal.to_numpy(), forecasts, title="t")
    assert len(ax.lines) == 3  # truth + one line per fold
    np.testing.assert_array_equal(ax.lines[-1].get_xdata(), np.arange(54, 60))
    with pytest.raises(TypeError, match="pandas"):
        plot_forecasts(seasonal, {"raw": np.zeros(3)})
    matplotlib.pyplot.close("all")


def test_interval_metrics_against_hand_computed_values():
    from seqestim.model_selection import (
        empirical_coverage,
        interval_score,
        mean_scaled_interval_score,
        pinball_loss,
    )

    y = np.array([1.0, 5.0, 3.0])
    lower, upper = np.array([0.0, 2.0, 3.0]), np.array([2.0, 4.0, 4.0])
    assert empirical_coverage(y, lower, upper) == pytest.approx(2 / 3)  # 5 is above [2, 4]
    # widths 2, 2, 1 plus (2 / 0.2) * 1 for the miss by 1: (2 + 12 + 1) / 3
    assert interval_score(y, lower, upper, coverage=0.8) == pytest.approx(5.0)
    train = np.array([1.0, 3.0, 2.0, 6.0])  # naive scale 7/3
    assert mean_scaled_interval_score(y, lower, upper, train, 0.8) == pytest.approx(15 / 7)
    # pinball at 0.1 and 0.9 of a forecast 2 for truth 1: max(0.1 * -1, -0.9 * -1) = 0.9, 0.1
    assert pinball_loss([1.0], [[2.0, 2.0]], [0.1, 0.9]) == pytest.approx(0.5)


def test_compare_forecasters_scores_intervals_and_plots_bands(seasonal):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from seqestim.estimators._series import BaseForecaster
    from seqestim.model_selection import empirical_coverage

    class LastValue(BaseForecaster):  # point forecasts only
        def _fit(self, y, X=None):
            self.last_ = y[-1]

        def _predict(self, steps, X=None):
            return np.repeat(self.last_[None], len(steps), axis=0)

    cv = TimeSeriesSplit(3, test_size=12)
    models = {"seasonal": NaiveForecaster(strategy="seasonal_last", sp=12), "point": LastValue()}
    table, forecasts, intervals = compare_forecasters(
        models,
        seasonal,
        cv=cv,
        sp=12,
        metrics=("mase", "coverage", "interval_score", "msis", "pinball"),
        coverage=0.8,
        return_forecasts=True,
        return_intervals=True,
    )
    seasonal_rows = table[table.model == "seasonal"]
    assert seasonal_rows[["coverage", "msis", "pinball"]].notna().all(axis=None)
    assert table[table.model == "point"][["coverage", "pinball"]].isna().all(axis=None)
    assert table["error"].isna().all()  # no intervals is not a failure
    last = intervals["seasonal"][-1]
    expected = empirical_coverage(
        seasonal.iloc[48:], last[(0, 0.8, "lower")], last[(0, 0.8, "upper")]
    )
    assert seasonal_rows["coverage"].iloc[-1] == pytest.approx(expected)
    assert intervals["point"] == [None, None, None]
    ax = plot_forecasts(seasonal, forecasts, intervals=intervals)
    assert len(ax.collections) == 3  # one band per fold of the seasonal model
    matplotlib.pyplot.close("all")
