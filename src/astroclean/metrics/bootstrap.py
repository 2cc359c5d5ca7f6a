"""Bootstrap confidence intervals over independent units (images, patches).

Pixels of one image are correlated (a cosmic ray covers several, a bad
column many), so the pixel count overstates the information: resample whole
images or patches, not pixels. :func:`bootstrap_ci` is generic;
:func:`tpr_at_fpr_ci` is its exact, fast specialisation for the pooled TPR
at fixed FPR of a list of (truth, score) images (one sort for all
replicates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from astroclean.errors import AstrocleanValueError
from astroclean.metrics._common import check_rate, max_count_le, rank

__all__ = ["BootstrapInterval", "bootstrap_ci", "tpr_at_fpr_ci"]


@dataclass(frozen=True)
class BootstrapInterval:
    """A statistic with its percentile bootstrap interval.

    Attributes
    ----------
    estimate : float
        The statistic on the original units.
    low, high : float
        Percentiles ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` of
        the finite replicates (NaN when none is finite).
    std : float
        Standard deviation of the finite replicates.
    confidence : float
    n_boot, n_valid : int
        Replicates drawn, and those with a finite statistic (a replicate
        can lack positives, for instance).
    """

    estimate: float
    low: float
    high: float
    std: float
    confidence: float
    n_boot: int
    n_valid: int

    def as_row(self, name: str = "value") -> dict:
        """``{name: estimate, name_low: low, name_high: high}`` for tables."""
        return {name: self.estimate, f"{name}_low": self.low, f"{name}_high": self.high}


def _check(n_units, n_boot, confidence):
    if n_units < 1:
        raise AstrocleanValueError("need at least one unit (image, patch) to bootstrap, got none")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise AstrocleanValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    if not 0 < float(confidence) < 1:
        raise AstrocleanValueError(f"confidence must be in (0, 1), e.g. 0.68 or 0.95, got {confidence!r}")


def _draws(n_units, n_boot, rng):
    """Unit indices of every replicate, shape (n_boot, n_units)."""
    return np.random.default_rng(rng).integers(0, n_units, size=(n_boot, n_units))


def _interval(estimate, replicates, confidence, n_boot):
    reps = np.asarray(replicates, dtype=np.float64)
    good = reps[np.isfinite(reps)]
    if good.size:
        tail = (1 - confidence) / 2 * 100
        low, high = np.percentile(good, [tail, 100 - tail])
        std = float(np.std(good, ddof=1)) if good.size > 1 else 0.0
    else:
        low = high = std = math.nan
    return BootstrapInterval(float(estimate), float(low), float(high), std, float(confidence), int(n_boot), int(good.size))


def bootstrap_ci(statistic, samples, *, n_boot=200, rng, confidence=0.68) -> BootstrapInterval:
    """Percentile bootstrap interval of ``statistic`` over independent units.

    Parameters
    ----------
    statistic : callable
        ``statistic(units) -> float``; ``units`` is a resample of
        ``samples`` (an ndarray indexed along axis 0 when ``samples`` is an
        ndarray, else a list), drawn with replacement, same length.
    samples : ndarray or sequence
        One entry per independent unit: e.g. rows of per-image counts
        ``(tp, fp, fn, tn)``, or (truth, score) pairs.
    n_boot : int
        Number of replicates.
    rng : numpy.random.Generator or int or None
        Source of randomness (required, so intervals are reproducible).
    confidence : float in (0, 1)
        0.68 (1 sigma) or 0.95, typically.

    Returns
    -------
    BootstrapInterval

    Examples
    --------
    TPR pooled over images from per-image (tp, fn) counts:

    >>> counts = np.array([[8, 2], [5, 5], [9, 1], [7, 3]])
    >>> pooled_tpr = lambda c: c[:, 0].sum() / c.sum()
    >>> ci = bootstrap_ci(pooled_tpr, counts, n_boot=500, rng=1, confidence=0.95)
    >>> ci.estimate, bool(ci.low < 0.725 < ci.high), ci.n_valid
    (0.725, True, 500)
    """
    if not callable(statistic):
        raise AstrocleanValueError(f"statistic must be callable (units -> float), got {type(statistic).__name__}")
    n = len(samples)
    _check(n, n_boot, confidence)
    is_array = isinstance(samples, np.ndarray)
    reps = []
    for idx in _draws(n, n_boot, rng):
        units = samples[idx] if is_array else [samples[i] for i in idx]
        reps.append(float(statistic(units)))
    return _interval(float(statistic(samples)), reps, float(confidence), n_boot)


class _PooledRanks:
    """Scores of all images, sorted once, with the image of each pixel."""

    def __init__(self, truths, scores, ignores):
        pos, neg, pos_unit, neg_unit = [], [], [], []
        for i, (truth, score, ignore) in enumerate(zip(truths, scores, ignores)):
            r = rank(truth, score, ignore)
            pos.append(r.pos)
            neg.append(r.neg)
            pos_unit.append(np.full(r.n_pos, i, dtype=np.int32))
            neg_unit.append(np.full(r.n_neg, i, dtype=np.int32))
        self.n_pos_unit = np.array([p.size for p in pos], dtype=np.int64)
        self.n_neg_unit = np.array([q.size for q in neg], dtype=np.int64)
        self.pos, self.pos_unit = self._sort_desc(pos, pos_unit)
        self.neg, self.neg_unit = self._sort_desc(neg, neg_unit)
        self.pos_asc = self.pos[::-1]

    @staticmethod
    def _sort_desc(values, units):
        values = np.concatenate(values)
        order = np.argsort(values, kind="stable")[::-1]
        return values[order], np.concatenate(units)[order]

    def tpr_at_fpr(self, fpr, weights):
        """Pooled TPR at FPR with each image counted ``weights[i]`` times."""
        n_pos = int(weights @ self.n_pos_unit)
        n_neg = int(weights @ self.n_neg_unit)
        if not n_pos or not n_neg:
            return math.nan
        allowed = max_count_le(fpr, n_neg)
        first_excluded = self._first_exceeding(weights, allowed)
        if first_excluded is None:
            return 1.0
        cut = self.neg[first_excluded]
        n_above = self.pos.size - int(np.searchsorted(self.pos_asc, cut, side="right"))
        return float(weights[self.pos_unit[:n_above]].sum()) / n_pos

    def _first_exceeding(self, weights, allowed):
        """Index of the first negative (descending) whose cumulative weight exceeds ``allowed``."""
        start, total, chunk = 0, 0, max(4096, 4 * (allowed + 1))
        while start < self.neg.size:
            cum = np.cumsum(weights[self.neg_unit[start : start + chunk]]) + total
            j = int(np.searchsorted(cum, allowed, side="right"))
            if j < cum.size:
                return start + j
            total, start, chunk = int(cum[-1]), start + cum.size, chunk * 2
        return None


def tpr_at_fpr_ci(truths, scores, fpr, *, ignores=None, n_boot=200, rng, confidence=0.68) -> BootstrapInterval:
    """TPR at fixed FPR pooled over images, with a bootstrap interval over images.

    The estimate is :func:`~astroclean.metrics.tpr_at_fpr` of all images'
    pixels together (one threshold for all). Each replicate draws images
    with replacement and recomputes the pooled value exactly, without
    re-sorting. Equal to ``bootstrap_ci`` with a pooled ``tpr_at_fpr`` and
    the same ``rng``, only faster.

    Parameters
    ----------
    truths, scores : sequence of array_like
        One (truth, score) pair per independent image or patch.
    fpr : float in [0, 1]
    ignores : sequence of array_like of bool or None, optional
        Per-image ``ignore`` masks (None entries allowed).
    n_boot, rng, confidence
        As in :func:`bootstrap_ci`.

    Returns
    -------
    BootstrapInterval

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truths = [rng.random((32, 32)) < 0.05 for _ in range(6)]
    >>> scores = [t + rng.normal(0, 0.4, t.shape) for t in truths]
    >>> ci = tpr_at_fpr_ci(truths, scores, 0.01, n_boot=100, rng=1)
    >>> bool(0 <= ci.low <= ci.estimate <= ci.high <= 1)
    True
    """
    fpr = check_rate(fpr, name="fpr")
    truths, scores = list(truths), list(scores)
    if len(truths) != len(scores):
        raise AstrocleanValueError(f"got {len(truths)} truths but {len(scores)} scores; pass one per image")
    ignores = [None] * len(truths) if ignores is None else list(ignores)
    if len(ignores) != len(truths):
        raise AstrocleanValueError(f"got {len(ignores)} ignore masks for {len(truths)} images")
    _check(len(truths), n_boot, confidence)
    pooled = _PooledRanks(truths, scores, ignores)
    n = len(truths)
    estimate = pooled.tpr_at_fpr(fpr, np.ones(n, dtype=np.int64))
    reps = [pooled.tpr_at_fpr(fpr, np.bincount(idx, minlength=n)) for idx in _draws(n, n_boot, rng)]
    return _interval(estimate, reps, float(confidence), n_boot)
