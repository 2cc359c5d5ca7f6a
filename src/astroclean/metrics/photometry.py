"""Point-source photometry for measuring what cleaning does to stars.

Find isolated, round sources on a clean image, measure them with circular
apertures on the clean and on the cleaned image, and summarise how far the
fluxes moved. Pixel centres are at integer coordinates (``x`` = column,
``y`` = row), as in photutils.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

from astroclean.errors import AstrocleanValueError
from astroclean.metrics._common import as_bool
from astroclean.background import MAD_TO_SIGMA
from astroclean.metrics._common import as_2d

__all__ = ["SOURCE_DTYPE", "find_point_sources", "aperture_flux", "PhotometricContamination", "photometric_contamination"]

SOURCE_DTYPE = np.dtype(
    [("x", "f8"), ("y", "f8"), ("n_pixels", "i8"), ("axis_ratio", "f8"), ("peak", "f8"), ("flux", "f8")]
)


def _broadcast(value, shape, name):
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim and arr.shape != shape:
        raise AstrocleanValueError(f"{name} must be a scalar or an array of shape {shape}, got shape {arr.shape}")
    return np.broadcast_to(arr, shape)


def find_point_sources(
    clean, *, background, rms, nsigma=3.0, min_pixels=16, axis_ratio=(0.8, 1.2), edge=10, mask=None
) -> np.ndarray:
    """Detect isolated, round sources above ``nsigma x rms``.

    Pixels with ``clean - background > nsigma * rms`` are grouped into
    8-connected components. A component is kept when it has at least
    ``min_pixels`` pixels, its axis ratio is within ``axis_ratio``, none of
    its pixels lies within ``edge`` pixels of the image border, and it does
    not touch (8-connectivity) a masked or non-finite pixel.

    The centroid and second moments are weighted by ``clean - background``
    over the component. The axis ratio is ``sqrt(l_min / l_max)`` of the
    eigenvalues of the second-moment matrix (b/a, rotation invariant, at
    most 1), so only the lower bound of ``axis_ratio`` matters unless the
    upper bound is below 1. It is NaN (never accepted) for a one-pixel
    component, whose moments vanish.

    Parameters
    ----------
    clean : array_like (y, x)
    background, rms : float or array_like (y, x)
    nsigma : float
    min_pixels : int
    axis_ratio : (float, float)
        Accepted ``(low, high)`` range of b/a, inclusive.
    edge : int
        Border width (pixels) a source must stay clear of.
    mask : array_like of bool, optional
        True = bad.

    Returns
    -------
    ndarray with dtype :data:`SOURCE_DTYPE`
        Fields ``x, y`` (centroid), ``n_pixels``, ``axis_ratio``, ``peak``
        (maximum of ``clean - background``), ``flux`` (isophotal sum of
        ``clean - background``), one row per kept source, in label order.

    Examples
    --------
    >>> yy, xx = np.mgrid[:64, :64]
    >>> clean = 1000 * np.exp(-((xx - 30.3) ** 2 + (yy - 25.6) ** 2) / (2 * 2.0**2))
    >>> src = find_point_sources(clean, background=0.0, rms=1.0)
    >>> len(src), round(float(src["x"][0]), 2), round(float(src["y"][0]), 2)
    (1, 30.3, 25.6)
    """
    data = as_2d(clean, "clean")
    lo_ratio, hi_ratio = (float(a) for a in axis_ratio)
    if not (min_pixels >= 1 and edge >= 0 and nsigma > 0 and lo_ratio <= hi_ratio):
        raise AstrocleanValueError(
            f"need min_pixels >= 1, edge >= 0, nsigma > 0 and axis_ratio low <= high; "
            f"got {min_pixels}, {edge}, {nsigma}, {axis_ratio}"
        )
    excess = data - _broadcast(background, data.shape, "background")
    noise = _broadcast(rms, data.shape, "rms")
    bad = ~(np.isfinite(excess) & np.isfinite(noise))
    if mask is not None:
        bad |= as_bool(mask, name="mask", shape=data.shape)
    with np.errstate(invalid="ignore"):
        detected = ~bad & (excess > nsigma * noise)
    eight = np.ones((3, 3), dtype=bool)
    labels, n = ndimage.label(detected, structure=eight)
    if n == 0:
        return np.zeros(0, dtype=SOURCE_DTYPE)
    flat = np.flatnonzero(labels)
    lab = labels.ravel()[flat]
    w = excess.ravel()[flat].astype(np.float64)
    y, x = np.divmod(flat, data.shape[1])

    def per_label(weights=None):
        return np.bincount(lab, weights, minlength=n + 1)[1:]

    n_pix = per_label().astype(np.int64)
    sw = per_label(w)
    xc, yc = per_label(w * x) / sw, per_label(w * y) / sw
    dx, dy = x - xc[lab - 1], y - yc[lab - 1]
    mxx, myy, mxy = per_label(w * dx * dx) / sw, per_label(w * dy * dy) / sw, per_label(w * dx * dy) / sw
    half_sum, root = (mxx + myy) / 2, np.hypot((mxx - myy) / 2, mxy)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.sqrt(np.clip(half_sum - root, 0, None) / (half_sum + root))
    touches_bad = per_label(ndimage.binary_dilation(bad, structure=eight).ravel()[flat].astype(float)) > 0
    ny, nx = data.shape
    near_edge = np.array(
        [s[0].start < edge or s[0].stop > ny - edge or s[1].start < edge or s[1].stop > nx - edge
         for s in ndimage.find_objects(labels)]
    )
    peak = ndimage.maximum(excess, labels, np.arange(1, n + 1))
    keep = (n_pix >= min_pixels) & (ratio >= lo_ratio) & (ratio <= hi_ratio) & ~touches_bad & ~near_edge
    out = np.zeros(int(np.count_nonzero(keep)), dtype=SOURCE_DTYPE)
    for name, values in (("x", xc), ("y", yc), ("n_pixels", n_pix), ("axis_ratio", ratio), ("peak", peak), ("flux", sw)):
        out[name] = np.asarray(values)[keep]
    return out


def _pixel_fractions(xc, yc, radius, half, subsample):
    """Fraction of each stencil pixel inside each circle: shape (n, 2 half + 1, 2 half + 1)."""
    offsets = np.arange(-half, half + 1)
    sub = (np.arange(subsample) + 0.5) / subsample - 0.5
    x0, y0 = np.round(xc), np.round(yc)
    ddx = (x0 - xc)[:, None, None] + offsets[None, :, None] + sub[None, None, :]  # (n, W, s)
    ddy = (y0 - yc)[:, None, None] + offsets[None, :, None] + sub[None, None, :]  # (n, H, s)
    inside = ddy[:, :, :, None, None] ** 2 + ddx[:, None, None, :, :] ** 2 <= radius[:, None, None, None, None] ** 2
    return inside.sum(axis=(2, 4)) / subsample**2, x0.astype(np.int64), y0.astype(np.int64)


def aperture_flux(image, x, y, radius, *, background=None, variance=None, mask=None, subsample=5):
    """Sum of ``image - background`` in circular apertures, with its error.

    Each pixel is weighted by the fraction of its ``subsample x subsample``
    sub-pixel centres that fall inside the circle (``subsample=5``: about
    0.1 % accuracy for radii of a few pixels; increase for exactness).

    Parameters
    ----------
    image : array_like (y, x)
    x, y : float or array_like
        Aperture centres (column, row), pixel centres at integers.
    radius : float or array_like
        Radius in pixels, one for all or one per source.
    background : float or array_like (y, x), optional
        Subtracted before summing.
    variance : float or array_like (y, x), optional
        Per-pixel variance; the error is ``sqrt(sum(f**2 * variance))`` for
        weights ``f`` (the background is taken as exact). Without it the
        error is NaN.
    mask : array_like of bool, optional
        True = bad.
    subsample : int
        Sub-pixels per axis.

    Returns
    -------
    flux, error : ndarray of float64, one per source
        NaN when the aperture leaves the image or covers a masked, NaN or
        inf pixel (data, background or variance) with a non-zero weight.

    Examples
    --------
    A flat image of 1: the flux tends to the area ``pi r**2``.

    >>> flux, error = aperture_flux(np.ones((50, 50)), [24.3], [20.0], 8.0, subsample=50)
    >>> round(float(flux[0] / (np.pi * 64)), 3)
    1.0

    With ``subsample=1`` the weights are 0 or 1: 197 pixel centres lie
    within 8 pixels of (24, 20) (Gauss's circle problem), each of variance 4.

    >>> flux, error = aperture_flux(np.ones((50, 50)), [24], [20], 8.0, variance=4.0, subsample=1)
    >>> float(flux[0]), round(float(error[0] ** 2), 6)
    (197.0, 788.0)
    """
    data = as_2d(image, "image")
    xs, ys = np.atleast_1d(np.asarray(x, dtype=np.float64)), np.atleast_1d(np.asarray(y, dtype=np.float64))
    if xs.shape != ys.shape or xs.ndim != 1:
        raise AstrocleanValueError(f"x and y must be 1-D of one length, got shapes {xs.shape} and {ys.shape}")
    radii = np.broadcast_to(np.asarray(radius, dtype=np.float64), xs.shape).copy()
    if not np.all(np.isfinite(radii) & (radii > 0)) or not np.all(np.isfinite(xs) & np.isfinite(ys)):
        raise AstrocleanValueError("radius must be positive and x, y finite")
    if not isinstance(subsample, (int, np.integer)) or subsample < 1:
        raise AstrocleanValueError(f"subsample must be a positive integer, got {subsample!r}")
    signal = data - _broadcast(0.0 if background is None else background, data.shape, "background")
    var = None if variance is None else _broadcast(variance, data.shape, "variance")
    bad = ~np.isfinite(signal) if var is None else ~(np.isfinite(signal) & np.isfinite(var))
    if mask is not None:
        bad = bad | as_bool(mask, name="mask", shape=data.shape)
    flux, error = np.full(xs.size, np.nan), np.full(xs.size, np.nan)
    half = int(math.ceil(radii.max() + 1)) if xs.size else 0
    offsets = np.arange(-half, half + 1)
    chunk = max(1, 2_000_000 // ((2 * half + 1) ** 2 * subsample**2))
    ny, nx = data.shape
    for start in range(0, xs.size, chunk):
        sl = slice(start, start + chunk)
        frac, x0, y0 = _pixel_fractions(xs[sl], ys[sl], radii[sl], half, subsample)
        py = y0[:, None, None] + offsets[None, :, None]
        px = x0[:, None, None] + offsets[None, None, :]
        outside = (py < 0) | (py >= ny) | (px < 0) | (px >= nx)
        py, px = np.clip(py, 0, ny - 1), np.clip(px, 0, nx - 1)
        used = frac > 0
        invalid = np.any(used & (outside | bad[py, px]), axis=(1, 2))
        values = np.where(used, signal[py, px], 0.0)
        f = (frac * values).sum(axis=(1, 2))
        e = np.sqrt((frac**2 * np.where(used, var[py, px], 0.0)).sum(axis=(1, 2))) if var is not None else np.nan
        flux[sl] = np.where(invalid, np.nan, f)
        error[sl] = np.where(invalid, np.nan, e)
    return flux, error


@dataclass(frozen=True)
class PhotometricContamination:
    """How far cleaning moved the fluxes of sources.

    Attributes
    ----------
    n_sources : int
        Sources with finite fluxes and a positive error.
    ratio_median, ratio_scatter : float
        Median and ``1.4826 * MAD`` of ``flux_test / flux_clean`` over those
        with ``flux_clean > 0``.
    fraction_moved : float
        Fraction with ``|flux_test - flux_clean| > nsigma * error``.
    median_deviation : float
        Median of ``(flux_test - flux_clean) / error`` (bias in sigma).
    nsigma : float
    """

    n_sources: int
    ratio_median: float
    ratio_scatter: float
    fraction_moved: float
    median_deviation: float
    nsigma: float

    def as_row(self) -> dict:
        """The fields as a flat ``dict`` for tables."""
        return asdict(self)


def photometric_contamination(flux_clean, flux_test, error, *, nsigma=3.0) -> PhotometricContamination:
    """Compare fluxes measured on a clean image and on a test (e.g. cleaned) image.

    Parameters
    ----------
    flux_clean, flux_test, error : array_like, one value per source
        ``error`` is the 1-sigma flux uncertainty (e.g. of the clean flux).
        Sources with a non-finite value or ``error <= 0`` are skipped.
    nsigma : float
        Deviation counted as "moved".

    Returns
    -------
    PhotometricContamination
        NaN statistics when no source is usable.

    Examples
    --------
    >>> c = photometric_contamination([100, 200, 300, 400], [100, 210, 240, 400], [2, 2, 2, 2])
    >>> c.n_sources, c.ratio_median, c.fraction_moved, c.median_deviation
    (4, 1.0, 0.5, 0.0)
    """
    clean, test, err = (np.asarray(a, dtype=np.float64).ravel() for a in (flux_clean, flux_test, error))
    if not clean.shape == test.shape == err.shape:
        raise AstrocleanValueError(
            f"flux_clean, flux_test and error need one value per source, got sizes {clean.size}, {test.size}, {err.size}"
        )
    if not nsigma > 0:
        raise AstrocleanValueError(f"nsigma must be positive, got {nsigma!r}")
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(clean) & np.isfinite(test) & np.isfinite(err) & (err > 0)
    clean, test, err = clean[ok], test[ok], err[ok]
    if clean.size == 0:
        return PhotometricContamination(0, math.nan, math.nan, math.nan, math.nan, float(nsigma))
    deviation = (test - clean) / err
    positive = clean > 0
    ratio = test[positive] / clean[positive]
    if ratio.size:
        ratio_median = float(np.median(ratio))
        ratio_scatter = MAD_TO_SIGMA * float(np.median(np.abs(ratio - ratio_median)))
    else:
        ratio_median = ratio_scatter = math.nan
    return PhotometricContamination(
        n_sources=int(clean.size),
        ratio_median=ratio_median,
        ratio_scatter=ratio_scatter,
        fraction_moved=float(np.mean(np.abs(deviation) > nsigma)),
        median_deviation=float(np.median(deviation)),
        nsigma=float(nsigma),
    )
