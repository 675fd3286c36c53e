"""Framework overhead: ``GRUClassifier.fit`` against a hand-written PyTorch loop.

Both sides train the same network, built the way the estimator builds it
(``SequenceNet(GRU(d_input, RecurrentParams(...)), n_classes)``, default ``pooling="last"``),
on the same data with the same number of epochs, batch size, optimizer (AdamW, the estimator's
default), learning rate and loss. The hand-written loop is what a PyTorch user would write:
tensors in a ``TensorDataset``, a shuffling ``DataLoader``, ``zero_grad / forward / backward /
step``. Its timing includes building the module and converting the numpy data, as ``fit`` does.

The two fits alternate within each repetition (and swap order every repetition), so machine
noise hits both alike; the reported number is the median over repetitions of the per-repetition
ratio ``estimator time / loop time``, for wall-clock time and for the process's CPU time (with
one torch thread, CPU time is far less sensitive to other processes on a shared machine).
Target: at most 1.10.

Usage::

    python benchmarks/foundation/overhead.py            # full run (~10 min on a loaded 2-core VM)
    python benchmarks/foundation/overhead.py --smoke    # seconds
    python benchmarks/foundation/overhead.py --profile  # also cProfile one estimator fit
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import platform
import pstats
import statistics
import time
from pathlib import Path

import numpy as np
import sklearn
import skorch
import torch
from torch import nn

from seqestim import GRUClassifier
from seqestim.datasets.ucr import load_ucr
from seqestim.nn.gated_rnn import GRU, RecurrentParams
from seqestim.nn.heads import SequenceNet

HERE = Path(__file__).resolve().parent

# name, dataset, split, d_model, batch_size, epochs; chosen to cover "few long batches"
# (GunPoint: 50 x 150 steps, 2 batches/epoch) and "many short batches" (ItalyPowerDemand
# train+test: 1096 x 24 steps, 35 batches/epoch) where per-batch framework costs weigh most.
FULL_CONFIGS = [
    ("GunPoint", "GunPoint", "train", 32, 32, 5),
    ("ItalyPowerDemand-all", "ItalyPowerDemand", None, 32, 32, 3),
    ("BasicMotions", "BasicMotions", "train", 32, 8, 5),
]
SMOKE_CONFIGS = [("ItalyPowerDemand", "ItalyPowerDemand", "train", 8, 16, 1)]


def hand_written_fit(X, y, *, d_model, batch_size, epochs, lr, seed):
    """The reference: a plain PyTorch training loop on the estimator's module."""
    torch.manual_seed(seed)
    classes = np.unique(y)
    x = torch.as_tensor(np.ascontiguousarray(X.transpose(0, 2, 1)), dtype=torch.float32)
    lengths = torch.full((len(x),), x.shape[1], dtype=torch.int64)
    targets = torch.as_tensor(np.searchsorted(classes, y), dtype=torch.int64)
    model = SequenceNet(GRU(x.shape[2], RecurrentParams(d_model=d_model)), max(2, len(classes)))
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    criterion = nn.CrossEntropyLoss()
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, lengths, targets),
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    model.train()
    for _ in range(epochs):
        for xb, lb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb, lb), yb)
            loss.backward()
            optimizer.step()
    return model


def estimator_fit(X, y, *, d_model, batch_size, epochs, lr, seed):
    est = GRUClassifier(
        d_model=d_model, max_epochs=epochs, batch_size=batch_size, lr=lr, random_state=seed
    )
    return est.fit(X, y)


def _timed(fn, **kwargs):
    """Wall-clock and CPU seconds of one call (CPU time is robust to other processes' load)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(**kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(config, repeats, lr=1e-3):
    label, dataset, split, d_model, batch_size, epochs = config
    X, y = load_ucr(dataset, split=split)
    kwargs = dict(d_model=d_model, batch_size=batch_size, epochs=epochs, lr=lr, seed=0)
    hand_written_fit(X, y, **kwargs)  # warm-up both paths (imports, allocator, caches)
    estimator_fit(X, y, **kwargs)
    t_est, t_loop, ratios, cpu_est, cpu_loop, cpu_ratios = [], [], [], [], [], []
    for rep in range(repeats):
        pair = [("est", estimator_fit), ("loop", hand_written_fit)]
        if rep % 2:
            pair.reverse()
        times = {name: _timed(fn, X=X, y=y, **kwargs) for name, fn in pair}
        t_est.append(times["est"][0])
        t_loop.append(times["loop"][0])
        ratios.append(times["est"][0] / times["loop"][0])
        cpu_est.append(times["est"][1])
        cpu_loop.append(times["loop"][1])
        cpu_ratios.append(times["est"][1] / times["loop"][1])
    row = {
        "config": label,
        "dataset": dataset,
        "split": split or "train+test",
        "n_sequences": len(y),
        "length": X.shape[2],
        "channels": X.shape[1],
        "d_model": d_model,
        "batch_size": batch_size,
        "epochs": epochs,
        "repeats": repeats,
        "estimator_s_median": statistics.median(t_est),
        "loop_s_median": statistics.median(t_loop),
        "ratio_median": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "ratios": ratios,
        "estimator_cpu_s_median": statistics.median(cpu_est),
        "loop_cpu_s_median": statistics.median(cpu_loop),
        "cpu_ratio_median": statistics.median(cpu_ratios),
        "cpu_ratio_min": min(cpu_ratios),
        "cpu_ratio_max": max(cpu_ratios),
        "cpu_ratios": cpu_ratios,
    }
    print(
        f"{label:22s} n={len(y):5d} T={X.shape[2]:4d} batch={batch_size:3d} epochs={epochs}: "
        f"estimator {row['estimator_s_median']:.3f} s, loop {row['loop_s_median']:.3f} s, "
        f"wall ratio median {row['ratio_median']:.3f} ({min(ratios):.3f}-{max(ratios):.3f}); "
        f"CPU-time ratio median {row['cpu_ratio_median']:.3f} "
        f"({min(cpu_ratios):.3f}-{max(cpu_ratios):.3f})",
        flush=True,
    )
    return row


def profile_estimator(config, lr=1e-3, top=25):
    """Profile one estimator fit; return the top functions by cumulative time as text."""
    _, dataset, split, d_model, batch_size, epochs = config
    X, y = load_ucr(dataset, split=split)
    kwargs = dict(d_model=d_model, batch_size=batch_size, epochs=epochs, lr=lr, seed=0)
    estimator_fit(X, y, **kwargs)
    profiler = cProfile.Profile()
    profiler.enable()
    estimator_fit(X, y, **kwargs)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run for the test suite")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--profile", action="store_true", help="cProfile one estimator fit")
    parser.add_argument("--out", default=None, help="results JSON (default: results/)")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    configs = SMOKE_CONFIGS if args.smoke else FULL_CONFIGS
    repeats = args.repeats or (2 if args.smoke else 7)
    rows = [measure(config, repeats) for config in configs]
    result = {
        "benchmark": "foundation/overhead",
        "smoke": args.smoke,
        "rows": rows,
        "target_ratio": 1.10,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "torch_threads": torch.get_num_threads(),
            "device": "cpu",
        },
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "skorch": skorch.__version__,
            "sklearn": sklearn.__version__,
        },
    }
    if args.profile:
        text = profile_estimator(configs[-1])
        print(text)
        result["profile"] = text
    out = (
        Path(args.out)
        if args.out
        else HERE / "results" / ("overhead_smoke.json" if args.smoke else "overhead.json")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
