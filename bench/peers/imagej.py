"""ImageJ 1.x (Debian package ``imagej``) driven headless by a macro under ``xvfb-run``.

How Debian launches it: ``/usr/bin/imagej`` is a wrapper script that ends in
``java -mx<mem>m -cp /usr/share/java/ij.jar ij.ImageJ -ijpath ~/.imagej -port<N> [-batch MACRO ARGS]``
after creating socket-lock files under ``~/.imagej/tmp``.  This driver runs the same
``ij.ImageJ -batch`` entry point directly (no lock files, no shared ``~/.imagej``: ``-ijpath``
points into the call's own temporary folder) under ``xvfb-run -a``, because ImageJ's
Watershed and Analyze Particles need an AWT display: with ``-Djava.awt.headless=true`` the macro
fails with a HeadlessException.

The macro is the standard "Analyze Particles" workflow with ImageJ's defaults::

    setOption("BlackBackground", true);      // mask = white (255) objects on black
    setAutoThreshold("Default dark");        // Default = ImageJ's IsoData variant; "dark" = bright objects
    run("Convert to Mask");
    run("Watershed");                         // EDM-based split of touching objects
    run("Analyze Particles...", "size=0-Infinity show=[Count Masks]");   // include holes off

and the 16-bit count mask (particle n has value n) is saved as TIFF.  Analyze Particles traces
8-connected particles; past 65535 particles the 16-bit values saturate, and the driver tells the
particles apart as 8-connected components of each value (see ``_split_overflow``).  Every call
starts its own JVM and Xvfb, so the wall time includes their start-up (about 1-2 s); the macro
also reports the time of its own processing.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile
from skimage import measure as skmeasure

from ._common import PeerUnavailable, as_labels, run

NAME = "imagej"
DESCRIPTION = "ImageJ 1.x: Default (IsoData) threshold, Convert to Mask, Watershed, Analyze Particles (count masks)"
IJ_JAR = Path("/usr/share/java/ij.jar")
TIMEOUT_S = 600.0

def make_macro(*, blur_sigma: float | None = None, min_size_px: int = 0) -> str:
    """The segmentation macro; the defaults are ImageJ's own workflow (no blur, no size limit)."""
    blur = f'run("Gaussian Blur...", "sigma={blur_sigma:g}");\n' if blur_sigma else ""
    size = f"size={min_size_px}-Infinity pixel" if min_size_px else "size=0-Infinity"
    return (
        'args = split(getArgument(), "|");\n'
        "setBatchMode(true);\n"
        "t0 = getTime();\n"
        "open(args[0]);\n"
        'if (bitDepth() == 24) run("8-bit");\n'
        f"{blur}"
        'setOption("BlackBackground", true);\n'
        'setAutoThreshold("Default dark");\n'
        'run("Convert to Mask");\n'
        'run("Watershed");\n'
        f'run("Analyze Particles...", "{size} show=[Count Masks]");\n'
        'saveAs("Tiff", args[1]);\n'
        'print("morpho-bench ok version=" + getVersion() + " ms=" + (getTime() - t0));\n'
        'close("*");\n'
    )


MACRO = make_macro()


def _java() -> str | None:
    return shutil.which("java")


def _command(macro: Path, argument: str, ijpath: Path) -> list[str]:
    heap_mb = 4096
    return [
        "xvfb-run", "-a", "-s", "-screen 0 1024x768x24",
        _java() or "java", f"-Xmx{heap_mb}m", "-cp", str(IJ_JAR), "ij.ImageJ",
        "-ijpath", str(ijpath), "-batch", str(macro), argument,
    ]


@functools.cache
def _probe() -> tuple[str | None, str]:
    """(reason it is unusable or None, ImageJ version)."""
    if not IJ_JAR.exists():
        return "Debian package imagej not installed (no /usr/share/java/ij.jar)", ""
    if _java() is None:
        return "no java on PATH (Debian package imagej pulls in a JRE)", ""
    if shutil.which("xvfb-run") is None:
        return "xvfb-run not found (Debian package xvfb)", ""
    with tempfile.TemporaryDirectory(prefix="morpho-ij-") as tmp:
        macro = Path(tmp) / "version.ijm"
        macro.write_text('print("morpho-bench version=" + getVersion());\n')
        try:
            res = run(_command(macro, "", Path(tmp)), timeout_s=120, env={**os.environ, "HOME": tmp})
        except RuntimeError as exc:
            return f"ImageJ did not start: {exc}", ""
    found = re.search(r"morpho-bench version=(\S+)", res.stdout + res.stderr)
    if not found:
        tail = (res.stderr or res.stdout).strip().splitlines()[-1:] or ["no output"]
        return f"ImageJ did not run a macro: {tail[0][:120]}", ""
    return None, found.group(1)


def available() -> str | None:
    return _probe()[0]


def version_string() -> str:
    reason, ver = _probe()
    return f"ImageJ {ver} ({IJ_JAR.resolve().name}, Debian imagej {_deb_version('imagej')})" if reason is None else ""


def _deb_version(package: str) -> str:
    try:
        res = run(["dpkg-query", "-W", "-f=${Version}", package], timeout_s=30)
    except (RuntimeError, FileNotFoundError):
        return "?"
    return res.stdout.strip() or "?"


def segment(image: np.ndarray, *, workdir: Path) -> np.ndarray:
    """Count-mask labels of the bright particles of `image` (int32, 0 = background)."""
    return run_macro(image, MACRO, segment, workdir=workdir)


def run_macro(image: np.ndarray, macro_text: str, timing, *, workdir: Path) -> np.ndarray:
    """Run a segmentation macro (args: input TIFF | output count-mask TIFF) and return its labels.

    ``timing`` is the function object that receives ``last_wall_s`` / ``last_internal_s``.
    """
    reason = available()
    if reason is not None:
        raise PeerUnavailable(reason)
    img = np.asarray(image)
    if img.dtype not in (np.uint8, np.uint16):
        msg = f"imagej driver takes uint8 or uint16 images, got {img.dtype}"
        raise TypeError(msg)
    workdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="ij-", dir=workdir))
    try:
        src, dst, macro = tmp / "in.tif", tmp / "count_masks.tif", tmp / "segment.ijm"
        tifffile.imwrite(src, img)
        macro.write_text(macro_text)
        t0 = time.perf_counter()
        res = run(_command(macro, f"{src}|{dst}", tmp), timeout_s=TIMEOUT_S, env={**os.environ, "HOME": str(tmp)})
        timing.last_wall_s = time.perf_counter() - t0
        out = res.stdout + res.stderr
        ok = re.search(r"morpho-bench ok version=\S+ ms=(\d+)", out)
        if res.returncode != 0 or not ok or not dst.exists():
            tail = " | ".join(out.strip().splitlines()[-3:])[:300]
            msg = f"ImageJ macro failed (exit {res.returncode}): {tail}"
            raise RuntimeError(msg)
        timing.last_internal_s = int(ok.group(1)) / 1000.0
        counts = tifffile.imread(dst)
        return as_labels(_split_overflow(counts), img.shape)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _split_overflow(counts: np.ndarray) -> np.ndarray:
    """Particles of a count mask, also past 65535 particles.

    ImageJ 1.53t writes the count mask as 16-bit: from particle 65536 on the values saturate, so
    different particles share a value.  Analyze Particles traces 8-connected particles, so each
    particle is one 8-connected component of one value: numbering the (component, value) pairs
    gives every particle its own label, and leaves an image below 65535 particles unchanged.
    """
    comp = skmeasure.label(counts > 0, connectivity=2).astype(np.int64)
    key = comp * (int(counts.max()) + 1) + counts.astype(np.int64)
    _, inverse = np.unique(key.ravel(), return_inverse=True)
    return inverse.reshape(counts.shape).astype(np.int64)  # 0 stays 0: key 0 is the smallest


segment.last_internal_s = float("nan")
segment.last_wall_s = float("nan")
