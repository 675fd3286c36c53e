"""Paper invariants of NC-GRU: the scaled Cayley matrix stays orthogonal under training, the
Neumann-series mode tracks the exact inverse, modReLU, masking and the registry entry."""

import copy
import pickle

import pytest
import torch

from seqestim.nn._contract import lengths_to_mask
from seqestim.nn.nc_gru import NCGRU, NCGRUParams, ScaledCayleyOrthogonal, mod_relu
from seqestim.registry import get_spec


def _orthogonality_error(W):
    W = W.detach().double()
    return float((W.T @ W - torch.eye(W.shape[0], dtype=W.dtype)).norm())


def _exact_inverse(m):
    A = m.skew().detach()
    return torch.linalg.inv(torch.eye(A.shape[0], dtype=A.dtype) + A)


@pytest.mark.parametrize("update", ["exact", "neumann"])
def test_cayley_matrix_is_orthogonal_with_the_right_determinant(update):
    torch.manual_seed(0)
    m = ScaledCayleyOrthogonal(9, n_neg_ones=3, update=update)
    W = m()
    A = m.skew()
    assert torch.equal(A, -A.T)
    assert _orthogonality_error(W) < 1e-6
    # det((I + A)^{-1}(I - A)) = 1, so det W = det D = (-1)^{n_neg_ones}
    assert torch.linalg.det(W.double()).item() == pytest.approx(-1.0, abs=1e-5)
    assert int((m.d < 0).sum()) == 3


def test_cached_inverse_gradient_equals_autograd_through_the_solve():
    torch.manual_seed(0)
    exact = ScaledCayleyOrthogonal(7, n_neg_ones=2, update="exact")
    neumann = ScaledCayleyOrthogonal(7, n_neg_ones=2, update="neumann")
    neumann.load_state_dict(exact.state_dict(), strict=False)
    neumann.inverse = _exact_inverse(neumann)
    neumann.inverse_of = neumann.skew().detach()
    G = torch.randn(7, 7)
    for m in (exact, neumann):
        (m() * G).sum().backward()
    torch.testing.assert_close(neumann(), exact(), atol=1e-6, rtol=0)
    torch.testing.assert_close(neumann.P.grad, exact.P.grad, atol=1e-6, rtol=1e-5)


def _train_matrix(m, n_steps, lr, seed=0):
    """Adam on a loss of W alone; yields after every step (the paper's setting: Adam on A)."""
    gen = torch.Generator().manual_seed(seed)
    target = torch.linalg.qr(torch.randn(m.P.shape[0], m.P.shape[0], generator=gen))[0]
    optimizer = torch.optim.Adam(m.parameters(), lr=lr)
    for _ in range(n_steps):
        noise = 0.1 * torch.randn(target.shape, generator=gen)  # stochastic gradients
        loss = (m() - target - noise).pow(2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        yield loss


def test_exact_mode_stays_orthogonal_after_many_steps():
    m = ScaledCayleyOrthogonal(16, n_neg_ones=5, update="exact")
    start = m().detach().clone()
    for _ in _train_matrix(m, 300, lr=1e-2):
        pass
    W = m()
    assert (W - start).abs().max() > 0.1  # it did move
    assert _orthogonality_error(W) < 1e-5


def test_neumann_mode_stays_orthogonal_and_tracks_the_inverse():
    """Tolerance: with Adam at lr 1e-3 on n = 8 the series truncation, O(‖X‖³) per update with
    ‖X‖ ≈ lr·n, accumulates to < 1e-5 between exact re-inversions (every 49 updates)."""
    m = ScaledCayleyOrthogonal(8, n_neg_ones=3, update="neumann", reinvert_every=49)
    start = m().detach().clone()
    worst_inverse, worst_orthogonality = 0.0, 0.0
    for step, _ in enumerate(_train_matrix(m, 300, lr=1e-3), start=1):
        W = m()  # refreshes the cache for the new A (what the next training pass sees)
        error = float((m.inverse - _exact_inverse(m)).norm())
        worst_inverse = max(worst_inverse, error)
        worst_orthogonality = max(worst_orthogonality, _orthogonality_error(W))
        if step % 49 == 0:
            assert error < 1e-12  # just re-inverted exactly
    assert int(m.n_updates) == 300
    assert (m().detach() - start).abs().max() > 0.05
    assert worst_inverse < 1e-5
    assert worst_orthogonality < 1e-5


def test_neumann_update_is_second_order_accurate():
    """One update with a change of A of size ε errs by O(ε³) (first order would be O(ε²))."""
    torch.manual_seed(0)
    base = ScaledCayleyOrthogonal(6, n_neg_ones=2, update="neumann", reinvert_every=10**9)
    direction = torch.randn(6, 6)
    errors = []
    for eps in (1e-1, 1e-2):
        m = copy.deepcopy(base)
        with torch.no_grad():
            m.P += eps * direction
        m()
        errors.append(float((m.inverse - _exact_inverse(m)).norm()))
    assert errors[0] / errors[1] > 500  # ~ 10³


def test_neumann_cache_refreshes_only_when_a_changes():
    m = ScaledCayleyOrthogonal(5, n_neg_ones=1, update="neumann")
    m()
    m()
    assert int(m.n_updates) == 0
    with torch.no_grad():
        m.P += 0.01 * torch.randn(5, 5)
    m.eval()
    m()  # evaluation also follows A, so train and predict use the same W
    assert int(m.n_updates) == 1
    # a large jump is re-inverted exactly instead of trusting a divergent series
    with torch.no_grad():
        m.P += 3.0 * torch.randn(5, 5)
    m()
    torch.testing.assert_close(m.inverse, _exact_inverse(m), atol=1e-12, rtol=0)


def test_mod_relu():
    z = torch.tensor([-2.0, -0.5, 0.0, 0.3, 1.5])
    b = torch.tensor([-1.0, 1.0, 0.5, -0.5, 0.2])
    expected = torch.tensor([-1.0, -1.5, 0.0, 0.0, 1.7])
    torch.testing.assert_close(mod_relu(z, b), expected)


@pytest.mark.parametrize("update", ["exact", "neumann"])
@pytest.mark.parametrize("orthogonal_reset", [False, True])
def test_gradients_and_mask_invariance(update, orthogonal_reset):
    torch.manual_seed(0)
    model = NCGRU(
        3,
        NCGRUParams(
            d_model=6,
            n_layers=2,
            bidirectional=True,
            orthogonal_reset=orthogonal_reset,
            orthogonal_update=update,
        ),
    )
    x = torch.randn(3, 7, 3)
    lengths = torch.tensor([7, 4, 2])
    mask = lengths_to_mask(lengths, 7)
    padded = torch.where(mask.unsqueeze(-1), x, torch.full_like(x, float("nan")))
    out = model(padded, mask)
    assert out.shape == (3, 7, 12)
    out[mask].pow(2).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    for b, n in enumerate(lengths.tolist()):
        alone = model(x[b : b + 1, :n])
        torch.testing.assert_close(out[b : b + 1, :n], alone, atol=1e-5, rtol=1e-5)
    assert len(model.orthogonal_matrices()) == (8 if orthogonal_reset else 4)


def test_padded_steps_keep_the_state():
    torch.manual_seed(0)
    model = NCGRU(2, NCGRUParams(d_model=4))
    x = torch.randn(1, 6, 2)
    mask = torch.tensor([[True, True, True, False, False, False]])
    out = model(x, mask)
    for t in range(3, 6):
        torch.testing.assert_close(out[:, t], out[:, 2])


@pytest.mark.parametrize("update", ["exact", "neumann"])
def test_training_loop_keeps_candidate_matrix_orthogonal(update):
    """A plain optimizer.step() loop on the whole network needs no extra calls."""
    torch.manual_seed(0)
    model = NCGRU(2, NCGRUParams(d_model=8, orthogonal_update=update, orthogonal_reset=True))
    head = torch.nn.Linear(8, 1)
    optimizer = torch.optim.Adam([*model.parameters(), *head.parameters()], lr=1e-3)
    x = torch.randn(16, 10, 2)
    y = x[:, :3, 0].sum(dim=1, keepdim=True)
    losses = []
    for _ in range(25):
        loss = (head(model(x)[:, -1]) - y).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0]
    for W in model.orthogonal_matrices():
        assert _orthogonality_error(W) < 1e-5
    if update == "neumann":
        cell = model.layers[0][0].cell
        assert int(cell.candidate_orthogonal.n_updates) == 25
        assert int(cell.reset_orthogonal.n_updates) == 25


def test_step_matches_forward():
    torch.manual_seed(0)
    model = NCGRU(3, NCGRUParams(d_model=5, n_layers=2, orthogonal_update="neumann")).eval()
    x = torch.randn(2, 6, 3)
    full = model(x)
    state = model.init_state(2)
    for t in range(6):
        y, state = model.step(x[:, t], state)
        torch.testing.assert_close(y, full[:, t], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("update", ["exact", "neumann"])
def test_persistence(update):
    torch.manual_seed(0)
    model = NCGRU(2, NCGRUParams(d_model=5, orthogonal_update=update))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    x = torch.randn(2, 5, 2)
    expected = model(x)
    fresh = NCGRU(2, NCGRUParams(d_model=5, orthogonal_update=update))
    fresh.load_state_dict(model.state_dict())
    torch.testing.assert_close(fresh(x), expected)
    torch.testing.assert_close(pickle.loads(pickle.dumps(model))(x), expected)


def test_validation_and_registry():
    with pytest.raises(ValueError, match="n_neg_ones"):
        NCGRU(2, NCGRUParams(d_model=4, n_neg_ones=5))
    with pytest.raises(ValueError, match="orthogonal_update"):
        NCGRU(2, NCGRUParams(orthogonal_update="cayley"))
    spec = get_spec("nc_gru")
    assert spec.cls is NCGRU and spec.params is NCGRUParams
    assert spec.causal and spec.supports_step
    assert (
        int((NCGRU(2, NCGRUParams(d_model=10)).layers[0][0].cell.candidate_orthogonal.d < 0).sum())
        == 5
    )
