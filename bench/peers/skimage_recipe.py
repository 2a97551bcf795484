"""The scikit-image gallery recipe: Otsu threshold, distance transform, peak_local_max, watershed.

Source: scikit-image's gallery example "Watershed segmentation"
(``doc/examples/segmentation/plot_watershed.py``; the same code on the 0.20.x and the stable
documentation pages, https://scikit-image.org/docs/stable/auto_examples/segmentation/plot_watershed.html;
before 0.19 it read ``peak_local_max(..., indices=False)`` + ``ndi.label``, the same markers).
It is run with the installed scikit-image (the version is printed with the results).
The gallery starts from a binary image; the step a user adds in front of it is Otsu's threshold
(``skimage.filters.threshold_otsu``), the library's own default, with no smoothing.  Then, as
published, with no ``min_distance``, no smoothing and no size filter::

    distance = ndi.distance_transform_edt(image)
    coords = peak_local_max(distance, footprint=np.ones((3, 3)), labels=image)
    mask = np.zeros(distance.shape, dtype=bool)
    mask[tuple(coords.T)] = True
    markers, _ = ndi.label(mask)
    labels = watershed(-distance, markers, mask=image)

Note ``markers, _ = ndi.label(mask)``: peak pixels that touch (the plateaus of a digital distance
transform) merge into one marker.  Numbering every peak pixel as its own marker instead (the
version this benchmark used before) cuts every grain with a plateau into several pieces.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from skimage.feature import peak_local_max
from skimage.filters import threshold_otsu
from skimage.segmentation import watershed

from ._common import as_labels

NAME = "skimage-recipe"
DESCRIPTION = "scikit-image gallery: Otsu + distance transform + peak_local_max(3x3) + watershed"


def available() -> str | None:
    return None


def version_string() -> str:
    return f"scikit-image {version('scikit-image')}"


def segment(image: np.ndarray, *, workdir: Path | None = None) -> np.ndarray:
    """Label image of the bright grains of `image` (int32, 0 = background)."""
    img = np.asarray(image)
    return as_labels(distance_watershed(img > threshold_otsu(img)), img.shape)


def distance_watershed(binary: np.ndarray, *, min_distance: int = 1) -> np.ndarray:
    """The gallery's split of a binary mask: distance-transform peaks as markers, watershed."""
    distance = ndi.distance_transform_edt(binary)
    coords = peak_local_max(distance, min_distance=min_distance, footprint=np.ones((3, 3)), labels=binary)
    mask = np.zeros(distance.shape, dtype=bool)
    mask[tuple(coords.T)] = True
    markers, _ = ndi.label(mask)
    return watershed(-distance, markers, mask=binary)
