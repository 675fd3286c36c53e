"""``seqestim datasets``: the UCR/UEA datasets that sktime ships (available offline)."""

from __future__ import annotations

__all__ = ["add_parser", "run"]


def run(args) -> int:
    """Print the shipped classification and regression datasets; returns the exit status."""
    from seqestim.datasets.ucr import list_ucr_datasets

    for task in ("classification", "regression"):
        print(f"{task}: {', '.join(list_ucr_datasets(task))}")
    return 0


def add_parser(subparsers) -> None:
    """Declare ``seqestim datasets`` on an ``argparse`` subparsers object."""
    parser = subparsers.add_parser(
        "datasets", help="list the UCR/UEA datasets shipped with sktime (available offline)"
    )
    parser.set_defaults(func=run)
