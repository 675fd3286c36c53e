"""Character language models side by side: Markov text and Python source, equal budgets.

Every model is trained through its public ``<Model>LanguageModel`` estimator with the same
training settings (Adam, lr 3e-3, batch 16, ``context_length`` 128) for the same number of
epochs, at about the same number of parameters (about 100k; the results record each model's
count), and measured on:

- ``markov``: texts of a random order-2 Markov source over 8 symbols
  (``make_markov_text``), whose entropy rate is known exactly: the gap in nats per symbol
  between a model's test cross-entropy and the entropy rate is its distance to the optimum;
- ``python``: Python's standard-library source (``load_python_source``), character level:
  bits per character on the test files.

``sliding_window`` is the Block-Recurrent Transformer without its recurrent state
(``n_state=0``), the paper's baseline. For each model: the test cross-entropy (``-score``),
the training time, training tokens per second, the number of parameters, and, for the DEQ,
its solver statistics.

Run:  python benchmarks/language_models/char_lm.py [--smoke] [--tasks markov python]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
import warnings
from pathlib import Path

import torch

from seqestim import (
    BlockRecurrentTransformerLanguageModel,
    DEQLanguageModel,
    GatedConvLanguageModel,
    GRULanguageModel,
    LSTMLanguageModel,
    S5LanguageModel,
)
from seqestim.datasets import load_python_source, make_markov_text

RESULTS = Path(__file__).parent / "results"


def models(smoke: bool) -> dict:
    """One estimator per model, each with about 100k parameters (a few thousand in smoke)."""
    common = {"lr": 3e-3, "batch_size": 16, "context_length": 128, "random_state": 0}
    if smoke:
        sizes = {"gcnn": 16, "brt": 8, "deq": 8, "rnn": 16, "s5": 8, "blocks": 1, "layers": 1}
    else:
        sizes = {"gcnn": 64, "brt": 64, "deq": 80, "rnn": 128, "s5": 64, "blocks": 2, "layers": 2}
    return {
        "gcnn": GatedConvLanguageModel(
            d_model=sizes["gcnn"], n_blocks=sizes["blocks"], kernel_size=3, **common
        ),
        "brt": BlockRecurrentTransformerLanguageModel(
            d_model=sizes["brt"],
            n_layers=sizes["layers"],
            n_heads=4,
            block_size=32,
            window_size=32,
            n_state=16,
            **common,
        ),
        "sliding_window": BlockRecurrentTransformerLanguageModel(
            d_model=sizes["brt"],
            n_layers=sizes["layers"],
            n_heads=4,
            block_size=32,
            window_size=32,
            n_state=0,
            **common,
        ),  # the same model without its recurrence
        "deq": DEQLanguageModel(d_model=sizes["deq"], n_heads=4, **common),
        "lstm": LSTMLanguageModel(d_model=sizes["rnn"], n_layers=1, **common),
        "gru": GRULanguageModel(d_model=sizes["rnn"] + 16, n_layers=1, **common),
        "s5": S5LanguageModel(
            d_model=sizes["s5"], d_state=sizes["s5"], n_layers=2 * sizes["layers"], **common
        ),
    }


def corpus(task: str, smoke: bool):
    """Training and test texts, and the entropy rate when it is known."""
    if task == "markov":
        n_train, n_test, length = (4, 2, 200) if smoke else (20, 10, 1000)
        texts, entropy = make_markov_text(
            8, 2, n_samples=n_train + n_test, length=length, random_state=0
        )
        return texts[:n_train], texts[n_train:], entropy
    train_chars, test_chars = (5_000, 3_000) if smoke else (120_000, 30_000)
    train = load_python_source("train", max_chars=train_chars)
    test = load_python_source("test", max_chars=test_chars)
    return train, test, None


def run(task: str, names, epochs: int, smoke: bool) -> list[dict]:
    train, test, entropy = corpus(task, smoke)
    n_tokens = sum(len(t) + 1 for t in train)  # + <eos>
    rows = []
    for name, estimator in models(smoke).items():
        if names and name not in names:
            continue
        estimator.set_params(max_epochs=epochs)
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            estimator.fit(train)
        seconds = time.perf_counter() - start
        nats = -estimator.score(test)
        row = {
            "task": task,
            "model": name,
            "parameters": int(sum(p.numel() for p in estimator.module_.parameters())),
            "test_nats_per_token": nats,
            "test_bits_per_token": nats / math.log(2),
            "train_seconds": seconds,
            "train_tokens_per_second": n_tokens * epochs / seconds,
            "carries_state": bool(estimator.carries_state_),
            "warnings": sorted({type(w.message).__name__ for w in caught}),
        }
        if entropy is not None:
            row["entropy_rate"] = entropy
            row["gap_nats"] = nats - entropy
        if hasattr(estimator, "solver_iterations_"):
            row["solver_iterations"] = estimator.solver_iterations_
            row["solver_residual"] = estimator.solver_residual_
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run (seconds)")
    parser.add_argument("--tasks", nargs="*", default=["markov", "python"])
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    epochs = args.epochs or (1 if args.smoke else 4)
    rows = []
    for task in args.tasks:
        rows += run(task, args.models, epochs, args.smoke)
    RESULTS.mkdir(exist_ok=True)
    out = (
        Path(args.out)
        if args.out
        else RESULTS / ("char_lm_smoke.json" if args.smoke else "char_lm.json")
    )
    record = {
        "command": "python benchmarks/language_models/char_lm.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": platform.platform(),
        "torch": torch.__version__,
        "threads": 1,
        "epochs": epochs,
        "rows": rows,
    }
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
