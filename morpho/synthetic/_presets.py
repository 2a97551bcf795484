"""Named parameter sets of :func:`morpho.synthetic.make_sem_micrograph` and their validation."""

from __future__ import annotations

import math
import types
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ConfigError

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
    # --- hard-case options, all off here (the presets of issue 3 switch them on) ---
    "pixel_gaps": 0,
    "pixel_gap_min_px": 0,
    "pixel_gap_max_px": 2,
    "grain_level_min": 0.05,
    "groove_depth_min": 1.0,
    "groove_depth_max": 1.0,
    "gradient_curvature": 0.0,
    "streak_gain": 0.0,
    "streak_length_px": 40.0,
    "bright_line_rate": 0.0,
    "bright_line_level": 0.0,
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

# Hard presets for the accuracy benchmark (issue 3).  Each key is documented in
# make_sem_micrograph; the comments say why a value was chosen.
_DENSE_GROOVES = {
    **_INOX_BIMODAL,
    # a closed film of 60 nm (30 px) grains: ~1000 grains in 1024 x 1024, no small population
    "large_median_diameter_m": 60e-9,
    "large_sigma_ln": 0.30,
    "small_number_fraction": 0.0,
    "large_packing_ratio": 0.55,
    "large_coverage_target": 2.0,
    "large_shape_amplitude": 0.12,
    # touching grains: every contact is a 1 or 2 px groove, left as matrix (0) in the truth
    "pixel_gaps": 1,
    "pixel_gap_min_px": 1,
    "pixel_gap_max_px": 2,
    # grain brightness from just above the matrix to bright; grooves from almost as dark as
    # the matrix to only slightly darker than the grains beside them
    "matrix_level": 0.12,
    "grain_level": 0.42,
    "grain_level_sd": 0.14,
    "grain_level_min": 0.16,
    "groove_depth_min": 0.15,
    "groove_depth_max": 0.95,
    "edge_gain": 0.08,
    "edge_width_px": 1.5,
    "blur_sigma_px": 0.9,
}

_NARROW_GAPS = {
    **_INOX_BIMODAL,
    # the bimodal film with 200 nm (100 px) islands packed so that most neighbours face each
    # other; facing islands are 0 px (touching) or 1 px apart
    "large_median_diameter_m": 200e-9,
    "large_packing_ratio": 0.75,
    "large_coverage_target": 0.90,
    "small_number_fraction": 0.40,
    "small_gap_min_m": 2e-9,
    "pixel_gaps": 1,
    "pixel_gap_min_px": 0,
    "pixel_gap_max_px": 1,
}

_INTERSTITIAL = {
    **_INOX_BIMODAL,
    # four small grains of 2-4 px radius (median 6 px diameter) per island of 150 nm (75 px)
    "large_median_diameter_m": 150e-9,
    "small_median_diameter_m": 12e-9,
    "small_sigma_ln": 0.20,
    "small_number_fraction": 0.80,
    "small_shape_amplitude": 0.04,
    "blur_sigma_px": 1.0,
}

_GRADIENT_STREAKS = {
    **_INOX_BIMODAL,
    # the inox-bimodal grains (same seed, same grains) under uneven illumination and charging
    "gradient_amplitude": 0.70,
    "gradient_curvature": 0.35,
    "streak_gain": 1.0,
    "streak_length_px": 40.0,
    "bright_line_rate": 0.006,
    "bright_line_level": 0.40,
}

_EDGE_BRIGHT = {
    **_INOX_BIMODAL,
    # the inox-bimodal grains with bright secondary-electron rims and dim interiors
    "grain_level": 0.23,
    "grain_level_sd": 0.02,
    "grain_level_min": 0.19,
    "edge_gain": 0.55,
    "edge_width_px": 3.0,
}

#: Named parameter sets for :func:`make_sem_micrograph` (read-only mappings).
#:
#: ``"inox-bimodal"``: the seed paper's In/InOx film (PNAS 119, e2202496119, Fig. 2).
#: ``"dense"``: islands packed until they nearly touch, separated by dark 2 px grooves.
#: ``"lowdose"``: the ``inox-bimodal`` geometry imaged with 6 counts per pixel (noisy).
#: ``"dense-grooves"``: a closed film of touching 60 nm grains separated only by 1-2 px contact
#: grooves of random depth, grain brightness from near the matrix level to bright.
#: ``"narrow-gaps"``: bimodal film whose facing islands are 0 px (touching) or 1 px apart.
#: ``"interstitial"``: many small grains of 2-4 px radius among 150 nm islands.
#: ``"gradient-streaks"``: the ``inox-bimodal`` grains under a strong non-linear brightness
#: gradient, with charging streaks to the right of grains and a few bright scan lines.
#: ``"edge-bright"``: the ``inox-bimodal`` grains with bright rims and interiors only a little
#: above the matrix.
#: The meaning of every key is documented in :func:`make_sem_micrograph`.
PRESETS: Mapping[str, Mapping[str, Any]] = types.MappingProxyType(
    {
        "inox-bimodal": types.MappingProxyType(_INOX_BIMODAL),
        "dense": types.MappingProxyType(_DENSE),
        "lowdose": types.MappingProxyType(_LOWDOSE),
        "dense-grooves": types.MappingProxyType(_DENSE_GROOVES),
        "narrow-gaps": types.MappingProxyType(_NARROW_GAPS),
        "interstitial": types.MappingProxyType(_INTERSTITIAL),
        "gradient-streaks": types.MappingProxyType(_GRADIENT_STREAKS),
        "edge-bright": types.MappingProxyType(_EDGE_BRIGHT),
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
    "pixel_gaps": (0, 1, True),
    "pixel_gap_min_px": (0, 2, True),
    "pixel_gap_max_px": (0, 2, True),
    "grain_level_min": (0.0, 0.95, True),
    "groove_depth_min": (0.0, 1.0, True),
    "groove_depth_max": (0.0, 1.0, True),
    "gradient_curvature": (0.0, 0.9, True),
    "streak_gain": (0.0, 5.0, True),
    "streak_length_px": (0.0, 10000.0, False),
    "bright_line_rate": (0.0, 1.0, True),
    "bright_line_level": (0.0, 1.0, True),
}

# Keys whose values are whole numbers (stored as int).
_INT_KEYS = frozenset({"shape_max_mode", "pixel_gaps", "pixel_gap_min_px", "pixel_gap_max_px"})


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
            msg = (
                f"synthetic parameter {key} = {value!r} is outside {bracket}{low}, {high}]; "
                "pass a value in that range"
            )
            raise ConfigError(msg)
        if key in _INT_KEYS and value != int(value):
            msg = f"synthetic parameter {key} must be a whole number, got {value!r}"
            raise ConfigError(msg)
        resolved[key] = int(value) if key in _INT_KEYS else value
    if resolved["large_gap_max_m"] < resolved["large_gap_min_m"]:
        msg = (
            f"large_gap_max_m ({resolved['large_gap_max_m']!r}) must be >= large_gap_min_m "
            f"({resolved['large_gap_min_m']!r}); swap or widen them"
        )
        raise ConfigError(msg)
    for low_key, high_key in (("pixel_gap_min_px", "pixel_gap_max_px"), ("groove_depth_min", "groove_depth_max")):
        if resolved[high_key] < resolved[low_key]:
            msg = (
                f"{high_key} ({resolved[high_key]!r}) must be >= {low_key} ({resolved[low_key]!r}); "
                "swap or widen them"
            )
            raise ConfigError(msg)
    if resolved["small_number_fraction"] >= 1.0:
        msg = "small_number_fraction must be < 1 (some grains must be large); pass e.g. 0.57"
        raise ConfigError(msg)
    return resolved
