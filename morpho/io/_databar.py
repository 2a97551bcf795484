"""Detection of the SEM info bar (databar) at the bottom of an image, from its pixels alone."""

from __future__ import annotations

import numpy as np

from ..errors import InputError

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
