"""Sequential (and permuted sequential) digits: a CPU-sized stand-in for sMNIST / psMNIST.

Sequential MNIST feeds a 28x28 image to a sequence model one pixel at a time (784 steps); the
permuted variant applies one fixed random permutation to the pixel order, which destroys the
locality of neighbouring pixels and so tests long-range memory. MNIST is not shipped with any
installed package, so this generator uses scikit-learn's bundled 8x8 digits (1797 images, ten
classes) as 64-step pixel sequences in the same two flavours.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.utils import check_random_state

__all__ = ["make_sequential_digits"]


def make_sequential_digits(
    permute=False, *, n_samples=None, random_state=None, return_permutation=False
):
    """Scikit-learn's 8x8 digits as 64-step univariate pixel sequences.

    Each image is read row by row (raster order) into a sequence of 64 grey values scaled to
    ``[0, 1]``. With ``permute=True`` one fixed permutation of the 64 positions, drawn from
    ``random_state``, is applied to every image (the "permuted sequential MNIST" protocol).

    Parameters
    ----------
    permute : bool, default=False
        Apply a fixed random permutation of the pixel order to all sequences.
    n_samples : int, optional
        Return a random subset of this many sequences (without replacement, drawn from
        ``random_state``) instead of all 1797, in random order.
    random_state : int, RandomState instance or None, default=None
        Seeds the permutation and the subset. Pass an int for reproducible output.
    return_permutation : bool, default=False
        Also return the permutation (the identity when ``permute=False``).

    Returns
    -------
    X : ndarray of shape (n_samples, 1, 64)
        Channels-first pixel sequences, float64 in ``[0, 1]``.
    y : ndarray of shape (n_samples,)
        Digit labels 0-9.
    permutation : ndarray of shape (64,)
        Only if ``return_permutation``: step ``t`` of every sequence is pixel
        ``permutation[t]`` of the raster order.

    Examples
    --------
    >>> from seqestim.datasets.digits import make_sequential_digits
    >>> X, y = make_sequential_digits(permute=True, random_state=0)
    >>> X.shape, y.shape
    ((1797, 1, 64), (1797,))
    """
    rng = check_random_state(random_state)
    digits = load_digits()
    X = digits.data.astype(np.float64) / 16.0  # (1797, 64), raster order, values 0..16
    y = digits.target.astype(np.int64)
    permutation = rng.permutation(64) if permute else np.arange(64)
    X = X[:, permutation]
    if n_samples is not None:
        n_samples = int(n_samples)
        if not 1 <= n_samples <= len(X):
            raise ValueError(f"n_samples must be between 1 and {len(X)}, got {n_samples}.")
        rows = rng.choice(len(X), size=n_samples, replace=False)
        X, y = X[rows], y[rows]
    X = X[:, None, :]  # (n, 1, 64)
    if return_permutation:
        return X, y, permutation
    return X, y
