"""``seqestim memory-limit --model NAME``: how many steps back a model memorises random inputs.

Runs :func:`seqestim.diagnostics.memory_limit` on the model's regressor (real inputs, R²) or
classifier (``--symbols N``: one-hot symbols, accuracy), prints the score and Jaeger's memory
capacity ``MC_k`` per distance and the largest distance memorised, and can save the plot.
"""

from __future__ import annotations

import json

from seqestim.cli._common import CLIError, add_training_arguments

__all__ = ["add_parser", "run"]

DEFAULT_DISTANCES = (1, 2, 4, 8, 16, 32)


def _build_estimator(args):
    from seqestim.estimators import make_estimator, named_estimators

    task = "classifier" if args.symbols else "regressor"
    models = sorted(cls._model_name() for cls in named_estimators(task))
    if args.model not in models:
        raise CLIError(f"unknown {task} model {args.model!r}; choose from: {', '.join(models)}")
    params = dict(args.param or ())
    for key, value in (
        ("max_epochs", args.epochs),
        ("d_model", args.d_model),
        ("lr", args.lr),
        ("batch_size", args.batch_size),
        ("random_state", args.seed),
        ("device", args.device),
    ):
        if value is not None:
            params[key] = value
    try:
        return make_estimator(args.model, task, **params)
    except TypeError as error:
        raise CLIError(f"model {args.model!r} does not accept these parameters: {error}") from None


def run(args) -> int:
    """Measure the memory limit and print it; returns the exit status."""
    from seqestim.diagnostics import memory_limit

    estimator = _build_estimator(args)
    distances = tuple(args.distances or DEFAULT_DISTANCES)
    length = args.length if args.length is not None else max(distances) + 10
    if min(distances) < 0 or max(distances) >= length:
        raise CLIError(f"distances must lie in [0, length - 1] = [0, {length - 1}].")
    try:
        result = memory_limit(
            estimator,
            distances,
            length=length,
            n_train=args.n_train,
            n_test=args.n_test,
            n_symbols=args.symbols or 4,
            threshold=args.threshold,
            random_state=args.seed,
        )
    except (ValueError, TypeError, FloatingPointError) as error:
        raise CLIError(f"fitting {type(estimator).__name__} failed: {error}") from None
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        ax = result.plot()
        ax.figure.savefig(args.plot, dpi=120, bbox_inches="tight")
    if args.json:
        print(
            json.dumps(
                {
                    "model": args.model,
                    "estimator": type(estimator).__name__,
                    "length": length,
                    "metric": result.metric,
                    "threshold": result.threshold,
                    "distances": result.distances.tolist(),
                    "scores": result.scores.tolist(),
                    "memory_capacity": result.capacity.tolist(),
                    "limit": result.limit,
                    "total_capacity": result.total_capacity,
                }
            )
        )
        return 0
    print(
        f"{type(estimator).__name__}: random memorization, sequences of {length} steps, "
        f"{args.n_train} train / {args.n_test} test per distance"
    )
    print(result.to_frame().to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    limit = "none" if result.limit is None else f"{result.limit} steps"
    print(f"memory limit ({result.metric} >= {result.threshold:g}): {limit}")
    print(f"total memory capacity (sum of MC_k): {result.total_capacity:.3f}")
    if args.plot:
        print(f"plot: {args.plot}")
    return 0


def add_parser(subparsers) -> None:
    """Declare ``seqestim memory-limit`` on an ``argparse`` subparsers object."""
    parser = subparsers.add_parser(
        "memory-limit",
        help="how many steps back a model memorises random inputs (Illium et al. 2022)",
        description=(
            "Fit a fresh model for every distance k on sequences of i.i.d. random inputs whose "
            "target is the input k steps before the last, and report the test score, Jaeger's "
            "memory capacity MC_k and the largest distance memorised."
        ),
    )
    parser.add_argument("--model", required=True, help="registry name, e.g. gru, lstm, rnn, s5")
    parser.add_argument(
        "--distances", type=int, nargs="+", help="distances k to measure (default: 1 2 4 ... 32)"
    )
    parser.add_argument("--length", type=int, help="steps per sequence (default: max k + 10)")
    parser.add_argument("--n-train", type=int, default=1000, dest="n_train")
    parser.add_argument("--n-test", type=int, default=500, dest="n_test")
    parser.add_argument(
        "--symbols",
        type=int,
        help="one-hot symbols and a classifier (accuracy) instead of real values (R²)",
    )
    parser.add_argument("--threshold", type=float, help="score that counts as memorised")
    add_training_arguments(parser, seed_help="random_state and data seed")
    parser.add_argument("--plot", help="save the plot to this PNG file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)
