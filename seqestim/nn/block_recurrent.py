"""Block-Recurrent Transformer: sliding-window attention plus a state updated once per block.

Reference
---------
D. Hutchins, I. Schlag, Y. Wu, E. Dyer, B. Neyshabur. "Block-Recurrent Transformers."
NeurIPS 2022, arXiv:2203.07852. Official code: google-research/meliad.

Computation (batch first; ``d = d_model``; the sequence is cut into blocks of ``W_b =
block_size`` tokens counted from its first token)

- Every layer is a pre-norm transformer layer whose self-attention is causal and *sliding*: the
  query at step ``t`` attends to steps ``t - window_size .. t``, with the T5 relative position
  bias (a learned scalar per head and per bucket of the distance ``t - s``; exact buckets for
  short distances, logarithmic ones up to ``max_distance``). Keys and values of the last
  ``window_size`` steps are cached, so the cost per token is flat in the length of the sequence.
- One layer (``recurrent_layer``, the paper's third from the top) also holds the recurrent
  state ``S`` of ``n_state`` vectors of width ``d``. For each block, with ``X`` its tokens:

  token side (vertical)::

      K, V, Q, Q2 = proj(LN(X))                 # no biases
      S~          = LN(S) + P                    # P: learned state IDs, one per state vector
      Ks, Vs, Qs, Q2s = proj_state(S~)           # the state's own projections
      A_self  = SlidingAttn(Q, K, V)             # the window, with the T5 bias
      A_cross = Attn(Q2, Ks, Vs)                 # every token of the block reads S
      Y = X + Dense([A_self ; A_cross]);  Y = Y + FFN(LN(Y))

  state side (horizontal), once at the end of the block::

      R_self  = Attn(Qs, Ks, Vs)
      R_cross = Attn(Q2s, K_block, V_block)      # the block's token keys, no mask
      h = [R_self ; R_cross];  z = Dense(h)
      fixed gate:  g = σ(b_g);                         S' = g ⊙ S + (1 - g) ⊙ z
      lstm gate:   f = σ(W_f h + b_f + 1), i = σ(W_i h + b_i - 1);  S' = f ⊙ S + i ⊙ z

  The state read by the tokens of block ``m`` is the state after blocks ``0 .. m - 1``, so
  information from a block reaches the next one through ``S`` however far the window reaches.
  The initial state is learned (N(0, 0.1)), the gate biases and state IDs as in the paper.
  ``n_state=0`` removes the recurrence: a sliding-window transformer (the paper's baseline
  without the recurrent layer, but with the same sliding window).

Carrying the state across calls
    The state of the network is: the cached keys and values of every layer, the recurrent
    state ``S``, the keys and values of the tokens of the unfinished block, and the number of
    tokens read so far (for the block boundaries). ``forward_with_state`` continues from it, so a
    text read in chunks of any length (or step by step) gives the outputs of one pass over it.
    Within a call the work is tiled in query tiles of ``block_size``: each tile attends to
    ``window_size`` cached or earlier steps, so time and memory grow linearly with the length.

Deviations from the paper
- The window slides per token (each query sees the ``window_size`` steps before it) instead
  of per block (the queries of a block see the whole previous block and their own prefix).
- The state's cross-attention reads the keys of the block just finished (as in the PyTorch
  port by Wang), not those of the previous block too.
- The recommended "fixed:skip" and "lstm:skip" variants only: no second gate with a
  feed-forward network on the state side.
- Queries and keys are not L2-normalised; attention uses the usual ``1 / sqrt(d_head)``
  scaling. LayerNorm with a bias instead of the paper's scale-only normalisation.
- No Transformer-XL cache across segments beyond the ``window_size`` steps (which is the same
  thing when the window equals a segment), and no dropout inside the state update (as the
  paper: "the recurrent sub-module has no dropout").
"""

from __future__ import annotations

import math

import torch
from torch import nn

from seqestim.nn._contract import mask_to_lengths
from seqestim.nn._params import param, parameter_group
from seqestim.nn._registry import register_model

__all__ = ["BlockRecurrentTransformer", "BlockRecurrentTransformerParams", "t5_bucket"]

_PAPER = (
    "Hutchins, Schlag, Wu, Dyer & Neyshabur (2022). Block-Recurrent Transformers. "
    "NeurIPS 2022, arXiv:2203.07852."
)
_URL = "https://arxiv.org/abs/2203.07852"
GATES = ("fixed", "lstm")


def t5_bucket(distance: torch.Tensor, n_buckets: int, max_distance: int) -> torch.Tensor:
    """T5's causal relative position bucket of ``distance = t - s >= 0``.

    Half the buckets hold one distance each (0, 1, ...); the other half cover the distances up
    to ``max_distance`` on a logarithmic scale; longer distances share the last bucket.
    """
    exact = n_buckets // 2
    distance = distance.clamp(min=0)
    scaled = torch.log(distance.clamp(min=1).double() / exact) / math.log(max_distance / exact)
    far = exact + (scaled * (n_buckets - exact)).long()
    far = far.clamp(max=n_buckets - 1)
    return torch.where(distance < exact, distance, far)


def _heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    """(B, L, d) -> (B, n_heads, L, d / n_heads)."""
    B, L, d = x.shape
    return x.view(B, L, n_heads, d // n_heads).transpose(1, 2)


def _merge(x: torch.Tensor) -> torch.Tensor:
    """(B, n_heads, L, d_head) -> (B, L, d)."""
    B, H, L, dh = x.shape
    return x.transpose(1, 2).reshape(B, L, H * dh)


def _attend(q, k, v, bias=None):
    """Softmax attention, (B, H, Lq, dh) x (B, H, Lk, dh); ``bias`` additive (-inf = masked)."""
    logits = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # (B, H, Lq, Lk)
    if bias is not None:
        logits = logits + bias
    return torch.softmax(logits, dim=-1) @ v  # (B, H, Lq, dh)


class _FeedForward(nn.Sequential):
    def __init__(self, d_model: int, d_ff: int, dropout: float):
        super().__init__(
            nn.Linear(d_model, d_ff), nn.GELU(), nn.Dropout(dropout), nn.Linear(d_ff, d_model)
        )


class _StateUpdate(nn.Module):
    """The horizontal direction: ``S' = gate(S, Dense([R_self ; R_cross]))``."""

    def __init__(self, d_model: int, gate: str):
        super().__init__()
        self.gate = gate
        self.dense = nn.Linear(2 * d_model, d_model)  # z = Dense(h)
        if gate == "fixed":
            self.gate_bias = nn.Parameter(torch.randn(d_model) * 0.1)  # b_g ~ N(0, 0.1)
        else:  # LSTM-style input and forget gates, kernels with variance 0.1 / fan_in
            self.forget = nn.Linear(2 * d_model, d_model)
            self.input = nn.Linear(2 * d_model, d_model)
            for linear in (self.forget, self.input):
                nn.init.normal_(linear.weight, 0.0, math.sqrt(0.1 / (2 * d_model)))
                nn.init.normal_(linear.bias, 0.0, 0.1)

    def forward(self, state: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``state`` (B, N, d), ``h`` (B, N, 2d) -> the next state (B, N, d)."""
        z = self.dense(h)
        if self.gate == "fixed":
            g = torch.sigmoid(self.gate_bias)
            return g * state + (1 - g) * z
        f = torch.sigmoid(self.forget(h) + 1.0)  # biased towards keeping the state
        i = torch.sigmoid(self.input(h) - 1.0)
        return f * state + i * z


class _Layer(nn.Module):
    """One pre-norm layer: sliding-window self-attention (and the recurrence), feed-forward."""

    def __init__(self, p, recurrent: bool):
        super().__init__()
        d, self.n_heads = p.d_model, p.n_heads
        self.window, self.block = p.window_size, p.block_size
        self.cache_size = max(p.window_size, p.block_size - 1)
        self.n_buckets, self.max_distance = p.n_buckets, p.max_distance
        self.norm = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.position_bias = nn.Embedding(p.n_buckets, p.n_heads)  # T5 bias, per head
        nn.init.zeros_(self.position_bias.weight)
        self.recurrent = recurrent and p.n_state > 0
        self.out = nn.Linear((2 if self.recurrent else 1) * d, d, bias=False)
        self.ff_norm = nn.LayerNorm(d)
        self.ff = _FeedForward(d, p.d_ff or 4 * d, p.dropout)
        self.dropout = nn.Dropout(p.dropout)
        if self.recurrent:
            self.n_state = p.n_state
            self.query2 = nn.Linear(d, d, bias=False)  # the tokens' queries to the state
            self.state_norm = nn.LayerNorm(d)
            self.state_ids = nn.Parameter(torch.randn(p.n_state, d))  # learned IDs, N(0, 1)
            self.state_proj = nn.Linear(d, 4 * d, bias=False)  # Ks, Vs, Qs, Q2s
            self.initial_state = nn.Parameter(torch.randn(p.n_state, d) * 0.1)
            self.update = _StateUpdate(d, p.gate)

    # ---------------------------------------------------------------- state
    def init_state(self, batch_size: int, device=None) -> dict:
        reference = self.qkv.weight
        d_head = reference.shape[1] // self.n_heads
        shape = (batch_size, self.n_heads, self.cache_size, d_head)
        state = {
            "k": reference.new_zeros(shape, device=device),
            "v": reference.new_zeros(shape, device=device),
        }
        if self.recurrent:
            state["s"] = self.initial_state.to(device).expand(batch_size, -1, -1)
        return state

    def _state_kv(self, s: torch.Tensor):
        """``s`` (B, N, d) -> Ks, Vs, Qs, Q2s, each (B, H, N, d_head)."""
        projected = self.state_proj(self.state_norm(s) + self.state_ids)  # S~ = LN(S) + P
        return [_heads(part, self.n_heads) for part in projected.chunk(4, dim=-1)]

    # ---------------------------------------------------------------- forward
    def forward(self, x, state, seen, lengths):
        """``x`` (B, L, d) continuing ``state`` after ``seen`` (B,) tokens; ``lengths`` (B,).

        Returns the outputs (B, L, d) and the state after the last real step of every row.
        """
        B, L, _ = x.shape
        C, W = self.cache_size, self.window
        q, k, v = (_heads(t, self.n_heads) for t in self.qkv(self.norm(x)).chunk(3, dim=-1))
        keys = torch.cat([state["k"], k], dim=2)  # (B, H, C + L, dh): step j at index C + j
        values = torch.cat([state["v"], v], dim=2)
        # cache index c < C holds step c - C of the row (before this call): valid if read
        cached = torch.arange(C, device=x.device).unsqueeze(0) >= C - seen.clamp(max=C)[:, None]
        valid = torch.cat([cached, cached.new_ones(B, L)], dim=1)  # (B, C + L) keys read
        attended = []
        for start in range(0, L, self.block):  # query tiles: linear cost in L
            stop = min(start + self.block, L)
            lo = C + start - W  # index of the oldest key a query of the tile may read (C >= W)
            query_steps = torch.arange(start, stop, device=x.device)  # (T,)
            key_steps = torch.arange(start - W, stop, device=x.device)  # (W + T,)
            distance = query_steps[:, None] - key_steps[None, :]  # (T, W + T)
            allowed = (distance >= 0) & (distance <= W)  # the causal sliding window
            keep = allowed.unsqueeze(0) & valid[:, None, lo : C + stop]  # (B, T, W + T)
            bucket = t5_bucket(distance, self.n_buckets, self.max_distance)
            bias = self.position_bias(bucket).permute(2, 0, 1).unsqueeze(0)  # (1, H, T, W + T)
            bias = torch.where(keep.unsqueeze(1), bias, float("-inf"))  # (B, H, T, W + T)
            tile = _attend(q[:, :, start:stop], keys[:, :, lo : C + stop],
                           values[:, :, lo : C + stop], bias)  # fmt: skip
            attended.append(tile)  # (B, H, T, dh)
        a_self = _merge(torch.cat(attended, dim=2))  # (B, L, d)
        # the new cache: the C steps up to the last real one of each row
        index = (lengths[:, None] + torch.arange(C, device=x.device)).view(B, 1, C, 1)
        index = index.expand(-1, self.n_heads, -1, keys.shape[-1])
        new_state = {"k": keys.gather(2, index), "v": values.gather(2, index)}
        if self.recurrent:
            a_cross, new_state["s"] = self._recurrence(x, keys, values, state["s"], seen, lengths)
            a_self = torch.cat([a_self, a_cross], dim=-1)  # (B, L, 2d)
        y = x + self.dropout(self.out(a_self))
        y = y + self.dropout(self.ff(self.ff_norm(y)))
        return y, new_state

    def _recurrence(self, x, keys, values, s, seen, lengths):
        """The tokens' reads of the state and the state updates at the block ends of each row.

        ``keys``/``values`` (B, H, C + L, dh) hold the cached and new token keys.
        """
        B, L, d = x.shape
        C, W_b, H = self.cache_size, self.block, self.n_heads
        done = seen % W_b  # (B,) tokens of the unfinished block already read
        n_ends = (int(done.max()) + L) // W_b  # block ends any row may reach in this call
        states = [s]
        arange = torch.arange(W_b, device=x.device)
        for m in range(n_ends):
            end = W_b - done + m * W_b  # (B,) step after the m-th block end of each row
            complete = end <= lengths  # the block ends at a real step
            index = (C + end - W_b)[:, None] + arange  # (B, W_b) cache/chunk index
            index = index.clamp(max=C + L - 1).view(B, 1, W_b, 1).expand(-1, H, -1, keys.shape[-1])
            k_block, v_block = keys.gather(2, index), values.gather(2, index)  # (B, H, W_b, dh)
            ks, vs, qs, q2s = self._state_kv(s)
            h = torch.cat([_merge(_attend(qs, ks, vs)), _merge(_attend(q2s, k_block, v_block))], -1)
            s = torch.where(complete.view(B, 1, 1), self.update(s, h), s)
            states.append(s)
        # token j of a row reads the state after the block ends before it
        block_of = (done[:, None] + torch.arange(L, device=x.device)) // W_b  # (B, L)
        stacked = torch.stack(states, dim=1)  # (B, n_ends + 1, N, d)
        ks, vs = self._state_kv(stacked.flatten(0, 1))[:2]  # (B (n+1), H, N, dh)
        ks = ks.view(B, -1, H, self.n_state, d // H)
        vs = vs.view(B, -1, H, self.n_state, d // H)
        rows = torch.arange(B, device=x.device)[:, None]
        ks_tok, vs_tok = ks[rows, block_of], vs[rows, block_of]  # (B, L, H, N, dh)
        q2 = self.query2(self.norm(x)).view(B, L, H, d // H)  # (B, L, H, dh)
        logits = torch.einsum("blhe,blhne->blhn", q2, ks_tok) / math.sqrt(d // H)
        read = torch.einsum("blhn,blhne->blhe", torch.softmax(logits, dim=-1), vs_tok)
        return read.reshape(B, L, d), s


@parameter_group
class BlockRecurrentTransformerParams:
    """Hyperparameters of the :class:`BlockRecurrentTransformer` (Hutchins et al. 2022)."""

    d_model: int = param(128, "Width ``d`` of every layer and of the state vectors.")
    n_layers: int = param(2, "Number of transformer layers.")
    n_heads: int = param(4, "Attention heads (``d_model`` must be a multiple).")
    d_ff: int | None = param(
        None, "Width of the feed-forward networks; None means ``4 * d_model``.", kind="int or None"
    )
    block_size: int = param(32, "Tokens per block: the recurrent state is updated once per block.")
    window_size: int = param(32, "Steps before itself each query attends to (the sliding window).")
    n_state: int = param(
        32, "Number of recurrent state vectors; 0 removes the recurrence (sliding window only)."
    )
    gate: str = param(
        "fixed",
        """
        State update: "fixed" (a learned per-feature gate, the paper's recommended variant)
        or "lstm" (input and forget gates computed from the update).
        """,
        kind='{"fixed", "lstm"}',
    )
    recurrent_layer: int | None = param(
        None,
        "Index of the layer that holds the state; None means the paper's third from the top.",
        kind="int or None",
    )
    n_buckets: int = param(32, "Buckets of the T5 relative position bias.")
    max_distance: int = param(128, "Distance from which the T5 buckets stop growing.")
    dropout: float = param(0.0, "Dropout on the attention and feed-forward outputs.")


@register_model(
    "block_recurrent_transformer",
    params=BlockRecurrentTransformerParams,
    paper=_PAPER,
    url=_URL,
    causal=True,
    supports_step=True,
    carries_state=True,
    test_params=(
        {
            "d_model": 8,
            "n_layers": 2,
            "n_heads": 2,
            "block_size": 4,
            "window_size": 3,
            "n_state": 3,
            "recurrent_layer": 0,
        },
        {
            "d_model": 6,
            "n_layers": 1,
            "n_heads": 1,
            "block_size": 5,
            "window_size": 6,
            "n_state": 2,
            "gate": "lstm",
            "n_buckets": 4,
            "max_distance": 8,
        },
    ),
    description="block-recurrent transformer: sliding-window attention and a block-wise state",
)
class BlockRecurrentTransformer(nn.Module):
    """Block-Recurrent Transformer of Hutchins et al. (2022).

    Parameters
    ----------
    d_input : int
        Number of input features (the embedding width in a language model).
    params : BlockRecurrentTransformerParams, optional
        The hyperparameters; ``BlockRecurrentTransformerParams()`` when omitted.
    """

    onnx_unsupported = (
        "its block loop over the sequence is Python control flow, which a trace fixes to one length"
    )

    bidirectional = False
    causal = True
    carries_state = True

    def __init__(self, d_input: int, params: BlockRecurrentTransformerParams | None = None):
        super().__init__()
        p = BlockRecurrentTransformerParams() if params is None else params
        for name in ("d_model", "n_layers", "n_heads", "block_size", "window_size", "n_buckets"):
            if getattr(p, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(p, name)}.")
        if p.d_model % p.n_heads:
            raise ValueError(f"d_model ({p.d_model}) must be a multiple of n_heads ({p.n_heads}).")
        if p.n_state < 0:
            raise ValueError(f"n_state must be a non-negative integer, got {p.n_state}.")
        if p.d_ff is not None and p.d_ff < 1:
            raise ValueError(f"d_ff must be None or a positive integer, got {p.d_ff}.")
        if p.gate not in GATES:
            raise ValueError(f"gate must be one of {GATES}, got {p.gate!r}.")
        if p.max_distance <= p.n_buckets // 2:
            raise ValueError(
                f"max_distance ({p.max_distance}) must exceed n_buckets // 2 ({p.n_buckets // 2})."
            )
        if not 0.0 <= p.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {p.dropout}.")
        recurrent = max(0, p.n_layers - 3) if p.recurrent_layer is None else p.recurrent_layer
        if not 0 <= recurrent < p.n_layers:
            raise ValueError(
                f"recurrent_layer must be None or in [0, {p.n_layers}), got {p.recurrent_layer}."
            )
        self.params = p
        self.encoder = nn.Linear(d_input, p.d_model)
        self.layers = nn.ModuleList(_Layer(p, i == recurrent) for i in range(p.n_layers))
        self.norm = nn.LayerNorm(p.d_model)
        self.d_output = p.d_model

    def init_state(self, batch_size: int, device=None) -> dict:
        """Empty caches, the learned initial state, and no token read."""
        seen = torch.zeros(batch_size, dtype=torch.long, device=device)
        return {
            "seen": seen,
            "layers": [layer.init_state(batch_size, device) for layer in self.layers],
        }

    def forward_with_state(self, x: torch.Tensor, state=None, mask: torch.Tensor | None = None):
        """Continue the sequences from ``state`` (None: the initial state).

        ``x`` (B, L, d_input), ``mask`` (B, L) -> (``y`` (B, L, d_model), the state after the
        last real step of every row); see :mod:`seqestim.nn._contract`.
        """
        B, L, _ = x.shape
        if state is None:
            state = self.init_state(B, device=x.device)
        lengths = mask_to_lengths(mask, B, L, x.device)  # (B,)
        seen = state["seen"]
        h = self.encoder(x)  # (B, L, d)
        layer_states = []
        for layer, layer_state in zip(self.layers, state["layers"], strict=True):
            h, layer_state = layer(h, layer_state, seen, lengths)
            layer_states.append(layer_state)
        y = self.norm(h)
        if mask is not None:  # causal: padding reached only the padded steps; zero them
            y = y.masked_fill(~mask.unsqueeze(-1), 0.0)
        return y, {"seen": seen + lengths, "layers": layer_states}

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, L, d_input), ``mask`` (B, L) -> (B, L, d_model)."""
        return self.forward_with_state(x, None, mask)[0]

    def step(self, x_t: torch.Tensor, state):
        """One step: ``x_t`` (B, d_input) -> (``y_t`` (B, d_model), new state)."""
        y, state = self.forward_with_state(x_t.unsqueeze(1), state)
        return y[:, 0], state
