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
from scipy.sparse.linalg import splu

from .errors import InputError, NotPercolatingError

__all__ = [
    "CLIP_LN",
    "Electrodes",
    "KirchhoffResult",
    "bottleneck_ln_conductance",
    "electrodes_from_labels",
    "electrodes_from_table",
    "solve_grain_network",
    "solve_network",
    "spans",
]

#: Half-width of the clipping window around the bottleneck, in e-folds of conductance (W = 18).
CLIP_LN = 18.0
#: Iterative-refinement steps after the sparse LU solve (each reuses the factorisation).
REFINE_STEPS = 2


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
        Largest net current at a free node (Kirchhoff's current law).  Round-off only, which
        relative to `current_A` is ~1e-16 x the spread of the (clipped) conductances: up to
        ~1e-8 when they span the whole clipping window e^(+-18).
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


def _components(n_nodes: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label of every node for the edges (a, b) (SciPy, undirected)."""
    graph = sp.coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n_nodes, n_nodes))
    return csgraph.connected_components(graph, directed=False)[1]


def _joined(n_nodes: int, a: np.ndarray, b: np.ndarray, source: np.ndarray, drain: np.ndarray) -> bool:
    """Whether the edges (a, b) connect some source node to some drain node."""
    comp = _components(n_nodes, a, b)
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
    finite = np.isfinite(ln_g)
    values = np.unique(ln_g[finite])[::-1]  # descending
    if values.size == 0 or not _joined(n_nodes, a[finite], b[finite], src, drn):
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
    # Nodes of the components that touch both electrodes (electrode nodes are joined through
    # their bus bar: a component touching S is held at V wherever it touches it).
    ca, cb = a[conducting], b[conducting]
    comp = _components(n_nodes, ca, cb)
    both = np.intersect1d(np.unique(comp[src]), np.unique(comp[drn]))
    if both.size == 0:
        msg = "no path of conducting junctions joins the two electrodes (the network does not percolate)"
        raise NotPercolatingError(msg)
    keep = np.isin(comp, both)
    in_net = keep[ca]  # both ends are in the same component, so one end decides
    ea, eb, ln_net = ca[in_net], cb[in_net], ln_g[conducting][in_net]
    ln_star = bottleneck_ln_conductance(n_nodes, ea, eb, ln_net, src, drn)

    rel = np.clip(ln_net - ln_star, -CLIP_LN, CLIP_LN)
    n_clipped = int(np.count_nonzero(np.abs(ln_net - ln_star) > CLIP_LN))
    g = np.exp(rel)

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
        # The reduced Laplacian is symmetric positive definite: minimum-degree order on A + A^T
        # and no pivoting (SuperLU's symmetric mode), twice as fast as its default COLAMD order
        # (10^6 grains of a random planar network: 25 s against 50 s).
        factor = splu(l_ff, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
        sol = factor.solve(rhs)
        # Iterative refinement: with conductances spread over e^36 the first solve can leave a
        # Kirchhoff residual of ~1e-7 of the current; two correction steps bring it to round-off.
        for _ in range(REFINE_STEPS):
            sol += factor.solve(rhs - l_ff @ sol)
        volts[free] = sol
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


@dataclass(frozen=True)
class Electrodes:
    """Two electrode bands on opposite sides of the field and the geometry of R_sq = R W / L.

    Attributes
    ----------
    source_ids, drain_ids : ndarray of int64
        Grain ids of the source (left or top) and drain (right or bottom) bands.
    width_m : float
        Width W of the film perpendicular to the current.
    length_m : float
        Separation L of the inner edges of the two bands (PHYSICS.md 4.1).
    direction : {"x", "y"}
        Current direction: "x" left to right, "y" top to bottom.
    """

    source_ids: np.ndarray
    drain_ids: np.ndarray
    width_m: float
    length_m: float
    direction: str

    def sheet_resistance_ohm_per_sq(self, resistance_ohm: float) -> float:
        """``R W / L`` (ohm per square)."""
        return float(resistance_ohm * self.width_m / self.length_m)


def _check_direction(direction: str) -> None:
    if direction not in ("x", "y"):
        msg = f"direction must be 'x' (left-right) or 'y' (top-bottom), got {direction!r}"
        raise InputError(msg)


def electrodes_from_labels(labels: np.ndarray, pixel_size_m: float, *, direction: str = "x") -> Electrodes:
    """Electrodes from a label image: the grains that touch the two opposite frame edges.

    The source band is every grain with a pixel in the first column (``direction="x"``) or row
    (``"y"``), the drain band every grain with a pixel in the last; L is the distance between the
    inner edges of the bands (the far edge of the source grains nearest the drain, and vice
    versa), W the size of the field across the current.

    Raises
    ------
    InputError
        No grain on one side, a grain on both (it would short the film), or the bands overlap.
    """
    _check_direction(direction)
    lab = np.asarray(labels)
    if lab.ndim != 2:
        msg = f"labels must be 2-D, got shape {lab.shape}"
        raise InputError(msg)
    along = lab if direction == "x" else lab.T  # current along axis 1
    first = np.unique(along[:, 0])
    last = np.unique(along[:, -1])
    first, last = first[first > 0], last[last > 0]
    side = "left/right" if direction == "x" else "top/bottom"
    if first.size == 0 or last.size == 0:
        msg = f"no grain touches the {side} edges of the field; no electrodes in direction {direction!r}"
        raise InputError(msg)
    both = np.intersect1d(first, last)
    if both.size:
        msg = f"grain {int(both[0])} touches both {side} edges and would short the electrodes"
        raise InputError(msg)
    cols = np.nonzero(along)[1]
    ids = along[along > 0]
    n = int(lab.max()) + 1
    right_edge = np.full(n, -1)
    left_edge = np.full(n, along.shape[1])
    np.maximum.at(right_edge, ids, cols)
    np.minimum.at(left_edge, ids, cols)
    inner_source = int(right_edge[first].max()) + 1  # first pixel column beyond the source band
    inner_drain = int(left_edge[last].min())
    if inner_drain <= inner_source:
        msg = "the source and drain electrode bands overlap; the field is too narrow for a transport measurement"
        raise InputError(msg)
    return Electrodes(
        source_ids=first.astype(np.int64), drain_ids=last.astype(np.int64),
        width_m=float(along.shape[0] * pixel_size_m), length_m=float((inner_drain - inner_source) * pixel_size_m),
        direction=direction,
    )


def electrodes_from_table(
    x_m: np.ndarray, y_m: np.ndarray, grain_ids: np.ndarray, *, neighbour_distance_m: float, direction: str = "x",
) -> Electrodes:
    """Electrodes from grain centres alone (a table without a label image).

    The source band is every grain within half `neighbour_distance_m` (the median centre
    distance of neighbours) of the smallest x (or y), the drain band the same at the largest;
    L is the distance between the bands' inner centres and W the extent of the centres across
    the current plus one neighbour distance.
    """
    _check_direction(direction)
    if not (np.isfinite(neighbour_distance_m) and neighbour_distance_m > 0):
        msg = f"neighbour_distance_m must be finite and > 0, got {neighbour_distance_m!r}"
        raise InputError(msg)
    along, across = (np.asarray(x_m, float), np.asarray(y_m, float))[:: 1 if direction == "x" else -1]
    ids = np.asarray(grain_ids, dtype=np.int64)
    half = 0.5 * neighbour_distance_m
    source = along <= along.min() + half
    drain = along >= along.max() - half
    inner_source, inner_drain = along[source].max(), along[drain].min()
    if (source & drain).any() or inner_drain <= inner_source:
        msg = "the grains span less than two neighbour distances along the current; no room for electrodes"
        raise InputError(msg)
    return Electrodes(
        source_ids=ids[source], drain_ids=ids[drain],
        width_m=float(np.ptp(across) + neighbour_distance_m), length_m=float(inner_drain - inner_source),
        direction=direction,
    )


def solve_grain_network(
    grain_ids: np.ndarray,
    grain_a: np.ndarray,
    grain_b: np.ndarray,
    electrodes: Electrodes,
    *,
    conductance_S: np.ndarray | None = None,
    ln_conductance: np.ndarray | None = None,
) -> tuple[KirchhoffResult, float]:
    """Solve the network of a grains/junctions table pair; returns the solution and R_sq (ohm/sq).

    `grain_ids` are the table's ids (any integers, unique); `grain_a`, `grain_b` the junctions'
    end grains; the electrodes name grain ids too.  Node ``k`` of the returned potentials is
    ``sorted(grain_ids)[k]``.

    Raises
    ------
    InputError
        Duplicate grain ids, or a junction or electrode naming a grain not in `grain_ids`.
    NotPercolatingError
        No conducting path between the electrodes.
    """
    ids = np.asarray(grain_ids, dtype=np.int64)
    order = np.sort(ids)
    if order.size != np.unique(order).size:
        msg = "grain ids are not unique"
        raise InputError(msg)

    def node(values: np.ndarray, what: str) -> np.ndarray:
        v = np.asarray(values, dtype=np.int64)
        pos = np.clip(np.searchsorted(order, v), 0, max(order.size - 1, 0))
        if v.size and (order.size == 0 or not np.array_equal(order[pos], v)):
            bad = v[order[pos] != v][0] if order.size else v[0]
            msg = f"{what} names grain {int(bad)}, which is not in the grains table"
            raise InputError(msg)
        return pos

    result = solve_network(
        int(order.size), node(grain_a, "a junction"), node(grain_b, "a junction"),
        source=node(electrodes.source_ids, "the source electrode"),
        drain=node(electrodes.drain_ids, "the drain electrode"),
        conductance_S=conductance_S, ln_conductance=ln_conductance,
    )
    return result, electrodes.sheet_resistance_ohm_per_sq(result.resistance_ohm)
