"""Circular dilated CNN (CDIL-CNN) and its zero-padded ablation, DIL.

Reference
---------
L. Cheng, R. Khalitov, T. Yu, J. Zhang, Z. Yang. "Classification of Long Sequential Data using
Circular Dilated Convolutional Neural Networks." Neurocomputing 518 (2023) 50-59,
arXiv:2201.02143. Official code: https://github.com/LeiCheng-no/CDIL-CNN.
The paper's causal baseline, the TCN of Bai, Kolter & Koltun (2018), is :mod:`seqestim.nn.tcn`.

Computation (channels-first inside, ``h`` is ``(B, C, L)``; block ``i = 0, 1, ...``)

- CDIL block: one weight-normalised convolution with an odd, *symmetric* kernel of size ``k``,
  dilation ``d_i = 2**i`` and circular padding, then ReLU and a residual connection::

      out_t = b + sum_{j=-c..c} W_j h_{(t + j d_i) mod n},     c = (k - 1) / 2
      h     = ReLU(out) + R h                  # R = identity, or a 1x1 conv if widths differ

  where ``n`` is the length of the sequence. Output position ``t`` of a stack of ``m`` blocks
  therefore reads the circular offsets ``sum_i j_i 2**i`` with ``|j_i| <= c``, i.e. every offset
  in ``[-c (2**m - 1), c (2**m - 1)]``: the whole sequence once ``2 c (2**m - 1) + 1 >= n``. For
  ``k = 3`` and ``n = 2**p`` that is ``m = p`` blocks. Each block costs ``O(n)``, and the depth
  grows as ``log n``, hence the paper's ``O(n log n)``.
- Weight normalisation (Salimans & Kingma 2016): ``W = g v / ||v||`` per output channel
  (:mod:`seqestim.nn._conv`).
- DIL ("dilated", the paper's ablation): the same block with zero padding instead of circular
  padding, so positions near the ends see less context.
- Classification: the paper averages the per-position features over the real steps before
  the linear head (its ensemble over positions -- with a linear head the mean of the features
  gives the mean of the per-position logits), for CDIL and DIL alike.
  Consequence worth knowing: CDIL followed by the mean over positions is *invariant* to
  circular shifts of a sequence (the per-position features are shift-equivariant), which suits
  signals whose phase is arbitrary but discards where in the window an event happened.

Depth (``n_layers=None``, the default)
    The paper chooses the depth per data set so that the receptive field covers the sequence.
    A backbone must keep one ``state_dict`` from ``fit`` to ``predict`` although it only sees
    lengths in ``forward``, so CDIL and DIL build the blocks needed for ``max_len`` steps and
    every *sequence* uses the first ``m(n)`` of them, the fewest that cover its own length ``n``
    (blocks beyond are the identity for that row). Depth thus never depends on the padding or on
    the other rows of a batch. The deepest depth used in training is kept in the buffer
    ``trained_depth``; in eval mode the depth is capped there, so a sequence longer than any seen
    in training never goes through untrained blocks (its receptive field is then that of the
    trained depth). Sequences longer than ``max_len`` use all built blocks. An integer
    ``n_layers`` builds and always uses exactly that many blocks.

Deviations from the paper and its code, all deliberate:

- Ragged batches: circular padding over a right-padded batch would wrap the padding into the
  real steps. Here the circular convolution runs within each sequence's own length (the index
  of every tap is taken modulo that length), so a padded sequence gets exactly the features it
  gets alone. DIL zeroes the padded steps before every convolution, which equals zero padding
  each sequence at its own end.
- Dilations are taken modulo the sequence length, so a dilation larger than a sequence (an
  explicit ``n_layers`` on short sequences) is well defined; PyTorch's ``padding_mode=
  "circular"`` refuses to wrap more than once. The automatic depth needs it only when the
  kernel itself is longer than the sequence.
- The automatic depth covers the sequence exactly (``m = 11`` for ``n = 2048``, kernel 3); the
  XOR scripts of the paper use ``log2(n) - 1`` blocks, one fewer, which leaves each position
  blind to the one diametrically opposite. DIL's automatic depth covers the sequence with zero
  padding, ``c (2**m - 1) >= n - 1``, which can be one block more than CDIL's.
- Initialisation follows what the official code *effectively* does (see
  :mod:`seqestim.nn._conv`): ``v`` gets PyTorch's default Conv1d initialisation and
  ``g = ||v||``; convolution biases and the 1x1 projection ~ N(0, 0.01).
- ``dropout`` (default 0) after every ReLU inside a block is a library option; the paper uses
  none. Token inputs (an embedding layer) are not supported: inputs are float.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seqestim.nn._conv import WeightNormConv, coverage_depth, residual_projection
from seqestim.nn._params import param, parameter_group
from seqestim.nn._registry import register_model

__all__ = ["CDIL", "DIL", "DilatedConvParams", "circular_dilated_conv", "coverage_depth"]

_PAPER = (
    "Cheng, Khalitov, Yu, Zhang & Yang (2023). Classification of Long Sequential Data using "
    "Circular Dilated Convolutional Neural Networks. Neurocomputing 518, 50-59."
)
_URL = "https://arxiv.org/abs/2201.02143"


def _depths(lengths: torch.Tensor, kernel_size: int, padding: str) -> torch.Tensor:
    """Vectorised :func:`coverage_depth` over a ``(B,)`` tensor of lengths."""
    c = (kernel_size - 1) // 2
    if padding == "circular":
        target = torch.div(lengths, 2, rounding_mode="floor")  # ceil((n - 1) / 2) = floor(n / 2)
    else:
        target = lengths - 1
    # smallest m >= 1 with c (2**m - 1) >= target, by trying every m up to 62 at once
    m = torch.arange(1, 63, device=lengths.device)  # (M,)
    reach = c * (2**m - 1)  # (M,)
    return 1 + (reach.unsqueeze(0) < target.unsqueeze(1)).sum(dim=1)  # (B,)


def circular_dilated_conv(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    dilation: int,
    lengths: torch.Tensor | None = None,
) -> torch.Tensor:
    """Symmetric dilated convolution with circular padding, within each sequence's own length.

    Parameters
    ----------
    x : torch.Tensor
        ``(B, C_in, L)``.
    weight : torch.Tensor
        ``(C_out, C_in, k)``, ``k`` odd; tap ``j`` reads offset ``(j - (k - 1) / 2) * dilation``.
    bias : torch.Tensor or None
        ``(C_out,)``.
    dilation : int
        Dilation, any positive integer (taken modulo the length).
    lengths : torch.Tensor, optional
        ``(B,)`` real length of every row (right padding). Row ``b`` is convolved as the circle
        of its first ``lengths[b]`` steps; its padded outputs are zero. None = all ``L``.

    Returns
    -------
    torch.Tensor
        ``(B, C_out, L)``.
    """
    B, C, L = x.shape
    k = weight.shape[-1]
    c = (k - 1) // 2
    if lengths is None:
        d = dilation % L
        if d == 0:  # every tap reads the same step: a 1x1 convolution with the summed kernel
            return F.conv1d(x, weight.sum(dim=-1, keepdim=True), bias)
        pad = c * d
        if pad <= L:
            x_pad = F.pad(x, (pad, pad), mode="circular")  # (B, C, L + 2 pad)
        else:  # wrap more than once: index modulo L
            index = torch.arange(-pad, L + pad, device=x.device) % L
            x_pad = x[:, :, index]
        return F.conv1d(x_pad, weight, bias, dilation=d)
    # Ragged: gather every tap with its own per-row modulo index, then one batched product.
    n = lengths.clamp(min=1).view(B, 1, 1)  # (B, 1, 1)
    steps = torch.arange(L, device=x.device).view(1, 1, L)  # (1, 1, L)
    offsets = (torch.arange(k, device=x.device) - c).view(1, k, 1) * dilation  # (1, k, 1)
    index = torch.remainder(steps + offsets, n)  # (B, k, L)
    index = torch.where(steps < n, index, steps)  # padded outputs read themselves (zeroed below)
    taps = x.gather(2, index.view(B, 1, k * L).expand(B, C, k * L)).view(B, C, k, L)
    out = torch.einsum("oik,bikl->bol", weight, taps)  # (B, C_out, L)
    if bias is not None:
        out = out + bias.view(1, -1, 1)
    return out.masked_fill(~(steps.view(1, 1, L) < n), 0.0)


class _SymmetricBlock(nn.Module):
    """One CDIL/DIL block: weight-normed symmetric dilated conv, ReLU, dropout, residual."""

    def __init__(
        self, c_in: int, c_out: int, kernel_size: int, dilation: int, padding: str, dropout: float
    ):
        super().__init__()
        self.conv = WeightNormConv(c_in, c_out, kernel_size)
        self.proj = residual_projection(c_in, c_out)
        self.dropout = nn.Dropout(dropout)
        self.dilation = dilation
        self.padding = padding

    def forward(self, h: torch.Tensor, lengths: torch.Tensor | None, real: torch.Tensor | None):
        """``h`` (B, C_in, L) -> (B, C_out, L); ``real`` (B, 1, L) marks real steps or is None."""
        weight = self.conv.weight()
        if self.padding == "circular":
            out = circular_dilated_conv(h, weight, self.conv.bias, self.dilation, lengths)
        else:
            if real is not None:  # zero padding at each row's own end = zeroed padded steps
                h = h.masked_fill(~real, 0.0)
            pad = self.dilation * (weight.shape[-1] - 1) // 2
            out = F.conv1d(h, weight, self.conv.bias, padding=pad, dilation=self.dilation)
        out = self.dropout(F.relu(out))
        residual = h if self.proj is None else self.proj(h)  # pointwise: no mixing of steps
        return out + residual


@parameter_group
class DilatedConvParams:
    """Hyperparameters of the :class:`CDIL` and :class:`DIL` backbones (Cheng et al. 2023)."""

    d_model: int = param(
        32, "Channels of every convolution (the paper's hidden size for time series and XOR)."
    )
    n_layers: int | None = param(
        None,
        """
        Number of blocks; block ``i`` has dilation ``2**i``. None chooses, for every sequence,
        the fewest blocks ``m`` whose receptive field covers its length ``n``, building enough
        blocks for ``max_len`` steps (see the module docstring): around the circle for CDIL,
        ``2 c (2**m - 1) + 1 >= n``; up to both ends with zero padding for DIL,
        ``c (2**m - 1) >= n - 1``; ``c = (kernel_size - 1) / 2``.
        """,
        kind="int or None",
    )
    kernel_size: int = param(3, "Odd, symmetric kernel size.")
    dropout: float = param(0.0, "Dropout after every ReLU (the paper uses none).")
    max_len: int = param(
        4096,
        """
        Longest sequence the automatic depth covers; only used when ``n_layers`` is None.
        Longer sequences use all built blocks.
        """,
    )


class _SymmetricDilatedNet(nn.Module):
    """Shared CDIL/DIL stack with the per-sequence automatic depth (module docstring)."""

    padding = "circular"
    bidirectional = False

    def __init__(self, d_input: int, params: DilatedConvParams | None = None):
        super().__init__()
        params = DilatedConvParams() if params is None else params
        d_model, n_layers, kernel_size = params.d_model, params.n_layers, params.kernel_size
        dropout, max_len = params.dropout, params.max_len
        if d_model < 1:
            raise ValueError(f"d_model must be a positive integer, got {d_model}.")
        if n_layers is not None and n_layers < 1:
            raise ValueError(f"n_layers must be None or a positive integer, got {n_layers}.")
        if kernel_size < 3 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and >= 3 (symmetric), got {kernel_size}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
        if max_len < 1:
            raise ValueError(f"max_len must be a positive integer, got {max_len}.")
        self.params = params
        self.automatic = n_layers is None
        self.kernel_size = kernel_size
        depth = coverage_depth(max_len, kernel_size, self.padding) if self.automatic else n_layers
        self.blocks = nn.ModuleList(
            _SymmetricBlock(
                d_input if i == 0 else d_model, d_model, kernel_size, 2**i, self.padding, dropout
            )
            for i in range(depth)
        )
        # deepest automatic depth used in training; caps the depth in eval mode (0 = none yet)
        self.register_buffer("trained_depth", torch.zeros((), dtype=torch.long))
        self.d_output = d_model

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Run the stack: ``x`` (B, L, d_input), ``mask`` (B, L) -> (B, L, d_model)."""
        L = x.shape[1]
        tracing = torch.jit.is_tracing()
        if mask is not None and not tracing and bool(mask.all()):
            mask = None  # every row is full: the fast (PyTorch convolution) path is exact
        lengths = None if mask is None else mask.long().sum(dim=1)  # (B,)
        if tracing and lengths is None and self.padding == "circular":
            # A traced graph (ONNX export) must serve every length: the circular taps are then
            # gathered by index modulo a length computed from the input, not padded by a
            # length frozen at trace time.
            lengths = torch.ones_like(x[:, :, 0]).sum(dim=1).long()  # (B,)
        real = None if mask is None else mask.unsqueeze(1)  # (B, 1, L)
        n_built = len(self.blocks)
        if self.automatic:
            depth = _depths(
                lengths if lengths is not None else torch.full((1,), L, device=x.device),
                self.kernel_size,
                self.padding,
            ).clamp(max=n_built)  # (B,) or (1,)
            if self.training:
                used = depth.max().view(())
                self.trained_depth.copy_(torch.maximum(self.trained_depth, used))
            elif int(self.trained_depth) > 0:
                depth = depth.clamp(max=int(self.trained_depth))
        else:
            depth = torch.full((1,), n_built, device=x.device)
        if tracing:  # run every block a sequence may need and choose per row with tensors
            cap = int(self.trained_depth) if self.automatic else 0
            n_run, n_all_rows = (cap or n_built), 1
        else:
            n_run, n_all_rows = int(depth.max()), int(depth.min())
        h = x.transpose(1, 2)  # (B, d_input, L)
        for i in range(n_run):
            h_new = self.blocks[i](h, lengths, real)  # (B, d_model, L)
            # blocks beyond a row's own depth are the identity for that row; block 0 always runs
            h = h_new if i < n_all_rows else torch.where((i < depth).view(-1, 1, 1), h_new, h)
        if real is not None:
            h = h.masked_fill(~real, 0.0)
        return h.transpose(1, 2)  # (B, L, d_model)


_TEST_PARAMS = ({"d_model": 6, "n_layers": 2}, {"d_model": 5, "n_layers": 3, "kernel_size": 5})


@register_model(
    "cdil",
    params=DilatedConvParams,
    paper=_PAPER,
    url=_URL,
    causal=False,
    test_params=_TEST_PARAMS,
    description="circular dilated CNN: symmetric dilated convolutions around the circle",
)
class CDIL(_SymmetricDilatedNet):
    """Circular dilated CNN of Cheng et al. (2023): every position sees the whole sequence.

    The paper classifies from the mean of the per-position features over the real steps.

    Parameters
    ----------
    d_input : int
        Number of input channels (set by the estimators from the data).
    params : DilatedConvParams, optional
        The hyperparameters; ``DilatedConvParams()`` when omitted.

    Attributes
    ----------
    trained_depth : torch.Tensor
        Buffer: deepest automatic depth used in training; caps the depth in eval mode.
    circular_shift_invariant : bool
        True: the per-position features move with a circular shift of the input, so their
        mean does not change. On two-step "sequences" a shift is a swap of the two values,
        which mean pooling therefore cannot tell apart (the estimators' sklearn tags say so).
    """

    padding = "circular"
    circular_shift_invariant = True


@register_model(
    "dil",
    params=DilatedConvParams,
    paper=_PAPER,
    url=_URL,
    causal=False,
    test_params=_TEST_PARAMS,
    description="CDIL's ablation with zero padding (the paper's DIL baseline)",
)
class DIL(_SymmetricDilatedNet):
    """Symmetric dilated CNN with zero padding, the DIL ablation of Cheng et al. (2023).

    The paper classifies from the mean of the per-position features, as for CDIL.

    Parameters
    ----------
    d_input : int
        Number of input channels (set by the estimators from the data).
    params : DilatedConvParams, optional
        The hyperparameters; ``DilatedConvParams()`` when omitted.

    Attributes
    ----------
    trained_depth : torch.Tensor
        Buffer: deepest automatic depth used in training; caps the depth in eval mode.
    """

    padding = "zeros"
