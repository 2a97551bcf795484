"""Property-based tests (hypothesis) of the Kirchhoff solver in morpho.transport.

Random resistor networks (a random spanning tree plus random extra edges, parallel edges
included, conductances log-uniform over a few decades) are checked against exact oracles and
the theorems every two-point resistance obeys (PHYSICS.md 4.1 and section 5, V7 and V9):

* series, parallel and nested series-parallel combinations;
* an exact rational (``fractions.Fraction``) solve of the grounded Laplacian;
* the effective resistance is a metric (symmetric, positive, triangle inequality), obeys
  Rayleigh monotonicity, scales with the resistances, and Foster's theorem
  ``sum_e g_e R_eff(e) = N - 1``;
* Kirchhoff's current law at every free node, the maximum principle, Tellegen;
* invariance under node relabelling, edge order, voltage, bus-bar contraction, self-loops,
  open edges, merged parallel edges, islands and dead ends, factorisation backend and order;
* the bottleneck (maximin) conductance and the red bonds against brute force;
* a network that does not join its electrodes raises NotPercolatingError, bad values raise
  InputError (a MorphoError), never another exception.

Tolerances follow STYLE 4.4: ``rel=1e-9`` on a linear solve.  Unless a test says otherwise the
conductances stay within e^(+-18) of each other, so the solver's clipping window (CLIP_LN) never
touches them and the answers are exact up to round-off.
"""

from __future__ import annotations

import math
from fractions import Fraction
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import morpho.transport as transport
from morpho.errors import InputError, MorphoError, NotPercolatingError
from morpho.transport import (
    CLIP_LN,
    Electrodes,
    NetworkSolver,
    bottleneck_ln_conductance,
    check_duality,
    electrodes_from_labels,
    electrodes_from_table,
    red_bonds,
    solve_grain_network,
    solve_network,
    spans,
)

# Bounded and reproducible: every test below is derandomised and stops at its max_examples.
PROPS = settings(max_examples=50, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
MANY = settings(PROPS, max_examples=60)

#: Relative tolerance of a sparse linear solve (STYLE 4.4).
RTOL = 1e-9


# --- strategies ---------------------------------------------------------------------------------

def _conductances(m: int, decades: float):
    """m conductances (S), log-uniform over 10^(+-decades)."""
    return st.lists(st.floats(-decades, decades), min_size=m, max_size=m).map(
        lambda e: 10.0 ** np.asarray(e, dtype=np.float64))


@st.composite
def connected_networks(draw, min_nodes: int = 2, max_nodes: int = 10, max_extra: int = 15,
                       decades: float = 3.0):
    """(n, first, second, g): a connected multigraph without self-loops and its conductances.

    A random spanning tree (node i > 0 joined to a random earlier node), extra random edges
    (parallel ones allowed), then a random relabelling of the nodes and a random edge order.
    """
    n = draw(st.integers(min_nodes, max_nodes))
    edges = [(i, draw(st.integers(0, i - 1))) for i in range(1, n)]
    extra = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=max_extra))
    edges += [(u, v) for u, v in extra if u != v]
    perm = np.asarray(draw(st.permutations(range(n))), dtype=np.int64)
    order = np.asarray(draw(st.permutations(range(len(edges)))), dtype=np.int64)
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)[order]
    flip = np.asarray(draw(st.lists(st.booleans(), min_size=len(e), max_size=len(e))), dtype=bool)
    e[flip] = e[flip][:, ::-1]
    g = draw(_conductances(len(e), decades))
    return n, perm[e[:, 0]], perm[e[:, 1]], g


@st.composite
def network_and_pair(draw, **kwargs):
    """A connected network and two distinct nodes (source, drain)."""
    n, a, b, g = draw(connected_networks(**kwargs))
    s, d = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
    return n, a, b, g, s, d


def _exact_resistance(n: int, a, b, g, s: int, d: int) -> Fraction:
    """Exact two-point resistance: the grounded Laplacian (drain at 0) solved in rationals for a
    unit current into the source; R = V_s.  The floats are taken at their exact binary values.

    Only the nodes of the component of the source take part (the others would make the
    grounded Laplacian singular); the source and drain must be in the same component.
    """
    adj: dict[int, set[int]] = {i: set() for i in range(n)}
    for u, v, w in zip(a, b, g, strict=True):
        if u != v and w > 0:
            adj[int(u)].add(int(v))
            adj[int(v)].add(int(u))
    comp, todo = {s}, [s]
    while todo:
        for v in adj[todo.pop()] - comp:
            comp.add(v)
            todo.append(v)
    assert d in comp
    nodes = sorted(comp - {d})
    pos = {v: i for i, v in enumerate(nodes)}
    k = len(nodes)
    lap = [[Fraction(0)] * k for _ in range(k)]
    for u, v, w in zip(a, b, g, strict=True):
        u, v = int(u), int(v)
        if u == v or w <= 0 or u not in comp:
            continue
        fw = Fraction(float(w))
        for p, q in ((u, v), (v, u)):
            if p in pos:
                lap[pos[p]][pos[p]] += fw
                if q in pos:
                    lap[pos[p]][pos[q]] -= fw
    rhs = [Fraction(int(v == s)) for v in nodes]
    for c in range(k):  # Gaussian elimination; the grounded Laplacian is positive definite
        piv = lap[c][c]
        for r in range(c + 1, k):
            if lap[r][c]:
                f = lap[r][c] / piv
                for j in range(c, k):
                    lap[r][j] -= f * lap[c][j]
                rhs[r] -= f * rhs[c]
    x = [Fraction(0)] * k
    for r in range(k - 1, -1, -1):
        x[r] = (rhs[r] - sum(lap[r][j] * x[j] for j in range(r + 1, k))) / lap[r][r]
    return x[pos[s]]


def _r(n, a, b, g, s, d, **kwargs) -> float:
    return solve_network(n, a, b, source=[s], drain=[d], conductance_S=g, **kwargs).resistance_ohm


# --- exact combinations -------------------------------------------------------------------------

@MANY
@given(r=st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=25), data=st.data())
def test_solve_network_series_chain_is_the_sum_of_resistances(r, data):
    """A chain of resistors (nodes in any order) gives R = sum r_i."""
    r = np.asarray(r)
    n = r.size + 1
    perm = np.asarray(data.draw(st.permutations(range(n))))
    res = solve_network(n, perm[:-1], perm[1:], source=[perm[0]], drain=[perm[-1]], conductance_S=1.0 / r)
    assert res.resistance_ohm == pytest.approx(math.fsum(r), rel=RTOL)


@MANY
@given(r=st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=25))
def test_solve_network_parallel_edges_add_conductances(r):
    """k resistors between the same two nodes give 1/R = sum 1/r_i."""
    r = np.asarray(r)
    res = solve_network(2, np.zeros(r.size, int), np.ones(r.size, int), source=[0], drain=[1], conductance_S=1.0 / r)
    assert res.conductance_S == pytest.approx(math.fsum(1.0 / r), rel=RTOL)


_SP_TREES = st.recursive(
    st.floats(1e-2, 1e2),
    lambda kids: st.tuples(st.sampled_from(["series", "parallel"]), st.lists(kids, min_size=2, max_size=3)),
    max_leaves=16,
)


def _build_series_parallel(tree, u: int, v: int, edges: list, counter: list) -> float:
    """Place `tree` between nodes u and v (new inner nodes from `counter`); return its resistance."""
    if isinstance(tree, float):
        edges.append((u, v, tree))
        return tree
    kind, kids = tree
    if kind == "parallel":
        return 1.0 / math.fsum(1.0 / _build_series_parallel(k, u, v, edges, counter) for k in kids)
    nodes = [u]
    for _ in kids[:-1]:
        nodes.append(counter[0])
        counter[0] += 1
    nodes.append(v)
    return math.fsum(_build_series_parallel(k, p, q, edges, counter) for k, p, q in zip(kids, nodes, nodes[1:],
                                                                                           strict=False))


@MANY
@given(tree=_SP_TREES)
def test_solve_network_series_parallel_network_matches_the_formula(tree):
    """Nested series and parallel combinations of resistors: R from the two composition rules."""
    edges: list = []
    counter = [2]
    expected = _build_series_parallel(tree, 0, 1, edges, counter)
    a, b, r = (np.asarray(x) for x in zip(*edges, strict=True))
    res = solve_network(counter[0], a.astype(int), b.astype(int), source=[0], drain=[1], conductance_S=1.0 / r)
    assert res.resistance_ohm == pytest.approx(expected, rel=RTOL)


@MANY
@given(net=network_and_pair(max_nodes=9, max_extra=12))
def test_solve_network_matches_an_exact_rational_solve(net):
    """R between two nodes of a random network equals the exact rational solve of the grounded
    Laplacian (so every property below is a property of the true effective resistance)."""
    n, a, b, g, s, d = net
    exact = _exact_resistance(n, a, b, g, s, d)
    assert _r(n, a, b, g, s, d) == pytest.approx(float(exact), rel=RTOL)


# --- the effective resistance is a metric, and monotone -----------------------------------------

@PROPS
@given(net=network_and_pair())
def test_solve_network_resistance_is_symmetric_and_positive(net):
    """Reciprocity: swapping source and drain gives the same R; R is finite and > 0."""
    n, a, b, g, s, d = net
    forward, backward = _r(n, a, b, g, s, d), _r(n, a, b, g, d, s)
    assert 0 < forward < np.inf
    assert backward == pytest.approx(forward, rel=RTOL)


@PROPS
@given(net=connected_networks(min_nodes=3, max_nodes=5, max_extra=6))
def test_solve_network_resistance_obeys_the_triangle_inequality(net):
    """R(i, k) <= R(i, j) + R(j, k) for every triple (the effective resistance is a metric)."""
    n, a, b, g = net
    r = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            r[i, j] = r[j, i] = _r(n, a, b, g, i, j)
    assert (r[~np.eye(n, dtype=bool)] > 0).all()
    bound = r[:, :, None] + r[None, :, :]  # bound[i, j, k] = R(i, j) + R(j, k)
    assert (r[:, None, :] <= bound * (1 + RTOL)).all()


@PROPS
@given(net=network_and_pair(decades=2.0), data=st.data())
def test_solve_network_rayleigh_monotonicity(net, data):
    """Raising any conductance never raises R; opening an edge never lowers it (or disconnects)."""
    n, a, b, g, s, d = net
    k = data.draw(st.integers(0, g.size - 1))
    factor = data.draw(st.floats(1.0, 100.0))  # stays within the clipping window (4 + 2 decades)
    base = _r(n, a, b, g, s, d)
    raised = g.copy()
    raised[k] *= factor
    assert _r(n, a, b, raised, s, d) <= base * (1 + RTOL)
    opened = g.copy()
    opened[k] = 0.0
    try:
        assert _r(n, a, b, opened, s, d) >= base * (1 - RTOL)
    except NotPercolatingError:
        assert not spans(n, np.delete(a, k), np.delete(b, k), [s], [d])


@PROPS
@given(net=network_and_pair(), log_c=st.floats(-6.0, 6.0))
def test_solve_network_scaling_every_resistance_scales_r(net, log_c):
    """R(c r) = c R(r) for every c > 0 (homogeneity)."""
    n, a, b, g, s, d = net
    c = 10.0**log_c
    assert _r(n, a, b, g / c, s, d) == pytest.approx(c * _r(n, a, b, g, s, d), rel=RTOL)


@PROPS
@given(net=network_and_pair(), shift=st.floats(-3000.0, 300.0))
def test_solve_network_log_conductances_shift_exactly(net, shift):
    """Given as logs, conductances of any size (e^-3000 S underflows) shift ln G by the same amount;
    the logs and the plain values give the same answer."""
    n, a, b, g, s, d = net
    ln_g = np.log(g)
    plain = solve_network(n, a, b, source=[s], drain=[d], conductance_S=g)
    logs = solve_network(n, a, b, source=[s], drain=[d], ln_conductance=ln_g)
    shifted = solve_network(n, a, b, source=[s], drain=[d], ln_conductance=ln_g + shift)
    assert logs.ln_conductance == pytest.approx(plain.ln_conductance, abs=RTOL)
    # abs on ln G is a relative tolerance on G
    assert shifted.ln_conductance == pytest.approx(plain.ln_conductance + shift, abs=RTOL)


@PROPS
@given(net=network_and_pair(), voltage=st.floats(1e-3, 1e3), sign=st.sampled_from([-1.0, 1.0]))
def test_solve_network_is_linear_in_the_voltage(net, voltage, sign):
    """G does not depend on V; potentials and currents scale with V."""
    n, a, b, g, s, d = net
    v = sign * voltage
    unit = solve_network(n, a, b, source=[s], drain=[d], conductance_S=g)
    res = solve_network(n, a, b, source=[s], drain=[d], conductance_S=g, voltage_V=v)
    assert res.conductance_S == pytest.approx(unit.conductance_S, rel=RTOL)
    assert res.current_A == pytest.approx(v * unit.current_A, rel=RTOL)
    np.testing.assert_allclose(res.potentials_V, v * unit.potentials_V, rtol=RTOL, atol=RTOL * abs(v))


# --- Kirchhoff, Foster, Tellegen ----------------------------------------------------------------

@st.composite
def network_and_electrodes(draw, **kwargs):
    """A connected network with two disjoint, non-empty electrodes of one or more nodes each."""
    n, a, b, g = draw(connected_networks(min_nodes=3, **kwargs))
    role = np.asarray(draw(st.lists(st.sampled_from([0, 0, 1, 2]), min_size=n, max_size=n)))
    i, j = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
    role[i], role[j] = 1, 2  # 1 source, 2 drain, 0 free
    return n, a, b, g, role == 1, role == 2


@PROPS
@given(net=network_and_electrodes())
def test_solve_network_conserves_current_at_every_free_node(net):
    """KCL: no net current at a free node; what leaves the source arrives at the drain; the
    potentials lie between the electrodes' (maximum principle); Tellegen: sum I_e dV_e = I V."""
    n, a, b, g, src, drn = net
    res = solve_network(n, a, b, source=src, drain=drn, conductance_S=g)
    i_e = res.edge_currents_A
    out = np.bincount(a, weights=i_e, minlength=n) - np.bincount(b, weights=i_e, minlength=n)
    free = ~(src | drn)
    # round-off: a few ulps of the largest conductance times the voltage (KirchhoffResult docs)
    tol = 1e-13 * g.max() * 1.0
    assert np.abs(out[free]).max(initial=0.0) <= max(tol, 1e-12 * res.current_A)
    assert res.kirchhoff_residual_A <= max(tol, 1e-12 * res.current_A)
    assert out[src].sum() == pytest.approx(res.current_A, rel=RTOL)
    assert -out[drn].sum() == pytest.approx(res.current_A, rel=RTOL)
    v = res.potentials_V
    assert np.isfinite(v).all()  # the network is connected: no node is excluded
    assert (v[src] == 1.0).all()
    assert (v[drn] == 0.0).all()
    assert (v >= -1e-12).all()
    assert (v <= 1 + 1e-12).all()
    assert float(np.dot(i_e, v[a] - v[b])) == pytest.approx(res.current_A * 1.0, rel=RTOL)


@PROPS
@given(net=connected_networks(max_nodes=7, max_extra=6))
def test_solve_network_foster_theorem(net):
    """Foster: sum over the edges of g_e R_eff(ends of e) = N - 1 for a connected network
    (PHYSICS.md V7); parallel edges count one by one."""
    n, a, b, g = net
    total = math.fsum(ge * _r(n, a, b, g, int(u), int(v)) for u, v, ge in zip(a, b, g, strict=True))
    assert total == pytest.approx(n - 1, rel=RTOL)


# --- invariances --------------------------------------------------------------------------------

@PROPS
@given(net=network_and_electrodes(), data=st.data())
def test_solve_network_relabelling_nodes_and_reordering_edges_changes_nothing(net, data):
    """Node ids and edge order (and orientation) are arbitrary; G and the potentials follow."""
    n, a, b, g, src, drn = net
    perm = np.asarray(data.draw(st.permutations(range(n))))
    order = np.asarray(data.draw(st.permutations(range(a.size))))
    res = solve_network(n, a, b, source=src, drain=drn, conductance_S=g)
    src2, drn2 = np.zeros(n, bool), np.zeros(n, bool)
    src2[perm[src]], drn2[perm[drn]] = True, True
    moved = solve_network(n, perm[b[order]], perm[a[order]], source=src2, drain=drn2, conductance_S=g[order])
    assert moved.conductance_S == pytest.approx(res.conductance_S, rel=RTOL)
    np.testing.assert_allclose(moved.potentials_V[perm], res.potentials_V, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(-moved.edge_currents_A, res.edge_currents_A[order], rtol=1e-7,
                               atol=1e-12 * res.current_A)


@PROPS
@given(net=network_and_electrodes())
def test_solve_network_bus_bar_equals_the_contracted_network(net):
    """An electrode of several nodes is a perfect conductor: the same G as the network with
    each electrode contracted into one node (edges inside an electrode drop out)."""
    n, a, b, g, src, drn = net
    res = solve_network(n, a, b, source=src, drain=drn, conductance_S=g)
    merged = np.arange(n)
    merged[src], merged[drn] = n, n + 1  # two new nodes stand for the electrodes
    ca, cb = merged[a], merged[b]
    contracted = solve_network(n + 2, ca, cb, source=[n], drain=[n + 1], conductance_S=g)
    assert contracted.conductance_S == pytest.approx(res.conductance_S, rel=RTOL)
    exact = _exact_resistance(n + 2, ca, cb, g, n, n + 1)
    assert res.resistance_ohm == pytest.approx(float(exact), rel=RTOL)


@PROPS
@given(net=network_and_pair(), data=st.data())
def test_solve_network_self_loops_open_edges_and_split_parallel_edges_change_nothing(net, data):
    """Self-loops (any g) and open edges (g = 0) carry no current; an edge split into parallel
    edges whose conductances add up to it is the same edge."""
    n, a, b, g, s, d = net
    base = _r(n, a, b, g, s, d)
    loops = np.asarray(data.draw(st.lists(st.integers(0, n - 1), max_size=4)), dtype=np.int64)
    opened = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=4))
    oa = np.asarray([u for u, _ in opened], dtype=np.int64)
    ob = np.asarray([v for _, v in opened], dtype=np.int64)
    k = data.draw(st.integers(0, g.size - 1))
    part = data.draw(st.floats(0.01, 0.99))
    a2 = np.concatenate([a, loops, oa, [b[k]]])
    b2 = np.concatenate([b, loops, ob, [a[k]]])
    g2 = np.concatenate([g, np.full(loops.size, 5.0), np.zeros(oa.size), [g[k] * (1 - part)]])
    g2[k] = g[k] * part
    assert _r(n, a2, b2, g2, s, d) == pytest.approx(base, rel=RTOL)


@PROPS
@given(net=network_and_pair(max_nodes=8), island=connected_networks(max_nodes=5, max_extra=3),
       dead_end=st.floats(1e-3, 1e3), data=st.data())
def test_solve_network_islands_and_dead_ends_do_not_change_r(net, island, dead_end, data):
    """Components that touch no electrode are excluded (NaN potentials) and counted; a dead end
    carries no current and sits at the potential of the node it hangs from."""
    n, a, b, g, s, d = net
    m, ia, ib, ig = island
    hang = data.draw(st.integers(0, n - 1))
    tip = n + m  # the dead end's node
    a2 = np.concatenate([a, ia + n, [hang]])
    b2 = np.concatenate([b, ib + n, [tip]])
    g2 = np.concatenate([g, ig, [dead_end]])
    res = solve_network(n + m + 1, a2, b2, source=[s], drain=[d], conductance_S=g2)
    base = solve_network(n, a, b, source=[s], drain=[d], conductance_S=g)
    assert res.conductance_S == pytest.approx(base.conductance_S, rel=RTOL)
    assert res.n_nodes_excluded == m
    assert res.n_nodes_spanning == n + 1
    assert np.isnan(res.potentials_V[n:n + m]).all()
    assert (res.edge_currents_A[a.size:a.size + ia.size] == 0).all()
    assert res.potentials_V[tip] == pytest.approx(res.potentials_V[hang], abs=1e-12)
    assert abs(res.edge_currents_A[-1]) <= 1e-12 * res.current_A + 1e-13 * dead_end


@PROPS
@given(net=network_and_electrodes(max_nodes=10), sets=st.lists(st.tuples(st.floats(-2, 2), st.booleans()),
                                                                 min_size=1, max_size=4), data=st.data())
def test_network_solver_sweep_matches_fresh_solves(net, sets, data):
    """A NetworkSolver reused over several sets of conductances (some edges opening and closing,
    as in a sweep) gives what a fresh solve gives each time, or NotPercolatingError when it does."""
    n, a, b, g, src, drn = net
    solver = NetworkSolver(n, a, b, source=src, drain=drn)
    for shift, open_some in sets:
        gk = g * 10.0**shift
        if open_some:
            gk = np.where(np.asarray(data.draw(st.lists(st.booleans(), min_size=g.size, max_size=g.size))), 0.0, gk)
        try:
            fresh = solve_network(n, a, b, source=src, drain=drn, conductance_S=gk)
        except NotPercolatingError:
            with pytest.raises(NotPercolatingError):
                solver.solve(conductance_S=gk)
            continue
        again = solver.solve(conductance_S=gk)
        assert again.conductance_S == pytest.approx(fresh.conductance_S, rel=RTOL)
        assert again.ln_bottleneck == fresh.ln_bottleneck
        assert again.n_nodes_excluded == fresh.n_nodes_excluded


@PROPS
@given(net=network_and_electrodes(max_nodes=12, max_extra=20), xy=st.integers(0, 2**32 - 1))
def test_solve_network_answer_does_not_depend_on_backend_or_order(net, xy):
    """SuperLU and CHOLMOD, the default order and nested dissection by coordinates, and the
    median first guess of the bottleneck search all give the same G (small networks take the
    large-network code paths here by lowering their thresholds)."""
    n, a, b, g, src, drn = net
    base = NetworkSolver(n, a, b, source=src, drain=drn, backend="superlu").solve(conductance_S=g)
    if transport._cholmod() is not None:
        ch = NetworkSolver(n, a, b, source=src, drain=drn, backend="cholmod").solve(conductance_S=g)
        assert ch.conductance_S == pytest.approx(base.conductance_S, rel=RTOL)
    coords = np.random.default_rng(xy).random((n, 2))
    with mock.patch.object(transport, "DISSECTION_MIN_NODES", 0), \
            mock.patch.object(transport, "MEDIAN_BOUND_MIN_EDGES", 0):
        other = solve_network(n, a, b, source=src, drain=drn, conductance_S=g, coordinates=coords)
    assert other.conductance_S == pytest.approx(base.conductance_S, rel=RTOL)
    assert other.ln_bottleneck == base.ln_bottleneck


@PROPS
@given(net=network_and_electrodes(), ids=st.lists(st.integers(-10**6, 10**6), min_size=12, max_size=12, unique=True),
       width=st.floats(1e-7, 1e-5), length=st.floats(1e-7, 1e-5))
def test_solve_grain_network_takes_any_unique_grain_ids(net, ids, width, length):
    """Grain ids are arbitrary unique integers in any order: the same G as on node indices, and
    R_sq = R W / L."""
    n, a, b, g, src, drn = net
    gid = np.asarray(ids[:n], dtype=np.int64)
    el = Electrodes(source_ids=gid[src], drain_ids=gid[drn], width_m=width, length_m=length, direction="x")
    res, r_sq = solve_grain_network(gid, gid[a], gid[b], el, conductance_S=g)
    base = solve_network(n, a, b, source=src, drain=drn, conductance_S=g)
    assert res.conductance_S == pytest.approx(base.conductance_S, rel=RTOL)
    assert r_sq == pytest.approx(res.resistance_ohm * width / length, rel=1e-12)
    # node k of the result is sorted(grain_ids)[k]
    np.testing.assert_allclose(res.potentials_V, base.potentials_V[np.argsort(gid)], atol=1e-12)


# --- wide dynamic range: the clipping window ----------------------------------------------------

@PROPS
@given(net=network_and_pair(max_nodes=8, max_extra=10), data=st.data())
def test_solve_network_clipping_changes_g_by_at_most_n_edges_e_minus_18(net, data):
    """Conductances over 50 e-folds (e^+-25) are clipped to e^+-18 around the bottleneck; G stays
    within the documented bound of the exact value.  Each clipped edge moves G by at most
    e^-18 g* (Rayleigh: dG/dg_e = (dV_e / V)^2 <= 1) and G >= g* / (N - 1) (the bottleneck path),
    hence |dG| / G <= N_edges (N - 1) e^-18."""
    n, a, b, _, s, d = net
    ln_g = np.asarray(data.draw(st.lists(st.floats(-25.0, 25.0), min_size=a.size, max_size=a.size)))
    res = solve_network(n, a, b, source=[s], drain=[d], ln_conductance=ln_g)
    exact = 1.0 / float(_exact_resistance(n, a, b, np.exp(ln_g), s, d))
    bound = a.size * (n - 1) * math.exp(-CLIP_LN) + RTOL
    assert res.conductance_S == pytest.approx(exact, rel=bound)


# --- bottleneck and red bonds against brute force -----------------------------------------------

@st.composite
def any_networks(draw):
    """Random multigraphs, connected or not, with self-loops, open edges and ln g in [-12, 12]."""
    n = draw(st.integers(2, 9))
    m = draw(st.integers(0, 20))
    a = np.asarray(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=np.int64)
    b = np.asarray(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=np.int64)
    levels = draw(st.lists(st.sampled_from([-np.inf, -3.0, 0.0, 2.5, 7.0]) | st.floats(-12, 12),
                           min_size=m, max_size=m))
    role = np.asarray(draw(st.lists(st.sampled_from([0, 0, 1, 2]), min_size=n, max_size=n)))
    i, j = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
    role[i], role[j] = 1, 2
    return n, a, b, np.asarray(levels, dtype=np.float64), role == 1, role == 2


def _spans_above(n, a, b, ln_g, src, drn, level) -> bool:
    keep = ln_g >= level
    return spans(n, a[keep], b[keep], src, drn)


@MANY
@given(net=any_networks())
@example(net=(3, np.array([0, 1]), np.array([1, 2]), np.array([0.0, -1.0]), np.array([True, False, False]),
              np.array([False, False, True])))
def test_bottleneck_is_the_maximin_level_and_percolation_is_decided_by_connectivity(net):
    """ln g* = the largest level whose edges (ln g >= level) still join the electrodes, found by
    trying every level; -inf, spans() False and NotPercolatingError when no level does."""
    n, a, b, ln_g, src, drn = net
    star = bottleneck_ln_conductance(n, a, b, ln_g, src, drn)
    finite = np.isfinite(ln_g) & (a != b)
    levels = sorted(set(ln_g[finite].tolist()), reverse=True)
    brute = next((lv for lv in levels if _spans_above(n, a, b, ln_g, src, drn, lv)), -np.inf)
    assert star == brute
    joined = spans(n, a[finite], b[finite], src, drn)
    assert joined == (star > -np.inf)
    if not joined:
        with pytest.raises(NotPercolatingError, match="does not percolate"):
            solve_network(n, a, b, source=src, drain=drn, ln_conductance=ln_g)
        assert red_bonds(n, a, b, ln_g, src, drn).size == 0
    else:
        res = solve_network(n, a, b, source=src, drain=drn, ln_conductance=ln_g)
        assert res.ln_bottleneck == star
        # the strongest path's weakest edge bounds G: g* / (N - 1) <= G <= (edges at the source)
        assert res.ln_conductance >= star - math.log(n - 1) - RTOL


@MANY
@given(net=any_networks())
def test_red_bonds_are_exactly_the_critical_edges_whose_removal_disconnects(net):
    """Red bonds = the edges of the critical cluster (ln g >= ln g*) whose removal alone
    disconnects the electrodes, by brute force over every critical edge."""
    n, a, b, ln_g, src, drn = net
    star = bottleneck_ln_conductance(n, a, b, ln_g, src, drn)
    red = red_bonds(n, a, b, ln_g, src, drn)
    assume(star > -np.inf)
    critical = np.flatnonzero((ln_g >= star) & (a != b))
    brute = []
    for k in critical:
        keep = (ln_g >= star) & (a != b)
        keep[k] = False
        if not spans(n, a[keep], b[keep], src, drn):
            brute.append(int(k))
    assert red.tolist() == brute
    at_star = np.flatnonzero((ln_g == star) & (a != b))
    if at_star.size == 1:  # a unique bottleneck edge is always red (the edges above it do not span)
        assert at_star[0] in red


# --- duality on random planar networks ----------------------------------------------------------

@PROPS
@given(n=st.integers(4, 20), seed=st.integers(0, 2**32 - 1), decades=st.floats(0.0, 4.0))
@example(n=4, seed=2, decades=0.0)  # an edge joins the electrodes directly: the product was 4.27
def test_check_duality_of_random_planar_networks(n, seed, decades):
    """Delaunay network of random points, electrodes the leftmost and rightmost points:
    G * G_dual = 1 (Keller-Dykhne, PHYSICS.md 4.5)."""
    from scipy.spatial import Delaunay

    rng = np.random.default_rng(seed)
    pts = rng.random((n, 2))
    tri = Delaunay(pts).simplices
    e = np.unique(np.sort(np.vstack([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [0, 2]]]), axis=1), axis=0)
    g = 10.0 ** rng.uniform(-decades, decades, len(e))
    check = check_duality(n, e[:, 0], e[:, 1], source=[int(np.argmin(pts[:, 0]))],
                          drain=[int(np.argmax(pts[:, 0]))], conductance_S=g)
    assert check.product == pytest.approx(1.0, abs=RTOL)


# --- errors -------------------------------------------------------------------------------------

@PROPS
@given(left=connected_networks(max_nodes=6), right=connected_networks(max_nodes=6), data=st.data())
def test_disconnected_network_raises_not_percolating(left, right, data):
    """Source in one component, drain in another: NotPercolatingError (a MorphoError and a
    ValueError), never a singular-matrix error or a zero conductance."""
    n1, a1, b1, g1 = left
    n2, a2, b2, g2 = right
    n = n1 + n2
    a, b, g = np.concatenate([a1, a2 + n1]), np.concatenate([b1, b2 + n1]), np.concatenate([g1, g2])
    s = data.draw(st.integers(0, n1 - 1))
    d = data.draw(st.integers(n1, n - 1))
    assert not spans(n, a, b, [s], [d])
    assert bottleneck_ln_conductance(n, a, b, np.log(g), [s], [d]) == -np.inf
    with pytest.raises(NotPercolatingError, match="does not percolate") as info:
        solve_network(n, a, b, source=[s], drain=[d], conductance_S=g)
    assert isinstance(info.value, MorphoError)
    assert isinstance(info.value, ValueError)
    with pytest.raises(NotPercolatingError):
        NetworkSolver(n, a, b, source=[s], drain=[d]).solve(conductance_S=g)


_CORRUPTIONS = [
    "g_nan", "g_inf", "g_negative", "ln_nan", "ln_posinf", "g_and_ln", "neither", "g_short",
    "index_nan", "index_fraction", "index_inf", "index_negative", "index_too_big", "lengths",
    "source_empty", "electrodes_overlap", "source_nan", "source_out_of_range", "voltage_nan", "voltage_zero",
    "voltage_inf", "n_nodes_small",
]
_FUNCTIONS = ["solve_network", "NetworkSolver", "bottleneck_ln_conductance", "red_bonds", "check_duality",
              "solve_grain_network", "spans"]
#: What each function takes: spans has no conductances, only solves take a voltage.
_TAKES = {
    "spans": {"index_nan", "index_fraction", "index_inf", "index_negative", "index_too_big", "lengths",
              "source_nan", "source_out_of_range"},
    "bottleneck_ln_conductance": {"ln_nan", "ln_posinf", "index_nan", "index_fraction", "index_inf",
                                  "index_negative", "index_too_big", "lengths", "source_empty",
                                  "electrodes_overlap", "source_nan", "source_out_of_range", "g_short"},
    "check_duality": set(_CORRUPTIONS) - {"voltage_nan", "voltage_zero", "voltage_inf", "n_nodes_small"},
    "solve_grain_network": set(_CORRUPTIONS) - {"voltage_nan", "voltage_zero", "voltage_inf", "n_nodes_small"},
}
_TAKES["red_bonds"] = _TAKES["bottleneck_ln_conductance"]


def _corrupt_and_call(net, corruption: str, function: str) -> None:
    """Spoil one input of a valid network (`corruption`), call `function`, expect InputError."""
    n, a, b, g, s, d = net
    a = a.astype(np.float64)
    source, drain = np.array([s], dtype=np.float64), np.array([d])
    kw: dict = {"conductance_S": g.copy()}
    voltage = 1.0
    if corruption == "g_nan":
        kw["conductance_S"][0] = np.nan
    elif corruption == "g_inf":
        kw["conductance_S"][0] = np.inf
    elif corruption == "g_negative":
        kw["conductance_S"][0] = -1.0
    elif corruption == "ln_nan":
        kw = {"ln_conductance": np.log(g)}
        kw["ln_conductance"][0] = np.nan
    elif corruption == "ln_posinf":
        kw = {"ln_conductance": np.log(g)}
        kw["ln_conductance"][0] = np.inf
    elif corruption == "g_and_ln":
        kw["ln_conductance"] = np.log(g)
    elif corruption == "neither":
        kw = {}
    elif corruption == "g_short":
        kw["conductance_S"] = g[:-1]
    elif corruption == "index_nan":
        a[0] = np.nan
    elif corruption == "index_fraction":
        a[0] += 0.5
    elif corruption == "index_inf":
        a[0] = np.inf
    elif corruption == "index_negative":
        a[0] = -1
    elif corruption == "index_too_big":
        a[0] = n
    elif corruption == "lengths":
        a = a[:-1]
    elif corruption == "source_empty":
        source = np.zeros(0)
    elif corruption == "electrodes_overlap":
        source = np.array([s, d], dtype=np.float64)
    elif corruption == "source_nan":
        source = np.array([np.nan])
    elif corruption == "source_out_of_range":
        source = np.array([n + 3.0])
    elif corruption == "voltage_nan":
        voltage = np.nan
    elif corruption == "voltage_zero":
        voltage = 0.0
    elif corruption == "voltage_inf":
        voltage = -np.inf
    elif corruption == "n_nodes_small":
        n = 1

    def ln_g():  # what the functions that take logs only get (computed here: log(-1) would warn)
        return kw["ln_conductance"] if "ln_conductance" in kw else np.log(kw["conductance_S"])

    with pytest.raises(MorphoError) as info:  # noqa: PT012 (one call, chosen by `function`)
        if function == "solve_network":
            solve_network(n, a, b, source=source, drain=drain, voltage_V=voltage, **kw)
        elif function == "NetworkSolver":
            NetworkSolver(n, a, b, source=source, drain=drain).solve(voltage_V=voltage, **kw)
        elif function == "bottleneck_ln_conductance":
            bottleneck_ln_conductance(n, a, b, ln_g(), source, drain)
        elif function == "red_bonds":
            red_bonds(n, a, b, ln_g(), source, drain)
        elif function == "check_duality":
            check_duality(n, a, b, source=source, drain=drain, **kw)
        elif function == "spans":
            spans(n, a, b, source, drain)
        else:
            ids = np.arange(10, 10 + n)
            el = Electrodes(source_ids=source + 10, drain_ids=drain + 10, width_m=1e-6, length_m=1e-6, direction="x")
            solve_grain_network(ids, a + 10, b + 10, el, **kw)
    assert isinstance(info.value, InputError)


@PROPS
@given(net=network_and_pair(max_nodes=6), corruption=st.sampled_from(_CORRUPTIONS),
       function=st.sampled_from(_FUNCTIONS))
@example(net=(3, np.array([0, 1]), np.array([1, 2]), np.ones(2), 0, 2), corruption="index_nan",
         function="solve_network")  # was a bare ValueError from the int cast
@example(net=(3, np.array([0, 1]), np.array([1, 2]), np.ones(2), 0, 2), corruption="index_fraction",
         function="solve_network")  # node 1.5 was silently truncated to node 1
@example(net=(3, np.array([0, 1]), np.array([1, 2]), np.ones(2), 0, 2), corruption="source_nan",
         function="solve_network")  # was a RuntimeWarning from the cast, then a node -2^63
@example(net=(3, np.array([0, 1]), np.array([1, 2]), np.ones(2), 0, 2), corruption="index_too_big",
         function="spans")  # was SciPy's ValueError
@example(net=(3, np.array([0, 1]), np.array([1, 2]), np.ones(2), 0, 2), corruption="electrodes_overlap",
         function="bottleneck_ln_conductance")  # returned the weakest edge's ln g
@example(net=(3, np.array([0, 1]), np.array([1, 2]), np.ones(2), 0, 2), corruption="ln_nan",
         function="red_bonds")  # a NaN edge was silently taken as open
def test_bad_input_raises_a_morpho_error(net, corruption, function):
    """NaN, inf, negative, fractional or out-of-range values, and malformed electrodes, raise
    InputError (a MorphoError) from every public entry point, never another exception."""
    assume(corruption in _TAKES.get(function, set(_CORRUPTIONS)))
    _corrupt_and_call(net, corruption, function)


@pytest.mark.parametrize(("function", "corruption"),
                         [(f, c) for f in _FUNCTIONS for c in _CORRUPTIONS if c in _TAKES.get(f, set(_CORRUPTIONS))])
def test_bad_input_raises_a_morpho_error_every_case(function, corruption):
    """Every (entry point, bad value) pair once, on a small fixed network."""
    net = (5, np.array([0, 1, 2, 3, 0]), np.array([1, 2, 3, 4, 2]), np.array([1.0, 2.0, 0.5, 3.0, 1.5]), 0, 4)
    _corrupt_and_call(net, corruption, function)


@PROPS
@given(corruption=st.sampled_from(["x_nan", "y_inf", "empty", "lengths", "distance_nan", "distance_zero"]),
       n=st.integers(3, 12))
@example(corruption="x_nan", n=3)  # was numpy's "zero-size array to reduction" ValueError
@example(corruption="empty", n=3)  # likewise
def test_electrodes_from_table_bad_input_raises_input_error(corruption, n):
    """Non-finite or missing centres, or a bad neighbour distance, raise InputError."""
    x, y, ids = np.arange(n, dtype=float), np.zeros(n), np.arange(1, n + 1)
    distance = 1.0
    if corruption == "x_nan":
        x[n // 2] = np.nan
    elif corruption == "y_inf":
        y[0] = np.inf
    elif corruption == "empty":
        x, y, ids = x[:0], y[:0], ids[:0]
    elif corruption == "lengths":
        y = y[:-1]
    elif corruption == "distance_nan":
        distance = np.nan
    else:
        distance = 0.0
    with pytest.raises(InputError):
        electrodes_from_table(x, y, ids, neighbour_distance_m=distance)


@PROPS
@given(corruption=st.sampled_from(["px_nan", "px_zero", "px_negative", "px_inf", "empty", "float", "negative"]),
       width=st.integers(4, 30))
@example(corruption="px_nan", width=4)  # gave NaN width and length silently
@example(corruption="empty", width=4)  # was an IndexError
@example(corruption="float", width=4)  # was an IndexError
def test_electrodes_from_labels_bad_input_raises_input_error(corruption, width):
    """A bad pixel size, an empty image or non-integer or negative labels raise InputError."""
    labels = np.zeros((3, width), dtype=np.int32)
    labels[:, 0], labels[:, -1] = 1, 2
    px = 1e-9
    if corruption == "px_nan":
        px = np.nan
    elif corruption == "px_zero":
        px = 0.0
    elif corruption == "px_negative":
        px = -1e-9
    elif corruption == "px_inf":
        px = np.inf
    elif corruption == "empty":
        labels = labels[:, :0]
    elif corruption == "float":
        labels = labels + 0.5
    else:
        labels[1, 1] = -1
    with pytest.raises(InputError):
        electrodes_from_labels(labels, px)
