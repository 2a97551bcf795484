"""Peer ``skimage-recipe-careful``: a careful-user variant of ``skimage-recipe`` (NOT the gallery recipe).

The gallery's watershed recipe (see skimage_recipe.py) with what a careful user adds on a noisy
image: ``skimage.filters.gaussian(image, sigma=1.5)`` before Otsu's threshold, markers from
``peak_local_max(distance, min_distance=5, labels=binary)``, and ``remove_small_objects`` with a
minimum of 9 px (on the binary mask before the watershed, and on the labels after it)::

    smooth = gaussian(image, sigma=1.5, preserve_range=True)
    binary = remove_small_objects(smooth > threshold_otsu(smooth), 9)
    distance = ndi.distance_transform_edt(binary)
    coords = peak_local_max(distance, min_distance=5, footprint=np.ones((3, 3)), labels=binary)
    markers, _ = ndi.label(peak mask)
    labels = remove_small_objects(watershed(-distance, markers, mask=binary), 9)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from skimage.filters import gaussian, threshold_otsu
from skimage.morphology import remove_small_objects

from . import skimage_recipe
from ._common import as_labels

NAME = "skimage-recipe-careful"
DESCRIPTION = ("scikit-image careful-user variant (not the gallery): Gaussian sigma 1.5, Otsu, "
               "peak_local_max(min_distance=5), watershed, remove_small_objects(9 px)")
SIGMA = 1.5
MIN_DISTANCE = 5
MIN_SIZE = 9
available = skimage_recipe.available
version_string = skimage_recipe.version_string


def _remove_small(arr: np.ndarray, min_size: int) -> np.ndarray:
    # scikit-image >= 0.26 renamed min_size to max_size (objects of size <= max_size removed).
    try:
        return remove_small_objects(arr, max_size=min_size - 1)
    except TypeError:
        return remove_small_objects(arr, min_size=min_size)


def segment(image: np.ndarray, *, workdir: Path | None = None) -> np.ndarray:
    """Label image of the bright grains of `image` (int32, 0 = background)."""
    img = np.asarray(image, dtype=np.float64)
    smooth = gaussian(img, sigma=SIGMA, preserve_range=True)
    binary = _remove_small(smooth > threshold_otsu(smooth), MIN_SIZE)
    labels = _remove_small(skimage_recipe.distance_watershed(binary, min_distance=MIN_DISTANCE), MIN_SIZE)
    return as_labels(labels, img.shape)
