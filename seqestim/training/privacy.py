"""Differentially private training through Opacus: DP-SGD with per-example gradients.

Reference
---------
M. Davody, D. I. Adelani, T. Kleinbauer, D. Klakow. "On the effect of normalization layers on
differentially private training of deep neural networks." arXiv:2006.10919, 2020. The method is
DP-SGD (M. Abadi et al., "Deep Learning with Differential Privacy", CCS 2016); the paper's
finding is that normalization layers make private training more accurate at a fixed ε.

What is implemented
-------------------
Every training step of DP-SGD:

1. draws a batch by **Poisson sampling**: every training example joins independently with
   probability ``q = batch_size / n`` (Opacus' ``UniformWithReplacementSampler``; a batch may be
   empty), ``1 / q`` batches per epoch;
2. computes the gradient of **every example's own loss** (:func:`per_sample_gradients`);
3. clips each example's gradient to norm ``max_grad_norm``, sums them, adds Gaussian noise of
   standard deviation ``σ · max_grad_norm`` and divides by the expected batch size (Opacus'
   ``DPOptimizer``, which then runs the user's optimizer on the noisy gradient);
4. records the step with Opacus' accountant. ``σ`` is chosen before training so that
   ``max_epochs`` epochs spend at most the requested ``(ε, δ)``
   (``opacus.accountants.utils.get_noise_multiplier``); after training the accountant reports
   the budget actually spent.

Opacus owns the sampler, the optimizer wrapper, the noise and the accounting. The per-example
gradients are computed by ``torch.func`` (``vmap`` of ``grad`` over the examples of a batch,
through the whole network), so any network whose forward pass handles one example at a time
without data-dependent control flow is supported, the recurrent cells of seqestim included;
examples of equal length are processed together, with their length as a constant.

Supported backbones: every registered backbone whose per-example gradients equal one backward
pass per example (checked by the tests): ``arma_cell``, ``block_recurrent_transformer``,
``cdil``, ``dil``, ``gated_conv``, ``gru``, ``lstm``, ``nc_gru``, ``rnn``, ``s5`` (with
``norm="layer"``) and ``tcn``. Not supported: ``conv_arma`` (not verified) and ``deq`` (its
implicit backward pass). A network whose per-example gradients cannot be computed is refused before
training with an error that names the supported backbones.

Normalization: a layer that computes statistics over the batch (batch normalization) mixes the
examples, so one example's gradient no longer bounds its influence: such networks are refused
(:func:`check_no_batch_statistics`). Layer and group normalization compute statistics per
example and are fine. The paper's batch normalization whose statistics come from public data
only is :class:`PublicBatchNorm`.

Deviations from the paper:

- The paper's official code adds the noise to the weights in the forward pass ("scale-invariant"
  DP-SGD) and mixes private rows into its batch-normalization statistics; both privacy claims
  rest on arguments we could not verify. seqestim runs standard DP-SGD as above, whose guarantee
  is the accountant's, and :class:`PublicBatchNorm` takes its statistics from public rows only.
- Per-example gradients with ``torch.func`` instead of Opacus' module hooks: the hooks cover
  standard layers only, and seqestim's recurrent cells compute their recurrence inside one
  module.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings

import torch
from torch import nn

__all__ = [
    "DifferentialPrivacy",
    "PrivateTraining",
    "PublicBatchNorm",
    "batch_statistic_layers",
    "check_no_batch_statistics",
    "per_sample_gradients",
    "resolve_privacy",
]

_ACCOUNTANTS = ("rdp", "prv", "gdp")
# Opacus' RDP accountant warns when its best order is the largest it tries: the bound it
# returns is valid, only possibly looser than necessary
_LOOSE_RDP_BOUND = "Optimal order is the largest alpha"


def _require_opacus() -> None:
    try:
        import opacus  # noqa: F401
    except ImportError:  # pragma: no cover - opacus is a test dependency
        raise ImportError(
            "Differentially private training (privacy=...) needs Opacus: "
            "pip install 'seqestim[dp]'."
        ) from None


@dataclasses.dataclass(frozen=True)
class DifferentialPrivacy:
    """The privacy budget of a differentially private fit (DP-SGD through Opacus).

    Parameters
    ----------
    epsilon : float
        Target ``ε`` of the whole training run: the noise is set so that the accountant's ``ε``
        after ``max_epochs`` epochs does not exceed it.
    delta : float, default=1e-5
        Target ``δ``; keep it well below ``1 / n_samples``.
    max_grad_norm : float, default=1.0
        Every example's gradient is clipped to this L2 norm before the noise is added.
    accountant : {"rdp", "prv", "gdp"}, default="rdp"
        Opacus' privacy accountant: Rényi DP, privacy random variables (tighter, slower) or
        Gaussian DP.

    Examples
    --------
    >>> from seqestim.training import DifferentialPrivacy
    >>> DifferentialPrivacy(epsilon=3.0, max_grad_norm=0.5)
    DifferentialPrivacy(epsilon=3.0, delta=1e-05, max_grad_norm=0.5, accountant='rdp')
    """

    epsilon: float
    delta: float = 1e-5
    max_grad_norm: float = 1.0
    accountant: str = "rdp"

    def __post_init__(self):
        for name in ("epsilon", "max_grad_norm"):
            value = getattr(self, name)
            if not _positive(value):
                raise ValueError(f"privacy {name} must be a positive finite number; got {value!r}.")
        if not (_positive(self.delta) and self.delta < 1):
            raise ValueError(f"privacy delta must be in (0, 1); got {self.delta!r}.")
        if self.accountant not in _ACCOUNTANTS:
            raise ValueError(
                f"privacy accountant must be one of {_ACCOUNTANTS}; got {self.accountant!r}."
            )


def _positive(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 < value < math.inf


def resolve_privacy(privacy) -> DifferentialPrivacy | None:
    """The ``privacy`` parameter as a :class:`DifferentialPrivacy`, or None; clear errors."""
    if privacy is None or isinstance(privacy, DifferentialPrivacy):
        return privacy
    if isinstance(privacy, dict):
        fields = {f.name for f in dataclasses.fields(DifferentialPrivacy)}
        unknown = set(privacy) - fields
        if unknown or "epsilon" not in privacy:
            raise ValueError(
                f"privacy must have the key 'epsilon' and optionally {sorted(fields - {'epsilon'})}"
                f"; got keys {sorted(privacy)}."
            )
        return DifferentialPrivacy(**privacy)
    raise TypeError(
        "privacy must be None, a dict such as {'epsilon': 3.0, 'delta': 1e-5, "
        f"'max_grad_norm': 1.0}} or a DifferentialPrivacy; got {privacy!r}."
    )


# ------------------------------------------------------------------------------ normalization
def batch_statistic_layers(module: nn.Module) -> list[str]:
    """Names of the layers of ``module`` that normalize with statistics over the batch.

    torch's batch norms, and every layer that keeps population statistics in a ``running_mean``
    buffer the way they do (seqestim's recurrent and S5 batch norms included).
    """
    return [
        name
        for name, layer in module.named_modules()
        if isinstance(layer, nn.modules.batchnorm._BatchNorm) or "running_mean" in layer._buffers
    ]


def check_no_batch_statistics(module: nn.Module) -> None:
    """Refuse a network with batch normalization for private training (``ValueError``)."""
    names = batch_statistic_layers(module)
    if names:
        raise ValueError(
            "privacy cannot train a network with batch normalization "
            f"({', '.join(names[:3])}{', ...' if len(names) > 3 else ''}): batch statistics "
            "mix the examples of a batch, so clipping each example's gradient no longer bounds "
            "its influence. Use the model's layer- or group-normalization option instead (for "
            'example normalization="layer" or norm="layer").'
        )


class PublicBatchNorm(nn.Module):
    """Batch normalization whose statistics come from public examples only.

    The paper's way of keeping batch normalization in private training: a fixed batch of
    *public* (non-private) examples goes through the network with every batch, and each
    normalization layer normalizes with the mean and variance of the public examples' features
    at that layer. A private example's output then depends on the public examples and on itself
    only, so per-example clipping still bounds its influence; the statistics are computed with
    the current weights, in training and at prediction time, and gradients flow through them.

    The network that uses it passes the public examples with the private ones: the last
    ``n_public`` rows of every batch are public (see :meth:`split`).

    Parameters
    ----------
    num_features : int
        Number of features (the last dimension of the input).
    n_public : int
        Number of public rows at the end of every batch.
    eps : float, default=1e-5
        Added to the variance.
    """

    def __init__(self, num_features: int, n_public: int, eps: float = 1e-5):
        super().__init__()
        if n_public < 2:
            raise ValueError(f"PublicBatchNorm needs at least 2 public rows; got {n_public}.")
        self.n_public = int(n_public)
        self.eps = float(eps)
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalize ``x`` (B + n_public, ..., F) with the statistics of its public rows."""
        public = x[-self.n_public :]  # (n_public, ..., F)
        dims = tuple(range(public.dim() - 1))
        mean = public.mean(dim=dims)  # (F,)
        var = public.var(dim=dims, unbiased=False)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias


# ------------------------------------------------------------------------- per-sample gradients
def per_sample_gradients(
    module: nn.Module,
    loss_fn,
    inputs: dict,
    targets: torch.Tensor,
    *,
    group_by: str | None = "lengths",
):
    """Gradient of every example's own loss with respect to every trainable parameter.

    ``vmap`` of ``grad`` over the examples (``torch.func``), one group of examples at a time:
    examples with the same value of ``inputs[group_by]`` (the sequence length) go together and
    see it as a constant, so that networks may branch on it. Dropout draws independently for
    every example.

    Parameters
    ----------
    module : torch.nn.Module
        The network; ``module(**batch)`` gives outputs for a batch.
    loss_fn : callable
        ``loss_fn(outputs, targets)`` of a batch of one example.
    inputs : dict of str -> torch.Tensor
        The batch, one row per example.
    targets : torch.Tensor
        One row per example.
    group_by : str or None, default="lengths"
        The input whose equal values form the groups (ignored when absent).

    Returns
    -------
    gradients : dict of str -> torch.Tensor
        By parameter name, ``(B, *parameter.shape)``.
    losses : torch.Tensor
        ``(B,)``, every example's loss.
    """
    from torch.func import functional_call, grad_and_value, vmap

    params = {name: p.detach() for name, p in module.named_parameters() if p.requires_grad}
    buffers = dict(module.named_buffers())
    n = len(targets)
    device = targets.device
    gradients = {
        name: torch.zeros((n, *p.shape), dtype=p.dtype, device=device) for name, p in params.items()
    }
    dtype = next(iter(params.values())).dtype if params else torch.get_default_dtype()
    losses = torch.zeros(n, dtype=dtype, device=device)
    if n == 0:
        return gradients, losses

    def one_example(params, row, target, constant):
        batch = {key: value.unsqueeze(0) for key, value in row.items()}
        outputs = functional_call(module, (params, buffers), args=(), kwargs={**batch, **constant})
        return loss_fn(outputs, target.unsqueeze(0))

    compute = vmap(grad_and_value(one_example), in_dims=(None, 0, 0, None), randomness="different")
    if group_by in inputs:
        keys = inputs[group_by]
        groups = [torch.nonzero(keys == value).flatten() for value in torch.unique(keys)]
    else:
        groups = [torch.arange(n, device=device)]
    for rows in groups:
        row = {key: value[rows] for key, value in inputs.items() if key != group_by}
        constant = {group_by: inputs[group_by][rows[:1]]} if group_by in inputs else {}
        grads, values = compute(params, row, targets[rows], constant)
        for name, g in grads.items():
            gradients[name][rows] = g
        losses[rows] = values.to(losses.dtype)
    return gradients, losses


class PrivateTraining:
    """One private training run: Poisson batches, the DP optimizer and the accountant (Opacus).

    Parameters
    ----------
    privacy : DifferentialPrivacy
        The budget.
    n_samples : int
        Number of training examples.
    batch_size : int
        Expected batch size: every example joins a batch with probability
        ``batch_size / n_samples``.
    epochs : int
        Number of epochs the budget must cover.
    seed : int
        Seeds the sampling and the noise.
    """

    def __init__(
        self, privacy: DifferentialPrivacy, n_samples: int, batch_size: int, epochs: int, seed: int
    ):
        _require_opacus()
        from opacus.accountants import create_accountant
        from opacus.accountants.utils import get_noise_multiplier

        self.privacy = privacy
        self.n_samples = int(n_samples)
        self.sample_rate = min(1.0, batch_size / n_samples)
        self.expected_batch_size = max(1, round(self.sample_rate * n_samples))
        self.steps_per_epoch = max(1, int(1 / self.sample_rate))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_LOOSE_RDP_BOUND)
            self.noise_multiplier = get_noise_multiplier(
                target_epsilon=privacy.epsilon,
                target_delta=privacy.delta,
                sample_rate=self.sample_rate,
                steps=epochs * self.steps_per_epoch,
                accountant=privacy.accountant,
            )
        self.accountant = create_accountant(mechanism=privacy.accountant)
        self.generator = torch.Generator().manual_seed(int(seed))

    def wrap_optimizer(self, optimizer: torch.optim.Optimizer):
        """The user's optimizer behind Opacus' ``DPOptimizer`` (clipping, noise, accounting)."""
        from opacus.optimizers import DPOptimizer

        private = DPOptimizer(
            optimizer,
            noise_multiplier=self.noise_multiplier,
            max_grad_norm=self.privacy.max_grad_norm,
            expected_batch_size=self.expected_batch_size,
            loss_reduction="mean",
            generator=self.generator,
        )
        private.attach_step_hook(self.accountant.get_optimizer_hook_fn(self.sample_rate))
        return private

    def batches(self):
        """The index lists of one epoch of Poisson-sampled batches (possibly empty)."""
        from opacus.utils.uniform_sampler import UniformWithReplacementSampler

        sampler = UniformWithReplacementSampler(
            num_samples=self.n_samples,
            sample_rate=self.sample_rate,
            generator=self.generator,
            steps=self.steps_per_epoch,
        )
        return iter(sampler)

    def spent(self) -> tuple[float, float]:
        """``(ε, δ)`` spent so far, from the accountant."""
        delta = self.privacy.delta
        if not self.accountant.history:
            return 0.0, delta
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_LOOSE_RDP_BOUND)
            return float(self.accountant.get_epsilon(delta=delta)), delta
