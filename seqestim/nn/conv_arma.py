"""ConvARMA: the ARMA cell with convolutions, for series of images (spatio-temporal data).

Reference
---------
P. Schiele, C. Berninger, D. Rügamer. "ARMA Cell: A Modular and Effective Approach for Neural
Autoregressive Modeling." arXiv:2208.14919 (2022), the ConvARMA section; official code
``armacell/conv_arma.py`` in github.com/phschiele/armacell.

Recurrence for a series of ``C``-channel ``H x W`` frames ``X_t`` (``*`` = 2-D convolution with
"same" padding, ``⊙`` = per-channel scaling)::

    Y_t = σ( Σ_{i=1..p} α_i ⊙ (K_i * X_{t-i} + c_i) + Σ_{m=1..q} δ_m ⊙ (R_m * Y_{t-m} + d_m) + b )

with a kernel ``K_i`` (C -> units) per AR lag, a kernel ``R_m`` (units -> units) per MA lag,
per-lag per-channel scalars ``α ∈ R^{units x p}``, ``δ ∈ R^{units x q}``, and ``Y`` the cell's own
past outputs (zeros before the start). Unlike the 1-D ARMA cell there is no residual
``Ŷ - Y`` correction: the output has ``units`` channels, not the input's.

Sequence form (as :mod:`seqestim.nn.arma_cell`): the input at step ``t`` is the frame ``x_t``,
the output at step ``t`` is computed from ``x_t, ..., x_{t-p+1}`` and the cell's outputs
``t-1, ..., t-q`` — the features from which the next frame is predicted. Shapes are
``(B, L, C, H, W)`` in and ``(B, L, units, H, W)`` out, channels first as in torch.

Implementation: the scalars are folded into the kernels (``α_i ⊙ (K_i * X) = (α_i K_i) * X``),
so the AR part of all steps is one convolution over the stacked lag frames, and each MA step
one convolution over the stacked past outputs. The biases ``c_i``, ``d_m``, ``b`` only ever
appear summed, so they are kept as given and summed in the forward pass (same function, same
gradients as the paper's form).

Deviations: none in the cell. :class:`ConvARMANet` adds the paper's benchmark head (a
convolution to the frame's channels with a sigmoid, trained with binary cross-entropy) and
the optional ``SpatialDiffs`` pre-processing of the benchmarks (the frame concatenated with
its differences to the frame shifted by ``±shift`` pixels along H and W, out-of-range zero).
Kernels start Glorot-uniform as in the official code; the per-lag scalars start at one
(an assumption: the official initialiser of these scalars was not checked) and biases at zero.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ConvARMA", "ConvARMANet", "SpatialDiffs"]

_ACTIVATIONS = {"linear": nn.Identity, "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def _glorot_(weight: torch.Tensor) -> torch.Tensor:
    # Keras' glorot_uniform per lag kernel (..., out, in, kh, kw): fans include the receptive field
    receptive = weight.shape[-1] * weight.shape[-2]
    fan_in, fan_out = weight.shape[-3] * receptive, weight.shape[-4] * receptive
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return nn.init.uniform_(weight, -limit, limit)


class SpatialDiffs(nn.Module):
    """Concatenate a frame with its differences to 4 shifted copies: ``C -> 5 C`` channels.

    Parameters
    ----------
    shift : int, default=5
        Pixels shifted along H and W (both directions); shifted-in pixels are zero.
    """

    def __init__(self, shift: int = 5):
        super().__init__()
        if shift < 1:
            raise ValueError(f"shift must be >= 1, got {shift}.")
        self.shift = int(shift)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (..., C, H, W) -> (..., 5 C, H, W)."""
        s = self.shift
        shifted = []
        for dim, amount in ((-2, s), (-2, -s), (-1, s), (-1, -s)):
            moved = torch.roll(x, shifts=amount, dims=dim)
            index = torch.arange(x.shape[dim], device=x.device)
            valid = (index >= amount) if amount > 0 else (index < x.shape[dim] + amount)
            shape = [1] * x.dim()
            shape[dim] = -1
            shifted.append(x - moved * valid.view(shape).to(x.dtype))
        return torch.cat([x, *shifted], dim=-3)


class _ConvARMALayer(nn.Module):
    def __init__(self, channels, p, q, units, kernel_size, activation, use_bias):
        super().__init__()
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        if kh % 2 == 0 or kw % 2 == 0:
            raise ValueError(f"kernel_size must be odd for 'same' padding, got {kernel_size}.")
        self.p, self.q, self.units, self.channels = p, q, units, channels
        self.padding = (kh // 2, kw // 2)
        self.ar_kernel = nn.Parameter(_glorot_(torch.empty(p, units, channels, kh, kw)))  # K_i
        self.ar_scale = nn.Parameter(torch.ones(units, p))  # α
        self.ma_kernel = nn.Parameter(_glorot_(torch.empty(q, units, units, kh, kw)))  # R_m
        self.ma_scale = nn.Parameter(torch.ones(units, q))  # δ
        if use_bias:
            self.ar_bias = nn.Parameter(torch.zeros(p, units))  # c_i
            self.ma_bias = nn.Parameter(torch.zeros(q, units))  # d_m
            self.bias = nn.Parameter(torch.zeros(units))  # b
        else:
            self.register_parameter("ar_bias", None)
            self.register_parameter("ma_bias", None)
            self.register_parameter("bias", None)
        self.activation = _ACTIVATIONS[activation]()

    def _ar_weight(self):
        # (units, p*C, kh, kw): α_i K_i for lag i, lags stacked along input channels
        w = self.ar_kernel * self.ar_scale.t()[:, :, None, None, None]  # (p, units, C, kh, kw)
        return w.permute(1, 0, 2, 3, 4).reshape(self.units, -1, *w.shape[-2:])

    def _ma_weight(self):
        w = self.ma_kernel * self.ma_scale.t()[:, :, None, None, None]  # (q, units, units, kh, kw)
        return w.permute(1, 0, 2, 3, 4).reshape(self.units, -1, *w.shape[-2:])

    def _constant(self):
        if self.bias is None:
            return None
        const = self.bias + (self.ar_scale * self.ar_bias.t()).sum(1)  # b + Σ α_i c_i
        if self.q:
            const = const + (self.ma_scale * self.ma_bias.t()).sum(1)  # + Σ δ_m d_m
        return const  # (units,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, L, C, H, W = x.shape
        p, q, U = self.p, self.q, self.units
        padded = torch.cat([x.new_zeros(B, p - 1, C, H, W), x], dim=1)  # zeros before start
        # lag i of step t is x_{t-i}: stack the p shifted views along channels
        lags = torch.stack([padded[:, p - 1 - i : p - 1 - i + L] for i in range(p)], dim=2)
        lags = lags.reshape(B * L, p * C, H, W)
        drive = F.conv2d(lags, self._ar_weight(), self._constant(), padding=self.padding)
        drive = drive.view(B, L, U, H, W)
        if q == 0:
            return self.activation(drive)
        ma_weight = self._ma_weight()
        history = x.new_zeros(B, q * U, H, W)  # Y_{t-1}, ..., Y_{t-q}
        outputs = []
        for t in range(L):
            y_t = self.activation(drive[:, t] + F.conv2d(history, ma_weight, padding=self.padding))
            history = torch.cat([y_t, history[:, : (q - 1) * U]], dim=1)
            outputs.append(y_t)
        return torch.stack(outputs, dim=1)  # (B, L, units, H, W)


class ConvARMA(nn.Module):
    """Stack of ConvARMA cells: ``(B, L, C, H, W) -> (B, L, units, H, W)``.

    Parameters
    ----------
    d_input : int
        Channels ``C`` of the input frames.
    p : int, default=1
        Autoregressive order (past frames seen by each step).
    q : int, default=3
        Moving-average order (past outputs of the cell seen by each step).
    units : int, default=16
        Output channels of each cell.
    kernel_size : int or tuple of int, default=3
        Odd spatial kernel size of every convolution ("same" padding).
    activation : {"relu", "tanh", "sigmoid", "linear"}, default="relu"
        Non-linearity of the cell output.
    n_layers : int, default=1
        Stacked cells; each later one reads the previous one's outputs as its frames.
    use_bias : bool, default=True
        Whether the convolutions have biases.
    """

    def __init__(
        self,
        d_input: int,
        *,
        p: int = 1,
        q: int = 3,
        units: int = 16,
        kernel_size=3,
        activation: str = "relu",
        n_layers: int = 1,
        use_bias: bool = True,
    ):
        super().__init__()
        if p < 1 or q < 0 or units < 1 or n_layers < 1:
            raise ValueError("Need p >= 1, q >= 0, units >= 1 and n_layers >= 1.")
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}."
            )
        self.layers = nn.ModuleList()
        channels = d_input
        for _ in range(n_layers):
            self.layers.append(
                _ConvARMALayer(channels, p, q, units, kernel_size, activation, use_bias)
            )
            channels = units
        self.d_output = units

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, L, C, H, W) -> (B, L, units, H, W); causal, so ``mask`` needs no handling."""
        if x.dim() != 5:
            raise ValueError(
                f"ConvARMA expects (batch, time, channels, H, W) input, got {tuple(x.shape)}."
            )
        h = x
        for layer in self.layers:
            h = layer(h)
        return h


class ConvARMANet(nn.Module):
    """ConvARMA + convolutional head predicting the next frame at every step.

    The paper's frame-prediction model: optional :class:`SpatialDiffs`, a ConvARMA stack, and a
    convolution back to the frame's channels (sigmoid output for frames in [0, 1], trained
    with binary cross-entropy). Output step ``t`` predicts frame ``t + 1``.

    Parameters
    ----------
    d_input : int
        Channels of the input frames.
    n_outputs : int or None, default=None
        Channels of the predicted frame; None means ``d_input``.
    spatial_diffs : int, default=0
        Shift of the :class:`SpatialDiffs` pre-processing; 0 disables it.
    output_activation : {"sigmoid", "linear"}, default="sigmoid"
        Non-linearity of the head.
    head_kernel_size : int, default=3
        Kernel size of the head convolution.
    p, q, units, kernel_size, activation, n_layers, use_bias
        Passed to :class:`ConvARMA` (same defaults).
    """

    def __init__(
        self,
        d_input: int,
        *,
        n_outputs: int | None = None,
        spatial_diffs: int = 0,
        output_activation: str = "sigmoid",
        head_kernel_size: int = 3,
        p: int = 1,
        q: int = 3,
        units: int = 16,
        kernel_size=3,
        activation: str = "relu",
        n_layers: int = 1,
        use_bias: bool = True,
    ):
        super().__init__()
        self.diffs = SpatialDiffs(spatial_diffs) if spatial_diffs else None
        channels = d_input * (5 if spatial_diffs else 1)
        self.arma = ConvARMA(
            channels,
            p=p,
            q=q,
            units=units,
            kernel_size=kernel_size,
            activation=activation,
            n_layers=n_layers,
            use_bias=use_bias,
        )
        out = d_input if n_outputs is None else n_outputs
        self.head = nn.Conv2d(
            self.arma.d_output, out, head_kernel_size, padding=head_kernel_size // 2
        )
        if output_activation not in ("sigmoid", "linear"):
            raise ValueError(
                f"output_activation must be 'sigmoid' or 'linear', got {output_activation!r}."
            )
        self.output_activation = output_activation

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, L, C, H, W) -> next-frame predictions (B, L, n_outputs, H, W)."""
        if self.diffs is not None:
            x = self.diffs(x)
        h = self.arma(x)  # (B, L, units, H, W)
        B, L = h.shape[:2]
        out = self.head(h.flatten(0, 1))
        out = out.view(B, L, *out.shape[1:])
        return torch.sigmoid(out) if self.output_activation == "sigmoid" else out
