import numpy as np
import pytest
from sklearn.datasets import load_digits

from seqestim.datasets.digits import make_sequential_digits


def test_shapes_range_and_raster_order():
    X, y = make_sequential_digits()
    digits = load_digits()
    assert X.shape == (1797, 1, 64) and y.shape == (1797,)
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_allclose(X[:, 0, :] * 16, digits.data)
    np.testing.assert_array_equal(y, digits.target)
    np.testing.assert_allclose(X[5, 0].reshape(8, 8) * 16, digits.images[5])


def test_permutation_is_fixed_seeded_and_shared_by_all_rows():
    X, y, perm = make_sequential_digits(permute=True, random_state=3, return_permutation=True)
    X0, y0 = make_sequential_digits()
    assert sorted(perm) == list(range(64)) and not np.array_equal(perm, np.arange(64))
    np.testing.assert_array_equal(X[:, 0, :], X0[:, 0, perm])
    np.testing.assert_array_equal(y, y0)
    X2, _ = make_sequential_digits(permute=True, random_state=3)
    X3, _ = make_sequential_digits(permute=True, random_state=4)
    np.testing.assert_array_equal(X, X2)
    assert not np.array_equal(X, X3)


def test_subset_and_identity_permutation():
    X, y, perm = make_sequential_digits(n_samples=100, random_state=0, return_permutation=True)
    assert X.shape == (100, 1, 64) and y.shape == (100,)
    np.testing.assert_array_equal(perm, np.arange(64))
    full, _ = make_sequential_digits()
    # every returned row is a row of the full set
    assert all((np.abs(full[:, 0] - row[0]).sum(axis=1) == 0).any() for row in X[:10])
    with pytest.raises(ValueError, match="n_samples"):
        make_sequential_digits(n_samples=0)
