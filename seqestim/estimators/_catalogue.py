"""The catalogue of tasks and named estimators, filled as their classes are created.

:class:`~seqestim.estimators._base.SequenceEstimator` registers every task base (a class that
sets ``_task``) and every named estimator (a class that sets ``_backbone``) here when Python
creates the class; everything that lists tasks or estimators reads this catalogue.
"""

from __future__ import annotations

from seqestim.registry import get_spec

__all__ = ["list_tasks", "make_estimator", "named_estimators", "register_estimator_class"]

#: task name -> task base class
_TASKS: dict[str, type] = {}
#: (model name, task name) -> named estimator class
_NAMED: dict[tuple[str, str], type] = {}


def register_estimator_class(cls: type) -> None:
    """Record ``cls`` if it is a task base or a named estimator (called at class creation)."""
    if "_task" in cls.__dict__ and cls._task:
        _TASKS[cls._task] = cls
    if "_backbone" in cls.__dict__ and cls._backbone is not None:
        key = (get_spec(cls._backbone).name, cls._task)
        other = _NAMED.get(key)
        if other is not None and other.__qualname__ != cls.__qualname__:
            raise ValueError(
                f"{other.__name__} is already the {cls._task} of model {key[0]!r}; "
                f"{cls.__name__} cannot be registered too."
            )
        _NAMED[key] = cls


def list_tasks() -> list[str]:
    """Names of the registered tasks ("classifier", "forecaster", ...), sorted."""
    return sorted(_TASKS)


def named_estimators(task: str | None = None, model: str | None = None) -> list[type]:
    """The named neural estimators (``GRUClassifier``, ...), optionally of one task or model.

    Parameters
    ----------
    task : str, optional
        Keep only the estimators of this task (see :func:`list_tasks`).
    model : str, optional
        Keep only the estimators of this registered model.

    Returns
    -------
    classes : list of type
        Sorted by class name; the set :func:`seqestim.load` accepts, the sktime adapters'
        test parameters cover and the common tests check.
    """
    if task is not None and task not in _TASKS:
        raise ValueError(f"Unknown task {task!r}; registered tasks: {list_tasks()}.")
    found = [
        cls
        for (name, cls_task), cls in _NAMED.items()
        if (task is None or cls_task == task) and (model is None or name == model)
    ]
    return sorted(found, key=lambda cls: cls.__name__)


def make_estimator(model: str, task: str, **params):
    """Build the named estimator of ``model`` for ``task``, like ``timm.create_model``.

    Parameters
    ----------
    model : str
        A registered model, see :func:`seqestim.registry.list_models`.
    task : str
        A registered task, see :func:`list_tasks`.
    **params
        Constructor parameters of the estimator (model, task and training parameters).

    Returns
    -------
    estimator : sklearn estimator
        Unfitted, e.g. ``make_estimator("gru", "classifier", d_model=32)`` is
        ``GRUClassifier(d_model=32)``.

    Raises
    ------
    ValueError
        When the model or task is unknown, or the model is not offered for the task.
    TypeError
        For a parameter the estimator does not take.
    """
    get_spec(model)  # a clear KeyError for unknown models
    if task not in _TASKS:
        raise ValueError(f"Unknown task {task!r}; registered tasks: {list_tasks()}.")
    try:
        cls = _NAMED[(model, task)]
    except KeyError:
        offered = sorted(t for (name, t) in _NAMED if name == model)
        raise ValueError(
            f"Model {model!r} is not offered as a {task}; it is offered as: {offered}."
        ) from None
    return cls(**params)
