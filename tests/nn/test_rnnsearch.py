"""RNNsearch (Bahdanau et al. 2015): annotations, initial state, alignment and deep output."""

import torch

from seqestim.nn._contract import lengths_to_mask
from seqestim.nn.rnnsearch import RNNSearch, RNNSearchParams


def _model():
    torch.manual_seed(0)
    params = RNNSearchParams(d_model=6, d_embedding=5, d_attention=4, d_maxout=3, dropout=0.0)
    return RNNSearch(12, params, d_target=9).double().eval()


def _batch():
    generator = torch.Generator().manual_seed(0)
    lengths = torch.tensor([8, 3, 5])
    mask = lengths_to_mask(lengths, 8)
    source = torch.randint(1, 12, (3, 8), generator=generator).masked_fill(~mask, 0)
    return source, mask, lengths


def test_annotations_concatenate_both_directions():
    model = _model()
    source, mask, lengths = _batch()
    with torch.no_grad():
        h = model.encode(source, mask)  # (B, S, 2d)
        for row, n in enumerate(lengths.tolist()):
            x = model.source_embedding(source[row : row + 1, :n])
            forward, _ = model.forward_encoder(x)
            backward, _ = model.backward_encoder(x.flip(1))
            torch.testing.assert_close(h[row, :n, :6], forward[0])
            torch.testing.assert_close(h[row, :n, 6:], backward[0].flip(0))


def test_initial_state_reads_the_first_backward_annotation():
    model = _model()
    source, mask, _ = _batch()
    with torch.no_grad():
        memory = model.encode(source, mask)
        *_, s0 = model.init_decoder_state(memory, mask)
        torch.testing.assert_close(s0, torch.tanh(model.bridge(memory[:, 0, 6:])))


def test_alignment_and_maxout_output():
    model = _model()
    source, mask, _ = _batch()
    with torch.no_grad():
        state = model.init_decoder_state(model.encode(source, mask), mask)
        memory, keys, _, s0 = state
        token = torch.tensor([2, 2, 2])
        logits, (_, _, _, s1), attention = model.decode_step(token, state)
        # e_ij = v^T tanh(W_a s_{i-1} + U_a h_j), masked softmax, c_i = Σ α_ij h_j
        energy = model.energy(torch.tanh(model.query(s0).unsqueeze(1) + keys)).squeeze(-1)
        expected = energy.masked_fill(~mask, float("-inf")).softmax(-1)
        torch.testing.assert_close(attention, expected)
        context = torch.einsum("bs,bsd->bd", expected, memory)
        embedded = model.target_embedding(token)
        torch.testing.assert_close(s1, model.decoder(torch.cat([embedded, context], -1), s0))
        t = model.deep_output(torch.cat([s1, embedded, context], -1))  # (B, 2 * maxout)
        maxout = torch.maximum(t[:, 0::2], t[:, 1::2])  # pools of two neighbours
        torch.testing.assert_close(logits, model.output(maxout))
