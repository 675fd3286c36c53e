"""bAbI-style question answering, generated: stories of a small world, questions, answers.

The bAbI tasks (Weston et al. 2016) cannot be downloaded here, so :func:`make_babi` simulates
their world instead: four actors move between six locations and pick up and drop three
objects; a story is the list of statements so far, and every question comes with the indices
of the statements that support its answer. Five task types follow the bAbI tasks of the same
names:

===========================  ====  ==============================  ==========================
task                         bAbI  question                        answer
===========================  ====  ==============================  ==========================
``"single_supporting_fact"``  1    Where is Mary?                  a location
``"two_supporting_facts"``    2    Where is the football?          a location (holder's move)
``"yes_no_questions"``        6    Is Mary in the kitchen?         yes / no (half each)
``"counting"``                7    How many objects is Mary ...?   none / one / two / three
``"lists_sets"``              8    What is Mary carrying?          nothing, or "apple,milk"
===========================  ====  ==============================  ==========================

As in the bAbI generator, a question is asked after every two statements when one can be
answered from the story so far (a location is known once the story said it); moves always go
to a different location; statements use several verbs ("went", "journeyed", "travelled",
"moved"; "picked up", "got", "grabbed", "took"; "dropped", "discarded", "put down", "left").
Answers are lower case; a set of objects is one answer, its objects sorted and joined by
commas.

Reference: J. Weston, A. Bordes, S. Chopra, A. M. Rush, B. van Merriënboer, A. Joulin,
T. Mikolov. "Towards AI-Complete Question Answering: A Set of Prerequisite Toy Tasks." ICLR
2016, arXiv:1502.05698.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["BABI_TASKS", "make_babi"]

#: task name -> the number of the bAbI task it follows
BABI_TASKS = {
    "single_supporting_fact": 1,
    "two_supporting_facts": 2,
    "yes_no_questions": 6,
    "counting": 7,
    "lists_sets": 8,
}
_DEFAULT_STATEMENTS = {1: 10, 2: 16, 6: 10, 7: 12, 8: 12}

ACTORS = ("John", "Mary", "Sandra", "Daniel")
LOCATIONS = ("bedroom", "kitchen", "garden", "hallway", "bathroom", "office")
OBJECTS = ("football", "apple", "milk")
_MOVES = ("went to", "journeyed to", "travelled to", "moved to")
_GRABS = ("picked up", "got", "grabbed", "took")
_DROPS = ("dropped", "discarded", "put down", "left")
_COUNTS = ("none", "one", "two", "three")


class _World:
    """The state of the simulated world and the statements that changed it."""

    def __init__(self, rng):
        self.rng = rng
        self.statements: list[str] = []
        self.location: dict[str, str] = {}  # known locations of actors
        self.last_move: dict[str, int] = {}
        self.holder: dict[str, str] = {}  # object -> actor holding it
        self.lying: dict[str, tuple[str, int, int]] = {}  # object -> (location, drop, move)
        self.grabbed: dict[str, int] = {}  # object -> statement of its last grab
        self.handling: dict[str, list[int]] = {a: [] for a in ACTORS}  # grabs/drops per actor

    def _pick(self, options):
        return options[self.rng.randint(len(options))]

    def move(self) -> None:
        actor = self._pick(ACTORS)
        choices = [loc for loc in LOCATIONS if loc != self.location.get(actor)]
        self.location[actor] = self._pick(choices)
        self.last_move[actor] = len(self.statements)
        self.statements.append(f"{actor} {self._pick(_MOVES)} the {self.location[actor]}.")

    def grab(self) -> bool:
        options = [
            (actor, obj)
            for actor in self.location
            for obj in OBJECTS
            if obj not in self.holder
            and (obj not in self.lying or self.lying[obj][0] == self.location[actor])
        ]
        if not options:
            return False
        actor, obj = self._pick(options)
        self.holder[obj] = actor
        self.lying.pop(obj, None)
        self.grabbed[obj] = len(self.statements)
        self.handling[actor].append(len(self.statements))
        self.statements.append(f"{actor} {self._pick(_GRABS)} the {obj}.")
        return True

    def drop(self) -> bool:
        options = sorted(self.holder.items())
        if not options:
            return False
        obj, actor = self._pick(options)
        del self.holder[obj]
        self.lying[obj] = (self.location[actor], len(self.statements), self.last_move[actor])
        self.handling[actor].append(len(self.statements))
        self.statements.append(f"{actor} {self._pick(_DROPS)} the {obj}.")
        return True

    def carrying(self, actor: str) -> list[str]:
        return sorted(obj for obj, holder in self.holder.items() if holder == actor)


def _statement(world: _World, task: int) -> None:
    """Add one statement: moves only for tasks 1 and 6, moves and handling otherwise."""
    if task in (1, 6):
        world.move()
        return
    draw = world.rng.uniform()
    if draw < 0.4 or not world.location:
        world.move()
    elif draw < 0.7:
        world.grab() or world.move()
    else:
        world.drop() or world.grab() or world.move()


def _question(world: _World, task: int):
    """A question the story so far answers: ``(question, answer, supporting)``, or None."""
    rng = world.rng
    if task in (1, 6):
        known = sorted(world.location)
        if not known:
            return None
        actor = known[rng.randint(len(known))]
        location = world.location[actor]
        support = (world.last_move[actor],)
        if task == 1:
            return f"Where is {actor}?", location, support
        if rng.uniform() < 0.5:
            return f"Is {actor} in the {location}?", "yes", support
        other = [loc for loc in LOCATIONS if loc != location]
        return f"Is {actor} in the {other[rng.randint(len(other))]}?", "no", support
    if task == 2:
        candidates = sorted(set(world.holder) | set(world.lying))
        if not candidates:
            return None
        obj = candidates[rng.randint(len(candidates))]
        if obj in world.holder:
            actor = world.holder[obj]
            support = tuple(sorted((world.grabbed[obj], world.last_move[actor])))
            return f"Where is the {obj}?", world.location[actor], support
        location, drop, move = world.lying[obj]
        return f"Where is the {obj}?", location, tuple(sorted((move, drop)))
    # counting and lists: about an actor the story has mentioned
    mentioned = sorted(a for a in ACTORS if a in world.location or world.handling[a])
    handlers = [a for a in mentioned if world.handling[a]]
    if not mentioned:
        return None
    # mostly about actors who handled objects, so that "none" does not dominate the answers
    pool = handlers if handlers and rng.uniform() < 0.75 else mentioned
    actor = pool[rng.randint(len(pool))]
    objects = world.carrying(actor)
    support = tuple(world.handling[actor])
    if task == 7:
        return f"How many objects is {actor} carrying?", _COUNTS[len(objects)], support
    return f"What is {actor} carrying?", ",".join(objects) or "nothing", support


def make_babi(
    task: str = "single_supporting_fact",
    n: int = 1000,
    *,
    n_statements: int | None = None,
    random_state=None,
):
    """Generate bAbI-style stories, questions, answers and supporting facts.

    Parameters
    ----------
    task : str or int, default="single_supporting_fact"
        A name of ``BABI_TASKS`` ("single_supporting_fact", "two_supporting_facts",
        "yes_no_questions", "counting", "lists_sets") or its bAbI number (1, 2, 6, 7, 8).
    n : int, default=1000
        Number of questions (bAbI's "1k" sets have 1,000).
    n_statements : int, optional
        Statements per story (10 for tasks 1 and 6, 16 for task 2, 12 for tasks 7 and 8);
        a question follows every second statement.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : list of (list of str, str)
        ``(story, question)`` pairs; the story is the list of statements before the question.
    y : ndarray of shape (n,), dtype object
        The answers (one word, or a comma-joined set of objects).
    supporting : list of tuple of int
        For each question, the indices in its story of the statements that support the answer.

    Examples
    --------
    >>> from seqestim.datasets import make_babi
    >>> X, y, supporting = make_babi("single_supporting_fact", n=2, random_state=0)
    >>> story, question = X[1]
    >>> question, y[1], story[supporting[1][0]]
    ('Where is Mary?', 'hallway', 'Mary journeyed to the hallway.')
    """
    number = BABI_TASKS.get(task, task)
    if number not in BABI_TASKS.values() or isinstance(number, bool):
        raise ValueError(
            f"Unknown task {task!r}; expected one of {sorted(BABI_TASKS)} or their bAbI numbers "
            f"{sorted(BABI_TASKS.values())}."
        )
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be an integer >= 1; got {n!r}.")
    if n_statements is None:
        n_statements = _DEFAULT_STATEMENTS[number]
    if not isinstance(n_statements, numbers.Integral) or n_statements < 2:
        raise ValueError(f"n_statements must be an integer >= 2; got {n_statements!r}.")
    rng = check_random_state(random_state)
    X, y, supporting = [], [], []
    while len(X) < n:
        world = _World(rng)
        for step in range(1, n_statements + 1):
            _statement(world, number)
            if step % 2 == 0 and len(X) < n:
                asked = _question(world, number)
                if asked is not None:
                    question, answer, support = asked
                    X.append((list(world.statements), question))
                    y.append(answer)
                    supporting.append(support)
    return X, np.asarray(y, dtype=object), supporting
