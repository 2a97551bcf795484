"""The whole pipeline on real SEM files from ../shared/data (skipped where it is absent)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from skimage.measure import label

from morpho.config import AnalysisConfig
from morpho.evaluate import match_labels
from morpho.io import read_micrograph
from morpho.pipeline import analyze

pytestmark = pytest.mark.realdata


def test_close_packed_sphere_monolayer_has_coordination_six(shared_data):
    """zeiss_tiff_meta/test.tif: a close-packed monolayer of spheres, z = 6 where crystalline."""
    result = analyze(read_micrograph(shared_data / "metadata" / "zeiss_tiff_meta" / "test.tif"), AnalysisConfig())
    # Grain boundaries and vacancies of the real crystal lower z a little; 6 +- 0.3.
    assert result.summary["graph"]["mean_coordination"] == pytest.approx(6.0, abs=0.3)
    counts = result.summary["graph"]["coordination_counts"]
    assert max(counts, key=counts.get) == "6"


def test_bam_tio2_object_f1_does_not_regress(shared_data):
    """Real SEM with hand-drawn masks: median object F1 over the five images (0.433 measured)."""
    folder = shared_data / "groundtruth" / "bam_tio2"
    f1 = []
    for img in sorted((folder / "images").glob("*.tif")):
        mask = tifffile.imread(folder / "masks" / f"{img.stem}_m.tif")
        mask = mask[..., 0] if mask.ndim == 3 else mask
        truth = label(mask[:712] > 127, connectivity=1)  # recipe of SOURCES.md
        areas = np.bincount(truth.ravel())
        small = areas < 10
        small[0] = False
        truth[small[truth]] = 0
        result = analyze(read_micrograph(img), AnalysisConfig())
        assert result.micrograph.databar_rows == 768 - 712  # Zeiss bar found from the pixels
        f1.append(match_labels(truth, result.segmentation.labels).f1)
    # A floor a little under the measured 0.433: a regression of the split or edge logic shows here.
    assert np.median(f1) >= 0.40
