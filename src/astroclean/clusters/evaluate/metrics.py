"""Metrics of parameter estimates against mock truth: bias, scatter, coverage, PIT, ROC.

Bias is the median of (estimate - truth); scatter is 1.4826 x the median absolute deviation
(robust sigma); ``rms`` and the fraction of outliers beyond 3 x scatter are given beside them.
Coverage is the fraction of truths inside the 16-84 % interval (0.68 when calibrated).
"""

from __future__ import annotations

import numpy as np

AGE_BINS = ((6.0, 7.0), (7.0, 8.0), (8.0, 9.0))
MASS_BINS = ((3.477, 4.0), (4.0, 4.5), (4.5, 5.478))
SNR_BINS = ((0.0, 10.0), (10.0, 30.0), (30.0, 100.0), (100.0, np.inf))


def summary(estimate, truth):
    """{n, bias, scatter, rms, coverage} of (N, 3) 16/50/84 % estimates against truth (N,)."""
    est = np.asarray(estimate, float)
    tr = np.asarray(truth, float)
    ok = np.isfinite(est).all(1) & np.isfinite(tr)
    if ok.sum() < 3:
        return {"n": int(ok.sum()), "bias": np.nan, "scatter": np.nan, "rms": np.nan, "coverage": np.nan}
    d = est[ok, 1] - tr[ok]
    bias = float(np.median(d))
    scatter = float(1.4826 * np.median(np.abs(d - bias)))
    return {"n": int(ok.sum()), "bias": round(bias, 4), "scatter": round(scatter, 4),
            "rms": round(float(np.sqrt(np.mean(d**2))), 4),
            "coverage": round(float(np.mean((tr[ok] >= est[ok, 0]) & (tr[ok] <= est[ok, 2]))), 4)}


def binned(estimates: dict, truth: dict, params, *, selection=None):
    """Rows of {bin_kind, bin, parameter, n, bias, scatter, rms, coverage}."""
    sel = np.ones(len(truth["log_age"]), bool) if selection is None else selection
    rows = []
    for kind, key, bins in (("all", None, ((-np.inf, np.inf),)), ("log age", "log_age", AGE_BINS),
                            ("log mass", "log_mass", MASS_BINS), ("S/N", "snr", SNR_BINS)):
        for lo, hi in bins:
            m = sel if key is None else sel & (truth[key] >= lo) & (truth[key] < hi)
            for p in params:
                rows.append({"bin_kind": kind, "bin": "all" if key is None else f"{lo:g}-{hi:g}", "parameter": p,
                             **summary(estimates[p][m], truth[p][m])})
    return rows


def roc_auc(scores, labels):
    """Area under the ROC curve (Mann-Whitney), and the curve (fpr, tpr)."""
    s = np.asarray(scores, float)
    y = np.asarray(labels, bool)
    order = np.argsort(-s, kind="mergesort")
    ys = y[order]
    tpr = np.concatenate([[0], np.cumsum(ys) / max(ys.sum(), 1)])
    fpr = np.concatenate([[0], np.cumsum(~ys) / max((~ys).sum(), 1)])
    from scipy.stats import rankdata
    ranks = rankdata(s)
    n1, n0 = y.sum(), (~y).sum()
    auc = (ranks[y].sum() - n1 * (n1 + 1) / 2) / max(n1 * n0, 1)
    return float(auc), fpr, tpr
