"""Invariants of ConvARMA (Schiele et al. 2022, ConvARMA section)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seqestim.datasets.moving_squares import make_moving_squares
from seqestim.nn.conv_arma import ConvARMA, ConvARMANet, ConvARMAParams, SpatialDiffs


def randomize(model, scale=0.3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * scale)
    return model


def paper_form(layer, x):
    """Y_t = σ(Σ_i α_i ⊙ (K_i * X_{t-i} + c_i) + Σ_m δ_m ⊙ (R_m * Y_{t-m} + d_m) + b), step by step.

    In sequence form, "lag i" of step t is the frame x_{t+1-i} (zeros before the start).
    """
    B, L, _, H, W = x.shape
    pad = layer.padding
    outputs = []
    for t in range(L):
        total = layer.bias.view(1, -1, 1, 1).expand(B, -1, H, W).clone()
        for i in range(layer.p):
            frame = x[:, t - i] if t - i >= 0 else torch.zeros_like(x[:, 0])
            conv = F.conv2d(frame, layer.ar_kernel[i], layer.ar_bias[i], padding=pad)
            total = total + layer.ar_scale[:, i].view(1, -1, 1, 1) * conv
        for m in range(1, layer.q + 1):
            previous = outputs[t - m] if t - m >= 0 else torch.zeros(B, layer.units, H, W)
            conv = F.conv2d(previous, layer.ma_kernel[m - 1], layer.ma_bias[m - 1], padding=pad)
            total = total + layer.ma_scale[:, m - 1].view(1, -1, 1, 1) * conv
        outputs.append(layer.activation(total))
    return torch.stack(outputs, dim=1)


@pytest.mark.parametrize(("p", "q"), [(1, 1), (2, 3), (3, 0)])
def test_folded_convolutions_equal_the_paper_recurrence(p, q):
    model = randomize(
        ConvARMA(2, ConvARMAParams(p=p, q=q, units=3, kernel_size=3, activation="tanh"))
    )
    x = torch.randn(2, 5, 2, 6, 7)
    torch.testing.assert_close(model(x), paper_form(model.layers[0], x), rtol=1e-5, atol=1e-5)


def test_shapes_causality_and_stacking():
    model = randomize(ConvARMA(1, ConvARMAParams(p=2, q=2, units=4, n_layers=2)), scale=0.2)
    x = torch.randn(3, 6, 1, 8, 8)
    out = model(x)
    assert out.shape == (3, 6, 4, 8, 8)
    changed = x.clone()
    changed[:, 4:] += 3.0
    torch.testing.assert_close(model(changed)[:, :4], out[:, :4])
    with pytest.raises(ValueError, match="channels, H, W"):
        model(torch.randn(3, 6, 8))
    with pytest.raises(ValueError, match="odd"):
        ConvARMA(1, ConvARMAParams(kernel_size=2))


def test_spatial_diffs():
    x = torch.arange(2 * 1 * 6 * 6, dtype=torch.float32).view(2, 1, 6, 6)
    out = SpatialDiffs(2)(x)
    assert out.shape == (2, 5, 6, 6)
    torch.testing.assert_close(out[:, 0], x[:, 0])
    # channel 1: x - x shifted down by 2 rows (zeros shifted in)
    shifted = torch.zeros_like(x[:, 0])
    shifted[:, 2:] = x[:, 0, :-2]
    torch.testing.assert_close(out[:, 1], x[:, 0] - shifted)
    shifted = torch.zeros_like(x[:, 0])
    shifted[:, :, :-2] = x[:, 0, :, 2:]
    torch.testing.assert_close(out[:, 4], x[:, 0] - shifted)


def test_net_learns_moving_squares():
    torch.manual_seed(0)
    videos = make_moving_squares(16, 8, image_size=12, square_size=3, max_speed=1, random_state=0)
    videos = torch.from_numpy(videos)
    net = ConvARMANet(1, ConvARMAParams(p=2, q=1, units=8, kernel_size=5))
    inputs, targets = videos[:, :-1], videos[:, 1:]
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-2)
    for _ in range(80):
        optimizer.zero_grad()
        loss = F.binary_cross_entropy(net(inputs)[:, 2:], targets[:, 2:])
        loss.backward()
        optimizer.step()
    # the best constant (motion-blind) prediction has the entropy of the pixel rate as its BCE
    rate = targets[:, 2:].mean().item()
    constant_bce = -(rate * np.log(rate) + (1 - rate) * np.log(1 - rate))
    assert loss.item() < 0.5 * constant_bce


def test_make_moving_squares():
    videos = make_moving_squares(5, 30, image_size=10, square_size=3, max_speed=2, random_state=3)
    assert videos.shape == (5, 30, 1, 10, 10) and videos.dtype == np.float32
    assert set(np.unique(videos)) <= {0.0, 1.0}
    np.testing.assert_array_equal(videos.sum(axis=(2, 3, 4)), 9.0)  # one whole square per frame
    np.testing.assert_array_equal(
        videos, make_moving_squares(5, 30, image_size=10, square_size=3, random_state=3)
    )
    # the square moves every frame by at most max_speed pixels per axis, and it does move
    rows = videos[:, :, 0].any(axis=3).argmax(axis=2)  # top row per frame
    cols = videos[:, :, 0].any(axis=2).argmax(axis=2)
    assert np.abs(np.diff(rows, axis=1)).max() <= 2 and np.abs(np.diff(cols, axis=1)).max() <= 2
    assert (np.abs(np.diff(rows, axis=1)) + np.abs(np.diff(cols, axis=1)) > 0).all()
    with pytest.raises(ValueError):
        make_moving_squares(2, 3, image_size=4, square_size=4)


def test_registered_frame_backbone():
    from seqestim.registry import get_spec

    spec = get_spec("conv_arma")
    assert spec.cls is ConvARMANet and spec.params is ConvARMAParams
    assert spec.inputs == ("frames",) and spec.causal and not spec.supports_step
    net = spec.build(2, units=3, spatial_diffs=1)
    assert net.params == ConvARMAParams(units=3, spatial_diffs=1)
    assert net.arma.layers[0].channels == 2 * 5  # the frame and its 4 differences
    out = net(torch.rand(2, 4, 2, 6, 6))
    assert out.shape == (2, 4, net.d_output, 6, 6) and net.d_output == 2
    assert ((out >= 0) & (out <= 1)).all()  # the default head is a sigmoid
    with pytest.raises(ValueError, match="output_activation"):
        ConvARMANet(1, ConvARMAParams(output_activation="tanh"))
