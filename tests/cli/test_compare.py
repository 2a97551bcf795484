"""``morpho compare``: samples overlaid in one distribution figure and tabulated side by side."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from morpho.cli import main


@pytest.fixture(scope="module")
def two_samples(tmp_path_factory):
    """Two films of different grain sizes (two stages of a film, say)."""
    root = tmp_path_factory.mktemp("compare")
    folders = []
    for name, seed, preset in (("stage0", 1, "inox-bimodal"), ("stage1", 2, "dense")):
        tif = root / f"{name}.tif"
        assert main(["synth", str(tif), "--size", "384", "--seed", str(seed), "--preset", preset]) == 0
        assert main(["analyze", str(tif), "-o", str(root / "out"), "-q", "--no-report"]) == 0
        folders.append(root / "out" / name)
    return folders


def test_compare_writes_table_markdown_and_figure(two_samples, capsys):
    a, b = two_samples
    assert main(["compare", str(a), str(b), "--labels", "as-grown,annealed", "--format", "pdf,svg"]) == 0
    printed = capsys.readouterr().out
    out = a.parent / "comparison"
    assert sorted(p.name for p in out.iterdir()) == ["comparison.csv", "comparison.md", "distributions.pdf",
                                                     "distributions.svg"]
    table = pd.read_csv(out / "comparison.csv")
    assert table["sample"].tolist() == ["as-grown", "annealed"]
    for folder, row in zip((a, b), table.itertuples(index=False), strict=True):
        summary = json.loads((folder / "summary.json").read_text())
        assert row.grains == summary["grains"]["count"]
        assert row.mean_coordination == pytest.approx(summary["graph"]["mean_coordination"])
        assert row.median_gap_m == pytest.approx(summary["graph"]["median_gap_m"])
        assert row.activation_energy_K == pytest.approx(summary["physics"]["activation_energy_K"])
        assert row.mode1_diameter_m == pytest.approx(summary["distribution"]["modes"][0]["diameter_m"])
    markdown = (out / "comparison.md").read_text()
    assert markdown.splitlines()[0] == "| | as-grown | annealed |"
    for name in ("<z>", "median gap (nm)", "E_C median (K)", "E_J median (K)", "E_aI (K)", "mode 1: D (nm)"):
        assert f"| {name} |" in markdown
    assert markdown.strip() in printed
    pdf = (out / "distributions.pdf").read_bytes()
    assert b"/Subtype /Image" not in pdf
    assert b"/FontFile2" in pdf
    svg = (out / "distributions.svg").read_text()
    assert "as-grown" in svg
    assert "annealed" in svg


@pytest.mark.parametrize(("args", "needle"), [
    (["--labels", "only-one"], "one per folder"),
    (["--format", "gif"], "pdf, svg or png"),
    (["--width", "wide"], "single or double"),
])
def test_compare_bad_input_exits_2_with_one_line(two_samples, tmp_path, capsys, args, needle):
    a, b = two_samples
    assert main(["compare", str(a), str(b), *args, "-o", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert needle in err[0]
    assert not (tmp_path / "c").exists()


def test_compare_needs_two_analysis_folders(two_samples, tmp_path, capsys):
    a, _ = two_samples
    assert main(["compare", str(a), "-o", str(tmp_path / "c")]) == 2
    assert "two or more" in capsys.readouterr().err
    assert main(["compare", str(a), str(tmp_path), "-o", str(tmp_path / "c")]) == 2
    assert "no summary.json" in capsys.readouterr().err


def test_compare_never_overwrites_silently(two_samples, tmp_path, capsys):
    a, b = two_samples
    out = tmp_path / "c"
    assert main(["compare", str(a), str(b), "-o", str(out), "-q"]) == 0
    assert main(["compare", str(b), str(a), "-o", str(out), "-q"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["compare", str(b), str(a), "-o", str(out), "-q", "--overwrite"]) == 0
    assert pd.read_csv(out / "comparison.csv")["sample"].tolist() == ["stage1", "stage0"]
