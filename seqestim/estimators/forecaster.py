"""Task base for neural forecasters: windows of the series in, the next ``horizon`` steps out.

The series interface (``fit(y, X=None)``, ``predict(fh=None, X=None)``, ``score``) comes from
:class:`seqestim._series.BaseForecaster`, shared with the statsmodels baselines; the training
machinery comes from :class:`~seqestim.estimators._base.BaseSequenceEstimator`.

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

One-step backbones (a true ``forecasts_next_step`` attribute, e.g. the linear ARMA cell): with
``horizon=1`` and no exogenous ``X`` the backbone's output already is the forecast of the next
observation, so the network has no head (:class:`~seqestim.nn.heads.IdentityHead`) and the
backbone's parameters are the whole model. Its classical coefficients (``ar_coefficients_``,
``ma_coefficients_``, ``intercept_`` from ``backbone.fitted_attributes()``) are then mapped from
the standardised units back to those of ``y``: with ``D = diag(y_scale_)`` and ``μ = y_mean_``,
``A -> D A D⁻¹`` for every AR and MA matrix (a no-op for one series) and
``c -> (I - Σ A_i) μ + D c``. In every other configuration (exogenous channels, ``horizon > 1``,
several units) a linear head maps the backbone's outputs, no classical coefficients describe
the forecast, and these attributes are not set.

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

from seqestim._series import BaseForecaster
from seqestim.estimators._base import BaseSequenceEstimator
from seqestim.estimators._data import Panel
from seqestim.nn.heads import IdentityHead, SequenceNet
from seqestim.registry import get_spec

__all__ = ["TASK_PARAMS", "TASK_PARAM_DOCS", "BaseSequenceForecaster"]

#: Parameters every neural forecaster adds to its model hyperparameters, with defaults.
TASK_PARAMS = {"window_length": 24, "horizon": 6}

TASK_PARAM_DOCS = {
    "window_length": (
        "int, default={}\n    Number of past observations the network reads for one forecast."
    ),
    "horizon": (
        "int, default={}\n    Steps forecast at once by the network (direct multi-step output); "
        "longer\n    horizons are forecast recursively in blocks of this size. Also the default\n"
        "    ``fh`` of :meth:`predict`."
    ),
}


def _standardise(values: np.ndarray):
    mean = values.mean(axis=0)
    scale = values.std(axis=0)
    scale[scale == 0] = 1.0
    return mean, scale


class BaseSequenceForecaster(BaseForecaster, BaseSequenceEstimator):
    """Neural forecaster over sliding windows; see the module docstring."""

    _task = "forecaster"

    def _criterion(self):
        return nn.MSELoss

    def _pooling(self):
        return "last"

    def _build_module(self, n_channels: int, n_outputs: int) -> SequenceNet:
        backbone = get_spec(self._model_name).cls(n_channels, **self._backbone_params())
        # one-step forecasting of y alone: a one-step backbone needs no head (module docstring)
        next_step = self.horizon == 1 and getattr(self, "n_exog_", 0) == 0
        return SequenceNet(backbone, n_outputs, pooling=self._pooling(), next_step=next_step)

    def _set_classical_coefficients(self) -> None:
        """Unscale the backbone's classical coefficients, or drop them (module docstring)."""
        names = ("ar_coefficients_", "ma_coefficients_", "intercept_")
        if not all(hasattr(self, name) for name in names):
            return
        if not isinstance(self.net_.module_.head, IdentityHead):
            for name in names:  # the cell alone does not describe the forecast
                delattr(self, name)
            return
        mean, scale = self.y_mean_, self.y_scale_  # (k,)
        ratio = scale[:, None] / scale[None, :]  # D A D^-1 elementwise
        ar = np.asarray(self.ar_coefficients_, dtype=np.float64)
        ma = np.asarray(self.ma_coefficients_, dtype=np.float64)
        intercept = np.atleast_1d(np.asarray(self.intercept_, dtype=np.float64))
        if ar.ndim == 3:
            ar, ma = ar * ratio, ma * ratio
            intercept = (np.eye(len(mean)) - ar.sum(axis=0)) @ mean + scale * intercept
            self.intercept_ = intercept
        else:
            self.intercept_ = float((1.0 - ar.sum()) * mean[0] + scale[0] * intercept[0])
        self.ar_coefficients_, self.ma_coefficients_ = ar, ma

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
    def _panel(inputs: np.ndarray) -> Panel:
        lengths = np.full(inputs.shape[0], inputs.shape[1], dtype=np.int64)
        return Panel(inputs, lengths, "sequence")

    # ----------------------------------------------------------------------------- hooks
    def _fit(self, y: np.ndarray, X: np.ndarray | None) -> None:
        self._check_window()
        if self.warm_start and hasattr(self, "y_mean_"):
            y_mean, y_scale = self.y_mean_, self.y_scale_
            X_mean, X_scale = getattr(self, "X_mean_", None), getattr(self, "X_scale_", None)
        else:
            y_mean, y_scale = _standardise(y)
            X_mean, X_scale = _standardise(X) if X is not None else (None, None)
        y_scaled = (y - y_mean) / y_scale
        X_scaled = None if X is None else (X - X_mean) / X_scale
        inputs, targets = self._training_windows(y_scaled, X_scaled)
        self._fit_panel(self._panel(inputs), targets, n_outputs=targets.shape[1])
        self.n_channels_ = inputs.shape[2]
        self.y_mean_, self.y_scale_ = y_mean, y_scale
        self.X_mean_, self.X_scale_ = X_mean, X_scale
        self._set_classical_coefficients()
        # what predict needs to continue the series, kept unscaled
        self.last_window_ = y[-self.window_length :].copy()
        self.last_exog_window_ = None if X is None else X[-self.window_length :].copy()

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
            window = self._window_input(history[-W:], past_X, future_X)[None].astype(np.float32)
            block_forecast = self._forward(self._panel(window)).reshape(H, k)  # scaled
            forecasts.append(block_forecast)
            history = np.concatenate([history, block_forecast])
        path = np.concatenate(forecasts) * self.y_scale_ + self.y_mean_  # (n_blocks * H, k)
        return path[steps - 1]
