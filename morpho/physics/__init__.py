"""Grains + junctions + parameters -> capacitances, charging, Josephson and activation energies.

This is the ``physics`` stage of the pipeline (DESIGN.md).  It turns the geometry measured on
the micrograph (grain radii, inter-grain gaps, facing lengths) into the electrical parameters of
the random Josephson-junction array the film forms: junction (mutual) capacitances ``C_ij``,
grain self-capacitances ``C_0,i``, charging energies, normal-state tunnel resistances,
Ambegaokar-Baratoff Josephson energies and activation energies on the insulating side.  The
formulas, conventions and verified numbers are those of PHYSICS.md sections 1-3; the section
numbers below refer to that file.

Conventions (PHYSICS.md section 0)
----------------------------------
* SI internally: m, F, ohm, S, V, J.  Energies are returned as ``E/k_B`` in kelvin (``_K``).
* Charging energy ``E_C = q^2/(2C)`` with ``C`` the junction capacitance ``C_ij`` and
  ``q = e`` by default; ``q = 2e`` (Cooper pairs, ``4 E_C``) only with ``charge_unit="2e"``.
* Island energy ``E_C,i = q^2/(2 C_Sigma,i)``, ``C_Sigma,i = C_0,i + sum_j C_ij``.
* Pair activation energy ``E_a,ij = U_ij / 2`` with ``U_ij`` the energy of a +q/-q pair on the
  two grains of the junction, from the Maxwell capacitance matrix (section 2.4).
* The paper's estimate ``E_aI = alpha * E_C`` with ``alpha = 1/<z>`` [ZPK22].

Every public function is pure and vectorised over NumPy arrays; :func:`compute_physics`
composes them on the grains and junctions tables and returns new tables.

References
----------
.. [ZPK22] X. Zhang, A. Palevski, A. Kapitulnik, "Anomalous metals: From 'failed
   superconductor' to 'failed insulator'", PNAS 119, e2202496119 (2022).
.. [Abe75] B. Abeles, P. Sheng, M. D. Coutts, Y. Arie, Adv. Phys. 24, 407 (1975).
.. [AB63] V. Ambegaokar, A. Baratoff, PRL 10, 486 (1963); erratum PRL 11, 104 (1963).
.. [Del94] P. Delsing et al., PRB 50, 3959 (1994).
.. [Gup96] K. C. Gupta, R. Garg, I. Bahl, P. Bhartia, *Microstrip Lines and Slotlines*,
   2nd ed. (Artech House, 1996).
"""

from __future__ import annotations

# The implementation lives in private modules: _config (PhysicsConfig, model types), _capacitance
# (capacitances, charging and pair activation energies), _superconductivity (gap, R_n, E_J) and
# _compute (compute_physics, PhysicsResult).  Import from morpho.physics, not from them.
from ._capacitance import (
    _dipole_selected_inverse as _dipole_selected_inverse,  # private fast path, tested directly
)
from ._capacitance import (
    abeles_capacitance_F,
    charge_C,
    charging_energy_K,
    coplanar_capacitance_F,
    coplanar_capacitance_per_length_F_per_m,
    disk_self_capacitance_F,
    island_capacitance_F,
    junction_capacitance_F,
    maxwell_capacitance_matrix,
    pair_activation_energy_K,
    pair_activation_energy_local_K,
    plate_area_capacitance_F,
    plate_edge_capacitance_F,
    self_capacitance_F,
    sphere_self_capacitance_F,
)
from ._compute import PhysicsResult, compute_physics
from ._config import (
    CapacitanceModel,
    ChargeUnit,
    GapModel,
    PairEnergyMethod,
    PhysicsConfig,
    PlateAreaModel,
    SelfCapacitanceModel,
)
from ._superconductivity import (
    ambegaokar_baratoff_icrn_equal_V,
    ambegaokar_baratoff_icrn_V,
    bcs_gap_K,
    bcs_gap_weak_coupling_K,
    ej_over_ec,
    josephson_energy_K,
    tunnel_resistance_ohm,
)

__all__ = [
    "CapacitanceModel",
    "ChargeUnit",
    "GapModel",
    "PairEnergyMethod",
    "PhysicsConfig",
    "PhysicsResult",
    "PlateAreaModel",
    "SelfCapacitanceModel",
    "abeles_capacitance_F",
    "ambegaokar_baratoff_icrn_V",
    "ambegaokar_baratoff_icrn_equal_V",
    "bcs_gap_K",
    "bcs_gap_weak_coupling_K",
    "charge_C",
    "charging_energy_K",
    "compute_physics",
    "coplanar_capacitance_F",
    "coplanar_capacitance_per_length_F_per_m",
    "disk_self_capacitance_F",
    "ej_over_ec",
    "island_capacitance_F",
    "josephson_energy_K",
    "junction_capacitance_F",
    "maxwell_capacitance_matrix",
    "pair_activation_energy_K",
    "pair_activation_energy_local_K",
    "plate_area_capacitance_F",
    "plate_edge_capacitance_F",
    "self_capacitance_F",
    "sphere_self_capacitance_F",
    "tunnel_resistance_ohm",
]
