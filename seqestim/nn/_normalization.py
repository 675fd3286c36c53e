"""Normalization layers for the inside of recurrent cells (private, shared by the RNN family).

Every layer here normalizes the pre-activations ``a`` of one *site* of a recurrent cell (the
input projection ``x_t W``, the recurrent projection ``h_{t-1} U``, the cell state ``c_t``) and
offers two entry points with identical results:

- ``sequence(a, mask)`` normalizes every step of ``a`` (B, L, D) at once. Used for the input
  projections, which do not depend on the recurrence, so the whole sequence is known up front.
- ``step(a_t, t, mask_t, memory)`` normalizes step ``t`` only, ``a_t`` (B, D), and returns the
  result and the updated ``memory``. Used for the recurrent sites inside the time loop.
  ``memory`` comes from ``init_memory()`` at the start of every forward pass and is local to it
  (never module state), so changing batch sizes, ``clone`` and pickle are unaffected.

``mask`` (B, L) / ``mask_t`` (B,) are bool, True = real step, padding only at the end of a
sequence. Padded entries never enter batch statistics (they are replaced by zeros and given
zero weight), so NaN or garbage in padded positions cannot leak into real ones.

Layers
------
``LayerNorm`` (Ba, Kiros & Hinton 2016)
    Per sample and step over the features; ``eps = 1e-5``; gain 1, bias 0.

``AssortedTimeNorm`` (Pospisil, Zadorozhnyy & Ye, "Assorted-Time Normalization", NPL 2024)
    Statistics over the features of the last ``window`` pre-normalization vectors of the same
    site, per sample::

        M_t = [a_{max(0, t-k+1)}, ..., a_t]   (m = min(t+1, k) steps)
        μ_t, σ²_t = mean, biased variance of M_t over time and features
        â_t = g ⊙ (a_t - μ_t) / sqrt(σ²_t + 1e-5) + b

    Same parameters as LayerNorm (``g``, ``b``); ``window = 1`` *is* LayerNorm (and is computed
    by the same kernel, so the two agree bit for bit). Gradients flow
    through the stored past vectors (not detached), as the paper derives them. The history
    restarts with every sequence. Both paths compute the windowed moments from float64 sums of
    the per-step feature sums (exact to float32 precision, O(1) work per step).

``RecurrentBatchNorm`` (Ioffe & Szegedy 2015; recurrent form of Cooijmans et al. 2016)
    Batch statistics *per time step*: at step ``t`` the mean and biased variance over the real
    samples of the batch; ``y = γ ⊙ (a - μ_t) / sqrt(σ²_t + 1e-5) + β`` with ``γ = 0.1`` at
    init (Cooijmans et al.: ``γ = 1`` saturates tanh). Population statistics are kept per step
    in buffers ``running_mean``/``running_var`` (T_max, D); at evaluation time step ``t`` uses
    those of ``min(t, T_max - 1)``, i.e. steps beyond the longest training sequence reuse the
    last one's, as in the paper. ``T_max`` grows with the longest real length seen in training;
    loading a ``state_dict`` resizes the buffers to match. Running statistics are a cumulative
    average for the first ``1/momentum`` batches of a step and an exponential moving average
    (``momentum = 0.1``, unbiased variance, as torch's BatchNorm) afterwards; the paper's plain
    average over the training set is the cumulative phase. An untrained layer evaluates with
    mean 0 and variance 1.

``BatchLayerNorm`` (Ziaee & Çano, "Batch Layer Normalization", arXiv:2209.08898)
    A fixed mixture of batch and feature (layer) normalization::

        x̂_B = (a - μ_B) / sqrt(σ²_B + 1e-3)       # over the batch, per step and feature
        x̂_F = (a - μ_F) / sqrt(σ²_F + 1e-3)       # over the features, per sample and step
        x̂ = [(1/m - 1e-4) x̂_F + (1 - 1/m - 1e-4) x̂_B] / sqrt(D)
        y = γ ⊙ x̂ + β                             # γ = 1, β = 0

    ``m`` is the *configured* batch size (constant, not the runtime one), as in the official
    code. Deviations: the batch statistics are per time step and kept like
    ``RecurrentBatchNorm``'s (the official layer applies them per position of a (B, T, D)
    tensor and averages them per epoch with an unbiased correction); at evaluation time the
    batch part uses the population statistics and the feature part the sample's own statistics
    (the official code's flags ``batch_moving_mean = batch_moving_var = True``,
    ``feature_moving_mean = feature_moving_var = False``; its population *feature* statistics
    are per batch slot and would make a prediction depend on its row in the batch), so
    predictions never depend on batch composition.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "NORMALIZATIONS",
    "AssortedTimeNorm",
    "BatchLayerNorm",
    "LayerNorm",
    "RecurrentBatchNorm",
    "make_norm",
]

#: Accepted values of the ``normalization`` option of the recurrent backbones.
NORMALIZATIONS = (None, "layer", "batch", "batch_layer", "assorted_time")


class _SiteNorm(nn.Module):
    """Base class: a ``(D,)`` gain and bias, and the two entry points."""

    def __init__(self, d: int, gain_init: float = 1.0):
        super().__init__()
        self.d = d
        self.weight = nn.Parameter(torch.full((d,), float(gain_init)))
        self.bias = nn.Parameter(torch.zeros(d))

    def init_memory(self):
        """Per-forward memory for :meth:`step` (None for layers that need none)."""
        return None

    def sequence(self, a: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Normalize every step of ``a`` (B, L, D); ``mask`` (B, L) bool or None."""
        raise NotImplementedError

    def step(self, a_t: torch.Tensor, t: int, mask_t: torch.Tensor | None, memory):
        """Normalize step ``t``: ``a_t`` (B, D) -> (output (B, D), new memory)."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"{self.d}"


class LayerNorm(_SiteNorm):
    """Layer normalization over the last axis, ``eps = 1e-5``.

    Parameters
    ----------
    d : int
        Number of features.
    """

    eps = 1e-5

    def sequence(self, a, mask):
        return F.layer_norm(a, (self.d,), self.weight, self.bias, self.eps)

    def step(self, a_t, t, mask_t, memory):
        return F.layer_norm(a_t, (self.d,), self.weight, self.bias, self.eps), memory


class AssortedTimeNorm(_SiteNorm):
    """Assorted-time normalization over the last ``window`` steps (see the module docstring).

    Parameters
    ----------
    d : int
        Number of features.
    window : int
        Number of steps ``k`` pooled into the statistics; 1 gives LayerNorm.
    """

    eps = 1e-5

    def __init__(self, d: int, window: int):
        super().__init__(d)
        if int(window) < 1:
            raise ValueError(f"atn_window must be a positive integer, got {window}.")
        self.window = int(window)

    def init_memory(self):
        # (per-step feature sums Σa and Σa² of the steps in the window, oldest first;
        #  their running totals); float64 so that the windowed variance does not cancel
        return ([], 0.0, 0.0)

    def sequence(self, a, mask):
        if self.window == 1:  # the same formula; torch's kernel makes it bit-identical to LN
            return F.layer_norm(a, (self.d,), self.weight, self.bias, self.eps)
        return self._windowed(a)

    def _windowed(self, a: torch.Tensor) -> torch.Tensor:
        """Return the normalization of every step of ``a`` (B, L, D) from windowed moments."""
        _, L, D = a.shape
        k = self.window
        a64 = a.double()
        # per-step feature sums, then windowed sums from cumulative sums (float64: no cancellation)
        s1 = F.pad(a64.sum(-1).cumsum(1), (1, 0))  # (B, L + 1)
        s2 = F.pad((a64 * a64).sum(-1).cumsum(1), (1, 0))
        steps = torch.arange(L, device=a.device)
        start = (steps + 1 - k).clamp(min=0)  # first step of each window
        count = ((steps + 1 - start) * D).to(a64.dtype)  # (L,) values pooled per window
        w1 = (s1[:, steps + 1] - s1[:, start]) / count  # (B, L) mean
        w2 = (s2[:, steps + 1] - s2[:, start]) / count
        var = (w2 - w1 * w1).clamp(min=0.0)
        mean = w1.to(a.dtype).unsqueeze(-1)
        inv_std = torch.rsqrt(var + self.eps).to(a.dtype).unsqueeze(-1)
        return (a - mean) * inv_std * self.weight + self.bias

    def step(self, a_t, t, mask_t, memory):
        if self.window == 1:
            return F.layer_norm(a_t, (self.d,), self.weight, self.bias, self.eps), memory
        history, total1, total2 = memory
        a64 = a_t.double()
        sums = (a64.sum(-1), (a64 * a64).sum(-1))  # (B,) each; gradients flow through them
        history = [*history, sums]
        total1, total2 = total1 + sums[0], total2 + sums[1]
        if len(history) > self.window:  # the oldest step leaves the window
            total1, total2 = total1 - history[0][0], total2 - history[0][1]
            history = history[1:]
        count = len(history) * self.d
        mean = total1 / count
        var = (total2 / count - mean * mean).clamp(min=0.0)
        mean = mean.to(a_t.dtype).unsqueeze(-1)
        inv_std = torch.rsqrt(var + self.eps).to(a_t.dtype).unsqueeze(-1)
        out = (a_t - mean) * inv_std * self.weight + self.bias
        return out, (history, total1, total2)

    def extra_repr(self) -> str:
        return f"{self.d}, window={self.window}"


class _PerStepBatchStats(_SiteNorm):
    """Per-time-step batch statistics with population estimates in growable buffers."""

    def __init__(self, d: int, *, gain_init: float, eps: float, momentum: float):
        super().__init__(d, gain_init)
        self.eps = eps
        self.momentum = momentum
        self.register_buffer("running_mean", torch.zeros(0, d))  # (T_max, D)
        self.register_buffer("running_var", torch.ones(0, d))
        self.register_buffer("num_batches_tracked", torch.zeros(0, dtype=torch.long))  # (T_max,)

    # -- buffers -----------------------------------------------------------------------------
    def _grow(self, n_steps: int) -> None:
        """Extend the buffers to ``n_steps`` time steps (new steps are untracked)."""
        extra = n_steps - self.running_mean.shape[0]
        if extra <= 0:
            return
        ref = self.running_mean
        self.running_mean = torch.cat([ref, ref.new_zeros(extra, self.d)])
        self.running_var = torch.cat([self.running_var, ref.new_ones(extra, self.d)])
        tracked = self.num_batches_tracked
        self.num_batches_tracked = torch.cat([tracked, tracked.new_zeros(extra)])

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # the buffers' length is learned from data: resize to what is being loaded
        key = prefix + "running_mean"
        if key in state_dict:
            n_steps = state_dict[key].shape[0]
            self.running_mean = self.running_mean.new_zeros(n_steps, self.d)
            self.running_var = self.running_var.new_ones(n_steps, self.d)
            self.num_batches_tracked = self.num_batches_tracked.new_zeros(n_steps)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @torch.no_grad()
    def _update(self, first: int, mean, var, count) -> None:
        """Fold batch statistics of steps ``first..`` (mean/var (S, D), count (S,)) in."""
        real = count > 0
        if not bool(real.any()):
            return
        n_steps = first + int(real.nonzero().max()) + 1
        self._grow(n_steps)
        S = n_steps - first
        mean, var, count, real = mean[:S], var[:S], count[:S], real[:S]
        tracked = self.num_batches_tracked[first:n_steps]
        tracked += real.long()
        factor = torch.maximum(
            torch.full_like(mean[:, 0], self.momentum), 1.0 / tracked.clamp(min=1).to(mean.dtype)
        )
        factor = torch.where(real, factor, torch.zeros_like(factor)).unsqueeze(-1)  # (S, 1)
        unbiased = var * (count / (count - 1).clamp(min=1)).unsqueeze(-1)
        rm, rv = self.running_mean[first:n_steps], self.running_var[first:n_steps]
        rm += factor * (mean.to(rm.dtype) - rm)
        rv += factor * (unbiased.to(rv.dtype) - rv)

    def _population(self, first: int, n_steps: int, like: torch.Tensor):
        """Return population mean/var (S, D) of steps ``first..``, clamped to ``T_max - 1``."""
        T_max = self.running_mean.shape[0]
        if T_max == 0:  # never trained: identity statistics
            return like.new_zeros(n_steps, self.d), like.new_ones(n_steps, self.d)
        index = torch.arange(first, first + n_steps, device=like.device).clamp(max=T_max - 1)
        return self.running_mean[index].to(like.dtype), self.running_var[index].to(like.dtype)

    # -- batch statistics --------------------------------------------------------------------
    @staticmethod
    def _batch_moments(a: torch.Tensor, mask: torch.Tensor | None):
        """Mean, biased variance (S, D) and real-sample count (S,) of ``a`` (B, S, D)."""
        B, S, _ = a.shape
        if mask is None:
            mean = a.mean(dim=0)
            var = (a - mean).pow(2).mean(dim=0)
            return mean, var, a.new_full((S,), float(B))
        w = mask.to(a.dtype).unsqueeze(-1)  # (B, S, 1)
        a = torch.where(mask.unsqueeze(-1), a, torch.zeros_like(a))  # padding never enters
        count = w.sum(dim=0)  # (S, 1)
        mean = a.sum(dim=0) / count.clamp(min=1)
        var = ((a - mean).pow(2) * w).sum(dim=0) / count.clamp(min=1)
        return mean, var, count[:, 0]

    def _batch_normalized(self, a: torch.Tensor, mask: torch.Tensor | None, first: int):
        """Return ``(a - μ_B) / sqrt(σ²_B + eps)`` for ``a`` (B, S, D) holding steps ``first..``."""
        if self.training:
            mean, var, count = self._batch_moments(a, mask)
            self._update(first, mean.detach(), var.detach(), count)
        else:
            mean, var = self._population(first, a.shape[1], a)
        return (a - mean) * torch.rsqrt(var + self.eps)

    def _normalize(self, a: torch.Tensor, mask: torch.Tensor | None, first: int):
        """Normalize ``a`` (B, S, D) holding steps ``first..``, or one step ``a`` (B, D)."""
        raise NotImplementedError

    def sequence(self, a, mask):
        return self._normalize(a, mask, 0)

    def step(self, a_t, t, mask_t, memory):
        return self._normalize(a_t, mask_t, t), memory

    @torch.no_grad()
    def _update_step(self, t: int, mean, var, count: int) -> None:
        """Fold the batch statistics of the single step ``t`` in (the loop's fast path)."""
        if count == 0:
            return
        self._grow(t + 1)
        self.num_batches_tracked[t] += 1
        factor = max(self.momentum, 1.0 / int(self.num_batches_tracked[t]))
        unbiased = var * (count / max(count - 1, 1))
        self.running_mean[t] += factor * (mean.to(self.running_mean.dtype) - self.running_mean[t])
        self.running_var[t] += factor * (unbiased.to(self.running_var.dtype) - self.running_var[t])

    def _batch_normalized_step(self, a_t, mask_t, t: int):
        """Step-``t`` version of :meth:`_batch_normalized` for ``a_t`` (B, D)."""
        if self.training:
            if mask_t is None:
                count = a_t.shape[0]
                mean = a_t.mean(dim=0)
                var = (a_t - mean).pow(2).mean(dim=0)
            else:
                count = int(mask_t.sum())
                w = mask_t.to(a_t.dtype).unsqueeze(-1)  # (B, 1)
                a_t = torch.where(mask_t.unsqueeze(-1), a_t, torch.zeros_like(a_t))
                mean = a_t.sum(dim=0) / max(count, 1)
                var = ((a_t - mean).pow(2) * w).sum(dim=0) / max(count, 1)
            self._update_step(t, mean.detach(), var.detach(), count)
        else:
            T_max = self.running_mean.shape[0]
            if T_max == 0:
                return a_t * (1.0 / math.sqrt(1.0 + self.eps))
            s = min(t, T_max - 1)
            mean = self.running_mean[s].to(a_t.dtype)
            var = self.running_var[s].to(a_t.dtype)
        return (a_t - mean) * torch.rsqrt(var + self.eps)

    def _batch_part(self, a, mask, first):
        """Batch-normalized ``a``: (B, S, D) from :meth:`sequence`, (B, D) from :meth:`step`."""
        if a.dim() == 2:
            return self._batch_normalized_step(a, mask, first)
        return self._batch_normalized(a, mask, first)

    def extra_repr(self) -> str:
        return f"{self.d}, eps={self.eps}, momentum={self.momentum}"


class RecurrentBatchNorm(_PerStepBatchStats):
    """Batch normalization with per-time-step statistics (see the module docstring).

    Parameters
    ----------
    d : int
        Number of features.
    gain_init : float, default=0.1
        Initial γ (Cooijmans et al. 2016).
    momentum : float, default=0.1
        Weight of a new batch in the running statistics once a step has been seen
        ``1 / momentum`` times.
    """

    def __init__(self, d: int, gain_init: float = 0.1, momentum: float = 0.1):
        super().__init__(d, gain_init=gain_init, eps=1e-5, momentum=momentum)

    def _normalize(self, a, mask, first):
        return self._batch_part(a, mask, first) * self.weight + self.bias


class BatchLayerNorm(_PerStepBatchStats):
    """Batch layer normalization (see the module docstring).

    Parameters
    ----------
    d : int
        Number of features.
    batch_size : int, default=32
        The configured batch size ``m`` that sets the mixture weights.
    momentum : float, default=0.1
        As in :class:`RecurrentBatchNorm`.
    """

    def __init__(self, d: int, batch_size: int = 32, momentum: float = 0.1):
        super().__init__(d, gain_init=1.0, eps=1e-3, momentum=momentum)
        if int(batch_size) < 1:
            raise ValueError(f"bln_batch_size must be a positive integer, got {batch_size}.")
        self.batch_size = int(batch_size)

    def _normalize(self, a, mask, first):
        m = self.batch_size
        x_b = self._batch_part(a, mask, first)
        mean_f = a.mean(dim=-1, keepdim=True)
        var_f = (a - mean_f).pow(2).mean(dim=-1, keepdim=True)
        x_f = (a - mean_f) * torch.rsqrt(var_f + self.eps)
        x_hat = ((1.0 / m - 1e-4) * x_f + (1.0 - 1.0 / m - 1e-4) * x_b) / math.sqrt(self.d)
        return x_hat * self.weight + self.bias

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, batch_size={self.batch_size}"


def make_norm(
    normalization: str | None, d: int, *, atn_window: int = 25, bln_batch_size: int = 32
) -> nn.Module | None:
    """Build the normalization layer named by ``normalization`` for ``d`` features.

    Parameters
    ----------
    normalization : {None, "layer", "batch", "batch_layer", "assorted_time"}
        Which layer; None returns None.
    d : int
        Number of features at the site.
    atn_window : int, default=25
        Window of :class:`AssortedTimeNorm`.
    bln_batch_size : int, default=32
        ``m`` of :class:`BatchLayerNorm`.

    Returns
    -------
    nn.Module or None
    """
    if normalization is None:
        return None
    if normalization == "layer":
        return LayerNorm(d)
    if normalization == "assorted_time":
        return AssortedTimeNorm(d, atn_window)
    if normalization == "batch":
        return RecurrentBatchNorm(d)
    if normalization == "batch_layer":
        return BatchLayerNorm(d, bln_batch_size)
    raise ValueError(f"Unknown normalization {normalization!r}; expected one of {NORMALIZATIONS}.")


def check_normalization(normalization, atn_window, bln_batch_size) -> None:
    """Validate the normalization options of a backbone constructor (raises ValueError)."""
    if normalization not in NORMALIZATIONS:
        raise ValueError(
            f"Unknown normalization {normalization!r}; expected one of {NORMALIZATIONS}."
        )
    if int(atn_window) != atn_window or atn_window < 1:
        raise ValueError(f"atn_window must be a positive integer, got {atn_window}.")
    if int(bln_batch_size) != bln_batch_size or bln_batch_size < 1:
        raise ValueError(f"bln_batch_size must be a positive integer, got {bln_batch_size}.")
