"""The :class:`Micrograph` record and :func:`read_micrograph`, which assembles it.

Reads and checks the file, hands the first page to :mod:`._pixels`, the metadata to
:mod:`._vendors` and, when needed, the pixels to :mod:`._databar`, then resolves the pixel size
and the info-bar height and raises the one-line user errors.
"""

from __future__ import annotations

import hashlib
import io as _stdio
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from ..errors import InputError, MicrographReadError, PixelSizeError
from ._databar import _detect_databar
from ._pixels import (
    DEFAULT_MAX_PIXELS,
    _check_not_truncated,
    _check_codec,
    _check_declared_size,
    _dpi_text,
    _to_grey,
    _validate_max_pixels,
)
from ._vendors import _LOOKED_FOR, _Context, _find_sidecar, _Found, _run_readers

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


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


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------


def read_micrograph(
    path: str | os.PathLike[str],
    *,
    pixel_size_m: float | None = None,
    databar_rows: int | None = None,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
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
    max_pixels : int or None, optional
        Pixel budget: the largest first page read, counted as rows x cols x samples per pixel
        (default :data:`DEFAULT_MAX_PIXELS` = 2**29, about 10 GB of peak memory for the whole
        analysis at morpho's ~18.5 bytes per pixel).  The size the TIFF header declares is
        checked before any pixel data is decoded, so a corrupt header cannot cause a huge
        allocation.  ``None`` disables the check.

    Returns
    -------
    Micrograph
        Pixels of the full first page, pixel size and its source, databar rows and its source,
        vendor, SHA-256 of the file, page count, notes and scale metadata.

    Raises
    ------
    MicrographReadError
        The file is missing, a folder, empty, not a TIFF, truncated or corrupt (including a
        header that declares an empty image or non-numeric sizes, and a JPEG or PNG strip or
        tile whose own header is larger than the TIFF header declares).
    InputError
        The page is not a 2-D grey or RGB image (a 1-pixel image, a stack or a multi-channel
        page), its pixel format or compression is not supported, `databar_rows` is out of
        range, the page (or one of its strips or tiles) declares more than `max_pixels` values,
        the compression is one whose decoder's memory use `max_pixels` cannot bound (JPEG 2000,
        JPEG XL/XR, WebP, LERC ...; read such files with ``max_pixels=None``), or `max_pixels`
        is not a positive integer.
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
    budget = _validate_max_pixels(max_pixels)
    file = Path(os.fspath(path))
    name = file.name
    data = _read_file_bytes(file)
    sha256 = hashlib.sha256(data).hexdigest()
    notes: list[str] = []
    warn: list[str] = []

    # Only the calls into tifffile / imagecodecs are wrapped: they raise many exception types
    # (TiffFileError, ValueError, struct.error, IndexError, codec errors ...) for corrupt
    # files.  morpho's own conversion code runs outside the wrapper, so its bugs stay visible.
    try:
        tif = tifffile.TiffFile(_stdio.BytesIO(data), name=name)
    except Exception as exc:  # see above
        raise _corrupt_file_error(name, exc) from exc
    with tif:
        try:
            n_pages = len(tif.pages)
            page = tif.pages[0] if n_pages else None
        except Exception as exc:  # see above
            raise _corrupt_file_error(name, exc) from exc
        if page is None:
            msg = f"{name} holds no image (its TIFF page list is empty); re-export the image as TIFF"
            raise MicrographReadError(msg)
        _check_declared_size(page, budget, name)  # from the header, before any decoding
        _refuse_stack(tif, name)
        _check_not_truncated(page, len(data), name)
        _check_codec(page, data, budget, name)
        try:
            raw = page.asarray()
        except Exception as exc:  # see above
            raise _corrupt_file_error(name, exc) from exc
        pixels = _to_grey(raw, page, name, notes, warn)
        rows, cols = pixels.shape
        if n_pages > 1:
            text = f"{name} has {n_pages} pages; only the first ({rows} x {cols} px) is analysed"
            notes.append(text)
            warn.append(text)
        ctx = _Context(tif=tif, page=page, path=file, rows=rows, cols=cols, sidecar=_find_sidecar(file))
        found = _run_readers(ctx, notes)
        dpi = _dpi_text(page)

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


def _refuse_stack(tif: tifffile.TiffFile, name: str) -> None:
    """InputError if the file's first series is a 3-D stack: slices in depth (Z) or in time (T),
    as ImageJ, OME and tifffile label them.  One micrograph analysis cannot stand for a volume.

    Pages without such a label stay allowed, and their first page is analysed with a warning:
    microscopes write several same-shape pages for several detectors (a real Zeiss file in the
    test data has two) and previews of another shape.
    """
    try:
        series = tif.series[0] if tif.series else None
        shape, axes = (tuple(int(n) for n in series.shape), str(series.axes)) if series is not None else ((), "")
    except Exception:  # a series tifffile cannot make: the page alone is judged
        return
    depth = 1
    for n, ax in zip(shape, axes, strict=False):
        if ax in "ZT":
            depth *= n
    if depth > 1:
        rows, cols = (shape[axes.index("Y")], shape[axes.index("X")]) if "Y" in axes and "X" in axes else (0, 0)
        msg = (f"{name} is a 3-D stack of {depth} images ({rows} x {cols} px each, axes {axes}); morpho analyses "
               "one micrograph per file: save the image you want as its own TIFF (ImageJ: Image > Stacks > Stack "
               "to Images)")
        raise InputError(msg)


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
# file handling
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


def _corrupt_file_error(name: str, exc: BaseException) -> MicrographReadError:
    """The one-line error for an exception raised by tifffile or a codec while reading ``name``."""
    if isinstance(exc, MemoryError):
        msg = (
            f"not enough memory to read {name}; free memory, or crop or bin the image "
            "(--max-pixels sets the largest image read)"
        )
        return MicrographReadError(msg)
    lines = str(exc).strip().splitlines()
    detail = " ".join(lines[0].split())[:160] if lines else ""
    detail = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    msg = f"{name} is a corrupt or truncated TIFF ({detail}); copy or export the file again"
    return MicrographReadError(msg)


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
