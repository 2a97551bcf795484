"""A self-contained HTML report of one analysis (images inlined; no network requests)."""

from __future__ import annotations

import base64
import html
import json
from typing import Any

__all__ = ["render_report"]

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


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


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
    if r_px is None or r_m is None:
        return "<p>Detection limit: not measured (no grain or matrix level, or grains of 16 px radius are not found reliably).</p>"
    return (
        f"<p>Detection limit: grains of radius &ge; {r_px:g} px ({r_m * 1e9:.1f} nm) are found reliably at this "
        f"image's noise and contrast (contrast-to-noise {seg.get('contrast_to_noise', float('nan')):.1f}); "
        "smaller grains are missed or under-counted.</p>"
    )


def render_report(result: Any, *, summary: dict[str, Any], overlay_png: bytes, histogram_png: bytes) -> str:
    """Render the report page.

    Parameters
    ----------
    result : AnalysisResult
    summary : dict
        The ``summary.json`` content (already JSON-safe).
    overlay_png, histogram_png : bytes
        PNG images, inlined as data URIs.

    Returns
    -------
    str
        A complete HTML document with no external references.
    """
    inp = summary["input"]
    provenance = {k: summary[k] for k in ("morpho_version", "created_utc", "argv", "provenance")}
    modes = summary["distribution"].get("modes", [])
    mode_rows = "".join(
        f"<tr><td>{i + 1}</td><td>{_fmt((m.get('diameter_m') or float('nan')) * 1e9)}</td>"
        f"<td>{_fmt(m.get('sigma_ln'))}</td><td>{_fmt(m.get('fraction'))}</td></tr>"
        for i, m in enumerate(modes)
    )
    warnings_html = "".join(f'<p class="warn">{html.escape(w)}</p>' for w in summary.get("warnings", []))
    phys = summary["physics"]
    params = phys.get("parameters", {})
    title = html.escape(str(inp["path"]))
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>morpho report: {title}</title><style>{_CSS}</style></head><body>",
        f"<h1>morpho report</h1><p>{title}</p>",
        warnings_html,
        "<h2>Micrograph and segmentation</h2><div class='figs'>",
        f"<figure>{_img(overlay_png, 'grain outlines and junctions')}<figcaption>Grain outlines and SKIZ junctions "
        "(coloured by gap).</figcaption></figure>",
        f"<figure>{_img(histogram_png, 'size distribution')}<figcaption>Equivalent-diameter distribution of interior "
        "grains with the fitted log-normal modes.</figcaption></figure></div>",
        "<h2>Input</h2>",
        _kv_table({k: v for k, v in inp.items() if k != "notes"}),
        "".join(f"<p>{html.escape(n)}</p>" for n in inp.get("notes", [])),
        "<h2>Segmentation</h2>",
        _detection_sentence(summary.get("segmentation", {})),
        _kv_table(summary.get("segmentation", {})),
        "<h2>Grains</h2>",
        _kv_table(summary["grains"]),
        "<h2>Size distribution</h2>",
        f"<p>{html.escape(str(summary['distribution'].get('basis', '')))}</p>",
        "<table><tr><th>mode</th><th>diameter (nm)</th><th>sigma_ln</th><th>number fraction</th></tr>"
        f"{mode_rows}</table>",
        _kv_table(summary["distribution"]),
        "<h2>Neighbour graph</h2>",
        _kv_table(summary["graph"]),
        "<h2>Physics</h2>",
        _kv_table(phys),
        "<h3>Parameters</h3>",
        _kv_table(params),
        "<h2>Grains table</h2>",
        _frame_table(
            result.grains,
            [
                "grain_id",
                "x_m",
                "y_m",
                "diameter_m",
                "coordination",
                "touches_border",
                "capacitance_F",
                "charging_energy_K",
            ],
        ),
        "<h2>Junctions table</h2>",
        _frame_table(
            result.junctions,
            [
                "grain_a",
                "grain_b",
                "gap_m",
                "facing_length_m",
                "capacitance_F",
                "resistance_ohm",
                "josephson_energy_K",
                "ej_over_ec",
            ],
        ),
        "<h2>Timing (s)</h2>",
        _kv_table(summary.get("timing_s", {})),
        "<h2>Provenance</h2>",
        f"<pre>{html.escape(json.dumps(provenance, indent=2))}</pre>",
        "<h2>Configuration</h2>",
        f"<pre>{html.escape(json.dumps(result.config.to_dict(), indent=2, default=str))}</pre>",
        "</body></html>",
    ]
    return "\n".join(parts)
