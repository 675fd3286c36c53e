"""Polyphonic music (Chung et al. 2014): NLL per frame of tanh RNN, GRU and LSTM on Bach chorales.

The paper's music experiment at its matched sizes (100 tanh units, 46 GRU units, 36 LSTM
units), through the public estimators (``RNNPolyphonicModel``, ``GRUPolyphonicModel``,
``LSTMPolyphonicModel``), on the JSB-like chorales of
:func:`seqestim.datasets.load_bach_chorales` (music21's corpus, one frame per beat, split by
piece; not JSB's data or split). As in the paper: RMSProp, gradients rescaled to norm 1, the
learning rate chosen on the validation pieces, the epoch with the best validation NLL kept. Not
as in the paper: no weight noise, a grid of learning rates instead of 10 log-uniform samples,
a capped number of epochs.

The reference in the same run is the frequency model: every pitch on with its share of the
training frames, independently of the past (what a network that ignores its input can do).

Run:  python benchmarks/chorales/nll.py [--smoke] [--epochs 60] [--lrs 1e-3 3e-3]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import sklearn
import torch
from skorch.callbacks import Callback

from seqestim.datasets import load_bach_chorales
from seqestim.estimators import GRUPolyphonicModel, LSTMPolyphonicModel, RNNPolyphonicModel
from seqestim.estimators.polyphonic import frame_nll

RESULTS = Path(__file__).parent / "results"
#: the paper's units per model, chosen there to match the parameter counts
MODELS = {"tanh": (RNNPolyphonicModel, 100), "gru": (GRUPolyphonicModel, 46),
          "lstm": (LSTMPolyphonicModel, 36)}  # fmt: skip


def network_inputs(rolls):
    """The task's network inputs for ``(P, T_i)`` rolls: frames shifted by one, padded."""
    lengths = np.array([r.shape[1] for r in rolls])
    x = np.zeros((len(rolls), lengths.max(), rolls[0].shape[0]), dtype=np.float32)
    targets = np.full_like(x, np.nan)
    for i, roll in enumerate(rolls):
        x[i, 1 : lengths[i]] = roll.T[:-1]
        targets[i, : lengths[i]] = roll.T
    return {"x": torch.as_tensor(x), "lengths": torch.as_tensor(lengths)}, targets


class KeepBestOnValid(Callback):
    """Scores the validation pieces after every epoch; keeps and restores the best weights."""

    def __init__(self, rolls):
        self.inputs, targets = network_inputs(rolls)
        self.real = ~np.isnan(targets[..., 0])
        self.frames = targets[self.real].astype(np.float64)

    def on_train_begin(self, net, **kwargs):
        """Start a new run."""
        self.best, self.state, self.curve = np.inf, None, []

    def on_epoch_end(self, net, **kwargs):
        """Validation NLL per frame; a copy of the weights when it is the best so far."""
        module = net.module_
        module.eval()
        with torch.no_grad():
            logits = module(**self.inputs).double().numpy()[self.real]
        module.train()
        log_likelihood = -(
            self.frames * np.logaddexp(0, -logits) + (1 - self.frames) * np.logaddexp(0, logits)
        )
        nll = float(-log_likelihood.sum(axis=1).mean())
        self.curve.append(nll)
        net.history.record("valid_nll", nll)
        if nll < self.best:
            self.best, self.state = nll, copy.deepcopy(module.state_dict())

    def on_train_end(self, net, **kwargs):
        """Restore the weights of the best epoch."""
        if self.state is not None:
            net.module_.load_state_dict(self.state)


def run(name, lr, data, args):
    cls, units = MODELS[name]
    keep = KeepBestOnValid(data.valid)
    model = cls(
        d_model=units if not args.smoke else 4,
        max_epochs=args.epochs,
        lr=lr,
        batch_size=args.batch_size,
        optimizer="rmsprop",
        gradient_clip=1.0,
        random_state=args.seed,
        callbacks=[("keep_best", keep)],
    )
    start = time.perf_counter()
    model.fit(data.train)
    seconds = time.perf_counter() - start
    curve = [float(v) for v in model.history_[:, "valid_nll"]]
    return {
        "model": name,
        "units": model.d_model,
        "n_parameters": int(model.n_parameters_),
        "lr": lr,
        "best_epoch": int(np.argmin(curve)) + 1,
        "train_nll": model.nll(data.train),
        "valid_nll": model.nll(data.valid),
        "test_nll": model.nll(data.test),
        "valid_curve": curve,
        "fit_seconds": seconds,
    }


def frequency_baseline(data):
    """NLL per frame of the independent-pitch model with the training frequencies."""
    train = np.concatenate([r.T for r in data.train])
    frequency = np.clip(train.mean(axis=0), 1e-4, 1 - 1e-4)  # pitches never played: tiny
    return {
        split: frame_nll(
            np.tile(frequency, (sum(r.shape[1] for r in data[split]), 1)),
            np.concatenate([r.T for r in data[split]]),
        )
        for split in ("train", "valid", "test")
    }


def save(args, result, complete):
    result = {
        "experiment": "chorales_nll",
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        **result,
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
    out = Path(args.out) if args.out else RESULTS / ("nll_smoke.json" if args.smoke else "nll.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run (seconds)")
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--lrs", type=float, nargs="*", default=[1e-3, 3e-3])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--n-pieces", type=int, default=None, help="first n chorales only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.smoke:
        args.lrs, args.epochs, args.n_pieces = [3e-3], 2, 10
    torch.set_num_threads(1)
    data = load_bach_chorales(n_pieces=args.n_pieces)
    result = {
        "n_pieces": {s: len(data[s]) for s in ("train", "valid", "test")},
        "n_frames": {s: int(sum(r.shape[1] for r in data[s])) for s in ("train", "valid", "test")},
        "frequency_baseline_nll": frequency_baseline(data),
        "runs": [],
    }
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}), flush=True)
    for name in args.models:
        for lr in args.lrs:
            row = run(name, lr, data, args)
            result["runs"].append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "valid_curve"}), flush=True)
            save(args, result, complete=False)
    best = {}
    for row in result["runs"]:  # the learning rate of each model chosen on the validation set
        if row["model"] not in best or row["valid_nll"] < best[row["model"]]["valid_nll"]:
            best[row["model"]] = row
    result["selected"] = {
        name: {k: row[k] for k in ("lr", "n_parameters", "train_nll", "valid_nll", "test_nll")}
        for name, row in best.items()
    }
    out = save(args, result, complete=True)
    print(json.dumps(result["selected"], indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
