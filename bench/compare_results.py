"""How far apart are two result folders of the same micrograph? (issue 17)

Run ``morpho analyze`` (and ``morpho transport``) on the same image in two environments, e.g. the
newest releases (``.venv``) and the lower bounds (``.venv-min``), then::

    python bench/compare_results.py OUT_A/<stem> OUT_B/<stem>

Compares every numeric column of ``grains.csv`` and ``junctions.csv`` (row by row, when both
have the same grains), every number in ``summary.json`` (timings, dates and provenance left out)
and every table under ``transport/``, and prints the largest relative difference of each, with
the labels image's pixel agreement.  Exit status 0 always: it measures, it does not judge.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile

from morpho.io import read_csv_table

SKIP_SUMMARY = ("timing_s", "created_utc", "argv", "provenance", "input.path", "morpho_version")


def _leaves(obj: object, prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(_leaves(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.update(_leaves(v, f"{prefix}[{i}]"))
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        out[prefix] = float(obj)
    return out


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both = np.isfinite(a) & np.isfinite(b)
    if not both.any():
        return 0.0
    scale = np.maximum(np.abs(a[both]), np.abs(b[both]))
    diff = np.abs(a[both] - b[both])
    return float(np.max(np.where(scale > 0, diff / np.where(scale > 0, scale, 1), 0.0)))


def _tables(a: Path, b: Path, name: str) -> str:
    ta, tb = read_csv_table(a), read_csv_table(b)
    if ta.shape != tb.shape:
        return f"{name}: shapes differ {ta.shape} vs {tb.shape}"
    worst = {c: _rel(ta[c], tb[c]) for c in ta.columns if pd.api.types.is_numeric_dtype(ta[c]) and c in tb}
    top = sorted(worst.items(), key=lambda kv: -kv[1])[:3]
    return f"{name}: {len(ta)} rows, largest relative difference " + ", ".join(f"{c} {v:.2g}" for c, v in top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    la, lb = tifffile.imread(args.a / "labels.tif"), tifffile.imread(args.b / "labels.tif")
    print(f"labels.tif: {'identical' if np.array_equal(la, lb) else f'{np.mean(la != lb):.2e} of pixels differ'}")
    for name in ("grains.csv", "junctions.csv"):
        print(_tables(args.a / name, args.b / name, name))
    sa = _leaves(json.loads((args.a / "summary.json").read_text()))
    sb = _leaves(json.loads((args.b / "summary.json").read_text()))
    keys = [k for k in sa if k in sb and not k.startswith(SKIP_SUMMARY)]
    diffs = sorted(((k, _rel(np.array([sa[k]]), np.array([sb[k]]))) for k in keys), key=lambda kv: -kv[1])
    differing = [(k, v) for k, v in diffs if v > 0]
    print(f"summary.json: {len(keys)} numbers, {len(differing)} differ"
          + ("; largest " + ", ".join(f"{k} {v:.2g}" for k, v in differing[:5]) if differing else ""))
    for table in sorted((args.a / "transport").glob("*.csv")) if (args.a / "transport").is_dir() else []:
        other = args.b / "transport" / table.name
        if other.exists():
            print(_tables(table, other, f"transport/{table.name}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
