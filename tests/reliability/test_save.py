"""``save`` never loses what a user has: foreign files, the previous save, or index metadata."""

import datetime
import os
import stat

import numpy as np
import pandas as pd
import pytest

import seqestim
from seqestim.estimators import _persistence
from seqestim.persistence import LoadError
from tests.reliability.conftest import panel, series, tiny_classifier, tiny_forecaster


@pytest.fixture(scope="module")
def two_classifiers():
    X, y = panel()
    return tiny_classifier().fit(X, y), tiny_classifier(random_state=1).fit(X, y), X


def _entries(directory):
    return sorted(p.name for p in directory.iterdir())


def test_overwrite_keeps_files_seqestim_did_not_write(two_classifiers, tmp_path):
    first, second, X = two_classifiers
    path = first.save(tmp_path / "model")
    (path / "data.csv").write_text("precious")
    (path / "notes").mkdir()
    (path / "notes" / "a.txt").write_text("also precious")
    second.save(path, overwrite=True)
    assert (path / "data.csv").read_text() == "precious"
    assert (path / "notes" / "a.txt").read_text() == "also precious"
    assert _entries(path) == ["data.csv", "estimator.json", "model.safetensors", "notes"]
    np.testing.assert_array_equal(seqestim.load(path).predict_proba(X), second.predict_proba(X))


@pytest.mark.parametrize(
    "marker",
    ['{"format": "something-else"}', "not json at all", '["seqestim-estimator"]'],
)
def test_overwrite_refuses_a_directory_without_the_format_marker(two_classifiers, tmp_path, marker):
    first, _, _ = two_classifiers
    path = tmp_path / "theirs"
    path.mkdir()
    (path / "estimator.json").write_text(marker)
    (path / "model.safetensors").write_bytes(b"their weights")
    with pytest.raises(FileExistsError, match="not a saved seqestim"):
        first.save(path, overwrite=True)
    assert (path / "estimator.json").read_text() == marker
    assert (path / "model.safetensors").read_bytes() == b"their weights"


def test_save_into_an_empty_directory(two_classifiers, tmp_path):
    first, _, X = two_classifiers
    (tmp_path / "empty").mkdir()
    first.save(tmp_path / "empty")
    np.testing.assert_array_equal(seqestim.load(tmp_path / "empty").predict(X), first.predict(X))


@pytest.mark.parametrize("failing_call", [1, 2])
def test_a_failure_while_swapping_keeps_the_previous_save(
    two_classifiers, tmp_path, monkeypatch, failing_call
):
    first, second, X = two_classifiers
    path = first.save(tmp_path / "model")
    (path / "data.csv").write_text("precious")
    before = {name: (path / name).read_bytes() for name in _entries(path)}
    calls = []
    real_replace = os.replace

    def flaky_replace(src, dst):
        calls.append(dst)
        if len(calls) == failing_call:  # 1: the weights, 2: estimator.json (the commit)
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(_persistence.os, "replace", flaky_replace)
    with pytest.raises(OSError, match="disk full"):
        second.save(path, overwrite=True)
    monkeypatch.undo()
    assert {name: (path / name).read_bytes() for name in _entries(path)} == before
    np.testing.assert_array_equal(seqestim.load(path).predict_proba(X), first.predict_proba(X))


def test_a_failed_first_save_leaves_nothing(two_classifiers, tmp_path, monkeypatch):
    first, _, _ = two_classifiers

    def failing_rename(src, dst):
        raise OSError("rename refused")

    monkeypatch.setattr(_persistence.os, "rename", failing_rename)
    with pytest.raises(OSError, match="rename refused"):
        first.save(tmp_path / "model")
    assert _entries(tmp_path) == []  # no half-written directory, no temporary left behind


def test_interrupted_swap_is_detected_not_loaded(two_classifiers, tmp_path):
    # a crash between the two renames leaves the new weights beside the old estimator.json
    first, second, _ = two_classifiers
    path = first.save(tmp_path / "model")
    other = second.save(tmp_path / "other")
    (path / "model.safetensors").write_bytes((other / "model.safetensors").read_bytes())
    with pytest.raises(LoadError, match="interrupted"):
        seqestim.load(path)


def test_saved_files_are_private_whatever_the_umask(two_classifiers, tmp_path):
    first, second, _ = two_classifiers
    previous = os.umask(0)  # the most permissive umask
    try:
        path = first.save(tmp_path / "model")
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [path, *path.iterdir()]}
        assert modes == {"model": 0o700, "estimator.json": 0o600, "model.safetensors": 0o600}
        second.save(path, overwrite=True)
        assert {stat.S_IMODE(p.stat().st_mode) for p in path.iterdir()} == {0o600}
    finally:
        os.umask(previous)


def _index_cases():
    berlin = pd.date_range("2021-03-20", periods=60, freq="h", tz="Europe/Berlin", name="when")
    fixed = pd.date_range(
        "2021-01-01", periods=60, freq="15min", tz=datetime.timezone(datetime.timedelta(hours=5))
    )
    return {
        "daily": pd.date_range("2020-01-01", periods=60, freq="D"),
        "month-start": pd.date_range("2015-01-01", periods=60, freq="MS"),
        "business-day": pd.date_range("2020-01-01", periods=60, freq="B"),
        "weekly": pd.date_range("2020-01-05", periods=60, freq="W-SUN"),
        "hourly-berlin-dst": berlin,
        "fixed-offset": fixed,
        "seconds-unit": pd.date_range("2020-01-01", periods=60, freq="s", unit="s"),
        "no-freq-inferable": pd.DatetimeIndex(pd.date_range("2020-01-01", periods=60, freq="D")),
        "quarterly-period": pd.period_range("2000Q1", periods=60, freq="Q", name="quarter"),
        "range-step-2": pd.RangeIndex(10, 130, 2, name="t"),
        "integer-step-5": pd.Index(np.arange(60) * 5 + 3),
    }


@pytest.mark.parametrize("kind", sorted(_index_cases()))
def test_forecasters_on_any_sktime_index_save_and_load(kind, tmp_path):
    index = _index_cases()[kind]
    if kind == "no-freq-inferable":
        index = pd.DatetimeIndex(list(index))  # freq None, inferred at fit
    y = series(index=index)
    forecaster = tiny_forecaster().fit(y)
    expected = forecaster.predict(fh=5)
    loaded = seqestim.load(forecaster.save(tmp_path / kind))
    got = loaded.predict(fh=5)
    pd.testing.assert_series_equal(got, expected)
    assert getattr(got.index, "freq", None) == getattr(expected.index, "freq", None)
    assert loaded.cutoff_ == forecaster.cutoff_


def test_dataframe_forecaster_with_named_columns_round_trips(tmp_path):
    index = pd.date_range("2020-01-01", periods=60, freq="D", name="day")
    y = pd.DataFrame({"a": series(index=index).to_numpy(), "b": np.arange(60.0)}, index=index)
    forecaster = tiny_forecaster().fit(y)
    loaded = seqestim.load(forecaster.save(tmp_path / "frame"))
    pd.testing.assert_frame_equal(loaded.predict(fh=3), forecaster.predict(fh=3))


def test_unsaveable_state_is_refused_before_writing(tmp_path):
    holidays = pd.offsets.CustomBusinessDay(holidays=["2020-01-06"])
    y = series(index=pd.date_range("2020-01-01", periods=60, freq=holidays))
    forecaster = tiny_forecaster().fit(y)
    with pytest.raises(ValueError, match="cannot be saved"):
        forecaster.save(tmp_path / "m")
    assert _entries(tmp_path) == []


def test_attributes_outside_the_declared_fitted_state_are_refused(two_classifiers, tmp_path):
    first, _, X = two_classifiers
    clf = tiny_classifier().fit(X, first.predict(X))
    clf.my_note = "a user's attribute"
    with pytest.raises(ValueError, match="my_note"):
        clf.save(tmp_path / "m")
    assert _entries(tmp_path) == []
