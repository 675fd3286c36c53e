"""Text corpora: Python's source with fixed splits, the Markov source's exact entropy, long copy."""

import numpy as np
import pytest
from sklearn.utils import check_random_state

from seqestim.datasets import load_python_source, make_long_copy, make_markov_text
from seqestim.datasets.text import _markov_source, _split_of


def test_python_source_splits_are_disjoint_fixed_and_by_file():
    splits = {s: load_python_source(s, max_chars=300_000, return_paths=True) for s in
              ("train", "valid", "test")}  # fmt: skip
    paths = {s: set(p) for s, (_, p) in splits.items()}
    assert not (paths["train"] & paths["valid"] or paths["train"] & paths["test"])
    assert not paths["valid"] & paths["test"]
    for split, (texts, names) in splits.items():
        assert all(_split_of(name) == split for name in names)
        assert sum(map(len, texts)) <= 300_000 and all(t for t in texts)
        assert not any("/test/" in f"/{name}" or "site-packages" in name for name in names)
    texts, names = splits["valid"]
    assert "\r\n" not in "".join(texts)
    # the same call gives the same corpus, and a larger budget extends it
    assert load_python_source("valid", max_chars=300_000) == texts
    more, more_names = load_python_source("valid", max_chars=600_000, return_paths=True)
    assert set(names) <= set(more_names) and len(more) >= len(texts)
    with pytest.raises(ValueError, match="split"):
        load_python_source("dev")
    with pytest.raises(ValueError, match="fits"):
        load_python_source("train", max_chars=5)


def test_split_of_a_path_never_changes():
    # the split depends on the path only (a SHA-256 hash): fixed on every machine and version
    assert [_split_of(p) for p in ("json/decoder.py", "argparse.py", "asyncio/tasks.py")] == [
        _split_of("json/decoder.py"),
        _split_of("argparse.py"),
        _split_of("asyncio/tasks.py"),
    ]
    counts = {s: 0 for s in ("train", "valid", "test")}
    for i in range(4000):
        counts[_split_of(f"module_{i}.py")] += 1
    assert 3500 < counts["train"] < 3700 and 120 < counts["valid"] < 280


def test_markov_entropy_rate_is_exact_for_a_two_state_chain():
    transitions, stationary, _ = _markov_source(2, 1, 1.0, check_random_state(3))
    a, b = transitions[0, 1], transitions[1, 0]  # leave state 0, leave state 1
    np.testing.assert_allclose(stationary, [b / (a + b), a / (a + b)], rtol=1e-12)

    def h(p):
        return -(p * np.log(p) + (1 - p) * np.log(1 - p))

    expected = stationary[0] * h(a) + stationary[1] * h(b)
    _, entropy_rate = make_markov_text(2, 1, n_samples=1, length=5, concentration=1.0,
                                       random_state=3)  # fmt: skip
    assert entropy_rate == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("n_symbols", "order"), [(5, 2), (3, 0), (4, 3)])
def test_the_true_source_scores_its_entropy_rate_on_its_texts(n_symbols, order):
    seed, concentration = 7, 0.4
    texts, entropy_rate = make_markov_text(
        n_symbols, order, n_samples=40, length=2000, concentration=concentration, random_state=seed
    )
    transitions, stationary, following = _markov_source(
        n_symbols, order, concentration, check_random_state(seed)
    )
    # stationarity: pi P = pi on the context chain
    n_contexts = len(stationary)
    moved = np.zeros(n_contexts)
    np.add.at(moved, following.ravel(), (stationary[:, None] * transitions).ravel())
    np.testing.assert_allclose(moved, stationary, atol=1e-12)
    # the source's own log-loss on its texts (after the initial context) is the entropy rate
    losses = []
    for text in texts:
        symbols = [ord(c) - ord("a") for c in text]
        context = 0
        for symbol in symbols[:order]:
            context = (context * n_symbols + symbol) % n_contexts
        for symbol in symbols[order:]:
            losses.append(-np.log(transitions[context, symbol]))
            context = following[context, symbol]
    losses = np.asarray(losses)
    standard_error = losses.std() / np.sqrt(len(losses))
    assert abs(losses.mean() - entropy_rate) < 4 * standard_error + 1e-3
    assert set("".join(texts)) <= set("abcdefghij"[:n_symbols])


def test_markov_text_checks_its_arguments_and_is_seeded():
    assert make_markov_text(random_state=1) == make_markov_text(random_state=1)
    with pytest.raises(ValueError, match="n_symbols"):
        make_markov_text(63)
    with pytest.raises(ValueError, match="too many"):
        make_markov_text(62, order=4)
    with pytest.raises(ValueError, match="concentration"):
        make_markov_text(concentration=0)


def test_long_copy_repeats_the_payload_across_the_noise():
    X, y = make_long_copy(n_samples=200, distance=30, n_symbols=5, n_noise=3, random_state=0)
    assert X.shape == (200, 33) and X.dtype == np.int64
    np.testing.assert_array_equal(X[:, 0], y)
    np.testing.assert_array_equal(X[:, -1], y)
    assert (X[:, -2] == 8).all() and ((X[:, 1:-2] >= 5) & (X[:, 1:-2] < 8)).all()
    assert set(y) == set(range(5))
    with pytest.raises(ValueError, match="distance"):
        make_long_copy(distance=-1)
