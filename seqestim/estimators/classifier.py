"""The classifier task: sequences in, class labels out, cross-entropy on a pooled backbone."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d
from torch import nn

from seqestim.estimators._base import transactional
from seqestim.estimators._panel import PanelTask, per_step_targets, split_steps

__all__ = ["SequenceClassifier", "StepCrossEntropyLoss"]

_IGNORE_INDEX = -100  # torch's CrossEntropyLoss default: padded steps do not count
_PAD_LABEL = object()  # marks padded steps before labels are encoded


class StepCrossEntropyLoss(nn.CrossEntropyLoss):
    """Cross-entropy over per-step logits ``(B, L, K)``; targets ``-100`` (padding) are ignored."""

    def forward(self, logits, target):
        """Mean cross-entropy over the real steps of ``logits`` (B, L, K), ``target`` (B, L)."""
        return super().forward(logits.transpose(1, 2), target)  # CE wants (B, K, L)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


class SequenceClassifier(ClassifierMixin, PanelTask):
    """Sequence classifier task: any label type, cross-entropy on a pooled backbone.

    Labels are encoded as ``0..n_classes-1`` in the order of ``classes_`` (sorted, as
    ``numpy.unique`` sorts them). A training set with a single class is accepted: the network
    still has two outputs and every prediction is that class, with probability 1.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels seen in ``fit``.
    """

    _task = "classifier"
    _fitted_attributes = ("classes_",)

    def _n_outputs(self) -> int:
        return max(2, len(self.classes_))

    def _criterion(self):
        return StepCrossEntropyLoss if self._per_step() else nn.CrossEntropyLoss

    @transactional
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
        panel = self._encode_panel(X, reset=True, y=y)
        per_step = self._per_step()
        if per_step:
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
        else:
            self.classes_ = np.unique(labels)
        encoded = np.searchsorted(self.classes_, labels).astype(np.int64)
        if per_step:
            targets = np.full(steps.shape, _IGNORE_INDEX, dtype=np.int64)
            targets[real] = encoded
        else:
            targets = encoded
        self._fit_network(panel.as_net_input(), targets, stratify=not per_step)
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
        panel = self._encode_panel(X, reset=False)
        proba = _softmax(self._panel_outputs(panel))[..., : len(self.classes_)]
        proba = proba / proba.sum(axis=-1, keepdims=True)
        return split_steps(proba, panel.lengths) if self._per_step() else proba

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        proba = self.predict_proba(X)
        if isinstance(proba, list):
            return [np.log(p) for p in proba]
        return np.log(proba)

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
        check_is_fitted(self, "net_")
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
        return tags
