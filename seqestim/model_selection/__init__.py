"""Model evaluation: forecast metrics, scorers, comparisons and backtests; language-model gaps.

Everything runs on sklearn's splitters (``TimeSeriesSplit`` for expanding windows,
``TimeSeriesSplit(max_train_size=w)`` for sliding ones), so the same folds serve
``cross_val_score``, ``GridSearchCV`` and :func:`compare_forecasters`.
:func:`historical_forecasts` forecasts from many origins with one fitted model.
"""

from seqestim.model_selection._compare import (
    compare_forecasters,
    historical_forecasts,
    plot_forecasts,
)
from seqestim.model_selection._language import cross_entropy_gap
from seqestim.model_selection._metrics import (
    FORECAST_METRICS,
    INTERVAL_METRICS,
    empirical_coverage,
    interval_score,
    make_forecast_scorer,
    mean_absolute_error,
    mean_absolute_scaled_error,
    mean_scaled_interval_score,
    pinball_loss,
    root_mean_squared_error,
    symmetric_mean_absolute_percentage_error,
)

__all__ = [
    "FORECAST_METRICS",
    "INTERVAL_METRICS",
    "compare_forecasters",
    "cross_entropy_gap",
    "empirical_coverage",
    "historical_forecasts",
    "interval_score",
    "make_forecast_scorer",
    "mean_absolute_error",
    "mean_absolute_scaled_error",
    "mean_scaled_interval_score",
    "pinball_loss",
    "plot_forecasts",
    "root_mean_squared_error",
    "symmetric_mean_absolute_percentage_error",
]
