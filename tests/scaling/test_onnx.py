"""ONNX export: onnxruntime reproduces predict_proba / predict from raw inputs."""

import numpy as np
import pytest

from seqestim.estimators import named_estimators
from seqestim.estimators._onnx import onnx_unsupported_reason
from tests._instances import small_instance

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

CLASSIFIERS = named_estimators("classifier")
REGRESSORS = named_estimators("regressor")


def _data(n_channels=2, length=20, n=24, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_channels, length)).astype(np.float32)
    y = (X[:, 0, :].mean(axis=1) > 0).astype(int)
    return X, y


def _run(path, X):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"X": X.astype(np.float32)})[0]


def _exportable(estimator) -> bool:
    return onnx_unsupported_reason(estimator.module_.backbone) is None


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_classifier_onnx_matches_predict_proba_at_other_batches_and_lengths(cls, tmp_path):
    X, y = _data()
    clf = small_instance(cls, max_epochs=2).fit(X, y)
    path = tmp_path / "model.onnx"
    if not _exportable(clf):
        with pytest.raises(NotImplementedError, match=r"cannot be exported to ONNX: .{20}"):
            clf.to_onnx(path)
        return
    clf.to_onnx(path)
    for n, length in [(1, 20), (5, 33), (3, 7)]:
        X_new, _ = _data(length=length, n=n, seed=length)
        np.testing.assert_allclose(_run(path, X_new), clf.predict_proba(X_new), atol=1e-4)


@pytest.mark.parametrize("cls", REGRESSORS, ids=lambda c: c.__name__)
def test_regressor_onnx_matches_predict_in_target_units(cls, tmp_path):
    X, _ = _data()
    y = 100.0 + 10.0 * X[:, 0, :].mean(axis=1)  # target scaling must be inside the graph
    reg = small_instance(cls, max_epochs=2).fit(X, y)
    path = tmp_path / "model.onnx"
    if not _exportable(reg):
        with pytest.raises(NotImplementedError, match="cannot be exported to ONNX"):
            reg.to_onnx(path)
        return
    reg.to_onnx(path)
    for n, length in [(4, 20), (2, 41)]:
        X_new, _ = _data(length=length, n=n, seed=length)
        expected = reg.predict(X_new)
        np.testing.assert_allclose(_run(path, X_new), expected, rtol=1e-4, atol=1e-3)


def test_a_2d_fit_exports_a_2d_input(tmp_path):
    from seqestim import TCNClassifier

    X, y = _data(n_channels=1)
    clf = TCNClassifier(max_epochs=2, random_state=0).fit(X[:, 0, :], y)
    clf.to_onnx(tmp_path / "m.onnx")
    X_new = _data(n_channels=1, length=20, n=3, seed=1)[0][:, 0, :]  # 2D: the length is fixed
    np.testing.assert_allclose(
        _run(tmp_path / "m.onnx", X_new), clf.predict_proba(X_new), atol=1e-4
    )


def test_tasks_without_an_export_say_so(tmp_path):
    from seqestim import TCNClassifier

    X, y = _data()
    clf = TCNClassifier(max_epochs=1, output="sequence", random_state=0)
    clf.fit(X, np.repeat(y[:, None], X.shape[-1], axis=1))
    with pytest.raises(NotImplementedError, match='output="sequence"'):
        clf.to_onnx(tmp_path / "m.onnx")


def test_at_least_the_convolutional_models_export():
    exportable = []
    for cls in CLASSIFIERS:
        X, y = _data()
        clf = small_instance(cls, max_epochs=1).fit(X, y)
        if _exportable(clf):
            exportable.append(cls.__name__)
    assert {"TCNClassifier", "DILClassifier"} <= set(exportable), exportable


@pytest.mark.parametrize("scaling", [None, "channel", "sequence"])
@pytest.mark.parametrize("model", ["TCNClassifier", "GRUClassifier"])  # traced, stepwise
def test_input_scaling_is_inside_the_graph(model, scaling, tmp_path):
    import seqestim

    X, y = _data()
    X = 50.0 + 8.0 * X  # far from standardised, so a missing scaling step shows
    clf = getattr(seqestim, model)(max_epochs=2, scaling=scaling, random_state=0).fit(X, y)
    clf.to_onnx(tmp_path / "m.onnx")
    X_new = 50.0 + 8.0 * _data(length=27, n=4, seed=3)[0]
    np.testing.assert_allclose(
        _run(tmp_path / "m.onnx", X_new), clf.predict_proba(X_new), atol=1e-4
    )
