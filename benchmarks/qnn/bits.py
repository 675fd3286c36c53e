"""Quantised training (Hubara et al. 2018): accuracy against bits, and the model size.

For every data set and model, the same estimator is trained with ``weight_bits`` and
``activation_bits`` set to 8, 4, 2 and 1 bits, and once in full precision (32 bits), all through
the public estimators with the same seed and budget; the test accuracy and ``model_size_bits_``
are recorded.

Data: two UCR/UEA sets shipped with sktime (ItalyPowerDemand, BasicMotions; official splits)
and the sequential digits (scikit-learn's 8x8 digits as 64-step pixel sequences, a stratified
70/30 split, optionally a subset). Models: ``GRUClassifier`` and ``CDILClassifier``.

Run:  python benchmarks/qnn/bits.py [--smoke] [--datasets ...] [--models GRU CDIL]
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
from seqestim.estimators import CDILClassifier, GRUClassifier

RESULTS = Path(__file__).parent / "results"
DATASETS = ["ItalyPowerDemand", "BasicMotions", "digits"]
BITS = [32, 8, 4, 2, 1]


def load(name: str, n_digits: int | None):
    if name == "digits":
        X, y = make_sequential_digits(n_samples=n_digits, random_state=0)
        X_tr, X_te, y_tr, y_te = train_test_split(
            X.astype(np.float32), y, test_size=0.3, stratify=y, random_state=0
        )
        return X_tr, y_tr, X_te, y_te
    X_tr, y_tr = load_ucr(name, split="train")
    X_te, y_te = load_ucr(name, split="test")
    return X_tr.astype(np.float32), y_tr, X_te.astype(np.float32), y_te


def make(model: str, bits: int, args):
    quantised = None if bits == 32 else bits
    common = {
        "weight_bits": quantised,
        "activation_bits": quantised,
        "max_epochs": args.epochs,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "optimizer": "adam",
        "random_state": args.seed,
    }
    if model == "GRU":
        return GRUClassifier(d_model=args.d_model, **common)
    if model == "CDIL":
        return CDILClassifier(d_model=args.d_model, kernel_size=3, pooling="mean", **common)
    raise ValueError(model)


def machine(args) -> dict:
    return {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
    }


def save(args, rows, complete):
    result = {
        "experiment": "qnn_bits",
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "rows": rows,
        "machine": machine(args),
        "complete": complete,
    }
    out = (
        Path(args.out) if args.out else RESULTS / ("bits_smoke.json" if args.smoke else "bits.json")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run (seconds)")
    parser.add_argument("--datasets", nargs="*", default=DATASETS)
    parser.add_argument("--models", nargs="*", default=["GRU", "CDIL"])
    parser.add_argument("--bits", type=int, nargs="*", default=BITS)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--d-model", type=int, default=32)
    parser.add_argument("--n-digits", type=int, default=None, help="subset of the 1797 digits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.smoke:
        args.datasets, args.bits, args.epochs, args.d_model = ["ItalyPowerDemand"], [32, 1], 1, 4
    torch.set_num_threads(1)
    rows = []
    for dataset in args.datasets:
        X_tr, y_tr, X_te, y_te = load(dataset, args.n_digits)
        for model in args.models:
            for bits in args.bits:
                est = make(model, bits, args)
                start = time.perf_counter()
                est.fit(X_tr, y_tr)
                seconds = time.perf_counter() - start
                accuracy = float(np.mean(est.predict(X_te) == y_te))
                row = {
                    "dataset": dataset,
                    "model": model,
                    "bits": bits,
                    "accuracy": accuracy,
                    "model_size_bits": int(est.model_size_bits_),
                    "n_parameters": int(est.n_parameters_),
                    "fit_seconds": seconds,
                    "n_train": len(y_tr),
                    "n_test": len(y_te),
                }
                rows.append(row)
                print(
                    f"{dataset:17s} {model:5s} {bits:2d} bits  acc={accuracy:.3f}  "
                    f"size={row['model_size_bits']:8d} bits  fit={seconds:6.1f}s",
                    flush=True,
                )
                save(args, rows, complete=False)
    out = save(args, rows, complete=True)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
