"""Gwyddion's grain marking through its C library (Debian ``libgwyddion20-dev``).

Debian ships no Python binding for Gwyddion (pygwy is Python 2 and was dropped), so
``gwy_grains.c`` beside this file calls libgwyprocess directly: it is compiled on first use into
``bench/.cache/gwy_grains`` with ``gcc $(pkg-config --cflags --libs gwyddion)`` (the pkg-config
name is ``gwyddion``).  That .pc file lists GTK+ 2, GtkGLExt, FFTW and Pango among its
``Requires``, whose -dev packages Debian does not pull in with libgwyddion20-dev; when pkg-config
fails for that reason the program is built against GLib/GObject only (``libglib2.0-dev``) with
Gwyddion's include folders and ``-lgwyprocess2 -lgwyddion2``, which is all it uses.

Two peers share the program:

``gwyddion-threshold``
    Grains > Mark by Threshold with the GUI's defaults in Gwyddion 2.62 (``grain_mark.c``): the
    height criterion only, threshold at 50 % of the data range (min + 0.5 (max - min)), not
    inverted, i.e. ``gwy_data_field_grains_mark_height(field, mask, 50.0, FALSE)``.
``gwyddion-watershed``
    that threshold mask, then Grains > Mark by Watershed with the GUI's defaults
    (``grain_wshed.c``: locate 10 steps, threshold 10 px², drop 0.1; segmentation 20 steps,
    drop 0.1, drop sizes in units of (max - min)/50; no prefilter) combined with the existing
    mask by intersection, the GUI's way of cutting thresholded grains apart.

Grains are numbered with ``gwy_data_field_number_grains`` (4-connected).
"""

from __future__ import annotations

import functools
import shlex
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ._common import CACHE, PeerUnavailable, as_labels, run

SOURCE = Path(__file__).with_name("gwy_grains.c")
BINARY = CACHE / "gwy_grains"
TIMEOUT_S = 1800.0


def _pkg_config(*args: str) -> str | None:
    try:
        res = subprocess.run(["pkg-config", *args], capture_output=True, text=True, check=False, timeout=30)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return None
    return res.stdout.strip() if res.returncode == 0 else None


def _flags() -> tuple[list[str], str]:
    full = _pkg_config("--cflags", "--libs", "gwyddion")
    if full is not None:
        return shlex.split(full), "pkg-config gwyddion"
    glib = _pkg_config("--cflags", "--libs", "glib-2.0", "gobject-2.0")
    if glib is None:
        msg = "pkg-config finds neither gwyddion nor glib-2.0 (install libgwyddion20-dev libglib2.0-dev pkg-config)"
        raise PeerUnavailable(msg)
    libdir = _pkg_config("--variable=libdir", "gwyddion") or "/usr/lib/x86_64-linux-gnu"
    incdir = _pkg_config("--variable=includedir", "gwyddion") or "/usr/include"
    flags = [f"-I{incdir}/gwyddion", f"-I{libdir}/gwyddion/include", *shlex.split(glib),
             "-lgwyprocess2", "-lgwyddion2", "-lm"]
    return flags, "glib-2.0 gobject-2.0 + Gwyddion's include dirs (pkg-config gwyddion lacks its GTK+ Requires)"


@functools.cache
def _build() -> tuple[str | None, str]:
    """Compile gwy_grains.c if needed; (reason it is unusable or None, how it was built)."""
    if not Path("/usr/include/gwyddion/libprocess/grains.h").exists():
        return "Debian package libgwyddion20-dev not installed", ""
    try:
        flags, how = _flags()
    except PeerUnavailable as exc:
        return str(exc), ""
    CACHE.mkdir(parents=True, exist_ok=True)
    stamp = BINARY.with_suffix(".how")
    if BINARY.exists() and BINARY.stat().st_mtime >= SOURCE.stat().st_mtime and stamp.exists():
        return None, stamp.read_text().strip()
    cmd = ["gcc", "-O2", "-o", str(BINARY), str(SOURCE), *flags]
    try:
        res = run(cmd, timeout_s=300)
    except (RuntimeError, FileNotFoundError) as exc:
        return f"gcc failed: {exc}", ""
    if res.returncode != 0:
        first = (res.stderr.strip().splitlines() or ["?"])[0][:200]
        return f"gcc could not build gwy_grains.c: {first}", ""
    stamp.write_text(how + "\n")
    return None, how


def available() -> str | None:
    return _build()[0]


def version_string() -> str:
    if available() is not None:
        return ""
    ver = _pkg_config("--modversion", "gwyddion")
    if ver is None:
        try:
            ver = run(["dpkg-query", "-W", "-f=${Version}", "libgwyddion20-dev"], timeout_s=30).stdout.strip()
        except (RuntimeError, FileNotFoundError):
            ver = "?"
    return f"libgwyddion {ver} (Debian libgwyddion20-dev; built with {_build()[1]})"


def segment_mode(image: np.ndarray, mode: str, *, workdir: Path) -> np.ndarray:
    reason = available()
    if reason is not None:
        raise PeerUnavailable(reason)
    img = np.ascontiguousarray(image, dtype="<f8")
    rows, cols = img.shape
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gwy-", dir=workdir) as tmp:
        src, dst = Path(tmp) / "in.f64", Path(tmp) / "out.i32"
        img.tofile(src)
        res = run([str(BINARY), mode, str(rows), str(cols), str(src), str(dst)], timeout_s=TIMEOUT_S)
        if res.returncode != 0 or not dst.exists():
            msg = f"gwy_grains {mode} failed (exit {res.returncode}): {res.stderr.strip()[:200]}"
            raise RuntimeError(msg)
        labels = np.fromfile(dst, dtype="<i4").reshape(rows, cols)
    return as_labels(labels, img.shape)
