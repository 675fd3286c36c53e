"""Gated recurrent networks as compared by Chung et al. (2014): tanh RNN, GRU and LSTM.

Reference
---------
J. Chung, C. Gulcehre, K. Cho, Y. Bengio. "Empirical Evaluation of Gated Recurrent Neural
Networks on Sequence Modeling." NIPS 2014 Deep Learning Workshop, arXiv:1412.3555.

Equations (row-vector form, ``⊙`` elementwise; the paper's Eq. numbers in brackets)

- tanh RNN [Eq. 2]:  ``h_t = tanh(x_t W + h_{t-1} U + b)``
- LSTM [Eqs. 3-7], the Graves (2013) variant with diagonal peepholes ``V``::

      i_t = σ(x_t W_i + h_{t-1} U_i + V_i ⊙ c_{t-1} + b_i)
      f_t = σ(x_t W_f + h_{t-1} U_f + V_f ⊙ c_{t-1} + b_f)
      c̃_t = tanh(x_t W_c + h_{t-1} U_c + b_c)
      c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t
      o_t = σ(x_t W_o + h_{t-1} U_o + V_o ⊙ c_t + b_o)
      h_t = o_t ⊙ tanh(c_t)

- GRU [Eqs. 8-12]::

      r_t = σ(x_t W_r + h_{t-1} U_r + b_r)
      z_t = σ(x_t W_z + h_{t-1} U_z + b_z)
      h̃_t = tanh(x_t W + (r_t ⊙ h_{t-1}) U + b)
      h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t

  Note the differences from ``torch.nn.GRU``: there ``z`` weighs the *old* state and the reset
  gate multiplies ``h_{t-1} U`` after the product. ``torch.nn.LSTM`` has no peepholes. Both are
  therefore not used here.

Deviations from the paper, all deliberate:

- Biases ``b`` are included (the paper's equations omit them; its Theano code most likely had
  them). The LSTM forget-gate bias starts at 1 so that early training does not forget by
  default (Gers et al. 2000); every other bias starts at 0.
- Weights start uniform in ``±1/sqrt(d_model)`` as in PyTorch's recurrent layers; the paper
  does not state its initialisation. Peepholes start at 0.
- Multi-layer stacks, inter-layer dropout and the bidirectional option are library additions
  (the paper uses one layer).

The input projections ``x_t W`` of all steps are computed in one matrix product; only the
recurrence itself loops over time, as it must for these models.

Normalization (library option, off by default)
----------------------------------------------
``normalization="layer" | "batch" | "batch_layer" | "assorted_time"`` normalizes the
pre-activations inside every cell with the layers of :mod:`seqestim.nn._normalization` (layer
norm; recurrent batch norm with per-time-step statistics, Cooijmans et al. 2016; batch layer
norm, Ziaee & Çano 2022; assorted-time norm over ``atn_window`` steps, Pospisil et al. 2024).
The sites follow the LN-LSTM layout of the ATN paper: the input projection and the recurrent
projection are normalized separately, the bias ``b`` is added after the normalization, and the
LSTM additionally normalizes the cell state before its output ``tanh`` (the state keeps the
un-normalized ``c_t``)::

    RNN:   h_t = tanh(N_x(x_t W) + N_h(h_{t-1} U) + b)
    GRU:   [r, z] = σ(N_x(x_t W)_{rz} + N_h(h_{t-1} U_{rz}) + b_{rz})
           h̃_t = tanh(N_x(x_t W)_h + N_h̃((r ⊙ h_{t-1}) U_h) + b_h)
    LSTM:  gates = N_x(x_t W) + N_h(h_{t-1} U) + b (+ peepholes on the raw c, as above)
           h_t = o_t ⊙ tanh(N_c(c_t))

``N_x`` normalizes all gates of the input projection together (the GRU's reset/update and
candidate parts share it, as the LN-LSTM's four gates do); each site has its own gain and bias.
Batch-statistic layers use population statistics in evaluation mode, so predictions do not
depend on the other sequences of the batch; ``normalization=None`` runs exactly the
unnormalized equations above. Step-by-step use (``init_state``/``step``) supports ``None`` and
``"layer"`` only: the other layers need the time index or the recent history.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from seqestim.nn._contract import reverse_padded
from seqestim.nn._normalization import check_normalization, make_norm
from seqestim.nn._params import param, parameter_group
from seqestim.nn._registry import register_model

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "GRUCell",
    "LSTMCell",
    "RecurrentParams",
    "RecurrentStackParams",
    "TanhRNNCell",
]

_PAPER = (
    "Chung, Gulcehre, Cho & Bengio (2014). Empirical Evaluation of Gated Recurrent Neural "
    "Networks on Sequence Modeling. arXiv:1412.3555."
)
_URL = "https://arxiv.org/abs/1412.3555"
_TEST_PARAMS = ({"d_model": 6}, {"d_model": 5, "n_layers": 2, "bidirectional": True})


class _Cell(nn.Module):
    """Shared parts of the three cells: ``n_gates`` input and recurrent projections."""

    n_gates = 1
    #: widths, in units of ``d_model``, of the normalization sites used inside the recurrence
    recurrent_norm_sites: tuple[int, ...] = (1,)

    def __init__(
        self,
        d_input: int,
        d_model: int,
        normalization: str | None = None,
        atn_window: int = 25,
        bln_batch_size: int = 32,
    ):
        super().__init__()
        self.d_model = d_model
        self.input_proj = nn.Linear(d_input, self.n_gates * d_model)  # W and b of every gate
        self.recurrent = nn.Parameter(torch.empty(d_model, self.n_gates * d_model))  # U
        bound = 1.0 / math.sqrt(d_model)
        nn.init.uniform_(self.input_proj.weight, -bound, bound)
        nn.init.zeros_(self.input_proj.bias)
        nn.init.uniform_(self.recurrent, -bound, bound)
        self.normalization = normalization
        if normalization is not None:
            options = {"atn_window": atn_window, "bln_batch_size": bln_batch_size}
            self.input_norm = make_norm(normalization, self.n_gates * d_model, **options)
            self.recurrent_norms = nn.ModuleList(
                make_norm(normalization, width * d_model, **options)
                for width in self.recurrent_norm_sites
            )

    def project(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Input projections ``x_t W + b`` of all steps, (B, L, n_gates * H), normalized if set."""
        if self.normalization is None:
            return self.input_proj(x)
        xw = F.linear(x, self.input_proj.weight)  # the bias comes after the normalization
        return self.input_norm.sequence(xw, mask) + self.input_proj.bias

    def init_memory(self):
        """Per-sequence memory of the recurrent normalization sites (None without them)."""
        if self.normalization is None:
            return None
        return [norm.init_memory() for norm in self.recurrent_norms]

    def _norm(self, site: int, a: torch.Tensor, context) -> torch.Tensor:
        """Normalize ``a`` at recurrent site ``site``; identity without normalization.

        ``context`` is None or ``(t, mask_t, memory)``; ``memory`` is updated in place.
        """
        if context is None or self.normalization is None:
            return a
        t, mask_t, memory = context
        out, memory[site] = self.recurrent_norms[site].step(a, t, mask_t, memory[site])
        return out

    def init_state(self, batch_size: int, device=None, dtype=None):
        """Zero state for ``batch_size`` sequences."""
        return torch.zeros(batch_size, self.d_model, device=device, dtype=dtype)

    def output(self, state):
        """The part of ``state`` that is the cell's output ``h``."""
        return state


class TanhRNNCell(_Cell):
    """One step of the tanh RNN, Eq. 2: ``h_t = tanh(x_t W + h_{t-1} U + b)``."""

    def forward(self, projected_x: torch.Tensor, h: torch.Tensor, context=None) -> torch.Tensor:
        """Advance one step given the precomputed ``x_t W + b`` (B, H) and ``h_{t-1}`` (B, H).

        ``context`` ``(t, mask_t, memory)`` is only needed with a normalization.
        """
        return torch.tanh(projected_x + self._norm(0, h @ self.recurrent, context))


class GRUCell(_Cell):
    """One step of the GRU in the paper's form, Eqs. 8-12 (see the module docstring)."""

    n_gates = 3
    recurrent_norm_sites = (2, 1)  # [r, z] and the candidate's (r ⊙ h) U_h

    def forward(self, projected_x: torch.Tensor, h: torch.Tensor, context=None) -> torch.Tensor:
        """Advance one step given the precomputed ``x_t W + b`` (B, 3H) and ``h_{t-1}`` (B, H).

        ``context`` ``(t, mask_t, memory)`` is only needed with a normalization.
        """
        H = self.d_model
        x_r, x_z, x_h = projected_x.split(H, dim=-1)  # (B, H) each
        U_rz, U_h = self.recurrent[:, : 2 * H], self.recurrent[:, 2 * H :]
        h_rz = self._norm(0, h @ U_rz, context)  # (B, 2H)
        r = torch.sigmoid(x_r + h_rz[:, :H])
        z = torch.sigmoid(x_z + h_rz[:, H:])
        # reset applied before the product (Eq. 10)
        h_tilde = torch.tanh(x_h + self._norm(1, (r * h) @ U_h, context))
        return h + z * (h_tilde - h)  # (1 - z) h + z h̃


class LSTMCell(_Cell):
    """One step of the peephole LSTM, Eqs. 3-7 (see the module docstring).

    The state is the pair ``(h, c)`` stacked as a ``(2, B, H)`` tensor.
    """

    n_gates = 4
    recurrent_norm_sites = (4, 1)  # h U (all gates) and the cell state before its tanh

    def __init__(self, d_input: int, d_model: int, **normalization_options):
        super().__init__(d_input, d_model, **normalization_options)
        self.peephole = nn.Parameter(torch.zeros(3, d_model))  # V_i, V_f, V_o (diagonal)
        with torch.no_grad():  # gate order i, f, c, o; forget bias 1 (see module docstring)
            self.input_proj.bias[d_model : 2 * d_model].fill_(1.0)

    def init_state(self, batch_size: int, device=None, dtype=None):
        """Zero ``(h, c)`` for ``batch_size`` sequences, stacked as ``(2, B, H)``."""
        return torch.zeros(2, batch_size, self.d_model, device=device, dtype=dtype)

    def output(self, state):
        """``h`` of the ``(h, c)`` state."""
        return state[0]

    def forward(self, projected_x: torch.Tensor, state: torch.Tensor, context=None):
        """Advance one step given ``x_t W + b`` (B, 4H) and ``(h, c)`` (2, B, H).

        ``context`` ``(t, mask_t, memory)`` is only needed with a normalization.
        """
        h, c = state[0], state[1]
        gates = projected_x + self._norm(0, h @ self.recurrent, context)  # (B, 4H)
        g_i, g_f, g_c, g_o = gates.split(self.d_model, dim=-1)
        V_i, V_f, V_o = self.peephole
        i = torch.sigmoid(g_i + V_i * c)
        f = torch.sigmoid(g_f + V_f * c)
        c = f * c + i * torch.tanh(g_c)
        o = torch.sigmoid(g_o + V_o * c)  # the output gate peeks at the new cell (Eq. 6)
        # the state keeps the raw c; only the output reads the normalized one
        return torch.stack([o * torch.tanh(self._norm(1, c, context)), c])


class _RecurrentLayer(nn.Module):
    """Runs one cell over a sequence; padded steps leave the state unchanged."""

    def __init__(self, cell: _Cell):
        super().__init__()
        self.cell = cell

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        B, L, _ = x.shape
        projected = self.cell.project(x, mask)  # (B, L, n_gates * H), all steps at once
        state = self.cell.init_state(B, device=x.device, dtype=projected.dtype)
        memory = self.cell.init_memory()  # normalization history, local to this pass
        # unbind, not projected[:, t]: the backward of each index would materialise a
        # full-size gradient of ``projected``, O(L) per step and O(L²) in all
        steps = projected.unbind(1)  # L x (B, n_gates * H)
        outputs = []
        for t in range(L):
            if memory is None:
                new_state = self.cell(steps[t], state)
            else:
                mask_t = None if mask is None else mask[:, t]
                new_state = self.cell(steps[t], state, (t, mask_t, memory))
            if mask is not None:  # keep the old state where step t is padding
                keep = mask[:, t].view(*([1] * (state.dim() - 2)), B, 1)
                new_state = torch.where(keep, new_state, state)
            state = new_state
            outputs.append(self.cell.output(state))
        return torch.stack(outputs, dim=1)  # (B, L, H)


@parameter_group
class RecurrentStackParams:
    """The shape of a stack of recurrent layers, shared by every recurrent backbone."""

    d_model: int = param(64, "Number of hidden units per layer and direction.")
    n_layers: int = param(1, "Number of stacked recurrent layers.")
    bidirectional: bool = param(
        False,
        "Also run every layer backwards over the real steps and concatenate both directions.",
    )
    dropout: float = param(0.0, "Dropout probability between stacked layers.")


@parameter_group
class RecurrentParams(RecurrentStackParams):
    """Hyperparameters of the :class:`RNN`, :class:`GRU` and :class:`LSTM` backbones.

    One group for the three recurrent networks of Chung et al. (2014).
    """

    normalization: str | None = param(
        None,
        """
        Normalization of the pre-activations inside every cell (see the module docstring):
        layer norm; recurrent batch norm with per-time-step statistics (population statistics
        at predict time); batch layer norm; assorted-time norm over ``atn_window`` steps.
        """,
        kind='{None, "layer", "batch", "batch_layer", "assorted_time"}',
    )
    atn_window: int = param(
        25, 'Number of recent steps pooled by ``normalization="assorted_time"`` (1 = layer norm).'
    )
    bln_batch_size: int = param(
        32,
        """
        Batch size ``m`` that sets the mixture weights of ``normalization="batch_layer"``;
        match it to the training batch size.
        """,
    )


class _GatedRecurrentNetwork(nn.Module):
    """A stack of recurrent layers, optionally bidirectional, with dropout between layers."""

    cell_class: type[_Cell] = TanhRNNCell

    def __init__(self, d_input: int, params: RecurrentParams | None = None):
        super().__init__()
        params = RecurrentParams() if params is None else params
        if params.d_model < 1 or params.n_layers < 1:
            raise ValueError("d_model and n_layers must be positive integers.")
        if not 0.0 <= params.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {params.dropout}.")
        check_normalization(params.normalization, params.atn_window, params.bln_batch_size)
        self.params = params
        self.normalization = params.normalization
        self.bidirectional = bool(params.bidirectional)
        n_directions = 2 if self.bidirectional else 1
        options = {
            "normalization": params.normalization,
            "atn_window": int(params.atn_window),
            "bln_batch_size": int(params.bln_batch_size),
        }
        self.layers = nn.ModuleList()
        width = d_input
        for _ in range(params.n_layers):
            directions = nn.ModuleList(
                _RecurrentLayer(self.cell_class(width, params.d_model, **options))
                for _ in range(n_directions)
            )
            self.layers.append(directions)
            width = n_directions * params.d_model
        self.dropout = nn.Dropout(params.dropout)
        self.d_output = width

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Run the stack: ``x`` (B, L, d_input), ``mask`` (B, L) -> (B, L, d_output)."""
        h = x
        for index, directions in enumerate(self.layers):
            if index > 0:
                h = self.dropout(h)  # between layers only, as in torch.nn.GRU
            out = directions[0](h, mask)  # (B, L, H)
            if self.bidirectional:
                backward = directions[1](reverse_padded(h, mask), mask)
                out = torch.cat([out, reverse_padded(backward, mask)], dim=-1)  # (B, L, 2H)
            h = out
        return h

    def _check_steppable(self) -> None:
        if self.bidirectional:
            raise RuntimeError("A bidirectional network cannot run step by step.")
        if self.normalization not in (None, "layer"):
            raise RuntimeError(
                f"normalization={self.normalization!r} needs the whole sequence; step by step "
                "supports normalization=None or 'layer' only."
            )

    def init_state(self, batch_size: int, device=None, dtype=None) -> list[torch.Tensor]:
        """Zero states of every layer, for :meth:`step`."""
        self._check_steppable()
        return [d[0].cell.init_state(batch_size, device, dtype) for d in self.layers]

    def step(self, x_t: torch.Tensor, state: list[torch.Tensor]):
        """One step: ``x_t`` (B, d_input) -> (``y_t`` (B, d_output), new state)."""
        self._check_steppable()
        new_state = []
        h = x_t
        for index, (directions, layer_state) in enumerate(zip(self.layers, state, strict=True)):
            if index > 0:
                h = self.dropout(h)
            cell = directions[0].cell
            projected = cell.project(h.unsqueeze(1), None)[:, 0]  # (B, n_gates * H)
            memory = cell.init_memory()  # layer norm keeps no history
            layer_state = cell(
                projected, layer_state, None if memory is None else (0, None, memory)
            )
            new_state.append(layer_state)
            h = cell.output(layer_state)
        return h, new_state


@register_model(
    "rnn",
    params=RecurrentParams,
    paper=_PAPER,
    url=_URL,
    causal=True,
    supports_step=True,
    test_params=_TEST_PARAMS,
    description="tanh recurrent network (the ungated baseline of Chung et al.)",
)
class RNN(_GatedRecurrentNetwork):
    """Stack of tanh RNN layers, Eq. 2 of Chung et al. (2014).

    Parameters
    ----------
    d_input : int
        Number of input channels (set by the estimators from the data).
    params : RecurrentParams, optional
        The hyperparameters; ``RecurrentParams()`` when omitted.
    """

    cell_class = TanhRNNCell


@register_model(
    "gru",
    params=RecurrentParams,
    paper=_PAPER,
    url=_URL,
    causal=True,
    supports_step=True,
    test_params=_TEST_PARAMS,
    description="gated recurrent unit, the paper's form of the update",
)
class GRU(_GatedRecurrentNetwork):
    """Stack of GRU layers, Eqs. 8-12 of Chung et al. (2014).

    Parameters
    ----------
    d_input : int
        Number of input channels (set by the estimators from the data).
    params : RecurrentParams, optional
        The hyperparameters; ``RecurrentParams()`` when omitted.
    """

    cell_class = GRUCell


@register_model(
    "lstm",
    params=RecurrentParams,
    paper=_PAPER,
    url=_URL,
    causal=True,
    supports_step=True,
    test_params=_TEST_PARAMS,
    description="long short-term memory with diagonal peepholes",
)
class LSTM(_GatedRecurrentNetwork):
    """Stack of peephole LSTM layers, Eqs. 3-7 of Chung et al. (2014).

    Parameters
    ----------
    d_input : int
        Number of input channels (set by the estimators from the data).
    params : RecurrentParams, optional
        The hyperparameters; ``RecurrentParams()`` when omitted.
    """

    cell_class = LSTMCell
