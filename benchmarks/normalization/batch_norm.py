"""Recurrent batch normalization: BN-LSTM vs LSTM on sequential and permuted digits.

Claims: batch normalization speeds up training (Ioffe & Szegedy 2015); inside an LSTM, with
per-time-step statistics and ``γ = 0.1``, it converges faster and generalises better on
sequential and permuted MNIST (Cooijmans et al. 2016). MNIST is not available offline, so the
tasks are scikit-learn's 8x8 digits read pixel by pixel (64 steps, ``make_sequential_digits``),
in raster order and under one fixed permutation; 80 % train, 20 % test, stratified.

Settings after Cooijmans et al.'s sequential MNIST: 100 units, RMSprop with learning rate 1e-3,
batches of 64, gradients clipped at norm 1; ``--epochs`` (default 60) epochs over the 1 437
training sequences. Models: ``LSTMClassifier()`` and ``LSTMClassifier(normalization="batch")``
(per-step batch statistics at the input, recurrent and cell-state sites, ``γ = 0.1``).

Measured per run:

- the test accuracy after every epoch, with the running (moving-average) statistics that
  training maintains: what a network evaluated during training sees (the convergence curve);
- at the end, the test accuracy with three kinds of statistics (the population-statistics
  effect): the population statistics seqestim recomputes with the final weights after ``fit``
  (what ``predict`` uses), the moving averages as training left them, and the statistics of each
  test batch of 64 (no population statistics at all).

Run::

    python benchmarks/normalization/batch_norm.py --seeds 3
    python benchmarks/normalization/batch_norm.py --smoke
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from skorch.callbacks import Callback

from seqestim.datasets.digits import make_sequential_digits
from seqestim.estimators import LSTMClassifier

RESULTS = Path(__file__).parent / "results"
MODELS = {"LSTM": None, "BN-LSTM": "batch"}


def _accuracy(module, X, y, *, train_mode=False, batch=64) -> float:
    """Accuracy of a task network on (n, 1, T) inputs; ``train_mode`` uses batch statistics."""
    module = copy.deepcopy(module)  # train-mode passes would move the running statistics
    module.train(train_mode)
    hits = 0
    with torch.no_grad():
        for start in range(0, len(X), batch):
            x = torch.from_numpy(np.ascontiguousarray(X[start : start + batch].transpose(0, 2, 1)))
            hits += int((module(x.float()).argmax(-1).numpy() == y[start : start + batch]).sum())
    return hits / len(X)


class Curve(Callback):
    """Test accuracy after every epoch (running statistics); keeps them at the end of training."""

    def __init__(self, X_test, y_test):
        self.X_test, self.y_test = X_test, y_test

    def initialize(self):
        """Reset the record at the start of training."""
        self.rows_, self.running_state_ = [], None
        self.start_ = time.perf_counter()
        return self

    def on_epoch_end(self, net, **kwargs):
        """Evaluate after the epoch."""
        self.rows_.append(
            {
                "epoch": len(net.history),
                "train_loss": float(net.history[-1, "train_loss"]),
                "test_accuracy": _accuracy(net.module_, self.X_test, self.y_test),
                "seconds": time.perf_counter() - self.start_,
            }
        )
        print(self.rows_[-1], flush=True)

    def on_train_end(self, net, **kwargs):
        """Act once training has ended."""
        # before the engine recomputes the population statistics with the final weights
        self.running_state_ = copy.deepcopy(net.module_.state_dict())


def run_one(task, model, seed, args):
    X, y = make_sequential_digits(permute=task == "permuted", random_state=0)
    X = X.astype(np.float32)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=y, random_state=seed)
    if args.smoke:
        X_tr, y_tr, X_te, y_te = X_tr[:128], y_tr[:128], X_te[:64], y_te[:64]
    curve = Curve(X_te, y_te)
    est = LSTMClassifier(
        d_model=args.d_model,
        normalization=MODELS[model],
        optimizer="rmsprop",
        lr=args.lr,
        batch_size=64,
        gradient_clip=1.0,
        max_epochs=args.epochs,
        random_state=seed,
        scaling=None,  # the curve callback feeds the raw values to the network
        callbacks=[("curve", curve)],
    )
    est.fit(X_tr, y_tr)
    fitted = est.net_.callbacks_  # the engine's copies of the callbacks, as trained
    used = next(cb for name, cb in fitted if name == "curve")
    row = {
        "task": task,
        "model": model,
        "seed": seed,
        "curve": used.rows_,
        "parameters": int(est.n_parameters_),
        "fit_seconds": est.fit_time_,
        "test_accuracy_predict": float(est.score(X_te, y_te)),  # population statistics
    }
    if MODELS[model] is not None:
        module = copy.deepcopy(est.module_)
        module.load_state_dict(used.running_state_)
        row["test_accuracy_running_statistics"] = _accuracy(module, X_te, y_te)
        row["test_accuracy_batch_statistics"] = _accuracy(est.module_, X_te, y_te, train_mode=True)
    return row


def summarize(rows) -> str:
    lines = [
        "| task | model | final test acc. (predict) | epochs to 90 % | running stats | "
        "batch stats (64) | seeds |",
        "|---|---|---|---|---|---|---|",
    ]
    for task in dict.fromkeys(r["task"] for r in rows):
        for model in MODELS:
            rs = [r for r in rows if r["task"] == task and r["model"] == model]
            if not rs:
                continue
            acc = [r["test_accuracy_predict"] for r in rs]
            reach = []
            for r in rs:
                hit = [c["epoch"] for c in r["curve"] if c["test_accuracy"] >= 0.9]
                reach.append(str(hit[0]) if hit else "—")

            def stat(key, rs=rs):
                values = [r[key] for r in rs if key in r]
                return f"{np.mean(values):.3f} ± {np.std(values):.3f}" if values else "—"

            lines.append(
                f"| {task} | {model} | {np.mean(acc):.3f} ± {np.std(acc):.3f} | "
                f"{', '.join(reach)} | {stat('test_accuracy_running_statistics')} | "
                f"{stat('test_accuracy_batch_statistics')} | {len(rs)} |"
            )
    return "\n".join(lines)


def plot(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(r["task"] for r in rows))
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 3.5), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        for color, model in zip(("C0", "C3"), MODELS, strict=True):
            for r in (r for r in rows if r["task"] == task and r["model"] == model):
                ax.plot(
                    [c["epoch"] for c in r["curve"]],
                    [c["test_accuracy"] for c in r["curve"]],
                    color=color,
                    lw=1,
                    label=model if r["seed"] == 0 else None,
                )
        ax.set_title(f"{task} digits (64 steps)")
        ax.set_xlabel("epoch")
        ax.set_ylabel("test accuracy")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="*", default=["sequential", "permuted"])
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--d-model", type=int, default=100)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--summarize", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    out = RESULTS / ("batch_norm_smoke.json" if args.smoke else "batch_norm.json")
    if args.summarize:
        rows = json.loads(out.read_text())["rows"]
        print(summarize(rows))
        plot(rows, RESULTS / "batch_norm_curves.png")
        return None
    torch.set_num_threads(1)
    if args.smoke:
        args.tasks, args.seeds, args.epochs, args.d_model = ["permuted"], 1, 2, 8
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "experiment": "bn_lstm_vs_lstm_digits",
        "settings": {k: v for k, v in vars(args).items() if k != "summarize"},
        "machine": {"platform": platform.platform(), "torch": torch.__version__},
        "rows": [],
    }
    for seed in range(args.seeds):
        for task in args.tasks:
            for model in args.models:
                result["rows"].append(run_one(task, model, seed, args))
                out.write_text(json.dumps(result, indent=1))
    print(summarize(result["rows"]))
    return result


if __name__ == "__main__":
    main()
