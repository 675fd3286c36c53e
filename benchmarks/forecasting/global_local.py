"""One global GRU over many short series against one model per series.

Many short series share their dynamics: each is an ARMA(2, 1) process with the same
coefficients (``make_arma_process``, different seeds), its own level and scale, and a length
drawn from 30 to 60. Every series' last ``horizon`` observations are held out. Compared, on the
same held-out steps:

- **global GRU**: one ``GRUForecaster`` fitted on all training parts at once (a list of
  series; per-series scaling);
- **local GRU**: one ``GRUForecaster`` per series, same parameters;
- **local AutoARIMA**: ``AutoARIMAForecaster`` per series (our statsmodels search), and
  statsforecast's ``AutoARIMA`` per series when it is installed;
- **naive**: the last value, the yardstick of the MASE.

Reported: mean MASE over series (scale: the in-sample one-step naive error of each series),
mean 90% interval coverage, and the total fit time of each approach, all in one run.

Usage::

    python benchmarks/forecasting/global_local.py            # 120 series (a few minutes)
    python benchmarks/forecasting/global_local.py --smoke    # seconds
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
import warnings

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))  # _forecasting_common

RESULTS = pathlib.Path(__file__).resolve().parent / "results"

AR, MA = [0.5, 0.3], [0.4]  # shared by every series: stationary, invertible


def make_series(n_series: int, seed: int):
    """Short ARMA(2, 1) series with shared coefficients, their own level, scale and length."""
    import numpy as np

    from seqestim.datasets import make_arma_process

    rng = np.random.RandomState(seed)
    series = []
    for i in range(n_series):
        n = int(rng.randint(30, 61))
        level, scale = rng.uniform(-50, 50), rng.uniform(0.5, 5.0)
        x = make_arma_process(ar=AR, ma=MA, n_samples=n, random_state=seed * 10_000 + i)
        series.append(level + scale * x)
    return series


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run (seconds)")
    parser.add_argument("--n-series", type=int, default=120)
    parser.add_argument("--horizon", type=int, default=6)
    parser.add_argument("--window-length", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.smoke:
        args.n_series = 6

    import numpy as np
    from _forecasting_common import environment, write

    from seqestim import GRUForecaster
    from seqestim.baselines import AutoARIMAForecaster, NaiveForecaster, StatsForecastAutoARIMA
    from seqestim.model_selection import empirical_coverage, mean_absolute_scaled_error

    H, W = args.horizon, args.window_length
    series = make_series(args.n_series, args.seed)
    train = [y[:-H] for y in series]
    test = [y[-H:] for y in series]
    params = {"window_length": W, "horizon": H, "random_state": args.seed}
    if args.smoke:
        params["max_epochs"] = 2

    def score(predictions, intervals=None):
        mase = [
            mean_absolute_scaled_error(t, p, y)
            for t, p, y in zip(test, predictions, train, strict=True)
        ]
        row = {"mase": float(np.mean(mase)), "mase_median": float(np.median(mase))}
        if intervals is not None:
            row["coverage"] = float(
                np.mean(
                    [
                        empirical_coverage(t, i[:, 0], i[:, 1])
                        for t, i in zip(test, intervals, strict=True)
                    ]
                )
            )
        return row

    results = {}

    start = time.perf_counter()
    global_model = GRUForecaster(**params).fit(train)
    fit_time = time.perf_counter() - start
    predictions = global_model.predict(fh=H)
    intervals = [i.to_numpy() for i in global_model.predict_interval(fh=H, coverage=0.9)]
    results["global GRU"] = {**score(predictions, intervals), "fit_time_s": fit_time}
    print(f"global GRU: {results['global GRU']}", flush=True)

    def local(name, make):
        predictions, intervals, failures = [], [], 0
        start = time.perf_counter()
        for y in train:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = make().fit(y)
                predictions.append(model.predict(fh=H))
                intervals.append(model.predict_interval(fh=H, coverage=0.9).to_numpy())
            except Exception:  # a failed local fit forecasts the last value, and is counted
                failures += 1
                fallback = NaiveForecaster().fit(y)
                predictions.append(fallback.predict(fh=H))
                intervals.append(fallback.predict_interval(fh=H, coverage=0.9).to_numpy())
        fit_time = time.perf_counter() - start
        results[name] = {
            **score(predictions, intervals),
            "fit_time_s": fit_time,
            "failed_fits": failures,
        }
        print(f"{name}: {results[name]}", flush=True)

    local("local GRU", lambda: GRUForecaster(**params))
    local("local AutoARIMA (ours)", lambda: AutoARIMAForecaster(max_p=2, max_q=2, sp=1))
    try:
        import statsforecast  # noqa: F401

        local("local AutoARIMA (statsforecast)", lambda: StatsForecastAutoARIMA(sp=1))
    except ImportError:
        pass
    local("naive (last value)", NaiveForecaster)

    report = {
        "command": "python benchmarks/forecasting/global_local.py"
        + (" --smoke" if args.smoke else ""),
        "settings": {
            "n_series": args.n_series,
            "lengths": "30-60",
            "ar": AR,
            "ma": MA,
            "horizon": H,
            "window_length": W,
            "seed": args.seed,
            "gru_params": params,
        },
        **environment(),
        "results": results,
    }
    write(report, "global_local_smoke.json" if args.smoke else "global_local.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
