"""Speed benchmark: ``morpho analyze`` and the peer tools from 1k to 16k pixels square (`make bench-speed`).

One synthetic micrograph per size (default 1024, 2048, 4096, 8192 and 16384 px square), made by
morpho's own generator (``morpho.synthetic.make_sem_micrograph``, preset ``inox-bimodal``, seed 11,
no databar) at one pixel size for every size (default 4.5 nm, so the grains have the same size in
pixels everywhere and their number grows with the area: about 10^4 grains at 8192²), written as an
uncompressed FEI TIFF, as the instrument writes them (``morpho.vendor_tiff.write_sem_tiff``), and
cached in ``bench/.cache/speed/``.  Each image
is generated in a child process (8192²: 32 s, 3.4 GB peak RSS); if a whole image cannot be made
(the child fails, e.g. for memory), it is made from independent tiles of half the side stitched
together, and the output says so (``--gen-tile N`` forces tiles of N px).

Every timed run is a fresh child process, started under ``/usr/bin/time -v`` when it exists (its
"Maximum resident set size" is the peak RSS of that run alone; else ``resource.getrusage`` in the
child, which on Linux can include the parent's RSS at fork).  What is timed:

* **morpho** (= ``morpho analyze IMAGE`` without figures): a Python process that imports morpho,
  reads the TIFF (``read_micrograph``), runs ``morpho.pipeline.analyze`` with the default
  configuration and writes the result folder with ``morpho.export.write_results(report=False)``
  with the figure renderers switched off (summary.json, config.json, grains.csv,
  junctions.csv, labels.tif, graph.graphml are written; histogram.png/.pdf and overlay.png are
  left empty; ``morpho analyze`` has no option for that).  Wall time = the whole process, from
  start to exit (interpreter start-up and imports included); peak RSS = the whole process.  The
  stages (read, ``analyze``'s ``timing_s``: segment, detection_limit, measure, graph,
  distribution, physics; write tables; start-up and imports) are shown for the median run.
* **Peers** of ``bench/accuracy.py`` (``bench/peers/``, installed by ``bench/peers/install.sh``),
  driven by their own modules in a child Python process (``segment(image, workdir=...)``).  For
  the tools that run as programs (ImageJ: ``xvfb-run`` + JVM + the Analyze Particles + Watershed
  macro, which opens the TIFF and saves the count mask; Gwyddion: ``gwy_grains``, which reads the
  raw float64 image, marks and numbers the grains and writes them) the time and peak RSS are
  those of the program's own command, measured by wrapping the module's ``run`` helper with
  ``/usr/bin/time -v`` (the Python driver around it, which writes the input file and reads the
  labels back, is not counted; the largest single process of the command is its peak RSS).  The
  scikit-image gallery recipe runs in Python: wall time and peak RSS of the whole process
  (start-up, imports, reading the TIFF, the recipe), as for morpho.

Wall time = median of ``--repeats`` runs (default 3); a method stops repeating at a size once its
runs add up to ``--budget`` seconds (default 600; the table says how many runs were made).  Peak
RSS = the largest over those runs.  A run that exceeds ``--timeout`` (default 1800 s) is killed and
that method is skipped at the larger sizes (said so); a method that fails is skipped at the larger
sizes too.  Printed: a table per size (median wall, CPU time, peak RSS, ratios morpho/peer), the
morpho stages per size, the scaling exponent (least-squares slope of log time against log pixel
count over the sizes from 2048 to 16384 that ran), the targets of issue 5 (met / NOT met / not
measured), the machine and its load average at start and end.

Usage::

    python bench/speed.py [--quick] [--sizes 1024 2048 4096 8192 16384] [--repeats 3]
                          [--peers imagej,gwyddion-threshold,...] [--timeout 1800] [--budget 600]
                          [--preset inox-bimodal] [--pixel-size-nm 4.5] [--seed 11] [--gen-tile N]
                          [--json bench/results/speed.json]

``--quick``: sizes 1024 and 2048, one run each.  Default peers: ``imagej``,
``gwyddion-threshold``, ``gwyddion-watershed``, ``skimage-recipe`` (``--peers`` takes the names or
prefixes of ``bench/accuracy.py``, ``all`` or ``none``).  Tables (Markdown) go to stdout, progress
to stderr, JSON to ``bench/results/speed.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from _jsonout import write_report  # bench/ is the script's folder, first on sys.path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache" / "speed"
TIME_BIN = "/usr/bin/time"
MORPHO = "morpho"
DEFAULT_PEERS = ("imagej", "gwyddion-threshold", "gwyddion-watershed", "skimage-recipe")
#: Peers whose drivers run an external program through their module's ``run`` helper.
TOOL_MODULES = ("imagej", "gwyddion")
STAGES = ("segment", "detection_limit", "measure", "graph", "distribution", "physics", "percolation")
EXPONENT_RANGE = (2048, 16384)
# Targets of issue 5.
TARGET_SIZE = 8192
TARGET_MEM_8K_B = 1.5e9
TARGET_MEM_16K_B = 6e9
TARGET_EXPONENT = 1.1
MIB = 1024.0 * 1024.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ============================================================================================= children
# Each child writes one JSON object to the path given as its last argument.


def _write_json(path: str | Path, obj: dict) -> None:
    write_report(obj, path, indent=None)


def _self_rusage() -> dict[str, float]:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"self_maxrss_kib": me.ru_maxrss, "children_maxrss_kib": kids.ru_maxrss,
            "self_cpu_s": me.ru_utime + me.ru_stime, "children_cpu_s": kids.ru_utime + kids.ru_stime}


def child_generate(size: int, path: str, preset: str, pixel_size_m: float, seed: int, tile: int, out: str) -> int:
    """Write the synthetic micrograph of `size` x `size` px (tiles of `tile` px above that)."""
    import warnings

    from morpho.synthetic import make_sem_micrograph
    from morpho.vendor_tiff import write_sem_tiff

    t0 = time.perf_counter()
    k = max(1, -(-size // tile))
    step = -(-size // k)
    image = None
    n_true = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(k):
            for j in range(k):
                rows, cols = min(step, size - i * step), min(step, size - j * step)
                rng = seed if k == 1 else seed * 1000 + i * k + j
                sample = make_sem_micrograph((rows, cols), preset=preset, pixel_size_m=pixel_size_m, rng=rng)
                if k == 1:
                    image = sample.image
                else:
                    if image is None:
                        image = np.zeros((size, size), dtype=sample.image.dtype)
                    image[i * step:i * step + rows, j * step:j * step + cols] = sample.image
                n_true += len(sample.grains)
                del sample
    gen_s = time.perf_counter() - t0
    tmp = Path(path).with_name(Path(path).stem + ".partial.tif")
    write_sem_tiff(tmp, image, vendor="fei", pixel_size_m=pixel_size_m, databar_rows=0, compression=None)
    tmp.replace(path)
    _write_json(out, {"n_true": n_true, "generate_s": gen_s, "tiles": k * k, "tile_px": step, "seed": seed,
                      "preset": preset, "pixel_size_m": pixel_size_m, "shape": [size, size], **_self_rusage()})
    return 0


def _figures_off() -> bool:
    """Switch off the figure renderers that ``write_results`` calls (histogram, overlay)."""
    from morpho import export, plots

    names = ((plots, "histogram_figure"), (plots, "figure_to_bytes"), (export, "_overlay"), (export, "_png"))
    if not all(hasattr(mod, name) for mod, name in names):
        return False
    plots.histogram_figure = lambda *a, **k: None
    plots.figure_to_bytes = lambda *a, **k: b""
    export._overlay = lambda *a, **k: None
    export._png = lambda *a, **k: b""
    return True


def child_morpho(image: str, out: str) -> int:
    """``morpho analyze IMAGE`` without figures; stage times to `out`."""
    t_start = time.perf_counter()
    import warnings

    from morpho.config import AnalysisConfig
    from morpho.export import write_results
    from morpho.io import read_micrograph
    from morpho.pipeline import analyze

    figures_off = _figures_off()
    try:  # the allocator setting the `morpho` command makes (morpho/_memory.py), where it exists
        from morpho._memory import share_one_malloc_arena
    except ImportError:
        pass
    else:
        share_one_malloc_arena()
    t_imported = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        micrograph = read_micrograph(image)
    t_read = time.perf_counter()
    result = analyze(micrograph, AnalysisConfig())
    t_analyzed = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="morpho-speed-", dir=CACHE))
    try:
        write_results(result, work, argv=["morpho", "analyze", image], overwrite=True, report=False)
        t_written = time.perf_counter()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _write_json(out, {
        "import_s": t_imported - t_start, "read_s": t_read - t_imported, "analyze_s": t_analyzed - t_read,
        "write_s": t_written - t_analyzed, "in_process_s": t_written - t_start,
        "timing_s": dict(result.timing_s), "n_found": len(result.grains),
        "analysed_shape": list(result.segmentation.labels.shape), "figures_off": figures_off,
        "warnings": list(result.warnings)[:5], **_self_rusage()})
    return 0


def _parse_time_v(text: str) -> dict[str, Any]:
    """The fields of ``/usr/bin/time -v`` output this benchmark uses."""
    out: dict[str, Any] = {}
    for line in text.splitlines():
        key, _, value = line.strip().rpartition(": ")
        try:
            if key == "Maximum resident set size (kbytes)":
                out["maxrss_kib"] = float(value)
            elif key == "User time (seconds)":
                out["user_s"] = float(value)
            elif key == "System time (seconds)":
                out["sys_s"] = float(value)
            elif key == "Exit status":
                out["exit_status"] = int(value)
        except ValueError:
            pass
        if line.strip().startswith("Command terminated by signal"):
            out["signal"] = line.strip()
    return out


def child_peer(name: str, image: str, timeout_s: float, out: str) -> int:
    """One peer's ``segment`` on `image`; the external program's own time and memory to `out`."""
    t_start = time.perf_counter()
    import tifffile

    sys.path.insert(0, str(ROOT / "bench"))
    import peers as peer_registry
    from peers import gwyddion, imagej

    peer = peer_registry.PEERS[name]
    record: dict[str, Any] = {"tool_calls": []}
    reason = peer.available()  # probes / builds before anything is timed
    if reason is not None:
        _write_json(out, {"error": f"unavailable: {reason}"})
        return 0
    imagej.TIMEOUT_S = gwyddion.TIMEOUT_S = timeout_s
    use_time = Path(TIME_BIN).exists()

    def wrap(module: Any) -> None:
        original = module.run

        def measured(cmd, **kwargs):
            with tempfile.NamedTemporaryFile(prefix="time-", suffix=".txt", delete=False) as fh:
                tfile = fh.name
            full = [TIME_BIN, "-v", "-o", tfile, *cmd] if use_time else list(cmd)
            t0 = time.perf_counter()
            res = None
            try:
                res = original(full, **kwargs)
            except RuntimeError as exc:  # the helper names its argv[0], here /usr/bin/time
                raise RuntimeError(str(exc).replace(TIME_BIN, Path(cmd[0]).name)) from None
            finally:
                call = {"program": Path(cmd[0]).name, "wall_s": time.perf_counter() - t0,
                        "ok": res is not None and res.returncode == 0}
                if use_time:
                    with contextlib.suppress(OSError):
                        call.update(_parse_time_v(Path(tfile).read_text()))
                else:
                    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
                    call["maxrss_kib"] = kids.ru_maxrss  # largest child so far (also the availability probe)
                Path(tfile).unlink(missing_ok=True)
                record["tool_calls"].append(call)
                _write_json(out, record)  # kept if the driver fails afterwards
            return res

        module.run = measured

    for module in (imagej, gwyddion):
        wrap(module)
    img = tifffile.imread(image)
    t_loaded = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=CACHE))
    try:
        labels = peer.segment(img, workdir=workdir)
        t_done = time.perf_counter()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    internal = getattr(peer.segment, "last_internal_s", None)
    record.update({"startup_s": t_loaded - t_start, "segment_call_s": t_done - t_loaded,
                   "n_found": int(labels.max()) if labels.size else 0,
                   "internal_s": float(internal) if internal is not None and np.isfinite(internal) else None,
                   **_self_rusage()})
    _write_json(out, record)
    return 0


def child_main(argv: list[str]) -> int:
    kind, rest = argv[0], argv[1:]
    if kind == "generate":
        size, path, preset, px, seed, tile, out = rest
        return child_generate(int(size), path, preset, float(px), int(seed), int(tile), out)
    if kind == "morpho":
        return child_morpho(*rest)
    if kind == "peer":
        name, image, timeout_s, out = rest
        return child_peer(name, image, float(timeout_s), out)
    msg = f"unknown child {kind!r}"
    raise SystemExit(msg)


# ============================================================================================= parent


def _descendants(pid: int) -> list[int]:
    """Process ids below `pid` (from /proc), deepest last."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for kid in children.get(todo.pop(), []):
            out.append(kid)
            todo.append(kid)
    return out


def _kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL a child and every process below it (the tools start their own sessions)."""
    for pid in [*reversed(_descendants(proc.pid)), proc.pid]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        proc.wait(timeout=30)


def run_child(args: list[str], timeout_s: float) -> dict[str, Any]:
    """Run ``speed.py --_child ARGS`` under /usr/bin/time -v; its JSON plus wall time and rusage."""
    with tempfile.TemporaryDirectory(prefix="speed-", dir=CACHE) as tmp:
        out, tfile = Path(tmp) / "out.json", Path(tmp) / "time.txt"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", *args, str(out)]
        use_time = Path(TIME_BIN).exists()
        if use_time:
            cmd = [TIME_BIN, "-v", "-o", str(tfile), *cmd]
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        timed_out = False
        try:
            _, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_tree(proc)
            err = ""
        except BaseException:
            _kill_tree(proc)
            raise
        wall = time.perf_counter() - t0
        res: dict[str, Any] = {"process_wall_s": wall, "load_1min_before": load}
        if out.exists():
            with contextlib.suppress(json.JSONDecodeError):
                res.update(json.loads(out.read_text()))
        if use_time and tfile.exists():
            tv = _parse_time_v(tfile.read_text())
            res["process_maxrss_kib"] = tv.get("maxrss_kib")
            res["process_cpu_s"] = tv.get("user_s", 0.0) + tv.get("sys_s", 0.0)
            if "signal" in tv:
                res["signal"] = tv["signal"]
        else:
            res["process_maxrss_kib"] = res.get("self_maxrss_kib")
            res["process_cpu_s"] = res.get("self_cpu_s", 0.0) + res.get("children_cpu_s", 0.0)
            res["rss_note"] = "getrusage in the child (may include the parent's RSS at fork)"
        if timed_out:
            res["error"] = f"timed out after {timeout_s:g} s (killed)"
        elif proc.returncode != 0 and "error" not in res:
            lines = [ln for ln in (err or "").strip().splitlines() if ln.strip()]
            how = res.get("signal") or f"exit status {proc.returncode}"
            if proc.returncode in (-9, 137) or "signal 9" in how:
                how += " (killed: out of memory?)"
            res["error"] = f"{how}: {lines[-1][:240] if lines else 'no message'}"
    return res


# --------------------------------------------------------------------------------------------- images


def image_path(size: int, preset: str, pixel_size_m: float, seed: int, tile: int) -> Path:
    tiles = max(1, -(-size // tile))
    tag = f"{preset}_{size}px_{pixel_size_m * 1e9:g}nm_seed{seed}" + (f"_tiles{tiles}x{tiles}" if tiles > 1 else "")
    return CACHE / f"{tag}.tif"


def ensure_image(size: int, args: argparse.Namespace) -> dict[str, Any]:
    """The cached micrograph of `size` px, generated in a child process if missing.

    Whole unless ``--gen-tile`` says otherwise; if the whole image cannot be generated (the
    child fails, e.g. killed for memory), it is made from tiles of half the side instead.
    """
    px = args.pixel_size_nm / 1e9
    tiles_to_try = [args.gen_tile] if args.gen_tile else [size, size // 2]
    failures: list[str] = []
    for tile in tiles_to_try:
        path = image_path(size, args.preset, px, args.seed, tile)
        meta = path.with_suffix(".json")
        if path.exists() and meta.exists():
            info = json.loads(meta.read_text())
            info.update(path=str(path), cached=True)
            return info
    for tile in tiles_to_try:
        path = image_path(size, args.preset, px, args.seed, tile)
        log(f"  generating {path.name} in a child process ...")
        res = run_child(["generate", str(size), str(path), args.preset, repr(px), str(args.seed), str(tile)],
                        timeout_s=max(args.timeout, 3600.0))
        if "error" in res or "n_true" not in res:
            failures.append(f"{path.name}: {res.get('error', 'generator wrote no result')}")
            log(f"  generation failed: {failures[-1]}")
            continue
        info = {"path": str(path), "n_true": res["n_true"], "generate_s": res["process_wall_s"],
                "generate_peak_rss_mib": (res.get("process_maxrss_kib") or 0) / 1024.0, "tiles": res["tiles"],
                "tile_px": res["tile_px"], "preset": res["preset"], "pixel_size_m": res["pixel_size_m"],
                "seed": args.seed, "failed_before": failures}
        path.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")
        info["cached"] = False
        return info
    return {"path": "", "error": "; ".join(failures)}


# --------------------------------------------------------------------------------------------- runs


def _run_figures(method: str, res: dict[str, Any]) -> dict[str, Any]:
    """wall / cpu / peak RSS that this benchmark reports for one run of `method`."""
    if method == MORPHO or not res.get("tool_calls"):
        return {"wall_s": res["process_wall_s"], "cpu_s": res.get("process_cpu_s"),
                "peak_rss_mib": (res.get("process_maxrss_kib") or 0) / 1024.0, "basis": "process"}
    calls = res["tool_calls"]
    return {"wall_s": sum(c["wall_s"] for c in calls),
            "cpu_s": sum(c.get("user_s", 0.0) + c.get("sys_s", 0.0) for c in calls) if "user_s" in calls[0] else None,
            "peak_rss_mib": max(c.get("maxrss_kib", 0.0) for c in calls) / 1024.0,
            "basis": "tool: " + " + ".join(c["program"] for c in calls)}


def time_method(method: str, image: str, args: argparse.Namespace) -> dict[str, Any]:
    """Up to `repeats` runs (fewer once `budget` is spent); summary with the median run."""
    runs: list[dict[str, Any]] = []
    child = ["morpho", image] if method == MORPHO else ["peer", method, image, repr(float(args.timeout))]
    # a peer's program has its own timeout (--timeout); the driver around it gets some slack
    limit = args.timeout if method == MORPHO else args.timeout * 1.25 + 120.0
    entry: dict[str, Any] = {"runs": runs}
    for _ in range(max(1, args.repeats)):
        res = run_child(child, limit)
        runs.append(res)
        if "error" in res:
            tool_ok = bool(res.get("tool_calls")) and all(c.get("ok") for c in res["tool_calls"])
            if not tool_ok or "timed out" in res["error"]:
                entry["error"] = res["error"]
                break
            # the program ran; the Python driver failed afterwards (reading the labels back)
            res["driver_error"] = res.pop("error")
        res.update(_run_figures(method, res))
        log(f"    {method:<20} {res['wall_s']:8.1f} s  {res['peak_rss_mib']:8.0f} MiB"
            + (f"  ({res['driver_error'][:80]})" if "driver_error" in res else ""))
        if sum(r.get("wall_s", 0.0) for r in runs) >= args.budget:
            break
    ok = [r for r in runs if "wall_s" in r]
    if not ok:
        log(f"    {method:<20} FAILED {entry.get('error', '?')[:160]}")
        return entry
    walls = [r["wall_s"] for r in ok]
    median_run = sorted(ok, key=lambda r: r["wall_s"])[(len(ok) - 1) // 2]
    entry.update({
        "n_runs": len(ok), "wall_s": float(np.median(walls)), "wall_runs_s": walls,
        "cpu_s": median_run.get("cpu_s"), "peak_rss_mib": max(r["peak_rss_mib"] for r in ok),
        "basis": median_run["basis"], "n_found": median_run.get("n_found"), "median_run": median_run,
    })
    if method == MORPHO:
        entry["in_process_s"] = float(np.median([r["in_process_s"] for r in ok]))
    return entry


# --------------------------------------------------------------------------------------------- report


def _f(x: Any, fmt: str) -> str:
    return "—" if x is None or not np.isfinite(x) else format(x, fmt)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b and np.isfinite(a) and np.isfinite(b) else None


def exponent(points: list[tuple[int, float]]) -> tuple[float | None, list[int]]:
    """Least-squares slope of log(time) against log(pixel count) over EXPONENT_RANGE."""
    pts = [(s, t) for s, t in points if EXPONENT_RANGE[0] <= s <= EXPONENT_RANGE[1] and t and t > 0]
    if len(pts) < 2:
        return None, [s for s, _ in pts]
    x = np.log([float(s) * s for s, _ in pts])
    y = np.log([t for _, t in pts])
    return float(np.polyfit(x, y, 1)[0]), [s for s, _ in pts]


def machine_info() -> dict[str, Any]:
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ram = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = float(line.split()[1]) / 1024.0 / 1024.0
    return {"cpu_model": model, "cores": os.cpu_count(), "cores_usable": len(os.sched_getaffinity(0)),
            "ram_gib": ram, "platform": platform.platform(), "python": platform.python_version()}


def _startup(run: dict[str, Any]) -> float:
    """Seconds of a morpho run outside read + analyze + write: interpreter start, imports, exit."""
    return run["wall_s"] - run["read_s"] - run["analyze_s"] - run["write_s"]


def print_size_table(size: int, record: dict[str, Any], methods: list[str]) -> None:
    img = record["image"]
    tiles = img.get("tiles", 1)
    print(f"\n### {size} × {size} px ({size * size / 1e6:.1f} Mpx), {img.get('pixel_size_m', 0) * 1e9:g} nm px, "
          f"{img.get('n_true', '?')} true grains" + (f"; generated as {tiles} tiles of {img['tile_px']} px" if tiles > 1
                                                     else ""))
    if "error" in img:
        print(f"image could not be generated: {img['error']}")
        return
    print("| method | runs | median wall (s) | CPU (s) | peak RSS (MiB) | time morpho/peer | memory morpho/peer "
          "| grains found | notes |")
    print("|---|---|---|---|---|---|---|---|---|")
    m = record["methods"].get(MORPHO, {})
    for name in methods:
        e = record["methods"].get(name)
        if e is None:
            continue
        if "skipped" in e:
            print(f"| {name} | 0 | — | — | — | — | — | — | skipped: {e['skipped']} |")
            continue
        if "wall_s" not in e:
            err = e.get("error", "?")[:200]
            print(f"| {name} | {len(e.get('runs', []))} | — | — | — | — | — | — | failed: {err} |")
            continue
        notes = []
        if name == MORPHO:
            r = e["median_run"]
            notes.append(f"whole process: start-up, imports and exit {_startup(r):.1f} s, read {r['read_s']:.1f} s, "
                         f"analyze {r['analyze_s']:.1f} s, write tables {r['write_s']:.1f} s")
            if not r.get("figures_off", True):
                notes.append("figures could NOT be switched off (included)")
        else:
            notes.append(e["basis"])
            internal = e["median_run"].get("internal_s")
            if internal is not None:
                notes.append(f"macro's own time {internal:.1f} s")
            if any("driver_error" in r for r in e["runs"]):
                notes.append("driver failed reading the labels back: " +
                             next(r["driver_error"] for r in e["runs"] if "driver_error" in r)[:100])
        if e["n_runs"] < len(e["runs"]) or e.get("error"):
            notes.append(f"a run failed: {e.get('error', '')[:100]}")
        tr = "1" if name == MORPHO else _f(_ratio(m.get("wall_s"), e["wall_s"]), ".2f")
        mr = "1" if name == MORPHO else _f(_ratio(m.get("peak_rss_mib"), e["peak_rss_mib"]), ".2f")
        found = e.get("n_found")
        print(f"| {name} | {e['n_runs']} | {_f(e['wall_s'], '.2f')} | {_f(e['cpu_s'], '.1f')} | "
              f"{_f(e['peak_rss_mib'], '.0f')} | {tr} | {mr} | {found if found is not None else '—'} | "
              f"{'; '.join(notes)} |")


def print_stage_table(sizes: list[int], records: dict[int, dict]) -> None:
    print("\n### morpho stages (median run; seconds; \"analyze, rest\" = analyze() outside its timed stages, "
          "\"start-up\" = interpreter start, imports and exit)")
    print("| size | start-up | read | " + " | ".join(STAGES) + " | analyze, rest | write tables | process total "
          "| largest stage | peak RSS (MiB) |")
    print("|---|---|---|" + "---|" * len(STAGES) + "---|---|---|---|---|")
    for size in sizes:
        e = records.get(size, {}).get("methods", {}).get(MORPHO, {})
        if "median_run" not in e:
            continue
        r = e["median_run"]
        t = r.get("timing_s", {})
        parts = {"start-up": _startup(r), "read": r["read_s"], **{s: t.get(s, 0.0) for s in STAGES},
                 "analyze, rest": r["analyze_s"] - sum(t.get(s, 0.0) for s in STAGES), "write tables": r["write_s"]}
        top = max(parts, key=parts.get)
        print(f"| {size} | " + " | ".join(f"{v:.2f}" for v in parts.values())
              + f" | {r['wall_s']:.2f} | {top} ({parts[top] / r['wall_s']:.0%}) | {r['peak_rss_mib']:.0f} |")


def targets(records: dict[int, dict], exponents: dict[str, dict]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for the targets of issue 5."""
    out = []
    rec = records.get(TARGET_SIZE, {}).get("methods", {})
    m = rec.get(MORPHO, {})
    mw, mr = m.get("wall_s"), m.get("peak_rss_mib")
    for peer, label, strict in (("gwyddion-threshold", "no slower than Gwyddion grain marking alone "
                                 "(Mark by Threshold)", False),
                                ("gwyddion-watershed", "no slower than Gwyddion Mark by Threshold + Watershed", False),
                                ("imagej", "faster than ImageJ Analyze Particles + Watershed", True)):
        name = f"{TARGET_SIZE}²: full morpho analyze {label}"
        p = rec.get(peer, {})
        pw = p.get("wall_s")
        if mw is None or pw is None:
            why = "morpho" if mw is None else peer
            out.append((name, f"{why} not measured at {TARGET_SIZE} in this run", "not measured"))
            continue
        ok = mw < pw if strict else mw <= pw
        out.append((name, f"morpho {mw:.1f} s vs {peer} {pw:.1f} s (ratio {mw / pw:.2f})", "met" if ok else "NOT met"))
    name = f"{TARGET_SIZE}²: morpho peak memory ≤ 1.5 GB ({TARGET_MEM_8K_B / MIB:.0f} MiB)"
    if mr is None:
        out.append((name, f"not measured at {TARGET_SIZE}", "not measured"))
    else:
        out.append((name, f"{mr:.0f} MiB", "met" if mr * MIB <= TARGET_MEM_8K_B else "NOT met"))
    m16 = records.get(16384, {}).get("methods", {}).get(MORPHO)
    name = f"16384²: morpho completes with peak memory ≤ 6 GB ({TARGET_MEM_16K_B / MIB:.0f} MiB)"
    if m16 is None:
        out.append((name, "16384 not in this run", "not measured"))
    elif "wall_s" not in m16:
        out.append((name, f"failed: {m16.get('error', m16.get('skipped', '?'))[:120]}", "NOT met"))
    else:
        rss = m16["peak_rss_mib"]
        out.append((name, f"completed in {m16['wall_s']:.0f} s, {rss:.0f} MiB",
                    "met" if rss * MIB <= TARGET_MEM_16K_B else "NOT met"))
    name = f"scaling exponent of morpho time vs pixel count ≤ {TARGET_EXPONENT} between 2048² and 16384²"
    ex = exponents.get(MORPHO, {})
    used = ex.get("sizes", [])
    values = [v for v in (ex.get("process"), ex.get("in_process")) if v is not None]
    if not values:
        out.append((name, "fewer than 2 sizes in 2048-16384 ran", "not measured"))
    else:
        worst = max(values)
        text = (f"{worst:.3f} (the larger of: process {_f(ex.get('process'), '.3f')}, without start-up "
                f"{_f(ex.get('in_process'), '.3f')}) over {', '.join(map(str, used))}")
        if used[0] != EXPONENT_RANGE[0] or used[-1] != EXPONENT_RANGE[1]:
            verdict = "not measured" + (" (this partial range: " + ("≤" if worst <= TARGET_EXPONENT else ">")
                                        + f" {TARGET_EXPONENT})")
        else:
            verdict = "met" if worst <= TARGET_EXPONENT else "NOT met"
        out.append((name, text, verdict))
    return out


# --------------------------------------------------------------------------------------------- main


def choose_peers(spec: str | None) -> list[Any]:
    sys.path.insert(0, str(ROOT / "bench"))
    import peers as peer_registry

    if spec is None:
        return [peer_registry.PEERS[n] for n in DEFAULT_PEERS]
    return peer_registry.select(spec)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--_child":
        return child_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: sizes 1024 2048, one run each")
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help="image sides in px "
                        "(default 1024 2048 4096 8192 16384)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per method and size, median (default 3)")
    parser.add_argument("--peers", default=None, help="comma-separated peer names or prefixes, 'all' or 'none' "
                        f"(default {','.join(DEFAULT_PEERS)})")
    parser.add_argument("--timeout", type=float, default=1800.0, help="s per run; after a timeout the method is "
                        "skipped at larger sizes (default 1800)")
    parser.add_argument("--budget", type=float, default=600.0, help="s: no further repeats of a method at a size "
                        "once its runs add up to this (default 600)")
    parser.add_argument("--preset", default="inox-bimodal", help="morpho.synthetic preset (default inox-bimodal)")
    parser.add_argument("--pixel-size-nm", type=float, default=4.5, help="pixel size of every image (default 4.5)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--gen-tile", type=int, default=None, help="generate images as tiles of this side, "
                        "stitched (default: whole; tiles of half the side if the whole image fails)")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "speed.json"))
    args = parser.parse_args(argv)
    if args.sizes is None:
        args.sizes = [1024, 2048] if args.quick else [1024, 2048, 4096, 8192, 16384]
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    sizes = sorted(set(args.sizes))
    try:
        chosen = choose_peers(args.peers)
    except ValueError as exc:
        parser.error(str(exc))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    CACHE.mkdir(parents=True, exist_ok=True)

    import morpho

    t_start = time.perf_counter()
    machine = machine_info()
    load_start = os.getloadavg()
    report: dict[str, Any] = {
        "meta": {"command": " ".join(["python", "bench/speed.py", *argv]),
                 "started_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                 "morpho_version": morpho.__version__, "machine": machine, "load_avg_start": load_start,
                 "sizes": sizes, "repeats": args.repeats, "budget_s": args.budget, "timeout_s": args.timeout,
                 "preset": args.preset, "pixel_size_nm": args.pixel_size_nm, "seed": args.seed,
                 "rss_tool": TIME_BIN if Path(TIME_BIN).exists() else "getrusage in the child"},
        "peers": {}, "sizes": {},
    }
    if load_start[0] > 0.5:
        log(f"note: 1-min load average {load_start[0]:.2f} at start (other processes, or ones that just ended): "
            "timings may suffer")
    log("checking peers ...")
    methods = [MORPHO]
    for peer in chosen:
        entry = {"description": peer.DESCRIPTION, "available": False, "version": "", "note": ""}
        try:
            reason = peer.available()
            if reason is None:
                entry.update(available=True, version=peer.version_string())
            else:
                entry["note"] = reason
        except Exception as exc:
            entry["note"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        report["peers"][peer.NAME] = entry
        methods.append(peer.NAME)
    skip: dict[str, str] = {n: f"unavailable: {e['note']}" for n, e in report["peers"].items() if not e["available"]}
    records: dict[int, dict] = report["sizes"]
    for size in sizes:
        log(f"[{time.perf_counter() - t_start:6.0f} s] {size} x {size}")
        img = ensure_image(size, args)
        record: dict[str, Any] = {"image": img, "methods": {}}
        records[size] = record
        if "error" in img:
            log(f"  image failed: {img['error']}")
            continue
        log(f"  {img['path']}: {img['n_true']} true grains")
        for name in methods:
            if name in skip:
                record["methods"][name] = {"skipped": skip[name]}
                continue
            entry = time_method(name, img["path"], args)
            record["methods"][name] = entry
            if "wall_s" not in entry:
                err = entry.get("error", "?")
                skip[name] = (f"timed out (> {args.timeout:g} s) at {size}" if "timed out" in err
                              else f"failed at {size}: {err[:100]}")
            elif entry.get("error") and "timed out" in entry["error"]:
                skip[name] = f"a run timed out (> {args.timeout:g} s) at {size}"
    # scaling exponents
    exponents: dict[str, dict] = {}
    for name in methods:
        pts = [(s, records[s]["methods"].get(name, {}).get("wall_s")) for s in sizes]
        slope, used = exponent(pts)
        exponents[name] = {"process" if name == MORPHO else "wall": slope, "sizes": used}
        if name == MORPHO:
            exponents[name]["in_process"] = exponent(
                [(s, records[s]["methods"].get(name, {}).get("in_process_s")) for s in sizes])[0]
            for stage in STAGES:
                exponents[name][stage] = exponent(
                    [(s, records[s]["methods"].get(name, {}).get("median_run", {}).get("timing_s", {}).get(stage))
                     for s in sizes])[0]
    report["exponents"] = exponents
    report["targets"] = [{"target": a, "measured": b, "verdict": c} for a, b, c in targets(records, exponents)]
    load_end = os.getloadavg()
    report["meta"]["load_avg_end"] = load_end
    total = time.perf_counter() - t_start
    report["meta"]["total_s"] = total

    # ---- printing
    print(f"\nSpeed — morpho {morpho.__version__}; {args.preset} micrographs at {args.pixel_size_nm:g} nm px, seed "
          f"{args.seed}; wall = median of up to {args.repeats} run(s) (no further runs once they add up to "
          f"{args.budget:g} s), peak RSS = largest over the runs, each run a fresh process measured with "
          f"{report['meta']['rss_tool']}; ratios morpho/peer > 1: morpho slower / uses more memory")
    print("Peers:")
    for name, e in report["peers"].items():
        print(f"- {name}: {e['version'] if e['available'] else 'SKIPPED — ' + e['note']}")
    for size in sizes:
        print_size_table(size, records[size], methods)
    print_stage_table(sizes, records)
    lo, hi = EXPONENT_RANGE
    print(f"\n### Scaling exponent: slope of log(wall time) against log(pixel count), sizes {lo}-{hi} that ran")
    print("| method | exponent | sizes used | wall time per size (s) |")
    print("|---|---|---|---|")
    for name in methods:
        ex = exponents[name]
        per = ", ".join(f"{s}: {_f(records[s]['methods'].get(name, {}).get('wall_s'), '.2f')}" for s in sizes)
        if name == MORPHO:
            val = (f"{_f(ex['process'], '.3f')} (process); {_f(ex['in_process'], '.3f')} without start-up; stages: "
                   + ", ".join(f"{s} {_f(ex[s], '.2f')}" for s in STAGES))
        else:
            val = _f(ex["wall"], ".3f")
        print(f"| {name} | {val} | {', '.join(map(str, ex['sizes'])) or '—'} | {per} |")
    print("\n### Targets (issue 5)")
    for t in report["targets"]:
        print(f"- {t['target']}: {t['measured']} — **{t['verdict']}**")
    print(f"\n### Machine\n{machine['cpu_model']}, {machine['cores']} cores ({machine['cores_usable']} usable), "
          f"{_f(machine['ram_gib'], '.1f')} GiB RAM, {machine['platform']}, Python {machine['python']}; "
          f"load average (1, 5, 15 min) at start {', '.join(f'{x:.2f}' for x in load_start)}, at end "
          f"{', '.join(f'{x:.2f}' for x in load_end)} (the end value includes this benchmark's own runs); "
          f"whole run {total / 60:.1f} min")
    out = write_report(report, args.json)
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
