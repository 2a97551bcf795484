"""Region-merging segmentation for closed films of flat-topped grains (``segment.method = "regions"``).

A film in which every grain touches its neighbours and the grains differ in brightness (some
barely above the matrix) defeats any global threshold: the dim grains fall below it and the
bright ones merge.  What still tells such grains apart is that each is a patch of nearly
constant level.  This path finds those patches:

1. **Superpixels**: a watershed of the gradient magnitude of the smoothed image (plus the dark-
   line strength of :func:`morpho.segment.valley_strength`, so that contact grooves are ridges),
   seeded at its local minima; every grain is cut into many small pieces whose borders lie on
   edges and grooves.
2. **Statistical region merging** (after Nock & Nielsen, IEEE TPAMI 26, 1452 (2004)): the
   borders between pieces are visited from the weakest gradient to the strongest, and two pieces
   are merged when their mean levels agree within ``z_merge`` standard errors (noise measured as
   a function of level, :func:`morpho.segment._noise_by_level`) or within ``floor`` pixel
   sigmas; a border that runs along a groove (valley strength above ``valley_block``) is never
   merged across.
3. **Grain or matrix**: a region is a grain when its mean is above the matrix level by more than
   ``z_grain`` standard errors and by at least ``grain_floor`` pixel sigmas; the matrix level is
   the mode of the grey levels below the global threshold.

It assumes what its name says: grains of uniform brightness.  Grains with bright rims, strong
shading or texture (the real TiO2 agglomerates of the benchmark) are cut into several regions,
which is why it is an option and not the default (numbers in bench/README.md).
"""

from __future__ import annotations

import cv2
import numpy as np
import scipy.sparse as sp
from scipy import ndimage as ndi
from skimage import segmentation

__all__ = ["border_pairs", "label_max", "matrix_mode", "merge_regions", "segment_regions"]

#: Gaussian (px) smoothing the gradient magnitude before the superpixel watershed.
GRADIENT_SIGMA_PX = 1.0
#: Weight of the (positive) valley strength added to the median-normalised gradient.
VALLEY_WEIGHT = 0.3
#: Least distance (px) between superpixel seeds.
SEED_SPACING_PX = 2
#: A merged region nowhere thicker than this (inscribed radius, px) is an edge band, not a grain.
SLIVER_RADIUS_PX = 2.0
#: Least number of connected pixels above the valley threshold that make a groove.
GROOVE_MIN_PX = 6


def label_max(values: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Maximum of `values` over the pixels of each label 0..n (-inf for a label with no pixel).

    The same numbers as ``ndimage.maximum(values, labels, index=range(n + 1))`` (which sorts
    every pixel by value) several times faster: each label is a row of a sparse matrix with one
    column per pixel, and the row maxima need no sort.  A sparse row maximum also counts the
    row's implicit zeros, so it is exact for labels with a value >= 0; labels whose values are
    all negative (rare here: intensities and distances) are taken from ``ndimage.maximum`` on
    their pixels alone.
    """
    lab = np.asarray(labels).ravel()
    val = np.asarray(values).ravel()
    out = np.full(n + 1, -np.inf)
    if val.size == 0:
        return out
    rows = sp.csr_matrix((val, (lab, np.arange(lab.size, dtype=np.int32))), shape=(n + 1, lab.size))
    present = np.diff(rows.indptr) > 0
    out[present] = rows.max(axis=1).toarray().ravel()[present]
    negative = present & (np.bincount(lab[val >= 0], minlength=n + 1) == 0)
    if negative.any():
        ids = np.flatnonzero(negative)
        sel = negative[lab]
        out[ids] = ndi.maximum(val[sel], lab[sel], index=ids)
    return out


def _superpixels(smooth: np.ndarray, valley_z: np.ndarray, groove: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Watershed of gradient + groove strength from its local minima, `groove` pixels left out (0).

    Returns (labels, gradient magnitude).
    """
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1)
    grad = cv2.GaussianBlur(cv2.magnitude(gx, gy), (0, 0), GRADIENT_SIGMA_PX)
    scale = float(np.median(grad))
    landscape = grad / max(scale, 1e-12) + np.float32(VALLEY_WEIGHT) * np.maximum(valley_z, 0.0)
    # Seeds: the minima of the landscape over a (2 SEED_SPACING_PX + 1)-px square (a flat
    # minimum, or two equal ones close together, is one connected seed).
    size = 2 * SEED_SPACING_PX + 1
    seeds = (landscape <= cv2.erode(landscape, np.ones((size, size), np.uint8))) & ~groove
    markers, _ = ndi.label(seeds, structure=np.ones((3, 3), dtype=bool))
    return segmentation.watershed(landscape, markers, mask=~groove).astype(np.int32), grad


def _groove_pixels(valley_z: np.ndarray, threshold: float) -> np.ndarray:
    """Pixels on a dark line stronger than `threshold`, in runs of at least ``GROOVE_MIN_PX``.

    Isolated pixels above the threshold are noise (white noise reaches ~5 sigma of the valley
    filter now and then); a groove is a connected line.
    """
    strong = valley_z > threshold
    runs, n = ndi.label(strong, structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        return strong
    long_enough = np.bincount(runs.ravel()) >= GROOVE_MIN_PX
    long_enough[0] = False
    return long_enough[runs]


def border_pairs(pieces: np.ndarray, *fields: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Pairs of touching non-zero ids (4-connectivity; first < second) and, per pair, the mean of
    each field along their border.

    A border pixel pair contributes the larger of its two values (a groove one pixel wide is
    seen from both sides).
    """
    horizontal = (pieces[:, :-1], pieces[:, 1:])
    vertical = (pieces[:-1, :], pieces[1:, :])
    a = np.concatenate([horizontal[0].ravel(), vertical[0].ravel()])
    b = np.concatenate([horizontal[1].ravel(), vertical[1].ravel()])
    differ = (a != b) & (a > 0) & (b > 0)
    a, b = a[differ], b[differ]
    n = int(pieces.max()) + 1
    key = np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b)
    pairs, inverse = np.unique(key, return_inverse=True)
    count = np.bincount(inverse).astype(np.float64)
    means = []
    for field in fields:
        values = np.concatenate([
            np.maximum(field[:, :-1], field[:, 1:]).ravel(), np.maximum(field[:-1, :], field[1:, :]).ravel(),
        ])[differ]
        means.append(np.bincount(inverse, values) / count)
    return pairs // n, pairs % n, means


def merge_regions(
    flat: np.ndarray,
    smooth: np.ndarray,
    noise_by_level: tuple[np.ndarray, np.ndarray],
    valley_z: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    z_merge: float = 6.0,
    valley_block: float = 3.0,
    floor: float = 0.3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Superpixels merged into patches of one grey level (steps 1 and 2 of the module docstring).

    Parameters
    ----------
    flat : ndarray of float32, shape (rows, cols)
        Normalised, background-flattened image (grains bright), before smoothing.
    smooth : ndarray of float32
        The same image smoothed (gives the superpixel edges).
    noise_by_level : (levels, sigmas)
        Pixel noise as a function of grey level (:func:`morpho.segment._noise_by_level`).
    valley_z : ndarray of float32
        Dark-line strength in noise sigmas (:func:`morpho.segment.valley_strength`).
    mask : ndarray of bool, optional
        Only these pixels are divided into regions (the rest is 0); default the whole image.
    z_merge, valley_block, floor : float
        The merging test, in standard errors and pixel sigmas, and the groove level.

    Returns
    -------
    regions : ndarray of int64
        Region ids (0: groove pixels and pixels outside `mask`); ids are not consecutive.
    size, mean : ndarray of float64
        Pixel count and mean level of `flat`, indexed by region id.

    Notes
    -----
    Input and output units: pixels and normalised grey levels.  The merge loop visits each
    superpixel border once (a union-find in Python); ~1 s for a 2048 x 2048 image.
    """
    groove = _groove_pixels(valley_z, valley_block)
    if mask is not None:
        groove |= ~mask
    pieces, grad = _superpixels(smooth, valley_z, groove)
    n = int(pieces.max()) + 1
    count = np.bincount(pieces.ravel(), minlength=n).astype(np.float64)
    total = np.bincount(pieces.ravel(), flat.astype(np.float64).ravel(), minlength=n)
    # A border runs along a groove when most of its pixels are within 1 px of a strong dark
    # line (the median, not the mean: a border that only meets a groove at one end is open).
    grooves = (cv2.dilate(valley_z, np.ones((3, 3), np.uint8)) > valley_block).astype(np.float32)
    first, second, (border_grad, border_groove) = border_pairs(pieces, grad, grooves)
    levels, sigmas = noise_by_level
    # Noise sigma looked up on a fine table of levels (np.interp per border is the slow part).
    table_levels = np.linspace(float(levels.min()), float(levels.max()), 1024)
    step = (table_levels[-1] - table_levels[0]) / (table_levels.size - 1)
    sig = np.interp(table_levels, levels, sigmas).tolist()
    lo, top = float(table_levels[0]), len(sig) - 1

    parent = list(range(n))
    cnt = count.tolist()
    tot = total.tolist()

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = np.argsort(border_grad, kind="stable")
    open_border = border_groove[order] <= 0.5
    for u0, v0 in zip(first[order][open_border].tolist(), second[order][open_border].tolist(), strict=True):
        u, v = root(u0), root(v0)
        if u == v:
            continue
        mu_u, mu_v = tot[u] / cnt[u], tot[v] / cnt[v]
        k = min(max(int((0.5 * (mu_u + mu_v) - lo) / step + 0.5), 0), top) if step > 0 else 0
        diff = abs(mu_u - mu_v)
        if diff <= floor * sig[k] or diff <= z_merge * sig[k] * (1.0 / cnt[u] + 1.0 / cnt[v]) ** 0.5:
            if cnt[v] > cnt[u]:
                u, v = v, u
            parent[v] = u
            cnt[u] += cnt[v]
            tot[u] += tot[v]
    roots = np.fromiter((root(i) for i in range(n)), dtype=np.int64, count=n)
    roots = _absorb_slivers(roots[pieces], roots, cnt, tot)
    roots[0] = 0  # groove and masked-out pixels
    size = np.asarray(cnt)
    return roots[pieces], size, np.asarray(tot) / np.maximum(size, 1.0)


def segment_regions(
    flat: np.ndarray,
    smooth: np.ndarray,
    noise_by_level: tuple[np.ndarray, np.ndarray],
    valley_z: np.ndarray,
    *,
    matrix_level: float,
    z_grain: float = 5.0,
    grain_floor: float = 1.2,
) -> np.ndarray:
    """Label the uniform bright patches of a closed film (the whole module docstring).

    `flat`, `smooth`, `noise_by_level` and `valley_z` are as for :func:`merge_regions`;
    `matrix_level` is the matrix grey level and `z_grain`, `grain_floor` the grain test (in
    standard errors of the region mean and in pixel sigmas at the matrix level).  Returns int32
    grain labels (0 = matrix), not yet relabelled or size-filtered.
    """
    region, size, mean = merge_regions(flat, smooth, noise_by_level, valley_z)
    s_matrix = float(np.interp(matrix_level, *noise_by_level))
    above = mean - matrix_level
    grain = (above > z_grain * s_matrix / np.sqrt(np.maximum(size, 1.0))) & (above > grain_floor * s_matrix)
    grain[0] = False  # the groove pixels
    return np.where(grain[region], region, 0).astype(np.int32)


def _absorb_slivers(region: np.ndarray, roots: np.ndarray, cnt: list[float], tot: list[float]) -> np.ndarray:
    """Join each sliver (a region nowhere thicker than ``SLIVER_RADIUS_PX``) to its closest neighbour.

    The blurred band along an edge between two grains of different levels has a level between
    theirs and cannot join either by the statistical test; it is no grain.  Each sliver goes to
    the neighbour whose mean level is closest to its own (updates `cnt` and `tot` in place);
    returns the new root of every superpixel.
    """
    inner = (region > 0) & ~segmentation.find_boundaries(region, mode="inner")
    depth = cv2.distanceTransform(inner.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    ids = np.unique(region)
    thickness = label_max(depth, region, int(ids[-1]))[ids]
    slivers = set(ids[np.asarray(thickness) < SLIVER_RADIUS_PX].tolist())
    if not slivers:
        return roots
    first, second, _ = border_pairs(region)
    target = {}
    for a, b in zip(first.tolist(), second.tolist(), strict=True):
        for s_id, o_id in ((a, b), (b, a)):
            if s_id in slivers and o_id not in slivers:
                mine = tot[s_id] / cnt[s_id]
                gap = abs(tot[o_id] / cnt[o_id] - mine)
                if s_id not in target or gap < target[s_id][0]:
                    target[s_id] = (gap, o_id)
    remap = np.arange(roots.max() + 1)
    for s_id, (_, o_id) in target.items():
        remap[s_id] = o_id
        cnt[o_id] += cnt[s_id]
        tot[o_id] += tot[s_id]
    return remap[roots]


def matrix_mode(smooth: np.ndarray, below: np.ndarray, bins: int = 256, min_height: float = 0.25) -> float:
    """Grey level of the matrix: the darkest peak of the histogram of the pixels `below` the threshold.

    In a closed film the pixels below the global threshold are the matrix *and* every dim grain,
    and the dim grains pile up just under the threshold; the matrix is the darkest peak that is
    at least `min_height` of the tallest one (smaller bumps are noise in the histogram).
    """
    values = smooth[below]
    if values.size == 0:
        return float(np.min(smooth))
    hist, edges = np.histogram(values, bins=bins)
    hist = np.convolve(hist, np.ones(5) / 5.0, mode="same")
    padded = np.concatenate([[-1.0], hist, [-1.0]])
    peaks = np.flatnonzero((hist >= padded[:-2]) & (hist >= padded[2:]) & (hist >= min_height * hist.max()))
    i = int(peaks[0])
    return float(0.5 * (edges[i] + edges[i + 1]))
