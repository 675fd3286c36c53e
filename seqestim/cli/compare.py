"""``seqestim compare DATASET``: neural forecasters against ARIMA baselines, cross-validated.

The main job of the command line: rolling-origin cross-validation (``TimeSeriesSplit`` with a
test window of one seasonal period) of the ARMA cell and GRU forecasters against a textbook
ARIMA, an AutoARIMA and the seasonal-naive forecaster, on one of the shipped series. It prints
the mean error table (MASE first, the comparison's headline) and writes a PNG plot of every
model's forecasts against the truth plus the per-fold table as CSV.

The model set and the per-dataset settings live here (:data:`DATASETS`,
:func:`make_forecasters`) so that ``benchmarks/forecasting/`` runs exactly the comparison the
command prints.

Transformations: airline and lynx are modelled on the log scale by **every** model (their
variance grows with the level); forecasts are mapped back with ``exp`` and all errors are
measured on the original scale (:class:`seqestim.compose.LogTransformed`). On the monthly
series the ARMA cell, a linear ARMA predictor like ARIMA, gets the seasonal difference
``(1 - B^12)`` that the textbook ARIMA builds in (:class:`seqestim.compose.Differenced`); the GRU
works on the levels (measured on airline: worse with the differencing, MASE 1.48 against 1.19).
"""

from __future__ import annotations

import dataclasses
import pathlib
import time

from seqestim.cli._common import CLIError
from seqestim.compose import Differenced, LogTransformed

__all__ = [
    "DATASETS",
    "DatasetSpec",
    "add_parser",
    "make_forecasters",
    "run",
]


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """How one shipped series is compared.

    ``sp`` is the seasonal (or cycle) period used by the seasonal-naive forecaster and the
    test window; ``mase_sp`` the period of the MASE scale (the calendar season for monthly
    data, 1 for annual data, whose ~10-year cycles are not exact); ``arima`` the textbook
    ``(order, seasonal_order)`` with its source; ``log`` whether every model works on the log.
    """

    loader: str
    sp: int
    mase_sp: int
    log: bool
    arima: tuple
    arima_source: str
    arma_cell: dict
    arma_cell_lags: tuple
    window_length: int
    epoch_scale: float = 1.0


DATASETS = {
    "airline": DatasetSpec(
        "load_airline",
        sp=12,
        mase_sp=12,
        log=True,
        arima=((0, 1, 1), (0, 1, 1, 12)),
        arima_source="the airline model, Box & Jenkins (1976), on log passengers",
        arma_cell={"p": 13, "q": 1, "window_length": 24},
        arma_cell_lags=(12,),
        window_length=36,
    ),
    "co2": DatasetSpec(
        "load_co2",
        sp=12,
        mase_sp=12,
        log=False,
        arima=((0, 1, 1), (0, 1, 1, 12)),
        arima_source="the airline model, as fitted to monthly CO2 by Cryer & Chan (2008, ch. 10)",
        arma_cell={"p": 13, "q": 1, "window_length": 24},
        arma_cell_lags=(12,),
        window_length=36,
        epoch_scale=0.3,  # 3.5x airline's windows: fewer passes keep the run short
    ),
    "lynx": DatasetSpec(
        "load_lynx",
        sp=10,
        mase_sp=1,
        log=True,
        arima=((2, 0, 0), (0, 0, 0, 0)),
        arima_source="AR(2) on log lynx, Moran (1953)",
        arma_cell={"p": 11, "q": 1, "window_length": 30},
        arma_cell_lags=(),
        window_length=30,
    ),
    "sunspots": DatasetSpec(
        "load_sunspots",
        sp=11,
        mase_sp=1,
        log=False,
        arima=((2, 0, 0), (0, 0, 0, 0)),
        arima_source="AR(2), Yule (1927); Box & Jenkins series E",
        arma_cell={"p": 11, "q": 1, "window_length": 33},
        arma_cell_lags=(),
        window_length=33,
        epoch_scale=0.5,  # twice lynx's windows
    ),
}


def load_series(name: str):
    """The series of :data:`DATASETS` ``name`` (a ``pd.Series`` with a PeriodIndex)."""
    from seqestim.datasets import forecasting

    return getattr(forecasting, DATASETS[name].loader)()


def make_forecasters(
    name: str,
    *,
    epochs: int = 100,
    seed: int = 0,
    autoarima: bool = True,
    models: tuple[str, ...] | None = None,
) -> dict:
    """The compared forecasters for dataset ``name``, unfitted, by display name.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    epochs : int, default=100
        ``max_epochs`` of the neural forecasters on the short series (airline, lynx); the
        longer ones scale it down (``DatasetSpec.epoch_scale``: co2 0.3, sunspots 0.5) so
        that every dataset gets a similar number of gradient steps.
    seed : int, default=0
        ``random_state`` of the neural forecasters.
    autoarima : bool, default=True
        Include AutoARIMA (the slowest model: a stepwise order search per fold).
    models : tuple of str, optional
        Keep only these display names.

    Returns
    -------
    forecasters : dict of str -> forecaster
    """
    from seqestim import ARMACellForecaster, GRUForecaster
    from seqestim.baselines import ARIMAForecaster, AutoARIMAForecaster, NaiveForecaster

    spec = DATASETS[name]
    h = spec.sp
    epochs = max(1, round(epochs * spec.epoch_scale))
    neural = {"max_epochs": epochs, "lr": 0.01, "batch_size": 32, "random_state": seed}
    order, seasonal_order = spec.arima
    forecasters = {
        "ARMACell": ARMACellForecaster(**spec.arma_cell, **neural),
        "GRU": GRUForecaster(d_model=16, window_length=spec.window_length, horizon=h, **neural),
        "ARIMA": ARIMAForecaster(order=order, seasonal_order=seasonal_order),
        "SeasonalNaive": NaiveForecaster(strategy="seasonal_last", sp=spec.sp),
    }
    if spec.arma_cell_lags:  # a linear ARMA predictor needs the seasonal difference, as ARIMA
        forecasters["ARMACell"] = Differenced(forecasters["ARMACell"], lags=spec.arma_cell_lags)
    if autoarima:
        # restricted search (the full one is slow on 2 cores): stepwise, orders <= 2
        forecasters["AutoARIMA"] = AutoARIMAForecaster(
            max_p=2, max_q=2, max_P=1, max_Q=1, max_order=4, sp=spec.mase_sp
        )
    if models is not None:
        unknown = sorted(set(models) - set(forecasters))
        if unknown:
            raise ValueError(f"Unknown models {unknown}; choose from {sorted(forecasters)}.")
        forecasters = {k: v for k, v in forecasters.items() if k in models}
    if spec.log:
        forecasters = {k: LogTransformed(v) for k, v in forecasters.items()}
    return forecasters


def compare(
    name: str,
    *,
    folds: int = 3,
    epochs: int = 100,
    seed: int = 0,
    autoarima: bool = True,
    models=None,
):
    """Cross-validate :func:`make_forecasters` on dataset ``name``.

    Returns
    -------
    results : pd.DataFrame
        Per model and fold, as :func:`seqestim.model_selection.compare_forecasters`.
    forecasts : dict
        Per model, one forecast per fold.
    y : pd.Series
        The series.
    """
    from sklearn.model_selection import TimeSeriesSplit

    from seqestim.model_selection import compare_forecasters

    spec = DATASETS[name]
    y = load_series(name)
    cv = TimeSeriesSplit(n_splits=folds, test_size=spec.sp)
    estimators = make_forecasters(
        name, epochs=epochs, seed=seed, autoarima=autoarima, models=models
    )
    results, forecasts = compare_forecasters(
        estimators, y, cv=cv, sp=spec.mase_sp, return_forecasts=True
    )
    return results, forecasts, y


def summary_table(results):
    """Mean over folds per model, best MASE first."""
    columns = ["mase", "mae", "rmse", "smape", "fit_time"]
    table = results.groupby("model")[columns].mean().sort_values("mase")
    return table


# --------------------------------------------------------------------------------- CLI
def add_parser(subparsers) -> None:
    """Declare ``seqestim compare`` on an ``argparse`` subparsers object."""
    parser = subparsers.add_parser(
        "compare",
        help="cross-validate ARMA cell and GRU forecasters against ARIMA baselines",
        description=(
            "Rolling-origin cross-validation of ARMACellForecaster and GRUForecaster against "
            "a textbook ARIMA, AutoARIMA and seasonal naive on a shipped series; prints the "
            "mean error table and writes a PNG plot and a CSV of every fold."
        ),
    )
    parser.add_argument(
        "dataset",
        nargs="?",
        default="airline",
        choices=sorted(DATASETS),
        help="series to compare on (default: airline)",
    )
    parser.add_argument(
        "--folds", type=int, default=3, help="rolling origins, one season each (default: 3)"
    )
    parser.add_argument(
        "--epochs", type=int, default=100, help="max_epochs of the neural models (default: 100)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random_state (default: 0)")
    parser.add_argument(
        "--no-autoarima", action="store_true", help="skip AutoARIMA (the slowest model)"
    )
    parser.add_argument(
        "--output-dir",
        default="seqestim_output",
        help="where the PNG plot and CSV go (default: seqestim_output/)",
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    """Run ``seqestim compare`` for parsed ``args``; returns the exit status."""
    if args.folds < 2 or args.epochs < 1:
        raise CLIError("--folds must be >= 2 and --epochs >= 1.")
    start = time.perf_counter()
    results, forecasts, y = compare(
        args.dataset,
        folds=args.folds,
        epochs=args.epochs,
        seed=args.seed,
        autoarima=not args.no_autoarima,
    )
    table = summary_table(results)
    spec = DATASETS[args.dataset]
    print(
        f"{args.dataset}: {len(y)} observations, {args.folds} rolling origins x {spec.sp} steps "
        f"ahead; MASE scaled by the seasonal-naive error with period {spec.mase_sp}"
        + ("; every model works on the log scale" if spec.log else "")
    )
    print(f"ARIMA = {spec.arima[0]}x{spec.arima[1]}: {spec.arima_source}")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))

    output = pathlib.Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    csv_path = output / f"compare_{args.dataset}.csv"
    results.to_csv(csv_path, index=False)
    png_path = output / f"compare_{args.dataset}.png"
    _plot(y, forecasts, args.dataset, png_path)
    elapsed = time.perf_counter() - start
    print(f"wrote {png_path} and {csv_path} ({elapsed:.0f} s)")
    return 0


def _plot(y, forecasts, name, path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only; no display needed
    import matplotlib.pyplot as plt

    from seqestim.model_selection import plot_forecasts

    first = min(piece.index[0] for pieces in forecasts.values() for piece in pieces)
    start = max(0, y.index.get_loc(first) - 3 * DATASETS[name].sp)  # some context before
    fig, ax = plt.subplots(figsize=(10, 4.5))
    plot_forecasts(y.iloc[start:], forecasts, ax=ax, title=f"{name}: rolling-origin forecasts")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
