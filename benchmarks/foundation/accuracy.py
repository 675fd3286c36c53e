"""Accuracy and fit time of the Chung et al. (2014) classifiers next to ROCKET, on UCR/UEA sets.

For each dataset shipped with sktime (GunPoint, ItalyPowerDemand, BasicMotions, ArrowHead) this
fits ``RNNClassifier``, ``GRUClassifier`` and ``LSTMClassifier`` on the archive's train split and
scores them on its test split, next to sktime's ``RocketClassifier`` (Dempster et al. 2020,
random convolution kernels + ridge classifier; 2 000 kernels by default here instead of the
paper's 10 000 to keep the run within minutes on a shared 2-core machine, ``--rocket-kernels
10000`` restores it) fitted in the same process on the same data. Fit times are
wall-clock on the same machine in the same run; compare them as ratios, not absolutes.

Settings (the same for every dataset, no tuning on the test split): ``d_model=32``, one layer,
``pooling="mean"``, AdamW with ``lr=1e-2``, ``batch_size=16``, ``max_epochs=60`` (full run),
inputs as shipped (the univariate UCR sets are z-normalised per series; BasicMotions is raw).
The archive splits are small (36-67 training sequences), so recurrent networks trained from
scratch without augmentation are expected to trail ROCKET; the benchmark measures by how much.

Usage::

    python benchmarks/foundation/accuracy.py                # full run (~20 min, loaded 2-core VM)
    python benchmarks/foundation/accuracy.py --seeds 0 1 2  # mean/std over seeds
    python benchmarks/foundation/accuracy.py --smoke        # seconds
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
import skorch
import sktime
import torch

from seqestim import make_estimator
from seqestim.datasets.ucr import load_ucr

HERE = Path(__file__).resolve().parent

DATASETS = ["GunPoint", "ItalyPowerDemand", "BasicMotions", "ArrowHead"]
MODELS = ["rnn", "gru", "lstm"]
NEURAL = {"d_model": 32, "pooling": "mean", "lr": 1e-2, "batch_size": 16, "max_epochs": 60}
SMOKE_NEURAL = {"d_model": 4, "pooling": "mean", "lr": 1e-2, "batch_size": 32, "max_epochs": 1}


def _rocket(num_kernels, seed):
    from sktime.classification.kernel_based import RocketClassifier

    return RocketClassifier(num_kernels=num_kernels, random_state=seed, n_jobs=1)


def run_one(name, make, X_train, y_train, X_test, y_test):
    estimator = make()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(X_train, y_train)
        fit_time = time.perf_counter() - start
        accuracy = float(np.mean(estimator.predict(X_test) == y_test))
    return {"model": name, "accuracy": accuracy, "fit_time_s": fit_time}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run for the test suite")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--datasets", nargs="+", default=None)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--rocket-kernels", type=int, default=2_000, help="ROCKET's kernels")
    parser.add_argument("--out", default=None, help="results JSON (default: results/)")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    datasets = args.datasets or (["ItalyPowerDemand"] if args.smoke else DATASETS)
    neural = SMOKE_NEURAL if args.smoke else NEURAL
    num_kernels = args.rocket_kernels

    # --smoke skips ROCKET: numba's compilation alone takes tens of seconds
    baselines = [] if args.smoke else ["rocket"]
    if not args.smoke:
        # untimed warm-up: numba compiles ROCKET's kernels, torch/skorch pay first-call costs
        X_warm, y_warm = load_ucr(datasets[0], split="train")
        run_one("rocket", lambda: _rocket(100, 0), X_warm, y_warm, X_warm[:5], y_warm[:5])
        for m in MODELS:
            make = lambda m=m: make_estimator(m, "classifier", **SMOKE_NEURAL)  # noqa: E731
            run_one(m, make, X_warm[:8], y_warm[:8], X_warm[:5], y_warm[:5])

    runs = []
    for dataset in datasets:
        X_train, y_train = load_ucr(dataset, split="train")
        X_test, y_test = load_ucr(dataset, split="test")
        if args.smoke:
            X_train, y_train, X_test, y_test = X_train[:20], y_train[:20], X_test[:40], y_test[:40]
        for seed in args.seeds:
            contenders = [(b, lambda seed=seed: _rocket(num_kernels, seed)) for b in baselines]
            contenders += [
                (
                    m,
                    lambda m=m, seed=seed: make_estimator(
                        m, "classifier", random_state=seed, **neural
                    ),
                )
                for m in MODELS
            ]
            for name, make in contenders:
                row = run_one(name, make, X_train, y_train, X_test, y_test)
                row.update(dataset=dataset, seed=seed)
                runs.append(row)
                print(
                    f"{dataset:18s} seed={seed} {name:7s} accuracy {row['accuracy']:.4f}  "
                    f"fit {row['fit_time_s']:7.2f} s",
                    flush=True,
                )

    summary = []
    for dataset in datasets:
        rocket_times = [
            r["fit_time_s"] for r in runs if r["dataset"] == dataset and r["model"] == "rocket"
        ]
        rocket_time = statistics.mean(rocket_times) if rocket_times else float("nan")
        for name in [*baselines, *MODELS]:
            rows = [r for r in runs if r["dataset"] == dataset and r["model"] == name]
            accuracies = [r["accuracy"] for r in rows]
            fit_time = statistics.mean(r["fit_time_s"] for r in rows)
            summary.append(
                {
                    "dataset": dataset,
                    "model": name,
                    "accuracy_mean": statistics.mean(accuracies),
                    "accuracy_std": statistics.pstdev(accuracies),
                    "fit_time_s_mean": fit_time,
                    "fit_time_vs_rocket": fit_time / rocket_time,
                    "n_seeds": len(rows),
                }
            )

    print("\n| dataset | model | test accuracy | fit time / ROCKET's |")
    print("|---|---|---|---|")
    for s in summary:
        std = f" ± {s['accuracy_std']:.3f}" if s["n_seeds"] > 1 else ""
        print(
            f"| {s['dataset']} | {s['model']} | {s['accuracy_mean']:.3f}{std} | "
            f"{s['fit_time_vs_rocket']:.2f} |"
        )

    result = {
        "benchmark": "foundation/accuracy",
        "smoke": args.smoke,
        "neural_params": neural,
        "rocket_num_kernels": num_kernels,
        "seeds": args.seeds,
        "summary": summary,
        "runs": runs,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "torch_threads": torch.get_num_threads(),
            "device": "cpu",
        },
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "skorch": skorch.__version__,
            "sklearn": sklearn.__version__,
            "sktime": sktime.__version__,
        },
    }
    out = (
        Path(args.out)
        if args.out
        else HERE / "results" / ("accuracy_smoke.json" if args.smoke else "accuracy.json")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
