"""ATN-LSTM vs LN-LSTM vs LSTM on adding (T = 100) and copy (T = 100) with the ATN paper's settings.

The claim of Pospisil, Zadorozhnyy & Ye (2024): assorted-time normalization (layer-norm
statistics pooled over the last ``k`` steps) gives "consistent improvement" over layer
normalization on the adding and copying problems, without new trainable parameters. Settings
of the official scripts (``adding_problem.py``, ``copy_problem.py``):

- adding, T = 100: 100 000 training and 10 000 test sequences, batches of 50, RMSprop with
  learning rate 1e-3, 60 units, 10 epochs, ATN window k = 25; test MSE;
- copy, T = 100 (10 symbols of 8, length 120): a fresh batch of 128 every iteration, 4 000
  iterations, 68 units, RMSprop with learning rate 2e-4 and momentum 0.9, k = 45; test
  cross-entropy per step (memoryless baseline ``10 ln 8 / 120 = 0.173``).

All three models are seqestim's LSTM (``LSTMRegressor``/``LSTMClassifier``) with
``normalization=None``, ``"layer"`` or ``"assorted_time"`` (the ATN paper's LN-LSTM layout,
see ``seqestim.nn.gated_rnn``). Deviations: seqestim's LSTM has peepholes and PyTorch's uniform
initialisation, where the paper's has none and an orthogonal/identity initialisation;
``--max-minutes`` (default 45) ends a run after the epoch (adding) or chunk (copy) in which
that much wall time has passed, so on the shared CPU the adding runs may stop before 10 epochs
-- the JSON records how far each got. ``--n-train``, ``--epochs``, ``--iterations`` and
``--n-test`` scale a run down from the paper's values (the JSON's settings record those used).
Test metrics after every epoch (adding) or every ``--eval-every`` iterations (copy).

Run::

    python benchmarks/memory_tasks/atn.py --task adding
    python benchmarks/memory_tasks/atn.py --task copy --seeds 2
    python benchmarks/memory_tasks/atn.py --summarize
    python benchmarks/memory_tasks/atn.py --smoke
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import numpy as np
import torch
from tasks import Task, effective_parameters, make_estimator

RESULTS = Path(__file__).parent / "results"
MODELS = ("LSTM", "LN-LSTM", "ATN-LSTM")


class RMSpropMomentum09(torch.optim.RMSprop):
    """RMSprop with momentum 0.9 (the ATN copy script's optimizer)."""

    def __init__(self, params, lr=1e-2, **kwargs):
        kwargs.setdefault("momentum", 0.9)
        super().__init__(params, lr=lr, **kwargs)


SETTINGS = {
    "adding": {
        "T": 100,
        "n_train": 100_000,
        "n_test": 10_000,
        "batch_size": 50,
        "d_model": 60,
        "epochs": 10,
        "atn_window": 25,
        "optimizer": "rmsprop",
        "lr": 1e-3,
    },
    "copy": {
        "T": 100,
        "iterations": 4000,
        "n_test": 1000,
        "batch_size": 128,
        "d_model": 68,
        "atn_window": 45,
        "optimizer": RMSpropMomentum09,
        "lr": 2e-4,
    },
}


def run_one(task_name, model, seed, settings, args, log):
    task = Task(task_name, settings["T"])
    X_test, y_test = task.make(settings["n_test"], seed=123_456)
    extra = {"atn_window": settings["atn_window"]} if model == "ATN-LSTM" else {}
    training = {
        "optimizer": settings["optimizer"],
        "lr": settings["lr"],
        "random_state": seed,
        "warm_start": True,
        "max_epochs": 1,
        "batch_size": settings["batch_size"],
    }
    est = make_estimator(model, task, settings["d_model"], training, **extra)
    curve, start = [], time.perf_counter()
    if task_name == "adding":
        data = task.make(settings["n_train"], seed=seed)
        steps_per_epoch = math.ceil(settings["n_train"] / settings["batch_size"])
        for epoch in range(1, settings["epochs"] + 1):
            est.fit(*data)
            row = {"epoch": epoch, "step": epoch * steps_per_epoch}
            row["train_loss"] = float(est.history_[-1, "train_loss"])
            row.update(task.metrics(est, X_test, y_test))
            row["seconds"] = time.perf_counter() - start
            curve.append(row)
            log(row)
            if row["seconds"] > 60 * args.max_minutes:
                break
    else:
        total, every = settings["iterations"], args.eval_every
        for chunk in range(math.ceil(total / every)):
            n_steps = min(every, total - chunk * every)
            X, y = task.make(settings["batch_size"] * n_steps, seed=seed * 1_000_003 + chunk + 1)
            est.fit(X, y)
            row = {"step": chunk * every + n_steps}
            row["train_loss"] = float(est.history_[-1, "train_loss"])
            row.update(task.metrics(est, X_test, y_test))
            row["seconds"] = time.perf_counter() - start
            curve.append(row)
            log(row)
            if row["seconds"] > 60 * args.max_minutes:
                break
    return {
        "task": task.label,
        "model": model,
        "seed": seed,
        "parameters": effective_parameters(est.module_.backbone),
        "baseline": task.baseline,
        "curve": curve,
    }


def summarize(runs: dict) -> str:
    lines = [
        "| task | model | params | metric | final (mean ± sd) | best | seeds | steps run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task in dict.fromkeys(r["task"] for r in runs.values()):
        metric = "mse" if task.startswith("adding") else "ce"
        finals = {}
        for model in MODELS:
            rs = [r for r in runs.values() if r["task"] == task and r["model"] == model]
            if rs:
                final = [r["curve"][-1][metric] for r in rs]
                best = np.mean([min(row[metric] for row in r["curve"]) for r in rs])
                finals[model] = (np.mean(final), np.std(final), best, rs)
        winner = min(finals, key=lambda m: finals[m][0])
        for model, (mean, sd, best, rs) in finals.items():
            text = f"{mean:.4f} ± {sd:.4f}"
            text = f"**{text}**" if model == winner else text
            steps = "/".join(str(r["curve"][-1]["step"]) for r in rs)
            lines.append(
                f"| {task} | {model} | {rs[0]['parameters']} | {metric} | {text} | {best:.4f} "
                f"| {len(rs)} | {steps} |"
            )
    return "\n".join(lines)


def plot(runs: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(r["task"] for r in runs.values()))
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 3.5), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        metric = "mse" if task.startswith("adding") else "ce"
        for color, model in zip(("C3", "C0", "C2"), MODELS, strict=True):
            for r in (r for r in runs.values() if r["task"] == task and r["model"] == model):
                ax.plot(
                    [row["step"] for row in r["curve"]],
                    [row[metric] for row in r["curve"]],
                    color=color,
                    lw=1,
                    label=model if r["seed"] == 0 else None,
                )
        baseline = next(r["baseline"] for r in runs.values() if r["task"] == task)
        ax.axhline(baseline, color="grey", ls="--", lw=0.8)
        ax.set_title(task)
        ax.set_xlabel("optimizer step")
        ax.set_ylabel(metric)
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=sorted(SETTINGS), default="adding")
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--eval-every", type=int, default=100, help="copy: iterations")
    parser.add_argument("--max-minutes", type=float, default=45.0)
    parser.add_argument("--n-train", type=int, default=None, help="adding: the paper's 100 000")
    parser.add_argument("--epochs", type=int, default=None, help="adding: the paper's 10")
    parser.add_argument("--iterations", type=int, default=None, help="copy: the paper's 4 000")
    parser.add_argument("--n-test", type=int, default=None, help="the paper's 10 000 / 1 000")
    parser.add_argument("--tag", default="")
    parser.add_argument("--summarize", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    if args.summarize:
        runs = {}
        for path in sorted(RESULTS.glob("atn*.json")):
            if "smoke" not in path.name:
                runs.update(json.loads(path.read_text())["runs"])
        print(summarize(runs))
        plot(runs, RESULTS / "atn_learning_curves.png")
        return None
    torch.set_num_threads(1)
    settings = dict(SETTINGS[args.task])
    for key in ("n_train", "epochs", "iterations", "n_test"):  # scaled-down runs say so
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    if args.smoke:
        settings.update(T=20, n_train=200, n_test=50, epochs=1, iterations=2, batch_size=50)
        settings["d_model"] = 8
        args.eval_every = 2
    name = f"atn_{args.task}{args.tag}" + ("_smoke" if args.smoke else "")
    out = RESULTS / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    result = json.loads(out.read_text()) if out.exists() and not args.smoke else {"runs": {}}
    result.update(
        {
            "experiment": "atn_vs_ln",
            "settings": {
                k: (v if not isinstance(v, type) else v.__name__) for k, v in settings.items()
            },
            "max_minutes": args.max_minutes,
            "machine": {"platform": platform.platform(), "torch": torch.__version__},
        }
    )
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for model in args.models:
            key = f"{args.task}|{model}|{seed}"
            if key in result["runs"] and not args.smoke:
                continue

            def log(row, model=model, seed=seed):
                print(f"{args.task} {model} seed {seed}: {row}", flush=True)

            result["runs"][key] = run_one(args.task, model, seed, settings, args, log)
            out.write_text(json.dumps(result, indent=1))
    print(summarize(result["runs"]))
    return result


if __name__ == "__main__":
    main()
