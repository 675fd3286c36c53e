"""The ARMA cell paper's own regression tests, run on ``ARMACellForecaster``.

The official repository of Schiele, Berninger & Rügamer (github.com/phschiele/armacell,
``test/test_regression_arma_cell.py``) checks its cell against statsmodels like this: simulate
25 000 steps of an ARMA process with innovation standard deviation 2, train the linear cell
with Adam (learning rate 1e-3) for 100 epochs in batches of 200 on windows of 10 steps, and
require every AR and MA coefficient (and the intercept) to lie within 0.05 of statsmodels'
maximum-likelihood estimates on the same series; a VARMA(1, 1) of two series (10 000 steps,
standard deviation 1) is compared with ``VARMAX``. The same cases and tolerances are used here,
with our own simulator (statsmodels' sign convention) and seeds.

Two differences from the official tests, both about what is compared, not how it is trained:

- the intercept is compared with the *predictor's* constant ``c = μ (1 - Σ φ)``; statsmodels'
  ``const`` is the process mean ``μ`` (the official test compares the cell's bias with ``μ``
  directly, which its tolerance happens to absorb for ``α = 0.2``);
- ARMA(2, 1) with ``φ = (0.1, 0.3)``, ``θ = -0.4`` is weakly identified: its AR polynomial
  factors as ``(1 - 0.6 B)(1 + 0.5 B)`` and the factor ``1 - 0.6 B`` nearly cancels the MA
  factor ``1 - 0.4 B``, so coefficient sets far apart forecast almost equally well. There the
  test also checks what the estimate is for, the one-step error (see
  ``benchmarks/arma_cell/README.md`` for the numbers).

Each case trains for 100 epochs on 25 000 steps (minutes of CPU), hence ``slow``. The two-unit
case of the official suite, whose two heads are trained directly against the series, has no
estimator form (an estimator with ``units=2`` puts a linear head on the heads); it is in
``tests/nn/test_arma_cell.py``.
"""

import warnings

import numpy as np
import pytest

from seqestim import ARMACellForecaster
from seqestim.datasets.forecasting import make_arma_process, make_varma_process

pytestmark = pytest.mark.slow

TOLERANCE = 0.05  # the official tests' tolerance


def _paper_forecaster(p, q, use_bias):
    """The official tests' training protocol, through the public estimator."""
    return ARMACellForecaster(
        p=p,
        q=q,
        use_bias=use_bias,
        window_length=10,
        max_epochs=100,
        batch_size=200,
        optimizer="adam",
        lr=1e-3,
        random_state=0,
    )


def _arima(y, p, q, trend):
    from statsmodels.tsa.arima.model import ARIMA

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ARIMA(y, order=(p, 0, q), trend=trend).fit()


def one_step_mse(y, ar, ma, c=0.0):
    """Mean squared one-step error of the classical predictor with these coefficients.

    ``ŷ_t = c + Σ φ_i y_{t-i} + Σ θ_j e_{t-j}`` with ``e = y - ŷ``, started at zero, over the
    whole series (the start-up steps weigh nothing at 25 000 steps).
    """
    from scipy.signal import lfilter

    # e_t = y_t - c - Σ φ_i y_{t-i} - Σ θ_j e_{t-j}:  Θ(B) e = Φ(B) y - c
    phi = np.r_[1.0, -np.asarray(ar, dtype=float)]
    theta = np.r_[1.0, np.asarray(ma, dtype=float)]
    errors = lfilter(phi, theta, np.asarray(y, dtype=float) - c / phi.sum())
    return float(np.mean(errors**2))


@pytest.mark.parametrize(
    ("p", "ar", "ma", "constant"),
    [
        (1, [0.1], [-0.4], 0.0),  # test_ARMA_1_1
        (2, [0.1, 0.3], [-0.4, -0.2], 0.0),  # test_ARMA_2_2
        (1, [0.3], [-0.4, -0.2], 0.0),  # test_ARMA_1_2
        (1, [0.1], [-0.4], 0.2),  # test_ARMA_1_1_bias
        (1, [0.1], [-0.4, -0.2], 0.2),  # test_ARMA_1_2_bias
    ],
    ids=["arma11", "arma22", "arma12", "arma11_intercept", "arma12_intercept"],
)
def test_cell_matches_statsmodels_within_the_papers_tolerance(p, ar, ma, constant):
    q = len(ma)
    y = make_arma_process(ar, ma, 25_000, sigma=2.0, constant=constant, random_state=0)
    reference = _arima(y, p, q, "c" if constant else "n")
    f = _paper_forecaster(p, q, use_bias=bool(constant)).fit(y)
    assert np.abs(f.ar_coefficients_ - reference.arparams).max() < TOLERANCE
    assert np.abs(f.ma_coefficients_ - reference.maparams).max() < TOLERANCE
    if constant:
        c_reference = reference.params[0] * (1.0 - reference.arparams.sum())
        assert abs(f.intercept_ - c_reference) < TOLERANCE
    # the reference itself is near the truth, so the comparison is not vacuous
    assert np.abs(reference.arparams - ar).max() < 0.1


def test_arma21_is_weakly_identified_and_the_cell_forecasts_as_well_as_statsmodels():
    ar, ma = [0.1, 0.3], [-0.4]
    y = make_arma_process(ar, ma, 25_000, sigma=2.0, random_state=0)
    reference = _arima(y, 2, 1, "n")
    f = _paper_forecaster(2, 1, use_bias=False).fit(y)
    # the one-step error of the cell's coefficients equals that of the maximum-likelihood
    # estimate to a fraction of a percent (both a hair above the innovation variance 4)
    mse_cell = one_step_mse(y, f.ar_coefficients_, f.ma_coefficients_)
    mse_reference = one_step_mse(y, reference.arparams, reference.maparams)
    assert mse_cell < 1.005 * mse_reference
    # the official test's tolerance on the coefficients themselves
    assert np.abs(f.ar_coefficients_ - reference.arparams).max() < TOLERANCE
    assert np.abs(f.ma_coefficients_ - reference.maparams).max() < TOLERANCE


def test_varma11_cell_matches_varmax():
    from statsmodels.tsa.statespace.varmax import VARMAX

    A = np.array([[0.1, -0.2], [0.0, 0.1]])
    M = np.array([[-0.4, 0.2], [0.0, -0.4]])
    y = make_varma_process(A, M, 10_000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = VARMAX(y, order=(1, 1), trend="n").fit(disp=False, maxiter=200)
    f = _paper_forecaster(1, 1, use_bias=False).fit(y)
    assert np.abs(f.ar_coefficients_[0] - reference.coefficient_matrices_var[0]).max() < TOLERANCE
    assert np.abs(f.ma_coefficients_[0] - reference.coefficient_matrices_vma[0]).max() < TOLERANCE
    assert np.abs(reference.coefficient_matrices_var[0] - A).max() < 0.1
