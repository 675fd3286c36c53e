"""The ARMA cell paper's simulation study: ARMA cell vs AutoARIMA / VARMA vs GRU, LSTM, RNN.

Schiele, Berninger & Rügamer (2022), section "Simulation study" (official code:
github.com/phschiele/armacell_paper, ``simulations/``). Eight processes of ``n = 1000`` steps:

- univariate: ARMA(2, 1) ``y_t = 0.1 y_{t-1} + 0.3 y_{t-2} + ε_t - 0.4 ε_{t-1}``, σ = 2;
  TAR (AR coefficient 0.9 when ``|y_{t-1}| <= 1``, else -0.3); SGN ``y_t = sign(y_{t-1}) + ε_t``;
  NAR ``y_t = 0.7 |y_{t-1}| / (|y_{t-1}| + 2) + ε_t``; heteroskedastic MA
  ``y_t = ε_t - 0.4 ε_{t-1} + 0.3 ε_{t-2} + 0.5 ε_{t-1} ε_{t-2}``;
- bivariate: VARMA(1, 1) with ``A = [[0.1, -0.2], [-0.2, 0.1]]``,
  ``M = [[-0.4, 0.2], [0.2, -0.4]]``; SQ ``x_t = 0.6 x_{t-1} + e_t``, ``y_t = x_t² + ε_t``;
  EXP, the same with ``y_t = exp(x_t) + ε_t``.

Protocol, as in the paper's code: the first 70 % of the series train (of which the first 70 %
fit the networks and the last 30 % validate them), the last 30 % test; every network reads
windows of 10 steps and forecasts the next one; Adam (1e-3), batches of 50, at most 100 epochs
with early stopping on the validation loss (patience 10, best weights kept); the classical model
is auto-ARIMA per series (univariate) and VARMA(1, 1) (bivariate); the score is the one-step
test MSE over every test step, in the units of the data.

Deviations, all for the CPU budget or for fairness, none in the models' favour:

- hyperparameters are chosen on the validation set from a small fixed grid instead of Keras
  Tuner's 25 random trials: ARMA cell linear ``p = q ∈ {1, 2, 3, 4}`` (the paper's "shallow"
  cell without its parallel non-linear branch, which seqestim has no estimator for); deep ARMA
  cell (two ReLU layers, the paper's "DeepARMA") ``p = q ∈ {1, 2, 4}`` x ``units ∈ {1, 2}``;
  GRU, LSTM and RNN with ``{2, 5}`` units x ``{1, 2}`` layers (the paper: 1-5 units,
  shallow/deep; ReLU activations, where seqestim's cells keep tanh);
- network inputs and targets are standardised with training statistics (the paper does so in
  its benchmarks, not its simulations); MSEs are reported in the original units;
- every test step gets a forecast: windows reach back into the training part, where the paper
  fills the first 10 test forecasts of the networks with zeros, and auto-ARIMA and VARMA filter
  the whole series with their fitted parameters instead of restarting at the test set;
- TAR switches on ``|y_{t-1}|``; the paper's code tests the not-yet-simulated ``y_t`` (always
  0), which makes its TAR a plain AR(1) with coefficient 0.9;
- fewer repetitions (``--repetitions``, seeds 0, 1, ...) than the paper.

Run::

    python benchmarks/arma_cell/simulation.py --repetitions 3
    python benchmarks/arma_cell/simulation.py --smoke
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback

from seqestim import ARMACellRegressor, GRURegressor, LSTMRegressor, RNNRegressor
from seqestim.baselines import AutoARIMAForecaster, VARMAForecaster
from seqestim.datasets.forecasting import make_arma_process, make_varma_process

RESULTS = Path(__file__).parent / "results"
WINDOW = 10
UNIVARIATE = ("ARMA(2,1)", "TAR", "SGN", "NAR", "HetMA")
BIVARIATE = ("VARMA(1,1)", "SQ", "EXP")


# ------------------------------------------------------------------------------- processes
def simulate(name: str, n: int, seed: int) -> np.ndarray:
    """One series ``(n, k)`` of the named process."""
    rng = np.random.default_rng(seed)
    if name == "ARMA(2,1)":
        return make_arma_process([0.1, 0.3], [-0.4], n, sigma=2.0, random_state=seed)[:, None]
    if name == "VARMA(1,1)":
        A = np.array([[0.1, -0.2], [-0.2, 0.1]])
        M = np.array([[-0.4, 0.2], [0.2, -0.4]])
        return make_varma_process(A, M, n, random_state=seed)
    eps = rng.standard_normal(n)
    y = np.zeros(n)
    if name == "TAR":
        for t in range(1, n):
            coefficient = 0.9 if abs(y[t - 1]) <= 1 else -0.3
            y[t] = coefficient * y[t - 1] + eps[t]
    elif name == "SGN":
        for t in range(1, n):
            y[t] = np.sign(y[t - 1]) + eps[t]
    elif name == "NAR":
        for t in range(1, n):
            y[t] = 0.7 * abs(y[t - 1]) / (abs(y[t - 1]) + 2.0) + eps[t]
    elif name == "HetMA":
        y[0] = eps[0]
        y[1] = eps[1] - 0.4 * eps[0]
        y[2:] = eps[2:] - 0.4 * eps[1:-1] + 0.3 * eps[:-2] + 0.5 * eps[1:-1] * eps[:-2]
    elif name in ("SQ", "EXP"):
        e = rng.standard_normal(n)
        x = np.zeros(n)
        x[0] = e[0]
        for t in range(1, n):
            x[t] = 0.6 * x[t - 1] + e[t]
        y = (x**2 if name == "SQ" else np.exp(x)) + eps
        y[0] = eps[0]
        return np.stack([x, y], axis=1)
    else:
        raise ValueError(f"unknown process {name!r}")
    return y[:, None]


# ----------------------------------------------------------------------------- networks
def windows(series: np.ndarray, targets: range):
    """Inputs ``(len(targets), k, WINDOW)`` of the WINDOW steps before each target index."""
    X = np.stack([series[t - WINDOW : t].T for t in targets]).astype(np.float32)
    return X, series[list(targets)]


class ValidationEarlyStopping(Callback):
    """Early stopping on a chronological validation set, keeping the best weights.

    ``y_val`` must be in the units the network is trained in (the regressor standardises its
    targets with their training mean and standard deviation; the caller applies the same).
    """

    def __init__(self, X_val, y_val, patience=10):
        self.X_val = X_val
        self.y_val = y_val
        self.patience = patience

    def initialize(self):
        """Reset the record at the start of training."""
        self.best_, self.best_epoch_, self.best_state_ = np.inf, 0, None
        return self

    def on_epoch_end(self, net, **kwargs):
        """Evaluate after the epoch."""
        module = net.module_
        module.eval()
        with torch.no_grad():
            x = torch.from_numpy(np.ascontiguousarray(self.X_val.transpose(0, 2, 1)))
            prediction = module(x).numpy().reshape(self.y_val.shape)
        module.train()
        loss = float(np.mean((prediction - self.y_val) ** 2))
        epoch = len(net.history)
        net.history.record("val_mse", loss)
        if loss < self.best_:
            self.best_, self.best_epoch_ = loss, epoch
            self.best_state_ = {k: v.detach().clone() for k, v in module.state_dict().items()}
        elif epoch - self.best_epoch_ >= self.patience:
            raise KeyboardInterrupt  # skorch ends training cleanly

    def on_train_end(self, net, **kwargs):
        """Act once training has ended."""
        if self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)


def network_grid(k: int, smoke: bool) -> dict[str, list[tuple[str, object]]]:
    """Model family -> [(configuration label, unfitted regressor)]."""
    common = {
        "optimizer": "adam",
        "lr": 1e-3,
        "batch_size": 50,
        "max_epochs": 2 if smoke else 100,
        "random_state": 0,
        "scaling": None,  # inputs are standardised here; the callback feeds them as they are
    }
    orders = (1, 2) if smoke else (1, 2, 3, 4)
    grid = {
        "ARMA cell": [(f"p=q={o}", ARMACellRegressor(p=o, q=o, **common)) for o in orders],
        "deep ARMA cell": [
            (
                f"p=q={o}, units={u}",
                ARMACellRegressor(p=o, q=o, units=u, n_layers=2, activation="relu", **common),
            )
            for o in ((1,) if smoke else (1, 2, 4))
            for u in (1, 2)
        ],
    }
    for name, cls in (("GRU", GRURegressor), ("LSTM", LSTMRegressor), ("RNN", RNNRegressor)):
        grid[name] = [
            (f"{d} units x {layers} layer(s)", cls(d_model=d, n_layers=layers, **common))
            for d in ((2,) if smoke else (2, 5))
            for layers in (1, 2)
        ]
    return grid


def fit_networks(series, split, split_nn, n, smoke):
    """Each family's validation-selected configuration and its test forecasts (scaled units)."""
    X_tr, y_tr = windows(series, range(WINDOW, split_nn))
    X_va, y_va = windows(series, range(split_nn, split))
    X_te, _ = windows(series, range(split, n))
    mean, scale = y_tr.mean(axis=0), y_tr.std(axis=0)  # what the regressor standardises with
    out = {}
    for family, configurations in network_grid(series.shape[1], smoke).items():
        best = None
        for label, est in configurations:
            stopper = ValidationEarlyStopping(X_va, (y_va - mean) / scale)
            est.set_params(callbacks=[("validation", stopper)])
            start = time.perf_counter()
            target = y_tr if series.shape[1] > 1 else y_tr[:, 0]
            est.fit(X_tr, target)
            seconds = time.perf_counter() - start
            val_mse = float(np.mean((est.predict(X_va).reshape(y_va.shape) - y_va) ** 2))
            epochs = len(est.history_)
            row = {"config": label, "val_mse": val_mse, "epochs": epochs, "seconds": seconds}
            if best is None or val_mse < best[0]["val_mse"]:
                best = (row, est.predict(X_te).reshape(-1, series.shape[1]))
        out[family] = best
    return out


# ---------------------------------------------------------------------------- classical
def classical_forecasts(series, split, n):
    """One-step forecasts of the test steps from auto-ARIMA (per series) and VARMA(1, 1)."""
    out = {}
    train, test = series[:split], series[split:]
    per_series = []
    orders = []
    for j in range(series.shape[1]):
        model = AutoARIMAForecaster().fit(train[:, j])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            extended = model.model_.append(test[:, j])
        per_series.append(np.asarray(extended.predict(start=split, end=n - 1)))
        orders.append(model.order_)
    out["auto-ARIMA"] = ({"config": f"orders {orders}"}, np.stack(per_series, axis=1))
    if series.shape[1] > 1:
        model = VARMAForecaster(order=(1, 1), maxiter=200).fit(train)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            extended = model.model_.append(test)
        forecast = np.asarray(extended.predict(start=split, end=n - 1)).reshape(-1, 2)
        out["VARMA(1,1)"] = ({"config": "order (1, 1)"}, forecast)
    return out


# ------------------------------------------------------------------------------------ main
def run_one(name, seed, n, smoke):
    series_raw = simulate(name, n, seed)
    split = int(0.7 * n)
    split_nn = int(0.7 * split)
    mean, scale = series_raw[:split].mean(axis=0), series_raw[:split].std(axis=0)
    series = (series_raw - mean) / scale
    test_raw = series_raw[split:]
    rows = []
    results = {**classical_forecasts(series_raw, split, n)}
    for family, (info, forecast) in fit_networks(series, split, split_nn, n, smoke).items():
        results[family] = (info, forecast * scale + mean)  # back to the units of the data
    results["training mean"] = ({"config": ""}, np.tile(mean, (n - split, 1)))
    for family, (info, forecast) in results.items():
        mse = float(np.mean((forecast - test_raw) ** 2))
        rows.append({"process": name, "seed": seed, "model": family, "test_mse": mse, **info})
        print(f"{name:11s} seed {seed} {family:15s} test MSE {mse:.4f}  {info}", flush=True)
    return rows


def summarize(rows) -> str:
    models = list(dict.fromkeys(r["model"] for r in rows))
    processes = list(dict.fromkeys(r["process"] for r in rows))
    lines = ["| model | " + " | ".join(processes) + " |", "|" + "---|" * (len(processes) + 1)]
    for model in models:
        cells = []
        for process in processes:
            values = [
                r["test_mse"] for r in rows if r["model"] == model and r["process"] == process
            ]
            if not values:
                cells.append("—")
                continue
            best = min(
                np.mean(
                    [r["test_mse"] for r in rows if r["model"] == m and r["process"] == process]
                )
                for m in models
                if any(r["model"] == m and r["process"] == process for r in rows)
            )
            mean = float(np.mean(values))
            text = f"{mean:.3f} ± {np.std(values):.3f}"
            cells.append(f"**{text}**" if mean == best else text)
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--processes", nargs="*", default=list(UNIVARIATE + BIVARIATE))
    parser.add_argument("--tag", default="")
    parser.add_argument("--summarize", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.summarize:
        rows = []
        for path in sorted(RESULTS.glob("simulation*.json")):
            if "smoke" not in path.name:
                rows += json.loads(path.read_text())["rows"]
        print(summarize(rows))
        return None
    if args.smoke:
        args.repetitions, args.n, args.processes = 1, 200, ["ARMA(2,1)", "SQ"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "simulation_smoke" if args.smoke else f"simulation{args.tag}"
    out = RESULTS / f"{name}.json"
    result = {
        "experiment": "arma_cell_simulation_study",
        "settings": vars(args),
        "machine": {"platform": platform.platform(), "torch": torch.__version__},
        "rows": [],
        "complete": False,
    }
    for seed in range(args.first_seed, args.first_seed + args.repetitions):
        for process in args.processes:
            result["rows"] += run_one(process, seed, args.n, args.smoke)
            out.write_text(json.dumps(result, indent=1))
    result["complete"] = True
    out.write_text(json.dumps(result, indent=1))
    print(summarize(result["rows"]))
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
