"""Segmentation accuracy against ground truth: object matching by intersection over union.

Used by the accuracy benchmark (``bench/accuracy.py``) and the tests.  At IoU > 0.5 a true
object can match at most one predicted object (and vice versa), so matching is unambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix

from .errors import InputError

__all__ = ["MatchResult", "match_labels"]


@dataclass(frozen=True)
class MatchResult:
    """Object-level agreement of a predicted label image with the truth.

    Attributes
    ----------
    n_true, n_pred, n_matched : int
    precision, recall, f1 : float
        At the IoU threshold used.
    mean_iou : float
        Mean IoU over matched pairs.
    true_ids, pred_ids, ious : ndarray
        The matched pairs.
    recall_small, recall_large : float
        Recall of true objects with equivalent radius below / at or above `small_radius_px`.
    """

    n_true: int
    n_pred: int
    n_matched: int
    precision: float
    recall: float
    f1: float
    mean_iou: float
    true_ids: np.ndarray
    pred_ids: np.ndarray
    ious: np.ndarray
    recall_small: float
    recall_large: float


def match_labels(
    truth: np.ndarray, pred: np.ndarray, *, iou_threshold: float = 0.5, small_radius_px: float = 10.0
) -> MatchResult:
    """Match objects of two label images by IoU.

    Parameters
    ----------
    truth, pred : ndarray of int, same shape
        0 = background.
    iou_threshold : float
        A pair matches when IoU >= this (>= 0.5 keeps matches one-to-one).
    small_radius_px : float
        Radius splitting "small" from "large" true objects for the recall figures.

    Returns
    -------
    MatchResult
    """
    t = np.asarray(truth).ravel().astype(np.int64)
    p = np.asarray(pred).ravel().astype(np.int64)
    if t.shape != p.shape:
        msg = f"truth and prediction differ in shape: {np.shape(truth)} vs {np.shape(pred)}"
        raise InputError(msg)
    if iou_threshold < 0.5:
        msg = f"iou_threshold must be >= 0.5 for one-to-one matching, got {iou_threshold}"
        raise InputError(msg)
    # Compact ids so the contingency table stays small.
    t_ids, t_inv = np.unique(t, return_inverse=True)
    p_ids, p_inv = np.unique(p, return_inverse=True)
    area_t = np.bincount(t_inv)
    area_p = np.bincount(p_inv)
    both = (t > 0) & (p > 0)
    inter = coo_matrix(
        (np.ones(int(both.sum()), dtype=np.int64), (t_inv[both], p_inv[both])), shape=(t_ids.size, p_ids.size)
    ).tocsr()
    inter.sum_duplicates()
    coo = inter.tocoo()
    union = area_t[coo.row] + area_p[coo.col] - coo.data
    iou = coo.data / union
    keep = iou >= iou_threshold
    ti, pi, ious = coo.row[keep], coo.col[keep], iou[keep]
    n_true = int((t_ids > 0).sum())
    n_pred = int((p_ids > 0).sum())
    n_match = int(keep.sum())
    precision = n_match / n_pred if n_pred else float("nan")
    recall = n_match / n_true if n_true else float("nan")
    f1 = 2 * n_match / (n_true + n_pred) if (n_true + n_pred) else float("nan")
    radius = np.sqrt(area_t / np.pi)
    is_true = t_ids > 0
    small = is_true & (radius < small_radius_px)
    large = is_true & ~small
    matched = np.zeros(t_ids.size, dtype=bool)
    matched[ti] = True
    return MatchResult(
        n_true=n_true,
        n_pred=n_pred,
        n_matched=n_match,
        precision=precision,
        recall=recall,
        f1=f1,
        mean_iou=float(ious.mean()) if ious.size else float("nan"),
        true_ids=t_ids[ti],
        pred_ids=p_ids[pi],
        ious=ious,
        recall_small=float(matched[small].mean()) if small.any() else float("nan"),
        recall_large=float(matched[large].mean()) if large.any() else float("nan"),
    )
