"""Read a result folder of ``morpho analyze`` (or any grains/junctions table pair) back in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError


@dataclass(frozen=True)
class AnalysisTables:
    """The tables of an analysis folder.

    Attributes
    ----------
    folder : Path
    grains, junctions : pandas.DataFrame
        ``grains.csv`` and ``junctions.csv`` as read (columns checked by their users).
    summary : dict or None
        ``summary.json`` when present.
    labels : ndarray or None
        ``labels.tif`` cropped to the analysed rows (the databar rows removed) when present with
        a summary that gives its pixel size.
    """

    folder: Path
    grains: pd.DataFrame
    junctions: pd.DataFrame
    summary: dict | None
    labels: np.ndarray | None

    @property
    def pixel_size_m(self) -> float | None:
        if self.summary is None:
            return None
        value = self.summary.get("input", {}).get("pixel_size_m")
        return float(value) if isinstance(value, (int, float)) and value > 0 else None


# The floats exactly as written: pandas < 3 parses about a fifth of full-precision values one bit
# off unless asked for "round_trip"; pandas 3 does so by default and deprecates the argument.
_CSV_EXACT_FLOATS: dict[str, str] = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}

_ANALYSIS_HINT = "point at a folder written by 'morpho analyze' (grains.csv and junctions.csv)"


def read_csv_table(path: str | Path, *, hint: str = _ANALYSIS_HINT) -> pd.DataFrame:
    """Read a CSV table; InputError with one line (missing file: `hint` says what to give)."""
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: no such file; {hint}"
        raise InputError(msg)
    try:
        frame = pd.read_csv(path, **_CSV_EXACT_FLOATS)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        msg = f"{path}: not a readable CSV table ({str(exc).splitlines()[0]})"
        raise InputError(msg) from None
    return frame


def read_analysis_folder(folder: str | Path, *, with_labels: bool = True) -> AnalysisTables:
    """Read ``grains.csv``, ``junctions.csv`` and, when present, ``summary.json`` and ``labels.tif``.

    Raises
    ------
    InputError
        The folder or a table is missing or unreadable, or summary.json is not JSON.
    """
    path = Path(folder)
    if not path.is_dir():
        msg = f"{path}: no such analysis folder; run 'morpho analyze IMAGE -o OUT' and give OUT/<stem>"
        raise InputError(msg)
    grains = read_csv_table(path / "grains.csv")
    junctions = read_csv_table(path / "junctions.csv")
    summary = None
    if (path / "summary.json").is_file():
        try:
            summary = json.loads((path / "summary.json").read_text())
        except (ValueError, UnicodeDecodeError) as exc:
            msg = f"{path / 'summary.json'}: not valid JSON ({exc}); re-run 'morpho analyze' or remove the file"
            raise InputError(msg) from None
    labels = None
    if with_labels and summary is not None and (path / "labels.tif").is_file():
        import tifffile

        try:
            labels = tifffile.imread(path / "labels.tif")
        except (OSError, ValueError) as exc:
            msg = f"{path / 'labels.tif'}: not a readable TIFF ({exc})"
            raise InputError(msg) from None
        rows = int(summary.get("input", {}).get("databar_rows") or 0)
        if labels.ndim != 2:
            labels = None
        elif rows:
            labels = labels[: labels.shape[0] - rows]
    return AnalysisTables(path, grains, junctions, summary, labels)
