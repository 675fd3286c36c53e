"""Model evaluation: forecast metrics, scorers and comparison tables; language-model gaps.

Everything runs on sklearn's splitters (``TimeSeriesSplit`` for expanding windows,
``TimeSeriesSplit(max_train_size=w)`` for sliding ones), so the same folds serve
``cross_val_score``, ``GridSearchCV`` and :func:`compare_forecasters`.
"""

from seqestim.model_selection._compare import compare_forecasters, plot_forecasts
from seqestim.model_selection._language import cross_entropy_gap
from seqestim.model_selection._metrics import (
    FORECAST_METRICS,
    make_forecast_scorer,
    mean_absolute_error,
    mean_absolute_scaled_error,
    root_mean_squared_error,
    symmetric_mean_absolute_percentage_error,
)

__all__ = [
    "FORECAST_METRICS",
    "compare_forecasters",
    "cross_entropy_gap",
    "make_forecast_scorer",
    "mean_absolute_error",
    "mean_absolute_scaled_error",
    "plot_forecasts",
    "root_mean_squared_error",
    "symmetric_mean_absolute_percentage_error",
]
