"""Find compact sources in a map by matched filtering (``astroclean sources --detect 5``).

The map minus a coarse background is convolved with a Gaussian of the PSF's
FWHM (the matched filter for point sources in white noise); local maxima of
the filtered map above ``nsigma`` times its robust noise are sources. The
significance is measured on the filtered map, so it is the point-source
detection S/N, not a single-pixel one.

Example
-------
>>> import numpy as np
>>> from astroclean.photometry.matched import detect_sources
>>> rng = np.random.default_rng(0)
>>> yy, xx = np.mgrid[:120, :120]
>>> image = rng.normal(0, 1, (120, 120)) + 40 * np.exp(-((xx - 60.3) ** 2 + (yy - 30.6) ** 2) / 8)
>>> found = detect_sources(image, nsigma=5, fwhm=3.3)
>>> len(found), round(float(found["x"][0]), 1), round(float(found["y"][0]), 1)
(1, 60.3, 30.6)
"""

from __future__ import annotations

import numpy as np

from astroclean.background import background_and_noise
from astroclean.background import robust_sigma
from astroclean.errors import AstrocleanValueError


def detect_sources(image, *, nsigma: float = 5.0, fwhm: float, mask=None, variance=None, box: int = 64,
                   max_sources=None):
    """Positions of compact sources above ``nsigma`` (matched-filter significance).

    Parameters
    ----------
    image : array_like (y, x)
        NaN/inf are ignored (treated as masked).
    nsigma : float
        Detection threshold in units of the filtered map's noise.
    fwhm : float
        PSF FWHM in pixels (the matched filter's width).
    mask : array_like of bool, optional
        True = ignore.
    variance : array_like, optional
        Per-pixel variance (e.g. a PACS ``error`` plane squared). It sets the
        shape of the noise across the map (depth varies with coverage); its
        level is then calibrated on the filtered map itself (robust scatter),
        which absorbs the pixel-to-pixel noise correlation of scan maps.
    box : int
        Background cell size in pixels (should exceed a few source sizes).
    max_sources : int, optional
        Keep only the most significant ones.

    Returns
    -------
    astropy.table.Table
        Columns ``x``, ``y`` (0-based, sub-pixel peak of the filtered map
        from a parabola on each axis) and ``detection_snr``, brightest first.
    """
    from astropy.table import Table
    from scipy import ndimage

    if not np.isfinite(nsigma) or nsigma <= 0:
        raise AstrocleanValueError(f"nsigma must be a positive number, got {nsigma}")
    if not np.isfinite(fwhm) or fwhm <= 0:
        raise AstrocleanValueError(f"fwhm must be a positive number of pixels, got {fwhm}")
    data = np.asarray(image, dtype=float)
    bad = ~np.isfinite(data) if mask is None else (np.asarray(mask, bool) | ~np.isfinite(data))
    background, _ = background_and_noise(data, bad, box=box)
    residual = np.where(bad, 0.0, data - background)
    sigma = fwhm / 2.3548
    filtered = ndimage.gaussian_filter(residual, sigma, mode="constant")
    weight = ndimage.gaussian_filter((~bad).astype(float), sigma, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        filtered = np.where(weight > 0.5, filtered / weight, np.nan)
    if not np.isfinite(filtered).any():
        raise AstrocleanValueError("the map has no valid pixels to detect sources in")
    # the filtered map's own local level and noise: maps whose depth varies (the low-coverage
    # borders of scan maps) are judged against their local noise, not a global one
    level, noise = background_and_noise(filtered, ~np.isfinite(filtered), box=max(16, int(round(8 * fwhm))))
    if variance is not None:
        var = np.where(bad, 0.0, np.nan_to_num(np.asarray(variance, dtype=float), nan=0.0, posinf=0.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            shape = np.sqrt(ndimage.gaussian_filter(var, sigma / np.sqrt(2), mode="constant")) / weight
            ratio = (filtered - level) / shape
        finite = ratio[np.isfinite(ratio)]
        if finite.size:
            noise = shape * robust_sigma(finite)
    with np.errstate(invalid="ignore", divide="ignore"):
        snr = (filtered - level) / noise
    snr_filled = np.nan_to_num(snr, nan=-np.inf)
    size = max(3, int(round(fwhm)) | 1)
    peaks = (snr_filled == ndimage.maximum_filter(snr_filled, size=size, mode="constant", cval=-np.inf))
    peaks &= (snr_filled > nsigma) & ~bad
    iy, ix = np.nonzero(peaks)
    order = np.argsort(-snr_filled[iy, ix], kind="stable")
    iy, ix = iy[order], ix[order]
    if max_sources is not None:
        iy, ix = iy[:max_sources], ix[:max_sources]
    x, y = _centroids(snr_filled, iy, ix)
    return Table({"x": x, "y": y, "detection_snr": snr_filled[iy, ix]})


def _centroids(snr, iy, ix):
    """Sub-pixel peak by fitting a parabola through the peak and its two neighbours on each axis."""
    pad = np.pad(np.where(np.isfinite(snr), snr, 0.0), 1, mode="edge")
    centre = pad[iy + 1, ix + 1]

    def offset(minus, plus):
        curvature = minus - 2 * centre + plus
        with np.errstate(invalid="ignore", divide="ignore"):
            shift = np.where(curvature < 0, 0.5 * (minus - plus) / curvature, 0.0)
        return np.clip(shift, -0.5, 0.5)

    dx = offset(pad[iy + 1, ix], pad[iy + 1, ix + 2])
    dy = offset(pad[iy, ix + 1], pad[iy + 2, ix + 1])
    return ix + dx, iy + dy
