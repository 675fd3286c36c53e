"""Target-space training (Fairbank et al. 2022): solved weights, gradients, training, refusals."""

import numpy as np
import pytest
import torch
from torch.func import functional_call

import seqestim
from seqestim import GRUClassifier, LSTMClassifier, RNNClassifier, RNNRegressor, S5Classifier
from seqestim.nn.gated_rnn import GRU, RNN, RecurrentParams
from seqestim.nn.heads import SequenceNet, pool
from seqestim.training import TargetSpace
from seqestim.training.target_space import TargetSpaceNetwork, ridge_solve


def _network(backbone, n_layers=1, bidirectional=False, pooling="last", seed=0):
    torch.manual_seed(seed)
    params = RecurrentParams(d_model=4, n_layers=n_layers, bidirectional=bidirectional)
    network = SequenceNet(backbone(2, params), 3, pooling=pooling)
    x = torch.randn(12, 6, 2)
    lengths = torch.tensor([6, 5, 6, 3, 6, 6, 2, 6, 6, 4, 6, 1])
    wrapped = TargetSpaceNetwork(network, {"x": x, "lengths": lengths}, l2=0.1).double()
    return wrapped, x.double(), lengths


def _lstsq(A, T, l2):
    """Ridge regression as an ordinary least-squares problem on augmented rows."""
    k = A.shape[1]
    A_aug = torch.cat([A, np.sqrt(l2) * torch.eye(k, dtype=A.dtype)])
    T_aug = torch.cat([T, torch.zeros(k, T.shape[1], dtype=T.dtype)])
    return torch.linalg.lstsq(A_aug, T_aug, driver="gelsd").solution


def test_ridge_solve_is_least_squares():
    rng = torch.Generator().manual_seed(0)
    A = torch.randn(40, 5, generator=rng, dtype=torch.float64)
    T = torch.randn(40, 3, generator=rng, dtype=torch.float64)
    torch.testing.assert_close(ridge_solve(A, T, 0.3), _lstsq(A, T, 0.3))


def test_tanh_rnn_weights_are_the_least_squares_fit_of_its_targets():
    wrapped, x, lengths = _network(RNN)
    weights = wrapped.solve_weights()
    mask = torch.arange(6)[None] < lengths[:, None]  # (R, L)
    T = wrapped.targets["layer0_dir0"]  # (R, L, H)
    previous = torch.cat([torch.zeros_like(T[:, :1]), torch.tanh(T[:, :-1])], dim=1)
    A = torch.cat([torch.ones_like(x[..., :1]), x, previous], dim=-1)[mask]  # (n_real, 1+C+H)
    W = _lstsq(A, T[mask], 0.1)
    prefix = "backbone.layers.0.0.cell."
    torch.testing.assert_close(weights[prefix + "input_proj.bias"], W[0])
    torch.testing.assert_close(weights[prefix + "input_proj.weight"], W[1:3].T)
    torch.testing.assert_close(weights[prefix + "recurrent"], W[3:])
    # the head: solved from the features the solved recurrent weights *achieve*
    solved = {k: v for k, v in weights.items() if k.startswith("backbone")}
    features = functional_call(
        wrapped.network.backbone, {k[9:]: v for k, v in solved.items()}, (x,), {"mask": mask}
    )
    pooled = pool(features, mask, "last")
    W_head = _lstsq(
        torch.cat([torch.ones(12, 1, dtype=x.dtype), pooled], 1), wrapped.targets["head"], 0.1
    )
    torch.testing.assert_close(weights["head.bias"], W_head[0])
    torch.testing.assert_close(weights["head.weight"], W_head[1:].T)


def test_gru_gates_are_solved_from_the_states_their_targets_imply():
    wrapped, x, lengths = _network(GRU)
    weights = wrapped.solve_weights()
    mask = torch.arange(6)[None] < lengths[:, None]
    T = wrapped.targets["layer0_dir0"]  # (R, L, 3H)
    H = 4
    r, z, c = (
        torch.sigmoid(T[..., :H]),
        torch.sigmoid(T[..., H : 2 * H]),
        torch.tanh(T[..., 2 * H :]),
    )
    h, states = torch.zeros(12, H, dtype=x.dtype), []
    for t in range(6):
        new = (1 - z[:, t]) * h + z[:, t] * c[:, t]
        h = torch.where(mask[:, t : t + 1], new, h)
        states.append(h)
    previous = torch.cat([torch.zeros_like(h[:, None]), torch.stack(states, 1)[:, :-1]], dim=1)
    ones = torch.ones_like(x[..., :1])
    W_rz = _lstsq(torch.cat([ones, x, previous], -1)[mask], T[..., : 2 * H][mask], 0.1)
    W_h = _lstsq(torch.cat([ones, x, r * previous], -1)[mask], T[..., 2 * H :][mask], 0.1)
    W = torch.cat([W_rz, W_h], dim=1)
    prefix = "backbone.layers.0.0.cell."
    torch.testing.assert_close(weights[prefix + "input_proj.bias"], W[0])
    torch.testing.assert_close(weights[prefix + "input_proj.weight"], W[1:3].T)
    torch.testing.assert_close(weights[prefix + "recurrent"], W[3:])


@pytest.mark.parametrize(
    ("backbone", "layers", "bidirectional", "pooling"),
    [(RNN, 2, False, "last"), (GRU, 1, True, "mean"), (RNN, 1, False, None)],
)
def test_gradients_with_respect_to_targets_match_finite_differences(
    backbone, layers, bidirectional, pooling
):
    wrapped, _, _ = _network(backbone, layers, bidirectional, pooling)
    torch.manual_seed(1)
    xb = torch.randn(3, 6, 2, dtype=torch.float64)
    lb = torch.tensor([6, 4, 6])
    names = list(wrapped.targets)

    def outputs(*targets):
        weights = wrapped.solve_weights(targets=dict(zip(names, targets, strict=True)))
        return functional_call(
            wrapped.network, weights, args=(), kwargs={"x": xb, "lengths": lb}, strict=False
        )

    targets = tuple(wrapped.targets[n].detach().clone().requires_grad_(True) for n in names)
    # fast mode: a random directional derivative against its finite difference
    assert torch.autograd.gradcheck(outputs, targets, eps=1e-6, atol=1e-6, fast_mode=True)


def test_training_in_target_space_decreases_the_loss_and_learns():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(160, 2, 10)).astype(np.float32)
    y = (X[:, 0].mean(axis=1) > 0).astype(int)
    clf = RNNClassifier(
        d_model=8, max_epochs=8, lr=0.01, parameterization="targets", random_state=0
    ).fit(X, y)
    losses = clf.history_[:, "train_loss"]
    assert losses[-1] < 0.8 * losses[0]
    assert np.all(np.diff(losses[::2]) < 0)
    assert clf.score(X, y) > 0.8
    # the trainable parameters are the targets; the network's own weights are computed
    trainable = {n for n, p in clf.module_.named_parameters() if p.requires_grad}
    assert trainable == {"targets.layer0_dir0", "targets.head"}
    R = clf.module_.realisation_x.shape[0]
    assert R == 128 and clf.module_.targets["head"].shape == (R, 2)


def test_realisation_batch_is_drawn_from_the_training_rows_and_saved(tmp_path):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(30, 2, 7)).astype(np.float32)
    y = X[:, 0].sum(axis=1)
    reg = RNNRegressor(
        d_model=4,
        max_epochs=2,
        scaling=None,  # the realisation rows are compared with the raw rows below
        random_state=0,
        parameterization=TargetSpace(realisation_size=10, l2=0.01),
    ).fit(X, y)
    realisation = reg.module_.realisation_x.numpy()  # (10, L, C)
    rows = X.transpose(0, 2, 1)
    assert realisation.shape == (10, 7, 2)
    assert all(any(np.array_equal(r, row) for row in rows) for r in realisation)
    assert reg.module_.l2 == 0.01
    reg.save(tmp_path / "m")
    loaded = seqestim.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    np.testing.assert_array_equal(loaded.module_.realisation_x.numpy(), realisation)


def test_predictions_use_the_solved_weights():
    rng = np.random.RandomState(2)
    X = rng.normal(size=(40, 2, 6)).astype(np.float32)
    y = (X[:, 1].sum(axis=1) > 0).astype(int)
    clf = GRUClassifier(d_model=3, max_epochs=2, parameterization="targets", random_state=0)
    proba = clf.fit(X, y).predict_proba(X)
    module = clf.module_
    module.eval()
    with torch.no_grad():
        weights = module.solve_weights()
        inputs = clf._encode_panel(X, reset=False).as_net_input()
        logits = functional_call(
            module.network,
            weights,
            args=(),
            strict=False,
            kwargs={k: torch.as_tensor(v) for k, v in inputs.items()},
        )
    np.testing.assert_allclose(proba, torch.softmax(logits, -1).numpy(), atol=1e-5)


@pytest.mark.parametrize(
    ("estimator", "message"),
    [
        (LSTMClassifier(parameterization="targets"), "tanh RNN and GRU"),
        (S5Classifier(parameterization="targets"), "tanh RNN and GRU"),
        (GRUClassifier(parameterization="targets", normalization="layer"), "normalization=None"),
        (GRUClassifier(parameterization="targets", weight_bits=2), "cannot be combined"),
        (GRUClassifier(parameterization="targets", privacy={"epsilon": 1}), "cannot be combined"),
        (GRUClassifier(parameterization="target"), 'must be "weights", "targets"'),
        (GRUClassifier(parameterization=TargetSpace()), None),
    ],
)
def test_unsupported_settings_are_clear_errors(estimator, message):
    rng = np.random.RandomState(3)
    X = rng.normal(size=(12, 2, 5)).astype(np.float32)
    y = np.arange(12) % 2
    estimator.set_params(max_epochs=1, d_model=3)
    if message is None:
        estimator.fit(X, y)
        return
    with pytest.raises(ValueError, match=message):
        estimator.fit(X, y)
    assert not hasattr(estimator, "net_")


@pytest.mark.parametrize("kwargs", [{"realisation_size": 1}, {"l2": 0.0}, {"l2": -1}])
def test_target_space_settings_are_checked(kwargs):
    with pytest.raises(ValueError):
        TargetSpace(**kwargs)
