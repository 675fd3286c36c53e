"""Rolling-origin comparison of the neural forecasters with ARIMA baselines (``seqestim compare``).

On airline, lynx, sunspots and co2, every model of ``seqestim compare`` (the same model set and
settings: :func:`seqestim.cli.compare.make_forecasters`) is cross-validated with
``TimeSeriesSplit(n_folds, test_size=period)``: GRUForecaster and S5Forecaster with their
defaults (per dataset only the window they read and the horizon), ARMACellForecaster,
AutoARIMAForecaster (restricted stepwise search), statsforecast's AutoARIMA when installed,
ARIMAForecaster with the textbook order and NaiveForecaster(seasonal_last). Reported per
dataset and model: mean MASE over the folds, the coverage and MSIS of the 90% intervals, and
the mean fit time, all measured in one run on one machine.

Usage::

    python benchmarks/forecasting/run.py            # full run
    python benchmarks/forecasting/run.py --smoke    # seconds; writes results/*smoke*.json
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))  # _forecasting_common


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run (seconds)")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument(
        "--epochs", type=int, default=None, help="max_epochs of every neural model (defaults)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--datasets", nargs="+", default=["airline", "lynx", "sunspots", "co2"], metavar="NAME"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    if args.smoke:
        args.folds, args.epochs, args.datasets = 2, 1, ["airline"]

    from _forecasting_common import environment, write

    from seqestim.cli.compare import DATASETS, compare, summary_table

    started = time.perf_counter()
    report = {
        "command": "python benchmarks/forecasting/run.py"
        + (" --smoke" if args.smoke else "")
        + (f" --seed {args.seed}" if args.seed else ""),
        "settings": {"folds": args.folds, "epochs": args.epochs, "seed": args.seed},
        **environment(),
        "datasets": {},
    }
    for name in args.datasets:
        spec = DATASETS[name]
        start = time.perf_counter()
        results, _, y, _ = compare(
            name,
            folds=args.folds,
            epochs=args.epochs,
            seed=args.seed,
            autoarima=not args.smoke,
            verbose=0 if args.quiet else 1,
        )
        table = summary_table(results)
        naive = float(table.loc["SeasonalNaive", "mase"])
        report["datasets"][name] = {
            "n_obs": len(y),
            "horizon": spec.sp,
            "mase_sp": spec.mase_sp,
            "log": spec.log,
            "window_length": spec.window_length,
            "textbook_arima": {"order": spec.arima, "source": spec.arima_source},
            "wall_time_s": time.perf_counter() - start,
            "models": {
                model: {
                    "mase": float(row.mase),
                    "mase_per_fold": results.loc[results.model == model, "mase"].tolist(),
                    "smape": float(row.smape),
                    "coverage_90": None if row.coverage != row.coverage else float(row.coverage),
                    "msis": None if row.msis != row.msis else float(row.msis),
                    "fit_time_s": float(row.fit_time),
                    "beats_seasonal_naive": bool(row.mase < naive),
                }
                for model, row in table.iterrows()
            },
        }
        print(f"\n== {name} ({len(y)} obs, {args.folds} folds x {spec.sp} steps)")
        print(table.to_string(float_format=lambda v: f"{v:.3f}", na_rep=""), flush=True)
    report["wall_time_s"] = time.perf_counter() - started
    write(report, "forecasting_smoke.json" if args.smoke else "forecasting.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
