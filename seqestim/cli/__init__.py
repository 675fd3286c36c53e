"""The ``seqestim`` command.

Subcommands, one module each::

    seqestim models [--task TASK]          registered models, their papers and tasks
    seqestim datasets                      UCR/UEA datasets available offline
    seqestim classify DATASET --model NAME fit on the train split, print test accuracy
    seqestim compare [DATASET]             forecasters vs ARIMA baselines, cross-validated
    seqestim memory-limit --model NAME     how many steps back a model memorises random inputs

A subcommand is a module here with ``add_parser(subparsers)``, which declares its arguments and
sets ``func``, and ``run(args) -> int``; list the module in :data:`SUBCOMMANDS`. The modules
import only downward (the estimators, datasets, model selection). Errors a user can cause
(unknown model or dataset, a bad hyperparameter) are reported in one line on stderr with exit
status 2, never as a traceback; an interrupt exits with 130.
"""

from __future__ import annotations

import argparse
import sys

from seqestim._version import __version__
from seqestim.cli import classify, compare, datasets, memory_limit, models
from seqestim.cli._common import CLIError

__all__ = ["SUBCOMMANDS", "CLIError", "build_parser", "main"]

PROG = "seqestim"

#: The subcommand modules, in the order ``--help`` lists them.
SUBCOMMANDS = (models, datasets, classify, compare, memory_limit)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Sequence models from research papers behind one sklearn API."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for command in SUBCOMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``seqestim`` command.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        0 on success, 2 for a usage error (bad dataset, model or parameter), 130 when
        interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse already printed its message
        return int(exit_.code or 0)
    try:
        return int(args.func(args) or 0)
    except CLIError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
