"""The language-model task: token sequences in, next-token distributions out.

A language model is fitted on texts (``tokenizer="char" | "word" | "wordpiece"``, the vocabulary
learned from the training texts) or on integer token sequences. Every sequence is modelled as
``<bos> tokens <eos>``: the network reads ``<bos> t_1 ... t_n`` and is trained to predict
``t_1 ... t_n <eos>``, so the end of a sequence is predicted too.

- ``score(X)`` is minus the mean cross-entropy per predicted token, in nats (``<eos>``
  included), so that higher is better and ``GridSearchCV`` works; ``perplexity(X)`` is
  ``exp(-score(X))``.
- ``predict_proba(X)`` gives, for every sequence, the distribution of the token that follows it.
- ``generate(prompt, max_new_tokens, ...)`` samples a continuation.

Long sequences are cut into contiguous chunks of ``context_length`` predicted tokens (each
chunk reads the token before it), so training and scoring cost grow linearly with the length of
the texts. A chunk does not see the chunks before it: the model's context is at most
``context_length`` tokens.

Integer token sequences: the ids ``0..V-1`` given by the user are shifted past the four special
tokens inside the model, so that every id remains available; the columns of
:meth:`~LanguageModel.predict_proba` are named by ``tokens_`` (the four specials, then the
user's ids).

Any backbone serves the task when it is causal: one that reads tokens natively
(``inputs=("tokens",)`` in the registry) directly, and a float backbone behind a learned
embedding of width ``d_embedding``.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from seqestim.estimators._base import SequenceEstimator, transactional
from seqestim.estimators._tokens import (
    BOS,
    EOS,
    PAD,
    SPECIAL_TOKENS,
    TOKENIZERS,
    UNK,
    Vocabulary,
    pad_token_sequences,
)
from seqestim.estimators._training import TrainingParams
from seqestim.estimators.classifier import StepCrossEntropyLoss
from seqestim.nn._params import param, parameter_group
from seqestim.nn.heads import EmbeddedBackbone, LanguageModelNet
from seqestim.registry import get_spec

__all__ = ["LanguageModel", "LanguageModelParams"]

_IGNORE = -100  # targets of padded steps: ignored by the loss


@parameter_group
class LanguageModelParams:
    """How a language model reads its texts."""

    tokenizer: str = param(
        "char",
        "How texts are split into tokens; ignored for integer token sequences.",
        kind='{"char", "word", "wordpiece"}',
    )
    max_vocabulary: int | None = param(
        None,
        "Keep at most this many tokens, the most frequent first (the target size for\n"
        '"wordpiece", 8000 when None); the others become ``<unk>``.',
        kind="int or None",
    )
    context_length: int = param(
        128,
        "Predicted tokens per training chunk: longer sequences are cut into contiguous chunks\n"
        "of this length, and the model never reads further back.",
    )
    d_embedding: int = param(
        64, "Width of the token embeddings in front of a backbone that reads float features."
    )


class LanguageModel(LanguageModelParams, TrainingParams, SequenceEstimator):
    """Language-model task: next-token prediction over texts or token sequences.

    See the module docstring of :mod:`seqestim.estimators.language_model`.

    Attributes
    ----------
    vocabulary_ : Vocabulary or None
        The vocabulary fitted on the training texts (None for integer token sequences).
    vocab_size_ : int
        Number of token ids the model scores, the four special tokens included.
    tokens_ : ndarray of shape (vocab_size_,)
        The token of every id: the columns of :meth:`predict_proba`.
    """

    _task = "language_model"
    _fitted_attributes = ("vocabulary_", "vocab_size_", "tokens_")

    # ------------------------------------------------------------------ network
    def _criterion(self):
        return StepCrossEntropyLoss

    def _build_module(self) -> torch.nn.Module:
        spec = get_spec(self._backbone)
        if "tokens" in spec.inputs:
            backbone = self._make_backbone(self.vocab_size_)
        else:
            width = self.d_embedding
            backbone = EmbeddedBackbone(self._make_backbone(width), self.vocab_size_, width)
        causal = getattr(backbone, "causal", spec.causal)
        if not causal or getattr(backbone, "bidirectional", False):
            raise ValueError(
                f"{type(self).__name__} needs a causal backbone (a language model may only read "
                "the tokens before the one it predicts); these parameters make it non-causal."
            )
        return LanguageModelNet(backbone, self.vocab_size_)

    # ------------------------------------------------------------------ encoding
    def _check_params(self) -> None:
        if self.tokenizer not in TOKENIZERS:
            raise ValueError(f"tokenizer must be one of {TOKENIZERS}; got {self.tokenizer!r}.")
        for name in ("context_length", "d_embedding"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")

    def _fit_vocabulary(self, X) -> None:
        if isinstance(X, str):
            raise TypeError("X must be a list of texts or token sequences, not a single string.")
        if X is None or len(X) == 0:
            raise ValueError("X is empty; a language model needs at least one sequence.")
        if all(isinstance(x, str) for x in X):
            self.vocabulary_ = Vocabulary.fit(X, self.tokenizer, max_size=self.max_vocabulary)
            self.vocab_size_ = len(self.vocabulary_)
            self.tokens_ = np.asarray(self.vocabulary_.tokens, dtype=object)
            return
        ids, _ = pad_token_sequences(X)
        n_user = int(ids.max()) + 1
        self.vocabulary_ = None
        self.vocab_size_ = n_user + len(SPECIAL_TOKENS)
        self.tokens_ = np.asarray([*SPECIAL_TOKENS, *range(n_user)], dtype=object)

    def _sequences(self, X) -> list[np.ndarray]:
        """Every sequence of ``X`` as internal ids, without ``<bos>``/``<eos>``."""
        if isinstance(X, str):
            raise TypeError("X must be a list of texts or token sequences, not a single string.")
        texts = len(X) > 0 and all(isinstance(x, str) for x in X)
        if texts and self.vocabulary_ is None:
            raise TypeError(f"{type(self).__name__} was fitted on token ids; pass token ids.")
        if texts:
            return [self.vocabulary_.encode(text) for text in X]
        if self.vocabulary_ is not None:
            raise TypeError(f"{type(self).__name__} was fitted on texts; pass texts.")
        ids, lengths = pad_token_sequences(X, vocab_size=self.vocab_size_ - len(SPECIAL_TOKENS))
        return [row[:n] + len(SPECIAL_TOKENS) for row, n in zip(ids, lengths, strict=True)]

    def _chunks(self, X) -> tuple[dict, np.ndarray]:
        """Training/scoring examples: inputs ``<bos> t_1..`` and targets ``t_1 .. <eos>``.

        Each sequence becomes contiguous chunks of at most ``context_length`` targets; chunk
        ``k`` reads the token right before its first target.
        """
        C = self.context_length
        inputs, targets = [], []
        for sequence in self._sequences(X):
            full = np.concatenate([[BOS], sequence, [EOS]])  # (n + 2,)
            for start in range(0, len(full) - 1, C):
                piece = full[start : start + C + 1]
                inputs.append(piece[:-1])
                targets.append(piece[1:])
        lengths = np.array([len(x) for x in inputs], dtype=np.int64)
        padded_inputs = np.full((len(inputs), int(lengths.max())), PAD, dtype=np.int64)
        padded_targets = np.full(padded_inputs.shape, _IGNORE, dtype=np.int64)
        for row, (x, y) in enumerate(zip(inputs, targets, strict=True)):
            padded_inputs[row, : len(x)] = x
            padded_targets[row, : len(y)] = y
        return {"x": padded_inputs, "lengths": lengths}, padded_targets

    # ------------------------------------------------------------------ fit / score
    @transactional
    def fit(self, X, y=None):
        """Fit the language model.

        Parameters
        ----------
        X : list of str, or list/array of integer token sequences
            The training sequences.
        y : None
            Ignored; present for sklearn's API.

        Returns
        -------
        self : object
            The fitted language model.
        """
        self._check_params()
        if not (self.warm_start and hasattr(self, "vocab_size_")):
            self._fit_vocabulary(X)
        inputs, targets = self._chunks(X)
        self._fit_network(inputs, targets)
        return self

    def _token_log_likelihoods(self, X) -> np.ndarray:
        """Log-probability of every predicted token of ``X`` (all chunks, ``<eos>`` included)."""
        check_is_fitted(self, "net_")
        inputs, targets = self._chunks(X)
        logits = self._network_outputs(inputs)  # (N, L, V)
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_proba = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        real = targets != _IGNORE
        return np.take_along_axis(log_proba, np.where(real, targets, 0)[..., None], -1)[..., 0][
            real
        ]

    def score(self, X, y=None):
        """Minus the mean cross-entropy per predicted token, in nats (higher is better).

        Parameters
        ----------
        X : list of str, or list/array of integer token sequences
            Sequences in the form given to :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        score : float
            ``mean(log p(token | the tokens before it))`` over every token and ``<eos>``.
        """
        return float(self._token_log_likelihoods(X).mean())

    def perplexity(self, X) -> float:
        """``exp`` of the mean cross-entropy per token: ``exp(-score(X))``."""
        return float(np.exp(-self.score(X)))

    # ------------------------------------------------------------------ predictions
    def _context(self, sequence: np.ndarray) -> np.ndarray:
        """``<bos>`` + the sequence, keeping the last ``context_length`` tokens."""
        return np.concatenate([[BOS], sequence])[-self.context_length :]

    def _next_distributions(self, contexts: list[np.ndarray]) -> np.ndarray:
        lengths = np.array([len(c) for c in contexts], dtype=np.int64)
        padded = np.full((len(contexts), int(lengths.max())), PAD, dtype=np.int64)
        for row, context in enumerate(contexts):
            padded[row, : len(context)] = context
        logits = self._network_outputs({"x": padded, "lengths": lengths})  # (n, L, V)
        last = logits[np.arange(len(contexts)), lengths - 1]  # (n, V)
        shifted = last - last.max(axis=-1, keepdims=True)
        proba = np.exp(shifted)
        return proba / proba.sum(axis=-1, keepdims=True)

    def predict_proba(self, X) -> np.ndarray:
        """Distribution of the token that follows each sequence.

        Parameters
        ----------
        X : list of str, or list/array of integer token sequences
            Prefixes, in the form given to :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n, vocab_size_)
            Columns are named by ``tokens_``.
        """
        check_is_fitted(self, "net_")
        return self._next_distributions([self._context(s) for s in self._sequences(X)])

    def generate(
        self,
        prompt="",
        max_new_tokens: int = 100,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        random_state=None,
    ):
        """Sample a continuation of ``prompt``.

        Parameters
        ----------
        prompt : str or sequence of int, default=""
            Text (for a model fitted on texts) or token ids.
        max_new_tokens : int, default=100
            Most tokens to add; sampling stops earlier at ``<eos>``.
        temperature : float, default=1.0
            Divides the logits; below 1 is more conservative. ``0`` picks the most probable
            token at every step.
        top_k : int, optional
            Sample among the ``top_k`` most probable tokens only.
        random_state : int, RandomState instance or None, default=None
            Seeds the sampling (the same seed gives the same text).

        Returns
        -------
        continuation : str or ndarray of int
            The generated tokens only, decoded like the prompt.
        """
        check_is_fitted(self, "net_")
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0; got {temperature!r}.")
        if top_k is not None and top_k < 1:
            raise ValueError(f"top_k must be None or >= 1; got {top_k!r}.")
        rng = check_random_state(random_state)
        is_text = isinstance(prompt, str)
        if is_text:
            sequence = self._sequences([prompt])[0] if prompt else np.array([], dtype=np.int64)
        else:
            prompt = np.asarray(prompt, dtype=np.int64)
            sequence = self._sequences([prompt])[0] if prompt.size else prompt
        generated = []
        for _ in range(int(max_new_tokens)):
            proba = self._next_distributions([self._context(sequence)])[0]
            proba[[PAD, UNK, BOS]] = 0.0  # never generated
            if top_k is not None:
                proba[np.argsort(proba)[: -int(top_k)]] = 0.0
            if temperature == 0:
                token = int(np.argmax(proba))
            else:
                weights = np.power(proba, 1.0 / temperature)
                token = int(rng.choice(len(weights), p=weights / weights.sum()))
            if token == EOS:
                break
            generated.append(token)
            sequence = np.append(sequence, token)
        ids = np.asarray(generated, dtype=np.int64)
        if self.vocabulary_ is not None:
            return self.vocabulary_.decode(ids)
        return ids - len(SPECIAL_TOKENS)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
