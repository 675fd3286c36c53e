"""The ARMA cell: a recurrent cell that is a (V)ARMA one-step predictor, and its deep stack.

Reference
---------
P. Schiele, C. Berninger, D. Rügamer. "ARMA Cell: A Modular and Effective Approach for Neural
Autoregressive Modeling." arXiv:2208.14919 (2022). Official code: github.com/phschiele/armacell.

Recurrence (row-vector form, ``k`` series, unit ``j = 1..units``)::

    ŷ_t^(j) = σ( Σ_{i=1..p} y_{t-i} W_{i,j}  +  Σ_{m=1..q} r_{t-m}^(j) U_{m,j}  +  b^(j) )
    r_{t-m}^(j) = ŷ_{t-m}^(j)                if m <= p
                = ŷ_{t-m}^(j) - y_{t-m}      if m >  p   (lags the AR part does not cover)

with full ``k x k`` matrices ``W_{i,j}`` (AR) and ``U_{m,j}`` (MA) — a VARMA model for
``k > 1`` — and the cell's state being its own last ``q`` outputs per unit (zeros at the start).
The output concatenates the units series-major: index ``c * units + j`` for series ``c``.

For the linear single-unit cell this is a reparameterisation of the classical one-step ARMA
predictor ``ŷ_t = c + Σ β_i y_{t-i} + Σ γ_m (y_{t-m} - ŷ_{t-m})``; the paper's restore formula
(:func:`restore_arma_parameters`) gives ``γ_m = -U_m`` and ``β_i = W_i + U_i`` for
``i <= min(p, q)``, ``β_i = W_i`` otherwise.

Sequence form used here (the backbone contract of :mod:`seqestim.nn._contract`): the input at
step ``t`` is the observation ``x_t`` and the output at step ``t`` is the forecast of
``x_{t+1}`` from ``x_t, x_{t-1}, ...`` — the paper's lag window ``X_t[:, i] = y_{t-1-i}`` is
built internally by shifting, so no future value ever enters (pitfall 3 of the notes). Inputs
before the first step are zeros, like the MA state.

Deep ARMA (``n_layers > 1``): the paper stacks cells by returning each step's lag window of
outputs (``return_lags=True``) as the next cell's lag input. In sequence form this is the same
as feeding layer ``l``'s output sequence to layer ``l + 1``, which builds its own lags from it
(lag 1 of layer ``l + 1`` at step ``t`` is layer ``l``'s output at step ``t``). Layer ``l + 1``
models ``k_l * units`` series, so the width grows by ``units`` per layer, as in the paper.

Deviations from the official code, all deliberate:

- ``use_bias`` defaults to True (the Keras layer's default is False, but the paper's models
  use a bias and the estimators work on standardised data where it costs nothing).
- Each stacked layer uses the same ``p``, ``q``, ``units`` and ``activation``; the paper's
  tuner allowed a different unit count per layer.
- The lags of the first steps of a window are zeros rather than real past values; the
  forecasters feed windows long enough that this only shortens the warm-up the paper already
  truncates (its MA state also restarts at zero in every window of 10 steps).

In the estimators: a linear one-layer cell declares ``forecasts_next_step``, so that for
one-step forecasting of the series alone :class:`~seqestim.nn.heads.SequenceNet` puts no head on
it (the cell's output is the forecast, as in the paper's linear models), and
:meth:`ARMACell.fitted_attributes` hands its classical coefficients to the estimator, which
maps them back to the units of the data. The forecaster defaults to ``horizon=1``: longer
forecasts are recursive, with the cell itself.

Weights start uniform in ``±0.05`` (Keras' ``"uniform"`` initializer of the official code);
biases at zero. The AR part and the MA lags beyond ``p`` depend only on inputs, so they are
computed for all steps in one product; only ``Σ ŷ U`` loops over time.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from seqestim.nn._params import param, parameter_group
from seqestim.nn._registry import register_model

__all__ = ["ARMACell", "ARMACellParams", "ARMALayer", "restore_arma_parameters"]

_PAPER = (
    "Schiele, Berninger & Rügamer (2022). ARMA Cell: A Modular and Effective Approach for "
    "Neural Autoregressive Modeling. arXiv:2208.14919."
)
_URL = "https://arxiv.org/abs/2208.14919"

_ACTIVATIONS = {
    "linear": nn.Identity,
    "identity": nn.Identity,
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


def _lag_windows(x: torch.Tensor, n_lags: int) -> torch.Tensor:
    """``lags[:, t, i] = x[:, t - i]`` for ``i < n_lags``, zeros before the start.

    ``x`` is (B, L, k); the result is (B, L, n_lags, k).
    """
    B, _, k = x.shape
    padded = torch.cat([x.new_zeros(B, n_lags - 1, k), x], dim=1)  # (B, L + n_lags - 1, k)
    windows = padded.unfold(1, n_lags, 1)  # (B, L, k, n_lags), oldest lag last
    return windows.flip(-1).transpose(2, 3)  # (B, L, n_lags, k), lag 0 first


def restore_arma_parameters(ar_kernel, ma_kernel, p: int, q: int):
    """Classical (V)ARMA coefficients from the ARMA cell's kernels (the paper's restore formula).

    Parameters
    ----------
    ar_kernel : array-like of shape (p, k, k)
        ``W_i`` in row-vector form (``y_{t-i} @ W_i``).
    ma_kernel : array-like of shape (q, k, k)
        ``U_m`` in row-vector form.
    p, q : int
        Orders.

    Returns
    -------
    ar : ndarray of shape (p, k, k)
        ``A_i`` in column form, ``y_t = Σ A_i y_{t-i} + ε_t + Σ M_m ε_{t-m}`` (statsmodels'
        ``ARIMA``/``VARMAX`` convention): ``A_i = (W_i + U_i)ᵀ`` for ``i <= min(p, q)``,
        ``W_iᵀ`` otherwise.
    ma : ndarray of shape (q, k, k)
        ``M_m = -U_mᵀ``.
    """
    W = np.asarray(ar_kernel, dtype=np.float64)
    U = np.asarray(ma_kernel, dtype=np.float64)
    if W.shape[0] != p or U.shape[0] != q:
        raise ValueError(f"Expected {p} AR and {q} MA kernels, got {W.shape[0]} and {U.shape[0]}.")
    gamma = -U  # γ_m = -U_m
    beta = W.copy()
    shared = min(p, q)
    beta[:shared] = W[:shared] - gamma[:shared]  # β = β̆ - γ on the lags both parts cover
    return beta.transpose(0, 2, 1), gamma.transpose(0, 2, 1)


class ARMALayer(nn.Module):
    """One ARMA cell run over a sequence: ``(B, L, k) -> (B, L, k * units)``.

    Parameters
    ----------
    d_input : int
        Number of series ``k``.
    p, q : int
        AR and MA orders.
    units : int
        Number of independent (V)ARMA heads.
    activation : str
        Output non-linearity ``σ``.
    use_bias : bool
        Whether to add ``b``.
    """

    def __init__(self, d_input: int, p: int, q: int, units: int, activation: str, use_bias: bool):
        super().__init__()
        self.k, self.p, self.q, self.units = d_input, p, q, units
        self.n_lags = max(p, q, 1)
        k = d_input
        # W[i, j] and U[m, j] are k x k matrices applied as y @ W (row-vector form)
        self.ar_kernel = nn.Parameter(torch.empty(p, units, k, k).uniform_(-0.05, 0.05))
        self.ma_kernel = nn.Parameter(torch.empty(q, units, k, k).uniform_(-0.05, 0.05))
        self.bias = nn.Parameter(torch.zeros(units, k)) if use_bias else None
        self.activation = _ACTIVATIONS[activation]()
        self.d_output = k * units

    def _input_part(self, lags: torch.Tensor) -> torch.Tensor:
        """Everything that depends on inputs only: AR sum, residual MA lags > p, bias.

        ``lags`` is (..., n_lags, k) with lag 0 = the latest input; returns (..., units, k).
        """
        out = torch.einsum("...ik,ijkn->...jn", lags[..., : self.p, :], self.ar_kernel)
        if self.q > self.p:
            # the "- y_{t-m}" of the residual MA terms beyond the AR lags
            late = lags[..., self.p : self.q, :]  # (..., q - p, k)
            out = out - torch.einsum("...mk,mjkn->...jn", late, self.ma_kernel[self.p :])
        if self.bias is not None:
            out = out + self.bias
        return out

    def _flat_ma(self) -> torch.Tensor:
        # (units, q * k, k): the MA kernels stacked so that one batched product applies them all
        return self.ma_kernel.permute(1, 0, 2, 3).reshape(self.units, self.q * self.k, self.k)

    def _recur(self, drive: torch.Tensor, history: torch.Tensor) -> torch.Tensor:
        """One step: ``drive`` (B, units, k), ``history`` (B, units, q * k) latest first."""
        pre = drive
        if self.q:
            pre = pre + torch.einsum("bjq,jqn->bjn", history, self._flat_ma())
        return self.activation(pre)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (B, L, k) -> forecasts of the next step (B, L, k * units)."""
        B, L, k = x.shape
        drive = self._input_part(_lag_windows(x, self.n_lags))  # (B, L, units, k)
        history = x.new_zeros(B, self.units, self.q * k)  # ŷ_{t-1}, ..., ŷ_{t-q} per unit
        steps = drive.unbind(1)  # L x (B, units, k); indexing would make the backward O(L²)
        outputs = []
        for t in range(L):
            y_hat = self._recur(steps[t], history)  # (B, units, k)
            if self.q:
                history = torch.cat([y_hat, history[..., : (self.q - 1) * k]], dim=-1)
            outputs.append(y_hat)
        out = torch.stack(outputs, dim=1)  # (B, L, units, k)
        return out.transpose(2, 3).reshape(B, L, k * self.units)  # series-major flattening

    def init_state(self, batch_size: int, device=None, dtype=None):
        """Zero input lags (B, n_lags, k) and zero output history (B, units, q * k)."""
        # default to the parameters' dtype/device so that step() works on a .double() model
        device = self.ar_kernel.device if device is None else device
        dtype = self.ar_kernel.dtype if dtype is None else dtype
        return (
            torch.zeros(batch_size, self.n_lags, self.k, device=device, dtype=dtype),
            torch.zeros(batch_size, self.units, self.q * self.k, device=device, dtype=dtype),
        )

    def step(self, x_t: torch.Tensor, state):
        """One step: ``x_t`` (B, k) -> (forecast (B, k * units), new state)."""
        lags, history = state
        lags = torch.cat([x_t.unsqueeze(1), lags[:, :-1]], dim=1)  # lag 0 = x_t
        y_hat = self._recur(self._input_part(lags), history)  # (B, units, k)
        if self.q:
            history = torch.cat([y_hat, history[..., : (self.q - 1) * self.k]], dim=-1)
        return y_hat.transpose(1, 2).reshape(x_t.shape[0], -1), (lags, history)


@parameter_group
class ARMACellParams:
    """Hyperparameters of the :class:`ARMACell` backbone (Schiele, Berninger & Rügamer 2022)."""

    p: int = param(1, "Autoregressive order: number of past inputs each step sees.")
    q: int = param(
        1,
        """
        Moving-average order: number of the cell's own past forecasts each step sees (lags
        beyond ``p`` enter as residuals ``ŷ - y``).
        """,
    )
    units: int = param(
        1,
        """
        Number of independent (V)ARMA heads per layer; the output width is
        ``d_input * units ** n_layers``.
        """,
    )
    activation: str = param(
        "linear",
        'Non-linearity on each cell\'s output; "linear" gives a classical (V)ARMA predictor.',
        kind='{"linear", "relu", "tanh", "sigmoid"}',
    )
    n_layers: int = param(
        1,
        """
        Number of stacked ARMA cells (the paper's deep ARMA); each layer treats the previous
        layer's outputs as its series.
        """,
    )
    use_bias: bool = param(True, "Whether each cell adds a bias (the intercept of the ARMA model).")


@register_model(
    "arma_cell",
    params=ARMACellParams,
    paper=_PAPER,
    url=_URL,
    causal=True,
    supports_step=True,
    test_params=(
        {"p": 1, "q": 1},
        {"p": 2, "q": 3, "units": 2, "n_layers": 2, "activation": "relu"},
    ),
    description="recurrent cell that is a (V)ARMA predictor over its own past outputs",
)
class ARMACell(nn.Module):
    """Stack of ARMA cells (Schiele et al. 2022): a neural (V)ARMA one-step predictor.

    The output at step ``t`` forecasts the input at step ``t + 1`` from the last ``p`` inputs
    and the cell's own last ``q`` forecasts (see the module docstring for the recurrence).

    Parameters
    ----------
    d_input : int
        Number of input series ``k`` (set by the estimators from the data).
    params : ARMACellParams, optional
        The hyperparameters; ``ARMACellParams()`` when omitted.
    """

    # the recurrence is a Python loop over time: ONNX export runs `step` in an ONNX Loop
    onnx_export = "steps"

    def __init__(self, d_input: int, params: ARMACellParams | None = None):
        super().__init__()
        params = ARMACellParams() if params is None else params
        for name, minimum in (("p", 1), ("q", 0), ("units", 1), ("n_layers", 1)):
            value = getattr(params, name)
            if (
                not isinstance(value, int | np.integer)
                or isinstance(value, bool)
                or value < minimum
            ):
                raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")
        if params.activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}, got {params.activation!r}."
            )
        self.params = params
        self.p, self.q, self.units = int(params.p), int(params.q), int(params.units)
        self.activation = params.activation
        self.layers = nn.ModuleList()
        width = d_input
        for _ in range(int(params.n_layers)):
            layer = ARMALayer(
                width, self.p, self.q, self.units, params.activation, bool(params.use_bias)
            )
            self.layers.append(layer)
            width = layer.d_output
        self.d_output = width

    @property
    def forecasts_next_step(self) -> bool:
        """Whether the output already is the forecast of the next input, in its units.

        True for a linear one-layer cell: :class:`~seqestim.nn.heads.SequenceNet` then uses no
        head for one-step forecasting, so the cell's coefficients are the whole model.
        """
        return len(self.layers) == 1 and self.activation in ("linear", "identity")

    def fitted_attributes(self) -> dict:
        """Classical coefficients of a linear one-layer one-unit cell, else an empty dict.

        Returns ``ar_coefficients_``, ``ma_coefficients_`` and ``intercept_`` as
        :meth:`arma_coefficients` gives them, in the units of the cell's inputs (the estimators
        map them back to the units of the data they scaled). The intercept is a float for a
        single series.
        """
        if not self.forecasts_next_step or self.units != 1:
            return {}
        ar, ma, intercept = self.arma_coefficients()
        return {
            "ar_coefficients_": ar,
            "ma_coefficients_": ma,
            "intercept_": float(intercept[0]) if intercept.shape == (1,) else intercept,
        }

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, L, d_input) -> one-step forecasts (B, L, d_output).

        The model is causal and padding comes after the real steps, so ``mask`` needs no
        handling: outputs at real steps never see padded ones.
        """
        h = x
        for layer in self.layers:
            h = layer(h)
        return h

    def init_state(self, batch_size: int, device=None, dtype=None):
        """Zero states of every layer, for :meth:`step`."""
        return [layer.init_state(batch_size, device, dtype) for layer in self.layers]

    def step(self, x_t: torch.Tensor, state):
        """One step: ``x_t`` (B, d_input) -> (``y_t`` (B, d_output), new state)."""
        new_state = []
        h = x_t
        for layer, layer_state in zip(self.layers, state, strict=True):
            h, layer_state = layer.step(h, layer_state)
            new_state.append(layer_state)
        return h, new_state

    def arma_coefficients(self, unit: int = 0):
        """Classical (V)ARMA coefficients of a linear one-layer cell (the paper's restore formula).

        Parameters
        ----------
        unit : int, default=0
            Which head to read when ``units > 1`` (each is its own ARMA model).

        Returns
        -------
        ar : ndarray
            ``(p,)`` for one series, else ``(p, k, k)`` matrices ``A_i`` in column form.
        ma : ndarray
            ``(q,)`` or ``(q, k, k)``, statsmodels' sign convention
            (``y_t = Σ A_i y_{t-i} + ε_t + Σ M_m ε_{t-m}``).
        intercept : ndarray
            ``(k,)``, the constant ``c`` of the one-step predictor (zeros without bias).

        Raises
        ------
        ValueError
            If the cell is non-linear or stacked, where no classical coefficients exist.
        """
        if len(self.layers) != 1 or self.activation not in ("linear", "identity"):
            raise ValueError(
                "Classical ARMA coefficients exist only for a linear one-layer ARMA cell "
                f"(activation='linear', n_layers=1); this one has activation={self.activation!r}, "
                f"n_layers={len(self.layers)}."
            )
        layer = self.layers[0]
        if not 0 <= unit < layer.units:
            raise ValueError(f"unit must be in [0, {layer.units}), got {unit}.")
        W = layer.ar_kernel[:, unit].detach().cpu().double().numpy()  # (p, k, k)
        U = layer.ma_kernel[:, unit].detach().cpu().double().numpy()  # (q, k, k)
        ar, ma = restore_arma_parameters(W, U, layer.p, layer.q)
        bias = layer.bias
        intercept = (
            np.zeros(layer.k) if bias is None else bias[unit].detach().cpu().double().numpy()
        )
        if layer.k == 1:
            return ar[:, 0, 0], ma[:, 0, 0], intercept
        return ar, ma, intercept
