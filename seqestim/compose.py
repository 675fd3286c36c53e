"""Forecaster wrappers that transform the target: a log scale, differencing.

Both wrap any seqestim forecaster (neural or baseline) and are forecasters themselves, so they
compose with each other and with cross-validation, grid search (``forecaster__lr``) and
:func:`seqestim.model_selection.compare_forecasters`:

>>> from seqestim import GRUForecaster
>>> from seqestim.compose import Differenced, LogTransformed
>>> model = LogTransformed(Differenced(GRUForecaster(horizon=12), lags=(12,)))

The transformation is fitted on the training series only; forecasts are mapped back to the
original scale, so every error is measured in the units of ``y``. sktime users can get the same
from sktime's ``TransformedTargetForecaster`` around :func:`seqestim.sktime.to_sktime`; these
wrappers are the way for seqestim's own forecasters.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import clone

from seqestim.estimators._series import BaseForecaster

__all__ = ["Differenced", "LogTransformed"]


class LogTransformed(BaseForecaster):
    """Fit a forecaster to ``log(y)`` and forecast ``exp`` of its forecasts.

    Parameters
    ----------
    forecaster : seqestim forecaster
        Fitted on the log of the (positive) series; a clone is used.

    Attributes
    ----------
    forecaster_ : seqestim forecaster
        The fitted clone.
    """

    def __init__(self, forecaster):
        self.forecaster = forecaster

    def _fit(self, y, X=None):
        if (y <= 0).any():
            raise ValueError("LogTransformed needs a positive series; y has values <= 0.")
        self.forecaster_ = clone(self.forecaster)
        self.forecaster_.fit(np.log(y), X) if X is not None else self.forecaster_.fit(np.log(y))
        return self

    def _predict(self, steps, X=None):
        kwargs = {} if X is None else {"X": X}
        return np.exp(np.asarray(self.forecaster_.predict(steps, **kwargs), dtype=np.float64))


class Differenced(BaseForecaster):
    """Fit a forecaster to the differenced series and integrate its forecasts back.

    ``lags=(1, 12)`` fits ``(1 - B)(1 - B^12) y``, the differencing of the airline model, so
    that a neural forecaster sees the same stationary series as the textbook ARIMA.

    Parameters
    ----------
    forecaster : seqestim forecaster
        Fitted on the differenced series; a clone is used.
    lags : tuple of int, default=(1,)
        Differencing lags, applied in order.

    Attributes
    ----------
    forecaster_ : seqestim forecaster
        The fitted clone.
    """

    def __init__(self, forecaster, lags=(1,)):
        self.forecaster = forecaster
        self.lags = lags

    def _check_lags(self) -> tuple[int, ...]:
        lags = tuple(np.atleast_1d(self.lags).tolist())
        if not lags or not all(
            isinstance(lag, numbers.Integral) and not isinstance(lag, bool) and lag >= 1
            for lag in lags
        ):
            raise ValueError(f"lags must be positive integers; got {self.lags!r}.")
        return lags

    def _min_samples(self) -> int:
        return int(sum(self._check_lags())) + 2

    def _fit(self, y, X=None):
        self._tails = []  # the last `lag` values of each level, to integrate back
        z = y
        for lag in self._check_lags():
            self._tails.append(z[-lag:].copy())
            z = z[lag:] - z[:-lag]
        X_fit = None if X is None else X[len(y) - len(z) :]
        self.forecaster_ = clone(self.forecaster)
        self.forecaster_.fit(z, X_fit) if X_fit is not None else self.forecaster_.fit(z)
        return self

    def _predict(self, steps, X=None):
        horizon = int(steps.max())
        every = np.arange(1, horizon + 1)
        kwargs = {} if X is None else {"X": X}
        path = np.asarray(self.forecaster_.predict(every, **kwargs), dtype=np.float64)
        path = path.reshape(horizon, -1)
        for lag, tail in zip(reversed(self._check_lags()), reversed(self._tails), strict=True):
            level = np.concatenate([tail, np.zeros_like(path)])
            for h in range(horizon):  # y_{n+h} = z_{n+h} + y_{n+h-lag}
                level[lag + h] = path[h] + level[h]
            path = level[lag:]
        return path[steps - 1]
