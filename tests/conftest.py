"""Shared test set-up: versions in the header, strict floating point, paths to shared data."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import numpy as np
import pytest

#: ../shared/data beside the repository root (real microscope files; never copied into the repo).
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_report_header(config):
    import pandas
    import scipy
    import skimage
    import tifffile

    import morpho

    return (
        f"morpho {morpho.__version__}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"skimage {skimage.__version__}, pandas {pandas.__version__}, tifffile {tifffile.__version__}"
    )


@pytest.fixture
def shared_data() -> Path:
    """The shared real-data folder, or skip the test where it is absent (a user's checkout)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


def _pdf_content(pdf: bytes) -> bytes:
    """The page content of a PDF: every stream, inflated where it is Flate-compressed."""
    out = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(raw))
        except zlib.error:
            out.append(raw)
    return b"\n".join(out)


@pytest.fixture
def pdf_content():
    """``pdf_content(pdf_bytes)``: the PDF's streams, inflated and joined (to look for drawing
    operators: text ``BT``, path ``m``/``l``, fill ``f``, stroke ``S``)."""
    return _pdf_content


@pytest.fixture
def error_line(capsys):
    """``error_line()``: stderr so far, checked to be exactly one ``morpho: error:`` line (no
    traceback); returns that line."""

    def read() -> str:
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        assert "Traceback" not in err[0]
        assert err[0].startswith("morpho: error:")
        return err[0]

    return read
