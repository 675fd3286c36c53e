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


def add_training_arguments(parser: argparse.ArgumentParser, *, seed_help: str) -> None:
    """The training options every command that fits one estimator accepts."""
    parser.add_argument("--epochs", type=int, help="max_epochs (default: the estimator's)")
    parser.add_argument("--d-model", type=int, dest="d_model", help="model width d_model")
    parser.add_argument("--lr", type=float, help="learning rate")
    parser.add_argument("--batch-size", type=int, dest="batch_size", help="mini-batch size")
    parser.add_argument("--seed", type=int, default=0, help=seed_help)
    parser.add_argument("--device", help="cpu, cuda, cuda:N or auto (default: cpu)")
    parser.add_argument(
        "--param",
        action="append",
        type=parse_param,
        metavar="KEY=VALUE",
        help="any other estimator parameter, e.g. --param n_layers=2 (repeatable)",
    )
