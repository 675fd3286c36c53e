"""The language-model task: token sequences in, next-token distributions out.

A language model is fitted on texts (``tokenizer="char" | "word" | "wordpiece"``, the vocabulary
learned from the training texts) or on integer token sequences. Every sequence is modelled as
``<bos> tokens <eos>``: the network reads ``<bos> t_1 ... t_n`` and is trained to predict
``t_1 ... t_n <eos>``, so the end of a sequence is predicted too.

- ``score(X)`` is minus the mean cross-entropy per predicted token, in nats (``<eos>``
  included), so that higher is better and ``GridSearchCV`` works; ``perplexity(X)`` is
  ``exp(-score(X))``. Every sequence is scored on its own, from its ``<bos>``.
- ``predict_proba(X)`` gives, for every sequence, the distribution of the token that follows it.
- ``generate(prompt, max_new_tokens, ...)`` samples a continuation.

Long sequences: chunks and carried state
----------------------------------------
Sequences are cut into contiguous chunks of ``context_length`` predicted tokens (each chunk
reads the token right before its first target), so training and scoring cost grow linearly
with the length of the texts. What a chunk knows of the chunks before it depends on the
backbone:

- A backbone that can continue a sequence from a state (``carries_state`` in the registry: the
  recurrent networks, S5, the Block-Recurrent Transformer, the gated convolutional network,
  whose state is its receptive field) carries its state from one chunk to the next when
  ``carry_state=True`` (the default). Training is truncated backpropagation through time:
  the gradient flows within a chunk and the state is detached between chunks. The training
  chunks are laid out as ``batch_size`` parallel streams (the documents one after another,
  cut into ``batch_size`` pieces of equal length), so that row ``b`` of a batch continues row
  ``b`` of the batch before; batches then come in order rather than shuffled. A stream that
  starts in the middle of a document starts from the initial state, as in truncated
  backpropagation through time on one long text. Scoring and prediction never cut a sequence:
  the whole sequence is read with the state carried, so scores equal those of one forward
  pass over the whole sequence, and ``generate`` continues from the state in step mode.
- Any other backbone (or ``carry_state=False``) reads each chunk on its own: its context is at
  most ``context_length`` tokens. Training chunks are shuffled.

With ``early_stopping``, whole sequences are held out for validation (a random
``validation_fraction`` of them; with a single sequence, its last ``validation_fraction`` of
tokens), so that no chunk of a validation sequence is trained on.

Integer token sequences: the ids ``0..V-1`` given by the user are shifted past the four special
tokens inside the model, so that every id remains available; the columns of
:meth:`~LanguageModel.predict_proba` are named by ``tokens_`` (the four specials, then the
user's ids).

Any backbone serves the task when it is causal: one that reads tokens natively
(``inputs=("tokens",)`` in the registry) directly, and a float backbone behind a learned
embedding of width ``d_embedding``. The output layer is a linear softmax, or an adaptive
softmax (Grave et al. 2017) for large vocabularies (``adaptive_softmax``); a named estimator
may supply another through ``_output_layer``.
"""

from __future__ import annotations

import dataclasses
import math
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
from seqestim.estimators._training import TrainingParams, draw_seed, network_outputs
from seqestim.nn._params import param, parameter_group
from seqestim.nn.heads import (
    IGNORE_INDEX,
    AdaptiveSoftmaxOutput,
    EmbeddedBackbone,
    LanguageModelNet,
    SoftmaxOutput,
)
from seqestim.registry import get_spec

__all__ = ["LanguageModel", "LanguageModelParams", "TokenNLLLoss"]

#: Vocabulary size above which ``adaptive_softmax="auto"`` uses an adaptive softmax.
_AUTO_ADAPTIVE_MIN_VOCABULARY = 10_000
#: Cluster boundaries of ``adaptive_softmax="auto"``, those below the vocabulary size.
_AUTO_CUTOFFS = (2_000, 10_000, 50_000, 200_000)


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
        """
        Predicted tokens per chunk: sequences are cut into contiguous chunks of this length.
        A backbone that carries its state reads on across chunks (see ``carry_state``); any
        other never reads further back than this.
        """,
    )
    carry_state: bool = param(
        True,
        """
        Carry the backbone's state from one chunk to the next when it can (truncated
        backpropagation through time in training: no gradient across chunks); False reads each
        chunk on its own.
        """,
    )
    adaptive_softmax: str | list | None = param(
        None,
        """
        Output layer: None for a full softmax; increasing token ids where the clusters of an
        adaptive softmax start (ids are ordered by frequency in fitted vocabularies); "auto"
        for an adaptive softmax with clusters at 2000, 10000, 50000, 200000 when the vocabulary
        exceeds 10000 tokens, and a full softmax otherwise.
        """,
        kind='None, "auto" or list of int',
    )
    d_embedding: int = param(
        64, "Width of the token embeddings in front of a backbone that reads float features."
    )


class TokenNLLLoss(torch.nn.Module):
    """Mean negative log-likelihood of the scored targets.

    Reads the ``(B, L)`` target log-probabilities that :class:`~seqestim.nn.heads.
    LanguageModelNet` returns; steps whose target is ``-100`` (padding) do not count.
    """

    def forward(self, log_likelihoods: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """``-mean(log p(target))`` over the real targets of ``(B, L)`` arrays."""
        real = targets != IGNORE_INDEX
        return -log_likelihoods[real].sum() / real.sum().clamp(min=1)


@dataclasses.dataclass
class _Rows:
    """Chunks laid out as network inputs, with where each row comes from."""

    x: np.ndarray  # (N, C) int64 inputs, padded with PAD
    lengths: np.ndarray  # (N,) real steps of each row (>= 1)
    targets: np.ndarray | None  # (N, C) int64 targets, IGNORE_INDEX at padding
    carry: np.ndarray | None  # (N,) bool: continues the state of row N - n_streams
    document: np.ndarray  # (N,) index of the sequence, -1 for filler rows
    n_streams: int  # rows per batch when the state is carried

    def inputs(self) -> dict:
        inputs = {"x": self.x, "lengths": self.lengths}
        if self.targets is not None:
            inputs["targets"] = self.targets
        if self.carry is not None:
            inputs["carry"] = self.carry
        return inputs


# a chunk: (inputs, targets or None, first chunk of its document, document index)
_Chunk = tuple


def _document_chunks(sequence: np.ndarray, C: int, index: int, scored: bool) -> list[_Chunk]:
    """The chunks of one sequence: ``<bos> s <eos>`` when ``scored``, else the prefix ``<bos> s``.

    A scored chunk predicts up to ``C`` targets and reads the token before each; a prefix is cut
    into chunks of ``C`` tokens to read.
    """
    if scored:
        full = np.concatenate([[BOS], sequence, [EOS]]).astype(np.int64)  # (n + 2,)
        return [
            (full[start : start + C], full[start + 1 : start + C + 1], start == 0, index)
            for start in range(0, len(full) - 1, C)
        ]
    full = np.concatenate([[BOS], sequence]).astype(np.int64)
    return [(full[start : start + C], None, start == 0, index) for start in range(0, len(full), C)]


_FILLER: _Chunk = (np.array([BOS], dtype=np.int64), None, True, -1)


def _pack(rows: list[_Chunk], C: int, scored: bool, carry, n_streams: int) -> _Rows:
    """Pad a list of chunks (row order) into arrays."""
    N = len(rows)
    x = np.full((N, C), PAD, dtype=np.int64)
    targets = np.full((N, C), IGNORE_INDEX, dtype=np.int64) if scored else None
    lengths = np.empty(N, dtype=np.int64)
    document = np.empty(N, dtype=np.int64)
    for row, (inputs, target, _, index) in enumerate(rows):
        x[row, : len(inputs)] = inputs
        lengths[row] = len(inputs)
        document[row] = index
        if scored and target is not None:
            targets[row, : len(target)] = target
    return _Rows(x, lengths, targets, carry, document, n_streams)


def _independent_rows(sequences, C: int, scored: bool) -> _Rows:
    """Every chunk a row of its own, in order (no state crosses rows)."""
    rows = [c for i, s in enumerate(sequences) for c in _document_chunks(s, C, i, scored)]
    return _pack(rows, C, scored, None, 1)


def _stream_rows(sequences, C: int, scored: bool, n_streams: int, cut: bool) -> _Rows:
    """Chunks as ``n_streams`` parallel streams.

    Row ``k * n_streams + b`` is chunk ``k`` of stream ``b`` and continues the state of row
    ``(k - 1) * n_streams + b``.

    ``cut=True`` (training): the chunks of all sequences, one after another, are cut into
    ``n_streams`` pieces of equal length; a piece that starts inside a sequence starts from the
    initial state. ``cut=False`` (scoring): whole sequences are packed into the streams, the
    longest first into the shortest stream, so that every sequence is read from its start.
    """
    chunks = [_document_chunks(s, C, i, scored) for i, s in enumerate(sequences)]
    if cut:
        flat = [c for document in chunks for c in document]
        K = math.ceil(len(flat) / n_streams)
        streams = [flat[b * K : (b + 1) * K] for b in range(n_streams)]
        fresh = [
            [k == 0 or chunk[2] for k, chunk in enumerate(stream)] for stream in streams
        ]  # the first chunk of a stream, and of a sequence, starts from the initial state
    else:
        streams = [[] for _ in range(n_streams)]
        for document in sorted(chunks, key=len, reverse=True):  # stable: ties keep their order
            shortest = min(range(n_streams), key=lambda b: len(streams[b]))
            streams[shortest].extend(document)
        fresh = [[chunk[2] for chunk in stream] for stream in streams]
        K = max(len(stream) for stream in streams)
    rows, carry = [], []
    for k in range(K):
        for b in range(n_streams):
            if k < len(streams[b]):
                rows.append(streams[b][k])
                carry.append(not fresh[b][k])
            else:  # a stream that ran out: one <bos> scored nowhere, never continued
                rows.append(_FILLER)
                carry.append(False)
    return _pack(rows, C, scored, np.asarray(carry, dtype=bool), n_streams)


class _LeadingRowsSplit:
    """skorch train/validation split: the first ``n_train`` rows train, the rest validate."""

    def __init__(self, n_train: int):
        self.n_train = int(n_train)

    def __call__(self, dataset, y=None, **kwargs):
        rows = range(len(dataset))
        return (
            torch.utils.data.Subset(dataset, rows[: self.n_train]),
            torch.utils.data.Subset(dataset, rows[self.n_train :]),
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
    carries_state_ : bool
        Whether the backbone's state is carried across chunks (``carry_state`` and a backbone
        that can), so that the model reads whole sequences.
    """

    _task = "language_model"
    _fitted_attributes = ("vocabulary_", "vocab_size_", "tokens_", "carries_state_")

    # ------------------------------------------------------------------ network
    def _criterion(self):
        return TokenNLLLoss

    def _token_backbone(self) -> torch.nn.Module:
        """A new backbone in token form, checked to be causal."""
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
        return backbone

    def _output_layer(self, d_features: int) -> torch.nn.Module:
        """The layer that turns features into next-token log-probabilities.

        A linear softmax, or an adaptive softmax as ``adaptive_softmax`` asks. Named estimators
        may override it; the layer must have ``log_prob(h)`` and ``target_log_prob(h, target)``
        (see :class:`~seqestim.nn.heads.SoftmaxOutput`).
        """
        cutoffs = self._cutoffs()
        if cutoffs is None:
            return SoftmaxOutput(d_features, self.vocab_size_)
        return AdaptiveSoftmaxOutput(d_features, self.vocab_size_, cutoffs)

    def _cutoffs(self) -> list[int] | None:
        value = self.adaptive_softmax
        if value is None:
            return None
        if isinstance(value, str):
            if value != "auto":
                raise ValueError(
                    f'adaptive_softmax must be None, "auto" or a list of ints; got {value!r}.'
                )
            if self.vocab_size_ <= _AUTO_ADAPTIVE_MIN_VOCABULARY:
                return None
            return [c for c in _AUTO_CUTOFFS if c < self.vocab_size_ - 1]
        try:
            return [int(c) for c in value]
        except (TypeError, ValueError):
            raise ValueError(
                f'adaptive_softmax must be None, "auto" or a list of ints; got {value!r}.'
            ) from None

    def _build_module(self) -> torch.nn.Module:
        backbone = self._token_backbone()
        return LanguageModelNet(backbone, self.vocab_size_, self._output_layer(backbone.d_output))

    def _probe_carrying(self) -> bool:
        """Whether the state will be carried; builds a throwaway backbone to check the params."""
        spec = get_spec(self._backbone)
        with torch.random.fork_rng(devices=[]):  # building draws weights: no global side effect
            backbone = self._token_backbone()
        return bool(
            self.carry_state and spec.carries_state and getattr(backbone, "carries_state", True)
        )

    def _shuffle_batches(self) -> bool:
        return not self.carries_state_  # carried state needs the streams' order

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
        if X is None or len(X) == 0:
            raise ValueError("X is empty; at least one sequence is needed.")
        texts = all(isinstance(x, str) for x in X)
        if texts and self.vocabulary_ is None:
            raise TypeError(f"{type(self).__name__} was fitted on token ids; pass token ids.")
        if texts:
            return [self.vocabulary_.encode(text) for text in X]
        if self.vocabulary_ is not None:
            raise TypeError(f"{type(self).__name__} was fitted on texts; pass texts.")
        ids, lengths = pad_token_sequences(X, vocab_size=self.vocab_size_ - len(SPECIAL_TOKENS))
        return [row[:n] + len(SPECIAL_TOKENS) for row, n in zip(ids, lengths, strict=True)]

    def _rows(self, sequences, *, scored: bool = True, training: bool = False) -> _Rows:
        """The chunks of ``sequences`` laid out for the network (see the module docstring)."""
        C = int(self.context_length)
        if not self.carries_state_:
            return _independent_rows(sequences, C, scored)
        if training:
            return _stream_rows(sequences, C, scored, int(self.batch_size), cut=True)
        n_streams = min(int(self.batch_size), len(sequences))
        return _stream_rows(sequences, C, scored, n_streams, cut=False)

    def _validation_split(self, sequences) -> tuple[list, list]:
        """Training and held-out sequences for early stopping (see the module docstring)."""
        rng = np.random.RandomState(draw_seed(self.random_state))
        n = len(sequences)
        if n >= 2:
            n_valid = min(n - 1, max(1, round(self.validation_fraction * n)))
            held = set(rng.permutation(n)[:n_valid].tolist())
            return (
                [s for i, s in enumerate(sequences) if i not in held],
                [s for i, s in enumerate(sequences) if i in held],
            )
        (sequence,) = sequences
        cut = len(sequence) - max(1, round(self.validation_fraction * len(sequence)))
        if cut < 1:
            raise ValueError(
                "early_stopping needs a validation split, but X holds a single sequence of "
                f"{len(sequence)} token(s); pass more data or early_stopping=False."
            )
        return [sequence[:cut]], [sequence[cut:]]

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
        self._cutoffs()  # a bad adaptive_softmax fails before training
        sequences = self._sequences(X)
        self.carries_state_ = self._probe_carrying()
        if self.carries_state_ and getattr(self, "privacy", None) is not None:
            raise ValueError(
                "privacy draws the training chunks at random (Poisson sampling), so the state "
                "cannot be carried from one chunk to the next; pass carry_state=False."
            )
        if self.early_stopping and not (self.warm_start and hasattr(self, "net_")):
            train, valid = self._validation_split(sequences)
            train_rows = self._rows(train, training=True)
            valid_rows = self._rows(valid, training=True)
            inputs = {
                key: np.concatenate([value, valid_rows.inputs()[key]])
                for key, value in train_rows.inputs().items()
            }
            self._split_at = len(train_rows.x)  # read by _train_split, removed below
        else:
            inputs = self._rows(sequences, training=True).inputs()
        try:
            self._fit_network(inputs, inputs["targets"])
        finally:
            self.__dict__.pop("_split_at", None)
        return self

    def _train_split(self, targets, seed: int):
        if not self.early_stopping:
            return None
        return _LeadingRowsSplit(self._split_at)

    def _outputs(self, rows: _Rows) -> np.ndarray:
        """Network outputs for laid-out rows, in row order (float64)."""
        check_is_fitted(self, "net_")
        batch = rows.n_streams if rows.carry is not None else int(self.batch_size)
        return network_outputs(self.net_, rows.inputs(), batch)

    def _token_log_likelihoods(self, X) -> np.ndarray:
        """Log-probability of every predicted token of ``X`` (``<eos>`` included), ``(n_tokens,)``.

        The order is row by row of the laid-out chunks, not the order of ``X``.
        """
        check_is_fitted(self, "net_")
        rows = self._rows(self._sequences(X))
        log_likelihoods = self._outputs(rows)  # (N, C)
        return log_likelihoods[rows.targets != IGNORE_INDEX]

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
        """``exp`` of the mean cross-entropy per token: ``exp(-score(X))``.

        Parameters
        ----------
        X : list of str, or list/array of integer token sequences
            Sequences in the form given to :meth:`fit`.

        Returns
        -------
        perplexity : float
        """
        return float(np.exp(-self.score(X)))

    # ------------------------------------------------------------------ predictions
    def _next_log_probabilities(self, sequences) -> np.ndarray:
        """Log-probabilities of the token after each sequence (read after ``<bos>``), (n, V)."""
        if self.carries_state_:  # the whole prefix, chunk by chunk with the state carried
            rows = self._rows(sequences, scored=False)
            outputs = self._outputs(rows)  # (N, V), one per row
            last = np.zeros(len(sequences), dtype=np.int64)
            for row, document in enumerate(rows.document):
                if document >= 0:
                    last[document] = row  # rows of one sequence come in order
            return outputs[last]
        C = int(self.context_length)
        contexts = [np.concatenate([[BOS], s])[-C:] for s in sequences]  # the last C tokens
        lengths = np.array([len(c) for c in contexts], dtype=np.int64)
        padded = np.full((len(contexts), int(lengths.max())), PAD, dtype=np.int64)
        for row, context in enumerate(contexts):
            padded[row, : len(context)] = context
        return network_outputs(self.net_, {"x": padded, "lengths": lengths}, self.batch_size)

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
        log_proba = self._next_log_probabilities(self._sequences(X))
        proba = np.exp(log_proba - log_proba.max(axis=-1, keepdims=True))
        return proba / proba.sum(axis=-1, keepdims=True)

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

        A model that carries its state reads the prompt once and then adds one token per step
        (step mode); any other rereads its last ``context_length`` tokens for every new token.

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
        if not isinstance(temperature, numbers.Real) or temperature < 0:
            raise ValueError(f"temperature must be >= 0; got {temperature!r}.")
        if top_k is not None and (not isinstance(top_k, numbers.Integral) or top_k < 1):
            raise ValueError(f"top_k must be None or an integer >= 1; got {top_k!r}.")
        if not isinstance(max_new_tokens, numbers.Integral) or max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be an integer >= 0; got {max_new_tokens!r}.")
        rng = check_random_state(random_state)
        if isinstance(prompt, str):
            sequence = self._sequences([prompt])[0] if prompt else np.array([], dtype=np.int64)
        else:
            prompt = np.asarray(prompt, dtype=np.int64)
            sequence = self._sequences([prompt])[0] if prompt.size else prompt

        def draw(log_proba: np.ndarray) -> int:
            proba = np.exp(log_proba - log_proba.max())
            proba[[PAD, UNK, BOS]] = 0.0  # never generated
            if top_k is not None:
                proba[np.argsort(proba)[: -int(top_k)]] = 0.0
            if temperature == 0:
                return int(np.argmax(proba))
            weights = np.power(proba / proba.max(), 1.0 / temperature)
            return int(rng.choice(len(weights), p=weights / weights.sum()))

        generated = []
        if self.carries_state_:
            for token in self._generate_in_steps(sequence, int(max_new_tokens), draw):
                generated.append(token)
        else:
            for _ in range(int(max_new_tokens)):
                token = draw(self._next_log_probabilities([sequence])[0])
                if token == EOS:
                    break
                generated.append(token)
                sequence = np.append(sequence, token)
        ids = np.asarray(generated, dtype=np.int64)
        if self.vocabulary_ is not None:
            return self.vocabulary_.decode(ids)
        return ids - len(SPECIAL_TOKENS)

    def _generate_in_steps(self, sequence: np.ndarray, max_new_tokens: int, draw):
        """Yield sampled tokens: the prompt read once, then one backbone step per token."""
        module = self.module_
        device = next(module.parameters()).device
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad():
                prompt = torch.as_tensor(np.concatenate([[BOS], sequence]), device=device)
                log_proba, state = module.prefill(prompt.unsqueeze(0))  # (1, V)
                for _ in range(max_new_tokens):
                    token = draw(log_proba[0].double().cpu().numpy())
                    if token == EOS:
                        return
                    yield token
                    step = torch.tensor([token], device=device)
                    log_proba, state = module.step(step, state)
        finally:
            module.train(was_training)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
