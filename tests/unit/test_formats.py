"""Exports for simulations and other tools (issue 6): each one read back by the library that
consumes it, with the same nodes, edges and attributes as the CSV tables."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from morpho.cli import main
from morpho.errors import InputError
from morpho.export import write_exports, write_results
from morpho.formats import EXPORT_FORMATS, jja_arrays
from morpho.io import Micrograph, read_csv_table
from morpho.pipeline import analyze
from morpho.synthetic import make_sem_micrograph

PX = 4.5e-9
ALL = list(EXPORT_FORMATS)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """An analysis folder of a synthetic film, and every export of it."""
    root = tmp_path_factory.mktemp("exports")
    sample = make_sem_micrograph((384, 448), preset="inox-bimodal", pixel_size_m=PX, rng=2)
    micrograph = Micrograph(sample.image, PX, "test", 0, "none", "none", str(root / "film.tif"), "0" * 64, 1)
    folder = write_results(analyze(micrograph), root, argv=["test"], report=False)
    write_exports(folder, ALL)
    grains = read_csv_table(folder / "grains.csv")
    junctions = read_csv_table(folder / "junctions.csv")
    assert len(grains) > 20
    assert len(junctions) > 40
    return folder, folder / "export", grains, junctions


def _assert_same(value, expected):
    if isinstance(expected, (float, np.floating)) and not np.isfinite(expected):
        assert value is None or not np.isfinite(value)
    elif isinstance(expected, (float, np.floating)):
        assert value == pytest.approx(float(expected), rel=1e-12, abs=0.0)
    else:
        assert value == expected


def _check_graph(graph, grains, junctions):
    assert graph.number_of_nodes() == len(grains)
    assert graph.number_of_edges() == len(junctions)
    for row in grains.sample(n=10, random_state=0).itertuples(index=False):
        attrs = graph.nodes[int(row.grain_id)]
        for col in grains.columns.drop("grain_id"):
            _assert_same(attrs[col], getattr(row, col))
    for row in junctions.sample(n=10, random_state=1).itertuples(index=False):
        attrs = graph.edges[int(row.grain_a), int(row.grain_b)]
        for col in junctions.columns.drop(["grain_a", "grain_b"]):
            _assert_same(attrs[col], getattr(row, col))


def test_graphml_round_trips_through_networkx(exported):
    import networkx as nx

    folder, out, grains, junctions = exported
    for path in (folder / "graph.graphml", out / "graph.graphml"):
        graph = nx.read_graphml(path, node_type=int)
        _check_graph(graph, grains, junctions)
        assert graph.graph["pixel_size_m"] == pytest.approx(PX)


def test_node_link_json_round_trips_through_networkx(exported):
    import networkx as nx

    folder, out, grains, junctions = exported
    for path in (folder / "graph.json", out / "graph.json"):
        data = json.loads(path.read_text())
        _check_graph(nx.node_link_graph(data, edges="links"), grains, junctions)


def test_parquet_tables_equal_the_csv_tables(exported):
    """Read back with fastparquet (and with pyarrow where it is installed): the CSVs' values."""
    import fastparquet

    folder, out, grains, junctions = exported
    for base in (folder, out):
        for name, table in (("grains", grains), ("junctions", junctions)):
            back = fastparquet.ParquetFile(io.BytesIO((base / f"{name}.parquet").read_bytes())).to_pandas()
            pd.testing.assert_frame_equal(back.reset_index(drop=True), table, check_exact=True)
            try:
                import pyarrow.parquet as pq
            except ImportError:
                continue
            pd.testing.assert_frame_equal(pq.read_table(base / f"{name}.parquet").to_pandas(), table, check_exact=True)


def test_npz_arrays_index_the_grains(exported):
    folder, _, grains, junctions = exported
    with np.load(folder / "graph.npz") as data:
        assert data["coords_m"].shape == (len(grains), 2)
        assert np.array_equal(data["coords_m"][:, 0], grains["x_m"].to_numpy())
        ids = data["grain_id"]
        assert np.array_equal(ids[data["edges"]], junctions[["grain_a", "grain_b"]].to_numpy())
        assert np.array_equal(data["edge_gap_m"], junctions["gap_m"].to_numpy())
        assert np.array_equal(data["node_diameter_m"], grains["diameter_m"].to_numpy())
        assert float(data["pixel_size_m"]) == pytest.approx(PX)


def _openpnm_python() -> str | None:
    """An interpreter with OpenPNM: this one, $MORPHO_OPENPNM_PYTHON, or the one bench/ installs."""
    try:
        import openpnm  # noqa: F401
    except ImportError:
        pass
    else:
        return sys.executable
    candidates = [os.environ.get("MORPHO_OPENPNM_PYTHON"),
                  str(Path(__file__).resolve().parents[2] / "bench" / ".venv-openpnm" / "bin" / "python")]
    return next((c for c in candidates if c and Path(c).is_file()), None)


def test_openpnm_reads_the_network(exported):
    """OpenPNM's own CSV reader gives the pores, throats, coordinates and conductances."""
    python = _openpnm_python()
    if python is None:
        pytest.skip("OpenPNM is not installed (make bench-transport installs it in bench/.venv-openpnm)")
    _, out, grains, junctions = exported
    script = (
        "import json, sys, warnings; warnings.simplefilter('ignore'); import openpnm as op\n"
        "net = op.io.network_from_csv(sys.argv[1])\n"
        "print(json.dumps({'Np': int(net.Np), 'Nt': int(net.Nt), 'x': net['pore.coords'][:, 0].tolist(),\n"
        " 'conns': net['throat.conns'].astype(int).tolist(), 'g': net['throat.conductance'].tolist(),\n"
        " 'diameter': net['pore.diameter'].tolist(), 'gap': net['throat.gap_m'].tolist()}))\n"
    )
    run = subprocess.run([python, "-c", script, str(out / "openpnm.csv")], capture_output=True, text=True,
                         timeout=300, check=True)
    net = json.loads(run.stdout.strip().splitlines()[-1])
    assert (net["Np"], net["Nt"]) == (len(grains), len(junctions))
    assert np.allclose(net["x"], grains["x_m"], rtol=1e-15, atol=0)
    assert np.array_equal(np.asarray(net["conns"]) + 1, junctions[["grain_a", "grain_b"]].to_numpy())
    assert np.allclose(net["g"], 1.0 / junctions["resistance_ohm"], rtol=1e-15, atol=0)
    assert np.allclose(net["diameter"], grains["diameter_m"], rtol=1e-15, atol=0)
    assert np.allclose(net["gap"], junctions["gap_m"], rtol=1e-15, atol=0)


def test_josephson_array_files(exported):
    _, out, grains, junctions = exported
    with np.load(out / "jja.npz") as data:
        arrays = {k: data[k] for k in data.files}
    nodes = read_csv_table(out / "jja_nodes.csv")
    edges = read_csv_table(out / "jja_edges.csv")
    assert len(nodes) == len(grains)
    assert len(edges) == len(junctions)
    assert np.array_equal(edges["node1"].to_numpy() + 1, junctions["grain_a"].to_numpy())
    assert np.array_equal(arrays["R_ohm"], junctions["resistance_ohm"].to_numpy())
    assert np.array_equal(edges["C_F"].to_numpy(), junctions["capacitance_F"].to_numpy())
    assert np.array_equal(nodes["C_ground_F"].to_numpy(), grains["capacitance_F"].to_numpy())
    assert np.all(arrays["Ic_A"] >= 0)


def test_josephson_critical_current_is_2e_ej_over_hbar():
    """PHYSICS.md 3.2 table: R_n = 10 kOhm gives E_J/k_B = 1.94088 K and I_c = 81.42 nA."""
    grains = pd.DataFrame({"grain_id": [1, 2], "x_m": [0.0, 1e-8], "y_m": [0.0, 0.0], "capacitance_F": [1e-17] * 2})
    junctions = pd.DataFrame({"grain_a": [1], "grain_b": [2], "josephson_energy_K": [1.94088],
                              "resistance_ohm": [1e4], "capacitance_F": [2e-17]})
    arrays = jja_arrays(grains, junctions)
    assert arrays["Ic_A"][0] == pytest.approx(81.42e-9, rel=1e-4)
    assert (arrays["node1"][0], arrays["node2"][0]) == (0, 1)


def test_josephson_export_refuses_a_non_planar_graph():
    ids = np.arange(1, 6)
    grains = pd.DataFrame({"grain_id": ids, "x_m": ids * 1e-8, "y_m": 0.0, "capacitance_F": 1e-17})
    pairs = [(a, b) for a in ids for b in ids if a < b]  # K5
    junctions = pd.DataFrame({"grain_a": [a for a, _ in pairs], "grain_b": [b for _, b in pairs],
                              "josephson_energy_K": 1.0, "resistance_ohm": 1e4, "capacitance_F": 1e-17})
    with pytest.raises(InputError, match="not planar"):
        jja_arrays(grains, junctions)


def test_imagej_rois_outline_every_grain(exported):
    from roifile import roiread

    folder, out, grains, _ = exported
    rois = roiread(out / "rois.zip")
    assert [r.name for r in rois] == [f"grain_{i}" for i in grains["grain_id"]]
    import tifffile

    labels = tifffile.imread(folder / "labels.tif")
    for roi, row in zip(rois, grains.itertuples(index=False), strict=True):
        xy = roi.coordinates()
        area = 0.5 * abs(np.dot(xy[:, 0], np.roll(xy[:, 1], 1)) - np.dot(xy[:, 1], np.roll(xy[:, 0], 1)))
        assert 0.85 * row.area_px <= area <= 1.01 * row.area_px + 1
        rr, cc = np.nonzero(labels == row.grain_id)  # the polygon spans the grain's pixels
        assert xy[:, 0].min() == pytest.approx(cc.min(), abs=0.51)
        assert xy[:, 0].max() == pytest.approx(cc.max() + 1, abs=0.51)
        assert xy[:, 1].min() == pytest.approx(rr.min(), abs=0.51)


def test_export_cli_writes_and_refuses_to_overwrite(exported, tmp_path, capsys):
    folder, _, _, _ = exported
    target = tmp_path / "sim"
    assert main(["export", str(folder), "--to", "npz,jja", "-o", str(target), "-q"]) == 0
    assert sorted(p.name for p in target.iterdir()) == ["graph.npz", "jja.npz", "jja_edges.csv", "jja_nodes.csv"]
    assert main(["export", str(folder), "--to", "json", "-o", str(target)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["export", str(folder), "--to", "json", "-o", str(target), "--overwrite", "-q"]) == 0
    assert [p.name for p in target.iterdir()] == ["graph.json"]


@pytest.mark.parametrize(("args", "needle"), [
    (["--to", "vtk"], "unknown export format 'vtk'"),
    (["--to", "json", "--to", ""], None),
])
def test_export_cli_bad_format(exported, tmp_path, capsys, args, needle):
    folder, _, _, _ = exported
    code = main(["export", str(folder), *args, "-o", str(tmp_path / "x"), "-q"])
    if needle is None:
        assert code == 0
    else:
        assert code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1
        assert needle in err[0]


def test_export_cli_missing_folder(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nope"), "--to", "json"]) == 2
    assert "no such analysis folder" in capsys.readouterr().err
