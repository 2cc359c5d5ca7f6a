"""Data-quality planes to boolean masks (True = bad), per pipeline convention.

Pixels that a pipeline flagged as cosmic rays are NOT bad: they are what a
cosmic-ray detector must find, so they stay data.

* ``decam``: DECam Community Pipeline integer codes: 1 bad, 2 (unused), 3 saturated,
  4 bleed, 5 cosmic ray, 6 edge, 7 transient, 8 streak. Bad = any code but 0, 5, 7.
* ``hst``: HST bit flags; bits 4096 and 8192 (cosmic rays) and 16384 are ignored.
* ``nonzero``: anything non-zero is bad.

Example
-------
>>> import numpy as np
>>> from astroclean.io.dq import dq_to_mask
>>> dq_to_mask(np.array([[0, 1, 5, 3]]), convention="decam").tolist()
[[False, True, False, True]]
"""

from __future__ import annotations

import numpy as np

from astroclean.errors import AstrocleanValueError

DECAM_NOT_BAD = (0, 5, 7)
HST_NOT_BAD_BITS = 4096 | 8192 | 16384
CONVENTIONS = ("decam", "hst", "nonzero")


def dq_to_mask(dq, *, convention: str = "nonzero") -> np.ndarray:
    """Boolean bad-pixel mask from a DQ plane."""
    dq = np.asarray(dq)
    if convention == "decam":
        return ~np.isin(dq, DECAM_NOT_BAD)
    if convention == "hst":
        return (dq.astype(np.int64) & ~HST_NOT_BAD_BITS) != 0
    if convention == "nonzero":
        return dq != 0
    raise AstrocleanValueError(f"DQ convention must be one of {CONVENTIONS}, got {convention!r}")


DECAM_SATURATED = (3, 4)  # saturated, bleed trail
HST_SATURATED_BITS = 256 | 2048  # full-well saturation, A-to-D saturation


def dq_saturated(dq, *, convention: str = "nonzero") -> np.ndarray:
    """Pixels a DQ plane marks as saturated (or bleed trails); for ``nonzero``, every flagged pixel.

    Example
    -------
    >>> dq_saturated(np.array([[0, 3, 4, 5]]), convention="decam").tolist()
    [[False, True, True, False]]
    """
    dq = np.asarray(dq)
    if convention == "decam":
        return np.isin(dq, DECAM_SATURATED)
    if convention == "hst":
        return (dq.astype(np.int64) & HST_SATURATED_BITS) != 0
    if convention == "nonzero":
        return dq != 0
    raise AstrocleanValueError(f"DQ convention must be one of {CONVENTIONS}, got {convention!r}")
