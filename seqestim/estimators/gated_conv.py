"""Estimators on the gated convolutional network (Dauphin, Fan, Auli & Grangier 2017).

The backbone (causal convolutions with gated linear units, residual and bottleneck blocks,
weight normalisation) is in :mod:`seqestim.nn.gated_conv`. As in the paper, the language model
clips the gradient norm at 0.1 and, for vocabularies of more than 10000 tokens, scores them with
an adaptive softmax. Its state across chunks is the network's receptive field, so a long text is
read as one sequence. The classifier summarises a sequence at its last real step (the network is
causal).

Reference: Y. N. Dauphin, A. Fan, M. Auli, D. Grangier. "Language Modeling with Gated
Convolutional Networks." ICML 2017, arXiv:1612.08083.
"""

from __future__ import annotations

from seqestim.estimators.classifier import SequenceClassifier
from seqestim.estimators.language_model import LanguageModel
from seqestim.nn._params import param
from seqestim.nn.gated_conv import GatedConv, GatedConvParams

__all__ = ["GatedConvClassifier", "GatedConvLanguageModel"]


class GatedConvClassifier(GatedConvParams, SequenceClassifier):
    """Sequence classifier on a gated convolutional network (causal GLU convolutions).

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import GatedConvClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))  # 40 sequences, 2 channels, 16 steps
    >>> y = (X[:, 0].mean(axis=1) > 0).astype(int)
    >>> clf = GatedConvClassifier(d_model=8, n_blocks=1, max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """

    _backbone = GatedConv


class GatedConvLanguageModel(GatedConvParams, LanguageModel):
    """Language model on a gated convolutional network (causal GLU convolutions).

    Examples
    --------
    >>> from seqestim import GatedConvLanguageModel
    >>> texts = ["abcabcabc", "bcabcabca", "cabcabcab"] * 10
    >>> lm = GatedConvLanguageModel(d_model=16, n_blocks=1, max_epochs=20, lr=0.01)
    >>> lm = lm.set_params(random_state=0).fit(texts)
    >>> lm.perplexity(texts) < 2.0  # a uniform guess among a, b and c scores 3
    True
    >>> len(lm.generate("ab", max_new_tokens=6, random_state=0))
    6
    """

    _backbone = GatedConv
    gradient_clip: float | None = param(0.1)
    adaptive_softmax: str | list | None = param("auto")
