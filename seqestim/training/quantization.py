"""Quantized training: low-precision weights and activations with a straight-through estimator.

Reference
---------
I. Hubara, M. Courbariaux, D. Soudry, R. El-Yaniv, Y. Bengio. "Quantized Neural Networks:
Training Neural Networks with Low Precision Weights and Activations." JMLR 18(187):1-30, 2018;
arXiv:1609.07061.

What the paper does, and what is implemented here
--------------------------------------------------
- **Quantisers on [-1, 1].** One bit: ``Sign(x) = +1 if x >= 0 else -1`` (never 0, unlike
  ``torch.sign``). ``k >= 2`` bits: linear quantisation, ``x`` clipped to ``[-1, 1]`` and rounded
  to the nearest of the ``2^k`` evenly spaced levels ``-1, -1 + Δ, ..., 1`` with
  ``Δ = 2 / (2^k - 1)`` (ties away from zero, 0 to the level above it, so that
  ``Q(-x) = -Q(x)``); with ``k = 1`` these levels are ``±1`` and the rule is ``Sign``.
- **Straight-through estimator.** The forward pass uses the quantised value ``q = Q(r)``; the
  backward pass takes ``∂C/∂r = ∂C/∂q · 1{|r| <= 1}``, the derivative of the hard tanh
  (:class:`_StraightThrough`).
- **Latent real weights.** The optimizer updates real-valued latent weights; the network computes
  with their quantised values (forward and backward, so the gradients are those of the quantised
  network); after every update the latent weights are clipped to their range
  (:class:`WeightQuantizer`).
- **Activations.** With ``activation_bits`` the input of every linear and convolutional layer is
  quantised the same way, except the layers that read the network's input (the first layer's
  input stays full precision, as in the paper); the last layer's output is never quantised.

Deviations, all deliberate:

- **A fixed scale per weight tensor.** The paper's binarised networks compute with weights
  ``±1`` and put batch normalisation after every layer to restore the scale; seqestim's backbones
  have no such normalisation in general. Each quantised tensor therefore has a fixed scale
  ``α = √3 · rms(initial weights)`` (the half-width of the uniform distribution with the
  initialisation's variance; 1 for a tensor initialised at zero): the latent weights live in
  ``[-α, α]`` and the effective weights are ``α · Q(w / α)``. In units of ``α`` this is exactly
  the paper's rule (latent weights clipped to ``[-1, 1]``). ``α`` is fixed at the start of
  training and saved with the model.
- **Which tensors.** Every parameter with two or more dimensions is a weight and is quantised:
  matrices, convolution kernels, embeddings, complex pairs of state-space models. Vectors
  (biases, normalisation gains, peepholes, time scales) stay full precision.
- **Activations inside recurrent cells.** Activations are quantised where they enter a linear
  or convolutional layer: between stacked recurrent layers, into the task head, inside
  convolutional and state-space blocks. Inside a recurrent cell, the state ``h_{t-1}`` that
  multiplies the recurrent matrix is computed within the cell and stays full precision.
- Shift-based batch normalisation, shift-based AdaMax and quantised gradients (hardware
  optimisations of the paper) are not implemented.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

__all__ = [
    "ACTIVATION_LAYERS",
    "ActivationQuantizer",
    "QuantizedTensor",
    "WeightQuantizer",
    "add_activation_quantizers",
    "check_bits",
    "find_input_layers",
    "quantize",
    "size_in_bits",
]

#: Layer types whose input is an activation that ``activation_bits`` quantises.
ACTIVATION_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)

#: Bit widths accepted by ``weight_bits`` and ``activation_bits`` (besides None).
MAX_BITS = 16


def check_bits(name: str, bits) -> int | None:
    """``bits`` as an int, or None; a ``ValueError`` naming ``name`` otherwise."""
    if bits is None:
        return None
    if (
        isinstance(bits, bool)
        or not isinstance(bits, int | np.integer)
        or not 1 <= bits <= MAX_BITS
    ):
        raise ValueError(
            f"{name} must be None (full precision) or an integer number of bits from 1 to "
            f"{MAX_BITS}; got {bits!r}."
        )
    return int(bits)


def _levels(x: torch.Tensor, bits: int) -> torch.Tensor:
    """The quantised value of ``x`` on ``[-1, 1]`` (no gradient)."""
    if bits == 1:
        return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)  # Sign: 0 maps to +1
    # the 2^k levels are (2n + 1) / top, n = -2^(k-1) .. 2^(k-1) - 1, with top = 2^k - 1 steps;
    # in units of half a step, v = x top / 2, they sit at the half-integers, and the nearest one
    # is sign(v) (floor(|v|) + 1/2): ties go away from zero (and 0 to +), so Q(-x) = -Q(x)
    top = 2**bits - 1
    v = x.clamp(-1.0, 1.0) * (top / 2.0)
    sign = torch.where(v >= 0, 1.0, -1.0).to(x.dtype)
    return sign * (2.0 * torch.floor(v.abs()) + 1.0) / top


class _StraightThrough(torch.autograd.Function):
    """``Q(x)`` forward; ``g · 1{|x| <= 1}`` backward (hard-tanh straight-through estimator)."""

    generate_vmap_rule = True  # per-sample gradients (differential privacy) vmap it

    @staticmethod
    def forward(x, bits):
        return _levels(x, bits)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= 1.0).to(grad.dtype), None


def quantize(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Quantise ``x`` to ``bits`` bits on ``[-1, 1]`` with the straight-through estimator.

    Parameters
    ----------
    x : torch.Tensor
        Real values; the quantiser clips them to ``[-1, 1]``.
    bits : int
        1 for ``Sign`` (values ``±1``), ``k >= 2`` for the ``2^k`` linear levels.

    Returns
    -------
    q : torch.Tensor
        Same shape and dtype as ``x``, with at most ``2^bits`` distinct values. Its gradient
        reaches ``x`` only where ``|x| <= 1``.
    """
    return _StraightThrough.apply(x, int(bits))


class QuantizedTensor(NamedTuple):
    """One quantised weight tensor as the network uses it at prediction time."""

    #: The effective weights ``scale · level``, float64.
    values: np.ndarray
    #: The tensor's scale ``α``: the levels are ``values / scale``, in ``[-1, 1]``.
    scale: float
    #: Bits per weight: ``values`` takes at most ``2^bits`` distinct values.
    bits: int

    @property
    def codes(self) -> np.ndarray:
        """The integer code ``0 .. 2^bits - 1`` of every weight (the level's index)."""
        top = 2**self.bits - 1
        return np.rint((self.values / self.scale + 1.0) * (top / 2.0)).astype(np.int64)


def _initial_scale(tensor: torch.Tensor) -> float:
    rms = float(tensor.detach().double().square().mean().sqrt())
    return math.sqrt(3.0) * rms if rms > 0 else 1.0


class WeightQuantizer:
    """Latent real weights, their scales, and the quantised weights a network computes with.

    The network's weight parameters hold the quantised values ``α · Q(w / α)`` at all times
    except during the optimizer step, when they hold the latent weights ``w``; gradients are
    computed with the quantised weights (the straight-through estimator). The training engine
    calls, for every batch::

        quantizer.begin(module)          # once, before training: keep latent, quantise
        ... forward and backward with the quantised weights ...
        quantizer.before_step(module)    # mask the gradients, put the latent weights back
        optimizer.step()                 # updates the latent weights
        quantizer.after_step(module)     # clip the latent weights, quantise again

    Parameters
    ----------
    module : torch.nn.Module
        The network; every floating parameter with two or more dimensions is quantised.
    bits : int
        Bits per weight.
    scales : dict of str -> float, optional
        The scale of every quantised parameter (from an earlier fit); by default
        ``√3 · rms`` of the parameter's current (initial) values.
    """

    def __init__(self, module: nn.Module, bits: int, scales: dict | None = None):
        self.bits = int(bits)
        self.names = [
            name
            for name, p in module.named_parameters()
            if p.is_floating_point() and p.dim() >= 2 and p.requires_grad
        ]
        params = dict(module.named_parameters())
        if scales is None:
            scales = {name: _initial_scale(params[name]) for name in self.names}
        # the scale as the network's dtype sees it, so that ``values / scale`` is exact
        self.scales = {
            name: float(torch.tensor(scales[name], dtype=params[name].dtype)) for name in self.names
        }
        self.latent: dict[str, torch.Tensor] | None = None

    def _params(self, module: nn.Module):
        params = dict(module.named_parameters())
        return [(name, params[name]) for name in self.names]

    def effective(self, latent: torch.Tensor, name: str) -> torch.Tensor:
        """The quantised weight ``α · Q(w / α)`` of latent weights ``w`` (no gradient)."""
        scale = self.scales[name]
        return _levels(latent / scale, self.bits) * scale

    @torch.no_grad()
    def begin(self, module: nn.Module) -> None:
        """Keep the current weights as latent weights (first call only) and quantise them."""
        if self.latent is None:
            self.latent = {
                name: p.detach().clamp(-self.scales[name], self.scales[name]).clone()
                for name, p in self._params(module)
            }
        self.quantize_(module)

    @torch.no_grad()
    def quantize_(self, module: nn.Module) -> None:
        """Write the quantised latent weights into the network's parameters."""
        for name, p in self._params(module):
            p.copy_(self.effective(self.latent[name].to(p.device), name))

    @torch.no_grad()
    def before_step(self, module: nn.Module) -> None:
        """Apply the straight-through mask to the gradients; put the latent weights back."""
        for name, p in self._params(module):
            latent = self.latent[name].to(p.device)
            if p.grad is not None:
                p.grad.mul_((latent.abs() <= self.scales[name]).to(p.grad.dtype))
            p.copy_(latent)

    @torch.no_grad()
    def after_step(self, module: nn.Module) -> None:
        """Clip the updated latent weights to ``[-α, α]`` and quantise them again."""
        for name, p in self._params(module):
            scale = self.scales[name]
            self.latent[name] = p.detach().clamp(-scale, scale).clone()
            p.copy_(self.effective(self.latent[name], name))

    def quantized_tensors(self, module: nn.Module) -> dict[str, QuantizedTensor]:
        """The effective weights of every quantised parameter, as the network holds them."""
        return {
            name: QuantizedTensor(
                values=p.detach().cpu().double().numpy(), scale=self.scales[name], bits=self.bits
            )
            for name, p in self._params(module)
        }

    def __getstate__(self):
        state = self.__dict__.copy()
        if state["latent"] is not None:  # tensors pickle; keep them on the CPU
            state["latent"] = {k: v.cpu() for k, v in state["latent"].items()}
        return state


class ActivationQuantizer:
    """A forward pre-hook that quantises a layer's input to ``bits`` bits (picklable)."""

    def __init__(self, bits: int):
        self.bits = int(bits)

    def __call__(self, module: nn.Module, args: tuple):
        """Replace the layer's first positional input by its quantised value."""
        x, *rest = args
        return (quantize(x, self.bits), *rest)


def find_input_layers(module: nn.Module, example: dict) -> list[str]:
    """Names of the linear/convolutional layers of ``module`` that read the network's input.

    One forward pass on ``example`` (keyword arguments of ``module.forward``, a few rows) in
    evaluation mode, with gradients enabled: a layer whose input does not require a gradient
    computed it from the data alone (possibly through parameter-free steps such as padding,
    reversal or dropout), so it is a first layer.

    Parameters
    ----------
    module : torch.nn.Module
        The network, with trainable parameters.
    example : dict of str -> torch.Tensor
        Inputs of one forward pass.

    Returns
    -------
    names : list of str
        Sorted module names.
    """
    reads_input: set[str] = set()
    handles = []
    for name, layer in module.named_modules():
        if isinstance(layer, ACTIVATION_LAYERS):

            def record(layer, args, name=name):
                if not args[0].requires_grad:
                    reads_input.add(name)

            handles.append(layer.register_forward_pre_hook(record))
    was_training = module.training
    try:
        module.eval()
        with torch.enable_grad():
            module(**example)
    finally:
        module.train(was_training)
        for handle in handles:
            handle.remove()
    return sorted(reads_input)


def add_activation_quantizers(module: nn.Module, bits: int, skip: list[str]) -> list[str]:
    """Quantise the input of every linear/convolutional layer of ``module`` not in ``skip``.

    Returns the names of the layers that got a quantiser.
    """
    names = []
    for name, layer in module.named_modules():
        if isinstance(layer, ACTIVATION_LAYERS) and name not in skip:
            layer.register_forward_pre_hook(ActivationQuantizer(bits))
            names.append(name)
    return names


def size_in_bits(module: nn.Module, quantized: dict[str, int]) -> int:
    """Bits needed to store the parameters of ``module``.

    A quantised parameter takes its bits per value plus 32 for its scale; every other parameter
    32 bits per value.

    Parameters
    ----------
    module : torch.nn.Module
    quantized : dict of str -> int
        Bits of every quantised parameter, by name.

    Returns
    -------
    bits : int
    """
    total = 0
    for name, p in module.named_parameters():
        bits = quantized.get(name)
        total += p.numel() * bits + 32 if bits is not None else p.numel() * 32
    return total
