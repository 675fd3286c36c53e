"""Decoding for encoder-decoder backbones, written once: greedy search and beam search.

Every sequence-to-sequence backbone keeps the encoder-decoder form of the backbone contract
(:mod:`seqestim.nn._contract`): ``encode``, ``init_decoder_state`` and ``decode_step(token,
state) -> (logits, state, attention)`` with a batch-first, cached state. The functions here
drive any such model; they never recompute the decoded prefix (the state caches it) and they
search every sentence of a batch at once.

Beam search scores a finished hypothesis ``Y`` of a source ``X`` as in GNMT (Wu et al. 2016,
Section 7):

- ``s(Y, X) = log P(Y | X) / lp(Y) + cp(X; Y)``
- length normalisation ``lp(Y) = (5 + |Y|)^α / (5 + 1)^α``
- coverage penalty ``cp(X; Y) = β Σ_i log(min(Σ_j p_ij, 1))``, where ``p_ij`` is the attention
  probability of the ``j``-th target token on the ``i``-th source token.

``|Y|`` counts the generated tokens including ``<eos>``, and ``Σ_j`` runs over the steps that
produced them (the attention of the step that predicted ``<eos>`` included). With ``α = β = 0``
the score is the model's log-probability.

The search itself (the usual form, as in fairseq and OpenNMT):

- Each sentence keeps ``beam_size`` live hypotheses. At every step the ``2 * beam_size`` best
  extensions by log-probability are looked at (live hypotheses of one step all have the same
  length, so ``lp`` does not change their order). Those that end with ``<eos>`` among the first
  ``beam_size`` become finished hypotheses, scored with ``s(Y, X)``; the best
  ``beam_size`` that do not end become the new live hypotheses.
- A sentence is done when its most probable extension ends (as in OpenNMT), when no live
  hypothesis can still beat its best finished one (``log P`` only falls as tokens are added,
  ``lp`` is at most ``lp`` of the longest allowed output, and ``cp <= 0``; Huang et al. 2017), or
  when it reaches its maximum length, at which only ``<eos>`` may follow. The best finished
  hypothesis is returned.
- With ``beam_size=1`` this is exactly greedy decoding (:func:`greedy_search`): the only
  hypothesis ends at the first step whose most probable token is ``<eos>``, whatever α and β.
- Beam search is a heuristic: a hypothesis on the way to the most probable output can fall out
  of the beam, so a wider beam usually, not always, finds a more probable output. Stopping as
  soon as ``beam_size`` hypotheses have finished (fairseq's rule) made that happen noticeably
  more often in our tests (the best of 4 beams below greedy's output on 1 to 3 sentences in
  120), so the search stops only by the rules above.
- Done sentences leave the batch (their rows are dropped from the state), so a batch costs what
  its longest search costs only for the sentences still searching.

Deviations from GNMT: the paper also prunes candidates whose score is more than a fixed margin
("beamsize = 3.0") below the best one, and finished hypotheses below the best finished one; we
keep the plain top-``beam_size`` pruning, which needs no extra setting. A coverage sum of exactly
zero (a source token that received no attention at all, e.g. with hard attention) would give
``log 0 = -inf``; sums are floored at ``1e-10`` so that such hypotheses are penalised but still
ranked.

This module also holds :class:`Seq2SeqNet`, the teacher-forcing wrapper the training engine
fits: padded id batches and lengths in, next-token logits out.

References
----------
Y. Wu, M. Schuster, Z. Chen, et al. "Google's Neural Machine Translation System: Bridging the
Gap between Human and Machine Translation." arXiv:1609.08144, 2016.

L. Huang, K. Zhao, M. Ma. "When to Finish? Optimal Beam Search for Neural Text Generation
(modulo beam size)." EMNLP 2017.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn
from torch.nn.utils import parametrize

from seqestim.nn._contract import lengths_to_mask

__all__ = [
    "Hypotheses",
    "Seq2SeqNet",
    "beam_search",
    "coverage_penalty",
    "greedy_search",
    "length_penalty",
    "reorder_state",
]

#: Coverage sums below this count as this much (``log 0`` would be ``-inf``).
COVERAGE_FLOOR = 1e-10


def length_penalty(length, alpha: float):
    """GNMT's length normalisation ``lp(Y) = ((5 + |Y|) / 6) ** alpha``.

    Parameters
    ----------
    length : int, float or torch.Tensor
        ``|Y|``, the number of generated tokens (``<eos>`` included).
    alpha : float
        The exponent ``α`` (0 turns normalisation off).

    Returns
    -------
    lp : same type as ``length``
    """
    return ((5.0 + length) / 6.0) ** alpha


def coverage_penalty(
    coverage: torch.Tensor, mask: torch.Tensor | None, beta: float
) -> torch.Tensor:
    """GNMT's coverage penalty ``β Σ_i log(min(Σ_j p_ij, 1))`` of each hypothesis.

    Parameters
    ----------
    coverage : torch.Tensor
        ``(N, S)``: for every hypothesis, the attention each source token received, summed over
        the target steps (``Σ_j p_ij``).
    mask : torch.Tensor or None
        ``(N, S)`` bool, True for the source tokens the penalty covers (padding excluded).
    beta : float
        The weight ``β`` (0 turns the penalty off).

    Returns
    -------
    cp : torch.Tensor
        ``(N,)``, at most 0.
    """
    logs = coverage.clamp(min=COVERAGE_FLOOR, max=1.0).log()  # (N, S)
    if mask is not None:
        logs = logs.masked_fill(~mask, 0.0)
    return beta * logs.sum(dim=-1)


def reorder_state(state, index: torch.Tensor):
    """Select (and repeat) rows of a decoder state: ``index_select(0, index)`` on every tensor.

    The encoder-decoder contract keeps the decoder state as tensors whose first dimension is the
    batch, nested in tuples, lists and dicts; this is how beam search follows the hypotheses it
    keeps. Anything that is not a tensor (e.g. None) is passed through.

    Parameters
    ----------
    state : tensor, or tuple/list/dict of them (nested)
    index : torch.Tensor
        ``(N,)`` int64 rows to keep, in order; rows may repeat.

    Returns
    -------
    state : same structure, every tensor with ``N`` rows.
    """
    if isinstance(state, torch.Tensor):
        return state.index_select(0, index)
    if isinstance(state, dict):
        return {key: reorder_state(value, index) for key, value in state.items()}
    if isinstance(state, list | tuple):
        return type(state)(reorder_state(value, index) for value in state)
    return state


@dataclasses.dataclass
class Hypotheses:
    """The decoded output of every sentence of a batch.

    Attributes
    ----------
    tokens : list of torch.Tensor
        The generated ids of each sentence, without ``<eos>``.
    log_probs : torch.Tensor
        ``(B,)`` the model's ``log P(Y | X)`` of each output, ``<eos>`` included.
    scores : torch.Tensor
        ``(B,)`` the search score ``s(Y, X)`` (equal to ``log_probs`` for greedy search).
    """

    tokens: list
    log_probs: torch.Tensor
    scores: torch.Tensor


def _check_max_lengths(max_lengths, batch_size: int, device) -> torch.Tensor:
    lengths = torch.as_tensor(max_lengths, dtype=torch.long, device=device)
    if lengths.dim() == 0:
        lengths = lengths.expand(batch_size)
    if lengths.shape != (batch_size,) or bool((lengths < 0).any()):
        raise ValueError(
            "max_lengths must be an int >= 0 or one per sentence; got shape "
            f"{tuple(lengths.shape)}."
        )
    return lengths


def _step_log_probs(model, tokens, state, banned, at_limit, eos):
    """One decoder step: log-probabilities with banned tokens removed and ``<eos>`` forced."""
    logits, state, attention = model.decode_step(tokens, state)
    log_probs = torch.log_softmax(logits, dim=-1)  # (N, V)
    if banned:
        log_probs[:, list(banned)] = -math.inf
    if bool(at_limit.any()):  # at the maximum length only <eos> may follow
        eos_column = log_probs[:, eos].clone()
        log_probs[at_limit] = -math.inf
        log_probs[at_limit, eos] = eos_column[at_limit]
    return log_probs, state, attention


@torch.no_grad()
def greedy_search(
    model: nn.Module,
    source: torch.Tensor,
    source_mask: torch.Tensor,
    *,
    max_lengths,
    bos: int,
    eos: int,
    banned_tokens=(),
) -> Hypotheses:
    """Decode by taking the most probable token at every step until ``<eos>``.

    Parameters
    ----------
    model : nn.Module
        An encoder-decoder backbone (see :mod:`seqestim.nn._contract`), in eval mode.
    source : torch.Tensor
        ``(B, S)`` int64 source ids, right-padded.
    source_mask : torch.Tensor
        ``(B, S)`` bool, True for real source tokens.
    max_lengths : int or sequence of int
        Most tokens to generate per sentence before ``<eos>`` is forced.
    bos, eos : int
        Ids of ``<bos>`` (the first decoder input) and ``<eos>``.
    banned_tokens : sequence of int
        Ids never generated (e.g. padding and ``<bos>``).

    Returns
    -------
    hypotheses : Hypotheses
    """
    B = source.shape[0]
    max_lengths = _check_max_lengths(max_lengths, B, source.device)
    with parametrize.cached():  # weight-normalised layers compute their weights once
        state = model.init_decoder_state(model.encode(source, source_mask), source_mask)
        tokens = torch.full((B,), bos, dtype=torch.long, device=source.device)
        alive = torch.ones(B, dtype=torch.bool, device=source.device)
        total = None
        steps = []
        t = 0
        while bool(alive.any()):
            log_probs, state, _ = _step_log_probs(
                model, tokens, state, banned_tokens, max_lengths <= t, eos
            )
            best, tokens = log_probs.max(dim=-1)  # (B,), (B,)
            best = torch.where(alive, best, torch.zeros_like(best))
            total = best if total is None else total + best
            steps.append(torch.where(alive, tokens, torch.full_like(tokens, eos)))
            alive = alive & (tokens != eos)
            t += 1
    generated = torch.stack(steps, dim=1)  # (B, T)
    outputs = []
    for row in generated:
        end = int((row == eos).nonzero()[0, 0])  # every row ends with <eos>
        outputs.append(row[:end])
    return Hypotheses(outputs, total, total.clone())


@torch.no_grad()
def beam_search(
    model: nn.Module,
    source: torch.Tensor,
    source_mask: torch.Tensor,
    *,
    beam_size: int,
    max_lengths,
    bos: int,
    eos: int,
    alpha: float = 0.0,
    beta: float = 0.0,
    banned_tokens=(),
    coverage_mask: torch.Tensor | None = None,
) -> Hypotheses:
    """Beam search with GNMT's length normalisation and coverage penalty.

    See the module docstring for the scoring and the search.

    Parameters
    ----------
    model : nn.Module
        An encoder-decoder backbone (see :mod:`seqestim.nn._contract`), in eval mode.
    source : torch.Tensor
        ``(B, S)`` int64 source ids, right-padded.
    source_mask : torch.Tensor
        ``(B, S)`` bool, True for real source tokens.
    beam_size : int
        Live hypotheses per sentence.
    max_lengths : int or sequence of int
        Most tokens to generate per sentence (``<eos>`` not counted) before ``<eos>`` is forced.
    bos, eos : int
        Ids of ``<bos>`` (the first decoder input) and ``<eos>``.
    alpha : float, default=0.0
        ``α`` of the length normalisation, >= 0.
    beta : float, default=0.0
        ``β`` of the coverage penalty, >= 0; needs a model that returns its attention.
    banned_tokens : sequence of int
        Ids never generated (e.g. padding and ``<bos>``).
    coverage_mask : torch.Tensor, optional
        ``(B, S)`` bool, the source tokens the coverage penalty counts (``source_mask`` by
        default; e.g. leave out an ``<eos>`` appended to every source).

    Returns
    -------
    hypotheses : Hypotheses
        The best finished hypothesis of every sentence.
    """
    K = int(beam_size)
    if K < 1:
        raise ValueError(f"beam_size must be >= 1; got {beam_size!r}.")
    if alpha < 0 or beta < 0:
        raise ValueError(f"alpha and beta must be >= 0; got {alpha!r} and {beta!r}.")
    B = source.shape[0]
    device = source.device
    max_lengths = _check_max_lengths(max_lengths, B, device)
    with parametrize.cached():  # weight-normalised layers compute their weights once
        memory = model.encode(source, source_mask)
        state = model.init_decoder_state(memory, source_mask)
        rows = torch.arange(B, device=device).repeat_interleave(K)  # sentence b -> rows bK..
        state = reorder_state(state, rows)
        covered = (source_mask if coverage_mask is None else coverage_mask).index_select(0, rows)
        sentence = torch.arange(B, device=device)  # original index of each searching sentence
        tokens = torch.full((B * K,), bos, dtype=torch.long, device=device)
        prefix = torch.empty((B * K, 0), dtype=torch.long, device=device)
        beam_log_probs = None  # (n, K), set from the first step's dtype
        coverage = None  # (n * K, S) attention received so far
        best_score = torch.full((B,), -math.inf, dtype=torch.float64)
        best_log_prob = torch.full((B,), -math.inf, dtype=torch.float64)
        best_tokens: list = [None] * B
        t = 0
        while sentence.numel():
            n = sentence.numel()
            at_limit = max_lengths[sentence] <= t  # (n,)
            log_probs, state, attention = _step_log_probs(
                model, tokens, state, banned_tokens, at_limit.repeat_interleave(K), eos
            )
            V = log_probs.shape[-1]
            if beam_log_probs is None:  # only the first of the K copies is live at the start
                beam_log_probs = log_probs.new_full((B, K), -math.inf)
                beam_log_probs[:, 0] = 0.0
            if beta:
                if attention is None:
                    raise ValueError("coverage_penalty needs a model that returns its attention.")
                coverage = attention if coverage is None else coverage + attention  # (nK, S)

            candidates = (beam_log_probs.unsqueeze(-1) + log_probs.view(n, K, V)).view(n, K * V)
            top_log_probs, top_index = candidates.topk(min(2 * K, K * V), dim=1)  # (n, 2K)
            parent = torch.div(top_index, V, rounding_mode="floor")  # (n, 2K) beam of origin
            token = top_index % V
            rank = torch.arange(token.shape[1], device=device).expand_as(token)

            # finished hypotheses: <eos> among the best K extensions
            finished = (token == eos) & (rank < K) & torch.isfinite(top_log_probs)
            if bool(finished.any()):
                which, position = finished.nonzero(as_tuple=True)
                origin = which * K + parent[which, position]  # rows of the parent hypotheses
                log_prob = top_log_probs[which, position]
                score = log_prob / length_penalty(t + 1, alpha)
                if beta:
                    score = score + coverage_penalty(
                        coverage.index_select(0, origin), covered.index_select(0, origin), beta
                    )
                for i, b in enumerate(sentence[which].tolist()):
                    if float(score[i]) > float(best_score[b]):
                        best_score[b] = float(score[i])
                        best_log_prob[b] = float(log_prob[i])
                        best_tokens[b] = prefix[origin[i]].clone()

            # live hypotheses: the best K extensions that do not end
            order = torch.where(token == eos, rank + token.shape[1], rank).argsort(dim=1)[:, :K]
            live_log_probs = top_log_probs.gather(1, order)  # (n, K)
            live_parent = parent.gather(1, order)
            live_token = token.gather(1, order)

            # a sentence is done when nothing live can beat its best finished hypothesis
            longest = length_penalty(max_lengths[sentence].to(torch.float64) + 1, alpha)
            bound = live_log_probs.max(dim=1).values.to(torch.float64) / longest.to(device)
            best = best_score.to(device)[sentence]  # -inf until a hypothesis finishes
            top_ends = token[:, 0] == eos  # the most probable hypothesis has just finished
            done = at_limit | top_ends | (torch.isfinite(best) & (best >= bound))
            keep = (~done).nonzero(as_tuple=True)[0]  # (n',)
            rows = (keep.unsqueeze(1) * K + live_parent.index_select(0, keep)).view(-1)
            state = reorder_state(state, rows)
            prefix = torch.cat(
                [prefix.index_select(0, rows), live_token.index_select(0, keep).view(-1, 1)], 1
            )
            covered = covered.index_select(0, rows)
            if coverage is not None:
                coverage = coverage.index_select(0, rows)
            beam_log_probs = live_log_probs.index_select(0, keep)
            tokens = live_token.index_select(0, keep).view(-1)
            sentence = sentence.index_select(0, keep)
            t += 1
    empty = torch.empty(0, dtype=torch.long, device=device)
    best_tokens = [empty if tokens is None else tokens for tokens in best_tokens]
    return Hypotheses(best_tokens, best_log_prob, best_score)


class Seq2SeqNet(nn.Module):
    """Teacher forcing around an encoder-decoder backbone, the module the training engine fits.

    ``forward(source, source_lengths, target, target_lengths)`` takes right-padded id batches
    (``target`` starting with ``<bos>``) and returns the next-token logits ``(B, T, V)``. Both
    batches are first cut to their longest real sequence, so a batch never pays for padding
    that only other batches need; the loss cuts its targets to match.

    Parameters
    ----------
    backbone : nn.Module
        A backbone of the encoder-decoder form (:mod:`seqestim.nn._contract`).
    """

    def __init__(self, backbone: nn.Module):
        super().__init__()
        self.backbone = backbone

    def forward(self, source, source_lengths, target, target_lengths) -> torch.Tensor:
        """Logits ``(B, T, V)``; ``T`` is the longest target of this batch."""
        S, T = int(source_lengths.max()), int(target_lengths.max())
        source, target = source[:, :S], target[:, :T]  # (B, S), (B, T)
        source_mask = lengths_to_mask(source_lengths, S)
        target_mask = lengths_to_mask(target_lengths, T)
        return self.backbone(source, source_mask, target, target_mask)
