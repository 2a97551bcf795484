"""Figures: the size-distribution histogram and the grain/junction overlay.

Every figure uses one style file, ``morpho/morpho.mplstyle`` (single-column 3.4 in width, 8 pt
text, TrueType fonts embedded in PDF, text kept as text in SVG, 300 dpi PNG).  matplotlib,
OpenCV and scikit-image are imported inside the functions only, so ``import morpho.plots`` is
cheap and has no side effects (STYLE M9).  Nothing here touches the filesystem: figures are
returned as :class:`matplotlib.figure.Figure` objects (made without pyplot, so no GUI backend and
no global figure registry are involved) or as arrays, and :func:`figure_to_bytes` renders a
figure to PDF, SVG or PNG bytes for ``export`` to write.

Save figures with :func:`figure_to_bytes`, not ``fig.savefig``: some of the style's settings
(font embedding, dpi) are read by matplotlib at save time and are only in force inside the style
context that :func:`figure_to_bytes` opens.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from typing import TYPE_CHECKING, Literal

import numpy as np

from .errors import InputError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    import pandas as pd
    from matplotlib.figure import Figure

    from .distribution import SizeDistribution

__all__ = [
    "STYLE_FILE",
    "TABLE_FIGURES",
    "WIDTHS_IN",
    "compare_figure",
    "figure_to_bytes",
    "histogram_figure",
    "map_figure",
    "overlay_figure",
    "rho_fit_figure",
    "rho_t_figure",
    "set_width",
    "style_context",
    "table_figures",
    "value_histogram_figure",
]

#: Name of the matplotlib style file shipped inside the package.
STYLE_FILE: str = "morpho.mplstyle"

#: Single-column figure width (in), as in the style file.
_COLUMN_WIDTH_IN: float = 3.4

# Okabe–Ito colours (colour-blind safe), matching the style's prop_cycle.
_BAR_FACE = "#c6dbef"
_BAR_EDGE = "#4a6f8a"
_AREA_FACE = "#f6d2b5"
_AREA_EDGE = "#a0522d"
_FIT = "black"
_COMPONENT_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")

#: Overlay colours (RGB): grain outlines, junctions without values, scale bar.
_OUTLINE_RGB = (255, 40, 40)
_JUNCTION_RGB = (40, 160, 255)
_SCALEBAR_RGB = (255, 255, 255)


# --------------------------------------------------------------------------------------------
# style and output
# --------------------------------------------------------------------------------------------


@contextmanager
def style_context() -> Iterator[None]:
    """Context in which matplotlib uses morpho's style (``morpho.mplstyle``) and nothing else.

    The caller's rcParams are restored on exit; nothing is changed globally.
    """
    import matplotlib

    resource = resources.files("morpho").joinpath(STYLE_FILE)
    with resources.as_file(resource) as path, matplotlib.rc_context(fname=str(path)):
        yield


def figure_to_bytes(fig: Figure, fmt: Literal["pdf", "svg", "png"] = "pdf") -> bytes:
    """Render a figure to the bytes of a PDF, SVG or PNG file, in morpho's style.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure, e.g. from :func:`histogram_figure`.
    fmt : {"pdf", "svg", "png"}, default "pdf"
        Output format.  PDF and SVG are vector (PDF embeds TrueType fonts, SVG keeps text as
        text); PNG is rendered at 300 dpi.

    Returns
    -------
    bytes
        The file contents; write them with ``export`` (this function does no I/O).  The output is
        deterministic: no creation date is stored.

    Raises
    ------
    InputError
        If `fmt` is not one of the three formats.
    """
    metadata: dict[str, dict[str, str | None]] = {
        "pdf": {"Creator": "morpho", "CreationDate": None},
        "svg": {"Creator": "morpho", "Date": None},
        "png": {"Software": "morpho"},
    }
    if fmt not in metadata:
        msg = f"figure format must be 'pdf', 'svg' or 'png', got {fmt!r}"
        raise InputError(msg)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    with style_context():
        fig.savefig(buffer, format=fmt, metadata=metadata[fmt])
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# histogram
# --------------------------------------------------------------------------------------------


def _round_sig(value: float, digits: int = 2) -> str:
    """Format a positive number with `digits` significant figures and no exponent."""
    if not math.isfinite(value) or value <= 0:
        return f"{value:g}"
    return f"{float(f'{value:.{digits}g}'):g}"


def _percent(fraction: float) -> str:
    p = 100.0 * fraction
    if 99.0 < p < 99.95:
        return f"{p:.1f}\u2009%"
    if p >= 9.95:
        return f"{p:.0f}\u2009%"
    if p >= 0.995:
        return f"{p:.1f}\u2009%"
    return f"{p:.2f}\u2009%"


def _diameter_unit(dist: SizeDistribution) -> tuple[float, str]:
    """Display unit for the diameters: nm when everything is below 1 µm, else µm."""
    if dist.n_grains == 0 or float(dist.bin_edges_m[-1]) <= 1.0001e-6:
        return 1e-9, "nm"
    return 1e-6, "\u00b5m"


def _log_axis(ax: Axes, lo: float, hi: float) -> None:
    """Log x axis over [lo, hi] (widened to at least one decade), plain-number tick labels.

    When the axis spans less than about two decades, the 2× and 5× minor ticks are labelled too.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if hi / lo < 10.0:
        centre = math.sqrt(lo * hi)
        lo, hi = centre / math.sqrt(10.0), centre * math.sqrt(10.0)
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(LogLocator(base=10.0, numticks=12))
    ax.xaxis.set_minor_locator(LogLocator(base=10.0, subs=np.arange(2.0, 10.0), numticks=12))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    if hi / lo < 10.0**2.1:

        def minor_label(v: float, _pos: int) -> str:
            mantissa = round(v / 10.0 ** math.floor(math.log10(v) + 1e-9), 6)
            return f"{v:g}" if mantissa in (2.0, 5.0) else ""

        ax.xaxis.set_minor_formatter(FuncFormatter(minor_label))
    else:
        ax.xaxis.set_minor_formatter(NullFormatter())


def histogram_figure(dist: SizeDistribution, *, title: str | None = None) -> Figure:
    """Log-binned grain-size histogram with the fitted log-normal modes.

    Top panel: number of grains per logarithmic bin of equivalent diameter, the fitted mixture
    (total, solid black; components, dashed colours) scaled to counts, and each mode's median
    marked and labelled with its number fraction, e.g. "30 nm (60 %)".  Bottom panel: the same
    grains weighted by area (fraction of the total grain area per bin) with the Hatch–Choate
    area-weighted mixture and each mode's area fraction.  Diameters are shown in nm when all are
    below 1 µm, else in µm.

    Parameters
    ----------
    dist : SizeDistribution
        From :func:`morpho.distribution.size_distribution`.
    title : str, optional
        Title above the top panel.

    Returns
    -------
    matplotlib.figure.Figure
        3.4 in wide, in morpho's style, not attached to pyplot.  Render it with
        :func:`figure_to_bytes`.

    Notes
    -----
    A mode of fraction w, median exp(mu) and width s contributes
    ``n_grains * w * N(ln D; mu, s²) * Δx`` grains to a bin of width Δx = ln(10) /
    bins_per_decade, which is what the curves show.  A 0-grain distribution gives empty axes
    saying "no grains"; a mode of zero width (all diameters equal) is marked but has no curve.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with style_context():
        fig = Figure(figsize=(_COLUMN_WIDTH_IN, 3.9))
        FigureCanvasAgg(fig)
        ax_n, ax_a = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3.0, 2.0]})
        scale_m, unit = _diameter_unit(dist)
        if dist.n_grains == 0:
            lo, hi = 1.0, 1000.0
        else:
            lo, hi = float(dist.bin_edges_m[0]) / scale_m, float(dist.bin_edges_m[-1]) / scale_m
        _log_axis(ax_a, lo, hi)  # the axes share x, so one call sets both
        ax_n.set_ylabel("Grains per bin")
        ax_a.set_ylabel("Area fraction per bin")
        ax_a.set_xlabel(f"Equivalent diameter $D$ ({unit})")
        if title:
            ax_n.set_title(title)
        if dist.n_grains == 0:
            for ax in (ax_n, ax_a):
                ax.text(0.5, 0.5, "no grains", transform=ax.transAxes, ha="center", va="center")
            return fig
        _draw_number_panel(ax_n, dist, scale_m, unit)
        _draw_area_panel(ax_a, dist, scale_m)
    return fig


def _curve_grid_m(ax: Axes, scale_m: float) -> np.ndarray:
    """Diameters (m) spanning the axis's x range, for smooth curves."""
    lo, hi = ax.get_xlim()
    return np.geomspace(lo, hi, 600) * scale_m


def _bin_width_ln(dist: SizeDistribution) -> float:
    edges = np.asarray(dist.bin_edges_m)
    return float(np.log(edges[1] / edges[0]))


def _draw_number_panel(ax: Axes, dist: SizeDistribution, scale_m: float, unit: str) -> None:
    edges = np.asarray(dist.bin_edges_m) / scale_m
    counts = np.asarray(dist.counts, dtype=float)
    ax.stairs(counts, edges, fill=True, facecolor=_BAR_FACE, edgecolor="none", label="grains")
    ax.stairs(counts, edges, color=_BAR_EDGE, linewidth=0.6)
    grid_m = _curve_grid_m(ax, scale_m)
    to_counts = dist.n_grains * _bin_width_ln(dist)
    total = dist.mixture_density(grid_m) * to_counts
    drawable = [m for m in dist.modes if m.sigma_ln > 0]
    if len(drawable) > 1:
        for c, mode in enumerate(dist.modes):
            if mode.sigma_ln <= 0:
                continue
            colour = _COMPONENT_COLOURS[c % len(_COMPONENT_COLOURS)]
            component = dist.mixture_density(grid_m, component=c) * to_counts
            # Hide the tails (< 0.5 % of the peak) so they do not run along the baseline.
            component[component < 0.005 * component.max()] = np.nan
            ax.plot(
                grid_m / scale_m,
                component,
                color=colour,
                linestyle=(0, (3.0, 1.5)),
                linewidth=0.9,
            )
    if drawable:
        label = f"log-normal fit, $K$ = {dist.n_modes}"
        ax.plot(grid_m / scale_m, total, color=_FIT, linewidth=1.1, label=label)
    top = max(float(counts.max()), float(total.max()) if total.size else 0.0)
    ax.set_ylim(0.0, 1.42 * top if top > 0 else 1.0)

    # Mark and label each mode's median (a log-binned histogram peaks there).
    for c, mode in enumerate(dist.modes):
        d_u = mode.diameter_m / scale_m
        if mode.sigma_ln > 0:
            peak = float(dist.mixture_density(np.array([mode.diameter_m]))[0]) * to_counts
        else:
            peak = float(counts.max())
        colour = _COMPONENT_COLOURS[c % len(_COMPONENT_COLOURS)]
        ax.plot([d_u, d_u], [0.0, peak], color=colour, linewidth=0.7, linestyle=":")
        stagger = 1.0 + 0.09 * (c % 2) if len(dist.modes) > 2 else 1.0
        ax.annotate(
            f"{_round_sig(d_u)} {unit} ({_percent(mode.fraction)})",
            xy=(d_u, peak),
            xytext=(d_u, peak + 0.06 * top * stagger),
            ha="center",
            va="bottom",
            fontsize=6.5,
            color=colour,
            arrowprops={
                "arrowstyle": "-",
                "color": colour,
                "linewidth": 0.5,
                "shrinkA": 0,
                "shrinkB": 0,
            },
        )
    per_decade = round(math.log(10.0) / _bin_width_ln(dist))
    info = f"$n$ = {dist.n_grains}, {per_decade} bins/decade"
    if math.isfinite(dist.delta_bic):
        info += f"\n\u0394BIC = {dist.delta_bic:.0f}"
    ax.text(0.98, 0.96, info, transform=ax.transAxes, ha="right", va="top", fontsize=6.5)
    ax.legend(loc="upper left", fontsize=6.5)


def _draw_area_panel(ax: Axes, dist: SizeDistribution, scale_m: float) -> None:
    edges = np.asarray(dist.bin_edges_m) / scale_m
    area = np.asarray(dist.area_weighted, dtype=float)
    ax.stairs(area, edges, fill=True, facecolor=_AREA_FACE, edgecolor="none", label="by area")
    ax.stairs(area, edges, color=_AREA_EDGE, linewidth=0.6)
    grid_m = _curve_grid_m(ax, scale_m)
    curve = dist.mixture_density(grid_m, weighting="area") * _bin_width_ln(dist)
    if np.any(curve > 0):
        ax.plot(grid_m / scale_m, curve, color=_FIT, linewidth=1.1, label="Hatch\u2013Choate")
    top = max(float(area.max()), float(curve.max()))
    ax.set_ylim(0.0, 1.35 * top if top > 0 else 1.0)
    for c, mode in enumerate(dist.modes):
        colour = _COMPONENT_COLOURS[c % len(_COMPONENT_COLOURS)]
        d_u = mode.area_median_diameter_m / scale_m
        if mode.sigma_ln > 0:
            y = float(
                dist.mixture_density(
                    np.array([mode.area_median_diameter_m]), weighting="area", component=c
                )[0]
            )
            y *= _bin_width_ln(dist)
        else:
            y = float(area.max())
        ax.annotate(
            _percent(mode.area_fraction),
            xy=(d_u, y),
            xytext=(0.0, 3.0),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=6.5,
            color=colour,
        )
    ax.legend(loc="upper left", fontsize=6.5)


# --------------------------------------------------------------------------------------------
# overlay
# --------------------------------------------------------------------------------------------


def _validate_overlay(
    image: np.ndarray,
    labels: np.ndarray,
    centroids_rc: np.ndarray,
    edges: np.ndarray,
    edge_values: np.ndarray | None,
    pixel_size_m: float,
    max_side_px: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    img = np.asarray(image)
    if img.ndim != 2 or img.size == 0:
        msg = f"image must be a non-empty 2-D grey image (rows, cols), got shape {img.shape}"
        raise InputError(msg)
    if not (
        np.issubdtype(img.dtype, np.number) and not np.issubdtype(img.dtype, np.complexfloating)
    ):
        msg = f"image must be real-valued, got dtype {img.dtype}"
        raise TypeError(msg)
    img = img.astype(np.float32, copy=False)
    if not np.all(np.isfinite(img)):
        msg = "image holds NaN or infinite values; replace them before drawing the overlay"
        raise InputError(msg)
    lab = np.asarray(labels)
    if lab.shape != img.shape:
        msg = f"labels must have the image's shape {img.shape}, got {lab.shape}"
        raise InputError(msg)
    if not np.issubdtype(lab.dtype, np.integer):
        msg = f"labels must be an integer label image (0 = matrix), got dtype {lab.dtype}"
        raise TypeError(msg)
    cen = np.asarray(centroids_rc, dtype=float)
    if cen.size == 0:
        cen = cen.reshape(0, 2)
    if cen.ndim != 2 or cen.shape[1] != 2 or not np.all(np.isfinite(cen)):
        msg = (
            f"centroids_rc must be a finite (n, 2) array of (row, col) pixels, "
            f"got shape {cen.shape}"
        )
        raise InputError(msg)
    e = np.asarray(edges)
    if e.size == 0:
        e = np.empty((0, 2), dtype=np.int64)
    if e.ndim != 2 or e.shape[1] != 2:
        msg = f"edges must be an (m, 2) array of centroid indices, got shape {e.shape}"
        raise InputError(msg)
    if not np.issubdtype(e.dtype, np.integer):
        msg = f"edges must hold integer indices into centroids_rc, got dtype {e.dtype}"
        raise TypeError(msg)
    if e.size and (e.min() < 0 or e.max() >= cen.shape[0]):
        msg = (
            f"edges index centroids 0..{cen.shape[0] - 1} (0-based), but hold values "
            f"{int(e.min())}..{int(e.max())}"
        )
        raise InputError(msg)
    vals = None
    if edge_values is not None:
        vals = np.asarray(edge_values, dtype=float).reshape(-1)
        if vals.shape[0] != e.shape[0]:
            msg = f"edge_values must have one value per edge ({e.shape[0]}), got {vals.shape[0]}"
            raise InputError(msg)
    if not (
        isinstance(pixel_size_m, (int, float, np.floating))
        and not isinstance(pixel_size_m, bool)
        and math.isfinite(pixel_size_m)
        and pixel_size_m > 0
    ):
        msg = f"pixel_size_m must be a finite length > 0 in metres, got {pixel_size_m!r}"
        raise InputError(msg)
    if (
        isinstance(max_side_px, bool)
        or not isinstance(max_side_px, (int, np.integer))
        or max_side_px < 16
    ):
        msg = f"max_side_px must be an integer >= 16, got {max_side_px!r}"
        raise InputError(msg)
    return img, lab, cen, e.astype(np.int64), vals


def _nice_length_m(target_m: float) -> float:
    """Largest 1, 2 or 5 × 10^k metres not above `target_m`."""
    exponent = math.floor(math.log10(target_m))
    for mantissa in (5.0, 2.0, 1.0):
        value = mantissa * 10.0**exponent
        if value <= target_m * (1 + 1e-9):
            return value
    return 10.0**exponent


def _length_label(length_m: float) -> str:
    for factor, unit in ((1e-3, "mm"), (1e-6, "\u00b5m"), (1e-9, "nm")):
        if length_m >= factor * (1 - 1e-9):
            return f"{length_m / factor:.3g} {unit}"
    return f"{length_m / 1e-12:.3g} pm"


def _text_alpha(text: str, height_px: int) -> np.ndarray:
    """Render `text` as an anti-aliased alpha mask (uint8, 0..255), cap height ≈ `height_px`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 100.0
    size_pt = 1.4 * height_px * 72.0 / dpi
    width_px = int(height_px * (1.2 * len(text) + 4))
    box_px = int(3 * height_px + 8)
    fig = Figure(figsize=(width_px / dpi, box_px / dpi), dpi=dpi, facecolor="black")
    canvas = FigureCanvasAgg(fig)
    fig.text(
        0.02,
        0.5,
        text,
        color="white",
        fontsize=size_pt,
        family="DejaVu Sans",
        va="center",
        ha="left",
    )
    canvas.draw()
    alpha = np.asarray(canvas.buffer_rgba())[..., 0].copy()
    rows = np.flatnonzero(alpha.max(axis=1) > 0)
    cols = np.flatnonzero(alpha.max(axis=0) > 0)
    if rows.size == 0:
        return np.zeros((1, 1), dtype=np.uint8)
    return alpha[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _draw_scale_bar(rgb: np.ndarray, pixel_size_m: float) -> None:
    """Draw a round-length scale bar with its label in the bottom-right corner (in place)."""
    import cv2

    rows, cols = rgb.shape[:2]
    length_m = _nice_length_m(0.2 * cols * pixel_size_m)
    bar_px = max(1, round(length_m / pixel_size_m))
    side = max(rows, cols)
    thick = max(2, round(side / 160))
    text_h = max(7, round(side / 55))
    margin = max(4, round(side / 60))
    alpha = _text_alpha(_length_label(length_m), text_h)
    th, tw = alpha.shape
    gap = max(2, thick)
    box_w = max(bar_px, tw) + 2 * gap
    box_h = th + gap + thick + 2 * gap
    x1 = cols - margin
    y1 = rows - margin
    x0 = max(0, x1 - box_w)
    y0 = max(0, y1 - box_h)
    # Dark translucent backing so the bar reads on bright metal and dark matrix alike.
    rgb[y0:y1, x0:x1] = (rgb[y0:y1, x0:x1].astype(np.float32) * 0.35).astype(np.uint8)
    bx0 = x0 + (x1 - x0 - bar_px) // 2
    by1 = y1 - gap
    cv2.rectangle(rgb, (bx0, by1 - thick), (bx0 + bar_px - 1, by1 - 1), _SCALEBAR_RGB, -1)
    tx0 = x0 + (x1 - x0 - tw) // 2
    ty0 = y0 + gap
    region = rgb[ty0 : ty0 + th, max(tx0, 0) : tx0 + tw]
    a = alpha[: region.shape[0], : region.shape[1], None].astype(np.float32) / 255.0
    blended = region * (1.0 - a) + np.asarray(_SCALEBAR_RGB, dtype=np.float32) * a
    region[...] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def overlay_figure(
    image: np.ndarray,
    labels: np.ndarray,
    centroids_rc: np.ndarray,
    edges: np.ndarray,
    *,
    edge_values: np.ndarray | None = None,
    pixel_size_m: float,
    max_side_px: int = 2048,
    edge_value_scale: Literal["linear", "log"] = "linear",
) -> np.ndarray:
    """Draw grain outlines, junctions and a scale bar on the micrograph.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
        Grey micrograph, any real dtype.  Shown with a 0.5–99.5 percentile contrast stretch.
    labels : ndarray of int, shape (rows, cols)
        Label image, 0 = matrix, 1..n = grains.
    centroids_rc : ndarray, shape (n, 2)
        Grain centroids as (row, col) in pixels of `image` (origin at the centre of pixel
        (0, 0)).
    edges : ndarray of int, shape (m, 2)
        Junctions as pairs of 0-based row indices into `centroids_rc`.
    edge_values : ndarray, shape (m,), optional
        A value per junction (e.g. E_J/E_C or gap).  If given, segments are coloured with the
        "viridis" colour map (its darkest 15 % left out, so that low values stay visible on
        the dark matrix) from the smallest to the largest finite value (on a log scale with
        ``edge_value_scale="log"``, positive values only); non-finite values are drawn grey.
        If ``None``, all segments are azure (40, 160, 255).
    pixel_size_m : float
        Pixel size of `image` (m/px), for the scale bar.
    max_side_px : int, default 2048
        Images whose longer side exceeds this are shrunk (area averaging) so that it equals
        `max_side_px`; outlines are found at full resolution first so that none is lost.
    edge_value_scale : {"linear", "log"}, default "linear"
        Mapping of `edge_values` to colours.

    Returns
    -------
    ndarray of uint8, shape (rows', cols', 3)
        RGB image (convert to BGR before ``cv2.imwrite``).  rows', cols' are the input shape
        times min(1, max_side_px / max(rows, cols)), rounded.  Grain outlines (the grain pixels
        on each grain's boundary; thickened to about 1/1200 of the longer side) are red
        (255, 40, 40); a white scale bar of a round length
        (1, 2 or 5 × 10^k m, about a fifth of the width) with its label sits bottom right.

    Raises
    ------
    InputError
        If shapes disagree, an index is out of range, a value is not finite, or `pixel_size_m`
        is not a positive length.
    TypeError
        If `labels` or `edges` is not an integer array.

    Notes
    -----
    Input units: pixels and m/px.  All outlines are set in one vectorised assignment and all
    segments of one colour are drawn in one anti-aliased ``cv2.polylines`` call (sub-pixel
    positions, 4 fractional bits).
    """
    import cv2

    img, lab, cen, e, vals = _validate_overlay(
        image, labels, centroids_rc, edges, edge_values, pixel_size_m, max_side_px
    )
    if edge_value_scale not in ("linear", "log"):
        msg = f"edge_value_scale must be 'linear' or 'log', got {edge_value_scale!r}"
        raise InputError(msg)
    img, outline, scale = _shrunk_with_outlines(img, lab, max_side_px)
    out_rows, out_cols = img.shape

    lo, hi = np.percentile(img, [0.5, 99.5])
    if hi > lo:
        grey = np.clip((img - lo) * (255.0 / (hi - lo)), 0.0, 255.0)
    else:
        grey = np.full(img.shape, 128.0, dtype=np.float32)
    grey_u8 = np.rint(grey).astype(np.uint8)
    rgb = np.ascontiguousarray(np.repeat(grey_u8[:, :, None], 3, axis=2))
    outline_px = max(1, round(max(out_rows, out_cols) / 1200))
    if outline_px > 1:
        outline = (
            cv2.dilate(outline.astype(np.uint8), np.ones((outline_px, outline_px), np.uint8)) > 0
        )
    rgb[outline] = _OUTLINE_RGB

    if e.shape[0]:
        frac_bits = 4
        # Pixel-centre convention: output centre = (input centre + 0.5) * scale - 0.5.
        xy = (cen[:, ::-1] + 0.5) * scale - 0.5
        pts = np.rint(xy * (1 << frac_bits)).astype(np.int32)
        segments = np.stack([pts[e[:, 0]], pts[e[:, 1]]], axis=1)  # (m, 2, 2) as (x, y)
        thickness = max(1, round(max(out_rows, out_cols) / 900))
        for colour, members in _edge_colour_groups(vals, e.shape[0], edge_value_scale):
            cv2.polylines(
                rgb,
                list(segments[members]),
                isClosed=False,
                color=colour,
                thickness=thickness,
                lineType=cv2.LINE_AA,
                shift=frac_bits,
            )
    _draw_scale_bar(rgb, pixel_size_m / scale)
    return rgb


def _shrunk_with_outlines(img: np.ndarray, labels: np.ndarray,
                          max_side_px: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The image shrunk (area averaging) so its longer side is at most `max_side_px`, the grain
    outlines at that size (found at full resolution first, so none is lost), and the scale."""
    import cv2

    rows, cols = img.shape
    scale = min(1.0, max_side_px / max(rows, cols))
    out_rows, out_cols = max(1, round(rows * scale)), max(1, round(cols * scale))
    outline = _inner_boundaries(labels)
    if scale < 1.0:
        img = cv2.resize(img, (out_cols, out_rows), interpolation=cv2.INTER_AREA)
        # uint8 0/255 instead of float 0/1 (a quarter of the memory): the area average is
        # then rounded to 1/255, and "more than a fifth outline" is "> 51"
        outline = cv2.resize(outline.view(np.uint8) * np.uint8(255), (out_cols, out_rows),
                             interpolation=cv2.INTER_AREA) > 51
    return img, outline, scale


def _inner_boundaries(labels: np.ndarray, band_rows: int = 512) -> np.ndarray:
    """``skimage.segmentation.find_boundaries(labels, mode="inner")``, in bands of rows.

    A grain pixel is on its boundary when a 4-neighbour has another label (the frame reflects,
    as in scikit-image).  Band by band with one row of context, so that no full-size integer
    copy of the labels is made (on a 16384^2 image find_boundaries needs 2 GB).
    """
    from scipy import ndimage as ndi

    cross = ndi.generate_binary_structure(2, 1)
    out = np.zeros(labels.shape, dtype=bool)
    rows = labels.shape[0]
    for r0 in range(0, rows, band_rows):
        r1 = min(rows, r0 + band_rows)
        a, b = max(0, r0 - 1), min(rows, r1 + 1)
        block = labels[a:b]
        edge = ndi.grey_dilation(block, footprint=cross) != ndi.grey_erosion(block, footprint=cross)
        out[r0:r1] = edge[r0 - a:r0 - a + (r1 - r0)] & (labels[r0:r1] != 0)
    return out


def _edge_colour_groups(
    values: np.ndarray | None, n_edges: int, value_scale: str
) -> list[tuple[tuple[int, int, int], np.ndarray]]:
    """Group edges by colour: [(rgb, indices)], at most 64 colour levels plus grey."""
    if values is None:
        return [(_JUNCTION_RGB, np.arange(n_edges))]
    from matplotlib import colormaps

    v = values.astype(float)
    valid = np.isfinite(v)
    if value_scale == "log":
        valid &= v > 0
        v = np.where(valid, np.log10(np.where(valid, v, 1.0)), np.nan)
    groups: list[tuple[tuple[int, int, int], np.ndarray]] = []
    if np.any(~valid):
        groups.append(((160, 160, 160), np.flatnonzero(~valid)))
    if np.any(valid):
        lo, hi = float(np.min(v[valid])), float(np.max(v[valid]))
        t = np.zeros(n_edges) if hi <= lo else (np.where(valid, v, lo) - lo) / (hi - lo)
        n_levels = 64
        level = np.clip(np.rint(t * (n_levels - 1)).astype(int), 0, n_levels - 1)
        cmap = colormaps["viridis"]
        for lev in np.unique(level[valid]):
            members = np.flatnonzero(valid & (level == lev))
            # Skip the darkest 15 % of the map so that low values stay visible on dark matrix.
            r, g, b, _ = cmap(0.15 + 0.85 * lev / (n_levels - 1))
            groups.append(((int(r * 255), int(g * 255), int(b * 255)), members))
    return groups


def rho_fit_figure(
    series: list[tuple[str, np.ndarray, np.ndarray, object]], *, ylabel: str = r"$\rho$ (Ω/□)"
) -> Figure:
    """Measured rho(T) with the fitted Eq. 1 / Eq. 2 curves, one colour per field.

    Parameters
    ----------
    series : list of (label, temperature_K, rho, fit)
        `fit` is a :class:`morpho.fit.FitResult` (its ``predict`` draws the curve).
    ylabel : str
        Label of the resistance axis.

    Returns
    -------
    matplotlib.figure.Figure
        Log-log axes: points are the data, lines the fits.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with style_context():
        fig = Figure(figsize=(_COLUMN_WIDTH_IN, 2.8))
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        for k, (label, t, rho, fit) in enumerate(series):
            colour = _COMPONENT_COLOURS[k % len(_COMPONENT_COLOURS)]
            t = np.asarray(t, dtype=np.float64)
            grid = np.geomspace(t.min(), t.max(), 200)
            ax.plot(t, rho, "o", ms=2.5, color=colour, label=label)
            ax.plot(grid, fit.predict(grid), "-", lw=1.0, color=colour)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("$T$ (K)")
        ax.set_ylabel(ylabel)
        if any(label for label, *_ in series):
            ax.legend(fontsize=6, frameon=False)
    return fig


def rho_t_figure(table: pd.DataFrame) -> Figure:
    """Sheet resistance against temperature from ``morpho transport``, one curve per field.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of transport.csv: ``temperature_K``, ``field_T``,
        ``log10_sheet_resistance_ohm_per_sq``.

    Returns
    -------
    matplotlib.figure.Figure
        log rho against T (log axis), fields labelled in oersted, the resistance quantum
        R_Q = h/4e^2 as a dashed line.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .units import R_Q_OHM

    with style_context():
        fig = Figure(figsize=(_COLUMN_WIDTH_IN, 2.8))
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        fields = sorted(table["field_T"].unique())
        for k, field in enumerate(fields):
            part = table[table["field_T"] == field].sort_values("temperature_K")
            colour = _COMPONENT_COLOURS[k % len(_COMPONENT_COLOURS)]
            ax.plot(part["temperature_K"], part["log10_sheet_resistance_ohm_per_sq"], "-o", ms=2.0, lw=1.0,
                    color=colour, label=f"{field * 1e4:g} Oe")
        ax.axhline(np.log10(R_Q_OHM), ls="--", lw=0.8, color="0.4")
        ax.text(table["temperature_K"].max(), np.log10(R_Q_OHM), r"$R_Q = h/4e^2$ ", va="bottom", ha="right",
                fontsize=6, color="0.3")
        ax.set_xscale("log")
        ax.set_xlabel("$T$ (K)")
        ax.set_ylabel(r"$\log_{10}\,\rho$ (Ω/□)")
        if len(fields) > 1 or fields[0] != 0:
            ax.legend(fontsize=6, frameon=False)
    return fig


# --------------------------------------------------------------------------------------------
# figures for papers: distributions of the graph and the energies, the map (morpho plot)
# --------------------------------------------------------------------------------------------

#: Journal column widths (in): single (3.4) and double (7.0).
WIDTHS_IN: dict[str, float] = {"single": _COLUMN_WIDTH_IN, "double": 7.0}


def set_width(fig: Figure, width: str | float) -> Figure:
    """Set a figure's width to a journal column (``"single"``, ``"double"``) or to inches,
    keeping its height; constrained layout reflows the axes.  Returns `fig`."""
    inches = WIDTHS_IN.get(width) if isinstance(width, str) else float(width)
    if inches is None or not inches > 0:
        msg = f"figure width must be 'single', 'double' or a positive number of inches, got {width!r}"
        raise InputError(msg)
    fig.set_size_inches(inches, fig.get_size_inches()[1])
    return fig


def value_histogram_figure(values: np.ndarray, *, xlabel: str, scale: float = 1.0, log: bool = False,
                           integer: bool = False, median: bool = True, mark: float | None = None,
                           mark_label: str | None = None, title: str | None = None) -> Figure:
    """Histogram of one quantity over the grains or junctions, for papers.

    Parameters
    ----------
    values : array
        The values in SI (or kelvin); non-finite values are left out and counted in a note.
    xlabel : str
        Axis label with its unit, e.g. ``"Gap (nm)"``.
    scale : float
        Values are divided by it for display (1e-9 for nm).
    log : bool
        Logarithmic bins and axis (positive values only; 10 bins per decade).
    integer : bool
        One bar per integer value (coordination numbers).
    median : bool
        Mark the median (dotted line, labelled).
    mark, mark_label : float, str, optional
        A reference value (in display units) drawn as a dashed line, e.g. E_J/E_C = 1.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Single-column width, counts on the y axis, in morpho's style.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    v = np.asarray(values, dtype=np.float64) / scale
    finite = np.isfinite(v) & ((v > 0) if log else True)
    dropped = int(v.size - finite.sum())
    v = v[finite]
    with style_context():
        fig = Figure(figsize=(_COLUMN_WIDTH_IN, 2.4))
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        ax.set_xlabel(xlabel)
        ax.set_ylabel("Count")
        if title:
            ax.set_title(title)
        if v.size == 0:
            ax.text(0.5, 0.5, "no values", transform=ax.transAxes, ha="center", va="center")
            return fig
        if integer:
            ks, counts = np.unique(np.rint(v).astype(np.int64), return_counts=True)
            ax.bar(ks, counts, width=0.8, color=_BAR_FACE, edgecolor=_BAR_EDGE, linewidth=0.6)
            ax.set_xticks(ks if ks.size <= 16 else ks[:: int(np.ceil(ks.size / 16))])
            mean = float(v.mean())
            ax.axvline(mean, color=_FIT, lw=0.9, ls="--")
            ax.text(mean, ax.get_ylim()[1], f" mean {mean:.2f}", va="top", ha="left", fontsize=6)
        else:
            if log:
                lo, hi = float(np.log10(v.min())), float(np.log10(v.max()))
                # 10 bins per decade, wider (1, 2, 5 x 10^k decades) when the values span so many
                # decades that there would be more than 60 bins (E_J/E_C can span hundreds)
                step = next(w for w in (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
                            if (hi - lo) / w <= 60 or w == 100.0)
                lo, hi = np.floor(lo / step) * step, (np.floor(hi / step) + 1) * step
                edges = 10.0 ** np.arange(lo, hi + step / 2, step)
            else:
                edges = np.histogram_bin_edges(v, bins="fd" if v.size > 30 else 10)
                if edges.size > 81:
                    edges = np.linspace(v.min(), v.max(), 81)
            ax.hist(v, bins=edges, color=_BAR_FACE, edgecolor=_BAR_EDGE, linewidth=0.6)
            if log and edges[-1] / edges[0] <= 1e6:
                _log_axis(ax, float(edges[0]), float(edges[-1]))
            elif log:  # many decades: powers of ten
                from matplotlib.ticker import LogLocator

                ax.set_xscale("log")
                ax.set_xlim(edges[0], edges[-1])
                ax.xaxis.set_major_locator(LogLocator(base=10.0, numticks=7))
            if median:
                med = float(np.median(v))
                ax.axvline(med, color=_FIT, lw=0.9, ls=":")
                ax.text(med, 0.88 * ax.get_ylim()[1], f" median {med:.3g}", va="top", ha="left", fontsize=6)
        if mark is not None:
            ax.axvline(mark, color=_COMPONENT_COLOURS[1], lw=0.9, ls="--")
            if mark_label:
                ax.text(mark, 0.5 * ax.get_ylim()[1], f" {mark_label}", color=_COMPONENT_COLOURS[1], fontsize=6,
                        rotation=90, va="center", ha="right")
        note = f"n = {v.size}" + (f" ({dropped} not shown)" if dropped else "")
        ax.set_ylim(0, ax.get_ylim()[1] * 1.12)  # room for the labels above the bars
        ax.text(0.98, 0.98, note, transform=ax.transAxes, ha="right", va="top", fontsize=6)
    return fig


def map_figure(image: np.ndarray, labels: np.ndarray, centroids_rc: np.ndarray, edges: np.ndarray,
               edge_values: np.ndarray, *, pixel_size_m: float, value_label: str, log_values: bool = False,
               max_side_px: int = 1600) -> Figure:
    """The micrograph with grain outlines and the junctions coloured by a value, for papers.

    The micrograph and the outlines are one raster image (shrunk to at most `max_side_px`); the
    junctions are vector line segments between grain centres coloured by `edge_values`
    (viridis, linear or log), with a colour bar, and a scale bar of a round length sits bottom
    left.  Axes are hidden.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
        The analysed micrograph (databar removed).
    labels : ndarray of int, same shape
        Grain labels.
    centroids_rc : ndarray, shape (n, 2)
        Grain centres (row, col) in pixels.
    edges : ndarray of int, shape (m, 2)
        Junctions as 0-based indices into `centroids_rc`.
    edge_values : ndarray, shape (m,)
        The value of each junction in display units (e.g. gap in nm); non-finite ones are grey.
    pixel_size_m : float
    value_label : str
        Colour-bar label with its unit.
    log_values : bool
        Logarithmic colour scale (positive values).
    """
    from matplotlib import colors
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    cols = np.shape(image)[1]
    img, outline, scale = _shrunk_with_outlines(np.asarray(image, dtype=np.float32), np.asarray(labels),
                                                max_side_px)
    out_rows, out_cols = img.shape
    lo, hi = np.percentile(img, [0.5, 99.5])
    grey = np.clip((img - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.full(img.shape, 0.5)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    rgb[outline] = np.asarray(_OUTLINE_RGB) / 255.0

    values = np.asarray(edge_values, dtype=np.float64)
    ok = np.isfinite(values) & ((values > 0) if log_values else True)
    xy = (np.asarray(centroids_rc, dtype=np.float64)[:, ::-1] + 0.5) * scale - 0.5
    segments = xy[np.asarray(edges, dtype=np.int64)] if len(edges) else np.zeros((0, 2, 2))
    aspect = out_rows / out_cols
    with style_context():
        fig = Figure(figsize=(_COLUMN_WIDTH_IN, _COLUMN_WIDTH_IN * aspect * 0.86 + 0.35))
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        ax.imshow(rgb, interpolation="nearest", extent=(-0.5, out_cols - 0.5, out_rows - 0.5, -0.5))
        ax.set_axis_off()
        if ok.any():
            vmin, vmax = float(values[ok].min()), float(values[ok].max())
            norm = colors.LogNorm(vmin, max(vmax, vmin * 1.001)) if log_values else colors.Normalize(vmin, vmax)
            lines = LineCollection(segments[ok], cmap="viridis", norm=norm, linewidths=0.5)
            lines.set_array(values[ok])
            ax.add_collection(lines)
            bar = fig.colorbar(lines, ax=ax, fraction=0.05, pad=0.02)
            bar.set_label(value_label)
        if (~ok).any():
            ax.add_collection(LineCollection(segments[~ok], colors="0.6", linewidths=0.5))
        length_m = _nice_length_m(0.2 * cols * pixel_size_m)
        bar_px = length_m / pixel_size_m * scale
        x0, y0 = 0.04 * out_cols, out_rows * 0.95
        ax.plot([x0, x0 + bar_px], [y0, y0], color="white", lw=2.0, solid_capstyle="butt")
        ax.text(x0 + bar_px / 2, y0 - 0.02 * out_rows, _length_label(length_m), color="white", ha="center",
                va="bottom", fontsize=7)
        ax.set_xlim(-0.5, out_cols - 0.5)
        ax.set_ylim(out_rows - 0.5, -0.5)
    return fig


def compare_figure(dists: list[SizeDistribution], labels: list[str]) -> Figure:
    """Several samples' size distributions overlaid (``morpho compare``).

    Top: fraction of each sample's grains per logarithmic bin (steps; the samples have
    different numbers of grains) with its fitted mixture as a line of the same colour and its
    modes marked by short ticks on the top axis; bottom: fraction of each sample's grain area
    per bin.  One colour per sample (Okabe–Ito), in the order given.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with style_context():
        fig = Figure(figsize=(_COLUMN_WIDTH_IN, 3.9))
        FigureCanvasAgg(fig)
        ax_n, ax_a = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3.0, 2.0]})
        full = [d for d in dists if d.n_grains > 0]
        big = any(float(d.bin_edges_m[-1]) > 1.0001e-6 for d in full)
        scale_m, unit = (1e-6, "\u00b5m") if big else (1e-9, "nm")
        if full:
            lo = min(float(d.bin_edges_m[0]) for d in full) / scale_m
            hi = max(float(d.bin_edges_m[-1]) for d in full) / scale_m
        else:
            lo, hi = 1.0, 1000.0
        _log_axis(ax_a, lo, hi)
        ax_n.set_ylabel("Fraction of grains per bin")
        ax_a.set_ylabel("Area fraction per bin")
        ax_a.set_xlabel(f"Equivalent diameter $D$ ({unit})")
        grid_m = _curve_grid_m(ax_a, scale_m)
        for k, (dist, label) in enumerate(zip(dists, labels, strict=True)):
            colour = _COMPONENT_COLOURS[k % len(_COMPONENT_COLOURS)]
            if dist.n_grains == 0:
                ax_n.plot([], [], color=colour, label=f"{label} (no grains)")
                continue
            edges = np.asarray(dist.bin_edges_m) / scale_m
            frac = np.asarray(dist.counts, dtype=float) / dist.n_grains
            ax_n.stairs(frac, edges, color=colour, linewidth=0.8, label=f"{label} ($n$ = {dist.n_grains})")
            if any(m.sigma_ln > 0 for m in dist.modes):
                ax_n.plot(grid_m / scale_m, dist.mixture_density(grid_m) * _bin_width_ln(dist), color=colour,
                          linewidth=0.9, linestyle=(0, (3.0, 1.5)))
            for mode in dist.modes:
                ax_n.plot(mode.diameter_m / scale_m, 1.0, marker="v", ms=3.5, color=colour,
                          transform=ax_n.get_xaxis_transform(), clip_on=False)
            ax_a.stairs(np.asarray(dist.area_weighted, dtype=float), edges, color=colour, linewidth=0.8)
        ax_n.set_ylim(0.0, ax_n.get_ylim()[1] * 1.25)
        ax_n.legend(loc="upper left", fontsize=6)
    return fig


#: The histogram figures made from the grains and junctions tables alone, with what they show.
TABLE_FIGURES: dict[str, str] = {
    "coordination": "Coordination number z of the interior grains (SKIZ neighbours), mean marked.",
    "gaps": "Inter-grain gap of every junction (shortest matrix path), median marked.",
    "charging-energy": "Charging energy E_C/k_B of every grain (log bins), median marked.",
    "josephson-energy": "Josephson energy E_J/k_B of every junction (log bins), median marked.",
    "ej-over-ec": "E_J/E_C of every junction (log bins); the dashed line is E_J = E_C.",
}


def table_figures(grains: pd.DataFrame, junctions: pd.DataFrame, kinds: Sequence[str] | None = None, *,
                  title: str | None = None) -> dict[str, Figure]:
    """The :data:`TABLE_FIGURES` histograms (all, or `kinds`) of one analysis's tables."""
    interior = (~grains["touches_border"].astype(bool)).to_numpy() if "touches_border" in grains else slice(None)
    specs = {
        "coordination": lambda: value_histogram_figure(grains["coordination"].to_numpy()[interior],
                                                       xlabel="Coordination number $z$", integer=True, title=title),
        "gaps": lambda: value_histogram_figure(junctions["gap_m"].to_numpy(), xlabel="Gap (nm)", scale=1e-9,
                                               title=title),
        "charging-energy": lambda: value_histogram_figure(grains["charging_energy_K"].to_numpy(),
                                                          xlabel="$E_C/k_B$ (K)", log=True, title=title),
        "josephson-energy": lambda: value_histogram_figure(junctions["josephson_energy_K"].to_numpy(),
                                                           xlabel="$E_J/k_B$ (K)", log=True, title=title),
        "ej-over-ec": lambda: value_histogram_figure(junctions["ej_over_ec"].to_numpy(), xlabel="$E_J/E_C$",
                                                     log=True, mark=1.0, mark_label="$E_J = E_C$", title=title),
    }
    return {kind: specs[kind]() for kind in (kinds if kinds is not None else TABLE_FIGURES)}
