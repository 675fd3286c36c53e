"""NC-GRU (exact and Neumann) vs GRU vs LSTM on adding, copy, denoise and parenthesis counting.

The claim of Mucllari et al. (2024): NC-GRU, a GRU whose candidate recurrence is a scaled-Cayley
orthogonal matrix, "significantly outperforms GRU as well as several other RNNs" on synthetic
long-memory tasks. Protocol of the official scripts where they state it: Adam with learning rate
1e-3 for every parameter (the official code uses a second Adam for ``A`` at the same rate), a
fresh batch every step, batches of 16 for parenthesis counting, T = 200 for parenthesis and
denoise. All models have the same number of trainable parameters as an LSTM of ``--width``
units (42, the paper's parenthesis LSTM; NC-GRU's skew-symmetric ``A`` counted as its
n(n-1)/2 free entries), ``n_neg_ones = d_model // 2``.

Deviations (CPU budget): ``--steps`` optimizer steps (default 1 500; the papers 10 000-20 000),
batches of 32 where the paper's denoise script uses 128; gradients clipped at norm 1 for every
model. Learning curves: test metrics on ``--n-test`` fixed sequences every ``--eval-every``
steps. See ``tasks.py`` for the tasks, metrics and the fresh-batch protocol.

Run::

    python benchmarks/memory_tasks/nc_gru.py --tasks adding:100 adding:200 --seeds 3
    python benchmarks/memory_tasks/nc_gru.py --summarize        # tables + learning_curves.png
    python benchmarks/memory_tasks/nc_gru.py --smoke
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import numpy as np
import torch
from tasks import (
    backbone_class,
    effective_parameters,
    make_estimator,
    matched_width,
    parse_tasks,
    train_fresh_batches,
)

from seqestim.estimators import TrainingDivergedError
from seqestim.nn.gated_rnn import LSTM
from seqestim.registry import get_spec

RESULTS = Path(__file__).parent / "results"
MODELS = ("NC-GRU", "NC-GRU (Neumann)", "GRU", "LSTM")
DEFAULT_TASKS = (
    "adding:100",
    "adding:200",
    "adding:400",
    "adding:750",
    "copy:100",
    "copy:200",
    "denoise:200",
    "parenthesis:200",
)
BATCH = {"parenthesis": 16}  # the official parenthesis script; 32 otherwise


def widths(task, d_input: int, lstm_width: int) -> dict[str, int]:
    target = effective_parameters(get_spec(LSTM).build(d_input, d_model=lstm_width))
    return {
        model: lstm_width
        if model == "LSTM"
        else matched_width(backbone_class(model), d_input, target)
        for model in MODELS
    }


def run(args) -> dict:
    torch.set_num_threads(1)
    out = RESULTS / (f"nc_gru{args.tag}_smoke.json" if args.smoke else f"nc_gru{args.tag}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    result = json.loads(out.read_text()) if out.exists() and not args.smoke else {}
    result.update(
        {
            "experiment": "nc_gru_memory_tasks",
            "settings": {k: v for k, v in vars(args).items() if k not in ("summarize",)},
            "machine": {"platform": platform.platform(), "torch": torch.__version__},
        }
    )
    result.setdefault("runs", {})
    for task in parse_tasks(args.tasks):
        X_test, y_test = task.make(args.n_test, seed=987_654 + task.T)
        d_input = X_test.shape[1]
        batch = BATCH.get(task.name, args.batch_size)
        for model in args.models:
            width = widths(task, d_input, args.width)[model]
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                key = f"{task.label}|{model}|{seed}"
                if key in result["runs"] and not args.smoke:
                    continue  # resume: done in an earlier call
                training = {
                    "optimizer": "adam",
                    "lr": args.lr,
                    "gradient_clip": 1.0,
                    "random_state": seed,
                }
                est = make_estimator(model, task, width, training)

                def log(row, task=task, model=model, seed=seed):
                    print(f"{task.label} {model} seed {seed}: {row}", flush=True)

                try:
                    curve = train_fresh_batches(
                        est,
                        task,
                        steps=args.steps,
                        batch_size=batch,
                        eval_every=args.eval_every,
                        test=(X_test, y_test),
                        seed=seed,
                        log=log,
                    )
                    diverged = False
                except TrainingDivergedError as error:
                    curve, diverged = [], str(error)
                result["runs"][key] = {
                    "task": task.label,
                    "model": model,
                    "seed": seed,
                    "d_model": width,
                    "batch_size": batch,
                    "parameters": effective_parameters(est.module_.backbone)
                    if hasattr(est, "net_")
                    else None,
                    "baseline": task.baseline,
                    "diverged": diverged,
                    "curve": curve,
                }
                out.write_text(json.dumps(result, indent=1))
    return result


# ------------------------------------------------------------------------------- summary
def metric_of(task_label: str) -> tuple[str, bool]:
    """(metric, lower is better) reported for a task."""
    if task_label.startswith("adding"):
        return "mse", True
    if task_label.startswith("parenthesis"):
        return "accuracy", False
    return "ce", True


def summarize(runs: dict) -> str:
    tasks = list(dict.fromkeys(r["task"] for r in runs.values()))
    lines = [
        "| task | model | params | metric | final (mean ± sd over seeds) | best | seeds | steps |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task in tasks:
        metric, lower = metric_of(task)
        models = [
            m for m in MODELS if any(r["task"] == task and r["model"] == m for r in runs.values())
        ]
        finals = {}
        for model in models:
            rs = [
                r for r in runs.values() if r["task"] == task and r["model"] == model and r["curve"]
            ]
            if not rs:
                continue
            final = [r["curve"][-1][metric] for r in rs]
            best = [(min if lower else max)(row[metric] for row in r["curve"]) for r in rs]
            finals[model] = (np.mean(final), np.std(final), np.mean(best), len(rs), rs)
        winner = (min if lower else max)(finals, key=lambda m: finals[m][0]) if finals else None
        for model, (mean, sd, best, n, rs) in finals.items():
            text = f"{mean:.4f} ± {sd:.4f}"
            if model == winner:
                text = f"**{text}**"
            lines.append(
                f"| {task} | {model} | {rs[0]['parameters']} | {metric} | {text} | {best:.4f} "
                f"| {n} | {rs[0]['curve'][-1]['step']} |"
            )
    return "\n".join(lines)


def plot(runs: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(r["task"] for r in runs.values()))
    cols = 4
    rows = int(np.ceil(len(tasks) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    colors = dict(zip(MODELS, ("C0", "C2", "C1", "C3"), strict=True))
    for ax, task in zip(axes.ravel(), tasks, strict=False):
        metric, _ = metric_of(task)
        for model in MODELS:
            for r in (r for r in runs.values() if r["task"] == task and r["model"] == model):
                if not r["curve"]:
                    continue
                steps = [row["step"] for row in r["curve"]]
                values = [row[metric] for row in r["curve"]]
                label = model if r["seed"] == 0 else None
                ax.plot(steps, values, color=colors[model], alpha=0.8, lw=1, label=label)
        baseline = next(r["baseline"] for r in runs.values() if r["task"] == task)
        if baseline is not None:
            ax.axhline(baseline, color="grey", ls="--", lw=0.8)
        ax.set_title(task)
        ax.set_xlabel("optimizer step")
        ax.set_ylabel(metric)
        if metric in ("mse",):
            ax.set_yscale("log")
    for ax in axes.ravel()[len(tasks) :]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="*", default=list(DEFAULT_TASKS))
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--width", type=int, default=42, help="LSTM units; others matched")
    parser.add_argument("--n-test", type=int, default=500)
    parser.add_argument("--tag", default="")
    parser.add_argument("--summarize", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    if args.summarize:
        runs = {}
        for path in sorted(RESULTS.glob("nc_gru*.json")):
            if "smoke" not in path.name:
                runs.update(json.loads(path.read_text())["runs"])
        print(summarize(runs))
        plot(runs, RESULTS / "nc_gru_learning_curves.png")
        return None
    if args.smoke:
        args.tasks, args.seeds, args.steps, args.eval_every, args.n_test = (
            ["adding:20", "parenthesis:40"],
            1,
            8,
            4,
            16,
        )
        args.width, args.models = 6, ["NC-GRU (Neumann)", "LSTM"]
    result = run(args)
    print(summarize(result["runs"]))
    return result


if __name__ == "__main__":
    main()
