"""ARMACellForecaster: the classical coefficients it exposes are the model it forecasts with."""

import warnings

import numpy as np
import pytest
from skorch.callbacks import LRScheduler

from seqestim import ARMACellForecaster
from seqestim.datasets.forecasting import make_arma_process, make_varma_process
from seqestim.nn.heads import IdentityHead

COEFFICIENTS = ("ar_coefficients_", "ma_coefficients_", "intercept_")


def _forecaster(epochs, **params):
    # a cosine learning-rate decay lets Adam settle instead of jittering around the optimum
    defaults = {
        "p": 1,
        "q": 1,
        "window_length": 10,
        "max_epochs": epochs,
        "lr": 0.05,
        "batch_size": 128,
        "optimizer": "adam",
        "callbacks": [LRScheduler("CosineAnnealingLR", T_max=epochs)],
        "random_state": 0,
    }
    return ARMACellForecaster(**{**defaults, **params})


def _classical_one_step(y, ar, ma, intercept, mean, window):
    """One-step forecast of the classical (V)ARMA predictor run over the last ``window`` rows.

    Like the cell, it starts from "no information" (forecast = the training mean, i.e. zero in
    standardised units) and no lag before the window (the mean again).
    """
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)[-window:]
    k, p, q = y.shape[1], len(ar), len(ma)
    ar = np.asarray(ar).reshape(p, k, k)
    ma = np.asarray(ma).reshape(q, k, k)
    padded = np.concatenate([np.tile(mean, (max(p, q), 1)), y])
    forecasts = np.tile(mean, (max(p, q) + 1, 1))  # forecasts[s] predicts padded[s]
    for s in range(max(p, q), len(padded)):
        nxt = np.atleast_1d(intercept).astype(float).copy()
        for i in range(p):
            nxt += ar[i] @ padded[s - i]
        for m in range(q):
            nxt += ma[m] @ (padded[s - m] - forecasts[s - m])
        forecasts = np.concatenate([forecasts, nxt[None]])
    return forecasts[-1]


def test_recovers_arima_coefficients_and_intercept():
    from statsmodels.tsa.arima.model import ARIMA

    y = make_arma_process([0.5], [0.3], 1000, sigma=2.0, constant=0.4, random_state=1)
    f = _forecaster(20).fit(y)
    assert isinstance(f.module_.head, IdentityHead) and f.horizon == 1
    reference = ARIMA(y, order=(1, 0, 1), trend="c").fit()
    assert np.abs(f.ar_coefficients_ - reference.arparams).max() < 0.05
    assert np.abs(f.ma_coefficients_ - reference.maparams).max() < 0.05
    # statsmodels' const is the process mean μ; the predictor's constant is (1 - Σ φ) μ
    c_reference = reference.params[0] * (1.0 - reference.arparams.sum())
    assert abs(f.intercept_ - c_reference) < 0.1
    assert abs(f.ar_coefficients_[0] - 0.5) < 0.15  # and near the truth: not vacuous


def test_coefficients_are_what_the_forecast_uses_univariate():
    rng = np.random.RandomState(3)
    y = 50.0 + 7.0 * make_arma_process([0.6, -0.2], [0.4], 300, random_state=rng)
    f = _forecaster(3, p=2, q=1).fit(y)  # barely trained: the identity must hold anyway
    expected = _classical_one_step(
        y, f.ar_coefficients_, f.ma_coefficients_, f.intercept_, f.y_mean_, f.window_length
    )
    np.testing.assert_allclose(f.predict(fh=1), expected, rtol=1e-5, atol=1e-4)


def test_coefficients_are_what_the_forecast_uses_multivariate():
    A = np.array([[0.5, 0.1], [-0.2, 0.3]])
    M = np.array([[0.3, 0.0], [0.1, 0.2]])
    y = make_varma_process(A, M, 300, random_state=0) * np.array([1.0, 40.0]) + [5.0, -300.0]
    f = _forecaster(3).fit(y)
    assert f.ar_coefficients_.shape == (1, 2, 2) and f.intercept_.shape == (2,)
    expected = _classical_one_step(
        y, f.ar_coefficients_, f.ma_coefficients_, f.intercept_, f.y_mean_, f.window_length
    )
    np.testing.assert_allclose(f.predict(fh=1)[0], expected, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize(
    "params",
    [{"horizon": 3}, {"activation": "tanh"}, {"units": 2}, {"n_layers": 2}],
)
def test_no_coefficients_when_a_head_maps_the_cell(params):
    y = make_arma_process([0.5], [0.3], 120, random_state=0)
    f = _forecaster(1, **params).fit(y)
    assert not isinstance(f.module_.head, IdentityHead)
    assert not any(hasattr(f, name) for name in COEFFICIENTS)
    assert np.isfinite(f.predict(fh=4)).all()


def test_no_coefficients_with_exogenous_variables():
    rng = np.random.RandomState(0)
    y, X = make_arma_process([0.5], [0.3], 120, random_state=0), rng.normal(size=(120, 1))
    f = _forecaster(1).fit(y, X)
    assert not any(hasattr(f, name) for name in COEFFICIENTS)
    assert f.predict(fh=2, X=X[:2]).shape == (2,)


def test_recursive_forecast_longer_than_one_step_and_save_load(tmp_path):
    import seqestim

    y = make_arma_process([0.5], [0.3], 200, constant=1.0, random_state=2)
    f = _forecaster(2).fit(y)
    path = f.predict(fh=5)
    assert path.shape == (5,) and np.isfinite(path).all()
    np.testing.assert_allclose(f.predict(fh=np.array([5, 1])), path[[4, 0]])
    loaded = seqestim.load(f.save(tmp_path / "arma"))
    np.testing.assert_allclose(loaded.predict(fh=5), path, rtol=1e-6)
    np.testing.assert_allclose(loaded.ar_coefficients_, f.ar_coefficients_)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("p", "q", "ar", "ma"),
    [(2, 1, [0.1, 0.3], [-0.4]), (2, 2, [0.4, -0.2], [0.3, 0.2])],
)
def test_recovers_arima_coefficients_higher_orders(p, q, ar, ma):
    from statsmodels.tsa.arima.model import ARIMA

    y = make_arma_process(ar, ma, 4000, sigma=2.0, random_state=1)
    f = _forecaster(30, p=p, q=q, window_length=20, batch_size=256).fit(y)
    reference = ARIMA(y, order=(p, 0, q), trend="c").fit()
    assert np.abs(f.ar_coefficients_ - reference.arparams).max() < 0.05
    assert np.abs(f.ma_coefficients_ - reference.maparams).max() < 0.05


@pytest.mark.slow
def test_recovers_varmax_coefficients():
    from statsmodels.tsa.statespace.varmax import VARMAX

    A = np.array([[0.5, 0.1], [-0.2, 0.3]])
    M = np.array([[0.3, 0.0], [0.1, 0.2]])
    y = make_varma_process(A, M, 4000, random_state=0) * np.array([1.0, 3.0])
    f = _forecaster(30, batch_size=256, window_length=20).fit(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = VARMAX(y, order=(1, 1), trend="c").fit(disp=False, maxiter=200)
    assert np.abs(f.ar_coefficients_[0] - reference.coefficient_matrices_var[0]).max() < 0.05
    assert np.abs(f.ma_coefficients_[0] - reference.coefficient_matrices_vma[0]).max() < 0.05
