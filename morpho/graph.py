"""Neighbour graph: zones of influence (SKIZ) of the grains, gaps and facing lengths.

Every matrix pixel is assigned to its nearest grain (a Euclidean distance transform with
nearest-feature labels).  Two grains are neighbours when their zones share a pixel edge: this
is the skeleton-by-influence-zones (SKIZ) adjacency, the random-array connectivity behind the
paper's <z> ~ 6, and grains separated by matrix are neighbours as they should be.

For each neighbour pair, from the same single pass over the image:

``gap_m``
    the shortest matrix path between the two grains,
    ``min over shared zone edges (p, q) of d(p) + d(q)``, where d is the distance from a pixel to
    its own grain.  For two grains separated by n matrix pixels along a row this is exactly n
    pixels (PHYSICS.md 6.3: EDT distance - 1 px); touching grains have gap 0.
``facing_length_m``
    the length of the boundary their zones share: number of shared pixel edges x pixel x pi/4
    (pi/4 removes the mean 4/pi over-count of staircase boundaries, Cauchy-Crofton).
``center_distance_m``
    distance between the two centroids.

Everything is vectorised over pixels (shifted-array comparisons, sort and ``reduceat``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage as ndi
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .config import GraphConfig
from .errors import InputError
from .measure import _bands, border_labels, centroids_px

__all__ = ["JUNCTION_COLUMNS", "GrainGraph", "build_graph", "nearest_grain_pixels", "percolates", "skiz_junctions"]

JUNCTION_COLUMNS = ["grain_a", "grain_b", "gap_m", "facing_length_m", "center_distance_m"]


@dataclass(frozen=True)
class GrainGraph:
    """The neighbour graph in columnar form (nodes = grains table, edges = junctions table).

    Attributes
    ----------
    grains : pandas.DataFrame
        The grains table with a ``coordination`` column added (degree in the kept graph).
    junctions : pandas.DataFrame
        One row per kept neighbour pair, columns :data:`JUNCTION_COLUMNS`, ``grain_a < grain_b``,
        sorted by (grain_a, grain_b).
    summary : dict
        ``junctions, mean_coordination, coordination_counts, median_gap_m, percolates`` and the
        supporting figures (see :func:`build_graph`).
    """

    grains: pd.DataFrame
    junctions: pd.DataFrame
    summary: dict


def nearest_grain_pixels(labels: np.ndarray) -> np.ndarray:
    """For every pixel, the (row, col) of its nearest grain pixel: shape (2, rows, cols), int32.

    The exact Euclidean feature transform; SciPy releases the GIL while it runs, so callers can
    make it in a thread while other work goes on (:func:`morpho.pipeline.analyze` measures the
    grains meanwhile).
    """
    # Exact EDT with nearest-feature indices (OpenCV's labelled transform is only the
    # approximate 5x5 mask, which would bias gaps by ~1-2 %).  SciPy is asked for the indices
    # only; the zones (nearest grain's label) and distances are made band by band where they
    # are needed, so neither a full-size zone image nor a distance map exists (on a 16384^2
    # image those would be 1 GB and 2 GB).
    return ndi.distance_transform_edt(labels == 0, return_distances=False, return_indices=True)


def _zones(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-grain label of every pixel, and the feature indices of :func:`nearest_grain_pixels`."""
    feature = nearest_grain_pixels(labels)
    zone = np.empty(labels.shape, dtype=labels.dtype)
    for r0, r1 in _bands(labels.shape[0]):
        zone[r0:r1] = labels[feature[0, r0:r1], feature[1, r0:r1]]
    return zone, feature


def _distance_px(feature: np.ndarray, rr: np.ndarray, cc: np.ndarray) -> np.ndarray:
    """Euclidean distance (px, float32) from pixels (rr, cc) to their nearest grain pixel."""
    dr = (feature[0, rr, cc] - rr).astype(np.float64)
    dc = (feature[1, rr, cc] - cc).astype(np.float64)
    return np.sqrt(dr * dr + dc * dc).astype(np.float32)


def _validate_labels(labels: np.ndarray, pixel_size_m: float) -> np.ndarray:
    """The label image as an array, checked (STYLE M14); InputError otherwise.

    Unchecked, negative labels failed inside ``np.bincount`` with a bare ValueError (or were
    taken for grains), an empty image failed with an IndexError at the borders, and a pixel size
    that was NaN, 0 or negative gave NaN, zero or negative gaps without a word.
    """
    lab = np.asarray(labels)
    if lab.ndim != 2 or lab.dtype.kind not in "iu":
        msg = f"labels must be a 2-D integer array, got {lab.dtype} with shape {lab.shape}"
        raise InputError(msg)
    if lab.size == 0:
        msg = f"labels is empty (shape {lab.shape}); give the segmented image, at least one pixel"
        raise InputError(msg)
    if lab.dtype.kind == "i" and lab.min() < 0:
        msg = "labels must be >= 0 (0 = matrix, 1..n = grains)"
        raise InputError(msg)
    if not (np.isfinite(pixel_size_m) and pixel_size_m > 0):
        msg = f"pixel_size_m must be finite and > 0, got {pixel_size_m!r}"
        raise InputError(msg)
    return lab


def skiz_junctions(labels: np.ndarray, *, pixel_size_m: float, centroids_m: np.ndarray | None = None,
                   feature: np.ndarray | None = None) -> pd.DataFrame:
    """All SKIZ neighbour pairs of a label image, with gap, facing length and centre distance.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        0 = matrix, 1..n = grains.
    pixel_size_m : float
        Pixel size in metres.
    centroids_m : ndarray, shape (n, 2), optional
        (x_m, y_m) of grains 1..n; computed from `labels` when not given.
    feature : ndarray of int32, shape (2, rows, cols), optional
        The nearest grain pixel of every pixel, from :func:`nearest_grain_pixels` on the same
        labels, if the caller has it already (it can be made while the grains are measured).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`JUNCTION_COLUMNS`; ``grain_a < grain_b``; sorted.

    Raises
    ------
    InputError
        `labels` not a non-empty 2-D array of integers >= 0, `pixel_size_m` not finite and > 0,
        `centroids_m` without a row (x_m, y_m) for each grain id, or `feature` not an integer
        array of shape (2, rows, cols).

    Notes
    -----
    Input units: pixels, m.  Output units: m.
    """
    lab = _validate_labels(labels, pixel_size_m)
    n = int(lab.max())
    if centroids_m is not None:
        centroids_m = np.asarray(centroids_m, dtype=np.float64)
        if centroids_m.ndim != 2 or centroids_m.shape[1] != 2 or centroids_m.shape[0] < n:
            msg = f"centroids_m must have shape ({n}, 2), one (x_m, y_m) row per grain id, got {centroids_m.shape}"
            raise InputError(msg)
    if n < 2:
        return pd.DataFrame(
            {c: pd.Series(dtype="int64" if c.startswith("grain") else "float64") for c in JUNCTION_COLUMNS}
        )
    lab = lab.astype(np.int32, copy=False)
    if feature is None:
        feature = nearest_grain_pixels(lab)
    elif np.shape(feature) != (2, *lab.shape) or np.asarray(feature).dtype.kind not in "iu":
        msg = (f"feature must have shape (2, {lab.shape[0]}, {lab.shape[1]}) and an integer dtype (make it with "
               f"nearest_grain_pixels), got {np.asarray(feature).dtype} with shape {np.shape(feature)}")
        raise InputError(msg)
    keys_list, vals_list = [], []
    rows = lab.shape[0]
    for r0, r1 in _bands(rows):
        stop = min(rows, r1 + 1)  # one more row for the vertical pairs across the band's edge
        zone = lab[feature[0, r0:stop], feature[1, r0:stop]]
        for dy, dx in ((0, 1), (1, 0)):  # horizontal, then vertical neighbour pairs
            n_rows = min(r1, rows - dy) - r0
            rr, cc = np.nonzero(zone[:n_rows, : zone.shape[1] - dx] != zone[dy:n_rows + dy, dx:])
            a, b = zone[rr, cc].astype(np.int64), zone[rr + dy, cc + dx].astype(np.int64)
            rr = rr + r0
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            keys_list.append(lo * (n + 1) + hi)
            vals_list.append((_distance_px(feature, rr, cc)
                              + _distance_px(feature, rr + dy, cc + dx)).astype(np.float64))
    del feature
    keys = np.concatenate(keys_list)
    vals = np.concatenate(vals_list)
    order = np.argsort(keys, kind="stable")
    keys, vals = keys[order], vals[order]
    uniq, start, counts = np.unique(keys, return_index=True, return_counts=True)
    gap_px = np.minimum.reduceat(vals, start)
    grain_a, grain_b = np.divmod(uniq, n + 1)
    if centroids_m is None:
        _, row_c, col_c = centroids_px(lab, n)
        centroids_m = np.stack([col_c, row_c], axis=1) * pixel_size_m
    centroids_m = np.asarray(centroids_m, dtype=np.float64)
    delta = centroids_m[grain_a - 1] - centroids_m[grain_b - 1]
    return pd.DataFrame(
        {
            "grain_a": grain_a.astype(np.int64),
            "grain_b": grain_b.astype(np.int64),
            "gap_m": np.maximum(gap_px, 0.0) * pixel_size_m,
            "facing_length_m": counts * pixel_size_m * (np.pi / 4.0),
            "center_distance_m": np.hypot(delta[:, 0], delta[:, 1]),
        }
    )


def _components(n_nodes: int, junctions: pd.DataFrame) -> np.ndarray:
    a = junctions["grain_a"].to_numpy() - 1
    b = junctions["grain_b"].to_numpy() - 1
    adj = coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n_nodes, n_nodes))
    _, comp = connected_components(adj, directed=False)
    return comp


def percolates(n_grains: int, junctions: pd.DataFrame, borders: dict[str, np.ndarray]) -> dict[str, bool]:
    """Whether a junction path joins left to right and top to bottom.

    Parameters
    ----------
    n_grains : int
        Number of grains (ids 1..n).
    junctions : DataFrame
        Kept junctions (``grain_a``, ``grain_b``).
    borders : dict
        Output of :func:`morpho.measure.border_labels`.

    Returns
    -------
    dict
        ``{"x": bool, "y": bool}``.
    """
    if n_grains == 0:
        return {"x": False, "y": False}
    comp = _components(n_grains, junctions)

    def joined(side_a: str, side_b: str) -> bool:
        ca = set(comp[borders[side_a] - 1].tolist())
        cb = set(comp[borders[side_b] - 1].tolist())
        return bool(ca & cb)

    return {"x": joined("left", "right"), "y": joined("top", "bottom")}


def build_graph(
    labels: np.ndarray, grains: pd.DataFrame, *, pixel_size_m: float, config: GraphConfig | None = None,
    feature: np.ndarray | None = None,
) -> GrainGraph:
    """Neighbour graph of a segmented micrograph.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        0 = matrix, 1..n = grains (the analysed region, no databar).
    grains : pandas.DataFrame
        Output of :func:`morpho.measure.measure_grains` for the same labels.
    pixel_size_m : float
        Pixel size in metres.
    config : GraphConfig, optional
        ``max_gap_m`` drops wider junctions; ``gap_limit_m`` sets the second, gap-limited
        coordination figure reported beside the SKIZ one.
    feature : ndarray, optional
        :func:`nearest_grain_pixels` of `labels`, if made already (see :func:`skiz_junctions`).

    Returns
    -------
    GrainGraph
        Grains with ``coordination``, the kept junctions, and a summary with
        ``junctions``, ``mean_coordination`` (over interior grains, those not touching the
        border, whose zones are not cut by it), ``coordination_counts`` ({z: n} over interior
        grains), ``median_gap_m``, ``percolates`` (a junction path joins two opposite edges),
        ``percolates_x``, ``percolates_y``, ``adjacency`` (``"skiz"`` or ``"skiz, gap <= ..."``),
        ``mean_coordination_all``, ``mean_coordination_gap_limited`` and ``gap_limit_m``.

    Raises
    ------
    InputError
        Bad labels, pixel size or feature (see :func:`skiz_junctions`), or a grains table
        without exactly one row per label 1..n.

    Notes
    -----
    Input units: pixels, m.  Output units: m.
    """
    cfg = config if config is not None else GraphConfig()
    labels = _validate_labels(labels, pixel_size_m)
    n = len(grains)
    if n != int(labels.max()):
        msg = (f"grains has {n} rows but the labels run to {int(labels.max())}; give the grains table "
               "that measure_grains made from these labels")
        raise InputError(msg)
    centroids = grains[["x_m", "y_m"]].to_numpy(dtype=np.float64) if n else None
    all_junctions = skiz_junctions(labels, pixel_size_m=pixel_size_m, centroids_m=centroids, feature=feature)
    junctions = all_junctions
    if cfg.max_gap_m is not None:
        junctions = all_junctions[all_junctions["gap_m"] <= cfg.max_gap_m * (1 + 1e-9)].reset_index(drop=True)
    degree = _degree(n, junctions)
    out = grains.copy()
    out["coordination"] = degree
    interior = ~out["touches_border"].to_numpy(dtype=bool) if n else np.zeros(0, dtype=bool)
    z_int = degree[interior]
    limited = all_junctions[all_junctions["gap_m"] <= cfg.gap_limit_m * (1 + 1e-9)]
    z_lim = _degree(n, limited)[interior]
    borders = border_labels(np.asarray(labels))
    perc = percolates(n, junctions, borders)
    counts = np.bincount(z_int) if z_int.size else np.zeros(0, dtype=np.int64)
    summary = {
        "adjacency": "skiz" if cfg.max_gap_m is None else f"skiz, gap <= {cfg.max_gap_m:.6g} m",
        "junctions": len(junctions),
        "mean_coordination": float(z_int.mean()) if z_int.size else float("nan"),
        "mean_coordination_basis": "interior grains (not touching the image border)",
        "mean_coordination_all": float(degree.mean()) if n else float("nan"),
        "coordination_counts": {str(z): int(c) for z, c in enumerate(counts) if c},
        "median_gap_m": float(np.median(junctions["gap_m"])) if len(junctions) else float("nan"),
        "percolates": bool(perc["x"] or perc["y"]),
        "percolates_x": perc["x"],
        "percolates_y": perc["y"],
        "gap_limit_m": cfg.gap_limit_m,
        "mean_coordination_gap_limited": float(z_lim.mean()) if z_lim.size else float("nan"),
        "n_junctions_skiz": len(all_junctions),
    }
    return GrainGraph(grains=out, junctions=junctions, summary=summary)


def _degree(n: int, junctions: pd.DataFrame) -> np.ndarray:
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    return np.bincount(junctions["grain_a"].to_numpy() - 1, minlength=n) + np.bincount(
        junctions["grain_b"].to_numpy() - 1, minlength=n
    )
