"""Pure-PyTorch backbones, one paper per module.

This package imports only torch and itself (its dependency-free :mod:`seqestim.nn._params` and
:mod:`seqestim.nn._registry`): no sklearn, skorch, pandas, statsmodels or sktime, so the models
can be used on their own. Importing it imports every paper module, which registers its
backbones; users read the registry through :mod:`seqestim.registry`.
"""

import importlib
import pkgutil

from seqestim.nn._contract import lengths_to_mask, reverse_padded
from seqestim.nn.heads import SequenceNet, pool

__all__ = ["SequenceNet", "lengths_to_mask", "pool", "reverse_padded"]

# Every public module here is one paper; importing it runs its @register_model decorators.
for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_") and _module.name != "heads":
        importlib.import_module(f"{__name__}.{_module.name}")
