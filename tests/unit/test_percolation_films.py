"""Films near the percolation threshold (issue 19): segmentation keeps the matrix pockets, so the
coverage and the cluster figures of ``morpho analyze`` are those of the film, not of the film with
its holes filled.  The micrographs are morpho's own site-percolation films (square sites of one
grey level, ``morpho.synthetic.make_site_percolation``), whose truth keeps every pocket."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import ndimage as ndi

from morpho import segment as seg_mod
from morpho.errors import InputError
from morpho.percolation import percolation_analysis
from morpho.segment import segment
from morpho.synthetic import SITE_PC, make_site_percolation


def _segment(sample) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return segment(sample.image, pixel_size_m=sample.pixel_size_m).labels > 0


def test_site_film_truth():
    s = make_site_percolation((300, 300), p=0.6, site_px=3, contrast_to_noise=None, rng=3)
    metal = s.labels > 0
    assert abs(metal.mean() - 0.6) < 0.03
    # sites are whole 3 x 3 blocks, one grey level each, and the labels are 4-connected clusters
    assert np.array_equal(metal[::3, ::3].repeat(3, 0).repeat(3, 1), metal)
    assert set(np.unique(s.image[metal])) == {200}
    assert set(np.unique(s.image[~metal])) == {50}
    assert ndi.label(metal)[1] == s.labels.max()
    assert make_site_percolation((64, 64), bit_depth=16, rng=1).image.dtype == np.uint16


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"p": 1.0}, "p must be"), ({"site_px": 0}, "site_px"), ({"site_px": 2.5}, "site_px"),
    ({"contrast_to_noise": 0}, "contrast_to_noise"), ({"bit_depth": 12}, "bit_depth"),
])
def test_site_film_bad_arguments(kwargs, needle):
    with pytest.raises(InputError, match=needle):
        make_site_percolation((64, 64), **kwargs)


@pytest.mark.parametrize(("site", "p", "cnr", "bits"), [
    (3, SITE_PC, 40.0, 8),   # the micrograph of the issue (contrast-to-noise 37.5), smaller
    (3, SITE_PC, 10.0, 16),
    (3, 0.45, 10.0, 8),
    (4, 0.75, 10.0, 8),
    (4, SITE_PC, None, 16),
    (6, 0.45, 3.0, 8),
    (6, SITE_PC, 3.0, 16),
])
def test_site_film_coverage_and_spanning_are_the_truths(site, p, cnr, bits):
    s = make_site_percolation((640, 640), p=p, site_px=site, contrast_to_noise=cnr, bit_depth=bits, rng=7)
    truth, found = s.labels > 0, _segment(s)
    assert abs(found.mean() - truth.mean()) <= 0.005
    if p == SITE_PC and cnr is not None and cnr < 5:
        # at p_c one corner contact decides spanning, and at contrast-to-noise 3 the noise joins
        # two corner-touching sites now and then (bench/site_films.py: 4 of 12 images at p_c)
        return
    t = percolation_analysis(truth, pixel_size_m=s.pixel_size_m)
    f = percolation_analysis(found, pixel_size_m=s.pixel_size_m)
    assert (f.spans_x, f.spans_y) == (t.spans_x, t.spans_y)


def test_matrix_pockets_stay_matrix_and_dim_interiors_are_filled():
    """A ring of metal around a pocket at the matrix level keeps its pocket, however small (down
    to the size cut); the same ring around a dim interior (an edge-brightened grain) is filled."""
    rng = np.random.default_rng(0)
    img = np.full((200, 400), 0.2, np.float32)
    yy, xx = np.mgrid[:200, :400]
    truth = np.zeros(img.shape, bool)
    for cx, inner in ((100, 0.2), (300, 0.45)):  # the pocket is at the matrix level, the interior is not
        r = np.hypot(yy - 100, xx - cx)
        img[r < 40] = 0.8
        img[r < 4] = inner  # 7-8 px across: above the size cut
        truth |= (r < 40) & ~((r < 4) & (inner == 0.2))
    img += 0.02 * rng.standard_normal(img.shape).astype(np.float32)
    found = segment(img, pixel_size_m=5e-9).labels > 0
    r_left = np.hypot(yy - 100, xx - 100)
    assert not found[r_left < 2].any()  # the pocket is matrix
    assert found[np.hypot(yy - 100, xx - 300) < 4].all()  # the dim interior is grain
    assert np.mean(found != truth) < 0.002


def test_smoothing_follows_the_films_structure():
    """The noise-adaptive smoothing is capped by the film's correlation length, which reads half a
    site whatever the noise; coarse films keep their noise-adaptive smoothing."""
    for site in (3, 6):
        for cnr in (3.0, 40.0):
            s = make_site_percolation((512, 512), p=SITE_PC, site_px=site, contrast_to_noise=cnr, rng=2)
            flat = s.image.astype(np.float32) / 255.0
            assert seg_mod.correlation_length_px(flat) == pytest.approx(site / 2.0, rel=0.1)
    rng = np.random.default_rng(1)
    coarse = np.kron(rng.random((8, 8)) < 0.5, np.ones((64, 64))).astype(np.float32)
    assert seg_mod.correlation_length_px(coarse) > 20.0
