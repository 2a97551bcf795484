"""Segmentation: a grey micrograph -> a label image (0 = matrix, 1..n = grains).

The path is classical and fully vectorised:

1. :func:`normalize_intensity` maps the image to float32 in [0, 1] using robust percentiles, and
   inverts it for dark grains on a bright matrix;
2. :func:`flatten_background` removes the slow brightness gradient that SEM images carry
   (detector geometry, charging) by fitting a low-order surface to the *matrix* level;
3. :func:`estimate_noise_sigma` measures the noise, and a Gaussian of ~1 px (up to 2 px on very
   noisy images) keeps grains down to ~3 px radius while taming shot noise;
4. a global threshold (Otsu by default), applied with hysteresis of +-2 noise standard deviations,
   makes the grain mask; background regions ringed by grain that are brighter than the matrix
   (the dim interiors of edge-brightened grains, also open at the frame) are filled, while
   pockets of matrix enclosed by touching grains are kept, and objects below the minimum size
   dropped;
5. touching grains are split by a marker-controlled watershed.  Two kinds of evidence decide
   the markers: *intensity*, the dark contact groove or gap between touching grains, found by
   an oriented valley filter whose response is expressed in units of the local noise
   (:func:`valley_strength`), so that the same threshold means the same false-alarm rate on a
   clean and a low-dose image; and *shape*, the maxima of ``ln(distance + c)`` on what is left
   of the grain mask once the valleys are cut out: a neck is cut when it is narrower than
   ``split_ratio`` times the smaller grain's inscribed radius, a *relative* criterion, so 3-px
   and 200-px grains in one field are treated alike (neither under- nor over-split).  The
   watershed then floods the grey levels from those markers, so boundaries follow the darkest
   path between grains.

All sizes are in pixels inside this module; the physical minimum grain size is converted by
the caller-supplied ``pixel_size_m``.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import warnings
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage as ndi
from scipy.cluster.hierarchy import DisjointSet
from skimage import filters, morphology, segmentation

from .config import SegmentConfig
from .errors import InputError, SegmentationError
from .regions import border_pairs, label_max, matrix_mode, merge_regions, segment_regions

#: Most tiles segmented at once by default (each adds one tile's working memory).
MAX_THREADS = 4

#: Floor of every noise-relative decision, as a fraction of the grain-matrix contrast: a valley, a
#: level step or a flatness test must beat max(noise, NOISE_FLOOR_CONTRAST x contrast), so that
#: on a clean micrograph the shading and texture inside a particle (a few per cent of the
#: contrast) is not mistaken for a boundary when the noise goes to zero (issue 18).  Measured:
#: 0.05 keeps shaded spheres of 20-300 px radius whole from noisy to noiseless (without a floor
#: they fell into up to ~700 pieces each) and raises the real BAM TiO2 median F1 from 0.613 to
#: 0.624, the noisy synthetic bench unchanged; 0.07-0.1 suppresses real, shallow contact grooves
#: between touching TiO2 particles there (median 0.57-0.59).  The measured noise, not the floor,
#: is what the summary reports and the detection limit uses.
NOISE_FLOOR_CONTRAST = 0.05
#: Fewest matrix pixels for :func:`_matrix_valley_sigma` to judge the matrix's "valleys".
MATRIX_VALLEY_MIN_PX = 20_000
#: ... and how much stronger than the measured white noise at the matrix level they must be to
#: count.  Measured at 1024 px: the noisy bench films 0.94-1.05 (1.21 with charging streaks),
#: the real BAM images 1.8-1.9, JPEG q75 1.75, q50 6.3, a noiseless film with line jitter ~400.
MATRIX_VALLEY_EXCESS = 1.25
#: Reweighting rounds of the background fit (:func:`flatten_background`).
FLATTEN_ITERATIONS = 5
#: ... and how many more blocks must agree with the fit started from the darker half of the
#: blocks for it to replace the fit started from all of them.
FLATTEN_DARKER_MARGIN = 1.25
#: ... and only when the fit from all blocks has failed: fewer than this fraction of the blocks
#: agree with it (one 800-px particle in a 1024-px field: 0 of 64; the bench films 24-64 of 64,
#: where the darker start, though agreed with by more blocks on the gradient-streaks film, cost
#: it 0.06 F1 at 1024 px; the BAM images 55-83 of 88).
FLATTEN_FAILED_FRACTION = 0.25
#: Hole filling (:func:`_fill_grain_holes`): a region of background is a grain's dim interior
#: when its median exceeds the matrix level by at least this fraction of threshold - matrix (as
#: well as by 1.5 noise sigmas and 1.5 x the matrix's spread).  0.2 left the dim interiors of
#: noiseless edge-bright grains (0.16 of the contrast above the matrix) open as matrix.
HOLE_MARGIN_CONTRAST = 0.1
#: ... and the matrix-spread term counts up to this fraction of threshold - matrix (the margin
#: before issue 18): in a closed film the largest background region is a small mix of matrix
#: and dim grains (9 % of the field, spread 3.8 x the noise), whose spread would leave dim
#: grains open (coverage 0.76 -> 0.60 against 0.91 true).
HOLE_MARGIN_SPREAD_CAP = 0.2
#: ... and by HOLE_Z standard errors of the region's median (noise x 1.2533 / sqrt(area)).
HOLE_Z = 3.0
_MEDIAN_EFFICIENCY = 1.2533
#: (90th - 10th percentile) / sigma of a normal distribution.
_P90_P10_TO_SIGMA = 2.5631
#: Rows per band when :func:`line_offsets` measures the scan lines' offsets (bounds its memory).
LINE_BAND_ROWS = 1024
#: ... and the fewest columns it takes the median over (wider images: every k-th column).
LINE_COLUMNS = 2048

#: The over-splitting warning (:func:`_warn_if_shattered`): at least this many grains per
#: connected grain region on average, with split boundaries darker than the grains by less than
#: SHATTER_BOUNDARY_DEPTH of the grain-matrix contrast.  Measured at 1024 px: the bench presets
#: give at most 9.4 grains per region (dense-grooves, boundaries 0.15 deep) and boundaries at
#: least 0.13 deep where there are 3 or more per region (dense); shaded particles and clean
#: dense films cut along their shading gave 73-165 per region, 0.03-0.04 deep.
SHATTER_PIECES_PER_REGION = 5.0
SHATTER_BOUNDARY_DEPTH = 0.08
#: ... and at least this many cuts in all (a 256-px field of three islands cut into 15 pieces is
#: too few to tell shading from grains).
SHATTER_MIN_SPLITS = 20

#: Largest automatic smoothing sigma (px).  The noise-adaptive sigma is 0.6 + 6 x noise (noise
#: in units of the normalised range): ~1.2 px on ordinary SEM noise, which keeps 3-px-radius
#: grains, rising to 2 px on very low-dose images, where grains that small cannot be seen anyway
#: and less smoothing shatters the large ones.
SMOOTH_MAX = 2.0
#: ... and at most SMOOTH_PER_CORRELATION x the image's correlation length
#: (:func:`correlation_length_px`), but never below SMOOTH_MIN_STRUCTURE: a smoothing wider
#: than the film's own structure fills its narrowest matrix pockets and channels (issue 19).
#: The correlation length is half a site on a site-percolation film (1.5-3 px for 3-6 px sites)
#: and 6.9-50 px on the bench presets and 11-14 px on the BAM micrographs, so 0.3 leaves every
#: one of those at its noise-adaptive sigma and smooths 3-6 px sites by 0.5-0.9 px.
SMOOTH_PER_CORRELATION = 0.3
SMOOTH_MIN_STRUCTURE = 0.5
#: The cap applies to two-phase films only: grains and matrix each at least this share of the
#: field.  An almost closed film (a dense film at 256 px, 98 % grain) has a short correlation
#: length from its thin grooves and texture alone, and there the cap only shattered its grains.
STRUCTURE_MIN_PHASE = 0.2
#: :func:`correlation_length_px` looks at lags up to CORRELATION_MAX_LAG px in a central window
#: of CORRELATION_WINDOW px.
CORRELATION_MAX_LAG = 64
CORRELATION_WINDOW = 1024

#: Least standard deviation of the flattened image, in units of its pixel noise sigma, for the
#: image to hold any structure.  Pure noise (white, Poisson, on a gradient) gives 1.00 +- 0.01;
#: the synthetic presets 1.08 (dense, 256 px) and up, the demo 2.5, real SEM of particles 13-19
#: (measured; CHANGELOG).  Below it the image is all grain or all matrix: SegmentationError.
MIN_STRUCTURE_NOISE = 1.03

#: Above this area fraction of grain the film is continuous rather than islands in a matrix:
#: a warning says that grain sizes, gaps and coordination mean little there.
CONTINUOUS_COVERAGE = 0.97

#: Valley filter (:func:`_oriented_valley`): the image averaged along a line by an anisotropic
#: Gaussian with these sigmas (px) across and along it, at VALLEY_ORIENTATIONS angles, compared
#: with the same average VALLEY_SIDE_PX to either side.  0.7 px across and sides 2 px away match
#: the 1-2 px contact grooves and gaps of touching grains; 3 px along averages the noise along
#: the groove while still following a grain boundary curved on a 10-px radius.
VALLEY_SIGMA_ACROSS_PX = 0.7
VALLEY_SIGMA_ALONG_PX = 3.0
VALLEY_SIDE_PX = 2.0
VALLEY_ORIENTATIONS = 8
#: The image's edge width (:func:`edge_sigma_px`) floors the valley filter's pixel scale
#: (:func:`line_scale`): beyond LINE_DESIGN_EDGE_SIGMA_PX the filter is widened in proportion.
#: Edge widths read on the bench: 1.2-1.35 px on the synthetic presets (blur 0.9-1.2 px, noisy to
#: noiseless, JPEG, NLM-denoised), 1.1-1.25 px on the BAM TiO2 micrographs, 1.7-1.8 px on
#: edge-brightened grains (the rim reads as width), 2.2-2.4 px on the presets blurred 2x.
LINE_DESIGN_EDGE_SIGMA_PX = 1.8
#: :func:`edge_sigma_px`: crossings within EDGE_WINDOW_PX of a rise of EDGE_MIN_RISE x contrast;
#: at most EDGE_SAMPLE of them are used, at least EDGE_MIN_CROSSINGS needed.
EDGE_WINDOW_PX = 5
EDGE_MIN_RISE = 0.5
EDGE_SAMPLE = 20_000
EDGE_MIN_CROSSINGS = 100
#: A valley-split marker needs an inscribed radius of at least this (px); thinner slivers left
#: between two valley lines (a bright rim, a ridge) are not grains of their own.
VALLEY_MARKER_MIN_RADIUS_PX = 1.5
#: Bright contact lines (:func:`ridge_strength`): two touching grains whose edges are brightened
#: meet along a bright line, and block-averaging (a micrograph downsampled 2x) merges their 1-px
#: groove and two bright rims into that line alone.  A bright line inside a grain (the valley
#: filter on the negated image, stronger than RIDGE_THRESHOLD_FACTOR x ``segment.valley_threshold``)
#: is cut like a valley only where (a) the grain's unfilled mask reaches more than RIDGE_INSET_PX
#: beyond it on every side, and its connected piece somewhere more than RIDGE_PIECE_DEPTH_PX (an
#: edge-brightened grain's own rim lies within ~3-5 px of its outline, all along) and has at
#: least RIDGE_MIN_PIECE_PX pixels (a lone pixel deep inside a clean grain, 6 noise units
#: bright, holed the distance map and halved the grain: dense at 768 px 0.914 -> 0.878), (b) no valley
#: lies within RIDGE_VALLEY_CLEARANCE_PX (the bright rims flanking a dark groove would become
#: slivers), and (c) it runs more than ~34 degrees from the scan direction (the orientations
#: with |sin theta| > RIDGE_SKIP_SIN are skipped: scan-line jitter and charging streaks are
#: bright lines along the scan).  A piece of the grain beside such a cut is a marker only with an
#: inscribed radius of RIDGE_MARKER_MIN_RADIUS_PX: the strip between a shaded sphere's bright
#: ring and its outline is not a grain (without this rule noiseless spheres of 40-140 px were
#: each cut into a disc and a ring, F1 1.000 -> 0.595).  Measured at 1024 px (seed 11): dense 2x
#: down 0.893 -> 0.991, narrow-gaps 2x 0.847 -> 0.883 and noiseless 0.787 -> 0.824; the five BAM
#: TiO2 images 0.661/0.624/0.621/0.657/0.517 -> 0.669/0.628/0.621/0.694/0.532; every noisy
#: synthetic bench set unchanged but dense-grooves (0.2894 -> 0.2885).  Tried: a threshold
#: factor of 1.25 (BAM median 0.661, but dense 2x 0.935), pieces of at least 8 px (dense 2x
#: 0.936: the useful lines come in short pieces), a piece depth of 7 px or an inset of 6 (the
#: BAM gain gone: 0.615-0.625).
RIDGE_INSET_PX = 4.0
RIDGE_THRESHOLD_FACTOR = 1.0
RIDGE_PIECE_DEPTH_PX = 5.5
RIDGE_MIN_PIECE_PX = 2
RIDGE_MARKER_MIN_RADIUS_PX = 4.0
RIDGE_VALLEY_CLEARANCE_PX = 4
RIDGE_SKIP_SIN = 0.9
#: Dark spots inside grains (:func:`_spot_pieces`): a piece of the valley cut that
#: touches no outline and whose bounding box is at most VALLEY_SPOT_MAX_PX is put back when its
#: darkest pixel is darker than its surroundings in every direction: along each of four axes, the
#: lower of the two levels VALLEY_SPOT_RADIUS_PX away exceeds it by at least VALLEY_SPOT_ISOTROPY
#: of the deepest axis (a groove is level with itself along its own axis).  Measured at 1024 px:
#: edge-bright noiseless 0.988 -> 1.000 (seed 11) and 0.796 -> 0.826 (seed 12), narrow-gaps 2x
#: 0.883 -> 0.892, the rest unchanged; an isotropy of 0.5-0.6 also put back short pieces of
#: real grooves (dense seed 12 JPEG q75 0.906 -> 0.887).
VALLEY_SPOT_MAX_PX = 15
VALLEY_SPOT_RADIUS_PX = 3.0
VALLEY_SPOT_ISOTROPY = 0.75
#: Dark scan lines are not cuts (:func:`_scan_line_pieces`): a piece of the valley cut at most
#: VALLEY_SCANLINE_ROWS rows tall and wider than tall is put back when at least
#: VALLEY_SCANLINE_SHARE of its depth below the rows 2 px above and below is its rows' own offset
#: (:func:`line_offsets`: the median over the whole row, matrix included).  On a clean image
#: line jitter is the strongest "groove" inside a grain; the matrix-calibrated valley units
#: (:func:`_matrix_valley_sigma`) take its typical depth, not its deepest rows.  Measured at 1024
#: px: dense noiseless 0.991 -> 1.000 (seed 11), edge-bright noiseless 0.826 -> 0.867 (seed 12),
#: narrow-gaps noiseless 0.824 -> 0.817 (seed 11); noisy renderings, seed 13 and the BAM images
#: raw and NLM-denoised unchanged.
VALLEY_SCANLINE_SHARE = 0.5
VALLEY_SCANLINE_ROWS = 3
#: :func:`_otsu_off_a_phase`: the grey-level histogram (``OTSU_BINS`` bins, smoothed by
#: ``OTSU_SMOOTH_BINS`` bins) must be OTSU_PHASE_RATIO times denser at Otsu's threshold than
#: at the lower threshold of three-class Otsu before the latter replaces it.
OTSU_PHASE_RATIO = 20.0
OTSU_BINS = 256
OTSU_SMOOTH_BINS = 2.0

#: Splitting by level (:func:`_split_by_level`), for grains that touch with no gap and no
#: groove but differ in brightness.  Only grains of LEVEL_SPLIT_MIN_AREA_PX or more are tried.
#: A patch of one level (:func:`morpho.regions.merge_regions`) is a marker when it covers at
#: least LEVEL_MARKER_FRACTION of the grain, is convex (solidity >= LEVEL_MARKER_SOLIDITY) and
#: flat (variance of its core <= LEVEL_MARKER_FLATNESS x the noise variance).  Two pieces stay
#: apart only when the level step across their border, measured on strips LEVEL_STRIP_PX wide
#: that keep LEVEL_RIM_PX away from the grain's edge (bright rims), exceeds LEVEL_STEP_Z
#: standard errors, LEVEL_STEP_FLOOR pixel sigmas and LEVEL_STEP_CONTRAST of the grain-matrix
#: contrast (the noise-free limit: on a noiseless film with scan-line jitter, steps of 1-2 % of
#: the contrast cut bands off large grains), and their union is not convex (solidity
#: < LEVEL_UNION_SOLIDITY: two grains meet at concave corners); and the split is kept only if
#: every piece is flat (core variance <= LEVEL_PIECE_FLATNESS x the noise variance), which a
#: shaded or textured particle is not.  Values from the benchmark: they leave every preset
#: without touching grains and the real BAM images unchanged.
LEVEL_SPLIT_MIN_AREA_PX = 200
LEVEL_MARKER_FRACTION = 0.05
LEVEL_MARKER_SOLIDITY = 0.8
LEVEL_MARKER_FLATNESS = 1.5
LEVEL_STRIP_PX = 4.0
LEVEL_RIM_PX = 4.0
LEVEL_STEP_Z = 6.0
LEVEL_STEP_FLOOR = 0.3
LEVEL_STEP_CONTRAST = 0.05
LEVEL_UNION_SOLIDITY = 0.97
LEVEL_PIECE_FLATNESS = 2.0

__all__ = [
    "SegmentationResult",
    "default_threads",
    "estimate_noise_sigma",
    "flatten_background",
    "grain_mask",
    "hysteresis_band",
    "normalize_intensity",
    "refine_edges",
    "relabel_raster_order",
    "remove_line_offsets",
    "segment",
    "split_boundary_depth",
    "valley_strength",
]


@dataclass(frozen=True)
class SegmentationResult:
    """Output of :func:`segment`.

    Attributes
    ----------
    labels : ndarray of int32, shape (rows, cols)
        0 = matrix, 1..n = grains in raster order of each grain's first pixel.
    threshold : float
        Threshold applied to the flattened, smoothed image (0..1 scale).
    noise_sigma : float
        Estimated noise standard deviation of the normalised image.
    smoothing_sigma_px : float
        Gaussian sigma used before thresholding, in pixels.
    min_area_px : int
        Objects smaller than this were dropped.
    n_removed_small : int
        How many objects the size cut removed.
    n_split : int
        How many extra grains the watershed split produced.
    matrix_level, grain_level : float
        Median grey level (0..1 scale of the flattened, smoothed image) of the matrix far from
        grains and of the grains' cores; NaN when there is no grain or no matrix.
    noise_matrix, noise_grain : float
        Noise sigma of the flattened image at those two levels (SEM noise grows with signal).
    band : float
        Half-width of the hysteresis band around `threshold`.
    n_tiles : int
        Tiles the local steps ran on (1: the whole image at once; see ``segment.tile_px``).
    edge_sigma_px : float
        Width of the grain edges as a Gaussian blur sigma, px (:func:`edge_sigma_px`; NaN when
        too few clear edges): the image's resolution as morpho sees it.
    line_scale : float
        The valley filter's width across a line relative to its design (:func:`line_scale`).
    """

    labels: np.ndarray
    threshold: float
    noise_sigma: float
    smoothing_sigma_px: float
    min_area_px: int
    n_removed_small: int
    n_split: int
    matrix_level: float = float("nan")
    grain_level: float = float("nan")
    noise_matrix: float = float("nan")
    noise_grain: float = float("nan")
    band: float = 0.0
    n_tiles: int = 1
    edge_sigma_px: float = float("nan")
    line_scale: float = 1.0


def _validate_image(image: np.ndarray) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim != 2:
        msg = f"image must be 2-D (rows, cols), got shape {arr.shape}; pass one grey page"
        raise InputError(msg)
    if min(arr.shape) < 8:
        msg = f"image of shape {arr.shape} is too small to segment; it needs at least 8 x 8 pixels"
        raise InputError(msg)
    if arr.dtype.kind not in "uif" and arr.dtype != bool:
        msg = f"image dtype {arr.dtype} is not numeric; pass a grey-level image"
        raise InputError(msg)
    if arr.dtype.kind == "f":
        band = max(1, RELABEL_BAND_PX // max(arr.shape[1], 1))
        bad = sum(int(arr[r0:r0 + band].size - np.count_nonzero(np.isfinite(arr[r0:r0 + band])))
                  for r0 in range(0, arr.shape[0], band))
        if bad:
            msg = (f"image holds {bad} NaN or infinite pixel(s) of {arr.size}; replace them (e.g. by the "
                   "median) or crop them out, then analyze again")
            raise InputError(msg)
    return arr


def normalize_intensity(image: np.ndarray, *, dark_grains: bool = False) -> np.ndarray:
    """Scale an image to float32 in [0, 1] by its 0.5 and 99.5 percentiles.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
        Grey image of any numeric dtype.  Non-finite values are replaced by the median.
    dark_grains : bool, optional
        Invert, so that grains are bright afterwards.

    Returns
    -------
    ndarray of float32
        The normalised image (grains bright).

    Raises
    ------
    InputError
        If the image is constant (nothing to segment).
    """
    arr = np.asarray(image, dtype=np.float32)
    finite = np.isfinite(arr)
    if not finite.all():
        if not finite.any():
            msg = "image has no finite pixel values; check the file"
            raise InputError(msg)
        arr = np.where(finite, arr, np.median(arr[finite])).astype(np.float32)
    lo, hi = np.percentile(arr, [0.5, 99.5])
    if not hi > lo:
        lo, hi = float(arr.min()), float(arr.max())
    if not hi > lo:
        msg = "image is constant (every pixel has the same value): there are no grains to find"
        raise InputError(msg)
    out = (arr - np.float32(lo)) / np.float32(hi - lo)
    np.clip(out, 0.0, 1.0, out=out)
    if dark_grains:
        out = 1.0 - out
    return out


def _block_percentile(image: np.ndarray, block: int, q: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows, cols = image.shape
    nby, nbx = max(1, rows // block), max(1, cols // block)
    by, bx = rows // nby, cols // nbx
    crop = image[: nby * by, : nbx * bx].reshape(nby, by, nbx, bx).transpose(0, 2, 1, 3).reshape(nby, nbx, -1)
    vals = np.percentile(crop, q, axis=-1)
    yc = (np.arange(nby) + 0.5) * by - 0.5
    xc = (np.arange(nbx) + 0.5) * bx - 0.5
    yy, xx = np.meshgrid(yc, xc, indexing="ij")
    return yy.ravel(), xx.ravel(), vals.ravel()


def _poly_design(y: np.ndarray, x: np.ndarray, rows: int, cols: int, degree: int) -> np.ndarray:
    u = (2.0 * y / max(rows - 1, 1)) - 1.0
    v = (2.0 * x / max(cols - 1, 1)) - 1.0
    terms = [u**i * v**j for i in range(degree + 1) for j in range(degree + 1 - i)]
    return np.stack(terms, axis=-1)


def _robust_poly_fit(design: np.ndarray, vals: np.ndarray, keep: np.ndarray,
                     n_terms: int) -> tuple[np.ndarray, float]:
    """Least squares of `vals` on `design`, refitted on the values within 2.5 robust sigmas of the
    previous fit (FLATTEN_ITERATIONS rounds at most), starting from `keep`: (coefficients, sigma)."""
    scale = np.inf
    for _ in range(FLATTEN_ITERATIONS):
        coef, *_ = np.linalg.lstsq(design[keep], vals[keep], rcond=None)
        resid = vals - design @ coef
        scale = _MAD_TO_SIGMA * float(np.median(np.abs(resid[keep] - np.median(resid[keep])))) + 1e-6
        new_keep = np.abs(resid) <= 2.5 * scale
        if new_keep.sum() < 2 * n_terms or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    return coef, scale


def flatten_background(image: np.ndarray, *, degree: int = 2, quantile: float = 5.0) -> np.ndarray:
    """Subtract the slow brightness variation of the matrix.

    The image is cut into blocks of 1/8 of its shorter side (at least 32 px); in each block the
    `quantile`-th percentile estimates the local matrix level (the matrix is the dark phase).  A
    2-D polynomial of total `degree` is fitted to those levels by iteratively reweighted least
    squares (blocks lying entirely inside a large grain are outliers and are rejected), from two
    starts (all blocks; the darker half, for one particle covering much of the field, kept only
    when the first has failed and clearly more blocks agree with it), and is subtracted; the
    result is re-scaled to [0, 1].

    Parameters
    ----------
    image : ndarray of float, shape (rows, cols)
        Normalised image, grains bright.
    degree : int, optional
        Total degree of the background polynomial (2: tilt and bowl).
    quantile : float, optional
        Percentile taken as the matrix level in each block.

    Returns
    -------
    ndarray of float32
        The flattened image in [0, 1].
    """
    rows, cols = image.shape
    block = max(32, min(rows, cols) // 8)
    y, x, vals = _block_percentile(image, block, quantile)
    n_terms = (degree + 1) * (degree + 2) // 2
    if vals.size < 2 * n_terms:
        return image.astype(np.float32, copy=False)
    design = _poly_design(y, x, rows, cols, degree)
    # Two starts: all blocks, and the darker half.  From all blocks the fit follows the majority
    # (on a dense film most blocks lie wholly inside grains, and their level carries the same
    # gradient); one particle covering a third of the field or more biases that start so far
    # that the rejection cannot recover, and there the darker half (the substrate) is right.
    # The darker start replaces the first only when that has failed (FLATTEN_FAILED_FRACTION)
    # and clearly more blocks agree with it (by FLATTEN_DARKER_MARGIN, within the tighter of the
    # two scales): on one 800-px particle 46 blocks against 0.
    coef, scale = _robust_poly_fit(design, vals, np.ones(vals.size, dtype=bool), n_terms)
    darker = vals <= np.median(vals)
    if darker.sum() >= 2 * n_terms:
        coef_d, scale_d = _robust_poly_fit(design, vals, darker, n_terms)
        tol = 2.5 * min(scale, scale_d)
        agree, agree_d = (int(np.count_nonzero(np.abs(vals - design @ c) <= tol)) for c in (coef, coef_d))
        if agree < FLATTEN_FAILED_FRACTION * vals.size and agree_d > FLATTEN_DARKER_MARGIN * agree:
            coef = coef_d
    # Evaluate the polynomial on a coarse grid and resize: exact for a polynomial up to
    # interpolation error, and far cheaper than evaluating every term at every pixel.
    gy = np.linspace(0, rows - 1, min(rows, 128))
    gx = np.linspace(0, cols - 1, min(cols, 128))
    yy, xx = np.meshgrid(gy, gx, indexing="ij")
    surface = (_poly_design(yy, xx, rows, cols, degree) @ coef).astype(np.float32)
    surface = cv2.resize(surface, (cols, rows), interpolation=cv2.INTER_LINEAR)
    flat = image - surface
    lo, hi = np.percentile(flat, [0.5, 99.5])
    if not hi > lo:
        return image.astype(np.float32, copy=False)
    flat = (flat - np.float32(lo)) / np.float32(hi - lo)
    np.clip(flat, 0.0, 1.0, out=flat)
    return flat.astype(np.float32, copy=False)


def estimate_noise_sigma(image: np.ndarray) -> float:
    """Estimate white-noise sigma from the median absolute Laplacian (Immerkaer, 1996).

    Parameters
    ----------
    image : ndarray of float, shape (rows, cols)

    Returns
    -------
    float
        Noise standard deviation in the image's units.

    References
    ----------
    J. Immerkaer, "Fast noise variance estimation", Comput. Vis. Image Underst. 64, 300 (1996).
    """
    resp = _immerkaer_abs(np.asarray(image, dtype=np.float32))[1:-1, 1:-1]
    # float() first: the arithmetic in float64 on any NumPy (NumPy 2 keeps a float32 scalar's
    # dtype in `1.4826 * x`, NumPy 1 promoted it: NEP 50).
    return _MAD_TO_SIGMA * float(np.median(resp)) / 6.0


#: Median absolute deviation -> standard deviation for Gaussian noise.
_MAD_TO_SIGMA = 1.4826


def _immerkaer_abs(image: np.ndarray) -> np.ndarray:
    """|Laplacian-difference response| of Immerkaer (1996); for white noise its sd is 6 sigma."""
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
    return np.abs(cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT))


#: Pixels per band of :func:`relabel_raster_order`'s first-pixel search.
RELABEL_BAND_PX = 1 << 22


def relabel_raster_order(labels: np.ndarray) -> np.ndarray:
    """Renumber labels 1..n in raster order of each label's first pixel (0 stays 0).

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)

    Returns
    -------
    ndarray of int32

    Examples
    --------
    >>> relabel_raster_order(np.array([[0, 7], [3, 7]])).tolist()
    [[0, 1], [2, 1]]
    """
    rows, cols = labels.shape
    top = int(labels.max()) if labels.size else 0
    if labels.size and (labels.min() < 0 or top >= 2**31 - 1 or top > 4 * labels.size + 1024):
        return _relabel_sparse(labels)
    # First pixel (flat index) of every value, band by band in raster order: the first band in
    # which a value appears holds its first pixel.  Memory: one band, not sorted copies of the image.
    first = np.full(top + 1, -1, dtype=np.int64)
    band = max(1, RELABEL_BAND_PX // max(cols, 1))
    for r0 in range(0, rows, band):
        values, idx = np.unique(labels[r0:r0 + band].ravel(), return_index=True)
        new_values = first[values] < 0
        first[values[new_values]] = idx[new_values] + r0 * cols
    first[0] = -1
    present = np.flatnonzero(first >= 0)
    order = present[np.argsort(first[present], kind="stable")]
    lut = np.zeros(top + 1, dtype=np.int32)
    lut[order] = np.arange(1, order.size + 1, dtype=np.int32)
    return lut[labels]


def _relabel_sparse(labels: np.ndarray) -> np.ndarray:
    """:func:`relabel_raster_order` for label values too large or negative for a lookup table."""
    flat = labels.ravel()
    values, first = np.unique(flat, return_index=True)
    nonzero = values != 0
    values, first = values[nonzero], first[nonzero]
    order = np.argsort(first, kind="stable")
    lut_keys = values[order]
    new = np.zeros(labels.shape, dtype=np.int32)
    if lut_keys.size == 0:
        return new
    # values are sorted, so searchsorted maps each pixel value to its index in `values`.
    rank = np.empty(values.size, dtype=np.int32)
    rank[order] = np.arange(1, values.size + 1, dtype=np.int32)
    idx = np.searchsorted(values, flat)
    idx = np.clip(idx, 0, values.size - 1)
    hit = values[idx] == flat
    new_flat = new.ravel()
    new_flat[hit] = rank[idx[hit]]
    return new


def _inscribed_distance(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance (px) from each mask pixel to the nearest non-mask pixel *or the frame*.

    OpenCV's transform treats the outside of the image as foreground; for a grain's inscribed
    radius, its core and its deep pixels the frame must count as an edge (what lies beyond is
    unknown).  The neck criterion of :func:`_split_touching` keeps OpenCV's convention on
    purpose: a grain cut by the frame continues beyond it and does not narrow there.
    """
    padded = cv2.copyMakeBorder(mask.astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    return cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]


def _flood_component(
    labels: np.ndarray, box: tuple[slice, ...], own: np.ndarray, landscape: np.ndarray, markers: np.ndarray,
    next_id: int,
) -> int:
    """Watershed one component (`own` within `box`) from `markers`; write its pieces into `labels`.

    The pieces get the ids ``next_id, next_id + 1, ...`` in marker order; returns the next free id.
    Pixels the (4-connected) flood cannot reach, joined to the rest only by a corner, go to the
    nearest piece (before, one call site gave them another grain's id and the other a grain of
    their own).
    """
    pieces = segmentation.watershed(landscape, markers, mask=own)
    lost = own & (pieces == 0)
    if lost.any():
        _, (ri, ci) = ndi.distance_transform_edt(pieces == 0, return_indices=True)
        pieces[lost] = pieces[ri[lost], ci[lost]]
    ids, inverse = np.unique(pieces[own], return_inverse=True)
    target = labels[box]
    target[own] = (inverse + next_id).astype(labels.dtype)
    return next_id + ids.size


def _split_touching(mask: np.ndarray, *, split_ratio: float, offset_px: float) -> tuple[np.ndarray, int, int]:
    """Marker-controlled watershed on the distance transform; returns labels, n_components, n_grains.

    Markers are the h-maxima of ``ln(d + c)`` with ``h = -ln(split_ratio)``: two maxima separated
    by a neck of width w stay apart when ``w + c < split_ratio * (r_small + c)``.  Only components
    whose distance map has two or more local-maximum plateaus can split; h-maxima and the
    watershed run on those components' bounding boxes alone (each component is independent, as
    matrix separates them), and every other component stays one grain.  Labels come back
    1..n_grains without gaps.
    """
    eight = np.ones((3, 3), dtype=bool)
    components, n_comp = ndi.label(mask, structure=eight)
    components = components.astype(np.int32)
    if n_comp == 0:
        return components, 0, 0
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    h = float(-np.log(split_ratio))
    floor = np.float32(np.log(offset_px))
    local_max = (dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8))) & mask
    plateaus, n_plateaus = ndi.label(local_max, structure=eight)
    at = np.flatnonzero(local_max)
    comp_of_plateau = np.zeros(n_plateaus + 1, dtype=np.int64)
    comp_of_plateau[plateaus.ravel()[at]] = components.ravel()[at]  # a plateau lies in one component
    del plateaus, at
    plateaus_per_comp = np.bincount(comp_of_plateau[1:], minlength=n_comp + 1)
    boxes = ndi.find_objects(components)
    next_id = n_comp + 1
    for comp_id in np.flatnonzero(plateaus_per_comp >= 2):
        box = boxes[comp_id - 1]
        own = components[box] == comp_id
        sub_dist = dist[box]
        landscape = np.where(own, np.log(sub_dist + np.float32(offset_px)), floor).astype(np.float32)
        # h of the landscape's dtype: h_maxima compares it with float32 scalars, which NumPy 1
        # and 2 promote differently (NEP 50) when h is a Python float.
        peaks = morphology.h_maxima(landscape, np.float32(h)).astype(bool) & own
        # h_maxima on a float image can return one flat top as several pieces a pixel or two
        # apart (round-off); peaks closer than ~4 px are one maximum (two grains' maxima are at
        # least their radii apart, >= 6 px for the smallest grains that split).
        near = cv2.dilate(peaks.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & own
        markers, n_markers = ndi.label(near, structure=eight)
        markers = np.where(peaks, markers, 0)
        if n_markers < 2:
            continue
        next_id = _flood_component(components, box, own, -sub_dist, markers, next_id)
    if next_id > n_comp + 1:
        components = relabel_raster_order(components)
    return components, n_comp, int(components.max())


@functools.lru_cache(maxsize=4)
def _line_kernels(sigma_across: float, sigma_along: float, n_angles: int) -> tuple[tuple[np.ndarray, float], ...]:
    """Unit-sum anisotropic Gaussians elongated along each orientation, with the angle (rad) of their normal."""
    r = int(np.ceil(3.0 * max(sigma_across, sigma_along)))
    y, x = np.mgrid[-r : r + 1, -r : r + 1].astype(np.float64)
    kernels = []
    for theta in np.arange(n_angles) * np.pi / n_angles:
        u = x * np.cos(theta) + y * np.sin(theta)  # across the line
        v = -x * np.sin(theta) + y * np.cos(theta)  # along it
        g = np.exp(-(u**2) / (2 * sigma_across**2) - v**2 / (2 * sigma_along**2))
        kernels.append(((g / g.sum()).astype(np.float32), float(theta)))
    return tuple(kernels)


def _shifted(image: np.ndarray, shifts: Sequence[tuple[float, float]]) -> list[np.ndarray]:
    """`image` (float32) sampled at (y + dy, x + dx) for each shift: bilinear, edges reflected.

    Written out rather than ``cv2.warpAffine``: OpenCV 4 interpolates with weights rounded to
    1/32 px (errors up to ~1.4 % of the signal for a 2-px shift), OpenCV 5 with exact ones, and
    the valley filter's decisions followed the difference (issue 17).  Here four float32 views of
    one padded copy are combined in a fixed order with float32 weights: the same bits on any
    release of NumPy and OpenCV.
    """
    rows, cols = image.shape
    pad = 1 + max(max(abs(math.floor(dy)), abs(math.floor(dx))) for dy, dx in shifts)
    padded = np.pad(image, pad, mode="symmetric")  # = cv2.BORDER_REFLECT (fedcba|abcdef)
    outs = []
    tmp = np.empty((rows, cols), dtype=np.float32)
    for dy, dx in shifts:
        iy, ix = math.floor(dy), math.floor(dx)
        fy, fx = dy - iy, dx - ix
        terms = [(iy + a, ix + b, w) for a, b, w in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx),
                                                        (1, 0, fy * (1 - fx)), (1, 1, fy * fx)) if w]
        out = np.empty((rows, cols), dtype=np.float32)
        for k, (oy, ox, weight) in enumerate(terms):
            view = padded[pad + oy : pad + oy + rows, pad + ox : pad + ox + cols]
            np.multiply(view, np.float32(weight), out=out if k == 0 else tmp)
            if k:
                out += tmp
        outs.append(out)
    return outs


def _oriented_valley(image: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Dark-line response: how much darker a line is than *both* of its sides, best orientation.

    For each orientation the image is averaged along the line (anisotropic Gaussian) and the
    response is ``min(side_+ - centre, side_- - centre)`` with the sides ``VALLEY_SIDE_PX``
    across.  Requiring both sides brighter is what separates a groove between two grains from
    the dark foot of a single step (the inner edge of a bright rim, a grain's own edge, the
    flank of a bright scan line), which a second-derivative filter also answers.  `scale`
    widens the filter across the line (:func:`line_scale`).
    """
    return _oriented_lines(image, ridges=False, scale=scale)[0]


def _oriented_lines(image: np.ndarray, *, ridges: bool = True,
                    scale: float = 1.0) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`_oriented_valley` and, from the same filtered images, the bright-line response
    ``centre - max(side_+, side_-)`` (the valley response of the negated image, bit for bit)
    over the orientations away from the scan direction (``RIDGE_SKIP_SIN``).  The width across
    the line and the distance to its sides are multiplied by `scale` (:func:`line_scale`)."""
    valley = ridge = None
    d = VALLEY_SIDE_PX * scale
    for kernel, theta in _line_kernels(VALLEY_SIGMA_ACROSS_PX * scale, VALLEY_SIGMA_ALONG_PX, VALLEY_ORIENTATIONS):
        centre = cv2.filter2D(image, cv2.CV_32F, kernel, borderType=cv2.BORDER_REFLECT)
        dy, dx = d * np.sin(theta), d * np.cos(theta)
        resp, other = _shifted(centre, [(dy, dx), (-dy, -dx)])
        if ridges and abs(np.sin(theta)) <= RIDGE_SKIP_SIN:
            bright = np.maximum(resp, other)
            np.subtract(centre, bright, out=bright)
            ridge = bright if ridge is None else np.maximum(ridge, bright, out=ridge)
            del bright
        np.minimum(resp, other, out=resp)
        del other
        resp -= centre  # in place: a few tile-sized arrays at most
        del centre
        valley = resp if valley is None else np.maximum(valley, resp, out=valley)
    assert valley is not None
    return valley, ridge


@functools.lru_cache(maxsize=4)
def _valley_noise_response(scale: float = 1.0) -> tuple[float, float, float]:
    """Median, robust sd and 99th percentile of :func:`_oriented_valley` (at `scale`) on unit
    white noise (fixed seed)."""
    noise = np.random.default_rng(0).standard_normal((256, 256)).astype(np.float32)
    resp = _oriented_valley(noise, scale)[16:-16, 16:-16]
    med = float(np.median(resp))
    return med, _MAD_TO_SIGMA * float(np.median(np.abs(resp - med))), float(np.percentile(resp, 99.0))


def _noise_by_level(image: np.ndarray, smooth: np.ndarray, n_levels: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Noise sigma of `image` as a function of grey level (SEM noise grows with the signal).

    Pixels are binned into `n_levels` quantile bins of the smoothed level; in each bin the
    robust Immerkaer estimate (median absolute Laplacian) gives the noise there.
    """
    step = max(1, int(np.sqrt(image.size / 1_000_000)))
    resp = _immerkaer_abs(image)[::step, ::step].ravel()
    level = smooth[::step, ::step].ravel()
    edges = np.quantile(level, np.linspace(0.0, 1.0, n_levels + 1))
    which = np.clip(np.searchsorted(edges, level, side="right") - 1, 0, n_levels - 1)
    counts = np.bincount(which, minlength=n_levels)
    centres, sigmas = [], []
    for i in np.flatnonzero(counts > 0):
        sel = which == i
        centres.append(float(np.median(level[sel])))
        sigmas.append(_MAD_TO_SIGMA * float(np.median(resp[sel])) / 6.0)
    sig = np.maximum(np.asarray(sigmas), 1e-4)
    return np.asarray(centres), sig


def valley_strength(
    image: np.ndarray, smooth: np.ndarray, *, noise_by_level: tuple[np.ndarray, np.ndarray] | None = None,
    scale: float = 1.0,
) -> np.ndarray:
    """Dark-line (contact groove, narrow gap) strength in units of the local noise.

    The oriented valley filter (a line darker than both of its sides; see
    :func:`_oriented_valley` and ``VALLEY_*``) is applied to the unsmoothed `image`, and its
    response is divided by what white noise of the local noise level would give, so that the
    result is a z-score: ~0 on flat regions whatever their brightness and dose, above ~6 on a
    groove that is really there.

    Parameters
    ----------
    image : ndarray of float32, shape (rows, cols)
        The flattened, normalised image (grains bright), before smoothing.
    smooth : ndarray of float32, shape (rows, cols)
        The same image smoothed; it gives the grey level at which the noise is looked up.
    noise_by_level : (levels, sigmas), optional
        The noise as a function of grey level, if the caller has it already; measured here
        otherwise.
    scale : float
        The filter's width across the line, relative to its design (:func:`line_scale` of the
        image's edge width; 1 for edges as sharp as a 1-2 px groove's).

    Returns
    -------
    ndarray of float32
        Valley strength in noise standard deviations.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> img = (0.6 + 0.02 * rng.standard_normal((64, 64))).astype(np.float32)
    >>> img[:, 31:33] = 0.2                      # a 2-px dark groove
    >>> z = valley_strength(img, cv2.GaussianBlur(img, (0, 0), 1.0))
    >>> bool(z[:, 31:33].mean() > 10), bool(np.median(z[:, :20]) < 2)
    (True, True)
    """
    img = np.asarray(image, dtype=np.float32)
    levels, sigmas = noise_by_level if noise_by_level is not None else _noise_by_level(img, smooth)
    return _in_noise_units(_oriented_valley(img, scale), smooth, levels, sigmas, scale)


def line_strengths(
    image: np.ndarray, smooth: np.ndarray, *, noise_by_level: tuple[np.ndarray, np.ndarray] | None = None,
    scale: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`valley_strength` and :func:`ridge_strength` together (one pass of the line filter)."""
    img = np.asarray(image, dtype=np.float32)
    levels, sigmas = noise_by_level if noise_by_level is not None else _noise_by_level(img, smooth)
    valley, ridge = _oriented_lines(img, scale=scale)
    assert ridge is not None
    return (_in_noise_units(valley, smooth, levels, sigmas, scale),
            _in_noise_units(ridge, smooth, levels, sigmas, scale))


def ridge_strength(
    image: np.ndarray, smooth: np.ndarray, *, noise_by_level: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Bright-line strength in units of the local noise, away from the scan direction.

    :func:`valley_strength` of the negated image, with the orientations within ~34 degrees of
    the scan lines left out (``RIDGE_SKIP_SIN``): scan-line jitter and charging streaks are
    bright lines along the scan, contact lines between grains run any way.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> img = (0.6 + 0.02 * rng.standard_normal((64, 64))).astype(np.float32)
    >>> img[:, 31:33] = 0.9                      # a vertical 2-px bright line
    >>> img[20:22, :] = 0.9                      # a bright scan line
    >>> z = ridge_strength(img, cv2.GaussianBlur(img, (0, 0), 1.0))
    >>> line, scan = z[40:, 31:33].mean(), z[20:22, :20].mean()
    >>> bool(line > 10), bool(scan < 0.1 * line)
    (True, True)
    """
    return line_strengths(image, smooth, noise_by_level=noise_by_level)[1]


def _in_noise_units(z: np.ndarray, smooth: np.ndarray, levels: np.ndarray, sigmas: np.ndarray,
                    scale: float = 1.0) -> np.ndarray:
    """`z` (a valley-filter response at `scale`) as a z-score against white noise of the local
    level, in place."""
    local = np.interp(smooth, levels, sigmas).astype(np.float32)
    med, spread, _ = _valley_noise_response(scale)
    # (z - med * local) / (spread * local), in place (the same float32 operations)
    work = local * med
    z -= work
    np.multiply(local, spread, out=work)
    z /= work
    return z


def _without_non_grooves(cut: np.ndarray, mask: np.ndarray, smooth: np.ndarray, *,
                         flat: np.ndarray | None = None, row_offsets: np.ndarray | None = None) -> np.ndarray:
    """`cut` (valley pixels) without the pieces that are no groove: dark spots
    (:func:`_spot_pieces`) and, given `flat` and its `row_offsets`, dark scan lines
    (:func:`_scan_line_pieces`), both judged on one labelling of the cut."""
    pieces, n = ndi.label(cut, structure=np.ones((3, 3), dtype=bool))
    boxes = ndi.find_objects(pieces)
    not_groove = np.zeros(n + 1, dtype=bool)
    if VALLEY_SPOT_MAX_PX:
        not_groove |= _spot_pieces(cut, pieces, n, boxes, mask, smooth)
    if row_offsets is not None and flat is not None and VALLEY_SCANLINE_SHARE > 0:
        not_groove |= _scan_line_pieces(cut, pieces, n, boxes, flat, row_offsets)
    return cut & ~not_groove[pieces] if not_groove.any() else cut


def _spot_pieces(cut: np.ndarray, pieces: np.ndarray, n: int, boxes: list, mask: np.ndarray,
                 smooth: np.ndarray) -> np.ndarray:
    """Which pieces of a valley cut are dark spots (bool per piece id, 0 = False): small, round
    pieces that lie wholly inside the mask.

    A dark spot inside a grain (the dim centre of a small edge-brightened particle, a pit)
    answers the valley filter in some orientation, but it separates nothing: cut out, it leaves
    a hole that makes the distance map two-lobed, and the neck split halves the particle.  A
    groove between touching grains reaches their outline, and where it is detected only in
    pieces, each piece is level along the groove: those stay cut (``VALLEY_SPOT_*``).
    """
    candidate = np.zeros(n + 1, dtype=bool)
    if n == 0:
        return candidate
    extent = np.array([max(sl[0].stop - sl[0].start, sl[1].stop - sl[1].start) for sl in boxes])
    candidate[1:] = extent <= VALLEY_SPOT_MAX_PX
    outline = cv2.dilate((~mask).view(np.uint8), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT,
                         borderValue=1) > 0
    candidate[pieces[outline & cut]] = False
    candidate[0] = False
    if not candidate.any():
        return candidate
    # each candidate's darkest pixel (the spot's centre) is the one tested
    ids = np.flatnonzero(candidate)
    where = ndi.minimum_position(smooth, pieces, ids)
    rows = np.fromiter((pos[0] for pos in where), dtype=np.int64, count=len(ids))
    cols = np.fromiter((pos[1] for pos in where), dtype=np.int64, count=len(ids))
    r = VALLEY_SPOT_RADIUS_PX
    h, w = smooth.shape
    centre = smooth[rows, cols]
    depths = []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        step = r / math.hypot(dy, dx)
        oy, ox = round(dy * step), round(dx * step)
        plus = smooth[np.clip(rows + oy, 0, h - 1), np.clip(cols + ox, 0, w - 1)]
        minus = smooth[np.clip(rows - oy, 0, h - 1), np.clip(cols - ox, 0, w - 1)]
        depths.append(np.minimum(plus, minus) - centre)
    depth = np.stack(depths)
    spot = np.zeros(n + 1, dtype=bool)
    spot[ids] = depth.min(axis=0) >= VALLEY_SPOT_ISOTROPY * np.maximum(depth.max(axis=0), 1e-6)
    return spot


def _scan_line_pieces(cut: np.ndarray, pieces: np.ndarray, n: int, boxes: list, flat: np.ndarray,
                      row_offsets: np.ndarray) -> np.ndarray:
    """Which pieces of a valley cut are a dark scan line (bool per piece id, 0 = False): at most
    VALLEY_SCANLINE_ROWS rows tall, wider than tall, and at least VALLEY_SCANLINE_SHARE of their
    depth below the rows around them is their rows' own offset (:func:`line_offsets`, the median
    over the whole row)."""
    if n == 0:
        return np.zeros(1, dtype=bool)
    height = np.array([sl[0].stop - sl[0].start for sl in boxes])
    width = np.array([sl[1].stop - sl[1].start for sl in boxes])
    flat_piece = np.zeros(n + 1, dtype=bool)
    flat_piece[1:] = (height <= VALLEY_SCANLINE_ROWS) & (width > height)
    if not flat_piece.any():
        return flat_piece
    sel = cut & flat_piece[pieces]
    rows, cols = np.nonzero(sel)
    ids = pieces[rows, cols]
    h = flat.shape[0]
    above, below = np.clip(rows - 2, 0, h - 1), np.clip(rows + 2, 0, h - 1)
    depth = 0.5 * (flat[above, cols] + flat[below, cols]) - flat[rows, cols]
    line = 0.5 * (row_offsets[above] + row_offsets[below]) - row_offsets[rows]
    total = np.bincount(ids, weights=depth, minlength=n + 1)
    by_line = np.bincount(ids, weights=line, minlength=n + 1)
    scan = flat_piece & (total > 0) & (by_line >= VALLEY_SCANLINE_SHARE * total)
    scan[0] = False
    return scan


def _split_touching_valleys(
    mask: np.ndarray,
    valley_z: np.ndarray,
    smooth: np.ndarray,
    *,
    threshold: float,
    split_ratio: float,
    offset_px: float,
    ridge_z: np.ndarray | None = None,
    ridge_mask: np.ndarray | None = None,
    flat: np.ndarray | None = None,
    row_offsets: np.ndarray | None = None,
) -> tuple[np.ndarray, int, int]:
    """Split touching grains at dark valleys and at narrow necks; returns labels, n_components, n_grains.

    Pixels of the mask whose valley strength exceeds `threshold` are cut out (but for round dark
    spots and, given `flat` and its `row_offsets`, dark scan lines: :func:`_without_non_grooves`),
    and so are those
    whose `ridge_z` (bright contact lines, :func:`ridge_strength`) does, inside the unfilled
    `ridge_mask` and clear of the valleys (``RIDGE_*``); what is left is
    split at its necks by :func:`_split_touching` (the same relative criterion).  Pieces whose
    inscribed radius is below ``VALLEY_MARKER_MIN_RADIUS_PX`` are dropped as markers, every mask
    component left without a marker gets one of its own (a small grain entirely on a valley
    flank stays a grain), and a watershed of the grey levels grows the markers back over the
    whole mask, so cut pixels go to the grain they belong to and boundaries follow the darkest
    path.
    """
    eight = np.ones((3, 3), dtype=bool)
    components, n_comp = ndi.label(mask, structure=eight)
    if n_comp == 0:
        return components.astype(np.int32), 0, 0
    cut = _without_non_grooves(valley_z > threshold, mask, smooth, flat=flat, row_offsets=row_offsets)
    interior = mask & ~cut
    ridge = None
    if ridge_z is not None:
        size = 2 * RIDGE_VALLEY_CLEARANCE_PX + 1
        near_valley = cv2.dilate(cut.view(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
        ridge = ridge_z > RIDGE_THRESHOLD_FACTOR * threshold
        depth = _inscribed_distance(mask if ridge_mask is None else ridge_mask)
        ridge &= depth > RIDGE_INSET_PX
        ridge &= near_valley == 0
        del near_valley
        if ridge.any():  # whole pieces: deep enough somewhere and more than a lone pixel
            pieces, n_pieces = ndi.label(ridge, structure=np.ones((3, 3), dtype=bool))
            keep = label_max(depth[ridge], pieces[ridge], n_pieces) > RIDGE_PIECE_DEPTH_PX
            keep &= np.bincount(pieces[ridge], minlength=n_pieces + 1) >= RIDGE_MIN_PIECE_PX
            keep[0] = False
            ridge = keep[pieces]
        del depth
        interior &= ~ridge
    markers, _, n_markers = _split_touching(interior, split_ratio=split_ratio, offset_px=offset_px)
    if n_markers:
        inscribed = _inscribed_distance(interior)
        on = markers > 0
        radius = label_max(inscribed[on], markers[on], n_markers)
        thin = radius < VALLEY_MARKER_MIN_RADIUS_PX
        if ridge is not None and ridge.any():
            # a piece beside a bright line must be a grain's worth, not the strip between a
            # particle's own bright rim and its outline
            beside = cv2.dilate(ridge.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool) & on
            by_ridge = np.zeros(n_markers + 1, dtype=bool)
            by_ridge[markers[beside]] = True
            thin |= by_ridge & (radius < RIDGE_MARKER_MIN_RADIUS_PX)
            del beside
        del on
        thin[0] = False
        markers = np.where(thin[markers], 0, markers).astype(np.int32)
    # Markers per component (a marker lies inside one component: it is connected and in the mask).
    sel = markers > 0
    comp_of_marker = np.zeros(n_markers + 1, dtype=np.int64)
    comp_of_marker[markers[sel]] = components[sel]
    n_per_comp = np.bincount(comp_of_marker[1:], minlength=n_comp + 1)
    n_per_comp[0] = 0
    # A component with one marker (or none: a small grain on a valley flank) is one grain; only
    # components with two or more markers need the watershed, run on their bounding boxes.
    labels = components.copy()
    boxes = ndi.find_objects(components)
    next_id = n_comp + 1
    for comp_id in np.flatnonzero(n_per_comp >= 2):
        box = boxes[comp_id - 1]
        own = components[box] == comp_id
        local = np.where(own, markers[box], 0)
        next_id = _flood_component(labels, box, own, -smooth[box], local, next_id)
    labels = relabel_raster_order(labels)
    return labels, n_comp, int(labels.max())


def _solidity(mask: np.ndarray) -> float:
    """Area over convex-hull area of the pixels of `mask` (1 for a convex shape).

    The hull through the pixel centres misses half a pixel all round; adding half its perimeter
    and one pixel gives the pixel-counted hull area within 1 % (checked against
    ``skimage.measure.regionprops(...).solidity`` on grains of 200 px and more), at a fraction
    of the cost.
    """
    hull = cv2.convexHull(cv2.findNonZero(mask.astype(np.uint8)))
    hull_area = cv2.contourArea(hull) + cv2.arcLength(hull, True) / 2.0 + 1.0
    return float(np.count_nonzero(mask) / hull_area)


def _flat_enough(values: np.ndarray, noise_by_level: tuple[np.ndarray, np.ndarray], limit: float) -> bool:
    """Whether the variance of `values` is at most `limit` times the noise variance at their level."""
    if values.size < 9:
        return True
    sigma = float(np.interp(values.mean(), *noise_by_level))
    return bool(values.var() <= limit * sigma * sigma)


def _level_markers(own: np.ndarray, regions: np.ndarray, sizes: np.ndarray, flat: np.ndarray,
                   noise_by_level: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, int]:
    """Markers for one grain (`own`): its large, convex, flat patches of one level (mostly inside it)."""
    ids, counts = np.unique(regions[own], return_counts=True)
    markers = np.zeros(own.shape, dtype=np.int32)
    n = 0
    square = np.ones((5, 5), np.uint8)
    least = LEVEL_MARKER_FRACTION * np.count_nonzero(own)
    for rid, count in zip(ids.tolist(), counts.tolist(), strict=True):
        if rid == 0 or count < least or count < 0.7 * sizes[rid]:
            continue
        patch = own & (regions == rid)
        parts, n_parts = ndi.label(patch)
        if n_parts > 1:
            patch = parts == 1 + int(np.argmax(np.bincount(parts.ravel())[1:]))
        core = cv2.erode(patch.astype(np.uint8), square).astype(bool)
        if _solidity(patch) < LEVEL_MARKER_SOLIDITY or not _flat_enough(flat[core], noise_by_level,
                                                                         LEVEL_MARKER_FLATNESS):
            continue
        n += 1
        markers[patch] = n
    return markers, n


def _level_step_z(pieces: np.ndarray, a: int, b: int, deep: np.ndarray, flat: np.ndarray,
                  noise_by_level: tuple[np.ndarray, np.ndarray]) -> tuple[float, float, float]:
    """Level step between pieces `a` and `b` near their border: (standard errors, pixel sigmas, itself)."""
    strips = []
    for mine, other in ((a, b), (b, a)):
        dist = cv2.distanceTransform((pieces != other).astype(np.uint8), cv2.DIST_L2, 3)
        strips.append((pieces == mine) & (dist > 1.0) & (dist <= LEVEL_STRIP_PX) & deep)
    n_a, n_b = (int(np.count_nonzero(x)) for x in strips)
    if min(n_a, n_b) < 5:
        return 0.0, 0.0, 0.0
    mean_a, mean_b = float(flat[strips[0]].mean()), float(flat[strips[1]].mean())
    sigma = float(np.interp(0.5 * (mean_a + mean_b), *noise_by_level))
    step = abs(mean_a - mean_b)
    return step / (sigma * np.sqrt(1.0 / n_a + 1.0 / n_b)), step / sigma, step


def _split_by_level(
    labels: np.ndarray, flat: np.ndarray, smooth: np.ndarray,
    noise_by_level: tuple[np.ndarray, np.ndarray], valley_z: np.ndarray, *,
    row_offsets: np.ndarray | None = None, min_step: float = 0.0,
) -> tuple[np.ndarray, int]:
    """Split grains that are two or more flat patches of different level; returns labels, n_new.

    Two grains that touch with no gap and no groove leave only one cue besides shape: their
    brightness differs.  Patches of one level are found by :func:`morpho.regions.merge_regions`
    within the large grains; the tests are described at ``LEVEL_SPLIT_MIN_AREA_PX``.  A step
    must also exceed `min_step` (in the units of `flat`: LEVEL_STEP_CONTRAST of the grain-matrix
    contrast, so that the test keeps its sense as the noise goes to zero), and levels are read
    with each row's `row_offsets` (scan-line jitter, one per row of `flat`) taken out.  A grain
    whose pieces fail them stays whole.
    """
    areas = np.bincount(labels.ravel())
    large = np.flatnonzero(areas >= LEVEL_SPLIT_MIN_AREA_PX)
    large = large[large > 0]
    # A convex grain cannot pass the union test: only non-convex large grains are candidates.
    boxes = ndi.find_objects(labels)
    large = np.array([lab for lab in large.tolist() if _solidity(labels[boxes[lab - 1]] == lab)
                      < LEVEL_UNION_SOLIDITY], dtype=np.int64)
    if large.size == 0:
        return labels, 0
    out = labels.copy()
    next_id = int(labels.max()) + 1
    n_new = 0
    for lab in large.tolist():
        box = boxes[lab - 1]
        own = labels[box] == lab
        own_flat = flat[box] if row_offsets is None else flat[box] - row_offsets[box[0], None]
        regions, sizes, _ = merge_regions(own_flat, smooth[box], noise_by_level, valley_z[box], mask=own)
        markers, n_markers = _level_markers(own, regions, sizes, own_flat, noise_by_level)
        if n_markers < 2:
            continue
        pieces = segmentation.watershed(-smooth[box], markers, mask=own)
        deep = _inscribed_distance(own) > LEVEL_RIM_PX
        together = DisjointSet(range(n_markers + 1))
        first, second, _ = border_pairs(pieces)
        for a, b in zip(first.tolist(), second.tolist(), strict=True):
            z, step_sigmas, step = _level_step_z(pieces, a, b, deep, own_flat, noise_by_level)
            apart = (z > LEVEL_STEP_Z and step_sigmas > LEVEL_STEP_FLOOR and step > min_step
                     and _solidity((pieces == a) | (pieces == b)) < LEVEL_UNION_SOLIDITY)
            if not apart:
                together.merge(a, b)
        roots = np.array([together[i] for i in range(n_markers + 1)])
        merged = roots[pieces]
        kept = np.unique(merged[own])
        if kept.size < 2 or not all(_flat_enough(own_flat[(merged == k) & deep], noise_by_level,
                                                 LEVEL_PIECE_FLATNESS) for k in kept.tolist()):
            continue
        target = out[box]
        for k in kept[1:].tolist():
            target[own & (merged == k)] = next_id
            next_id += 1
            n_new += 1
    return out, n_new


def _expand_labels(labels: np.ndarray, reach_px: int) -> np.ndarray:
    """``skimage.segmentation.expand_labels(labels, reach_px)`` with a fraction of its memory.

    The same nearest-grain pixels (SciPy's exact feature transform, asked for the indices only)
    and the same test (distance <= `reach_px`, here on integer squared distances, which is exact
    for an integer reach); the zone image is filled in bands of rows, so no float64 distance
    map and no full-size temporary exists besides the indices.
    """
    feature = ndi.distance_transform_edt(labels == 0, return_distances=False, return_indices=True)
    zone = np.empty_like(labels)
    cols = np.arange(labels.shape[1], dtype=np.int64)
    band = max(1, (1 << 19) // max(labels.shape[1], 1))  # ~4 MB per int64 temporary
    for r0 in range(0, labels.shape[0], band):
        fr, fc = feature[0, r0:r0 + band], feature[1, r0:r0 + band]
        dr = fr - np.arange(r0, r0 + fr.shape[0], dtype=np.int64)[:, None]
        dc = fc - cols
        zone[r0:r0 + band] = np.where(dr * dr + dc * dc <= reach_px * reach_px, labels[fr, fc], 0)
    return zone


def refine_edges(labels: np.ndarray, image: np.ndarray, *, reach_px: int = 3, fraction: float = 0.5) -> np.ndarray:
    """Move every grain's edge to its own half-maximum between matrix and grain level.

    A global threshold sits wherever the histogram puts it; on a blurred edge that shifts the
    boundary outwards (threshold below half-way) or inwards, which biases small grains most: at
    a 7-px radius, one pixel is a 15 % error in diameter.  Here each grain gets the threshold
    ``matrix + fraction * (grain - matrix)``, with ``grain`` the mean of its core (pixels at
    least 2.5 px inside, or its maximum for grains too small to have a core) and ``matrix`` the
    median of the pixels farther than `reach_px` from every grain.  Pixels within `reach_px` of
    a grain edge (outside or inside) are re-assigned by that threshold; deeper pixels keep their
    label, and zones come from ``expand_labels``, so neighbouring grains never merge.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        Initial labels 1..n.
    image : ndarray of float, shape (rows, cols)
        The smoothed, flattened image the labels came from (grains bright).
    reach_px : int
        How far (px) an edge may move outwards.
    fraction : float
        Position of the edge between matrix (0) and grain (1) level; 0.5 is half-maximum.

    Returns
    -------
    ndarray of int32
        Refined labels (same ids; a grain whose level is not above the matrix keeps its pixels).
    """
    n = int(labels.max())
    if n == 0:
        return labels
    mask = labels > 0
    zone = _expand_labels(labels, reach_px)
    far = zone == 0
    if not far.any():
        return labels
    matrix_level = float(np.median(image[far]))
    inside = _inscribed_distance(mask)
    core = inside >= 2.5
    count = np.bincount(labels[core], minlength=n + 1).astype(np.float64)
    total = np.bincount(labels[core], weights=image[core], minlength=n + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        level = total / count
    no_core = count == 0
    if no_core[1:].any():
        ids = np.flatnonzero(no_core)
        ids = ids[ids > 0]
        no_core[0] = False
        sel = no_core[labels]  # the pixels of the grains without a core only
        level[ids] = label_max(image[sel], labels[sel], n)[ids]
    level[0] = np.inf
    thr = (matrix_level + fraction * (level - matrix_level)).astype(np.float32)
    # A grain not clearly above the matrix keeps its original pixels.
    weak = ~(level > matrix_level)
    refined = np.where((zone > 0) & (image > thr[zone]), zone, 0).astype(np.int32)
    # Only edges move: pixels deeper than `reach_px` inside a grain keep their label, so a
    # darker patch inside a grain (shading, edge-brightened interiors) never cuts it apart.
    keep_old = (weak[labels] | (inside > reach_px)) & mask
    refined[keep_old] = labels[keep_old]
    return refined


def default_threads() -> int:
    """Tiles segmented at once by default: the CPUs this process may use, at most ``MAX_THREADS``."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_THREADS))


def segment(image: np.ndarray, *, pixel_size_m: float, config: SegmentConfig | None = None,
            threads: int | None = None) -> SegmentationResult:
    """Segment bright grains (or dark ones, per `config`) into a label image.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
        The analysed region of the micrograph (databar rows already removed), any numeric dtype.
    pixel_size_m : float
        Pixel size in metres; converts the physical minimum grain size to pixels.
    config : SegmentConfig, optional
        Segmentation options; defaults to ``SegmentConfig()``.
    threads : int, optional
        Tiles segmented at once (a large micrograph is cut into tiles; smaller ones are one
        tile); :func:`default_threads` if not given.  The labels do not depend on it; the peak
        memory grows by one tile's working arrays (~0.3 GB at the default tile size) per thread.

    Returns
    -------
    SegmentationResult
        Labels 1..n in raster order, with the threshold and noise figures used.

    Raises
    ------
    InputError
        If the image is not 2-D, too small, or constant.
    SegmentationError
        If no grain is found, the whole image is one grain, or the image varies no more than
        its pixel noise (``MIN_STRUCTURE_NOISE``: an all-grain or all-matrix field).

    Notes
    -----
    Input units: pixels, metres for `pixel_size_m`.  Output units: pixels (labels).
    """
    cfg = config if config is not None else SegmentConfig()
    arr = _validate_image(image)
    if not (np.isfinite(pixel_size_m) and pixel_size_m > 0):
        msg = f"pixel_size_m must be finite and > 0, got {pixel_size_m!r}"
        raise InputError(msg)
    est = _estimate(arr, cfg, pixel_size_m)
    del arr
    flat, smooth, threshold = est.flat, est.smooth, est.threshold
    rows, cols = flat.shape
    tiled = (cfg.method == "threshold" and cfg.tile_px > 0
             and max(rows, cols) > cfg.tile_px + 2 * cfg.tile_overlap_px)
    if tiled:
        # The tiles smooth their own pixels (with a margin, so the values are the same): the
        # whole smoothed image is not kept while they run, and is made again afterwards.
        est.smooth = smooth = None
        n_threads = default_threads() if threads is None else threads
        labels, n_comp, n_grains, n_removed = _segment_tiles(est, cfg, n_threads)
        smooth = _smoothed(flat, est.sigma)
        _require_matrix(labels > 0)
    elif cfg.method == "regions":
        raw_mask, mask, _ = _masks(smooth, est, cfg, flat)
        _require_matrix(mask)
        del mask
        valley_z = valley_strength(flat, smooth, noise_by_level=est.valley_levels, scale=est.line_scale)
        labels = segment_regions(flat, smooth, est.noise_levels, valley_z,
                                 matrix_level=matrix_mode(smooth, ~raw_mask))
        labels = relabel_raster_order(labels)
        n_comp = n_grains = int(labels.max())
        labels, n_removed = _drop_small(labels, est.min_area_px)
    else:
        labels, n_comp, n_grains, n_removed = _threshold_labels(flat, smooth, est, cfg, check=True)
    est.flat = flat = None  # not needed any more: free it before the last full-image steps
    labels = relabel_raster_order(labels)
    if labels.max() == 0:
        msg = (
            f"no grains found (threshold {threshold:.3f} of the normalised range, minimum grain area "
            f"{est.min_area_px} px); check --dark-grains, the pixel size, or lower segment.min_diameter_m"
        )
        raise SegmentationError(msg)
    matrix_level, grain_level = _phase_levels(labels, smooth)
    coverage = np.count_nonzero(labels) / labels.size
    if coverage > CONTINUOUS_COVERAGE:
        msg = (f"grains cover {coverage:.1%} of the image: this looks like a continuous film (or inverted "
               "contrast: see --dark-grains), not islands in a matrix; grain sizes and gaps mean little here")
        warnings.warn(msg, UserWarning, stacklevel=2)
    _warn_if_shattered(labels, smooth, n_comp, n_grains, matrix_level, grain_level, cfg)
    levels, sigmas = est.measured_levels
    noise_matrix, noise_grain = (float(np.interp(v, levels, sigmas)) if np.isfinite(v) else float("nan")
                                 for v in (matrix_level, grain_level))
    return SegmentationResult(
        labels=labels,
        threshold=float(threshold),
        noise_sigma=est.noise,
        smoothing_sigma_px=est.sigma,
        min_area_px=est.min_area_px,
        n_removed_small=n_removed,
        n_split=int(n_grains - n_comp),
        matrix_level=matrix_level,
        grain_level=grain_level,
        noise_matrix=noise_matrix,
        noise_grain=noise_grain,
        band=float(est.band),
        n_tiles=est.n_tiles,
        edge_sigma_px=est.edge_sigma,
        line_scale=est.line_scale,
    )


def split_boundary_depth(labels: np.ndarray, smooth: np.ndarray, matrix_level: float, grain_level: float) -> float:
    """How dark the boundaries between touching grains are: (grain - boundary) / (grain - matrix).

    The boundary is every grain pixel with a 4-neighbour of another grain; its level is their
    median in `smooth`.  About 1 for a groove down to the matrix level, about 0 where grains were
    cut with no darker line between them (shading, texture).  NaN when no grains touch.
    """
    right = (labels[:, 1:] != labels[:, :-1]) & (labels[:, 1:] > 0) & (labels[:, :-1] > 0)
    down = (labels[1:] != labels[:-1]) & (labels[1:] > 0) & (labels[:-1] > 0)
    values = np.concatenate([smooth[:, 1:][right], smooth[:, :-1][right], smooth[1:][down], smooth[:-1][down]])
    contrast = grain_level - matrix_level
    if values.size == 0 or not contrast > 0:
        return float("nan")
    return (grain_level - float(np.median(values))) / contrast


def _warn_if_shattered(labels: np.ndarray, smooth: np.ndarray, n_comp: int, n_grains: int,
                       matrix_level: float, grain_level: float, cfg: SegmentConfig) -> None:
    """Warn when splitting cut the grains into many pieces along no darker line (issue 18).

    More than ``SHATTER_PIECES_PER_REGION`` grains per connected grain region on average, with
    split boundaries less than ``SHATTER_BOUNDARY_DEPTH`` of the contrast darker than the grains,
    is the signature of one particle cut along its own shading or texture (a closed film of
    touching grains has many grains per region too, but dark grooves between them).
    """
    if n_comp <= 0 or n_grains < SHATTER_PIECES_PER_REGION * n_comp or n_grains - n_comp < SHATTER_MIN_SPLITS:
        return
    depth = split_boundary_depth(labels, smooth, matrix_level, grain_level)
    if not depth < SHATTER_BOUNDARY_DEPTH:
        return
    msg = (f"splitting cut {n_comp} connected grain region(s) into {n_grains} grains ({n_grains / n_comp:.1f} "
           f"per region) along boundaries only {max(depth, 0.0):.0%} of the contrast darker than the grains: "
           "whole particles may have been cut along their shading; if so, raise segment.valley_threshold "
           f"(now {cfg.valley_threshold}) or set segment.split_touching = false")
    warnings.warn(msg, UserWarning, stacklevel=3)


@dataclass
class _Estimates:
    """What the whole image decides before any grain is cut out (the same for every tile)."""

    flat: np.ndarray  # flattened image, float32 in [0, 1]
    smooth: np.ndarray  # Gaussian-smoothed `flat`
    noise: float
    sigma: float
    threshold: float
    band: float
    noise_levels: tuple[np.ndarray, np.ndarray]  # for decisions: floored at NOISE_FLOOR_CONTRAST
    measured_levels: tuple[np.ndarray, np.ndarray]  # as measured: the summary and detection limit
    valley_levels: tuple[np.ndarray, np.ndarray]  # the valley filter's units
    row_offsets: np.ndarray  # each scan line's offset in `flat` (float32 per row; 0 once removed)
    contrast: float  # grain minus matrix median of `smooth` (:func:`_phase_medians`)
    min_area_px: int
    edge_sigma: float  # :func:`edge_sigma_px` (NaN: too few clear edges)
    line_scale: float  # :func:`line_scale` of it: the line filter's width across
    n_tiles: int = 1


def _estimate(arr: np.ndarray, cfg: SegmentConfig, pixel_size_m: float) -> _Estimates:
    """Normalise, flatten, measure the noise, smooth, threshold: the global steps of :func:`segment`."""
    norm = normalize_intensity(arr, dark_grains=cfg.dark_grains)
    flat = flatten_background(norm) if cfg.flatten_background else norm
    del norm
    row_offsets = line_offsets(flat)
    if cfg.remove_line_offsets:
        flat = flat - row_offsets[:, None]
        row_offsets = np.zeros_like(row_offsets)
    noise = estimate_noise_sigma(flat)
    _require_structure(flat, noise)
    if cfg.smoothing_sigma_px is not None:
        sigma = float(cfg.smoothing_sigma_px)
    else:
        # Noise-adaptive: ~0.6 px for clean images, ~1.2 px for ordinary SEM noise (a Gaussian
        # of 1.2 px still leaves a 3-px-radius grain above the threshold), SMOOTH_MAX at most.
        sigma = float(np.clip(0.6 + 6.0 * noise, 0.6, SMOOTH_MAX))
    smooth = _smoothed(flat, sigma)
    threshold = _threshold(smooth, cfg.threshold_method)
    if cfg.smoothing_sigma_px is None:
        # ... and never coarser than the structure of a two-phase film (issue 19): sites 3 px
        # across smoothed by 1.1 px lost their matrix pockets (coverage 0.593 -> 0.64 at
        # contrast-to-noise 10)
        cap = max(SMOOTH_MIN_STRUCTURE, SMOOTH_PER_CORRELATION * correlation_length_px(flat))
        step = max(1, int(np.sqrt(smooth.size / 1_000_000)))
        share = float(np.mean(smooth[::step, ::step] >= threshold))
        if cap < sigma and STRUCTURE_MIN_PHASE <= share <= 1.0 - STRUCTURE_MIN_PHASE:
            sigma = cap
            smooth = _smoothed(flat, sigma)
            threshold = _threshold(smooth, cfg.threshold_method)
    # The hysteresis band keeps its noise-free limit (a plain threshold, right for a clean image);
    # the splitting and flatness decisions get a floor relative to the contrast.
    band = hysteresis_band(noise, sigma)
    matrix_median, grain_median = _phase_medians(smooth, threshold)
    contrast = max(grain_median - matrix_median, 0.0)
    floor = NOISE_FLOOR_CONTRAST * contrast
    min_area_px = max(int(cfg.min_area_px), int(np.ceil(np.pi / 4.0 * (cfg.min_diameter_m / pixel_size_m) ** 2)))
    levels, sigmas = _noise_by_level(flat, smooth)
    noise_levels = (levels, np.maximum(sigmas, floor))
    # The matrix's own "valleys", where they exceed what its white noise explains by more than
    # MATRIX_VALLEY_EXCESS (on the noisy bench films they are within 5 % of it: nothing changes).
    edge_sigma = edge_sigma_px(smooth, threshold, contrast, sigma)
    scale = line_scale(edge_sigma)
    matrix_valley = _matrix_valley_sigma(flat, smooth, threshold, scale=scale)
    matrix_noise = float(np.interp(matrix_median, levels, sigmas))
    if not matrix_valley > MATRIX_VALLEY_EXCESS * matrix_noise:
        matrix_valley = 0.0
    valley_levels = (levels, np.maximum(noise_levels[1], matrix_valley))
    return _Estimates(flat, smooth, noise, sigma, threshold, band, noise_levels, (levels, sigmas), valley_levels,
                      row_offsets, contrast, min_area_px, edge_sigma, scale)


def correlation_length_px(flat: np.ndarray) -> float:
    """The film's correlation length (px): where its autocorrelation falls to one half.

    The autocorrelation (along rows and columns, averaged) of a central window of at most
    ``CORRELATION_WINDOW`` px is normalised by its value at lag 0 without the white noise (the
    noise adds to lag 0 only; lags 1 and 2 extrapolated back), so the figure does not depend on
    the dose.  A film of random square sites of a px has a triangular autocorrelation: a / 2.
    ``inf`` when it stays above one half up to ``CORRELATION_MAX_LAG`` px (a coarse film).

    >>> rng = np.random.default_rng(0)
    >>> sites = np.kron(rng.random((100, 100)) < 0.5, np.ones((4, 4))).astype(np.float32)
    >>> noisy = sites + 0.3 * rng.standard_normal(sites.shape).astype(np.float32)
    >>> abs(correlation_length_px(noisy) - 2.0) < 0.2
    True
    """
    rows, cols = flat.shape
    w = CORRELATION_WINDOW
    win = flat[max(0, (rows - w) // 2):][:w, max(0, (cols - w) // 2):][:, :w].astype(np.float64)
    win = win - win.mean()
    spectrum = np.fft.rfft2(win)
    acf = np.fft.irfft2(spectrum.real**2 + spectrum.imag**2, s=win.shape)
    lags = min(CORRELATION_MAX_LAG, min(win.shape) // 2)
    prof = 0.5 * (acf[0, :lags] + acf[:lags, 0])
    if lags < 3:
        return float("inf")
    zero = 2.0 * prof[1] - prof[2]  # lag 0 without the white noise
    if not zero > 0:
        return float("inf")
    below = np.flatnonzero(prof[1:] / zero < 0.5)
    if below.size == 0:
        return float("inf")
    k = int(below[0]) + 1  # first lag below one half; the crossing lies between k - 1 and k
    lo = zero if k == 1 else prof[k - 1]
    return float(k - 1 + (lo - 0.5 * zero) / (lo - prof[k]))


def edge_sigma_px(smooth: np.ndarray, threshold: float, contrast: float, smoothing_sigma_px: float) -> float:
    """The width of the grain edges: the Gaussian sigma (px) of a blurred step that rises as they do.

    The image's real resolution (the microscope's probe and the scan, and whatever was done to
    the file since: a blur, a resize) sets how wide a groove between two grains can look.
    Measured where the smoothed image crosses `threshold` with a clear step around it (the
    smoothed image spans at least ``EDGE_MIN_RISE`` x `contrast` within ``EDGE_WINDOW_PX``): a
    step of height h blurred by a Gaussian of sigma s rises at most h / (sqrt(2 pi) s) per pixel,
    so each crossing gives s = h / (sqrt(2 pi) |grad|); the median over the crossings has the
    smoothing of `smooth` taken out in quadrature.

    A bright rim along the edges (edge brightening) raises the step more than the slope: such
    edges read ~40 % wider than their blur (1.2 px blur reads 1.75 px); edges sharper than
    ~1 px read ~0.9 px (the slope is taken over 2 px).  NaN when fewer than
    ``EDGE_MIN_CROSSINGS`` crossings qualify.

    Examples
    --------
    >>> img = np.full((96, 96), 0.2, np.float32); img[24:72, 24:72] = 0.8
    >>> blurred = cv2.GaussianBlur(img, (0, 0), 2.0)
    >>> smooth = cv2.GaussianBlur(blurred, (0, 0), 1.0)
    >>> abs(edge_sigma_px(smooth, 0.5, 0.6, 1.0) - 2.0) < 0.1  # blurred by 2 px, then smoothed by 1
    True
    """
    above = smooth >= threshold
    cross = np.zeros(above.shape, dtype=bool)
    cross[:, 1:] |= above[:, 1:] != above[:, :-1]
    cross[1:] |= above[1:] != above[:-1]
    w = EDGE_WINDOW_PX
    cross[:w], cross[-w:], cross[:, :w], cross[:, -w:] = False, False, False, False
    ys, xs = np.nonzero(cross)
    del above, cross
    if ys.size > EDGE_SAMPLE:  # the median needs no more: a fixed stride keeps it deterministic
        keep = np.linspace(0, ys.size - 1, EDGE_SAMPLE).astype(np.intp)
        ys, xs = ys[keep], xs[keep]
    patches = np.lib.stride_tricks.sliding_window_view(smooth, (2 * w + 1, 2 * w + 1))  # a view: no copy
    win = patches[ys - w, xs - w]  # (n, 2w+1, 2w+1): the window around each crossing
    rise = win.max(axis=(1, 2)) - win.min(axis=(1, 2))
    del win, patches
    grad = 0.5 * np.hypot(smooth[ys, xs + 1] - smooth[ys, xs - 1], smooth[ys + 1, xs] - smooth[ys - 1, xs])
    ok = (rise >= EDGE_MIN_RISE * contrast) & (grad > 0)
    if np.count_nonzero(ok) < EDGE_MIN_CROSSINGS or not contrast > 0:
        return float("nan")
    total = float(np.median(rise[ok] / (np.sqrt(2.0 * np.pi) * grad[ok])))
    return float(np.sqrt(max(total**2 - smoothing_sigma_px**2, 0.0)))


def line_scale(edge_sigma: float) -> float:
    """How much wider than its design the line filter is drawn across, for edges `edge_sigma` wide.

    The valley and bright-line filters (``VALLEY_SIGMA_ACROSS_PX``, ``VALLEY_SIDE_PX``) match a
    1-2 px groove between edges up to ``LINE_DESIGN_EDGE_SIGMA_PX`` wide; a blurrier image
    spreads the same groove over more pixels, and the filter's sides would sit inside it.  The
    edge width is the floor: the filter grows in proportion beyond it (1 when not measured).

    >>> line_scale(1.2), line_scale(3.6), line_scale(float("nan"))
    (1.0, 2.0, 1.0)
    """
    if not np.isfinite(edge_sigma) or edge_sigma <= LINE_DESIGN_EDGE_SIGMA_PX:
        return 1.0
    # two decimals: the filter's noise calibration is cached per scale (_valley_noise_response)
    return round(float(edge_sigma) / LINE_DESIGN_EDGE_SIGMA_PX, 2)


def _matrix_valley_sigma(flat: np.ndarray, smooth: np.ndarray, threshold: float, window: int = 1024,
                         scale: float = 1.0) -> float:
    """The noise that would explain the valley filter's response in the matrix (0 if too little).

    The valley filter's units assume white noise.  Scan-line jitter, JPEG block edges and
    substrate texture are not white, and on a clean image they are all there is: the matrix,
    where no grain boundary can be, shows how strong such "valleys" get.  Its 99th percentile
    (a central window of at most `window` px, 8 px inside the matrix) is matched to the same
    percentile of the filter on unit white noise.
    """
    rows, cols = flat.shape
    r0, c0 = max(0, (rows - window) // 2), max(0, (cols - window) // 2)
    win = np.s_[r0 : r0 + window, c0 : c0 + window]
    matrix = cv2.erode((smooth[win] < threshold).astype(np.uint8), np.ones((17, 17), np.uint8)).astype(bool)
    matrix[:16], matrix[-16:], matrix[:, :16], matrix[:, -16:] = False, False, False, False
    if np.count_nonzero(matrix) < MATRIX_VALLEY_MIN_PX:
        return 0.0
    resp = _oriented_valley(np.ascontiguousarray(flat[win]), scale)[matrix]
    return float(np.percentile(resp, 99.0)) / _valley_noise_response(scale)[2]


def line_offsets(flat: np.ndarray, sigma_px: float = 2.0) -> np.ndarray:
    """Each scan line's offset (line jitter, beam-current drift within a frame), float32 per row.

    The offset of a row is the median over its columns of the row minus its vertically smoothed
    self: grains and edges occupy a minority of any row, so the median sees the flat parts,
    where only the row's own offset (and white noise, averaged away) remains.  Images wider than
    2 x LINE_COLUMNS use every k-th column.
    """
    half = int(np.ceil(3 * sigma_px))
    kernel = cv2.getGaussianKernel(2 * half + 1, sigma_px).astype(np.float32)
    # every column is filtered on its own: a subsample of LINE_COLUMNS columns or more gives the
    # same medians to well under a grey level, at a quarter of the cost on an 8192-px-wide image
    flat = flat[:, :: max(1, flat.shape[1] // LINE_COLUMNS)]
    rows = flat.shape[0]
    out = np.empty(rows, dtype=np.float32)
    for b0 in range(0, rows, LINE_BAND_ROWS):  # in bands of rows: two band-sized temporaries at most
        b1 = min(rows, b0 + LINE_BAND_ROWS)
        m0, m1 = max(0, b0 - half), min(rows, b1 + half)
        vertical = cv2.sepFilter2D(flat[m0:m1], cv2.CV_32F, np.ones((1, 1), np.float32), kernel,
                                   borderType=cv2.BORDER_REFLECT)[b0 - m0 : b1 - m0]
        out[b0:b1] = np.median(flat[b0:b1] - vertical, axis=1)
    return out


def remove_line_offsets(flat: np.ndarray, sigma_px: float = 2.0) -> np.ndarray:
    """`flat` with each scan line's offset (:func:`line_offsets`) subtracted."""
    return flat - line_offsets(flat, sigma_px)[:, None]


def _phase_medians(smooth: np.ndarray, threshold: float) -> tuple[float, float]:
    """Matrix and grain levels of the whole image: medians below and above the global threshold.

    Both are the threshold itself where one side is empty (so the contrast is 0).
    """
    step = max(1, int(np.sqrt(smooth.size / 1_000_000)))
    sample = smooth[::step, ::step]
    above, below = sample[sample >= threshold], sample[sample < threshold]
    if above.size == 0 or below.size == 0:
        return float(threshold), float(threshold)
    return float(np.median(below)), float(np.median(above))


def _smoothed(flat: np.ndarray, sigma: float) -> np.ndarray:
    """The Gaussian-smoothed image (reflecting borders); `flat` itself for sigma 0."""
    if sigma > 0:
        return cv2.GaussianBlur(flat, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)
    return flat


def _masks(smooth: np.ndarray, est: _Estimates, cfg: SegmentConfig,
           flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, _HoleRule | None]:
    """The hysteresis grain mask; the same with the dim interiors of rimmed grains filled; and
    the rule that told interiors from matrix (None when holes are not filled)."""
    raw_mask = grain_mask(smooth, est.threshold, est.band)
    if not cfg.fill_holes:
        return raw_mask, raw_mask, None
    mask, rule = _fill_grain_holes(raw_mask, smooth, flat, est)
    pockets = _matrix_pockets(smooth >= est.threshold, flat, smooth, rule)
    if pockets is not None:
        raw_mask &= ~pockets
        mask &= ~pockets
    return raw_mask, mask, rule


def _matrix_pockets(above: np.ndarray, flat: np.ndarray, smooth: np.ndarray, rule: _HoleRule) -> np.ndarray | None:
    """Matrix enclosed by grains, as the plain threshold (`above`) sees it: the enclosed regions
    below it that reach down to the matrix level (:meth:`_HoleRule.classify`) and that `rule` does
    not take for grain interiors (None if there are none).

    The hysteresis band of :func:`grain_mask` grows grains into their weak neighbours; a pocket
    of matrix a few pixels across, lifted towards the metal around it by the smoothing, is all
    weak neighbours and disappears whole (a site-percolation film at p_c, 3-px sites, contrast-
    to-noise 10: coverage 0.593 read as 0.667).  Such pockets are given back to the matrix; the
    edges the hysteresis found elsewhere stay, and :func:`refine_edges` then moves every edge,
    a pocket's included, to its half-maximum.  A pocket must reach down to the matrix level
    somewhere, so a dip of noise inside a grain is not one (on the low-dose bench film such
    dips, taken for pockets, holed grains and the neck split cut them: F1 0.990 -> 0.960)."""
    below, n = ndi.label(~above)
    if n < 2:
        return None
    edge_ids = np.unique(np.concatenate([below[0], below[-1], below[:, 0], below[:, -1]]))
    enclosed = np.ones(n + 1, dtype=bool)
    enclosed[edge_ids] = False
    area = np.bincount(below.ravel(), minlength=n + 1)
    enclosed[int(np.argmax(area[1:])) + 1] = False  # the matrix itself
    enclosed[0] = False
    if not enclosed.any():
        return None
    fill, deep = rule.classify(np.where(enclosed[below], below, 0), n, flat, smooth, enclosed)
    keep = enclosed & deep & ~fill
    return keep[below] if keep.any() else None


def _require_matrix(grain: np.ndarray) -> None:
    """SegmentationError if every pixel is grain (no matrix: wrong contrast, or not a granular film)."""
    if grain.all():
        msg = "the whole image is above the grain threshold (all grain, no matrix); check --dark-grains or the image"
        raise SegmentationError(msg)


def _require_structure(flat: np.ndarray, noise: float) -> None:
    """SegmentationError if `flat` varies no more than its pixel noise (``MIN_STRUCTURE_NOISE``).

    An image of pure noise (an all-grain or all-matrix field, a blank frame) would otherwise be
    cut into noise blobs by the threshold.  The spread is summed in bands of rows (no full-size
    temporary); a noiseless image (noise 0) passes.
    """
    if not noise > 0:
        return
    band = max(1, RELABEL_BAND_PX // max(flat.shape[1], 1))
    total = squares = 0.0
    for r0 in range(0, flat.shape[0], band):
        part = flat[r0:r0 + band].astype(np.float64)
        total += float(part.sum())
        squares += float(np.square(part).sum())
    mean = total / flat.size
    spread = float(np.sqrt(max(squares / flat.size - mean * mean, 0.0)))
    if spread < MIN_STRUCTURE_NOISE * noise:
        msg = (f"no structure above the noise: the image varies {spread / noise:.3g} times its pixel noise "
               f"(at least {MIN_STRUCTURE_NOISE:g} needed), as an all-grain or all-matrix field would; check "
               "that the image is a focused micrograph of islands in a matrix")
        raise SegmentationError(msg)


def _threshold_labels(flat: np.ndarray, smooth: np.ndarray, est: _Estimates, cfg: SegmentConfig, *,
                      check: bool = False, row0: int = 0) -> tuple[np.ndarray, int, int, int]:
    """The local steps of the threshold method on one region (the image, or a tile with its
    overlap, starting at row `row0`): hysteresis mask, hole filling, splitting, edge refinement,
    size cut, level split.  The level split compares levels with each scan line's offset taken
    out (a band of rows of another offset is line jitter, not another grain).
    Returns labels (ids not in raster order), components, grains after splitting, objects dropped."""
    raw_mask, mask, hole_rule = _masks(smooth, est, cfg, flat)
    if check:
        _require_matrix(mask)
    valley_z = None
    if cfg.split_touching and cfg.valley_threshold is not None:
        valley_z, ridge_z = line_strengths(flat, smooth, noise_by_level=est.valley_levels, scale=est.line_scale)
        labels, n_comp, n_grains = _split_touching_valleys(
            mask, valley_z, smooth, threshold=cfg.valley_threshold, split_ratio=cfg.split_ratio,
            offset_px=cfg.split_offset_px, ridge_z=ridge_z, ridge_mask=raw_mask, flat=flat,
            row_offsets=est.row_offsets[row0 : row0 + flat.shape[0]],
        )
        del ridge_z
    elif cfg.split_touching:
        labels, n_comp, n_grains = _split_touching(mask, split_ratio=cfg.split_ratio, offset_px=cfg.split_offset_px)
    else:
        labels, n_comp = ndi.label(mask, structure=np.ones((3, 3), dtype=bool))
        labels = labels.astype(np.int32)
        n_grains = n_comp
    del mask, raw_mask
    n_removed = 0
    if cfg.refine_edges:
        # Objects under the size cut are dropped before refinement too, so that a speck of
        # matrix texture cannot grow past the cut by getting its own, lower, threshold.
        labels, n_removed = _drop_small(labels, est.min_area_px)
        labels = refine_edges(labels, smooth)
        if hole_rule is not None:
            labels = _fill_label_holes(labels, flat, smooth, hole_rule)
    labels, n_late = _drop_small(labels, est.min_area_px)
    n_removed += n_late
    if cfg.split_touching and cfg.split_by_level:
        if valley_z is None:
            valley_z = valley_strength(flat, smooth, noise_by_level=est.valley_levels, scale=est.line_scale)
        labels, n_level = _split_by_level(labels, flat, smooth, est.noise_levels, valley_z,
                                          row_offsets=est.row_offsets[row0 : row0 + flat.shape[0]],
                                          min_step=LEVEL_STEP_CONTRAST * est.contrast)
        n_grains += n_level
    return labels, n_comp, n_grains, n_removed


def _tiles(rows: int, cols: int, tile: int, overlap: int):
    """Core (r0, r1, c0, c1) and extended (R0, R1, C0, C1) boxes of a tiling of the image."""
    n_r, n_c = -(-rows // tile), -(-cols // tile)
    edges_r = np.linspace(0, rows, n_r + 1).round().astype(int)
    edges_c = np.linspace(0, cols, n_c + 1).round().astype(int)
    for i in range(n_r):
        for j in range(n_c):
            r0, r1, c0, c1 = edges_r[i], edges_r[i + 1], edges_c[j], edges_c[j + 1]
            yield (r0, r1, c0, c1), (max(0, r0 - overlap), min(rows, r1 + overlap),
                                     max(0, c0 - overlap), min(cols, c1 + overlap))


def _tile_labels(est: _Estimates, cfg: SegmentConfig,
                 ext: tuple[int, int, int, int]) -> tuple[np.ndarray, int, int, int]:
    """:func:`_threshold_labels` on the tile `ext` = (R0, R1, C0, C1), smoothed here."""
    rows, cols = est.flat.shape
    rr0, rr1, cc0, cc1 = ext
    if est.smooth is not None:
        smooth = est.smooth[rr0:rr1, cc0:cc1]
    else:  # smooth the tile with a margin beyond the kernel: the whole image's values (to 1 ulp)
        m = int(np.ceil(4.0 * est.sigma)) + 2
        sr0, sr1, sc0, sc1 = max(0, rr0 - m), min(rows, rr1 + m), max(0, cc0 - m), min(cols, cc1 + m)
        smooth = _smoothed(est.flat[sr0:sr1, sc0:sc1], est.sigma)[rr0 - sr0:rr1 - sr0, cc0 - sc0:cc1 - sc0]
    return _threshold_labels(est.flat[rr0:rr1, cc0:cc1], smooth, est, cfg, row0=rr0)


def _tile_results(est: _Estimates, cfg: SegmentConfig, threads: int):
    """(core box, extended box, tile result) for each tile in order, `threads` tiles at a time.

    At most `threads` tiles are being segmented at once, so the memory of the tiles' working
    arrays grows with `threads`, not with the number of tiles.  The order of the results (and
    so the stitched labels) does not depend on `threads`.
    """
    rows, cols = est.flat.shape
    boxes = iter(_tiles(rows, cols, cfg.tile_px, cfg.tile_overlap_px))
    if threads <= 1:
        for core, ext in boxes:
            yield core, ext, _tile_labels(est, cfg, ext)
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="morpho-tile") as pool:
        pending = deque((core, ext, pool.submit(_tile_labels, est, cfg, ext))
                        for core, ext in itertools.islice(boxes, threads))
        while pending:
            core, ext, future = pending.popleft()
            result = future.result()
            for nxt_core, nxt_ext in itertools.islice(boxes, 1):
                pending.append((nxt_core, nxt_ext, pool.submit(_tile_labels, est, cfg, nxt_ext)))
            yield core, ext, result


def _segment_tiles(est: _Estimates, cfg: SegmentConfig, threads: int = 1) -> tuple[np.ndarray, int, int, int]:
    """The local steps tile by tile, each tile with `cfg.tile_overlap_px` of overlap, stitched.

    A grain belongs to the tile whose core holds the pixel of its centroid (so each grain is
    taken from exactly one tile, where it lies whole if it is smaller than the overlap) and is
    copied with all its pixels, also those in the overlap.  Two tiles can disagree near a seam
    only about a grain that extends past the overlap; then the first tile's pixels stay and a
    later grain that is mostly (> 1/2) made of them is a duplicate and dropped, a smaller clash
    leaves it its own pixels.  Edge refinement takes the matrix level of each tile (its own
    median), the rest of the global estimates are the whole image's.  Counts of split and
    dropped objects are summed over tiles (an object in an overlap counts in each tile that
    sees it).  `threads` tiles are segmented at once (threads: the heavy steps, in OpenCV,
    NumPy and scikit-image, release the GIL, and the tiles share the whole-image arrays);
    they are stitched in tile order whatever `threads` is.  Returns labels (not in raster
    order), components, grains, objects dropped.
    """
    from .measure import centroids_px

    rows, cols = est.flat.shape
    out = np.zeros((rows, cols), dtype=np.int32)
    next_id = 1
    n_comp = n_grains = n_removed = 0
    n_tiles = n_cut = 0
    for (r0, r1, c0, c1), (rr0, rr1, cc0, cc1), (lab, nc, ng, nr) in _tile_results(est, cfg, threads):
        n_tiles += 1
        n_comp, n_grains, n_removed = n_comp + nc, n_grains + ng, n_removed + nr
        n = int(lab.max())
        if n == 0:
            continue
        area, row_c, col_c = centroids_px(lab, n)
        row_px = np.floor(row_c + 0.5) + rr0
        col_px = np.floor(col_c + 0.5) + cc0
        owned = np.zeros(n + 1, dtype=bool)
        owned[1:] = (area > 0) & (row_px >= r0) & (row_px < r1) & (col_px >= c0) & (col_px < c1)
        # owned grains cut by the outer edge of the overlap (not the image's edge) are too big
        sides = [lab[0] if rr0 > 0 else None, lab[-1] if rr1 < rows else None,
                 lab[:, 0] if cc0 > 0 else None, lab[:, -1] if cc1 < cols else None]
        cut = np.unique(np.concatenate([v for v in sides if v is not None] or [np.zeros(0, lab.dtype)]))
        n_cut += int(owned[cut[cut > 0]].sum())
        sel = owned[lab]
        target = out[rr0:rr1, cc0:cc1]
        clash = sel & (target != 0)
        if clash.any():
            overlap = np.bincount(lab[clash], minlength=n + 1)
            owned[1:] &= overlap[1:] * 2 <= np.maximum(area, 1)
            sel = owned[lab] & (target == 0)
        new_id = np.zeros(n + 1, dtype=np.int32)
        new_id[owned] = np.arange(next_id, next_id + int(owned.sum()), dtype=np.int32)
        next_id += int(owned.sum())
        target[sel] = new_id[lab[sel]]
    est.n_tiles = n_tiles
    if n_cut:
        warnings.warn(
            f"{n_cut} grain(s) reach the outer edge of their tile's overlap (wider than about 2 x "
            f"segment.tile_overlap_px = {2 * cfg.tile_overlap_px} px) and may be cut at a tile seam; raise "
            "segment.tile_overlap_px or set segment.tile_px = 0", stacklevel=3)
    out, n_late = _drop_small(out, est.min_area_px)
    return out, n_comp, n_grains, n_removed + n_late

def hysteresis_band(noise: float, sigma_px: float) -> float:
    """Half-width of the hysteresis band: 2 standard deviations of the noise after smoothing.

    A Gaussian of `sigma_px` divides white noise by ``2 sqrt(pi) sigma``.  A grain whose level is
    close to the threshold stays whole (its pixels need only exceed the low level if connected to
    one above the high level) instead of shattering into specks, and a speck of matrix noise
    needs a pixel above the high level to count.
    """
    return 2.0 * noise / (2.0 * np.sqrt(np.pi) * max(sigma_px, 0.5))


def grain_mask(smooth: np.ndarray, threshold: float, band: float) -> np.ndarray:
    """Grain pixels of a smoothed image: hysteresis ``threshold -+ band`` (holes are left open)."""
    return filters.apply_hysteresis_threshold(smooth, threshold - band, threshold + band)


def _phase_levels(labels: np.ndarray, smooth: np.ndarray, reach_px: int = 3) -> tuple[float, float]:
    """Median matrix level away from grains and median of the grains' core levels."""
    if labels.max() == 0:
        return float("nan"), float("nan")
    grain = (labels > 0).astype(np.uint8)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach_px + 1, 2 * reach_px + 1))
    far = cv2.dilate(grain, disk) == 0
    matrix = float(np.median(smooth[far], overwrite_input=True)) if far.any() else float("nan")
    del far
    # Core pixels: >= 3 px (exact Euclidean) from every matrix pixel and from the frame, i.e.
    # every pixel closer than 3 px (offsets with i^2 + j^2 < 9: the 5 x 5 square) is grain.
    # An erosion gives it with a uint8 image instead of a float32 distance map.
    core_all = cv2.erode(grain, np.ones((5, 5), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    del grain
    # The grains' own brightness: the mean of each core (>= 3 px inside, beyond the reach of the
    # blur) over grains that have one; small grains' peaks are lowered by the blur and would
    # understate the contrast.  Only when no grain has a core do the peaks stand in.  (Summed
    # in bands of rows: the core pixels' copies stay small on large images.)
    n = int(labels.max())
    count = np.zeros(n + 1, dtype=np.int64)
    total = np.zeros(n + 1)
    band = max(1, RELABEL_BAND_PX // max(labels.shape[1], 1))
    for r0 in range(0, labels.shape[0], band):
        core = core_all[r0:r0 + band].view(bool)
        ids = labels[r0:r0 + band][core]
        count += np.bincount(ids, minlength=n + 1)[: n + 1]
        total += np.bincount(ids, weights=smooth[r0:r0 + band][core], minlength=n + 1)[: n + 1]
    del core_all
    count, total = count[1:], total[1:]
    if count.any():
        level = total[count > 0] / count[count > 0]
    else:
        grain = labels > 0
        level = label_max(smooth[grain], labels[grain], n)[1:]
    return matrix, float(np.median(level))


def _drop_small(labels: np.ndarray, min_area_px: int) -> tuple[np.ndarray, int]:
    """Set grains smaller than `min_area_px` to 0 (in place); return the labels and how many were dropped.

    Counted and cleared in bands of rows: on a 16384^2 image a whole-image ``bincount`` would
    first copy the labels to int64 (2 GB).
    """
    n = int(labels.max()) if labels.size else 0
    areas = np.zeros(n + 1, dtype=np.int64)
    band = max(1, RELABEL_BAND_PX // max(labels.shape[1], 1))
    for r0 in range(0, labels.shape[0], band):
        areas += np.bincount(labels[r0:r0 + band].ravel(), minlength=n + 1)
    small = (areas < min_area_px) & (areas > 0)
    small[0] = False
    n_small = int(small.sum())
    if n_small:
        for r0 in range(0, labels.shape[0], band):
            rows = labels[r0:r0 + band]
            rows[small[rows]] = 0
    return labels, n_small


@dataclass(frozen=True)
class _HoleRule:
    """Which background regions are grain interiors (:func:`_fill_grain_holes`): a region is
    filled when its median exceeds the matrix level by ``max(floor, HOLE_Z x noise x 1.2533 /
    sqrt(area))`` both in the unsmoothed image (`matrix_level`) and in the smoothed one
    (`matrix_level_smooth`), or when it is enclosed, smaller than `min_area` px and nowhere
    down at the matrix level (:meth:`classify`)."""

    matrix_level: float
    matrix_level_smooth: float
    floor: float
    noise: float
    min_area: int

    def fill(self, region_ids: np.ndarray, n: int, flat: np.ndarray, smooth: np.ndarray,
             enclosed: np.ndarray) -> np.ndarray:
        """Bool per region id 0..n (0 never): fill it."""
        return self.classify(region_ids, n, flat, smooth, enclosed)[0]

    def classify(self, region_ids: np.ndarray, n: int, flat: np.ndarray, smooth: np.ndarray,
                 enclosed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bool per region id 0..n: fill it; and deep, it reaches down to the matrix somewhere
        (its lowest smoothed level is within `floor` of the matrix's): matrix seen, however
        small.  A dip of noise inside a grain does not reach that far; a pocket of matrix does."""
        area = np.bincount(region_ids.ravel(), minlength=n + 1)[: n + 1]
        deep = np.zeros(n + 1, dtype=bool)
        if n:
            lowest = np.asarray(ndi.minimum(smooth, region_ids, np.arange(1, n + 1)))
            deep[1:] = lowest < self.matrix_level_smooth + self.floor
        above = np.minimum(_region_medians(region_ids, n, flat, area) - self.matrix_level,
                           _region_medians(region_ids, n, smooth, area) - self.matrix_level_smooth)
        margin = np.maximum(self.floor, HOLE_Z * self.noise * _MEDIAN_EFFICIENCY / np.sqrt(np.maximum(area, 1)))
        fill = (above > margin) | (enclosed & (area < self.min_area) & ~deep)
        fill[0] = False
        return fill, deep


def _region_medians(region_ids: np.ndarray, n: int, values: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Median of `values` over each region 1..n of `region_ids` (-inf for empty ids and id 0)."""
    median = np.full(n + 1, -np.inf)
    sel = region_ids > 0
    if not sel.any():
        return median
    ids, vals = region_ids[sel], values[sel]
    order = np.lexsort((vals, ids))  # pixels sorted by (region, level) once
    ids, vals = ids[order], vals[order]
    starts = np.searchsorted(ids, np.arange(n + 1))
    has = area[: n + 1] > 0
    has[0] = False
    median[has] = vals[starts[has] + (area[has] - 1) // 2]
    return median


def _fill_grain_holes(mask: np.ndarray, smooth: np.ndarray, flat: np.ndarray,
                      est: _Estimates) -> tuple[np.ndarray, _HoleRule]:
    """Fill the parts of the background of `mask` that are grain interiors, not matrix.

    Edge-brightened grains (bright rims, dim interiors) and shaded grains leave the threshold
    only their rims; a region of background ringed by grain pixels is then either the dim
    interior of one grain or matrix enclosed by grains: a pocket of a film near its
    percolation threshold, a channel between touching grains.  The interior is brighter than
    the matrix; the pocket is at the matrix level.  So every connected background region
    (enclosed or open to the image edge, where a grain cut by the frame has an open rim) is
    filled when its median level exceeds the matrix level, in the unsmoothed image and in the
    smoothed one alike, by
    ``max(HOLE_Z noise sigmas of a median of its pixels, min(1.5 x the matrix's own spread of
    levels, HOLE_MARGIN_SPREAD_CAP x (threshold - matrix)), HOLE_MARGIN_CONTRAST x (threshold -
    matrix))``, or when it is enclosed, smaller than the size cut (a hole no larger than the
    smallest grain morpho keeps is not measured as matrix either) and nowhere down at the
    matrix level (:meth:`_HoleRule.classify`: a pocket of one 3-px site, cut in two by the noise,
    is still matrix).

    Unsmoothed too, because the smoothing lifts a small pocket towards the metal around it: on a
    site-percolation film at p_c (3-px sites, contrast-to-noise 10) the median of a 9-20 px
    pocket reads 0.41 of (threshold - matrix) above the matrix in the smoothed image and -0.02
    in the unsmoothed one, and filling them raised the coverage from 0.593 to 0.79 (issue 19);
    the dim interiors of edge-brightened grains read 0.2-0.9 either way.  The noise term is the
    median's own scatter (HOLE_Z = 3 standard errors: a 9-px pocket at contrast-to-noise 3 is
    not filled by its noise).  The spread (robust sigma of the smoothed matrix: its texture and
    line jitter as well as its noise) is what keeps the test right on a noiseless image, where
    the noise is ~0 and a fifth of the contrast left the dim interiors of edge-bright grains
    open; the cap keeps a closed film's mixed "matrix" from raising it.  The largest background
    region is the matrix itself: it is never filled, and its median is the matrix level.
    Returns the mask and the rule (:class:`_HoleRule`), which :func:`_fill_label_holes` applies
    again after the edges are refined.
    """
    background = ~mask
    if not background.any():
        return mask, _HoleRule(float("inf"), float("inf"), 0.0, 0.0, 0)
    bg_ids, n_bg = ndi.label(background)
    area = np.bincount(bg_ids.ravel(), minlength=n_bg + 1)
    matrix_id = int(np.argmax(area[1:])) + 1
    is_matrix = bg_ids == matrix_id
    step = max(1, int(area[matrix_id] // 1_000_000))
    matrix_smooth = smooth[is_matrix][::step]
    matrix_level = float(np.median(flat[is_matrix][::step]))
    # the matrix's own spread of levels (texture, shading left by the flattening, line jitter)
    # bounds what a pocket of matrix can reach; on a noiseless image it, not the noise, decides
    spread = float(np.subtract(*np.percentile(matrix_smooth, [90.0, 10.0]))) / _P90_P10_TO_SIGMA
    matrix_level_smooth = float(np.median(matrix_smooth))
    depth = est.threshold - matrix_level_smooth
    levels, sigmas = est.measured_levels
    rule = _HoleRule(
        matrix_level=matrix_level,
        matrix_level_smooth=matrix_level_smooth,
        floor=max(min(1.5 * spread, HOLE_MARGIN_SPREAD_CAP * depth), HOLE_MARGIN_CONTRAST * depth),
        noise=float(np.interp(matrix_level, levels, sigmas)),
        min_area=int(est.min_area_px),
    )
    edge_ids = np.unique(np.concatenate([bg_ids[0], bg_ids[-1], bg_ids[:, 0], bg_ids[:, -1]]))
    enclosed = np.ones(n_bg + 1, dtype=bool)
    enclosed[edge_ids] = False
    fill = rule.fill(np.where(is_matrix, 0, bg_ids), n_bg, flat, smooth, enclosed)
    fill[matrix_id] = False
    return mask | fill[bg_ids], rule


def _pockets(labels: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """Pixels of `holes` whose connected hole touches two or more different grains.

    A hole that only one grain borders is that grain's interior (a darker centre, an
    edge-brightened grain); a hole that several grains border is matrix enclosed between them.
    """
    hole_ids, n_holes = ndi.label(holes)
    if n_holes == 0:
        return np.zeros(labels.shape, dtype=bool)
    pairs = []
    for axis in (0, 1):
        for step in (1, -1):
            # (hole, grain) for every labelled pixel whose 4-neighbour is in that hole (holes never
            # touch the frame, so the wrap-around of np.roll pairs nothing)
            from_hole = np.roll(hole_ids, step, axis=axis)
            sel = (from_hole > 0) & (hole_ids == 0) & (labels > 0)
            pairs.append(np.stack([from_hole[sel], labels[sel]], axis=1))
    pairs = np.unique(np.concatenate(pairs), axis=0)
    n_bordering = np.bincount(pairs[:, 0], minlength=n_holes + 1)
    return (n_bordering >= 2)[hole_ids] & holes


def _fill_label_holes(labels: np.ndarray, flat: np.ndarray, smooth: np.ndarray, rule: _HoleRule) -> np.ndarray:
    """Give every hole inside one grain that `rule` takes for the grain's interior (not for
    matrix enclosed by the grain: :class:`_HoleRule`) the grain's label."""
    filled = ndi.binary_fill_holes(labels > 0)
    holes = filled & (labels == 0)
    if not holes.any():
        return labels
    holes &= ~_pockets(labels, holes)
    if not holes.any():
        return labels
    hole_ids, n_holes = ndi.label(holes)
    holes &= rule.fill(hole_ids, n_holes, flat, smooth, np.ones(n_holes + 1, dtype=bool))[hole_ids]
    if not holes.any():
        return labels
    _, (ri, ci) = ndi.distance_transform_edt(labels == 0, return_indices=True)
    return np.where(holes, labels[ri, ci], labels).astype(np.int32)


def _threshold(image: np.ndarray, method: str) -> float:
    funcs = {"otsu": filters.threshold_otsu, "li": filters.threshold_li, "triangle": filters.threshold_triangle}
    # A subsample is enough for a histogram threshold and keeps large images fast.
    step = max(1, int(np.sqrt(image.size / 4_000_000)))
    # float64: the thresholds' internal arithmetic then does not depend on NumPy's scalar
    # promotion rules (NEP 50), which differ for float32 between NumPy 1 and 2.
    sample = image[::step, ::step].astype(np.float64)
    threshold = float(funcs[method](sample))
    if method == "otsu":
        threshold = _otsu_off_a_phase(sample, threshold)
    return threshold


def _otsu_off_a_phase(sample: np.ndarray, threshold: float) -> float:
    """Otsu's threshold, or the lower threshold of three classes where Otsu's cuts through a phase.

    Otsu's two classes are balanced by their variance; on a dense film whose matrix is a few
    per cent of the field and whose grains come in several brightness levels, the best two-class
    split can fall between two populations of *grains*, on a grey level thousands of pixels have
    (measured: a noiseless dense film, matrix 5 % of the field, Otsu at 0.64 of the grey range
    where the histogram is 27x denser than at the three-class threshold 0.40; F1 0.52 against
    0.94-0.98 with a threshold at 0.39-0.45).  A threshold belongs where few pixels are (the
    blurred edges between phases), so when the histogram at Otsu's threshold is
    ``OTSU_PHASE_RATIO`` times denser than at the lower threshold of three-class Otsu, the latter
    is taken.  Measured on seven presets (seeds 11, 12; noisy, noiseless, 2x down), the shaded
    particles and the real BAM images raw and median-filtered: the ratio is at most 5.7 on all
    but six.  Where Otsu cut a grain population it was 25-27 (the dense film of seed 12
    noiseless and 2x down: F1 0.52 -> 0.99 and 0.76 -> 0.95) and 125 (spheres covering 75 % of
    a noiseless field: 0.463, inside the spheres' levels, -> 0.197, between substrate and
    spheres); 8.6-17 elsewhere, where the lower threshold was no better (narrow-gaps seed 12
    noiseless, spheres 2x and 4x down: 4x lost a grain with it), and 4.8-5.7 on droplets, where
    the lower threshold took in the substrate's texture (F1 1.000 -> 0.880 when blurred).  So
    the ratio must be 20.
    """
    lo, hi = float(sample.min()), float(sample.max())
    if not hi > lo:
        return threshold
    hist, _ = np.histogram(sample, bins=OTSU_BINS, range=(lo, hi))
    hist = ndi.gaussian_filter1d(hist.astype(np.float64), OTSU_SMOOTH_BINS, mode="constant")
    try:
        lower = float(filters.threshold_multiotsu(sample, classes=3, nbins=OTSU_BINS)[0])
    except ValueError:  # fewer than three grey levels
        return threshold

    def density(t: float) -> float:
        return float(hist[min(OTSU_BINS - 1, int((t - lo) / (hi - lo) * OTSU_BINS))])

    if lower < threshold and density(threshold) > OTSU_PHASE_RATIO * max(density(lower), 1.0):
        return lower
    return threshold
