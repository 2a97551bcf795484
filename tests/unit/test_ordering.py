"""Nested-dissection order from node positions (morpho._ordering) and its use by the solver."""

import numpy as np
import pytest

from _networks import delaunay as _delaunay
from morpho import transport
from morpho._ordering import nested_dissection
from morpho.errors import InputError
from morpho.transport import NetworkSolver, bottleneck_ln_conductance, solve_network


def _grid(nx: int, ny: int):
    idx = np.arange(nx * ny).reshape(ny, nx)
    a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    yy, xx = np.divmod(np.arange(nx * ny), nx)
    return np.column_stack([xx, yy]).astype(float), a, b


def _factor_size(xy, a, b, order):
    """nnz of CHOLMOD's factor of the grid Laplacian (+ identity) in `order` (None: its AMD)."""
    cvxopt = pytest.importorskip("cvxopt")
    from cvxopt import cholmod

    n = xy.shape[0]
    rows = np.concatenate([np.arange(n), np.maximum(a, b)])
    cols = np.concatenate([np.arange(n), np.minimum(a, b)])
    deg = np.bincount(np.concatenate([a, b]), minlength=n) + 1.0
    vals = np.concatenate([deg, -np.ones(a.size)])
    mat = cvxopt.spmatrix(cvxopt.matrix(vals), cvxopt.matrix(rows.astype(int)), cvxopt.matrix(cols.astype(int)), (n, n))
    saved = dict(cholmod.options)
    try:
        cholmod.options["supernodal"] = 0  # simplicial: nnz(L) exactly, no supernode padding
        if order is None:
            f = cholmod.symbolic(mat, uplo="L")
        else:
            cholmod.options["nmethods"] = 1
            f = cholmod.symbolic(mat, p=cvxopt.matrix(np.asarray(order).astype(int)), uplo="L")
        cholmod.numeric(mat, f)
        return len(cholmod.getfactor(f).V)
    finally:
        cholmod.options.clear()
        cholmod.options.update(saved)


def test_order_is_a_permutation_for_any_layout():
    rng = np.random.default_rng(0)
    cases = [rng.random((5000, 2)), np.zeros((300, 2)), np.column_stack([np.arange(400.0), np.zeros(400)]),
             rng.random((10, 2)), rng.random((1, 2)) * 1e-9]
    for xy in cases:
        n = xy.shape[0]
        a = rng.integers(0, n, 3 * n)
        b = rng.integers(0, n, 3 * n)
        order = nested_dissection(xy, a, b)
        assert np.array_equal(np.sort(order), np.arange(n))


def test_separators_come_after_the_halves_they_separate():
    # In a 64 x 64 grid, the top split's separator is one column or row of 64 nodes, ordered last.
    xy, a, b = _grid(64, 64)
    order = nested_dissection(xy, a, b, leaf_size=16)
    last = xy[order[-64:]]
    assert (np.ptp(last[:, 0]) == 0) or (np.ptp(last[:, 1]) == 0)
    # removing the last 64 nodes leaves two halves with no edge between them
    pos = np.empty(order.size, dtype=int)
    pos[order] = np.arange(order.size)
    keep = (pos[a] < order.size - 64) & (pos[b] < order.size - 64)
    line = last[0, 0] if np.ptp(last[:, 0]) == 0 else last[0, 1]
    axis = 0 if np.ptp(last[:, 0]) == 0 else 1
    side_a, side_b = xy[a[keep], axis] < line, xy[b[keep], axis] < line
    assert np.array_equal(side_a, side_b)


def test_the_order_keeps_the_factor_small():
    xy, a, b = _grid(120, 120)
    nd = _factor_size(xy, a, b, nested_dissection(xy, a, b))
    natural = _factor_size(xy, a, b, np.arange(xy.shape[0]))  # banded: ~n * 120
    amd = _factor_size(xy, a, b, None)
    assert nd < 0.4 * natural
    assert nd < 1.5 * amd


@pytest.mark.parametrize("backend", ["superlu", "cholmod"])
def test_coordinates_change_the_order_not_the_answer(monkeypatch, backend):
    if backend == "cholmod":
        pytest.importorskip("cvxopt")
    monkeypatch.setattr(transport, "DISSECTION_MIN_NODES", 0)
    xy, a, b, s, d, rng = _delaunay(3000, 3)
    g = 10.0 ** rng.uniform(-6, 0, a.size)
    plain = NetworkSolver(3000, a, b, source=s, drain=d, backend=backend)
    ordered = NetworkSolver(3000, a, b, source=s, drain=d, backend=backend, coordinates=xy)
    r0, r1 = plain.solve(conductance_S=g), ordered.solve(conductance_S=g)
    assert ordered._topology.factor._perm is not None  # the dissection order was used
    assert r1.conductance_S == pytest.approx(r0.conductance_S, rel=1e-10)
    np.testing.assert_allclose(r1.potentials_V, r0.potentials_V, atol=1e-10)
    g2 = 10.0 ** rng.uniform(-3, 0, a.size)  # a second solve reuses the ordered analysis
    assert ordered.solve(conductance_S=g2).conductance_S == pytest.approx(
        plain.solve(conductance_S=g2).conductance_S, rel=1e-10)


def test_bad_coordinates_are_an_input_error():
    with pytest.raises(InputError, match="coordinates"):
        NetworkSolver(3, [0, 1], [1, 2], source=[0], drain=[2], coordinates=np.zeros((2, 2)))
    with pytest.raises(InputError, match="coordinates"):
        solve_network(3, [0, 1], [1, 2], source=[0], drain=[2], conductance_S=[1.0, 1.0],
                      coordinates=[[0, 0], [1, np.nan], [2, 0]])


@pytest.mark.parametrize("wall", [False, True])
def test_the_median_bound_keeps_the_bottleneck_exact(monkeypatch, wall):
    # With the bound tried on every network: where the stronger half spans, and where a wall of
    # weak edges across the middle keeps it from spanning (the search then takes every edge).
    monkeypatch.setattr(transport, "MEDIAN_BOUND_MIN_EDGES", 0)
    xy, a, b, s, d, rng = _delaunay(2000, 8)
    energy = rng.uniform(0, 10, a.size)
    across = (np.minimum(xy[a, 0], xy[b, 0]) < 0.5) & (np.maximum(xy[a, 0], xy[b, 0]) >= 0.5)
    if wall:
        energy[across] = 10 + rng.uniform(0, 1, across.sum())
    ln_g = np.log(1e-5) - energy / 0.05
    median = np.sort(ln_g)[ln_g.size // 2]
    strong = ln_g >= median
    assert transport.spans(2000, a[strong], b[strong], s, d) is not wall
    assert transport._median_guess(ln_g) == median
    result = solve_network(2000, a, b, source=s, drain=d, ln_conductance=ln_g)
    assert result.ln_bottleneck == bottleneck_ln_conductance(2000, a, b, ln_g, s, d)


def test_column_major_pairs_match_a_sort_with_and_without_duplicates():
    rng = np.random.default_rng(1)
    for dup in (False, True):
        col = rng.integers(0, 50, 400)
        row = col + rng.integers(1, 50, 400)
        if not dup:
            keys = np.unique(col * 1000 + row)
            col, row = keys // 1000, keys % 1000
            perm = rng.permutation(col.size)
            col, row = col[perm], row[perm]
        key_col, key_row, inverse = transport._column_major_pairs(col, row, 100)
        keys, inv = np.unique(col * 100 + row, return_inverse=True)
        assert np.array_equal(key_col * 100 + key_row, keys)
        assert np.array_equal(inverse, inv)
