"""GNMT: deep LSTM encoder-decoder with residual connections and bottom-layer attention.

Reference
---------
Y. Wu, M. Schuster, Z. Chen, Q. V. Le, M. Norouzi, et al. "Google's Neural Machine Translation
System: Bridging the Gap between Human and Machine Translation." arXiv:1609.08144, 2016.

Architecture (Section 3, Figure 1; ``L_e``/``L_d`` layers, ``d`` = ``d_model`` units)

- Encoder: layer 1 is *bidirectional*: a forward and a backward LSTM of ``d`` units each read
  the source embeddings, and their outputs are concatenated (``2d``) as the input of layer 2.
  Layers 2..L_e are unidirectional. From layer 3 on, each layer adds its input to its output
  (Section 3.1, Eqs. 5-6)::

      c^i_t, m^i_t = LSTM_i(c^i_{t-1}, m^i_{t-1}, x^{i-1}_t)
      x^i_t = m^i_t + x^{i-1}_t          (i >= 3; x^i_t = m^i_t below)

- Decoder: ``L_d`` unidirectional LSTM layers with the same residual connections from layer 3.
  The attention reads the *bottom* decoder layer's output of the previous step (Eq. 4)::

      s_t = A(y^1_{i-1}, x_t) = v^T tanh(W_q y^1_{i-1} + W_k x_t + b)   (one hidden layer)
      p_t = softmax_t(s_t),   a_i = Σ_t p_t x_t                          (x_t: encoder top)

  and the context ``a_i`` is fed to *every* decoder layer, concatenated with its input:
  layer 1 reads ``[E y_{i-1} ; a_i]``, layer ``k`` reads ``[y^{k-1}_i ; a_i]``. The softmax
  reads the top layer. Because the attention only needs the bottom layer, teacher forcing loops
  over target steps for the attention and layer 1 only; layers 2..L_d then run over the whole
  sequence at once.
- Initial states are zero (the encoder's final state is not passed to the decoder).
- Initialisation: the paper draws every parameter from ``U(-0.04, 0.04)`` (Section 8.1), a
  scale chosen for its 1024-unit layers; ``init_scale=0.04`` does exactly that. Dropout on the
  input of every layer and of the softmax.

Beam search (Section 7) uses the length normalisation and coverage penalty of
:mod:`seqestim.nn.generation`; the translator's defaults ``length_penalty = 0.2`` and
``coverage_penalty = 0.2`` are the values the paper reports as best for its maximum-likelihood
models.

Deviations, all deliberate:

- Sizes are parameters and smaller by default (CPU-sized data): 4 + 4 layers of 256 units
  instead of 8 + 8 of 1024. The bottom encoder layer has ``d`` units per direction.
- The default initialisation (``init_scale=None``) is PyTorch's for each layer, which scales
  with the width: ``U(-1/√d, 1/√d)`` for the LSTMs (0.031 at the paper's 1024 units, close to
  its 0.04), ``N(0, 1)`` for the embeddings. At the widths of CPU-sized models a fixed 0.04 is
  several times too small: signals shrink through the stack, the gradients that reach the
  attention network fall to ~1e-9 (below Adam's ``eps``), the attention stays near uniform and,
  within our benchmark budgets, the decoder learns to ignore the source.
- The LSTM layers are ``torch.nn.LSTM``/``LSTMCell``, which carry two bias vectors
  (input-hidden and hidden-hidden) of ``4d`` each where the paper has one.
- No model parallelism across GPUs (the reason the paper's attention reads the bottom layer), no
  quantisation-aware training or 8-bit inference (Section 6), and no reinforcement-learning
  refinement (Section 5): the model is trained by maximum likelihood only. The paper's Adam
  then SGD schedule is replaced by the library's optimiser (AdamW by default).
"""

from __future__ import annotations

import torch
from torch import nn

from seqestim.nn._contract import reverse_padded
from seqestim.nn._params import param, parameter_group
from seqestim.nn._registry import register_model

__all__ = ["GNMT", "GNMTParams"]

_PAPER = (
    "Wu, Schuster, Chen, Le, Norouzi et al. (2016). Google's Neural Machine Translation System: "
    "Bridging the Gap between Human and Machine Translation. arXiv:1609.08144."
)
_URL = "https://arxiv.org/abs/1609.08144"
#: The first layer (1-based) with a residual connection, in the encoder and the decoder.
RESIDUAL_FROM = 3


@parameter_group
class GNMTParams:
    """Hyperparameters of the :class:`GNMT` encoder-decoder (Wu et al. 2016)."""

    d_model: int = param(
        256,
        "Units of every LSTM layer (each direction of the bottom encoder layer) and the "
        "width\nof the embeddings.",
    )
    n_encoder_layers: int = param(
        4, "Encoder LSTM layers, >= 2: a bidirectional bottom layer, then unidirectional ones."
    )
    n_decoder_layers: int = param(4, "Decoder LSTM layers.")
    d_attention: int = param(256, "Hidden units of the attention network.")
    dropout: float = param(0.2, "Dropout on the input of every LSTM layer and of the softmax.")
    init_scale: float | None = param(
        None,
        "Every parameter starts uniform in ``[-init_scale, init_scale]`` (the paper: 0.04, for\n"
        "1024 units); None: PyTorch's default initialisation of each layer, scaled to its width.",
        kind="float or None",
    )


@register_model(
    "gnmt",
    params=GNMTParams,
    paper=_PAPER,
    url=_URL,
    inputs=("tokens",),
    form="encoder_decoder",
    test_params=(
        {"d_model": 6, "n_encoder_layers": 3, "n_decoder_layers": 3, "d_attention": 5},
        {
            "d_model": 4,
            "n_encoder_layers": 2,
            "n_decoder_layers": 1,
            "d_attention": 3,
            "dropout": 0.0,
            "init_scale": 0.3,
        },
    ),
    description="deep LSTM encoder-decoder with residuals and bottom-layer attention",
)
class GNMT(nn.Module):
    """Stacked LSTM encoder (bidirectional bottom layer) and decoder with attention.

    Parameters
    ----------
    d_input : int
        Source vocabulary size (id 0 is padding).
    params : GNMTParams, optional
        The hyperparameters; the defaults when None.
    d_target : int
        Target vocabulary size (keyword only).
    """

    def __init__(self, d_input: int, params: GNMTParams | None = None, *, d_target: int):
        super().__init__()
        params = GNMTParams() if params is None else params
        if params.n_encoder_layers < 2:
            raise ValueError(
                f"n_encoder_layers must be >= 2 (a bidirectional bottom layer and at least one "
                f"unidirectional layer); got {params.n_encoder_layers!r}."
            )
        for name in ("d_model", "n_decoder_layers", "d_attention"):
            if getattr(params, name) < 1:
                raise ValueError(f"{name} must be >= 1; got {getattr(params, name)!r}.")
        if not 0.0 <= params.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1); got {params.dropout!r}.")
        if params.init_scale is not None and not params.init_scale > 0:
            raise ValueError(f"init_scale must be > 0 or None; got {params.init_scale!r}.")
        self.params = params
        d, a = params.d_model, params.d_attention
        self.d_output = int(d_target)
        self.dropout = nn.Dropout(params.dropout)
        self.source_embedding = nn.Embedding(d_input, d, padding_idx=0)
        self.target_embedding = nn.Embedding(d_target, d, padding_idx=0)
        # encoder: a bidirectional bottom layer (2d out), then unidirectional layers
        self.encoder_forward = nn.LSTM(d, d, batch_first=True)
        self.encoder_backward = nn.LSTM(d, d, batch_first=True)
        self.encoder_layers = nn.ModuleList(
            nn.LSTM(2 * d if i == 0 else d, d, batch_first=True)
            for i in range(params.n_encoder_layers - 1)
        )
        # attention: a feed-forward network with one hidden layer
        self.attention_query = nn.Linear(d, a, bias=False)
        self.attention_key = nn.Linear(d, a)
        self.attention_energy = nn.Linear(a, 1, bias=False)
        # decoder: every layer reads its input and the context
        self.decoder_bottom = nn.LSTMCell(2 * d, d)
        self.decoder_layers = nn.ModuleList(
            nn.LSTM(2 * d, d, batch_first=True) for _ in range(params.n_decoder_layers - 1)
        )
        self.output = nn.Linear(d, d_target)
        if params.init_scale is not None:  # the paper's uniform initialisation
            for parameter in self.parameters():
                nn.init.uniform_(parameter, -params.init_scale, params.init_scale)
        with torch.no_grad():
            self.source_embedding.weight[0].zero_()
            self.target_embedding.weight[0].zero_()

    # ------------------------------------------------------------------ encoder
    def encode(self, source: torch.Tensor, source_mask: torch.Tensor | None) -> torch.Tensor:
        """Top encoder outputs ``x_t``: ``(B, S)`` ids -> ``(B, S, d)``."""
        x = self.dropout(self.source_embedding(source))  # (B, S, d)
        forward, _ = self.encoder_forward(x)  # padding only follows real steps
        backward, _ = self.encoder_backward(reverse_padded(x, source_mask))
        x = torch.cat([forward, reverse_padded(backward, source_mask)], dim=-1)  # (B, S, 2d)
        for index, layer in enumerate(self.encoder_layers, start=2):  # 1-based layer number
            m, _ = layer(self.dropout(x))
            x = m + x if index >= RESIDUAL_FROM else m
        return x

    def init_decoder_state(self, memory: torch.Tensor, source_mask: torch.Tensor | None):
        """The state before the first target step; every tensor is batch-first.

        ``(memory, keys W_k x + b, mask, h (B, L_d, d), c (B, L_d, d))``; ``h[:, 0]`` is the
        bottom layer's output ``y^1_{i-1}``, the query of the next attention.
        """
        B, S, d = memory.shape
        if source_mask is None:
            source_mask = torch.ones(B, S, dtype=torch.bool, device=memory.device)
        zeros = memory.new_zeros(B, self.params.n_decoder_layers, d)
        return (memory, self.attention_key(memory), source_mask, zeros, zeros.clone())

    # ------------------------------------------------------------------ decoder
    def _attend(self, query, keys, memory, mask):
        """Context ``a_i`` (B, d) and weights ``p`` (B, S) for the query ``y^1_{i-1}`` (B, d)."""
        energy = self.attention_energy(torch.tanh(keys + self.attention_query(query).unsqueeze(1)))
        energy = energy.squeeze(-1).masked_fill(~mask, float("-inf"))  # (B, S)
        weights = energy.softmax(dim=-1)
        return torch.einsum("bs,bsd->bd", weights, memory), weights

    def _bottom_step(self, embedded, memory, keys, mask, h, c):
        """Attention from the previous bottom output, then decoder layer 1 for one step."""
        context, weights = self._attend(h, keys, memory, mask)
        h, c = self.decoder_bottom(self.dropout(torch.cat([embedded, context], dim=-1)), (h, c))
        return h, c, context, weights

    def _upper_layers(self, y, context, states=None):
        """Decoder layers 2..L_d over ``y`` (B, T, d) with the contexts (B, T, d).

        ``states``: per layer ``(h, c)`` of shape (B, d) to start from (zeros when None).
        Returns the top output (B, T, d) and the final states.
        """
        finals = []
        for index, layer in enumerate(self.decoder_layers, start=2):  # 1-based layer number
            start = None
            if states is not None:
                h, c = states[index - 2]
                start = (h.unsqueeze(0).contiguous(), c.unsqueeze(0).contiguous())
            m, (h, c) = layer(self.dropout(torch.cat([y, context], dim=-1)), start)
            finals.append((h[0], c[0]))
            y = m + y if index >= RESIDUAL_FROM else m
        return y, finals

    def decode_step(self, token: torch.Tensor, state):
        """One target step: ``token`` (B,) -> ``(logits (B, V), state, attention (B, S))``."""
        memory, keys, mask, h, c = state
        embedded = self.target_embedding(token)  # (B, d)
        h1, c1, context, weights = self._bottom_step(embedded, memory, keys, mask, h[:, 0], c[:, 0])
        upper = [(h[:, i], c[:, i]) for i in range(1, h.shape[1])]
        top, finals = self._upper_layers(h1.unsqueeze(1), context.unsqueeze(1), upper)
        logits = self.output(self.dropout(top[:, 0]))  # (B, V)
        h = torch.stack([h1, *(f[0] for f in finals)], dim=1)  # (B, L_d, d)
        c = torch.stack([c1, *(f[1] for f in finals)], dim=1)
        return logits, (memory, keys, mask, h, c), weights

    def forward(self, source, source_mask, target, target_mask=None) -> torch.Tensor:
        """Teacher forcing: ``target`` (B, T) starting with ``<bos>`` -> logits (B, T, V)."""
        memory, keys, mask, h, c = self.init_decoder_state(
            self.encode(source, source_mask), source_mask
        )
        embedded = self.target_embedding(target)  # (B, T, d)
        h1, c1 = h[:, 0], c[:, 0]
        outputs, contexts = [], []
        for t in range(target.shape[1]):  # only the attention and layer 1 are sequential
            h1, c1, context, _ = self._bottom_step(embedded[:, t], memory, keys, mask, h1, c1)
            outputs.append(h1)
            contexts.append(context)
        top, _ = self._upper_layers(torch.stack(outputs, 1), torch.stack(contexts, 1))
        return self.output(self.dropout(top))  # (B, T, V)
