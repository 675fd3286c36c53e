"""The sklearn layer: task bases and the named estimators generated from the registry."""

from __future__ import annotations

from seqestim.estimators._base import BaseSequenceEstimator, TrainingDivergedError
from seqestim.estimators._generated import *  # noqa: F403
from seqestim.estimators._generated import __all__ as _named
from seqestim.estimators.classifier import BaseSequenceClassifier
from seqestim.estimators.conv_arma import ConvARMAForecaster
from seqestim.estimators.forecaster import BaseSequenceForecaster
from seqestim.estimators.regressor import BaseSequenceRegressor

__all__ = [
    "BaseSequenceClassifier",
    "BaseSequenceEstimator",
    "BaseSequenceForecaster",
    "BaseSequenceRegressor",
    "ConvARMAForecaster",
    "TrainingDivergedError",
    "named_estimators",
    *_named,
]


def named_estimators(task: str | None = None) -> list[type]:
    """The named neural estimators (``GRUClassifier``, ...), optionally of one task.

    Parameters
    ----------
    task : {"classifier", "regressor", "forecaster"}, optional
        Keep only the estimators of this task.

    Returns
    -------
    classes : list of type
        In ``__all__`` order; the set that :func:`seqestim.load` accepts, that the sktime
        adapters wrap and that the common tests check.
    """
    return [
        obj
        for name in _named
        if isinstance(obj := globals()[name], type)
        and issubclass(obj, BaseSequenceEstimator)
        and obj._model_name
        and (task is None or obj._task == task)
    ]
