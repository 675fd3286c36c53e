"""Write ``seqestim/sktime/_generated.py``: one sktime adapter per named core estimator.

Every named classifier, regressor and forecaster of :mod:`seqestim.estimators` (a class with a
registry ``_model_name``) gets an sktime object of the same name in :mod:`seqestim.sktime`, with
the same explicit ``__init__`` signature (sktime, like sklearn, reads the parameters from it)
and the same parameter documentation. The behaviour lives in the hand-written bases of
``seqestim/sktime/_base.py``; this script only writes the signatures and docstrings, which
would otherwise repeat some thirty times. ``tests/sktime/test_adapters.py`` fails when the file
is out of date and when a core estimator has no adapter.

Usage::

    python tools/generate_sktime_adapters.py          # rewrite the file
    python tools/generate_sktime_adapters.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import inspect
import pathlib
import re
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parents[1]
TARGET = ROOT / "seqestim" / "sktime" / "_generated.py"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from _codegen import write_or_check  # noqa: E402

from seqestim import estimators  # noqa: E402
from seqestim.registry import get_spec  # noqa: E402

ADAPTER_BASES = {
    "classifier": "SequenceClassifierAdapter",
    "regressor": "SequenceRegressorAdapter",
    "forecaster": "SequenceForecasterAdapter",
}

SKTIME_BASES = {
    "classifier": "sktime.classification.base.BaseClassifier",
    "regressor": "sktime.regression.base.BaseRegressor",
    "forecaster": "sktime.forecasting.base.BaseForecaster",
}

# warm_start cannot work through sktime: its fit() resets the object before training.
WARM_START_DOC = (
    "warm_start : bool, default=False\n"
    "    Kept so that the parameters equal the core estimator's. sktime's ``fit`` resets the\n"
    "    object first, so every ``fit`` trains a new network whatever its value."
)

EXAMPLES = {
    "classifier": """\
>>> from sktime.datasets import load_unit_test
>>> from seqestim.sktime import {name}
>>> X, y = load_unit_test(split="train", return_type="numpy3D")
>>> clf = {name}({small}max_epochs=2, random_state=0)
>>> clf = clf.fit(X, y)
>>> clf.predict(X[:3]).shape
(3,)
>>> clf.predict_proba(X[:3]).shape
(3, 2)""",
    "regressor": """\
>>> from sktime.datasets import load_covid_3month
>>> from seqestim.sktime import {name}
>>> X, y = load_covid_3month(split="train")  # nested_univ DataFrame
>>> reg = {name}({small}max_epochs=2, random_state=0)
>>> reg = reg.fit(X.iloc[:30], y[:30])
>>> reg.predict(X.iloc[:3]).shape
(3,)""",
    "forecaster": """\
>>> from sktime.datasets import load_airline
>>> from seqestim.sktime import {name}
>>> y = load_airline()
>>> forecaster = {name}({small}window_length=12, horizon=3, max_epochs=2, random_state=0)
>>> forecaster = forecaster.fit(y)
>>> forecaster.predict(fh=[1, 2, 3]).index.astype(str).tolist()
['1961-01', '1961-02', '1961-03']""",
}


def core_estimator_classes() -> list[type]:
    """Named core estimators that need an adapter, in ``__all__`` order."""
    return [cls for cls in estimators.named_estimators() if cls._task in ADAPTER_BASES]


def _section(docstring: str, title: str) -> str:
    """Body of a numpydoc section (without its header), or an empty string."""
    text = inspect.cleandoc(docstring or "")
    match = re.search(rf"(?:^|\n){title}\n-+\n(.*?)(?=\n\n[A-Z][A-Za-z ]+\n-+\n|\Z)", text, re.S)
    return match.group(1).rstrip() if match else ""


def _parameters_doc(core: type) -> str:
    body = _section(core.__doc__, "Parameters")
    if not body:
        raise ValueError(f"{core.__name__} has no Parameters section to copy.")
    return re.sub(r"warm_start : .*?(?=\n\S|\Z)", WARM_START_DOC, body, flags=re.S)


def _class_source(core: type) -> str:
    task = core._task
    name = core.__name__
    signature = inspect.signature(core.__init__)
    params = {p.name: p.default for p in signature.parameters.values() if p.name != "self"}
    summary = inspect.cleandoc(core.__doc__).splitlines()[0]
    small = "".join(f"{k}={v!r}, " for k, v in get_spec(core._model_name).test_params[0].items())
    doc = "\n".join(
        [
            f"sktime {task} adapter of :class:`seqestim.{name}`.",
            "",
            summary,
            "",
            f"A :class:`{SKTIME_BASES[task]}` by composition: ``fit`` builds",
            f"``seqestim.{name}`` from the parameters below (the same as the core estimator's),",
            "stores it as ``estimator_`` and delegates every prediction to it. See",
            ":mod:`seqestim.sktime` for the containers and tags.",
            "",
            "Parameters",
            "----------",
            _parameters_doc(core),
            "",
            "Attributes",
            "----------",
            f"estimator_ : seqestim.{name}",
            "    The fitted core estimator.",
            "",
            "See Also",
            "--------",
            f"seqestim.{name} : The core (scikit-learn) estimator.",
            "",
            "Examples",
            "--------",
            EXAMPLES[task].format(name=name, small=small),
        ]
    )
    docstring = textwrap.indent(doc, "    ").strip()
    arguments = "".join(f"        {k}={v!r},\n" for k, v in params.items())
    assignments = "".join(f"        self.{k} = {k}\n" for k in params)
    return (
        f"class {name}({ADAPTER_BASES[task]}):\n"
        f'    """{docstring}\n    """\n\n'
        f"    _estimator_class = _core.{name}\n\n"
        f"    def __init__(\n        self,\n        *,\n{arguments}    ):\n{assignments}"
        "        super().__init__()\n"
    )


def render() -> str:
    """The full text of ``_generated.py`` for the current core estimators."""
    classes = core_estimator_classes()
    header = (
        '"""sktime adapters, one per named core estimator.\n\n'
        "GENERATED by ``tools/generate_sktime_adapters.py``; do not edit by hand.\n"
        '"""\n\n'
        "# ruff: noqa: E501\n"
        "from __future__ import annotations\n\n"
        "from seqestim import estimators as _core\n"
        "from seqestim.sktime._base import (\n"
        "    SequenceClassifierAdapter,\n"
        "    SequenceForecasterAdapter,\n"
        "    SequenceRegressorAdapter,\n"
        ")\n"
    )
    names = sorted(c.__name__ for c in classes)
    all_line = "\n__all__ = [\n" + "".join(f'    "{n}",\n' for n in names) + "]\n"
    return header + all_line + "\n\n" + "\n\n".join(_class_source(c) for c in classes)


def main(argv=None) -> int:
    return write_or_check(render, TARGET, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
