"""The forecaster task: windows of the series in, the next ``horizon`` steps out.

The series interface (``fit(y, X=None)``, ``predict(fh=None, X=None)``, ``score``) comes from
:class:`seqestim.estimators.BaseForecaster`, shared with the statsmodels baselines; the
training machinery from :class:`~seqestim.estimators._base.SequenceEstimator`.

How a series becomes training data
----------------------------------
Every training position ``t`` (with ``window_length`` observations before it and ``horizon``
after it) gives one example:

- input: the ``window_length`` scaled observations ``y[t-W:t]`` as channels, and, when exogenous
  variables are given, the sequence is extended by the ``horizon`` future steps: ``X`` fills its
  channels over all ``W + H`` steps, the ``y`` channels are zero on the future steps, and one
  more channel flags them. The backbone reads the whole sequence, so the last step has seen the
  exogenous values of every step it forecasts;
- target: the scaled ``y[t:t+H]``, flattened to ``H * k`` outputs of one linear head (direct
  multi-step forecasting).

A backbone whose output at step ``t`` already is the forecast of the next observation says so
with a true ``forecasts_next_step`` attribute; for one-step forecasting of the series alone
(``horizon=1``, no exogenous ``X``) it then gets no head
(:class:`~seqestim.nn.heads.IdentityHead`), so its own parameters are the whole model.

Forecasts further ahead than ``horizon`` are made recursively, block by block, feeding the
forecasts back as observations; exogenous rows missing for the last block's unused steps repeat
the last given row (they cannot affect the steps asked for before them only when the backbone is
causal, which the recurrent backbones are).

Scaling: ``y`` and ``X`` are standardised per column with the mean and standard deviation of the
training series only (``y_mean_``, ``y_scale_``, ``X_mean_``, ``X_scale_``).
"""

from __future__ import annotations

import numbers

import numpy as np
from torch import nn

from seqestim.estimators._base import SequenceEstimator
from seqestim.estimators._series import BaseForecaster
from seqestim.estimators._training import TrainingParams
from seqestim.nn._params import param, parameter_group
from seqestim.nn.heads import SequenceNet

__all__ = ["SequenceForecaster", "WindowParams"]


@parameter_group
class WindowParams:
    """How a neural forecaster cuts the series into examples."""

    window_length: int = param(
        24, "Number of past observations the network reads for one forecast."
    )
    horizon: int = param(
        6,
        "Steps forecast at once by the network (direct multi-step output); longer horizons are\n"
        "forecast recursively in blocks of this size. Also the default ``fh`` of\n"
        ":meth:`predict`.",
    )


def _standardise(values: np.ndarray):
    mean = values.mean(axis=0)
    scale = values.std(axis=0)
    scale[scale == 0] = 1.0
    return mean, scale


class SequenceForecaster(BaseForecaster, WindowParams, TrainingParams, SequenceEstimator):
    """Neural forecaster task over sliding windows of the series.

    See the module docstring of :mod:`seqestim.estimators.forecaster` for how the series
    becomes training examples.

    Attributes
    ----------
    n_series_ : int
        Number of columns of ``y``.
    n_exog_ : int
        Number of columns of the exogenous ``X`` (0 without).
    n_train_ : int
        Number of training observations.
    cutoff_ : object
        The last index label of the training ``y`` (its last position for arrays).
    n_channels_ : int
        Input channels of the network (series, exogenous variables and the future flag).
    y_mean_, y_scale_ : ndarray of shape (n_series,)
        Standardisation of ``y``, from the training series.
    X_mean_, X_scale_ : ndarray of shape (n_exog,) or None
        Standardisation of ``X``, from the training rows.
    last_window_ : ndarray of shape (window_length, n_series)
        The observations the next forecast reads.
    last_exog_window_ : ndarray of shape (window_length, n_exog) or None
        The exogenous rows that go with ``last_window_``.
    """

    _task = "forecaster"
    _fitted_attributes = (
        "n_channels_",
        "y_mean_",
        "y_scale_",
        "X_mean_",
        "X_scale_",
        "last_window_",
        "last_exog_window_",
    )

    def _criterion(self):
        return nn.MSELoss

    def _build_module(self) -> SequenceNet:
        backbone = self._make_backbone(self.n_channels_)
        next_step = self.horizon == 1 and self.n_exog_ == 0
        n_outputs = self.horizon * self.n_series_
        return SequenceNet(backbone, n_outputs, pooling="last", next_step=next_step)

    def _check_window(self):
        for name in ("window_length", "horizon"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")

    def _min_samples(self) -> int:
        self._check_window()
        return self.window_length + self.horizon

    def _default_fh(self):
        return self.horizon

    # ----------------------------------------------------------------------------- windows
    def _window_input(self, past_y, past_X, future_X) -> np.ndarray:
        """One network input ``(L, C)`` from scaled past values and exogenous rows."""
        if past_X is None:
            return past_y  # (W, k)
        W, H = past_y.shape[0], future_X.shape[0]
        y_part = np.concatenate([past_y, np.zeros((H, past_y.shape[1]))])  # (W + H, k)
        X_part = np.concatenate([past_X, future_X])  # (W + H, m)
        flag = np.concatenate([np.zeros((W, 1)), np.ones((H, 1))])  # future steps
        return np.concatenate([y_part, X_part, flag], axis=1)

    def _training_windows(self, y: np.ndarray, X: np.ndarray | None):
        W, H = self.window_length, self.horizon
        starts = np.arange(W, y.shape[0] - H + 1)  # first forecast step of each example
        inputs = np.stack(
            [
                self._window_input(
                    y[t - W : t],
                    None if X is None else X[t - W : t],
                    None if X is None else X[t : t + H],
                )
                for t in starts
            ]
        ).astype(np.float32)  # (N, L, C)
        targets = np.stack([y[t : t + H].reshape(-1) for t in starts]).astype(np.float32)
        return inputs, targets  # (N, L, C), (N, H * k)

    @staticmethod
    def _net_input(windows: np.ndarray) -> dict:
        lengths = np.full(windows.shape[0], windows.shape[1], dtype=np.int64)
        return {"x": windows, "lengths": lengths}

    # ----------------------------------------------------------------------------- hooks
    def _fit(self, y: np.ndarray, X: np.ndarray | None) -> None:
        self._check_window()
        if not (self.warm_start and hasattr(self, "y_mean_")):
            self.y_mean_, self.y_scale_ = _standardise(y)
            self.X_mean_, self.X_scale_ = _standardise(X) if X is not None else (None, None)
        y_scaled = (y - self.y_mean_) / self.y_scale_
        X_scaled = None if X is None else (X - self.X_mean_) / self.X_scale_
        inputs, targets = self._training_windows(y_scaled, X_scaled)
        self.n_channels_ = inputs.shape[2]
        # what predict needs to continue the series, kept unscaled
        self.last_window_ = y[-self.window_length :].copy()
        self.last_exog_window_ = None if X is None else X[-self.window_length :].copy()
        self._fit_network(self._net_input(inputs), targets)

    def _predict(self, steps: np.ndarray, X: np.ndarray | None) -> np.ndarray:
        W, H, k = self.window_length, self.horizon, self.n_series_
        n_blocks = -(-int(steps.max()) // H)  # ceil
        history = (self.last_window_ - self.y_mean_) / self.y_scale_  # (W, k)
        if X is not None:
            X_scaled = (X - self.X_mean_) / self.X_scale_  # (max step, m)
            rows_needed = n_blocks * H
            if X_scaled.shape[0] < rows_needed:  # repeat the last row for unused steps
                extra = np.repeat(X_scaled[-1:], rows_needed - X_scaled.shape[0], axis=0)
                X_scaled = np.concatenate([X_scaled, extra])
            exog = np.concatenate(
                [(self.last_exog_window_ - self.X_mean_) / self.X_scale_, X_scaled]
            )
        forecasts = []
        for block in range(n_blocks):
            past_X = future_X = None
            if X is not None:
                offset = block * H  # exog rows: W past + all future, in one array
                past_X = exog[offset : offset + W]
                future_X = exog[offset + W : offset + W + H]
            window = self._window_input(history[-W:], past_X, future_X)[None]
            block_forecast = self._network_outputs(self._net_input(window)).reshape(H, k)
            forecasts.append(block_forecast)
            history = np.concatenate([history, block_forecast])
        path = np.concatenate(forecasts) * self.y_scale_ + self.y_mean_  # (n_blocks * H, k)
        return path[steps - 1]
