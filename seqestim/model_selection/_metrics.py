"""Point-forecast error metrics and sklearn scorers built on them.

Definitions (``y`` truth, ``ŷ`` forecast, ``h`` forecast steps; multivariate inputs are averaged
uniformly over columns):

- MAE  = mean |y - ŷ|
- RMSE = sqrt(mean (y - ŷ)²)
- MASE = MAE / mean_{t > sp} |y^{train}_t - y^{train}_{t-sp}| (Hyndman & Koehler 2006): the
  error relative to the in-sample seasonal-naive one-step error with period ``sp``.
- sMAPE = mean 2|y - ŷ| / (|y| + |ŷ|), a fraction in [0, 2] as in sktime (multiply by 100 for
  the percentage of the M3/M4 competitions); a term with ``y = ŷ = 0`` counts as 0.

Probabilistic forecasts (``l``, ``u`` the bounds of a central interval of nominal coverage
``1 - a``; ``q_τ`` the quantile forecast at level ``τ``):

- coverage = mean 1{l <= y <= u}, the share of observations inside the interval;
- interval score = mean (u - l) + (2/a)(l - y)1{y < l} + (2/a)(y - u)1{y > u} (Gneiting &
  Raftery 2007, a proper score: width plus a penalty for every miss);
- MSIS = interval score / the MASE scale, the scaled interval score of the M4 competition;
- pinball = mean over levels and steps of max(τ (y - q_τ), (τ - 1)(y - q_τ)), the quantile
  loss (half the weighted interval score summed over the quantiles' intervals).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FORECAST_METRICS",
    "INTERVAL_METRICS",
    "empirical_coverage",
    "interval_score",
    "make_forecast_scorer",
    "mean_absolute_error",
    "mean_absolute_scaled_error",
    "mean_scaled_interval_score",
    "pinball_loss",
    "root_mean_squared_error",
    "symmetric_mean_absolute_percentage_error",
]


def _pair(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.ndim == 1:
        y_true = y_true[:, None]
    if y_pred.ndim == 1:
        y_pred = y_pred[:, None]
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}.")
    if y_true.shape[0] == 0:
        raise ValueError("Cannot score an empty forecast.")
    return y_true, y_pred


def mean_absolute_error(y_true, y_pred) -> float:
    """Mean absolute error, averaged over steps and series."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))


def root_mean_squared_error(y_true, y_pred) -> float:
    """Root mean squared error per series, averaged over series."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(np.sqrt(np.mean((y_true - y_pred) ** 2, axis=0))))


def mean_absolute_scaled_error(y_true, y_pred, y_train, sp: int = 1) -> float:
    """MASE: MAE scaled by the in-sample MAE of the seasonal-naive forecast with period ``sp``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (h,) or (h, k)
        Truth and forecast.
    y_train : array-like of shape (n,) or (n, k)
        The training series the forecast was made from (``n > sp``).
    sp : int, default=1
        Seasonal period of the naive scale (1: the random-walk one-step error).

    Returns
    -------
    float
        Averaged over series; ``inf`` when the training series is constant at lag ``sp``.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    y_train = np.asarray(y_train, dtype=np.float64)
    if y_train.ndim == 1:
        y_train = y_train[:, None]
    sp = int(sp)
    if sp < 1:
        raise ValueError(f"sp must be >= 1, got {sp}.")
    if y_train.shape[0] <= sp:
        raise ValueError(
            f"MASE needs a training series longer than sp={sp}; got {y_train.shape[0]} values."
        )
    if y_train.shape[1] != y_true.shape[1]:
        raise ValueError("y_train and y_true must have the same number of series.")
    scale = np.mean(np.abs(y_train[sp:] - y_train[:-sp]), axis=0)  # (k,)
    mae = np.mean(np.abs(y_true - y_pred), axis=0)  # (k,)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(scale > 0, mae / np.where(scale > 0, scale, 1.0), np.inf)
    return float(np.mean(ratio))


def symmetric_mean_absolute_percentage_error(y_true, y_pred) -> float:
    """Symmetric MAPE (sMAPE) as a fraction in [0, 2]: the mean of ``2|y - ŷ| / (|y| + |ŷ|)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    denominator = np.abs(y_true) + np.abs(y_pred)
    numerator = 2.0 * np.abs(y_true - y_pred)
    terms = np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)
    return float(np.mean(terms))


def _bounds(y_true, lower, upper):
    y_true, lower = _pair(y_true, lower)
    _, upper = _pair(y_true, upper)
    return y_true, lower, upper


def empirical_coverage(y_true, lower, upper) -> float:
    """Share of the observations that fall inside ``[lower, upper]`` (ends included)."""
    y_true, lower, upper = _bounds(y_true, lower, upper)
    return float(np.mean((y_true >= lower) & (y_true <= upper)))


def interval_score(y_true, lower, upper, coverage: float = 0.9) -> float:
    """Mean interval score of central intervals of nominal ``coverage`` (lower is better).

    Parameters
    ----------
    y_true, lower, upper : array-like of shape (h,) or (h, k)
        Truth and the interval bounds.
    coverage : float, default=0.9
        Nominal coverage ``1 - a`` of the intervals; a miss costs ``2 / a`` times its distance.

    Returns
    -------
    float
    """
    y_true, lower, upper = _bounds(y_true, lower, upper)
    if not 0.0 < coverage < 1.0:
        raise ValueError(f"coverage must be in (0, 1); got {coverage!r}.")
    a = 1.0 - coverage
    below = np.maximum(lower - y_true, 0.0)
    above = np.maximum(y_true - upper, 0.0)
    return float(np.mean((upper - lower) + (2.0 / a) * (below + above)))


def mean_scaled_interval_score(y_true, lower, upper, y_train, coverage: float = 0.9, sp=1):
    """MSIS: the interval score divided by the MASE scale of ``y_train`` (as in M4).

    Averaged over series; ``inf`` when the training series is constant at lag ``sp``.
    """
    y_true, lower, upper = _bounds(y_true, lower, upper)
    scale = _naive_scale(y_train, sp, y_true.shape[1])
    a = 1.0 - coverage
    scores = (upper - lower) + (2.0 / a) * (
        np.maximum(lower - y_true, 0.0) + np.maximum(y_true - upper, 0.0)
    )
    mean = scores.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(scale > 0, mean / np.where(scale > 0, scale, 1.0), np.inf)
    return float(np.mean(ratio))


def pinball_loss(y_true, quantiles, alpha) -> float:
    """Mean pinball loss of quantile forecasts (lower is better).

    Parameters
    ----------
    y_true : array-like of shape (h,) or (h, k)
    quantiles : array-like of shape (h, len(alpha)) or (h, k, len(alpha))
        The forecast quantiles, one per level of ``alpha`` on the last axis.
    alpha : sequence of float
        The levels.

    Returns
    -------
    float
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    if y_true.ndim == 1:
        y_true = y_true[:, None]
    levels = np.atleast_1d(np.asarray(alpha, dtype=np.float64))
    quantiles = np.asarray(quantiles, dtype=np.float64).reshape(*y_true.shape, len(levels))
    error = y_true[..., None] - quantiles
    return float(np.mean(np.maximum(levels * error, (levels - 1.0) * error)))


def _naive_scale(y_train, sp, k: int) -> np.ndarray:
    y_train = np.asarray(y_train, dtype=np.float64)
    if y_train.ndim == 1:
        y_train = y_train[:, None]
    sp = int(sp)
    if sp < 1:
        raise ValueError(f"sp must be >= 1, got {sp}.")
    if y_train.shape[0] <= sp:
        raise ValueError(
            f"MASE needs a training series longer than sp={sp}; got {y_train.shape[0]} values."
        )
    if y_train.shape[1] != k:
        raise ValueError("y_train and y_true must have the same number of series.")
    return np.mean(np.abs(y_train[sp:] - y_train[:-sp]), axis=0)  # (k,)


#: Metrics of probabilistic forecasts that :func:`compare_forecasters` computes; all but
#: ``coverage`` (closest to the nominal level is best) are losses.
INTERVAL_METRICS = ("coverage", "interval_score", "msis", "pinball")

#: Metric name -> (function, needs the training series). All are errors: lower is better.
FORECAST_METRICS = {
    "mae": mean_absolute_error,
    "rmse": root_mean_squared_error,
    "mase": mean_absolute_scaled_error,
    "smape": symmetric_mean_absolute_percentage_error,
}


def _compute(metric: str, y_true, y_pred, y_train, sp: int) -> float:
    if metric not in FORECAST_METRICS:
        raise ValueError(f"Unknown metric {metric!r}; expected one of {sorted(FORECAST_METRICS)}.")
    if metric == "mase":
        return mean_absolute_scaled_error(y_true, y_pred, y_train, sp=sp)
    return FORECAST_METRICS[metric](y_true, y_pred)


class _ForecastScorer:
    """sklearn scorer ``scorer(estimator, y_test, _=None)`` for a fitted seqestim forecaster.

    It forecasts the ``len(y_test)`` steps after the estimator's training data and returns the
    negated error (sklearn maximises scores), like sklearn's ``neg_mean_absolute_error``.
    """

    def __init__(self, metric: str, sp: int = 1):
        if metric not in FORECAST_METRICS:
            raise ValueError(
                f"Unknown metric {metric!r}; expected one of {sorted(FORECAST_METRICS)}."
            )
        self.metric = metric
        self.sp = sp

    def __call__(self, estimator, X, y=None):
        from seqestim.estimators._series import _as_float_2d

        y_true = _as_float_2d(X, "y")  # sklearn passes the held-out series as X
        y_pred = np.asarray(estimator.predict(np.arange(1, y_true.shape[0] + 1)))
        y_train = getattr(_final_forecaster(estimator), "_y_fit", None)
        if self.metric == "mase" and y_train is None:
            raise ValueError(
                "The MASE scorer needs a seqestim forecaster (it reads its training data)."
            )
        return -_compute(self.metric, y_true, y_pred, y_train, self.sp)

    def __repr__(self):
        return f"make_forecast_scorer({self.metric!r}, sp={self.sp})"


def _final_forecaster(estimator):
    # a GridSearchCV / Pipeline-like wrapper: look for the fitted forecaster inside
    for attribute in ("best_estimator_", "_final_estimator"):
        inner = getattr(estimator, attribute, None)
        if inner is not None:
            return _final_forecaster(inner)
    return estimator


def make_forecast_scorer(metric: str = "mase", *, sp: int = 1):
    """An sklearn scorer for forecasters, for ``GridSearchCV(..., scoring=...)``.

    Parameters
    ----------
    metric : {"mae", "rmse", "mase", "smape"}, default="mase"
        Error to compute on the forecast of the held-out fold.
    sp : int, default=1
        Seasonal period of the MASE scale.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, y_test)`` returns minus the error (higher is better).

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
    >>> from seqestim.baselines import NaiveForecaster
    >>> from seqestim.model_selection import make_forecast_scorer
    >>> search = GridSearchCV(
    ...     NaiveForecaster(),
    ...     {"strategy": ["last", "mean"]},
    ...     cv=TimeSeriesSplit(3),
    ...     scoring=make_forecast_scorer("mae"),
    ... )
    """
    return _ForecastScorer(metric, sp=sp)
