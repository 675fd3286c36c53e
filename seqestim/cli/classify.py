"""``seqestim classify DATASET --model NAME``: fit on a shipped UCR/UEA train split, test it."""

from __future__ import annotations

import json
import time

from seqestim.cli._common import CLIError, parse_param

__all__ = ["add_parser", "run"]


def _build_classifier(args):
    """The estimator asked for on the command line, or a CLIError saying what is wrong."""
    from seqestim.estimators import make_estimator, named_estimators

    models = sorted(cls._model_name() for cls in named_estimators("classifier"))
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


def run(args) -> int:
    """Fit the classifier on the train split and report on the test split; exit status."""
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


def add_parser(subparsers) -> None:
    """Declare ``seqestim classify`` on an ``argparse`` subparsers object."""
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
        type=parse_param,
        metavar="KEY=VALUE",
        help="any other estimator parameter, e.g. --param n_layers=2 (repeatable)",
    )
    parser.add_argument("--verbose", type=int, help="0 silent, 1 progress bar, 2 epoch table")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)
