"""bAbI-style tasks: answers follow from the stories, supporting facts point at them."""

import re

import numpy as np
import pytest

from seqestim.datasets import BABI_TASKS, make_babi

LOCATIONS = {"bedroom", "kitchen", "garden", "hallway", "bathroom", "office"}


def _replay(story):
    """Re-simulate a story: actor locations, object holders and where dropped objects lie."""
    location, holder, lying = {}, {}, {}
    for sentence in story:
        words = sentence.rstrip(".").split()
        actor, obj = words[0], words[-1]
        if obj in LOCATIONS:
            location[actor] = obj
        elif re.search(r"picked up|got|grabbed|took", sentence):
            holder[obj] = actor
            lying.pop(obj, None)
        else:
            lying[obj] = location[holder.pop(obj)]
    return location, holder, lying


@pytest.mark.parametrize("task", sorted(BABI_TASKS))
def test_answers_follow_from_the_story(task):
    X, y, supporting = make_babi(task, n=300, random_state=0)
    assert len(X) == len(y) == len(supporting) == 300
    for (story, question), answer, support in zip(X, y, supporting, strict=True):
        location, holder, lying = _replay(story)
        actor = question.split()[2].rstrip("?") if task != "counting" else question.split()[4]
        if task == "single_supporting_fact":
            assert answer == location[actor]
            assert story[support[0]].split()[0] == actor and answer in story[support[0]]
            assert all(s.split()[0] != actor for s in story[support[0] + 1 :])
        elif task == "yes_no_questions":
            place = question.split()[-1].rstrip("?")
            assert answer == ("yes" if place == location[question.split()[1]] else "no")
        elif task == "two_supporting_facts":
            obj = question.split()[-1].rstrip("?")
            expected = location[holder[obj]] if obj in holder else lying[obj]
            assert answer == expected and len(support) == 2
            assert any(obj in story[i] for i in support) and any(
                answer in story[i] for i in support
            )
        else:
            actor = question.split()[2] if task == "lists_sets" else question.split()[4]
            carried = sorted(o for o, a in holder.items() if a == actor)
            if task == "counting":
                assert answer == ["none", "one", "two", "three"][len(carried)]
            else:
                assert answer == (",".join(carried) or "nothing")
            assert all(story[i].startswith(actor) for i in support)


def test_numbers_determinism_and_errors():
    first = make_babi(6, n=20, random_state=0)
    second = make_babi("yes_no_questions", n=20, random_state=np.random.RandomState(0))
    assert first[0] == second[0] and list(first[1]) == list(second[1])
    assert set(first[1]) <= {"yes", "no"}
    with pytest.raises(ValueError, match="Unknown task"):
        make_babi(3)
    with pytest.raises(ValueError, match="n must"):
        make_babi(1, n=0)
