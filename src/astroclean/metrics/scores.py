"""Scores of a boolean prediction (confusion counts, TPR, FPR, precision, F1, IoU).

Undefined ratios are NaN, never 0 or 1 (see :class:`DetectionScores`), and
:func:`dilate_truth` implements the "dilated truth" protocol of the
cosmic-ray literature.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

from astroclean.errors import AstrocleanValueError
from astroclean.metrics._common import as_bool, keep_mask, ratio

__all__ = ["DetectionScores", "detection_scores", "dilate_truth"]


@dataclass(frozen=True)
class DetectionScores:
    """Confusion counts and rates of a boolean prediction.

    Attributes
    ----------
    tp, fp, fn, tn : int
    tpr : float
        ``tp / (tp + fn)``; NaN without positives.
    fpr : float
        ``fp / (fp + tn)``; NaN without negatives.
    precision, fdr : float
        ``tp / (tp + fp)`` and ``fp / (tp + fp)``; NaN when nothing is flagged.
    f1 : float
        ``2 tp / (2 tp + fp + fn)`` (the harmonic mean of precision and TPR,
        written in counts, so it is 0 when positives exist but none is
        found); NaN when truth and prediction are both empty.
    iou : float
        ``tp / (tp + fp + fn)``; NaN when truth and prediction are both empty.
    """

    tp: int
    fp: int
    fn: int
    tn: int
    tpr: float
    fpr: float
    precision: float
    f1: float
    iou: float
    fdr: float

    def as_row(self) -> dict:
        """The fields as a flat ``dict`` for tables."""
        return asdict(self)


def detection_scores(truth, predicted, *, ignore=None) -> DetectionScores:
    """Confusion counts and rates of a boolean prediction.

    Parameters
    ----------
    truth, predicted : array_like of bool, same shape
    ignore : array_like of bool, optional
        True = pixel excluded from all counts.

    Returns
    -------
    DetectionScores
        Undefined ratios are NaN (see :class:`DetectionScores`).

    Examples
    --------
    >>> s = detection_scores([1, 1, 0, 0, 0], [1, 0, 1, 0, 0])
    >>> (s.tp, s.fp, s.fn, s.tn), s.tpr, round(s.fpr, 4), s.precision, s.f1, round(s.iou, 4)
    ((1, 1, 1, 2), 0.5, 0.3333, 0.5, 0.5, 0.3333)
    >>> detection_scores([0, 0], [0, 0]).tpr   # no positives: undefined
    nan
    """
    t = as_bool(truth, name="truth")
    p = as_bool(predicted, name="predicted", shape=t.shape)
    keep = keep_mask(t, ignore, t.shape)
    t, p = t.ravel(), p.ravel()
    if keep is not None:
        t, p = t[keep], p[keep]
    n = t.size
    n_pos, n_pred = int(np.count_nonzero(t)), int(np.count_nonzero(p))
    tp = int(np.count_nonzero(t & p))
    fp, fn = n_pred - tp, n_pos - tp
    tn = n - tp - fp - fn
    return DetectionScores(
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        tpr=ratio(tp, n_pos),
        fpr=ratio(fp, n - n_pos),
        precision=ratio(tp, n_pred),
        f1=ratio(2 * tp, 2 * tp + fp + fn),
        iou=ratio(tp, tp + fp + fn),
        fdr=ratio(fp, n_pred),
    )


def dilate_truth(truth, size=3) -> np.ndarray:
    """Grow a 2-D truth mask by a ``size x size`` square (``size`` odd).

    The usual protocol for comparing with a dilated truth (CR edges are
    ill-defined): detection is still measured on the original truth, but a
    flagged pixel inside the dilated truth is not a false positive. In
    terms of these functions, pass ``ignore = dilate_truth(truth) & ~truth``
    (the halo is excluded from the negatives);
    :func:`~astroclean.metrics.summarize_detection` does this with
    ``dilate=size``.

    Parameters
    ----------
    truth : array_like of bool, 2-D
    size : int, odd, >= 1
        Side of the square structuring element (3 = one pixel in every
        direction, diagonals included). 1 returns a copy.

    Returns
    -------
    ndarray of bool

    Examples
    --------
    >>> truth = np.zeros((3, 4), dtype=bool); truth[1, 1] = True
    >>> dilate_truth(truth).astype(int)
    array([[1, 1, 1, 0],
           [1, 1, 1, 0],
           [1, 1, 1, 0]])
    """
    t = as_bool(truth, name="truth")
    if t.ndim != 2:
        raise AstrocleanValueError(f"truth must be 2-D (y, x) to dilate, got shape {t.shape}")
    if not isinstance(size, (int, np.integer)) or size < 1 or size % 2 == 0:
        raise AstrocleanValueError(f"size must be an odd integer >= 1, got {size!r}")
    if size == 1:
        return t.copy()
    return ndimage.binary_dilation(t, structure=np.ones((size, size), dtype=bool))
