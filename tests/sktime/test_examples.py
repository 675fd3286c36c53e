"""The sktime examples run end to end (slow: each trains real networks for a minute or two)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "sktime").glob("plot_*.py"))


def test_examples_exist():
    names = {path.stem for path in EXAMPLES}
    assert {
        "plot_evaluate_arma_cell",
        "plot_reduction_gru_regressor",
        "plot_classification_pipeline",
    } <= names


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, env=env, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
