"""Classical forecasting baselines with the seqestim forecaster interface.

statsmodels ARIMA/SARIMAX/VARMA models (with an information-criterion order search), naive
forecasters, and, when the optional statsforecast package is installed, its AutoARIMA
(:class:`StatsForecastAutoARIMA`). They share :class:`seqestim.estimators.BaseForecaster` with
the neural forecasters, so one cross-validation
(:func:`seqestim.model_selection.compare_forecasters`) compares them all.
"""

from seqestim.baselines.naive import NaiveForecaster
from seqestim.baselines.statsforecast import StatsForecastAutoARIMA
from seqestim.baselines.statsmodels import (
    ARIMAForecaster,
    AutoARIMAForecaster,
    SARIMAXForecaster,
    VARMAForecaster,
)

__all__ = [
    "ARIMAForecaster",
    "AutoARIMAForecaster",
    "NaiveForecaster",
    "SARIMAXForecaster",
    "StatsForecastAutoARIMA",
    "VARMAForecaster",
]
