"""The physics stage: :func:`compute_physics` on the grains and junctions tables, and :class:`PhysicsResult`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ._capacitance import (
    _regularized_self_capacitance,
    charging_energy_K,
    island_capacitance_F,
    junction_capacitance_F,
    pair_activation_energy_K,
    pair_activation_energy_local_K,
    self_capacitance_F,
)
from ._config import _CAPACITANCE_MODELS, FloatArray, PhysicsConfig
from ._superconductivity import bcs_gap_K, ej_over_ec, josephson_energy_K, tunnel_resistance_ohm

#: Columns physics needs (the other columns of the tables are carried through untouched).
_GRAIN_COLUMNS: tuple[str, ...] = ("grain_id", "diameter_m")
_JUNCTION_COLUMNS: tuple[str, ...] = ("grain_a", "grain_b", "gap_m", "facing_length_m")

#: C_0 / median(C_ij) given to grains without self-capacitance (PHYSICS.md 2.4).
_REGULARIZATION: float = 1e-3


@dataclass(frozen=True)
class PhysicsResult:
    """Output of :func:`compute_physics`.

    Attributes
    ----------
    grains : pandas.DataFrame
        A copy of the input grains with ``self_capacitance_F`` (``C_0,i``), ``capacitance_F``
        (``C_Sigma,i = C_0,i + sum_j C_ij``) and ``charging_energy_K`` (island energy
        ``q^2 / 2 C_Sigma,i``, in K; ``inf`` where ``C_Sigma,i == 0``).
    junctions : pandas.DataFrame
        A copy of the input junctions with ``capacitance_F`` (``C_ij``), ``resistance_ohm``
        (``R_n``), ``josephson_energy_K``, ``charging_energy_K`` (``q^2/2C_ij``), ``ej_over_ec``
        (``josephson_energy_K / charging_energy_K``, so it follows ``charge_unit``),
        ``activation_energy_K`` (pair energy ``U_ij/2`` from the capacitance matrix) and
        ``activation_energy_local_K`` (its local approximation).
    summary : dict
        JSON-ready numbers (see :func:`compute_physics`).
    """

    grains: pd.DataFrame
    junctions: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# the stage
# --------------------------------------------------------------------------------------------


def _median(values: FloatArray) -> float:
    """Median as a float; ``nan`` for an empty array (no warning)."""
    if values.size == 0:
        return math.nan
    return float(np.median(values))


def _validate_physics_inputs(
    grains: pd.DataFrame, junctions: pd.DataFrame, mean_coordination: float
) -> tuple[FloatArray, np.ndarray, np.ndarray, float]:
    """Check the tables and return grain radii [m], junction grain positions and <z>."""
    for name, frame, columns in (("grains", grains, _GRAIN_COLUMNS), ("junctions", junctions, _JUNCTION_COLUMNS)):
        if not isinstance(frame, pd.DataFrame):
            msg = f"{name} must be a pandas DataFrame, got {type(frame).__name__}"
            raise InputError(msg)
        present = set(frame.columns) | ({"grain_id"} if frame.index.name == "grain_id" else set())
        missing = [c for c in columns if c not in present]
        if missing:
            msg = f"{name} table lacks column(s) {missing}; it needs {list(columns)} (from the measure/graph stages)"
            raise InputError(msg)
    diameter = grains["diameter_m"].to_numpy(dtype=np.float64)
    if np.any(~np.isfinite(diameter)) or np.any(diameter <= 0):
        msg = "grains.diameter_m must be finite and > 0 for every grain; drop empty grains before physics"
        raise InputError(msg)
    ids = pd.Index(grains["grain_id"] if "grain_id" in grains.columns else grains.index)
    if ids.has_duplicates:
        dup = ids[ids.duplicated()].unique().tolist()[:5]
        msg = f"grains.grain_id must be unique; duplicated ids {dup}"
        raise InputError(msg)
    gap = junctions["gap_m"].to_numpy(dtype=np.float64)
    length = junctions["facing_length_m"].to_numpy(dtype=np.float64)
    for name, values in (("gap_m", gap), ("facing_length_m", length)):
        if np.any(~np.isfinite(values)) or np.any(values < 0):
            msg = f"junctions.{name} must be finite and >= 0; check the graph stage output"
            raise InputError(msg)
    index_a = ids.get_indexer(junctions["grain_a"])
    index_b = ids.get_indexer(junctions["grain_b"])
    unknown = np.flatnonzero((index_a < 0) | (index_b < 0))
    if unknown.size:
        row = junctions.iloc[int(unknown[0])]
        msg = (
            f"{unknown.size} junction(s) refer to grain ids not in the grains table "
            f"(first: {row['grain_a']!r}-{row['grain_b']!r}); pass the grains table the junctions were built from"
        )
        raise InputError(msg)
    a = junctions["grain_a"].to_numpy()
    b = junctions["grain_b"].to_numpy()
    if np.any(a >= b):
        msg = "junctions must have grain_a < grain_b (one row per unordered pair); reorder the pair columns"
        raise InputError(msg)
    if pd.MultiIndex.from_arrays([a, b]).has_duplicates:
        msg = "junctions contain duplicate (grain_a, grain_b) pairs; keep one row per pair"
        raise InputError(msg)
    if isinstance(mean_coordination, bool) or not isinstance(mean_coordination, (int, float, np.integer, np.floating)):
        msg = f"mean_coordination must be a number (<z> from the graph stage), got {type(mean_coordination).__name__}"
        raise InputError(msg)
    z = float(mean_coordination)
    if not math.isnan(z) and (not math.isfinite(z) or z < 0):
        msg = f"mean_coordination = {mean_coordination!r} must be finite and >= 0 (or nan when undefined)"
        raise InputError(msg)
    return 0.5 * diameter, index_a.astype(np.intp), index_b.astype(np.intp), z


def compute_physics(
    grains: pd.DataFrame,
    junctions: pd.DataFrame,
    *,
    mean_coordination: float,
    config: PhysicsConfig,
) -> PhysicsResult:
    """Capacitances, charging, Josephson and activation energies of a grain network.

    Parameters
    ----------
    grains : pandas.DataFrame
        One row per grain with at least ``grain_id`` (unique; a column, or the index if it is
        named ``grain_id``) and ``diameter_m`` (equivalent-area diameter, > 0) [m].  Other
        columns and the index are carried through.
    junctions : pandas.DataFrame
        One row per neighbour pair with ``grain_a < grain_b`` (grain ids), ``gap_m`` (>= 0)
        and ``facing_length_m`` (>= 0) [m].  Other columns are carried through.
    mean_coordination : float
        ``<z>`` over interior grains from the graph stage; ``nan`` (or 0) when undefined.
    config : PhysicsConfig
        Physical parameters and model choices.

    Returns
    -------
    PhysicsResult
        New ``grains`` and ``junctions`` frames (the inputs are not modified) with the columns
        listed in :class:`PhysicsResult`, and ``summary`` with keys

        * ``parameters``: ``config.to_dict()``;
        * ``charge_unit``, ``alpha`` (``config.alpha`` or ``1/<z>``), ``gap_K`` (``Delta(T)``),
          ``temperature_K``, ``n_grains``, ``n_junctions``;
        * ``charging_energy_K_median``: median junction ``E_C = q^2/2C_ij`` [K];
        * ``island_charging_energy_K_median``: median grain ``q^2/2C_Sigma`` [K];
        * ``josephson_energy_K_median``, ``ej_over_ec_median``;
        * ``activation_energy_K``: the paper's ``E_aI = alpha * median(E_C)`` [K];
        * ``activation_energy_K_by_model``: the same for every capacitance model
          (``abeles``, ``plate_edge``, ``plate_area``, ``coplanar``, ``plate_edge+coplanar``);
        * ``pair_activation_energy_K_median``, ``pair_activation_energy_local_K_median``:
          medians of ``E_a,ij = U_ij/2`` and of its local approximation [K];
        * ``capacitance_regularization_F``: ``C_0`` added to grains without self-capacitance
          before inverting the capacitance matrix (0 if none was needed).

    Raises
    ------
    InputError
        If a required column is missing, a value is out of range, a junction refers to an
        unknown grain, pairs are not ordered or are duplicated, or ``mean_coordination < 0``.

    Notes
    -----
    Input units: m.  Output units: F, ohm, K.  Steps (PHYSICS.md 2-3): ``C_ij`` from
    :func:`junction_capacitance_F` (gaps floored at ``min_gap_m``), ``C_0`` from
    :func:`self_capacitance_F`, ``C_Sigma`` by :func:`island_capacitance_F`, ``R_n`` from
    :func:`tunnel_resistance_ohm` (raw gaps), ``Delta(T)`` from :func:`bcs_gap_K`, ``E_J`` from
    :func:`josephson_energy_K`, pair energies from :func:`pair_activation_energy_K`.

    Degenerate inputs: zero grains or zero junctions return empty columns and ``nan`` medians
    (no warning).  A grain with no junction and no self-capacitance has ``capacitance_F = 0``
    and ``charging_energy_K = inf``.  ``alpha`` is ``nan`` when ``<z>`` is 0 or ``nan`` and
    ``config.alpha`` is unset.

    With the default configuration and a uniform array of 100 nm grains, 10 nm gaps and
    ``<z> = 6``, ``activation_energy_K = 0.4642 K``, the paper's estimate (PHYSICS.md 2.6 B).

    Examples
    --------
    >>> grains = pd.DataFrame({"grain_id": [1, 2], "diameter_m": [100e-9, 100e-9]})
    >>> junctions = pd.DataFrame({"grain_a": [1], "grain_b": [2], "gap_m": [10e-9],
    ...                           "facing_length_m": [50e-9]})
    >>> res = compute_physics(grains, junctions, mean_coordination=6.0, config=PhysicsConfig())
    >>> round(res.summary["activation_energy_K"], 4)
    0.4642
    """
    radius_m, index_a, index_b, z = _validate_physics_inputs(grains, junctions, mean_coordination)
    gap_m = junctions["gap_m"].to_numpy(dtype=np.float64)
    length_m = junctions["facing_length_m"].to_numpy(dtype=np.float64)
    radius_a = radius_m[index_a]
    radius_b = radius_m[index_b]

    cij = junction_capacitance_F(radius_a, radius_b, gap_m, length_m, config=config)
    c0 = self_capacitance_F(radius_m, config=config)
    c_sigma = island_capacitance_F(c0, cij, index_a, index_b)
    ec_junction_K = charging_energy_K(cij, charge_unit=config.charge_unit)
    ec_island_K = charging_energy_K(c_sigma, charge_unit=config.charge_unit)

    resistance = tunnel_resistance_ohm(
        length_m, gap_m, prefactor_S_per_m=config.tunnel_prefactor_S_per_m, decay_length_m=config.decay_length_m
    )
    gap_K = float(bcs_gap_K(config.temperature_K, tc_K=config.tc_K, gap_ratio=config.gap_ratio, model=config.gap_model))
    ej_K = josephson_energy_K(resistance, gap_K, temperature_K=config.temperature_K)
    gamma = ej_over_ec(ej_K, ec_junction_K)

    regularization_F = _regularized_self_capacitance(c0, cij, _REGULARIZATION)[1] if cij.size else 0.0
    pair_K = pair_activation_energy_K(
        c0, cij, index_a, index_b, charge_unit=config.charge_unit, regularization=_REGULARIZATION
    )
    pair_local_K = pair_activation_energy_local_K(c_sigma, index_a, index_b, charge_unit=config.charge_unit)

    if config.alpha is not None:
        alpha = config.alpha
    elif z > 0:
        alpha = 1.0 / z
    else:
        alpha = math.nan

    by_model: dict[str, float] = {}
    for model in _CAPACITANCE_MODELS:
        c_model = (
            cij
            if model == config.capacitance_model
            else junction_capacitance_F(radius_a, radius_b, gap_m, length_m, config=config, model=model)
        )
        by_model[model] = alpha * _median(charging_energy_K(c_model, charge_unit=config.charge_unit))

    grains_out = grains.copy()
    grains_out["self_capacitance_F"] = c0
    grains_out["capacitance_F"] = c_sigma
    grains_out["charging_energy_K"] = ec_island_K

    junctions_out = junctions.copy()
    junctions_out["capacitance_F"] = cij
    junctions_out["resistance_ohm"] = resistance
    junctions_out["josephson_energy_K"] = ej_K
    junctions_out["charging_energy_K"] = ec_junction_K
    junctions_out["ej_over_ec"] = gamma
    junctions_out["activation_energy_K"] = pair_K
    junctions_out["activation_energy_local_K"] = pair_local_K

    summary: dict[str, Any] = {
        "parameters": config.to_dict(),
        "charge_unit": config.charge_unit,
        "alpha": alpha,
        "temperature_K": config.temperature_K,
        "gap_K": gap_K,
        "n_grains": len(grains_out),
        "n_junctions": len(junctions_out),
        "charging_energy_K_median": _median(ec_junction_K),
        "island_charging_energy_K_median": _median(ec_island_K),
        "josephson_energy_K_median": _median(ej_K),
        "ej_over_ec_median": _median(gamma),
        "activation_energy_K": alpha * _median(ec_junction_K),
        "activation_energy_K_by_model": by_model,
        "pair_activation_energy_K_median": _median(pair_K),
        "pair_activation_energy_local_K_median": _median(pair_local_K),
        "capacitance_regularization_F": regularization_F,
    }
    return PhysicsResult(grains=grains_out, junctions=junctions_out, summary=summary)
