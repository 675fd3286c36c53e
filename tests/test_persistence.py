"""save/load round trips, the allow-list, and refusal to clobber files."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import seqestim
from seqestim import GRUClassifier, LSTMRegressor
from seqestim.persistence import LoadError
from tests._instances import named_estimator_classes, small_instance


@pytest.mark.parametrize(
    "cls",
    named_estimator_classes("classifier") + named_estimator_classes("regressor"),
    ids=lambda c: c.__name__,
)
def test_round_trip_gives_identical_predictions(cls, panel_data, tmp_path):
    X, y = panel_data
    if cls._task == "regressor":
        y = X[:, 0].sum(axis=1)
    estimator = small_instance(cls, max_epochs=2).fit(X, y)
    estimator.save(tmp_path / "model")
    loaded = seqestim.load(tmp_path / "model")
    assert type(loaded) is cls and loaded.get_params() == estimator.get_params()
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))
    assert len(loaded.history_) == len(estimator.history_)


def test_round_trip_keeps_labels_feature_names_and_optimizer_class(tmp_path):
    import pandas as pd

    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(20, 5)), columns=list("abcde"))
    y = np.where(X["a"] > 0, "yes", "no")
    clf = GRUClassifier(d_model=4, max_epochs=1, optimizer=torch.optim.SGD).fit(X, y)
    clf.save(tmp_path / "m")
    loaded = seqestim.load(tmp_path / "m")
    assert list(loaded.classes_) == ["no", "yes"] and loaded.optimizer is torch.optim.SGD
    assert list(loaded.feature_names_in_) == list("abcde")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_load_refuses_classes_outside_the_allow_list(panel_data, tmp_path):
    X, y = panel_data
    GRUClassifier(d_model=4, max_epochs=1).fit(X, y).save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "estimator.json").read_text())
    for bad in ("os.system", "BaseSequenceEstimator", "NeuralNet", "subprocess.Popen"):
        config["class"] = bad
        (tmp_path / "m" / "estimator.json").write_text(json.dumps(config))
        with pytest.raises(ValueError, match="allow-list"):
            seqestim.load(tmp_path / "m")


def test_save_never_clobbers_foreign_files(panel_data, tmp_path):
    X, y = panel_data
    clf = GRUClassifier(d_model=4, max_epochs=1).fit(X, y)
    (tmp_path / "notes.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="not a saved seqestim"):
        clf.save(tmp_path / "notes.txt", overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "precious"
    clf.save(tmp_path / "m")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        clf.save(tmp_path / "m")
    clf.save(tmp_path / "m", overwrite=True)


def test_unfitted_cannot_be_saved(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        GRUClassifier().save(tmp_path / "m")


def test_cuda_saved_model_loads_on_cpu(panel_data, tmp_path):
    # simulate a file written on a GPU machine: device="cuda" in the parameters
    X, _ = panel_data
    y = X[:, 0].mean(axis=1)
    reg = LSTMRegressor(d_model=4, max_epochs=1, random_state=0).fit(X, y)
    reg.save(tmp_path / "m")
    config_path = tmp_path / "m" / "estimator.json"
    config = json.loads(config_path.read_text())
    config["params"]["device"] = "cuda"
    config_path.write_text(json.dumps(config))
    if not torch.cuda.is_available():
        loaded = seqestim.load(tmp_path / "m")
        assert loaded.device == "cpu"
        np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    weights = load_file(str(tmp_path / "m" / "model.safetensors"))
    assert all(t.device.type == "cpu" for t in weights.values())


@pytest.mark.gpu
def test_gpu_fit_saves_and_loads_on_cpu(panel_data, tmp_path):
    X, y = panel_data
    clf = GRUClassifier(d_model=4, max_epochs=1, device="cuda", random_state=0).fit(X, y)
    clf.save(tmp_path / "m")
    loaded = seqestim.load(tmp_path / "m", device="cpu")
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-5)


def test_tampered_weights_are_rejected(panel_data, tmp_path):
    X, y = panel_data
    GRUClassifier(d_model=4, max_epochs=1).fit(X, y).save(tmp_path / "m")
    path = str(tmp_path / "m" / "model.safetensors")
    weights = load_file(path)
    weights.pop(next(iter(weights)))
    save_file(weights, path)
    with pytest.raises(LoadError, match="Missing key"):
        seqestim.load(tmp_path / "m")
