"""Pieces shared by the dilated convolution stacks of CDIL/DIL and the TCN.

Used by :mod:`seqestim.nn.cdil` and :mod:`seqestim.nn.tcn`:

- :class:`WeightNormConv`: the parameters of a weight-normalised convolution (Salimans & Kingma
  2016), ``W = g v / ||v||`` per output channel. It is written out (parameters ``weight_v``,
  ``weight_g``) rather than taken from ``torch.nn.utils``, whose two versions name their
  parameters differently. Each block applies the kernel with its own padding (circular, zeros
  or causal).
- :func:`residual_projection`: the 1x1 convolution of a residual connection whose widths differ.
- :func:`coverage_depth`: the fewest blocks of dilations ``1, 2, 4, ...`` whose receptive field
  covers a sequence, for each of the three paddings.

Initialisation follows what the official codes (CDIL-CNN and locuslab/TCN) *effectively* do:
``v`` gets PyTorch's default Conv1d initialisation and ``g = ||v||`` (their ``normal_(0, 0.01)``
on the weight-normed weight is overwritten by the weight-norm hook); the 1x1 projection is
drawn from N(0, 0.01).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["WeightNormConv", "coverage_depth", "residual_projection"]


def coverage_depth(length: int, kernel_size: int, padding: str) -> int:
    """Fewest blocks (at least 1) whose receptive field covers a sequence of ``length`` steps.

    Block ``i`` has dilation ``2**i``.

    Parameters
    ----------
    length : int
        Sequence length ``n``.
    kernel_size : int
        Kernel size ``k`` (odd for the symmetric paddings).
    padding : {"circular", "zeros", "causal"}
        ``"circular"`` (CDIL): every position reaches every other one around the circle,
        ``2 c (2**m - 1) + 1 >= n`` with ``c = (k - 1) / 2``. ``"zeros"`` (DIL): every position
        reaches both ends, ``c (2**m - 1) >= n - 1``. ``"causal"`` (TCN, two convolutions per
        block): the last step reaches the first, ``2 (k - 1) (2**m - 1) >= n - 1``.

    Returns
    -------
    int
    """
    if padding == "circular":
        reach, target = (kernel_size - 1) // 2, length // 2  # ceil((n - 1) / 2)
    elif padding == "zeros":
        reach, target = (kernel_size - 1) // 2, length - 1
    elif padding == "causal":
        reach, target = 2 * (kernel_size - 1), length - 1
    else:
        raise ValueError(f"Unknown padding {padding!r}.")
    if reach <= 0:
        return 1
    depth = 1  # smallest m >= 1 with reach * (2**m - 1) >= target, in integers
    while reach * (2**depth - 1) < target:
        depth += 1
    return depth


class WeightNormConv(nn.Module):
    """Weight-normalised convolution parameters, ``W = g v / ||v||`` per output channel.

    Only holds the parameters; the convolution itself (circular, zero or causal) is chosen by
    the block. ``v`` and the bias get PyTorch's default Conv1d initialisation and ``g = ||v||``
    (module docstring); the bias is then redrawn from N(0, ``bias_std``) unless ``bias_std`` is
    None.

    Parameters
    ----------
    c_in, c_out : int
        Input and output channels.
    kernel_size : int
        Kernel size ``k``.
    bias_std : float or None, default=0.01
        Standard deviation of the redrawn bias (CDIL-CNN's code); None keeps PyTorch's default
        (locuslab/TCN).
    """

    def __init__(self, c_in: int, c_out: int, kernel_size: int, bias_std: float | None = 0.01):
        super().__init__()
        conv = nn.Conv1d(c_in, c_out, kernel_size)  # borrowed for its default initialisation
        self.weight_v = nn.Parameter(conv.weight.detach().clone())  # (C_out, C_in, k)
        self.weight_g = nn.Parameter(self.weight_v.detach().flatten(1).norm(dim=1))  # (C_out,)
        self.bias = nn.Parameter(conv.bias.detach().clone())  # (C_out,)
        if bias_std is not None:
            nn.init.normal_(self.bias, 0.0, bias_std)

    def weight(self) -> torch.Tensor:
        """Return the normalised kernel, ``(C_out, C_in, k)``."""
        norm = self.weight_v.flatten(1).norm(dim=1).clamp(min=1e-12)  # (C_out,)
        return self.weight_v * (self.weight_g / norm).view(-1, 1, 1)


def residual_projection(c_in: int, c_out: int) -> nn.Module | None:
    """1x1 residual projection when the widths differ, weights ~ N(0, 0.01) as in both codes."""
    if c_in == c_out:
        return None
    proj = nn.Conv1d(c_in, c_out, 1)
    nn.init.normal_(proj.weight, 0.0, 0.01)
    nn.init.normal_(proj.bias, 0.0, 0.01)
    return proj
