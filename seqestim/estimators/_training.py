"""The one training engine of every neural estimator, and its parameters.

:class:`TrainingParams` declares the training parameters every neural estimator accepts (the
sklearn/skorch vocabulary). :func:`train_network` turns them into a skorch net around the
module a task builds, trains it on the task's encoded inputs and targets, and returns it;
:func:`network_outputs` runs the trained network at prediction time. What the engine does for
every task and model:

- seeding without global side effects: weights, dropout, shuffling and the validation split are
  drawn inside ``torch.random.fork_rng`` from a seed drawn from ``random_state``;
- device placement (``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"auto"``);
- early stopping on a validation split the task chooses (stratified for classifiers), restoring
  the best weights; gradient clipping; the user's skorch callbacks (copies, never the objects
  given); a tqdm progress bar with an ETA for ``verbose=1``;
- a NaN/inf loss stops training with :class:`TrainingDivergedError` naming the epoch and batch,
  *before* the optimizer applies the step (so ``warm_start`` never keeps a poisoned update);
- the backbone's own optimizer parameter groups (S5 trains its SSM parameters at ``ssm_lr``);
- batch-norm population statistics recomputed with the final weights after training;
- at prediction time, on the CPU, the network runs in float64: the outputs of one sequence then
  do not depend on which other sequences share its batch, to far below float32 precision (in
  float32, BLAS kernels round a row differently depending on where it sits in the batch).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import math
import numbers
import sys
import warnings

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, GradientNormClipping, LRScheduler
from skorch.dataset import ValidSplit, unpack_data
from skorch.exceptions import DeviceWarning
from skorch.hf import AccelerateMixin
from skorch.utils import TeeGenerator

from seqestim.estimators._training_options import (
    PrivateNetMixin,
    check_option_params,
    prepare_training_options,
    record_training_options,
)
from seqestim.nn._params import param, parameter_group

__all__ = [
    "TrainingDivergedError",
    "TrainingParams",
    "network_outputs",
    "train_network",
]

_OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
}


@parameter_group
class TrainingParams:
    """The training parameters shared by every neural estimator."""

    # fitted state of the training options (see _training_options), saved with the estimator
    _fitted_attributes = ("_quantization", "_privacy_spent", "_target_space")

    max_epochs: int | None = param(
        50,
        """
        Number of passes over the training data. None: 100 epochs, or fewer for a large training
        set, so that training stops after about 10 000 mini-batches (and at least 10 epochs).
        """,
        kind="int or None",
    )
    lr: float = param(1e-3, "Learning rate of the optimizer.")
    batch_size: int | None = param(
        32,
        """
        Sequences per mini-batch (also used at predict time). None: an eighth of the training
        set, between 8 and 32 (so that a small training set still gives several updates per
        epoch); 256 at predict time.
        """,
        kind="int or None",
    )
    optimizer: str = param(
        "adamw",
        '"adam", "adamw", "sgd", "rmsprop", "adagrad" or an optimizer class.',
        kind="str or torch.optim.Optimizer subclass",
    )
    weight_decay: float = param(0.0, "Weight decay of the optimizer.")
    lr_schedule: str | None = param(
        None,
        """
        How the learning rate changes over the epochs (skorch's ``LRScheduler``; the rate used
        in every epoch is recorded as ``event_lr`` in ``history_``). None: constant ``lr``.
        ``"cosine"``: a linear warm-up over the first 5 % of ``max_epochs`` (none below 20
        epochs), then a cosine decay from ``lr`` towards 0 at ``max_epochs``. ``"plateau"``:
        halve the rate when the validation loss (the training loss without
        ``early_stopping``) has not improved for ``max(2, n_iter_no_change // 2)`` epochs.
        Every optimizer parameter group is scaled alike (S5 keeps its ``ssm_lr`` ratio). A
        skorch ``LRScheduler`` among ``callbacks`` replaces this schedule.
        """,
        kind='{None, "cosine", "plateau"}',
    )
    early_stopping: bool = param(
        False,
        "Hold out ``validation_fraction`` of the training data and stop when the validation "
        "loss\nhas not improved for ``n_iter_no_change`` epochs; the best weights are restored.",
    )
    validation_fraction: float = param(
        0.1, "Share of the training data held out when ``early_stopping`` is True."
    )
    n_iter_no_change: int = param(10, "Patience of early stopping, in epochs.")
    gradient_clip: float | None = param(
        None, "Rescale gradients whose global norm exceeds this value.", kind="float or None"
    )
    device: str = param("cpu", '"cpu", "cuda", "cuda:N" or "auto" (CUDA when available).')
    callbacks: list | None = param(
        None,
        "Extra skorch callbacks; copies are used, the objects given are never modified.",
        kind="list of skorch callbacks or (name, callback) tuples",
    )
    random_state: int | None = param(
        None,
        "Seeds weight initialisation, dropout, shuffling and the validation split without\n"
        "touching the global random state.",
        kind="int, RandomState instance or None",
    )
    verbose: int = param(
        0, "0: silent; 1: a progress bar over epochs with an ETA; 2: also a table per epoch."
    )
    warm_start: bool = param(
        False, "Continue training the fitted network on the next call to ``fit``."
    )
    weight_bits: int | None = param(
        None,
        """
        Quantised training (Hubara et al. 2018): train and predict with weights of this many
        bits (1: ``±scale``; k: ``2^k`` levels), real-valued latent weights updated through a
        straight-through estimator and clipped after every step; None keeps full precision.
        Every parameter with two or more dimensions is a weight. See
        :mod:`seqestim.training.quantization`, :meth:`quantized_weights` and
        ``model_size_bits_``.
        """,
        kind="int or None",
    )
    privacy: dict | None = param(
        None,
        """
        Differentially private training (DP-SGD through Opacus): a dict
        ``{"epsilon": ..., "delta": 1e-5, "max_grad_norm": 1.0}`` or a
        :class:`seqestim.training.DifferentialPrivacy`. Batches are Poisson-sampled, every
        example's gradient is clipped, Gaussian noise calibrated to spend at most ``(ε, δ)`` in
        ``max_epochs`` epochs is added, and ``privacy_spent_`` reports the accountant's
        ``(ε, δ)``. Batch normalization, ``early_stopping`` and ``warm_start`` are refused. See
        :mod:`seqestim.training.privacy` for the supported backbones. None trains normally.
        """,
        kind="dict, DifferentialPrivacy or None",
    )
    parameterization: str = param(
        "weights",
        """
        ``"targets"``: train in target space (Fairbank et al. 2022) for the tanh RNN and GRU
        backbones and the linear head: the trainable parameters are every layer's target sums
        on a realisation batch of training examples, and the weights are solved from them by
        ridge regression in every forward pass. A :class:`seqestim.training.TargetSpace` sets
        the realisation batch's size and the ridge. ``"weights"``: ordinary training.
        """,
        kind='{"weights", "targets"} or TargetSpace',
    )
    activation_bits: int | None = param(
        None,
        """
        Quantise the input of every linear and convolutional layer after the first to this many
        bits (values clipped to [-1, 1], straight-through estimator); None keeps full
        precision.
        """,
        kind="int or None",
    )
    precision: str = param(
        "32",
        """
        Arithmetic of the training forward passes: ``"32"`` (float32), ``"bf16-mixed"``
        (bfloat16 autocast, on CPU and recent GPUs) or ``"16-mixed"`` (float16 autocast with
        dynamic loss scaling, for GPUs). Weights, gradients and optimizer state stay float32
        (the master copy); predictions are computed without autocast.
        """,
        kind='{"32", "bf16-mixed", "16-mixed"}',
    )
    gradient_accumulation_steps: int = param(
        1,
        """
        Sum the gradients of this many mini-batches before each optimizer step (an effective
        batch of ``batch_size * gradient_accumulation_steps`` in the memory of one batch); a
        partial group at the end of an epoch still takes its step.
        """,
    )
    accelerator: dict | None = param(
        None,
        """
        Train through Hugging Face Accelerate (skorch's ``AccelerateMixin``), e.g. on several
        GPUs or processes started by ``accelerate launch``: a dict of keyword arguments of
        ``accelerate.Accelerator`` (``{}`` for its defaults; ``mixed_precision`` and
        ``gradient_accumulation_steps`` then go there, not to ``precision`` and
        ``gradient_accumulation_steps``). ``device="cpu"`` keeps Accelerate on the CPU
        (``cpu=True``); any other ``device`` lets Accelerate place the model. Needs the
        ``distributed`` extra. None trains in this process only.
        """,
        kind="dict or None",
    )


_LR_SCHEDULES = (None, "cosine", "plateau")


class CosineSchedule:
    """Learning-rate factor of ``lr_schedule="cosine"`` for epoch ``e`` (0-based).

    A linear warm-up over the first ``warmup`` epochs (``(e + 1) / (warmup + 1)``), then
    ``(1 + cos(π (e - warmup) / (max_epochs - warmup))) / 2``; epochs past ``max_epochs`` (a
    ``warm_start`` refit) keep the last factor.
    """

    def __init__(self, max_epochs: int):
        self.max_epochs = int(max_epochs)
        self.warmup = math.ceil(0.05 * self.max_epochs) if self.max_epochs >= 20 else 0

    def __call__(self, epoch: int) -> float:
        epoch = min(int(epoch), self.max_epochs - 1)
        if epoch < self.warmup:
            return (epoch + 1) / (self.warmup + 1)
        progress = (epoch - self.warmup) / (self.max_epochs - self.warmup)
        return 0.5 * (1.0 + math.cos(math.pi * progress))


class TrainingDivergedError(FloatingPointError):
    """Raised when the training loss becomes NaN or infinite."""


class _Net(NeuralNet):
    """skorch's ``NeuralNet`` with what seqestim adds to it.

    - the backbone may ask for its own optimizer parameter groups (S5's SSM learning rate);
    - a NaN/inf loss raises :class:`TrainingDivergedError` before the gradients are computed,
      so the optimizer never applies the step;
    - the backbone's ``auxiliary_loss()``, if it has one, is added to the training loss.
    """

    # ---- mixed precision and gradient accumulation
    # ``precision`` and ``accumulate`` are set by build_net after construction: they are
    # seqestim's training parameters, not skorch's.
    precision = "32"
    accumulate = 1

    def _autocast(self):
        if self.precision == "32":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16-mixed" else torch.float16
        return torch.autocast(torch.device(self.device or "cpu").type, dtype=dtype)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        device_type = torch.device(self.device or "cpu").type
        # float16 gradients underflow without loss scaling; bfloat16 has float32's range
        self.scaler_ = torch.amp.GradScaler(device_type) if self.precision == "16-mixed" else None
        self.pending_batches_ = 0

    def infer(self, x, **fit_params):
        if not self.module_.training:
            return super().infer(x, **fit_params)
        with self._autocast():
            return super().infer(x, **fit_params)

    def train_step(self, batch, **fit_params):
        if self.accumulate == 1 and getattr(self, "scaler_", None) is None:
            return super().train_step(batch, **fit_params)
        if self.pending_batches_ == 0:
            self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        self.pending_batches_ += 1
        if self.pending_batches_ == self.accumulate:
            self._apply_accumulated_step(batch)
        return step

    def train_step_single(self, batch, **fit_params):
        if self.accumulate == 1 and getattr(self, "scaler_", None) is None:
            return super().train_step_single(batch, **fit_params)
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        # the mean over a group of batches: each batch's loss counts 1/accumulate
        scaled = loss / self.accumulate
        (self.scaler_.scale(scaled) if self.scaler_ is not None else scaled).backward()
        return {"loss": loss, "y_pred": y_pred}

    def _apply_accumulated_step(self, batch) -> None:
        if self.scaler_ is not None:
            # callbacks (clipping, quantisation) must see the true gradients
            self.scaler_.unscale_(self.optimizer_)
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
        )
        if self.scaler_ is not None:
            self.scaler_.step(self.optimizer_)  # skipped when the gradients overflowed
            self.scaler_.update()
        else:
            self.optimizer_.step()
        self.pending_batches_ = 0

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        if getattr(self, "pending_batches_", 0):  # a partial group still takes its step
            self._apply_accumulated_step(None)
        super().on_epoch_end(
            net, dataset_train=dataset_train, dataset_valid=dataset_valid, **kwargs
        )

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if torch.is_tensor(y_pred) and y_pred.dtype in (torch.float16, torch.bfloat16):
            y_pred = y_pred.float()  # the loss in float32, as autocast recommends
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        backbone = getattr(self.module_, "backbone", None)
        extra = backbone.auxiliary_loss() if hasattr(backbone, "auxiliary_loss") else None
        if training and extra is not None:  # a regulariser of the backbone's paper
            loss = loss + extra
        if training:
            self.check_finite_loss(loss)
        return loss

    def initialize_optimizer(self, triggered_directly=None):
        backbone = getattr(self.module_, "backbone", None)
        if hasattr(backbone, "optimizer_param_groups"):
            groups = backbone.optimizer_param_groups(self.lr, self.optimizer__weight_decay)
            grouped = {id(p) for group in groups for p in group["params"]}
            rest = [p for p in self.module_.parameters() if id(p) not in grouped]
            kwargs = {
                k: v for k, v in self.get_params_for("optimizer").items() if k != "param_groups"
            }
            self.optimizer_ = self.optimizer([*groups, {"params": rest}], lr=self.lr, **kwargs)
            return self
        return super().initialize_optimizer(triggered_directly)

    def check_finite_loss(self, loss: torch.Tensor) -> None:
        """Raise :class:`TrainingDivergedError` if the training ``loss`` is NaN or infinite."""
        value = float(loss.detach())
        if not math.isfinite(value):
            epoch = len(self.history)
            batch = len(self.history[-1, "batches"]) + 1 if epoch else 1
            raise TrainingDivergedError(
                f"The training loss became {value} in epoch {epoch}, batch {batch}. "
                "Try a smaller lr, gradient_clip, or scaled inputs."
            )

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_float64_copy", None)  # a cache, rebuilt on demand
        state.pop("scaler_", None)  # training-time state
        return state


class _PrivateNet(PrivateNetMixin, _Net):
    """``_Net`` that trains with DP-SGD when ``set_privacy`` was called."""


class _AcceleratedNet(AccelerateMixin, _Net):
    """``_Net`` trained through Hugging Face Accelerate (``accelerator=``).

    Accelerate then owns device placement, mixed precision and gradient accumulation; the
    module is unwrapped after training, so prediction runs as for any other net.
    """

    def _initialize_accelerator(self):
        # A loss without parameters must not be wrapped: in several processes Accelerate
        # wraps every module in DistributedDataParallel, which refuses a module with nothing
        # to synchronise.
        criteria = self._criteria
        self._criteria = [
            name
            for name in criteria
            if any(p.requires_grad for p in getattr(self, name + "_").parameters())
        ]
        try:
            return super()._initialize_accelerator()
        finally:
            self._criteria = criteria

    def __setstate__(self, state):
        with warnings.catch_warnings():  # device=None is Accelerate's choice, not a mistake
            warnings.filterwarnings("ignore", category=DeviceWarning)
            super().__setstate__(state)


class _EpochProgressBar(Callback):
    """One tqdm bar over epochs with an ETA and the latest losses (``verbose=1``)."""

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=net.max_epochs, unit="epoch", file=sys.stderr, leave=True)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        losses = {k: f"{row[k]:.4g}" for k in ("train_loss", "valid_loss") if k in row}
        self.bar_.set_postfix(losses, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.bar_.close()
        self.bar_ = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["bar_"] = None  # an open terminal bar cannot be pickled
        return state


# ------------------------------------------------------------------------------------ checks
def check_training_params(estimator) -> None:
    """Raise a ``ValueError`` naming the first invalid training parameter of ``estimator``."""
    for name in ("max_epochs", "batch_size", "n_iter_no_change"):
        value = getattr(estimator, name)
        if name != "n_iter_no_change" and value is None:  # chosen from the data
            continue
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")
    lr = estimator.lr
    if not (isinstance(lr, numbers.Real) and not isinstance(lr, bool) and 0 < lr < math.inf):
        raise ValueError(f"lr must be a positive finite number; got {lr!r}.")
    if not 0.0 < estimator.validation_fraction < 1.0:
        raise ValueError(
            f"validation_fraction must be in (0, 1); got {estimator.validation_fraction!r}."
        )
    clip = estimator.gradient_clip
    if clip is not None and not (isinstance(clip, numbers.Real) and 0 < clip < math.inf):
        raise ValueError(f"gradient_clip must be None or a positive number; got {clip!r}.")
    if not (isinstance(estimator.weight_decay, numbers.Real) and estimator.weight_decay >= 0):
        raise ValueError(f"weight_decay must be >= 0; got {estimator.weight_decay!r}.")
    if estimator.lr_schedule not in _LR_SCHEDULES:
        raise ValueError(
            f"lr_schedule must be one of {_LR_SCHEDULES}; got {estimator.lr_schedule!r}."
        )
    resolve_device(estimator.device)
    resolve_optimizer(estimator.optimizer)
    check_option_params(estimator)
    check_scale_params(estimator)


_PRECISIONS = ("32", "bf16-mixed", "16-mixed")


def check_scale_params(estimator) -> None:
    """Check ``precision``, ``gradient_accumulation_steps`` and ``accelerator``."""
    if estimator.precision not in _PRECISIONS:
        raise ValueError(f"precision must be one of {_PRECISIONS}; got {estimator.precision!r}.")
    steps = estimator.gradient_accumulation_steps
    if not isinstance(steps, numbers.Integral) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"gradient_accumulation_steps must be an integer >= 1; got {steps!r}.")
    special = estimator.precision != "32" or steps != 1
    if special and estimator.privacy is not None:
        raise ValueError(
            "privacy trains with Opacus' own optimizer step; it cannot be combined with "
            "precision or gradient_accumulation_steps."
        )
    accelerator = estimator.accelerator
    if accelerator is None:
        return
    if not isinstance(accelerator, dict):
        raise TypeError(
            "accelerator must be None or a dict of accelerate.Accelerator keyword arguments "
            f"({{}} for its defaults); got {type(accelerator).__name__}."
        )
    if special:
        raise ValueError(
            "With accelerator=, set mixed precision and gradient accumulation on Accelerate: "
            "accelerator={'mixed_precision': 'bf16', 'gradient_accumulation_steps': 4}; "
            "leave precision='32' and gradient_accumulation_steps=1."
        )
    if estimator.privacy is not None:
        raise ValueError("privacy cannot be combined with accelerator.")
    try:
        import accelerate  # noqa: F401
    except ImportError:
        raise ImportError(
            "accelerator= needs Hugging Face Accelerate: pip install 'seqestim[distributed]'."
        ) from None


def resolve_device(device) -> str:
    """The torch device string for the ``device`` parameter, with clear errors."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not isinstance(device, str) or not (device in ("cpu", "mps") or device.startswith("cuda")):
        raise ValueError(
            f"device must be 'cpu', 'cuda', 'cuda:N', 'mps' or 'auto'; got {device!r}."
        )
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested, but no CUDA device is available.")
    if device == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device='mps' was requested, but no Apple MPS device is available.")
    return device


def resolve_optimizer(optimizer) -> type:
    """The optimizer class for the ``optimizer`` parameter, with clear errors."""
    if isinstance(optimizer, str):
        try:
            return _OPTIMIZERS[optimizer.lower()]
        except KeyError:
            raise ValueError(
                f"Unknown optimizer {optimizer!r}; use one of {sorted(_OPTIMIZERS)} or a "
                "torch.optim.Optimizer subclass."
            ) from None
    if inspect.isclass(optimizer) and issubclass(optimizer, torch.optim.Optimizer):
        return optimizer
    raise TypeError(
        f"optimizer must be a name or a torch.optim.Optimizer class; got {optimizer!r}."
    )


def resolve_batch_size(batch_size: int | None, n_samples: int | None = None) -> int:
    """The mini-batch size for ``batch_size`` and a training set of ``n_samples`` sequences.

    None: ``n_samples / 8`` rounded up, between 8 and 32 (32 when ``n_samples`` is unknown).
    """
    if batch_size is not None:
        return int(batch_size)
    if n_samples is None:
        return 32
    return int(min(32, max(8, math.ceil(n_samples / 8))))


def resolve_max_epochs(max_epochs: int | None, n_batches: int | None = None) -> int:
    """The number of epochs for ``max_epochs`` and ``n_batches`` mini-batches per epoch.

    None: 100, or fewer when an epoch has many mini-batches, so that training stops after about
    10 000 of them; at least 10 (100 when ``n_batches`` is unknown).
    """
    if max_epochs is not None:
        return int(max_epochs)
    if n_batches is None:
        return 100
    return int(min(100, max(10, math.ceil(10_000 / n_batches))))


def draw_seed(random_state) -> int:
    """A seed for torch drawn from ``random_state`` (int, ``RandomState`` or None)."""
    from sklearn.utils import check_random_state

    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


# ------------------------------------------------------------------------------------ training
def _callbacks(estimator, early_stopping: bool, max_epochs: int) -> list:
    callbacks = []
    if early_stopping:
        callbacks.append(
            ("early_stopping", EarlyStopping(patience=estimator.n_iter_no_change, load_best=True))
        )
    if estimator.gradient_clip is not None:
        callbacks.append(("gradient_clip", GradientNormClipping(estimator.gradient_clip)))
    user_callbacks = [c[1] if isinstance(c, tuple) else c for c in estimator.callbacks or ()]
    schedule_name = estimator.lr_schedule
    if any(isinstance(c, LRScheduler) for c in user_callbacks):
        schedule_name = None  # the user's own scheduler replaces lr_schedule
    if schedule_name == "cosine":
        schedule = LRScheduler(
            torch.optim.lr_scheduler.LambdaLR, lr_lambda=CosineSchedule(max_epochs)
        )
        callbacks.append(("lr_schedule", schedule))
    elif schedule_name == "plateau":
        schedule = LRScheduler(
            torch.optim.lr_scheduler.ReduceLROnPlateau,
            monitor="valid_loss" if early_stopping else "train_loss",
            factor=0.5,
            patience=max(2, estimator.n_iter_no_change // 2),
        )
        callbacks.append(("lr_schedule", schedule))
    if estimator.verbose:
        callbacks.append(("progress", _EpochProgressBar()))
    for index, callback in enumerate(estimator.callbacks or ()):
        name = callback[0] if isinstance(callback, tuple) else f"user_{index}"
        callback = callback[1] if isinstance(callback, tuple) else callback
        callbacks.append((name, copy.deepcopy(callback)))  # never mutate the user's object
    return callbacks


def build_net(
    estimator,
    module: torch.nn.Module,
    criterion,
    *,
    seed: int,
    train_split=None,
    inputs=None,
    targets=None,
    n_samples: int | None = None,
):
    """The skorch net that trains ``module`` with the estimator's training parameters.

    Parameters
    ----------
    estimator : SequenceEstimator
        Supplies the training parameters.
    module : torch.nn.Module
        The task network (backbone and head); its ``forward`` takes the keys of the input dict.
    criterion : type
        Loss class (a ``torch.nn.Module`` subclass).
    seed : int
        Seeds the shuffling generator.
    train_split : callable or None
        skorch train/validation split; None trains on everything.
    inputs, targets : dict, ndarray or None
        The encoded training data when fitting; None when a saved estimator is rebuilt (the
        training options then come from its fitted state).
    n_samples : int, optional
        Size of the training set, for ``batch_size=None`` and ``max_epochs=None``.

    Returns
    -------
    net : skorch.NeuralNet
        Not initialized.
    """
    batch_size = resolve_batch_size(estimator.batch_size, n_samples)
    n_batches = None
    if n_samples is not None:
        n_train = n_samples
        if train_split is not None:  # about what the validation split holds out
            n_train = n_samples - math.ceil(estimator.validation_fraction * n_samples)
        n_batches = math.ceil(max(1, n_train) / batch_size)
    max_epochs = resolve_max_epochs(estimator.max_epochs, n_batches)
    prepared = prepare_training_options(estimator, module, inputs, targets)
    placement = {"device": resolve_device(estimator.device)}
    net_class = _PrivateNet if prepared.privacy is not None else _Net
    if estimator.accelerator is not None:
        from accelerate import Accelerator

        options = {"cpu": estimator.device == "cpu", **estimator.accelerator}
        accelerator = Accelerator(**options)
        placement = {
            "accelerator": accelerator,
            "device": None,
            # skorch's epoch table goes through accelerator.print (once, from the main
            # process) when asked for with verbose=2; ``print`` with verbose=0 prints nothing
            "callbacks__print_log__sink": accelerator.print if estimator.verbose >= 2 else print,
        }
        net_class = _AcceleratedNet
    net = net_class(
        module=prepared.module,
        criterion=criterion,
        optimizer=resolve_optimizer(estimator.optimizer),
        optimizer__weight_decay=estimator.weight_decay,
        lr=estimator.lr,
        max_epochs=max_epochs,
        batch_size=batch_size,
        train_split=train_split,
        callbacks=prepared.callbacks + _callbacks(estimator, train_split is not None, max_epochs),
        iterator_train__shuffle=estimator._shuffle_batches(),
        iterator_train__generator=torch.Generator().manual_seed(seed),
        verbose=int(estimator.verbose >= 2),
        **placement,
    )
    net.precision = estimator.precision
    net.accumulate = estimator.gradient_accumulation_steps
    return net.set_privacy(prepared.privacy, seed) if prepared.privacy is not None else net


def default_train_split(estimator, targets, seed: int, *, stratify: bool):
    """A random (stratified when possible) validation split, or None without early stopping."""
    if not estimator.early_stopping:
        return None
    if stratify:
        _, counts = np.unique(targets, return_counts=True)
        stratify = len(counts) > 1 and counts.min() >= 2
    return ValidSplit(estimator.validation_fraction, stratified=stratify, random_state=seed)


def train_network(estimator, inputs: dict, targets, *, stratify: bool = False):
    """Train the estimator's network on encoded data; returns the trained skorch net.

    With ``warm_start`` and a fitted ``net_``, training continues on that net; otherwise the
    task's ``_build_module()`` and ``_criterion()`` make a new one. The task may choose the
    validation split of early stopping through ``_train_split(targets, seed)``.

    Parameters
    ----------
    estimator : SequenceEstimator
    inputs : dict of str -> ndarray
        Keyword arguments of the module's ``forward``, one row per training example.
    targets : ndarray
        One row per training example.
    stratify : bool, default=False
        Stratify the default validation split by ``targets``.

    Returns
    -------
    net : skorch.NeuralNet
    """
    check_training_params(estimator)
    seed = draw_seed(estimator.random_state)
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):  # no global RNG side effects
        torch.manual_seed(seed)
        if estimator.warm_start and hasattr(estimator, "net_"):
            net = estimator.net_
            net.partial_fit(inputs, targets)
        else:
            split = estimator._train_split(targets, seed)
            if split is None and estimator.early_stopping:
                split = default_train_split(estimator, targets, seed, stratify=stratify)
            module = estimator._build_module()
            net = build_net(
                estimator,
                module,
                estimator._criterion(),
                seed=seed,
                train_split=split,
                inputs=inputs,
                targets=targets,
                n_samples=len(targets),
            )
            net.fit(inputs, targets)
        record_training_options(estimator, net)
        _recalibrate_population_statistics(net, inputs)
    return net


def _recalibrate_population_statistics(net: NeuralNet, inputs: dict) -> None:
    """Recompute batch-norm population statistics with the final weights.

    During training the running statistics are moving averages over weights that kept
    changing, so after a short or high-learning-rate fit they lag the final network and
    predictions suffer. One extra pass over the training data in training mode, with every
    normalization layer set to a plain cumulative average (``momentum=None``), gives the
    statistics of the final network (as ``torch.optim.swa_utils.update_bn`` does). A layer
    takes part when it has ``reset_running_stats()`` and a ``momentum`` attribute that accepts
    None (torch's batch norms and seqestim's own follow this protocol).
    """
    layers = [
        m
        for m in net.module_.modules()
        if hasattr(m, "reset_running_stats") and hasattr(m, "momentum")
    ]
    if not layers:
        return
    momenta = [m.momentum for m in layers]
    was_training = net.module_.training
    try:
        for layer in layers:
            layer.reset_running_stats()
            layer.momentum = None
        net.module_.train()
        with torch.no_grad():
            for batch in net.get_iterator(net.get_dataset(inputs), training=False):
                net.infer(batch[0])
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum
        net.module_.train(was_training)


# ------------------------------------------------------------------------------------ inference
def _inference_module(net: NeuralNet, exact: bool) -> torch.nn.Module:
    """The module to predict with: a float64 copy on the CPU (cached until weights change)."""
    module = net.module_
    if not exact:
        return module
    tensors = list(module.parameters()) + list(module.buffers())
    # a tensor's _version grows with every in-place change (optimizer steps, load_state_dict)
    signature = tuple((id(t), t._version) for t in tensors)
    cached = net.__dict__.get("_float64_copy")
    if cached is not None and cached[0] == signature:
        return cached[1]
    copied = copy.deepcopy(module).double()
    net.__dict__["_float64_copy"] = (signature, copied)
    return copied


def network_outputs(net: NeuralNet, inputs: dict, batch_size: int | None) -> np.ndarray:
    """Run the trained network on encoded inputs in eval mode; float64 numpy outputs.

    Parameters
    ----------
    net : skorch.NeuralNet
        A trained net.
    inputs : dict of str -> ndarray
        Keyword arguments of the module's ``forward``, one row per example.
    batch_size : int or None
        Rows per forward pass (None: 256).

    Returns
    -------
    outputs : ndarray
        The module's outputs for every row, in float64.
    """
    # an accelerated net has no device of its own: the module's parameters say where it is
    device = next(net.module_.parameters()).device
    exact = device.type == "cpu"
    module = _inference_module(net, exact)
    was_training = module.training
    module.eval()
    n_rows = len(next(iter(inputs.values())))
    batch_size = 256 if batch_size is None else int(batch_size)
    outputs = []
    try:
        with torch.no_grad():
            for start in range(0, n_rows, batch_size):
                batch = {
                    key: _as_tensor(value[start : start + batch_size], device, exact)
                    for key, value in inputs.items()
                }
                outputs.append(module(**batch).detach().to("cpu", torch.float64).numpy())
    finally:
        module.train(was_training)
    return np.concatenate(outputs)


def _as_tensor(value: np.ndarray, device: torch.device, exact: bool) -> torch.Tensor:
    tensor = torch.as_tensor(value)
    if exact and tensor.is_floating_point():
        tensor = tensor.double()
    return tensor.to(device)
