"""Estimators on the ARMA cell (Schiele, Berninger & Rügamer 2022).

The cell (:mod:`seqestim.nn.arma_cell`) is a recurrent (V)ARMA predictor over its own past
outputs. For one-step point forecasting of the series alone (``horizon=1`` and ``loss="mse"``,
the defaults here, and no exogenous ``X``) a linear one-layer cell *is* the forecast: the
network has no head, and :class:`ARMACellForecaster` reports the classical coefficients of the
fitted model, ``ar_coefficients_``, ``ma_coefficients_`` and ``intercept_``, in the units of
``y``.

The cell is trained on the standardised series, so its own coefficients are mapped back: with
``D = diag(y_scale_)`` and ``μ = y_mean_``, ``A -> D A D⁻¹`` for every AR and MA matrix (a no-op
for one series) and ``c -> (I - Σ A_i) μ + D c``. In every other configuration (exogenous
channels, ``horizon > 1``, a quantile or normal head, several units or layers, a non-linear
activation) a linear head maps the cell's outputs, no classical coefficients describe the
forecast, and these attributes are not set; nor are they with per-window normalisation or a
global fit over several series, whose scaling differs from window to window or series to series.
Unlike the other neural forecasters, the ARMA cell therefore defaults to ``loss="mse"`` and
``window_normalization="none"``.

Reference: P. Schiele, C. Berninger, D. Rügamer. "ARMA Cell: A Modular and Effective Approach
for Neural Autoregressive Modeling." arXiv:2208.14919 (2022).
"""

from __future__ import annotations

import numpy as np

from seqestim.estimators.forecaster import SequenceForecaster
from seqestim.estimators.regressor import SequenceRegressor
from seqestim.nn._params import param
from seqestim.nn.arma_cell import ARMACell, ARMACellParams
from seqestim.nn.heads import IdentityHead

__all__ = ["ARMACellForecaster", "ARMACellRegressor"]


class ARMACellRegressor(ARMACellParams, SequenceRegressor):
    """Sequence regressor on the ARMA cell, a recurrent (V)ARMA predictor over its own outputs.

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import ARMACellRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))  # 40 sequences, 2 channels, 16 steps
    >>> reg = ARMACellRegressor(p=1, q=1, max_epochs=5, random_state=0)
    >>> reg.fit(X, X[:, 0].sum(axis=1)).predict(X[:3]).shape
    (3,)
    """

    _backbone = ARMACell


class ARMACellForecaster(ARMACellParams, SequenceForecaster):
    """Forecaster on the ARMA cell; a linear one-step cell reports its ARMA coefficients.

    See the module docstring of :mod:`seqestim.estimators.arma_cell` for when the classical
    coefficients are set and how they are mapped to the units of ``y``.

    Attributes
    ----------
    ar_coefficients_ : ndarray of shape (p,) or (p, k, k)
        AR coefficients in the units of ``y`` (one series: ``(p,)``; ``k`` series: the VAR
        matrices). Only for a linear one-step cell without exogenous variables.
    ma_coefficients_ : ndarray of shape (q,) or (q, k, k)
        MA coefficients, likewise.
    intercept_ : float or ndarray of shape (k,)
        The intercept ``c`` of ``y_t = c + Σ A_i y_{t-i} + Σ B_j ε_{t-j} + ε_t``.

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import ARMACellForecaster
    >>> from seqestim.datasets import make_arma_process
    >>> y = make_arma_process(ar=[0.6], ma=[0.3], n_samples=600, random_state=0)
    >>> forecaster = ARMACellForecaster(p=1, q=1, max_epochs=20, lr=0.01, random_state=0)
    >>> forecaster = forecaster.fit(y)
    >>> forecaster.ar_coefficients_.shape, forecaster.predict(fh=3).shape
    ((1,), (3,))
    """

    _backbone = ARMACell
    _network_attributes = ("ar_coefficients_", "ma_coefficients_", "intercept_")
    horizon: int = param(1)
    # the paper's cell is a linear ARMA predictor of the standardised series: point forecasts,
    # no per-window normalisation, so that its coefficients describe the forecast
    loss: str = param("mse")
    window_normalization: str = param("none")
    lr: float = param(1e-3)  # the engine's defaults, not the other forecasters' short-series ones
    max_epochs: int = param(50)

    def _fitted_from_network(self) -> dict:
        """The cell's classical coefficients in the units of ``y``, when they are the model."""
        module = self.net_.module_
        if not isinstance(module.head, IdentityHead):
            return {}  # a linear head maps the cell's outputs: no classical description
        if self.window_normalization != "none" or self.series_ids_ is not None:
            return {}  # per-window or per-series scaling: no single set of coefficients
        coefficients = module.backbone.fitted_attributes()
        if not coefficients:
            return {}
        mean, scale = self.y_mean_, self.y_scale_  # (k,)
        ratio = scale[:, None] / scale[None, :]  # D A D^-1 elementwise
        ar = np.asarray(coefficients["ar_coefficients_"], dtype=np.float64)
        ma = np.asarray(coefficients["ma_coefficients_"], dtype=np.float64)
        intercept = np.atleast_1d(np.asarray(coefficients["intercept_"], dtype=np.float64))
        if ar.ndim == 3:
            ar, ma = ar * ratio, ma * ratio
            intercept = (np.eye(len(mean)) - ar.sum(axis=0)) @ mean + scale * intercept
        else:
            intercept = float((1.0 - ar.sum()) * mean[0] + scale[0] * intercept[0])
        return {"ar_coefficients_": ar, "ma_coefficients_": ma, "intercept_": intercept}
