"""Peer ``gwyddion-threshold``: Gwyddion's Mark by Threshold with its GUI defaults (see gwyddion.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import gwyddion

NAME = "gwyddion-threshold"
DESCRIPTION = "Gwyddion: Mark by Threshold, GUI defaults (height > 50 % of range), numbered grains"
available = gwyddion.available
version_string = gwyddion.version_string


def segment(image: np.ndarray, *, workdir: Path) -> np.ndarray:
    return gwyddion.segment_mode(image, "threshold", workdir=workdir)
