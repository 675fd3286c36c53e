"""Paper invariants of S5 (Smith, Warrington & Linderman, ICLR 2023)."""

import math

import pytest
import torch

from seqestim.nn._contract import lengths_to_mask
from seqestim.nn.s5 import (
    S5,
    S5SSM,
    S5Params,
    block_hippo_init,
    discretize_bilinear,
    discretize_zoh,
    hippo_n,
    linear_recurrence_chunked,
    linear_recurrence_loop,
    linear_recurrence_scan,
)
from seqestim.registry import get_spec

# Values from the official code's make_DPLR_HiPPO(8) (notes §1.2, "checked values").
HIPPO8_IMAG = torch.tensor([-19.857, -5.354, -1.958, -0.427], dtype=torch.float64)


def _seed(seed=0):
    torch.manual_seed(seed)


# ------------------------------------------------------------------ initialisation


def test_hippo_n_eigenvalues_n8():
    Lambda, V = hippo_n(8)
    expected = torch.complex(torch.full((4,), -0.5, dtype=torch.float64), HIPPO8_IMAG)
    torch.testing.assert_close(Lambda[:4], expected, atol=1e-3, rtol=0)
    # the other half are the conjugates, in mirrored order
    torch.testing.assert_close(Lambda[4:], expected.conj().flip(0), atol=1e-3, rtol=0)
    # V diagonalises the normal part S = A + p pᵀ of HiPPO-LegS
    n = torch.arange(8, dtype=torch.float64)
    q = torch.sqrt(2 * n + 1)
    A = -(torch.tril(q[:, None] * q[None, :]) - torch.diag(n))
    S = A + torch.sqrt(n + 0.5)[:, None] * torch.sqrt(n + 0.5)[None, :]
    torch.testing.assert_close(V @ torch.diag(Lambda) @ V.conj().T, S.to(V.dtype))
    torch.testing.assert_close(V.conj().T @ V, torch.eye(8, dtype=V.dtype))


def test_block_init_keeps_negative_half_in_every_block():
    Lambda, V, Vinv = block_hippo_init(16, blocks=2, conj_sym=True)
    assert Lambda.shape == (8,) and V.shape == (16, 8) and Vinv.shape == (8, 16)
    torch.testing.assert_close(Lambda.imag, HIPPO8_IMAG.repeat(2), atol=1e-3, rtol=0)
    torch.testing.assert_close(Lambda.real, torch.full((8,), -0.5, dtype=torch.float64))
    assert torch.all(V[:8, 4:] == 0) and torch.all(V[8:, :4] == 0)  # block diagonal
    torch.testing.assert_close(Vinv @ V, torch.eye(8, dtype=V.dtype))
    with pytest.raises(ValueError, match="even"):
        block_hippo_init(6, blocks=2, conj_sym=True)
    with pytest.raises(ValueError, match="divisor"):
        block_hippo_init(8, blocks=3)


def test_B_tilde_is_Vinv_times_a_real_B_and_timescales_log_uniform():
    _seed(1)
    ssm = S5SSM(5, 8, blocks=2, conj_sym=False, dt_min=0.01, dt_max=0.2).double()
    _, V, _ = block_hippo_init(8, blocks=2, conj_sym=False)
    B_tilde = torch.complex(ssm.B[..., 0], ssm.B[..., 1])
    B = V @ B_tilde  # must be the real matrix B was drawn as
    assert B.imag.abs().max() < 1e-6
    assert 0.1 < B.real.std() * math.sqrt(8) < 3  # LeCun scale: variance 1/P
    assert ssm.log_step.shape == (8,)  # one timescale per state, not per feature
    assert torch.all(ssm.log_step >= math.log(0.01)) and torch.all(ssm.log_step <= math.log(0.2))


# ------------------------------------------------------------------ discretisation


def _random_ssm(P=6, H=3, dtype=torch.float64):
    Lambda = torch.complex(-torch.rand(P, dtype=dtype) - 0.1, torch.randn(P, dtype=dtype) * 5)
    B = torch.randn(P, H, dtype=dtype) + 1j * torch.randn(P, H, dtype=dtype)
    Delta = torch.rand(P, dtype=dtype) * 0.2 + 0.01
    return Lambda, B, Delta


def test_zoh_matches_matrix_exponential_closed_form():
    _seed(2)
    Lambda, B_tilde, Delta = _random_ssm()
    Lambda_bar, B_bar = discretize_zoh(Lambda, B_tilde, Delta)
    P, H = B_tilde.shape
    for p in range(P):  # Van Loan: expm([[λ, b], [0, 0]] Δ) = [[Λ̄, B̄], [0, I]]
        M = torch.zeros(1 + H, 1 + H, dtype=B_tilde.dtype)
        M[0, 0], M[0, 1:] = Lambda[p], B_tilde[p]
        E = torch.linalg.matrix_exp(M * Delta[p])
        torch.testing.assert_close(Lambda_bar[p], E[0, 0], rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(B_bar[p], E[0, 1:], rtol=1e-12, atol=1e-12)


def test_bilinear_matches_closed_form():
    _seed(3)
    Lambda, B_tilde, Delta = _random_ssm()
    Lambda_bar, B_bar = discretize_bilinear(Lambda, B_tilde, Delta)
    A = torch.diag(Lambda)
    Dm = torch.diag(Delta.to(A.dtype))
    eye = torch.eye(len(Lambda), dtype=A.dtype)
    left = eye - Dm @ A / 2
    torch.testing.assert_close(
        torch.diag(Lambda_bar), torch.linalg.solve(left, eye + Dm @ A / 2), rtol=1e-12, atol=1e-12
    )
    torch.testing.assert_close(
        B_bar, torch.linalg.solve(left, Dm @ B_tilde), rtol=1e-12, atol=1e-12
    )
    # both discretisations agree to first order for small steps
    zoh = discretize_zoh(Lambda, B_tilde, Delta * 1e-3)[0]
    bil = discretize_bilinear(Lambda, B_tilde, Delta * 1e-3)[0]
    assert (zoh - bil).abs().max() < 1e-6


def test_eigenvalue_clipping():
    ssm = S5SSM(2, 4, clip_eigenvalues=True, discretization="zoh")
    with torch.no_grad():
        ssm.Lambda_re.fill_(0.5)
    Lambda_bar, _ = ssm.discretize()
    torch.testing.assert_close(
        Lambda_bar.abs(), torch.exp(-1e-4 * torch.exp(ssm.log_step)), rtol=1e-6, atol=0
    )


# ------------------------------------------------------------------ scan


@pytest.mark.parametrize("L", [1, 2, 3, 7, 64, 1000])
@pytest.mark.parametrize("uniform", [True, False])
def test_scan_equals_loop(L, uniform):
    _seed(L)
    shape = (2, 1 if uniform else L, 5)
    a = torch.polar(
        torch.rand(shape, dtype=torch.float64) * 0.5 + 0.5, torch.randn(shape, dtype=torch.float64)
    )
    b = torch.randn(2, L, 5, dtype=torch.complex128)
    expected = linear_recurrence_loop(a, b)
    got = linear_recurrence_scan(a, b)
    assert (got - expected).abs().max() <= 1e-10 * expected.abs().max()


@pytest.mark.parametrize("uniform", [True, False])
def test_scan_gradients(uniform):
    _seed(13)
    L = 7
    shape = (2, 1 if uniform else L, 3)
    a = torch.polar(
        torch.rand(shape, dtype=torch.float64) * 0.5 + 0.5, torch.randn(shape, dtype=torch.float64)
    ).requires_grad_()
    b = torch.randn(2, L, 3, dtype=torch.complex128, requires_grad=True)
    assert torch.autograd.gradcheck(linear_recurrence_scan, (a, b))
    w = torch.randn(2, L, 3, dtype=torch.complex128)
    got = torch.autograd.grad((linear_recurrence_scan(a, b) * w).real.sum(), (a, b))
    expected = torch.autograd.grad((linear_recurrence_loop(a, b) * w).real.sum(), (a, b))
    for g, e in zip(got, expected, strict=True):
        torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-12)


def _chunked(a, b):
    x_re, x_im = linear_recurrence_chunked(a.real, a.imag, b.real, b.imag)
    return torch.complex(x_re, x_im)


@pytest.mark.parametrize("L", [1, 2, 3, 7, 8, 9, 64, 1000])
@pytest.mark.parametrize("a_batch", [1, 2])
def test_chunked_recurrence_equals_loop(L, a_batch):
    _seed(L)
    shape = (a_batch, 1, 5)  # one a for every sequence, or one per sequence
    a = torch.polar(
        torch.rand(shape, dtype=torch.float64) * 0.5 + 0.5, torch.randn(shape, dtype=torch.float64)
    )
    b = torch.randn(2, L, 5, dtype=torch.complex128)
    expected = linear_recurrence_loop(a, b)
    got = _chunked(a, b)
    assert (got - expected).abs().max() <= 1e-10 * expected.abs().max()


@pytest.mark.parametrize("L", [1, 2, 10, 37])
def test_chunked_recurrence_gradients(L):
    _seed(L)
    a = torch.polar(
        torch.rand(2, 1, 3, dtype=torch.float64) * 0.5 + 0.5,
        torch.randn(2, 1, 3, dtype=torch.float64),
    ).requires_grad_()
    b = torch.randn(2, L, 3, dtype=torch.complex128, requires_grad=True)
    assert torch.autograd.gradcheck(_chunked, (a, b))
    w = torch.randn(2, L, 3, dtype=torch.complex128)
    got = torch.autograd.grad((_chunked(a, b) * w).real.sum(), (a, b))
    expected = torch.autograd.grad((linear_recurrence_loop(a, b) * w).real.sum(), (a, b))
    for g, e in zip(got, expected, strict=True):
        torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-12)


def test_chunked_recurrence_needs_one_shared_step():
    b = torch.zeros(2, 6, 3)
    with pytest.raises(ValueError, match="one step"):
        linear_recurrence_chunked(b, b, b, b)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_ssm_takes_the_chunked_scan_for_wide_batches_and_agrees(bidirectional, monkeypatch):
    import seqestim.nn.s5 as s5

    _seed(1)
    ssm = S5SSM(3, 16, blocks=2, bidirectional=bidirectional, dt_min=0.01, dt_max=0.5).double()
    u = torch.randn(40, 33, 3, dtype=torch.float64)  # 40 sequences x 8 states >= the threshold
    mask = lengths_to_mask(torch.randint(1, 34, (40,)), 33)
    calls = []
    chunked = s5.linear_recurrence_chunked
    monkeypatch.setattr(s5, "linear_recurrence_chunked", lambda *a: calls.append(1) or chunked(*a))
    got = ssm(u, mask)
    assert calls
    monkeypatch.setattr(s5, "CHUNKED_MIN_WIDTH", 10**9)  # force the odd/even scan
    calls.clear()
    expected = ssm(u, mask)
    assert not calls
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("width", [8, 10**9])  # the chunked scan, then the odd/even scan
def test_ssm_continues_from_a_carried_state_in_either_scan(width, monkeypatch):
    import seqestim.nn.s5 as s5

    monkeypatch.setattr(s5, "CHUNKED_MIN_WIDTH", width)
    _seed(2)
    ssm = S5SSM(3, 16, blocks=2, dt_min=0.01, dt_max=0.5).double()
    u = torch.randn(40, 21, 3, dtype=torch.float64)
    lengths = torch.randint(1, 22, (40,))
    lengths[:20] = 21  # the first rows end in the second chunk; the others may end in the first
    mask = lengths_to_mask(lengths, 21)
    whole, final = ssm.run(u, mask)
    first, state = ssm.run(u[:, :9], mask[:, :9])
    second, state = ssm.run(u[:, 9:], mask[:, 9:], state)
    got = torch.cat([first, second], dim=1) * mask.unsqueeze(-1)
    torch.testing.assert_close(got, whole * mask.unsqueeze(-1), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(state[:20], final[:20], rtol=1e-10, atol=1e-10)


def _ssm_by_hand(ssm, u):
    """The S5 SSM as a plain sequential recurrence, both directions, no scan."""
    Lambda_bar, B_bar = ssm.discretize()
    C = torch.complex(ssm.C[..., 0], ssm.C[..., 1])  # (H, n_dir P)
    P = Lambda_bar.shape[0]
    Bsz, L, _ = u.shape
    Bu = torch.einsum("ph,blh->blp", B_bar, u.to(B_bar.dtype))
    fwd, bwd = [], [None] * L
    x = torch.zeros(Bsz, P, dtype=B_bar.dtype)
    for k in range(L):
        x = Lambda_bar * x + Bu[:, k]
        fwd.append(x)
    states = torch.stack(fwd, 1)
    if ssm.bidirectional:
        x = torch.zeros(Bsz, P, dtype=B_bar.dtype)
        for k in reversed(range(L)):
            x = Lambda_bar * x + Bu[:, k]
            bwd[k] = x
        states = torch.cat([states, torch.stack(bwd, 1)], -1)
    y = torch.einsum("hp,blp->blh", C, states)
    y = 2 * y.real if ssm.conj_sym else y.real
    return y + ssm.D * u


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("L", [1, 5, 257, 4096])
def test_ssm_scan_equals_sequential_recurrence_float64(L, bidirectional):
    _seed(0)
    ssm = S5SSM(3, 8, blocks=2, bidirectional=bidirectional, dt_min=0.01, dt_max=0.5).double()
    u = torch.randn(2, L, 3, dtype=torch.float64)
    expected = _ssm_by_hand(ssm, u)
    got = ssm(u)
    assert got.dtype == torch.float64
    assert (got - expected).abs().max() <= 1e-10 * expected.abs().max()


def test_conj_sym_equals_full_complex_model():
    _seed(4)
    half = S5SSM(3, 8, blocks=2, conj_sym=True, bidirectional=True).double()
    full = S5SSM(3, 8, blocks=2, conj_sym=False, bidirectional=True).double()
    with torch.no_grad():  # full model: every kept state plus its complex conjugate
        full.Lambda_re.copy_(torch.cat([half.Lambda_re, half.Lambda_re]))
        full.Lambda_im.copy_(torch.cat([half.Lambda_im, -half.Lambda_im]))
        full.log_step.copy_(torch.cat([half.log_step, half.log_step]))
        conj = torch.tensor([1.0, -1.0], dtype=torch.float64)
        full.B.copy_(torch.cat([half.B, half.B * conj], dim=0))
        Cf, Cb = half.C.chunk(2, dim=1)  # forward / backward halves
        full.C.copy_(torch.cat([Cf, Cf * conj, Cb, Cb * conj], dim=1))
        full.D.copy_(half.D)
    u = torch.randn(2, 50, 3, dtype=torch.float64)
    torch.testing.assert_close(half(u), full(u), rtol=1e-10, atol=1e-10)


def test_conj_sym_init_equals_full_eigendecomposition_with_real_B_C():
    """Keeping the first half of eigh's eigenvectors gives 2Re(C̃x) = the real full system."""
    _seed(5)
    H, P, L = 3, 8, 40
    B = torch.randn(P, H, dtype=torch.float64)
    C = torch.randn(H, P, dtype=torch.float64)
    u = torch.randn(1, L, H, dtype=torch.float64)
    outputs = {}
    for conj_sym in (True, False):
        Lambda, V, Vinv = block_hippo_init(P, blocks=2, conj_sym=conj_sym)
        Delta = torch.full(Lambda.shape, 0.05, dtype=torch.float64)
        Lambda_bar, B_bar = discretize_zoh(Lambda, Vinv @ B.to(V.dtype), Delta)
        x = linear_recurrence_scan(Lambda_bar.view(1, 1, -1), u.to(V.dtype) @ B_bar.T)
        y = (x @ (C.to(V.dtype) @ V).T).real
        outputs[conj_sym] = 2 * y if conj_sym else y
    torch.testing.assert_close(outputs[True], outputs[False], rtol=1e-10, atol=1e-10)
    # and the real full system without any diagonalisation
    Lambda, V = hippo_n(4)
    S = (V @ torch.diag(Lambda) @ V.conj().T).real
    A = torch.block_diag(S, S)
    Ad = torch.linalg.matrix_exp(A * 0.05)
    Bd = torch.linalg.solve(A, (Ad - torch.eye(P, dtype=A.dtype)) @ B)
    x = torch.zeros(P, dtype=torch.float64)
    ys = []
    for k in range(L):
        x = Ad @ x + Bd @ u[0, k]
        ys.append(C @ x)
    torch.testing.assert_close(outputs[True][0], torch.stack(ys), rtol=1e-9, atol=1e-9)


# ------------------------------------------------------------------ the model


def _model(**kw):
    params = {"d_model": 8, "d_state": 8, "n_layers": 2, "blocks": 2}
    params.update(kw)
    return S5(3, S5Params(**params))


def _warm_up_batch_norm(model, L=12):
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(4, L, 3) * 2 + 1)
    return model.eval()


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"norm": "layer", "prenorm": False, "activation": "full_glu", "dropout": 0.3},
        {"activation": "half_glu2", "discretization": "bilinear", "clip_eigenvalues": True},
        {"activation": "gelu", "C_init": "complex_normal", "conj_sym": False, "blocks": 1},
    ],
)
def test_step_equals_forward(kw):
    _seed(6)
    model = _warm_up_batch_norm(_model(**kw)).double()
    x = torch.randn(2, 20, 3, dtype=torch.float64)
    with torch.no_grad():
        full = model(x)
        state = model.init_state(2)
        steps = []
        for t in range(x.shape[1]):
            y, state = model.step(x[:, t], state)
            steps.append(y)
    torch.testing.assert_close(torch.stack(steps, 1), full, rtol=1e-10, atol=1e-10)


def test_bidirectional_has_no_step_and_is_not_causal():
    _seed(7)
    model = _model(bidirectional=True).eval()
    assert not model.causal and not getattr(model, "bidirectional", False)
    assert model.d_output == 8
    with pytest.raises(RuntimeError):
        model.init_state(1)
    x = torch.randn(1, 10, 3)
    x2 = x.clone()
    x2[:, 7] += 1.0
    with torch.no_grad():
        changed = (model(x) - model(x2)).abs().amax(dim=-1)[0]
    assert changed[:7].max() > 1e-4  # the past sees the future
    causal = _model().eval()
    with torch.no_grad():
        changed = (causal(x) - causal(x2)).abs().amax(dim=-1)[0]
    assert changed[:7].max() == 0 and changed[7] > 1e-4


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_mask_invariance(bidirectional, norm):
    _seed(8)
    model = _warm_up_batch_norm(_model(bidirectional=bidirectional, norm=norm))
    lengths = torch.tensor([9, 4, 13])
    x = torch.randn(3, 13, 3)
    x[lengths.unsqueeze(1) <= torch.arange(13)] = 100.0  # loud padding
    mask = lengths_to_mask(lengths, 13)
    with torch.no_grad():
        batched = model(x, mask)
        for i, n in enumerate(lengths.tolist()):
            alone = model(x[i : i + 1, :n])
            torch.testing.assert_close(batched[i : i + 1, :n], alone, rtol=1e-5, atol=1e-5)


def test_batch_norm_training_statistics_ignore_padding():
    _seed(9)
    model = _model(bidirectional=True).train()
    lengths = torch.tensor([9, 4, 13])
    mask = lengths_to_mask(lengths, 13)
    x = torch.randn(3, 13, 3)
    outs, running = [], []
    for pad in (0.0, 50.0):
        x_pad = torch.where(mask.unsqueeze(-1), x, torch.full_like(x, pad))
        clone = _model(bidirectional=True).train()
        clone.load_state_dict(model.state_dict())
        outs.append(clone(x_pad, mask)[mask])
        running.append(clone.layers[0].norm.running_var.clone())
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(running[0], running[1])
    # and padding with statistics included would have changed them
    assert not torch.allclose(running[0], model.layers[0].norm.running_var)


def test_dropout_mask_is_broadcast_over_time():
    _seed(10)
    layer = _model(dropout=0.5).train().layers[0]
    out = layer._drop(torch.ones(4, 30, 8))
    assert torch.all(out == out[:, :1, :])  # same mask at every step
    assert (out == 0).any() and (out == 2).any()


def test_optimizer_groups_contain_exactly_the_ssm_parameters():
    model = _model(ssm_lr=3e-4, bidirectional=True, activation="full_glu")
    groups = model.optimizer_param_groups(lr=1e-2, weight_decay=0.05)
    names = {id(p): n for n, p in model.named_parameters()}
    ssm_names = {names[id(p)] for p in groups[0]["params"]}
    expected = {
        f"layers.{i}.ssm.{n}" for i in range(2) for n in ("Lambda_re", "Lambda_im", "B", "log_step")
    }
    assert ssm_names == expected
    assert groups[0]["lr"] == 3e-4 and groups[0]["weight_decay"] == 0.0
    assert groups[1]["lr"] == 1e-2 and groups[1]["weight_decay"] == 0.05
    regular = {names[id(p)] for p in groups[1]["params"]}
    assert not regular & ssm_names and regular | ssm_names == set(names.values())
    assert "layers.0.ssm.C" in regular and "layers.0.ssm.D" in regular


@pytest.mark.parametrize(
    "kw",
    [
        {"bidirectional": True, "activation": "full_glu", "dropout": 0.1},
        {"norm": "layer", "activation": "half_glu2", "C_init": "complex_normal"},
    ],
)
def test_gradients_reach_every_parameter(kw):
    _seed(11)
    model = _model(**kw).train()
    mask = lengths_to_mask(torch.tensor([10, 6]), 10)
    model(torch.randn(2, 10, 3), mask).pow(2).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_registry_entry_and_signature():
    spec = get_spec("s5")
    assert spec.cls is S5 and spec.params is S5Params and spec.supports_step
    assert spec.causal and len(spec.test_params) >= 2
    for params in spec.test_params:
        model = S5(2, S5Params(**params))
        assert model(torch.randn(2, 5, 2)).shape == (2, 5, model.d_output)
        assert model.params == S5Params(**params)
    import dataclasses
    import inspect

    assert list(inspect.signature(S5).parameters) == ["d_input", "params"]
    doc = S5Params.__doc__
    for field in dataclasses.fields(S5Params):
        assert field.default is not dataclasses.MISSING, field.name
        assert f"\n{field.name} : " in doc, field.name
    assert "\n    params : S5Params" in S5.__doc__


def test_float32_long_sequence_is_finite():
    _seed(12)
    model = _model().eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3000, 3))
    assert torch.isfinite(out).all()
