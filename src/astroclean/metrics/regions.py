"""Background maps and isophotal star regions for the "near stars" analysis.

Cleaning methods fail most often on stars (a bright core looks like a
cosmic ray); to measure this, the pixels of a *clean* image are grouped by
how bright the sky-subtracted light is in units of the background RMS.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from ..errors import AstrocleanValueError
from ..image import native_float
from ._common import as_bool

__all__ = ["robust_background", "isophote_regions", "isophote_bins"]

MAD_TO_SIGMA = 1.4826  # sigma of a Gaussian over its median absolute deviation
DEFAULT_LEVELS = (3, 5, 10, 20, 40, 80, 160)


def _as_2d(image, name):
    data = native_float(image, name=name)
    if data.ndim != 2 or data.size == 0:
        raise AstrocleanValueError(f"{name} must be a non-empty 2-D (y, x) array, got shape {data.shape}")
    return data


def _edges(n, box):
    """Box edges covering ``n`` pixels with boxes as close to ``box`` as possible."""
    n_boxes = max(1, int(round(n / box)))
    return np.linspace(0, n, n_boxes + 1).round().astype(int)


def _median_sigma(sorted_values):
    """Median and MAD-based sigma (the std when more than half the values are equal)."""
    med = float(np.median(sorted_values))
    sigma = MAD_TO_SIGMA * float(np.median(np.abs(sorted_values - med)))
    return med, sigma if sigma > 0 else float(np.std(sorted_values))


def _clipped_stats(values, nsigma, maxiters):
    """Sigma-clipped median and sigma of a 1-D array (iterative, on one sort)."""
    v = np.sort(values)
    lo, hi = 0, v.size
    med, sigma = _median_sigma(v)
    for _ in range(maxiters):
        if sigma == 0:
            break
        new_lo = int(np.searchsorted(v, med - nsigma * sigma, side="left"))
        new_hi = int(np.searchsorted(v, med + nsigma * sigma, side="right"))
        if (new_lo, new_hi) == (lo, hi) or new_hi - new_lo < 3:
            break
        new_med, new_sigma = _median_sigma(v[new_lo:new_hi])
        if new_sigma == 0:  # quantised data: the clip kept a single level; keep the last estimate
            break
        lo, hi, med, sigma = new_lo, new_hi, new_med, new_sigma
    return med, sigma


def _interp_matrix(n, centres):
    """(n, len(centres)) weights of linear interpolation, constant beyond the end centres."""
    eye = np.eye(centres.size)
    return np.stack([np.interp(np.arange(n), centres, eye[k]) for k in range(centres.size)], axis=1)


def robust_background(image, *, mask=None, box=64, nsigma=3.0, maxiters=10, filter_size=3, min_fraction=0.5):
    """2-D background and RMS maps from sigma-clipped statistics in boxes.

    Like photutils' ``Background2D`` with a median estimator and MAD RMS,
    in numpy/scipy only: the image is cut into boxes of about ``box``
    pixels (sizes adjusted so the boxes tile it exactly); in each box the
    median and ``1.4826 * MAD`` are sigma-clipped at ``nsigma`` until
    stable; boxes with too few usable pixels are filled from the nearest
    good box; the box grid is median-filtered (``filter_size``) to reject
    boxes dominated by bright stars, then interpolated bilinearly between
    box centres (constant beyond the outer centres).

    Parameters
    ----------
    image : array_like (y, x)
    mask : array_like of bool, optional
        True = bad; excluded from the statistics. NaN/inf pixels are
        excluded automatically.
    box : int
        Box side in pixels (>= 4).
    nsigma : float
        Clipping threshold in sigma.
    maxiters : int
        Maximum clipping iterations.
    filter_size : int
        Side of the median filter over the box grid (1 = none).
    min_fraction : float in (0, 1]
        A box is used when at least this fraction of its pixels is usable.

    Returns
    -------
    background, rms : ndarray (y, x)
        Same float dtype as the image (the dtype rule of
        :func:`astroclean.image.native_float`); NaN where the image is NaN or
        inf. If more than half the values of a box are equal, the clipped
        standard deviation replaces the (zero) MAD, and a clip that would
        leave a single value (integer data with sigma < 1) is not applied.

    Raises
    ------
    AstrocleanValueError
        Not 2-D, bad parameters, or no box has enough usable pixels.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> image = 100 + rng.normal(0, 5, (256, 256))
    >>> image[100:104, 50:54] = 1e4                       # a "star"
    >>> bkg, rms = robust_background(image, box=64)
    >>> bool(abs(np.median(bkg) - 100) < 0.5), bool(abs(np.median(rms) - 5) < 0.3)
    (True, True)
    """
    data = _as_2d(image, "image")
    if not isinstance(box, (int, np.integer)) or box < 4:
        raise AstrocleanValueError(f"box must be an integer >= 4 pixels, got {box!r}")
    if not (isinstance(filter_size, (int, np.integer)) and filter_size >= 1):
        raise AstrocleanValueError(f"filter_size must be a positive integer, got {filter_size!r}")
    if not 0 < min_fraction <= 1 or not nsigma > 0 or maxiters < 1:
        raise AstrocleanValueError(
            f"need 0 < min_fraction <= 1, nsigma > 0, maxiters >= 1; got {min_fraction}, {nsigma}, {maxiters}"
        )
    nonfinite = ~np.isfinite(data)
    usable = ~nonfinite
    if mask is not None:
        usable &= ~as_bool(mask, name="mask", shape=data.shape)
    ey, ex = _edges(data.shape[0], box), _edges(data.shape[1], box)
    level = np.full((ey.size - 1, ex.size - 1), np.nan)
    sigma = np.full(level.shape, np.nan)
    for i in range(level.shape[0]):
        for j in range(level.shape[1]):
            block = (slice(ey[i], ey[i + 1]), slice(ex[j], ex[j + 1]))
            good = usable[block]
            n_good = int(np.count_nonzero(good))
            if n_good >= max(3, min_fraction * good.size):
                level[i, j], sigma[i, j] = _clipped_stats(data[block][good], nsigma, maxiters)
    missing = np.isnan(level) | np.isnan(sigma)
    if missing.all():
        raise AstrocleanValueError(
            f"no {box}x{box} box has {min_fraction:.0%} usable pixels; use a larger box, "
            "a smaller min_fraction, or check the mask"
        )
    if missing.any():
        nearest = ndimage.distance_transform_edt(missing, return_distances=False, return_indices=True)
        level, sigma = level[tuple(nearest)], sigma[tuple(nearest)]
    if filter_size > 1:
        level = ndimage.median_filter(level, size=filter_size, mode="nearest")
        sigma = ndimage.median_filter(sigma, size=filter_size, mode="nearest")
    wy = _interp_matrix(data.shape[0], (ey[:-1] + ey[1:] - 1) / 2)
    wx = _interp_matrix(data.shape[1], (ex[:-1] + ex[1:] - 1) / 2)
    background = (wy @ level @ wx.T).astype(data.dtype)
    rms = (wy @ sigma @ wx.T).astype(data.dtype)
    background[nonfinite] = np.nan
    rms[nonfinite] = np.nan
    return background, rms


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
    data = _as_2d(clean, "clean")
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
