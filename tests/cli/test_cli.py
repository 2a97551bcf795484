"""The command line, in-process: exit codes, one-line errors, the contract folder."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from morpho.cli import main
from morpho.config import AnalysisConfig, config_from_dict
from morpho.export import write_synthetic
from morpho.synthetic import make_sem_micrograph

CHECK_CONTRACT = Path(__file__).resolve().parents[2].parent / "shared" / "tools" / "check_contract.py"
CONTRACT_FILES = ["summary.json", "grains.csv", "junctions.csv", "labels.tif", "graph.graphml", "histogram.png",
                  "histogram.pdf", "overlay.png", "config.json", "report.html"]


@pytest.fixture(scope="module")
def sem_tif(tmp_path_factory) -> Path:
    """A small synthetic In/InOx micrograph written as an FEI TIFF with a databar."""
    folder = tmp_path_factory.mktemp("img")
    sample = make_sem_micrograph((640, 640), preset="inox-bimodal", rng=5, databar=True)
    write_synthetic(sample, folder / "film.tif", vendor="fei")
    return folder / "film.tif"


def test_analyze_writes_every_contract_file(sem_tif, tmp_path, capsys):
    assert main(["analyze", str(sem_tif), "-o", str(tmp_path), "-q"]) == 0
    out = tmp_path / "film"
    for name in CONTRACT_FILES:
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["input"]["pixel_size_source"].startswith("FEI")
    assert summary["input"]["pixel_size_m"] == pytest.approx(2e-9, rel=1e-9)
    seg = summary["segmentation"]
    assert 0.5 < seg["edge_sigma_px"] < 3.0 and seg["line_scale"] >= 1.0  # the image's measured resolution
    assert "Gaussian PSF" in seg["detection_limit_basis"]
    labels = tifffile.imread(out / "labels.tif")
    assert labels.dtype == np.uint32
    assert labels.shape == tifffile.imread(sem_tif).shape
    bar = summary["input"]["databar_rows"]
    assert bar > 0 and not labels[-bar:].any()  # databar rows are 0
    grains = pd.read_csv(out / "grains.csv")
    assert set(np.unique(labels[labels > 0])) == set(grains.grain_id)
    # no temporary folders are left behind
    assert [p.name for p in tmp_path.iterdir()] == ["film"]


@pytest.mark.skipif(not CHECK_CONTRACT.is_file(), reason="../shared/tools/check_contract.py is absent")
def test_analyze_output_passes_the_shared_contract_check(sem_tif, tmp_path):
    assert main(["analyze", str(sem_tif), "-o", str(tmp_path), "-q"]) == 0
    proc = subprocess.run([sys.executable, str(CHECK_CONTRACT), str(tmp_path / "film"), "--image", str(sem_tif)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "contract ok" in proc.stdout


def test_analyze_existing_output_needs_overwrite(sem_tif, tmp_path, capsys, error_line):
    assert main(["analyze", str(sem_tif), "-o", str(tmp_path), "-q", "--no-report"]) == 0
    before = (tmp_path / "film" / "summary.json").read_text()
    capsys.readouterr()
    assert main(["analyze", str(sem_tif), "-o", str(tmp_path), "-q", "--no-report"]) == 2
    assert "--overwrite" in error_line()
    assert (tmp_path / "film" / "summary.json").read_text() == before
    assert main(["analyze", str(sem_tif), "-o", str(tmp_path), "-q", "--no-report", "--overwrite"]) == 0


def test_analyze_config_json_reproduces_identical_tables(sem_tif, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["analyze", str(sem_tif), "-o", str(a), "-q", "--no-report", "--max-gap", "40nm", "--set",
                 "physics.relative_permittivity=12"]) == 0
    assert main(["analyze", str(sem_tif), "-o", str(b), "-q", "--no-report", "--config",
                 str(a / "film" / "config.json")]) == 0
    for name in ("grains.csv", "junctions.csv", "config.json"):
        assert (a / "film" / name).read_bytes() == (b / "film" / name).read_bytes(), name
    cfg = json.loads((a / "film" / "config.json").read_text())
    assert cfg["graph"]["max_gap_m"] == pytest.approx(40e-9)
    assert cfg["physics"]["relative_permittivity"] == 12


def test_analyze_pixel_size_option_overrides_metadata(sem_tif, tmp_path):
    assert main(["analyze", str(sem_tif), "-o", str(tmp_path), "-q", "--pixel-size", "4 nm", "--no-report"]) == 0
    s = json.loads((tmp_path / "film" / "summary.json").read_text())
    assert s["input"]["pixel_size_m"] == pytest.approx(4e-9, rel=1e-12)
    assert s["input"]["pixel_size_source"] == "--pixel-size"
    assert not (tmp_path / "film" / "report.html").exists()


# The bad-input catalogue (files, pixel sizes, configs, output folders) is tests/cli/test_bad_inputs.py.


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--pixel-size", "2.5 parsecs"], "unit"),
        (["--pixel-size", "2.5"], "no unit"),
        (["--set", "physics.no_such_key=1"], "no_such_key"),
        (["--set", "segment.split_ratio=2"], "split_ratio"),
        (["--set", "segment.method=watershed"], "segment.method"),
        (["--max-gap", "abc"], "length"),
        (["--threads", "0"], "--threads"),
    ],
)
def test_analyze_bad_options_exit_2_naming_the_problem(sem_tif, tmp_path, args, needle, error_line):
    assert main(["analyze", str(sem_tif), "-o", str(tmp_path), *args]) == 2
    assert needle in error_line()


def test_analyze_regions_method_from_the_command_line(sem_tif, tmp_path):
    args = ["analyze", str(sem_tif), "-o", str(tmp_path), "-q", "--no-report", "--set", "segment.method=regions"]
    assert main(args) == 0
    summary = json.loads((tmp_path / "film" / "summary.json").read_text())
    assert summary["segmentation"]["method"] == "regions"
    assert summary["grains"]["count"] > 0
    assert "regions" in summary["segmentation"]["detection_limit_basis"]


def test_info_json_reports_pixel_size_and_source(sem_tif, capsys):
    assert main(["info", str(sem_tif), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["pixel_size_m"] == pytest.approx(2e-9, rel=1e-9)
    assert "FEI" in info["pixel_size_source"]
    assert info["databar_rows"] > 0


def test_info_text_output(sem_tif, capsys):
    assert main(["info", str(sem_tif)]) == 0
    out = capsys.readouterr().out
    assert "pixel_size_source" in out and "FEI" in out


def test_config_defaults_is_toml_that_reloads_to_the_defaults(capsys):
    assert main(["config", "--defaults"]) == 0
    data = tomllib.loads(capsys.readouterr().out)
    assert config_from_dict(data) == AnalysisConfig()


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert "morpho" in capsys.readouterr().out
    assert main([]) == 2
    assert main(["frobnicate"]) == 2


def test_synth_writes_micrograph_and_truth(tmp_path, capsys):
    out = tmp_path / "s.tif"
    assert main(["synth", str(out), "--size", "256", "--seed", "3", "--vendor", "zeiss"]) == 0
    printed = capsys.readouterr().out.split()
    assert str(out) in printed
    assert (tmp_path / "s_truth_labels.tif").is_file()
    assert main(["info", str(out), "--json"]) == 0
    assert "Zeiss" in json.loads(capsys.readouterr().out)["pixel_size_source"]
    assert main(["synth", str(out), "--size", "256"]) == 2  # exists, no --overwrite


@pytest.mark.slow
def test_installed_entry_point_runs(sem_tif, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "morpho", "info", str(sem_tif)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "pixel_size_m" in proc.stdout


def test_labels_tif_and_graphml_carry_the_pixel_size(sem_tif, tmp_path):
    import networkx as nx

    assert main(["analyze", str(sem_tif), "-o", str(tmp_path), "-q", "--no-report"]) == 0
    with tifffile.TiffFile(tmp_path / "film" / "labels.tif") as tif:
        meta = json.loads(tif.pages[0].description)
    assert meta["pixel_size_m"] == pytest.approx(2e-9, rel=1e-12)
    assert meta["pixel_size_source"].startswith("FEI")
    g = nx.read_graphml(tmp_path / "film" / "graph.graphml")
    assert g.graph["pixel_size_m"] == pytest.approx(2e-9, rel=1e-12)


def _rho_table(path: Path, fields: dict[float, tuple[float, float, float]]) -> Path:
    """Eq. 1 curves (1/sigma_QF, 1/sigma_0, E_a) with 1 % noise, 40 points 0.06-1 K per field."""
    t = np.geomspace(0.06, 1.0, 40)
    rng = np.random.default_rng(0)
    rows = []
    for h, (r_qf, r_0, ea) in fields.items():
        rho = 1 / (1 / r_qf + np.exp(-ea / t) / r_0) * np.exp(0.01 * rng.standard_normal(t.size))
        rows += [{"temperature_K": a, "field_T": h, "sheet_resistance_ohm_per_sq": b}
                 for a, b in zip(t, rho, strict=True)]
    frame = pd.DataFrame(rows)
    if len(fields) == 1:
        frame = frame.drop(columns="field_T")
    frame.to_csv(path, index=False)
    return path


def test_fit_writes_the_parameters_and_refuses_to_overwrite(tmp_path, capsys, error_line):
    table = _rho_table(tmp_path / "rho.csv", {0.0: (300e3, 2e3, 0.45)})
    assert main(["fit", str(table)]) == 0
    assert "insulating (Eq. 1), E_a = 0.44" in capsys.readouterr().out
    out = tmp_path / "rho_fit"
    fit = json.loads((out / "fit.json").read_text())
    assert fit["model"] == "insulating"
    assert set(fit["params"]) == {"sigma_qf_S", "sigma_0_S", "activation_energy_K"}
    assert fit["params"]["activation_energy_K"] == pytest.approx(0.45, rel=0.05)
    assert 1 / fit["params"]["sigma_qf_S"] == pytest.approx(300e3, rel=0.05)
    assert {"stderr", "bic"} <= set(fit)
    assert (out / "fit.png").stat().st_size > 0
    assert (out / "fit.pdf").stat().st_size > 0
    assert main(["fit", str(table)]) == 2
    assert "--overwrite" in error_line()


def test_fit_per_field_tabulates_and_fits_power_laws(tmp_path):
    fields = {0.01: (300e3, 2e3, 0.45), 0.02: (600e3, 2e3, 0.45), 0.04: (1.2e6, 2e3, 0.45), 0.08: (2.4e6, 2e3, 0.45)}
    table = _rho_table(tmp_path / "rho.csv", fields)
    assert main(["fit", str(table), "-o", str(tmp_path / "f"), "--model", "insulating", "-q"]) == 0
    fit = json.loads((tmp_path / "f" / "fit.json").read_text())
    assert [f["field_T"] for f in fit["fields"]] == list(fields)
    law = fit["power_laws"]["insulating.sigma_qf_S"]
    assert law["exponent"] == pytest.approx(-1.0, abs=0.05)  # 1/sigma_QF doubles with H
    assert len(pd.read_csv(tmp_path / "f" / "fit_vs_field.csv")) == 4


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("temperature_K,voltage_V\n0.1,1\n", "sheet_resistance_ohm_per_sq"),
        ("T,sheet_resistance_ohm_per_sq\n0.1,1\n", "temperature_K"),
        ("temperature_K,sheet_resistance_ohm_per_sq\n0.1,1\n0.2,2\n", "at least 5"),
    ],
)
def test_fit_bad_tables_exit_2_naming_the_problem(tmp_path, content, needle, error_line):
    table = tmp_path / "rho.csv"
    table.write_text(content)
    assert main(["fit", str(table)]) == 2
    assert needle in error_line()
    assert not (tmp_path / "rho_fit").exists()


def test_fit_missing_table_exits_2(tmp_path, error_line):
    assert main(["fit", str(tmp_path / "none.csv")]) == 2
    assert "no such file" in error_line()


# --- morpho transport ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def analysed(sem_tif, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("analysed")
    assert main(["analyze", str(sem_tif), "-o", str(out), "--no-report", "-q"]) == 0
    return out / sem_tif.stem


def test_transport_sweep_writes_csv_json_and_figure(analysed, tmp_path, capsys, error_line):
    out = tmp_path / "tr"
    argv = ["transport", str(analysed), "--temperature", "0.1:1:6", "--field", "0,300Oe", "-o", str(out)]
    assert main(argv) == 0
    table = pd.read_csv(out / "transport.csv")
    assert list(table.columns[:4]) == ["temperature_K", "field_T", "resistance_ohm", "sheet_resistance_ohm_per_sq"]
    assert len(table) == 12
    assert sorted(table["field_T"].unique()) == [0.0, pytest.approx(0.03)]
    content = json.loads((out / "transport.json").read_text())
    for key in ("resistance_ohm", "sheet_resistance_ohm_per_sq", "n_grains_spanning", "kirchhoff_residual_A",
                "bottleneck", "red_bonds", "duality", "electrodes", "config"):
        assert key in content, key
    assert content["electrodes"]["from"] == "labels.tif"
    assert content["duality"]["product"] == pytest.approx(1.0, abs=1e-5)
    assert (out / "rho_t.png").stat().st_size > 1000 and (out / "rho_t.pdf").is_file()
    assert "red bond" in capsys.readouterr().out
    # existing results are not overwritten
    assert main(argv) == 2
    assert "--overwrite" in error_line()
    # and the table goes straight back into morpho fit
    assert main(["fit", str(out / "transport.csv"), "-q"]) == 0


def test_transport_conductance_column_from_the_users_model(analysed, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    grains = pd.read_csv(analysed / "grains.csv")[["grain_id", "x_m", "y_m"]]  # nothing else is needed
    junctions = pd.read_csv(analysed / "junctions.csv")[["grain_a", "grain_b"]]
    junctions["g_S"] = 1e-6
    grains.to_csv(folder / "grains.csv", index=False)
    junctions.to_csv(folder / "junctions.csv", index=False)
    assert main(["transport", str(folder), "--conductance-column", "g_S", "-q"]) == 0
    content = json.loads((folder / "transport" / "transport.json").read_text())
    assert content["mode"] == "conductance_column"
    assert content["electrodes"]["from"].startswith("grain centres")
    assert content["resistance_ohm"] > 0 and content["n_grains_spanning"] >= 2
    assert content["kirchhoff_residual_A"] < 1e-9 / content["resistance_ohm"]  # at 1 V: 1e-9 of the current
    assert not (folder / "transport" / "transport.csv").exists()


@pytest.mark.parametrize(("mutate", "args", "needle"), [
    (lambda j: j.drop(columns="resistance_ohm"), [], "no column 'resistance_ohm'"),
    (lambda j: j.assign(g_S=-1.0), ["--conductance-column", "g_S"], "negative conductance"),
    (lambda j: j.assign(g_S=float("nan")), ["--conductance-column", "g_S"], "NaN"),
    (lambda j: j.assign(g_S="ten"), ["--conductance-column", "g_S"], "non-numeric"),
    (lambda j: j.assign(g_S=0.0), ["--conductance-column", "g_S"], "does not percolate"),
    (lambda j: j, ["--conductance-column", "nope"], "no column 'nope'"),
    (lambda j: j, ["--temperature", "0:1:5"], "temperatures"),
    (lambda j: j, ["--temperature", "abc"], "cannot read temperatures"),
    (lambda j: j, ["--field", "300"], "no unit"),
    (lambda j: j, ["--set", "gama_c=2"], "unknown config key transport.gama_c"),
    (lambda j: j, ["--normal-sheet-resistance", "-5"], "resistance"),
])
def test_transport_bad_input_exits_2_with_one_line(analysed, tmp_path, mutate, args, needle, error_line):
    folder = tmp_path / "bad"
    folder.mkdir()
    for name in ("grains.csv", "summary.json", "labels.tif"):
        (folder / name).write_bytes((analysed / name).read_bytes())
    mutate(pd.read_csv(analysed / "junctions.csv")).to_csv(folder / "junctions.csv", index=False)
    assert main(["transport", str(folder), "--temperature", "0.5", *args] if "--temperature" not in args
                else ["transport", str(folder), *args]) == 2
    assert needle in error_line()
    assert not (folder / "transport").exists()


def test_transport_missing_folder_exits_2(tmp_path, error_line):
    assert main(["transport", str(tmp_path / "nothing")]) == 2
    assert "no such analysis folder" in error_line()


def test_analyze_shows_stage_progress_for_a_large_image(sem_tif, tmp_path, capsys, monkeypatch):
    import morpho.cli

    monkeypatch.setattr(morpho.cli, "PROGRESS_MIN_PIXELS", 0)  # the bar starts at 4096^2 px
    assert main(["analyze", str(sem_tif), "-o", str(tmp_path), "--no-report"]) == 0
    err = capsys.readouterr().err
    assert "film.tif:" in err
    from morpho.pipeline import STAGES

    assert f"/{len(STAGES)} stages" in err
    monkeypatch.setattr(morpho.cli, "PROGRESS_MIN_PIXELS", 10**9)
    assert main(["analyze", str(sem_tif), "-o", str(tmp_path / "again"), "--no-report"]) == 0
    assert "stages" not in capsys.readouterr().err


def test_the_command_line_keeps_one_malloc_arena_on_linux():
    """The command line limits glibc to one arena (morpho/_memory.py); off Linux it does nothing."""
    import sys

    from morpho._memory import share_one_malloc_arena

    assert share_one_malloc_arena() is sys.platform.startswith("linux")
