"""Task heads, written once and shared by every backbone.

A task network is ``backbone -> pooling -> linear``. The estimators build it from a registry
name and data-derived sizes; nothing here knows about sklearn.
"""

from __future__ import annotations

import torch
from torch import nn

from seqestim.nn._contract import last_valid_index, lengths_to_mask

__all__ = [
    "POOLINGS",
    "EmbeddedBackbone",
    "IdentityHead",
    "LanguageModelNet",
    "SequenceNet",
    "pool",
]

#: Ways of summarising a ``(B, L, H)`` feature sequence into ``(B, H)``.
POOLINGS = ("last", "mean")


def pool(h: torch.Tensor, mask: torch.Tensor | None, mode: str, bidirectional: bool = False):
    """Summarise features ``h`` (B, L, H) over time, ignoring padded steps.

    Parameters
    ----------
    h : torch.Tensor
        Backbone output, ``(B, L, H)``.
    mask : torch.Tensor or None
        ``(B, L)`` bool, True = real step.
    mode : {"last", "mean"}
        ``"last"`` reads the last real step (for a bidirectional backbone: the forward half at
        the last real step and the backward half at step 0); ``"mean"`` averages real steps.
    bidirectional : bool
        Whether ``h`` is ``[forward, backward]`` features of a bidirectional backbone.

    Returns
    -------
    torch.Tensor
        ``(B, H)``.
    """
    B, L, H = h.shape
    if mode == "mean":
        if mask is None:
            return h.mean(dim=1)
        weights = mask.to(h.dtype).unsqueeze(-1)  # (B, L, 1)
        return (h * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
    if mode != "last":
        raise ValueError(f"Unknown pooling {mode!r}; expected one of {POOLINGS}.")
    last = last_valid_index(mask, B, L, h.device)  # (B,)
    rows = torch.arange(B, device=h.device)
    h_last = h[rows, last]  # (B, H)
    if bidirectional:
        half = H // 2
        # the backward direction's final state sits at step 0
        h_last = torch.cat([h_last[:, :half], h[:, 0, half:]], dim=-1)
    return h_last


class IdentityHead(nn.Identity):
    """A parameter-free head that passes the backbone's features through unchanged.

    Used when the backbone's output already is the prediction (see :class:`SequenceNet`);
    ``in_features``/``out_features`` mirror :class:`torch.nn.Linear` so callers can read the
    width either way.
    """

    def __init__(self, features: int):
        super().__init__()
        self.in_features = self.out_features = int(features)


class EmbeddedBackbone(nn.Module):
    """The token form of a float backbone: token ids -> learned embeddings -> the backbone.

    Token tasks put it in front of a backbone that reads float features (``inputs=("float",)``
    in the registry), so that every such backbone can serve language models, translators and
    token classifiers. It keeps the backbone contract: ``forward(x (B, L) int64, mask) ->
    (B, L, d_output)``, and passes on what the estimators read from a backbone
    (``d_output``, ``bidirectional``, ``causal``, ``optimizer_param_groups``).

    Parameters
    ----------
    backbone : nn.Module
        A float backbone built with ``d_input = d_embedding``.
    vocab_size : int
        Number of token ids; id 0 is padding and gets a zero embedding.
    d_embedding : int
        Width of the embeddings.
    """

    def __init__(self, backbone: nn.Module, vocab_size: int, d_embedding: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, d_embedding, padding_idx=0)
        self.backbone = backbone
        self.d_output = backbone.d_output
        self.bidirectional = bool(getattr(backbone, "bidirectional", False))
        if hasattr(backbone, "causal"):
            self.causal = backbone.causal

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, L) token ids, ``mask`` (B, L) -> (B, L, d_output)."""
        return self.backbone(self.embedding(x), mask=mask)  # (B, L, d_embedding) in

    def optimizer_param_groups(self, lr: float, weight_decay: float) -> list[dict]:
        """The backbone's own parameter groups, if it has any (the embedding joins the rest)."""
        if hasattr(self.backbone, "optimizer_param_groups"):
            return self.backbone.optimizer_param_groups(lr, weight_decay)
        return []


class SequenceNet(nn.Module):
    """Backbone + pooling + linear head: ``(B, L, C) -> (B, n_outputs)``.

    With ``pooling=None`` the head is applied at every step: ``(B, L, C) -> (B, L, n_outputs)``.

    Parameters
    ----------
    backbone : nn.Module
        A registered backbone (see :mod:`seqestim.nn._contract`).
    n_outputs : int
        Width of the linear head (classes, targets, or horizon x targets).
    pooling : {"last", "mean"} or None
        How the sequence is summarised; None keeps one output per step.
    next_step : bool, default=False
        Whether the task is to predict the next step of the input series itself (one-step
        forecasting without other input channels). A backbone whose output at step ``t``
        already is that forecast says so with a true ``forecasts_next_step`` attribute (the
        linear ARMA cell); it then gets an :class:`IdentityHead` instead of the linear head when
        the widths agree, so that the backbone's own parameters (e.g. ARMA coefficients) are
        the whole model.
    """

    def __init__(
        self,
        backbone: nn.Module,
        n_outputs: int,
        pooling: str | None = "last",
        *,
        next_step: bool = False,
    ):
        super().__init__()
        if pooling is not None and pooling not in POOLINGS:
            raise ValueError(f"Unknown pooling {pooling!r}; expected one of {POOLINGS} or None.")
        self.backbone = backbone
        self.pooling = pooling
        identity = (
            next_step
            and bool(getattr(backbone, "forecasts_next_step", False))
            and backbone.d_output == n_outputs
        )
        self.head = IdentityHead(n_outputs) if identity else nn.Linear(backbone.d_output, n_outputs)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Map a padded batch to outputs; ``lengths`` (B,) gives the real steps of each row."""
        mask = None
        if lengths is not None and bool((lengths < x.shape[1]).any()):
            mask = lengths_to_mask(lengths, x.shape[1])  # (B, L)
        h = self.backbone(x, mask=mask)  # (B, L, d_output)
        if self.pooling is None:
            return self.head(h)  # (B, L, n_outputs)
        bidirectional = bool(getattr(self.backbone, "bidirectional", False))
        return self.head(pool(h, mask, self.pooling, bidirectional))  # (B, n_outputs)


class LanguageModelNet(nn.Module):
    """Token backbone + linear softmax head: ``(B, L)`` ids -> ``(B, L, vocab_size)`` logits.

    The logits at step ``t`` score the token at ``t + 1``, so the backbone must be causal (the
    language-model task checks it).

    Parameters
    ----------
    backbone : nn.Module
        A backbone in token form: a token-native backbone, or an :class:`EmbeddedBackbone`.
    vocab_size : int
        Number of token ids the head scores.
    """

    def __init__(self, backbone: nn.Module, vocab_size: int):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(backbone.d_output, vocab_size)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, L) ids, ``lengths`` (B,) real steps -> logits (B, L, vocab_size)."""
        mask = None
        if lengths is not None and bool((lengths < x.shape[1]).any()):
            mask = lengths_to_mask(lengths, x.shape[1])  # (B, L)
        return self.head(self.backbone(x, mask=mask))
