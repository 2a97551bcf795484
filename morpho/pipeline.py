"""``analyze``: a micrograph and a configuration -> every table and number (no I/O).

The stages run in order: segment -> measure -> graph -> distribution -> physics.  Each stage is a
pure function of plain arrays and DataFrames; this module composes them, times them, and
collects the warnings they raise so that the CLI can show them and the summary can record them.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .config import AnalysisConfig
from .detection import RELIABLE_RECALL, detection_limit, psf_basis
from .distribution import SizeDistribution, size_distribution
from .graph import JUNCTION_COLUMNS, build_graph, nearest_grain_pixels
from .io import Micrograph
from .measure import GRAIN_COLUMNS, measure_grains
from .percolation import PercolationResult, cluster_census, percolation_analysis
from .physics import compute_physics
from .segment import SegmentationResult, default_threads, segment

__all__ = ["CONTRACT_GRAIN_COLUMNS", "CONTRACT_JUNCTION_COLUMNS", "AnalysisResult", "analyze"]

#: Column order of ``grains.csv`` (DESIGN.md contract): the measured columns, then the graph's
#: and physics' additions; other columns (``area_px``, ``self_capacitance_F``) follow.
CONTRACT_GRAIN_COLUMNS = [c for c in GRAIN_COLUMNS if c != "area_px"] + [
    "coordination",
    "capacitance_F",
    "charging_energy_K",
]
#: Column order of ``junctions.csv``: the geometry of the graph stage, then the physics.
CONTRACT_JUNCTION_COLUMNS = [*JUNCTION_COLUMNS, "capacitance_F", "resistance_ohm", "josephson_energy_K", "ej_over_ec"]


@dataclass(frozen=True)
class AnalysisResult:
    """Everything ``morpho analyze`` computes for one micrograph.

    Attributes
    ----------
    micrograph : Micrograph
        The input, with its pixel size and databar.
    config : AnalysisConfig
        The resolved configuration.
    segmentation : SegmentationResult
        Labels of the analysed region (databar rows excluded) and segmentation figures.
    grains, junctions : pandas.DataFrame
        The grains and junctions tables, contract columns first.
    distribution : SizeDistribution
        Size distribution of interior grains.
    summary : dict
        ``grains``, ``distribution``, ``graph``, ``physics``, ``segmentation``, ``percolation``
        sections.
    percolation : PercolationResult or None
        Percolation analysis of the metal (grain) mask, with the arrays of its figure.
    timing_s : dict
        Wall time per stage in seconds.
    warnings : tuple of str
        Warnings raised by the stages (also shown by the CLI).
    """

    micrograph: Micrograph
    config: AnalysisConfig
    segmentation: SegmentationResult
    grains: pd.DataFrame
    junctions: pd.DataFrame
    distribution: SizeDistribution
    summary: dict[str, Any]
    timing_s: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    percolation: PercolationResult | None = None

    @property
    def full_labels(self) -> np.ndarray:
        """uint32 labels of the whole file's shape; databar rows are 0 (read-only use: without a
        databar this is a view of the segmentation's labels)."""
        rows, cols = self.micrograph.shape_px
        region = self.segmentation.labels
        if region.shape == (rows, cols) and region.dtype == np.int32:
            return region.view(np.uint32)  # no databar: the labels themselves (ids >= 0), no copy
        out = np.zeros((rows, cols), dtype=np.uint32)
        out[: region.shape[0], : region.shape[1]] = region
        return out


def _ordered(frame: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    rest = [c for c in frame.columns if c not in first]
    return frame[[c for c in first if c in frame.columns] + rest]


#: The stages of :func:`analyze`, in order (the keys of ``timing_s``).
STAGES = ("segment", "detection_limit", "measure", "graph", "distribution", "physics", "percolation")


def _percolation_mask_statement(fill_holes: bool) -> str:
    """Which mask the percolation stage analysed, for ``summary.json`` and the report (issue 19)."""
    base = "labels.tif > 0: the union of the grains, after the size cut"
    if not fill_holes:
        return base + "; no hole filled (segment.fill_holes = false)"
    return (base + "; background regions brighter than the matrix (the dim interiors of rimmed or shaded "
            "grains) and holes smaller than the size cut that nowhere reach the matrix level are filled; every "
            "enclosed region at the matrix level (a pocket of matrix between the metal) is kept as matrix")


def analyze(micrograph: Micrograph, config: AnalysisConfig | None = None, *,
            progress: Callable[[str, float], None] | None = None, threads: int | None = None) -> AnalysisResult:
    """Run the whole analysis on one micrograph.

    Parameters
    ----------
    micrograph : Micrograph
        From :func:`morpho.io.read_micrograph`; its ``analysis_pixels`` (databar removed) are
        segmented and its ``pixel_size_m`` converts every measurement to SI.
    config : AnalysisConfig, optional
        Defaults to ``AnalysisConfig()``.
    progress : callable, optional
        Called as ``progress(stage, seconds)`` when each of :data:`STAGES` ends.
    threads : int, optional
        Tiles of a large micrograph segmented at once (:func:`morpho.segment.segment`); the
        results do not depend on it.

    Returns
    -------
    AnalysisResult

    Raises
    ------
    InputError
        For an image that cannot be analysed (constant, too small).
    SegmentationError
        When no grain is found or everything is grain.
    """
    cfg = config if config is not None else AnalysisConfig()
    px = micrograph.pixel_size_m
    timing: dict[str, float] = {}

    @contextmanager
    def stage(name: str):
        """Time one stage into `timing` and report it to `progress`."""
        t0 = time.perf_counter()
        yield
        timing[name] = time.perf_counter() - t0
        if progress is not None:
            progress(name, timing[name])

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with stage("segment"):
            seg = segment(micrograph.analysis_pixels, pixel_size_m=px, config=cfg.segment, threads=threads)

        # With threads to spare, the SKIZ's feature transform (SciPy, without the GIL) is made
        # while the detection limit and the grains are measured; "graph" is then the rest.
        n_threads = default_threads() if threads is None else threads
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="morpho-skiz") as pool:
            feature_job = pool.submit(nearest_grain_pixels, seg.labels) if n_threads > 1 else None

            with stage("detection_limit"):
                limit = detection_limit(seg)

            with stage("measure"):
                grains = measure_grains(seg.labels, pixel_size_m=px)

            with stage("graph"):
                feature = feature_job.result() if feature_job is not None else None
                feature_job = None
                graph = build_graph(seg.labels, grains, pixel_size_m=px, config=cfg.graph, feature=feature)
                del feature

        with stage("distribution"):
            interior = graph.grains.loc[~graph.grains["touches_border"], "diameter_m"].to_numpy()
            dist = size_distribution(interior, config=cfg.distribution)

        with stage("physics"):
            phys = compute_physics(graph.grains, graph.junctions,
                                   mean_coordination=graph.summary["mean_coordination"], config=cfg.physics)

        with stage("percolation"):
            metal = seg.labels > 0
            perc_cfg = cfg.percolation
            perc = percolation_analysis(metal, pixel_size_m=px, connectivity=perc_cfg.connectivity,
                                        bridge_px=perc_cfg.bridge_gap_m / (2.0 * px))
            perc_summary = perc.to_dict()
            perc_summary["bridge_gap_m"] = perc_cfg.bridge_gap_m
            perc_summary["mask"] = _percolation_mask_statement(cfg.segment.fill_holes)
            perc_summary["other_connectivity"] = cluster_census(metal, connectivity=12 - perc_cfg.connectivity)
            del metal
    messages = tuple(dict.fromkeys(str(w.message) for w in caught))

    grains_out = _ordered(phys.grains, CONTRACT_GRAIN_COLUMNS)
    junctions_out = _ordered(phys.junctions, CONTRACT_JUNCTION_COLUMNS)
    region_area_px = float(seg.labels.size)
    diam = grains_out["diameter_m"].to_numpy()
    grains_summary = {
        "count": len(grains_out),
        "count_interior": int((~grains_out["touches_border"]).sum()),
        "coverage_fraction": float(grains_out["area_px"].sum() / region_area_px) if len(grains_out) else 0.0,
        "mean_diameter_m": float(diam.mean()) if diam.size else float("nan"),
        "median_diameter_m": float(np.median(diam)) if diam.size else float("nan"),
        "geometric_mean_diameter_m": float(np.exp(np.log(diam).mean())) if diam.size else float("nan"),
        "min_diameter_m_cut": float(max(cfg.segment.min_diameter_m, 2 * np.sqrt(seg.min_area_px / np.pi) * px)),
        "n_removed_small": seg.n_removed_small,
    }
    segmentation_summary = {
        "threshold": seg.threshold,
        "noise_sigma": seg.noise_sigma,
        "smoothing_sigma_px": seg.smoothing_sigma_px,
        "min_area_px": seg.min_area_px,
        "n_split": seg.n_split,
        "dark_grains": cfg.segment.dark_grains,
        "method": cfg.segment.method,
        "valley_threshold": cfg.segment.valley_threshold,
        "split_by_level": cfg.segment.split_by_level,
        "n_tiles": seg.n_tiles,
        "matrix_level": seg.matrix_level,
        "grain_level": seg.grain_level,
        "contrast_to_noise": limit.contrast_to_noise,
        # The grain edges' width as a Gaussian sigma (px; the image's resolution as measured from
        # its edges, morpho.segment.edge_sigma_px) and the valley filter's width relative to its
        # design that it implied (1 unless the edges are wider than 1.8 px).
        "edge_sigma_px": None if not np.isfinite(seg.edge_sigma_px) else round(seg.edge_sigma_px, 3),
        "line_scale": seg.line_scale,
        # The smallest grain radius found reliably (>= 90 % of simulated grains of that radius at
        # this image's levels, noise and settings; morpho.detection).  None: not even 16 px.
        "detection_limit_radius_px": limit.radius_px,
        "detection_limit_radius_m": None if limit.radius_px is None else limit.radius_px * px,
        "detection_limit_basis": (
            f"simulated disks at this image's grain and matrix levels and noise, Gaussian PSF "
            f"{limit.psf_sigma_px:.2f} px ({psf_basis(seg.edge_sigma_px)}), same smoothing/threshold/size cut; "
            f"reliable = recall >= {RELIABLE_RECALL:g} "
            "at IoU >= 0.5"
            + ("; measured for the threshold method (this run used segment.method = regions)"
               if cfg.segment.method == "regions" else "")
        ),
    }
    # Wide SKIZ junctions (small grains across open matrix) have vanishing E_J; the medians over
    # junctions within the graph's gap limit describe the coupled part of the array.
    near = junctions_out["gap_m"].to_numpy() <= cfg.graph.gap_limit_m * (1 + 1e-9)
    physics_summary = dict(phys.summary)
    physics_summary["gap_limit_m"] = cfg.graph.gap_limit_m
    physics_summary["n_junctions_within_gap_limit"] = int(near.sum())
    for col, key in (
        ("josephson_energy_K", "josephson_energy_K_median_within_gap_limit"),
        ("ej_over_ec", "ej_over_ec_median_within_gap_limit"),
        ("charging_energy_K", "charging_energy_K_median_within_gap_limit"),
    ):
        values = junctions_out[col].to_numpy()[near] if col in junctions_out else np.zeros(0)
        physics_summary[key] = float(np.median(values)) if values.size else float("nan")
    summary = {
        "grains": grains_summary,
        "distribution": dist.to_summary(),
        "graph": graph.summary,
        "physics": physics_summary,
        "segmentation": segmentation_summary,
        "percolation": perc_summary,
    }
    return AnalysisResult(
        micrograph=micrograph,
        config=cfg,
        segmentation=seg,
        grains=grains_out,
        junctions=junctions_out,
        distribution=dist,
        summary=summary,
        timing_s=timing,
        warnings=messages,
        percolation=perc,
    )
