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

__all__ = ["BaseForecaster", "check_fh", "future_index"]


@dataclasses.dataclass
class _SeriesMeta:
    """What is needed to give predictions the type and index of the training series."""

    kind: str  # "series", "frame", "array1d", "array2d"
    name: Any = None  # Series name
    columns: Any = None  # DataFrame columns
    index: pd.Index | None = None  # the last few labels of the training index (pandas only)
    freq: Any = None  # frequency of a DatetimeIndex (inferred when not set)
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
        return pd.DatetimeIndex([index[-1] + int(s) * meta.freq for s in steps], tz=index.tz)
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
    _fitted_attributes = ("n_series_", "n_exog_", "n_train_", "cutoff_", "_y_meta", "_y_fit")

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
                meta.freq = _infer_freq(index)
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
            so that predictions carry the future index.
        X : array-like of shape (n_timepoints, n_exog), optional
            Exogenous variables, one row per row of ``y``.

        Returns
        -------
        self : object
            The fitted forecaster.
        """
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
        values, _ = self._check_y(y, reset=False)
        steps = np.arange(1, values.shape[0] + 1, dtype=np.int64)
        y_pred = self._forecast(steps, X)
        return float(r2_score(values, y_pred))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = True
        tags.non_deterministic = False
        return tags
