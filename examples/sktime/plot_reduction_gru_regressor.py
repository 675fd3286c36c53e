"""
A neural regressor as a reduction forecaster
============================================

``make_reduction`` turns any scikit-learn regressor into a forecaster: it cuts the series into
windows of ``window_length`` past values and regresses the next value on them. The core
``seqestim.GRURegressor`` reads such a window as one univariate sequence of length 24, so the
recurrent network sees the order of the lags, which a tabular regressor does not.
"""

import matplotlib.pyplot as plt
from sktime.datasets import load_airline
from sktime.forecasting.compose import TransformedTargetForecaster, make_reduction
from sktime.forecasting.naive import NaiveForecaster
from sktime.performance_metrics.forecasting import mean_absolute_percentage_error
from sktime.split import temporal_train_test_split
from sktime.transformations.series.boxcox import LogTransformer
from sktime.transformations.series.detrend import Detrender

from seqestim import GRURegressor

y = load_airline()
y_train, y_test = temporal_train_test_split(y, test_size=24)
fh = list(range(1, 25))

# %%
# The GRU regressor inside ``make_reduction`` (recursive strategy: one step ahead, fed back),
# on the log series with its linear trend removed.
regressor = GRURegressor(d_model=32, max_epochs=150, lr=0.005, random_state=0)
gru = TransformedTargetForecaster(
    [
        ("log", LogTransformer()),
        ("detrend", Detrender()),
        ("gru", make_reduction(regressor, window_length=24, strategy="recursive")),
    ]
)
gru.fit(y_train)
y_gru = gru.predict(fh)

# %%
# The seasonal naive forecast is the yardstick.
naive = NaiveForecaster(strategy="last", sp=12).fit(y_train)
y_naive = naive.predict(fh)

for name, y_pred in {"GRURegressor reduction": y_gru, "seasonal naive": y_naive}.items():
    print(f"{name:24s} MAPE {mean_absolute_percentage_error(y_test, y_pred):.3f}")

fig, ax = plt.subplots(figsize=(8, 3.5))
y.plot(ax=ax, color="black", label="airline")
y_gru.plot(ax=ax, label="GRURegressor via make_reduction")
y_naive.plot(ax=ax, label="seasonal naive", linestyle="--")
ax.legend()
fig.tight_layout()
plt.show()
