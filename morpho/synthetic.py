"""Synthetic micrographs and grain graphs with exact ground truth.

Public generators for tests, demos and accuracy benchmarks (STYLE M26):

:func:`make_sem_micrograph`
    An SEM-like image of bright islands on a darker matrix, drawn from a named preset (the seed
    paper's bimodal In/InOx film by default), with its exact label image and grains table.
:func:`make_disk_mosaic`
    Digitised disks on a hexagonal, square or random layout with analytic radii and known
    neighbour pairs, for unit tests of measurement and graph code.
:func:`make_square_lattice_graph`, :func:`make_chain_graph`
    Grains and junctions tables of regular networks, for transport tests.

Every generator takes ``rng`` (a :class:`numpy.random.Generator`, an integer seed or ``None``)
and never touches NumPy's global random state (STYLE M29).  The truth is primary: the label
image is built first and the micrograph is rendered from it, so the tables describe the image
exactly.  Conventions (DESIGN.md): ``x_m`` is the column and ``y_m`` the row coordinate in metres,
origin at the centre of the top-left pixel; ``grain_id`` runs 1..n in raster order of each
grain's first pixel.
"""

from __future__ import annotations

import itertools
import math
import types
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np
import pandas as pd
from scipy.spatial import Voronoi
from skimage.measure import label as _sk_label

from .errors import ConfigError, InputError

__all__ = [
    "GRAIN_TRUTH_COLUMNS",
    "PRESETS",
    "SyntheticSample",
    "make_chain_graph",
    "make_disk_mosaic",
    "make_sem_micrograph",
    "make_square_lattice_graph",
]

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
        first pixel.  Every grain is one 4-connected component; databar rows are 0.
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


# ---------------------------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------------------------

_INOX_BIMODAL: dict[str, Any] = {
    # --- geometry (lengths in metres) ---
    "pixel_size_m": 2e-9,
    "large_median_diameter_m": 450e-9,
    "large_sigma_ln": 0.30,
    "small_median_diameter_m": 30e-9,
    "small_sigma_ln": 0.30,
    "small_number_fraction": 0.57,
    "large_packing_ratio": 0.85,
    "large_coverage_target": 0.70,
    "large_shape_amplitude": 0.10,
    "small_shape_amplitude": 0.05,
    "shape_max_mode": 6,
    "large_gap_min_m": 4e-9,
    "large_gap_max_m": 20e-9,
    "small_gap_min_m": 6e-9,
    # --- rendering (intensities as fractions of full scale) ---
    "matrix_level": 0.17,
    "matrix_texture": 0.025,
    "grain_level": 0.50,
    "grain_level_sd": 0.05,
    "edge_gain": 0.30,
    "edge_width_px": 2.0,
    "blur_sigma_px": 1.2,
    "dose_counts_per_px": 60.0,
    "scanline_sigma": 0.012,
    "gradient_amplitude": 0.10,
    "databar_fraction": 0.07,
}

_DENSE = {
    **_INOX_BIMODAL,
    "small_number_fraction": 0.30,
    "large_packing_ratio": 0.60,
    "large_coverage_target": 1.40,
    "large_gap_min_m": 2e-9,
    "large_gap_max_m": 4e-9,
    "matrix_level": 0.10,
}

_LOWDOSE = {
    **_INOX_BIMODAL,
    "dose_counts_per_px": 6.0,
    "scanline_sigma": 0.02,
}

#: Named parameter sets for :func:`make_sem_micrograph` (read-only mappings).
#:
#: ``"inox-bimodal"``: the seed paper's In/InOx film (PNAS 119, e2202496119, Fig. 2).
#: ``"dense"``: islands packed until they nearly touch, separated by dark 2 px grooves.
#: ``"lowdose"``: the ``inox-bimodal`` geometry imaged with 6 counts per pixel (noisy).
#: The meaning of every key is documented in :func:`make_sem_micrograph`.
PRESETS: Mapping[str, Mapping[str, Any]] = types.MappingProxyType(
    {
        "inox-bimodal": types.MappingProxyType(_INOX_BIMODAL),
        "dense": types.MappingProxyType(_DENSE),
        "lowdose": types.MappingProxyType(_LOWDOSE),
    }
)

# Range checks for every preset key: (low, high, low_inclusive).
_PARAM_RANGES: dict[str, tuple[float, float, bool]] = {
    "pixel_size_m": (0.0, math.inf, False),
    "large_median_diameter_m": (0.0, math.inf, False),
    "large_sigma_ln": (0.0, 2.0, True),
    "small_median_diameter_m": (0.0, math.inf, False),
    "small_sigma_ln": (0.0, 2.0, True),
    "small_number_fraction": (0.0, 1.0, True),
    "large_packing_ratio": (0.3, 2.0, True),
    "large_coverage_target": (0.0, 3.0, True),
    "large_shape_amplitude": (0.0, 0.4, True),
    "small_shape_amplitude": (0.0, 0.4, True),
    "shape_max_mode": (2, 32, True),
    "large_gap_min_m": (0.0, math.inf, True),
    "large_gap_max_m": (0.0, math.inf, True),
    "small_gap_min_m": (0.0, math.inf, True),
    "matrix_level": (0.0, 1.0, True),
    "matrix_texture": (0.0, 1.0, True),
    "grain_level": (0.0, 1.0, True),
    "grain_level_sd": (0.0, 1.0, True),
    "edge_gain": (0.0, 1.0, True),
    "edge_width_px": (0.0, math.inf, False),
    "blur_sigma_px": (0.0, 50.0, True),
    "dose_counts_per_px": (0.0, math.inf, False),
    "scanline_sigma": (0.0, 1.0, True),
    "gradient_amplitude": (0.0, 1.0, True),
    "databar_fraction": (0.0, 0.5, True),
}

_SMALL_MAX_DRAWS_PER_GRAIN = 8
_LARGE_TRIES_PER_GRAIN = 64
_LARGE_MAX_CONSECUTIVE_FAILURES = 200


# ---------------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------------


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


def _validate_params(preset: str, pixel_size_m: float | None, params: Mapping[str, Any] | None) -> dict[str, Any]:
    if preset not in PRESETS:
        msg = f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}"
        raise ConfigError(msg)
    resolved = dict(PRESETS[preset])
    unknown = sorted(set(params or {}) - set(resolved))
    if unknown:
        msg = f"unknown synthetic parameter(s) {unknown}; valid keys are {sorted(resolved)}"
        raise ConfigError(msg)
    resolved.update(params or {})
    if pixel_size_m is not None:
        resolved["pixel_size_m"] = pixel_size_m
    for key, value in resolved.items():
        low, high, low_inclusive = _PARAM_RANGES[key]
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            msg = f"synthetic parameter {key} must be a number, got {value!r}"
            raise ConfigError(msg)
        value = float(value)
        ok = math.isfinite(value) and (value >= low if low_inclusive else value > low) and value <= high
        if not ok:
            bracket = "[" if low_inclusive else "("
            msg = f"synthetic parameter {key} = {value!r} is outside {bracket}{low}, {high}]; pass a value in that range"
            raise ConfigError(msg)
        resolved[key] = int(value) if key == "shape_max_mode" else value
    if resolved["large_gap_max_m"] < resolved["large_gap_min_m"]:
        msg = (
            f"large_gap_max_m ({resolved['large_gap_max_m']!r}) must be >= large_gap_min_m "
            f"({resolved['large_gap_min_m']!r}); swap or widen them"
        )
        raise ConfigError(msg)
    if resolved["small_number_fraction"] >= 1.0:
        msg = "small_number_fraction must be < 1 (some grains must be large); pass e.g. 0.57"
        raise ConfigError(msg)
    return resolved


def _seed_record(rng: np.random.Generator | int | None) -> int | None:
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return int(rng)
    return None


# ---------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------


def _fourier_shapes(n: int, amplitude: float, max_mode: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random radial Fourier coefficients a_k (k = 2..max_mode) and phases, rms = `amplitude`.

    The radius is R(theta) = r0 (1 + sum_k a_k cos(k theta - phi_k)); its rms relative deviation
    is sqrt(sum a_k^2 / 2).  The weights fall as 1/k (smooth, rounded islands) and sum |a_k| is
    capped at 0.6, so R > 0 everywhere and each shape is star-shaped about its centre.
    """
    k = np.arange(2, max_mode + 1, dtype=np.float64)
    weights = (1.0 / k) / np.sqrt(np.sum(1.0 / k**2))
    coeffs = amplitude * math.sqrt(2.0) * weights * rng.standard_normal((n, k.size))
    total = np.abs(coeffs).sum(axis=1, keepdims=True)
    coeffs *= np.minimum(1.0, 0.6 / np.maximum(total, 1e-300))
    phases = rng.uniform(0.0, 2.0 * np.pi, size=(n, k.size))
    return coeffs, phases


def _base_radius(diameter_px: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """r0 such that the continuous star shape has area pi (D/2)^2 exactly."""
    return 0.5 * diameter_px / np.sqrt(1.0 + 0.5 * np.sum(coeffs**2, axis=1))


def _rho_box(
    cy: float, cx: float, r0: float, coeffs: np.ndarray, phases: np.ndarray, box: tuple[int, int, int, int]
) -> np.ndarray:
    """Normalised radial coordinate |p - c| / R(theta(p)) on the pixel centres of `box`."""
    r_lo, r_hi, c_lo, c_hi = box
    dy = (np.arange(r_lo, r_hi, dtype=np.float32) - np.float32(cy))[:, None]
    dx = (np.arange(c_lo, c_hi, dtype=np.float32) - np.float32(cx))[None, :]
    dist = np.hypot(dx, dy)
    theta = np.arctan2(dy, dx)
    radius = np.ones_like(dist)
    for order, (a_k, phi_k) in enumerate(zip(coeffs, phases, strict=True), start=2):
        radius += np.float32(a_k) * np.cos(order * theta - np.float32(phi_k))
    return dist / (np.float32(r0) * radius)


def _box(cy: float, cx: float, reach: float, shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
    r_lo = max(0, math.floor(cy - reach))
    r_hi = min(shape[0], math.ceil(cy + reach) + 1)
    c_lo = max(0, math.floor(cx - reach))
    c_hi = min(shape[1], math.ceil(cx + reach) + 1)
    if r_lo >= r_hi or c_lo >= c_hi:
        return None
    return r_lo, r_hi, c_lo, c_hi


def _place_large(p: Mapping[str, Any], shape: tuple[int, int], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random sequential placement of the large grains' centres in the field plus a margin.

    Centres are kept at least ``large_packing_ratio * (r_i + r_j)`` apart (below 1 the drawn
    shapes overlap a little and are then cut along the weighted-Voronoi boundary, which gives
    the narrow gaps of a film near coalescence).  Placement stops when the drawn shapes'
    area reaches ``large_coverage_target`` of the domain or when the film is jammed.
    """
    px = p["pixel_size_m"]
    median_px = p["large_median_diameter_m"] / px
    sigma = p["large_sigma_ln"]
    reach_max = 0.5 * median_px * math.exp(3.0 * sigma) * 1.6
    pad = reach_max
    lo = np.array([-pad, -pad])
    span = np.array([shape[0] + 2 * pad, shape[1] + 2 * pad])
    domain_area = float(span[0] * span[1])
    target = p["large_coverage_target"] * domain_area
    ratio = p["large_packing_ratio"]
    centres: list[np.ndarray] = []
    radii: list[float] = []
    diameters: list[float] = []
    covered = 0.0
    failures = 0
    cap = int(4 * domain_area / (0.25 * np.pi * median_px**2)) + 16
    d = float(median_px * math.exp(sigma * rng.standard_normal()))
    while covered < target and failures < _LARGE_MAX_CONSECUTIVE_FAILURES and len(radii) < cap:
        # The same diameter is retried until it fits (or the film is jammed), so that the
        # placed diameters are an unbiased log-normal sample.
        r = 0.5 * d
        cand = lo + rng.random((_LARGE_TRIES_PER_GRAIN, 2)) * span
        if centres:
            c_arr = np.asarray(centres)
            r_arr = np.asarray(radii)
            dist = np.hypot(cand[:, None, 0] - c_arr[None, :, 0], cand[:, None, 1] - c_arr[None, :, 1])
            ok = np.all(dist >= ratio * (r + r_arr[None, :]), axis=1)
            hit = np.flatnonzero(ok)
        else:
            hit = np.array([0])
        if hit.size == 0:
            failures += 1
            continue
        failures = 0
        centres.append(cand[hit[0]])
        radii.append(r)
        diameters.append(d)
        covered += np.pi * r * r
        d = float(median_px * math.exp(sigma * rng.standard_normal()))
    n = len(radii)
    coeffs, phases = _fourier_shapes(n, p["large_shape_amplitude"], p["shape_max_mode"], rng)
    gap_lo = p["large_gap_min_m"] / px
    gap_hi = p["large_gap_max_m"] / px
    return {
        "centre": np.asarray(centres, dtype=np.float64).reshape(n, 2),
        "diameter_px": np.asarray(diameters, dtype=np.float64),
        "coeffs": coeffs,
        "phases": phases,
        # half of the matrix gap this grain keeps from the boundary of its cell
        "half_gap_px": rng.uniform(0.5 * gap_lo, 0.5 * gap_hi, size=n),
    }


def _render_large(grains: Mapping[str, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Label image (1..n = index + 1) of the large grains, cut to their cells and gapped.

    Each pixel near some grain goes to the grain with the smallest normalised radius
    rho = |p - c| / R(theta) (a multiplicatively weighted Voronoi partition); a grain keeps the
    pixels of its own cell with rho <= 1 that lie at least its half gap from the cell
    boundary, so two neighbours are separated by the sum of their half gaps.
    """
    best_rho = np.full(shape, np.inf, dtype=np.float32)
    best_id = np.zeros(shape, dtype=np.int32)
    half_gap = grains["half_gap_px"]
    margin = 2.0 * float(half_gap.max(initial=0.0)) + 3.0
    for idx, ((cy, cx), d, coeffs, phases) in enumerate(
        zip(grains["centre"], grains["diameter_px"], grains["coeffs"], grains["phases"], strict=True)
    ):
        r0 = float(_base_radius(np.array([d]), coeffs[None, :])[0])
        reach = r0 * (1.0 + float(np.abs(coeffs).sum())) + margin
        box = _box(cy, cx, reach, shape)
        if box is None:
            continue
        rho = _rho_box(cy, cx, r0, coeffs, phases, box)
        sl = (slice(box[0], box[1]), slice(box[2], box[3]))
        sub_rho = best_rho[sl]
        better = rho < sub_rho
        sub_rho[better] = rho[better]
        best_id[sl][better] = idx + 1
    # Cell boundary: both pixels of every 4-neighbour pair that belong to different cells.
    boundary = np.zeros(shape, dtype=bool)
    upper, lower = best_id[:-1, :], best_id[1:, :]
    diff = (upper != lower) & (upper > 0) & (lower > 0)
    boundary[:-1, :] |= diff
    boundary[1:, :] |= diff
    left, right = best_id[:, :-1], best_id[:, 1:]
    diff = (left != right) & (left > 0) & (right > 0)
    boundary[:, :-1] |= diff
    boundary[:, 1:] |= diff
    if boundary.any():
        # The 5x5 chamfer distance is within ~2 % of Euclidean and five times faster.
        dist_b = cv2.distanceTransform((~boundary).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    else:
        dist_b = np.full(shape, np.inf, dtype=np.float32)
    # A pixel at distance D from the two-pixel-thick boundary band is kept when D >= h - 1/2:
    # about round(h) matrix pixels remain on each side, so facing islands end up h_i + h_j apart.
    # The band itself is always matrix (threshold >= 1/2): distinct islands never touch, and
    # pixels of different islands are always more than 2 px apart.
    half_lut = np.concatenate([[np.inf], np.maximum(half_gap - 0.5, 0.5)]).astype(np.float32)
    keep = (best_rho <= 1.0) & (dist_b >= half_lut[best_id])
    return np.where(keep, best_id, 0).astype(np.int32)


def _place_small(
    labels: np.ndarray,
    n_small: int,
    p: Mapping[str, Any],
    first_label: int,
    rng: np.random.Generator,
) -> int:
    """Draw `n_small` small grains into the matrix of `labels` (in place); return how many fit.

    Each grain's centre is drawn uniformly among the matrix pixels whose distance to every grain
    pixel exceeds the grain's outer radius plus the minimum gap, so a new grain never overlaps
    or touches another (random sequential addition).
    """
    if n_small <= 0:
        return 0
    shape = labels.shape
    px = p["pixel_size_m"]
    gap = p["small_gap_min_m"] / px
    diam = (p["small_median_diameter_m"] / px) * np.exp(p["small_sigma_ln"] * rng.standard_normal(n_small))
    coeffs, phases = _fourier_shapes(n_small, p["small_shape_amplitude"], p["shape_max_mode"], rng)
    r0 = _base_radius(diam, coeffs)
    outer = r0 * (1.0 + np.abs(coeffs).sum(axis=1))
    # A subpixel offset of the centre (|offset| <= sqrt(2)/2) is allowed for by the clearance.
    clearance = outer + gap + 0.75
    c_max = float(clearance.max())
    dist = cv2.distanceTransform((labels == 0).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    if not (labels > 0).any():
        dist[...] = np.inf
    placed = 0
    for i in range(n_small):
        need = clearance[i]
        pick = None
        for _ in range(_SMALL_MAX_DRAWS_PER_GRAIN):
            rr = rng.integers(0, shape[0], size=1024)
            cc = rng.integers(0, shape[1], size=1024)
            ok = np.flatnonzero(dist[rr, cc] > need)
            if ok.size:
                pick = (int(rr[ok[0]]), int(cc[ok[0]]))
                break
        if pick is None:
            free = np.flatnonzero(dist.ravel() > need)
            if free.size == 0:
                continue
            pick = divmod(int(free[rng.integers(free.size)]), shape[1])
        cy = pick[0] + rng.uniform(-0.5, 0.5)
        cx = pick[1] + rng.uniform(-0.5, 0.5)
        box = _box(cy, cx, outer[i] + 1.0, shape)
        if box is None:
            continue
        rho = _rho_box(cy, cx, float(r0[i]), coeffs[i], phases[i], box)
        inside = rho <= 1.0
        sl = (slice(box[0], box[1]), slice(box[2], box[3]))
        labels[sl][inside] = first_label + placed
        placed += 1
        # Update the distance map near the new grain: min(old, distance to the new grain).
        wbox = _box(cy, cx, outer[i] + c_max + 2.0, shape)
        assert wbox is not None  # contains `box`
        wsl = (slice(wbox[0], wbox[1]), slice(wbox[2], wbox[3]))
        local = cv2.distanceTransform(
            (labels[wsl] != first_label + placed - 1).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE
        )
        np.minimum(dist[wsl], local, out=dist[wsl])
    return placed


def _relabel_single_components(labels: np.ndarray, modes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep the largest 4-connected piece of every grain and renumber in raster order.

    Returns the new label image (int32) and the mode of each new label (index label - 1).
    Assumes distinct grains are never 4-adjacent (the generators keep gaps between them).
    """
    comp = _sk_label(labels, background=0, connectivity=1).astype(np.int32)
    n_comp = int(comp.max())
    if n_comp == 0:
        return comp, np.zeros(0, dtype=np.int64)
    flat = comp.ravel().astype(np.intp)
    sizes = np.bincount(flat, minlength=n_comp + 1)
    # Every component lies inside one grain: its mean label is that grain's label.
    owner_sum = np.bincount(flat, weights=labels.ravel(), minlength=n_comp + 1)
    owner = np.rint(owner_sum / np.maximum(sizes, 1)).astype(np.int64)
    comp_ids = np.arange(1, n_comp + 1)
    # For every grain, the component with the most pixels (ties: the first in raster order).
    order = np.lexsort((comp_ids, -sizes[1:], owner[1:]))
    first_of_owner = np.ones(order.size, dtype=bool)
    first_of_owner[1:] = owner[1:][order][1:] != owner[1:][order][:-1]
    keep_ids = np.sort(comp_ids[order][first_of_owner])
    lut = np.zeros(n_comp + 1, dtype=np.int32)
    lut[keep_ids] = np.arange(1, keep_ids.size + 1, dtype=np.int32)
    new_modes = modes[owner[keep_ids] - 1]
    return lut[comp], new_modes


def _truth_table(labels: np.ndarray, modes: np.ndarray, pixel_size_m: float) -> pd.DataFrame:
    """Grains table computed from the label image (pixel counts and centroids)."""
    n = int(labels.max()) if labels.size else 0
    rows, cols = labels.shape
    flat = labels.ravel().astype(np.intp)
    area_px = np.bincount(flat, minlength=n + 1)[1:].astype(np.int64)
    safe = np.maximum(area_px, 1)
    row_idx = np.repeat(np.arange(rows, dtype=np.float64), cols)
    row_c = np.bincount(flat, weights=row_idx, minlength=n + 1)[1:] / safe
    col_idx = np.tile(np.arange(cols, dtype=np.float64), rows)
    col_c = np.bincount(flat, weights=col_idx, minlength=n + 1)[1:] / safe
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


def _bimodal_labels(p: Mapping[str, Any], shape: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    large = _place_large(p, shape, rng)
    lab = _render_large(large, shape)
    n_drawn = len(large["diameter_px"])
    # Islands in view.  A cut may leave an island in several pieces; only its largest piece
    # is kept below, so the count of islands does not change.
    n_large = int(np.count_nonzero(np.bincount(lab.ravel(), minlength=n_drawn + 1)[1:]))
    frac = p["small_number_fraction"]
    if n_large > 0:
        n_small = round(n_large * frac / (1.0 - frac))
    else:
        # No large grain in view: use the expected density of small grains instead.
        mean_area = 0.25 * np.pi * (p["large_median_diameter_m"] / p["pixel_size_m"]) ** 2
        n_small = round(shape[0] * shape[1] * 0.5 / mean_area * frac / (1.0 - frac))
    placed = _place_small(lab, n_small, p, n_drawn + 1, rng)
    if placed < n_small:
        msg = (
            f"only {placed} of {n_small} small grains fit in the matrix; lower small_number_fraction, "
            "small_gap_min_m or large_coverage_target"
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
    modes = np.concatenate([np.ones(n_drawn, dtype=np.int64), np.zeros(placed, dtype=np.int64)])
    return _relabel_single_components(lab, modes)


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


def _smooth_field(shape: tuple[int, int], sigma_px: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian random field with unit standard deviation and correlation length ~`sigma_px`."""
    field = rng.standard_normal(shape, dtype=np.float32)
    field = cv2.GaussianBlur(field, (0, 0), sigma_px, borderType=cv2.BORDER_REFLECT)
    std = float(field.std())
    return field / std if std > 0 else field


def _render_signal(labels: np.ndarray, p: Mapping[str, Any], rng: np.random.Generator, *, dark_grains: bool) -> np.ndarray:
    """Noise-free detector signal in [0, 1] (before shot and scan-line noise)."""
    shape = labels.shape
    n = int(labels.max())
    signal = np.float32(p["matrix_level"]) * (1.0 + np.float32(p["matrix_texture"]) * _smooth_field(shape, 4.0, rng))
    grain_mask = labels > 0
    if n > 0:
        levels = p["grain_level"] + p["grain_level_sd"] * rng.standard_normal(n)
        levels = np.clip(levels, 0.05, 0.95).astype(np.float32)
        lut = np.concatenate([[0.0], levels]).astype(np.float32)
        # Secondary-electron edge effect: rim brighter than the interior.
        inside = cv2.distanceTransform(grain_mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
        rim = np.float32(p["edge_gain"]) * np.exp(-(inside - 1.0) / np.float32(p["edge_width_px"]))
        signal = np.where(grain_mask, lut[labels] + rim, signal)
    if dark_grains:
        signal = 1.0 - signal
    # Smooth brightness gradient across the field (random direction).
    amp = p["gradient_amplitude"]
    if amp > 0:
        angle = rng.uniform(0.0, 2.0 * np.pi)
        yy = np.linspace(-0.5, 0.5, shape[0], dtype=np.float32)[:, None]
        xx = np.linspace(-0.5, 0.5, shape[1], dtype=np.float32)[None, :]
        signal = signal * (1.0 + np.float32(amp) * (np.float32(math.cos(angle)) * xx + np.float32(math.sin(angle)) * yy))
    if p["blur_sigma_px"] > 0:
        signal = cv2.GaussianBlur(signal.astype(np.float32), (0, 0), p["blur_sigma_px"], borderType=cv2.BORDER_REFLECT)
    return np.clip(signal, 0.0, 1.0).astype(np.float32)


def _add_noise(signal: np.ndarray, p: Mapping[str, Any], rng: np.random.Generator) -> np.ndarray:
    """Poisson shot noise at ``dose_counts_per_px`` and per-row scan-line offsets."""
    dose = p["dose_counts_per_px"]
    noisy = rng.poisson(signal.astype(np.float64) * dose).astype(np.float32) / np.float32(dose)
    if p["scanline_sigma"] > 0:
        noisy += np.float32(p["scanline_sigma"]) * rng.standard_normal((signal.shape[0], 1), dtype=np.float32)
    return noisy


def _nice_length_m(limit_m: float) -> float:
    """Return the largest 1, 2 or 5 x 10^k metres not above `limit_m`."""
    exponent = math.floor(math.log10(limit_m))
    for mantissa in (5.0, 2.0, 1.0):
        value = mantissa * 10.0**exponent
        if value <= limit_m:
            return value
    return 10.0**exponent


def _format_bar_label(length_m: float) -> str:
    if length_m >= 1e-6:
        return f"{length_m * 1e6:g} um"
    return f"{length_m * 1e9:g} nm"


def _databar(rows: int, cols: int, pixel_size_m: float) -> np.ndarray:
    """Draw a vendor-like information bar (uint8): near-black strip, white text and scale bar."""
    bar = np.full((rows, cols), 8, dtype=np.uint8)
    if rows < 4:
        return bar
    white = 245
    font = cv2.FONT_HERSHEY_SIMPLEX
    thickness = max(1, round(rows / 40))
    scale = max(0.2, rows / 80.0)
    length_m = _nice_length_m(0.2 * cols * pixel_size_m)
    length_px = max(2, round(length_m / pixel_size_m))
    x1 = cols - max(4, cols // 40)
    x0 = max(0, x1 - length_px)
    label = _format_bar_label(length_m)
    (tw, th), _ = cv2.getTextSize(label, font, scale, thickness)
    text_y = max(th + 1, int(rows * 0.45))
    cv2.putText(bar, label, (max(0, (x0 + x1 - tw) // 2), text_y), font, scale, white, thickness, cv2.LINE_AA)
    y0 = int(rows * 0.6)
    y1 = max(y0 + 1, int(rows * 0.75))
    cv2.rectangle(bar, (x0, y0), (x1 - 1, y1), white, thickness=-1)
    info = [
        f"HV = 5.00 kV   WD = 4.2 mm   pixel = {pixel_size_m * 1e9:.2f} nm",
        "morpho synthetic   Signal = InLens",
    ]
    text_w_max = max(8, x0 - cols // 20)
    for line_no, text in enumerate(info):
        (lw, _lh), _ = cv2.getTextSize(text, font, scale, thickness)
        s = scale * min(1.0, text_w_max / max(lw, 1))
        y = int(rows * (0.4 + 0.4 * line_no))
        cv2.putText(bar, text, (max(2, cols // 60), y), font, s, white, thickness, cv2.LINE_AA)
    return bar


def _to_digital(image01: np.ndarray, bit_depth: int) -> np.ndarray:
    top = 255 if bit_depth == 8 else 65535
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    return np.rint(np.clip(image01, 0.0, 1.0) * top).astype(dtype)


# ---------------------------------------------------------------------------------------------
# Public generators
# ---------------------------------------------------------------------------------------------


def make_sem_micrograph(
    shape: Sequence[int] = (1024, 1024),
    *,
    preset: str = "inox-bimodal",
    pixel_size_m: float | None = None,
    params: Mapping[str, Any] | None = None,
    bit_depth: Literal[8, 16] = 8,
    dark_grains: bool = False,
    databar: bool = False,
    rng: np.random.Generator | int | None = None,
) -> SyntheticSample:
    """Make an SEM-like micrograph of a granular film with its exact ground truth.

    The label image is drawn first (large irregular islands, then small grains in the matrix
    between them) and the micrograph is rendered from it: per-grain brightness, a bright
    secondary-electron rim, matrix texture, a smooth brightness gradient, Gaussian beam blur,
    Poisson shot noise, scan-line offsets and, optionally, a databar at the bottom.

    Parameters
    ----------
    shape : pair of int, optional
        (rows, cols) of the whole image in pixels, databar included.  Default (1024, 1024).
        At 2 nm per pixel a 1024 x 1024 field holds only a dozen large grains; use 2048 x 2048
        or more for size statistics.
    preset : str, optional
        Name of a parameter set in :data:`PRESETS`: ``"inox-bimodal"`` (default), ``"dense"``
        or ``"lowdose"``.
    pixel_size_m : float, optional
        Pixel size in metres; overrides the preset's ``pixel_size_m`` (2e-9 m).  Grain sizes
        are physical, so a larger pixel makes the grains smaller in pixels.
    params : mapping, optional
        Values that override the preset's, by key (all keys listed below; unknown keys raise).
    bit_depth : {8, 16}, optional
        8 (default) gives ``uint8``, 16 gives ``uint16`` over the full 0..65535 range.
    dark_grains : bool, optional
        Invert the contrast (dark grains on a bright matrix).  Default False.
    databar : bool, optional
        Add a vendor-like information bar (near-black, white text and scale bar) of
        ``databar_fraction`` of the rows at the bottom.  Default False.
    rng : numpy.random.Generator or int or None, optional
        Random source or seed.  The geometry and the rendering use separate child streams, so
        the same seed gives the same grains whatever the rendering parameters.

    Returns
    -------
    SyntheticSample
        ``image``, ``labels`` (int32, databar rows 0), ``grains`` (the true table, ``mode`` 1
        for the large population and 0 for the small one), ``pixel_size_m``,
        ``databar_rows``, ``preset`` and ``params`` (every parameter, JSON-serialisable).

    Raises
    ------
    InputError
        If `shape` is not two integers >= 8 (rows above the databar included).
    ConfigError
        If `preset` is unknown, a `params` key is unknown, a value is out of range, or
        `bit_depth` is not 8 or 16.

    Warns
    -----
    UserWarning
        If fewer small grains than requested fit into the matrix.

    Notes
    -----
    Input units: metres for ``*_m`` keys, pixels for ``*_px`` keys, fractions of the full
    intensity scale for levels.  Output units: m and m^2 in the table.

    Geometry keys (``inox-bimodal`` values, after the seed paper's Fig. 2: peaks at ~0.03 um and
    ~0.5 um, geometric-mean size ~0.1 um):

    ``pixel_size_m`` = 2e-9
        Pixel size.
    ``large_median_diameter_m`` = 450e-9, ``large_sigma_ln`` = 0.30
        Log-normal of the drawn equivalent diameter of the large islands (225 px).
    ``small_median_diameter_m`` = 30e-9, ``small_sigma_ln`` = 0.30
        Log-normal equivalent diameter of the small interstitial grains (15 px).
    ``small_number_fraction`` = 0.57
        Number fraction of small grains in the field (PHYSICS.md 6.2: a geometric mean of
        0.1 um with peaks at 0.03 and 0.5 um needs 0.572).
    ``large_packing_ratio`` = 0.85
        Large centres are placed at least this times (r_i + r_j) apart; below 1 neighbouring
        islands are drawn overlapping and then cut along their weighted-Voronoi boundary.
    ``large_coverage_target`` = 0.70
        Placement stops when the drawn (uncut) island area reaches this fraction of the field,
        or earlier when the film is jammed; the final metal coverage is about 0.55-0.6.
    ``large_shape_amplitude`` = 0.10, ``small_shape_amplitude`` = 0.05, ``shape_max_mode`` = 6
        rms relative radial perturbation of the star-shaped outlines, built from Fourier modes
        2..``shape_max_mode`` with weights 1/k (the outline area is kept at pi D^2 / 4).
    ``large_gap_min_m`` = 4e-9, ``large_gap_max_m`` = 20e-9
        Each island keeps a half gap drawn uniformly from [min/2, max/2] from the boundary of
        its cell, so facing islands are 4-20 nm apart.  Whatever these values, islands never
        touch: pixels of different islands are always more than 2 px apart.
    ``small_gap_min_m`` = 6e-9
        Minimum gap (3 px) between a small grain and any other grain.

    Rendering keys (fractions of full scale unless stated):

    ``matrix_level`` = 0.17, ``matrix_texture`` = 0.025
        Matrix brightness and the relative amplitude of its smooth texture.
    ``grain_level`` = 0.50, ``grain_level_sd`` = 0.05
        Mean and spread of the grains' interior brightness.
    ``edge_gain`` = 0.30, ``edge_width_px`` = 2.0
        Secondary-electron edge brightening, ``gain * exp(-(d - 1) / width)`` at distance d
        (px) inside the grain.
    ``blur_sigma_px`` = 1.2
        Gaussian beam spot.
    ``dose_counts_per_px`` = 60
        Expected counts per pixel at full scale (Poisson noise).
    ``scanline_sigma`` = 0.012
        Standard deviation of the per-row offset.
    ``gradient_amplitude`` = 0.10
        Relative brightness change across the field along a random direction.
    ``databar_fraction`` = 0.07
        Databar height as a fraction of the rows (used when ``databar=True``).

    ``dense`` changes ``small_number_fraction`` = 0.30, ``large_packing_ratio`` = 0.60,
    ``large_coverage_target`` = 1.40, ``large_gap_min_m`` = 2e-9, ``large_gap_max_m`` = 4e-9
    (dark 2 px grooves between islands, coverage ~0.85-0.9) and ``matrix_level`` = 0.10.  ``lowdose`` changes
    ``dose_counts_per_px`` = 6 and ``scanline_sigma`` = 0.02 only, so it has the same grains as
    ``inox-bimodal`` for the same seed.

    The ``large_median_diameter_m`` is that of the drawn outlines (an unbiased log-normal
    sample: each drawn size is retried until it fits).  Cutting islands along their common
    boundaries and the gaps makes the final equivalent diameters about 2 % smaller with the
    ``inox-bimodal`` values (more with ``dense``), and islands cut by the image edge are
    smaller still.  The ``grains`` table always holds the exact final values.  Small grains
    keep their drawn size up to digitisation, and are more than ``small_gap_min_m`` from every
    other grain (Euclidean distance between pixel centres).

    Examples
    --------
    >>> sample = make_sem_micrograph((256, 256), pixel_size_m=4e-9, rng=1)
    >>> sample.image.dtype, sample.labels.shape
    (dtype('uint8'), (256, 256))
    >>> int(sample.labels.max()) == len(sample.grains)
    True
    >>> sorted(set(sample.grains["mode"])) == [0, 1]
    True
    """
    rows, cols = _validate_shape(shape)
    if bit_depth not in (8, 16) or isinstance(bit_depth, bool):
        msg = f"bit_depth must be 8 or 16, got {bit_depth!r}"
        raise ConfigError(msg)
    p = _validate_params(preset, pixel_size_m, params)
    bar_rows = round(p["databar_fraction"] * rows) if databar else 0
    region = (rows - bar_rows, cols)
    if region[0] < 8:
        msg = f"only {region[0]} rows are left above the databar of shape {shape!r}; use more rows or a smaller databar_fraction"
        raise InputError(msg)
    geometry_rng, render_rng = np.random.default_rng(rng).spawn(2)

    labels_region, modes = _bimodal_labels(p, region, geometry_rng)
    grains = _truth_table(labels_region, modes, p["pixel_size_m"])

    signal = _render_signal(labels_region, p, render_rng, dark_grains=dark_grains)
    noisy = _add_noise(signal, p, render_rng)
    image_region = _to_digital(noisy, bit_depth)
    labels = np.zeros((rows, cols), dtype=np.int32)
    labels[: region[0]] = labels_region
    if bar_rows:
        bar = _databar(bar_rows, cols, p["pixel_size_m"])
        bar = bar if bit_depth == 8 else bar.astype(np.uint16) * 257
        image = np.concatenate([image_region, bar], axis=0)
    else:
        image = image_region
    record = {
        "shape": [rows, cols],
        "preset": preset,
        **{k: (int(v) if k == "shape_max_mode" else float(v)) for k, v in p.items()},
        "bit_depth": int(bit_depth),
        "dark_grains": bool(dark_grains),
        "databar": bool(databar),
        "seed": _seed_record(rng),
    }
    # True neighbour pairs and gaps: the SKIZ graph of the truth labels, by the same definitions
    # that morpho.graph applies to a segmentation, so measured and true graphs compare directly.
    from .graph import skiz_junctions

    region = labels[: labels.shape[0] - int(bar_rows)]
    junctions = skiz_junctions(region, pixel_size_m=float(p["pixel_size_m"]),
                               centroids_m=grains[["x_m", "y_m"]].to_numpy(dtype=np.float64))
    return SyntheticSample(
        image=image,
        labels=labels,
        grains=grains,
        pixel_size_m=float(p["pixel_size_m"]),
        databar_rows=int(bar_rows),
        preset=preset,
        params=record,
        junctions=junctions,
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
        centres += np.array([margin + 0.5 * (usable_h - (ny - 1) * pitch), margin + 0.5 * (usable_w - (nx - 1) * pitch)])
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


def _empty_junctions() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c.startswith("grain") else "float64") for c in _JUNCTION_COLUMNS})


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
