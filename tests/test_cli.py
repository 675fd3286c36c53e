import json

import pytest

from seqestim.cli import main
from seqestim.estimators import named_estimators
from seqestim.registry import list_models


def test_models_lists_every_registered_model(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in list_models():
        assert f"\n{name} " in "\n" + out
    assert "GRUClassifier" in out
    assert "arXiv:1412.3555" in out  # the GRU paper


def test_models_task_filter(capsys):
    assert main(["models", "--task", "classifier"]) == 0
    out = capsys.readouterr().out
    assert "ARMACellForecaster" not in out  # arma_cell is not a classifier
    assert "GRUClassifier" in out


def test_datasets(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "GunPoint" in out and "BasicMotions" in out


def test_classify_prints_accuracy_and_fit_time(capsys):
    argv = ["classify", "ItalyPowerDemand", "--model", "gru", "--epochs", "1", "--d-model", "4"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "GRUClassifier on ItalyPowerDemand" in out
    accuracy = float(out.split("test accuracy:")[1].split()[0])
    assert 0.0 <= accuracy <= 1.0
    assert float(out.split("fit time:")[1].split()[0]) > 0


def test_classify_json_passes_parameters(capsys):
    argv = [
        "classify", "italypowerdemand", "--model", "rnn", "--epochs", "2", "--d-model", "3",
        "--lr", "0.01", "--seed", "3", "--param", "pooling='mean'", "--json",
    ]  # fmt: skip
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["dataset"] == "ItalyPowerDemand"
    assert result["estimator"] == "RNNClassifier"
    assert result["epochs"] == 2
    assert result["n_test"] == 1029
    assert result["params"]["d_model"] == 3
    assert result["params"]["pooling"] == "mean"
    assert result["params"]["random_state"] == 3
    assert result["params"]["lr"] == 0.01


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["classify", "NoSuchSet", "--model", "gru"], "GunPoint"),  # lists the available sets
        (["classify", "GunPoint", "--model", "nosuchmodel"], "gru"),  # lists the models
        (["classify", "GunPoint", "--model", "gru", "--param", "nope=1"], "nope"),
        (["classify", "Tecator", "--model", "gru"], "regression"),
        (["classify", "GunPoint", "--model", "gru", "--epochs", "1", "--lr", "-1"], "lr"),
    ],
)
def test_user_errors_are_one_line_without_traceback(capsys, argv, message):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("seqestim: error:")
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_every_subcommand_is_wired(capsys):
    for command in ("models", "datasets", "classify", "compare"):
        assert main([command, "--help"]) == 0
        assert command in capsys.readouterr().out


def test_argparse_errors_return_status(capsys):
    assert main(["classify", "GunPoint"]) == 2  # --model is required
    assert "--model" in capsys.readouterr().err
    assert main([]) == 2
    assert main(["--version"]) == 0


def test_classify_labels_the_majority_rate_and_shows_progress(capsys):
    argv = ["classify", "ItalyPowerDemand", "--model", "gru", "--epochs", "2", "--d-model", "4"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    rate = float(captured.out.split("majority-class rate:")[1].split()[0])
    assert rate == pytest.approx(513 / 1029, abs=1e-4)  # class "1", the commoner in training
    assert "2/2" in captured.err  # the progress bar over epochs
    main([*argv, "--quiet"])
    assert "2/2" not in capsys.readouterr().err


def test_classify_all_prints_one_row_per_classifier(capsys):
    argv = ["classify", "ItalyPowerDemand", "--model", "all", "--epochs", "1", "--d-model", "4"]
    assert main([*argv, "--quiet"]) == 0
    out = capsys.readouterr().out
    models = sorted(cls._model_name() for cls in named_estimators("classifier"))
    rows = [line.split() for line in out.splitlines()[3:]]
    assert sorted(row[0] for row in rows) == models
    for row in rows:
        assert 0.0 <= float(row[2]) <= 1.0 and float(row[3]) > 0
    assert main([*argv, "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert sorted(r["model"] for r in results) == models
