"""Rolling-origin comparison of the ARMA cell and GRU forecasters with ARIMA baselines.

On airline, lynx, sunspots and co2, every model of ``seqestim compare`` (the same model set and
settings: :func:`seqestim.cli.compare.make_forecasters`) is cross-validated with
``TimeSeriesSplit(n_folds, test_size=period)``: ARMACellForecaster, GRUForecaster,
AutoARIMAForecaster (restricted stepwise search), ARIMAForecaster with the textbook order and
NaiveForecaster(seasonal_last). Reported per dataset: mean MASE over the folds, mean fit time,
and the ratio of the ARMA cell's MASE to the best ARIMA's (textbook or auto), all measured in
one run on one machine.

Usage::

    python benchmarks/forecasting/run.py            # full run (about 10 minutes on 2 cores)
    python benchmarks/forecasting/run.py --smoke    # seconds; writes results/*smoke*.json
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run (seconds)")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--datasets", nargs="+", default=["airline", "lynx", "sunspots", "co2"], metavar="NAME"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.folds, args.epochs, args.datasets = 2, 1, ["airline"]

    import numpy as np
    import sklearn
    import statsmodels
    import torch

    from seqestim.cli.compare import DATASETS, compare, summary_table

    started = time.perf_counter()
    report = {
        "command": "python benchmarks/forecasting/run.py" + (" --smoke" if args.smoke else ""),
        "settings": {"folds": args.folds, "epochs": args.epochs, "seed": args.seed},
        "machine": {
            "platform": platform.platform(),
            "processor": _cpu_name(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
        },
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "sklearn": sklearn.__version__,
            "statsmodels": statsmodels.__version__,
        },
        "datasets": {},
    }
    for name in args.datasets:
        spec = DATASETS[name]
        results, _, y = compare(
            name, folds=args.folds, epochs=args.epochs, seed=args.seed, autoarima=not args.smoke
        )
        table = summary_table(results)
        arima_names = [m for m in ("ARIMA", "AutoARIMA") if m in table.index]
        best_arima = min(arima_names, key=lambda m: table.loc[m, "mase"])
        ratio = float(table.loc["ARMACell", "mase"] / table.loc[best_arima, "mase"])
        report["datasets"][name] = {
            "n_obs": len(y),
            "horizon": spec.sp,
            "mase_sp": spec.mase_sp,
            "log": spec.log,
            "neural_max_epochs": max(1, round(args.epochs * spec.epoch_scale)),
            "armacell_differencing_lags": list(spec.arma_cell_lags),
            "textbook_arima": {"order": spec.arima, "source": spec.arima_source},
            "models": {
                model: {
                    "mase": float(row.mase),
                    "mase_per_fold": results.loc[results.model == model, "mase"].tolist(),
                    "smape": float(row.smape),
                    "fit_time_s": float(row.fit_time),
                }
                for model, row in table.iterrows()
            },
            "best_arima": best_arima,
            "armacell_over_best_arima_mase": ratio,
        }
        print(f"\n== {name} ({len(y)} obs, {args.folds} folds x {spec.sp} steps)")
        print(table.to_string(float_format=lambda v: f"{v:.3f}"))
        print(f"ARMACell MASE / best ARIMA ({best_arima}) MASE = {ratio:.3f}")
    report["wall_time_s"] = time.perf_counter() - started
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / ("forecasting_smoke.json" if args.smoke else "forecasting.json")
    out.write_text(json.dumps(report, indent=2, default=_jsonable(np)))
    print(f"\nwrote {out} ({report['wall_time_s']:.0f} s)")
    return 0


def _cpu_name() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _jsonable(np):
    def convert(value):
        if isinstance(value, np.generic):
            return value.item()
        raise TypeError(f"not JSON serialisable: {type(value)}")

    return convert


if __name__ == "__main__":
    sys.exit(main())
