"""Tests for morpho.distribution: log-normal modes, Hatch–Choate, histograms (PHYSICS 6.2)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.integrate import trapezoid

from morpho.distribution import (
    AVERAGE_SIZE_DEFINITION,
    INTERIOR_BASIS,
    DistributionConfig,
    Mode,
    SizeDistribution,
    lognormal_modes,
    size_distribution,
)
from morpho.errors import ConfigError, InputError

UM = 1e-6

# V18 (PHYSICS.md section 5): 60 % lnN(ln 0.03 µm, 0.35²) + 40 % lnN(ln 0.5 µm, 0.45²).
V18_N = 3000
V18_FRACTIONS = (0.6, 0.4)
V18_MEDIANS_M = (0.03 * UM, 0.5 * UM)
V18_SIGMAS = (0.35, 0.45)
V18_SMALL_AREA_FRACTION = 0.00458  # Hatch–Choate on the true parameters, PHYSICS 6.2


def _v18_sample(seed: int = 18) -> np.ndarray:
    """3000 diameters (m), exactly 1800 + 1200 from the two modes, shuffled."""
    rng = np.random.default_rng(seed)
    n_small = round(V18_FRACTIONS[0] * V18_N)
    x = np.concatenate(
        [
            rng.normal(math.log(V18_MEDIANS_M[0]), V18_SIGMAS[0], n_small),
            rng.normal(math.log(V18_MEDIANS_M[1]), V18_SIGMAS[1], V18_N - n_small),
        ]
    )
    return np.exp(rng.permutation(x))


@pytest.fixture(scope="module")
def v18_diameters_m() -> np.ndarray:
    d = _v18_sample()
    d.setflags(write=False)
    return d


@pytest.fixture(scope="module")
def v18(v18_diameters_m: np.ndarray) -> SizeDistribution:
    return size_distribution(v18_diameters_m)


# ------------------------------------------------------------------------------------------
# V18: GMM/BIC recovers the two modes
# ------------------------------------------------------------------------------------------


def test_size_distribution_v18_bic_chooses_two_modes(v18: SizeDistribution) -> None:
    assert v18.n_modes == 2
    assert len(v18.modes) == 2
    assert set(v18.bic_by_k) == {1, 2, 3, 4}
    assert v18.bic == min(v18.bic_by_k.values())
    assert v18.bic == v18.bic_by_k[2]
    # Runner-up minus best; > 10 is "very strong" evidence on the Kass–Raftery scale.
    assert v18.delta_bic == pytest.approx(sorted(v18.bic_by_k.values())[1] - v18.bic, rel=1e-12)
    assert v18.delta_bic > 10


def test_size_distribution_v18_weights_within_0p03(v18: SizeDistribution) -> None:
    for mode, w in zip(v18.modes, V18_FRACTIONS, strict=True):
        assert mode.fraction == pytest.approx(w, abs=0.03)  # V18 tolerance
    assert sum(m.fraction for m in v18.modes) == pytest.approx(1.0, rel=1e-12)


def test_size_distribution_v18_medians_within_5_percent(v18: SizeDistribution) -> None:
    for mode, median_m in zip(v18.modes, V18_MEDIANS_M, strict=True):
        assert mode.diameter_m == pytest.approx(median_m, rel=0.05)  # V18 tolerance


def test_size_distribution_v18_sigma_within_10_percent(v18: SizeDistribution) -> None:
    for mode, sigma in zip(v18.modes, V18_SIGMAS, strict=True):
        assert mode.sigma_ln == pytest.approx(sigma, rel=0.10)  # V18 tolerance


def test_size_distribution_v18_small_mode_area_fraction(v18: SizeDistribution) -> None:
    # Statistical tolerance: the area fraction ∝ exp(2mu1 - 2mu2 + 2s1² - 2s2²); with 1800/1200
    # grains the s.d. of that exponent is sqrt(0.0165² + 0.026² + 0.008² + 0.0165²) ≈ 0.036,
    # i.e. 3.6 %.  rel = 0.15 is ~4 s.d.
    assert v18.modes[0].area_fraction == pytest.approx(V18_SMALL_AREA_FRACTION, rel=0.15)
    assert v18.modes[0].area_fraction + v18.modes[1].area_fraction == pytest.approx(1.0, rel=1e-12)


def test_size_distribution_v18_empirical_area_histogram_matches_theory(
    v18: SizeDistribution,
) -> None:
    # Bins below 0.13 µm hold the small mode only (its 99.99th percentile is ~0.11 µm, and the
    # large mode puts ~1e-3 of its area there).  Same statistical tolerance as above.
    upper = np.asarray(v18.bin_edges_m)[1:]
    small = float(np.sum(np.asarray(v18.area_weighted)[upper <= 0.13 * UM]))
    assert small == pytest.approx(V18_SMALL_AREA_FRACTION, rel=0.15)


def test_size_distribution_v18_bic_is_k_ln_n_minus_2_ln_l_like_sklearn(
    v18_diameters_m: np.ndarray, v18: SizeDistribution
) -> None:
    """Our BIC (k = 3K - 1) equals sklearn's GaussianMixture.bic for 1-D full covariance."""
    from sklearn.mixture import GaussianMixture

    x = np.log(v18_diameters_m / UM).reshape(-1, 1)
    for k in (1, 2):
        gmm = GaussianMixture(k, n_init=5, max_iter=1000, random_state=0).fit(x)
        assert gmm._n_parameters() == 3 * k - 1
        assert v18.bic_by_k[k] == pytest.approx(gmm.bic(x), rel=1e-9)


def test_size_distribution_v18_overall_means(
    v18_diameters_m: np.ndarray, v18: SizeDistribution
) -> None:
    d = v18_diameters_m
    assert v18.n_grains == V18_N
    assert v18.number_mean_diameter_m == pytest.approx(d.mean(), rel=1e-12)
    assert v18.geometric_mean_diameter_m == pytest.approx(np.exp(np.log(d).mean()), rel=1e-12)
    assert v18.area_weighted_mean_diameter_m == pytest.approx(
        (d**3).sum() / (d**2).sum(), rel=1e-12
    )
    assert v18.median_diameter_m == pytest.approx(np.median(d), rel=1e-12)
    # Geometric mean vs theory exp(0.6 ln 0.03 + 0.4 ln 0.5) µm = 0.0924 µm (PHYSICS 6.2 quotes
    # 0.090 for its own draw).  With fixed 1800/1200 counts the s.d. of <ln D> is
    # sqrt((0.6·0.35² + 0.4·0.45²)/3000) = 0.0072, so rel 0.03 is ~4 s.d.
    theory_m = math.exp(0.6 * math.log(0.03) + 0.4 * math.log(0.5)) * UM
    assert v18.geometric_mean_diameter_m == pytest.approx(theory_m, rel=0.03)
    # The ordering the paper check relies on: geometric < number < area-weighted.
    assert (
        v18.geometric_mean_diameter_m
        < v18.number_mean_diameter_m
        < v18.area_weighted_mean_diameter_m
    )


def test_size_distribution_v18_histogram_is_decade_aligned(v18: SizeDistribution) -> None:
    edges = np.asarray(v18.bin_edges_m)
    steps = np.log10(edges) * 10  # 10 bins per decade -> integer steps
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-9)
    np.testing.assert_allclose(np.diff(steps), 1.0, atol=1e-9)
    assert v18.counts.dtype == np.int64
    assert int(v18.counts.sum()) == V18_N
    assert float(v18.area_weighted.sum()) == pytest.approx(1.0, rel=1e-12)
    assert edges[0] <= v18.median_diameter_m <= edges[-1]
    assert not v18.bin_edges_m.flags.writeable


# ------------------------------------------------------------------------------------------
# Hatch–Choate formulas on given parameters
# ------------------------------------------------------------------------------------------


def test_lognormal_modes_hatch_choate_exact_on_v18_parameters() -> None:
    small, large = lognormal_modes(V18_FRACTIONS, V18_MEDIANS_M, V18_SIGMAS)
    mu1, mu2 = math.log(0.03), math.log(0.5)  # in ln µm; the shift cancels in the ratio
    a1 = 0.6 * math.exp(2 * mu1 + 2 * 0.35**2)
    a2 = 0.4 * math.exp(2 * mu2 + 2 * 0.45**2)
    assert small.area_fraction == pytest.approx(a1 / (a1 + a2), rel=1e-12)
    assert large.area_fraction == pytest.approx(a2 / (a1 + a2), rel=1e-12)
    assert small.area_fraction == pytest.approx(V18_SMALL_AREA_FRACTION, abs=5e-6)  # 3 s.f.
    assert small.area_median_diameter_m == pytest.approx(
        0.03 * UM * math.exp(2 * 0.35**2), rel=1e-12
    )
    assert large.area_median_diameter_m == pytest.approx(
        0.5 * UM * math.exp(2 * 0.45**2), rel=1e-12
    )


def test_lognormal_modes_mean_mode_median_exact() -> None:
    (mode,) = lognormal_modes([1.0], [0.2 * UM], [0.5])
    assert mode.diameter_m == pytest.approx(0.2 * UM, rel=1e-12)
    assert mode.mean_diameter_m == pytest.approx(0.2 * UM * math.exp(0.5**2 / 2), rel=1e-12)
    assert mode.mode_diameter_m == pytest.approx(0.2 * UM * math.exp(-(0.5**2)), rel=1e-12)
    assert mode.geometric_std == pytest.approx(math.exp(0.5), rel=1e-12)
    assert mode.fraction == 1.0
    assert mode.area_fraction == pytest.approx(1.0, rel=1e-12)


def test_lognormal_modes_sorted_and_normalised() -> None:
    modes = lognormal_modes([2.0, 6.0], [0.5 * UM, 0.03 * UM], [0.45, 0.35])
    assert [m.diameter_m for m in modes] == [0.03 * UM, 0.5 * UM]
    assert [m.fraction for m in modes] == pytest.approx([0.75, 0.25], rel=1e-12)


def test_lognormal_modes_area_weighted_density_is_number_density_times_d_squared(
    v18: SizeDistribution,
) -> None:
    """Independent check of Hatch–Choate: p_A(x) = p_N(x) e^{2x} / ∫ p_N e^{2x} dx."""
    x = np.linspace(math.log(1e-3), math.log(30.0), 20001)  # ln(D / 1 µm)
    d_m = np.exp(x) * UM
    p_n = v18.mixture_density(d_m)
    p_a = v18.mixture_density(d_m, weighting="area")
    expected = p_n * np.exp(2 * x)
    expected /= trapezoid(expected, x)
    # Quadrature on 20001 points over ±10 σ: error far below 1e-6 of the peak.
    np.testing.assert_allclose(p_a, expected, rtol=0, atol=1e-6 * p_a.max())
    assert trapezoid(p_n, x) == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize(
    ("fractions", "medians", "sigmas", "match"),
    [
        ([0.5, 0.5], [1e-8], [0.3, 0.3], "equal length"),
        ([0.0, 0.0], [1e-8, 2e-8], [0.3, 0.3], "fractions"),
        ([0.5, -0.5], [1e-8, 2e-8], [0.3, 0.3], "fractions"),
        ([0.5, 0.5], [1e-8, 0.0], [0.3, 0.3], "median_diameters_m"),
        ([0.5, 0.5], [1e-8, 2e-8], [0.3, float("nan")], "sigmas_ln"),
    ],
)
def test_lognormal_modes_bad_parameters_raise_inputerror(
    fractions: list[float], medians: list[float], sigmas: list[float], match: str
) -> None:
    with pytest.raises(InputError, match=match):
        lognormal_modes(fractions, medians, sigmas)


# ------------------------------------------------------------------------------------------
# degenerate inputs (STYLE M19)
# ------------------------------------------------------------------------------------------


def test_size_distribution_zero_grains_gives_no_modes_and_nan() -> None:
    dist = size_distribution(np.array([]))
    assert dist.n_grains == 0
    assert dist.modes == ()
    assert dist.n_modes == 0
    assert dist.bic_by_k == {}
    for value in (
        dist.bic,
        dist.delta_bic,
        dist.geometric_mean_diameter_m,
        dist.number_mean_diameter_m,
        dist.area_weighted_mean_diameter_m,
        dist.median_diameter_m,
    ):
        assert math.isnan(value)
    assert dist.bin_edges_m.size == dist.counts.size == dist.area_weighted.size == 0
    summary = dist.to_summary()
    json.dumps(summary, allow_nan=False)
    assert summary["modes"] == []
    assert summary["average_size_m"] is None


def test_size_distribution_one_grain_gives_one_zero_width_mode() -> None:
    dist = size_distribution(np.array([42e-9]))
    assert dist.n_modes == 1
    (mode,) = dist.modes
    assert mode.diameter_m == pytest.approx(42e-9, rel=1e-12)
    assert mode.sigma_ln == 0.0
    assert mode.fraction == 1.0
    assert mode.area_fraction == 1.0
    assert mode.mean_diameter_m == mode.mode_diameter_m == mode.area_median_diameter_m
    assert math.isnan(dist.bic)
    assert int(dist.counts.sum()) == 1
    assert dist.median_diameter_m == pytest.approx(42e-9, rel=1e-12)


def test_size_distribution_all_equal_gives_single_mode_sigma_zero_without_warnings() -> None:
    # filterwarnings = error: any sklearn ConvergenceWarning would fail this test.
    dist = size_distribution(np.full(500, 0.1 * UM))
    assert dist.n_modes == 1
    assert dist.modes[0].sigma_ln == 0.0
    assert dist.modes[0].diameter_m == pytest.approx(0.1 * UM, rel=1e-12)
    assert math.isnan(dist.bic)
    assert math.isnan(dist.delta_bic)
    assert dist.bic_by_k == {}
    assert int(dist.counts.sum()) == 500
    assert dist.area_weighted_mean_diameter_m == pytest.approx(0.1 * UM, rel=1e-12)


def test_size_distribution_fewer_than_min_grains_uses_sample_moments() -> None:
    d = np.array([20e-9, 25e-9, 30e-9, 50e-9, 40e-9])
    dist = size_distribution(d)  # 5 < min_grains_for_fit = 10
    assert dist.n_modes == 1
    assert dist.modes[0].diameter_m == pytest.approx(np.exp(np.log(d).mean()), rel=1e-12)
    assert dist.modes[0].sigma_ln == pytest.approx(np.log(d).std(), rel=1e-12)
    assert math.isnan(dist.bic)
    assert dist.bic_by_k == {}


def test_size_distribution_k_limited_by_grains_per_mode() -> None:
    rng = np.random.default_rng(5)
    d = np.exp(rng.normal(math.log(50e-9), 0.4, 25))
    dist = size_distribution(d, config=DistributionConfig(min_grains_for_fit=10))
    assert set(dist.bic_by_k) == {1, 2}  # 25 // 10 = 2
    dist = size_distribution(d, config=DistributionConfig(min_grains_for_fit=20))
    assert set(dist.bic_by_k) == {1}
    assert math.isnan(dist.delta_bic)


def test_size_distribution_heavily_tied_diameters_no_warnings() -> None:
    """Pixel-quantised diameters (few distinct values) must not leak sklearn warnings."""
    d = np.repeat([20e-9, 21e-9, 300e-9], [40, 30, 30])
    dist = size_distribution(d)
    assert max(dist.bic_by_k) <= 3  # K <= number of distinct diameters
    assert dist.n_grains == 100


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.array([1e-8, np.nan]), "finite and > 0"),
        (np.array([1e-8, np.inf]), "finite and > 0"),
        (np.array([1e-8, 0.0]), "finite and > 0"),
        (np.array([1e-8, -2e-8]), "finite and > 0"),
        (np.ones((2, 2)) * 1e-8, "1-D"),
        (np.array(["a", "b"]), "array of numbers"),
    ],
)
def test_size_distribution_invalid_diameters_raise_inputerror(bad: np.ndarray, match: str) -> None:
    with pytest.raises(InputError, match=match):
        size_distribution(bad)


def test_size_distribution_wrong_config_type_raises_configerror() -> None:
    with pytest.raises(ConfigError, match="DistributionConfig"):
        size_distribution(np.array([1e-8]), config={"max_modes": 2})  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# determinism, summary, density
# ------------------------------------------------------------------------------------------


def test_size_distribution_is_deterministic(
    v18_diameters_m: np.ndarray, v18: SizeDistribution
) -> None:
    again = size_distribution(v18_diameters_m)
    assert again.modes == v18.modes  # exact equality: same seed, same data
    assert again.bic_by_k == v18.bic_by_k
    np.testing.assert_array_equal(again.counts, v18.counts)


def test_size_distribution_robust_to_strict_floating_point_errors() -> None:
    """Underflow inside sklearn or the densities must not surface under errstate(all='raise')."""
    d = _v18_sample(seed=3)[:600]
    with np.errstate(all="raise"):
        dist = size_distribution(d, config=DistributionConfig(max_modes=2, n_init=2))
        dist.mixture_density(np.geomspace(1e-10, 1e-4, 50), weighting="area")
    assert dist.n_modes == 2


def test_to_summary_is_strict_json_with_contract_keys(v18: SizeDistribution) -> None:
    summary = v18.to_summary()
    text = json.dumps(summary, allow_nan=False)
    assert json.loads(text) == summary
    assert summary["weighting"] == "number"
    assert summary["basis"] == INTERIOR_BASIS
    assert summary["n_modes"] == 2
    assert summary["n_grains"] == V18_N
    assert set(summary["bic_by_k"]) == {"1", "2", "3", "4"}
    for mode_dict in summary["modes"]:
        assert {"diameter_m", "sigma_ln", "fraction", "area_fraction"} <= set(mode_dict)
    assert summary["area_weighted"]["mode_fractions"] == [m.area_fraction for m in v18.modes]
    assert summary["average_size_m"] == v18.geometric_mean_diameter_m
    assert summary["average_size_definition"] == AVERAGE_SIZE_DEFINITION


def test_mode_to_dict_round_trips_fields() -> None:
    (mode,) = lognormal_modes([1.0], [3e-8], [0.3])
    data = mode.to_dict()
    assert data.pop("geometric_std") == pytest.approx(math.exp(0.3), rel=1e-12)
    assert Mode(**data) == mode


def test_mixture_density_invalid_arguments_raise_inputerror(v18: SizeDistribution) -> None:
    with pytest.raises(InputError, match="weighting"):
        v18.mixture_density(np.array([1e-7]), weighting="volume")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="component"):
        v18.mixture_density(np.array([1e-7]), component=2)


def test_mixture_density_components_sum_to_total(v18: SizeDistribution) -> None:
    d = np.geomspace(5e-9, 5e-6, 200)
    parts = sum(v18.mixture_density(d, component=c) for c in range(v18.n_modes))
    np.testing.assert_allclose(parts, v18.mixture_density(d), rtol=1e-12)


# ------------------------------------------------------------------------------------------
# configuration
# ------------------------------------------------------------------------------------------


def test_distribution_config_round_trip_exact() -> None:
    cfg = DistributionConfig(
        max_modes=3, n_init=7, bins_per_decade=20, random_state=11, min_grains_for_fit=15
    )
    data = cfg.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert DistributionConfig.from_dict(data) == cfg
    assert DistributionConfig.from_dict({}) == DistributionConfig()


def test_distribution_config_from_dict_unknown_key_raises_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"unknown config key distribution\.max_mode"):
        DistributionConfig.from_dict({"max_mode": 3})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("max_modes", 2.0),
        ("n_init", "5"),
        ("bins_per_decade", True),
        ("random_state", None),
        ("min_grains_for_fit", 10.5),
    ],
)
def test_distribution_config_wrong_type_raises_naming_key(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=key):
        DistributionConfig.from_dict({key: value})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("max_modes", 0),
        ("n_init", 0),
        ("bins_per_decade", 0),
        ("random_state", -1),
        ("random_state", 2**32),
        ("min_grains_for_fit", 1),
    ],
)
def test_distribution_config_out_of_range_raises_naming_field(key: str, value: int) -> None:
    with pytest.raises(ConfigError, match=key):
        DistributionConfig(**{key: value})


def test_distribution_config_from_dict_rejects_non_mapping() -> None:
    with pytest.raises(ConfigError, match=r"config section \[distribution\] must be a table of keys"):
        DistributionConfig.from_dict([("max_modes", 2)])  # type: ignore[arg-type]


def test_size_distribution_bins_per_decade_respected() -> None:
    d = np.geomspace(1e-8, 1e-6, 50)
    dist = size_distribution(d, config=DistributionConfig(bins_per_decade=5))
    ratios = np.asarray(dist.bin_edges_m)[1:] / np.asarray(dist.bin_edges_m)[:-1]
    np.testing.assert_allclose(ratios, 10 ** (1 / 5), rtol=1e-12)
    assert int(dist.counts.sum()) == 50  # both extremes (exactly on edges) are counted
