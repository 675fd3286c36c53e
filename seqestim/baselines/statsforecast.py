"""Nixtla's statsforecast AutoARIMA behind the seqestim forecaster interface (optional).

``statsforecast.models.AutoARIMA`` is a compiled port of ``forecast::auto.arima`` (Hyndman &
Khandakar 2008): the full stepwise search over ``(p, d, q)(P, D, Q)`` with unit-root and
seasonality tests, fitted by conditional sum of squares then maximum likelihood. It is the
usual fast reference next to :class:`seqestim.baselines.AutoARIMAForecaster`, our statsmodels
search over a smaller grid. statsforecast is imported when the forecaster is fitted; install it
with ``pip install 'seqestim[statsforecast]'``.

Its forecast distribution is Gaussian: quantiles are the mean plus the standard error (read off
statsforecast's 80% interval) times the normal quantile. ``_forecast_from`` applies the fitted
model to another history without re-estimating it (statsforecast's ``forward``).
"""

from __future__ import annotations

import numpy as np

from seqestim.estimators._series import BaseForecaster

__all__ = ["StatsForecastAutoARIMA"]

_CRITERIA = ("aic", "aicc", "bic")


def _auto_arima_class():
    try:
        from statsforecast.models import AutoARIMA
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "StatsForecastAutoARIMA needs the statsforecast package: "
            "pip install 'seqestim[statsforecast]'."
        ) from exc
    return AutoARIMA


class StatsForecastAutoARIMA(BaseForecaster):
    """statsforecast's AutoARIMA (``forecast::auto.arima``), an optional fast baseline.

    Parameters
    ----------
    sp : int, default=1
        Seasonal period (``season_length``); 1 for a non-seasonal model.
    d, D : int or None, default=None
        Differencing orders; None chooses them by KPSS and seasonal-strength tests.
    max_p, max_q : int, default=5
        Largest non-seasonal AR and MA orders.
    max_P, max_Q : int, default=2
        Largest seasonal AR and MA orders.
    max_order : int, default=5
        Largest ``p + q + P + Q``.
    information_criterion : {"aicc", "aic", "bic"}, default="aicc"
        Criterion minimised (auto.arima's default is AICc).
    stepwise : bool, default=True
        Hyndman-Khandakar stepwise search instead of the full grid.

    Attributes
    ----------
    model_ : statsforecast.models.AutoARIMA
        The fitted statsforecast model.
    order_ : tuple of int
        Chosen ``(p, d, q)``.
    seasonal_order_ : tuple of int
        Chosen ``(P, D, Q, s)``.
    n_series_, n_exog_, n_train_, cutoff_
        See :class:`seqestim.estimators.BaseForecaster`.

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim.baselines import StatsForecastAutoARIMA
    >>> from seqestim.datasets import load_airline
    >>> f = StatsForecastAutoARIMA(sp=12).fit(np.log(load_airline()))
    >>> f.predict_interval(fh=[1, 2], coverage=0.9).shape
    (2, 2)
    """

    _y_kind = "univariate"

    def __init__(
        self,
        sp=1,
        d=None,
        D=None,
        max_p=5,
        max_q=5,
        max_P=2,
        max_Q=2,
        max_order=5,
        information_criterion="aicc",
        stepwise=True,
    ):
        self.sp = sp
        self.d = d
        self.D = D
        self.max_p = max_p
        self.max_q = max_q
        self.max_P = max_P
        self.max_Q = max_Q
        self.max_order = max_order
        self.information_criterion = information_criterion
        self.stepwise = stepwise

    def _min_samples(self) -> int:
        if not isinstance(self.sp, int | np.integer) or self.sp < 1:
            raise ValueError(f"sp must be a positive int, got {self.sp!r}.")
        if self.information_criterion not in _CRITERIA:
            raise ValueError(
                f"information_criterion must be one of {_CRITERIA}, got "
                f"{self.information_criterion!r}."
            )
        return max(4, 2 * int(self.sp) + 1 if self.sp > 1 else 4)

    def _fit(self, y, X=None):
        AutoARIMA = _auto_arima_class()
        model = AutoARIMA(
            d=self.d,
            D=self.D,
            max_p=int(self.max_p),
            max_q=int(self.max_q),
            max_P=int(self.max_P),
            max_Q=int(self.max_Q),
            max_order=int(self.max_order),
            ic=self.information_criterion,
            stepwise=bool(self.stepwise),
            season_length=int(self.sp),
            seasonal=int(self.sp) > 1,
        )
        self.model_ = model.fit(y[:, 0], X=X)
        p, q, P, Q, s, d, D = (int(v) for v in self.model_.model_["arma"])
        self.order_ = (p, d, q)
        self.seasonal_order_ = (P, D, Q, s) if int(self.sp) > 1 else (0, 0, 0, 0)

    def _mean_and_se(self, forecast: dict) -> tuple[np.ndarray, np.ndarray]:
        from scipy.special import ndtri

        mean = np.asarray(forecast["mean"], dtype=np.float64)
        upper = np.asarray(forecast["hi-80"], dtype=np.float64)
        return mean, (upper - mean) / ndtri(0.9)

    def _predict(self, steps, X=None):
        forecast = self.model_.predict(h=int(steps.max()), X=X)
        return np.asarray(forecast["mean"], dtype=np.float64)[steps - 1, None]

    def _predict_quantiles(self, steps, X, alpha):
        from scipy.special import ndtri

        mean, se = self._mean_and_se(self.model_.predict(h=int(steps.max()), X=X, level=[80]))
        quantiles = mean[:, None] + se[:, None] * ndtri(np.asarray(alpha))  # (h, A)
        return quantiles[steps - 1, None, :]

    def _forecast_from(self, histories, X_histories, steps, X_futures, alpha=None):
        from scipy.special import ndtri

        points, quantiles = [], []
        for i, history in enumerate(histories):
            forecast = self.model_.forward(
                y=np.asarray(history, dtype=np.float64)[:, 0],
                h=int(steps.max()),
                X=None if X_histories is None else X_histories[i],
                X_future=None if X_futures is None else X_futures[i],
                level=[80],
            )
            mean, se = self._mean_and_se(forecast)
            points.append(mean[steps - 1, None])
            if alpha is not None:
                q = mean[:, None] + se[:, None] * ndtri(np.asarray(alpha))
                quantiles.append(q[steps - 1, None, :])
        return np.stack(points), (None if alpha is None else np.stack(quantiles))
