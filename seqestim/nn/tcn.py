"""TCN: the temporal convolutional network, a stack of causal dilated residual blocks.

Reference
---------
S. Bai, J. Z. Kolter, V. Koltun. "An Empirical Evaluation of Generic Convolutional and Recurrent
Networks for Sequence Modeling." arXiv:1803.01271 (2018). Official code:
https://github.com/locuslab/TCN. It is the causal baseline in the comparison of CDIL-CNN
(Cheng et al. 2023, :mod:`seqestim.nn.cdil`).

Computation (channels-first inside, ``h`` is ``(B, C, L)``; block ``i = 0, 1, ...``)

- Block: *two* weight-normalised causal convolutions (left zero padding of ``(k - 1) d_i``),
  dilation ``d_i = 2**i``, each followed by ReLU and dropout, and a residual connection::

      out = drop(ReLU(conv_2(drop(ReLU(conv_1(h))))))
      h   = ReLU(out + R h)                    # R = identity, or a 1x1 conv if widths differ

  Output step ``t`` reads only steps ``<= t``; a stack of ``m`` blocks reaches
  ``2 (k - 1) (2**m - 1)`` steps back, a receptive field of ``1 + 2 (k - 1) (2**m - 1)``.
- Weight normalisation: ``W = g v / ||v||`` per output channel (:mod:`seqestim.nn._conv`).
- Classification: a causal network summarises the sequence at its last real step, as in
  the comparison of Cheng et al. (2023).

Depth (``n_layers=None``, the default)
    A depth that changed with the length of a sequence would let a later step change earlier
    outputs, so the automatic depth is fixed: the fewest blocks whose receptive field covers
    ``max_len`` steps. An integer ``n_layers`` builds exactly that many blocks.

Implementation notes:

- Ragged batches need no special handling: causal convolutions never look right, so right
  padding can only reach the padded steps, whose outputs are zeroed.
- Initialisation as locuslab/TCN effectively does (see :mod:`seqestim.nn._conv`): ``v`` gets
  PyTorch's default Conv1d initialisation and ``g = ||v||``; the convolution biases keep
  PyTorch's default; the 1x1 projection ~ N(0, 0.01).
- ``dropout`` defaults to 0; Bai et al. use 0 to 0.2 depending on the task.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seqestim.nn._conv import WeightNormConv, coverage_depth, residual_projection
from seqestim.nn._params import param, parameter_group
from seqestim.nn._registry import register_model

__all__ = ["TCN", "TCNParams"]

_PAPER = (
    "Bai, Kolter & Koltun (2018). An Empirical Evaluation of Generic Convolutional and Recurrent "
    "Networks for Sequence Modeling. arXiv:1803.01271 (the baseline of Cheng et al. 2023)."
)
_URL = "https://arxiv.org/abs/1803.01271"


class _TemporalBlock(nn.Module):
    """Bai et al.'s residual block: two causal weight-normed convs, ReLU and dropout after each."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, dilation: int, dropout: float):
        super().__init__()
        self.conv1 = WeightNormConv(c_in, c_out, kernel_size, bias_std=None)
        self.conv2 = WeightNormConv(c_out, c_out, kernel_size, bias_std=None)
        self.proj = residual_projection(c_in, c_out)
        self.dropout = nn.Dropout(dropout)
        self.dilation = dilation
        self.pad = (kernel_size - 1) * dilation  # all on the left: output t reads steps <= t

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """``h`` (B, C_in, L) -> (B, C_out, L)."""
        out = F.conv1d(F.pad(h, (self.pad, 0)), self.conv1.weight(), self.conv1.bias,
                       dilation=self.dilation)  # fmt: skip
        out = self.dropout(F.relu(out))
        out = F.conv1d(F.pad(out, (self.pad, 0)), self.conv2.weight(), self.conv2.bias,
                       dilation=self.dilation)  # fmt: skip
        out = self.dropout(F.relu(out))
        residual = h if self.proj is None else self.proj(h)
        return F.relu(out + residual)


@parameter_group
class TCNParams:
    """Hyperparameters of the :class:`TCN` backbone (Bai, Kolter & Koltun 2018)."""

    d_model: int = param(32, "Channels of every convolution.")
    n_layers: int | None = param(
        None,
        """
        Number of residual blocks (two convolutions each); block ``i`` has dilation ``2**i``.
        None builds the fewest blocks whose receptive field ``1 + 2 (k - 1) (2**m - 1)`` covers
        ``max_len`` steps; the depth is the same for every sequence, so the network stays causal.
        """,
        kind="int or None",
    )
    kernel_size: int = param(3, "Kernel size of the causal convolutions (at least 2).")
    dropout: float = param(
        0.0,
        "Dropout after every ReLU inside a block (Bai et al. use 0 to 0.2 depending on the task).",
    )
    max_len: int = param(
        1024, "Length the automatic depth covers; only used when ``n_layers`` is None."
    )


@register_model(
    "tcn",
    params=TCNParams,
    paper=_PAPER,
    url=_URL,
    causal=True,
    test_params=({"d_model": 6, "n_layers": 2}, {"d_model": 5, "n_layers": 1, "kernel_size": 2}),
    description="temporal convolutional network: causal dilated convolutions (CDIL's baseline)",
)
class TCN(nn.Module):
    """Temporal convolutional network of Bai et al. (2018), the causal baseline of CDIL-CNN.

    The comparison of Cheng et al. (2023) classifies from the features at the last real step.

    Parameters
    ----------
    d_input : int
        Number of input channels (set by the estimators from the data).
    params : TCNParams, optional
        The hyperparameters; ``TCNParams()`` when omitted.
    """

    bidirectional = False

    def __init__(self, d_input: int, params: TCNParams | None = None):
        super().__init__()
        params = TCNParams() if params is None else params
        d_model, n_layers, kernel_size = params.d_model, params.n_layers, params.kernel_size
        dropout, max_len = params.dropout, params.max_len
        if d_model < 1:
            raise ValueError(f"d_model must be a positive integer, got {d_model}.")
        if n_layers is not None and n_layers < 1:
            raise ValueError(f"n_layers must be None or a positive integer, got {n_layers}.")
        if kernel_size < 2:
            raise ValueError(f"kernel_size must be at least 2, got {kernel_size}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
        if max_len < 1:
            raise ValueError(f"max_len must be a positive integer, got {max_len}.")
        self.params = params
        depth = coverage_depth(max_len, kernel_size, "causal") if n_layers is None else n_layers
        self.blocks = nn.ModuleList(
            _TemporalBlock(d_input if i == 0 else d_model, d_model, kernel_size, 2**i, dropout)
            for i in range(depth)
        )
        self.d_output = d_model

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Run the stack: ``x`` (B, L, d_input), ``mask`` (B, L) -> (B, L, d_model).

        Right padding can only influence the padded steps themselves (causality), so the mask
        is only used to zero the padded outputs.
        """
        h = x.transpose(1, 2)  # (B, d_input, L)
        for block in self.blocks:
            h = block(h)  # (B, d_model, L)
        h = h.transpose(1, 2)  # (B, L, d_model)
        if mask is not None:
            h = h.masked_fill(~mask.unsqueeze(-1), 0.0)
        return h
