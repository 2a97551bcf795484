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

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, sparse, special
from scipy.sparse import linalg as sparse_linalg

from .errors import ConfigError, InputError
from .units import E_CHARGE_C, EPSILON_0_F_PER_M, K_B_J_PER_K, R_Q_OHM

__all__ = [
    "CapacitanceModel",
    "ChargeUnit",
    "GapModel",
    "PairEnergyMethod",
    "PlateAreaModel",
    "SelfCapacitanceModel",
    "PhysicsConfig",
    "PhysicsResult",
    "abeles_capacitance_F",
    "plate_edge_capacitance_F",
    "plate_area_capacitance_F",
    "coplanar_capacitance_per_length_F_per_m",
    "coplanar_capacitance_F",
    "disk_self_capacitance_F",
    "sphere_self_capacitance_F",
    "junction_capacitance_F",
    "self_capacitance_F",
    "charge_C",
    "charging_energy_K",
    "island_capacitance_F",
    "maxwell_capacitance_matrix",
    "pair_activation_energy_K",
    "pair_activation_energy_local_K",
    "bcs_gap_K",
    "bcs_gap_weak_coupling_K",
    "tunnel_resistance_ohm",
    "ambegaokar_baratoff_icrn_V",
    "ambegaokar_baratoff_icrn_equal_V",
    "josephson_energy_K",
    "ej_over_ec",
    "compute_physics",
]

ChargeUnit = Literal["e", "2e"]
CapacitanceModel = Literal["abeles", "plate_edge", "plate_area", "coplanar", "plate_edge+coplanar"]
PlateAreaModel = Literal["diameter_squared", "pi_diameter_squared", "pi_radius_squared", "facing_length_squared"]
SelfCapacitanceModel = Literal["disk", "sphere", "none"]
GapModel = Literal["interpolation", "bcs"]
PairEnergyMethod = Literal["selected_inverse", "solve"]

_CAPACITANCE_MODELS: tuple[str, ...] = get_args(CapacitanceModel)

#: Weak-coupling BCS ratio Delta(0)/(k_B T_c) = pi exp(-gamma_Euler) = 1.763877 (PHYSICS.md 1.3).
_BCS_WEAK_COUPLING_RATIO: float = math.pi * math.exp(-float(np.euler_gamma))

#: Columns physics needs (the other columns of the tables are carried through untouched).
_GRAIN_COLUMNS: tuple[str, ...] = ("grain_id", "diameter_m")
_JUNCTION_COLUMNS: tuple[str, ...] = ("grain_a", "grain_b", "gap_m", "facing_length_m")

#: C_0 / median(C_ij) given to grains without self-capacitance (PHYSICS.md 2.4).
_REGULARIZATION: float = 1e-3

#: Bytes of dense right-hand sides solved at once in :func:`pair_activation_energy_K`.
_BLOCK_BYTES: int = 64 * 2**20

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike


# --------------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhysicsConfig:
    """Parameters of the physics stage (frozen, validated on construction).

    Every default is documented below with its reason.  Lengths in m, temperatures in K,
    conductance per length in S/m.

    Parameters
    ----------
    charge_unit : {"e", "2e"}
        Charge used in every charging and activation energy.  Default ``"e"``: the paper's
        ``E_aI ~ E_C/<z>`` is the single-electron energy ``e^2/2C`` of the JJ-array literature
        (PHYSICS.md 2.5).  ``"2e"`` gives the Cooper-pair energies, 4x larger.
    capacitance_model : {"abeles", "plate_edge", "plate_area", "coplanar", "plate_edge+coplanar"}
        Junction capacitance ``C_ij`` (see :func:`junction_capacitance_F`).  Default
        ``"abeles"``: the only model that reproduces the paper's estimate (PHYSICS.md 2.6 row
        B: grain 0.1 um, gap 10 nm, kappa 10, z 6 -> ``E_aI = 0.4642 K``).  The thin-film models
        are always reported alongside in ``summary["activation_energy_K_by_model"]``.
    plate_area_model : str
        Facing area ``A_f`` of the ``"plate_area"`` model: ``"diameter_squared"`` (``D^2``),
        ``"pi_diameter_squared"`` (``pi D^2``), ``"pi_radius_squared"`` (``pi D^2/4``) with
        ``D`` the pair-mean diameter, or ``"facing_length_squared"`` (``L^2``).  Default
        ``"diameter_squared"``: the literal reading of the paper's "grain size" (row A).
    relative_permittivity : float
        kappa of the InOx matrix.  Default 10, the paper's value.
    effective_permittivity : float or None
        Permittivity of coplanar (fringe) fields and of the disk self-capacitance.  Default
        ``None`` -> ``(kappa + 1)/2``: grains on the dielectric with vacuum above
        (PHYSICS.md 2.1).  Use ``kappa`` for grains embedded in the dielectric.
    film_thickness_m : float
        Height ``t`` of the grain edges for ``"plate_edge"``.  Not visible in SEM.  Default
        10 nm, the nominal thickness of the PHYSICS.md 2.6 row H example.
    self_capacitance_model : {"disk", "sphere", "none"}
        Self-capacitance ``C_0,i``.  Default ``"disk"``: a thin disk of the grain's
        equivalent radius on the interface, ``8 eps0 eps_eff r = 4 eps0 (eps1 + eps2) r``.  It is
        physically present and cuts off the 2D Coulomb logarithm of the island energy, so the
        pair energies do not depend on a numerical regulariser.  ``"sphere"``:
        ``4 pi eps0 kappa r``.  ``"none"``: ``C_0 = 0`` (the Maxwell matrix is then regularised,
        see :func:`pair_activation_energy_K`).
    decay_length_m : float
        Tunnelling decay length ``xi_t`` in ``G_n = gamma_t L exp(-2 d / xi_t)``.  Default 2 nm,
        a localisation length of disordered InOx of a few nm (PHYSICS.md 3.1).
    tunnel_prefactor_S_per_m : float
        ``gamma_t``, conductance per unit facing length of a junction of zero gap.  Default
        1e7 S/m: the order of the Sharvin (ballistic) conductance per unit length of an In
        contact of thickness t = 10 nm, ``(2e^2/h) k_F^2 t / (4 pi) ~ 1.4e7 S/m`` with
        ``k_F = 1.5e10 /m`` (free electrons, n = 1.15e29 m^-3), i.e. a fully transparent
        contact before the barrier's ``exp(-2d/xi_t)``.  With d = 10 nm, xi_t = 2 nm and
        L = 100 nm it gives ``R_n ~ 22 kOhm`` and ``E_J/E_C ~ 0.3``, close to the SIT as the
        paper's films are.  Calibration to a measured sheet resistance belongs to the
        transport stage (PHYSICS.md 3.1).
    tc_K : float
        Grain critical temperature.  Default 3.41 K (bulk In).
    gap_ratio : float
        ``Delta(0) / (k_B T_c)``.  Default 1.764 (weak-coupling BCS).
    gap_model : {"interpolation", "bcs"}
        ``Delta(T)``: the tanh interpolation (default, PHYSICS.md 1.3) or the exact
        weak-coupling gap equation scaled to ``gap_ratio`` (see :func:`bcs_gap_K`).
    temperature_K : float
        Temperature at which ``Delta(T)`` and ``E_J`` are evaluated.  Default 0 (``E_J(0)``).
    alpha : float or None
        Prefactor of the paper's ``E_aI = alpha E_C``.  Default ``None`` -> ``1/<z>`` from the
        graph stage [ZPK22].
    min_gap_m : float
        Floor applied to the gap in every capacitance formula (they divide by the gap, and
        touching grains have ``gap_m == 0``).  Default 0.5 nm: below one SEM pixel and about
        one InOx bond length.  The tunnel resistance uses the raw gap (no division there).

    Raises
    ------
    ConfigError
        If a value has the wrong type or is out of range; the message names the field and
        the fix.

    Examples
    --------
    >>> cfg = PhysicsConfig(charge_unit="2e")
    >>> PhysicsConfig.from_dict(cfg.to_dict()) == cfg
    True
    >>> cfg.effective_permittivity_resolved
    5.5
    """

    charge_unit: ChargeUnit = "e"
    capacitance_model: CapacitanceModel = "abeles"
    plate_area_model: PlateAreaModel = "diameter_squared"
    relative_permittivity: float = 10.0
    effective_permittivity: float | None = None
    film_thickness_m: float = 10e-9
    self_capacitance_model: SelfCapacitanceModel = "disk"
    decay_length_m: float = 2e-9
    tunnel_prefactor_S_per_m: float = 1e7
    tc_K: float = 3.41
    gap_ratio: float = 1.764
    gap_model: GapModel = "interpolation"
    temperature_K: float = 0.0
    alpha: float | None = None
    min_gap_m: float = 0.5e-9

    def __post_init__(self) -> None:
        """Validate every field and normalise numbers to float (raises ConfigError)."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            rule = _FIELD_RULES[f.name]
            object.__setattr__(self, f.name, _check_field(f.name, value, rule))

    @property
    def effective_permittivity_resolved(self) -> float:
        """Effective permittivity used for coplanar fields: the set value or ``(kappa + 1)/2``."""
        if self.effective_permittivity is None:
            return (self.relative_permittivity + 1.0) / 2.0
        return self.effective_permittivity

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as a plain ``{field: value}`` dict (JSON-serialisable)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PhysicsConfig:
        """Build a configuration from a mapping; missing keys take their defaults.

        Raises
        ------
        ConfigError
            If `data` is not a mapping, has unknown keys, or a value of the wrong type.
        """
        if not isinstance(data, Mapping):
            msg = f"physics configuration must be a mapping of field -> value, got {type(data).__name__}"
            raise ConfigError(msg)
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(str(k) for k in data if k not in names)
        if unknown:
            msg = f"unknown physics configuration key(s) {unknown}; valid keys are {names}"
            raise ConfigError(msg)
        return cls(**dict(data))


# (kind, allowed) per field.  kinds: "choice", "positive", "nonnegative", "permittivity",
# optional variants prefixed with "optional_".
_FIELD_RULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "charge_unit": ("choice", get_args(ChargeUnit)),
    "capacitance_model": ("choice", get_args(CapacitanceModel)),
    "plate_area_model": ("choice", get_args(PlateAreaModel)),
    "relative_permittivity": ("permittivity", ()),
    "effective_permittivity": ("optional_permittivity", ()),
    "film_thickness_m": ("positive", ()),
    "self_capacitance_model": ("choice", get_args(SelfCapacitanceModel)),
    "decay_length_m": ("positive", ()),
    "tunnel_prefactor_S_per_m": ("positive", ()),
    "tc_K": ("positive", ()),
    "gap_ratio": ("positive", ()),
    "gap_model": ("choice", get_args(GapModel)),
    "temperature_K": ("nonnegative", ()),
    "alpha": ("optional_positive", ()),
    "min_gap_m": ("positive", ()),
}


def _check_field(name: str, value: Any, rule: tuple[str, tuple[str, ...]]) -> Any:
    """Validate and normalise one PhysicsConfig field (ints become floats)."""
    kind, allowed = rule
    if kind == "choice":
        if not isinstance(value, str) or value not in allowed:
            msg = f"PhysicsConfig.{name} = {value!r} is not valid; use one of {list(allowed)}"
            raise ConfigError(msg)
        return value
    if kind.startswith("optional_"):
        if value is None:
            return None
        kind = kind.removeprefix("optional_")
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        msg = f"PhysicsConfig.{name} must be a number, got {type(value).__name__} {value!r}"
        raise ConfigError(msg)
    number = float(value)
    if not math.isfinite(number):
        msg = f"PhysicsConfig.{name} = {value!r} must be finite"
        raise ConfigError(msg)
    if kind == "positive" and number <= 0:
        msg = f"PhysicsConfig.{name} = {value!r} must be > 0; give a positive value in SI units"
        raise ConfigError(msg)
    if kind == "nonnegative" and number < 0:
        msg = f"PhysicsConfig.{name} = {value!r} must be >= 0"
        raise ConfigError(msg)
    if kind == "permittivity" and number < 1:
        msg = f"PhysicsConfig.{name} = {value!r} is a relative permittivity and must be >= 1 (vacuum is 1)"
        raise ConfigError(msg)
    return number


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
# capacitances (PHYSICS.md 2.2, 2.3)
# --------------------------------------------------------------------------------------------


def _as_float(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def abeles_capacitance_F(radius_m: ArrayLike, gap_m: ArrayLike, *, relative_permittivity: float) -> FloatArray:
    """Concentric-shell (Abeles) capacitance ``4 pi eps0 kappa r (r + s) / s``.

    Parameters
    ----------
    radius_m : array_like of float
        Grain radius ``r`` [m].
    gap_m : array_like of float
        Gap ``s`` between the grain and the surrounding shell [m], > 0.
    relative_permittivity : float
        kappa of the medium in the gap.

    Returns
    -------
    numpy.ndarray of float
        Capacitance [F], broadcast shape of the inputs.

    Notes
    -----
    Input units: m.  Output units: F.  This is the capacitance of a sphere of radius ``r``
    inside a concentric grounded shell of radius ``r + s``.  Abeles et al. [Abe75] write the
    granular-metal charging energy as ``E_c = (e^2/kappa d)(s/d)/(1/2 + s/d)`` (Gaussian units,
    ``d = 2r``), which is ``e^2 / 2C`` with this ``C`` (PHYSICS.md 2.6 conclusion 1).  For
    ``r = 50 nm``, ``s = 10 nm``, ``kappa = 10``: ``C = 0.333795 fF`` (row B).

    Examples
    --------
    >>> round(float(abeles_capacitance_F(50e-9, 10e-9, relative_permittivity=10)) * 1e15, 6)
    0.333795
    """
    r = _as_float(radius_m)
    s = _as_float(gap_m)
    return 4.0 * np.pi * EPSILON_0_F_PER_M * relative_permittivity * r * (r + s) / s


def plate_edge_capacitance_F(
    facing_length_m: ArrayLike, gap_m: ArrayLike, *, thickness_m: float, relative_permittivity: float
) -> FloatArray:
    """Parallel-plate capacitance of two facing grain edges, ``eps0 kappa t L / d``.

    Parameters
    ----------
    facing_length_m : array_like of float
        Facing length ``L_ij`` [m].
    gap_m : array_like of float
        Gap ``d_ij`` [m], > 0.
    thickness_m : float
        Edge height (film thickness) ``t`` [m].
    relative_permittivity : float
        kappa of the matrix.

    Returns
    -------
    numpy.ndarray of float
        ``C_ij`` [F].

    Notes
    -----
    Input units: m.  Output units: F.  PHYSICS.md 2.3 ``plate_edge``; row H of 2.6
    (``t = 10 nm``, ``L = 100 nm``, ``d = 10 nm``, ``kappa = 10``) gives 0.0088542 fF.

    Examples
    --------
    >>> c = plate_edge_capacitance_F(100e-9, 10e-9, thickness_m=10e-9, relative_permittivity=10)
    >>> round(float(c) * 1e15, 7)
    0.0088542
    """
    return EPSILON_0_F_PER_M * relative_permittivity * thickness_m * _as_float(facing_length_m) / _as_float(gap_m)


def plate_area_capacitance_F(area_m2: ArrayLike, gap_m: ArrayLike, *, relative_permittivity: float) -> FloatArray:
    """Parallel-plate capacitance ``eps0 kappa A_f / d`` with a user-defined facing area.

    Parameters
    ----------
    area_m2 : array_like of float
        Facing area ``A_f`` [m^2].
    gap_m : array_like of float
        Plate separation ``d`` [m], > 0.
    relative_permittivity : float
        kappa of the matrix.

    Returns
    -------
    numpy.ndarray of float
        Capacitance [F].

    Notes
    -----
    Input units: m^2, m.  Output units: F.  PHYSICS.md 2.6 row A (``A_f = (100 nm)^2``,
    0.088542 fF) and row C (``A_f = pi (100 nm)^2``, 0.278163 fF).

    Examples
    --------
    >>> round(float(plate_area_capacitance_F(1e-14, 10e-9, relative_permittivity=10)) * 1e15, 6)
    0.088542
    """
    return EPSILON_0_F_PER_M * relative_permittivity * _as_float(area_m2) / _as_float(gap_m)


def coplanar_capacitance_per_length_F_per_m(
    width_a_m: ArrayLike, width_b_m: ArrayLike, gap_m: ArrayLike, *, effective_permittivity: float
) -> FloatArray:
    r"""Capacitance per unit length of two coplanar zero-thickness strips.

    Parameters
    ----------
    width_a_m, width_b_m : array_like of float
        Strip widths ``w_a``, ``w_b`` [m] (the grain radii in :func:`compute_physics`), >= 0.
    gap_m : array_like of float
        Gap ``d`` between the strips [m], > 0.
    effective_permittivity : float
        ``eps_eff``: ``(kappa + 1)/2`` for strips on a thick dielectric with vacuum above,
        ``kappa`` for strips embedded in it.

    Returns
    -------
    numpy.ndarray of float
        ``C'`` [F/m].

    Notes
    -----
    Input units: m.  Output units: F/m.  The cross-ratio form (PHYSICS.md 2.3)

    .. math:: C' = 2 \varepsilon_0 \varepsilon_{eff} K(1 - \lambda) / K(\lambda), \quad
              \lambda = \frac{d (d + w_a + w_b)}{(d + w_a)(d + w_b)},

    with ``K(m)`` the complete elliptic integral of parameter ``m = k^2``
    (``K(1 - lambda)`` is evaluated with :func:`scipy.special.ellipkm1`, accurate for small
    ``lambda``).  For ``w_a = w_b = W`` it equals the textbook coplanar-strip result
    ``eps0 eps_eff K(k')/K(k)``, ``k = d/(d + 2W)`` [Gup96].  Checked against a 2D boundary
    element solution: ``C'/eps0 = 2.82038`` (w = 1, 1; d = 0.1) and ``2.69782`` (w = 0.5, 2;
    d = 0.1).  End effects are neglected (``L_ij >~ w``).

    Examples
    --------
    >>> c = coplanar_capacitance_per_length_F_per_m(1.0, 1.0, 0.1, effective_permittivity=1.0)
    >>> from morpho.units import EPSILON_0_F_PER_M
    >>> round(float(c / EPSILON_0_F_PER_M), 5)
    2.82038
    """
    wa = _as_float(width_a_m)
    wb = _as_float(width_b_m)
    d = _as_float(gap_m)
    lam = d * (d + wa + wb) / ((d + wa) * (d + wb))
    return 2.0 * EPSILON_0_F_PER_M * effective_permittivity * special.ellipkm1(lam) / special.ellipk(lam)


def coplanar_capacitance_F(
    facing_length_m: ArrayLike,
    width_a_m: ArrayLike,
    width_b_m: ArrayLike,
    gap_m: ArrayLike,
    *,
    effective_permittivity: float,
) -> FloatArray:
    """Coplanar (fringe-field) junction capacitance ``L_ij * C'(w_a, w_b, d)``.

    Parameters
    ----------
    facing_length_m : array_like of float
        Facing length ``L_ij`` [m].
    width_a_m, width_b_m : array_like of float
        Strip widths [m]; :func:`compute_physics` uses the grain radii.
    gap_m : array_like of float
        Gap [m], > 0.
    effective_permittivity : float
        ``eps_eff`` (see :func:`coplanar_capacitance_per_length_F_per_m`).

    Returns
    -------
    numpy.ndarray of float
        ``C_ij`` [F].

    Notes
    -----
    Input units: m.  Output units: F.  PHYSICS.md 2.6 row G (``L = 100 nm``, ``w = 50 nm``,
    ``d = 10 nm``, ``eps_eff = 10``): 0.021319 fF; row G' (``eps_eff = 5.5``): 0.011725 fF.

    Examples
    --------
    >>> c = coplanar_capacitance_F(100e-9, 50e-9, 50e-9, 10e-9, effective_permittivity=10)
    >>> round(float(c) * 1e15, 6)
    0.021319
    """
    per_length = coplanar_capacitance_per_length_F_per_m(
        width_a_m, width_b_m, gap_m, effective_permittivity=effective_permittivity
    )
    return _as_float(facing_length_m) * per_length


def disk_self_capacitance_F(radius_m: ArrayLike, *, effective_permittivity: float) -> FloatArray:
    """Self-capacitance of a thin conducting disk on an interface, ``8 eps0 eps_eff r``.

    Parameters
    ----------
    radius_m : array_like of float
        Disk radius [m].
    effective_permittivity : float
        ``(eps1 + eps2)/2`` of the two media; ``kappa`` for a disk embedded in one medium.

    Returns
    -------
    numpy.ndarray of float
        ``C_0`` [F].

    Notes
    -----
    Input units: m.  Output units: F.  ``C_0 = 4 eps0 (eps1 + eps2) r``: half of the field
    lines in each medium; ``8 eps0 eps_r r`` in a homogeneous medium (Jackson, *Classical
    Electrodynamics*, 3rd ed.).  PHYSICS.md 2.6 row E: ``r = 50 nm``, ``eps = 10`` ->
    0.035417 fF.

    Examples
    --------
    >>> round(float(disk_self_capacitance_F(50e-9, effective_permittivity=10)) * 1e15, 6)
    0.035417
    """
    return 8.0 * EPSILON_0_F_PER_M * effective_permittivity * _as_float(radius_m)


def sphere_self_capacitance_F(radius_m: ArrayLike, *, relative_permittivity: float) -> FloatArray:
    """Self-capacitance of a sphere in a homogeneous medium, ``4 pi eps0 kappa r``.

    Parameters
    ----------
    radius_m : array_like of float
        Sphere radius [m].
    relative_permittivity : float
        kappa of the medium.

    Returns
    -------
    numpy.ndarray of float
        ``C_0`` [F].

    Notes
    -----
    Input units: m.  Output units: F.  PHYSICS.md 2.6 row F: ``r = 50 nm``, ``kappa = 10`` ->
    0.055633 fF.

    Examples
    --------
    >>> round(float(sphere_self_capacitance_F(50e-9, relative_permittivity=10)) * 1e15, 6)
    0.055633
    """
    return 4.0 * np.pi * EPSILON_0_F_PER_M * relative_permittivity * _as_float(radius_m)


def junction_capacitance_F(
    radius_a_m: ArrayLike,
    radius_b_m: ArrayLike,
    gap_m: ArrayLike,
    facing_length_m: ArrayLike,
    *,
    config: PhysicsConfig,
    model: CapacitanceModel | None = None,
) -> FloatArray:
    """Junction (mutual) capacitance ``C_ij`` of a capacitance model.

    Parameters
    ----------
    radius_a_m, radius_b_m : array_like of float
        Equivalent radii of the two grains [m].
    gap_m : array_like of float
        Edge-to-edge gaps [m], >= 0; floored at ``config.min_gap_m``.
    facing_length_m : array_like of float
        Facing lengths [m], >= 0.
    config : PhysicsConfig
        Permittivities, film thickness, plate-area rule and gap floor.
    model : str, optional
        Capacitance model; default ``config.capacitance_model``.

    Returns
    -------
    numpy.ndarray of float
        ``C_ij`` [F].

    Notes
    -----
    Input units: m.  Output units: F.  With ``r = (r_a + r_b)/2`` the pair-mean radius,
    ``D = 2r``, ``d = max(gap, min_gap_m)``, ``L`` the facing length:

    * ``"abeles"``: ``C_ij = 4 pi eps0 kappa r (r + d)/d`` (concentric shell, [Abe75]).
      **Decision**: the shell capacitance is used as the *junction* capacitance, with the
      pair-mean radius and the junction's own gap.  This is how the paper's
      ``E_aI ~ E_C/<z>`` with ``E_C = e^2/2C`` reads (PHYSICS.md 2.5, 2.6 row B): for a uniform
      array (r = 50 nm, d = 10 nm, kappa = 10, z = 6) ``E_C = 2.7850 K`` and
      ``E_C/z = 0.4642 K``.  A consequence is that the grain's total
      ``C_Sigma = C_0 + sum_j C_ij ~ z`` times the isolated-shell value, so the island energy
      is ``~ E_C/z`` as well (the "double counting" of row D, here by construction).  The
      formula is not a function of ``L``; the facing length enters only the thin-film models.
    * ``"plate_edge"``: ``eps0 kappa t L / d``.
    * ``"plate_area"``: ``eps0 kappa A_f / d`` with ``A_f`` from ``config.plate_area_model``:
      ``D^2``, ``pi D^2``, ``pi D^2 / 4`` or ``L^2``.
    * ``"coplanar"``: ``L C'(r_a, r_b, d)`` with strip widths equal to the grain radii and
      ``eps_eff`` (see :func:`coplanar_capacitance_per_length_F_per_m`).
    * ``"plate_edge+coplanar"``: the sum of the two (finite-thickness grains).

    Examples
    --------
    >>> c = junction_capacitance_F(50e-9, 50e-9, 10e-9, 100e-9, config=PhysicsConfig())
    >>> round(float(c) * 1e15, 6)
    0.333795
    """
    model = config.capacitance_model if model is None else model
    ra = _as_float(radius_a_m)
    rb = _as_float(radius_b_m)
    d = np.maximum(_as_float(gap_m), config.min_gap_m)
    length = _as_float(facing_length_m)
    kappa = config.relative_permittivity
    r_mean = 0.5 * (ra + rb)
    if model == "abeles":
        return abeles_capacitance_F(r_mean, d, relative_permittivity=kappa)
    if model == "plate_area":
        diameter = 2.0 * r_mean
        areas = {
            "diameter_squared": diameter**2,
            "pi_diameter_squared": np.pi * diameter**2,
            "pi_radius_squared": np.pi * r_mean**2,
            "facing_length_squared": length**2,
        }
        return plate_area_capacitance_F(areas[config.plate_area_model], d, relative_permittivity=kappa)
    edge = plate_edge_capacitance_F(length, d, thickness_m=config.film_thickness_m, relative_permittivity=kappa)
    if model == "plate_edge":
        return edge
    fringe = coplanar_capacitance_F(length, ra, rb, d, effective_permittivity=config.effective_permittivity_resolved)
    if model == "coplanar":
        return fringe
    if model == "plate_edge+coplanar":
        return edge + fringe
    msg = f"unknown capacitance model {model!r}; use one of {list(_CAPACITANCE_MODELS)}"
    raise ConfigError(msg)


def self_capacitance_F(radius_m: ArrayLike, *, config: PhysicsConfig) -> FloatArray:
    """Grain self-capacitance ``C_0,i`` of ``config.self_capacitance_model``.

    Parameters
    ----------
    radius_m : array_like of float
        Equivalent grain radii [m].
    config : PhysicsConfig
        Model and permittivities.

    Returns
    -------
    numpy.ndarray of float
        ``C_0`` [F]: :func:`disk_self_capacitance_F` with ``eps_eff`` (``"disk"``),
        :func:`sphere_self_capacitance_F` with ``kappa`` (``"sphere"``) or zeros (``"none"``).
    """
    r = _as_float(radius_m)
    if config.self_capacitance_model == "disk":
        return disk_self_capacitance_F(r, effective_permittivity=config.effective_permittivity_resolved)
    if config.self_capacitance_model == "sphere":
        return sphere_self_capacitance_F(r, relative_permittivity=config.relative_permittivity)
    return np.zeros_like(r)


# --------------------------------------------------------------------------------------------
# charging and activation energies (PHYSICS.md 2.4)
# --------------------------------------------------------------------------------------------


def charge_C(charge_unit: ChargeUnit) -> float:
    """Carrier charge [C]: ``e`` for ``"e"``, ``2e`` for ``"2e"``.

    Raises
    ------
    ConfigError
        If `charge_unit` is neither ``"e"`` nor ``"2e"``.
    """
    if charge_unit == "e":
        return E_CHARGE_C
    if charge_unit == "2e":
        return 2.0 * E_CHARGE_C
    msg = f"charge_unit {charge_unit!r} is not valid; use 'e' (single electron) or '2e' (Cooper pair)"
    raise ConfigError(msg)


def charging_energy_K(capacitance_F: ArrayLike, *, charge_unit: ChargeUnit = "e") -> FloatArray:
    """Charging energy ``q^2 / (2C)`` as ``E/k_B`` in kelvin.

    Parameters
    ----------
    capacitance_F : array_like of float
        Capacitance [F], >= 0.
    charge_unit : {"e", "2e"}
        ``q = e`` (default, PHYSICS.md 0) or ``q = 2e`` (Cooper pairs, 4x).

    Returns
    -------
    numpy.ndarray of float
        ``E_C / k_B`` [K]; ``inf`` where ``C == 0`` and ``nan`` where ``C`` is ``nan``.

    Notes
    -----
    Input units: F.  Output units: K.  ``e^2 / (2 k_B) = 9.2962439e-16 F K``, i.e.
    ``E_C/k_B = 0.92962439 K / C[fF]`` (PHYSICS.md 1.1).

    Examples
    --------
    >>> round(float(charging_energy_K(1e-15)), 8)
    0.92962439
    """
    c = _as_float(capacitance_F)
    q = charge_C(charge_unit)
    scale = q**2 / (2.0 * K_B_J_PER_K)
    out = np.full(c.shape, np.inf)
    np.divide(scale, c, out=out, where=c != 0)
    return out


def island_capacitance_F(
    self_capacitance_F: ArrayLike, junction_capacitance_F: ArrayLike, index_a: ArrayLike, index_b: ArrayLike
) -> FloatArray:
    """Total grain capacitance ``C_Sigma,i = C_0,i + sum_j C_ij``.

    Parameters
    ----------
    self_capacitance_F : array_like of float, shape (n_grains,)
        ``C_0,i`` [F].
    junction_capacitance_F : array_like of float, shape (n_junctions,)
        ``C_ij`` [F].
    index_a, index_b : array_like of int, shape (n_junctions,)
        0-based positions of the junction's two grains in `self_capacitance_F`.

    Returns
    -------
    numpy.ndarray of float, shape (n_grains,)
        ``C_Sigma`` [F].

    Notes
    -----
    Input units: F.  Output units: F.  Sums with :func:`numpy.bincount`, no loop over grains.
    """
    c0 = _as_float(self_capacitance_F)
    cij = _as_float(junction_capacitance_F)
    n = c0.shape[0]
    ia = np.asarray(index_a, dtype=np.intp)
    ib = np.asarray(index_b, dtype=np.intp)
    return c0 + np.bincount(ia, weights=cij, minlength=n) + np.bincount(ib, weights=cij, minlength=n)


def maxwell_capacitance_matrix(
    self_capacitance_F: ArrayLike, junction_capacitance_F: ArrayLike, index_a: ArrayLike, index_b: ArrayLike
) -> sparse.csc_matrix:
    """Sparse Maxwell capacitance matrix of the grain network.

    Parameters
    ----------
    self_capacitance_F : array_like of float, shape (n_grains,)
        ``C_0,i`` [F].
    junction_capacitance_F : array_like of float, shape (n_junctions,)
        ``C_ij`` [F].
    index_a, index_b : array_like of int, shape (n_junctions,)
        0-based grain positions of each junction.

    Returns
    -------
    scipy.sparse.csc_matrix, shape (n_grains, n_grains)
        ``C_ii = C_0,i + sum_j C_ij``, ``C_ij = -C_ij`` for neighbours [F].  Symmetric; positive
        definite when every connected component has some ``C_0 > 0``.

    Notes
    -----
    Input units: F.  Output units: F.  The electrostatic energy of grain charges ``Q`` is
    ``U = Q^T C^-1 Q / 2`` (PHYSICS.md 2.4).
    """
    c0 = _as_float(self_capacitance_F)
    cij = _as_float(junction_capacitance_F)
    n = c0.shape[0]
    ia = np.asarray(index_a, dtype=np.intp)
    ib = np.asarray(index_b, dtype=np.intp)
    diag = np.arange(n, dtype=np.intp)
    rows = np.concatenate([ia, ib, ia, ib, diag])
    cols = np.concatenate([ib, ia, ia, ib, diag])
    data = np.concatenate([-cij, -cij, cij, cij, c0])
    return sparse.coo_matrix((data, (rows, cols)), shape=(n, n)).tocsc()


def _regularized_self_capacitance(
    self_capacitance_F: ArrayLike, junction_capacitance_F: FloatArray, regularization: float
) -> tuple[FloatArray, float]:
    """Replace ``C_0 <= 0`` by ``regularization * median(C_ij > 0)``; return it and the value."""
    c0 = _as_float(self_capacitance_F).copy()
    missing = c0 <= 0
    if not np.any(missing):
        return c0, 0.0
    positive = junction_capacitance_F[junction_capacitance_F > 0]
    floor_F = regularization * float(np.median(positive)) if positive.size else 0.0
    c0[missing] = floor_F
    return c0, floor_F


def pair_activation_energy_K(
    self_capacitance_F: ArrayLike,
    junction_capacitance_F: ArrayLike,
    index_a: ArrayLike,
    index_b: ArrayLike,
    *,
    charge_unit: ChargeUnit = "e",
    regularization: float = 1e-3,
    method: PairEnergyMethod = "selected_inverse",
) -> FloatArray:
    r"""Pair (dipole) activation energy ``E_a,ij = U_ij / 2`` of every junction.

    Parameters
    ----------
    self_capacitance_F : array_like of float, shape (n_grains,)
        ``C_0,i`` [F], >= 0.
    junction_capacitance_F : array_like of float, shape (n_junctions,)
        ``C_ij`` [F], >= 0.
    index_a, index_b : array_like of int, shape (n_junctions,)
        0-based grain positions of each junction.
    charge_unit : {"e", "2e"}
        Charge ``q`` of the pair.
    regularization : float
        Grains with ``C_0 == 0`` get ``C_0 = regularization * median(C_ij > 0)`` so that the
        matrix is invertible.  Default 1e-3 (PHYSICS.md 2.4: pair energies change by ~0.2%).
    method : {"selected_inverse", "solve"}
        How ``(e_i - e_j)^T C^-1 (e_i - e_j)`` is evaluated after one
        :func:`scipy.sparse.linalg.splu` factorisation (both exact to round-off):

        * ``"selected_inverse"`` (default): the entries of ``C^-1`` on the pattern of the
          Cholesky factor (Takahashi recurrence), ``C^-1_ii + C^-1_jj - 2 C^-1_ij``.  Cost
          ``~ sum_j |col_j(L)|^2``, about ``N^1.5`` for planar graphs.  Falls back to
          ``"solve"`` if the factorisation is not symmetric.
        * ``"solve"``: solve the right-hand sides ``e_i - e_j`` in dense blocks of at most
          64 MiB.  Cost ``n_junctions x nnz(LU)``, about ``N^2``: fine below ~2000 grains.

    Returns
    -------
    numpy.ndarray of float, shape (n_junctions,)
        ``E_a,ij / k_B`` [K].  ``inf`` for every junction if all capacitances are zero.

    Raises
    ------
    ConfigError
        If `method` is unknown.

    Notes
    -----
    Input units: F.  Output units: K.  For ``+q`` on grain ``i`` and ``-q`` on grain ``j``,

    .. math:: U_{ij} = \frac{q^2}{2} (e_i - e_j)^T C^{-1} (e_i - e_j), \qquad
              E_{a,ij} = U_{ij}/2,

    (law of mass action: the carrier density goes as ``exp(-U/2k_BT)``), with ``C`` the
    Maxwell matrix of :func:`maxwell_capacitance_matrix`.  On an infinite lattice of
    coordination ``z`` with equal ``C`` and ``C_0 -> 0`` this is exactly ``E_C / z``
    (PHYSICS.md 2.4; [Del94] measured ``E_C/4`` for z = 4); on an ``m x m`` torus,
    ``E_C (N - 1)/(N z)``.

    The selected inversion uses ``P C P^T = L D L^T`` (SuperLU in symmetric mode with diagonal
    pivots, so ``U = D L^T``) and, column by column from the last,
    ``Z[S, j] = -Z[S, S] L[S, j]``, ``Z[j, j] = 1/D_j - L[S, j]^T Z[S, j]``, where ``S`` is
    the symbolic structure of column ``j`` of ``L`` (K. Takahashi, J. Fagan, M.-S. Chin,
    Proc. 8th PICA Conf. (1973); A. M. Erisman, W. F. Tinney, Commun. ACM 18, 177 (1975)).
    The structure is recomputed from the elimination tree because SuperLU drops exact zeros.

    Examples
    --------
    Two grains joined by one junction, no self-capacitance (regularised):

    >>> e = pair_activation_energy_K([0.0, 0.0], [1e-15], [0], [1])
    >>> round(float(e[0] / charging_energy_K(1e-15)), 3)
    0.5
    """
    if method not in ("selected_inverse", "solve"):
        msg = f"method {method!r} is not valid; use 'selected_inverse' or 'solve'"
        raise ConfigError(msg)
    cij = _as_float(junction_capacitance_F)
    ia = np.asarray(index_a, dtype=np.intp)
    ib = np.asarray(index_b, dtype=np.intp)
    n_junctions = cij.shape[0]
    if n_junctions == 0:
        return np.empty(0, dtype=np.float64)
    c0, _ = _regularized_self_capacitance(self_capacitance_F, cij, regularization)
    if np.any(c0 <= 0):
        return np.full(n_junctions, np.inf)
    matrix = maxwell_capacitance_matrix(c0, cij, ia, ib)
    scale_F = float(np.median(matrix.diagonal()))  # work with O(1) numbers
    matrix = (matrix / scale_F).tocsc()
    dipole = None
    if method == "selected_inverse":
        dipole = _dipole_selected_inverse(matrix, ia, ib)
    if dipole is None:
        dipole = _dipole_block_solve(matrix, ia, ib)
    q = charge_C(charge_unit)
    return (q**2 / 4.0) * (dipole / scale_F) / K_B_J_PER_K


def _dipole_block_solve(matrix: sparse.csc_matrix, ia: np.ndarray, ib: np.ndarray) -> FloatArray:
    """``(e_i - e_j)^T M^-1 (e_i - e_j)`` by LU solves of dense right-hand-side blocks."""
    lu = sparse_linalg.splu(matrix)
    n_grains = matrix.shape[0]
    n_junctions = ia.shape[0]
    block = max(1, min(n_junctions, _BLOCK_BYTES // (8 * n_grains)))
    dipole = np.empty(n_junctions, dtype=np.float64)
    for start in range(0, n_junctions, block):
        stop = min(start + block, n_junctions)
        cols = np.arange(stop - start)
        rhs = np.zeros((n_grains, stop - start), dtype=np.float64)
        rhs[ia[start:stop], cols] += 1.0
        rhs[ib[start:stop], cols] -= 1.0
        x = lu.solve(rhs)
        dipole[start:stop] = x[ia[start:stop], cols] - x[ib[start:stop], cols]
    return dipole


def _symbolic_cholesky(lower: sparse.csc_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Column structure of the Cholesky factor of a symmetric pattern (elimination tree).

    `lower` holds the strictly lower triangle (CSC).  Returns ``(indptr, indices)`` of the
    factor including the diagonal (first in each column), rows sorted.
    """
    n = lower.shape[0]
    structs: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * n
    children: list[list[int]] = [[] for _ in range(n)]
    for j in range(n):
        parts = [lower.indices[lower.indptr[j] : lower.indptr[j + 1]].astype(np.int64)]
        parts.extend(structs[c][1:] for c in children[j])  # structs[c][0] is j, the parent
        rows = np.unique(np.concatenate(parts)) if len(parts) > 1 else np.sort(parts[0])
        structs[j] = rows
        if rows.size:
            children[int(rows[0])].append(j)
    counts = np.fromiter((s.size + 1 for s in structs), dtype=np.int64, count=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.concatenate([np.concatenate(([j], structs[j])) for j in range(n)]) if n else np.empty(0, np.int64)
    return indptr, indices.astype(np.int64)


def _dipole_selected_inverse(matrix: sparse.csc_matrix, ia: np.ndarray, ib: np.ndarray) -> FloatArray | None:
    """``M^-1_ii + M^-1_jj - 2 M^-1_ij`` by Takahashi selected inversion; None if not applicable."""
    n = matrix.shape[0]
    lu = sparse_linalg.splu(matrix, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
    perm = lu.perm_c
    if not np.array_equal(lu.perm_r, perm):
        return None
    d = lu.U.diagonal()
    if np.any(~np.isfinite(d)) or np.any(d <= 0):
        return None
    # P M P^T with (P M P^T)[perm[i], perm[j]] = M[i, j]
    coo = matrix.tocoo()
    permuted = sparse.coo_matrix((coo.data, (perm[coo.row], perm[coo.col])), shape=(n, n))
    indptr, rows = _symbolic_cholesky(sparse.tril(permuted, k=-1).tocsc())
    cols = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    keys = cols * n + rows  # sorted: by column, then row
    factor = lu.L.tocoo()
    factor_keys = factor.col.astype(np.int64) * n + factor.row
    pos = np.minimum(np.searchsorted(keys, factor_keys), keys.size - 1)
    if np.any(keys[pos] != factor_keys):  # numeric pattern outside the symbolic one: give up
        return None
    lval = np.zeros(keys.size, dtype=np.float64)
    lval[pos] = factor.data
    zval = np.zeros(keys.size, dtype=np.float64)
    for j in range(n - 1, -1, -1):
        start, stop = int(indptr[j]), int(indptr[j + 1])
        s = rows[start + 1 : stop]
        if s.size == 0:
            zval[start] = 1.0 / d[j]
            continue
        lcol = lval[start + 1 : stop]
        zss = zval[np.searchsorted(keys, np.minimum.outer(s, s) * n + np.maximum.outer(s, s))]
        zs = -(zss @ lcol)
        zval[start + 1 : stop] = zs
        zval[start] = 1.0 / d[j] - lcol @ zs
    pa = perm[ia].astype(np.int64)
    pb = perm[ib].astype(np.int64)
    lo = np.minimum(pa, pb)
    hi = np.maximum(pa, pb)
    z_aa = zval[indptr[pa]]
    z_bb = zval[indptr[pb]]
    z_ab = zval[np.searchsorted(keys, lo * n + hi)]
    return z_aa + z_bb - 2.0 * z_ab


def pair_activation_energy_local_K(
    island_capacitance_F: ArrayLike, index_a: ArrayLike, index_b: ArrayLike, *, charge_unit: ChargeUnit = "e"
) -> FloatArray:
    """Local approximation of the pair activation energy, ``(q^2/4)(1/C_Sigma,i + 1/C_Sigma,j)``.

    Parameters
    ----------
    island_capacitance_F : array_like of float, shape (n_grains,)
        ``C_Sigma,i`` [F] (see :func:`island_capacitance_F`).
    index_a, index_b : array_like of int, shape (n_junctions,)
        0-based grain positions of each junction.
    charge_unit : {"e", "2e"}
        Charge ``q``.

    Returns
    -------
    numpy.ndarray of float, shape (n_junctions,)
        ``E_a,ij / k_B`` [K], ``inf`` if either ``C_Sigma`` is zero.

    Notes
    -----
    Input units: F.  Output units: K.  ``U_ij ~ (q^2/2)(1/C_Sigma,i + 1/C_Sigma,j)``
    neglects the polarisation of the neighbours; ``E_a = U/2`` is the mean of the two
    island energies ``q^2/2C_Sigma``.  On a regular lattice with ``C_0 = 0`` it equals ``E_C / z`` exactly
    (PHYSICS.md 2.4).
    """
    island_K = charging_energy_K(island_capacitance_F, charge_unit=charge_unit)
    ia = np.asarray(index_a, dtype=np.intp)
    ib = np.asarray(index_b, dtype=np.intp)
    return 0.5 * (island_K[ia] + island_K[ib])


# --------------------------------------------------------------------------------------------
# superconducting gap (PHYSICS.md 1.3)
# --------------------------------------------------------------------------------------------


def _gap_equation_residual(x: float, t: float, n_terms: int) -> float:
    """``ln(1/t) - 2 pi t sum_n [1/w_n - 1/sqrt(w_n^2 + x^2)]`` in units of k_B T_c (with tail)."""
    omega = (2.0 * np.arange(n_terms) + 1.0) * np.pi * t
    total = float(np.sum(1.0 / omega - 1.0 / np.sqrt(omega**2 + x * x)))
    # tail n >= N: terms ~ x^2 / (2 w_n^3); midpoint rule for sum (2n+1)^-3 ~ 1/(4 (2N)^2)
    tail = x * x / (2.0 * (np.pi * t) ** 3) / (16.0 * n_terms**2)
    return math.log(1.0 / t) - 2.0 * np.pi * t * (total + tail)


def bcs_gap_weak_coupling_K(temperature_K: ArrayLike, *, tc_K: float) -> FloatArray:
    r"""Exact weak-coupling BCS gap ``Delta(T)/k_B`` from the gap equation (reference).

    Parameters
    ----------
    temperature_K : array_like of float
        Temperatures [K], >= 0.
    tc_K : float
        Critical temperature [K], > 0.

    Returns
    -------
    numpy.ndarray of float
        ``Delta(T) / k_B`` [K]; ``Delta(0) = pi exp(-gamma_E) k_B T_c = 1.763877 k_B T_c``.

    Raises
    ------
    InputError
        If `tc_K` is not finite and > 0, or a temperature is negative or not finite.

    Notes
    -----
    Input units: K.  Output units: K.  Solves, with :func:`scipy.optimize.brentq` for each
    distinct temperature (a reference implementation, not for hot loops),

    .. math:: \ln(T_c/T) = 2\pi k_B T \sum_{n \ge 0}
              \left[\frac{1}{\omega_n} - \frac{1}{\sqrt{\omega_n^2 + \Delta^2}}\right],
              \qquad \omega_n = (2n + 1)\pi k_B T,

    summing ``omega_n`` up to ``~1000 k_B T_c`` plus the analytic ``Delta^2/2 omega^3`` tail.
    For ``T <= 0.02 T_c`` it returns ``Delta(0)`` (the difference is ``< exp(-80)``); for
    ``T >= T_c``, zero.  Verified: ``Delta/Delta(0) = 0.95688, 0.71104, 0.52634, 0.38032`` at
    ``t = 0.5, 0.8, 0.9, 0.95`` (PHYSICS.md 1.3).

    Examples
    --------
    >>> round(float(bcs_gap_weak_coupling_K(0.0, tc_K=1.0)), 6)
    1.763877
    """
    temps = _as_float(temperature_K)
    if tc_K <= 0 or not math.isfinite(tc_K):
        msg = f"tc_K = {tc_K!r} must be finite and > 0"
        raise InputError(msg)
    if np.any(~np.isfinite(temps)) or np.any(temps < 0):
        msg = "temperature_K must be finite and >= 0"
        raise InputError(msg)
    t_all = temps / tc_K
    unique_t, inverse = np.unique(t_all, return_inverse=True)
    ratios = np.empty(unique_t.shape, dtype=np.float64)
    for k, t in enumerate(unique_t):
        if t >= 1.0:
            ratios[k] = 0.0
        elif t <= 0.02:
            ratios[k] = _BCS_WEAK_COUPLING_RATIO
        else:
            n_terms = math.ceil(1000.0 / (2.0 * np.pi * t)) + 1
            ratios[k] = optimize.brentq(
                _gap_equation_residual, 1e-12, 5.0, args=(float(t), n_terms), xtol=1e-14, rtol=1e-13
            )
    return (ratios[inverse] * tc_K).reshape(temps.shape)


def bcs_gap_K(
    temperature_K: ArrayLike,
    *,
    tc_K: float = 3.41,
    gap_ratio: float = 1.764,
    model: GapModel = "interpolation",
) -> FloatArray:
    """Superconducting gap ``Delta(T)/k_B`` in kelvin.

    Parameters
    ----------
    temperature_K : array_like of float
        Temperatures [K], >= 0.
    tc_K : float
        Critical temperature [K].  Default 3.41 K (In).
    gap_ratio : float
        ``Delta(0)/(k_B T_c)``.  Default 1.764 (weak-coupling BCS).
    model : {"interpolation", "bcs"}
        ``"interpolation"`` (default): ``Delta(0) tanh(1.74 sqrt(T_c/T - 1))``.
        ``"bcs"``: the exact weak-coupling shape :func:`bcs_gap_weak_coupling_K` scaled to
        ``Delta(0) = gap_ratio k_B T_c``.

    Returns
    -------
    numpy.ndarray of float
        ``Delta(T)/k_B`` [K]; ``Delta(0)`` at ``T = 0``, 0 for ``T >= T_c``.

    Raises
    ------
    InputError
        If a temperature is negative or not finite.
    ConfigError
        If `model` is unknown.

    Notes
    -----
    Input units: K.  Output units: K.  ``Delta(0) = 1.764 k_B x 3.41 K = 6.01524 K =
    0.518353 meV``.  The interpolation differs from the exact shape by at most
    ``0.0175 Delta(0)`` on ``0.05 <= T/T_c <= 0.99`` (PHYSICS.md 1.3).

    Examples
    --------
    >>> round(float(bcs_gap_K(0.0)), 5)
    6.01524
    """
    temps = _as_float(temperature_K)
    if np.any(~np.isfinite(temps)) or np.any(temps < 0):
        msg = "temperature_K must be finite and >= 0 (kelvin)"
        raise InputError(msg)
    delta0_K = gap_ratio * tc_K
    if model == "bcs":
        shape = bcs_gap_weak_coupling_K(temps, tc_K=tc_K) / (_BCS_WEAK_COUPLING_RATIO * tc_K)
        return delta0_K * shape
    if model != "interpolation":
        msg = f"gap model {model!r} is not valid; use 'interpolation' or 'bcs'"
        raise ConfigError(msg)
    out = np.zeros(temps.shape, dtype=np.float64)
    zero = temps <= 0
    mid = (temps > 0) & (temps < tc_K)
    out[zero] = delta0_K
    out[mid] = delta0_K * np.tanh(1.74 * np.sqrt(tc_K / temps[mid] - 1.0))
    return out


# --------------------------------------------------------------------------------------------
# tunnelling and Josephson coupling (PHYSICS.md 3.1, 3.2)
# --------------------------------------------------------------------------------------------


def tunnel_resistance_ohm(
    facing_length_m: ArrayLike, gap_m: ArrayLike, *, prefactor_S_per_m: float, decay_length_m: float
) -> FloatArray:
    """Normal-state tunnel resistance ``R_n = 1 / (gamma_t L exp(-2 d / xi_t))``.

    Parameters
    ----------
    facing_length_m : array_like of float
        Facing length ``L`` [m], >= 0.
    gap_m : array_like of float
        Barrier width ``d`` [m], >= 0.
    prefactor_S_per_m : float
        ``gamma_t`` [S/m], conductance per unit length at zero gap.
    decay_length_m : float
        ``xi_t`` [m].

    Returns
    -------
    numpy.ndarray of float
        ``R_n`` [ohm]; ``inf`` where ``L == 0`` or where ``R_n`` exceeds the float range.

    Notes
    -----
    Input units: m, S/m.  Output units: ohm.  Evaluated as
    ``exp(2d/xi_t - ln(gamma_t L))`` so that wide gaps overflow cleanly to ``inf`` (a
    non-conducting junction) instead of underflowing the conductance.

    Examples
    --------
    >>> r = tunnel_resistance_ohm(100e-9, 0.0, prefactor_S_per_m=1e7, decay_length_m=2e-9)
    >>> round(float(r), 6)
    1.0
    """
    length = _as_float(facing_length_m)
    d = _as_float(gap_m)
    length, d = np.broadcast_arrays(length, d)
    out = np.full(length.shape, np.inf)
    ok = length > 0
    exponent = 2.0 * d[ok] / decay_length_m - np.log(prefactor_S_per_m * length[ok])
    with np.errstate(over="ignore"):
        out[ok] = np.exp(exponent)
    return out


def ambegaokar_baratoff_icrn_equal_V(gap_K: ArrayLike, *, temperature_K: float = 0.0) -> FloatArray:
    """Ambegaokar-Baratoff ``I_c R_n`` for equal gaps, ``(pi Delta / 2e) tanh(Delta / 2k_BT)``.

    Parameters
    ----------
    gap_K : array_like of float
        ``Delta/k_B`` [K], >= 0.
    temperature_K : float
        Temperature [K], >= 0.

    Returns
    -------
    numpy.ndarray of float
        ``I_c R_n`` [V].

    Notes
    -----
    Input units: K.  Output units: V.  [AB63].  ``I_c R_n(0) = pi Delta(0) / 2e = 0.814227 mV``
    for In (``Delta(0)/k_B = 6.01524 K``).

    Examples
    --------
    >>> round(float(ambegaokar_baratoff_icrn_equal_V(bcs_gap_K(0.0))) * 1e3, 5)
    0.81423
    """
    delta_K = _as_float(gap_K)
    return np.pi * delta_K * K_B_J_PER_K / (2.0 * E_CHARGE_C) * _thermal_factor(delta_K, temperature_K)


def _thermal_factor(delta_K: FloatArray, temperature_K: float) -> FloatArray:
    """``tanh(Delta / 2 k_B T)``, equal to 1 at T = 0 for Delta > 0 and 0 for Delta == 0."""
    if temperature_K <= 0:
        return np.where(delta_K > 0, 1.0, 0.0)
    return np.tanh(delta_K / (2.0 * temperature_K))


def ambegaokar_baratoff_icrn_V(
    gap_a_K: ArrayLike, gap_b_K: ArrayLike, *, temperature_K: float = 0.0, cutoff: float = 2000.0
) -> FloatArray:
    r"""General Ambegaokar-Baratoff ``I_c R_n`` for two gaps (Matsubara sum).

    Parameters
    ----------
    gap_a_K, gap_b_K : array_like of float
        ``Delta_1/k_B``, ``Delta_2/k_B`` [K], >= 0 (broadcast together).
    temperature_K : float
        Temperature [K], >= 0.
    cutoff : float
        Sum the Matsubara frequencies up to ``cutoff * max(Delta)`` and add the analytic tail.

    Returns
    -------
    numpy.ndarray of float
        ``I_c R_n`` [V].

    Notes
    -----
    Input units: K.  Output units: V.  [AB63]:

    .. math:: e I_c R_n = 2\pi k_B T \sum_{n \ge 0}
              \frac{\Delta_1 \Delta_2}{\sqrt{(\omega_n^2 + \Delta_1^2)(\omega_n^2 + \Delta_2^2)}},
              \qquad \omega_n = (2n + 1)\pi k_B T.

    Terms beyond ``omega_N`` are ``~ Delta_1 Delta_2 / omega_n^2``; their contribution
    ``2 pi k_B T sum_{n>=N} ... ~ Delta_1 Delta_2 / (2 N pi k_B T)`` is added (midpoint rule).  At ``T = 0``, and when
    ``k_B T < min(Delta)/50`` (thermal corrections ``< exp(-50)``), the closed form is used:
    ``e I_c R_n = (2 Delta_1 Delta_2/(Delta_1 + Delta_2)) K(k^2)``,
    ``k = |Delta_1 - Delta_2|/(Delta_1 + Delta_2)`` (``Delta_2/Delta_1 = 0.5 -> 1.0782578
    Delta_1``, ``0.8 -> 1.4006030 Delta_1``).  For equal gaps it equals
    :func:`ambegaokar_baratoff_icrn_equal_V` to ~1e-10.

    Examples
    --------
    >>> v = ambegaokar_baratoff_icrn_V(1.0, 0.5)
    >>> from morpho.units import E_CHARGE_C, K_B_J_PER_K
    >>> round(float(v * E_CHARGE_C / K_B_J_PER_K), 7)
    1.0782578
    """
    d1, d2 = np.broadcast_arrays(_as_float(gap_a_K), _as_float(gap_b_K))
    shape = d1.shape
    d1 = d1.ravel()
    d2 = d2.ravel()
    out_K = np.zeros(d1.shape, dtype=np.float64)
    lo = np.minimum(d1, d2)
    hi = np.maximum(d1, d2)
    active = lo > 0
    cold = active & (temperature_K * 50.0 < lo)
    if np.any(cold):
        s = lo[cold] + hi[cold]
        k = (hi[cold] - lo[cold]) / s
        out_K[cold] = 2.0 * lo[cold] * hi[cold] / s * special.ellipk(k * k)
    warm = np.flatnonzero(active & ~cold)
    if warm.size:
        t = float(temperature_K)
        n_terms = math.ceil(cutoff * float(hi[warm].max()) / (2.0 * np.pi * t)) + 1
        omega = (2.0 * np.arange(n_terms) + 1.0) * np.pi * t
        chunk = max(1, 4_000_000 // n_terms)
        for start in range(0, warm.size, chunk):
            idx = warm[start : start + chunk]
            a = d1[idx][:, None]
            b = d2[idx][:, None]
            terms = a * b / np.sqrt((omega**2 + a**2) * (omega**2 + b**2))
            # sum_{n>=N} D1 D2 / w_n^2 with sum (2n+1)^-2 ~ 1/(4N) (midpoint rule)
            tail = d1[idx] * d2[idx] / ((np.pi * t) ** 2 * 4.0 * n_terms)
            out_K[idx] = 2.0 * np.pi * t * (terms.sum(axis=1) + tail)
    return (out_K * K_B_J_PER_K / E_CHARGE_C).reshape(shape)


def josephson_energy_K(resistance_ohm: ArrayLike, gap_K: ArrayLike, *, temperature_K: float = 0.0) -> FloatArray:
    """Josephson energy ``E_J = (R_Q / R_n)(Delta/2) tanh(Delta / 2k_BT)`` as ``E/k_B`` [K].

    Parameters
    ----------
    resistance_ohm : array_like of float
        Normal-state resistance ``R_n`` [ohm], > 0 (``inf`` gives 0).
    gap_K : array_like of float
        ``Delta(T)/k_B`` [K] (equal gaps on both sides).
    temperature_K : float
        Temperature [K], >= 0.

    Returns
    -------
    numpy.ndarray of float
        ``E_J / k_B`` [K].

    Notes
    -----
    Input units: ohm, K.  Output units: K.  ``E_J = hbar I_c / 2e`` with the equal-gap
    Ambegaokar-Baratoff ``I_c R_n`` [AB63]; ``hbar/2e x pi/2e = h/8e^2 = R_Q/2``,
    ``R_Q = h/4e^2``.  ``E_J(0)/k_B = 3.00762 K x R_Q/R_n`` for In (PHYSICS.md 3.2).

    Examples
    --------
    >>> from morpho.units import R_Q_OHM
    >>> round(float(josephson_energy_K(R_Q_OHM, bcs_gap_K(0.0))), 5)
    3.00762
    """
    r = _as_float(resistance_ohm)
    delta_K = _as_float(gap_K)
    return (R_Q_OHM / r) * 0.5 * delta_K * _thermal_factor(delta_K, temperature_K)


def ej_over_ec(josephson_energy_K: ArrayLike, charging_energy_K: ArrayLike) -> FloatArray:
    """``gamma = E_J / E_C`` (dimensionless); 0 where ``E_C`` is infinite and ``E_J`` finite.

    Parameters
    ----------
    josephson_energy_K, charging_energy_K : array_like of float
        ``E_J/k_B`` and ``E_C/k_B`` [K].

    Returns
    -------
    numpy.ndarray of float
        ``E_J / E_C``.
    """
    ej = _as_float(josephson_energy_K)
    ec = _as_float(charging_energy_K)
    ej, ec = np.broadcast_arrays(ej, ec)
    out = np.full(ej.shape, np.nan)
    ok = np.isfinite(ej) & np.isfinite(ec) & (ec > 0)
    out[ok] = ej[ok] / ec[ok]
    out[np.isfinite(ej) & np.isposinf(ec)] = 0.0
    return out


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
