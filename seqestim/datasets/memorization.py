"""The random memorization task of Illium et al. (ICAART 2022): recall the input k steps back.

Reference: S. Illium, T. Schillman, R. Müller, T. Gabor, C. Linnhoff-Popien. "Empirical Analysis
of Limits for Memory Distance in Recurrent Neural Networks." ICAART 2022, pp. 308-315;
arXiv:2212.11085.

A sequence is i.i.d. random values; the target is the value ``distance`` steps before the last
step. Nothing correlates with it except the value itself, so a model can only get it right by
holding it in memory ("by heart") for ``distance`` steps. The paper's exact value distribution
and sequence lengths are not restated here; this generator is ours: values uniform on
``[-1, 1]`` (a regression target) or symbols uniform on ``0 .. n_symbols - 1``, one-hot encoded
(a classification target).
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["make_memorization"]


def make_memorization(
    n_samples: int = 1000,
    length: int = 50,
    distance: int = 5,
    *,
    n_symbols: int | None = None,
    random_state=None,
):
    """Generate the random memorization task: the target is the input ``distance`` steps back.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of sequences.
    length : int, default=50
        Steps per sequence.
    distance : int, default=5
        How far before the last step the target value sits: ``y = x[length - 1 - distance]``;
        0 asks for the last input itself. At most ``length - 1``.
    n_symbols : int or None, default=None
        None: values uniform on ``[-1, 1]``, one channel, a real target (regression). An
        integer ``>= 2``: symbols uniform on ``0 .. n_symbols - 1``, one-hot over
        ``n_symbols`` channels, the symbol as target (classification).
    random_state : int, RandomState instance or None, default=None
        Seeds the values.

    Returns
    -------
    X : ndarray of shape (n_samples, 1 or n_symbols, length), float32
        Channels first.
    y : ndarray of shape (n_samples,)
        float64 values, or int64 symbols.

    Examples
    --------
    >>> from seqestim.datasets import make_memorization
    >>> X, y = make_memorization(4, length=10, distance=3, random_state=0)
    >>> X.shape, bool((y == X[:, 0, 6]).all())
    ((4, 1, 10), True)
    """
    from sklearn.utils import check_random_state

    for name, value, minimum in (("n_samples", n_samples, 1), ("length", length, 1)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    if (
        isinstance(distance, bool)
        or not isinstance(distance, numbers.Integral)
        or not 0 <= distance < length
    ):
        raise ValueError(f"distance must be an integer in [0, length - 1]; got {distance!r}.")
    rng = check_random_state(random_state)
    position = length - 1 - int(distance)
    if n_symbols is None:
        values = rng.uniform(-1.0, 1.0, size=(n_samples, length))
        X = values[:, None, :].astype(np.float32)
        return X, X[:, 0, position].astype(np.float64)
    if isinstance(n_symbols, bool) or not isinstance(n_symbols, numbers.Integral) or n_symbols < 2:
        raise ValueError(f"n_symbols must be None or an integer >= 2; got {n_symbols!r}.")
    symbols = rng.randint(0, n_symbols, size=(n_samples, length))
    X = np.zeros((n_samples, n_symbols, length), dtype=np.float32)
    rows, steps = np.indices(symbols.shape)
    X[rows, symbols, steps] = 1.0
    return X, symbols[:, position].astype(np.int64)
