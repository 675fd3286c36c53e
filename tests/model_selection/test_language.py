import pytest

from seqestim.model_selection import cross_entropy_gap


class _Scored:
    def __init__(self, score):
        self._score = score

    def score(self, X):
        return self._score


def test_gap_is_cross_entropy_minus_bound():
    assert cross_entropy_gap(_Scored(-0.75), ["ab"], 0.5) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="finite"):
        cross_entropy_gap(_Scored(-1.0), ["ab"], float("nan"))
