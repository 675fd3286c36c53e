"""Task heads, written once and shared by every backbone.

A task network is ``backbone -> pooling -> linear``. The estimators build it from a registry
name and data-derived sizes; nothing here knows about sklearn.
"""

from __future__ import annotations

import torch
from torch import nn

from seqestim.nn._contract import detach_state, last_valid_index, lengths_to_mask, where_state

__all__ = [
    "IGNORE_INDEX",
    "POOLINGS",
    "AdaptiveSoftmaxOutput",
    "EmbeddedBackbone",
    "IdentityHead",
    "LanguageModelNet",
    "SequenceNet",
    "SoftmaxOutput",
    "pool",
]

#: Target of a step that is not scored (padding), as in torch's cross-entropy.
IGNORE_INDEX = -100

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
        for name in ("causal", "carries_state"):
            if hasattr(backbone, name):
                setattr(self, name, getattr(backbone, name))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, L) token ids, ``mask`` (B, L) -> (B, L, d_output)."""
        return self.backbone(self.embedding(x), mask=mask)  # (B, L, d_embedding) in

    # the optional parts of the contract, in token form, for backbones that have them
    def init_state(self, batch_size: int, device=None):
        """The backbone's initial state (see :mod:`seqestim.nn._contract`)."""
        return self.backbone.init_state(batch_size, device=device)

    def step(self, token: torch.Tensor, state):
        """One step: ``token`` (B,) ids -> (``y`` (B, d_output), new state)."""
        return self.backbone.step(self.embedding(token), state)

    def forward_with_state(self, x: torch.Tensor, state=None, mask: torch.Tensor | None = None):
        """``x`` (B, L) ids continuing ``state`` -> (``y`` (B, L, d_output), new state)."""
        return self.backbone.forward_with_state(self.embedding(x), state, mask=mask)

    def auxiliary_loss(self):
        """The backbone's extra training loss, if it has one."""
        if hasattr(self.backbone, "auxiliary_loss"):
            return self.backbone.auxiliary_loss()
        return None

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


class SoftmaxOutput(nn.Linear):
    """The usual output layer of a language model: a linear map and a softmax over the classes.

    Output layers give log-probabilities in two ways: of every class (:meth:`log_prob`, for
    predictions) and of given targets only (:meth:`target_log_prob`, for the loss and for
    scoring), so that a layer such as :class:`AdaptiveSoftmaxOutput` can avoid normalising over
    every class when only the targets' probabilities are needed.

    Parameters
    ----------
    d_features : int
        Width of the features it reads.
    n_classes : int
        Number of classes (tokens).
    """

    def __init__(self, d_features: int, n_classes: int):
        super().__init__(d_features, n_classes)

    def log_prob(self, h: torch.Tensor) -> torch.Tensor:
        """``h`` (..., d_features) -> log-probabilities (..., n_classes)."""
        return torch.log_softmax(super().forward(h), dim=-1)

    def target_log_prob(self, h: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``h`` (N, d_features), ``target`` (N,) class ids -> log p(target) (N,)."""
        return -nn.functional.cross_entropy(super().forward(h), target, reduction="none")


class AdaptiveSoftmaxOutput(nn.Module):
    """Adaptive softmax (Grave et al. 2017): frequent classes in a head, rare ones in clusters.

    The head scores the classes below the first cutoff plus one entry per tail cluster; cluster
    ``i`` scores its classes from features projected down by ``div_value**(i + 1)``, so the
    cost of the loss is dominated by the frequent classes. Class ids must be ordered by
    decreasing frequency (as fitted vocabularies are) for it to pay off. It wraps
    :class:`torch.nn.AdaptiveLogSoftmaxWithLoss`, with the interface of :class:`SoftmaxOutput`.

    Parameters
    ----------
    d_features : int
        Width of the features it reads.
    n_classes : int
        Number of classes.
    cutoffs : sequence of int
        Increasing class ids in ``[1, n_classes - 1)`` where the clusters start.
    div_value : float, default=4.0
        Reduction of the projection width from one cluster to the next; lowered when the
        features are too narrow for the last cluster to keep a projection of width 1.

    References
    ----------
    E. Grave, A. Joulin, M. Cissé, D. Grangier, H. Jégou. "Efficient softmax approximation for
    GPUs." ICML 2017, arXiv:1609.04309.
    """

    def __init__(self, d_features: int, n_classes: int, cutoffs, div_value: float = 4.0):
        super().__init__()
        cutoffs = [int(c) for c in cutoffs]
        if not cutoffs or cutoffs != sorted(set(cutoffs)) or not 0 < cutoffs[0]:
            raise ValueError(f"cutoffs must be increasing positive integers; got {cutoffs}.")
        if cutoffs[-1] >= n_classes - 1:
            raise ValueError(
                f"cutoffs must lie below the number of classes minus one ({n_classes - 1}); "
                f"got {cutoffs}."
            )
        # cluster i reads d / div**(i + 1) features: keep at least one for the last cluster
        div_value = max(1.0, min(float(div_value), d_features ** (1.0 / len(cutoffs))))
        while div_value > 1.0 and d_features // div_value ** len(cutoffs) < 1:  # rounding
            div_value = max(1.0, div_value * (1 - 1e-6))
        self.adaptive = nn.AdaptiveLogSoftmaxWithLoss(
            d_features, n_classes, cutoffs, div_value=div_value
        )
        self.in_features, self.out_features = int(d_features), int(n_classes)

    def log_prob(self, h: torch.Tensor) -> torch.Tensor:
        """``h`` (..., d_features) -> log-probabilities (..., n_classes)."""
        flat = self.adaptive.log_prob(h.reshape(-1, h.shape[-1]))  # (N, n_classes)
        return flat.view(*h.shape[:-1], self.out_features)

    def target_log_prob(self, h: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``h`` (N, d_features), ``target`` (N,) -> log p(target) (N,), without a full softmax."""
        if target.numel() == 0:
            return h.new_zeros(0)
        return self.adaptive(h, target).output


class LanguageModelNet(nn.Module):
    """Token backbone + output layer: next-token log-probabilities.

    The features at step ``t`` score the token at ``t + 1``, so the backbone must be causal (the
    language-model task checks it). ``forward`` returns, with ``targets``, the log-probability
    of every target ``(B, L)`` (0 where the target is :data:`IGNORE_INDEX`), which is what the
    loss and scoring need; without, the next-token log-probabilities after the last real step
    of each row ``(B, vocab_size)``, which is what prediction and generation need.

    With ``carry`` (a ``(B,)`` bool per row), the backbone continues, in the rows where
    ``carry`` is True, from the state the previous call ended with, and starts from its initial
    state in the others (truncated backpropagation through time: the carried state is detached,
    so no gradient crosses calls). The caller lays the rows out so that row ``b`` of one call
    continues row ``b`` of the call before; the carried state is kept between calls and is not
    part of the ``state_dict``.

    Parameters
    ----------
    backbone : nn.Module
        A backbone in token form: a token-native backbone, or an :class:`EmbeddedBackbone`.
    vocab_size : int
        Number of token ids the output layer scores.
    output : nn.Module, optional
        The output layer, with ``log_prob`` and ``target_log_prob`` like :class:`SoftmaxOutput`
        (the default, a linear softmax); e.g. an :class:`AdaptiveSoftmaxOutput`.
    """

    def __init__(self, backbone: nn.Module, vocab_size: int, output: nn.Module | None = None):
        super().__init__()
        self.backbone = backbone
        self.head = SoftmaxOutput(backbone.d_output, vocab_size) if output is None else output
        self._carried = None

    def forward(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor | None = None,
        targets: torch.Tensor | None = None,
        carry: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``x`` (B, L) ids, ``lengths`` (B,) real steps, ``targets`` (B, L), ``carry`` (B,).

        Returns ``(B, L)`` target log-probabilities with ``targets``, else ``(B, vocab_size)``
        next-token log-probabilities after the last real step of each row.
        """
        B, L = x.shape
        mask = None
        if lengths is not None and bool((lengths < L).any()):
            mask = lengths_to_mask(lengths, L)  # (B, L)
        if carry is None:
            h = self.backbone(x, mask=mask)  # (B, L, H)
        else:
            h, state = self.backbone.forward_with_state(x, self._incoming_state(carry), mask=mask)
            self._carried = detach_state(state)  # the truncation: no gradient across calls
        if targets is not None:
            real = targets != IGNORE_INDEX  # (B, L)
            scored = self.head.target_log_prob(h[real], targets[real])  # (N_real,)
            return h.new_zeros(B, L).masked_scatter(real, scored)
        last = last_valid_index(mask, B, L, x.device)  # (B,)
        return self.head.log_prob(h[torch.arange(B, device=x.device), last])  # (B, V)

    def _incoming_state(self, carry: torch.Tensor):
        initial = self.backbone.init_state(len(carry), device=carry.device)
        if not bool(carry.any()):
            return initial
        if self._carried is None:
            raise RuntimeError("carry asks to continue rows, but no earlier call left a state.")
        return where_state(carry, self._carried, initial)

    def init_state(self, batch_size: int, device=None):
        """The backbone's initial state, for :meth:`step`."""
        return self.backbone.init_state(batch_size, device=device)

    def prefill(self, x: torch.Tensor, lengths: torch.Tensor | None = None, state=None):
        """Read ``x`` (B, L) from ``state``: (next-token log-probabilities (B, V), new state)."""
        B, L = x.shape
        mask = None
        if lengths is not None and bool((lengths < L).any()):
            mask = lengths_to_mask(lengths, L)
        h, state = self.backbone.forward_with_state(x, state, mask=mask)
        last = last_valid_index(mask, B, L, x.device)
        return self.head.log_prob(h[torch.arange(B, device=x.device), last]), state

    def step(self, token: torch.Tensor, state):
        """Read one token (B,) ids: (next-token log-probabilities (B, V), new state)."""
        h, state = self.backbone.step(token, state)
        return self.head.log_prob(h), state

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_carried"] = None  # between-call scratch, never saved
        return state
