"""astroclean.metrics detection metrics: hand-computed values, degenerate cases, brute force."""

import ast
import math
import time
from pathlib import Path

import numpy as np
import pytest

from astroclean.errors import AstrocleanValueError
from astroclean.metrics import (
    detection_scores,
    dilate_truth,
    precision_at_tpr,
    precision_recall_curve,
    roc_curve,
    threshold_at_fdr,
    threshold_at_fpr,
    tpr_at_fpr,
)
from astroclean.metrics._common import max_count_le, min_count_ge

METRICS = Path(__file__).resolve().parents[1] / "src" / "astroclean" / "metrics"

# Ties: scores 0.9 (CR), 0.9 (not), 0.5 (CR), 0.5 (not), 0.1 (not); 2 positives, 3 negatives.
TIE_TRUTH = [1, 0, 1, 0, 0]
TIE_SCORE = [0.9, 0.9, 0.5, 0.5, 0.1]


def test_roc_with_ties_by_hand():
    curve = roc_curve(TIE_TRUTH, TIE_SCORE)
    # t=0.9: tp 1, fp 1; t=0.5: tp 2, fp 2; t=0.1: tp 2, fp 3 -> one point per distinct score
    assert curve.thresholds.tolist() == [np.inf, 0.9, 0.5, 0.1]
    np.testing.assert_allclose(curve.tpr, [0, 0.5, 1, 1])
    np.testing.assert_allclose(curve.fpr, [0, 1 / 3, 2 / 3, 1])
    # trapezoids: 1/3*(0+.5)/2 + 1/3*(.5+1)/2 + 1/3*(1+1)/2 = 1/12 + 3/12 + 4/12 = 2/3
    # (Mann-Whitney: pos .9 beats 2 negs, ties 1 -> 2.5; pos .5 beats 1, ties 1 -> 1.5; 4/6)
    assert curve.auc == pytest.approx(2 / 3)
    assert (curve.n_positive, curve.n_negative) == (2, 3)


def test_pr_with_ties_by_hand():
    pr = precision_recall_curve(TIE_TRUTH, TIE_SCORE)
    np.testing.assert_allclose(pr.precision, [1 / 2, 2 / 4, 2 / 5])
    np.testing.assert_allclose(pr.recall, [0.5, 1, 1])
    assert pr.average_precision == pytest.approx(0.5 * 0.5 + 0.5 * 0.5 + 0 * 0.4)


def test_all_scores_tied_is_one_point():
    curve = roc_curve([1, 0, 0, 1], [0.3, 0.3, 0.3, 0.3])
    np.testing.assert_allclose(curve.fpr, [0, 1])
    np.testing.assert_allclose(curve.tpr, [0, 1])
    assert curve.auc == 0.5
    # one threshold flags everything or nothing: TPR at FPR < 1 is 0 (nothing flagged)
    assert tpr_at_fpr([1, 0, 0, 1], [0.3] * 4, 0.99) == 0.0
    assert threshold_at_fpr([1, 0, 0, 1], [0.3] * 4, 0.99) == math.inf


def test_tpr_at_fpr_ties_not_split():
    # negatives 0.1, 0.4, 0.4, 0.9; positives 0.4, 0.8, 0.95
    truth = [0, 0, 0, 0, 1, 1, 1]
    score = [0.1, 0.4, 0.4, 0.9, 0.4, 0.8, 0.95]
    # FPR <= 0.25 -> at most 1 FP: flag > 0.4 (score >= 0.8): TPR 2/3. Flagging 0.4 would add 2 FP.
    assert tpr_at_fpr(truth, score, 0.25) == pytest.approx(2 / 3)
    assert threshold_at_fpr(truth, score, 0.25) == 0.8
    # FPR <= 0.5 -> 2 FP allowed, but the 0.4 tie costs 3 in total: still 2/3
    assert tpr_at_fpr(truth, score, 0.5) == pytest.approx(2 / 3)
    # FPR <= 0.75 -> 3 FP: flag >= 0.4 -> all positives
    assert tpr_at_fpr(truth, score, 0.75) == 1.0
    assert threshold_at_fpr(truth, score, 0.75) == 0.4
    # FPR 0: flag > 0.9 -> only 0.95
    assert tpr_at_fpr(truth, score, 0.0) == pytest.approx(1 / 3)
    assert threshold_at_fpr(truth, score, 1.0) == 0.1


def test_precision_at_tpr_by_hand():
    truth = [1, 1, 1, 1, 0, 0, 0]
    score = [0.9, 0.8, 0.3, 0.2, 0.85, 0.5, 0.1]
    # TPR 0.5 first reached at t=0.8: flagged .9 .85 .8 -> 2/3
    assert precision_at_tpr(truth, score, 0.5) == pytest.approx(2 / 3)
    # TPR 0.75 at t=0.3: .9 .85 .8 .5 .3 -> 3/5
    assert precision_at_tpr(truth, score, 0.75) == pytest.approx(3 / 5)
    # TPR 0.95 needs all 4 (3/4 < 0.95): t=0.2 -> 4/6
    assert precision_at_tpr(truth, score) == pytest.approx(4 / 6)
    # a tie between the needed positive and a negative counts both
    assert precision_at_tpr([1, 1, 0], [0.9, 0.5, 0.5], 1.0) == pytest.approx(2 / 3)


def test_threshold_at_fdr_by_hand():
    truth = [1, 1, 0, 1, 0]
    score = [0.9, 0.8, 0.7, 0.6, 0.5]
    # FDR per threshold: .9 -> 0, .8 -> 0, .7 -> 1/3, .6 -> 1/4, .5 -> 2/5 (not monotonic)
    assert threshold_at_fdr(truth, score, 0.3) == 0.6
    assert threshold_at_fdr(truth, score, 0.25) == 0.6
    assert threshold_at_fdr(truth, score, 0.2) == 0.8
    assert threshold_at_fdr(truth, score, 0.4) == 0.5
    assert math.isnan(threshold_at_fdr([0, 0, 1], [0.9, 0.8, 0.1], 0.1))  # FDR never <= 0.1


def test_no_positives():
    truth, score = [0, 0, 0], [0.1, 0.5, 0.9]
    curve = roc_curve(truth, score)
    assert np.isnan(curve.tpr).all() and np.isnan(curve.auc)
    np.testing.assert_allclose(curve.fpr, [0, 1 / 3, 2 / 3, 1])
    assert np.isnan(precision_recall_curve(truth, score).recall).all()
    assert math.isnan(tpr_at_fpr(truth, score, 0.1))
    assert math.isnan(precision_at_tpr(truth, score, 0.5))
    assert threshold_at_fpr(truth, score, 0.34) == 0.9  # defined: it only needs negatives


def test_all_positives():
    truth, score = [1, 1, 1], [0.1, 0.5, 0.9]
    curve = roc_curve(truth, score)
    assert np.isnan(curve.fpr).all()
    np.testing.assert_allclose(curve.tpr, [0, 1 / 3, 2 / 3, 1])
    assert math.isnan(tpr_at_fpr(truth, score, 0.1))
    assert math.isnan(threshold_at_fpr(truth, score, 0.1))
    assert precision_at_tpr(truth, score, 1.0) == 1.0
    np.testing.assert_allclose(precision_recall_curve(truth, score).precision, [1, 1, 1])


def test_ignore_excludes_pixels():
    truth = np.array([[1, 0], [1, 0]], bool)
    score = np.array([[0.9, 0.8], [np.nan, 0.1]])
    ignore = np.array([[False, False], [True, False]])
    curve = roc_curve(truth, score, ignore=ignore)  # the NaN pixel is ignored
    assert (curve.n_positive, curve.n_negative) == (1, 2)
    assert curve.auc == 1.0
    with pytest.raises(AstrocleanValueError, match="NaN at 1 counted"):
        roc_curve(truth, score)
    with pytest.raises(AstrocleanValueError, match="every pixel"):
        tpr_at_fpr(truth, score, 0.1, ignore=np.ones((2, 2), bool))


def test_validation_errors():
    with pytest.raises(AstrocleanValueError, match="shape"):
        roc_curve([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="0 and 1"):
        roc_curve([0, 2], [0.1, 0.2])
    with pytest.raises(AstrocleanValueError, match=r"fpr must be in \[0, 1\], got 1.5"):
        tpr_at_fpr([0, 1], [0.1, 0.2], 1.5)
    with pytest.raises(AstrocleanValueError, match=r"\(0, 1\]"):
        precision_at_tpr([0, 1], [0.1, 0.2], 0.0)
    with pytest.raises(AstrocleanValueError, match="ignore has shape"):
        roc_curve([0, 1], [0.1, 0.2], ignore=[True])


def test_rate_to_count_is_consistent_with_division():
    # 0.29 * 100 = 28.999999999999996 in floats, but 29 / 100 == 0.29
    assert max_count_le(0.29, 100) == 29
    assert min_count_ge(0.29, 100) == 29
    assert max_count_le(0.0, 10) == 0 and max_count_le(1.0, 10) == 10
    assert min_count_ge(0.95, 4) == 4 and min_count_ge(0.75, 4) == 3


def test_inputs_not_modified_and_dtypes(rng):
    truth = rng.random((20, 20)) < 0.2
    score = rng.random((20, 20)).astype(">f4")
    ignore = rng.random((20, 20)) < 0.1
    copies = [a.copy() for a in (truth, score, ignore)]
    expected = roc_curve(truth, score.astype(np.float64), ignore=ignore).auc
    assert roc_curve(truth, score, ignore=ignore).auc == pytest.approx(expected)
    tpr_at_fpr(truth, score, 0.1, ignore=ignore)
    detection_scores(truth, score > 0.5, ignore=ignore)
    for before, after in zip(copies, (truth, score, ignore)):
        np.testing.assert_array_equal(before, after)
    # integer scores and 0/1 truth are accepted
    assert roc_curve(truth.astype(np.int16), (score * 100).astype(np.int16)).n_positive == truth.sum()


def _brute(truth, score):
    """Curve by a plain loop over the distinct thresholds, descending."""
    rows = []
    for t in np.unique(score)[::-1]:
        flagged = score >= t
        rows.append((t, np.sum(flagged & truth), np.sum(flagged & ~truth)))
    return rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 400
    truth = rng.random(n) < 0.3
    score = np.round(rng.random(n) + 0.5 * truth, 1)  # rounded: many ties
    rows = _brute(truth, score)
    n_pos, n_neg = truth.sum(), (~truth).sum()
    thr = np.array([r[0] for r in rows])
    tp = np.array([r[1] for r in rows])
    fp = np.array([r[2] for r in rows])
    curve = roc_curve(truth, score)
    np.testing.assert_array_equal(curve.thresholds[1:], thr)
    np.testing.assert_allclose(curve.tpr[1:], tp / n_pos)
    np.testing.assert_allclose(curve.fpr[1:], fp / n_neg)
    pr = precision_recall_curve(truth, score)
    np.testing.assert_allclose(pr.precision, tp / (tp + fp))
    np.testing.assert_allclose(pr.recall, tp / n_pos)
    for target in (0.0, 0.01, 0.05, 0.2, 0.5, 1.0):
        ok = fp / n_neg <= target
        best = (tp[ok] / n_pos).max() if ok.any() else 0.0
        assert tpr_at_fpr(truth, score, target) == pytest.approx(best)
        assert threshold_at_fpr(truth, score, target) == (thr[ok].min() if ok.any() else np.inf)
        fdr_ok = fp / (tp + fp) <= target
        expected = thr[fdr_ok].min() if fdr_ok.any() else np.nan
        np.testing.assert_equal(threshold_at_fdr(truth, score, target), expected)
    for target in (0.1, 0.5, 0.95, 1.0):
        first = np.flatnonzero(tp / n_pos >= target)[0]
        assert precision_at_tpr(truth, score, target) == pytest.approx(tp[first] / (tp[first] + fp[first]))
    # AUC equals the Mann-Whitney statistic (ties count one half)
    pos, neg = score[truth], score[~truth]
    mw = (np.sum(pos[:, None] > neg[None, :]) + 0.5 * np.sum(pos[:, None] == neg[None, :])) / (n_pos * n_neg)
    assert curve.auc == pytest.approx(mw)


def test_detection_scores_by_hand():
    s = detection_scores([1, 1, 0, 0, 0], [1, 0, 1, 0, 0])
    assert (s.tp, s.fp, s.fn, s.tn) == (1, 1, 1, 2)
    assert s.tpr == 0.5 and s.fpr == pytest.approx(1 / 3) and s.precision == 0.5 and s.fdr == 0.5
    assert s.f1 == pytest.approx(2 * 1 / (2 * 1 + 1 + 1))  # = 0.5, harmonic mean of 0.5 and 0.5
    assert s.iou == pytest.approx(1 / 3)
    assert s.as_row()["tp"] == 1


def test_detection_scores_degenerate():
    empty = detection_scores([0, 0, 0], [0, 0, 0])  # no positives, no predictions
    assert (empty.tp, empty.fp, empty.fn, empty.tn) == (0, 0, 0, 3)
    assert empty.fpr == 0.0
    for name in ("tpr", "precision", "fdr", "f1", "iou"):
        assert math.isnan(getattr(empty, name)), name
    full = detection_scores([1, 1], [1, 1])  # all positives, all found
    assert math.isnan(full.fpr) and full.tpr == 1 and full.precision == 1 and full.f1 == 1 and full.iou == 1
    missed = detection_scores([1, 1, 0], [0, 0, 0])  # no predictions, positives exist
    assert missed.tpr == 0 and math.isnan(missed.precision) and missed.f1 == 0 and missed.iou == 0
    ignored = detection_scores([1, 0, 0], [0, 1, 0], ignore=[True, True, False])
    assert (ignored.tp, ignored.fp, ignored.fn, ignored.tn) == (0, 0, 0, 1)


def test_dilate_truth_protocol():
    truth = np.zeros((5, 5), bool)
    truth[2, 2] = True
    dilated = dilate_truth(truth)
    assert dilated.sum() == 9 and dilated[1:4, 1:4].all()
    assert dilate_truth(truth, 5).sum() == 25
    np.testing.assert_array_equal(dilate_truth(truth, 1), truth)
    predicted = np.zeros_like(truth)
    predicted[2, 2] = predicted[2, 3] = True  # the CR plus a neighbour (edge of the track)
    plain = detection_scores(truth, predicted)
    halo = detection_scores(truth, predicted, ignore=dilated & ~truth)
    assert (plain.tp, plain.fp) == (1, 1)
    assert (halo.tp, halo.fp, halo.tn) == (1, 0, 16)  # 25 - 8 halo pixels - 1 CR
    with pytest.raises(AstrocleanValueError, match="odd"):
        dilate_truth(truth, 2)


def test_metrics_import_no_task_and_no_torch():
    banned = {"torch", "astroclean.models", "astroclean.inference", "astroclean.cosmicrays", "astroclean.training"}
    for path in METRICS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = {0: "", 1: "astroclean.metrics.", 2: "astroclean."}[node.level]
                names = [base + (node.module or "")]
            else:
                continue
            for name in names:
                assert not any(name == b or name.startswith(b + ".") for b in banned), (path.name, name)
                allowed = ("astroclean.errors", "astroclean.image", "astroclean.metrics", "astroclean.background",
                           "astroclean.photometry")
                assert not name.startswith("astroclean.") or name.startswith(allowed), name


def test_ten_million_pixels_timing():
    rng = np.random.default_rng(0)
    truth = rng.random((2500, 4000)) < 0.01
    score = (rng.random(truth.shape, dtype=np.float32) + 0.3 * truth).astype(np.float32)
    start = time.perf_counter()
    curve = roc_curve(truth, score)
    t_roc = time.perf_counter() - start
    start = time.perf_counter()
    value = tpr_at_fpr(truth, score, 1e-3)
    t_point = time.perf_counter() - start
    print(f"\n10^7 pixels: roc_curve {t_roc:.2f} s ({curve.fpr.size} points), tpr_at_fpr {t_point:.2f} s")
    assert curve.n_positive + curve.n_negative == truth.size
    # the operating point agrees with the full curve
    assert value == pytest.approx(curve.tpr[curve.fpr <= 1e-3].max())
    assert t_roc < 30 and t_point < 30  # loose: shared CPUs; expect ~1 s and ~0.5 s
