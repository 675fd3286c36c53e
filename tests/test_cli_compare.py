"""``seqestim compare`` called in-process with tiny settings, and the target wrappers it uses."""

import argparse
import importlib.util

import numpy as np
import pandas as pd
import pytest

from seqestim.baselines import ARIMAForecaster, NaiveForecaster
from seqestim.cli import compare as _cli_compare
from seqestim.cli._common import CLIError
from seqestim.compose import Differenced, LogTransformed


def _parse(argv):
    parser = argparse.ArgumentParser(prog="seqestim")
    _cli_compare.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["compare", *argv])


def test_defaults():
    args = _parse([])
    assert args.dataset == "airline" and args.output_dir == "seqestim_output"
    assert args.func is _cli_compare.run and args.epochs is None
    with pytest.raises(CLIError, match="unknown dataset"):
        _cli_compare.run(_parse(["no-such-dataset"]))


def test_compare_prints_progress_the_table_and_writes_the_plot(tmp_path, capsys):
    args = _parse(["lynx", "--folds", "2", "--epochs", "2", "--output-dir", str(tmp_path)])
    assert _cli_compare.run(args) == 0
    captured = capsys.readouterr()
    names = ["GRU", "S5", "ARMACell", "ARIMA", "AutoARIMA", "SeasonalNaive"]
    if importlib.util.find_spec("statsforecast"):
        names.append("StatsForecastAutoARIMA")
    for name in [*names, "mase", "coverage", "msis"]:
        assert name in captured.out
    # one progress line per model and fold, with an ETA
    progress = [line for line in captured.err.splitlines() if line.startswith("[")]
    assert len(progress) == 2 * len(names) and "ETA" in progress[0]
    assert progress[-1].startswith(f"[{2 * len(names)}/{2 * len(names)}]")
    png = tmp_path / "compare_lynx.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = pd.read_csv(tmp_path / "compare_lynx.csv")
    assert len(results) == len(names) * 2 and np.isfinite(results["mase"]).all()
    assert results["error"].isna().all()
    # the models with intervals have a coverage, the point forecasters none
    coverage = results.groupby("model")["coverage"].mean()
    assert np.isfinite(coverage[["GRU", "S5", "ARIMA", "SeasonalNaive"]]).all()
    assert np.isnan(coverage["ARMACell"])


def _csv(tmp_path, n=90):
    t = np.arange(n)
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2015-01-01", periods=n, freq="MS").strftime("%Y-%m-%d"),
            "sales": 100 + 10 * np.sin(2 * np.pi * t / 12) + 0.5 * t,
            "store": "A",
            "price": 1.0 + 0.01 * t,
        }
    )
    path = tmp_path / "data.csv"
    frame.sample(frac=1.0, random_state=0).to_csv(path, index=False)  # any row order
    return path


def test_compare_reads_the_users_csv(tmp_path, capsys):
    path = _csv(tmp_path)
    argv = [str(path), "--column", "sales", "--time-column", "date", "--season", "12"]
    argv += ["--folds", "2", "--epochs", "1", "--no-autoarima", "--quiet"]
    args = _parse([*argv, "--output-dir", str(tmp_path / "out")])
    assert _cli_compare.run(args) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("data: 90 observations, 2 rolling origins x 12 steps")
    assert "ARIMA =" not in captured.out and captured.err == ""  # no textbook model; quiet
    results = pd.read_csv(tmp_path / "out" / "compare_data.csv")
    assert set(results["model"]) == {"GRU", "S5", "ARMACell", "SeasonalNaive"}
    assert results["error"].isna().all() and np.isfinite(results["mase"]).all()
    y = _cli_compare.load_csv(path, column="sales", time_column="date")
    assert y.index.freqstr == "MS" and y.index[0] == pd.Timestamp("2015-01-01")
    assert y.iloc[0] == pytest.approx(100.0)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--column", "nope"], "not a column"),
        (["--column", "store"], "not numeric"),
        ([], "2 numeric columns"),
        (["--column", "sales", "--time-column", "when"], "not a column"),
        (["--column", "sales", "--time-column", "store"], "does not hold dates"),
        (["--column", "sales", "--season", "40"], "need at least"),
    ],
)
def test_bad_csv_arguments_are_one_line_errors(tmp_path, argv, message):
    path = _csv(tmp_path)
    with pytest.raises(CLIError, match=message):
        _cli_compare.run(_parse([str(path), *argv, "--output-dir", str(tmp_path)]))


def test_csv_options_are_refused_for_a_shipped_dataset():
    with pytest.raises(CLIError, match="for CSV files"):
        _cli_compare.run(_parse(["airline", "--season", "12"]))
    with pytest.raises(CLIError, match="no such file"):
        _cli_compare.run(_parse(["missing.csv"]))


def test_log_and_difference_wrappers_invert_exactly():
    t = np.arange(60.0)
    y = pd.Series(np.exp(0.01 * t + np.sin(2 * np.pi * t / 12)))
    # seasonal naive on log(y) differenced twice reproduces a log-linear seasonal series exactly
    inner = Differenced(NaiveForecaster(strategy="seasonal_last", sp=12), lags=(1,))
    wrapped = LogTransformed(inner).fit(y[:48])
    np.testing.assert_allclose(wrapped.predict(fh=12).to_numpy(), y[48:].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(wrapped.predict(fh=[3, 1]).to_numpy(), y[[50, 48]].to_numpy())
    with pytest.raises(ValueError, match="positive"):
        LogTransformed(ARIMAForecaster()).fit(y - 5.0)
    # two lags: (1 - B)(1 - B^12) of a series that is linear plus a seasonal pattern is zero
    z = 0.5 * t + np.tile(np.arange(12.0), 5)
    mean_zero = Differenced(NaiveForecaster(strategy="mean"), lags=(1, 12))
    np.testing.assert_allclose(mean_zero.fit(z[:48]).predict(fh=12), z[48:], atol=1e-9)
