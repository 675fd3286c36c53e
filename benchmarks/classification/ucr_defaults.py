"""Every named classifier with its defaults on four UCR/UEA sets, next to ROCKET and InceptionTime.

What an untuned user gets: each seqestim classifier is built with ``make_estimator(model,
"classifier", random_state=seed)`` and nothing else, fitted on the archive's TRAIN split (raw
values: the estimators scale their inputs themselves) and scored on its TEST split. In the same
run, sktime's

- ``RocketClassifier`` with 10 000 kernels (its defaults), and
- ``InceptionTimeClassifierTorch`` with its defaults except ``num_epochs`` (``--inception-epochs``;
  its default of 1 500 epochs does not fit the CPU budget)

see the same splits, with the channels standardised by training statistics. Every fit is timed;
a warm-up fit of every model on a tiny slice first pays the one-off costs (imports, numba
compilation). Results are written after every fit, so an interrupted run keeps what it measured;
a run over some data sets or models updates those rows of an existing results file.

Usage::

    python benchmarks/classification/ucr_defaults.py --datasets GunPoint --seeds 0 1 2
    python benchmarks/classification/ucr_defaults.py --smoke     # seconds
    # runs in parallel processes write their own --out files; merge them and print the table:
    python benchmarks/classification/ucr_defaults.py --merge results/part_*.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
import torch

from seqestim.datasets.ucr import load_ucr
from seqestim.estimators import make_estimator, named_estimators

RESULTS = Path(__file__).parent / "results"
DATASETS = ["GunPoint", "ItalyPowerDemand", "BasicMotions", "ArrowHead"]
PEERS = ["ROCKET", "InceptionTime"]


def classifier_models() -> list[str]:
    return sorted(cls._model_name() for cls in named_estimators("classifier"))


def load(name: str):
    X_train, y_train = load_ucr(name, split="train")
    X_test, y_test = load_ucr(name, split="test")
    return np.asarray(X_train), np.asarray(y_train), np.asarray(X_test), np.asarray(y_test)


def _standardised(X_train, X_test):
    mean = X_train.mean(axis=(0, 2), keepdims=True)  # per channel, training statistics
    std = X_train.std(axis=(0, 2), keepdims=True) + 1e-8
    return (X_train - mean) / std, (X_test - mean) / std


def make(model: str, seed: int, args):
    if model == "ROCKET":
        from sktime.classification.kernel_based import RocketClassifier

        return RocketClassifier(num_kernels=args.rocket_kernels, random_state=seed)
    if model == "InceptionTime":
        from sktime.classification.deep_learning import InceptionTimeClassifierTorch

        return InceptionTimeClassifierTorch(num_epochs=args.inception_epochs, random_state=seed)
    params = {"random_state": seed}
    if args.smoke:
        params["max_epochs"] = 1
    return make_estimator(model, "classifier", **params)


def fit_and_score(model, seed, data, args) -> dict:
    X_train, y_train, X_test, y_test = data
    if model in PEERS:
        X_train, X_test = _standardised(X_train, X_test)
    estimator = make(model, seed, args)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    accuracy = float(np.mean(estimator.predict(X_test) == y_test))
    row = {"model": model, "seed": seed, "accuracy": accuracy, "fit_seconds": fit_seconds}
    if model not in PEERS:
        row["epochs"] = len(estimator.history_)
        row["n_parameters"] = estimator.n_parameters_
    return row


def _summary(rows: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["dataset"], row["model"]), []).append(row)
    summary = []
    for (dataset, model), mine in sorted(groups.items()):
        accuracy = [r["accuracy"] for r in mine]
        fit = [r["fit_seconds"] for r in mine]
        summary.append(
            {
                "dataset": dataset,
                "model": model,
                "accuracy_mean": float(np.mean(accuracy)),
                "accuracy_std": float(np.std(accuracy)),
                "fit_seconds_mean": float(np.mean(fit)),
                "seeds": sorted(r["seed"] for r in mine),
            }
        )
    return summary


def save(out: Path, rows: list[dict], args, complete: bool) -> None:
    import sktime

    result = {
        "benchmark": "ucr_defaults",
        "smoke": args.smoke,
        "settings": {
            "rocket_kernels": args.rocket_kernels,
            "inception_epochs": args.inception_epochs,
            "seqestim": "every named classifier with its defaults and random_state=seed",
        },
        "rows": rows,
        "summary": _summary(rows),
        "complete": complete,
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "load_average_at_save": os.getloadavg(),
        },
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "sklearn": sklearn.__version__,
            "sktime": sktime.__version__,
        },
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


def table(rows: list[dict]) -> str:
    """The markdown table of the README: mean ± std accuracy (fit seconds) per set and model."""
    summary = {(r["dataset"], r["model"]): r for r in _summary(rows)}
    datasets = [d for d in DATASETS if any(key[0] == d for key in summary)]
    models = sorted({key[1] for key in summary}, key=lambda m: (m in PEERS, m))
    lines = ["| model | " + " | ".join(datasets) + " |", "|---" * (len(datasets) + 1) + "|"]
    for model in models:
        cells = []
        for dataset in datasets:
            entry = summary.get((dataset, model))
            if entry is None:
                cells.append("–")
                continue
            best = max(v["accuracy_mean"] for k, v in summary.items() if k[0] == dataset)
            n = len(entry["seeds"])
            text = f"{entry['accuracy_mean']:.3f}"
            if n > 1:  # no spread to show for one seed
                text += f" ± {entry['accuracy_std']:.3f}"
            text = f"**{text}**" if entry["accuracy_mean"] == best else text
            cells.append(
                f"{text} ({entry['fit_seconds_mean']:.0f} s{'' if n == 3 else f', {n} seed'})"
            )
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def merge(paths: list[Path], out: Path, args) -> list[dict]:
    rows = {}
    for path in paths:
        for row in json.loads(Path(path).read_text())["rows"]:
            rows[(row["dataset"], row["model"], row["seed"])] = row  # later files win
    merged = sorted(rows.values(), key=lambda r: (r["dataset"], r["model"], r["seed"]))
    save(out, merged, args, complete=True)
    print(table(merged))
    print(f"wrote {out}")
    return merged


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=DATASETS)
    parser.add_argument("--models", nargs="*", default=None, help="default: all, with peers")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--rocket-kernels", type=int, default=10_000)
    parser.add_argument("--inception-epochs", type=int, default=100)
    parser.add_argument("--smoke", action="store_true", help="one tiny set, one epoch (seconds)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--merge", nargs="*", type=Path, help="merge these results files")
    args = parser.parse_args(argv)
    if args.merge:
        return merge(args.merge, args.out or RESULTS / "ucr_defaults.json", args)
    models = args.models or [*classifier_models(), *PEERS]
    datasets, seeds = args.datasets, args.seeds
    if args.smoke:
        datasets, seeds = ["ItalyPowerDemand"], [0]
        models = [m for m in models if m not in PEERS][:2]
    out = args.out or RESULTS / ("ucr_defaults_smoke.json" if args.smoke else "ucr_defaults.json")
    rows = []
    if out.exists() and not args.smoke:  # keep the rows this run does not redo
        previous = json.loads(out.read_text())["rows"]
        rows = [r for r in previous if not (r["dataset"] in datasets and r["model"] in models)]
    for dataset in datasets:
        data = load(dataset)
        if args.smoke:
            data = (data[0][:20], data[1][:20], data[2][:50], data[3][:50])
        small = (data[0][:8], data[1][:8], data[2][:4], data[3][:4])
        for model in models:
            if model in PEERS or not args.smoke:  # warm-up: imports, numba, first allocations
                warm = argparse.Namespace(**{**vars(args), "inception_epochs": 1, "smoke": True})
                fit_and_score(model, 0, small, warm)
            for seed in seeds:
                row = {"dataset": dataset, **fit_and_score(model, seed, data, args)}
                rows.append(row)
                print(
                    f"{dataset:16s} {model:14s} seed {seed}  accuracy {row['accuracy']:.3f}  "
                    f"fit {row['fit_seconds']:7.1f} s",
                    flush=True,
                )
                save(out, rows, args, complete=False)
    save(out, rows, args, complete=True)
    print(f"wrote {out}")
    return rows


if __name__ == "__main__":
    main()
