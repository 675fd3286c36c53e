"""Estimators on the Deep Equilibrium Model (Bai, Kolter & Koltun 2019).

The backbone (a weight-tied transformer layer solved for its fixed point by Anderson
acceleration or Broyden's method, with the implicit backward pass) is in
:mod:`seqestim.nn.deq`. The estimators report how hard the last solve was
(``solver_iterations_``, ``solver_residual_``); a solve that stops at ``max_iter`` above
``tol`` warns with :class:`~seqestim.nn.deq.DEQConvergenceWarning`. The language model reads
chunks of ``context_length`` tokens (the equilibrium has no state to carry).

Reference: S. Bai, J. Z. Kolter, V. Koltun. "Deep Equilibrium Models." NeurIPS 2019,
arXiv:1909.01377.
"""

from __future__ import annotations

from seqestim.estimators.language_model import LanguageModel
from seqestim.nn.deq import DEQ, DEQParams

__all__ = ["DEQLanguageModel"]


class _SolverReport:
    """Reads the statistics of the backbone's last solve into fitted attributes."""

    _network_attributes = ("solver_iterations_", "solver_residual_")

    def _fitted_from_network(self) -> dict:
        deq = next(m for m in self.net_.module_.modules() if isinstance(m, DEQ))
        stats = deq.solver_stats
        if not stats:
            return {}
        return {
            "solver_iterations_": int(stats["forward_iterations"]),
            "solver_residual_": float(stats["forward_residual"]),
        }


class DEQLanguageModel(_SolverReport, DEQParams, LanguageModel):
    """Language model on a Deep Equilibrium Model (a transformer layer at its fixed point).

    Attributes
    ----------
    solver_iterations_ : int
        Solver iterations of the last forward pass of training (the most over its rows).
    solver_residual_ : float
        Relative residual ``||f(z) - z|| / ||f(z)||`` that solve reached (the largest over
        its rows).

    Examples
    --------
    >>> from seqestim import DEQLanguageModel
    >>> texts = ["abcabcabc", "bcabcabca", "cabcabcab"] * 10
    >>> lm = DEQLanguageModel(d_model=16, n_heads=2, max_epochs=20, lr=0.01, random_state=0)
    >>> lm = lm.fit(texts)
    >>> lm.perplexity(texts) < 2.0  # a uniform guess among a, b and c scores 3
    True
    >>> len(lm.generate("ab", max_new_tokens=6, random_state=0))
    6
    """

    _backbone = DEQ
    _fitted_attributes = ("solver_iterations_", "solver_residual_")
