"""Invariants of the Block-Recurrent Transformer (Hutchins et al. 2022)."""

import numpy as np
import pytest
import torch

from seqestim.nn.block_recurrent import (
    BlockRecurrentTransformer,
    BlockRecurrentTransformerParams,
    t5_bucket,
)


def _model(**params):
    torch.manual_seed(0)
    defaults = {"d_model": 8, "n_heads": 2, "block_size": 4, "window_size": 2, "n_state": 3}
    p = BlockRecurrentTransformerParams(**{**defaults, **params})
    model = BlockRecurrentTransformer(3, p).double().eval()
    with torch.no_grad():  # make the position bias matter, as after training
        for layer in model.layers:
            layer.position_bias.weight.normal_()
    return model


def _input(length=24, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(2, length, 3, generator=generator, dtype=torch.float64)


def _changes(model, x, source, target):
    changed = x.clone()
    changed[:, source] += 1.0
    return not torch.allclose(model(changed)[:, target], model(x)[:, target], atol=1e-12)


@pytest.mark.parametrize("gate", ["fixed", "lstm"])
def test_the_state_carries_a_token_beyond_the_window_and_only_the_state(gate):
    # one layer, window 2: without the state, step 0 reaches steps 0..2 only
    recurrent = _model(n_layers=1, gate=gate)
    windowed = _model(n_layers=1, n_state=0)
    x = _input()
    for target in (4, 9, 23):  # the next blocks read step 0 through the state
        assert _changes(recurrent, x, 0, target)
        assert not _changes(windowed, x, 0, target)
    assert _changes(windowed, x, 0, 2) and not _changes(windowed, x, 0, 3)


def test_the_state_is_updated_once_per_block():
    # step 4 opens block 1: the steps of block 1 beyond the window do not see it, block 2 does
    model = _model(n_layers=1)
    x = _input()
    assert _changes(model, x, 4, 6)  # inside the window
    assert not _changes(model, x, 4, 7)  # same block, beyond the window: the state is older
    assert _changes(model, x, 4, 8)  # the next block reads the state updated with step 4


def test_the_window_of_a_stack_reaches_layers_times_window_steps():
    model = _model(n_layers=3, n_state=0, window_size=2)
    x = _input()
    assert _changes(model, x, 10, 16) and not _changes(model, x, 10, 17)


def test_the_output_ignores_later_steps():
    model = _model(n_layers=2)
    x = _input()
    changed = x.clone()
    changed[:, 11:] = torch.randn_like(changed[:, 11:])
    torch.testing.assert_close(model(changed)[:, :11], model(x)[:, :11])


def test_the_tokens_read_the_incoming_state_not_the_initial_one():
    # the PyTorch port's early bug: state keys computed from the initial state
    model = _model(n_layers=1)
    x = _input(length=8)
    _, state = model.forward_with_state(x, None)
    layer_state = state["layers"][0]
    assert not torch.allclose(layer_state["s"], model.layers[0].initial_state.expand(2, -1, -1))
    more = _input(length=4, seed=1)
    carried, _ = model.forward_with_state(more, state)
    swapped = {"seen": state["seen"], "layers": [{**layer_state, "s": layer_state["s"] * 2}]}
    assert not torch.allclose(model.forward_with_state(more, swapped)[0], carried)


def test_the_fixed_gate_interpolates_and_the_lstm_gate_has_the_paper_offsets():
    torch.manual_seed(0)
    update = _model(n_layers=1).layers[0].update
    state, h = torch.randn(2, 3, 8, dtype=torch.float64), torch.randn(2, 3, 16, dtype=torch.float64)
    g = torch.sigmoid(update.gate_bias)
    z = update.dense(h)
    torch.testing.assert_close(update(state, h), g * state + (1 - g) * z)
    lstm = _model(n_layers=1, gate="lstm").layers[0].update
    with torch.no_grad():
        for linear in (lstm.forget, lstm.input):
            linear.weight.zero_()
            linear.bias.zero_()
    z = lstm.dense(h)
    expected = torch.sigmoid(torch.tensor(1.0)) * state + torch.sigmoid(torch.tensor(-1.0)) * z
    torch.testing.assert_close(lstm(state, h), expected.double())


def test_t5_buckets_are_exact_then_logarithmic_then_capped():
    distance = torch.arange(0, 300)
    bucket = t5_bucket(distance, n_buckets=32, max_distance=128)
    assert bucket[:16].tolist() == list(range(16))  # one bucket per short distance
    assert bool((bucket.diff() >= 0).all())  # monotone
    assert int(bucket[16]) == 16 and int(bucket[64]) < 31  # logarithmic: buckets widen
    assert bool((bucket[128:] == 31).all())  # from max_distance on, the last bucket


def test_the_state_vectors_differ_through_their_ids():
    # without learned IDs every state vector would be updated identically from equal inputs
    model = _model(n_layers=1)
    layer = model.layers[0]
    with torch.no_grad():
        layer.initial_state.zero_()  # all state vectors equal
    _, state = model.forward_with_state(_input(length=8), None)
    s = state["layers"][0]["s"]  # (B, N, d)
    assert not torch.allclose(s[:, 0], s[:, 1])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"d_model": 6, "n_heads": 4}, "multiple"),
        ({"n_state": -1}, "n_state"),
        ({"gate": "sigmoid"}, "gate"),
        ({"block_size": 0}, "block_size"),
        ({"recurrent_layer": 2, "n_layers": 2}, "recurrent_layer"),
        ({"n_buckets": 32, "max_distance": 10}, "max_distance"),
    ],
)
def test_bad_parameters_are_refused(params, message):
    with pytest.raises(ValueError, match=message):
        BlockRecurrentTransformer(3, BlockRecurrentTransformerParams(**params))


@pytest.mark.slow
def test_recall_beyond_the_window_needs_the_recurrent_state():
    from seqestim import BlockRecurrentTransformerLanguageModel
    from seqestim.datasets import make_long_copy

    X, _ = make_long_copy(n_samples=400, distance=12, n_symbols=4, n_noise=4, random_state=0)
    X_test, y_test = make_long_copy(
        n_samples=200, distance=12, n_symbols=4, n_noise=4, random_state=1
    )
    accuracy = {}
    for n_state in (4, 0):
        lm = BlockRecurrentTransformerLanguageModel(
            d_model=32, n_layers=1, n_heads=2, block_size=4, window_size=4, n_state=n_state,
            context_length=16, batch_size=16, max_epochs=40, lr=3e-3, random_state=0,
        ).fit(list(X))  # fmt: skip
        proba = lm.predict_proba(list(X_test[:, :-1]))
        accuracy[n_state] = float(np.mean(proba.argmax(1) == y_test + 4))  # after 4 specials
    assert accuracy[4] > 0.9, accuracy  # recalls the payload from 14 steps back
    assert accuracy[0] < 0.4, accuracy  # chance is 0.25
