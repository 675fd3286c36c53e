"""Training options that apply to any model: quantisation, differential privacy, target space.

This layer sits right above :mod:`seqestim.nn` and below the estimators: it holds the reusable
pieces (quantisers and the straight-through estimator, the privacy wrapper around Opacus, the
target-space parametrisation), in plain PyTorch. The training engine
(``seqestim/estimators/_training.py``) declares the parameters that switch them on
(``weight_bits``, ``activation_bits``, ...) and applies them to every neural estimator.
"""

from seqestim.training.privacy import DifferentialPrivacy, PublicBatchNorm
from seqestim.training.quantization import QuantizedTensor, quantize
from seqestim.training.target_space import TargetSpace

__all__ = ["DifferentialPrivacy", "PublicBatchNorm", "QuantizedTensor", "TargetSpace", "quantize"]
