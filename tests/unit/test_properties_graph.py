"""Property-based tests (hypothesis) of the SKIZ neighbour graph in morpho.graph.

Random small label images (32-96 px canvases) of two kinds: non-overlapping disks and
rectangles of random sizes (touching or kept apart by a random margin of matrix), and
Voronoi-like tilings whose cells are separated by matrix walls 1-3 px wide.  On them:

* the junction table is well formed (grain_a < grain_b, no self-loops, no duplicate pairs,
  sorted, ids of existing grains, gap >= 0, facing length > 0) and equals a pixel-by-pixel
  oracle of its definition (symmetric zone adjacency, min d(p) + d(q), shared-edge count),
  whatever the height of the bands it is computed in;
* every gap obeys the PHYSICS.md 6.3 convention: never below (EDT distance - 1 px), and for two
  grains at most 1 px above it; two grains k px apart along a row or column have gap exactly k px;
* scale covariance (pixel size x c multiplies every *_m column by c, same topology), relabelling
  invariance, padding with matrix (a superset of junctions, common gaps never larger, and the gap
  of two grains unchanged);
* coordination = node degree, the SKIZ graph is connected, a lone grain has coordination 0,
  and the percolation flags follow from the border grains;
* bad input raises InputError (a MorphoError), never another exception.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

import morpho.measure as measure
from morpho.config import GraphConfig
from morpho.errors import InputError, MorphoError
from morpho.graph import JUNCTION_COLUMNS, build_graph, nearest_grain_pixels, skiz_junctions
from morpho.measure import measure_grains

PROPS = settings(max_examples=50, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
MANY = settings(PROPS, max_examples=60)

PX = 2e-9  # m

#: Gaps are sums of two float32 distances (graph._distance_px); float32 rounding of a distance of
#: up to ~140 px is < 1e-5 px.
F32_PX = 1e-5


# --- strategies ---------------------------------------------------------------------------------

def _relabel_consecutive(lab: np.ndarray) -> np.ndarray:
    """Renumber the grains 1..n in raster order of first appearance (0 stays matrix)."""
    ids = np.unique(lab[lab > 0])
    lut = np.zeros(int(lab.max()) + 1 if lab.size else 1, dtype=np.int32)
    lut[ids] = np.arange(1, ids.size + 1, dtype=np.int32)
    return lut[lab]


@st.composite
def blob_images(draw, min_grains: int = 1, max_grains: int = 8):
    """Disks and rectangles of random sizes, never overlapping; `margin` px of matrix (0: they
    may touch) kept between them."""
    rows, cols = draw(st.integers(32, 96)), draw(st.integers(32, 96))
    margin = draw(st.integers(0, 3))
    shapes = draw(st.lists(
        st.tuples(st.booleans(), st.integers(0, rows - 1), st.integers(0, cols - 1), st.integers(0, 12),
                  st.integers(0, 12)),
        min_size=min_grains, max_size=max_grains))
    lab = np.zeros((rows, cols), dtype=np.int32)
    rr, cc = np.ogrid[:rows, :cols]
    k = 0
    for is_disk, r, c, h, w in shapes:
        mask = (rr - r) ** 2 + (cc - c) ** 2 <= h * h if is_disk else (abs(rr - r) <= h) & (abs(cc - c) <= w)
        reach = ndi.binary_dilation(mask, structure=np.ones((3, 3), bool), iterations=margin) if margin else mask
        if (lab[reach] > 0).any():
            continue
        k += 1
        lab[mask] = k
    assume(k >= min_grains)
    return lab


@st.composite
def voronoi_images(draw, min_grains: int = 1):
    """A Voronoi tiling of 2-12 random seeds (nearest seed by the EDT) with matrix walls of 1-3 px
    between the cells; cells thinner than the wall vanish or split, like real grains."""
    rows, cols = draw(st.integers(32, 96)), draw(st.integers(32, 96))
    seeds = draw(st.lists(st.tuples(st.integers(0, rows - 1), st.integers(0, cols - 1)), min_size=2, max_size=12,
                          unique=True))
    wall = draw(st.integers(1, 3))
    seed_img = np.zeros((rows, cols), dtype=np.int32)
    for i, (r, c) in enumerate(seeds, 1):
        seed_img[r, c] = i
    idx = ndi.distance_transform_edt(seed_img == 0, return_distances=False, return_indices=True)
    cells = seed_img[idx[0], idx[1]]
    edge = np.zeros(cells.shape, dtype=bool)
    edge[:, 1:] |= cells[:, 1:] != cells[:, :-1]
    edge[1:, :] |= cells[1:, :] != cells[:-1, :]
    if wall > 1:
        edge = ndi.binary_dilation(edge, iterations=wall - 1)
    lab = _relabel_consecutive(np.where(edge, 0, cells).astype(np.int32))
    assume(int(lab.max()) >= min_grains)
    return lab


def images(min_grains: int = 1):
    return st.one_of(blob_images(min_grains=min_grains), voronoi_images(min_grains=min_grains))


def _pairs(j: pd.DataFrame) -> list[tuple[int, int]]:
    return [tuple(p) for p in j[["grain_a", "grain_b"]].to_numpy().tolist()]


def _oracle(lab: np.ndarray) -> dict[tuple[int, int], tuple[float, int]]:
    """The SKIZ junctions by their definition, pixel by pixel in one piece: every pixel belongs to
    the zone of its nearest grain; (a, b) are neighbours where zones a and b share a pixel edge,
    seen from either side (the adjacency is symmetric by construction); the gap is the least
    d(p) + d(q) over those edges (float32 distances, as the library keeps them) and the facing
    length counts them.  Returns {(a, b): (gap_px, n_edges)} with a < b."""
    feat = ndi.distance_transform_edt(lab == 0, return_distances=False, return_indices=True)
    zone = lab[feat[0], feat[1]]
    dist = ndi.distance_transform_edt(lab == 0).astype(np.float32)
    n = int(lab.max())
    adjacency = np.zeros((n + 1, n + 1), dtype=np.int64)
    gap = np.full((n + 1, n + 1), np.inf)
    for za, zb, da, db in (
        (zone[:, :-1], zone[:, 1:], dist[:, :-1], dist[:, 1:]),
        (zone[:-1, :], zone[1:, :], dist[:-1, :], dist[1:, :]),
    ):
        diff = za != zb
        for p, q, s in zip(za[diff], zb[diff], (da[diff] + db[diff]).astype(np.float64), strict=True):
            for u, v in ((p, q), (q, p)):
                adjacency[u, v] += 1
                gap[u, v] = min(gap[u, v], s)
    assert (adjacency == adjacency.T).all()
    return {(a, b): (gap[a, b], int(adjacency[a, b])) for a, b in zip(*np.nonzero(np.triu(adjacency)), strict=True)}


# --- the table and its definition ---------------------------------------------------------------

@MANY
@given(lab=images())
def test_skiz_junctions_table_is_well_formed(lab):
    """grain_a < grain_b (no self-loops), no duplicate pairs, sorted, int64 ids of grains in the
    image, gap >= 0, facing length > 0 and centre distance > 0, all finite."""
    j = skiz_junctions(lab, pixel_size_m=PX)
    assert list(j.columns) == JUNCTION_COLUMNS
    assert j["grain_a"].dtype == np.int64
    assert j["grain_b"].dtype == np.int64
    a, b = j["grain_a"].to_numpy(), j["grain_b"].to_numpy()
    assert (a < b).all()
    pairs = _pairs(j)
    assert len(set(pairs)) == len(pairs)
    assert pairs == sorted(pairs)
    assert set(a) | set(b) <= set(np.unique(lab[lab > 0]).tolist())
    values = j[["gap_m", "facing_length_m", "center_distance_m"]].to_numpy()
    assert np.isfinite(values).all()
    assert (j["gap_m"] >= 0).all()
    assert (j["facing_length_m"] > 0).all()
    assert (j["center_distance_m"] > 0).all()


@MANY
@given(lab=images(), band_rows=st.integers(1, 100))
def test_skiz_junctions_equal_the_pixel_by_pixel_definition_in_any_bands(lab, band_rows):
    """The vectorised, band-by-band table equals the definition computed in one piece (the pairs
    exactly, gaps to float32 round-off, facing lengths from the same edge counts)."""
    with mock.patch.object(measure, "BAND_ROWS", band_rows):
        j = skiz_junctions(lab, pixel_size_m=1.0)
    expected = _oracle(lab)
    assert _pairs(j) == sorted(expected)
    gap = np.array([expected[p][0] for p in _pairs(j)])
    count = np.array([expected[p][1] for p in _pairs(j)], dtype=float)
    np.testing.assert_allclose(j["gap_m"].to_numpy(), gap, rtol=0, atol=F32_PX)
    np.testing.assert_allclose(j["facing_length_m"].to_numpy(), count * np.pi / 4, rtol=1e-12)


# --- gaps: the PHYSICS.md 6.3 convention --------------------------------------------------------

def _edt_distance_px(lab: np.ndarray, a: int, b: int) -> float:
    """Least distance between the centres of a pixel of grain a and a pixel of grain b."""
    return float(ndi.distance_transform_edt(lab != b)[lab == a].min())


@MANY
@given(lab=images(min_grains=2))
def test_skiz_gaps_are_never_below_the_edt_distance_minus_one_pixel(lab):
    """Every gap >= (EDT distance - 1 px) of PHYSICS.md 6.3: a matrix path from a to b crossing a
    zone edge (p, q) is at least d(a, b) - |p - q| long.  In particular gaps are >= 0."""
    j = skiz_junctions(lab, pixel_size_m=1.0)
    for (a, b), g in zip(_pairs(j), j["gap_m"], strict=True):
        assert g >= _edt_distance_px(lab, a, b) - 1 - F32_PX


@MANY
@given(lab=blob_images(min_grains=2, max_grains=2))
def test_skiz_gap_of_two_grains_is_within_one_pixel_of_the_edt_convention(lab):
    """Two grains alone: (EDT distance - 1 px) <= gap <= EDT distance.  The gap counts whole
    staircase steps along the digital path, so it may exceed the Euclidean convention by up to
    1 px (e.g. diagonal neighbours: convention sqrt(2) - 1 px, gap 1 px); it is exact along rows
    and columns (next test)."""
    j = skiz_junctions(lab, pixel_size_m=1.0)
    assert _pairs(j) == [(1, 2)]
    d = _edt_distance_px(lab, 1, 2)
    assert d - 1 - F32_PX <= j["gap_m"].iloc[0] <= d + F32_PX


@MANY
@given(gap=st.integers(0, 20), h=st.tuples(st.integers(1, 15), st.integers(1, 15)),
       w=st.tuples(st.integers(1, 15), st.integers(1, 15)), shift=st.integers(-14, 14),
       margins=st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(0, 20), st.integers(0, 20)),
       transpose=st.booleans(), px=st.floats(1e-10, 1e-7))
def test_skiz_gap_of_two_rectangles_k_pixels_apart_is_k_pixels(gap, h, w, shift, margins, transpose, px):
    """Two rectangles facing each other across k matrix pixels along a row (or a column): the
    gap is k px exactly (graph docstring: "exactly n pixels"; only float32 round-off), and
    touching grains (k = 0) have gap 0."""
    (h1, h2), (w1, w2) = h, w
    shift = int(np.clip(shift, -(h1 - 1), h2 - 1))  # the row ranges overlap: they face each other
    top, bottom, left, right = margins
    r2 = top + max(0, -shift)
    r1 = r2 + shift
    rows = max(r1 + h1, r2 + h2) + bottom
    lab = np.zeros((rows, left + w1 + gap + w2 + right), dtype=np.int32)
    lab[r1:r1 + h1, left:left + w1] = 1
    lab[r2:r2 + h2, left + w1 + gap:left + w1 + gap + w2] = 2
    if transpose:
        lab = np.ascontiguousarray(lab.T)
    j = skiz_junctions(lab, pixel_size_m=px)
    assert _pairs(j) == [(1, 2)]
    assert j["gap_m"].iloc[0] == pytest.approx(gap * px, rel=1e-7, abs=1e-7 * px)  # float32 distances


# --- invariances --------------------------------------------------------------------------------

@PROPS
@given(lab=images(min_grains=2), px=st.floats(1e-10, 1e-8), log_c=st.floats(-3, 3), data=st.data())
def test_build_graph_scales_with_the_pixel_size(lab, px, log_c, data):
    """Pixel size x c: every gap_m, facing_length_m and center_distance_m x c, the same pairs and
    coordinations, the same dimensionless summary (configuration lengths scaled too); x 2 exactly."""
    c = data.draw(st.sampled_from([2.0, 10.0**log_c]))
    max_gap = data.draw(st.none() | st.floats(0.0, 20.0))
    limit = data.draw(st.floats(0.5, 20.0))

    def graph(size):
        cfg = GraphConfig(max_gap_m=None if max_gap is None else max_gap * size, gap_limit_m=limit * size)
        return build_graph(lab, measure_grains(lab, pixel_size_m=size), pixel_size_m=size, config=cfg)

    g1, g2 = graph(px), graph(px * c)
    assert _pairs(g2.junctions) == _pairs(g1.junctions)
    assert g2.grains["coordination"].tolist() == g1.grains["coordination"].tolist()
    rel = 0 if c == 2.0 else 1e-12  # doubling is exact in binary floating point
    for col in ("gap_m", "facing_length_m", "center_distance_m"):
        np.testing.assert_allclose(g2.junctions[col], c * g1.junctions[col], rtol=rel, atol=0)
    for key in ("junctions", "n_junctions_skiz", "coordination_counts", "percolates", "percolates_x",
                "percolates_y"):
        assert g2.summary[key] == g1.summary[key]
    for key in ("mean_coordination", "mean_coordination_all", "mean_coordination_gap_limited"):
        np.testing.assert_array_equal(g2.summary[key], g1.summary[key])
    np.testing.assert_allclose(g2.summary["median_gap_m"], c * g1.summary["median_gap_m"], rtol=rel)


@PROPS
@given(lab=images(min_grains=2), data=st.data())
def test_build_graph_relabelling_grains_permutes_the_graph(lab, data):
    """Permuting the grain ids gives the same junctions (mapped, exactly) and coordinations."""
    n = int(lab.max())
    perm = np.concatenate([[0], np.asarray(data.draw(st.permutations(range(1, n + 1))))]).astype(np.int32)
    lab2 = perm[lab]
    g1 = build_graph(lab, measure_grains(lab, pixel_size_m=PX), pixel_size_m=PX)
    g2 = build_graph(lab2, measure_grains(lab2, pixel_size_m=PX), pixel_size_m=PX)
    j1 = g1.junctions
    a, b = perm[j1["grain_a"]], perm[j1["grain_b"]]
    mapped = j1.assign(grain_a=np.minimum(a, b).astype(np.int64), grain_b=np.maximum(a, b).astype(np.int64))
    mapped = mapped.sort_values(["grain_a", "grain_b"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(g2.junctions, mapped, check_exact=True)
    np.testing.assert_array_equal(g2.grains["coordination"].to_numpy()[perm[1:] - 1],
                                  g1.grains["coordination"].to_numpy())
    assert g2.summary == g1.summary or _nan_equal(g2.summary, g1.summary)


def _nan_equal(s1: dict, s2: dict) -> bool:
    return s1.keys() == s2.keys() and all(
        (v1 == s2[k]) or (isinstance(v1, float) and np.isnan(v1) and np.isnan(s2[k])) for k, v1 in s1.items())


@PROPS
@given(lab=images(min_grains=2), pad=st.tuples(st.tuples(st.integers(0, 12), st.integers(0, 12)),
                                               st.tuples(st.integers(0, 12), st.integers(0, 12))))
def test_skiz_padding_with_matrix_keeps_every_junction_and_never_widens_a_gap(lab, pad):
    """Padding with matrix (translating the content in a larger frame) leaves every pixel of the
    old frame in the same zone, so every junction stays, its gap can only shrink and its facing
    length only grow (zones the frame cut may now meet outside it); centre distances are the same."""
    j1 = skiz_junctions(lab, pixel_size_m=PX).set_index(["grain_a", "grain_b"])
    j2 = skiz_junctions(np.pad(lab, pad), pixel_size_m=PX).set_index(["grain_a", "grain_b"])
    assert set(j1.index) <= set(j2.index)
    common = j2.loc[j1.index]
    assert (common["gap_m"].to_numpy() <= j1["gap_m"].to_numpy()).all()
    assert (common["facing_length_m"].to_numpy() >= j1["facing_length_m"].to_numpy() * (1 - 1e-12)).all()
    np.testing.assert_allclose(common["center_distance_m"], j1["center_distance_m"], rtol=1e-12)


@PROPS
@given(lab=blob_images(min_grains=2, max_grains=2), pad=st.tuples(st.tuples(st.integers(0, 12), st.integers(0, 12)),
                                                                    st.tuples(st.integers(0, 12), st.integers(0, 12))))
def test_skiz_gap_of_two_grains_does_not_depend_on_the_frame(lab, pad):
    """Two grains alone: padding (moving them within a larger frame) leaves the gap unchanged."""
    g1 = skiz_junctions(lab, pixel_size_m=PX)["gap_m"].to_numpy()
    g2 = skiz_junctions(np.pad(lab, pad), pixel_size_m=PX)["gap_m"].to_numpy()
    np.testing.assert_array_equal(g2, g1)


# --- coordination, connectivity, percolation ----------------------------------------------------

@MANY
@given(lab=images(), max_gap=st.none() | st.floats(0.0, 15.0), limit=st.floats(0.5, 15.0))
def test_build_graph_coordination_is_the_node_degree(lab, max_gap, limit):
    """coordination = degree in the kept junctions; the kept junctions are the SKIZ ones with
    gap <= max_gap; the summary counts agree with the tables."""
    cfg = GraphConfig(max_gap_m=None if max_gap is None else max_gap * PX, gap_limit_m=limit * PX)
    grains = measure_grains(lab, pixel_size_m=PX)
    g = build_graph(lab, grains, pixel_size_m=PX, config=cfg)
    n = len(grains)
    j = g.junctions
    degree = np.bincount(j["grain_a"] - 1, minlength=n) + np.bincount(j["grain_b"] - 1, minlength=n)
    z = g.grains["coordination"].to_numpy()
    np.testing.assert_array_equal(z, degree)
    assert z.sum() == 2 * len(j)
    full = skiz_junctions(lab, pixel_size_m=PX, centroids_m=grains[["x_m", "y_m"]].to_numpy())
    kept = full if max_gap is None else full[full["gap_m"] <= cfg.max_gap_m * (1 + 1e-9)].reset_index(drop=True)
    pd.testing.assert_frame_equal(j, kept, check_exact=True)
    assert g.summary["junctions"] == len(j)
    assert g.summary["n_junctions_skiz"] == len(full)
    interior = ~g.grains["touches_border"].to_numpy()
    counts = dict(zip(*np.unique(z[interior], return_counts=True), strict=True))
    assert g.summary["coordination_counts"] == {str(k): int(v) for k, v in counts.items()}
    if n:
        assert g.summary["mean_coordination_all"] == pytest.approx(z.mean(), rel=1e-12)
    if interior.any():
        assert g.summary["mean_coordination"] == pytest.approx(z[interior].mean(), rel=1e-12)
    else:
        assert np.isnan(g.summary["mean_coordination"])


@MANY
@given(lab=images(min_grains=2))
def test_skiz_graph_is_connected_and_percolation_follows_from_the_borders(lab):
    """The zones tile the (connected) image, so the full SKIZ graph is connected: every grain has
    a neighbour, and the graph joins left to right exactly when grains touch both sides."""
    grains = measure_grains(lab, pixel_size_m=PX)
    g = build_graph(lab, grains, pixel_size_m=PX)
    n = len(grains)
    j = g.junctions
    adj = coo_matrix((np.ones(len(j)), (j["grain_a"] - 1, j["grain_b"] - 1)), shape=(n, n))
    assert connected_components(adj, directed=False)[0] == 1
    assert (g.grains["coordination"] >= 1).all()
    left, right = (lab[:, 0] > 0).any(), (lab[:, -1] > 0).any()
    top, bottom = (lab[0] > 0).any(), (lab[-1] > 0).any()
    assert g.summary["percolates_x"] == bool(left and right)
    assert g.summary["percolates_y"] == bool(top and bottom)


@PROPS
@given(lab=blob_images(min_grains=1, max_grains=1), px=st.floats(1e-10, 1e-7))
def test_build_graph_a_lone_grain_has_coordination_zero(lab, px):
    """One grain: no junction, coordination 0, NaN median gap; it percolates only by spanning."""
    g = build_graph(lab, measure_grains(lab, pixel_size_m=px), pixel_size_m=px)
    assert len(g.junctions) == 0
    assert list(g.junctions.columns) == JUNCTION_COLUMNS
    assert g.grains["coordination"].tolist() == [0]
    assert np.isnan(g.summary["median_gap_m"])
    assert g.summary["percolates_x"] == bool((lab[:, 0] > 0).any() and (lab[:, -1] > 0).any())


@PROPS
@given(rows=st.integers(1, 40), cols=st.integers(1, 40))
def test_build_graph_an_image_of_matrix_only_has_no_grains_and_no_junctions(rows, cols):
    """No grain at all (M19 degenerate input): empty tables, NaN means, no percolation."""
    lab = np.zeros((rows, cols), dtype=np.int32)
    g = build_graph(lab, measure_grains(lab, pixel_size_m=PX), pixel_size_m=PX)
    assert len(g.junctions) == 0
    assert len(g.grains) == 0
    assert np.isnan(g.summary["mean_coordination"])
    assert not g.summary["percolates"]


# --- bad input ----------------------------------------------------------------------------------

_BAD = ["float_labels", "bool_labels", "3d_labels", "1d_labels", "empty", "empty_rows", "negative_label",
        "px_nan", "px_inf", "px_zero", "px_negative", "grains_mismatch", "centroids_shape", "feature_dtype",
        "feature_shape"]


def _spoil_and_call(lab: np.ndarray, bad: str, function: str) -> None:
    """Spoil one input of a valid image (`bad`), call `function`, expect InputError."""
    px = PX
    grains = measure_grains(lab, pixel_size_m=PX)
    extra: dict = {}
    if bad == "float_labels":
        lab = lab.astype(np.float64)
    elif bad == "bool_labels":
        lab = lab > 0
    elif bad == "3d_labels":
        lab = lab[None]
    elif bad == "1d_labels":
        lab = lab[0]
    elif bad == "empty":  # and the grains table of the empty image, as measure_grains makes it
        lab = lab[:0, :0]
        grains = measure_grains(lab, pixel_size_m=PX)
    elif bad == "empty_rows":
        lab = lab[:, :0]
        grains = measure_grains(lab, pixel_size_m=PX)
    elif bad == "negative_label":
        lab = np.where(lab == 1, -1, lab).astype(np.int32)
    elif bad == "px_nan":
        px = np.nan
    elif bad == "px_inf":
        px = np.inf
    elif bad == "px_zero":
        px = 0.0
    elif bad == "px_negative":
        px = -PX
    elif bad == "grains_mismatch":
        grains = grains.iloc[:-1]
        extra = {"centroids_m": grains[["x_m", "y_m"]].to_numpy()}
    elif bad == "centroids_shape":
        extra = {"centroids_m": grains[["x_m"]].to_numpy()}
    elif bad == "feature_dtype":
        extra = {"feature": nearest_grain_pixels(lab).astype(np.float64)}
    elif bad == "feature_shape":
        extra = {"feature": nearest_grain_pixels(lab[:, :-1])}
    with pytest.raises(MorphoError) as info:  # noqa: PT012 (one call, chosen by `function`)
        if function == "skiz_junctions":
            skiz_junctions(lab, pixel_size_m=px, **extra)
        else:
            build_graph(lab, grains, pixel_size_m=px, **{k: v for k, v in extra.items() if k == "feature"})
    assert isinstance(info.value, InputError)


_SMALL = np.zeros((8, 9), dtype=np.int32)
_SMALL[1:3, 1:4], _SMALL[5:7, 4:8] = 1, 2


@PROPS
@given(lab=images(min_grains=2), bad=st.sampled_from(_BAD), function=st.sampled_from(["skiz_junctions",
                                                                                      "build_graph"]))
@example(lab=_SMALL, bad="negative_label", function="skiz_junctions")  # was numpy's bincount ValueError
@example(lab=_SMALL, bad="px_nan", function="skiz_junctions")  # gave NaN gaps silently
@example(lab=_SMALL, bad="px_negative", function="build_graph")  # gave negative gaps silently
@example(lab=_SMALL, bad="empty", function="build_graph")  # was an IndexError in border_labels
@example(lab=_SMALL, bad="grains_mismatch", function="build_graph")  # was an IndexError
@example(lab=_SMALL, bad="feature_dtype", function="skiz_junctions")  # was an IndexError
def test_bad_input_raises_input_error(lab, bad, function):
    """Non-integer, non-2-D, empty or negative labels, a pixel size that is not finite and > 0,
    a grains table or centroids that do not match the labels, or a feature transform of the wrong
    type or shape: InputError (a MorphoError), never another exception."""
    assume(not (function == "build_graph" and bad == "centroids_shape"))  # build_graph makes its own
    _spoil_and_call(lab, bad, function)


@pytest.mark.parametrize(("bad", "function"), [(b, f) for b in _BAD for f in ("skiz_junctions", "build_graph")
                                                if (b, f) != ("centroids_shape", "build_graph")])
def test_bad_input_raises_input_error_every_case(bad, function):
    """Every (entry point, bad input) pair once, on a small fixed image (build_graph makes its
    own centroids)."""
    _spoil_and_call(_SMALL, bad, function)
