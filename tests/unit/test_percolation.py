"""Tests for morpho.percolation: V20 on random site images, a coverage sweep of synthetic films,
exact hand-made masks, the JSON summary, input validation and the figure."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from morpho.errors import ConfigError, InputError, PixelSizeError
from morpho.percolation import (
    PC_SITE_SQUARE_4,
    PC_SITE_SQUARE_8,
    PercolationResult,
    percolation_analysis,
    percolation_figure,
)
from morpho.plots import figure_to_bytes
from morpho.synthetic import make_sem_micrograph

PX_M = 2e-9
D_THEORY = 91 / 48  # 2D percolation mass dimension
V20_SEEDS = (0, 1, 2)


def _site_image(p: float, seed: int, size: int = 1024) -> np.ndarray:
    return np.random.default_rng(seed).random((size, size)) < p


@pytest.fixture(scope="module")
def v20() -> dict[int, PercolationResult]:
    """Random site images at p_c (4-connectivity), 1024^2, as in PHYSICS.md V20."""
    return {seed: percolation_analysis(_site_image(PC_SITE_SQUARE_4, seed), pixel_size_m=PX_M) for seed in V20_SEEDS}


@pytest.fixture(scope="module")
def below() -> PercolationResult:
    return percolation_analysis(_site_image(0.45, 0), pixel_size_m=PX_M)


@pytest.fixture(scope="module")
def above() -> PercolationResult:
    return percolation_analysis(_site_image(0.75, 0), pixel_size_m=PX_M)


# ------------------------------------------------------------------------------------------
# V20: random site percolation
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", V20_SEEDS)
def test_percolation_analysis_pc_sandbox_dimension_in_v20_band(v20, seed) -> None:
    res = v20[seed]
    # V20 tolerance: D_sandbox in [1.80, 1.96] (1.857-1.897 over 5 images, theory 1.896)
    assert 1.80 <= res.fractal_dimension_sandbox <= 1.96
    assert res.sandbox_fit_range_px == (2, 128)  # xi_p > L/8 at p_c, so the range is 2 .. L/8
    assert res.sandbox_n_centres == 2000


@pytest.mark.parametrize("seed", V20_SEEDS)
def test_percolation_analysis_pc_perimeter_slope_in_v20_band(v20, seed) -> None:
    # V20 tolerance: slope of ln P vs ln A over clusters with A >= 100 px in [0.9, 1.05]
    assert 0.9 <= v20[seed].perimeter_area_slope <= 1.05


def test_percolation_analysis_pc_mean_dimensions_match_theory(v20) -> None:
    d_sb = np.mean([r.fractal_dimension_sandbox for r in v20.values()])
    d_bc = np.mean([r.fractal_dimension_boxcount for r in v20.values()])
    d_rg = np.mean([r.fractal_dimension_area_rg for r in v20.values()])
    # image-to-image scatter of D_sandbox is ~0.02 (V20: 1.857-1.897), so the mean of 3 has an
    # SEM of ~0.012; 0.06 allows 3 SEM plus the finite-size bias (~0.03 low at 1024^2)
    assert abs(d_sb - D_THEORY) < 0.06
    # box counting and A vs R_g are biased low (V20: 1.81-1.85 and 1.77-1.81), within 0.15
    assert d_sb - 0.15 < d_bc < d_sb
    assert D_THEORY - 0.15 < d_rg < D_THEORY


def test_percolation_analysis_pc_verdict_is_near(v20) -> None:
    for res in v20.values():
        assert res.verdict == "near"
        assert math.isnan(res.crossover_radius_px)  # fractal up to L/8: no crossover to 2
        assert res.sandbox_fit_range_px[1] >= 10 * res.sandbox_fit_range_px[0]  # a decade of r


def test_percolation_analysis_pc_tau_fit_over_a_decade(v20) -> None:
    for res in v20.values():
        lo, hi = res.tau_fit_range_px
        assert hi / lo >= 10.0
        # effective exponent at 1024^2 (1.93-1.98 measured; theory 187/91 = 2.055): 0.15 covers
        # the correction-to-scaling bias plus the fit's statistical error (~0.02)
        assert abs(res.tau_fit - 187 / 91) < 0.15
        assert res.tau_fit_reason == ""


def test_percolation_analysis_pc_correlation_length_is_large(v20) -> None:
    # at p_c, xi_p of the finite clusters is limited only by the image (~100-400 px at 1024^2)
    for res in v20.values():
        assert res.correlation_length_px > 100.0
        assert res.correlation_length_m == pytest.approx(res.correlation_length_px * PX_M, rel=1e-12)


def test_percolation_analysis_below_pc_nothing_spans(below) -> None:
    assert not below.spans_x
    assert not below.spans_y
    assert below.n_spanning_clusters == 0
    assert below.verdict == "below"
    assert below.largest_cluster_fraction < 0.01  # the largest cluster is a few hundred px
    assert below.correlation_length_px < 20.0  # xi_p is a few px well below p_c


def test_percolation_analysis_below_pc_tau_is_nan_with_reason(below) -> None:
    assert math.isnan(below.tau_fit)
    assert below.tau_fit_range_px is None
    assert "not a power law" in below.tau_fit_reason


def test_percolation_analysis_above_pc_spans_with_large_pinf(above) -> None:
    assert above.spans_x
    assert above.spans_y
    assert above.largest_cluster_fraction > 0.95  # 0.994 measured; the rest are small islands
    assert above.verdict == "above"
    assert above.fractal_dimension_sandbox > 1.96  # homogeneous at every scale


def test_percolation_analysis_slightly_above_pc_reports_crossover() -> None:
    res = percolation_analysis(_site_image(0.65, 0), pixel_size_m=PX_M)
    assert res.verdict == "above"
    # xi_p ~ 7 px at p = 0.65; M(r) turns to r^2 at a few px
    assert 2.0 <= res.crossover_radius_px <= 20.0
    assert res.crossover_radius_m == pytest.approx(res.crossover_radius_px * PX_M, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_percolation_analysis_just_above_pc_with_short_xi_is_above(seed) -> None:
    """p = 0.60 (p_c + 0.007): a spanning film whose xi_p (57-87 px) is below L/8 = 128 px is
    homogeneous beyond xi_p inside the image: "above", even where the local slopes up to xi_p
    alone would look critical (seed 1 was "near" before the xi_p condition)."""
    mask = np.random.default_rng(seed).random((1024, 1024)) < 0.60
    res = percolation_analysis(mask, pixel_size_m=1e-9)
    assert res.spans_x or res.spans_y
    assert res.correlation_length_px < 128
    assert res.verdict == "above"


def test_percolation_analysis_mean_size_and_xi_grow_towards_pc(below, v20) -> None:
    mid = percolation_analysis(_site_image(0.55, 0), pixel_size_m=PX_M)
    assert below.mean_cluster_size_px < mid.mean_cluster_size_px < v20[0].mean_cluster_size_px
    assert below.correlation_length_px < mid.correlation_length_px < v20[0].correlation_length_px


def test_percolation_analysis_8_connectivity_at_its_own_pc_is_near() -> None:
    res = percolation_analysis(_site_image(PC_SITE_SQUARE_8, 0), pixel_size_m=PX_M, connectivity=8)
    assert res.connectivity == 8
    assert 1.80 <= res.fractal_dimension_sandbox <= 1.96
    assert res.verdict == "near"
    # the same image with 4-connectivity is far below its threshold
    res4 = percolation_analysis(_site_image(PC_SITE_SQUARE_8, 0), pixel_size_m=PX_M, connectivity=4)
    assert res4.verdict == "below"
    assert res4.n_clusters > res.n_clusters


def test_percolation_analysis_same_seed_is_deterministic() -> None:
    mask = _site_image(PC_SITE_SQUARE_4, 5, size=256)
    a = percolation_analysis(mask, pixel_size_m=PX_M, seed=3)
    b = percolation_analysis(mask, pixel_size_m=PX_M, seed=3)
    assert a.to_dict() == b.to_dict()
    np.testing.assert_array_equal(a.sandbox_mass_px, b.sandbox_mass_px)


def test_percolation_analysis_arrays_are_read_only(v20) -> None:
    with pytest.raises(ValueError):
        v20[0].cluster_area_px[0] = 0


def test_percolation_analysis_transpose_swaps_spanning_and_keeps_clusters(v20) -> None:
    mask = _site_image(PC_SITE_SQUARE_4, 0)
    res_t = percolation_analysis(mask.T, pixel_size_m=PX_M)
    res = v20[0]
    assert (res_t.spans_x, res_t.spans_y) == (res.spans_y, res.spans_x)
    np.testing.assert_array_equal(np.sort(res_t.cluster_area_px), np.sort(res.cluster_area_px))
    np.testing.assert_array_equal(np.sort(res_t.cluster_perimeter_px), np.sort(res.cluster_perimeter_px))


# ------------------------------------------------------------------------------------------
# coverage sweep of synthetic films
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sweep() -> list[PercolationResult]:
    """A film of touching 60 nm grains ("dense-grooves" with 0 px contact gaps) drawn to
    increasing coverage: ``large_coverage_target`` sets how much island area is placed."""
    out = []
    for target in (0.3, 0.6, 0.9, 1.4):
        sample = make_sem_micrograph(
            (512, 512),
            preset="dense-grooves",
            params={"pixel_gap_min_px": 0, "pixel_gap_max_px": 0, "large_coverage_target": target},
            rng=0,
        )
        out.append(percolation_analysis(sample.labels, pixel_size_m=sample.pixel_size_m))
    return out


def test_percolation_analysis_sweep_coverage_and_pinf_rise(sweep) -> None:
    p = [r.coverage_p for r in sweep]
    p_inf = [r.largest_cluster_fraction for r in sweep]
    assert np.all(np.diff(p) > 0)
    assert np.all(np.diff(p_inf) >= 0)
    assert p_inf[0] < 0.5 < p_inf[-1]  # from scattered clusters to one cluster holding the film


def test_percolation_analysis_sweep_clusters_per_metal_area_fall(sweep) -> None:
    per_area = [r.n_clusters / r.metal_area_px for r in sweep]
    assert np.all(np.diff(per_area) < 0)


def test_percolation_analysis_sweep_spanning_appears_at_high_coverage(sweep) -> None:
    spans = [(r.spans_x, r.spans_y) for r in sweep]
    assert spans[:2] == [(False, False), (False, False)]
    assert spans[2:] == [(True, True), (True, True)]
    assert sweep[0].verdict == "below"
    assert sweep[-1].verdict == "above"


def test_percolation_analysis_separated_grains_are_one_cluster_each() -> None:
    """inox-bimodal islands never touch (> 2 px apart), so each grain is one cluster."""
    sample = make_sem_micrograph((512, 512), preset="inox-bimodal", pixel_size_m=4e-9, rng=0)
    for connectivity in (4, 8):
        res = percolation_analysis(sample.labels, pixel_size_m=sample.pixel_size_m, connectivity=connectivity)
        assert res.n_clusters == len(sample.grains)
    # compact islands: their sandbox slope starts near 2 and falls, which is not a fractal
    assert res.verdict == "below"


def test_percolation_analysis_bridging_merges_clusters_not_metal() -> None:
    sample = make_sem_micrograph((512, 512), preset="inox-bimodal", pixel_size_m=4e-9, rng=0)
    results = [percolation_analysis(sample.labels, pixel_size_m=4e-9, bridge_px=b) for b in (0.0, 2.0, 5.0, 12.0)]
    n = [r.n_clusters for r in results]
    assert np.all(np.diff(n) < 0)
    assert all(r.coverage_p == results[0].coverage_p for r in results)
    assert all(r.metal_area_px == results[0].metal_area_px for r in results)
    assert np.all(np.diff([r.largest_cluster_fraction for r in results]) >= 0)


def test_percolation_analysis_bridging_dilation_and_edt_agree() -> None:
    """Up to 10 px the bridge is a disk dilation, beyond it the EDT: the same set either side."""
    mask = _site_image(0.1, 4, size=128)
    res_dil = percolation_analysis(mask, pixel_size_m=PX_M, bridge_px=10.0)
    res_edt = percolation_analysis(mask, pixel_size_m=PX_M, bridge_px=10.0 + 1e-9)
    np.testing.assert_array_equal(res_dil.cluster_area_px, res_edt.cluster_area_px)


# ------------------------------------------------------------------------------------------
# exact small cases
# ------------------------------------------------------------------------------------------

PLUS = np.pad(np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool), 2)  # 7 x 7

RING = np.pad(np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=bool), 1)  # 5 x 5, one hole

DIAGONAL = np.zeros((4, 4), dtype=bool)
DIAGONAL[1, 1] = DIAGONAL[2, 2] = True

#: Clusters of 1, 2 (horizontal domino) and 3 (vertical line) pixels, none touching a border.
SIZES_123 = np.zeros((7, 9), dtype=bool)
SIZES_123[1, 1] = True
SIZES_123[1, 4:6] = True
SIZES_123[2:5, 7] = True


def test_percolation_analysis_plus_shape_exact() -> None:
    res = percolation_analysis(PLUS, pixel_size_m=PX_M)
    assert res.coverage_p == pytest.approx(5 / 49, rel=1e-12)
    assert res.n_clusters == 1
    np.testing.assert_array_equal(res.cluster_area_px, [5])
    np.testing.assert_array_equal(res.cluster_perimeter_px, [12])
    assert res.cluster_rg_px[0] == pytest.approx(math.sqrt(4 / 5), rel=1e-12)  # 4 arms at 1 px
    assert (res.spans_x, res.spans_y) == (False, False)
    assert res.largest_cluster_fraction == 1.0


def test_percolation_analysis_ring_counts_hole_edges() -> None:
    res = percolation_analysis(RING, pixel_size_m=PX_M)
    np.testing.assert_array_equal(res.cluster_area_px, [8])
    np.testing.assert_array_equal(res.cluster_perimeter_px, [12 + 4])  # outer 12 + hole 4


@pytest.mark.parametrize(("connectivity", "n_clusters", "perimeters"), [(4, 2, [4, 4]), (8, 1, [8])])
def test_percolation_analysis_diagonal_pixels_depend_on_connectivity(connectivity, n_clusters, perimeters) -> None:
    res = percolation_analysis(DIAGONAL, pixel_size_m=PX_M, connectivity=connectivity)
    assert res.n_clusters == n_clusters
    np.testing.assert_array_equal(res.cluster_perimeter_px, perimeters)
    assert res.coverage_p == pytest.approx(2 / 16, rel=1e-12)


def test_percolation_analysis_diagonal_pixels_span_only_with_8_connectivity() -> None:
    corner = np.eye(2, dtype=bool)
    res4 = percolation_analysis(corner, pixel_size_m=PX_M, connectivity=4)
    res8 = percolation_analysis(corner, pixel_size_m=PX_M, connectivity=8)
    assert (res4.spans_x, res4.spans_y) == (False, False)
    assert (res8.spans_x, res8.spans_y) == (True, True)


def test_percolation_analysis_horizontal_bar_spans_x_only() -> None:
    mask = np.zeros((5, 7), dtype=bool)
    mask[2, :] = True
    res = percolation_analysis(mask, pixel_size_m=PX_M)
    assert (res.spans_x, res.spans_y) == (True, False)
    assert res.n_spanning_clusters == 1
    np.testing.assert_array_equal(res.cluster_perimeter_px, [14])  # image-border edges not counted
    assert res.largest_cluster_fraction == 1.0
    assert math.isnan(res.mean_cluster_size_px)  # no finite cluster
    assert res.verdict == "above"
    res_t = percolation_analysis(mask.T, pixel_size_m=PX_M)
    assert (res_t.spans_x, res_t.spans_y) == (False, True)


def test_percolation_analysis_mean_size_and_xi_exact() -> None:
    res = percolation_analysis(SIZES_123, pixel_size_m=PX_M)
    np.testing.assert_array_equal(np.sort(res.cluster_area_px), [1, 2, 3])
    # S = (1 + 4 + 9) / (1 + 2 + 3)
    assert res.mean_cluster_size_px == pytest.approx(14 / 6, rel=1e-12)
    assert res.mean_cluster_size_m2 == pytest.approx(14 / 6 * PX_M**2, rel=1e-12)
    # R^2 = 0, 1/4, 2/3: xi^2 = 2 (0 + 4/4 + 9 * 2/3) / (1 + 4 + 9) = 1
    assert res.correlation_length_px == pytest.approx(1.0, rel=1e-12)
    assert res.largest_cluster_fraction == pytest.approx(3 / 6, rel=1e-12)
    np.testing.assert_array_equal(res.ns_counts, [1, 2])  # bins [1, 2) and [2, 4)


def test_percolation_analysis_label_image_is_read_as_labels_gt_0() -> None:
    labels = np.zeros((7, 9), dtype=np.int32)
    labels[SIZES_123] = 3
    labels[0, 0] = -1  # not metal
    res_labels = percolation_analysis(labels, pixel_size_m=PX_M)
    res_mask = percolation_analysis(SIZES_123, pixel_size_m=PX_M)
    assert res_labels.to_dict() == res_mask.to_dict()


def test_percolation_analysis_no_metal_is_defined() -> None:
    res = percolation_analysis(np.zeros((80, 80), dtype=bool), pixel_size_m=PX_M)
    assert res.n_clusters == 0
    assert res.coverage_p == 0.0
    assert math.isnan(res.largest_cluster_fraction)
    assert math.isnan(res.fractal_dimension_sandbox)
    assert res.sandbox_reason == "no metal"
    assert res.verdict == "below"


def test_percolation_analysis_full_metal_is_one_homogeneous_cluster() -> None:
    res = percolation_analysis(np.ones((80, 80), dtype=bool), pixel_size_m=PX_M)
    assert res.n_clusters == 1
    assert (res.spans_x, res.spans_y) == (True, True)
    assert res.fractal_dimension_sandbox == pytest.approx(2.0, rel=1e-12)  # boxes always full
    assert res.verdict == "above"


def test_percolation_analysis_small_image_has_no_sandbox() -> None:
    res = percolation_analysis(PLUS, pixel_size_m=PX_M)
    assert math.isnan(res.fractal_dimension_sandbox)
    assert "too small" in res.sandbox_reason


# ------------------------------------------------------------------------------------------
# JSON summary
# ------------------------------------------------------------------------------------------


def test_to_dict_json_round_trip(v20) -> None:
    d = v20[0].to_dict()
    back = json.loads(json.dumps(d, allow_nan=False))
    assert back == d
    for key in (
        "coverage_p", "fractal_dimension_sandbox", "connectivity", "n_clusters", "largest_cluster_fraction",
        "spans_x", "spans_y", "mean_cluster_size_px", "mean_cluster_size_m2", "correlation_length_px",
        "correlation_length_m", "tau_fit", "tau_fit_range_px", "fractal_dimension_sandbox_stderr",
        "sandbox_fit_range_px", "fractal_dimension_boxcount", "boxcount_fit_range_px", "fractal_dimension_area_rg",
        "perimeter_area_slope", "perimeter_rg_slope", "crossover_radius_px", "verdict",
    ):
        assert key in d
    assert d["coverage_p"] == v20[0].coverage_p
    assert d["sandbox_fit_range_px"] == [2, 128]
    assert d["mean_cluster_size_m2"] == pytest.approx(d["mean_cluster_size_px"] * PX_M**2, rel=1e-12)


def test_to_dict_nan_becomes_none() -> None:
    d = percolation_analysis(np.zeros((80, 80), dtype=bool), pixel_size_m=PX_M).to_dict()
    json.dumps(d, allow_nan=False)
    assert d["fractal_dimension_sandbox"] is None
    assert d["largest_cluster_fraction"] is None
    assert d["tau_fit"] is None
    assert d["crossover_radius_px"] is None


# ------------------------------------------------------------------------------------------
# validation
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metal", "match"),
    [
        (np.zeros((4, 4, 3), dtype=bool), "must be 2-D"),
        (np.zeros((0, 5), dtype=bool), "is empty"),
        (np.array([[0.0, np.nan]]), "NaN or inf"),
        (np.array([["a", "b"]]), "bool or numeric"),
    ],
)
def test_percolation_analysis_bad_mask_raises_inputerror(metal, match) -> None:
    with pytest.raises(InputError, match=match) as info:
        percolation_analysis(metal, pixel_size_m=PX_M)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"connectivity": 6}, "connectivity must be 4"),
        ({"connectivity": True}, "connectivity must be 4"),
        ({"bridge_px": -1.0}, "bridge_px must be finite and >= 0"),
        ({"bridge_px": "2"}, "bridge_px must be a number"),
        ({"n_sandbox_centres": 0}, "n_sandbox_centres must be an integer >= 1"),
        ({"seed": 1.5}, "seed must be an integer"),
    ],
)
def test_percolation_analysis_bad_option_raises_configerror(kwargs, match) -> None:
    with pytest.raises(ConfigError, match=match) as info:
        percolation_analysis(PLUS, pixel_size_m=PX_M, **kwargs)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("pixel_size_m", [0.0, -1e-9, math.inf, "2 nm"])
def test_percolation_analysis_bad_pixel_size_raises(pixel_size_m) -> None:
    with pytest.raises(PixelSizeError, match="pixel_size_m"):
        percolation_analysis(PLUS, pixel_size_m=pixel_size_m)


# ------------------------------------------------------------------------------------------
# figure
# ------------------------------------------------------------------------------------------


def test_percolation_figure_has_three_log_log_axes_and_saves_pdf(v20, pdf_content) -> None:
    fig = percolation_figure(v20[0])
    assert len(fig.axes) == 3
    for ax in fig.axes:
        assert ax.get_xscale() == "log"
        assert ax.get_yscale() == "log"
        assert ax.get_xlabel()
        assert ax.get_ylabel()
    legends = " ".join(t.get_text() for ax in fig.axes for t in ax.get_legend().get_texts())
    for needle in ("\\tau", "slope", "$D$"):
        assert needle in legends
    assert fig.get_size_inches()[0] == pytest.approx(3.4)
    pdf = figure_to_bytes(fig, "pdf")
    assert pdf.startswith(b"%PDF")
    assert b"BT" in pdf_content(pdf)  # text drawn as text


def test_percolation_figure_double_width_puts_panels_side_by_side(above) -> None:
    fig = percolation_figure(above, width="double")
    assert fig.get_size_inches()[0] == pytest.approx(7.0)
    x0 = [ax.get_position().x0 for ax in fig.axes]
    assert x0[0] < x0[1] < x0[2]


def test_percolation_figure_without_metal_builds() -> None:
    res = percolation_analysis(np.zeros((80, 80), dtype=bool), pixel_size_m=PX_M)
    assert figure_to_bytes(percolation_figure(res), "pdf").startswith(b"%PDF")


def test_percolation_figure_bad_width_raises(above) -> None:
    with pytest.raises(InputError, match="figure width"):
        percolation_figure(above, width="triple")
