"""``seqestim compare`` called in-process with tiny settings, and the target wrappers it uses."""

import argparse

import numpy as np
import pandas as pd
import pytest

from seqestim.baselines import ARIMAForecaster, NaiveForecaster
from seqestim.cli import compare as _cli_compare
from seqestim.compose import Differenced, LogTransformed


def _parse(argv):
    parser = argparse.ArgumentParser(prog="seqestim")
    _cli_compare.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["compare", *argv])


def test_defaults():
    args = _parse([])
    assert args.dataset == "airline" and args.output_dir == "seqestim_output"
    assert args.func is _cli_compare.run
    with pytest.raises(SystemExit):
        _parse(["no-such-dataset"])


def test_compare_prints_the_table_and_writes_the_plot(tmp_path, capsys):
    args = _parse(["lynx", "--folds", "2", "--epochs", "2", "--output-dir", str(tmp_path)])
    assert _cli_compare.run(args) == 0
    out = capsys.readouterr().out
    for name in ("ARMACell", "GRU", "ARIMA", "AutoARIMA", "SeasonalNaive", "mase"):
        assert name in out
    png = tmp_path / "compare_lynx.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = pd.read_csv(tmp_path / "compare_lynx.csv")
    assert len(results) == 5 * 2 and np.isfinite(results["mase"]).all()


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
