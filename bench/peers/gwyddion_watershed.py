"""Peer ``gwyddion-watershed``: threshold mask intersected with Mark by Watershed (GUI defaults; see gwyddion.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import gwyddion

NAME = "gwyddion-watershed"
DESCRIPTION = "Gwyddion: Mark by Threshold, then Mark by Watershed (GUI defaults) intersected with it"
available = gwyddion.available
version_string = gwyddion.version_string


def segment(image: np.ndarray, *, workdir: Path) -> np.ndarray:
    return gwyddion.segment_mode(image, "watershed", workdir=workdir)
