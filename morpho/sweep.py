"""Junction conductances from the physics model and R(T, H) sweeps of the grain network.

Each junction of the grain graph becomes a conductance that depends on temperature and field
(PHYSICS.md 4.2, 3.3), built from the quantities ``morpho analyze`` writes: its normal-state
resistance ``R_n`` (``resistance_ohm``), charging energy ``E_C,ij`` (``charging_energy_K``),
activation energy ``E_a,ij`` (``activation_energy_K``), facing length (for the Fraunhofer option)
and the radii of its two grains (for their critical fields).

Edge laws (energies as E/k_B in K, T in K):

* **charge edge** (insulating side, Eq. 1 per junction):
  ``g = g_QF + G_n exp(-E_a / T)`` with ``G_n = 1/R_n``;
* **phase edge** (superconducting side, Eq. 2 per junction, barrier 2 E_J):
  ``r = r_QF + R_n f(x)``, ``x = E_J(T, H)/T``, with ``f(x) = exp(-2x)/i0e(x)^2 = 1/I_0(x)^2``
  (Ambegaokar-Halperin, default) or its low-temperature asymptote ``2 pi x exp(-2x)``
  (``phase_slip="arrhenius"``, the r_0 = 2 pi (E_J/T) R_n form of PHYSICS.md 4.2).

  The exact form is the default because the asymptote is wrong where ``E_J <~ T``: it sends the
  resistance of a weakly coupled junction to zero instead of to R_n.  Both agree to < 1 % for
  ``x > 20``.
* **two-state rule** (default): a junction is a phase edge if ``gamma = E_J(T, H)/E_C >= gamma_c``
  (default 1, a model parameter, not a number from the paper), else a charge edge;
  ``edge_model="insulating"`` or ``"superconducting"`` makes every junction one kind.
* **quantum-fluctuation terms**, phenomenological: ``r_QF = a_qf R_n`` and ``g_QF = b_qf G_n``
  (``qf_model="proportional"``, default), or the heuristic scales ``r_QF = a_qf R_n
  exp(-sqrt(8 E_J/E_C))`` and ``g_QF = b_qf G_n (E_J/E_C)^2`` (``qf_model="heuristic"``).  Both
  knobs default to 0: the classical network, whose resistance follows the bottleneck barrier
  down to the lowest temperature; the paper's saturations need them set (fit them with
  ``morpho fit`` on measured data).

Field dependence (``field_model``, PHYSICS.md 3.3), B = mu0 H in tesla:

* ``none``: gaps and E_J independent of B;
* ``gl_grain`` (default): ``Delta_i(B) = Delta(T) sqrt(1 - (B/B_c,i)^2)`` below the grain's
  critical field, 0 above, with ``B_c,i = max(sqrt(2) Phi0/(pi R_i xi), Phi0/(2 pi xi^2))``
  (thin disk of radius R_i, or H_c2 for large grains) and ``xi = xi(0)/sqrt(1 - T/T_c)``
  (Ginzburg-Landau); E_J from the Ambegaokar-Baratoff form for unequal gaps;
* ``fraunhofer``: ``E_J(B) = E_J(0) |sinc(B/Delta B)|``, ``Delta B = 1.84 Phi0 / L^2`` (L the
  facing length; an approximation for planar junctions narrower than the Pearl length);
* ``gl_grain+fraunhofer``: both.

Frustration of loops (B A_loop / Phi0) has no place in a scalar resistor network and is left
out (PHYSICS.md 3.3).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
from scipy import special

from ._config_keys import reject_unknown_keys
from .errors import ConfigError, InputError
from .physics import ambegaokar_baratoff_icrn_V, bcs_gap_K
from .transport import (
    Electrodes,
    KirchhoffResult,
    NetworkSolver,
    _bottleneck_path,
    _red_bonds_at,
    check_duality,
    electrodes_from_labels,
    electrodes_from_table,
    grain_nodes,
    spans,
)
from .units import E_CHARGE_C, HBAR_JS, K_B_J_PER_K, PHI_0_WB, R_Q_OHM

__all__ = [
    "EdgeModel",
    "FieldModel",
    "JunctionTable",
    "SweepResult",
    "TransportConfig",
    "edge_ln_conductance",
    "grain_gaps_K",
    "josephson_energies_K",
    "run_transport",
    "sweep",
]

EdgeModel = Literal["two_state", "insulating", "superconducting"]
FieldModel = Literal["none", "gl_grain", "fraunhofer", "gl_grain+fraunhofer"]
PhaseSlipModel = Literal["ambegaokar_halperin", "arrhenius"]
QFModel = Literal["proportional", "heuristic"]
GapModel = Literal["interpolation", "bcs"]

#: Flux-focusing period constant of planar junctions, Delta B = C_F Phi0 / L^2 (PHYSICS.md 3.3).
FRAUNHOFER_C = 1.84
#: E_J / k_B = (hbar / 2 e k_B) * (I_c R_n) / R_n  [K per (V / ohm)].
_EJ_PER_ICRN_OVER_RN = HBAR_JS / (2.0 * E_CHARGE_C * K_B_J_PER_K)


@dataclass(frozen=True)
class TransportConfig:
    """Parameters of the junction model and the sweep (validated on construction).

    Parameters
    ----------
    edge_model : {"two_state", "insulating", "superconducting"}
        Junction law; see the module docstring.  Default ``"two_state"`` (PHYSICS.md 4.2).
    gamma_c : float
        Threshold of ``E_J/E_C`` for a phase edge in the two-state rule.  Default 1 (the JJ-array
        SIT sits at gamma of order one); a model parameter.
    a_qf, b_qf : float
        Quantum-fluctuation knobs, ``r_QF = a_qf R_n`` and ``g_QF = b_qf G_n``.  Default 0.
    qf_model : {"proportional", "heuristic"}
        How the QF terms scale per junction.  Default ``"proportional"``.
    phase_slip : {"ambegaokar_halperin", "arrhenius"}
        Phase-edge law.  Default the exact ``1/I_0(x)^2``.
    field_model : {"none", "gl_grain", "fraunhofer", "gl_grain+fraunhofer"}
        Default ``"gl_grain"`` (PHYSICS.md 3.3).
    coherence_length_m : float
        Ginzburg-Landau xi(0) of the grains [m].  Default 100 nm (PHYSICS.md 1.4; uncertain, so
        an input).
    tc_K, gap_ratio, gap_model
        Grain T_c, Delta(0)/k_B T_c and gap shape.  ``None`` (default) takes them from the
        analysis's physics parameters (3.41 K, 1.764, interpolation for indium).
    direction : {"x", "y"}
        Current direction: left to right (default) or top to bottom.
    normal_sheet_resistance_ohm_per_sq : float or None
        Calibration (PHYSICS.md 3.1): the measured normal-state sheet resistance above the grain
        T_c.  When set, every R_n is scaled by one factor so that the network of normal-state
        conductances G_n has exactly this R_sq (the network is homogeneous of degree 1 in its
        conductances, so one extra solve is exact), and E_J follows the scaled R_n.  The
        tunnelling prefactor of the analysis is otherwise uncalibrated.  Default None.
    """

    edge_model: EdgeModel = "two_state"
    gamma_c: float = 1.0
    a_qf: float = 0.0
    b_qf: float = 0.0
    qf_model: QFModel = "proportional"
    phase_slip: PhaseSlipModel = "ambegaokar_halperin"
    field_model: FieldModel = "gl_grain"
    coherence_length_m: float = 100e-9
    tc_K: float | None = None
    gap_ratio: float | None = None
    gap_model: GapModel | None = None
    direction: str = "x"
    normal_sheet_resistance_ohm_per_sq: float | None = None

    def __post_init__(self) -> None:
        choices = {
            "edge_model": get_args(EdgeModel), "qf_model": get_args(QFModel),
            "phase_slip": get_args(PhaseSlipModel), "field_model": get_args(FieldModel),
            "gap_model": (*get_args(GapModel), None), "direction": ("x", "y"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                msg = f"transport.{name} = {getattr(self, name)!r} is not valid; use one of {[a for a in allowed if a]}"
                raise ConfigError(msg)
        for name, optional, positive in (("gamma_c", False, False), ("a_qf", False, False), ("b_qf", False, False),
                                         ("coherence_length_m", False, True), ("tc_K", True, True),
                                         ("gap_ratio", True, True),
                                         ("normal_sheet_resistance_ohm_per_sq", True, True)):
            value = getattr(self, name)
            if optional and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                msg = f"transport.{name} must be a number, got {value!r}"
                raise ConfigError(msg)
            if not math.isfinite(value) or value < 0 or (positive and value == 0):
                msg = f"transport.{name} = {value!r} must be finite and {'> 0' if positive else '>= 0'}"
                raise ConfigError(msg)
            object.__setattr__(self, name, float(value))

    def to_dict(self) -> dict[str, Any]:
        """The configuration as a plain dict (JSON-serialisable)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TransportConfig:
        """Build from a mapping; missing keys take their defaults; unknown keys are an error."""
        reject_unknown_keys("transport", data, cls)
        return cls(**dict(data))

    def resolved(self, physics_parameters: Mapping[str, Any] | None) -> TransportConfig:
        """This configuration with tc_K, gap_ratio and gap_model filled from the analysis."""
        p = dict(physics_parameters or {})
        return dataclasses.replace(
            self,
            tc_K=self.tc_K if self.tc_K is not None else float(p.get("tc_K", 3.41)),
            gap_ratio=self.gap_ratio if self.gap_ratio is not None else float(p.get("gap_ratio", 1.764)),
            gap_model=self.gap_model if self.gap_model is not None else p.get("gap_model", "interpolation"),
        )


@dataclass(frozen=True)
class JunctionTable:
    """The per-junction and per-grain arrays the edge laws need, as node indices and SI numbers.

    Build it with :meth:`from_frames` from the ``grains.csv`` and ``junctions.csv`` of an analysis.
    """

    node_a: np.ndarray  # node index (row of the grains table) of each junction's ends
    node_b: np.ndarray
    resistance_ohm: np.ndarray
    charging_energy_K: np.ndarray
    activation_energy_K: np.ndarray
    facing_length_m: np.ndarray
    grain_radius_m: np.ndarray  # per node

    REQUIRED_JUNCTION_COLUMNS = ("grain_a", "grain_b", "resistance_ohm", "charging_energy_K", "activation_energy_K")

    @classmethod
    def from_frames(cls, grains: pd.DataFrame, junctions: pd.DataFrame, *, field_model: str = "none") -> JunctionTable:
        """Check the columns and values and map grain ids to node indices.

        Raises
        ------
        InputError
            A missing column (named), a non-numeric or NaN value, a negative resistance or
            energy, or a junction naming a grain that is not in the grains table.
        """
        needed = list(cls.REQUIRED_JUNCTION_COLUMNS)
        if "fraunhofer" in field_model:
            needed.append("facing_length_m")
        _require(junctions, needed, "junctions.csv")
        _require(grains, ["grain_id"] + (["diameter_m"] if "gl_grain" in field_model else []), "grains.csv")
        ids = _numeric(grains, "grain_id", "grains.csv").astype(np.int64)
        node_a, node_b = _node_indices(ids, junctions)

        def nonnegative(column: str) -> np.ndarray:
            v = _numeric(junctions, column, "junctions.csv", allow_inf=True)
            if (v < 0).any():
                msg = f"junctions.csv: column {column} has a negative value; it must be >= 0"
                raise InputError(msg)
            return v

        r_n = nonnegative("resistance_ohm")
        if (r_n == 0).any():
            msg = "junctions.csv: resistance_ohm has a zero; a junction needs a resistance > 0 ohm"
            raise InputError(msg)
        radius = (0.5 * _numeric(grains, "diameter_m", "grains.csv") if "diameter_m" in grains
                  else np.full(ids.size, np.nan))
        facing = (nonnegative("facing_length_m") if "facing_length_m" in junctions
                  else np.full(len(junctions), np.nan))
        return cls(node_a, node_b, r_n, nonnegative("charging_energy_K"),
                   nonnegative("activation_energy_K"), facing, radius)


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = f"{name} has no column {missing[0]!r}; it needs {', '.join(columns)}"
        raise InputError(msg)


def _numeric(frame: pd.DataFrame, column: str, name: str, *, allow_inf: bool = False) -> np.ndarray:
    """A column as float64; InputError naming the column and the first bad row otherwise."""
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(values) | (~allow_inf & np.isinf(values))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        msg = (f"{name}: column {column} has a non-numeric, empty or NaN value in data row {row + 1} "
               f"({frame[column].iloc[row]!r}); every value must be a number")
        raise InputError(msg)
    return values


def grain_gaps_K(temperature_K: float, field_T: float, radius_m: np.ndarray, config: TransportConfig) -> np.ndarray:
    """Gap Delta_i(T, B)/k_B [K] of every grain (PHYSICS.md 1.3, 3.3 option gl_grain)."""
    cfg = config
    delta = float(bcs_gap_K(temperature_K, tc_K=cfg.tc_K, gap_ratio=cfg.gap_ratio, model=cfg.gap_model))
    gaps = np.full(radius_m.shape, delta)
    if "gl_grain" not in cfg.field_model or field_T == 0 or delta == 0:
        return gaps
    xi = cfg.coherence_length_m / math.sqrt(1.0 - temperature_K / cfg.tc_K)
    with np.errstate(divide="ignore"):
        b_disk = math.sqrt(2.0) * PHI_0_WB / (math.pi * radius_m * xi)
    b_c = np.maximum(b_disk, PHI_0_WB / (2.0 * math.pi * xi**2))
    h = np.abs(field_T) / b_c
    return np.where(h < 1.0, delta * np.sqrt(np.clip(1.0 - h * h, 0.0, None)), 0.0)


def josephson_energies_K(temperature_K: float, field_T: float, table: JunctionTable, config: TransportConfig,
                         *, threshold_K: np.ndarray | None = None) -> np.ndarray:
    """E_J,ij(T, B)/k_B [K] of every junction (Ambegaokar-Baratoff, PHYSICS.md 3.2, 3.3).

    Equal gaps use the closed form; unequal gaps (field-suppressed grains) the Matsubara sum.
    E_J is monotonic in each gap, so ``E_J(Delta_max, Delta_max)`` bounds it from above: with
    `threshold_K` (per junction, e.g. gamma_c E_C of the two-state rule) the sum is done only
    where that bound reaches the threshold, and the others keep the bound (they stay below it
    either way).
    """
    gaps = grain_gaps_K(temperature_K, field_T, table.grain_radius_m, config)
    d1, d2 = gaps[table.node_a], gaps[table.node_b]
    hi = np.maximum(d1, d2)
    with np.errstate(divide="ignore", invalid="ignore"):
        upper = (R_Q_OHM / table.resistance_ohm) * 0.5 * hi * _tanh_half(hi, temperature_K)
    ej = upper.copy()
    unequal = d1 != d2
    if threshold_K is not None:
        with np.errstate(invalid="ignore"):
            unequal &= upper >= threshold_K
    if unequal.any():
        icrn = ambegaokar_baratoff_icrn_V(d1[unequal], d2[unequal], temperature_K=temperature_K, cutoff=200.0)
        ej[unequal] = _EJ_PER_ICRN_OVER_RN * icrn / table.resistance_ohm[unequal]
    if "fraunhofer" in config.field_model and field_T != 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            period = FRAUNHOFER_C * PHI_0_WB / table.facing_length_m**2
            ej = ej * np.abs(np.sinc(np.where(np.isfinite(period), field_T / period, 0.0)))
    return np.nan_to_num(ej, nan=0.0)


def _tanh_half(delta_K: np.ndarray, temperature_K: float) -> np.ndarray:
    if temperature_K == 0:
        return np.ones_like(delta_K)
    return np.tanh(delta_K / (2.0 * temperature_K))


def _log_f_phase(x: np.ndarray, model: str) -> np.ndarray:
    """ln(r_phase / R_n) at x = E_J/T: exact 1/I_0(x)^2 or the asymptote 2 pi x e^-2x."""
    if model == "ambegaokar_halperin":
        return -2.0 * x - 2.0 * np.log(special.i0e(x))
    with np.errstate(divide="ignore"):
        return np.log(2.0 * np.pi * x) - 2.0 * x


def edge_ln_conductance(temperature_K: float, field_T: float, table: JunctionTable,
                        config: TransportConfig) -> tuple[np.ndarray, np.ndarray]:
    """ln g_ij (g in S) of every junction at (T, B), and the mask of phase edges.

    See the module docstring for the laws.  ``-inf`` marks a junction that does not conduct
    (infinite R_n).

    Raises
    ------
    InputError
        If the temperature is not > 0.
    """
    t = float(temperature_K)
    if not (math.isfinite(t) and t > 0):
        msg = f"temperature {temperature_K!r} K must be finite and > 0"
        raise InputError(msg)
    cfg = config
    ln_gn = -np.log(table.resistance_ohm)  # -inf for R_n = inf
    if cfg.edge_model == "insulating":
        phase = np.zeros(ln_gn.size, dtype=bool)
        ej = np.zeros(ln_gn.size) if cfg.qf_model == "proportional" else josephson_energies_K(t, field_T, table, cfg)
    else:
        threshold = cfg.gamma_c * table.charging_energy_K if cfg.edge_model == "two_state" else None
        ej = josephson_energies_K(t, field_T, table, cfg, threshold_K=threshold)
        if cfg.edge_model == "superconducting":
            phase = np.ones(ln_gn.size, dtype=bool)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                phase = ej >= cfg.gamma_c * table.charging_energy_K
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = np.where(table.charging_energy_K > 0, ej / table.charging_energy_K, np.inf)
    out = np.empty(ln_gn.size)
    charge = ~phase
    # charge edges: ln g = ln G_n + ln(b' + exp(-E_a/T))
    with np.errstate(divide="ignore"):
        ln_b = np.full(int(charge.sum()), math.log(cfg.b_qf) if cfg.b_qf > 0 else -np.inf)
        if cfg.qf_model == "heuristic" and cfg.b_qf > 0:
            ln_b = ln_b + 2.0 * np.log(gamma[charge])
    out[charge] = ln_gn[charge] + np.logaddexp(ln_b, -table.activation_energy_K[charge] / t)
    # phase edges: ln g = -ln R_n - ln(a' + f(E_J/T))
    x = ej[phase] / t
    with np.errstate(divide="ignore"):
        ln_a = np.full(x.size, math.log(cfg.a_qf) if cfg.a_qf > 0 else -np.inf)
        if cfg.qf_model == "heuristic" and cfg.a_qf > 0:
            ln_a = ln_a - np.sqrt(8.0 * np.where(np.isfinite(gamma[phase]), gamma[phase], 0.0))
    out[phase] = ln_gn[phase] - np.logaddexp(ln_a, _log_f_phase(x, cfg.phase_slip))
    return out, phase


@dataclass(frozen=True)
class SweepResult:
    """Result of :func:`sweep`: one row per (field, temperature) and the last solve's details."""

    table: pd.DataFrame
    solutions: dict[float, tuple[float, KirchhoffResult, np.ndarray]]  # field -> (T_min, result, ln g)
    backend: str


def sweep(table: JunctionTable, electrodes_nodes: tuple[np.ndarray, np.ndarray], electrodes: Electrodes,
          temperatures_K: Sequence[float], fields_T: Sequence[float], config: TransportConfig, *,
          progress: Any = None) -> SweepResult:
    """R(T, B) of the network over a temperature x field grid (PHYSICS.md 4.2 sweeps).

    The topology and the symbolic factorisation are shared by every point
    (:class:`~morpho.transport.NetworkSolver`); each point updates the gaps, E_J and the
    two-state classification, computes ln g, clips around the bottleneck and solves.

    Returns
    -------
    SweepResult
        ``table`` columns: ``temperature_K, field_T, resistance_ohm, sheet_resistance_ohm_per_sq,
        log10_sheet_resistance_ohm_per_sq`` (finite where R overflows a float), ``n_phase_edges``,
        ``phase_edges_span`` (phase edges alone join the electrodes), ``bottleneck_ln_conductance``,
        ``kirchhoff_residual_relative``, ``n_edges_clipped``.
    """
    temps = np.asarray(temperatures_K, dtype=np.float64)
    n_nodes = table.grain_radius_m.size
    source, drain = electrodes_nodes
    solver = NetworkSolver(n_nodes, table.node_a, table.node_b, source=source, drain=drain)
    rows = []
    solutions = {}
    for field in fields_T:
        for t in temps:
            ln_g, phase = edge_ln_conductance(float(t), float(field), table, config)
            res = solver.solve(ln_conductance=ln_g)
            ln_r = -res.ln_conductance
            ln_rsq = ln_r + math.log(electrodes.width_m / electrodes.length_m)
            rows.append({
                "temperature_K": float(t),
                "field_T": float(field),
                "resistance_ohm": math.exp(ln_r) if ln_r < 709 else math.inf,
                "sheet_resistance_ohm_per_sq": math.exp(ln_rsq) if ln_rsq < 709 else math.inf,
                "log10_sheet_resistance_ohm_per_sq": ln_rsq / math.log(10.0),
                "n_phase_edges": int(phase.sum()),
                "phase_edges_span": spans(n_nodes, table.node_a[phase], table.node_b[phase], source, drain),
                "bottleneck_ln_conductance": res.ln_bottleneck,
                "kirchhoff_residual_relative": abs(res.kirchhoff_residual_A / res.current_A) if res.current_A else 0.0,
                "n_edges_clipped": res.n_edges_clipped,
            })
            if t == temps.min():
                solutions[float(field)] = (float(t), res, ln_g)
            if progress is not None:
                progress()
    return SweepResult(pd.DataFrame(rows), solutions, solver.backend)


#: Networks up to this many grains get the planar-dual check in transport.json (networkx's
#: planarity test is Python; above this it takes more than a few seconds).
DUALITY_MAX_GRAINS = 20_000
#: transport.json lists at most this many red bonds (their count is always given).
RED_BONDS_LISTED = 1000


def _electrodes(tables: Any, ids: np.ndarray, x_m: np.ndarray | None, y_m: np.ndarray | None,
                direction: str) -> tuple[Electrodes, str]:
    """Electrodes from labels.tif when the folder has it, else from the grain centres."""
    if tables.labels is not None and tables.pixel_size_m is not None:
        return electrodes_from_labels(tables.labels, tables.pixel_size_m, direction=direction), "labels.tif"
    if x_m is None or y_m is None:
        msg = ("grains.csv needs columns x_m and y_m to place the electrodes "
               "(or keep labels.tif and summary.json beside it)")
        raise InputError(msg)
    j = tables.junctions
    if "center_distance_m" in j.columns:
        dist = _numeric(j, "center_distance_m", "junctions.csv")
    else:
        ka, kb = _node_indices(ids, j)
        dist = np.hypot(x_m[ka] - x_m[kb], y_m[ka] - y_m[kb])
    if dist.size == 0:
        msg = "junctions.csv has no junctions; there is no network to solve"
        raise InputError(msg)
    return electrodes_from_table(x_m, y_m, ids, neighbour_distance_m=float(np.median(dist)),
                                 direction=direction), "grain centres (half the median neighbour distance)"


def _diagnostics(n_nodes: int, a: np.ndarray, b: np.ndarray, ln_g: np.ndarray, source: np.ndarray,
                 drain: np.ndarray, ids: np.ndarray) -> dict[str, Any]:
    """Bottleneck, red bonds and the dual check of one network, for transport.json."""
    k, _ = _bottleneck_path(n_nodes, a, b, ln_g, source, drain)  # spans: the solve succeeded
    star = float(ln_g[k])
    red = _red_bonds_at(n_nodes, a, b, ln_g, source, drain, star)
    out: dict[str, Any] = {
        "bottleneck": {
            "ln_conductance_S": star,
            "conductance_S": math.exp(star) if star > -745 else 0.0,
            "junction": [int(ids[a[k]]), int(ids[b[k]])],
            "definition": "largest g such that the junctions with conductance >= g still join the electrodes "
                          "(critical-path / bottleneck conductance, PHYSICS.md 4.3)",
        },
        "red_bonds": {
            "count": int(red.size),
            "junctions": [[int(ids[a[k]]), int(ids[b[k]])] for k in red[:RED_BONDS_LISTED]],
            "definition": "junctions of the critical cluster (conductance >= the bottleneck) whose removal alone "
                          "disconnects the electrodes",
        },
    }
    if n_nodes <= DUALITY_MAX_GRAINS:
        try:
            d = check_duality(n_nodes, a, b, source=source, drain=drain, ln_conductance=ln_g)
            out["duality"] = {"product": d.product, "ln_conductance": d.ln_conductance,
                              "ln_dual_conductance": d.ln_dual_conductance, "n_faces": d.n_faces}
        except InputError as exc:
            out["duality"] = {"skipped": str(exc)}
    else:
        out["duality"] = {"skipped": f"more than {DUALITY_MAX_GRAINS} grains; call morpho.transport.check_duality"}
    return out


def run_transport(tables: Any, config: TransportConfig, *, temperatures_K: Sequence[float] = (),
                  fields_T: Sequence[float] = (0.0,), conductance_column: str | None = None,
                  ) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Everything ``morpho transport`` computes, for an :class:`~morpho.io.AnalysisTables`.

    With `conductance_column`, one solve with the junctions' conductances in siemens taken from
    that column of junctions.csv (grains need only ``grain_id, x_m, y_m``); otherwise the
    physics model over ``temperatures_K x fields_T``.

    Returns
    -------
    (content, table)
        ``content`` for transport.json; ``table`` the rows of transport.csv (None for a
        conductance column).

    Raises
    ------
    InputError
        Missing or bad columns, bad temperatures; NotPercolatingError if nothing spans.
    """
    import time

    t0 = time.perf_counter()
    grains, junctions = tables.grains, tables.junctions
    _require(grains, ["grain_id"], "grains.csv")
    ids = _numeric(grains, "grain_id", "grains.csv").astype(np.int64)
    x_m = _numeric(grains, "x_m", "grains.csv") if "x_m" in grains else None
    y_m = _numeric(grains, "y_m", "grains.csv") if "y_m" in grains else None
    electrodes, electrode_source = _electrodes(tables, ids, x_m, y_m, config.direction)
    source, drain = np.isin(ids, electrodes.source_ids), np.isin(ids, electrodes.drain_ids)
    content: dict[str, Any] = {
        "electrodes": {
            "direction": config.direction, "from": electrode_source,
            "n_source_grains": int(source.sum()), "n_drain_grains": int(drain.sum()),
            "width_m": electrodes.width_m, "length_m": electrodes.length_m,
            "sheet_resistance_definition": "R * W / L (PHYSICS.md 4.1)",
        },
        "n_grains": int(ids.size),
        "n_junctions": len(junctions),
    }
    n = ids.size
    if conductance_column is not None:
        _require(junctions, ["grain_a", "grain_b", conductance_column], "junctions.csv")
        g = _numeric(junctions, conductance_column, "junctions.csv")
        if (g < 0).any():
            row = int(np.flatnonzero(g < 0)[0])
            msg = (f"junctions.csv: column {conductance_column} has a negative conductance ({g[row]!r} in data row "
                   f"{row + 1}); conductances are >= 0 siemens")
            raise InputError(msg)
        a, b = _node_indices(ids, junctions)
        solver = NetworkSolver(n, a, b, source=source, drain=drain, coordinates=_positions(x_m, y_m))
        res = solver.solve(conductance_S=g)
        with np.errstate(divide="ignore"):
            ln_g = np.log(g)
        content.update({
            "mode": "conductance_column", "conductance_column": conductance_column, "backend": solver.backend,
            "resistance_ohm": res.resistance_ohm,
            "sheet_resistance_ohm_per_sq": electrodes.sheet_resistance_ohm_per_sq(res.resistance_ohm),
            "ln_conductance_S": res.ln_conductance,
            "n_grains_spanning": res.n_nodes_spanning, "n_grains_excluded": res.n_nodes_excluded,
            "kirchhoff_residual_A": res.kirchhoff_residual_A,
            "kirchhoff_residual_relative": abs(res.kirchhoff_residual_A / res.current_A) if res.current_A else 0.0,
            "n_junctions_clipped": res.n_edges_clipped,
        })
        content.update(_diagnostics(n, a, b, ln_g, source, drain, ids))
        content["timing_s"] = {"total": time.perf_counter() - t0}
        return content, None

    params = (tables.summary or {}).get("physics", {}).get("parameters") if tables.summary else None
    cfg = config.resolved(params)
    temps = np.asarray(temperatures_K, dtype=np.float64)
    if temps.size == 0 or not np.all(np.isfinite(temps)) or (temps <= 0).any():
        msg = "temperatures must be finite and > 0 K; e.g. --temperature 0.05:2:60"
        raise InputError(msg)
    jt = JunctionTable.from_frames(grains, junctions, field_model=cfg.field_model)
    calibration = None
    if cfg.normal_sheet_resistance_ohm_per_sq is not None:
        normal = NetworkSolver(n, jt.node_a, jt.node_b, source=source, drain=drain,
                               coordinates=_positions(x_m, y_m)).solve(
            ln_conductance=-np.log(jt.resistance_ohm))
        ln_rsq = -normal.ln_conductance + math.log(electrodes.width_m / electrodes.length_m)
        factor = math.exp(math.log(cfg.normal_sheet_resistance_ohm_per_sq) - ln_rsq)
        jt = dataclasses.replace(jt, resistance_ohm=jt.resistance_ohm * factor)
        calibration = {"target_sheet_resistance_ohm_per_sq": cfg.normal_sheet_resistance_ohm_per_sq,
                       "uncalibrated_sheet_resistance_ohm_per_sq": math.exp(ln_rsq) if ln_rsq < 709 else math.inf,
                       "resistance_scale_factor": factor}
    result = sweep(jt, (source, drain), electrodes, temps, fields_T, cfg)
    rows = result.table
    per_field = []
    for field in fields_T:
        part = rows[rows["field_T"] == float(field)].sort_values("temperature_K")
        ln_rho = part["log10_sheet_resistance_ohm_per_sq"].to_numpy() * math.log(10.0)
        tt = part["temperature_K"].to_numpy()
        slope = (float((ln_rho[0] - ln_rho[1]) / (1.0 / tt[0] - 1.0 / tt[1])) if tt.size > 1 else None)
        per_field.append({
            "field_T": float(field),
            "sheet_resistance_ohm_per_sq_at_lowest_T": float(part["sheet_resistance_ohm_per_sq"].iloc[0]),
            "sheet_resistance_ohm_per_sq_at_highest_T": float(part["sheet_resistance_ohm_per_sq"].iloc[-1]),
            "log10_sheet_resistance_ohm_per_sq_at_lowest_T": float(part["log10_sheet_resistance_ohm_per_sq"].iloc[0]),
            "apparent_activation_energy_K": slope,
            "n_phase_edges_at_lowest_T": int(part["n_phase_edges"].iloc[0]),
            "phase_edges_span_at_lowest_T": bool(part["phase_edges_span"].iloc[0]),
        })
    t_low, res, ln_g = result.solutions[float(fields_T[0])]
    content.update({
        "mode": "physics", "backend": result.backend, "config": cfg.to_dict(), "calibration": calibration,
        "temperatures_K": {"min": float(temps.min()), "max": float(temps.max()), "n": int(temps.size)},
        "fields_T": [float(h) for h in fields_T],
        "fields": per_field,
        "reference_point": {"temperature_K": t_low, "field_T": float(fields_T[0])},
        "resistance_ohm": res.resistance_ohm,
        "sheet_resistance_ohm_per_sq": electrodes.sheet_resistance_ohm_per_sq(res.resistance_ohm),
        "n_grains_spanning": res.n_nodes_spanning, "n_grains_excluded": res.n_nodes_excluded,
        "kirchhoff_residual_A": res.kirchhoff_residual_A,
        "kirchhoff_residual_relative_max": float(rows["kirchhoff_residual_relative"].max()),
        "resistance_quantum_ohm": R_Q_OHM,
    })
    content.update(_diagnostics(n, jt.node_a, jt.node_b, ln_g, source, drain, ids))
    content["timing_s"] = {"total": time.perf_counter() - t0, "per_point": (time.perf_counter() - t0) / len(rows)}
    return content, rows


def _positions(x_m: np.ndarray | None, y_m: np.ndarray | None) -> np.ndarray | None:
    """Grain centres (rows of grains.csv) for a one-off solve's nested-dissection order, if known."""
    if x_m is None or y_m is None:
        return None
    xy = np.column_stack([x_m, y_m])
    return xy if np.isfinite(xy).all() else None


def _node_indices(ids: np.ndarray, junctions: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the grains table for grain_a and grain_b; InputError for an unknown grain."""
    a, b = (grain_nodes(ids, _numeric(junctions, column, "junctions.csv"), f"junctions.csv: {column}",
                        table="grains.csv")[0] for column in ("grain_a", "grain_b"))
    return a, b
