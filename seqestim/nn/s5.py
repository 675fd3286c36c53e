"""S5: simplified state space layers with a parallel scan (Smith, Warrington & Linderman, 2023).

Reference
---------
J. T. H. Smith, A. Warrington, S. W. Linderman. "Simplified State Space Layers for Sequence
Modeling." ICLR 2023, arXiv:2208.04933. Official JAX code: https://github.com/lindermanlab/S5
(``s5/ssm.py``, ``s5/ssm_init.py``, ``s5/layers.py``, ``s5/seq_model.py``, ``s5/train.py``).

Equations (per layer; ``H`` features, ``P`` kept states, ``⊙`` elementwise)

- Continuous MIMO SSM in diagonal form: ``x'(t) = Λ x(t) + B̃ u(t)``,
  ``y(t) = C̃ x(t) + D ⊙ u(t)`` with ``Λ ∈ C^P``, ``B̃ ∈ C^{P×H}``, ``C̃ ∈ C^{H×P}``,
  ``D ∈ R^H`` and one learnable timescale ``Δ_p = exp(log Δ_p)`` per state.
- Discretisation, elementwise over the states:
  zero-order hold ``Λ̄ = exp(ΛΔ)``, ``B̄ = ((Λ̄ - 1) / Λ) ⊙ B̃``;
  bilinear ``Λ̄ = (1 + ΔΛ/2) / (1 - ΔΛ/2)``, ``B̄ = (Δ / (1 - ΔΛ/2)) ⊙ B̃``.
- Recurrence ``x_k = Λ̄ ⊙ x_{k-1} + B̄ u_k`` (``x_0 = 0``), evaluated for all ``k`` at once by a
  log-depth associative scan over the pairs ``(Λ̄, B̄u_k)`` with the operator
  ``(a_i, b_i) • (a_j, b_j) = (a_j a_i, a_j b_i + b_j)``.
- Output ``y_k = 2 Re(C̃ x_k) + D ⊙ u_k`` with conjugate symmetry (only one state of each
  complex-conjugate pair is kept), ``Re(C̃ x_k) + D ⊙ u_k`` without it.
- Initialisation: ``Λ`` and ``V`` from the eigendecomposition of HiPPO-N, the normal part
  ``S = A + p pᵀ`` of HiPPO-LegS (``A_nk = -sqrt(2n+1) sqrt(2k+1)`` for ``n > k``, ``-(n+1)`` on
  the diagonal, ``p_n = sqrt(n + 1/2)``); ``Re Λ = -1/2``; with ``blocks = J`` the state matrix
  is block-diagonal with ``J`` copies of HiPPO-N of size ``d_state / J``. ``B̃ = V⁻¹ B`` and
  ``C̃ = C V`` with ``B`` real LeCun-normal and ``C`` complex (see ``C_init``).
- Layer (``s5/layers.py``): ``z = x + drop(act(SSM(norm(x))))`` (pre-norm) or
  ``z = norm(x + drop(act(SSM(x))))`` (post-norm); ``act`` is GELU or one of the GLU variants
  ``full_glu``: ``W₁g ⊙ σ(W₂g)``, ``half_glu1``: ``g ⊙ σ(W₂g)``, ``half_glu2``:
  ``s ⊙ σ(W₂g)`` with ``g = drop(gelu(s))`` and ``s`` the SSM output.
- Model: linear encoder ``d_input -> d_model``, ``n_layers`` S5 layers; pooling and the decoder
  are the shared task heads of :mod:`seqestim.nn.heads` (the paper mean-pools over real steps).
- Training (``s5/train_helpers.py``): ``Λ``, ``B`` and ``log Δ`` are trained with their own
  learning rate ``ssm_lr`` and no weight decay; everything else with the global learning rate and
  weight decay (AdamW). :meth:`S5.optimizer_param_groups` returns these two groups.

Implementation notes and deviations

- Complex parameters are stored as real tensors with a trailing real/imaginary axis
  (``B: (P, H, 2)``, ``C: (H, P, 2)``) and ``Λ`` as ``Lambda_re``/``Lambda_im``, as in the
  official code. The scan itself runs on complex tensors built from them in ``forward``.
- Two evaluations of the recurrence, both exact (tests compare them with a sequential loop to
  1e-10 in float64):

  - :func:`linear_recurrence_scan`, our own recursive odd/even (Blelloch-style) reduction:
    ``O(L)`` work and ``O(log L)`` depth, the same scheme as ``jax.lax.associative_scan``.
    Because ``Λ̄`` is the same at every step, the ``a`` part of every pair is kept as one
    ``(…, 1, P)`` tensor instead of ``L`` copies. Used on a GPU and for small batches.
  - :func:`linear_recurrence_chunked`, for training-sized batches on a CPU (batch × kept states
    ``≥`` :data:`CHUNKED_MIN_WIDTH`): the sequence is cut into ``√L`` chunks of ``√L`` steps;
    the last state of every chunk from a zero start, the states entering the chunks, and then
    every state are three loops of ``√L`` steps over all chunks at once. It runs in real
    arithmetic on the real and imaginary parts (PyTorch's complex kernels are several times
    slower than its real ones on a CPU) and has a hand-written backward pass (the reversed
    recurrence with ``conj(Λ̄)``). On a CPU the odd/even scan is memory-bound for wide batches,
    and this version does a fraction of its memory traffic (benchmarks/s5/README.md).

  ``torch._higher_order_ops.associative_scan`` is not used (prototype, open correctness bugs).
  The SSM keeps ``B̄u`` and the states as real and imaginary parts; only :meth:`S5SSM.step`
  and the carried state hold a complex state.
- Carrying the state (unidirectional only): ``forward_with_state`` continues from the states
  ``x_{-1}`` an earlier call ended with. By linearity ``x_k = scan_k + Λ̄^{k+1} x_{-1}``, so
  either scan above runs from zero and the decayed initial state is added to the real and
  imaginary parts of its states.
- Bidirectional: as in the paper, a second, reversed scan reuses the same ``Λ̄, B̄``; the two
  state sequences are concatenated and mapped to ``d_model`` features by one ``C̃`` of width
  ``2P`` (two independently initialised halves). The directions are therefore *summed* into
  ``d_model`` features, not concatenated: the backbone does **not** set
  ``self.bidirectional = True`` of the :mod:`seqestim.nn._contract` convention (the "last"
  pooling must not split the features). ``self.causal`` says whether the model is causal.
- Masking: inputs of every SSM are zeroed at padded steps, so padding adds nothing to any state at
  a real step in either direction (padding is on the right; the reversed scan runs over
  :func:`~seqestim.nn._contract.reverse_padded` inputs). Batch normalisation computes its
  statistics over the real steps only and uses its running (population) statistics in eval mode.
  The official code has no masking inside the layers (its batches are padded to a common length
  and padding steps enter the batch-norm statistics).
- Batch-norm momentum follows the official (flax) convention: ``running = bn_momentum · running +
  (1 - bn_momentum) · batch`` with the biased batch variance.
- LeCun-normal and "truncated standard normal" initialisations reproduce JAX's
  ``variance_scaling`` (truncated at ±2 standard deviations, variance ``1/fan_in`` with
  ``fan_in = P`` for ``B`` and for ``trunc_standard_normal``, ``P·H`` for ``lecun_normal``).
- :meth:`S5.step` (online use) applies batch normalisation with the running statistics and no
  dropout mask over time; it matches :meth:`S5.forward` in eval mode. It is not available for a
  bidirectional model.
- Defaults are CPU-sized: ``d_model=64, d_state=64, n_layers=4, blocks=4`` against the official
  ``run_train.py`` defaults 128, 256, 6 and 8; the other defaults (ZOH, ``half_glu1``, pre-norm
  batch norm with momentum 0.95, ``trunc_standard_normal``, ``dt ∈ [0.001, 0.1]``,
  ``ssm_lr=1e-3``, unidirectional, dropout 0) are the official ones.
- The odd/even scan and :meth:`S5SSM.step` run on complex tensors, which ONNX export does not
  support; the parameters themselves are real.
- The irregular-sampling variant (per-step ``Δ·dt_k``, branch ``pendulum``) is not implemented;
  ``step_rescale`` (uniform rescaling of all ``Δ``) is.
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F
from torch import nn

from seqestim.nn._contract import last_valid_index, outside_autocast, reverse_padded
from seqestim.nn._params import param, parameter_group
from seqestim.nn._registry import register_model

__all__ = [
    "S5",
    "S5SSM",
    "MaskedBatchNorm",
    "S5Layer",
    "S5Params",
    "block_hippo_init",
    "discretize_bilinear",
    "discretize_zoh",
    "hippo_n",
    "linear_recurrence_chunked",
    "linear_recurrence_loop",
    "linear_recurrence_scan",
]

_PAPER = (
    "Smith, Warrington & Linderman (2023). Simplified State Space Layers for Sequence Modeling. "
    "ICLR 2023, arXiv:2208.04933."
)
_URL = "https://arxiv.org/abs/2208.04933"

ACTIVATIONS = ("gelu", "full_glu", "half_glu1", "half_glu2")
C_INITS = ("trunc_standard_normal", "lecun_normal", "complex_normal")
DISCRETIZATIONS = ("zoh", "bilinear")
NORMS = ("batch", "layer")

# JAX's truncated normal (±2σ) has standard deviation 0.8796 of the untruncated one; its
# variance_scaling divides by this constant so that the *truncated* variance is 1/fan_in.
_TRUNC_STD = 0.87962566103423978


# --------------------------------------------------------------------------------------------
# Initialisation
# --------------------------------------------------------------------------------------------


def hippo_n(N: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigendecomposition of HiPPO-N, the normal part of the HiPPO-LegS matrix.

    Parameters
    ----------
    N : int
        State size.

    Returns
    -------
    Lambda : torch.Tensor
        ``(N,)`` complex128 eigenvalues ``-1/2 + i ω``, sorted by ascending ``ω`` (conjugate
        pairs: the first half has negative imaginary parts).
    V : torch.Tensor
        ``(N, N)`` complex128 unitary eigenvectors (columns), ``S = V diag(Λ) Vᴴ``.
    """
    n = torch.arange(N, dtype=torch.float64)
    q = torch.sqrt(2 * n + 1)
    A = -(torch.tril(q[:, None] * q[None, :]) - torch.diag(n))  # HiPPO-LegS, (N, N)
    p = torch.sqrt(n + 0.5)
    S = A + p[:, None] * p[None, :]  # normal: -I/2 + skew-symmetric
    real = torch.diagonal(S).mean()  # exactly -1/2 (a tensor: no .item(), so it runs on "meta")
    # -i (S - diag S) is Hermitian; its eigenvalues are the imaginary parts of Λ.
    skew = S - torch.diag(torch.diagonal(S))
    omega, V = torch.linalg.eigh(-1j * skew.to(torch.complex128))
    Lambda = torch.complex(real.expand_as(omega), omega)
    return Lambda, V


def block_hippo_init(d_state: int, blocks: int, conj_sym: bool = True):
    """Block-diagonal HiPPO-N initialisation of the S5 state matrix.

    Parameters
    ----------
    d_state : int
        Total state size ``P`` before conjugate-symmetry halving; ``blocks`` must divide it (and,
        with ``conj_sym``, the block size must be even).
    blocks : int
        Number ``J`` of diagonal blocks, each an HiPPO-N of size ``d_state / J``.
    conj_sym : bool, default=True
        Keep only the half of each block's eigenvalues with negative imaginary part.

    Returns
    -------
    Lambda : torch.Tensor
        ``(P_kept,)`` complex128 eigenvalues, ``P_kept = d_state / 2`` with ``conj_sym``.
    V : torch.Tensor
        ``(d_state, P_kept)`` complex128 block-diagonal eigenvectors.
    Vinv : torch.Tensor
        ``(P_kept, d_state)`` complex128, ``Vᴴ`` (V is unitary per block).
    """
    if blocks < 1 or d_state % blocks:
        raise ValueError(f"blocks={blocks} must be a positive divisor of d_state={d_state}.")
    block_size = d_state // blocks
    if conj_sym and block_size % 2:
        raise ValueError(
            f"With conj_sym the block size d_state / blocks = {block_size} must be even."
        )
    Lambda, V = hippo_n(block_size)
    if conj_sym:  # first half in eigh's ascending order: negative imaginary parts
        Lambda, V = Lambda[: block_size // 2], V[:, : block_size // 2]
    Lambda = Lambda.repeat(blocks)
    V = torch.block_diag(*([V] * blocks))
    return Lambda, V, V.conj().T


def _lecun_normal_(tensor: torch.Tensor, fan_in: int) -> torch.Tensor:
    """JAX's ``lecun_normal``: truncated normal (±2σ) with variance ``1 / fan_in``."""
    std = math.sqrt(1.0 / fan_in) / _TRUNC_STD
    return nn.init.trunc_normal_(tensor, mean=0.0, std=std, a=-2 * std, b=2 * std)


def _as_pair(z: torch.Tensor) -> torch.Tensor:
    """Complex tensor -> real tensor with a trailing real/imaginary axis."""
    return torch.stack([z.real, z.imag], dim=-1)


def _as_complex(pair: torch.Tensor) -> torch.Tensor:
    return torch.complex(pair[..., 0], pair[..., 1])


# --------------------------------------------------------------------------------------------
# Discretisation and the linear recurrence
# --------------------------------------------------------------------------------------------


def discretize_zoh(Lambda: torch.Tensor, B_tilde: torch.Tensor, Delta: torch.Tensor):
    """Zero-order hold: ``Λ̄ = exp(ΛΔ)``, ``B̄ = ((Λ̄ - 1) / Λ) B̃`` (rows scaled per state).

    ``Lambda`` (P,) complex, ``B_tilde`` (P, H) complex, ``Delta`` (P,) real.
    """
    Lambda_bar = torch.exp(Lambda * Delta)
    B_bar = ((Lambda_bar - 1) / Lambda).unsqueeze(-1) * B_tilde
    return Lambda_bar, B_bar


def discretize_bilinear(Lambda: torch.Tensor, B_tilde: torch.Tensor, Delta: torch.Tensor):
    """Bilinear (Tustin): ``Λ̄ = (1 + ΔΛ/2)/(1 - ΔΛ/2)``, ``B̄ = (Δ/(1 - ΔΛ/2)) B̃``."""
    BL = 1 / (1 - Delta / 2 * Lambda)
    Lambda_bar = BL * (1 + Delta / 2 * Lambda)
    B_bar = (BL * Delta).unsqueeze(-1) * B_tilde
    return Lambda_bar, B_bar


def linear_recurrence_scan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """All states of ``x_k = a_k ⊙ x_{k-1} + b_k`` (``x_{-1} = 0``) by a parallel scan.

    A recursive odd/even associative scan with the operator
    ``(a_i, b_i) • (a_j, b_j) = (a_j a_i, a_j b_i + b_j)``: adjacent pairs are combined, the
    half-length problem is solved recursively (giving the odd-indexed states), and the even
    states follow in one more elementwise step. Work ``O(L)``, depth ``O(log L)``.

    Parameters
    ----------
    a : torch.Tensor
        ``(..., L, P)`` or ``(..., 1, P)`` (the same ``a`` at every step), broadcastable to ``b``.
    b : torch.Tensor
        ``(..., L, P)``, real or complex; time is the second-to-last axis.

    Returns
    -------
    torch.Tensor
        ``(..., L, P)`` states ``x_0 … x_{L-1}`` (inclusive scan).
    """
    L = b.shape[-2]
    if L == 1:
        return b
    uniform = a.shape[-2] == 1
    if L % 2:  # one extra step with b = 0 at the end changes no earlier state; cut below
        b = F.pad(b, (0, 0, 0, 1))
        if not uniform:
            a = F.pad(a, (0, 0, 0, 1), value=1.0)
    # even/odd steps as views (unbind, not strided slicing: its backward is a cheap stack)
    b_even, b_odd = b.unflatten(-2, (-1, 2)).unbind(-2)  # (..., n, P) each, n = ceil(L/2)
    if uniform:  # every step has the same a, so every pair has a·a
        a_even = a_odd = a
    else:
        a_even, a_odd = a.unflatten(-2, (-1, 2)).unbind(-2)
    # pair (2k, 2k+1) combined: x_{2k+1} = a_{2k+1} (a_{2k} x_{2k-1} + b_{2k}) + b_{2k+1}
    x_odd = linear_recurrence_scan(a_odd * a_even, a_odd * b_even + b_odd)  # x_1, x_3, ...
    # x_{2k} = a_{2k} x_{2k-1} + b_{2k}, with x_{-1} = 0: shift the odd states by one step
    x_prev = F.pad(x_odd, (0, 0, 1, -1))  # (..., n, P): 0, x_1, x_3, ...
    x_even = a_even * x_prev + b_even
    out = torch.stack([x_even, x_odd], dim=-2).flatten(-3, -2)  # interleave: (..., 2n, P)
    return out[..., :L, :] if out.shape[-2] != L else out


def linear_recurrence_loop(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Compute :func:`linear_recurrence_scan` by a plain sequential loop (the reference)."""
    # unbind (not b[..., k, :]) so that the backward pass stays O(L): the backward of indexing
    # would materialise a full-size zero gradient for every step
    b_steps = b.unbind(dim=-2)
    a_steps = [a.squeeze(-2)] * len(b_steps) if a.shape[-2] == 1 else a.unbind(dim=-2)
    x = torch.zeros_like(b_steps[0])
    states = []
    for a_k, b_k in zip(a_steps, b_steps, strict=True):
        x = a_k * x + b_k
        states.append(x)
    return torch.stack(states, dim=-2)


# The chunked scan for a shared Λ̄, in real arithmetic (see the module docstring).
#: Below this many recurrences per step (batch × states) the odd/even scan is the faster one on
#: a CPU (benchmarks/s5/README.md); on a GPU the log-depth scan is always used.
CHUNKED_MIN_WIDTH = 256


def _complex_power(a_re: torch.Tensor, a_im: torch.Tensor, n: int):
    """``a**n`` for complex ``a`` given as real parts, by repeated squaring."""
    r_re, r_im = torch.ones_like(a_re), torch.zeros_like(a_im)
    while n:
        if n & 1:
            r_re, r_im = r_re * a_re - r_im * a_im, r_re * a_im + r_im * a_re
        a_re, a_im = a_re * a_re - a_im * a_im, 2 * a_re * a_im
        n >>= 1
    return r_re, r_im


def _chunked_states(a_re, a_im, b_re, b_im, reverse: bool = False):
    """States of ``x_k = a x_{k-1} + b_k`` (complex, as real parts) along dim -2; no autograd.

    ``a`` is ``(..., 1, P)`` (the same at every step); ``reverse`` runs from the last step to
    the first (``x_k = a x_{k+1} + b_k``). Three short loops instead of one of length ``L``:
    ``T = ceil(sqrt(L))`` steps inside chunks of ``T`` steps, all chunks at once; the ``C`` chunk
    entry states one after the other; ``T`` steps again from those entry states.
    """
    L = b_re.shape[-2]
    T = max(1, math.ceil(math.sqrt(L)))
    C = -(-L // T)
    pad = C * T - L  # zero inputs beyond the ends change no state that is kept
    if pad:
        spec = (0, 0, pad, 0) if reverse else (0, 0, 0, pad)
        b_re, b_im = F.pad(b_re, spec), F.pad(b_im, spec)
    shape = torch.broadcast_shapes(a_re.shape, b_re.shape)
    out_re, out_im = b_re.new_empty(shape), b_re.new_empty(shape)  # (..., C T, P)

    def steps(t):  # T views of (..., C, P): step k of every chunk
        return t.unflatten(-2, (C, T)).unbind(-2)

    b_re_k, b_im_k, out_re_k, out_im_k = steps(b_re), steps(b_im), steps(out_re), steps(out_im)
    order = list(range(T - 1, -1, -1) if reverse else range(T))

    def advance(x_re, x_im, k, a_re=a_re, a_im=a_im, out=(None, None)):
        # x ← a x + b_k in real arithmetic: (a_re x_re - a_im x_im, a_re x_im + a_im x_re) + b_k
        new_re = torch.addcmul(b_re_k[k], a_re, x_re, out=out[0]).addcmul_(a_im, x_im, value=-1)
        new_im = torch.addcmul(b_im_k[k], a_re, x_im, out=out[1]).addcmul_(a_im, x_re)
        return new_re, new_im

    # 1. the last state of every chunk from a zero start: (..., C, P)
    y_re, y_im = b_re_k[order[0]], b_im_k[order[0]]
    for k in order[1:]:
        y_re, y_im = advance(y_re, y_im, k)
    # 2. the state entering every chunk: e_c = a^T e_{c-1} + y_{c-1}, e_0 = 0
    p_re, p_im = (p.squeeze(-2) for p in _complex_power(a_re, a_im, T))  # (..., P)
    e_re, e_im = torch.zeros_like(y_re), torch.zeros_like(y_im)
    chunks = list(range(C - 1, -1, -1) if reverse else range(C))
    for prev, c in itertools.pairwise(chunks):
        old_re, old_im = e_re[..., prev, :], e_im[..., prev, :]
        torch.addcmul(y_re[..., prev, :], p_re, old_re, out=e_re[..., c, :])
        e_re[..., c, :].addcmul_(p_im, old_im, value=-1)
        torch.addcmul(y_im[..., prev, :], p_re, old_im, out=e_im[..., c, :])
        e_im[..., c, :].addcmul_(p_im, old_re)
    # 3. every state, chunk by chunk from its entry state
    x_re, x_im = e_re, e_im
    for k in order:
        x_re, x_im = advance(x_re, x_im, k, out=(out_re_k[k], out_im_k[k]))
    if pad:
        kept = slice(pad, None) if reverse else slice(None, L)
        out_re, out_im = out_re[..., kept, :], out_im[..., kept, :]
    return out_re, out_im


class _ChunkedRecurrence(torch.autograd.Function):
    """:func:`linear_recurrence_chunked` with its backward pass written out.

    The gradient of a linear recurrence is the same recurrence run backwards with ``conj(a)``:
    ``∂loss/∂b_k = G_k = g_k + conj(a) G_{k+1}``; and ``∂loss/∂a = Σ_k G_k conj(x_{k-1})``
    (PyTorch's convention for complex gradients).
    """

    @staticmethod
    def forward(ctx, a_re, a_im, b_re, b_im):
        x_re, x_im = _chunked_states(a_re, a_im, b_re, b_im)
        ctx.save_for_backward(a_re, a_im, x_re, x_im)
        ctx.shapes = (a_re.shape, b_re.shape)
        return x_re, x_im

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g_re, g_im):
        a_re, a_im, x_re, x_im = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        g_re = torch.zeros_like(x_re) if g_re is None else g_re
        g_im = torch.zeros_like(x_im) if g_im is None else g_im
        G_re, G_im = _chunked_states(a_re, -a_im, g_re, g_im, reverse=True)
        # Σ_k G_k conj(x_{k-1}); x_{-1} = 0 adds nothing
        G_re_k, G_im_k = G_re[..., 1:, :], G_im[..., 1:, :]
        x_re_k, x_im_k = x_re[..., :-1, :], x_im[..., :-1, :]
        d_a_re = (G_re_k * x_re_k).sum(-2, keepdim=True) + (G_im_k * x_im_k).sum(-2, keepdim=True)
        d_a_im = (G_im_k * x_re_k).sum(-2, keepdim=True) - (G_re_k * x_im_k).sum(-2, keepdim=True)
        return (
            d_a_re.sum_to_size(a_shape),
            d_a_im.sum_to_size(a_shape),
            G_re.sum_to_size(b_shape),
            G_im.sum_to_size(b_shape),
        )


def linear_recurrence_chunked(a_re, a_im, b_re, b_im):
    """All states of ``x_k = a ⊙ x_{k-1} + b_k`` for an ``a`` shared by every step.

    The same recurrence as :func:`linear_recurrence_scan`, for the case S5 needs (``Λ̄`` is the
    same at every step), in real arithmetic on the real and imaginary parts, by a chunked scan:
    about ``3 sqrt(L)`` elementwise steps over slices of ``L / sqrt(L)`` steps each, ``O(L)``
    work, and a hand-written backward pass (the reversed recurrence).

    Parameters
    ----------
    a_re, a_im : torch.Tensor
        ``(..., 1, P)``: real and imaginary parts of ``a``, broadcastable to ``b``.
    b_re, b_im : torch.Tensor
        ``(..., L, P)``: real and imaginary parts of ``b``; time is the second-to-last axis.

    Returns
    -------
    x_re, x_im : torch.Tensor
        ``(..., L, P)`` real and imaginary parts of the states ``x_0 … x_{L-1}``.
    """
    if a_re.shape[-2] != 1:
        raise ValueError(f"a must have one step (shape (..., 1, P)); got {tuple(a_re.shape)}.")
    return _ChunkedRecurrence.apply(a_re, a_im, b_re, b_im)


# --------------------------------------------------------------------------------------------
# Modules
# --------------------------------------------------------------------------------------------


class S5SSM(nn.Module):
    """One S5 state space model mapping ``(B, L, H)`` to ``(B, L, H)``.

    Parameters
    ----------
    d_model : int
        Features ``H``.
    d_state : int
        State size ``P`` before conjugate-symmetry halving.
    blocks : int
        Number of HiPPO-N blocks of the initial state matrix.
    conj_sym : bool
        Keep one state of each conjugate pair and output ``2 Re(C̃x)``.
    bidirectional : bool
        Add a reversed scan; both state sequences feed one ``C̃`` of width ``2P``.
    discretization : {"zoh", "bilinear"}
        Discretisation method.
    dt_min, dt_max : float
        Range of the log-uniform initial timescales.
    C_init : {"trunc_standard_normal", "lecun_normal", "complex_normal"}
        Initialisation of ``C``.
    clip_eigenvalues : bool
        Clip ``Re Λ`` to at most ``-1e-4`` in the forward pass.
    step_rescale : float
        Multiplies every ``Δ`` (zero-shot change of sampling rate).
    """

    def __init__(
        self,
        d_model: int,
        d_state: int,
        *,
        blocks: int = 1,
        conj_sym: bool = True,
        bidirectional: bool = False,
        discretization: str = "zoh",
        dt_min: float = 0.001,
        dt_max: float = 0.1,
        C_init: str = "trunc_standard_normal",
        clip_eigenvalues: bool = False,
        step_rescale: float = 1.0,
    ):
        super().__init__()
        if discretization not in DISCRETIZATIONS:
            raise ValueError(
                f"discretization must be one of {DISCRETIZATIONS}, got {discretization!r}."
            )
        if C_init not in C_INITS:
            raise ValueError(f"C_init must be one of {C_INITS}, got {C_init!r}.")
        if not 0 < dt_min <= dt_max:
            raise ValueError(f"Need 0 < dt_min <= dt_max, got {dt_min}, {dt_max}.")
        self.conj_sym = bool(conj_sym)
        self.bidirectional = bool(bidirectional)
        self.discretization = discretization
        self.clip_eigenvalues = bool(clip_eigenvalues)
        self.step_rescale = float(step_rescale)

        Lambda, V, Vinv = block_hippo_init(d_state, blocks, self.conj_sym)  # complex128
        P = Lambda.shape[0]
        self.d_model, self.d_state, self.n_states = d_model, d_state, P
        dtype = torch.get_default_dtype()
        self.Lambda_re = nn.Parameter(Lambda.real.to(dtype))  # (P,)
        self.Lambda_im = nn.Parameter(Lambda.imag.to(dtype))  # (P,)

        B = _lecun_normal_(torch.empty(d_state, d_model, dtype=torch.float64), fan_in=d_state)
        self.B = nn.Parameter(_as_pair(Vinv @ B.to(torch.complex128)).to(dtype))  # (P, H, 2)

        n_dir = 2 if self.bidirectional else 1
        halves = []
        for _ in range(n_dir):  # each direction gets its own, independently drawn C
            if C_init == "complex_normal":  # sampled directly in the eigenbasis, no V
                halves.append(torch.randn(d_model, P, 2, dtype=torch.float64) * math.sqrt(0.5))
                continue
            C = torch.empty(d_model, d_state, 2, dtype=torch.float64)
            fan_in = d_state if C_init == "trunc_standard_normal" else d_state * d_model
            _lecun_normal_(C, fan_in=fan_in)
            halves.append(_as_pair(_as_complex(C) @ V))  # C̃ = C V, (H, P, 2)
        self.C = nn.Parameter(torch.cat(halves, dim=1).to(dtype))  # (H, n_dir * P, 2)
        self.D = nn.Parameter(torch.randn(d_model, dtype=dtype))  # (H,)
        log_dt = torch.rand(P, dtype=dtype) * (math.log(dt_max) - math.log(dt_min))
        self.log_step = nn.Parameter(log_dt + math.log(dt_min))  # (P,) one timescale per state

    def ssm_parameters(self) -> list[nn.Parameter]:
        """Return the parameters the paper trains with ``ssm_lr`` and no weight decay."""
        return [self.Lambda_re, self.Lambda_im, self.B, self.log_step]

    def discretize(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the current ``Λ̄`` (P,) and ``B̄`` (P, H), complex."""
        Lambda_re = self.Lambda_re.clamp(max=-1e-4) if self.clip_eigenvalues else self.Lambda_re
        Lambda = torch.complex(Lambda_re, self.Lambda_im)
        Delta = self.step_rescale * torch.exp(self.log_step)
        fn = discretize_zoh if self.discretization == "zoh" else discretize_bilinear
        return fn(Lambda, _as_complex(self.B), Delta)

    def _readout(self, states_re: torch.Tensor, states_im: torch.Tensor, u: torch.Tensor):
        # y = 2 Re(C̃ x) + D u with real arithmetic: Re(C̃x) = C_re x_re - C_im x_im
        y = states_re @ self.C[..., 0].T - states_im @ self.C[..., 1].T  # (..., H)
        if self.conj_sym:
            y = 2 * y
        return y + self.D * u

    def _project(self, u: torch.Tensor, B_bar: torch.Tensor):
        # B̄u with a real u: two real products, (real, imaginary) parts of (..., P)
        return u @ B_bar.real.T, u @ B_bar.imag.T

    @staticmethod
    def _states(Lambda_bar: torch.Tensor, Bu_re: torch.Tensor, Bu_im: torch.Tensor):
        """All states of ``x_k = Λ̄ x_{k-1} + B̄u_k`` (real, imaginary parts), (B, L, P) each."""
        width = Bu_re.shape[0] * Bu_re.shape[-1]  # recurrences advanced per step
        if Bu_re.device.type == "cpu" and width >= CHUNKED_MIN_WIDTH:
            a = Lambda_bar.view(1, 1, -1)
            return linear_recurrence_chunked(a.real, a.imag, Bu_re, Bu_im)
        states = linear_recurrence_scan(Lambda_bar.view(1, 1, -1), torch.complex(Bu_re, Bu_im))
        return states.real, states.imag

    def forward(self, u: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``u`` (B, L, H), ``mask`` (B, L) -> (B, L, H)."""
        return self.run(u, mask)[0]

    @outside_autocast
    def run(self, u: torch.Tensor, mask: torch.Tensor | None = None, state=None):
        """Outputs (B, L, H) and the state after the last real step, starting from ``state``.

        ``state`` (B, P) complex is the state ``x_{-1}`` before the first step (None: zeros). By
        linearity ``x_k = scan_k + Λ̄^{k+1} x_{-1}``, so either scan runs from zero and the
        decayed initial state is added to its real and imaginary parts afterwards.
        """
        if mask is not None:  # padded steps must add nothing to any state
            u = u * mask.unsqueeze(-1).to(u.dtype)
        Lambda_bar, B_bar = self.discretize()
        Bu_re, Bu_im = self._project(u, B_bar)  # (B, L, P) each
        states_re, states_im = self._states(Lambda_bar, Bu_re, Bu_im)  # (B, L, P) each
        if state is not None:
            powers = torch.arange(1, u.shape[1] + 1, device=u.device, dtype=u.dtype)  # (L,)
            decay = torch.exp(powers.unsqueeze(-1) * torch.log(Lambda_bar))  # Λ̄^{k+1}, (L, P)
            carried = decay * state.unsqueeze(1)  # (B, L, P) complex
            states_re, states_im = states_re + carried.real, states_im + carried.imag
        if self.bidirectional:
            # reversed inclusive scan over the same elements: x_k = Λ̄ x_{k+1} + B̄u_k
            back_re, back_im = self._states(
                Lambda_bar, reverse_padded(Bu_re, mask), reverse_padded(Bu_im, mask)
            )
            states_re = torch.cat([states_re, reverse_padded(back_re, mask)], dim=-1)  # (B, L, 2P)
            states_im = torch.cat([states_im, reverse_padded(back_im, mask)], dim=-1)
            return self._readout(states_re, states_im, u), None  # no state to continue from
        last = last_valid_index(mask, u.shape[0], u.shape[1], u.device)  # (B,)
        rows = torch.arange(u.shape[0], device=u.device)
        final = torch.complex(states_re[rows, last], states_im[rows, last])  # (B, P)
        return self._readout(states_re, states_im, u), final

    def init_state(self, batch_size: int, device=None, dtype=None) -> torch.Tensor:
        """Zero complex state ``(batch_size, P)``."""
        if dtype is None:
            dtype = torch.complex(self.Lambda_re[:1], self.Lambda_im[:1]).dtype
        return torch.zeros(batch_size, self.n_states, device=device, dtype=dtype)

    def step(self, u_t: torch.Tensor, state: torch.Tensor):
        """One step: ``u_t`` (B, H), state (B, P) -> (``y_t`` (B, H), new state)."""
        if self.bidirectional:
            raise RuntimeError("A bidirectional S5 layer cannot run step by step.")
        Lambda_bar, B_bar = self.discretize()
        state = Lambda_bar * state + torch.complex(*self._project(u_t, B_bar))
        return self._readout(state.real, state.imag, u_t), state


class MaskedBatchNorm(nn.Module):
    """Batch normalisation over batch and time that ignores padded steps.

    Statistics per feature over the real steps of the batch in training, the running
    (population) statistics in eval mode. ``running = momentum·running + (1-momentum)·batch``
    (flax convention, biased variance), as in the official code.

    Parameters
    ----------
    num_features : int
        Features ``H`` (last axis).
    momentum : float or None, default=0.95
        Decay of the running averages; None gives the plain average of every batch seen
        since :meth:`reset_running_stats` (used to recalibrate the population statistics).
    eps : float, default=1e-5
        Added to the variance.
    """

    def __init__(self, num_features: int, momentum: float | None = 0.95, eps: float = 1e-5):
        super().__init__()
        self.momentum = None if momentum is None else float(momentum)
        self.eps = float(eps)
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.zeros((), dtype=torch.long))

    def reset_running_stats(self) -> None:
        """Forget the running statistics (mean 0, variance 1, no batches seen)."""
        self.running_mean.zero_()
        self.running_var.fill_(1.0)
        self.num_batches_tracked.zero_()

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Normalise ``x`` (..., H); ``mask`` (B, L) selects the real steps of ``x`` (B, L, H)."""
        if self.training:
            flat = x.reshape(-1, x.shape[-1]) if mask is None else x[mask]  # (N_real, H)
            mean = flat.mean(dim=0)
            var = flat.var(dim=0, unbiased=False)
            with torch.no_grad():
                self.num_batches_tracked += 1
                # flax convention: m weighs the old value; None = cumulative average
                m = self.momentum
                if m is None:
                    m = 1.0 - 1.0 / float(self.num_batches_tracked)
                self.running_mean.mul_(m).add_((1 - m) * mean.detach())
                self.running_var.mul_(m).add_((1 - m) * var.detach())
        else:
            mean, var = self.running_mean, self.running_var
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias

    def step(self, x_t: torch.Tensor) -> torch.Tensor:
        """Normalise one step with the running statistics."""
        scale = torch.rsqrt(self.running_var + self.eps) * self.weight
        return (x_t - self.running_mean) * scale + self.bias


class _LayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` with the (ignored) mask argument and a ``step`` method."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return super().forward(x)

    def step(self, x_t: torch.Tensor) -> torch.Tensor:
        return super().forward(x_t)


class S5Layer(nn.Module):
    """One S5 layer: norm, S5 SSM, activation, dropout (broadcast over time), residual.

    Parameters
    ----------
    d_model : int
        Features ``H``.
    ssm : S5SSM
        The state space model of this layer.
    norm : {"batch", "layer"}
        Normalisation.
    prenorm : bool
        Normalise the layer input (True) or the residual sum (False).
    activation : {"gelu", "full_glu", "half_glu1", "half_glu2"}
        Nonlinearity after the SSM.
    dropout : float
        Dropout probability; one mask per (sequence, feature), shared by all steps.
    bn_momentum : float
        Running-average decay of the batch norm.
    """

    def __init__(
        self,
        d_model: int,
        ssm: S5SSM,
        *,
        norm: str = "batch",
        prenorm: bool = True,
        activation: str = "half_glu1",
        dropout: float = 0.0,
        bn_momentum: float = 0.95,
    ):
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}.")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}.")
        self.ssm = ssm
        self.prenorm = bool(prenorm)
        self.activation = activation
        self.dropout = float(dropout)
        if norm == "batch":
            self.norm = MaskedBatchNorm(d_model, momentum=bn_momentum)
        else:
            self.norm = _LayerNorm(d_model)
        if activation == "full_glu":
            self.out1 = nn.Linear(d_model, d_model)
        if activation != "gelu":
            self.out2 = nn.Linear(d_model, d_model)

    def _drop(self, x: torch.Tensor) -> torch.Tensor:
        # one dropout mask per (sequence, feature), broadcast over time (flax broadcast_dims=[0])
        if not self.training or self.dropout == 0.0 or x.dim() < 3:
            return x
        keep = torch.ones_like(x[:, :1, :])  # (B, 1, H)
        return x * F.dropout(keep, self.dropout, training=True)

    def _activate(self, s: torch.Tensor) -> torch.Tensor:
        g = self._drop(F.gelu(s))
        if self.activation == "gelu":
            return g
        if self.activation == "full_glu":
            x = self.out1(g) * torch.sigmoid(self.out2(g))
        elif self.activation == "half_glu1":
            x = g * torch.sigmoid(self.out2(g))
        else:  # half_glu2: only the gate input goes through GELU
            x = s * torch.sigmoid(self.out2(g))
        return self._drop(x)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, L, H), ``mask`` (B, L) -> (B, L, H)."""
        return self.run(x, mask)[0]

    def run(self, x: torch.Tensor, mask: torch.Tensor | None = None, state=None):
        """``x`` (B, L, H) from SSM state (B, P) -> (output, the state after the last real step)."""
        skip = x
        if self.prenorm:
            x = self.norm(x, mask)
        s, state = self.ssm.run(x, mask, state)
        x = skip + self._activate(s)
        if not self.prenorm:
            x = self.norm(x, mask)
        return x, state

    def step(self, x_t: torch.Tensor, state: torch.Tensor):
        """One step: ``x_t`` (B, H), SSM state (B, P) -> (output (B, H), new state)."""
        skip = x_t
        if self.prenorm:
            x_t = self.norm.step(x_t)
        s, state = self.ssm.step(x_t, state)
        x_t = skip + self._activate(s)
        if not self.prenorm:
            x_t = self.norm.step(x_t)
        return x_t, state


@parameter_group
class S5Params:
    """Hyperparameters of the :class:`S5` backbone (Smith, Warrington & Linderman 2023)."""

    d_model: int = param(
        64, "Number of features ``H`` of every layer (the encoder maps the input to it)."
    )
    d_state: int = param(
        64,
        """
        State size ``P`` of each layer's SSM before conjugate-symmetry halving (the paper's
        ``ssm_size``); ``d_state / 2`` complex states are kept when ``conj_sym`` is True.
        """,
    )
    n_layers: int = param(4, "Number of stacked S5 layers.")
    blocks: int = param(
        4,
        """
        Number ``J`` of diagonal HiPPO-N blocks the initial state matrix is made of; must divide
        ``d_state`` (with ``conj_sym``, ``d_state / blocks`` must be even).
        """,
    )
    bidirectional: bool = param(
        False,
        """
        Also scan every layer backwards over the real steps; as in the paper the two state
        sequences are combined by one output matrix into ``d_model`` features, so the model is
        no longer causal.
        """,
    )
    discretization: str = param(
        "zoh",
        "Zero-order hold or bilinear discretisation of the continuous SSM.",
        kind='{"zoh", "bilinear"}',
    )
    dt_min: float = param(
        0.001, "Smallest initial timescale ``Δ`` (drawn log-uniformly per state)."
    )
    dt_max: float = param(0.1, "Largest initial timescale ``Δ``.")
    dropout: float = param(
        0.0,
        """
        Dropout probability after the activation; one mask per sequence and feature, shared by
        all time steps.
        """,
    )
    ssm_lr: float = param(
        0.001,
        """
        Learning rate of the SSM parameters ``Λ``, ``B`` and ``log Δ``, which are trained without
        weight decay; all other parameters use the estimator's ``lr`` and ``weight_decay``.
        """,
    )
    norm: str = param(
        "batch",
        """
        Batch normalisation (statistics over batch and real time steps; population statistics
        at prediction time) or layer normalisation.
        """,
        kind='{"batch", "layer"}',
    )
    prenorm: bool = param(
        True, "Normalise each layer's input (True) or its residual output (False)."
    )
    activation: str = param(
        "half_glu1",
        "Nonlinearity after the SSM: GELU, or GELU followed by a gated linear unit.",
        kind='{"half_glu1", "half_glu2", "full_glu", "gelu"}',
    )
    C_init: str = param(
        "trunc_standard_normal",
        """
        Initialisation of the output matrix: ``"trunc_standard_normal"`` or ``"lecun_normal"``
        draw a complex ``C`` with variance ``1/P`` or ``1/(P·d_model)`` per part and use
        ``C̃ = C V``; ``"complex_normal"`` draws ``C̃`` directly in the eigenbasis.
        """,
    )
    clip_eigenvalues: bool = param(
        False,
        """
        Keep the real parts of the eigenvalues at most ``-1e-4`` (recommended for forecasting and
        long autoregressive use).
        """,
    )
    conj_sym: bool = param(
        True,
        "Keep one state of each complex-conjugate pair and output ``2 Re(C̃x)``, halving the cost.",
    )
    bn_momentum: float = param(0.95, "Decay of the batch-norm running statistics.")
    step_rescale: float = param(
        1.0,
        """
        Multiplies every timescale ``Δ``; e.g. 2.0 to apply a model trained at one sampling rate
        to data sampled at half that rate.
        """,
    )


@register_model(
    "s5",
    params=S5Params,
    paper=_PAPER,
    url=_URL,
    causal=True,  # the default is unidirectional; bidirectional=True is not causal
    supports_step=True,
    carries_state=True,
    test_params=(
        # the common tests train with lr=0.02 for a few epochs; the SSM must keep up
        {"d_model": 8, "d_state": 8, "n_layers": 1, "blocks": 2, "ssm_lr": 0.02},
        {
            "d_model": 6,
            "d_state": 4,
            "n_layers": 2,
            "blocks": 1,
            "norm": "layer",
            "prenorm": False,
            "activation": "full_glu",
            "discretization": "bilinear",
            "C_init": "lecun_normal",
            "ssm_lr": 0.02,
        },
    ),
    description="diagonal MIMO state space layers with a parallel scan (HiPPO-N init)",
)
class S5(nn.Module):
    """S5 backbone: linear encoder and a stack of S5 layers (Smith et al., 2023).

    The paper mean-pools the features over the real steps before its decoder.

    Parameters
    ----------
    d_input : int
        Number of input channels (set by the estimators from the data).
    params : S5Params, optional
        The hyperparameters; ``S5Params()`` when omitted.
    """

    onnx_unsupported = (
        "its state-space scan runs in complex arithmetic, for which ONNX has no types"
    )

    def __init__(self, d_input: int, params: S5Params | None = None):
        super().__init__()
        params = S5Params() if params is None else params
        if params.d_model < 1 or params.d_state < 1 or params.n_layers < 1:
            raise ValueError("d_model, d_state and n_layers must be positive integers.")
        if not 0.0 <= params.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {params.dropout}.")
        if params.ssm_lr <= 0:
            raise ValueError(f"ssm_lr must be positive, got {params.ssm_lr}.")
        self.params = params
        self.ssm_lr = float(params.ssm_lr)
        # Directions are summed into d_model features (see the module docstring), so the
        # contract's `bidirectional` attribute is deliberately not set.
        self.causal = not params.bidirectional
        self.carries_state = self.causal
        self.encoder = nn.Linear(d_input, params.d_model)
        self.layers = nn.ModuleList(
            S5Layer(
                params.d_model,
                S5SSM(
                    params.d_model,
                    params.d_state,
                    blocks=params.blocks,
                    conj_sym=params.conj_sym,
                    bidirectional=params.bidirectional,
                    discretization=params.discretization,
                    dt_min=params.dt_min,
                    dt_max=params.dt_max,
                    C_init=params.C_init,
                    clip_eigenvalues=params.clip_eigenvalues,
                    step_rescale=params.step_rescale,
                ),
                norm=params.norm,
                prenorm=params.prenorm,
                activation=params.activation,
                dropout=params.dropout,
                bn_momentum=params.bn_momentum,
            )
            for _ in range(params.n_layers)
        )
        self.d_output = params.d_model

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Run the stack: ``x`` (B, L, d_input), ``mask`` (B, L) -> (B, L, d_model)."""
        h = self.encoder(x)  # (B, L, H)
        for layer in self.layers:
            h = layer(h, mask)
        return h

    def init_state(self, batch_size: int, device=None, dtype=None) -> list[torch.Tensor]:
        """Zero complex SSM states of every layer, for :meth:`step`."""
        if not self.causal:
            raise RuntimeError("A bidirectional S5 model cannot run step by step.")
        return [layer.ssm.init_state(batch_size, device, dtype) for layer in self.layers]

    def forward_with_state(self, x: torch.Tensor, state=None, mask: torch.Tensor | None = None):
        """Continue the sequences from ``state`` (None: zeros), see :mod:`seqestim.nn._contract`.

        ``x`` (B, L, d_input), ``mask`` (B, L) -> (``y`` (B, L, d_model), the complex SSM state
        of every layer after the last real step of each row).
        """
        if not self.causal:
            raise RuntimeError("A bidirectional S5 model cannot continue a sequence.")
        if state is None:
            state = self.init_state(x.shape[0], device=x.device)
        h = self.encoder(x)  # (B, L, H)
        new_state = []
        for layer, layer_state in zip(self.layers, state, strict=True):
            h, layer_state = layer.run(h, mask, layer_state)
            new_state.append(layer_state)
        return h, new_state

    def step(self, x_t: torch.Tensor, state: list[torch.Tensor]):
        """One step: ``x_t`` (B, d_input) -> (``y_t`` (B, d_model), new state).

        Uses the batch-norm running statistics; equals :meth:`forward` in eval mode.
        """
        if not self.causal:
            raise RuntimeError("A bidirectional S5 model cannot run step by step.")
        h = self.encoder(x_t)
        new_state = []
        for layer, layer_state in zip(self.layers, state, strict=True):
            h, layer_state = layer.step(h, layer_state)
            new_state.append(layer_state)
        return h, new_state

    def optimizer_param_groups(self, lr: float, weight_decay: float) -> list[dict]:
        """Return the paper's two optimiser groups.

        Parameters
        ----------
        lr : float
            Learning rate of the regular parameters.
        weight_decay : float
            Weight decay of the regular parameters.

        Returns
        -------
        list of dict
            ``[{"params": Λ, B, log Δ of every layer, "lr": ssm_lr, "weight_decay": 0},
            {"params": everything else, "lr": lr, "weight_decay": weight_decay}]``.
        """
        ssm = [p for layer in self.layers for p in layer.ssm.ssm_parameters()]
        ssm_ids = {id(p) for p in ssm}
        regular = [p for p in self.parameters() if id(p) not in ssm_ids]
        return [
            {"params": ssm, "lr": self.ssm_lr, "weight_decay": 0.0},
            {"params": regular, "lr": lr, "weight_decay": weight_decay},
        ]
