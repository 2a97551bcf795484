"""Rendering of a label image into an SEM-like micrograph: signal, noise, databar, digitisation."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np
from scipy.signal import lfilter


def _smooth_field(shape: tuple[int, int], sigma_px: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian random field with unit standard deviation and correlation length ~`sigma_px`."""
    field = rng.standard_normal(shape, dtype=np.float32)
    field = cv2.GaussianBlur(field, (0, 0), sigma_px, borderType=cv2.BORDER_REFLECT)
    std = float(field.std())
    return field / std if std > 0 else field


def _render_signal(
    labels: np.ndarray,
    p: Mapping[str, Any],
    rng: np.random.Generator,
    *,
    dark_grains: bool,
    seams: np.ndarray | None = None,
) -> np.ndarray:
    """Noise-free detector signal in [0, 1] (before shot and scan-line noise).

    `seams` (from the ``pixel_gaps`` geometry) marks the contact-groove pixels, each with the
    index + 1 of its grain pair.  Random draws happen only for the options that are on, so a
    preset without grooves, streaks or curvature renders exactly as before they existed.
    """
    shape = labels.shape
    n = int(labels.max())
    signal = np.float32(p["matrix_level"]) * (1.0 + np.float32(p["matrix_texture"]) * _smooth_field(shape, 4.0, rng))
    grain_mask = labels > 0
    if n > 0:
        levels = p["grain_level"] + p["grain_level_sd"] * rng.standard_normal(n)
        levels = np.clip(levels, p["grain_level_min"], 0.95).astype(np.float32)
        lut = np.concatenate([[0.0], levels]).astype(np.float32)
        # Secondary-electron edge effect: rim brighter than the interior.
        inside = cv2.distanceTransform(grain_mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
        rim = np.float32(p["edge_gain"]) * np.exp(-(inside - 1.0) / np.float32(p["edge_width_px"]))
        signal = np.where(grain_mask, lut[labels] + rim, signal)
        if seams is not None:
            signal = _draw_grooves(signal, labels, lut, seams, p, rng)
        if p["streak_gain"] > 0:
            signal = _add_charging_streaks(signal, labels, lut, p, rng)
    if dark_grains:
        signal = 1.0 - signal
    # Smooth brightness gradient across the field (random direction).
    amp = p["gradient_amplitude"]
    yy = np.linspace(-0.5, 0.5, shape[0], dtype=np.float32)[:, None]
    xx = np.linspace(-0.5, 0.5, shape[1], dtype=np.float32)[None, :]
    if amp > 0:
        angle = rng.uniform(0.0, 2.0 * np.pi)
        ramp = np.float32(math.cos(angle)) * xx + np.float32(math.sin(angle)) * yy
        signal = signal * (1.0 + np.float32(amp) * ramp)
    curvature = p["gradient_curvature"]
    if curvature > 0:
        # Non-linear part: a quadratic fall-off away from a random hot spot near the centre.
        y0, x0 = rng.uniform(-0.3, 0.3, size=2).astype(np.float32)
        q = (yy - y0) ** 2 + (xx - x0) ** 2
        signal = signal * (1.0 - np.float32(curvature) * q / q.max())
    if p["blur_sigma_px"] > 0:
        signal = cv2.GaussianBlur(signal.astype(np.float32), (0, 0), p["blur_sigma_px"], borderType=cv2.BORDER_REFLECT)
    return np.clip(signal, 0.0, 1.0).astype(np.float32)


def _draw_grooves(
    signal: np.ndarray,
    labels: np.ndarray,
    lut: np.ndarray,
    seams: np.ndarray,
    p: Mapping[str, Any],
    rng: np.random.Generator,
) -> np.ndarray:
    """Give each contact groove a depth between the matrix and the grains beside it.

    A groove pixel of pair k gets ``matrix + (1 - depth_k) * (local grain level - matrix_level)``
    with ``depth_k`` uniform in [``groove_depth_min``, ``groove_depth_max``] per pair and the
    local grain level the mean interior level of the grain pixels in its 5 x 5 neighbourhood:
    depth 1 is as dark as the matrix, depth 0 as bright as the grains.
    """
    n_pairs = int(seams.max())
    groove = (seams > 0) & (labels == 0)
    if n_pairs == 0 or not groove.any():
        return signal
    depth = rng.uniform(p["groove_depth_min"], p["groove_depth_max"], size=n_pairs).astype(np.float32)
    level = lut[labels]
    weight = (labels > 0).astype(np.float32)
    level_sum = cv2.boxFilter(level, -1, (5, 5), normalize=False, borderType=cv2.BORDER_CONSTANT)
    weight_sum = cv2.boxFilter(weight, -1, (5, 5), normalize=False, borderType=cv2.BORDER_CONSTANT)
    matrix = np.float32(p["matrix_level"])
    local = np.where(weight_sum > 0, level_sum / np.maximum(weight_sum, 1.0), matrix)
    lift = (1.0 - depth[seams[groove] - 1]) * np.maximum(local[groove] - matrix, 0.0)
    out = signal.copy()
    out[groove] += lift
    return out


def _add_charging_streaks(
    signal: np.ndarray, labels: np.ndarray, lut: np.ndarray, p: Mapping[str, Any], rng: np.random.Generator
) -> np.ndarray:
    """Bright charging smears to the right of the grains (the fast-scan direction).

    Each grain gets a random charge c uniform in [0, 1); the smear at a pixel is
    ``streak_gain * sum_{k >= 1} (1 - a) a^(k - 1) s(row, col - k)`` with ``a = exp(-1 /
    streak_length_px)`` and s = c (level - matrix_level) on the grain's pixels: a first-order
    decay along the row that starts one pixel after each grain pixel, so nothing is added to
    the left of a grain.
    """
    n = lut.size - 1
    charge = np.concatenate([[0.0], rng.random(n)]).astype(np.float32)
    source = charge[labels] * np.maximum(lut[labels] - np.float32(p["matrix_level"]), 0.0)
    a = math.exp(-1.0 / p["streak_length_px"])
    smear = lfilter([0.0, 1.0 - a], [1.0, -a], source.astype(np.float64), axis=1)
    return (signal + np.float32(p["streak_gain"]) * smear.astype(np.float32)).astype(np.float32)


def _add_noise(signal: np.ndarray, p: Mapping[str, Any], rng: np.random.Generator) -> np.ndarray:
    """Poisson shot noise at ``dose_counts_per_px``, per-row scan-line offsets, bright lines."""
    dose = p["dose_counts_per_px"]
    noisy = rng.poisson(signal.astype(np.float64) * dose).astype(np.float32) / np.float32(dose)
    if p["scanline_sigma"] > 0:
        noisy += np.float32(p["scanline_sigma"]) * rng.standard_normal((signal.shape[0], 1), dtype=np.float32)
    if p["bright_line_rate"] > 0 and p["bright_line_level"] > 0:
        noisy = _add_bright_lines(noisy, p, rng)
    return noisy


def _add_bright_lines(image: np.ndarray, p: Mapping[str, Any], rng: np.random.Generator) -> np.ndarray:
    """A few bright scan lines (detector discharges): Poisson(``bright_line_rate`` x rows) rows.

    Each line starts at a random column, jumps by ``bright_line_level`` x U(0.5, 1) and decays
    to the right over U(0.1, 0.5) of the width; lines are not blurred (they happen in time).
    """
    rows, cols = image.shape
    count = int(rng.poisson(p["bright_line_rate"] * rows))
    out = image.copy()
    col = np.arange(cols, dtype=np.float32)
    for row, start, height, decay in zip(
        rng.integers(0, rows, size=count),
        rng.integers(0, cols, size=count),
        p["bright_line_level"] * rng.uniform(0.5, 1.0, size=count),
        rng.uniform(0.1, 0.5, size=count) * cols,
        strict=True,
    ):
        tail = np.float32(height) * np.exp(-(col[start:] - start) / np.float32(decay))
        out[row, start:] += tail
    return out


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

