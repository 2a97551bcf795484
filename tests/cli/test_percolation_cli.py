"""Percolation in ``morpho analyze``, the report, ``morpho plot`` and ``morpho compare`` (issue 8)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from morpho.cli import main
from morpho.export import analysis_figures, write_synthetic
from morpho.percolation import percolation_analysis
from morpho.synthetic import make_sem_micrograph

TARGETS = (0.3, 0.9, 1.4)  # island area placed by the generator: from scattered to one film


@pytest.fixture(scope="module")
def films(tmp_path_factory) -> list[Path]:
    """Touching 60 nm grains drawn to rising coverage, analysed from their micrographs."""
    root = tmp_path_factory.mktemp("perc")
    folders = []
    for target in TARGETS:
        sample = make_sem_micrograph((512, 512), preset="dense-grooves", rng=0,
                                     params={"pixel_gap_min_px": 0, "pixel_gap_max_px": 0,
                                             "large_coverage_target": target})
        tif = root / f"film_{target:g}.tif"
        write_synthetic(sample, tif, vendor="fei")
        report = [] if target == TARGETS[0] else ["--no-report"]  # the report test reads the first one
        assert main(["analyze", str(tif), "-o", str(root / "out"), "-q", *report]) == 0
        folders.append(root / "out" / tif.stem)
    return folders


def _perc(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())["percolation"]


def test_summary_holds_the_percolation_numbers_of_the_labels(films):
    folder = films[1]
    perc = _perc(folder)
    summary = json.loads((folder / "summary.json").read_text())
    labels = tifffile.imread(folder / "labels.tif")
    bar = summary["input"]["databar_rows"]
    again = percolation_analysis(labels[: labels.shape[0] - bar] > 0, pixel_size_m=summary["input"]["pixel_size_m"])
    assert perc == {**again.to_dict(), "bridge_gap_m": 0.0, "other_connectivity": perc["other_connectivity"],
                    "mask": perc["mask"]}
    assert perc["connectivity"] == 4
    assert perc["other_connectivity"]["connectivity"] == 8
    assert perc["other_connectivity"]["n_clusters"] <= perc["n_clusters"]  # corners join clusters
    assert perc["coverage_p"] == pytest.approx(summary["grains"]["coverage_fraction"], abs=1e-9)


def test_numbers_move_the_expected_way_as_coverage_grows(films):
    percs = [_perc(f) for f in films]
    p = [x["coverage_p"] for x in percs]
    p_inf = [x["largest_cluster_fraction"] for x in percs]
    per_metal = [x["n_clusters"] / x["metal_area_px"] for x in percs]
    assert np.all(np.diff(p) > 0)
    assert np.all(np.diff(p_inf) > 0)
    assert np.all(np.diff(per_metal) < 0)
    assert not percs[0]["spans_x"]
    assert not percs[0]["spans_y"]
    assert percs[-1]["spans_x"]
    assert percs[-1]["spans_y"]
    assert percs[0]["verdict"] == "below"
    assert percs[-1]["verdict"] == "above"


def test_report_has_the_percolation_section_and_figure(films):
    page = (films[0] / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="percolation">Percolation</h2>' in page
    assert "verdict: <b>below</b>" in page
    assert 'alt="percolation"' in page


def test_plot_percolation_figure_repeats_the_summary(films, tmp_path):
    fig = analysis_figures(films[1], ["percolation"])["percolation"]
    perc = _perc(films[1])
    legends = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert any(f"{perc['fractal_dimension_sandbox']:.3f}" in text for text in legends), legends
    assert [ax.get_xscale() for ax in fig.axes] == ["log"] * 3
    out = tmp_path / "figs"
    assert main(["plot", str(films[1]), "--kind", "percolation", "--format", "pdf,svg", "-o", str(out)]) == 0
    assert (out / "percolation.pdf").stat().st_size > 0
    assert (out / "percolation.svg").stat().st_size > 0


def test_connectivity_is_selectable_and_checked(films, tmp_path, capsys):
    tif = films[1].parents[1] / f"{films[1].name}.tif"
    assert main(["analyze", str(tif), "-o", str(tmp_path), "-q", "--no-report", "--set",
                 "percolation.connectivity=8"]) == 0
    perc = _perc(tmp_path / films[1].name)
    assert perc["connectivity"] == 8
    assert perc["other_connectivity"]["connectivity"] == 4
    assert perc["n_clusters"] == _perc(films[1])["other_connectivity"]["n_clusters"]
    assert main(["analyze", str(tif), "-o", str(tmp_path / "x"), "--set", "percolation.connectivity=6"]) == 2
    assert "percolation.connectivity" in capsys.readouterr().err


def test_gap_bridging_joins_clusters(films, tmp_path):
    tif = films[0].parents[1] / f"{films[0].name}.tif"
    assert main(["analyze", str(tif), "-o", str(tmp_path), "-q", "--no-report", "--set",
                 "percolation.bridge_gap_m=20nm"]) == 0
    bridged = _perc(tmp_path / films[0].name)
    contact = _perc(films[0])
    assert bridged["bridge_gap_m"] == pytest.approx(20e-9)
    assert bridged["n_clusters"] < contact["n_clusters"]
    assert bridged["metal_area_px"] == contact["metal_area_px"]  # bridging connects, it adds no metal


def test_compare_shows_coverage_and_fractal_dimension(films, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", *map(str, films), "--labels", "low,mid,high", "-o", str(out)]) == 0
    text = (out / "comparison.md").read_text(encoding="utf-8")
    assert "coverage p" in text
    assert "D (sandbox)" in text
    for folder in films:
        assert f"{_perc(folder)['coverage_p']:.3g}" in text


def test_a_site_film_at_pc_through_analyze_keeps_its_pockets(tmp_path):
    """Issue 19: a site-percolation micrograph at p_c (3-px sites, the issue's grey levels and
    noise) through ``morpho analyze``: the coverage, spanning and sandbox dimension are the
    truth's, and the summary and the report say which mask was analysed."""
    from morpho.synthetic import SITE_PC, make_site_percolation

    sample = make_site_percolation((1024, 1024), p=SITE_PC, site_px=3, contrast_to_noise=37.5, rng=6)
    tif = tmp_path / "site_pc.tif"
    write_synthetic(sample, tif, vendor="fei")
    assert main(["analyze", str(tif), "-o", str(tmp_path / "out"), "-q"]) == 0
    found = _perc(tmp_path / "out" / "site_pc")
    truth = percolation_analysis(sample.labels > 0, pixel_size_m=sample.pixel_size_m)
    assert abs(found["coverage_p"] - truth.coverage_p) <= 0.005  # 0.741 before (pockets filled)
    assert (found["spans_x"], found["spans_y"]) == (truth.spans_x, truth.spans_y)
    assert 1.84 <= found["fractal_dimension_sandbox"] <= 1.94  # 1.56 before
    assert abs(found["fractal_dimension_sandbox"] - truth.fractal_dimension_sandbox) < 0.02
    assert "pocket" in found["mask"]
    assert "labels.tif > 0" in found["mask"]
    assert "Analysed mask" in (tmp_path / "out" / "site_pc" / "report.html").read_text()
