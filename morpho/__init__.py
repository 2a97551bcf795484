"""morpho: SEM micrographs of granular films -> grains, size modes, neighbour graph, energies.

The science stages are pure functions in their own modules (``segment``, ``measure``,
``distribution``, ``graph``, ``physics``); ``pipeline.analyze`` composes them, ``io`` reads
micrographs and ``export`` writes results.  Nothing is imported eagerly here beyond the version.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
