"""Prediction latency: ONNX Runtime vs the estimator's own ``predict_proba`` (PyTorch).

For a GRU (exported as an ONNX ``Loop`` over steps) and a TCN and a CDIL (traced
convolutions), fitted briefly on random data: median time of ``predict_proba`` and of an ONNX
Runtime session on the same inputs, batch 1 and batch 256, length 128, 2 channels. Outputs are
checked to agree to 1e-4 before timing. ``predict_proba`` includes the estimator's input
checks and runs in float64 on the CPU (see ARCHITECTURE.md); the ONNX graph runs in float32.

Usage::

    python benchmarks/scaling/onnx_latency.py          # 20 repeats
    python benchmarks/scaling/onnx_latency.py --smoke  # tiny sizes, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from seqestim import CDILClassifier, GRUClassifier, TCNClassifier

HERE = Path(__file__).resolve().parent


def _median_time(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    length, batches, repeats = (16, (1, 8), 2) if args.smoke else (128, (1, 256), args.repeats)
    rng = np.random.default_rng(0)
    X_train = rng.normal(size=(64, 2, length)).astype(np.float32)
    y_train = (X_train[:, 0].mean(axis=1) > 0).astype(int)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    rows = []
    for cls in (GRUClassifier, TCNClassifier, CDILClassifier):
        clf = cls(max_epochs=1, random_state=0).fit(X_train, y_train)
        with tempfile.TemporaryDirectory() as tmp:
            path = clf.to_onnx(Path(tmp) / "model.onnx")
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        for batch in batches:
            X = rng.normal(size=(batch, 2, length)).astype(np.float32)
            np.testing.assert_allclose(
                session.run(None, {"X": X})[0], clf.predict_proba(X), atol=1e-4
            )
            torch_s = _median_time(lambda X=X, clf=clf: clf.predict_proba(X), repeats)
            onnx_s = _median_time(lambda X=X, s=session: s.run(None, {"X": X}), repeats)
            row = {
                "model": cls.__name__,
                "batch": batch,
                "length": length,
                "predict_proba_ms": round(1e3 * torch_s, 3),
                "onnxruntime_ms": round(1e3 * onnx_s, 3),
                "speedup": round(torch_s / onnx_s, 2),
            }
            rows.append(row)
            print(row, flush=True)
    result = {
        "rows": rows,
        "threads": 1,
        "load_average_at_end": os.getloadavg()[0],
        "onnxruntime": ort.__version__,
        "python": platform.python_version(),
    }
    name = "onnx_latency_smoke.json" if args.smoke else "onnx_latency.json"
    (HERE / "results" / name).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
