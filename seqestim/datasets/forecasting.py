"""Forecasting data: real series shipped with sktime/statsmodels and ARMA/VARMA simulators.

Nothing is downloaded: the loaders read the files installed with sktime (airline, lynx) and
statsmodels (sunspots, co2, nile) and return a ``pd.Series`` with a proper time index.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

__all__ = [
    "load_airline",
    "load_co2",
    "load_lynx",
    "load_nile",
    "load_sunspots",
    "make_arma_process",
    "make_varma_process",
]


def load_airline() -> pd.Series:
    """Monthly international airline passengers, 1949-01 to 1960-12 (Box & Jenkins series G).

    Returns
    -------
    y : pd.Series
        144 values (thousands of passengers) with a monthly ``PeriodIndex``.
    """
    from sktime.datasets import load_airline as _load

    y = _load().astype(np.float64)
    y.name = "passengers"
    return y


def load_lynx() -> pd.Series:
    """Annual Canadian lynx trappings, 1821 to 1934 (Campbell & Walker 1977).

    Returns
    -------
    y : pd.Series
        114 values with an annual ``PeriodIndex``; the classic ~10-year cycle.
    """
    from sktime.datasets import load_lynx as _load

    y = _load().astype(np.float64)
    y.name = "lynx"
    return y


def load_sunspots() -> pd.Series:
    """Yearly mean sunspot activity, 1700 to 2008 (statsmodels ``sunspots``).

    Returns
    -------
    y : pd.Series
        309 values with an annual ``PeriodIndex``; the ~11-year solar cycle.
    """
    from statsmodels.datasets import sunspots

    data = sunspots.load_pandas().data
    index = pd.PeriodIndex(data["YEAR"].astype(int).astype(str), freq="Y")
    return pd.Series(data["SUNACTIVITY"].to_numpy(np.float64), index=index, name="sunspots")


def load_co2() -> pd.Series:
    """Monthly atmospheric CO2 at Mauna Loa, 1958-03 to 2001-12 (statsmodels ``co2``).

    The statsmodels file holds weekly values with 59 missing weeks. They are averaged per
    calendar month (ignoring missing weeks) and the months that had no value at all are filled
    by linear interpolation, so that every forecaster gets a complete monthly series.

    Returns
    -------
    y : pd.Series
        526 monthly values (ppm) with a monthly ``PeriodIndex``.
    """
    from statsmodels.datasets import co2

    weekly = co2.load_pandas().data["co2"]
    monthly = weekly.groupby(weekly.index.to_period("M")).mean()
    full = pd.period_range(monthly.index.min(), monthly.index.max(), freq="M")
    monthly = monthly.reindex(full).interpolate(method="linear")
    monthly.name = "co2"
    return monthly.astype(np.float64)


def load_nile() -> pd.Series:
    """Annual flow of the Nile at Aswan, 1871 to 1970 (statsmodels ``nile``).

    Returns
    -------
    y : pd.Series
        100 values (10^8 m³) with an annual ``PeriodIndex``; a level shift around 1898.
    """
    from statsmodels.datasets import nile

    data = nile.load_pandas().data
    index = pd.PeriodIndex(data["year"].astype(int).astype(str), freq="Y")
    return pd.Series(data["volume"].to_numpy(np.float64), index=index, name="nile")


def _check_poly(coefficients, name: str) -> np.ndarray:
    array = np.atleast_1d(np.asarray(coefficients, dtype=np.float64))
    if array.ndim != 1 or not np.isfinite(array).all():
        raise ValueError(f"{name} must be a 1-D sequence of finite coefficients.")
    return array


def make_arma_process(
    ar=(0.5,),
    ma=(),
    n_samples: int = 1000,
    *,
    sigma: float = 1.0,
    constant: float = 0.0,
    burn_in: int = 500,
    random_state=None,
):
    """Simulate an ARMA(p, q) process.

    ``y_t = c + Σ_i ar[i-1] y_{t-i} + ε_t + Σ_j ma[j-1] ε_{t-j}``, ``ε_t ~ N(0, sigma²)``
    (statsmodels' sign convention, so ``ARIMA(order=(p, 0, q))`` estimates ``ar`` and ``ma``
    directly). The first ``burn_in`` simulated values are dropped so that the series starts
    in the stationary regime.

    Parameters
    ----------
    ar : sequence of float, default=(0.5,)
        AR coefficients ``φ_1..φ_p``.
    ma : sequence of float, default=()
        MA coefficients ``θ_1..θ_q``.
    n_samples : int, default=1000
        Length of the returned series.
    sigma : float, default=1.0
        Standard deviation of the innovations.
    constant : float, default=0.0
        Intercept ``c``.
    burn_in : int, default=500
        Simulated steps discarded at the start.
    random_state : int, RandomState instance or None
        Seed of the innovations.

    Returns
    -------
    y : ndarray of shape (n_samples,)
    """
    ar = _check_poly(ar, "ar") if np.size(ar) else np.zeros(0)
    ma = _check_poly(ma, "ma") if np.size(ma) else np.zeros(0)
    if ar.size and np.any(np.abs(np.roots(np.r_[1.0, -ar][::-1])) <= 1.0):
        raise ValueError(
            f"ar={ar.tolist()} is not stationary: a root of 1 - Σ φ_i z^i lies inside the unit "
            "circle."
        )
    if n_samples < 1 or sigma <= 0 or burn_in < 0:
        raise ValueError("n_samples must be >= 1, sigma > 0 and burn_in >= 0.")
    from scipy.signal import lfilter

    rng = check_random_state(random_state)
    eps = rng.normal(scale=sigma, size=int(n_samples) + int(burn_in))
    # (1 - Σ φ_i L^i)(y - μ) = (1 + Σ θ_j L^j) ε with the mean μ = c / (1 - Σ φ_i)
    y = lfilter(np.r_[1.0, ma], np.r_[1.0, -ar], eps) + constant / (1.0 - ar.sum())
    return y[int(burn_in) :]


def make_varma_process(
    ar=None,
    ma=None,
    n_samples: int = 1000,
    *,
    sigma=1.0,
    constant=None,
    burn_in: int = 500,
    random_state=None,
):
    """Simulate a VARMA(p, q) process of ``k`` series.

    ``y_t = c + Σ_i A_i y_{t-i} + ε_t + Σ_j M_j ε_{t-j}``, ``ε_t ~ N(0, Σ)`` (statsmodels'
    ``VARMAX`` convention: row ``r`` of ``A_i`` is the equation of series ``r``).

    Parameters
    ----------
    ar : array-like of shape (p, k, k) or (k, k), optional
        AR matrices ``A_1..A_p``; default ``[[0.5, 0.1], [0.0, 0.4]]`` (k = 2, p = 1).
    ma : array-like of shape (q, k, k) or (k, k), optional
        MA matrices ``M_1..M_q``; default none.
    n_samples : int, default=1000
        Length of the returned series.
    sigma : float or array-like of shape (k, k), default=1.0
        Innovation standard deviation (a scalar) or covariance matrix ``Σ``.
    constant : array-like of shape (k,), optional
        Intercept ``c``.
    burn_in : int, default=500
        Simulated steps discarded at the start.
    random_state : int, RandomState instance or None
        Seed of the innovations.

    Returns
    -------
    y : ndarray of shape (n_samples, k)
    """
    if ar is None and ma is None:
        ar = [[0.5, 0.1], [0.0, 0.4]]
    ar_m = None if ar is None else np.asarray(ar, dtype=np.float64)
    ma_m = None if ma is None else np.asarray(ma, dtype=np.float64)
    if ar_m is not None and ar_m.ndim == 2:
        ar_m = ar_m[None]
    if ma_m is not None and ma_m.ndim == 2:
        ma_m = ma_m[None]
    k = (ar_m if ar_m is not None else ma_m).shape[-1]
    ar_m = np.zeros((0, k, k)) if ar_m is None else ar_m
    ma_m = np.zeros((0, k, k)) if ma_m is None else ma_m
    for name, m in (("ar", ar_m), ("ma", ma_m)):
        if m.ndim != 3 or m.shape[1:] != (k, k):
            raise ValueError(f"{name} must have shape (lags, k, k) with one k; got {m.shape}.")
    p, q = ar_m.shape[0], ma_m.shape[0]
    if p:
        companion = np.zeros((k * p, k * p))
        companion[:k] = np.concatenate(list(ar_m), axis=1)
        companion[k:, :-k] = np.eye(k * (p - 1))
        if np.max(np.abs(np.linalg.eigvals(companion))) >= 1.0:
            raise ValueError("The AR matrices are not stationary (companion eigenvalue >= 1).")
    sigma = np.asarray(sigma, dtype=np.float64)
    cov = sigma**2 * np.eye(k) if sigma.ndim == 0 else sigma
    if cov.shape != (k, k):
        raise ValueError(f"sigma must be a scalar or a ({k}, {k}) covariance matrix.")
    c = np.zeros(k) if constant is None else np.asarray(constant, dtype=np.float64).reshape(k)
    rng = check_random_state(random_state)
    total = int(n_samples) + int(burn_in)
    eps = rng.multivariate_normal(np.zeros(k), cov, size=total)  # (T, k)
    y = np.zeros((total, k))
    for t in range(total):
        value = c + eps[t]
        for i in range(1, min(p, t) + 1):
            value = value + ar_m[i - 1] @ y[t - i]
        for j in range(1, min(q, t) + 1):
            value = value + ma_m[j - 1] @ eps[t - j]
        y[t] = value
    return y[int(burn_in) :]
