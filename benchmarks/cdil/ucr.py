"""CDIL-CNN on four UCR/UEA sets next to sktime's ROCKET and InceptionTime, in one run.

Data: sktime's shipped copies (``load_UCR_UEA_dataset(name, split=..., return_type="numpy3D")``,
no download): GunPoint, ItalyPowerDemand, BasicMotions (6 channels), ArrowHead; the official
TRAIN/TEST splits. Every channel is standardised with the mean and standard deviation of the
training split, for every model alike.

Models, each fitted on the training split and scored (accuracy) on the test split, with the fit
time measured around ``fit``:

- ``CDILClassifier`` (seqestim): 32 channels, kernel 3, automatic depth, mean pooling (the
  paper's time-series settings), Adam, ``--cdil-epochs`` epochs of batches of 16;
- ``RocketClassifier`` (sktime): 10 000 kernels, its defaults;
- ``InceptionTimeClassifierTorch`` (sktime): its defaults except ``num_epochs``
  (``--inception-epochs``; its default of 1500 does not fit a CPU budget).

Run:  python benchmarks/cdil/ucr.py [--smoke] [--datasets ...] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
import torch

from seqestim.estimators import CDILClassifier

RESULTS = Path(__file__).parent / "results"
DATASETS = ["GunPoint", "ItalyPowerDemand", "BasicMotions", "ArrowHead"]


def load(name: str):
    from sktime.datasets import load_UCR_UEA_dataset

    X_train, y_train = load_UCR_UEA_dataset(name, split="train", return_type="numpy3D")
    X_test, y_test = load_UCR_UEA_dataset(name, split="test", return_type="numpy3D")
    mean = X_train.mean(axis=(0, 2), keepdims=True)  # per channel
    std = X_train.std(axis=(0, 2), keepdims=True) + 1e-8
    return (X_train - mean) / std, np.asarray(y_train), (X_test - mean) / std, np.asarray(y_test)


def make(name: str, seed: int, args):
    if name == "CDIL":
        return CDILClassifier(
            d_model=32,
            kernel_size=3,
            max_epochs=args.cdil_epochs,
            lr=1e-3,
            batch_size=16,
            optimizer="adam",
            random_state=seed,
            device=args.device,
        )
    if name == "ROCKET":
        from sktime.classification.kernel_based import RocketClassifier

        return RocketClassifier(num_kernels=args.rocket_kernels, random_state=seed)
    if name == "InceptionTime":
        from sktime.classification.deep_learning import InceptionTimeClassifierTorch

        return InceptionTimeClassifierTorch(num_epochs=args.inception_epochs, random_state=seed)
    raise ValueError(name)


def save(args, rows, complete: bool) -> dict:
    """Write the results so far (after every fit, so an interrupted run keeps them)."""
    summary = []
    for dataset in args.datasets:
        for model in args.models:
            mine = [r for r in rows if r["dataset"] == dataset and r["model"] == model]
            if not mine:
                continue
            acc = [r["accuracy"] for r in mine]
            fit = [r["fit_seconds"] for r in mine]
            summary.append(
                {
                    "dataset": dataset,
                    "model": model,
                    "accuracy_mean": float(np.mean(acc)),
                    "accuracy_std": float(np.std(acc)),
                    "fit_seconds_mean": float(np.mean(fit)),
                    "n_seeds": len(mine),
                }
            )
    import sktime

    result = {
        "experiment": "ucr_uea",
        "settings": {
            k: getattr(args, k)
            for k in ("datasets", "models", "seeds", "cdil_epochs", "inception_epochs")
        }
        | {"rocket_kernels": args.rocket_kernels},
        "rows": rows,
        "summary": summary,
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "torch_threads": args.threads,
        },
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "sklearn": sklearn.__version__,
            "sktime": sktime.__version__,
        },
        "smoke": args.smoke,
        "complete": complete,
    }
    out = Path(args.out) if args.out else RESULTS / ("ucr_smoke.json" if args.smoke else "ucr.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    result["path"] = str(out)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run (< 20 s)")
    parser.add_argument("--datasets", nargs="*", default=DATASETS)
    parser.add_argument("--models", nargs="*", default=["CDIL", "ROCKET", "InceptionTime"])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--cdil-epochs", type=int, default=150)
    parser.add_argument("--inception-epochs", type=int, default=150)
    parser.add_argument("--rocket-kernels", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help='CDIL\'s device: "cpu", "cuda", "auto"')
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.smoke:
        # the script's own path only: sktime's models cost tens of seconds of import and JIT
        args.datasets, args.models, args.cdil_epochs = ["ItalyPowerDemand"], ["CDIL"], 1
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    # warm-up: the first fit of each model in a process pays one-off costs (imports, numba
    # compilation of ROCKET's kernels); keep them out of the timings
    X_w, y_w, _, _ = load(args.datasets[0])
    tiny = argparse.Namespace(
        **{**vars(args), "cdil_epochs": 1, "inception_epochs": 1, "rocket_kernels": 50}
    )
    for model in args.models:
        make(model, 0, tiny).fit(X_w, y_w)
    rows = []
    for dataset in args.datasets:
        X_train, y_train, X_test, y_test = load(dataset)
        for model in args.models:
            for seed in args.seeds:
                est = make(model, seed, args)
                start = time.perf_counter()
                est.fit(X_train, y_train)
                fit_seconds = time.perf_counter() - start
                accuracy = float(np.mean(np.asarray(est.predict(X_test)) == y_test))
                rows.append(
                    {
                        "dataset": dataset,
                        "model": model,
                        "seed": seed,
                        "accuracy": accuracy,
                        "fit_seconds": fit_seconds,
                        "shape_train": list(X_train.shape),
                        "n_test": len(y_test),
                    }
                )
                print(
                    f"{dataset:17s} {model:13s} seed={seed} acc={accuracy:.3f} "
                    f"fit={fit_seconds:7.1f}s",
                    flush=True,
                )
                save(args, rows, complete=False)
    result = save(args, rows, complete=True)
    print(f"wrote {result['path']}")
    return result


if __name__ == "__main__":
    main()
