"""The sklearn layer: estimators that hold a skorch net built in ``fit``.

Estimators here are plain sklearn estimators (DESIGN.md §3). They do not subclass skorch's
``NeuralNet`` (whose ``__init__`` and ``set_params`` break sklearn's checks); ``fit`` builds a
private :class:`_Net` from the parameters and stores it as ``net_``.

Subclasses (the task bases) say how targets are encoded and decoded; the named estimators
(``GRUClassifier``, ...) are generated from the registry by ``tools/generate_estimators.py`` and
only add their explicit ``__init__``.
"""

from __future__ import annotations

import copy
import inspect
import math
import numbers
import sys
import time

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, GradientNormClipping
from skorch.dataset import ValidSplit
from torch import nn

from seqestim.estimators._data import Panel, check_panel
from seqestim.nn.heads import IdentityHead, SequenceNet
from seqestim.registry import get_spec

__all__ = [
    "COMMON_TRAINING_PARAMS",
    "BaseSequenceEstimator",
    "MaskedMSELoss",
    "StepCrossEntropyLoss",
    "TrainingDivergedError",
    "per_step_targets",
]

#: Training parameters shared by every neural estimator, with their defaults (DESIGN.md §3).
COMMON_TRAINING_PARAMS = {
    "max_epochs": 50,
    "lr": 1e-3,
    "batch_size": 32,
    "optimizer": "adamw",
    "weight_decay": 0.0,
    "early_stopping": False,
    "validation_fraction": 0.1,
    "n_iter_no_change": 10,
    "gradient_clip": None,
    "device": "cpu",
    "callbacks": None,
    "random_state": None,
    "verbose": 0,
    "warm_start": False,
}

_OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
}


class TrainingDivergedError(FloatingPointError):
    """Raised when the training loss becomes NaN or infinite."""


class _Net(NeuralNet):
    """skorch net with the two behaviours seqestim needs on top of ``NeuralNet``.

    - the backbone may ask for its own optimizer parameter groups (S5's SSM learning rate);
    - a NaN/inf loss stops training at once with an error that names the epoch and batch.
    """

    def initialize_optimizer(self, triggered_directly=None):
        backbone = self.module_.backbone
        if hasattr(backbone, "optimizer_param_groups"):
            groups = backbone.optimizer_param_groups(self.lr, self.optimizer__weight_decay)
            head = {"params": list(self.module_.head.parameters())}
            self.optimizer_ = self.optimizer(
                [*groups, head], lr=self.lr, **self._optimizer_kwargs()
            )
            return self
        return super().initialize_optimizer(triggered_directly)

    def _optimizer_kwargs(self):
        return {k: v for k, v in self.get_params_for("optimizer").items() if k != "param_groups"}

    def train_step(self, batch, **fit_params):
        step = super().train_step(batch, **fit_params)
        loss = float(step["loss"].detach())
        if not math.isfinite(loss):
            epoch = len(self.history)
            batch_index = len(self.history[-1, "batches"]) + 1 if epoch else 1
            raise TrainingDivergedError(
                f"The training loss became {loss} in epoch {epoch}, batch {batch_index}. "
                "Try a smaller lr, gradient_clip, or scaled inputs."
            )
        return step


class StepCrossEntropyLoss(nn.CrossEntropyLoss):
    """Cross-entropy over per-step logits ``(B, L, K)``; targets ``-100`` (padding) are ignored."""

    def forward(self, logits, target):
        return super().forward(logits.transpose(1, 2), target)  # CE wants (B, K, L)


class MaskedMSELoss(nn.Module):
    """Mean squared error over the finite targets only (NaN marks padded steps)."""

    def forward(self, prediction, target):
        real = torch.isfinite(target)
        return (prediction[real] - target[real]).square().mean()


def per_step_targets(y, lengths: np.ndarray, fill, dtype) -> np.ndarray:
    """Check per-step targets against the sequence lengths; pad them to ``(n, T_max, ...)``.

    ``y`` is an array ``(n, T)`` / ``(n, k, T)`` (channels first, like ``X``) or a list of
    ``(T_i,)`` / ``(k, T_i)`` arrays; padded steps get ``fill``.
    """
    if y is None or len(y) != len(lengths):
        raise ValueError(
            f'output="sequence" needs one target sequence per input sequence; got '
            f"{None if y is None else len(y)} for {len(lengths)}."
        )
    rows = []
    for i, (target, n) in enumerate(zip(y, lengths, strict=True)):
        target = np.asarray(target)
        target = target.T if target.ndim == 2 else target  # (k, T_i) -> (T_i, k)
        if target.ndim not in (1, 2) or target.shape[0] != n:
            raise ValueError(
                f'output="sequence": target {i} must have one entry per step ({n} steps, '
                f"channels first), got shape {np.asarray(y[i]).shape}."
            )
        rows.append(target)
    trailing = rows[0].shape[1:]
    padded = np.full((len(rows), int(lengths.max()), *trailing), fill, dtype=dtype)
    for i, target in enumerate(rows):
        padded[i, : len(target)] = target
    return padded


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


def _recalibrate_population_statistics(net: NeuralNet, panel: Panel) -> None:
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
            for batch in net.get_iterator(net.get_dataset(panel.as_net_input()), training=False):
                net.infer(batch[0])
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum
        net.module_.train(was_training)


def _resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not isinstance(device, str) or not (device == "cpu" or device.startswith("cuda")):
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto'; got {device!r}.")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested, but no CUDA device is available.")
    return device


def _resolve_optimizer(optimizer):
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


class BaseSequenceEstimator(BaseEstimator):
    """Shared machinery of the neural estimators; not for direct use.

    Subclasses set ``_model_name`` (a registry key) and implement ``_encode_targets``,
    ``_n_outputs`` and ``_criterion``.
    """

    _model_name: str = ""
    _task: str = ""
    _stratify = False

    # ----------------------------------------------------------------------------- parameters
    @classmethod
    def _backbone_param_names(cls) -> list[str]:
        """Constructor arguments of the backbone after ``d_input``."""
        signature = inspect.signature(get_spec(cls._model_name).cls.__init__)
        return [p for p in signature.parameters if p not in ("self", "d_input")]

    def _backbone_params(self) -> dict:
        params = self.get_params(deep=False)
        return {name: params[name] for name in self._backbone_param_names() if name in params}

    def _check_training_params(self) -> None:
        for name in ("max_epochs", "batch_size", "n_iter_no_change"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")
        if not (isinstance(self.lr, float | int) and self.lr > 0):
            raise ValueError(f"lr must be a positive number; got {self.lr!r}.")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(
                f"validation_fraction must be in (0, 1); got {self.validation_fraction!r}."
            )
        if self.gradient_clip is not None and not self.gradient_clip > 0:
            raise ValueError(f"gradient_clip must be None or > 0; got {self.gradient_clip!r}.")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0; got {self.weight_decay!r}.")

    # ----------------------------------------------------------------------------- the network
    def _build_module(self, n_channels: int, n_outputs: int) -> SequenceNet:
        backbone = get_spec(self._model_name).cls(n_channels, **self._backbone_params())
        return SequenceNet(backbone, n_outputs, pooling=self._pooling())

    def _per_step(self) -> bool:
        output = getattr(self, "output", "pooled")
        if output not in ("pooled", "sequence"):
            raise ValueError(f'output must be "pooled" or "sequence"; got {output!r}.')
        return output == "sequence"

    def _pooling(self):
        return None if self._per_step() else getattr(self, "pooling", "last")

    def _build_net(self, n_channels: int, n_outputs: int, seed: int, y_for_split=None) -> _Net:
        callbacks = []
        train_split = None
        if self.early_stopping:
            stratified = self._stratify and y_for_split is not None and _can_stratify(y_for_split)
            train_split = ValidSplit(
                self.validation_fraction, stratified=stratified, random_state=seed
            )
            callbacks.append(
                ("early_stopping", EarlyStopping(patience=self.n_iter_no_change, load_best=True))
            )
        if self.gradient_clip is not None:
            callbacks.append(("gradient_clip", GradientNormClipping(self.gradient_clip)))
        if self.verbose:
            callbacks.append(("progress", _EpochProgressBar()))
        for index, callback in enumerate(self.callbacks or ()):
            name = callback[0] if isinstance(callback, tuple) else f"user_{index}"
            callback = callback[1] if isinstance(callback, tuple) else callback
            callbacks.append((name, copy.deepcopy(callback)))  # never mutate the user's object
        return _Net(
            module=self._build_module(n_channels, n_outputs),
            criterion=self._criterion(),
            optimizer=_resolve_optimizer(self.optimizer),
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=train_split,
            callbacks=callbacks,
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            device=_resolve_device(self.device),
            verbose=int(self.verbose >= 2),
        )

    def _fit_panel(self, panel: Panel, targets: np.ndarray, n_outputs: int):
        """Train on an encoded panel; sets ``net_`` only once training succeeded."""
        self._check_training_params()
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
        start = time.perf_counter()
        with torch.random.fork_rng(devices=devices):  # no global RNG side effects
            torch.manual_seed(seed)
            if self.warm_start and hasattr(self, "net_"):
                net = self.net_
                net.partial_fit(panel.as_net_input(), targets)
            else:
                net = self._build_net(panel.n_channels, n_outputs, seed, targets)
                net.fit(panel.as_net_input(), targets)
            _recalibrate_population_statistics(net, panel)
        self.net_ = net
        self.fit_time_ = time.perf_counter() - start
        # a backbone can surface paper-specific fitted quantities (e.g. ARMA coefficients), but
        # only when its output is the prediction itself: under a linear head they would not
        # describe the model
        backbone = net.module_.backbone
        if hasattr(backbone, "fitted_attributes") and isinstance(net.module_.head, IdentityHead):
            for name, value in backbone.fitted_attributes().items():
                setattr(self, name, value)
        return self

    def _forward(self, panel: Panel) -> np.ndarray:
        """Raw network outputs for a panel, in eval mode, as float64 numpy."""
        with torch.no_grad():
            output = self.net_.forward(panel.as_net_input(), training=False)
        return output.detach().cpu().numpy().astype(np.float64)

    def _validate_for_predict(self, X) -> Panel:
        check_is_fitted(self)
        return check_panel(self, X, reset=False)

    # ----------------------------------------------------------------------------- fitted views
    @property
    def module_(self) -> SequenceNet:
        """The trained ``torch.nn.Module`` (backbone + head)."""
        check_is_fitted(self)
        return self.net_.module_

    @property
    def history_(self):
        """Skorch ``History`` of the fit: one dict per epoch (losses, durations)."""
        check_is_fitted(self)
        return self.net_.history

    @property
    def n_parameters_(self) -> int:
        """Number of trainable parameters of the network."""
        return sum(p.numel() for p in self.module_.parameters() if p.requires_grad)

    # ----------------------------------------------------------------------------- persistence
    def save(self, path, *, overwrite: bool = False):
        """Save the fitted estimator as JSON + safetensors (no pickle).

        Parameters
        ----------
        path : str or path-like
            A directory to create; it holds ``estimator.json`` and ``model.safetensors``.
        overwrite : bool, default=False
            Replace an existing saved estimator at ``path``.

        Returns
        -------
        path : pathlib.Path
        """
        from seqestim.persistence import save

        return save(self, path, overwrite=overwrite)

    # ----------------------------------------------------------------------------- sklearn
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.device != "cpu"
        return tags


def _can_stratify(y: np.ndarray) -> bool:
    _, counts = np.unique(y, return_counts=True)
    return len(counts) > 1 and counts.min() >= 2
