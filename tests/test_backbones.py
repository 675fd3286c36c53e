"""The backbone contract (DESIGN.md §9), checked for every registered model."""

import inspect

import pytest
import torch

from seqestim.nn._contract import lengths_to_mask
from seqestim.registry import get_spec, list_models

CASES = [(name, i) for name in list_models() for i in range(2)]
IDS = [f"{name}-params{i}" for name, i in CASES]
D_INPUT, LENGTH, BATCH = 3, 16, 4


def _build(name, index, seed=0):
    torch.manual_seed(seed)
    spec = get_spec(name)
    model = spec.cls(D_INPUT, **spec.test_params[index])
    return model.double().eval()


def _input(seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(BATCH, LENGTH, D_INPUT, generator=generator, dtype=torch.float64)


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_shape_dtype_finite(name, index):
    model = _build(name, index)
    y = model(_input())
    assert y.shape == (BATCH, LENGTH, model.d_output) and y.dtype == torch.float64
    assert torch.isfinite(y).all()


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_gradients_reach_every_parameter(name, index):
    model = _build(name, index).train()
    model(_input()).square().mean().backward()
    for parameter_name, parameter in model.named_parameters():
        if parameter.requires_grad:
            assert parameter.grad is not None, parameter_name
            assert parameter.grad.abs().sum() > 0, parameter_name


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_padding_does_not_change_real_steps(name, index):
    model = _build(name, index)
    x = _input()
    lengths = torch.tensor([LENGTH, 9, 5, 12])
    mask = lengths_to_mask(lengths, LENGTH)
    garbage = x.masked_fill(mask.unsqueeze(-1), 0.0) * 100 + 7  # only on padded steps
    batch = model(torch.where(mask.unsqueeze(-1), x, garbage), mask=mask)
    for row, n in enumerate(lengths.tolist()):
        alone = model(x[row : row + 1, :n])
        torch.testing.assert_close(batch[row : row + 1, :n], alone, atol=1e-9, rtol=1e-7)


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_causal_models_ignore_the_future(name, index):
    spec = get_spec(name)
    model = _build(name, index)
    # a model instance may say it is not causal with these parameters (e.g. bidirectional)
    if not getattr(model, "causal", spec.causal) or spec.test_params[index].get("bidirectional"):
        pytest.skip("not causal")
    x = _input()
    t = LENGTH // 2
    changed = x.clone()
    changed[:, t + 1 :] = torch.randn_like(changed[:, t + 1 :])
    torch.testing.assert_close(model(x)[:, : t + 1], model(changed)[:, : t + 1])


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_step_mode_equals_full_forward(name, index):
    spec = get_spec(name)
    if not spec.supports_step or spec.test_params[index].get("bidirectional"):
        pytest.skip("no step mode")
    model = _build(name, index).float()  # init_state(batch_size) gives default-dtype states
    x = _input().float()
    state = model.init_state(BATCH)
    outputs = []
    with torch.no_grad():
        for t in range(LENGTH):
            y_t, state = model.step(x[:, t], state)
            outputs.append(y_t)
        torch.testing.assert_close(torch.stack(outputs, 1), model(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_seeded_construction_is_deterministic_and_state_dict_round_trips(name, index):
    first, second = _build(name, index, seed=3), _build(name, index, seed=3)
    x = _input()
    torch.testing.assert_close(first(x), second(x))
    other = _build(name, index, seed=4)
    other.load_state_dict(first.state_dict())
    torch.testing.assert_close(other(x), first(x))


@pytest.mark.parametrize("name", list_models())
def test_constructor_follows_the_contract(name):
    signature = inspect.signature(get_spec(name).cls.__init__)
    parameters = list(signature.parameters.values())
    assert parameters[1].name == "d_input"
    for parameter in parameters[2:]:
        assert parameter.kind is parameter.KEYWORD_ONLY, parameter
        assert parameter.default is not parameter.empty, parameter
