"""Diagnostics that probe what a trained sequence model can do.

- :func:`memory_limit`: the largest distance over which a model memorises random inputs
  (Illium et al., ICAART 2022), with Jaeger's memory capacity per distance.
"""

from seqestim.diagnostics.memory import MemoryLimit, memory_capacity, memory_limit

__all__ = ["MemoryLimit", "memory_capacity", "memory_limit"]
