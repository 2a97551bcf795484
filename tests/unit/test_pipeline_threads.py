"""The number of threads changes how fast an analysis runs, never what it finds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from morpho.config import config_from_dict
from morpho.io import Micrograph
from morpho.pipeline import analyze
from morpho.synthetic import make_sem_micrograph


def test_analysis_tables_are_identical_with_one_or_two_threads():
    """Tiles on two threads and the SKIZ transform made beside the measurements give the same
    labels, grains, junctions and summary as one thread."""
    sample = make_sem_micrograph((640, 640), preset="inox-bimodal", pixel_size_m=4.5e-9, rng=3)
    micrograph = Micrograph(sample.image, 4.5e-9, "test", 0, "none", "none", "film.tif", "0" * 64, 1)
    cfg = config_from_dict({"segment": {"tile_px": 256, "tile_overlap_px": 96}})
    one = analyze(micrograph, cfg, threads=1)
    two = analyze(micrograph, cfg, threads=2)
    assert one.segmentation.n_tiles == 9
    assert np.array_equal(one.segmentation.labels, two.segmentation.labels)
    pd.testing.assert_frame_equal(one.grains, two.grains)
    pd.testing.assert_frame_equal(one.junctions, two.junctions)
    assert one.warnings == two.warnings
