"""Global forecasting: one network over many series, in and out in the user's layout."""

import numpy as np
import pandas as pd
import pytest

from seqestim import GRUForecaster
from seqestim.baselines import NaiveForecaster
from seqestim.datasets import make_arma_process


def _fast(**params):
    defaults = {"d_model": 8, "window_length": 10, "horizon": 3, "max_epochs": 2, "random_state": 0}
    return GRUForecaster(**{**defaults, **params})


def _ragged(n_series=4, seed=0):
    rng = np.random.RandomState(seed)
    lengths = [40, 25, 8, 33][:n_series]  # the third is shorter than window + horizon
    return [
        10.0 * (i + 1) + make_arma_process(ar=[0.6], n_samples=n, random_state=int(rng.randint(99)))
        for i, n in enumerate(lengths)
    ]


def _long(series, start="2021-01-01", freq="D", exog=False):
    rows = []
    for i, y in enumerate(series):
        ds = pd.date_range(start, periods=len(y), freq=freq) + pd.Timedelta(days=3 * i)
        frame = pd.DataFrame({"unique_id": f"id{i}", "ds": ds, "y": y})
        if exog:
            frame["promo"] = np.arange(len(y)) % 2
        rows.append(frame)
    return pd.concat(rows, ignore_index=True).sample(frac=1.0, random_state=0)  # any row order


def test_long_frame_in_long_frame_out():
    series = _ragged()
    df = _long(series)
    f = _fast().fit(df)
    assert sorted(f.series_ids_) == ["id0", "id1", "id2", "id3"]
    forecast = f.predict(fh=[1, 2, 5])
    assert list(forecast.columns) == ["unique_id", "ds", "y"]
    for i, y in enumerate(series):
        rows = forecast[forecast.unique_id == f"id{i}"]
        last = pd.Timestamp("2021-01-01") + pd.Timedelta(days=3 * i + len(y) - 1)
        expected = [last + pd.Timedelta(days=d) for d in (1, 2, 5)]
        assert rows["ds"].tolist() == expected
        assert f.cutoff_[f.series_ids_.index(f"id{i}")] == last
    assert np.isfinite(forecast["y"]).all()
    # the levels differ by series (10, 20, 30, 40): per-series scaling keeps them apart
    means = forecast.groupby("unique_id")["y"].mean()
    assert means["id0"] < means["id1"] < means["id2"] < means["id3"]
    intervals = f.predict_interval(fh=2, coverage=[0.5, 0.9])
    assert list(intervals.columns) == [
        "unique_id",
        "ds",
        "y_lower_0.5",
        "y_upper_0.5",
        "y_lower_0.9",
        "y_upper_0.9",
    ]
    assert (intervals["y_lower_0.9"] <= intervals["y_lower_0.5"]).all()
    quantiles = f.predict_quantiles(fh=2, alpha=[0.1, 0.5, 0.9])
    assert list(quantiles.columns[2:]) == ["y_q0.1", "y_q0.5", "y_q0.9"]
    np.testing.assert_allclose(
        quantiles.sort_values(["unique_id", "ds"])["y_q0.5"].to_numpy(),
        f.predict(fh=2).sort_values(["unique_id", "ds"])["y"].to_numpy(),
    )


def test_list_of_ragged_series_and_the_single_series_case():
    series = _ragged()
    pandas_series = [
        pd.Series(y, index=pd.period_range("2000-01", periods=len(y), freq="M")) for y in series
    ]
    pandas_series[1] = pd.Series(series[1], index=pd.RangeIndex(100, 100 + len(series[1])))
    f = _fast().fit(pandas_series)
    out = f.predict(fh=4)
    assert isinstance(out, list) and len(out) == 4
    assert out[0].index.equals(pd.period_range("2003-05", periods=4, freq="M"))
    assert out[1].index.tolist() == [125, 126, 127, 128]
    assert all(np.isfinite(o).all() for o in out)
    arrays = _fast().fit(series).predict(fh=4)
    assert [type(a) for a in arrays] == [np.ndarray] * 4 and arrays[2].shape == (4,)
    # one series in a list is exactly the single-series fit
    y = pd.Series(series[0], index=pd.period_range("2000-01", periods=40, freq="M"))
    alone = _fast().fit(y)
    listed = _fast().fit([y])
    pd.testing.assert_series_equal(listed.predict(fh=5)[0], alone.predict(fh=5))
    np.testing.assert_allclose(
        listed.predict_interval(fh=5)[0].to_numpy(), alone.predict_interval(fh=5).to_numpy()
    )


def test_multi_index_frames_keep_their_levels():
    series = _ragged(3)
    frames = []
    for i, y in enumerate(series):
        index = pd.MultiIndex.from_product(
            [["north"], [f"store{i}"], pd.period_range("2020-01", periods=len(y), freq="M")],
            names=["region", "store", "month"],
        )
        frames.append(pd.DataFrame({"sales": y}, index=index))
    y = pd.concat(frames)
    f = _fast().fit(y)
    forecast = f.predict(fh=2)
    assert forecast.index.names == ["region", "store", "month"]
    assert list(forecast.columns) == ["sales"]
    assert forecast.loc[("north", "store2")].index.astype(str).tolist() == ["2020-09", "2020-10"]
    q = f.predict_quantiles(fh=2, alpha=[0.25, 0.75])
    assert list(q.columns) == [("sales", 0.25), ("sales", 0.75)]
    assert q.index.equals(forecast.index)


def test_exogenous_columns_of_a_long_frame():
    series = _ragged(2)
    df = _long(series, exog=True)
    f = _fast().fit(df)
    assert f.n_exog_ == 1
    with pytest.raises(ValueError, match="exogenous"):
        f.predict(fh=2)
    future = []
    for i, y in enumerate(series):
        last = pd.Timestamp("2021-01-01") + pd.Timedelta(days=3 * i + len(y) - 1)
        ds = pd.date_range(last + pd.Timedelta(days=1), periods=3, freq="D")
        future.append(pd.DataFrame({"unique_id": f"id{i}", "ds": ds, "promo": [1, 0, 1]}))
    forecast = f.predict(fh=3, X=pd.concat(future))
    assert len(forecast) == 6 and np.isfinite(forecast["y"]).all()
    late = pd.concat(future).assign(ds=lambda d: d["ds"] + pd.Timedelta(days=1))
    with pytest.raises(ValueError, match="must start at the step after"):
        f.predict(fh=3, X=late)
    with pytest.raises(ValueError, match="pass X=None"):
        _fast().fit(df, X=np.zeros((len(df), 1)))


def test_global_models_save_and_load(tmp_path):
    import seqestim

    df = _long(_ragged())
    for y in (df, df.set_index(["unique_id", "ds"])):
        f = _fast().fit(y)
        f.save(tmp_path / "m", overwrite=True)
        loaded = seqestim.load(tmp_path / "m")
        pd.testing.assert_frame_equal(loaded.predict(fh=4), f.predict(fh=4))
        pd.testing.assert_frame_equal(loaded.predict_interval(fh=4), f.predict_interval(fh=4))


def test_baselines_fit_one_model_per_series():
    series = _ragged()
    df = _long(series)
    f = NaiveForecaster(strategy="mean").fit(df)
    forecast = f.predict(fh=2)
    for i, y in enumerate(series):
        values = forecast[forecast.unique_id == f"id{i}"]["y"].to_numpy()
        np.testing.assert_allclose(values, [y.mean()] * 2)
    intervals = f.predict_interval(fh=1)
    assert len(intervals) == 4


def test_clear_errors_for_malformed_collections():
    series = _ragged()
    with pytest.raises(ValueError, match="list of as many exogenous"):
        _fast().fit(series, X=np.zeros((40, 1)))
    with pytest.raises(ValueError, match="X\\[1\\] must have one row per observation"):
        _fast().fit(series, X=[np.zeros((len(y), 1)) for y in series[:1]] + [np.zeros((3, 1))] * 3)
    with pytest.raises(ValueError, match="same columns"):
        _fast().fit([np.zeros((30, 1)), np.zeros((30, 2))])
    with pytest.raises(ValueError, match="needs at least 4"):
        _fast().fit([series[0], np.arange(3.0)])  # shorter than horizon + 1
    df = _long(series)
    with pytest.raises(ValueError, match="duplicate"):
        _fast().fit(pd.concat([df, df.iloc[:1]]))
    with pytest.raises(ValueError, match="NaN"):
        _fast().fit([series[0], np.r_[series[1], np.nan]])
    with pytest.raises(ValueError, match="numeric"):
        _fast().fit({"a": series[0]})
    fitted = _fast().fit(series)
    with pytest.raises(ValueError, match="several series"):
        fitted.score(series[0])
