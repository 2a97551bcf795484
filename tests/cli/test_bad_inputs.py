"""The bad-input catalogue: every case ends with exit 2 and one line naming the problem and the fix.

One row per case of the hardening issue (README "Bad input"): the file or option, the exit code,
a word the message must contain, and that no result folder (nor a hidden temporary one) is left.
The few inputs that are odd but analysable (RGB, unicode paths) are at the end, with the outcome
they get instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import tifffile

from morpho.cli import main
from morpho.export import write_synthetic
from morpho.synthetic import make_sem_micrograph

PX = ["--pixel-size", "4nm"]


@pytest.fixture(scope="module")
def film(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """A small synthetic film as an FEI TIFF, and its pixels."""
    folder = tmp_path_factory.mktemp("film")
    sample = make_sem_micrograph((320, 320), preset="inox-bimodal", rng=3)
    write_synthetic(sample, folder / "film.tif", vendor="fei")
    return folder / "film.tif", tifffile.imread(folder / "film.tif")


def _fei(path: Path, image: np.ndarray, pixel_width: str) -> Path:
    """An FEI-style TIFF whose [Scan] PixelWidth is the given text."""
    text = f"[User]\nDate=01/01/2024\n[Scan]\nPixelWidth={pixel_width}\nPixelHeight={pixel_width}\n"
    tifffile.imwrite(path, image, extratags=[(34682, "s", 0, text, True)])
    return path


def _corrupt_ifd(path: Path, data: bytes) -> Path:
    """The film with its first IFD's tag count set to 0xFFFF."""
    b = bytearray(data)
    order = "little" if b[:2] == b"II" else "big"
    first = int.from_bytes(b[4:8], order)
    b[first:first + 2] = b"\xff\xff"
    path.write_bytes(bytes(b))
    return path


def _huge(path: Path) -> Path:
    """A 64 x 64 TIFF whose header claims 60000 x 60000 pixels (3.6e9, above the default budget)."""
    tifffile.imwrite(path, np.zeros((64, 64), np.uint8))
    b = bytearray(path.read_bytes())
    first = int.from_bytes(b[4:8], "little")
    for i in range(int.from_bytes(b[first:first + 2], "little")):
        entry = first + 2 + 12 * i
        if int.from_bytes(b[entry:entry + 2], "little") in (256, 257):  # ImageWidth, ImageLength
            kind = int.from_bytes(b[entry + 2:entry + 4], "little")
            b[entry + 8:entry + 12] = (60000).to_bytes(2 if kind == 3 else 4, "little").ljust(4, b"\0")
    path.write_bytes(bytes(b))
    return path


def _noise(mean: float, sigma: float) -> np.ndarray:
    return np.clip(np.random.default_rng(1).normal(mean, sigma, (192, 192)), 0, 255).astype(np.uint8)


def _with_nan(image: np.ndarray) -> np.ndarray:
    out = image.astype(np.float32)
    out[5:9, 5:9] = np.nan
    out[40, 40] = np.inf
    return out


def _image(name: str, make: Callable[[np.ndarray], np.ndarray], **kwargs) -> Callable:
    """A case that writes ``make(film pixels)`` as a plain TIFF and analyses it with a pixel size."""
    def build(tmp: Path, film) -> list[str]:
        path = tmp / name
        tifffile.imwrite(path, make(film[1]), **kwargs)
        return [str(path), *PX]
    return build


def _file(name: str, content: Callable[[bytes], bytes]) -> Callable:
    def build(tmp: Path, film) -> list[str]:
        (tmp / name).write_bytes(content(film[0].read_bytes()))
        return [str(tmp / name)]
    return build


def _config(text: str) -> Callable:
    def build(tmp: Path, film) -> list[str]:
        (tmp / "m.toml").write_text(text)
        return [str(film[0]), "--config", str(tmp / "m.toml")]
    return build


# name -> (build(tmp, film) -> analyze arguments, a word the one-line error must contain)
CASES: dict[str, tuple[Callable, str]] = {
    "nonexistent path": (lambda tmp, film: [str(tmp / "nope.tif")], "not found"),
    "a directory": (lambda tmp, film: [str(tmp)], "folder"),
    "zero bytes": (_file("zero.tif", lambda d: b""), "0 bytes"),
    "not a TIFF": (_file("notes.tif", lambda d: b"this is not an image\n"), "not a TIFF"),
    "truncated TIFF": (_file("cut.tif", lambda d: d[: len(d) // 3]), "truncated"),
    "corrupt IFD": (lambda tmp, film: [str(_corrupt_ifd(tmp / "ifd.tif", film[0].read_bytes()))], "corrupt"),
    "TIFF declaring huge dimensions": (lambda tmp, film: [str(_huge(tmp / "huge.tif")), *PX], "--max-pixels"),
    "image above --max-pixels": (lambda tmp, film: [str(film[0]), "--max-pixels", "10000"], "--max-pixels"),
    "--max-pixels zero": (lambda tmp, film: [str(film[0]), "--max-pixels", "0"], "--max-pixels"),
    "float with NaN and Inf": (_image("nan.tif", _with_nan), "NaN"),
    "float all NaN": (_image("allnan.tif", lambda _: np.full((64, 64), np.nan, np.float32)), "NaN"),
    "constant image": (_image("flat.tif", lambda _: np.full((128, 128), 90, np.uint8)), "constant"),
    "all grain (bright noise)": (_image("bright.tif", lambda _: _noise(220, 4)), "no structure"),
    "all matrix (dark noise)": (_image("dark.tif", lambda _: _noise(30, 4)), "no structure"),
    "1 x 1 image": (_image("one.tif", lambda _: np.zeros((1, 1), np.uint8)), "1 x 1"),
    "3-D volume page": (_image("vol.tif", lambda _: np.zeros((4, 32, 32), np.uint8), volumetric=True,
                                photometric="minisblack"), "3-D"),
    "pixel size not a number": (lambda tmp, film: [str(_fei(tmp / "a.tif", film[1], "abc"))], "--pixel-size"),
    "pixel size zero": (lambda tmp, film: [str(_fei(tmp / "z.tif", film[1], "0"))], "--pixel-size"),
    "pixel size negative": (lambda tmp, film: [str(_fei(tmp / "n.tif", film[1], "-2e-09"))], "--pixel-size"),
    "pixel size NaN": (lambda tmp, film: [str(_fei(tmp / "q.tif", film[1], "nan"))], "--pixel-size"),
    "--pixel-size zero": (lambda tmp, film: [str(film[0]), "--pixel-size", "0nm"], "--pixel-size"),
    "--pixel-size negative": (lambda tmp, film: [str(film[0]), "--pixel-size", "-3nm"], "--pixel-size"),
    "--pixel-size NaN": (lambda tmp, film: [str(film[0]), "--pixel-size", "nan nm"], "--pixel-size"),
    "--pixel-size without unit": (lambda tmp, film: [str(film[0]), "--pixel-size", "2.5"], "no unit"),
    "config unknown key": (_config("[segment]\nthreshold_methd = 'otsu'\n"), "segment.threshold_methd"),
    "config unknown section": (_config("[segmnt]\ntile_px = 3\n"), "[segmnt]"),
    "config wrong type": (_config("[segment]\ntile_px = 'big'\n"), "segment.tile_px"),
    "config out of range": (_config("[segment]\nsplit_ratio = 2\n"), "split_ratio"),
    "config not TOML": (_config("not toml [[\n"), "TOML"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_exits_2_with_one_line_and_leaves_nothing(case, film, tmp_path, error_line):
    build, needle = CASES[case]
    inputs = tmp_path / "in"
    inputs.mkdir()
    args = build(inputs, film)
    out = tmp_path / "out"
    assert main(["analyze", *args, "-o", str(out), "-q"]) == 2
    line = error_line()
    assert needle in line, line
    assert not out.exists() or not any(out.iterdir()), sorted(p.name for p in out.iterdir())


def test_unwritable_output_folder_exits_2(film, tmp_path, error_line):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    assert main(["analyze", str(film[0]), "-o", str(blocker / "out")]) == 2
    assert "writable" in error_line()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_output_folder_exits_2(film, tmp_path, error_line):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert main(["analyze", str(film[0]), "-o", str(ro)]) == 2
        assert "writable" in error_line()
    finally:
        ro.chmod(0o700)


def test_plain_tiff_without_scale_asks_for_pixel_size(tmp_path, error_line):
    img = tmp_path / "plain.tif"
    tifffile.imwrite(img, (np.random.default_rng(0).random((64, 64)) * 255).astype(np.uint8), resolution=(300, 300))
    assert main(["analyze", str(img), "-o", str(tmp_path / "out")]) == 2
    assert "--pixel-size" in error_line()


def test_zero_size_page_exits_2(tmp_path, error_line):
    img = tmp_path / "empty.tif"
    with pytest.warns(UserWarning, match="zero-size"):
        tifffile.imwrite(img, np.zeros((0, 0), dtype=np.uint8))
    assert main(["analyze", str(img), "-o", str(tmp_path / "out"), *PX]) == 2
    error_line()


# Odd but analysable: the outcome is a result, with a warning where something was converted.

@pytest.mark.parametrize("alpha", [False, True])
def test_rgb_and_rgba_are_analysed_as_luminance_with_a_warning(film, tmp_path, capsys, alpha):
    grey = film[1]
    rgb = np.dstack([grey, np.roll(grey, 3, axis=1), grey] + ([np.full_like(grey, 255)] if alpha else []))
    path = tmp_path / "colour.tif"
    tifffile.imwrite(path, rgb, photometric="rgb", extrasamples=["unassalpha"] if alpha else None)
    assert main(["analyze", str(path), "-o", str(tmp_path / "out"), "--no-report", *PX]) == 0
    err = capsys.readouterr().err
    assert "warning" in err
    assert "luminance" in err
    assert json.loads((tmp_path / "out" / "colour" / "summary.json").read_text())["grains"]["count"] > 10


def test_unicode_and_spaces_in_paths(film, tmp_path):
    folder = tmp_path / "ünïcødé dír with spaces"
    folder.mkdir()
    image = folder / "film µ 1.tif"
    image.write_bytes(film[0].read_bytes())
    out = tmp_path / "résultats ✓"
    assert main(["analyze", str(image), "-o", str(out), "-q", "--no-report"]) == 0
    summary = json.loads((out / "film µ 1" / "summary.json").read_text(encoding="utf-8"))
    assert summary["input"]["path"] == str(image)
    assert main(["info", str(image), "--json"]) == 0
