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
g0 exp(-E*/k_BT) with E* the minimax barrier of 4.3) is found on a maximum spanning tree,
every ln g is taken relative to ln g* and clipped to ``[-CLIP_LN, +CLIP_LN]``,
and the result is scaled back.  Clipping changes G by at most ~N_edges e^-18 relative (it only
touches edges 18 e-folds away from the bottleneck, which carry no current that matters, or
shorts that are already shorts).  The answer is returned as ``ln_conductance`` too, so a
conductance of e^-2000 S is still a number.

Only the connected components (of edges with g > 0) that touch both electrodes carry current;
every other node is excluded and counted.  No such component: :class:`NotPercolatingError`.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph
from scipy.sparse.linalg import splu

from ._ordering import nested_dissection
from .errors import InputError, NotPercolatingError

__all__ = [
    "CLIP_LN",
    "DualityCheck",
    "Electrodes",
    "KirchhoffResult",
    "NetworkSolver",
    "bottleneck_ln_conductance",
    "check_duality",
    "electrodes_from_labels",
    "electrodes_from_table",
    "grain_nodes",
    "red_bonds",
    "solve_grain_network",
    "solve_network",
    "spans",
]

#: Half-width of the clipping window around the bottleneck, in e-folds of conductance (W = 18).
CLIP_LN = 18.0
#: Most iterative-refinement steps after the sparse factorisation (each reuses it).
REFINE_STEPS = 8
#: Refinement stops once the largest free-node residual is below this fraction of the current
#: fed in by the electrodes (PHYSICS.md 4.1 asks for < 1e-8).
REFINE_TOL = 1e-12
#: Free nodes from which a network with node positions is ordered by nested dissection (below it,
#: the minimum-degree order of the factorisation library is as fast and the factor as small).
DISSECTION_MIN_NODES = 200_000
#: Edges from which the first bottleneck search of a network tries the median bound (below it the
#: spanning tree of all the edges is as quick as the connectivity test).
MEDIAN_BOUND_MIN_EDGES = 100_000


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
        Largest net current at a free node (Kirchhoff's current law).  Round-off only: a few
        ulps of the largest (clipped) conductance times the voltage; relative to `current_A`
        ~1e-15 when the conductances lie within a few decades, up to ~1e-7 when they fill the
        whole clipping window e^(+-18).  The conductance itself comes from the dissipated
        power (Thomson's principle), where such round-off enters only to second order.
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


def _indices(values: np.ndarray, name: str) -> np.ndarray:
    """Whole numbers (node indices, grain ids) as int64, flattened.

    A plain ``astype(int64)`` would truncate 1.5 to 1 silently and turn NaN or inf into -2^63
    (with a RuntimeWarning), or fail with a bare ValueError; those are refused with InputError.
    """
    arr = np.asarray(values)
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64, copy=False).ravel()
    try:
        flt = arr.astype(np.float64, copy=False)
    except (TypeError, ValueError):
        flt = None
    if flt is None or arr.dtype.kind == "c":
        msg = f"{name} must be integers, got an array of {arr.dtype}"
        raise InputError(msg)
    bad = ~np.isfinite(flt) | (flt != np.trunc(flt)) | (np.abs(flt) > 2.0**53)
    if bad.any():
        msg = f"{name} must be whole numbers, got {flt[bad].ravel()[0]!r}"
        raise InputError(msg)
    return flt.astype(np.int64).ravel()


def _as_mask(nodes: np.ndarray, n_nodes: int, name: str) -> np.ndarray:
    arr = np.asarray(nodes)
    if arr.dtype == bool:
        if arr.shape != (n_nodes,):
            msg = f"{name} mask has shape {arr.shape}, expected ({n_nodes},)"
            raise InputError(msg)
        return arr.copy()
    idx = _indices(arr, f"{name} node indices")
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
    a = _indices(first, "first (edge end nodes)")
    b = _indices(second, "second (edge end nodes)")
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


def _electrode_masks(source: np.ndarray, drain: np.ndarray, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Source and drain as boolean masks; InputError unless both are non-empty and disjoint."""
    src, drn = _as_mask(source, n_nodes, "source"), _as_mask(drain, n_nodes, "drain")
    if not src.any() or not drn.any():
        msg = "both electrodes need at least one node"
        raise InputError(msg)
    if (src & drn).any():
        n_both = int((src & drn).sum())
        msg = f"{n_both} node(s) are in both electrodes; the electrodes must be disjoint"
        raise InputError(msg)
    return src, drn


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

    Raises
    ------
    InputError
        Edge ends or electrode nodes that are not node indices in ``[0, n_nodes)`` (SciPy would
        raise a bare ValueError, or wrap a negative index around).
    """
    a, b, _ = _validated(int(n_nodes), first, second, None, np.zeros(np.size(first)))
    return _joined(int(n_nodes), a, b, _as_mask(source, n_nodes, "source"), _as_mask(drain, n_nodes, "drain"))


def _bottleneck_path(n_nodes: int, a: np.ndarray, b: np.ndarray, ln_g: np.ndarray, src: np.ndarray,
                     drn: np.ndarray, *, dedupe: bool = True, lower_bound: float = -np.inf,
                     ) -> tuple[int, np.ndarray]:
    """The weakest edge of the strongest S-D path (ln g* = ln_g[edge]) and that path's edges.

    A maximum spanning tree (by ln g) holds a maximin path between every pair of nodes, so the
    bottleneck is the weakest edge on the tree path between a super-source (joined to every
    source node by an edge stronger than all others) and a super-drain: one SciPy spanning tree
    and one breadth-first search, O(E log E).  The tree's weights are the ranks of the edges by
    ln g (1 = strongest), so the value is exactly one of the inputs however far ln g spreads
    (weights computed from ln g itself would lose it: at ln g ~ 1e18 one float step is 512).

    `lower_bound`, a value known not to exceed ln g* (the weakest edge of any S-D path), lets the
    tree skip every weaker edge: a sweep passes the previous point's path.  `dedupe` False skips
    the search for parallel edges (SciPy would add them up) when the caller knows there are none.
    Returns ``(-1, [])`` if S and D are not joined.
    """
    finite = np.flatnonzero(np.isfinite(ln_g) & (a != b) & (ln_g >= lower_bound))
    none = (-1, np.zeros(0, dtype=np.int64))
    if finite.size == 0:
        return none
    by_strength = finite[np.argsort(-ln_g[finite])]  # rank r (1 = strongest) -> edge by_strength[r - 1]
    u = np.minimum(a[by_strength], b[by_strength])
    v = np.maximum(a[by_strength], b[by_strength])
    weight = np.arange(1, by_strength.size + 1, dtype=np.float64)
    if dedupe:  # keep the strongest (lowest rank) of parallel edges
        _, first = np.unique(u * np.int64(n_nodes) + v, return_index=True)
        u, v, weight = u[first], v[first], weight[first]
    s_star, d_star = n_nodes, n_nodes + 1
    src_ids, drn_ids = np.flatnonzero(src), np.flatnonzero(drn)
    rows = np.concatenate([u, src_ids, drn_ids])
    cols = np.concatenate([v, np.full(src_ids.size, s_star), np.full(drn_ids.size, d_star)])
    weights = np.concatenate([weight, np.full(src_ids.size + drn_ids.size, 0.5)])  # bus bars: strongest
    n = n_nodes + 2
    tree = csgraph.minimum_spanning_tree(sp.coo_matrix((weights, (rows, cols)), shape=(n, n)).tocsr())
    tree = (tree + tree.T).tocsr()
    _, pred = csgraph.breadth_first_order(tree, s_star, directed=False, return_predecessors=True)
    if pred[d_star] < 0:
        return none
    path = [d_star]
    while path[-1] != s_star:
        path.append(int(pred[path[-1]]))
    nodes = np.asarray(path)
    ranks = np.asarray(tree[nodes[:-1], nodes[1:]]).ravel()
    edges = by_strength[ranks[ranks >= 1].astype(np.int64) - 1]
    return int(by_strength[int(ranks.max()) - 1]), edges


def _median_guess(ln_g: np.ndarray) -> float:
    """A guess at a lower bound on ln g* for a first search on a large network: the median ln g
    (the stronger half of the edges of a planar grain graph, whose bond-percolation thresholds are
    about 1/3, joins the electrodes).  The search checks it: if the edges above it do not join
    the electrodes, it is run again on every edge.  -inf (no guess) for small networks."""
    if ln_g.size < MEDIAN_BOUND_MIN_EDGES:
        return -np.inf
    median = float(np.partition(ln_g, ln_g.size // 2)[ln_g.size // 2])
    return median if np.isfinite(median) else -np.inf


def bottleneck_ln_conductance(
    n_nodes: int, first: np.ndarray, second: np.ndarray, ln_conductance: np.ndarray,
    source: np.ndarray, drain: np.ndarray,
) -> float:
    """ln g*: the largest ln g such that the edges with ln g' >= ln g join `source` to `drain`.

    For activated edges ``ln g = ln g0 - E / k_B T`` this is ``ln g0 - E*/k_B T`` with E* the
    minimax barrier of PHYSICS.md 4.3 (the weakest edge of the strongest path, found on a
    maximum spanning tree).  ``-inf`` if S and D are not joined even with every edge of finite ln g.

    Raises
    ------
    InputError
        Bad indices, NaN or +inf ln g, or electrodes that are empty or share a node (checked as
        in :func:`solve_network`; unchecked, a NaN edge counted as open, and a node in both
        electrodes returned the weakest edge's ln g).
    """
    a, b, ln_g = _validated(int(n_nodes), first, second, None, ln_conductance)
    src, drn = _electrode_masks(source, drain, int(n_nodes))
    k, _ = _bottleneck_path(int(n_nodes), a, b, ln_g, src, drn)
    return float(ln_g[k]) if k >= 0 else float("-inf")


def _column_major_pairs(col: np.ndarray, row: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (col, row) pairs (< m) sorted by column, then row, and the index of each input
    pair among them.  SciPy's CSC conversion is a counting sort (O(k + m), ~3x faster than
    ``np.unique`` at 10^6 grains); it adds up duplicate pairs, and when there are some (parallel
    junctions) ``np.unique`` takes over."""
    k = col.size
    mat = sp.csc_matrix((np.arange(1, k + 1, dtype=np.float64), (row, col)), shape=(m, m))
    if mat.nnz == k:
        mat.sort_indices()
        inverse = np.empty(k, dtype=np.int64)
        inverse[mat.data.astype(np.int64) - 1] = np.arange(k)
        return np.repeat(np.arange(m, dtype=np.int64), np.diff(mat.indptr)), mat.indices.astype(np.int64), inverse
    keys, inverse = np.unique(col * np.int64(m) + row, return_inverse=True)
    return keys // m, keys % m, inverse


def _cholmod():
    """CVXOPT's CHOLMOD module, or None when the optional dependency is not installed."""
    try:
        import cvxopt
        from cvxopt import cholmod
    except ImportError:
        return None
    return cvxopt, cholmod


class _SPDFactor:
    """Sparse Cholesky of the reduced Laplacian L_FF whose symbolic analysis is kept between calls.

    The sparsity pattern of L_FF is fixed for a network; only the values change with temperature
    and field.  With CVXOPT installed (``pip install 'morpho-granular[cholmod]'``) the factorisation is
    CHOLMOD's supernodal Cholesky: its fill-reducing order and symbolic analysis are computed once
    and every later call is a numeric refactorisation (10^6 grains of a random planar network:
    about 6 s for the first solve, 1.5 s for each further one, on two cores).  Without it, SciPy's
    SuperLU in symmetric mode (no pivoting on the SPD matrix) with minimum-degree order on A + A^T;
    its column order is kept and reused (25 s for 10^6 grains).
    """

    def __init__(self, lower: sp.csc_matrix, backend: str, order: np.ndarray | None = None) -> None:
        self.n = lower.shape[0]
        self.backend = backend
        self._symbolic = None
        self._perm: np.ndarray | None = None if order is None else np.asarray(order, dtype=np.int64)
        self._lu = None
        self._inverse: np.ndarray | None = None
        self._template = None
        if backend == "cholmod":
            cvxopt, _ = _cholmod()
            coo = lower.tocoo()
            self._template = cvxopt.spmatrix(
                cvxopt.matrix(np.ones(coo.nnz)), cvxopt.matrix(coo.row.astype(int)), cvxopt.matrix(coo.col.astype(int)),
                size=lower.shape,
            )

    def _analyse(self, cholmod) -> None:
        """CHOLMOD's symbolic analysis: with the caller's order only (``nmethods = 1``; by default
        CHOLMOD would also run its own AMD and keep the better), else with AMD."""
        if self._perm is None:
            self._symbolic = cholmod.symbolic(self._template, uplo="L")
            return
        cvxopt, _ = _cholmod()
        saved = dict(cholmod.options)
        cholmod.options["nmethods"] = 1
        try:
            self._symbolic = cholmod.symbolic(self._template, p=cvxopt.matrix(self._perm.astype(int)), uplo="L")
        finally:
            cholmod.options.clear()
            cholmod.options.update(saved)

    def factor(self, lower: sp.csc_matrix) -> None:
        """Numeric factorisation of the SPD matrix whose lower triangle (CSC, sorted) is `lower`."""
        if self.backend == "cholmod":
            cvxopt, cholmod = _cholmod()
            self._template.V = cvxopt.matrix(lower.data)  # CCS order == sorted CSC order
            try:
                if self._symbolic is None:
                    self._analyse(cholmod)
                cholmod.numeric(self._template, self._symbolic)
                return
            except ArithmeticError:  # not positive definite in floating point: fall back to LU
                self.backend = "superlu"
        full = (lower + sp.tril(lower, -1).T).tocsc()
        if self._perm is None:
            lu = splu(full, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
            self._perm = lu.perm_c.copy()
        if self._inverse is None:
            self._inverse = np.argsort(self._perm)
        permuted = full[self._perm][:, self._perm].tocsc()
        self._lu = splu(permuted, permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True})

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        if self.backend == "cholmod":
            cvxopt, cholmod = _cholmod()
            x = cvxopt.matrix(np.ascontiguousarray(rhs, dtype=np.float64))
            cholmod.solve(self._symbolic, x)
            return np.asarray(x).ravel()
        return self._lu.solve(rhs[self._perm])[self._inverse]


@dataclass
class _Topology:
    """What does not change while only the values of the conductances do (see NetworkSolver)."""

    conducting: np.ndarray  # mask over the input edges
    net_edges: np.ndarray  # indices of the input edges inside the spanning components
    kept_ids: np.ndarray
    ia: np.ndarray  # reduced node index of each net edge's ends
    ib: np.ndarray
    is_src: np.ndarray
    is_drn: np.ndarray
    free: np.ndarray
    free_index: np.ndarray  # reduced node -> row of L_FF (-1 for electrode nodes)
    slots: np.ndarray  # CSC data slot of each (edge, role) contribution to tril(L_FF)
    weights_sign: np.ndarray
    contribution_edge: np.ndarray
    lower_pattern: sp.csc_matrix
    factor: _SPDFactor | None
    parallel_edges: bool  # some node pair is joined by more than one net edge
    last_path: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=np.int64))


class NetworkSolver:
    """Kirchhoff solver for one network whose conductances change (temperature and field sweeps).

    The graph, the electrodes, the spanning components and the symbolic factorisation of the
    reduced Laplacian are worked out once; each :meth:`solve` only assembles the new values,
    refactorises and solves.  If the set of open edges (g = 0) changes between calls the
    topology is worked out again.

    Parameters
    ----------
    n_nodes : int
        Number of nodes; ids 0 .. n_nodes - 1.
    first, second : array of int, shape (n_edges,)
        End nodes of each edge.
    source, drain : array of bool (n_nodes,) or of node indices
        The electrodes; disjoint and not empty.
    backend : {"auto", "cholmod", "superlu"}
        Sparse factorisation: CHOLMOD through the optional CVXOPT (``auto`` picks it when it is
        installed), else SciPy's SuperLU.
    coordinates : array of float, shape (n_nodes, 2), optional
        Positions of the nodes (grain centres; any unit).  With them, networks of at least
        ``DISSECTION_MIN_NODES`` free nodes are ordered for the factorisation by geometric nested
        dissection (:mod:`morpho._ordering`), several times faster to compute than the default
        minimum-degree order (0.6 s against 3 s at 10^6 grains) for a factor about 30 % larger:
        best for one or a few solves; for long sweeps of a large network leave it out.  The
        answer does not depend on it.

    Raises
    ------
    InputError
        Bad sizes, indices or electrodes, or an unknown backend.
    """

    def __init__(self, n_nodes: int, first: np.ndarray, second: np.ndarray, *, source: np.ndarray,
                 drain: np.ndarray, backend: str = "auto", coordinates: np.ndarray | None = None) -> None:
        if not (isinstance(n_nodes, (int, np.integer)) and n_nodes >= 2):
            msg = f"n_nodes must be an integer >= 2, got {n_nodes!r}"
            raise InputError(msg)
        if backend not in ("auto", "cholmod", "superlu"):
            msg = f"backend must be 'auto', 'cholmod' or 'superlu', got {backend!r}"
            raise InputError(msg)
        if backend == "cholmod" and _cholmod() is None:
            msg = "the 'cholmod' backend needs CVXOPT; install it with: pip install 'morpho-granular[cholmod]'"
            raise InputError(msg)
        self.backend = ("cholmod" if _cholmod() is not None else "superlu") if backend == "auto" else backend
        self.n_nodes = int(n_nodes)
        self._a, self._b, _ = _validated(self.n_nodes, first, second, None, np.zeros(np.size(first)))
        self._src, self._drn = _electrode_masks(source, drain, self.n_nodes)
        self._xy = None
        if coordinates is not None:
            xy = np.asarray(coordinates, dtype=np.float64)
            if xy.shape != (self.n_nodes, 2) or not np.isfinite(xy).all():
                msg = f"coordinates must be finite with shape ({self.n_nodes}, 2), got shape {xy.shape}"
                raise InputError(msg)
            self._xy = xy
        self._topology: _Topology | None = None

    @property
    def n_edges(self) -> int:
        return int(self._a.size)

    def _prepare(self, conducting: np.ndarray) -> _Topology:
        a, b, src, drn, n_nodes = self._a, self._b, self._src, self._drn, self.n_nodes
        # Nodes of the components that touch both electrodes (electrode nodes are joined through
        # their bus bar: a component touching S is held at V wherever it touches it).
        ca, cb = a[conducting], b[conducting]
        comp = _components(n_nodes, ca, cb)
        both = np.intersect1d(np.unique(comp[src]), np.unique(comp[drn]))
        if both.size == 0:
            msg = "no path of conducting junctions joins the two electrodes (the network does not percolate)"
            raise NotPercolatingError(msg)
        keep = np.isin(comp, both)
        net_edges = np.flatnonzero(conducting)[keep[ca]]  # both ends share a component
        kept_ids = np.flatnonzero(keep)
        index = np.full(n_nodes, -1, dtype=np.int64)
        index[kept_ids] = np.arange(kept_ids.size)
        ia, ib = index[a[net_edges]], index[b[net_edges]]
        is_src, is_drn = src[kept_ids], drn[kept_ids]
        free = ~(is_src | is_drn)
        free_index = np.full(kept_ids.size, -1, dtype=np.int64)
        free_index[free] = np.arange(int(free.sum()))
        fa, fb = free_index[ia], free_index[ib]
        m = int(free.sum())
        # Pattern of tril(L_FF) in CSC order and the data slot of every contribution (+g on the
        # diagonal of each free end, -g off the diagonal of each free-free edge), with one sort of
        # the off-diagonal keys: column c holds its diagonal first, then its off-diagonal rows in
        # increasing order, so the j-th distinct off-diagonal entry (sorted by column, then row)
        # of column c sits at j + c + 1.
        e = np.arange(net_edges.size)
        ff = (fa >= 0) & (fb >= 0)
        col_ff, row_ff = np.minimum(fa[ff], fb[ff]), np.maximum(fa[ff], fb[ff])
        key_col, key_row, inverse = _column_major_pairs(col_ff, row_ff, m)
        off_pos = np.arange(key_col.size) + key_col + 1
        indptr = np.zeros(m + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(1 + np.bincount(key_col, minlength=m))
        indices = np.empty(m + key_col.size, dtype=np.int64)
        indices[indptr[:-1]] = np.arange(m)
        indices[off_pos] = key_row
        pattern = sp.csc_matrix((np.ones(indices.size), indices, indptr), shape=(m, m))
        end_a, end_b = fa >= 0, fb >= 0
        slots = np.concatenate([indptr[fa[end_a]], indptr[fb[end_b]], off_pos[inverse]])
        which = np.concatenate([e[end_a], e[end_b], e[ff]])
        sign = np.concatenate([np.ones(int(end_a.sum()) + int(end_b.sum())), -np.ones(int(ff.sum()))])
        order = None
        if self._xy is not None and m >= DISSECTION_MIN_NODES:
            order = nested_dissection(self._xy[kept_ids[free]], fa[ff], fb[ff])
        factor = _SPDFactor(pattern, self.backend, order) if m else None
        # Parallel edges (the spanning tree of the bottleneck search would add them up): among the
        # free-free edges they share a key; the few edges at the electrodes are checked apart.
        other = ~ff
        pair = np.minimum(ia[other], ib[other]) * np.int64(kept_ids.size) + np.maximum(ia[other], ib[other])
        parallel = bool(key_col.size < int(ff.sum()) or np.unique(pair).size < pair.size)
        return _Topology(conducting, net_edges, kept_ids, ia, ib, is_src, is_drn, free, free_index, slots, sign,
                         which, pattern, factor, parallel)

    def solve(self, *, conductance_S: np.ndarray | None = None, ln_conductance: np.ndarray | None = None,
              voltage_V: float = 1.0) -> KirchhoffResult:
        """Solve with these edge conductances (exactly one of `conductance_S`, `ln_conductance`).

        See :func:`solve_network` for the arguments and the result.
        """
        if not (np.isfinite(voltage_V) and voltage_V != 0):
            msg = f"voltage_V must be finite and non-zero, got {voltage_V!r}"
            raise InputError(msg)
        a, b, ln_g = _validated(self.n_nodes, self._a, self._b, conductance_S, ln_conductance)
        conducting = np.isfinite(ln_g) & (a != b)
        top = self._topology
        if top is None or not np.array_equal(top.conducting, conducting):
            top = self._topology = self._prepare(conducting)
        ln_net = ln_g[top.net_edges]
        # In a sweep the previous point's maximin path still joins the electrodes, so its weakest
        # edge under the new values bounds ln g* from below and the spanning tree can leave out
        # every weaker edge (about two thirds of them near the percolation threshold).
        # (On a first solve, the median is tried as a bound; a search that finds the electrodes
        # apart above it is repeated on every edge.)
        guessed = not top.last_path.size
        bound = _median_guess(ln_net) if guessed else float(ln_net[top.last_path].min())
        star, path = _bottleneck_path(top.kept_ids.size, top.ia, top.ib, ln_net, top.is_src, top.is_drn,
                                      dedupe=top.parallel_edges, lower_bound=bound)
        if star < 0 and guessed and bound > -np.inf:
            star, path = _bottleneck_path(top.kept_ids.size, top.ia, top.ib, ln_net, top.is_src, top.is_drn,
                                          dedupe=top.parallel_edges)
        top.last_path = path
        ln_star = float(ln_net[star])
        offset = ln_net - ln_star
        n_clipped = int(np.count_nonzero(np.abs(offset) > CLIP_LN))
        g = np.exp(np.clip(offset, -CLIP_LN, CLIP_LN))

        volts = np.zeros(top.kept_ids.size)
        volts[top.is_src] = voltage_V
        if top.factor is not None:
            lower = top.lower_pattern.copy()
            lower.data = np.bincount(top.slots, weights=g[top.contribution_edge] * top.weights_sign,
                                     minlength=lower.nnz)
            # right-hand side: g V_fixed of every edge from a free node to an electrode node
            fa, fb = top.free_index[top.ia], top.free_index[top.ib]
            m = int(top.free.sum())
            to_fixed_a = (fa >= 0) & (fb < 0)
            to_fixed_b = (fb >= 0) & (fa < 0)
            rhs = (np.bincount(fa[to_fixed_a], weights=g[to_fixed_a] * volts[top.ib[to_fixed_a]], minlength=m)
                   + np.bincount(fb[to_fixed_b], weights=g[to_fixed_b] * volts[top.ia[to_fixed_b]], minlength=m))
            diag = lower.diagonal()

            def l_ff(x: np.ndarray) -> np.ndarray:
                return lower @ x + lower.T @ x - diag * x

            top.factor.factor(lower)
            sol = top.factor.solve(rhs)
            # Iterative refinement: with conductances spread over e^36 the first solve can leave a
            # Kirchhoff residual of ~1e-6 of the current; each correction step (reusing the
            # factorisation) gains a few digits until round-off.  Stop at REFINE_TOL of the
            # current, or when a step no longer helps, or after REFINE_STEPS steps.
            res = rhs - l_ff(sol)
            norm = float(np.abs(res).max())
            scale_rhs = float(np.abs(rhs).sum()) or 1.0
            for _ in range(REFINE_STEPS):
                if norm <= REFINE_TOL * scale_rhs:
                    break
                trial = sol + top.factor.solve(res)
                res_trial = rhs - l_ff(trial)
                norm_trial = float(np.abs(res_trial).max())
                if norm_trial >= norm:
                    break
                sol, res, norm = trial, res_trial, norm_trial
            volts[top.free] = sol
        edge_rel = g * (volts[top.ia] - volts[top.ib])
        n = top.kept_ids.size
        net = np.bincount(top.ia, weights=edge_rel, minlength=n) - np.bincount(top.ib, weights=edge_rel, minlength=n)
        # The conductance from the dissipated power, G = sum g dV^2 / V^2 (Thomson's principle), not
        # from the current at the source: the power is stationary at the solution, so round-off
        # in the potentials enters it only to second order, whereas the current through a very
        # strong edge at an electrode, g (V_s - V_i), carries g times the round-off of V_i (a
        # dead end hanging off the source with g = e^18 g* would add ~1e-9 relative).
        current_rel = float(np.dot(g, (volts[top.ia] - volts[top.ib]) ** 2)) / voltage_V
        residual_rel = float(np.abs(net[top.free]).max()) if top.free.any() else 0.0

        scale = float(np.exp(ln_star)) if ln_star > -700 else 0.0  # conductance unit of the relative solve
        g_rel = current_rel / voltage_V
        ln_conductance_total = float(np.log(g_rel)) + ln_star if g_rel > 0 else float("-inf")
        conductance = float(np.exp(ln_conductance_total)) if ln_conductance_total > -745 else 0.0
        potentials = np.full(self.n_nodes, np.nan)
        potentials[top.kept_ids] = volts
        edge_currents = np.zeros(a.size)
        edge_currents[top.net_edges] = edge_rel * scale
        return KirchhoffResult(
            conductance_S=conductance,
            ln_conductance=ln_conductance_total,
            resistance_ohm=1.0 / conductance if conductance > 0 else float("inf"),
            current_A=current_rel * scale,
            potentials_V=potentials,
            edge_currents_A=edge_currents,
            kirchhoff_residual_A=residual_rel * scale,
            n_nodes_spanning=int(n),
            n_nodes_excluded=int(self.n_nodes - n),
            ln_bottleneck=ln_star,
            n_edges_clipped=n_clipped,
        )


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
    coordinates: np.ndarray | None = None,
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
    coordinates : array of float, shape (n_nodes, 2), optional
        Node positions; large networks are then ordered by nested dissection, a faster first
        solve (see :class:`NetworkSolver`).  The answer does not depend on it.

    Returns
    -------
    KirchhoffResult

    Raises
    ------
    InputError
        Bad shapes, indices, conductances or electrodes.
    NotPercolatingError
        No path of conducting edges joins the electrodes.

    Notes
    -----
    For many solves of one network (sweeps) use :class:`NetworkSolver`, which keeps the
    topology and the symbolic factorisation.
    """
    return NetworkSolver(n_nodes, first, second, source=source, drain=drain, coordinates=coordinates).solve(
        conductance_S=conductance_S, ln_conductance=ln_conductance, voltage_V=voltage_V)


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
        No grain on one side, a grain on both (it would short the film), or the bands overlap;
        or labels that are not a non-empty 2-D array of integers >= 0, or a pixel size that is
        not finite and > 0 (these gave an IndexError or NaN lengths before they were checked).
    """
    _check_direction(direction)
    lab = np.asarray(labels)
    if lab.ndim != 2 or lab.size == 0 or lab.dtype.kind not in "iu":
        msg = f"labels must be a non-empty 2-D integer array, got {lab.dtype} with shape {lab.shape}"
        raise InputError(msg)
    if lab.min() < 0:
        msg = "labels must be >= 0 (0 = matrix, 1..n = grains)"
        raise InputError(msg)
    if not (np.isfinite(pixel_size_m) and pixel_size_m > 0):
        msg = f"pixel_size_m must be finite and > 0, got {pixel_size_m!r}"
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

    Raises
    ------
    InputError
        A neighbour distance that is not finite and > 0; centres that are missing, not finite
        or not one per grain id (numpy's reductions failed with a bare ValueError on them); or
        grains spanning less than two neighbour distances.
    """
    _check_direction(direction)
    if not (np.isfinite(neighbour_distance_m) and neighbour_distance_m > 0):
        msg = f"neighbour_distance_m must be finite and > 0, got {neighbour_distance_m!r}"
        raise InputError(msg)
    along, across = (np.asarray(x_m, float).ravel(), np.asarray(y_m, float).ravel())[:: 1 if direction == "x" else -1]
    ids = _indices(grain_ids, "grain_ids")
    if not (along.size == across.size == ids.size) or ids.size == 0:
        msg = f"x_m, y_m and grain_ids must be non-empty and of one length, got {along.size}, {across.size}, {ids.size}"
        raise InputError(msg)
    if not (np.isfinite(along).all() and np.isfinite(across).all()):
        msg = "the grain centres x_m, y_m must be finite"
        raise InputError(msg)
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


def grain_nodes(grain_ids: np.ndarray, values: np.ndarray, what: str, *,
                table: str = "the grains table") -> tuple[np.ndarray, np.ndarray]:
    """Map grain ids to node indices.

    Returns ``(rows, sorted_pos)``: for each of `values`, its row in `grain_ids` and its position
    in ``sorted(grain_ids)``.

    Raises
    ------
    InputError
        Duplicate ids, or a value (named by `what`) that is not one of `grain_ids` (the table
        they come from is named by `table`).
    """
    ids = _indices(grain_ids, f"{table}: grain ids")
    order = np.argsort(ids, kind="stable")
    ordered = ids[order]
    if ordered.size > 1 and (np.diff(ordered) == 0).any():
        msg = f"{table}: grain ids are not unique"
        raise InputError(msg)
    v = _indices(values, f"{what} (grain ids)")
    pos = np.clip(np.searchsorted(ordered, v), 0, max(ordered.size - 1, 0))
    bad = (ordered[pos] != v) if ordered.size else np.ones(v.size, dtype=bool)
    if bad.any():
        msg = f"{what} names grain {int(v[bad][0])}, which is not in {table}"
        raise InputError(msg)
    return order[pos], pos


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
    ids = _indices(grain_ids, "grain_ids")

    def node(values: np.ndarray, what: str) -> np.ndarray:
        return grain_nodes(ids, values, what)[1]

    result = solve_network(
        int(ids.size), node(grain_a, "a junction"), node(grain_b, "a junction"),
        source=node(electrodes.source_ids, "the source electrode"),
        drain=node(electrodes.drain_ids, "the drain electrode"),
        conductance_S=conductance_S, ln_conductance=ln_conductance,
    )
    return result, electrodes.sheet_resistance_ohm_per_sq(result.resistance_ohm)


def red_bonds(n_nodes: int, first: np.ndarray, second: np.ndarray, ln_conductance: np.ndarray,
              source: np.ndarray, drain: np.ndarray) -> np.ndarray:
    """Singly connected ("red") bonds of the critical spanning cluster (PHYSICS.md 4.3).

    The critical cluster is made of the edges with ln g >= ln g* (the bottleneck conductance):
    the strongest set of edges that still joins the electrodes.  A red bond is an edge of it
    whose removal alone disconnects the source from the drain; every current path crosses it.
    They are the bridges of the cluster (with the electrodes as bus bars) that lie on the
    bridge tree's path from source to drain (networkx's bridge finder, linear time).  The
    bottleneck edge itself is always one.

    Returns
    -------
    ndarray of int64
        Indices of the red edges into `first`/`second`, sorted.  Empty if the electrodes are
        not joined.

    Raises
    ------
    InputError
        Bad indices, NaN or +inf ln g, or empty or overlapping electrodes (as
        :func:`bottleneck_ln_conductance`).
    """
    a, b, ln_g = _validated(int(n_nodes), first, second, None, ln_conductance)
    src, drn = _electrode_masks(source, drain, int(n_nodes))
    k, _ = _bottleneck_path(int(n_nodes), a, b, ln_g, src, drn)
    if k < 0:
        return np.zeros(0, dtype=np.int64)
    return _red_bonds_at(int(n_nodes), a, b, ln_g, src, drn, float(ln_g[k]))


def _red_bonds_at(n_nodes: int, a: np.ndarray, b: np.ndarray, ln_g: np.ndarray, src: np.ndarray,
                  drn: np.ndarray, star: float) -> np.ndarray:
    """:func:`red_bonds` for a known bottleneck value ln g* (validated arrays, bool masks)."""
    import networkx as nx  # networkx is needed here only

    critical = np.flatnonzero((ln_g >= star) & (a != b))
    s_star, d_star = n_nodes, n_nodes + 1
    graph = nx.MultiGraph()
    graph.add_edges_from((int(a[k]), int(b[k]), int(k)) for k in critical)
    graph.add_edges_from((s_star, int(i), -1) for i in np.flatnonzero(src))
    graph.add_edges_from((d_star, int(i), -1) for i in np.flatnonzero(drn))
    component = nx.node_connected_component(graph, s_star)
    graph = graph.subgraph(component).copy()
    # Bridges of a multigraph: an edge with a parallel twin is never a bridge; networkx's
    # bridges() works on simple graphs, so count the parallel edges first.
    simple = nx.Graph(graph)
    multiplicity = {}
    for u, v, key in graph.edges(keys=True):
        pair = (min(u, v), max(u, v))
        multiplicity.setdefault(pair, []).append(key)
    bridges = [(u, v) for u, v in nx.bridges(simple) if len(multiplicity[(min(u, v), max(u, v))]) == 1]
    simple.remove_edges_from(bridges)
    block = {node: i for i, comp in enumerate(nx.connected_components(simple)) for node in comp}
    tree = nx.Graph()
    tree.add_edges_from((block[u], block[v], {"edge": multiplicity[(min(u, v), max(u, v))][0]}) for u, v in bridges)
    if block[s_star] == block[d_star]:
        return np.zeros(0, dtype=np.int64)
    path = nx.shortest_path(tree, block[s_star], block[d_star])
    red = [tree.edges[p, q]["edge"] for p, q in itertools.pairwise(path)]
    return np.asarray(sorted(k for k in red if k >= 0), dtype=np.int64)


@dataclass(frozen=True)
class DualityCheck:
    """Result of :func:`check_duality`.

    Attributes
    ----------
    ln_conductance, ln_dual_conductance : float
        ln G of the network between its electrodes and ln G_dual of the dual network between
        the two faces beside the electrodes (conductances in S and 1/S; the product is
        dimensionless once each dual bond carries 1/g in units of 1 S^2 / g).
    product : float
        ``G * G_dual``; 1 exactly for a planar network (Keller-Dykhne duality).
    n_faces : int
        Nodes of the dual network.
    """

    ln_conductance: float
    ln_dual_conductance: float
    product: float
    n_faces: int


def check_duality(n_nodes: int, first: np.ndarray, second: np.ndarray, *, source: np.ndarray,
                  drain: np.ndarray, conductance_S: np.ndarray | None = None,
                  ln_conductance: np.ndarray | None = None) -> DualityCheck:
    """Build the planar dual of a network and check ``G * G_dual = 1`` (PHYSICS.md 4.5).

    Each electrode is contracted into one node (it is a perfect conductor; its nodes should be
    joined among themselves, as a band of grains along a border is), and one outer edge joins
    the two.  A planar
    embedding of that graph (networkx) gives its faces; every network edge of conductance g
    becomes a dual bond of conductance 1/g (in siemens, i.e. 1 S^2 / g) between the faces on its
    two sides; the two faces beside the
    outer edge are the dual's terminals.  Then ``G(network) * G(dual) = 1`` for every set of
    conductances (Keller 1964, Dykhne 1971; the paper's G_x^D = 1/G_y).  Parallel edges are
    merged first (their conductances add).  Both solves clip ln g at +-18 around their
    bottlenecks (PHYSICS.md 4.1), which is exact to ~N e^-18 relative.

    Raises
    ------
    InputError
        The network with its contracted electrodes is not planar (junctions cross, or an
        electrode's nodes lie apart), or bad input.
    NotPercolatingError
        The network does not join its electrodes.
    """
    import networkx as nx  # networkx is needed here only

    a, b, ln_g = _validated(int(n_nodes), first, second, conductance_S, ln_conductance)
    src, drn = _as_mask(source, n_nodes, "source"), _as_mask(drain, n_nodes, "drain")
    if (src & drn).any() or not src.any() or not drn.any():
        msg = "the electrodes must be disjoint and not empty"
        raise InputError(msg)
    # Contract each electrode into one node (it is a perfect conductor), then merge parallel
    # edges: their conductances add.
    s_star, d_star = int(n_nodes), int(n_nodes) + 1
    merged = np.arange(n_nodes + 2, dtype=np.int64)
    merged[:n_nodes][src] = s_star
    merged[:n_nodes][drn] = d_star
    a, b = merged[a], merged[b]
    keep = a != b
    n_all = int(n_nodes) + 2
    u, v, ln_g = np.minimum(a, b)[keep], np.maximum(a, b)[keep], ln_g[keep]
    uniq, inverse = np.unique(u * np.int64(n_all) + v, return_inverse=True)
    ln_merged = np.full(uniq.size, -np.inf)
    np.logaddexp.at(ln_merged, inverse, ln_g)
    u, v = uniq // n_all, uniq % n_all
    primal = solve_network(n_all, u, v, source=[s_star], drain=[d_star], ln_conductance=ln_merged)

    graph = nx.Graph()
    graph.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
    # The outer edge is drawn as a path S - X - D through an extra node X: a plain S-D edge would
    # merge with a network edge that joins the two electrodes directly (nx.Graph keeps one edge per
    # pair), and the terminals (the faces beside the outer edge) would then be the faces beside
    # that network edge: G * G_dual came out != 1 for such networks.
    outer = n_all
    graph.add_edge(s_star, outer)
    graph.add_edge(outer, d_star)
    # Only the component of the electrodes matters (other components carry no current and their
    # dual bonds hang off one face).
    graph = graph.subgraph(nx.node_connected_component(graph, s_star)).copy()
    planar, embedding = nx.check_planarity(graph)
    if not planar:
        msg = ("the network with its contracted electrodes is not planar (junctions cross, or an electrode's "
               "grains are not joined along its side); the dual check needs a planar network")
        raise InputError(msg)
    face_of: dict[tuple[int, int], int] = {}
    n_faces = 0
    for x, y in embedding.edges():
        if (x, y) in face_of:
            continue
        cycle = embedding.traverse_face(x, y)
        for p, q in zip(cycle, cycle[1:] + cycle[:1], strict=True):
            face_of[(p, q)] = n_faces
        n_faces += 1
    in_graph = np.array([graph.has_edge(int(p), int(q)) for p, q in zip(u, v, strict=True)], dtype=bool)
    fu = np.array([face_of[(int(p), int(q))] for p, q in zip(u[in_graph], v[in_graph], strict=True)], dtype=np.int64)
    fv = np.array([face_of[(int(q), int(p))] for p, q in zip(u[in_graph], v[in_graph], strict=True)], dtype=np.int64)
    ln_dual = -ln_merged[in_graph]
    # An open edge (g = 0) is a short in the dual: merge its two faces.
    short = np.isposinf(ln_dual)
    faces = np.arange(n_faces)
    if short.any():
        comp = _components(n_faces, fu[short], fv[short])
        faces = comp
        n_faces = int(comp.max()) + 1
    top, bottom = faces[face_of[(s_star, outer)]], faces[face_of[(outer, s_star)]]
    if top == bottom:
        msg = "the electrodes are shorted by open edges in the dual; the network does not conduct"
        raise NotPercolatingError(msg)
    dual = solve_network(int(n_faces), faces[fu[~short]], faces[fv[~short]], source=[top], drain=[bottom],
                         ln_conductance=ln_dual[~short])
    ln_product = primal.ln_conductance + dual.ln_conductance
    return DualityCheck(primal.ln_conductance, dual.ln_conductance, float(np.exp(ln_product)), int(n_faces))
