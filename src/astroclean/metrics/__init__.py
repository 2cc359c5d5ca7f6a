"""Metrics: compare any method's output with the truth (plain arrays in, frozen dataclasses out).

Detection (per pixel, any array shape; True = contaminated, higher score =
more likely contaminated, ``ignore`` True = pixel not counted):

- curves: :func:`roc_curve`, :func:`precision_recall_curve`
- operating points: :func:`tpr_at_fpr`, :func:`threshold_at_fpr`,
  :func:`precision_at_tpr`, :func:`threshold_at_fdr`
- a boolean prediction: :func:`detection_scores`, :func:`dilate_truth`
- by signal: :func:`tpr_by_signal`, :func:`tpr_at_fpr_by_signal`
- everything at once: :func:`summarize_detection` (``.as_row()`` for tables)
- uncertainties over images: :func:`bootstrap_ci`, :func:`tpr_at_fpr_ci`

Images: :func:`isophote_regions`,
:func:`isophote_bins` (near-star analysis), :func:`photometric_contamination`
(the measuring itself is :mod:`astroclean.photometry`),
:func:`power_spectrum`, :func:`pixel_statistics` (image statistics).

This package imports numpy and scipy only (and the floor's background and photometry): no task
module, no torch.

Examples
--------
>>> from astroclean.metrics import roc_curve, tpr_at_fpr
>>> truth, score = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
>>> roc_curve(truth, score).auc, tpr_at_fpr(truth, score, 0.5)
(0.75, 1.0)
"""

from astroclean.metrics.bootstrap import BootstrapInterval, bootstrap_ci, tpr_at_fpr_ci
from astroclean.metrics.detection import (
    PrecisionRecallCurve,
    RocCurve,
    precision_at_tpr,
    precision_recall_curve,
    roc_curve,
    threshold_at_fdr,
    threshold_at_fpr,
    tpr_at_fpr,
)
from astroclean.metrics.photometry import PhotometricContamination, photometric_contamination
from astroclean.metrics.regions import isophote_bins, isophote_regions
from astroclean.metrics.scores import DetectionScores, detection_scores, dilate_truth
from astroclean.metrics.statistics import pixel_statistics, power_spectrum, radial_frequency
from astroclean.metrics.summary import BinnedTpr, DetectionSummary, summarize_detection, tpr_at_fpr_by_signal, tpr_by_signal

__all__ = [
    "RocCurve",
    "PrecisionRecallCurve",
    "DetectionScores",
    "BinnedTpr",
    "DetectionSummary",
    "BootstrapInterval",
    "PhotometricContamination",
    "roc_curve",
    "precision_recall_curve",
    "tpr_at_fpr",
    "threshold_at_fpr",
    "precision_at_tpr",
    "threshold_at_fdr",
    "detection_scores",
    "dilate_truth",
    "tpr_by_signal",
    "tpr_at_fpr_by_signal",
    "summarize_detection",
    "bootstrap_ci",
    "tpr_at_fpr_ci",
    "isophote_regions",
    "isophote_bins",
    "photometric_contamination",
    "power_spectrum",
    "pixel_statistics",
    "radial_frequency",
]
