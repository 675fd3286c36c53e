"""The memorization-limit diagnostic (Illium et al., ICAART 2022) and Jaeger's memory capacity.

References
----------
S. Illium, T. Schillman, R. Müller, T. Gabor, C. Linnhoff-Popien. "Empirical Analysis of Limits
for Memory Distance in Recurrent Neural Networks." ICAART 2022, pp. 308-315; arXiv:2212.11085.

H. Jaeger. "Short term memory in echo state networks." GMD Report 152, 2001 (the memory
capacity).

For every distance ``k`` the diagnostic trains a fresh copy of the estimator on the random
memorization task (:func:`seqestim.datasets.make_memorization`: i.i.d. inputs, the target is the
input ``k`` steps before the last one) and scores it on new sequences. Reported per distance:

- the estimator's own score: R² for a regressor (real inputs), accuracy for a classifier
  (symbols);
- Jaeger's memory capacity ``MC_k = cov²(x(t-k), y_k(t)) / (Var x(t) · Var y_k(t))``, the
  squared correlation between the remembered input and the model's output, over the test
  sequences (for a classifier, the output is the expected symbol under ``predict_proba``);

and the **memory limit**: the largest distance whose score reaches ``threshold`` (0.9 R² or
0.95 accuracy by default, our choice: the paper's success criterion is not restated here).
``MC = Σ_k MC_k`` over the distances measured is ``total_capacity``.

Illium et al. report a sharp borderline between the distances a network memorises and those it
does not, which grows with the number of cells and correlates with Jaeger's memory capacity.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from seqestim.datasets.memorization import make_memorization

__all__ = ["MemoryLimit", "memory_capacity", "memory_limit"]


def memory_capacity(target, output) -> float:
    """Jaeger's ``MC_k``: the squared correlation between the remembered input and the output.

    Parameters
    ----------
    target : array-like of shape (n,)
        The input value ``x(t - k)`` of every sequence.
    output : array-like of shape (n,)
        The model's output ``y_k(t)``.

    Returns
    -------
    mc : float
        In ``[0, 1]``; 0 when the output is constant.

    Examples
    --------
    >>> from seqestim.diagnostics import memory_capacity
    >>> memory_capacity([1.0, 2.0, 3.0], [2.0, 4.1, 5.9])  # doctest: +ELLIPSIS
    0.99...
    """
    target = np.asarray(target, dtype=np.float64)
    output = np.asarray(output, dtype=np.float64)
    if target.shape != output.shape or target.ndim != 1:
        raise ValueError("target and output must be 1D arrays of the same length.")
    var_output = output.var()
    var_target = target.var()
    if var_output == 0 or var_target == 0:
        return 0.0
    covariance = np.mean((target - target.mean()) * (output - output.mean()))
    return float(covariance**2 / (var_target * var_output))


@dataclasses.dataclass
class MemoryLimit:
    """The result of :func:`memory_limit`: score and memory capacity per distance.

    Attributes
    ----------
    distances : ndarray of int
        The distances measured, increasing.
    scores : ndarray of float
        The estimator's test score at every distance (R² or accuracy).
    capacity : ndarray of float
        Jaeger's ``MC_k`` at every distance.
    metric : str
        ``"r2"`` or ``"accuracy"``.
    threshold : float
        A distance counts as memorised when its score reaches it.
    estimator : str
        What was measured (the estimator's repr).
    """

    distances: np.ndarray
    scores: np.ndarray
    capacity: np.ndarray
    metric: str
    threshold: float
    estimator: str = ""

    @property
    def memorized(self) -> np.ndarray:
        """Whether each distance's score reaches the threshold."""
        return self.scores >= self.threshold

    @property
    def limit(self) -> int | None:
        """The largest distance memorised, or None when none is."""
        hits = self.distances[self.memorized]
        return int(hits.max()) if hits.size else None

    @property
    def total_capacity(self) -> float:
        """``Σ_k MC_k`` over the distances measured."""
        return float(self.capacity.sum())

    def to_frame(self):
        """One row per distance: score, ``MC_k`` and whether it is memorised (a DataFrame)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "distance": self.distances,
                self.metric: self.scores,
                "MC_k": self.capacity,
                "memorized": self.memorized,
            }
        )

    def plot(self, ax=None):
        """Score and ``MC_k`` against distance, with the threshold and the limit marked.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure when None.

        Returns
        -------
        ax : matplotlib Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        label = "R²" if self.metric == "r2" else "accuracy"
        ax.plot(self.distances, self.scores, "o-", label=f"test {label}")
        ax.plot(self.distances, self.capacity, "s--", label="memory capacity $MC_k$")
        ax.axhline(self.threshold, color="grey", lw=0.8, ls=":", label="threshold")
        if self.limit is not None:
            ax.axvline(self.limit, color="tab:red", lw=0.8, label=f"limit = {self.limit}")
        ax.set_xlabel("distance k (steps back)")
        ax.set_ylim(min(0.0, float(np.nanmin(self.scores)) - 0.05), 1.05)
        ax.set_title(self.estimator[:60], fontsize=9)
        ax.legend(fontsize=8)
        return ax


def _is_classifier(estimator) -> bool:
    from sklearn.base import is_classifier

    return is_classifier(estimator)


def memory_limit(
    estimator,
    distances=(1, 2, 4, 8, 16, 32),
    *,
    length: int | None = None,
    n_train: int = 1000,
    n_test: int = 500,
    n_symbols: int = 4,
    threshold: float | None = None,
    random_state=0,
) -> MemoryLimit:
    """Measure how far back an estimator memorises random inputs (Illium et al. 2022).

    For every distance a fresh clone of ``estimator`` is fitted on ``n_train`` sequences of the
    random memorization task and scored on ``n_test`` new ones.

    Parameters
    ----------
    estimator : sklearn regressor or classifier
        Fitted on ``X`` of shape ``(n, 1, length)`` (a regressor: real inputs) or
        ``(n, n_symbols, length)`` (a classifier: one-hot symbols). Never fitted itself.
    distances : sequence of int, default=(1, 2, 4, 8, 16, 32)
        Distances to measure (each below ``length``).
    length : int, optional
        Steps per sequence, the same at every distance; ``max(distances) + 10`` by default.
    n_train, n_test : int, default=1000, 500
        Training and test sequences per distance.
    n_symbols : int, default=4
        Number of symbols for a classifier (ignored for a regressor).
    threshold : float, optional
        Score that counts as memorised: 0.9 (R²) for a regressor, 0.95 (accuracy) for a
        classifier by default.
    random_state : int, default=0
        Seeds the data; distance ``k`` uses ``random_state + k``.

    Returns
    -------
    result : MemoryLimit
        Per distance, the score and ``MC_k``; ``result.limit`` is the largest distance
        memorised; ``result.plot()`` draws them.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from seqestim.diagnostics import memory_limit
    >>> flatten = FunctionTransformer(lambda X: X.reshape(len(X), -1))
    >>> result = memory_limit(make_pipeline(flatten, LinearRegression()), distances=(1, 5))
    >>> result.limit  # a linear model over the whole window recalls any step exactly
    5
    """
    from sklearn.base import clone

    distances = np.asarray(sorted({int(k) for k in distances}), dtype=np.int64)
    if distances.size == 0 or distances.min() < 0:
        raise ValueError("distances must be non-negative integers (at least one).")
    length = int(distances.max()) + 10 if length is None else int(length)
    if distances.max() >= length:
        raise ValueError(f"every distance must be below length={length}.")
    classifier = _is_classifier(estimator)
    metric = "accuracy" if classifier else "r2"
    if threshold is None:
        threshold = 0.95 if classifier else 0.9
    scores, capacity = [], []
    for k in distances:
        X, y = make_memorization(
            n_train + n_test,
            length,
            int(k),
            n_symbols=n_symbols if classifier else None,
            random_state=int(random_state) + int(k),
        )
        model = clone(estimator).fit(X[:n_train], y[:n_train])
        X_test, y_test = X[n_train:], y[n_train:]
        scores.append(float(model.score(X_test, y_test)))
        if classifier:
            proba = np.asarray(model.predict_proba(X_test))
            output = proba @ np.asarray(model.classes_, dtype=np.float64)  # expected symbol
        else:
            output = np.asarray(model.predict(X_test), dtype=np.float64)
        capacity.append(memory_capacity(y_test, output))
    return MemoryLimit(
        distances=distances,
        scores=np.asarray(scores),
        capacity=np.asarray(capacity),
        metric=metric,
        threshold=float(threshold),
        estimator=repr(estimator),
    )
