"""Disk mosaics with analytic truth, and the grains/junctions tables of lattice and chain graphs."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy.spatial import Voronoi

from ..errors import InputError
from ._geometry import _box
from ._render import _to_digital
from ._sample import (
    SyntheticSample,
    _empty_junctions,
    _seed_record,
    _truth_table,
    _validate_shape,
)


def _clip_segment(p0: np.ndarray, p1: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Length of the part of segment p0-p1 inside the box [lo, hi] (Liang-Barsky)."""
    d = p1 - p0
    t0, t1 = 0.0, 1.0
    for axis in range(2):
        if d[axis] == 0.0:
            if p0[axis] < lo[axis] or p0[axis] > hi[axis]:
                return 0.0
            continue
        ta = (lo[axis] - p0[axis]) / d[axis]
        tb = (hi[axis] - p0[axis]) / d[axis]
        t0 = max(t0, min(ta, tb))
        t1 = min(t1, max(ta, tb))
    return float(max(0.0, t1 - t0) * np.hypot(d[0], d[1]))


def _voronoi_ridges(centres_xy: np.ndarray, shape: tuple[int, int]) -> pd.DataFrame:
    """Voronoi neighbour pairs of the centres and their ridge lengths inside the field (px)."""
    lo = np.array([-0.5, -0.5])
    hi = np.array([shape[1] - 0.5, shape[0] - 0.5])
    far = 4.0 * float(max(shape))
    centred = centres_xy - centres_xy.mean(axis=0)
    if len(centres_xy) < 3 or np.linalg.matrix_rank(centred, tol=1e-9 * far) < 2:
        # Collinear centres: neighbours are consecutive along the line, ridges are the
        # perpendicular bisectors.
        axis = np.linalg.svd(centred, full_matrices=False)[2][0]
        order = np.argsort(centred @ axis)
        normal = np.array([-axis[1], axis[0]])
        rows_out = []
        for i, j in itertools.pairwise(order):
            mid = 0.5 * (centres_xy[i] + centres_xy[j])
            rows_out.append((min(i, j), max(i, j), _clip_segment(mid - far * normal, mid + far * normal, lo, hi)))
        return pd.DataFrame(rows_out, columns=["a", "b", "ridge_px"])
    vor = Voronoi(centres_xy)
    centre = centres_xy.mean(axis=0)
    pairs, lengths = [], []
    for (i, j), verts in zip(vor.ridge_points, vor.ridge_vertices, strict=True):
        verts = np.asarray(verts)
        if np.all(verts >= 0):
            length = _clip_segment(vor.vertices[verts[0]], vor.vertices[verts[1]], lo, hi)
        else:
            finite = vor.vertices[verts[verts >= 0][0]]
            tangent = centres_xy[j] - centres_xy[i]
            normal = np.array([-tangent[1], tangent[0]]) / np.hypot(*tangent)
            midpoint = 0.5 * (centres_xy[i] + centres_xy[j])
            direction = np.sign(np.dot(midpoint - centre, normal)) * normal
            length = _clip_segment(finite, finite + direction * far, lo, hi)
        pairs.append((min(i, j), max(i, j)))
        lengths.append(length)
    out = pd.DataFrame(pairs, columns=["a", "b"])
    out["ridge_px"] = lengths
    return out


def make_disk_mosaic(
    shape: Sequence[int],
    radii_px: float | Sequence[float],
    *,
    gap_px: float,
    noise_sigma: float = 0.0,
    layout: Literal["hex", "square", "random"] = "hex",
    pixel_size_m: float = 2e-9,
    rng: np.random.Generator | int | None = None,
) -> SyntheticSample:
    """Digitised disks on a regular or random layout, with analytic sizes and neighbour pairs.

    Bright disks (0.8 of full scale) on a dark background (0.2), optionally with Gaussian
    noise.  Every disk lies wholly inside the image.  A pixel belongs to a disk when its centre
    is within the radius of the disk's (subpixel) centre.

    Parameters
    ----------
    shape : pair of int
        (rows, cols) in pixels.
    radii_px : float or sequence of float
        Disk radius in pixels, or the radii to choose from at random (uniformly, with `rng`).
    gap_px : float
        Minimum edge-to-edge distance between disks in pixels (continuum); the lattice pitch is
        ``2 * max(radii_px) + gap_px``.
    noise_sigma : float, optional
        Standard deviation of additive Gaussian noise, as a fraction of full scale.  Default 0.
    layout : {"hex", "square", "random"}, optional
        Centres on a triangular lattice (default; 6 neighbours in the interior), a square
        lattice (4 neighbours), or random sequential addition at the minimum pitch.
    pixel_size_m : float, optional
        Pixel size in metres used for the table.  Default 2e-9.
    rng : numpy.random.Generator or int or None, optional
        Random source or seed (radii choice, random layout, noise).

    Returns
    -------
    SyntheticSample
        ``image`` (uint8), ``labels``, ``grains`` (with an extra analytic ``radius_m`` column;
        ``area_m2`` and ``diameter_m`` are from the pixel counts), ``junctions`` (see Notes),
        ``databar_rows`` 0, ``preset`` ``"disk-mosaic"``.

    Raises
    ------
    InputError
        If `shape` is invalid, a radius is not > 0, `gap_px` < 0, `noise_sigma` < 0, `layout`
        is unknown, or not a single disk fits.

    Notes
    -----
    Input units: pixels.  Output units: m, m^2.

    ``junctions`` lists the pairs whose Voronoi cells (of the disk centres) share a boundary of
    more than half a pixel inside the field, with ``gap_m`` = centre distance - r_a - r_b (the
    continuum edge-to-edge distance; a pixel measurement may differ by about 1 px),
    ``facing_length_m`` = that shared boundary length and ``center_distance_m``.  For equal radii
    the Voronoi cells are the zones of influence (SKIZ) of the disks, so these are exactly the
    SKIZ neighbours; diagonal pairs of the square lattice meet at a point and are not listed.
    With ``layout="random"`` a pixel SKIZ may disagree on pairs whose shared boundary is
    shorter than about a pixel.

    Examples
    --------
    >>> sample = make_disk_mosaic((64, 64), 6.0, gap_px=4.0, rng=0)
    >>> len(sample.grains), int(sample.labels.max())
    (12, 12)
    >>> bool((sample.junctions["gap_m"] > 0).all())
    True
    """
    rows, cols = _validate_shape(shape)
    radii_choice = np.atleast_1d(np.asarray(radii_px, dtype=np.float64))
    if radii_choice.size == 0 or not np.all(np.isfinite(radii_choice)) or np.any(radii_choice <= 0):
        msg = f"radii_px must be > 0, got {radii_px!r}"
        raise InputError(msg)
    for name, value in (("gap_px", gap_px), ("noise_sigma", noise_sigma)):
        if not (math.isfinite(value) and value >= 0):
            msg = f"{name} must be finite and >= 0, got {value!r}"
            raise InputError(msg)
    if not (math.isfinite(pixel_size_m) and pixel_size_m > 0):
        msg = f"pixel_size_m must be finite and > 0, got {pixel_size_m!r}"
        raise InputError(msg)
    if layout not in ("hex", "square", "random"):
        msg = f"layout must be 'hex', 'square' or 'random', got {layout!r}"
        raise InputError(msg)
    gen = np.random.default_rng(rng)
    r_max = float(radii_choice.max())
    pitch = 2.0 * r_max + gap_px
    margin = r_max + max(1.0, 0.5 * gap_px)
    usable_h, usable_w = rows - 2 * margin, cols - 2 * margin
    if usable_h < 0 or usable_w < 0:
        msg = f"no disk of radius {r_max} px fits in shape {(rows, cols)}; use a larger shape or smaller radii"
        raise InputError(msg)
    if layout == "square":
        ny, nx = int(usable_h // pitch) + 1, int(usable_w // pitch) + 1
        yy, xx = np.meshgrid(np.arange(ny) * pitch, np.arange(nx) * pitch, indexing="ij")
        centres = np.column_stack([yy.ravel(), xx.ravel()])
        centres += np.array(
            [margin + 0.5 * (usable_h - (ny - 1) * pitch), margin + 0.5 * (usable_w - (nx - 1) * pitch)]
        )
    elif layout == "hex":
        dy = pitch * math.sqrt(3.0) / 2.0
        ny = int(usable_h // dy) + 1
        if usable_w < 0.5 * pitch:
            ny = 1  # no room for the half-pitch offset of odd rows
        nx = int((usable_w - (0.5 * pitch if ny > 1 else 0.0)) // pitch) + 1
        pts = [(j * dy, i * pitch + 0.5 * pitch * (j % 2)) for j in range(ny) for i in range(nx)]
        centres = np.asarray(pts, dtype=np.float64)
        extent = centres.max(axis=0)
        centres += np.array([margin + 0.5 * (usable_h - extent[0]), margin + 0.5 * (usable_w - extent[1])])
    else:
        accepted: list[np.ndarray] = []
        failures = 0
        while failures < 200:
            cand = np.array([margin, margin]) + gen.random((64, 2)) * np.array([usable_h, usable_w])
            if accepted:
                arr = np.asarray(accepted)
                dist = np.hypot(cand[:, None, 0] - arr[None, :, 0], cand[:, None, 1] - arr[None, :, 1])
                ok = np.flatnonzero(np.all(dist >= pitch, axis=1))
            else:
                ok = np.array([0])
            if ok.size == 0:
                failures += 1
                continue
            failures = 0
            accepted.append(cand[ok[0]])
        centres = np.asarray(accepted)
    n = len(centres)
    radii = gen.choice(radii_choice, size=n) if radii_choice.size > 1 else np.full(n, radii_choice[0])
    labels = np.zeros((rows, cols), dtype=np.int32)
    for k, ((cy, cx), r) in enumerate(zip(centres, radii, strict=True)):
        box = _box(cy, cx, r + 1.0, (rows, cols))
        assert box is not None  # every centre lies inside the field
        yy_b = np.arange(box[0], box[1])[:, None] - cy
        xx_b = np.arange(box[2], box[3])[None, :] - cx
        inside = yy_b**2 + xx_b**2 <= r * r
        labels[box[0] : box[1], box[2] : box[3]][inside] = k + 1
    # Raster order of first pixels, and the map from lattice index to grain id.
    flat = labels.ravel()
    present, first = np.unique(flat, return_index=True)
    present, first = present[present > 0], first[present > 0]
    order = present[np.argsort(first)]
    lut = np.zeros(n + 1, dtype=np.int32)
    lut[order] = np.arange(1, order.size + 1, dtype=np.int32)
    labels = lut[labels]
    grains = _truth_table(labels, np.zeros(order.size, dtype=np.int64), pixel_size_m)
    grains["radius_m"] = radii[order - 1] * pixel_size_m
    # Known neighbour pairs (Voronoi of the centres, clipped to the field).
    if n >= 2:
        ridges = _voronoi_ridges(centres[:, ::-1], (rows, cols))
        ridges = ridges[ridges["ridge_px"] > 0.5]
        ga, gb = lut[ridges["a"].to_numpy() + 1], lut[ridges["b"].to_numpy() + 1]
        a_idx, b_idx = ridges["a"].to_numpy(), ridges["b"].to_numpy()
        cdist = np.hypot(*(centres[a_idx] - centres[b_idx]).T)
        junctions = pd.DataFrame(
            {
                "grain_a": np.minimum(ga, gb).astype(np.int64),
                "grain_b": np.maximum(ga, gb).astype(np.int64),
                "gap_m": (cdist - radii[a_idx] - radii[b_idx]) * pixel_size_m,
                "facing_length_m": ridges["ridge_px"].to_numpy() * pixel_size_m,
                "center_distance_m": cdist * pixel_size_m,
            }
        )
        junctions = junctions.sort_values(["grain_a", "grain_b"], ignore_index=True)
    else:
        junctions = _empty_junctions()
    signal = np.where(labels > 0, np.float32(0.8), np.float32(0.2))
    if noise_sigma > 0:
        signal = signal + np.float32(noise_sigma) * gen.standard_normal((rows, cols), dtype=np.float32)
    record = {
        "shape": [rows, cols],
        "radii_px": [float(r) for r in radii_choice],
        "gap_px": float(gap_px),
        "noise_sigma": float(noise_sigma),
        "layout": layout,
        "pixel_size_m": float(pixel_size_m),
        "seed": _seed_record(rng),
    }
    return SyntheticSample(
        image=_to_digital(signal, 8),
        labels=labels,
        grains=grains,
        pixel_size_m=float(pixel_size_m),
        databar_rows=0,
        preset="disk-mosaic",
        params=record,
        junctions=junctions,
    )


def _validate_graph_lengths(spacing_m: float, gap_m: float, gap_sigma_ln: float) -> None:
    if not (math.isfinite(spacing_m) and spacing_m > 0):
        msg = f"spacing_m must be finite and > 0, got {spacing_m!r}"
        raise InputError(msg)
    if not (math.isfinite(gap_m) and 0 <= gap_m < spacing_m):
        msg = f"gap_m must be >= 0 and < spacing_m ({spacing_m!r}), got {gap_m!r}"
        raise InputError(msg)
    if not (math.isfinite(gap_sigma_ln) and gap_sigma_ln >= 0):
        msg = f"gap_sigma_ln must be finite and >= 0, got {gap_sigma_ln!r}"
        raise InputError(msg)


def _graph_tables(
    rows_idx: np.ndarray,
    cols_idx: np.ndarray,
    n_rows: int,
    n_cols: int,
    pairs: np.ndarray,
    *,
    spacing_m: float,
    gap_m: float,
    gap_sigma_ln: float,
    rng: np.random.Generator | int | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    side_m = spacing_m - gap_m
    n = rows_idx.size
    area_m2 = np.full(n, side_m * side_m)
    grains = pd.DataFrame(
        {
            "grain_id": np.arange(1, n + 1, dtype=np.int64),
            "x_m": cols_idx * spacing_m,
            "y_m": rows_idx * spacing_m,
            "area_m2": area_m2,
            "diameter_m": 2.0 * np.sqrt(area_m2 / np.pi),
            "touches_border": (rows_idx == 0) | (rows_idx == n_rows - 1) | (cols_idx == 0) | (cols_idx == n_cols - 1),
            "lattice_row": rows_idx.astype(np.int64),
            "lattice_col": cols_idx.astype(np.int64),
        }
    )
    gaps = np.full(len(pairs), gap_m)
    if gap_sigma_ln > 0 and len(pairs):
        gaps = gaps * np.exp(gap_sigma_ln * np.random.default_rng(rng).standard_normal(len(pairs)))
    junctions = pd.DataFrame(
        {
            "grain_a": pairs[:, 0].astype(np.int64) if len(pairs) else np.zeros(0, np.int64),
            "grain_b": pairs[:, 1].astype(np.int64) if len(pairs) else np.zeros(0, np.int64),
            "gap_m": gaps,
            "facing_length_m": np.full(len(pairs), side_m),
            "center_distance_m": np.full(len(pairs), spacing_m),
        }
    )
    return grains, junctions


def make_square_lattice_graph(
    n_rows: int,
    n_cols: int,
    *,
    spacing_m: float = 100e-9,
    gap_m: float = 10e-9,
    gap_sigma_ln: float = 0.0,
    rng: np.random.Generator | int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Grains and junctions of a square lattice of square grains (for transport tests).

    Grain (row r, col c) has ``grain_id = r * n_cols + c + 1`` (raster order), centre
    ``x_m = c * spacing_m``, ``y_m = r * spacing_m``; it is a square of side
    ``spacing_m - gap_m``.  Junctions join horizontal and vertical nearest neighbours.

    Parameters
    ----------
    n_rows, n_cols : int
        Lattice size (>= 1 each).
    spacing_m : float, optional
        Centre-to-centre distance in metres.  Default 100e-9 (the paper's ~0.1 um grains).
    gap_m : float, optional
        Junction gap in metres (edge to edge).  Default 10e-9 (the paper's ~10 nm).
    gap_sigma_ln : float, optional
        If > 0, each junction's gap is ``gap_m * exp(gap_sigma_ln * N(0, 1))`` (positions do not
        change).  Default 0: uniform gaps.
    rng : numpy.random.Generator or int or None, optional
        Random source for the gaps.

    Returns
    -------
    grains : pandas.DataFrame
        ``grain_id, x_m, y_m, area_m2, diameter_m, touches_border, lattice_row, lattice_col``.
    junctions : pandas.DataFrame
        ``grain_a < grain_b, gap_m, facing_length_m`` (= the grain side),
        ``center_distance_m``, sorted by (grain_a, grain_b); 2 n_rows n_cols - n_rows - n_cols
        rows.

    Raises
    ------
    InputError
        If a size is < 1 or a length is invalid.

    Notes
    -----
    Input units: m.  Output units: m, m^2.  PHYSICS.md section 5 numbers lattice nodes
    column-major (i * n_y + j); here ids are row-major, and ``lattice_row``/``lattice_col``
    give the position.

    Examples
    --------
    >>> grains, junctions = make_square_lattice_graph(3, 4)
    >>> len(grains), len(junctions)
    (12, 17)
    """
    for name, value in (("n_rows", n_rows), ("n_cols", n_cols)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            msg = f"{name} must be an integer >= 1, got {value!r}"
            raise InputError(msg)
    _validate_graph_lengths(spacing_m, gap_m, gap_sigma_ln)
    ids = np.arange(n_rows * n_cols).reshape(n_rows, n_cols) + 1
    horizontal = np.column_stack([ids[:, :-1].ravel(), ids[:, 1:].ravel()])
    vertical = np.column_stack([ids[:-1, :].ravel(), ids[1:, :].ravel()])
    pairs = np.concatenate([horizontal, vertical]).reshape(-1, 2)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    rows_idx, cols_idx = np.divmod(np.arange(n_rows * n_cols), n_cols)
    return _graph_tables(
        rows_idx, cols_idx, n_rows, n_cols, pairs, spacing_m=spacing_m, gap_m=gap_m, gap_sigma_ln=gap_sigma_ln, rng=rng
    )


def make_chain_graph(
    n: int,
    *,
    spacing_m: float = 100e-9,
    gap_m: float = 10e-9,
    gap_sigma_ln: float = 0.0,
    rng: np.random.Generator | int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Grains and junctions of a straight chain of `n` square grains along x.

    Grain ``k + 1`` sits at ``x_m = k * spacing_m``, ``y_m = 0``; junctions join ``k`` and
    ``k + 1``.  It is a 1 x n :func:`make_square_lattice_graph` (same columns).

    Parameters
    ----------
    n : int
        Number of grains (>= 1).
    spacing_m : float, optional
        Centre-to-centre distance in metres.  Default 100e-9.
    gap_m : float, optional
        Junction gap in metres.  Default 10e-9.
    gap_sigma_ln : float, optional
        Log-normal spread of the junction gaps (0 = uniform).  Default 0.
    rng : numpy.random.Generator or int or None, optional
        Random source for the gaps.

    Returns
    -------
    grains, junctions : pandas.DataFrame
        As :func:`make_square_lattice_graph`; ``n - 1`` junctions.

    Raises
    ------
    InputError
        If `n` < 1 or a length is invalid.

    Notes
    -----
    Input units: m.  Output units: m, m^2.

    Examples
    --------
    >>> grains, junctions = make_chain_graph(5, gap_m=5e-9)
    >>> junctions[["grain_a", "grain_b"]].to_numpy().tolist()
    [[1, 2], [2, 3], [3, 4], [4, 5]]
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        msg = f"n must be an integer >= 1, got {n!r}"
        raise InputError(msg)
    return make_square_lattice_graph(1, n, spacing_m=spacing_m, gap_m=gap_m, gap_sigma_ln=gap_sigma_ln, rng=rng)
