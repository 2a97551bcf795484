"""Page handling: truncation check, conversion of the first page to a 2-D grey array.

Grey (8/16-bit integer, float, 1-bit, min-is-white), RGB(A) (equal channels kept, colour to
BT.709 luminance) and palette images are converted; every conversion adds a note (and, when it
matters, a warning) for :func:`morpho.io.read_micrograph`.
"""

from __future__ import annotations

import numpy as np
import tifffile

from ..errors import InputError, MicrographReadError


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
