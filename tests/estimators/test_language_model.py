"""The language-model task: scoring, chunks and carried state, prediction, generation, saving."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import seqestim
from seqestim import GRULanguageModel, LSTMLanguageModel, S5LanguageModel, TCNLanguageModel
from seqestim.estimators import named_estimators
from seqestim.estimators._tokens import BOS, EOS
from seqestim.estimators.language_model import _stream_rows
from seqestim.nn.heads import IGNORE_INDEX, AdaptiveSoftmaxOutput

TEXTS = ["abcabcabc", "bcabcabca", "cabcabcab"] * 6
SMALL = {"d_model": 8, "max_epochs": 3, "lr": 0.01, "random_state": 0}


@pytest.fixture(scope="module")
def fitted():
    return GRULanguageModel(**SMALL).fit(TEXTS)


def _by_hand(lm, text: str, chunk: int | None = None) -> float:
    """Mean log-likelihood of ``<bos> text <eos>`` from the network's parts, in float64.

    ``chunk=None`` reads the whole text in one forward pass; otherwise every chunk of ``chunk``
    targets is read on its own (from the token before its first target).
    """
    ids = [BOS, *lm.vocabulary_.encode(text), EOS]
    module = copy.deepcopy(lm.module_).double().eval()
    n = len(ids) - 1
    chunk = n if chunk is None else chunk
    total = 0.0
    with torch.no_grad():
        for start in range(0, n, chunk):
            inputs = torch.tensor([ids[start : min(start + chunk, n)]])
            targets = torch.tensor(ids[start + 1 : start + chunk + 1])
            logits = module.head(module.backbone(inputs))[0]  # (L, V): the linear layer
            total -= float(F.cross_entropy(logits, targets, reduction="sum"))
    return total / n


def test_every_language_model_is_causal_and_learns():
    assert {c.__name__ for c in named_estimators("language_model")} >= {
        "GRULanguageModel",
        "LSTMLanguageModel",
        "S5LanguageModel",
    }
    for cls, extra in ((LSTMLanguageModel, {}), (S5LanguageModel, {"d_state": 8, "n_layers": 1})):
        lm = cls(**{**SMALL, "max_epochs": 60, "lr": 0.02, **extra}).fit(TEXTS)
        assert lm.perplexity(TEXTS) < 2.5  # a uniform guess among a, b, c gives 3


def test_score_is_minus_the_mean_token_cross_entropy_by_hand():
    long_text = "abcabcabcabcabcabcabcab"  # 24 targets: 6 chunks of 4
    # a recurrent model carries its state across the chunks: one pass over the whole text
    gru = GRULanguageModel(**SMALL, context_length=4).fit(TEXTS)
    assert gru.carries_state_ and gru.net_.iterator_train__shuffle is False  # streams in order
    assert gru.score([long_text]) == pytest.approx(_by_hand(gru, long_text), rel=1e-9)
    assert gru.perplexity([long_text]) == pytest.approx(np.exp(-_by_hand(gru, long_text)))
    # without carrying (and for a backbone that cannot), every chunk is read on its own
    cut = GRULanguageModel(**SMALL, context_length=4, carry_state=False).fit(TEXTS)
    assert not cut.carries_state_ and cut.net_.iterator_train__shuffle is True
    assert cut.score([long_text]) == pytest.approx(_by_hand(cut, long_text, 4), rel=1e-9)
    assert cut.score([long_text]) != pytest.approx(_by_hand(cut, long_text), rel=1e-6)
    tcn = TCNLanguageModel(d_model=4, n_layers=1, context_length=4, max_epochs=1).fit(TEXTS)
    assert not tcn.carries_state_
    assert tcn.score([long_text]) == pytest.approx(_by_hand(tcn, long_text, 4), rel=1e-9)
    # several texts: the mean over all their tokens
    texts = [long_text, "ab", "cab"]
    n_tokens = [len(t) + 1 for t in texts]
    expected = np.average([_by_hand(gru, t) for t in texts], weights=n_tokens)
    assert gru.score(texts) == pytest.approx(expected, rel=1e-9)


def _streams(sequences, C, n_streams, cut):
    return _stream_rows([np.asarray(s) + 10 for s in sequences], C, True, n_streams, cut)


@pytest.mark.parametrize("cut", [True, False])
def test_streams_cover_every_target_once_and_continue_row_by_row(cut):
    rng = np.random.RandomState(0)
    sequences = [rng.randint(0, 5, size=n) for n in (1, 30, 7, 12, 3, 19)]
    C, S = 4, 3
    rows = _streams(sequences, C, S, cut)
    assert len(rows.x) % S == 0 and (rows.lengths >= 1).all()
    # every target of every sequence exactly once, in order within its sequence (stream by
    # stream: row k * S + b is chunk k of stream b)
    row = np.arange(len(rows.x))
    order = np.lexsort((row // S, row % S))
    for index, sequence in enumerate(sequences):
        own = order[rows.document[order] == index]
        targets = rows.targets[own][rows.targets[own] != IGNORE_INDEX]
        np.testing.assert_array_equal(targets, [*(sequence + 10), EOS])
    # a row that continues reads on from the row one batch before, in the same stream
    for row in np.flatnonzero(rows.carry):
        before = row - S
        assert rows.document[before] == rows.document[row]
        assert rows.x[row, 0] == rows.targets[before, rows.lengths[before] - 1]
    # scoring (cut=False) reads every sequence from its start: its first chunk starts fresh
    if not cut:
        for index in range(len(sequences)):
            first = np.flatnonzero(rows.document == index)[0]
            assert rows.x[first, 0] == BOS and not rows.carry[first]
            assert rows.carry[np.flatnonzero(rows.document == index)[1:]].all()


def test_predict_proba_reads_the_whole_prefix_when_the_state_is_carried():
    gru = GRULanguageModel(**SMALL, context_length=3).fit(TEXTS)
    prefix = "abcabcabcab"
    ids = [BOS, *gru.vocabulary_.encode(prefix)]
    module = copy.deepcopy(gru.module_).double().eval()
    with torch.no_grad():
        expected = torch.softmax(module.head(module.backbone(torch.tensor([ids])))[0, -1], -1)
    np.testing.assert_allclose(gru.predict_proba([prefix, "a"])[0], expected.numpy(), rtol=1e-9)


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
    assert loaded.vocabulary_ == fitted.vocabulary_ and loaded.carries_state_
    assert loaded.generate("ab", max_new_tokens=20, random_state=3) == first
    assert loaded.score(TEXTS) == fitted.score(TEXTS)


@pytest.mark.parametrize("cls", [GRULanguageModel, TCNLanguageModel])
def test_greedy_generation_follows_predict_proba(cls):
    # step mode (a model that carries its state) and rereading the context (one that does
    # not) both pick, token by token, the most probable next token of the growing text
    lm = cls(d_model=8, max_epochs=8, lr=0.02, random_state=0, context_length=4).fit(TEXTS)
    text = "ca"
    generated = lm.generate(text, max_new_tokens=8, temperature=0)
    for token in generated:
        proba = lm.predict_proba([text])[0]
        proba[:3] = 0  # <pad>, <unk>, <bos> are never generated
        assert lm.tokens_[int(np.argmax(proba))] == token
        text += token


def test_early_stopping_holds_out_whole_sequences():
    lm = GRULanguageModel(**SMALL, early_stopping=True, validation_fraction=0.2)
    sequences = [np.arange(n) for n in range(1, 11)]
    train, valid = lm._validation_split(sequences)
    assert len(valid) == 2 and len(train) == 8
    assert sorted(len(s) for s in train + valid) == list(range(1, 11))
    (head,), (tail,) = lm._validation_split([np.arange(50)])
    np.testing.assert_array_equal(np.concatenate([head, tail]), np.arange(50))
    assert len(tail) == 10
    lm.fit(TEXTS)
    assert np.isfinite(lm.history_[-1, "valid_loss"])


def test_adaptive_softmax_scores_a_normalised_distribution():
    words = [f"w{i}" for i in range(40)]
    rng = np.random.RandomState(0)
    texts = [" ".join(rng.choice(words, size=12, p=np.arange(40, 0, -1) / 820)) for _ in range(30)]
    lm = GRULanguageModel(**SMALL, tokenizer="word", adaptive_softmax=[8, 20]).fit(texts)
    head = lm.module_.head
    assert isinstance(head, AdaptiveSoftmaxOutput)
    proba = lm.predict_proba(texts[:3])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # target_log_prob (training, scoring) agrees with the full distribution (prediction)
    h = torch.randn(6, head.in_features)
    targets = torch.tensor([0, 5, 8, 19, 20, head.out_features - 1])
    full = head.log_prob(h)
    torch.testing.assert_close(head.target_log_prob(h, targets), full[torch.arange(6), targets])
    assert np.isfinite(lm.score(texts))
    # "auto" keeps the full softmax for small vocabularies
    auto = GRULanguageModel(**SMALL, adaptive_softmax="auto").fit(TEXTS)
    assert not isinstance(auto.module_.head, AdaptiveSoftmaxOutput)
    with pytest.raises(ValueError, match="cutoffs"):
        GRULanguageModel(**SMALL, adaptive_softmax=[100]).fit(TEXTS)
    with pytest.raises(ValueError, match="adaptive_softmax"):
        GRULanguageModel(**SMALL, adaptive_softmax="yes").fit(TEXTS)


def test_non_causal_backbones_and_bad_input_are_refused():
    with pytest.raises(ValueError, match="causal"):
        GRULanguageModel(bidirectional=True, max_epochs=1).fit(TEXTS)
    with pytest.raises(TypeError, match="single string"):
        GRULanguageModel(max_epochs=1).fit("abc")
    with pytest.raises(ValueError, match="empty"):
        GRULanguageModel(max_epochs=1).fit([])
    with pytest.raises(ValueError, match="tokenizer"):
        GRULanguageModel(tokenizer="bpe", max_epochs=1).fit(TEXTS)
    with pytest.raises(ValueError, match="carry_state=False"):
        GRULanguageModel(max_epochs=1, privacy={"epsilon": 8.0, "delta": 1e-5}).fit(TEXTS)
    lm = GRULanguageModel(**SMALL).fit(TEXTS)
    with pytest.raises(ValueError, match="temperature"):
        lm.generate("a", temperature=-1)
    with pytest.raises(ValueError, match="top_k"):
        lm.generate("a", top_k=0)
    with pytest.raises(ValueError, match="max_new_tokens"):
        lm.generate("a", max_new_tokens=-2)
    with pytest.raises(ValueError, match="empty"):
        lm.score([])


def test_word_tokenizer_and_unknown_words():
    texts = ["the cat sat", "the dog sat", "a cat ran"] * 4
    lm = GRULanguageModel(tokenizer="word", **SMALL).fit(texts)
    assert "cat" in lm.tokens_ and lm.score(["the zebra sat"]) < 0  # <unk> is scored too
    assert all(word in {"the", "cat", "sat", "dog", "a", "ran"} for word in
               lm.generate("the", max_new_tokens=4, random_state=0).split())  # fmt: skip


def test_the_convolutional_attention_and_equilibrium_models_score_as_one_pass():
    from seqestim import (
        BlockRecurrentTransformerLanguageModel,
        DEQLanguageModel,
        GatedConvLanguageModel,
    )

    long_text = "abcabcabcabcabcabcabcab"
    small = {"max_epochs": 1, "context_length": 4, "random_state": 0}
    # the GCNN's receptive field and the BRT's state and window are carried across chunks
    for lm in (
        GatedConvLanguageModel(d_model=4, n_blocks=1, kernel_size=3, **small),
        BlockRecurrentTransformerLanguageModel(
            d_model=4, n_layers=1, n_heads=1, block_size=3, window_size=2, n_state=2, **small
        ),
    ):
        lm.fit(TEXTS)
        assert lm.carries_state_
        assert lm.score([long_text]) == pytest.approx(_by_hand(lm, long_text), rel=1e-9)
    # the equilibrium has no state: every chunk on its own, each row solved on its own
    deq = DEQLanguageModel(d_model=4, n_heads=1, tol=1e-5, max_iter=100, **small).fit(TEXTS)
    assert not deq.carries_state_ and deq.solver_residual_ < 1e-5  # trained in float32
    assert deq.score([long_text]) == pytest.approx(_by_hand(deq, long_text, 4), rel=1e-7)


def test_the_gated_convolutional_language_model_has_the_papers_training_defaults():
    from seqestim import GatedConvLanguageModel

    lm = GatedConvLanguageModel()
    assert lm.gradient_clip == 0.1 and lm.adaptive_softmax == "auto"
    words = [" ".join(f"w{i}" for i in range(j, j + 30)) for j in range(0, 10_100, 30)]
    fitted = GatedConvLanguageModel(
        d_model=4, n_blocks=0, tokenizer="word", max_epochs=1, context_length=8
    ).fit(words)
    assert fitted.vocab_size_ > 10_000
    assert isinstance(fitted.module_.head, AdaptiveSoftmaxOutput)
