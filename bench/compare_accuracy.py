"""Side by side: the same accuracy benchmark run in several environments (issue 17).

Each argument is a JSON report written by ``bench/accuracy.py --json`` (one per environment: the
newest releases, the lower bounds of ``requirements/minimum.txt``, an older OpenCV, ...).  Prints
one Markdown row per image and method with every environment's figures, and the largest
difference of each figure across environments, so that a change of a dependency is judged by
what it does to morpho's *results*, not to the last bits of its pixels.

Usage::

    python bench/compare_accuracy.py newest=bench/results/a.json minimum=bench/results/b.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

FIGURES = ("n_found", "f1", "mean_iou", "mode_error_worst", "z_error", "gap_found_nm")


def _rows(report: dict) -> dict[tuple[str, str], dict]:
    out = {}
    for data in report["sets"].values():
        for image in data["images"]:
            for method, scores in image["methods"].items():
                if method.startswith("morpho"):
                    out[(image["image"], method)] = scores
    return out


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", help="NAME=path/to/accuracy.json")
    args = parser.parse_args(argv)
    names, reports = [], []
    for item in args.reports:
        name, _, path = item.partition("=")
        names.append(name if path else Path(name).stem)
        reports.append(_rows(json.loads(Path(path or name).read_text())))
    keys = [k for k in reports[0] if all(k in r for r in reports[1:])]
    print("| image | method | " + " | ".join(f"{f} ({'/'.join(names)})" for f in FIGURES) + " |")
    print("|---|---|" + "---|" * len(FIGURES))
    worst = dict.fromkeys(FIGURES, 0.0)
    for key in keys:
        cells = []
        for fig in FIGURES:
            values = [r[key].get(fig) for r in reports]
            cells.append(" / ".join(_fmt(v) for v in values))
            numbers = [float(v) for v in values if isinstance(v, (int, float))]
            if len(numbers) == len(values):
                worst[fig] = max(worst[fig], max(numbers) - min(numbers))
        print(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
    print()
    print("largest difference across environments: " + ", ".join(f"{f} {v:.4g}" for f, v in worst.items()))
    missing = sum(len(r) for r in reports) - len(keys) * len(reports)
    if missing:
        print(f"({missing} image/method rows are not in every report and were left out)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
