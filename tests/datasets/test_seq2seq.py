"""Generated sequence-to-sequence tasks: dates, number words and transductions."""

import datetime
import doctest

import numpy as np
import pytest

import seqestim.datasets.seq2seq as module
from seqestim.datasets import make_date_normalization, make_number_words, make_transduction
from seqestim.datasets.seq2seq import number_words

# spellings checked by hand against each language's rules (see the module docstring)
KNOWN = {
    "en": {0: "zero", 13: "thirteen", 21: "twenty-one", 105: "one hundred five",
           1234: "one thousand two hundred thirty-four", 90_017: "ninety thousand seventeen",
           1_000_000: "one million", 2_000_300: "two million three hundred"},
    "fr": {1: "un", 17: "dix-sept", 21: "vingt et un", 71: "soixante et onze",
           77: "soixante-dix-sept", 80: "quatre-vingts", 81: "quatre-vingt-un",
           91: "quatre-vingt-onze", 100: "cent", 200: "deux cents", 201: "deux cent un",
           1000: "mille", 2000: "deux mille", 80_000: "quatre-vingt mille",
           200_000: "deux cent mille", 1_000_000: "un million",
           200_000_000: "deux cents millions"},
    "de": {1: "eins", 16: "sechzehn", 17: "siebzehn", 21: "einundzwanzig", 30: "dreißig",
           101: "einhunderteins", 1001: "eintausendeins", 21_000: "einundzwanzigtausend",
           101_000: "einhunderteintausend", 1_000_000: "eine Million",
           2_000_001: "zwei Millionen eins"},
    "es": {1: "uno", 16: "dieciséis", 21: "veintiuno", 22: "veintidós", 31: "treinta y uno",
           100: "cien", 101: "ciento uno", 500: "quinientos", 1000: "mil",
           21_000: "veintiún mil", 31_000: "treinta y un mil", 101_000: "ciento un mil",
           1_000_000: "un millón", 2_000_000: "dos millones"},
}  # fmt: skip


@pytest.mark.parametrize("language", sorted(KNOWN))
def test_number_words_known_spellings(language):
    for n, words in KNOWN[language].items():
        assert number_words(n, language) == words, n


@pytest.mark.parametrize("language", sorted(KNOWN))
def test_number_words_are_distinct(language):
    spelled = [number_words(n, language) for n in range(0, 100_000, 7)]
    assert len(set(spelled)) == len(spelled)


def test_make_number_words_pairs_and_lengths():
    X, y = make_number_words(300, language="de", max_digits=4, random_state=0)
    assert all(number_words(int(t), "de") == x for x, t in zip(X, y, strict=True))
    assert {len(t) for t in y} == {1, 2, 3, 4}  # the digit count is drawn uniformly
    figures, words = make_number_words(5, language="es", direction="to_words", random_state=0)
    assert words == [number_words(int(f), "es") for f in figures]
    assert make_number_words(5, random_state=3) == make_number_words(5, random_state=3)
    with pytest.raises(ValueError, match="language"):
        make_number_words(5, language="it")
    with pytest.raises(ValueError, match="max_digits"):
        make_number_words(5, max_digits=10)


def test_dates_have_one_reading_and_iso_targets():
    X, y = make_date_normalization(20_000, random_state=0)
    readings = {}
    for source, target in zip(X, y, strict=True):
        assert readings.setdefault(source, target) == target, source  # one reading per source
        date = datetime.date.fromisoformat(target)
        assert 1950 <= date.year <= 2049
    assert len(set(X)) > 15_000  # many formats and dates
    assert any("März" in x for x in X) and any("marzo" in x for x in X)
    assert any("/" in x for x in X) and any(x.count(".") == 2 for x in X)
    english = make_date_normalization(500, languages="en", random_state=1)[0]
    assert not any("mars" in x or "März" in x for x in english)
    assert make_date_normalization(5, random_state=2) == make_date_normalization(5, random_state=2)
    with pytest.raises(ValueError, match="languages"):
        make_date_normalization(5, languages=("xx",))


def test_transductions_and_their_lengths():
    for task, rule in (("reverse", lambda x: x[::-1]), ("copy", lambda x: x),
                       ("sort", np.sort)):  # fmt: skip
        X, y = make_transduction(100, task=task, min_length=3, max_length=7, vocabulary_size=5,
                                 random_state=0)  # fmt: skip
        assert {len(x) for x in X} == {3, 4, 5, 6, 7}
        for x, t in zip(X, y, strict=True):
            np.testing.assert_array_equal(t, rule(x))
            assert x.dtype == np.int64 and x.min() >= 0 and x.max() < 5
    # the vocabulary mapping is one fixed permutation, whatever the random_state
    X1, y1 = make_transduction(50, task="copy", vocabulary_mapping=True, random_state=1)
    X2, y2 = make_transduction(50, task="copy", vocabulary_mapping=True, random_state=2)
    mapping = {}
    for x, t in zip([*X1, *X2], [*y1, *y2], strict=True):
        for a, b in zip(x, t, strict=True):
            assert mapping.setdefault(int(a), int(b)) == int(b)
    assert sorted(mapping.values()) == sorted(mapping) and mapping != {k: k for k in mapping}
    with pytest.raises(ValueError, match="task"):
        make_transduction(5, task="shuffle")
    with pytest.raises(ValueError, match="max_length"):
        make_transduction(5, min_length=4, max_length=3)


def test_docstring_examples_run():
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner()
    for test in finder.find(module):
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
