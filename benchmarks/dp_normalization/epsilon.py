"""Differentially private training with and without normalization: accuracy against ε.

Davody et al. (2020) find that normalization layers make DP-SGD more accurate at a fixed
privacy budget. Here the same ``GRUClassifier`` is trained without normalization and with
layer normalization inside its cells (``normalization="layer"``; batch normalization is refused
under DP), non-privately (ε = ∞) and with ``privacy={"epsilon": ε, "delta": 1e-5,
"max_grad_norm": C}`` for ε = 8, 3, 1 (DP-SGD through Opacus); the test accuracy and the ε that
Opacus' accountant reports after training are recorded. Same seed, data and budget throughout.

Data: the sequential digits (scikit-learn's 8x8 digits as 64-step pixel sequences, optionally a
subset) and ItalyPowerDemand (sktime's copy; its official split has only 67 training series,
too few for DP-SGD, so the train and test splits are pooled and split 70/30, stratified).

Run:  python benchmarks/dp_normalization/epsilon.py [--smoke] [--datasets ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.model_selection import train_test_split

from seqestim.datasets import load_ucr, make_sequential_digits
from seqestim.estimators import GRUClassifier

RESULTS = Path(__file__).parent / "results"
DATASETS = ["digits", "ItalyPowerDemand"]
EPSILONS = [None, 8.0, 3.0, 1.0]  # None = non-private (ε = ∞)
NORMALIZATIONS = [None, "layer"]


def load(name: str, n_digits: int | None):
    if name == "digits":
        X, y = make_sequential_digits(n_samples=n_digits, random_state=0)
    else:
        X_a, y_a = load_ucr(name, split="train")
        X_b, y_b = load_ucr(name, split="test")
        X, y = np.concatenate([X_a, X_b]), np.concatenate([y_a, y_b])
    X_tr, X_te, y_tr, y_te = train_test_split(
        X.astype(np.float32), y, test_size=0.3, stratify=y, random_state=0
    )
    return X_tr, y_tr, X_te, y_te


def save(args, rows, complete):
    result = {
        "experiment": "dp_epsilon_normalization",
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "rows": rows,
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "load_average": os.getloadavg(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "sklearn": sklearn.__version__,
        },
        "complete": complete,
    }
    name = "epsilon_smoke.json" if args.smoke else "epsilon.json"
    out = Path(args.out) if args.out else RESULTS / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run (seconds)")
    parser.add_argument("--datasets", nargs="*", default=DATASETS)
    parser.add_argument("--epsilons", type=float, nargs="*", default=[8.0, 3.0, 1.0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-grad-norm", type=float, default=1.0)
    parser.add_argument("--delta", type=float, default=1e-5)
    parser.add_argument("--d-model", type=int, default=32)
    parser.add_argument("--n-digits", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.smoke:
        args.datasets, args.epsilons, args.epochs, args.d_model = ["ItalyPowerDemand"], [3.0], 1, 4
    torch.set_num_threads(1)
    rows = []
    for dataset in args.datasets:
        X_tr, y_tr, X_te, y_te = load(dataset, args.n_digits)
        for epsilon in [None, *args.epsilons]:
            for normalization in NORMALIZATIONS:
                privacy = (
                    None
                    if epsilon is None
                    else {
                        "epsilon": epsilon,
                        "delta": args.delta,
                        "max_grad_norm": args.max_grad_norm,
                    }
                )
                est = GRUClassifier(
                    d_model=args.d_model,
                    normalization=normalization,
                    privacy=privacy,
                    max_epochs=args.epochs,
                    lr=args.lr,
                    batch_size=args.batch_size,
                    optimizer="adam",
                    random_state=args.seed,
                )
                start = time.perf_counter()
                est.fit(X_tr, y_tr)
                seconds = time.perf_counter() - start
                accuracy = float(np.mean(est.predict(X_te) == y_te))
                spent = est.privacy_spent_[0] if epsilon is not None else None
                rows.append(
                    {
                        "dataset": dataset,
                        "normalization": normalization or "none",
                        "epsilon": epsilon,
                        "epsilon_spent": spent,
                        "delta": args.delta if epsilon is not None else None,
                        "accuracy": accuracy,
                        "fit_seconds": seconds,
                        "n_train": len(y_tr),
                        "n_test": len(y_te),
                    }
                )
                eps = "inf" if epsilon is None else f"{epsilon:g} (spent {spent:.3f})"
                print(
                    f"{dataset:17s} norm={normalization or 'none':5s} eps={eps:20s} "
                    f"acc={accuracy:.3f} fit={seconds:6.1f}s",
                    flush=True,
                )
                save(args, rows, complete=False)
    out = save(args, rows, complete=True)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
