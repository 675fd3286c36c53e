"""Estimators on NC-GRU, a GRU with an orthogonal Neumann-Cayley recurrence (Mucllari et al.).

The backbone, its scaled Cayley parametrisation and the exact and Neumann update modes are in
:mod:`seqestim.nn.nc_gru`.

Reference: E. Mucllari, V. Zadorozhnyy, C. Pospisil, D. Nguyen, Q. Ye. "Orthogonal Gated
Recurrent Unit with Neumann-Cayley Transformation." Neural Computation 36 (2024);
arXiv:2208.06496.
"""

from __future__ import annotations

from seqestim.estimators.classifier import SequenceClassifier
from seqestim.estimators.forecaster import SequenceForecaster
from seqestim.estimators.regressor import SequenceRegressor
from seqestim.nn.nc_gru import NCGRU, NCGRUParams

__all__ = [
    "NCGRUClassifier",
    "NCGRUForecaster",
    "NCGRURegressor",
]


class NCGRUClassifier(NCGRUParams, SequenceClassifier):
    """Sequence classifier on NC-GRU: a GRU whose candidate recurrence stays orthogonal.

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import NCGRUClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))  # 40 sequences, 2 channels, 16 steps
    >>> y = (X[:, 0].mean(axis=1) > 0).astype(int)
    >>> clf = NCGRUClassifier(d_model=8, max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """

    _backbone = NCGRU


class NCGRURegressor(NCGRUParams, SequenceRegressor):
    """Sequence regressor on NC-GRU: a GRU whose candidate recurrence stays orthogonal.

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import NCGRURegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))
    >>> reg = NCGRURegressor(d_model=8, max_epochs=5, random_state=0).fit(X, X[:, 0].sum(axis=1))
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    _backbone = NCGRU


class NCGRUForecaster(NCGRUParams, SequenceForecaster):
    """Forecaster on NC-GRU: a GRU whose candidate recurrence stays orthogonal.

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import NCGRUForecaster
    >>> y = np.sin(np.arange(120) / 6.0)
    >>> forecaster = NCGRUForecaster(d_model=8, max_epochs=5, random_state=0).fit(y)
    >>> forecaster.predict(fh=6).shape
    (6,)
    """

    _backbone = NCGRU
