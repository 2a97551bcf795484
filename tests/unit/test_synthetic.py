"""Tests of morpho.synthetic: determinism, exact truth, geometry guarantees, rendering options."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage as ndi
from skimage.measure import label as sk_label

from morpho.errors import ConfigError, InputError
from morpho.synthetic import (
    GRAIN_TRUTH_COLUMNS,
    PRESETS,
    SyntheticSample,
    make_chain_graph,
    make_disk_mosaic,
    make_sem_micrograph,
    make_square_lattice_graph,
)

# 4 nm pixels make a 512 x 512 field 2 um wide: ~10 large islands (112 px) and ~15 small grains
# (7.5 px) -- small and fast, with both populations present.
SMALL_PIXEL_M = 4e-9
SMALL_SHAPE = (512, 512)


def _read_only(sample: SyntheticSample) -> SyntheticSample:
    sample.image.setflags(write=False)
    sample.labels.setflags(write=False)
    return sample


@pytest.fixture(scope="module")
def bimodal() -> SyntheticSample:
    return _read_only(make_sem_micrograph(SMALL_SHAPE, pixel_size_m=SMALL_PIXEL_M, rng=7))


@pytest.fixture(scope="module")
def with_databar() -> SyntheticSample:
    return _read_only(make_sem_micrograph(SMALL_SHAPE, pixel_size_m=SMALL_PIXEL_M, databar=True, rng=7))


@pytest.fixture(scope="module")
def large_field() -> SyntheticSample:
    # 1024 x 1024 at 4 nm: the 2048 x 2048 field at the preset's 2 nm, ~45 large islands and
    # ~90 small grains away from the border.
    return _read_only(make_sem_micrograph((1024, 1024), pixel_size_m=SMALL_PIXEL_M, rng=11))


def _no_other_label_within(labels: np.ndarray, ids: np.ndarray, distance_px: float) -> bool:
    """Return True if no pixel of another grain lies within `distance_px` of a pixel of a grain in `ids`."""
    r = math.ceil(distance_px)
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disk = yy**2 + xx**2 <= distance_px**2
    highest = ndi.maximum_filter(labels, footprint=disk, mode="constant", cval=0)
    filled = np.where(labels > 0, labels, np.iinfo(np.int32).max)
    lowest = ndi.minimum_filter(filled, footprint=disk, mode="constant", cval=np.iinfo(np.int32).max)
    sel = np.isin(labels, ids)
    return bool(np.all(highest[sel] == labels[sel]) and np.all(lowest[sel] == labels[sel]))


def _skiz_pairs(labels: np.ndarray) -> set[tuple[int, int]]:
    _, (ri, ci) = ndi.distance_transform_edt(labels == 0, return_indices=True)
    zone = labels[ri, ci].astype(np.int64)
    pairs: set[tuple[int, int]] = set()
    for a, b in ((zone[:, :-1], zone[:, 1:]), (zone[:-1, :], zone[1:, :])):
        diff = a != b
        lo, hi = np.minimum(a[diff], b[diff]), np.maximum(a[diff], b[diff])
        pairs.update(zip(lo.tolist(), hi.tolist(), strict=True))
    return pairs


# --- determinism -------------------------------------------------------------------------------


def test_make_sem_micrograph_same_seed_identical(bimodal: SyntheticSample) -> None:
    again = make_sem_micrograph(SMALL_SHAPE, pixel_size_m=SMALL_PIXEL_M, rng=7)
    np.testing.assert_array_equal(again.image, bimodal.image)
    np.testing.assert_array_equal(again.labels, bimodal.labels)
    pd.testing.assert_frame_equal(again.grains, bimodal.grains, check_exact=True)


def test_make_sem_micrograph_different_seed_differs(bimodal: SyntheticSample) -> None:
    other = make_sem_micrograph(SMALL_SHAPE, pixel_size_m=SMALL_PIXEL_M, rng=8)
    assert not np.array_equal(other.labels, bimodal.labels)
    assert not np.array_equal(other.image, bimodal.image)


def test_make_sem_micrograph_generator_does_not_touch_global_state() -> None:
    before = np.random.get_state()[1].copy()  # noqa: NPY002 (checking the legacy global state)
    make_sem_micrograph((128, 128), pixel_size_m=SMALL_PIXEL_M, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_make_sem_micrograph_lowdose_same_geometry_as_bimodal(bimodal: SyntheticSample) -> None:
    """Geometry and rendering use separate streams: a rendering-only preset keeps the grains."""
    low = make_sem_micrograph(SMALL_SHAPE, preset="lowdose", pixel_size_m=SMALL_PIXEL_M, rng=7)
    np.testing.assert_array_equal(low.labels, bimodal.labels)
    assert not np.array_equal(low.image, bimodal.image)


# --- truth consistency -------------------------------------------------------------------------


def test_make_sem_micrograph_table_matches_labels(bimodal: SyntheticSample) -> None:
    labels, grains, px = bimodal.labels, bimodal.grains, bimodal.pixel_size_m
    n = int(labels.max())
    assert list(grains.columns) == GRAIN_TRUTH_COLUMNS
    np.testing.assert_array_equal(grains["grain_id"], np.arange(1, n + 1))
    ids = np.arange(1, n + 1)
    area_px = ndi.sum_labels(np.ones_like(labels), labels, ids)
    centroids = np.asarray(ndi.center_of_mass(np.ones_like(labels), labels, ids))
    np.testing.assert_array_equal(grains["area_px"], area_px)
    assert grains["area_m2"].to_numpy() == pytest.approx(area_px * px**2, rel=1e-12)
    assert grains["diameter_m"].to_numpy() == pytest.approx(2 * np.sqrt(area_px * px**2 / np.pi), rel=1e-12)
    assert grains["x_m"].to_numpy() == pytest.approx(centroids[:, 1] * px, rel=1e-12)
    assert grains["y_m"].to_numpy() == pytest.approx(centroids[:, 0] * px, rel=1e-12)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    np.testing.assert_array_equal(grains["touches_border"], np.isin(ids, edge))


def test_make_sem_micrograph_labels_raster_order_single_components(bimodal: SyntheticSample) -> None:
    labels = bimodal.labels
    assert labels.dtype == np.int32
    values, first = np.unique(labels.ravel(), return_index=True)
    np.testing.assert_array_equal(values, np.arange(labels.max() + 1))
    assert np.all(np.diff(first[1:]) > 0)  # first pixels in raster order
    # Every grain is one 4-connected component, and no two grains touch even diagonally.
    assert sk_label(labels, background=0, connectivity=1).max() == labels.max()
    assert sk_label(labels > 0, connectivity=2).max() == labels.max()


def test_make_sem_micrograph_bimodal_grains_separated_by_min_gap(bimodal: SyntheticSample) -> None:
    """Islands are > 2 px apart; small grains > small_gap_min_m from every other grain."""
    px = bimodal.pixel_size_m
    mode = bimodal.grains["mode"].to_numpy()
    ids = bimodal.grains["grain_id"].to_numpy()
    small_gap_px = bimodal.params["small_gap_min_m"] / px
    assert _no_other_label_within(bimodal.labels, ids[mode == 1], 2.0)
    assert _no_other_label_within(bimodal.labels, ids[mode == 0], small_gap_px)


def test_make_sem_micrograph_bimodal_populations_match_preset(large_field: SyntheticSample) -> None:
    """Log-diameters of each population are centred on the preset medians."""
    grains, labels, p = large_field.grains, large_field.labels, large_field.params
    rows, cols = labels.shape
    boxes = ndi.find_objects(labels)
    height = np.array([b[0].stop - b[0].start for b in boxes])
    width = np.array([b[1].stop - b[1].start for b in boxes])
    # Miles-Lantuejoul weights undo the bias of dropping border grains (PHYSICS.md 6.1).
    weight = rows * cols / ((rows - height) * (cols - width))
    interior = ~grains["touches_border"].to_numpy()
    for mode, median_key, sigma_key, shrink in (
        (0, "small_median_diameter_m", "small_sigma_ln", 0.0),
        # cutting islands along shared boundaries shrinks them by ~2 % in diameter (documented)
        (1, "large_median_diameter_m", "large_sigma_ln", 0.03),
    ):
        sel = interior & (grains["mode"].to_numpy() == mode)
        x = np.log(grains["diameter_m"].to_numpy()[sel] / p[median_key])
        w = weight[sel]
        n_eff = w.sum() ** 2 / np.sum(w**2)
        assert n_eff >= 30
        # statistical: 3 standard errors of a weighted mean of n_eff log-normal values
        tol = 3 * p[sigma_key] / math.sqrt(n_eff) + shrink
        assert abs(np.sum(w * x) / w.sum()) < tol
    # The two populations do not overlap, and the number fraction is the preset's.
    d = grains["diameter_m"].to_numpy()
    mode = grains["mode"].to_numpy()
    assert d[(mode == 0)].max() < d[(mode == 1) & interior].min()
    assert np.mean(mode == 0) == pytest.approx(p["small_number_fraction"], abs=1.0 / len(grains))


def test_make_sem_micrograph_coverage_in_film_range(large_field: SyntheticSample) -> None:
    coverage = float(np.mean(large_field.labels > 0))
    assert 0.45 < coverage < 0.75


def test_make_sem_micrograph_dense_preset_higher_coverage(bimodal: SyntheticSample) -> None:
    dense = make_sem_micrograph(SMALL_SHAPE, preset="dense", pixel_size_m=SMALL_PIXEL_M, rng=7)
    assert np.mean(dense.labels > 0) > np.mean(bimodal.labels > 0)
    assert sk_label(dense.labels, background=0, connectivity=1).max() == dense.labels.max()


# --- rendering options -------------------------------------------------------------------------


def test_make_sem_micrograph_grains_brighter_than_matrix(bimodal: SyntheticSample) -> None:
    grain = bimodal.labels > 0
    assert bimodal.image.dtype == np.uint8
    assert bimodal.image[grain].mean() > bimodal.image[~grain].mean() + 50  # 8-bit levels


def test_make_sem_micrograph_dark_grains_inverts_contrast() -> None:
    dark = make_sem_micrograph(SMALL_SHAPE, pixel_size_m=SMALL_PIXEL_M, dark_grains=True, rng=7)
    grain = dark.labels > 0
    assert dark.image[grain].mean() < dark.image[~grain].mean() - 50
    assert dark.params["dark_grains"] is True


def test_make_sem_micrograph_bit_depth_16_uses_full_range() -> None:
    sample = make_sem_micrograph((128, 128), pixel_size_m=SMALL_PIXEL_M, bit_depth=16, rng=7)
    assert sample.image.dtype == np.uint16
    assert sample.image.max() > 255


def test_make_sem_micrograph_bad_bit_depth_raises() -> None:
    with pytest.raises(ConfigError, match="bit_depth must be 8 or 16"):
        make_sem_micrograph((64, 64), bit_depth=12, rng=0)  # type: ignore[arg-type]


def test_make_sem_micrograph_databar_rows_zero_and_dark(with_databar: SyntheticSample, bimodal: SyntheticSample) -> None:
    rows = with_databar.databar_rows
    assert rows == round(PRESETS["inox-bimodal"]["databar_fraction"] * SMALL_SHAPE[0])
    assert with_databar.image.shape == with_databar.labels.shape == SMALL_SHAPE
    bar = with_databar.image[-rows:]
    assert not with_databar.labels[-rows:].any()
    assert np.median(bar) < 20  # near-black strip
    assert bar.max() > 200  # white text and scale bar
    region = with_databar.labels[:-rows]
    np.testing.assert_array_equal(
        with_databar.grains["touches_border"].to_numpy(),
        np.isin(with_databar.grains["grain_id"], np.concatenate([region[-1], region[0], region[:, 0], region[:, -1]])),
    )
    assert bimodal.databar_rows == 0


def test_make_sem_micrograph_params_record_is_json(bimodal: SyntheticSample) -> None:
    record = json.loads(json.dumps(bimodal.params))
    assert set(PRESETS["inox-bimodal"]) <= set(record)
    assert record["pixel_size_m"] == SMALL_PIXEL_M
    assert record["seed"] == 7
    assert bimodal.pixel_size_m == SMALL_PIXEL_M


def test_make_sem_micrograph_params_override_applies() -> None:
    sample = make_sem_micrograph((128, 128), params={"small_number_fraction": 0.0}, pixel_size_m=SMALL_PIXEL_M, rng=1)
    assert sample.params["small_number_fraction"] == 0.0
    assert (sample.grains["mode"] == 1).all()


def test_make_sem_micrograph_tiny_shape_is_defined() -> None:
    """A field smaller than one island still gives a consistent (possibly one-grain) sample."""
    sample = make_sem_micrograph((16, 16), rng=0)
    assert len(sample.grains) == int(sample.labels.max())


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"preset": "nope"}, ConfigError, "unknown preset"),
        ({"params": {"large_median_diameter": 1e-7}}, ConfigError, "unknown synthetic parameter"),
        ({"params": {"small_sigma_ln": -1.0}}, ConfigError, "small_sigma_ln"),
        ({"params": {"large_gap_min_m": 3e-8, "large_gap_max_m": 1e-8}}, ConfigError, "large_gap_max_m"),
        ({"params": {"small_number_fraction": 1.0}}, ConfigError, "small_number_fraction"),
        ({"params": {"dose_counts_per_px": "60"}}, ConfigError, "must be a number"),
        ({"pixel_size_m": 0.0}, ConfigError, "pixel_size_m"),
    ],
)
def test_make_sem_micrograph_bad_params_raise(kwargs: dict, exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        make_sem_micrograph((64, 64), rng=0, **kwargs)


@pytest.mark.parametrize("shape", [(4, 64), (64,), (64.5, 64), "64x64"])
def test_make_sem_micrograph_bad_shape_raises(shape: object) -> None:
    with pytest.raises(InputError, match="shape"):
        make_sem_micrograph(shape, rng=0)  # type: ignore[arg-type]


def test_make_sem_micrograph_small_grains_do_not_fit_warns() -> None:
    params = {"small_number_fraction": 0.97, "small_median_diameter_m": 60e-9}
    with pytest.warns(UserWarning, match="small grains fit in the matrix"):
        sample = make_sem_micrograph((128, 128), preset="dense", pixel_size_m=SMALL_PIXEL_M, params=params, rng=0)
    assert sk_label(sample.labels, background=0, connectivity=1).max() == sample.labels.max()


# --- disk mosaic -------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["hex", "square", "random"])
def test_make_disk_mosaic_areas_match_disks(layout: str) -> None:
    sample = make_disk_mosaic((96, 128), [5.0, 7.5, 9.0], gap_px=4.0, layout=layout, rng=2)
    px = sample.pixel_size_m
    g = sample.grains
    # digitised disk: only pixels whose centres lie within sqrt(2)/2 of the circle can be
    # misassigned, so the equivalent diameter is within sqrt(2) px of 2 r
    assert np.all(np.abs(g["diameter_m"] - 2 * g["radius_m"]) <= math.sqrt(2) * px)
    assert not g["touches_border"].any()
    assert len(g) == int(sample.labels.max()) >= 4


def test_make_disk_mosaic_hex_junctions_are_skiz_neighbours() -> None:
    sample = make_disk_mosaic((96, 128), 6.0, gap_px=4.0, rng=0)
    junctions = sample.junctions
    assert junctions is not None
    pairs = set(zip(junctions["grain_a"].tolist(), junctions["grain_b"].tolist(), strict=True))
    assert pairs == _skiz_pairs(sample.labels)
    assert (junctions["grain_a"] < junctions["grain_b"]).all()
    # equal radii on a lattice: nearest neighbours are exactly the requested gap apart
    # (closed-form arithmetic); the few longer pairs are second neighbours along the border
    gap_m = junctions["gap_m"].to_numpy()
    nearest = np.isclose(gap_m, 4.0 * sample.pixel_size_m, rtol=1e-12, atol=0.0)
    assert nearest.mean() > 0.9
    assert np.all(gap_m[~nearest] > 4.0 * sample.pixel_size_m)
    degree = np.bincount(np.concatenate([junctions["grain_a"], junctions["grain_b"]]))
    assert degree.max() == 6  # triangular lattice


def test_make_disk_mosaic_noise_changes_image_not_labels() -> None:
    clean = make_disk_mosaic((64, 64), 6.0, gap_px=4.0, rng=0)
    noisy = make_disk_mosaic((64, 64), 6.0, gap_px=4.0, noise_sigma=0.1, rng=0)
    np.testing.assert_array_equal(clean.labels, noisy.labels)
    assert not np.array_equal(clean.image, noisy.image)
    assert clean.image[clean.labels > 0].min() > clean.image[clean.labels == 0].max()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"radii_px": 0.0, "gap_px": 2.0}, "radii_px"),
        ({"radii_px": 4.0, "gap_px": -1.0}, "gap_px"),
        ({"radii_px": 40.0, "gap_px": 2.0}, "no disk"),
        ({"radii_px": 4.0, "gap_px": 2.0, "layout": "triangular"}, "layout"),
    ],
)
def test_make_disk_mosaic_bad_input_raises(kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        make_disk_mosaic((48, 48), rng=0, **kwargs)


# --- graphs ------------------------------------------------------------------------------------


def test_make_square_lattice_graph_shapes() -> None:
    n_rows, n_cols = 4, 7
    grains, junctions = make_square_lattice_graph(n_rows, n_cols, spacing_m=1e-7, gap_m=1e-8)
    assert len(grains) == n_rows * n_cols
    assert len(junctions) == 2 * n_rows * n_cols - n_rows - n_cols
    assert (junctions["grain_a"] < junctions["grain_b"]).all()
    assert not junctions.duplicated(["grain_a", "grain_b"]).any()
    degree = np.bincount(np.concatenate([junctions["grain_a"], junctions["grain_b"]]), minlength=n_rows * n_cols + 1)[1:]
    assert degree.max() == 4
    assert degree.min() == 2
    # grain_id is raster order: row-major positions
    assert grains.loc[grains["grain_id"] == n_cols + 1, ["x_m", "y_m"]].to_numpy().tolist() == [[0.0, 1e-7]]
    assert junctions["gap_m"].to_numpy() == pytest.approx(1e-8, rel=1e-12)
    assert int(grains["touches_border"].sum()) == 2 * (n_rows + n_cols) - 4


def test_make_chain_graph_is_consecutive() -> None:
    grains, junctions = make_chain_graph(6, gap_sigma_ln=0.5, rng=4)
    assert len(grains) == 6
    assert junctions[["grain_a", "grain_b"]].to_numpy().tolist() == [[k, k + 1] for k in range(1, 6)]
    again = make_chain_graph(6, gap_sigma_ln=0.5, rng=4)[1]
    pd.testing.assert_frame_equal(junctions, again, check_exact=True)
    assert junctions["gap_m"].nunique() == 5  # log-normal gaps


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: make_chain_graph(0), "n must be"),
        (lambda: make_square_lattice_graph(0, 3), "n_rows"),
        (lambda: make_square_lattice_graph(2, 2, gap_m=2e-7, spacing_m=1e-7), "gap_m"),
        (lambda: make_chain_graph(3, gap_sigma_ln=-1.0), "gap_sigma_ln"),
    ],
)
def test_graph_generators_bad_input_raise(call: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        call()  # type: ignore[operator]


def test_make_sem_micrograph_truth_junctions_are_the_skiz_graph_of_the_labels():
    from morpho.graph import skiz_junctions

    sample = make_sem_micrograph((256, 256), preset="inox-bimodal", rng=4, databar=True)
    region = sample.labels[: 256 - sample.databar_rows]
    expected = skiz_junctions(region, pixel_size_m=sample.pixel_size_m)
    got = sample.junctions
    assert got[["grain_a", "grain_b"]].to_numpy().tolist() == expected[["grain_a", "grain_b"]].to_numpy().tolist()
    assert np.allclose(got.gap_m, expected.gap_m)
    assert (got.gap_m > 0).all()  # inox-bimodal grains never touch
