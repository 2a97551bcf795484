"""Kirchhoff solve of a conductance network between two electrodes (PHYSICS.md 4.1, 4.3).

Nodes are grains, edges are junctions with a conductance in siemens.  The source electrode S is
held at `voltage_V`, the drain D at 0 V; the potentials of the other nodes follow from Kirchhoff's
current law, ``L_FF V_F = -L_FB V_B`` with L the weighted graph Laplacian, and the two-terminal
conductance is the current leaving S divided by the voltage.

Conductances from thermally activated junctions, ``g = g0 exp(-E / k_B T)``, span hundreds of
decades at low temperature and underflow in floating point long before the network stops
conducting.  So the solver takes natural logarithms of the conductances (``ln_conductance``) as
well as plain values, and follows PHYSICS.md 4.1: the bottleneck conductance g* (the largest g
such that the edges with conductance >= g still join S to D; for activated edges g* =
g0 exp(-E*/k_BT) with E* the minimax barrier of 4.3) is found by bisection over connectivity,
every ln g is taken relative to ln g* and clipped to ``[-CLIP_LN, +CLIP_LN]``,
and the result is scaled back.  Clipping changes G by at most ~N_edges e^-18 relative (it only
touches edges 18 e-folds away from the bottleneck, which carry no current that matters, or
shorts that are already shorts).  The answer is returned as ``ln_conductance`` too, so a
conductance of e^-2000 S is still a number.

Only the connected components (of edges with g > 0) that touch both electrodes carry current;
every other node is excluded and counted.  No such component: :class:`NotPercolatingError`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph
from scipy.sparse.linalg import spsolve

from .errors import InputError, NotPercolatingError

__all__ = ["CLIP_LN", "KirchhoffResult", "bottleneck_ln_conductance", "solve_network", "spans"]

#: Half-width of the clipping window around the bottleneck, in e-folds of conductance (W = 18).
CLIP_LN = 18.0


@dataclass(frozen=True)
class KirchhoffResult:
    """Result of :func:`solve_network`.

    Attributes
    ----------
    conductance_S : float
        Two-terminal conductance ``I / V`` (0.0 if it underflows; see `ln_conductance`).
    ln_conductance : float
        Natural log of the conductance in siemens (exact where `conductance_S` underflows).
    resistance_ohm : float
        ``1 / conductance_S`` (inf if the conductance underflows).
    current_A : float
        Current leaving the source at the applied voltage.
    potentials_V : ndarray of float64, shape (n_nodes,)
        Node potentials; NaN for excluded nodes.
    edge_currents_A : ndarray of float64, shape (n_edges,)
        Current from ``first`` to ``second`` of each edge (0 for edges of excluded nodes).
    kirchhoff_residual_A : float
        Largest net current at a free node (Kirchhoff's current law; round-off only).
    n_nodes_spanning : int
        Nodes in the components that touch both electrodes.
    n_nodes_excluded : int
        All other nodes.
    ln_bottleneck : float
        ln g* (S), the bottleneck conductance of PHYSICS.md 4.3 for these edges.
    n_edges_clipped : int
        Edges whose conductance lay more than ``CLIP_LN`` e-folds from g* and were clipped.
    """

    conductance_S: float
    ln_conductance: float
    resistance_ohm: float
    current_A: float
    potentials_V: np.ndarray
    edge_currents_A: np.ndarray
    kirchhoff_residual_A: float
    n_nodes_spanning: int
    n_nodes_excluded: int
    ln_bottleneck: float
    n_edges_clipped: int


def _as_mask(nodes: np.ndarray, n_nodes: int, name: str) -> np.ndarray:
    arr = np.asarray(nodes)
    if arr.dtype == bool:
        if arr.shape != (n_nodes,):
            msg = f"{name} mask has shape {arr.shape}, expected ({n_nodes},)"
            raise InputError(msg)
        return arr.copy()
    idx = arr.astype(np.int64, copy=False).ravel()
    if idx.size and (idx.min() < 0 or idx.max() >= n_nodes):
        msg = f"{name} node indices must lie in [0, {n_nodes - 1}]"
        raise InputError(msg)
    mask = np.zeros(n_nodes, dtype=bool)
    mask[idx] = True
    return mask


def _validated(
    n_nodes: int, first: np.ndarray, second: np.ndarray, conductance_S: np.ndarray | None,
    ln_conductance: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge arrays as int64/float64 with ln g (``-inf`` for g = 0); raises InputError on bad input."""
    a = np.asarray(first, dtype=np.int64).ravel()
    b = np.asarray(second, dtype=np.int64).ravel()
    if a.shape != b.shape:
        msg = f"first and second have different lengths ({a.size} and {b.size})"
        raise InputError(msg)
    if a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n_nodes):
        msg = f"edge endpoints must be node indices in [0, {n_nodes - 1}]"
        raise InputError(msg)
    if (conductance_S is None) == (ln_conductance is None):
        msg = "give exactly one of conductance_S and ln_conductance"
        raise InputError(msg)
    if ln_conductance is not None:
        ln_g = np.asarray(ln_conductance, dtype=np.float64).ravel()
        if np.isnan(ln_g).any() or np.isposinf(ln_g).any():
            msg = "ln_conductance must be finite or -inf (an open edge)"
            raise InputError(msg)
    else:
        g = np.asarray(conductance_S, dtype=np.float64).ravel()
        if not np.isfinite(g).all() or (g < 0).any():
            msg = "conductance_S must be finite and >= 0 siemens"
            raise InputError(msg)
        with np.errstate(divide="ignore"):
            ln_g = np.log(g)
    if ln_g.shape != a.shape:
        msg = f"{ln_g.size} conductances for {a.size} edges"
        raise InputError(msg)
    return a, b, ln_g


def _joined(n_nodes: int, a: np.ndarray, b: np.ndarray, source: np.ndarray, drain: np.ndarray) -> bool:
    """Whether the edges (a, b) connect some source node to some drain node."""
    graph = sp.coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n_nodes, n_nodes))
    _, comp = csgraph.connected_components(graph, directed=False)
    return bool(np.intersect1d(comp[source], comp[drain]).size)


def spans(n_nodes: int, first: np.ndarray, second: np.ndarray, source: np.ndarray, drain: np.ndarray) -> bool:
    """Whether the edges join the `source` electrode to the `drain` (connected components, SciPy).

    The spanning test of PHYSICS.md 4.1: by connectivity, never by a conductance > 0 (round-off
    leaves currents of ~1e-16 in a network that does not span).
    """
    return _joined(int(n_nodes), np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64),
                   _as_mask(source, n_nodes, "source"), _as_mask(drain, n_nodes, "drain"))


def bottleneck_ln_conductance(
    n_nodes: int, first: np.ndarray, second: np.ndarray, ln_conductance: np.ndarray,
    source: np.ndarray, drain: np.ndarray,
) -> float:
    """ln g*: the largest ln g such that the edges with ln g' >= ln g join `source` to `drain`.

    For activated edges ``ln g = ln g0 - E / k_B T`` this is ``ln g0 - E*/k_B T`` with E* the
    minimax barrier of PHYSICS.md 4.3.  Found by bisection over the sorted distinct values, one
    connected-components pass (SciPy) per step: O(E log E).  ``-inf`` if S and D are not joined
    even with every edge of finite ln g.
    """
    a, b, ln_g = (np.asarray(x) for x in (first, second, ln_conductance))
    src, drn = _as_mask(source, n_nodes, "source"), _as_mask(drain, n_nodes, "drain")
    values = np.unique(ln_g[np.isfinite(ln_g)])[::-1]  # descending
    if values.size == 0 or not _joined(n_nodes, a[np.isfinite(ln_g)], b[np.isfinite(ln_g)], src, drn):
        return float("-inf")
    lo, hi = 0, values.size - 1  # the answer index k: joined with edges >= values[k], not with > values[k]
    while lo < hi:
        mid = (lo + hi) // 2
        keep = ln_g >= values[mid]
        if _joined(n_nodes, a[keep], b[keep], src, drn):
            hi = mid
        else:
            lo = mid + 1
    return float(values[lo])


def solve_network(
    n_nodes: int,
    first: np.ndarray,
    second: np.ndarray,
    *,
    source: np.ndarray,
    drain: np.ndarray,
    conductance_S: np.ndarray | None = None,
    ln_conductance: np.ndarray | None = None,
    voltage_V: float = 1.0,
) -> KirchhoffResult:
    """Two-terminal conductance of a resistor network (see the module docstring).

    Parameters
    ----------
    n_nodes : int
        Number of nodes (grains); node ids are 0 .. n_nodes - 1.
    first, second : array of int, shape (n_edges,)
        End nodes of each edge (junction).
    source, drain : array of bool (n_nodes,) or of node indices
        The electrodes; disjoint and not empty.
    conductance_S : array of float, shape (n_edges,), optional
        Edge conductances in siemens (>= 0; 0 is an open edge).
    ln_conductance : array of float, shape (n_edges,), optional
        Natural logs of the conductances instead (-inf is an open edge); use it when the
        conductances would underflow.  Exactly one of the two must be given.
    voltage_V : float
        Source potential (the drain is at 0 V).  Default 1 V.

    Returns
    -------
    KirchhoffResult

    Raises
    ------
    InputError
        Bad shapes, indices, conductances or electrodes.
    NotPercolatingError
        No path of conducting edges joins the electrodes.
    """
    if not (isinstance(n_nodes, (int, np.integer)) and n_nodes >= 2):
        msg = f"n_nodes must be an integer >= 2, got {n_nodes!r}"
        raise InputError(msg)
    if not (np.isfinite(voltage_V) and voltage_V != 0):
        msg = f"voltage_V must be finite and non-zero, got {voltage_V!r}"
        raise InputError(msg)
    a, b, ln_g = _validated(int(n_nodes), first, second, conductance_S, ln_conductance)
    src = _as_mask(source, n_nodes, "source")
    drn = _as_mask(drain, n_nodes, "drain")
    if not src.any() or not drn.any():
        msg = "both electrodes need at least one node"
        raise InputError(msg)
    if (src & drn).any():
        msg = f"{int((src & drn).sum())} node(s) are in both electrodes; the electrodes must be disjoint"
        raise InputError(msg)

    conducting = np.isfinite(ln_g) & (a != b)
    ln_star = bottleneck_ln_conductance(n_nodes, a[conducting], b[conducting], ln_g[conducting], src, drn)
    if not np.isfinite(ln_star):
        msg = "no path of conducting junctions joins the two electrodes (the network does not percolate)"
        raise NotPercolatingError(msg)

    # Nodes of the components that touch both electrodes (electrode nodes are joined through
    # their bus bar: a component touching S is held at V wherever it touches it).
    ca, cb = a[conducting], b[conducting]
    graph = sp.coo_matrix((np.ones(ca.size, dtype=np.int8), (ca, cb)), shape=(n_nodes, n_nodes))
    _, comp = csgraph.connected_components(graph, directed=False)
    both = np.intersect1d(np.unique(comp[src]), np.unique(comp[drn]))
    keep = np.isin(comp, both)

    rel = np.clip(ln_g[conducting] - ln_star, -CLIP_LN, CLIP_LN)
    n_clipped = int(np.count_nonzero(np.abs(ln_g[conducting] - ln_star) > CLIP_LN))
    in_net = keep[ca]  # both ends are in the same component, so one end decides
    ea, eb, g = ca[in_net], cb[in_net], np.exp(rel[in_net])

    # Reindex the kept nodes and build the Laplacian.
    index = np.full(n_nodes, -1, dtype=np.int64)
    kept_ids = np.flatnonzero(keep)
    index[kept_ids] = np.arange(kept_ids.size)
    n = kept_ids.size
    ia, ib = index[ea], index[eb]
    lap = sp.coo_matrix(
        (np.concatenate([g, g, -g, -g]), (np.concatenate([ia, ib, ia, ib]), np.concatenate([ia, ib, ib, ia]))),
        shape=(n, n),
    ).tocsr()
    fixed = np.zeros(n, dtype=np.float64)
    is_src, is_drn = src[kept_ids], drn[kept_ids]
    fixed[is_src] = voltage_V
    free = ~(is_src | is_drn)
    volts = fixed.copy()
    if free.any():
        l_ff = lap[free][:, free].tocsc()
        rhs = -(lap[free][:, ~free] @ fixed[~free])
        volts[free] = np.atleast_1d(spsolve(l_ff, rhs))
    net = lap @ volts  # net current out of each node (relative units)
    current_rel = float(net[is_src].sum())
    residual_rel = float(np.abs(net[free]).max()) if free.any() else 0.0

    scale = float(np.exp(ln_star)) if ln_star > -700 else 0.0  # conductance unit of the relative solve
    g_rel = current_rel / voltage_V
    ln_conductance_total = float(np.log(g_rel)) + ln_star if g_rel > 0 else float("-inf")
    conductance = float(np.exp(ln_conductance_total)) if ln_conductance_total > -745 else 0.0
    potentials = np.full(n_nodes, np.nan)
    potentials[kept_ids] = volts
    edge_currents = np.zeros(a.size)
    conducting_idx = np.flatnonzero(conducting)[in_net]
    edge_currents[conducting_idx] = g * (volts[ia] - volts[ib]) * scale
    return KirchhoffResult(
        conductance_S=conductance,
        ln_conductance=ln_conductance_total,
        resistance_ohm=1.0 / conductance if conductance > 0 else float("inf"),
        current_A=current_rel * scale,
        potentials_V=potentials,
        edge_currents_A=edge_currents,
        kirchhoff_residual_A=residual_rel * scale,
        n_nodes_spanning=int(n),
        n_nodes_excluded=int(n_nodes - n),
        ln_bottleneck=ln_star,
        n_edges_clipped=n_clipped,
    )
