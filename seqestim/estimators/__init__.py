"""The sklearn layer: task bases and the named estimators generated from the registry."""

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
    *_named,
]
