"""Seeded TIFF-mutation fuzzer for :func:`morpho.io.read_micrograph`.

Small valid seed TIFFs are made in memory (every vendor format of
:func:`morpho.vendor_tiff.write_sem_tiff`, plus tifffile variants: compressed, tiled, RGB,
planar, palette, min-is-white, 1-bit, 16/32/64-bit, big-endian, BigTIFF, multi-page, volume,
JPEG), then each case applies 1-3 mutations (bit flips, byte overwrites with interesting values,
truncation, chunk duplication/deletion, and structure-aware corruption of the IFD offset, of
tag codes, types, counts and values, of the IFD entry count, and of numbers in the vendor
metadata text) and reads the result with ``read_micrograph`` (and, when it succeeds,
``micrograph_info`` and ``json.dumps``).

Outcomes:

``ok``
    read, and the result satisfies the invariants (2-D real pixels, finite pixel size > 0,
    0 <= databar rows < height, JSON-serialisable info);
``morpho``
    a :class:`morpho.errors.MorphoError` with a one-line message (the clean refusal);
``failure``
    anything else: another exception type, a multi-line or empty MorphoError message, a
    MorphoError caused by a MemoryError, a broken invariant, a case over the time limit, or a
    jump of the process's peak memory above ``--max-rss-jump-mb``.

Warnings are counted per category; they are not failures.

Every case is a pure function of ``(--seed, case index)``, so a failure is reproduced with
``python tools/fuzz_tiff.py --seed S --replay INDEX [--save DIR]``.

Usage::

    python tools/fuzz_tiff.py --cases 10000 --seed 0      # make fuzz

The harness is a developer tool, not package code: it writes temporary files and prints, which
the library never does (STYLE M2, T20).  ``tests/unit/test_fuzz_tiff.py`` imports it by path.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import math
import os
import re
import resource
import signal
import struct
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tifffile

from morpho.errors import MorphoError
from morpho.io import _vendors, micrograph_info, read_micrograph
from morpho.vendor_tiff import SEM_VENDORS, encode_tag_text, fei_ini_text, write_sem_tiff

#: Pixel budget per case: far above the seeds (<= 128 x 128 x 3), far below a harmful allocation.
FUZZ_MAX_PIXELS = 2**22
#: Wall-time limit per case, in seconds (a seed case takes a few milliseconds).
CASE_TIMEOUT_S = 10.0
#: A case that raises the process's peak RSS by more than this is a failure (MiB).
MAX_RSS_JUMP_MB = 512

# Interesting integers for overwrites: boundaries of signed/unsigned widths and small values.
_INTERESTING = (
    0,
    1,
    2,
    3,
    4,
    7,
    8,
    16,
    0x7F,
    0x80,
    0xFF,
    0x100,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x10000,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFF,
    0x7FFFFFFFFFFFFFFF,
    0xFFFFFFFFFFFFFFFF,
)
# Tags whose values steer decoding: dimensions, layout, codecs, offsets.
_KEY_TAGS = (
    256,  # ImageWidth
    257,  # ImageLength
    258,  # BitsPerSample
    259,  # Compression
    262,  # PhotometricInterpretation
    266,  # FillOrder
    273,  # StripOffsets
    274,  # Orientation
    277,  # SamplesPerPixel
    278,  # RowsPerStrip
    279,  # StripByteCounts
    282,  # XResolution
    284,  # PlanarConfiguration
    296,  # ResolutionUnit
    317,  # Predictor
    320,  # ColorMap
    322,  # TileWidth
    323,  # TileLength
    324,  # TileOffsets
    325,  # TileByteCounts
    338,  # ExtraSamples
    339,  # SampleFormat
    32997,  # ImageDepth
    32998,  # TileDepth
)
_COMPRESSIONS = (1, 2, 5, 7, 8, 32773, 32946, 34712, 34887, 50000, 50001, 65000, 99)
# Same-length replacements for numbers in metadata text (padded with spaces / cut).
_TEXT_GARBAGE = ("nan", "inf", "-inf", "-1", "0", "-0", "1e999", "1e-999", "abc", "", "\x00", "[", "=", "9" * 40)

_Mutation = Callable[[bytearray, np.random.Generator], str]


@dataclass(frozen=True)
class Seed:
    """A valid seed file: its name, TIFF bytes and optional ``<stem>.txt`` sidecar bytes."""

    name: str
    data: bytes
    sidecar: bytes | None = None


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case."""

    index: int
    seed_name: str
    mutations: tuple[str, ...]
    outcome: str  # "ok", "morpho" or "failure"
    error_type: str = ""
    message: str = ""
    warnings: tuple[str, ...] = ()
    elapsed_s: float = 0.0
    reader_errors: tuple[str, ...] = ()  # exceptions a vendor reader raised (caught by morpho)


@dataclass
class FuzzReport:
    """Counts per outcome, per mutation kind and per seed, the failures and the wall time."""

    seed: int
    cases: int = 0
    outcomes: Counter = field(default_factory=Counter)
    by_mutation: dict[str, Counter] = field(default_factory=dict)
    by_seed: dict[str, Counter] = field(default_factory=dict)
    error_types: Counter = field(default_factory=Counter)
    warning_types: Counter = field(default_factory=Counter)
    reader_errors: Counter = field(default_factory=Counter)
    failures: list[CaseResult] = field(default_factory=list)
    slowest: CaseResult | None = None
    elapsed_s: float = 0.0

    def add(self, result: CaseResult) -> None:
        self.cases += 1
        self.outcomes[result.outcome] += 1
        for kind in dict.fromkeys(m.split("(", 1)[0] for m in result.mutations):
            self.by_mutation.setdefault(kind, Counter())[result.outcome] += 1
        self.by_seed.setdefault(result.seed_name, Counter())[result.outcome] += 1
        if result.error_type:
            self.error_types[result.error_type] += 1
        self.warning_types.update(result.warnings)
        self.reader_errors.update(result.reader_errors)
        if result.outcome == "failure":
            self.failures.append(result)
        if self.slowest is None or result.elapsed_s > self.slowest.elapsed_s:
            self.slowest = result


# --------------------------------------------------------------------------------------------
# seeds
# --------------------------------------------------------------------------------------------


def _texture(rng: np.random.Generator, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    img = rng.normal(0.45, 0.15, shape).clip(0, 1)
    if np.issubdtype(dtype, np.integer):
        return (img * np.iinfo(dtype).max).astype(dtype)
    return img.astype(dtype)


def _tifffile_bytes(image: np.ndarray, **options) -> bytes:
    buf = io.BytesIO()
    tifffile.imwrite(buf, image, **options)
    return buf.getvalue()


def _with_thumbnail(image: np.ndarray, **options) -> bytes:
    """`image` and a 4x smaller preview page of another shape (as microscopes save them)."""
    buf = io.BytesIO()
    with tifffile.TiffWriter(buf) as tw:
        tw.write(image, **options)
        tw.write(image[::4, ::4], photometric="minisblack")
    return buf.getvalue()


def _fei_tag(px: float, shape: tuple[int, ...]) -> list[tuple]:
    text = fei_ini_text(px, width_px=shape[1], height_px=shape[0])
    return [(34682, "s", 0, encode_tag_text(text), True)]


def make_seeds() -> tuple[Seed, ...]:
    """Build the seed files in memory (deterministic; each <= 128 x 128 px, a few kB)."""
    rng = np.random.default_rng(2024)
    seeds: list[Seed] = []
    with tempfile.TemporaryDirectory(prefix="morpho-fuzz-seeds-") as tmp:
        for vendor in SEM_VENDORS:
            dtype = {"zeiss": np.uint16, "imagej": np.float32, "digitalmicrograph": np.uint16}.get(vendor, np.uint8)
            image = _texture(rng, (64, 80), dtype)
            compression = {"fei": "zlib", "fei-escan": "lzw", "zeiss": None}.get(vendor, "zlib")
            bar = 12 if vendor in ("fei", "tescan", "hitachi", "zeiss") else 0
            files = write_sem_tiff(
                Path(tmp) / f"{vendor}.tif",
                image,
                vendor=vendor,
                pixel_size_m=2.5e-9,
                databar_rows=bar,
                compression=compression,
            )
            sidecar = files[1].read_bytes() if len(files) > 1 else None
            seeds.append(Seed(f"{vendor}", files[0].read_bytes(), sidecar))
    px = 3.1e-9
    grey = _texture(rng, (48, 64), np.uint8)
    seeds += [
        Seed("packbits-u8", _tifffile_bytes(grey, compression="packbits", extratags=_fei_tag(px, grey.shape))),
        Seed(
            "tiled-u16-zlib-pred",
            _tifffile_bytes(
                _texture(rng, (64, 64), np.uint16),
                tile=(32, 32),
                compression="zlib",
                predictor=True,
                extratags=_fei_tag(px, (64, 64)),
            ),
        ),
        Seed(
            "rgb-u8-lzw",
            _tifffile_bytes(
                _texture(rng, (40, 48, 3), np.uint8),
                photometric="rgb",
                compression="lzw",
                extratags=_fei_tag(px, (40, 48)),
            ),
        ),
        Seed(
            "rgb-planar-u8",
            _tifffile_bytes(
                _texture(rng, (3, 32, 40), np.uint8),
                photometric="rgb",
                planarconfig="separate",
                extratags=_fei_tag(px, (32, 40)),
            ),
        ),
        Seed(
            "rgba-u8",
            _tifffile_bytes(
                _texture(rng, (32, 32, 4), np.uint8),
                photometric="rgb",
                extrasamples=[2],
                extratags=_fei_tag(px, (32, 32)),
            ),
        ),
        Seed(
            "grey-alpha-u8",
            _tifffile_bytes(
                _texture(rng, (32, 32, 2), np.uint8),
                photometric="minisblack",
                planarconfig="contig",
                extrasamples=[2],
                extratags=_fei_tag(px, (32, 32)),
            ),
        ),
        Seed(
            "multipage-u8",
            _with_thumbnail(
                _texture(rng, (32, 40), np.uint8), photometric="minisblack", extratags=_fei_tag(px, (32, 40))
            ),
        ),
        Seed(
            "stack-u8",
            _tifffile_bytes(
                _texture(rng, (3, 32, 40), np.uint8), photometric="minisblack", metadata={"axes": "ZYX"},
                extratags=_fei_tag(px, (32, 40)),
            ),
        ),
        Seed(
            "float32-floatpred",
            _tifffile_bytes(
                _texture(rng, (48, 48), np.float32),
                compression="zlib",
                predictor=3,
                extratags=_fei_tag(px, (48, 48)),
            ),
        ),
        Seed("float64-bigendian", _tifffile_bytes(_texture(rng, (32, 40), np.float64), byteorder=">")),
        Seed(
            "bigtiff-u16",
            _tifffile_bytes(_texture(rng, (40, 40), np.uint16), bigtiff=True, extratags=_fei_tag(px, (40, 40))),
        ),
        Seed(
            "int16",
            _tifffile_bytes(
                (_texture(rng, (32, 32), np.uint16) // 2).astype(np.int16), extratags=_fei_tag(px, (32, 32))
            ),
        ),
        Seed(
            "palette-u8",
            _tifffile_bytes(
                _texture(rng, (32, 32), np.uint8),
                photometric="palette",
                colormap=(np.tile(np.arange(256, dtype=np.uint16) * 257, (3, 1))),
                extratags=_fei_tag(px, (32, 32)),
            ),
        ),
        Seed("miniswhite-u8", _tifffile_bytes(grey, photometric="miniswhite", extratags=_fei_tag(px, grey.shape))),
        Seed("bilevel", _tifffile_bytes(grey > 128, extratags=_fei_tag(px, grey.shape))),
        Seed(
            "volume-u8",
            _tifffile_bytes(
                _texture(rng, (4, 16, 16), np.uint8), volumetric=True, tile=(2, 16, 16), photometric="minisblack"
            ),
        ),
        Seed(
            "jpeg-rgb",
            _tifffile_bytes(
                _texture(rng, (32, 32, 3), np.uint8),
                photometric="rgb",
                compression="jpeg",
                extratags=_fei_tag(px, (32, 32)),
            ),
        ),
        Seed(
            "png-tiled-u8",
            _tifffile_bytes(
                _texture(rng, (48, 48), np.uint8), compression="png", tile=(32, 32), extratags=_fei_tag(px, (48, 48))
            ),
        ),
        Seed(
            "imagej-u8-lzw",
            _tifffile_bytes(
                grey, imagej=True, resolution=(1 / px / 1e9, 1 / px / 1e9), metadata={"unit": "nm"}, compression="lzw"
            ),
        ),
    ]
    return tuple(seeds)


# --------------------------------------------------------------------------------------------
# TIFF structure (tolerant, for targeted mutations)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """One IFD entry: where it is in the file and how its fields are laid out."""

    pos: int  # offset of the entry
    code: int
    dtype: int
    count: int
    big: bool  # BigTIFF (20-byte entries, 8-byte counts and values)
    order: str  # "<" or ">"

    @property
    def count_pos(self) -> int:
        return self.pos + 4

    @property
    def value_pos(self) -> int:
        return self.pos + (12 if self.big else 8)


@dataclass(frozen=True)
class _Layout:
    order: str
    big: bool
    first_ifd_pos: int  # where the first IFD offset is stored
    ifds: tuple[int, ...]  # IFD offsets
    next_pointer_pos: tuple[int, ...]  # where each IFD's next-IFD offset is stored
    entries: tuple[_Entry, ...]


def _layout(data: bytes | bytearray) -> _Layout | None:
    """Parse the header and up to 8 IFDs; None when the header is unreadable."""
    if len(data) < 8 or data[:2] not in (b"II", b"MM"):
        return None
    order = "<" if data[:2] == b"II" else ">"
    (magic,) = struct.unpack_from(order + "H", data, 2)
    big = magic == 43
    if big and len(data) < 16:
        return None
    first_pos = 8 if big else 4
    offset = struct.unpack_from(order + ("Q" if big else "I"), data, first_pos)[0]
    ifds: list[int] = []
    nexts: list[int] = []
    entries: list[_Entry] = []
    n_fmt, n_size, e_size, c_fmt = ("Q", 8, 20, "Q") if big else ("H", 2, 12, "I")
    while offset and offset not in ifds and len(ifds) < 8 and offset + n_size <= len(data):
        (n,) = struct.unpack_from(order + n_fmt, data, offset)
        end = offset + n_size + n * e_size
        if n > 4096 or end + (8 if big else 4) > len(data):
            break
        ifds.append(offset)
        for i in range(n):
            pos = offset + n_size + i * e_size
            code, dtype = struct.unpack_from(order + "HH", data, pos)
            (count,) = struct.unpack_from(order + c_fmt, data, pos + 4)
            entries.append(_Entry(pos, code, dtype, count, big, order))
        nexts.append(end)
        offset = struct.unpack_from(order + ("Q" if big else "I"), data, end)[0]
    return _Layout(order, big, first_pos, tuple(ifds), tuple(nexts), tuple(entries))


def _put(data: bytearray, pos: int, value: int, width: int, order: str) -> None:
    """Write ``value`` (wrapped to ``width`` bytes) at ``pos`` if it fits."""
    if 0 <= pos and pos + width <= len(data):
        fmt = {1: "B", 2: "H", 4: "I", 8: "Q"}[width]
        struct.pack_into(order + fmt, data, pos, value % (1 << (8 * width)))


def _pick(seq: Sequence, rng: np.random.Generator):
    return seq[int(rng.integers(len(seq)))]


def _position(data: bytearray, rng: np.random.Generator) -> int:
    """A position biased to the header and IFDs (where corruption matters most)."""
    layout = _layout(data)
    if layout is not None and layout.entries and rng.random() < 0.5:
        entry = _pick(layout.entries, rng)
        return min(entry.pos + int(rng.integers(0, 20 if entry.big else 12)), len(data) - 1)
    if rng.random() < 0.3:
        return int(rng.integers(0, min(len(data), 64)))
    return int(rng.integers(0, len(data)))


# --------------------------------------------------------------------------------------------
# mutations: each changes `data` in place and returns a short description
# --------------------------------------------------------------------------------------------


def _m_bitflip(data: bytearray, rng: np.random.Generator) -> str:
    n = int(rng.integers(1, 9))
    for _ in range(n):
        pos = _position(data, rng)
        data[pos] ^= 1 << int(rng.integers(8))
    return f"bitflip(x{n})"


def _m_byte_set(data: bytearray, rng: np.random.Generator) -> str:
    width = int(_pick((1, 2, 4, 8), rng))
    value = int(_pick(_INTERESTING, rng))
    pos = _position(data, rng)
    _put(data, pos, value, width, _pick("<>", rng))
    return f"byte_set(@{pos},{width}B={value:#x})"


def _m_truncate(data: bytearray, rng: np.random.Generator) -> str:
    size = len(data)
    # half the cuts fall in the header and first IFDs, half near the end (the image data)
    keep = int(rng.integers(0, min(size, 512))) if rng.random() < 0.5 else int(rng.integers(max(0, size - 2048), size))
    del data[keep:]
    return f"truncate({keep}/{size})"


def _m_chunk_dup(data: bytearray, rng: np.random.Generator) -> str:
    length = int(rng.integers(1, 257))
    src = int(rng.integers(0, len(data)))
    dst = int(rng.integers(0, len(data)))
    chunk = bytes(data[src : src + length])
    data[dst:dst] = chunk
    return f"chunk_dup({src}+{len(chunk)}->{dst})"


def _m_chunk_del(data: bytearray, rng: np.random.Generator) -> str:
    length = int(rng.integers(1, 257))
    start = int(rng.integers(0, len(data)))
    del data[start : start + length]
    return f"chunk_del({start}+{length})"


def _m_ifd_offset(data: bytearray, rng: np.random.Generator) -> str:
    layout = _layout(data)
    if layout is None:
        return _m_byte_set(data, rng)
    width = 8 if layout.big else 4
    targets = [layout.first_ifd_pos, *layout.next_pointer_pos]
    pos = int(_pick(targets, rng))
    choices = [
        *_INTERESTING,
        len(data),
        len(data) - 1,
        len(data) - 2,
        *(layout.ifds or (8,)),  # a cycle, or a repeat of the first IFD
        *(o + 2 for o in layout.ifds),  # into the middle of an IFD
        int(rng.integers(0, len(data))),
    ]
    value = int(_pick(choices, rng))
    _put(data, pos, value, width, layout.order)
    return f"ifd_offset(@{pos}={value:#x})"


def _entry(data: bytearray, rng: np.random.Generator) -> tuple[_Layout, _Entry] | None:
    layout = _layout(data)
    if layout is None or not layout.entries:
        return None
    key = [e for e in layout.entries if e.code in _KEY_TAGS]
    pool = key if key and rng.random() < 0.7 else list(layout.entries)
    return layout, _pick(pool, rng)


def _m_tag_code(data: bytearray, rng: np.random.Generator) -> str:
    found = _entry(data, rng)
    if found is None:
        return _m_bitflip(data, rng)
    layout, entry = found
    code = int(_pick((*_KEY_TAGS, 34682, 34118, 50431, 40092, 270, 0, 0xFFFF, int(rng.integers(0, 65536))), rng))
    _put(data, entry.pos, code, 2, layout.order)
    return f"tag_code({entry.code}->{code})"


def _m_tag_type(data: bytearray, rng: np.random.Generator) -> str:
    found = _entry(data, rng)
    if found is None:
        return _m_bitflip(data, rng)
    layout, entry = found
    dtype = int(rng.integers(0, 20)) if rng.random() < 0.8 else int(_pick((0, 0xFFFF, 13, 16, 17, 18), rng))
    _put(data, entry.pos + 2, dtype, 2, layout.order)
    return f"tag_type({entry.code}:{entry.dtype}->{dtype})"


def _m_tag_count(data: bytearray, rng: np.random.Generator) -> str:
    found = _entry(data, rng)
    if found is None:
        return _m_bitflip(data, rng)
    layout, entry = found
    count = int(
        _pick((*_INTERESTING, entry.count + 1, max(entry.count - 1, 0), entry.count * 2, entry.count * 1000), rng)
    )
    _put(data, entry.count_pos, count, 8 if entry.big else 4, layout.order)
    return f"tag_count({entry.code}:{entry.count}->{count})"


def _m_tag_value(data: bytearray, rng: np.random.Generator) -> str:
    found = _entry(data, rng)
    if found is None:
        return _m_bitflip(data, rng)
    layout, entry = found
    width = 8 if entry.big else 4
    choices: list[int] = [*_INTERESTING, len(data), len(data) - 1, int(rng.integers(0, len(data)))]
    if entry.code in (256, 257, 278, 322, 323, 32997, 32998):  # sizes
        choices += [5, 15, 17, 31, 100_000, 65_535, 1 << 20, 1 << 31]
    elif entry.code == 259:
        choices += list(_COMPRESSIONS)
    elif entry.code == 262:
        choices += [*range(12), 32844, 32845, 34892]
    elif entry.code == 258:
        choices += [1, 2, 4, 12, 16, 24, 32, 64, 128]
    elif entry.code == 339:
        choices += [1, 2, 3, 4, 5, 6, 7]
    value = int(_pick(choices, rng))
    # SHORT values sit in the first 2 bytes of the field; LONG/LONG8 use the whole field.
    size = 2 if entry.dtype in (3, 8) and entry.count == 1 and rng.random() < 0.8 else width
    _put(data, entry.value_pos, value, size, layout.order)
    return f"tag_value({entry.code}={value:#x})"


def _m_ifd_count(data: bytearray, rng: np.random.Generator) -> str:
    layout = _layout(data)
    if layout is None or not layout.ifds:
        return _m_byte_set(data, rng)
    pos = int(_pick(layout.ifds, rng))
    n = int(_pick((0, 1, 2, 0xFF, 0xFFFF, 0x7FFF, int(rng.integers(0, 64))), rng))
    _put(data, pos, n, 8 if layout.big else 2, layout.order)
    return f"ifd_count(@{pos}={n})"


def _m_entry_dup(data: bytearray, rng: np.random.Generator) -> str:
    layout = _layout(data)
    if layout is None or len(layout.entries) < 2:
        return _m_bitflip(data, rng)
    a, b = (_pick(layout.entries, rng) for _ in range(2))
    size = 20 if layout.big else 12
    data[b.pos : b.pos + size] = data[a.pos : a.pos + size]
    return f"entry_dup({a.code}->{b.code})"


_NUMBER = re.compile(rb"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")


def _garble_text(data: bytearray, rng: np.random.Generator) -> str | None:
    """Replace one number in the text parts of ``data`` by same-length garbage."""
    spans = [m.span() for m in _NUMBER.finditer(bytes(data)) if m.end() - m.start() >= 2]
    # prefer numbers in text: preceded by '=', ' ' or a newline
    text_spans = [s for s in spans if s[0] > 0 and data[s[0] - 1 : s[0]] in (b"=", b" ", b"\n", b"\t")]
    pool = text_spans or spans
    if not pool:
        return None
    start, end = _pick(pool, rng)
    garbage = str(_pick(_TEXT_GARBAGE, rng)).encode("latin-1")
    if rng.random() < 0.3:
        garbage = b"-" + bytes(data[start:end])[: max(end - start - 1, 0)]
    new = garbage[: end - start].ljust(end - start, b" ")
    old = bytes(data[start:end])
    data[start:end] = new
    return f"{old.decode('latin-1')!r}->{new.decode('latin-1')!r}"


def _m_text(data: bytearray, rng: np.random.Generator) -> str:
    detail = _garble_text(data, rng)
    if detail is None:
        return _m_bitflip(data, rng)
    return f"text({detail})"


MUTATIONS: dict[str, _Mutation] = {
    "bitflip": _m_bitflip,
    "byte_set": _m_byte_set,
    "truncate": _m_truncate,
    "chunk_dup": _m_chunk_dup,
    "chunk_del": _m_chunk_del,
    "ifd_offset": _m_ifd_offset,
    "ifd_count": _m_ifd_count,
    "tag_code": _m_tag_code,
    "tag_type": _m_tag_type,
    "tag_count": _m_tag_count,
    "tag_value": _m_tag_value,
    "entry_dup": _m_entry_dup,
    "text": _m_text,
}


# --------------------------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A mutated file, ready to be written: pure function of (seed, index)."""

    index: int
    seed_name: str
    data: bytes
    sidecar: bytes | None
    mutations: tuple[str, ...]
    pixel_size_m: float | None


def make_case(seed: int, index: int, seeds: Sequence[Seed]) -> Case:
    """Case ``index`` of run ``seed``: a seed file with 1-3 mutations (sidecar sometimes)."""
    rng = np.random.default_rng([seed, index])
    base = seeds[int(rng.integers(len(seeds)))]
    data = bytearray(base.data)
    sidecar = bytearray(base.sidecar) if base.sidecar is not None else None
    names = list(MUTATIONS)
    done: list[str] = []
    for _ in range(int(rng.choice([1, 1, 2, 3]))):
        if sidecar is not None and rng.random() < 0.25:
            detail = _garble_text(sidecar, rng) if rng.random() < 0.7 else _m_bitflip(sidecar, rng)
            done.append(f"sidecar_text({detail})")
            continue
        if not data:
            break
        kind = _pick(names, rng)
        done.append(MUTATIONS[kind](data, rng))
    pixel_size_m = 2.5e-9 if rng.random() < 0.3 else None  # also exercise the path past the scale
    return Case(index, base.name, bytes(data), None if sidecar is None else bytes(sidecar), tuple(done), pixel_size_m)


class _CaseTimeout(BaseException):
    """Raised by the alarm in a case over its time limit (BaseException: no wrapper catches it)."""


def _on_alarm(signum, frame):  # pragma: no cover - only on a hang
    raise _CaseTimeout


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _check_ok(m) -> str:
    """Return what is wrong with a successful read ('' when nothing)."""
    pixels = m.pixels
    if pixels.ndim != 2 or not (np.issubdtype(pixels.dtype, np.integer) or np.issubdtype(pixels.dtype, np.floating)):
        return f"pixels {pixels.shape} {pixels.dtype} are not a 2-D real image"
    if not (isinstance(m.pixel_size_m, float) and math.isfinite(m.pixel_size_m) and m.pixel_size_m > 0):
        return f"pixel size {m.pixel_size_m!r} is not a finite float > 0"
    if not 0 <= m.databar_rows < pixels.shape[0]:
        return f"databar rows {m.databar_rows} out of range for {pixels.shape[0]} rows"
    json.dumps(micrograph_info(m), allow_nan=False)
    json.dumps(m.metadata, allow_nan=False)
    return ""


def run_case(
    case: Case, folder: Path, *, timeout_s: float = CASE_TIMEOUT_S, max_rss_jump_mb: float = MAX_RSS_JUMP_MB
) -> CaseResult:
    """Write ``case`` to ``folder/case.tif`` (and ``case.txt``) and read it; classify the outcome."""
    tif = folder / "case.tif"
    txt = folder / "case.txt"
    tif.write_bytes(case.data)
    if case.sidecar is not None:
        txt.write_bytes(case.sidecar)
    elif txt.exists():
        txt.unlink()
    use_alarm = timeout_s > 0 and hasattr(signal, "setitimer") and _is_main_thread()
    if use_alarm:
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout_s)
    rss_before = _max_rss_mb()
    start = time.perf_counter()
    outcome, error_type, message = "ok", "", ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            m = read_micrograph(tif, pixel_size_m=case.pixel_size_m, max_pixels=FUZZ_MAX_PIXELS)
            problem = _check_ok(m)
            if problem:
                outcome, error_type, message = "failure", "InvariantBroken", problem
        except _CaseTimeout:
            outcome, error_type, message = "failure", "Timeout", f"case took more than {timeout_s:g} s"
        except MorphoError as exc:
            text = str(exc)
            outcome, error_type, message = "morpho", type(exc).__name__, text
            if not text.strip() or "\n" in text or "\r" in text:
                outcome = "failure"
                message = f"MorphoError message is not one non-empty line: {text!r}"
            elif isinstance(exc.__cause__, MemoryError):
                outcome = "failure"
                message = f"MemoryError behind {text}"
        except Exception as exc:  # every other exception type is what the fuzzer looks for
            outcome, error_type, message = "failure", type(exc).__name__, f"{exc}"[:500]
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
    elapsed = time.perf_counter() - start
    jump = _max_rss_mb() - rss_before
    if jump > max_rss_jump_mb and outcome != "failure":
        outcome, error_type, message = "failure", "MemoryJump", f"peak RSS rose by {jump:.0f} MiB"
    caught_names = tuple(sorted(w.category.__name__ for w in caught))
    reader_errors = tuple(_READER_ERRORS)
    _READER_ERRORS.clear()
    return CaseResult(
        case.index, case.seed_name, case.mutations, outcome, error_type, message, caught_names, elapsed, reader_errors
    )


#: Exceptions raised inside vendor readers during the current case (morpho turns them into notes).
_READER_ERRORS: list[str] = []


def _recording(label: str, reader: Callable) -> Callable:
    def wrapper(ctx):
        try:
            return reader(ctx)
        except Exception as exc:
            frame = exc.__traceback__
            while frame is not None and frame.tb_next is not None:
                frame = frame.tb_next
            where = f"{Path(frame.tb_frame.f_code.co_filename).name}:{frame.tb_lineno}" if frame else "?"
            _READER_ERRORS.append(f"{label} {type(exc).__name__} at {where}")
            raise

    return wrapper


def _is_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def iter_results(
    cases: int,
    seed: int,
    *,
    start: int = 0,
    timeout_s: float = CASE_TIMEOUT_S,
    max_rss_jump_mb: float = MAX_RSS_JUMP_MB,
) -> Iterator[CaseResult]:
    """Run cases ``start .. start + cases - 1`` of run ``seed`` and yield their results."""
    seeds = make_seeds()
    tifffile_log = logging.getLogger("tifffile")
    level, propagate = tifffile_log.level, tifffile_log.propagate
    tifffile_log.setLevel(logging.CRITICAL)  # corrupt files make tifffile log on every case
    # Vendor readers run under a safety net that turns their exceptions into notes; record them so
    # that a parser crashing on bad metadata is reported (the behaviour is unchanged).
    readers = _vendors._READERS
    _vendors._READERS = tuple((label, _recording(label, fn)) for label, fn in readers)
    try:
        with tempfile.TemporaryDirectory(prefix="morpho-fuzz-") as tmp:
            for index in range(start, start + cases):
                case = make_case(seed, index, seeds)
                yield run_case(case, Path(tmp), timeout_s=timeout_s, max_rss_jump_mb=max_rss_jump_mb)
    finally:
        _vendors._READERS = readers
        tifffile_log.setLevel(level)
        tifffile_log.propagate = propagate


def run(cases: int, seed: int, *, start: int = 0, timeout_s: float = CASE_TIMEOUT_S) -> FuzzReport:
    """Run ``cases`` cases of run ``seed``; return the report."""
    report = FuzzReport(seed=seed)
    t0 = time.perf_counter()
    for result in iter_results(cases, seed, start=start, timeout_s=timeout_s):
        report.add(result)
    report.elapsed_s = time.perf_counter() - t0
    return report


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------


def _format_counter(counter: Counter, keys: Sequence[str] = ("ok", "morpho", "failure")) -> str:
    return "  ".join(f"{k}={counter.get(k, 0)}" for k in keys)


def format_report(report: FuzzReport, *, max_failures: int = 50) -> str:
    """The human-readable summary printed by the command line."""
    lines = [
        f"fuzz_tiff: {report.cases} cases, seed {report.seed}, {report.elapsed_s:.1f} s "
        f"({1e3 * report.elapsed_s / max(report.cases, 1):.1f} ms/case)",
        f"outcomes: {_format_counter(report.outcomes)}",
        "per mutation kind (a case with several kinds counts under each):",
    ]
    width = max((len(k) for k in report.by_mutation), default=0)
    for kind in sorted(report.by_mutation):
        lines.append(f"  {kind:<{width}}  {_format_counter(report.by_mutation[kind])}")
    lines.append("per seed file:")
    width = max((len(k) for k in report.by_seed), default=0)
    for name in sorted(report.by_seed):
        lines.append(f"  {name:<{width}}  {_format_counter(report.by_seed[name])}")
    if report.error_types:
        lines.append("error types: " + ", ".join(f"{k}={v}" for k, v in report.error_types.most_common()))
    if report.warning_types:
        lines.append("warnings: " + ", ".join(f"{k}={v}" for k, v in report.warning_types.most_common()))
    if report.reader_errors:
        lines.append("exceptions inside vendor readers (caught by morpho, noted, not failures):")
        lines += [f"  {n} x {k}" for k, n in report.reader_errors.most_common()]
    if report.slowest is not None:
        lines.append(f"slowest case: #{report.slowest.index} ({report.slowest.elapsed_s * 1e3:.0f} ms)")
    if report.failures:
        lines.append(f"FAILURES ({len(report.failures)}):")
        for f in report.failures[:max_failures]:
            lines.append(
                f"  #{f.index} [{f.seed_name}] {', '.join(f.mutations)}\n"
                f"      {f.error_type}: {f.message}\n"
                f"      reproduce: python tools/fuzz_tiff.py --seed {report.seed} --replay {f.index} --save DIR"
            )
        if len(report.failures) > max_failures:
            lines.append(f"  ... and {len(report.failures) - max_failures} more")
    else:
        lines.append("no failures")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fuzz_tiff", description="Seeded TIFF-mutation fuzzer for morpho.io.read_micrograph."
    )
    parser.add_argument("--cases", type=int, default=1000, help="number of cases (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="run seed (default 0)")
    parser.add_argument("--start", type=int, default=0, help="first case index (default 0)")
    parser.add_argument("--timeout", type=float, default=CASE_TIMEOUT_S, help="seconds per case (0: none)")
    parser.add_argument("--replay", type=int, metavar="INDEX", help="rerun one case and show its traceback")
    parser.add_argument("--save", type=Path, metavar="DIR", help="with --replay: write the case's files to DIR")
    parser.add_argument(
        "--max-memory-mb",
        type=int,
        default=0,
        help="cap the process's address space (RLIMIT_AS) so a huge allocation fails (0: no cap)",
    )
    return parser


def _replay(seed: int, index: int, save: Path | None) -> int:
    import traceback

    case = make_case(seed, index, make_seeds())
    out = sys.stdout
    out.write(f"case #{index} [{case.seed_name}] {', '.join(case.mutations)} pixel_size_m={case.pixel_size_m}\n")
    with tempfile.TemporaryDirectory(prefix="morpho-fuzz-") as tmp:
        folder = Path(tmp) if save is None else save
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "case.tif").write_bytes(case.data)
        if case.sidecar is not None:
            (folder / "case.txt").write_bytes(case.sidecar)
        try:
            m = read_micrograph(folder / "case.tif", pixel_size_m=case.pixel_size_m, max_pixels=FUZZ_MAX_PIXELS)
        except MorphoError as exc:
            out.write(f"morpho: {type(exc).__name__}: {exc}\n")
            return 0
        except Exception:
            traceback.print_exc()
            return 1
        out.write(f"ok: {json.dumps(micrograph_info(m))}\n")
        if save is not None:
            out.write(f"saved to {folder}\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fuzzer; return 0 when no case failed, 1 otherwise (2 for bad arguments)."""
    args = _parser().parse_args(argv)
    if args.cases < 0 or args.timeout < 0:
        sys.stderr.write("fuzz_tiff: --cases and --timeout must be >= 0\n")
        return 2
    if args.max_memory_mb:
        limit = args.max_memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    if args.replay is not None:
        return _replay(args.seed, args.replay, args.save)
    report = run(args.cases, args.seed, start=args.start, timeout_s=args.timeout)
    sys.stdout.write(format_report(report) + "\n")
    return 1 if report.failures else 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
