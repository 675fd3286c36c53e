"""Forecaster wrappers that transform the target: a log scale, differencing.

Both wrap any seqestim forecaster (neural or baseline) and are forecasters themselves, so they
compose with each other and with cross-validation, grid search (``forecaster__lr``) and
:func:`seqestim.model_selection.compare_forecasters`:

>>> from seqestim import GRUForecaster
>>> from seqestim.compose import Differenced, LogTransformed
>>> model = LogTransformed(Differenced(GRUForecaster(horizon=12), lags=(12,)))

The transformation is fitted on the training series only; forecasts are mapped back to the
original scale, so every error is measured in the units of ``y``.

Probabilistic forecasts pass through both. The log is monotone, so ``LogTransformed`` maps the
wrapped forecaster's quantiles with ``exp`` exactly (the point forecast of a median or a
Gaussian mean on the log scale becomes the median on the original scale). Integration is not
monotone step by step, so ``Differenced`` draws ``n_paths`` sample paths from the wrapped
forecaster, integrates each one, and reads the quantiles off the integrated paths.

These wrappers are the one way to transform the target of a seqestim forecaster. (Through
:func:`seqestim.sktime.to_sktime`, sktime's own ``TransformedTargetForecaster`` also works, as
for any sktime forecaster; use it when the rest of the pipeline is sktime.)
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

    def _predict_quantiles(self, steps, X, alpha):
        kwargs = {} if X is None else {"X": X}
        frame = self.forecaster_.predict_quantiles(steps, alpha=alpha, **kwargs)
        return np.exp(frame.to_numpy(dtype=np.float64).reshape(len(steps), -1, len(alpha)))

    def _predict_paths(self, horizon, X, n_paths, seed):
        return np.exp(self.forecaster_._predict_paths(horizon, X, n_paths, seed))

    def _forecast_from(self, histories, X_histories, steps, X_futures, alpha=None):
        logs = []
        for history in histories:
            if (np.asarray(history) <= 0).any():
                raise ValueError("LogTransformed needs a positive series; y has values <= 0.")
            logs.append(np.log(np.asarray(history, dtype=np.float64)))
        kwargs = {} if alpha is None else {"alpha": alpha}
        points, quantiles = self.forecaster_._forecast_from(
            logs, X_histories, steps, X_futures, **kwargs
        )
        return np.exp(points), (None if quantiles is None else np.exp(quantiles))


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
    n_paths : int, default=1000
        Sample paths of the wrapped forecaster integrated for ``predict_quantiles`` and
        ``predict_interval``.
    random_state : int, default=0
        Seeds those sample paths.

    Attributes
    ----------
    forecaster_ : seqestim forecaster
        The fitted clone.
    """

    def __init__(self, forecaster, lags=(1,), n_paths=1000, random_state=0):
        self.forecaster = forecaster
        self.lags = lags
        self.n_paths = n_paths
        self.random_state = random_state

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

    def _difference(self, y):
        """The differenced series and the last ``lag`` values of each level (to integrate)."""
        tails, z = [], y
        for lag in self._check_lags():
            tails.append(z[-lag:].copy())
            z = z[lag:] - z[:-lag]
        return z, tails

    def _fit(self, y, X=None):
        z, self._tails = self._difference(y)
        X_fit = None if X is None else X[len(y) - len(z) :]
        self.forecaster_ = clone(self.forecaster)
        self.forecaster_.fit(z, X_fit) if X_fit is not None else self.forecaster_.fit(z)
        return self

    def _integrate(self, path: np.ndarray, tails=None) -> np.ndarray:
        """Undo the differencing of forecast paths ``(..., h, k)`` of steps ``1..h``."""
        horizon = path.shape[-2]
        tails = self._tails if tails is None else tails
        for lag, tail in zip(reversed(self._check_lags()), reversed(tails), strict=True):
            level = np.concatenate(
                [np.broadcast_to(tail, (*path.shape[:-2], *tail.shape)), np.zeros_like(path)],
                axis=-2,
            )
            for h in range(horizon):  # y_{n+h} = z_{n+h} + y_{n+h-lag}
                level[..., lag + h, :] = path[..., h, :] + level[..., h, :]
            path = level[..., lag:, :]
        return path

    def _predict(self, steps, X=None):
        horizon = int(steps.max())
        every = np.arange(1, horizon + 1)
        kwargs = {} if X is None else {"X": X}
        path = np.asarray(self.forecaster_.predict(every, **kwargs), dtype=np.float64)
        return self._integrate(path.reshape(horizon, -1))[steps - 1]

    def _paths(self, horizon, X, n_paths, seed) -> np.ndarray:
        if not isinstance(n_paths, numbers.Integral) or isinstance(n_paths, bool) or n_paths < 2:
            raise ValueError(f"n_paths must be an integer >= 2; got {n_paths!r}.")
        paths = self.forecaster_._predict_paths(horizon, X, int(n_paths), seed)
        return self._integrate(np.asarray(paths, dtype=np.float64))  # (n, h, k)

    def _predict_quantiles(self, steps, X, alpha):
        seed = 0 if self.random_state is None else int(self.random_state)
        paths = self._paths(int(steps.max()), X, self.n_paths, seed)
        quantiles = np.quantile(paths, alpha, axis=0)  # (A, h, k)
        return np.moveaxis(quantiles, 0, -1)[steps - 1]

    def _predict_paths(self, horizon, X, n_paths, seed):
        return self._paths(horizon, X, n_paths, seed)

    def _forecast_from(self, histories, X_histories, steps, X_futures, alpha=None):
        if alpha is not None:
            raise NotImplementedError(
                "Differenced reads its quantiles off sample paths drawn after the training "
                "series; it cannot draw them after another history. Refit instead."
            )
        differenced, tails = [], []
        for history in histories:
            z, tail = self._difference(np.asarray(history, dtype=np.float64))
            differenced.append(z)
            tails.append(tail)
        X_fit = None
        if X_histories is not None:
            X_fit = [X[len(X) - len(z) :] for X, z in zip(X_histories, differenced, strict=True)]
        every = np.arange(1, int(steps.max()) + 1)
        points, _ = self.forecaster_._forecast_from(differenced, X_fit, every, X_futures)
        integrated = [self._integrate(p, t)[steps - 1] for p, t in zip(points, tails, strict=True)]
        return np.stack(integrated), None
