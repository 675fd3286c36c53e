import numpy as np
import pandas as pd
import pytest

from seqestim.datasets.forecasting import (
    load_airline,
    load_co2,
    load_lynx,
    load_nile,
    load_sunspots,
    make_arma_process,
    make_varma_process,
)


@pytest.mark.parametrize(
    ("loader", "length", "freq", "first", "last"),
    [
        (load_airline, 144, "M", "1949-01", "1960-12"),
        (load_lynx, 114, "Y", "1821", "1934"),
        (load_sunspots, 309, "Y", "1700", "2008"),
        (load_co2, 526, "M", "1958-03", "2001-12"),
        (load_nile, 100, "Y", "1871", "1970"),
    ],
)
def test_loaders_return_complete_series_with_period_index(loader, length, freq, first, last):
    y = loader()
    assert isinstance(y, pd.Series) and y.dtype == np.float64
    assert isinstance(y.index, pd.PeriodIndex) and y.index.freqstr.startswith(freq)
    assert len(y) == length and not y.isna().any()
    assert str(y.index[0]) == first and str(y.index[-1]) == last
    assert y.index.is_monotonic_increasing and y.index.is_unique


def test_airline_values():
    y = load_airline()
    assert y.iloc[0] == 112.0 and y.iloc[-1] == 432.0


def test_co2_monthly_means_of_the_weekly_data():
    from statsmodels.datasets import co2

    weekly = co2.load_pandas().data["co2"]
    y = load_co2()
    # a month with data is the mean of its weeks; one without is interpolated between neighbours
    assert y[pd.Period("1958-04", "M")] == pytest.approx(weekly["1958-04"].mean())
    empty = [m for m in y.index if weekly[str(m)].isna().all()]
    assert empty, "the weekly file has whole months missing"
    month = empty[0]
    assert y[month] == pytest.approx((y[month - 1] + y[month + 1]) / 2)


def test_make_arma_process_is_the_requested_arma():
    from statsmodels.tsa.arima.model import ARIMA

    y = make_arma_process([0.6, -0.2], [0.4], 4000, sigma=0.5, constant=1.0, random_state=0)
    assert y.shape == (4000,)
    fit = ARIMA(y, order=(2, 0, 1), trend="c").fit()
    np.testing.assert_allclose(fit.arparams, [0.6, -0.2], atol=0.08)
    np.testing.assert_allclose(fit.maparams, [0.4], atol=0.08)
    assert fit.params[0] == pytest.approx(1.0 / (1 - 0.4), abs=0.1)  # mean c / (1 - Σφ)
    assert np.sqrt(fit.params[-1]) == pytest.approx(0.5, abs=0.03)
    np.testing.assert_array_equal(
        y, make_arma_process([0.6, -0.2], [0.4], 4000, sigma=0.5, constant=1.0, random_state=0)
    )


def test_make_arma_process_errors_and_white_noise():
    with pytest.raises(ValueError, match="not stationary"):
        make_arma_process([1.2], [], 10)
    noise = make_arma_process([], [], 3000, random_state=0)
    assert abs(np.corrcoef(noise[1:], noise[:-1])[0, 1]) < 0.06


def test_make_varma_process_follows_its_recursion():
    A = np.array([[0.5, 0.2], [-0.3, 0.1]])
    y = make_varma_process(A, None, 5000, sigma=1.0, random_state=0)
    assert y.shape == (5000, 2)
    # least squares of y_t on y_{t-1} recovers A (row r = equation of series r)
    coef, *_ = np.linalg.lstsq(y[:-1], y[1:], rcond=None)
    np.testing.assert_allclose(coef.T, A, atol=0.05)
    with pytest.raises(ValueError, match="not stationary"):
        make_varma_process(np.eye(2) * 1.1, None, 10)
    with pytest.raises(ValueError, match="shape"):
        make_varma_process(np.zeros((1, 2, 2)), np.zeros((1, 3, 3)), 10)
