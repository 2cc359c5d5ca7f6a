"""Isophotal star regions for the "near stars" analysis (the background comes from astroclean.background).

Cleaning methods fail most often on stars (a bright core looks like a
cosmic ray); to measure this, the pixels of a *clean* image are grouped by
how bright the sky-subtracted light is in units of the background RMS.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from astroclean.errors import AstrocleanValueError
from astroclean.metrics._common import as_2d, as_bool

__all__ = ["isophote_regions", "isophote_bins"]

DEFAULT_LEVELS = (3, 5, 10, 20, 40, 80, 160)


def _levels(levels):
    try:
        out = tuple(float(k) for k in levels)
    except (TypeError, ValueError):
        raise AstrocleanValueError(f"levels must be a sequence of numbers, got {levels!r}") from None
    if not out or any(not (math.isfinite(k) and k > 0) for k in out) or len(set(out)) != len(out):
        raise AstrocleanValueError(f"levels must be distinct positive finite numbers, got {levels!r}")
    return out


def isophote_regions(clean, *, background, rms, levels=DEFAULT_LEVELS, mask=None, min_pixels=1):
    """Pixels brighter than ``k x rms`` above the background, for each level ``k``.

    Definition: ``region[k] = (clean - background > k * rms)`` on usable
    pixels (finite data, background and rms; ``rms > 0``; not masked).
    With ``min_pixels > 1``, only pixels inside a connected component
    (8-connectivity) of the *lowest* level's region with at least
    ``min_pixels`` pixels are kept at every level, which removes isolated
    noise peaks while keeping the compact cores of bright stars. Regions
    are nested: a higher level is a subset of a lower one.

    Parameters
    ----------
    clean : array_like (y, x)
        An image without the contaminant (e.g. the simulation's clean sky).
    background, rms : float or array_like (y, x)
        Background level and RMS, e.g. from :func:`robust_background`.
    levels : sequence of float
        Multiples of ``rms``, positive and distinct.
    mask : array_like of bool, optional
        True = bad: never in a region.
    min_pixels : int
        Minimum size of a component at the lowest level (1 = plain threshold).

    Returns
    -------
    dict of float -> ndarray of bool
        One mask per level, in the order given.

    Examples
    --------
    >>> clean = np.zeros((5, 5)); clean[2, 2] = 12.0; clean[2, 1] = 6.0; clean[0, 4] = 4.0
    >>> regions = isophote_regions(clean, background=0.0, rms=1.0, levels=(3, 5, 10))
    >>> [int(regions[k].sum()) for k in (3, 5, 10)]
    [3, 2, 1]
    >>> regions = isophote_regions(clean, background=0.0, rms=1.0, levels=(3, 5, 10), min_pixels=2)
    >>> [int(regions[k].sum()) for k in (3, 5, 10)]   # the lone 4-sigma pixel is dropped
    [2, 2, 1]
    """
    data = as_2d(clean, "clean")
    levels = _levels(levels)
    if not isinstance(min_pixels, (int, np.integer)) or min_pixels < 1:
        raise AstrocleanValueError(f"min_pixels must be a positive integer, got {min_pixels!r}")
    try:
        excess = data - np.asarray(background, dtype=np.float64)
        noise = np.broadcast_to(np.asarray(rms, dtype=np.float64), data.shape)
    except ValueError:
        raise AstrocleanValueError(
            f"background and rms must be scalars or arrays of the image's shape {data.shape}"
        ) from None
    if excess.shape != data.shape:
        raise AstrocleanValueError(f"background must be a scalar or of shape {data.shape}, got {np.shape(background)}")
    with np.errstate(invalid="ignore"):
        usable = np.isfinite(excess) & np.isfinite(noise) & (noise > 0)
        if mask is not None:
            usable &= ~as_bool(mask, name="mask", shape=data.shape)
        snr = np.where(usable, excess / np.where(usable, noise, 1.0), -np.inf)
    footprint = None
    if min_pixels > 1:
        labels, _ = ndimage.label(snr > min(levels), structure=np.ones((3, 3), dtype=bool))
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        footprint = (sizes >= min_pixels)[labels]
    regions = {}
    for k in levels:
        region = excess > k * noise
        region &= usable
        if footprint is not None:
            region &= footprint
        regions[k] = region
    return regions


def isophote_bins(regions):
    """Exclusive brightness bins from nested isophote regions.

    Parameters
    ----------
    regions : dict of float -> ndarray of bool
        Output of :func:`isophote_regions`.

    Returns
    -------
    dict of (float, float) -> ndarray of bool
        ``(k_i, k_{i+1})`` holds pixels in ``regions[k_i]`` but not in
        ``regions[k_{i+1}]``; the last bin is ``(k_max, inf)``.

    Examples
    --------
    >>> clean = np.array([[1.0, 4.0, 6.0, 12.0]])
    >>> bins = isophote_bins(isophote_regions(clean, background=0.0, rms=1.0, levels=(3, 5, 10)))
    >>> {k: v.astype(int).tolist() for k, v in bins.items()}
    {(3.0, 5.0): [[0, 1, 0, 0]], (5.0, 10.0): [[0, 0, 1, 0]], (10.0, inf): [[0, 0, 0, 1]]}
    """
    keys = sorted(regions)
    bounds = list(zip(keys, keys[1:] + [math.inf]))
    return {
        (float(lo), float(hi)): regions[lo] & ~regions[hi] if hi != math.inf else regions[lo].copy()
        for lo, hi in bounds
    }
