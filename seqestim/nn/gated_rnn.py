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

Fast path (``normalization=None``)
----------------------------------
The input projections ``x_t W + b`` of all steps are computed in one matrix product before the
time loop; only the recurrent product ``h_{t-1} U`` and the gate arithmetic stay inside it, as
they must for these models. The loop itself runs in a ``torch.autograd.Function`` per cell
(:class:`_TanhRNNScan`, :class:`_GRUScan`, :class:`_LSTMScan`) with backpropagation through time
written out by hand from the same equations:

- the forward loop records no autograd graph (a handful of fused in-place kernels per step);
- every derivative factor that does not depend on the incoming gradient (``1 - h̃²``,
  ``σ(1 - σ)``, ...) is computed for all steps at once before the backward loop, so that loop
  holds only the chain through ``h`` (and ``c``): a few elementwise products and one matrix
  product with ``Uᵀ`` per step;
- the weight gradients ``Σ_t h_{t-1}ᵀ δ_t`` (and the peepholes') are one matrix product over
  all steps after the loop.

The functions compute exactly the equations above (tests compare outputs and gradients with the
step-by-step cells to 1e-10 in float64). They support first derivatives only (no double
backward), and no ``torch.func`` transforms: under ``vmap``/``grad`` (the per-example gradients
of private training) and with a normalization, whose sites need the step index and the
per-step statistics, the layer steps through the cells.

Carrying the state: ``forward_with_state`` continues the sequences from the states an earlier
call ended with (every layer's ``h``, and ``c`` for the LSTM), so a long sequence can be read in
chunks. The fast path starts from that state (its backward pass also returns the gradient of
the initial state), as does the step-by-step path. A unidirectional stack without a normalization
or with layer norm carries its state; a bidirectional one, or one whose normalization needs the
step index or the recent history, cannot continue a sequence.

``implementation="torch"`` runs PyTorch's own recurrent kernels instead (``torch.rnn_tanh`` and
``torch.lstm``, the functions behind ``torch.nn.RNN``/``LSTM``: oneDNN on a CPU, cuDNN on a GPU)
on the same parameters, where they compute the same cell: the tanh RNN, and the LSTM with
``peepholes=False`` (Eqs. 3-7 with ``V = 0``, the standard LSTM), both without a
normalization. ``forward_with_state`` always runs the library's fast path, on the same
parameters. PyTorch's GRU is a different cell (the reset gate multiplies ``h_{t-1} U`` after
the product, and ``z`` weighs the old state), so the GRU has no such option. The two
implementations share parameters, so a model trained with one predicts identically (up to
rounding) with the other.

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

from seqestim.nn._contract import outside_autocast, reverse_padded
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
        """Zero state for ``batch_size`` sequences, in the dtype of the weights by default."""
        dtype = self.recurrent.dtype if dtype is None else dtype
        return torch.zeros(batch_size, self.d_model, device=device, dtype=dtype)

    def output(self, state):
        """The part of ``state`` that is the cell's output ``h``."""
        return state

    def scan(self, projected: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Outputs ``h_t`` of all steps, (B, L, H), from the projections of :meth:`project`.

        The fast path of the module docstring; the cells without a normalization only.
        """
        return self.scan_with_state(projected, mask, None)[0]

    @outside_autocast
    def scan_with_state(self, projected: torch.Tensor, mask: torch.Tensor | None, state):
        """The fast path from ``state`` (None: zeros): (outputs (B, L, H), state after the end).

        Padded steps keep the state, so the state after the end is the state after the last
        real step of each row.
        """
        raise NotImplementedError

    #: PyTorch's kernel computing this cell (``torch.rnn_tanh``, ``torch.lstm``), if any
    torch_kernel = None

    def torch_sequence(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Outputs ``h_t`` of all steps, (B, L, H), from the inputs ``x`` (B, L, C), by torch.

        PyTorch's kernel on this cell's own parameters (``implementation="torch"``). Padded
        steps give zero outputs; the real steps are those of the unpadded sequences.
        """
        B, L, _ = x.shape
        zeros = torch.zeros(1, B, self.d_model, device=x.device, dtype=x.dtype)
        hx = (zeros, zeros) if self.torch_kernel is torch.lstm else zeros
        # torch's weights: W_ih (gates, C), W_hh (gates, H), b_ih, b_hh (our b is all of it)
        weights = [
            self.input_proj.weight,
            self.recurrent.T,
            self.input_proj.bias,
            torch.zeros_like(self.input_proj.bias),
        ]
        options = (True, 1, 0.0, self.training, False)  # biases, layers, dropout, train, bidir.
        if mask is None:
            return self.torch_kernel(x, hx, weights, *options, True)[0]  # batch first
        lengths = mask.sum(dim=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths, batch_first=True, enforce_sorted=False
        )
        data = self.torch_kernel(packed.data, packed.batch_sizes, hx, weights, *options)[0]
        out = nn.utils.rnn.PackedSequence(
            data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices
        )
        return nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=L)[0]


class TanhRNNCell(_Cell):
    """One step of the tanh RNN, Eq. 2: ``h_t = tanh(x_t W + h_{t-1} U + b)``."""

    torch_kernel = staticmethod(torch.rnn_tanh)

    def forward(self, projected_x: torch.Tensor, h: torch.Tensor, context=None) -> torch.Tensor:
        """Advance one step given the precomputed ``x_t W + b`` (B, H) and ``h_{t-1}`` (B, H).

        ``context`` ``(t, mask_t, memory)`` is only needed with a normalization.
        """
        return torch.tanh(projected_x + self._norm(0, h @ self.recurrent, context))

    @outside_autocast
    def scan_with_state(self, projected: torch.Tensor, mask: torch.Tensor | None, state):
        """Outputs of all steps (B, L, H) and the last state by the fast path, from ``state``."""
        if state is None:
            state = self.init_state(projected.shape[0], projected.device, projected.dtype)
        hs = _TanhRNNScan.apply(projected, self.recurrent, _keep_mask(mask), state)
        return hs, hs[:, -1]


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

    @outside_autocast
    def scan_with_state(self, projected: torch.Tensor, mask: torch.Tensor | None, state):
        """Outputs of all steps (B, L, H) and the last state by the fast path, from ``state``."""
        if state is None:
            state = self.init_state(projected.shape[0], projected.device, projected.dtype)
        hs = _GRUScan.apply(projected, self.recurrent, _keep_mask(mask), state)
        return hs, hs[:, -1]


class LSTMCell(_Cell):
    """One step of the peephole LSTM, Eqs. 3-7 (see the module docstring).

    The state is the pair ``(h, c)`` stacked as a ``(B, 2, H)`` tensor (batch first, as the
    contract asks of carried states).
    """

    n_gates = 4
    recurrent_norm_sites = (4, 1)  # h U (all gates) and the cell state before its tanh
    torch_kernel = staticmethod(torch.lstm)

    def __init__(self, d_input: int, d_model: int, peepholes: bool = True, **normalization_options):
        super().__init__(d_input, d_model, **normalization_options)
        self.peepholes = bool(peepholes)
        if self.peepholes:
            self.peephole = nn.Parameter(torch.zeros(3, d_model))  # V_i, V_f, V_o (diagonal)
        else:  # the standard LSTM: V = 0, fixed
            self.register_buffer("peephole", torch.zeros(3, d_model), persistent=False)
        with torch.no_grad():  # gate order i, f, c, o; forget bias 1 (see module docstring)
            self.input_proj.bias[d_model : 2 * d_model].fill_(1.0)

    def init_state(self, batch_size: int, device=None, dtype=None):
        """Zero ``(h, c)`` for ``batch_size`` sequences, stacked as ``(B, 2, H)``."""
        dtype = self.recurrent.dtype if dtype is None else dtype
        return torch.zeros(batch_size, 2, self.d_model, device=device, dtype=dtype)

    def output(self, state):
        """``h`` of the ``(h, c)`` state."""
        return state[:, 0]

    def forward(self, projected_x: torch.Tensor, state: torch.Tensor, context=None):
        """Advance one step given ``x_t W + b`` (B, 4H) and ``(h, c)`` (B, 2, H).

        ``context`` ``(t, mask_t, memory)`` is only needed with a normalization.
        """
        h, c = state[:, 0], state[:, 1]
        gates = projected_x + self._norm(0, h @ self.recurrent, context)  # (B, 4H)
        g_i, g_f, g_c, g_o = gates.split(self.d_model, dim=-1)
        V_i, V_f, V_o = self.peephole
        i = torch.sigmoid(g_i + V_i * c)
        f = torch.sigmoid(g_f + V_f * c)
        c = f * c + i * torch.tanh(g_c)
        o = torch.sigmoid(g_o + V_o * c)  # the output gate peeks at the new cell (Eq. 6)
        # the state keeps the raw c; only the output reads the normalized one
        return torch.stack([o * torch.tanh(self._norm(1, c, context)), c], dim=1)

    @outside_autocast
    def scan_with_state(self, projected: torch.Tensor, mask: torch.Tensor | None, state):
        """Outputs ``h`` of all steps (B, L, H) and the last ``(h, c)`` (B, 2, H) from ``state``."""
        if state is None:
            state = self.init_state(projected.shape[0], projected.device, projected.dtype)
        hs, c_last = _LSTMScan.apply(
            projected, self.recurrent, self.peephole, _keep_mask(mask), state[:, 0], state[:, 1]
        )
        return hs, torch.stack([hs[:, -1], c_last], dim=1)


# ----------------------------------------------------------------------------------------------
# Fast path: the time loop with hand-written backpropagation through time (module docstring).
# All tensors inside are time-major, (L, B, ·), so that the slice of step t is contiguous.
# ``keep`` is (L, B, 1) bool (True = real step) or None; at a padded step the state is kept.
# ----------------------------------------------------------------------------------------------


def _time_major(x: torch.Tensor) -> torch.Tensor:
    """A new contiguous tensor (never a view of ``x``): (B, L, ·) <-> (L, B, ·)."""
    return x.transpose(0, 1).clone(memory_format=torch.contiguous_format)


def _previous(states: torch.Tensor, initial: torch.Tensor) -> torch.Tensor:
    """``s_{t-1}`` for every step, ``initial`` (B, H) before the first: (L, B, H) -> (L, B, H)."""
    return torch.cat([initial.unsqueeze(0), states[:-1]], dim=0)


def _keep_mask(mask: torch.Tensor | None) -> torch.Tensor | None:
    return None if mask is None else mask.transpose(0, 1).unsqueeze(-1)  # (L, B, 1)


class _TanhRNNScan(torch.autograd.Function):
    """``h_t = tanh(a_t + h_{t-1} U)`` over all steps, for precomputed ``a_t = x_t W + b``."""

    @staticmethod
    def forward(ctx, projected, U, keep, h0):
        hs = _time_major(projected)  # (L, B, H): a_t, then h_t in place
        U, h0 = U.detach(), h0.detach()  # h0: the state before the first step, (B, H)
        h = h0
        for t, h_new in enumerate(hs.unbind(0)):
            h_new.addmm_(h, U).tanh_()  # Eq. 2
            if keep is not None:
                torch.where(keep[t], h_new, h, out=h_new)
            h = h_new
        ctx.save_for_backward(hs, U, keep, h0)
        return hs.transpose(0, 1)  # (B, L, H)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        hs, U, keep, h0 = ctx.saved_tensors
        grads = _time_major(grad_out)  # (L, B, H)
        L, B, H = hs.shape
        derivative = 1 - hs * hs  # tanh' for all steps at once
        passes = None
        if keep is not None:  # nothing flows into a padded step; h passes on unchanged
            derivative = derivative * keep
            passes = (~keep).to(hs.dtype)
        d_pre = torch.empty_like(hs)  # δ_t = ∂loss/∂(a_t + h_{t-1} U)
        U_T = U.T
        dh = hs.new_zeros(B, H)  # ∂loss/∂h_t from step t+1
        for t in range(L - 1, -1, -1):
            g = grads[t] + dh
            torch.mul(g, derivative[t], out=d_pre[t])
            dh = d_pre[t] @ U_T
            if passes is not None:
                dh.addcmul_(g, passes[t])
        d_U = _previous(hs, h0).flatten(0, 1).T @ d_pre.flatten(0, 1)  # Σ_t h_{t-1}ᵀ δ_t
        return d_pre.transpose(0, 1), d_U, None, dh  # dh: ∂loss/∂h_{-1}


class _GRUScan(torch.autograd.Function):
    """The GRU of Eqs. 8-12 over all steps, for precomputed ``[a_r, a_z, a_h] = x_t W + b``."""

    @staticmethod
    def forward(ctx, projected, U, keep, h0):
        gates = _time_major(projected)  # (L, B, 3H): x_t W + b, then r, z, h̃ in place
        L, B, H3 = gates.shape
        H = H3 // 3
        U, h0 = U.detach(), h0.detach()  # h0: the state before the first step, (B, H)
        U_rz, U_h = U[:, : 2 * H], U[:, 2 * H :]
        hs = gates.new_empty(L, B, H)
        h = h0
        for t, (g, h_new) in enumerate(zip(gates.unbind(0), hs.unbind(0), strict=True)):
            rz = g[:, : 2 * H].addmm_(h, U_rz).sigmoid_()  # Eqs. 8-9
            r, z = rz[:, :H], rz[:, H:]
            h_tilde = g[:, 2 * H :].addmm_(r * h, U_h).tanh_()  # reset before the product, Eq. 10
            torch.lerp(h, h_tilde, z, out=h_new)  # (1 - z) h + z h̃, Eq. 11
            if keep is not None:
                torch.where(keep[t], h_new, h, out=h_new)
            h = h_new
        ctx.save_for_backward(gates, hs, U, keep, h0)
        return hs.transpose(0, 1)  # (B, L, H)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        gates, hs, U, keep, h0 = ctx.saved_tensors
        grads = _time_major(grad_out)  # (L, B, H)
        L, B, H = hs.shape
        r, z, h_tilde = gates.unflatten(-1, (3, H)).unbind(-2)  # (L, B, H) each
        h_prev = _previous(hs, h0)
        # With g = ∂loss/∂h_t and h = h_{t-1}:
        #   δ_h̃ = g z (1 - h̃²),  δ_z = g (h̃ - h) z (1 - z),  δ_r = (δ_h̃ U_hᵀ) h r (1 - r)
        #   ∂loss/∂h_{t-1} = g (1 - z) + (δ_h̃ U_hᵀ) r + [δ_r δ_z] U_rzᵀ
        # Every factor that multiplies g is computed for all steps at once here:
        z_real = z if keep is None else z * keep  # 0 at a padded step: nothing flows in
        factor_h = z_real * (1 - h_tilde * h_tilde)
        factor_z = (h_tilde - h_prev) * z_real * (1 - z)
        factor_r = h_prev * r * (1 - r)
        carry = 1 - z_real  # 1 at a padded step: the state passes on unchanged
        U_rz_T, U_h_T = U[:, : 2 * H].T, U[:, 2 * H :].T
        d_gates = torch.empty_like(gates)  # δ of [r, z, h̃] pre-activations, (L, B, 3H)
        dh = hs.new_zeros(B, H)  # from step t+1
        for t in range(L - 1, -1, -1):
            g = grads[t] + dh
            d = d_gates[t]  # (B, 3H)
            d_h = torch.mul(g, factor_h[t], out=d[:, 2 * H :])
            dq = d_h @ U_h_T  # ∂loss/∂(r ⊙ h_{t-1})
            torch.mul(dq, factor_r[t], out=d[:, :H])
            torch.mul(g, factor_z[t], out=d[:, H : 2 * H])
            dh = (g * carry[t]).addcmul_(dq, r[t]).addmm_(d[:, : 2 * H], U_rz_T)
        d_U_rz = h_prev.flatten(0, 1).T @ d_gates[..., : 2 * H].flatten(0, 1)  # Σ_t h_{t-1}ᵀ δ
        d_U_h = (r * h_prev).flatten(0, 1).T @ d_gates[..., 2 * H :].flatten(0, 1)
        d_U = torch.cat([d_U_rz, d_U_h], dim=1)
        return d_gates.transpose(0, 1), d_U, None, dh  # dh: ∂loss/∂h_{-1}


class _LSTMScan(torch.autograd.Function):
    """The peephole LSTM of Eqs. 3-7 over all steps, for precomputed ``x_t W + b`` (i, f, c, o).

    Starts from ``h0``, ``c0`` (B, H); returns every ``h_t`` (B, L, H) and the last ``c`` (B, H).
    """

    @staticmethod
    def forward(ctx, projected, U, peephole, keep, h0, c0):
        gates = _time_major(projected)  # (L, B, 4H): x_t W + b, then i, f, c̃, o in place
        L, B, H4 = gates.shape
        H = H4 // 4
        U, peephole, h0, c0 = U.detach(), peephole.detach(), h0.detach(), c0.detach()
        V_if, V_o = peephole[:2], peephole[2]  # (2, H), (H,)
        cells = gates.new_empty(L, B, H)  # c_t
        tanh_cells = gates.new_empty(L, B, H)  # tanh(c_t)
        hs = gates.new_empty(L, B, H)
        h, c = h0, c0
        steps = zip(
            gates.unbind(0), cells.unbind(0), tanh_cells.unbind(0), hs.unbind(0), strict=True
        )
        for t, (g, c_new, tanh_c, h_new) in enumerate(steps):
            g.addmm_(h, U)  # (B, 4H) pre-activations
            i_f = g[:, : 2 * H].view(B, 2, H)
            i_f.addcmul_(c.unsqueeze(1), V_if).sigmoid_()  # peepholes on c_{t-1} (Eqs. 3-4)
            c_tilde = g[:, 2 * H : 3 * H].tanh_()
            torch.mul(i_f[:, 1], c, out=c_new).addcmul_(i_f[:, 0], c_tilde)  # Eq. 5
            o = g[:, 3 * H :].addcmul_(c_new, V_o).sigmoid_()  # peeks at the new cell (Eq. 6)
            torch.mul(o, torch.tanh(c_new, out=tanh_c), out=h_new)  # Eq. 7
            if keep is not None:
                torch.where(keep[t], h_new, h, out=h_new)
                torch.where(keep[t], c_new, c, out=c_new)
            h, c = h_new, c_new
        ctx.save_for_backward(gates, cells, tanh_cells, hs, U, peephole, keep, h0, c0)
        return hs.transpose(0, 1), cells[-1].clone()  # (B, L, H), (B, H)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out, grad_c_last):
        gates, cells, tanh_cells, hs, U, peephole, keep, h0, c0 = ctx.saved_tensors
        grads = _time_major(grad_out)  # (L, B, H)
        L, B, H = hs.shape
        i, f, c_tilde, o = gates.unflatten(-1, (4, H)).unbind(-2)  # (L, B, H) each
        c_prev = _previous(cells, c0)
        V_i, V_f, V_o = peephole
        # With g_h = ∂loss/∂h_t and g_c = ∂loss/∂c_t (everything that reaches c_t):
        #   δ_o = g_h tanh(c) o (1 - o)
        #   g_c = ∂loss/∂c_t from step t+1  +  g_h o (1 - tanh² c)  +  δ_o V_o
        #   δ_i = g_c c̃ i (1 - i),  δ_f = g_c c_{t-1} f (1 - f),  δ_c̃ = g_c i (1 - c̃²)
        #   ∂loss/∂c_{t-1} = g_c f + δ_i V_i + δ_f V_f,  ∂loss/∂h_{t-1} = [δ_i δ_f δ_c̃ δ_o] Uᵀ
        # Every factor that multiplies g_h or g_c is computed for all steps at once here:
        factor_o = tanh_cells * o * (1 - o)  # δ_o = g_h factor_o
        factor_c = o * (1 - tanh_cells * tanh_cells) + factor_o * V_o  # g_c = dc + g_h factor_c
        factor_ifc = torch.stack(  # [δ_i, δ_f, δ_c̃] = g_c factor_ifc
            [c_tilde * i * (1 - i), c_prev * f * (1 - f), i * (1 - c_tilde * c_tilde)], dim=2
        )  # (L, B, 3, H)
        carry = f + factor_ifc[:, :, 0] * V_i + factor_ifc[:, :, 1] * V_f  # dc = g_c carry
        passes = None
        if keep is not None:  # nothing flows into a padded step; c and h pass on unchanged
            factor_o, factor_c = factor_o * keep, factor_c * keep
            factor_ifc = factor_ifc * keep.unsqueeze(-1)
            carry = torch.where(keep, carry, 1.0)
            passes = (~keep).to(hs.dtype)
        U_T = U.T
        d_gates = torch.empty_like(gates)  # δ of the four pre-activations, (L, B, 4H)
        dh, dc = hs.new_zeros(B, H), grad_c_last  # from step t+1 (the last c: from outside)
        for t in range(L - 1, -1, -1):
            g_h = grads[t] + dh
            d = d_gates[t]  # (B, 4H)
            torch.mul(g_h, factor_o[t], out=d[:, 3 * H :])
            g_c = torch.addcmul(dc, g_h, factor_c[t])
            torch.mul(g_c.unsqueeze(1), factor_ifc[t], out=d[:, : 3 * H].view(B, 3, H))
            dc = g_c * carry[t]
            dh = d @ U_T
            if passes is not None:
                dh.addcmul_(g_h, passes[t])
        d_U = _previous(hs, h0).flatten(0, 1).T @ d_gates.flatten(0, 1)  # Σ_t h_{t-1}ᵀ δ_t
        d_peephole = None
        if ctx.needs_input_grad[2]:
            d_i, d_f, _, d_o = d_gates.unflatten(-1, (4, H)).unbind(-2)
            d_peephole = torch.stack(
                [(d_i * c_prev).sum((0, 1)), (d_f * c_prev).sum((0, 1)), (d_o * cells).sum((0, 1))]
            )
        # dh, dc: ∂loss/∂h_{-1}, ∂loss/∂c_{-1}
        return d_gates.transpose(0, 1), d_U, d_peephole, None, dh, dc


class _RecurrentLayer(nn.Module):
    """Runs one cell over a sequence; padded steps leave the state unchanged."""

    def __init__(self, cell: _Cell, implementation: str = "seqestim"):
        super().__init__()
        self.cell = cell
        self.implementation = implementation

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        if self.implementation == "torch":
            return self.cell.torch_sequence(x, mask)
        return self.run(x, mask)[0]

    def run(self, x: torch.Tensor, mask: torch.Tensor | None, state=None):
        """Outputs (B, L, H) and the state after the last real step, starting from ``state``.

        ``state`` None starts from zeros. Always the library's own paths (fast or step by step).
        """
        projected = self.cell.project(x, mask)  # (B, L, n_gates * H), all steps at once
        # the fast path; under torch.func transforms (vmap of grad: per-example gradients of
        # private training) its hand-written backward does not apply, so the cells step
        if self.cell.normalization is None and not torch._C._are_functorch_transforms_active():
            return self.cell.scan_with_state(projected, mask, state)
        return self.steps_with_state(projected, mask, state)

    def step_by_step(self, projected: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Run the cell step by step over precomputed projections: (B, L, H).

        The general path (every normalization) and the reference the fast path is tested
        against.
        """
        return self.steps_with_state(projected, mask, None)[0]

    def steps_with_state(self, projected: torch.Tensor, mask: torch.Tensor | None, state):
        """:meth:`step_by_step` from ``state`` (None: zeros): (outputs, state after the end)."""
        B, L, _ = projected.shape
        if state is None:
            state = self.cell.init_state(B, device=projected.device, dtype=projected.dtype)
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
                keep = mask[:, t].view(B, *([1] * (state.dim() - 1)))
                new_state = torch.where(keep, new_state, state)
            state = new_state
            outputs.append(self.cell.output(state))
        return torch.stack(outputs, dim=1), state  # (B, L, H), the state after the last real step


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
    peepholes: bool = param(
        True,
        """
        LSTM only (the RNN and GRU ignore it): the diagonal peephole connections ``V`` of
        Eqs. 3-6, as in the paper. False gives the standard LSTM without them.
        """,
    )
    implementation: str = param(
        "seqestim",
        """
        ``"seqestim"``: the library's time loop (see the module docstring). ``"torch"``:
        PyTorch's own kernels (``torch.rnn_tanh``, ``torch.lstm``; oneDNN on a CPU, cuDNN on a
        GPU) on the same parameters, for the cells they compute exactly: the tanh RNN, and the
        LSTM with ``peepholes=False``, without a normalization. PyTorch's GRU is a different
        cell, so the GRU has only ``"seqestim"``.
        """,
        kind='{"seqestim", "torch"}',
    )


class _GatedRecurrentNetwork(nn.Module):
    """A stack of recurrent layers, optionally bidirectional, with dropout between layers."""

    cell_class: type[_Cell] = TanhRNNCell
    # the recurrence is a Python loop over time: ONNX export runs `step` in an ONNX Loop
    onnx_export = "steps"

    def __init__(self, d_input: int, params: RecurrentParams | None = None):
        super().__init__()
        params = RecurrentParams() if params is None else params
        if params.d_model < 1 or params.n_layers < 1:
            raise ValueError("d_model and n_layers must be positive integers.")
        if not 0.0 <= params.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {params.dropout}.")
        check_normalization(params.normalization, params.atn_window, params.bln_batch_size)
        self._check_implementation(params)
        self.params = params
        self.normalization = params.normalization
        self.bidirectional = bool(params.bidirectional)
        n_directions = 2 if self.bidirectional else 1
        options = {
            "normalization": params.normalization,
            "atn_window": int(params.atn_window),
            "bln_batch_size": int(params.bln_batch_size),
        }
        if self.cell_class is LSTMCell:
            options["peepholes"] = bool(params.peepholes)
        self.layers = nn.ModuleList()
        width = d_input
        for _ in range(params.n_layers):
            directions = nn.ModuleList(
                _RecurrentLayer(
                    self.cell_class(width, params.d_model, **options), params.implementation
                )
                for _ in range(n_directions)
            )
            self.layers.append(directions)
            width = n_directions * params.d_model
        self.dropout = nn.Dropout(params.dropout)
        self.d_output = width
        # continuing a sequence needs one direction and normalizations without a time index
        self.carries_state = not self.bidirectional and self.normalization in (None, "layer")

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

    def _check_implementation(self, params: RecurrentParams) -> None:
        if params.implementation not in ("seqestim", "torch"):
            raise ValueError(
                f'implementation must be "seqestim" or "torch"; got {params.implementation!r}.'
            )
        if params.implementation != "torch":
            return
        if self.cell_class.torch_kernel is None:
            raise ValueError(
                'implementation="torch" is not available for the GRU: torch.nn.GRU computes a '
                "different cell (reset gate after the recurrent product)."
            )
        if self.cell_class is LSTMCell and params.peepholes:
            raise ValueError(
                'implementation="torch" needs peepholes=False: PyTorch\'s LSTM has no peepholes.'
            )
        if params.normalization is not None:
            raise ValueError('implementation="torch" does not support a normalization.')

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

    def forward_with_state(self, x: torch.Tensor, state=None, mask: torch.Tensor | None = None):
        """Continue the sequences from ``state`` (None: zeros), see :mod:`seqestim.nn._contract`.

        ``x`` (B, L, d_input), ``mask`` (B, L) -> (``y`` (B, L, d_output), the state of every
        layer after the last real step of each row).
        """
        self._check_steppable()
        if state is None:
            state = self.init_state(x.shape[0], device=x.device)
        h, new_state = x, []
        for index, (directions, layer_state) in enumerate(zip(self.layers, state, strict=True)):
            if index > 0:
                h = self.dropout(h)
            h, layer_state = directions[0].run(h, mask, layer_state)  # (B, L, H)
            new_state.append(layer_state)
        return h, new_state

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
    carries_state=True,
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
    carries_state=True,
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
    carries_state=True,
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
