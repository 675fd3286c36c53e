"""Greedy and beam search (seqestim/nn/generation.py): GNMT's scoring, and search invariants."""

import math

import pytest
import torch

from seqestim.nn._contract import lengths_to_mask
from seqestim.nn.generation import (
    Seq2SeqNet,
    beam_search,
    coverage_penalty,
    greedy_search,
    length_penalty,
    reorder_state,
)
from seqestim.nn.rnnsearch import RNNSearch, RNNSearchParams

PAD, UNK, BOS, EOS, A, B = range(6)
BANNED = (PAD, BOS)


# ------------------------------------------------------------------ the penalties by hand
def test_length_penalty_is_the_gnmt_formula():
    # |Y| = 5, α = 0.6: ((5 + 5) / 6)^0.6 = (5/3)^0.6 = exp(0.6 ln(5/3)) = 1.3586...
    assert length_penalty(5, 0.6) == pytest.approx(math.exp(0.6 * math.log(5 / 3)), rel=1e-12)
    assert length_penalty(5, 0.6) == pytest.approx(1.35866, abs=1e-5)
    assert length_penalty(1, 0.6) == 1.0  # (5 + 1) / 6
    assert length_penalty(17, 0.0) == 1.0
    lengths = torch.tensor([1.0, 5.0, 10.0])
    torch.testing.assert_close(length_penalty(lengths, 1.0), torch.tensor([1.0, 10 / 6, 15 / 6]))


def test_coverage_penalty_on_hand_made_attention():
    # attention p_ij of 3 target steps (rows) over 4 source tokens (columns)
    attention = torch.tensor(
        [[0.7, 0.1, 0.1, 0.1], [0.1, 0.6, 0.2, 0.1], [0.1, 0.1, 0.3, 0.5]], dtype=torch.float64
    )
    coverage = attention.sum(0, keepdim=True)  # Σ_j p_ij = [0.9, 0.8, 0.6, 0.7]
    by_hand = 0.2 * (math.log(0.9) + math.log(0.8) + math.log(0.6) + math.log(0.7))
    assert float(coverage_penalty(coverage, None, 0.2)) == pytest.approx(by_hand, rel=1e-12)
    # a token attended more than once in total counts as fully covered: min(Σ, 1) = 1
    heavy = torch.tensor([[1.7, 0.5, 0.8]], dtype=torch.float64)
    assert float(coverage_penalty(heavy, None, 1.0)) == pytest.approx(math.log(0.5) + math.log(0.8))
    everything_covered = torch.tensor([[1.0, 2.0, 1.3]])
    assert float(coverage_penalty(everything_covered, None, 0.7)) == 0.0
    # masked (padding) tokens are not counted, and β = 0 switches the penalty off
    mask = torch.tensor([[True, False, True]])
    assert float(coverage_penalty(heavy, mask, 1.0)) == pytest.approx(math.log(0.8))
    assert float(coverage_penalty(heavy, None, 0.0)) == 0.0


# ------------------------------------------------------------------ a scripted decoder
class Scripted(torch.nn.Module):
    """A decoder whose next-token probabilities and attention are tables keyed by the prefix.

    ``table[prefix] = (probabilities {token: p}, attention over the source)``; a prefix not in
    the table ends (probability 1 for <eos>, uniform attention).
    """

    def __init__(self, table, vocab=6):
        super().__init__()
        self.table = table
        self.vocab = vocab

    def encode(self, source, source_mask):
        return source.double()

    def init_decoder_state(self, memory, source_mask):
        return {"inputs": torch.empty(memory.shape[0], 0, dtype=torch.long), "memory": memory}

    def decode_step(self, token, state):
        inputs = torch.cat([state["inputs"], token.unsqueeze(1)], dim=1)  # <bos> y_1 .. y_t
        S = state["memory"].shape[1]
        logits = torch.full((len(token), self.vocab), -math.inf, dtype=torch.float64)
        attention = torch.full((len(token), S), 1.0 / S, dtype=torch.float64)
        for row, prefix in enumerate(inputs[:, 1:].tolist()):
            probabilities, weights = self.table.get(tuple(prefix), ({EOS: 1.0}, None))
            for t, p in probabilities.items():
                logits[row, t] = math.log(p)
            if weights is not None:
                attention[row] = torch.tensor(weights, dtype=torch.float64)
        return logits, {**state, "inputs": inputs}, attention


def _search(model, n=1, source_length=2, **kwargs):
    source = torch.full((n, source_length), 4)
    mask = torch.ones(n, source_length, dtype=torch.bool)
    settings = {"max_lengths": 5, "bos": BOS, "eos": EOS, "banned_tokens": BANNED, **kwargs}
    if "beam_size" in settings:
        return beam_search(model, source, mask, **settings)
    return greedy_search(model, source, mask, **settings)


def test_beam_search_finds_what_greedy_misses():
    # greedy takes a (0.5) then <eos> (0.4): P = 0.20; the beam finds b <eos>: P = 0.36
    model = Scripted({(): ({A: 0.5, B: 0.4, EOS: 0.1}, None),
                      (A,): ({EOS: 0.4, A: 0.3, B: 0.3}, None),
                      (B,): ({EOS: 0.9, A: 0.1}, None)})  # fmt: skip
    greedy = _search(model)
    assert greedy.tokens[0].tolist() == [A]
    assert float(greedy.log_probs[0]) == pytest.approx(math.log(0.5 * 0.4))
    beam = _search(model, beam_size=2)
    assert beam.tokens[0].tolist() == [B]
    assert float(beam.log_probs[0]) == pytest.approx(math.log(0.4 * 0.9))
    assert float(beam.scores[0]) == pytest.approx(math.log(0.4 * 0.9))  # α = β = 0
    one = _search(model, beam_size=1, alpha=0.7, beta=0.5)  # beam_size=1 is greedy
    assert one.tokens[0].tolist() == [A]


def test_length_normalisation_prefers_longer_outputs_as_alpha_grows():
    # "" has P = 0.45, "a" has P = 0.55 * 0.75 = 0.4125
    model = Scripted({(): ({A: 0.55, EOS: 0.45}, None), (A,): ({EOS: 0.75, A: 0.25}, None)})
    assert _search(model, beam_size=2, alpha=0.0).tokens[0].tolist() == []
    long = _search(model, beam_size=2, alpha=1.0)
    assert long.tokens[0].tolist() == [A]
    # s = log P / lp with lp(|Y| = 2 tokens, <eos> included) = 7/6
    assert float(long.scores[0]) == pytest.approx(math.log(0.4125) / (7 / 6))
    assert float(long.log_probs[0]) == pytest.approx(math.log(0.4125))


def test_coverage_penalty_prefers_outputs_that_cover_the_source():
    # "a" (P = 0.5) attends source token 0 only; "b" (P = 0.45) covers both tokens
    model = Scripted({(): ({A: 0.5, B: 0.45, EOS: 0.05}, [0.9, 0.1]),
                      (A,): ({EOS: 1.0}, [0.9, 0.1]),
                      (B,): ({EOS: 1.0}, [0.1, 0.9])})  # fmt: skip
    assert _search(model, beam_size=3).tokens[0].tolist() == [A]
    covered = _search(model, beam_size=3, alpha=0.3, beta=0.2)
    assert covered.tokens[0].tolist() == [B]
    # "b": coverage [0.9 + 0.1, 0.1 + 0.9] = [1, 1], so cp = 0; |Y| = 2
    by_hand = math.log(0.45) / ((5 + 2) / 6) ** 0.3
    assert float(covered.scores[0]) == pytest.approx(by_hand)
    # and "a" would have scored log 0.5 / lp + 0.2 (log 1 + log 0.2), below it
    assert math.log(0.5) / ((5 + 2) / 6) ** 0.3 + 0.2 * math.log(0.2) < by_hand


def test_maximum_length_forces_eos():
    # the model would go on with "a"; at the maximum length only <eos> may follow, scored with
    # the model's own (unrenormalised) probability of <eos>
    model = Scripted({(): ({A: 0.99, EOS: 0.01}, None), (A,): ({A: 0.9, EOS: 0.1}, None),
                      (A, A): ({A: 0.9, EOS: 0.1}, None)})  # fmt: skip
    limits = torch.tensor([0, 1, 2])
    greedy = _search(model, n=3, max_lengths=limits)
    assert [t.tolist() for t in greedy.tokens] == [[], [A], [A, A]]
    expected = [math.log(0.01), math.log(0.99 * 0.1), math.log(0.99 * 0.9 * 0.1)]
    torch.testing.assert_close(greedy.log_probs, torch.tensor(expected, dtype=torch.float64))
    # the beam returns the most probable output within each limit: "a" (0.099) beats "aa"
    beam = _search(model, n=3, max_lengths=limits, beam_size=3)
    assert [t.tolist() for t in beam.tokens] == [[], [A], [A]]
    torch.testing.assert_close(beam.log_probs, torch.tensor(expected[:2] + expected[1:2],
                                                            dtype=torch.float64))  # fmt: skip


def test_banned_tokens_are_never_generated():
    model = Scripted({(): ({PAD: 0.5, BOS: 0.3, A: 0.1, EOS: 0.1}, None)})
    for search in ({}, {"beam_size": 2}):
        assert _search(model, **search).tokens[0].tolist() in ([A], [])


def test_reorder_state_follows_every_tensor_of_a_nested_state():
    state = {"a": torch.arange(3), "b": (torch.arange(6).view(3, 2), [torch.arange(3) * 10]),
             "c": None}  # fmt: skip
    out = reorder_state(state, torch.tensor([2, 2, 0]))
    assert out["a"].tolist() == [2, 2, 0] and out["c"] is None
    assert out["b"][0].tolist() == [[4, 5], [4, 5], [0, 1]]
    assert isinstance(out["b"], tuple) and out["b"][1][0].tolist() == [20, 20, 0]


def test_bad_settings_are_refused():
    model = Scripted({})
    with pytest.raises(ValueError, match="beam_size"):
        _search(model, beam_size=0)
    with pytest.raises(ValueError, match="alpha and beta"):
        _search(model, beam_size=2, alpha=-0.1)
    with pytest.raises(ValueError, match="max_lengths"):
        _search(model, beam_size=2, max_lengths=torch.tensor([-1]))


# ------------------------------------------------------------------ on a trained model
def _reverse_batch(generator, n, vocab=10, max_len=7):
    lengths = torch.randint(1, max_len + 1, (n,), generator=generator)
    S = int(lengths.max())
    tokens = torch.randint(4, vocab, (n, S), generator=generator)
    mask = lengths_to_mask(lengths, S)
    source = tokens.masked_fill(~mask, PAD)
    targets = [tokens[i, : lengths[i]].flip(0) for i in range(n)]
    return source, mask, lengths, targets


@pytest.fixture(scope="module")
def trained():
    """A small RNNsearch trained for 100 steps to reverse token strings, still uncertain."""
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    params = RNNSearchParams(d_model=24, d_embedding=12, d_attention=16, d_maxout=12, dropout=0)
    model = RNNSearch(10, params, d_target=10)
    net = Seq2SeqNet(model)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(100):
        source, _, lengths, targets = _reverse_batch(generator, 32)
        T = int(lengths.max()) + 1
        target_in = torch.full((32, T), PAD)
        target_out = torch.full((32, T), -100)
        for i, t in enumerate(targets):
            target_in[i, : len(t) + 1] = torch.cat([torch.tensor([BOS]), t])
            target_out[i, : len(t) + 1] = torch.cat([t, torch.tensor([EOS])])
        logits = net(source, lengths, target_in, lengths + 1)
        loss = torch.nn.functional.cross_entropy(logits.transpose(1, 2), target_out)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.double().eval()


@pytest.fixture(scope="module")
def test_sources():
    source, mask, lengths, _ = _reverse_batch(torch.Generator().manual_seed(1), 120)
    return source, mask, lengths


def _rescore(model, source, mask, tokens):
    """log P(tokens <eos> | source) by teacher forcing, one sentence at a time."""
    scores = []
    for i, output in enumerate(tokens):
        target = torch.cat([torch.tensor([BOS]), output]).unsqueeze(0)
        with torch.no_grad():
            logits = model(source[i : i + 1], mask[i : i + 1], target, None)[0]
        log_proba = logits.log_softmax(-1)
        picked = torch.cat([output, torch.tensor([EOS])])
        scores.append(float(log_proba[torch.arange(len(picked)), picked].sum()))
    return torch.tensor(scores, dtype=torch.float64)


def test_beam_size_one_is_greedy_decoding(trained, test_sources):
    source, mask, _ = test_sources
    greedy = greedy_search(trained, source, mask, max_lengths=12, bos=BOS, eos=EOS,
                           banned_tokens=BANNED)  # fmt: skip
    for alpha, beta in ((0.0, 0.0), (0.6, 0.3)):
        beam = beam_search(trained, source, mask, beam_size=1, max_lengths=12, bos=BOS, eos=EOS,
                           alpha=alpha, beta=beta, banned_tokens=BANNED)  # fmt: skip
        assert all(torch.equal(g, b) for g, b in zip(greedy.tokens, beam.tokens, strict=True))
        torch.testing.assert_close(beam.log_probs, greedy.log_probs)


def test_best_beam_is_at_least_as_probable_as_greedy_on_every_sentence(trained, test_sources):
    source, mask, lengths = test_sources
    settings = {"max_lengths": 12, "bos": BOS, "eos": EOS, "banned_tokens": BANNED}
    greedy = greedy_search(trained, source, mask, **settings)
    beam = beam_search(trained, source, mask, beam_size=4, alpha=0.0, beta=0.0, **settings)
    assert (beam.log_probs >= greedy.log_probs - 1e-9).all()
    assert (beam.log_probs > greedy.log_probs + 1e-6).any()  # the beam does find better ones
    # the reported log-probabilities are the model's: rescoring the outputs gives them back
    torch.testing.assert_close(beam.log_probs, _rescore(trained, source, mask, beam.tokens))
    torch.testing.assert_close(greedy.log_probs, _rescore(trained, source, mask, greedy.tokens))
    # and the model learned the task: most outputs are the reversed source
    correct = [torch.equal(t, source[i, : lengths[i]].flip(0)) for i, t in enumerate(beam.tokens)]
    assert sum(correct) / len(correct) > 0.5


def test_a_sentence_is_decoded_the_same_alone_or_in_a_batch(trained, test_sources):
    source, mask, lengths = test_sources
    settings = {"beam_size": 3, "max_lengths": 12, "bos": BOS, "eos": EOS, "alpha": 0.6,
                "beta": 0.2, "banned_tokens": BANNED}  # fmt: skip
    batch = beam_search(trained, source[:16], mask[:16], **settings)
    for i in range(16):
        n = int(lengths[i])
        alone = beam_search(trained, source[i : i + 1, :n], mask[i : i + 1, :n], **settings)
        assert torch.equal(alone.tokens[0], batch.tokens[i])
        torch.testing.assert_close(alone.scores[0], batch.scores[i])
