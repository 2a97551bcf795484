"""Region-merging segmentation (segment.method = "regions", morpho.regions) for closed films."""

import cv2
import numpy as np
import pytest

from morpho.config import SegmentConfig, load_config
from morpho.errors import ConfigError
from morpho.evaluate import match_labels
from morpho.regions import matrix_mode, segment_regions
from morpho.segment import _noise_by_level, relabel_raster_order, segment, valley_strength
from morpho.synthetic import make_sem_micrograph

PX = 2e-9
REGIONS = SegmentConfig(method="regions")


def _closed_film(rng: np.random.Generator, *, noise: float = 0.04, groove: bool = False):
    """Pairs of touching 32-px tiles between 12-px matrix channels, levels from dim to bright.

    Eight pairs (16 tiles) on a 240 x 240 field; the two tiles of a pair touch along a whole
    side with no gap.  The dimmest tile is only 1.5 noise sigmas above the matrix: below any
    global threshold that keeps the bright tiles apart from the matrix.  With `groove`, the two
    tiles of the first pair have the same level and are separated only by a dark 2-px contact
    groove (which is matrix in the truth).
    """
    rows = cols = 240
    truth = np.zeros((rows, cols), dtype=np.int32)
    img = np.full((rows, cols), 0.20, dtype=np.float32)
    levels = [0.26, 0.60, 0.45, 0.75, 0.35, 0.55, 0.40, 0.70, 0.30, 0.65, 0.50, 0.80, 0.33, 0.62, 0.42, 0.72]
    if groove:
        levels[1] = levels[0] = 0.5
    k = 0
    for i in range(4):
        for j in range(2):
            y0, x0 = 14 + 56 * i, 14 + 112 * j
            for t in range(2):
                truth[y0:y0 + 40, x0 + 40 * t:x0 + 40 * (t + 1)] = k + 1
                img[y0:y0 + 40, x0 + 40 * t:x0 + 40 * (t + 1)] = levels[k]
                k += 1
    if groove:
        img[14:54, 53:55] = 0.20
        truth[14:54, 53:55] = 0
    img = cv2.GaussianBlur(img, (0, 0), 0.8) + rng.normal(0, noise, img.shape).astype(np.float32)
    return img, relabel_raster_order(truth)


def test_regions_finds_every_tile_of_a_closed_film_including_the_dim_one():
    img, truth = _closed_film(np.random.default_rng(0))
    got = segment(img, pixel_size_m=PX, config=REGIONS).labels
    m = match_labels(truth, got)
    assert m.n_true == 16
    assert m.recall == pytest.approx(1.0)  # the dim tile too
    assert m.precision >= 0.9  # a blurred tile corner may stay a piece of its own
    assert m.mean_iou > 0.9
    # The threshold path cannot: the dim tile is below its threshold, bright neighbours merge.
    default = match_labels(truth, segment(img, pixel_size_m=PX).labels)
    assert default.f1 < 0.9


def test_regions_splits_equal_tiles_at_a_contact_groove():
    img, truth = _closed_film(np.random.default_rng(1), groove=True)
    got = segment(img, pixel_size_m=PX, config=REGIONS).labels
    m = match_labels(truth, got)
    assert m.f1 == pytest.approx(1.0)


def test_regions_finds_nothing_in_pure_noise():
    rng = np.random.default_rng(2)
    img = (0.3 + 0.05 * rng.standard_normal((128, 128))).astype(np.float32)
    smooth = cv2.GaussianBlur(img, (0, 0), 1.0)
    levels = _noise_by_level(img, smooth)
    labels = segment_regions(img, smooth, levels, valley_strength(img, smooth, noise_by_level=levels),
                             matrix_level=float(np.median(smooth)))
    assert labels.max() == 0


def test_matrix_mode_is_the_darkest_peak_not_the_pile_of_dim_grains():
    rng = np.random.default_rng(3)
    matrix = rng.normal(0.10, 0.01, 20_000)
    dim_grains = rng.normal(0.35, 0.02, 60_000)  # taller peak just under the threshold
    values = np.concatenate([matrix, dim_grains]).astype(np.float32)[None, :]
    assert matrix_mode(values, np.ones_like(values, dtype=bool)) == pytest.approx(0.10, abs=0.01)


def test_method_is_validated_and_read_from_a_config_mapping():
    with pytest.raises(ConfigError, match=r"segment\.method must be 'threshold' or 'regions'"):
        SegmentConfig(method="watershed")
    cfg = load_config('{"segment": {"method": "regions"}}', fmt="json")
    assert cfg.segment.method == "regions"


def _ell(levels: tuple[float, float], *, ramp: float = 0.0, rng: np.random.Generator):
    """An L of two 30-px-wide arms meeting at a 30-px contact (no neck for a shape split).

    Arm 1 is the horizontal bar with the corner square, arm 2 the vertical bar below it; with
    `ramp`, a brightness ramp runs along the L instead (one shaded grain).  The field is large
    enough for the matrix to dominate every block of the background fit.
    """
    yy, xx = np.mgrid[:240, :280]
    first = (yy >= 80) & (yy < 110) & (xx >= 100) & (xx < 190)
    second = (yy >= 110) & (yy < 180) & (xx >= 100) & (xx < 130)
    img = np.full(yy.shape, 0.15, dtype=np.float32)
    img[first], img[second] = levels
    img += np.where(first | second, ramp * ((xx - 100) - (yy - 80)) / 90.0, 0.0).astype(np.float32)
    img = cv2.GaussianBlur(img, (0, 0), 0.8) + rng.normal(0, 0.04, img.shape).astype(np.float32)
    return img, first.astype(np.int32) + 2 * second.astype(np.int32)


def test_touching_grains_of_different_level_are_split_where_shape_cannot():
    img, truth = _ell((0.50, 0.65), rng=np.random.default_rng(4))
    assert match_labels(truth, segment(img, pixel_size_m=PX).labels).f1 == pytest.approx(1.0)
    # Without the level test the shape alone keeps the L as one grain.
    assert segment(img, pixel_size_m=PX, config=SegmentConfig(split_by_level=False)).labels.max() == 1


def test_a_shaded_grain_of_the_same_shape_is_not_split():
    """A brightness ramp along one grain is no step between two grains.

    Its patches of one level would split it in four; the pieces are not flat (shading), which is
    what keeps it whole.
    """
    img, _ = _ell((0.45, 0.45), ramp=0.4, rng=np.random.default_rng(5))
    assert segment(img, pixel_size_m=PX).labels.max() == 1
    assert segment(img, pixel_size_m=PX, config=SegmentConfig(split_by_level=False)).labels.max() == 1


@pytest.mark.parametrize("seed", [1, 2])
def test_level_split_finds_touching_grains_of_the_narrow_gaps_preset(seed):
    """Grains touching with no gap: recall rises, precision does not fall (measured: +0.1 / +0.02)."""
    sample = make_sem_micrograph((640, 640), preset="narrow-gaps", rng=seed)
    truth = relabel_raster_order(sample.labels)
    with_level = match_labels(truth, segment(sample.image, pixel_size_m=sample.pixel_size_m).labels)
    shape_only = match_labels(truth, segment(sample.image, pixel_size_m=sample.pixel_size_m,
                                             config=SegmentConfig(split_by_level=False)).labels)
    assert with_level.recall >= shape_only.recall + 0.05
    assert with_level.precision >= shape_only.precision - 0.01


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.int16])
def test_label_max_equals_ndimage_maximum(dtype):
    """label_max (sparse row maxima) gives ndimage.maximum's numbers, negative values included,
    and -inf for labels without pixels."""
    from scipy import ndimage as ndi

    from morpho.regions import label_max

    rng = np.random.default_rng(4)
    lab = rng.integers(0, 60, (70, 90))
    lab[lab == 11] = 0  # a label with no pixel
    raw = rng.standard_normal((70, 90)) * 50
    values = (np.abs(raw) if np.dtype(dtype).kind == "u" else raw).astype(dtype)
    got = label_max(values, lab, 63)
    want = np.asarray(ndi.maximum(values, lab, index=np.arange(64)))
    present = np.bincount(lab.ravel(), minlength=64) > 0
    assert np.array_equal(got[present], want[present].astype(np.float64))
    assert np.all(np.isneginf(got[~present]))
    assert np.all(np.isneginf(label_max(values[:0], lab[:0], 3)))
