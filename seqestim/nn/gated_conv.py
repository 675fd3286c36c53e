"""Gated convolutional network (GCNN): causal convolutions with gated linear units.

Reference
---------
Y. N. Dauphin, A. Fan, M. Auli, D. Grangier. "Language Modeling with Gated Convolutional
Networks." ICML 2017, arXiv:1612.08083.

Computation (channels-first inside, ``h`` is ``(B, C, L)``)

- Gated linear unit, eq. (1) of the paper: a causal convolution produces twice the output
  channels, split into halves ``a`` and ``b``::

      h_l(X) = (X * W + b) ⊙ σ(X * V + c) = a ⊙ σ(b)

  Causality by zero padding: the kernel of width ``k`` reads the ``k - 1`` steps before ``t``
  and ``t`` itself, so output ``t`` never sees a step after ``t``.
- Stack: an input layer (a GLU convolution from ``d_input`` to ``d_model`` channels), then
  ``n_blocks`` residual blocks ``h = h + block(h)`` (section 3 of the paper: "we wrap the
  convolution and the gated linear unit in a pre-activation residual block that adds the input
  of the block to the output"). A plain block is two GLU convolutions of width ``k``; a
  *bottleneck* block (``bottleneck=True``) is a GLU 1x1 convolution down to ``d_bottleneck``
  channels, a GLU convolution of width ``k`` and a GLU 1x1 convolution back up to
  ``d_model``, the paper's bottleneck structure for its larger models.
- Context: every convolution of width ``k`` adds ``k - 1`` steps, so the output at ``t`` reads
  steps ``t - R + 1 .. t`` with ``R = 1 + (k - 1) (1 + n_wide)``, where ``n_wide`` is the number
  of width-``k`` convolutions in the blocks (``2 n_blocks`` plain, ``n_blocks`` bottleneck).
  ``receptive_field`` holds it.
- Weight normalisation on every convolution (Salimans & Kingma 2016; the paper credits it,
  with gradient clipping, for fast convergence): ``W = g v / ||v||`` per output channel.

Carrying the state across calls
    The network's state is its receptive field: the last ``k - 1`` inputs of every convolution.
    ``forward_with_state`` pads each convolution on the left with those inputs instead of
    zeros, so a sequence read in chunks (or one step at a time) gives the outputs of one pass
    over the whole sequence; the initial state is zeros, which is the paper's zero padding.

Deviations from the paper
- Initialisation: ``v`` is drawn from N(0, 2 / (k C_in)) (He et al.'s initialisation, which
  the paper names) and ``g = ||v||``, so the initial kernel is He's; biases start at 0.
- Dropout (not used by the paper's reported models; fairseq's reimplementation uses 0.2) is
  applied to the input of every convolution when ``dropout > 0``.
- The optimiser is the estimators' (Adam by default) rather than Nesterov momentum 0.99 with a
  learning rate near 1; the paper's gradient clipping at norm 0.1 is the language model's
  default.
- Residual blocks have a fixed layout (two convolutions, or the bottleneck triplet) and a
  single width ``d_model``, rather than the per-layer widths of the paper's tables.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from seqestim.nn._contract import mask_to_lengths
from seqestim.nn._params import param, parameter_group
from seqestim.nn._registry import register_model

__all__ = ["GLUConv", "GatedConv", "GatedConvParams", "glu"]

_PAPER = (
    "Dauphin, Fan, Auli & Grangier (2017). Language Modeling with Gated Convolutional "
    "Networks. ICML 2017, arXiv:1612.08083."
)
_URL = "https://arxiv.org/abs/1612.08083"


def glu(h: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """Gated linear unit: split ``h`` in halves ``a, b`` along ``dim`` and return ``a ⊙ σ(b)``."""
    a, b = h.chunk(2, dim=dim)
    return a * torch.sigmoid(b)


class GLUConv(nn.Module):
    """A weight-normalised causal convolution followed by a gated linear unit, eq. (1).

    Parameters
    ----------
    c_in, c_out : int
        Input channels and output channels (after the gate; the convolution makes ``2 c_out``).
    kernel_size : int
        Width ``k`` of the kernel; output ``t`` reads inputs ``t - k + 1 .. t``.
    dropout : float
        Dropout on the input of the convolution.
    """

    def __init__(self, c_in: int, c_out: int, kernel_size: int, dropout: float):
        super().__init__()
        self.kernel_size = kernel_size
        std = math.sqrt(2.0 / (kernel_size * c_in))  # He et al.'s initialisation
        self.weight_v = nn.Parameter(torch.randn(2 * c_out, c_in, kernel_size) * std)
        self.weight_g = nn.Parameter(self.weight_v.detach().flatten(1).norm(dim=1))  # (2C_out,)
        self.bias = nn.Parameter(torch.zeros(2 * c_out))
        self.dropout = nn.Dropout(dropout)

    def weight(self) -> torch.Tensor:
        """The normalised kernel ``g v / ||v||``, ``(2 C_out, C_in, k)``."""
        norm = self.weight_v.flatten(1).norm(dim=1).clamp(min=1e-12)  # (2C_out,)
        return self.weight_v * (self.weight_g / norm).view(-1, 1, 1)

    def init_state(self, batch_size: int, device=None) -> torch.Tensor:
        """Zero left context ``(B, C_in, k - 1)``: the paper's zero padding."""
        c_in = self.weight_v.shape[1]
        return self.weight_v.new_zeros(batch_size, c_in, self.kernel_size - 1, device=device)

    def forward(self, h: torch.Tensor, context: torch.Tensor, lengths: torch.Tensor):
        """``h`` (B, C_in, L) after ``context`` (B, C_in, k - 1) -> (B, C_out, L), new context.

        The new context holds the ``k - 1`` inputs up to the last real step of each row
        (``lengths`` (B,) real steps).
        """
        padded = torch.cat([context, self.dropout(h)], dim=2)  # (B, C_in, k - 1 + L)
        out = glu(F.conv1d(padded, self.weight(), self.bias), dim=1)  # (B, C_out, L)
        if self.kernel_size == 1:
            return out, context
        # the last k - 1 real inputs of row b sit at padded positions len_b .. len_b + k - 2
        index = lengths.view(-1, 1) + torch.arange(self.kernel_size - 1, device=h.device)
        index = index.unsqueeze(1).expand(-1, padded.shape[1], -1)  # (B, C_in, k - 1)
        return out, padded.gather(2, index)


class _Block(nn.Module):
    """A residual block ``h + block(h)``: two GLU convolutions, or the bottleneck triplet."""

    def __init__(self, d_model, kernel_size, bottleneck, d_bottleneck, dropout):
        super().__init__()
        if bottleneck:
            widths = [(d_model, d_bottleneck, 1), (d_bottleneck, d_bottleneck, kernel_size),
                      (d_bottleneck, d_model, 1)]  # fmt: skip
        else:
            widths = [(d_model, d_model, kernel_size)] * 2
        self.layers = nn.ModuleList(GLUConv(c_in, c_out, k, dropout) for c_in, c_out, k in widths)

    def forward(self, h, contexts, lengths):
        """``h`` (B, d_model, L) and the contexts of its layers -> (B, d_model, L), contexts."""
        out, new = h, []
        for layer, context in zip(self.layers, contexts, strict=True):
            out, context = layer(out, context, lengths)
            new.append(context)
        return h + out, new


@parameter_group
class GatedConvParams:
    """Hyperparameters of the :class:`GatedConv` backbone (Dauphin et al. 2017)."""

    d_model: int = param(128, "Channels of every residual block (after the gates).")
    n_blocks: int = param(
        4, "Number of residual blocks after the input layer (two or three convolutions each)."
    )
    kernel_size: int = param(
        4,
        "Width ``k`` of the causal convolutions; each adds ``k - 1`` steps of context.",
    )
    bottleneck: bool = param(
        False,
        """
        Use the paper's bottleneck blocks (GLU 1x1 down to ``d_bottleneck``, GLU width ``k``,
        GLU 1x1 back up) instead of two width-``k`` convolutions per block.
        """,
    )
    d_bottleneck: int | None = param(
        None,
        "Channels inside a bottleneck block; None means ``d_model // 4``.",
        kind="int or None",
    )
    dropout: float = param(0.0, "Dropout on the input of every convolution.")


@register_model(
    "gated_conv",
    params=GatedConvParams,
    paper=_PAPER,
    url=_URL,
    causal=True,
    supports_step=True,
    carries_state=True,
    test_params=(
        {"d_model": 6, "n_blocks": 2, "kernel_size": 3},
        {"d_model": 8, "n_blocks": 1, "kernel_size": 2, "bottleneck": True, "d_bottleneck": 3},
    ),
    description="gated convolutional network: causal convolutions with gated linear units",
)
class GatedConv(nn.Module):
    """Gated convolutional network of Dauphin et al. (2017): causal GLU convolutions.

    Parameters
    ----------
    d_input : int
        Number of input features (the embedding width in a language model).
    params : GatedConvParams, optional
        The hyperparameters; ``GatedConvParams()`` when omitted.

    Attributes
    ----------
    receptive_field : int
        Number of steps the output at ``t`` reads (``t`` included).
    """

    bidirectional = False
    causal = True
    carries_state = True

    def __init__(self, d_input: int, params: GatedConvParams | None = None):
        super().__init__()
        params = GatedConvParams() if params is None else params
        if params.d_model < 1:
            raise ValueError(f"d_model must be a positive integer, got {params.d_model}.")
        if params.n_blocks < 0:
            raise ValueError(f"n_blocks must be a non-negative integer, got {params.n_blocks}.")
        if params.kernel_size < 1:
            raise ValueError(f"kernel_size must be a positive integer, got {params.kernel_size}.")
        if not 0.0 <= params.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {params.dropout}.")
        d_bottleneck = params.d_bottleneck
        if d_bottleneck is None:
            d_bottleneck = max(1, params.d_model // 4)
        if d_bottleneck < 1:
            raise ValueError(f"d_bottleneck must be None or positive, got {d_bottleneck}.")
        self.params = params
        k = params.kernel_size
        self.input_layer = GLUConv(d_input, params.d_model, k, params.dropout)
        self.blocks = nn.ModuleList(
            _Block(params.d_model, k, params.bottleneck, d_bottleneck, params.dropout)
            for _ in range(params.n_blocks)
        )
        wide = params.n_blocks * (1 if params.bottleneck else 2)
        self.receptive_field = 1 + (k - 1) * (1 + wide)
        self.d_output = params.d_model

    def init_state(self, batch_size: int, device=None) -> list:
        """Zero left context of every convolution: ``[input, [block layers], ...]``."""
        return [
            self.input_layer.init_state(batch_size, device),
            [[layer.init_state(batch_size, device) for layer in b.layers] for b in self.blocks],
        ]

    def forward_with_state(self, x: torch.Tensor, state=None, mask: torch.Tensor | None = None):
        """Continue the sequences from ``state`` (None: zeros), see :mod:`seqestim.nn._contract`.

        ``x`` (B, L, d_input), ``mask`` (B, L) -> (``y`` (B, L, d_model), the last ``k - 1``
        inputs of every convolution up to the last real step of each row).
        """
        B, L, _ = x.shape
        if state is None:
            state = self.init_state(B, device=x.device)
        lengths = mask_to_lengths(mask, B, L, x.device)  # (B,)
        h, input_context = self.input_layer(x.transpose(1, 2), state[0], lengths)  # (B, C, L)
        block_contexts = []
        for block, contexts in zip(self.blocks, state[1], strict=True):
            h, contexts = block(h, contexts, lengths)
            block_contexts.append(contexts)
        y = h.transpose(1, 2)  # (B, L, d_model)
        if mask is not None:  # causal: padding reached only the padded steps; zero them
            y = y.masked_fill(~mask.unsqueeze(-1), 0.0)
        return y, [input_context, block_contexts]

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, L, d_input), ``mask`` (B, L) -> (B, L, d_model)."""
        return self.forward_with_state(x, None, mask)[0]

    def step(self, x_t: torch.Tensor, state):
        """One step: ``x_t`` (B, d_input) -> (``y_t`` (B, d_model), new state)."""
        y, state = self.forward_with_state(x_t.unsqueeze(1), state)
        return y[:, 0], state
