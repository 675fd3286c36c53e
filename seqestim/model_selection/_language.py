"""How far a language model is from the best possible one on a language of known entropy."""

from __future__ import annotations

import math

__all__ = ["cross_entropy_gap"]


def cross_entropy_gap(estimator, X, lower_bound: float) -> float:
    """Cross-entropy of a fitted language model on ``X`` minus its lower bound, in nats.

    DuSell & Chiang (2022) report this difference for their context-free tasks: the model's
    cross-entropy per symbol (the end of each string counted as a symbol) minus the entropy of
    the true distribution of the same strings, which
    :func:`seqestim.datasets.make_cfl` returns with the strings. 0 is the best any model can do.

    Parameters
    ----------
    estimator : fitted language model
        Anything whose ``score(X)`` is minus the mean cross-entropy per predicted token in
        nats, the end-of-sequence token included (every seqestim language model).
    X : list of str
        The strings the bound was computed for.
    lower_bound : float
        Their lower bound, in nats per symbol.

    Returns
    -------
    gap : float
        In nats per symbol; ``exp(gap)`` is the ratio of the model's perplexity to the lowest.

    Examples
    --------
    >>> from seqestim import LSTMLanguageModel
    >>> from seqestim.datasets import make_cfl
    >>> from seqestim.model_selection import cross_entropy_gap
    >>> strings, bound = make_cfl(
    ...     "marked_reversal", n=40, min_length=5, max_length=9, random_state=0
    ... )
    >>> lm = LSTMLanguageModel(d_model=8, max_epochs=2, random_state=0).fit(strings)
    >>> cross_entropy_gap(lm, strings, bound) > 0
    True
    """
    if not (isinstance(lower_bound, int | float) and math.isfinite(lower_bound)):
        raise ValueError(f"lower_bound must be a finite number; got {lower_bound!r}.")
    return float(-estimator.score(X) - lower_bound)
