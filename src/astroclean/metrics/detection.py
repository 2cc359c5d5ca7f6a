"""Per-pixel detection metrics: ROC and precision-recall curves, operating points.

Every function takes plain arrays of any (matching) shape: ``truth`` (bool,
True = contaminated pixel), ``score`` (higher = more likely contaminated) or
``predicted`` (bool), and an optional ``ignore`` mask (True = pixel excluded
from every count, e.g. bad pixels or a halo around the truth, see
:func:`~astroclean.metrics.dilate_truth`). A pixel is flagged at threshold ``t`` when
``score >= t``. Inputs are never modified.

Curves have one point per distinct score (ties are one point), computed with
one sort of the negatives and one of the positives: O(n log n), about a
second for 10^7 pixels.

Undefined ratios are NaN, never 0 or 1: TPR without positives, FPR without
negatives, precision/FDR without flagged pixels, F1/IoU when truth and
prediction are both empty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from astroclean.metrics._common import (
    check_rate,
    curve_counts,
    exclusion_value,
    max_count_le,
    min_count_ge,
    rank,
)

__all__ = [
    "RocCurve",
    "PrecisionRecallCurve",
    "roc_curve",
    "precision_recall_curve",
    "tpr_at_fpr",
    "threshold_at_fpr",
    "precision_at_tpr",
    "threshold_at_fdr",
]


@dataclass(frozen=True)
class RocCurve:
    """Receiver operating characteristic, thresholds descending.

    Attributes
    ----------
    fpr, tpr : ndarray of float64
        False/true positive rate at each threshold; the first point is
        (0, 0), "flag nothing", with threshold +inf. NaN when there are no
        negatives (``fpr``) or no positives (``tpr``).
    thresholds : ndarray
        ``score >= thresholds[i]`` gives ``(fpr[i], tpr[i])``.
    n_positive, n_negative : int
        Counted positive and negative pixels.
    """

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    n_positive: int
    n_negative: int

    @property
    def auc(self) -> float:
        """Area under the curve (trapezoids between the achievable points)."""
        return float(np.sum(np.diff(self.fpr) * (self.tpr[1:] + self.tpr[:-1])) / 2)


@dataclass(frozen=True)
class PrecisionRecallCurve:
    """Precision-recall curve, one point per distinct score, thresholds descending.

    Attributes
    ----------
    precision, recall : ndarray of float64
        ``recall`` is NaN everywhere when there are no positives.
    thresholds : ndarray
    n_positive, n_negative : int
    """

    precision: np.ndarray
    recall: np.ndarray
    thresholds: np.ndarray
    n_positive: int
    n_negative: int

    @property
    def average_precision(self) -> float:
        """Step-wise area ``sum((R_i - R_{i-1}) P_i)`` with ``R_0 = 0`` (no interpolation)."""
        return float(np.sum(np.diff(self.recall, prepend=0.0) * self.precision))


def roc_curve(truth, score, *, ignore=None) -> RocCurve:
    """ROC curve with one point per distinct score.

    Parameters
    ----------
    truth : array_like of bool
        True where the pixel is contaminated (0/1 numbers are accepted).
    score : array_like of float, same shape
        Higher = more likely contaminated. NaN is refused at counted pixels.
    ignore : array_like of bool, optional
        True = pixel excluded from all counts.

    Returns
    -------
    RocCurve

    Raises
    ------
    AstrocleanValueError
        Shapes differ, truth is not boolean, a counted score is NaN, or
        ``ignore`` excludes everything.

    Notes
    -----
    ``+inf`` scores cannot be told apart from the leading "flag nothing"
    point (threshold +inf); keep scores finite.

    Examples
    --------
    >>> curve = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> curve.fpr.tolist(), curve.tpr.tolist(), curve.auc
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0], 0.75)
    >>> curve.thresholds.tolist()
    [inf, 0.8, 0.4, 0.35, 0.1]
    """
    return _roc(rank(truth, score, ignore))


def _roc(ranked, counts=None):
    thresholds, tp, fp = curve_counts(ranked) if counts is None else counts
    with np.errstate(invalid="ignore", divide="ignore"):
        n_pos, n_neg = ranked.n_pos, ranked.n_neg
        tpr = np.concatenate([[0.0], tp / n_pos]) if n_pos else np.full(tp.size + 1, np.nan)
        fpr = np.concatenate([[0.0], fp / n_neg]) if n_neg else np.full(fp.size + 1, np.nan)
    thresholds = np.concatenate([np.array([np.inf], dtype=thresholds.dtype), thresholds])
    return RocCurve(fpr, tpr, thresholds, n_pos, n_neg)


def precision_recall_curve(truth, score, *, ignore=None) -> PrecisionRecallCurve:
    """Precision-recall curve with one point per distinct score.

    Parameters
    ----------
    truth, score, ignore
        As in :func:`roc_curve`.

    Returns
    -------
    PrecisionRecallCurve
        No "flag nothing" point is added (precision is undefined there).

    Examples
    --------
    >>> pr = precision_recall_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> pr.precision.round(3).tolist(), pr.recall.tolist()
    ([1.0, 0.5, 0.667, 0.5], [0.5, 0.5, 1.0, 1.0])
    >>> round(pr.average_precision, 4)   # 0.5 * 1 + 0.5 * 2/3
    0.8333
    """
    return _pr(rank(truth, score, ignore))


def _pr(ranked, counts=None):
    thresholds, tp, fp = curve_counts(ranked) if counts is None else counts
    precision = tp / (tp + fp)
    recall = tp / ranked.n_pos if ranked.n_pos else np.full(tp.size, np.nan)
    return PrecisionRecallCurve(precision, recall, thresholds, ranked.n_pos, ranked.n_neg)


def _fpr_cut(ranked, fpr):
    """Exclusion value for a target FPR (None: everything may be flagged)."""
    return exclusion_value(ranked.neg, max_count_le(fpr, ranked.n_neg))


def _tpr_at_fpr(ranked, fpr):
    if not ranked.n_pos or not ranked.n_neg:
        return math.nan
    cut = _fpr_cut(ranked, fpr)
    if cut is None:
        return 1.0
    return (ranked.n_pos - int(np.searchsorted(ranked.pos, cut, side="right"))) / ranked.n_pos


def _threshold_at_fpr(ranked, fpr):
    if not ranked.n_neg:
        return math.nan
    cut = _fpr_cut(ranked, fpr)
    if cut is None:  # everything may be flagged: the lowest score
        return float(min(a[0] for a in (ranked.pos, ranked.neg) if a.size))
    above = []
    for sorted_scores in (ranked.pos, ranked.neg):
        i = int(np.searchsorted(sorted_scores, cut, side="right"))
        if i < sorted_scores.size:
            above.append(sorted_scores[i])
    return float(min(above)) if above else math.inf


def _precision_at_tpr(ranked, tpr):
    if not ranked.n_pos:
        return math.nan
    threshold = ranked.pos[ranked.n_pos - min_count_ge(tpr, ranked.n_pos)]
    tp = ranked.n_pos - int(np.searchsorted(ranked.pos, threshold, side="left"))
    fp = ranked.n_neg - int(np.searchsorted(ranked.neg, threshold, side="left"))
    return tp / (tp + fp)


def tpr_at_fpr(truth, score, fpr, *, ignore=None) -> float:
    """Highest TPR reachable by a threshold on ``score`` with FPR <= ``fpr``.

    Only achievable operating points count: no interpolation between the
    points of the ROC curve (a randomised mix of two thresholds could do
    better; a real detector cannot). Ties in ``score`` move together.

    Parameters
    ----------
    truth, score, ignore
        As in :func:`roc_curve`.
    fpr : float in [0, 1]
        Target false positive rate (``fp / n_negative``).

    Returns
    -------
    float
        NaN without positives or without negatives.

    Examples
    --------
    Negatives score 0.1, 0.4, 0.4, 0.9; positives 0.4, 0.8, 0.95.
    FPR <= 1/4 allows one false positive: flag ``score > 0.4`` (the tie at
    0.4 would add two), i.e. 0.8, 0.9, 0.95: TPR = 2/3.

    >>> truth = [0, 0, 0, 0, 1, 1, 1]
    >>> score = [0.1, 0.4, 0.4, 0.9, 0.4, 0.8, 0.95]
    >>> round(tpr_at_fpr(truth, score, 0.25), 4), tpr_at_fpr(truth, score, 0.75)
    (0.6667, 1.0)
    """
    return _tpr_at_fpr(rank(truth, score, ignore), check_rate(fpr, name="fpr"))


def threshold_at_fpr(truth, score, fpr, *, ignore=None) -> float:
    """Lowest threshold (``score >= threshold``) whose FPR is <= ``fpr``.

    The operating point of :func:`tpr_at_fpr`. Returns +inf when no pixel
    can be flagged, NaN without negatives.

    Examples
    --------
    >>> truth = [0, 0, 0, 0, 1, 1, 1]
    >>> score = [0.1, 0.4, 0.4, 0.9, 0.4, 0.8, 0.95]
    >>> threshold_at_fpr(truth, score, 0.25), threshold_at_fpr(truth, score, 0.0)
    (0.8, 0.95)
    """
    return _threshold_at_fpr(rank(truth, score, ignore), check_rate(fpr, name="fpr"))


def precision_at_tpr(truth, score, tpr=0.95, *, ignore=None) -> float:
    """Precision at the first (highest) threshold whose TPR reaches ``tpr``.

    Parameters
    ----------
    truth, score, ignore
        As in :func:`roc_curve`.
    tpr : float in (0, 1]
        Target true positive rate (recall).

    Returns
    -------
    float
        NaN without positives.

    Examples
    --------
    Positives score 0.9, 0.8, 0.3, 0.2; negatives 0.85, 0.5, 0.1.
    TPR 0.5 is first reached at 0.8 (flagged 0.9, 0.85, 0.8): precision 2/3;
    TPR 1 at 0.2 (all but 0.1): precision 4/6.

    >>> truth = [1, 1, 1, 1, 0, 0, 0]
    >>> score = [0.9, 0.8, 0.3, 0.2, 0.85, 0.5, 0.1]
    >>> round(precision_at_tpr(truth, score, 0.5), 4), round(precision_at_tpr(truth, score, 1.0), 4)
    (0.6667, 0.6667)
    """
    return _precision_at_tpr(rank(truth, score, ignore), check_rate(tpr, name="tpr", allow_zero=False))


def threshold_at_fdr(truth, score, fdr, *, ignore=None) -> float:
    """Lowest threshold whose false discovery rate ``fp / (tp + fp)`` is <= ``fdr``.

    FDR is not monotonic in the threshold; this scans every distinct score
    and keeps the lowest that qualifies (the most complete mask with an
    acceptable purity), as used to set a threshold on a user's frame.

    Returns
    -------
    float
        NaN when no threshold qualifies (``score >= nan`` flags nothing).

    Examples
    --------
    Scores 0.9 (CR), 0.8 (CR), 0.7 (not), 0.6 (CR), 0.5 (not): the FDR at
    each threshold is 0, 0, 1/3, 1/4, 2/5.

    >>> truth = [1, 1, 0, 1, 0]
    >>> score = [0.9, 0.8, 0.7, 0.6, 0.5]
    >>> threshold_at_fdr(truth, score, 0.3), threshold_at_fdr(truth, score, 0.0)
    (0.6, 0.8)
    """
    fdr = check_rate(fdr, name="fdr")
    thresholds, tp, fp = curve_counts(rank(truth, score, ignore))
    ok = np.flatnonzero(fp / (tp + fp) <= fdr)
    return float(thresholds[ok[-1]]) if ok.size else math.nan
