import numpy as np
import pytest

from seqestim.datasets.memory_tasks import (
    PARENTHESIS_TOKENS,
    make_adding,
    make_copy_memory,
    make_denoise,
    make_parenthesis_counting,
)

GENERATORS = [make_adding, make_copy_memory, make_denoise, make_parenthesis_counting]


@pytest.mark.parametrize("make", GENERATORS)
def test_determinism(make):
    X1, y1 = make(n_samples=5, seq_len=30, random_state=3)
    X2, y2 = make(n_samples=5, seq_len=30, random_state=np.random.RandomState(3))
    X3, _ = make(n_samples=5, seq_len=30, random_state=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    assert X1.dtype == np.float32


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_rejects_bad_sizes(make, bad):
    with pytest.raises(ValueError, match="n_samples"):
        make(n_samples=bad, seq_len=10)
    with pytest.raises(ValueError, match="seq_len"):
        make(n_samples=2, seq_len=bad)


def test_adding():
    X, y = make_adding(n_samples=200, seq_len=21, random_state=0)
    assert X.shape == (200, 2, 21) and y.shape == (200,)
    values, markers = X[:, 0], X[:, 1]
    assert ((values >= 0) & (values < 1)).all()
    assert set(np.unique(markers)) == {0.0, 1.0}
    assert (markers.sum(axis=1) == 2).all()
    half = (21 - 1) // 2
    assert (markers[:, :half].sum(axis=1) == 1).all()  # one marker in each half
    np.testing.assert_allclose(y, (values * markers).sum(axis=1), rtol=1e-6)
    # both halves' marker positions are spread over their range
    assert len(np.unique(markers[:, :half].argmax(axis=1))) > half // 2


def test_copy_memory():
    L, K, C = 15, 4, 6
    X, y = make_copy_memory(n_samples=50, seq_len=L, n_symbols=K, n_categories=C, random_state=0)
    assert X.shape == (50, C + 2, L + 2 * K) and y.shape == (50, L + 2 * K)
    np.testing.assert_array_equal(X.sum(axis=1), 1.0)  # one-hot
    tokens = X.argmax(axis=1)
    tokens_direct, _ = make_copy_memory(
        n_samples=50, seq_len=L, n_symbols=K, n_categories=C, one_hot=False, random_state=0
    )
    np.testing.assert_array_equal(tokens, tokens_direct)
    symbols = tokens[:, :K]
    assert ((symbols >= 1) & (symbols <= C)).all()
    assert (tokens[:, K + L] == C + 1).all()  # the marker
    assert (tokens[:, K : K + L] == 0).all() and (tokens[:, K + L + 1 :] == 0).all()
    assert (y[:, : K + L] == 0).all()
    np.testing.assert_array_equal(y[:, K + L :], symbols)  # recalled in order from the marker


def test_denoise():
    T, K, C = 12, 5, 9
    tokens, y = make_denoise(n_samples=300, seq_len=T, n_symbols=K, one_hot=False, random_state=0)
    X, _ = make_denoise(n_samples=300, seq_len=T, n_symbols=K, random_state=0)
    assert X.shape == (300, C + 2, T + 2 * K) and tokens.shape == y.shape == (300, T + 2 * K)
    np.testing.assert_array_equal(X.argmax(axis=1), tokens)
    span = T + K - 1
    assert (tokens[:, span] == C + 1).all()
    assert (tokens[:, span + 1 :] == 0).all()
    visible = tokens[:, :span]
    assert ((visible > 0).sum(axis=1) == K).all()  # distinct positions: all K symbols visible
    assert (y[:, : span + 1] == 0).all()
    for row in range(300):
        np.testing.assert_array_equal(y[row, span + 1 :], visible[row][visible[row] > 0])
    # symbols can appear anywhere in the span, including its last step
    assert (visible[:, -1] > 0).any() and (visible[:, 0] > 0).any()


def _count_reference(tokens, max_count):
    counts = [0, 0, 0]
    out = []
    for tok in tokens:
        ch = PARENTHESIS_TOKENS[tok]
        for k, (o, c) in enumerate(["()", "[]", "{}"]):
            if ch == o:
                counts[k] = min(max_count, counts[k] + 1)
            elif ch == c:
                counts[k] = max(0, counts[k] - 1)
        out.append(list(counts))
    return np.array(out).T  # (3, T)


def test_parenthesis_counting():
    X, y = make_parenthesis_counting(n_samples=20, seq_len=60, max_count=3, random_state=0)
    tokens, _ = make_parenthesis_counting(
        n_samples=20, seq_len=60, max_count=3, one_hot=False, random_state=0
    )
    assert X.shape == (20, 7, 60) and y.shape == (20, 3, 60)
    np.testing.assert_array_equal(X.argmax(axis=1), tokens)
    for row in range(20):
        np.testing.assert_array_equal(y[row], _count_reference(tokens[row], 3))
    assert y.min() == 0 and y.max() == 3  # saturation is reached
    # uniform tokens: every symbol shows up
    assert set(np.unique(tokens)) == set(range(7))


def test_hand_checked_parenthesis_example():
    # "((a)" -> counts of () go 1, 2, 2, 1
    tokens = np.array([0, 0, 6, 1])
    np.testing.assert_array_equal(_count_reference(tokens, 5)[0], [1, 2, 2, 1])
