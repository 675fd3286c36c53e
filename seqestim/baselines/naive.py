"""Naive benchmark forecasters: last value, mean, drift and seasonal last value.

The formulas are the textbook ones (Hyndman & Athanasopoulos, *Forecasting: Principles and
Practice*, 3rd ed., §5.2), applied to each column of ``y`` separately:

- ``"last"``: ``ŷ_{n+h} = y_n``
- ``"mean"``: ``ŷ_{n+h} = mean(y_{n-w+1..n})`` with ``w = window_length`` (all of ``y`` by default)
- ``"drift"``: ``ŷ_{n+h} = y_n + h (y_n - y_1) / (n - 1)``
- ``"seasonal_last"``: ``ŷ_{n+h} = y_{n + h - sp (⌊(h - 1) / sp⌋ + 1)}``, the value one season
  before, repeated.
"""

from __future__ import annotations

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
