"""Invariants of the ARMA cell (Schiele et al. 2022) and parameter recovery against statsmodels."""

import warnings

import numpy as np
import pytest
import torch

from seqestim.datasets.forecasting import make_arma_process, make_varma_process
from seqestim.nn.arma_cell import ARMACell, ARMACellParams, restore_arma_parameters


def classical_predictor(y, ar, ma, c):
    """ŷ_t = c + Σ A_i y_{t-i} + Σ M_m (y_{t-m} - ŷ_{t-m}), zeros before the start.

    ``y`` (L, k); returns ŷ_1..ŷ_L (L, k): row s forecasts y[s + 1].
    """
    L, k = y.shape
    y_ext = np.vstack([y, np.zeros((1, k))])
    y_hat = np.zeros((L + 1, k))  # y_hat[0] = 0 is the empty state

    def val(a, t):
        return a[t] if t >= 0 else np.zeros(k)

    for t in range(1, L + 1):
        value = c.copy()
        for i, A in enumerate(ar, start=1):
            value = value + A @ val(y_ext, t - i)
        for m, M in enumerate(ma, start=1):
            if t - m >= 0:
                value = value + M @ (y_ext[t - m] - y_hat[t - m])
        y_hat[t] = value
    return y_hat[1:]


def randomize(model, scale=0.3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * scale)
    return model


@pytest.mark.parametrize(("p", "q", "k"), [(1, 1, 1), (2, 1, 1), (1, 3, 1), (3, 2, 1), (2, 3, 2)])
def test_linear_cell_is_the_classical_arma_predictor(p, q, k):
    # the restore formula must turn the cell's kernels into the ARMA predictor it computes,
    # including the residual form of the MA lags beyond p
    model = randomize(ARMACell(k, ARMACellParams(p=p, q=q, use_bias=True)).double())
    x = torch.randn(1, 12, k, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    out = model(x)[0].detach().numpy()  # (L, k)
    ar, ma, c = model.arma_coefficients()
    if k == 1:
        ar, ma = ar[:, None, None], ma[:, None, None]
    expected = classical_predictor(x[0].numpy(), ar, ma, c)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)


def test_restore_formula_matches_the_paper():
    W = np.array([0.2, -0.1]).reshape(2, 1, 1)
    U = np.array([0.5]).reshape(1, 1, 1)
    ar, ma = restore_arma_parameters(W, U, 2, 1)
    # γ = -U; β_1 = W_1 + U_1 (lag shared with the MA part), β_2 = W_2
    np.testing.assert_allclose(ma.ravel(), [-0.5])
    np.testing.assert_allclose(ar.ravel(), [0.7, -0.1])


def test_units_are_independent_heads_flattened_series_major():
    k, units = 2, 3
    model = randomize(ARMACell(k, ARMACellParams(p=2, q=2, units=units, activation="tanh")))
    x = torch.randn(2, 9, k)
    out = model(x)  # (B, L, k * units)
    assert out.shape == (2, 9, k * units)
    for j in range(units):
        single = ARMACell(k, ARMACellParams(p=2, q=2, units=1, activation="tanh"))
        with torch.no_grad():
            layer, source = single.layers[0], model.layers[0]
            layer.ar_kernel.copy_(source.ar_kernel[:, j : j + 1])
            layer.ma_kernel.copy_(source.ma_kernel[:, j : j + 1])
            layer.bias.copy_(source.bias[j : j + 1])
        torch.testing.assert_close(out[..., j::units], single(x))


def test_step_matches_forward_and_output_width():
    model = randomize(
        ARMACell(3, ARMACellParams(p=2, q=3, units=2, n_layers=2, activation="relu")), scale=0.2
    )
    assert model.d_output == 3 * 2 * 2
    x = torch.randn(4, 8, 3)
    full = model(x)
    state = model.init_state(4)
    steps = []
    for t in range(8):
        y_t, state = model.step(x[:, t], state)
        steps.append(y_t)
    torch.testing.assert_close(torch.stack(steps, dim=1), full)


def test_causal_no_leakage_of_the_current_target():
    # output t forecasts x_{t+1}: it may use x_t but nothing later
    model = randomize(ARMACell(1, ARMACellParams(p=2, q=2)))
    x = torch.randn(2, 10, 1)
    x_changed = x.clone()
    x_changed[:, 6:] += 5.0
    torch.testing.assert_close(model(x_changed)[:, :6], model(x)[:, :6])
    assert not torch.allclose(model(x_changed)[:, 6], model(x)[:, 6])


def test_deep_arma_feeds_outputs_as_lags():
    model = randomize(ARMACell(1, ARMACellParams(p=1, q=2, units=2, n_layers=2, activation="tanh")))
    x = torch.randn(3, 7, 1)
    first = model.layers[0](x)
    torch.testing.assert_close(model(x), model.layers[1](first))
    assert model.layers[1].k == 2  # the second cell models the 2 outputs of the first


def test_gradients_reach_every_parameter():
    model = ARMACell(2, ARMACellParams(p=1, q=3, units=2, n_layers=2, activation="tanh"))
    model(torch.randn(2, 6, 2)).square().sum().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_coefficients_only_for_linear_one_layer():
    with pytest.raises(ValueError, match="linear one-layer"):
        ARMACell(1, ARMACellParams(activation="relu")).arma_coefficients()
    with pytest.raises(ValueError, match="linear one-layer"):
        ARMACell(1, ARMACellParams(n_layers=2)).arma_coefficients()
    with pytest.raises(ValueError, match="p must be"):
        ARMACell(1, ARMACellParams(p=0))
    with pytest.raises(ValueError, match="activation"):
        ARMACell(1, ARMACellParams(activation="swish"))


def test_registered_backbone():
    from seqestim.registry import get_spec

    spec = get_spec("arma_cell")
    assert spec.cls is ARMACell and spec.causal and spec.supports_step
    assert spec.params is ARMACellParams and spec.inputs == ("float",)
    model = spec.build(2, **spec.test_params[1])
    assert model.params == ARMACellParams(**spec.test_params[1])


# --------------------------------------------------------------------------- parameter recovery
def fit_linear_cell(y, p, q, window=20, max_iter=100):
    """Minimise the one-step MSE of the last window step (the paper's training target)."""
    y = torch.as_tensor(y, dtype=torch.float64)
    if y.ndim == 1:
        y = y[:, None]
    n, k = y.shape
    index = torch.arange(n - window)[:, None] + torch.arange(window)
    X, target = y[index], y[window:]
    torch.manual_seed(0)
    model = ARMACell(k, ARMACellParams(p=p, q=q, use_bias=False)).double()
    optimizer = torch.optim.LBFGS(
        model.parameters(),
        lr=1.0,
        max_iter=max_iter,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-10,
        tolerance_change=1e-14,
    )

    def closure():
        optimizer.zero_grad()
        loss = (model(X)[:, -1] - target).square().mean()
        loss.backward()
        return loss

    optimizer.step(closure)
    return model


def _recovery_case(p, q, ar, ma, n):
    from statsmodels.tsa.arima.model import ARIMA

    y = make_arma_process(ar, ma, n, sigma=2.0, random_state=1)
    ar_hat, ma_hat, _ = fit_linear_cell(y, p, q).arma_coefficients()
    reference = ARIMA(y, order=(p, 0, q), trend="n").fit()
    assert np.abs(ar_hat - reference.arparams).max() < 0.05
    assert np.abs(ma_hat - reference.maparams).max() < 0.05
    # and the estimates are close to the truth, so the comparison is not vacuous
    assert np.abs(ar_hat - np.asarray(ar)).max() < 0.15


def test_recovers_arima_coefficients_arma11():
    _recovery_case(1, 1, [0.5], [0.3], 2000)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("p", "q", "ar", "ma"),
    [(1, 1, [-0.6], [0.4]), (2, 1, [0.1, 0.3], [-0.4]), (2, 2, [0.4, -0.2], [0.3, 0.2])],
)
def test_recovers_arima_coefficients(p, q, ar, ma):
    _recovery_case(p, q, ar, ma, 10000)


@pytest.mark.slow
def test_recovers_varmax_coefficients_varma11():
    from statsmodels.tsa.statespace.varmax import VARMAX

    A = np.array([[0.5, 0.1], [-0.2, 0.3]])
    M = np.array([[0.3, 0.0], [0.1, 0.2]])
    y = make_varma_process(A, M, 5000, random_state=0)
    ar_hat, ma_hat, _ = fit_linear_cell(y, 1, 1).arma_coefficients()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = VARMAX(y, order=(1, 1), trend="n").fit(disp=False, maxiter=200)
    assert np.abs(ar_hat[0] - reference.coefficient_matrices_var[0]).max() < 0.05
    assert np.abs(ma_hat[0] - reference.coefficient_matrices_vma[0]).max() < 0.05


@pytest.mark.slow
def test_two_units_each_recover_the_arma22_coefficients():
    """The official repository's two-unit regression test (test_ARMA_2_2_multi_unit).

    One layer with two units, both trained directly against the series (no head), with the
    official protocol: 25 000 steps, innovation sd 2, windows of 10, Adam 1e-3, 100 epochs,
    batches of 200. Each unit is its own ARMA(2, 2) and must land within 0.05 of statsmodels.
    """
    from statsmodels.tsa.arima.model import ARIMA

    y = make_arma_process([0.1, 0.3], [-0.4, -0.2], 25_000, sigma=2.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = ARIMA(y, order=(2, 0, 2), trend="n").fit()
    series = torch.as_tensor(y, dtype=torch.float32)[:, None]  # (n, 1)
    window = 10
    index = torch.arange(len(y) - window)[:, None] + torch.arange(window)
    X, target = series[index], series[window:]  # (N, 10, 1), (N, 1)
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = ARMACell(1, ARMACellParams(p=2, q=2, units=2, use_bias=False))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(100):
        for batch in torch.randperm(len(X), generator=generator).split(200):
            forecast = model(X[batch])[:, -1]  # (B, 2): one forecast per unit
            loss = (forecast - target[batch]).square().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    for unit in range(2):
        ar_hat, ma_hat, _ = model.arma_coefficients(unit=unit)
        assert np.abs(ar_hat - reference.arparams).max() < 0.05
        assert np.abs(ma_hat - reference.maparams).max() < 0.05
