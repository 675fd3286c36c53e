"""Estimators on the Block-Recurrent Transformer (Hutchins, Schlag, Wu, Dyer & Neyshabur 2022).

The backbone (sliding-window attention with the T5 relative position bias, and a recurrent
state of ``n_state`` vectors updated once per block through attention and a gate) is in
:mod:`seqestim.nn.block_recurrent`. The language model carries the state (and the window's
cached keys) across training chunks without a gradient across them, as the paper does across
its segments, so a long text is read as one sequence at a cost linear in its length. The
classifier summarises a sequence at its last real step (the network is causal).

Reference: D. Hutchins, I. Schlag, Y. Wu, E. Dyer, B. Neyshabur. "Block-Recurrent
Transformers." NeurIPS 2022, arXiv:2203.07852.
"""

from __future__ import annotations

from seqestim.estimators.classifier import SequenceClassifier
from seqestim.estimators.language_model import LanguageModel
from seqestim.nn.block_recurrent import BlockRecurrentTransformer, BlockRecurrentTransformerParams

__all__ = ["BlockRecurrentTransformerClassifier", "BlockRecurrentTransformerLanguageModel"]


class BlockRecurrentTransformerClassifier(BlockRecurrentTransformerParams, SequenceClassifier):
    """Sequence classifier on a Block-Recurrent Transformer (sliding window and block state).

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import BlockRecurrentTransformerClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))  # 40 sequences, 2 channels, 16 steps
    >>> y = (X[:, 0].mean(axis=1) > 0).astype(int)
    >>> clf = BlockRecurrentTransformerClassifier(
    ...     d_model=8,
    ...     n_layers=1,
    ...     n_heads=2,
    ...     block_size=4,
    ...     window_size=4,
    ...     n_state=4,
    ...     max_epochs=5,
    ...     random_state=0,
    ... ).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """

    _backbone = BlockRecurrentTransformer


class BlockRecurrentTransformerLanguageModel(BlockRecurrentTransformerParams, LanguageModel):
    """Language model on a Block-Recurrent Transformer (sliding window and block state).

    Examples
    --------
    >>> from seqestim import BlockRecurrentTransformerLanguageModel
    >>> texts = ["abcabcabc", "bcabcabca", "cabcabcab"] * 10
    >>> lm = BlockRecurrentTransformerLanguageModel(
    ...     d_model=16,
    ...     n_layers=1,
    ...     n_heads=2,
    ...     block_size=4,
    ...     window_size=4,
    ...     n_state=4,
    ...     max_epochs=20,
    ...     lr=0.01,
    ...     random_state=0,
    ... ).fit(texts)
    >>> lm.perplexity(texts) < 2.0  # a uniform guess among a, b and c scores 3
    True
    >>> len(lm.generate("ab", max_new_tokens=6, random_state=0))
    6
    """

    _backbone = BlockRecurrentTransformer
