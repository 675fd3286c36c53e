"""seqestim: sequence models from research papers behind one scikit-learn interface.

The estimators are imported on first use (PEP 562), so that ``import seqestim.nn`` stays free
of sklearn, skorch and pandas (DESIGN.md §1).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from seqestim.registry import get_spec, list_models, make_estimator

__version__ = "0.1.0.dev0"

# public name -> module that defines it
_LAZY = {
    "load": "seqestim.persistence",
    "ARIMAForecaster": "seqestim.baselines",
    "AutoARIMAForecaster": "seqestim.baselines",
    "NaiveForecaster": "seqestim.baselines",
    "SARIMAXForecaster": "seqestim.baselines",
    "VARMAForecaster": "seqestim.baselines",
}


def _estimator_names() -> list[str]:
    return list(importlib.import_module("seqestim.estimators").__all__)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if not name.startswith("_"):
        estimators = importlib.import_module("seqestim.estimators")
        if name in estimators.__all__:
            return getattr(estimators, name)
    raise AttributeError(f"module 'seqestim' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_estimator_names()))


if TYPE_CHECKING:  # for IDEs and type checkers
    from seqestim.baselines import (
        ARIMAForecaster,
        AutoARIMAForecaster,
        NaiveForecaster,
        SARIMAXForecaster,
        VARMAForecaster,
    )
    from seqestim.estimators import *  # noqa: F403
    from seqestim.persistence import load

__all__ = [  # the neural estimators are exported too, lazily (see __dir__)
    "ARIMAForecaster",
    "AutoARIMAForecaster",
    "NaiveForecaster",
    "SARIMAXForecaster",
    "VARMAForecaster",
    "get_spec",
    "list_models",
    "load",
    "make_estimator",
]
