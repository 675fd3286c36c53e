"""Task base for sequence classifiers."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d
from torch import nn

from seqestim.estimators._base import BaseSequenceEstimator
from seqestim.estimators._data import check_panel

__all__ = ["BaseSequenceClassifier"]


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


class BaseSequenceClassifier(ClassifierMixin, BaseSequenceEstimator):
    """Sequence classifier: any label type, cross-entropy on a pooled backbone.

    Labels are encoded as ``0..n_classes-1`` in the order of ``classes_`` (sorted, as
    ``numpy.unique`` sorts them). A training set with a single class is accepted: the network
    still has two outputs and every prediction is that class.
    """

    _task = "classifier"
    _stratify = True

    def _criterion(self):
        return nn.CrossEntropyLoss

    def fit(self, X, y):
        """Fit the classifier.

        Parameters
        ----------
        X : array-like
            ``(n, T)`` univariate sequences, ``(n, C, T)`` panels, a list of ``(C, T_i)`` or
            ``(T_i,)`` arrays, or an sktime ``pd-multiindex``/``nested_univ`` DataFrame.
        y : array-like of shape (n,)
            Class labels of any type.

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
        y = column_or_1d(y, warn=True)
        check_consistent_length(panel.values, y)
        check_classification_targets(y)
        if self.warm_start and hasattr(self, "classes_"):
            unseen = np.setdiff1d(y, self.classes_)
            if unseen.size:
                raise ValueError(f"warm_start cannot add classes {unseen.tolist()} seen after fit.")
            classes = self.classes_
        else:
            classes = np.unique(y)
        targets = np.searchsorted(classes, y).astype(np.int64)
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
            Columns follow ``classes_``.
        """
        panel = self._validate_for_predict(X)
        proba = _softmax(self._forward(panel))[:, : len(self.classes_)]
        return proba / proba.sum(axis=1, keepdims=True)

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
            Labels from ``classes_``.
        """
        check_is_fitted(self)
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags
