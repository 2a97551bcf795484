"""Write synthetic SEM TIFFs in each vendor's metadata format (for tests and demos).

:func:`write_sem_tiff` stores an image with the pixel size and info-bar height the way each
microscope vendor does, so that :func:`morpho.io.read_micrograph` can be tested on every branch
of its precedence chain without vendor files.  The text builders (:func:`fei_ini_text`,
:func:`zeiss_cz_sem_text`, :func:`tescan_blob`, :func:`jeol_sidecar_text`,
:func:`hitachi_text`) are public so that tests can make variants (other units, missing or bad
entries) and write them with :func:`tifffile.imwrite` themselves.

The formats follow the real files in ``../shared/data/metadata`` (see ``SOURCES.md``):

========================  ====================================================================
vendor                    where the scale goes
========================  ====================================================================
``"fei"``                 tag 34682 INI text: ``[Scan] PixelWidth`` (m), ``[Image] ResolutionX``,
                          ``ResolutionY`` (rows without the info bar)
``"fei-escan"``           tag 34682 with ``[EScan]`` only (newer Thermo Fisher instruments)
``"zeiss"``               tag 34118 CZ_SEM: ``ap_image_pixel_size``, ``ap_pixel_size`` (for a
                          1024-px frame), ``ap_width`` (field width)
``"tescan"``              tag 50431: binary blob with INI text ``PixelSizeX`` (m),
                          ``ImageStripSize`` (info-bar rows)
``"jeol"``                sidecar ``<stem>.txt``: ``$CM_MAG`` with ``$CM_FULL_SIZE W H``
                          (pixel = 0.128 m / magnification / width)
``"hitachi"``             sidecar ``<stem>.txt`` in UTF-16 with BOM, ``[SemImageFile]
                          PixelSize`` (nm), ``DataSize`` (image without the bar); the same text
                          in tag 40092
``"imagej"``              ImageJ description ``unit=micron`` or ``nm``, XResolution in
                          pixels per unit
``"digitalmicrograph"``   tags 65009/65010 (scale) and 65003/65004 (unit)
``"none"``                no scale at all (only a 96 dpi screen resolution)
========================  ====================================================================
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import tifffile

from .errors import ConfigError, InputError
from .io import detect_databar_rows
from .units import LENGTH_UNITS_M

__all__ = [
    "SEM_VENDORS",
    "encode_tag_text",
    "fei_ini_text",
    "hitachi_text",
    "jeol_sidecar_text",
    "paint_databar",
    "tescan_blob",
    "write_sem_tiff",
    "zeiss_cz_sem_text",
]

#: Vendor formats :func:`write_sem_tiff` can write.
SEM_VENDORS: tuple[str, ...] = (
    "fei",
    "fei-escan",
    "zeiss",
    "tescan",
    "jeol",
    "hitachi",
    "imagej",
    "digitalmicrograph",
    "none",
)

#: JEOL SEM convention: the magnification refers to a display frame 128 mm wide.
_JEOL_FRAME_WIDTH_M = 0.128
#: Zeiss quotes ``ap_pixel_size`` for a frame 1024 pixels wide.
_ZEISS_REFERENCE_WIDTH_PX = 1024
_COMPRESSIONS = {None: None, "none": None, "zlib": "zlib", "deflate": "zlib", "lzw": "lzw"}
_NM = LENGTH_UNITS_M["nm"]
_UM = LENGTH_UNITS_M["um"]


def write_sem_tiff(
    path: str | os.PathLike[str],
    image: np.ndarray,
    *,
    vendor: str,
    pixel_size_m: float,
    databar_rows: int = 0,
    compression: str | None = "zlib",
) -> list[Path]:
    """Write ``image`` as a TIFF with one vendor's scale metadata (and sidecar, if it uses one).

    Parameters
    ----------
    path : str or path-like
        The TIFF to write (overwritten if it exists).  A sidecar goes beside it as
        ``<stem>.txt`` for ``"jeol"`` and ``"hitachi"``.
    image : ndarray, shape (rows, cols)
        The full frame, uint8, uint16 or float32.  Its bottom `databar_rows` rows are the info
        bar.
    vendor : str
        One of :data:`SEM_VENDORS`.
    pixel_size_m : float
        Pixel size in metres (ignored, apart from validation, by ``"none"``).
    databar_rows : int, optional
        Rows at the bottom of `image` that are the info bar (default 0).  Vendors that record
        the bar height (FEI, TESCAN, Hitachi) write it in their metadata.  Unless those rows
        already hold a bar that :func:`morpho.io.detect_databar_rows` finds with exactly this
        height, a generic bar (black with white text-like marks and a scale bar) is painted
        over them with :func:`paint_databar`, so that readers can find it from the pixels too
        (from 8 rows up).
    compression : {"zlib", "deflate", "lzw", None, "none"}, optional
        TIFF compression (default ``"zlib"``, i.e. deflate).

    Returns
    -------
    list of Path
        The TIFF first, then the sidecar if one was written.

    Raises
    ------
    ConfigError
        Unknown `vendor` or `compression`.
    InputError
        `image` not 2-D uint8/uint16/float32, `pixel_size_m` not finite and > 0, or
        `databar_rows` out of range.

    Notes
    -----
    Input units: `pixel_size_m` in metres, `databar_rows` in pixels.  Numbers are written with
    full precision, so that :func:`morpho.io.read_micrograph` recovers the pixel size to
    floating-point round-off (real instruments round to 4 digits).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from morpho.io import read_micrograph
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> img = np.random.default_rng(1).integers(20, 200, (120, 160), dtype=np.uint8)
    >>> files = write_sem_tiff(tmp / "z.tif", img, vendor="zeiss", pixel_size_m=3e-9, databar_rows=20)
    >>> m = read_micrograph(files[0])
    >>> round(m.pixel_size_m / 1e-9, 12), m.databar_rows, m.databar_source
    (3.0, 20, 'detected from pixels')
    """
    if vendor not in SEM_VENDORS:
        msg = f"unknown SEM vendor format {vendor!r}; use one of {', '.join(SEM_VENDORS)}"
        raise ConfigError(msg)
    if compression not in _COMPRESSIONS:
        msg = f"unknown compression {compression!r}; use 'zlib', 'deflate', 'lzw' or None"
        raise ConfigError(msg)
    frame = _validate_image(image)
    px = _validate_pixel_size(pixel_size_m)
    rows, cols = frame.shape
    is_int = isinstance(databar_rows, (int, np.integer)) and not isinstance(databar_rows, bool)
    if not is_int or not 0 <= databar_rows < rows:
        msg = f"databar_rows must be an integer with 0 <= databar_rows < {rows} (image height), got {databar_rows!r}"
        raise InputError(msg)
    bar = int(databar_rows)
    if bar and detect_databar_rows(frame) != bar:
        frame = paint_databar(frame, bar, pixel_size_m=px)
    tif = Path(os.fspath(path))
    options: dict = {"compression": _COMPRESSIONS[compression], "metadata": None}
    extratags: list[tuple] = []
    sidecar: tuple[Path, bytes] | None = None
    image_rows = rows - bar

    if vendor in ("fei", "fei-escan"):
        section = "EScan" if vendor == "fei-escan" else "Scan"
        text = fei_ini_text(px, width_px=cols, height_px=image_rows, section=section)
        extratags.append((34682, "s", 0, encode_tag_text(text), True))
        options["resolution"] = (64, 64)  # as FEI does: a meaningless screen resolution
        options["resolutionunit"] = "INCH"
    elif vendor == "zeiss":
        text = zeiss_cz_sem_text(px, width_px=cols, height_px=rows)
        extratags.append((34118, "s", 0, encode_tag_text(text), True))
    elif vendor == "tescan":
        blob = tescan_blob(px, strip_rows=bar)
        extratags.append((50431, "B", len(blob), blob, True))
    elif vendor == "jeol":
        sidecar = (tif.with_suffix(".txt"), jeol_sidecar_text(px, width_px=cols, height_px=rows).encode("ascii"))
        options["resolution"] = (96, 96)
        options["resolutionunit"] = "INCH"
    elif vendor == "hitachi":
        text = hitachi_text(px, width_px=cols, height_px=image_rows, image_name=tif.name)
        sidecar = (tif.with_suffix(".txt"), text.encode("utf-16"))  # UTF-16 with byte-order mark
        xp_comment = text.encode("utf-16-le")
        extratags.append((40092, "B", len(xp_comment), xp_comment, True))
    elif vendor == "imagej":
        unit, unit_m = ("nm", _NM) if px < 0.1 * _UM else ("micron", _UM)
        per_unit = unit_m / px
        options.update(imagej=True, resolution=(per_unit, per_unit), metadata={"unit": unit})
    elif vendor == "digitalmicrograph":
        unit, unit_m, long_unit = ("nm", _NM, "nanometer") if px < 0.1 * _UM else ("\u00b5m", _UM, "micrometer")
        scale = px / unit_m
        unit_bytes = unit.encode("latin-1") + b"\x00"
        extratags += [
            (65003, "s", 0, unit_bytes, True),
            (65004, "s", 0, unit_bytes, True),
            (65009, "d", 1, scale, True),
            (65010, "d", 1, scale, True),
            (65012, "s", 0, long_unit.encode("ascii") + b"\x00", True),
            (65013, "s", 0, long_unit.encode("ascii") + b"\x00", True),
        ]
    else:  # "none"
        options["resolution"] = (96, 96)
        options["resolutionunit"] = "INCH"

    tif.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(tif, frame, photometric="minisblack", extratags=extratags, **options)
    written = [tif]
    if sidecar is not None:
        sidecar[0].write_bytes(sidecar[1])
        written.append(sidecar[0])
    return written


def paint_databar(image: np.ndarray, rows: int, *, pixel_size_m: float | None = None) -> np.ndarray:
    """Return a copy of ``image`` whose bottom ``rows`` rows are a generic SEM info bar.

    The bar is black (the dtype's minimum, or min(0, image min) for floats) with a white
    (maximum) border line at its top, rows of text-like blocks on the left and a scale bar on
    the right, as FEI, Zeiss and TESCAN bars look.  Vectorised and deterministic.

    Parameters
    ----------
    image : ndarray, shape (r, c)
        Grey image, any real dtype.
    rows : int
        Bar height in pixels (1 <= rows < r).
    pixel_size_m : float, optional
        Unused by the drawing; accepted so that callers can pass their scale (a future scale-bar
        label).

    Returns
    -------
    ndarray
        Same shape and dtype as `image`.

    Examples
    --------
    >>> import numpy as np
    >>> out = paint_databar(np.full((100, 200), 128, np.uint8), 20)
    >>> int(out[80:].min()), int(out[80:].max()), int(out[:80].min())
    (0, 255, 128)
    """
    del pixel_size_m
    out = np.array(image, copy=True)
    total, cols = out.shape
    if not 1 <= rows < total:
        msg = f"bar rows must be between 1 and {total - 1}, got {rows}"
        raise InputError(msg)
    if np.issubdtype(out.dtype, np.integer):
        info = np.iinfo(out.dtype)
        dark, bright = info.min if info.min >= 0 else 0, info.max
    else:
        finite = out[np.isfinite(out)]
        dark = min(0.0, float(finite.min())) if finite.size else 0.0
        bright = max(1.0, float(finite.max())) if finite.size else 1.0
    bar = np.full((rows, cols), dark, dtype=out.dtype)
    bar[0] = bright  # border line between image and bar
    r = np.arange(rows)[:, None]
    c = np.arange(cols)[None, :]
    text_rows = (r >= max(2, int(0.3 * rows))) & (r < max(3, int(0.7 * rows)))
    glyph = (c % 7 < 3) & (c % 42 < 35) & (c < int(0.6 * cols)) & (c >= 4)
    scale_bar = (np.abs(r - rows // 2) <= max(0, rows // 16)) & (c >= int(0.7 * cols)) & (c < int(0.9 * cols))
    bar[(text_rows & glyph) | scale_bar] = bright
    out[total - rows :] = bar
    return out


def fei_ini_text(
    pixel_size_m: float, *, width_px: int, height_px: int, section: str = "Scan", tag_pixel_width: str | None = None
) -> str:
    """FEI / Thermo Fisher INI metadata (tag 34682) for an image ``width_px`` x ``height_px``.

    Parameters
    ----------
    pixel_size_m : float
        Pixel size in metres (``PixelWidth`` and ``PixelHeight``).
    width_px, height_px : int
        ``[Image] ResolutionX`` and ``ResolutionY``: the image without the info bar.
    section : {"Scan", "EScan"}
        Section holding the pixel size (newer instruments write ``[EScan]``).
    tag_pixel_width : str, optional
        Text written for ``PixelWidth`` instead of the number (to test bad values).

    Examples
    --------
    >>> print(fei_ini_text(2.5e-9, width_px=512, height_px=442).split("[Scan]")[1].splitlines()[1])
    PixelWidth=2.5e-09
    """
    width = repr(float(pixel_size_m)) if tag_pixel_width is None else tag_pixel_width
    lines = [
        "[User]",
        "Date=01/01/2024",
        "Time=12:00:00 PM",
        "User=morpho",
        "[System]",
        "Type=DualBeam",
        "Software=morpho synthetic",
        "[Beam]",
        "HV=5000",
        "Beam=EBeam",
        f"Scan={section}",
        f"[{section}]",
        f"PixelWidth={width}",
        f"PixelHeight={float(pixel_size_m)!r}",
        f"HorFieldsize={float(pixel_size_m) * width_px!r}",
        f"VerFieldsize={float(pixel_size_m) * height_px!r}",
        "[EBeam]",
        f"HFW={float(pixel_size_m) * width_px!r}",
        "[Image]",
        f"ResolutionX={int(width_px)}",
        f"ResolutionY={int(height_px)}",
        "",
    ]
    return "\r\n".join(lines)


def _zeiss_length_text(value_m: float, micro: str) -> str:
    if value_m < 1e-6:
        return f"{value_m / _NM:.15g} nm"
    if value_m < 1e-3:
        return f"{value_m / _UM:.15g} {micro}m"
    return f"{value_m / LENGTH_UNITS_M['mm']:.15g} mm"


def zeiss_cz_sem_text(
    pixel_size_m: float,
    *,
    width_px: int,
    height_px: int,
    image_pixel_size: bool = True,
    scan_pixel_size: bool = True,
    field_width: bool = True,
    micro: str = "\u00b5",
    overrides: dict[str, str] | None = None,
) -> str:
    """Zeiss SmartSEM CZ_SEM text (tag 34118), laid out like the real files.

    A block of unnamed numbers (the 4th is the pixel size for a 1024-px frame, in metres), then
    ``KEY`` / ``Name = value unit`` pairs, which :func:`tifffile.read_cz_sem` parses into
    ``{"ap_image_pixel_size": ("Image Pixel Size", 2.5, "nm"), ...}``.

    Parameters
    ----------
    pixel_size_m : float
        The image's pixel size in metres.
    width_px, height_px : int
        The stored image size (with the info bar).
    image_pixel_size, scan_pixel_size, field_width : bool
        Whether to write ``ap_image_pixel_size``, ``ap_pixel_size`` (quoted for a 1024-px-wide
        frame, as Zeiss does) and ``ap_width`` (the field width).
    micro : str
        The micro sign used in µm values: U+00B5 (as SmartSEM writes, in cp1252) or U+03BC.
    overrides : dict, optional
        ``{"AP_KEY": "Name = value"}`` lines replacing or adding entries (to test bad values).

    Examples
    --------
    >>> text = zeiss_cz_sem_text(11.65e-9, width_px=512, height_px=384, image_pixel_size=False)
    >>> [line for line in text.splitlines() if line.startswith("Pixel Size")]
    ['Pixel Size = 5.825 nm']
    """
    px = float(pixel_size_m)
    scan_px = px * width_px / _ZEISS_REFERENCE_WIDTH_PX
    numbers = [0, 0, 0, f"{scan_px:.6e}", "5.000000e+004", 6, "5.000000e+003", "2.300000e+000"]
    entries: dict[str, str] = {
        "DP_IMAGE_STORE": f"Store resolution = {int(width_px)} * {int(height_px)}",
        "AP_MAG": "Mag = 50.00 K X",
    }
    if scan_pixel_size:
        entries["AP_PIXEL_SIZE"] = f"Pixel Size = {_zeiss_length_text(scan_px, micro)}"
    if field_width:
        entries["AP_WIDTH"] = f"Width = {_zeiss_length_text(px * width_px, micro)}"
        entries["AP_HEIGHT"] = f"Height = {_zeiss_length_text(px * height_px, micro)}"
    if image_pixel_size:
        entries["AP_IMAGE_PIXEL_SIZE"] = f"Image Pixel Size = {_zeiss_length_text(px, micro)}"
    entries["SV_SERIAL_NUMBER"] = "Serial No. = morpho synthetic"
    entries.update(overrides or {})
    lines = [str(n) for n in numbers] + [str(len(entries))]
    for key, value in entries.items():
        lines += [key, value]
    return "\r\n".join(lines) + "\r\n"


def encode_tag_text(text: str) -> bytes:
    r"""Bytes for an ASCII-typed TIFF tag: cp1252 as vendors write it (µ = 0xB5), else UTF-8.

    tifffile decodes tag text as UTF-8 and falls back to cp1252, so both read back as written.

    Examples
    --------
    >>> encode_tag_text("5 \u00b5m"), encode_tag_text("5 \u03bcm")
    (b'5 \xb5m\x00', b'5 \xce\xbcm\x00')
    """
    try:
        data = text.encode("cp1252")
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    return data + b"\x00"


def tescan_blob(pixel_size_m: float | str, *, strip_rows: int) -> bytes:
    """TESCAN tag 50431: a binary header followed by INI text (``PixelSizeX`` in m).

    Parameters
    ----------
    pixel_size_m : float or str
        Pixel size in metres (a string is written as is, to test bad values).
    strip_rows : int
        ``ImageStripSize``: rows of the info bar at the bottom.

    Examples
    --------
    >>> b"PixelSizeX=2.5e-09" in tescan_blob(2.5e-9, strip_rows=0)
    True
    """
    value = pixel_size_m if isinstance(pixel_size_m, str) else repr(float(pixel_size_m))
    text = "\r\n".join(
        [
            "[MAIN]",
            "Device=TESCAN synthetic",
            "Magnification=50000",
            f"PixelSizeX={value}",
            f"PixelSizeY={value}",
            f"ImageStripSize={int(strip_rows)}",
            "[SEM]",
            "HV=5000",
            "",
        ]
    )
    header = bytes([0x54, 0x43, 0x01, 0x00, 0x10, 0x00, 0x00, 0x00, 0xFF, 0x00, 0x7F, 0x00])
    return header + text.encode("utf-8") + b"\x00"


def jeol_sidecar_text(pixel_size_m: float, *, width_px: int, height_px: int) -> str:
    """JEOL SEM sidecar text: ``$CM_MAG`` = 0.128 m / (pixel size x width), ``$CM_FULL_SIZE``.

    Examples
    --------
    >>> [l for l in jeol_sidecar_text(2e-6, width_px=1280, height_px=960).splitlines() if "MAG" in l]
    ['$CM_MAG 50']
    """
    magnification = _JEOL_FRAME_WIDTH_M / (float(pixel_size_m) * int(width_px))
    lines = [
        "$CM_FORMAT JEOL-SEM",
        "$CM_VERSION 3.0",
        "$CM_INSTRUMENT morpho synthetic",
        "$CM_ACCEL_VOLT 5.00",
        f"$CM_MAG {magnification:.12g}",  # 5e-13 relative: well below any test tolerance
        f"$CM_FULL_SIZE {int(width_px)} {int(height_px)}",
        "$$SM_MICRON_MARKER 1um",
        "$",
        "",
    ]
    return "\r\n".join(lines)


def hitachi_text(
    pixel_size_m: float,
    *,
    width_px: int,
    height_px: int,
    image_name: str = "image.tif",
    pixel_size_nm: str | None = None,
) -> str:
    """Hitachi ``[SemImageFile]`` text: ``PixelSize`` in nm, ``DataSize`` = image without bar.

    Examples
    --------
    >>> [l for l in hitachi_text(2.5e-9, width_px=640, height_px=480).splitlines() if "Pixel" in l]
    ['PixelSize=2.5']
    """
    value = f"{float(pixel_size_m) / _NM:.15g}" if pixel_size_nm is None else pixel_size_nm
    lines = [
        "[SemImageFile]",
        "InstructName=morpho synthetic",
        "SerialNumber=0",
        f"ImageName={image_name}",
        f"DataSize={int(width_px)}x{int(height_px)}",
        f"PixelSize={value}",
        "SignalName=SE(U)",
        "AcceleratingVoltage=5000 Volt",
        "Magnification=50000",
        "",
    ]
    return "\r\n".join(lines)


def _validate_image(image: np.ndarray) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim != 2:
        msg = f"image must be a 2-D grey array, got shape {arr.shape}"
        raise InputError(msg)
    if arr.dtype not in (np.uint8, np.uint16, np.float32):
        msg = f"image dtype must be uint8, uint16 or float32 (as SEM files store), got {arr.dtype}; convert it first"
        raise InputError(msg)
    return arr


def _validate_pixel_size(value: float) -> float:
    try:
        px = float(value)
    except (TypeError, ValueError):
        px = math.nan
    if isinstance(value, bool) or not math.isfinite(px) or px <= 0:
        msg = f"pixel_size_m must be a finite length > 0 in metres, got {value!r}"
        raise InputError(msg)
    return px
