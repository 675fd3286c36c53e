"""Long-memory tasks: NC-GRU vs GRU vs LSTM, and LSTM with LN / ATN / BN / BLN.

Tasks (``seqestim.datasets.memory_tasks``): adding (T = 100, 200), copy memory (T = 100),
denoise and parenthesis counting. Two comparisons, side by side, several seeds, identical
budgets:

- ``gated``: NC-GRU vs GRU vs LSTM at matched parameter counts (the NC-GRU paper's claim:
  NC-GRU beats GRU and LSTM);
- ``norm``: LSTM vs LN-LSTM vs ATN-LSTM vs BN-LSTM vs BLN-LSTM at the same width (the ATN
  paper's claim: ATN beats LN; BLN's: faster convergence than BN and LN).

The models are the library's backbones (``seqestim.nn``) with a linear head, trained by the
small loop below on a fresh batch per step (the papers' protocol for the synthetic tasks): the
estimators cannot yet predict one output per step, which copy, denoise and parenthesis need,
and the loop gives per-step learning curves. Budgets are CPU-sized (see README.md): far fewer
steps and smaller widths than the papers, so "steps to solve" is mostly "not within budget".

Usage::

    python benchmarks/memory_tasks/run.py --group gated     # NC-GRU / GRU / LSTM
    python benchmarks/memory_tasks/run.py --group norm      # LSTM normalizations
    python benchmarks/memory_tasks/run.py --smoke           # seconds, both groups, tiny
    python benchmarks/memory_tasks/run.py --plot            # learning curves from results/
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
import torch
from torch import nn

from seqestim.datasets.memory_tasks import (
    make_adding,
    make_copy_memory,
    make_denoise,
    make_parenthesis_counting,
)
from seqestim.nn.gated_rnn import GRU, LSTM
from seqestim.nn.nc_gru import NCGRU, ScaledCayleyOrthogonal
from seqestim.registry import get_spec

HERE = Path(__file__).resolve().parent

# ------------------------------------------------------------------------------------ tasks


def _adding(T):
    def make(n, seed):
        X, y = make_adding(n, T, random_state=seed)
        return X, y.astype(np.float32)

    return {"make": make, "kind": "last_regression", "n_out": 1, "baseline": 1 / 6}


def _copy(T):
    K, C = 10, 8

    def make(n, seed):
        return make_copy_memory(n, T, n_symbols=K, n_categories=C, random_state=seed)

    return {
        "make": make,
        "kind": "sequence",
        "n_out": C + 1,
        "baseline": K * math.log(C) / (T + 2 * K),
        "recall": slice(T + K, T + 2 * K),
    }


def _denoise(T):
    K, C = 10, 9

    def make(n, seed):
        return make_denoise(n, T, n_symbols=K, n_categories=C, random_state=seed)

    return {
        "make": make,
        "kind": "sequence",
        "n_out": C + 1,
        "baseline": K * math.log(C) / (T + 2 * K),
        "recall": slice(T + K, T + 2 * K),
    }


def _parenthesis(T):
    def make(n, seed):
        return make_parenthesis_counting(n, T, random_state=seed)

    return {"make": make, "kind": "counts", "n_out": 3 * 6, "baseline": None}


MAKERS = {"adding": _adding, "copy": _copy, "denoise": _denoise, "parenthesis": _parenthesis}
DEFAULT_TASKS = ["adding:100", "adding:200", "copy:100", "denoise:100", "parenthesis:100"]
SMOKE_TASKS = ["adding:20", "copy:10", "parenthesis:20"]


def task_table(specs):
    """``["adding:100", ...]`` -> {"adding_T100": task, ...}."""
    table = {}
    for spec in specs:
        name, T = spec.split(":")
        table[f"{name}_T{int(T)}"] = MAKERS[name](int(T))
    return table


# ----------------------------------------------------------------------------------- models


def effective_parameters(module):
    """Trainable parameters, counting a skew-symmetric ``A`` as n(n-1)/2."""
    total = 0
    for m in module.modules():
        for name, p in m.named_parameters(recurse=False):
            if isinstance(m, ScaledCayleyOrthogonal) and name == "P":
                n = p.shape[0]
                total += n * (n - 1) // 2
            else:
                total += p.numel()
    return total


def build(cls, d_input, **params):
    """``cls(d_input, <its parameter group>(**params))``."""
    return get_spec(cls).build(d_input, **params)


def _width_matching(cls, d_input, target):
    """Width whose parameter count is closest to ``target`` (counts grow with the width)."""
    lo, hi = 1, 512
    while hi - lo > 1:  # smallest width with at least ``target`` parameters
        mid = (lo + hi) // 2
        if effective_parameters(build(cls, d_input, d_model=mid)) >= target:
            hi = mid
        else:
            lo = mid
    return min(
        (lo, hi), key=lambda d: abs(effective_parameters(build(cls, d_input, d_model=d)) - target)
    )


def model_table(group, d_input, width):
    """Map name -> constructor of the backbone (widths matched to an LSTM of ``width`` units)."""
    if group == "gated":
        target = effective_parameters(build(LSTM, d_input, d_model=width))
        d_gru = _width_matching(GRU, d_input, target)
        d_nc = _width_matching(NCGRU, d_input, target)
        return {
            "NC-GRU": lambda: build(NCGRU, d_input, d_model=d_nc, n_neg_ones=d_nc // 2),
            "GRU": lambda: build(GRU, d_input, d_model=d_gru),
            "LSTM": lambda: build(LSTM, d_input, d_model=width),
        }
    return {
        "LSTM": lambda: build(LSTM, d_input, d_model=width),
        "LN-LSTM": lambda: build(LSTM, d_input, d_model=width, normalization="layer"),
        "ATN-LSTM": lambda: build(
            LSTM, d_input, d_model=width, normalization="assorted_time", atn_window=25
        ),
        "BN-LSTM": lambda: build(LSTM, d_input, d_model=width, normalization="batch"),
        "BLN-LSTM": lambda: build(
            LSTM, d_input, d_model=width, normalization="batch_layer", bln_batch_size=BATCH
        ),
    }


class TaskNet(nn.Module):
    """Backbone + linear head at every step (or the last one)."""

    def __init__(self, backbone, n_out):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(backbone.d_output, n_out)

    def forward(self, x):  # noqa: D102
        return self.head(self.backbone(x))  # (B, L, n_out)


# --------------------------------------------------------------------------------- training

BATCH = 32
LR = 3e-3  # the papers use 1e-3 (NC-GRU, Adam) or 1e-3 / 2e-4 (ATN, RMSprop) for 10-20k steps


def _loss_and_metrics(task, out, y):
    kind = task["kind"]
    if kind == "last_regression":
        pred = out[:, -1, 0]
        loss = (pred - y).pow(2).mean()
        return loss, {"mse": float(loss.detach())}
    if kind == "sequence":
        loss = nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        recall = task["recall"]
        acc = (out[:, recall].argmax(-1) == y[:, recall]).float().mean()
        return loss, {"ce": float(loss.detach()), "recall_acc": float(acc)}
    # counts: three 6-way classifications per step
    B, L, _ = out.shape
    logits = out.reshape(B, L, 3, 6)
    target = y.permute(0, 2, 1)  # (B, L, 3)
    loss = nn.functional.cross_entropy(logits.reshape(-1, 6), target.reshape(-1))
    acc = (logits.argmax(-1) == target).float().mean()
    return loss, {"ce": float(loss.detach()), "count_acc": float(acc)}


def _to_tensors(task, X, y):
    x = torch.from_numpy(np.ascontiguousarray(X.transpose(0, 2, 1)))  # (n, T, C)
    y = torch.from_numpy(y)
    return x, y


def train_one(task, make_model, seed, steps, eval_every, n_test):
    torch.manual_seed(seed)
    X_te, y_te = task["make"](n_test, 10_000 + seed)
    x_te, y_te = _to_tensors(task, X_te, y_te)
    model = TaskNet(make_model(), task["n_out"])
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    curve = []
    start = time.perf_counter()
    for step in range(1, steps + 1):
        model.train()
        x, y = _to_tensors(task, *task["make"](BATCH, seed * 1_000_003 + step))
        loss, _ = _loss_and_metrics(task, model(x), y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if not math.isfinite(float(loss.detach())):
            curve.append({"step": step, "diverged": True})
            break
        if step % eval_every == 0 or step == steps:
            model.eval()
            with torch.no_grad():
                _, metrics = _loss_and_metrics(task, model(x_te), y_te)
            curve.append({"step": step, **metrics})
    return {
        "seed": seed,
        "curve": curve,
        "seconds": time.perf_counter() - start,
        "parameters": effective_parameters(model.backbone),
    }


def run(group, tasks, seeds, steps, eval_every, n_test, width, out_path, only=None):
    results = {
        "group": group,
        "steps": steps,
        "batch_size": BATCH,
        "optimizer": f"Adam lr {LR}, gradient norm clipped at 1",
        "width": width,
        "seeds": list(seeds),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        },
        "tasks": {},
    }
    for task_name, task in tasks.items():
        d_input = task["make"](1, 0)[0].shape[1]
        models = model_table(group, d_input, width)
        if only:
            models = {k: v for k, v in models.items() if k in only}
        results["tasks"][task_name] = {"baseline": task["baseline"], "models": {}}
        for model_name, make_model in models.items():
            runs = [train_one(task, make_model, s, steps, eval_every, n_test) for s in seeds]
            results["tasks"][task_name]["models"][model_name] = runs
            last = [r["curve"][-1] for r in runs]
            print(
                f"{task_name:18s} {model_name:9s} params={runs[0]['parameters']:6d}  "
                f"final={last}  {sum(r['seconds'] for r in runs):.0f}s",
                flush=True,
            )
            out_path.write_text(json.dumps(results, indent=1))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", choices=["gated", "norm", "both"], default="both")
    parser.add_argument("--tasks", nargs="*", default=DEFAULT_TASKS, help="name:T specs")
    parser.add_argument("--models", nargs="*", default=None, help="subset of model names")
    parser.add_argument("--tag", default="", help="suffix of the results file")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--eval-every", type=int, default=25)
    parser.add_argument("--n-test", type=int, default=256)
    parser.add_argument("--width", type=int, default=32, help="LSTM units; others matched")
    parser.add_argument("--smoke", action="store_true", help="tiny run, seconds")
    parser.add_argument("--plot", action="store_true", help="plot curves from results/")
    args = parser.parse_args(argv)
    if args.plot:
        from plot import plot_all

        plot_all(HERE / "results")
        return
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    tasks = task_table(SMOKE_TASKS if args.smoke else args.tasks)
    groups = ["gated", "norm"] if args.group == "both" else [args.group]
    for group in groups:
        if args.smoke:
            out = results_dir / f"smoke_{group}.json"
            run(group, tasks, [0], 2, 2, 8, 6, out, args.models)
        else:
            out = results_dir / f"{group}{args.tag}.json"
            seeds = range(args.seeds)
            run(
                group,
                tasks,
                seeds,
                args.steps,
                args.eval_every,
                args.n_test,
                args.width,
                out,
                args.models,
            )


if __name__ == "__main__":
    main()
