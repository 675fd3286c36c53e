"""What the ``seqestim`` subcommands share: the user-error type and argument helpers."""

from __future__ import annotations

import argparse
import ast
import textwrap

__all__ = ["CLIError", "parse_param", "wrap"]


class CLIError(Exception):
    """A user error: printed as ``seqestim: error: <message>`` with exit status 2."""


def parse_param(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` with VALUE read as a Python literal when possible (else a string)."""
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def wrap(text: str, width: int, indent: str) -> str:
    """``text`` filled to ``width`` columns, every line indented by ``indent``."""
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent)
