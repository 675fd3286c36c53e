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

Deviations: none in the cell. :class:`ConvARMANet`, the registered backbone ``"conv_arma"``
(input kind ``"frames"``), adds the paper's benchmark head (a
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

from seqestim.nn._params import param, parameter_group
from seqestim.nn._registry import register_model

__all__ = ["ConvARMA", "ConvARMANet", "ConvARMAParams", "SpatialDiffs"]

_PAPER = (
    "Schiele, Berninger & Rügamer (2022). ARMA Cell: A Modular and Effective Approach for "
    "Neural Autoregressive Modeling. arXiv:2208.14919."
)
_URL = "https://arxiv.org/abs/2208.14919"

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
        steps = drive.unbind(1)  # L x (B, U, H, W); indexing would make the backward O(L²)
        outputs = []
        for t in range(L):
            y_t = self.activation(steps[t] + F.conv2d(history, ma_weight, padding=self.padding))
            history = torch.cat([y_t, history[:, : (q - 1) * U]], dim=1)
            outputs.append(y_t)
        return torch.stack(outputs, dim=1)  # (B, L, units, H, W)


@parameter_group
class ConvARMAParams:
    """Hyperparameters of the :class:`ConvARMANet` backbone (Schiele, Berninger & Rügamer 2022)."""

    p: int = param(1, "Autoregressive order: past frames each ConvARMA step reads.")
    q: int = param(3, "Moving-average order: past outputs of the cell each step reads.")
    units: int = param(16, "Feature maps (output channels) of each ConvARMA cell.")
    kernel_size: int = param(
        3,
        """
        Odd spatial kernel size of every convolution of the cells ("same" padding); it bounds
        how far (in pixels) an object may move per frame and still be tracked by one layer.
        """,
        kind="int or tuple of int",
    )
    activation: str = param(
        "relu", "Non-linearity of the cell output.", kind='{"relu", "tanh", "sigmoid", "linear"}'
    )
    n_layers: int = param(
        1, "Stacked ConvARMA cells; each later one reads the previous one's outputs as its frames."
    )
    use_bias: bool = param(True, "Whether the convolutions of the cells have biases.")
    spatial_diffs: int = param(
        0,
        """
        Shift of the paper's :class:`SpatialDiffs` pre-processing (frame concatenated with its
        differences to the frame shifted by this many pixels); 0 disables it.
        """,
    )
    output_activation: str = param(
        "sigmoid",
        """
        Non-linearity of the head: "sigmoid" for frames in ``[0, 1]`` (the paper trains it with
        binary cross-entropy), "linear" for unbounded frames.
        """,
        kind='{"sigmoid", "linear"}',
    )
    head_kernel_size: int = param(
        3, "Kernel size of the head convolution back to the frame's channels."
    )


class ConvARMA(nn.Module):
    """Stack of ConvARMA cells: ``(B, L, C, H, W) -> (B, L, units, H, W)``.

    Reads the cell fields of its parameters (``p``, ``q``, ``units``, ``kernel_size``,
    ``activation``, ``n_layers``, ``use_bias``); the others belong to :class:`ConvARMANet`.

    Parameters
    ----------
    d_input : int
        Channels ``C`` of the input frames.
    params : ConvARMAParams, optional
        The hyperparameters; ``ConvARMAParams()`` when omitted.
    """

    def __init__(self, d_input: int, params: ConvARMAParams | None = None):
        super().__init__()
        params = ConvARMAParams() if params is None else params
        p, q, units, n_layers = params.p, params.q, params.units, params.n_layers
        if p < 1 or q < 0 or units < 1 or n_layers < 1:
            raise ValueError("Need p >= 1, q >= 0, units >= 1 and n_layers >= 1.")
        if params.activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}, got {params.activation!r}."
            )
        self.layers = nn.ModuleList()
        channels = d_input
        for _ in range(n_layers):
            self.layers.append(
                _ConvARMALayer(
                    channels, p, q, units, params.kernel_size, params.activation, params.use_bias
                )
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


@register_model(
    "conv_arma",
    params=ConvARMAParams,
    paper=_PAPER,
    url=_URL,
    inputs=("frames",),
    causal=True,
    test_params=(
        {"p": 1, "q": 1, "units": 2, "kernel_size": 3},
        {
            "p": 2,
            "q": 2,
            "units": 3,
            "kernel_size": 3,
            "activation": "tanh",
            "n_layers": 2,
            "spatial_diffs": 1,
            "output_activation": "linear",
        },
    ),
    description="ARMA cell with 2-D convolutions: next-frame prediction for image series",
)
class ConvARMANet(nn.Module):
    """ConvARMA + convolutional head predicting the next frame at every step.

    The paper's frame-prediction model: optional :class:`SpatialDiffs`, a ConvARMA stack, and a
    convolution back to the frame's channels (sigmoid output for frames in [0, 1], trained
    with binary cross-entropy). Output step ``t`` predicts frame ``t + 1``.

    Parameters
    ----------
    d_input : int
        Channels ``C`` of the input frames (and of the predicted ones).
    params : ConvARMAParams, optional
        The hyperparameters; ``ConvARMAParams()`` when omitted.

    Attributes
    ----------
    d_output : int
        Channels of each predicted frame, ``d_input``.
    """

    def __init__(self, d_input: int, params: ConvARMAParams | None = None):
        super().__init__()
        params = ConvARMAParams() if params is None else params
        self.params = params
        self.diffs = SpatialDiffs(params.spatial_diffs) if params.spatial_diffs else None
        channels = d_input * (5 if params.spatial_diffs else 1)
        self.arma = ConvARMA(channels, params)
        k = params.head_kernel_size
        self.head = nn.Conv2d(self.arma.d_output, d_input, k, padding=k // 2)
        if params.output_activation not in ("sigmoid", "linear"):
            raise ValueError(
                "output_activation must be 'sigmoid' or 'linear', got "
                f"{params.output_activation!r}."
            )
        self.output_activation = params.output_activation
        self.d_output = d_input

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, L, C, H, W) -> next-frame predictions (B, L, C, H, W).

        The network is causal and padding comes after the real steps, so ``mask`` needs no
        handling.
        """
        if self.diffs is not None:
            x = self.diffs(x)  # (B, L, 5 C, H, W)
        h = self.arma(x)  # (B, L, units, H, W)
        B, L = h.shape[:2]
        out = self.head(h.flatten(0, 1))  # (B L, C, H, W)
        out = out.view(B, L, *out.shape[1:])
        return torch.sigmoid(out) if self.output_activation == "sigmoid" else out
