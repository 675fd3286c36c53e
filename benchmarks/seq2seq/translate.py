"""ConvS2S vs GNMT vs a GRU encoder-decoder (RNNsearch) on generated translation tasks.

Two tasks from :mod:`seqestim.datasets.seq2seq`, both character level:

- date normalisation: dates in English, French, German and Spanish, many formats -> ISO 8601;
- number words: integers of up to five digits -> French words (``"80"`` -> ``"quatre-vingts"``).

The three translators get about the same number of parameters and one training budget (same
epochs, optimiser, learning rate, batch size, label smoothing), and decode with the task's
default search (beam 5, α = β = 0.2). Reported per model and task: corpus BLEU (sacrebleu) and
exact match on held-out pairs, and the training speed in target tokens per second, measured by
continuing each model's training on ``--speed-pairs`` pairs, the models interleaved (median of
``--rounds`` rounds), so the ratios compare runs made side by side.

The ConvS2S paper's speed claim is about GPUs (an order of magnitude faster training than
recurrent models); this script reports the ratio on the machine it runs on (``--device``).

Usage::

    python benchmarks/seq2seq/translate.py --tasks dates      # one task per run
    python benchmarks/seq2seq/translate.py --smoke            # tiny data, one epoch, seconds

``--n-train``, ``--n-test``, ``--epochs``, ``--speed-pairs`` and ``--rounds`` scale the run; the
README gives the commands behind the committed results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import sklearn
import torch

from seqestim import ConvS2STranslator, GNMTTranslator, RNNSearchTranslator
from seqestim.datasets import make_date_normalization, make_number_words

HERE = Path(__file__).resolve().parent

# About 0.10M parameters each on these tasks (counted after fit and reported): small enough
# that a run fits a shared 2-core machine.
MODELS = {
    "ConvS2S": (
        ConvS2STranslator,
        {"d_embedding": 32, "d_model": 44, "n_encoder_layers": 4, "n_decoder_layers": 3,
         "d_decoder_output": 32, "max_positions": 96},
    ),
    "GNMT": (
        GNMTTranslator,
        {"d_model": 36, "n_encoder_layers": 3, "n_decoder_layers": 3, "d_attention": 36},
    ),
    "RNNSearch (GRU)": (
        RNNSearchTranslator,
        {"d_model": 60, "d_embedding": 32, "d_attention": 60, "d_maxout": 32},
    ),
}  # fmt: skip
SMOKE_MODELS = {
    "ConvS2S": (ConvS2STranslator, {"d_embedding": 8, "d_model": 8, "n_encoder_layers": 1,
                                    "n_decoder_layers": 1, "d_decoder_output": 8,
                                    "max_positions": 96}),
    "GNMT": (GNMTTranslator, {"d_model": 8, "n_encoder_layers": 2, "n_decoder_layers": 1,
                              "d_attention": 8}),
    "RNNSearch (GRU)": (RNNSearchTranslator, {"d_model": 8, "d_embedding": 8, "d_attention": 8,
                                              "d_maxout": 4}),
}  # fmt: skip
# one budget for all: the same tokenizer, vocabularies, optimiser and epochs
TRAINING = {"tokenizer": "char", "shared_vocabulary": False, "lr": 3e-3, "batch_size": 64,
            "gradient_clip": 1.0, "label_smoothing": 0.1}  # fmt: skip


TASKS = {"dates": "date normalisation", "numbers": "number words (fr)"}


def tasks(keys, n_train: int, n_test: int):
    for key in keys:
        if key == "dates":
            X, y = make_date_normalization(n_train + n_test, random_state=0)
        else:
            X, y = make_number_words(n_train + n_test, language="fr", direction="to_words",
                                     max_digits=5, random_state=0)  # fmt: skip
        yield TASKS[key], X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def target_tokens(model, y) -> int:
    """Target tokens the decoder predicts per epoch: every token plus ``<eos>``."""
    return int(sum(len(model.target_vocabulary_.encode(t)) + 1 for t in y))


def run(smoke, keys, n_train, n_test, epochs, device, seed, speed_pairs, rounds):
    models = SMOKE_MODELS if smoke else MODELS
    results = []
    for task, X, y, X_test, y_test in tasks(keys, n_train, n_test):
        print(f"{task}: train {len(X)}, test {len(X_test)}", flush=True)
        fitted = {}
        rows = []
        for name, (cls, params) in models.items():
            model = cls(
                **params,
                **TRAINING,
                max_epochs=epochs,
                device=device,
                random_state=seed,
            )
            if smoke:  # untrained models decode to the length limit: keep it short
                model.set_params(beam_size=2, max_length=12)
            model.fit(X, y)
            start = time.perf_counter()
            bleu = model.score(X_test, y_test)
            exact = model.exact_match(X_test, y_test)
            decode_s = time.perf_counter() - start
            fitted[name] = model
            rows.append(
                {
                    "model": name,
                    "params": params,
                    "n_parameters": model.n_parameters_,
                    "bleu": bleu,
                    "exact_match": exact,
                    "fit_time_s": model.fit_time_,
                    "final_train_loss": float(model.history_[-1]["train_loss"]),
                    "decode_time_s": decode_s,
                    "examples": [
                        [x, t, p]
                        for x, t, p in zip(
                            X_test[:3],
                            y_test[:3],
                            model.predict(X_test[:3]),
                            strict=True,
                        )
                    ],
                }
            )
            print(
                f"  {name:16s} params={model.n_parameters_:7d}  BLEU={bleu:6.2f}  "
                f"exact={exact:.3f}  fit {model.fit_time_:.0f} s",
                flush=True,
            )
        # training speed: more epochs on a subset, models interleaved, median of three rounds
        subset = slice(0, min(len(X), speed_pairs))
        times = {name: [] for name in fitted}
        for _ in range(rounds):
            for name, model in fitted.items():
                model.set_params(warm_start=True)  # continues the fitted net for its epochs
                done = len(model.history_)
                start = time.perf_counter()
                model.fit(X[subset], y[subset])
                epochs_run = len(model.history_) - done
                times[name].append((time.perf_counter() - start) / epochs_run)
        for row in rows:
            model = fitted[row["model"]]
            tokens = target_tokens(model, y[subset])
            row["epoch_time_s"] = float(np.median(times[row["model"]]))
            row["target_tokens_per_s"] = tokens / row["epoch_time_s"]
        reference = next(r for r in rows if r["model"].startswith("RNNSearch"))
        for row in rows:
            row["speed_vs_gru"] = row["target_tokens_per_s"] / reference["target_tokens_per_s"]
            print(
                f"  {row['model']:16s} {row['target_tokens_per_s']:8.0f} target tokens/s  "
                f"x{row['speed_vs_gru']:.2f} the GRU",
                flush=True,
            )
        results.append({"task": task, "n_train": len(X), "n_test": len(X_test), "rows": rows})
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny data, one epoch")
    parser.add_argument("--tasks", nargs="+", choices=sorted(TASKS), default=sorted(TASKS))
    parser.add_argument("--n-train", type=int, default=3000)
    parser.add_argument("--n-test", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--speed-pairs", type=int, default=1000, help="pairs of the speed runs")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved speed rounds")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="results file (default: results/...)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.n_train, args.n_test, args.epochs, args.speed_pairs, args.rounds = (
            40,
            8,
            1,
            40,
            1,
        )
    start = time.perf_counter()
    results = run(args.smoke, args.tasks, args.n_train, args.n_test, args.epochs, args.device,
                  args.seed, args.speed_pairs, args.rounds)  # fmt: skip
    record = {
        "benchmark": "seq2seq/translate",
        "command": "python benchmarks/seq2seq/translate.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "smoke": args.smoke,
        "epochs": args.epochs,
        "speed_pairs": args.speed_pairs,
        "speed_rounds": args.rounds,
        "training": TRAINING,
        "device": args.device,
        "seed": args.seed,
        "tasks": results,
        "wall_time_s": time.perf_counter() - start,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpu_count": os.cpu_count(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
        "versions": {"torch": torch.__version__, "sklearn": sklearn.__version__},
    }
    device = args.device.split(":")[0]
    name = (
        "translate_smoke.json" if args.smoke else f"translate_{'_'.join(args.tasks)}_{device}.json"
    )
    out = Path(args.out) if args.out else HERE / "results" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2, ensure_ascii=False))
    print(f"wrote {out} ({record['wall_time_s']:.0f} s)")


if __name__ == "__main__":
    main()
