"""RNNsearch: a GRU encoder-decoder with additive attention (Bahdanau, Cho & Bengio 2015).

The recurrent baseline of the sequence-to-sequence models (ConvS2S, GNMT).

Reference
---------
D. Bahdanau, K. Cho, Y. Bengio. "Neural Machine Translation by Jointly Learning to Align and
Translate." ICLR 2015, arXiv:1409.0473.

Equations (the paper's Section 3 and Appendix A; ``⊙`` elementwise)

- Encoder: a bidirectional GRU over the source embeddings ``E_x x_j``; the annotation of token
  ``j`` is ``h_j = [→h_j ; ←h_j]``.
- Initial decoder state: ``s_0 = tanh(W_s ←h_1)``.
- Alignment: ``e_ij = v_a^T tanh(W_a s_{i-1} + U_a h_j)``, ``α_ij = softmax_j(e_ij)``,
  context ``c_i = Σ_j α_ij h_j``.
- Decoder: ``s_i = GRU([E_y y_{i-1} ; c_i], s_{i-1})``.
- Deep output with maxout: ``t̃_i = U_o s_i + V_o E_y y_{i-1} + C_o c_i``,
  ``t_i = max(t̃_{i,2k-1}, t̃_{i,2k})``, logits ``W_o t_i``.

Deviations, all deliberate:

- The output reads the new state ``s_i`` (Eq. 4 of the main text, ``g(y_{i-1}, s_i, c_i)``);
  the appendix writes ``s_{i-1}``.
- The GRU cells are ``torch.nn.GRU``/``GRUCell`` (the reset gate applied after the recurrent
  product, as in Cho et al.'s later form); the paper's cell applies it before.
- Sizes are parameters (the paper: 620-dimensional embeddings, 1000 hidden units, a 1000-unit
  alignment layer, 500 maxout units); defaults are smaller, for CPU-sized data. Dropout on the
  embeddings and before the output layer is a library addition (0 turns it off).
- PyTorch's default initialisation instead of the paper's (Appendix B.1: orthogonal recurrent
  weights, ``N(0, 0.01²)`` elsewhere, ``N(0, 0.001²)`` for the alignment, zero ``v_a``). With
  Adam instead of the paper's Adadelta and a few thousand updates, the paper's small weights
  trained far slower: on reversing strings of up to 8 tokens (2,000 pairs, 10 epochs, lr 3e-3)
  exact match was 0.04 with it and 1.00 with PyTorch's defaults.

Teacher forcing loops over target steps only for the alignment and the decoder cell; the
embeddings, the key projection ``U_a h_j`` and the deep output run once over the whole sequence.
"""

from __future__ import annotations

import torch
from torch import nn

from seqestim.nn._contract import reverse_padded
from seqestim.nn._params import param, parameter_group
from seqestim.nn._registry import register_model

__all__ = ["RNNSearch", "RNNSearchParams"]

_PAPER = (
    "Bahdanau, Cho & Bengio (2015). Neural Machine Translation by Jointly Learning to Align and "
    "Translate. ICLR 2015, arXiv:1409.0473."
)
_URL = "https://arxiv.org/abs/1409.0473"


@parameter_group
class RNNSearchParams:
    """Hyperparameters of the :class:`RNNSearch` encoder-decoder (Bahdanau et al. 2015)."""

    d_model: int = param(256, "Hidden units of the decoder GRU and of each encoder direction.")
    d_embedding: int = param(128, "Width of the source and target token embeddings.")
    d_attention: int = param(256, "Hidden units of the alignment model.")
    d_maxout: int = param(128, "Units of the maxout deep-output layer (pools of two).")
    dropout: float = param(0.1, "Dropout on the embeddings and before the output layer.")


def additive_attention(query_projection, keys, values, mask, v):
    """``α = softmax_j(v^T tanh(q + k_j))`` and the context ``Σ_j α_j values_j``.

    ``query_projection`` (B, A), ``keys`` (B, S, A), ``values`` (B, S, D), ``mask`` (B, S).
    """
    energy = v(torch.tanh(keys + query_projection.unsqueeze(1))).squeeze(-1)  # (B, S)
    energy = energy.masked_fill(~mask, float("-inf"))
    weights = energy.softmax(dim=-1)  # (B, S)
    context = torch.einsum("bs,bsd->bd", weights, values)  # (B, D)
    return context, weights


@register_model(
    "rnnsearch",
    params=RNNSearchParams,
    paper=_PAPER,
    url=_URL,
    inputs=("tokens",),
    form="encoder_decoder",
    test_params=(
        {"d_model": 6, "d_embedding": 5, "d_attention": 4, "d_maxout": 3},
        {"d_model": 4, "d_embedding": 3, "d_attention": 5, "d_maxout": 2, "dropout": 0.0},
    ),
    description="GRU encoder-decoder with additive attention, the recurrent baseline",
)
class RNNSearch(nn.Module):
    """Bidirectional GRU encoder, GRU decoder with additive attention and a maxout output.

    Parameters
    ----------
    d_input : int
        Source vocabulary size (id 0 is padding).
    params : RNNSearchParams, optional
        The hyperparameters; the defaults when None.
    d_target : int
        Target vocabulary size (keyword only).
    """

    def __init__(self, d_input: int, params: RNNSearchParams | None = None, *, d_target: int):
        super().__init__()
        params = RNNSearchParams() if params is None else params
        for name in ("d_model", "d_embedding", "d_attention", "d_maxout"):
            if getattr(params, name) < 1:
                raise ValueError(f"{name} must be >= 1; got {getattr(params, name)!r}.")
        if not 0.0 <= params.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1); got {params.dropout!r}.")
        self.params = params
        d, e, a, m = params.d_model, params.d_embedding, params.d_attention, params.d_maxout
        self.d_output = int(d_target)
        self.source_embedding = nn.Embedding(d_input, e, padding_idx=0)
        self.target_embedding = nn.Embedding(d_target, e, padding_idx=0)
        self.forward_encoder = nn.GRU(e, d, batch_first=True)
        self.backward_encoder = nn.GRU(e, d, batch_first=True)
        self.bridge = nn.Linear(d, d)  # W_s
        self.query = nn.Linear(d, a, bias=False)  # W_a
        self.key = nn.Linear(2 * d, a)  # U_a (its bias is the alignment model's bias)
        self.energy = nn.Linear(a, 1, bias=False)  # v_a
        self.decoder = nn.GRUCell(e + 2 * d, d)
        self.deep_output = nn.Linear(d + e + 2 * d, 2 * m)  # [U_o, V_o, C_o]
        self.output = nn.Linear(m, d_target)  # W_o
        self.dropout = nn.Dropout(params.dropout)

    # ------------------------------------------------------------------ encoder
    def encode(self, source: torch.Tensor, source_mask: torch.Tensor | None) -> torch.Tensor:
        """Annotations ``h_j = [→h_j ; ←h_j]``: ``(B, S)`` ids -> ``(B, S, 2 d_model)``."""
        x = self.dropout(self.source_embedding(source))  # (B, S, E)
        forward, _ = self.forward_encoder(x)  # (B, S, D); padding only follows real steps
        backward, _ = self.backward_encoder(reverse_padded(x, source_mask))
        backward = reverse_padded(backward, source_mask)  # (B, S, D), ←h_1 at step 0
        return torch.cat([forward, backward], dim=-1)

    def init_decoder_state(self, memory: torch.Tensor, source_mask: torch.Tensor | None):
        """``(memory, keys U_a h, mask, s_0)``, every tensor batch-first."""
        B, S, _ = memory.shape
        if source_mask is None:
            source_mask = torch.ones(B, S, dtype=torch.bool, device=memory.device)
        d = self.params.d_model
        s0 = torch.tanh(self.bridge(memory[:, 0, d:]))  # s_0 = tanh(W_s ←h_1)
        return (memory, self.key(memory), source_mask, s0)

    # ------------------------------------------------------------------ decoder
    def _output(self, s, embedded, context):
        """Logits from the deep output ``W_o maxout(U_o s + V_o E y + C_o c)``."""
        t = self.deep_output(self.dropout(torch.cat([s, embedded, context], dim=-1)))
        t = t.unflatten(-1, (-1, 2)).max(dim=-1).values  # maxout over pairs
        return self.output(self.dropout(t))

    def _cell(self, embedded, state):
        memory, keys, mask, s = state
        context, weights = additive_attention(self.query(s), keys, memory, mask, self.energy)
        s = self.decoder(torch.cat([embedded, context], dim=-1), s)  # s_i
        return s, context, weights, (memory, keys, mask, s)

    def decode_step(self, token: torch.Tensor, state):
        """One target step: ``token`` (B,) -> ``(logits (B, V), state, attention (B, S))``."""
        embedded = self.dropout(self.target_embedding(token))  # (B, E)
        s, context, weights, state = self._cell(embedded, state)
        return self._output(s, embedded, context), state, weights

    def forward(self, source, source_mask, target, target_mask=None) -> torch.Tensor:
        """Teacher forcing: ``target`` (B, T) starting with ``<bos>`` -> logits (B, T, V)."""
        state = self.init_decoder_state(self.encode(source, source_mask), source_mask)
        embedded = self.dropout(self.target_embedding(target))  # (B, T, E)
        states, contexts = [], []
        for t in range(target.shape[1]):  # the recurrence; everything else is batched
            s, context, _, state = self._cell(embedded[:, t], state)
            states.append(s)
            contexts.append(context)
        return self._output(torch.stack(states, 1), embedded, torch.stack(contexts, 1))
