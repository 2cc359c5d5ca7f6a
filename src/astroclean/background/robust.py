"""Robust scale: the one MAD-to-sigma constant and ``robust_sigma``.

Example
-------
>>> import numpy as np
>>> from astroclean.background import robust_sigma
>>> values = np.random.default_rng(0).normal(0, 2.0, 100_000)
>>> round(robust_sigma(values), 1)
2.0
>>> robust_sigma(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 9.0]]), axis=1).round(3).tolist()
[1.483, 0.0]
"""

from __future__ import annotations

import warnings

import numpy as np

MAD_TO_SIGMA = 1.4826  # sigma of a Gaussian over its median absolute deviation


def robust_sigma(values, *, axis=None):
    """``1.4826 x`` the median absolute deviation of the finite ``values`` (NaN if none).

    With ``axis`` the result is an array along the remaining axes (NaN ignored);
    without it, a float over all finite values.
    """
    v = np.asarray(values, dtype=np.float64)
    if axis is not None:
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN, by design
            v = np.where(np.isfinite(v), v, np.nan)
            med = np.nanmedian(v, axis=axis, keepdims=True)
            return MAD_TO_SIGMA * np.nanmedian(np.abs(v - med), axis=axis)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan")
    return float(MAD_TO_SIGMA * np.median(np.abs(v - np.median(v))))
