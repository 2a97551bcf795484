"""PoreSpy ``snow2`` (PyPI ``porespy``, installed into the venv by ``bench/peers/install.sh``).

SNOW (Gostick 2017) partitions one phase of a binary image by a marker watershed of its distance
transform: the distance transform is smoothed (``sigma`` = 0.4), its peaks found within
``r_max`` = 4 px, and peaks trimmed (saddle and nearby-peak removal) before the watershed.  For
an image of particles the particle phase is the phase to partition (PoreSpy's examples apply it
to whichever phase is True; a particle image is the solid phase of a granular packing), so the
phase image is Otsu's binary mask of the micrograph (``skimage.filters.threshold_otsu``, grains =
1).  ``snow2`` is called with its defaults except ``boundary_width=0``: its default pads 3 px of
boundary regions around the image for network extraction, which would change the shape; the
watershed regions themselves are the same.  The returned ``regions``, masked with the binary
image, are the labels.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from pathlib import Path

import numpy as np
from skimage.filters import threshold_otsu

from ._common import PeerUnavailable, as_labels

NAME = "porespy-snow2"
DESCRIPTION = "PoreSpy snow2 on the Otsu mask (sigma 0.4, r_max 4), regions masked by the mask"


@functools.cache
def _import():
    try:
        import porespy
    except Exception as exc:  # any import failure (missing, broken numba, ...) makes the peer unavailable
        first = str(exc).splitlines()[0][:120] if str(exc) else ""
        return None, f"porespy not importable: {type(exc).__name__}: {first}"
    logging.getLogger("porespy").setLevel(logging.ERROR)
    with contextlib.suppress(Exception):  # progress bars are cosmetic
        porespy.settings.tqdm["disable"] = True
    return porespy, None


def available() -> str | None:
    return _import()[1]


def version_string() -> str:
    ps = _import()[0]
    return f"porespy {ps.__version__}" if ps is not None else ""


def segment(image: np.ndarray, *, workdir: Path | None = None) -> np.ndarray:
    ps, reason = _import()
    if ps is None:
        raise PeerUnavailable(reason)
    img = np.asarray(image)
    return snow2_labels(ps, img > threshold_otsu(img))


def snow2_labels(ps, binary: np.ndarray) -> np.ndarray:
    """``snow2`` regions of a binary mask (defaults, ``boundary_width=0``), masked by it."""
    snow = ps.networks.snow2(binary.astype(int), boundary_width=0)
    regions = np.asarray(snow.regions)
    if regions.shape != binary.shape:
        pad = np.zeros(binary.shape, dtype=regions.dtype)
        r, c = min(regions.shape[0], pad.shape[0]), min(regions.shape[1], pad.shape[1])
        pad[:r, :c] = regions[:r, :c]
        regions = pad
    return as_labels(regions * binary, binary.shape)
