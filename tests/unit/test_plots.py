"""Tests for morpho.plots: histogram figure (vector PDF, embedded TrueType) and overlay array."""

from __future__ import annotations

import re
import struct
import subprocess
import sys

import numpy as np
import pytest

from morpho.distribution import SizeDistribution, lognormal_modes, size_distribution
from morpho.errors import InputError
from morpho.plots import (
    _JUNCTION_RGB,
    _OUTLINE_RGB,
    STYLE_FILE,
    _length_label,
    _nice_length_m,
    figure_to_bytes,
    histogram_figure,
    overlay_figure,
)

UM = 1e-6


def _bimodal(seed: int = 7, n: int = 400) -> np.ndarray:
    """Small V18-like sample (m): 60 % at 0.03 µm, 40 % at 0.5 µm."""
    rng = np.random.default_rng(seed)
    n_small = round(0.6 * n)
    x = np.r_[
        rng.normal(np.log(0.03 * UM), 0.35, n_small),
        rng.normal(np.log(0.5 * UM), 0.45, n - n_small),
    ]
    return np.exp(x)


@pytest.fixture(scope="module")
def dist() -> SizeDistribution:
    return size_distribution(_bimodal())


@pytest.fixture(scope="module")
def pdf_bytes(dist: SizeDistribution) -> bytes:
    return figure_to_bytes(histogram_figure(dist, title="test"), "pdf")


# ------------------------------------------------------------------------------------------
# histogram figure
# ------------------------------------------------------------------------------------------


def test_histogram_figure_pdf_embeds_truetype_fonts(pdf_bytes: bytes) -> None:
    assert pdf_bytes.startswith(b"%PDF")
    assert b"/FontFile2" in pdf_bytes  # Type 42 (TrueType) embedding, pdf.fonttype: 42
    assert b"/Type3" not in pdf_bytes
    assert b"/FontFile3" not in pdf_bytes


def test_histogram_figure_pdf_is_vector(pdf_bytes: bytes, pdf_content) -> None:
    assert b"/Subtype /Image" not in pdf_bytes  # no raster image anywhere
    content = pdf_content(pdf_bytes)
    # Path construction (m, l) and painting (f = fill, S = stroke) operators.
    assert len(re.findall(rb"[\d.]+ [\d.]+ m\n", content)) > 20
    assert len(re.findall(rb"[\d.]+ [\d.]+ l\n", content)) > 100
    assert re.search(rb"\nf\n", content)
    assert re.search(rb"\nS\n", content)


def test_histogram_figure_png_is_single_column_300_dpi(dist: SizeDistribution) -> None:
    png = figure_to_bytes(histogram_figure(dist), "png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width_px, height_px = struct.unpack(">II", png[16:24])
    assert width_px == round(3.4 * 300)  # 3.4 in single column at 300 dpi
    assert height_px > width_px // 2


def test_histogram_figure_svg_keeps_text_and_rcparams_untouched(dist: SizeDistribution) -> None:
    import matplotlib

    before = dict(matplotlib.rcParams)
    svg = figure_to_bytes(histogram_figure(dist), "svg")
    assert b"<svg" in svg
    assert b"<text" in svg  # svg.fonttype: none
    assert dict(matplotlib.rcParams) == before  # the style is applied in a context only


def test_figure_to_bytes_pdf_has_no_creation_date(pdf_bytes: bytes) -> None:
    """No timestamp in the file, so the same figure always gives the same bytes."""
    assert b"/CreationDate" not in pdf_bytes
    assert b"/Creator (morpho)" in pdf_bytes


def test_figure_to_bytes_unknown_format_raises(dist: SizeDistribution) -> None:
    with pytest.raises(InputError, match="'pdf', 'svg' or 'png'"):
        figure_to_bytes(histogram_figure(dist), "jpg")  # type: ignore[arg-type]


def test_histogram_figure_labels_modes_and_axes(dist: SizeDistribution) -> None:
    fig = histogram_figure(dist, title="my film")
    ax_n, ax_a = fig.axes
    assert ax_a.get_xlabel() == "Equivalent diameter $D$ (\u00b5m)"
    assert ax_n.get_ylabel() == "Grains per bin"
    assert ax_a.get_ylabel() == "Area fraction per bin"
    assert ax_n.get_title() == "my film"
    assert ax_n.get_xscale() == "log"
    labels = [re.fullmatch(r"([\d.]+) \u00b5m \((\d+)\u2009%\)", t.get_text()) for t in ax_n.texts]
    found = sorted((float(m[1]), int(m[2])) for m in labels if m)
    assert len(found) == 2, [t.get_text() for t in ax_n.texts]
    (d_small, pct_small), (d_large, pct_large) = found
    # Labels show the fitted medians (2 significant figures) and number fractions.
    assert d_small == pytest.approx(dist.modes[0].diameter_m / UM, rel=0.02)
    assert d_large == pytest.approx(dist.modes[1].diameter_m / UM, rel=0.02)
    assert pct_small == round(100 * dist.modes[0].fraction)
    assert pct_large == round(100 * dist.modes[1].fraction)
    # One bar outline/fill pair per panel plus the mixture total and its two components.
    assert len(ax_n.lines) >= 3


def test_histogram_figure_uses_nm_below_one_micron() -> None:
    rng = np.random.default_rng(2)
    fig = histogram_figure(size_distribution(np.exp(rng.normal(np.log(40e-9), 0.2, 200))))
    assert fig.axes[1].get_xlabel().endswith("(nm)")


def test_histogram_figure_zero_grains_says_so() -> None:
    fig = histogram_figure(size_distribution(np.array([])))
    assert [t.get_text() for ax in fig.axes for t in ax.texts] == ["no grains", "no grains"]


def test_histogram_figure_all_equal_diameters_draws() -> None:
    from morpho.plots import style_context

    fig = histogram_figure(size_distribution(np.full(30, 50e-9)))
    with style_context():
        fig.draw_without_rendering()  # the full draw path (sigma_ln = 0: no curve), no encoding
    lo, hi = fig.axes[1].get_xlim()
    assert hi / lo == pytest.approx(10.0, rel=1e-9)  # a single bin is widened to one decade
    assert lo < 50 < hi  # nm


def test_style_file_is_packaged_with_publication_settings() -> None:
    from importlib import resources

    text = resources.files("morpho").joinpath(STYLE_FILE).read_text(encoding="utf-8")
    assert re.search(r"^pdf\.fonttype:\s*42\s*$", text, re.M)
    assert re.search(r"^svg\.fonttype:\s*none\s*$", text, re.M)
    assert re.search(r"^savefig\.dpi:\s*300\s*$", text, re.M)
    assert re.search(r"^figure\.figsize:\s*3\.4,", text, re.M)


def test_import_plots_does_not_import_matplotlib() -> None:
    code = (
        "import sys, morpho.plots, morpho.distribution; "
        "print(sorted(m for m in ('matplotlib', 'cv2', 'sklearn', 'skimage') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------------
# overlay
# ------------------------------------------------------------------------------------------

# Two 10x10 square grains on a 40x60 image, matrix 20, metal 200.
_LABELS = np.zeros((40, 60), dtype=np.int32)
_LABELS[10:20, 10:20] = 1
_LABELS[10:20, 40:50] = 2
_IMAGE = np.where(_LABELS > 0, 200.0, 20.0)
_CENTROIDS_RC = np.array([[14.5, 14.5], [14.5, 44.5]])
_EDGES = np.array([[0, 1]])


def _overlay(**kwargs: object) -> np.ndarray:
    args = {"pixel_size_m": 5e-9}
    args.update(kwargs)
    return overlay_figure(_IMAGE, _LABELS, _CENTROIDS_RC, _EDGES, **args)  # type: ignore[arg-type]


def test_overlay_returns_rgb_uint8_of_image_shape() -> None:
    rgb = _overlay()
    assert rgb.shape == (40, 60, 3)
    assert rgb.dtype == np.uint8


def test_overlay_outline_pixels_coloured() -> None:
    rgb = _overlay()
    # Inner boundary of grain 1: its corner and edge pixels; the interior stays grey.
    for r, c in [(10, 10), (10, 15), (19, 12), (13, 19)]:
        assert tuple(rgb[r, c]) == _OUTLINE_RGB
    r, c = 12, 12  # interior of grain 1, off the junction row
    assert rgb[r, c, 0] == rgb[r, c, 1] == rgb[r, c, 2] == 255  # 99.5th percentile -> white
    assert rgb[2, 2, 0] == rgb[2, 2, 1] == rgb[2, 2, 2] == 0  # matrix -> black


def test_overlay_junction_drawn_between_centroids() -> None:
    # Centroids on pixel row 14 exactly, so the 1 px line covers row 14 at full intensity.
    rgb = overlay_figure(
        _IMAGE, _LABELS, np.array([[14.0, 14.0], [14.0, 44.0]]), _EDGES, pixel_size_m=5e-9
    )
    # Anti-aliased 1 px line: ~90 % of the colour on the centre row (matrix between grains).
    np.testing.assert_allclose(rgb[14, 22:38], np.tile(_JUNCTION_RGB, (16, 1)), atol=0.12 * 255)
    assert rgb[12, 30].tolist() == [0, 0, 0]  # two rows off the line: matrix, untouched


def test_overlay_edge_values_change_colour() -> None:
    edges = np.array([[0, 1], [1, 0]])
    low = overlay_figure(
        _IMAGE, _LABELS, _CENTROIDS_RC, edges[:1], edge_values=np.array([0.0]), pixel_size_m=5e-9
    )
    both = overlay_figure(
        _IMAGE, _LABELS, _CENTROIDS_RC, edges, edge_values=np.array([0.0, 1.0]), pixel_size_m=5e-9
    )
    # The second (max-value) edge is drawn last over the same segment, in another colour.
    assert not np.array_equal(low[15, 25:35], both[15, 25:35])


def test_overlay_has_white_scale_bar_bottom_right() -> None:
    rgb = _overlay()
    corner = rgb[30:, 30:]
    white = np.all(corner == 255, axis=2)
    assert white.sum() >= 5
    assert not np.any(np.all(rgb[:8, :8] == 255, axis=2))  # nothing white in the matrix corner


def test_overlay_downsamples_to_max_side() -> None:
    big_labels = np.kron(_LABELS, np.ones((20, 20), dtype=np.int32))  # 800 x 1200
    big_image = np.kron(_IMAGE, np.ones((20, 20)))
    rgb = overlay_figure(
        big_image, big_labels, _CENTROIDS_RC * 20 + 9.5, _EDGES, pixel_size_m=1e-9, max_side_px=300
    )
    assert rgb.shape == (200, 300, 3)
    # The outline survives the 4x reduction: grain 1's top edge is at row 200/4 = 50.
    assert np.any(np.all(rgb[49:52, 60:90] == _OUTLINE_RGB, axis=2))


@pytest.mark.parametrize(
    ("target_m", "nice_m", "label"),
    [
        (4.5e-7, 2e-7, "200 nm"),
        (1.3e-6, 1e-6, "1 \u00b5m"),
        (7e-9, 5e-9, "5 nm"),
        (2e-5, 2e-5, "20 \u00b5m"),
    ],
)
def test_scale_bar_length_is_round(target_m: float, nice_m: float, label: str) -> None:
    assert _nice_length_m(target_m) == pytest.approx(nice_m, rel=1e-12)
    assert _length_label(_nice_length_m(target_m)) == label


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"image": np.zeros((5, 5))}, InputError, "image's shape"),
        ({"labels": _LABELS.astype(float)}, TypeError, "integer label image"),
        ({"edges": np.array([[0, 2]])}, InputError, "0-based"),
        ({"edges": np.array([[0.0, 1.0]])}, TypeError, "integer indices"),
        ({"edge_values": np.array([1.0, 2.0])}, InputError, "one value per edge"),
        ({"pixel_size_m": 0.0}, InputError, "pixel_size_m"),
        ({"centroids_rc": np.array([[np.nan, 1.0], [2.0, 3.0]])}, InputError, "centroids_rc"),
        ({"max_side_px": 4}, InputError, "max_side_px"),
        ({"edge_value_scale": "sqrt"}, InputError, "edge_value_scale"),
    ],
)
def test_overlay_invalid_input_raises(kwargs: dict, exc: type[Exception], match: str) -> None:
    args = {
        "image": _IMAGE,
        "labels": _LABELS,
        "centroids_rc": _CENTROIDS_RC,
        "edges": _EDGES,
        "pixel_size_m": 5e-9,
    }
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        overlay_figure(
            args.pop("image"),
            args.pop("labels"),
            args.pop("centroids_rc"),
            args.pop("edges"),
            **args,
        )


def test_overlay_constant_image_and_no_edges() -> None:
    rgb = overlay_figure(
        np.full((30, 30), 7.0),
        np.zeros((30, 30), dtype=np.int32),
        np.empty((0, 2)),
        np.empty((0, 2), dtype=np.int64),
        pixel_size_m=1e-8,
    )
    assert rgb.shape == (30, 30, 3)
    assert rgb[0, 0].tolist() == [128, 128, 128]


def test_lognormal_modes_for_plot_zero_width_mode_has_no_density() -> None:
    (mode,) = lognormal_modes([1.0], [4e-8], [0.0])
    dist = size_distribution(np.full(12, 4e-8))
    assert dist.modes == (mode,)
    assert np.all(dist.mixture_density(np.geomspace(1e-8, 1e-7, 10)) == 0.0)


def test_inner_boundaries_equal_scikit_image_find_boundaries():
    from skimage.segmentation import expand_labels, find_boundaries

    from morpho.plots import _inner_boundaries

    rng = np.random.default_rng(0)
    for shape in [(300, 257), (5, 9), (1, 40), (1030, 77)]:
        lab = np.zeros(shape, np.int32)
        k = max(2, shape[0] * shape[1] // 200)
        lab[rng.integers(0, shape[0], k), rng.integers(0, shape[1], k)] = np.arange(1, k + 1)
        lab = expand_labels(lab, 4)
        lab[rng.random(shape) < 0.05] = 0
        for band in (512, 7, 1):
            assert np.array_equal(_inner_boundaries(lab, band), find_boundaries(lab, mode="inner", background=0))
