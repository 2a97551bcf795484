"""The public SEM micrograph generator, :func:`make_sem_micrograph`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from ..errors import ConfigError, InputError
from ._geometry import _bimodal_labels
from ._presets import _INT_KEYS, _validate_params
from ._render import _add_noise, _databar, _render_signal, _to_digital
from ._sample import SyntheticSample, _seed_record, _truth_table, _validate_shape


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
    secondary-electron rim, matrix texture, contact grooves, charging streaks, a smooth
    brightness gradient, Gaussian beam blur, Poisson shot noise, scan-line offsets, bright scan
    lines and, optionally, a databar at the bottom.  Each effect is set by the preset.

    Parameters
    ----------
    shape : pair of int, optional
        (rows, cols) of the whole image in pixels, databar included.  Default (1024, 1024).
        At 2 nm per pixel a 1024 x 1024 field holds only a dozen large grains; use 2048 x 2048
        or more for size statistics.
    preset : str, optional
        Name of a parameter set in :data:`PRESETS`: ``"inox-bimodal"`` (default), ``"dense"``,
        ``"lowdose"``, or one of the hard cases of the accuracy benchmark: ``"dense-grooves"``,
        ``"narrow-gaps"``, ``"interstitial"``, ``"gradient-streaks"``, ``"edge-bright"`` (see
        Notes).  Any preset works with ``bit_depth=16`` and ``dark_grains=True``.
    pixel_size_m : float, optional
        Pixel size in metres; overrides the preset's ``pixel_size_m`` (2e-9 m).  Grain sizes
        are physical, so a larger pixel makes the grains smaller in pixels.
    params : mapping, optional
        Values that override the preset's, by key (all keys listed below; unknown keys raise).
    bit_depth : {8, 16}, optional
        8 (default) gives ``uint8``, 16 gives ``uint16`` over the full 0..65535 range.
    dark_grains : bool, optional
        Invert the contrast (dark grains on a bright matrix).  Default False.  Everything drawn
        from the grains (rims, grooves, charging streaks) is inverted with them; the gradient,
        noise and bright scan lines are applied after the inversion.
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
        touch: pixels of different islands are always more than 2 px apart.  Not used when
        ``pixel_gaps`` = 1.
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

    Hard-case keys (off in ``inox-bimodal``, ``dense`` and ``lowdose``, whose images do not
    depend on them):

    ``pixel_gaps`` = 0, ``pixel_gap_min_px`` = 0, ``pixel_gap_max_px`` = 2
        With ``pixel_gaps`` = 1, facing islands (4-adjacent pixels of two islands' cells, both
        inside their outlines) are separated by a whole number of pixels drawn per pair
        uniformly from ``pixel_gap_min_px..pixel_gap_max_px`` (each in 0..2) instead of the
        ``large_gap_*_m`` half gaps: 0 leaves them touching (4-adjacent, distinct labels), 1
        removes a 1 px line from one of the two (chosen at random), 2 removes a 2 px groove
        from both.  Removed pixels are matrix (0) in the truth, so the SKIZ ``gap_m`` of the
        pair is exactly that many pixels.  Pixel gaps are pixel-scale: they do not change
        with ``pixel_size_m``.
    ``grain_level_min`` = 0.05
        Lower clip of the grains' interior brightness (upper clip 0.95).
    ``groove_depth_min`` = 1.0, ``groove_depth_max`` = 1.0
        The pixels removed by ``pixel_gaps`` (the contact grooves) are drawn at
        ``matrix + (1 - depth) * (grain level - matrix_level)``, with depth uniform in
        [min, max] per pair and the mean interior level of the grains within 2 px: depth 1 is
        as dark as the matrix, depth 0 as bright as the grains.
    ``gradient_curvature`` = 0
        Non-linear illumination: the brightness falls by up to this fraction, quadratically
        with the distance from a random hot spot within 0.3 field widths of the centre (on top
        of the linear ``gradient_amplitude``).
    ``streak_gain`` = 0, ``streak_length_px`` = 40
        Charging smears along the fast-scan direction: each grain gets a random charge c in
        [0, 1) and adds ``streak_gain * c * (level - matrix_level)``, low-pass filtered with an
        exponential decay of ``streak_length_px``, to the pixels to its right (never to its
        left).
    ``bright_line_rate`` = 0, ``bright_line_level`` = 0
        Bright scan lines (detector discharges): Poisson(rate x rows) lines, each starting at a
        random column with a jump of ``bright_line_level`` x U(0.5, 1) that decays over
        U(0.1, 0.5) of the width; not blurred.

    ``dense`` changes ``small_number_fraction`` = 0.30, ``large_packing_ratio`` = 0.60,
    ``large_coverage_target`` = 1.40, ``large_gap_min_m`` = 2e-9, ``large_gap_max_m`` = 4e-9
    (dark 2 px grooves between islands, coverage ~0.85-0.9) and ``matrix_level`` = 0.10.  ``lowdose`` changes
    ``dose_counts_per_px`` = 6 and ``scanline_sigma`` = 0.02 only, so it has the same grains as
    ``inox-bimodal`` for the same seed.

    The hard presets of the accuracy benchmark change these keys from ``inox-bimodal``:

    ``dense-grooves``: a closed film of touching grains whose only separation is a dark contact
    groove.  ``large_median_diameter_m`` = 60e-9 (30 px), ``large_sigma_ln`` = 0.30,
    ``small_number_fraction`` = 0 (one population), ``large_packing_ratio`` = 0.55,
    ``large_coverage_target`` = 2.0, ``large_shape_amplitude`` = 0.12 (coverage ~0.84, about
    1500 grains in 1024 x 1024, small matrix pockets at some triple points);
    ``pixel_gaps`` = 1 with ``pixel_gap_min_px`` = 1, ``pixel_gap_max_px`` = 2 (every contact
    is a 1 or 2 px groove; the groove pixels are matrix, 0, in the truth, which so splits
    touching grains by 1-2 px lines); ``matrix_level`` = 0.12, ``grain_level`` = 0.42,
    ``grain_level_sd`` = 0.14, ``grain_level_min`` = 0.16 (grains from just above the matrix
    to bright); ``groove_depth_min`` = 0.15, ``groove_depth_max`` = 0.95 (grooves from only
    slightly darker than the grains to nearly matrix-dark); ``edge_gain`` = 0.08,
    ``edge_width_px`` = 1.5, ``blur_sigma_px`` = 0.9.

    ``narrow-gaps``: separated islands whose facing sides are 0 or 1 px apart.
    ``large_median_diameter_m`` = 200e-9 (100 px), ``large_packing_ratio`` = 0.75,
    ``large_coverage_target`` = 0.90, ``small_number_fraction`` = 0.40,
    ``small_gap_min_m`` = 2e-9; ``pixel_gaps`` = 1 with ``pixel_gap_min_px`` = 0,
    ``pixel_gap_max_px`` = 1 (grooves as dark as the matrix).  Islands whose outlines do not
    meet keep the gap of their placement (mostly > 8 px).

    ``interstitial``: many grains at the detection limit.  ``large_median_diameter_m`` =
    150e-9 (75 px), ``small_median_diameter_m`` = 12e-9 (6 px; ~90 % of the small grains
    have an equivalent radius of 2-4 px), ``small_sigma_ln`` = 0.20,
    ``small_number_fraction`` = 0.80 (four small grains per island),
    ``small_shape_amplitude`` = 0.04, ``blur_sigma_px`` = 1.0.

    ``gradient-streaks``: the ``inox-bimodal`` grains (same seed, same grains) under uneven
    illumination and charging.  ``gradient_amplitude`` = 0.70, ``gradient_curvature`` = 0.35,
    ``streak_gain`` = 1.0, ``streak_length_px`` = 40, ``bright_line_rate`` = 0.006 (about 6
    lines in 1024 rows), ``bright_line_level`` = 0.40.

    ``edge-bright``: the ``inox-bimodal`` grains with strong edge brightening.
    ``grain_level`` = 0.23, ``grain_level_sd`` = 0.02, ``grain_level_min`` = 0.19 (interiors
    only 0.02-0.1 above the matrix's 0.17), ``edge_gain`` = 0.55, ``edge_width_px`` = 3.0.

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
        msg = (
            f"only {region[0]} rows are left above the databar of shape {shape!r}; "
            "use more rows or a smaller databar_fraction"
        )
        raise InputError(msg)
    geometry_rng, render_rng = np.random.default_rng(rng).spawn(2)

    labels_region, modes, seams = _bimodal_labels(p, region, geometry_rng)
    grains = _truth_table(labels_region, modes, p["pixel_size_m"])

    signal = _render_signal(labels_region, p, render_rng, dark_grains=dark_grains, seams=seams)
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
        **{k: (int(v) if k in _INT_KEYS else float(v)) for k, v in p.items()},
        "bit_depth": int(bit_depth),
        "dark_grains": bool(dark_grains),
        "databar": bool(databar),
        "seed": _seed_record(rng),
    }
    # True neighbour pairs and gaps: the SKIZ graph of the truth labels, by the same definitions
    # that morpho.graph applies to a segmentation, so measured and true graphs compare directly.
    from ..graph import skiz_junctions

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

