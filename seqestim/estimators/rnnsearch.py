"""The translator on RNNsearch, the GRU encoder-decoder with attention of Bahdanau et al. (2015).

The backbone and its equations are in :mod:`seqestim.nn.rnnsearch`; it is the recurrent baseline
next to the convolutional (:mod:`seqestim.estimators.conv_s2s`) and deep-LSTM
(:mod:`seqestim.estimators.gnmt`) translators.

Reference: D. Bahdanau, K. Cho, Y. Bengio. "Neural Machine Translation by Jointly Learning to
Align and Translate." ICLR 2015, arXiv:1409.0473.
"""

from __future__ import annotations

from seqestim.estimators.seq2seq import Seq2Seq
from seqestim.nn.rnnsearch import RNNSearch, RNNSearchParams

__all__ = ["RNNSearchTranslator"]


class RNNSearchTranslator(RNNSearchParams, Seq2Seq):
    """Translator on a GRU encoder-decoder with additive attention (Bahdanau et al. 2015).

    Examples
    --------
    >>> from seqestim import RNNSearchTranslator
    >>> from seqestim.datasets import make_transduction
    >>> X, y = make_transduction(200, task="reverse", max_length=6, random_state=0)
    >>> model = RNNSearchTranslator(d_model=16, max_epochs=2, random_state=0).fit(X, y)
    >>> model.predict(X[:2]).shape
    (2,)
    """

    _backbone = RNNSearch
