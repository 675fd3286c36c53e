"""The XOR and "dissimilar" long-range classification tasks of CDIL-CNN (Cheng et al. 2023).

Both follow the generators of the official code (``xor_generation.py`` and
``dissimilar_generation.py`` in https://github.com/LeiCheng-no/CDIL-CNN): a sequence has two
channels; channel 0 is uniform noise on ``[0, 1)`` except at two marked positions, which carry
the values ``X1, X2 ~ U(0, 1)``; channel 1 is 1 at the two marked positions and 0 elsewhere.
The label is ``(X1 >= 0.5) XOR (X2 >= 0.5)``. A model must find the two marked steps anywhere in
the sequence and combine them, so the task measures the reach of a model over long sequences.

Differences from the official scripts: the arrays are channels-first ``(n, 2, T)`` (sktime's
layout, which the estimators accept), the generator is numpy's seeded ``Generator`` instead of
the global ``random``/``torch`` states, and the values are float32 (the scripts' tensors are
float32 as well) to keep long sequences small in memory.
"""

from __future__ import annotations

import numpy as np

__all__ = ["make_dissimilar_sequences", "make_xor_sequences"]


def _check(n_samples: int, seq_len: int, minimum: int) -> None:
    if int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    if int(seq_len) != seq_len or seq_len < minimum:
        raise ValueError(f"seq_len must be an integer >= {minimum}, got {seq_len!r}.")


def _rng(random_state) -> np.random.Generator:
    if isinstance(random_state, np.random.RandomState):
        # sklearn's check_random_state convention: accept a legacy RandomState too
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    return np.random.default_rng(random_state)


def _two_positions(rng: np.random.Generator, n: int, low: np.ndarray, high: np.ndarray):
    """Two distinct positions per row, uniform over ``[low, high)`` (arrays of shape ``(n,)``)."""
    width = high - low
    p1 = low + (rng.random(n) * width).astype(np.int64)
    # the second is uniform over the other width - 1 positions
    p2 = low + (rng.random(n) * (width - 1)).astype(np.int64)
    p2 = np.where(p2 >= p1, p2 + 1, p2)
    return p1, p2


def _assemble(rng, n, seq_len, p1, p2, values):
    X = np.empty((n, 2, seq_len), dtype=np.float32)
    X[:, 0] = rng.random((n, seq_len), dtype=np.float32)
    X[:, 1] = 0.0
    rows = np.arange(n)
    X[rows, 0, p1] = values[:, 0]
    X[rows, 0, p2] = values[:, 1]
    X[rows, 1, p1] = 1.0
    X[rows, 1, p2] = 1.0
    return X


def make_xor_sequences(n_samples: int = 1000, seq_len: int = 64, *, random_state=None):
    """Generate the XOR task of CDIL-CNN: label = XOR of two marked values thresholded at 0.5.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of sequences.
    seq_len : int, default=64
        Length of every sequence (the paper uses 16, 32, ..., 2048), at least 2.
    random_state : int, numpy Generator or RandomState, or None, default=None
        Seed of the generator.

    Returns
    -------
    X : ndarray of shape (n_samples, 2, seq_len), float32
        Channel 0: uniform noise with the two marked values; channel 1: the 0/1 marker.
    y : ndarray of shape (n_samples,), int64
        ``(X1 >= 0.5) XOR (X2 >= 0.5)``, balanced in expectation.

    Examples
    --------
    >>> from seqestim.datasets.xor import make_xor_sequences
    >>> X, y = make_xor_sequences(n_samples=4, seq_len=16, random_state=0)
    >>> X.shape, y.shape
    ((4, 2, 16), (4,))
    >>> [int(v) for v in X[:, 1].sum(axis=1)]
    [2, 2, 2, 2]
    """
    _check(n_samples, seq_len, 2)
    rng = _rng(random_state)
    values = rng.random((n_samples, 2), dtype=np.float32)  # X1, X2
    y = ((values[:, 0] >= 0.5) ^ (values[:, 1] >= 0.5)).astype(np.int64)
    zeros = np.zeros(n_samples, dtype=np.int64)
    p1, p2 = _two_positions(rng, n_samples, zeros, zeros + seq_len)
    return _assemble(rng, n_samples, seq_len, p1, p2, values), y


def make_dissimilar_sequences(
    n_samples: int = 1000, seq_len: int = 2048, *, swap_halves: bool = False, random_state=None
):
    """Generate CDIL-CNN's "dissimilar" XOR task, in which the label also shows in the positions.

    As :func:`make_xor_sequences`, but both marked positions lie in the first half of the
    sequence when the label is 0 and in the second half when it is 1 (the paper's train,
    validation and test sets). With ``swap_halves=True`` the halves are exchanged (the paper's
    "dtest" set), so a model that learned the position instead of the values fails.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of sequences.
    seq_len : int, default=2048
        Length of every sequence (the paper uses 2048), at least 4.
    swap_halves : bool, default=False
        Put label-0 pairs in the second half and label-1 pairs in the first half.
    random_state : int, numpy Generator or RandomState, or None, default=None
        Seed of the generator.

    Returns
    -------
    X : ndarray of shape (n_samples, 2, seq_len), float32
        Channel 0: uniform noise with the two marked values; channel 1: the 0/1 marker.
    y : ndarray of shape (n_samples,), int64
        ``(X1 >= 0.5) XOR (X2 >= 0.5)``.

    Examples
    --------
    >>> from seqestim.datasets.xor import make_dissimilar_sequences
    >>> X, y = make_dissimilar_sequences(n_samples=3, seq_len=8, random_state=0)
    >>> X.shape
    (3, 2, 8)
    """
    _check(n_samples, seq_len, 4)
    rng = _rng(random_state)
    values = rng.random((n_samples, 2), dtype=np.float32)
    y = ((values[:, 0] >= 0.5) ^ (values[:, 1] >= 0.5)).astype(np.int64)
    half = seq_len // 2  # the official script's int(seq_len / 2)
    second = (y == 1) != bool(swap_halves)  # which rows use the second half
    low = np.where(second, half, 0).astype(np.int64)
    high = np.where(second, seq_len, half).astype(np.int64)
    p1, p2 = _two_positions(rng, n_samples, low, high)
    return _assemble(rng, n_samples, seq_len, p1, p2, values), y
