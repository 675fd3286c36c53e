"""Effect of beam size, length normalisation α and coverage penalty β on BLEU (GNMT's ablation).

One translator (``--model``: GNMT or the RNNsearch GRU baseline, in the ~0.1M-parameter
configurations of ``translate.py``) is trained on French number words (integers of up to seven
digits -> words, character level), deliberately short of convergence so that decoding choices
matter; then the same network decodes the held-out set with every setting of a small grid
through ``set_params(beam_size=..., length_penalty=..., coverage_penalty=...)`` (no refit):
beam sizes 1, 2, 4 and 8 at GNMT's α = β = 0.2, greedy with α = β = 0, and α x β at beam 4.
Reported: corpus BLEU, exact match, total output length relative to the references (in
characters), and decoding time.

Usage::

    python benchmarks/seq2seq/beam_ablation.py            # full run
    python benchmarks/seq2seq/beam_ablation.py --smoke    # tiny data, seconds
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

from seqestim import GNMTTranslator, RNNSearchTranslator
from seqestim.datasets import make_number_words

HERE = Path(__file__).resolve().parent

TRAINING = {"tokenizer": "char", "shared_vocabulary": False, "lr": 3e-3, "batch_size": 64,
            "gradient_clip": 1.0}  # fmt: skip
# the ~0.1M-parameter configurations of translate.py
MODELS = {
    "gnmt": (GNMTTranslator, {"d_model": 36, "n_encoder_layers": 3, "n_decoder_layers": 3,
                              "d_attention": 36}),
    "rnnsearch": (RNNSearchTranslator, {"d_model": 60, "d_embedding": 32, "d_attention": 60,
                                        "d_maxout": 32}),
}  # fmt: skip
SMOKE_MODELS = {
    "gnmt": (GNMTTranslator, {"d_model": 8, "d_attention": 8, "n_encoder_layers": 2,
                              "n_decoder_layers": 1}),
    "rnnsearch": (RNNSearchTranslator, {"d_model": 8, "d_embedding": 8, "d_attention": 8,
                                        "d_maxout": 4}),
}  # fmt: skip
#: beam sizes compared at GNMT's α = β = 0.2; the α x β grid is searched with a beam of 4
BEAMS = (1, 2, 4, 8)
ALPHAS = (0.0, 0.2, 0.6, 1.0)
BETAS = (0.0, 0.2, 0.6)
GRID_BEAM = 4


def evaluate(model, X, y):
    start = time.perf_counter()
    predictions = model.predict(X)
    seconds = time.perf_counter() - start
    import sacrebleu

    bleu = sacrebleu.corpus_bleu(list(predictions), [list(y)]).score
    exact = float(np.mean([p == t for p, t in zip(predictions, y, strict=True)]))
    length = float(sum(len(p) for p in predictions) / sum(len(t) for t in y))
    return {
        "bleu": bleu,
        "exact_match": exact,
        "length_ratio": length,
        "decode_time_s": seconds,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny data, one epoch")
    parser.add_argument("--model", choices=sorted(MODELS), default="gnmt")
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--n-test", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    n_train, n_test = (40, 8) if args.smoke else (args.n_train, args.n_test)
    X, y = make_number_words(n_train + n_test, language="fr", direction="to_words",
                             max_digits=7, random_state=0)  # fmt: skip
    X_train, y_train, X_test, y_test = (
        X[:n_train],
        y[:n_train],
        X[n_train:],
        y[n_train:],
    )
    epochs = 1 if args.smoke else args.epochs
    cls, params = (SMOKE_MODELS if args.smoke else MODELS)[args.model]
    start = time.perf_counter()
    model = cls(**params, **TRAINING, max_epochs=epochs, random_state=args.seed)
    model.fit(X_train, y_train)
    print(f"{cls.__name__}: {model.n_parameters_} parameters, fit {model.fit_time_:.0f} s")

    rows = []
    settings = [(k, 0.2, 0.2) for k in BEAMS] + [(1, 0.0, 0.0)]
    settings += [(GRID_BEAM, a, b) for a in ALPHAS for b in BETAS if (a, b) != (0.2, 0.2)]
    if args.smoke:  # an untrained model decodes to the length limit: keep it short
        settings = settings[:3]
        model.set_params(max_length=12)
    for beam, alpha, beta in settings:
        model.set_params(beam_size=beam, length_penalty=alpha, coverage_penalty=beta)
        row = {
            "beam_size": beam,
            "alpha": alpha,
            "beta": beta,
            **evaluate(model, X_test, y_test),
        }
        rows.append(row)
        print(
            f"  beam {beam}  α={alpha:.1f}  β={beta:.1f}:  BLEU {row['bleu']:6.2f}  "
            f"exact {row['exact_match']:.3f}  length {row['length_ratio']:.3f}  "
            f"{row['decode_time_s']:.1f} s",
            flush=True,
        )
    record = {
        "benchmark": "seq2seq/beam_ablation",
        "command": "python benchmarks/seq2seq/beam_ablation.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "smoke": args.smoke,
        "task": "number words, fr, digits -> words, up to 7 digits, character level",
        "n_train": n_train,
        "n_test": n_test,
        "epochs": epochs,
        "model": {
            "class": cls.__name__,
            **params,
            **TRAINING,
            "n_parameters": model.n_parameters_,
        },
        "fit_time_s": model.fit_time_,
        "final_train_loss": float(model.history_[-1]["train_loss"]),
        "rows": rows,
        "wall_time_s": time.perf_counter() - start,
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        },
        "versions": {"torch": torch.__version__, "sklearn": sklearn.__version__},
    }
    name = f"beam_ablation_{args.model}{'_smoke' if args.smoke else ''}.json"
    out = HERE / "results" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2, ensure_ascii=False))
    print(f"wrote {out} ({record['wall_time_s']:.0f} s)")


if __name__ == "__main__":
    main()
