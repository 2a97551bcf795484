"""Page handling: pixel budget, truncation check, conversion of the first page to a 2-D grey array.

Grey (8/16-bit integer, float, 1-bit, min-is-white), RGB(A) (equal channels kept, colour to
BT.709 luminance) and palette images are converted; every conversion adds a note (and, when it
matters, a warning) for :func:`morpho.io.read_micrograph`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import tifffile

from ..errors import InputError, MicrographReadError

#: Default pixel budget of :func:`morpho.io.read_micrograph`: 2**29 = 536,870,912 px.  morpho's
#: measured peak memory is about 18.5 bytes per pixel (4750 MiB for a 16384 x 16384 image in
#: ``make bench-speed``), so an image at the budget (about 23170 x 23170 px) needs about 10 GB,
#: the most a workstation can be expected to give.  Larger declared images are refused from the
#: TIFF header, before any pixel is decoded, so that a corrupt or hostile header cannot make the
#: reader allocate gigabytes.
DEFAULT_MAX_PIXELS: int = 2**29


def _validate_max_pixels(value: int | None) -> int | None:
    """``value`` as a positive int, or None (no budget); raise InputError otherwise."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        msg = (
            f"max_pixels must be a positive integer or None, got {value!r}; "
            f"give e.g. max_pixels={DEFAULT_MAX_PIXELS} (the default), or None for no budget"
        )
        raise InputError(msg)
    return int(value)


def _header_ints(values: Any, what: str, name: str) -> tuple[int, ...]:
    """``values`` from the TIFF header as ints; a corrupt header (any non-integer) raises."""
    items = tuple(values) if isinstance(values, (tuple, list, np.ndarray)) else (values,)
    out: list[int] = []
    for v in items:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            msg = (
                f"{name} is a corrupt TIFF (its header gives {what} as {_short(v)}, not whole numbers); "
                "copy or export the file again"
            )
            raise MicrographReadError(msg)
        out.append(int(v))
    return tuple(out)


def _header_int(value: Any, what: str, name: str) -> int:
    """One whole number from the TIFF header; anything else (several, none, text) raises."""
    values = _header_ints(value, what, name)
    if len(values) != 1:
        msg = f"{name} is a corrupt TIFF (its header gives {what} as {_short(value)}, not one number); export it again"
        raise MicrographReadError(msg)
    return values[0]


def _short(value: Any) -> str:
    """``repr(value)`` on one line, at most 40 characters."""
    text = " ".join(repr(value).split())
    return text if len(text) <= 40 else text[:37] + "..."


def _check_declared_size(page: tifffile.TiffPage, max_pixels: int | None, name: str) -> None:
    """Check the first page's declared size from its header, before any pixel is decoded.

    Raises MicrographReadError for a corrupt header (sizes that are not positive whole
    numbers) and InputError when the page, or one of its strips or tiles, holds more than
    ``max_pixels`` values (rows x cols x samples, x depth for a volume): that is what decoding
    allocates.  ``page.shaped`` and ``page.chunks`` come from the tags alone.
    """
    sep, depth, rows, cols, contig = _header_ints(page.shaped, "the image size", name)
    if min(sep, depth, rows, cols, contig) < 1:
        size = f"{rows} x {cols} px" + ("" if sep * contig == 1 else f", {sep * contig} samples per pixel")
        msg = f"{name} declares an empty image ({size}); its header is corrupt, copy or export the file again"
        raise MicrographReadError(msg)
    if page.dtype is None:  # tifffile has no array type for this BitsPerSample / SampleFormat
        msg = (
            f"{name}: its pixel format ({_short(page.bitspersample)} bits per sample, sample format "
            f"{_short(page.sampleformat)}) is not supported; save the image as 8/16-bit integer or float TIFF"
        )
        raise InputError(msg)
    try:
        chunks = page.chunks
    except (TypeError, ValueError, ArithmeticError, tifffile.TiffFileError) as exc:
        detail = " ".join(str(exc).split())[:120] or type(exc).__name__
        msg = f"{name} is a corrupt TIFF (its strip or tile layout is unreadable: {detail}); copy or export it again"
        raise MicrographReadError(msg) from None
    chunk_dims = _header_ints(chunks, "the strip or tile size", name)
    if max_pixels is None:
        return
    total = sep * depth * rows * cols * contig
    if total > max_pixels:
        size = f"{rows} x {cols} px"
        if depth > 1:
            size = f"{depth} x {size}"
        if sep * contig > 1:
            size += f" x {sep * contig} samples"
        msg = (
            f"{name} declares {size} ({total:.3g} values), above the pixel budget of {max_pixels} px; "
            "crop or bin the image, or raise the budget with --max-pixels (max_pixels= in Python)"
        )
        raise InputError(msg)
    chunk = math.prod(chunk_dims)
    if chunk > max_pixels:
        kind = "tiles" if page.is_tiled else "strips"
        shape = " x ".join(str(n) for n in chunk_dims)
        msg = (
            f"{name} declares {kind} of {shape} ({chunk:.3g} values each), above the pixel budget of "
            f"{max_pixels} px; re-save the image with smaller {kind} (or untiled), or raise the budget "
            "with --max-pixels (max_pixels= in Python)"
        )
        raise InputError(msg)


def _check_not_truncated(page: tifffile.TiffPage, size: int, name: str) -> None:
    """Raise when the page's strips or tiles point past the end of the file."""
    offsets = _header_ints(page.dataoffsets, "the image data offsets", name)
    counts = _header_ints(page.databytecounts, "the image data byte counts", name)
    if offsets and len(counts) == len(offsets):
        need = max(o + c for o, c in zip(offsets, counts, strict=True))
        if need > size:
            msg = f"{name} is truncated (image data runs to byte {need}, the file has {size}); copy the file again"
            raise MicrographReadError(msg)


#: Compressions whose decoders tifffile bounds by the declared strip or tile size (it passes the
#: output size to the codec, or the codec takes rows and width): none, CCITT, LZW, deflate,
#: PackBits, LZMA, ZSTD.
_BOUNDED_CODECS = frozenset({1, 2, 3, 4, 5, 8, 32773, 32946, 34925, 34926, 50000})
#: JPEG and PNG streams declare their own size; it is checked against the strip or tile first.
_JPEG_CODECS = frozenset({6, 7, 33007, 34892})
_PNG_CODECS = frozenset({34933})
#: JPEG start-of-frame markers (0xFFC0-0xFFCF without DHT 0xC4, JPG 0xC8, DAC 0xCC).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _check_codec(page: tifffile.TiffPage, data: bytes, max_pixels: int | None, name: str) -> None:
    """Refuse compressed data whose decoding is not bounded by the declared size.

    tifffile hands an image codec (JPEG, PNG, JPEG 2000, WebP, LERC ...) the whole segment and
    gets back whatever size the stream itself declares, so a few kB can decode to gigabytes.
    JPEG and PNG segments are checked against the strip or tile size from their own header
    (MicrographReadError when larger: the file is corrupt); other such codecs are refused while
    a pixel budget is set.  Call after :func:`_check_not_truncated` (segments lie in ``data``).
    """
    code = _header_int(page.compression, "the compression (Compression)", name)
    if code in _BOUNDED_CODECS:
        return
    if code not in _JPEG_CODECS | _PNG_CODECS:
        try:
            codec = tifffile.COMPRESSION(code).name
        except ValueError:
            msg = (
                f"{name} uses an unknown compression (code {code}), or its header is corrupt; "
                "convert it to an uncompressed, LZW or deflate TIFF"
            )
            raise InputError(msg) from None
        if max_pixels is None:
            return
        msg = (
            f"{name} uses {codec} compression (code {code}), whose decoder's memory use the pixel budget "
            "cannot bound; convert it to an uncompressed, LZW or deflate TIFF, or read it with max_pixels=None"
        )
        raise InputError(msg)
    chunks = _header_ints(page.chunks, "the strip or tile size", name)  # ([depth,] rows, cols[, samples])
    first = 1 if page.is_tiled and page.tiledepth > 1 else 0
    chunk_rows, chunk_cols = chunks[first], chunks[first + 1]
    offsets = _header_ints(page.dataoffsets, "the image data offsets", name)
    counts = _header_ints(page.databytecounts, "the image data byte counts", name)
    reader = _jpeg_size if code in _JPEG_CODECS else _png_size
    for index, (offset, count) in enumerate(zip(offsets, counts, strict=False)):
        size = reader(data[offset : offset + count])
        if size is not None and (size[0] > chunk_rows or size[1] > chunk_cols):
            kind = "JPEG" if code in _JPEG_CODECS else "PNG"
            msg = (
                f"{name} is a corrupt TIFF (segment {index} holds a {kind} image of {size[0]} x {size[1]} px, "
                f"larger than the {chunk_rows} x {chunk_cols} px its header declares); copy or export the file again"
            )
            raise MicrographReadError(msg)


def _jpeg_size(segment: bytes) -> tuple[int, int] | None:
    """(rows, cols) from the first start-of-frame marker of a JPEG stream, else None."""
    pos = 2 if segment[:2] == b"\xff\xd8" else 0
    while pos + 4 <= len(segment):
        if segment[pos] != 0xFF:
            return None
        marker = segment[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length field
            pos += 2
            continue
        if marker == 0xDA:  # start of scan: no frame header before it
            return None
        length = int.from_bytes(segment[pos + 2 : pos + 4], "big")
        if marker in _JPEG_SOF and pos + 9 <= len(segment):
            rows = int.from_bytes(segment[pos + 5 : pos + 7], "big")
            cols = int.from_bytes(segment[pos + 7 : pos + 9], "big")
            return rows, cols
        if length < 2:
            return None
        pos += 2 + length
    return None


def _png_size(segment: bytes) -> tuple[int, int] | None:
    """(rows, cols) from a PNG stream's IHDR chunk, else None."""
    if segment[:8] != b"\x89PNG\r\n\x1a\n" or segment[12:16] != b"IHDR" or len(segment) < 24:
        return None
    return int.from_bytes(segment[20:24], "big"), int.from_bytes(segment[16:20], "big")


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
    photometric = _header_int(page.photometric, "the colour model (PhotometricInterpretation)", name)
    extras = _header_ints(page.extrasamples or (), "the extra samples (ExtraSamples)", name)
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
    cmap = np.asarray(colormap)
    if cmap.ndim != 2 or cmap.shape[0] != 3 or cmap.shape[1] < 1 or not np.issubdtype(cmap.dtype, np.number):
        msg = (
            f"{name} is a corrupt TIFF (its palette colour map has shape {cmap.shape}, not 3 x entries); "
            "copy or export the file again"
        )
        raise MicrographReadError(msg)
    cmap = cmap.astype(np.float64)
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
    except Exception:  # a malformed resolution tag only loses this hint
        return ""
    if unit == 2:
        return f"its TIFF resolution of {value:g} dpi is screen DPI, not a pixel size; "
    if unit == 3:
        return f"its TIFF resolution of {value:g} pixels/cm is a print setting, not a pixel size; "
    return ""
