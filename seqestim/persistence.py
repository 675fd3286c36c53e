"""Saving and loading fitted estimators: ``est.save(path)`` and ``seqestim.load(path)``.

The implementation lives with the estimators (:mod:`seqestim.estimators._persistence`); this
module is its public name.
"""

from seqestim.estimators._persistence import LoadError, load, save

__all__ = ["LoadError", "load", "save"]
