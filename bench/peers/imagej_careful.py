"""Peer ``imagej-careful``: a careful-user variant of ``imagej`` (NOT ImageJ's default workflow).

The same macro as ``imagej`` (see imagej.py) with the two steps a careful ImageJ user adds on a
noisy image: ``Process > Filters > Gaussian Blur`` with sigma 1.5 px before thresholding, and a
minimum particle size of 9 px (``size=9-Infinity pixel``) in Analyze Particles::

    run("Gaussian Blur...", "sigma=1.5");
    setOption("BlackBackground", true);
    setAutoThreshold("Default dark");
    run("Convert to Mask");
    run("Watershed");
    run("Analyze Particles...", "size=9-Infinity pixel show=[Count Masks]");
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import imagej

NAME = "imagej-careful"
DESCRIPTION = ("ImageJ careful-user variant (not the default): Gaussian Blur sigma 1.5, Default threshold, "
               "Watershed, Analyze Particles size=9-Infinity px")
available = imagej.available
version_string = imagej.version_string

MACRO = imagej.make_macro(blur_sigma=1.5, min_size_px=9)


def segment(image: np.ndarray, *, workdir: Path) -> np.ndarray:
    """Count-mask labels of the bright particles of `image` (int32, 0 = background)."""
    return imagej.run_macro(image, MACRO, segment, workdir=workdir)


segment.last_internal_s = float("nan")
segment.last_wall_s = float("nan")
