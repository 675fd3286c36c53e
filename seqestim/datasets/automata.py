"""Regular and bracket languages for automaton learning: Tomita grammars, balanced parentheses.

- :class:`DFA`: a deterministic finite automaton (the reference automata of the Tomita
  grammars, and what :meth:`seqestim.estimators.sr_rnn.SRRNNClassifier.extract_automaton`
  returns) with ``accepts``, ``predict``, minimisation, equivalence, ``to_dot`` and ``plot``.
- :func:`make_tomita`: strings of the seven Tomita grammars (Tomita 1982), labelled by
  membership, with as many positives as negatives.
- :func:`make_balanced_parentheses`: the balanced-parentheses task of Wang & Niepert (2019),
  with the paper's split of nesting depths 1-5 (train) and 6-10 (the long test).

The Tomita languages over ``{0, 1}`` (the rules checked against the automata in the tests):

1. ``1*``;
2. ``(10)*``;
3. no odd run of 1s is ever followed, later, by an odd run of 0s;
4. no ``000``;
5. even number of 0s and even number of 1s;
6. ``(#0 - #1) mod 3 == 0``;
7. ``0*1*0*1*``.

References: M. Tomita. "Dynamic construction of finite-state automata from examples using
hill-climbing." CogSci 1982. Q. Wang, M. Niepert. "State-Regularized Recurrent Neural
Networks." ICML 2019, arXiv:1901.08817.
"""

from __future__ import annotations

import collections
import dataclasses
import numbers
from collections.abc import Hashable, Iterable, Mapping

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["DFA", "make_balanced_parentheses", "make_tomita", "tomita_dfa"]


@dataclasses.dataclass(frozen=True, eq=False)
class DFA:
    """A deterministic finite automaton; a missing transition leads to an implicit rejecting sink.

    Parameters
    ----------
    states : tuple
        The states (any hashable values).
    alphabet : tuple
        The input symbols (characters, tokens or integers).
    transitions : mapping of (state, symbol) -> state
        The transition function; pairs left out go to a rejecting sink.
    start : hashable
        The initial state.
    accepting : frozenset
        The accepting states.
    labels : mapping of state -> label, optional
        An output label per state (a Moore machine), for automata extracted from classifiers
        with any labels; :meth:`predict` returns them. By default a state's label is whether it
        accepts.
    """

    states: tuple
    alphabet: tuple
    transitions: Mapping[tuple[Hashable, Hashable], Hashable]
    start: Hashable
    accepting: frozenset
    labels: Mapping[Hashable, object] | None = None

    def __post_init__(self):
        object.__setattr__(self, "states", tuple(self.states))
        object.__setattr__(self, "alphabet", tuple(self.alphabet))
        object.__setattr__(self, "accepting", frozenset(self.accepting))
        object.__setattr__(self, "transitions", dict(self.transitions))
        known = set(self.states)
        if self.start not in known:
            raise ValueError(f"The start state {self.start!r} is not among the states.")
        if not self.accepting <= known:
            raise ValueError(f"Accepting states {sorted(self.accepting - known)} are unknown.")
        for (state, symbol), target in self.transitions.items():
            if state not in known or target not in known or symbol not in self.alphabet:
                raise ValueError(f"Transition {state!r} --{symbol!r}--> {target!r} is invalid.")

    # ------------------------------------------------------------------ running
    def run(self, sequence: Iterable) -> Hashable | None:
        """The state reached after reading ``sequence``; None once a transition is missing."""
        state = self.start
        for symbol in sequence:
            state = self.transitions.get((state, symbol))
            if state is None:
                return None
        return state

    def accepts(self, sequence: Iterable) -> bool:
        """Whether the automaton accepts ``sequence`` (a string, or a sequence of symbols)."""
        return self.run(sequence) in self.accepting

    def predict(self, sequences: Iterable) -> np.ndarray:
        """The label of the state reached by each sequence (its acceptance without ``labels``).

        A sequence that falls into the implicit sink gets the label of a rejecting state
        (False without ``labels``; with ``labels``, the label of the rejecting states when
        they all share one).
        """
        out = []
        for sequence in sequences:
            state = self.run(sequence)
            if self.labels is None:
                out.append(state in self.accepting)
            elif state is None:
                out.append(self._sink_label())
            else:
                out.append(self.labels[state])
        return np.asarray(out)

    def _sink_label(self):
        rejecting = {self.labels[s] for s in self.states if s not in self.accepting}
        if len(rejecting) != 1:
            raise ValueError("A sequence left the automaton and the sink has no single label.")
        return rejecting.pop()

    def __len__(self) -> int:
        return len(self.states)

    # ------------------------------------------------------------------ analysis
    def _complete(self):
        """States, table ``delta[i, a]`` and output of each state, with an explicit sink."""
        states = list(self.states)
        sink = len(states)
        index = {s: i for i, s in enumerate(states)}
        delta = np.full((sink + 1, len(self.alphabet)), sink, dtype=np.int64)
        for (state, symbol), target in self.transitions.items():
            delta[index[state], self.alphabet.index(symbol)] = index[target]
        if self.labels is None:
            outputs = [s in self.accepting for s in states] + [False]
        else:
            outputs = [self.labels[s] for s in states]
            rejecting = {self.labels[s] for s in self.states if s not in self.accepting}
            if (delta[:-1] == sink).any():  # a real state falls into the sink
                outputs.append(self._sink_label())
            else:  # the sink only matters for merging dead states into it
                outputs.append(rejecting.pop() if len(rejecting) == 1 else None)
        return states, delta, outputs, index

    def minimize(self) -> DFA:
        """The minimal equivalent automaton (reachable states, Moore's partition refinement).

        States are renumbered ``0..k-1`` in breadth-first order from the start; states that
        can never reach acceptance (with ``labels``: that only lead to the rejecting label)
        merge into the implicit sink and disappear.
        """
        states, delta, outputs, index = self._complete()
        sink, start = len(states), index[self.start]
        reachable, queue = {start, sink}, collections.deque([start])
        while queue:
            for target in delta[queue.popleft()]:
                if int(target) not in reachable:
                    reachable.add(int(target))
                    queue.append(int(target))
        # Moore refinement: blocks by output, split until the successors' blocks agree
        order = sorted(reachable)
        block = {s: outputs[s] for s in order}
        while True:
            signature = {s: (block[s], *(block[int(t)] for t in delta[s])) for s in order}
            names: dict = {}
            refined = {s: names.setdefault(signature[s], len(names)) for s in order}
            done = len(names) == len(set(block.values()))
            block = refined
            if done:
                break
        dead = block[sink]
        labelled = self.labels is not None
        if block[start] == dead:  # the automaton accepts nothing: one rejecting state
            labels = {0: outputs[sink]} if labelled else None
            return DFA((0,), self.alphabet, {}, 0, frozenset(), labels)
        # breadth-first numbering of the live blocks
        number, seen, queue = {block[start]: 0}, {start}, collections.deque([start])
        while queue:
            s = queue.popleft()
            for t in map(int, delta[s]):
                if block[t] != dead and block[t] not in number:
                    number[block[t]] = len(number)
                if t not in seen and block[t] != dead:
                    seen.add(t)
                    queue.append(t)
        transitions, output_of = {}, {}
        for s in order:
            if block[s] == dead:
                continue
            output_of[number[block[s]]] = outputs[s]
            for a, t in enumerate(map(int, delta[s])):
                if block[t] != dead:
                    transitions[(number[block[s]], self.alphabet[a])] = number[block[t]]
        if labelled:
            accepting_labels = {self.labels[s] for s in self.accepting}
            accepting = {b for b, o in output_of.items() if o in accepting_labels}
            labels = dict(output_of)
        else:
            accepting, labels = {b for b, o in output_of.items() if o}, None
        return DFA(tuple(range(len(number))), self.alphabet, transitions, 0, accepting, labels)

    def equivalent(self, other: DFA) -> bool:
        """Whether both automata give every sequence the same output (product search)."""
        if set(self.alphabet) != set(other.alphabet):
            return False
        _, my_delta, my_out, my_index = self._complete()
        _, their_delta, their_out, their_index = other._complete()
        start = (my_index[self.start], their_index[other.start])
        seen, queue = {start}, collections.deque([start])
        while queue:
            a, b = queue.popleft()
            if my_out[a] != their_out[b]:
                return False
            for symbol in self.alphabet:
                pair = (
                    int(my_delta[a, self.alphabet.index(symbol)]),
                    int(their_delta[b, other.alphabet.index(symbol)]),
                )
                if pair not in seen:
                    seen.add(pair)
                    queue.append(pair)
        return True

    # ------------------------------------------------------------------ counting and sampling
    def _count_table(self, length: int) -> tuple[list, np.ndarray, list, np.ndarray]:
        """``counts[r, i]``: accepted completions of ``r`` more symbols from state ``i``."""
        states, delta, _, index = self._complete()
        accepting = np.array([s in self.accepting for s in states] + [False])  # sink rejects
        counts = np.zeros((length + 1, len(states) + 1), dtype=object)  # exact integers
        counts[0] = accepting.astype(int)
        for r in range(1, length + 1):
            counts[r] = counts[r - 1][delta].sum(axis=1)
        return states, delta, index, counts

    def count(self, length: int, accepted: bool = True) -> int:
        """Number of sequences of ``length`` symbols that are (not) accepted."""
        _, _, index, counts = self._count_table(length)
        n_accepted = int(counts[length, index[self.start]])
        return n_accepted if accepted else len(self.alphabet) ** length - n_accepted

    def sample(self, length: int, accepted: bool, rng) -> list:
        """A sequence drawn uniformly among those of ``length`` symbols that are (not) accepted."""
        _, delta, index, counts = self._count_table(length)
        total = len(self.alphabet) ** np.arange(length + 1, dtype=object)
        state, out = index[self.start], []
        for remaining in range(length, 0, -1):
            good = counts[remaining - 1][delta[state]]  # accepted completions per symbol
            weights = good if accepted else total[remaining - 1] - good
            weights = np.asarray(weights, dtype=float)
            if weights.sum() <= 0:
                raise ValueError(
                    f"No {'accepted' if accepted else 'rejected'} sequence of length {length}."
                )
            symbol = int(rng.choice(len(weights), p=weights / weights.sum()))
            out.append(self.alphabet[symbol])
            state = int(delta[state, symbol])
        return out

    # ------------------------------------------------------------------ display
    def to_dot(self) -> str:
        """The automaton in Graphviz's DOT language (accepting states are double circles)."""
        lines = ["digraph DFA {", "  rankdir=LR;", '  __start [shape=point, label=""];']
        for state in self.states:
            shape = "doublecircle" if state in self.accepting else "circle"
            label = state if self.labels is None else f"{state}\\n{self.labels[state]}"
            lines.append(f'  "{state}" [shape={shape}, label="{label}"];')
        lines.append(f'  __start -> "{self.start}";')
        grouped: dict = collections.defaultdict(list)
        for (state, symbol), target in self.transitions.items():
            grouped[(state, target)].append(str(symbol))
        for (state, target), symbols in grouped.items():
            label = ",".join(sorted(symbols)).replace('"', '\\"')
            lines.append(f'  "{state}" -> "{target}" [label="{label}"];')
        lines.append("}")
        return "\n".join(lines)

    def plot(self, ax=None):
        """Draw the automaton with matplotlib (states on a circle); returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4 + 0.4 * len(self.states), 4))
        n = len(self.states)
        angles = np.linspace(0, 2 * np.pi, n, endpoint=False) + np.pi / 2
        position = {s: (np.cos(a), np.sin(a)) for s, a in zip(self.states, angles, strict=True)}
        radius = 0.12
        grouped: dict = collections.defaultdict(list)
        for (state, symbol), target in self.transitions.items():
            grouped[(state, target)].append(str(symbol))
        for (state, target), symbols in grouped.items():
            label = ",".join(sorted(symbols))
            (x0, y0), (x1, y1) = position[state], position[target]
            if state == target:  # a self-loop outside the circle of states
                cx, cy = 1.28 * x0, 1.28 * y0
                ax.add_patch(plt.Circle((cx, cy), 0.12, fill=False, lw=1))
                ax.text(1.5 * x0, 1.5 * y0, label, ha="center", va="center", fontsize=9)
                continue
            ax.annotate(
                "",
                xy=(x1, y1),
                xytext=(x0, y0),
                arrowprops={
                    "arrowstyle": "->",
                    "shrinkA": 12,
                    "shrinkB": 12,
                    "connectionstyle": "arc3,rad=0.15",
                },
            )
            mx, my = (x0 + x1) / 2 + 0.08 * (y1 - y0), (y0 + y1) / 2 - 0.08 * (x1 - x0)
            ax.text(mx, my, label, ha="center", va="center", fontsize=9)
        for state, (x, y) in position.items():
            ax.add_patch(plt.Circle((x, y), radius, fill=True, color="white", ec="black", zorder=2))
            if state in self.accepting:
                ax.add_patch(plt.Circle((x, y), radius * 0.8, fill=False, ec="black", zorder=3))
            ax.text(x, y, str(state), ha="center", va="center", zorder=4)
        sx, sy = position[self.start]
        ax.annotate(
            "",
            xy=(sx, sy),
            xytext=(sx - 0.45, sy + 0.2),
            arrowprops={"arrowstyle": "->", "shrinkB": 12},
        )
        ax.set_xlim(-1.8, 1.8)
        ax.set_ylim(-1.8, 1.8)
        ax.set_aspect("equal")
        ax.axis("off")
        return ax


# ---------------------------------------------------------------------------- Tomita grammars
# minimal automata over "0", "1"; state 0 starts; a dead state is left implicit
_TOMITA = {
    1: ({(0, "1"): 0}, {0}),
    2: ({(0, "1"): 1, (1, "0"): 0}, {0}),
    # 0: no odd 1-run completed, even 1-run so far; 1: odd 1-run in progress;
    # 2: an odd 1-run was completed, odd 0-run in progress; 3: ..., even 0-run or 1-run
    3: (
        {(0, "0"): 0, (0, "1"): 1, (1, "0"): 2, (1, "1"): 0, (2, "0"): 3, (3, "0"): 2, (3, "1"): 3},
        {0, 1, 3},
    ),
    4: ({(0, "1"): 0, (0, "0"): 1, (1, "1"): 0, (1, "0"): 2, (2, "1"): 0}, {0, 1, 2}),
    # parities (#0, #1): 0 = (even, even), 1 = (odd, even), 2 = (even, odd), 3 = (odd, odd)
    5: (
        {
            (0, "0"): 1,
            (0, "1"): 2,
            (1, "0"): 0,
            (1, "1"): 3,
            (2, "0"): 3,
            (2, "1"): 0,
            (3, "0"): 2,
            (3, "1"): 1,
        },
        {0},
    ),
    6: ({(0, "0"): 1, (0, "1"): 2, (1, "0"): 2, (1, "1"): 0, (2, "0"): 0, (2, "1"): 1}, {0}),
    7: (
        {(0, "0"): 0, (0, "1"): 1, (1, "1"): 1, (1, "0"): 2, (2, "0"): 2, (2, "1"): 3, (3, "1"): 3},
        {0, 1, 2, 3},
    ),
}


def tomita_dfa(grammar: int) -> DFA:
    """The minimal automaton of Tomita grammar ``grammar`` (1..7) over the symbols "0", "1".

    Examples
    --------
    >>> from seqestim.datasets import tomita_dfa
    >>> dfa = tomita_dfa(4)
    >>> dfa.accepts("1001"), dfa.accepts("10001")
    (True, False)
    """
    if grammar not in _TOMITA:
        raise ValueError(f"grammar must be an integer from 1 to 7; got {grammar!r}.")
    transitions, accepting = _TOMITA[grammar]
    states = tuple(sorted({s for s, _ in transitions} | set(transitions.values()) | {0}))
    return DFA(states, ("0", "1"), transitions, 0, frozenset(accepting))


def _check_int(name: str, value, minimum: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def make_tomita(
    grammar: int = 1,
    n: int = 1000,
    min_length: int = 0,
    max_length: int = 20,
    *,
    random_state=None,
) -> tuple[list[str], np.ndarray]:
    """Binary strings labelled by membership in a Tomita grammar, half of them positive.

    For each label, a length is drawn uniformly among the lengths in
    ``[min_length, max_length]`` that have strings with that label, then a string uniformly
    among them (by counting the completions in the grammar's automaton), so that the rare
    positives of grammars 1 and 2 are as frequent as the negatives (and repeat).

    Parameters
    ----------
    grammar : int, default=1
        Which of the seven Tomita grammars (see the module docstring).
    n : int, default=1000
        Number of strings; ``n // 2`` are positive.
    min_length, max_length : int, default=0, 20
        Range of the string lengths (the empty string is a valid string).
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : list of str
        Strings over "0" and "1".
    y : ndarray of shape (n,), int64
        1 for strings of the language, 0 otherwise.

    Examples
    --------
    >>> from seqestim.datasets import make_tomita
    >>> X, y = make_tomita(grammar=2, n=4, max_length=8, random_state=0)
    >>> [x for x, label in zip(X, y) if label]  # strings of (10)*, the empty one included
    ['10', '']
    """
    dfa = tomita_dfa(grammar)
    n = _check_int("n", n, 1)
    min_length = _check_int("min_length", min_length, 0)
    max_length = _check_int("max_length", max_length, 0)
    if max_length < min_length:
        raise ValueError(f"max_length ({max_length}) must be >= min_length ({min_length}).")
    rng = check_random_state(random_state)
    labels = np.zeros(n, dtype=np.int64)
    labels[: n // 2] = 1
    rng.shuffle(labels)
    lengths = {
        accepted: [
            length
            for length in range(min_length, max_length + 1)
            if dfa.count(length, accepted) > 0
        ]
        for accepted in (True, False)
    }
    X = []
    for label in labels:
        valid = lengths[bool(label)]
        if not valid:
            raise ValueError(
                f"Tomita grammar {grammar} has no {'positive' if label else 'negative'} string "
                f"with a length in [{min_length}, {max_length}]."
            )
        length = int(valid[rng.randint(len(valid))])
        X.append("".join(dfa.sample(length, bool(label), rng)))
    return X, labels


# ---------------------------------------------------------------------- balanced parentheses
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_SPLITS = {"train": (1, 5), "test": (6, 10)}


def _balanced(depth: int, max_length: int, rng) -> str:
    """A balanced string of parentheses and letters whose deepest nesting is exactly ``depth``.

    A spine of ``depth`` nested pairs guarantees the depth; every level of it gets random
    letters and shallower groups around the deeper part, all within ``max_length``.
    """
    budget = max_length - 2 * depth  # characters left beyond the bare spine

    def filler(max_depth: int) -> str:
        nonlocal budget
        pieces = []
        while budget > 0 and rng.uniform() < 0.5:
            if max_depth > 0 and budget >= 3 and rng.uniform() < 0.4:
                budget -= 2
                pieces.append("(" + filler(max_depth - 1) + ")")
            else:
                budget -= 1
                pieces.append(_LETTERS[rng.randint(26)])
        return "".join(pieces)

    inner = filler(0) or ""
    for level in range(depth):  # from the innermost pair outwards
        inner = filler(level) + "(" + inner + ")" + filler(level)
    return inner


def make_balanced_parentheses(
    n: int = 1000,
    split: str = "train",
    *,
    depth: tuple[int, int] | None = None,
    max_length: int = 100,
    random_state=None,
) -> tuple[list[str], np.ndarray]:
    """Strings of letters and parentheses labelled by whether the parentheses are balanced.

    Positives follow the grammar ``S -> (S) | SS | a | ... | z`` with a deepest nesting drawn
    uniformly in ``depth``; a negative is a positive in which every character was replaced,
    with probability 1/2, by a random character from ``a-z()``, kept when its numbers of ``(``
    and ``)`` differ (as in the paper's generator; no negative has equal counts). Half of the
    strings are positive.

    Parameters
    ----------
    n : int, default=1000
        Number of strings.
    split : {"train", "test"}, default="train"
        The paper's depths: 1-5 for training, 6-10 for the long test.
    depth : (int, int), optional
        The range of nesting depths of the positives, overriding ``split``.
    max_length : int, default=100
        Longest string.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : list of str
        The strings.
    y : ndarray of shape (n,), int64
        1 for balanced strings, 0 otherwise.

    Examples
    --------
    >>> from seqestim.datasets import make_balanced_parentheses
    >>> X, y = make_balanced_parentheses(n=4, split="test", random_state=0)
    >>> [x.count("(") == x.count(")") for x in X] == [bool(label) for label in y]
    True
    """
    n = _check_int("n", n, 1)
    if depth is None:
        if split not in _SPLITS:
            raise ValueError(f"split must be one of {sorted(_SPLITS)}; got {split!r}.")
        depth = _SPLITS[split]
    low, high = (_check_int("depth", d, 1) for d in depth)
    if high < low:
        raise ValueError(f"depth must be a range (low, high) with low <= high; got {depth!r}.")
    max_length = _check_int("max_length", max_length, 2 * high)
    rng = check_random_state(random_state)
    labels = np.zeros(n, dtype=np.int64)
    labels[: n // 2] = 1
    rng.shuffle(labels)
    alphabet = _LETTERS + "()"
    X = []
    for label in labels:
        while True:
            string = _balanced(int(rng.randint(low, high + 1)), max_length, rng)
            if label:
                break
            chars = [
                alphabet[rng.randint(len(alphabet))] if rng.uniform() < 0.5 else c for c in string
            ]
            string = "".join(chars)
            if string.count("(") != string.count(")"):
                break
        X.append(string)
    return X, labels
