"""Batch layer normalization at small batch sizes: BLN vs BN vs LN, batches of 1 and 25.

Claim of Ziaee & Çano (2022): BLN, a mixture of batch and layer normalization weighted by the
batch size ``m`` (``1/m`` on the layer part), converges faster than BN and LN, and keeps working
where BN fails, at a batch of one. Their recurrent experiment (IMDB) places the normalization
*between* layers: ``LSTM 128 → N → LSTM 64 → N → Dense 32 (tanh) → N → Dense``, Adam with
learning rate 3e-3, 10 epochs, 20 % of the training data, batch sizes 1 and 25.

Here, the same layout and settings on two sets that are available offline:

- sequential digits: scikit-learn's 8x8 digits as 64-step pixel sequences
  (``make_sequential_digits``), a stratified 80/20 train/test split of which 20 % of the training
  part (287 sequences) is used for training, as in the paper; the full test part (360) scores;
- ItalyPowerDemand (UCR, shipped with sktime): its official TRAIN (67) and TEST (1 029) splits.

Two placements are measured:

- **between layers, as in the paper**: built in this script from seqestim's own layers (the
  ``LSTM`` backbone and the ``LayerNorm``, ``RecurrentBatchNorm`` (``γ = 1``) and
  ``BatchLayerNorm`` of ``seqestim.nn._normalization``) and trained by the small loop below,
  because no estimator puts a normalization between recurrent layers;
- **inside the cell, seqestim's option**: ``LSTMClassifier(n_layers=2,
  normalization="batch" | "layer" | "batch_layer", bln_batch_size=m)``, trained through the
  public estimator.

Evaluation uses population batch statistics (BN, the batch part of BLN) and each sample's own
feature statistics (LN, the layer part of BLN) -- the official BLN code's
``batch_moving_* = True``, ``feature_moving_* = False`` configuration. Convergence curves: test
accuracy after every epoch. No normalization ("none") is the reference.

Run::

    python benchmarks/normalization/bln.py --seeds 3
    python benchmarks/normalization/bln.py --smoke
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
from torch import nn

from seqestim.datasets.digits import make_sequential_digits
from seqestim.datasets.ucr import load_ucr
from seqestim.estimators import LSTMClassifier
from seqestim.nn._normalization import BatchLayerNorm, LayerNorm, RecurrentBatchNorm
from seqestim.nn.gated_rnn import LSTM, RecurrentParams

RESULTS = Path(__file__).parent / "results"
NORMS = ("none", "BN", "LN", "BLN")
IN_CELL = {"none": None, "BN": "batch", "LN": "layer", "BLN": "batch_layer"}


# ------------------------------------------------------------------------------------- data
def load(name: str, seed: int):
    """(X_train, y_train, X_test, y_test), float32 channels-first."""
    if name == "digits":
        X, y = make_sequential_digits(random_state=0)
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
        X_tr, _, y_tr, _ = train_test_split(
            X_tr, y_tr, train_size=0.2, stratify=y_tr, random_state=seed
        )
    else:
        X_tr, y_tr = load_ucr(name, split="train")
        X_te, y_te = load_ucr(name, split="test")
        mean, std = X_tr.mean(), X_tr.std()
        X_tr, X_te = (X_tr - mean) / std, (X_te - mean) / std
        classes = np.unique(y_tr)
        y_tr, y_te = np.searchsorted(classes, y_tr), np.searchsorted(classes, y_te)
    return (
        X_tr.astype(np.float32),
        np.asarray(y_tr, dtype=np.int64),
        X_te.astype(np.float32),
        np.asarray(y_te, dtype=np.int64),
    )


# --------------------------------------------------------------------- between the layers
def _norm(kind: str, d: int, batch_size: int):
    if kind == "BN":
        return RecurrentBatchNorm(d, gain_init=1.0)
    if kind == "LN":
        return LayerNorm(d)
    if kind == "BLN":
        return BatchLayerNorm(d, batch_size=batch_size)
    return None


class BetweenLayers(nn.Module):
    """``LSTM h1 → N → LSTM h2 → N → Dense 32 tanh → N → Dense`` (the BLN paper's IMDB model)."""

    def __init__(self, d_input, n_classes, kind, batch_size, h1=64, h2=32):
        super().__init__()
        self.lstm1 = LSTM(d_input, RecurrentParams(d_model=h1))
        self.lstm2 = LSTM(h1, RecurrentParams(d_model=h2))
        self.dense = nn.Linear(h2, 32)
        self.out = nn.Linear(32, n_classes)
        self.norms = nn.ModuleList(
            [m for m in (_norm(kind, d, batch_size) for d in (h1, h2, 32)) if m is not None]
        )

    def _n(self, i, a):  # (B, L, D) -> normalized; a dense (B, D) is a length-1 sequence
        if not self.norms:
            return a
        if a.dim() == 2:
            return self.norms[i].sequence(a.unsqueeze(1), None).squeeze(1)
        return self.norms[i].sequence(a, None)

    def forward(self, x):  # (B, L, C) -> (B, n_classes)
        """``x`` (B, L, C) -> logits (B, n_classes)."""
        h = self._n(0, self.lstm1(x))  # (B, L, h1)
        h = self._n(1, self.lstm2(h)[:, -1])  # (B, h2): the last step
        h = self._n(2, torch.tanh(self.dense(h)))  # (B, 32)
        return self.out(h)


def _accuracy(module, X, y) -> float:
    module.eval()
    with torch.no_grad():
        logits = module(torch.from_numpy(np.ascontiguousarray(X.transpose(0, 2, 1))))
    module.train()
    return float((logits.argmax(-1).numpy() == y).mean())


def train_between(data, kind, batch_size, seed, args):
    X_tr, y_tr, X_te, y_te = data
    torch.manual_seed(seed)
    model = BetweenLayers(X_tr.shape[1], int(y_tr.max()) + 1, kind, batch_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    x = torch.from_numpy(np.ascontiguousarray(X_tr.transpose(0, 2, 1)))
    target = torch.from_numpy(y_tr)
    generator = torch.Generator().manual_seed(seed)
    curve, start = [], time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        losses = []
        for batch in torch.randperm(len(x), generator=generator).split(batch_size):
            loss = nn.functional.cross_entropy(model(x[batch]), target[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        curve.append(
            {
                "epoch": epoch,
                "train_loss": float(np.mean(losses)),
                "test_accuracy": _accuracy(model, X_te, y_te),
                "seconds": time.perf_counter() - start,
            }
        )
    return curve


# ------------------------------------------------------------------------- inside the cell
class _EpochAccuracy(Callback):
    def __init__(self, X_test, y_test):
        self.X_test, self.y_test = X_test, y_test

    def initialize(self):
        """Reset the record at the start of training."""
        self.rows_, self.start_ = [], time.perf_counter()
        return self

    def on_epoch_end(self, net, **kwargs):
        """Evaluate after the epoch."""
        module = copy.deepcopy(net.module_)
        self.rows_.append(
            {
                "epoch": len(net.history),
                "train_loss": float(net.history[-1, "train_loss"]),
                "test_accuracy": _accuracy(module, self.X_test, self.y_test),
                "seconds": time.perf_counter() - self.start_,
            }
        )


def train_in_cell(data, kind, batch_size, seed, args):
    X_tr, y_tr, X_te, y_te = data
    est = LSTMClassifier(
        d_model=64,
        n_layers=2,
        normalization=IN_CELL[kind],
        bln_batch_size=batch_size,
        optimizer="adam",
        lr=args.lr,
        batch_size=batch_size,
        max_epochs=args.epochs,
        random_state=seed,
        scaling=None,  # the accuracy callback feeds the raw values to the network
        callbacks=[("accuracy", _EpochAccuracy(X_te, y_te))],
    )
    try:
        est.fit(X_tr, y_tr)
    except FloatingPointError as error:  # TrainingDivergedError
        return [], str(error), None
    curve = next(cb for name, cb in est.net_.callbacks_ if name == "accuracy").rows_
    return curve, False, float(est.score(X_te, y_te))


# ------------------------------------------------------------------------------------ main
def summarize(rows) -> str:
    lines = [
        "| data | placement | batch | norm | test acc. after epoch 1 | final (mean ± sd) | seeds |",
        "|---|---|---|---|---|---|---|",
    ]
    keys = list(dict.fromkeys((r["data"], r["placement"], r["batch_size"]) for r in rows))
    for data, placement, batch in keys:
        finals = {}
        for norm in NORMS:
            rs = [
                r
                for r in rows
                if (r["data"], r["placement"], r["batch_size"], r["norm"])
                == (data, placement, batch, norm)
            ]
            if rs:
                final = [r["curve"][-1]["test_accuracy"] if r["curve"] else np.nan for r in rs]
                first = [r["curve"][0]["test_accuracy"] if r["curve"] else np.nan for r in rs]
                finals[norm] = (np.nanmean(final), np.nanstd(final), np.nanmean(first), len(rs))
        best = max(finals, key=lambda k: finals[k][0])
        for norm, (mean, sd, first, n) in finals.items():
            text = f"{mean:.3f} ± {sd:.3f}"
            text = f"**{text}**" if norm == best else text
            lines.append(
                f"| {data} | {placement} | {batch} | {norm} | {first:.3f} | {text} | {n} |"
            )
    return "\n".join(lines)


def plot(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(dict.fromkeys((r["data"], r["placement"], r["batch_size"]) for r in rows))
    fig, axes = plt.subplots(1, len(keys), figsize=(3.6 * len(keys), 3.2), squeeze=False)
    colors = dict(zip(NORMS, ("grey", "C3", "C0", "C2"), strict=True))
    for ax, key in zip(axes[0], keys, strict=True):
        for r in (r for r in rows if (r["data"], r["placement"], r["batch_size"]) == key):
            if r["curve"]:
                ax.plot(
                    [c["epoch"] for c in r["curve"]],
                    [c["test_accuracy"] for c in r["curve"]],
                    color=colors[r["norm"]],
                    lw=1,
                    label=r["norm"] if r["seed"] == 0 else None,
                )
        ax.set_title(f"{key[0]}, {key[1]}, batch {key[2]}", fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylabel("test accuracy")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="*", default=["digits", "ItalyPowerDemand"])
    parser.add_argument("--placements", nargs="*", default=["between", "in-cell"])
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[1, 25])
    parser.add_argument("--norms", nargs="*", default=list(NORMS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--tag", default="")
    parser.add_argument("--summarize", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    if args.summarize:
        rows = []
        for path in sorted(RESULTS.glob("bln*.json")):
            if "smoke" not in path.name:
                rows += json.loads(path.read_text())["rows"]
        print(summarize(rows))
        plot(rows, RESULTS / "bln_curves.png")
        return None
    torch.set_num_threads(1)
    if args.smoke:
        args.data, args.seeds, args.epochs, args.batch_sizes = ["ItalyPowerDemand"], 1, 1, [25]
    out = RESULTS / (f"bln{args.tag}_smoke.json" if args.smoke else f"bln{args.tag}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "experiment": "bln_small_batches",
        "settings": {k: v for k, v in vars(args).items() if k != "summarize"},
        "machine": {"platform": platform.platform(), "torch": torch.__version__},
        "rows": [],
    }
    for seed in range(args.seeds):
        for name in args.data:
            data = load(name, seed)
            for placement in args.placements:
                for batch_size in args.batch_sizes:
                    for norm in args.norms:
                        start = time.perf_counter()
                        if placement == "between":
                            curve, diverged, final = (
                                train_between(data, norm, batch_size, seed, args),
                                False,
                                None,
                            )
                        else:
                            curve, diverged, final = train_in_cell(
                                data, norm, batch_size, seed, args
                            )
                        row = {
                            "data": name,
                            "placement": placement,
                            "batch_size": batch_size,
                            "norm": norm,
                            "seed": seed,
                            "curve": curve,
                            "diverged": diverged,
                            "test_accuracy_predict": final,
                            "seconds": time.perf_counter() - start,
                        }
                        result["rows"].append(row)
                        print(
                            f"{name} {placement} batch {batch_size} {norm} seed {seed}: "
                            f"{[round(c['test_accuracy'], 3) for c in curve]}",
                            flush=True,
                        )
                        out.write_text(json.dumps(result, indent=1))
    print(summarize(result["rows"]))
    return result


if __name__ == "__main__":
    main()
