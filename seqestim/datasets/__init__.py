"""Datasets: generators of the papers' synthetic tasks and loaders of data shipped in packages.

Nothing here downloads: ``load_*`` read files that installed packages (sktime, statsmodels,
scikit-learn) or Python itself ship; ``make_*`` generate data with the sklearn ``make_*`` signature.
"""

from seqestim.datasets.automata import DFA, make_balanced_parentheses, make_tomita, tomita_dfa
from seqestim.datasets.babi import BABI_TASKS, make_babi
from seqestim.datasets.cfl import CFL_TASKS, make_cfl
from seqestim.datasets.digits import make_sequential_digits
from seqestim.datasets.forecasting import (
    load_airline,
    load_co2,
    load_lynx,
    load_nile,
    load_sunspots,
    make_arma_process,
    make_varma_process,
)
from seqestim.datasets.memorization import make_memorization
from seqestim.datasets.memory_tasks import (
    make_adding,
    make_copy_memory,
    make_denoise,
    make_parenthesis_counting,
)
from seqestim.datasets.moving_squares import make_moving_squares
from seqestim.datasets.music import load_bach_chorales
from seqestim.datasets.seq2seq import (
    make_date_normalization,
    make_number_words,
    make_transduction,
)
from seqestim.datasets.text import load_python_source, make_long_copy, make_markov_text
from seqestim.datasets.ucr import list_ucr_datasets, load_ucr
from seqestim.datasets.xor import make_dissimilar_sequences, make_xor_sequences

__all__ = [
    "BABI_TASKS",
    "CFL_TASKS",
    "DFA",
    "list_ucr_datasets",
    "load_airline",
    "load_bach_chorales",
    "load_co2",
    "load_lynx",
    "load_nile",
    "load_python_source",
    "load_sunspots",
    "load_ucr",
    "make_adding",
    "make_arma_process",
    "make_babi",
    "make_balanced_parentheses",
    "make_cfl",
    "make_copy_memory",
    "make_date_normalization",
    "make_denoise",
    "make_dissimilar_sequences",
    "make_long_copy",
    "make_markov_text",
    "make_memorization",
    "make_moving_squares",
    "make_number_words",
    "make_parenthesis_counting",
    "make_sequential_digits",
    "make_tomita",
    "make_transduction",
    "make_varma_process",
    "make_xor_sequences",
    "tomita_dfa",
]
