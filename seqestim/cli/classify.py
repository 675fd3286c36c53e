"""``seqestim classify DATASET --model NAME|all``: fit on a shipped UCR/UEA train split, test it.

One model prints labelled results (test accuracy, the majority-class rate of the test split for
scale, fit time, epochs, parameters); ``--model all`` fits every classifier in turn and prints
one table. Training shows a progress bar over epochs with an ETA on stderr unless ``--quiet``
or ``--json`` is given.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from seqestim.cli._common import CLIError, add_training_arguments

__all__ = ["add_parser", "run"]

ALL = "all"


def _classifier_models() -> list[str]:
    from seqestim.estimators import named_estimators

    return sorted(cls._model_name() for cls in named_estimators("classifier"))


def _build_classifier(args, model: str):
    """The estimator asked for on the command line, or a CLIError saying what is wrong."""
    from seqestim.estimators import make_estimator

    params = dict(args.param or ())
    verbose = args.verbose
    if verbose is None:  # a progress bar by default, none for machine-readable output
        verbose = 0 if (args.quiet or args.json) else 1
    for key, value in (
        ("max_epochs", args.epochs),
        ("d_model", args.d_model),
        ("lr", args.lr),
        ("batch_size", args.batch_size),
        ("random_state", args.seed),
        ("device", args.device),
        ("verbose", verbose),
    ):
        if value is not None:
            params[key] = value
    try:
        estimator = make_estimator(model, "classifier", **params)
    except TypeError as error:  # an argument the estimator does not take
        raise CLIError(f"model {model!r} does not accept these parameters: {error}") from None
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


def _majority_rate(y_train, y_test) -> float:
    """Test accuracy of always predicting the most frequent training class."""
    labels, counts = np.unique(np.asarray(y_train), return_counts=True)
    return float(np.mean(np.asarray(y_test) == labels[np.argmax(counts)]))


def _fit_and_score(estimator, model, dataset, data, stream=None) -> dict:
    X_train, y_train, X_test, y_test = data
    if stream is not None and estimator.verbose:  # which of several fits the bar belongs to
        print(f"fitting {type(estimator).__name__} on {dataset}", file=stream, flush=True)
    start = time.perf_counter()
    try:
        estimator.fit(X_train, y_train)
        fit_time = time.perf_counter() - start
        accuracy = float(estimator.score(X_test, y_test))
    except (ValueError, TypeError, FloatingPointError) as error:
        raise CLIError(f"fitting {type(estimator).__name__} failed: {error}") from None
    return {
        "dataset": dataset,
        "model": model,
        "estimator": type(estimator).__name__,
        "n_train": len(y_train),
        "n_test": len(y_test),
        "n_parameters": estimator.n_parameters_,
        "epochs": len(estimator.history_),
        "test_accuracy": accuracy,
        "majority_class_rate": _majority_rate(y_train, y_test),
        "fit_time_s": fit_time,
        "params": {k: v for k, v in estimator.get_params().items() if k != "callbacks"},
    }


def _print_one(result: dict) -> None:
    print(
        f"{result['estimator']} on {result['dataset']}: {result['n_train']} train / "
        f"{result['n_test']} test sequences, {result['n_parameters']} parameters, "
        f"{result['epochs']} epochs"
    )
    print(f"test accuracy: {result['test_accuracy']:.4f}")
    print(f"majority-class rate: {result['majority_class_rate']:.4f} (always the commonest class)")
    print(f"fit time: {result['fit_time_s']:.2f} s")


def _print_table(results: list[dict]) -> None:
    first = results[0]
    print(
        f"{first['dataset']}: {first['n_train']} train / {first['n_test']} test sequences, "
        f"majority-class rate {first['majority_class_rate']:.4f}"
    )
    header = f"{'model':<8} {'estimator':<18} {'accuracy':>8} {'fit time (s)':>12} "
    header += f"{'epochs':>6} {'parameters':>10}"
    print(header)
    print("-" * len(header))
    for r in sorted(results, key=lambda r: -r["test_accuracy"]):
        print(
            f"{r['model']:<8} {r['estimator']:<18} {r['test_accuracy']:>8.4f} "
            f"{r['fit_time_s']:>12.2f} {r['epochs']:>6d} {r['n_parameters']:>10d}"
        )


def run(args) -> int:
    """Fit the classifier(s) on the train split and report on the test split; exit status."""
    models = _classifier_models()
    if args.model != ALL and args.model not in models:
        raise CLIError(
            f"unknown classifier model {args.model!r}; choose from: {', '.join(models)} or all"
        )
    chosen = models if args.model == ALL else [args.model]
    estimators = {model: _build_classifier(args, model) for model in chosen}  # cheap checks
    dataset, X_train, y_train, X_test, y_test = _load_dataset(args.dataset)
    data = (X_train, y_train, X_test, y_test)
    stream = sys.stderr if args.model == ALL else None
    results = [
        _fit_and_score(estimator, model, dataset, data, stream)
        for model, estimator in estimators.items()
    ]
    if args.json:
        payload = results[0] if args.model != ALL else results
        print(json.dumps(payload, default=str))
    elif args.model == ALL:
        _print_table(results)
    else:
        _print_one(results[0])
    return 0


def add_parser(subparsers) -> None:
    """Declare ``seqestim classify`` on an ``argparse`` subparsers object."""
    parser = subparsers.add_parser(
        "classify",
        help="fit a classifier on a shipped UCR/UEA dataset and print its test accuracy",
        description=(
            "Fit the named classifier (or every classifier, with --model all) on the archive's "
            "train split and report accuracy on its test split, next to the majority-class "
            "rate. See `seqestim datasets` and `seqestim models --task classifier`."
        ),
    )
    parser.add_argument("dataset", help="dataset name, e.g. GunPoint (case-insensitive)")
    parser.add_argument(
        "--model", required=True, help="registry name, e.g. gru, lstm, s5; or all for a table"
    )
    add_training_arguments(parser, seed_help="random_state (default: 0)")
    parser.add_argument(
        "--verbose",
        type=int,
        help="0 silent, 1 progress bar (the default), 2 also a table per epoch",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar (--verbose 0)")
    parser.add_argument(
        "--json", action="store_true", help="print JSON (a list with --model all); no progress"
    )
    parser.set_defaults(func=run)
