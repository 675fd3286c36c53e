"""
Neural ARMA next to ARIMA in sktime's ``evaluate``
==================================================

``SeqestimForecaster(ARMACellForecaster(...))`` is an sktime forecaster, so sktime's backtesting
runs it exactly as it runs sktime's own models. Here both forecast the airline series 12 months
ahead from an expanding window: the neural ARMA cell (on the log series, through
``TransformedTargetForecaster``) and a seasonal ARIMA(1,1,0)(0,1,0)12 fitted by statsmodels
(sktime's ``StatsModelsARIMA``; sktime's pmdarima-based ``ARIMA`` needs the optional pmdarima
package).
"""

import matplotlib.pyplot as plt
import pandas as pd
from sktime.datasets import load_airline
from sktime.forecasting.arima import StatsModelsARIMA
from sktime.forecasting.compose import TransformedTargetForecaster
from sktime.forecasting.model_evaluation import evaluate
from sktime.performance_metrics.forecasting import MeanAbsolutePercentageError
from sktime.split import ExpandingWindowSplitter
from sktime.transformations.series.boxcox import LogTransformer
from sktime.transformations.series.difference import Differencer

from seqestim import ARMACellForecaster
from seqestim.sktime import SeqestimForecaster

y = load_airline()
cv = ExpandingWindowSplitter(initial_window=96, step_length=12, fh=list(range(1, 13)))
print(f"{cv.get_n_splits(y)} folds, 12 steps ahead each")

# %%
# The two forecasters. The ARMA cell reads the last 24 months of the log series, seasonally
# differenced (the same transformation the seasonal ARIMA applies inside), and forecasts 12
# months at once.
neural = TransformedTargetForecaster(
    [
        ("log", LogTransformer()),
        ("deseasonalise", Differencer(lags=12)),
        (
            "arma",
            SeqestimForecaster(
                ARMACellForecaster(
                    p=3, q=2, window_length=24, horizon=12, max_epochs=60, lr=0.01, random_state=0
                )
            ),
        ),
    ]
)
arima = TransformedTargetForecaster(
    [
        ("log", LogTransformer()),
        ("arima", StatsModelsARIMA(order=(1, 1, 0), seasonal_order=(0, 1, 0, 12))),
    ]
)

# %%
# Backtest both with the same splitter and metric.
metric = MeanAbsolutePercentageError()
results = {}
for name, forecaster in {"ARMACellForecaster": neural, "ARIMA (statsmodels)": arima}.items():
    scores = evaluate(forecaster, cv, y, scoring=metric, return_data=True)
    results[name] = scores
    mape = scores["test_MeanAbsolutePercentageError"]
    print(f"{name:22s} MAPE per fold: {mape.round(3).tolist()}  mean {mape.mean():.3f}")

table = pd.DataFrame(
    {name: r["test_MeanAbsolutePercentageError"].to_numpy() for name, r in results.items()}
)
table.index.name = "fold"
print(table.round(3))

# %%
# The forecasts of the last fold against the truth.
fig, ax = plt.subplots(figsize=(8, 3.5))
y.plot(ax=ax, color="black", label="airline")
for name, scores in results.items():
    scores["y_pred"].iloc[-1].plot(ax=ax, label=name)
ax.set_ylabel("passengers (thousands)")
ax.legend()
fig.tight_layout()
plt.show()
