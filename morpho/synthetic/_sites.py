"""Site-percolation micrographs: a film at (or near) its continuity threshold, with exact truth."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from scipy import ndimage as ndi

from ..errors import InputError
from ..segment import relabel_raster_order
from ._render import _to_digital
from ._sample import SyntheticSample, _empty_junctions, _seed_record, _truth_table, _validate_shape

#: The square-lattice site-percolation threshold (4-connected sites; Newman & Ziff 2000).
SITE_PC = 0.592746
_MATRIX_LEVEL = 50.0 / 255.0
_GRAIN_LEVEL = 200.0 / 255.0


def make_site_percolation(
    shape: Sequence[int] = (1024, 1024),
    *,
    p: float = SITE_PC,
    site_px: int = 3,
    contrast_to_noise: float | None = 37.5,
    blur_sigma_px: float = 0.0,
    pixel_size_m: float = 5e-9,
    bit_depth: int = 8,
    rng: np.random.Generator | int | None = None,
) -> SyntheticSample:
    """A site-percolation film: square sites of `site_px` px, each metal with probability `p`.

    The metal is one grey level (200 of 255) and the matrix another (50 of 255), as in the
    micrograph that showed the bias of hole filling (issue 19); every matrix pocket enclosed by
    metal is matrix in the truth, however small.  Gaussian noise of (grain - matrix) /
    `contrast_to_noise` is added (``None``: noiseless) after an optional Gaussian blur, and the
    image is digitised.  The truth's grains are the metal's 4-connected clusters (the physical
    connectivity of the percolation analysis), so ``labels > 0`` is the metal mask.

    Parameters
    ----------
    shape : (rows, cols)
        Image size in pixels (sites are cut at the right and bottom edges).
    p : float
        Site occupation probability, 0 < p < 1; :data:`SITE_PC` (0.5927) is the threshold.
    site_px : int
        Side of one site in pixels (>= 1).
    contrast_to_noise : float or None
        (grain level - matrix level) / noise sigma; ``None`` for a noiseless image.
    blur_sigma_px : float
        Gaussian PSF (px) before the noise; 0 for none.
    pixel_size_m, bit_depth, rng
        Pixel size (m), 8 or 16 bits, and the random generator or seed.

    Returns
    -------
    SyntheticSample
        ``preset`` is ``"site-percolation"``; ``grains`` has ``mode`` 1 for every cluster;
        ``junctions`` is empty (clusters do not touch: 4-neighbours of metal are one cluster).

    Examples
    --------
    >>> s = make_site_percolation((120, 120), p=0.6, site_px=3, rng=1)
    >>> s.image.dtype, abs(float((s.labels > 0).mean()) - 0.6) < 0.05
    (dtype('uint8'), True)
    """
    rows, cols = _validate_shape(shape)
    if not 0.0 < p < 1.0:
        msg = f"p must be between 0 and 1, got {p!r}"
        raise InputError(msg)
    if int(site_px) != site_px or site_px < 1:
        msg = f"site_px must be a whole number of pixels >= 1, got {site_px!r}"
        raise InputError(msg)
    if contrast_to_noise is not None and not contrast_to_noise > 0:
        msg = f"contrast_to_noise must be > 0 (or None for a noiseless image), got {contrast_to_noise!r}"
        raise InputError(msg)
    if bit_depth not in (8, 16):
        msg = f"bit_depth must be 8 or 16, got {bit_depth!r}"
        raise InputError(msg)
    site_px = int(site_px)
    gen = np.random.default_rng(rng)
    sites = gen.random((-(-rows // site_px), -(-cols // site_px))) < p
    metal = np.repeat(np.repeat(sites, site_px, axis=0), site_px, axis=1)[:rows, :cols]
    labels, _ = ndi.label(metal)  # 4-connected clusters
    labels = relabel_raster_order(labels.astype(np.int32))
    signal = np.where(metal, np.float32(_GRAIN_LEVEL), np.float32(_MATRIX_LEVEL))
    if blur_sigma_px > 0:
        signal = cv2.GaussianBlur(signal, (0, 0), blur_sigma_px, borderType=cv2.BORDER_REFLECT)
    if contrast_to_noise is not None:
        sigma = (_GRAIN_LEVEL - _MATRIX_LEVEL) / float(contrast_to_noise)
        signal = signal + gen.normal(0.0, sigma, signal.shape).astype(np.float32)
    image = _to_digital(np.asarray(signal, dtype=np.float32), bit_depth)
    n = int(labels.max())
    params = {"p": float(p), "site_px": site_px, "contrast_to_noise": contrast_to_noise,
              "blur_sigma_px": float(blur_sigma_px), "bit_depth": bit_depth, "seed": _seed_record(rng)}
    return SyntheticSample(image=image, labels=labels, grains=_truth_table(labels, np.ones(n, np.int64), pixel_size_m),
                           pixel_size_m=float(pixel_size_m), databar_rows=0, preset="site-percolation",
                           params=params, junctions=_empty_junctions())
