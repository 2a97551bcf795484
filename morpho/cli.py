"""Command line: ``morpho analyze | batch | info | transport | fit | synth | config``.

``main(argv) -> int`` does argv -> config -> read -> analyze -> write and maps errors to exit
codes: 0 success; 2 bad input or usage (one line on stderr naming the problem and the fix,
never a traceback); 1 an unexpected error (the traceback with ``-v``).  No science here.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Sequence
from typing import Any
from pathlib import Path

from . import __version__
from ._memory import share_one_malloc_arena
from .errors import ConfigError, InputError, MorphoError
from datetime import UTC

__all__ = ["build_parser", "main", "run"]


class _UsageError(Exception):
    """argparse error, turned into exit code 2 with one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{message} (see 'morpho {self.prog.split()[-1]} --help')" if " " in self.prog else message)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept separate from :func:`main` so it can be tested and documented)."""
    parser = _Parser(prog="morpho", description="SEM micrographs of granular films -> grains, modes, graph, energies.")
    parser.add_argument("--version", action="version", version=f"morpho {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    an = sub.add_parser("analyze", help="analyze micrographs into result folders")
    an.add_argument("images", nargs="+", metavar="IMAGE", help="TIFF micrograph(s)")
    _add_analysis_options(an)
    an.add_argument("--threads", type=int,
                    help="tiles of a large micrograph segmented at once (default: CPUs, at most 4; "
                         "each adds ~0.3 GB of memory; results do not depend on it)")
    an.add_argument("-v", "--verbose", action="store_true", help="tracebacks for unexpected errors")

    ba = sub.add_parser("batch", help="analyze folders of micrographs in parallel (Dask), resuming where a run stopped")
    ba.add_argument("images", nargs="+", metavar="DIR|GLOB", help="folders of .tif files, files or glob patterns")
    _add_analysis_options(ba)
    ba.add_argument("--workers", type=int, help="worker processes of the local Dask cluster (default: CPU count)")
    ba.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                    help="send the work to this Dask scheduler instead of a local cluster (shared file system)")
    ba.add_argument("-v", "--verbose", action="store_true", help="tracebacks for unexpected errors")

    info = sub.add_parser("info", help="pixel size and its source, shape, databar rows, vendor")
    info.add_argument("image", metavar="IMAGE")
    info.add_argument("--pixel-size", help="pixel size with a unit; overrides the metadata")
    info.add_argument("--databar-rows", type=int, help="rows of the info bar at the bottom")
    _add_max_pixels(info)
    info.add_argument("--json", action="store_true", help="print JSON")
    info.add_argument("-v", "--verbose", action="store_true")

    syn = sub.add_parser("synth", help="write a synthetic SEM micrograph with its ground truth")
    syn.add_argument("output", metavar="OUT.tif")
    syn.add_argument("--preset", default="inox-bimodal", help="generator preset (default inox-bimodal)")
    syn.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    syn.add_argument("--size", type=int, default=1024, help="image side in pixels (default 1024)")
    syn.add_argument(
        "--vendor", default="fei", help="metadata format: fei, zeiss, tescan, jeol, hitachi, imagej, ... (default fei)"
    )
    syn.add_argument("--no-databar", action="store_true", help="no SEM information bar at the bottom")
    syn.add_argument("--dark-grains", action="store_true", help="dark grains on a bright matrix")
    syn.add_argument("--bit-depth", type=int, choices=(8, 16), default=8)
    syn.add_argument("--overwrite", action="store_true")
    syn.add_argument("-v", "--verbose", action="store_true")

    fit = sub.add_parser("fit", help="fit the paper's Eq. 1 / Eq. 2 to a rho(T) table (CSV)")
    fit.add_argument("table", metavar="RHO.csv",
                     help="columns temperature_K and sheet_resistance_ohm_per_sq (or resistance_ohm), "
                          "optionally field_T (each field is fitted separately)")
    fit.add_argument("--model", choices=("insulating", "superconducting", "auto"), default="auto",
                     help="Eq. 1 (insulating), Eq. 2 (superconducting) or the lower BIC (default)")
    fit.add_argument("--loss", choices=("linear", "soft_l1"), default="linear",
                     help="soft_l1 down-weights outliers (default linear)")
    _add_output_options(fit, "result folder (default: <table stem>_fit beside the table)", "result folder")

    tr = sub.add_parser("transport", help="sheet resistance of the grain network against temperature and field")
    tr.add_argument("folder", metavar="OUT/<stem>",
                    help="a result folder of 'morpho analyze' (grains.csv, junctions.csv)")
    tr.add_argument("--temperature", default="0.05:2:60",
                    help="temperatures in K: START:STOP:N (log-spaced) or a comma list (default 0.05:2:60)")
    tr.add_argument("--field", default="0",
                    help="fields, comma list with units, e.g. 0,100Oe,300Oe or 0.03T (default 0)")
    tr.add_argument("--conductance-column", metavar="NAME",
                    help="one solve with per-junction conductances in siemens from this junctions.csv column "
                         "instead of the physics model")
    tr.add_argument("--direction", choices=("x", "y"), help="current left-right (x, default) or top-bottom (y)")
    tr.add_argument("--edge-model", choices=("two_state", "insulating", "superconducting"),
                    help="junction law (default two_state: phase edge where E_J/E_C >= gamma_c)")
    tr.add_argument("--gamma-c", type=float, help="two-state threshold of E_J/E_C (default 1)")
    tr.add_argument("--field-model", choices=("none", "gl_grain", "fraunhofer", "gl_grain+fraunhofer"),
                    help="field suppression of the gaps / E_J (default gl_grain)")
    tr.add_argument("--a-qf", type=float, help="quantum-fluctuation knob r_QF = a_qf R_n (default 0)")
    tr.add_argument("--b-qf", type=float, help="quantum-fluctuation knob g_QF = b_qf G_n (default 0)")
    tr.add_argument("--normal-sheet-resistance", metavar="OHM",
                    help="calibrate R_n so the normal-state network has this sheet resistance, e.g. 6500 or 6.5kOhm")
    tr.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="any transport setting, e.g. --set coherence_length_m=8e-8 (repeatable)")
    _add_output_options(tr, "result folder (default: OUT/<stem>/transport)", "result folder")

    pl = sub.add_parser("plot", help="figures for papers from analysis folders (PDF, SVG, PNG)")
    pl.add_argument("folders", nargs="+", metavar="OUT/<stem>", help="result folders of 'morpho analyze'")
    pl.add_argument("--kind", action="append", metavar="KIND",
                    help="histogram, coordination, gaps, charging-energy, josephson-energy, ej-over-ec, rho-t, "
                         "rho-t-fit, overlay; repeat or give a comma list (default: every one the folder has "
                         "data for)")
    _add_figure_options(pl)
    pl.add_argument("--colour-by", default="gap", help="overlay junction colours: gap (default) or ej")
    pl.add_argument("--image", help="the analysed micrograph, for the overlay if it is no longer where it was")
    _add_output_options(pl, "folder for the figures (default: OUT/<stem>/figures; with several folders, one "
                            "sub-folder per analysis)", "figures folder")

    cp = sub.add_parser("compare",
                        help="several samples side by side: distributions overlaid, table of modes and energies")
    cp.add_argument("folders", nargs="+", metavar="OUT/<stem>", help="two or more result folders of 'morpho analyze'")
    cp.add_argument("--labels", help="comma-separated names, one per folder (default: the folder names)")
    _add_figure_options(cp)
    _add_output_options(cp, "folder for the comparison (default: comparison beside the first folder)",
                        "comparison folder")

    ex = sub.add_parser("export", help="the grain graph for simulations and other tools")
    ex.add_argument("folder", metavar="OUT/<stem>", help="a result folder of 'morpho analyze'")
    ex.add_argument("--to", action="append", required=True, metavar="FORMAT",
                    help="graphml, json (node-link), parquet, npz, openpnm, jja (Josephson-array arrays) or "
                         "imagej-roi; repeat or give a comma list")
    _add_output_options(ex, "folder for the files (default: OUT/<stem>/export)", "export folder")

    cfg = sub.add_parser("config", help="show the configuration")
    cfg.add_argument("--defaults", action="store_true", help="print the default configuration as TOML")
    cfg.add_argument("-v", "--verbose", action="store_true")
    return parser


def _add_figure_options(p: argparse.ArgumentParser) -> None:
    """``--format`` and ``--width`` of the commands that make figures."""
    p.add_argument("--format", action="append", metavar="FMT",
                   help="figure format pdf, svg or png; repeat or comma list (default pdf)")
    p.add_argument("--width", default="single", help="journal column: single (3.4 in, default) or double (7 in)")


def _add_output_options(p: argparse.ArgumentParser, out_help: str, what: str) -> None:
    """``-o/--out``, ``--overwrite``, ``-q`` and ``-v`` of the commands that write one folder."""
    p.add_argument("-o", "--out", help=out_help)
    p.add_argument("--overwrite", action="store_true", help=f"replace an existing {what}")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("-v", "--verbose", action="store_true", help="tracebacks for unexpected errors")


def _add_max_pixels(p: argparse.ArgumentParser) -> None:
    # The default is resolved in _max_pixels: importing morpho.io here would load pandas and
    # tifffile for every command, --help included.
    p.add_argument("--max-pixels", type=int, metavar="N",
                   help="refuse images declaring more pixels than this, before decoding them (default "
                        "morpho.io.DEFAULT_MAX_PIXELS = 2^29: about 10 GB of peak memory)")


def _max_pixels(args: argparse.Namespace) -> int:
    """``--max-pixels``, checked; the reader's default budget when not given."""
    from .io import DEFAULT_MAX_PIXELS

    if args.max_pixels is None:
        return DEFAULT_MAX_PIXELS
    if args.max_pixels < 1:
        msg = f"--max-pixels must be at least 1, got {args.max_pixels}"
        raise InputError(msg)
    return args.max_pixels


def _add_analysis_options(p: argparse.ArgumentParser) -> None:
    """The options shared by ``analyze`` and ``batch``."""
    p.add_argument(
        "-o", "--out", default="outputs", help="output folder (default: outputs); results go to OUT/<stem>/"
    )
    p.add_argument("--pixel-size", help="pixel size with a unit, e.g. 2.5nm or 0.0025um; overrides the metadata")
    p.add_argument("--databar-rows", type=int, help="rows of the info bar at the bottom; overrides detection")
    _add_max_pixels(p)
    p.add_argument("--config", help="TOML configuration, or a config.json written by an earlier run")
    p.add_argument("--max-gap", help="drop junctions wider than this gap, e.g. 20nm (default: full SKIZ graph)")
    p.add_argument("--dark-grains", action="store_true", help="grains are darker than the matrix")
    p.add_argument("--charge-unit", choices=("e", "2e"), help="charge of E_C = q^2/2C (default e)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override any config value, e.g. --set physics.relative_permittivity=12 (repeatable)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing result folders")
    p.add_argument("--no-report", action="store_true", help="do not write report.html")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def _parse_set(items: Sequence[str]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for item in items:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            msg = f"--set {item!r}: write SECTION.KEY=VALUE, e.g. --set physics.relative_permittivity=12"
            raise ConfigError(msg)
        key, raw = item.split("=", 1)
        section, name = key.strip().split(".", 1)
        try:
            import tomllib

            value = tomllib.loads(f"v = {raw}")["v"]
        except Exception:  # not TOML syntax: take it as a string (e.g. 20nm, abeles)
            value = raw.strip()
        out.setdefault(section, {})[name] = value
    return out


def _option_length(option: str, text: str) -> float:
    """``parse_length(text)`` for a command-line option, its errors prefixed with the option's name."""
    from .units import parse_length

    try:
        return parse_length(text)
    except ConfigError as exc:
        msg = f"{option}: {exc}; e.g. {option} 2.5nm"
        raise ConfigError(msg) from None


def _resolve_config(args: argparse.Namespace):
    from .config import AnalysisConfig, config_from_dict, config_path_format, load_config

    if args.config:
        path = Path(args.config)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            msg = f"cannot read config file {path} ({exc.strerror or exc}); check the path given to --config"
            raise ConfigError(msg) from None
        cfg = load_config(text, fmt=config_path_format(path))
    else:
        cfg = AnalysisConfig()
    data = cfg.to_dict()
    for section, values in _parse_set(args.set).items():
        if section not in data:
            msg = f"--set: unknown config section {section!r}; use one of {', '.join(data)}"
            raise ConfigError(msg)
        data[section].update(values)
    if args.pixel_size is not None:
        data["input"]["pixel_size_m"] = _option_length("--pixel-size", args.pixel_size)
    if args.databar_rows is not None:
        data["input"]["databar_rows"] = args.databar_rows
    if args.max_gap is not None:
        data["graph"]["max_gap_m"] = _option_length("--max-gap", args.max_gap)
    if args.dark_grains:
        data["segment"]["dark_grains"] = True
    if args.charge_unit is not None:
        data["physics"]["charge_unit"] = args.charge_unit
    return config_from_dict(data)


def _limit_text(seg: dict) -> str:
    r_px, r_m = seg.get("detection_limit_radius_px"), seg.get("detection_limit_radius_m")
    return "16 px" if r_px is None or r_m is None else f"{r_px:g} px ({r_m * 1e9:.2g} nm)"


def _say(text: str, *, quiet: bool = False, stream=None) -> None:
    if not quiet:
        print(text, file=stream or sys.stdout)


#: Micrographs from this many pixels show a progress bar of the analysis stages (stderr).
PROGRESS_MIN_PIXELS = 4096 * 4096


@contextlib.contextmanager
def _stage_progress(image: str, micrograph, *, quiet: bool):
    """A tqdm bar over the analysis stages for a large micrograph (else nothing); yields the callback."""
    from tqdm import tqdm

    from .pipeline import STAGES

    rows, cols = micrograph.shape_px
    show = not quiet and rows * cols >= PROGRESS_MIN_PIXELS
    with tqdm(total=len(STAGES), desc=Path(image).name, unit="stage", disable=not show, file=sys.stderr,
              leave=False, bar_format="{desc}: {n}/{total} stages {bar} {elapsed} {postfix}") as bar:

        def progress(stage: str, seconds: float) -> None:
            bar.set_postfix_str(f"{stage} {seconds:.1f} s", refresh=False)
            bar.update(1)

        yield progress


def _cmd_analyze(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .export import check_writable, result_dir, result_lock, write_results
    from .io import read_micrograph
    from .pipeline import analyze

    if args.threads is not None and args.threads < 1:
        msg = f"--threads must be at least 1, got {args.threads}"
        raise InputError(msg)
    cfg = _resolve_config(args)
    max_pixels = _max_pixels(args)
    status = 0
    for image in args.images:
        try:
            target = result_dir(Path(args.out), Path(image))
            with result_lock(target):  # held from the first check to the final rename
                check_writable(target, overwrite=args.overwrite)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    micrograph = read_micrograph(
                        image, pixel_size_m=cfg.input.pixel_size_m, databar_rows=cfg.input.databar_rows,
                        max_pixels=max_pixels,
                    )
                for w in dict.fromkeys(str(w.message) for w in caught):
                    _say(f"morpho: warning: {image}: {w}", quiet=args.quiet, stream=sys.stderr)
                with _stage_progress(image, micrograph, quiet=args.quiet) as progress:
                    result = analyze(micrograph, cfg, progress=progress, threads=args.threads)
                for w in result.warnings:
                    _say(f"morpho: warning: {image}: {w}", quiet=args.quiet, stream=sys.stderr)
                folder = write_results(
                    result, Path(args.out), argv=["morpho", *argv], overwrite=args.overwrite,
                    report=not args.no_report,
                )
        except MorphoError as exc:
            print(f"morpho: error: {exc}", file=sys.stderr)
            status = 2
            continue
        s = result.summary
        modes = ", ".join(f"{m['diameter_m'] * 1e9:.3g} nm ({m['fraction']:.0%})" for m in s["distribution"]["modes"])
        _say(
            f"{image}: {s['grains']['count']} grains, modes {modes or 'n/a'}, "
            f"<z> = {s['graph']['mean_coordination']:.2f}, "
            f"median gap {s['graph']['median_gap_m'] * 1e9:.3g} nm, "
            f"E_aI = {s['physics']['activation_energy_K']:.3g} K, "
            f"grains below {_limit_text(s['segmentation'])} radius not found reliably -> {folder}",
            quiet=args.quiet,
        )
    return status


def _cmd_batch(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .batch import find_images, run_batch

    if args.workers is not None and args.workers < 1:
        msg = f"--workers must be at least 1, got {args.workers}"
        raise InputError(msg)
    if args.workers is not None and args.scheduler:
        _say("morpho: warning: --workers is ignored with --scheduler (the cluster has its own workers)",
             quiet=args.quiet, stream=sys.stderr)
    cfg = _resolve_config(args)
    images = find_images(args.images)

    def report_error(row: dict) -> None:
        if row["status"] == "error":
            print(f"morpho: error: {row['image']}: {row['error']}", file=sys.stderr)

    rows = run_batch(images, Path(args.out), cfg, argv=["morpho", *argv], workers=args.workers,
                     scheduler=args.scheduler, overwrite=args.overwrite, report=not args.no_report,
                     progress=not args.quiet, on_row=report_error, max_pixels=_max_pixels(args))
    counts = {k: sum(r["status"] == k for r in rows) for k in ("ok", "skipped", "error")}
    _say(f"{len(rows)} images: {counts['ok']} analysed, {counts['skipped']} skipped (same input and config done "
         f"before), {counts['error']} failed -> {Path(args.out) / 'batch.csv'}", quiet=args.quiet)
    return 2 if counts["error"] else 0


def _cmd_info(args: argparse.Namespace) -> int:
    from .io import micrograph_info, read_micrograph

    px = _option_length("--pixel-size", args.pixel_size) if args.pixel_size else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = read_micrograph(args.image, pixel_size_m=px, databar_rows=args.databar_rows,
                            max_pixels=_max_pixels(args))
    for w in dict.fromkeys(str(w.message) for w in caught):
        print(f"morpho: warning: {args.image}: {w}", file=sys.stderr)
    info = micrograph_info(m)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        width = max(len(k) for k in info)
        for key, value in info.items():
            print(f"{key:<{width}}  {value}")
    return 0


def _cmd_synth(args: argparse.Namespace) -> int:
    from .export import write_synthetic
    from .synthetic import PRESETS, make_sem_micrograph

    if args.preset not in PRESETS:
        msg = f"unknown preset {args.preset!r}; use one of {', '.join(PRESETS)}"
        raise ConfigError(msg)
    if args.size < 64:
        msg = f"--size {args.size} is too small; use at least 64 pixels"
        raise ConfigError(msg)
    sample = make_sem_micrograph(
        (args.size, args.size),
        preset=args.preset,
        rng=args.seed,
        databar=not args.no_databar,
        dark_grains=args.dark_grains,
        bit_depth=args.bit_depth,
    )
    written = write_synthetic(sample, Path(args.output), vendor=args.vendor, overwrite=args.overwrite)
    for path in written:
        print(path)
    return 0


def _fit_line(name: str, fit) -> str:
    from .fit import PARAM_NAMES

    q_name, _, ea_name = PARAM_NAMES[fit.model]
    q, dq = fit.params[q_name], fit.stderr[q_name]
    quantum = (f"1/sigma_QF = {1 / q:.4g} ohm" if fit.model == "insulating" else f"rho_QF = {q:.4g} ohm") + (
        f" (+-{dq / q:.1%})" + ("" if fit.saturation_resolved else ", not resolved: an upper bound"))
    return (f"{name}: {fit.model} (Eq. {1 if fit.model == 'insulating' else 2}), E_a = {fit.params[ea_name]:.4g} "
            f"+- {fit.stderr[ea_name]:.2g} K, {quantum}, rms log residual {fit.rms_log_residual:.3g}")


def _cmd_fit(args: argparse.Namespace) -> int:
    import pandas as pd

    from .export import check_writable, write_fit_results
    from .fit import fit_series, fit_table
    from .io import read_csv_table

    path = Path(args.table)
    target = Path(args.out) if args.out else path.with_name(f"{path.stem}_fit")
    check_writable(target, overwrite=args.overwrite)
    table = read_csv_table(path, hint="give a CSV with columns temperature_K and sheet_resistance_ohm_per_sq")
    content, fits = fit_table(table, model=args.model, loss=args.loss)
    quantity = content["quantity"]
    series = fit_series(table, fits, quantity)
    per_field = None
    if len(fits) > 1:
        per_field = pd.DataFrame([{"field_T": h, "model": f.model, **f.params,
                                   **{f"{k}_stderr": v for k, v in f.stderr.items()}, "bic": f.bic}
                                  for h, f in fits])
    write_fit_results(target, content, series, quantity=quantity, per_field=per_field, overwrite=args.overwrite)
    for h, fit in fits:
        _say(_fit_line(path.name if h is None else f"{path.name} at {h:g} T", fit), quiet=args.quiet)
    _say(f"results in {target}/", quiet=args.quiet)
    return 0


def _parse_temperatures(text: str) -> list[float]:
    import numpy as np

    parts = text.split(":")
    try:
        if len(parts) == 3:
            start, stop, n = float(parts[0]), float(parts[1]), int(parts[2])
            if not (0 < start and 0 < stop and n >= 1):
                raise ValueError
            return np.geomspace(start, stop, n).tolist() if n > 1 else [start]
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        msg = (f"cannot read temperatures {text!r}; write START:STOP:N (e.g. 0.05:2:60, log-spaced, > 0 K) "
               "or 0.1,0.2,0.5")
        raise InputError(msg) from None
    if not values or any(not (v > 0 and v < float("inf")) for v in values):
        msg = f"temperatures {text!r} must be finite and > 0 K"
        raise InputError(msg)
    return values


def _split(values: Sequence[str] | None, default: Sequence[str] | None) -> list[str] | None:
    """Repeated and comma-separated option values as one list (`default` when not given)."""
    if not values:
        return list(default) if default is not None else None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _cmd_plot(args: argparse.Namespace) -> int:
    from .export import write_plots

    if args.image and len(args.folders) > 1:
        msg = "--image goes with one analysis folder at a time"
        raise InputError(msg)
    kinds = _split(args.kind, None)
    formats = _split(args.format, ["pdf"])
    several = len(args.folders) > 1
    status = 0
    for folder in args.folders:
        out = None
        if args.out:
            out = Path(args.out) / Path(folder).name if several else Path(args.out)
        try:
            files = write_plots(folder, kinds, formats=formats, width=args.width, out=out, overwrite=args.overwrite,
                                image=args.image, colour_by=args.colour_by)
        except MorphoError as exc:
            print(f"morpho: error: {exc}", file=sys.stderr)
            status = 2
            continue
        for path in files:
            _say(str(path), quiet=args.quiet)
    return status


def _cmd_compare(args: argparse.Namespace) -> int:
    from .export import write_comparison

    labels = [x.strip() for x in args.labels.split(",")] if args.labels else None
    files, markdown = write_comparison(args.folders, labels=labels, out=args.out, formats=_split(args.format, ["pdf"]),
                                       width=args.width, overwrite=args.overwrite)
    _say(markdown.rstrip(), quiet=args.quiet)
    for path in files:
        _say(str(path), quiet=args.quiet)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .export import write_exports

    files = write_exports(args.folder, _split(args.to, []), args.out, overwrite=args.overwrite)
    for path in files:
        _say(str(path), quiet=args.quiet)
    return 0


def _cmd_transport(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from datetime import datetime

    from .export import SCHEMA_VERSION, check_writable, write_transport_results
    from .io import read_analysis_folder
    from .sweep import TransportConfig, run_transport
    from .units import parse_field, parse_resistance

    folder = Path(args.folder)
    if not folder.is_dir():
        msg = f"{folder}: no such analysis folder; run 'morpho analyze IMAGE -o OUT' and give OUT/<stem>"
        raise InputError(msg)
    target = Path(args.out) if args.out else folder / "transport"
    check_writable(target, overwrite=args.overwrite)
    settings: dict[str, object] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            msg = f"--set {item!r}: write KEY=VALUE, e.g. --set coherence_length_m=8e-8"
            raise ConfigError(msg)
        try:
            settings[key.strip()] = json.loads(value)
        except ValueError:
            settings[key.strip()] = value
    for name in ("direction", "edge_model", "gamma_c", "field_model", "a_qf", "b_qf"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    if args.normal_sheet_resistance is not None:
        settings["normal_sheet_resistance_ohm_per_sq"] = parse_resistance(args.normal_sheet_resistance)
    config = TransportConfig.from_dict(settings)
    temperatures = _parse_temperatures(args.temperature)
    fields = [parse_field(f.strip()) for f in args.field.split(",") if f.strip()] or [0.0]
    tables = read_analysis_folder(folder)
    content, table = run_transport(tables, config, temperatures_K=temperatures, fields_T=fields,
                                   conductance_column=args.conductance_column)
    head = {"schema_version": SCHEMA_VERSION, "morpho_version": __version__,
            "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "argv": ["morpho", *argv],
            "input": {"folder": str(folder)}}
    write_transport_results(target, {**head, **content}, table, overwrite=args.overwrite)
    rsq = content["sheet_resistance_ohm_per_sq"]
    where = "" if table is None else f" at {content['reference_point']['temperature_K']:.3g} K"
    _say(f"{folder}: {content['n_grains_spanning']} of {content['n_grains']} grains span the electrodes; "
         f"R_sq{where} = {rsq:.4g} ohm/sq; {content['red_bonds']['count']} red bond(s)"
         + ("" if table is None else f"; {len(table)} (T, H) points"), quiet=args.quiet)
    _say(f"results in {target}/", quiet=args.quiet)
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    from .config import defaults_toml

    if not args.defaults:
        msg = "say what to show: 'morpho config --defaults' prints the default configuration"
        raise ConfigError(msg)
    sys.stdout.write(defaults_toml())
    return 0


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so that cleanup (temporary folders, locks) runs."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 2 bad input/usage, 1 unexpected)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"morpho: error: {exc}", file=sys.stderr)
        return 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    share_one_malloc_arena()
    # tifffile logs what it finds odd in a corrupt file; morpho turns every such file into one
    # error line of its own, so the log would only add lines to it.
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)  # a killed run cleans up like Ctrl-C
    try:
        return _dispatch(args, argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _dispatch(args: argparse.Namespace, argv: list[str]) -> int:
    """Run the chosen command; turn morpho errors, interrupts and crashes into exit codes."""
    try:
        if args.command == "analyze":
            return _cmd_analyze(args, argv)
        if args.command == "batch":
            return _cmd_batch(args, argv)
        if args.command == "info":
            return _cmd_info(args)
        if args.command == "synth":
            return _cmd_synth(args)
        if args.command == "fit":
            return _cmd_fit(args)
        if args.command == "plot":
            return _cmd_plot(args)
        if args.command == "compare":
            return _cmd_compare(args)
        if args.command == "export":
            return _cmd_export(args)
        if args.command == "transport":
            return _cmd_transport(args, argv)
        return _cmd_config(args)
    except MorphoError as exc:
        print(f"morpho: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("morpho: interrupted; no partial result was kept", file=sys.stderr)
        return 130
    except _Terminated:
        print("morpho: terminated (SIGTERM); no partial result was kept", file=sys.stderr)
        return 143
    except Exception as exc:
        if getattr(args, "verbose", False):
            traceback.print_exc()
        print(
            f"morpho: internal error: {type(exc).__name__}: {exc} (run with -v for the traceback and report it)",
            file=sys.stderr,
        )
        return 1


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
