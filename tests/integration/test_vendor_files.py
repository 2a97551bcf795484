"""read_micrograph on real microscope files (../shared/data, see its SOURCES.md).

The files are never copied into the repository (GPL, CC BY-NC-ND); the tests skip where the
folder is absent, as in a user's checkout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from morpho.errors import PixelSizeError
from morpho.io import read_micrograph

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
METADATA = SHARED_DATA / "metadata"

pytestmark = pytest.mark.realdata

# Expected pixel sizes from SOURCES.md.  Vendors round them to 4-5 digits, hence rel=1e-3.
REL = 1e-3

# (file, pixel size in m, databar rows, databar source, expected warning or None)
CASES = [
    ("rosettasciio/FEI-Helios-Ebeam-8bits.tif", 3.3724e-6, 29, "FEI ResolutionY", None),
    ("rosettasciio/FEI-Helios-Ebeam-16bits.tif", 3.3724e-6, 29, "FEI ResolutionY", None),
    # ap_pixel_size (5.825 nm) refers to a 1024-px scan; the stored image is 512 px wide
    ("rosettasciio/test_tiff_Zeiss_SEM_512pix.tif", 11.65e-9, 34, "detected from pixels", "refers to a 1024-px-wide"),
    # white Zeiss bar from row 691; row 767 is an image row left below it
    ("rosettasciio/test_tiff_Zeiss_SEM_1k.tif", 2.6145e-6, 77, "detected from pixels", None),
    ("rosettasciio/ZEISS_SEM_multipage.tif", 12.33e-9, 0, "none", "has 2 pages"),
    ("rosettasciio/JEOL-SightX-TEM-mag-dummy.tif", 1.8208e-9, 0, "none", None),
    ("rosettasciio/test_loading_image_saved_with_DM.tif", 0.16867e-6, 0, "none", None),
    ("rosettasciio/test_loading_image_saved_with_imageJ.tif", 0.16867e-6, 0, "none", None),
    ("zeiss_tiff_meta/test.tif", 55.82e-9, 0, "none", None),
    # black Crossbeam bar from row 708
    ("odemis/zeiss_example_sem.tif", 593.3e-9, 60, "detected from pixels", None),
    # the JEOL overlay text sits on the image: no bar to crop
    ("odemis/jeol_example_sem.tif", 2.0e-6, 0, "none", None),
]

NO_SCALE = [
    ("rosettasciio/FEI-Helios-navcam-with-no-IRBeam-bad-floats.tif", "FEI metadata has no valid"),
    ("rosettasciio/test_loading_image_saved_with_imageJ_no_scale.tif", "ImageJ metadata has no length calibration"),
]


def _file(relative: str) -> Path:
    path = METADATA / relative
    if not path.is_file():
        pytest.skip(f"{path} is not present (../shared/data is only beside the development checkout)")
    return path


@pytest.mark.parametrize(("relative", "pixel_size_m", "bar_rows", "bar_source", "warning"), CASES)
def test_real_file_pixel_size_and_databar(relative, pixel_size_m, bar_rows, bar_source, warning):
    path = _file(relative)
    if warning is None:
        m = read_micrograph(path)
    else:
        with pytest.warns(UserWarning, match=warning):
            m = read_micrograph(path)
    assert m.pixel_size_m == pytest.approx(pixel_size_m, rel=REL)
    assert (m.databar_rows, m.databar_source) == (bar_rows, bar_source)


@pytest.mark.parametrize(("relative", "reason"), NO_SCALE)
def test_real_file_without_scale_raises_clear_error(relative, reason):
    path = _file(relative)
    with pytest.raises(PixelSizeError, match=rf"no pixel size in {path.name} \({reason}.*--pixel-size 2\.5nm") as info:
        read_micrograph(path)
    assert "\n" not in str(info.value)


def test_real_file_without_scale_reads_with_pixel_size_argument():
    path = _file("rosettasciio/FEI-Helios-navcam-with-no-IRBeam-bad-floats.tif")
    m = read_micrograph(path, pixel_size_m=5e-9)
    assert (m.pixel_size_m, m.pixel_size_source, m.vendor) == (5e-9, "--pixel-size", "fei")
    # FEI [Image] ResolutionY = 512 of 551 rows: the bar is known even without a scale
    assert (m.databar_rows, m.databar_source) == (39, "FEI ResolutionY")


@pytest.mark.parametrize("name", ["1908248.tif", "1908252.tif", "1908256.tif", "1908260.tif", "1908264.tif"])
def test_bam_tio2_zeiss_images(name):
    """SOURCES.md: pixel 7.344 nm from tag 34118; the Zeiss databar starts at row 712 of 768."""
    path = SHARED_DATA / "groundtruth" / "bam_tio2" / "images" / name
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    m = read_micrograph(path)
    assert m.pixel_size_m == pytest.approx(7.344e-9, rel=REL)
    assert m.shape_px[0] - m.databar_rows == 712
