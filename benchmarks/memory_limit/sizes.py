"""The memorization limit against width (Illium et al. 2022): RNN, GRU, LSTM, NC-GRU, S5.

For every model and ``d_model``, :func:`seqestim.diagnostics.memory_limit` fits the model's
regressor on the random memorization task at every distance (i.i.d. inputs uniform on
``[-1, 1]``, the target is the input ``k`` steps before the last) and reports the test R²,
Jaeger's ``MC_k`` and the largest distance memorised (R² >= 0.9). The paper finds that more
cells raise the limit; this script measures it for the library's recurrent and state-space
backbones, one layer each, all with the same data, budget and seed, and draws the limit
against ``d_model``.

Run:  python benchmarks/memory_limit/sizes.py [--smoke] [--models rnn gru ...] [--sizes ...]
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

from seqestim.diagnostics import memory_limit
from seqestim.estimators import make_estimator

RESULTS = Path(__file__).parent / "results"
MODELS = ["rnn", "gru", "lstm", "nc_gru", "s5"]


def make(model: str, d_model: int, args):
    params = {
        "d_model": d_model,
        "max_epochs": args.epochs,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "optimizer": "adam",
        "random_state": args.seed,
    }
    if model == "s5":  # one layer, as many states as features, like the recurrent models
        params.update(n_layers=1, d_state=d_model)
    return make_estimator(model, "regressor", **params)


def save(args, rows, complete):
    result = {
        "experiment": "memory_limit_vs_width",
        "settings": {k: v for k, v in vars(args).items() if k not in ("out", "plot")},
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
    name = "sizes_smoke.json" if args.smoke else "sizes.json"
    out = Path(args.out) if args.out else RESULTS / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return out


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = sorted((r for r in rows if r["model"] == model), key=lambda r: r["d_model"])
        sizes = [r["d_model"] for r in mine]
        left.plot(sizes, [r["limit"] or 0 for r in mine], "o-", label=model)
        right.plot(sizes, [r["total_capacity"] for r in mine], "o-", label=model)
    for ax, label in ((left, "largest distance memorised (R² ≥ 0.9)"), (right, "Σ MC_k")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("d_model")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run (seconds)")
    parser.add_argument("--models", nargs="*", default=MODELS)
    parser.add_argument("--sizes", type=int, nargs="*", default=[2, 8, 32])
    parser.add_argument("--distances", type=int, nargs="*", default=[1, 2, 4, 8, 16])
    parser.add_argument("--length", type=int, default=24)
    parser.add_argument("--n-train", type=int, default=600)
    parser.add_argument("--n-test", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    parser.add_argument("--plot", default=None, help="PNG path (default: next to the JSON)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.models, args.sizes, args.distances = ["gru"], [2], [1, 3]
        args.length, args.n_train, args.n_test, args.epochs = 6, 40, 20, 1
    torch.set_num_threads(1)
    rows = []
    for model in args.models:
        for d_model in args.sizes:
            start = time.perf_counter()
            result = memory_limit(
                make(model, d_model, args),
                args.distances,
                length=args.length,
                n_train=args.n_train,
                n_test=args.n_test,
                random_state=args.seed,
            )
            rows.append(
                {
                    "model": model,
                    "d_model": d_model,
                    "distances": result.distances.tolist(),
                    "r2": result.scores.tolist(),
                    "MC_k": result.capacity.tolist(),
                    "limit": result.limit,
                    "total_capacity": result.total_capacity,
                    "seconds": time.perf_counter() - start,
                }
            )
            print(
                f"{model:7s} d_model={d_model:3d} limit={result.limit} "
                f"ΣMC={result.total_capacity:.2f} r2={np.round(result.scores, 2).tolist()} "
                f"({rows[-1]['seconds']:.0f}s)",
                flush=True,
            )
            save(args, rows, complete=False)
    out = save(args, rows, complete=True)
    plot(rows, Path(args.plot) if args.plot else out.with_suffix(".png"))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
