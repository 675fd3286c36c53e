"""The CDIL-CNN XOR and dissimilar generators (seqestim/datasets/xor.py)."""

from __future__ import annotations

import numpy as np
import pytest

from seqestim.datasets.xor import make_dissimilar_sequences, make_xor_sequences


def _marked(X):
    """Positions (n, 2) and values (n, 2) of the two marked steps of every row."""
    positions = np.stack([np.flatnonzero(row) for row in X[:, 1]])
    values = np.take_along_axis(X[:, 0], positions, axis=1)
    return positions, values


def test_xor_layout_and_label():
    X, y = make_xor_sequences(500, 37, random_state=0)
    assert X.shape == (500, 2, 37) and X.dtype == np.float32
    assert y.shape == (500,) and y.dtype == np.int64
    assert set(np.unique(X[:, 1])) == {0.0, 1.0}
    assert (X[:, 1].sum(axis=1) == 2).all()  # exactly two distinct marked steps
    assert ((X[:, 0] >= 0) & (X[:, 0] < 1)).all()
    _, values = _marked(X)
    expected = (values[:, 0] >= 0.5) != (values[:, 1] >= 0.5)
    np.testing.assert_array_equal(y, expected.astype(np.int64))
    assert 0.4 < y.mean() < 0.6


def test_xor_positions_are_uniform_over_the_whole_sequence():
    X, _ = make_xor_sequences(4000, 8, random_state=1)
    counts = X[:, 1].sum(axis=0)  # 8000 marks over 8 positions
    assert counts.min() > 850 and counts.max() < 1150
    # both orders of the pair occur, so neither mark is always first
    positions, _ = _marked(X)
    assert len({tuple(p) for p in positions}) == 8 * 7 // 2


def test_xor_is_reproducible_and_seed_dependent():
    a = make_xor_sequences(20, 16, random_state=3)
    b = make_xor_sequences(20, 16, random_state=3)
    c = make_xor_sequences(20, 16, random_state=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    d = make_xor_sequences(20, 16, random_state=np.random.RandomState(0))
    assert d[0].shape == (20, 2, 16)


@pytest.mark.parametrize("swap", [False, True])
def test_dissimilar_puts_the_pair_in_the_half_given_by_the_label(swap):
    L = 20
    X, y = make_dissimilar_sequences(600, L, swap_halves=swap, random_state=0)
    positions, values = _marked(X)
    expected = (values[:, 0] >= 0.5) != (values[:, 1] >= 0.5)
    np.testing.assert_array_equal(y, expected.astype(np.int64))
    in_second = positions >= L // 2  # (n, 2)
    assert (in_second[:, 0] == in_second[:, 1]).all()  # both marks in the same half
    np.testing.assert_array_equal(in_second[:, 0], (y == 1) != swap)
    assert (X[:, 1].sum(axis=1) == 2).all()


@pytest.mark.parametrize(
    ("func", "kwargs"),
    [
        (make_xor_sequences, {"n_samples": 0}),
        (make_xor_sequences, {"seq_len": 1}),
        (make_xor_sequences, {"seq_len": 2.5}),
        (make_dissimilar_sequences, {"seq_len": 3}),
    ],
)
def test_bad_arguments_raise(func, kwargs):
    with pytest.raises(ValueError):
        func(**kwargs)
