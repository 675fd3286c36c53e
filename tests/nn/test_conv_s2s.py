"""ConvS2S (Gehring et al. 2017): causal decoder, incremental decoding, scalings, gradients."""

import math

import pytest
import torch

from seqestim.nn._contract import lengths_to_mask
from seqestim.nn.conv_s2s import ConvS2S, ConvS2SParams

V_SOURCE, V_TARGET = 13, 11


def _model(seed=0, **params):
    torch.manual_seed(seed)
    settings = {"d_embedding": 6, "d_model": 8, "n_encoder_layers": 2, "n_decoder_layers": 3,
                "kernel_size": 3, "d_decoder_output": 5, "max_positions": 40, **params}  # fmt: skip
    return ConvS2S(V_SOURCE, ConvS2SParams(**settings), d_target=V_TARGET).double().eval()


def _batch(seed=0, B=3, S=9, T=12):
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([S, 5, 7])[:B]
    mask = lengths_to_mask(lengths, S)
    source = torch.randint(1, V_SOURCE, (B, S), generator=generator).masked_fill(~mask, 0)
    target = torch.randint(1, V_TARGET, (B, T), generator=generator)
    return source, mask, target


@pytest.mark.parametrize("kernel_size", [2, 3, 5])
def test_decoder_is_causal(kernel_size):
    model = _model(kernel_size=kernel_size)
    source, mask, target = _batch()
    with torch.no_grad():
        logits = model(source, mask, target)
        for t in (0, 4, 11):
            changed = target.clone()
            changed[:, t] = (changed[:, t] % (V_TARGET - 1)) + 1  # a different real token
            other = model(source, mask, changed)
            torch.testing.assert_close(other[:, :t], logits[:, :t], atol=0, rtol=0)
            assert not torch.allclose(other[:, t:], logits[:, t:])  # the change is seen


@pytest.mark.parametrize("kernel_size", [2, 3, 4, 5])
def test_incremental_decoding_equals_the_full_decoder(kernel_size):
    model = _model(kernel_size=kernel_size)
    source, mask, target = _batch()
    with torch.no_grad():
        full = model(source, mask, target)
        state = model.init_decoder_state(model.encode(source, mask), mask)
        steps = []
        for t in range(target.shape[1]):
            logits, state, attention = model.decode_step(target[:, t], state)
            steps.append(logits)
            torch.testing.assert_close(attention.sum(-1), torch.ones(3, dtype=torch.float64))
    torch.testing.assert_close(torch.stack(steps, 1), full, atol=1e-5, rtol=1e-5)
    assert state["buffers"][0].shape == (3, kernel_size - 1, 8)  # k - 1 cached inputs only


def _silence_convolutions(convs):
    """Zero every convolution: weight-norm magnitude g = 0 and bias 0, so GLU(conv(x)) = 0."""
    with torch.no_grad():
        for conv in convs:
            conv.parametrizations.weight.original0.zero_()
            conv.bias.zero_()


def test_residual_blocks_scale_by_sqrt_half():
    # with silent convolutions every encoder block is h <- (0 + h) * sqrt(0.5), so after
    # n blocks the encoder output is fc2(fc1(e) * sqrt(0.5)^n)
    model = _model(n_encoder_layers=3)
    _silence_convolutions(model.encoder_convs)
    source, mask, _ = _batch()
    with torch.no_grad():
        keys, values = model.encode(source, mask)
        positions = model.source_positions(torch.arange(1, source.shape[1] + 1))
        e = model.source_embedding(source) + positions
        expected = model.encoder_out(model.encoder_in(e) * math.sqrt(0.5) ** 3)
        expected = expected.masked_fill(~mask.unsqueeze(-1), 0.0)
    torch.testing.assert_close(keys, expected)
    torch.testing.assert_close(values, (expected + e) * math.sqrt(0.5))  # values see e too


def test_attention_context_is_scaled_by_sqrt_of_the_source_length():
    # uniform attention over m real tokens with equal values v: context = v * m * sqrt(1/m)
    model = _model()
    attention = model.attentions[0]
    m = torch.tensor([4.0, 9.0], dtype=torch.float64)
    S, E = 9, 6
    keys = torch.zeros(2, S, E, dtype=torch.float64)
    values = torch.ones(2, S, E, dtype=torch.float64)
    mask = lengths_to_mask(m.long(), S)
    h = torch.zeros(2, 1, 8, dtype=torch.float64)
    g = torch.zeros(2, 1, E, dtype=torch.float64)
    with torch.no_grad():
        out, weights = attention(h, g, keys, values, mask, m.sqrt().view(2, 1, 1))
        expected = attention.out(values[:, :1] * m.sqrt().view(2, 1, 1)) * math.sqrt(0.5)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(weights[0, 0, :4], torch.full((4,), 0.25, dtype=torch.float64))


def test_encoder_gradients_are_scaled_by_one_over_twice_the_attention_layers():
    source, mask, target = _batch()

    def gradients(scale):
        model = _model(seed=1).train()
        model.dropout.p = 0.0
        if scale is not None:
            model._encoder_gradient_scale = scale
        logits = model(source, mask, target)
        logits.square().mean().backward()
        encoder = [p.grad.clone() for p in model.encoder_convs.parameters()]
        return logits.detach(), encoder, model.source_embedding.weight.grad.clone()

    scaled_logits, scaled, embedding_scaled = gradients(None)  # the paper's 1 / (2 * 3)
    plain_logits, plain, embedding_plain = gradients(1.0)
    torch.testing.assert_close(scaled_logits, plain_logits)  # the forward pass is unchanged
    for a, b in zip(scaled, plain, strict=True):
        torch.testing.assert_close(a, b / 6.0)
    # the source embeddings also reach the values directly, so theirs are not simply scaled
    assert not torch.allclose(embedding_scaled, embedding_plain / 6.0)


def test_initialisation_follows_the_paper():
    torch.manual_seed(0)
    p, k, C = 0.2, 3, 256
    params = ConvS2SParams(d_embedding=128, d_model=C, kernel_size=k, dropout=p)
    model = ConvS2S(500, params, d_target=500).requires_grad_(False)
    conv = model.encoder_convs[0].weight  # N(0, 4 (1 - p) / (k n_in)) feeding a GLU
    assert float(conv.std()) == pytest.approx(math.sqrt(4 * (1 - p) / (k * C)), rel=0.02)
    fc1 = model.encoder_in.weight  # its input passed dropout: N(0, (1 - p) / n_in)
    assert float(fc1.std()) == pytest.approx(math.sqrt((1 - p) / 128), rel=0.03)
    query = model.attentions[0].query.weight  # no dropout before it: N(0, 1 / n_in)
    assert float(query.std()) == pytest.approx(math.sqrt(1 / C), rel=0.03)
    assert float(model.source_embedding.weight[1:].std()) == pytest.approx(0.1, rel=0.03)
    assert model.source_embedding.weight[0].abs().sum() == 0  # padding
    assert all(float(conv.bias.abs().sum()) == 0 for conv in model.decoder_convs)


def test_positions_beyond_the_table_are_refused():
    model = _model(max_positions=8)
    source, mask, target = _batch(S=9)
    with pytest.raises(ValueError, match="max_positions"):
        model(source, mask, target[:, :4])
