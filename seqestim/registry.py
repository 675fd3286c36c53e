"""The model registry: one decorator per backbone, everything else derived from it.

A backbone is a ``torch.nn.Module`` in ``seqestim/nn/<paper>.py`` that keeps the contract of
:mod:`seqestim.nn._contract`. Decorating it with :func:`register_model` writes a frozen
:class:`ModelSpec`; the named estimators, :func:`make_estimator`, the common tests, the CLI and
the README's model table are all built from these specs, so adding a model happens in one place.

The registry itself is pure Python (no torch, sklearn or skorch import) so that ``seqestim.nn``
can use it while staying free of the sklearn layer.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

__all__ = [
    "TASKS",
    "ModelSpec",
    "get_spec",
    "list_models",
    "make_estimator",
    "register_model",
]

#: Tasks that a backbone can serve through the shared task heads.
TASKS = ("classifier", "regressor", "forecaster")


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """Everything the library knows about one registered backbone.

    Parameters
    ----------
    name : str
        Registry key, equal to the stem of the file in ``seqestim/nn``.
    cls : type
        The backbone class (a ``torch.nn.Module``).
    paper : str
        Full citation of the paper the backbone implements.
    url : str
        Where the paper can be read.
    tasks : tuple of str
        Subset of :data:`TASKS` the backbone is offered for.
    estimator_prefix : str
        Prefix of the named estimators, e.g. ``"GRU"`` gives ``GRUClassifier``.
    causal : bool
        Whether output step ``t`` depends only on inputs ``<= t`` (checked by the common tests).
    supports_step : bool
        Whether the backbone has ``init_state``/``step`` for online use.
    test_params : tuple of dict
        At least two small hyperparameter sets, used by the common tests and sktime adapters.
    description : str
        One line for the model table.
    """

    name: str
    cls: type
    paper: str
    url: str
    tasks: tuple[str, ...]
    estimator_prefix: str
    causal: bool = False
    supports_step: bool = False
    test_params: tuple[Mapping[str, Any], ...] = ()
    description: str = ""


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(
    name: str,
    *,
    paper: str,
    url: str,
    tasks: tuple[str, ...],
    estimator_prefix: str,
    causal: bool = False,
    supports_step: bool = False,
    test_params: tuple[Mapping[str, Any], ...] = (),
    description: str = "",
) -> Callable[[type], type]:
    """Register a backbone class under ``name``.

    Parameters
    ----------
    name : str
        Registry key; must be unique.
    paper, url, tasks, estimator_prefix, causal, supports_step, test_params, description
        See :class:`ModelSpec`.

    Returns
    -------
    decorator : callable
        Returns the class unchanged after recording its spec.

    Raises
    ------
    ValueError
        If ``name`` is taken, a task is unknown, or fewer than two test parameter sets are given.
    """
    unknown = set(tasks) - set(TASKS)
    if unknown:
        raise ValueError(f"Unknown task(s) {sorted(unknown)} for model {name!r}; known: {TASKS}.")
    if len(test_params) < 2:
        raise ValueError(f"Model {name!r} needs at least two test parameter sets.")

    def decorator(cls: type) -> type:
        if name in _REGISTRY and _REGISTRY[name].cls is not cls:
            raise ValueError(f"A model named {name!r} is already registered.")
        _REGISTRY[name] = ModelSpec(
            name=name,
            cls=cls,
            paper=paper,
            url=url,
            tasks=tuple(tasks),
            estimator_prefix=estimator_prefix,
            causal=causal,
            supports_step=supports_step,
            test_params=tuple(MappingProxyType(dict(p)) for p in test_params),
            description=description,
        )
        return cls

    return decorator


def _ensure_loaded() -> None:
    # Importing seqestim.nn runs every paper module, hence every decorator.
    importlib.import_module("seqestim.nn")


def list_models(task: str | None = None) -> list[str]:
    """Names of the registered backbones, sorted.

    Parameters
    ----------
    task : str, optional
        Keep only the models offered for this task (one of :data:`TASKS`).

    Returns
    -------
    names : list of str
    """
    _ensure_loaded()
    if task is not None and task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; expected one of {TASKS}.")
    return sorted(n for n, s in _REGISTRY.items() if task is None or task in s.tasks)


def get_spec(name: str) -> ModelSpec:
    """Return the :class:`ModelSpec` registered under ``name``.

    Raises
    ------
    KeyError
        With the list of known names when ``name`` is not registered.
    """
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"Unknown model {name!r}; registered models: {sorted(_REGISTRY)}.") from None


def estimator_class_name(name: str, task: str) -> str:
    """Name of the named estimator for model ``name`` and ``task`` (e.g. ``GRUClassifier``)."""
    spec = get_spec(name)
    if task not in spec.tasks:
        raise ValueError(f"Model {name!r} is not offered as a {task}; it supports {spec.tasks}.")
    return spec.estimator_prefix + task.capitalize()


def make_estimator(name: str, task: str, **params: Any):
    """Build the named estimator of model ``name`` for ``task``, like ``timm.create_model``.

    Parameters
    ----------
    name : str
        A registered model, see :func:`list_models`.
    task : {"classifier", "regressor", "forecaster"}
        The task.
    **params
        Constructor parameters of the estimator (model hyperparameters and training parameters).

    Returns
    -------
    estimator : sklearn estimator
        Unfitted, e.g. ``make_estimator("gru", "classifier", d_model=32)`` is
        ``GRUClassifier(d_model=32)``.
    """
    class_name = estimator_class_name(name, task)
    estimators = importlib.import_module("seqestim.estimators")
    return getattr(estimators, class_name)(**params)
