"""Validation and ranking helpers shared by the metrics modules (private).

Everything here works on flattened pixels: the metrics compare per-pixel
truth with per-pixel scores, whatever the array shape.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from astroclean.image import native_float
from astroclean.errors import AstrocleanValueError


def as_bool(array, *, name: str, shape=None) -> np.ndarray:
    """Return ``array`` as a boolean ndarray, refusing values other than 0/1.

    A boolean input is returned as is (read only, never modified); 0/1
    integers or floats are converted. ``shape`` (when given) must match.
    """
    arr = np.asarray(array)
    if shape is not None and arr.shape != tuple(shape):
        raise AstrocleanValueError(
            f"{name} has shape {arr.shape} but the truth/image has shape {tuple(shape)}; "
            f"pass a {name} of the same shape"
        )
    if arr.dtype == bool:
        return arr
    if arr.dtype.kind not in "iuf":
        raise AstrocleanValueError(f"{name} must be boolean (or 0/1), got dtype {arr.dtype}")
    if not np.all((arr == 0) | (arr == 1)):
        raise AstrocleanValueError(
            f"{name} must be boolean or hold only 0 and 1, got values outside {{0, 1}}; "
            f"threshold it first, e.g. {name} > 0.5"
        )
    return arr != 0


def as_score(array, *, name: str = "score", shape=None) -> np.ndarray:
    """Return ``array`` as a native-endian float ndarray (no copy when possible)."""
    arr = np.asarray(array)
    if shape is not None and arr.shape != tuple(shape):
        raise AstrocleanValueError(
            f"{name} has shape {arr.shape} but truth has shape {tuple(shape)}; pass arrays of one shape"
        )
    if arr.dtype.kind == "f":
        return arr.astype(arr.dtype.newbyteorder("="), copy=False)
    if arr.dtype.kind in "iub":
        return arr.astype(np.float64)
    raise AstrocleanValueError(f"{name} must hold real numbers, got dtype {arr.dtype}")


def check_rate(value, *, name: str, allow_zero: bool = True) -> float:
    """Validate a rate (FPR, TPR, FDR, ...) in [0, 1] (or (0, 1])."""
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise AstrocleanValueError(f"{name} must be a number in [0, 1], got {value!r}") from None
    low_ok = rate >= 0 if allow_zero else rate > 0
    if not (low_ok and rate <= 1):
        interval = "[0, 1]" if allow_zero else "(0, 1]"
        raise AstrocleanValueError(f"{name} must be in {interval}, got {value!r}")
    return rate


def max_count_le(rate: float, n: int) -> int:
    """Largest integer ``k`` in [0, n] with ``k / n <= rate`` (float division, as the curves use)."""
    k = min(n, max(0, math.floor(rate * n)))
    while k < n and (k + 1) / n <= rate:
        k += 1
    while k > 0 and k / n > rate:
        k -= 1
    return k


def min_count_ge(rate: float, n: int) -> int:
    """Smallest integer ``k`` in [0, n] with ``k / n >= rate`` (``rate <= 1``)."""
    k = min(n, max(0, math.ceil(rate * n)))
    while k > 0 and (k - 1) / n >= rate:
        k -= 1
    while k < n and k / n < rate:
        k += 1
    return k


def ratio(num, den) -> float:
    """``num / den`` as a float, NaN when ``den`` is zero."""
    return float(num) / float(den) if den else math.nan


class Ranked(NamedTuple):
    """Scores of the positive and negative pixels, each sorted ascending."""

    pos: np.ndarray
    neg: np.ndarray

    @property
    def n_pos(self) -> int:
        return int(self.pos.size)

    @property
    def n_neg(self) -> int:
        return int(self.neg.size)


def keep_mask(truth, ignore, shape):
    """Validate ``ignore`` and return the flat boolean 'pixel counts' mask or None."""
    if ignore is None:
        return None
    return ~as_bool(ignore, name="ignore", shape=shape).ravel()


def split_scores(truth, score, ignore=None):
    """Validate and return flat ``(truth, score, keep)`` (``keep`` None = all pixels count)."""
    t = as_bool(truth, name="truth")
    s = as_score(score, shape=t.shape)
    keep = keep_mask(t, ignore, t.shape)
    return t.ravel(), s.ravel(), keep


def rank(truth, score, ignore=None) -> Ranked:
    """Validate inputs and return the sorted scores of positives and negatives.

    Raises
    ------
    AstrocleanValueError
        When a counted (not ignored) pixel has a NaN score, or nothing is left.
    """
    t, s, keep = split_scores(truth, score, ignore)
    pos_sel = t if keep is None else t & keep
    neg_sel = ~t if keep is None else ~t & keep
    pos, neg = s[pos_sel], s[neg_sel]  # boolean indexing copies: safe to sort in place
    n_nan = int(np.count_nonzero(np.isnan(pos)) + np.count_nonzero(np.isnan(neg)))
    if n_nan:
        raise AstrocleanValueError(
            f"score is NaN at {n_nan} counted pixel(s); exclude them with ignore= "
            "(e.g. ignore=image_mask | numpy.isnan(score))"
        )
    if pos.size + neg.size == 0:
        raise AstrocleanValueError("no pixel left to score: ignore excludes every pixel")
    pos.sort()
    neg.sort()
    return Ranked(pos, neg)


def curve_counts(ranked: Ranked):
    """Return ``(thresholds, tp, fp)`` at every distinct score, thresholds descending.

    At ``thresholds[i]`` a pixel is flagged when ``score >= thresholds[i]``;
    ``tp[i]``/``fp[i]`` count flagged positives/negatives. One sort of the
    negatives and one of the positives, then a linear merge (O(n log n)).
    """
    merged = np.concatenate([ranked.pos, ranked.neg])
    merged.sort(kind="stable")  # two sorted runs: timsort merges them in linear time
    n = merged.size
    first = np.empty(n, dtype=bool)
    first[:1] = True
    np.not_equal(merged[1:], merged[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    del first
    thresholds = merged[starts]
    del merged
    flagged = n - starts  # pixels with score >= threshold, ascending thresholds
    del starts
    if ranked.n_pos:
        where = np.searchsorted(thresholds, ranked.pos)  # exact: every score is a threshold
        tp = np.cumsum(np.bincount(where, minlength=thresholds.size)[::-1])
    else:
        tp = np.zeros(thresholds.size, dtype=np.int64)
    fp = flagged[::-1] - tp
    return thresholds[::-1], tp, fp


def exclusion_value(neg: np.ndarray, allowed_fp: int):
    """Highest negative score that must NOT be flagged to keep ``fp <= allowed_fp``.

    ``neg`` is sorted ascending. Returns None when every negative may be
    flagged. Flagging ``score > value`` is then the lowest admissible cut.
    """
    if allowed_fp >= neg.size:
        return None
    return neg[neg.size - 1 - allowed_fp]


def as_2d(image, name):
    data = native_float(image, name=name)
    if data.ndim != 2 or data.size == 0:
        raise AstrocleanValueError(f"{name} must be a non-empty 2-D (y, x) array, got shape {data.shape}")
    return data
