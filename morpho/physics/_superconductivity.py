"""Superconducting gap, tunnel resistance, Ambegaokar-Baratoff ``I_c R_n`` and Josephson energy.

PHYSICS.md sections 1.3, 3.1 and 3.2.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from ..errors import ConfigError, InputError
from ..units import E_CHARGE_C, K_B_J_PER_K, R_Q_OHM
from ._config import ArrayLike, FloatArray, GapModel, _as_float

#: Weak-coupling BCS ratio Delta(0)/(k_B T_c) = pi exp(-gamma_Euler) = 1.763877 (PHYSICS.md 1.3).
_BCS_WEAK_COUPLING_RATIO: float = math.pi * math.exp(-float(np.euler_gamma))


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
