"""The translator on GNMT, the deep LSTM encoder-decoder of Wu et al. (2016).

The backbone, its equations and its deviations from the paper are in :mod:`seqestim.nn.gnmt`;
the task (vocabularies, teacher forcing, beam search with GNMT's length normalisation and
coverage penalty, BLEU) in :mod:`seqestim.estimators.seq2seq`. As in the paper, the translator
reads wordpieces from one vocabulary shared by sources and targets by default, and decodes with
``length_penalty = coverage_penalty = 0.2``.

Reference: Y. Wu, M. Schuster, Z. Chen, et al. "Google's Neural Machine Translation System:
Bridging the Gap between Human and Machine Translation." arXiv:1609.08144, 2016.
"""

from __future__ import annotations

from seqestim.estimators.seq2seq import Seq2Seq
from seqestim.nn._params import param
from seqestim.nn.gnmt import GNMT, GNMTParams

__all__ = ["GNMTTranslator"]


class GNMTTranslator(GNMTParams, Seq2Seq):
    """Translator on GNMT's residual LSTM stack with a bidirectional bottom encoder layer.

    Examples
    --------
    >>> from seqestim import GNMTTranslator
    >>> from seqestim.datasets import make_number_words
    >>> X, y = make_number_words(100, random_state=0)
    >>> model = GNMTTranslator(d_model=16, d_attention=16, max_epochs=1, random_state=0)
    >>> model.fit(X, y).predict(X[:2]).shape
    (2,)
    """

    _backbone = GNMT
    tokenizer: str = param("wordpiece")
    shared_vocabulary: bool = param(True)
