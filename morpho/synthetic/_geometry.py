"""Truth geometry of the SEM-like films: island placement, star-shaped outlines, label images."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np
from skimage.measure import label as _sk_label

_SMALL_MAX_DRAWS_PER_GRAIN = 8
_LARGE_TRIES_PER_GRAIN = 64
_LARGE_MAX_CONSECUTIVE_FAILURES = 200


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


class _CentreGrid:
    """Uniform bins of placed centres, to find the centres near a batch of candidates quickly."""

    def __init__(self, lo: np.ndarray, span: np.ndarray, bin_px: float) -> None:
        self.lo = lo
        self.bin_px = bin_px
        self.n_bins = (int(span[0] // bin_px) + 1, int(span[1] // bin_px) + 1)
        self.slots = np.full((*self.n_bins, 4), -1, dtype=np.int64)
        self.count = np.zeros(self.n_bins, dtype=np.int64)
        self.centres = np.zeros((0, 2), dtype=np.float64)
        self.radii = np.zeros(0, dtype=np.float64)
        self.size = 0
        self.r_max = 0.0

    def _bin(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        b = np.floor((points - self.lo) / self.bin_px).astype(np.int64)
        return np.clip(b[..., 0], 0, self.n_bins[0] - 1), np.clip(b[..., 1], 0, self.n_bins[1] - 1)

    def add(self, centre: np.ndarray, radius: float) -> None:
        index = self.size
        if index == self.radii.size:  # grow the storage (amortised doubling)
            self.centres = np.concatenate([self.centres, np.zeros((max(64, index), 2))])
            self.radii = np.concatenate([self.radii, np.zeros(max(64, index))])
        self.centres[index] = centre
        self.radii[index] = radius
        self.size = index + 1
        self.r_max = max(self.r_max, radius)
        by, bx = (int(v) for v in self._bin(centre))
        k = self.count[by, bx]
        if k == self.slots.shape[2]:
            self.slots = np.concatenate([self.slots, np.full_like(self.slots, -1)], axis=2)
        self.slots[by, bx, k] = index
        self.count[by, bx] = k + 1

    def near(self, points: np.ndarray, reach: float) -> tuple[np.ndarray, np.ndarray]:
        """Indices (n_points, m) of every centre within `reach` of each point, and their validity."""
        w = math.ceil(reach / self.bin_px)
        by, bx = self._bin(points)
        offsets = np.arange(-w, w + 1)
        ny = by[:, None, None] + offsets[None, :, None]
        nx = bx[:, None, None] + offsets[None, None, :]
        inside = (ny >= 0) & (ny < self.n_bins[0]) & (nx >= 0) & (nx < self.n_bins[1])
        idx = self.slots[np.clip(ny, 0, self.n_bins[0] - 1), np.clip(nx, 0, self.n_bins[1] - 1)]
        idx = np.where(inside[..., None], idx, -1).reshape(points.shape[0], -1)
        valid = idx >= 0
        return np.where(valid, idx, 0), valid


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
    grid = _CentreGrid(lo, span, max(ratio * median_px, 4.0))
    d = float(median_px * math.exp(sigma * rng.standard_normal()))
    while covered < target and failures < _LARGE_MAX_CONSECUTIVE_FAILURES and len(radii) < cap:
        # The same diameter is retried until it fits (or the film is jammed), so that the
        # placed diameters are an unbiased log-normal sample.
        r = 0.5 * d
        cand = lo + rng.random((_LARGE_TRIES_PER_GRAIN, 2)) * span
        if centres:
            # Only centres closer than ratio * (r + the largest radius) can reject a candidate;
            # the grid returns a superset of them, so the test is exactly the all-pairs one.
            # The first candidates are tried alone first: the first that fits is taken either way.
            hit = np.zeros(0, dtype=np.int64)
            for chunk in (slice(0, 8), slice(8, None)):
                near, valid = grid.near(cand[chunk], ratio * (r + grid.r_max) + 1.0)
                c_arr = grid.centres[near]
                r_arr = grid.radii[near]
                sub = cand[chunk]
                dist = np.hypot(sub[:, None, 0] - c_arr[:, :, 0], sub[:, None, 1] - c_arr[:, :, 1])
                ok = np.all((dist >= ratio * (r + r_arr)) | ~valid, axis=1)
                hit = np.flatnonzero(ok) + chunk.start
                if hit.size:
                    break
        else:
            hit = np.array([0])
        if hit.size == 0:
            failures += 1
            continue
        failures = 0
        centres.append(cand[hit[0]])
        radii.append(r)
        diameters.append(d)
        grid.add(cand[hit[0]], r)
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


def _weighted_cells(
    grains: Mapping[str, np.ndarray], shape: tuple[int, int], margin: float
) -> tuple[np.ndarray, np.ndarray]:
    """Multiplicatively weighted Voronoi cells of the large grains near their outlines.

    Every pixel within ``margin`` of some grain's outer radius goes to the grain with the
    smallest normalised radius rho = |p - c| / R(theta); returns that rho (float32, inf where no
    grain reaches) and the grain's index + 1 (int32, 0 there).
    """
    best_rho = np.full(shape, np.inf, dtype=np.float32)
    best_id = np.zeros(shape, dtype=np.int32)
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
    return best_rho, best_id


def _render_large(grains: Mapping[str, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Label image (1..n = index + 1) of the large grains, cut to their cells and gapped.

    Each pixel near some grain goes to the grain with the smallest normalised radius
    rho = |p - c| / R(theta) (a multiplicatively weighted Voronoi partition); a grain keeps the
    pixels of its own cell with rho <= 1 that lie at least its half gap from the cell
    boundary, so two neighbours are separated by the sum of their half gaps.
    """
    half_gap = grains["half_gap_px"]
    margin = 2.0 * float(half_gap.max(initial=0.0)) + 3.0
    best_rho, best_id = _weighted_cells(grains, shape, margin)
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


def _render_large_pixel_gaps(
    grains: Mapping[str, np.ndarray], shape: tuple[int, int], gap_min_px: int, gap_max_px: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Label image of the large grains whose facing pairs are a whole number of pixels apart.

    Grains are their weighted-Voronoi cells cut to rho <= 1 (as :func:`_render_large`), but the
    contact between two grains (their 4-adjacent pixel pairs) is opened by a gap drawn for each
    pair uniformly from the integers ``gap_min_px..gap_max_px``: 0 leaves the grains 4-adjacent
    (touching), 1 removes the pixels of one grain (chosen at random per pair) along the contact,
    a 1 px line, and 2 removes the pixels of both, a 2 px groove.  The SKIZ gap of
    :func:`morpho.graph.skiz_junctions` between the two grains is then exactly that number.

    Returns the labels (index + 1, removed pixels 0) and the seam map: for every removed pixel
    the index + 1 of its contact pair (pairs numbered in sorted order of their grain indices),
    0 elsewhere.  The renderer draws the contact grooves from it.
    """
    best_rho, best_id = _weighted_cells(grains, shape, 3.0)
    flat = np.where(best_rho <= 1.0, best_id, 0).astype(np.int32).ravel()
    n = len(grains["diameter_px"])
    index = np.arange(flat.size, dtype=np.int64).reshape(shape)
    lab = flat.reshape(shape)
    first, second = [], []
    for a_sl, b_sl in (
        ((slice(None, -1), slice(None)), (slice(1, None), slice(None))),
        ((slice(None), slice(None, -1)), (slice(None), slice(1, None))),
    ):
        a, b = lab[a_sl], lab[b_sl]
        contact = (a != b) & (a > 0) & (b > 0)
        first.append(index[a_sl][contact])
        second.append(index[b_sl][contact])
    p, q = np.concatenate(first), np.concatenate(second)
    seams = np.zeros(flat.size, dtype=np.int32)
    if p.size:
        lp, lq = flat[p].astype(np.int64), flat[q].astype(np.int64)
        key = np.minimum(lp, lq) * (n + 1) + np.maximum(lp, lq)
        pairs, pair_of = np.unique(key, return_inverse=True)
        width = rng.integers(gap_min_px, gap_max_px + 1, size=pairs.size)[pair_of]
        lower_gives = (rng.random(pairs.size) < 0.5)[pair_of]  # width 1: which grain gives the line
        p_is_lower = lp < lq
        drop_p = (width >= 2) | ((width == 1) & (lower_gives == p_is_lower))
        drop_q = (width >= 2) | ((width == 1) & (lower_gives != p_is_lower))
        seams[p[drop_p]] = pair_of[drop_p] + 1
        seams[q[drop_q]] = pair_of[drop_q] + 1
    flat = np.where(seams > 0, 0, flat).astype(np.int32)
    return flat.reshape(shape), seams.reshape(shape)


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
    Distinct grains may touch: components are of equal label value (skimage.measure.label).
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


def _bimodal_labels(
    p: Mapping[str, Any], shape: tuple[int, int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Truth labels, the mode of each grain, and the seam map (None unless ``pixel_gaps``)."""
    large = _place_large(p, shape, rng)
    seams = None
    if p["pixel_gaps"]:
        lab, seams = _render_large_pixel_gaps(large, shape, p["pixel_gap_min_px"], p["pixel_gap_max_px"], rng)
    else:
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
    labels, new_modes = _relabel_single_components(lab, modes)
    return labels, new_modes, seams

