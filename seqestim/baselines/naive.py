"""Naive benchmark forecasters: last value, mean, drift and seasonal last value.

The formulas are the textbook ones (Hyndman & Athanasopoulos, *Forecasting: Principles and
Practice*, 3rd ed., §5.2), applied to each column of ``y`` separately:

- ``"last"``: ``ŷ_{n+h} = y_n``
- ``"mean"``: ``ŷ_{n+h} = mean(y_{n-w+1..n})`` with ``w = window_length`` (all of ``y`` by default)
- ``"drift"``: ``ŷ_{n+h} = y_n + h (y_n - y_1) / (n - 1)``
- ``"seasonal_last"``: ``ŷ_{n+h} = y_{n + h - sp (⌊(h - 1) / sp⌋ + 1)}``, the value one season
  before, repeated.

Forecast distributions (``predict_quantiles``, ``predict_interval``) are Gaussian around these
forecasts with the standard deviations of the same textbook (§5.5, Table 5.2), ``σ̂`` being the
root mean square of the method's in-sample residuals, with one degree of freedom fewer for the
mean and the drift, which estimate a parameter (as R's ``forecast::meanf`` and ``rwf``):

- ``"last"``: ``σ̂ √h``, residuals ``y_t - y_{t-1}``
- ``"mean"``: ``σ̂ √(1 + 1/w)``, residuals ``y_t - mean`` over the last ``w`` values
- ``"drift"``: ``σ̂ √(h (1 + h / (n - 1)))``, residuals ``y_t - y_{t-1} - slope``
- ``"seasonal_last"``: ``σ̂ √(⌊(h - 1) / sp⌋ + 1)``, residuals ``y_t - y_{t-sp}``

Sample paths for wrappers (:class:`seqestim.compose.Differenced`) follow the same models: a
random walk (with drift), independent draws around the mean, or a seasonal random walk.
"""

from __future__ import annotations

import copy

import numpy as np

from seqestim.estimators._series import BaseForecaster

__all__ = ["NaiveForecaster"]

_STRATEGIES = ("last", "mean", "drift", "seasonal_last")


class NaiveForecaster(BaseForecaster):
    """Naive and seasonal-naive forecasts, the yardstick of every forecasting comparison.

    Parameters
    ----------
    strategy : {"last", "mean", "drift", "seasonal_last"}, default="last"
        ``"last"`` repeats the last value; ``"mean"`` the mean of the last ``window_length``
        values; ``"drift"`` extends the line through the first and last values;
        ``"seasonal_last"`` repeats the last full season of length ``sp``.
    sp : int, default=1
        Seasonal period (e.g. 12 for monthly data), used by ``"seasonal_last"``.
    window_length : int or None, default=None
        Number of most recent values averaged by ``"mean"``; None uses the whole series.

    Attributes
    ----------
    n_series_ : int
        Number of series (columns of ``y``).
    n_train_ : int
        Length of the training series.
    cutoff_ : object
        Last index label (or position) of the training series.

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim.baselines import NaiveForecaster
    >>> NaiveForecaster(strategy="seasonal_last", sp=2).fit(np.array([1.0, 2, 3, 4])).predict(3)
    array([3., 4., 3.])
    """

    _supports_exog = False

    def __init__(self, strategy="last", sp=1, window_length=None):
        self.strategy = strategy
        self.sp = sp
        self.window_length = window_length

    def _validate(self):
        if self.strategy not in _STRATEGIES:
            raise ValueError(f"strategy must be one of {_STRATEGIES}, got {self.strategy!r}.")
        if not isinstance(self.sp, int | np.integer) or self.sp < 1:
            raise ValueError(f"sp must be a positive int, got {self.sp!r}.")
        if self.window_length is not None and (
            not isinstance(self.window_length, int | np.integer) or self.window_length < 1
        ):
            raise ValueError(
                f"window_length must be None or a positive int, got {self.window_length!r}."
            )

    def _min_samples(self) -> int:
        self._validate()
        if self.strategy == "seasonal_last":
            return int(self.sp)
        if self.strategy == "drift":
            return 2
        if self.strategy == "mean" and self.window_length is not None:
            return int(self.window_length)
        return 1

    def _fit(self, y, X=None):
        # everything needed is the training series, kept by the base class as _y_fit
        return None

    def _predict(self, steps, X=None):
        y = self._y_fit  # (n, k)
        n = y.shape[0]
        h = steps[:, None].astype(np.float64)  # (H, 1)
        if self.strategy == "last":
            return np.repeat(y[-1:], len(steps), axis=0)
        if self.strategy == "mean":
            window = y if self.window_length is None else y[-int(self.window_length) :]
            return np.repeat(window.mean(axis=0, keepdims=True), len(steps), axis=0)
        if self.strategy == "drift":
            slope = (y[-1] - y[0]) / (n - 1)  # (k,)
            return y[-1] + h * slope
        sp = int(self.sp)
        # position of the same season in the last observed cycle
        positions = n - sp + (steps - 1) % sp  # (H,)
        return y[positions]

    def _residual_scale(self) -> np.ndarray:
        """``σ̂`` per column: root mean square of the method's in-sample residuals."""
        y = self._y_fit
        n = y.shape[0]
        if self.strategy == "mean":
            window = y if self.window_length is None else y[-int(self.window_length) :]
            residuals, dof = window - window.mean(axis=0), 1
        elif self.strategy == "seasonal_last":
            sp = int(self.sp)
            residuals, dof = y[sp:] - y[:-sp], 0
        else:
            residuals, dof = np.diff(y, axis=0), 0
            if self.strategy == "drift":
                residuals, dof = residuals - (y[-1] - y[0]) / (n - 1), 1
        count = residuals.shape[0] - dof
        if count < 1:
            return np.zeros(y.shape[1])  # too short to measure: a degenerate distribution
        return np.sqrt((residuals**2).sum(axis=0) / count)

    def _step_scale(self, steps: np.ndarray) -> np.ndarray:
        """How the forecast standard deviation grows with the step, in units of ``σ̂``."""
        h = steps.astype(np.float64)
        n = self._y_fit.shape[0]
        if self.strategy == "last":
            return np.sqrt(h)
        if self.strategy == "mean":
            w = n if self.window_length is None else int(self.window_length)
            return np.full(len(h), np.sqrt(1 + 1 / w))
        if self.strategy == "drift":
            return np.sqrt(h * (1 + h / (n - 1)))
        return np.sqrt(np.floor((h - 1) / int(self.sp)) + 1)

    def _predict_quantiles(self, steps, X, alpha):
        from scipy.special import ndtri

        point = self._predict(steps)  # (H, k)
        std = self._step_scale(steps)[:, None] * self._residual_scale()[None, :]  # (H, k)
        return point[..., None] + std[..., None] * ndtri(np.asarray(alpha))

    def _predict_paths(self, horizon, X, n_paths, seed):
        rng = np.random.default_rng(seed)
        y, sigma = self._y_fit, self._residual_scale()
        k = y.shape[1]
        noise = rng.standard_normal((n_paths, horizon, k)) * sigma  # (n, h, k)
        steps = np.arange(1, horizon + 1)
        point = self._predict(steps)  # (h, k)
        if self.strategy == "mean":
            # the same error of the estimated mean for every step, plus a fresh shock per step
            w = y.shape[0] if self.window_length is None else int(self.window_length)
            common = rng.standard_normal((n_paths, 1, k)) * sigma / np.sqrt(w)
            return point + common + noise
        if self.strategy == "seasonal_last":
            sp = int(self.sp)
            # each step adds a shock to the same season one cycle before
            cumulative = np.zeros_like(noise)
            for h in range(horizon):
                cumulative[:, h] = noise[:, h] + (cumulative[:, h - sp] if h >= sp else 0.0)
            return point + cumulative
        if self.strategy == "drift":
            # a random walk plus the error of the estimated slope, growing with the step
            slope_error = rng.standard_normal((n_paths, 1, k)) * sigma / np.sqrt(y.shape[0] - 1)
            return point + np.cumsum(noise, axis=1) + steps[None, :, None] * slope_error
        return point + np.cumsum(noise, axis=1)

    def _forecast_from(self, histories, X_histories, steps, X_futures, alpha=None):
        points, quantiles = [], []
        for history in histories:
            other = copy.copy(self)  # no parameters: the method restarts from the history
            other._y_fit = np.asarray(history, dtype=np.float64)
            if other._y_fit.shape[0] < self._min_samples():
                raise ValueError(
                    f"A history of {other._y_fit.shape[0]} observation(s) is too short for "
                    f"{type(self).__name__}, which needs {self._min_samples()}."
                )
            points.append(other._predict(steps))
            if alpha is not None:
                quantiles.append(other._predict_quantiles(steps, None, alpha))
        return np.stack(points), (None if alpha is None else np.stack(quantiles))
