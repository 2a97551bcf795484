"""Peer ``gwyddion-threshold-careful``: a careful-user variant of ``gwyddion-threshold`` (NOT the GUI default).

What a careful Gwyddion user would add around Mark by Threshold on a noisy image: a Gaussian
filter of sigma 1.5 px first (``gwy_data_field_filter_gaussian(field, 1.5)``, Data Process >
Integral Transforms/Filters), then the same Mark by Threshold with the GUI defaults (height > 50 %
of the smoothed range), then grains smaller than 9 px removed
(``gwy_data_field_grains_remove_by_size(mask, 9)``, Grains > Filter).  See gwyddion.py and the
``threshold-careful`` mode of gwy_grains.c.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import gwyddion

NAME = "gwyddion-threshold-careful"
DESCRIPTION = ("Gwyddion careful-user variant (not the default): Gaussian filter sigma 1.5 px, Mark by Threshold "
               "(50 % of range), grains < 9 px removed")
available = gwyddion.available
version_string = gwyddion.version_string


def segment(image: np.ndarray, *, workdir: Path) -> np.ndarray:
    return gwyddion.segment_mode(image, "threshold-careful", workdir=workdir)
