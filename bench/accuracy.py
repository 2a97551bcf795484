"""Accuracy benchmark: morpho and the peer tools against ground truth (`make bench-accuracy`).

Every method runs on the same images and is scored against the same truth with the same code:

* morpho: ``morpho.pipeline.analyze`` with default settings (``dark_grains=True`` on the
  dark-grain images, as a user would pass ``--dark-grains``);
* the peers of ``bench/peers/`` (ImageJ 1.x, Gwyddion threshold and watershed marking, the
  scikit-image gallery recipe, PoreSpy ``snow2``), installed from Debian's apt and PyPI by
  ``bench/peers/install.sh`` and driven as their users drive them, with their defaults.  They
  assume bright grains: a dark-grain image is inverted before it is handed to them.

Image sets:

1. Synthetic micrographs with exact truth, one set per ``morpho.synthetic.PRESETS`` name found at
   run time, plus ``inox-bimodal`` rendered as 16-bit and with dark grains.  Each image is
   written as an FEI TIFF and read back through ``read_micrograph``, so morpho runs its whole
   ``analyze`` path and the peers get the same pixels.
2. The real SEM images with hand-drawn masks in ``../shared/data/groundtruth/bam_tio2/`` (skipped
   when absent), truth built by the recipe of ``SOURCES.md`` (rows 0-711, ``mask > 127``
   labelled with 4-connectivity, components under 10 px dropped).

Scores per method and image: object F1 at IoU >= 0.5 and the mean IoU of matched grains
(``morpho.evaluate.match_labels``), recall of small (< 10 px radius) and large true grains, count
error, size-mode error (morpho's log-normal mixture fit on the interior grains of the method's
labels against the same fit on the truth), mean-coordination error (the SKIZ graph of the
method's labels from ``morpho.graph.build_graph`` on ``morpho.measure.measure_grains``, against
the same graph of the truth) and wall time (morpho: the whole ``analyze``; peers: their
segmentation call, including process start-up for ImageJ and Gwyddion).  Wall times are the
median of ``--repeats`` runs (default 3) on the first image of each set, fewer for a method whose
runs already add up to 20 s; further images of a set run once.

Usage::

    python bench/accuracy.py [--quick] [--sets synthetic,bam] [--peers imagej,gwyddion,...]
                             [--presets inox-bimodal,dense,...] [--seeds 11 12 13] [--all-seeds]
                             [--size 2048] [--repeats 3] [--json bench/results/accuracy.json]

By default ``inox-bimodal`` runs with seeds 11, 12, 13 and every other synthetic set with the
first seed only (``--all-seeds`` runs every seed everywhere).  ``--quick``: one seed, 1024 x 1024,
one run per timing.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import cv2
import numpy as np
import tifffile
from skimage import measure as skmeasure
from skimage.segmentation import relabel_sequential

import morpho
from morpho.config import AnalysisConfig
from morpho.distribution import size_distribution
from morpho.evaluate import match_labels
from morpho.export import write_synthetic
from morpho.graph import build_graph
from morpho.io import read_micrograph
from morpho.measure import measure_grains
from morpho.pipeline import analyze
from morpho.synthetic import PARTICLE_KINDS, PRESETS, make_sem_micrograph, make_shaded_particles

from _jsonout import write_report  # bench/ is the script's folder, first on sys.path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import peers as peer_registry  # noqa: E402 - bench/peers is a folder beside this script

BAM = ROOT.parent / "shared" / "data" / "groundtruth" / "bam_tio2"
BAM_ROWS = 712
#: Real vendor files without truth (``SOURCES.md``: metadata/), run raw and denoised in the
#: clean-image matrix as a consistency check.
METADATA = ROOT.parent / "shared" / "data" / "metadata"
METADATA_VARIANTS = ("raw", "denoised NLM", "denoised median")
MORPHO = "morpho"
#: morpho with ``segment.method = "regions"`` (closed films of flat grains; not the default).
MORPHO_REGIONS = "morpho regions"
#: Timing runs of one method on one image stop once they add up to this (a 25 s PoreSpy run is
#: timed once, a 4 s ImageJ run three times): keeps the default run near 20 min on 2 cores.
TIME_BUDGET_S = 20.0


# ---------------------------------------------------------------------------------------------
# Cases and scoring
# ---------------------------------------------------------------------------------------------


@dataclass
class Case:
    """One image with its truth, ready for every method."""

    set_name: str
    image: str
    micrograph: Any  # morpho.io.Micrograph
    config: AnalysisConfig
    peer_image: np.ndarray  # bright grains, rows of the truth
    truth: np.ndarray  # int32, 1..n
    pixel_size_m: float
    truth_stats: dict = field(default_factory=dict)
    variant: str = "noisy"  # the rendering of the clean-image matrix (``--sets clean``)
    ignore: np.ndarray | None = None  # "don't care" pixels: found grains mostly in them are not scored


def _sequential(labels: np.ndarray) -> np.ndarray:
    lab = np.where(np.asarray(labels) > 0, labels, 0).astype(np.int64, copy=False)
    return relabel_sequential(lab)[0].astype(np.int32, copy=False)


def _fit_shape(labels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Crop or zero-pad a label image to `shape` (rows of the truth)."""
    out = np.zeros(shape, dtype=np.int32)
    r, c = min(shape[0], labels.shape[0]), min(shape[1], labels.shape[1])
    out[:r, :c] = labels[:r, :c]
    return _sequential(out)


def _graph_stats(labels: np.ndarray, pixel_size_m: float) -> dict:
    """SKIZ graph and size modes of a label image by morpho's own definitions."""
    out: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grains = measure_grains(labels, pixel_size_m=pixel_size_m)
        if len(grains) == 0:
            return {**out, "z": float("nan"), "gap_nm": float("nan"), "modes": [], "n_interior": 0}
        graph = build_graph(labels, grains, pixel_size_m=pixel_size_m)
        out["z"] = float(graph.summary["mean_coordination"])
        out["gap_nm"] = float(graph.summary["median_gap_m"]) * 1e9
        interior = graph.grains.loc[~graph.grains["touches_border"].to_numpy(dtype=bool), "diameter_m"].to_numpy()
        out["n_interior"] = int(interior.size)
        try:
            out["modes"] = size_distribution(interior).to_summary()["modes"]
        except Exception as exc:
            out["modes"] = []
            out["modes_error"] = f"{type(exc).__name__}: {exc}"[:160]
    return out


def _mode_errors(found: list[dict], true: list[dict]) -> list[float]:
    """Relative error of each true mode's diameter against the nearest found mode (log distance)."""
    if not found:
        return [float("nan")] * len(true)
    errs = []
    for t in true:
        best = min(found, key=lambda f: abs(np.log(f["diameter_m"] / t["diameter_m"])))
        errs.append(best["diameter_m"] / t["diameter_m"] - 1.0)
    return errs


def _drop_ignored(lab: np.ndarray, ignore: np.ndarray) -> np.ndarray:
    """`lab` without the grains that lie more than half in `ignore` (then renumbered 1..n)."""
    n = int(lab.max())
    inside = np.bincount(lab[ignore], minlength=n + 1)
    total = np.bincount(lab.ravel(), minlength=n + 1)
    drop = inside * 2 > total
    drop[0] = False
    return _sequential(np.where(drop[lab], 0, lab))


def score(labels: np.ndarray, case: Case) -> dict:
    """Every figure of one method on one image."""
    lab = _fit_shape(labels, case.truth.shape)
    if case.ignore is not None:
        lab = _drop_ignored(lab, case.ignore)
    m = match_labels(case.truth, lab)
    g = _graph_stats(lab, case.pixel_size_m)
    t = case.truth_stats
    mode_err = _mode_errors(g["modes"], t["modes"])
    finite = [abs(e) for e in mode_err if np.isfinite(e)]
    # recall of true grains of 3-10 px equivalent radius (the issue's small-grain target is r >= 3 px)
    radius = np.sqrt(np.bincount(case.truth.ravel())[1:] / np.pi)
    in_band = np.flatnonzero((radius >= 3.0) & (radius < 10.0)) + 1
    recall_3_10 = float(np.isin(in_band, m.true_ids).mean()) if in_band.size else float("nan")
    return {
        "n_found": m.n_pred,
        "f1": m.f1,
        "recall_3_10px": recall_3_10,
        "precision": m.precision,
        "recall": m.recall,
        "mean_iou": m.mean_iou,
        "recall_small": m.recall_small,
        "recall_large": m.recall_large,
        "count_error": m.n_pred / m.n_true - 1.0 if m.n_true else float("nan"),
        "modes_found_nm": [round(md["diameter_m"] * 1e9, 1) for md in g["modes"]],
        "mode_rel_errors": mode_err,
        "mode_error_worst": max(finite) if len(finite) == len(mode_err) and finite else float("nan"),
        "z_found": g["z"],
        "z_error": g["z"] - t["z"],
        "gap_found_nm": g["gap_nm"],
        **({"modes_error": g["modes_error"]} if "modes_error" in g else {}),
    }


def _truth_stats(case: Case) -> dict:
    g = _graph_stats(case.truth, case.pixel_size_m)
    return {"n_true": int(case.truth.max()), "z": g["z"], "gap_nm": g["gap_nm"], "modes": g["modes"],
            "modes_nm": [round(md["diameter_m"] * 1e9, 1) for md in g["modes"]]}


def _timed(fn: Callable[[], Any], repeats: int) -> tuple[Any, list[float]]:
    """Run `fn` up to `repeats` times (fewer once TIME_BUDGET_S is spent, at least once)."""
    times, result = [], None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        if sum(times) >= TIME_BUDGET_S:
            break
    return result, times


# ---------------------------------------------------------------------------------------------
# Image sets
# ---------------------------------------------------------------------------------------------


def _invert(image: np.ndarray) -> np.ndarray:
    top = np.iinfo(image.dtype).max if image.dtype.kind in "ui" else float(image.max() + image.min())
    return (top - image).astype(image.dtype)


def synthetic_sets(args: argparse.Namespace) -> list[tuple[str, str, dict, list[int]]]:
    """(set name, preset, make_sem_micrograph options, seeds) for each synthetic set."""
    names = list(PRESETS)
    if args.presets:
        wanted = [p.strip() for p in args.presets.split(",") if p.strip()]
        unknown = [p for p in wanted if p not in names and p not in ("inox-bimodal-16bit", "inox-bimodal-dark")]
        if unknown:
            msg = f"unknown preset(s) {unknown}; available now: {names}"
            raise SystemExit(msg)
    else:
        wanted = [*names, "inox-bimodal-16bit", "inox-bimodal-dark"]
    out = []
    for name in wanted:
        seeds = args.seeds if (name == "inox-bimodal" or args.all_seeds) else args.seeds[:1]
        if name == "inox-bimodal-16bit":
            out.append(("inox-bimodal 16-bit", "inox-bimodal", {"bit_depth": 16}, seeds))
        elif name == "inox-bimodal-dark":
            out.append(("inox-bimodal dark grains", "inox-bimodal", {"dark_grains": True}, seeds))
        else:
            out.append((name, name, {}, seeds))
    return out


def synthetic_case(set_name: str, preset: str, options: dict, seed: int, size: int, workdir: Path) -> Case:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sample = make_sem_micrograph((size, size), preset=preset, rng=seed, **options)
    path = workdir / f"synth_{preset}_{seed}.tif"
    write_synthetic(sample, path, vendor="fei", overwrite=True)
    m = read_micrograph(path)
    dark = bool(options.get("dark_grains", False))
    cfg = AnalysisConfig().replace("segment", dark_grains=True) if dark else AnalysisConfig()
    pixels = np.asarray(m.analysis_pixels)
    rows = pixels.shape[0]
    truth = _sequential(sample.labels[:rows])
    bits = options.get("bit_depth", 8)
    desc = f"{preset} seed {seed} ({size}x{size}, {sample.pixel_size_m * 1e9:g} nm px" + (
        f", {bits}-bit" if bits != 8 else "") + (", dark grains" if dark else "") + ")"
    return Case(set_name=set_name, image=desc, micrograph=m, config=cfg,
                peer_image=_invert(pixels) if dark else pixels, truth=truth, pixel_size_m=sample.pixel_size_m)


def bam_case(img_path: Path) -> Case:
    mask = tifffile.imread(BAM / "masks" / f"{img_path.stem}_m.tif")
    if mask.ndim == 3:
        mask = mask[..., 0]
    truth = skmeasure.label(mask[:BAM_ROWS] > 127, connectivity=1)
    areas = np.bincount(truth.ravel())
    small = areas < 10
    small[0] = False
    truth[small[truth]] = 0
    m = read_micrograph(img_path)
    raw = tifffile.imread(img_path)
    raw = raw[..., 0] if raw.ndim == 3 else raw
    return Case(set_name="BAM TiO2 (real SEM)", image=img_path.stem, micrograph=m, config=AnalysisConfig(),
                peer_image=np.ascontiguousarray(raw[:BAM_ROWS]), truth=_sequential(truth), pixel_size_m=m.pixel_size_m)


#: The clean-image matrix (issue 18, ``--sets clean``): each preset as a careful user records or
#: exports it.  "noiseless": 10^5 x the preset's dose (shot noise under one 8-bit grey level);
#: "2x down"/"4x down": the noisy image averaged over 2 x 2 / 4 x 4 pixels (cv2.INTER_AREA), the
#: truth sampled at the block centres; "JPEG qNN": the noisy image through OpenCV's JPEG codec;
#: "blurred": the preset's PSF doubled; "16-bit noiseless"; "denoised": non-local means
#: (cv2.fastNlMeansDenoising, h = 2 x the measured noise).  BAM images: raw, denoised (NLM, and a
#: 3 x 3 median) and 2x down.
CLEAN_VARIANTS = ("noiseless", "2x down", "4x down", "JPEG q50", "JPEG q75", "JPEG q95", "blurred",
                  "16-bit noiseless", "denoised")
BAM_VARIANTS = ("raw", "denoised NLM", "denoised median", "2x down")
CLEAN_DOSE_FACTOR = 1e5
#: Shaded 3-D particles in the clean-image matrix (one set per ``PARTICLE_KINDS``): as many as fit
#: of SHADED_PARTICLES drawn 40-800 px across, PSF 1 px, "noisy" at SHADED_DOSE counts per pixel.
SHADED_PARTICLES = 40
SHADED_DOSE = 30.0
SHADED_BLUR_PX = 1.0


def _size_cut_px(pixel_size_m: float) -> int:
    """morpho's documented default size cut in pixels (``segment.min_area_px``, ``min_diameter_m``)."""
    cfg = AnalysisConfig().segment
    return max(int(cfg.min_area_px), int(np.ceil(np.pi / 4.0 * (cfg.min_diameter_m / pixel_size_m) ** 2)))


def _downsample(image: np.ndarray, truth: np.ndarray, factor: int,
                pixel_size_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block-average `image` by `factor`; sample the truth at the block centres.

    A true grain whose area at the new pixel size (its full-resolution area / factor², not the
    count of block centres it happens to cover, which is noisy for grains of a few pixels)
    is under the default size cut there leaves the truth and its pixels become "don't care"
    (returned as the third array): it is below what any default analysis reports, by a
    documented rule (``min_area_px`` 9 at 4 nm/px is a 13 nm disc, above ``min_diameter_m``),
    and counting it as missed (or a method's grain there as false) would score the rule, not
    the segmentation.
    """
    rows, cols = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    small = cv2.resize(image[:rows, :cols].astype(np.float32), (cols // factor, rows // factor),
                       interpolation=cv2.INTER_AREA)
    small = np.rint(small).astype(image.dtype)
    full = _sequential(truth)
    labels = full[factor // 2 : rows : factor, factor // 2 : cols : factor]
    before = np.bincount(full.ravel(), minlength=int(full.max()) + 1)
    vanished = before / factor**2 < _size_cut_px(pixel_size_m * factor)
    vanished[0] = False
    # don't care wherever a vanished grain covers any part of a block (block-centre sampling
    # alone marks a 10-px grain's one or two centres, while a method's grain there covers the
    # whole blurred spot), except on the pixels of grains that stay
    touched = cv2.resize(vanished[full[:rows, :cols]].astype(np.float32), (cols // factor, rows // factor),
                         interpolation=cv2.INTER_AREA) > 0
    ignore = vanished[labels] | (touched & (labels == 0))
    return small, _sequential(np.where(ignore, 0, labels)), ignore


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        msg = "JPEG encoding failed"
        raise RuntimeError(msg)
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)


def _nlm(image: np.ndarray) -> np.ndarray:
    from morpho.segment import estimate_noise_sigma

    sigma = estimate_noise_sigma(image.astype(np.float32))  # in grey levels of the 8-bit image
    return cv2.fastNlMeansDenoising(image, None, h=float(max(2.0 * sigma, 1.0)), templateWindowSize=7,
                                    searchWindowSize=21)


def _case_from_pixels(set_name: str, desc: str, variant: str, image: np.ndarray, truth: np.ndarray,
                      pixel_size_m: float, workdir: Path, ignore: np.ndarray | None = None) -> Case:
    """Write `image` as an FEI TIFF with its pixel size, read it back: morpho's whole input path."""
    from morpho.vendor_tiff import write_sem_tiff

    path = workdir / "variant.tif"
    write_sem_tiff(path, image, vendor="fei", pixel_size_m=pixel_size_m)
    m = read_micrograph(path)
    pixels = np.asarray(m.analysis_pixels)
    truth = _fit_shape(truth, pixels.shape)
    return Case(set_name=set_name, image=desc, micrograph=m, config=AnalysisConfig(),
                peer_image=pixels if pixels.dtype == np.uint8 else (pixels // 257).astype(np.uint8),
                truth=truth, pixel_size_m=pixel_size_m, variant=variant,
                ignore=None if ignore is None else _fit_shape(ignore.astype(np.int32), pixels.shape) > 0)


def _shaded_sample(kind: str, variant: str, seed: int, size: int):
    """Shaded 3-D particles (``morpho.synthetic.make_shaded_particles``) 40-800 px across."""
    noiseless = variant in ("noiseless", "16-bit noiseless")
    return make_shaded_particles((size, size), kind=kind, diameter_px=(40.0, min(800.0, 0.6 * size)),
                                 n_particles=SHADED_PARTICLES, dose_counts_per_px=None if noiseless else SHADED_DOSE,
                                 blur_sigma_px=SHADED_BLUR_PX * (2.0 if variant == "blurred" else 1.0),
                                 bit_depth=16 if variant == "16-bit noiseless" else 8, rng=seed)


def clean_case(preset: str, variant: str, seed: int, size: int, workdir: Path) -> Case:
    if preset.startswith("shaded-"):
        sample = _shaded_sample(preset.removeprefix("shaded-"), variant, seed, size)
    else:
        base = PRESETS[preset]
        params: dict[str, float] = {}
        bits = 8
        if variant in ("noiseless", "16-bit noiseless"):
            params["dose_counts_per_px"] = base["dose_counts_per_px"] * CLEAN_DOSE_FACTOR
            bits = 16 if variant.startswith("16") else 8
        elif variant == "blurred":
            params["blur_sigma_px"] = 2.0 * base["blur_sigma_px"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sample = make_sem_micrograph((size, size), preset=preset, rng=seed, params=params, bit_depth=bits,
                                         databar=False)
    image, truth, px = sample.image, sample.labels, sample.pixel_size_m
    ignore = None
    if variant.endswith("x down"):
        factor = int(variant[0])
        image, truth, ignore = _downsample(image, truth, factor, px)
        px *= factor
    elif variant.startswith("JPEG"):
        image = _jpeg(image, int(variant.split("q")[1]))
    elif variant == "denoised":
        image = _nlm(image)
    desc = f"{preset} seed {seed}, {variant} ({image.shape[1]}x{image.shape[0]}, {px * 1e9:g} nm px)"
    return _case_from_pixels(f"clean: {preset}", desc, variant, image, truth, px, workdir, ignore)


def bam_variant_case(img_path: Path, variant: str, workdir: Path) -> Case:
    base = bam_case(img_path)
    if variant == "raw":
        return Case(**{**base.__dict__, "set_name": "clean: BAM TiO2", "image": f"{img_path.stem} raw",
                       "variant": variant})
    image, truth, px = base.peer_image, base.truth, base.pixel_size_m
    ignore = None
    if variant == "denoised NLM":
        image = _nlm(image)
    elif variant == "denoised median":
        image = cv2.medianBlur(image, 3)
    elif variant == "2x down":
        image, truth, ignore = _downsample(image, truth, 2, px)
        px *= 2
    return _case_from_pixels("clean: BAM TiO2", f"{img_path.stem} {variant}", variant, image, truth, px, workdir,
                             ignore)


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


def prepare_peers(chosen: list[ModuleType], workdir: Path) -> dict[str, dict]:
    """Availability, version and a smoke run (which also warms JIT caches) of each chosen peer."""
    info: dict[str, dict] = {}
    smoke = make_sem_micrograph((192, 192), pixel_size_m=8e-9, rng=1).image
    for peer in chosen:
        entry = {"description": peer.DESCRIPTION, "available": False, "version": "", "note": ""}
        try:
            reason = peer.available()
            if reason is None:
                entry["version"] = peer.version_string()
                peer.segment(smoke, workdir=workdir)
                entry["available"] = True
            else:
                entry["note"] = reason
        except Exception as exc:
            entry["note"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        info[peer.NAME] = entry
    return info


def run_case(case: Case, chosen: list[ModuleType], peer_info: dict, repeats: int, workdir: Path, log) -> dict:
    case.truth_stats = _truth_stats(case)
    record: dict[str, Any] = {"image": case.image, "variant": case.variant, "n_true": case.truth_stats["n_true"],
                              "truth": {k: v for k, v in case.truth_stats.items() if k != "modes"},
                              "pixel_size_nm": case.pixel_size_m * 1e9, "shape_px": list(case.truth.shape),
                              "timing_runs": repeats, "methods": {}}
    # morpho with its defaults, then with the region-merging method
    for name, config in ((MORPHO, case.config), (MORPHO_REGIONS, case.config.replace("segment", method="regions"))):
        try:
            result, times = _timed(lambda c=config: analyze(case.micrograph, c), repeats)
            entry = score(result.segmentation.labels, case)
            entry.update(wall_s=float(np.median(times)), wall_runs_s=times, segment_s=result.timing_s.get("segment"),
                         databar_rows=case.micrograph.databar_rows,
                         detection_limit_px=result.summary["segmentation"]["detection_limit_radius_px"])
            log(f"    {name:<20} F1 {entry['f1']:.3f}  {entry['wall_s']:.1f} s")
        except Exception as exc:  # a morpho failure is a result too; the other methods still run
            entry = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0][:300]}
            log(f"    {name:<20} FAILED {entry['error']}")
        record["methods"][name] = entry
    for peer in chosen:
        if not peer_info[peer.NAME]["available"]:
            continue
        try:
            labels, times = _timed(lambda p=peer: p.segment(case.peer_image, workdir=workdir), repeats)
            entry = score(labels, case)
            entry.update(wall_s=float(np.median(times)), wall_runs_s=times)
            internal = getattr(peer.segment, "last_internal_s", None)
            if internal is not None and np.isfinite(internal):
                entry["internal_s"] = internal
            log(f"    {peer.NAME:<20} F1 {entry['f1']:.3f}  {entry['wall_s']:.1f} s")
        except Exception as exc:
            entry = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0][:300]}
            log(f"    {peer.NAME:<20} FAILED {entry['error']}")
            if os.environ.get("MORPHO_BENCH_DEBUG"):
                traceback.print_exc()
        record["methods"][peer.NAME] = entry
    return record


def summarize(images: list[dict], methods: list[str]) -> dict[str, dict]:
    """Median over the set's images of each figure, per method."""
    keys = ["f1", "mean_iou", "recall_small", "recall_3_10px", "recall_large", "count_error", "mode_error_worst",
            "z_error", "wall_s"]
    out: dict[str, dict] = {}
    for name in methods:
        rows = [im["methods"].get(name) for im in images]
        ok = [r for r in rows if r and "error" not in r]
        if not ok:
            errs = [r["error"] for r in rows if r and "error" in r]
            out[name] = {"error": errs[0] if errs else "not run"}
            continue
        s = {}
        for k in keys:
            vals = np.array([r[k] for r in ok], dtype=float)
            vals = vals[np.isfinite(vals)]
            s[k] = float(np.median(vals)) if vals.size else float("nan")
        s["n_images"] = len(ok)
        s["n_failed"] = len(rows) - len(ok)
        out[name] = s
    return out


# ---------------------------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------------------------


def _f(x: float, fmt: str) -> str:
    return "—" if x is None or not np.isfinite(x) else format(x, fmt)


def print_set_table(set_name: str, images: list[dict], summary: dict, methods: list[str], peer_info: dict) -> None:
    n = len(images)
    first = images[0]
    print(f"\n### {set_name} — {n} image{'s' if n > 1 else ''}, {first['shape_px'][0]}x{first['shape_px'][1]} px, "
          f"{first['pixel_size_nm']:.4g} nm px; true grains {', '.join(str(im['n_true']) for im in images)}"
          + (" (medians over the images)" if n > 1 else ""))
    print("| method | F1 | mean IoU | recall <10 px | recall ≥10 px | count err | mode err (worst) | ⟨z⟩ err "
          "| time (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in methods:
        s = summary.get(name)
        if s is None:
            note = peer_info.get(name, {}).get("note", "not run")
            print(f"| {name} | skipped: {note} | | | | | | | |")
            continue
        if "error" in s:
            print(f"| {name} | failed: {s['error'][:90]} | | | | | | | |")
            continue
        print(f"| {name} | {_f(s['f1'], '.3f')} | {_f(s['mean_iou'], '.3f')} | {_f(s['recall_small'], '.3f')} | "
              f"{_f(s['recall_large'], '.3f')} | {_f(s['count_error'], '+.0%')} | {_f(s['mode_error_worst'], '.0%')} | "
              f"{_f(s['z_error'], '+.2f')} | {_f(s['wall_s'], '.1f')} |")


def print_morpho_detail(images: list[dict]) -> None:
    print("\n### morpho on the synthetic images (issue-3 targets: F1 >= 0.98 separated grains, >= 0.90 touching/hard; "
          "recall >= 0.90 for radius >= 3 px; modes within 10 %; <z> within 0.3)")
    print("| image | true | found | F1 | mean IoU | recall <10 px | recall 3-10 px | stated limit (px) | recall ≥10 px "
          "| modes true (nm) | modes found (nm) | mode err | ⟨z⟩ true / found | median gap true / found (nm) "
          "| analyze (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for im in images:
        r = im["methods"][MORPHO]
        t = im["truth"]
        if "error" in r:
            print(f"| {im['image']} | {im['n_true']} | failed: {r['error'][:90]} |" + " |" * 12)
            continue
        errs = "/".join(_f(e, "+.0%") for e in r["mode_rel_errors"])
        print(f"| {im['image']} | {im['n_true']} | {r['n_found']} | {_f(r['f1'], '.3f')} | "
              f"{_f(r['mean_iou'], '.3f')} | {_f(r['recall_small'], '.3f')} | {_f(r['recall_3_10px'], '.3f')} | "
              f"{_f(r.get('detection_limit_px'), 'g')} | {_f(r['recall_large'], '.3f')} | "
              f"{', '.join(map(str, t['modes_nm']))} | {', '.join(map(str, r['modes_found_nm']))} | {errs} | "
              f"{_f(t['z'], '.2f')} / {_f(r['z_found'], '.2f')} | "
              f"{_f(t['gap_nm'], '.1f')} / {_f(r['gap_found_nm'], '.1f')} | {_f(r['wall_s'], '.1f')} |")


def print_bam_images(images: list[dict], methods: list[str]) -> None:
    print("\n### BAM TiO2 per image: object F1 at IoU ≥ 0.5 (morpho: found / mean IoU)")
    print("| image | true | morpho found | morpho IoU | " + " | ".join(f"F1 {m}" for m in methods) + " |")
    print("|---|---|---|---|" + "---|" * len(methods))
    cols: dict[str, list[float]] = {m: [] for m in methods}
    for im in images:
        r = im["methods"][MORPHO]
        cells = []
        for m in methods:
            e = im["methods"].get(m)
            v = e.get("f1", float("nan")) if e else float("nan")
            cols[m].append(v)
            cells.append(_f(v, ".3f"))
        print(f"| {im['image']} | {im['n_true']} | {r.get('n_found', '—')} | {_f(r.get('mean_iou'), '.3f')} | "
              + " | ".join(cells) + " |")
    med = [_f(float(np.nanmedian(v)) if np.isfinite(v).any() else float("nan"), ".3f") for v in cols.values()]
    print("| **median** | | | | " + " | ".join(f"**{x}**" for x in med) + " |")


def metadata_consistency(log) -> list[dict]:
    """Every readable vendor sample of ``METADATA`` segmented raw, NLM-denoised and 3 x 3
    median-denoised (morpho's defaults): grain count, median equivalent diameter and the
    warnings.  There is no truth: a denoised image should give about the grains of the raw one
    and should not trigger the over-splitting warning where the raw one does not."""
    from morpho.errors import MorphoError
    from morpho.segment import segment

    rows: list[dict] = []
    for path in sorted(METADATA.rglob("*.tif")) if METADATA.is_dir() else []:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = read_micrograph(path)
            raw = np.asarray(m.analysis_pixels)
            px = float(m.pixel_size_m)
        except (MorphoError, ValueError, TypeError) as exc:
            rows.append({"image": str(path.relative_to(METADATA)), "skipped": str(exc).splitlines()[0][:120]})
            continue
        img8 = raw if raw.dtype == np.uint8 else cv2.normalize(raw.astype(np.float32), None, 0, 255,
                                                               cv2.NORM_MINMAX).astype(np.uint8)
        entry: dict[str, Any] = {"image": str(path.relative_to(METADATA)), "shape_px": list(raw.shape),
                                 "pixel_size_nm": px * 1e9}
        for variant, pixels in zip(METADATA_VARIANTS, (raw, _nlm(img8), cv2.medianBlur(img8, 3)), strict=True):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    labels = segment(pixels, pixel_size_m=px).labels
                except MorphoError as exc:
                    entry[variant] = {"error": str(exc).splitlines()[0][:120]}
                    continue
            area = np.bincount(labels.ravel())[1:]
            area = area[area > 0]
            shattered = any("splitting cut" in str(w.message) for w in caught)
            entry[variant] = {"n_grains": int(area.size), "shattered_warning": shattered,
                              "median_diameter_nm": float(2 * np.sqrt(np.median(area) / np.pi) * px * 1e9)
                              if area.size else float("nan")}
        log(f"    metadata {entry['image']}: " + ", ".join(
            f"{v} {entry[v].get('n_grains', entry[v].get('error'))}" for v in METADATA_VARIANTS))
        rows.append(entry)
    return rows


def print_metadata_consistency(rows: list[dict]) -> None:
    if not rows:
        return
    print("\n### Vendor samples without truth, raw and denoised: grains found (median diameter, nm; "
          "! = over-splitting warning)")
    print("| image | px (nm) | " + " | ".join(METADATA_VARIANTS) + " |")
    print("|---|---|" + "---|" * len(METADATA_VARIANTS))
    for r in rows:
        if "skipped" in r:
            print(f"| {r['image']} | — | skipped: {r['skipped']} |  |  |")
            continue
        cells = []
        for v in METADATA_VARIANTS:
            e = r[v]
            cells.append(e["error"] if "error" in e else
                         f"{e['n_grains']} ({e['median_diameter_nm']:.3g}){' !' if e['shattered_warning'] else ''}")
        print(f"| {r['image']} | {r['pixel_size_nm']:.3g} | " + " | ".join(cells) + " |")


def print_clean_matrix(report: dict) -> None:
    """One row per preset, one column per rendering: morpho's object F1 (issue 18's matrix)."""
    rows = {name: data["images"] for name, data in report["sets"].items() if name.startswith("clean: ")}
    if not rows:
        return
    synth = [n for n in rows if n != "clean: BAM TiO2"]
    if synth:
        cols = ["noisy", *CLEAN_VARIANTS]
        print("\n### Clean-image matrix: morpho's object F1 by rendering (default settings; worst − noisy in the "
              "last column)")
        print("| preset | " + " | ".join(cols) + " | worst − noisy |")
        print("|---|" + "---|" * (len(cols) + 1))
        for name in synth:
            f1 = {im["variant"]: im["methods"][MORPHO].get("f1", float("nan")) for im in rows[name]}
            worst = min(f1.get(c, np.inf) for c in cols[1:]) - f1.get("noisy", np.nan)
            print(f"| {name[7:]} | " + " | ".join(_f(f1.get(c, float("nan")), ".3f") for c in cols)
                  + f" | {_f(worst, '+.3f')} |")
    if "clean: BAM TiO2" in rows:
        print("\n### BAM TiO2 raw, denoised and downsampled: morpho's object F1")
        print("| image | " + " | ".join(BAM_VARIANTS) + " |")
        print("|---|" + "---|" * len(BAM_VARIANTS))
        by_image: dict[str, dict[str, float]] = {}
        for im in rows["clean: BAM TiO2"]:
            stem = im["image"].removesuffix(f" {im['variant']}")
            by_image.setdefault(stem, {})[im["variant"]] = im["methods"][MORPHO].get("f1", float("nan"))
        for stem, f1 in by_image.items():
            print(f"| {stem} | " + " | ".join(_f(f1.get(v, float("nan")), ".3f") for v in BAM_VARIANTS) + " |")
        meds = [float(np.nanmedian([f[v] for f in by_image.values() if v in f])) for v in BAM_VARIANTS]
        print("| **median** | " + " | ".join(f"**{_f(m, '.3f')}**" for m in meds) + " |")


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 seed, 1024x1024, 1 timing run")
    parser.add_argument("--sets", default="synthetic,bam",
                        help="comma-separated: synthetic, bam, clean (the clean-image matrix: every preset "
                        "noiseless, downsampled, JPEG-compressed, blurred, 16-bit, denoised; BAM denoised)")
    parser.add_argument("--peers", default=None, help="comma-separated peer names or prefixes (default all; 'none')")
    parser.add_argument("--presets", default=None, help="comma-separated synthetic sets (default: every preset + "
                        "inox-bimodal-16bit, inox-bimodal-dark)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    parser.add_argument("--all-seeds", action="store_true", help="every seed for every synthetic set")
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=None, help="timing runs on each set's first image (default 3)")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "accuracy.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds = args.seeds[:1]
        args.size = 1024 if args.size == 2048 else args.size
        args.repeats = 1 if args.repeats is None else args.repeats
    repeats = 3 if args.repeats is None else args.repeats
    sets = {s.strip().lower() for s in args.sets.split(",") if s.strip()}
    unknown = sets - {"synthetic", "bam", "clean"}
    if unknown:
        parser.error(f"unknown set(s) {sorted(unknown)}; use synthetic, bam, clean")
    try:
        chosen = peer_registry.select(args.peers)
    except ValueError as exc:
        parser.error(str(exc))

    # A SIGTERM (a stopped make, a timeout) unwinds like Ctrl-C, so temporary folders are removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    t_start = time.perf_counter()
    started = _dt.datetime.now(_dt.UTC)
    report: dict[str, Any] = {
        "meta": {
            "command": " ".join([Path(sys.executable).name, *sys.argv]) if argv is None else " ".join(argv),
            "started_utc": started.isoformat(timespec="seconds"),
            "morpho_version": morpho.__version__,
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "size_px": args.size, "seeds": args.seeds, "repeats": repeats,
        },
        "peers": {}, "sets": {},
    }
    methods = [MORPHO, MORPHO_REGIONS] + [p.NAME for p in chosen]
    with tempfile.TemporaryDirectory(prefix="morpho-bench-") as tmp:
        work = Path(tmp)
        log("checking peers ...")
        peer_info = prepare_peers(chosen, work)
        report["peers"] = peer_info
        print("Peers (installed by bench/peers/install.sh from Debian apt / PyPI):")
        for name, e in peer_info.items():
            state = e["version"] if e["available"] else f"SKIPPED — {e['note']}"
            print(f"- {name}: {state}")
        cases: list[tuple[str, Callable[[], Case]]] = []
        if "synthetic" in sets:
            for set_name, preset, options, seeds in synthetic_sets(args):
                for seed in seeds:
                    cases.append((set_name, lambda s=set_name, p=preset, o=options, sd=seed:
                                  synthetic_case(s, p, o, sd, args.size, work)))
        if "clean" in sets:
            clean_presets = ([p.strip() for p in args.presets.split(",")] if args.presets
                             else [p for p in PRESETS if p != "lowdose"])
            if not args.presets:
                clean_presets += [f"shaded-{kind}" for kind in PARTICLE_KINDS]
            for preset in clean_presets:
                if preset.startswith("shaded-"):
                    cases.append((f"clean: {preset}", lambda p=preset: clean_case(
                        p, "noisy", args.seeds[0], args.size, work)))
                else:
                    cases.append((f"clean: {preset}", lambda p=preset: synthetic_case(
                        f"clean: {p}", p, {}, args.seeds[0], args.size, work)))
                for variant in CLEAN_VARIANTS:
                    cases.append((f"clean: {preset}", lambda p=preset, v=variant: clean_case(
                        p, v, args.seeds[0], args.size, work)))
            if BAM.is_dir():
                for img_path in sorted((BAM / "images").glob("*.tif")):
                    for variant in BAM_VARIANTS:
                        cases.append(("clean: BAM TiO2", lambda p=img_path, v=variant: bam_variant_case(p, v, work)))
        if "bam" in sets:
            if BAM.is_dir():
                for img_path in sorted((BAM / "images").glob("*.tif")):
                    cases.append(("BAM TiO2 (real SEM)", lambda p=img_path: bam_case(p)))
            else:
                report["meta"]["bam_note"] = f"{BAM} is absent: real-image set skipped"
        by_set: dict[str, list[dict]] = {}
        for set_name, make in cases:
            case = make()
            first = set_name not in by_set
            log(f"[{time.perf_counter() - t_start:6.0f} s] {set_name}: {case.image}")
            record = run_case(case, chosen, peer_info, repeats if first else 1, work, log)
            by_set.setdefault(set_name, []).append(record)
        if "clean" in sets:
            log(f"[{time.perf_counter() - t_start:6.0f} s] vendor samples without truth, raw and denoised")
            report["metadata_consistency"] = metadata_consistency(log)
    for set_name, images in by_set.items():
        ran = [m for m in methods if m in (MORPHO, MORPHO_REGIONS) or peer_info[m]["available"]]
        report["sets"][set_name] = {"images": images, "summary": summarize(images, ran)}
    # Tables
    print(f"\nAccuracy against ground truth — morpho {morpho.__version__}, default settings; wall time = median "
          f"of up to {repeats} run(s) (runs stop after {TIME_BUDGET_S:g} s) on each set's first image")
    for set_name, data in report["sets"].items():
        print_set_table(set_name, data["images"], data["summary"], methods, peer_info)
    synth_images = [im for name, d in report["sets"].items() if not name.startswith(("BAM", "clean: "))
                    for im in d["images"]]
    if synth_images:
        print_morpho_detail(synth_images)
    if "BAM TiO2 (real SEM)" in report["sets"]:
        print_bam_images(report["sets"]["BAM TiO2 (real SEM)"]["images"], methods)
    elif "bam" in sets:
        print(f"\n{report['meta'].get('bam_note', 'BAM set skipped')}")
    print_clean_matrix(report)
    print_metadata_consistency(report.get("metadata_consistency", []))
    total = time.perf_counter() - t_start
    report["meta"]["total_s"] = total
    print(f"\ntotal {total / 60:.1f} min")
    out = write_report(report, args.json)
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
