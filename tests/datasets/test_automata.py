"""Tomita grammars, balanced parentheses and the DFA class."""

import itertools
import re

import numpy as np
import pytest

from seqestim.datasets import DFA, make_balanced_parentheses, make_tomita, tomita_dfa

RULES = {
    1: lambda w: "0" not in w,
    2: lambda w: w == "10" * (len(w) // 2),
    3: lambda w: re.match(r"((0|1)*0)*1(11)*(0(0|1)*1)*0(00)*(1(0|1)*)*$", w) is None,
    4: lambda w: "000" not in w,
    5: lambda w: w.count("0") % 2 == 0 and w.count("1") % 2 == 0,
    6: lambda w: (w.count("0") - w.count("1")) % 3 == 0,
    7: lambda w: w.count("10") <= 1,
}
STRINGS = ["".join(w) for n in range(11) for w in itertools.product("01", repeat=n)]


@pytest.mark.parametrize("grammar", range(1, 8))
def test_tomita_automata_are_the_grammars_and_minimal(grammar):
    dfa = tomita_dfa(grammar)
    assert [dfa.accepts(w) for w in STRINGS] == [RULES[grammar](w) for w in STRINGS]
    minimal = dfa.minimize()
    assert len(minimal) == len(dfa) and minimal.equivalent(dfa)
    for other in range(1, 8):
        assert dfa.equivalent(tomita_dfa(other)) == (other == grammar)
    for n in range(9):
        expected = sum(RULES[grammar]("".join(w)) for w in itertools.product("01", repeat=n))
        assert dfa.count(n) == expected and dfa.count(n, accepted=False) == 2**n - expected


@pytest.mark.parametrize("grammar", range(1, 8))
def test_make_tomita_is_labelled_and_balanced(grammar):
    X, y = make_tomita(grammar, n=301, max_length=14, random_state=0)
    assert len(X) == 301 and y.sum() == 150
    assert all(RULES[grammar](x) == bool(label) for x, label in zip(X, y, strict=True))
    assert all(set(x) <= {"0", "1"} and len(x) <= 14 for x in X)
    again, _ = make_tomita(grammar, n=301, max_length=14, random_state=0)
    assert again == X


def test_minimize_merges_equivalent_states_and_drops_the_sink():
    # tomita 1 with a redundant copy of the accepting state and an explicit dead state
    dfa = DFA(
        (0, 1, 2),
        ("0", "1"),
        {(0, "1"): 1, (1, "1"): 0, (0, "0"): 2, (1, "0"): 2, (2, "0"): 2, (2, "1"): 2},
        0,
        {0, 1},
    )
    minimal = dfa.minimize()
    assert len(minimal) == 1 and minimal.equivalent(tomita_dfa(1))
    assert not dfa.equivalent(tomita_dfa(2))


def test_labelled_automaton_predicts_labels_and_draws():
    dfa = DFA((0, 1), ("a", "b"), {(0, "a"): 1, (1, "a"): 0}, 0, {0}, labels={0: "even", 1: "odd"})
    np.testing.assert_array_equal(
        dfa.predict(["", "a", "aa", "ab"]), ["even", "odd", "even", "odd"]
    )
    assert 'doublecircle, label="0\\neven"' in dfa.to_dot()
    import matplotlib

    matplotlib.use("Agg")
    ax = tomita_dfa(3).plot()
    assert len(ax.texts) >= 4
    with pytest.raises(ValueError, match="start state"):
        DFA((0,), ("a",), {}, 5, set())


def test_balanced_parentheses():
    for split, (low, high) in (("train", (1, 5)), ("test", (6, 10))):
        X, y = make_balanced_parentheses(n=200, split=split, random_state=0)
        assert y.sum() == 100 and all(len(x) <= 100 for x in X)
        for x, label in zip(X, y, strict=True):
            assert set(x) <= set("abcdefghijklmnopqrstuvwxyz()")
            if label:
                depth, deepest = 0, 0
                for c in x:
                    depth += {"(": 1, ")": -1}.get(c, 0)
                    assert depth >= 0
                    deepest = max(deepest, depth)
                assert depth == 0 and low <= deepest <= high
            else:
                assert x.count("(") != x.count(")")
    with pytest.raises(ValueError, match="split"):
        make_balanced_parentheses(split="valid")
