"""Task base for sequence classifiers."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d
from torch import nn

from seqestim.estimators._base import (
    BaseSequenceEstimator,
    StepCrossEntropyLoss,
    per_step_targets,
)
from seqestim.estimators._data import check_panel
from seqestim.registry import get_spec

_IGNORE_INDEX = -100  # torch's CrossEntropyLoss default: padded steps do not count
_PAD_LABEL = object()  # marks padded steps before labels are encoded

__all__ = ["BaseSequenceClassifier"]


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def _split_steps(values: np.ndarray, lengths: np.ndarray):
    """Per-step outputs ``(n, T_max, ...)`` as an array, or a list when lengths differ."""
    if (lengths == values.shape[1]).all():
        return values
    return [v[:n] for v, n in zip(values, lengths, strict=True)]


class BaseSequenceClassifier(ClassifierMixin, BaseSequenceEstimator):
    """Sequence classifier: any label type, cross-entropy on a pooled backbone.

    Labels are encoded as ``0..n_classes-1`` in the order of ``classes_`` (sorted, as
    ``numpy.unique`` sorts them). A training set with a single class is accepted: the network
    still has two outputs and every prediction is that class.
    """

    _task = "classifier"
    _stratify = True

    def _criterion(self):
        return StepCrossEntropyLoss if self._per_step() else nn.CrossEntropyLoss

    def fit(self, X, y):
        """Fit the classifier.

        Parameters
        ----------
        X : array-like
            ``(n, T)`` univariate sequences, ``(n, C, T)`` panels, a list of ``(C, T_i)`` or
            ``(T_i,)`` arrays, or an sktime ``pd-multiindex``/``nested_univ`` DataFrame.
        y : array-like of shape (n,)
            Class labels of any type. With ``output="sequence"``: one label per step, an
            array ``(n, T)`` or a list of ``(T_i,)`` arrays.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        panel = check_panel(self, X, reset=True)
        if self._per_step():
            steps = per_step_targets(y, panel.lengths, fill=_PAD_LABEL, dtype=object)
            real = steps != _PAD_LABEL
            labels = np.asarray(steps[real].tolist())
        else:
            labels = column_or_1d(y, warn=True)
            check_consistent_length(panel.values, labels)
        check_classification_targets(labels)
        if self.warm_start and hasattr(self, "classes_"):
            unseen = np.setdiff1d(labels, self.classes_)
            if unseen.size:
                raise ValueError(f"warm_start cannot add classes {unseen.tolist()} seen after fit.")
            classes = self.classes_
        else:
            classes = np.unique(labels)
        encoded = np.searchsorted(classes, labels).astype(np.int64)
        if self._per_step():
            targets = np.full(steps.shape, _IGNORE_INDEX, dtype=np.int64)
            targets[real] = encoded
        else:
            targets = encoded
        self._fit_panel(panel, targets, n_outputs=max(2, len(classes)))
        self.classes_ = classes
        return self

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like
            Sequences in any layout accepted by :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n, n_classes)
            Columns follow ``classes_``. With ``output="sequence"``: ``(n, T, n_classes)``
            for equal lengths, else a list of ``(T_i, n_classes)`` arrays.
        """
        panel = self._validate_for_predict(X)
        proba = _softmax(self._forward(panel))[..., : len(self.classes_)]
        proba = proba / proba.sum(axis=-1, keepdims=True)
        return _split_steps(proba, panel.lengths) if self._per_step() else proba

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))

    def predict(self, X):
        """Most probable class of each sequence.

        Parameters
        ----------
        X : array-like
            Sequences in any layout accepted by :meth:`fit`.

        Returns
        -------
        y : ndarray of shape (n,)
            Labels from ``classes_``. With ``output="sequence"``: ``(n, T)`` for equal
            lengths, else a list of ``(T_i,)`` arrays.
        """
        check_is_fitted(self)
        proba = self.predict_proba(X)
        if isinstance(proba, list):
            return [self.classes_[p.argmax(axis=-1)] for p in proba]
        return self.classes_[proba.argmax(axis=-1)]

    def score(self, X, y, sample_weight=None):
        """Mean accuracy; with ``output="sequence"``, over all real steps.

        Parameters
        ----------
        X : array-like
            Sequences in any layout accepted by :meth:`fit`.
        y : array-like
            True labels, shaped like the ``y`` of :meth:`fit`.
        sample_weight : array-like of shape (n,), optional
            Weights of the sequences (pooled output only).

        Returns
        -------
        score : float
        """
        if not self._per_step():
            return super().score(X, y, sample_weight=sample_weight)
        predicted = self.predict(X)
        hits = [np.asarray(p) == np.asarray(t) for p, t in zip(predicted, y, strict=True)]
        return float(np.concatenate([h.ravel() for h in hits]).mean())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        # sklearn's accuracy check reads tabular toy data as sequences of length 2, where a
        # circular shift is a swap of the two values: a shift-invariant model (CDIL with mean
        # pooling, the paper's design) cannot separate swapped pairs and stays below the
        # check's 0.83. tests/estimators/test_classifier_learning.py checks instead that such
        # a classifier learns a real sequence task.
        backbone = get_spec(self._model_name).cls if self._model_name else None
        if (
            getattr(backbone, "circular_shift_invariant", False)
            and getattr(self, "pooling", None) == "mean"
        ):
            tags.classifier_tags.poor_score = True
        return tags
