"""Estimators on the gated recurrent networks compared by Chung et al. (2014): tanh RNN, GRU, LSTM.

The backbones and their equations are in :mod:`seqestim.nn.gated_rnn`; every estimator here
takes their :class:`~seqestim.nn.gated_rnn.RecurrentParams` (width, depth, direction, dropout
and the recurrent normalizations) plus its task's and the training parameters.

Reference: J. Chung, C. Gulcehre, K. Cho, Y. Bengio. "Empirical Evaluation of Gated Recurrent
Neural Networks on Sequence Modeling." NIPS 2014 Deep Learning Workshop, arXiv:1412.3555.
"""

from __future__ import annotations

from seqestim.estimators.classifier import SequenceClassifier
from seqestim.estimators.forecaster import SequenceForecaster
from seqestim.estimators.language_model import LanguageModel
from seqestim.estimators.polyphonic import PolyphonicModel
from seqestim.estimators.regressor import SequenceRegressor
from seqestim.nn.gated_rnn import GRU, LSTM, RNN, RecurrentParams

__all__ = [
    "GRUClassifier",
    "GRUForecaster",
    "GRULanguageModel",
    "GRUPolyphonicModel",
    "GRURegressor",
    "LSTMClassifier",
    "LSTMForecaster",
    "LSTMLanguageModel",
    "LSTMPolyphonicModel",
    "LSTMRegressor",
    "RNNClassifier",
    "RNNForecaster",
    "RNNLanguageModel",
    "RNNPolyphonicModel",
    "RNNRegressor",
]


class RNNClassifier(RecurrentParams, SequenceClassifier):
    """Sequence classifier on a tanh recurrent network, the ungated baseline of Chung et al.

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import RNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))  # 40 sequences, 2 channels, 16 steps
    >>> y = (X[:, 0].mean(axis=1) > 0).astype(int)
    >>> clf = RNNClassifier(d_model=8, max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """

    _backbone = RNN


class RNNRegressor(RecurrentParams, SequenceRegressor):
    """Sequence regressor on a tanh recurrent network, the ungated baseline of Chung et al.

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import RNNRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))
    >>> reg = RNNRegressor(d_model=8, max_epochs=5, random_state=0).fit(X, X[:, 0].sum(axis=1))
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    _backbone = RNN


class RNNForecaster(RecurrentParams, SequenceForecaster):
    """Forecaster on a tanh recurrent network, the ungated baseline of Chung et al.

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import RNNForecaster
    >>> y = np.sin(np.arange(120) / 6.0)
    >>> forecaster = RNNForecaster(d_model=8, max_epochs=5, random_state=0).fit(y)
    >>> forecaster.predict(fh=6).shape
    (6,)
    """

    _backbone = RNN


class GRUClassifier(RecurrentParams, SequenceClassifier):
    """Sequence classifier on gated recurrent units, in the form of Chung et al. (2014).

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import GRUClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))  # 40 sequences, 2 channels, 16 steps
    >>> y = (X[:, 0].mean(axis=1) > 0).astype(int)
    >>> clf = GRUClassifier(d_model=8, max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """

    _backbone = GRU


class GRURegressor(RecurrentParams, SequenceRegressor):
    """Sequence regressor on gated recurrent units, in the form of Chung et al. (2014).

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import GRURegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))
    >>> reg = GRURegressor(d_model=8, max_epochs=5, random_state=0).fit(X, X[:, 0].sum(axis=1))
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    _backbone = GRU


class GRUForecaster(RecurrentParams, SequenceForecaster):
    """Forecaster on gated recurrent units, in the form of Chung et al. (2014).

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import GRUForecaster
    >>> y = np.sin(np.arange(120) / 6.0)
    >>> forecaster = GRUForecaster(d_model=8, max_epochs=5, random_state=0).fit(y)
    >>> forecaster.predict(fh=6).shape
    (6,)
    """

    _backbone = GRU


class LSTMClassifier(RecurrentParams, SequenceClassifier):
    """Sequence classifier on LSTM units with diagonal peepholes, as compared by Chung et al.

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import LSTMClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))  # 40 sequences, 2 channels, 16 steps
    >>> y = (X[:, 0].mean(axis=1) > 0).astype(int)
    >>> clf = LSTMClassifier(d_model=8, max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """

    _backbone = LSTM


class LSTMRegressor(RecurrentParams, SequenceRegressor):
    """Sequence regressor on LSTM units with diagonal peepholes, as compared by Chung et al.

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import LSTMRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))
    >>> reg = LSTMRegressor(d_model=8, max_epochs=5, random_state=0).fit(X, X[:, 0].sum(axis=1))
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    _backbone = LSTM


class LSTMForecaster(RecurrentParams, SequenceForecaster):
    """Forecaster on LSTM units with diagonal peepholes, as compared by Chung et al.

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import LSTMForecaster
    >>> y = np.sin(np.arange(120) / 6.0)
    >>> forecaster = LSTMForecaster(d_model=8, max_epochs=5, random_state=0).fit(y)
    >>> forecaster.predict(fh=6).shape
    (6,)
    """

    _backbone = LSTM


class RNNLanguageModel(RecurrentParams, LanguageModel):
    """Language model on a tanh recurrent network.

    Examples
    --------
    >>> from seqestim import RNNLanguageModel
    >>> texts = ["abcabcabc", "bcabcabca", "cabcabcab"] * 10
    >>> lm = RNNLanguageModel(d_model=16, max_epochs=20, lr=0.01, random_state=0)
    >>> lm = lm.fit(texts)
    >>> lm.perplexity(texts) < 2.0  # a uniform guess among a, b and c scores 3
    True
    >>> lm.generate("ab", max_new_tokens=6, random_state=0)
    'cabcab'
    """

    _backbone = RNN


class GRULanguageModel(RecurrentParams, LanguageModel):
    """Language model on gated recurrent units (Chung et al. 2014).

    Examples
    --------
    >>> from seqestim import GRULanguageModel
    >>> texts = ["abcabcabc", "bcabcabca", "cabcabcab"] * 10
    >>> lm = GRULanguageModel(d_model=16, max_epochs=20, lr=0.01, random_state=0)
    >>> lm = lm.fit(texts)
    >>> lm.perplexity(texts) < 2.0  # a uniform guess among a, b and c scores 3
    True
    >>> lm.generate("ab", max_new_tokens=6, random_state=0)
    'cabcab'
    """

    _backbone = GRU


class LSTMLanguageModel(RecurrentParams, LanguageModel):
    """Language model on LSTM units with diagonal peepholes.

    Examples
    --------
    >>> from seqestim import LSTMLanguageModel
    >>> texts = ["abcabcabc", "bcabcabca", "cabcabcab"] * 10
    >>> lm = LSTMLanguageModel(d_model=16, max_epochs=20, lr=0.01, random_state=0)
    >>> lm = lm.fit(texts)
    >>> lm.perplexity(texts) < 2.0  # a uniform guess among a, b and c scores 3
    True
    >>> lm.generate("ab", max_new_tokens=6, random_state=0)
    'cabcab'
    """

    _backbone = LSTM


class RNNPolyphonicModel(RecurrentParams, PolyphonicModel):
    """Next-frame model of piano rolls on a tanh RNN, the ungated baseline of Chung et al.

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import RNNPolyphonicModel
    >>> rng = np.random.RandomState(0)
    >>> rolls = (rng.rand(20, 6, 16) < 0.3).astype(float)  # 20 rolls, 6 pitches, 16 frames
    >>> model = RNNPolyphonicModel(d_model=8, max_epochs=3, random_state=0).fit(rolls)
    >>> model.predict_proba(rolls[:2]).shape  # every pitch of every frame
    (2, 6, 16)
    >>> bool(model.nll(rolls) > 0)  # nats per frame
    True
    """

    _backbone = RNN


class GRUPolyphonicModel(RecurrentParams, PolyphonicModel):
    """Next-frame model of piano rolls on gated recurrent units (Chung et al. 2014).

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import GRUPolyphonicModel
    >>> rng = np.random.RandomState(0)
    >>> rolls = (rng.rand(20, 6, 16) < 0.3).astype(float)  # 20 rolls, 6 pitches, 16 frames
    >>> model = GRUPolyphonicModel(d_model=8, max_epochs=3, random_state=0).fit(rolls)
    >>> model.predict_proba(rolls[:2]).shape  # every pitch of every frame
    (2, 6, 16)
    >>> bool(model.nll(rolls) > 0)  # nats per frame
    True
    """

    _backbone = GRU


class LSTMPolyphonicModel(RecurrentParams, PolyphonicModel):
    """Next-frame model of piano rolls on LSTM units with diagonal peepholes (Chung et al.).

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import LSTMPolyphonicModel
    >>> rng = np.random.RandomState(0)
    >>> rolls = (rng.rand(20, 6, 16) < 0.3).astype(float)  # 20 rolls, 6 pitches, 16 frames
    >>> model = LSTMPolyphonicModel(d_model=8, max_epochs=3, random_state=0).fit(rolls)
    >>> model.predict_proba(rolls[:2]).shape  # every pitch of every frame
    (2, 6, 16)
    >>> bool(model.nll(rolls) > 0)  # nats per frame
    True
    """

    _backbone = LSTM
