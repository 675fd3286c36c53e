"""Rolling-origin comparison and backtests of forecasters over sklearn's time-series splitters."""

from __future__ import annotations

import numbers
import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning

from seqestim.estimators._series import _as_float_2d, _check_levels, check_fh
from seqestim.model_selection._metrics import (
    FORECAST_METRICS,
    INTERVAL_METRICS,
    _compute,
    empirical_coverage,
    interval_score,
    mean_scaled_interval_score,
    pinball_loss,
)

__all__ = ["compare_forecasters", "historical_forecasts", "plot_forecasts"]

#: The metrics of :func:`compare_forecasters` by default.
DEFAULT_METRICS = ("mae", "rmse", "mase", "smape", "coverage", "msis")


def _take(data, rows: np.ndarray):
    """Rows ``rows`` of an array or pandas object, keeping its type and index."""
    if isinstance(data, pd.Series | pd.DataFrame):
        return data.iloc[rows]
    return np.asarray(data)[rows]


def _check_metrics(metrics) -> tuple[str, ...]:
    if isinstance(metrics, str):
        metrics = (metrics,)  # one name, not a sequence of letters
    try:
        metrics = tuple(metrics)
    except TypeError:
        raise TypeError(
            f"metrics must be a metric name or a sequence of names; got {metrics!r}."
        ) from None
    known = sorted(FORECAST_METRICS) + list(INTERVAL_METRICS)
    for metric in metrics:
        if metric not in FORECAST_METRICS and metric not in INTERVAL_METRICS:
            raise ValueError(f"Unknown metric {metric!r}; expected one of {known}.")
    if not metrics:
        raise ValueError(f"metrics is empty; name at least one of {known}.")
    return metrics


def _check_error_score(error_score):
    if isinstance(error_score, str):
        if error_score != "raise":
            raise ValueError(f"error_score must be 'raise' or a number; got {error_score!r}.")
        return error_score
    if not isinstance(error_score, numbers.Real) or isinstance(error_score, bool):
        raise ValueError(f"error_score must be 'raise' or a number; got {error_score!r}.")
    return float(error_score)


def _check_X_rows(X, n: int):
    if X is None:
        return None
    n_rows = len(X) if hasattr(X, "__len__") else None
    if n_rows != n:
        raise ValueError(
            f"X must have one row per observation of y: y has {n} rows, X has {n_rows}."
        )
    return X


def _folds(cv, values: np.ndarray, wanted):
    """``(fold, train, steps)`` of every usable split: contiguous training rows, steps ahead."""
    from sklearn.model_selection import TimeSeriesSplit

    if cv is None:
        cv = TimeSeriesSplit(5)
    elif isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        cv = TimeSeriesSplit(int(cv))
    folds = []
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
            steps = steps[np.isin(steps, wanted)]
            if steps.size == 0:
                continue
        folds.append((fold, train, steps))
    if not folds:
        raise ValueError("The splitter produced no usable fold for this series and fh.")
    return folds


class _Progress:
    """``[done/total] label: ... elapsed, ETA`` lines on stderr (``verbose >= 1``)."""

    def __init__(self, total: int, verbose: int):
        self.total, self.verbose, self.done = total, verbose, 0
        self.start = time.perf_counter()

    def step(self, label: str, detail: str) -> None:
        self.done += 1
        if not self.verbose:
            return
        elapsed = time.perf_counter() - self.start
        remaining = elapsed / self.done * (self.total - self.done)
        print(
            f"[{self.done}/{self.total}] {label}: {detail}; elapsed {_duration(elapsed)}, "
            f"ETA {_duration(remaining)}",
            file=sys.stderr,
            flush=True,
        )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s"


def compare_forecasters(
    estimators,
    y,
    *,
    cv=None,
    fh=None,
    metrics=DEFAULT_METRICS,
    X=None,
    sp: int = 1,
    coverage: float = 0.9,
    alpha=(0.05, 0.25, 0.5, 0.75, 0.95),
    refit: bool = True,
    error_score=np.nan,
    verbose: int = 0,
    return_forecasts: bool = False,
    return_intervals: bool = False,
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
    metrics : str or sequence of str, default=("mae", "rmse", "mase", "smape", "coverage", "msis")
        Point metrics from :data:`seqestim.model_selection.FORECAST_METRICS` and interval
        metrics from :data:`seqestim.model_selection.INTERVAL_METRICS`: ``"coverage"`` (share
        of the truth inside the ``coverage`` interval), ``"interval_score"``, ``"msis"`` (the
        interval score over the MASE scale) and ``"pinball"`` (at the levels ``alpha``). A
        forecaster without probabilistic forecasts gets NaN for these.
    X : array-like, optional
        Exogenous variables aligned with ``y`` (one row per observation); the rows of each fold
        are passed to ``fit`` and the rows after the training part to ``predict``.
    sp : int, default=1
        Seasonal period of the MASE and MSIS scales.
    coverage : float, default=0.9
        Nominal coverage of the intervals scored.
    alpha : sequence of float, default=(0.05, 0.25, 0.5, 0.75, 0.95)
        Quantile levels of the pinball loss.
    refit : bool, default=True
        Fit every forecaster on every fold. With False, each forecaster is fitted once, on the
        first fold's training part, and forecasts every later origin from the observations up
        to it without retraining (all origins in one batched call; see
        :func:`historical_forecasts`); ``fit_time`` is then that one fit, on fold 0.
    error_score : "raise" or float, default=np.nan
        What a model and fold whose fit or forecast fails scores. By default the failure is
        recorded in the ``error`` column, its metrics are NaN, the other models and folds go
        on, and a ``FitFailedWarning`` at the end lists the failures; ``"raise"`` re-raises the
        first one, as in sklearn.
    verbose : int, default=0
        1 prints one line per model and fold to stderr, with the elapsed time and an ETA.
    return_forecasts : bool, default=False
        Also return the forecasts: a dict ``name -> list`` with one forecast per fold (None for
        a failed one), as returned by ``predict`` for pandas ``y``; for array ``y`` a
        ``pd.Series``/``DataFrame`` indexed by the positions in ``y``, so that
        :func:`plot_forecasts` can place them.
    return_intervals : bool, default=False
        Also return the ``coverage`` intervals: a dict ``name -> list`` of sktime-format
        interval frames per fold (None where a model gives none), indexed like the forecasts.

    Returns
    -------
    results : pd.DataFrame
        One row per model and fold with columns ``model``, ``fold``, ``train_start``,
        ``train_end`` (positions), ``n_train``, ``n_test``, ``fit_time``, ``predict_time``
        (seconds), one column per metric and ``error`` (None, or the exception of a failed
        fit or forecast). ``results.groupby("model").mean(numeric_only=True)`` gives the usual
        summary table.
    forecasts : dict
        Only with ``return_forecasts=True``.
    intervals : dict
        Only with ``return_intervals=True`` (after ``forecasts`` when both are asked for).
    """
    if not isinstance(estimators, dict) or not estimators:
        raise ValueError("estimators must be a non-empty dict of name -> forecaster.")
    metrics = _check_metrics(metrics)
    error_score = _check_error_score(error_score)
    values = _as_float_2d(y, "y")
    X = _check_X_rows(X, values.shape[0])
    wanted = None if fh is None else check_fh(fh)
    folds = _folds(cv, values, wanted)
    want_intervals = return_intervals or any(m in INTERVAL_METRICS for m in metrics)
    context = _Context(y, values, X, metrics, sp, coverage, np.asarray(alpha, dtype=float))
    context.want_intervals = want_intervals

    rows, failures = [], []
    forecasts = {name: [] for name in estimators}
    intervals = {name: [] for name in estimators}
    total = len(estimators) * len(folds)
    progress = _Progress(total, verbose)
    for name, estimator in estimators.items():
        runs = (
            _run_refit(name, estimator, folds, context, error_score, progress)
            if refit
            else _run_no_refit(name, estimator, folds, context, error_score, progress)
        )
        for row, forecast, interval in runs:
            rows.append(row)
            forecasts[name].append(forecast)
            intervals[name].append(interval)
            if row["error"] is not None:
                failures.append(f"{name}, fold {row['fold']}: {row['error']}")
    if failures:
        shown = "\n".join(failures[:5]) + ("\n..." if len(failures) > 5 else "")
        warnings.warn(
            f"{len(failures)} of {total} fits or forecasts failed; their scores are "
            f"{error_score} and the error column says why:\n{shown}",
            FitFailedWarning,
            stacklevel=2,
        )
    # fold by fold, the models in the order given
    results = pd.DataFrame(rows).sort_values("fold", kind="stable").reset_index(drop=True)
    extra = []
    if return_forecasts:
        extra.append(forecasts)
    if return_intervals:
        extra.append(intervals)
    return (results, *extra) if extra else results


class _Context:
    """What every model and fold needs: the data, the metrics and how to score them."""

    def __init__(self, y, values, X, metrics, sp, coverage, alpha):
        self.y, self.values, self.X = y, values, X
        self.metrics, self.sp, self.coverage, self.alpha = metrics, sp, coverage, alpha
        self.want_intervals = False

    def fold_data(self, train, steps):
        end = int(train.max())
        X_train = None if self.X is None else _take(self.X, train)
        X_future = (
            None if self.X is None else _take(self.X, np.arange(end + 1, end + steps.max() + 1))
        )
        return end, _take(self.y, train), X_train, X_future

    def row(self, name, fold, train, steps):
        return {
            "model": name,
            "fold": fold,
            "train_start": int(train.min()),
            "train_end": int(train.max()),
            "n_train": int(train.size),
            "n_test": int(steps.size),
            "fit_time": np.nan,
            "predict_time": np.nan,
        }

    def score(self, row, train, steps, y_pred, lower, upper, quantiles):
        end = int(train.max())
        y_true, y_train = self.values[end + steps], self.values[train]
        for metric in self.metrics:
            if metric in FORECAST_METRICS:
                row[metric] = _compute(metric, y_true, y_pred, y_train, self.sp)
            elif metric == "pinball":
                row[metric] = (
                    np.nan if quantiles is None else pinball_loss(y_true, quantiles, self.alpha)
                )
            elif lower is None:
                row[metric] = np.nan
            elif metric == "coverage":
                row[metric] = empirical_coverage(y_true, lower, upper)
            elif metric == "interval_score":
                row[metric] = interval_score(y_true, lower, upper, self.coverage)
            else:  # msis
                row[metric] = mean_scaled_interval_score(
                    y_true, lower, upper, y_train, self.coverage, self.sp
                )
        row["error"] = None

    def fail(self, row, error, error_score):
        for metric in self.metrics:
            row[metric] = error_score
        row["error"] = f"{type(error).__name__}: {error}"

    def place(self, prediction, steps, end):
        """Give an array forecast the positions in ``y`` as its index (pandas is kept)."""
        if isinstance(prediction, pd.Series | pd.DataFrame):
            return prediction
        frame = pd.DataFrame(_as_float_2d(prediction, "prediction"), index=pd.Index(end + steps))
        return frame.iloc[:, 0] if np.ndim(prediction) == 1 else frame


def _intervals_of(model, steps, X_future, context):
    """``(interval frame, lower, upper, quantiles)``; Nones when the model gives no intervals."""
    if not context.want_intervals:
        return None, None, None, None
    kwargs = {} if X_future is None else {"X": X_future}
    try:
        frame = model.predict_interval(steps, coverage=context.coverage, **kwargs)
    except NotImplementedError:
        return None, None, None, None
    bounds = frame.to_numpy(dtype=np.float64).reshape(len(steps), -1, 2)  # (h, k, lower/upper)
    quantiles = None
    if "pinball" in context.metrics:
        q = model.predict_quantiles(steps, alpha=context.alpha, **kwargs)
        quantiles = q.to_numpy(dtype=np.float64).reshape(len(steps), -1, len(context.alpha))
    return frame, bounds[..., 0], bounds[..., 1], quantiles


def _run_refit(name, estimator, folds, context, error_score, progress):
    for fold, train, steps in folds:
        end, y_train, X_train, X_future = context.fold_data(train, steps)
        row = context.row(name, fold, train, steps)
        forecast = interval = None
        try:
            model = clone(estimator)
            start = time.perf_counter()
            model.fit(y_train, X=X_train) if X_train is not None else model.fit(y_train)
            row["fit_time"] = time.perf_counter() - start
            start = time.perf_counter()
            kwargs = {} if X_future is None else {"X": X_future}
            prediction = model.predict(steps, **kwargs)
            interval, lower, upper, quantiles = _intervals_of(model, steps, X_future, context)
            row["predict_time"] = time.perf_counter() - start
            y_pred = _as_float_2d(prediction, "prediction")
            context.score(row, train, steps, y_pred, lower, upper, quantiles)
            forecast = context.place(prediction, steps, end)
            if interval is not None and not isinstance(prediction, pd.Series | pd.DataFrame):
                interval.index = forecast.index
        except Exception as error:
            if error_score == "raise":
                raise
            context.fail(row, error, error_score)
        progress.step(f"{name}, fold {fold}", _timings(row))
        yield row, forecast, interval


def _run_no_refit(name, estimator, folds, context, error_score, progress):
    _fold0, train0, steps0 = folds[0]
    _, y_train, X_train, _ = context.fold_data(train0, steps0)
    rows = [context.row(name, fold, train, steps) for fold, train, steps in folds]
    try:
        model = clone(estimator)
        start = time.perf_counter()
        model.fit(y_train, X=X_train) if X_train is not None else model.fit(y_train)
        rows[0]["fit_time"] = time.perf_counter() - start
        for row in rows[1:]:
            row["fit_time"] = 0.0
        origins = [int(train.max()) for _, train, _ in folds]
        max_step = max(int(steps.max()) for _, _, steps in folds)
        start = time.perf_counter()
        points, bounds = _from_origins(model, context, origins, max_step)
        elapsed = (time.perf_counter() - start) / len(folds)
    except Exception as error:
        if error_score == "raise":
            raise
        for (fold, _, _), row in zip(folds, rows, strict=True):
            context.fail(row, error, error_score)
            progress.step(f"{name}, fold {fold}", "failed")
            yield row, None, None
        return
    for i, ((fold, train, steps), row) in enumerate(zip(folds, rows, strict=True)):
        end = int(train.max())
        row["predict_time"] = elapsed
        y_pred = points[i, steps - 1]
        lower = upper = quantiles = None
        if bounds is not None:
            lower, upper = bounds[i, steps - 1, :, 0], bounds[i, steps - 1, :, 1]
            if "pinball" in context.metrics:
                quantiles = bounds[i, steps - 1, :, 2:]
        interval = None
        try:
            context.score(row, train, steps, y_pred, lower, upper, quantiles)
        except Exception as error:
            if error_score == "raise":
                raise
            context.fail(row, error, error_score)
        forecast = _frame_like(context.y, y_pred, _index_after(context.y, end, steps))
        if lower is not None:
            interval = _interval_frame(context.y, lower, upper, context.coverage, forecast.index)
        progress.step(f"{name}, fold {fold}", _timings(row))
        yield row, forecast, interval


def _from_origins(model, context, origins, max_step):
    """Point forecasts (B, max_step, k) and bounds (B, max_step, k, 2 [+ A]) or None."""
    steps = np.arange(1, max_step + 1)
    histories = [context.values[: end + 1] for end in origins]
    X_histories = X_futures = None
    if context.X is not None:
        X_all = _as_float_2d(context.X, "X")
        X_histories = [X_all[: end + 1] for end in origins]
        X_futures = [X_all[end + 1 : end + 1 + max_step] for end in origins]
    levels = None
    if context.want_intervals:
        c = context.coverage
        levels = np.r_[(1 - c) / 2, (1 + c) / 2]
        if "pinball" in context.metrics:
            levels = np.r_[levels, context.alpha]
    points, quantiles = _forecast_from(model, histories, X_histories, steps, X_futures, levels)
    return points, quantiles


def _forecast_from(model, histories, X_histories, steps, X_futures, levels):
    """The model's batched forecasts from many histories; quantiles None when it has none."""
    if levels is None:
        return model._forecast_from(histories, X_histories, steps, X_futures)[0], None
    try:
        return model._forecast_from(histories, X_histories, steps, X_futures, alpha=levels)
    except NotImplementedError:
        points, _ = model._forecast_from(histories, X_histories, steps, X_futures)
        return points, None


def _timings(row) -> str:
    if row.get("error"):
        return "failed"
    return f"fit {row['fit_time']:.1f} s, predict {row['predict_time']:.2f} s"


def _index_after(y, end: int, steps: np.ndarray) -> pd.Index:
    """Index labels of the steps ``steps`` after position ``end`` of ``y`` (arrays: positions)."""
    from seqestim.estimators._series import _infer_freq, _SeriesMeta, future_index

    if not isinstance(y, pd.Series | pd.DataFrame):
        return pd.Index(end + steps)
    index = y.index[: end + 1]
    meta = _SeriesMeta("series", index=index[-3:], n=end + 1)
    if isinstance(index, pd.DatetimeIndex):
        meta.freq = _infer_freq(y.index)
    return future_index(meta, steps)


def _frame_like(y, values: np.ndarray, index: pd.Index):
    if isinstance(y, pd.Series):
        return pd.Series(values[:, 0], index=index, name=y.name)
    if isinstance(y, pd.DataFrame):
        return pd.DataFrame(values, index=index, columns=y.columns)
    if np.ndim(y) == 1:
        return pd.Series(values[:, 0], index=index)
    return pd.DataFrame(values, index=index)


def _variable_names(y, k: int) -> list:
    if isinstance(y, pd.Series):
        return [0 if y.name is None else y.name]
    if isinstance(y, pd.DataFrame):
        return list(y.columns)
    return list(range(k))


def _interval_frame(y, lower, upper, coverage, index):
    k = lower.shape[1]
    columns = pd.MultiIndex.from_product([_variable_names(y, k), [coverage], ["lower", "upper"]])
    values = np.stack([lower, upper], axis=-1).reshape(len(index), -1)
    return pd.DataFrame(values, index=index, columns=columns)


def historical_forecasts(forecaster, y, origins, *, fh=None, X=None, coverage=None):
    """Forecasts of a fitted forecaster from many origins, without refitting it.

    The forecaster keeps its fitted parameters and, for every origin, reads the observations of
    ``y`` up to and including that origin, as if its training series had ended there. Neural
    forecasters do all origins together, one batched network pass per block of ``horizon``
    steps; the statsmodels baselines filter each history with their fitted parameters
    (``results.apply``); the naive ones restart from each history.

    Parameters
    ----------
    forecaster : fitted seqestim forecaster
    y : array-like, pd.Series or pd.DataFrame
        The series (its columns as at fit), typically the training series and what followed.
    origins : int or array-like of int
        Positions in ``y`` of the last observation each forecast may read; an int ``n`` means
        every position from ``n`` to the last one of ``y``.
    fh : int or array-like of int, optional
        Steps ahead of each origin; the forecaster's default horizon when None.
    X : array-like, optional
        Exogenous variables, one row per row of ``y``, covering the steps forecast (rows past
        the end of ``y`` may be appended to ``X`` for the last origins).
    coverage : float or sequence of float, optional
        Also return central intervals of these nominal coverages.

    Returns
    -------
    forecasts : pd.DataFrame
        Rows indexed by ``(cutoff, time)``, the origin's label and the forecast step's label
        (positions for arrays); one column per variable of ``y``. ``forecasts.loc[cutoff]`` is
        what ``predict`` returns after fitting on ``y`` up to ``cutoff`` without retraining.
    intervals : pd.DataFrame
        Only with ``coverage``: the same rows, sktime's interval columns.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(forecaster)
    values = _as_float_2d(y, "y")
    n = values.shape[0]
    if isinstance(origins, numbers.Integral) and not isinstance(origins, bool):
        origins = np.arange(int(origins), n)
    origins = np.asarray(origins).ravel()
    if origins.size == 0 or not np.issubdtype(origins.dtype, np.integer):
        raise ValueError(f"origins must be positions in y (integers); got {origins!r}.")
    if origins.min() < 0 or origins.max() >= n:
        raise ValueError(f"origins must lie in 0..{n - 1} (positions in y); got {origins}.")
    steps = check_fh(forecaster._default_fh() if fh is None else fh)
    max_step = int(steps.max())
    X_histories = X_futures = None
    if X is not None:
        X_all = _as_float_2d(X, "X")
        needed = int(origins.max()) + 1 + max_step
        if X_all.shape[0] < min(needed, n):
            raise ValueError(f"X must have a row per observation of y ({n}); got {X_all.shape[0]}.")
        X_histories = [X_all[: o + 1] for o in origins]
        X_futures = [X_all[o + 1 : o + 1 + max_step] for o in origins]
        short = [o for o, f in zip(origins, X_futures, strict=True) if len(f) < max_step]
        if short:
            raise ValueError(
                f"X does not cover the {max_step} step(s) after origin {short[0]}; append the "
                "future exogenous rows to X."
            )
    histories = [values[: o + 1] for o in origins]
    every = np.arange(1, max_step + 1)
    levels = None
    if coverage is not None:
        coverage = _check_levels(coverage, "coverage")
        levels = np.column_stack([(1 - coverage) / 2, (1 + coverage) / 2]).ravel()
    points, quantiles = forecaster._forecast_from(
        histories, X_histories, every, X_futures, **({} if levels is None else {"alpha": levels})
    )
    frames, interval_frames, keys = [], [], []
    for i, o in enumerate(origins):
        index = _index_after(y, int(o), steps)
        frames.append(_frame_like(y, points[i, steps - 1], index))
        keys.append(y.index[o] if isinstance(y, pd.Series | pd.DataFrame) else int(o))
        if levels is not None:
            q = quantiles[i, steps - 1]  # (h, k, 2C): lower, upper per coverage
            columns = pd.MultiIndex.from_product(
                [_variable_names(y, q.shape[1]), coverage.tolist(), ["lower", "upper"]]
            )
            interval_frames.append(
                pd.DataFrame(q.reshape(len(index), -1), index=index, columns=columns)
            )
    point_frame = pd.concat(
        [f.to_frame() if isinstance(f, pd.Series) else f for f in frames],
        keys=keys,
        names=["cutoff", "time"],
    )
    if levels is None:
        return point_frame
    return point_frame, pd.concat(interval_frames, keys=keys, names=["cutoff", "time"])


def plot_forecasts(y, forecasts, *, intervals=None, ax=None, title=None, y_label=None):
    """Plot a series, one or more forecasts of it, and their prediction intervals.

    Parameters
    ----------
    y : pd.Series, pd.DataFrame or array-like
        The truth (training and test parts). For a DataFrame only the first column is drawn.
    forecasts : dict of str -> forecast or list of forecasts
        pandas forecasts (placed by their index, which must be of the kind of ``y``'s index;
        for array ``y`` the positions) or lists of them, e.g. one per fold from
        ``compare_forecasters(..., return_forecasts=True)``. None entries (failed folds) are
        skipped.
    intervals : dict of str -> interval frame or list of them, optional
        sktime-format interval frames (``predict_interval``), drawn as shaded bands in the
        colour of the forecast of the same name; the first variable and the first coverage.
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

    def _x(index):
        return index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index

    def _xy(series):
        if isinstance(series, pd.DataFrame):
            series = series.iloc[:, 0]
        if isinstance(series, pd.Series):
            return _x(series.index), series.to_numpy(dtype=float)
        array = np.asarray(series, dtype=float)
        if array.ndim == 2:
            array = array[:, 0]
        return np.arange(len(array)), array

    def _pieces(value):
        pieces = value if isinstance(value, list | tuple) else [value]
        return [p for p in pieces if p is not None]

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    x, values = _xy(y)
    ax.plot(x, values, color="black", linewidth=1.2, label="truth")
    colors = {name: f"C{i}" for i, name in enumerate(forecasts)}
    for name, forecast in forecasts.items():
        for i, piece in enumerate(_pieces(forecast)):
            if not isinstance(piece, pd.Series | pd.DataFrame):
                raise TypeError(
                    f"Forecast {name!r} is a {type(piece).__name__}; plot_forecasts needs pandas "
                    "forecasts whose index places them on the time axis."
                )
            fx, fy = _xy(piece)
            ax.plot(fx, fy, color=colors[name], linewidth=1.2, label=name if i == 0 else None)
    for name, bands in (intervals or {}).items():
        color = colors.get(name, "grey")
        for i, band in enumerate(_pieces(bands)):
            if not isinstance(band, pd.DataFrame) or band.columns.nlevels != 3:
                raise TypeError(
                    f"Intervals {name!r} must be predict_interval frames (columns: variable, "
                    "coverage, lower/upper)."
                )
            variable, level = band.columns[0][:2]
            lower = band[(variable, level, "lower")].to_numpy(dtype=float)
            upper = band[(variable, level, "upper")].to_numpy(dtype=float)
            label = f"{name} {level:.0%}" if i == 0 and isinstance(level, float) else None
            ax.fill_between(
                _x(band.index), lower, upper, color=color, alpha=0.2, linewidth=0, label=label
            )
    ax.legend(loc="best")
    if title:
        ax.set_title(title)
    if y_label:
        ax.set_ylabel(y_label)
    return ax
