"""Per-grain measurements: a label image -> the grains table (SI units).

Everything is computed for all grains at once: areas, centroids and second moments (hence the
ellipse axes, orientation and eccentricity, with scikit-image's definitions) from
``np.bincount`` over the label image, taken in bands of :data:`BAND_ROWS` rows so that the
temporaries stay small on large micrographs; the Crofton perimeter from a label-wise count of 2 x 2
pixel configurations (scikit-image's ``perimeter_crofton`` weights, four directions); only the
convex hull (for solidity) loops over grains, each step in OpenCV.  The results equal
``skimage.measure.regionprops`` (tested), at a fraction of its per-region Python cost.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import cv2

from .errors import InputError

__all__ = ["GRAIN_COLUMNS", "border_labels", "measure_grains"]

#: Columns of the grains table, in order (DESIGN.md output contract, plus ``area_px``).
GRAIN_COLUMNS = [
    "grain_id",
    "x_m",
    "y_m",
    "area_m2",
    "area_px",
    "diameter_m",
    "perimeter_m",
    "major_axis_m",
    "minor_axis_m",
    "orientation_rad",
    "eccentricity",
    "solidity",
    "touches_border",
]


def border_labels(labels: np.ndarray) -> dict[str, np.ndarray]:
    """Label values present on each border of the image.

    Returns
    -------
    dict
        ``{"left", "right", "top", "bottom"}`` -> sorted unique non-zero labels on that edge.
    """
    edges = {"left": labels[:, 0], "right": labels[:, -1], "top": labels[0, :], "bottom": labels[-1, :]}
    return {side: np.unique(values[values > 0]) for side, values in edges.items()}


#: Rows of the label image handled at once by the per-pixel sums: the temporaries are a band of
#: BAND_ROWS x cols pixels whatever the image size (an 8192^2 image no longer needs several
#: int64 copies of itself; the sums are the same up to the order of additions).
BAND_ROWS = 512


def _bands(rows: int):
    """(first, stop) row ranges of BAND_ROWS rows covering ``range(rows)``."""
    for r0 in range(0, rows, BAND_ROWS):
        yield r0, min(rows, r0 + BAND_ROWS)


def _grain_pixels(labels: np.ndarray, r0: int, r1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, column (int64, image coordinates) and label of the grain pixels of rows r0..r1-1."""
    band = labels[r0:r1]
    rr, cc = np.nonzero(band)
    ids = band[rr, cc].astype(np.int64, copy=False)
    return rr + r0, cc, ids


def centroids_px(labels: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel area and centroid (row, col) of labels 1..n; NaN centroids for absent labels.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
    n : int
        Highest label.

    Returns
    -------
    area_px, row_c, col_c : ndarray, shape (n,)
        Areas (int64) and centroids in pixels (origin at the centre of pixel (0, 0)).
    """
    area = np.zeros(n + 1, dtype=np.int64)
    sum_r = np.zeros(n + 1)
    sum_c = np.zeros(n + 1)
    for r0, r1 in _bands(labels.shape[0]):
        rr, cc, ids = _grain_pixels(labels, r0, r1)
        area += np.bincount(ids, minlength=n + 1)[: n + 1]
        sum_r += np.bincount(ids, weights=rr, minlength=n + 1)[: n + 1]
        sum_c += np.bincount(ids, weights=cc, minlength=n + 1)[: n + 1]
    area_px = area[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        return area_px, sum_r[1:] / area_px, sum_c[1:] / area_px


def _central_moments(labels: np.ndarray, n: int, area_px: np.ndarray, row_c: np.ndarray,
                     col_c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Second central moments (var_r, var_c, cov) of labels 1..n, in px^2, band by band."""
    srr, scc, src = np.zeros(n + 1), np.zeros(n + 1), np.zeros(n + 1)
    for r0, r1 in _bands(labels.shape[0]):
        rr, cc, ids = _grain_pixels(labels, r0, r1)
        dr = rr - row_c[ids - 1]
        dc = cc - col_c[ids - 1]
        srr += np.bincount(ids, weights=dr * dr, minlength=n + 1)[: n + 1]
        scc += np.bincount(ids, weights=dc * dc, minlength=n + 1)[: n + 1]
        src += np.bincount(ids, weights=dr * dc, minlength=n + 1)[: n + 1]
    return srr[1:] / area_px, scc[1:] / area_px, src[1:] / area_px


def measure_grains(labels: np.ndarray, *, pixel_size_m: float) -> pd.DataFrame:
    """Measure every grain of a label image.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        0 = matrix, 1..n = grains, every value 1..n present.
    pixel_size_m : float
        Pixel size in metres (square pixels).

    Returns
    -------
    pandas.DataFrame
        One row per grain, columns :data:`GRAIN_COLUMNS`:

        - ``x_m, y_m``: centroid, x = column, y = row, origin at the centre of pixel (0, 0);
        - ``area_m2`` = pixel count x pixel area; ``diameter_m`` = 2 sqrt(area / pi);
        - ``perimeter_m``: Crofton perimeter (scikit-image ``perimeter_crofton``; within 1 % of
          2 pi r for a digitised disk of radius >= 30 px, PHYSICS.md 6.1), x pixel size;
        - ``major_axis_m, minor_axis_m``: axes of the ellipse with the same second moments;
        - ``orientation_rad``: angle between the row axis (pointing down) and the major axis,
          in [-pi/2, pi/2] (scikit-image convention);
        - ``eccentricity``, dimensionless;
        - ``solidity``: pixel area / area of the convex hull of the grain's pixel squares
          (1 for a digitised rectangle), dimensionless;
        - ``touches_border``: a pixel of the grain lies on the first or last row or column.

    Raises
    ------
    InputError
        If `labels` is not a 2-D integer array or `pixel_size_m` is not > 0.

    Notes
    -----
    Input units: pixels, `pixel_size_m` in m.  Output units: m, m^2, rad.
    """
    lab = np.asarray(labels)
    if lab.ndim != 2 or lab.dtype.kind not in "iu":
        msg = f"labels must be a 2-D integer array, got {lab.dtype} with shape {lab.shape}"
        raise InputError(msg)
    if not (np.isfinite(pixel_size_m) and pixel_size_m > 0):
        msg = f"pixel_size_m must be finite and > 0, got {pixel_size_m!r}"
        raise InputError(msg)
    n = int(lab.max()) if lab.size else 0
    if n == 0:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in GRAIN_COLUMNS})
    if lab.min() < 0:
        msg = "labels must be >= 0 (0 = matrix, 1..n = grains)"
        raise InputError(msg)
    # Centroids and second central moments from bincount sums, band by band (two passes).
    area_px, row_c, col_c = centroids_px(lab, n)
    if np.any(area_px == 0):
        msg = "labels must use every value 1..n without gaps; renumber them with relabel_raster_order"
        raise InputError(msg)
    var_r, var_c, cov = _central_moments(lab, n, area_px, row_c, col_c)
    major, minor, orientation, eccentricity = _ellipse(var_r, var_c, cov)
    on_border = np.zeros(n + 1, dtype=bool)
    for side_ids in border_labels(lab).values():
        on_border[side_ids] = True
    px = float(pixel_size_m)
    area_m2 = area_px * px * px
    table = pd.DataFrame(
        {
            "grain_id": np.arange(1, n + 1, dtype=np.int64),
            "x_m": col_c * px,
            "y_m": row_c * px,
            "area_m2": area_m2,
            "area_px": area_px.astype(np.int64),
            "diameter_m": 2.0 * np.sqrt(area_m2 / np.pi),
            "perimeter_m": crofton_perimeter_px(lab, n) * px,
            "major_axis_m": major * px,
            "minor_axis_m": minor * px,
            "orientation_rad": orientation,
            "eccentricity": eccentricity,
            "solidity": area_px / convex_area_px(lab, n),
            "touches_border": on_border[1:],
        }
    )
    return table


def _dtype(column: str) -> str:
    if column in ("grain_id", "area_px"):
        return "int64"
    if column == "touches_border":
        return "bool"
    return "float64"


# scikit-image's Crofton weights (four directions) for the 16 configurations of a 2 x 2 window,
# indexed by code = A + 2 C + 4 B + 8 D with A = (i, j), B = (i, j-1), C = (i-1, j), D = (i-1, j-1).
_CROFTON_4 = np.array(
    [
        0,
        np.pi / 4 * (1 + 1 / np.sqrt(2)),
        np.pi / (4 * np.sqrt(2)),
        np.pi / (2 * np.sqrt(2)),
        0,
        np.pi / 4 * (1 + 1 / np.sqrt(2)),
        0,
        np.pi / (4 * np.sqrt(2)),
        np.pi / 4,
        np.pi / 2,
        np.pi / (4 * np.sqrt(2)),
        np.pi / (4 * np.sqrt(2)),
        np.pi / 4,
        np.pi / 2,
        0,
        0,
    ]
)


def crofton_perimeter_px(labels: np.ndarray, n: int) -> np.ndarray:
    """Crofton perimeter (four directions) of every label 1..n, in pixels.

    Each 2 x 2 window of the zero-padded label image is classified, for every label it holds,
    by which of its four pixels carry that label; the configuration weights are those of
    :func:`skimage.measure.perimeter_crofton`, so the result equals running it on each grain's
    own binary image.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
    n : int
        Highest label.

    Returns
    -------
    ndarray of float, shape (n,)
    """
    rows, cols = labels.shape
    total = np.zeros(n + 1, dtype=np.float64)
    # The windows are those of the zero-padded image: window i (0..rows) spans image rows i-1, i.
    for w0, w1 in _bands(rows + 1):
        pad = np.zeros((w1 - w0 + 1, cols + 2), dtype=labels.dtype)
        lo, hi = max(w0 - 1, 0), min(w1, rows)
        pad[lo - (w0 - 1):hi - (w0 - 1), 1:-1] = labels[lo:hi]
        quad = (pad[1:, 1:], pad[:-1, 1:], pad[1:, :-1], pad[:-1, :-1])  # A, C, B, D -> bits 1, 2, 4, 8
        for k, lab_k in enumerate(quad):
            # count each (window, label) once: at the first position holding that label
            take = lab_k > 0
            for earlier in quad[:k]:
                take &= lab_k != earlier
            value = lab_k[take].astype(np.int64, copy=False)
            code = np.zeros(value.size, dtype=np.int64)
            for bit, lab_b in enumerate(quad):
                code += (lab_b[take] == value).astype(np.int64) << bit
            total += np.bincount(value, weights=_CROFTON_4[code], minlength=n + 1)[: n + 1]
    return total[1:]


def convex_area_px(labels: np.ndarray, n: int) -> np.ndarray:
    """Area (px^2) of the convex hull of each grain's pixel squares (corners at +-0.5 px).

    Only boundary pixels are passed to OpenCV's hull; pixels are grouped by label with one
    stable sort, so the per-grain loop does no scanning of the image.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
    n : int
        Highest label.

    Returns
    -------
    ndarray of float, shape (n,)
    """
    rows, cols = labels.shape
    parts = []
    for r0, r1 in _bands(rows):  # boundary pixels (a 4-neighbour differs, outside = 0), band by band
        lo, hi = max(r0 - 1, 0), min(r1 + 1, rows)
        pad = np.zeros((r1 - r0 + 2, cols + 2), dtype=labels.dtype)
        pad[lo - (r0 - 1):hi - (r0 - 1), 1:-1] = labels[lo:hi]
        core = pad[1:-1, 1:-1]
        edge = (core > 0) & (
            (core != pad[:-2, 1:-1]) | (core != pad[2:, 1:-1]) | (core != pad[1:-1, :-2]) | (core != pad[1:-1, 2:])
        )
        er, ec = np.nonzero(edge)
        parts.append((er + r0, ec, core[er, ec].astype(np.int64, copy=False)))
    rr = np.concatenate([p[0] for p in parts])
    cc = np.concatenate([p[1] for p in parts])
    ids = np.concatenate([p[2] for p in parts])
    order = np.argsort(ids, kind="stable")
    rr, cc, ids = rr[order], cc[order], ids[order]
    bounds = np.searchsorted(ids, np.arange(1, n + 2))
    corners = np.array([[-0.5, -0.5], [-0.5, 0.5], [0.5, -0.5], [0.5, 0.5]], dtype=np.float32)
    pts = np.stack([cc, rr], axis=1).astype(np.float32)
    area = np.empty(n, dtype=np.float64)
    for i in range(n):
        block = pts[bounds[i] : bounds[i + 1]]
        quad = (block[:, None, :] + corners[None, :, :]).reshape(-1, 1, 2)
        area[i] = cv2.contourArea(cv2.convexHull(quad))
    return area


def _ellipse(var_r: np.ndarray, var_c: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, ...]:
    """Axes (px), orientation (rad) and eccentricity of the second-moment ellipse.

    scikit-image's conventions: inertia tensor [[var_c, -cov], [-cov, var_r]], axes 4 sqrt(l),
    orientation 0.5 atan2(2 cov, var_r - var_c) from the row axis.
    """
    half_sum = 0.5 * (var_r + var_c)
    root = np.sqrt((0.5 * (var_c - var_r)) ** 2 + cov**2)
    l1 = np.maximum(half_sum + root, 0.0)
    l2 = np.maximum(half_sum - root, 0.0)
    major = 4.0 * np.sqrt(l1)
    minor = 4.0 * np.sqrt(l2)
    with np.errstate(invalid="ignore", divide="ignore"):
        ecc = np.where(l1 > 0, np.sqrt(np.clip(1.0 - l2 / np.where(l1 > 0, l1, 1.0), 0.0, 1.0)), 0.0)
    orientation = 0.5 * np.arctan2(2.0 * cov, var_r - var_c)
    tie = var_c - var_r == 0
    orientation = np.where(tie, np.where(-cov < 0, np.pi / 4.0, -np.pi / 4.0), orientation)
    return major, minor, orientation, ecc
