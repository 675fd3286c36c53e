"""Text corpora for language models: Python's own source, a Markov source, long-range copying.

Nothing downloads:

- :func:`load_python_source` reads the standard library of the running Python as a corpus,
  one text per source file, with fixed train/valid/test splits by file;
- :func:`make_markov_text` samples texts from a random Markov source and returns its exact
  entropy rate, so that a model's cross-entropy minus the entropy rate is its true gap to the
  best possible model;
- :func:`make_long_copy` makes sequences whose last token repeats the first one, across a
  stretch of noise longer than an attention window.
"""

from __future__ import annotations

import hashlib
import pathlib
import string
import sysconfig
import tokenize

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["load_python_source", "make_long_copy", "make_markov_text"]

SPLITS = ("train", "valid", "test")
#: Parts of the standard library left out of the corpus: tests and their data, third-party
#: packages, generated tables, and the packages that distributions ship separately.
_EXCLUDED_PARTS = frozenset(
    {
        "site-packages",
        "dist-packages",
        "__pycache__",
        "test",
        "tests",
        "idlelib",
        "tkinter",
        "turtledemo",
        "lib2to3",
        "ensurepip",
        "distutils",
        "pydoc_data",
        "encodings",
        "__phello__",
    }
)
#: Characters of :func:`make_markov_text`, in order.
_ALPHABET = string.ascii_lowercase + string.ascii_uppercase + string.digits


def _python_source_files(root: pathlib.Path) -> list[str]:
    """Relative paths (POSIX form) of the corpus files under the standard library ``root``."""
    paths = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root)
        parts = relative.parts
        if _EXCLUDED_PARTS.intersection(parts) or parts[0].startswith("config-"):
            continue
        if relative.name.startswith("_sysconfigdata"):  # written at build time, per platform
            continue
        paths.append(relative.as_posix())
    return sorted(paths)


def _path_hash(path: str) -> int:
    return int.from_bytes(hashlib.sha256(path.encode("utf-8")).digest()[:8], "big")


def _split_of(path: str) -> str:
    """90 % train, 5 % valid, 5 % test, by a hash of the file's path (stable across versions)."""
    bucket = _path_hash(path) % 100
    return "train" if bucket < 90 else "valid" if bucket < 95 else "test"


def load_python_source(
    split: str = "train",
    *,
    max_chars: int | None = None,
    return_paths: bool = False,
):
    r"""Python's own standard-library source as a text corpus, one text per file.

    The files are the ``.py`` files of the running interpreter's standard library
    (``sysconfig.get_paths()["stdlib"]``), without tests, third-party packages
    (``site-packages``), generated tables (``encodings``, ``pydoc_data``,
    ``_sysconfigdata*``), the packages some distributions ship separately (``idlelib``,
    ``tkinter``, ``turtledemo``, ``lib2to3``, ``ensurepip``, ``distutils``) and empty files.
    Each file belongs to one split, by a hash of its path: about 90 % of the files train, 5 %
    validate, 5 % test. Within a split the files come in a fixed pseudo-random order (also by
    that hash), so a prefix of the list (``max_chars``) is a sample of the whole library rather
    than its first letters.

    The corpus is deterministic for a given Python build: the same version installed the same
    way gives the same texts on every machine. Different Python versions differ in their
    files, but a file present in both keeps its split; distributions that patch a module
    (some patch ``site.py`` or ``sysconfig.py``) change that file's text.

    Parameters
    ----------
    split : {"train", "valid", "test"}, default="train"
        Which files.
    max_chars : int, optional
        Keep whole files, in the split's order, skipping any that would take the total past
        this many characters.
    return_paths : bool, default=False
        Also return each text's path relative to the standard library.

    Returns
    -------
    texts : list of str
        The source of each file (newlines normalised to ``"\n"``).
    paths : list of str
        Only with ``return_paths``.

    Examples
    --------
    >>> from seqestim.datasets import load_python_source
    >>> texts, paths = load_python_source("valid", max_chars=50_000, return_paths=True)
    >>> len(texts) == len(paths) and sum(map(len, texts)) <= 50_000
    True
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}; got {split!r}.")
    if max_chars is not None and (not isinstance(max_chars, int) or max_chars < 1):
        raise ValueError(f"max_chars must be None or a positive integer; got {max_chars!r}.")
    root = pathlib.Path(sysconfig.get_paths()["stdlib"])
    chosen = [p for p in _python_source_files(root) if _split_of(p) == split]
    chosen.sort(key=lambda p: (_path_hash(p), p))
    texts, paths, total = [], [], 0
    for path in chosen:
        with tokenize.open(root / path) as handle:  # honours a coding declaration
            text = handle.read()
        if not text.strip():  # empty package markers
            continue
        if max_chars is not None and total + len(text) > max_chars:
            continue  # a later, shorter file may still fit
        texts.append(text)
        paths.append(path)
        total += len(text)
        if max_chars is not None and total >= max_chars:
            break
    if not texts:
        raise ValueError(f"No file of the {split!r} split fits within max_chars={max_chars}.")
    return (texts, paths) if return_paths else texts


# ------------------------------------------------------------------------------ Markov source
def _markov_source(n_symbols: int, order: int, concentration: float, rng):
    """Transition probabilities ``(n_contexts, n_symbols)`` and their stationary distribution.

    A context is the last ``order`` symbols as a base-``n_symbols`` number, the most recent
    symbol last: after symbol ``a`` context ``c`` becomes ``(c * n_symbols + a) % n_contexts``.
    """
    import scipy.sparse
    import scipy.sparse.linalg

    n_contexts = n_symbols**order
    transitions = rng.dirichlet(np.full(n_symbols, concentration), size=n_contexts)
    # Dirichlet draws can underflow to exact zeros for tiny concentrations; keep every
    # transition possible so the chain stays irreducible and the entropy finite
    transitions = np.maximum(transitions, 1e-12)
    transitions /= transitions.sum(axis=1, keepdims=True)
    contexts = np.arange(n_contexts)
    following = (contexts[:, None] * n_symbols + np.arange(n_symbols)) % n_contexts  # (S, n)
    chain = scipy.sparse.csr_matrix(
        (transitions.ravel(), (np.repeat(contexts, n_symbols), following.ravel())),
        shape=(n_contexts, n_contexts),
    )  # duplicates (order 0) are summed
    # stationary pi: pi (P - I) = 0 with sum(pi) = 1, one equation replaced by the sum
    system = (chain.T - scipy.sparse.identity(n_contexts, format="csr")).tolil()
    system[n_contexts - 1, :] = 1.0
    rhs = np.zeros(n_contexts)
    rhs[-1] = 1.0
    stationary = np.atleast_1d(scipy.sparse.linalg.spsolve(system.tocsc(), rhs))
    stationary = np.clip(stationary, 0.0, None)
    return transitions, stationary / stationary.sum(), following


def make_markov_text(
    n_symbols: int = 8,
    order: int = 2,
    *,
    n_samples: int = 10,
    length: int = 1000,
    concentration: float = 0.5,
    random_state=None,
):
    r"""Texts from a random Markov source of the given order, and its exact entropy rate.

    The source picks the next symbol from a distribution that depends on the last ``order``
    symbols; each of the ``n_symbols ** order`` distributions is drawn from a symmetric
    Dirichlet with ``concentration`` (smaller is more predictable). Every text starts in the
    stationary distribution, so all its symbols follow the same law. The entropy rate

    .. math:: H = -\sum_c \pi(c) \sum_a P(a \mid c) \log P(a \mid c)

    (``π`` the stationary distribution of the contexts, solved exactly as a sparse linear
    system) is the smallest cross-entropy per symbol that any model can reach on long texts:
    a model's cross-entropy minus ``H`` is its gap to the optimum. On a finite text the first
    ``order`` symbols carry a little more entropy than ``H``, and a language model also
    predicts ``<eos>``; both weigh about ``(order + 1) / length``.

    Parameters
    ----------
    n_symbols : int, default=8
        Alphabet size (at most 62: ``a-z``, ``A-Z``, ``0-9``, in that order).
    order : int, default=2
        Number of previous symbols the next one depends on (0: independent symbols).
    n_samples : int, default=10
        Number of texts.
    length : int, default=1000
        Characters per text.
    concentration : float, default=0.5
        Dirichlet concentration of the transition distributions.
    random_state : int, RandomState instance or None, default=None
        Draws the source and the texts.

    Returns
    -------
    texts : list of str
        ``n_samples`` texts of ``length`` characters.
    entropy_rate : float
        ``H`` in nats per symbol (divide by ``log 2`` for bits).

    Examples
    --------
    >>> from seqestim.datasets import make_markov_text
    >>> texts, entropy_rate = make_markov_text(4, order=1, n_samples=2, length=20, random_state=0)
    >>> len(texts), len(texts[0]), round(entropy_rate, 3)
    (2, 20, 0.968)
    """
    for name, value, low in (("n_symbols", n_symbols, 1), ("order", order, 0)):
        if not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    for name, value in (("n_samples", n_samples), ("length", length)):
        if not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    if n_symbols > len(_ALPHABET):
        raise ValueError(f"n_symbols must be at most {len(_ALPHABET)}; got {n_symbols}.")
    if n_symbols**order > 2_000_000:
        raise ValueError(
            f"n_symbols ** order = {n_symbols**order} contexts is too many (at most 2,000,000)."
        )
    if not concentration > 0:
        raise ValueError(f"concentration must be positive; got {concentration!r}.")
    rng = check_random_state(random_state)
    transitions, stationary, following = _markov_source(n_symbols, order, concentration, rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(transitions > 0, transitions * np.log(transitions), 0.0)
    entropy_rate = float(-(stationary * terms.sum(axis=1)).sum())

    # sample every text at once, one symbol per step; the initial context is stationary
    context = rng.choice(len(stationary), size=n_samples, p=stationary)  # (n_samples,)
    cumulative = np.cumsum(transitions, axis=1)  # (n_contexts, n_symbols)
    symbols = np.empty((n_samples, length), dtype=np.int64)
    # the first `order` symbols are the initial context's own digits, oldest first
    initial = [(context // n_symbols**p) % n_symbols for p in range(order - 1, -1, -1)]
    for t in range(min(order, length)):
        symbols[:, t] = initial[t]
    for t in range(order, length):
        draw = rng.random_sample(n_samples)[:, None]  # (n_samples, 1)
        symbol = (draw > cumulative[context]).sum(axis=1).clip(max=n_symbols - 1)
        symbols[:, t] = symbol
        context = following[context, symbol]
    alphabet = np.array(list(_ALPHABET[:n_symbols]))
    return ["".join(row) for row in alphabet[symbols]], entropy_rate


# ------------------------------------------------------------------------------ long copy
def make_long_copy(
    n_samples: int = 1000,
    distance: int = 64,
    *,
    n_symbols: int = 8,
    n_noise: int = 8,
    random_state=None,
):
    """Sequences whose last token repeats the first one, ``distance`` noise tokens later.

    Each sequence is ``p, n_1 .. n_distance, m, p``: a payload token ``p`` (ids
    ``0..n_symbols-1``), ``distance`` noise tokens drawn uniformly from their own ids
    (``n_symbols..n_symbols+n_noise-1``), a marker ``m`` (id ``n_symbols + n_noise``) that
    asks for the payload, and the payload again. The last token can only be predicted by
    remembering the first across ``distance + 2`` steps; a model whose context (an attention
    window, a receptive field) is shorter predicts it at chance, ``1 / n_symbols``. Fit a
    language model on ``X`` and check ``predict_proba(X[:, :-1]).argmax(1)`` against ``y``
    (column ``y`` of ``tokens_`` is token ``y`` for integer sequences, after the special
    tokens).

    Parameters
    ----------
    n_samples : int, default=1000
        Number of sequences.
    distance : int, default=64
        Number of noise tokens between the payload and the marker.
    n_symbols : int, default=8
        Number of payload values.
    n_noise : int, default=8
        Number of noise values.
    random_state : int, RandomState instance or None, default=None
        Draws the payloads and the noise.

    Returns
    -------
    X : ndarray of shape (n_samples, distance + 3), int64
        The sequences, ids ``0..n_symbols + n_noise``.
    y : ndarray of shape (n_samples,), int64
        The payload of each sequence (also its first and last token).

    Examples
    --------
    >>> from seqestim.datasets import make_long_copy
    >>> X, y = make_long_copy(n_samples=3, distance=5, n_symbols=4, n_noise=2, random_state=0)
    >>> X.shape, bool((X[:, 0] == y).all() and (X[:, -1] == y).all()), int(X[0, -2])
    ((3, 8), True, 6)
    """
    for name, value, low in (
        ("n_samples", n_samples, 1),
        ("distance", distance, 0),
        ("n_symbols", n_symbols, 2),
        ("n_noise", n_noise, 1),
    ):
        if not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    rng = check_random_state(random_state)
    y = rng.randint(n_symbols, size=n_samples).astype(np.int64)
    noise = rng.randint(n_symbols, n_symbols + n_noise, size=(n_samples, distance))
    marker = np.full((n_samples, 1), n_symbols + n_noise)
    X = np.concatenate([y[:, None], noise, marker, y[:, None]], axis=1).astype(np.int64)
    return X, y
