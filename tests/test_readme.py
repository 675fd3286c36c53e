"""The README stays true: its model table comes from the registry, its test command is CI's."""

import re
import subprocess
import sys
from pathlib import Path

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
