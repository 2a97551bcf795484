"""Configuration of the physics stage: model-choice types, :class:`PhysicsConfig` and its validation.

Also holds the array aliases and the ``_as_float`` helper shared by the other private modules
of :mod:`morpho.physics`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt

from .._config_keys import reject_unknown_keys
from ..errors import ConfigError

ChargeUnit = Literal["e", "2e"]
CapacitanceModel = Literal["abeles", "plate_edge", "plate_area", "coplanar", "plate_edge+coplanar"]
PlateAreaModel = Literal["diameter_squared", "pi_diameter_squared", "pi_radius_squared", "facing_length_squared"]
SelfCapacitanceModel = Literal["disk", "sphere", "none"]
GapModel = Literal["interpolation", "bcs"]
PairEnergyMethod = Literal["selected_inverse", "solve"]

_CAPACITANCE_MODELS: tuple[str, ...] = get_args(CapacitanceModel)
FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike


def _as_float(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


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
        reject_unknown_keys("physics", data, cls)
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
