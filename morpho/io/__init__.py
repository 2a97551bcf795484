"""Read SEM micrographs: pixels, pixel size and its source, and the rows of the info bar.

:func:`read_micrograph` is the only way pixels enter morpho.  It reads the first page of a TIFF
file (8/16-bit integer or float grey; grey-looking or colour RGB(A); palette; compressed with
LZW, deflate, ... through tifffile and imagecodecs) and resolves the physical pixel size from the
first source that gives a valid one, in this order:

1. the ``pixel_size_m`` argument (``--pixel-size`` on the command line);
2. FEI / Thermo Fisher tags 34682 and 34680 (INI text): ``[Scan] PixelWidth``, then
   ``[EScan] PixelWidth``, in metres;
3. Zeiss SmartSEM tag 34118 (CZ_SEM): ``ap_image_pixel_size``; else the field width
   ``ap_width`` divided by the stored image width; else ``ap_pixel_size`` (which Zeiss quotes
   for a 1024-pixel-wide frame) scaled by 1024 / image width;
4. TESCAN tag 50431 (binary blob holding INI text): ``PixelSizeX`` in metres;
5. a JEOL SEM sidecar ``<stem>.txt``: ``0.128 m / $CM_MAG / image width in pixels``;
6. JEOL SightX XML in ImageDescription (TEM, MAG mode):
   ``0.0254 m / XResolution (pixels per inch) / magnification``;
7. Hitachi: ``[SemImageFile] PixelSize`` (nm) in a UTF-16 sidecar ``<stem>.txt`` or in TIFF
   tag 40092;
8. ImageJ calibration: ``unit=`` in ImageDescription with XResolution as pixels per unit;
9. DigitalMicrograph private tags 65009 (scale) and 65003 (unit).

The plain TIFF XResolution in inches or centimetres is screen DPI and is never used as a pixel
size.  Metadata values that are not numbers, zero, negative or not finite count as absent, and
the chain goes on.  When nothing gives a scale, :class:`~morpho.errors.PixelSizeError` says what
was looked for and how to give the pixel size.

The info bar (databar) at the bottom is taken from the ``databar_rows`` argument, else from the
vendor's metadata (FEI ``[Image] ResolutionY``, TESCAN ``ImageStripSize``, Hitachi
``DataSize``), else detected from the pixels by :func:`detect_databar_rows`, which is
conservative: it returns 0 unless the bottom rows look unmistakably like a rendered bar.

Before any pixel is decoded, the size the TIFF header declares for the first page (rows x cols
x samples, and each strip or tile) is checked against a pixel budget, ``max_pixels``
(:data:`DEFAULT_MAX_PIXELS` = 2**29 px, about 10 GB of peak memory for an analysis), so that a
corrupt or hostile header cannot make the reader allocate gigabytes.  For the same reason JPEG
and PNG strips must not hold more pixels than the header declares, and codecs whose memory use
cannot be bounded from the header (JPEG 2000, JPEG XL, WebP, LERC ...) are read only with
``max_pixels=None``; uncompressed, LZW, deflate, PackBits, LZMA and ZSTD are always bounded.

Every decision is recorded in :attr:`Micrograph.notes`.
"""

from ._analysis import AnalysisTables, read_analysis_folder, read_csv_table
from ._databar import detect_databar_rows
from ._micrograph import Micrograph, micrograph_info, read_micrograph
from ._pixels import DEFAULT_MAX_PIXELS
from ._vendors import VENDORS

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "VENDORS",
    "AnalysisTables",
    "Micrograph",
    "detect_databar_rows",
    "micrograph_info",
    "read_analysis_folder",
    "read_csv_table",
    "read_micrograph",
]
