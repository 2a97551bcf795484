"""A self-contained HTML report of one analysis (images inlined; no network requests)."""

from __future__ import annotations

import base64
import html
import json
from typing import Any

__all__ = ["SECTIONS", "render_batch_report", "render_report"]

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px}
body{color:#222;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}
h2{font-size:1.15em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#f4f4f4;text-align:left}
td.k{text-align:left;font-family:monospace}
img{max-width:100%;border:1px solid #ccc}
.figs{display:flex;flex-wrap:wrap;gap:1em}
.figs figure{margin:0;flex:1 1 420px}
.warn{background:#fff6e0;border-left:4px solid #e0a000;padding:.4em .8em}
pre{background:#f7f7f7;padding:.6em;overflow:auto;font-size:.8em}
"""


def _img(image: bytes, alt: str) -> str:
    """An inlined image (PNG or JPEG, told by its first bytes)."""
    mime = "image/jpeg" if image[:2] == b"\xff\xd8" else "image/png"
    data = base64.b64encode(image).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:{mime};base64,{data}">'


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return "n/a"
    return html.escape(str(value))


def _kv_table(rows: dict[str, Any]) -> str:
    body = "".join(
        f'<tr><td class="k">{html.escape(str(k))}</td><td>{_fmt(v)}</td></tr>'
        for k, v in rows.items()
        if not isinstance(v, (dict, list))
    )
    return f"<table>{body}</table>"


def _frame_table(frame: Any, columns: list[str], limit: int = 25) -> str:
    cols = [c for c in columns if c in frame.columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    rows = []
    for rec in frame[cols].head(limit).itertuples(index=False):
        rows.append("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in rec) + "</tr>")
    more = f"<p>first {limit} of {len(frame)} rows; all rows are in the CSV file.</p>" if len(frame) > limit else ""
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>{more}"


def _detection_sentence(seg: dict[str, Any]) -> str:
    """One sentence stating the image's detection limit (or that it could not be measured)."""
    r_px, r_m = seg.get("detection_limit_radius_px"), seg.get("detection_limit_radius_m")
    edge = seg.get("edge_sigma_px")
    if r_px is None or r_m is None:
        return ("<p>Detection limit: not measured (no grain or matrix level, or grains of 16 px radius are not "
                "found reliably).</p>")
    return (
        f"<p>Detection limit: grains of radius &ge; {r_px:g} px ({r_m * 1e9:.1f} nm) are found reliably at this "
        f"image's noise and contrast (contrast-to-noise {seg.get('contrast_to_noise', float('nan')):.1f})"
        + (f" and resolution (grain edges {edge:.2f} px wide, as a Gaussian sigma)" if edge is not None else "")
        + "; smaller grains are missed or under-counted.</p>"
    )


#: The sections of every report, in order: (id, heading).
SECTIONS = (
    ("warnings", "Warnings"),
    ("micrograph", "Micrograph and segmentation"),
    ("figures", "Figures"),
    ("input", "Input"),
    ("segmentation", "Segmentation"),
    ("grains", "Grains"),
    ("distribution", "Size distribution"),
    ("graph", "Neighbour graph"),
    ("physics", "Physics"),
    ("percolation", "Percolation"),
    ("grains-table", "Grains table"),
    ("junctions-table", "Junctions table"),
    ("timing", "Timing (s)"),
    ("provenance", "Provenance"),
    ("configuration", "Configuration"),
)

def _percolation_html(perc: dict[str, Any]) -> str:
    """The percolation section: a sentence with the verdict, the numbers, the other connectivity."""
    if not perc:
        return "<p>Not computed for this analysis.</p>"
    span = " and ".join(d for d, k in (("left-right", "spans_x"), ("top-bottom", "spans_y")) if perc.get(k))
    d = perc.get("fractal_dimension_sandbox")
    text = (f"<p>Metal coverage p = {_fmt(perc.get('coverage_p'))}, {_fmt(perc.get('n_clusters'))} clusters "
            f"({perc.get('connectivity')}-connected); the largest holds {_fmt(perc.get('largest_cluster_fraction'))} "
            f"of the metal and {'spans ' + span if span else 'spans neither direction'}. Sandbox dimension of the "
            f"largest cluster {_fmt(d)}"
            + ("" if perc.get("verdict") == "near" else " (a fractal dimension only near the threshold; here it "
               "describes the shape of one cluster)")
            + f"; verdict: <b>{html.escape(str(perc.get('verdict')))}</b> the percolation threshold "
            "(PHYSICS.md section 7).</p>"
            + (f"<p>Analysed mask: {html.escape(str(perc['mask']))}.</p>" if perc.get("mask") else ""))
    other = perc.get("other_connectivity") or {}
    return text + _kv_table(perc) + ("<h3>Other connectivity</h3>" + _kv_table(other) if other else "")


def _provenance_rows(summary: dict[str, Any]) -> dict[str, Any]:
    """Who made the numbers from what: versions, input hash, pixel size and where it came from."""
    inp = summary.get("input", {})
    prov = summary.get("provenance", {})
    rows: dict[str, Any] = {
        "morpho": summary.get("morpho_version"),
        "created (UTC)": summary.get("created_utc"),
        "command": " ".join(str(a) for a in summary.get("argv", [])),
        "input file": inp.get("path"),
        "input SHA-256": inp.get("sha256"),
        "pixel size (m)": inp.get("pixel_size_m"),
        "pixel size from": inp.get("pixel_size_source"),
        "configuration SHA-256": summary.get("config_sha256"),
        "platform": prov.get("platform"),
    }
    rows.update({f"{name}": version for name, version in prov.get("versions", {}).items()})
    return rows


def render_report(result: Any, *, summary: dict[str, Any], overlay_png: bytes, histogram_png: bytes,
                  figures: dict[str, bytes] | None = None, micrograph_png: bytes | None = None) -> str:
    """Render the report page.

    Parameters
    ----------
    result : AnalysisResult
    summary : dict
        The ``summary.json`` content (already JSON-safe).
    overlay_png, histogram_png : bytes
        PNG (or JPEG) images, inlined as data URIs.
    figures : dict of str to bytes, optional
        More figures as PNG bytes by kind (``coordination``, ``gaps``, ``charging-energy``,
        ``josephson-energy``, ``ej-over-ec``), shown in the "Figures" section.
    micrograph_png : bytes, optional
        The micrograph itself (reduced; PNG or JPEG), shown beside the overlay.

    Returns
    -------
    str
        A complete HTML document with no external references; its sections are
        :data:`SECTIONS`, each an ``<h2 id=...>``.
    """
    from .plots import TABLE_FIGURES

    inp = summary["input"]
    modes = summary["distribution"].get("modes", [])
    mode_rows = "".join(
        f"<tr><td>{i + 1}</td><td>{_fmt((m.get('diameter_m') or float('nan')) * 1e9)}</td>"
        f"<td>{_fmt(m.get('sigma_ln'))}</td><td>{_fmt(m.get('fraction'))}</td></tr>"
        for i, m in enumerate(modes)
    )
    warnings_list = summary.get("warnings", [])
    warnings_html = ("".join(f'<p class="warn">{html.escape(w)}</p>' for w in warnings_list)
                     or "<p>None: the analysis ran without warnings.</p>")
    phys = summary["physics"]
    params = phys.get("parameters", {})
    title = html.escape(str(inp["path"]))
    heads = dict(SECTIONS)

    def h2(key: str) -> str:
        return f'<h2 id="{key}">{html.escape(heads[key])}</h2>'

    captions = {**TABLE_FIGURES, "percolation": "Percolation of the metal (grain) mask: cluster-size distribution "
                "n(s), perimeter vs area of the clusters, sandbox mass vs radius of the largest cluster, each with "
                "its fitted exponent."}
    perc = summary.get("percolation") or {}
    nav = " &middot; ".join(f'<a href="#{k}">{html.escape(v)}</a>' for k, v in SECTIONS)
    micrograph = (f"<figure>{_img(micrograph_png, 'micrograph')}<figcaption>The micrograph as analysed "
                  "(information bar removed).</figcaption></figure>") if micrograph_png else ""
    extra = "".join(
        f"<figure>{_img(png, kind)}<figcaption>{html.escape(captions.get(kind, kind))}</figcaption></figure>"
        for kind, png in (figures or {}).items())
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>morpho report: {title}</title><style>{_CSS}</style></head><body>",
        f"<h1>morpho report</h1><p>{title}</p>",
        f"<nav>{nav}</nav>",
        h2("warnings"),
        warnings_html,
        h2("micrograph"),
        "<div class='figs'>",
        micrograph,
        f"<figure>{_img(overlay_png, 'grain outlines and junctions')}<figcaption>Grain outlines and SKIZ junctions "
        "(coloured by gap).</figcaption></figure></div>",
        h2("figures"),
        "<div class='figs'>",
        f"<figure>{_img(histogram_png, 'size distribution')}<figcaption>Equivalent-diameter distribution of interior "
        "grains with the fitted log-normal modes.</figcaption></figure>",
        extra,
        "</div>",
        h2("input"),
        _kv_table({k: v for k, v in inp.items() if k != "notes"}),
        "".join(f"<p>{html.escape(n)}</p>" for n in inp.get("notes", [])),
        h2("segmentation"),
        _detection_sentence(summary.get("segmentation", {})),
        _kv_table(summary.get("segmentation", {})),
        h2("grains"),
        _kv_table(summary["grains"]),
        h2("distribution"),
        f"<p>{html.escape(str(summary['distribution'].get('basis', '')))}</p>",
        "<table><tr><th>mode</th><th>diameter (nm)</th><th>sigma_ln</th><th>number fraction</th></tr>"
        f"{mode_rows}</table>",
        _kv_table(summary["distribution"]),
        h2("graph"),
        _kv_table(summary["graph"]),
        h2("physics"),
        _kv_table(phys),
        "<h3>Parameters</h3>",
        _kv_table(params),
        h2("percolation"),
        _percolation_html(perc),
        h2("grains-table"),
        _frame_table(
            result.grains,
            ["grain_id", "x_m", "y_m", "diameter_m", "coordination", "touches_border", "capacitance_F",
             "charging_energy_K"],
        ),
        h2("junctions-table"),
        _frame_table(
            result.junctions,
            ["grain_a", "grain_b", "gap_m", "facing_length_m", "capacitance_F", "resistance_ohm",
             "josephson_energy_K", "ej_over_ec"],
        ),
        h2("timing"),
        _kv_table(summary.get("timing_s", {})),
        h2("provenance"),
        _kv_table(_provenance_rows(summary)),
        h2("configuration"),
        f"<pre>{html.escape(json.dumps(result.config.to_dict(), indent=2, default=str))}</pre>",
        "</body></html>",
    ]
    return "\n".join(parts)


def render_batch_report(rows: list[dict[str, Any]], out_root: Any) -> str:
    """The batch page: one row per image with its status, key numbers and a link to its report.

    Links are relative (``<stem>/report.html``), so the batch folder can be moved or shared as a
    whole; nothing is fetched from the network.
    """
    from pathlib import Path

    root = Path(out_root)
    counts = {s: sum(1 for r in rows if r.get("status") == s) for s in ("ok", "skipped", "error")}
    head = ("<tr><th>image</th><th>status</th><th>grains</th><th>modes (nm)</th><th>&lt;z&gt;</th>"
            "<th>median gap (nm)</th><th>E_C median (K)</th><th>E_J median (K)</th><th>E_aI (K)</th>"
            "<th>report</th><th>error</th></tr>")
    body = []
    for r in rows:
        folder = Path(str(r.get("result_dir") or ""))
        report = folder / "report.html"
        try:
            rel = report.relative_to(root).as_posix()
        except ValueError:
            rel = report.as_posix()
        link = f'<a href="{html.escape(rel)}">report</a>' if r.get("status") in ("ok", "skipped") else ""
        modes = r.get("mode_diameters_m")
        modes_nm = ", ".join(f"{float(x) * 1e9:.3g}" for x in str(modes).split(";") if x.strip()) if modes else ""
        gap = r.get("median_gap_m")
        cells = [html.escape(str(r.get("image", ""))), html.escape(str(r.get("status", ""))), _fmt(r.get("grains")),
                 html.escape(modes_nm), _fmt(r.get("mean_coordination")),
                 _fmt(gap * 1e9 if isinstance(gap, (int, float)) else gap),
                 _fmt(r.get("charging_energy_K_median")), _fmt(r.get("josephson_energy_K_median")),
                 _fmt(r.get("activation_energy_K")), link, html.escape(str(r.get("error") or ""))]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    summary = (f"{len(rows)} images: {counts['ok']} analysed, {counts['skipped']} kept from earlier, "
               f"{counts['error']} failed.")
    return "\n".join([
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>morpho batch: {html.escape(str(root))}</title><style>{_CSS}</style></head><body>",
        f"<h1>morpho batch</h1><p>{html.escape(str(root))}</p><p>{summary}</p>",
        f'<h2 id="images">Images</h2><table>{head}{"".join(body)}</table>',
        "<p>All numbers are in batch.csv; each image's report holds its figures, tables and provenance.</p>",
        "</body></html>",
    ])
