import numpy as np
import pandas as pd
import pytest

from seqestim.datasets.ucr import list_ucr_datasets, load_ucr


def test_list_contains_the_shipped_classification_sets():
    names = list_ucr_datasets()
    for name in ("GunPoint", "ItalyPowerDemand", "BasicMotions", "ArrowHead", "JapaneseVowels"):
        assert name in names
    classification = list_ucr_datasets("classification")
    regression = list_ucr_datasets("regression")
    assert "Tecator" in regression and "Tecator" not in classification
    assert set(classification) | set(regression) == set(names)
    assert not set(classification) & set(regression)
    with pytest.raises(ValueError, match="task"):
        list_ucr_datasets("forecasting")


def test_gunpoint_layout_and_splits():
    X_train, y_train = load_ucr("GunPoint", split="train")
    X_test, y_test = load_ucr("GunPoint", split="test")
    X_all, y_all = load_ucr("GunPoint")
    # the UCR archive's published split sizes and series length
    assert X_train.shape == (50, 1, 150)
    assert X_test.shape == (150, 1, 150)
    assert X_train.dtype == np.float64
    assert np.isfinite(X_train).all()
    assert sorted(np.unique(y_train)) == ["1", "2"]
    # split=None is train followed by test
    np.testing.assert_array_equal(X_all, np.concatenate([X_train, X_test]))
    np.testing.assert_array_equal(y_all, np.concatenate([y_train, y_test]))


def test_multivariate_is_channels_first():
    X, y = load_ucr("BasicMotions", split="train")
    assert X.shape == (40, 6, 100)  # 6 channels (accelerometer + gyroscope), 100 steps
    assert len(np.unique(y)) == 4
    # channels-first agrees with sktime's pd-multiindex columns
    df, _ = load_ucr("BasicMotions", split="train", return_type="pd-multiindex")
    first = df.xs(df.index.get_level_values(0)[0], level=0).to_numpy()  # (T, C)
    np.testing.assert_allclose(X[0], first.T)


def test_unequal_length_set_is_a_ragged_list():
    X, y = load_ucr("JapaneseVowels", split="train")
    assert isinstance(X, list) and len(X) == len(y) == 270
    assert all(x.ndim == 2 and x.shape[0] == 12 and x.dtype == np.float64 for x in X)
    lengths = {x.shape[1] for x in X}
    assert len(lengths) > 1


def test_bunch_and_case_insensitive_names():
    bunch = load_ucr("italypowerdemand", split="train", return_X_y=False)
    assert bunch.name == "ItalyPowerDemand"
    assert bunch.task == "classification"
    assert bunch.n_channels == 1 and bunch.equal_length
    assert bunch.data.shape == (67, 1, 24)
    np.testing.assert_array_equal(bunch.classes, np.unique(bunch.target))


def test_regression_targets_are_float():
    X, y = load_ucr("Tecator", split="test")
    assert y.dtype == np.float64
    assert X.shape[0] == y.shape[0]


def test_passthrough_sktime_mtype():
    X, _ = load_ucr("GunPoint", split="train", return_type="nested_univ")
    assert isinstance(X, pd.DataFrame) and X.shape == (50, 1)


def test_unknown_name_lists_available():
    with pytest.raises(ValueError, match="GunPoint") as info:
        load_ucr("NoSuchDataset")
    assert "NoSuchDataset" in str(info.value)


def test_bad_split():
    with pytest.raises(ValueError, match="split"):
        load_ucr("GunPoint", split="validation")
