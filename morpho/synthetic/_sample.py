"""The :class:`SyntheticSample` container, its truth table and shared validation helpers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ..measure import centroids_px

#: Columns of :attr:`SyntheticSample.grains` (the disk mosaic adds ``radius_m``).
GRAIN_TRUTH_COLUMNS = ["grain_id", "x_m", "y_m", "area_m2", "area_px", "diameter_m", "touches_border", "mode"]

_JUNCTION_COLUMNS = ["grain_a", "grain_b", "gap_m", "facing_length_m", "center_distance_m"]


@dataclass(frozen=True, eq=False)
class SyntheticSample:
    """A synthetic micrograph with its exact ground truth.

    Attributes
    ----------
    image : ndarray of uint8 or uint16, shape (rows, cols)
        The SEM-like image, including the databar rows at the bottom if there are any.
    labels : ndarray of int32, shape (rows, cols)
        Ground-truth label image: 0 = matrix, 1..n = grains in raster order of each grain's
        first pixel.  Every grain is one 4-connected component; databar rows are 0.  Distinct
        grains touch (are 4-adjacent) only where a preset draws 0 px gaps (``narrow-gaps``).
    grains : pandas.DataFrame
        One row per grain, columns :data:`GRAIN_TRUTH_COLUMNS`: ``grain_id`` (== label value),
        ``x_m, y_m`` (pixel centroid, m), ``area_m2`` (pixel count x pixel area), ``area_px``,
        ``diameter_m`` (equivalent-area diameter 2 sqrt(area / pi)), ``touches_border`` (a pixel
        on the first or last row or column of the analysed region above the databar) and
        ``mode`` (size population: 0 = small, 1 = large).
    pixel_size_m : float
        Pixel size in metres.
    databar_rows : int
        Number of databar rows at the bottom of `image` (0 if none).
    preset : str
        Name of the preset, or ``"disk-mosaic"``.
    params : dict
        Every generation parameter, JSON-serialisable (the seed is recorded when an integer
        seed was given, else ``None``).
    junctions : pandas.DataFrame or None
        True neighbour pairs (``grain_a < grain_b``, ``gap_m``, ``facing_length_m``,
        ``center_distance_m``): analytic for :func:`make_disk_mosaic`, and the SKIZ graph of the
        truth labels (:func:`morpho.graph.skiz_junctions`) for :func:`make_sem_micrograph`.
    """

    image: np.ndarray
    labels: np.ndarray
    grains: pd.DataFrame
    pixel_size_m: float
    databar_rows: int
    preset: str
    params: dict
    junctions: pd.DataFrame | None = None

def _validate_shape(shape: Sequence[int], *, min_size: int = 8) -> tuple[int, int]:
    try:
        rows, cols = (int(s) for s in shape)
    except (TypeError, ValueError):
        msg = f"shape must be a pair of integers (rows, cols), got {shape!r}"
        raise InputError(msg) from None
    if rows != shape[0] or cols != shape[1] or rows < min_size or cols < min_size:
        msg = f"shape must be two integers >= {min_size}, got {tuple(shape)!r}; pass e.g. (512, 512)"
        raise InputError(msg)
    return rows, cols


def _seed_record(rng: np.random.Generator | int | None) -> int | None:
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return int(rng)
    return None


def _truth_table(labels: np.ndarray, modes: np.ndarray, pixel_size_m: float) -> pd.DataFrame:
    """Grains table computed from the label image (pixel counts and centroids)."""
    n = int(labels.max()) if labels.size else 0
    area_px, row_c, col_c = centroids_px(labels, n)
    border = np.zeros(n + 1, dtype=bool)
    for edge in (labels[0, :], labels[-1, :], labels[:, 0], labels[:, -1]):
        border[edge] = True
    area_m2 = area_px * pixel_size_m**2
    return pd.DataFrame(
        {
            "grain_id": np.arange(1, n + 1, dtype=np.int64),
            "x_m": col_c * pixel_size_m,
            "y_m": row_c * pixel_size_m,
            "area_m2": area_m2,
            "area_px": area_px,
            "diameter_m": 2.0 * np.sqrt(area_m2 / np.pi),
            "touches_border": border[1:],
            "mode": np.asarray(modes, dtype=np.int64),
        }
    )


def _empty_junctions() -> pd.DataFrame:
    columns = {c: pd.Series(dtype="int64" if c.startswith("grain") else "float64") for c in _JUNCTION_COLUMNS}
    return pd.DataFrame(columns)

