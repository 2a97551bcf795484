"""Hostile and corrupt TIFFs: the fuzz harness, the pixel budget and decompression bombs.

* ``tools/fuzz_tiff.py`` (imported by path: it is a developer tool, not package code) runs a
  few hundred seeded mutation cases; every one must end in a result or a one-line
  :class:`~morpho.errors.MorphoError`.
* :data:`morpho.io.DEFAULT_MAX_PIXELS`: a header declaring a huge image is refused before any
  pixel is decoded, without a large allocation.
* Codec streams that declare more pixels than the TIFF header (PNG, JPEG) are corrupt; codecs
  whose memory use the budget cannot bound are refused while a budget is set.
* One regression file per bug the fuzzer found, crafted by patching an IFD entry.
"""

from __future__ import annotations

import importlib.util
import inspect
import io
import struct
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import imagecodecs
import numpy as np
import pytest
import tifffile

from morpho.errors import InputError, MicrographReadError, MorphoError
from morpho.io import DEFAULT_MAX_PIXELS, read_micrograph

FUZZ_TOOL = Path(__file__).resolve().parents[2] / "tools" / "fuzz_tiff.py"
PX = 2.5e-9
# Reading a refused file must not allocate anything near the declared image: the file itself is
# a few kB and tifffile's parsed header a few tens of kB, so 8 MiB is a generous ceiling.
MAX_REFUSAL_PEAK_BYTES = 8 * 2**20
# A refusal is a header check: well under a second even on a loaded CI machine.
MAX_REFUSAL_S = 1.0

IMAGE = (np.arange(40 * 48, dtype=np.uint32).reshape(40, 48) * 2654435761 % 251).astype(np.uint8)


@pytest.fixture(scope="module")
def fuzz():
    """The harness module, loaded from tools/fuzz_tiff.py."""
    spec = importlib.util.spec_from_file_location("fuzz_tiff", FUZZ_TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def _tiff(image: np.ndarray = IMAGE, **options) -> bytearray:
    buf = io.BytesIO()
    tifffile.imwrite(buf, image, metadata=None, **options)
    return bytearray(buf.getvalue())


def _patch(
    data: bytearray,
    code: int,
    *,
    dtype: int | None = None,
    count: int | None = None,
    value: int | None = None,
    value_format: str = "<I",
) -> bytearray:
    """Overwrite fields of the classic little-endian IFD entry of tag `code` in page 0."""
    with tifffile.TiffFile(io.BytesIO(bytes(data))) as tif:
        pos = tif.pages[0].tags[code].offset  # the 12-byte entry: code, type, count, value
    if dtype is not None:
        struct.pack_into("<H", data, pos + 2, dtype)
    if count is not None:
        struct.pack_into("<I", data, pos + 4, count)
    if value is not None:
        struct.pack_into(value_format, data, pos + 8, value)
    return data


def _read_refused(path: Path, **kwargs) -> tuple[MorphoError, int, float]:
    """Read `path` expecting a MorphoError; return it, the traced peak bytes and the seconds taken."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(MorphoError) as info:
            read_micrograph(path, pixel_size_m=PX, **kwargs)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "\n" not in str(info.value)
    return info.value, peak, elapsed


# ------------------------------------------------------------------------------------------
# the fuzz harness
# ------------------------------------------------------------------------------------------


def test_fuzz_300_seeded_cases_give_only_results_or_morpho_errors(fuzz):
    report = fuzz.run(300, seed=20240601)
    assert report.cases == 300
    assert not report.failures, fuzz.format_report(report)
    # Both outcomes occur, so the cases reach past the header and into the error paths.
    assert report.outcomes["ok"] > 0
    assert report.outcomes["morpho"] > 0


def test_fuzz_cases_are_a_pure_function_of_seed_and_index(fuzz):
    seeds = fuzz.make_seeds()
    assert fuzz.make_case(7, 123, seeds) == fuzz.make_case(7, 123, seeds)
    assert fuzz.make_case(7, 123, seeds) != fuzz.make_case(7, 124, seeds)


def test_fuzz_seeds_are_small_valid_micrographs(fuzz, tmp_path):
    seeds = fuzz.make_seeds()
    assert len({s.name for s in seeds}) == len(seeds) >= 20
    for seed in seeds:
        path = tmp_path / f"{seed.name}.tif"
        path.write_bytes(seed.data)
        if seed.sidecar is not None:
            path.with_suffix(".txt").write_bytes(seed.sidecar)
        if seed.name == "volume-u8":  # the seed for the "3-D stack" refusal
            with pytest.raises(InputError, match="3-D stack"):
                read_micrograph(path, pixel_size_m=PX)
            continue
        if seed.name == "stack-u8":  # the seed for the refusal of a stack of pages
            with pytest.raises(InputError, match="is a 3-D stack of 3 images"):
                read_micrograph(path, pixel_size_m=PX)
            continue
        with warnings.catch_warnings():
            if seed.name.startswith(("rgb", "multipage", "jpeg")):  # colour and page-count warnings
                warnings.simplefilter("ignore", UserWarning)
            m = read_micrograph(path, pixel_size_m=PX, max_pixels=fuzz.FUZZ_MAX_PIXELS)
        assert max(m.shape_px) <= 128


@pytest.mark.parametrize(
    "kind",
    [
        "bitflip",
        "byte_set",
        "truncate",
        "chunk_del",
        "ifd_offset",
        "ifd_count",
        "tag_code",
        "tag_type",
        "tag_count",
        "tag_value",
        "entry_dup",
        "text",
    ],
)
def test_fuzz_mutations_change_the_file(fuzz, kind):
    seed = next(s for s in fuzz.make_seeds() if s.name == "fei")
    changed = 0
    for i in range(20):
        data = bytearray(seed.data)
        fuzz.MUTATIONS[kind](data, np.random.default_rng(i))
        changed += bytes(data) != seed.data
    assert changed >= 15  # a few random draws may rewrite a byte with its own value


def test_fuzz_run_case_flags_a_non_morpho_exception_as_failure(fuzz, monkeypatch, tmp_path):
    def broken_reader(*args, **kwargs):
        msg = "a bug"
        raise KeyError(msg)

    monkeypatch.setattr(fuzz, "read_micrograph", broken_reader)
    case = fuzz.make_case(0, 0, fuzz.make_seeds())
    result = fuzz.run_case(case, tmp_path)
    assert (result.outcome, result.error_type) == ("failure", "KeyError")


def test_fuzz_run_case_flags_a_multiline_morpho_error_as_failure(fuzz, monkeypatch, tmp_path):
    def reader(*args, **kwargs):
        msg = "two\nlines"
        raise InputError(msg)

    monkeypatch.setattr(fuzz, "read_micrograph", reader)
    result = fuzz.run_case(fuzz.make_case(0, 1, fuzz.make_seeds()), tmp_path)
    assert result.outcome == "failure"
    assert "not one non-empty line" in result.message


def test_fuzz_main_prints_counts_and_returns_0(fuzz, capsys):
    assert fuzz.main(["--cases", "25", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "fuzz_tiff: 25 cases, seed 3" in out
    assert "outcomes: ok=" in out
    assert "per mutation kind" in out
    assert "no failures" in out


def test_fuzz_main_replay_saves_the_case(fuzz, capsys, tmp_path):
    assert fuzz.main(["--seed", "3", "--replay", "4", "--save", str(tmp_path)]) == 0
    assert (tmp_path / "case.tif").is_file()
    assert capsys.readouterr().out.startswith("case #4 [")


def test_fuzz_main_returns_1_on_failure(fuzz, monkeypatch, capsys):
    def broken_reader(*args, **kwargs):
        msg = "a bug"
        raise KeyError(msg)

    monkeypatch.setattr(fuzz, "read_micrograph", broken_reader)
    assert fuzz.main(["--cases", "3", "--seed", "0"]) == 1
    out = capsys.readouterr().out
    assert "FAILURES (3)" in out
    assert "reproduce: python tools/fuzz_tiff.py --seed 0 --replay 0" in out


# ------------------------------------------------------------------------------------------
# pixel budget
# ------------------------------------------------------------------------------------------


def test_default_max_pixels_is_2_to_the_29_and_the_default_of_read_micrograph():
    assert DEFAULT_MAX_PIXELS == 2**29 == 536_870_912
    assert inspect.signature(read_micrograph).parameters["max_pixels"].default == DEFAULT_MAX_PIXELS


def test_read_micrograph_huge_declared_image_is_refused_fast_without_allocating(tmp_path):
    path = tmp_path / "huge.tif"
    data = _patch(_tiff(), 256, value=100_000)
    path.write_bytes(_patch(data, 257, value=100_000))
    assert path.stat().st_size < 4096
    error, peak, elapsed = _read_refused(path)
    assert isinstance(error, InputError)
    assert str(error) == (
        "huge.tif declares 100000 x 100000 px (1e+10 values), above the pixel budget of 536870912 px; "
        "crop or bin the image, or raise the budget with --max-pixels (max_pixels= in Python)"
    )
    assert peak < MAX_REFUSAL_PEAK_BYTES
    assert elapsed < MAX_REFUSAL_S


def test_read_micrograph_budget_counts_rows_cols_and_samples(tmp_path):
    rgb = np.stack([IMAGE, IMAGE[::-1], IMAGE[:, ::-1]], axis=-1)
    path = tmp_path / "rgb.tif"
    path.write_bytes(_tiff(rgb, photometric="rgb"))
    with pytest.raises(InputError, match=r"declares 40 x 48 px x 3 samples \(5\.76e\+03 values\), above the pixel"):
        read_micrograph(path, pixel_size_m=PX, max_pixels=40 * 48 * 3 - 1)
    with pytest.warns(UserWarning, match="colour RGB image"):
        m = read_micrograph(path, pixel_size_m=PX, max_pixels=40 * 48 * 3)
    assert m.shape_px == (40, 48)


def test_read_micrograph_budget_boundary_and_none(tmp_path):
    path = tmp_path / "g.tif"
    path.write_bytes(_tiff())
    assert read_micrograph(path, pixel_size_m=PX, max_pixels=IMAGE.size).shape_px == IMAGE.shape
    assert read_micrograph(path, pixel_size_m=PX, max_pixels=None).shape_px == IMAGE.shape
    with pytest.raises(InputError, match="declares 40 x 48 px"):
        read_micrograph(path, pixel_size_m=PX, max_pixels=IMAGE.size - 1)


def test_read_micrograph_budget_applies_to_each_tile(tmp_path):
    path = tmp_path / "t.tif"
    path.write_bytes(_tiff(IMAGE[:20, :20], tile=(32, 32)))  # one 32 x 32 tile holds a 20 x 20 image
    with pytest.raises(
        InputError, match=r"declares tiles of 32 x 32 \(1\.02e\+03 values each\), above the pixel budget"
    ):
        read_micrograph(path, pixel_size_m=PX, max_pixels=500)


def test_read_micrograph_huge_declared_tiles_are_refused_fast(tmp_path):
    path = tmp_path / "tiles.tif"
    data = _patch(_tiff(IMAGE[:32, :32], tile=(16, 16)), 322, value=1 << 20)
    path.write_bytes(_patch(data, 323, value=1 << 20))
    error, peak, elapsed = _read_refused(path)
    assert isinstance(error, InputError)
    assert "declares tiles of 1048576 x 1048576" in str(error)
    assert peak < MAX_REFUSAL_PEAK_BYTES
    assert elapsed < MAX_REFUSAL_S


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "100", np.float64(10)])
def test_read_micrograph_bad_max_pixels_raises_inputerror(tmp_path, bad):
    path = tmp_path / "g.tif"
    path.write_bytes(_tiff())
    with pytest.raises(InputError, match=r"max_pixels must be a positive integer or None, got .*; give e\.g\."):
        read_micrograph(path, pixel_size_m=PX, max_pixels=bad)


# ------------------------------------------------------------------------------------------
# decompression bombs: codec streams larger than the header says
# ------------------------------------------------------------------------------------------


def _with_strip(data: bytearray, stream: bytes) -> bytearray:
    """Replace the single strip of `data` by `stream` (placed at the end of the file)."""
    with tifffile.TiffFile(io.BytesIO(bytes(data))) as tif:
        tags = tif.pages[0].tags
        offset_pos, count_pos = tags[273].valueoffset, tags[279].valueoffset
        assert tags[273].count == 1
    out = bytearray(data) + stream
    struct.pack_into("<I", out, offset_pos, len(data))
    struct.pack_into("<I", out, count_pos, len(stream))
    return out


@pytest.mark.parametrize(
    ("codec", "encode", "kind"),
    [("png", imagecodecs.png_encode, "PNG"), ("jpeg", imagecodecs.jpeg8_encode, "JPEG")],
)
def test_read_micrograph_codec_stream_larger_than_header_is_refused(tmp_path, codec, encode, kind):
    stream = encode(np.zeros((3000, 3000), np.uint8))  # 9 Mpx behind a 40 x 48 px header
    path = tmp_path / f"bomb_{codec}.tif"
    path.write_bytes(_with_strip(_tiff(compression=codec), stream))
    error, peak, elapsed = _read_refused(path)
    assert isinstance(error, MicrographReadError)
    assert f"segment 0 holds a {kind} image of 3000 x 3000 px, larger than the 40 x 48 px its header" in str(error)
    assert peak < MAX_REFUSAL_PEAK_BYTES + 2 * len(stream)  # the file's bytes are read once
    assert elapsed < MAX_REFUSAL_S


@pytest.mark.parametrize("codec", ["png", "jpeg"])
@pytest.mark.parametrize("tile", [None, (16, 16)])
def test_read_micrograph_png_and_jpeg_tiffs_still_read(tmp_path, codec, tile):
    path = tmp_path / "c.tif"
    path.write_bytes(_tiff(compression=codec, tile=tile))
    assert read_micrograph(path, pixel_size_m=PX).shape_px == IMAGE.shape


def test_read_micrograph_unbounded_codec_is_refused_under_a_budget(tmp_path):
    lerc = imagecodecs.lerc_encode(np.zeros((4000, 4000), np.uint8))  # ~100 bytes for 16 Mpx
    path = tmp_path / "lerc.tif"
    path.write_bytes(_with_strip(_tiff(compression="lerc"), lerc))
    error, peak, elapsed = _read_refused(path)
    assert isinstance(error, InputError)
    assert str(error) == (
        "lerc.tif uses LERC compression (code 34887), whose decoder's memory use the pixel budget cannot bound; "
        "convert it to an uncompressed, LZW or deflate TIFF, or read it with max_pixels=None"
    )
    assert peak < MAX_REFUSAL_PEAK_BYTES
    assert elapsed < MAX_REFUSAL_S


def test_read_micrograph_unbounded_codec_reads_without_a_budget(tmp_path):
    path = tmp_path / "lerc.tif"
    path.write_bytes(_tiff(compression="lerc"))
    m = read_micrograph(path, pixel_size_m=PX, max_pixels=None)
    np.testing.assert_array_equal(m.pixels, IMAGE)


# ------------------------------------------------------------------------------------------
# regressions: one crafted file per bug the fuzzer found (each used to escape as a non-morpho
# exception: IndexError, TypeError, ValueError or OverflowError)
# ------------------------------------------------------------------------------------------


def _zero_width() -> bytearray:
    return _patch(_tiff(), 256, value=0)


def _photometric_two_values() -> bytearray:
    return _patch(_tiff(), 262, count=2)


def _photometric_as_text() -> bytearray:
    return _patch(_tiff(), 262, dtype=2, count=2, value=0x31, value_format="<H")  # "1"


def _width_as_rational() -> bytearray:
    return _patch(_tiff(), 256, dtype=5)


def _short_colormap() -> bytearray:
    cmap = np.tile(np.arange(256, dtype=np.uint16) * 257, (3, 1))
    return _patch(_tiff(photometric="palette", colormap=cmap), 320, count=7)


def _offsets_as_long8() -> bytearray:
    data = _patch(_tiff(), 273, dtype=16)  # LONG8 in a classic TIFF: read from an 'offset'
    with tifffile.TiffFile(io.BytesIO(bytes(data))) as tif:
        pos = tif.pages[0].tags[273].valueoffset
    struct.pack_into("<Q", data, pos, 0xFFFF_FFFF_FFFF_FFFF)  # 2**64 - 1: overflowed int64
    return data


def _extrasamples_as_text() -> bytearray:
    grey_alpha = np.stack([IMAGE, IMAGE], axis=-1)
    data = _tiff(grey_alpha, photometric="minisblack", planarconfig="contig", extrasamples=[2])
    return _patch(data, 338, dtype=2, count=2, value=0x74, value_format="<H")  # "t"


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (_zero_width, MicrographReadError, r"declares an empty image \(40 x 0 px"),
        (
            _photometric_two_values,
            MicrographReadError,
            r"colour model \(PhotometricInterpretation\) as .*not one number",
        ),
        (_photometric_as_text, MicrographReadError, r"colour model \(PhotometricInterpretation\) as '1', not whole"),
        (_width_as_rational, MicrographReadError, r"gives the image size as .*, not whole numbers"),
        (_short_colormap, MicrographReadError, r"palette colour map has shape \(7,\), not 3 x entries"),
        (_offsets_as_long8, MicrographReadError, r"truncated|corrupt"),
        (_extrasamples_as_text, MicrographReadError, r"extra samples \(ExtraSamples\) as 't', not whole numbers"),
    ],
)
def test_read_micrograph_fuzzer_regressions_raise_one_line_morpho_errors(tmp_path, make, error, match):
    path = tmp_path / "r.tif"
    path.write_bytes(make())
    with pytest.raises(error, match=match) as info:
        read_micrograph(path, pixel_size_m=PX)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("r.tif ")
    assert str(info.value).endswith("again")


def test_read_micrograph_unsupported_pixel_format_is_refused_before_decoding(tmp_path):
    path = tmp_path / "bits.tif"
    path.write_bytes(_patch(_tiff(), 258, value=528, value_format="<H"))  # 528 bits per sample
    with pytest.raises(InputError, match=r"bits\.tif: its pixel format \(528 bits per sample, sample format 1\) is"):
        read_micrograph(path, pixel_size_m=PX)


@pytest.mark.parametrize("max_pixels", [DEFAULT_MAX_PIXELS, None])
def test_read_micrograph_unknown_compression_raises_inputerror(tmp_path, max_pixels):
    path = tmp_path / "codec.tif"
    path.write_bytes(_patch(_tiff(), 259, value=24, value_format="<H"))
    with pytest.raises(
        InputError, match=r"codec\.tif uses an unknown compression \(code 24\), or its header is corrupt"
    ):
        read_micrograph(path, pixel_size_m=PX, max_pixels=max_pixels)
