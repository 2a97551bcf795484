"""Peer ``porespy-snow2-careful``: a careful-user variant of ``porespy-snow2`` (NOT its default use).

As ``porespy-snow2`` (see porespy_snow2.py), with what a careful user adds on a noisy image:
``skimage.filters.gaussian(image, sigma=1.5)`` before Otsu's threshold, and regions smaller than
9 px dropped from the result (``snow2`` itself with its defaults, ``boundary_width=0``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from skimage.filters import gaussian, threshold_otsu

from . import porespy_snow2
from ._common import PeerUnavailable, as_labels

NAME = "porespy-snow2-careful"
DESCRIPTION = ("PoreSpy careful-user variant (not the default): Gaussian sigma 1.5, Otsu mask, snow2, "
               "regions < 9 px dropped")
SIGMA = 1.5
MIN_SIZE = 9
available = porespy_snow2.available
version_string = porespy_snow2.version_string


def segment(image: np.ndarray, *, workdir: Path | None = None) -> np.ndarray:
    ps, reason = porespy_snow2._import()
    if ps is None:
        raise PeerUnavailable(reason)
    img = np.asarray(image, dtype=np.float64)
    smooth = gaussian(img, sigma=SIGMA, preserve_range=True)
    labels = porespy_snow2.snow2_labels(ps, smooth > threshold_otsu(smooth))
    sizes = np.bincount(labels.ravel())
    small = sizes < MIN_SIZE
    small[0] = False
    labels[small[labels]] = 0
    return as_labels(labels, img.shape)
