"""The per-image detection limit (morpho.detection) against direct measurement."""

import cv2
import numpy as np
import pytest

from morpho.detection import RADII_PX, detection_limit
from morpho.evaluate import match_labels
from morpho.segment import relabel_raster_order, segment

PX = 2e-9


def _field(radii: list[float], *, noise: float, rng: np.random.Generator,
           blur: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Disks of the given radii on a 24-px grid beside one large grain, noisy; image and truth."""
    rows, cols = 360, 360
    yy, xx = np.mgrid[:rows, :cols]
    truth = np.zeros((rows, cols), dtype=np.int32)
    truth[(yy - 60) ** 2 + (xx - 60) ** 2 <= 45**2] = 1
    k = 1
    centres = [(r, c) for r in range(132, 348, 24) for c in range(12, 348, 24)]
    for (cy, cx), rad in zip(centres, radii, strict=False):
        k += 1
        truth[(yy - cy) ** 2 + (xx - cx) ** 2 <= rad**2] = k
    img = np.where(truth > 0, 0.6, 0.2).astype(np.float32)
    img = cv2.GaussianBlur(img, (0, 0), blur) + rng.normal(0, noise, img.shape).astype(np.float32)
    return img, relabel_raster_order(truth)


def _recall_of_radius(truth: np.ndarray, labels: np.ndarray, radius: float) -> float:
    areas = np.bincount(truth.ravel())
    ids = np.flatnonzero(np.abs(np.sqrt(areas / np.pi) - radius) < 0.6)
    ids = ids[ids > 0]
    m = match_labels(truth, labels)
    return float(np.isin(ids, m.true_ids).mean())


@pytest.mark.parametrize("noise", [0.03, 0.12, 0.2])
def test_detection_limit_agrees_with_direct_measurement(noise):
    rng = np.random.default_rng(3)
    present = (2.0, 3.0, 4.0, 5.0, 8.0)
    img, truth = _field([r for r in present for _ in range(20)], noise=noise, rng=rng)
    seg = segment(img, pixel_size_m=PX)
    limit = detection_limit(seg).radius_px
    assert limit is not None
    measured = {r: _recall_of_radius(truth, seg.labels, r) for r in present}
    # never optimistic: every radius at or above the stated limit is found reliably ...
    assert all(measured[r] >= 0.9 for r in present if r >= limit), (limit, measured)
    # ... and at most one step of RADII_PX conservative (high noise: CNR ~ 2)
    found = min(r for r in present if measured[r] >= 0.9)
    assert found >= RADII_PX[max(0, RADII_PX.index(limit) - 2)], (limit, measured)
    assert measured[2.0] < 0.9  # the field does contain radii below the limit


def test_detection_limit_grows_with_noise():
    rng = np.random.default_rng(4)
    limits = []
    for noise in (0.02, 0.08, 0.2):
        img, _ = _field([6.0] * 10, noise=noise, rng=rng)
        limits.append(detection_limit(segment(img, pixel_size_m=PX)).radius_px)
    assert limits == sorted(limits)
    assert limits[0] < limits[-1]
    assert limits[0] <= 2.5  # clean image: 2-3 px grains are found
    assert all(r in RADII_PX for r in limits)


def test_detection_limit_is_reproducible():
    rng = np.random.default_rng(5)
    img, _ = _field([4.0] * 10, noise=0.08, rng=rng)
    seg = segment(img, pixel_size_m=PX)
    assert detection_limit(seg) == detection_limit(seg)


def test_detection_limit_simulates_the_images_own_blur():
    """The simulated disks are blurred as much as the image's measured edges; a blurrier image
    has a larger limit, and it is still never optimistic."""
    present = (2.0, 3.0, 4.0, 5.0, 8.0)
    radii = [r for r in present for _ in range(20)]
    sharp_img, _ = _field(radii, noise=0.05, rng=np.random.default_rng(6), blur=1.0)
    img, truth = _field(radii, noise=0.05, rng=np.random.default_rng(6), blur=2.5)
    sharp, seg = segment(sharp_img, pixel_size_m=PX), segment(img, pixel_size_m=PX)
    assert 0.8 <= sharp.edge_sigma_px <= 1.5
    assert 2.0 <= seg.edge_sigma_px <= 3.0
    limit = detection_limit(seg)
    assert limit.psf_sigma_px == pytest.approx(seg.edge_sigma_px)
    assert limit.radius_px > detection_limit(sharp).radius_px
    measured = {r: _recall_of_radius(truth, seg.labels, r) for r in present}
    assert all(measured[r] >= 0.9 for r in present if r >= limit.radius_px), (limit, measured)
