"""``report.html`` and the batch page: every section, everything inlined, nothing fetched."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from morpho.batch import write_batch_report
from morpho.cli import main
from morpho.report import SECTIONS


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    tif = root / "film.tif"
    assert main(["synth", str(tif), "--size", "384", "--seed", "4"]) == 0
    assert main(["analyze", str(tif), "-o", str(root / "out"), "-q"]) == 0
    return root / "out" / "film" / "report.html", tif


def test_report_has_every_section(report):
    page = report[0].read_text(encoding="utf-8")
    ids = re.findall(r'<h2 id="([^"]+)">', page)
    assert ids == [key for key, _ in SECTIONS]
    for key, _ in SECTIONS:
        assert f'href="#{key}"' in page  # the contents line links to it


def test_report_inlines_every_image_and_requests_nothing(report):
    page = report[0].read_text(encoding="utf-8")
    sources = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(sources) == 9  # micrograph, overlay, size histogram, five more figures and percolation
    assert all(s.startswith(("data:image/png;base64,", "data:image/jpeg;base64,")) for s in sources)
    assert not re.search(r'(src|href)="(?!data:|#)', page)  # no external or relative resource
    assert "<link" not in page
    assert "<script" not in page
    assert "@import" not in page
    assert "url(" not in page


def test_report_provenance_names_versions_input_and_pixel_size(report):
    page, tif = report[0].read_text(encoding="utf-8"), report[1]
    import hashlib

    import numpy

    provenance = page.split('<h2 id="provenance">')[1].split("<h2")[0]
    assert hashlib.sha256(tif.read_bytes()).hexdigest() in provenance
    assert "pixel size from" in provenance
    assert numpy.__version__ in provenance
    assert "morpho" in provenance


def test_batch_page_links_each_report_relatively(tmp_path):
    rows = [
        {"image": "a.tif", "status": "ok", "result_dir": str(tmp_path / "a"), "grains": 10,
         "mode_diameters_m": "3e-08;5e-07", "mean_coordination": 5.5, "median_gap_m": 2e-9},
        {"image": "b.tif", "status": "error", "result_dir": str(tmp_path / "b"), "error": "b.tif: truncated TIFF"},
    ]
    page = write_batch_report(rows, tmp_path).read_text(encoding="utf-8")
    assert 'href="a/report.html"' in page
    assert "b/report.html" not in page
    assert "truncated TIFF" in page
    assert "30, 500" in page  # modes in nm
    assert "2 images: 1 analysed, 0 kept from earlier, 1 failed." in page


def _chromium() -> str | None:
    return next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)


def test_report_renders_in_headless_chromium_offline(report, tmp_path):
    """Debian's chromium, headless, with every host name unresolvable: the page still renders
    whole (its DOM has every section and every image)."""
    browser = _chromium()
    if browser is None:
        pytest.skip("headless Chromium is not installed (Debian package 'chromium')")
    run = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", report[0].as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    assert re.findall(r'<h2 id="([^"]+)">', dom) == [key for key, _ in SECTIONS]
    assert len(re.findall(r"<img ", dom)) == 9
