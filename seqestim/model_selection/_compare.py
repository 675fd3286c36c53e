"""Rolling-origin comparison of forecasters over sklearn's time-series splitters."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.base import clone

from seqestim.estimators._series import _as_float_2d, check_fh
from seqestim.model_selection._metrics import FORECAST_METRICS, _compute

__all__ = ["compare_forecasters", "plot_forecasts"]


def _take(data, rows: np.ndarray):
    """Rows ``rows`` of an array or pandas object, keeping its type and index."""
    if isinstance(data, pd.Series | pd.DataFrame):
        return data.iloc[rows]
    return np.asarray(data)[rows]


def compare_forecasters(
    estimators,
    y,
    *,
    cv=None,
    fh=None,
    metrics=("mae", "rmse", "mase", "smape"),
    X=None,
    sp: int = 1,
    return_forecasts: bool = False,
):
    """Cross-validate several forecasters on the same rolling-origin folds.

    Each fold of ``cv`` gives training and test positions; every forecaster is cloned, fitted
    on the training part and asked for the test steps (``fh`` restricts them). Use
    ``TimeSeriesSplit(n_splits, test_size=h)`` for an expanding window and add
    ``max_train_size=w`` for a sliding one; any sklearn splitter whose test positions follow
    its training positions works.

    Parameters
    ----------
    estimators : dict of str -> forecaster
        Unfitted seqestim forecasters (anything with ``fit(y, X)``/``predict(fh, X)``), by name.
    y : array-like, pd.Series or pd.DataFrame
        The whole series.
    cv : int or sklearn splitter, default=None
        None means ``TimeSeriesSplit(5)``; an int ``n`` means ``TimeSeriesSplit(n)``.
    fh : int or array-like of int, optional
        Steps ahead (relative to the end of each training fold) to evaluate; None evaluates
        every test position of the fold.
    metrics : sequence of str, default=("mae", "rmse", "mase", "smape")
        Names from :data:`seqestim.model_selection.FORECAST_METRICS`.
    X : array-like, optional
        Exogenous variables aligned with ``y``; the rows of each fold are passed to ``fit``
        and the rows after the training part to ``predict``.
    sp : int, default=1
        Seasonal period of the MASE scale.
    return_forecasts : bool, default=False
        Also return the forecasts: a dict ``name -> list`` with one forecast per fold, as
        returned by ``predict`` for pandas ``y``; for array ``y`` a ``pd.Series``/``DataFrame``
        indexed by the positions in ``y``, so that :func:`plot_forecasts` can place them.

    Returns
    -------
    results : pd.DataFrame
        One row per model and fold with columns ``model``, ``fold``, ``train_start``,
        ``train_end`` (positions), ``n_train``, ``n_test``, ``fit_time``, ``predict_time``
        (seconds) and one column per metric. ``results.groupby("model").mean(numeric_only=True)``
        gives the usual summary table.
    forecasts : dict
        Only with ``return_forecasts=True``.
    """
    from sklearn.model_selection import TimeSeriesSplit

    if not isinstance(estimators, dict) or not estimators:
        raise ValueError("estimators must be a non-empty dict of name -> forecaster.")
    for metric in metrics:
        if metric not in FORECAST_METRICS:
            raise ValueError(
                f"Unknown metric {metric!r}; expected one of {sorted(FORECAST_METRICS)}."
            )
    if cv is None:
        cv = TimeSeriesSplit(5)
    elif isinstance(cv, int | np.integer):
        cv = TimeSeriesSplit(int(cv))
    values = _as_float_2d(y, "y")
    wanted = None if fh is None else check_fh(fh)
    rows, forecasts = [], {name: [] for name in estimators}
    for fold, (train, test) in enumerate(cv.split(values)):
        train, test = np.asarray(train), np.asarray(test)
        if train.size == 0 or test.size == 0:
            continue
        end = int(train.max())
        if not np.array_equal(train, np.arange(train.min(), end + 1)) or test.min() <= end:
            raise ValueError(
                "compare_forecasters needs contiguous training positions followed by the test "
                "positions (use TimeSeriesSplit or another rolling-origin splitter)."
            )
        steps = np.sort(test) - end  # steps ahead of the training cutoff
        if wanted is not None:
            keep = np.isin(steps, wanted)
            steps = steps[keep]
            if steps.size == 0:
                continue
        y_train, y_true = _take(y, train), values[end + steps]
        X_train = None if X is None else _take(X, train)
        X_future = None if X is None else _take(X, np.arange(end + 1, end + steps.max() + 1))
        for name, estimator in estimators.items():
            model = clone(estimator)
            start = time.perf_counter()
            model.fit(y_train, X=X_train) if X is not None else model.fit(y_train)
            fit_time = time.perf_counter() - start
            start = time.perf_counter()
            prediction = model.predict(steps, X=X_future) if X is not None else model.predict(steps)
            predict_time = time.perf_counter() - start
            y_pred = _as_float_2d(prediction, "prediction")
            row = {
                "model": name,
                "fold": fold,
                "train_start": int(train.min()),
                "train_end": end,
                "n_train": int(train.size),
                "n_test": int(steps.size),
                "fit_time": fit_time,
                "predict_time": predict_time,
            }
            for metric in metrics:
                row[metric] = _compute(metric, y_true, y_pred, values[train], sp)
            rows.append(row)
            if return_forecasts:
                if not isinstance(prediction, pd.Series | pd.DataFrame):
                    # arrays carry no index: place them at their positions in y
                    frame = pd.DataFrame(y_pred, index=pd.Index(end + steps))
                    prediction = frame.iloc[:, 0] if np.ndim(prediction) == 1 else frame
                forecasts[name].append(prediction)
    if not rows:
        raise ValueError("The splitter produced no usable fold for this series and fh.")
    results = pd.DataFrame(rows)
    return (results, forecasts) if return_forecasts else results


def plot_forecasts(y, forecasts, *, ax=None, title=None, y_label=None):
    """Plot a series and one or more forecasts of it.

    Parameters
    ----------
    y : pd.Series, pd.DataFrame or array-like
        The truth (training and test parts). For a DataFrame only the first column is drawn.
    forecasts : dict of str -> forecast or list of forecasts
        pandas forecasts (placed by their index, which must be of the kind of ``y``'s index;
        for array ``y`` the positions) or lists of them, e.g. one per fold from
        ``compare_forecasters(..., return_forecasts=True)``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made otherwise.
    title, y_label : str, optional
        Labels.

    Returns
    -------
    ax : matplotlib Axes
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ImportError(
            "plot_forecasts needs matplotlib: pip install 'seqestim[dev]' or matplotlib."
        ) from exc

    def _xy(series):
        if isinstance(series, pd.DataFrame):
            series = series.iloc[:, 0]
        if isinstance(series, pd.Series):
            index = series.index
            x = index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index
            return x, series.to_numpy(dtype=float)
        array = np.asarray(series, dtype=float)
        if array.ndim == 2:
            array = array[:, 0]
        return np.arange(len(array)), array

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    x, values = _xy(y)
    ax.plot(x, values, color="black", linewidth=1.2, label="truth")
    for color_index, (name, forecast) in enumerate(forecasts.items()):
        pieces = forecast if isinstance(forecast, list | tuple) else [forecast]
        color = f"C{color_index}"
        for i, piece in enumerate(pieces):
            if not isinstance(piece, pd.Series | pd.DataFrame):
                raise TypeError(
                    f"Forecast {name!r} is a {type(piece).__name__}; plot_forecasts needs pandas "
                    "forecasts whose index places them on the time axis."
                )
            fx, fy = _xy(piece)
            ax.plot(fx, fy, color=color, linewidth=1.2, label=name if i == 0 else None)
    ax.legend(loc="best")
    if title:
        ax.set_title(title)
    if y_label:
        ax.set_ylabel(y_label)
    return ax
