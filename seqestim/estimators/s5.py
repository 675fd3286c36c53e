"""Estimators on S5, simplified state space layers (Smith, Warrington & Linderman 2023).

The backbone, its parallel scan and its initialisation are in :mod:`seqestim.nn.s5`. As in the
paper, the classifier and regressor average the features over the real steps before their head
(``pooling="mean"``).

Reference: J. T. H. Smith, A. Warrington, S. W. Linderman. "Simplified State Space Layers for
Sequence Modeling." ICLR 2023, arXiv:2208.04933.
"""

from __future__ import annotations

from seqestim.estimators.classifier import SequenceClassifier
from seqestim.estimators.forecaster import SequenceForecaster
from seqestim.estimators.language_model import LanguageModel
from seqestim.estimators.regressor import SequenceRegressor
from seqestim.nn._params import param
from seqestim.nn.s5 import S5, S5Params

__all__ = [
    "S5Classifier",
    "S5Forecaster",
    "S5LanguageModel",
    "S5Regressor",
]


class S5Classifier(S5Params, SequenceClassifier):
    """Sequence classifier on a stack of S5 layers (diagonal MIMO state space models).

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import S5Classifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))  # 40 sequences, 2 channels, 16 steps
    >>> y = (X[:, 0].mean(axis=1) > 0).astype(int)
    >>> clf = S5Classifier(d_model=8, d_state=8, n_layers=1, max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """

    _backbone = S5
    pooling: str = param("mean")


class S5Regressor(S5Params, SequenceRegressor):
    """Sequence regressor on a stack of S5 layers (diagonal MIMO state space models).

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import S5Regressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))
    >>> reg = S5Regressor(d_model=8, d_state=8, n_layers=1, max_epochs=5, random_state=0).fit(
    ...     X, X[:, 0].sum(axis=1)
    ... )
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    _backbone = S5
    pooling: str = param("mean")


class S5Forecaster(S5Params, SequenceForecaster):
    """Forecaster on a stack of S5 layers (diagonal MIMO state space models).

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import S5Forecaster
    >>> y = np.sin(np.arange(120) / 6.0)
    >>> forecaster = S5Forecaster(
    ...     d_model=8, d_state=8, n_layers=1, max_epochs=5, random_state=0
    ... ).fit(y)
    >>> forecaster.predict(fh=6).shape
    (6,)
    """

    _backbone = S5


class S5LanguageModel(S5Params, LanguageModel):
    """Language model on a stack of causal S5 layers.

    Examples
    --------
    >>> from seqestim import S5LanguageModel
    >>> texts = ["abcabcabc", "bcabcabca", "cabcabcab"] * 10
    >>> lm = S5LanguageModel(d_model=16, d_state=16, n_layers=1, max_epochs=20, lr=0.01)
    >>> lm = lm.set_params(random_state=0).fit(texts)
    >>> lm.perplexity(texts) < 2.0  # a uniform guess among a, b and c scores 3
    True
    >>> lm.generate("ab", max_new_tokens=6, random_state=0)
    'cabcab'
    """

    _backbone = S5
