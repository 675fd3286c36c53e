"""Token inputs: vocabularies (char, word, wordpiece) and padded batches of token ids."""

import pickle

import numpy as np
import pytest

from seqestim.estimators._tokens import (
    BOS,
    EOS,
    PAD,
    SPECIAL_TOKENS,
    UNK,
    Vocabulary,
    pad_token_sequences,
)

TEXTS = ["the cat sat.", "the dog sat on the mat!", "a cat, a dog"]


def test_special_tokens_come_first():
    assert (PAD, UNK, BOS, EOS) == (0, 1, 2, 3)
    for tokenizer in ("char", "word"):
        assert Vocabulary.fit(TEXTS, tokenizer).tokens[:4] == list(SPECIAL_TOKENS)


def test_char_and_word_round_trip_and_unknowns():
    chars = Vocabulary.fit(TEXTS, "char")
    assert chars.decode(chars.encode("the cat")) == "the cat"
    assert chars.encode("z")[0] == UNK  # never seen
    words = Vocabulary.fit(TEXTS, "word")
    assert words.split("the cat, sat.") == ["the", "cat", ",", "sat", "."]
    assert words.decode(words.encode("the cat sat")) == "the cat sat"
    assert words.encode("the zebra")[1] == UNK
    # most frequent first: "the" (3 times) gets the first free id
    assert words.tokens[4] == "the"


def test_max_size_and_min_frequency():
    words = Vocabulary.fit(TEXTS, "word", max_size=6)
    assert len(words) == 6
    frequent = Vocabulary.fit(TEXTS, "word", min_frequency=2)
    assert set(frequent.tokens[4:]) == {"the", "cat", "sat", "a", "dog"}
    with pytest.raises(ValueError, match="max_size"):
        Vocabulary.fit(TEXTS, "word", max_size=3)


def test_wordpiece_through_tokenizers():
    pytest.importorskip("tokenizers")
    corpus = [f"the {w}ing cat {w}s" for w in ("jump", "walk", "talk", "sing")] * 20
    vocabulary = Vocabulary.fit(corpus, "wordpiece", max_size=60)
    assert vocabulary.tokens[:4] == list(SPECIAL_TOKENS)
    ids = vocabulary.encode("the walking cat")
    assert ids.dtype == np.int64 and (ids >= 4).all()
    assert vocabulary.decode(ids) == "the walking cat"
    again = Vocabulary.from_json(vocabulary.to_json())  # what persistence stores
    np.testing.assert_array_equal(again.encode("the walking cat"), ids)


def test_vocabulary_pickles_without_its_caches():
    vocabulary = Vocabulary.fit(TEXTS, "word")
    vocabulary.encode("the cat")  # builds the lookup cache
    restored = pickle.loads(pickle.dumps(vocabulary))
    assert restored == vocabulary and "_index_cache" not in restored.__getstate__()


def test_padding_texts_and_ids():
    vocabulary = Vocabulary.fit(TEXTS, "char")
    ids, lengths = pad_token_sequences(["ab", "abcd"], vocabulary)
    assert ids.shape == (2, 4) and lengths.tolist() == [2, 4] and (ids[0, 2:] == PAD).all()
    ids, lengths = pad_token_sequences([[5, 6, 7], np.array([8])], vocab_size=9)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1]


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        ("abc", TypeError, "single string"),
        ([], ValueError, "empty"),
        ([[1, 2], []], ValueError, "empty"),
        ([[1.5, 2.0]], TypeError, "integer"),
        ([[1, 2], [3, 99]], ValueError, r"\[0, 10\)"),
        ([[-1, 2]], ValueError, r"\[0, 10\)"),
        (["text"], TypeError, "vocabulary"),
    ],
)
def test_bad_token_input_is_a_clear_error(X, error, match):
    with pytest.raises(error, match=match):
        pad_token_sequences(X, vocab_size=10)


def test_bad_texts_are_clear_errors():
    with pytest.raises(TypeError, match="single string"):
        Vocabulary.fit("abc")
    with pytest.raises(TypeError, match="not a str"):
        Vocabulary.fit(["ok", 3])
    with pytest.raises(ValueError, match="tokenizer"):
        Vocabulary.fit(TEXTS, "bpe")
