"""The ``seqestim`` command.

Subcommands::

    seqestim models [--task TASK]          registered models, their papers and tasks
    seqestim datasets                      UCR/UEA datasets available offline
    seqestim classify DATASET --model NAME fit on the train split, print test accuracy
    seqestim compare [DATASET]             forecasters vs ARIMA baselines, cross-validated

Adding a subcommand takes two pieces: a ``_cmd_<name>(args) -> int`` function that does the
work and a ``_parser_<name>(subparsers)`` block that declares its arguments and points
``func`` at the function; list the parser block in :data:`SUBCOMMANDS`. Errors a user can cause
(unknown model or dataset, a bad hyperparameter) are reported in one line on stderr with exit
status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time
from collections.abc import Callable

__all__ = ["SUBCOMMANDS", "CLIError", "build_parser", "main"]

PROG = "seqestim"


class CLIError(Exception):
    """A user error: printed as ``seqestim: error: <message>`` with exit status 2."""


# --------------------------------------------------------------------------------- helpers
def _parse_param(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` with VALUE read as a Python literal when possible (else a string)."""
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def _wrap(text: str, width: int, indent: str) -> str:
    import textwrap

    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent)


# --------------------------------------------------------------------------------- models
def _cmd_models(args) -> int:
    from seqestim.registry import estimator_class_name, get_spec, list_models

    try:
        names = list_models(args.task)
    except ValueError as error:
        raise CLIError(str(error)) from None
    width = max(len(n) for n in names) if names else 0
    for name in names:
        spec = get_spec(name)
        estimators = ", ".join(estimator_class_name(name, task) for task in spec.tasks)
        print(f"{name:<{width}}  {spec.description}")
        print(f"{'':<{width}}  tasks: {', '.join(spec.tasks)}  ->  {estimators}")
        print(_wrap(f"paper: {spec.paper} {spec.url}", 100, " " * (width + 2)))
    print(f"\n{len(names)} model(s).")
    return 0


def _parser_models(subparsers) -> None:
    parser = subparsers.add_parser(
        "models", help="list the registered models, their papers and tasks"
    )
    parser.add_argument(
        "--task",
        choices=("classifier", "regressor", "forecaster"),
        help="only the models offered for this task",
    )
    parser.set_defaults(func=_cmd_models)


# --------------------------------------------------------------------------------- datasets
def _cmd_datasets(args) -> int:
    from seqestim.datasets.ucr import list_ucr_datasets

    for task in ("classification", "regression"):
        print(f"{task}: {', '.join(list_ucr_datasets(task))}")
    return 0


def _parser_datasets(subparsers) -> None:
    parser = subparsers.add_parser(
        "datasets", help="list the UCR/UEA datasets shipped with sktime (available offline)"
    )
    parser.set_defaults(func=_cmd_datasets)


# --------------------------------------------------------------------------------- classify
def _build_classifier(args):
    """The estimator asked for on the command line, or a CLIError saying what is wrong."""
    from seqestim.registry import list_models, make_estimator

    models = list_models("classifier")
    if args.model not in models:
        raise CLIError(f"unknown classifier model {args.model!r}; choose from: {', '.join(models)}")
    params = dict(args.param or ())
    for key, value in (
        ("max_epochs", args.epochs),
        ("d_model", args.d_model),
        ("lr", args.lr),
        ("batch_size", args.batch_size),
        ("random_state", args.seed),
        ("device", args.device),
        ("verbose", args.verbose),
    ):
        if value is not None:
            params[key] = value
    try:
        estimator = make_estimator(args.model, "classifier", **params)
    except TypeError as error:  # an argument the estimator does not take
        raise CLIError(f"model {args.model!r} does not accept these parameters: {error}") from None
    return estimator


def _load_dataset(name: str):
    from seqestim.datasets.ucr import list_ucr_datasets, load_ucr

    try:
        X_train, y_train = load_ucr(name, split="train")
        X_test, y_test = load_ucr(name, split="test")
    except ValueError as error:
        raise CLIError(str(error)) from None
    canonical = next(n for n in list_ucr_datasets() if n.lower() == name.lower())
    if canonical not in list_ucr_datasets("classification"):
        raise CLIError(f"{canonical} is a regression dataset; `classify` needs class labels.")
    return canonical, X_train, y_train, X_test, y_test


def _cmd_classify(args) -> int:
    estimator = _build_classifier(args)  # cheap checks first
    dataset, X_train, y_train, X_test, y_test = _load_dataset(args.dataset)
    start = time.perf_counter()
    try:
        estimator.fit(X_train, y_train)
        fit_time = time.perf_counter() - start
        accuracy = float(estimator.score(X_test, y_test))
    except (ValueError, TypeError, FloatingPointError) as error:
        raise CLIError(f"fitting {type(estimator).__name__} failed: {error}") from None
    result = {
        "dataset": dataset,
        "model": args.model,
        "estimator": type(estimator).__name__,
        "n_train": len(y_train),
        "n_test": len(y_test),
        "n_parameters": estimator.n_parameters_,
        "epochs": len(estimator.history_),
        "test_accuracy": accuracy,
        "fit_time_s": fit_time,
        "params": {k: v for k, v in estimator.get_params().items() if k != "callbacks"},
    }
    if args.json:
        print(json.dumps(result, default=str))
    else:
        print(
            f"{result['estimator']} on {dataset}: {result['n_train']} train / "
            f"{result['n_test']} test sequences, {result['n_parameters']} parameters, "
            f"{result['epochs']} epochs"
        )
        print(f"test accuracy: {accuracy:.4f}")
        print(f"fit time: {fit_time:.2f} s")
    return 0


def _parser_classify(subparsers) -> None:
    parser = subparsers.add_parser(
        "classify",
        help="fit a classifier on a shipped UCR/UEA dataset and print its test accuracy",
        description=(
            "Fit the named classifier on the archive's train split and report accuracy on its "
            "test split. See `seqestim datasets` and `seqestim models --task classifier`."
        ),
    )
    parser.add_argument("dataset", help="dataset name, e.g. GunPoint (case-insensitive)")
    parser.add_argument("--model", required=True, help="registry name, e.g. gru, lstm, s5")
    parser.add_argument("--epochs", type=int, help="max_epochs (default: the estimator's)")
    parser.add_argument("--d-model", type=int, dest="d_model", help="model width d_model")
    parser.add_argument("--lr", type=float, help="learning rate")
    parser.add_argument("--batch-size", type=int, dest="batch_size", help="mini-batch size")
    parser.add_argument("--seed", type=int, default=0, help="random_state (default: 0)")
    parser.add_argument("--device", help="cpu, cuda, cuda:N or auto (default: cpu)")
    parser.add_argument(
        "--param",
        action="append",
        type=_parse_param,
        metavar="KEY=VALUE",
        help="any other estimator parameter, e.g. --param n_layers=2 (repeatable)",
    )
    parser.add_argument("--verbose", type=int, help="0 silent, 1 progress bar, 2 epoch table")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=_cmd_classify)


# --------------------------------------------------------------------------------- compare
def _parser_compare(subparsers) -> None:
    # defined with its command function in seqestim/_cli_compare.py (forecaster comparison)
    from seqestim import _cli_compare

    _cli_compare.add_parser(subparsers)


# --------------------------------------------------------------------------------- main
#: Parser blocks of the subcommands, in the order ``--help`` lists them.
SUBCOMMANDS: list[Callable] = [_parser_models, _parser_datasets, _parser_classify, _parser_compare]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand of :data:`SUBCOMMANDS`."""
    from seqestim import __version__

    parser = argparse.ArgumentParser(
        prog=PROG, description="Sequence models from research papers behind one sklearn API."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for add_parser in SUBCOMMANDS:
        add_parser(subparsers)
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
        0 on success, 2 for a usage error (bad dataset, model or parameter).
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
