"""Write ``seqestim/estimators/_generated.py``: one named estimator per (model, task).

The named estimators (``GRUClassifier``, ``S5Regressor``, ...) are real classes with explicit
``__init__`` signatures, as sklearn requires, but their content follows from the registry: the
model hyperparameters are the backbone's keyword arguments (with their defaults and the
numpydoc text of the backbone's docstring), the task adds its parameters, and every estimator
shares the training parameters of ``COMMON_TRAINING_PARAMS``. Writing them by hand would repeat
that table some thirty times, so this script generates them and ``tests/test_generated.py``
fails when the file is out of date.

Usage::

    python tools/generate_estimators.py          # rewrite the file
    python tools/generate_estimators.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import inspect
import pathlib
import re
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parents[1]
TARGET = ROOT / "seqestim" / "estimators" / "_generated.py"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from _codegen import write_or_check  # noqa: E402

from seqestim.estimators._base import COMMON_TRAINING_PARAMS  # noqa: E402
from seqestim.registry import get_spec, list_models  # noqa: E402

# Task -> (base class, module of the base class, task parameters with defaults)
TASK_BASES = {
    "classifier": ("BaseSequenceClassifier", "seqestim.estimators.classifier"),
    "regressor": ("BaseSequenceRegressor", "seqestim.estimators.regressor"),
    "forecaster": ("BaseSequenceForecaster", "seqestim.estimators.forecaster"),
}

COMMON_DOCS = {
    "max_epochs": "int, default={}\n    Number of passes over the training data.",
    "lr": "float, default={}\n    Learning rate of the optimizer.",
    "batch_size": "int, default={}\n    Sequences per mini-batch (also used at predict time).",
    "optimizer": (
        'str or torch.optim.Optimizer subclass, default="{}"\n'
        '    "adam", "adamw", "sgd", "rmsprop", "adagrad" or an optimizer class.'
    ),
    "weight_decay": "float, default={}\n    Weight decay of the optimizer.",
    "early_stopping": (
        "bool, default={}\n    Hold out ``validation_fraction`` of the training data and stop "
        "when the\n    validation loss has not improved for ``n_iter_no_change`` epochs; the "
        "best\n    weights are restored."
    ),
    "validation_fraction": (
        "float, default={}\n    Share of the training data held out when ``early_stopping`` is "
        "True."
    ),
    "n_iter_no_change": "int, default={}\n    Patience of early stopping, in epochs.",
    "gradient_clip": (
        "float or None, default={}\n    Rescale gradients whose global norm exceeds this value."
    ),
    "device": ('str, default="{}"\n    "cpu", "cuda", "cuda:N" or "auto" (CUDA when available).'),
    "callbacks": (
        "list of skorch callbacks or (name, callback) tuples, default={}\n    Extra skorch "
        "callbacks; copies are used, the objects given are never modified."
    ),
    "random_state": (
        "int, RandomState instance or None, default={}\n    Seeds weight initialisation, dropout, "
        "shuffling and the validation split\n    without touching the global random state."
    ),
    "verbose": (
        "int, default={}\n    0: silent; 1: a progress bar over epochs with an ETA; 2: also a "
        "table per epoch."
    ),
    "warm_start": (
        "bool, default={}\n    Continue training the fitted network on the next call to ``fit``."
    ),
}

TASK_PARAM_DOCS = {
    "pooling": (
        '{{"last", "mean"}}, default="{}"\n    How the sequence of features is summarised: the '
        "last real step (for a\n    bidirectional model, the final state of each direction) or "
        "the mean over\n    real steps."
    ),
    "output": (
        '{{"pooled", "sequence"}}, default="{}"\n    "pooled": one prediction per sequence; '
        '"sequence": one per step (``y`` then\n    has a time axis, e.g. the copy and denoise '
        "tasks); ``pooling`` is unused."
    ),
}

TASK_ATTRIBUTES = {
    "classifier": [
        ("classes_", "ndarray of shape (n_classes,)", "Class labels seen in ``fit``."),
    ],
    "regressor": [
        ("n_targets_", "int", "Number of regression targets."),
        ("y_mean_", "ndarray of shape (n_targets,)", "Mean of the training targets."),
        (
            "y_scale_",
            "ndarray of shape (n_targets,)",
            "Standard deviation of the training targets.",
        ),
    ],
    "forecaster": [],
}

COMMON_ATTRIBUTES = [
    (
        "n_features_in_",
        "int",
        "Columns of a 2D ``X`` (the sequence length), else the number of channels.",
    ),
    ("feature_names_in_", "ndarray of str", "Column names of a wide DataFrame ``X``, if given."),
    ("n_channels_", "int", "Number of input channels seen by the network."),
    ("input_layout_", "str", '"tabular" for a 2D ``X``, "sequence" for panels.'),
    ("net_", "skorch.NeuralNet", "The trained skorch net."),
    ("module_", "torch.nn.Module", "The trained network (backbone and head)."),
    ("history_", "skorch.History", "Losses and timings of every epoch."),
    ("fit_time_", "float", "Seconds spent in the last call to ``fit``."),
]

EXAMPLES = {
    "classifier": """\
>>> import numpy as np
>>> from seqestim import {name}
>>> rng = np.random.RandomState(0)
>>> X = rng.normal(size=(40, 2, 16))  # 40 sequences, 2 channels, 16 steps
>>> y = (X[:, 0].mean(axis=1) > 0).astype(int)
>>> clf = {name}({small}max_epochs=5, random_state=0).fit(X, y)
>>> clf.predict(X[:3]).shape
(3,)
>>> clf.predict_proba(X[:3]).shape
(3, 2)""",
    "regressor": """\
>>> import numpy as np
>>> from seqestim import {name}
>>> rng = np.random.RandomState(0)
>>> X = rng.normal(size=(40, 2, 16))  # 40 sequences, 2 channels, 16 steps
>>> y = X[:, 0].sum(axis=1)
>>> reg = {name}({small}max_epochs=5, random_state=0).fit(X, y)
>>> reg.predict(X[:3]).shape
(3,)""",
    "forecaster": """\
>>> import numpy as np
>>> from seqestim import {name}
>>> y = np.sin(np.arange(120) / 6.0)
>>> forecaster = {name}({small}window_length=24, horizon=6, max_epochs=5, random_state=0)
>>> forecaster = forecaster.fit(y)
>>> forecaster.predict(fh=6).shape
(6,)""",
}

TASK_SUMMARY = {
    "classifier": "sequence classifier",
    "regressor": "sequence regressor",
    "forecaster": "forecaster",
}


def _parameter_docs(docstring: str) -> dict[str, str]:
    """Numpydoc ``Parameters`` entries of a docstring, as name -> type and description."""
    text = inspect.cleandoc(docstring or "")
    match = re.search(r"Parameters\n-+\n(.*?)(?:\n\n[A-Z][A-Za-z ]+\n-+\n|\Z)", text, re.S)
    if not match:
        return {}
    entries: dict[str, str] = {}
    current = None
    for line in match.group(1).splitlines():
        header = re.match(r"^(\w+) : (.*)$", line)
        if header:
            current = header.group(1)
            entries[current] = header.group(2)
        elif current is not None and line.strip():
            entries[current] += "\n    " + line.strip()
    return entries


def _task_params(task: str, backbone: type) -> dict:
    """Parameters a task adds to the model hyperparameters, with defaults.

    A backbone may override the task's defaults with a class attribute
    ``task_defaults = {task: {param: default}}`` (the ARMA cell forecasts one step at a time).
    """
    if task in ("classifier", "regressor"):
        params = {"pooling": getattr(backbone, "default_pooling", "last"), "output": "pooled"}
    else:
        base_module = __import__(TASK_BASES[task][1], fromlist=["TASK_PARAMS"])
        params = dict(base_module.TASK_PARAMS)
    overrides = dict(getattr(backbone, "task_defaults", {}).get(task, {}))
    unknown = sorted(set(overrides) - set(params))
    if unknown:
        raise ValueError(f"{backbone.__name__}.task_defaults[{task!r}] sets unknown {unknown}")
    return {**params, **overrides}


def _task_param_docs(task: str) -> dict[str, str]:
    if task in ("classifier", "regressor"):
        return TASK_PARAM_DOCS
    base_module = __import__(TASK_BASES[task][1], fromlist=["TASK_PARAM_DOCS"])
    return dict(base_module.TASK_PARAM_DOCS)


def _task_available(task: str) -> bool:
    try:
        module = __import__(TASK_BASES[task][1], fromlist=[TASK_BASES[task][0]])
    except ImportError:
        return False
    return hasattr(module, TASK_BASES[task][0])


def _fmt_default(value) -> str:
    return repr(value)


def _class_source(model: str, task: str) -> str:
    spec = get_spec(model)
    backbone = spec.cls
    name = spec.estimator_prefix + task.capitalize()
    signature = inspect.signature(backbone.__init__)
    model_params = {
        p.name: p.default
        for p in signature.parameters.values()
        if p.name not in ("self", "d_input")
    }
    missing_defaults = [k for k, v in model_params.items() if v is inspect.Parameter.empty]
    if missing_defaults:
        raise ValueError(f"{backbone.__name__} arguments without defaults: {missing_defaults}")
    model_docs = _parameter_docs(backbone.__doc__)
    undocumented = sorted(set(model_params) - set(model_docs))
    if undocumented:
        raise ValueError(f"{backbone.__name__} docstring does not document {undocumented}")
    task_params = _task_params(task, backbone)
    task_docs = _task_param_docs(task)

    doc_lines = [f"{spec.description[:1].upper()}{spec.description[1:]}: {TASK_SUMMARY[task]}."]
    doc_lines += [
        "",
        f"The backbone is :class:`{backbone.__module__}.{backbone.__name__}` (registry name "
        f'``"{model}"``).',
        "",
        "Parameters",
        "----------",
    ]
    for param in model_params:
        doc_lines.append(f"{param} : {model_docs[param]}")
    for param, default in task_params.items():
        doc_lines.append(f"{param} : {task_docs[param].format(default)}")
    for param, default in COMMON_TRAINING_PARAMS.items():
        doc_lines.append(f"{param} : {COMMON_DOCS[param].format(default)}")
    doc_lines += ["", "Attributes", "----------"]
    extra_attributes = list(getattr(backbone, "fitted_attribute_docs", {}).get(task, []))
    for attribute, kind, text in TASK_ATTRIBUTES[task] + extra_attributes + COMMON_ATTRIBUTES:
        doc_lines += [f"{attribute} : {kind}", f"    {text}"]
    small = "".join(f"{k}={v!r}, " for k, v in spec.test_params[0].items())
    doc_lines += [
        "",
        "References",
        "----------",
        f".. [1] {spec.paper}",
        f"   {spec.url}",
        "",
        "Examples",
        "--------",
        EXAMPLES[task].format(name=name, small=small),
    ]
    docstring = textwrap.indent("\n".join(doc_lines), "    ").strip()

    all_params = {**model_params, **task_params, **COMMON_TRAINING_PARAMS}
    arguments = "".join(f"        {k}={_fmt_default(v)},\n" for k, v in all_params.items())
    assignments = "".join(f"        self.{k} = {k}\n" for k in all_params)
    base = TASK_BASES[task][0]
    return (
        f"class {name}({base}):\n"
        f'    """{docstring}\n    """\n\n'
        f'    _model_name = "{model}"\n\n'
        f"    def __init__(\n        self,\n        *,\n{arguments}    ):\n{assignments}"
    )


def render() -> str:
    """The full text of ``_generated.py`` for the current registry."""
    tasks = [t for t in TASK_BASES if _task_available(t)]
    classes, names, imports = [], [], set()
    for model in list_models():
        spec = get_spec(model)
        for task in tasks:
            if task in spec.tasks:
                classes.append(_class_source(model, task))
                names.append(spec.estimator_prefix + task.capitalize())
                imports.add(TASK_BASES[task])
    header = (
        '"""Named estimators, one per registered model and task.\n\n'
        "GENERATED by ``tools/generate_estimators.py`` from the registry; do not edit by hand.\n"
        '"""\n\n'
        "# ruff: noqa: E501\n"
        "from __future__ import annotations\n\n"
    )
    import_lines = "".join(f"from {module} import {base}\n" for base, module in sorted(imports))
    all_line = "\n__all__ = [\n" + "".join(f'    "{n}",\n' for n in sorted(names)) + "]\n"
    return header + import_lines + all_line + "\n\n" + "\n\n".join(classes)


def main(argv=None) -> int:
    return write_or_check(render, TARGET, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
