"""Grid search on a Dask cluster: wall time on one worker vs two, same 16 configurations.

sklearn's ``GridSearchCV`` runs through ``joblib.parallel_backend("dask")`` against a
``dask.distributed.LocalCluster`` of one and then two single-threaded worker processes; the
cross-validation scores of both runs must be equal (they are checked), so only the wall time
may differ. The ratio (1 worker / 2 workers) is what the machine's spare cores allow: 2.0 at
best on two free cores.

Usage::

    python benchmarks/scaling/grid_search_workers.py          # 16 configurations x 2 folds
    python benchmarks/scaling/grid_search_workers.py --smoke  # 2 configurations, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import joblib
import numpy as np
from distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from seqestim import GRUClassifier
from seqestim.datasets import make_xor_sequences

HERE = Path(__file__).resolve().parent


def _search(grid, max_epochs):
    cv = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    estimator = GRUClassifier(max_epochs=max_epochs, random_state=0)
    return GridSearchCV(estimator, grid, cv=cv, n_jobs=-1)


def run(n_workers, grid, X, y, max_epochs, processes=True):
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
        ) as cluster,
        Client(cluster),
    ):
        search = _search(grid, max_epochs)
        start = time.perf_counter()
        with joblib.parallel_backend("dask"):
            search.fit(X, y)
        return time.perf_counter() - start, search.cv_results_["mean_test_score"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--max-epochs", type=int, default=10)
    args = parser.parse_args(argv)
    if args.smoke:
        grid = {"d_model": [8], "lr": [1e-2, 3e-3]}
        X, y = make_xor_sequences(n_samples=32, seq_len=8, random_state=0)
        max_epochs = 1
    else:
        grid = {"d_model": [8, 16, 32, 64], "lr": [3e-2, 1e-2, 3e-3, 1e-3]}  # 16 configurations
        X, y = make_xor_sequences(n_samples=512, seq_len=32, random_state=0)
        max_epochs = args.max_epochs
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    times, scores = {}, {}
    for n_workers in (1, 2):
        # the smoke run uses thread workers: starting worker processes takes most of a minute
        # on a loaded machine, and the smoke run only checks that the script works
        times[n_workers], scores[n_workers] = run(
            n_workers, grid, X, y, max_epochs, processes=not args.smoke
        )
        print(f"{n_workers} worker(s): {times[n_workers]:.1f} s", flush=True)
    np.testing.assert_array_equal(scores[1], scores[2])  # the same search, only faster
    result = {
        "configurations": int(np.prod([len(v) for v in grid.values()])),
        "folds": 2,
        "max_epochs": max_epochs,
        "n_samples": len(X),
        "seconds": {str(k): round(v, 2) for k, v in times.items()},
        "speedup_two_workers": round(times[1] / times[2], 2),
        "scores_equal": True,
        "load_average_at_end": os.getloadavg()[0],
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    name = "grid_search_workers_smoke.json" if args.smoke else "grid_search_workers.json"
    (HERE / "results" / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
