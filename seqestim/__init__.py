"""seqestim: sequence models from research papers behind one scikit-learn interface.

Everything public is imported on first use (PEP 562): ``import seqestim`` is cheap, and
``import seqestim.nn`` stays free of sklearn, skorch and pandas (ARCHITECTURE.md, "Layers").
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from seqestim._version import __version__

# public name -> module that defines it (the named estimators come from seqestim.estimators)
_LAZY = {
    "get_spec": "seqestim.registry",
    "list_models": "seqestim.registry",
    "list_tasks": "seqestim.estimators",
    "make_estimator": "seqestim.estimators",
    "named_estimators": "seqestim.estimators",
    "load": "seqestim.persistence",
    "ARIMAForecaster": "seqestim.baselines",
    "AutoARIMAForecaster": "seqestim.baselines",
    "NaiveForecaster": "seqestim.baselines",
    "SARIMAXForecaster": "seqestim.baselines",
    "VARMAForecaster": "seqestim.baselines",
}


def _estimator_names() -> list[str]:
    estimators = importlib.import_module("seqestim.estimators")
    return [cls.__name__ for cls in estimators.named_estimators()]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if not name.startswith("_") and name[:1].isupper():
        estimators = importlib.import_module("seqestim.estimators")
        if name in _estimator_names():
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
    from seqestim.estimators import list_tasks, make_estimator, named_estimators
    from seqestim.persistence import load
    from seqestim.registry import get_spec, list_models

__all__ = [  # the named estimators are exported too, lazily (see __dir__)
    "ARIMAForecaster",
    "AutoARIMAForecaster",
    "NaiveForecaster",
    "SARIMAXForecaster",
    "VARMAForecaster",
    "__version__",
    "get_spec",
    "list_models",
    "list_tasks",
    "load",
    "make_estimator",
    "named_estimators",
]
