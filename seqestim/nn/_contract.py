"""The backbone contract and the masking helpers every backbone shares.

A backbone is a ``torch.nn.Module`` registered with :func:`seqestim.nn._registry.register_model`
and configured by its parameter group (:mod:`seqestim.nn._params`):

.. code-block:: python

    @parameter_group
    class MyModelParams:
        '''Hyperparameters of the :class:`MyModel` backbone (Author 2024).'''

        d_model: int = param(64, "Number of features of every layer.")

    @register_model("my_model", params=MyModelParams, paper=..., url=..., test_params=...)
    class MyModel(nn.Module):
        def __init__(self, d_input: int, params: MyModelParams | None = None):
            super().__init__()
            params = MyModelParams() if params is None else params
            self.params = params
            ...
            self.d_output = ...  # feature size returned by forward

        def forward(self, x, mask=None):
            # x: (B, L, d_input) float; mask: (B, L) bool, True = real step
            # returns (B, L, d_output)

Input forms
-----------
``register_model(..., inputs=...)`` says what ``forward`` reads (see
:data:`seqestim.nn._registry.INPUT_KINDS`):

- ``"float"``: ``x`` is ``(B, L, d_input)`` float features.
- ``"tokens"``: ``x`` is ``(B, L)`` int64 token ids and ``d_input`` the vocabulary size; id 0
  is padding (``seqestim.estimators._tokens.PAD``). A float backbone serves token tasks
  through :class:`seqestim.nn.heads.EmbeddedBackbone`, which the task puts in front of it and
  which keeps this same contract.
- ``"frames"``: ``x`` is ``(B, L, C, H, W)`` image frames (``d_input = C``).

Encoder-decoder form
--------------------
Sequence-to-sequence backbones register with ``form="encoder_decoder"``, take the target
vocabulary size as a keyword (``cls(d_input, params, d_target=V)``) and provide::

    forward(source, source_mask, target, target_mask) -> logits (B, T, V)
        # teacher forcing: target[:, t] is the input at step t (starting with <bos>),
        # logits[:, t] scores the token that follows it
    encode(source, source_mask) -> memory          # source (B, S) int64, mask (B, S) bool
    init_decoder_state(memory, source_mask) -> state
    decode_step(token, state) -> (logits (B, V), state, attention (B, S) or None)

``source_mask`` may be None (every source token is real). ``memory`` is whatever the model's
own ``init_decoder_state`` reads. ``state`` is a tuple, list or dict (nested as needed) of
tensors whose first dimension is the batch; it caches what the decoded prefix contributes, so
that ``decode_step`` never recomputes the prefix. The reordering rule beam search relies on:
``seqestim.nn.generation.reorder_state(state, rows)``, ``index_select(0, rows)`` on every
tensor, is the state of those rows (repeated rows included), and decoding continues from it as
if the batch had been those rows. The common tests check it, and that running ``decode_step``
over ``target[:, t]`` for ``t = 0, 1, ...`` gives ``forward``'s logits (to 1e-5), that padding
of the source changes nothing, and that gradients reach every parameter. ``attention`` is the
source attention of that step (rows summing to 1, zero on padding), used by the coverage
penalty; None when the model has none. A decoder that can only take a bounded number of steps
(learned positions) says so with a ``max_target_length`` attribute.

Carrying state across calls
---------------------------
A backbone that can continue a sequence from where an earlier call stopped registers with
``carries_state=True`` and provides::

    init_state(batch_size, device=None) -> state
        # the state before the first step (zeros, or a learned initial state, with its gradient)
    forward_with_state(x, state, mask=None) -> (y, state)
        # x continues the sequences whose state is given (None: init_state(B)); y as forward.
        # The returned state is the state after the last real step of every row.

Running ``forward_with_state`` over ``x[:, :t]`` and then over ``x[:, t:]`` with the returned
state gives ``forward(x)`` at every step, for any ``t`` (the common tests check it), so a long
sequence can be processed in chunks: truncated backpropagation through time, where the caller
detaches the state between chunks (:func:`detach_state`), and exact scoring of texts longer
than a chunk. ``state`` is a tensor or a tuple, list or dict of tensors (nested freely) whose
first dimension is the batch, so that the caller can restart some rows from the initial state
(:func:`where_state`) while the others continue. A state keeps the dtype of the model
(``init_state`` derives it from the parameters). An instance may say that its parameters rule
carrying out with a false ``carries_state`` attribute (a bidirectional recurrent network cannot
continue a sequence). A backbone that carries its state also steps (``step(x_t, state)``
continues from the same states), and step mode is then one-step ``forward_with_state``.

Training extras
---------------
- A backbone may define ``optimizer_param_groups(lr, weight_decay)`` returning a list of torch
  optimizer parameter groups when its paper trains some parameters differently (S5).
- A backbone may define ``auxiliary_loss()``, returning a scalar tensor to add to the training
  loss of the batch just run forward (or None): a regulariser its paper adds, such as the
  Jacobian penalty of deep equilibrium models. The training engine reads it after every
  training forward pass; the backbone forgets it once read.

Conventions
-----------
- Batch first, always. ``mask`` is ``None`` when every step is real; otherwise padded steps are
  False and must not influence the outputs at real steps (masking invariance), and padding only
  ever comes *after* the real steps of a sequence (right padding).
- A bidirectional backbone sets ``self.bidirectional = True`` and concatenates the features of
  the forward and backward directions, forward first, each of width ``d_output // 2``. The
  "last" pooling then reads the forward half at the last real step and the backward half at
  step 0, i.e. the final state of each direction.
- Models that can run online expose ``init_state(batch_size)`` and ``step(x_t, state)``
  (``supports_step=True`` in the registry); step ``t`` must equal step ``t`` of ``forward``.
- Hyperparameter names use one vocabulary across papers: ``d_model``, ``d_state``,
  ``n_layers``, ``n_heads``, ``kernel_size``, ``dropout``, ``bidirectional``.
- The constructor is ``(d_input, params=None)``. Every hyperparameter is a field of the
  parameter group, declared once with its default and documentation (``param(default, doc)``);
  the named estimators inherit the group, so their signatures and docstrings follow from it.
  The backbone keeps ``self.params`` and validates the values (``ValueError``) itself.
"""

from __future__ import annotations

import functools

import torch

__all__ = [
    "detach_state",
    "last_valid_index",
    "lengths_to_mask",
    "map_state",
    "mask_to_lengths",
    "outside_autocast",
    "reverse_padded",
    "where_state",
]


def outside_autocast(method):
    """Run a sequence method ``method(self, x, mask, *rest)`` in float32 even under autocast.

    For recurrences and scans: they multiply or add up to L terms, which 16-bit arithmetic
    (mixed-precision training, ``precision="bf16-mixed"``) rounds away, and hand-written
    kernels may not accept mixed dtypes. The layers around them keep running in low precision.
    Further arguments (a carried state) are passed on unchanged.
    """

    @functools.wraps(method)
    def wrapper(self, x: torch.Tensor, mask: torch.Tensor | None = None, *rest):
        with torch.autocast(x.device.type, enabled=False):
            if x.dtype in (torch.float16, torch.bfloat16):
                x = x.float()
            return method(self, x, mask, *rest)

    return wrapper


def lengths_to_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """Boolean ``(B, max_len)`` mask, True for the first ``lengths[b]`` steps of row ``b``."""
    steps = torch.arange(max_len, device=lengths.device)  # (L,)
    return steps.unsqueeze(0) < lengths.unsqueeze(1)  # (B, L)


def mask_to_lengths(mask: torch.Tensor | None, batch_size: int, max_len: int, device=None):
    """Number of real steps per row, ``(B,)`` int64; all ``max_len`` when ``mask`` is None."""
    if mask is None:
        return torch.full((batch_size,), max_len, dtype=torch.long, device=device)
    return mask.long().sum(dim=1)


def last_valid_index(mask: torch.Tensor | None, batch_size: int, max_len: int, device=None):
    """Index of the last real step of each row, ``(B,)`` int64."""
    return (mask_to_lengths(mask, batch_size, max_len, device) - 1).clamp(min=0)


def reverse_padded(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Reverse every sequence of ``x`` (B, L, ...) within its own length.

    Padded steps stay at the end, so a backward-direction layer sees the real steps in reverse
    order followed by the padding. Applying it twice gives ``x`` back.
    """
    B, L = x.shape[:2]
    if mask is None:
        return x.flip(1)
    lengths = mask_to_lengths(mask, B, L, x.device)  # (B,)
    steps = torch.arange(L, device=x.device).unsqueeze(0)  # (1, L)
    # position t of the output reads step (len - 1 - t) for real steps, itself for padding
    index = torch.where(steps < lengths.unsqueeze(1), lengths.unsqueeze(1) - 1 - steps, steps)
    index = index.view(B, L, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, index)


def map_state(fn, state):
    """Apply ``fn`` to every tensor of a state (a tensor, or tuples, lists and dicts of them)."""
    if isinstance(state, torch.Tensor):
        return fn(state)
    if isinstance(state, dict):
        return {key: map_state(fn, value) for key, value in state.items()}
    if isinstance(state, list | tuple):
        return type(state)(map_state(fn, value) for value in state)
    return state  # plain Python values (ints, None) pass through


def detach_state(state):
    """The state without its history: the truncation of truncated backpropagation through time."""
    return map_state(torch.Tensor.detach, state)


def where_state(keep: torch.Tensor, state, other):
    """Row ``b`` of ``state`` where ``keep[b]``, else row ``b`` of ``other`` (same structure).

    Parameters
    ----------
    keep : torch.Tensor
        ``(B,)`` bool.
    state, other
        States of the same structure whose tensors all have the batch as first dimension.
    """
    if isinstance(state, torch.Tensor):
        row = keep.view(-1, *([1] * (state.dim() - 1)))  # (B, 1, ...)
        return torch.where(row, state, other)
    if isinstance(state, dict):
        return {key: where_state(keep, state[key], other[key]) for key in state}
    if isinstance(state, list | tuple):
        return type(state)(where_state(keep, a, b) for a, b in zip(state, other, strict=True))
    return state
