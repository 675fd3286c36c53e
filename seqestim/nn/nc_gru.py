"""NC-GRU: a GRU whose candidate recurrence is an orthogonal matrix (Neumann-Cayley transform).

Reference
---------
E. Mucllari, V. Zadorozhnyy, C. Pospisil, D. Nguyen, Q. Ye. "Orthogonal Gated Recurrent Unit
with Neumann-Cayley Transformation." Neural Computation 36 (2024); arXiv:2208.06496.
Official code: github.com/emucllari1/NC-GRU (TF1 synthetic tasks, PyTorch character PTB).

Cell (row-vector form as in the official synthetic-task code, ``⊙`` elementwise)::

    [r_t, u_t] = σ(x_t W_x + h_{t-1} W_h + b_g)                  # reset and update gates
    c_t        = modReLU(x_t U_C + (r_t ⊙ h_{t-1}) W_C, b_C)      # candidate
    h_t        = u_t ⊙ h_{t-1} + (1 - u_t) ⊙ c_t
    modReLU(z, b) = relu(|z| + b) ⊙ sign(z)
    W_C        = (I + A)^{-1} (I - A) D                           # scaled Cayley transform

``A`` is skew-symmetric and trainable, ``D`` a fixed diagonal of ``+1`` with ``n_neg_ones``
entries ``-1`` (which lets ``W_C`` reach orthogonal matrices with eigenvalue ``-1``). ``W_C`` is
orthogonal, so the candidate's recurrence neither explodes nor vanishes. With
``orthogonal_reset=True`` (the paper's NC-GRU(U_c, U_r) variant) the gates are computed
separately and the reset gate's recurrent matrix is a second scaled-Cayley matrix::

    r_t = σ(x_t U_r + h_{t-1} W_r + b_r),  W_r = (I + A_r)^{-1} (I - A_r) D
    u_t = σ(x_t U_u + h_{t-1} W_u + b_u)

Training the orthogonal matrices (``orthogonal_update``)
---------------------------------------------------------
``A = (P - Pᵀ) / 2`` where ``P`` is the trainable parameter, so ``A`` stays exactly
skew-symmetric whatever the optimiser does. The matrices are computed in float64 and cast to the
model's dtype.

- ``"exact"`` (default): ``W = solve(I + A, I - A) D`` on every forward pass and plain autograd
  through the solve. ``O(n³)`` per forward pass (not per step); exact; the notes' recommended
  choice for small ``n``.
- ``"neumann"``: the paper's scheme. The module keeps the inverse ``(I + A)^{-1}`` in a
  buffer and builds ``W`` from it. Its gradient is the paper's Cayley chain rule with that
  cached inverse, ``V = ((I + A)^{-1})ᵀ G (D + Wᵀ)``, ``∂L/∂A = Vᵀ - V`` (a custom autograd
  function, no solve in the backward pass). After the optimiser has changed ``A`` (detected at
  the next forward pass, by comparing ``A`` with the matrix the cache was built for), the
  inverse is updated with the second-order Neumann series::

      X = (I + A_old)^{-1} (A_old - A_new)
      (I + A_new)^{-1} ≈ (I + X + X²) (I + A_old)^{-1}

  and every ``reinvert_every``-th update it is recomputed exactly (``torch.linalg.inv``) to stop
  drift. Everything happens inside ``forward``, so a plain ``loss.backward();
  optimizer.step()`` loop (skorch's included) needs nothing extra; the buffers make ``clone``,
  pickle and ``state_dict`` work. The refresh also runs in evaluation mode if ``A`` changed, so
  training and prediction use the same ``W``.

  Accuracy: the series drops ``O(‖X‖³)`` per update and Adam moves every entry of ``A`` by
  about ``lr``, so ``‖X‖ ≈ lr·n`` and the drift between exact re-inversions grows like
  ``reinvert_every·(lr·n)³``. Measured (Adam on a loss of ``W``, 200 steps, re-inversion every
  49): ``max ‖WᵀW - I‖_F`` = 3e-6 (n=8), 9e-6 (n=16), 3e-5 (n=32), 7e-5 (n=64) at lr 1e-3;
  4e-3 for n=16 at lr 1e-2; 3e-7 for n=64 at lr 1e-4. The ``"exact"`` mode stays orthogonal
  to float64 round-off (cast to float32) at any learning rate.

Deviations from the official code, all deliberate:

- The Neumann series is taken around the change of ``A`` that the optimiser actually made
  (``X = (I + A_old)^{-1}(A_old - A_new)``). The official scripts write it for a plain SGD step
  (``X = (I + A_old)^{-1} η ∂L/∂A``) but update ``A`` with Adam, so their series approximates a
  step that was not taken. If ``‖X‖_F > 0.5`` (the series would be inaccurate, e.g. after
  weights were loaded by hand) the inverse is recomputed exactly instead.
- The official two-orthogonal TF code updates both ``A`` and ``A_r`` with the reset-gate
  matrix's gradient and builds ``W_r`` from ``A``'s cached inverse; here each matrix has its own
  parameter, gradient and cache.
- ``A`` is parametrised as ``(P - Pᵀ)/2`` (the official code keeps ``A`` skew by construction of
  its gradient); the gradient on ``P`` is the skew part of ``∂L/∂A``, half of the paper's
  ``Vᵀ - V``, which adaptive optimisers do not notice.
- The reset gate multiplies ``h`` before the product with ``W_C``, as in the official synthetic
  tasks (the official PTB code applies it after). Initialisation follows the TF code: gate
  kernel He-uniform over ``[x, h]``, gate biases 0 (``N(0, 1)`` in the ``orthogonal_reset``
  variant), ``U_C`` He-normal (truncated), ``b_C ~ U(-0.1, 0.1)``, ``A`` the scoRNN init
  (2×2 blocks with ``-tan(θ/2)``, ``θ ~ U(0, π/2)``).
- ``D``'s ``-1`` entries are the last ``n_neg_ones`` diagonal entries (default ``d_model // 2``;
  the paper's scripts use 40 of 56 and 50 of 118 units).
- Multi-layer stacks, inter-layer dropout and the bidirectional option are library additions.
- The ``normalization`` option of the other recurrent backbones is not offered here:
  normalizing ``(r ⊙ h) W_C`` would undo the norm preservation that is the point of the
  orthogonal matrix.

The input projections of all steps are computed in one matrix product and the orthogonal
matrices once per forward pass; only the recurrence loops over time.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from seqestim.nn._contract import reverse_padded
from seqestim.nn._params import param, parameter_group
from seqestim.nn._registry import register_model
from seqestim.nn.gated_rnn import RecurrentStackParams

__all__ = ["NCGRU", "NCGRUCell", "NCGRUParams", "ScaledCayleyOrthogonal", "mod_relu"]

_PAPER = (
    "Mucllari, Zadorozhnyy, Pospisil, Nguyen & Ye (2024). Orthogonal Gated Recurrent Unit with "
    "Neumann-Cayley Transformation. Neural Computation; arXiv:2208.06496."
)
_URL = "https://arxiv.org/abs/2208.06496"
ORTHOGONAL_UPDATES = ("exact", "neumann")


def mod_relu(z: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``relu(|z| + b) ⊙ sign(z)``: shrinks the modulus, keeps the sign (Arjovsky et al. 2016)."""
    return torch.relu(z.abs() + bias) * torch.sign(z)


def _scorn_init(n: int) -> torch.Tensor:
    """Skew-symmetric ``A`` of the scoRNN initialisation, 2x2 blocks with ``-tan(θ/2)``."""
    A = torch.zeros(n, n, dtype=torch.float64)
    theta = torch.rand(n // 2, dtype=torch.float64) * (math.pi / 2)
    s = -torch.sqrt((1 - torch.cos(theta)) / (1 + torch.cos(theta)))
    rows = torch.arange(0, 2 * (n // 2), 2)
    A[rows, rows + 1] = s
    return A - A.T


class _CayleyWithCachedInverse(torch.autograd.Function):
    """``W = inv (I - A) D`` with the paper's Cayley chain rule in the backward pass.

    ``inv`` must equal ``(I + A)^{-1}`` (to the accuracy the caller maintains); it gets no
    gradient. The returned gradient for ``A`` is the unconstrained ``-V`` with
    ``V = invᵀ G (D + Wᵀ)``; the skew parametrisation outside turns it into ``(Vᵀ - V) / 2``.
    """

    @staticmethod
    def forward(ctx, A, inv, d):
        eye = torch.eye(A.shape[0], dtype=A.dtype, device=A.device)
        W = (inv @ (eye - A)) * d  # right-multiplying by diag(d) scales the columns
        ctx.save_for_backward(inv, W, d)
        return W

    @staticmethod
    def backward(ctx, G):
        inv, W, d = ctx.saved_tensors
        V = inv.T @ G @ (torch.diag(d) + W.T)
        return -V, None, None


class ScaledCayleyOrthogonal(nn.Module):
    """An orthogonal ``n x n`` matrix ``W = (I + A)^{-1}(I - A) D``, ``A = (P - Pᵀ)/2``.

    Calling the module returns ``W``. See the module docstring for the two update modes.

    Parameters
    ----------
    n : int
        Size of the matrix.
    n_neg_ones : int
        Number of ``-1`` entries of the fixed diagonal ``D`` (the last ones).
    update : {"exact", "neumann"}, default="exact"
        How ``W`` follows ``A``: a solve with autograd, or the cached Neumann-series inverse.
    reinvert_every : int, default=50
        With ``update="neumann"``, recompute the inverse exactly every this many updates.
    """

    def __init__(self, n: int, n_neg_ones: int, update: str = "exact", reinvert_every: int = 50):
        super().__init__()
        if update not in ORTHOGONAL_UPDATES:
            raise ValueError(
                f"orthogonal_update must be one of {ORTHOGONAL_UPDATES}, got {update!r}."
            )
        if not 0 <= n_neg_ones <= n:
            raise ValueError(f"n_neg_ones must be in [0, {n}], got {n_neg_ones}.")
        if reinvert_every < 1:
            raise ValueError(f"reinvert_every must be a positive integer, got {reinvert_every}.")
        self.update = update
        self.reinvert_every = int(reinvert_every)
        self.P = nn.Parameter(_scorn_init(n).float())  # A = (P - Pᵀ)/2 = P at init (skew)
        d = torch.ones(n, dtype=torch.float64)
        d[n - n_neg_ones :] = -1.0
        self.register_buffer("d", d)  # diagonal of D, fixed
        if update == "neumann":
            A0 = self.skew().detach()
            eye = torch.eye(n, dtype=torch.float64)
            self.register_buffer("inverse", torch.linalg.inv(eye + A0))  # (I + A)^{-1}
            self.register_buffer("inverse_of", A0.clone())  # the A that inverse belongs to
            self.register_buffer("n_updates", torch.zeros((), dtype=torch.long))

    def skew(self) -> torch.Tensor:
        """Return the skew-symmetric ``A`` (float64)."""
        P = self.P.double()
        return 0.5 * (P - P.T)

    @torch.no_grad()
    def _refresh_inverse(self, A: torch.Tensor) -> None:
        """Move the cached inverse to the current ``A`` (Neumann step or exact re-inversion)."""
        # the buffers may have been cast (module.float()); the arithmetic stays in A's float64
        inverse_of, inverse = self.inverse_of.to(A.dtype), self.inverse.to(A.dtype)
        if torch.equal(A, inverse_of):
            return
        self.n_updates += 1
        eye = torch.eye(A.shape[0], dtype=A.dtype, device=A.device)
        X = inverse @ (inverse_of - A)
        if int(self.n_updates) % self.reinvert_every == 0 or float(X.norm()) > 0.5:
            inverse = torch.linalg.inv(eye + A)
        else:
            inverse = (eye + X + X @ X) @ inverse
        # reassign (not in place): a pending backward pass may still hold the old inverse
        self.inverse = inverse
        self.inverse_of = A.clone()

    def forward(self) -> torch.Tensor:
        """Return ``W`` (n, n) in the parameter's dtype."""
        A = self.skew()
        eye = torch.eye(A.shape[0], dtype=A.dtype, device=A.device)
        d = self.d.to(A.dtype)
        if self.update == "exact":
            W = torch.linalg.solve(eye + A, eye - A) * d
        else:
            self._refresh_inverse(A.detach())
            W = _CayleyWithCachedInverse.apply(A, self.inverse.to(A.dtype), d)
        # solve returns a column-major result; a row-major W keeps the product h @ W on the
        # kernel whose rows do not depend on the other rows of the batch
        return W.to(self.P.dtype).contiguous()

    def extra_repr(self) -> str:  # noqa: D102
        n_neg = int((self.d < 0).sum())
        return f"n={self.P.shape[0]}, n_neg_ones={n_neg}, update={self.update!r}"


class NCGRUCell(nn.Module):
    """One NC-GRU step (see the module docstring).

    Parameters
    ----------
    d_input : int
        Input features.
    d_model : int
        Hidden units ``n``.
    n_neg_ones : int
        ``-1`` entries of ``D``.
    orthogonal_reset : bool
        Also make the reset gate's recurrent matrix scaled-Cayley orthogonal.
    orthogonal_update : {"exact", "neumann"}
        Update mode of the orthogonal matrices.
    reinvert_every : int
        Exact re-inversion period of the Neumann mode.
    """

    def __init__(
        self,
        d_input: int,
        d_model: int,
        n_neg_ones: int,
        orthogonal_reset: bool = False,
        orthogonal_update: str = "exact",
        reinvert_every: int = 50,
    ):
        super().__init__()
        n = d_model
        self.d_model = n
        self.orthogonal_reset = bool(orthogonal_reset)
        options = {"update": orthogonal_update, "reinvert_every": reinvert_every}
        # x-side of both gates and of the candidate in one projection: [x W_r, x W_u, x U_C]
        self.input_proj = nn.Linear(d_input, 3 * n)
        self.candidate_bias = nn.Parameter(torch.empty(n).uniform_(-0.1, 0.1))  # b_C of modReLU
        self.candidate_orthogonal = ScaledCayleyOrthogonal(n, n_neg_ones, **options)  # W_C
        with torch.no_grad():
            W_g, U_C = self.input_proj.weight[: 2 * n], self.input_proj.weight[2 * n :]
            if self.orthogonal_reset:
                # separate gates: U_r, U_u He-uniform over x, W_u He-uniform over h, biases N(0,1)
                W_g.uniform_(-math.sqrt(6.0 / d_input), math.sqrt(6.0 / d_input))
                self.gate_recurrent = nn.Parameter(
                    torch.empty(n, n).uniform_(-math.sqrt(6.0 / n), math.sqrt(6.0 / n))
                )  # W_u
                self.reset_orthogonal = ScaledCayleyOrthogonal(n, n_neg_ones, **options)  # W_r
                self.input_proj.bias[: 2 * n].normal_()
            else:
                # one gate kernel over [x, h], He-uniform with fan_in = d_input + n
                bound = math.sqrt(6.0 / (d_input + n))
                W_g.uniform_(-bound, bound)
                self.gate_recurrent = nn.Parameter(torch.empty(n, 2 * n).uniform_(-bound, bound))
                self.input_proj.bias[: 2 * n].zero_()
            std = math.sqrt(2.0 / d_input) / 0.87962566103423978  # TF's truncated He-normal
            nn.init.trunc_normal_(U_C, std=std, a=-2 * std, b=2 * std)
            self.input_proj.bias[2 * n :].zero_()  # the candidate's bias is b_C inside modReLU

    def weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Recurrent matrices for one pass: ``W_C`` (n, n) and the gates' (n, 2n)."""
        W_C = self.candidate_orthogonal()
        if self.orthogonal_reset:
            W_gates = torch.cat([self.reset_orthogonal(), self.gate_recurrent], dim=1)  # [W_r, W_u]
        else:
            W_gates = self.gate_recurrent
        return W_C, W_gates

    def init_state(self, batch_size: int, device=None, dtype=None) -> torch.Tensor:
        """Zero state for ``batch_size`` sequences."""
        return torch.zeros(batch_size, self.d_model, device=device, dtype=dtype)

    def forward(self, projected_x: torch.Tensor, h: torch.Tensor, weights) -> torch.Tensor:
        """Advance one step from ``x_t``'s projections (B, 3n) and ``h_{t-1}`` (B, n)."""
        n = self.d_model
        W_C, W_gates = weights
        # sigmoid in float64: torch's CPU kernel computes the last elements of a tensor with a
        # scalar exp that differs by an ulp from the vectorised one, which would make a row's
        # output depend on its position in the batch; rounded back, the two agree
        pre = projected_x[:, : 2 * n] + h @ W_gates
        gates = torch.sigmoid(pre.double()).to(pre.dtype)  # (B, 2n)
        r, u = gates[:, :n], gates[:, n:]
        c = mod_relu(projected_x[:, 2 * n :] + (r * h) @ W_C, self.candidate_bias)
        return c + u * (h - c)  # u h + (1 - u) c


class _NCGRULayer(nn.Module):
    """Runs one NC-GRU cell over a sequence; padded steps leave the state unchanged."""

    def __init__(self, cell: NCGRUCell):
        super().__init__()
        self.cell = cell

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        B, L, _ = x.shape
        projected = self.cell.input_proj(x)  # (B, L, 3n), all steps at once
        weights = self.cell.weights()  # orthogonal matrices once per pass
        h = self.cell.init_state(B, device=x.device, dtype=projected.dtype)
        steps = projected.unbind(1)  # L x (B, 3n); indexing would make the backward O(L²)
        outputs = []
        for t in range(L):
            new_h = self.cell(steps[t], h, weights)
            if mask is not None:  # keep the old state where step t is padding
                new_h = torch.where(mask[:, t].unsqueeze(1), new_h, h)
            h = new_h
            outputs.append(h)
        return torch.stack(outputs, dim=1)  # (B, L, n)


@parameter_group
class NCGRUParams(RecurrentStackParams):
    """Hyperparameters of the :class:`NCGRU` backbone (Mucllari et al. 2024)."""

    n_neg_ones: int | None = param(
        None,
        """
        Number of ``-1`` entries in the fixed diagonal ``D`` of the scaled Cayley transform
        ``W = (I + A)^{-1}(I - A) D``; None uses ``d_model // 2``.
        """,
        kind="int or None",
    )
    orthogonal_reset: bool = param(
        False,
        "Also make the reset gate's recurrent matrix orthogonal (the paper's NC-GRU(U_c, U_r)).",
    )
    orthogonal_update: str = param(
        "exact",
        """
        ``"exact"``: differentiate through a linear solve on every forward pass.
        ``"neumann"``: the paper's cached inverse, updated by a second-order Neumann series
        after each optimiser step and recomputed exactly every ``reinvert_every`` updates.
        """,
        kind='{"exact", "neumann"}',
    )
    reinvert_every: int = param(
        50,
        """
        Exact re-inversion period of ``orthogonal_update="neumann"`` (the official scripts use
        49 on the synthetic tasks and 100 on PTB).
        """,
    )


@register_model(
    "nc_gru",
    params=NCGRUParams,
    paper=_PAPER,
    url=_URL,
    causal=True,
    supports_step=True,
    test_params=(
        {"d_model": 6, "n_neg_ones": 2},
        {
            "d_model": 5,
            "n_layers": 2,
            "bidirectional": True,
            "orthogonal_reset": True,
            "orthogonal_update": "neumann",
        },
    ),
    description="GRU with an orthogonal (scaled Cayley) candidate recurrence and modReLU",
)
class NCGRU(nn.Module):
    """Stack of NC-GRU layers (Mucllari et al. 2024), see the module docstring.

    Parameters
    ----------
    d_input : int
        Number of input channels (set by the estimators from the data).
    params : NCGRUParams, optional
        The hyperparameters; ``NCGRUParams()`` when omitted.
    """

    onnx_unsupported = (
        "its orthogonal recurrent matrices come from a linear solve (the scaled Cayley "
        "transform), for which ONNX has no operator"
    )

    def __init__(self, d_input: int, params: NCGRUParams | None = None):
        super().__init__()
        params = NCGRUParams() if params is None else params
        if params.d_model < 1 or params.n_layers < 1:
            raise ValueError("d_model and n_layers must be positive integers.")
        if not 0.0 <= params.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {params.dropout}.")
        n_neg_ones = params.d_model // 2 if params.n_neg_ones is None else params.n_neg_ones
        self.params = params
        self.bidirectional = bool(params.bidirectional)
        n_directions = 2 if self.bidirectional else 1
        cell_options = {
            "n_neg_ones": int(n_neg_ones),
            "orthogonal_reset": params.orthogonal_reset,
            "orthogonal_update": params.orthogonal_update,
            "reinvert_every": int(params.reinvert_every),
        }
        self.layers = nn.ModuleList()
        width = d_input
        for _ in range(params.n_layers):
            self.layers.append(
                nn.ModuleList(
                    _NCGRULayer(NCGRUCell(width, params.d_model, **cell_options))
                    for _ in range(n_directions)
                )
            )
            width = n_directions * params.d_model
        self.dropout = nn.Dropout(params.dropout)
        self.d_output = width

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Run the stack: ``x`` (B, L, d_input), ``mask`` (B, L) -> (B, L, d_output)."""
        if mask is not None:  # padding (even NaN) must not reach the gradients either
            x = x.masked_fill(~mask.unsqueeze(-1), 0.0)
        h = x
        for index, directions in enumerate(self.layers):
            if index > 0:
                h = self.dropout(h)  # between layers only
            out = directions[0](h, mask)  # (B, L, n)
            if self.bidirectional:
                backward = directions[1](reverse_padded(h, mask), mask)
                out = torch.cat([out, reverse_padded(backward, mask)], dim=-1)  # (B, L, 2n)
            h = out
        return h

    def orthogonal_matrices(self) -> list[torch.Tensor]:
        """Every orthogonal matrix of the stack (``W_C``, and ``W_r`` if orthogonal), detached."""
        return [m().detach() for m in self.modules() if isinstance(m, ScaledCayleyOrthogonal)]

    def init_state(self, batch_size: int, device=None, dtype=None) -> list[torch.Tensor]:
        """Zero states of every layer, for :meth:`step`."""
        if self.bidirectional:
            raise RuntimeError("A bidirectional network cannot run step by step.")
        return [d[0].cell.init_state(batch_size, device, dtype) for d in self.layers]

    def step(self, x_t: torch.Tensor, state: list[torch.Tensor]):
        """One step: ``x_t`` (B, d_input) -> (``y_t`` (B, d_output), new state)."""
        if self.bidirectional:
            raise RuntimeError("A bidirectional network cannot run step by step.")
        new_state = []
        h = x_t
        for index, (directions, layer_state) in enumerate(zip(self.layers, state, strict=True)):
            if index > 0:
                h = self.dropout(h)
            cell = directions[0].cell
            h = cell(cell.input_proj(h), layer_state, cell.weights())
            new_state.append(h)
        return h, new_state
