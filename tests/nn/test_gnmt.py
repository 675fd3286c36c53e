"""GNMT (Wu et al. 2016): the residual/bidirectional layout and the bottom-layer attention."""

import pytest
import torch

from seqestim.nn._contract import lengths_to_mask
from seqestim.nn.gnmt import GNMT, GNMTParams

V_SOURCE, V_TARGET = 13, 11


def _model(seed=0, **params):
    torch.manual_seed(seed)
    settings = {"d_model": 6, "n_encoder_layers": 4, "n_decoder_layers": 4, "d_attention": 5,
                **params}  # fmt: skip
    return GNMT(V_SOURCE, GNMTParams(**settings), d_target=V_TARGET).double().eval()


def _batch(seed=0):
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([9, 5, 7])
    mask = lengths_to_mask(lengths, 9)
    source = torch.randint(1, V_SOURCE, (3, 9), generator=generator).masked_fill(~mask, 0)
    target = torch.randint(1, V_TARGET, (3, 6), generator=generator)
    return source, mask, target


@pytest.mark.parametrize(("d", "n_enc", "n_dec", "a"), [(8, 8, 8, 8), (6, 2, 1, 4), (5, 3, 5, 7)])
def test_parameter_count_of_the_layout(d, n_enc, n_dec, a):
    model = GNMT(V_SOURCE, GNMTParams(d_model=d, n_encoder_layers=n_enc, n_decoder_layers=n_dec,
                                      d_attention=a), d_target=V_TARGET)  # fmt: skip

    def lstm(n_in):  # torch's LSTM: 4 gates of input and recurrent weights, two bias vectors
        return 4 * d * (n_in + d) + 8 * d

    expected = (
        (V_SOURCE + V_TARGET) * d  # embeddings
        + 2 * lstm(d)  # bidirectional bottom encoder layer, d units per direction
        + lstm(2 * d)  # encoder layer 2 reads the concatenated directions
        + (n_enc - 2) * lstm(d)  # encoder layers 3.. (residual: widths stay d)
        + (d * a)
        + (d * a + a)
        + a  # attention: query, key (+ bias), energy vector
        + lstm(2 * d)  # decoder layer 1 reads [embedding; context]
        + (n_dec - 1) * lstm(2 * d)  # every other decoder layer reads [input; context]
        + d * V_TARGET
        + V_TARGET  # softmax layer
    )
    assert sum(p.numel() for p in model.parameters()) == expected


def _silence(lstm):
    """Zero an LSTM's weights and biases: every gate is 0.5, the cell stays 0, the output 0."""
    with torch.no_grad():
        for parameter in lstm.parameters():
            parameter.zero_()


def test_residual_connections_start_at_the_third_layer():
    source, mask, _ = _batch()
    with torch.no_grad():
        model = _model(n_encoder_layers=4)
        _silence(model.encoder_layers[1])  # layer 3: residual, so x3 = 0 + x2
        _silence(model.encoder_layers[2])  # layer 4: residual, so x4 = 0 + x3 = x2
        x = model.dropout(model.source_embedding(source))
        forward, _ = model.encoder_forward(x)
        from seqestim.nn._contract import reverse_padded

        backward = reverse_padded(model.encoder_backward(reverse_padded(x, mask))[0], mask)
        x2, _ = model.encoder_layers[0](torch.cat([forward, backward], -1))
        torch.testing.assert_close(model.encode(source, mask), x2)
        # layer 2 has no residual connection: silenced, the encoder output is exactly zero
        other = _model(n_encoder_layers=2)
        _silence(other.encoder_layers[0])
        assert other.encode(source, mask).abs().max() == 0


def test_bottom_encoder_layer_is_bidirectional():
    model = _model()
    source, mask, _ = _batch()
    changed = source.clone()
    changed[0, 8] = (changed[0, 8] % (V_SOURCE - 1)) + 1  # the last token of sentence 0
    with torch.no_grad():
        before, after = model.encode(source, mask), model.encode(changed, mask)
    assert not torch.allclose(before[0, 0], after[0, 0])  # seen at step 0 (backward direction)
    torch.testing.assert_close(before[1:], after[1:])


def test_attention_reads_only_the_bottom_decoder_layer():
    # changing decoder layers 2.. changes the logits but not a single attention weight
    source, mask, target = _batch()

    def attentions(model):
        state = model.init_decoder_state(model.encode(source, mask), mask)
        weights, logits = [], []
        with torch.no_grad():
            for t in range(target.shape[1]):
                step_logits, state, attention = model.decode_step(target[:, t], state)
                weights.append(attention)
                logits.append(step_logits)
        return torch.stack(weights, 1), torch.stack(logits, 1)

    model = _model()
    weights, logits = attentions(model)
    with torch.no_grad():
        for layer in model.decoder_layers:
            for parameter in layer.parameters():
                parameter.add_(torch.randn_like(parameter))
    other_weights, other_logits = attentions(model)
    torch.testing.assert_close(other_weights, weights, atol=0, rtol=0)
    assert not torch.allclose(other_logits, logits)


def test_context_reaches_every_decoder_layer():
    model = _model(n_decoder_layers=3)
    for layer in (model.decoder_bottom, *model.decoder_layers):
        assert layer.input_size == 2 * model.params.d_model  # [input; context]


def test_default_initialisation_scales_with_the_width():
    for d in (16, 64):
        model = _model(d_model=d, d_attention=d)  # init_scale=None
        bound = 1 / d**0.5
        weights = model.decoder_bottom.weight_hh
        assert weights.abs().max() <= bound
        assert weights.abs().max() > 0.9 * bound  # uniform over the whole range, not 0.04
    assert model.source_embedding.weight[1:].std() > 0.5  # N(0, 1) embeddings


def test_paper_initialisation_and_bad_layouts():
    model = _model(d_model=32, init_scale=0.04)
    for name, parameter in model.named_parameters():
        assert parameter.abs().max() <= 0.04, name
    assert model.source_embedding.weight[0].abs().sum() == 0
    with pytest.raises(ValueError, match="n_encoder_layers"):
        _model(n_encoder_layers=1)
    with pytest.raises(ValueError, match="init_scale"):
        _model(init_scale=0.0)
