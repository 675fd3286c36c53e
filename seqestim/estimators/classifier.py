"""The classifier task: sequences in, class labels out, cross-entropy on a pooled backbone."""

from __future__ import annotations

import functools

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d
from torch import nn

from seqestim.estimators._base import transactional
from seqestim.estimators._panel import PanelTask, per_step_targets, split_steps

__all__ = ["MultiOutputStepCrossEntropyLoss", "SequenceClassifier", "StepCrossEntropyLoss"]

_IGNORE_INDEX = -100  # torch's CrossEntropyLoss default: padded steps do not count
_PAD_LABEL = object()  # marks padded steps before labels are encoded


class StepCrossEntropyLoss(nn.CrossEntropyLoss):
    """Cross-entropy over per-step logits ``(B, L, K)``; targets ``-100`` (padding) are ignored."""

    def forward(self, logits, target):
        """Mean cross-entropy over the real steps of ``logits`` (B, L, K), ``target`` (B, L)."""
        return super().forward(logits.transpose(1, 2), target)  # CE wants (B, K, L)


class MultiOutputStepCrossEntropyLoss(nn.Module):
    """Mean over ``k`` outputs of the per-step cross-entropy; targets ``-100`` are ignored.

    The logits ``(B, L, sum(widths))`` hold one block of ``widths[j]`` class scores per output
    ``j``; the targets are ``(B, L, k)`` class indices.

    Parameters
    ----------
    widths : sequence of int
        Number of logits of each output, in order.
    """

    def __init__(self, widths):
        super().__init__()
        self.widths = tuple(int(w) for w in widths)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean over outputs of the cross-entropy over real steps."""
        blocks = torch.split(logits, self.widths, dim=-1)  # k x (B, L, widths[j])
        losses = [
            nn.functional.cross_entropy(block.transpose(1, 2), target[..., j])  # (B, K_j, L)
            for j, block in enumerate(blocks)
        ]
        return torch.stack(losses).mean()


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def _class_widths(classes) -> list[int]:
    """Logits per output: one per class, at least two (a single seen class still gets two)."""
    return [max(2, len(c)) for c in classes]


class _ClassProbabilities(torch.nn.Module):
    """Logits ``(B, width)`` -> ``predict_proba`` ``(B, n_classes)`` (for ONNX export)."""

    def __init__(self, n_classes: int):
        super().__init__()
        self.n_classes = n_classes

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        proba = torch.softmax(logits, dim=-1)[:, : self.n_classes]
        return proba / proba.sum(dim=-1, keepdim=True)  # one seen class: probability 1


class SequenceClassifier(ClassifierMixin, PanelTask):
    """Sequence classifier task: any label type, cross-entropy on a pooled backbone.

    Labels are encoded as ``0..n_classes-1`` in the order of ``classes_`` (sorted, as
    ``numpy.unique`` sorts them). A training set with a single class is accepted: the network
    still has two outputs and every prediction is that class, with probability 1.

    With ``output="sequence"`` a sequence may also carry several labels per step (``y`` of
    shape ``(n, n_outputs, T)``, channels first like ``X``, e.g. one count per bracket type in
    the parenthesis task). Each output then has its own classes, ``classes_`` is a list with one
    array per output, the loss is the mean of the outputs' cross-entropies, ``predict`` returns
    ``(n, n_outputs, T)`` and ``predict_proba`` a list with one ``(n, T, n_classes_j)`` array
    per output (sklearn's multi-output convention).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,) or list of ndarray
        The class labels seen in ``fit``; for several labels per step, one array per output.
    n_outputs_ : int
        Number of labels per sequence (or per step): 1 unless ``y`` has an output axis.
    """

    _task = "classifier"
    _fitted_attributes = ("classes_", "n_outputs_")

    def _multi_output(self) -> bool:
        # several labels per step: y had an output axis, and classes_ holds one array per output
        return isinstance(self.classes_, list)

    def _classes_per_output(self) -> list[np.ndarray]:
        return list(self.classes_) if self._multi_output() else [self.classes_]

    def _n_outputs(self) -> int:
        return sum(_class_widths(self._classes_per_output()))

    def _criterion(self):
        if not self._per_step():
            return nn.CrossEntropyLoss
        if self._multi_output():
            widths = _class_widths(self._classes_per_output())
            return functools.partial(MultiOutputStepCrossEntropyLoss, widths=widths)
        return StepCrossEntropyLoss

    def _encode_step_labels(self, y, lengths: np.ndarray):
        """Per-step labels -> ``(per-output labels at real steps, padded target array)``."""
        steps = per_step_targets(y, lengths, fill=_PAD_LABEL, dtype=object)
        real = np.arange(steps.shape[1])[None] < lengths[:, None]  # (n, T_max)
        columns = steps.reshape(*steps.shape[:2], -1)  # (n, T_max, n_outputs)
        labels = [np.asarray(columns[..., j][real].tolist()) for j in range(columns.shape[2])]
        return labels, real, steps.ndim == 3

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
            array ``(n, T)`` or a list of ``(T_i,)`` arrays; or several labels per step, an
            array ``(n, n_outputs, T)`` or a list of ``(n_outputs, T_i)`` arrays.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        panel = self._encode_panel(X, reset=True, y=y)
        per_step = self._per_step()
        if per_step:
            labels, real, multi = self._encode_step_labels(y, panel.lengths)
        else:
            labels, multi = [column_or_1d(y, warn=True)], False
            check_consistent_length(panel.values, labels[0])
        for column in labels:
            check_classification_targets(column)
        if self.warm_start and hasattr(self, "classes_"):
            if multi != self._multi_output() or len(labels) != len(self._classes_per_output()):
                raise ValueError(
                    "warm_start needs targets with the outputs of the first fit; got "
                    f"{len(labels)} output(s)."
                )
            for column, seen in zip(labels, self._classes_per_output(), strict=True):
                unseen = np.setdiff1d(column, seen)
                if unseen.size:
                    raise ValueError(
                        f"warm_start cannot add classes {unseen.tolist()} seen after fit."
                    )
        else:
            self.n_outputs_ = len(labels)
            classes = [np.unique(column) for column in labels]
            self.classes_ = classes if multi else classes[0]
        encoded = [
            np.searchsorted(seen, column).astype(np.int64)
            for column, seen in zip(labels, self._classes_per_output(), strict=True)
        ]
        if per_step:
            targets = np.full((*real.shape, len(encoded)), _IGNORE_INDEX, dtype=np.int64)
            for j, column in enumerate(encoded):
                targets[..., j][real] = column
            if not multi:
                targets = targets[..., 0]  # (n, T_max)
        else:
            targets = encoded[0]
        self._fit_network(panel.as_net_input(), targets, stratify=not per_step)
        return self

    def _probabilities(self, X):
        """Per-output probabilities ``[(n, [T,] n_classes_j), ...]`` and the panel lengths."""
        panel = self._encode_panel(X, reset=False)
        logits = self._panel_outputs(panel)
        probabilities, start = [], 0
        for seen, width in zip(
            self._classes_per_output(), _class_widths(self._classes_per_output()), strict=True
        ):
            proba = _softmax(logits[..., start : start + width])[..., : len(seen)]
            probabilities.append(proba / proba.sum(axis=-1, keepdims=True))
            start += width
        return probabilities, panel.lengths

    def _onnx_output(self) -> torch.nn.Module:
        if self._multi_output():
            raise NotImplementedError(
                f"{type(self).__name__} with several outputs has no ONNX export yet."
            )
        return _ClassProbabilities(len(self.classes_))

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like
            Sequences in any layout accepted by :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n, n_classes) or list
            Columns follow ``classes_``. With ``output="sequence"``: ``(n, T, n_classes)``
            for equal lengths, else a list of ``(T_i, n_classes)`` arrays. With several labels
            per step: a list with one such result per output.
        """
        probabilities, lengths = self._probabilities(X)
        if self._per_step():
            probabilities = [split_steps(p, lengths) for p in probabilities]
        return probabilities if self._multi_output() else probabilities[0]

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""

        def log(proba):
            return [log(p) for p in proba] if isinstance(proba, list) else np.log(proba)

        return log(self.predict_proba(X))

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
            lengths, else a list of ``(T_i,)`` arrays; with several labels per step,
            ``(n, n_outputs, T)`` or a list of ``(n_outputs, T_i)`` arrays.
        """
        check_is_fitted(self, "net_")
        probabilities, lengths = self._probabilities(X)
        labels = [  # per output: (n, [T_max])
            seen[p.argmax(axis=-1)]
            for seen, p in zip(self._classes_per_output(), probabilities, strict=True)
        ]
        if not self._per_step():
            return labels[0]
        if not self._multi_output():
            return split_steps(labels[0], lengths)
        dtypes = {c.dtype for c in self._classes_per_output()}
        dtype = dtypes.pop() if len(dtypes) == 1 else object  # never cast labels to strings
        stacked = (
            np.stack(labels, axis=1).astype(dtype)
            if dtype is not object
            else np.stack([np.asarray(column, dtype=object) for column in labels], axis=1)
        )  # (n, n_outputs, T_max), channels first like y
        if (lengths == stacked.shape[2]).all():
            return stacked
        return [row[:, :n] for row, n in zip(stacked, lengths, strict=True)]

    def score(self, X, y, sample_weight=None):
        """Mean accuracy; with ``output="sequence"``, over all real steps (and outputs).

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
