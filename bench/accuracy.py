"""Accuracy benchmark: morpho against ground truth (`make bench-accuracy`).

1. Synthetic In/InOx-like micrographs (``morpho.synthetic`` preset ``inox-bimodal``, 2 nm pixels,
   seeds other than the demo's), written as FEI TIFFs and read back through ``read_micrograph``
   so the whole ``analyze`` path runs.  Reported per image: object F1 at IoU >= 0.5, mean IoU of
   matched grains, recall of small (< 10 px radius) and large grains, count error, each size
   mode against the same mixture fit on the true grains, mean coordination against the SKIZ
   graph of the true labels, and median junction gap against the true one.
2. The real SEM images with hand-drawn masks in ``../shared/data/groundtruth/bam_tio2/``
   (skipped when absent), truth built by the recipe of ``SOURCES.md``; reported: object F1 per
   image for morpho and, in the same run, for the scikit-image gallery recipe (Otsu threshold +
   distance-transform watershed), the plain script a user would otherwise write.

Usage: ``python bench/accuracy.py [--seeds 11 12 13] [--size 2048] [--json bench/results/accuracy.json]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile
from scipy import ndimage as ndi
from skimage import filters, measure, segmentation
from skimage.feature import peak_local_max

from morpho.config import AnalysisConfig
from morpho.distribution import size_distribution
from morpho.evaluate import match_labels
from morpho.export import write_synthetic
from morpho.graph import build_graph
from morpho.io import read_micrograph
from morpho.measure import measure_grains
from morpho.pipeline import analyze
from morpho.synthetic import make_sem_micrograph

ROOT = Path(__file__).resolve().parents[1]
BAM = ROOT.parent / "shared" / "data" / "groundtruth" / "bam_tio2"


def _mode_errors(found: list[dict], true: list[dict]) -> list[float]:
    """Relative error of each true mode's diameter against the nearest found mode (log distance)."""
    if not found:
        return [float("nan")] * len(true)
    errs = []
    for t in true:
        best = min(found, key=lambda f: abs(np.log(f["diameter_m"] / t["diameter_m"])))
        errs.append(best["diameter_m"] / t["diameter_m"] - 1.0)
    return errs


def synthetic_case(seed: int, size: int, workdir: Path) -> dict:
    sample = make_sem_micrograph((size, size), preset="inox-bimodal", rng=seed)
    path = workdir / f"synth_{seed}.tif"
    write_synthetic(sample, path, vendor="fei", overwrite=True)
    m = read_micrograph(path)
    t0 = time.perf_counter()
    result = analyze(m, AnalysisConfig())
    wall = time.perf_counter() - t0
    rows = result.segmentation.labels.shape[0]
    truth = sample.labels[:rows]
    match = match_labels(truth, result.segmentation.labels)
    # Truth statistics with the same definitions as the measurement.
    px = sample.pixel_size_m
    true_grains = measure_grains(truth.astype(np.int32), pixel_size_m=px)
    true_graph = build_graph(truth.astype(np.int32), true_grains, pixel_size_m=px)
    true_interior = true_graph.grains.loc[~true_graph.grains.touches_border, "diameter_m"].to_numpy()
    true_dist = size_distribution(true_interior).to_summary()
    s = result.summary
    mode_err = _mode_errors(s["distribution"]["modes"], true_dist["modes"])
    return {
        "image": f"inox-bimodal seed {seed} ({size}x{size}, {px * 1e9:g} nm px)",
        "n_true": match.n_true,
        "n_found": match.n_pred,
        "f1": match.f1,
        "mean_iou": match.mean_iou,
        "recall_small": match.recall_small,
        "recall_large": match.recall_large,
        "count_error": match.n_pred / match.n_true - 1.0,
        "modes_true_nm": [round(md["diameter_m"] * 1e9, 1) for md in true_dist["modes"]],
        "modes_found_nm": [round(md["diameter_m"] * 1e9, 1) for md in s["distribution"]["modes"]],
        "mode_rel_errors": mode_err,
        "z_true": true_graph.summary["mean_coordination"],
        "z_found": s["graph"]["mean_coordination"],
        "gap_true_nm": true_graph.summary["median_gap_m"] * 1e9,
        "gap_found_nm": s["graph"]["median_gap_m"] * 1e9,
        "wall_s": wall,
    }


def _gallery_recipe(image: np.ndarray) -> np.ndarray:
    """The scikit-image gallery recipe: Otsu, distance transform, peak_local_max, watershed."""
    mask = image > filters.threshold_otsu(image)
    dist = ndi.distance_transform_edt(mask)
    coords = peak_local_max(dist, footprint=np.ones((3, 3)), labels=measure.label(mask))
    markers = np.zeros(dist.shape, dtype=np.int32)
    markers[tuple(coords.T)] = np.arange(1, len(coords) + 1)
    return segmentation.watershed(-dist, markers, mask=mask)


def bam_cases() -> list[dict]:
    out = []
    for img_path in sorted((BAM / "images").glob("*.tif")):
        mask = tifffile.imread(BAM / "masks" / f"{img_path.stem}_m.tif")
        if mask.ndim == 3:
            mask = mask[..., 0]
        truth = measure.label(mask[:712] > 127, connectivity=1)
        areas = np.bincount(truth.ravel())
        small = areas < 10
        small[0] = False
        truth[small[truth]] = 0
        m = read_micrograph(img_path)
        t0 = time.perf_counter()
        result = analyze(m, AnalysisConfig())
        wall = time.perf_counter() - t0
        lab = result.segmentation.labels
        rows = min(lab.shape[0], 712)
        ours = match_labels(truth[:rows], lab[:rows])
        raw = tifffile.imread(img_path)
        raw = raw[..., 0] if raw.ndim == 3 else raw
        t0 = time.perf_counter()
        gallery = _gallery_recipe(raw[:712])
        wall_g = time.perf_counter() - t0
        theirs = match_labels(truth, gallery)
        out.append({
            "image": img_path.name,
            "pixel_size_nm": m.pixel_size_m * 1e9,
            "databar_rows": m.databar_rows,
            "n_true": ours.n_true,
            "n_found": ours.n_pred,
            "f1": ours.f1,
            "mean_iou": ours.mean_iou,
            "f1_skimage_recipe": theirs.f1,
            "wall_s": wall,
            "wall_s_skimage_recipe": wall_g,
        })
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "accuracy.json"))
    args = parser.parse_args(argv)
    report: dict = {"synthetic": [], "bam_tio2": []}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            report["synthetic"].append(synthetic_case(seed, args.size, Path(tmp)))
    print("Synthetic In/InOx-like micrographs (targets: F1 >= 0.95, modes within 15 %, <z> within 0.3, gap within 25 %)")
    print(f"{'image':<42} {'true':>5} {'found':>5} {'F1':>6} {'IoU':>6} {'rec<10px':>8} {'rec>=10':>7} "
          f"{'modes true (nm)':>17} {'modes found (nm)':>17} {'mode err':>13} {'z true':>6} {'z found':>7} "
          f"{'gap true':>8} {'gap found':>9} {'time s':>6}")
    for r in report["synthetic"]:
        errs = "/".join(f"{e:+.0%}" for e in r["mode_rel_errors"])
        print(f"{r['image']:<42} {r['n_true']:>5} {r['n_found']:>5} {r['f1']:>6.3f} {r['mean_iou']:>6.3f} "
              f"{r['recall_small']:>8.3f} {r['recall_large']:>7.3f} {str(r['modes_true_nm']):>17} "
              f"{str(r['modes_found_nm']):>17} {errs:>13} {r['z_true']:>6.2f} {r['z_found']:>7.2f} "
              f"{r['gap_true_nm']:>8.2f} {r['gap_found_nm']:>9.2f} {r['wall_s']:>6.1f}")
    if BAM.is_dir():
        report["bam_tio2"] = bam_cases()
        print()
        print("Real SEM, hand-drawn masks (BAM TiO2; ImageJ Analyze Particles + Watershed scores a median 0.48)")
        print(f"{'image':<14} {'true':>5} {'found':>5} {'F1 morpho':>9} {'IoU':>6} {'F1 skimage recipe':>17} {'time s':>6}")
        for r in report["bam_tio2"]:
            print(f"{r['image']:<14} {r['n_true']:>5} {r['n_found']:>5} {r['f1']:>9.3f} {r['mean_iou']:>6.3f} "
                  f"{r['f1_skimage_recipe']:>17.3f} {r['wall_s']:>6.2f}")
        f1s = [r["f1"] for r in report["bam_tio2"]]
        g1s = [r["f1_skimage_recipe"] for r in report["bam_tio2"]]
        print(f"{'median':<14} {'':>5} {'':>5} {np.median(f1s):>9.3f} {'':>6} {np.median(g1s):>17.3f}")
    else:
        print("\n../shared/data/groundtruth/bam_tio2 is absent: real-image rows skipped")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=float) + "\n")
    print(f"\nwritten {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
