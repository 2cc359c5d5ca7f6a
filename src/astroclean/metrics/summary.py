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

from astroclean.errors import AstrocleanValueError
from astroclean.metrics._common import as_bool, as_score, check_rate, curve_counts, rank, ratio, split_scores
from astroclean.metrics.detection import _fpr_cut, _pr, _precision_at_tpr, _roc, _threshold_at_fpr, _tpr_at_fpr
from astroclean.metrics.scores import DetectionScores, detection_scores, dilate_truth

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
    """Flat positive selection and the S/N of those pixels."""
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
        True = pixel excluded.

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
    t, p, keep = split_scores(truth, as_bool(predicted, name="predicted", shape=np.shape(truth)), ignore)
    sel, snr_pos = _positive_snr(t, keep, np.reshape(_shape_check(snr, truth), -1))
    return _bin_counts(snr_pos, p[sel] != 0, bins, math.nan)


def _shape_check(snr, truth):
    snr = np.asarray(snr)
    if snr.shape != np.shape(truth):
        raise AstrocleanValueError(f"snr has shape {snr.shape} but truth has shape {np.shape(truth)}")
    return snr


def _binned_at_fpr(ranked, t, s, keep, snr, fpr, bins):
    sel, snr_pos = _positive_snr(t, keep, snr)
    if not ranked.n_neg:  # FPR undefined: no operating point
        empty = _bin_counts(snr_pos, np.zeros(snr_pos.shape, dtype=bool), bins, math.nan)
        return BinnedTpr(bins, np.full(len(bins), np.nan), empty.n_positive, empty.n_detected)
    cut = _fpr_cut(ranked, fpr)
    detected = np.ones(snr_pos.shape, dtype=bool) if cut is None else s[sel] > cut
    return _bin_counts(snr_pos, detected, bins, _threshold_at_fpr(ranked, fpr))


def tpr_at_fpr_by_signal(truth, score, snr, fpr, *, bins=DEFAULT_BINS, ignore=None) -> BinnedTpr:
    """TPR per S/N bin at the threshold that gives ``fpr`` over all negatives.

    The threshold is the operating point of
    :func:`~astroclean.metrics.tpr_at_fpr` on the whole image (every
    negative counts, whatever its S/N); the TPR is then computed within
    each bin of positives. Without negatives the TPRs and threshold are NaN.

    Parameters
    ----------
    truth, score, ignore
        As in :func:`~astroclean.metrics.roc_curve`.
    snr, bins
        As in :func:`tpr_by_signal`.
    fpr : float in [0, 1]

    Returns
    -------
    BinnedTpr
        ``threshold`` is the score threshold used (``score >= threshold``).

    Examples
    --------
    Negatives 0.1, 0.2, 0.3, 0.9: FPR <= 1/4 flags ``score > 0.3``, i.e.
    ``score >= 0.35``; positives at S/N 2, 3 score 0.25, 0.5 (one found),
    at S/N 6, 60 score 0.35, 0.95 (both found).

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
    return _binned_at_fpr(ranked, t, s, keep, np.reshape(_shape_check(snr, truth), -1), fpr, bins)


@dataclass(frozen=True)
class DetectionSummary:
    """Every detection metric of one (truth, score) comparison.

    Attributes
    ----------
    threshold : float
        The operating threshold of ``scores`` and ``tpr_by_signal``.
    scores : DetectionScores
        Confusion counts and rates of ``score >= threshold``.
    auc, average_precision : float
        Area under the ROC curve; step-wise area under the PR curve.
    tpr_at_fpr : dict of float -> float
        Highest achievable TPR at each requested FPR.
    threshold_at_fpr : dict of float -> float
        The thresholds of those operating points.
    tpr_for_precision, precision_at_tpr : float
        Precision at the first threshold reaching TPR ``tpr_for_precision``.
    tpr_by_signal : BinnedTpr or None
        TPR per S/N bin at ``threshold`` (None without ``snr``).
    tpr_at_fpr_by_signal : dict of float -> BinnedTpr, or None
    n_positive, n_negative : int
        Counted pixels (after ``ignore`` and the dilation halo).
    """

    threshold: float
    scores: DetectionScores
    auc: float
    average_precision: float
    tpr_at_fpr: dict
    threshold_at_fpr: dict
    tpr_for_precision: float
    precision_at_tpr: float
    tpr_by_signal: BinnedTpr | None
    tpr_at_fpr_by_signal: dict | None
    n_positive: int
    n_negative: int

    def as_row(self) -> dict:
        """One flat ``dict`` of numbers, with readable column names, for tables."""
        row = {"threshold": self.threshold, "n_positive": self.n_positive, "n_negative": self.n_negative}
        row.update(self.scores.as_row())
        row.update(auc=self.auc, average_precision=self.average_precision)
        for fpr, value in self.tpr_at_fpr.items():
            row[f"tpr@fpr={fpr:g}"] = value
            row[f"threshold@fpr={fpr:g}"] = self.threshold_at_fpr[fpr]
        row[f"precision@tpr={self.tpr_for_precision:g}"] = self.precision_at_tpr
        if self.tpr_by_signal is not None:
            row.update(self.tpr_by_signal.as_row())
        for fpr, binned in (self.tpr_at_fpr_by_signal or {}).items():
            row.update(binned.as_row(prefix=f"tpr@fpr={fpr:g}"))
        return row


def summarize_detection(
    truth,
    score,
    *,
    threshold,
    snr=None,
    ignore=None,
    fprs=(1e-4, 1e-3),
    tpr_for_precision=0.95,
    bins=DEFAULT_BINS,
    dilate=None,
) -> DetectionSummary:
    """All detection metrics of ``score`` against ``truth`` in one call (one sort).

    Parameters
    ----------
    truth : array_like of bool
    score : array_like of float, same shape
    threshold : float
        Operating threshold for the boolean scores (``score >= threshold``).
    snr : array_like of float, optional
        Per-pixel S/N of the contamination; enables the binned TPRs.
    ignore : array_like of bool, optional
        True = pixel excluded.
    fprs : sequence of float
        FPR targets for ``tpr_at_fpr`` (and the binned version).
    tpr_for_precision : float in (0, 1]
    bins : sequence of (low, high)
        S/N bins, see :func:`tpr_by_signal`.
    dilate : int, optional
        Odd size of the :func:`~astroclean.metrics.dilate_truth` square:
        pixels in the halo ``dilate_truth(truth, dilate) & ~truth`` are
        ignored (neither positive nor negative). ``truth`` must be 2-D.

    Returns
    -------
    DetectionSummary

    Examples
    --------
    >>> truth = np.array([[0, 0, 1, 1]], dtype=bool)
    >>> score = np.array([[0.1, 0.4, 0.35, 0.8]])
    >>> s = summarize_detection(truth, score, threshold=0.5, fprs=(0.5,))
    >>> s.scores.tpr, s.auc, s.tpr_at_fpr[0.5], s.as_row()["precision@tpr=0.95"]
    (0.5, 0.75, 1.0, 0.6666666666666666)
    """
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        raise AstrocleanValueError(f"threshold must be a number, got {threshold!r}") from None
    fprs = tuple(check_rate(f, name="fprs") for f in fprs)
    tpr_for_precision = check_rate(tpr_for_precision, name="tpr_for_precision", allow_zero=False)
    bins = _check_bins(bins)
    if dilate is not None:
        halo = dilate_truth(truth, dilate) & ~as_bool(truth, name="truth")
        ignore = halo if ignore is None else halo | as_bool(ignore, name="ignore", shape=halo.shape)
    ranked = rank(truth, score, ignore)
    counts = curve_counts(ranked)
    t, s, keep = split_scores(truth, score, ignore)
    predicted = s >= threshold
    scores = detection_scores(t, predicted, ignore=None if keep is None else ~keep)
    by_signal = by_signal_at_fpr = None
    if snr is not None:
        snr_flat = np.reshape(_shape_check(snr, truth), -1)
        by_signal = tpr_by_signal(t, predicted, snr_flat, bins=bins, ignore=None if keep is None else ~keep)
        by_signal = BinnedTpr(by_signal.bins, by_signal.tpr, by_signal.n_positive, by_signal.n_detected, threshold)
        by_signal_at_fpr = {f: _binned_at_fpr(ranked, t, s, keep, snr_flat, f, bins) for f in fprs}
    return DetectionSummary(
        threshold=threshold,
        scores=scores,
        auc=_roc(ranked, counts).auc,
        average_precision=_pr(ranked, counts).average_precision,
        tpr_at_fpr={f: _tpr_at_fpr(ranked, f) for f in fprs},
        threshold_at_fpr={f: _threshold_at_fpr(ranked, f) for f in fprs},
        tpr_for_precision=tpr_for_precision,
        precision_at_tpr=_precision_at_tpr(ranked, tpr_for_precision),
        tpr_by_signal=by_signal,
        tpr_at_fpr_by_signal=by_signal_at_fpr,
        n_positive=ranked.n_pos,
        n_negative=ranked.n_neg,
    )
