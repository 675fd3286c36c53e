"""Recurrent speed: forward + backward time per epoch of the RNN/GRU/LSTM backbones.

Three implementations of each network, timed side by side in one process (interleaved, median
of the repeats), on data shaped like the classification sets and one larger synthetic set:

- ``fast``: the library's backbone (:mod:`seqestim.nn.gated_rnn`), whose time loop uses the
  hand-written backpropagation through time;
- ``step``: the same backbone run step by step through its cells with autograd (the general
  path that the normalizations use, and what the backbone did before the fast path);
- ``torch``: ``torch.nn.RNN`` / ``GRU`` / ``LSTM`` of the same width (PyTorch's CPU kernels;
  note that torch's GRU and LSTM are different cells: reset gate after the product, no
  peepholes);
- ``impl_torch`` (RNN and LSTM): the library's backbone with ``implementation="torch"``
  (PyTorch's kernels on the backbone's own parameters; the LSTM then with ``peepholes=False``).

One "epoch" is a forward and backward pass over every mini-batch of ``n`` sequences (mean
pooling and a sum as the loss; no optimizer step, which costs the same for all three).

Usage::

    python benchmarks/classification/recurrent_speed.py            # a few minutes
    python benchmarks/classification/recurrent_speed.py --smoke    # seconds
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from seqestim.nn.gated_rnn import GRU, LSTM, RNN, RecurrentParams

HERE = Path(__file__).resolve().parent

#: (name, n sequences, channels, length, batch size)
SHAPES = [
    ("GunPoint-like", 50, 1, 150, 16),
    ("BasicMotions-like", 40, 6, 100, 16),
    ("XOR-like", 512, 2, 256, 64),
]
MODELS = {"rnn": (RNN, torch.nn.RNN), "gru": (GRU, torch.nn.GRU), "lstm": (LSTM, torch.nn.LSTM)}


def _step_by_step(backbone):
    """The backbone's forward through the cells, step by step (the general path)."""

    def forward(x):
        h = x
        for directions in backbone.layers:
            layer = directions[0]
            h = layer.step_by_step(layer.cell.project(h, None), None)
        return h

    return forward


def _epoch(forward, params, batches):
    for x in batches:
        for p in params:
            p.grad = None
        forward(x).mean(dim=1).sum().backward()


def measure(shape, model, d_model, repeats):
    name, n, channels, length, batch = shape
    ours_cls, torch_cls = MODELS[model]
    torch.manual_seed(0)
    data = torch.randn(n, length, channels)
    batches = list(data.split(batch))
    ours = ours_cls(channels, RecurrentParams(d_model=d_model))
    reference = torch_cls(channels, d_model, batch_first=True)
    runs = {
        "fast": (ours, list(ours.parameters())),
        "step": (_step_by_step(ours), list(ours.parameters())),
        "torch": (lambda x: reference(x)[0], list(reference.parameters())),
    }
    if model != "gru":  # PyTorch's kernels on the backbone's parameters, where they exist
        extra = {"peepholes": False} if model == "lstm" else {}
        params = RecurrentParams(d_model=d_model, implementation="torch", **extra)
        native = ours_cls(channels, params)
        runs["impl_torch"] = (native, list(native.parameters()))
    times = {key: [] for key in runs}
    for forward, params in runs.values():  # warm-up
        _epoch(forward, params, batches[:1])
    for _ in range(repeats):  # interleaved, so that machine noise hits all alike
        for key, (forward, params) in runs.items():
            start = time.perf_counter()
            _epoch(forward, params, batches)
            times[key].append(time.perf_counter() - start)
    row = {"data": name, "n": n, "channels": channels, "length": length, "batch_size": batch}
    row.update({"model": model, "d_model": d_model})
    row.update({f"{key}_s": statistics.median(values) for key, values in times.items()})
    row["fast_over_torch"] = row["fast_s"] / row["torch_s"]
    row["step_over_fast"] = row["step_s"] / row["fast_s"]
    extra = ""
    if "impl_torch_s" in row:
        row["impl_torch_over_torch"] = row["impl_torch_s"] / row["torch_s"]
        extra = f"  impl_torch {row['impl_torch_s'] * 1e3:8.1f} ms"
    print(
        f"{name:18s} {model:5s} fast {row['fast_s'] * 1e3:8.1f} ms  step "
        f"{row['step_s'] * 1e3:8.1f} ms  torch {row['torch_s'] * 1e3:8.1f} ms  "
        f"fast/torch {row['fast_over_torch']:5.2f}  step/fast {row['step_over_fast']:5.2f}" + extra,
        flush=True,
    )
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (seconds)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--d-model", type=int, default=64)
    parser.add_argument("--out", type=Path, default=None, help="results JSON path")
    args = parser.parse_args(argv)
    shapes, repeats, d_model = SHAPES, args.repeats, args.d_model
    if args.smoke:
        shapes, repeats, d_model = [("smoke", 8, 2, 12, 4)], 2, 8
    start = time.perf_counter()
    rows = [measure(shape, model, d_model, repeats) for shape in shapes for model in MODELS]
    result = {
        "benchmark": "recurrent_speed",
        "smoke": args.smoke,
        "repeats": repeats,
        "rows": rows,
        "target": "fast / torch <= 2 for GRU and LSTM",
        "wall_s": time.perf_counter() - start,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
            "load_average": os.getloadavg(),
        },
    }
    out = args.out or HERE / "results" / (
        "recurrent_speed_smoke.json" if args.smoke else "recurrent_speed.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
