"""The polyphonic-music task: per-frame Bernoulli NLL, causality, inputs, persistence."""

import numpy as np
import pytest
import torch

import seqestim
from seqestim import GRUPolyphonicModel, LSTMPolyphonicModel, RNNPolyphonicModel
from seqestim.estimators.polyphonic import frame_nll


def _rolls(n, pitches, length, seed, p=0.3):
    rng = np.random.RandomState(seed)
    return (rng.rand(n, pitches, length) < p).astype(np.float32)


def test_nll_of_the_training_pitch_frequencies_equals_the_hand_computed_value():
    train = _rolls(30, 5, 12, 0)
    test = [_rolls(1, 5, n, 1 + n)[0] for n in (7, 12, 3)]  # ragged
    model = GRUPolyphonicModel(d_model=4, max_epochs=1, random_state=0).fit(train)
    frequency = train.mean(axis=(0, 2))  # every pitch's share of the training frames
    with torch.no_grad():  # a network whose output ignores its input: the frequencies
        model.module_.head.weight.zero_()
        model.module_.head.bias.copy_(torch.logit(torch.as_tensor(frequency)))
    frames = np.concatenate([roll.T for roll in test])  # (22 frames, 5 pitches)
    by_hand = -np.mean(
        [
            sum(np.log(frequency[p]) if frame[p] else np.log(1 - frequency[p]) for p in range(5))
            for frame in frames
        ]
    )
    assert model.nll(test) == pytest.approx(by_hand, rel=1e-6)
    assert model.score(test) == pytest.approx(-by_hand, rel=1e-6)
    assert frame_nll(np.tile(frequency, (len(frames), 1)), frames) == pytest.approx(by_hand)
    proba = model.predict_proba(test)
    assert [p.shape for p in proba] == [(5, 7), (5, 12), (5, 3)]
    np.testing.assert_allclose(proba[1], np.tile(frequency[:, None], (1, 12)), rtol=1e-5)


def test_frame_t_depends_only_on_the_frames_before_it():
    rolls = _rolls(16, 4, 10, 2)
    model = LSTMPolyphonicModel(d_model=5, max_epochs=2, random_state=0).fit(rolls)
    changed = rolls[:2].copy()
    changed[:, :, 6:] = 1 - changed[:, :, 6:]  # flip frames 6..9
    before, after = model.predict_proba(rolls[:2]), model.predict_proba(changed)
    np.testing.assert_array_equal(before[:, :, :7], after[:, :, :7])  # frame 6 reads frames < 6
    assert not np.allclose(before[:, :, 7:], after[:, :, 7:])


def test_training_lowers_the_nll_below_the_frequency_model():
    rng = np.random.RandomState(3)
    # a chord that moves up one pitch every frame: predictable from the previous frame only
    rolls = np.zeros((40, 8, 12), dtype=np.float32)
    for i in range(40):
        start = rng.randint(8)
        for t in range(12):
            rolls[i, [(start + t) % 8, (start + t + 3) % 8], t] = 1
    model = GRUPolyphonicModel(d_model=16, max_epochs=40, lr=0.02, random_state=0).fit(rolls)
    frequency = rolls.mean(axis=(0, 2))
    frames = rolls.transpose(0, 2, 1).reshape(-1, 8)
    baseline = frame_nll(np.tile(frequency, (len(frames), 1)), frames)
    assert model.nll(rolls) < 0.5 * baseline
    losses = model.history_[:, "train_loss"]
    assert losses[-1] < losses[0]


def test_non_binary_frames_and_non_causal_backbones_are_refused():
    rolls = _rolls(6, 3, 5, 4)
    with pytest.raises(ValueError, match="only 0 and 1"):
        RNNPolyphonicModel(max_epochs=1).fit(rolls * 0.5)
    with pytest.raises(ValueError, match="causal"):
        RNNPolyphonicModel(max_epochs=1, bidirectional=True).fit(rolls)
    model = RNNPolyphonicModel(d_model=3, max_epochs=1).fit(rolls)
    with pytest.raises(ValueError):
        model.predict_proba(_rolls(2, 4, 5, 5))  # four pitches instead of three


def test_save_load_round_trip(tmp_path):
    rolls = [_rolls(1, 4, n, n)[0] for n in (5, 9, 7, 9)]
    model = GRUPolyphonicModel(d_model=3, max_epochs=2, random_state=0).fit(rolls)
    model.save(tmp_path / "m")
    loaded = seqestim.load(tmp_path / "m")
    assert loaded.n_pitches_ == 4
    assert loaded.nll(rolls) == model.nll(rolls)
    for a, b in zip(loaded.predict_proba(rolls), model.predict_proba(rolls), strict=True):
        np.testing.assert_array_equal(a, b)
