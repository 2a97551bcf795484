"""Per-grain measurements."""

import numpy as np
import pytest

from morpho.errors import InputError
from morpho.measure import GRAIN_COLUMNS, measure_grains

PX = 5e-9


def test_measure_grains_disk_area_and_diameter_within_digitisation():
    rr, cc = np.mgrid[:101, :101]
    lab = ((rr - 50) ** 2 + (cc - 50) ** 2 <= 30**2).astype(np.int32)
    g = measure_grains(lab, pixel_size_m=PX)
    assert list(g.columns) == GRAIN_COLUMNS
    # digitised disk of radius 30 px: equivalent diameter within 0.5 px of 60 px
    assert g.diameter_m.iloc[0] == pytest.approx(60 * PX, abs=0.5 * PX)
    assert g.x_m.iloc[0] == pytest.approx(50 * PX, rel=1e-12)
    assert g.y_m.iloc[0] == pytest.approx(50 * PX, rel=1e-12)
    # Perimeter of a digitised circle: within 3 % of 2 pi r
    assert g.perimeter_m.iloc[0] == pytest.approx(2 * np.pi * 30 * PX, rel=0.03)
    assert g.eccentricity.iloc[0] < 0.05
    assert not g.touches_border.iloc[0]


def test_measure_grains_rectangle_axes_and_border_flag():
    lab = np.zeros((20, 40), dtype=np.int32)
    lab[0:5, 10:30] = 1  # touches the top edge
    lab[10:14, 5:7] = 2
    g = measure_grains(lab, pixel_size_m=PX)
    assert g.touches_border.tolist() == [True, False]
    assert g.area_m2.tolist() == pytest.approx([100 * PX**2, 8 * PX**2], rel=1e-12)
    assert g.major_axis_m.iloc[0] > g.minor_axis_m.iloc[0]
    # rows are y: grain 1's major axis runs along x (columns): orientation +-pi/2 from the row axis
    assert abs(g.orientation_rad.iloc[0]) == pytest.approx(np.pi / 2, abs=1e-6)


def test_measure_grains_scale_covariance():
    lab = np.zeros((30, 30), dtype=np.int32)
    lab[5:12, 4:20] = 1
    lab[15:25, 15:28] = 2
    a = measure_grains(lab, pixel_size_m=PX)
    b = measure_grains(lab, pixel_size_m=3 * PX)
    for col in ("x_m", "y_m", "diameter_m", "perimeter_m", "major_axis_m", "minor_axis_m"):
        assert b[col].to_numpy() == pytest.approx(3 * a[col].to_numpy(), rel=1e-12)
    assert b.area_m2.to_numpy() == pytest.approx(9 * a.area_m2.to_numpy(), rel=1e-12)
    assert b.solidity.to_numpy() == pytest.approx(a.solidity.to_numpy(), rel=1e-12)


def test_measure_grains_empty_labels_give_empty_table():
    g = measure_grains(np.zeros((5, 5), dtype=np.int32), pixel_size_m=PX)
    assert len(g) == 0 and list(g.columns) == GRAIN_COLUMNS


def test_measure_grains_bad_input_raises():
    with pytest.raises(InputError, match="2-D integer"):
        measure_grains(np.zeros((5, 5), dtype=float), pixel_size_m=PX)
    with pytest.raises(InputError, match="pixel_size_m"):
        measure_grains(np.zeros((5, 5), dtype=np.int32), pixel_size_m=0.0)
    lab = np.zeros((5, 5), dtype=np.int32)
    lab[0, 0] = 2
    with pytest.raises(InputError, match="without gaps"):
        measure_grains(lab, pixel_size_m=PX)


def test_measure_grains_matches_skimage_regionprops():
    """Vectorised moments and Crofton perimeter equal scikit-image's per-region values."""
    from skimage.measure import label, regionprops_table

    rng = np.random.default_rng(0)
    blobs = rng.random((120, 150)) > 0.55
    lab = label(blobs, connectivity=1).astype(np.int32)
    g = measure_grains(lab, pixel_size_m=1.0)
    ref = regionprops_table(lab, properties=("label", "perimeter_crofton", "axis_major_length",
                                              "axis_minor_length", "orientation", "eccentricity"))
    assert g.perimeter_m.to_numpy() == pytest.approx(ref["perimeter_crofton"], rel=1e-9, abs=1e-9)
    assert g.major_axis_m.to_numpy() == pytest.approx(ref["axis_major_length"], rel=1e-9, abs=1e-9)
    assert g.minor_axis_m.to_numpy() == pytest.approx(ref["axis_minor_length"], rel=1e-9, abs=1e-9)
    assert g.eccentricity.to_numpy() == pytest.approx(ref["eccentricity"], rel=1e-9, abs=1e-9)
    # orientation is defined modulo pi (a line); compare the doubled angles
    assert np.cos(2 * g.orientation_rad.to_numpy()) == pytest.approx(np.cos(2 * ref["orientation"]), abs=1e-9)


def test_measure_grains_solidity_of_convex_and_concave_shapes():
    lab = np.zeros((40, 40), dtype=np.int32)
    lab[2:10, 2:20] = 1  # rectangle: its pixel squares are exactly their own hull
    lab[15:35, 15:35] = 2
    lab[15:30, 20:30] = 0  # a U shape: area 250 of a 400 px^2 hull
    lab = lab.copy()
    g = measure_grains(lab, pixel_size_m=1.0)
    assert g.solidity.iloc[0] == pytest.approx(1.0, rel=1e-12)
    assert g.solidity.iloc[1] == pytest.approx(250 / 400, rel=1e-12)


@pytest.mark.parametrize("band", [1, 3, 7, 64])
def test_measurements_do_not_depend_on_the_band_height(monkeypatch, band):
    """The banded sums (memory bounded on large images) equal one pass over the whole image,
    also for grains that span many bands and touch band edges."""
    import morpho.measure as measure
    from skimage.measure import label

    rng = np.random.default_rng(3)
    lab = label(rng.random((90, 70)) > 0.45, connectivity=1).astype(np.int32)
    monkeypatch.setattr(measure, "BAND_ROWS", 10**6)
    whole = measure_grains(lab, pixel_size_m=PX)
    monkeypatch.setattr(measure, "BAND_ROWS", band)
    banded = measure_grains(lab, pixel_size_m=PX)
    for column in GRAIN_COLUMNS:
        a, b = whole[column].to_numpy(), banded[column].to_numpy()
        if a.dtype.kind in "iub":
            assert np.array_equal(a, b), column
        else:
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15 * PX, err_msg=column)
