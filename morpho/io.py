"""Read SEM micrographs: pixels, pixel size and its source, and the rows of the info bar.

:func:`read_micrograph` is the only way pixels enter morpho.  It reads the first page of a TIFF
file (8/16-bit integer or float grey; grey-looking or colour RGB(A); palette; compressed with
LZW, deflate, ... through tifffile and imagecodecs) and resolves the physical pixel size from the
first source that gives a valid one, in this order:

1. the ``pixel_size_m`` argument (``--pixel-size`` on the command line);
2. FEI / Thermo Fisher tags 34682 and 34680 (INI text): ``[Scan] PixelWidth``, then
   ``[EScan] PixelWidth``, in metres;
3. Zeiss SmartSEM tag 34118 (CZ_SEM): ``ap_image_pixel_size``; else the field width
   ``ap_width`` divided by the stored image width; else ``ap_pixel_size`` (which Zeiss quotes
   for a 1024-pixel-wide frame) scaled by 1024 / image width;
4. TESCAN tag 50431 (binary blob holding INI text): ``PixelSizeX`` in metres;
5. a JEOL SEM sidecar ``<stem>.txt``: ``0.128 m / $CM_MAG / image width in pixels``;
6. JEOL SightX XML in ImageDescription (TEM, MAG mode):
   ``0.0254 m / XResolution (pixels per inch) / magnification``;
7. Hitachi: ``[SemImageFile] PixelSize`` (nm) in a UTF-16 sidecar ``<stem>.txt`` or in TIFF
   tag 40092;
8. ImageJ calibration: ``unit=`` in ImageDescription with XResolution as pixels per unit;
9. DigitalMicrograph private tags 65009 (scale) and 65003 (unit).

The plain TIFF XResolution in inches or centimetres is screen DPI and is never used as a pixel
size.  Metadata values that are not numbers, zero, negative or not finite count as absent, and
the chain goes on.  When nothing gives a scale, :class:`~morpho.errors.PixelSizeError` says what
was looked for and how to give the pixel size.

The info bar (databar) at the bottom is taken from the ``databar_rows`` argument, else from the
vendor's metadata (FEI ``[Image] ResolutionY``, TESCAN ``ImageStripSize``, Hitachi
``DataSize``), else detected from the pixels by :func:`detect_databar_rows`, which is
conservative: it returns 0 unless the bottom rows look unmistakably like a rendered bar.

Every decision is recorded in :attr:`Micrograph.notes`.
"""

from __future__ import annotations

import hashlib
import io as _stdio
import math
import os
import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
from scipy import constants as _sc

from .errors import InputError, MicrographReadError, MorphoError, PixelSizeError
from .units import LENGTH_UNITS_M

__all__ = [
    "Micrograph",
    "read_micrograph",
    "detect_databar_rows",
    "micrograph_info",
    "VENDORS",
]

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
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")

# Databar detection parameters (see detect_databar_rows).
_BAR_MAX_FRACTION = 0.3  # a bar is at most 30 % of the image height
_BAR_MIN_ROWS = 8  # one line of text needs at least 8 rows
_BAR_MAX_TAIL_ROWS = 3  # Zeiss leaves 1-2 image rows below its bar
_BAR_FLAT = 0.95  # a rule or border row is >= 95 % made of its 4 most common exact values
_BAR_TOP_VALUES = 4
_BAR_BACKGROUND_ROW = 0.4  # a text row is >= 40 % the bar's exact background value
_BAR_EDGE_MAX_FLATNESS = 0.9  # the image row above the bar is not flat ...
_BAR_EDGE_MAX_BACKGROUND = 0.25  # ... and is < 25 % the bar's background value
_BAR_TEXT_CONTRAST = 0.25  # marks differ from the background by >= 25 % of the grey range
_BAR_TEXT_FRACTION = (0.001, 0.5)  # marks cover 0.1-50 % of the bar
_BAR_INK_CONCENTRATION = 0.25  # >= 25 % of the marks share 3 exact values (rendered ink, not noise)
_BAR_MIN_BACKGROUND = 0.5  # the background covers >= half of the bar


@dataclass(frozen=True, eq=False)
class Micrograph:
    """A micrograph as read from its file, with its pixel size and info-bar height.

    Attributes
    ----------
    pixels : ndarray, shape (rows, cols)
        The full first page of the file, grey, dtype as stored (uint8, uint16, float32 ...);
        RGB(A) is converted to grey (see :attr:`notes`).
    pixel_size_m : float
        Edge length of one (square) pixel, in metres.
    pixel_size_source : str
        Where the pixel size came from, e.g. ``"--pixel-size"`` or
        ``"FEI tag 34682 [Scan] PixelWidth"``.
    databar_rows : int
        Rows at the bottom that are the SEM info bar (0 if none).
    databar_source : str
        ``"--databar-rows"``, ``"FEI ResolutionY"``, ``"TESCAN ImageStripSize"``,
        ``"Hitachi DataSize"``, ``"detected from pixels"`` or ``"none"``.
    vendor : str
        One of :data:`VENDORS`.
    path : str
        The path as given.
    sha256 : str
        SHA-256 of the file bytes (hex).
    n_pages : int
        Pages (IFDs) in the file; only the first is read.
    notes : tuple of str
        Every decision taken while reading, for the user.
    metadata : dict
        Vendor metadata relevant to the scale, flat ``{"vendor.key": str | float | int}``.
    """

    pixels: np.ndarray
    pixel_size_m: float
    pixel_size_source: str
    databar_rows: int
    databar_source: str
    vendor: str
    path: str
    sha256: str
    n_pages: int
    notes: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def shape_px(self) -> tuple[int, int]:
        """(rows, cols) of the full image, in pixels."""
        rows, cols = self.pixels.shape[:2]
        return int(rows), int(cols)

    @property
    def analysis_pixels(self) -> np.ndarray:
        """The image without the info bar: ``pixels[: rows - databar_rows]`` (a view)."""
        return self.pixels[: self.pixels.shape[0] - self.databar_rows]


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
# public API
# --------------------------------------------------------------------------------------------


def read_micrograph(
    path: str | os.PathLike[str],
    *,
    pixel_size_m: float | None = None,
    databar_rows: int | None = None,
) -> Micrograph:
    """Read a TIFF micrograph with its pixel size and info-bar height.

    Parameters
    ----------
    path : str or path-like
        The TIFF file.  A sidecar ``<stem>.txt`` beside it (JEOL, Hitachi) is read too.
    pixel_size_m : float, optional
        Pixel size in metres; overrides every metadata source (``--pixel-size``).
    databar_rows : int, optional
        Rows of the info bar at the bottom (``--databar-rows``); overrides the vendor's value
        and the detection.  ``0`` means "no bar" and disables detection.

    Returns
    -------
    Micrograph
        Pixels of the full first page, pixel size and its source, databar rows and its source,
        vendor, SHA-256 of the file, page count, notes and scale metadata.

    Raises
    ------
    MicrographReadError
        The file is missing, a folder, empty, not a TIFF, truncated or corrupt.
    InputError
        The page is not a 2-D grey or RGB image (a 1-pixel image, a stack or a multi-channel
        page), or `databar_rows` is out of range.
    PixelSizeError
        No valid pixel size was given or found in the metadata, or `pixel_size_m` is invalid.

    Warns
    -----
    UserWarning
        RGB(A) read as grey, colour converted to luminance, multi-page file (first page used),
        Zeiss ``ap_pixel_size`` inconsistent with the image width, FEI image resized.

    See Also
    --------
    detect_databar_rows : the pixel-based detection used when no height is given.
    micrograph_info : a JSON-serialisable summary (``morpho info``).

    Notes
    -----
    Input units: `pixel_size_m` in metres, `databar_rows` in pixels.  Output units: metres for
    :attr:`Micrograph.pixel_size_m`, pixels for rows.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from morpho.vendor_tiff import write_sem_tiff
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> img = np.random.default_rng(0).integers(0, 255, (64, 80), dtype=np.uint8)
    >>> tif = write_sem_tiff(tmp / "a.tif", img, vendor="fei", pixel_size_m=2.5e-9)[0]
    >>> m = read_micrograph(tif)
    >>> m.pixel_size_m, m.pixel_size_source, m.databar_rows
    (2.5e-09, 'FEI tag 34682 [Scan] PixelWidth', 0)
    """
    user_px = _validate_pixel_size_argument(pixel_size_m)
    file = Path(os.fspath(path))
    name = file.name
    data = _read_file_bytes(file)
    sha256 = hashlib.sha256(data).hexdigest()
    notes: list[str] = []
    warn: list[str] = []

    try:
        with tifffile.TiffFile(_stdio.BytesIO(data), name=name) as tif:
            n_pages = len(tif.pages)
            if n_pages == 0:
                msg = f"{name} holds no image (its TIFF page list is empty); re-export the image as TIFF"
                raise MicrographReadError(msg)
            page = tif.pages[0]
            _check_not_truncated(page, len(data), name)
            raw = page.asarray()
            pixels = _to_grey(raw, page, name, notes, warn)
            rows, cols = pixels.shape
            if n_pages > 1:
                text = f"{name} has {n_pages} pages; only the first ({rows} x {cols} px) is analysed"
                notes.append(text)
                warn.append(text)
            ctx = _Context(tif=tif, page=page, path=file, rows=rows, cols=cols, sidecar=_find_sidecar(file))
            found = _run_readers(ctx, notes)
            dpi = _dpi_text(page)
    except MorphoError:
        raise
    except Exception as exc:  # noqa: BLE001 - tifffile/imagecodecs raise many types for bad files
        detail = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        msg = f"{name} is a corrupt or truncated TIFF ({detail}); copy or export the file again"
        raise MicrographReadError(msg) from exc

    metadata: dict[str, Any] = {}
    for f in found:
        metadata.update(f.metadata)
        notes.extend(f.notes)
        warn.extend(f.warnings)

    px, px_source, vendor = _resolve_pixel_size(user_px, found, name=name, dpi=dpi, notes=notes)
    bar, bar_source = _resolve_databar(databar_rows, found, pixels, notes)

    for text in dict.fromkeys(warn):
        warnings.warn(text, UserWarning, stacklevel=2)

    return Micrograph(
        pixels=pixels,
        pixel_size_m=px,
        pixel_size_source=px_source,
        databar_rows=bar,
        databar_source=bar_source,
        vendor=vendor,
        path=os.fspath(path),
        sha256=sha256,
        n_pages=n_pages,
        notes=tuple(notes),
        metadata=_jsonable(metadata),
    )


def detect_databar_rows(pixels: np.ndarray) -> int:
    """Detect the SEM info bar (databar) at the bottom of an image from its pixels alone.

    A databar is rendered, not imaged: its rows consist of a handful of exact grey levels (a
    flat background, usually black or white, with text, a scale bar and a logo in high
    contrast), it spans the full width, and it is separated sharply from the noisy image
    above it.  The detector looks for such a band of rows at the bottom and returns its
    height, or 0 when the evidence is not unmistakable.  It never crops an image that has no
    bar: noisy images, textured images and dark (even black) bottom regions without
    high-contrast marks give 0.

    Parameters
    ----------
    pixels : ndarray, shape (rows, cols)
        Grey image, any real dtype.

    Returns
    -------
    int
        Rows at the bottom that are the bar (including up to 3 image rows that some Zeiss
        instruments leave below their bar), or 0 when there is none.

    Raises
    ------
    InputError
        If `pixels` is not a 2-D array.

    Notes
    -----
    The criteria, all required:

    * each bar row is at least 40 % one exact background value (text rows, anti-aliased or
      not), or >= 95 % made of its 4 most common exact values (rules and border lines); the bar
      is a run of such rows ending at most 3 rows above the bottom;
    * the row just above the run is image: not flat, and < 25 % the bar's background value;
    * the bar is 8 rows or more and at most 30 % of the image height;
    * in the bar, at least half of the pixels equal its background value, 0.1-50 % of them are
      marks differing from it by at least a quarter of the image's grey range, and the marks
      are rendered ink (>= 25 % of them share 3 exact values), not noisy image content.

    A noise-free synthetic image whose bottom rows are a flat background holding a few bright
    blobs is indistinguishable from a bar; pass ``databar_rows=0`` to
    :func:`read_micrograph` for such images.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> img = rng.normal(120, 20, (200, 300)).clip(0, 255).astype(np.uint8)
    >>> detect_databar_rows(img)
    0
    >>> img[170:] = 0                      # a black bar of 30 rows ...
    >>> img[180:190, 20:200:10] = 255       # ... with white text-like marks
    >>> detect_databar_rows(img)
    30
    """
    arr = np.asarray(pixels)
    if arr.ndim != 2:
        msg = f"detect_databar_rows needs a 2-D grey image, got an array of shape {arr.shape}"
        raise InputError(msg)
    return _detect_databar(arr)[0]


def micrograph_info(m: Micrograph) -> dict[str, Any]:
    """Summarise a micrograph as a JSON-serialisable dict, as printed by ``morpho info``.

    Parameters
    ----------
    m : Micrograph
        The micrograph, as returned by :func:`read_micrograph`.

    Returns
    -------
    dict
        ``path, sha256, shape_px [rows, cols], dtype, vendor, pixel_size_m, pixel_size_source,
        databar_rows, databar_source, analysis_shape_px, n_pages, notes``.

    Examples
    --------
    >>> import numpy as np
    >>> m = Micrograph(np.zeros((4, 6), np.uint8), 2.5e-9, "--pixel-size", 1, "--databar-rows",
    ...                "unknown", "x.tif", "0" * 64, 1)
    >>> info = micrograph_info(m)
    >>> info["shape_px"], info["analysis_shape_px"], info["pixel_size_m"]
    ([4, 6], [3, 6], 2.5e-09)
    """
    rows, cols = m.shape_px
    return {
        "path": str(m.path),
        "sha256": m.sha256,
        "shape_px": [rows, cols],
        "dtype": str(m.pixels.dtype),
        "vendor": m.vendor,
        "pixel_size_m": float(m.pixel_size_m),
        "pixel_size_source": m.pixel_size_source,
        "databar_rows": int(m.databar_rows),
        "databar_source": m.databar_source,
        "analysis_shape_px": [rows - int(m.databar_rows), cols],
        "n_pages": int(m.n_pages),
        "notes": list(m.notes),
    }


# --------------------------------------------------------------------------------------------
# file and pixel handling
# --------------------------------------------------------------------------------------------


def _read_file_bytes(file: Path) -> bytes:
    """Return the file's bytes, or raise a one-line MicrographReadError naming the problem and the fix."""
    name = str(file)
    if not file.exists():
        msg = f"micrograph not found: {name}; check the path (relative paths start at {Path.cwd()})"
        raise MicrographReadError(msg)
    if file.is_dir():
        msg = f"{name} is a folder, not an image file; give one TIFF file (use 'morpho batch' for a folder)"
        raise MicrographReadError(msg)
    try:
        data = file.read_bytes()
    except PermissionError:
        msg = f"cannot read {name}: permission denied; copy it somewhere readable or fix its permissions"
        raise MicrographReadError(msg) from None
    except OSError as exc:
        msg = f"cannot read {name}: {exc.strerror or exc}; check the file and the disk"
        raise MicrographReadError(msg) from None
    if not data:
        msg = f"{name} is empty (0 bytes); copy or export the image again"
        raise MicrographReadError(msg)
    if data[:4] not in _TIFF_MAGIC:
        msg = (
            f"{name} is not a TIFF file (it starts with {data[:4]!r}); morpho reads TIFF micrographs, "
            "export the image as .tif from the microscope software"
        )
        raise MicrographReadError(msg)
    return data


def _validate_pixel_size_argument(value: float | None) -> float | None:
    if value is None:
        return None
    try:
        px = float(value)
    except (TypeError, ValueError):
        px = math.nan
    if isinstance(value, bool) or not math.isfinite(px) or px <= 0:
        msg = f"pixel size must be a finite length > 0 in metres, got {value!r}; give e.g. --pixel-size 2.5nm"
        raise PixelSizeError(msg)
    if px > 1e-3:
        msg = (
            f"pixel size {px!r} m is larger than 1 mm; give it with a unit, e.g. --pixel-size 2.5nm "
            "(pixel_size_m is in metres)"
        )
        raise PixelSizeError(msg)
    return px


def _check_not_truncated(page: tifffile.TiffPage, size: int, name: str) -> None:
    """Raise when the page's strips or tiles point past the end of the file."""
    offsets = np.asarray(page.dataoffsets, dtype=np.int64)
    counts = np.asarray(page.databytecounts, dtype=np.int64)
    if offsets.size and counts.size == offsets.size and int((offsets + counts).max()) > size:
        need = int((offsets + counts).max())
        msg = f"{name} is truncated (image data runs to byte {need}, the file has {size}); copy the file again"
        raise MicrographReadError(msg)


def _to_grey(raw: np.ndarray, page: tifffile.TiffPage, name: str, notes: list[str], warn: list[str]) -> np.ndarray:
    """Return the first page as a 2-D grey array, with notes on every conversion."""
    shaped = tuple(int(n) for n in page.shaped)  # (separate samples, depth, rows, cols, contig samples)
    if len(shaped) != 5 or int(np.prod(shaped)) != raw.size:
        msg = f"{name}: cannot interpret its first page of shape {raw.shape}; save it as a 2-D grey TIFF"
        raise InputError(msg)
    sep, depth, rows, cols, contig = shaped
    if depth > 1:
        msg = f"{name}: the first page is a 3-D stack ({depth} x {rows} x {cols}); save one 2-D image per page"
        raise InputError(msg)
    arr = np.moveaxis(raw.reshape(shaped)[:, 0], 0, -1).reshape(rows, cols, sep * contig)
    n_samples = arr.shape[2]
    if rows < 2 or cols < 2:
        msg = f"{name} is {rows} x {cols} pixels; morpho needs a 2-D image of at least 2 x 2 pixels"
        raise InputError(msg)
    photometric = int(page.photometric)
    extras = tuple(int(e) for e in (page.extrasamples or ()))
    if photometric == int(tifffile.PHOTOMETRIC.PALETTE) and n_samples == 1:
        grey = _palette_to_grey(arr[..., 0], page.colormap, name, notes, warn)
    elif photometric in (int(tifffile.PHOTOMETRIC.RGB), int(tifffile.PHOTOMETRIC.YCBCR)) and n_samples >= 3:
        grey = _rgb_to_grey(arr[..., :3], name, notes, warn)
        if n_samples > 3:
            notes.append(f"{name}: {n_samples - 3} extra channel(s) (alpha) ignored")
    elif photometric in (int(tifffile.PHOTOMETRIC.MINISBLACK), int(tifffile.PHOTOMETRIC.MINISWHITE)):
        if n_samples == 1:
            grey = arr[..., 0]
        elif n_samples == 2 and extras and extras[0] in (1, 2):
            grey = arr[..., 0]
            notes.append(f"{name}: grey image with an alpha channel; the alpha channel is ignored")
        else:
            msg = (
                f"{name}: the first page holds {n_samples} channels per pixel (a stack, not one image); "
                "save a single grey image per page"
            )
            raise InputError(msg)
        if photometric == int(tifffile.PHOTOMETRIC.MINISWHITE):
            grey = _invert(grey)
            notes.append(f"{name}: stored as 'min is white'; inverted so that bright is high")
    else:
        try:
            kind = tifffile.PHOTOMETRIC(photometric).name
        except ValueError:
            kind = str(photometric)
        msg = f"{name}: colour model {kind} with {n_samples} channel(s) is not supported; save it as grey or RGB TIFF"
        raise InputError(msg)
    if grey.dtype == np.bool_:
        grey = grey.astype(np.uint8) * np.uint8(255)
        notes.append(f"{name}: 1-bit image converted to uint8 (0 / 255)")
    elif grey.dtype == np.float16:
        grey = grey.astype(np.float32)
        notes.append(f"{name}: float16 converted to float32")
    elif not (np.issubdtype(grey.dtype, np.integer) or np.issubdtype(grey.dtype, np.floating)):
        msg = f"{name}: pixel type {grey.dtype} is not a grey level; save the image as 8/16-bit or float TIFF"
        raise InputError(msg)
    return np.ascontiguousarray(grey)


def _invert(grey: np.ndarray) -> np.ndarray:
    if np.issubdtype(grey.dtype, np.unsignedinteger):
        return np.iinfo(grey.dtype).max - grey
    if grey.dtype == np.bool_:
        return ~grey
    return (np.nanmax(grey) + np.nanmin(grey)) - grey


def _palette_to_grey(
    index: np.ndarray, colormap: np.ndarray | None, name: str, notes: list[str], warn: list[str]
) -> np.ndarray:
    """Palette (indexed) image to grey levels on the index scale (uint8 for 8-bit palettes).

    A grey-ramp colour map (entry i = grey i) keeps the indices.  Otherwise each entry is
    replaced by its luminance rescaled to the index range, so that ramp entries keep their value
    and colour entries (Zeiss reserves some for annotation overlays) become their grey.
    """
    if colormap is None:
        notes.append(f"{name}: palette image without a colour map; indices used as grey levels")
        return index
    cmap = np.asarray(colormap, dtype=np.float64)
    n_entries = cmap.shape[1]
    scale = 65535.0 / (n_entries - 1) if n_entries > 1 else 1.0
    ramp = np.arange(n_entries) * scale
    is_ramp = np.abs(cmap - ramp).max(axis=0) <= scale / 2  # entry i is the grey level i
    safe = np.clip(index, 0, n_entries - 1)
    if is_ramp[safe].all():
        notes.append(f"{name}: palette image with a grey-ramp colour map; indices used as grey levels")
        return index
    luma = np.array([0.2125, 0.7154, 0.0721]) @ cmap / scale  # BT.709, on the index scale
    dtype = np.uint8 if n_entries <= 256 else np.uint16
    lut = np.clip(np.rint(luma), 0, n_entries - 1).astype(dtype)
    is_grey = (cmap[0] == cmap[1]) & (cmap[0] == cmap[2])
    colour_fraction = float((~is_grey[safe]).mean())
    text = (
        f"{name}: palette image mapped through its colour map to grey levels "
        f"({colour_fraction:.2%} of the pixels use colour entries, converted to luminance)"
    )
    notes.append(text)
    if colour_fraction > 0.01:
        warn.append(text)
    return lut[safe]


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.709 luma (the weights of skimage.color.rgb2gray), float32, in the input's units."""
    weights = np.array([0.2125, 0.7154, 0.0721], dtype=np.float32)
    return rgb.astype(np.float32) @ weights


def _rgb_to_grey(rgb: np.ndarray, name: str, notes: list[str], warn: list[str]) -> np.ndarray:
    if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2]):
        text = f"{name} is stored as RGB with three equal channels; read as grey (one channel)"
        notes.append(text)
        warn.append(text)
        return rgb[..., 0]
    text = (
        f"{name} is a colour RGB image; converted to grey luminance (0.2125 R + 0.7154 G + 0.0721 B, float32); "
        "check that the colours are not an overlay"
    )
    notes.append(text)
    warn.append(text)
    return _luminance(rgb)


def _dpi_text(page: tifffile.TiffPage) -> str:
    """Return a phrase explaining that the page's XResolution (if any) is not a pixel size."""
    try:
        tag = page.tags.get(282)
        unit = int(page.tags.valueof(296, 2))
        if tag is None:
            return ""
        num, den = tag.value
        value = float(num) / float(den)
    except Exception:  # noqa: BLE001 - a malformed resolution tag only loses this hint
        return ""
    if unit == 2:
        return f"its TIFF resolution of {value:g} dpi is screen DPI, not a pixel size; "
    if unit == 3:
        return f"its TIFF resolution of {value:g} pixels/cm is a print setting, not a pixel size; "
    return ""


# --------------------------------------------------------------------------------------------
# pixel size and databar resolution
# --------------------------------------------------------------------------------------------


def _resolve_pixel_size(
    user_px: float | None, found: list[_Found], *, name: str, dpi: str, notes: list[str]
) -> tuple[float, str, str]:
    """(pixel size in m, its source, vendor) from the argument or the first valid vendor."""
    first_valid = next((f for f in found if f.pixel_size_m is not None), None)
    if user_px is not None:
        vendor = first_valid.vendor if first_valid is not None else (found[0].vendor if found else "unknown")
        if first_valid is not None:
            notes.append(
                f"pixel size {user_px:.6g} m from --pixel-size overrides {first_valid.source} "
                f"({first_valid.pixel_size_m:.6g} m)"
            )
        else:
            notes.append(f"pixel size {user_px:.6g} m from --pixel-size")
        return user_px, "--pixel-size", vendor
    if first_valid is not None:
        px = float(first_valid.pixel_size_m)  # type: ignore[arg-type]
        notes.append(f"pixel size {px:.6g} m from {first_valid.source}")
        for other in found:
            if other is not first_valid and other.pixel_size_m is not None:
                rel = abs(other.pixel_size_m - px) / px
                agree = "agrees" if rel < 0.01 else f"differs by {rel:.1%}; not used"
                notes.append(f"{other.source} gives {other.pixel_size_m:.6g} m ({agree})")
        return px, first_valid.source, first_valid.vendor
    why = "".join(f"{f.missing}; " for f in found if f.missing)
    msg = (
        f"no pixel size in {name} ({why}{dpi}looked for {_LOOKED_FOR} metadata); "
        "give it with --pixel-size, e.g. --pixel-size 2.5nm"
    )
    raise PixelSizeError(msg)


def _resolve_databar(
    user_rows: int | None, found: list[_Found], pixels: np.ndarray, notes: list[str]
) -> tuple[int, str]:
    rows = pixels.shape[0]
    vendor = next((f for f in found if f.databar_rows is not None), None)
    if user_rows is not None:
        if isinstance(user_rows, bool) or not isinstance(user_rows, (int, np.integer)) or not 0 <= user_rows < rows:
            msg = (
                f"databar rows must be an integer with 0 <= rows < {rows} (the image height), got {user_rows!r}; "
                "fix --databar-rows"
            )
            raise InputError(msg)
        text = f"databar: {int(user_rows)} rows from --databar-rows"
        if vendor is not None and vendor.databar_rows != user_rows:
            text += f" (overrides {vendor.databar_source}: {vendor.databar_rows} rows)"
        notes.append(text)
        return int(user_rows), "--databar-rows"
    if vendor is not None:
        notes.append(f"databar: {vendor.databar_rows} rows from {vendor.databar_source}")
        return int(vendor.databar_rows), vendor.databar_source  # type: ignore[arg-type]
    detected, reason = _detect_databar(pixels)
    if detected:
        notes.append(f"databar: {detected} rows detected from pixels ({reason}); override with --databar-rows")
        return detected, "detected from pixels"
    notes.append(f"databar: none ({reason}); give --databar-rows if the image has one")
    return 0, "none"


# --------------------------------------------------------------------------------------------
# databar detection
# --------------------------------------------------------------------------------------------


def _row_stats(block: np.ndarray, k: int = _BAR_TOP_VALUES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: (most common exact value, its fraction, fraction of the k most common values)."""
    n_rows, n_cols = block.shape
    s = np.sort(block, axis=1)
    starts = np.ones(s.shape, dtype=bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    idx = np.flatnonzero(starts.ravel())
    lengths = np.diff(np.append(idx, s.size))
    row = idx // n_cols
    order = np.lexsort((-lengths, row))
    row_o, len_o, idx_o = row[order], lengths[order], idx[order]
    first = np.searchsorted(row_o, np.arange(n_rows))
    rank = np.arange(row_o.size) - first[row_o]
    mode_value = s.ravel()[idx_o[first]]
    mode_fraction = len_o[first] / n_cols
    top_k = np.bincount(row_o, weights=len_o * (rank < k), minlength=n_rows) / n_cols
    return mode_value, mode_fraction, top_k


def _detect_databar(pixels: np.ndarray) -> tuple[int, str]:
    """(databar rows, reason) from the pixels; see :func:`detect_databar_rows`."""
    rows, cols = pixels.shape
    if rows < 4 * _BAR_MIN_ROWS or cols < _BAR_MIN_ROWS:
        return 0, "image too small to hold one"
    values = pixels.astype(np.uint8) if pixels.dtype == np.bool_ else pixels
    finite = values[np.isfinite(values)] if np.issubdtype(values.dtype, np.floating) else values
    if finite.size == 0:
        return 0, "no finite pixels"
    lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:
        return 0, "constant image"
    max_bar = int(rows * _BAR_MAX_FRACTION)
    region = values[rows - max_bar - 1 :]
    n = region.shape[0]
    mode_value, mode_fraction, top_k = _row_stats(region)
    candidates = mode_value[mode_fraction >= _BAR_BACKGROUND_ROW]
    if candidates.size == 0:
        return 0, "no rendered background at the bottom"
    levels, counts = np.unique(candidates, return_counts=True)
    background = levels[np.argmax(counts)]
    on_background = (mode_value == background) & (mode_fraction >= _BAR_BACKGROUND_ROW)
    bar_like = on_background | (top_k >= _BAR_FLAT)
    like_idx = np.flatnonzero(bar_like)
    if like_idx.size == 0 or (n - 1 - like_idx[-1]) > _BAR_MAX_TAIL_ROWS:
        return 0, "no rendered rows at the bottom"
    last = int(like_idx[-1])
    unlike = np.flatnonzero(~bar_like[: last + 1])
    if unlike.size == 0:
        return 0, f"rendered-looking rows reach above {_BAR_MAX_FRACTION:.0%} of the height (no image above a bar)"
    start = int(unlike[-1]) + 1
    bar_rows = n - start
    if last - start + 1 < _BAR_MIN_ROWS:
        return 0, "band at the bottom too thin for a bar"
    edge = start - 1
    if top_k[edge] > _BAR_EDGE_MAX_FLATNESS or (
        mode_value[edge] == background and mode_fraction[edge] >= _BAR_EDGE_MAX_BACKGROUND
    ):
        return 0, "no sharp edge between image and band"
    band = region[start : last + 1].astype(np.float64)
    bg_fraction = float((band == float(background)).mean())
    marks = band[np.abs(band - float(background)) >= _BAR_TEXT_CONTRAST * (hi - lo)]
    mark_fraction = marks.size / band.size
    if bg_fraction < _BAR_MIN_BACKGROUND:
        return 0, "bottom band has no uniform background"
    if not _BAR_TEXT_FRACTION[0] <= mark_fraction <= _BAR_TEXT_FRACTION[1]:
        return 0, "bottom band holds no high-contrast text or scale bar"
    ink_counts = np.sort(np.unique(marks, return_counts=True)[1])[::-1]
    if ink_counts[:3].sum() < _BAR_INK_CONCENTRATION * marks.size:
        return 0, "bright marks in the bottom band are noisy (image content, not rendered text)"
    reason = f"uniform band with background {float(background):g} and {mark_fraction:.1%} rendered marks"
    if last < n - 1:
        reason += f", {n - 1 - last} image row(s) below it included"
    return bar_rows, reason


# --------------------------------------------------------------------------------------------
# vendor metadata readers
# --------------------------------------------------------------------------------------------


def _run_readers(ctx: _Context, notes: list[str]) -> list[_Found]:
    """Run every vendor reader in precedence order; a reader that fails only adds a note."""
    found: list[_Found] = []
    for label, reader in _READERS:
        try:
            result = reader(ctx)
        except Exception as exc:  # noqa: BLE001 - bad metadata must never stop the read
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


def _jsonable(metadata: dict[str, Any]) -> dict[str, Any]:
    """Keep str, finite float and int values; everything else becomes its string."""
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        if isinstance(value, (bool, np.bool_)):
            out[key] = str(value)
        elif isinstance(value, (int, np.integer)):
            out[key] = int(value)
        elif isinstance(value, (float, np.floating)):
            out[key] = float(value) if math.isfinite(value) else str(value)
        else:
            out[key] = str(value)
    return out
