r"""Token inputs: vocabularies fitted on training texts, and padded batches of token ids.

Token tasks (language models, translators, question answering, token classifiers) accept either
texts, which a :class:`Vocabulary` turns into token ids, or integer token sequences given
directly. Both become one right-padded ``int64`` array and the lengths, the token form of the
backbone contract (ARCHITECTURE.md, "Backbones").

Ids ``0..3`` are always the special tokens ``<pad>``, ``<unk>``, ``<bos>`` and ``<eos>``
(:data:`PAD`, :data:`UNK`, :data:`BOS`, :data:`EOS`); tokens unseen at fit time map to
``<unk>``. Three tokenizers:

- ``"char"``: every character is a token;
- ``"word"``: words and single punctuation marks (``\w+|[^\w\s]``); decoding joins them with
  spaces;
- ``"wordpiece"``: subwords learned on the training texts by HuggingFace's ``tokenizers``
  package (the ``text`` extra), as in GNMT and BERT.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import re

import numpy as np

__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "SPECIAL_TOKENS",
    "TOKENIZERS",
    "UNK",
    "Vocabulary",
    "pad_token_sequences",
]

SPECIAL_TOKENS = ("<pad>", "<unk>", "<bos>", "<eos>")
PAD, UNK, BOS, EOS = range(4)
TOKENIZERS = ("char", "word", "wordpiece")
_WORD = re.compile(r"\w+|[^\w\s]")


@dataclasses.dataclass
class Vocabulary:
    """A token vocabulary fitted on training texts (see the module docstring).

    Parameters
    ----------
    tokenizer : {"char", "word", "wordpiece"}
        How texts are split into tokens.
    tokens : list of str
        Token of every id; the first four are :data:`SPECIAL_TOKENS`.
    wordpiece : str or None
        The trained ``tokenizers.Tokenizer`` as JSON (``"wordpiece"`` only).
    """

    tokenizer: str
    tokens: list[str]
    wordpiece: str | None = None

    @classmethod
    def fit(
        cls,
        texts,
        tokenizer: str = "char",
        *,
        max_size: int | None = None,
        min_frequency: int = 1,
    ) -> Vocabulary:
        """Build the vocabulary of ``texts``.

        Parameters
        ----------
        texts : iterable of str
            The training texts.
        tokenizer : {"char", "word", "wordpiece"}, default="char"
            How texts are split.
        max_size : int, optional
            Keep at most this many tokens (specials included), the most frequent first;
            the target vocabulary size of ``"wordpiece"`` (default 8000).
        min_frequency : int, default=1
            Drop tokens seen fewer times.

        Returns
        -------
        vocabulary : Vocabulary
        """
        texts = _check_texts(texts)
        if tokenizer not in TOKENIZERS:
            raise ValueError(f"tokenizer must be one of {TOKENIZERS}; got {tokenizer!r}.")
        if max_size is not None and max_size <= len(SPECIAL_TOKENS):
            raise ValueError(f"max_size must exceed {len(SPECIAL_TOKENS)}; got {max_size}.")
        if tokenizer == "wordpiece":
            return cls._fit_wordpiece(texts, max_size or 8000, min_frequency)
        counts = collections.Counter(token for text in texts for token in _split(text, tokenizer))
        # most frequent first, ties in first-seen order: deterministic
        ranked = [t for t, n in counts.most_common() if n >= min_frequency]
        if max_size is not None:
            ranked = ranked[: max_size - len(SPECIAL_TOKENS)]
        return cls(tokenizer, [*SPECIAL_TOKENS, *ranked])

    @classmethod
    def _fit_wordpiece(cls, texts, size: int, min_frequency: int) -> Vocabulary:
        try:
            from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError(
                'tokenizer="wordpiece" needs the tokenizers package: pip install "seqestim[text]"'
            ) from None
        model = Tokenizer(models.WordPiece(unk_token=SPECIAL_TOKENS[UNK]))
        model.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        model.decoder = decoders.WordPiece()
        trainer = trainers.WordPieceTrainer(
            vocab_size=size,
            min_frequency=min_frequency,
            special_tokens=list(SPECIAL_TOKENS),
            show_progress=False,
        )
        model.train_from_iterator(texts, trainer=trainer)
        vocab = model.get_vocab()  # token -> id, the specials at 0..3
        tokens = [token for token, _ in sorted(vocab.items(), key=lambda item: item[1])]
        return cls("wordpiece", tokens, model.to_str())

    # ------------------------------------------------------------------------------ use
    def __len__(self) -> int:
        return len(self.tokens)

    def _index(self) -> dict[str, int]:
        index = self.__dict__.get("_index_cache")
        if index is None:  # built on first use, not saved (not a dataclass field)
            index = {token: i for i, token in enumerate(self.tokens)}
            self.__dict__["_index_cache"] = index
        return index

    def _wordpiece_model(self):
        model = self.__dict__.get("_model_cache")
        if model is None:
            from tokenizers import Tokenizer

            model = Tokenizer.from_str(self.wordpiece)
            self.__dict__["_model_cache"] = model
        return model

    def split(self, text: str) -> list[str]:
        """The tokens of ``text``."""
        if self.tokenizer == "wordpiece":
            return self._wordpiece_model().encode(text, add_special_tokens=False).tokens
        return _split(text, self.tokenizer)

    def encode(self, text: str) -> np.ndarray:
        """Token ids of ``text`` (unknown tokens -> :data:`UNK`), ``int64``."""
        if self.tokenizer == "wordpiece":
            ids = self._wordpiece_model().encode(text, add_special_tokens=False).ids
            return np.asarray(ids, dtype=np.int64)
        index = self._index()
        return np.asarray([index.get(t, UNK) for t in self.split(text)], dtype=np.int64)

    def decode(self, ids, *, skip_special: bool = True) -> str:
        """The text of token ids (specials dropped unless ``skip_special=False``)."""
        ids = [int(i) for i in np.asarray(ids).ravel()]
        if skip_special:
            ids = [i for i in ids if i >= len(SPECIAL_TOKENS)]
        if self.tokenizer == "wordpiece":
            return self._wordpiece_model().decode(ids, skip_special_tokens=skip_special)
        tokens = [self.tokens[i] if 0 <= i < len(self.tokens) else SPECIAL_TOKENS[UNK] for i in ids]
        return ("" if self.tokenizer == "char" else " ").join(tokens)

    def __getstate__(self):
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def to_json(self) -> str:
        """The vocabulary as a JSON string (see :meth:`from_json`)."""
        return json.dumps(self.__getstate__())

    @classmethod
    def from_json(cls, text: str) -> Vocabulary:
        """Rebuild a vocabulary written by :meth:`to_json`."""
        return cls(**json.loads(text))


def _split(text: str, tokenizer: str) -> list[str]:
    return list(text) if tokenizer == "char" else _WORD.findall(text)


def _check_texts(texts) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("Expected a list of texts, got a single string; wrap it in a list.")
    texts = list(texts)
    if not texts:
        raise ValueError("No texts given; at least one is needed.")
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"Text {position} is a {type(text).__name__}, not a str.")
    return texts


def pad_token_sequences(
    X, vocabulary: Vocabulary | None = None, *, vocab_size: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Token sequences as one right-padded id array and the lengths.

    Parameters
    ----------
    X : list of str, or list/array of integer sequences
        Texts (encoded with ``vocabulary``) or token ids.
    vocabulary : Vocabulary, optional
        Needed for texts.
    vocab_size : int, optional
        Ids must be below it (integer input); ``len(vocabulary)`` for texts.

    Returns
    -------
    ids : ndarray of shape (n, T_max), int64
        Padded with :data:`PAD` (0).
    lengths : ndarray of shape (n,), int64

    Raises
    ------
    TypeError
        For texts without a vocabulary, or sequences that are not integers.
    ValueError
        For empty input, empty sequences, or ids outside ``[0, vocab_size)``.
    """
    if isinstance(X, str):
        raise TypeError("Expected a list of sequences, got a single string; wrap it in a list.")
    if X is None or len(X) == 0:
        raise ValueError("X is empty; at least one sequence is needed.")
    if all(isinstance(x, str) for x in X):
        if vocabulary is None:
            raise TypeError("Texts need a vocabulary; this estimator was fitted on token ids.")
        sequences = [vocabulary.encode(text) for text in X]
        vocab_size = len(vocabulary)
    else:
        sequences = []
        for position, sequence in enumerate(X):
            array = np.asarray(sequence)
            if array.ndim != 1 or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
                raise TypeError(
                    f"Sequence {position} of X must be a 1-D sequence of integer token ids "
                    f"(or every element a text); got dtype {array.dtype}, shape {array.shape}."
                )
            sequences.append(array.astype(np.int64))
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    if (lengths == 0).any():
        raise ValueError(
            f"Sequence {int(np.argmin(lengths))} of X is empty; every one needs a token."
        )
    ids = np.full((len(sequences), int(lengths.max())), PAD, dtype=np.int64)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = sequence
    if ids.min() < 0 or (vocab_size is not None and ids.max() >= vocab_size):
        raise ValueError(
            f"Token ids must lie in [0, {vocab_size}); got ids from {ids.min()} to {ids.max()}."
        )
    return ids, lengths
