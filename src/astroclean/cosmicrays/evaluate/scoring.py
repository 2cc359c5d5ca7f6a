"""Pooled scores of a benchmark: truth pixels, ROC/PR curves from histograms, bootstrap rows per group.

Pixels are pooled over the cases of a group (a flavour, or all); curves and intervals come from
per-case score histograms, so a bootstrap over cases costs histogram sums, not re-sorting pixels.
"""

from __future__ import annotations

import math

import numpy as np

from astroclean.errors import AstrocleanValueError

from astroclean.metrics import (bootstrap_ci, detection_scores, precision_recall_curve, roc_curve, summarize_detection,
                                threshold_at_fpr, tpr_at_fpr_ci, tpr_by_signal)
from astroclean.metrics.summary import DEFAULT_BINS

FPRS = (1e-4, 1e-3)
TPR_FOR_PRECISION = 0.95
MIN_SNR = 1.5
_LEVELS = 2048  # quantisation levels per class for the AUC / precision intervals


def _thin(x, grid):
    """Indices of a step curve (``x`` non-decreasing) at ``grid``: the last point with ``x <= g``, ends kept."""
    idx = np.searchsorted(x, grid, side="right") - 1
    return np.unique(np.concatenate([[0, x.size - 1], idx[idx >= 0]]))


def _curves(truth, score, ignore):
    roc = roc_curve(truth, score, ignore=ignore)
    pr = precision_recall_curve(truth, score, ignore=ignore)
    i = _thin(roc.fpr, np.concatenate([[0.0], np.geomspace(1e-7, 1, 600), np.linspace(0, 1, 200)]))
    j = _thin(pr.recall, np.linspace(0, 1, 500))
    return {"fpr": roc.fpr[i], "tpr": roc.tpr[i], "recall": pr.recall[j], "precision": pr.precision[j]}


def _histograms(truths, scores, ignores):
    """Per-case counts of positive / negative scores on a shared grid of score levels."""
    pos = [s[t & ~b] for t, s, b in zip(truths, scores, ignores)]
    neg = [s[~t & ~b] for t, s, b in zip(truths, scores, ignores)]
    levels = []
    for group in (pos, neg):
        values = np.concatenate(group) if group else np.array([])
        if values.size:
            levels.append(np.unique(np.quantile(values, np.linspace(0, 1, _LEVELS))))
    levels = np.unique(np.concatenate(levels + [np.array([-np.inf])]))

    def hist(values):
        return np.bincount(np.searchsorted(levels, values, side="right") - 1, minlength=levels.size)

    return np.array([hist(p) for p in pos]), np.array([hist(n) for n in neg])


def _auc_precision(pos_h, neg_h, weights):
    """AUC and precision at TPR_FOR_PRECISION of case-weighted level histograms (flag = score >= level)."""
    tp = np.cumsum((weights @ pos_h)[::-1])
    fp = np.cumsum((weights @ neg_h)[::-1])
    if not tp[-1] or not fp[-1]:
        return math.nan, math.nan
    tpr, fpr = np.concatenate([[0], tp / tp[-1]]), np.concatenate([[0], fp / fp[-1]])
    auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2)
    k = int(np.searchsorted(tp / tp[-1], TPR_FOR_PRECISION - 1e-12))
    return auc, float(tp[k] / (tp[k] + fp[k]))


def _ratio(num, den):
    return float(num / den) if den else math.nan


def _ci_row(name, interval):
    return {f"{name}_low": interval.low, f"{name}_high": interval.high}


def scored_truth(case, truth="core", *, min_snr=MIN_SNR):
    """``(positives, ignore)`` of a case for scoring.

    ``"core"``: positives are the truth pixels whose injected signal is at
    least ``min_snr`` times the local noise; the rest of the footprint (the
    zero-charge 3x3 halo and charge below ``min_snr``, which no method can
    tell from noise pixel by pixel) is ignored, neither positive nor
    negative, so a method is neither rewarded nor punished for dilating
    its mask. ``"footprint"``: the stored truth (core dilated by 3x3) as
    positives, everything else negative. ``case.bad`` is ignored in both.
    """
    if truth == "footprint":
        return case.truth, case.bad
    if truth != "core":
        raise AstrocleanValueError(f"truth must be 'core' or 'footprint', got {truth!r}")
    core = case.truth & ((case.snr >= min_snr) if min_snr > 0 else (case.snr > 0))
    return core, case.bad | (case.truth & ~core)


def _group_row(method, group, outs, *, n_boot, rng, confidence, truth_mode, min_snr):
    truths, bads = zip(*(scored_truth(c, truth_mode, min_snr=min_snr) for c, _ in outs))
    scores = [r.score for _, r in outs]
    masks = [r.mask for _, r in outs]
    truth, score, ignore = (np.concatenate([a.ravel() for a in arrs]) for arrs in (truths, scores, bads))
    snr = np.concatenate([c.snr.ravel() for c, _ in outs])
    predicted = np.concatenate([m.ravel() for m in masks])
    summary = summarize_detection(truth, score, threshold=np.inf, snr=snr, ignore=ignore, fprs=FPRS,
                                  tpr_for_precision=TPR_FOR_PRECISION)
    op = detection_scores(truth, predicted, ignore=ignore)
    row = {"n_positive": summary.n_positive, "n_negative": summary.n_negative}
    for fpr in FPRS:
        key = f"tpr@fpr={fpr:g}"
        row[key] = summary.tpr_at_fpr[fpr]
        row[f"threshold@fpr={fpr:g}"] = threshold_at_fpr(truth, score, fpr, ignore=ignore)  # in score units
        row.update(_ci_row(key, tpr_at_fpr_ci(truths, scores, fpr, ignores=bads, n_boot=n_boot, rng=rng,
                                              confidence=confidence)))
        row.update(summary.tpr_at_fpr_by_signal[fpr].as_row(prefix=key))
    pos_h, neg_h = _histograms(truths, scores, bads)
    n = len(outs)
    for i, key in enumerate(("auc", f"precision@tpr={TPR_FOR_PRECISION:g}")):
        row[key] = summary.auc if i == 0 else summary.precision_at_tpr
        ci = bootstrap_ci(lambda idx, i=i: _auc_precision(pos_h, neg_h, np.bincount(idx, minlength=n))[i],
                          np.arange(n), n_boot=n_boot, rng=rng, confidence=confidence)
        row.update(_ci_row(key, ci))
    row["average_precision"] = summary.average_precision
    row.update({f"op_{k}": v for k, v in op.as_row().items() if k in ("tpr", "fpr", "precision")})
    row.update(f1=op.f1, iou=op.iou, fdr=op.fdr)
    counts = np.array([[s.tp, s.fp, s.fn] for s in (detection_scores(t, m, ignore=b)
                                                    for t, m, b in zip(truths, masks, bads))], dtype=float)
    stats = {"f1": lambda c: _ratio(2 * c[:, 0].sum(), 2 * c[:, 0].sum() + c[:, 1:].sum()),
             "iou": lambda c: _ratio(c[:, 0].sum(), c.sum()), "fdr": lambda c: _ratio(c[:, 1].sum(), c[:, :2].sum())}
    for key, stat in stats.items():
        row.update(_ci_row(key, bootstrap_ci(stat, counts, n_boot=n_boot, rng=rng, confidence=confidence)))
    row.update(tpr_by_signal(truth, predicted, snr, bins=DEFAULT_BINS, ignore=ignore).as_row(prefix="op_tpr"))
    return row, _curves(truth, score, ignore)



def _method_rows(name, outs, groups, *, n_boot, rng, confidence, truth, min_snr):
    """Metric rows and curves of one method, per group."""
    rows, curves = [], {}
    for group in groups:
        members = [(c, r) for c, r in outs if group in ("all", c.flavour)]
        ok_runs = [(c, r) for c, r in members if r.status == "ok"]
        failed = [r for _, r in members if r.status != "ok"]
        row = {"method": name, "flavour": group, "n_cases": len(ok_runs), "n_failed": len(failed),
               "status": "ok" if not failed else ("partial" if ok_runs else failed[0].status),
               "reason": failed[0].reason if failed else ""}
        if ok_runs:
            try:
                metrics, curves[name, group] = _group_row(name, group, ok_runs, n_boot=n_boot, rng=rng,
                                                          confidence=confidence, truth_mode=truth, min_snr=min_snr)
                row.update(metrics)
            except Exception as exc:  # e.g. a group without any negative pixel
                row.update(status="failed", reason=f"metrics: {type(exc).__name__}: {exc}")
            row["seconds_per_mpx"] = sum(r.seconds for _, r in ok_runs) / sum(c.image.size for c, _ in ok_runs) * 1e6
        rows.append(row)
    return rows, curves
