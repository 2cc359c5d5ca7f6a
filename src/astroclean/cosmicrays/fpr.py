"""A per-frame threshold for a target false-positive rate, estimated from the frame itself.

The network's scores on clean pixels are not known for a user's frame: no truth. But the
*sign-flipped* frame, ``sky - (image - sky)``, has the same noise (noise is symmetric) while its
cosmic rays become holes that no detector flags: the scores of the flipped frame are a sample of
what the detector does on noise. The threshold for a target FPR is the ``1 - fpr`` quantile of
those scores (good pixels only). What the flip cannot reproduce is the frame's positive
structure (stars, galaxies, hot columns become holes too), so the estimate covers noise-driven
false positives, not structure-driven ones; the benchmark reports the FPR it achieves on frames
with known truth (``docs/benchmark.md``).

The cost is one more network pass over the frame.

Example
-------
>>> import numpy as np
>>> from astroclean.cosmicrays.fpr import flip_image, threshold_from_scores
>>> rng = np.random.default_rng(0)
>>> scores = rng.normal(size=100_000).astype("f4")
>>> t = threshold_from_scores(scores, 1e-3)
>>> round(float((scores >= t).mean()), 4)
0.001
"""

from __future__ import annotations

import numpy as np

from astroclean.errors import AstrocleanValueError

__all__ = ["flip_image", "threshold_from_scores", "check_fpr"]


def check_open_interval(value, name: str, low: float, high: float) -> float:
    """``float(value)`` if it lies in ``(low, high)``, else an error that says what was given."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AstrocleanValueError(f"{name} must be a number in ({low:g}, {high:g}), got {value!r}") from None
    if not low < number < high:
        raise AstrocleanValueError(f"{name} must be in ({low:g}, {high:g}), got {value}")
    return number


def check_fpr(fpr) -> float:
    return check_open_interval(fpr, "fpr", 0.0, 0.5)


def flip_image(data: np.ndarray, sky: np.ndarray) -> np.ndarray:
    """``sky - (data - sky)``: same noise, cosmic rays turned into holes (float32)."""
    return (2 * np.asarray(sky, dtype=np.float32) - np.asarray(data, dtype=np.float32)).astype(np.float32)


def threshold_from_scores(scores: np.ndarray, fpr: float, *, mask=None) -> float:
    """The score at or above which a fraction ``fpr`` of the (good) ``scores`` lie.

    Ties at the top (a saturated score) make the achieved fraction smaller, never larger.
    """
    fpr = check_fpr(fpr)
    values = np.asarray(scores, dtype=np.float64)
    good = np.isfinite(values) if mask is None else (np.isfinite(values) & ~np.asarray(mask, bool))
    values = values[good]
    if values.size == 0:
        raise AstrocleanValueError("no good pixels to estimate a threshold from")
    k = int(np.floor(fpr * values.size))
    if k < 1:
        return float(np.nextafter(values.max(), np.inf))
    top = np.partition(values, values.size - k)[values.size - k:]
    return float(top.min())
