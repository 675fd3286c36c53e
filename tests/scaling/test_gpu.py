"""Every named estimator on a CUDA device (marked ``gpu``: skipped without one).

Run them with ``python -m pytest -m gpu`` on a machine with a GPU.
"""

import numpy as np
import pytest
import torch

import seqestim
from seqestim import GRUClassifier, TCNRegressor
from seqestim.estimators import named_estimators
from tests.reliability.conftest import small_named, task_data

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("cls", named_estimators(), ids=lambda c: c.__name__)
def test_fits_on_cuda_and_loads_on_the_cpu_with_the_same_predictions(cls, tmp_path):
    args, outputs = task_data(cls._task)
    estimator = small_named(cls, device="cuda").fit(*args)
    assert all(p.device.type == "cuda" for p in estimator.module_.parameters())
    on_cuda = np.asarray(outputs(estimator), dtype=float)
    assert np.isfinite(on_cuda).all()
    estimator.save(tmp_path / "model")
    loaded = seqestim.load(tmp_path / "model", device="cpu")
    assert all(p.device.type == "cpu" for p in loaded.module_.parameters())
    np.testing.assert_allclose(np.asarray(outputs(loaded), dtype=float), on_cuda, atol=1e-5)


@pytest.mark.parametrize("precision", ["16-mixed", "bf16-mixed"])
def test_mixed_precision_on_cuda(precision, panel_data):
    if precision == "bf16-mixed" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bfloat16")
    X, y = panel_data
    clf = GRUClassifier(max_epochs=3, device="cuda", precision=precision, random_state=0)
    clf.fit(X, y)
    assert all(p.dtype == torch.float32 for p in clf.module_.parameters())
    assert np.isfinite(clf.predict_proba(X)).all()


def test_seeded_cuda_fits_repeat_with_deterministic_algorithms(panel_data):
    # documented recipe: torch.use_deterministic_algorithms(True) and
    # CUBLAS_WORKSPACE_CONFIG=:4096:8 make two seeded CUDA fits equal
    import os

    X, _ = panel_data
    y = X[:, 0].sum(axis=1)
    if os.environ.get("CUBLAS_WORKSPACE_CONFIG") is None:
        pytest.skip("set CUBLAS_WORKSPACE_CONFIG=:4096:8 to run this check")
    torch.use_deterministic_algorithms(True)
    try:
        first = TCNRegressor(max_epochs=3, device="cuda", random_state=0).fit(X, y).predict(X)
        second = TCNRegressor(max_epochs=3, device="cuda", random_state=0).fit(X, y).predict(X)
    finally:
        torch.use_deterministic_algorithms(False)
    np.testing.assert_array_equal(first, second)
