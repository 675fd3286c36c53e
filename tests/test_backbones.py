"""The backbone contract (seqestim/nn/_contract.py), checked for every registered model."""

import dataclasses
import inspect

import pytest
import torch

from seqestim.nn._contract import lengths_to_mask, where_state
from seqestim.nn._params import parameter_docs
from seqestim.nn.heads import EmbeddedBackbone
from seqestim.registry import get_spec, list_models

CASES = [(name, i) for name in list_models(inputs="float") for i in range(2)]
IDS = [f"{name}-params{i}" for name, i in CASES]
D_INPUT, LENGTH, BATCH = 3, 16, 4

FRAME_CASES = [(name, i) for name in list_models(inputs="frames") for i in range(2)]
FRAME_IDS = [f"{name}-params{i}" for name, i in FRAME_CASES]
# frames (B, L, C, H, W): D_INPUT is the number of channels C
HEIGHT, WIDTH = 5, 6


def _build(name, index, seed=0):
    torch.manual_seed(seed)
    spec = get_spec(name)
    model = spec.build(D_INPUT, **spec.test_params[index])
    return model.double().eval()


def _input(seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(BATCH, LENGTH, D_INPUT, generator=generator, dtype=torch.float64)


def _frames(seed=0, length=6):
    generator = torch.Generator().manual_seed(seed)
    shape = (2, length, D_INPUT, HEIGHT, WIDTH)
    return torch.rand(shape, generator=generator, dtype=torch.float64)  # pixels in [0, 1]


def test_every_model_reads_a_known_input_kind():
    kinds = ("float", "tokens", "frames")
    assert set(list_models()) == set().union(*(list_models(inputs=k) for k in kinds))
    assert FRAME_CASES, "the frame contract below would check nothing"


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


STATE_CASES = [(name, i) for name, i in CASES if get_spec(name).carries_state]
STATE_IDS = [f"{name}-params{i}" for name, i in STATE_CASES]


def _carrying(name, index):
    model = _build(name, index)
    if not getattr(model, "carries_state", True):
        pytest.skip("these parameters rule out carrying the state")
    return model


@pytest.mark.parametrize(("name", "index"), STATE_CASES, ids=STATE_IDS)
def test_carried_state_continues_the_sequence(name, index):
    model = _carrying(name, index)
    x = _input()
    full = model(x)
    with torch.no_grad():
        for cuts in ((1,), (7,), (LENGTH - 1,), (3, 5, 11)):
            state, pieces = None, []
            for start, stop in zip((0, *cuts), (*cuts, LENGTH), strict=True):
                y, state = model.forward_with_state(x[:, start:stop], state)
                pieces.append(y)
            torch.testing.assert_close(torch.cat(pieces, 1), full, atol=1e-9, rtol=1e-7)
        y, _ = model.forward_with_state(x, model.init_state(BATCH))
        torch.testing.assert_close(y, full, atol=1e-9, rtol=1e-7)
        # the continuation really reads the state (not the initial state again)
        _, state = model.forward_with_state(x[:, :8], None)
        fresh, _ = model.forward_with_state(x[:, 8:], None)
        assert not torch.allclose(fresh, full[:, 8:], atol=1e-6)


@pytest.mark.parametrize(("name", "index"), STATE_CASES, ids=STATE_IDS)
def test_carried_state_is_that_of_the_last_real_step_and_batch_first(name, index):
    model = _carrying(name, index)
    x, more = _input(), _input(seed=1)[:, :5]
    lengths = torch.tensor([LENGTH, 9, 5, 12])
    mask = lengths_to_mask(lengths, LENGTH)
    garbage = x.masked_fill(mask.unsqueeze(-1), 0.0) * 100 + 7  # only on padded steps
    with torch.no_grad():
        _, state = model.forward_with_state(torch.where(mask.unsqueeze(-1), x, garbage), None, mask)
        batch, _ = model.forward_with_state(more, state)
        for row, n in enumerate(lengths.tolist()):
            _, alone = model.forward_with_state(x[row : row + 1, :n], None)
            expected, _ = model.forward_with_state(more[row : row + 1], alone)
            torch.testing.assert_close(batch[row : row + 1], expected, atol=1e-9, rtol=1e-7)
        # rows restart from the initial state where told to (the state is batch first)
        keep = torch.tensor([True, False, True, False])
        mixed = where_state(keep, state, model.init_state(BATCH))
        restarted, _ = model.forward_with_state(more, mixed)
        fresh, _ = model.forward_with_state(more, None)
        torch.testing.assert_close(restarted[keep], batch[keep], atol=1e-9, rtol=1e-7)
        torch.testing.assert_close(restarted[~keep], fresh[~keep], atol=1e-9, rtol=1e-7)


@pytest.mark.parametrize(("name", "index"), STATE_CASES, ids=STATE_IDS)
def test_step_mode_continues_a_carried_state(name, index):
    model = _carrying(name, index)
    x = _input()
    with torch.no_grad():
        _, state = model.forward_with_state(x[:, :9], None)
        expected, _ = model.forward_with_state(x[:, 9:], state)
        outputs = []
        for t in range(9, LENGTH):
            y_t, state = model.step(x[:, t], state)
            outputs.append(y_t)
    torch.testing.assert_close(torch.stack(outputs, 1), expected, atol=1e-9, rtol=1e-7)


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_seeded_construction_is_deterministic_and_state_dict_round_trips(name, index):
    first, second = _build(name, index, seed=3), _build(name, index, seed=3)
    x = _input()
    torch.testing.assert_close(first(x), second(x))
    other = _build(name, index, seed=4)
    other.load_state_dict(first.state_dict())
    torch.testing.assert_close(other(x), first(x))


# ------------------------------------------------------------------ frame models (B, L, C, H, W)


@pytest.mark.parametrize(("name", "index"), FRAME_CASES, ids=FRAME_IDS)
def test_frames_shape_dtype_finite(name, index):
    model = _build(name, index)
    frames = _frames()
    y = model(frames)
    assert y.shape == (*frames.shape[:2], model.d_output, HEIGHT, WIDTH)
    assert y.dtype == torch.float64
    assert torch.isfinite(y).all()


@pytest.mark.parametrize(("name", "index"), FRAME_CASES, ids=FRAME_IDS)
def test_frames_gradients_reach_every_parameter(name, index):
    model = _build(name, index).train()
    model(_frames()).square().mean().backward()
    for parameter_name, parameter in model.named_parameters():
        if parameter.requires_grad:
            assert parameter.grad is not None, parameter_name
            assert parameter.grad.abs().sum() > 0, parameter_name


@pytest.mark.parametrize(("name", "index"), FRAME_CASES, ids=FRAME_IDS)
def test_frames_causal_models_ignore_the_future(name, index):
    spec = get_spec(name)
    model = _build(name, index)
    if not getattr(model, "causal", spec.causal):
        pytest.skip("not causal")
    frames = _frames()
    t = frames.shape[1] // 2
    changed = frames.clone()
    changed[:, t + 1 :] = torch.rand_like(changed[:, t + 1 :])
    torch.testing.assert_close(model(frames)[:, : t + 1], model(changed)[:, : t + 1])
    # and the changed frames do change the later outputs (the check above is not vacuous)
    assert not torch.allclose(model(frames)[:, t + 1 :], model(changed)[:, t + 1 :])


@pytest.mark.parametrize(("name", "index"), FRAME_CASES, ids=FRAME_IDS)
def test_frames_seeded_construction_is_deterministic_and_state_dict_round_trips(name, index):
    first, second = _build(name, index, seed=3), _build(name, index, seed=3)
    frames = _frames()
    torch.testing.assert_close(first(frames), second(frames))
    other = _build(name, index, seed=4)
    other.load_state_dict(first.state_dict())
    torch.testing.assert_close(other(frames), first(frames))


# ------------------------------------------------------------------ constructor and parameters


@pytest.mark.parametrize("name", list_models())
def test_constructor_follows_the_contract(name):
    spec = get_spec(name)
    # Backbone(d_input, params=None): every hyperparameter lives in the parameter group; an
    # encoder-decoder also takes the target vocabulary size, keyword only
    parameters = list(inspect.signature(spec.cls.__init__).parameters.values())
    extra = {}
    if spec.form == "encoder_decoder":
        *parameters, d_target = parameters
        assert d_target.name == "d_target" and d_target.kind is d_target.KEYWORD_ONLY
        extra = {"d_target": D_INPUT + 2}
    assert [p.name for p in parameters] == ["self", "d_input", "params"]
    assert parameters[1].default is parameters[1].empty
    assert parameters[2].default is None
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters)
    # every field has a default and a documentation, both shown in the group's docstring
    docs = parameter_docs(spec.params)  # raises for an undocumented field
    for field in dataclasses.fields(spec.params):
        assert field.kw_only, field.name
        assert field.default is not dataclasses.MISSING, field.name
        assert field.default_factory is dataclasses.MISSING, field.name
        assert docs[field.name][1].strip(), field.name
        assert f"\n{field.name} : " in spec.params.__doc__, field.name
    # the model keeps its parameters, the defaults when none are given
    torch.manual_seed(0)
    assert spec.cls(D_INPUT, **extra).params == spec.params()
    for test_params in spec.test_params:
        model = spec.cls(D_INPUT, spec.params(**test_params), **extra)
        assert model.params == spec.params(**test_params)


# ---------------------------------------------------------------------------- token form
VOCAB = 11
TOKEN_CASES = [(name, i) for name in list_models() for i in range(2)
               if get_spec(name).inputs != ("frames",)
               and get_spec(name).form == "encoder"]  # fmt: skip
TOKEN_IDS = [f"{name}-params{i}" for name, i in TOKEN_CASES]


def _token_model(name, index, seed=0):
    """The model in token form: natively, or behind the embedding every token task adds."""
    torch.manual_seed(seed)
    spec = get_spec(name)
    if "tokens" in spec.inputs:
        return spec.build(VOCAB, **spec.test_params[index]).double().eval()
    backbone = spec.build(5, **spec.test_params[index])
    return EmbeddedBackbone(backbone, VOCAB, 5).double().eval()


def _tokens(seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(1, VOCAB, (BATCH, LENGTH), generator=generator)


@pytest.mark.parametrize(("name", "index"), TOKEN_CASES, ids=TOKEN_IDS)
def test_token_form_keeps_the_contract(name, index):
    model = _token_model(name, index)
    x = _tokens()
    y = model(x)
    assert y.shape == (BATCH, LENGTH, model.d_output) and torch.isfinite(y).all()
    lengths = torch.tensor([LENGTH, 9, 5, 12])
    mask = lengths_to_mask(lengths, LENGTH)
    padded = x.masked_fill(~mask, 0)  # id 0 is padding
    batch = model(padded, mask=mask)
    for row, n in enumerate(lengths.tolist()):
        alone = model(x[row : row + 1, :n])
        torch.testing.assert_close(batch[row : row + 1, :n], alone, atol=1e-9, rtol=1e-7)
    if getattr(model, "causal", get_spec(name).causal) and not model.bidirectional:
        changed = x.clone()
        changed[:, LENGTH // 2 + 1 :] = _tokens(seed=1)[:, LENGTH // 2 + 1 :]
        torch.testing.assert_close(
            model(x)[:, : LENGTH // 2 + 1], model(changed)[:, : LENGTH // 2 + 1]
        )


# ---------------------------------------------------------------------------- encoder-decoder
class ToyTranslator(torch.nn.Module):
    """A GRU encoder-decoder with dot attention, the smallest model of the encoder-decoder form.

    It exercises the contract checks below until registered sequence-to-sequence models exist.
    """

    def __init__(self, d_input, params=None, *, d_target):
        super().__init__()
        width = 6
        self.source_embedding = torch.nn.Embedding(d_input, width, padding_idx=0)
        self.target_embedding = torch.nn.Embedding(d_target, width, padding_idx=0)
        self.encoder = torch.nn.GRU(width, width, batch_first=True)
        self.decoder = torch.nn.GRUCell(2 * width, width)
        self.output = torch.nn.Linear(2 * width, d_target)
        self.d_output = d_target

    def encode(self, source, source_mask):
        memory, _ = self.encoder(self.source_embedding(source))  # (B, S, W)
        return memory

    def init_decoder_state(self, memory, source_mask):
        B, S, W = memory.shape
        if source_mask is None:
            source_mask = torch.ones(B, S, dtype=torch.bool)
        return (memory, source_mask, memory.new_zeros(B, W), memory.new_zeros(B, W))

    def decode_step(self, token, state):
        memory, source_mask, hidden, context = state
        hidden = self.decoder(torch.cat([self.target_embedding(token), context], -1), hidden)
        scores = torch.einsum("bsw,bw->bs", memory, hidden).masked_fill(~source_mask, -1e9)
        attention = scores.softmax(-1)  # (B, S)
        context = torch.einsum("bs,bsw->bw", attention, memory)
        logits = self.output(torch.cat([hidden, context], -1))
        return logits, (memory, source_mask, hidden, context), attention

    def forward(self, source, source_mask, target, target_mask):
        state = self.init_decoder_state(self.encode(source, source_mask), source_mask)
        logits = []
        for t in range(target.shape[1]):
            step, state, _ = self.decode_step(target[:, t], state)
            logits.append(step)
        return torch.stack(logits, 1)


def _encoder_decoders():
    models = [("toy", lambda: ToyTranslator(VOCAB, d_target=VOCAB + 2))]
    for name in list_models():
        spec = get_spec(name)
        if spec.form == "encoder_decoder":
            for index, params in enumerate(spec.test_params):
                models.append(
                    (f"{name}-params{index}",
                     lambda s=spec, p=params: s.cls(VOCAB, s.params(**p), d_target=VOCAB + 2))
                )  # fmt: skip
    return models


@pytest.mark.parametrize(
    ("label", "make"), _encoder_decoders(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_incremental_decoding_equals_teacher_forcing(label, make):
    torch.manual_seed(0)
    model = make().double().eval()
    source = _tokens()
    source_mask = lengths_to_mask(torch.tensor([LENGTH, 9, 5, 12]), LENGTH)
    source = source.masked_fill(~source_mask, 0)
    target = torch.randint(1, VOCAB + 2, (BATCH, 7))
    target_mask = torch.ones_like(target, dtype=torch.bool)
    with torch.no_grad():
        full = model(source, source_mask, target, target_mask)  # (B, T, V)
        assert full.shape == (BATCH, 7, model.d_output)
        state = model.init_decoder_state(model.encode(source, source_mask), source_mask)
        steps = []
        for t in range(target.shape[1]):
            logits, state, attention = model.decode_step(target[:, t], state)
            if attention is not None:  # over the real source steps only
                assert torch.allclose(attention.sum(-1), torch.ones(BATCH, dtype=attention.dtype))
                assert (attention[~source_mask] < 1e-6).all()
            steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, 1), full, atol=1e-5, rtol=1e-5)
    # the state is batch-first tensors, so beam search can reorder it generically
    rows = torch.tensor([2, 0])
    for tensor in torch.utils._pytree.tree_leaves(state):
        assert tensor.shape[0] == BATCH
        assert tensor.index_select(0, rows).shape[0] == 2


@pytest.mark.parametrize(
    ("label", "make"), _encoder_decoders(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_source_padding_does_not_change_the_decoder(label, make):
    torch.manual_seed(0)
    model = make().double().eval()
    lengths = torch.tensor([LENGTH, 9, 5, 12])
    source_mask = lengths_to_mask(lengths, LENGTH)
    source = _tokens().masked_fill(~source_mask, 0)
    target = torch.randint(1, VOCAB + 2, (BATCH, 5))
    with torch.no_grad():
        batch = model(source, source_mask, target, None)
        for row, n in enumerate(lengths.tolist()):
            alone = model(source[row : row + 1, :n], None, target[row : row + 1], None)
            torch.testing.assert_close(batch[row : row + 1], alone, atol=1e-9, rtol=1e-7)


@pytest.mark.parametrize(
    ("label", "make"), _encoder_decoders(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_encoder_decoder_gradients_reach_every_parameter(label, make):
    torch.manual_seed(0)
    model = make().double().train()
    source_mask = lengths_to_mask(torch.tensor([LENGTH, 9, 5, 12]), LENGTH)
    source = _tokens().masked_fill(~source_mask, 0)
    target = torch.randint(1, VOCAB + 2, (BATCH, 5))
    model(source, source_mask, target, None).square().mean().backward()
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


@pytest.mark.parametrize(
    ("label", "make"), _encoder_decoders(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_reordered_state_continues_the_reordered_sentences(label, make):
    # the rule beam search relies on: index_select(0, rows) on every tensor of the state gives
    # the state of those rows, so decoding continues as if the batch had been those rows
    from seqestim.nn.generation import reorder_state

    torch.manual_seed(0)
    model = make().double().eval()
    source_mask = lengths_to_mask(torch.tensor([LENGTH, 9, 5, 12]), LENGTH)
    source = _tokens().masked_fill(~source_mask, 0)
    target = torch.randint(1, VOCAB + 2, (BATCH, 4))
    rows = torch.tensor([2, 0, 0, 3, 1])
    with torch.no_grad():
        state = model.init_decoder_state(model.encode(source, source_mask), source_mask)
        for t in range(3):
            _, state, _ = model.decode_step(target[:, t], state)
        logits, _, _ = model.decode_step(target[rows, 3], reorder_state(state, rows))
        direct = model(source[rows], source_mask[rows], target[rows], None)[:, 3]
    torch.testing.assert_close(logits, direct, atol=1e-9, rtol=1e-7)
