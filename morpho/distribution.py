"""Grain-size distributions: log-binned histograms and log-normal mixture modes.

A film of islands usually holds more than one population of grains (the seed paper's Fig. 2B shows
"two broad peaks at ~0.03 µm and ~0.5 µm").  :func:`size_distribution` takes the equivalent
diameters of the grains and returns a :class:`SizeDistribution` with

* the number-weighted histogram on logarithmic bins (each grain counts once) and the area-weighted
  histogram on the same bins (each grain weighted by its area, ∝ D²);
* a Gaussian mixture in x = ln(D / 1 µm), i.e. a mixture of log-normal modes in D, with the number
  of modes K chosen by the Bayesian information criterion (BIC);
* for each mode its number fraction, median, geometric width, mean, linear-D mode, and, by the
  Hatch–Choate relations, its area fraction and area-weighted median;
* the overall geometric, number and area-weighted mean diameters and the median.

Input units: diameters in metres.  Output units: metres (names ending in ``_m``); ``sigma_ln`` is
the standard deviation of ln D (dimensionless); fractions are dimensionless.

See PHYSICS.md section 6.2 for the formulas.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np

from ._config_keys import reject_unknown_keys
from .errors import ConfigError, InputError

__all__ = [
    "AVERAGE_SIZE_DEFINITION",
    "INTERIOR_BASIS",
    "DistributionConfig",
    "Mode",
    "SizeDistribution",
    "lognormal_modes",
    "size_distribution",
]

#: Reference length of the log variable x = ln(D / 1 µm), in metres.
_X_REFERENCE_M: float = 1e-6

#: Maximum number of EM iterations per GaussianMixture start (sklearn's default is 100; 1-D fits
#: of a few thousand points converge in far fewer, but broad overlapping modes can be slow).
_MAX_ITER: int = 1000

#: What the diameters handed to :func:`size_distribution` are expected to be (the pipeline passes
#: the grains that do not touch the image border).  Stored in :attr:`SizeDistribution.basis`.
INTERIOR_BASIS: str = (
    "interior grains (not touching the image border); border grains are cut and bias against "
    "large grains"
)

#: Which mean morpho calls "the average size", and why (PHYSICS.md section 6.2, "Paper check").
AVERAGE_SIZE_DEFINITION: str = (
    "geometric mean of the number-weighted distribution, exp(<ln D>); this is the mean that a "
    "log-binned histogram centres on and the one consistent with the seed paper's "
    "'average size ~0.1 um' for modes at 0.03 um and 0.5 um"
)


# --------------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistributionConfig:
    """Settings of :func:`size_distribution`.

    Parameters
    ----------
    max_modes : int, default 4
        Largest number of log-normal modes K tried (K = 1 ... `max_modes`), >= 1.
    n_init : int, default 5
        Number of EM restarts of each ``sklearn.mixture.GaussianMixture`` fit (the best
        likelihood is kept), >= 1.
    bins_per_decade : int, default 10
        Histogram bins per factor of 10 in diameter, >= 1.  Bin edges are aligned to the decades
        (1, 10, 100 nm ... are always edges).
    random_state : int, default 0
        Seed of the mixture initialisation; a fixed seed makes the result deterministic.
        0 <= `random_state` < 2**32.
    min_grains_for_fit : int, default 10
        Minimum number of grains per mixture component.  K is tried only while
        ``K * min_grains_for_fit <= n_grains`` (and K <= the number of distinct diameters), so a
        K-mode fit always has at least this many grains per mode on average.  With fewer than
        `min_grains_for_fit` grains no mixture is fitted: one log-normal mode is taken from the
        sample mean and standard deviation of ln D (its maximum-likelihood estimate) and the BIC
        is NaN.  >= 2.

    Raises
    ------
    ConfigError
        If a value has the wrong type or is out of range; the message names the field.

    Examples
    --------
    >>> cfg = DistributionConfig(max_modes=3)
    >>> DistributionConfig.from_dict(cfg.to_dict()) == cfg
    True
    """

    max_modes: int = 4
    n_init: int = 5
    bins_per_decade: int = 10
    random_state: int = 0
    min_grains_for_fit: int = 10

    def __post_init__(self) -> None:
        minimum = {
            "max_modes": 1,
            "n_init": 1,
            "bins_per_decade": 1,
            "random_state": 0,
            "min_grains_for_fit": 2,
        }
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                msg = (
                    f"DistributionConfig.{f.name} must be an integer, got {value!r} "
                    f"({type(value).__name__}); write e.g. {f.name} = {f.default}"
                )
                raise ConfigError(msg)
            if value < minimum[f.name]:
                msg = (
                    f"DistributionConfig.{f.name} must be >= {minimum[f.name]}, got {value}; "
                    f"the default is {f.default}"
                )
                raise ConfigError(msg)
            object.__setattr__(self, f.name, int(value))
        if self.random_state >= 2**32:
            msg = (
                f"DistributionConfig.random_state must be < 2**32, got {self.random_state}; "
                "use a smaller seed"
            )
            raise ConfigError(msg)

    def to_dict(self) -> dict[str, int]:
        """Return the settings as a plain, JSON-serialisable dict (field name -> value)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DistributionConfig:
        """Build a config from a dict such as the one :meth:`to_dict` returns.

        Missing keys take their defaults.

        Raises
        ------
        ConfigError
            If `data` is not a mapping, has a key that is not a field, or a value of the wrong
            type or range (the message names the key).
        """
        reject_unknown_keys("distribution", data, cls)
        return cls(**dict(data))


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mode:
    """One log-normal mode (mixture component) of a grain-size distribution.

    With x = ln(D / 1 µm) normally distributed, x ~ N(mu, s²), within the mode (number
    weighting).  Output units: metres for every ``*_m`` field.

    Attributes
    ----------
    diameter_m : float
        Median diameter exp(mu) (m).  A log-binned histogram peaks here.
    sigma_ln : float
        Standard deviation s of ln D (dimensionless); the geometric standard deviation is
        exp(s) (:attr:`geometric_std`).
    fraction : float
        Number fraction (mixture weight) w of the grains in this mode.
    mean_diameter_m : float
        Arithmetic mean diameter exp(mu + s²/2) (m).
    mode_diameter_m : float
        Maximum of the density in linear D, exp(mu - s²) (m).
    area_fraction : float
        Fraction of the total grain area in this mode (Hatch–Choate):
        w exp(2mu + 2s²) / Σ_c w_c exp(2mu_c + 2s_c²).
    area_median_diameter_m : float
        Median of the area-weighted distribution of this mode, exp(mu + 2s²) (m).
    """

    diameter_m: float
    sigma_ln: float
    fraction: float
    mean_diameter_m: float
    mode_diameter_m: float
    area_fraction: float
    area_median_diameter_m: float

    @property
    def geometric_std(self) -> float:
        """Geometric standard deviation exp(sigma_ln) (dimensionless, >= 1)."""
        return math.exp(self.sigma_ln)

    def to_dict(self) -> dict[str, float]:
        """Return the mode as a JSON-serialisable dict (includes ``geometric_std``)."""
        out = {f.name: float(getattr(self, f.name)) for f in fields(self)}
        out["geometric_std"] = self.geometric_std
        return out


@dataclass(frozen=True, kw_only=True, eq=False)
class SizeDistribution:
    """Histogram and log-normal mixture of a set of grain diameters.

    Made by :func:`size_distribution`.  Arrays are read-only.  Input units: metres.  Output
    units: metres for every ``*_m`` name.

    Attributes
    ----------
    n_grains : int
        Number of diameters analysed.
    modes : tuple of Mode
        The fitted log-normal modes, sorted by increasing median diameter.  Empty for 0 grains.
    n_modes : int
        ``len(modes)``.
    bic : float
        BIC = k ln n - 2 ln L of the chosen mixture, with k = 3K - 1 free parameters.  NaN when no
        mixture was fitted (fewer than ``min_grains_for_fit`` grains, or all diameters equal).
    bic_by_k : dict of int to float
        BIC for every K tried (empty when no mixture was fitted).
    delta_bic : float
        BIC of the runner-up K minus the chosen BIC (>= 0; > 10 is "very strong" evidence).  NaN
        if fewer than two K were tried.
    bin_edges_m : ndarray, shape (n_bins + 1,)
        Logarithmic bin edges (m), ``bins_per_decade`` per decade, aligned to decades.  Empty for
        0 grains.
    counts : ndarray of int64, shape (n_bins,)
        Number of grains per bin (number weighting).  Empty for 0 grains.
    area_weighted : ndarray of float, shape (n_bins,)
        Fraction of the total grain area (Σ D²) in each bin; sums to 1.  Empty for 0 grains.
    geometric_mean_diameter_m : float
        exp(<ln D>) over the grains (m): morpho's "average size".  NaN for 0 grains.
    number_mean_diameter_m : float
        <D> (m).  NaN for 0 grains.
    area_weighted_mean_diameter_m : float
        Σ D³ / Σ D² (m), the mean diameter seen by a randomly chosen point of metal.  NaN for 0
        grains.
    median_diameter_m : float
        Median diameter (m).  NaN for 0 grains.
    weighting : str
        ``"number"``: the mixture is fitted to the number distribution (each grain counts once).
    basis : str
        Which grains were analysed (by default :data:`INTERIOR_BASIS`).
    """

    n_grains: int
    modes: tuple[Mode, ...]
    n_modes: int
    bic: float
    bic_by_k: dict[int, float]
    delta_bic: float
    bin_edges_m: np.ndarray
    counts: np.ndarray
    area_weighted: np.ndarray
    geometric_mean_diameter_m: float
    number_mean_diameter_m: float
    area_weighted_mean_diameter_m: float
    median_diameter_m: float
    weighting: str = "number"
    basis: str = field(default=INTERIOR_BASIS)

    def mixture_density(
        self,
        diameters_m: np.ndarray,
        *,
        weighting: Literal["number", "area"] = "number",
        component: int | None = None,
    ) -> np.ndarray:
        """Evaluate the fitted mixture as a density per unit ln D.

        Parameters
        ----------
        diameters_m : array_like
            Diameters (m) at which to evaluate, > 0.
        weighting : {"number", "area"}, default "number"
            ``"number"``: Σ_c w_c N(x; mu_c, s_c²).  ``"area"``: the Hatch–Choate area-weighted
            mixture Σ_c w_c^A N(x; mu_c + 2s_c², s_c²).
        component : int, optional
            Index into :attr:`modes` to evaluate that one (weighted) term only; ``None`` sums all.

        Returns
        -------
        ndarray
            p(x) with x = ln(D / 1 µm), same shape as `diameters_m` (1/ln-unit).  The number
            expected in a log bin of width Δx is ``n_grains * p * Δx``.  Modes with
            ``sigma_ln == 0`` (all diameters equal) are delta functions and contribute 0 here.

        Raises
        ------
        InputError
            If `weighting` or `component` is invalid.
        """
        if weighting not in ("number", "area"):
            msg = f"weighting must be 'number' or 'area', got {weighting!r}"
            raise InputError(msg)
        d = np.asarray(diameters_m, dtype=float)
        if component is None:
            selected = self.modes
        elif isinstance(component, (int, np.integer)) and 0 <= component < self.n_modes:
            selected = (self.modes[int(component)],)
        else:
            msg = f"component must be None or an index in [0, {self.n_modes}), got {component!r}"
            raise InputError(msg)
        out = np.zeros(d.shape, dtype=float)
        with np.errstate(under="ignore", divide="ignore", invalid="ignore"):
            x = np.log(d / _X_REFERENCE_M)
            for mode in selected:
                s = mode.sigma_ln
                if s <= 0:
                    continue
                if weighting == "number":
                    w, mu = mode.fraction, math.log(mode.diameter_m / _X_REFERENCE_M)
                else:
                    w = mode.area_fraction
                    mu = math.log(mode.area_median_diameter_m / _X_REFERENCE_M)
                z = (x - mu) / s
                out += w * np.exp(-0.5 * z * z) / (s * math.sqrt(2.0 * math.pi))
        return np.where(np.isfinite(out), out, 0.0)

    def to_summary(self) -> dict[str, Any]:
        """Return the numbers a user quotes, as a JSON-serialisable dict.

        NaN becomes ``None`` so that the result is strict JSON (``json.dumps(...,
        allow_nan=False)`` works).  Keys: ``weighting, basis, n_grains, n_modes, modes`` (one
        dict per mode, see :meth:`Mode.to_dict`), ``bic, delta_bic, bic_by_k`` (keys are K as
        strings), ``area_weighted`` (per-mode area fractions and area medians, and the
        area-weighted mean), the four overall diameters, and ``average_size_m`` with
        ``average_size_definition`` saying which mean it is.
        """
        return {
            "weighting": self.weighting,
            "basis": self.basis,
            "n_grains": int(self.n_grains),
            "n_modes": int(self.n_modes),
            "modes": [{k: _json_float(v) for k, v in m.to_dict().items()} for m in self.modes],
            "bic": _json_float(self.bic),
            "delta_bic": _json_float(self.delta_bic),
            "bic_by_k": {str(k): _json_float(v) for k, v in sorted(self.bic_by_k.items())},
            "area_weighted": {
                "mode_fractions": [_json_float(m.area_fraction) for m in self.modes],
                "mode_median_diameters_m": [
                    _json_float(m.area_median_diameter_m) for m in self.modes
                ],
                "mean_diameter_m": _json_float(self.area_weighted_mean_diameter_m),
                "note": "fraction of the total grain area (each grain weighted by D^2); "
                "per-mode values from the Hatch-Choate relations",
            },
            "geometric_mean_diameter_m": _json_float(self.geometric_mean_diameter_m),
            "number_mean_diameter_m": _json_float(self.number_mean_diameter_m),
            "area_weighted_mean_diameter_m": _json_float(self.area_weighted_mean_diameter_m),
            "median_diameter_m": _json_float(self.median_diameter_m),
            "average_size_m": _json_float(self.geometric_mean_diameter_m),
            "average_size_definition": AVERAGE_SIZE_DEFINITION,
        }


def _json_float(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


# --------------------------------------------------------------------------------------------
# Hatch–Choate
# --------------------------------------------------------------------------------------------


def lognormal_modes(
    fractions: np.ndarray,
    median_diameters_m: np.ndarray,
    sigmas_ln: np.ndarray,
) -> tuple[Mode, ...]:
    """Build :class:`Mode` objects, with their Hatch–Choate area quantities, from parameters.

    Parameters
    ----------
    fractions : array_like, shape (K,)
        Number fractions w_c (>= 0, not all 0); normalised to sum 1.
    median_diameters_m : array_like, shape (K,)
        Median diameters exp(mu_c) (m), > 0.
    sigmas_ln : array_like, shape (K,)
        Standard deviations s_c of ln D, >= 0.

    Returns
    -------
    tuple of Mode
        Sorted by increasing median diameter.

    Raises
    ------
    InputError
        If the arrays differ in length or hold invalid values.

    Notes
    -----
    Hatch & Choate (1929): if the number density of x = ln D is N(mu, s²), the D^k-weighted
    density is N(mu + k s², s²).  For area (k = 2) the component weights become
    w_c^A = w_c exp(2mu_c + 2s_c²) / Σ_c' w_c' exp(2mu_c' + 2s_c'²), and the area-weighted
    medians exp(mu_c + 2s_c²).  Mean: exp(mu + s²/2); linear-D mode: exp(mu - s²).

    Input units: m.  Output units: m.

    References
    ----------
    T. Hatch and S. P. Choate, J. Franklin Inst. 207, 369 (1929).

    Examples
    --------
    >>> small, large = lognormal_modes([0.6, 0.4], [0.03e-6, 0.5e-6], [0.35, 0.45])
    >>> round(small.area_fraction, 5)
    0.00458
    """
    w = np.atleast_1d(np.asarray(fractions, dtype=float))
    med = np.atleast_1d(np.asarray(median_diameters_m, dtype=float))
    s = np.atleast_1d(np.asarray(sigmas_ln, dtype=float))
    if not (w.ndim == med.ndim == s.ndim == 1 and w.size == med.size == s.size):
        msg = (
            f"fractions, median_diameters_m and sigmas_ln must be 1-D of equal length, got "
            f"shapes {w.shape}, {med.shape}, {s.shape}"
        )
        raise InputError(msg)
    if not (np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0):
        msg = f"fractions must be finite, >= 0 and not all 0, got {w.tolist()}"
        raise InputError(msg)
    if not (np.all(np.isfinite(med)) and np.all(med > 0)):
        msg = f"median_diameters_m must be finite and > 0 (metres), got {med.tolist()}"
        raise InputError(msg)
    if not (np.all(np.isfinite(s)) and np.all(s >= 0)):
        msg = f"sigmas_ln must be finite and >= 0, got {s.tolist()}"
        raise InputError(msg)
    w = w / w.sum()
    mu = np.log(med / _X_REFERENCE_M)
    # Area weights in log space, shifted by the maximum, so that nothing overflows.
    with np.errstate(under="ignore", divide="ignore"):
        log_a = np.where(w > 0, np.log(np.where(w > 0, w, 1.0)) + 2 * mu + 2 * s**2, -np.inf)
        a = np.exp(log_a - np.max(log_a))
    a /= a.sum()
    order = np.argsort(mu, kind="stable")
    return tuple(
        Mode(
            diameter_m=float(med[c]),
            sigma_ln=float(s[c]),
            fraction=float(w[c]),
            mean_diameter_m=float(_X_REFERENCE_M * math.exp(mu[c] + 0.5 * s[c] ** 2)),
            mode_diameter_m=float(_X_REFERENCE_M * math.exp(mu[c] - s[c] ** 2)),
            area_fraction=float(a[c]),
            area_median_diameter_m=float(_X_REFERENCE_M * math.exp(mu[c] + 2 * s[c] ** 2)),
        )
        for c in order
    )


# --------------------------------------------------------------------------------------------
# the stage
# --------------------------------------------------------------------------------------------


def _validate_diameters(diameters_m: np.ndarray) -> np.ndarray:
    """Return the diameters as a 1-D float64 array; raise InputError if they cannot be used."""
    try:
        d = np.asarray(diameters_m, dtype=float)
    except (TypeError, ValueError) as exc:
        msg = f"diameters_m must be an array of numbers (metres), got {type(diameters_m).__name__}"
        raise InputError(msg) from exc
    if d.ndim != 1:
        msg = f"diameters_m must be 1-D (one diameter per grain), got shape {d.shape}"
        raise InputError(msg)
    bad = ~np.isfinite(d) | (d <= 0)
    if np.any(bad):
        first = int(np.flatnonzero(bad)[0])
        msg = (
            f"diameters_m must be finite and > 0 (metres); {int(bad.sum())} of {d.size} are not "
            f"(first at index {first}: {d[first]!r}); drop empty or invalid grains first"
        )
        raise InputError(msg)
    return d


def _log_bin_edges(d_min_m: float, d_max_m: float, bins_per_decade: int) -> np.ndarray:
    """Decade-aligned log bin edges (m) that cover [d_min_m, d_max_m] with both ends inside."""
    lo = math.floor(math.log10(d_min_m) * bins_per_decade)
    hi = math.ceil(math.log10(d_max_m) * bins_per_decade)
    hi = max(hi, lo + 1)
    # Round-off in log10 can leave an extreme diameter just outside; widen until it is inside.
    while 10.0 ** (lo / bins_per_decade) > d_min_m:
        lo -= 1
    while 10.0 ** (hi / bins_per_decade) < d_max_m:
        hi += 1
    return 10.0 ** (np.arange(lo, hi + 1) / bins_per_decade)


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.setflags(write=False)
    return a


def _fit_mixtures(
    x: np.ndarray, k_max: int, config: DistributionConfig
) -> tuple[dict[int, float], dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """Fit K = 1..k_max Gaussian mixtures to x; return BIC and (w, mu, s) per K."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    n = x.size
    data = x.reshape(-1, 1)
    bic_by_k: dict[int, float] = {}
    params: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for k in range(1, k_max + 1):
        gmm = GaussianMixture(
            n_components=k,
            covariance_type="full",
            n_init=config.n_init,
            max_iter=_MAX_ITER,
            random_state=config.random_state,
        )
        # A start that has not converged after _MAX_ITER iterations is still a valid (if
        # slightly sub-optimal) likelihood maximiser, and BIC selection only needs the best
        # of n_init starts; sklearn's ConvergenceWarning (also raised by its k-means
        # initialisation on tied data) is therefore expected and silenced here on purpose.
        # One thread: a 1-D fit of a few thousand points is far too small to gain from
        # OpenMP/BLAS threads (k-means initialisation), which only add overhead, and badly so
        # when the cores are busy (batch runs).  The limit is restored on exit.
        with (
            warnings.catch_warnings(),
            np.errstate(under="ignore"),
            threadpool_limits(limits=1),
        ):
            warnings.simplefilter("ignore", category=ConvergenceWarning)
            gmm.fit(data)
            log_likelihood = float(gmm.score(data)) * n
        n_parameters = 3 * k - 1  # k means + k variances + (k - 1) free weights (1-D)
        bic_by_k[k] = n_parameters * math.log(n) - 2.0 * log_likelihood
        params[k] = (
            np.asarray(gmm.weights_, dtype=float).ravel(),
            np.asarray(gmm.means_, dtype=float).ravel(),
            np.sqrt(np.asarray(gmm.covariances_, dtype=float).ravel()),
        )
    return bic_by_k, params


def size_distribution(
    diameters_m: np.ndarray,
    *,
    config: DistributionConfig | None = None,
    basis: str = INTERIOR_BASIS,
) -> SizeDistribution:
    """Histogram the grain diameters and fit log-normal modes chosen by BIC.

    Parameters
    ----------
    diameters_m : array_like, shape (n,)
        Equivalent-circle diameters D = 2 sqrt(A/π) of the grains (m), finite and > 0.  Pass the
        grains that do not touch the image border (see :data:`INTERIOR_BASIS`).
    config : DistributionConfig, optional
        Settings; ``None`` means ``DistributionConfig()``.
    basis : str, optional
        Text stored in :attr:`SizeDistribution.basis` saying which grains were passed.

    Returns
    -------
    SizeDistribution

    Raises
    ------
    InputError
        If `diameters_m` is not 1-D or holds a non-finite or non-positive value.
    ConfigError
        If `config` is not a :class:`DistributionConfig`.

    Notes
    -----
    The mixture is fitted with ``sklearn.mixture.GaussianMixture(K, n_init, random_state)`` to
    x = ln(D / 1 µm), unweighted (each grain counts once; Miles–Lantuéjoul edge weights are not
    applied), for K = 1 ... min(max_modes, n // min_grains_for_fit, number of distinct
    diameters).  BIC = k ln n - 2 ln L with k = 3K - 1 (Schwarz 1978; the same count as
    sklearn's ``bic`` for 1-D data); the K with the smallest BIC is chosen.  The result is
    deterministic for a given ``random_state``.

    Degenerate inputs (all defined, none raises):

    * 0 grains: no modes, empty histogram arrays, every diameter and BIC NaN.
    * 1 grain, or all diameters equal: one mode at that diameter with ``sigma_ln = 0``,
      fraction 1 and area fraction 1; BIC NaN (nothing to select).
    * fewer than ``min_grains_for_fit`` grains: one mode from the mean and (population)
      standard deviation of ln D; BIC NaN.

    A size cut (e.g. the ~9 px minimum grain area) that falls inside a mode truncates it, and
    BIC may then split the truncated mode into two; keep the cut well below the smallest mode.

    Input units: m.  Output units: m.

    References
    ----------
    G. Schwarz, Ann. Stat. 6, 461 (1978).  T. Hatch and S. P. Choate, J. Franklin Inst. 207,
    369 (1929).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> d = np.exp(np.r_[rng.normal(np.log(30e-9), 0.3, 600), rng.normal(np.log(500e-9), 0.4, 400)])
    >>> dist = size_distribution(d)
    >>> dist.n_modes
    2
    >>> [f"{m.diameter_m * 1e9:.0f} nm ({m.fraction:.0%})" for m in dist.modes]
    ['30 nm (60%)', '483 nm (40%)']
    """
    if config is None:
        config = DistributionConfig()
    if not isinstance(config, DistributionConfig):
        msg = f"config must be a DistributionConfig, got {type(config).__name__}"
        raise ConfigError(msg)
    d = _validate_diameters(diameters_m)
    n = int(d.size)

    if n == 0:
        empty = _readonly(np.empty(0, dtype=float))
        return SizeDistribution(
            n_grains=0,
            modes=(),
            n_modes=0,
            bic=math.nan,
            bic_by_k={},
            delta_bic=math.nan,
            bin_edges_m=empty,
            counts=_readonly(np.empty(0, dtype=np.int64)),
            area_weighted=empty,
            geometric_mean_diameter_m=math.nan,
            number_mean_diameter_m=math.nan,
            area_weighted_mean_diameter_m=math.nan,
            median_diameter_m=math.nan,
            basis=basis,
        )

    x = np.log(d / _X_REFERENCE_M)
    edges = _log_bin_edges(float(d.min()), float(d.max()), config.bins_per_decade)
    counts, _ = np.histogram(d, bins=edges)
    d2 = d**2
    area_sums, _ = np.histogram(d, bins=edges, weights=d2)
    area_weighted = area_sums / d2.sum()

    n_distinct = int(np.unique(d).size)
    k_max = min(config.max_modes, n // config.min_grains_for_fit, n_distinct)
    bic_by_k: dict[int, float] = {}
    if n_distinct == 1:
        modes = lognormal_modes([1.0], [float(d[0])], [0.0])
        bic = delta_bic = math.nan
    elif k_max < 1:
        # Too few grains for a mixture: the single log-normal's maximum-likelihood estimate.
        modes = lognormal_modes(
            [1.0], [_X_REFERENCE_M * math.exp(float(x.mean()))], [float(x.std())]
        )
        bic = delta_bic = math.nan
    else:
        bic_by_k, params = _fit_mixtures(x, k_max, config)
        ranked = sorted(bic_by_k, key=lambda k: (bic_by_k[k], k))
        best = ranked[0]
        bic = bic_by_k[best]
        delta_bic = bic_by_k[ranked[1]] - bic if len(ranked) > 1 else math.nan
        w, mu, s = params[best]
        modes = lognormal_modes(w, _X_REFERENCE_M * np.exp(mu), s)

    return SizeDistribution(
        n_grains=n,
        modes=modes,
        n_modes=len(modes),
        bic=float(bic),
        bic_by_k=bic_by_k,
        delta_bic=float(delta_bic),
        bin_edges_m=_readonly(edges),
        counts=_readonly(counts.astype(np.int64)),
        area_weighted=_readonly(area_weighted),
        geometric_mean_diameter_m=float(_X_REFERENCE_M * math.exp(float(x.mean()))),
        number_mean_diameter_m=float(d.mean()),
        area_weighted_mean_diameter_m=float((d2 * d).sum() / d2.sum()),
        median_diameter_m=float(np.median(d)),
        basis=basis,
    )
