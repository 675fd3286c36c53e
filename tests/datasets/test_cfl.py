"""The five context-free tasks: grammars, length-conditioned sampling and the exact bound."""

import collections
import functools
import itertools
import math

import numpy as np
import pytest

from seqestim.datasets import CFL_TASKS, make_cfl
from seqestim.datasets.cfl import cfl_grammar


def _brute_force_conditional(task, length):
    """p_G(w | length) for every string of the alphabet of that length, by enumeration."""
    grammar = cfl_grammar(task)
    strings = ["".join(w) for w in itertools.product(grammar.terminals, repeat=length)]
    p = np.array([grammar.string_probability(w) for w in strings])
    return dict(zip(strings, p / p.sum(), strict=True))


def _naive_probability(grammar, string):
    """p_G(string) by memoised recursion on the original rules (empty rules included).

    Independent of the epsilon removal, unary closure and binarisation of the PCFG class. The
    probability that a symbol derives the empty string comes from its own fixed-point
    iteration; non-empty spans recurse on strictly smaller (symbols, span) problems because
    none of the task grammars has a cycle of unary rules.
    """
    rules = collections.defaultdict(list)
    for lhs, rhs, p in grammar.rules:
        rules[lhs].append((rhs, p))
    empty = dict.fromkeys(rules, 0.0)
    for _ in range(2000):
        empty = {
            a: sum(p * math.prod(empty.get(s, 0.0) for s in rhs) for rhs, p in rules[a])
            for a in rules
        }

    @functools.cache
    def inside(symbols, i, j):
        if i == j:
            return math.prod(empty.get(s, 0.0) for s in symbols)
        if not symbols:
            return 0.0
        if len(symbols) > 1:
            total = 0.0
            for m in range(i, j + 1):
                left, right = (symbols[:1], i, m), (symbols[1:], m, j)
                # the empty piece first: it is cheap, and often zero
                first, second = (left, right) if m == i else (right, left)
                value = inside(*first)
                total += value and value * inside(*second)
            return total
        (symbol,) = symbols
        if symbol not in rules:
            return float(j == i + 1 and string[i] == symbol)
        return sum(p * inside(rhs, i, j) for rhs, p in rules[symbol])

    return inside((grammar.start,), 0, len(string))


@pytest.mark.parametrize("task", CFL_TASKS)
def test_string_probabilities_equal_a_naive_recursion(task):
    grammar = cfl_grammar(task)
    strings, _ = make_cfl(task, 30, 6, 12, random_state=0)
    strings += [w[:-1] + w[0] for w in strings[:10]]  # mostly outside the language
    expected = [_naive_probability(grammar, w) for w in strings]
    np.testing.assert_allclose(grammar.string_probabilities(strings), expected, rtol=1e-10)


@pytest.mark.parametrize(
    "task",
    [
        "marked_reversal",
        "unmarked_reversal",
        "padded_reversal",
        "dyck",
        pytest.param("hardest_cfl", marks=pytest.mark.slow),  # 7^6 strings
    ],
)
def test_length_probabilities_equal_the_sum_over_strings(task):
    grammar = cfl_grammar(task)
    by_length = grammar.length_probabilities(7)
    for length in range(1, 7):
        strings = ["".join(w) for w in itertools.product(grammar.terminals, repeat=length)]
        total = grammar.string_probabilities(strings).sum()
        assert total == pytest.approx(by_length[length], rel=1e-10, abs=1e-300)


def test_marked_reversal_bound_equals_brute_force_enumeration():
    # the closed form (every string of length 2m+1 has probability 2^-m) against enumeration
    for length in (1, 3, 5, 7):
        conditional = _brute_force_conditional("marked_reversal", length)
        support = {w: p for w, p in conditional.items() if p > 0}
        m = length // 2
        assert len(support) == 2**m
        for w, p in support.items():
            assert w == w[::-1] and w[m] == "#" and "#" not in w[:m] + w[m + 1 :]
            assert p == pytest.approx(2.0**-m, rel=1e-12)
    # the bound of a sample over lengths 3..7: ln(#valid lengths) + m ln 2 per string
    strings, bound = make_cfl("marked_reversal", 300, 3, 7, random_state=0)
    by_enumeration = {n: _brute_force_conditional("marked_reversal", n) for n in (3, 5, 7)}
    nats = sum(math.log(3) - math.log(by_enumeration[len(w)][w]) for w in strings)
    assert bound == pytest.approx(nats / sum(len(w) + 1 for w in strings), rel=1e-12)


@pytest.mark.parametrize(
    "task", ["padded_reversal", "dyck", pytest.param("hardest_cfl", marks=pytest.mark.slow)]
)
def test_inside_bound_equals_brute_force_enumeration(task):
    strings, bound = make_cfl(task, 200, 4, 6, random_state=1)
    lengths = sorted({len(w) for w in strings})
    grammar = cfl_grammar(task)
    valid = [n for n in range(4, 7) if grammar.length_probabilities(6)[n] > 0]
    assert lengths == valid
    tables = {n: _brute_force_conditional(task, n) for n in valid}
    nats = sum(math.log(len(valid)) - math.log(tables[len(w)][w]) for w in strings)
    assert bound == pytest.approx(nats / sum(len(w) + 1 for w in strings), rel=1e-10)


def test_unmarked_reversal_closed_form_agrees_with_the_inside_algorithm():
    strings, bound = make_cfl("unmarked_reversal", 50, 10, 16, random_state=2)
    grammar = cfl_grammar("unmarked_reversal")
    p_length = grammar.length_probabilities(16)
    nats = sum(
        math.log(4) - math.log(grammar.string_probability(w) / p_length[len(w)]) for w in strings
    )
    assert bound == pytest.approx(nats / sum(len(w) + 1 for w in strings), rel=1e-10)
    assert all(w == w[::-1] and len(w) % 2 == 0 for w in strings)


@pytest.mark.parametrize(
    "task", ["dyck", "padded_reversal", pytest.param("hardest_cfl", marks=pytest.mark.slow)]
)
def test_samples_follow_the_conditional_distribution(task):
    length = 6
    exact = _brute_force_conditional(task, length)
    strings, _ = make_cfl(task, 3000, length, length, random_state=3)
    counts = collections.Counter(strings)
    assert all(exact[w] > 0 for w in counts)  # only strings of the language
    total_variation = 0.5 * sum(abs(counts[w] / 3000 - p) for w, p in exact.items())
    assert total_variation < 0.06


def test_strings_have_the_structure_of_their_language():
    strings, _ = make_cfl("dyck", 50, 20, 30, random_state=0)
    for w in strings:
        stack = []
        for c in w:
            if c in "([":
                stack.append(c)
            else:
                assert stack.pop() == {")": "(", "]": "["}[c]
        assert not stack and 20 <= len(w) <= 30
    strings, _ = make_cfl("padded_reversal", 50, 10, 20, random_state=0)
    assert all(w == w[::-1] for w in strings)
    strings, _ = make_cfl("hardest_cfl", 20, 10, 20, random_state=0)
    assert all(w.endswith(";") and "$" in w for w in strings)


def test_determinism_and_errors():
    first = make_cfl("dyck", 10, 10, 20, random_state=0)
    assert first == make_cfl("dyck", 10, 10, 20, random_state=np.random.RandomState(0))
    assert first != make_cfl("dyck", 10, 10, 20, random_state=1)
    with pytest.raises(ValueError, match="Unknown task"):
        make_cfl("palindromes")
    with pytest.raises(ValueError, match="no string with a length"):
        make_cfl("marked_reversal", 5, 4, 4)
    with pytest.raises(ValueError, match="max_length"):
        make_cfl("dyck", 5, 10, 8)
    with pytest.raises(ValueError, match="Unknown grammar parameter"):
        make_cfl("dyck", 5, grammar_params={"mean_length": 3})
    strings, _ = make_cfl("dyck", 5, 10, 12, grammar_params={"mean_nesting_depth": 2})
    assert len(strings) == 5
