"""``morpho plot``: every figure in every format, vector where it should be, at journal widths."""

from __future__ import annotations

import re
import shutil
import struct

import pandas as pd
import pytest

from morpho.cli import main
from morpho.export import PLOT_KINDS

KINDS_WITHOUT_TRANSPORT = [k for k in PLOT_KINDS if not k.startswith("rho-t")]


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    root = tmp_path_factory.mktemp("plot")
    tif = root / "film.tif"
    assert main(["synth", str(tif), "--size", "384", "--seed", "1"]) == 0
    assert main(["analyze", str(tif), "-o", str(root / "out"), "-q", "--no-report"]) == 0
    return root / "out" / "film", tif


@pytest.fixture(scope="module")
def figures(analysis, tmp_path_factory):
    folder, _ = analysis
    out = tmp_path_factory.mktemp("figs") / "figures"
    assert main(["plot", str(folder), "--format", "pdf,svg", "--format", "png", "-o", str(out), "-q"]) == 0
    return out


def test_every_kind_in_every_format(figures):
    names = sorted(p.name for p in figures.iterdir())
    assert names == sorted(f"{k}.{fmt}" for k in KINDS_WITHOUT_TRANSPORT for fmt in ("pdf", "svg", "png"))


@pytest.mark.parametrize("kind", [k for k in KINDS_WITHOUT_TRANSPORT if k != "overlay"])
def test_pdf_is_vector_with_embedded_truetype_fonts(figures, kind, pdf_content):
    pdf = (figures / f"{kind}.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert b"/FontFile2" in pdf  # TrueType embedded
    assert b"/Type3" not in pdf
    assert b"/Subtype /Image" not in pdf  # no raster at all
    content = pdf_content(pdf)
    assert b"BT" in content  # text is text
    assert len(re.findall(rb"[\d.]+ [\d.]+ l\n", content)) > 10  # and lines are paths


def test_overlay_pdf_is_one_raster_under_vector_junctions(analysis, figures, pdf_content):
    folder, _ = analysis
    n_junctions = len(pd.read_csv(folder / "junctions.csv"))
    assert n_junctions > 10
    pdf = (figures / "overlay.pdf").read_bytes()
    assert pdf.count(b"/Subtype /Image") == 2  # the micrograph with its outlines, and the colour-bar ramp
    assert b"/FontFile2" in pdf  # scale bar and colour-bar labels are text
    content = pdf_content(pdf)
    assert len(re.findall(rb"[\d.]+ [\d.]+ l\n", content)) >= n_junctions  # a segment per junction


@pytest.mark.parametrize(("kind", "unit"), [("gaps", "Gap (nm)"), ("charging-energy", "(K)"),
                                            ("josephson-energy", "(K)"), ("histogram", "(nm)")])
def test_axis_labels_carry_units(figures, kind, unit):
    svg = (figures / f"{kind}.svg").read_text()
    assert "<image" not in svg
    text = " ".join(re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S))
    assert unit.replace("(", "").replace(")", "") in re.sub(r"<[^>]+>", "", text).replace("(", "").replace(")", "")


def _png_size(path):
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG")
    return struct.unpack(">II", data[16:24])


def test_single_and_double_column_widths_at_300_dpi(analysis, figures, tmp_path):
    folder, _ = analysis
    assert _png_size(figures / "gaps.png")[0] == round(3.4 * 300)
    out = tmp_path / "double"
    assert main(["plot", str(folder), "--kind", "gaps", "--format", "png", "--width", "double", "-o", str(out),
                 "-q"]) == 0
    assert _png_size(out / "gaps.png")[0] == round(7.0 * 300)


def test_rho_t_figures_when_transport_ran(analysis, tmp_path):
    """With transport/transport.csv, the default set gains rho-t and rho-t-fit (Eq. 1/2 fitted per field)."""
    import numpy as np

    folder, _ = analysis
    copy = tmp_path / "film"
    shutil.copytree(folder, copy)
    (copy / "transport").mkdir()
    t = np.geomspace(0.06, 1.0, 25)
    rows = []
    for field, e_a in ((0.0, 1.2), (0.03, 0.9)):  # insulating: rho = 1 / (1e-6 + 1e-3 exp(-E_a/T))
        rho = 1.0 / (1e-6 + 1e-3 * np.exp(-e_a / t))
        rows += [{"temperature_K": x, "field_T": field, "sheet_resistance_ohm_per_sq": r,
                  "log10_sheet_resistance_ohm_per_sq": np.log10(r)} for x, r in zip(t, rho, strict=True)]
    pd.DataFrame(rows).to_csv(copy / "transport" / "transport.csv", index=False)
    assert main(["plot", str(copy), "-q"]) == 0
    made = {p.name for p in (copy / "figures").iterdir()}
    assert {"rho-t.pdf", "rho-t-fit.pdf"} <= made
    assert "overlay.pdf" in made
    svg_out = tmp_path / "svg"
    assert main(["plot", str(copy), "--kind", "rho-t-fit", "--format", "svg", "-o", str(svg_out), "-q"]) == 0
    assert "300 Oe" in (svg_out / "rho-t-fit.svg").read_text()


@pytest.mark.parametrize(("args", "needle"), [
    (["--kind", "pie"], "unknown figure kind 'pie'"),
    (["--format", "jpg"], "pdf, svg or png"),
    (["--width", "triple"], "single or double"),
    (["--kind", "rho-t"], "morpho transport"),
    (["--kind", "overlay", "--image", "/nonexistent/film.tif"], "--image"),
    (["--colour-by", "rainbow"], "--colour-by"),
])
def test_plot_bad_input_exits_2_with_one_line(analysis, tmp_path, capsys, args, needle):
    folder, _ = analysis
    assert main(["plot", str(folder), *args, "-o", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert needle in err[0]
    assert not (tmp_path / "f").exists()


def test_plot_never_overwrites_silently(analysis, tmp_path, capsys):
    folder, _ = analysis
    out = tmp_path / "f"
    assert main(["plot", str(folder), "--kind", "gaps", "-o", str(out), "-q"]) == 0
    assert main(["plot", str(folder), "--kind", "coordination", "-o", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["plot", str(folder), "--kind", "coordination", "-o", str(out), "--overwrite", "-q"]) == 0
    assert [p.name for p in out.iterdir()] == ["coordination.pdf"]


def test_plot_several_folders_into_one_out(analysis, tmp_path):
    folder, _ = analysis
    other = tmp_path / "copy" / "film2"
    shutil.copytree(folder, other)
    out = tmp_path / "figs"
    assert main(["plot", str(folder), str(other), "--kind", "histogram", "-o", str(out), "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["film", "film2"]
