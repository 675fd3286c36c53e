"""How the training engine applies the options of :mod:`seqestim.training` to a network.

:mod:`seqestim.estimators._training` declares the parameters (``weight_bits``,
``activation_bits``, ...) in :class:`~seqestim.estimators._training.TrainingParams`; this module
turns them into changes of the task network and skorch callbacks, at fit time (from the
training data) and at load time (from the fitted state saved with the estimator).

Fitted state, saved with the estimator: ``_quantization`` (bits, the scale of every quantised
weight tensor and the layers whose input stays full precision) and ``_privacy_spent`` (read as
``privacy_spent_``).

Private training (``privacy=``) replaces three parts of skorch's training loop
(:class:`PrivateNetMixin`): the training batches are Poisson-sampled, every step computes
per-example gradients instead of the batch gradient, and the optimizer is Opacus' ``DPOptimizer``
around the user's one.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import torch
from skorch.callbacks import Callback

from seqestim.training.privacy import (
    PrivateTraining,
    check_no_batch_statistics,
    per_sample_gradients,
    resolve_privacy,
)
from seqestim.training.quantization import (
    WeightQuantizer,
    add_activation_quantizers,
    check_bits,
    find_input_layers,
    size_in_bits,
)
from seqestim.training.target_space import (
    TargetSpaceNetwork,
    resolve_parameterization,
)

__all__ = [
    "PreparedOptions",
    "PrivateNetMixin",
    "check_option_params",
    "model_size_bits",
    "prepare_training_options",
    "quantized_weights",
    "record_training_options",
    "supported_private_backbones",
    "wrap_network",
]


def check_option_params(estimator) -> None:
    """Raise a ``ValueError`` naming the first invalid training-option parameter."""
    check_bits("weight_bits", estimator.weight_bits)
    check_bits("activation_bits", estimator.activation_bits)
    target_space = resolve_parameterization(estimator.parameterization)
    private = resolve_privacy(estimator.privacy) is not None
    if target_space is not None and (
        private or estimator.weight_bits is not None or estimator.activation_bits is not None
    ):
        raise ValueError(
            "parameterization='targets' computes the weights from the targets; it cannot be "
            "combined with privacy, weight_bits or activation_bits."
        )
    if private:
        if estimator.early_stopping:
            raise ValueError(
                "privacy cannot be combined with early_stopping: choosing the epoch on a split "
                "of the private data spends privacy that the accountant does not count."
            )
        if estimator.warm_start:
            raise ValueError(
                "privacy cannot be combined with warm_start: the privacy budget covers one fit."
            )


class _WeightQuantization(Callback):
    """Keeps the network's weights quantised; the optimizer steps on the latent weights."""

    def __init__(self, quantizer: WeightQuantizer):
        self.quantizer = quantizer

    def on_train_begin(self, net, **kwargs):
        self.quantizer.begin(net.module_)

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.quantizer.before_step(net.module_)

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if training:
            self.quantizer.after_step(net.module_)


def _example_rows(inputs: dict, n: int = 2) -> dict:
    return {key: torch.as_tensor(value[:n]) for key, value in inputs.items()}


@dataclasses.dataclass
class PreparedOptions:
    """What the engine needs to train a network with the options applied."""

    #: The network to train (the module given, changed in place).
    module: torch.nn.Module
    #: Callbacks the options need, to run before any other.
    callbacks: list
    #: The privacy budget of a private fit, else None.
    privacy: object = None


def prepare_training_options(estimator, module: torch.nn.Module, inputs: dict | None, targets=None):
    """Apply the training options to a new task network.

    Parameters
    ----------
    estimator : SequenceEstimator
        Supplies the options; at fit time its fitted option state is (re)computed, at load
        time it is read.
    module : torch.nn.Module
        The task network, freshly built.
    inputs : dict or None
        The encoded training inputs (at fit time), or None (when a saved estimator is rebuilt).
    targets : ndarray, optional
        The encoded training targets (at fit time).

    Returns
    -------
    prepared : PreparedOptions
    """
    fitting = inputs is not None
    if fitting:
        module = _prepare_target_space(estimator, module, inputs)
    privacy = resolve_privacy(estimator.privacy) if fitting else None
    if privacy is not None:
        check_no_batch_statistics(module)
        _check_per_sample_gradients(estimator, module, inputs, targets)
    callbacks = _prepare_quantization(estimator, module, inputs)
    return PreparedOptions(module=module, callbacks=callbacks, privacy=privacy)


def _prepare_target_space(estimator, module, inputs):
    """Wrap ``module`` for target-space training on a realisation batch drawn from ``inputs``."""
    estimator.__dict__.pop("_target_space", None)
    settings = resolve_parameterization(estimator.parameterization)
    if settings is None:
        return module
    n = len(next(iter(inputs.values())))
    rows = torch.randperm(n)[: min(n, settings.realisation_size)].sort().values.numpy()
    realisation = {key: torch.as_tensor(value[rows]) for key, value in inputs.items()}
    wrapped = TargetSpaceNetwork(module, realisation, l2=settings.l2)
    estimator._target_space = {
        "l2": settings.l2,
        "realisation": {
            key: {"shape": list(value.shape), "dtype": str(value.dtype).removeprefix("torch.")}
            for key, value in realisation.items()
        },
    }
    return wrapped


def wrap_network(estimator, module: torch.nn.Module) -> torch.nn.Module:
    """The task network in the form a fitted estimator saved it (target space, if used).

    At load time the network must have the saved tensors' names and shapes before the weights
    are read; the realisation batch and the targets are then loaded into it.
    """
    state = getattr(estimator, "_target_space", None)
    if state is None:
        return module
    realisation = {
        key: torch.zeros(spec["shape"], dtype=getattr(torch, spec["dtype"]))
        for key, spec in state["realisation"].items()
    }
    return TargetSpaceNetwork(module, realisation, l2=state["l2"], initialize=False)


def _prepare_quantization(estimator, module, inputs) -> list:
    fitting = inputs is not None
    callbacks = []
    weight_bits = check_bits("weight_bits", estimator.weight_bits)
    activation_bits = check_bits("activation_bits", estimator.activation_bits)
    if fitting:
        estimator.__dict__.pop("_quantization", None)
        if weight_bits is None and activation_bits is None:
            return callbacks
        state = {"weight_bits": weight_bits, "activation_bits": activation_bits}
        state["input_layers"] = (
            find_input_layers(module, _example_rows(inputs)) if activation_bits else []
        )
        quantizer = WeightQuantizer(module, weight_bits) if weight_bits else None
        state["scales"] = dict(quantizer.scales) if quantizer else {}
        estimator._quantization = state
    else:
        state = getattr(estimator, "_quantization", None)
        if state is None:
            return callbacks
        quantizer = (
            WeightQuantizer(module, state["weight_bits"], state["scales"])
            if state["weight_bits"]
            else None
        )
    if state["activation_bits"]:
        add_activation_quantizers(module, state["activation_bits"], skip=state["input_layers"])
    if quantizer is not None:
        callbacks.append(("weight_quantization", _WeightQuantization(quantizer)))
    return callbacks


def quantized_weights(estimator) -> dict:
    """Per quantised parameter, its values at prediction time and scale (see the estimators)."""
    state = getattr(estimator, "_quantization", None)
    if not state or not state["weight_bits"]:
        return {}
    module = estimator.module_
    quantizer = WeightQuantizer(module, state["weight_bits"], state["scales"])
    return quantizer.quantized_tensors(module)


def model_size_bits(estimator) -> int:
    """Bits needed to store the trained network's parameters."""
    state = getattr(estimator, "_quantization", None) or {}
    bits = {name: state["weight_bits"] for name in state.get("scales", {})}
    return size_in_bits(estimator.module_, bits)


# ------------------------------------------------------------------------------------ privacy
def _loss_function(estimator):
    criterion = estimator._criterion()
    return criterion() if isinstance(criterion, type) else criterion


def _check_per_sample_gradients(estimator, module, inputs, targets) -> None:
    """Compute per-example gradients of two training rows, or raise a clear ``ValueError``."""
    example = _example_rows(inputs)
    try:
        per_sample_gradients(
            module, _loss_function(estimator), example, torch.as_tensor(targets[:2])
        )
    except Exception as error:
        model = estimator._model_name() or type(estimator).__name__
        reason = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
        raise ValueError(
            "privacy needs the gradient of every example on its own (torch.func.vmap), which "
            f"failed for this {model!r} network ({reason}). Backbones that support private "
            f"training: {', '.join(supported_private_backbones())}."
        ) from error


@functools.cache
def supported_private_backbones() -> tuple[str, ...]:
    """Registered backbones whose per-example gradients match one backward pass per example.

    Each model's first test parameters, in a classifier network in evaluation mode, on a ragged
    batch of three sequences: the gradients of
    :func:`~seqestim.training.privacy.per_sample_gradients` must equal those of an ordinary
    backward pass through each example alone. (Batch normalization, which some models offer as
    an option, is refused separately: see
    :func:`~seqestim.training.privacy.check_no_batch_statistics`.)
    """
    from seqestim.nn.heads import SequenceNet
    from seqestim.registry import get_spec, list_models

    supported = []
    for name in list_models():
        spec = get_spec(name)
        if spec.inputs != ("float",) or spec.form != "encoder":
            continue
        with torch.random.fork_rng():
            torch.manual_seed(0)
            try:
                network = SequenceNet(spec.build(3, **spec.test_params[0]), 2, pooling="mean")
                if _per_sample_gradients_are_exact(network):
                    supported.append(name)
            except Exception:
                continue
    return tuple(supported)


def _per_sample_gradients_are_exact(network) -> bool:
    network.eval()  # no dropout, so that the two computations see the same network
    x = torch.randn(3, 7, 3, dtype=torch.float64)
    lengths = torch.tensor([7, 5, 7])
    targets = torch.tensor([0, 1, 1])
    network.double()
    loss = torch.nn.CrossEntropyLoss()
    grads, _ = per_sample_gradients(network, loss, {"x": x, "lengths": lengths}, targets)
    params = [p for p in network.parameters() if p.requires_grad]
    names = [n for n, p in network.named_parameters() if p.requires_grad]
    for i in range(3):
        network.zero_grad()
        out = network(x[i : i + 1], lengths[i : i + 1])
        expected = torch.autograd.grad(loss(out, targets[i : i + 1]), params, allow_unused=True)
        for name, g in zip(names, expected, strict=True):
            g = torch.zeros_like(grads[name][i]) if g is None else g
            if not torch.allclose(grads[name][i], g, rtol=1e-6, atol=1e-9):
                return False
    return True


class _PoissonBatches:
    """One epoch of Poisson-sampled training batches of a skorch dataset, as tensors."""

    def __init__(self, dataset, private: PrivateTraining):
        self.dataset = dataset
        self.private = private

    def __iter__(self):
        X, y = self.dataset.X, self.dataset.y
        for indices in self.private.batches():
            rows = np.asarray(indices, dtype=np.int64)
            yield (
                {key: torch.as_tensor(value[rows]) for key, value in X.items()},
                torch.as_tensor(y[rows]),
            )

    def __len__(self):
        return self.private.steps_per_epoch


class PrivateNetMixin:
    """DP-SGD in skorch's training loop: Poisson batches, per-example gradients, DPOptimizer.

    Set up with :meth:`set_privacy` after construction; the first training iterator of every
    fit draws the noise level for the training set's size and wraps the optimizer.
    """

    privacy_ = None
    private_ = None

    def set_privacy(self, privacy, seed: int):
        """Train with ``privacy`` (a :class:`~seqestim.training.privacy.DifferentialPrivacy`)."""
        self.privacy_ = privacy
        self.privacy_seed_ = int(seed)
        return self

    def initialize_optimizer(self, *args, **kwargs):
        self.private_ = None  # a new optimizer: the next fit sets up privacy again
        return super().initialize_optimizer(*args, **kwargs)

    def get_iterator(self, dataset, training=False):
        if not (training and self.privacy_ is not None):
            return super().get_iterator(dataset, training=training)
        if self.private_ is None:
            self.private_ = PrivateTraining(
                self.privacy_,
                n_samples=len(dataset),
                batch_size=self.batch_size,
                epochs=self.max_epochs,
                seed=self.privacy_seed_,
            )
            self.optimizer_ = self.private_.wrap_optimizer(self.optimizer_)
        return _PoissonBatches(dataset, self.private_)

    def train_step_single(self, batch, **fit_params):
        if self.privacy_ is None:
            return super().train_step_single(batch, **fit_params)
        self._set_training(True)
        Xi, yi = batch
        device = torch.device(self.device)
        Xi = {key: value.to(device) for key, value in Xi.items()}
        yi = yi.to(device)
        gradients, losses = per_sample_gradients(self.module_, self.criterion_, Xi, yi)
        for name, p in self.module_.named_parameters():
            if p.requires_grad:
                p.grad_sample = gradients[name]
        loss = losses.mean() if len(losses) else torch.zeros((), device=device)
        self.check_finite_loss(loss)
        return {"loss": loss, "y_pred": None}


def record_training_options(estimator, net) -> None:
    """Set the fitted attributes of the options after training (``privacy_spent_``)."""
    private = getattr(net, "private_", None)
    if private is not None:
        estimator._privacy_spent = private.spent()
    else:
        estimator.__dict__.pop("_privacy_spent", None)
