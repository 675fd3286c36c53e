"""The five context-free language-modelling tasks of DuSell & Chiang (2022), with their bound.

Each task is a probabilistic context-free grammar. :func:`make_cfl` draws strings as the paper
does: a length uniformly among the lengths in ``[min_length, max_length]`` that the grammar can
produce, then a string from the grammar conditioned on that length. It also returns the exact
lower bound of the cross-entropy that any language model can reach on the strings drawn, in
nats per symbol with the end of the string counted as one more symbol (the model must predict
it too)::

    p(w) = p_G(w | |w|) / n_valid_lengths
    lower_bound = sum_w -log p(w) / sum_w (|w| + 1)

``p_G(w | l)`` has a closed form for marked and unmarked reversal (every string of a length is
equally likely: ``2^-m`` with ``m`` the length of the reversed half); for the other three tasks
it is computed by the inside algorithm over every derivation (padded reversal and the hardest
CFL are ambiguous). A model's distance to the bound is
:func:`seqestim.model_selection.cross_entropy_gap`.

The grammars, with ``cont(m) = 1 - 1/(m + 1)`` (a geometric number of repetitions of mean
``m``):

- ``"marked_reversal"``: ``S -> a S a`` (``p/2`` for a in {0, 1}), ``S -> #`` (``1 - p``),
  ``p = cont(mean_length)``: ``w # reverse(w)``.
- ``"unmarked_reversal"``: ``S -> a S a`` (``p/2``), ``S -> ε`` (``1 - p``): even palindromes.
- ``"padded_reversal"``: ``S -> a S a`` (``p/2``), ``S -> T_a`` (``(1 - p)/2``),
  ``T_a -> a T_a`` (``g``), ``T_a -> ε`` (``1 - g``), ``p = cont(mean_content_length)``,
  ``g = cont(mean_padding_length)``: ``w a^k reverse(w)``.
- ``"dyck"``: two bracket types; ``S -> S T`` (``s``), ``S -> T`` (``1 - s``),
  ``T -> l S r`` (``t/2``), ``T -> l r`` (``(1 - t)/2``), ``s = cont(mean_bracket_splits)``,
  ``t = cont(mean_nesting_depth - 1)``.
- ``"hardest_cfl"``: Greibach's hardest context-free language, as in the paper's appendix::

      S' -> R $ Q S L ;          L -> L' , U        L' -> , V L' (c) | ε
      R  -> U , R'               R' -> R' V , (c) | ε
      U  -> W U (u) | ε          V -> W V (v) | W    W -> ( | ) | [ | ] | $ (1/5 each)
      Q  -> L ; R (q) | ε        S -> S Q T (s) | T
      T  -> ( Q S Q ) (t/2) | [ Q S Q ] (t/2) | ( Q ) ((1-t)/2) | [ Q ] ((1-t)/2)

  with ``c = cont(mean_num_commas)``, ``u = cont(mean_short_filler_length)``,
  ``v = cont(mean_long_filler_length - 1)``, ``q = semicolon_probability``,
  ``s = cont(mean_bracket_splits)``, ``t = cont(mean_nesting_depth)``.

The default grammar parameters are those of the paper's experiments (see ``CFL_DEFAULTS``).

Reference: B. DuSell and D. Chiang. "Learning Hierarchical Structures with Differentiable
Nondeterministic Stacks." ICLR 2022, arXiv:2109.01982.
"""

from __future__ import annotations

import math
import numbers
from types import MappingProxyType

import numpy as np
from sklearn.utils import check_random_state

from seqestim.datasets._pcfg import PCFG

__all__ = ["CFL_DEFAULTS", "CFL_TASKS", "cfl_grammar", "make_cfl"]

#: The grammar parameters of each task, with the values of the paper's experiments.
CFL_DEFAULTS = MappingProxyType(
    {
        "marked_reversal": MappingProxyType({"mean_length": 60.0}),
        "unmarked_reversal": MappingProxyType({"mean_length": 60.0}),
        "padded_reversal": MappingProxyType(
            {"mean_content_length": 60.0, "mean_padding_length": 30.0}
        ),
        "dyck": MappingProxyType({"mean_bracket_splits": 1.0, "mean_nesting_depth": 40.0}),
        "hardest_cfl": MappingProxyType(
            {
                "mean_num_commas": 0.5,
                "mean_short_filler_length": 0.5,
                "mean_long_filler_length": 2.0,
                "semicolon_probability": 0.25,
                "mean_bracket_splits": 1.5,
                "mean_nesting_depth": 3.0,
            }
        ),
    }
)
CFL_TASKS = tuple(CFL_DEFAULTS)


def _continue(mean: float) -> float:
    """Probability of repeating once more so that the number of repetitions has this mean."""
    return 1.0 - 1.0 / (mean + 1.0)


def cfl_grammar(task: str, grammar_params: dict | None = None) -> PCFG:
    """The PCFG of one of the five tasks (see the module docstring).

    Parameters
    ----------
    task : {"marked_reversal", "unmarked_reversal", "padded_reversal", "dyck", "hardest_cfl"}
        Which language.
    grammar_params : dict, optional
        Grammar parameters to change from ``CFL_DEFAULTS[task]``.

    Returns
    -------
    grammar : PCFG
    """
    if task not in CFL_DEFAULTS:
        raise ValueError(f"Unknown task {task!r}; expected one of {CFL_TASKS}.")
    params = dict(CFL_DEFAULTS[task])
    unknown = set(grammar_params or {}) - set(params)
    if unknown:
        raise ValueError(
            f"Unknown grammar parameter(s) {sorted(unknown)} for {task!r}; "
            f"expected some of {sorted(params)}."
        )
    params.update(grammar_params or {})
    for name, value in params.items():
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be a number >= 0; got {value!r}.")
    if task in ("marked_reversal", "unmarked_reversal"):
        p = _continue(params["mean_length"])
        rules = [("S", (a, "S", a), p / 2) for a in "01"]
        rules.append(("S", ("#",) if task == "marked_reversal" else (), 1 - p))
        return PCFG("S", rules)
    if task == "padded_reversal":
        p = _continue(params["mean_content_length"])
        g = _continue(params["mean_padding_length"])
        rules = []
        for a in "01":
            rules += [
                ("S", (a, "S", a), p / 2),
                ("S", (f"T{a}",), (1 - p) / 2),
                (f"T{a}", (a, f"T{a}"), g),
                (f"T{a}", (), 1 - g),
            ]
        return PCFG("S", rules)
    if task == "dyck":
        if params["mean_nesting_depth"] < 1:
            raise ValueError("mean_nesting_depth must be >= 1 for the Dyck language.")
        s = _continue(params["mean_bracket_splits"])
        t = _continue(params["mean_nesting_depth"] - 1)
        rules = [("S", ("S", "T"), s), ("S", ("T",), 1 - s)]
        for left, right in ("()", "[]"):
            rules += [("T", (left, "S", right), t / 2), ("T", (left, right), (1 - t) / 2)]
        return PCFG("S", rules)
    # hardest CFL
    if params["mean_long_filler_length"] < 1:
        raise ValueError("mean_long_filler_length must be >= 1 for the hardest CFL.")
    if params["semicolon_probability"] > 1:
        raise ValueError("semicolon_probability must lie in [0, 1].")
    c = _continue(params["mean_num_commas"])
    u = _continue(params["mean_short_filler_length"])
    v = _continue(params["mean_long_filler_length"] - 1)
    q = params["semicolon_probability"]
    s = _continue(params["mean_bracket_splits"])
    t = _continue(params["mean_nesting_depth"])
    rules = [
        ("S'", ("R", "$", "Q", "S", "L", ";"), 1.0),
        ("L", ("L'", ",", "U"), 1.0),
        ("L'", (",", "V", "L'"), c),
        ("L'", (), 1 - c),
        ("R", ("U", ",", "R'"), 1.0),
        ("R'", ("R'", "V", ","), c),
        ("R'", (), 1 - c),
        ("U", ("W", "U"), u),
        ("U", (), 1 - u),
        ("V", ("W", "V"), v),
        ("V", ("W",), 1 - v),
        *[("W", (a,), 0.2) for a in "()[]$"],
        ("Q", ("L", ";", "R"), q),
        ("Q", (), 1 - q),
        ("S", ("S", "Q", "T"), s),
        ("S", ("T",), 1 - s),
    ]
    for left, right in ("()", "[]"):
        rules += [
            ("T", (left, "Q", "S", "Q", right), t / 2),
            ("T", (left, "Q", right), (1 - t) / 2),
        ]
    return PCFG("S'", rules)


def _check_length(name: str, value, minimum: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def make_cfl(
    task: str = "marked_reversal",
    n: int = 1000,
    min_length: int = 40,
    max_length: int = 80,
    *,
    random_state=None,
    grammar_params: dict | None = None,
) -> tuple[list[str], float]:
    """Draw strings of a context-free language and the exact lower bound of their cross-entropy.

    Parameters
    ----------
    task : {"marked_reversal", "unmarked_reversal", "padded_reversal", "dyck", "hardest_cfl"}, \
default="marked_reversal"
        The language (see the module docstring for the grammars). The symbols are the
        characters ``0 1 #`` (marked reversal), ``0 1`` (unmarked and padded reversal),
        ``( ) [ ]`` (Dyck) and ``( ) [ ] , ; $`` (hardest CFL).
    n : int, default=1000
        Number of strings.
    min_length, max_length : int, default=40, 80
        Lengths are drawn uniformly among the lengths in this range that the grammar can
        produce (the paper trains on 40..80 and tests on 40..100, one length at a time:
        ``min_length == max_length``).
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.
    grammar_params : dict, optional
        Grammar parameters to change from the paper's (``CFL_DEFAULTS[task]``), e.g.
        ``{"mean_nesting_depth": 10}`` for Dyck.

    Returns
    -------
    strings : list of str
        Each character is one symbol; fit a language model on them directly.
    lower_bound : float
        The cross-entropy of the true distribution of these strings, in nats per symbol, the
        end of every string counted as a symbol.

    Examples
    --------
    >>> from seqestim.datasets import make_cfl
    >>> strings, bound = make_cfl("marked_reversal", n=3, min_length=5, max_length=9,
    ...                           random_state=0)
    >>> strings
    ['10#01', '111#111', '00#00']
    >>> round(bound, 4)  # (3 ln 3 + (2 + 3 + 2) ln 2) nats / (6 + 8 + 6) symbols
    0.4074
    """
    n = _check_length("n", n, 1)
    min_length = _check_length("min_length", min_length, 0)
    max_length = _check_length("max_length", max_length, 0)
    if max_length < min_length:
        raise ValueError(f"max_length ({max_length}) must be >= min_length ({min_length}).")
    grammar = cfl_grammar(task, grammar_params)
    rng = check_random_state(random_state)
    probabilities = grammar.length_probabilities(max_length)  # (max_length + 1,)
    valid = [length for length in range(min_length, max_length + 1) if probabilities[length] > 0]
    if not valid:
        raise ValueError(
            f"The {task} grammar generates no string with a length in [{min_length}, {max_length}]."
        )
    lengths = rng.choice(valid, size=n)
    strings = [grammar.sample(int(length), rng) for length in lengths]
    log_n_valid = math.log(len(valid))
    if task in ("marked_reversal", "unmarked_reversal"):
        # every string of a length is equally likely: 2^-m for a reversed half of length m
        nats = sum(log_n_valid + (len(w) // 2) * math.log(2.0) for w in strings)
    else:
        p_strings = grammar.string_probabilities(strings)
        if (p_strings <= 0).any():  # pragma: no cover - would be a bug in the grammar code
            raise RuntimeError("A sampled string has probability 0 under its grammar.")
        p_lengths = probabilities[[len(w) for w in strings]]
        nats = float(np.sum(log_n_valid - np.log(p_strings) + np.log(p_lengths)))
    lower_bound = nats / sum(len(string) + 1 for string in strings)
    return strings, float(lower_bound)
