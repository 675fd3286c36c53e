"""Estimators on the temporal convolutional network (Bai, Kolter & Koltun 2018).

The backbone (causal dilated convolutions with residual blocks) is in :mod:`seqestim.nn.tcn`;
it is the baseline the CDIL paper compares against.

Reference: S. Bai, J. Z. Kolter, V. Koltun. "An Empirical Evaluation of Generic Convolutional and
Recurrent Networks for Sequence Modeling." arXiv:1803.01271 (2018).
"""

from __future__ import annotations

from seqestim.estimators.classifier import SequenceClassifier
from seqestim.estimators.forecaster import SequenceForecaster
from seqestim.estimators.language_model import LanguageModel
from seqestim.estimators.regressor import SequenceRegressor
from seqestim.nn.tcn import TCN, TCNParams

__all__ = [
    "TCNClassifier",
    "TCNForecaster",
    "TCNLanguageModel",
    "TCNRegressor",
]


class TCNClassifier(TCNParams, SequenceClassifier):
    """Sequence classifier on a temporal convolutional network (causal dilated convolutions).

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import TCNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))  # 40 sequences, 2 channels, 16 steps
    >>> y = (X[:, 0].mean(axis=1) > 0).astype(int)
    >>> clf = TCNClassifier(d_model=6, n_layers=2, max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """

    _backbone = TCN


class TCNRegressor(TCNParams, SequenceRegressor):
    """Sequence regressor on a temporal convolutional network (causal dilated convolutions).

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import TCNRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))
    >>> reg = TCNRegressor(d_model=6, n_layers=2, max_epochs=5, random_state=0).fit(
    ...     X, X[:, 0].sum(axis=1)
    ... )
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    _backbone = TCN


class TCNForecaster(TCNParams, SequenceForecaster):
    """Forecaster on a temporal convolutional network (causal dilated convolutions).

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import TCNForecaster
    >>> y = np.sin(np.arange(120) / 6.0)
    >>> forecaster = TCNForecaster(d_model=6, n_layers=2, max_epochs=5, random_state=0).fit(y)
    >>> forecaster.predict(fh=6).shape
    (6,)
    """

    _backbone = TCN


class TCNLanguageModel(TCNParams, LanguageModel):
    """Language model on a temporal convolutional network (causal dilated convolutions).

    Examples
    --------
    >>> from seqestim import TCNLanguageModel
    >>> texts = ["abcabcabc", "bcabcabca", "cabcabcab"] * 10
    >>> lm = TCNLanguageModel(d_model=16, max_epochs=20, lr=0.01, random_state=0)
    >>> lm = lm.fit(texts)
    >>> lm.perplexity(texts) < 2.0  # a uniform guess among a, b and c scores 3
    True
    >>> lm.generate("ab", max_new_tokens=6, random_state=0)
    'cabcab'
    """

    _backbone = TCN
