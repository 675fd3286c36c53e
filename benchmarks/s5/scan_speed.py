"""S5 speed study: parallel scan vs sequential loop, and model cost as the length grows.

Two measurements, each side by side in one process so that the ratios are meaningful on a
shared machine:

1. forward + backward time of the linear recurrence ``x_k = Λ̄ x_{k-1} + B̄u_k`` computed by
   :func:`seqestim.nn.s5.linear_recurrence_scan` (log-depth odd/even parallel scan, complex),
   by :func:`seqestim.nn.s5.linear_recurrence_chunked` (chunked scan in real arithmetic, what
   the S5 layer uses on a CPU for batch x states >= 256) and by a Python loop over time
   (:func:`seqestim.nn.s5.linear_recurrence_loop`), for several lengths ``L``;
2. forward + backward time of a whole S5 backbone for ``L`` and ``8 L`` (target: the time grows
   at most 10x, i.e. near-linearly).

Usage::

    python benchmarks/s5/scan_speed.py            # full run (a few minutes on one CPU core)
    python benchmarks/s5/scan_speed.py --smoke    # tiny sizes, seconds
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

from seqestim.nn.s5 import (
    S5,
    S5Params,
    linear_recurrence_chunked,
    linear_recurrence_loop,
    linear_recurrence_scan,
)

HERE = Path(__file__).resolve().parent


def _time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def scan_vs_loop(lengths, batch, states, repeats):
    rows = []
    print(f"-- scan vs loop, batch={batch}, states={states} (complex64)", flush=True)
    for L in lengths:
        torch.manual_seed(0)
        a = torch.polar(torch.rand(1, 1, states) * 0.5 + 0.5, torch.randn(1, 1, states))
        a.requires_grad_(True)
        b = torch.randn(batch, L, states, dtype=torch.complex64, requires_grad=True)

        def run(fn, a=a, b=b):
            torch.view_as_real(fn(a, b)).sum().backward()

        # the chunked scan reads and returns real and imaginary parts, as the S5 layer uses it
        parts = [t.detach().clone().requires_grad_() for t in (a.real, a.imag, b.real, b.imag)]

        def run_chunked(parts=parts):
            x_re, x_im = linear_recurrence_chunked(*parts)
            (x_re.sum() + x_im.sum()).backward()

        methods = {
            "scan": lambda: run(linear_recurrence_scan),
            "chunked": run_chunked,
            "loop": lambda: run(linear_recurrence_loop),
        }
        for fn in methods.values():  # warm-up
            fn()
        # interleave the methods so that machine noise hits them alike
        times = {name: [] for name in methods}
        for _ in range(repeats):
            for name, fn in methods.items():
                times[name].append(_time(fn, 1))
        scan, chunked, loop = (statistics.median(times[name]) for name in methods)
        rows.append(
            {
                "batch": batch,
                "states": states,
                "L": L,
                "scan_s": scan,
                "chunked_s": chunked,
                "loop_s": loop,
                "speedup": loop / scan,
                "speedup_chunked": loop / chunked,
            }
        )
        print(
            f"L={L:6d}  scan {scan * 1e3:9.2f} ms  chunked {chunked * 1e3:9.2f} ms  "
            f"loop {loop * 1e3:9.2f} ms  speedup scan {loop / scan:6.1f}x  "
            f"chunked {loop / chunked:6.1f}x",
            flush=True,
        )
    return rows


def model_growth(lengths, batch, repeats, **model_kw):
    torch.manual_seed(0)
    model = S5(1, S5Params(**model_kw)).train()
    rows = []
    for L in lengths:
        x = torch.randn(batch, L, 1)

        def run(x=x):
            model.zero_grad()
            model(x).pow(2).mean().backward()

        run()
        t = _time(run, repeats)
        rows.append({"L": L, "fwd_bwd_s": t})
        print(f"model L={L:6d}  {t * 1e3:9.2f} ms", flush=True)
    growth = rows[-1]["fwd_bwd_s"] / rows[0]["fwd_bwd_s"]
    print(f"time growth for x{lengths[-1] // lengths[0]} length: {growth:.2f}x", flush=True)
    return rows, growth


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (seconds)")
    parser.add_argument("--out", type=Path, default=None, help="results JSON path")
    args = parser.parse_args(argv)
    if args.smoke:
        lengths, shapes, repeats = [64, 256], [(2, 8)], 2
        growth_lengths, model_kw = [64, 512], {"d_model": 8, "d_state": 8, "n_layers": 1}
    else:
        # (batch, complex states per step): a typical training batch of one S5 layer, and one
        # sequence with a small state (online / small-batch use)
        lengths, shapes, repeats = [256, 1024, 4096, 16384], [(8, 64), (1, 32)], 5
        growth_lengths = [512, 4096]
        model_kw = {"d_model": 64, "d_state": 64, "n_layers": 4, "blocks": 4}
    t0 = time.perf_counter()
    scan_rows = [row for b, p in shapes for row in scan_vs_loop(lengths, b, p, repeats)]
    growth_rows, growth = model_growth(growth_lengths, 4, repeats, **model_kw)
    result = {
        "benchmark": "s5_scan_speed",
        "smoke": args.smoke,
        "config": {
            "scan_shapes_batch_states": shapes,
            "dtype": "complex64",
            "repeats": repeats,
            "model": model_kw,
            "model_batch": 4,
        },
        "scan_vs_loop": scan_rows,
        "model_growth": {
            "rows": growth_rows,
            "length_factor": growth_lengths[-1] // growth_lengths[0],
            "time_growth": growth,
        },
        "targets": {"speedup_at_4096": ">= 5", "time_growth_for_x8_length": "<= 10"},
        "wall_s": time.perf_counter() - t0,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        },
    }
    out = args.out or HERE / "results" / (
        "scan_speed_smoke.json" if args.smoke else "scan_speed.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
