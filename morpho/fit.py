"""Fits of the seed paper's Eq. 1 (insulating side) and Eq. 2 (superconducting side) to rho(T).

    Eq. 1:  rho(T) = 1 / (sigma_QF + sigma_0 exp(-E_a / T))
    Eq. 2:  rho(T) = rho_QF + rho_0 exp(-E_a / T)

(E_a as E_a/k_B in kelvin.)  Following PHYSICS.md 4.4 the fit runs in log space on
theta = (ln Q, ln P_ref, ln E_a), with Q the quantum-fluctuation term (sigma_QF or rho_QF) and
P_ref the activated term at T_ref = exp(mean ln T), which decorrelates prefactor and activation
energy and keeps every parameter positive; residuals are ``ln rho_model - ln rho`` (the noise of
a resistance measurement is multiplicative and rho spans decades).  Starting values come from a
line through ln(activated part) against 1/T, with a small multi-start; standard errors from
``s^2 (J^T J)^-1``, the prefactor's by the delta method.  ``model="auto"`` fits both equations and
keeps the one with the lower BIC.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares

from .errors import InputError

__all__ = ["FitResult", "fit_rho", "fit_table", "power_law"]

#: Parameter names per model, in the order (Q, prefactor, E_a).
PARAM_NAMES = {
    "insulating": ("sigma_qf_S", "sigma_0_S", "activation_energy_K"),
    "superconducting": ("rho_qf_ohm", "rho_0_ohm", "activation_energy_K"),
}


@dataclass(frozen=True)
class FitResult:
    """One fit of Eq. 1 or Eq. 2 (see the module docstring).

    Attributes
    ----------
    model : {"insulating", "superconducting"}
    params, stderr : dict of str to float
        ``sigma_qf_S, sigma_0_S, activation_energy_K`` (insulating) or ``rho_qf_ohm, rho_0_ohm,
        activation_energy_K`` (superconducting), in SI units and kelvin, and their standard errors.
    bic : float
        ``n ln(RSS / n) + 3 ln n`` of the log residuals.
    rms_log_residual : float
        Root mean square of ``ln rho_model - ln rho``.
    saturation_resolved : bool
        Whether the quantum-fluctuation term is at least 10 % of the total at the lowest
        temperature; if not, Q is only an upper bound.
    delta_bic_arrhenius : float
        BIC of the pure activated law (Q = 0) minus this BIC (> 0: the QF term is needed).
    correlation : ndarray, shape (3, 3)
        Correlation matrix of (ln Q, ln P_ref, ln E_a).
    n_points : int
    """

    model: str
    params: dict[str, float]
    stderr: dict[str, float]
    bic: float
    rms_log_residual: float
    saturation_resolved: bool
    delta_bic_arrhenius: float
    correlation: np.ndarray = field(repr=False)
    n_points: int = 0

    def predict(self, temperature_K: np.ndarray) -> np.ndarray:
        """rho (ohm per square, or whatever unit was fitted) of this fit at `temperature_K`."""
        q, pre, ea = (self.params[k] for k in PARAM_NAMES[self.model])
        t = np.asarray(temperature_K, dtype=np.float64)
        activated = pre * np.exp(-ea / t)
        return 1.0 / (q + activated) if self.model == "insulating" else q + activated


def _log_model(theta: np.ndarray, inv_t: np.ndarray, inv_t_ref: float, model: str) -> np.ndarray:
    """ln rho of the model at 1/T for theta = (ln Q, ln P_ref, ln E_a)."""
    ln_q, ln_p, ln_ea = theta
    ln_act = ln_p - np.exp(ln_ea) * (inv_t - inv_t_ref)
    ln_sum = np.logaddexp(ln_q, ln_act)
    return -ln_sum if model == "insulating" else ln_sum


def _start(inv_t: np.ndarray, ln_rho: np.ndarray, model: str, inv_t_ref: float) -> tuple[float, float, float]:
    """Starting theta from a line through ln(activated part) against 1/T (PHYSICS.md 4.4)."""
    sign = -1.0 if model == "insulating" else 1.0  # the additive quantity: 1/rho or rho
    value = np.exp(sign * ln_rho)
    coldest = int(np.argmax(inv_t))
    q0 = 0.9 * value[coldest]
    rest = value - q0
    use = rest > 0.05 * value
    if use.sum() >= 2:
        slope, intercept = np.polyfit(inv_t[use], np.log(rest[use]), 1)
        ea0 = max(-slope, 1e-3 / inv_t.max()) if slope < 0 else 1.0 / inv_t.mean()
        ln_p0 = intercept - ea0 * inv_t_ref
    else:
        ea0, ln_p0 = 1.0 / inv_t.mean(), float(np.log(max(value.max() - q0, value.max() * 1e-3)))
    return float(np.log(max(q0, 1e-300))), float(ln_p0), float(np.log(ea0))


def _fit_one(t: np.ndarray, rho: np.ndarray, model: str, loss: str) -> FitResult:
    inv_t = 1.0 / t
    ln_rho = np.log(rho)
    inv_t_ref = float(np.exp(-np.mean(np.log(t))))  # 1 / T_ref, T_ref = exp(mean ln T)
    n = t.size
    ln_q0, ln_p0, ln_ea0 = _start(inv_t, ln_rho, model, inv_t_ref)
    lower = [-np.inf, -np.inf, float(np.log(0.01 * t.min()))]
    upper = [np.inf, np.inf, float(np.log(100.0 * t.max()))]
    ln_ea0 = float(np.clip(ln_ea0, lower[2] + 1e-9, upper[2] - 1e-9))

    def residuals(theta: np.ndarray) -> np.ndarray:
        return _log_model(theta, inv_t, inv_t_ref, model) - ln_rho

    best = None
    for ea_factor, q_factor in itertools.product((0.3, 1.0, 3.0), (0.1, 1.0)):
        x0 = [ln_q0 + np.log(q_factor), ln_p0, float(np.clip(ln_ea0 + np.log(ea_factor), lower[2] + 1e-9,
                                                               upper[2] - 1e-9))]
        sol = least_squares(residuals, x0, method="trf", x_scale="jac", loss=loss, f_scale=0.05,
                            bounds=(lower, upper))
        if best is None or sol.cost < best.cost:
            best = sol
    assert best is not None
    theta, r, jac = best.x, best.fun, best.jac
    rss = float(r @ r)
    dof = max(n - 3, 1)
    cov = np.linalg.pinv(jac.T @ jac) * rss / dof
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    q, p_ref, ea = np.exp(theta)
    prefactor = p_ref * np.exp(ea * inv_t_ref)
    grad = np.array([0.0, 1.0, ea * inv_t_ref])  # d ln(prefactor) / d theta
    se_ln_pre = float(np.sqrt(max(grad @ cov @ grad, 0.0)))
    names = PARAM_NAMES[model]
    params = {names[0]: float(q), names[1]: float(prefactor), names[2]: float(ea)}
    stderr = {names[0]: float(q * se[0]), names[1]: float(prefactor * se_ln_pre), names[2]: float(ea * se[2])}
    bic = n * np.log(rss / n) + 3 * np.log(n) if rss > 0 else float("-inf")
    # Pure activated law (Q = 0): a straight line in ln rho against 1/T, two parameters.
    slope, intercept = np.polyfit(inv_t, ln_rho, 1)
    rss0 = float(np.sum((slope * inv_t + intercept - ln_rho) ** 2))
    bic0 = n * np.log(rss0 / n) + 2 * np.log(n) if rss0 > 0 else float("-inf")
    coldest = float(inv_t.max())
    activated_cold = p_ref * np.exp(-ea * (coldest - inv_t_ref))
    d = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
    return FitResult(
        model=model, params=params, stderr=stderr, bic=float(bic),
        rms_log_residual=float(np.sqrt(rss / n)),
        saturation_resolved=bool(q >= 0.1 * (q + activated_cold)),
        delta_bic_arrhenius=float(bic0 - bic), correlation=cov / np.outer(d, d), n_points=int(n),
    )


def fit_rho(
    temperature_K: np.ndarray, rho: np.ndarray, *, model: str = "auto", loss: str = "linear"
) -> FitResult:
    """Fit Eq. 1 (``model="insulating"``), Eq. 2 (``"superconducting"``) or the better of the two.

    Parameters
    ----------
    temperature_K : array of float
        Temperatures in kelvin (> 0), at least 5 distinct.
    rho : array of float
        Sheet resistance (ohm per square) or resistance (ohm), > 0, same length.
    model : {"insulating", "superconducting", "auto"}
        ``"auto"`` fits both and keeps the lower BIC.
    loss : {"linear", "soft_l1"}
        ``soft_l1`` (scale 0.05 in ln rho) down-weights outliers.

    Returns
    -------
    FitResult

    Raises
    ------
    InputError
        Non-positive or non-finite values, mismatched lengths, too few temperatures, or an
        unknown model or loss.
    """
    t = np.asarray(temperature_K, dtype=np.float64).ravel()
    r = np.asarray(rho, dtype=np.float64).ravel()
    if t.shape != r.shape:
        msg = f"temperature_K and rho have different lengths ({t.size} and {r.size})"
        raise InputError(msg)
    if not (np.isfinite(t).all() and np.isfinite(r).all() and (t > 0).all() and (r > 0).all()):
        msg = "temperatures and resistances must be finite and > 0"
        raise InputError(msg)
    if np.unique(t).size < 5:
        msg = f"at least 5 distinct temperatures are needed for a 3-parameter fit, got {np.unique(t).size}"
        raise InputError(msg)
    if model not in ("insulating", "superconducting", "auto"):
        msg = f"model must be 'insulating', 'superconducting' or 'auto', got {model!r}"
        raise InputError(msg)
    if loss not in ("linear", "soft_l1"):
        msg = f"loss must be 'linear' or 'soft_l1', got {loss!r}"
        raise InputError(msg)
    if model != "auto":
        return _fit_one(t, r, model, loss)
    fits = [_fit_one(t, r, m, loss) for m in ("insulating", "superconducting")]
    return min(fits, key=lambda f: f.bic)


#: Column names ``morpho fit`` reads (``morpho transport`` writes the same).
TEMPERATURE_COLUMN = "temperature_K"
FIELD_COLUMN = "field_T"
RHO_COLUMNS = ("sheet_resistance_ohm_per_sq", "resistance_ohm")


def _as_dict(fit: FitResult) -> dict:
    return {
        "model": fit.model, "params": fit.params, "stderr": fit.stderr, "bic": fit.bic,
        "rms_log_residual": fit.rms_log_residual, "saturation_resolved": fit.saturation_resolved,
        "delta_bic_arrhenius": fit.delta_bic_arrhenius, "n_points": fit.n_points,
        "correlation_ln_q_ln_pref_ln_ea": np.round(fit.correlation, 6).tolist(),
    }


def power_law(field_T: np.ndarray, values: np.ndarray) -> dict[str, float] | None:
    """Fit ``values = A (H / 1 T)^n`` over H > 0 in log-log space; None with fewer than 3 fields.

    Returns ``{"exponent": n, "exponent_stderr": ..., "amplitude": A, "n_fields": ...}`` (the
    paper's rho_QF^-1 ~ H^-0.45 and sigma_QF ~ H^-4.7 are such fits).
    """
    h = np.asarray(field_T, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    use = (h > 0) & (v > 0) & np.isfinite(v)
    if use.sum() < 3:
        return None
    x, y = np.log(h[use]), np.log(v[use])
    if use.sum() > 3:
        coef, cov = np.polyfit(x, y, 1, cov=True)
        stderr = float(np.sqrt(cov[0, 0]))
    else:  # an exact line through three points has no residual to estimate an error from
        coef, stderr = np.polyfit(x, y, 1), None
    return {"exponent": float(coef[0]), "exponent_stderr": stderr, "amplitude": float(np.exp(coef[1])),
            "n_fields": int(use.sum())}


def fit_table(table, *, model: str = "auto", loss: str = "linear") -> tuple[dict, list[tuple[float | None, FitResult]]]:
    """Fit a rho(T) table (a pandas DataFrame), per field if it has a ``field_T`` column.

    The table needs ``temperature_K`` and one of ``sheet_resistance_ohm_per_sq`` or
    ``resistance_ohm``.  Returns the content of ``fit.json`` and the fits with their fields (None
    without a field column).  One field: ``{"model", "params", "stderr", "bic", ...}``; several:
    ``{"quantity", "fields": [{"field_T", "model", ...}, ...], "power_laws": {...}}`` with the
    power laws of the quantum-fluctuation term and of E_a against field for each equation used.
    """
    columns = set(table.columns)
    if TEMPERATURE_COLUMN not in columns:
        msg = f"the table has no '{TEMPERATURE_COLUMN}' column (columns: {', '.join(map(str, table.columns))})"
        raise InputError(msg)
    quantity = next((c for c in RHO_COLUMNS if c in columns), None)
    if quantity is None:
        msg = f"the table needs a '{RHO_COLUMNS[0]}' or '{RHO_COLUMNS[1]}' column"
        raise InputError(msg)
    groups: list[tuple[float | None, object]]
    if FIELD_COLUMN in columns:
        groups = [(float(h), part) for h, part in table.groupby(FIELD_COLUMN, sort=True)]
    else:
        groups = [(None, table)]
    fits = []
    for h, part in groups:
        try:
            fits.append((h, fit_rho(part[TEMPERATURE_COLUMN].to_numpy(), part[quantity].to_numpy(),
                                    model=model, loss=loss)))
        except InputError as exc:
            where = f" at field {h:g} T" if h is not None else ""
            msg = f"{exc}{where}"
            raise InputError(msg) from None
    if len(fits) == 1:
        out = {"quantity": quantity, **_as_dict(fits[0][1])}
        if fits[0][0] is not None:
            out["field_T"] = fits[0][0]
        return out, fits
    power_laws: dict[str, dict] = {}
    for eq in ("insulating", "superconducting"):
        chosen = [(h, f) for h, f in fits if f.model == eq]
        q_name = PARAM_NAMES[eq][0]
        for name in (q_name, "activation_energy_K"):
            law = power_law(np.array([h for h, _ in chosen]), np.array([f.params[name] for _, f in chosen]))
            if law is not None:
                power_laws[f"{eq}.{name}"] = law
    return {"quantity": quantity, "fields": [{"field_T": h, **_as_dict(f)} for h, f in fits],
            "power_laws": power_laws}, fits


def fit_series(table, fits: list[tuple[float | None, FitResult]], quantity: str, *,
               field_unit: str = "T") -> list[tuple[str, np.ndarray, np.ndarray, FitResult]]:
    """(label, temperature_K, rho, fit) per field of :func:`fit_table`'s fits, for
    :func:`morpho.plots.rho_fit_figure`; fields labelled in tesla or (``field_unit="Oe"``) oersted."""
    series = []
    for h, fit in fits:
        part = table if h is None else table[table[FIELD_COLUMN] == h]
        label = "" if h is None else (f"{h * 1e4:g} Oe" if field_unit == "Oe" else f"{h:g} T")
        series.append((label, part[TEMPERATURE_COLUMN].to_numpy(), part[quantity].to_numpy(), fit))
    return series
