"""Pooled segmentation counts, IoU/precision/recall, surface-brightness bins and the alert rate."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["counts", "scores", "alerts", "SB_BINS"]

SB_BINS = ((0.0, 26.0), (26.0, 27.0), (27.0, 28.0), (28.0, 29.0), (29.0, 31.0))


def counts(pred: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> dict:
    p, t = pred & valid, truth & valid
    return dict(tp=int((p & t).sum()), fp=int((p & ~t).sum()), fn=int((~p & t).sum()))


def scores(c: dict) -> dict:
    tp, fp, fn = c["tp"], c["fp"], c["fn"]
    return dict(iou=tp / max(tp + fp + fn, 1), precision=tp / max(tp + fp, 1) if tp + fp else float("nan"),
                recall=tp / max(tp + fn, 1) if tp + fn else float("nan"))


def sb_recall(pred, truth, sb, valid) -> dict:
    out = {}
    for lo, hi in SB_BINS:
        sel = truth & valid & (sb >= lo) & (sb < hi)
        out[f"{lo:g}-{hi:g}"] = (int((pred & sel).sum()), int(sel.sum()))
    return out


def alerts(pred, truth, sb, *, pixel_scale: float, min_area_arcsec2: float = 36.0, brighter: float = 28.0):
    """(detected, total) true regions (truth & sb <= ``brighter``) larger than ``min_area`` with any detection."""
    labels, n = ndimage.label(truth & (sb <= brighter))
    if not n:
        return 0, 0
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    hit = np.bincount(labels.ravel(), weights=pred.ravel().astype(float), minlength=n + 1)
    big = sizes * pixel_scale**2 > min_area_arcsec2
    big[0] = False
    return int((big & (hit > 0)).sum()), int(big.sum())
