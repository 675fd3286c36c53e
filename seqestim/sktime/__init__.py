"""sktime objects for every seqestim classifier, regressor and forecaster.

``from seqestim.sktime import GRUClassifier`` gives an sktime classifier (``BaseClassifier``)
with the parameters of :class:`seqestim.GRUClassifier`; likewise for every named regressor
(``BaseRegressor``) and forecaster (``BaseForecaster``). They are built by composition: ``fit``
builds the core estimator and the adapter delegates to it, so they work with sktime's containers
(``numpy3D``, ``pd-multiindex``, ``nested_univ``, ``df-list``, unequal-length panels) and tools
(``evaluate``, ``ForecastingGridSearchCV``, ``TransformedTargetForecaster``, pipelines).

``import seqestim`` does not import sktime; importing this subpackage does.
"""

from seqestim.sktime._base import (
    SequenceClassifierAdapter,
    SequenceForecasterAdapter,
    SequenceRegressorAdapter,
)
from seqestim.sktime._generated import *  # noqa: F403
from seqestim.sktime._generated import __all__ as _adapters

__all__ = [
    "SequenceClassifierAdapter",
    "SequenceForecasterAdapter",
    "SequenceRegressorAdapter",
    *_adapters,
]
