"""statsmodels ARIMA, SARIMAX and VARMA models behind the seqestim forecaster interface.

The models are fitted by exact maximum likelihood through statsmodels' state-space
implementation (``statsmodels.tsa.arima.model.ARIMA``, ``statsmodels.tsa.statespace.SARIMAX``
and ``VARMAX``). Their ``predict_quantiles`` and ``predict_interval`` are the model's own
Gaussian forecast distribution (the forecast mean plus the quantiles of its standard error, as
``get_forecast(...).conf_int()``), and sample paths for wrappers come from ``simulate``. The
series is passed to statsmodels as a plain array; the index of ``y`` is handled by
:class:`seqestim.estimators.BaseForecaster`, so pandas inputs get their future index back
regardless of whether statsmodels understands their frequency.

:class:`AutoARIMAForecaster` chooses the order the way ``forecast::auto.arima`` /
``pmdarima.auto_arima`` do by default, but with an exhaustive search over a small grid instead
of the stepwise search: the differencing order ``d`` by repeated KPSS tests, the seasonal
differencing ``D`` by the seasonal-strength heuristic (Wang, Smith & Hyndman 2006; STL
decomposition, ``D = 1`` when the strength exceeds 0.64), then ``(p, q, P, Q)`` minimising the
chosen information criterion.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd

from seqestim.estimators._series import BaseForecaster

__all__ = ["ARIMAForecaster", "AutoARIMAForecaster", "SARIMAXForecaster", "VARMAForecaster"]


def _check_order(order, name: str, length: int) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in order)
    except TypeError:
        raise ValueError(
            f"{name} must be a tuple of {length} non-negative ints, got {order!r}."
        ) from None
    if len(values) != length or any(v < 0 for v in values) or any(int(v) != v for v in order):
        raise ValueError(f"{name} must be a tuple of {length} non-negative ints, got {order!r}.")
    return values


def _arima_min_samples(order, seasonal_order) -> int:
    p, d, q = order
    P, D, Q, s = seasonal_order
    s = max(s, 1) if (P or D or Q) else 0
    return d + D * s + max(p + P * s, q + Q * s) + 2


class _StatsmodelsUnivariate(BaseForecaster):
    """Common fit/predict of the univariate state-space models."""

    _y_kind = "univariate"

    def _build(self, y, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit_kwargs(self) -> dict:
        return {}

    def _orders(self):
        return _check_order(self.order, "order", 3), _check_seasonal(self.seasonal_order)

    def _min_samples(self) -> int:
        return _arima_min_samples(*self._orders())

    def _fit(self, y, X=None):
        model = self._build(y[:, 0], X)
        self.model_ = model.fit(**self._fit_kwargs())
        self._set_summary_attributes(self.model_)

    def _set_summary_attributes(self, results):
        self.params_ = pd.Series(np.asarray(results.params), index=results.param_names)
        self.aic_ = float(results.aic)
        self.bic_ = float(results.bic)
        self.ar_coefficients_ = np.asarray(results.arparams, dtype=float)
        self.ma_coefficients_ = np.asarray(results.maparams, dtype=float)

    def _predict(self, steps, X=None):
        forecast = np.asarray(self.model_.forecast(steps=int(steps.max()), exog=X), dtype=float)
        return forecast.reshape(-1, 1)[steps - 1]

    def _predict_quantiles(self, steps, X, alpha):
        return _gaussian_quantiles(self.model_, steps, X, alpha, k=1)

    def _predict_paths(self, horizon, X, n_paths, seed):
        return _simulate(self.model_, horizon, X, n_paths, seed)

    def _forecast_from(self, histories, X_histories, steps, X_futures, alpha=None):
        return _forecast_from(self.model_, histories, X_histories, steps, X_futures, alpha, 1)


def _forecast_from(model, histories, X_histories, steps, X_futures, alpha, k: int):
    """Forecasts from other histories: the fitted parameters, re-filtered on each history."""
    points, quantiles = [], []
    for i, history in enumerate(histories):
        endog = np.asarray(history, dtype=float)
        exog = None if X_histories is None else X_histories[i]
        X = None if X_futures is None else X_futures[i]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # index warnings of plain arrays
            results = model.apply(endog[:, 0] if k == 1 else endog, exog=exog)
        forecast = np.asarray(results.forecast(steps=int(steps.max()), exog=X), dtype=float)
        points.append(forecast.reshape(int(steps.max()), k)[steps - 1])
        if alpha is not None:
            quantiles.append(_gaussian_quantiles(results, steps, X, alpha, k))
    return np.stack(points), (None if alpha is None else np.stack(quantiles))


def _gaussian_quantiles(results, steps, X, alpha, k: int) -> np.ndarray:
    """Quantiles (len(steps), k, len(alpha)) of the model's Gaussian forecast distribution."""
    from scipy.special import ndtri

    forecast = results.get_forecast(steps=int(steps.max()), exog=X)
    mean = np.asarray(forecast.predicted_mean, dtype=float).reshape(-1, k)  # (h, k)
    se = np.asarray(forecast.se_mean, dtype=float).reshape(-1, k)
    quantiles = mean[..., None] + se[..., None] * ndtri(np.asarray(alpha))  # (h, k, A)
    return quantiles[steps - 1]


def _simulate(results, horizon: int, X, n_paths: int, seed: int) -> np.ndarray:
    """Sample paths (n_paths, horizon, k) of the fitted state-space model from the end of y."""
    kwargs = {"nsimulations": int(horizon), "repetitions": int(n_paths), "anchor": "end"}
    if X is not None:
        kwargs["exog"] = X[:horizon]
    try:
        paths = results.simulate(**kwargs, rng=np.random.default_rng(seed))
    except TypeError:  # statsmodels < 0.15 names the generator random_state
        paths = results.simulate(**kwargs, random_state=np.random.default_rng(seed))
    paths = np.asarray(paths, dtype=float).reshape(int(horizon), -1, int(n_paths))  # (h, k, n)
    return np.moveaxis(paths, -1, 0)


def _check_seasonal(seasonal_order) -> tuple[int, int, int, int]:
    P, D, Q, s = _check_order(seasonal_order, "seasonal_order", 4)
    if (P or D or Q) and s < 2:
        raise ValueError(
            f"seasonal_order={tuple(seasonal_order)} has seasonal terms but a period s={s}; the "
            "period must be >= 2."
        )
    return P, D, Q, s


class ARIMAForecaster(_StatsmodelsUnivariate):
    """ARIMA(p, d, q)(P, D, Q)_s with optional exogenous regressors, by exact likelihood.

    A thin wrapper of ``statsmodels.tsa.arima.model.ARIMA`` with the seqestim forecaster
    interface (``fit(y, X)``, ``predict(fh, X)``, ``score``).

    Parameters
    ----------
    order : tuple of int, default=(1, 0, 0)
        ``(p, d, q)``: AR order, differencing order and MA order.
    seasonal_order : tuple of int, default=(0, 0, 0, 0)
        ``(P, D, Q, s)``: seasonal AR, differencing and MA orders and the period ``s``.
    trend : str or None, default=None
        statsmodels trend: ``"n"`` (none), ``"c"`` (constant), ``"t"`` (linear), ``"ct"``; None
        is statsmodels' default (a constant when there is no differencing).
    enforce_stationarity : bool, default=True
        Restrict the AR parameters to the stationary region.
    enforce_invertibility : bool, default=True
        Restrict the MA parameters to the invertible region.
    method : str or None, default=None
        statsmodels estimation method (None: state-space maximum likelihood).

    Attributes
    ----------
    model_ : statsmodels results
        The fitted statsmodels results object.
    params_ : pd.Series
        Estimated parameters by name.
    ar_coefficients_, ma_coefficients_ : ndarray
        The non-seasonal AR and MA coefficients (statsmodels sign convention:
        ``y_t = Σ φ_i y_{t-i} + ε_t + Σ θ_j ε_{t-j}``).
    aic_, bic_ : float
        Information criteria of the fit.
    n_series_, n_exog_, n_train_, cutoff_
        See :class:`seqestim.estimators.BaseForecaster`.

    Examples
    --------
    >>> from seqestim.baselines import ARIMAForecaster
    >>> from seqestim.datasets.forecasting import load_airline
    >>> import numpy as np
    >>> y = np.log(load_airline())
    >>> f = ARIMAForecaster(order=(0, 1, 1), seasonal_order=(0, 1, 1, 12)).fit(y)
    >>> f.predict(3).index.astype(str).tolist()
    ['1961-01', '1961-02', '1961-03']
    """

    def __init__(
        self,
        order=(1, 0, 0),
        seasonal_order=(0, 0, 0, 0),
        trend=None,
        enforce_stationarity=True,
        enforce_invertibility=True,
        method=None,
    ):
        self.order = order
        self.seasonal_order = seasonal_order
        self.trend = trend
        self.enforce_stationarity = enforce_stationarity
        self.enforce_invertibility = enforce_invertibility
        self.method = method

    def _build(self, y, X):
        from statsmodels.tsa.arima.model import ARIMA

        order, seasonal = self._orders()
        return ARIMA(
            y,
            exog=X,
            order=order,
            seasonal_order=seasonal,
            trend=self.trend,
            enforce_stationarity=self.enforce_stationarity,
            enforce_invertibility=self.enforce_invertibility,
        )

    def _fit_kwargs(self):
        return {} if self.method is None else {"method": self.method}


class SARIMAXForecaster(_StatsmodelsUnivariate):
    """Seasonal ARIMA with exogenous regressors, ``statsmodels.tsa.statespace.SARIMAX``.

    Unlike :class:`ARIMAForecaster` it exposes SARIMAX's extra options (measurement error,
    time-varying regression, simple differencing) and numerical-optimiser settings.

    Parameters
    ----------
    order : tuple of int, default=(1, 0, 0)
        ``(p, d, q)``.
    seasonal_order : tuple of int, default=(0, 0, 0, 0)
        ``(P, D, Q, s)``.
    trend : str or None, default=None
        ``"n"``, ``"c"``, ``"t"``, ``"ct"`` or None (no trend, statsmodels' SARIMAX default).
    measurement_error : bool, default=False
        Add an observation-noise term.
    time_varying_regression : bool, default=False
        Let the exogenous coefficients follow random walks.
    mle_regression : bool, default=True
        Estimate the regression coefficients by maximum likelihood.
    simple_differencing : bool, default=False
        Difference the data before estimation (faster, loses the first observations).
    enforce_stationarity : bool, default=True
        Restrict AR parameters to the stationary region.
    enforce_invertibility : bool, default=True
        Restrict MA parameters to the invertible region.
    maxiter : int, default=50
        Maximum optimiser iterations.
    optimizer : str, default="lbfgs"
        statsmodels optimiser name (``"lbfgs"``, ``"bfgs"``, ``"nm"``, ``"powell"``, ...).

    Attributes
    ----------
    model_ : statsmodels results
        The fitted results.
    params_ : pd.Series
        Estimated parameters by name.
    ar_coefficients_, ma_coefficients_ : ndarray
        Non-seasonal AR and MA coefficients.
    aic_, bic_ : float
        Information criteria.
    n_series_, n_exog_, n_train_, cutoff_
        See :class:`seqestim.estimators.BaseForecaster`.
    """

    def __init__(
        self,
        order=(1, 0, 0),
        seasonal_order=(0, 0, 0, 0),
        trend=None,
        measurement_error=False,
        time_varying_regression=False,
        mle_regression=True,
        simple_differencing=False,
        enforce_stationarity=True,
        enforce_invertibility=True,
        maxiter=50,
        optimizer="lbfgs",
    ):
        self.order = order
        self.seasonal_order = seasonal_order
        self.trend = trend
        self.measurement_error = measurement_error
        self.time_varying_regression = time_varying_regression
        self.mle_regression = mle_regression
        self.simple_differencing = simple_differencing
        self.enforce_stationarity = enforce_stationarity
        self.enforce_invertibility = enforce_invertibility
        self.maxiter = maxiter
        self.optimizer = optimizer

    def _min_samples(self) -> int:
        extra = 0
        if self.simple_differencing:
            order, (_, D, _, s) = self._orders()
            extra = order[1] + D * s
        return super()._min_samples() + extra

    def _build(self, y, X):
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        order, seasonal = self._orders()
        return SARIMAX(
            y,
            exog=X,
            order=order,
            seasonal_order=seasonal,
            trend=self.trend,
            measurement_error=self.measurement_error,
            time_varying_regression=self.time_varying_regression,
            mle_regression=self.mle_regression,
            simple_differencing=self.simple_differencing,
            enforce_stationarity=self.enforce_stationarity,
            enforce_invertibility=self.enforce_invertibility,
        )

    def _fit_kwargs(self):
        return {"maxiter": int(self.maxiter), "method": self.optimizer, "disp": False}


_CRITERIA = ("aic", "aicc", "bic", "hqic")


def _kpss_ndiffs(y: np.ndarray, alpha: float, max_d: int) -> int:
    """Smallest ``d`` for which the KPSS test no longer rejects level stationarity."""
    from statsmodels.tsa.stattools import kpss

    x = y.copy()
    for d in range(max_d + 1):
        if d > 0:
            x = np.diff(x)
        if len(x) < 4 or np.ptp(x) == 0:
            return d
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # p-values outside the table are clipped; fine here
            # short lag truncation trunc(4 (n / 100)^(1/4)), as forecast::ndiffs (urca "short")
            lags = int(4 * (len(x) / 100) ** 0.25)
            p_value = kpss(x, regression="c", nlags=max(lags, 1))[1]
        if p_value >= alpha:
            return d
    return max_d


def _seasonal_strength(y: np.ndarray, sp: int) -> float:
    """Wang-Smith-Hyndman seasonal strength from an STL decomposition, in [0, 1]."""
    from statsmodels.tsa.seasonal import STL

    result = STL(y, period=sp, robust=True).fit()
    resid, seasonal = np.asarray(result.resid), np.asarray(result.seasonal)
    denom = np.var(seasonal + resid)
    if denom == 0:
        return 0.0
    return float(max(0.0, 1.0 - np.var(resid) / denom))


class AutoARIMAForecaster(_StatsmodelsUnivariate):
    """ARIMA whose orders are chosen by an information criterion over a grid (statsmodels).

    The differencing orders are chosen first (``d`` by repeated KPSS tests at level ``alpha``
    with the short lag truncation of ``forecast::ndiffs``,
    ``D`` by STL seasonal strength > 0.64 when ``sp > 1``). Then models ``(p, q, P, Q)`` with
    ``p <= max_p``, ``q <= max_q``, ``P <= max_P``, ``Q <= max_Q`` and ``p + q + P + Q <=
    max_order`` are fitted by maximum likelihood and the one with the smallest criterion wins:
    all of them (``stepwise=False``) or those visited by the stepwise search of Hyndman &
    Khandakar (2008) (``stepwise=True``, the default of ``auto.arima``): start from the best of
    ARIMA(2,d,2)(1,D,1), (0,d,0)(0,D,0), (1,d,0)(1,D,0), (0,d,1)(0,D,1) (orders clipped to the
    limits), then move to the best
    neighbour (one of p, q, P, Q, or the pairs (p, q), (P, Q), changed by ±1) while the
    criterion improves. A constant is included when no differencing is applied.

    Parameters
    ----------
    max_p, max_q : int, default=3
        Largest non-seasonal AR and MA orders tried.
    d : int or None, default=None
        Differencing order; None chooses it by KPSS tests (up to ``max_d``).
    max_d : int, default=2
        Largest ``d`` considered when ``d`` is None.
    sp : int, default=1
        Seasonal period; 1 means a non-seasonal model.
    max_P, max_Q : int, default=1
        Largest seasonal AR and MA orders tried (when ``sp > 1``).
    D : int or None, default=None
        Seasonal differencing order; None chooses 0 or 1 by seasonal strength.
    max_order : int, default=5
        Largest ``p + q + P + Q`` tried.
    information_criterion : {"aic", "aicc", "bic", "hqic"}, default="aic"
        Criterion minimised.
    with_intercept : {"auto", True, False}, default="auto"
        "auto" or True include a constant when ``d + D == 0`` (statsmodels cannot estimate one
        that the differencing removes); False never does.
    alpha : float, default=0.05
        Level of the KPSS tests.
    stepwise : bool, default=True
        Stepwise search (fast) instead of the exhaustive grid.

    Attributes
    ----------
    order_ : tuple of int
        Chosen ``(p, d, q)``.
    seasonal_order_ : tuple of int
        Chosen ``(P, D, Q, s)``.
    model_ : statsmodels results
        The fitted results of the chosen model.
    search_results_ : pd.DataFrame
        Every candidate fitted, best first: orders and criterion value (inf when the fit
        failed or the series is too short for it).
    params_, ar_coefficients_, ma_coefficients_, aic_, bic_
        As in :class:`ARIMAForecaster`, for the chosen model.
    n_series_, n_exog_, n_train_, cutoff_
        See :class:`seqestim.estimators.BaseForecaster`.
    """

    def __init__(
        self,
        max_p=3,
        max_q=3,
        d=None,
        max_d=2,
        sp=1,
        max_P=1,
        max_Q=1,
        D=None,
        max_order=5,
        information_criterion="aic",
        with_intercept="auto",
        alpha=0.05,
        stepwise=True,
    ):
        self.max_p = max_p
        self.max_q = max_q
        self.d = d
        self.max_d = max_d
        self.sp = sp
        self.max_P = max_P
        self.max_Q = max_Q
        self.D = D
        self.max_order = max_order
        self.information_criterion = information_criterion
        self.with_intercept = with_intercept
        self.alpha = alpha
        self.stepwise = stepwise

    def _orders(self):  # the smallest model of the grid decides the minimum length
        s = int(self.sp)
        d = 0 if self.d is None else int(self.d)
        D = 0 if (self.D is None or s < 2) else int(self.D)
        return (0, d, 0), ((0, D, 0, s) if s > 1 else (0, 0, 0, 0))

    def _min_samples(self) -> int:
        if self.information_criterion not in _CRITERIA:
            raise ValueError(
                f"information_criterion must be one of {_CRITERIA}, got "
                f"{self.information_criterion!r}."
            )
        for name in ("max_p", "max_q", "max_d", "max_P", "max_Q", "max_order", "sp"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < (1 if name == "sp" else 0):
                raise ValueError(f"{name} must be a non-negative int (sp >= 1), got {value!r}.")
        s = int(self.sp)
        # at least two full seasons for the seasonal-strength test, and room for the grid
        base = max(10, 2 * s + 1 if s > 1 else 0)
        return base

    def _choose_differencing(self, y):
        s = int(self.sp)
        D = 0
        if s > 1:
            if self.D is not None:
                D = int(self.D)
            elif len(y) >= 2 * s + 1 and _seasonal_strength(y, s) > 0.64:
                D = 1
        x = y[s * D :] - y[: len(y) - s * D] if D else y
        d = int(self.d) if self.d is not None else _kpss_ndiffs(x, self.alpha, int(self.max_d))
        return d, D

    def _fit(self, y, X=None):
        from statsmodels.tsa.arima.model import ARIMA

        if self.with_intercept not in ("auto", True, False):
            raise ValueError(
                f"with_intercept must be 'auto', True or False, got {self.with_intercept!r}."
            )
        series = y[:, 0]
        s = int(self.sp)
        seasonal = s > 1
        d, D = self._choose_differencing(series)
        # statsmodels cannot estimate a constant that the differencing would remove
        trend = "c" if (self.with_intercept in ("auto", True) and d + D == 0) else "n"
        n = len(series)
        criterion = self.information_criterion
        tried: dict[tuple[int, int, int, int], tuple[float, object]] = {}

        def evaluate(p, q, P, Q):
            key = (p, q, P, Q)
            if key in tried:
                return tried[key][0]
            order, seasonal_order = (p, d, q), ((P, D, Q, s) if seasonal else (0, 0, 0, 0))
            value, results = np.inf, None
            if n >= _arima_min_samples(order, seasonal_order):
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # convergence chatter of poor candidates
                        results = ARIMA(
                            series, exog=X, order=order, seasonal_order=seasonal_order, trend=trend
                        ).fit()
                    value = float(getattr(results, criterion))
                except (ValueError, np.linalg.LinAlgError):
                    results = None
                if not np.isfinite(value):
                    value = np.inf
            tried[key] = (value, results)
            return value

        limits = (
            int(self.max_p),
            int(self.max_q),
            int(self.max_P) if seasonal else 0,
            int(self.max_Q) if seasonal else 0,
        )

        def allowed(key):
            return all(0 <= v <= m for v, m in zip(key, limits, strict=True)) and sum(key) <= int(
                self.max_order
            )

        if self.stepwise:
            self._stepwise_search(evaluate, allowed, seasonal, limits)
        else:
            for key in itertools.product(*(range(m + 1) for m in limits)):
                if allowed(key):
                    evaluate(*key)
        finite = {k: v for k, v in tried.items() if np.isfinite(v[0])}
        if not finite:
            raise ValueError(
                "AutoARIMAForecaster could not fit any candidate model; the series may be too "
                "short for the search space or constant."
            )
        best = min(finite, key=lambda k: finite[k][0])
        rows = [
            {
                "p": k[0],
                "d": d,
                "q": k[1],
                "P": k[2],
                "D": D,
                "Q": k[3],
                "s": s if seasonal else 0,
                criterion: v[0],
            }
            for k, v in tried.items()
        ]
        self.search_results_ = pd.DataFrame(rows).sort_values(criterion, kind="stable")
        self.search_results_ = self.search_results_.reset_index(drop=True)
        p, q, P, Q = best
        self.order_ = (p, d, q)
        self.seasonal_order_ = (P, D, Q, s) if seasonal else (0, 0, 0, 0)
        self.model_ = finite[best][1]
        self._set_summary_attributes(self.model_)

    @staticmethod
    def _stepwise_search(evaluate, allowed, seasonal, limits):
        """Hyndman & Khandakar (2008) stepwise search over (p, q, P, Q)."""
        if seasonal:
            starts = [(2, 2, 1, 1), (0, 0, 0, 0), (1, 0, 1, 0), (0, 1, 0, 1)]
        else:
            starts = [(2, 2, 0, 0), (0, 0, 0, 0), (1, 0, 0, 0), (0, 1, 0, 0)]
        # clip the starting orders to the search limits (as pmdarima does with start_p/start_q)
        candidates = []
        for key in starts:
            while not allowed(key) and any(key):
                limited = tuple(min(v, m) for v, m in zip(key, limits, strict=True))
                if limited == key:  # over max_order: drop the largest order by one
                    index = max(range(4), key=lambda i: key[i])
                    limited = tuple(v - (i == index) for i, v in enumerate(key))
                key = limited
            if key not in candidates:
                candidates.append(key)
        current = min(candidates, key=lambda k: evaluate(*k))
        moves = [(1, 0, 0, 0), (0, 1, 0, 0), (1, 1, 0, 0)]
        if seasonal:
            moves += [(0, 0, 1, 0), (0, 0, 0, 1), (0, 0, 1, 1)]
        for _ in range(100):  # each pass strictly improves the criterion, so this ends early
            neighbours = []
            for move in moves:
                for sign in (1, -1):
                    key = tuple(c + sign * m for c, m in zip(current, move, strict=True))
                    if allowed(key):
                        neighbours.append(key)
            best = min(neighbours, key=lambda k: evaluate(*k), default=None)
            if best is None or not evaluate(*best) < evaluate(*current):
                break
            current = best


class VARMAForecaster(BaseForecaster):
    """Vector ARMA(p, q) for several series jointly, ``statsmodels.tsa.statespace.VARMAX``.

    Parameters
    ----------
    order : tuple of int, default=(1, 0)
        ``(p, q)``: vector AR and MA orders. ``q > 0`` models are hard to identify and slow to
        fit; statsmodels' warning about this is silenced because the user asked for them.
    trend : str, default="c"
        ``"n"``, ``"c"``, ``"t"`` or ``"ct"``.
    error_cov_type : {"unstructured", "diagonal"}, default="unstructured"
        Structure of the innovation covariance.
    enforce_stationarity : bool, default=True
        Restrict the AR parameters to the stationary region.
    enforce_invertibility : bool, default=True
        Restrict the MA parameters to the invertible region.
    maxiter : int, default=50
        Maximum optimiser iterations.

    Attributes
    ----------
    model_ : statsmodels results
        Fitted VARMAX results.
    params_ : pd.Series
        Estimated parameters by name.
    ar_coefficients_ : ndarray of shape (p, k, k)
        ``A_i`` with ``y_t = c + Σ A_i y_{t-i} + ε_t + Σ M_j ε_{t-j}``.
    ma_coefficients_ : ndarray of shape (q, k, k)
        ``M_j``.
    n_series_, n_exog_, n_train_, cutoff_
        See :class:`seqestim.estimators.BaseForecaster`.
    """

    _y_kind = "multivariate"

    def __init__(
        self,
        order=(1, 0),
        trend="c",
        error_cov_type="unstructured",
        enforce_stationarity=True,
        enforce_invertibility=True,
        maxiter=50,
    ):
        self.order = order
        self.trend = trend
        self.error_cov_type = error_cov_type
        self.enforce_stationarity = enforce_stationarity
        self.enforce_invertibility = enforce_invertibility
        self.maxiter = maxiter

    def _min_samples(self) -> int:
        p, q = _check_order(self.order, "order", 2)
        if p + q == 0:
            raise ValueError("VARMAForecaster needs p + q >= 1.")
        return max(p, q) + 3

    def _fit(self, y, X=None):
        from statsmodels.tsa.statespace.varmax import VARMAX

        p, q = _check_order(self.order, "order", 2)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*VARMA\\(p,q\\) models is not generically")
            model = VARMAX(
                y,
                exog=X,
                order=(p, q),
                trend=self.trend,
                error_cov_type=self.error_cov_type,
                enforce_stationarity=self.enforce_stationarity,
                enforce_invertibility=self.enforce_invertibility,
            )
            self.model_ = model.fit(maxiter=int(self.maxiter), disp=False)
        results = self.model_
        self.params_ = pd.Series(np.asarray(results.params), index=results.param_names)
        k = y.shape[1]
        coefficient_matrices = results.coefficient_matrices_var
        self.ar_coefficients_ = np.asarray(coefficient_matrices) if p else np.zeros((0, k, k))
        ma = results.coefficient_matrices_vma
        self.ma_coefficients_ = np.asarray(ma) if q else np.zeros((0, k, k))
        self.aic_ = float(results.aic)
        self.bic_ = float(results.bic)

    def _predict(self, steps, X=None):
        forecast = np.asarray(self.model_.forecast(steps=int(steps.max()), exog=X), dtype=float)
        return forecast.reshape(int(steps.max()), -1)[steps - 1]

    def _predict_quantiles(self, steps, X, alpha):
        return _gaussian_quantiles(self.model_, steps, X, alpha, k=self.n_series_)

    def _predict_paths(self, horizon, X, n_paths, seed):
        return _simulate(self.model_, horizon, X, n_paths, seed)

    def _forecast_from(self, histories, X_histories, steps, X_futures, alpha=None):
        return _forecast_from(
            self.model_, histories, X_histories, steps, X_futures, alpha, self.n_series_
        )
