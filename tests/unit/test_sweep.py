"""Junction edge laws, field models, calibration and R(T, H) sweeps (morpho.sweep, PHYSICS.md 3-4)."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import special

from morpho.errors import ConfigError, InputError, NotPercolatingError
from morpho.io import AnalysisTables
from morpho.physics import bcs_gap_K, josephson_energy_K
from morpho.sweep import (
    JunctionTable,
    TransportConfig,
    edge_ln_conductance,
    grain_gaps_K,
    josephson_energies_K,
    run_transport,
)
from morpho.units import PHI_0_WB, R_Q_OHM

CFG = TransportConfig(tc_K=3.41, gap_ratio=1.764, gap_model="interpolation")


def _pair(r_n, e_c, e_a, *, radius_m=1e-6, facing_m=1e-7):
    """One junction between two grains."""
    n = np.size(r_n)
    return JunctionTable(
        node_a=np.zeros(n, dtype=np.int64), node_b=np.ones(n, dtype=np.int64),
        resistance_ohm=np.atleast_1d(np.asarray(r_n, float)), charging_energy_K=np.atleast_1d(np.asarray(e_c, float)),
        activation_energy_K=np.atleast_1d(np.asarray(e_a, float)), facing_length_m=np.full(n, facing_m),
        grain_radius_m=np.full(2, radius_m))


def test_charge_edge_follows_eq1_per_junction():
    table = _pair(1e5, 100.0, 0.8)  # E_J << E_C: a charge edge
    cfg = TransportConfig(**{**CFG.to_dict(), "b_qf": 1e-3})
    ln_g, phase = edge_ln_conductance(0.2, 0.0, table, cfg)
    assert not phase[0]
    assert math.exp(ln_g[0]) == pytest.approx((1e-3 + math.exp(-0.8 / 0.2)) / 1e5, rel=1e-12)


def test_phase_edge_follows_ambegaokar_halperin_v4():
    r_n = R_Q_OHM
    t = 1.0
    ej = float(josephson_energy_K(r_n, bcs_gap_K(t), temperature_K=t))  # 2.9653 K (PHYSICS 3.2)
    assert ej == pytest.approx(2.9653, abs=1e-4)
    table = _pair(r_n, 0.1, 0.5)  # gamma ~ 30: a phase edge
    ln_g, phase = edge_ln_conductance(t, 0.0, table, CFG)
    assert phase[0]
    x = ej / t
    assert math.exp(-ln_g[0]) == pytest.approx(r_n / special.i0(x) ** 2, rel=1e-10)
    # the asymptotic form r_0 exp(-2 E_J / T), r_0 = 2 pi (E_J / T) R_n
    cfg = TransportConfig(**{**CFG.to_dict(), "phase_slip": "arrhenius", "a_qf": 0.01})
    ln_g, _ = edge_ln_conductance(t, 0.0, table, cfg)
    assert math.exp(-ln_g[0]) == pytest.approx(r_n * (0.01 + 2 * math.pi * x * math.exp(-2 * x)), rel=1e-10)


def test_two_state_threshold_gamma_c():
    ej = float(josephson_energy_K(1e4, bcs_gap_K(0.1), temperature_K=0.1))
    table = _pair([1e4, 1e4], [ej / 1.01, ej / 0.99], [0.5, 0.5])  # gamma = 1.01 and 0.99
    _, phase = edge_ln_conductance(0.1, 0.0, table, CFG)
    assert phase.tolist() == [True, False]
    _, phase = edge_ln_conductance(0.1, 0.0, table, TransportConfig(**{**CFG.to_dict(), "gamma_c": 0.5}))
    assert phase.tolist() == [True, True]
    _, phase = edge_ln_conductance(0.1, 0.0, table, TransportConfig(**{**CFG.to_dict(), "edge_model": "insulating"}))
    assert phase.tolist() == [False, False]


def test_gl_grain_critical_fields_match_physics_1_4():
    cfg = TransportConfig(**{**CFG.to_dict(), "coherence_length_m": 100e-9})
    t = 1e-9  # xi(T) = xi(0)
    small = np.array([50e-9])
    delta0 = float(bcs_gap_K(t))
    # disk of R = 50 nm: B_c = sqrt(2) Phi0 / (pi R xi) = 0.186 T
    b_c = math.sqrt(2) * PHI_0_WB / (math.pi * 50e-9 * 100e-9)
    assert b_c == pytest.approx(0.186, abs=1e-3)
    assert grain_gaps_K(t, 0.5 * b_c, small, cfg)[0] == pytest.approx(delta0 * math.sqrt(0.75), rel=1e-8)
    assert grain_gaps_K(t, 1.001 * b_c, small, cfg)[0] == 0.0
    # a large grain is limited by H_c2 = Phi0 / (2 pi xi^2) = 0.0329 T
    large = np.array([5e-6])
    assert grain_gaps_K(t, 0.0328, large, cfg)[0] > 0
    assert grain_gaps_K(t, 0.0330, large, cfg)[0] == 0.0
    # none: no suppression
    assert grain_gaps_K(t, 10.0, small, TransportConfig(**{**cfg.to_dict(), "field_model": "none"}))[0] == delta0


def test_unequal_gaps_use_the_matsubara_sum_and_the_bound_is_an_upper_bound():
    cfg = TransportConfig(**{**CFG.to_dict(), "coherence_length_m": 100e-9})
    table = JunctionTable(np.array([0]), np.array([1]), np.array([1e4]), np.array([1.0]), np.array([0.5]),
                          np.array([1e-7]), np.array([50e-9, 5e-6]))
    ej_full = josephson_energies_K(0.3, 0.02, table, cfg)
    ej_bound = josephson_energies_K(0.3, 0.02, table, cfg, threshold_K=np.array([np.inf]))
    gaps = grain_gaps_K(0.3, 0.02, table.grain_radius_m, cfg)
    assert gaps[0] != gaps[1]
    assert ej_bound[0] > ej_full[0] > float(josephson_energy_K(1e4, gaps.min(), temperature_K=0.3))


def test_fraunhofer_node_at_one_flux_period():
    cfg = TransportConfig(**{**CFG.to_dict(), "field_model": "fraunhofer"})
    table = _pair(1e4, 1.0, 0.5, facing_m=500e-9)
    period = 1.84 * PHI_0_WB / (500e-9) ** 2
    assert period == pytest.approx(0.0152, abs=1e-4)  # 152 Oe (PHYSICS.md 3.3)
    ej0 = josephson_energies_K(0.1, 0.0, table, cfg)[0]
    assert josephson_energies_K(0.1, period, table, cfg)[0] == pytest.approx(0.0, abs=1e-12 * ej0)
    assert josephson_energies_K(0.1, 0.5 * period, table, cfg)[0] == pytest.approx(ej0 * 2 / math.pi, rel=1e-12)


def test_config_is_validated_and_names_the_key():
    with pytest.raises(ConfigError, match="edge_model"):
        TransportConfig(edge_model="quantum")
    with pytest.raises(ConfigError, match="gamma_c"):
        TransportConfig(gamma_c=-1)
    with pytest.raises(ConfigError, match=r"unknown config key transport\.gama_c"):
        TransportConfig.from_dict({"gama_c": 1})
    with pytest.raises(InputError, match="temperature"):
        edge_ln_conductance(0.0, 0.0, _pair(1e4, 1.0, 0.5), CFG)


# --- whole networks from tables --------------------------------------------------------------

def _lattice_tables(nx=9, ny=6, *, seed=0, pitch=1e-7):
    """grains/junctions of a square lattice of grains (labels absent: electrodes from centres)."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, nx * ny + 1).reshape(nx, ny)
    x, y = np.meshgrid(np.arange(nx) * pitch, np.arange(ny) * pitch, indexing="ij")
    grains = pd.DataFrame({"grain_id": ids.ravel(), "x_m": x.ravel(), "y_m": y.ravel(),
                           "diameter_m": np.full(nx * ny, 0.8 * pitch)})
    a = np.concatenate([ids[:-1, :].ravel(), ids[:, :-1].ravel()])
    b = np.concatenate([ids[1:, :].ravel(), ids[:, 1:].ravel()])
    junctions = pd.DataFrame({
        "grain_a": a, "grain_b": b, "center_distance_m": pitch, "facing_length_m": 0.5 * pitch,
        "resistance_ohm": 10.0 ** rng.uniform(4, 6, a.size), "charging_energy_K": rng.uniform(0.5, 5, a.size),
        "activation_energy_K": rng.uniform(0, 10, a.size), "g_S": np.full(a.size, 2.5e-5),
    })
    return AnalysisTables(folder=None, grains=grains, junctions=junctions, summary=None, labels=None)


def test_conductance_column_reproduces_the_uniform_lattice_v8():
    tables = _lattice_tables(11, 7)
    content, table = run_transport(tables, TransportConfig(), conductance_column="g_S")
    assert table is None
    # centres: L = 10 pitches between the inner band centres, W = 6 pitches + one neighbour distance
    assert content["electrodes"]["length_m"] == pytest.approx(10e-7)
    assert content["electrodes"]["width_m"] == pytest.approx(7e-7)
    assert content["resistance_ohm"] == pytest.approx(1 / 1.75e-5, rel=1e-10)
    assert content["sheet_resistance_ohm_per_sq"] == pytest.approx(40000.0, rel=1e-10)
    assert content["n_grains_spanning"] == 77
    assert content["red_bonds"]["count"] == 0
    assert content["duality"]["product"] == pytest.approx(1.0, abs=1e-9)


def test_insulating_sweep_follows_the_bottleneck_barrier():
    from morpho.transport import bottleneck_ln_conductance

    tables = _lattice_tables(25, 24, seed=4)
    cfg = TransportConfig(edge_model="insulating", field_model="none")
    temps = [0.05, 0.1, 0.2, 0.4]
    content, table = run_transport(tables, cfg, temperatures_K=temps, fields_T=[0.0])
    assert list(table.columns[:4]) == ["temperature_K", "field_T", "resistance_ohm", "sheet_resistance_ohm_per_sq"]
    assert len(table) == 4
    # apparent E_a between the two lowest temperatures -> the minimax barrier E* (V16, 2 %)
    j = tables.junctions
    ids = tables.grains["grain_id"].to_numpy()
    a, b = np.searchsorted(ids, j["grain_a"]), np.searchsorted(ids, j["grain_b"])
    x = tables.grains["x_m"].to_numpy()
    src, drn = x <= x.min() + 0.5e-7, x >= x.max() - 0.5e-7
    e_star = -bottleneck_ln_conductance(ids.size, a, b, -j["activation_energy_K"].to_numpy(), src, drn)
    assert content["fields"][0]["apparent_activation_energy_K"] == pytest.approx(e_star, rel=0.03)
    assert (np.diff(table["log10_sheet_resistance_ohm_per_sq"]) < 0).all()  # rho falls as T rises
    assert content["kirchhoff_residual_relative_max"] < 1e-6


def test_field_drives_the_network_from_superconducting_to_insulating():
    tables = _lattice_tables(12, 10, seed=2)
    j = tables.junctions
    j["resistance_ohm"] = 2000.0  # E_J(0) ~ 9.7 K >> E_C: every junction a phase edge at zero field
    cfg = TransportConfig(coherence_length_m=100e-9)
    content, _ = run_transport(tables, cfg, temperatures_K=[0.1, 0.2], fields_T=[0.0, 1.0])
    zero, high = content["fields"]
    assert zero["phase_edges_span_at_lowest_T"]
    assert zero["apparent_activation_energy_K"] < 0  # R falls on cooling
    assert high["n_phase_edges_at_lowest_T"] == 0
    assert high["apparent_activation_energy_K"] > 0  # R rises on cooling


def test_calibration_hits_the_normal_sheet_resistance_v21():
    from morpho.transport import NetworkSolver

    tables = _lattice_tables(10, 8, seed=3)
    cfg = TransportConfig(normal_sheet_resistance_ohm_per_sq=6500.0, field_model="none")
    content, _ = run_transport(tables, cfg, temperatures_K=[1.0])
    factor = content["calibration"]["resistance_scale_factor"]
    j = tables.junctions
    ids = tables.grains["grain_id"].to_numpy()
    a, b = np.searchsorted(ids, j["grain_a"]), np.searchsorted(ids, j["grain_b"])
    x = tables.grains["x_m"].to_numpy()
    res = NetworkSolver(ids.size, a, b, source=x <= x.min() + 5e-8, drain=x >= x.max() - 5e-8).solve(
        conductance_S=1.0 / (j["resistance_ohm"].to_numpy() * factor))
    el = content["electrodes"]
    assert res.resistance_ohm * el["width_m"] / el["length_m"] == pytest.approx(6500.0, rel=1e-12)


def _set(column, value, row=None):
    def edit(j):
        j = j.copy()
        if row is None:
            j[column] = value
        else:
            j[column] = j[column].astype(object)
            j.loc[row, column] = value
        return j
    return edit


@pytest.mark.parametrize(("edit", "needle"), [
    (lambda j: j.drop(columns="activation_energy_K"), "no column 'activation_energy_K'"),
    (_set("resistance_ohm", -1.0), "negative"),
    (_set("charging_energy_K", float("nan"), row=3), "NaN value in data row 4"),
    (_set("grain_b", "abc", row=0), "non-numeric"),
    (_set("grain_b", 9999, row=0), "not in grains.csv"),
])
def test_bad_tables_are_input_errors_naming_the_problem(edit, needle):
    import dataclasses

    tables = _lattice_tables()
    tables = dataclasses.replace(tables, junctions=edit(tables.junctions))
    with pytest.raises(InputError, match=needle):
        run_transport(tables, TransportConfig(), temperatures_K=[0.5])


def test_no_spanning_path_is_a_clear_error():
    tables = _lattice_tables(6, 4)
    g = tables.junctions
    x = tables.grains.set_index("grain_id")["x_m"]
    middle = (x[g["grain_a"]].to_numpy() < 2.5e-7) & (x[g["grain_b"]].to_numpy() > 2.5e-7)
    g.loc[middle, "g_S"] = 0.0
    with pytest.raises(NotPercolatingError, match="does not percolate"):
        run_transport(tables, TransportConfig(), conductance_column="g_S")
