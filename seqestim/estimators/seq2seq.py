"""The sequence-to-sequence task: source sequences in, target sequences out.

A translator is fitted on pairs ``(X[i], y[i])`` of texts (``tokenizer="char" | "word" |
"wordpiece"``, vocabularies learned from the training texts, one per side or one shared by both
with ``shared_vocabulary=True``) or of integer token sequences; the two sides may differ in kind.

- Every source is read as ``tokens <eos>``. The decoder reads ``<bos> t_1 ... t_n`` and is
  trained to predict ``t_1 ... t_n <eos>`` (teacher forcing), with label-smoothed cross-entropy
  (``label_smoothing``) averaged over the target tokens.
- ``predict(X)`` decodes by beam search (:func:`seqestim.nn.generation.beam_search`: GNMT's
  length normalisation ``length_penalty = α`` and coverage penalty ``coverage_penalty = β``,
  ``beam_size`` live hypotheses), and returns strings, or integer arrays for a model fitted on
  integer targets. ``beam_size=1`` is greedy decoding. These are parameters like any other, so
  ``set_params(beam_size=1)`` or a grid over them needs no refit of the network (a grid search
  refits anyway).
- ``max_length`` bounds the output: an int is an absolute number of tokens; a pair ``(a, b)``
  allows ``ceil(a * len(source) + b)`` tokens; None (the default) uses ``(r, 10)`` with ``r`` the
  largest target/source length ratio seen in ``fit`` (``length_ratio_``).
- ``score(X, y)`` is the corpus BLEU of ``predict(X)`` against ``y``, computed by sacrebleu on
  the decoded strings (token ids are joined with spaces), on sacrebleu's 0-100 scale.
  ``exact_match(X, y)`` is the share of outputs equal to their reference, token for token.
- ``score_sequences(X, y)`` is ``log P(y | X)`` of each pair (``<eos>`` included), and
  ``predict_proba(X, y)`` its exponential, the probability of each target.

Decoded texts are the tokens joined by the tokenizer: characters as they are, words and
wordpieces with spaces (so ``"2021-03-04"`` comes back as ``"2021 - 03 - 04"`` from a word-level
model; BLEU tokenises both sides the same way, and ``exact_match`` compares tokens).

Integer token sequences: the user's ids ``0..V-1`` are shifted past the four special tokens
inside the model, as in the language-model task.

Any backbone of the encoder-decoder form (``form="encoder_decoder"`` in the registry) serves the
task; the search is written once for all of them.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from seqestim.estimators._base import SequenceEstimator, transactional
from seqestim.estimators._tokens import BOS, EOS, PAD, SPECIAL_TOKENS, TOKENIZERS, UNK, Vocabulary
from seqestim.estimators._training import TrainingParams, _inference_module
from seqestim.nn._contract import lengths_to_mask
from seqestim.nn._params import param, parameter_group
from seqestim.nn.generation import Seq2SeqNet, beam_search
from seqestim.registry import get_spec

__all__ = ["Seq2Seq", "Seq2SeqLoss", "Seq2SeqParams"]

_IGNORE = -100  # targets of padded steps: ignored by the loss
_N_SPECIAL = len(SPECIAL_TOKENS)
#: Tokens added to the relative output-length bound when ``max_length`` is None.
_LENGTH_MARGIN = 10


@parameter_group
class Seq2SeqParams:
    """How a translator reads its pairs and decodes."""

    tokenizer: str = param(
        "char",
        "How texts are split into tokens; ignored for integer token sequences.",
        kind='{"char", "word", "wordpiece"}',
    )
    shared_vocabulary: bool = param(
        False, "One vocabulary for sources and targets, fitted on both (as in GNMT)."
    )
    max_vocabulary: int | None = param(
        None,
        "Keep at most this many tokens per vocabulary, the most frequent first (the target size\n"
        'for "wordpiece", 8000 when None); the others become ``<unk>``.',
        kind="int or None",
    )
    label_smoothing: float = param(
        0.1, "Label smoothing of the cross-entropy, in [0, 1); 0 is plain cross-entropy."
    )
    beam_size: int = param(5, "Live hypotheses per sentence in beam search; 1 is greedy.")
    length_penalty: float = param(
        0.2, "``α`` of GNMT's length normalisation ``((5 + |Y|) / 6)^α``, >= 0; 0 turns it off."
    )
    coverage_penalty: float = param(
        0.2,
        "``β`` of GNMT's coverage penalty ``β Σ_i log(min(Σ_j p_ij, 1))``, >= 0; 0 turns it off.",
    )
    max_length: int | tuple | None = param(
        None,
        "Most output tokens: an int, or ``(a, b)`` for ``ceil(a * source length + b)``; None\n"
        "uses ``(length_ratio_, 10)``, the largest target/source ratio seen in ``fit``.",
        kind="int, (float, float) or None",
    )


class Seq2SeqLoss(nn.CrossEntropyLoss):
    """Label-smoothed cross-entropy over per-step logits; targets ``-100`` are ignored.

    The network cuts each batch to its longest target (:class:`~seqestim.nn.generation.
    Seq2SeqNet`); the targets are cut to match (the steps cut off are all padding).
    """

    def forward(self, logits, target):
        """Mean over the real target tokens of ``logits`` (B, T, V) and ``target`` (B, T')."""
        return super().forward(logits.transpose(1, 2), target[:, : logits.shape[1]])


def _is_texts(X) -> bool:
    return len(X) > 0 and all(isinstance(x, str) for x in X)


def _check_sequences(X, name: str) -> None:
    if isinstance(X, str):
        raise TypeError(f"{name} must be a list of texts or token sequences, not a single string.")
    if X is None or not hasattr(X, "__len__"):
        raise TypeError(f"{name} must be a list of texts or token sequences; got {X!r}.")
    if len(X) == 0:
        raise ValueError(f"{name} is empty; at least one sequence is needed.")


def _integer_sequences(X, name: str) -> list[np.ndarray]:
    sequences = []
    for position, sequence in enumerate(X):
        array = np.asarray(sequence)
        if array.ndim != 1 or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
            raise TypeError(
                f"Sequence {position} of {name} must be a text or a 1-D sequence of integer "
                f"token ids (all of one kind); got dtype {array.dtype}, shape {array.shape}."
            )
        if array.size and array.min() < 0:
            raise ValueError(f"Sequence {position} of {name} has negative token ids.")
        sequences.append(array.astype(np.int64))
    return sequences


def _pad(sequences: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    padded = np.full((len(sequences), max(1, int(lengths.max()))), PAD, dtype=np.int64)
    for row, sequence in enumerate(sequences):
        padded[row, : len(sequence)] = sequence
    return padded, lengths


class Seq2Seq(Seq2SeqParams, TrainingParams, SequenceEstimator):
    """Sequence-to-sequence task: translate source sequences into target sequences.

    See the module docstring of :mod:`seqestim.estimators.seq2seq`.

    Attributes
    ----------
    source_vocabulary_ : Vocabulary or None
        The vocabulary of the source texts (None for integer sources).
    target_vocabulary_ : Vocabulary or None
        The vocabulary of the target texts (None for integer targets); the same object as
        ``source_vocabulary_`` when ``shared_vocabulary`` is True.
    source_vocab_size_ : int
        Number of source token ids, the four special tokens included.
    target_vocab_size_ : int
        Number of target token ids the model scores, the four special tokens included.
    length_ratio_ : float
        The largest ``len(target) / len(source)`` of the training pairs (in tokens).
    """

    _task = "seq2seq"
    _fitted_attributes = (
        "source_vocabulary_",
        "target_vocabulary_",
        "source_vocab_size_",
        "target_vocab_size_",
        "length_ratio_",
    )

    # ------------------------------------------------------------------ network
    def _criterion(self):
        return Seq2SeqLoss(label_smoothing=float(self.label_smoothing))

    def _build_module(self) -> nn.Module:
        if self._backbone is None:
            raise TypeError(f"{type(self).__name__} is a task base; use a named estimator.")
        spec = get_spec(self._backbone)
        if spec.form != "encoder_decoder":
            raise TypeError(f"{spec.name!r} is not an encoder-decoder model.")
        backbone = self._backbone(
            int(self.source_vocab_size_),
            self._backbone_params(),
            d_target=int(self.target_vocab_size_),
        )
        return Seq2SeqNet(backbone)

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        if self.tokenizer not in TOKENIZERS:
            raise ValueError(f"tokenizer must be one of {TOKENIZERS}; got {self.tokenizer!r}.")
        beam = self.beam_size
        if not isinstance(beam, numbers.Integral) or isinstance(beam, bool) or beam < 1:
            raise ValueError(f"beam_size must be an integer >= 1; got {beam!r}.")
        for name in ("length_penalty", "coverage_penalty"):
            value = getattr(self, name)
            if not (isinstance(value, numbers.Real) and 0 <= value < math.inf):
                raise ValueError(f"{name} must be a number >= 0; got {value!r}.")
        if not (isinstance(self.label_smoothing, numbers.Real) and 0 <= self.label_smoothing < 1):
            raise ValueError(f"label_smoothing must be in [0, 1); got {self.label_smoothing!r}.")
        self._length_bound()  # validates max_length

    def _length_bound(self) -> tuple[float, float] | int:
        """``max_length`` as an absolute int or a validated pair ``(a, b)``."""
        value = self.max_length
        if value is None:
            return (float(getattr(self, "length_ratio_", 1.0)), float(_LENGTH_MARGIN))
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            if value < 1:
                raise ValueError(f"max_length must be >= 1; got {value!r}.")
            return int(value)
        if (
            isinstance(value, tuple | list)
            and len(value) == 2
            and all(isinstance(v, numbers.Real) and 0 <= v < math.inf for v in value)
            and value[0] + value[1] > 0
        ):
            return (float(value[0]), float(value[1]))
        raise ValueError(
            "max_length must be an int >= 1, a pair (a, b) of numbers >= 0 for "
            f"ceil(a * source length + b), or None; got {value!r}."
        )

    # ------------------------------------------------------------------ encoding
    def _fit_vocabularies(self, X, y) -> None:
        texts = (_is_texts(X), _is_texts(y))
        if self.shared_vocabulary and texts[0] != texts[1]:
            raise TypeError(
                "shared_vocabulary=True needs sources and targets of one kind (both texts or "
                "both token ids)."
            )
        vocabularies, sizes = [], []
        if self.shared_vocabulary and texts[0]:
            shared = Vocabulary.fit([*X, *y], self.tokenizer, max_size=self.max_vocabulary)
            vocabularies, sizes = [shared, shared], [len(shared)] * 2
        elif self.shared_vocabulary:
            n_user = max(self._largest_id(X, "X"), self._largest_id(y, "y")) + 1
            vocabularies, sizes = [None, None], [n_user + _N_SPECIAL] * 2
        else:
            for side, is_text, name in ((X, texts[0], "X"), (y, texts[1], "y")):
                if is_text:
                    vocabulary = Vocabulary.fit(side, self.tokenizer, max_size=self.max_vocabulary)
                    vocabularies.append(vocabulary)
                    sizes.append(len(vocabulary))
                else:
                    vocabularies.append(None)
                    sizes.append(self._largest_id(side, name) + 1 + _N_SPECIAL)
        self.source_vocabulary_, self.target_vocabulary_ = vocabularies
        self.source_vocab_size_, self.target_vocab_size_ = sizes

    @staticmethod
    def _largest_id(X, name: str) -> int:
        sequences = _integer_sequences(X, name)
        return max((int(s.max()) for s in sequences if s.size), default=0)

    def _encode(self, X, side: str) -> list[np.ndarray]:
        """Internal ids of every sequence of one side, without ``<bos>``/``<eos>``."""
        name = "X" if side == "source" else "y"
        _check_sequences(X, name)
        vocabulary = getattr(self, f"{side}_vocabulary_")
        if _is_texts(X):
            if vocabulary is None:
                raise TypeError(f"{type(self).__name__} was fitted on token ids as {name}.")
            return [vocabulary.encode(text) for text in X]
        if vocabulary is not None:
            raise TypeError(f"{type(self).__name__} was fitted on texts as {name}; pass texts.")
        n_user = getattr(self, f"{side}_vocab_size_") - _N_SPECIAL
        sequences = _integer_sequences(X, name)
        for position, sequence in enumerate(sequences):
            if sequence.size and sequence.max() >= n_user:
                raise ValueError(
                    f"Token ids of {name} must lie in [0, {n_user}); sequence {position} has "
                    f"{int(sequence.max())}."
                )
        return [sequence + _N_SPECIAL for sequence in sequences]

    def _source_batch(self, sources: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        return _pad([np.append(s, EOS) for s in sources])  # every source ends with <eos>

    def _pairs(self, X, y) -> tuple[dict, np.ndarray]:
        """Teacher-forcing examples: sources, ``<bos> t..`` inputs and ``t.. <eos>`` targets."""
        sources, targets = self._encode(X, "source"), self._encode(y, "target")
        if len(sources) != len(targets):
            raise ValueError(
                f"X and y must hold as many sequences; got {len(sources)} and {len(targets)}."
            )
        source, source_lengths = self._source_batch(sources)
        target_in, target_lengths = _pad([np.concatenate([[BOS], t]) for t in targets])
        target_out, _ = _pad([np.append(t, EOS) for t in targets])
        target_out[np.arange(target_out.shape[1]) >= target_lengths[:, None]] = _IGNORE
        inputs = {
            "source": source,
            "source_lengths": source_lengths,
            "target": target_in,
            "target_lengths": target_lengths,
        }
        return inputs, target_out

    # ------------------------------------------------------------------ fit
    @transactional
    def fit(self, X, y):
        """Fit the translator on pairs of sequences.

        Parameters
        ----------
        X : list of str, or list of integer token sequences
            The source sequences.
        y : list of str, or list of integer token sequences
            The target sequence of each source.

        Returns
        -------
        self : object
            The fitted translator.
        """
        self._check_params()
        _check_sequences(X, "X")
        if y is None:
            raise TypeError("y (the target sequences) is required.")
        _check_sequences(y, "y")
        if not (self.warm_start and hasattr(self, "target_vocab_size_")):
            self._fit_vocabularies(X, y)
        inputs, targets = self._pairs(X, y)
        source_lengths = inputs["source_lengths"] - 1  # without <eos>
        self.length_ratio_ = float(
            np.max((inputs["target_lengths"] - 1) / np.maximum(source_lengths, 1))
        )
        self._fit_network(inputs, targets)
        return self

    # ------------------------------------------------------------------ inference
    def _inference(self):
        """The trained network for inference (float64 on the CPU) and its device."""
        check_is_fitted(self, "net_")
        device = torch.device(self.net_.device)
        return _inference_module(self.net_, device.type == "cpu"), device

    def _max_lengths(self, source_lengths: np.ndarray) -> np.ndarray:
        bound = self._length_bound()
        if isinstance(bound, int):
            lengths = np.full(len(source_lengths), bound, dtype=np.int64)
        else:
            lengths = np.ceil(bound[0] * source_lengths + bound[1]).astype(np.int64)
        limit = getattr(self.module_.backbone, "max_target_length", None)
        if limit is not None:  # the decoder's own limit (e.g. learned positions)
            lengths = np.minimum(lengths, int(limit) - 1)
        return np.maximum(lengths, 0)

    def _decode_ids(self, X) -> list[np.ndarray]:
        """Beam-search outputs of every source, as internal target ids without ``<eos>``."""
        self._check_params()
        sources = self._encode(X, "source")
        module, device = self._inference()
        backbone = module.backbone
        banned = [PAD, BOS] if self.target_vocabulary_ is not None else [PAD, BOS, UNK]
        order = np.argsort([len(s) for s in sources], kind="stable")  # little padding per batch
        outputs: list = [None] * len(sources)
        was_training = module.training
        module.eval()
        try:
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                source, lengths = self._source_batch([sources[i] for i in rows])
                source_t = torch.as_tensor(source, device=device)
                mask = lengths_to_mask(torch.as_tensor(lengths, device=device), source.shape[1])
                # the coverage penalty counts the source tokens, not the <eos> appended to them
                coverage_mask = lengths_to_mask(
                    torch.as_tensor(lengths - 1, device=device), source.shape[1]
                )
                hypotheses = beam_search(
                    backbone,
                    source_t,
                    mask,
                    beam_size=self.beam_size,
                    max_lengths=self._max_lengths(lengths - 1),
                    bos=BOS,
                    eos=EOS,
                    alpha=float(self.length_penalty),
                    beta=float(self.coverage_penalty),
                    banned_tokens=banned,
                    coverage_mask=coverage_mask,
                )
                for row, tokens in zip(rows, hypotheses.tokens, strict=True):
                    outputs[row] = tokens.cpu().numpy()
        finally:
            module.train(was_training)
        return outputs

    def _to_user(self, ids: np.ndarray):
        if self.target_vocabulary_ is not None:
            return self.target_vocabulary_.decode(ids)
        return ids[ids >= _N_SPECIAL] - _N_SPECIAL

    def predict(self, X) -> np.ndarray:
        """Translate every source by beam search.

        Parameters
        ----------
        X : list of str, or list of integer token sequences
            Sources, in the form given to :meth:`fit`.

        Returns
        -------
        y_pred : ndarray of shape (n,), dtype object
            A string per source (models fitted on texts), or an int64 array of token ids.
        """
        outputs = np.empty(len(X) if hasattr(X, "__len__") else 0, dtype=object)
        for row, ids in enumerate(self._decode_ids(X)):
            outputs[row] = self._to_user(ids)
        return outputs

    def score_sequences(self, X, y, *, normalize: bool = False) -> np.ndarray:
        """Log-likelihood ``log P(y | X)`` of every pair under the model.

        Parameters
        ----------
        X : list of str, or list of integer token sequences
            Sources, in the form given to :meth:`fit`.
        y : list of str, or list of integer token sequences
            Targets, in the form given to :meth:`fit`.
        normalize : bool, default=False
            Divide each log-likelihood by its number of scored tokens (``<eos>`` included).

        Returns
        -------
        log_likelihood : ndarray of shape (n,)
            In nats; ``<eos>`` is scored too.
        """
        inputs, targets = self._pairs(X, y)
        module, device = self._inference()
        exact = device.type == "cpu"
        totals = np.empty(len(targets))
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad():
                for start in range(0, len(targets), self.batch_size):
                    batch = {
                        k: torch.as_tensor(v[start : start + self.batch_size], device=device)
                        for k, v in inputs.items()
                    }
                    logits = module(**batch)  # (b, T, V)
                    if exact:
                        logits = logits.double()
                    log_proba = torch.log_softmax(logits, dim=-1)
                    target = torch.as_tensor(
                        targets[start : start + self.batch_size], device=device
                    )
                    target = target[:, : logits.shape[1]]
                    real = target != _IGNORE
                    picked = log_proba.gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
                    totals[start : start + len(target)] = (
                        (picked * real).sum(dim=1).to("cpu", torch.float64).numpy()
                    )
        finally:
            module.train(was_training)
        if normalize:
            totals = totals / inputs["target_lengths"]  # tokens + <eos>
        return totals

    def predict_proba(self, X, y) -> np.ndarray:
        """Probability ``P(y | X)`` the model gives each target: ``exp(score_sequences(X, y))``.

        Parameters
        ----------
        X : list of str, or list of integer token sequences
            Sources, in the form given to :meth:`fit`.
        y : list of str, or list of integer token sequences
            Targets, in the form given to :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n,)
        """
        return np.exp(self.score_sequences(X, y))

    # ------------------------------------------------------------------ metrics
    def _reference_strings(self, y) -> list[str]:
        if _is_texts(y):
            return list(y)
        return [" ".join(str(int(t)) for t in seq) for seq in _integer_sequences(y, "y")]

    def score(self, X, y) -> float:
        """Corpus BLEU of ``predict(X)`` against ``y``, by sacrebleu (0-100, higher is better).

        Parameters
        ----------
        X : list of str, or list of integer token sequences
            Sources, in the form given to :meth:`fit`.
        y : list of str, or list of integer token sequences
            One reference per source; token ids are joined with spaces.

        Returns
        -------
        bleu : float
            ``sacrebleu.corpus_bleu(predictions, [references]).score``.
        """
        try:
            import sacrebleu
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError(
                'score (BLEU) needs the sacrebleu package: pip install "seqestim[text]"'
            ) from None
        _check_sequences(y, "y")
        predictions = self.predict(X)
        if len(predictions) != len(y):
            raise ValueError(f"X and y must hold as many sequences; got {len(X)} and {len(y)}.")
        hypotheses = [
            p if isinstance(p, str) else " ".join(str(int(t)) for t in p) for p in predictions
        ]
        return float(sacrebleu.corpus_bleu(hypotheses, [self._reference_strings(y)]).score)

    def exact_match(self, X, y) -> float:
        """Share of sources whose output equals the reference token for token.

        Parameters
        ----------
        X : list of str, or list of integer token sequences
            Sources, in the form given to :meth:`fit`.
        y : list of str, or list of integer token sequences
            The references.

        Returns
        -------
        accuracy : float
            In [0, 1].
        """
        references = self._encode(y, "target")
        outputs = self._decode_ids(X)
        if len(outputs) != len(references):
            raise ValueError(f"X and y must hold as many sequences; got {len(X)} and {len(y)}.")
        return float(
            np.mean([np.array_equal(o, r) for o, r in zip(outputs, references, strict=True)])
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
