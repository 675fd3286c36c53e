"""The sequence-to-sequence task: encoding, beam search settings, scores, persistence."""

import doctest

import numpy as np
import pytest
import sacrebleu
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

import seqestim
from seqestim import ConvS2STranslator, GNMTTranslator, RNNSearchTranslator
from seqestim.datasets import make_date_normalization, make_transduction
from seqestim.estimators import named_estimators
from seqestim.estimators._tokens import BOS, EOS
from seqestim.nn._contract import lengths_to_mask
from seqestim.nn.generation import greedy_search

SMALL = {"d_model": 16, "d_embedding": 8, "d_attention": 16, "d_maxout": 8, "dropout": 0.0,
         "random_state": 0}  # fmt: skip


@pytest.fixture(scope="module")
def reverse_data():
    X, y = make_transduction(400, task="reverse", max_length=6, vocabulary_size=6, random_state=0)
    X_test, y_test = make_transduction(60, task="reverse", max_length=6, vocabulary_size=6,
                                       random_state=1)  # fmt: skip
    return X, y, X_test, y_test


@pytest.fixture(scope="module")
def fitted(reverse_data):
    """An RNNsearch translator that learned to reverse strings of up to 6 tokens."""
    X, y, _, _ = reverse_data
    return RNNSearchTranslator(**SMALL, max_epochs=12, lr=1e-2).fit(X, y)


@pytest.fixture(scope="module")
def text_model():
    X, y = make_date_normalization(60, languages="en", random_state=0)
    model = RNNSearchTranslator(**SMALL, max_epochs=2).fit(X, y)
    return model, X, y


def test_the_translators_are_named_estimators_of_the_seq2seq_task():
    names = {cls.__name__ for cls in named_estimators("seq2seq")}
    assert names >= {"ConvS2STranslator", "GNMTTranslator", "RNNSearchTranslator"}
    # GNMT's paper settings: a shared wordpiece vocabulary, α = β = 0.2
    assert GNMTTranslator().tokenizer == "wordpiece" and GNMTTranslator().shared_vocabulary
    assert (GNMTTranslator().length_penalty, GNMTTranslator().coverage_penalty) == (0.2, 0.2)


def test_learns_and_scores_integer_sequences(fitted, reverse_data):
    _, _, X_test, y_test = reverse_data
    predictions = fitted.predict(X_test)
    assert predictions.dtype == object and predictions.shape == (len(X_test),)
    assert all(p.dtype.kind == "i" for p in predictions)
    assert fitted.exact_match(X_test, y_test) > 0.8
    # BLEU is sacrebleu's, on the ids joined with spaces
    hypotheses = [" ".join(map(str, p)) for p in predictions]
    references = [" ".join(map(str, t)) for t in y_test]
    expected = sacrebleu.corpus_bleu(hypotheses, [references]).score
    assert fitted.score(X_test, y_test) == pytest.approx(expected, abs=1e-12)


def test_score_is_sacrebleu_on_the_decoded_strings(text_model):
    model, X, y = text_model
    predictions = model.predict(X[:20])
    assert all(isinstance(p, str) for p in predictions)
    expected = sacrebleu.corpus_bleu(list(predictions), [y[:20]]).score
    assert model.score(X[:20], y[:20]) == expected
    exact = np.mean([p == t for p, t in zip(predictions, y[:20], strict=True)])
    assert model.exact_match(X[:20], y[:20]) == exact  # char tokens: equal strings


def test_beam_size_one_is_greedy_and_a_parameter(fitted, reverse_data):
    _, _, X_test, _ = reverse_data
    greedy_model = clone(fitted).set_params(beam_size=1)
    greedy_model.net_ = fitted.net_  # same network, only the search setting differs
    for name in ("source_vocabulary_", "target_vocabulary_", "source_vocab_size_",
                 "target_vocab_size_", "length_ratio_"):  # fmt: skip
        setattr(greedy_model, name, getattr(fitted, name))
    outputs = greedy_model.predict(X_test)
    module = fitted.module_.backbone.double().eval()
    source_ids = [np.append(np.asarray(x) + 4, EOS) for x in X_test]
    lengths = torch.tensor([len(s) for s in source_ids])
    source = torch.zeros(len(source_ids), int(lengths.max()), dtype=torch.long)
    for i, s in enumerate(source_ids):
        source[i, : len(s)] = torch.as_tensor(s)
    expected = greedy_search(module, source, lengths_to_mask(lengths, source.shape[1]),
                             max_lengths=greedy_model._max_lengths(lengths.numpy() - 1),
                             bos=BOS, eos=EOS, banned_tokens=(0, 1, 2))  # fmt: skip
    fitted.module_.float()
    for output, tokens in zip(outputs, expected.tokens, strict=True):
        np.testing.assert_array_equal(output, tokens.numpy() - 4)


def test_score_sequences_is_the_teacher_forced_log_likelihood(fitted, reverse_data):
    _, _, X_test, y_test = reverse_data
    scores = fitted.score_sequences(X_test[:5], y_test[:5])
    module = fitted.module_.backbone.double().eval()
    for i in range(5):
        source = torch.as_tensor(np.append(np.asarray(X_test[i]) + 4, EOS)).unsqueeze(0)
        target = torch.as_tensor(np.concatenate([[BOS], np.asarray(y_test[i]) + 4])).unsqueeze(0)
        with torch.no_grad():
            log_proba = module(source, None, target, None)[0].log_softmax(-1)
        wanted = np.append(np.asarray(y_test[i]) + 4, EOS)
        by_hand = float(log_proba[torch.arange(len(wanted)), torch.as_tensor(wanted)].sum())
        assert scores[i] == pytest.approx(by_hand, rel=1e-9)
    fitted.module_.float()
    np.testing.assert_allclose(fitted.predict_proba(X_test[:5], y_test[:5]), np.exp(scores))
    per_token = fitted.score_sequences(X_test[:5], y_test[:5], normalize=True)
    np.testing.assert_allclose(per_token, scores / [len(t) + 1 for t in y_test[:5]])


def test_max_length_absolute_and_relative(fitted, reverse_data):
    _, _, X_test, _ = reverse_data
    short = clone(fitted).set_params(max_length=2)
    short.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    assert max(len(p) for p in short.predict(X_test)) <= 2
    relative = clone(fitted).set_params(max_length=(0.5, 0))
    relative.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    for x, p in zip(X_test, relative.predict(X_test), strict=True):
        assert len(p) <= np.ceil(0.5 * len(x))
    assert fitted.length_ratio_ == 1.0  # reversal keeps the length


def test_tokenizers_shared_vocabulary_and_mixed_kinds():
    X, y = make_date_normalization(40, languages=("en", "de"), random_state=0)
    word = RNNSearchTranslator(**SMALL, tokenizer="word", max_epochs=1).fit(X, y)
    assert word.source_vocabulary_ is not word.target_vocabulary_
    assert "March" in word.source_vocabulary_.tokens or "May" in word.source_vocabulary_.tokens
    shared = RNNSearchTranslator(**SMALL, shared_vocabulary=True, max_epochs=1).fit(X, y)
    assert shared.source_vocabulary_ is shared.target_vocabulary_
    assert shared.source_vocab_size_ == shared.target_vocab_size_
    pieces = GNMTTranslator(
        d_model=8, d_attention=8, n_encoder_layers=2, n_decoder_layers=1, max_epochs=1
    ).fit(X, y)
    assert pieces.source_vocabulary_ is pieces.target_vocabulary_
    assert pieces.source_vocabulary_.tokenizer == "wordpiece"
    assert isinstance(pieces.predict(X[:2])[0], str)
    # texts in, token ids out
    ids = [np.array([int(c) for c in t if c.isdigit()]) for t in y]
    mixed = RNNSearchTranslator(**SMALL, max_epochs=1).fit(X, ids)
    assert mixed.target_vocabulary_ is None and mixed.predict(X[:1])[0].dtype.kind == "i"
    with pytest.raises(TypeError, match="one kind"):
        RNNSearchTranslator(shared_vocabulary=True, max_epochs=1).fit(X, ids)


def test_bad_input_and_parameters_are_refused(fitted):
    X, y = make_transduction(10, random_state=0)
    with pytest.raises(TypeError, match="single string"):
        RNNSearchTranslator(max_epochs=1).fit("abc", y)
    with pytest.raises(ValueError, match="as many"):
        RNNSearchTranslator(max_epochs=1).fit(X, y[:5])
    with pytest.raises(ValueError, match="empty"):
        RNNSearchTranslator(max_epochs=1).fit([], [])
    with pytest.raises(TypeError, match="y"):
        RNNSearchTranslator(max_epochs=1).fit(X, None)
    for bad in ({"beam_size": 0}, {"length_penalty": -1.0}, {"coverage_penalty": float("nan")},
                {"label_smoothing": 1.0}, {"max_length": 0}, {"max_length": (1.0,)},
                {"tokenizer": "bpe"}):  # fmt: skip
        with pytest.raises(ValueError, match=next(iter(bad))):
            RNNSearchTranslator(max_epochs=1, **bad).fit(X, y)
    with pytest.raises(ValueError, match=r"\[0, 6\)"):
        fitted.predict([[0, 7]])
    with pytest.raises(TypeError, match="token ids"):
        fitted.predict(["abc"])
    try:
        with pytest.raises(ValueError, match="beam_size"):
            fitted.set_params(beam_size=0).predict(X[:1])
    finally:
        fitted.set_params(beam_size=5)


def test_failed_fit_keeps_the_fitted_state(fitted, reverse_data):
    X, y, X_test, _ = reverse_data
    before = fitted.predict(X_test[:5])
    with pytest.raises(ValueError):
        fitted.set_params(max_length=-3).fit(X, y)
    fitted.set_params(max_length=None)
    for a, b in zip(before, fitted.predict(X_test[:5]), strict=True):
        np.testing.assert_array_equal(a, b)


def test_save_load_round_trip(text_model, tmp_path):
    model, X, _ = text_model
    model.save(tmp_path / "translator")
    loaded = seqestim.load(tmp_path / "translator")
    assert type(loaded) is RNNSearchTranslator and loaded.get_params() == model.get_params()
    assert loaded.source_vocabulary_ == model.source_vocabulary_
    assert list(loaded.predict(X[:8])) == list(model.predict(X[:8]))
    np.testing.assert_array_equal(loaded.score_sequences(X[:8], X[:8]),
                                  model.score_sequences(X[:8], X[:8]))  # fmt: skip


def test_grid_search_over_search_settings(reverse_data):
    X, y, _, _ = reverse_data
    search = GridSearchCV(
        RNNSearchTranslator(**SMALL, max_epochs=2), {"beam_size": [1, 3]}, cv=2, error_score="raise"
    )
    search.fit(X[:100], y[:100])
    assert set(search.cv_results_["param_beam_size"]) == {1, 3}
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize("cls", named_estimators("seq2seq"), ids=lambda c: c.__name__)
def test_examples_run(cls):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in doctest.DocTestFinder(recurse=False).find(cls, globs={}):
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_conv_s2s_respects_its_position_limit():
    X, y = make_transduction(20, max_length=8, random_state=0)
    model = ConvS2STranslator(
        d_model=8, d_embedding=8, d_decoder_output=8, max_positions=6, max_epochs=1
    )
    with pytest.raises(ValueError, match="max_positions"):
        model.fit(X, y)
    short = [x[:4] for x in X]
    model.fit(short, short)
    assert max(len(p) for p in model.set_params(max_length=50).predict(short)) <= 5
