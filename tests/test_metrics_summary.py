"""astroclean.metrics: TPR by signal, summarize_detection, bootstrap intervals."""

import math

import numpy as np
import pytest

from astroclean.errors import AstrocleanValueError
from astroclean.metrics import (
    bootstrap_ci,
    detection_scores,
    dilate_truth,
    precision_at_tpr,
    roc_curve,
    summarize_detection,
    threshold_at_fpr,
    tpr_at_fpr,
    tpr_at_fpr_by_signal,
    tpr_at_fpr_ci,
    tpr_by_signal,
)


def test_tpr_by_signal_by_hand():
    truth = [1, 1, 1, 1, 1, 0]
    predicted = [1, 0, 1, 1, 0, 1]
    snr = [2.0, 3.0, 7.0, 50.0, 1.0, 99.0]  # S/N 1.0 is below every bin; negatives' S/N unused
    b = tpr_by_signal(truth, predicted, snr)
    assert b.bins == ((1.5, 5.0), (5.0, math.inf))
    assert b.n_positive.tolist() == [2, 2] and b.n_detected.tolist() == [1, 2]
    np.testing.assert_allclose(b.tpr, [0.5, 1.0])
    assert math.isnan(b.threshold)
    assert b.as_row() == {"tpr[snr 1.5-5]": 0.5, "tpr[snr 5-inf]": 1.0}
    # bin edges: low inclusive, high exclusive; an empty bin is NaN; NaN S/N in no bin
    edge = tpr_by_signal([1, 1, 1], [1, 0, 1], [5.0, 1.5, np.nan], bins=((1.5, 5.0), (5.0, 6.0), (6.0, 9.0)))
    assert edge.n_positive.tolist() == [1, 1, 0] and edge.tpr[:2].tolist() == [0.0, 1.0] and math.isnan(edge.tpr[2])
    with pytest.raises(AstrocleanValueError, match="low < high"):
        tpr_by_signal(truth, predicted, snr, bins=((5, 1),))
    with pytest.raises(AstrocleanValueError, match="snr has shape"):
        tpr_by_signal(truth, predicted, snr[:3])


def test_tpr_at_fpr_by_signal_by_hand():
    # negatives 0.1, 0.2, 0.3, 0.9 -> FPR <= 1/4 flags score > 0.3
    truth = [0, 0, 0, 0, 1, 1, 1, 1]
    score = [0.1, 0.2, 0.3, 0.9, 0.25, 0.5, 0.35, 0.95]
    snr = [0, 0, 0, 0, 2.0, 3.0, 6.0, 60.0]
    b = tpr_at_fpr_by_signal(truth, score, snr, 0.25)
    np.testing.assert_allclose(b.tpr, [0.5, 1.0])  # low S/N: 0.5 found, 0.25 missed
    assert b.threshold == 0.35
    # one bin covering every S/N gives back tpr_at_fpr
    one = tpr_at_fpr_by_signal(truth, score, snr, 0.25, bins=((-np.inf, np.inf),))
    assert one.tpr[0] == tpr_at_fpr(truth, score, 0.25) == 0.75
    # no negatives: FPR undefined
    none = tpr_at_fpr_by_signal([1, 1], [0.2, 0.3], [2.0, 9.0], 0.1)
    assert np.isnan(none.tpr).all() and none.n_positive.tolist() == [1, 1]


def test_summarize_matches_individual_functions(rng):
    truth = rng.random((40, 50)) < 0.05
    score = np.round(rng.random(truth.shape) + 0.6 * truth, 2)
    snr = np.where(truth, rng.uniform(1, 20, truth.shape), 0.0)
    ignore = rng.random(truth.shape) < 0.05
    s = summarize_detection(truth, score, threshold=0.8, snr=snr, ignore=ignore, fprs=(0.01, 0.1))
    assert s.scores == detection_scores(truth, score >= 0.8, ignore=ignore)
    assert s.auc == roc_curve(truth, score, ignore=ignore).auc
    for f in (0.01, 0.1):
        assert s.tpr_at_fpr[f] == tpr_at_fpr(truth, score, f, ignore=ignore)
        assert s.threshold_at_fpr[f] == threshold_at_fpr(truth, score, f, ignore=ignore)
        by = tpr_at_fpr_by_signal(truth, score, snr, f, ignore=ignore)
        np.testing.assert_array_equal(s.tpr_at_fpr_by_signal[f].tpr, by.tpr)
    assert s.precision_at_tpr == precision_at_tpr(truth, score, 0.95, ignore=ignore)
    np.testing.assert_array_equal(s.tpr_by_signal.tpr, tpr_by_signal(truth, score >= 0.8, snr, ignore=ignore).tpr)
    row = s.as_row()
    for key in ("tpr", "fpr", "f1", "auc", "tpr@fpr=0.01", "precision@tpr=0.95", "tpr[snr 5-inf]",
                "tpr@fpr=0.1[snr 1.5-5]", "n_positive"):
        assert key in row, key
    assert all(isinstance(v, (int, float)) for v in row.values())
    without = summarize_detection(truth, score, threshold=0.8)
    assert without.tpr_by_signal is None and "tpr[snr 5-inf]" not in without.as_row()


def test_summarize_dilate_halo():
    truth = np.zeros((5, 5), bool)
    truth[2, 2] = True
    score = np.zeros((5, 5))
    score[2, 2], score[2, 3] = 0.9, 0.95  # the neighbour scores higher than the CR
    plain = summarize_detection(truth, score, threshold=0.5, fprs=(0.0,))
    halo = summarize_detection(truth, score, threshold=0.5, fprs=(0.0,), dilate=3)
    assert plain.scores.fp == 1 and plain.tpr_at_fpr[0.0] == 0.0
    assert halo.scores.fp == 0 and halo.tpr_at_fpr[0.0] == 1.0
    assert halo.n_negative == 25 - 9 and halo.n_positive == 1
    assert halo.scores == detection_scores(truth, score >= 0.5, ignore=dilate_truth(truth) & ~truth)


def test_summarize_validation():
    with pytest.raises(AstrocleanValueError, match="threshold"):
        summarize_detection([0, 1], [0.1, 0.2], threshold="high")
    with pytest.raises(AstrocleanValueError, match="fprs"):
        summarize_detection([0, 1], [0.1, 0.2], threshold=0.5, fprs=(2.0,))


def test_bootstrap_ci_mean_standard_error():
    rng = np.random.default_rng(5)
    values = rng.normal(10.0, 2.0, 400)
    ci = bootstrap_ci(np.mean, values, n_boot=400, rng=3, confidence=0.68)
    assert ci.estimate == pytest.approx(values.mean())
    sem = values.std(ddof=1) / np.sqrt(values.size)  # 0.1
    assert ci.std == pytest.approx(sem, rel=0.2)
    assert ci.high - ci.low == pytest.approx(2 * sem, rel=0.25)  # 68 % ~ +-1 sigma
    assert ci.low < ci.estimate < ci.high and ci.n_valid == 400
    wide = bootstrap_ci(np.mean, values, n_boot=400, rng=3, confidence=0.95)
    assert wide.high - wide.low > ci.high - ci.low
    again = bootstrap_ci(np.mean, values, n_boot=400, rng=3, confidence=0.68)
    assert again == ci  # reproducible with the same rng
    constant = bootstrap_ci(np.mean, np.full(5, 3.0), n_boot=50, rng=0)
    assert (constant.low, constant.high, constant.std) == (3.0, 3.0, 0.0)


def test_bootstrap_ci_lists_and_nan_replicates():
    units = [(1, 0), (0, 1), (0, 0)]  # (tp, fn) per image; replicates without positives are NaN
    tpr = lambda rows: (lambda tp, fn: tp / (tp + fn) if tp + fn else math.nan)(*np.sum(rows, axis=0))
    ci = bootstrap_ci(tpr, units, n_boot=300, rng=2)
    assert ci.estimate == 0.5
    assert 0 < ci.n_valid < 300  # (0, 0) drawn three times: 1/27 of replicates are NaN
    with pytest.raises(AstrocleanValueError, match="confidence"):
        bootstrap_ci(np.mean, [1.0, 2.0], rng=0, confidence=95)
    with pytest.raises(AstrocleanValueError, match="n_boot"):
        bootstrap_ci(np.mean, [1.0, 2.0], rng=0, n_boot=0)
    with pytest.raises(AstrocleanValueError, match="at least one"):
        bootstrap_ci(np.mean, [], rng=0)
    with pytest.raises(TypeError):
        bootstrap_ci(np.mean, [1.0], n_boot=3)  # rng is required


def test_tpr_at_fpr_ci_equals_generic_bootstrap():
    rng = np.random.default_rng(11)
    truths = [rng.random((12, 15)) < p for p in (0.05, 0.1, 0.0, 0.2, 0.08)]  # one image without CRs
    scores = [np.round(t + rng.normal(0, 0.5, t.shape), 1) for t in truths]  # ties
    ignores = [None, rng.random((12, 15)) < 0.1, None, None, None]
    fpr = 0.02

    def pooled(units):
        t = np.concatenate([u[0].ravel() for u in units])
        s = np.concatenate([u[1].ravel() for u in units])
        i = np.concatenate([np.zeros(u[0].size, bool) if u[2] is None else u[2].ravel() for u in units])
        return tpr_at_fpr(t, s, fpr, ignore=i)

    slow = bootstrap_ci(pooled, list(zip(truths, scores, ignores)), n_boot=60, rng=7, confidence=0.95)
    fast = tpr_at_fpr_ci(truths, scores, fpr, ignores=ignores, n_boot=60, rng=7, confidence=0.95)
    assert fast == slow
    assert fast.low < fast.estimate < fast.high


def test_tpr_at_fpr_ci_when_top_negatives_are_in_undrawn_images():
    # image 0 holds the 6000 highest-scoring negatives: a replicate without it must search past
    # them (several chunks of the cumulative-weight search) to find its operating point
    rng = np.random.default_rng(3)
    truths = [rng.random(6000) < 0.02 for _ in range(3)]
    scores = [t * 0.5 + rng.random(t.size) for t in truths]
    scores[0] = scores[0] + 2.0
    fpr = 1e-3

    def pooled(units):
        return tpr_at_fpr(np.concatenate([u[0] for u in units]), np.concatenate([u[1] for u in units]), fpr)

    fast = tpr_at_fpr_ci(truths, scores, fpr, n_boot=30, rng=4)
    assert fast == bootstrap_ci(pooled, list(zip(truths, scores)), n_boot=30, rng=4)
    assert fast.estimate == pooled(list(zip(truths, scores)))
    with pytest.raises(AstrocleanValueError, match="one per image"):
        tpr_at_fpr_ci(truths, scores[:2], fpr, rng=0)
