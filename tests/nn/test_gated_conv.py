"""Invariants of the gated convolutional network (Dauphin et al. 2017)."""

import pytest
import torch

from seqestim.nn.gated_conv import GatedConv, GatedConvParams, GLUConv, glu


def _model(**params):
    torch.manual_seed(0)
    return GatedConv(3, GatedConvParams(**params)).double().eval()


def _input(length=20, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(2, length, 3, generator=generator, dtype=torch.float64)


def test_glu_is_a_times_sigmoid_b():
    h = torch.randn(4, 6, 5, dtype=torch.float64)
    a, b = h[:, :3], h[:, 3:]
    torch.testing.assert_close(glu(h, dim=1), a * torch.sigmoid(b))


def test_a_glu_layer_is_eq_1_of_the_paper():
    # h(X) = (X * W + b) ⊙ σ(X * V + c), with the causal (left zero padded) convolution
    torch.manual_seed(0)
    layer = GLUConv(3, 4, kernel_size=3, dropout=0.0).double()
    x = torch.randn(2, 3, 7, dtype=torch.float64)
    weight = layer.weight()  # (8, 3, 3): W the first four output channels, V the last four
    padded = torch.nn.functional.pad(x, (2, 0))
    a = torch.nn.functional.conv1d(padded, weight[:4], layer.bias[:4])
    b = torch.nn.functional.conv1d(padded, weight[4:], layer.bias[4:])
    out, _ = layer(x, layer.init_state(2), torch.full((2,), 7))
    torch.testing.assert_close(out, a * torch.sigmoid(b))


@pytest.mark.parametrize("bottleneck", [False, True])
def test_output_at_t_ignores_every_later_step(bottleneck):
    model = _model(d_model=8, n_blocks=2, kernel_size=3, bottleneck=bottleneck, d_bottleneck=4)
    x = _input()
    for t in (0, 7, 18):
        changed = x.clone()
        changed[:, t + 1 :] = torch.randn_like(changed[:, t + 1 :]) * 5
        torch.testing.assert_close(model(changed)[:, : t + 1], model(x)[:, : t + 1])
        assert not torch.allclose(model(changed)[:, t + 1 :], model(x)[:, t + 1 :])


@pytest.mark.parametrize("bottleneck", [False, True])
def test_receptive_field_is_exactly_one_plus_k_minus_one_per_wide_convolution(bottleneck):
    model = _model(d_model=8, n_blocks=2, kernel_size=3, bottleneck=bottleneck, d_bottleneck=4)
    wide = 2 if bottleneck else 4  # width-k convolutions in the blocks
    assert model.receptive_field == 1 + 2 * (1 + wide)
    x, t = _input(length=30), 25
    reach = model.receptive_field
    inside = x.clone()
    inside[:, t - reach + 1] += 1.0  # the oldest step output t reads
    outside = x.clone()
    outside[:, t - reach] += 1.0  # one step further back
    assert not torch.allclose(model(inside)[:, t], model(x)[:, t])
    torch.testing.assert_close(model(outside)[:, t], model(x)[:, t])


def test_weight_normalisation_makes_the_output_invariant_to_the_scale_of_v():
    model = _model(d_model=6, n_blocks=1, kernel_size=2)
    x = _input()
    before = model(x)
    with torch.no_grad():
        for layer in [model.input_layer, *model.blocks[0].layers]:
            layer.weight_v.mul_(3.7)
    torch.testing.assert_close(model(x), before)


def test_residual_blocks_add_their_input():
    model = _model(d_model=6, n_blocks=1, kernel_size=2)
    with torch.no_grad():  # a block whose last gate is closed is the identity
        last = model.blocks[0].layers[-1]
        last.weight_g.zero_()
        last.bias[6:].fill_(-1e4)  # σ(b) = 0
    x = _input()
    h, _ = model.input_layer(
        x.transpose(1, 2), model.input_layer.init_state(2), torch.full((2,), 20)
    )
    torch.testing.assert_close(model(x), h.transpose(1, 2))


def test_chunked_reading_with_the_carried_state_equals_one_pass():
    model = _model(d_model=8, n_blocks=2, kernel_size=4, bottleneck=True, d_bottleneck=3)
    x = _input(length=23)
    whole = model(x)
    state, pieces = None, []
    for start in range(0, 23, 5):  # chunks shorter than the receptive field
        y, state = model.forward_with_state(x[:, start : start + 5], state)
        pieces.append(y)
    torch.testing.assert_close(torch.cat(pieces, 1), whole)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"d_model": 0}, "d_model"),
        ({"n_blocks": -1}, "n_blocks"),
        ({"kernel_size": 0}, "kernel_size"),
        ({"dropout": 1.0}, "dropout"),
        ({"bottleneck": True, "d_bottleneck": 0}, "d_bottleneck"),
    ],
)
def test_bad_parameters_are_refused(params, message):
    with pytest.raises(ValueError, match=message):
        GatedConv(3, GatedConvParams(**params))
