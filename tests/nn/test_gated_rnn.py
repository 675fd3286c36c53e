"""Chung et al. (2014): the cells compute the paper's equations, not PyTorch's variants."""

import pytest
import torch

from seqestim.nn.gated_rnn import GRU, LSTM, RNN, RecurrentParams


def _weights(cell):
    H = cell.d_model
    W = cell.input_proj.weight.T  # (C, n_gates * H)
    b = cell.input_proj.bias
    U = cell.recurrent
    return H, W, b, U


def test_tanh_rnn_matches_eq_2():
    torch.manual_seed(0)
    model = RNN(3, RecurrentParams(d_model=4)).double()
    cell = model.layers[0][0].cell
    _, W, b, U = _weights(cell)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    h = torch.zeros(2, 4, dtype=torch.float64)
    for t in range(5):
        h = torch.tanh(x[:, t] @ W + b + h @ U)
    torch.testing.assert_close(model(x)[:, -1], h)


def test_gru_matches_eqs_8_to_12_and_differs_from_torch():
    torch.manual_seed(0)
    model = GRU(3, RecurrentParams(d_model=4)).double()
    cell = model.layers[0][0].cell
    H, W, b, U = _weights(cell)
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    h = torch.zeros(2, H, dtype=torch.float64)
    for t in range(6):
        a = x[:, t] @ W + b
        r = torch.sigmoid(a[:, :H] + h @ U[:, :H])
        z = torch.sigmoid(a[:, H : 2 * H] + h @ U[:, H : 2 * H])
        h_tilde = torch.tanh(a[:, 2 * H :] + (r * h) @ U[:, 2 * H :])
        h = (1 - z) * h + z * h_tilde
    ours = model(x)[:, -1]
    torch.testing.assert_close(ours, h)
    # torch.nn.GRU with the same weights computes a different function (z swapped, r after U)
    reference = torch.nn.GRU(3, H, batch_first=True).double()
    with torch.no_grad():
        order = torch.cat([torch.arange(0, H), torch.arange(H, 2 * H), torch.arange(2 * H, 3 * H)])
        reference.weight_ih_l0.copy_(W.T[order])
        reference.weight_hh_l0.copy_(U.T[order])
        reference.bias_ih_l0.copy_(b[order])
        reference.bias_hh_l0.zero_()
    assert not torch.allclose(reference(x)[0][:, -1], ours, atol=1e-3)


def test_lstm_has_diagonal_peepholes_eqs_3_to_7():
    torch.manual_seed(0)
    model = LSTM(3, RecurrentParams(d_model=4)).double()
    cell = model.layers[0][0].cell
    with torch.no_grad():
        cell.peephole.normal_()  # non-zero peepholes so they matter
    H, W, b, U = _weights(cell)
    V_i, V_f, V_o = cell.peephole
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    h = torch.zeros(2, H, dtype=torch.float64)
    c = torch.zeros(2, H, dtype=torch.float64)
    for t in range(6):
        a = x[:, t] @ W + b + h @ U
        i = torch.sigmoid(a[:, :H] + V_i * c)
        f = torch.sigmoid(a[:, H : 2 * H] + V_f * c)
        c = f * c + i * torch.tanh(a[:, 2 * H : 3 * H])
        o = torch.sigmoid(a[:, 3 * H :] + V_o * c)
        h = o * torch.tanh(c)
    torch.testing.assert_close(model(x)[:, -1], h)


def test_forget_bias_starts_at_one():
    cell = LSTM(2, RecurrentParams(d_model=5)).layers[0][0].cell
    torch.testing.assert_close(cell.input_proj.bias[5:10], torch.ones(5))
    assert cell.input_proj.bias[:5].abs().sum() == 0


def test_bidirectional_backward_half_reads_reversed_real_steps():
    torch.manual_seed(0)
    model = GRU(2, RecurrentParams(d_model=3, bidirectional=True)).double()
    x = torch.randn(1, 7, 2, dtype=torch.float64)
    out = model(x)
    backward_only = model.layers[0][1](x.flip(1), None).flip(1)
    torch.testing.assert_close(out[..., 3:], backward_only)


# ---------------------------------------------------------------- the fast path (hand-written BPTT)
def _outputs_and_gradients(model, x, weights, mask, fast):
    """Outputs and gradients (every parameter, the input) of a stack run fast or step by step."""
    for tensor in [*model.parameters(), x]:
        tensor.grad = None
    h = x
    for directions in model.layers:  # unidirectional stacks: one layer per level
        layer = directions[0]
        projected = layer.cell.project(h, mask)
        h = layer.cell.scan(projected, mask) if fast else layer.step_by_step(projected, mask)
    (h * weights).sum().backward()
    return [h.detach()] + [t.grad.clone() for t in [*model.parameters(), x]]


@pytest.mark.parametrize("model_class", [RNN, GRU, LSTM])
@pytest.mark.parametrize(("dtype", "tolerance"), [(torch.float64, 1e-10), (torch.float32, 1e-5)])
@pytest.mark.parametrize("ragged", [False, True])
def test_fast_path_equals_the_step_by_step_cells(model_class, dtype, tolerance, ragged):
    torch.manual_seed(0)
    model = model_class(3, RecurrentParams(d_model=5, n_layers=2)).to(dtype)
    for directions in model.layers:
        if hasattr(directions[0].cell, "peephole"):
            with torch.no_grad():  # non-zero peepholes, so that their gradients matter
                directions[0].cell.peephole.normal_()
    x = torch.randn(4, 9, 3, dtype=dtype, requires_grad=True)
    weights = torch.randn(4, 9, 5, dtype=dtype)  # a loss that reads every step
    mask = None
    if ragged:
        mask = torch.ones(4, 9, dtype=torch.bool)
        mask[1, 6:] = False
        mask[3, 2:] = False
        weights = weights * mask.unsqueeze(-1)  # padded outputs are not read
    fast = _outputs_and_gradients(model, x, weights, mask, fast=True)
    reference = _outputs_and_gradients(model, x, weights, mask, fast=False)
    for ours, expected in zip(fast, reference, strict=True):
        torch.testing.assert_close(ours, expected, rtol=0.0, atol=tolerance)


@pytest.mark.parametrize("model_class", [RNN, GRU, LSTM])
def test_fast_path_from_a_carried_state_equals_the_step_by_step_cells(model_class):
    torch.manual_seed(1)
    model = model_class(3, RecurrentParams(d_model=5)).double()
    cell, layer = model.layers[0][0].cell, model.layers[0][0]
    if hasattr(cell, "peephole"):
        with torch.no_grad():
            cell.peephole.normal_()
    mask = torch.ones(4, 7, dtype=torch.bool)
    mask[2, 3:] = False
    projected = cell.project(torch.randn(4, 7, 3, dtype=torch.float64), mask).detach()
    state = torch.randn_like(cell.init_state(4))  # a non-zero initial state, (B, H) or (B, 2, H)
    results = []
    for run in (cell.scan_with_state, layer.steps_with_state):
        inputs = [projected.clone().requires_grad_(True), state.clone().requires_grad_(True)]
        h, final = run(inputs[0], mask, inputs[1])
        loss = (h * torch.linspace(-1, 1, 5, dtype=h.dtype)).sum() + final.square().sum()
        params = [p for p in model.parameters() if p is not cell.input_proj.weight]
        params = [p for p in params if p is not cell.input_proj.bias]
        grads = torch.autograd.grad(loss, inputs + params)
        results.append([h.detach(), final.detach(), *grads])
    for ours, expected in zip(*results, strict=True):
        torch.testing.assert_close(ours, expected, rtol=0.0, atol=1e-10)
    # the state after the end is the state after the last real step of each row
    torch.testing.assert_close(cell.output(results[0][1])[2], results[0][0][2, 2])


def test_the_backbone_takes_the_fast_path_without_normalization_only():
    torch.manual_seed(0)
    plain = GRU(2, RecurrentParams(d_model=4)).double()
    x = torch.randn(3, 6, 2, dtype=torch.float64)
    calls = []
    cell = plain.layers[0][0].cell
    original = cell.scan_with_state
    cell.scan_with_state = lambda *args: calls.append(1) or original(*args)
    plain(x)
    plain.forward_with_state(x[:, :2], plain.forward_with_state(x[:, :4])[1])
    assert calls == [1, 1, 1]
    normalized = GRU(2, RecurrentParams(d_model=4, normalization="layer")).double()
    fail = lambda *args: pytest.fail("normalized cells step")  # noqa: E731
    normalized.layers[0][0].cell.scan_with_state = fail
    normalized(x)
    normalized.forward_with_state(x)


# ---------------------------------------------------------------- implementation="torch"
@pytest.mark.parametrize(("model_class", "extra"), [(RNN, {}), (LSTM, {"peepholes": False})])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_torch_kernels_compute_the_same_cells(model_class, extra, bidirectional):
    torch.manual_seed(0)
    params = RecurrentParams(d_model=5, n_layers=2, bidirectional=bidirectional, **extra)
    ours = model_class(3, params).double()
    theirs = model_class(3, RecurrentParams(**{**vars(params), "implementation": "torch"}))
    theirs = theirs.double()
    theirs.load_state_dict(ours.state_dict())  # the same parameters in both
    x = torch.randn(4, 9, 3, dtype=torch.float64, requires_grad=True)
    mask = torch.ones(4, 9, dtype=torch.bool)
    mask[1, 6:] = False
    mask[3, 2:] = False
    weights = torch.randn(4, 9, ours.d_output, dtype=torch.float64) * mask.unsqueeze(-1)
    results = []
    for model in (ours, theirs):
        x.grad = None
        y = model(x, mask)
        (y * weights).sum().backward()
        grads = [p.grad for p in model.parameters()]
        results.append([y.detach() * mask.unsqueeze(-1), x.grad.clone(), *grads])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=0.0, atol=1e-10)


def test_lstm_without_peepholes_has_no_peephole_parameters():
    model = LSTM(2, RecurrentParams(d_model=3, peepholes=False))
    assert not any("peephole" in name for name, _ in model.named_parameters())
    assert "layers.0.0.cell.peephole" not in model.state_dict()
    with_peepholes = LSTM(2, RecurrentParams(d_model=3))
    assert "layers.0.0.cell.peephole" in dict(with_peepholes.named_parameters())


@pytest.mark.parametrize(
    ("model_class", "params", "message"),
    [
        (GRU, {}, "different cell"),
        (LSTM, {}, "peepholes=False"),
        (RNN, {"normalization": "layer"}, "normalization"),
        (RNN, {"implementation": "cudnn"}, "implementation must be"),
    ],
)
def test_torch_implementation_only_where_torch_computes_the_cell(model_class, params, message):
    params = {"implementation": "torch", **params}
    with pytest.raises(ValueError, match=message):
        model_class(2, RecurrentParams(d_model=3, **params))
