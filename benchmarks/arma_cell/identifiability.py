"""How well is the ARMA cell paper's ARMA(2, 1) identified, and does it matter for forecasts.

The paper's ARMA(2, 1) (and its regression test) is ``y_t = 0.1 y_{t-1} + 0.3 y_{t-2} + ε_t
- 0.4 ε_{t-1}`` with ``σ = 2``. Its AR polynomial factors as ``1 - 0.1 B - 0.3 B² = (1 - 0.6 B)
(1 + 0.5 B)`` and its MA polynomial is ``1 - 0.4 B``: the factor ``1 - 0.6 B`` nearly cancels
``1 - 0.4 B``, so the process is close to an AR(1) with coefficient -0.5, and a whole curve of
(φ1, φ2, θ) forecasts almost equally well. This script measures that in three ways:

1. **Exact one-step error of any coefficient set.** The predictor with coefficients
   ``(φ̂, θ̂)`` leaves errors ``e = H(B) ε`` with ``H = Φ̂ Θ / (Θ̂ Φ)``, so its asymptotic
   one-step MSE is ``σ² Σ h_j²`` (``h`` the impulse response of ``H``), computed here exactly
   from the polynomials. The Hessian of that ratio at the truth gives the curvature of the
   least-squares problem in every direction (the Fisher information up to ``σ²``); its smallest
   eigenvalue and eigenvector name the weakly identified direction. A profile along φ1 shows
   how far the coefficients can move for a given loss in MSE.
2. **Estimates on simulated series** (25 000 training steps, as the paper's regression test, and
   6 000 steps, the setting in which a user first saw the cell disagree with statsmodels):
   statsmodels' maximum likelihood, ``ARMACellForecaster`` with the official test's protocol,
   and ``ARMACellForecaster(p=2, q=1)`` with its defaults.
3. **Held-out one-step MSE** of every estimate on a fresh series of 25 000 steps from the same
   process, next to the true coefficients.

Run::

    python benchmarks/arma_cell/identifiability.py            # ~30 min on a shared core
    python benchmarks/arma_cell/identifiability.py --smoke
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
from scipy.signal import lfilter

from seqestim import ARMACellForecaster
from seqestim.datasets.forecasting import make_arma_process

RESULTS = Path(__file__).parent / "results"
AR, MA, SIGMA = (0.1, 0.3), (-0.4,), 2.0


def impulse_response(numerator, denominator, n_terms: int = 4000) -> np.ndarray:
    """Coefficients of ``numerator(B) / denominator(B)`` (polynomials in B, constant first)."""
    impulse = np.zeros(n_terms)
    impulse[0] = 1.0
    return lfilter(numerator, denominator, impulse)


def mse_ratio(ar_hat, ma_hat, ar=AR, ma=MA) -> float:
    """Asymptotic one-step MSE of the predictor ``(ar_hat, ma_hat)`` divided by ``σ²``."""
    phi, theta = np.r_[1.0, -np.asarray(ar)], np.r_[1.0, np.asarray(ma)]
    phi_hat, theta_hat = np.r_[1.0, -np.asarray(ar_hat)], np.r_[1.0, np.asarray(ma_hat)]
    if np.any(np.abs(np.roots(theta_hat[::-1])) <= 1.0):
        return np.inf  # a non-invertible MA part: the error recursion explodes
    psi = impulse_response(theta, phi)  # y = Ψ(B) ε
    h = lfilter(phi_hat, theta_hat, psi)  # e = Φ̂/Θ̂ y
    return float(np.sum(h**2))


def hessian(f, x, step=1e-4) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            ei, ej = np.eye(n)[i] * step, np.eye(n)[j] * step
            H[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * step**2
            )
    return H


def profile_along_phi1(grid) -> list[dict]:
    """For each φ1, the (φ2, θ) that minimise the exact MSE ratio, and that minimum."""
    from scipy.optimize import minimize

    rows = []
    start = np.array([AR[1], MA[0]])
    for phi1 in grid:

        def objective(v, phi1=phi1):
            return mse_ratio([phi1, v[0]], [v[1]])

        best = minimize(objective, start, method="Nelder-Mead", options={"xatol": 1e-7})
        start = best.x
        rows.append(
            {
                "phi1": float(phi1),
                "phi2": float(best.x[0]),
                "theta": float(best.x[1]),
                "excess_mse_percent": 100 * (float(best.fun) - 1.0),
            }
        )
    return rows


def one_step_mse(y, ar, ma) -> float:
    """Empirical one-step MSE of the classical predictor over a series (zero start)."""
    errors = lfilter(np.r_[1.0, -np.asarray(ar)], np.r_[1.0, np.asarray(ma)], y)
    return float(np.mean(errors[50:] ** 2))


def fit_statsmodels(y):
    from statsmodels.tsa.arima.model import ARIMA

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = ARIMA(y, order=(2, 0, 1), trend="n").fit()
    return result.arparams, result.maparams


def fit_cell(y, protocol: str, epochs: int | None = None):
    if protocol == "official":  # the official regression test's training
        params = dict(window_length=10, max_epochs=100, batch_size=200, optimizer="adam", lr=1e-3)
        params["use_bias"] = False
    else:  # what an untuned user gets
        params = {}
    if epochs is not None:
        params["max_epochs"] = epochs
    f = ARMACellForecaster(p=2, q=1, random_state=0, **params).fit(y)
    return f.ar_coefficients_, f.ma_coefficients_, f.fit_time_


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    # 1. exact analysis
    x0 = np.array([AR[0], AR[1], MA[0]])
    H = hessian(lambda v: mse_ratio(v[:2], v[2:]), x0)
    eigenvalues, eigenvectors = np.linalg.eigh(H)
    grid = np.round(np.arange(-0.3, 0.51, 0.1), 2)
    analysis = {
        "ar_factors": [float(r) for r in 1 / np.roots(np.r_[1.0, -np.asarray(AR)][::-1])],
        "ma_factor": float(-MA[0]),
        "hessian_of_mse_ratio": H.tolist(),
        "hessian_eigenvalues": eigenvalues.tolist(),
        "weakest_direction": eigenvectors[:, 0].tolist(),
        "condition_number": float(eigenvalues[-1] / eigenvalues[0]),
        "profile_along_phi1": profile_along_phi1(grid if not args.smoke else grid[:2]),
    }
    print(json.dumps({k: v for k, v in analysis.items() if k != "profile_along_phi1"}, indent=1))
    for row in analysis["profile_along_phi1"]:
        print(row)

    # 2. and 3. estimates on simulated series, scored on a fresh series
    cases = []
    seeds = range(1 if args.smoke else args.seeds)
    for seed in seeds:
        held_out = make_arma_process(AR, MA, 25_000, sigma=SIGMA, random_state=10_000 + seed)
        truth_mse = one_step_mse(held_out, AR, MA)
        for n_train in (25_000, 6_000):
            n = 500 if args.smoke else n_train
            y = make_arma_process(AR, MA, n, sigma=SIGMA, random_state=seed)
            estimates = {"truth": (np.asarray(AR), np.asarray(MA), 0.0)}
            start = time.perf_counter()
            ar, ma = fit_statsmodels(y)
            estimates["statsmodels"] = (ar, ma, time.perf_counter() - start)
            epochs = 1 if args.smoke else None
            estimates["cell_official_protocol"] = fit_cell(y, "official", epochs)
            estimates["cell_defaults"] = fit_cell(y, "defaults", epochs)
            for name, (ar, ma, seconds) in estimates.items():
                row = {
                    "seed": seed,
                    "n_train": n,
                    "estimator": name,
                    "ar": np.round(np.asarray(ar, dtype=float), 4).tolist(),
                    "ma": np.round(np.asarray(ma, dtype=float), 4).tolist(),
                    "exact_mse_ratio": mse_ratio(ar, ma),
                    "held_out_mse": one_step_mse(held_out, ar, ma),
                    "held_out_mse_truth": truth_mse,
                    "fit_seconds": seconds,
                }
                cases.append(row)
                print(row, flush=True)

    result = {
        "experiment": "arma21_identifiability",
        "process": {"ar": AR, "ma": MA, "sigma": SIGMA},
        "analysis": analysis,
        "estimates": cases,
        "machine": {"platform": platform.platform(), "torch": torch.__version__},
        "smoke": args.smoke,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / ("identifiability_smoke.json" if args.smoke else "identifiability.json")
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
