"""Synthetic long-memory tasks of the orthogonal and normalized RNN papers.

- :func:`make_adding`: the adding problem (Hochreiter & Schmidhuber 1997), as in the ATN code.
- :func:`make_copy_memory`: the copy-memory task, as in the ATN code.
- :func:`make_denoise`: the denoise task, as in the NC-GRU code.
- :func:`make_parenthesis_counting`: the parenthesis task, as in the NC-GRU code.

All return ``X`` channels-first, ``(n_samples, n_channels, n_timesteps)`` float32 (one-hot
for the symbol tasks; pass ``one_hot=False`` for ``(n_samples, n_timesteps)`` integer tokens).
The sequence-to-sequence tasks return one integer target per step, ``y`` of shape
``(n_samples, n_timesteps)`` (parenthesis counting: ``(n_samples, 3, n_timesteps)``, one count
per bracket type), aligned with the input steps: ``y[:, t]`` is the target after reading
``X[..., t]``.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["make_adding", "make_copy_memory", "make_denoise", "make_parenthesis_counting"]


def _check_positive(name: str, value, minimum: int = 1) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _one_hot(tokens: np.ndarray, n_channels: int) -> np.ndarray:
    """``(n, T)`` integer tokens -> ``(n, n_channels, T)`` float32 one-hot."""
    return np.eye(n_channels, dtype=np.float32)[tokens].transpose(0, 2, 1).copy()


def make_adding(n_samples=1000, seq_len=100, *, random_state=None):
    """Generate the adding problem.

    Each sequence has two channels: values drawn uniformly from ``[0, 1)`` and a marker channel
    that is 1 at exactly two steps, one in the first part ``[0, h)`` and one in the second
    ``[h, seq_len)`` with ``h = max(1, (seq_len - 1) // 2)`` (the ATN code's split). The target
    is the sum of the two marked values. Predicting the constant 1 gives a mean squared error of
    about 1/6 (0.167), the usual "solved" threshold is an MSE far below that.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of sequences.
    seq_len : int, default=100
        Number of steps ``T`` (at least 2).
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, 2, seq_len), float32
        Channel 0: values; channel 1: markers.
    y : ndarray of shape (n_samples,), float64
        Sum of the two marked values.

    Examples
    --------
    >>> from seqestim.datasets.memory_tasks import make_adding
    >>> X, y = make_adding(n_samples=4, seq_len=50, random_state=0)
    >>> X.shape, y.shape
    ((4, 2, 50), (4,))
    """
    n = _check_positive("n_samples", n_samples)
    T = _check_positive("seq_len", seq_len, 2)
    rng = check_random_state(random_state)
    values = rng.uniform(0.0, 1.0, size=(n, T))
    half = max(1, (T - 1) // 2)
    first = rng.randint(0, half, size=n)
    second = rng.randint(half, T, size=n)
    markers = np.zeros((n, T))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = np.stack([values, markers], axis=1).astype(np.float32)
    # the target is computed from the float32 values the model sees
    y = X[rows, 0, first].astype(np.float64) + X[rows, 0, second].astype(np.float64)
    return X, y


def make_copy_memory(
    n_samples=1000, seq_len=100, *, n_symbols=10, n_categories=8, one_hot=True, random_state=None
):
    """Generate the copy-memory task (ATN code's layout).

    The input shows ``n_symbols`` (``K``) symbols drawn uniformly from ``{1..n_categories}``,
    then ``seq_len`` (``L``) blanks, a marker and ``K - 1`` blanks; total length ``L + 2K``.
    The target is blank (0) for the first ``K + L`` steps and then the ``K`` symbols in
    order, the first one at the marker step. Tokens: 0 blank, ``1..n_categories`` symbols,
    ``n_categories + 1`` marker. The memoryless baseline (blanks, then a uniform guess) has a
    per-step cross-entropy of ``K ln(n_categories) / (L + 2K)``.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of sequences.
    seq_len : int, default=100
        Delay ``L`` between the symbols and the marker (the papers' ``T``).
    n_symbols : int, default=10
        Number of symbols ``K`` to remember.
    n_categories : int, default=8
        Size of the symbol alphabet.
    one_hot : bool, default=True
        Return ``X`` one-hot ``(n, n_categories + 2, L + 2K)``; False gives integer tokens
        ``(n, L + 2K)``.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_categories + 2, seq_len + 2 * n_symbols), float32
        One-hot input (or int64 tokens of shape (n_samples, seq_len + 2 * n_symbols)).
    y : ndarray of shape (n_samples, seq_len + 2 * n_symbols), int64
        Target class per step, ``0..n_categories`` (0 = blank).

    Examples
    --------
    >>> from seqestim.datasets.memory_tasks import make_copy_memory
    >>> X, y = make_copy_memory(n_samples=2, seq_len=20, random_state=0)
    >>> X.shape, y.shape
    ((2, 10, 40), (2, 40))
    """
    n = _check_positive("n_samples", n_samples)
    L = _check_positive("seq_len", seq_len)
    K = _check_positive("n_symbols", n_symbols)
    C = _check_positive("n_categories", n_categories)
    rng = check_random_state(random_state)
    symbols = rng.randint(1, C + 1, size=(n, K))
    tokens = np.zeros((n, L + 2 * K), dtype=np.int64)
    tokens[:, :K] = symbols
    tokens[:, K + L] = C + 1  # marker
    y = np.zeros((n, L + 2 * K), dtype=np.int64)
    y[:, K + L :] = symbols
    return (_one_hot(tokens, C + 2) if one_hot else tokens), y


def make_denoise(
    n_samples=1000, seq_len=200, *, n_symbols=10, n_categories=9, one_hot=True, random_state=None
):
    """Generate the denoise task (NC-GRU code's layout).

    ``n_symbols`` (``K``) symbols drawn uniformly from ``{1..n_categories}`` are placed at
    distinct random positions among the first ``seq_len + K - 1`` steps (blanks elsewhere),
    followed by a marker and ``K`` blanks; total length ``seq_len + 2K``. The target is blank
    (0) up to and including the marker step, then the ``K`` symbols in their order of
    appearance. Tokens: 0 blank, ``1..n_categories`` symbols, ``n_categories + 1`` marker. The
    memoryless baseline's per-step cross-entropy is ``K ln(n_categories) / (seq_len + 2K)``.

    Deviations from the official generator: positions are drawn without replacement (the
    official code can draw a position twice, leaving fewer than ``K`` visible symbols while
    still asking for ``K``), and the marker has its own one-hot channel (the official one-hot
    of depth 10 maps it to the zero vector).

    Parameters
    ----------
    n_samples : int, default=1000
        Number of sequences.
    seq_len : int, default=200
        Noise span ``T`` (the papers' sequence length); the output has ``T + 2K`` steps.
    n_symbols : int, default=10
        Number of symbols ``K`` to recall.
    n_categories : int, default=9
        Size of the symbol alphabet.
    one_hot : bool, default=True
        Return ``X`` one-hot ``(n, n_categories + 2, T + 2K)``; False gives integer tokens.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_categories + 2, seq_len + 2 * n_symbols), float32
        One-hot input (or int64 tokens of shape (n_samples, seq_len + 2 * n_symbols)).
    y : ndarray of shape (n_samples, seq_len + 2 * n_symbols), int64
        Target class per step, ``0..n_categories`` (0 = blank).

    Examples
    --------
    >>> from seqestim.datasets.memory_tasks import make_denoise
    >>> X, y = make_denoise(n_samples=2, seq_len=30, random_state=0)
    >>> X.shape, y.shape
    ((2, 11, 50), (2, 50))
    """
    n = _check_positive("n_samples", n_samples)
    T = _check_positive("seq_len", seq_len)
    K = _check_positive("n_symbols", n_symbols)
    C = _check_positive("n_categories", n_categories)
    rng = check_random_state(random_state)
    span = T + K - 1  # symbols live in steps [0, span); the marker sits at step span
    # distinct positions per row: the K smallest of ``span`` random keys, in increasing order
    positions = np.sort(np.argsort(rng.uniform(size=(n, span)), axis=1)[:, :K], axis=1)
    symbols = rng.randint(1, C + 1, size=(n, K))
    tokens = np.zeros((n, T + 2 * K), dtype=np.int64)
    np.put_along_axis(tokens, positions, symbols, axis=1)
    tokens[:, span] = C + 1  # marker
    y = np.zeros((n, T + 2 * K), dtype=np.int64)
    y[:, span + 1 :] = symbols
    return (_one_hot(tokens, C + 2) if one_hot else tokens), y


#: Token alphabet of :func:`make_parenthesis_counting`, in token order.
PARENTHESIS_TOKENS = "()[]{}a"


def make_parenthesis_counting(
    n_samples=1000, seq_len=200, *, max_count=5, one_hot=True, random_state=None
):
    """Generate the parenthesis-counting task (NC-GRU code).

    Tokens ``( ) [ ] { } a`` (``a`` is noise) are drawn uniformly and independently. At every
    step the target is, for each of the three bracket types, the saturating count of currently
    unclosed openers: an opener adds one up to ``max_count``, a closer removes one down to 0.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of sequences.
    seq_len : int, default=200
        Number of steps ``T``.
    max_count : int, default=5
        Saturation of the counts; the targets take ``max_count + 1`` values.
    one_hot : bool, default=True
        Return ``X`` one-hot ``(n, 7, T)`` (channels in the order of ``"()[]{}a"``); False
        gives integer tokens ``(n, T)``.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, 7, seq_len), float32
        One-hot input (or int64 tokens of shape (n_samples, seq_len)).
    y : ndarray of shape (n_samples, 3, seq_len), int64
        Counts ``0..max_count`` of the types ``()``, ``[]``, ``{}`` after each step.

    Examples
    --------
    >>> from seqestim.datasets.memory_tasks import make_parenthesis_counting
    >>> X, y = make_parenthesis_counting(n_samples=2, seq_len=30, random_state=0)
    >>> X.shape, y.shape
    ((2, 7, 30), (2, 3, 30))
    """
    n = _check_positive("n_samples", n_samples)
    T = _check_positive("seq_len", seq_len)
    M = _check_positive("max_count", max_count)
    rng = check_random_state(random_state)
    tokens = rng.randint(0, len(PARENTHESIS_TOKENS), size=(n, T))
    # per step and bracket type: +1 for its opener, -1 for its closer, 0 otherwise
    kind = tokens // 2  # 0, 1, 2 bracket type; 3 = noise
    delta = np.where(tokens % 2 == 0, 1, -1)  # even tokens open
    y = np.zeros((n, 3, T), dtype=np.int64)
    count = np.zeros((n, 3), dtype=np.int64)
    rows = np.arange(n)
    for t in range(T):  # saturation makes the count path-dependent, hence the loop
        bracket = kind[:, t] < 3
        k = np.minimum(kind[:, t], 2)
        updated = np.clip(count[rows, k] + delta[:, t], 0, M)
        count[rows[bracket], k[bracket]] = updated[bracket]
        y[:, :, t] = count
    return (_one_hot(tokens, len(PARENTHESIS_TOKENS)) if one_hot else tokens), y
