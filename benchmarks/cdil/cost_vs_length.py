"""Cost of CDIL-CNN against sequence length: time of one forward + backward pass.

The paper's claim is O(L log L) per sequence: each block costs O(L) and the automatic depth
grows as log2 L. This script times one training step (forward + backward, no optimiser) of the
pure-torch backbones on a fixed batch, side by side and interleaved, for L in {1k, 4k, 16k}:

- ``cdil``: automatic depth (10, 12, 14 blocks for kernel 3), circular padding;
- ``cdil_ragged``: the same batch with one row a step shorter, which takes the per-row gather
  path used for ragged batches instead of PyTorch's convolution;
- ``dil`` (zero padding, automatic depth) and ``tcn`` (causal, depth covering L);
- ``gru``: the library's GRU backbone (a Python loop over time), as the recurrent reference.

Run:  python benchmarks/cdil/cost_vs_length.py [--smoke] [--threads 1] [--device cpu]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from seqestim.nn.cdil import CDIL, DIL, DilatedConvParams, coverage_depth
from seqestim.nn.gated_rnn import GRU, RecurrentParams
from seqestim.nn.tcn import TCN, TCNParams

RESULTS = Path(__file__).parent / "results"


def build(name: str, L: int, d_input: int, d_model: int):
    if name in ("cdil", "cdil_ragged"):
        return CDIL(d_input, DilatedConvParams(d_model=d_model, max_len=L))
    if name == "dil":
        return DIL(d_input, DilatedConvParams(d_model=d_model, max_len=L))
    if name == "tcn":
        return TCN(d_input, TCNParams(d_model=d_model, max_len=L))
    if name == "gru":
        return GRU(d_input, RecurrentParams(d_model=d_model))
    raise ValueError(name)


def depth_of(name: str, model, L: int) -> int:
    if name in ("cdil", "cdil_ragged"):
        return coverage_depth(L, 3, "circular")
    if name == "dil":
        return coverage_depth(L, 3, "zeros")
    if name == "tcn":
        return len(model.blocks)
    return 1


def time_step(model, x, mask, device) -> float:
    model.zero_grad(set_to_none=True)
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = model(x, mask)
    out.pow(2).mean().backward()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run (< 20 s)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--lengths", type=int, nargs="*", default=None)
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--gru-max-len", type=int, default=16384)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    lengths = args.lengths or ([64, 256] if args.smoke else [1024, 4096, 16384])
    models = args.models or ["cdil", "cdil_ragged", "dil", "tcn", "gru"]
    repeats = args.repeats or (1 if args.smoke else 5)
    d_input, d_model, B = 2, 32, args.batch_size
    device = args.device
    rows = []
    for L in lengths:
        x = torch.randn(B, L, d_input, device=device)
        ragged = torch.ones(B, L, dtype=torch.bool, device=device)
        ragged[-1, -1] = False  # one row one step shorter: forces the ragged (gather) path
        nets = {m: build(m, L, d_input, d_model).to(device).train() for m in models}
        active = [m for m in models if not (m == "gru" and L > args.gru_max_len)]
        times = {m: [] for m in active}
        for m in active:  # warm-up (allocator, kernels)
            time_step(nets[m], x, ragged if m == "cdil_ragged" else None, device)
        for rep in range(repeats):  # interleaved, so machine noise hits every model alike
            for m in active:
                if m == "gru" and rep >= max(1, repeats // 3):
                    continue  # the recurrent loop is slow; fewer repeats
                times[m].append(
                    time_step(nets[m], x, ragged if m == "cdil_ragged" else None, device)
                )
        for m in active:
            med = statistics.median(times[m])
            depth = depth_of(m, nets[m], L)
            rows.append(
                {
                    "model": m,
                    "L": L,
                    "depth": depth,
                    "seconds": med,
                    "seconds_all": times[m],
                    "us_per_step_per_block": 1e6 * med / (B * L * depth),
                }
            )
            print(f"{m:12s} L={L:6d} depth={depth:2d} fwd+bwd {med * 1e3:9.1f} ms", flush=True)
    # growth ratios between consecutive lengths, and the O(L log L) and O(L) predictions
    growth = []
    for m in models:
        mine = sorted((r for r in rows if r["model"] == m), key=lambda r: r["L"])
        for a, b in itertools.pairwise(mine):
            growth.append(
                {
                    "model": m,
                    "from_L": a["L"],
                    "to_L": b["L"],
                    "time_ratio": b["seconds"] / a["seconds"],
                    "linear_prediction": b["L"] / a["L"],
                    "L_times_depth_prediction": (b["L"] * b["depth"]) / (a["L"] * a["depth"]),
                }
            )
    for g in growth:
        print(
            f"{g['model']:12s} {g['from_L']:6d}->{g['to_L']:6d}: x{g['time_ratio']:.2f} "
            f"(O(L): x{g['linear_prediction']:.2f}, O(L log L): "
            f"x{g['L_times_depth_prediction']:.2f})"
        )
    result = {
        "experiment": "cost_vs_length",
        "batch_size": B,
        "d_input": d_input,
        "d_model": d_model,
        "kernel_size": 3,
        "repeats": repeats,
        "rows": rows,
        "growth": growth,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpu_count": os.cpu_count(),
            "torch_threads": args.threads,
            "device": device if device == "cpu" else torch.cuda.get_device_name(0),
        },
        "versions": {"python": platform.python_version(), "torch": torch.__version__},
        "smoke": args.smoke,
    }
    out = (
        Path(args.out)
        if args.out
        else RESULTS
        / ("cost_vs_length_smoke.json" if args.smoke else f"cost_vs_length_{device}.json")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
