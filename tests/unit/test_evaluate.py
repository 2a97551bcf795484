"""Object matching by IoU."""

import numpy as np
import pytest

from morpho.errors import InputError
from morpho.evaluate import match_labels


def test_match_labels_identical_images_give_f1_one():
    lab = np.zeros((20, 20), dtype=np.int32)
    lab[2:6, 2:6] = 1
    lab[10:18, 10:18] = 2
    res = match_labels(lab, lab * 5)  # different ids, same objects
    assert (res.n_true, res.n_pred, res.n_matched) == (2, 2, 2)
    assert res.f1 == 1.0
    assert res.mean_iou == 1.0


def test_match_labels_merged_prediction_loses_the_small_object():
    truth = np.zeros((20, 20), dtype=np.int32)
    truth[2:12, 2:12] = 1  # 100 px
    truth[12:14, 2:12] = 2  # 20 px, touching
    pred = (truth > 0).astype(np.int32)  # merged: IoU with 1 = 100/120, with 2 = 20/120
    res = match_labels(truth, pred)
    assert res.n_matched == 1
    assert res.f1 == pytest.approx(2 * 1 / 3)
    assert res.recall_small == pytest.approx(0.5)  # both are < 10 px radius; one found


def test_match_labels_shape_mismatch_raises():
    with pytest.raises(InputError, match="shape"):
        match_labels(np.zeros((3, 3), int), np.zeros((3, 4), int))
