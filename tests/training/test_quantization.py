"""Quantized training (Hubara et al. 2018): quantisers, straight-through estimator, latent
weights, activation quantisation, persistence."""

import pickle

import numpy as np
import pytest
import torch

import seqestim
from seqestim import CDILClassifier, GRUClassifier, LSTMRegressor, S5Classifier
from seqestim.training.quantization import quantize


def _sequences(n, seed):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 2, 12)).astype(np.float32)
    return X, (X[:, 0].mean(axis=1) > 0).astype(int)


def test_one_bit_is_sign_and_never_zero():
    x = torch.tensor([-3.0, -1.0, -1e-7, -0.0, 0.0, 1e-7, 0.5, 7.0])
    q = quantize(x, 1)
    np.testing.assert_array_equal(q.numpy(), [-1, -1, -1, 1, 1, 1, 1, 1])
    assert torch.sign(torch.tensor(0.0)) == 0  # the reason torch.sign is not used


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
def test_k_bits_give_2_to_the_k_evenly_spaced_levels_on_minus_one_one(bits):
    x = torch.linspace(-2, 2, 20001, dtype=torch.float64)
    q = quantize(x, bits)
    levels = torch.unique(q)
    assert len(levels) == 2**bits
    assert levels[0] == -1 and levels[-1] == 1
    np.testing.assert_allclose(np.diff(levels.numpy()), 2 / (2**bits - 1), rtol=1e-12)
    # rounding to the nearest level: never further than half a step away inside [-1, 1]
    inside = x.abs() <= 1
    assert float((q - x)[inside].abs().max()) <= 1 / (2**bits - 1) + 1e-12
    nonzero = x != 0  # 0 goes to the level above it, as Sign(0) = +1
    np.testing.assert_array_equal(quantize(-x, bits)[nonzero].numpy(), -q[nonzero].numpy())
    assert quantize(torch.zeros(1), bits) == 1 / (2**bits - 1)


@pytest.mark.parametrize("bits", [1, 2, 4])
def test_straight_through_gradient_is_the_hard_tanh_mask(bits):
    x = torch.tensor([-2.5, -1.0001, -1.0, -0.3, 0.0, 0.7, 1.0, 1.0001, 4.0], requires_grad=True)
    upstream = torch.arange(1.0, 10.0)
    quantize(x, bits).backward(upstream)
    inside = (x.detach().abs() <= 1).float()
    np.testing.assert_array_equal(x.grad.numpy(), (upstream * inside).numpy())
    assert x.grad[0] == 0 and x.grad[-1] == 0 and x.grad[4] == upstream[4]


def _quantizer(estimator):
    (callback,) = [cb for name, cb in estimator.net_.callbacks_ if name == "weight_quantization"]
    return callback.quantizer


def test_one_bit_weights_are_plus_or_minus_scale_and_latent_weights_stay_clipped():
    X, y = _sequences(64, 0)
    clf = GRUClassifier(d_model=8, max_epochs=3, lr=0.05, weight_bits=1, random_state=0)
    clf.fit(X, y)
    weights = clf.quantized_weights()
    params = dict(clf.module_.named_parameters())
    # every matrix is quantised, the vectors (biases) are not
    assert set(weights) == {name for name, p in params.items() if p.dim() >= 2}
    quantizer = _quantizer(clf)
    for name, tensor in weights.items():
        assert tensor.bits == 1 and tensor.scale > 0
        np.testing.assert_array_equal(np.abs(tensor.values), tensor.scale)  # ±scale, nothing else
        assert set(np.unique(tensor.codes)) <= {0, 1}
        # what the network computes with
        np.testing.assert_array_equal(params[name].detach().double().numpy(), tensor.values)
        latent = quantizer.latent[name]
        assert float(latent.abs().max()) <= tensor.scale  # clipped after every update
        expected = np.where(latent.double().numpy() >= 0, tensor.scale, -tensor.scale)
        np.testing.assert_array_equal(tensor.values, expected)  # Sign of the latent weights


def test_latent_weights_move_while_the_quantised_weights_are_used_for_gradients():
    X, y = _sequences(32, 1)
    clf = GRUClassifier(d_model=6, max_epochs=1, batch_size=32, weight_bits=2, random_state=0)
    clf.fit(X, y)
    latent_before = {k: v.clone() for k, v in _quantizer(clf).latent.items()}
    clf.set_params(warm_start=True, optimizer="sgd", lr=1e-3).fit(X, y)  # one more step
    quantizer = _quantizer(clf)
    moved = [not torch.equal(latent_before[k], quantizer.latent[k]) for k in latent_before]
    assert all(moved)
    for name, tensor in clf.quantized_weights().items():
        effective = quantizer.effective(quantizer.latent[name], name).double().numpy()
        np.testing.assert_array_equal(tensor.values, effective)
        assert len(np.unique(tensor.values)) <= 4


def test_a_one_bit_gru_still_learns_a_simple_task_above_chance():
    X, y = _sequences(300, 2)
    X_test, y_test = _sequences(300, 3)
    clf = GRUClassifier(d_model=16, max_epochs=15, lr=0.01, weight_bits=1, random_state=0)
    accuracy = clf.fit(X, y).score(X_test, y_test)
    assert accuracy > 0.75, accuracy  # chance is about 0.5


def test_save_load_and_pickle_round_trips_are_exact(tmp_path):
    X, y = _sequences(48, 4)
    clf = GRUClassifier(d_model=6, max_epochs=2, weight_bits=2, activation_bits=3, random_state=0)
    clf.fit(X, y)
    clf.save(tmp_path / "m")
    for loaded in (seqestim.load(tmp_path / "m"), pickle.loads(pickle.dumps(clf))):
        np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
        assert loaded.model_size_bits_ == clf.model_size_bits_
        expected = clf.quantized_weights()
        got = loaded.quantized_weights()
        assert set(got) == set(expected)
        for name in expected:
            np.testing.assert_array_equal(got[name].values, expected[name].values)
            assert got[name].scale == expected[name].scale


def test_activation_quantisation_spares_the_first_layer_input_and_the_last_output():
    X, _ = _sequences(40, 5)
    reg = LSTMRegressor(
        d_model=5, n_layers=2, max_epochs=1, activation_bits=1, scaling=None, random_state=0
    )
    reg.fit(X, X[:, 0].sum(axis=1))
    seen = {}

    def record(name):
        def hook(module, args, output):
            seen[name] = (args[0].detach(), output.detach())

        return hook

    module = reg.module_
    layers = {
        "first": module.backbone.layers[0][0].cell.input_proj,
        "second": module.backbone.layers[1][0].cell.input_proj,
        "head": module.head,
    }
    # forward hooks see the input as the layer used it (after the quantising pre-hook)
    handles = [layer.register_forward_hook(record(name)) for name, layer in layers.items()]
    inputs = reg._encode_panel(X, reset=False).as_net_input()
    module.eval()
    with torch.no_grad():
        module(**{key: torch.as_tensor(value) for key, value in inputs.items()})
    for handle in handles:
        handle.remove()
    first_in = seen["first"][0]
    np.testing.assert_array_equal(first_in.numpy(), X.transpose(0, 2, 1))  # the data, as is
    for name in ("second", "head"):
        assert set(torch.unique(seen[name][0]).tolist()) == {-1.0, 1.0}  # one-bit activations
    assert len(torch.unique(seen["head"][1])) > 2  # the last output is not quantised


@pytest.mark.parametrize("cls", [S5Classifier, CDILClassifier])
def test_other_backbones_train_quantised(cls):
    X, y = _sequences(32, 6)
    clf = cls(d_model=8, max_epochs=1, weight_bits=4, activation_bits=4, random_state=0)
    clf.fit(X, y)
    weights = clf.quantized_weights()
    assert weights and all(len(np.unique(w.values)) <= 16 for w in weights.values())
    assert clf.predict(X).shape == (32,)


def test_model_size_counts_bits_per_weight_and_a_scale_per_tensor():
    X, y = _sequences(32, 7)
    full = GRUClassifier(d_model=6, max_epochs=1, random_state=0).fit(X, y)
    quantised = GRUClassifier(d_model=6, max_epochs=1, weight_bits=4, random_state=0).fit(X, y)
    assert full.model_size_bits_ == 32 * full.n_parameters_
    assert full.quantized_weights() == {}
    params = dict(quantised.module_.named_parameters())
    weights = quantised.quantized_weights()
    n_quantised = sum(params[name].numel() for name in weights)
    expected = 4 * n_quantised + 32 * len(weights) + 32 * (quantised.n_parameters_ - n_quantised)
    assert quantised.model_size_bits_ == expected < full.model_size_bits_


@pytest.mark.parametrize("name", ["weight_bits", "activation_bits"])
@pytest.mark.parametrize("bad", [0, -1, 17, 2.5, "4", True])
def test_bad_bit_widths_are_clear_errors(name, bad):
    X, y = _sequences(16, 8)
    with pytest.raises(ValueError, match=name):
        GRUClassifier(d_model=4, max_epochs=1, **{name: bad}).fit(X, y)
