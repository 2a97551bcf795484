"""Films near the percolation threshold (issue 19): morpho against the truth of site-percolation
micrographs made by its own generator (``morpho.synthetic.make_site_percolation``).

1. The micrograph of the issue (3-px sites at p_c = 0.5927, grains 200 and matrix 50 grey levels,
   contrast-to-noise 37.5, 2100 x 2100 px, FEI TIFF) through ``morpho analyze``: the percolation
   figures of the truth and of morpho side by side (the README's table).
2. The coverage grid: sites of 3, 4 and 6 px, p = 0.45, p_c and 0.75, contrast-to-noise 3, 5, 10
   and 40, 8 and 16 bits, through ``segment``: coverage error and spanning against the truth.

Usage: ``python bench/site_films.py [--size 768] [--seeds 1 2] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from morpho.export import write_synthetic
from morpho.percolation import percolation_analysis
from morpho.segment import segment
from morpho.synthetic import SITE_PC, make_site_percolation

KEYS = (
    ("coverage p", "coverage_p", "{:.4f}"),
    ("clusters (4-connected)", "n_clusters", "{:d}"),
    ("largest cluster, share of the metal", "largest_cluster_fraction", "{:.3f}"),
    ("spans left-right / top-bottom", None, "{}"),
    ("sandbox dimension D", "fractal_dimension_sandbox", "{:.3f}"),
    ("correlation length xi_p (nm)", "correlation_length_m", "{:.0f}"),
    ("verdict", "verdict", "{}"),
)


def _cell(summary: dict, key: str | None, fmt: str) -> str:
    if key is None:
        return f"{'yes' if summary['spans_x'] else 'no'} / {'yes' if summary['spans_y'] else 'no'}"
    value = summary.get(key)
    if value is None:
        return "—"
    if key.endswith("_m"):
        value = value * 1e9
    return fmt.format(value)


def issue_micrograph(workdir: Path, seed: int) -> dict:
    """The issue's micrograph through the command line; the truth's and morpho's figures."""
    sample = make_site_percolation((2100, 2100), p=SITE_PC, site_px=3, contrast_to_noise=37.5, rng=seed)
    tif = workdir / f"site_pc_seed{seed}.tif"
    write_synthetic(sample, tif, overwrite=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "morpho", "analyze", str(tif), "-o", str(workdir / "out"), "-q",
                    "--overwrite", "--no-report"], check=True)
    wall = time.perf_counter() - t0
    found = json.loads((workdir / "out" / tif.stem / "summary.json").read_text())["percolation"]
    truth = percolation_analysis(sample.labels > 0, pixel_size_m=sample.pixel_size_m).to_dict()
    return {"seed": seed, "truth": truth, "morpho": found, "analyze_wall_s": round(wall, 1)}


def _grid_cell(args: tuple) -> dict:
    site, p, cnr, bits, seed, size = args
    sample = make_site_percolation((size, size), p=p, site_px=site, contrast_to_noise=cnr, bit_depth=bits, rng=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = segment(sample.image, pixel_size_m=sample.pixel_size_m).labels > 0
    truth = sample.labels > 0
    t = percolation_analysis(truth, pixel_size_m=sample.pixel_size_m)
    f = percolation_analysis(found, pixel_size_m=sample.pixel_size_m)
    return {"site_px": site, "p": p, "cnr": cnr, "bits": bits, "seed": seed,
            "coverage_true": float(truth.mean()), "coverage_error": float(found.mean() - truth.mean()),
            "spanning_equal": (t.spans_x, t.spans_y) == (f.spans_x, f.spans_y)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=768, help="side of the grid's images (px)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    out: dict = {"issue_micrograph": [], "grid": []}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            out["issue_micrograph"].append(issue_micrograph(Path(tmp), seed))
    for res in out["issue_micrograph"]:
        print(f"\nThe issue's micrograph, seed {res['seed']} (`morpho analyze`, {res['analyze_wall_s']} s):\n")
        print("| | truth | morpho |\n|---|---|---|")
        for label, key, fmt in KEYS:
            print(f"| {label} | {_cell(res['truth'], key, fmt)} | {_cell(res['morpho'], key, fmt)} |")
    jobs = [(site, p, cnr, bits, seed, args.size) for site in (3, 4, 6) for p in (0.45, SITE_PC, 0.75)
            for cnr in (3.0, 5.0, 10.0, 40.0) for bits in (8, 16) for seed in args.seeds]
    with ProcessPoolExecutor(args.workers) as ex:
        out["grid"] = list(ex.map(_grid_cell, jobs))
    errors = np.array([abs(c["coverage_error"]) for c in out["grid"]])
    print(f"\nCoverage grid ({len(errors)} images of {args.size} px): |error| median {np.median(errors):.4f}, "
          f"max {errors.max():.4f}; within 0.005: {np.mean(errors <= 0.005):.0%}; spanning as the truth's: "
          f"{np.mean([c['spanning_equal'] for c in out['grid']]):.0%}\n")
    print("| site (px) | contrast-to-noise | max abs coverage error (p = 0.45, p_c, 0.75; 8 and 16 bit) |")
    print("|---|---|---|")
    for site in (3, 4, 6):
        for cnr in (3.0, 5.0, 10.0, 40.0):
            cell = [abs(c["coverage_error"]) for c in out["grid"] if c["site_px"] == site and c["cnr"] == cnr]
            print(f"| {site} | {cnr:g} | {max(cell):.4f} |")
    bad = [c for c in out["grid"] if abs(c["coverage_error"]) > 0.005 or not c["spanning_equal"]]
    for c in bad:
        print("outside the acceptance:", c)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
