"""Invariants of the recurrent normalizations (LN, ATN, recurrent BN, BLN) and their use in
the RNN/GRU/LSTM backbones."""

import copy
import io
import math
import pickle

import pytest
import torch
from torch import nn

from seqestim.nn._normalization import (
    AssortedTimeNorm,
    BatchLayerNorm,
    LayerNorm,
    RecurrentBatchNorm,
    make_norm,
)
from seqestim.nn.gated_rnn import GRU, LSTM, RNN, RecurrentParams

NORMS = ["layer", "batch", "batch_layer", "assorted_time"]
BATCH_NORMS = ["batch", "batch_layer"]


def _random_affine(norm):
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.uniform_(-0.5, 0.5)
    return norm


def _mask(B, L, lengths):
    return torch.arange(L).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)


# ---------------------------------------------------------------- assorted-time normalization
def test_atn_window_one_is_layer_norm():
    torch.manual_seed(0)
    d = 7
    reference = _random_affine(nn.LayerNorm(d))
    atn = AssortedTimeNorm(d, window=1)
    atn.load_state_dict(reference.state_dict())
    a = 3.0 * torch.randn(5, 9, d) + 2.0
    expected = reference(a)
    torch.testing.assert_close(atn.sequence(a, None), expected, atol=1e-6, rtol=0)
    memory = atn.init_memory()
    for t in range(a.shape[1]):
        out, memory = atn.step(a[:, t], t, None, memory)
        torch.testing.assert_close(out, expected[:, t], atol=1e-6, rtol=0)
    # and our LayerNorm is torch's
    ours = LayerNorm(d)
    ours.load_state_dict(reference.state_dict())
    torch.testing.assert_close(ours.sequence(a, None), expected, atol=1e-6, rtol=0)


def test_atn_adds_no_parameters():
    atn, ln = AssortedTimeNorm(6, window=25), nn.LayerNorm(6)
    assert [p.shape for p in atn.parameters()] == [p.shape for p in ln.parameters()]
    assert not list(atn.buffers())
    for cls in (RNN, GRU, LSTM):
        n_ln = sum(
            p.numel()
            for p in cls(3, RecurrentParams(d_model=5, normalization="layer")).parameters()
        )
        m = cls(3, RecurrentParams(d_model=5, normalization="assorted_time", atn_window=30))
        assert sum(p.numel() for p in m.parameters()) == n_ln


def _atn_brute_force(a, k, weight, bias, eps=1e-5):
    """The paper's formula, one step at a time, from scratch."""
    out = torch.empty_like(a)
    for t in range(a.shape[1]):
        window = a[:, max(0, t - k + 1) : t + 1]  # (B, m, D)
        mean = window.mean(dim=(1, 2), keepdim=True)[:, 0]
        var = window.var(dim=(1, 2), unbiased=False, keepdim=True)[:, 0]
        out[:, t] = (a[:, t] - mean) / torch.sqrt(var + eps) * weight + bias
    return out


@pytest.mark.parametrize("k", [1, 2, 3, 8])
def test_atn_matches_formula_in_both_paths(k):
    torch.manual_seed(1)
    atn = _random_affine(AssortedTimeNorm(4, window=k))
    a = torch.randn(3, 10, 4) * torch.linspace(0.5, 3, 10).view(1, 10, 1) + 1.0
    expected = _atn_brute_force(a, k, atn.weight.detach(), atn.bias.detach())
    torch.testing.assert_close(atn.sequence(a, None), expected, atol=1e-5, rtol=1e-5)
    memory = atn.init_memory()
    for t in range(10):
        out, memory = atn.step(a[:, t], t, None, memory)
        torch.testing.assert_close(out, expected[:, t], atol=1e-5, rtol=1e-5)
        if k > 1:
            assert len(memory[0]) == min(t + 1, k)  # the steps of the current window


def test_atn_general_path_at_window_one_is_layer_norm():
    """The windowed-moment code itself reduces to LayerNorm (window 1 normally short-cuts)."""
    torch.manual_seed(2)
    reference = _random_affine(nn.LayerNorm(6))
    atn = AssortedTimeNorm(6, window=1)
    atn.load_state_dict(reference.state_dict())
    a = 2.0 * torch.randn(4, 8, 6) - 1.0
    torch.testing.assert_close(atn._windowed(a), reference(a), atol=1e-6, rtol=0)


def test_atn_gradient_flows_through_history():
    a = torch.randn(2, 5, 4, requires_grad=True)
    AssortedTimeNorm(4, window=3).sequence(a, None)[:, 4].sum().backward()
    grad_per_step = a.grad.abs().sum(dim=(0, 2))
    assert (grad_per_step[2:] > 0).all()  # steps 2, 3, 4 are in the window of step 4
    assert (grad_per_step[:2] == 0).all()


# ---------------------------------------------------------------- batch layer normalization
def test_bln_matches_hand_computed_example():
    bln = BatchLayerNorm(2, batch_size=2)  # m = 2, d = 2, γ = 1, β = 0
    a = torch.tensor([[1.0, 3.0], [3.0, 7.0]]).unsqueeze(1)  # (B=2, L=1, D=2)
    # batch moments per feature: μ_B = (2, 5), σ²_B = (1, 4)
    # feature moments per sample: μ_F = (2, 5), σ²_F = (1, 4)
    s1, s4 = math.sqrt(1.001), math.sqrt(4.001)  # ε = 1e-3
    x_b = [[-1 / s1, -2 / s4], [1 / s1, 2 / s4]]
    x_f = [[-1 / s1, 1 / s1], [-2 / s4, 2 / s4]]
    w_f, w_b = 1 / 2 - 1e-4, 1 - 1 / 2 - 1e-4
    expected = torch.tensor(
        [[(w_f * x_f[i][j] + w_b * x_b[i][j]) / math.sqrt(2) for j in range(2)] for i in range(2)]
    )
    bln.train()
    torch.testing.assert_close(bln.sequence(a, None)[:, 0], expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(bln.step(a[:, 0], 0, None, None)[0], expected, atol=1e-6, rtol=0)
    # population statistics after one batch: the batch mean and the unbiased variance
    torch.testing.assert_close(bln.running_mean[0], torch.tensor([2.0, 5.0]))
    torch.testing.assert_close(bln.running_var[0], torch.tensor([2.0, 8.0]))
    # evaluation: batch part from the population, feature part from the sample itself
    bln.eval()
    x_b_eval = [[-1 / math.sqrt(2.001), -2 / math.sqrt(8.001)]]
    exp0 = [(w_f * x_f[0][j] + w_b * x_b_eval[0][j]) / math.sqrt(2) for j in range(2)]
    torch.testing.assert_close(
        bln.sequence(a[:1], None)[0, 0], torch.tensor(exp0), atol=1e-6, rtol=0
    )


def test_bln_uses_configured_not_runtime_batch_size():
    torch.manual_seed(0)
    a = torch.randn(6, 1, 5)
    b8, b2 = BatchLayerNorm(5, batch_size=8), BatchLayerNorm(5, batch_size=2)
    assert not torch.allclose(b8.sequence(a, None), b2.sequence(a, None))
    # m = 1 and a batch of one: x̂_B = 0, so BLN = (1 - 1e-4) LayerNorm / sqrt(d)
    b1 = BatchLayerNorm(5, batch_size=1)
    expected = (1 - 1e-4) * nn.functional.layer_norm(a[:1], (5,), eps=1e-3) / math.sqrt(5)
    torch.testing.assert_close(b1.sequence(a[:1], None), expected, atol=1e-6, rtol=0)


# ---------------------------------------------------------------- recurrent batch normalization
def test_batch_norm_uses_per_step_statistics_and_small_gain():
    torch.manual_seed(0)
    bn = RecurrentBatchNorm(3)
    assert torch.allclose(bn.weight, torch.full((3,), 0.1))
    a = torch.randn(64, 4, 3) * torch.tensor([1.0, 5.0, 0.2, 3.0]).view(1, 4, 1) + 7.0
    out = bn.sequence(a, None)
    # each step is normalized by its own batch statistics: mean 0, std γ = 0.1 per step
    torch.testing.assert_close(out.mean(dim=0), torch.zeros(4, 3), atol=1e-5, rtol=0)
    torch.testing.assert_close(
        out.std(dim=0, unbiased=False), torch.full((4, 3), 0.1), atol=1e-4, rtol=0
    )
    torch.testing.assert_close(bn.running_mean, a.mean(dim=0))
    torch.testing.assert_close(bn.running_var, a.var(dim=0))  # unbiased, as torch's BatchNorm


def test_batch_norm_population_statistics_and_t_beyond_t_max():
    torch.manual_seed(0)
    bn = RecurrentBatchNorm(3)
    for _ in range(30):  # cumulative average for 10 batches, then EMA
        bn.sequence(torch.randn(16, 4, 3) * 2 + 1, None)
    assert bn.running_mean.shape == (4, 3)
    assert (bn.num_batches_tracked == 30).all()
    bn.eval()
    a = torch.randn(2, 7, 3)
    out = bn.sequence(a, None)
    for t in range(7):  # steps past T_max = 4 reuse the statistics of the last trained step
        s = min(t, 3)
        expected = (a[:, t] - bn.running_mean[s]) / torch.sqrt(bn.running_var[s] + 1e-5) * 0.1
        torch.testing.assert_close(out[:, t], expected)
        torch.testing.assert_close(bn.step(a[:, t], t, None, None)[0], expected)


@pytest.mark.parametrize("cls", [RecurrentBatchNorm, BatchLayerNorm])
def test_padding_does_not_enter_batch_statistics(cls):
    torch.manual_seed(0)
    a = torch.randn(4, 6, 3)
    mask = _mask(4, 6, [6, 2, 4, 1])
    poisoned = a.clone()
    poisoned[~mask] = float("nan")
    norm, reference = cls(3), cls(3)
    out = norm.sequence(poisoned, mask)
    assert torch.isfinite(out[mask]).all()
    assert torch.isfinite(norm.running_mean).all() and torch.isfinite(norm.running_var).all()
    # step t's statistics are those of the real rows only
    for t in range(6):
        rows = mask[:, t]
        ref_out = reference.step(a[rows, t], t, None, None)[0]
        torch.testing.assert_close(out[rows, t], ref_out)
    torch.testing.assert_close(norm.running_mean, reference.running_mean)
    torch.testing.assert_close(norm.running_var, reference.running_var)
    # the step path with a mask gives the same
    stepped = cls(3)
    for t in range(6):
        got = stepped.step(poisoned[:, t], t, mask[:, t], None)[0]
        torch.testing.assert_close(got[mask[:, t]], out[mask[:, t], t])


@pytest.mark.parametrize("cls", [RecurrentBatchNorm, BatchLayerNorm])
def test_running_statistics_persist(cls):
    torch.manual_seed(0)
    norm = cls(3)
    norm.sequence(torch.randn(8, 5, 3), None)
    norm.eval()
    a = torch.randn(2, 7, 3)
    expected = norm.sequence(a, None)
    fresh = cls(3).eval()
    fresh.load_state_dict(norm.state_dict())  # buffers resized to T_max = 5
    torch.testing.assert_close(fresh.sequence(a, None), expected)
    buffer = io.BytesIO()
    torch.save(norm.state_dict(), buffer)
    for copied in (pickle.loads(pickle.dumps(norm)), copy.deepcopy(norm)):
        torch.testing.assert_close(copied.sequence(a, None), expected)


def test_untrained_batch_norm_evaluates_with_identity_statistics():
    bn = RecurrentBatchNorm(3).eval()
    a = torch.randn(2, 4, 3)
    torch.testing.assert_close(bn.sequence(a, None), 0.1 * a / math.sqrt(1 + 1e-5))


def test_make_norm_rejects_unknown():
    with pytest.raises(ValueError, match="normalization"):
        make_norm("group", 4)
    with pytest.raises(ValueError, match="normalization"):
        GRU(3, RecurrentParams(normalization="group"))
    with pytest.raises(ValueError, match="atn_window"):
        LSTM(3, RecurrentParams(normalization="assorted_time", atn_window=0))


# ---------------------------------------------------------------- inside the backbones
BACKBONES = [RNN, GRU, LSTM]


def _make(cls, norm, **kw):
    torch.manual_seed(0)
    options = {"d_model": 5, "normalization": norm, "atn_window": 3, "bln_batch_size": 4}
    return cls(2, RecurrentParams(**options, **kw))


@pytest.mark.parametrize("cls", BACKBONES)
@pytest.mark.parametrize("norm", NORMS)
def test_backbone_gradients_reach_every_parameter(cls, norm):
    model = _make(cls, norm, n_layers=2, bidirectional=True)
    x = torch.randn(4, 6, 2)
    mask = _mask(4, 6, [6, 3, 5, 2])
    model(x, mask).pow(2).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("cls", BACKBONES)
@pytest.mark.parametrize("norm", NORMS)
def test_backbone_mask_invariance(cls, norm):
    """Real steps never see the padding; in eval mode a row does not see the other rows."""
    model = _make(cls, norm, n_layers=2, bidirectional=True)
    if norm in BATCH_NORMS:  # give the layers population statistics first
        model(torch.randn(8, 7, 2))
    model.eval()
    torch.manual_seed(1)
    x = torch.randn(3, 7, 2)
    lengths = [7, 4, 2]
    mask = _mask(3, 7, lengths)
    padded = torch.where(mask.unsqueeze(-1), x, torch.full_like(x, 1e3))
    out = model(padded, mask)
    for b, n in enumerate(lengths):
        alone = model(x[b : b + 1, :n])
        torch.testing.assert_close(out[b : b + 1, :n], alone, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cls", BACKBONES)
@pytest.mark.parametrize("norm", NORMS)
def test_backbone_padding_never_contaminates_training(cls, norm):
    """In training mode (batch statistics) the padded values still change nothing."""
    model = _make(cls, norm, n_layers=2, bidirectional=True)
    x = torch.randn(4, 6, 2)
    mask = _mask(4, 6, [6, 3, 5, 2])
    out_a = model(torch.where(mask.unsqueeze(-1), x, torch.zeros_like(x)), mask)
    out_b = model(torch.where(mask.unsqueeze(-1), x, torch.full_like(x, float("nan"))), mask)
    torch.testing.assert_close(out_a[mask], out_b[mask])


@pytest.mark.parametrize("cls", BACKBONES)
@pytest.mark.parametrize("norm", BATCH_NORMS)
def test_batch_statistics_predictions_do_not_depend_on_the_batch(cls, norm):
    model = _make(cls, norm)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):  # a little training so population statistics differ from the init
        loss = model(torch.randn(4, 6, 2) * 2 + 1).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    x = torch.randn(1, 6, 2)
    alone = model(x)
    for others in (torch.randn(5, 6, 2), 10 * torch.randn(2, 6, 2) - 3):
        batch = torch.cat([others[:2], x, others[2:]])
        torch.testing.assert_close(model(batch)[2:3], alone, atol=1e-6, rtol=1e-6)
    model.train()  # and in training mode it does (the statistics are the batch's)
    assert not torch.allclose(model(torch.cat([x, others]))[:1], model(x), atol=1e-4)


@pytest.mark.parametrize("cls", BACKBONES)
def test_layer_norm_step_matches_forward(cls):
    model = _make(cls, "layer", n_layers=2).eval()
    x = torch.randn(3, 5, 2)
    full = model(x)
    state = model.init_state(3)
    for t in range(5):
        y, state = model.step(x[:, t], state)
        torch.testing.assert_close(y, full[:, t], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("norm", ["batch", "batch_layer", "assorted_time"])
def test_step_refuses_history_dependent_norms(norm):
    with pytest.raises(RuntimeError, match="step by step"):
        _make(LSTM, norm).init_state(2)


@pytest.mark.parametrize("cls", BACKBONES)
@pytest.mark.parametrize("norm", NORMS)
def test_backbone_persistence(cls, norm):
    model = _make(cls, norm)
    model(torch.randn(4, 6, 2))
    model.eval()
    x = torch.randn(2, 8, 2)
    expected = model(x)
    fresh = _make(cls, norm).eval()
    fresh.load_state_dict(model.state_dict())
    torch.testing.assert_close(fresh(x), expected)
    torch.testing.assert_close(pickle.loads(pickle.dumps(model))(x), expected)


def test_atn_window_one_backbone_equals_layer_norm_backbone():
    ln = _make(LSTM, "layer", n_layers=2)
    atn = LSTM(
        2, RecurrentParams(d_model=5, n_layers=2, normalization="assorted_time", atn_window=1)
    )
    atn.load_state_dict(ln.state_dict())
    x = torch.randn(3, 9, 2)
    torch.testing.assert_close(atn(x), ln(x), atol=0, rtol=0)  # bit for bit
