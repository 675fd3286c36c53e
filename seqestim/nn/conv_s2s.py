"""ConvS2S: convolutional sequence-to-sequence learning with GLUs and multi-step attention.

Reference
---------
J. Gehring, M. Auli, D. Grangier, D. Yarats, Y. N. Dauphin. "Convolutional Sequence to
Sequence Learning." ICML 2017, arXiv:1705.03122. The layout follows the authors' fairseq model
``fconv`` (embeddings, projections, where residuals and dropout sit).

Computation (``√½`` = ``sqrt(0.5)``; E = ``d_embedding``, C = ``d_model``)

- Embeddings: ``e_j = w_j + p_j``, token plus learned position (Section 3.1), then dropout.
- Encoder: ``h = fc1(e)`` (E -> C); each of ``n_encoder_layers`` blocks computes
  ``h <- (GLU(conv(dropout(h))) + h) · √½`` (Eq. 1 and Section 3.2), the convolution of width
  ``kernel_size`` centred on each token (padding tokens zeroed before every convolution); then
  ``z = fc2(h)`` (C -> E). Attention keys are ``z_j`` and values ``(z_j + e_j) · √½``
  (Section 3.3: the values see the input embedding too).
- Decoder: ``g = token + position embedding`` of the previous target tokens, ``h = fc1(g)``;
  each block runs a *causal* convolution (the output at step ``i`` reads steps ``i-k+1..i``)
  and a GLU, then its own attention (multi-step attention, Section 3.3)::

      d_i  = (W_d h_i + b_d + g_i) · √½
      a_ij = softmax_j(d_i · z_j)                  (padded source tokens excluded)
      c_i  = Σ_j a_ij (z_j + e_j) · √½ · √m        (m real source tokens; Section 3.4)
      h_i <- (W_c c_i + b_c + h_i) · √½
      h_i <- (h_i + block input_i) · √½

  and the output is ``fc3(dropout(fc2(h)))`` (C -> ``d_decoder_output`` -> vocabulary).
- GLU: ``GLU([A B]) = A ⊙ σ(B)`` over the two halves of the ``2C`` convolution channels (Eq. 1).
- Gradients of the encoder output are multiplied by ``1 / (2 N_att)`` on the way back (the
  forward pass is unchanged), ``N_att`` = the number of attention steps (Section 3.4), so the
  encoder is not overwhelmed by the gradients of every decoder layer; the source embeddings
  reach the values directly and keep their full gradient.
- Initialisation (Section 3.5): embeddings ``N(0, 0.1²)`` with a zero padding row; a linear
  layer whose input passed dropout ``p`` gets ``N(0, (1-p)/n_in)``; a convolution feeding a GLU
  ``N(0, 4(1-p)/(k n_in))``; biases 0. Every linear and convolutional layer is weight-normalised
  (Salimans & Kingma 2016, per output unit), as in fairseq.

Incremental decoding (for beam search): each decoder block keeps the last ``kernel_size - 1``
inputs of its convolution in the state and applies the kernel to them and the new step as one
matrix product, so a step costs the same whatever the length of the prefix, and gives the same
outputs as the full causal forward pass.

Deviations, all deliberate:

- One width ``d_model`` and one ``kernel_size`` for every block; the paper's larger models mix
  widths (e.g. 512 then 1024 then 2048 units) with linear projections on the residuals.
- Sizes are smaller by default (CPU-sized data): E = 128, C = 256, 4 encoder and 3 decoder
  blocks of kernel 3, 128 output units (fairseq's IWSLT configuration has E = C = 256).
- The paper trains with Nesterov momentum 0.99, learning rate 0.25 and gradient clipping at
  0.1; the estimators use the library's AdamW (the paper's optimiser is not among the training
  parameters), with their own defaults.
- Learned positions cover ``max_positions`` steps on each side; longer inputs raise a
  ``ValueError`` and decoding stops there.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from seqestim.nn._params import param, parameter_group
from seqestim.nn._registry import register_model

__all__ = ["ConvS2S", "ConvS2SParams"]

_PAPER = (
    "Gehring, Auli, Grangier, Yarats & Dauphin (2017). Convolutional Sequence to Sequence "
    "Learning. ICML 2017, arXiv:1705.03122."
)
_URL = "https://arxiv.org/abs/1705.03122"
_HALF = math.sqrt(0.5)


@parameter_group
class ConvS2SParams:
    """Hyperparameters of the :class:`ConvS2S` encoder-decoder (Gehring et al. 2017)."""

    d_embedding: int = param(128, "Width ``E`` of the token and position embeddings.")
    d_model: int = param(256, "Channels ``C`` of every convolutional block.")
    n_encoder_layers: int = param(4, "Convolutional blocks of the encoder.")
    n_decoder_layers: int = param(3, "Convolutional blocks of the decoder, each with attention.")
    kernel_size: int = param(3, "Width ``k`` of every convolution.")
    d_decoder_output: int = param(128, "Units of the decoder's last hidden layer (fc2).")
    dropout: float = param(0.1, "Dropout on the embeddings and on the input of every block.")
    max_positions: int = param(
        256, "Source or target positions with a learned embedding: the longest sequence."
    )


class _GradMultiply(torch.autograd.Function):
    """Identity forward; gradients multiplied by ``scale`` backward (Section 3.4)."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale, None


def _embedding(n: int, d: int) -> nn.Embedding:
    layer = nn.Embedding(n, d, padding_idx=0)
    nn.init.normal_(layer.weight, 0.0, 0.1)
    with torch.no_grad():
        layer.weight[0].zero_()
    return layer


def _linear(n_in: int, n_out: int, dropout: float = 0.0) -> nn.Module:
    """Weight-normalised linear layer, ``N(0, (1 - p) / n_in)`` (p = dropout on its input)."""
    layer = nn.Linear(n_in, n_out)
    nn.init.normal_(layer.weight, 0.0, math.sqrt((1.0 - dropout) / n_in))
    nn.init.zeros_(layer.bias)
    return weight_norm(layer, dim=0)


def _conv(n_in: int, n_out: int, kernel_size: int, dropout: float) -> nn.Module:
    """Weight-normalised convolution feeding a GLU, ``N(0, 4 (1 - p) / (k n_in))``."""
    layer = nn.Conv1d(n_in, n_out, kernel_size)
    nn.init.normal_(layer.weight, 0.0, math.sqrt(4.0 * (1.0 - dropout) / (kernel_size * n_in)))
    nn.init.zeros_(layer.bias)
    return weight_norm(layer, dim=0)  # one norm per output channel


class _Attention(nn.Module):
    """One attention step of the decoder (Section 3.3)."""

    def __init__(self, channels: int, embedding: int):
        super().__init__()
        self.query = _linear(channels, embedding)  # W_d
        self.out = _linear(embedding, channels)  # W_c

    def forward(self, h, g, keys, values, mask, scale):
        """``h`` (B, T, C), ``g`` (B, T, E) -> new ``h`` (B, T, C), attention (B, T, S)."""
        d = (self.query(h) + g) * _HALF  # (B, T, E)
        scores = torch.einsum("bte,bse->bts", d, keys)
        scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        attention = scores.softmax(dim=-1)  # (B, T, S)
        context = torch.einsum("bts,bse->bte", attention, values) * scale  # scale (B, 1, 1)
        return (self.out(context) + h) * _HALF, attention


@register_model(
    "conv_s2s",
    params=ConvS2SParams,
    paper=_PAPER,
    url=_URL,
    inputs=("tokens",),
    form="encoder_decoder",
    test_params=(
        {
            "d_embedding": 6,
            "d_model": 8,
            "n_encoder_layers": 2,
            "n_decoder_layers": 2,
            "d_decoder_output": 5,
            "max_positions": 32,
        },
        {
            "d_embedding": 5,
            "d_model": 4,
            "n_encoder_layers": 1,
            "n_decoder_layers": 3,
            "kernel_size": 4,
            "d_decoder_output": 3,
            "dropout": 0.0,
            "max_positions": 32,
        },
    ),
    description="convolutional encoder-decoder with GLUs and multi-step attention",
)
class ConvS2S(nn.Module):
    """Convolutional encoder and causal convolutional decoder with attention in every block.

    Parameters
    ----------
    d_input : int
        Source vocabulary size (id 0 is padding).
    params : ConvS2SParams, optional
        The hyperparameters; the defaults when None.
    d_target : int
        Target vocabulary size (keyword only).
    """

    def __init__(self, d_input: int, params: ConvS2SParams | None = None, *, d_target: int):
        super().__init__()
        params = ConvS2SParams() if params is None else params
        for name in ("d_embedding", "d_model", "n_encoder_layers", "n_decoder_layers",
                     "kernel_size", "d_decoder_output", "max_positions"):  # fmt: skip
            if getattr(params, name) < 1:
                raise ValueError(f"{name} must be >= 1; got {getattr(params, name)!r}.")
        if not 0.0 <= params.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1); got {params.dropout!r}.")
        self.params = params
        E, C, k, p = params.d_embedding, params.d_model, params.kernel_size, params.dropout
        self.d_output = int(d_target)
        #: the longest target the decoder can take (its learned positions)
        self.max_target_length = params.max_positions
        self.dropout = nn.Dropout(p)
        # positions 0 .. max_positions - 1 are stored one row up: row 0 is the padding row
        self.source_embedding = _embedding(d_input, E)
        self.source_positions = _embedding(params.max_positions + 1, E)
        self.target_embedding = _embedding(d_target, E)
        self.target_positions = _embedding(params.max_positions + 1, E)
        self.encoder_in = _linear(E, C, p)
        self.encoder_convs = nn.ModuleList(
            _conv(C, 2 * C, k, p) for _ in range(params.n_encoder_layers)
        )
        self.encoder_out = _linear(C, E)
        self.decoder_in = _linear(E, C, p)
        self.decoder_convs = nn.ModuleList(
            _conv(C, 2 * C, k, p) for _ in range(params.n_decoder_layers)
        )
        self.attentions = nn.ModuleList(_Attention(C, E) for _ in range(params.n_decoder_layers))
        self.decoder_hidden = _linear(C, params.d_decoder_output)  # fc2
        self.output = _linear(params.d_decoder_output, d_target, p)  # fc3
        self._encoder_gradient_scale = 1.0 / (2.0 * params.n_decoder_layers)

    def _positions(self, table: nn.Embedding, length: int, device) -> torch.Tensor:
        if length > self.params.max_positions:
            raise ValueError(
                f"Sequences of {length} tokens exceed max_positions={self.params.max_positions} "
                "of this ConvS2S model; raise max_positions."
            )
        return table(torch.arange(1, length + 1, device=device))  # (L, E)

    # ------------------------------------------------------------------ encoder
    def encode(self, source: torch.Tensor, source_mask: torch.Tensor | None):
        """``(keys (B, S, E), values (B, S, E))`` of the source ids ``(B, S)``."""
        B, S = source.shape
        if source_mask is None:
            source_mask = torch.ones(B, S, dtype=torch.bool, device=source.device)
        e = self.source_embedding(source) + self._positions(self.source_positions, S, source.device)
        e = self.dropout(e)  # (B, S, E)
        h = self.encoder_in(e)  # (B, S, C)
        k = self.params.kernel_size
        padding = ((k - 1) // 2, k // 2)  # centred (one more on the right for even k)
        keep = source_mask.unsqueeze(1)  # (B, 1, S)
        h = h.transpose(1, 2)  # (B, C, S) for the convolutions
        for conv in self.encoder_convs:
            residual = h
            x = self.dropout(h.masked_fill(~keep, 0.0))  # padding never leaks into real steps
            x = F.glu(conv(F.pad(x, padding)), dim=1)  # (B, C, S)
            h = (x + residual) * _HALF
        z = self.encoder_out(h.transpose(1, 2)).masked_fill(~source_mask.unsqueeze(-1), 0.0)
        if z.requires_grad:
            z = _GradMultiply.apply(z, self._encoder_gradient_scale)
        return z, (z + e) * _HALF

    def init_decoder_state(self, memory, source_mask: torch.Tensor | None) -> dict:
        """The state before the first target step; every tensor is batch-first."""
        keys, values = memory
        B, S, _ = keys.shape
        if source_mask is None:
            source_mask = torch.ones(B, S, dtype=torch.bool, device=keys.device)
        m = source_mask.sum(dim=1).to(keys.dtype)  # real source tokens
        C, k = self.params.d_model, self.params.kernel_size
        return {
            "keys": keys,
            "values": values,
            "mask": source_mask,
            "scale": m.sqrt().view(B, 1, 1),  # c · m · sqrt(1/m) = c · sqrt(m)
            "step": torch.zeros(B, dtype=torch.long, device=keys.device),
            # the last k - 1 inputs of every decoder convolution (zeros: the causal padding)
            "buffers": tuple(
                keys.new_zeros(B, k - 1, C) for _ in range(self.params.n_decoder_layers)
            ),
        }

    # ------------------------------------------------------------------ decoder
    def _decode(self, g, state, convolve):
        """The decoder blocks over ``g`` (B, T, E); ``convolve(index, x)`` runs block ``index``."""
        h = self.decoder_in(g)  # (B, T, C)
        attentions = []
        for index, attention in enumerate(self.attentions):
            residual = h
            x = F.glu(convolve(index, self.dropout(h)), dim=-1)  # (B, T, C)
            x, weights = attention(x, g, state["keys"], state["values"], state["mask"],
                                   state["scale"])  # fmt: skip
            attentions.append(weights)
            h = (x + residual) * _HALF
        logits = self.output(self.dropout(self.decoder_hidden(h)))  # (B, T, V)
        return logits, torch.stack(attentions).mean(dim=0)  # attention averaged over blocks

    def forward(self, source, source_mask, target, target_mask=None) -> torch.Tensor:
        """Teacher forcing: ``target`` (B, T) starting with ``<bos>`` -> logits (B, T, V)."""
        state = self.init_decoder_state(self.encode(source, source_mask), source_mask)
        T = target.shape[1]
        g = self.target_embedding(target) + self._positions(self.target_positions, T, target.device)
        k = self.params.kernel_size

        def causal(index, x):  # (B, T, C) -> (B, T, 2C); step i reads steps i-k+1 .. i
            x = F.pad(x.transpose(1, 2), (k - 1, 0))
            return self.decoder_convs[index](x).transpose(1, 2)

        logits, _ = self._decode(self.dropout(g), state, causal)
        return logits

    def decode_step(self, token: torch.Tensor, state: dict):
        """One target step: ``token`` (B,) -> ``(logits (B, V), state, attention (B, S))``."""
        step = state["step"]  # (B,) position of this token
        if int(step.max()) >= self.params.max_positions:
            raise ValueError(
                f"The decoder reached max_positions={self.params.max_positions} steps."
            )
        g = self.target_embedding(token) + self.target_positions(step + 1)  # (B, E)
        buffers = list(state["buffers"])

        def incremental(index, x):  # x (B, 1, C): the kernel over the buffer and this step
            window = torch.cat([buffers[index], x], dim=1)  # (B, k, C)
            buffers[index] = window[:, 1:]
            conv = self.decoder_convs[index]
            out = torch.einsum("bkc,ock->bo", window, conv.weight) + conv.bias  # (B, 2C)
            return out.unsqueeze(1)

        logits, attention = self._decode(self.dropout(g).unsqueeze(1), state, incremental)
        state = {**state, "step": step + 1, "buffers": tuple(buffers)}
        return logits[:, 0], state, attention[:, 0]
