"""Input layouts, ragged sequences and the errors bad input gets."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse

from seqestim import GRUClassifier, GRURegressor, LSTMClassifier, RNNRegressor


def _fast(cls, **params):
    return cls(d_model=5, max_epochs=2, lr=0.02, random_state=0, **params)


def test_layouts_give_identical_predictions(panel_data):
    X, y = panel_data  # (n, C, T)
    clf = _fast(GRUClassifier).fit(X, y)
    expected = clf.predict_proba(X)
    ragged = [x for x in X]  # list of (C, T)
    multiindex = pd.DataFrame(
        X.transpose(0, 2, 1).reshape(-1, 2),
        index=pd.MultiIndex.from_product([range(len(X)), range(X.shape[2])]),
        columns=["a", "b"],
    )
    nested = pd.DataFrame({c: [pd.Series(x[i]) for x in X] for i, c in enumerate("ab")})
    # ragged lists of equal shapes stack into a 3D array: pass lengths that differ
    for layout in (ragged, multiindex, nested):
        np.testing.assert_allclose(clf.predict_proba(layout), expected, atol=1e-6)


def test_two_d_is_univariate_sequences():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(30, 9))
    y = X.sum(axis=1)
    reg = _fast(RNNRegressor).fit(X, y)
    assert reg.n_features_in_ == 9 and reg.n_channels_ == 1 and reg.input_layout_ == "tabular"
    np.testing.assert_allclose(reg.predict(X), reg.predict(X[:, None, :]), atol=1e-6)
    with pytest.raises(ValueError, match="features"):
        reg.predict(X[:, :5])  # sklearn's contract for 2D input: same columns as in fit


def test_wide_dataframe_keeps_feature_names():
    rng = np.random.RandomState(2)
    X = pd.DataFrame(rng.normal(size=(20, 6)), columns=[f"t{i}" for i in range(6)])
    y = rng.normal(size=20)
    reg = _fast(GRURegressor).fit(X, y)
    assert list(reg.feature_names_in_) == list(X.columns)


@pytest.mark.parametrize("pooling", ["last", "mean"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_ragged_alone_equals_padded_in_batch(pooling, bidirectional):
    rng = np.random.RandomState(3)
    lengths = [5, 11, 8, 3, 11, 7]
    X = [rng.normal(size=(2, n)).astype(np.float32) for n in lengths]
    y = np.array([0, 1, 0, 1, 1, 0])
    clf = LSTMClassifier(
        d_model=4,
        n_layers=2,
        bidirectional=bidirectional,
        pooling=pooling,
        max_epochs=2,
        random_state=0,
    ).fit(X, y)
    batch = clf.predict_proba(X)
    for i, sequence in enumerate(X):
        alone = clf.predict_proba(sequence[None])  # (1, C, T_i): no padding at all
        np.testing.assert_allclose(alone, batch[i : i + 1], atol=1e-5)


def test_univariate_ragged_sequences():
    rng = np.random.RandomState(4)
    X = [rng.normal(size=n) for n in (4, 9, 6, 12)]
    reg = _fast(GRURegressor).fit(X, [0.0, 1.0, 2.0, 3.0])
    assert reg.n_channels_ == 1
    assert reg.predict(X).shape == (4,)


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        (np.full((4, 1, 6), np.nan), ValueError, "NaN"),
        (np.full((4, 6), np.inf), ValueError, "infinity"),
        (np.zeros((0, 1, 6)), ValueError, "0 sample"),
        (np.zeros((4, 1, 0)), ValueError, "length 0|0 feature"),
        ([np.zeros((1, 3)), np.zeros((1, 0))], ValueError, "length 0"),
        ([np.zeros((1, 3)), np.zeros((2, 5))], ValueError, "channels"),
        (np.zeros((4, 1, 2, 3)), ValueError, "dimensions|dim"),
        (np.zeros(6), ValueError, "2D|1D|Expected"),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), ValueError, "convert|number"),
        ([np.array(["a", "b"]), np.array(["c"])], TypeError, "not numeric"),
        (scipy.sparse.csr_matrix(np.ones((4, 6))), TypeError, "[Ss]parse"),
    ],
)
def test_bad_input_is_a_clear_error(X, error, match):
    y = (
        np.arange(len(X)) % 2
        if hasattr(X, "__len__") and not scipy.sparse.issparse(X)
        else [0, 1, 0, 1]
    )
    with pytest.raises(error, match=match):
        _fast(GRUClassifier).fit(X, y[: X.shape[0]] if hasattr(X, "shape") else y)


def test_channels_must_match_fit(panel_data):
    X, y = panel_data
    clf = _fast(GRUClassifier).fit(X, y)
    with pytest.raises(ValueError, match="channel"):
        clf.predict(np.zeros((2, 3, 12)))
    with pytest.raises(ValueError, match=r"channel|3D"):
        clf.predict(np.zeros((2, 12)))  # 2D = univariate, but the model has 2 channels


def test_unknown_labels_and_missing_y(panel_data):
    X, y = panel_data
    with pytest.raises(ValueError, match="Unknown label type"):
        _fast(GRUClassifier).fit(X, np.linspace(0, 1, len(X)))
    with pytest.raises(ValueError, match="requires y"):
        _fast(GRUClassifier).fit(X, None)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _fast(GRUClassifier).fit(X, y[:-1])


def test_any_label_type_and_single_class(panel_data):
    X, y = panel_data
    for labels in (y, (y == "up").astype(bool), np.where(y == "up", 7, -3)):
        clf = _fast(GRUClassifier).fit(X, labels)
        assert set(clf.predict(X)) <= set(labels)
        assert clf.classes_.dtype == np.asarray(labels).dtype
    single = _fast(GRUClassifier).fit(X, np.full(len(X), "only"))
    assert (single.predict(X) == "only").all()
    assert single.predict_proba(X).shape == (len(X), 1)


def test_regressor_targets_1d_and_2d(panel_data):
    X, _ = panel_data
    y2 = np.stack([X[:, 0].sum(axis=1), X[:, 1].mean(axis=1)], axis=1)
    reg = _fast(GRURegressor).fit(X, y2)
    assert reg.predict(X).shape == (len(X), 2)
    reg1 = _fast(GRURegressor).fit(X, y2[:, 0])
    assert reg1.predict(X).shape == (len(X),)
    with pytest.raises(ValueError, match="NaN"):
        _fast(GRURegressor).fit(X, np.full(len(X), np.nan))
