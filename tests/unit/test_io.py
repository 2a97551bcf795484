"""read_micrograph, detect_databar_rows, micrograph_info and the vendor TIFF writer.

Every file is written in ``tmp_path`` with :mod:`morpho.vendor_tiff` or tifffile; no vendor
files are needed (the real ones are tested in tests/integration/test_vendor_files.py).
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest
import tifffile

from morpho.errors import ConfigError, InputError, MicrographReadError, MorphoError, PixelSizeError
from morpho.io import Micrograph, detect_databar_rows, micrograph_info, read_micrograph
from morpho.vendor_tiff import (
    SEM_VENDORS,
    encode_tag_text,
    fei_ini_text,
    hitachi_text,
    paint_databar,
    tescan_blob,
    write_sem_tiff,
    zeiss_cz_sem_text,
)

# Pixel sizes are compared to floating-point round-off: the writer stores full precision.
RTOL_EXACT = 1e-9
SHAPE = (160, 220)


def _texture(rng: np.random.Generator, shape=SHAPE, dtype=np.uint8) -> np.ndarray:
    """Make a noisy grey image (no databar), scaled to the dtype."""
    img = rng.normal(0.45, 0.12, shape).clip(0, 1)
    if dtype == np.float32:
        return img.astype(np.float32)
    return (img * np.iinfo(dtype).max).astype(dtype)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


def _bar_image(rng: np.random.Generator, bar_rows: int, *, white: bool = False, tail: int = 0) -> np.ndarray:
    """Noisy image whose bottom `bar_rows` rows are a rendered bar (black or white) with text blocks."""
    img = _texture(rng)
    rows = img.shape[0]
    bg, ink = (255, 0) if white else (0, 255)
    top = rows - bar_rows
    img[top : rows - tail] = bg
    img[top + 6 : top + 14, 10:120:6] = ink  # text-like columns
    img[top + 8 : top + 10, 150:200] = ink  # scale bar
    return img


# ------------------------------------------------------------------------------------------
# round trips through every vendor format
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vendor", [v for v in SEM_VENDORS if v != "none"])
@pytest.mark.parametrize("databar_rows", [0, 24])
def test_write_sem_tiff_round_trip_recovers_pixel_size_and_databar(tmp_path, rng, vendor, databar_rows):
    img = _texture(rng)
    px = 3.7123456789e-9
    files = write_sem_tiff(tmp_path / "img.tif", img, vendor=vendor, pixel_size_m=px, databar_rows=databar_rows)
    m = read_micrograph(files[0])
    assert m.pixel_size_m == pytest.approx(px, rel=RTOL_EXACT)
    assert m.databar_rows == databar_rows
    assert m.vendor == {"fei-escan": "fei"}.get(vendor, vendor)
    assert m.shape_px == SHAPE
    np.testing.assert_array_equal(m.analysis_pixels, img[: SHAPE[0] - databar_rows])


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("px", [2.5e-9, 1.234567e-7, 3.3724e-6])
def test_write_sem_tiff_round_trip_keeps_dtype_and_scale(tmp_path, rng, dtype, px):
    img = _texture(rng, dtype=dtype)
    files = write_sem_tiff(tmp_path / "img.tif", img, vendor="zeiss", pixel_size_m=px)
    m = read_micrograph(files[0])
    assert m.pixels.dtype == dtype
    assert m.pixel_size_m == pytest.approx(px, rel=RTOL_EXACT)
    np.testing.assert_array_equal(m.pixels, img)


def test_write_sem_tiff_sidecars_are_written_and_returned(tmp_path, rng):
    jeol = write_sem_tiff(tmp_path / "j.tif", _texture(rng), vendor="jeol", pixel_size_m=2e-6)
    hitachi = write_sem_tiff(tmp_path / "h.tif", _texture(rng), vendor="hitachi", pixel_size_m=2e-9)
    assert [p.name for p in jeol] == ["j.tif", "j.txt"]
    assert [p.name for p in hitachi] == ["h.tif", "h.txt"]
    assert hitachi[1].read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")  # UTF-16 byte-order mark
    assert "[SemImageFile]" in hitachi[1].read_bytes().decode("utf-16")


def test_jeol_sidecar_magnification_rule(tmp_path, rng):
    img = _texture(rng, shape=(96, 128))
    files = write_sem_tiff(tmp_path / "j.tif", img, vendor="jeol", pixel_size_m=2e-5)  # 0.128/(2e-5*128) = 50
    assert b"$CM_MAG 50\r\n" in files[1].read_bytes()
    m = read_micrograph(files[0])
    assert m.pixel_size_m == pytest.approx(0.128 / 50 / 128, rel=1e-12)
    assert m.pixel_size_source == "JEOL sidecar j.txt ($CM_MAG, $CM_FULL_SIZE)"


def test_hitachi_tag_40092_alone_gives_pixel_size(tmp_path, rng):
    files = write_sem_tiff(tmp_path / "h.tif", _texture(rng), vendor="hitachi", pixel_size_m=4.2e-9)
    files[1].unlink()  # no sidecar: the same text in XPComment (tag 40092) is used
    m = read_micrograph(files[0])
    assert m.pixel_size_m == pytest.approx(4.2e-9, rel=RTOL_EXACT)
    assert m.pixel_size_source == "Hitachi tag 40092 PixelSize"


def test_read_micrograph_metadata_and_info_are_json_serialisable(tmp_path, rng):
    for vendor in SEM_VENDORS:
        files = write_sem_tiff(tmp_path / f"{vendor}.tif", _texture(rng), vendor=vendor, pixel_size_m=5e-9)
        m = read_micrograph(files[0], pixel_size_m=5e-9 if vendor == "none" else None)
        json.dumps(m.metadata)
        info = json.loads(json.dumps(micrograph_info(m)))
        assert info["shape_px"] == list(SHAPE)
        assert info["pixel_size_m"] == pytest.approx(5e-9, rel=RTOL_EXACT)
        assert set(info) >= {
            "path", "shape_px", "dtype", "vendor", "pixel_size_m", "pixel_size_source",
            "databar_rows", "databar_source", "n_pages", "notes",
        }  # fmt: skip


def test_read_micrograph_sha256_and_path(tmp_path, rng):
    tif = write_sem_tiff(tmp_path / "a.tif", _texture(rng), vendor="fei", pixel_size_m=1e-9)[0]
    m = read_micrograph(str(tif))
    assert m.sha256 == hashlib.sha256(tif.read_bytes()).hexdigest()
    assert m.path == str(tif)
    assert m.n_pages == 1


def test_micrograph_properties():
    m = Micrograph(np.zeros((10, 7), np.uint8), 1e-9, "--pixel-size", 3, "--databar-rows", "unknown", "x", "0", 1)
    assert m.shape_px == (10, 7)
    assert m.analysis_pixels.shape == (7, 7)


# ------------------------------------------------------------------------------------------
# pixel-size precedence
# ------------------------------------------------------------------------------------------


def test_read_micrograph_argument_overrides_metadata(tmp_path, rng):
    tif = write_sem_tiff(tmp_path / "a.tif", _texture(rng), vendor="fei", pixel_size_m=2.5e-9)[0]
    m = read_micrograph(tif, pixel_size_m=1.0e-9)
    assert m.pixel_size_m == 1.0e-9
    assert m.pixel_size_source == "--pixel-size"
    assert m.vendor == "fei"
    assert any("overrides FEI tag 34682 [Scan] PixelWidth" in n for n in m.notes)


def test_read_micrograph_fei_wins_over_zeiss_and_notes_the_other(tmp_path, rng):
    img = _texture(rng)
    fei = encode_tag_text(fei_ini_text(2.0e-9, width_px=SHAPE[1], height_px=SHAPE[0]))
    zeiss = encode_tag_text(zeiss_cz_sem_text(3.0e-9, width_px=SHAPE[1], height_px=SHAPE[0]))
    tifffile.imwrite(tmp_path / "b.tif", img, extratags=[(34682, "s", 0, fei, True), (34118, "s", 0, zeiss, True)])
    m = read_micrograph(tmp_path / "b.tif")
    assert m.pixel_size_m == pytest.approx(2.0e-9, rel=RTOL_EXACT)
    assert m.vendor == "fei"
    assert any("Zeiss tag 34118" in n and "differs" in n for n in m.notes)


def test_read_micrograph_fei_tag_34680(tmp_path, rng):
    text = encode_tag_text(fei_ini_text(6.5e-9, width_px=SHAPE[1], height_px=SHAPE[0]))
    tifffile.imwrite(tmp_path / "s.tif", _texture(rng), extratags=[(34680, "s", 0, text, True)])
    m = read_micrograph(tmp_path / "s.tif")
    assert m.pixel_size_m == pytest.approx(6.5e-9, rel=RTOL_EXACT)
    assert m.pixel_size_source == "FEI tag 34680 [Scan] PixelWidth"


@pytest.mark.parametrize("bad", ["notafloat", "0", "-2.5e-09", "nan", "inf", ""])
def test_read_micrograph_fei_bad_pixelwidth_raises_pixelsizeerror(tmp_path, rng, bad):
    text = encode_tag_text(fei_ini_text(2e-9, width_px=SHAPE[1], height_px=SHAPE[0], tag_pixel_width=bad))
    tifffile.imwrite(tmp_path / "f.tif", _texture(rng), extratags=[(34682, "s", 0, text, True)])
    with pytest.raises(PixelSizeError, match=r"no pixel size in f\.tif \(FEI metadata has no valid") as info:
        read_micrograph(tmp_path / "f.tif")
    assert "--pixel-size" in str(info.value)
    assert "\n" not in str(info.value)


def test_read_micrograph_implausible_metadata_pixel_size_is_ignored(tmp_path, rng):
    """A PixelWidth of 2.5 (metres) is a unit mistake: treated as absent, with a note."""
    text = encode_tag_text(fei_ini_text(2e-9, width_px=SHAPE[1], height_px=SHAPE[0], tag_pixel_width="2.5"))
    tifffile.imwrite(tmp_path / "f.tif", _texture(rng), extratags=[(34682, "s", 0, text, True)])
    with pytest.raises(PixelSizeError, match="implausible pixel size of 2.5 m"):
        read_micrograph(tmp_path / "f.tif")


def test_read_micrograph_bad_fei_value_continues_the_chain(tmp_path, rng):
    fei = encode_tag_text(fei_ini_text(2e-9, width_px=SHAPE[1], height_px=SHAPE[0], tag_pixel_width="notafloat"))
    blob = tescan_blob(4e-9, strip_rows=0)
    tifffile.imwrite(
        tmp_path / "c.tif", _texture(rng), extratags=[(34682, "s", 0, fei, True), (50431, "B", len(blob), blob, True)]
    )
    m = read_micrograph(tmp_path / "c.tif")
    assert m.pixel_size_m == pytest.approx(4e-9, rel=RTOL_EXACT)
    assert m.pixel_size_source == "TESCAN tag 50431 PixelSizeX"
    # the FEI [Image] ResolutionY still gives the databar (0 rows here)
    assert m.databar_source == "FEI ResolutionY"


@pytest.mark.parametrize(
    ("resolution", "unit", "match"),
    [((300, 300), "INCH", "300 dpi"), ((118, 118), "CENTIMETER", "118 pixels/cm")],
)
def test_read_micrograph_xresolution_dpi_is_never_a_pixel_size(tmp_path, rng, resolution, unit, match):
    tifffile.imwrite(tmp_path / "dpi.tif", _texture(rng), resolution=resolution, resolutionunit=unit)
    expected = rf"no pixel size in dpi\.tif \(its TIFF resolution of {match}.*--pixel-size 2\.5nm"
    with pytest.raises(PixelSizeError, match=expected):
        read_micrograph(tmp_path / "dpi.tif")


def test_read_micrograph_no_metadata_message_lists_what_was_looked_for(tmp_path, rng):
    files = write_sem_tiff(tmp_path / "n.tif", _texture(rng), vendor="none", pixel_size_m=1e-9)
    with pytest.raises(PixelSizeError) as info:
        read_micrograph(files[0])
    text = str(info.value)
    for name in ("FEI", "Zeiss", "TESCAN", "Hitachi", "JEOL sidecar", "ImageJ", "DigitalMicrograph"):
        assert name in text
    assert "give it with --pixel-size, e.g. --pixel-size 2.5nm" in text


@pytest.mark.parametrize("micro", ["\u00b5", "\u03bc"])  # micro sign U+00B5, Greek mu U+03BC
def test_read_micrograph_zeiss_micrometre_units(tmp_path, rng, micro):
    px = 1.5e-6
    text = zeiss_cz_sem_text(px, width_px=SHAPE[1], height_px=SHAPE[0], micro=micro)
    assert f"Image Pixel Size = 1.5 {micro}m" in text
    tifffile.imwrite(tmp_path / "z.tif", _texture(rng), extratags=[(34118, "s", 0, encode_tag_text(text), True)])
    m = read_micrograph(tmp_path / "z.tif")
    assert m.pixel_size_m == pytest.approx(px, rel=RTOL_EXACT)
    assert m.pixel_size_source == "Zeiss tag 34118 ap_image_pixel_size"


def _write_zeiss(path, img, px, **kwargs):
    text = zeiss_cz_sem_text(px, width_px=img.shape[1], height_px=img.shape[0], **kwargs)
    tifffile.imwrite(path, img, extratags=[(34118, "s", 0, encode_tag_text(text), True)])


def test_read_micrograph_zeiss_512px_scales_ap_pixel_size_by_field_width(tmp_path, rng):
    """SOURCES.md trap: ap_pixel_size (5.825 nm) is for a 1024-px scan; the image is 512 px wide."""
    img = _texture(rng, shape=(384, 512))
    _write_zeiss(tmp_path / "z.tif", img, 11.65e-9, image_pixel_size=False)
    with pytest.warns(UserWarning, match=r"ap_pixel_size \(5\.825 nm\) refers to a 1024-px-wide scan"):
        m = read_micrograph(tmp_path / "z.tif")
    assert m.pixel_size_m == pytest.approx(11.65e-9, rel=RTOL_EXACT)
    assert m.pixel_size_source.startswith("Zeiss tag 34118 ap_width / image width")


def test_read_micrograph_zeiss_only_ap_pixel_size_is_scaled_to_1024px(tmp_path, rng):
    img = _texture(rng, shape=(384, 512))
    _write_zeiss(tmp_path / "z.tif", img, 11.65e-9, image_pixel_size=False, field_width=False)
    with pytest.warns(UserWarning, match="only ap_pixel_size"):
        m = read_micrograph(tmp_path / "z.tif")
    assert m.pixel_size_m == pytest.approx(11.65e-9, rel=RTOL_EXACT)


def test_read_micrograph_zeiss_only_ap_pixel_size_at_1024px_is_used_as_is(tmp_path, rng):
    img = _texture(rng, shape=(96, 1024))
    _write_zeiss(tmp_path / "z.tif", img, 7.5e-9, image_pixel_size=False, field_width=False)
    m = read_micrograph(tmp_path / "z.tif")
    assert m.pixel_size_m == pytest.approx(7.5e-9, rel=RTOL_EXACT)
    assert m.pixel_size_source == "Zeiss tag 34118 ap_pixel_size"


@pytest.mark.parametrize("value", ["notanumber nm", "0 nm", "-3 nm", "3 furlong"])
def test_read_micrograph_zeiss_bad_image_pixel_size_falls_back(tmp_path, rng, value):
    overrides = {"AP_IMAGE_PIXEL_SIZE": f"Image Pixel Size = {value}"}
    _write_zeiss(tmp_path / "z.tif", _texture(rng), 2e-9, overrides=overrides)
    with pytest.warns(UserWarning, match="refers to a 1024-px-wide scan"):  # the image is 220 px wide
        m = read_micrograph(tmp_path / "z.tif")
    assert m.pixel_size_m == pytest.approx(2e-9, rel=RTOL_EXACT)
    assert m.pixel_size_source.startswith("Zeiss tag 34118 ap_width")


def test_read_micrograph_zeiss_without_scale_raises(tmp_path, rng):
    _write_zeiss(
        tmp_path / "z.tif", _texture(rng), 2e-9, image_pixel_size=False, scan_pixel_size=False, field_width=False
    )
    with pytest.raises(PixelSizeError, match="Zeiss tag 34118 has no valid"):
        read_micrograph(tmp_path / "z.tif")


def test_read_micrograph_tescan_bad_pixelsize_raises(tmp_path, rng):
    blob = tescan_blob("abc", strip_rows=10)
    tifffile.imwrite(tmp_path / "t.tif", _texture(rng), extratags=[(50431, "B", len(blob), blob, True)])
    with pytest.raises(PixelSizeError, match="TESCAN tag 50431 has no valid PixelSizeX"):
        read_micrograph(tmp_path / "t.tif")


def test_read_micrograph_hitachi_bad_pixelsize_raises(tmp_path, rng):
    text = hitachi_text(1e-9, width_px=SHAPE[1], height_px=SHAPE[0], pixel_size_nm="n/a")
    tifffile.imwrite(tmp_path / "h.tif", _texture(rng))
    (tmp_path / "h.txt").write_bytes(text.encode("utf-16"))
    with pytest.raises(PixelSizeError, match="Hitachi"):
        read_micrograph(tmp_path / "h.tif")


def _sightx_xml(mode: str = "MAG", magnification: str = "150000") -> str:
    return (
        '<?xml version="1.0"?>\r\n<TemReporter>\r\n  <Eos>\r\n    <EosMode>eosTEM</EosMode>\r\n  </Eos>\r\n'
        "  <ImageFormingSystem>\r\n"
        f"    <ModeString>{mode}</ModeString>\r\n    <SelectorValue>{magnification}</SelectorValue>\r\n"
        "  </ImageFormingSystem>\r\n</TemReporter>"
    )


def test_read_micrograph_jeol_sightx_xml(tmp_path, rng):
    tifffile.imwrite(
        tmp_path / "x.tif",
        _texture(rng),
        description=_sightx_xml(),
        resolution=(93, 93),
        resolutionunit="INCH",
        metadata=None,
    )
    m = read_micrograph(tmp_path / "x.tif")
    assert m.pixel_size_m == pytest.approx(0.0254 / 93 / 150000, rel=1e-12)  # 1.8208 nm
    assert m.vendor == "jeol"


@pytest.mark.parametrize(("mode", "mag"), [("DIFF", "150000"), ("MAG", "0"), ("MAG", "x")])
def test_read_micrograph_jeol_sightx_without_scale_raises(tmp_path, rng, mode, mag):
    tifffile.imwrite(
        tmp_path / "x.tif",
        _texture(rng),
        description=_sightx_xml(mode, mag),
        resolution=(93, 93),
        resolutionunit="INCH",
        metadata=None,
    )
    with pytest.raises(PixelSizeError, match="JEOL SightX"):
        read_micrograph(tmp_path / "x.tif")


@pytest.mark.parametrize(
    ("unit", "factor"),
    [("micron", 1e-6), ("um", 1e-6), ("\\u00B5m", 1e-6), ("nm", 1e-9)],
)
def test_read_micrograph_imagej_units(tmp_path, rng, unit, factor):
    description = f"ImageJ=1.53t\nunit={unit}\n"
    tifffile.imwrite(tmp_path / "ij.tif", _texture(rng), description=description, resolution=(4, 4), metadata=None)
    m = read_micrograph(tmp_path / "ij.tif")
    assert m.pixel_size_m == pytest.approx(factor / 4, rel=1e-12)
    assert m.vendor == "imagej"


@pytest.mark.parametrize("unit", ["pixel", "inch", None])
def test_read_micrograph_imagej_without_length_unit_raises(tmp_path, rng, unit):
    description = "ImageJ=1.53t\n" + (f"unit={unit}\n" if unit else "")
    tifffile.imwrite(tmp_path / "ij.tif", _texture(rng), description=description, resolution=(4, 4), metadata=None)
    with pytest.raises(PixelSizeError, match="ImageJ metadata has no length calibration"):
        read_micrograph(tmp_path / "ij.tif")


def test_read_micrograph_digitalmicrograph_nm(tmp_path, rng):
    tags = [(65003, "s", 0, b"nm\x00", True), (65009, "d", 1, 0.25, True)]
    tifffile.imwrite(tmp_path / "dm.tif", _texture(rng), extratags=tags)
    m = read_micrograph(tmp_path / "dm.tif")
    assert m.pixel_size_m == pytest.approx(0.25e-9, rel=1e-12)
    assert m.vendor == "digitalmicrograph"


@pytest.mark.parametrize("bad", [0.0, -1e-9, math.nan, math.inf, True, "2.5nm"])
def test_read_micrograph_bad_pixel_size_argument_raises(tmp_path, rng, bad):
    tif = write_sem_tiff(tmp_path / "a.tif", _texture(rng), vendor="none", pixel_size_m=1e-9)[0]
    with pytest.raises(PixelSizeError, match="pixel size must be a finite length > 0"):
        read_micrograph(tif, pixel_size_m=bad)


def test_read_micrograph_pixel_size_argument_in_wrong_unit_raises(tmp_path, rng):
    tif = write_sem_tiff(tmp_path / "a.tif", _texture(rng), vendor="none", pixel_size_m=1e-9)[0]
    with pytest.raises(PixelSizeError, match="larger than 1 mm"):
        read_micrograph(tif, pixel_size_m=2.5)  # 2.5 "nm" given as metres


def test_read_micrograph_fei_resized_image_warns_and_detects_databar(tmp_path, rng):
    img = _bar_image(rng, 30)
    text = encode_tag_text(fei_ini_text(2e-9, width_px=1024, height_px=884))
    tifffile.imwrite(tmp_path / "r.tif", img, extratags=[(34682, "s", 0, text, True)])
    with pytest.warns(UserWarning, match="ResolutionX = 1024 differs from the image width 220"):
        m = read_micrograph(tmp_path / "r.tif")
    assert m.databar_rows == 30
    assert m.databar_source == "detected from pixels"


# ------------------------------------------------------------------------------------------
# pixels: grey, RGB, palette, pages, compression
# ------------------------------------------------------------------------------------------


def test_read_micrograph_rgb_with_equal_channels_warns_and_reads_grey(tmp_path, rng):
    grey = _texture(rng)
    tifffile.imwrite(tmp_path / "rgb.tif", np.stack([grey] * 3, axis=-1), photometric="rgb")
    with pytest.warns(UserWarning, match="three equal channels; read as grey"):
        m = read_micrograph(tmp_path / "rgb.tif", pixel_size_m=1e-9)
    np.testing.assert_array_equal(m.pixels, grey)
    assert any("equal channels" in n for n in m.notes)


def test_read_micrograph_rgba_grey_ignores_alpha(tmp_path, rng):
    grey = _texture(rng)
    rgba = np.stack([grey, grey, grey, np.full_like(grey, 255)], axis=-1)
    tifffile.imwrite(tmp_path / "rgba.tif", rgba, photometric="rgb", extrasamples=["unassalpha"])
    with pytest.warns(UserWarning, match="three equal channels"):
        m = read_micrograph(tmp_path / "rgba.tif", pixel_size_m=1e-9)
    np.testing.assert_array_equal(m.pixels, grey)
    assert any("alpha" in n for n in m.notes)


def test_read_micrograph_colour_rgb_warns_and_gives_luminance(tmp_path, rng):
    rgb = np.stack([_texture(rng), _texture(rng), _texture(rng)], axis=-1)
    tifffile.imwrite(tmp_path / "c.tif", rgb, photometric="rgb")
    with pytest.warns(UserWarning, match="colour RGB image; converted to grey luminance"):
        m = read_micrograph(tmp_path / "c.tif", pixel_size_m=1e-9)
    expected = 0.2125 * rgb[..., 0] + 0.7154 * rgb[..., 1] + 0.0721 * rgb[..., 2]
    assert m.pixels.dtype == np.float32
    np.testing.assert_allclose(m.pixels, expected, rtol=1e-6)  # float32 arithmetic


def test_read_micrograph_palette_grey_ramp_keeps_indices(tmp_path, rng):
    img = _texture(rng)
    ramp = np.tile(np.arange(256, dtype=np.uint16) * 257, (3, 1))
    tifffile.imwrite(tmp_path / "p.tif", img, photometric="palette", colormap=ramp)
    m = read_micrograph(tmp_path / "p.tif", pixel_size_m=1e-9)
    np.testing.assert_array_equal(m.pixels, img)
    assert any("grey-ramp colour map" in n for n in m.notes)


def test_read_micrograph_palette_in_colour_warns(tmp_path, rng):
    img = _texture(rng)
    cmap = np.zeros((3, 256), np.uint16)
    cmap[1] = np.arange(256) * 257  # a green ramp
    tifffile.imwrite(tmp_path / "p.tif", img, photometric="palette", colormap=cmap)
    with pytest.warns(UserWarning, match="palette image mapped through its colour map"):
        m = read_micrograph(tmp_path / "p.tif", pixel_size_m=1e-9)
    assert m.pixels.dtype == np.uint8
    np.testing.assert_array_equal(m.pixels, np.rint(0.7154 * img).astype(np.uint8))


def test_read_micrograph_refuses_a_z_or_time_stack(tmp_path, rng):
    pages = np.stack([_texture(rng) for _ in range(3)])
    tifffile.imwrite(tmp_path / "z.tif", pages, photometric="minisblack", metadata={"axes": "ZYX"})
    with pytest.raises(InputError, match=r"z\.tif is a 3-D stack of 3 images \(160 x 220 px each, axes ZYX"):
        read_micrograph(tmp_path / "z.tif", pixel_size_m=1e-9)
    tifffile.imwrite(tmp_path / "ij.tif", pages, imagej=True, metadata={"axes": "TYX"})  # an ImageJ time series
    with pytest.raises(InputError, match="3-D stack of 3 images"):
        read_micrograph(tmp_path / "ij.tif", pixel_size_m=1e-9)


def test_read_micrograph_multipage_uses_first_page_with_warning(tmp_path, rng):
    """Unlabelled same-shape pages are detector channels (real Zeiss files have two), not a stack."""
    pages = np.stack([_texture(rng) for _ in range(3)])
    tifffile.imwrite(tmp_path / "m.tif", pages, photometric="minisblack", metadata=None)
    with pytest.warns(UserWarning, match=r"m\.tif has 3 pages; only the first \(160 x 220 px\) is analysed"):
        m = read_micrograph(tmp_path / "m.tif", pixel_size_m=1e-9)
    assert m.n_pages == 3
    np.testing.assert_array_equal(m.pixels, pages[0])
    assert any("3 pages" in n for n in m.notes)


def test_read_micrograph_with_a_thumbnail_page_uses_the_first_page_with_warning(tmp_path, rng):
    image = _texture(rng)
    with tifffile.TiffWriter(tmp_path / "m.tif") as tw:
        tw.write(image, photometric="minisblack", metadata=None)
        tw.write(image[::4, ::4], photometric="minisblack", metadata=None)  # a preview of another shape
    with pytest.warns(UserWarning, match=r"m\.tif has 2 pages; only the first \(160 x 220 px\) is analysed"):
        m = read_micrograph(tmp_path / "m.tif", pixel_size_m=1e-9)
    assert m.n_pages == 2
    np.testing.assert_array_equal(m.pixels, image)


@pytest.mark.parametrize(("compression", "code"), [("lzw", 5), ("zlib", 8), ("deflate", 8), (None, 1)])
def test_read_micrograph_compressed_tiffs(tmp_path, rng, compression, code):
    img = _texture(rng, dtype=np.uint16)
    tif = write_sem_tiff(tmp_path / "c.tif", img, vendor="fei", pixel_size_m=2e-9, compression=compression)[0]
    with tifffile.TiffFile(tif) as t:
        assert int(t.pages[0].compression) == code
    m = read_micrograph(tif)
    np.testing.assert_array_equal(m.pixels, img)


def test_read_micrograph_miniswhite_is_inverted(tmp_path, rng):
    img = _texture(rng)
    tifffile.imwrite(tmp_path / "w.tif", img, photometric="miniswhite")
    m = read_micrograph(tmp_path / "w.tif", pixel_size_m=1e-9)
    np.testing.assert_array_equal(m.pixels, 255 - img)


# ------------------------------------------------------------------------------------------
# errors: one line, MorphoError subclasses only
# ------------------------------------------------------------------------------------------


def _assert_one_line(exc: BaseException) -> None:
    assert isinstance(exc, MorphoError)
    assert "\n" not in str(exc)


def test_read_micrograph_missing_file_raises(tmp_path):
    with pytest.raises(MicrographReadError, match=r"micrograph not found: .*nope\.tif; check the path") as info:
        read_micrograph(tmp_path / "nope.tif")
    _assert_one_line(info.value)


def test_read_micrograph_directory_raises(tmp_path):
    with pytest.raises(MicrographReadError, match="is a folder, not an image file.*morpho batch") as info:
        read_micrograph(tmp_path)
    _assert_one_line(info.value)


def test_read_micrograph_empty_file_raises(tmp_path):
    (tmp_path / "e.tif").write_bytes(b"")
    with pytest.raises(MicrographReadError, match=r"is empty \(0 bytes\)") as info:
        read_micrograph(tmp_path / "e.tif")
    _assert_one_line(info.value)


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n" + bytes(64), b"hello, not an image", b"II"])
def test_read_micrograph_not_a_tiff_raises(tmp_path, content):
    (tmp_path / "x.tif").write_bytes(content)
    with pytest.raises(MicrographReadError, match="is not a TIFF file.*export the image as .tif") as info:
        read_micrograph(tmp_path / "x.tif")
    _assert_one_line(info.value)


@pytest.mark.parametrize("compression", [None, "zlib", "lzw"])
def test_read_micrograph_truncated_tiff_raises(tmp_path, rng, compression):
    img = _texture(rng)
    tif = write_sem_tiff(tmp_path / "t.tif", img, vendor="fei", pixel_size_m=1e-9, compression=compression)[0]
    data = tif.read_bytes()
    with tifffile.TiffFile(tif) as t:
        cut = int(t.pages[0].dataoffsets[0]) + 40  # inside the image data
    tif.write_bytes(data[:cut])
    with pytest.raises(MicrographReadError, match="truncated") as info:
        read_micrograph(tif)
    _assert_one_line(info.value)


def test_read_micrograph_corrupt_compressed_data_raises(tmp_path, rng):
    tif = write_sem_tiff(tmp_path / "c.tif", _texture(rng), vendor="fei", pixel_size_m=1e-9, compression="zlib")[0]
    data = bytearray(tif.read_bytes())
    with tifffile.TiffFile(tif) as t:
        offset = int(t.pages[0].dataoffsets[0])
    data[offset + 2 : offset + 60] = b"\xff" * 58
    tif.write_bytes(bytes(data))
    with pytest.raises(MicrographReadError, match="corrupt or truncated TIFF.*copy or export the file again") as info:
        read_micrograph(tif)
    _assert_one_line(info.value)


@pytest.mark.parametrize(
    "content",
    [
        b"II*\x00" + b"\xff\xff\xff\x7f" + bytes(32),  # first IFD offset past the end
        b"II*\x00\x08\x00\x00\x00\x05\x00" + bytes(20),  # IFD with 5 entries, file ends inside
        b"MM\x00*" + bytes(4),  # no IFD at all
    ],
)
def test_read_micrograph_garbage_tiff_structure_raises(tmp_path, content):
    (tmp_path / "g.tif").write_bytes(content)
    with pytest.raises(MicrographReadError) as info:
        read_micrograph(tmp_path / "g.tif")
    _assert_one_line(info.value)


def test_read_micrograph_one_pixel_image_raises(tmp_path):
    tifffile.imwrite(tmp_path / "one.tif", np.zeros((1, 1), np.uint8))
    with pytest.raises(InputError, match=r"is 1 x 1 pixels; morpho needs a 2-D image of at least 2 x 2") as info:
        read_micrograph(tmp_path / "one.tif", pixel_size_m=1e-9)
    _assert_one_line(info.value)


@pytest.mark.parametrize("planarconfig", ["separate", "contig"])
def test_read_micrograph_stack_in_one_page_raises(tmp_path, rng, planarconfig):
    stack = np.stack([_texture(rng) for _ in range(3)], axis=0 if planarconfig == "separate" else -1)
    tifffile.imwrite(tmp_path / "s.tif", stack, photometric="minisblack", planarconfig=planarconfig, metadata=None)
    with pytest.raises(InputError, match="holds 3 channels per pixel.*single grey image per page") as info:
        read_micrograph(tmp_path / "s.tif", pixel_size_m=1e-9)
    _assert_one_line(info.value)


def test_read_micrograph_cmyk_raises(tmp_path, rng):
    cmyk = np.stack([_texture(rng) for _ in range(4)], axis=-1)
    tifffile.imwrite(tmp_path / "k.tif", cmyk, photometric="separated")
    with pytest.raises(InputError, match="colour model SEPARATED with 4 channel"):
        read_micrograph(tmp_path / "k.tif", pixel_size_m=1e-9)


@pytest.mark.parametrize("bad", [-1, 160, 500, 2.5, True, "3"])
def test_read_micrograph_bad_databar_override_raises(tmp_path, rng, bad):
    tif = write_sem_tiff(tmp_path / "a.tif", _texture(rng), vendor="fei", pixel_size_m=1e-9)[0]
    with pytest.raises(InputError, match=r"databar rows must be an integer with 0 <= rows < 160") as info:
        read_micrograph(tif, databar_rows=bad)
    _assert_one_line(info.value)


# ------------------------------------------------------------------------------------------
# databar
# ------------------------------------------------------------------------------------------


def test_read_micrograph_databar_override_wins_over_vendor(tmp_path, rng):
    tif = write_sem_tiff(tmp_path / "a.tif", _texture(rng), vendor="fei", pixel_size_m=1e-9, databar_rows=20)[0]
    m = read_micrograph(tif, databar_rows=5)
    assert (m.databar_rows, m.databar_source) == (5, "--databar-rows")
    assert any("overrides FEI ResolutionY: 20 rows" in n for n in m.notes)


def test_read_micrograph_databar_zero_disables_detection(tmp_path, rng):
    tif = write_sem_tiff(tmp_path / "a.tif", _bar_image(rng, 30), vendor="zeiss", pixel_size_m=1e-9)[0]
    assert read_micrograph(tif).databar_rows == 30
    m = read_micrograph(tif, databar_rows=0)
    assert (m.databar_rows, m.databar_source) == (0, "--databar-rows")
    assert m.analysis_pixels.shape == SHAPE


def test_read_micrograph_tescan_strip_size_is_the_databar(tmp_path, rng):
    tif = write_sem_tiff(tmp_path / "t.tif", _texture(rng), vendor="tescan", pixel_size_m=1e-9, databar_rows=12)[0]
    m = read_micrograph(tif)
    assert (m.databar_rows, m.databar_source) == (12, "TESCAN ImageStripSize")


@pytest.mark.parametrize("bar_rows", [8, 20, 45])
@pytest.mark.parametrize("white", [False, True])
def test_detect_databar_rows_finds_rendered_bar(rng, bar_rows, white):
    assert detect_databar_rows(_bar_image(rng, bar_rows, white=white)) == bar_rows


def test_detect_databar_rows_includes_image_rows_below_a_zeiss_bar(rng):
    """Zeiss leaves 1-2 image rows under its bar; they are cropped with it."""
    assert detect_databar_rows(_bar_image(rng, 40, white=True, tail=2)) == 40


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_detect_databar_rows_other_dtypes(rng, dtype):
    img = paint_databar(_texture(rng, dtype=dtype), 25)
    assert detect_databar_rows(img) == 25


def _smooth_texture(rng: np.random.Generator, shape=(200, 240)) -> np.ndarray:
    from scipy import ndimage

    field = ndimage.gaussian_filter(rng.normal(size=shape), 4)
    return ((field - field.min()) / np.ptp(field) * 255).astype(np.uint8)


def _disks(rng: np.random.Generator, shape=(200, 240), noise: float = 0.0) -> np.ndarray:
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    img = np.zeros(shape)
    centres_r, centres_c, radii = rng.uniform(0, shape[0], 60), rng.uniform(0, shape[1], 60), rng.uniform(4, 10, 60)
    for r, c, rad in zip(centres_r, centres_c, radii, strict=True):
        img[(rows - r) ** 2 + (cols - c) ** 2 <= rad**2] = 200
    return (img + rng.normal(40, noise, shape) if noise else img).clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    "kind",
    [
        "noise",
        "smooth_texture",
        "noise_free_disks",
        "noisy_disks",
        "dark_noisy_bottom",
        "black_bottom_without_text",
        "black_bottom_with_noisy_grain",
        "gradient",
        "constant",
        "float_noise_with_nan",
        "tall_flat_bottom",
    ],
)
def test_detect_databar_rows_absent_gives_zero(rng, kind):
    """Images without a bar are never cropped, even with dark or black content at the bottom."""
    if kind == "noise":
        img = rng.integers(0, 256, (200, 240)).astype(np.uint8)
    elif kind == "smooth_texture":
        img = _smooth_texture(rng)
    elif kind == "noise_free_disks":
        img = _disks(rng)
    elif kind == "noisy_disks":
        img = _disks(rng, noise=8)
    elif kind == "dark_noisy_bottom":
        img = _disks(rng, noise=8)
        img[160:] = rng.normal(10, 3, (40, 240)).clip(0, 255).astype(np.uint8)
        img[170:180, 40:50] = 240
    elif kind == "black_bottom_without_text":
        img = _smooth_texture(rng)
        img[170:] = 0
    elif kind == "black_bottom_with_noisy_grain":
        img = _smooth_texture(rng)
        img[165:] = 0
        img[175:195, 30:60] = rng.normal(220, 10, (20, 30)).clip(0, 255).astype(np.uint8)
    elif kind == "gradient":
        img = np.tile(np.linspace(0, 255, 240), (200, 1)).astype(np.uint8)
    elif kind == "constant":
        img = np.full((200, 240), 7, np.uint16)
    elif kind == "float_noise_with_nan":
        img = rng.random((200, 240)).astype(np.float32)
        img[190:, :5] = np.nan
    else:  # a rendered-looking band taller than any bar (40 % of the height)
        img = _smooth_texture(rng)
        img[120:] = 0
        img[130:140, 10:200:6] = 255
    assert detect_databar_rows(img) == 0


@pytest.mark.parametrize(("edge_value", "edge_fraction"), [(0, 0.3), (128, 0.92)])
def test_detect_databar_rows_without_sharp_edge_gives_zero(rng, edge_value, edge_fraction):
    """An image row above the band partly at the bar's background value, or nearly flat: no crop."""
    img = _bar_image(rng, 30)
    edge = img.shape[0] - 31
    noisy = rng.choice(img.shape[1], size=round((1 - edge_fraction) * img.shape[1]), replace=False)
    img[edge] = edge_value
    img[edge, noisy] = rng.integers(60, 200, noisy.size)
    assert detect_databar_rows(img) == 0


def test_detect_databar_rows_anti_aliased_text():
    """Bars drawn with anti-aliased fonts (many grey levels in text rows) are found whole."""
    import cv2

    rng = np.random.default_rng(5)
    img = _texture(rng, shape=(400, 500))
    bar = np.full((36, 500), 8, np.uint8)
    cv2.putText(bar, "HV = 5.00 kV  WD = 4.2 mm  200 nm", (10, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 245, 1, cv2.LINE_AA)
    cv2.putText(bar, "morpho synthetic  Signal = InLens", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 245, 1, cv2.LINE_AA)
    cv2.rectangle(bar, (380, 20), (480, 24), 245, thickness=-1)
    img[-36:] = bar
    assert detect_databar_rows(img) == 36


def test_detect_databar_rows_small_image_gives_zero(rng):
    assert detect_databar_rows(_texture(rng, shape=(20, 20))) == 0


def test_detect_databar_rows_rejects_3d():
    with pytest.raises(InputError, match="needs a 2-D grey image"):
        detect_databar_rows(np.zeros((4, 5, 3)))


def test_read_micrograph_records_databar_decision(tmp_path, rng):
    tif = write_sem_tiff(tmp_path / "a.tif", _smooth_texture(rng), vendor="zeiss", pixel_size_m=1e-9)[0]
    m = read_micrograph(tif)
    assert (m.databar_rows, m.databar_source) == (0, "none")
    assert any(n.startswith("databar: none") for n in m.notes)


# ------------------------------------------------------------------------------------------
# writer validation
# ------------------------------------------------------------------------------------------


def test_write_sem_tiff_unknown_vendor_raises(tmp_path, rng):
    with pytest.raises(ConfigError, match="unknown SEM vendor format 'leica'"):
        write_sem_tiff(tmp_path / "a.tif", _texture(rng), vendor="leica", pixel_size_m=1e-9)


def test_write_sem_tiff_unknown_compression_raises(tmp_path, rng):
    with pytest.raises(ConfigError, match="unknown compression 'zip'"):
        write_sem_tiff(tmp_path / "a.tif", _texture(rng), vendor="fei", pixel_size_m=1e-9, compression="zip")


@pytest.mark.parametrize(
    ("image", "match"),
    [(np.zeros((4, 5, 3), np.uint8), "2-D grey array"), (np.zeros((40, 50), np.int32), "dtype must be uint8")],
)
def test_write_sem_tiff_bad_image_raises(tmp_path, image, match):
    with pytest.raises(InputError, match=match):
        write_sem_tiff(tmp_path / "a.tif", image, vendor="fei", pixel_size_m=1e-9)


@pytest.mark.parametrize("px", [0, -1e-9, math.nan, None])
def test_write_sem_tiff_bad_pixel_size_raises(tmp_path, rng, px):
    with pytest.raises(InputError, match="pixel_size_m must be a finite length > 0"):
        write_sem_tiff(tmp_path / "a.tif", _texture(rng), vendor="fei", pixel_size_m=px)


@pytest.mark.parametrize("rows", [-1, 160, 1.5])
def test_write_sem_tiff_bad_databar_rows_raises(tmp_path, rng, rows):
    with pytest.raises(InputError, match="databar_rows must be an integer"):
        write_sem_tiff(tmp_path / "a.tif", _texture(rng), vendor="fei", pixel_size_m=1e-9, databar_rows=rows)


def test_paint_databar_bad_rows_raises():
    with pytest.raises(InputError, match="bar rows must be between 1 and 9"):
        paint_databar(np.zeros((10, 10), np.uint8), 10)


def test_write_sem_tiff_keeps_a_bar_that_is_already_there(tmp_path, rng):
    img = _bar_image(rng, 30, white=True)
    tif = write_sem_tiff(tmp_path / "a.tif", img, vendor="zeiss", pixel_size_m=1e-9, databar_rows=30)[0]
    np.testing.assert_array_equal(tifffile.imread(tif), img)
