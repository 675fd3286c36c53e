"""Differentially private training through Opacus: budget, clipping, seeding, refusals."""

import re

import numpy as np
import pytest
import torch
from opacus.optimizers import DPOptimizer

import seqestim
from seqestim import GRUClassifier, LSTMRegressor, RNNClassifier
from seqestim.estimators._catalogue import _NAMED
from seqestim.estimators._training_options import supported_private_backbones
from seqestim.nn._params import param, parameter_group
from seqestim.nn._registry import _REGISTRY
from seqestim.nn.gated_rnn import GRU, RecurrentParams
from seqestim.nn.heads import SequenceNet
from seqestim.registry import register_model
from seqestim.training import DifferentialPrivacy
from seqestim.training import privacy as privacy_module
from seqestim.training.privacy import per_sample_gradients


def _sequences(n, seed, length=10):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 2, length)).astype(np.float32)
    return X, (X[:, 0].mean(axis=1) > 0).astype(int)


def test_budget_spent_stays_within_the_requested_epsilon():
    X, y = _sequences(120, 0)
    for epsilon in (1.0, 4.0):
        clf = GRUClassifier(
            d_model=4,
            max_epochs=2,
            batch_size=24,
            privacy={"epsilon": epsilon, "delta": 1e-4, "max_grad_norm": 1.0},
            random_state=0,
        ).fit(X, y)
        spent_epsilon, spent_delta = clf.privacy_spent_
        assert spent_delta == 1e-4
        # Opacus' search for the noise stops within 0.01 below the target
        assert epsilon - 0.05 < spent_epsilon <= epsilon + 1e-9


def test_every_example_gradient_is_clipped_before_the_noise(monkeypatch):
    X, y = _sequences(60, 1)
    max_norm = 0.01  # far below the gradients' norms: every example is clipped
    observed = []
    original = DPOptimizer.clip_and_accumulate

    def spy(self):
        samples = [g.clone() for g in self.grad_samples]
        original(self)
        summed = [p.summed_grad.clone() for p in self.params]
        observed.append((samples, summed, self.max_grad_norm))

    monkeypatch.setattr(DPOptimizer, "clip_and_accumulate", spy)
    RNNClassifier(
        d_model=4,
        max_epochs=1,
        batch_size=20,
        privacy=DifferentialPrivacy(epsilon=5.0, max_grad_norm=max_norm),
        random_state=0,
    ).fit(X, y)
    assert len(observed) == 3  # 1 / q steps per epoch, q = 20 / 60
    for samples, summed, clip in observed:
        assert clip == max_norm
        norms = torch.stack([g.flatten(1).norm(dim=1) for g in samples], dim=1).norm(dim=1)
        assert bool((norms > max_norm).all())  # the test means something
        factors = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        clipped_norms = norms * factors
        assert float(clipped_norms.max()) <= max_norm * (1 + 1e-5)
        for g, s in zip(samples, summed, strict=True):
            torch.testing.assert_close(s, torch.einsum("i,i...", factors, g))


def test_per_sample_gradients_equal_one_backward_pass_per_example():
    torch.manual_seed(0)
    network = SequenceNet(GRU(3, RecurrentParams(d_model=5, n_layers=2)), 2).double()
    x = torch.randn(4, 6, 3, dtype=torch.float64)
    lengths = torch.tensor([6, 4, 6, 2])  # ragged: grouped by length inside
    targets = torch.tensor([0, 1, 1, 0])
    loss = torch.nn.CrossEntropyLoss()
    grads, losses = per_sample_gradients(network, loss, {"x": x, "lengths": lengths}, targets)
    for i in range(4):
        network.zero_grad()
        value = loss(network(x[i : i + 1], lengths[i : i + 1]), targets[i : i + 1])
        value.backward()
        torch.testing.assert_close(losses[i], value.detach())
        for name, p in network.named_parameters():
            torch.testing.assert_close(grads[name][i], p.grad, rtol=1e-8, atol=1e-12)


def test_same_random_state_same_model_and_a_different_one_differs():
    X, _ = _sequences(80, 2)

    def fit(seed):
        return LSTMRegressor(
            d_model=4,
            max_epochs=2,
            batch_size=16,
            privacy={"epsilon": 2.0},
            random_state=seed,
        ).fit(X, X[:, 0].sum(axis=1))

    first = fit(0).predict(X)
    np.testing.assert_array_equal(first, fit(0).predict(X))
    assert not np.allclose(first, fit(1).predict(X))


def test_batch_normalization_is_refused_with_a_pointer_to_layer_norm():
    X, y = _sequences(40, 3)
    clf = GRUClassifier(d_model=4, max_epochs=1, normalization="batch", privacy={"epsilon": 1.0})
    with pytest.raises(ValueError, match=r"batch normalization.*layer- or group-normalization"):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")
    # layer norm computes its statistics per example: accepted
    clf.set_params(normalization="layer").fit(X, y)
    assert clf.privacy_spent_[0] <= 1.0


@pytest.fixture
def unsupported_model():
    """A backbone around torch.nn.GRU, whose fused kernel torch.func cannot vmap."""

    @parameter_group
    class FusedParams:
        """Hyperparameters of the fused GRU."""

        d_model: int = param(4, "Width.")

    @register_model("fused_gru_test", params=FusedParams, paper="-", url="-", causal=True,
                    test_params=({"d_model": 3}, {"d_model": 4}))  # fmt: skip
    class FusedGRU(torch.nn.Module):
        def __init__(self, d_input, params=None):
            super().__init__()
            self.d_output = (params or FusedParams()).d_model
            self.rnn = torch.nn.GRU(d_input, self.d_output, batch_first=True)

        def forward(self, x, mask=None):
            return self.rnn(x)[0]

    class FusedGRUClassifier(FusedParams, seqestim.estimators.SequenceClassifier):
        """Test-only classifier."""

        _backbone = FusedGRU

    yield FusedGRUClassifier
    _REGISTRY.pop("fused_gru_test", None)
    _NAMED.pop(("fused_gru_test", "classifier"), None)


def test_an_unsupported_backbone_gets_an_error_naming_the_supported_ones(unsupported_model):
    X, y = _sequences(30, 4)
    clf = unsupported_model(max_epochs=1, privacy={"epsilon": 1.0})
    with pytest.raises(ValueError, match="fused_gru_test") as error:
        clf.fit(X, y)
    message = str(error.value)
    supported = re.search(r"support private training: (.*)\.$", message).group(1).split(", ")
    assert {"gru", "lstm", "rnn", "cdil", "tcn"} <= set(supported)
    assert "fused_gru_test" not in supported
    unsupported_model(max_epochs=1).fit(X, y)  # without privacy it trains


def test_the_documented_list_of_supported_backbones_is_the_checked_one():
    documented = re.search(
        r"whose per-example gradients equal one backward\npass per example \(checked by the "
        r"tests\): (.*?)\. Not supported",
        privacy_module.__doc__,
        re.S,
    ).group(1)
    names = re.findall(r"``(\w+)``", documented)
    assert names == list(supported_private_backbones())


@pytest.mark.parametrize(
    ("privacy", "message"),
    [
        ({"eps": 1.0}, "key 'epsilon'"),
        ({"epsilon": 0.0}, "epsilon must be a positive"),
        ({"epsilon": 1.0, "delta": 1.5}, "delta must be in"),
        ({"epsilon": 1.0, "max_grad_norm": -1}, "max_grad_norm must be a positive"),
        ({"epsilon": 1.0, "accountant": "moments"}, "accountant must be one of"),
        (3.0, "privacy must be None, a dict"),
    ],
)
def test_bad_privacy_settings_are_clear_errors(privacy, message):
    X, y = _sequences(20, 5)
    with pytest.raises((ValueError, TypeError), match=message):
        GRUClassifier(d_model=3, max_epochs=1, privacy=privacy).fit(X, y)


@pytest.mark.parametrize("option", ["early_stopping", "warm_start"])
def test_options_that_would_leak_or_overspend_are_refused(option):
    X, y = _sequences(20, 6)
    clf = GRUClassifier(d_model=3, max_epochs=1, privacy={"epsilon": 1.0}, **{option: True})
    with pytest.raises(ValueError, match=option):
        clf.fit(X, y)


def test_private_estimators_save_load_and_clone(tmp_path):
    from sklearn.base import clone

    X, y = _sequences(40, 7)
    budget = DifferentialPrivacy(epsilon=3.0, max_grad_norm=0.5)
    clf = GRUClassifier(d_model=4, max_epochs=1, privacy=budget, random_state=0).fit(X, y)
    clf.save(tmp_path / "m")
    loaded = seqestim.load(tmp_path / "m")
    assert loaded.privacy == budget and loaded.privacy_spent_ == clf.privacy_spent_
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert clone(clf).privacy == budget
    refit = clf.set_params(privacy=None).fit(X, y)
    assert not hasattr(refit, "privacy_spent_")  # nothing stale from the private fit


def test_quantised_and_private_training_combine():
    X, y = _sequences(40, 8)
    clf = GRUClassifier(
        d_model=4, max_epochs=1, weight_bits=1, privacy={"epsilon": 2.0}, random_state=0
    ).fit(X, y)
    for tensor in clf.quantized_weights().values():
        np.testing.assert_array_equal(np.abs(tensor.values), tensor.scale)
    assert clf.privacy_spent_[0] <= 2.0
