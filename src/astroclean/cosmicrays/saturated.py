"""Flags beside saturated stars: the steep wings of a saturated core are not cosmic rays.

Next to a saturated core or a bleed trail the image jumps from the star's bright wings to
pixels that carry no information (masked, set to the sky for the network, or clipped at the full
well); a network sees that edge as a sharp, cosmic-ray-like feature and flags a ring around the core
(on DECam cutouts with saturated stars, about 230 px each, all within 3 px of a DQ-flagged saturated
or bleed pixel, while astroscrappy flags none there). Cleaning such a ring removes star light.

:func:`saturated_pixels` finds the saturated pixels of an image (DQ codes and the saturation
level). :func:`drop_saturation_halo` removes the flagged groups that lie mostly within ``halo``
pixels of them; a group that lies mostly outside (a track passing a star) is kept whole.

Example
-------
>>> import numpy as np
>>> sat = np.zeros((9, 9), bool); sat[4, 4] = True
>>> flags = np.zeros((9, 9), bool); flags[3, 3:6] = True; flags[8, 0:5] = True
>>> drop_saturation_halo(flags, sat, halo=2).sum()
np.int64(5)
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from astroclean.io.dq import dq_saturated

DEFAULT_HALO = 3


def saturated_pixels(image) -> np.ndarray:
    """Saturated pixels of an :class:`~astroclean.image.Image`: DQ saturated/bleed codes, and data at or above
    ``image.saturation``."""
    sat = np.zeros(image.shape, dtype=bool)
    if image.dq is not None:
        sat |= dq_saturated(image.dq, convention=(image.meta or {}).get("dq_convention", "nonzero"))
    if image.saturation is not None:
        with np.errstate(invalid="ignore"):
            sat |= image.data >= image.saturation
    return sat


def drop_saturation_halo(flags, saturated, *, halo: int = DEFAULT_HALO) -> np.ndarray:
    """``flags`` without the 8-connected groups that lie mostly (half or more of their pixels) within ``halo``
    pixels of a ``saturated`` pixel."""
    flags = np.asarray(flags, dtype=bool)
    if halo <= 0 or not flags.any() or not np.any(saturated):
        return flags
    near = ndimage.binary_dilation(saturated, structure=np.ones((3, 3), bool), iterations=int(halo))
    if not (flags & near).any():
        return flags
    labels, n = ndimage.label(flags, structure=np.ones((3, 3), bool))
    size = np.bincount(labels.ravel(), minlength=n + 1)
    inside = np.bincount(labels.ravel(), weights=near.ravel(), minlength=n + 1)
    drop = np.flatnonzero(inside * 2 >= size)
    drop = drop[drop > 0]
    return flags & ~np.isin(labels, drop)
