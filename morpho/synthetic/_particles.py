"""Shaded 3-D particles as a secondary-electron detector sees them (issue 18's clean-image cases).

The presets of :func:`make_sem_micrograph` draw flat islands with a bright rim.  Real particles
are three-dimensional, and secondary-electron contrast follows the surface tilt: a sphere is
darkest at its centre (seen face-on) and brightens towards its edge, where the beam grazes the
surface and escapes through the side wall as well.  Those gentle, grain-sized variations inside
one particle are what a splitter working in units of a clean image's tiny noise cuts along.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ..errors import InputError
from ..segment import relabel_raster_order
from ._render import _to_digital
from ._sample import SyntheticSample, _empty_junctions, _seed_record, _truth_table, _validate_shape

#: Particle shapes of :func:`make_shaded_particles`.
PARTICLE_KINDS = ("sphere", "droplet", "faceted")

#: Substrate level, and a particle's level where its surface faces the beam (tilt 0).
_SUBSTRATE = 0.12
_FACE_ON = 0.38
#: Secondary-electron yield rises as 1 / cos(tilt) (the secant law), capped where the surface
#: grazes the beam; the cap is the brightest a particle's side wall gets.
_SECANT_CAP = 2.4
#: Contact angle of a droplet (a spherical cap: In islands on InOx wet it partly).
_DROPLET_CONTACT_ANGLE_RAD = np.deg2rad(55.0)
#: Facets of a faceted particle, and the height of its pyramid relative to its radius.
_FACETS = 6
_FACET_HEIGHT = 0.6


def _height(kind: str, rho: np.ndarray, phi: np.ndarray, radius: float, phase: float) -> np.ndarray:
    """Height (px) of one particle over the substrate at normalised radius `rho` (< 1 inside)."""
    inside = np.clip(rho, 0.0, 1.0)
    if kind == "sphere":
        return radius * np.sqrt(1.0 - inside**2)
    if kind == "droplet":  # a spherical cap of base radius `radius` and the contact angle above
        big = radius / np.sin(_DROPLET_CONTACT_ANGLE_RAD)
        return np.sqrt(big**2 - (inside * radius) ** 2) - np.sqrt(big**2 - radius**2)
    # faceted: a pyramid over a regular polygon, flat facets meeting at ridges
    sector = 2.0 * np.pi / _FACETS
    local = np.mod(phi - phase, sector) - sector / 2.0
    polygon_rho = inside * np.cos(local) / np.cos(sector / 2.0)
    return _FACET_HEIGHT * radius * np.clip(1.0 - polygon_rho, 0.0, None)


def _place(rows: int, cols: int, diameters: np.ndarray, gap_px: float, rng: np.random.Generator,
           tries: int = 400) -> list[tuple[float, float, float]]:
    """Non-overlapping centres for `diameters` (largest first), each at least `gap_px` apart."""
    placed: list[tuple[float, float, float]] = []
    for d in np.sort(diameters)[::-1]:
        r = d / 2.0
        if 2 * r + 2 > min(rows, cols):
            continue
        for _ in range(tries):
            cy, cx = rng.uniform(r + 1, rows - r - 1), rng.uniform(r + 1, cols - r - 1)
            if all(np.hypot(cy - py, cx - px) >= r + pr + gap_px for py, px, pr in placed):
                placed.append((cy, cx, r))
                break
    return placed


def make_shaded_particles(
    shape: Sequence[int] = (1024, 1024),
    *,
    kind: str = "sphere",
    diameter_px: tuple[float, float] = (40.0, 400.0),
    n_particles: int = 24,
    dose_counts_per_px: float | None = 30.0,
    blur_sigma_px: float = 1.0,
    edge_gain: float = 0.25,
    texture: float = 0.03,
    gap_px: float = 6.0,
    pixel_size_m: float = 5e-9,
    bit_depth: int = 8,
    rng: np.random.Generator | int | None = None,
) -> SyntheticSample:
    """Separated 3-D particles (spheres, droplets or faceted grains) with secondary-electron shading.

    Each particle is a height field over the substrate; its brightness follows the surface tilt
    by the secant law (dark centre, bright side walls, capped at ``_SECANT_CAP`` times the
    face-on level), plus edge brightening (`edge_gain`, decaying over ~2 px inside the outline)
    and a blurred surface texture.  Particles do not touch (at least `gap_px` apart), so every
    particle is exactly one grain of the truth.  The image is blurred (PSF `blur_sigma_px`),
    given Poisson shot noise at `dose_counts_per_px` (``None``: noiseless) and digitised.

    Parameters
    ----------
    shape : (rows, cols)
        Image size in pixels.
    kind : {"sphere", "droplet", "faceted"}
        Sphere; droplet (a spherical cap of 55 degree contact angle, flatter, like an In island);
        faceted (a six-sided pyramid with flat facets and ridges).
    diameter_px : (min, max)
        Particle diameters are drawn log-uniformly from this range (px); the largest are
        placed first, and a particle that finds no room is left out.
    n_particles : int
        Particles to draw (fewer are placed when the field is full).
    dose_counts_per_px, blur_sigma_px, edge_gain, texture, gap_px, pixel_size_m, bit_depth, rng
        Rendering as described above; `texture` is the surface roughness's amplitude relative
        to the face-on level, `bit_depth` 8 or 16.

    Returns
    -------
    SyntheticSample
        ``preset`` is ``"shaded-<kind>"``; ``grains`` has ``mode`` 1 for every particle;
        ``junctions`` is empty (the particles are separated).

    Examples
    --------
    >>> s = make_shaded_particles((256, 256), diameter_px=(40, 80), n_particles=6, rng=1)
    >>> s.image.dtype, int(s.labels.max()) > 0
    (dtype('uint8'), True)
    """
    rows, cols = _validate_shape(shape)
    if kind not in PARTICLE_KINDS:
        msg = f"unknown particle kind {kind!r}; choose one of {list(PARTICLE_KINDS)}"
        raise InputError(msg)
    lo, hi = (float(v) for v in diameter_px)
    if not (4.0 <= lo <= hi):
        msg = f"diameter_px must be (min, max) with 4 <= min <= max, got {diameter_px!r}"
        raise InputError(msg)
    if bit_depth not in (8, 16):
        msg = f"bit_depth must be 8 or 16, got {bit_depth!r}"
        raise InputError(msg)
    gen = np.random.default_rng(rng)
    diameters = np.exp(gen.uniform(np.log(lo), np.log(hi), size=int(n_particles)))
    placed = _place(rows, cols, diameters, gap_px, gen)
    signal = np.full((rows, cols), _SUBSTRATE, np.float32)
    labels = np.zeros((rows, cols), np.int32)
    for k, (cy, cx, r) in enumerate(placed, start=1):
        r0, r1 = int(max(0, np.floor(cy - r - 1))), int(min(rows, np.ceil(cy + r + 2)))
        c0, c1 = int(max(0, np.floor(cx - r - 1))), int(min(cols, np.ceil(cx + r + 2)))
        yy, xx = np.mgrid[r0:r1, c0:c1].astype(np.float64)
        dy, dx = yy - cy, xx - cx
        rho, phi = np.hypot(dy, dx) / r, np.arctan2(dy, dx)
        inside = rho < 1.0
        height = _height(kind, rho, phi, r, gen.uniform(0, 2 * np.pi))
        gy, gx = np.gradient(height)
        secant = np.minimum(np.sqrt(1.0 + gy**2 + gx**2), _SECANT_CAP)
        edge_dist = (1.0 - rho) * r
        level = _FACE_ON * gen.uniform(0.9, 1.1) * (secant + edge_gain / _FACE_ON * np.exp(-edge_dist / 2.0))
        box = signal[r0:r1, c0:c1]
        box[inside] = level[inside].astype(np.float32)
        labels[r0:r1, c0:c1][inside] = k
    if texture > 0:
        rough = cv2.GaussianBlur(gen.standard_normal((rows, cols)).astype(np.float32), (0, 0), 2.0)
        rough *= np.float32(texture * _FACE_ON / max(float(rough.std()), 1e-6))
        signal += np.where(labels > 0, rough, np.float32(0.0))
    if blur_sigma_px > 0:
        signal = cv2.GaussianBlur(signal, (0, 0), blur_sigma_px, borderType=cv2.BORDER_REFLECT)
    signal = np.clip(signal, 0.0, 1.0)
    if dose_counts_per_px is not None:
        signal = (gen.poisson(signal.astype(np.float64) * dose_counts_per_px) / dose_counts_per_px)
    image = _to_digital(np.asarray(signal, dtype=np.float32), bit_depth)
    labels = relabel_raster_order(labels)
    n = int(labels.max())
    params = {"kind": kind, "diameter_px": [lo, hi], "n_particles": int(n_particles), "n_placed": n,
              "dose_counts_per_px": dose_counts_per_px, "blur_sigma_px": float(blur_sigma_px),
              "edge_gain": float(edge_gain), "texture": float(texture), "gap_px": float(gap_px),
              "bit_depth": bit_depth, "seed": _seed_record(rng)}
    return SyntheticSample(image=image, labels=labels, grains=_truth_table(labels, np.ones(n, np.int64), pixel_size_m),
                           pixel_size_m=float(pixel_size_m), databar_rows=0, preset=f"shaded-{kind}",
                           params=params, junctions=_empty_junctions())
