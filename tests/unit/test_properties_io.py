"""Property tests (Hypothesis) for unit parsing and for the vendor metadata parsers.

The input spaces here are genuinely combinatorial (unit spellings, arbitrary metadata text),
which is where STYLE §4.5 allows Hypothesis.  Every test is bounded (``max_examples`` 50-200,
``deadline=None``, ``derandomize=True``), so the module runs in a few seconds.

Properties:

* units: ``format_length`` -> ``parse_length`` round trip; every unit spelling gives the SI
  value; any text gives a finite value > 0 or the documented morpho error, never another
  exception; zero, negative, NaN and infinite values raise.
* vendor parsers: any metadata text gives a valid (finite, > 0, plausible) pixel size or none,
  never an exception; numbers written by :func:`morpho.vendor_tiff.write_sem_tiff` are read
  back exactly; non-numeric, zero, negative, NaN and infinite pixel sizes give the clean
  :class:`~morpho.errors.PixelSizeError` (CLI exit code 2) when no other source exists.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import tifffile
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from morpho.cli import main
from morpho.errors import ConfigError, InputError, MorphoError, PixelSizeError
from morpho.io import read_micrograph
from morpho.io._vendors import (
    _PLAUSIBLE_PIXEL_M,
    _decode_text,
    _ini_keys,
    _ini_sections,
    _length_m,
    _positive_float,
    _unit_m,
    _zeiss_length,
)
from morpho.units import LENGTH_UNITS_M, OERSTED_T, format_length, parse_field, parse_length, parse_resistance
from morpho.vendor_tiff import (
    SEM_VENDORS,
    encode_tag_text,
    fei_ini_text,
    hitachi_text,
    tescan_blob,
    write_sem_tiff,
    zeiss_cz_sem_text,
)

FAST = settings(max_examples=100, deadline=None, derandomize=True)
# Each file-level example writes and reads one small TIFF (a few ms).
FILES = settings(
    max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# format_length keeps 12 significant digits: the relative rounding is at most 5e-12.
RTOL_FORMAT = 1e-11
# Closed-form unit conversions: floating-point round-off only (STYLE §4.4).
RTOL_EXACT = 1e-12
# Pixel sizes written with full precision by write_sem_tiff; ImageJ stores XResolution as a
# 32-bit rational and JEOL's magnification with 12 digits, both far below this.
RTOL_ROUND_TRIP = 1e-9

IMAGE = (np.arange(40 * 48, dtype=np.uint32).reshape(40, 48) * 2654435761 % 251).astype(np.uint8)
ROWS, COLS = IMAGE.shape

# Text that is not a clean positive number: what a corrupt or hand-edited metadata block holds.
BAD_NUMBERS = ["abc", "", "0", "0.0", "-0", "-2.5e-09", "nan", "NaN", "inf", "-inf", "1e999", "1e-999"]
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
_NUMBERISH = st.one_of(
    st.sampled_from([*BAD_NUMBERS, "2,5e-9", "0x10", "1_0e-9", " 2.5e-9 ", "2.5e-9nm", "+3e-9", "\u0663e-9"]),
    st.floats().map(repr),
    st.floats(min_value=1e-12, max_value=1e-4).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    _TEXT,
)
_LINE_BREAKS = frozenset("\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def _expected_px(text: str, scale_m: float = 1.0) -> float | None:
    """The pixel size morpho should take from metadata `text` (a number in units of `scale_m`).

    None when the text is not a clean ASCII number, or the size is not finite, > 0 and within
    the plausible range (outside it, morpho treats the value as a unit mistake).
    """
    if not text.isascii() or _LINE_BREAKS & set(text):
        return None
    try:
        value = float(text.strip()) * scale_m
    except ValueError:
        return None
    if not (math.isfinite(value) and value > 0 and _PLAUSIBLE_PIXEL_M[0] <= value <= _PLAUSIBLE_PIXEL_M[1]):
        return None
    return value


def _pixel_size_or_none(path) -> float | None:
    """read_micrograph's pixel size, or None on PixelSizeError; every other exception propagates.

    UserWarnings (e.g. Zeiss scaling notes) are allowed; anything else is checked by the caller.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            m = read_micrograph(path)
    except PixelSizeError:
        return None
    px = m.pixel_size_m
    assert isinstance(px, float)
    assert math.isfinite(px)
    assert px > 0
    return px


def _value_or_error(func, arg, error: type[Exception]):
    """``func(arg)``, or the `error` it raised (any other exception propagates and fails the test)."""
    try:
        return func(arg)
    except error as exc:
        return exc


def _assert_one_line_error_or(result, error: type[Exception], *, minimum: float, strict: bool) -> None:
    """`result` is a one-line `error`, or a finite float above (or at, if not strict) `minimum`."""
    if isinstance(result, error):
        assert "\n" not in str(result)
        return
    assert math.isfinite(result)
    assert result > minimum if strict else result >= minimum


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("properties_io")


# ------------------------------------------------------------------------------------------
# units: parse_length, format_length
# ------------------------------------------------------------------------------------------


@FAST
@given(st.floats(min_value=1e-300, max_value=1e300, allow_nan=False, allow_infinity=False))
def test_parse_length_of_format_length_round_trips(value_m):
    assert parse_length(format_length(value_m)) == pytest.approx(value_m, rel=RTOL_FORMAT)


@FAST
@given(st.floats(min_value=1e-300, max_value=1e300, allow_nan=False, allow_infinity=False))
def test_format_length_negative_is_the_positive_with_a_sign(value_m):
    assert format_length(-value_m) == "-" + format_length(value_m)


@pytest.mark.parametrize(
    ("value", "text"), [(0.0, "0nm"), (math.nan, "nanm"), (math.inf, "infm"), (-math.inf, "-infm")]
)
def test_format_length_degenerate_values_are_formatted_and_not_parsed(value, text):
    assert format_length(value) == text
    with pytest.raises(ConfigError, match="length"):
        parse_length(text)


_UNIT_SPELLINGS = sorted(LENGTH_UNITS_M)


@FAST
@given(
    st.floats(min_value=1e-6, max_value=1e6),
    st.sampled_from(_UNIT_SPELLINGS),
    st.sampled_from(["", " ", "  ", "\t"]),
    st.sampled_from([str.lower, str.upper, str.title]),
)
def test_parse_length_any_unit_spelling_gives_the_si_value(value, unit, space, case):
    text = f"{value!r}{space}{case(unit)}"
    assert parse_length(text) == pytest.approx(value * LENGTH_UNITS_M[unit], rel=RTOL_EXACT)


@pytest.mark.parametrize(
    "spellings",
    [
        [
            "2.5nm",
            "2.5 nm",
            "0.0025um",
            "0.0025 \u00b5m",
            "0.0025\u03bcm",
            "0.0025 micron",
            "25\u00c5",
            "25 A",
            "25 angstrom",
            "2.5e-6 mm",
            "2.5e-9 m",
            "2500pm",
        ],
    ],
)
def test_parse_length_spellings_of_one_length_agree(spellings):
    values = [parse_length(s) for s in spellings]
    assert values == pytest.approx([2.5e-9] * len(values), rel=RTOL_EXACT)


@FAST
@given(st.one_of(_TEXT, _NUMBERISH, st.builds(lambda n, u: f"{n}{u}", _NUMBERISH, st.sampled_from(_UNIT_SPELLINGS))))
def test_parse_length_any_text_gives_a_positive_length_or_configerror(text):
    _assert_one_line_error_or(_value_or_error(parse_length, text, ConfigError), ConfigError, minimum=0, strict=True)


@FAST
@given(st.one_of(st.floats(), st.integers(min_value=-(10**400), max_value=10**400)))
def test_parse_length_any_number_with_default_unit_is_positive_or_configerror(number):
    try:
        expected = float(number) * 1e-9
    except OverflowError:  # an int beyond the float range
        expected = math.inf
    if math.isfinite(expected) and expected > 0:
        assert parse_length(number, default_unit="nm") == pytest.approx(expected, rel=RTOL_EXACT)
    else:
        with pytest.raises(ConfigError, match="must be finite and greater than zero"):
            parse_length(number, default_unit="nm")


@pytest.mark.parametrize("text", ["0nm", "-2.5nm", "-0 nm", "1e999 nm", "1e-999 nm", "nan nm", "inf nm", "-inf nm"])
def test_parse_length_zero_negative_nan_inf_raise_configerror(text):
    with pytest.raises(ConfigError, match="length"):
        parse_length(text)


@pytest.mark.parametrize("number", [0, -1.0, math.nan, math.inf, 10**400])
def test_parse_length_bad_number_without_unit_raises_configerror(number):
    with pytest.raises(ConfigError, match="has no unit"):
        parse_length(number)


# ------------------------------------------------------------------------------------------
# units: parse_field, parse_resistance
# ------------------------------------------------------------------------------------------

_FIELD_UNITS_T = {"T": 1.0, "mT": 1e-3, "uT": 1e-6, "Oe": OERSTED_T, "kOe": 1e3 * OERSTED_T, "G": OERSTED_T}


@FAST
@given(
    st.floats(min_value=0, max_value=1e6),
    st.sampled_from(sorted(_FIELD_UNITS_T)),
    st.sampled_from(["", " "]),
    st.sampled_from([str, str.lower, str.upper]),
)
def test_parse_field_any_unit_spelling_gives_tesla(value, unit, space, case):
    tesla = parse_field(f"{value!r}{space}{case(unit)}")
    # parse_field rounds to 1e-15 T (femtotesla), far below any field morpho uses.
    assert tesla == pytest.approx(value * _FIELD_UNITS_T[unit], rel=RTOL_EXACT, abs=1e-15)
    assert math.copysign(1.0, tesla) == 1.0  # never -0.0


@FAST
@given(
    st.one_of(_TEXT, _NUMBERISH, st.builds(lambda n, u: f"{n}{u}", _NUMBERISH, st.sampled_from(sorted(_FIELD_UNITS_T))))
)
def test_parse_field_any_text_gives_a_field_or_configerror(text):
    _assert_one_line_error_or(_value_or_error(parse_field, text, ConfigError), ConfigError, minimum=0, strict=False)


@FAST
@given(st.one_of(st.floats(), st.integers(min_value=-(10**400), max_value=10**400)))
def test_parse_field_bare_number_is_zero_or_configerror(number):
    if number == 0:
        assert parse_field(number) == 0.0
    else:
        with pytest.raises(ConfigError, match="field"):
            parse_field(number)


@pytest.mark.parametrize("text", ["-1T", "-300 Oe", "nan T", "inf T", "1e999 mT", "5", "300 furlongs"])
def test_parse_field_negative_nan_inf_bare_or_unknown_raise_configerror(text):
    with pytest.raises(ConfigError, match="field"):
        parse_field(text)


def test_parse_field_negative_zero_gives_positive_zero():
    assert math.copysign(1.0, parse_field("-0T")) == 1.0


_OHM_UNITS = {
    "": 1.0,
    "ohm": 1.0,
    "Ohm": 1.0,
    "kohm": 1e3,
    "kOhm": 1e3,
    "Mohm": 1e6,
    "MOhm": 1e6,
    "\u03a9": 1.0,
    "k\u03a9": 1e3,
    "M\u03a9": 1e6,
}


@FAST
@given(st.floats(min_value=1e-6, max_value=1e12), st.sampled_from(sorted(_OHM_UNITS)), st.sampled_from(["", " "]))
def test_parse_resistance_units_give_ohms(value, unit, space):
    assert parse_resistance(f"{value!r}{space}{unit}") == pytest.approx(value * _OHM_UNITS[unit], rel=RTOL_EXACT)


@FAST
@given(st.one_of(_TEXT, _NUMBERISH, st.floats(), st.integers(min_value=-(10**400), max_value=10**400)))
def test_parse_resistance_anything_gives_positive_ohms_or_inputerror(value):
    _assert_one_line_error_or(_value_or_error(parse_resistance, value, InputError), InputError, minimum=0, strict=True)


@pytest.mark.parametrize("text", ["0", "-5kOhm", "nan", "inf", "1e999 ohm", "5 mohm", "five"])
def test_parse_resistance_zero_negative_nan_inf_unknown_raise_inputerror(text):
    with pytest.raises(InputError, match="cannot read a resistance"):
        parse_resistance(text)


# ------------------------------------------------------------------------------------------
# vendor metadata helpers: any input gives a valid value or None, never an exception
# ------------------------------------------------------------------------------------------

_ANY_VALUE = st.one_of(
    _NUMBERISH,
    st.floats(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.binary(max_size=20),
    st.none(),
    st.booleans(),
    st.tuples(st.integers(), st.integers()),
    st.lists(st.floats(), max_size=3),
)


@FAST
@given(_ANY_VALUE)
def test_positive_float_is_finite_positive_or_none(value):
    number = _positive_float(value)
    assert number is None or (isinstance(number, float) and math.isfinite(number) and number > 0)


@FAST
@given(_ANY_VALUE, st.one_of(st.sampled_from([*_UNIT_SPELLINGS, "micrometer", "\\u00b5m", "px", ""]), _ANY_VALUE))
def test_length_m_is_finite_positive_or_none(value, unit):
    metres = _length_m(value, unit)
    assert metres is None or (math.isfinite(metres) and metres >= 0)
    assert _unit_m(unit) is None or _unit_m(unit) > 0


@FAST
@given(
    st.one_of(
        st.tuples(st.text(max_size=10), _ANY_VALUE, _ANY_VALUE),
        st.tuples(st.text(max_size=10), _ANY_VALUE),
        _ANY_VALUE,
        st.tuples(),
    )
)
def test_zeiss_length_any_entry_is_positive_or_none(entry):
    metres, text = _zeiss_length(entry)
    assert metres is None or (math.isfinite(metres) and metres >= 0)
    assert isinstance(text, str)


@FAST
@given(_TEXT)
def test_ini_parsers_accept_any_text(text):
    sections = _ini_sections(text)
    assert all(isinstance(k, str) and isinstance(v, dict) for k, v in sections.items())
    assert set(_ini_keys(text, ("PixelSizeX", "ImageStripSize"))) <= {"PixelSizeX", "ImageStripSize"}


@FAST
@given(st.binary(max_size=200))
def test_decode_text_accepts_any_bytes(raw):
    assert isinstance(_decode_text(raw), str)


# ------------------------------------------------------------------------------------------
# vendor metadata in files: any text -> valid pixel size or PixelSizeError; exact when clean
# ------------------------------------------------------------------------------------------


@FILES
@given(_NUMBERISH)
def test_fei_pixelwidth_any_text_gives_its_value_or_pixelsizeerror(folder, text):
    ini = fei_ini_text(2.5e-9, width_px=COLS, height_px=ROWS, tag_pixel_width=text)
    path = folder / "fei.tif"
    tifffile.imwrite(path, IMAGE, extratags=[(34682, "s", 0, encode_tag_text(ini), True)], metadata=None)
    px = _pixel_size_or_none(path)
    expected = _expected_px(text)
    if expected is not None:
        assert px == pytest.approx(expected, rel=RTOL_EXACT)
    elif text.isascii() and not _LINE_BREAKS & set(text):
        assert px is None


_ZEISS_UNITS = {"nm": 1e-9, "\u00b5m": 1e-6, "\u03bcm": 1e-6, "um": 1e-6, "mm": 1e-3, "pm": 1e-12}


@FILES
@given(_NUMBERISH, st.one_of(st.sampled_from(sorted(_ZEISS_UNITS)), st.sampled_from(["", "px", "furlong"])))
def test_zeiss_image_pixel_size_any_text_gives_its_value_or_pixelsizeerror(folder, text, unit):
    cz = zeiss_cz_sem_text(
        2.5e-9,
        width_px=COLS,
        height_px=ROWS,
        image_pixel_size=False,
        scan_pixel_size=False,
        field_width=False,
        overrides={"AP_IMAGE_PIXEL_SIZE": f"Image Pixel Size = {text} {unit}"},
    )
    path = folder / "zeiss.tif"
    tifffile.imwrite(path, IMAGE, extratags=[(34118, "s", 0, encode_tag_text(cz), True)], metadata=None)
    px = _pixel_size_or_none(path)
    clean = " " not in text.strip() and text.strip() == text and unit in _ZEISS_UNITS
    expected = _expected_px(text, _ZEISS_UNITS[unit]) if clean else None
    if expected is not None:
        assert px == pytest.approx(expected, rel=RTOL_EXACT)


@FILES
@given(_NUMBERISH)
def test_tescan_pixelsizex_any_text_gives_its_value_or_pixelsizeerror(folder, text):
    blob = tescan_blob(text, strip_rows=0)
    path = folder / "tescan.tif"
    tifffile.imwrite(path, IMAGE, extratags=[(50431, "B", len(blob), blob, True)], metadata=None)
    px = _pixel_size_or_none(path)
    expected = _expected_px(text)
    if expected is not None:
        assert px == pytest.approx(expected, rel=RTOL_EXACT)


@FILES
@given(_NUMBERISH)
def test_hitachi_pixelsize_any_text_gives_its_value_or_pixelsizeerror(folder, text):
    raw = hitachi_text(2.5e-9, width_px=COLS, height_px=ROWS, pixel_size_nm=text).encode("utf-16-le")
    path = folder / "hitachi.tif"
    tifffile.imwrite(path, IMAGE, extratags=[(40092, "B", len(raw), raw, True)], metadata=None)
    px = _pixel_size_or_none(path)
    expected = _expected_px(text, 1e-9)
    if expected is not None:
        assert px == pytest.approx(expected, rel=RTOL_EXACT)


@FILES
@given(_NUMBERISH)
def test_jeol_sidecar_magnification_any_text_gives_its_value_or_pixelsizeerror(folder, text):
    path = folder / "jeol.tif"
    tifffile.imwrite(path, IMAGE, metadata=None)
    sidecar = f"$CM_FORMAT JEOL-SEM\r\n$CM_MAG {text}\r\n$CM_FULL_SIZE {COLS} {ROWS}\r\n".encode()
    path.with_suffix(".txt").write_bytes(sidecar)
    try:
        px = _pixel_size_or_none(path)
    finally:
        path.with_suffix(".txt").unlink()
    mag = _expected_px(text, 1.0) if _LINE_BREAKS.isdisjoint(text) else None
    if mag is None and text.isascii() and _LINE_BREAKS.isdisjoint(text):
        try:
            mag = float(text.strip())
        except ValueError:
            mag = None
    if mag is not None and math.isfinite(mag) and mag > 0:
        expected = 0.128 / mag / COLS  # JEOL: 0.128 m display frame / magnification / width
        if _PLAUSIBLE_PIXEL_M[0] <= expected <= _PLAUSIBLE_PIXEL_M[1]:
            assert px == pytest.approx(expected, rel=RTOL_EXACT)


_IMAGEJ_UNITS = {"nm": 1e-9, "micron": 1e-6, "um": 1e-6, "\\u00b5m": 1e-6, "mm": 1e-3, "cm": 1e-2, "m": 1.0}


@FILES
@given(
    st.one_of(
        st.sampled_from(sorted(_IMAGEJ_UNITS)),
        st.sampled_from(["pixel", "inch", "", "nan"]),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
    ),  # tifffile: ASCII
    st.floats(min_value=1e-3, max_value=1e6),
)
def test_imagej_calibration_any_unit_gives_unit_over_resolution_or_pixelsizeerror(folder, unit, per_unit):
    path = folder / "imagej.tif"
    tifffile.imwrite(path, IMAGE, imagej=True, resolution=(per_unit, per_unit), metadata={"unit": unit})
    px = _pixel_size_or_none(path)
    with tifffile.TiffFile(path) as tif:
        num, den = tif.pages[0].tags[282].value  # the stored rational
    unit_m = _IMAGEJ_UNITS.get(unit.strip().lower()) or _unit_m(unit)
    if unit_m is not None and num > 0 and den > 0:
        expected = unit_m / (num / den)
        if _PLAUSIBLE_PIXEL_M[0] <= expected <= _PLAUSIBLE_PIXEL_M[1]:
            assert px == pytest.approx(expected, rel=RTOL_EXACT)
            return
    assert px is None


@FILES
@given(
    st.one_of(st.floats(), st.sampled_from([0.0, -0.0, -2.5, math.nan, math.inf, -math.inf, 1e-300, 1e300])),
    st.one_of(st.sampled_from(["nm", "\u00b5m", "um", "pm", "mm"]), st.sampled_from(["", "px", "1/nm", "nan"])),
)
def test_digitalmicrograph_scale_any_value_gives_scale_times_unit_or_pixelsizeerror(folder, scale, unit):
    path = folder / "dm.tif"
    extratags = [(65003, "s", 0, unit.encode("latin-1") + b"\x00", True), (65009, "d", 1, scale, True)]
    tifffile.imwrite(path, IMAGE, extratags=extratags, metadata=None)
    px = _pixel_size_or_none(path)
    unit_m = _unit_m(unit)
    expected = scale * unit_m if unit_m is not None and math.isfinite(scale) and scale > 0 else None
    if expected is not None and _PLAUSIBLE_PIXEL_M[0] <= expected <= _PLAUSIBLE_PIXEL_M[1]:
        assert px == pytest.approx(expected, rel=RTOL_EXACT)
    else:
        assert px is None


# ------------------------------------------------------------------------------------------
# write_sem_tiff -> read_micrograph: exact for every vendor
# ------------------------------------------------------------------------------------------


@settings(
    max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from([v for v in SEM_VENDORS if v != "none"]), st.floats(min_value=1e-11, max_value=1e-4))
def test_write_sem_tiff_pixel_size_is_read_back_exactly(folder, vendor, px):
    files = write_sem_tiff(folder / f"rt_{vendor}.tif", IMAGE, vendor=vendor, pixel_size_m=px)
    try:
        m = read_micrograph(files[0])
    finally:
        for f in files[1:]:
            f.unlink()
    assert m.pixel_size_m == pytest.approx(px, rel=RTOL_ROUND_TRIP)
    assert m.vendor == {"fei-escan": "fei"}.get(vendor, vendor)


# ------------------------------------------------------------------------------------------
# bad pixel sizes with no other source: the clean PixelSizeError (exit code 2)
# ------------------------------------------------------------------------------------------


def _write_bad(path, vendor: str, bad: str) -> None:
    """Write IMAGE with `vendor` metadata whose pixel size is the text `bad` (no other scale)."""
    extratags: list[tuple] = []
    if vendor == "fei":
        ini = fei_ini_text(2.5e-9, width_px=COLS, height_px=ROWS, tag_pixel_width=bad)
        extratags.append((34682, "s", 0, encode_tag_text(ini), True))
    elif vendor == "zeiss":
        cz = zeiss_cz_sem_text(
            2.5e-9,
            width_px=COLS,
            height_px=ROWS,
            image_pixel_size=False,
            scan_pixel_size=False,
            field_width=False,
            overrides={"AP_IMAGE_PIXEL_SIZE": f"Image Pixel Size = {bad} nm"},
        )
        extratags.append((34118, "s", 0, encode_tag_text(cz), True))
    elif vendor == "tescan":
        blob = tescan_blob(bad, strip_rows=0)
        extratags.append((50431, "B", len(blob), blob, True))
    elif vendor == "hitachi":
        raw = hitachi_text(2.5e-9, width_px=COLS, height_px=ROWS, pixel_size_nm=bad).encode("utf-16-le")
        extratags.append((40092, "B", len(raw), raw, True))
    elif vendor == "jeol":
        path.with_suffix(".txt").write_bytes(f"$CM_FORMAT JEOL-SEM\r\n$CM_MAG {bad}\r\n".encode("ascii"))
    elif vendor == "digitalmicrograph":
        try:
            scale = float(bad)
        except ValueError:
            scale = math.nan  # a DM scale is a double: text cannot be stored, NaN stands for it
        extratags += [(65003, "s", 0, b"nm\x00", True), (65009, "d", 1, scale, True)]
    elif vendor == "imagej":
        tifffile.imwrite(path, IMAGE, imagej=True, metadata={"unit": bad or "pixel"})
        return
    tifffile.imwrite(path, IMAGE, extratags=extratags, metadata=None)


_MISSING = {
    "fei": "FEI metadata has no valid",
    "zeiss": "Zeiss tag 34118 has no valid",
    "tescan": "TESCAN tag 50431 has no valid PixelSizeX",
    "hitachi": "Hitachi .SemImageFile. has no valid PixelSize",
    "jeol": "JEOL sidecar jeol.txt has no valid .CM_MAG",
    "digitalmicrograph": "DigitalMicrograph tags hold no valid length scale",
    "imagej": "ImageJ metadata has no length calibration",
}


@pytest.mark.parametrize("vendor", sorted(_MISSING))
@pytest.mark.parametrize("bad", ["abc", "0", "-2.5e-09", "nan", "inf", ""])
def test_bad_metadata_pixel_size_raises_pixelsizeerror(tmp_path, vendor, bad):
    path = tmp_path / f"{vendor}.tif"
    _write_bad(path, vendor, bad)
    with pytest.raises(PixelSizeError, match=_MISSING[vendor]) as info:
        read_micrograph(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.endswith("give it with --pixel-size, e.g. --pixel-size 2.5nm")


@pytest.mark.parametrize("vendor", ["fei", "digitalmicrograph"])
def test_bad_metadata_pixel_size_is_exit_code_2_with_one_line(tmp_path, capsys, vendor):
    path = tmp_path / f"{vendor}.tif"
    _write_bad(path, vendor, "nan")
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("morpho: error: no pixel size in")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("vendor", sorted(_MISSING))
def test_bad_metadata_pixel_size_with_argument_reads(tmp_path, vendor):
    path = tmp_path / f"{vendor}.tif"
    _write_bad(path, vendor, "nan")
    m = read_micrograph(path, pixel_size_m=2.5e-9)
    assert m.pixel_size_m == 2.5e-9
    assert m.pixel_size_source == "--pixel-size"


def test_helpers_cover_every_metadata_vendor():
    """Guard: every vendor format except FEI's [EScan] variant and 'none' has a bad-value test."""
    assert set(_MISSING) == set(SEM_VENDORS) - {"fei-escan", "none"}


def test_morpho_errors_are_the_exit_2_class():
    for error in (PixelSizeError, ConfigError, InputError):
        assert issubclass(error, MorphoError)


@FILES
@given(st.sampled_from(sorted(_MISSING)), _NUMBERISH)
def test_any_bad_metadata_text_never_raises_other_than_pixelsizeerror(folder, vendor, text):
    assume(vendor != "jeol" or text.isascii())  # the JEOL helper writes an ASCII sidecar
    # tifffile writes ImageJ descriptions in ASCII, one line per key
    assume(vendor != "imagej" or (text.isascii() and text.isprintable()))
    path = folder / f"any_{vendor}.tif"
    _write_bad(path, vendor, text)
    try:
        _pixel_size_or_none(path)
    finally:
        path.with_suffix(".txt").unlink(missing_ok=True)
