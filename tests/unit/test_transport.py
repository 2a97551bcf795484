"""Kirchhoff solver (morpho.transport) against the exact cases of PHYSICS.md section 5."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _networks import delaunay as _delaunay
from morpho.errors import InputError, NotPercolatingError
from morpho.transport import (
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


def _lattice(nx: int, ny: int, *, diagonal: bool = False, periodic_y: bool = False):
    """Square lattice, node (i, j) = i * ny + j (i along x, the current); bonds and bus bars (V8-V15)."""
    ids = np.arange(nx * ny).reshape(nx, ny)
    first = [ids[:-1, :].ravel()]
    second = [ids[1:, :].ravel()]
    kind = [np.zeros(ids[:-1, :].size, dtype=int)]  # 0 horizontal, 1 vertical, 2 diagonal
    vert_a, vert_b = ids[:, :-1], ids[:, 1:]
    if periodic_y:
        vert_a, vert_b = ids, np.roll(ids, -1, axis=1)
    first.append(vert_a.ravel())
    second.append(vert_b.ravel())
    kind.append(np.ones(vert_a.size, dtype=int))
    if diagonal:
        da, db = ids[:-1, :], np.roll(ids, -1, axis=1)[1:, :]
        if not periodic_y:
            da, db = da[:, :-1], db[:, :-1]
        first.append(da.ravel())
        second.append(db.ravel())
        kind.append(np.full(da.size, 2))
    return (np.concatenate(first), np.concatenate(second), np.concatenate(kind),
            ids[0, :], ids[-1, :])


def test_uniform_square_lattice_v8():
    a, b, _, s, d = _lattice(11, 7)
    res = solve_network(77, a, b, source=s, drain=d, conductance_S=np.full(a.size, 2.5e-5))
    assert res.conductance_S == pytest.approx(1.75e-5, rel=1e-10)
    assert res.resistance_ohm == pytest.approx(1 / 1.75e-5, rel=1e-10)
    assert res.n_nodes_excluded == 0


def test_square_lattice_with_diagonals_periodic_in_y_v8b():
    a, b, _, s, d = _lattice(21, 16, diagonal=True, periodic_y=True)
    res = solve_network(21 * 16, a, b, source=s, drain=d, conductance_S=np.ones(a.size))
    assert res.conductance_S == pytest.approx(1.6, rel=1e-10)


def test_kirchhoff_invariants_over_six_decades_v9():
    rng = np.random.default_rng(9)
    nx, ny = 15, 12
    a, b, _, s, d = _lattice(nx, ny)
    g = 10.0 ** rng.uniform(-6, 0, a.size)
    res = solve_network(nx * ny, a, b, source=s, drain=d, conductance_S=g)
    current = res.current_A
    assert res.kirchhoff_residual_A / current < 1e-10
    # I_S + I_D = 0: what leaves the source arrives at the drain.
    into_drain = res.edge_currents_A[np.isin(b, d)].sum() - res.edge_currents_A[np.isin(a, d)].sum()
    assert into_drain == pytest.approx(current, rel=1e-9)
    # Tellegen: dissipated power equals I * V.
    dv = res.potentials_V[a] - res.potentials_V[b]
    assert (g * dv**2).sum() == pytest.approx(current * 1.0, rel=1e-9)
    # Reciprocity, homogeneity, Rayleigh monotonicity.
    swapped = solve_network(nx * ny, a, b, source=d, drain=s, conductance_S=g)
    assert swapped.conductance_S == pytest.approx(res.conductance_S, rel=1e-9)
    scaled = solve_network(nx * ny, a, b, source=s, drain=d, conductance_S=7.0 * g)
    assert scaled.conductance_S == pytest.approx(7.0 * res.conductance_S, rel=1e-9)
    raised = g.copy()
    raised[rng.integers(0, g.size, 20)] *= 10.0
    assert solve_network(nx * ny, a, b, source=s, drain=d, conductance_S=raised).conductance_S >= res.conductance_S


def test_series_and_parallel():
    g = np.array([1.0, 2.0, 4.0])
    chain = solve_network(4, [0, 1, 2], [1, 2, 3], source=[0], drain=[3], conductance_S=g)
    assert chain.conductance_S == pytest.approx(1 / (1 / g).sum(), rel=1e-12)
    assert chain.potentials_V == pytest.approx([1.0, 1 - 4 / 7, 1 - 6 / 7, 0.0], rel=1e-12)
    parallel = solve_network(2, [0, 0, 0], [1, 1, 1], source=[0], drain=[1], conductance_S=g)
    assert parallel.conductance_S == pytest.approx(7.0, rel=1e-12)


def _dual(nx: int, ny: int, a, b, kind, g):
    """The explicit dual of PHYSICS.md V11: faces (i, j) plus bottom and top terminals."""
    face = np.arange((nx - 1) * (ny - 1)).reshape(nx - 1, ny - 1)
    bottom, top = face.size, face.size + 1
    da, db, dg = [], [], []
    for u, _v, k, gg in zip(a, b, kind, g, strict=True):
        i, j = divmod(int(u), ny)
        if k == 0:  # horizontal bond (i, j)-(i+1, j)
            lower = bottom if j == 0 else face[i, j - 1]
            upper = top if j == ny - 1 else face[i, j]
        elif 1 <= i <= nx - 2:  # interior vertical bond (i, j)-(i, j+1)
            lower, upper = face[i - 1, j], face[i, j]
        else:  # vertical bonds of the bus bars are shorted: no dual bond
            continue
        da.append(lower)
        db.append(upper)
        dg.append(1.0 / gg)
    return face.size + 2, np.array(da), np.array(db), np.array(dg), bottom, top


def test_exact_duality_v11():
    rng = np.random.default_rng(11)
    nx, ny = 40, 25
    a, b, kind, s, d = _lattice(nx, ny)
    g = 10.0 ** rng.uniform(-4, 4, a.size)
    res = solve_network(nx * ny, a, b, source=s, drain=d, conductance_S=g)
    n_dual, da, db, dg, bottom, top = _dual(nx, ny, a, b, kind, g)
    dual = solve_network(n_dual, da, db, source=[bottom], drain=[top], conductance_S=dg)
    assert res.conductance_S * dual.conductance_S == pytest.approx(1.0, abs=1e-9)


def test_conductances_far_below_the_float_range_via_logs():
    """A chain of three e^-2000 S junctions: G = e^-2000 / 3 exactly, though exp underflows."""
    res = solve_network(4, [0, 1, 2], [1, 2, 3], source=[0], drain=[3], ln_conductance=np.full(3, -2000.0))
    assert res.ln_conductance == pytest.approx(-2000.0 - np.log(3.0), abs=1e-12)
    assert res.conductance_S == 0.0
    assert res.resistance_ohm == float("inf")


def test_activated_network_follows_the_bottleneck_barrier_v16():
    """ln G = -E*/T + O(ln N): the apparent activation energy between T = 0.1 and 0.05 is E*."""
    rng = np.random.default_rng(16)
    n = 48
    a, b, _, s, d = _lattice(n + 1, n)
    energy = rng.uniform(0.0, 10.0, a.size)
    ln_g = {t: solve_network((n + 1) * n, a, b, source=s, drain=d, ln_conductance=-energy / t).ln_conductance
            for t in (0.1, 0.05)}
    apparent = -(ln_g[0.05] - ln_g[0.1]) / (1 / 0.05 - 1 / 0.1)
    star = -solve_network((n + 1) * n, a, b, source=s, drain=d, ln_conductance=-energy).ln_bottleneck
    assert apparent == pytest.approx(star, rel=0.02)
    assert 4.0 < star < 6.0  # the median of U(0, 10) on the square lattice (p_c = 1/2)


def test_components_off_the_path_are_excluded_and_counted():
    # 0-1-2 spans, with a dead end 0-5; the island 3-4 touches neither electrode.
    res = solve_network(6, [0, 1, 3, 0], [1, 2, 4, 5], source=[0], drain=[2], conductance_S=[1.0, 1.0, 1.0, 1.0])
    assert res.conductance_S == pytest.approx(0.5)
    assert res.n_nodes_spanning == 4
    assert res.n_nodes_excluded == 2
    assert np.isnan(res.potentials_V[[3, 4]]).all()
    assert res.potentials_V[5] == pytest.approx(1.0)  # a dead end carries no current
    assert res.edge_currents_A[3] == pytest.approx(0.0)


def test_no_spanning_path_is_a_clear_error():
    with pytest.raises(NotPercolatingError, match="does not percolate"):
        solve_network(4, [0, 2], [1, 3], source=[0], drain=[3], conductance_S=[1.0, 1.0])
    with pytest.raises(NotPercolatingError):
        solve_network(3, [0, 1], [1, 2], source=[0], drain=[2], conductance_S=[1.0, 0.0])


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"conductance_S": [1.0, -1.0]}, ">= 0"),
        ({"conductance_S": [1.0, np.nan]}, ">= 0"),
        ({"conductance_S": [1.0]}, "1 conductances for 2 edges"),
        ({"conductance_S": [1.0, 1.0], "ln_conductance": [0.0, 0.0]}, "exactly one"),
        ({"ln_conductance": [0.0, np.inf]}, "finite or -inf"),
    ],
)
def test_bad_conductances_are_named(kwargs, needle):
    with pytest.raises(InputError, match=needle):
        solve_network(3, [0, 1], [1, 2], source=[0], drain=[2], **kwargs)


def test_electrodes_must_be_disjoint_and_not_empty():
    with pytest.raises(InputError, match="disjoint"):
        solve_network(3, [0, 1], [1, 2], source=[0, 1], drain=[1, 2], conductance_S=[1.0, 1.0])
    with pytest.raises(InputError, match="at least one node"):
        solve_network(3, [0, 1], [1, 2], source=np.zeros(3, bool), drain=[2], conductance_S=[1.0, 1.0])
    with pytest.raises(InputError, match="node indices"):
        solve_network(3, [0, 1], [1, 5], source=[0], drain=[2], conductance_S=[1.0, 1.0])


def test_keller_dykhne_geometric_mean_v12():
    """Bonds g1 or g2 with probability 1/2 on the self-dual lattice: E[ln sigma] = ln sqrt(g1 g2)."""
    rng = np.random.default_rng(12)
    n, samples = 32, 300
    a, b, _, s, d = _lattice(n + 1, n)
    ln_sigma = [solve_network((n + 1) * n, a, b, source=s, drain=d,
                              conductance_S=np.where(rng.random(a.size) < 0.5, 10.0, 1.0)).ln_conductance
                for _ in range(samples)]
    sem = np.std(ln_sigma, ddof=1) / np.sqrt(samples)
    assert abs(np.mean(ln_sigma) - np.log(np.sqrt(10.0))) < 4 * sem


def test_bond_percolation_spans_half_the_time_at_p_half_v13():
    rng = np.random.default_rng(13)
    n, samples = 32, 2000
    a, b, _, s, d = _lattice(n + 1, n)
    hits = 0
    for _ in range(samples):
        on = rng.random(a.size) < 0.5
        hits += spans((n + 1) * n, a[on], b[on], s, d)
    assert abs(hits / samples - 0.5) < 4 * np.sqrt(0.25 / samples)


def _grain_grid(nx: int, ny: int, size: int = 10, gap: int = 2):
    """Square grains of `size` px on a `size + gap` px pitch filling a field edge to edge."""
    pitch = size + gap
    labels = np.zeros((ny * pitch - gap, nx * pitch - gap), dtype=np.int32)
    k = 0
    for j in range(ny):
        for i in range(nx):
            k += 1
            labels[j * pitch:j * pitch + size, i * pitch:i * pitch + size] = k
    return labels


def test_electrodes_from_labels_are_the_grains_on_opposite_edges():
    labels = _grain_grid(6, 4)  # ids row by row: 1..6, 7..12, ...
    el = electrodes_from_labels(labels, 2e-9)
    assert el.source_ids.tolist() == [1, 7, 13, 19]
    assert el.drain_ids.tolist() == [6, 12, 18, 24]
    assert el.width_m == pytest.approx(labels.shape[0] * 2e-9)
    assert el.length_m == pytest.approx((5 * 12 - 10) * 2e-9)  # inner edges: x = 10 to x = 60
    top = electrodes_from_labels(labels, 2e-9, direction="y")
    assert top.source_ids.tolist() == [1, 2, 3, 4, 5, 6]
    assert top.width_m == pytest.approx(labels.shape[1] * 2e-9)


def test_electrodes_refuse_a_grain_that_shorts_the_film_or_a_bare_edge():
    labels = _grain_grid(3, 2)
    labels[0, :] = 1
    with pytest.raises(InputError, match="touches both"):
        electrodes_from_labels(labels, 1e-9)
    with pytest.raises(InputError, match="no grain touches"):
        electrodes_from_labels(np.pad(_grain_grid(3, 2), ((0, 0), (3, 0))), 1e-9)
    with pytest.raises(InputError, match="direction"):
        electrodes_from_labels(_grain_grid(3, 2), 1e-9, direction="z")


def test_sheet_resistance_of_a_grain_lattice_from_its_tables():
    """Grid of grains, 4-neighbour junctions of 1 uS: R = (nx - 1) / (ny g), R_sq = R W / L."""
    nx, ny, g = 9, 6, 1e-6
    labels = _grain_grid(nx, ny)
    ids = np.arange(1, nx * ny + 1)
    grid = ids.reshape(ny, nx)
    a = np.concatenate([grid[:, :-1].ravel(), grid[:-1, :].ravel()])
    b = np.concatenate([grid[:, 1:].ravel(), grid[1:, :].ravel()])
    el = electrodes_from_labels(labels, 2e-9)
    res, r_sq = solve_grain_network(ids[::-1], a, b, el, conductance_S=np.full(a.size, g))  # ids in any order
    assert res.resistance_ohm == pytest.approx((nx - 1) / (ny * g), rel=1e-10)
    assert r_sq == pytest.approx(res.resistance_ohm * el.width_m / el.length_m, rel=1e-12)
    # Centres only (no label image): the same bands.
    yy, xx = np.divmod(ids - 1, nx)
    by_table = electrodes_from_table(xx * 24e-9, yy * 24e-9, ids, neighbour_distance_m=24e-9)
    assert sorted(by_table.source_ids.tolist()) == el.source_ids.tolist()
    assert by_table.length_m == pytest.approx((nx - 1) * 24e-9)
    with pytest.raises(InputError, match="grain 999"):
        solve_grain_network(ids, np.r_[a, 999], np.r_[b, 1], el, conductance_S=np.full(a.size + 1, g))



def test_a_random_planar_network_satisfies_kirchhoff_to_round_off():
    """Delaunay network of 3000 grains, conductances over 20 e-folds (the sparse LU path)."""
    from scipy.spatial import Delaunay

    rng = np.random.default_rng(21)
    pts = rng.random((3000, 2))
    tri = Delaunay(pts).simplices
    edges = np.unique(np.sort(np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [0, 2]]]), axis=1), axis=0)
    res = solve_network(pts.shape[0], edges[:, 0], edges[:, 1], source=pts[:, 0] < 0.03, drain=pts[:, 0] > 0.97,
                        ln_conductance=rng.uniform(-20.0, 0.0, len(edges)))
    assert res.kirchhoff_residual_A / res.current_A < 1e-8
    assert res.n_nodes_excluded == 0
    inner = np.isfinite(res.potentials_V)
    assert (res.potentials_V[inner] >= -1e-12).all()
    assert (res.potentials_V[inner] <= 1 + 1e-12).all()  # maximum principle


@pytest.mark.parametrize("backend", ["superlu", "cholmod"])
def test_network_solver_reuses_its_factorisation_and_matches_a_fresh_solve(backend):
    if backend == "cholmod":
        pytest.importorskip("cvxopt")
    _, a, b, s, d, rng = _delaunay(2000, 5)
    solver = NetworkSolver(2000, a, b, source=s, drain=d, backend=backend)
    assert solver.backend == backend
    energy = rng.uniform(0, 10, a.size)
    # the same pattern, three sets of values spanning ever more decades; at T = 0.1 the clipped
    # conductances fill the whole window e^(+-18), and two factorisations agree to ~1e-7 only
    for t, tol in ((2.0, 1e-11), (0.5, 1e-9), (0.1, 1e-6)):
        ln_g = np.log(1e-5) - energy / t
        again = solver.solve(ln_conductance=ln_g)
        fresh = solve_network(2000, a, b, source=s, drain=d, ln_conductance=ln_g)
        assert again.ln_conductance == pytest.approx(fresh.ln_conductance, abs=tol)
        # the bottleneck carried over from the previous point is checked, never assumed
        assert again.ln_bottleneck == bottleneck_ln_conductance(2000, a, b, ln_g, s, d)
        assert again.kirchhoff_residual_A / again.current_A < 1e-6


def test_backends_agree_to_round_off():
    pytest.importorskip("cvxopt")
    _, a, b, s, d, rng = _delaunay(3000, 6)
    g = 10.0 ** rng.uniform(-6, 0, a.size)
    lu = NetworkSolver(3000, a, b, source=s, drain=d, backend="superlu").solve(conductance_S=g)
    ch = NetworkSolver(3000, a, b, source=s, drain=d, backend="cholmod").solve(conductance_S=g)
    assert ch.conductance_S == pytest.approx(lu.conductance_S, rel=1e-10)
    np.testing.assert_allclose(ch.potentials_V, lu.potentials_V, atol=1e-10)


def test_solver_rebuilds_its_topology_when_edges_open():
    a, b, _, s, d = _lattice(6, 5)
    solver = NetworkSolver(30, a, b, source=s, drain=d)
    g = np.ones(a.size)
    assert solver.solve(conductance_S=g).conductance_S == pytest.approx(5 / 5)
    g_open = g.copy()
    g_open[(a // 5 == 2) & (b // 5 == 3)] = 0.0  # cut every horizontal bond between columns 2 and 3
    with pytest.raises(NotPercolatingError):
        solver.solve(conductance_S=g_open)
    g_open[(a == 12) & (b == 17)] = 1.0  # one bond back
    assert solver.solve(conductance_S=g_open).conductance_S < 0.5


def test_unknown_backend_is_an_input_error():
    with pytest.raises(InputError, match="backend"):
        NetworkSolver(3, [0, 1], [1, 2], source=[0], drain=[2], backend="pardiso")


def test_bottleneck_is_exact_however_far_ln_g_spreads():
    # A chain S-1-2-D in parallel with a weaker chain: ln g ~ 1e18, one float step there is 128.
    a = np.array([0, 1, 2, 0, 4])
    b = np.array([1, 2, 3, 4, 3])
    ln_g = np.array([4e18, 3e18 + 1024.0, 5e18, 1e18, 2e18])
    assert bottleneck_ln_conductance(5, a, b, ln_g, [0], [3]) == 3e18 + 1024.0


def test_exact_duality_of_a_general_planar_network_v11():
    # the lattice of V11 over 8 decades, without the explicit dual construction
    rng = np.random.default_rng(11)
    a, b, _, s, d = _lattice(40, 25)
    check = check_duality(1000, a, b, source=s, drain=d, conductance_S=10.0 ** rng.uniform(-4, 4, a.size))
    assert check.product == pytest.approx(1.0, abs=1e-9)
    # a random planar (Delaunay) network with bands of grains as electrodes
    _, a, b, s, d, rng = _delaunay(1500, 12)
    check = check_duality(1500, a, b, source=s, drain=d, conductance_S=10.0 ** rng.uniform(-3, 3, a.size))
    assert check.product == pytest.approx(1.0, abs=1e-9)
    assert check.ln_conductance != pytest.approx(0.0, abs=0.1)  # not trivially 1 * 1


def test_duality_refuses_a_non_planar_network():
    # K5 between the electrodes
    a, b = np.triu_indices(5, 1)
    a = np.concatenate([a + 1, [0, 6]])
    b = np.concatenate([b + 1, [1, 5]])
    with pytest.raises(InputError, match="not planar"):
        check_duality(7, a, b, source=[0], drain=[6], conductance_S=np.ones(a.size))


def test_red_bonds_are_the_bridges_every_current_path_crosses():
    # S=0 -1- (1 -2- 2, and 1 -4- 2 through node 4) -2- 3=D, with a dead end 0-5
    a = [0, 1, 1, 4, 2, 5]
    b = [1, 2, 4, 2, 3, 0]
    assert red_bonds(6, a, b, np.zeros(6), [0], [3]).tolist() == [0, 4]
    # uniform lattice: no single bond carries all the current
    la, lb, _, s, d = _lattice(8, 6)
    assert red_bonds(48, la, lb, np.zeros(la.size), s, d).size == 0


def test_red_bonds_of_a_random_network_cut_the_critical_cluster():
    _, a, b, s, d, rng = _delaunay(800, 3)
    ln_g = rng.uniform(-10, 0, a.size)
    red = red_bonds(800, a, b, ln_g, s, d)
    star = bottleneck_ln_conductance(800, a, b, ln_g, s, d)
    critical = ln_g >= star
    assert red.size >= 1
    assert np.argmin(np.where(critical, ln_g, np.inf)) in red  # the bottleneck bond is red
    for k in red:
        keep = critical.copy()
        keep[k] = False
        assert not spans(800, a[keep], b[keep], s, d)
    others = np.flatnonzero(critical)[~np.isin(np.flatnonzero(critical), red)][:20]
    for k in others:  # and no other bond of the critical cluster is
        keep = critical.copy()
        keep[k] = False
        assert spans(800, a[keep], b[keep], s, d)


# --- properties on random networks (hypothesis) -----------------------------------------------

@st.composite
def _networks(draw):
    n = draw(st.integers(4, 30))
    m = draw(st.integers(n, 4 * n))
    a = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)))
    b = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)))
    ln_g = np.array(draw(st.lists(st.floats(-12, 12), min_size=m, max_size=m)))
    return n, a, b, ln_g


@settings(max_examples=150, deadline=None)
@given(_networks())
def test_solver_invariants_on_random_networks(net):
    n, a, b, ln_g = net
    s, d = [0], [n - 1]
    if not spans(n, a[a != b], b[a != b], s, d):
        with pytest.raises(NotPercolatingError):
            solve_network(n, a, b, source=s, drain=d, ln_conductance=ln_g)
        return
    res = solve_network(n, a, b, source=s, drain=d, ln_conductance=ln_g)
    swapped = solve_network(n, a, b, source=d, drain=s, ln_conductance=ln_g)
    scaled = solve_network(n, a, b, source=s, drain=d, ln_conductance=ln_g + 3.0)
    assert swapped.ln_conductance == pytest.approx(res.ln_conductance, abs=1e-9)  # reciprocity
    assert scaled.ln_conductance == pytest.approx(res.ln_conductance + 3.0, abs=1e-9)  # homogeneity
    # bounded by the cut around the source and by the bottleneck path
    loops = a == b
    at_source = ~loops & ((a == 0) | (b == 0))
    # (clipping raises edges more than 18 e-folds below g* to e^-18 g*: up to m e^-18 relative)
    assert res.ln_conductance <= np.logaddexp.reduce(ln_g[at_source]) + a.size * np.exp(-18.0) + 1e-9
    assert res.ln_conductance >= res.ln_bottleneck - np.log(n) - 1e-9
    # Kirchhoff residual at round-off: a few ulps of the largest (clipped) conductance times 1 V
    strongest = np.exp(min(ln_g[~loops].max(), res.ln_bottleneck + 18.0))
    assert res.kirchhoff_residual_A <= 1e-13 * strongest
    # maximum principle, to round-off amplified by the conditioning: a cluster of strong edges
    # hanging off an electrode by a weak one has its potential known to ~eps g_strong / g_weak
    # (hypothesis found e^10 behind e^-7: 2.8e-9 V)
    clipped = np.clip(ln_g[~loops], res.ln_bottleneck - 18.0, res.ln_bottleneck + 18.0)
    tol = 1e-9 + 8 * np.finfo(float).eps * np.exp(clipped.max() - clipped.min())
    assert np.nanmin(res.potentials_V) >= -tol
    assert np.nanmax(res.potentials_V) <= 1 + tol
