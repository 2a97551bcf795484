"""Vendor metadata readers: the pixel size (and info-bar height) each microscope vendor stores.

One reader per source, run in precedence order by :func:`_run_readers` (see :mod:`morpho.io`
for the order and the conventions): FEI / Thermo Fisher, Zeiss SmartSEM, TESCAN, JEOL sidecar,
JEOL SightX, Hitachi, ImageJ and DigitalMicrograph.  Each returns a :class:`_Found` (or None when
its metadata is absent); none of them raises for bad metadata.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
from scipy import constants as _sc

from ..units import LENGTH_UNITS_M

#: Vendor names that :attr:`Micrograph.vendor` can take.
VENDORS: tuple[str, ...] = (
    "fei",
    "zeiss",
    "tescan",
    "jeol",
    "hitachi",
    "imagej",
    "digitalmicrograph",
    "unknown",
)

#: JEOL SEM convention: the magnification refers to a display frame 128 mm wide.
_JEOL_FRAME_WIDTH_M = 0.128
#: Zeiss SmartSEM quotes ``ap_pixel_size`` for a frame 1024 pixels wide (see SOURCES.md).
_ZEISS_REFERENCE_WIDTH_PX = 1024
#: Vendor pixel-size sources that were looked for (used in the "no pixel size" message).
_LOOKED_FOR = "FEI, Zeiss, TESCAN, Hitachi, JEOL sidecar, JEOL SightX, ImageJ, DigitalMicrograph"
#: Largest sidecar text file read, in bytes (a metadata sidecar is a few kB).
_MAX_SIDECAR_BYTES = 1 << 20
#: Spellings of length units found in vendor metadata that :data:`LENGTH_UNITS_M` lacks.
_UNIT_ALIASES: dict[str, str] = {
    "micrometer": "um",
    "micrometers": "um",
    "micrometre": "um",
    "micrometres": "um",
    "nanometer": "nm",
    "nanometers": "nm",
    "nanometre": "nm",
    "nanometres": "nm",
    "picometer": "pm",
    "picometre": "pm",
    "millimeter": "mm",
    "millimetre": "mm",
    "meter": "m",
    "meters": "m",
    "metre": "m",
    "metres": "m",
    "\\u00b5m": "um",  # ImageJ escapes non-ASCII characters in its description
    "\\u03bcm": "um",
}
#: Pixel sizes outside this range (m) in metadata are unit mistakes, treated as absent.
_PLAUSIBLE_PIXEL_M = (1e-13, 1e-3)


@dataclass(frozen=True)
class _Found:
    """What one vendor reader found (``pixel_size_m`` None when it gave no usable scale)."""

    vendor: str
    pixel_size_m: float | None = None
    source: str = ""
    databar_rows: int | None = None
    databar_source: str = ""
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    missing: str = ""  # why a recognised vendor block gave no pixel size


@dataclass(frozen=True)
class _Context:
    """Everything the vendor readers look at."""

    tif: tifffile.TiffFile
    page: tifffile.TiffPage
    path: Path
    rows: int
    cols: int
    sidecar: tuple[Path, str] | None


# --------------------------------------------------------------------------------------------
# vendor metadata readers
# --------------------------------------------------------------------------------------------


def _run_readers(ctx: _Context, notes: list[str]) -> list[_Found]:
    """Run every vendor reader in precedence order; a reader that fails only adds a note."""
    found: list[_Found] = []
    for label, reader in _READERS:
        try:
            result = reader(ctx)
        except Exception as exc:  # bad metadata must never stop the read
            notes.append(f"{label} metadata could not be parsed ({type(exc).__name__}: {exc}); ignored")
            continue
        if result is None:
            continue
        px = result.pixel_size_m
        if px is not None and not _PLAUSIBLE_PIXEL_M[0] <= px <= _PLAUSIBLE_PIXEL_M[1]:
            why = f"{result.source} gives an implausible pixel size of {px:.3g} m"
            notes.append(f"{why}; ignored")
            result = replace(result, pixel_size_m=None, source="", missing=why)
        found.append(result)
    return found


def _positive_float(value: Any) -> float | None:
    """``value`` as a finite float > 0, else None (non-numeric, zero, negative, NaN, bool)."""
    if isinstance(value, (bool, np.bool_)) or value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1", errors="replace")
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _unit_m(unit: Any) -> float | None:
    """Metres per ``unit`` (``nm``, ``µm``, ``μm``, ``um``, ``micron``, ``pm`` ...), else None."""
    if not isinstance(unit, str):
        return None
    key = unit.strip().strip("\x00").lower()
    key = _UNIT_ALIASES.get(key, key)
    return LENGTH_UNITS_M.get(key)


def _length_m(value: Any, unit: Any) -> float | None:
    number = _positive_float(value)
    factor = _unit_m(unit)
    if number is None or factor is None:
        return None
    return number * factor


def _tag_value(page: tifffile.TiffPage, code: int) -> Any:
    tag = page.tags.get(code)
    return None if tag is None else tag.value


def _ini_sections(text: str) -> dict[str, dict[str, str]]:
    """Tolerant INI parsing: ``{section: {key: value}}``; lines without ``=`` are skipped."""
    result: dict[str, dict[str, str]] = {}
    section: dict[str, str] = result.setdefault("", {})
    for line in text.replace("\x00", "\n").splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = result.setdefault(stripped[1:-1].strip(), {})
        elif "=" in stripped:
            key, value = stripped.split("=", 1)
            section.setdefault(key.strip(), value.strip())
    return result


def _read_fei(ctx: _Context) -> _Found | None:
    """FEI / Thermo Fisher tags 34682 (Helios) and 34680 (SFEG): [Scan]/[EScan] PixelWidth."""
    blocks = []
    for code in (34682, 34680):
        value = _tag_value(ctx.page, code)
        if value is not None:
            blocks.append((code, value))
    if not blocks:
        return None
    metadata: dict[str, Any] = {}
    notes: list[str] = []
    warn: list[str] = []
    px: float | None = None
    source = ""
    image_section: dict[str, Any] = {}
    for code, value in blocks:
        if isinstance(value, (bytes, str)):
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            value = _ini_sections(text)
        if not isinstance(value, dict):
            notes.append(f"FEI tag {code} is not INI text; ignored")
            continue
        for section in ("Scan", "EScan"):
            sec = value.get(section)
            if not isinstance(sec, dict):
                continue
            for key in ("PixelWidth", "PixelHeight", "HorFieldsize"):
                if key in sec:
                    metadata[f"fei.{code}.{section}.{key}"] = sec[key]
            width = _positive_float(sec.get("PixelWidth"))
            if px is None and width is not None:
                px, source = width, f"FEI tag {code} [{section}] PixelWidth"
                height = _positive_float(sec.get("PixelHeight"))
                if height is not None and abs(height - width) > 0.01 * width:
                    notes.append(
                        f"FEI pixels are not square (PixelHeight {height:.6g} m, PixelWidth {width:.6g} m); "
                        "morpho uses PixelWidth"
                    )
        if not image_section and isinstance(value.get("Image"), dict):
            image_section = value["Image"]
    for key in ("ResolutionX", "ResolutionY"):
        if key in image_section:
            metadata[f"fei.Image.{key}"] = image_section[key]
    bar, bar_source = _fei_databar(image_section, ctx, notes, warn)
    missing = "" if px is not None else "FEI metadata has no valid [Scan] or [EScan] PixelWidth"
    return _Found("fei", px, source, bar, bar_source, tuple(notes), tuple(warn), metadata, missing)


def _fei_databar(image: dict[str, Any], ctx: _Context, notes: list[str], warn: list[str]) -> tuple[int | None, str]:
    res_x = _positive_float(image.get("ResolutionX"))
    res_y = _positive_float(image.get("ResolutionY"))
    if res_x is not None and int(res_x) != ctx.cols:
        text = (
            f"FEI [Image] ResolutionX = {int(res_x)} differs from the image width {ctx.cols} px: the image was "
            "resized after acquisition, so its PixelWidth may not apply; check it or give --pixel-size"
        )
        notes.append(text)
        warn.append(text)
        return None, ""
    if res_y is None or res_y != int(res_y):
        return None, ""
    bar = ctx.rows - int(res_y)
    if not 0 <= bar <= ctx.rows // 2:
        notes.append(f"FEI [Image] ResolutionY = {int(res_y)} does not fit the {ctx.rows}-row image; ignored")
        return None, ""
    return bar, "FEI ResolutionY"


def _zeiss_length(entry: Any) -> tuple[float | None, str]:
    """(metres, text) from a tifffile CZ_SEM entry ``(name, value, unit)`` or ``(name, "5 nm")``."""
    if not isinstance(entry, tuple) or len(entry) < 2:
        return None, repr(entry)
    if len(entry) >= 3:
        return _length_m(entry[1], entry[2]), f"{entry[1]} {entry[2]}"
    value = entry[1]
    if isinstance(value, str):
        match = re.match(r"^\s*([-+0-9.eE]+)\s*(\S+)\s*$", value)
        if match:
            return _length_m(match.group(1), match.group(2)), value
    return None, str(value)


def _read_zeiss(ctx: _Context) -> _Found | None:
    """Zeiss SmartSEM tag 34118 (CZ_SEM), parsed by tifffile."""
    sem = _tag_value(ctx.page, 34118)
    if sem is None:
        return None
    if not isinstance(sem, dict):
        return _Found("zeiss", missing="Zeiss tag 34118 could not be parsed")
    image_px, image_text = _zeiss_length(sem.get("ap_image_pixel_size"))
    scan_px, scan_text = _zeiss_length(sem.get("ap_pixel_size"))
    width_m, width_text = _zeiss_length(sem.get("ap_width"))
    metadata: dict[str, Any] = {}
    for key, text in (("ap_image_pixel_size", image_text), ("ap_pixel_size", scan_text), ("ap_width", width_text)):
        if key in sem:
            metadata[f"zeiss.{key}"] = text
    for key in ("ap_height", "ap_mag", "dp_image_store"):
        entry = sem.get(key)
        if isinstance(entry, tuple) and len(entry) >= 2:
            metadata[f"zeiss.{key}"] = " ".join(str(v) for v in entry[1:])
    notes: list[str] = []
    warn: list[str] = []
    field_px = width_m / ctx.cols if width_m is not None else None
    if image_px is not None:
        if field_px is not None and abs(field_px - image_px) > 0.02 * image_px:
            notes.append(
                f"Zeiss ap_width / {ctx.cols} px = {field_px:.6g} m differs from ap_image_pixel_size "
                f"{image_px:.6g} m; ap_image_pixel_size used"
            )
        return _Found("zeiss", image_px, "Zeiss tag 34118 ap_image_pixel_size", None, "", tuple(notes), (), metadata)
    if field_px is not None:
        source = f"Zeiss tag 34118 ap_width / image width ({width_text} / {ctx.cols} px)"
        if scan_px is not None and abs(scan_px - field_px) > 0.01 * field_px:
            text = (
                f"Zeiss ap_pixel_size ({scan_text}) refers to a {_ZEISS_REFERENCE_WIDTH_PX}-px-wide scan, not to "
                f"this {ctx.cols}-px-wide image; scaled by ap_width / width to {field_px:.6g} m"
            )
            notes.append(text)
            warn.append(text)
        return _Found("zeiss", field_px, source, None, "", tuple(notes), tuple(warn), metadata)
    if scan_px is not None:
        px = scan_px * _ZEISS_REFERENCE_WIDTH_PX / ctx.cols
        source = "Zeiss tag 34118 ap_pixel_size"
        if ctx.cols != _ZEISS_REFERENCE_WIDTH_PX:
            source += f" x {_ZEISS_REFERENCE_WIDTH_PX} / {ctx.cols} px"
            text = (
                f"Zeiss metadata has only ap_pixel_size ({scan_text}), which Zeiss quotes for a "
                f"{_ZEISS_REFERENCE_WIDTH_PX}-px-wide frame; scaled to this {ctx.cols}-px image: {px:.6g} m"
            )
            notes.append(text)
            warn.append(text)
        return _Found("zeiss", px, source, None, "", tuple(notes), tuple(warn), metadata)
    return _Found(
        "zeiss",
        metadata=metadata,
        missing="Zeiss tag 34118 has no valid ap_image_pixel_size, ap_width or ap_pixel_size",
    )


def _read_tescan(ctx: _Context) -> _Found | None:
    """TESCAN private tag 50431: a binary blob holding INI text (PixelSizeX in m, ImageStripSize)."""
    blob = _tag_value(ctx.page, 50431)
    if blob is None:
        return None
    if isinstance(blob, np.ndarray):
        blob = blob.tobytes()
    text = blob.decode("latin-1") if isinstance(blob, bytes) else str(blob)
    values = _ini_keys(text, ("PixelSizeX", "PixelSizeY", "ImageStripSize", "Magnification"))
    metadata = {f"tescan.{k}": v for k, v in values.items()}
    px = _positive_float(values.get("PixelSizeX"))
    bar: int | None = None
    bar_source = ""
    notes: list[str] = []
    strip = values.get("ImageStripSize")
    if strip is not None:
        try:
            strip_rows = int(float(strip))
        except ValueError:
            strip_rows = -1
        if 0 <= strip_rows <= ctx.rows // 2:
            bar, bar_source = strip_rows, "TESCAN ImageStripSize"
        else:
            notes.append(f"TESCAN ImageStripSize = {strip!r} does not fit the {ctx.rows}-row image; ignored")
    source = "TESCAN tag 50431 PixelSizeX" if px is not None else ""
    missing = "" if px is not None else "TESCAN tag 50431 has no valid PixelSizeX"
    return _Found("tescan", px, source, bar, bar_source, tuple(notes), (), metadata, missing)


def _ini_keys(text: str, keys: tuple[str, ...]) -> dict[str, str]:
    """First ``key=value`` of each key anywhere in ``text`` (sections ignored)."""
    result: dict[str, str] = {}
    for key in keys:
        match = re.search(rf"(?m)^\s*{re.escape(key)}\s*=\s*([^\r\n\x00]*)", text)
        if match:
            result[key] = match.group(1).strip()
    return result


def _find_sidecar(file: Path) -> tuple[Path, str] | None:
    """Return the ``<stem>.txt`` beside the image (JEOL, Hitachi), decoded, or None."""
    for suffix in (".txt", ".TXT", ".Txt"):
        candidate = file.with_suffix(suffix)
        try:
            if not candidate.is_file() or candidate.stat().st_size > _MAX_SIDECAR_BYTES:
                continue
            raw = candidate.read_bytes()
        except OSError:
            continue
        return candidate, _decode_text(raw)
    return None


def _decode_text(raw: bytes) -> str:
    """Decode sidecar or tag text: UTF-16 with BOM (Hitachi), UTF-8, else cp1252/latin-1."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    if len(raw) >= 4 and raw[1:4:2] == b"\x00\x00" and raw[0:1] != b"\x00":
        return raw.decode("utf-16-le", errors="replace")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _read_jeol_sidecar(ctx: _Context) -> _Found | None:
    """JEOL SEM sidecar ``<stem>.txt``: pixel = 0.128 m / $CM_MAG / image width (px)."""
    if ctx.sidecar is None:
        return None
    side, text = ctx.sidecar
    fields: dict[str, str] = {}
    for line in text.splitlines():
        match = re.match(r"^\s*\$+(\w+)\s*(.*?)\s*$", line)
        if match:
            fields.setdefault(match.group(1).upper(), match.group(2))
    if "CM_MAG" not in fields and "CM_FORMAT" not in fields:
        return None
    metadata = {f"jeol.{k}": fields[k] for k in ("CM_MAG", "CM_FULL_SIZE", "CM_INSTRUMENT") if k in fields}
    mag = _positive_float(fields.get("CM_MAG"))
    if mag is None:
        return _Found("jeol", metadata=metadata, missing=f"JEOL sidecar {side.name} has no valid $CM_MAG")
    notes: list[str] = []
    full = fields.get("CM_FULL_SIZE", "").split()
    if full and full[0] != str(ctx.cols):
        notes.append(
            f"JEOL $CM_FULL_SIZE width {full[0]} differs from the image width {ctx.cols} px; the image width is used"
        )
    px = _JEOL_FRAME_WIDTH_M / mag / ctx.cols
    source = f"JEOL sidecar {side.name} ($CM_MAG, $CM_FULL_SIZE)"
    return _Found("jeol", px, source, None, "", tuple(notes), (), metadata)


def _read_jeol_sightx(ctx: _Context) -> _Found | None:
    """JEOL SightX XML (TemReporter) in ImageDescription: 0.0254 m / XResolution / magnification."""
    description = ctx.page.description or ""
    if "<TemReporter" not in description[:2000]:
        return None
    block = re.search(r"<ImageFormingSystem>(.*?)</ImageFormingSystem>", description, re.DOTALL)
    eos = re.search(r"<EosMode>\s*([^<]*?)\s*</EosMode>", description)
    metadata: dict[str, Any] = {}
    fields: dict[str, str] = {}
    if block:
        for key in ("ModeString", "SelectorValue", "SelectorUnitString"):
            match = re.search(rf"<{key}>\s*([^<]*?)\s*</{key}>", block.group(1))
            if match:
                fields[key] = match.group(1)
                metadata[f"jeol_sightx.{key}"] = match.group(1)
    if eos:
        metadata["jeol_sightx.EosMode"] = eos.group(1)
    if fields.get("ModeString") != "MAG" or (eos and eos.group(1) != "eosTEM"):
        return _Found("jeol", metadata=metadata, missing="JEOL SightX metadata is not a TEM MAG-mode image")
    mag = _positive_float(fields.get("SelectorValue"))
    per_unit = _resolution_per_m(ctx.page)
    if per_unit is not None:
        metadata["jeol_sightx.XResolution_px_per_m"] = per_unit
    if mag is None or per_unit is None:
        missing = "JEOL SightX metadata lacks a valid magnification or XResolution (inch or cm)"
        return _Found("jeol", metadata=metadata, missing=missing)
    px = 1.0 / per_unit / mag
    source = "JEOL SightX ImageDescription (0.0254 m / XResolution / magnification)"
    return _Found("jeol", px, source, None, "", (), (), metadata)


def _resolution_per_m(page: tifffile.TiffPage) -> float | None:
    """XResolution in pixels per metre when its unit is inch or cm (only for JEOL SightX)."""
    tag = page.tags.get(282)
    if tag is None:
        return None
    try:
        num, den = tag.value
        per_unit = _positive_float(float(num) / float(den))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    unit = int(page.tags.valueof(296, 2))
    metres = {2: _sc.inch, 3: LENGTH_UNITS_M["cm"]}.get(unit)
    if per_unit is None or metres is None:
        return None
    return per_unit / metres


def _read_hitachi(ctx: _Context) -> _Found | None:
    """Hitachi [SemImageFile] PixelSize (nm), from the UTF-16 sidecar or TIFF tag 40092."""
    candidates: list[tuple[str, str]] = []
    if ctx.sidecar is not None and "[SemImageFile]" in ctx.sidecar[1]:
        candidates.append((f"Hitachi sidecar {ctx.sidecar[0].name} PixelSize", ctx.sidecar[1]))
    tag = _tag_value(ctx.page, 40092)
    if tag is not None:
        raw = tag.tobytes() if isinstance(tag, np.ndarray) else tag
        text = _decode_text(raw) if isinstance(raw, bytes) else str(raw)
        if "[SemImageFile]" in text:
            candidates.append(("Hitachi tag 40092 PixelSize", text))
    if not candidates:
        return None
    metadata: dict[str, Any] = {}
    for source, text in candidates:
        section = _ini_sections(text).get("SemImageFile", {})
        for key in ("PixelSize", "DataSize", "Magnification", "InstructName"):
            if key in section:
                metadata.setdefault(f"hitachi.{key}", section[key])
        px_nm = _positive_float(section.get("PixelSize"))
        if px_nm is None:
            continue
        bar, bar_source, notes = _hitachi_databar(section.get("DataSize", ""), ctx)
        return _Found("hitachi", px_nm * LENGTH_UNITS_M["nm"], source, bar, bar_source, notes, (), metadata)
    return _Found("hitachi", metadata=metadata, missing="Hitachi [SemImageFile] has no valid PixelSize")


def _hitachi_databar(data_size: str, ctx: _Context) -> tuple[int | None, str, tuple[str, ...]]:
    """Hitachi DataSize ``WxH`` is the image without its info bar."""
    match = re.match(r"^\s*(\d+)\s*[xX*]\s*(\d+)\s*$", data_size)
    if not match:
        return None, "", ()
    width, height = int(match.group(1)), int(match.group(2))
    if width != ctx.cols or not 0 < height <= ctx.rows or ctx.rows - height > ctx.rows // 2:
        return None, "", (f"Hitachi DataSize {data_size} does not match the {ctx.rows} x {ctx.cols} image; ignored",)
    return ctx.rows - height, "Hitachi DataSize", ()


def _read_imagej(ctx: _Context) -> _Found | None:
    """ImageJ calibration: ``unit=`` in ImageDescription, XResolution = pixels per unit."""
    if not ctx.tif.is_imagej:
        return None
    meta = ctx.tif.imagej_metadata or {}
    unit = meta.get("unit")
    metadata: dict[str, Any] = {}
    if isinstance(unit, str):
        metadata["imagej.unit"] = unit
    tag = ctx.page.tags.get(282)
    per_unit = None
    if tag is not None:
        try:
            num, den = tag.value
            per_unit = _positive_float(float(num) / float(den))
        except (TypeError, ValueError, ZeroDivisionError):
            per_unit = None
    if per_unit is not None:
        metadata["imagej.XResolution"] = per_unit
    unit_m = _unit_m(unit)
    if unit_m is None or per_unit is None:
        missing = "ImageJ metadata has no length calibration (unit= and XResolution)"
        return _Found("imagej", metadata=metadata, missing=missing)
    return _Found("imagej", unit_m / per_unit, f"ImageJ calibration (unit={unit}, XResolution)", metadata=metadata)


def _read_digitalmicrograph(ctx: _Context) -> _Found | None:
    """DigitalMicrograph private tags 65009 (scale) and 65003 (unit); 65010/65004 as fallback."""
    pairs = [(65009, 65003), (65010, 65004)]
    if not any(ctx.page.tags.get(code) is not None for pair in pairs for code in pair):
        return None
    metadata: dict[str, Any] = {}
    for scale_code, unit_code in pairs:
        scale = _tag_value(ctx.page, scale_code)
        unit = _tag_value(ctx.page, unit_code)
        if isinstance(unit, bytes):
            unit = _decode_text(unit)
        if scale is not None:
            metadata[f"dm.{scale_code}"] = scale if isinstance(scale, (int, float)) else str(scale)
        if unit is not None:
            metadata[f"dm.{unit_code}"] = str(unit)
        px = _length_m(scale, unit)
        if px is not None:
            source = f"DigitalMicrograph tags {scale_code} (scale) + {unit_code} (unit)"
            return _Found("digitalmicrograph", px, source, metadata=metadata)
    return _Found("digitalmicrograph", metadata=metadata, missing="DigitalMicrograph tags hold no valid length scale")


_READERS = (
    ("FEI", _read_fei),
    ("Zeiss", _read_zeiss),
    ("TESCAN", _read_tescan),
    ("JEOL sidecar", _read_jeol_sidecar),
    ("JEOL SightX", _read_jeol_sightx),
    ("Hitachi", _read_hitachi),
    ("ImageJ", _read_imagej),
    ("DigitalMicrograph", _read_digitalmicrograph),
)
