"""Tests of morpho.physics against the verified numbers of PHYSICS.md (sections 1-3, 5)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import constants as sc
from scipy.spatial import Delaunay
from scipy.special import ellipk

from morpho import units
from morpho.errors import ConfigError, InputError
from morpho.physics import (
    PhysicsConfig,
    PhysicsResult,
    _dipole_selected_inverse,  # private fast path, tested directly
    ambegaokar_baratoff_icrn_equal_V,
    ambegaokar_baratoff_icrn_V,
    bcs_gap_K,
    bcs_gap_weak_coupling_K,
    charge_C,
    charging_energy_K,
    compute_physics,
    coplanar_capacitance_F,
    coplanar_capacitance_per_length_F_per_m,
    ej_over_ec,
    island_capacitance_F,
    josephson_energy_K,
    junction_capacitance_F,
    maxwell_capacitance_matrix,
    pair_activation_energy_K,
    pair_activation_energy_local_K,
    self_capacitance_F,
    tunnel_resistance_ohm,
)

FF = 1e-15  # one femtofarad
GRAIN_D_M = 100e-9  # PHYSICS.md 2.6: grain size a = 100 nm
GAP_M = 10e-9  # d = 10 nm
FACING_M = 100e-9  # L_ij = 100 nm (rows G, H)
Z = 6  # coordination


@pytest.fixture(autouse=True)
def _strict_floating_point():
    """Every floating-point exception raises (STYLE 4.2), scoped to each test."""
    with np.errstate(all="raise"):
        yield


# ------------------------------------------------------------------------------------------
# lattice builders (test-local ground truth)
# ------------------------------------------------------------------------------------------


def torus_edges(m: int, *, diagonal: bool) -> tuple[np.ndarray, np.ndarray]:
    """Edges (a < b) of an m x m torus: square (z = 4), or with one diagonal per plaquette (z = 6)."""
    i, j = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    u = (i * m + j).ravel()
    neighbours = [(((i + 1) % m) * m + j).ravel(), (i * m + (j + 1) % m).ravel()]
    if diagonal:
        neighbours.append((((i + 1) % m) * m + (j + 1) % m).ravel())
    a = np.concatenate([np.minimum(u, v) for v in neighbours])
    b = np.concatenate([np.maximum(u, v) for v in neighbours])
    return a, b


def triangular_lattice(
    n: int, *, periodic: bool, diameter_m: float = GRAIN_D_M, gap_m: float = GAP_M, facing_m: float = FACING_M
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Grains and junctions of an n x n triangular lattice (z = 6 inside, or everywhere if periodic)."""
    pitch = diameter_m + gap_m
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    i = i.ravel()
    j = j.ravel()
    a_list, b_list = [], []
    for di, dj in ((1, 0), (0, 1), (1, -1)):
        ni, nj = i + di, j + dj
        if periodic:
            ni, nj, keep = ni % n, nj % n, np.ones(i.size, dtype=bool)
        else:
            keep = (ni >= 0) & (ni < n) & (nj >= 0) & (nj < n)
        u = i[keep] * n + j[keep]
        v = ni[keep] * n + nj[keep]
        a_list.append(np.minimum(u, v))
        b_list.append(np.maximum(u, v))
    a = np.concatenate(a_list) + 1
    b = np.concatenate(b_list) + 1
    degree = np.bincount(a - 1, minlength=n * n) + np.bincount(b - 1, minlength=n * n)
    grains = pd.DataFrame(
        {
            "grain_id": np.arange(1, n * n + 1),
            "area_m2": np.full(n * n, np.pi * diameter_m**2 / 4),
            "diameter_m": np.full(n * n, diameter_m),
            "x_m": (j + 0.5 * i) * pitch,
            "y_m": i * pitch * math.sqrt(3) / 2,
            "touches_border": (i == 0) | (j == 0) | (i == n - 1) | (j == n - 1),
            "coordination": degree,
        }
    )
    junctions = pd.DataFrame(
        {
            "grain_a": a,
            "grain_b": b,
            "gap_m": np.full(a.size, gap_m),
            "facing_length_m": np.full(a.size, facing_m),
            "center_distance_m": np.full(a.size, pitch),
        }
    )
    return grains, junctions


def random_network(rng: np.random.Generator, n: int = 60) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Delaunay network of n random grains with random sizes, gaps and facing lengths."""
    points = rng.random((n, 2)) * 2e-6
    edges = set()
    for simplex in Delaunay(points).simplices:
        for p, q in ((0, 1), (1, 2), (0, 2)):
            u, v = int(simplex[p]), int(simplex[q])
            edges.add((min(u, v), max(u, v)))
    pairs = np.array(sorted(edges))
    grains = pd.DataFrame(
        {
            "grain_id": np.arange(1, n + 1),
            "diameter_m": rng.lognormal(np.log(100e-9), 0.5, n),
            "x_m": points[:, 0],
            "y_m": points[:, 1],
        }
    )
    junctions = pd.DataFrame(
        {
            "grain_a": pairs[:, 0] + 1,
            "grain_b": pairs[:, 1] + 1,
            "gap_m": rng.uniform(0.0, 20e-9, len(pairs)),
            "facing_length_m": rng.uniform(20e-9, 150e-9, len(pairs)),
        }
    )
    return grains, junctions


# ------------------------------------------------------------------------------------------
# constants (PHYSICS.md 1.1, V1)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected", "rel"),
    [
        (units.R_Q_OHM, 6453.2019, 1e-8),  # quoted to 8 digits
        (units.R_K_OHM, 25812.8075, 1e-8),
        (units.PHI_0_WB, 2.0678338485e-15, 1e-9),
        (units.E_CHARGE_C**2 / (2 * units.K_B_J_PER_K), 9.2962439e-16, 1e-8),  # F K
        (units.EPSILON_0_F_PER_M, 8.8541878188e-12, 1e-6),  # CODATA 2018 vs 2022 differ by 7e-10
        (units.K_B_J_PER_K / units.E_CHARGE_C * 1e6, 86.17333, 1e-6),  # 1 K in ueV
    ],
)
def test_constants_match_physics_table(value, expected, rel):
    assert value == pytest.approx(expected, rel=rel)


def test_charging_energy_K_one_femtofarad_is_0p92962439_K():
    assert float(charging_energy_K(1 * FF)) == pytest.approx(0.92962439, rel=1e-8)


def test_charging_energy_K_2e_is_four_times_e():
    c = np.array([0.1, 1.0, 3.0]) * FF
    np.testing.assert_allclose(charging_energy_K(c, charge_unit="2e"), 4 * charging_energy_K(c), rtol=1e-14)


def test_charging_energy_K_zero_capacitance_is_inf():
    out = charging_energy_K(np.array([0.0, FF]))
    assert np.isposinf(out[0])
    assert np.isfinite(out[1])


def test_charge_C_unknown_unit_raises():
    with pytest.raises(ConfigError, match="charge_unit '3e'"):
        charge_C("3e")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# PHYSICS.md 2.6 worked example (V5), rtol 1e-4 as in the table
# ------------------------------------------------------------------------------------------

# row: (config overrides, kind, C [fF], E_C[e], E_C/z[e], E_C[2e], /z[2e])  (None: not tabulated)
ROWS = {
    "A": ({"capacitance_model": "plate_area", "plate_area_model": "diameter_squared"}, "junction",
          0.088542, 10.4993, 1.7499, 41.9970, 6.9995),
    "B": ({"capacitance_model": "abeles"}, "junction", 0.333795, 2.7850, 0.4642, 11.1401, 1.8567),
    "C": ({"capacitance_model": "plate_area", "plate_area_model": "pi_diameter_squared"}, "junction",
          0.278163, 3.3420, 0.5570, 13.3681, 2.2280),
    "E": ({"self_capacitance_model": "disk", "effective_permittivity": 10.0}, "self",
          0.035417, 26.2482, 4.3747, 104.99, 17.499),
    "F": ({"self_capacitance_model": "sphere"}, "self", 0.055633, 16.7101, 2.7850, 66.840, 11.140),
    "G": ({"capacitance_model": "coplanar", "effective_permittivity": 10.0}, "junction",
          0.021319, 43.606, 7.268, 174.42, 29.07),
    "G'": ({"capacitance_model": "coplanar"}, "junction", 0.011725, 79.283, 13.214, None, None),
    "H": ({"capacitance_model": "plate_edge", "film_thickness_m": 10e-9}, "junction",
          0.0088542, 104.99, 17.50, None, None),
}  # fmt: skip


@pytest.mark.parametrize("row", list(ROWS))
def test_capacitance_table_row(row):
    overrides, kind, c_fF, ec_e, ecz_e, ec_2e, ecz_2e = ROWS[row]
    cfg = PhysicsConfig(**overrides)
    r = GRAIN_D_M / 2
    if kind == "junction":
        c = float(junction_capacitance_F(r, r, GAP_M, FACING_M, config=cfg))
    else:
        c = float(self_capacitance_F(r, config=cfg))
    assert c / FF == pytest.approx(c_fF, rel=1e-4)
    assert float(charging_energy_K(c)) == pytest.approx(ec_e, rel=1e-4)
    assert float(charging_energy_K(c)) / Z == pytest.approx(ecz_e, rel=1e-4)
    if ec_2e is not None:
        assert float(charging_energy_K(c, charge_unit="2e")) == pytest.approx(ec_2e, rel=1e-4)
        assert float(charging_energy_K(c, charge_unit="2e")) / Z == pytest.approx(ecz_2e, rel=1e-4)


def test_capacitance_table_row_D_island_energy_of_plate_area_lattice():
    """Row D: C_Sigma = z C_A on a z = 6 lattice, island energy 1.7499 K, /z 0.2916 K."""
    grains, junctions = triangular_lattice(6, periodic=True)
    cfg = PhysicsConfig(capacitance_model="plate_area", self_capacitance_model="none")
    res = compute_physics(grains, junctions, mean_coordination=6.0, config=cfg)
    np.testing.assert_allclose(res.grains["capacitance_F"] / FF, 0.531251, rtol=1e-4)
    np.testing.assert_allclose(res.grains["charging_energy_K"], 1.7499, rtol=1e-4)
    np.testing.assert_allclose(res.grains["charging_energy_K"] / Z, 0.2916, atol=5e-5)  # 4 decimals quoted


def test_abeles_per_junction_uses_pair_mean_radius():
    cfg = PhysicsConfig()
    c_pair = junction_capacitance_F(30e-9, 70e-9, GAP_M, FACING_M, config=cfg)
    c_mean = junction_capacitance_F(50e-9, 50e-9, GAP_M, FACING_M, config=cfg)
    assert float(c_pair) == pytest.approx(float(c_mean), rel=1e-14)


def test_junction_capacitance_gap_is_floored_at_min_gap():
    cfg = PhysicsConfig(min_gap_m=0.5e-9)
    for model in ("abeles", "plate_edge", "plate_area", "coplanar", "plate_edge+coplanar"):
        touching = junction_capacitance_F(50e-9, 50e-9, 0.0, FACING_M, config=cfg, model=model)
        floored = junction_capacitance_F(50e-9, 50e-9, 0.5e-9, FACING_M, config=cfg, model=model)
        assert np.isfinite(touching)
        assert float(touching) == float(floored)


def test_junction_capacitance_sum_model_is_sum_of_parts():
    cfg = PhysicsConfig()
    args = (np.array([40e-9, 60e-9]), np.array([50e-9, 20e-9]), np.array([5e-9, 12e-9]), np.array([80e-9, 30e-9]))
    total = junction_capacitance_F(*args, config=cfg, model="plate_edge+coplanar")
    parts = junction_capacitance_F(*args, config=cfg, model="plate_edge") + junction_capacitance_F(
        *args, config=cfg, model="coplanar"
    )
    np.testing.assert_allclose(total, parts, rtol=1e-14)


def test_junction_capacitance_unknown_model_raises():
    with pytest.raises(ConfigError, match="unknown capacitance model 'wire'"):
        junction_capacitance_F(50e-9, 50e-9, GAP_M, FACING_M, config=PhysicsConfig(), model="wire")  # type: ignore[arg-type]


def test_self_capacitance_none_is_zero():
    c0 = self_capacitance_F([1e-8, 5e-8], config=PhysicsConfig(self_capacitance_model="none"))
    np.testing.assert_array_equal(c0, 0)


# ------------------------------------------------------------------------------------------
# coplanar strips (V5b)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("w_m", "s_m"), [(1.0, 0.1), (50e-9, 10e-9), (3.0, 0.01), (1e-7, 2e-7)])
def test_coplanar_symmetric_equals_textbook(w_m, s_m):
    k = s_m / (s_m + 2 * w_m)
    textbook = units.EPSILON_0_F_PER_M * ellipk(1 - k**2) / ellipk(k**2)
    c = coplanar_capacitance_per_length_F_per_m(w_m, w_m, s_m, effective_permittivity=1.0)
    assert float(c) == pytest.approx(textbook, rel=1e-12)  # closed-form identity, round-off only


@pytest.mark.parametrize(("w1", "w2", "expected"), [(1.0, 1.0, 2.82038), (0.5, 2.0, 2.69782)])
def test_coplanar_matches_boundary_element_values(w1, w2, expected):
    c = coplanar_capacitance_per_length_F_per_m(w1, w2, 0.1, effective_permittivity=1.0)
    assert float(c) / units.EPSILON_0_F_PER_M == pytest.approx(expected, rel=1e-4)  # BEM accuracy 1e-5


def test_coplanar_capacitance_F_is_length_times_per_length():
    per = coplanar_capacitance_per_length_F_per_m(50e-9, 30e-9, 8e-9, effective_permittivity=5.5)
    full = coplanar_capacitance_F(200e-9, 50e-9, 30e-9, 8e-9, effective_permittivity=5.5)
    assert float(full) == pytest.approx(200e-9 * float(per), rel=1e-14)


# ------------------------------------------------------------------------------------------
# superconducting gap (PHYSICS.md 1.3, V2)
# ------------------------------------------------------------------------------------------


def test_bcs_gap_K_zero_temperature_indium():
    delta_K = float(bcs_gap_K(0.0))
    assert delta_K == pytest.approx(6.01524, rel=1e-6)
    assert delta_K * units.K_B_J_PER_K == pytest.approx(8.304935e-23, rel=1e-6)
    assert delta_K * units.K_B_J_PER_K / units.E_CHARGE_C * 1e3 == pytest.approx(0.518353, rel=1e-6)  # meV


@pytest.mark.parametrize(
    ("t", "exact", "interp"),
    [(0.5, 0.95688, 0.94023), (0.8, 0.71104, 0.70137), (0.9, 0.52634, 0.52267), (0.95, 0.38032, 0.37925)],
)
def test_bcs_gap_table(t, exact, interp):
    tc = 3.41
    delta0_exact = float(bcs_gap_weak_coupling_K(0.0, tc_K=tc))
    assert float(bcs_gap_weak_coupling_K(t * tc, tc_K=tc)) / delta0_exact == pytest.approx(exact, abs=1e-5)
    assert float(bcs_gap_K(t * tc, tc_K=tc)) / float(bcs_gap_K(0.0, tc_K=tc)) == pytest.approx(interp, abs=1e-5)
    # the "bcs" model has the exact shape with Delta(0) = gap_ratio k_B T_c
    assert float(bcs_gap_K(t * tc, tc_K=tc, model="bcs")) / (1.764 * tc) == pytest.approx(exact, abs=1e-5)


def test_bcs_gap_weak_coupling_zero_temperature_ratio():
    assert float(bcs_gap_weak_coupling_K(0.0, tc_K=1.0)) == pytest.approx(1.763877, abs=1e-6)
    # the solver itself (t = 0.05 > the 0.02 shortcut) approaches the same limit
    assert float(bcs_gap_weak_coupling_K(0.05, tc_K=1.0)) == pytest.approx(1.763877, abs=1e-5)


def test_bcs_gap_interpolation_vs_exact_max_difference():
    t = np.linspace(0.05, 0.99, 60)
    exact = bcs_gap_weak_coupling_K(t, tc_K=1.0) / float(bcs_gap_weak_coupling_K(0.0, tc_K=1.0))
    interp = bcs_gap_K(t, tc_K=1.0, gap_ratio=1.0)
    assert np.max(np.abs(exact - interp)) <= 0.0175  # PHYSICS.md 1.3


def test_bcs_gap_vanishes_at_and_above_tc():
    np.testing.assert_array_equal(bcs_gap_K([3.41, 4.0, 10.0]), 0.0)
    np.testing.assert_array_equal(bcs_gap_weak_coupling_K([3.41, 4.0], tc_K=3.41), 0.0)


@pytest.mark.parametrize("temps", [-0.5, np.nan])
def test_bcs_gap_bad_temperature_raises(temps):
    with pytest.raises(InputError, match="temperature_K must be finite and >= 0"):
        bcs_gap_K(temps)


def test_bcs_gap_unknown_model_raises():
    with pytest.raises(ConfigError, match="gap model 'bogus'"):
        bcs_gap_K(1.0, model="bogus")  # type: ignore[arg-type]


@pytest.mark.parametrize(("temps", "tc", "match"), [(1.0, 0.0, "tc_K"), (-1.0, 3.41, "temperature_K")])
def test_bcs_gap_weak_coupling_bad_input_raises(temps, tc, match):
    with pytest.raises(InputError, match=match):
        bcs_gap_weak_coupling_K(temps, tc_K=tc)


# ------------------------------------------------------------------------------------------
# tunnelling, Ambegaokar-Baratoff, E_J (PHYSICS.md 3.1-3.2, V3)
# ------------------------------------------------------------------------------------------


def test_tunnel_resistance_formula():
    r = tunnel_resistance_ohm(100e-9, 10e-9, prefactor_S_per_m=1e7, decay_length_m=2e-9)
    assert float(r) == pytest.approx(math.exp(10.0) / (1e7 * 100e-9), rel=1e-13)


def test_tunnel_resistance_zero_length_and_huge_gap_are_inf_without_warning():
    r = tunnel_resistance_ohm([0.0, 100e-9, 100e-9], [1e-9, 5e-6, 0.0], prefactor_S_per_m=1e7, decay_length_m=2e-9)
    assert np.isposinf(r[0])
    assert np.isposinf(r[1])
    assert r[2] == pytest.approx(1.0, rel=1e-13)
    assert float(josephson_energy_K(r[1], 6.0)) == 0.0


@pytest.mark.parametrize("t_over_delta", [0.1, 0.3, 0.5])
def test_ab_matsubara_sum_equals_closed_form(t_over_delta):
    delta_K = 6.01524
    t = t_over_delta * delta_K
    general = float(ambegaokar_baratoff_icrn_V(delta_K, delta_K, temperature_K=t))
    closed = float(ambegaokar_baratoff_icrn_equal_V(delta_K, temperature_K=t))
    assert general == pytest.approx(closed, rel=1e-8)  # V3


def test_ab_icrn_zero_temperature_indium_is_0p814227_mV():
    assert float(ambegaokar_baratoff_icrn_equal_V(bcs_gap_K(0.0))) * 1e3 == pytest.approx(0.814227, rel=1e-6)


@pytest.mark.parametrize(("ratio", "expected"), [(0.5, 1.0782578), (0.8, 1.4006030), (1.0, math.pi / 2)])
def test_ab_unequal_gaps_zero_temperature(ratio, expected):
    icrn_V = float(ambegaokar_baratoff_icrn_V(1.0, ratio))
    assert icrn_V * units.E_CHARGE_C / units.K_B_J_PER_K == pytest.approx(expected, rel=1e-7)  # 8 digits quoted


def test_ab_unequal_gaps_low_temperature_sum_meets_zero_temperature_form():
    """Just above the T = 0 shortcut (k_BT = min(Delta)/45) the Matsubara sum gives the T = 0 value."""
    warm = float(ambegaokar_baratoff_icrn_V(1.0, 0.5, temperature_K=0.5 / 45))
    cold = float(ambegaokar_baratoff_icrn_V(1.0, 0.5))
    assert warm == pytest.approx(cold, rel=1e-8)  # thermal correction ~ exp(-45)


def test_ab_vectorised_and_zero_gap():
    out = ambegaokar_baratoff_icrn_V(np.array([1.0, 0.0, 2.0]), np.array([0.5, 1.0, 2.0]), temperature_K=0.4)
    assert out.shape == (3,)
    assert out[1] == 0.0
    assert out[2] == pytest.approx(float(ambegaokar_baratoff_icrn_equal_V(2.0, temperature_K=0.4)), rel=1e-8)


def test_josephson_energy_zero_temperature_per_quantum():
    delta_K = float(bcs_gap_K(0.0))
    assert float(josephson_energy_K(units.R_Q_OHM, delta_K)) == pytest.approx(3.00762, rel=1e-6)
    assert float(josephson_energy_K(10e3, delta_K)) == pytest.approx(1.94088, rel=5e-6)  # 6 digits quoted
    ic_A = float(ambegaokar_baratoff_icrn_equal_V(delta_K)) / 10e3
    assert ic_A * 1e9 == pytest.approx(81.42, rel=1e-4)  # nA, 4 digits quoted


def test_josephson_energy_is_hbar_ic_over_2e():
    delta_K, t, r = 5.0, 1.3, 4321.0
    ic = float(ambegaokar_baratoff_icrn_equal_V(delta_K, temperature_K=t)) / r
    expected_K = units.HBAR_JS * ic / (2 * units.E_CHARGE_C) / units.K_B_J_PER_K
    assert float(josephson_energy_K(r, delta_K, temperature_K=t)) == pytest.approx(expected_K, rel=1e-12)


@pytest.mark.parametrize(("t", "expected"), [(1.0, 2.9653), (2.0, 2.3604), (3.0, 0.8772)])
def test_josephson_energy_finite_temperature_interpolated_gap(t, expected):
    ej = float(josephson_energy_K(units.R_Q_OHM, bcs_gap_K(t), temperature_K=t))
    assert ej == pytest.approx(expected, rel=5e-5)  # 5 digits quoted


def test_ej_over_ec_handles_infinite_charging_energy():
    out = ej_over_ec(np.array([1.0, 2.0, np.nan]), np.array([2.0, np.inf, 1.0]))
    assert out[0] == 0.5
    assert out[1] == 0.0
    assert np.isnan(out[2])


# ------------------------------------------------------------------------------------------
# capacitance matrix and pair energies (PHYSICS.md 2.4, V6)
# ------------------------------------------------------------------------------------------


def test_maxwell_matrix_symmetric_with_row_sums_c0():
    rng = np.random.default_rng(3)
    a, b = torus_edges(5, diagonal=True)
    cij = rng.uniform(0.5, 2.0, a.size) * FF
    c0 = rng.uniform(0.01, 0.1, 25) * FF
    m = maxwell_capacitance_matrix(c0, cij, a, b)
    assert abs(m - m.T).max() == 0
    np.testing.assert_allclose(np.asarray(m.sum(axis=1)).ravel(), c0, rtol=1e-9, atol=1e-12 * FF)
    np.testing.assert_allclose(m.diagonal(), island_capacitance_F(c0, cij, a, b), rtol=1e-14)


@pytest.mark.parametrize("method", ["selected_inverse", "solve"])
@pytest.mark.parametrize(("diagonal", "z", "expected"), [(False, 4, 0.498047), (True, 6, 0.332031)])
def test_pair_energy_torus_equals_two_n_minus_one_over_n_z(method, diagonal, z, expected):
    """(e_i - e_j)^T C^+ (e_i - e_j) C = 2(N-1)/(N z) on a 16 x 16 torus, C_0 -> 0."""
    m = 16
    n = m * m
    a, b = torus_edges(m, diagonal=diagonal)
    e = pair_activation_energy_K(np.zeros(n), np.full(a.size, FF), a, b, regularization=1e-8, method=method)
    dipole_times_c = 2 * e / charging_energy_K(FF)  # E_a = (e^2/4) dipole, E_C = e^2/2C
    exact = 2 * (n - 1) / (n * z)
    assert exact == pytest.approx(expected, abs=1e-6)
    # C_0 = 1e-8 C biases by O(1e-8) and the constant mode (1/N C_0) costs ~1e-8 in cancellation
    np.testing.assert_allclose(dipole_times_c, exact, rtol=2e-8)


def test_pair_energy_square_torus_with_small_c0_is_near_quarter():
    """C_0/C = 1e-3 lowers E_a below E_C/4 by ~0.1-0.2% (PHYSICS.md 2.4)."""
    a, b = torus_edges(32, diagonal=False)
    e = pair_activation_energy_K(np.full(32 * 32, 1e-3 * FF), np.full(a.size, FF), a, b)
    ratio = e / charging_energy_K(FF)
    np.testing.assert_allclose(ratio, 0.2496, atol=1e-4)  # 4 digits quoted
    assert np.all(ratio < 0.25)


def test_pair_energy_methods_agree_on_random_network():
    rng = np.random.default_rng(7)
    points = rng.random((300, 2))
    edges = set()
    for s in Delaunay(points).simplices:
        for p, q in ((0, 1), (1, 2), (0, 2)):
            edges.add((min(s[p], s[q]), max(s[p], s[q])))
    pairs = np.array(sorted(edges))
    cij = rng.lognormal(0.0, 1.0, len(pairs)) * FF
    c0 = rng.uniform(0.01, 0.1, 300) * FF
    fast = pair_activation_energy_K(c0, cij, pairs[:, 0], pairs[:, 1])
    slow = pair_activation_energy_K(c0, cij, pairs[:, 0], pairs[:, 1], method="solve")
    np.testing.assert_allclose(fast, slow, rtol=1e-9)  # two exact linear-algebra routes


def test_pair_energy_selected_inverse_runs_without_fallback():
    """The fast path must not silently fall back to block solves (both would agree)."""
    a, b = torus_edges(6, diagonal=True)
    rng = np.random.default_rng(4)
    m = maxwell_capacitance_matrix(rng.uniform(0.01, 0.1, 36), rng.uniform(0.5, 2.0, a.size), a, b)
    assert _dipole_selected_inverse(m, a, b) is not None


def test_pair_energy_local_is_mean_island_energy():
    c_sigma = np.array([1.0, 2.0, 4.0]) * FF
    local = pair_activation_energy_local_K(c_sigma, [0, 1], [1, 2])
    island = charging_energy_K(c_sigma)
    np.testing.assert_allclose(local, [(island[0] + island[1]) / 2, (island[1] + island[2]) / 2], rtol=1e-14)


def test_pair_energy_two_grains_closed_form():
    """Two grains, C_0 each, C between: dipole = 2/(C_0 + 2C)."""
    c0, c = 0.2 * FF, 1.0 * FF
    e = pair_activation_energy_K([c0, c0], [c], [0], [1], charge_unit="2e")
    expected_K = (2 * units.E_CHARGE_C) ** 2 / 4 * 2 / (c0 + 2 * c) / units.K_B_J_PER_K
    assert float(e[0]) == pytest.approx(expected_K, rel=1e-12)


def test_pair_energy_edge_cases():
    assert pair_activation_energy_K([FF, FF], [], [], []).shape == (0,)
    assert np.all(np.isposinf(pair_activation_energy_K([0.0, 0.0], [0.0], [0], [1])))
    with pytest.raises(ConfigError, match="method 'dense'"):
        pair_activation_energy_K([FF, FF], [FF], [0], [1], method="dense")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# compute_physics end to end
# ------------------------------------------------------------------------------------------


def test_compute_physics_triangular_lattice_reproduces_paper_estimate():
    """100 nm grains, 10 nm gaps, kappa 10, <z> = 6, default config: E_aI = 0.4642 K (row B)."""
    grains, junctions = triangular_lattice(7, periodic=False)
    res = compute_physics(grains, junctions, mean_coordination=6.0, config=PhysicsConfig())
    assert isinstance(res, PhysicsResult)
    s = res.summary
    assert s["activation_energy_K"] == pytest.approx(0.4642, rel=1e-4)
    assert s["charging_energy_K_median"] == pytest.approx(2.7850, rel=1e-4)
    assert s["alpha"] == pytest.approx(1 / 6, rel=1e-15)
    assert s["charge_unit"] == "e"
    by_model = s["activation_energy_K_by_model"]
    assert set(by_model) == {"abeles", "plate_edge", "plate_area", "coplanar", "plate_edge+coplanar"}
    assert by_model["abeles"] == s["activation_energy_K"]
    assert by_model["plate_edge"] == pytest.approx(17.50, rel=1e-4)  # row H
    assert by_model["coplanar"] == pytest.approx(13.214, rel=1e-4)  # row G', eps_eff = (10+1)/2
    assert by_model["plate_area"] == pytest.approx(1.7499, rel=1e-4)  # row A
    assert PhysicsConfig.from_dict(s["parameters"]) == PhysicsConfig()
    json.dumps(s)  # the summary is JSON-ready


def test_compute_physics_output_columns_and_values():
    grains, junctions = triangular_lattice(5, periodic=False)
    cfg = PhysicsConfig()
    res = compute_physics(grains, junctions, mean_coordination=6.0, config=cfg)
    for col in ("self_capacitance_F", "capacitance_F", "charging_energy_K"):
        assert col in res.grains
    for col in (
        "capacitance_F",
        "resistance_ohm",
        "josephson_energy_K",
        "ej_over_ec",
        "charging_energy_K",
        "activation_energy_K",
        "activation_energy_local_K",
    ):
        assert col in res.junctions
    j = res.junctions
    np.testing.assert_allclose(j["ej_over_ec"], j["josephson_energy_K"] / j["charging_energy_K"], rtol=1e-14)
    r_expected = math.exp(2 * GAP_M / cfg.decay_length_m) / (cfg.tunnel_prefactor_S_per_m * FACING_M)
    np.testing.assert_allclose(j["resistance_ohm"], r_expected, rtol=1e-13)
    np.testing.assert_allclose(j["josephson_energy_K"], 3.00762 * units.R_Q_OHM / r_expected, rtol=1e-6)
    degree = grains["coordination"].to_numpy()
    c0 = res.grains["self_capacitance_F"].to_numpy()
    np.testing.assert_allclose(res.grains["capacitance_F"], c0 + degree * j["capacitance_F"].iloc[0], rtol=1e-13)
    assert res.summary["josephson_energy_K_median"] == pytest.approx(float(np.median(j["josephson_energy_K"])))


def test_compute_physics_periodic_lattice_pair_and_local_energies():
    """Every grain z = 6, C_0 = 0: local E_a = E_C/6 exactly; matrix E_a = E_C (N-1)/(6N) on the torus."""
    n_side = 8
    grains, junctions = triangular_lattice(n_side, periodic=True)
    cfg = PhysicsConfig(self_capacitance_model="none")
    res = compute_physics(grains, junctions, mean_coordination=6.0, config=cfg)
    ec = res.summary["charging_energy_K_median"]
    n = n_side**2
    np.testing.assert_allclose(res.junctions["activation_energy_local_K"], ec / 6, rtol=1e-13)
    # the regulariser C_0 = 1e-3 C lowers the torus value by < 0.1 %
    np.testing.assert_allclose(res.junctions["activation_energy_K"], ec * (n - 1) / (6 * n), rtol=1e-3)
    assert np.all(res.junctions["activation_energy_K"] < ec * (n - 1) / (6 * n))
    assert res.summary["capacitance_regularization_F"] == pytest.approx(1e-3 * res.junctions["capacitance_F"].iloc[0])


def test_compute_physics_finite_temperature_exact_gap():
    grains, junctions = triangular_lattice(4, periodic=False)
    cfg = PhysicsConfig(temperature_K=2.0, gap_model="bcs")
    res = compute_physics(grains, junctions, mean_coordination=6.0, config=cfg)
    gap_K = float(bcs_gap_K(2.0, model="bcs"))
    assert res.summary["gap_K"] == pytest.approx(gap_K, rel=1e-14)
    expected = josephson_energy_K(res.junctions["resistance_ohm"].to_numpy(), gap_K, temperature_K=2.0)
    np.testing.assert_allclose(res.junctions["josephson_energy_K"], expected, rtol=1e-14)
    assert res.summary["temperature_K"] == 2.0


def test_compute_physics_charge_2e_gives_four_times():
    grains, junctions = triangular_lattice(5, periodic=False)
    one = compute_physics(grains, junctions, mean_coordination=6.0, config=PhysicsConfig())
    two = compute_physics(grains, junctions, mean_coordination=6.0, config=PhysicsConfig(charge_unit="2e"))
    assert two.summary["activation_energy_K"] == pytest.approx(4 * one.summary["activation_energy_K"], rel=1e-14)
    assert two.summary["activation_energy_K"] == pytest.approx(1.8567, rel=1e-4)  # row B [2e]
    for col in ("charging_energy_K", "activation_energy_K", "activation_energy_local_K"):
        np.testing.assert_allclose(two.junctions[col], 4 * one.junctions[col], rtol=1e-9)
    np.testing.assert_allclose(two.junctions["ej_over_ec"], one.junctions["ej_over_ec"] / 4, rtol=1e-13)
    assert two.summary["charge_unit"] == "2e"


def test_compute_physics_alpha_override():
    grains, junctions = triangular_lattice(4, periodic=False)
    res = compute_physics(grains, junctions, mean_coordination=5.0, config=PhysicsConfig(alpha=0.25))
    assert res.summary["alpha"] == 0.25
    assert res.summary["activation_energy_K"] == pytest.approx(0.25 * res.summary["charging_energy_K_median"])


def test_compute_physics_scale_covariance():
    """All lengths x k: C x k, E_C / k, R_n / k, E_J x k, E_J/E_C x k^2, E_a / k."""
    k = 3.0
    grains, junctions = random_network(np.random.default_rng(11))
    cfg = PhysicsConfig()
    scaled_cfg = dataclasses.replace(
        cfg,
        film_thickness_m=k * cfg.film_thickness_m,
        decay_length_m=k * cfg.decay_length_m,
        min_gap_m=k * cfg.min_gap_m,
    )
    g2 = grains.assign(diameter_m=k * grains["diameter_m"], x_m=k * grains["x_m"], y_m=k * grains["y_m"])
    j2 = junctions.assign(gap_m=k * junctions["gap_m"], facing_length_m=k * junctions["facing_length_m"])
    base = compute_physics(grains, junctions, mean_coordination=5.5, config=cfg)
    big = compute_physics(g2, j2, mean_coordination=5.5, config=scaled_cfg)
    rtol = 1e-9  # closed forms are exact to round-off; pair energies go through a sparse solve
    np.testing.assert_allclose(big.grains["capacitance_F"], k * base.grains["capacitance_F"], rtol=rtol)
    np.testing.assert_allclose(big.grains["charging_energy_K"], base.grains["charging_energy_K"] / k, rtol=rtol)
    np.testing.assert_allclose(big.junctions["capacitance_F"], k * base.junctions["capacitance_F"], rtol=rtol)
    np.testing.assert_allclose(big.junctions["resistance_ohm"], base.junctions["resistance_ohm"] / k, rtol=rtol)
    np.testing.assert_allclose(big.junctions["josephson_energy_K"], k * base.junctions["josephson_energy_K"], rtol=rtol)
    np.testing.assert_allclose(big.junctions["ej_over_ec"], k**2 * base.junctions["ej_over_ec"], rtol=rtol)
    for col in ("charging_energy_K", "activation_energy_K", "activation_energy_local_K"):
        np.testing.assert_allclose(big.junctions[col], base.junctions[col] / k, rtol=rtol)
    assert big.summary["activation_energy_K"] == pytest.approx(base.summary["activation_energy_K"] / k, rel=rtol)


def test_compute_physics_does_not_mutate_inputs():
    grains, junctions = random_network(np.random.default_rng(5), n=30)
    g0, j0 = grains.copy(), junctions.copy()
    res = compute_physics(grains, junctions, mean_coordination=5.0, config=PhysicsConfig())
    pd.testing.assert_frame_equal(grains, g0)
    pd.testing.assert_frame_equal(junctions, j0)
    assert res.grains is not grains
    assert res.junctions is not junctions
    pd.testing.assert_frame_equal(res.grains[g0.columns], g0)


def test_compute_physics_relabelled_grain_ids():
    """Grain ids need not be 1..n or sorted: results follow the ids."""
    grains, junctions = random_network(np.random.default_rng(2), n=25)
    base = compute_physics(grains, junctions, mean_coordination=5.0, config=PhysicsConfig())
    new_id = {old: 1000 - 7 * old for old in grains["grain_id"]}
    g2 = grains.assign(grain_id=grains["grain_id"].map(new_id)).iloc[::-1].reset_index(drop=True)
    a = junctions["grain_a"].map(new_id)
    b = junctions["grain_b"].map(new_id)
    j2 = junctions.assign(grain_a=np.minimum(a, b), grain_b=np.maximum(a, b))
    res = compute_physics(g2, j2, mean_coordination=5.0, config=PhysicsConfig())
    np.testing.assert_allclose(res.junctions["activation_energy_K"], base.junctions["activation_energy_K"], rtol=1e-9)
    np.testing.assert_allclose(
        res.grains["capacitance_F"].to_numpy()[::-1], base.grains["capacitance_F"].to_numpy(), rtol=1e-12
    )


def test_compute_physics_grain_id_as_index():
    """DESIGN.md: the grains table may be indexed by grain_id; columns are assigned by position."""
    grains, junctions = random_network(np.random.default_rng(8), n=20)
    base = compute_physics(grains, junctions, mean_coordination=5.0, config=PhysicsConfig())
    indexed = grains.set_index("grain_id")
    res = compute_physics(indexed, junctions, mean_coordination=5.0, config=PhysicsConfig())
    pd.testing.assert_index_equal(res.grains.index, indexed.index)
    np.testing.assert_array_equal(res.grains["capacitance_F"], base.grains["capacitance_F"])
    np.testing.assert_array_equal(res.junctions["activation_energy_K"], base.junctions["activation_energy_K"])


# ------------------------------------------------------------------------------------------
# degenerate inputs (M19)
# ------------------------------------------------------------------------------------------


def _empty_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    grains = pd.DataFrame({"grain_id": pd.Series(dtype="int64"), "diameter_m": pd.Series(dtype="float64")})
    junctions = pd.DataFrame(
        {
            "grain_a": pd.Series(dtype="int64"),
            "grain_b": pd.Series(dtype="int64"),
            "gap_m": pd.Series(dtype="float64"),
            "facing_length_m": pd.Series(dtype="float64"),
        }
    )
    return grains, junctions


def test_compute_physics_zero_grains_gives_empty_tables_and_nan_summary():
    grains, junctions = _empty_tables()
    res = compute_physics(grains, junctions, mean_coordination=float("nan"), config=PhysicsConfig())
    assert len(res.grains) == 0
    assert "charging_energy_K" in res.grains
    assert len(res.junctions) == 0
    assert "activation_energy_K" in res.junctions
    s = res.summary
    for key in (
        "charging_energy_K_median",
        "josephson_energy_K_median",
        "ej_over_ec_median",
        "activation_energy_K",
        "pair_activation_energy_K_median",
        "alpha",
    ):
        assert math.isnan(s[key]), key
    assert all(math.isnan(v) for v in s["activation_energy_K_by_model"].values())
    assert s["n_grains"] == 0
    assert s["n_junctions"] == 0


def test_compute_physics_zero_junctions_island_energies_from_self_capacitance():
    grains = pd.DataFrame({"grain_id": [1, 2, 3], "diameter_m": [50e-9, 100e-9, 200e-9]})
    _, junctions = _empty_tables()
    res = compute_physics(grains, junctions, mean_coordination=0.0, config=PhysicsConfig())
    c0 = 8 * units.EPSILON_0_F_PER_M * 5.5 * grains["diameter_m"].to_numpy() / 2
    np.testing.assert_allclose(res.grains["capacitance_F"], c0, rtol=1e-14)
    assert math.isnan(res.summary["activation_energy_K"])
    assert math.isnan(res.summary["alpha"])
    cfg_none = PhysicsConfig(self_capacitance_model="none")
    none = compute_physics(grains, junctions, mean_coordination=0.0, config=cfg_none)
    assert np.all(none.grains["capacitance_F"] == 0)
    assert np.all(np.isposinf(none.grains["charging_energy_K"]))


def test_compute_physics_single_junction_touching_grains():
    grains = pd.DataFrame({"grain_id": [4, 9], "diameter_m": [80e-9, 120e-9]})
    junctions = pd.DataFrame({"grain_a": [4], "grain_b": [9], "gap_m": [0.0], "facing_length_m": [60e-9]})
    res = compute_physics(grains, junctions, mean_coordination=1.0, config=PhysicsConfig())
    row = res.junctions.iloc[0]
    assert np.isfinite(row["capacitance_F"])
    assert row["capacitance_F"] > 0  # gap floored at min_gap_m
    assert row["resistance_ohm"] == pytest.approx(1 / (1e7 * 60e-9), rel=1e-13)  # raw gap: exp(0) = 1


# ------------------------------------------------------------------------------------------
# input validation
# ------------------------------------------------------------------------------------------


def _small_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    grains = pd.DataFrame({"grain_id": [1, 2, 3], "diameter_m": [1e-7, 1e-7, 1e-7]})
    junctions = pd.DataFrame(
        {"grain_a": [1, 2], "grain_b": [2, 3], "gap_m": [1e-8, 1e-8], "facing_length_m": [5e-8, 5e-8]}
    )
    return grains, junctions


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda g, j: (g.drop(columns="diameter_m"), j), "lacks column"),
        (lambda g, j: (g, j.drop(columns="gap_m")), "lacks column"),
        (lambda g, j: (g.assign(diameter_m=[1e-7, 0.0, 1e-7]), j), "diameter_m must be finite and > 0"),
        (lambda g, j: (g.assign(grain_id=[1, 1, 3]), j), "grain_id must be unique"),
        (lambda g, j: (g, j.assign(gap_m=[-1e-9, 1e-8])), "gap_m must be finite and >= 0"),
        (lambda g, j: (g, j.assign(facing_length_m=[np.nan, 1e-8])), "facing_length_m must be finite"),
        (lambda g, j: (g, j.assign(grain_b=[2, 7])), "not in the grains table"),
        (lambda g, j: (g, j.assign(grain_a=[2, 2], grain_b=[1, 3])), "grain_a < grain_b"),
        (lambda g, j: (g, pd.concat([j, j.iloc[:1]], ignore_index=True)), "duplicate"),
        (lambda g, j: (g.to_dict(), j), "must be a pandas DataFrame"),
    ],
)
def test_compute_physics_bad_input_raises(mutate, match):
    grains, junctions = mutate(*_small_tables())
    with pytest.raises(InputError, match=match):
        compute_physics(grains, junctions, mean_coordination=2.0, config=PhysicsConfig())


@pytest.mark.parametrize(("z", "match"), [(-1.0, "mean_coordination"), ("6", "mean_coordination"), (np.inf, "finite")])
def test_compute_physics_bad_mean_coordination_raises(z, match):
    grains, junctions = _small_tables()
    with pytest.raises(InputError, match=match):
        compute_physics(grains, junctions, mean_coordination=z, config=PhysicsConfig())


# ------------------------------------------------------------------------------------------
# PhysicsConfig
# ------------------------------------------------------------------------------------------


def test_physics_config_defaults():
    cfg = PhysicsConfig()
    assert cfg.charge_unit == "e"
    assert cfg.capacitance_model == "abeles"
    assert cfg.relative_permittivity == 10.0
    assert cfg.effective_permittivity_resolved == 5.5
    assert cfg.decay_length_m == 2e-9
    assert cfg.tc_K == 3.41
    assert cfg.gap_ratio == 1.764
    assert cfg.temperature_K == 0.0
    assert cfg.alpha is None
    assert cfg.min_gap_m == 0.5e-9


@pytest.mark.parametrize(
    "cfg",
    [
        PhysicsConfig(),
        PhysicsConfig(
            charge_unit="2e",
            capacitance_model="plate_edge+coplanar",
            plate_area_model="facing_length_squared",
            relative_permittivity=12.5,
            effective_permittivity=3.3,
            film_thickness_m=2.5e-8,
            self_capacitance_model="sphere",
            decay_length_m=1.3e-9,
            tunnel_prefactor_S_per_m=3.7e6,
            tc_K=3.3,
            gap_ratio=1.8,
            gap_model="bcs",
            temperature_K=0.05,
            alpha=0.2,
            min_gap_m=1e-10,
        ),
    ],
)
def test_physics_config_round_trip_exact(cfg):
    assert PhysicsConfig.from_dict(cfg.to_dict()) == cfg
    assert PhysicsConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_physics_config_ints_become_floats():
    cfg = PhysicsConfig(relative_permittivity=10, temperature_K=0)
    assert isinstance(cfg.relative_permittivity, float)
    assert isinstance(cfg.temperature_K, float)
    assert cfg == PhysicsConfig()


def test_physics_config_from_dict_partial_uses_defaults():
    assert PhysicsConfig.from_dict({"charge_unit": "2e"}) == PhysicsConfig(charge_unit="2e")


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"kappa": 10}, r"unknown config key physics\.kappa; known keys in \[physics\]"),
        ({"relative_permittivity": "10"}, "relative_permittivity must be a number"),
        ({"alpha": True}, "alpha must be a number"),
        ({"charge_unit": "4e"}, r"charge_unit = '4e' is not valid"),
        ({"capacitance_model": "sphere"}, "capacitance_model"),
        ({"self_capacitance_model": "disc"}, "self_capacitance_model"),
        ({"gap_model": None}, "gap_model"),
        ({"relative_permittivity": 0.5}, "relative_permittivity .* must be >= 1"),
        ({"effective_permittivity": 0.0}, "effective_permittivity"),
        ({"film_thickness_m": 0.0}, "film_thickness_m .* must be > 0"),
        ({"decay_length_m": -2e-9}, "decay_length_m"),
        ({"tunnel_prefactor_S_per_m": float("inf")}, "tunnel_prefactor_S_per_m .* must be finite"),
        ({"tc_K": float("nan")}, "tc_K"),
        ({"temperature_K": -0.1}, "temperature_K .* must be >= 0"),
        ({"alpha": 0.0}, "alpha"),
        ({"min_gap_m": 0.0}, "min_gap_m"),
    ],
)
def test_physics_config_errors(data, match):
    with pytest.raises(ConfigError, match=match):
        PhysicsConfig.from_dict(data)


def test_physics_config_from_dict_rejects_non_mapping():
    with pytest.raises(ConfigError, match=r"config section \[physics\] must be a table of keys"):
        PhysicsConfig.from_dict([("charge_unit", "e")])  # type: ignore[arg-type]


def test_physics_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PhysicsConfig().charge_unit = "2e"  # type: ignore[misc]


def test_units_constants_come_from_scipy():
    """physics.py uses units.py, which wraps scipy.constants (no hand-typed constants)."""
    assert sc.h / (4 * sc.e**2) == units.R_Q_OHM
