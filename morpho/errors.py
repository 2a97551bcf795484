"""Exceptions raised by morpho.

Every error a user can cause is a :class:`MorphoError`; the CLI turns it into one line on
stderr and exit code 2.  Each subclass also subclasses the built-in it refines (STYLE M16), so
callers that catch ``ValueError`` or ``OSError`` keep working.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "InputError",
    "MicrographReadError",
    "MorphoError",
    "NotPercolatingError",
    "OutputError",
    "OutputExistsError",
    "PixelSizeError",
    "SegmentationError",
]


class MorphoError(Exception):
    """Base class of every error morpho raises on purpose (bad input, bad usage)."""


class InputError(MorphoError, ValueError):
    """An input value or array that cannot be analysed (wrong shape, constant image ...)."""


class MicrographReadError(MorphoError, OSError):
    """The micrograph file is missing, unreadable, not a TIFF, truncated or corrupt."""


class PixelSizeError(MorphoError, ValueError):
    """No trustworthy pixel size could be found, or the one given is invalid."""


class ConfigError(MorphoError, ValueError):
    """A configuration value or key is invalid."""


class OutputExistsError(MorphoError, FileExistsError):
    """The result folder already exists and ``--overwrite`` was not given."""


class OutputError(MorphoError, OSError):
    """The result folder cannot be written."""


class SegmentationError(MorphoError, ValueError):
    """Segmentation found nothing usable (no grains, or the whole image is one grain)."""


class NotPercolatingError(MorphoError, ValueError):
    """No conducting path joins the two electrodes."""
