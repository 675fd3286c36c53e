"""Shared plumbing of every forecaster: series, horizon, index and exogenous-variable handling.

Every forecaster in seqestim (the statsmodels baselines in :mod:`seqestim.baselines` and the
neural forecasters in :mod:`seqestim.estimators`) derives from :class:`BaseForecaster`, which
implements the public interface once (ARCHITECTURE.md, "Forecasters"):

- ``fit(y, X=None)``: ``y`` is a 1D/2D array, a list, a ``pd.Series`` or a ``pd.DataFrame``
  (Datetime, Period, Range or integer index); ``X`` optional exogenous variables with one row per
  row of ``y``.
- ``predict(fh=None, X=None)``: ``fh`` is an int ``h`` (steps ``1..h``) or an array of positive
  steps ahead; the result has the type of ``y`` (Series, DataFrame, 1D or 2D array) and, for
  pandas, the future index continuing the training index.
- ``score(y, X=None)``: R² of the forecast of the ``len(y)`` steps right after the training
  data. Because ``fit`` takes the series as its first argument and ``score`` needs no second
  one, ``cross_val_score(forecaster, y, cv=TimeSeriesSplit(5))`` and
  ``GridSearchCV(forecaster, grid, cv=TimeSeriesSplit(3)).fit(y)`` work unchanged (sklearn
  passes the series as its ``X``).

How a subclass plugs in
-----------------------
A subclass is an ordinary sklearn estimator: ``__init__`` only stores its parameters. It
implements two private methods on plain numpy arrays and inherits everything else::

    class MyForecaster(BaseForecaster):
        def __init__(self, *, alpha=1.0):
            self.alpha = alpha

        def _fit(self, y, X=None):
            # y: (n, k) float64, finite; X: (n, m) float64 or None. Set fitted attributes
            # (names ending in "_") and return nothing.
            ...

        def _predict(self, steps, X=None):
            # steps: 1-D int64 array of steps ahead, each >= 1, any order (may repeat);
            # X: (max(steps), m) float64 exogenous rows for steps 1..max(steps), or None.
            # Return a (len(steps), k) array: row i forecasts step steps[i].
            ...

Optional hooks and class attributes:

- ``_min_samples(self) -> int``: shortest training series the model accepts (default 2); a
  shorter ``y`` gets a ``ValueError`` naming both numbers.
- ``_default_fh(self) -> int | array``: horizon used when ``predict`` gets ``fh=None``
  (default 1; a direct multi-step neural forecaster returns its ``horizon``).
- ``_y_kind``: ``"any"`` (default), ``"univariate"`` (``y`` must have one column) or
  ``"multivariate"`` (at least two columns).
- ``_supports_exog``: set False for models that cannot use exogenous variables; passing ``X``
  then raises a ``ValueError`` instead of being silently ignored.
- ``_predict_quantiles(self, steps, X, alpha) -> (len(steps), k, len(alpha))``: quantile
  forecasts; with it, :meth:`BaseForecaster.predict_quantiles` and
  :meth:`BaseForecaster.predict_interval` work (sktime's formats). Without it they raise
  ``NotImplementedError``.
- ``_predict_paths(self, horizon, X, n_paths, seed) -> (n_paths, horizon, k)``: sample paths,
  for wrappers that transform forecasts across steps (differencing).
- ``_forecast_from(self, histories, X_histories, steps, X_futures, alpha=None)``: forecasts
  after other histories with the fitted parameters (backtests without refitting).
- ``_fit_panel(self, panel)`` and ``_panel_points``/``_panel_quantiles``: several series at
  once (the ``Panel`` of this module); by default one clone per series.

After ``fit`` the base class has set ``n_series_`` (columns of ``y``), ``n_exog_`` (columns of
``X``, 0 without), ``n_train_`` (rows of ``y``), ``cutoff_`` (the last index label of ``y``, or
the last position for arrays) and the private ``_y_fit`` (the training values, ``(n, k)``),
which naive strategies and the MASE scorer use. Subclasses must not override ``fit``,
``predict`` or ``score``; anything model-specific belongs in ``_fit``/``_predict``.
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_is_fitted

from seqestim.estimators._transaction import transactional

__all__ = ["LONG_COLUMNS", "BaseForecaster", "Panel", "as_panel", "check_fh", "future_index"]


@dataclasses.dataclass
class _SeriesMeta:
    """What is needed to give predictions the type and index of the training series."""

    kind: str  # "series", "frame", "array1d", "array2d"
    name: Any = None  # Series name
    columns: Any = None  # DataFrame columns
    index: pd.Index | None = None  # the last few labels of the training index (pandas only)
    freq: Any = None  # frequency string of a DatetimeIndex (inferred when not set)
    n: int = 0


def _as_float_2d(values, what: str) -> np.ndarray:
    """Numeric (n, k) float64 array, with clear errors for non-numeric or non-finite values."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{what} must be numeric; could not convert it to floats ({exc})."
        ) from exc
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(
            f"{what} must be 1D or 2D (time x variables); got {array.ndim} dimensions."
        )
    if not np.isfinite(array).all():
        n_bad = int((~np.isfinite(array)).sum())
        raise ValueError(
            f"{what} contains {n_bad} NaN or infinite value(s); forecasters need finite values. "
            "Impute or drop them first (e.g. y.interpolate())."
        )
    return array


def check_fh(fh) -> np.ndarray:
    """Validate a forecasting horizon and return the steps ahead as a 1-D int64 array.

    Parameters
    ----------
    fh : int or array-like of int
        ``h`` means the steps ``1, ..., h``; an array lists the steps ahead explicitly.
        sktime's ``ForecastingHorizon`` (relative) is accepted through its ``to_numpy()``.

    Returns
    -------
    steps : ndarray of int64
        Each step is ``>= 1``.

    Raises
    ------
    ValueError
        If a step is not a positive integer or the horizon is empty.
    """
    if isinstance(fh, bool | np.bool_ | str | bytes):
        raise ValueError(f"fh must be a positive int or an array of positive ints, got {fh!r}.")
    if isinstance(fh, numbers.Integral):
        if fh < 1:
            raise ValueError(f"fh must be >= 1 (steps ahead of the training data), got {fh}.")
        return np.arange(1, int(fh) + 1, dtype=np.int64)
    if hasattr(fh, "to_numpy") and not isinstance(fh, pd.Index | pd.Series | np.ndarray):
        fh = fh.to_numpy()
    try:
        steps = np.asarray(fh)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise ValueError(f"fh must be an int or an array of ints, got {fh!r}.") from exc
    steps = steps.ravel()
    if steps.size == 0:
        raise ValueError("fh is empty; give at least one step ahead.")
    if not np.issubdtype(steps.dtype, np.number) or np.issubdtype(steps.dtype, np.complexfloating):
        raise ValueError(f"fh must contain integers (steps ahead), got dtype {steps.dtype}.")
    if not np.all(np.isfinite(steps)) or not np.all(steps == np.round(steps)):
        raise ValueError(f"fh must contain whole numbers of steps ahead, got {steps.tolist()}.")
    steps = steps.astype(np.int64)
    if steps.min() < 1:
        raise ValueError(
            f"fh must contain steps >= 1 (in-sample steps <= 0 are not supported), got "
            f"{steps.tolist()}."
        )
    return steps


def _check_levels(levels, name: str) -> np.ndarray:
    """Quantile levels or coverages as a 1-D float array, each strictly inside (0, 1)."""
    if isinstance(levels, str | bytes | bool | np.bool_):
        raise ValueError(
            f"{name} must be a float or a sequence of floats in (0, 1); got {levels!r}."
        )
    try:
        values = np.atleast_1d(np.asarray(levels, dtype=np.float64)).ravel()
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a float or a sequence of floats in (0, 1); got {levels!r}."
        ) from exc
    if values.size == 0 or not np.all((values > 0) & (values < 1)):
        raise ValueError(f"{name} must lie strictly between 0 and 1; got {values.tolist()}.")
    return values


def _infer_freq(index: pd.DatetimeIndex):
    if index.freq is not None:
        return index.freq
    if len(index) >= 3:
        freq = pd.infer_freq(index)
        if freq is not None:
            return pd.tseries.frequencies.to_offset(freq)
    return None


def future_index(meta: _SeriesMeta, steps: np.ndarray) -> pd.Index:
    """Index labels of the steps ``steps`` after the end of the training series."""
    labels = _future_labels(meta, steps)
    if meta.index is not None:
        labels = labels.rename(meta.index.name)
    return labels


def _future_labels(meta: _SeriesMeta, steps: np.ndarray) -> pd.Index:
    index = meta.index
    if isinstance(index, pd.PeriodIndex):
        return pd.PeriodIndex([index[-1] + int(s) for s in steps], freq=index.freq)
    if isinstance(index, pd.DatetimeIndex) and meta.freq is not None:
        freq = pd.tseries.frequencies.to_offset(meta.freq)  # an offset or its string
        return pd.DatetimeIndex([index[-1] + int(s) * freq for s in steps], tz=index.tz)
    if index is not None and pd.api.types.is_integer_dtype(index.dtype) and len(index) >= 1:
        step = 1
        if len(index) >= 2:
            diffs = np.diff(np.asarray(index, dtype=np.int64))
            if diffs.size and np.all(diffs == diffs[0]) and diffs[0] != 0:
                step = int(diffs[0])
        return pd.Index(int(index[-1]) + step * steps.astype(np.int64))
    # arrays, irregular datetimes, string labels: continue the positions
    return pd.Index(meta.n - 1 + steps.astype(np.int64))


class BaseForecaster(BaseEstimator):
    """Base class of all seqestim forecasters; see the module docstring for the contract.

    Subclasses implement ``_fit(y, X)`` and ``_predict(steps, X)`` on numpy arrays and inherit
    :meth:`fit`, :meth:`predict` and :meth:`score`.
    """

    _y_kind = "any"  # "any", "univariate", "multivariate"
    _supports_exog = True
    #: Attributes ``fit`` sets (the only ones ``seqestim.load`` restores); subclasses add theirs.
    _fitted_attributes = (
        "n_series_",
        "n_exog_",
        "n_train_",
        "cutoff_",
        "_y_meta",
        "_y_fit",
        "_panel",
    )

    # ------------------------------------------------------------------ hooks
    def _min_samples(self) -> int:
        """Fewest training observations the model accepts."""
        return 2

    def _default_fh(self):
        """Horizon used by :meth:`predict` when ``fh`` is None."""
        return 1

    def _fit(self, y: np.ndarray, X: np.ndarray | None) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict(
        self, steps: np.ndarray, X: np.ndarray | None
    ) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ input checks
    def _check_y(self, y, *, reset: bool):
        """Return ``(values (n, k) float64, meta)``; on ``reset`` also checks the model's needs."""
        if y is None:
            raise ValueError(f"{type(self).__name__}.fit needs a series y, got None.")
        if isinstance(y, pd.Series):
            meta = _SeriesMeta("series", name=y.name)
        elif isinstance(y, pd.DataFrame):
            meta = _SeriesMeta("frame", columns=y.columns)
        else:
            if isinstance(y, str | bytes):
                raise ValueError("y must be a numeric series, got a string.")
            y = np.asarray(y)
            meta = _SeriesMeta("array1d" if y.ndim == 1 else "array2d")
        values = _as_float_2d(y, "y")
        n, k = values.shape
        meta.n = n
        if isinstance(y, pd.Series | pd.DataFrame):
            index = y.index
            if isinstance(index, pd.DatetimeIndex):
                freq = _infer_freq(index)
                meta.freq = None if freq is None else freq.freqstr  # a string: saved as JSON
                if meta.freq is None and reset:
                    warnings.warn(
                        "Could not infer the frequency of y's DatetimeIndex; predictions get an "
                        "integer index continuing the positions. Set y.index.freq to fix this.",
                        UserWarning,
                        stacklevel=3,
                    )
            meta.index = index[-3:]  # enough to continue it; keeps the fitted object small
        if n == 0:
            raise ValueError("y is empty; a forecaster needs at least one observation.")
        if reset:
            if k == 0:
                raise ValueError("y has no columns.")
            if self._y_kind == "univariate" and k != 1:
                raise ValueError(
                    f"{type(self).__name__} forecasts one series, but y has {k} columns; use "
                    "VARMAForecaster or a neural forecaster for several series."
                )
            if self._y_kind == "multivariate" and k < 2:
                raise ValueError(
                    f"{type(self).__name__} models several series jointly and needs y with at "
                    f"least 2 columns, got {k}. Use ARIMAForecaster for one series."
                )
            minimum = int(self._min_samples())
            if n < minimum:
                raise ValueError(
                    f"y has {n} observations, but {type(self).__name__} with these parameters "
                    f"needs at least {minimum}."
                )
        elif k != self.n_series_:
            raise ValueError(
                f"y has {k} columns, but the forecaster was fitted on {self.n_series_}."
            )
        return values, meta

    def _check_X(self, X, n_rows: int, *, reset: bool) -> np.ndarray | None:
        """Check exogenous variables: ``n_rows`` rows at fit, at least ``n_rows`` at predict."""
        name = type(self).__name__
        if X is None:
            if not reset and self.n_exog_ > 0:
                raise ValueError(
                    f"{name} was fitted with {self.n_exog_} exogenous variable(s) X; predict and "
                    f"score need their future values too (X with at least {n_rows} row(s))."
                )
            return None
        if not self._supports_exog:
            raise ValueError(f"{name} does not use exogenous variables; call it without X.")
        if not reset and self.n_exog_ == 0:
            raise ValueError(f"{name} was fitted without exogenous variables; do not pass X now.")
        values = _as_float_2d(X, "X (exogenous variables)")
        if reset:
            if values.shape[0] != n_rows:
                raise ValueError(
                    f"X must have one row per observation of y: y has {n_rows}, X has "
                    f"{values.shape[0]}."
                )
            if values.shape[1] == 0:
                raise ValueError("X has no columns.")
            return values
        if values.shape[1] != self.n_exog_:
            raise ValueError(
                f"X has {values.shape[1]} column(s), but {name} was fitted with {self.n_exog_}."
            )
        if values.shape[0] < n_rows:
            raise ValueError(
                f"X must cover every step up to the horizon: it needs {n_rows} row(s) (steps "
                f"1..{n_rows} after the training data), got {values.shape[0]}."
            )
        return values[:n_rows]

    # ------------------------------------------------------------------ public interface
    @transactional
    def fit(self, y, X=None):
        """Fit the forecaster to the series ``y``.

        Parameters
        ----------
        y : array-like of shape (n_timepoints,) or (n_timepoints, n_series), or pandas object
            The training series, oldest first. A pandas index (Datetime, Period, Range) is kept
            so that predictions carry the future index. Several series: a list of series, an
            sktime multi-index frame, or a long frame with ``unique_id``, ``ds`` and ``y``
            (see "several series" in :mod:`seqestim.estimators._series`); neural forecasters
            fit one global network on them, the others one model per series.
        X : array-like of shape (n_timepoints, n_exog), optional
            Exogenous variables, one row per row of ``y`` (for several series, in their
            layout).

        Returns
        -------
        self : object
            The fitted forecaster.
        """
        if is_panel(y):  # several series: see the end of this module
            self._fit_panel(as_panel(y, X))
            return self
        vars(self).pop("_panel", None)  # a single series after a fit on several
        values, meta = self._check_y(y, reset=True)
        X_values = self._check_X(X, values.shape[0], reset=True)
        self._y_meta = meta
        self._y_fit = values
        self.n_series_ = values.shape[1]
        self.n_exog_ = 0 if X_values is None else X_values.shape[1]
        self.n_train_ = values.shape[0]
        self.cutoff_ = meta.index[-1] if meta.index is not None else values.shape[0] - 1
        self._fit(values, X_values)
        return self

    def _forecast(self, steps: np.ndarray, X) -> np.ndarray:
        check_is_fitted(self, "n_series_")
        X_future = self._check_X(X, int(steps.max()), reset=False)
        values = np.asarray(self._predict(steps, X_future), dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        expected = (len(steps), self.n_series_)
        if values.shape != expected:  # pragma: no cover - a bug in a subclass
            raise RuntimeError(
                f"{type(self).__name__}._predict returned shape {values.shape}, "
                f"expected {expected}."
            )
        return values

    def predict(self, fh=None, X=None):
        """Forecast the steps ``fh`` after the end of the training series.

        Parameters
        ----------
        fh : int or array-like of int, optional
            ``h`` forecasts steps ``1..h``; an array gives the steps ahead explicitly (each
            ``>= 1``). Defaults to the forecaster's own horizon (1 for most models).
        X : array-like of shape (n_steps, n_exog), optional
            Future exogenous variables, row ``i`` for step ``i + 1``; required (with at least
            ``max(fh)`` rows) when the forecaster was fitted with ``X``.

        Returns
        -------
        y_pred : same type as the training ``y``
            One row per step of ``fh``; pandas outputs carry the future index.
        """
        check_is_fitted(self, "n_series_")
        steps = check_fh(self._default_fh() if fh is None else fh)
        if getattr(self, "_panel", None) is not None:
            return self._predict_panel(steps, X)
        values = self._forecast(steps, X)
        return self._wrap(values, steps)

    def _wrap(self, values: np.ndarray, steps: np.ndarray):
        """Give forecasts the type of the training ``y`` (and its future index)."""
        meta = self._y_meta
        if meta.kind == "array1d":
            return values[:, 0]
        if meta.kind == "array2d":
            return values
        index = future_index(meta, steps)
        if meta.kind == "series":
            return pd.Series(values[:, 0], index=index, name=meta.name)
        return pd.DataFrame(values, index=index, columns=meta.columns)

    def score(self, y, X=None):
        """R² of the forecast of ``y``, the observations right after the training data.

        Parameters
        ----------
        y : array-like or pandas object
            The ``len(y)`` observations that follow the training series (steps ``1..len(y)``).
        X : array-like, optional
            Exogenous variables for those steps, when the forecaster was fitted with ``X``.

        Returns
        -------
        score : float
            :func:`sklearn.metrics.r2_score` of the forecasts (averaged over series).
        """
        check_is_fitted(self, "n_series_")
        if getattr(self, "_panel", None) is not None:
            raise ValueError(
                f"{type(self).__name__} was fitted on several series; score one series at a time "
                "or use seqestim.model_selection.compare_forecasters."
            )
        values, _ = self._check_y(y, reset=False)
        steps = np.arange(1, values.shape[0] + 1, dtype=np.int64)
        y_pred = self._forecast(steps, X)
        return float(r2_score(values, y_pred))

    # ------------------------------------------------------------------ probabilistic forecasts
    def _predict_quantiles(self, steps: np.ndarray, X, alpha: np.ndarray) -> np.ndarray:
        """Quantiles ``(len(steps), k, len(alpha))`` at levels ``alpha``; override to offer them."""
        raise NotImplementedError(
            f"{type(self).__name__} gives point forecasts only; it has no predict_quantiles or "
            "predict_interval."
        )

    def _predict_paths(self, horizon: int, X, n_paths: int, seed: int) -> np.ndarray:
        """Sample paths ``(n_paths, horizon, k)`` of steps ``1..horizon``; override to offer them.

        Wrappers that transform the forecasts non-linearly across steps (differencing) read
        their quantiles off these paths.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot draw sample paths.")

    def _forecast_from(self, histories, X_histories, steps, X_futures, alpha=None):
        """Forecasts from the end of other histories with the fitted parameters (no refit).

        Parameters
        ----------
        histories : list of ndarray (n_i, k)
            Series with the columns of the training ``y``, each ending at an origin.
        X_histories, X_futures : list of ndarray or None
            Exogenous rows of each history, and of the steps ``1..max(steps)`` after it.
        steps : ndarray of int
        alpha : ndarray, optional
            Also return quantiles at these levels.

        Returns
        -------
        points : ndarray (B, len(steps), k)
        quantiles : ndarray (B, len(steps), k, len(alpha)) or None
        """
        raise NotImplementedError(
            f"{type(self).__name__} cannot forecast from a new history without refitting; "
            "use refit=True."
        )

    def predict_quantiles(self, fh=None, X=None, alpha=(0.05, 0.5, 0.95)):
        """Quantile forecasts of the steps ``fh``, in sktime's format.

        Parameters
        ----------
        fh : int or array-like of int, optional
            Steps ahead, as in :meth:`predict`.
        X : array-like, optional
            Future exogenous variables, as in :meth:`predict`.
        alpha : float or sequence of float, default=(0.05, 0.5, 0.95)
            Quantile levels in (0, 1).

        Returns
        -------
        quantiles : pd.DataFrame
            One row per step (the future index of ``y``; positions for arrays) and the columns
            ``(variable, alpha)`` of sktime's ``predict_quantiles``. The variable is the
            Series name (0 when it has none), the DataFrame column, or the array column.
        """
        check_is_fitted(self, "n_series_")
        steps = check_fh(self._default_fh() if fh is None else fh)
        alpha = _check_levels(alpha, "alpha")
        columns = pd.MultiIndex.from_product([self._variable_names(), alpha.tolist()])
        if getattr(self, "_panel", None) is not None:
            return self._probabilistic_panel(steps, X, alpha, columns)
        values = self._quantile_values(steps, X, alpha)
        flat = values.reshape(len(steps), -1)  # (h, k * A), variable-major as the columns
        return pd.DataFrame(flat, index=self._forecast_index(steps), columns=columns)

    def predict_interval(self, fh=None, X=None, coverage=0.9):
        """Central prediction intervals of the steps ``fh``, in sktime's format.

        Parameters
        ----------
        fh : int or array-like of int, optional
            Steps ahead, as in :meth:`predict`.
        X : array-like, optional
            Future exogenous variables, as in :meth:`predict`.
        coverage : float or sequence of float, default=0.9
            Nominal coverage of each interval, in (0, 1): the interval runs from the quantile
            ``(1 - coverage) / 2`` to ``(1 + coverage) / 2``.

        Returns
        -------
        intervals : pd.DataFrame
            One row per step and the columns ``(variable, coverage, "lower"/"upper")`` of
            sktime's ``predict_interval``.
        """
        check_is_fitted(self, "n_series_")
        steps = check_fh(self._default_fh() if fh is None else fh)
        coverage = _check_levels(coverage, "coverage")
        alpha = np.column_stack([(1 - coverage) / 2, (1 + coverage) / 2]).ravel()
        columns = pd.MultiIndex.from_product(
            [self._variable_names(), coverage.tolist(), ["lower", "upper"]]
        )
        if getattr(self, "_panel", None) is not None:
            return self._probabilistic_panel(steps, X, alpha, columns)
        values = self._quantile_values(steps, X, alpha)  # (h, k, 2C): lower, upper per coverage
        flat = values.reshape(len(steps), -1)
        return pd.DataFrame(flat, index=self._forecast_index(steps), columns=columns)

    def _quantile_values(self, steps: np.ndarray, X, alpha: np.ndarray) -> np.ndarray:
        X_future = self._check_X(X, int(steps.max()), reset=False)
        values = np.asarray(self._predict_quantiles(steps, X_future, alpha), dtype=np.float64)
        expected = (len(steps), self.n_series_, len(alpha))
        if values.shape != expected:  # pragma: no cover - a bug in a subclass
            raise RuntimeError(
                f"{type(self).__name__}._predict_quantiles returned shape {values.shape}, "
                f"expected {expected}."
            )
        return values

    def _variable_names(self) -> list:
        """Sktime's variable names of the training ``y``."""
        panel = getattr(self, "_panel", None)
        if panel is not None:
            layout = panel["layout"]
            return list(layout.get("variables") or layout.get("columns") or ["y"])
        meta = self._y_meta
        if meta.kind == "series":
            return [0 if meta.name is None else meta.name]
        if meta.kind == "frame":
            return list(meta.columns)
        return list(range(self.n_series_))

    def _forecast_index(self, steps: np.ndarray) -> pd.Index:
        return future_index(self._y_meta, steps)

    # ------------------------------------------------------------------ several series
    def _fit_panel(self, panel) -> None:
        """Fit several series (``Panel``); by default one clone per series."""
        from sklearn.base import clone

        self._set_panel_attributes(panel)
        self.forecasters_ = [
            clone(self).fit(y, X) if X is not None else clone(self).fit(y)
            for y, X in zip(panel.ys, panel.Xs or [None] * len(panel.ys), strict=True)
        ]

    def _set_panel_attributes(self, panel) -> None:
        self._panel = {"kind": panel.kind, "ids": list(panel.ids), "layout": panel.layout}
        self.n_series_ = panel.ys[0].shape[1]
        self.n_exog_ = 0 if panel.Xs is None else panel.Xs[0].shape[1]
        self.n_train_ = int(sum(len(v) for v in panel.ys))
        self.cutoff_ = cutoffs(panel.layout)
        minimum = int(self._min_samples())
        for key, values in zip(panel.ids, panel.ys, strict=True):
            if len(values) < self._min_panel_samples(minimum):
                raise ValueError(
                    f"Series {key!r} has {len(values)} observations, but {type(self).__name__} "
                    f"with these parameters needs at least {self._min_panel_samples(minimum)}."
                )

    def _min_panel_samples(self, minimum: int) -> int:
        """Fewest observations of one series of several (local models: as for one series)."""
        return minimum

    def _panel_future_exog(self, X, steps: np.ndarray):
        panel = self._panel
        return future_exog(
            panel["kind"], panel["layout"], panel["ids"], X, int(steps.max()), self.n_exog_
        )

    def _panel_points(self, steps: np.ndarray, X_list) -> np.ndarray:
        """Forecasts ``(S, h, k)`` of every series; by default from each series' own model."""
        return np.stack(
            [
                f._forecast(steps, None if X_list is None else X_list[i])
                for i, f in enumerate(self.forecasters_)
            ]
        )

    def _panel_quantiles(self, steps: np.ndarray, X_list, alpha: np.ndarray) -> np.ndarray:
        """Quantiles ``(S, h, k, A)`` of every series."""
        return np.stack(
            [
                f._quantile_values(steps, None if X_list is None else X_list[i], alpha)
                for i, f in enumerate(self.forecasters_)
            ]
        )

    def _predict_panel(self, steps: np.ndarray, X):
        panel = self._panel
        values = self._panel_points(steps, self._panel_future_exog(X, steps))
        return wrap_points(panel["kind"], panel["layout"], panel["ids"], values, steps)

    def _probabilistic_panel(self, steps, X, alpha, columns):
        panel = self._panel
        values = self._panel_quantiles(steps, self._panel_future_exog(X, steps), alpha)
        flat = values.reshape(values.shape[0], len(steps), -1)  # (S, h, k * A)
        return wrap_probabilistic(
            panel["kind"], panel["layout"], panel["ids"], flat, steps, columns
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = True
        tags.non_deterministic = False
        return tags


# ========================================================================= several series
# Three layouts of several series are read by every forecaster's ``fit`` (neural forecasters
# train one global network on them; the other forecasters fit one model per series):
#
# - a list (or tuple) of series, each a ``np.ndarray`` (1D or 2D), ``pd.Series`` or
#   ``pd.DataFrame`` with its own index; ``X`` then is a list of the same length. (A list of
#   numbers, or of lists, is still one series.)
# - an sktime multi-index frame (``pd-multiindex`` / ``pd_multiindex_hier``): a DataFrame (or
#   Series) whose row index has the series id(s) in the outer levels and the time in the last;
#   ``X`` has the same layout.
# - a long frame with the columns ``unique_id``, ``ds`` and ``y`` (neuralforecast's layout); any
#   other column is an exogenous variable, and ``X`` must then be None.
#
# Series may have different lengths and start dates. ``predict`` returns the layout of ``y``: a
# list of forecasts (each of its series' type and index), a multi-index frame, or a long frame
# with ``unique_id``, ``ds`` and ``y``. Future exogenous values come in the same layout (for a
# long frame: ``unique_id``, ``ds`` and the exogenous columns, one row per series and step).
# ``predict_quantiles`` and ``predict_interval`` follow it too: a list of sktime-format frames, a
# multi-index frame with sktime's columns, or a long frame with one column per level
# (``y_q0.05``) or bound (``y_lower_0.9``, ``y_upper_0.9``).


#: The id, time and target columns of the long layout.
LONG_COLUMNS = ("unique_id", "ds", "y")


@dataclasses.dataclass
class Panel:
    """Several series as arrays, and what is needed to give forecasts their layout back."""

    kind: str  # "list", "multiindex", "long"
    ids: list
    ys: list  # (n_i, k) float arrays
    Xs: list | None  # (n_i, m) float arrays
    layout: dict  # plain data only (it is part of the fitted state)


def is_panel(y) -> bool:
    """Whether ``y`` holds several series in one of the layouts above."""
    if isinstance(y, list | tuple):
        return len(y) > 0 and all(isinstance(e, np.ndarray | pd.Series | pd.DataFrame) for e in y)
    if isinstance(y, pd.Series | pd.DataFrame) and isinstance(y.index, pd.MultiIndex):
        return True
    return isinstance(y, pd.DataFrame) and set(LONG_COLUMNS) <= set(y.columns)


def _series_meta(values, index: pd.Index | None, name=None, columns=None) -> _SeriesMeta:
    if isinstance(values, pd.Series):
        meta = _SeriesMeta("series", name=values.name)
    elif isinstance(values, pd.DataFrame):
        meta = _SeriesMeta("frame", columns=values.columns)
    else:
        meta = _SeriesMeta("array1d" if np.ndim(values) == 1 else "array2d")
    meta.n = len(values)
    if index is not None:
        meta.index = index[-3:]
        if isinstance(index, pd.DatetimeIndex):
            freq = _infer_freq(index)
            meta.freq = None if freq is None else freq.freqstr
    return meta


def as_panel(y, X=None) -> Panel:
    """Read ``y`` (and ``X``) in one of the layouts of the module docstring.

    Raises
    ------
    ValueError, TypeError
        For mismatched ``X``, non-numeric or non-finite values, or a malformed layout.
    """
    if isinstance(y, list | tuple):
        return _from_list(y, X)
    if isinstance(y.index, pd.MultiIndex):
        return _from_multiindex(y, X)
    return _from_long(y, X)


def _from_list(y, X) -> Panel:
    if X is not None and (not isinstance(X, list | tuple) or len(X) != len(y)):
        raise ValueError(
            f"y is a list of {len(y)} series, so X must be a list of as many exogenous arrays "
            f"(one row per observation of its series); got {type(X).__name__}"
            + (f" of length {len(X)}." if isinstance(X, list | tuple) else ".")
        )
    ys, Xs, metas, _kinds = [], [] if X is not None else None, [], []
    for i, series in enumerate(y):
        values = _as_float_2d(series, f"series {i} of y")
        if values.shape[0] == 0:
            raise ValueError(f"series {i} of y is empty.")
        ys.append(values)
        index = series.index if isinstance(series, pd.Series | pd.DataFrame) else None
        metas.append(_series_meta(series, index))
        if X is not None:
            exog = _as_float_2d(X[i], f"X[{i}] (exogenous variables)")
            if exog.shape[0] != values.shape[0]:
                raise ValueError(
                    f"X[{i}] must have one row per observation of series {i}: the series has "
                    f"{values.shape[0]}, X[{i}] has {exog.shape[0]}."
                )
            Xs.append(exog)
    _check_columns(ys, Xs)
    layout = {"metas": metas, "variables": _variables(y[0], ys[0].shape[1])}
    return Panel("list", list(range(len(y))), ys, Xs, layout)


def _variables(first, k: int) -> list:
    if isinstance(first, pd.Series):
        return [0 if first.name is None else first.name]
    if isinstance(first, pd.DataFrame):
        return list(first.columns)
    return list(range(k))


def _check_columns(ys, Xs) -> None:
    widths = {v.shape[1] for v in ys}
    if len(widths) > 1:
        raise ValueError(f"Every series must have the same columns; got widths {sorted(widths)}.")
    if Xs is not None:
        widths = {x.shape[1] for x in Xs}
        if len(widths) > 1:
            raise ValueError(f"Every X must have the same columns; got widths {sorted(widths)}.")


def _from_multiindex(y, X) -> Panel:
    index = y.index
    if index.nlevels < 2:  # pragma: no cover - guarded by is_panel
        raise ValueError("A multi-index y needs the series id(s) and the time as levels.")
    if index.has_duplicates:
        raise ValueError("y's multi-index has duplicate (series, time) rows.")
    frame = y.to_frame() if isinstance(y, pd.Series) else y
    ids, ys, Xs, metas = [], [], [] if X is not None else None, []
    if X is not None:
        if not isinstance(X, pd.Series | pd.DataFrame) or not isinstance(X.index, pd.MultiIndex):
            raise ValueError("y is a multi-index frame, so X must be one too (the same index).")
        X_frame = X.to_frame() if isinstance(X, pd.Series) else X
        if not X_frame.index.equals(index):
            raise ValueError("X must have exactly y's multi-index (the same series and times).")
    key_index = index.droplevel(-1)
    for key in dict.fromkeys(key_index.tolist()):
        rows = np.flatnonzero(key_index == key)
        part = frame.iloc[rows]
        times = part.index.get_level_values(-1)
        order = np.argsort(np.asarray(times), kind="stable")
        part = part.iloc[order]
        times = pd.Index(part.index.get_level_values(-1))
        if isinstance(times, pd.DatetimeIndex) and times.freq is None:
            times = pd.DatetimeIndex(times)
        ids.append(key)
        ys.append(_as_float_2d(part, f"series {key!r} of y"))
        meta = _series_meta(part, times)
        metas.append(meta)
        if X is not None:
            Xs.append(_as_float_2d(X_frame.iloc[rows].iloc[order], f"X of series {key!r}"))
    _check_columns(ys, Xs)
    layout = {
        "metas": metas,
        "names": list(index.names),
        "columns": list(frame.columns),
        "series_output": isinstance(y, pd.Series),
        "X_columns": None if X is None else list(X_frame.columns),
    }
    return Panel("multiindex", ids, ys, Xs, layout)


def _from_long(y, X) -> Panel:
    if X is not None:
        raise ValueError(
            "With a long frame (unique_id, ds, y), the exogenous variables are its other "
            "columns; pass X=None."
        )
    exog_columns = [c for c in y.columns if c not in LONG_COLUMNS]
    if y[["unique_id", "ds"]].duplicated().any():
        raise ValueError("The long frame has duplicate (unique_id, ds) rows.")
    ids, ys, Xs, metas = [], [], [] if exog_columns else None, []
    for key, part in y.groupby("unique_id", sort=False):
        part = part.sort_values("ds", kind="stable")
        times = pd.Index(part["ds"].to_numpy())
        if isinstance(part["ds"].dtype, pd.PeriodDtype):
            times = pd.PeriodIndex(part["ds"])
        elif pd.api.types.is_datetime64_any_dtype(part["ds"]):
            times = pd.DatetimeIndex(part["ds"])
        ids.append(key)
        ys.append(_as_float_2d(part["y"], f"y of series {key!r}"))
        meta = _series_meta(part["y"], times)
        meta.name = "y"
        metas.append(meta)
        if exog_columns:
            Xs.append(_as_float_2d(part[exog_columns], f"exogenous columns of series {key!r}"))
    layout = {"metas": metas, "X_columns": exog_columns}
    return Panel("long", ids, ys, Xs, layout)


# ---------------------------------------------------------------------------------- predict
def future_exog(layout_kind: str, layout: dict, ids: list, X, n_rows: int, n_exog: int):
    """The future exogenous rows of every series, as a list of ``(>= n_rows, m)`` arrays."""
    if n_exog == 0:
        if X is not None:
            raise ValueError("The forecaster was fitted without exogenous variables; X=None.")
        return None
    if X is None:
        raise ValueError(
            f"The forecaster was fitted with {n_exog} exogenous variable(s); predict needs their "
            f"future values for every series (at least {n_rows} step(s) each)."
        )
    if layout_kind == "list":
        if not isinstance(X, list | tuple) or len(X) != len(ids):
            raise ValueError(f"X must be a list of {len(ids)} arrays, one per series.")
        rows = [_as_float_2d(x, f"X[{i}]") for i, x in enumerate(X)]
    else:
        if layout_kind == "long":
            columns = ["unique_id", "ds", *layout["X_columns"]]
            missing = [c for c in columns if c not in getattr(X, "columns", [])]
            if missing:
                raise ValueError(f"X must be a long frame with the columns {columns}.")
            parts = {key: part.sort_values("ds") for key, part in X.groupby("unique_id")}
            take = layout["X_columns"]
        else:
            if not isinstance(X, pd.DataFrame | pd.Series) or not isinstance(
                X.index, pd.MultiIndex
            ):
                raise ValueError("X must be a multi-index frame like y's.")
            frame = X.to_frame() if isinstance(X, pd.Series) else X
            keys = frame.index.droplevel(-1)
            parts = {
                key: frame[keys == key].sort_index(level=-1) for key in dict.fromkeys(keys.tolist())
            }
            take = list(frame.columns)
        rows = []
        for key, meta in zip(ids, layout["metas"], strict=True):
            if key not in parts:
                raise ValueError(f"X has no rows for series {key!r}.")
            part = parts[key]
            _check_future_times(part, layout_kind, meta, key, n_rows)
            rows.append(_as_float_2d(part[take], f"X of series {key!r}"))
    for key, values in zip(ids, rows, strict=True):
        if values.shape[1] != n_exog:
            raise ValueError(
                f"X of series {key!r} has {values.shape[1]} column(s); the forecaster was fitted "
                f"with {n_exog}."
            )
        if values.shape[0] < n_rows:
            raise ValueError(
                f"X of series {key!r} must cover every step up to the horizon: it needs "
                f"{n_rows} row(s), got {values.shape[0]}."
            )
    return [values[:n_rows] for values in rows]


def _check_future_times(part, kind: str, meta: _SeriesMeta, key, n_rows: int) -> None:
    """The first future exogenous row of a series must be the step after its cutoff."""
    times = part["ds"].to_numpy() if kind == "long" else part.index.get_level_values(-1)
    expected = future_index(meta, np.arange(1, n_rows + 1))
    if len(times) and meta.index is not None:
        try:
            same = bool(pd.Index(times[:1]).equals(expected[:1])) or times[0] == expected[0]
        except (TypeError, ValueError):
            same = True  # labels of a kind we cannot compare: trust the order
        if not same:
            raise ValueError(
                f"X of series {key!r} must start at the step after that series' last "
                f"observation ({expected[0]}); it starts at {times[0]}."
            )


def wrap_points(kind: str, layout: dict, ids: list, values: np.ndarray, steps: np.ndarray):
    """Forecasts ``(S, h, k)`` in the layout of the training ``y``."""
    metas = layout["metas"]
    if kind == "list":
        return [_wrap_one(m, v, steps) for m, v in zip(metas, values, strict=True)]
    if kind == "multiindex":
        frames = []
        for key, meta, v in zip(ids, metas, values, strict=True):
            index = future_index(meta, steps)
            keys = key if isinstance(key, tuple) else (key,)
            tuples = [(*keys, t) for t in index]
            frames.append(
                pd.DataFrame(
                    v,
                    index=pd.MultiIndex.from_tuples(tuples, names=layout["names"]),
                    columns=layout["columns"],
                )
            )
        out = pd.concat(frames)
        return out.iloc[:, 0] if layout["series_output"] else out
    rows = []
    for key, meta, v in zip(ids, metas, values, strict=True):
        index = future_index(meta, steps)
        rows.append(pd.DataFrame({"unique_id": key, "ds": index, "y": v[:, 0]}))
    return pd.concat(rows, ignore_index=True)


def _wrap_one(meta: _SeriesMeta, values: np.ndarray, steps: np.ndarray):
    if meta.kind == "array1d":
        return values[:, 0]
    if meta.kind == "array2d":
        return values
    index = future_index(meta, steps)
    if meta.kind == "series":
        return pd.Series(values[:, 0], index=index, name=meta.name)
    return pd.DataFrame(values, index=index, columns=meta.columns)


def wrap_probabilistic(
    kind: str, layout: dict, ids: list, values: np.ndarray, steps, columns: pd.MultiIndex
):
    """Quantiles or bounds ``(S, h, k * L)`` in the layout of ``y`` (see the module docstring).

    ``columns`` are sktime's columns for one series: ``(variable, level[, side])``.
    """
    metas = layout["metas"]
    frames = []
    for key, meta, v in zip(ids, metas, values, strict=True):
        index = future_index(meta, steps)
        frames.append((key, index, pd.DataFrame(v, index=index, columns=columns)))
    if kind == "list":
        return [frame for _, _, frame in frames]
    if kind == "multiindex":
        parts = []
        for key, index, frame in frames:
            keys = key if isinstance(key, tuple) else (key,)
            frame = frame.copy()
            frame.index = pd.MultiIndex.from_tuples(
                [(*keys, t) for t in index], names=layout["names"]
            )
            parts.append(frame)
        return pd.concat(parts)
    parts = []
    for key, index, frame in frames:
        flat = {"unique_id": key, "ds": index}
        for column in frame.columns:
            level = column[1]
            name = f"y_q{level:g}" if len(column) == 2 else f"y_{column[2]}_{level:g}"
            flat[name] = frame[column].to_numpy()
        parts.append(pd.DataFrame(flat))
    return pd.concat(parts, ignore_index=True)


def cutoffs(layout: dict) -> pd.Index:
    """The last time label (or position) of every series, in the order of the series."""
    values: list[Any] = [m.index[-1] if m.index is not None else m.n - 1 for m in layout["metas"]]
    return pd.Index(values, tupleize_cols=False)
