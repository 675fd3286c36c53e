"""What the classifier and regressor tasks share: panels in, a pooled linear head.

Both tasks read float panels of sequences and give one output per sequence (or, with
``output="sequence"``, per step).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from seqestim.estimators._base import SequenceEstimator
from seqestim.estimators._data import Panel, check_panel
from seqestim.estimators._training import TrainingParams
from seqestim.nn._params import param, parameter_group
from seqestim.nn.heads import POOLINGS, SequenceNet

__all__ = ["InputScalingParams", "PanelTask", "PoolingParams", "per_step_targets", "split_steps"]

_OUTPUTS = ("pooled", "sequence")
_SCALINGS = ("channel", "sequence", None)


@parameter_group
class PoolingParams:
    """How a task network reads the backbone's per-step features."""

    pooling: str = param(
        "mean",
        "How the sequence of features is summarised: the last real step (for a bidirectional\n"
        "model, the final state of each direction) or the mean over real steps.",
        kind='{"last", "mean"}',
    )
    output: str = param(
        "pooled",
        '"pooled": one prediction per sequence; "sequence": one per step (``y`` then has a\n'
        "time axis, e.g. the copy and denoise tasks; a classifier also takes several labels\n"
        "per step, ``(n, n_outputs, T)``); ``pooling`` is unused.",
        kind='{"pooled", "sequence"}',
    )


@parameter_group
class InputScalingParams:
    """How the input values are scaled before they reach the network."""

    scaling: str | None = param(
        "channel",
        """
        ``"channel"``: standardise every channel with the mean and standard deviation of its
        values in the training data (over all real steps of all sequences), kept as
        ``input_mean_`` and ``input_scale_`` and applied again at predict time;
        ``"sequence"``: standardise every sequence and channel by its own mean and standard
        deviation (the z-normalisation of the UCR archive; nothing is fitted); None: use the
        values as given. A constant channel or sequence is only centred.
        """,
        kind='{"channel", "sequence", None}',
    )


class PanelTask(PoolingParams, InputScalingParams, TrainingParams, SequenceEstimator):
    """Base of tasks that read panels of sequences and train a pooled head on the backbone.

    The classifier and regressor tasks derive from it; a new task of this kind implements
    ``_n_outputs``, ``_criterion``, ``fit``, its prediction methods and ``score`` (see
    ARCHITECTURE.md, "Adding a task").

    Its training defaults suit both the small training sets of the UCR/UEA archive (tens of
    sequences) and large synthetic ones (thousands), as measured in
    ``benchmarks/classification/README.md``: standardised inputs, a mini-batch of an eighth of
    the training set (8 to 32 sequences), 100 epochs or about 10 000 mini-batches, whichever
    is fewer, and a cosine learning-rate schedule with warm-up from ``lr=3e-3``.

    Attributes
    ----------
    n_features_in_ : int
        Columns of a 2D ``X`` (the sequence length), else the number of channels.
    feature_names_in_ : ndarray of str
        Column names of a wide DataFrame ``X``, if given.
    n_channels_ : int
        Number of input channels seen by the network.
    input_layout_ : str
        "tabular" for a 2D ``X``, "sequence" for panels.
    input_mean_ : ndarray of shape (n_channels,)
        Mean of every input channel in the training data (``scaling="channel"`` only).
    input_scale_ : ndarray of shape (n_channels,)
        Standard deviation of every input channel in the training data, 1 for a constant
        channel (``scaling="channel"`` only).
    """

    _fitted_attributes = (
        "n_features_in_",
        "feature_names_in_",
        "n_channels_",
        "input_layout_",
        "input_mean_",
        "input_scale_",
    )

    max_epochs: int | None = param(None)
    lr: float = param(3e-3)
    batch_size: int | None = param(None)
    lr_schedule: str | None = param("cosine")

    def _per_step(self) -> bool:
        if self.output not in _OUTPUTS:
            raise ValueError(f"output must be one of {_OUTPUTS}; got {self.output!r}.")
        return self.output == "sequence"

    def _pooling(self) -> str | None:
        if self._per_step():
            return None
        if self.pooling not in POOLINGS:
            raise ValueError(f"Unknown pooling {self.pooling!r}; expected one of {POOLINGS}.")
        return self.pooling

    def _n_outputs(self) -> int:  # pragma: no cover - implemented by the tasks
        raise NotImplementedError

    def _build_module(self) -> torch.nn.Module:
        backbone = self._make_backbone(self.n_channels_)
        return SequenceNet(backbone, self._n_outputs(), pooling=self._pooling())

    def _encode_panel(self, X, *, reset: bool, y=None) -> Panel:
        """Validate ``X`` (and, in ``fit``, that a target ``y`` was given) as a :class:`Panel`.

        With ``reset=True`` the input attributes (``n_features_in_``, ``n_channels_``, ...) are
        recorded; otherwise the estimator must be fitted and ``X`` must match them.
        """
        if reset and y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        if not reset:
            check_is_fitted(self, "net_")
        panel = check_panel(self, X, reset=reset)
        panel.values = _scale_inputs(self, panel, fit=reset and not self._warm())
        return panel

    def _warm(self) -> bool:
        """Whether ``fit`` continues from an earlier fit (and keeps its input statistics)."""
        return bool(self.warm_start) and hasattr(self, "net_")

    def _panel_outputs(self, panel: Panel) -> np.ndarray:
        return self._network_outputs(panel.as_net_input())

    def _onnx_prediction(self):
        if self._per_step():
            raise NotImplementedError(
                f'{type(self).__name__} with output="sequence" has no ONNX export yet.'
            )
        tabular = self.input_layout_ == "tabular"
        return self.module_, self._onnx_output(), tabular, self._onnx_input_scaling()

    def _onnx_input_scaling(self) -> torch.nn.Module:
        """``scaling`` as a module on ``(B, L, C)`` float32 inputs (for ONNX export)."""
        if self.scaling == "channel":
            return _InputScaling("channel", self.input_mean_, self.input_scale_)
        return _InputScaling(self.scaling)

    def _onnx_output(self) -> torch.nn.Module:  # pragma: no cover - implemented by the tasks
        """Maps the network's outputs ``(B, n_outputs)`` to what the task predicts."""
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = False
        return tags


def _real_steps(panel: Panel) -> np.ndarray:
    """``(n, T_max, 1)`` bool: which steps of the padded panel are real."""
    steps = np.arange(panel.values.shape[1])
    return (steps[None, :] < panel.lengths[:, None])[..., None]


def _scale_inputs(estimator, panel: Panel, *, fit: bool) -> np.ndarray:
    """The panel's values scaled as ``estimator.scaling`` says; padded steps stay 0.

    With ``fit=True`` (in ``fit``) the channel statistics are computed from ``panel`` and
    stored on the estimator; otherwise the stored ones are used.
    """
    scaling = estimator.scaling
    if scaling not in _SCALINGS:
        raise ValueError(f"scaling must be one of {_SCALINGS}; got {scaling!r}.")
    if fit:  # a refit with another scaling must not keep the old statistics
        for name in ("input_mean_", "input_scale_"):
            estimator.__dict__.pop(name, None)
    if scaling is None:
        return panel.values
    values = panel.values.astype(np.float64)  # (n, T_max, C); statistics in double precision
    real = _real_steps(panel)  # (n, T_max, 1)
    if scaling == "sequence":  # every sequence and channel by its own statistics
        count = panel.lengths[:, None, None].astype(np.float64)  # (n, 1, 1)
        mean = (values * real).sum(axis=1, keepdims=True) / count  # (n, 1, C)
        var = (((values - mean) * real) ** 2).sum(axis=1, keepdims=True) / count
    else:
        if fit:
            count = float(panel.lengths.sum())
            mean = (values * real).sum(axis=(0, 1)) / count  # (C,)
            var = (((values - mean) * real) ** 2).sum(axis=(0, 1)) / count
            estimator.input_mean_ = mean
            estimator.input_scale_ = _safe_scale(np.sqrt(var), mean)
        elif not hasattr(estimator, "input_mean_"):
            raise ValueError(
                f'{type(estimator).__name__} was fitted with another scaling than "channel"; '
                "refit it after changing scaling."
            )
        mean, var = estimator.input_mean_, estimator.input_scale_**2
    scale = _safe_scale(np.sqrt(var), mean)
    return (((values - mean) / scale) * real).astype(np.float32)


class _InputScaling(torch.nn.Module):
    """:func:`_scale_inputs` in torch, for the ONNX export of dense ``(B, L, C)`` inputs."""

    def __init__(self, scaling: str | None, mean=None, scale=None):
        super().__init__()
        self.scaling = scaling
        if scaling == "channel":
            self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
            self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.scaling == "channel":
            return (x - self.mean) / self.scale
        if self.scaling == "sequence":
            mean = x.mean(dim=1, keepdim=True)  # (B, 1, C)
            std = ((x - mean) ** 2).mean(dim=1, keepdim=True).sqrt()
            tiny = 1e-8 * torch.clamp(mean.abs(), min=1.0)  # as _safe_scale
            return (x - mean) / torch.where(std > tiny, std, torch.ones_like(std))
        return x


def _safe_scale(std: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """``std``, with 1 where a channel is constant (it is then only centred)."""
    tiny = 1e-8 * np.maximum(np.abs(mean), 1.0)  # relative to the values, as in sklearn
    return np.where(std > tiny, std, 1.0)


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


def split_steps(values: np.ndarray, lengths: np.ndarray):
    """Per-step outputs ``(n, T_max, ...)`` as an array, or a list when lengths differ."""
    if (lengths == values.shape[1]).all():
        return values
    return [v[:n] for v, n in zip(values, lengths, strict=True)]
