"""Coverage of 90% prediction intervals on simulated ARMA data, over many forecast origins.

Each of ``--n-series`` ARMA(1, 1) series (``make_arma_process``, different seeds) of 1500
observations is split at 1000: every model is fitted once on the first 1000 and then forecasts
``horizon`` steps from each of the next ``--n-origins`` origins without refitting
(:func:`seqestim.model_selection.historical_forecasts`; the neural forecasters batch all
origins). Reported per model: the empirical coverage of the nominal 90% intervals (target:
within [0.85, 0.95]), the mean scaled interval score (MSIS, lower is better), the pinball loss
over the levels 0.05, 0.25, 0.5, 0.75, 0.95 (the 90% and 50% intervals and the point forecast,
a median or a Gaussian mean), and the MASE of the point forecasts: each pooled over a series'
origins and steps, then averaged over series; next to the true-order ARIMA (the Gaussian
truth, up to estimated parameters) and our AutoARIMA.

Usage::

    python benchmarks/forecasting/intervals.py            # 3 series x 400 origins
    python benchmarks/forecasting/intervals.py --smoke    # seconds
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))  # _forecasting_common

AR, MA = [0.7], [0.3]
LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run (seconds)")
    parser.add_argument("--n-series", type=int, default=3)
    parser.add_argument("--n-origins", type=int, default=400)
    parser.add_argument("--horizon", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.smoke:
        args.n_series, args.n_origins = 1, 20

    import numpy as np
    from _forecasting_common import environment, write

    from seqestim import GRUForecaster, S5Forecaster
    from seqestim.baselines import ARIMAForecaster, AutoARIMAForecaster
    from seqestim.datasets import make_arma_process
    from seqestim.model_selection import (
        empirical_coverage,
        mean_absolute_scaled_error,
        mean_scaled_interval_score,
        pinball_loss,
    )

    H = args.horizon
    neural = {"window_length": 24, "horizon": H, "random_state": args.seed}
    if args.smoke:
        neural["max_epochs"] = 2
    models = {
        "GRU (quantile head, defaults)": lambda: GRUForecaster(**neural),
        "GRU (normal head)": lambda: GRUForecaster(**neural, loss="normal"),
        "S5 (quantile head, defaults)": lambda: S5Forecaster(**neural),
        "ARIMA(1,0,1), the true order": lambda: ARIMAForecaster(order=(1, 0, 1)),
        "AutoARIMA (ours)": lambda: AutoARIMAForecaster(max_p=2, max_q=2),
    }
    from seqestim.model_selection import historical_forecasts

    n_train = 1000
    pooled = {name: {k: [] for k in ("truth", "q", "point", "train")} for name in models}
    fit_time = dict.fromkeys(models, 0.0)
    for s in range(args.n_series):
        y = make_arma_process(
            ar=AR, ma=MA, n_samples=n_train + args.n_origins + H, random_state=args.seed + s
        )
        origins = np.arange(n_train - 1, n_train - 1 + args.n_origins)
        truth = np.stack([y[o + 1 : o + 1 + H] for o in origins]).ravel()  # origin-major
        for name, make in models.items():
            start = time.perf_counter()
            model = make().fit(y[:n_train])
            fit_time[name] += time.perf_counter() - start
            # the 90% and 50% intervals and the point forecast (a median or a Gaussian mean):
            # the quantiles 0.05, 0.25, 0.5, 0.75, 0.95
            points, bounds = historical_forecasts(
                model, y, origins, fh=np.arange(1, H + 1), coverage=[0.9, 0.5]
            )
            b = bounds.to_numpy()  # lower90, upper90, lower50, upper50
            q = np.column_stack([b[:, 0], b[:, 2], points.to_numpy()[:, 0], b[:, 3], b[:, 1]])
            pooled[name]["truth"].append(truth)
            pooled[name]["q"].append(q)
            pooled[name]["point"].append(points.to_numpy()[:, 0])
            pooled[name]["train"].append(y[:n_train])
    results = {}
    for name, p in pooled.items():
        per_series = []
        for truth, q, point, train in zip(p["truth"], p["q"], p["point"], p["train"], strict=True):
            per_series.append(
                {
                    "coverage_90": empirical_coverage(truth, q[:, 0], q[:, 4]),
                    "coverage_50": empirical_coverage(truth, q[:, 1], q[:, 3]),
                    "msis": mean_scaled_interval_score(truth, q[:, 0], q[:, 4], train, 0.9),
                    "pinball": pinball_loss(truth, q, LEVELS),
                    "mase": mean_absolute_scaled_error(truth, point, train),
                }
            )
        results[name] = {
            key: float(np.mean([row[key] for row in per_series])) for key in per_series[0]
        }
        results[name]["fit_time_s"] = fit_time[name]
        row = ", ".join(f"{k} {v:.3f}" for k, v in results[name].items())
        print(f"{name}: {row}", flush=True)
    report = {
        "command": "python benchmarks/forecasting/intervals.py"
        + (" --smoke" if args.smoke else ""),
        "settings": {
            "ar": AR,
            "ma": MA,
            "n_series": args.n_series,
            "n_train": n_train,
            "n_origins": args.n_origins,
            "horizon": H,
            "levels": LEVELS,
            "neural": neural,
        },
        **environment(),
        "results": results,
    }
    write(report, "intervals_smoke.json" if args.smoke else "intervals.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
