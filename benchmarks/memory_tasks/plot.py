"""Learning curves and the summary table of ``benchmarks/memory_tasks/results/*.json``.

Usage::

    python benchmarks/memory_tasks/plot.py     # writes results/learning_curves.png, prints table
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

# metric per task kind, whether lower is better, and the threshold of "steps to reach":
# adding: MSE 0.05 (the constant prediction 1 scores 1/6); copy, denoise: recall accuracy 0.25
# (chance is 1/8, 1/9); parenthesis: per-step count accuracy 0.7. These are "has started to
# learn the task" thresholds sized to the short CPU budgets; none of the papers' "solved"
# levels (MSE < 0.01, accuracy > 0.9) is reached by any model here.
METRICS = {
    "adding": ("mse", True, 0.05),
    "copy": ("recall_acc", False, 0.25),
    "denoise": ("recall_acc", False, 0.25),
    "parenthesis": ("count_acc", False, 0.7),
}
GATED = ("NC-GRU", "GRU", "LSTM")
NORMALIZED = ("LSTM", "LN-LSTM", "ATN-LSTM", "BN-LSTM", "BLN-LSTM")


def load(results_dir):
    """Merge every non-smoke results file into {task: {model: [runs]}} plus the settings."""
    merged, settings = {}, {}
    for path in sorted(Path(results_dir).glob("*.json")):
        if path.name.startswith("smoke"):
            continue
        data = json.loads(path.read_text())
        settings[path.name] = {k: data[k] for k in ("group", "steps", "seeds", "optimizer")}
        for task, entry in data["tasks"].items():
            models = merged.setdefault(task, {"baseline": entry["baseline"], "models": {}})
            for model, runs in entry["models"].items():
                models["models"].setdefault(model, runs)
    return merged, settings


def _curve(run, metric):
    steps = [c["step"] for c in run["curve"] if metric in c]
    values = [c[metric] for c in run["curve"] if metric in c]
    return np.array(steps), np.array(values)


def summarize(merged, at_step=None, models=None):
    """Rows of (task, model, params, final mean, final std, steps to reach, seeds, seconds)."""
    rows = []
    for task, entry in merged.items():
        metric, lower, threshold = METRICS[task.split("_")[0]]
        for model, runs in entry["models"].items():
            if models is not None and model not in models:
                continue
            finals, solved = [], []
            for run in runs:
                steps, values = _curve(run, metric)
                if at_step is not None:
                    keep = steps <= at_step
                    steps, values = steps[keep], values[keep]
                finals.append(values[-1])
                hit = values <= threshold if lower else values >= threshold
                solved.append(int(steps[hit][0]) if hit.any() else None)
            rows.append(
                {
                    "task": task,
                    "model": model,
                    "metric": metric,
                    "parameters": runs[0]["parameters"],
                    "final_mean": float(np.mean(finals)),
                    "final_std": float(np.std(finals)),
                    "last_step": int(steps[-1]),
                    "steps_to_solve": solved,
                    "seeds": len(runs),
                    "seconds_per_run": float(np.mean([r["seconds"] for r in runs])),
                }
            )
    return rows


def markdown(rows):
    lines = [
        "| task | model | params | metric | final (mean ± std) | at step | steps to reach "
        "| s/run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        solved = ", ".join("—" if s is None else str(s) for s in r["steps_to_solve"])
        lines.append(
            f"| {r['task']} | {r['model']} | {r['parameters']} | {r['metric']} | "
            f"{r['final_mean']:.4f} ± {r['final_std']:.4f} | {r['last_step']} | {solved} | "
            f"{r['seconds_per_run']:.0f} |"
        )
    return "\n".join(lines)


def plot_all(results_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    merged, _ = load(results_dir)
    tasks = list(merged)
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.4), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        metric = METRICS[task.split("_")[0]][0]
        for model, runs in merged[task]["models"].items():
            curves = [_curve(r, metric) for r in runs]
            n = min(len(c[0]) for c in curves)
            steps = curves[0][0][:n]
            values = np.stack([c[1][:n] for c in curves])
            line = ax.plot(steps, values.mean(0), label=model)[0]
            ax.fill_between(steps, values.min(0), values.max(0), alpha=0.15, color=line.get_color())
        if merged[task]["baseline"] is not None and metric == "mse":
            ax.axhline(merged[task]["baseline"], color="grey", ls=":", label="predict 1")
            ax.set_ylim(0, 0.4)  # early BN-LSTM spikes would hide the rest
        ax.set_title(task)
        ax.set_xlabel("optimizer step")
        ax.set_ylabel(f"test {metric}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    out = Path(results_dir) / "learning_curves.png"
    fig.savefig(out, dpi=110)
    return out


if __name__ == "__main__":
    results = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "results"
    merged, settings = load(results)
    print(json.dumps(settings, indent=1))
    print("NC-GRU vs GRU vs LSTM")
    print(markdown(summarize(merged, models=GATED)))
    print("LSTM normalizations, all at step 120")
    print(markdown(summarize(merged, at_step=120, models=NORMALIZED)))
    print(plot_all(results))
