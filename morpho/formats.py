"""The grain graph in the forms other tools read: networkx, NumPy, OpenPNM, Josephson-array
simulators and ImageJ (issue 6).

Every function here builds an object in memory from the tables of an analysis (``grains.csv``,
``junctions.csv``, ``labels.tif``); :func:`morpho.export.write_exports` writes them.  Node order
is the order of ``grains.csv`` (grain_id 1..n); wherever a format wants 0-based node indices,
node ``i`` is grain ``grain_id[i]``.

Units are SI throughout, as in the tables.  The Josephson-array arrays give the critical
current from the Josephson energy, I_c = 2e E_J / hbar (PHYSICS.md 3.2), with E_J = k_B x
``josephson_energy_K``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError
from .units import E_CHARGE_C, HBAR_JS, K_B_J_PER_K

__all__ = [
    "EXPORT_FORMATS",
    "grain_graph",
    "imagej_rois",
    "jja_arrays",
    "node_link",
    "numpy_arrays",
    "openpnm_table",
]

#: ``morpho export --to`` formats: name -> (files written, what reads them).
EXPORT_FORMATS: dict[str, tuple[tuple[str, ...], str]] = {
    "graphml": (("graph.graphml",), "networkx.read_graphml, Gephi, igraph"),
    "json": (("graph.json",), "networkx.node_link_graph (node-link, edges under 'links'), D3"),
    "parquet": (("grains.parquet", "junctions.parquet"), "pandas.read_parquet, pyarrow, fastparquet, polars"),
    "npz": (("graph.npz",), "numpy.load"),
    "openpnm": (("openpnm.csv",), "openpnm.io.network_from_csv"),
    "jja": (("jja.npz", "jja_nodes.csv", "jja_edges.csv"), "Josephson-junction-array simulators"),
    "imagej-roi": (("rois.zip",), "Fiji / ImageJ ROI Manager, roifile.roiread"),
}


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python scalar networkx writers accept."""
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _check_tables(grains: pd.DataFrame, junctions: pd.DataFrame, *, coords: bool = False) -> None:
    """InputError unless the tables have ids (and centres, with `coords`) and agree on the grains."""
    node_cols = ("grain_id", "x_m", "y_m") if coords else ("grain_id",)
    for name, frame, needed in (("grains", grains, node_cols),
                                ("junctions", junctions, ("grain_a", "grain_b"))):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            msg = f"{name} table lacks column(s) {', '.join(missing)}; give the tables of 'morpho analyze'"
            raise InputError(msg)
    known = set(grains["grain_id"].tolist())
    unknown = set(junctions["grain_a"].tolist()) | set(junctions["grain_b"].tolist())
    if not unknown <= known:
        msg = "junctions.csv names grains that grains.csv does not have; the tables are not of one analysis"
        raise InputError(msg)


def grain_graph(grains: pd.DataFrame, junctions: pd.DataFrame, *,
                graph_attributes: dict[str, Any] | None = None):
    """The grain graph as a ``networkx.Graph``: nodes = grain_id with the grain columns, edges =
    junctions with the junction columns (the same names and values as the CSVs)."""
    import networkx as nx

    _check_tables(grains, junctions)
    graph = nx.Graph(**(graph_attributes or {}))
    node_cols = [c for c in grains.columns if c != "grain_id"]
    ids = grains["grain_id"].to_numpy()
    columns = [grains[c].to_numpy() for c in node_cols]
    graph.add_nodes_from((int(ids[i]), {c: _plain(col[i]) for c, col in zip(node_cols, columns, strict=True)})
                         for i in range(len(ids)))
    edge_cols = [c for c in junctions.columns if c not in ("grain_a", "grain_b")]
    a, b = junctions["grain_a"].to_numpy(), junctions["grain_b"].to_numpy()
    columns = [junctions[c].to_numpy() for c in edge_cols]
    graph.add_edges_from((int(a[k]), int(b[k]),
                          {c: _plain(col[k]) for c, col in zip(edge_cols, columns, strict=True)})
                         for k in range(len(a)))
    return graph


def node_link(grains: pd.DataFrame, junctions: pd.DataFrame, *,
              graph_attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    """The node-link dictionary of :func:`grain_graph` (``networkx.node_link_data``, edges under
    ``"links"`` as D3 and networkx < 3.6 expect); read back with
    ``networkx.node_link_graph(data, edges="links")``.  Non-finite numbers become ``None``
    (JSON has no NaN)."""
    import networkx as nx

    data = nx.node_link_data(grain_graph(grains, junctions, graph_attributes=graph_attributes), edges="links")
    for item in (*data["nodes"], *data["links"]):
        for key, value in item.items():
            if isinstance(value, float) and not np.isfinite(value):
                item[key] = None
    return data


def _edge_index(grains: pd.DataFrame, junctions: pd.DataFrame) -> np.ndarray:
    """(m, 2) 0-based node indices of the junctions (node i = row i of `grains`)."""
    ids = grains["grain_id"].to_numpy(dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    pairs = junctions[["grain_a", "grain_b"]].to_numpy(dtype=np.int64)
    return order[np.searchsorted(ids[order], pairs)]


def numpy_arrays(grains: pd.DataFrame, junctions: pd.DataFrame, *,
                 pixel_size_m: float | None = None) -> dict[str, np.ndarray]:
    """Arrays for ``numpy.savez``: ``coords_m`` (n, 2) as (x, y), ``edges`` (m, 2) 0-based node
    indices, ``grain_id`` (n,), every other grain column as ``node_<column>`` and every junction
    column as ``edge_<column>``, and ``pixel_size_m`` (NaN if unknown)."""
    _check_tables(grains, junctions, coords=True)
    out: dict[str, np.ndarray] = {
        "coords_m": grains[["x_m", "y_m"]].to_numpy(dtype=np.float64),
        "edges": _edge_index(grains, junctions),
        "grain_id": grains["grain_id"].to_numpy(dtype=np.int64),
        "pixel_size_m": np.float64(np.nan if pixel_size_m is None else pixel_size_m),
    }
    for col in grains.columns:
        if col != "grain_id":
            out[f"node_{col}"] = grains[col].to_numpy()
    for col in junctions.columns:
        if col not in ("grain_a", "grain_b"):
            out[f"edge_{col}"] = junctions[col].to_numpy()
    return out


def openpnm_table(grains: pd.DataFrame, junctions: pd.DataFrame) -> pd.DataFrame:
    """The network in the CSV layout of ``openpnm.io.network_from_csv`` (OpenPNM 3).

    Columns ``pore.coords[0..2]`` (x, y, 0 in m), ``throat.conns[0..1]`` (0-based pores),
    ``pore.diameter`` (= ``diameter_m``), ``throat.conductance`` (1 / ``resistance_ohm``, S)
    when the junctions have a resistance, and every other numeric grain and junction column as
    ``pore.<column>`` and ``throat.<column>``; the shorter of the two lists is padded with NaN
    (OpenPNM reads the pore and throat counts from the first NaN of the coordinates and
    connections).  Booleans are written as 0/1.
    """
    _check_tables(grains, junctions, coords=True)
    n, m = len(grains), len(junctions)
    rows = max(n, m)

    def padded(values: np.ndarray) -> np.ndarray:
        col = np.full(rows, np.nan)
        col[: values.size] = values.astype(np.float64)
        return col

    cols: dict[str, np.ndarray] = {}
    coords = grains[["x_m", "y_m"]].to_numpy(dtype=np.float64)
    for k, values in enumerate((coords[:, 0], coords[:, 1], np.zeros(n))):
        cols[f"pore.coords[{k}]"] = padded(values)
    conns = _edge_index(grains, junctions)
    for k in range(2):
        cols[f"throat.conns[{k}]"] = padded(conns[:, k])
    if "diameter_m" in grains.columns:
        cols["pore.diameter"] = padded(grains["diameter_m"].to_numpy())
    if "resistance_ohm" in junctions.columns:
        with np.errstate(divide="ignore"):
            cols["throat.conductance"] = padded(1.0 / junctions["resistance_ohm"].to_numpy(dtype=np.float64))
    for prefix, frame, skip in (("pore", grains, {"x_m", "y_m"}), ("throat", junctions, {"grain_a", "grain_b"})):
        for col in frame.columns:
            if col in skip or frame[col].dtype.kind not in "biuf":
                continue
            cols[f"{prefix}.{col}"] = padded(frame[col].to_numpy())
    return pd.DataFrame(cols)


def jja_arrays(grains: pd.DataFrame, junctions: pd.DataFrame) -> dict[str, np.ndarray]:
    """Arrays for Josephson-junction-array simulators, after a planarity check.

    Nodes: ``x_m, y_m`` (grain centres) and ``C_ground_F`` (each grain's self-capacitance,
    ``capacitance_F``); edges: ``node1, node2`` (0-based), ``Ic_A`` = 2e E_J / hbar,
    ``R_ohm`` (normal-state resistance) and ``C_F`` (junction capacitance).

    Raises
    ------
    InputError
        If a needed column is missing, or the junction graph is not planar (a 2-D array
        simulator assumes one; the SKIZ adjacency of a micrograph always is, so this means the
        tables were edited or are not from one analysis).
    """
    import networkx as nx

    _check_tables(grains, junctions, coords=True)
    need = {"junctions": ("josephson_energy_K", "resistance_ohm", "capacitance_F"), "grains": ("capacitance_F",)}
    for name, frame in (("junctions", junctions), ("grains", grains)):
        missing = [c for c in need[name] if c not in frame.columns]
        if missing:
            msg = f"{name} table lacks {', '.join(missing)}; the Josephson-array export needs the physics columns"
            raise InputError(msg)
    edges = _edge_index(grains, junctions)
    graph = nx.Graph()
    graph.add_nodes_from(range(len(grains)))
    graph.add_edges_from(edges.tolist())
    planar, _ = nx.check_planarity(graph)
    if not planar:
        msg = ("the junction graph is not planar, which a Josephson-array simulator assumes; export the "
               "tables of one 'morpho analyze' run unedited")
        raise InputError(msg)
    e_j = junctions["josephson_energy_K"].to_numpy(dtype=np.float64) * K_B_J_PER_K
    return {
        "x_m": grains["x_m"].to_numpy(dtype=np.float64),
        "y_m": grains["y_m"].to_numpy(dtype=np.float64),
        "C_ground_F": grains["capacitance_F"].to_numpy(dtype=np.float64),
        "node1": edges[:, 0].copy(),
        "node2": edges[:, 1].copy(),
        "Ic_A": 2.0 * E_CHARGE_C * e_j / HBAR_JS,
        "R_ohm": junctions["resistance_ohm"].to_numpy(dtype=np.float64),
        "C_F": junctions["capacitance_F"].to_numpy(dtype=np.float64),
    }


def imagej_rois(labels: np.ndarray) -> list:
    """One ImageJ polygon ROI per grain (``roifile.ImagejRoi``), named ``grain_<id>``.

    The outline is the grain's outer boundary traced half-way between its pixels and the
    pixels around it (marching squares at level 0.5), in ImageJ's coordinates (x = column,
    y = row, a pixel spans [x, x + 1)), so the polygon encloses the grain's pixels and its area
    is the pixel count minus the corners it cuts.  Holes are not part of an ImageJ polygon.
    Grains whose pixels are disjoint (none in morpho's labels) get the outline of their
    largest piece.
    """
    from roifile import ImagejRoi
    from scipy import ndimage as ndi
    from skimage.measure import find_contours

    lab = np.asarray(labels)
    if lab.ndim != 2 or lab.dtype.kind not in "iu":
        msg = f"labels must be a 2-D integer image, got {lab.dtype} with shape {lab.shape}"
        raise InputError(msg)
    rois = []
    for index, box in enumerate(ndi.find_objects(lab), start=1):
        if box is None:
            continue
        r0, c0 = box[0].start, box[1].start
        own = np.pad(lab[box] == index, 1).astype(np.float32)
        contours = find_contours(own, 0.5)
        outline = max(contours, key=len)  # (row, col) in the padded box
        xy = np.stack([outline[:, 1] - 1 + c0 + 0.5, outline[:, 0] - 1 + r0 + 0.5], axis=1)
        rois.append(ImagejRoi.frompoints(xy[:-1], name=f"grain_{index}"))
    return rois
