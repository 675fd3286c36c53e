"""ONNX export of a fitted estimator's prediction function (``to_onnx``).

The exported graph takes what ``predict`` takes, as one float32 array ``X`` with dynamic batch
and length axes: ``(batch, channels, length)`` (channels first, as the estimators read 3D
arrays), or ``(batch, length)`` for an estimator fitted on a 2D ``X``. It returns what the
task predicts: the class probabilities of ``predict_proba`` for a classifier, the predictions
of ``predict`` for a regressor. Everything fitted that prediction applies (input and target
scaling, the softmax over the classes seen in ``fit``) is inside the graph, so a runtime needs
nothing but the file. Rows of one batch share a length (ONNX inputs are dense arrays).

How the graph is recorded depends on the backbone's ``onnx_export`` class attribute:

- ``"trace"`` (the default): PyTorch's TorchScript-based exporter traces ``forward``. Right for
  backbones whose operations follow the input's shape (convolutions, matrix products).
- ``"steps"``: for recurrences written as a Python loop over time, which a trace would unroll
  for the traced length only (and which PyTorch's newer ``torch.export``-based exporter cannot
  express with a dynamic length either). The backbone's ``init_state``/``step`` (the online
  form of the backbone contract) is traced once for one step and run inside an ONNX ``Loop``
  over the length of the input, pooled (last step or mean) and passed through the head.

A backbone that neither form can export sets ``onnx_unsupported`` to the reason; exporting it
raises ``NotImplementedError`` with that reason rather than writing a graph that is only right
for the traced length.
"""

from __future__ import annotations

import copy
import pathlib
import warnings

import numpy as np
import torch
from torch import nn
from torch.utils._pytree import tree_flatten, tree_unflatten

__all__ = ["export_onnx", "onnx_unsupported_reason"]


def onnx_unsupported_reason(backbone: nn.Module) -> str | None:
    """Why ``backbone`` cannot be exported with dynamic lengths, or None when it can."""
    reason = getattr(type(backbone), "onnx_unsupported", None)
    if reason is None and getattr(type(backbone), "onnx_export", "trace") == "steps":
        try:
            backbone.init_state(1)
        except (RuntimeError, ValueError, NotImplementedError) as error:
            reason = f"it runs step by step only in its online form, which says: {error}"
    return reason


def export_onnx(estimator, path, *, opset_version: int = 17) -> pathlib.Path:
    """Write ``estimator``'s prediction function to ``path`` as an ONNX model.

    Parameters
    ----------
    estimator : SequenceEstimator
        A fitted estimator whose task implements ``_onnx_prediction``.
    path : str or path-like
        File to write (conventionally ``*.onnx``); an existing file is replaced.
    opset_version : int, default=17
        ONNX operator set of the graph.

    Returns
    -------
    path : pathlib.Path
    """
    try:
        import onnx
    except ImportError:
        raise ImportError("to_onnx needs the onnx package: pip install 'seqestim[onnx]'.") from None
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "net_")
    network, output, tabular, scaling = estimator._onnx_prediction()
    backbone = network.backbone
    reason = onnx_unsupported_reason(backbone)
    if reason is not None:
        raise NotImplementedError(
            f"{type(estimator).__name__} cannot be exported to ONNX: {reason}"
        )
    n_channels = 1 if tabular else estimator.n_channels_
    example = torch.zeros((2, 8) if tabular else (2, n_channels, 8))
    axes = {0: "batch", 1: "length"} if tabular else {0: "batch", 2: "length"}
    network = _cpu_float32_copy(network)  # the estimator's own network is never touched
    output = _cpu_float32_copy(output)
    scaling = _cpu_float32_copy(scaling)
    if getattr(type(backbone), "onnx_export", "trace") == "steps":
        module = _stepwise_prediction(network, output, scaling, tabular, n_channels)
    else:
        module = _PanelPrediction(network, output, scaling, tabular=tabular)
    path = pathlib.Path(path)
    with warnings.catch_warnings():
        # the tracer warns about every Python-level shape read; the parity tests are the check
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (example,),
            str(path),
            input_names=["X"],
            output_names=["output"],
            dynamic_axes={"X": axes, "output": {0: "batch"}},
            opset_version=opset_version,
            dynamo=False,
        )
    onnx.checker.check_model(str(path))
    return path


def _cpu_float32_copy(module: nn.Module) -> nn.Module:
    return copy.deepcopy(module).to("cpu", torch.float32).eval()


# ------------------------------------------------------------------------------ traced forward
class _PanelPrediction(nn.Module):
    """Raw ``X`` -> the task's prediction: layout, input scaling, network, output map."""

    def __init__(self, network: nn.Module, output: nn.Module, scaling: nn.Module, *, tabular):
        super().__init__()
        self.network = network
        self.output = output
        self.scaling = scaling
        self.tabular = tabular

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        x = X.unsqueeze(-1) if self.tabular else X.transpose(1, 2)  # (B, L, C)
        return self.output(self.network(self.scaling(x)))


# ------------------------------------------------------------------------------ step by step
# The recurrent state travels through the ONNX Loop as one (B, S) tensor: every tensor of the
# state (a tensor or nested lists/tuples of them, the backbone's own layout) with its batch axis
# moved first, flattened and concatenated.
def _as_list(state) -> list[torch.Tensor]:
    return tree_flatten(state)[0]


def _batch_axes(backbone: nn.Module) -> list[int]:
    """The batch axis of every state tensor: the one that differs between batch 1 and 2."""
    axes = []
    for one, two in zip(
        _as_list(backbone.init_state(1)), _as_list(backbone.init_state(2)), strict=True
    ):
        if one.is_complex():
            raise NotImplementedError("its recurrent state is complex, for which ONNX has no types")
        axes.append(
            next(i for i, (a, b) in enumerate(zip(one.shape, two.shape, strict=True)) if a != b)
        )
    return axes


def _pack(state, axes: list[int]) -> torch.Tensor:
    parts = [s.movedim(axis, 0) for s, axis in zip(_as_list(state), axes, strict=True)]
    return torch.cat([p.reshape(p.shape[0], -1) for p in parts], dim=1)  # (B, S)


class _InitialState(nn.Module):
    def __init__(self, backbone: nn.Module):
        super().__init__()
        self.backbone = backbone
        self.axes = _batch_axes(backbone)

    def forward(self, x_0: torch.Tensor) -> torch.Tensor:
        """``x_0`` (B, C) only tells the batch size -> packed state (B, S)."""
        return _pack(self.backbone.init_state(x_0.shape[0], dtype=x_0.dtype), self.axes)


class _Step(nn.Module):
    def __init__(self, backbone: nn.Module):
        super().__init__()
        self.backbone = backbone
        self.axes = _batch_axes(backbone)
        template = backbone.init_state(1)
        self.structure = tree_flatten(template)[1]
        self.shapes = [
            tuple(t.movedim(axis, 0).shape[1:])
            for t, axis in zip(_as_list(template), self.axes, strict=True)
        ]

    def forward(self, x_t: torch.Tensor, packed: torch.Tensor):
        """``x_t`` (B, C), packed state (B, S) -> (``y_t`` (B, D), packed state (B, S))."""
        parts, start = [], 0
        for axis, shape in zip(self.axes, self.shapes, strict=True):
            width = int(np.prod(shape))
            part = packed[:, start : start + width].reshape(-1, *shape).movedim(0, axis)
            parts.append(part)
            start += width
        y_t, state = self.backbone.step(x_t, tree_unflatten(parts, self.structure))
        return y_t, _pack(state, self.axes)


class _Finish(nn.Module):
    def __init__(self, head: nn.Module, output: nn.Module):
        super().__init__()
        self.head = head
        self.output = output

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.output(self.head(pooled))


class _StepLoop(nn.Module):
    """Scripted (not traced): the loop over time becomes an ONNX ``Loop``."""

    def __init__(self, scaling, initial, step, finish, *, tabular: bool, mean: bool):
        super().__init__()
        self.scaling = scaling
        self.initial = initial
        self.step = step
        self.finish = finish
        self.tabular = tabular
        self.mean = mean

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        x = X.unsqueeze(-1) if self.tabular else X.transpose(1, 2)  # (B, L, C)
        x = self.scaling(x)
        state = self.initial(x[:, 0])
        y_t, state = self.step(x[:, 0], state)
        total = y_t
        for t in range(1, x.size(1)):
            y_t, state = self.step(x[:, t], state)
            total = total + y_t
        pooled = total / x.size(1) if self.mean else y_t  # "mean" or "last" pooling
        return self.finish(pooled)


def _stepwise_prediction(network, output, scaling, tabular: bool, n_channels: int) -> nn.Module:
    backbone = network.backbone
    x_0 = torch.zeros(2, n_channels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scaling = torch.jit.trace(scaling, (torch.randn(2, 8, n_channels),))
        initial = torch.jit.trace(_InitialState(backbone), (x_0,))
        state = _InitialState(backbone)(x_0)
        step = torch.jit.trace(_Step(backbone), (x_0, state))
        finish = torch.jit.trace(
            _Finish(network.head, output), (torch.zeros(2, backbone.d_output),)
        )
        loop = _StepLoop(
            scaling, initial, step, finish, tabular=tabular, mean=network.pooling == "mean"
        )
        return torch.jit.script(loop)
