"""Target-space training: the trainable parameters are layer targets, the weights are solved.

Reference
---------
M. Fairbank, S. Samothrakis, L. Citi. "Deep Learning in Target Space." Journal of Machine
Learning Research 23(8):1-46, 2022; arXiv:2006.01578.

The method
----------
A fixed *realisation batch* ``X_R`` of ``R`` training examples is chosen before training. Every
layer ``l`` owns a trainable **target matrix** ``T_l``: the pre-activation sums the layer should
produce on ``X_R``. Its weights are not parameters; each forward pass computes them by
regularised least squares from the layer's input on the realisation batch,

    Ã_{l-1} = [1, A_{l-1}]            (bias column first; A_0 = X_R)
    W_l     = argmin_W ||Ã_{l-1} W - T_l||² + λ ||W||² = (Ãᵀ Ã + λ I)⁻¹ Ãᵀ T_l
    A_l     = f(Ã_{l-1} W_l)           (sequential cascade untangling, "SCU": the activations the
                                        solved weights *achieve* feed the next layer's solve)

and the network then runs on the actual batch with these weights. The loss is backpropagated
through the solves into the targets, which any optimizer updates. ``λ`` regularises every column
of ``Ã``, the bias column included (TensorFlow's ``lstsq(l2_regularizer=λ)``, as in the paper's
code); the paper's default is ``λ = 0.1``.

Recurrent layers (the paper's target-space RNN): the targets ``T ∈ R^{R × L × n}`` are the
pre-activation sums at every real step of the realisation sequences, and one weight matrix
(input, recurrent and bias rows) is solved over all ``R · L`` rows of
``[1, x_t, f(T_{t-1})]`` (``f(T_{-1}) = 0``), so that the recurrence's inputs come from the
targets themselves and the cascade through time is untangled as well; the recurrence then runs
normally.

- tanh RNN (``h_t = tanh(x_t W + h_{t-1} U + b)``): exactly the above with ``f = tanh``.
- GRU (the paper has no target-space GRU; this is our extension, in the same spirit): the
  targets are the three gates' pre-activation sums ``T_r, T_z, T_h``. They imply states
  ``h_t = (1 - σ(T_z)) ⊙ h_{t-1} + σ(T_z) ⊙ tanh(T_h)`` with ``h_{-1} = 0``. The reset and
  update gates are solved from ``[1, x_t, h_{t-1}]``, the candidate from
  ``[1, x_t, σ(T_r) ⊙ h_{t-1}]``.
- The task head (a linear layer: the paper's output layer of an MLP) gets targets on the
  realisation batch's pooled features (or on every real step for per-step outputs) and is
  solved from the achieved features of the last recurrent layer.

Initialisation as the paper recommends: targets drawn from a standard normal truncated at
``±2``, then one *projection*: the weights are solved and the targets replaced by the sums
those weights achieve.

Deviations, all deliberate:

- The realisation batch is a random subset of ``realisation_size`` training examples (the
  paper's examples use the whole training set, which is too slow for recurrent networks on a
  CPU); padded steps of ragged sequences are left out of the solves.
- Dropout between stacked layers applies to the actual batch only; the realisation pass runs
  without it. Normalization inside the cells is not supported.
- The solves run in the network's dtype with a Cholesky factorisation (float64 at prediction
  time, as every seqestim network).
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import torch
from torch import nn
from torch.func import functional_call

from seqestim.nn._contract import lengths_to_mask, reverse_padded
from seqestim.nn.gated_rnn import GRUCell, TanhRNNCell, _GatedRecurrentNetwork
from seqestim.nn.heads import EmbeddedBackbone, IdentityHead, LanguageModelNet, SequenceNet, pool

__all__ = [
    "PARAMETERIZATIONS",
    "TargetSpace",
    "TargetSpaceNetwork",
    "check_target_space_network",
    "resolve_parameterization",
    "ridge_solve",
]

#: Values of the ``parameterization`` parameter given as a string.
PARAMETERIZATIONS = ("weights", "targets")


@dataclasses.dataclass(frozen=True)
class TargetSpace:
    """Settings of target-space training (``parameterization="targets"`` uses the defaults).

    Parameters
    ----------
    realisation_size : int, default=128
        Number of training examples in the realisation batch (all of them when there are
        fewer). Each training step runs the network over this batch and solves one least-squares
        problem per layer, so the cost of a step grows with it.
    l2 : float, default=0.1
        The ridge ``λ`` of the solves (the paper's default).

    Examples
    --------
    >>> from seqestim.training import TargetSpace
    >>> TargetSpace(realisation_size=194, l2=0.001)
    TargetSpace(realisation_size=194, l2=0.001)
    """

    realisation_size: int = 128
    l2: float = 0.1

    def __post_init__(self):
        size = self.realisation_size
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 2:
            raise ValueError(f"realisation_size must be an integer >= 2; got {size!r}.")
        l2 = self.l2
        if isinstance(l2, bool) or not isinstance(l2, numbers.Real) or not 0 < l2 < math.inf:
            raise ValueError(f"l2 must be a positive finite number; got {l2!r}.")


def resolve_parameterization(parameterization) -> TargetSpace | None:
    """The ``parameterization`` parameter as a :class:`TargetSpace`, or None for weights."""
    if isinstance(parameterization, TargetSpace):
        return parameterization
    if parameterization == "weights":
        return None
    if parameterization == "targets":
        return TargetSpace()
    raise ValueError(
        f'parameterization must be "weights", "targets" or a TargetSpace; got {parameterization!r}.'
    )


def ridge_solve(A: torch.Tensor, T: torch.Tensor, l2: float) -> torch.Tensor:
    """``argmin_W ||A W - T||² + l2 ||W||²``, differentiable in ``A`` and ``T``.

    Parameters
    ----------
    A : torch.Tensor
        ``(N, k)`` inputs (with the bias column, if any).
    T : torch.Tensor
        ``(N, m)`` targets.
    l2 : float
        The ridge; > 0, so the system is positive definite.

    Returns
    -------
    W : torch.Tensor
        ``(k, m)``.
    """
    gram = A.T @ A + l2 * torch.eye(A.shape[1], dtype=A.dtype, device=A.device)  # (k, k)
    factor = torch.linalg.cholesky(gram)
    return torch.cholesky_solve(A.T @ T, factor)  # (k, m)


def _cell_kind(cell: nn.Module) -> str | None:
    if type(cell) is TanhRNNCell:
        return "rnn"
    if type(cell) is GRUCell:
        return "gru"
    return None


def check_target_space_network(network: nn.Module) -> None:
    """Raise a ``ValueError`` unless ``network`` can be trained in target space."""
    if not isinstance(network, SequenceNet | LanguageModelNet):
        raise ValueError(
            "parameterization='targets' needs a task network of a recurrent backbone and a "
            f"linear head; this task's network is a {type(network).__name__}."
        )
    backbone = network.backbone
    if isinstance(backbone, EmbeddedBackbone):
        backbone = backbone.backbone
    cells = (
        [d.cell for layer in backbone.layers for d in layer]
        if isinstance(backbone, _GatedRecurrentNetwork)
        else []
    )
    if not cells or any(_cell_kind(cell) is None for cell in cells):
        raise ValueError(
            "parameterization='targets' supports the tanh RNN and GRU backbones ('rnn', 'gru'); "
            f"got {type(backbone).__name__}."
        )
    if backbone.normalization is not None:
        raise ValueError(
            f"parameterization='targets' needs normalization=None; got {backbone.normalization!r}."
        )


def _rows(values: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """The real steps of ``values`` (R, L, k) as rows ``(n_real, k)``."""
    flat = values.reshape(-1, values.shape[-1])
    return flat if mask is None else flat[mask.reshape(-1)]


def _with_bias(x: torch.Tensor) -> torch.Tensor:
    return torch.cat([torch.ones_like(x[..., :1]), x], dim=-1)


def _shift(h: torch.Tensor) -> torch.Tensor:
    """``h_{t-1}`` for every step of ``h`` (R, L, H), zero at ``t = 0``."""
    return torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], dim=1)


def _target_states(kind: str, T: torch.Tensor, mask: torch.Tensor | None):
    """The states the targets imply, ``h_t`` (R, L, H), and the GRU's reset gates (or None)."""
    if kind == "rnn":
        return torch.tanh(T), None
    H = T.shape[-1] // 3
    r, z = torch.sigmoid(T[..., :H]), torch.sigmoid(T[..., H : 2 * H])
    candidate = torch.tanh(T[..., 2 * H :])
    h = torch.zeros_like(candidate[:, 0])  # (R, H)
    states = []
    for t in range(T.shape[1]):  # elementwise only: cheap next to the solves
        new = h + z[:, t] * (candidate[:, t] - h)
        if mask is not None:
            new = torch.where(mask[:, t : t + 1], new, h)
        h = new
        states.append(h)
    return torch.stack(states, dim=1), r


def solve_cell(kind: str, x: torch.Tensor, T: torch.Tensor, mask, l2: float) -> dict:
    """The weights of one recurrent cell from its targets on the realisation batch.

    Parameters
    ----------
    kind : {"rnn", "gru"}
    x : torch.Tensor
        ``(R, L, C)`` the cell's input on the realisation batch.
    T : torch.Tensor
        ``(R, L, G · H)`` the targets of its pre-activation sums (``G`` gates).
    mask : torch.Tensor or None
        ``(R, L)``, True at real steps.
    l2 : float

    Returns
    -------
    weights : dict
        ``input_proj.weight`` (G·H, C), ``input_proj.bias`` (G·H,), ``recurrent`` (H, G·H):
        the cell's parameters in its own layout.
    """
    C = x.shape[-1]
    states, reset = _target_states(kind, T, mask)
    previous = _shift(states)  # f(T_{t-1}), zero at t = 0
    if kind == "rnn":
        A = _rows(_with_bias(torch.cat([x, previous], dim=-1)), mask)  # (N, 1 + C + H)
        W = ridge_solve(A, _rows(T, mask), l2)  # (1 + C + H, H)
    else:
        H = T.shape[-1] // 3
        A_rz = _rows(_with_bias(torch.cat([x, previous], dim=-1)), mask)
        W_rz = ridge_solve(A_rz, _rows(T[..., : 2 * H], mask), l2)  # (1 + C + H, 2H)
        A_h = _rows(_with_bias(torch.cat([x, reset * previous], dim=-1)), mask)
        W_h = ridge_solve(A_h, _rows(T[..., 2 * H :], mask), l2)  # (1 + C + H, H)
        W = torch.cat([W_rz, W_h], dim=1)  # (1 + C + H, 3H), columns r | z | h
    return {
        "input_proj.bias": W[0],
        "input_proj.weight": W[1 : 1 + C].T,
        "recurrent": W[1 + C :],
    }


def _achieved_sums(kind: str, x, h, weights: dict) -> torch.Tensor:
    """The pre-activation sums a cell computes on the realisation batch, given its outputs."""
    previous = _shift(h)
    proj = x @ weights["input_proj.weight"].T + weights["input_proj.bias"]  # (R, L, G·H)
    U = weights["recurrent"]
    if kind == "rnn":
        return proj + previous @ U
    H = h.shape[-1]
    rz = proj[..., : 2 * H] + previous @ U[:, : 2 * H]
    r = torch.sigmoid(rz[..., :H])
    candidate = proj[..., 2 * H :] + (r * previous) @ U[:, 2 * H :]
    return torch.cat([rz, candidate], dim=-1)


class TargetSpaceNetwork(nn.Module):
    """A task network trained in target space (see the module docstring).

    Parameters
    ----------
    network : SequenceNet or LanguageModelNet
        The weight-space network, built as usual; its recurrent cells and head become
        computed (its own weight tensors are frozen and hold the solved weights after every
        forward pass in evaluation mode).
    realisation : dict of str -> torch.Tensor
        The realisation batch, as keyword arguments of ``network.forward`` (``x`` and
        ``lengths``).
    l2 : float, default=0.1
        The ridge ``λ``.
    initialize : bool, default=True
        Draw the targets and project them (:meth:`initialize_targets`); False leaves them at
        zero, for a network whose targets are loaded next.
    """

    def __init__(self, network: nn.Module, realisation: dict, l2: float = 0.1, *, initialize=True):
        super().__init__()
        check_target_space_network(network)
        self.network = network
        self.l2 = float(l2)
        self.realisation_keys = tuple(sorted(realisation))
        for key in self.realisation_keys:
            self.register_buffer(f"realisation_{key}", realisation[key].clone())
        backbone = network.backbone
        self.embedding = backbone if isinstance(backbone, EmbeddedBackbone) else None
        self.recurrent = backbone.backbone if self.embedding is not None else backbone
        self.targets = nn.ParameterDict()
        R, L = realisation["x"].shape[:2]
        for i, layer in enumerate(self.recurrent.layers):
            for d, direction in enumerate(layer):
                cell = direction.cell
                width = cell.n_gates * cell.d_model
                self.targets[f"layer{i}_dir{d}"] = nn.Parameter(torch.zeros(R, L, width))
                for p in cell.parameters():
                    p.requires_grad_(False)
        self.head_per_step = getattr(network, "pooling", None) is None
        self.has_head = not isinstance(network.head, IdentityHead)
        if self.has_head:
            shape = (
                (R, L, network.head.out_features)
                if self.head_per_step
                else (R, network.head.out_features)
            )
            self.targets["head"] = nn.Parameter(torch.zeros(shape))
            for p in network.head.parameters():
                p.requires_grad_(False)
        self._eval_signature = None
        if initialize:
            self.initialize_targets()

    # ---------------------------------------------------------------------------- realisation
    def _realisation(self) -> dict:
        return {key: getattr(self, f"realisation_{key}") for key in self.realisation_keys}

    def _realisation_input(self):
        """The recurrent stack's input on the realisation batch and its mask."""
        data = self._realisation()
        x = data["x"]
        lengths = data.get("lengths")
        mask = None
        if lengths is not None and bool((lengths < x.shape[1]).any()):
            mask = lengths_to_mask(lengths, x.shape[1])
        if self.embedding is not None:
            x = self.embedding.embedding(x)  # (R, L, d_embedding)
        return x, mask

    # ---------------------------------------------------------------------------- solves
    def solve_weights(self, *, targets: dict | None = None, with_sums: bool = False):
        """The network's computed weights (names of ``network``'s parameters) from the targets.

        Parameters
        ----------
        targets : dict, optional
            Targets to use instead of the trained ones (for the initial projection).
        with_sums : bool, default=False
            Also return the sums the solved weights achieve, by target name.

        Returns
        -------
        weights : dict of str -> torch.Tensor
        sums : dict of str -> torch.Tensor, only with ``with_sums``
        """
        targets = dict(self.targets) if targets is None else targets
        x, mask = self._realisation_input()
        weights, sums = {}, {}
        prefix = "backbone.backbone." if self.embedding is not None else "backbone."
        h = x
        for i, layer in enumerate(self.recurrent.layers):
            outputs = []
            for d, direction in enumerate(layer):
                kind = _cell_kind(direction.cell)
                name = f"layer{i}_dir{d}"
                inp = h if d == 0 else reverse_padded(h, mask)
                cell_weights = solve_cell(kind, inp, targets[name], mask, self.l2)
                # sequential cascade untangling: the next solve reads the achieved activations
                out = functional_call(
                    direction, {f"cell.{k}": v for k, v in cell_weights.items()}, (inp, mask)
                )
                if with_sums:
                    sums[name] = _achieved_sums(kind, inp, out, cell_weights)
                for key, value in cell_weights.items():
                    weights[f"{prefix}layers.{i}.{d}.cell.{key}"] = value
                outputs.append(out if d == 0 else reverse_padded(out, mask))
            h = torch.cat(outputs, dim=-1) if len(outputs) > 1 else outputs[0]
        if self.has_head:
            if self.head_per_step:
                features, T = _rows(h, mask), _rows(targets["head"], mask)
            else:
                bidirectional = bool(getattr(self.recurrent, "bidirectional", False))
                features = pool(h, mask, self.network.pooling, bidirectional)
                T = targets["head"]
            A = _with_bias(features)
            W = ridge_solve(A, T, self.l2)  # (1 + H, n_outputs)
            weights["head.bias"], weights["head.weight"] = W[0], W[1:].T
            if with_sums:
                sums["head"] = A @ W if not self.head_per_step else _with_bias(h) @ W
        return (weights, sums) if with_sums else weights

    @torch.no_grad()
    def initialize_targets(self) -> None:
        """Truncated-normal targets, then one projection onto the achievable sums (paper §3.4)."""
        drawn = {}
        for name, T in self.targets.items():
            drawn[name] = nn.init.trunc_normal_(torch.empty_like(T), std=1.0, a=-2.0, b=2.0)
        _, sums = self.solve_weights(targets=drawn, with_sums=True)
        for name, T in self.targets.items():
            T.copy_(sums[name])

    # ---------------------------------------------------------------------------- forward
    def _signature(self):
        tensors = [*self.parameters(), *self.buffers()]
        return tuple((id(t), t._version) for t in tensors)

    def forward(self, **inputs) -> torch.Tensor:
        """The network on ``inputs`` with the weights solved from the targets."""
        if self.training:
            weights = self.solve_weights()
            return functional_call(self.network, weights, args=(), kwargs=inputs, strict=False)
        # evaluation: solve once per change of the targets and keep the weights in the network
        signature = self._signature()
        if signature != self._eval_signature:
            with torch.no_grad():
                weights = self.solve_weights()
                parameters = dict(self.network.named_parameters())
                for name, value in weights.items():
                    parameters[name].copy_(value)
            self._eval_signature = self._signature()
        return self.network(**inputs)
