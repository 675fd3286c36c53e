"""Run every benchmark script that has a ``--smoke`` mode, so benchmarks cannot rot.

Scripts are discovered, not listed: every ``benchmarks/*/*.py`` whose source mentions
``--smoke`` is run as if by ``python <script> --smoke``, with a time budget of
``SEQESTIM_SMOKE_TIMEOUT`` seconds each (default 120, generous for a loaded 2-core machine).
By default the scripts run inside the test process (``runpy``), so torch, skorch and sktime
are imported once rather than once per script; ``SEQESTIM_SMOKE_SUBPROCESS=1`` runs each in
its own interpreter instead.

Smoke runs write ``*smoke*`` files under ``benchmarks/*/results/``; afterwards new smoke files
are removed and changed ones restored, so the working tree is left as it was. Files without
"smoke" in their name are never touched: a full benchmark run may be writing them meanwhile.
"""

import os
import runpy
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = float(os.environ.get("SEQESTIM_SMOKE_TIMEOUT", "120"))
ISOLATE = os.environ.get("SEQESTIM_SMOKE_SUBPROCESS", "") not in ("", "0")


def _smoke_scripts() -> list[Path]:
    return sorted(
        path
        for path in ROOT.glob("benchmarks/*/*.py")
        if "--smoke" in path.read_text(encoding="utf-8", errors="replace")
    )


def _smoke_outputs() -> list[Path]:
    return [
        path
        for path in ROOT.glob("benchmarks/*/results/**/*")
        if path.is_file() and "smoke" in path.name
    ]


@pytest.fixture
def restore_results():
    before = {path: path.read_bytes() for path in _smoke_outputs()}
    yield
    for path in _smoke_outputs():
        if path not in before:
            path.unlink()
    for path, content in before.items():
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)


def test_smoke_scripts_are_discovered():
    scripts = {p.relative_to(ROOT).as_posix() for p in _smoke_scripts()}
    assert "benchmarks/foundation/overhead.py" in scripts
    assert "benchmarks/foundation/accuracy.py" in scripts


def _run_in_process(script: Path) -> None:
    """``python <script> --smoke`` in this interpreter, with a SIGALRM time budget.

    Sharing the interpreter saves re-importing torch, skorch and sktime for every script (several
    seconds each). Interpreter state a script may change is put back afterwards.
    """
    saved_argv, saved_path, saved_cwd = sys.argv[:], sys.path[:], os.getcwd()
    saved_threads, saved_dtype = torch.get_num_threads(), torch.get_default_dtype()

    def on_alarm(signum, frame):
        raise TimeoutError(f"{script.name} --smoke took longer than {TIMEOUT_S:.0f} s")

    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, TIMEOUT_S)
    try:
        sys.argv = [str(script), "--smoke"]
        sys.path.insert(0, str(script.parent))  # as `python script` does
        os.chdir(ROOT)
        with warnings.catch_warnings():
            runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exit_:
        assert exit_.code in (None, 0), f"{script.name} --smoke exited with status {exit_.code}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        sys.argv[:], sys.path[:] = saved_argv, saved_path
        os.chdir(saved_cwd)
        torch.set_num_threads(saved_threads)
        torch.set_default_dtype(saved_dtype)
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close("all")


def _run_in_subprocess(script: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    try:
        completed = subprocess.run(
            [sys.executable, str(script), "--smoke"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{script.name} --smoke took longer than {TIMEOUT_S:.0f} s")
    assert completed.returncode == 0, (
        f"{script.relative_to(ROOT)} --smoke failed with status {completed.returncode}:\n"
        f"{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    )


@pytest.mark.benchmark
@pytest.mark.parametrize("script", _smoke_scripts(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_benchmark_smoke(script, restore_results, monkeypatch):
    if ISOLATE or not hasattr(signal, "setitimer"):
        _run_in_subprocess(script)
    else:
        monkeypatch.setenv("MPLBACKEND", "Agg")
        _run_in_process(script)
