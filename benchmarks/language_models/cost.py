"""Cost claims of the three language-model papers, measured on the backbones side by side.

- Block-Recurrent Transformer (Hutchins et al. 2022): cost linear in the sequence length. Time
  of one forward + backward pass over 1024 and 4096 steps (batch 1); a flat cost per token
  gives a ratio of 4. The same model without the recurrence (``n_state=0``, a sliding-window
  transformer) is timed alongside.
- Deep Equilibrium Model (Bai et al. 2019): memory of the backward pass independent of the
  solver's depth. Bytes autograd saves for the backward pass of the DEQ (implicit
  differentiation) against the same weight-tied cell unrolled explicitly for as many
  iterations as the solver used (the "explicit deep stack"), and their ratio.
- Gated convolutional network (Dauphin et al. 2017): responsiveness, the time to read one
  sequence (batch 1) in parallel, against an LSTM that must step through it, at about the same
  number of parameters.

Run:  python benchmarks/language_models/cost.py [--smoke]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

from seqestim.nn.block_recurrent import BlockRecurrentTransformer, BlockRecurrentTransformerParams
from seqestim.nn.deq import DEQ, DEQParams, _sinusoid
from seqestim.nn.gated_conv import GatedConv, GatedConvParams
from seqestim.nn.gated_rnn import LSTM, RecurrentParams

RESULTS = Path(__file__).parent / "results"


def _timed(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def brt_scaling(lengths, d_model: int, repeats: int) -> list[dict]:
    rows = []
    for n_state in (16, 0):
        torch.manual_seed(0)
        params = BlockRecurrentTransformerParams(
            d_model=d_model, n_layers=2, n_heads=4, block_size=64, window_size=64, n_state=n_state
        )
        model = BlockRecurrentTransformer(d_model, params)
        for L in lengths:
            x = torch.randn(1, L, d_model)

            def step(model=model, x=x):
                model.zero_grad(set_to_none=True)
                model(x).square().mean().backward()

            seconds = _timed(step, repeats)
            name = "brt" if n_state else "sliding_window"
            per_token = 1e6 * seconds / L
            rows.append({"model": name, "length": L, "seconds": seconds,
                         "microseconds_per_token": per_token})  # fmt: skip
    return rows


def _saved_bytes(fn) -> int:
    total = 0

    def pack(tensor):
        nonlocal total
        total += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        fn()
    return total


def deq_memory(length: int, d_model: int) -> dict:
    torch.manual_seed(0)
    model = DEQ(d_model, DEQParams(d_model=d_model, n_heads=4)).train()
    x = torch.randn(2, length, d_model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        implicit = _saved_bytes(lambda: model(x).square().mean().backward())
    depth = model.solver_stats["forward_iterations"]
    u = model.inject(x) + model.position(_sinusoid(length, d_model, x))
    keep = torch.ones(2, length, 1)

    def unrolled():
        z = torch.zeros(2, length, d_model)
        for _ in range(depth):
            z = model.cell(z, u, keep)
        z.square().mean().backward()

    explicit = _saved_bytes(unrolled)
    return {"length": length, "solver_iterations": depth, "deq_saved_bytes": implicit,
            "unrolled_saved_bytes": explicit, "memory_ratio": implicit / explicit}  # fmt: skip


def gcnn_responsiveness(length: int, width: int, repeats: int) -> list[dict]:
    torch.manual_seed(0)
    gcnn = GatedConv(width, GatedConvParams(d_model=width, n_blocks=3, kernel_size=4)).eval()
    # 7 convolutions of width 4 with gates hold about 56 d² weights; an LSTM 8 h²: h ≈ 2.65 d
    lstm = LSTM(width, RecurrentParams(d_model=round(2.65 * width))).eval()
    x = torch.randn(1, length, width)
    rows = []
    for name, model in (("gcnn", gcnn), ("lstm", lstm)):
        with torch.no_grad():
            seconds = _timed(lambda m=model: m(x), repeats)
        rows.append({"model": name, "parameters": sum(p.numel() for p in model.parameters()),
                     "length": length, "seconds": seconds,
                     "tokens_per_second": length / seconds})  # fmt: skip
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run (seconds)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.smoke:
        lengths, d_model, repeats, deq_length, gcnn_length = (128, 256), 16, 1, 32, 64
    else:
        lengths, d_model, repeats, deq_length, gcnn_length = (1024, 4096), 64, 3, 256, 1024
    record = {
        "command": "python benchmarks/language_models/cost.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": platform.platform(),
        "torch": torch.__version__,
        "threads": 1,
        "brt_scaling": brt_scaling(lengths, d_model, repeats),
        "deq_memory": deq_memory(deq_length, d_model),
        "gcnn_responsiveness": gcnn_responsiveness(gcnn_length, 2 * d_model, repeats),
    }
    print(json.dumps(record, indent=2))
    RESULTS.mkdir(exist_ok=True)
    out = (
        Path(args.out) if args.out else RESULTS / ("cost_smoke.json" if args.smoke else "cost.json")
    )
    out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
