"""The language-model task: scoring, chunking, prediction, generation and persistence."""

import numpy as np
import pytest
import torch

import seqestim
from seqestim import GRULanguageModel, LSTMLanguageModel, S5LanguageModel, TCNLanguageModel
from seqestim.estimators import named_estimators
from seqestim.estimators._tokens import BOS, EOS

TEXTS = ["abcabcabc", "bcabcabca", "cabcabcab"] * 6
SMALL = {"d_model": 8, "max_epochs": 3, "lr": 0.01, "random_state": 0}


@pytest.fixture(scope="module")
def fitted():
    return GRULanguageModel(**SMALL).fit(TEXTS)


def test_every_language_model_is_causal_and_learns():
    assert {c.__name__ for c in named_estimators("language_model")} >= {
        "GRULanguageModel",
        "LSTMLanguageModel",
        "S5LanguageModel",
    }
    for cls, extra in ((LSTMLanguageModel, {}), (S5LanguageModel, {"d_state": 8, "n_layers": 1})):
        lm = cls(**{**SMALL, "max_epochs": 60, "lr": 0.02, **extra}).fit(TEXTS)
        assert lm.perplexity(TEXTS) < 2.5  # a uniform guess among a, b, c gives 3


def test_score_is_minus_the_mean_token_cross_entropy_by_hand(fitted):
    text = "abcab"
    ids = [BOS, *fitted.vocabulary_.encode(text), EOS]
    module = fitted.module_.double().eval()
    with torch.no_grad():
        logits = module(torch.tensor([ids[:-1]]))[0]  # (L, V)
    log_proba = torch.log_softmax(logits, -1)
    by_hand = float(log_proba[torch.arange(len(ids) - 1), torch.tensor(ids[1:])].mean())
    fitted.module_.float()
    assert fitted.score([text]) == pytest.approx(by_hand, rel=1e-6)
    assert fitted.perplexity([text]) == pytest.approx(np.exp(-by_hand), rel=1e-6)


def test_chunks_cover_every_token_once():
    lm = TCNLanguageModel(d_model=4, n_layers=1, context_length=4, max_epochs=1).fit(TEXTS)
    inputs, targets = lm._chunks(["abcabcab"])
    assert (targets != -100).sum() == 8 + 1  # every character and <eos>
    assert inputs["x"][0, 0] == BOS and inputs["lengths"].max() <= 4
    # chunk k reads the token right before its first target
    assert inputs["x"][1, 0] == targets[0, 3]


def test_predict_proba_and_token_ids(fitted):
    proba = fitted.predict_proba(["ab", "abcab"])
    assert proba.shape == (2, fitted.vocab_size_) == (2, len(fitted.tokens_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    lm = GRULanguageModel(**SMALL).fit([[0, 1, 2, 0, 1, 2], [1, 2, 0]])
    assert list(lm.tokens_[4:]) == [0, 1, 2] and lm.vocabulary_ is None
    continuation = lm.generate([0, 1], max_new_tokens=5, random_state=0)
    assert continuation.dtype.kind == "i" and ((continuation >= 0) & (continuation <= 2)).all()
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        lm.score([[0, 5]])
    with pytest.raises(TypeError, match="token ids"):
        lm.score(["text"])


def test_generate_is_reproducible_and_survives_save_load(fitted, tmp_path):
    first = fitted.generate("ab", max_new_tokens=20, random_state=3)
    assert first == fitted.generate("ab", max_new_tokens=20, random_state=3)
    assert set(first) <= set("abc")
    assert fitted.generate("ab", max_new_tokens=5, temperature=0) == fitted.generate(
        "ab", max_new_tokens=5, temperature=0
    )
    fitted.save(tmp_path / "lm", overwrite=True)
    loaded = seqestim.load(tmp_path / "lm")
    assert loaded.vocabulary_ == fitted.vocabulary_
    assert loaded.generate("ab", max_new_tokens=20, random_state=3) == first
    assert loaded.score(TEXTS) == fitted.score(TEXTS)


def test_non_causal_backbones_and_bad_input_are_refused():
    with pytest.raises(ValueError, match="causal"):
        GRULanguageModel(bidirectional=True, max_epochs=1).fit(TEXTS)
    with pytest.raises(TypeError, match="single string"):
        GRULanguageModel(max_epochs=1).fit("abc")
    with pytest.raises(ValueError, match="empty"):
        GRULanguageModel(max_epochs=1).fit([])
    with pytest.raises(ValueError, match="tokenizer"):
        GRULanguageModel(tokenizer="bpe", max_epochs=1).fit(TEXTS)
    with pytest.raises(ValueError, match="temperature"):
        GRULanguageModel(**SMALL).fit(TEXTS).generate("a", temperature=-1)


def test_word_tokenizer_and_unknown_words():
    texts = ["the cat sat", "the dog sat", "a cat ran"] * 4
    lm = GRULanguageModel(tokenizer="word", **SMALL).fit(texts)
    assert "cat" in lm.tokens_ and lm.score(["the zebra sat"]) < 0  # <unk> is scored too
    assert all(word in {"the", "cat", "sat", "dog", "a", "ran"} for word in
               lm.generate("the", max_new_tokens=4, random_state=0).split())  # fmt: skip
