import json

from seqestim.cli import main


def test_memory_limit_prints_the_table_the_limit_and_saves_the_plot(capsys, tmp_path):
    plot = tmp_path / "limit.png"
    argv = ["memory-limit", "--model", "gru", "--distances", "1", "6", "--length", "8",
            "--n-train", "200", "--n-test", "100", "--epochs", "15", "--d-model", "6",
            "--lr", "0.01", "--plot", str(plot)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "GRURegressor: random memorization, sequences of 8 steps" in out
    assert "MC_k" in out and "memory limit (r2 >= 0.9): " in out
    assert plot.stat().st_size > 1000


def test_memory_limit_json_with_symbols_uses_the_classifier(capsys):
    argv = ["memory-limit", "--model", "rnn", "--symbols", "3", "--distances", "0", "2",
            "--n-train", "60", "--n-test", "30", "--epochs", "1", "--json"]  # fmt: skip
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["estimator"] == "RNNClassifier" and result["metric"] == "accuracy"
    assert result["distances"] == [0, 2] and result["length"] == 12
    assert len(result["memory_capacity"]) == 2


def test_memory_limit_user_errors_exit_with_status_2(capsys):
    assert main(["memory-limit", "--model", "nope"]) == 2
    assert "unknown regressor model 'nope'" in capsys.readouterr().err
    assert main(["memory-limit", "--model", "gru", "--distances", "5", "--length", "5"]) == 2
    assert "distances must lie in" in capsys.readouterr().err
