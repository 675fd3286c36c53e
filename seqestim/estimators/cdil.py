"""Estimators on CDIL-CNN, circular dilated convolutions, and its DIL ablation (Cheng et al. 2023).

The backbones are in :mod:`seqestim.nn.cdil`; as in the paper, the classifiers and regressors
average the per-position features (``pooling="mean"``).

CDIL is circular-shift equivariant by design, so with mean pooling its output does not change
when the input is shifted around the circle. sklearn's accuracy check reads its tabular toy data
as sequences of length 2, where a circular shift is a swap of the two values: a shift-invariant
model cannot separate swapped pairs and stays below the check's 0.83. ``CDILClassifier`` with
mean pooling therefore sets sklearn's ``poor_score`` tag;
``tests/estimators/test_classifier_learning.py`` checks instead that it learns a real sequence
task.

Reference: L. Cheng, R. Khalitov, T. Yu, J. Zhang, Z. Yang. "Classification of Long Sequential
Data using Circular Dilated Convolutional Neural Networks." Neurocomputing 518 (2023), 50-59;
arXiv:2201.02143.
"""

from __future__ import annotations

from seqestim.estimators.classifier import SequenceClassifier
from seqestim.estimators.forecaster import SequenceForecaster
from seqestim.estimators.regressor import SequenceRegressor
from seqestim.nn._params import param
from seqestim.nn.cdil import CDIL, DIL, DilatedConvParams

__all__ = [
    "CDILClassifier",
    "CDILForecaster",
    "CDILRegressor",
    "DILClassifier",
    "DILRegressor",
]


class CDILClassifier(DilatedConvParams, SequenceClassifier):
    """Sequence classifier on a circular dilated CNN: every position sees the whole sequence.

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import CDILClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))  # 40 sequences, 2 channels, 16 steps
    >>> y = (X[:, 0].mean(axis=1) > 0).astype(int)
    >>> clf = CDILClassifier(d_model=6, n_layers=2, max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """

    _backbone = CDIL
    pooling: str = param("mean")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # shift invariance under mean pooling (see the module docstring)
        tags.classifier_tags.poor_score = self.pooling == "mean"
        return tags


class CDILRegressor(DilatedConvParams, SequenceRegressor):
    """Sequence regressor on a circular dilated CNN: every position sees the whole sequence.

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import CDILRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))
    >>> reg = CDILRegressor(d_model=6, n_layers=2, max_epochs=5, random_state=0).fit(
    ...     X, X[:, 0].sum(axis=1)
    ... )
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    _backbone = CDIL
    pooling: str = param("mean")


class CDILForecaster(DilatedConvParams, SequenceForecaster):
    """Forecaster on a circular dilated CNN: every position sees the whole window.

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import CDILForecaster
    >>> y = np.sin(np.arange(120) / 6.0)
    >>> forecaster = CDILForecaster(d_model=6, n_layers=2, max_epochs=5, random_state=0).fit(y)
    >>> forecaster.predict(fh=6).shape
    (6,)
    """

    _backbone = CDIL


class DILClassifier(DilatedConvParams, SequenceClassifier):
    """Sequence classifier on CDIL's zero-padded ablation (the paper's DIL baseline).

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import DILClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))  # 40 sequences, 2 channels, 16 steps
    >>> y = (X[:, 0].mean(axis=1) > 0).astype(int)
    >>> clf = DILClassifier(d_model=6, n_layers=2, max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """

    _backbone = DIL
    pooling: str = param("mean")


class DILRegressor(DilatedConvParams, SequenceRegressor):
    """Sequence regressor on CDIL's zero-padded ablation (the paper's DIL baseline).

    Examples
    --------
    >>> import numpy as np
    >>> from seqestim import DILRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2, 16))
    >>> reg = DILRegressor(d_model=6, n_layers=2, max_epochs=5, random_state=0).fit(
    ...     X, X[:, 0].sum(axis=1)
    ... )
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    _backbone = DIL
    pooling: str = param("mean")
