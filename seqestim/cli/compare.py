"""``seqestim compare [DATASET | FILE.csv]``: neural forecasters against ARIMA baselines.

The main job of the command line: rolling-origin cross-validation (``TimeSeriesSplit`` with a
test window of one seasonal period) of the GRU, S5 and ARMA-cell forecasters against a
textbook ARIMA, an AutoARIMA (plus statsforecast's when it is installed) and the
seasonal-naive forecaster, on one of the shipped series or on the user's own CSV file. It
prints one progress line per model and fold (with an ETA), then the mean table (MASE first,
the comparison's headline, with the coverage and scaled interval score of the 90% intervals),
and writes a PNG of every model's forecasts and intervals against the truth plus the per-fold
table as CSV.

The model set and the per-dataset settings live here (:data:`DATASETS`,
:func:`make_forecasters`) so that ``benchmarks/forecasting/`` runs exactly the comparison the
command prints. The GRU and S5 forecasters run with their defaults; the per-dataset settings
are only the window they read and the horizon (one period).

Transformations: airline and lynx are modelled on the log scale by **every** model (their
variance grows with the level); forecasts are mapped back with ``exp`` and all errors are
measured on the original scale (:class:`seqestim.compose.LogTransformed`). On the monthly
series the ARMA cell, a linear ARMA predictor like ARIMA, gets the seasonal difference
``(1 - B^12)`` that the textbook ARIMA builds in (:class:`seqestim.compose.Differenced`).
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
    "compare",
    "load_csv",
    "make_forecasters",
    "run",
    "user_spec",
]


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """How one series is compared.

    ``sp`` is the seasonal (or cycle) period used by the seasonal-naive forecaster and the
    test window (the horizon); ``mase_sp`` the period of the MASE scale (the calendar season for
    monthly data, 1 for annual data, whose ~10-year cycles are not exact); ``arima`` the
    textbook ``(order, seasonal_order)`` with its source (None for the user's data); ``log``
    whether every model works on the log; ``window_length`` what the neural forecasters read.
    """

    loader: str | None
    sp: int
    mase_sp: int
    log: bool
    arima: tuple | None
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

#: The display names of the compared models, in the order of the table's columns.
MODELS = (
    "GRU",
    "S5",
    "ARMACell",
    "ARIMA",
    "AutoARIMA",
    "StatsForecastAutoARIMA",
    "SeasonalNaive",
)


def user_spec(season: int, *, log: bool = False, n_obs: int | None = None) -> DatasetSpec:
    """Settings for the user's own series with period ``season`` (no textbook ARIMA).

    The neural forecasters read three periods (at least 12 steps, at most a third of the
    series); the ARMA cell gets ``p = season + 1`` and, for a seasonal series, the seasonal
    difference.
    """
    window = max(12, 3 * season)
    if n_obs is not None:
        window = max(2, min(window, n_obs // 3))
    return DatasetSpec(
        None,
        sp=season,
        mase_sp=season,
        log=log,
        arima=None,
        arima_source="",
        arma_cell={"p": min(season + 1, window), "q": 1, "window_length": window},
        arma_cell_lags=(season,) if season > 1 else (),
        window_length=window,
    )


def load_series(name: str):
    """The series of :data:`DATASETS` ``name`` (a ``pd.Series`` with a PeriodIndex)."""
    from seqestim.datasets import forecasting

    return getattr(forecasting, DATASETS[name].loader)()


def load_csv(path, *, column: str | None = None, time_column: str | None = None):
    """One series from a CSV file, with clear errors for anything else.

    Parameters
    ----------
    path : path-like
        A CSV file with a header row.
    column : str, optional
        The column to forecast; may be omitted when the file has one numeric column (besides
        ``time_column``).
    time_column : str, optional
        A column of dates (or periods) that becomes the index; without it the rows are taken in
        file order and positions index them.

    Returns
    -------
    y : pd.Series
        Float values, oldest first, with a DatetimeIndex (its frequency inferred) when
        ``time_column`` is given.
    """
    import pandas as pd

    path = pathlib.Path(path)
    if not path.is_file():
        raise CLIError(f"{path}: no such file.")
    try:
        frame = pd.read_csv(path)
    except (ValueError, OSError, UnicodeDecodeError) as error:
        raise CLIError(f"could not read {path} as CSV: {error}") from None
    if time_column is not None:
        if time_column not in frame.columns:
            raise CLIError(
                f"--time-column {time_column!r} is not a column of {path.name}; its columns: "
                f"{list(frame.columns)}."
            )
        try:
            times = pd.to_datetime(frame[time_column])
        except (ValueError, TypeError) as error:
            raise CLIError(f"--time-column {time_column!r} does not hold dates: {error}") from None
        frame = frame.drop(columns=time_column).set_index(pd.DatetimeIndex(times))
        frame = frame.sort_index()
        if frame.index.has_duplicates:
            raise CLIError(f"--time-column {time_column!r} has repeated dates.")
        freq = pd.infer_freq(frame.index) if len(frame) >= 3 else None
        if freq is not None:
            frame = frame.asfreq(freq)
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    if column is None:
        if len(numeric) != 1:
            raise CLIError(
                f"{path.name} has {len(numeric)} numeric columns {numeric}; choose one with "
                "--column."
            )
        column = numeric[0]
    if column not in frame.columns:
        raise CLIError(
            f"--column {column!r} is not a column of {path.name}: {list(frame.columns)}."
        )
    if column not in numeric:
        raise CLIError(f"--column {column!r} is not numeric.")
    y = frame[column].astype(float)
    missing = int(y.isna().sum())
    if missing:
        raise CLIError(
            f"--column {column!r} has {missing} missing value(s) (or dates missing from a regular "
            "calendar); fill them before comparing forecasters."
        )
    return y


def make_forecasters(
    name: str | DatasetSpec,
    *,
    epochs: int | None = None,
    seed: int = 0,
    autoarima: bool = True,
    models: tuple[str, ...] | None = None,
) -> dict:
    """The compared forecasters for a dataset, unfitted, by display name.

    Parameters
    ----------
    name : str or DatasetSpec
        A key of :data:`DATASETS`, or the settings of the user's series (:func:`user_spec`).
    epochs : int, optional
        ``max_epochs`` of every neural forecaster. By default the GRU and S5 forecasters keep
        their own defaults, and the ARMA cell trains 100 epochs on the short series (airline,
        lynx), scaled down on the longer ones (``DatasetSpec.epoch_scale``: co2 0.3, sunspots
        0.5) so that every dataset gets a similar number of gradient steps.
    seed : int, default=0
        ``random_state`` of the neural forecasters.
    autoarima : bool, default=True
        Include AutoARIMA (the slowest model: a stepwise order search per fold), and
        statsforecast's AutoARIMA when that package is installed.
    models : tuple of str, optional
        Keep only these display names.

    Returns
    -------
    forecasters : dict of str -> forecaster
    """
    from seqestim import ARMACellForecaster, GRUForecaster, S5Forecaster
    from seqestim.baselines import (
        ARIMAForecaster,
        AutoARIMAForecaster,
        NaiveForecaster,
        StatsForecastAutoARIMA,
    )

    spec = DATASETS[name] if isinstance(name, str) else name
    h = spec.sp
    window = {"window_length": spec.window_length, "horizon": h, "random_state": seed}
    if epochs is not None:
        window["max_epochs"] = epochs
    cell_epochs = epochs if epochs is not None else max(1, round(100 * spec.epoch_scale))
    cell = {"max_epochs": cell_epochs, "lr": 0.01, "batch_size": 32, "random_state": seed}
    forecasters = {
        "GRU": GRUForecaster(**window),
        "S5": S5Forecaster(**window),
        "ARMACell": ARMACellForecaster(**spec.arma_cell, **cell),
    }
    if spec.arma_cell_lags:  # a linear ARMA predictor needs the seasonal difference, as ARIMA
        forecasters["ARMACell"] = Differenced(forecasters["ARMACell"], lags=spec.arma_cell_lags)
    if spec.arima is not None:
        order, seasonal_order = spec.arima
        forecasters["ARIMA"] = ARIMAForecaster(order=order, seasonal_order=seasonal_order)
    if autoarima:
        # restricted search (the full one is slow on 2 cores): stepwise, orders <= 2
        forecasters["AutoARIMA"] = AutoARIMAForecaster(
            max_p=2, max_q=2, max_P=1, max_Q=1, max_order=4, sp=spec.mase_sp
        )
        if _has_statsforecast():
            forecasters["StatsForecastAutoARIMA"] = StatsForecastAutoARIMA(sp=spec.mase_sp)
    forecasters["SeasonalNaive"] = NaiveForecaster(strategy="seasonal_last", sp=spec.sp)
    if models is not None:
        unknown = sorted(set(models) - set(forecasters))
        if unknown:
            raise ValueError(f"Unknown models {unknown}; choose from {sorted(forecasters)}.")
        forecasters = {k: v for k, v in forecasters.items() if k in models}
    if spec.log:
        forecasters = {k: LogTransformed(v) for k, v in forecasters.items()}
    return forecasters


def _has_statsforecast() -> bool:
    import importlib.util

    return importlib.util.find_spec("statsforecast") is not None


def compare(
    name: str | DatasetSpec,
    *,
    y=None,
    folds: int = 3,
    epochs: int | None = None,
    seed: int = 0,
    autoarima: bool = True,
    models=None,
    verbose: int = 0,
):
    """Cross-validate :func:`make_forecasters` on a dataset.

    Parameters
    ----------
    name : str or DatasetSpec
        A key of :data:`DATASETS`, or the settings of the user's series (then pass ``y``).
    y : pd.Series, optional
        The user's series; a shipped dataset is loaded by name.
    folds, epochs, seed, autoarima, models
        See :func:`make_forecasters`; ``folds`` rolling origins of one period each.
    verbose : int, default=0
        1 prints a line per model and fold with an ETA (``compare_forecasters``).

    Returns
    -------
    results : pd.DataFrame
        Per model and fold, as :func:`seqestim.model_selection.compare_forecasters`.
    forecasts : dict
        Per model, one forecast per fold.
    y : pd.Series
        The series.
    intervals : dict
        Per model, the 90% prediction intervals of every fold (None where it gives none).
    """
    from sklearn.model_selection import TimeSeriesSplit

    from seqestim.model_selection import compare_forecasters

    spec = DATASETS[name] if isinstance(name, str) else name
    if y is None:
        y = load_series(name)
    cv = TimeSeriesSplit(n_splits=folds, test_size=spec.sp)
    estimators = make_forecasters(
        spec, epochs=epochs, seed=seed, autoarima=autoarima, models=models
    )
    results, forecasts, intervals = compare_forecasters(
        estimators,
        y,
        cv=cv,
        sp=spec.mase_sp,
        verbose=verbose,
        return_forecasts=True,
        return_intervals=True,
    )
    return results, forecasts, y, intervals


def summary_table(results):
    """Mean over folds per model, best MASE first; coverage and MSIS of the 90% intervals."""
    columns = ["mase", "mae", "rmse", "smape", "coverage", "msis", "fit_time"]
    return results.groupby("model")[columns].mean().sort_values("mase")


# --------------------------------------------------------------------------------- CLI
def add_parser(subparsers) -> None:
    """Declare ``seqestim compare`` on an ``argparse`` subparsers object."""
    parser = subparsers.add_parser(
        "compare",
        help="cross-validate neural forecasters against ARIMA baselines",
        description=(
            "Rolling-origin cross-validation of GRUForecaster, S5Forecaster and "
            "ARMACellForecaster against a textbook ARIMA, AutoARIMA and seasonal naive, on a "
            "shipped series or your own CSV file; prints progress and the mean error table "
            "(with the coverage of 90%% intervals) and writes a PNG plot and a CSV of every "
            "fold."
        ),
    )
    parser.add_argument(
        "dataset",
        nargs="?",
        default="airline",
        help=f"a shipped series ({', '.join(sorted(DATASETS))}; default: airline) or a CSV file",
    )
    parser.add_argument("--column", help="CSV: the column to forecast")
    parser.add_argument("--time-column", help="CSV: a column of dates that indexes the rows")
    parser.add_argument(
        "--season",
        type=int,
        help="CSV: seasonal period (12 for monthly data); also the forecast horizon (default 1)",
    )
    parser.add_argument("--log", action="store_true", help="CSV: model the log of the series")
    parser.add_argument(
        "--folds", type=int, default=3, help="rolling origins, one season each (default: 3)"
    )
    parser.add_argument(
        "--epochs",
        type=int,
        help="max_epochs of every neural model (default: each estimator's own default)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random_state (default: 0)")
    parser.add_argument(
        "--no-autoarima", action="store_true", help="skip AutoARIMA (the slowest model)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument(
        "--output-dir",
        default="seqestim_output",
        help="where the PNG plot and CSV go (default: seqestim_output/)",
    )
    parser.set_defaults(func=run)


def _resolve(args):
    """``(label, spec, y)`` for a shipped dataset name or a CSV file."""
    if args.dataset in DATASETS:
        if args.column or args.time_column or args.season or args.log:
            raise CLIError(
                "--column, --time-column, --season and --log are for CSV files; the shipped "
                f"dataset {args.dataset!r} has its own settings."
            )
        return args.dataset, DATASETS[args.dataset], None
    if not args.dataset.lower().endswith(".csv") and not pathlib.Path(args.dataset).is_file():
        raise CLIError(
            f"unknown dataset {args.dataset!r}: choose one of {sorted(DATASETS)} or give a CSV "
            "file."
        )
    y = load_csv(args.dataset, column=args.column, time_column=args.time_column)
    season = 1 if args.season is None else args.season
    if season < 1:
        raise CLIError("--season must be >= 1.")
    if args.log and (y <= 0).any():
        raise CLIError("--log needs a positive series; the column has values <= 0.")
    spec = user_spec(season if season > 1 else 1, log=args.log, n_obs=len(y))
    if season == 1:  # a non-seasonal series: forecast and test 6 steps ahead
        spec = dataclasses.replace(spec, sp=6, mase_sp=1, arma_cell_lags=())
    needed = (args.folds + 1) * spec.sp + spec.window_length
    if len(y) < needed:
        raise CLIError(
            f"{pathlib.Path(args.dataset).name} has {len(y)} observations; {args.folds} folds of "
            f"{spec.sp} steps after a first training window need at least {needed}. Use fewer "
            "--folds or a shorter --season."
        )
    label = pathlib.Path(args.dataset).stem
    return label, spec, y


def run(args) -> int:
    """Run ``seqestim compare`` for parsed ``args``; returns the exit status."""
    if args.folds < 2 or (args.epochs is not None and args.epochs < 1):
        raise CLIError("--folds must be >= 2 and --epochs >= 1.")
    label, spec, y = _resolve(args)
    start = time.perf_counter()
    results, forecasts, y, intervals = compare(
        label if spec.loader else spec,
        y=y,
        folds=args.folds,
        epochs=args.epochs,
        seed=args.seed,
        autoarima=not args.no_autoarima,
        verbose=0 if args.quiet else 1,
    )
    table = summary_table(results)
    print(
        f"{label}: {len(y)} observations, {args.folds} rolling origins x {spec.sp} steps "
        f"ahead; MASE scaled by the seasonal-naive error with period {spec.mase_sp}"
        + ("; every model works on the log scale" if spec.log else "")
    )
    if spec.arima is not None:
        print(f"ARIMA = {spec.arima[0]}x{spec.arima[1]}: {spec.arima_source}")
    print("coverage and msis: of the 90% prediction intervals (blank: point forecasts only)")
    print(table.to_string(float_format=lambda v: f"{v:.3f}", na_rep=""))
    failed = results[results["error"].notna()]
    if len(failed):
        print(f"{len(failed)} fit(s) failed; the error column of the CSV says why")

    output = pathlib.Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    csv_path = output / f"compare_{label}.csv"
    results.to_csv(csv_path, index=False)
    png_path = output / f"compare_{label}.png"
    _plot(y, forecasts, intervals, label, spec.sp, png_path)
    elapsed = time.perf_counter() - start
    print(f"wrote {png_path} and {csv_path} ({elapsed:.0f} s)")
    return 0


def _plot(y, forecasts, intervals, name, period, path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only; no display needed
    import matplotlib.pyplot as plt

    from seqestim.model_selection import plot_forecasts

    pieces = [p for ps in forecasts.values() for p in ps if p is not None]
    first = min((p.index[0] for p in pieces), default=y.index[0])
    start = max(0, y.index.get_loc(first) - 3 * period)  # some context before
    fig, ax = plt.subplots(figsize=(10, 4.5))
    plot_forecasts(
        y.iloc[start:],
        forecasts,
        intervals=intervals,
        ax=ax,
        title=f"{name}: rolling-origin forecasts and 90% intervals",
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
