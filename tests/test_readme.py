"""The README stays true: its model table comes from the registry, its test command is CI's,
and its snippets run as written (twice: nothing they write may stop a second run)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_model_table_is_current():
    table = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "model_table.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- models:start -->\n(.*)\n<!-- models:end -->", readme, re.S)
    assert block is not None and block.group(1).strip() == table


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r"# 2\. install and run the tests\n(.*)\n", readme).group(1)
    install, test = command.split(" && ")
    assert install in ci and test in ci


def _python_snippets():
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", readme, re.S)


def test_readme_has_snippets():
    assert len(_python_snippets()) >= 2


@pytest.mark.parametrize("index", range(len(_python_snippets())))
def test_snippet_runs_as_written_twice_and_prints_labelled_results(index, tmp_path):
    snippet = _python_snippets()[index]
    for run in range(2):  # a second run must not trip over the first one's files
        result = subprocess.run(
            [sys.executable, "-c", snippet],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "MPLBACKEND": "Agg"},
        )
        assert result.returncode == 0, f"run {run + 1}:\n{result.stderr[-3000:]}"
        first = next((line for line in result.stdout.splitlines() if line.strip()), "")
        assert ":" in first, f"the first printed line should say what it shows: {first!r}"
