"""Detection limit: the smallest grain radius that morpho finds reliably in *this* image.

A grain of a few pixels is found only if its contrast survives the smoothing and the noise.
How small that is depends on the image: its noise (dose), the contrast between grains and
matrix, and the smoothing and threshold the segmentation chose.  Rather than quote one figure
for all images, :func:`detection_limit` measures it for each analysed image by simulation:
disks of radius 1-16 px at random sub-pixel positions are rendered at the image's own matrix
and grain levels, blurred by a point-spread function of ``PSF_SIGMA_PX`` or, when the image's
grain edges are wider than that explains, as much as they are (:func:`simulated_psf_px`), given
the image's own level-dependent noise, and run through the same detection steps with the same parameters
(smoothing sigma, threshold and hysteresis band, minimum area, half-maximum edge refinement).
A radius is detected reliably when at least ``RELIABLE_RECALL`` of its disks are found with
IoU >= 0.5 (the benchmark's matching rule); the limit is the smallest radius from which every
larger one is reliable too.

Assumptions, stated where the figure is reported: grains as bright as the median grain of the
image (dimmer small grains are harder), white noise, a Gaussian PSF of 1 px or of the measured
edge width when that is wider than 1.8 px (:func:`psf_basis` says which).  ``bench/accuracy.py``
checks the figure against the recall of small grains measured on synthetic images with truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage as ndi

from .evaluate import match_labels
from .segment import LINE_DESIGN_EDGE_SIGMA_PX, SegmentationResult, _drop_small, grain_mask, refine_edges

__all__ = ["RADII_PX", "DetectionLimit", "detection_limit", "psf_basis", "simulated_psf_px"]

#: Radii tried, in pixels.
RADII_PX: tuple[float, ...] = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 11.0, 16.0)
#: Disks per radius.
N_DISKS = 40
#: Fraction of disks that must be found for a radius to count as reliably detected.
RELIABLE_RECALL = 0.9
#: Gaussian point-spread function assumed for the microscope (px) unless the image's edges are
#: measured wider (:func:`simulated_psf_px`).
PSF_SIGMA_PX = 1.0
_SUPERSAMPLE = 4


@dataclass(frozen=True)
class DetectionLimit:
    """Result of :func:`detection_limit`.

    Attributes
    ----------
    radius_px : float or None
        Smallest reliably detected radius (px); None when even 16 px is not (or the image has no
        grain or matrix level to simulate).
    recall_by_radius : dict[float, float]
        Fraction of simulated disks found at each radius (px).
    contrast_to_noise : float
        (grain level - matrix level) / matrix noise sigma of the image, before smoothing.
    psf_sigma_px : float
        The Gaussian blur the simulated disks were given (px).
    """

    radius_px: float | None
    recall_by_radius: dict[float, float]
    contrast_to_noise: float
    psf_sigma_px: float = PSF_SIGMA_PX


def _render_disks(
    radius: float, matrix: float, grain: float, rng: np.random.Generator, psf_sigma_px: float = PSF_SIGMA_PX
) -> tuple[np.ndarray, np.ndarray]:
    """A field of N_DISKS disks of `radius` on a grid, noiseless, blurred by the PSF; and their truth."""
    cell = int(2 * np.ceil(radius) + 14)
    n_side = int(np.ceil(np.sqrt(N_DISKS)))
    size = cell * n_side
    ss = _SUPERSAMPLE
    yy, xx = np.mgrid[0 : size * ss, 0 : size * ss].astype(np.float32)
    yy = (yy + 0.5) / ss - 0.5
    xx = (xx + 0.5) / ss - 0.5
    fine = np.zeros((size * ss, size * ss), dtype=np.float32)
    truth = np.zeros((size, size), dtype=np.int32)
    py, px = np.mgrid[0:size, 0:size].astype(np.float32)
    offsets = rng.uniform(-0.5, 0.5, size=(N_DISKS, 2))
    for k in range(N_DISKS):
        # float32 like the grids: float32 - float64 scalar is float32 on NumPy 1, float64 on 2 (NEP 50)
        cy = np.float32((k // n_side + 0.5) * cell + offsets[k, 0])
        cx = np.float32((k % n_side + 0.5) * cell + offsets[k, 1])
        rows = slice(int((cy - radius - 2) * ss), int((cy + radius + 3) * ss))
        cols = slice(int((cx - radius - 2) * ss), int((cx + radius + 3) * ss))
        sl = (rows, cols)
        fine[sl][(yy[sl] - cy) ** 2 + (xx[sl] - cx) ** 2 <= radius**2] = 1.0
        tsl = np.s_[int(cy - radius - 2) : int(cy + radius + 3), int(cx - radius - 2) : int(cx + radius + 3)]
        truth[tsl][((py[tsl] - cy) ** 2 + (px[tsl] - cx) ** 2 <= radius**2) & (truth[tsl] == 0)] = k + 1
    cover = cv2.resize(fine, (size, size), interpolation=cv2.INTER_AREA)
    image = matrix + (grain - matrix) * cover
    image = cv2.GaussianBlur(image, (0, 0), psf_sigma_px, borderType=cv2.BORDER_REFLECT)
    return image.astype(np.float32), truth


def simulated_psf_px(edge_sigma_px: float) -> float:
    """The blur (px) the simulated disks get, for an image whose grain edges are `edge_sigma_px` wide.

    ``PSF_SIGMA_PX`` unless the edges are wider than ``segment.LINE_DESIGN_EDGE_SIGMA_PX``, then
    their width.  Below that the measured width is mostly the grains' own edge profile, not the
    blur: on the synthetic presets, blurred by 0.9-1.2 px, it reads 1.2-1.8 px (a bright rim
    reads as width), and the 1-px assumption was checked there against direct measurement of
    the small grains' recall.  A wider edge is a blurrier image, and that blur is simulated.

    >>> simulated_psf_px(1.3), simulated_psf_px(2.5), simulated_psf_px(float("nan"))
    (1.0, 2.5, 1.0)
    """
    if np.isfinite(edge_sigma_px) and edge_sigma_px > LINE_DESIGN_EDGE_SIGMA_PX:
        return float(edge_sigma_px)
    return PSF_SIGMA_PX


def psf_basis(edge_sigma_px: float) -> str:
    """Where :func:`simulated_psf_px` took its blur from, in words (for the summary's basis).

    >>> psf_basis(2.5)
    'the measured edge width'
    >>> psf_basis(1.3)
    'assumed: the grain edges, 1.30 px, are not wider than 1.8 px'
    """
    if not np.isfinite(edge_sigma_px):
        return "assumed: too few clear grain edges to measure their width"
    if simulated_psf_px(edge_sigma_px) == edge_sigma_px:
        return "the measured edge width"
    return f"assumed: the grain edges, {edge_sigma_px:.2f} px, are not wider than {LINE_DESIGN_EDGE_SIGMA_PX:g} px"


def detection_limit(seg: SegmentationResult, *, seed: int = 0) -> DetectionLimit:
    """Smallest grain radius found reliably at the noise, contrast and settings of `seg`.

    Parameters
    ----------
    seg : SegmentationResult
        The segmentation of the image (its levels, noise, smoothing, threshold and band).
    seed : int
        Seed of the simulated disks and noise: the figure is reproducible.

    Returns
    -------
    DetectionLimit

    Examples
    --------
    >>> from morpho.segment import segment
    >>> rng = np.random.default_rng(0)
    >>> img = np.full((128, 128), 0.2, np.float32); img[30:90, 30:90] = 0.7
    >>> img += rng.normal(0, 0.03, img.shape).astype(np.float32)
    >>> lim = detection_limit(segment(img, pixel_size_m=2e-9))
    >>> 1.0 <= lim.radius_px <= 3.0
    True
    """
    matrix, grain = seg.matrix_level, seg.grain_level
    n_m, n_g = seg.noise_matrix, seg.noise_grain
    psf = simulated_psf_px(seg.edge_sigma_px)
    if not all(np.isfinite(v) for v in (matrix, grain, n_m, n_g)) or not grain > matrix:
        return DetectionLimit(None, {}, float("nan"), psf)
    rng = np.random.default_rng(seed)
    recall: dict[float, float] = {}
    for radius in RADII_PX:
        clean, truth = _render_disks(radius, matrix, grain, rng, psf)
        frac = (clean - matrix) / (grain - matrix)
        noisy = clean + (n_m + (n_g - n_m) * frac) * rng.standard_normal(clean.shape).astype(np.float32)
        sigma = seg.smoothing_sigma_px
        smooth = cv2.GaussianBlur(noisy, (0, 0), sigma, borderType=cv2.BORDER_REFLECT) if sigma > 0 else noisy
        # isolated disks: any hole is noise inside a disk, so a plain fill is the segment rule here
        mask = ndi.binary_fill_holes(grain_mask(smooth, seg.threshold, seg.band))
        labels, _ = ndi.label(mask, structure=np.ones((3, 3), dtype=bool))
        labels, _ = _drop_small(labels.astype(np.int32), seg.min_area_px)
        labels = refine_edges(labels, smooth)
        labels, _ = _drop_small(labels, seg.min_area_px)
        m = match_labels(truth, labels)
        recall[radius] = float(m.recall)
    reliable = [r for r in RADII_PX if all(recall[q] >= RELIABLE_RECALL for q in RADII_PX if q >= r)]
    return DetectionLimit(
        radius_px=min(reliable) if reliable else None,
        recall_by_radius=recall,
        contrast_to_noise=float((grain - matrix) / n_m),
        psf_sigma_px=psf,
    )
