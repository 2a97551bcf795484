"""Writing results: an :class:`~morpho.pipeline.AnalysisResult` -> the contract folder.

This is the only module (with :mod:`morpho.io`) that touches the filesystem.  A result folder is
written completely into a hidden temporary sibling and then renamed into place, so a run that
fails or is interrupted leaves either the previous result or nothing, never a half-written
folder.  An existing folder is replaced only with ``overwrite=True``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import glob
import json
import math
import os
import platform
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tifffile

from . import __version__
from .errors import InputError, MorphoError, OutputError, OutputExistsError
from .formats import EXPORT_FORMATS, grain_graph, imagej_rois, jja_arrays, node_link, numpy_arrays, openpnm_table

__all__ = [
    "DEFAULT_EXPORTS",
    "PLOT_KINDS",
    "SCHEMA_VERSION",
    "analysis_figures",
    "atomic_dir",
    "build_summary",
    "check_writable",
    "comparison_markdown",
    "comparison_table",
    "result_dir",
    "result_lock",
    "to_jsonable",
    "write_comparison",
    "write_exports",
    "write_fit_results",
    "write_format",
    "write_graphml",
    "write_plots",
    "write_results",
    "write_synthetic",
]

SCHEMA_VERSION = "1.0"


def to_jsonable(value: Any) -> Any:
    """Convert NumPy scalars/arrays and non-finite floats (-> None) to plain JSON values."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    return value


def result_dir(out_root: Path, image_path: Path) -> Path:
    """``OUT/<image stem>``."""
    return Path(out_root) / Path(image_path).stem


def check_writable(target: Path, *, overwrite: bool) -> None:
    """Fail early (before any work) when `target` exists or its parent cannot be written.

    Raises
    ------
    OutputExistsError
        `target` exists and `overwrite` is False.
    OutputError
        The parent folder cannot be created or written.
    """
    if target.exists() and not overwrite:
        msg = f"{target} already exists; pass --overwrite to replace it or choose another -o folder"
        raise OutputExistsError(msg)
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create output folder {parent} ({exc.strerror or exc}); choose a writable -o folder"
        raise OutputError(msg) from None
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        msg = f"output folder {parent} is not writable; choose a writable -o folder"
        raise OutputError(msg)


_LOCKS_HELD: dict[str, int] = {}  # lock path -> depth, for this process (re-entrant)
_LOCKS_GUARD = threading.Lock()


def _lock_path(target: Path) -> Path:
    return target.parent / f".{target.name}.lock"


def _try_flock(path: Path) -> int | None:
    """Open `path` and take an exclusive non-blocking flock on it; the fd, or None if another holds it.

    The lock file is unlinked by its holder on release; a process that opened the old file just
    before that would lock a file nobody else can see, so the lock counts only if `path` still
    names the locked file afterwards (the usual lock-file protocol).
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # lost a race with the previous holder's unlink: try the new file


@contextmanager
def result_lock(target: Path) -> Iterator[None]:
    """Hold the write lock of result folder `target` (``.<name>.lock`` beside it) for the block.

    Two morpho processes that write the same folder at once (two shells, two batch workers, a
    batch and an ``analyze``) would otherwise race on the rename; the second one gets a one-line
    :class:`OutputError` at once, before any work, instead.  Re-entrant within one process (the
    CLI holds it from its first check to the final rename, and :func:`atomic_dir` takes it
    again).  Taking it first clears what a killed writer left (:func:`_clear_leftovers`).  The
    lock is ``flock``, so the kernel drops it when the holder dies: a killed run
    never leaves a stale lock behind.

    Raises
    ------
    OutputError
        Another process holds the lock, or the lock file cannot be created.
    """
    path = _lock_path(Path(target))
    key = os.fspath(path.absolute())
    with _LOCKS_GUARD:
        if key in _LOCKS_HELD:
            _LOCKS_HELD[key] += 1
            fd = None
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = _try_flock(path)
            except OSError as exc:
                msg = f"cannot create the lock file {path} ({exc.strerror or exc}); choose a writable -o folder"
                raise OutputError(msg) from None
            if fd is None:
                try:
                    holder = path.read_text(encoding="ascii").strip() or "unknown"
                except OSError:
                    holder = "unknown"
                msg = (f"another morpho run (pid {holder}) is writing {target}; wait for it to finish "
                       "or choose another -o folder")
                raise OutputError(msg)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode("ascii"))
            _LOCKS_HELD[key] = 1
            _clear_leftovers(Path(target))
    try:
        yield
    finally:
        with _LOCKS_GUARD:
            _LOCKS_HELD[key] -= 1
            if _LOCKS_HELD[key] == 0:
                del _LOCKS_HELD[key]
            if fd is not None:  # the outermost holder: unlink while still locked, then release
                with contextlib.suppress(OSError):
                    path.unlink()
                os.close(fd)


def _clear_leftovers(target: Path) -> None:
    """Remove what a killed writer of `target` left beside it; call with the lock held.

    With the lock held no other process writes `target`, so its hidden ``.tmp-`` siblings are
    remains of a run that was killed (SIGKILL, power loss) before it could clean up.  A run
    killed between its two renames leaves the previous result in ``.old-*/<name>`` and no
    `target`: that result is put back first.
    """
    parent = target.parent
    for old in sorted(parent.glob(f".{glob.escape(target.name)}.old-*")):
        kept = old / target.name
        if not target.exists() and kept.is_dir():
            os.replace(kept, target)
        shutil.rmtree(old, ignore_errors=True)
    for tmp in parent.glob(f".{glob.escape(target.name)}.tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def atomic_dir(target: Path, *, overwrite: bool) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success rename it to `target`, else delete it.

    The folder's write lock (:func:`result_lock`) is held throughout.  An ``OSError`` while writing (disk full, quota,
    permissions changed under the run) becomes a one-line :class:`OutputError`; either way the
    temporary folder is deleted and the previous `target` (or nothing) stays.
    """
    target = Path(target)
    with result_lock(target):
        check_writable(target, overwrite=overwrite)
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        except OSError as exc:
            msg = f"cannot write in {target.parent} ({exc.strerror or exc}); choose a writable -o folder"
            raise OutputError(msg) from None
        try:
            yield tmp
            if target.exists():
                if not overwrite:
                    msg = f"{target} appeared while this run was writing; pass --overwrite or choose another folder"
                    raise OutputExistsError(msg)
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
                os.replace(target, old / target.name)
                os.replace(tmp, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
        except MorphoError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            msg = (f"cannot write {target} ({exc.strerror or exc}); nothing was kept — free disk space "
                   "or choose another -o folder")
            raise OutputError(msg) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for name in (
        "numpy",
        "scipy",
        "scikit-image",
        "opencv-python-headless",
        "pandas",
        "tifffile",
        "scikit-learn",
        "networkx",
        "matplotlib",
    ):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def build_summary(result: Any, *, argv: Sequence[str]) -> dict[str, Any]:
    """The ``summary.json`` content (DESIGN.md contract keys, plus supporting figures)."""
    m = result.micrograph
    summary = {
        "schema_version": SCHEMA_VERSION,
        "morpho_version": __version__,
        "created_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "argv": list(argv),
        "config_sha256": result.config.sha256(),
        "input": {
            "path": str(m.path),
            "sha256": m.sha256,
            "shape_px": list(m.shape_px),
            "databar_rows": int(m.databar_rows),
            "databar_source": m.databar_source,
            "pixel_size_m": float(m.pixel_size_m),
            "pixel_size_source": m.pixel_size_source,
            "vendor": m.vendor,
            "n_pages": int(m.n_pages),
            "notes": list(m.notes),
        },
        **result.summary,
        "timing_s": {k: round(v, 4) for k, v in result.timing_s.items()},
        "warnings": list(result.warnings),
        "provenance": {"versions": _versions(), "platform": platform.platform()},
    }
    return to_jsonable(summary)


def write_graphml(
    grains: pd.DataFrame, junctions: pd.DataFrame, path: Path, *, graph_attributes: dict[str, Any] | None = None
) -> None:
    """Write the grain graph as GraphML (networkx), node/edge attributes as in the CSVs."""
    import networkx as nx

    nx.write_graphml(grain_graph(grains, junctions, graph_attributes=graph_attributes), path)


#: Formats that ``write_results`` writes beside the contract files (``morpho export`` writes any).
DEFAULT_EXPORTS = ("json", "npz", "parquet")


def _check_export_formats(formats: Sequence[str]) -> None:
    unknown = [f for f in formats if f not in EXPORT_FORMATS]
    if unknown:
        msg = f"unknown export format {unknown[0]!r}; use one of {', '.join(EXPORT_FORMATS)}"
        raise InputError(msg)


def write_format(fmt: str, folder: Path, grains: pd.DataFrame, junctions: pd.DataFrame, *,
                 labels: np.ndarray | None = None, graph_attributes: dict[str, Any] | None = None) -> list[Path]:
    """Write one format of :data:`morpho.formats.EXPORT_FORMATS` into `folder`; return the files.

    Raises
    ------
    InputError
        Unknown format, or the tables lack what the format needs (``imagej-roi`` needs `labels`).
    """
    _check_export_formats([fmt])
    attrs = dict(graph_attributes or {})
    names = EXPORT_FORMATS[fmt][0]
    paths = [folder / name for name in names]
    if fmt == "graphml":
        write_graphml(grains, junctions, paths[0], graph_attributes=attrs)
    elif fmt == "json":
        data = node_link(grains, junctions, graph_attributes=attrs)
        paths[0].write_text(json.dumps(data, allow_nan=False) + "\n", encoding="utf-8")
    elif fmt == "parquet":
        # fastparquet, not pandas' default pyarrow: pandas imports pyarrow at start-up whenever it
        # is installed, which costs every analysis ~80 MB of memory (8192^2 peak 1447 MiB
        # instead of 1363, over the 1.5 GB target); the files are standard Parquet either way.
        import fastparquet

        fastparquet.write(str(paths[0]), grains, write_index=False, stats=False)
        fastparquet.write(str(paths[1]), junctions, write_index=False, stats=False)
    elif fmt == "npz":
        np.savez_compressed(paths[0], **numpy_arrays(grains, junctions, pixel_size_m=attrs.get("pixel_size_m")))
    elif fmt == "openpnm":
        openpnm_table(grains, junctions).to_csv(paths[0], index=False, lineterminator="\n")
    elif fmt == "jja":
        arrays = jja_arrays(grains, junctions)
        np.savez_compressed(paths[0], **arrays)
        node_keys, edge_keys = ("x_m", "y_m", "C_ground_F"), ("node1", "node2", "Ic_A", "R_ohm", "C_F")
        nodes = pd.DataFrame({"node": np.arange(arrays["x_m"].size), **{k: arrays[k] for k in node_keys}})
        _write_csv(nodes, paths[1])
        _write_csv(pd.DataFrame({k: arrays[k] for k in edge_keys}), paths[2])
    else:  # imagej-roi
        if labels is None:
            msg = "the ImageJ ROI export needs labels.tif and summary.json in the analysis folder"
            raise InputError(msg)
        from roifile import roiwrite

        rois = imagej_rois(labels)
        if rois:
            roiwrite(paths[0], rois, mode="w")
        else:  # an empty ROI set: an empty zip, which Fiji opens as no ROI
            import zipfile

            zipfile.ZipFile(paths[0], "w").close()
    return paths


def write_exports(folder: str | Path, formats: Sequence[str], target: str | Path | None = None, *,
                  overwrite: bool = False) -> list[Path]:
    """``morpho export``: the analysis in `folder` in each of `formats`, into `target`.

    `target` defaults to ``folder/export``; it is written whole into a temporary sibling and
    renamed into place (an existing one is replaced only with `overwrite`).

    Raises
    ------
    InputError
        The folder is not an analysis, a format is unknown or cannot be made from it.
    OutputExistsError, OutputError
    """
    from .io import read_analysis_folder

    _check_export_formats(formats)
    formats = list(dict.fromkeys(formats))
    tables = read_analysis_folder(folder, with_labels="imagej-roi" in formats)
    if "imagej-roi" in formats and tables.labels is None:
        msg = f"{folder}: the ImageJ ROI export needs labels.tif and summary.json there; re-run 'morpho analyze'"
        raise InputError(msg)
    attrs: dict[str, Any] = {}
    if tables.summary is not None:
        inp = tables.summary.get("input", {})
        attrs = {k: inp[k] for k in ("pixel_size_m", "pixel_size_source") if k in inp}
    out = Path(target) if target is not None else Path(folder) / "export"
    written: list[Path] = []
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for fmt in formats:
            written += [out / p.name for p in write_format(fmt, tmp, tables.grains, tables.junctions,
                                                           labels=tables.labels, graph_attributes=attrs)]
    return written


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    # repr-precision floats: re-reading gives the same numbers bit for bit.
    frame.to_csv(path, index=False, float_format=None, lineterminator="\n")


def write_results(
    result: Any,
    out_root: Path,
    *,
    argv: Sequence[str],
    overwrite: bool = False,
    report: bool = True,
) -> Path:
    """Write the contract folder ``OUT/<stem>/`` for one analysis, atomically.

    Parameters
    ----------
    result : AnalysisResult
        From :func:`morpho.pipeline.analyze`.
    out_root : Path
        The ``-o`` folder.
    argv : sequence of str
        The command line, recorded in ``summary.json``.
    overwrite : bool
        Replace an existing result folder.
    report : bool
        Write ``report.html`` (``--no-report`` turns it off).

    Returns
    -------
    Path
        The result folder.

    Raises
    ------
    OutputExistsError, OutputError
    """
    from . import plots
    from .report import render_report

    target = result_dir(Path(out_root), Path(result.micrograph.path))
    summary = build_summary(result, argv=argv)
    with atomic_dir(target, overwrite=overwrite) as tmp:
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        (tmp / "config.json").write_text(
            json.dumps(to_jsonable(result.config.to_dict()), indent=2) + "\n", encoding="utf-8"
        )
        _write_csv(result.grains, tmp / "grains.csv")
        _write_csv(result.junctions, tmp / "junctions.csv")
        scale = {
            "pixel_size_m": summary["input"]["pixel_size_m"],
            "pixel_size_source": summary["input"]["pixel_size_source"],
        }
        tifffile.imwrite(
            tmp / "labels.tif",
            result.full_labels,
            compression="zlib",
            rowsperstrip=256,  # compressed strip by strip: no whole-image buffers on large micrographs
            metadata=None,
            description=json.dumps({"morpho": __version__, "content": "grain labels", **scale}),
        )
        write_graphml(result.grains, result.junctions, tmp / "graph.graphml", graph_attributes=scale)
        for fmt in DEFAULT_EXPORTS:
            write_format(fmt, tmp, result.grains, result.junctions, graph_attributes=scale)
        hist = plots.histogram_figure(result.distribution, title=Path(result.micrograph.path).stem)
        hist_png = plots.figure_to_bytes(hist, "png")
        (tmp / "histogram.png").write_bytes(hist_png)
        (tmp / "histogram.pdf").write_bytes(plots.figure_to_bytes(hist, "pdf"))
        overlay = _overlay(result)
        (tmp / "overlay.png").write_bytes(_png(overlay))
        if report:
            # The report inlines a reduced overlay (<= 1200 px) so that it stays a few MB.
            import cv2

            factor = 1200 / max(overlay.shape[:2])
            small = (
                cv2.resize(overlay, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor < 1 else overlay
            )
            figures = {kind: plots.figure_to_bytes(fig, "png")
                       for kind, fig in plots.table_figures(result.grains, result.junctions).items()}
            if result.percolation is not None:
                from .percolation import percolation_figure

                figures["percolation"] = plots.figure_to_bytes(percolation_figure(result.percolation, width="double"),
                                                               "png")
            micrograph = _jpeg(_micrograph_rgb(result.micrograph.analysis_pixels))
            html = render_report(result, summary=summary, overlay_png=_jpeg(small), histogram_png=hist_png,
                                 figures=figures, micrograph_png=micrograph)
            (tmp / "report.html").write_text(html, encoding="utf-8")
    return target


def _micrograph_rgb(pixels: np.ndarray, max_side_px: int = 1200) -> np.ndarray:
    """The micrograph as grey RGB for the report: shrunk to `max_side_px`, 0.5-99.5 % stretch."""
    import cv2

    img = np.asarray(pixels, dtype=np.float32)
    factor = max_side_px / max(img.shape)
    if factor < 1:
        img = cv2.resize(img, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    lo, hi = np.percentile(img, [0.5, 99.5])
    grey = np.clip((img - lo) * (255.0 / (hi - lo)), 0, 255) if hi > lo else np.full(img.shape, 128.0)
    return np.repeat(np.rint(grey).astype(np.uint8)[:, :, None], 3, axis=2)


def _jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    """JPEG bytes of an RGB uint8 array: the report's photographs (a noisy micrograph is ~10x
    smaller than as PNG; the figures stay PNG)."""
    import cv2

    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV failure
        msg = "could not encode a JPEG image"
        raise OutputError(msg)
    return buf.tobytes()


def _png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an RGB uint8 array (OpenCV wants BGR)."""
    import cv2

    ok, buf = cv2.imencode(".png", rgb[:, :, ::-1])
    if not ok:  # pragma: no cover - OpenCV failure
        msg = "could not encode a PNG image"
        raise OutputError(msg)
    return buf.tobytes()


def _overlay(result: Any) -> np.ndarray:
    from . import plots

    grains = result.grains
    px = result.micrograph.pixel_size_m
    centroids_rc = (
        np.stack([grains["y_m"].to_numpy() / px, grains["x_m"].to_numpy() / px], axis=1)
        if len(grains)
        else np.zeros((0, 2))
    )
    edges = result.junctions[["grain_a", "grain_b"]].to_numpy(dtype=np.int64) - 1
    gaps = result.junctions["gap_m"].to_numpy() if len(result.junctions) else None
    return plots.overlay_figure(
        result.micrograph.analysis_pixels,
        result.segmentation.labels,
        centroids_rc,
        edges,
        edge_values=gaps,
        pixel_size_m=px,
    )


def write_synthetic(sample: Any, path: Path, *, vendor: str = "fei", overwrite: bool = False) -> list[Path]:
    """Write a synthetic micrograph in a vendor's TIFF format plus its ground truth.

    Files: ``PATH`` (the micrograph, and a sidecar for vendors that use one),
    ``<stem>_truth_labels.tif`` (uint32, same shape), ``<stem>_truth_grains.csv`` and
    ``<stem>_truth.json`` (the generation parameters) and ``<stem>_truth_junctions.csv`` (the
    true neighbour pairs and gaps, where the sample has them).

    Raises
    ------
    OutputExistsError, OutputError
    """
    from .vendor_tiff import write_sem_tiff

    path = Path(path)
    stem = path.with_suffix("")
    targets = [
        path,
        Path(f"{stem}_truth_labels.tif"),
        Path(f"{stem}_truth_grains.csv"),
        Path(f"{stem}_truth.json"),
        Path(f"{stem}_truth_junctions.csv"),
    ]
    existing = [t for t in targets if t.exists()]
    if existing and not overwrite:
        msg = f"{existing[0]} already exists; pass --overwrite to replace it or choose another name"
        raise OutputExistsError(msg)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        written = write_sem_tiff(
            path, sample.image, vendor=vendor, pixel_size_m=sample.pixel_size_m, databar_rows=sample.databar_rows
        )
        tifffile.imwrite(targets[1], sample.labels.astype(np.uint32), compression="zlib")
        _write_csv(sample.grains, targets[2])
        meta = {
            "preset": sample.preset,
            "pixel_size_m": sample.pixel_size_m,
            "databar_rows": sample.databar_rows,
            "params": sample.params,
            "morpho_version": __version__,
        }
        targets[3].write_text(json.dumps(to_jsonable(meta), indent=2) + "\n", encoding="utf-8")
        if sample.junctions is not None:
            _write_csv(sample.junctions, targets[4])
        else:
            targets.pop()
    except PermissionError as exc:
        msg = f"cannot write {exc.filename or path}: permission denied; choose a writable folder"
        raise OutputError(msg) from None
    return [*written, *targets[1:]]


def write_fit_results(
    target: Path, content: dict, series: list, *, quantity: str, per_field: pd.DataFrame | None,
    overwrite: bool = False,
) -> Path:
    """Write ``morpho fit``'s folder atomically: fit.json, fit.png/.pdf and, per field, fit_vs_field.csv.

    `content` is the first value of :func:`morpho.fit.fit_table`; `series` the (label, T, rho,
    fit) tuples for :func:`morpho.plots.rho_fit_figure`.

    Raises
    ------
    OutputExistsError, OutputError
        As for the analysis folders.
    """
    from .plots import figure_to_bytes, rho_fit_figure

    ylabel = r"$\rho$ (Ω/□)" if quantity == "sheet_resistance_ohm_per_sq" else r"$R$ (Ω)"
    with atomic_dir(target, overwrite=overwrite) as tmp:
        (tmp / "fit.json").write_text(json.dumps(to_jsonable(content), indent=2) + "\n")
        fig = rho_fit_figure(series, ylabel=ylabel)
        for fmt in ("png", "pdf"):
            (tmp / f"fit.{fmt}").write_bytes(figure_to_bytes(fig, fmt))
        if per_field is not None:
            _write_csv(per_field, tmp / "fit_vs_field.csv")
    return target


def write_transport_results(
    target: Path, content: dict, table: pd.DataFrame | None, *, overwrite: bool = False
) -> Path:
    """Write ``morpho transport``'s folder atomically: transport.json, and for a sweep
    transport.csv and rho_t.png/.pdf.

    Raises
    ------
    OutputExistsError, OutputError
        As for the analysis folders.
    """
    from .plots import figure_to_bytes, rho_t_figure

    with atomic_dir(target, overwrite=overwrite) as tmp:
        (tmp / "transport.json").write_text(json.dumps(to_jsonable(content), indent=2) + "\n")
        if table is not None:
            _write_csv(table, tmp / "transport.csv")
            fig = rho_t_figure(table)
            for fmt in ("png", "pdf"):
                (tmp / f"rho_t.{fmt}").write_bytes(figure_to_bytes(fig, fmt))
    return target


#: ``morpho plot --kind`` figures, in the order they are made.
PLOT_KINDS = ("histogram", "coordination", "gaps", "charging-energy", "josephson-energy", "ej-over-ec", "rho-t",
              "rho-t-fit", "overlay", "percolation")


def _percolation_figure(folder: Path, tables: Any, width: str | float) -> Any:
    """The percolation figure of an analysis folder, from its labels (the analysed region, as
    :func:`~morpho.io.read_analysis_folder` gives them) and its configuration's connectivity and
    bridging: the numbers of its ``summary.json`` again (the sandbox centres are seeded)."""
    from .percolation import percolation_analysis, percolation_figure

    if tables.labels is None or tables.pixel_size_m is None:
        msg = f"{folder}: the percolation figure needs labels.tif and summary.json; re-run 'morpho analyze'"
        raise InputError(msg)
    cfg = _analysis_config(folder).percolation
    px = tables.pixel_size_m
    result = percolation_analysis(tables.labels > 0, pixel_size_m=px, connectivity=cfg.connectivity,
                                  bridge_px=cfg.bridge_gap_m / (2.0 * px))
    return percolation_figure(result, width=width)


def _analysis_config(folder: Path) -> Any:
    """The configuration an analysis folder was made with (``config.json``), else the default."""
    from .config import AnalysisConfig, config_from_dict

    path = folder / "config.json"
    if not path.is_file():
        return AnalysisConfig()
    try:
        return config_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, UnicodeDecodeError) as exc:
        msg = f"{path}: not a readable configuration ({exc}); re-run 'morpho analyze'"
        raise InputError(msg) from None


def _micrograph_pixels(tables: Any, image: str | Path | None) -> np.ndarray:
    """The analysed micrograph of an analysis folder (its file, or `image`), databar removed."""
    from .io import read_micrograph

    summary = tables.summary or {}
    inp = summary.get("input", {})
    path = Path(image) if image is not None else Path(str(inp.get("path", "")))
    if not path.is_file():
        msg = (f"the overlay needs the micrograph, not found at {str(path)!r}; pass --image IMAGE "
               "(the file that was analysed)")
        raise InputError(msg)
    micrograph = read_micrograph(path, pixel_size_m=tables.pixel_size_m, databar_rows=inp.get("databar_rows"))
    if inp.get("sha256") and micrograph.sha256 != inp["sha256"]:
        msg = f"{path} is not the micrograph of {tables.folder} (its SHA-256 differs); pass --image with that file"
        raise InputError(msg)
    return micrograph.analysis_pixels


def analysis_figures(folder: str | Path, kinds: Sequence[str] | None = None, *, image: str | Path | None = None,
                     colour_by: str = "gap", width: str | float = "single") -> dict[str, Any]:
    """The figures of ``morpho plot`` for one analysis folder: ``{kind: Figure}``.

    `kinds` None: every kind the folder has data for (``rho-t`` when ``transport/transport.csv``
    is there, ``overlay`` when the micrograph is found where it was analysed, or `image`).  The
    size histogram is re-made from ``grains.csv`` (interior grains) with the folder's
    distribution settings, which gives the modes of ``summary.json`` again (the mixture fit is
    seeded).

    Raises
    ------
    InputError
        Not an analysis folder, an unknown kind, or a kind asked for whose data is missing.
    """
    from . import plots
    from .io import read_analysis_folder, read_csv_table

    folder = Path(folder)
    unknown = [k for k in (kinds or ()) if k not in PLOT_KINDS]
    if unknown:
        msg = f"unknown figure kind {unknown[0]!r}; use one of {', '.join(PLOT_KINDS)}"
        raise InputError(msg)
    if colour_by not in ("gap", "ej"):
        msg = f"--colour-by must be 'gap' or 'ej', got {colour_by!r}"
        raise InputError(msg)
    tables = read_analysis_folder(folder, with_labels=kinds is None or bool({"overlay", "percolation"} & set(kinds)))
    grains, junctions = tables.grains, tables.junctions
    transport_csv = folder / "transport" / "transport.csv"
    image_known = image is not None or Path(str((tables.summary or {}).get("input", {}).get("path", ""))).is_file()
    wanted = list(dict.fromkeys(kinds)) if kinds else [
        k for k in PLOT_KINDS
        if (not k.startswith("rho-t") or transport_csv.is_file())
        and (k != "overlay" or (tables.labels is not None and image_known))
        and (k != "percolation" or (tables.labels is not None and tables.pixel_size_m is not None))]
    stem = folder.name
    figures: dict[str, Any] = {}
    for kind in wanted:
        if kind == "histogram":
            figures[kind] = plots.histogram_figure(_size_distribution(folder, grains), title=stem)
        elif kind in plots.TABLE_FIGURES:
            figures.update(plots.table_figures(grains, junctions, [kind], title=stem))
        elif kind == "percolation":
            figures[kind] = _percolation_figure(folder, tables, width)
        elif kind.startswith("rho-t"):
            if not transport_csv.is_file():
                msg = (f"{folder}: no transport/transport.csv for the {kind} figure; "
                       f"run 'morpho transport {folder}' first")
                raise InputError(msg)
            table = read_csv_table(transport_csv)
            if kind == "rho-t":
                figures[kind] = plots.rho_t_figure(table)
                continue
            try:
                figures[kind] = _rho_fit_figure(table)
            except MorphoError:
                if kinds:  # asked for by name: say why it cannot be made
                    raise
                # among "every figure": a curve Eq. 1/2 cannot fit (too few points, no activation)
                # has no fit figure; its rho-t figure is still made
        else:  # overlay
            if tables.labels is None or tables.pixel_size_m is None:
                msg = f"{folder}: the overlay needs labels.tif and summary.json; re-run 'morpho analyze'"
                raise InputError(msg)
            pixels = _micrograph_pixels(tables, image)
            px = tables.pixel_size_m
            centres = np.stack([grains["y_m"].to_numpy() / px, grains["x_m"].to_numpy() / px], axis=1)
            pairs = junctions[["grain_a", "grain_b"]].to_numpy(dtype=np.int64) - 1
            if colour_by == "gap":
                values, label, log = junctions["gap_m"].to_numpy() / 1e-9, "Gap (nm)", False
            else:
                values, label, log = junctions["josephson_energy_K"].to_numpy(), "$E_J/k_B$ (K)", True
            figures[kind] = plots.map_figure(pixels, tables.labels, centres, pairs, values, pixel_size_m=px,
                                             value_label=label, log_values=log)
    return figures


def _check_figure_options(formats: Sequence[str], width: str | float) -> None:
    """InputError for a figure format or journal width ``morpho plot``/``compare`` cannot make
    (checked before any figure is drawn)."""
    from .plots import WIDTHS_IN

    bad = [f for f in formats if f not in ("pdf", "svg", "png")]
    if bad:
        msg = f"figure format must be pdf, svg or png, got {bad[0]!r}"
        raise InputError(msg)
    if isinstance(width, str) and width not in WIDTHS_IN:
        msg = f"--width must be single or double, got {width!r}"
        raise InputError(msg)


def _size_distribution(folder: Path, grains: pd.DataFrame) -> Any:
    """The size distribution of a folder's interior grains with its own distribution settings
    (the mixture fit is seeded, so this gives the modes of its ``summary.json`` again)."""
    from .distribution import size_distribution

    interior = ~grains["touches_border"].astype(bool) if "touches_border" in grains else slice(None)
    return size_distribution(grains.loc[interior, "diameter_m"].to_numpy(),
                             config=_analysis_config(folder).distribution)


def _rho_fit_figure(table: pd.DataFrame) -> Any:
    """ρ(T) of a transport table with the Eq. 1 / Eq. 2 fits of :func:`morpho.fit.fit_table`
    (``--model auto``: the lower BIC), one colour per field, as ``morpho fit`` draws it."""
    from .fit import fit_series, fit_table
    from .plots import rho_fit_figure

    content, fits = fit_table(table)
    quantity = content["quantity"]
    series = fit_series(table, fits, quantity, field_unit="Oe")
    ylabel = r"$\rho$ (Ω/□)" if quantity == "sheet_resistance_ohm_per_sq" else r"$R$ (Ω)"
    return rho_fit_figure(series, ylabel=ylabel)


def write_plots(folder: str | Path, kinds: Sequence[str] | None = None, *, formats: Sequence[str] = ("pdf",),
                width: str | float = "single", out: str | Path | None = None, overwrite: bool = False,
                image: str | Path | None = None, colour_by: str = "gap") -> list[Path]:
    """``morpho plot``: write :func:`analysis_figures` of `folder` as ``<kind>.<format>``.

    Into `out` (default ``folder/figures``), written whole into a temporary sibling and renamed
    into place; an existing one is replaced only with `overwrite`.  Returns the files.
    """
    from . import plots

    _check_figure_options(formats, width)
    figures = analysis_figures(folder, kinds, image=image, colour_by=colour_by, width=width)
    target = Path(out) if out is not None else Path(folder) / "figures"
    written: list[Path] = []
    with atomic_dir(target, overwrite=overwrite) as tmp:
        for kind, fig in figures.items():
            plots.set_width(fig, width)
            for fmt in dict.fromkeys(formats):
                (tmp / f"{kind}.{fmt}").write_bytes(plots.figure_to_bytes(fig, fmt))
                written.append(target / f"{kind}.{fmt}")
    return written


def comparison_table(folders: Sequence[str | Path], labels: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per analysis folder, side by side (``morpho compare``): grains, modes (median
    diameter and number fraction of each, smallest first), <z>, median gap, median E_C, E_J and
    E_J/E_C, and E_aI, from each folder's ``summary.json``; the percolation figures
    (``coverage_p``, ``fractal_dimension``) when the summary has them."""
    rows = []
    labels = list(labels) if labels is not None else [Path(f).name for f in folders]
    for folder, label in zip(folders, labels, strict=True):
        path = Path(folder) / "summary.json"
        if not path.is_file():
            msg = f"{folder}: no summary.json; give folders written by 'morpho analyze'"
            raise InputError(msg)
        try:
            s = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            msg = f"{path}: not valid JSON ({exc}); re-run 'morpho analyze'"
            raise InputError(msg) from None
        grains, dist, graph, phys = (s.get(k, {}) for k in ("grains", "distribution", "graph", "physics"))
        row: dict[str, Any] = {"sample": label, "folder": str(folder), "grains": grains.get("count"),
                               "coverage_fraction": grains.get("coverage_fraction"),
                               "n_modes": dist.get("n_modes")}
        for k, mode in enumerate(dist.get("modes", []), start=1):
            row[f"mode{k}_diameter_m"] = mode.get("diameter_m")
            row[f"mode{k}_fraction"] = mode.get("fraction")
        row.update({"mean_coordination": graph.get("mean_coordination"), "median_gap_m": graph.get("median_gap_m"),
                    "charging_energy_K_median": phys.get("charging_energy_K_median"),
                    "josephson_energy_K_median": phys.get("josephson_energy_K_median"),
                    "ej_over_ec_median": phys.get("ej_over_ec_median"),
                    "activation_energy_K": phys.get("activation_energy_K")})
        perc = s.get("percolation")
        if isinstance(perc, dict):
            row["coverage_p"] = perc.get("coverage_p")
            row["fractal_dimension"] = perc.get("fractal_dimension_sandbox", perc.get("fractal_dimension"))
        rows.append(row)
    table = pd.DataFrame(rows)
    mode_cols = sorted((c for c in table.columns if c.startswith("mode")), key=lambda c: (int(c[4:].split("_")[0]), c))
    first = ["sample", "folder", "grains", "coverage_fraction", "n_modes"]
    rest = [c for c in table.columns if c not in first and c not in mode_cols]
    return table[first + mode_cols + rest]


def comparison_markdown(table: pd.DataFrame) -> str:
    """The comparison as a Markdown table in the units people quote (nm, K), samples as columns."""
    def fmt(value: Any, scale: float = 1.0, digits: int = 3) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "—"
        return f"{value / scale:.{digits}g}"

    lines = ["| | " + " | ".join(str(s) for s in table["sample"]) + " |",
             "|---|" + "---|" * len(table)]
    spec: list[tuple[str, str, float]] = [("grains", "grains", 1.0), ("coverage_fraction", "coverage", 1.0)]
    spec += [(c, f"mode {c[4:].split('_')[0]}: D (nm)" if c.endswith("diameter_m") else
              f"mode {c[4:].split('_')[0]}: fraction", 1e-9 if c.endswith("diameter_m") else 1.0)
             for c in table.columns if c.startswith("mode")]
    spec += [("mean_coordination", "<z>", 1.0), ("median_gap_m", "median gap (nm)", 1e-9),
             ("charging_energy_K_median", "E_C median (K)", 1.0), ("josephson_energy_K_median", "E_J median (K)", 1.0),
             ("ej_over_ec_median", "E_J/E_C median", 1.0), ("activation_energy_K", "E_aI (K)", 1.0)]
    spec += [(c, name, 1.0) for c, name in (("coverage_p", "coverage p"), ("fractal_dimension", "D (sandbox)"))
             if c in table.columns]
    for col, name, scale in spec:
        values = table[col].tolist() if col in table.columns else [None] * len(table)
        lines.append(f"| {name} | " + " | ".join(fmt(v, scale) for v in values) + " |")
    return "\n".join(lines) + "\n"


def write_comparison(folders: Sequence[str | Path], *, labels: Sequence[str] | None = None,
                     out: str | Path | None = None, formats: Sequence[str] = ("pdf",), width: str | float = "single",
                     overwrite: bool = False) -> tuple[list[Path], str]:
    """``morpho compare``: ``comparison.csv``, ``comparison.md`` and ``distributions.<fmt>``.

    Into `out` (default ``comparison`` beside the first folder), written whole and renamed into
    place.  Returns the files and the Markdown table.
    """
    from . import plots
    from .io import read_csv_table

    if len(folders) < 2:
        msg = "give two or more analysis folders to compare"
        raise InputError(msg)
    names = list(labels) if labels is not None else [Path(f).name for f in folders]
    if len(names) != len(folders):
        msg = f"--labels gives {len(names)} names for {len(folders)} folders; give one per folder"
        raise InputError(msg)
    _check_figure_options(formats, width)
    table = comparison_table(folders, names)
    dists = [_size_distribution(Path(folder), read_csv_table(Path(folder) / "grains.csv")) for folder in folders]
    fig = plots.set_width(plots.compare_figure(dists, names), width)
    markdown = comparison_markdown(table)
    target = Path(out) if out is not None else Path(folders[0]).parent / "comparison"
    written = [target / "comparison.csv", target / "comparison.md"]
    with atomic_dir(target, overwrite=overwrite) as tmp:
        _write_csv(table, tmp / "comparison.csv")
        (tmp / "comparison.md").write_text(markdown, encoding="utf-8")
        for fmt in dict.fromkeys(formats):
            (tmp / f"distributions.{fmt}").write_bytes(plots.figure_to_bytes(fig, fmt))
            written.append(target / f"distributions.{fmt}")
    return written, markdown
