"""Strict JSON for the benchmark reports (shared by accuracy.py, speed.py and transport.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


def finite(obj: Any) -> Any:
    """NaN and infinities -> None, recursively, so that the JSON is strict."""
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return float(obj) if np.isfinite(obj) else None
    return obj


def json_default(obj: Any) -> Any:
    """NumPy scalars and arrays as plain JSON values; anything else as its str()."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def dumps(obj: Any, indent: int | None = 2) -> str:
    """Strict JSON text of a report (NaN/inf as null), with a final newline."""
    return json.dumps(finite(obj), indent=indent, default=json_default, allow_nan=False) + "\n"


def write_report(obj: Any, path: str | Path, indent: int | None = 2) -> Path:
    """Write a report as strict JSON to `path` (parents created); return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dumps(obj, indent))
    return out
