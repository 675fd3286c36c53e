"""The named estimators are generated from the registry; the checked-in file must be current."""

import inspect
import subprocess
import sys
from pathlib import Path

from seqestim import estimators
from seqestim.registry import get_spec, list_models
from tests._instances import named_estimator_classes

ROOT = Path(__file__).resolve().parents[1]


def test_generated_file_is_current():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "generate_estimators.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_model_and_task_has_its_named_estimator():
    for name in list_models():
        spec = get_spec(name)
        for task in spec.tasks:
            class_name = spec.estimator_prefix + task.capitalize()
            if task == "forecaster" and not hasattr(estimators, "BaseSequenceForecaster"):
                continue
            assert hasattr(estimators, class_name), class_name


def test_signatures_are_explicit_and_match_the_backbone():
    for cls in named_estimator_classes():
        parameters = inspect.signature(cls.__init__).parameters
        assert all(p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters.values()), (
            cls
        )
        backbone = inspect.signature(get_spec(cls._model_name).cls.__init__).parameters
        for name, parameter in backbone.items():
            if name not in ("self", "d_input"):
                assert parameters[name].default == parameter.default, (cls, name)
        assert "References" in cls.__doc__ and "Examples" in cls.__doc__
