"""``morpho batch``: many micrographs analysed in parallel on Dask distributed.

Every image is one task, :func:`analyze_one`, run on a Dask worker: read, analyse, write
``OUT/<stem>/`` atomically (as ``morpho analyze`` does), and return one row of ``batch.csv``.
A failed image becomes an ``error`` row and never stops the others.  By default the workers are
a local cluster of processes on this machine (``--workers N``, one thread each); ``--scheduler
tcp://HOST:PORT`` sends the tasks to an existing Dask scheduler instead, whose workers must run
the same morpho and see the images and the output folder at the same paths (a shared file
system).

Resume: an image whose result folder already holds a ``summary.json`` with the same input
SHA-256, the same configuration SHA-256 (:meth:`AnalysisConfig.sha256`) and the same morpho
version is not analysed again (``skipped`` row, numbers from that summary), so running a batch
again after an interruption or a failure does only the missing work.  A result folder from a
different configuration is an ``error`` row unless ``--overwrite`` is given.

``batch.csv`` (in ``OUT``) is rewritten at the end of every batch run over that folder: one row
per image, in the order the images were given, with the columns of :data:`BATCH_COLUMNS`.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from . import __version__
from .errors import InputError, MorphoError, OutputError

__all__ = ["BATCH_COLUMNS", "analyze_one", "find_images", "run_batch", "write_batch_csv",
           "write_batch_report"]

#: Columns of ``batch.csv``.  ``status``: ``ok`` (analysed now), ``skipped`` (an earlier result
#: with the same input, configuration and morpho version is kept) or ``error`` (``error`` says
#: why, in one line).
BATCH_COLUMNS = (
    "image", "status", "error", "result_dir", "grains", "n_modes", "mode_diameters_m", "mean_coordination",
    "median_gap_m", "charging_energy_K_median", "josephson_energy_K_median", "activation_energy_K",
    "pixel_size_m", "pixel_size_source", "seconds",
)

_TIFF_SUFFIXES = (".tif", ".tiff")
#: Seconds to wait for a Dask scheduler given by address before giving up.
SCHEDULER_TIMEOUT_S = 15.0


def find_images(specs: Sequence[str]) -> list[Path]:
    """The micrographs named by folders (their ``.tif``/``.tiff`` files, not recursive), files
    or glob patterns (``**`` recurses), in the order given, each once.

    Raises
    ------
    InputError
        A spec that matches nothing, no image at all, or two images with the same file stem
        (their results would share ``OUT/<stem>``).
    """
    found: list[Path] = []
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            hits = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in _TIFF_SUFFIXES)
            if not hits:
                msg = f"{spec}: no .tif or .tiff files in this folder; give a folder of TIFF micrographs or a glob"
                raise InputError(msg)
        elif path.is_file():
            hits = [path]
        else:
            hits = sorted(Path(p) for p in glob.glob(spec, recursive=True) if Path(p).is_file())
            if not hits:
                msg = f"{spec}: no such file or folder, and no file matches it as a pattern; check the path"
                raise InputError(msg)
        found.extend(hits)
    seen: dict[Path, Path] = {}
    stems: dict[str, Path] = {}
    images: list[Path] = []
    for p in found:
        key = p.resolve()
        if key in seen:
            continue
        seen[key] = p
        if p.stem in stems:
            msg = (f"{stems[p.stem]} and {p} have the same name stem {p.stem!r}, so their results would share "
                   f"OUT/{p.stem}; rename one or run them in separate batches")
            raise InputError(msg)
        stems[p.stem] = p
        images.append(p)
    return images


def _previous(target: Path, image_sha256: str, config_sha256: str) -> dict[str, Any] | None:
    """The summary of an earlier result of this image with this configuration, if there is one."""
    try:
        summary = json.loads((target / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same = (summary.get("config_sha256") == config_sha256 and summary.get("morpho_version") == __version__
            and (summary.get("input") or {}).get("sha256") == image_sha256)
    return summary if same else None


def _row_from_summary(row: dict[str, Any], summary: dict[str, Any]) -> None:
    modes = (summary.get("distribution") or {}).get("modes") or []
    graph, physics = summary.get("graph") or {}, summary.get("physics") or {}
    row.update({
        "grains": (summary.get("grains") or {}).get("count"),
        "n_modes": len(modes),
        "mode_diameters_m": ";".join(f"{m['diameter_m']:.6g}" for m in modes),
        "mean_coordination": graph.get("mean_coordination"),
        "median_gap_m": graph.get("median_gap_m"),
        "charging_energy_K_median": physics.get("charging_energy_K_median"),
        "josephson_energy_K_median": physics.get("josephson_energy_K_median"),
        "activation_energy_K": physics.get("activation_energy_K"),
        "pixel_size_m": (summary.get("input") or {}).get("pixel_size_m"),
        "pixel_size_source": (summary.get("input") or {}).get("pixel_size_source"),
    })


def analyze_one(image: str, out_root: str, config: dict[str, Any], argv: Sequence[str], *,
                overwrite: bool = False, report: bool = True, max_pixels: int | None = None) -> dict[str, Any]:
    """Analyse one micrograph into ``out_root/<stem>/`` (a Dask task; never raises).

    `config` is :meth:`AnalysisConfig.to_dict` (plain data travels to workers unchanged);
    `max_pixels` is the reader's pixel budget (None: its default).  Returns the ``batch.csv``
    row: status ``ok``, ``skipped`` (same input, configuration and
    morpho version already there) or ``error`` with the one-line reason.
    """
    import hashlib

    from ._memory import share_one_malloc_arena
    from .config import config_from_dict
    from .export import check_writable, result_dir, result_lock, write_results
    from .io import DEFAULT_MAX_PIXELS, read_micrograph
    from .pipeline import analyze

    share_one_malloc_arena()  # this worker process's allocator (morpho/_memory.py)
    t0 = time.perf_counter()
    row: dict[str, Any] = dict.fromkeys(BATCH_COLUMNS)
    row.update({"image": str(image), "error": ""})
    target = result_dir(Path(out_root), Path(image))
    row["result_dir"] = str(target)
    try:
        cfg = config_from_dict(config)
        try:
            digest = hashlib.sha256(Path(image).read_bytes()).hexdigest()
        except OSError as exc:
            msg = f"cannot read {image} ({exc.strerror or exc}); check that the file exists and is readable"
            raise InputError(msg) from None
        with result_lock(target):  # another batch or analyze writing this folder: an error row
            earlier = None if overwrite else _previous(target, digest, cfg.sha256())
            if earlier is not None:
                row["status"] = "skipped"
                _row_from_summary(row, earlier)
            else:
                if target.exists() and not overwrite:
                    msg = (f"{target} holds a result of another configuration, input or morpho version; pass "
                           "--overwrite to replace it or choose another -o folder")
                    raise OutputError(msg)
                check_writable(target, overwrite=overwrite)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the result's warnings are in its summary.json
                    micrograph = read_micrograph(image, pixel_size_m=cfg.input.pixel_size_m,
                                                 databar_rows=cfg.input.databar_rows,
                                                 max_pixels=max_pixels or DEFAULT_MAX_PIXELS)
                    result = analyze(micrograph, cfg, threads=1)  # one thread per Dask worker
                    write_results(result, Path(out_root), argv=list(argv), overwrite=overwrite, report=report)
                row["status"] = "ok"
                _row_from_summary(row, json.loads((target / "summary.json").read_text(encoding="utf-8")))
    except MorphoError as exc:
        row.update({"status": "error", "error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__})
    except MemoryError:
        row.update({"status": "error", "error": "out of memory; give the workers more memory or use fewer workers"})
    except Exception as exc:  # an unexpected failure of one image must not stop the batch
        text = str(exc).splitlines()[0] if str(exc) else ""
        row.update({"status": "error", "error": f"internal error: {type(exc).__name__}: {text} (please report it)"})
    row["seconds"] = round(time.perf_counter() - t0, 3)
    return row


def _replace_atomically(path: Path, write: Callable[[Any], None]) -> Path:
    """Write `path` through ``write(file)`` into a temporary sibling, then rename it into place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def write_batch_report(rows: Sequence[dict[str, Any]], out_root: Path) -> Path:
    """Write ``out_root/batch.html`` (a table of the images linking to their reports) atomically."""
    from .report import render_batch_report

    page = render_batch_report(list(rows), out_root)
    return _replace_atomically(Path(out_root) / "batch.html", lambda fh: fh.write(page))


def write_batch_csv(rows: Sequence[dict[str, Any]], out_root: Path) -> Path:
    """Write ``out_root/batch.csv`` atomically (temporary sibling, then rename)."""
    frame = pd.DataFrame(list(rows), columns=list(BATCH_COLUMNS))
    return _replace_atomically(Path(out_root) / "batch.csv",
                               lambda fh: frame.to_csv(fh, index=False, float_format="%.9g"))


@contextlib.contextmanager
def _client(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """A Dask client: on `scheduler` if given, else on a local cluster of `workers` processes."""
    import logging

    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s")
        except (OSError, TimeoutError) as exc:
            msg = (f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__}); check the address, "
                   "or start one with: dask scheduler")
            raise InputError(msg) from None
        with client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def run_batch(images: Sequence[Path], out_root: Path, config: Any, *, argv: Sequence[str],
              workers: int | None = None, scheduler: str | None = None, overwrite: bool = False,
              report: bool = True, progress: bool = True,
              on_row: Callable[[dict[str, Any]], None] | None = None,
              max_pixels: int | None = None) -> list[dict[str, Any]]:
    """Analyse `images` on Dask workers into `out_root`; return the rows (input order) after
    writing ``batch.csv``.

    `config` is an :class:`AnalysisConfig`.  `progress` shows a progress bar on stderr;
    `on_row` is called with each row as its image finishes.  A worker that dies while it holds
    an image (killed, out of memory) makes that image an ``error`` row: run the batch again to
    retry it, the finished ones are skipped.

    Raises
    ------
    InputError
        The scheduler cannot be reached.
    OutputError
        `out_root` cannot be created or written.
    """
    from distributed import as_completed
    from tqdm import tqdm

    from .export import check_writable

    out_root = Path(out_root)
    check_writable(out_root / "batch.csv", overwrite=True)  # creates OUT, or says why it cannot
    config_dict = config.to_dict()
    rows: list[dict[str, Any] | None] = [None] * len(images)
    with _client(workers, scheduler) as client:
        futures = {}
        for i, image in enumerate(images):
            key = f"morpho-analyze-{i}-{Path(image).stem}-{time.time_ns()}"
            fut = client.submit(analyze_one, str(image), str(out_root), config_dict, list(argv), overwrite=overwrite,
                                report=report, max_pixels=max_pixels, pure=False, key=key)
            futures[fut] = i
        with tqdm(total=len(images), unit="image", disable=not progress, desc="morpho batch", leave=True) as bar:
            for fut in as_completed(list(futures)):
                i = futures[fut]
                try:
                    row = fut.result()
                except Exception as exc:  # the task itself never raises: its worker died or was lost
                    row = dict.fromkeys(BATCH_COLUMNS)
                    row.update({"image": str(images[i]), "status": "error",
                                "result_dir": str(out_root / Path(images[i]).stem),
                                "error": f"the worker analysing it was lost ({type(exc).__name__}); run the batch "
                                         "again to retry it"})
                rows[i] = row
                bar.update(1)
                if on_row is not None:
                    on_row(row)
    done = [r for r in rows if r is not None]
    write_batch_csv(done, out_root)
    if report:
        write_batch_report(done, out_root)
    return done
