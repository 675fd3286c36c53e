"""The translator on ConvS2S, the convolutional encoder-decoder of Gehring et al. (2017).

The backbone, its equations and its deviations from the paper are in
:mod:`seqestim.nn.conv_s2s`; the task (vocabularies, teacher forcing, beam search, BLEU) in
:mod:`seqestim.estimators.seq2seq`.

Reference: J. Gehring, M. Auli, D. Grangier, D. Yarats, Y. N. Dauphin. "Convolutional Sequence
to Sequence Learning." ICML 2017, arXiv:1705.03122.
"""

from __future__ import annotations

from seqestim.estimators.seq2seq import Seq2Seq
from seqestim.nn.conv_s2s import ConvS2S, ConvS2SParams

__all__ = ["ConvS2STranslator"]


class ConvS2STranslator(ConvS2SParams, Seq2Seq):
    """Translator on a convolutional encoder-decoder with GLUs and multi-step attention.

    Examples
    --------
    >>> from seqestim import ConvS2STranslator
    >>> from seqestim.datasets import make_date_normalization
    >>> X, y = make_date_normalization(100, languages="en", random_state=0)
    >>> model = ConvS2STranslator(d_model=16, d_embedding=16, max_epochs=1, random_state=0)
    >>> model.fit(X, y).predict(X[:2]).shape
    (2,)
    """

    _backbone = ConvS2S
