"""Target space vs weight space (Fairbank et al. 2022): learning curves at CPU scale.

Two experiments, each training the same network through the public estimators in weight space
(``parameterization="weights"``) and in target space (``parameterization=TargetSpace(...)``),
with the same optimizer, learning rate, seeds and number of steps:

- **two spirals** (Lang & Witbrock; the generator of the paper's notes: 97 points per spiral,
  ``φ = iπ/16``, ``r = 6.5 (104 - i) / 104``), a 2-12-12-12-2 tanh network trained full batch.
  A tanh RNN on sequences of one step *is* that multilayer perceptron (its recurrent weights
  never act), so ``RNNClassifier(d_model=12, n_layers=3)`` on inputs of shape ``(194, 2, 1)``
  is the paper's network; the realisation batch is the whole training set, ``λ = 0.001`` as in
  the paper's two-spirals example. Recorded: training accuracy after every step, and the step
  at which it first reaches 100 %.
- **delayed recall** (a long-term dependency: :func:`seqestim.datasets.make_memorization`,
  the target is the input ``distance`` steps back), a tanh RNN regressor; recorded: the test
  R² after every epoch.

Run:  python benchmarks/target_space/curves.py [--smoke] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np
import sklearn
import torch
from skorch.callbacks import Callback

from seqestim.datasets import make_memorization
from seqestim.estimators import RNNClassifier, RNNRegressor
from seqestim.training import TargetSpace

RESULTS = Path(__file__).parent / "results"


def two_spirals():
    """194 points of the two interleaved spirals, as one-step sequences ``(194, 2, 1)``."""
    i = np.arange(97)
    phi = i * math.pi / 16
    r = 6.5 * (104 - i) / 104
    x, y = r * np.sin(phi), r * np.cos(phi)
    points = np.concatenate([np.stack([x, y], 1), np.stack([-x, -y], 1)])
    labels = np.repeat([0, 1], 97)
    return points[:, :, None].astype(np.float32), labels


class Curve(Callback):
    """Records a score of the network on fixed data after every epoch (``history['curve']``)."""

    def __init__(self, X, y, kind):
        self.X, self.y, self.kind = X, y, kind

    def on_epoch_end(self, net, **kwargs):
        """Score the network in evaluation mode and record it."""
        module = net.module_
        was_training = module.training
        module.eval()
        with torch.no_grad():
            out = module(**{k: torch.as_tensor(v) for k, v in self.X.items()}).numpy()
        module.train(was_training)
        if self.kind == "accuracy":
            score = float(np.mean(out.argmax(-1) == self.y))
        else:  # R² of the standardised target
            score = float(1 - np.mean((out[:, 0] - self.y) ** 2) / np.var(self.y))
        net.history.record("curve", score)


def spirals_run(space: str, seed: int, args):
    X, y = two_spirals()
    inputs = {"x": X.transpose(0, 2, 1), "lengths": np.ones(len(X), dtype=np.int64)}
    parameterization = (
        TargetSpace(realisation_size=len(X), l2=args.spirals_l2) if space == "target" else "weights"
    )
    clf = RNNClassifier(
        d_model=12,
        n_layers=3,
        parameterization=parameterization,
        max_epochs=args.spirals_steps,
        batch_size=len(X),  # full batch: one step per epoch
        optimizer="adam",
        lr=args.spirals_lr,
        random_state=seed,
        callbacks=[("curve", Curve(inputs, y, "accuracy"))],
    )
    start = time.perf_counter()
    clf.fit(X, y)
    seconds = time.perf_counter() - start
    curve = [float(v) for v in clf.history_[:, "curve"]]
    solved = next((step + 1 for step, acc in enumerate(curve) if acc == 1.0), None)
    return {
        "experiment": "two_spirals",
        "space": space,
        "seed": seed,
        "final_train_accuracy": float(clf.score(X, y)),
        "steps_to_100_percent": solved,
        "curve_every_10_steps": curve[9::10],
        "fit_seconds": seconds,
        "n_trainable": int(clf.n_parameters_),
    }


def recall_run(space: str, seed: int, args):
    X, y = make_memorization(
        args.recall_train + args.recall_test, args.recall_length, args.recall_distance,
        random_state=100 + seed,
    )  # fmt: skip
    X_tr, y_tr, X_te, y_te = (
        X[: args.recall_train], y[: args.recall_train], X[args.recall_train :],
        y[args.recall_train :],
    )  # fmt: skip
    test = {"x": X_te.transpose(0, 2, 1), "lengths": np.full(len(X_te), X.shape[-1])}
    # the curve scores the network's raw output, which predicts the standardised target
    standardised = (y_te - y_tr.mean()) / y_tr.std()
    parameterization = (
        TargetSpace(realisation_size=args.recall_realisation, l2=0.1)
        if space == "target"
        else "weights"
    )
    reg = RNNRegressor(
        d_model=args.recall_d_model,
        parameterization=parameterization,
        max_epochs=args.recall_epochs,
        batch_size=50,
        optimizer="adam",
        lr=args.recall_lr,
        random_state=seed,
        callbacks=[("curve", Curve(test, standardised, "r2"))],
    )
    start = time.perf_counter()
    reg.fit(X_tr, y_tr)
    seconds = time.perf_counter() - start
    return {
        "experiment": "delayed_recall",
        "space": space,
        "seed": seed,
        "final_test_r2": float(reg.score(X_te, y_te)),
        "curve_per_epoch": [float(v) for v in reg.history_[:, "curve"]],
        "fit_seconds": seconds,
        "n_trainable": int(reg.n_parameters_),
    }


def save(args, rows, complete):
    result = {
        "experiment": "target_space_curves",
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
    out = (
        Path(args.out)
        if args.out
        else RESULTS / ("curves_smoke.json" if args.smoke else "curves.json")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run (seconds)")
    parser.add_argument("--experiments", nargs="*", default=["two_spirals", "delayed_recall"])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--spirals-steps", type=int, default=2000)
    parser.add_argument("--spirals-lr", type=float, default=0.01)
    parser.add_argument("--spirals-l2", type=float, default=0.001)
    parser.add_argument("--recall-length", type=int, default=20)
    parser.add_argument("--recall-distance", type=int, default=10)
    parser.add_argument("--recall-train", type=int, default=500)
    parser.add_argument("--recall-test", type=int, default=500)
    parser.add_argument("--recall-d-model", type=int, default=16)
    parser.add_argument("--recall-epochs", type=int, default=40)
    parser.add_argument("--recall-lr", type=float, default=0.01)
    parser.add_argument("--recall-realisation", type=int, default=128)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.smoke:
        args.seeds, args.spirals_steps, args.recall_epochs = [0], 3, 1
        args.recall_train, args.recall_test, args.recall_length = 60, 20, 8
        args.recall_distance, args.recall_realisation = 3, 16
    torch.set_num_threads(1)
    rows = []
    runs = {"two_spirals": spirals_run, "delayed_recall": recall_run}
    for experiment in args.experiments:
        for seed in args.seeds:
            for space in ("weight", "target"):
                row = runs[experiment](space, seed, args)
                rows.append(row)
                summary = {k: v for k, v in row.items() if not k.startswith("curve")}
                print(json.dumps(summary), flush=True)
                save(args, rows, complete=False)
    out = save(args, rows, complete=True)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
