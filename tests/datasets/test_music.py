"""Bach chorales from music21's corpus: deterministic piano rolls, a fixed split by piece."""

import numpy as np
import pytest

pytest.importorskip("music21")

from seqestim.datasets import load_bach_chorales
from seqestim.datasets.music import _split_of


def test_loader_is_deterministic_and_caches(tmp_path):
    first = load_bach_chorales(n_pieces=3, data_home=tmp_path)
    assert list(tmp_path.glob("bach_chorales_step1_*.npz"))  # the cache was written
    again = load_bach_chorales(n_pieces=3, data_home=tmp_path)  # from the cache
    fresh = load_bach_chorales(n_pieces=3, data_home=tmp_path / "other")  # parsed again
    for other in (again, fresh):
        assert other.pieces == first.pieces
        for split in ("train", "valid", "test"):
            assert len(other[split]) == len(first[split])
            for a, b in zip(other[split], first[split], strict=True):
                np.testing.assert_array_equal(a, b)
    rolls = first.train + first.valid + first.test
    assert len(rolls) == 3
    for roll in rolls:
        assert roll.shape[0] == 88 and roll.dtype == np.float32
        assert set(np.unique(roll)) == {0.0, 1.0}
        voices = roll.sum(axis=0)
        assert voices.max() <= 4 and np.mean(voices == 4) > 0.5  # four-part chorales
    assert list(first.pitches[[0, -1]]) == [21, 108]


def test_split_is_fixed_by_piece_name():
    names = [f"bach/bwv{i}" for i in range(400)]
    splits = [_split_of(name) for name in names]
    assert splits == [_split_of(name) for name in names]
    shares = {s: splits.count(s) / len(splits) for s in ("train", "valid", "test")}
    assert 0.5 < shares["train"] < 0.7 and 0.1 < shares["valid"] < 0.3
    assert 0.1 < shares["test"] < 0.3
