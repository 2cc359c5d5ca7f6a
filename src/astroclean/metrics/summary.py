"""Detection completeness by signal strength, and a one-call summary for tables.

The signal of a contaminated pixel is its injected excess divided by the
local noise (``snr``, one value per pixel, only read at positive pixels).
Faint cosmic-ray pixels are where detectors differ, so TPR is reported per
S/N bin, either for a fixed boolean prediction (:func:`tpr_by_signal`) or at
the threshold that gives a target FPR over *all* negatives
(:func:`tpr_at_fpr_by_signal`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import AstrocleanValueError
from ._common import as_bool, as_score, check_rate, keep_mask, rank, ratio, split_scores
from .detection import (
    DetectionScores,
    _fpr_cut,
    detection_scores,
    dilate_truth,
    precision_at_tpr,
    precision_recall_curve,
    roc_curve,
    threshold_at_fpr,
    tpr_at_fpr,
)

__all__ = ["BinnedTpr", "DetectionSummary", "tpr_by_signal", "tpr_at_fpr_by_signal", "summarize_detection"]

DEFAULT_BINS = ((1.5, 5.0), (5.0, math.inf))


@dataclass(frozen=True)
class BinnedTpr:
    """True positive rate in bins of signal-to-noise.

    Attributes
    ----------
    bins : tuple of (float, float)
        ``(low, high)``: a positive pixel is in the bin when ``low <= snr < high``.
    tpr : ndarray of float64
        ``n_detected / n_positive`` per bin; NaN for an empty bin.
    n_positive, n_detected : ndarray of int64
    threshold : float
        The score threshold used (NaN for a boolean prediction).
    """

    bins: tuple
    tpr: np.ndarray
    n_positive: np.ndarray
    n_detected: np.ndarray
    threshold: float = math.nan

    def as_row(self, prefix: str = "tpr") -> dict:
        """``{"tpr[snr 1.5-5]": ..., ...}`` for tables."""
        return {f"{prefix}[snr {lo:g}-{hi:g}]": float(v) for (lo, hi), v in zip(self.bins, self.tpr)}


def _check_bins(bins):
    try:
        out = tuple((float(lo), float(hi)) for lo, hi in bins)
    except (TypeError, ValueError):
        raise AstrocleanValueError(f"bins must be a sequence of (low, high) pairs, got {bins!r}") from None
    if not out or any(not lo < hi for lo, hi in out):
        raise AstrocleanValueError(f"bins need at least one (low, high) pair with low < high, got {bins!r}")
    return out


def _bin_counts(snr_pos, detected, bins, threshold):
    n_pos, n_det = [], []
    for lo, hi in bins:
        inside = (snr_pos >= lo) & (snr_pos < hi)
        n_pos.append(int(np.count_nonzero(inside)))
        n_det.append(int(np.count_nonzero(inside & detected)))
    tpr = np.array([ratio(d, p) for d, p in zip(n_det, n_pos)], dtype=np.float64)
    return BinnedTpr(bins, tpr, np.array(n_pos, dtype=np.int64), np.array(n_det, dtype=np.int64), float(threshold))


def _positive_snr(t, keep, snr):
    sel = t if keep is None else t & keep
    return sel, as_score(snr, name="snr", shape=t.shape).ravel()[sel]


def tpr_by_signal(truth, predicted, snr, *, bins=DEFAULT_BINS, ignore=None) -> BinnedTpr:
    """TPR of a boolean prediction in bins of per-pixel signal-to-noise.

    Parameters
    ----------
    truth, predicted : array_like of bool, same shape
    snr : array_like of float, same shape
        Injected signal of each contaminated pixel over its local noise (only
        read where ``truth``; NaN there puts the pixel in no bin).
    bins : sequence of (low, high)
        Half-open bins ``low <= snr < high``; they may overlap.
    ignore : array_like of bool, optional

    Returns
    -------
    BinnedTpr

    Examples
    --------
    >>> truth = [1, 1, 1, 1, 0]
    >>> predicted = [1, 0, 1, 1, 1]
    >>> snr = [2.0, 3.0, 7.0, 50.0, 0.0]
    >>> b = tpr_by_signal(truth, predicted, snr)
    >>> b.tpr.tolist(), b.n_positive.tolist()
    ([0.5, 1.0], [2, 2])
    """
    bins = _check_bins(bins)
    t = as_bool(truth, name="truth")
    p = as_bool(predicted, name="predicted", shape=t.shape).ravel()
    t = t.ravel()
    sel, snr_pos = _positive_snr(t, keep_mask(t, ignore, np.shape(truth)), np.reshape(snr, np.shape(truth)) if np.size(snr) == t.size else snr)
    return _bin_counts(snr_pos, p[sel], bins, math.nan)


def tpr_at_fpr_by_signal(truth, score, snr, fpr, *, bins=DEFAULT_BINS, ignore=None) -> BinnedTpr:
    """TPR per S/N bin at the threshold that gives ``fpr`` over all negatives.

    The threshold is the operating point of
    :func:`~astroclean.metrics.tpr_at_fpr` on the whole image (every
    negative counts, whatever its S/N); the TPR is then computed within
    each bin of positives.

    Examples
    --------
    Negatives 0.1, 0.2, 0.3, 0.9: FPR <= 1/4 flags ``score > 0.3``.

    >>> truth = [0, 0, 0, 0, 1, 1, 1, 1]
    >>> score = [0.1, 0.2, 0.3, 0.9, 0.25, 0.5, 0.35, 0.95]
    >>> snr = [0, 0, 0, 0, 2.0, 3.0, 6.0, 60.0]
    >>> b = tpr_at_fpr_by_signal(truth, score, snr, 0.25)
    >>> b.tpr.tolist(), b.threshold
    ([0.5, 1.0], 0.35)
    """
    bins = _check_bins(bins)
    fpr = check_rate(fpr, name="fpr")
    ranked = rank(truth, score, ignore)
    t, s, keep = split_scores(truth, score, ignore)
    sel, snr_pos = _positive_snr(t, keep, snr)
    if not ranked.n_neg:
        return _bin_counts(snr_pos, np.zeros(snr_pos.shape, dtype=bool), bins, math.nan) if False else BinnedTpr(
            bins, np.full(len(bins), np.nan), *_bin_counts(snr_pos, np.zeros(snr_pos.shape, bool), bins, 0)[2:4]
        )
    cut = _fpr_cut(ranked, fpr)
    detected = np.ones(snr_pos.shape, dtype=bool) if cut is None else s[sel] > cut
    return _bin_counts(snr_pos, detected, bins, threshold_at_fpr(truth, score, fpr, ignore=ignore))
