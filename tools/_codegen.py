"""Shared command line of the code generators: format with ruff, then write or check."""

from __future__ import annotations

import argparse
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]


def formatted(text: str, target: pathlib.Path) -> str:
    """Apply ``ruff format`` so that the generated file is lint-clean as written."""
    result = subprocess.run(
        ["ruff", "format", "--stdin-filename", str(target), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return result.stdout


def write_or_check(render, target: pathlib.Path, description: str, argv=None) -> int:
    """Write ``render()`` to ``target``; with ``--check``, exit 1 if the file differs."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args(argv)
    text = formatted(render(), target)
    if args.check:
        current = target.read_text() if target.exists() else ""
        if current != text:
            print(f"{target} is out of date; run the generator without --check")
            return 1
        return 0
    target.write_text(text)
    print(f"wrote {target.relative_to(ROOT)}")
    return 0
