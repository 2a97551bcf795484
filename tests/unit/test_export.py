"""Writing results: atomic folders, JSON safety, GraphML round trip."""

import json
import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from morpho.errors import OutputError, OutputExistsError
from morpho.export import atomic_dir, check_writable, to_jsonable, write_graphml


def test_atomic_dir_failure_leaves_nothing(tmp_path):
    target = tmp_path / "res"
    with pytest.raises(RuntimeError), atomic_dir(target, overwrite=False) as tmp:
        (tmp / "summary.json").write_text("{}")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_atomic_dir_failure_keeps_the_previous_result(tmp_path):
    target = tmp_path / "res"
    target.mkdir()
    (target / "old.txt").write_text("previous")
    with pytest.raises(KeyboardInterrupt), atomic_dir(target, overwrite=True) as tmp:
        (tmp / "new.txt").write_text("half")
        raise KeyboardInterrupt
    assert [p.name for p in tmp_path.iterdir()] == ["res"]
    assert (target / "old.txt").read_text() == "previous"


def test_atomic_dir_overwrite_replaces_whole_folder(tmp_path):
    target = tmp_path / "res"
    target.mkdir()
    (target / "stale.txt").write_text("x")
    with atomic_dir(target, overwrite=True) as tmp:
        (tmp / "fresh.txt").write_text("y")
    assert sorted(p.name for p in target.iterdir()) == ["fresh.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["res"]


def test_check_writable_existing_without_overwrite_raises(tmp_path):
    (tmp_path / "res").mkdir()
    with pytest.raises(OutputExistsError, match="--overwrite"):
        check_writable(tmp_path / "res", overwrite=False)
    blocker = tmp_path / "f"
    blocker.write_text("")
    with pytest.raises(OutputError, match="writable"):
        check_writable(blocker / "res", overwrite=False)


def test_to_jsonable_turns_nan_into_null_and_numpy_into_python():
    out = to_jsonable({"a": np.float64("nan"), "b": np.int64(3), "c": np.array([1.5, np.inf]), 4: np.bool_(True)})
    assert out == {"a": None, "b": 3, "c": [1.5, None], "4": True}
    json.dumps(out, allow_nan=False)


def test_write_graphml_round_trips_through_networkx(tmp_path):
    grains = pd.DataFrame({"grain_id": [1, 2, 3], "x_m": [0.0, 1e-7, 2e-7], "touches_border": [True, False, False],
                           "coordination": [1, 2, 1]})
    junctions = pd.DataFrame({"grain_a": [1, 2], "grain_b": [2, 3], "gap_m": [1e-8, math.nan]})
    write_graphml(grains, junctions, tmp_path / "g.graphml")
    g = nx.read_graphml(tmp_path / "g.graphml", node_type=int)
    assert sorted(g.nodes) == [1, 2, 3]
    assert g.number_of_edges() == 2
    assert g.nodes[2]["x_m"] == pytest.approx(1e-7, rel=1e-15)
    assert g.nodes[1]["touches_border"] is True
    assert g.edges[1, 2]["gap_m"] == pytest.approx(1e-8, rel=1e-15)
