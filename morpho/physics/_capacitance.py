"""Capacitance models, charging energies, the Maxwell capacitance matrix and pair activation energies.

PHYSICS.md sections 2.2-2.4: junction capacitances ``C_ij`` of every model, grain
self-capacitances ``C_0,i``, ``E_C = q^2/2C``, ``C_Sigma,i``, and the pair (dipole) activation
energies ``E_a,ij = U_ij/2`` from the sparse Maxwell matrix (LU solves or Takahashi selected
inversion).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse, special
from scipy.sparse import linalg as sparse_linalg

from ..errors import ConfigError
from ..units import E_CHARGE_C, EPSILON_0_F_PER_M, K_B_J_PER_K
from ._config import (
    _CAPACITANCE_MODELS,
    ArrayLike,
    CapacitanceModel,
    ChargeUnit,
    FloatArray,
    PairEnergyMethod,
    PhysicsConfig,
    _as_float,
)

#: Bytes of dense right-hand sides solved at once in :func:`pair_activation_energy_K`.
_BLOCK_BYTES: int = 64 * 2**20


# --------------------------------------------------------------------------------------------
# capacitances (PHYSICS.md 2.2, 2.3)
# --------------------------------------------------------------------------------------------


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
