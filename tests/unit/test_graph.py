"""SKIZ neighbour graph, gaps, facing lengths, coordination, percolation."""

import numpy as np
import pandas as pd
import pytest

from morpho.config import GraphConfig
from morpho.graph import build_graph, skiz_junctions
from morpho.measure import measure_grains

PX = 2e-9  # m


def _two_squares(gap_px: int, rows: int = 20) -> np.ndarray:
    lab = np.zeros((rows, 14 + gap_px), dtype=np.int32)
    lab[5:15, 1:7] = 1
    lab[5:15, 7 + gap_px : 13 + gap_px] = 2
    return lab


@pytest.mark.parametrize("gap_px", [0, 1, 2, 5, 9])
def test_skiz_junctions_gap_counts_matrix_pixels(gap_px):
    j = skiz_junctions(_two_squares(gap_px), pixel_size_m=PX)
    assert j[["grain_a", "grain_b"]].to_numpy().tolist() == [[1, 2]]
    # exact: the shortest matrix path along a row crosses gap_px pixels
    assert j.gap_m.iloc[0] == pytest.approx(gap_px * PX, rel=1e-6)


def test_skiz_junctions_facing_length_is_zone_boundary_times_pi_over_4():
    j = skiz_junctions(_two_squares(5, rows=20), pixel_size_m=PX)
    # the zones meet along a straight vertical line of 20 pixel edges
    assert j.facing_length_m.iloc[0] == pytest.approx(20 * PX * np.pi / 4, rel=1e-12)


def test_skiz_junctions_row_of_grains_links_only_neighbours():
    lab = np.zeros((12, 40), dtype=np.int32)
    for k in range(4):
        lab[3:9, 2 + 10 * k : 8 + 10 * k] = k + 1
    j = skiz_junctions(lab, pixel_size_m=PX)
    assert j[["grain_a", "grain_b"]].to_numpy().tolist() == [[1, 2], [2, 3], [3, 4]]
    assert np.allclose(j.gap_m, 4 * PX)
    assert np.allclose(j.center_distance_m, 10 * PX)


def test_skiz_junctions_relabelling_gives_same_pairs():
    rng = np.random.default_rng(1)
    lab = np.zeros((60, 60), dtype=np.int32)
    centers = [(8, 8), (8, 30), (8, 52), (30, 20), (30, 45), (52, 10), (52, 35), (50, 55)]
    rr, cc = np.mgrid[:60, :60]
    for i, (r, c) in enumerate(centers, 1):
        lab[(rr - r) ** 2 + (cc - c) ** 2 <= 16] = i
    perm = np.concatenate([[0], rng.permutation(len(centers)) + 1])
    j1 = skiz_junctions(lab, pixel_size_m=PX)
    j2 = skiz_junctions(perm[lab].astype(np.int32), pixel_size_m=PX)
    inv = np.argsort(perm)
    pairs2 = {tuple(sorted((inv[a], inv[b]))) for a, b in j2[["grain_a", "grain_b"]].to_numpy()}
    pairs1 = {tuple(p) for p in j1[["grain_a", "grain_b"]].to_numpy().tolist()}
    assert pairs1 == pairs2


def test_build_graph_coordination_max_gap_and_percolation():
    lab = np.zeros((12, 40), dtype=np.int32)
    widths = [2, 3, 6]  # gaps between consecutive grains
    col = 0
    for k in range(4):
        lab[3:9, col : col + 6] = k + 1
        col += 6 + (widths[k] if k < 3 else 0)
    lab = lab[:, :col]
    grains = measure_grains(lab, pixel_size_m=PX)
    g = build_graph(lab, grains, pixel_size_m=PX)
    assert g.grains.coordination.tolist() == [1, 2, 2, 1]
    assert g.summary["percolates_x"] and not g.summary["percolates_y"]
    assert g.summary["median_gap_m"] == pytest.approx(3 * PX, rel=1e-6)
    cut = build_graph(lab, grains, pixel_size_m=PX, config=GraphConfig(max_gap_m=4 * PX))
    assert cut.junctions[["grain_a", "grain_b"]].to_numpy().tolist() == [[1, 2], [2, 3]]
    assert not cut.summary["percolates_x"]


def test_build_graph_hexagonal_packing_gives_z_six_inside():
    # disks on a triangular lattice: every interior grain has 6 SKIZ neighbours
    lab = np.zeros((200, 200), dtype=np.int32)
    rr, cc = np.mgrid[:200, :200]
    k = 0
    a = 20.0
    for i in range(12):
        for jx in range(12):
            r = i * a * np.sqrt(3) / 2 + 5
            c = jx * a + (a / 2 if i % 2 else 0) + 5
            if r < 195 and c < 195:
                k += 1
                lab[(rr - r) ** 2 + (cc - c) ** 2 <= 36] = k
    grains = measure_grains(lab, pixel_size_m=PX)
    g = build_graph(lab, grains, pixel_size_m=PX)
    interior = g.grains[~g.grains.touches_border]
    # away from the border (two lattice spacings), z is exactly 6
    deep = interior[(interior.x_m > 45 * PX) & (interior.x_m < 155 * PX) & (interior.y_m > 45 * PX) & (interior.y_m < 155 * PX)]
    assert len(deep) > 10
    assert set(deep.coordination) == {6}


def test_build_graph_single_grain_has_no_junctions():
    lab = np.zeros((10, 10), dtype=np.int32)
    lab[3:6, 3:6] = 1
    grains = measure_grains(lab, pixel_size_m=PX)
    g = build_graph(lab, grains, pixel_size_m=PX)
    assert len(g.junctions) == 0
    assert g.grains.coordination.tolist() == [0]
    assert np.isnan(g.summary["median_gap_m"])
    assert isinstance(g.junctions, pd.DataFrame)


def test_skiz_does_not_depend_on_the_band_height(monkeypatch):
    """Zones computed band by band (bounded memory) equal a single band, and so do the junctions."""
    import morpho.graph as graph
    import morpho.measure as measure
    from skimage.measure import label

    rng = np.random.default_rng(4)
    lab = label(rng.random((130, 110)) > 0.85, connectivity=1).astype(np.int32)
    monkeypatch.setattr(measure, "BAND_ROWS", 10**6)
    zone_1, _ = graph._zones(lab)
    whole = graph.skiz_junctions(lab, pixel_size_m=1e-9)
    monkeypatch.setattr(measure, "BAND_ROWS", 3)
    zone_3, feature = graph._zones(lab)
    assert np.array_equal(zone_1, zone_3)
    pd.testing.assert_frame_equal(graph.skiz_junctions(lab, pixel_size_m=1e-9), whole)
    # the distances from the feature indices are SciPy's exact EDT
    from scipy import ndimage as ndi

    rr, cc = np.nonzero(np.ones(lab.shape, dtype=bool))
    exact = ndi.distance_transform_edt(lab == 0).astype(np.float32)
    assert np.array_equal(graph._distance_px(feature, rr, cc), exact[rr, cc])


def test_skiz_takes_a_feature_transform_made_beforehand():
    """The pipeline makes the feature transform in a thread while the grains are measured; given
    to build_graph it gives the same graph, and one of the wrong shape is refused."""
    from skimage.measure import label

    from morpho.errors import InputError
    from morpho.graph import nearest_grain_pixels

    rng = np.random.default_rng(6)
    lab = label(rng.random((90, 120)) > 0.85, connectivity=1).astype(np.int32)
    grains = measure_grains(lab, pixel_size_m=PX)
    plain = build_graph(lab, grains, pixel_size_m=PX)
    given = build_graph(lab, grains, pixel_size_m=PX, feature=nearest_grain_pixels(lab))
    pd.testing.assert_frame_equal(given.junctions, plain.junctions)
    assert given.summary == plain.summary
    with pytest.raises(InputError, match="feature must have shape"):
        skiz_junctions(lab, pixel_size_m=PX, feature=nearest_grain_pixels(lab[:-1]))
