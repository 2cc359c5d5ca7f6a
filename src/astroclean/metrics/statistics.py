"""Image statistics: the radially averaged power spectrum and a pixel-distribution summary.

Used to check that a predicted background has the texture (power per
spatial scale) and the pixel distribution of the true one, e.g. after
compact-source removal. Plain arrays in, plain numbers out.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from astroclean.errors import AstrocleanValueError
from astroclean.metrics._common import as_bool
from astroclean.metrics._common import as_2d

__all__ = ["power_spectrum", "pixel_statistics", "radial_frequency"]


def radial_frequency(shape) -> np.ndarray:
    """``|k|`` of every FFT mode of an image of ``shape``, in cycles per pixel (``numpy.fft`` order).

    Examples
    --------
    >>> k = radial_frequency((4, 4))
    >>> float(k[0, 0]), float(k[0, 1]), float(k[2, 2])
    (0.0, 0.25, 0.7071067811865476)
    """
    ky = np.fft.fftfreq(int(shape[0]))[:, None]
    kx = np.fft.fftfreq(int(shape[1]))[None, :]
    return np.hypot(ky, kx)


def _weights(valid, apodise):
    """Valid-pixel weights, tapered by a cosine over ``apodise`` pixels from every invalid pixel and the border."""
    w = valid.astype(np.float64)
    if apodise > 0:
        padded = np.pad(valid, 1, constant_values=False)  # the image border counts as invalid
        distance = ndimage.distance_transform_edt(padded)[1:-1, 1:-1]  # to the nearest invalid pixel
        w *= 0.5 * (1.0 - np.cos(np.pi * np.clip((distance - 0.5) / apodise, 0.0, 1.0)))
    return w


def power_spectrum(image, *, mask=None, bins=None, apodise: float = 0.0, return_counts: bool = False):
    """Azimuthally averaged power spectrum of an image, in cycles per pixel.

    The image minus its (weighted) mean is multiplied by a weight map ``w``
    (1 on valid pixels, 0 on masked / non-finite ones, optionally tapered:
    see ``apodise``) and Fourier transformed. The power of each mode is
    ``|FFT(w (image - mean))|**2 / sum(w**2)`` -- normalised so that white
    noise of variance ``s**2`` has a flat spectrum of height ``s**2`` and
    (Parseval) the mean of the power over all modes equals
    ``sum(w**2 (image - mean)**2) / sum(w**2)``, the (weighted) variance.
    Modes are averaged in annuli of ``|k| = sqrt(kx**2 + ky**2)``; the
    ``k = 0`` mode is left out.

    Masked pixels (True) and NaN/inf pixels get weight 0 (the masked
    pseudo-spectrum: the true spectrum convolved with that of ``w``; compare
    two images with the same mask and the leakage is the same in both).

    Parameters
    ----------
    image : array_like (y, x)
    mask : array_like of bool, optional
        True = bad, left out (NaN and inf are always left out).
    bins : int or array_like, optional
        Number of equal-width bins in ``(0, 0.5]`` cycles/pixel, or the bin
        edges (increasing, in cycles/pixel; modes beyond the last edge, e.g.
        the diagonal ones above 0.5, are dropped). Default: bins of width
        ``1 / n`` centred on ``j / n`` for ``j = 1 .. n // 2``, with
        ``n = min(ny, nx)`` (the frequencies of the shorter axis).
    apodise : float
        Taper width in pixels: the weights rise as a cosine from 0 at every
        masked pixel and the image border to 1 at this distance (0 = no
        taper: the image is treated as periodic and masked pixels are
        simply zero-weighted). Tapering suppresses the leakage of the edge
        discontinuities to high ``k``.
    return_counts : bool
        Also return the number of modes per bin.

    Returns
    -------
    k : ndarray
        Mean ``|k|`` of the modes in each bin (cycles/pixel; the bin centre
        when a bin has no modes).
    power : ndarray
        Mean power per mode in each bin (image units squared); NaN for an
        empty bin.
    counts : ndarray of int
        Only with ``return_counts``.

    Raises
    ------
    AstrocleanValueError
        Not a 2-D image, bad bins, negative ``apodise`` or no valid pixel.

    Examples
    --------
    A sinusoid of 8 cycles across 64 pixels puts its power at k = 0.125:

    >>> x = np.arange(64)
    >>> image = np.sin(2 * np.pi * 8 * x / 64)[None, :] * np.ones((64, 1))
    >>> k, power = power_spectrum(image)
    >>> round(float(k[np.argmax(power)]) * 64, 1)
    8.0

    White noise is flat at its variance:

    >>> noise = np.random.default_rng(0).normal(0, 2.0, (256, 256))
    >>> k, power = power_spectrum(noise, bins=4)
    >>> np.round(power).tolist()
    [4.0, 4.0, 4.0, 4.0]
    """
    data = as_2d(image, "image")
    if not (np.isfinite(apodise) and apodise >= 0):
        raise AstrocleanValueError(f"apodise must be a taper width in pixels >= 0, got {apodise!r}")
    valid = np.isfinite(data)
    if mask is not None:
        valid &= ~as_bool(mask, name="mask", shape=data.shape)
    w = _weights(valid, float(apodise))
    norm = float(np.sum(w * w))
    if norm <= 0:
        raise AstrocleanValueError("power_spectrum: no valid pixel (all masked or NaN, or apodise too wide)")
    values = np.where(valid, data, 0.0)
    mean = float(np.sum(w * values) / np.sum(w))
    modes = np.abs(np.fft.fft2(w * (values - mean))) ** 2 / norm
    k = radial_frequency(data.shape)
    if bins is None:
        n = min(data.shape)
        edges = (np.arange(n // 2 + 1) + 0.5) / n
    elif np.ndim(bins) == 0:
        if not (isinstance(bins, (int, np.integer)) and bins >= 1):
            raise AstrocleanValueError(f"bins must be a positive integer or an array of edges, got {bins!r}")
        edges = np.linspace(0.0, 0.5, int(bins) + 1)
    else:
        edges = np.asarray(bins, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0) or edges[0] < 0:
            raise AstrocleanValueError(f"bin edges must be 1-D, increasing, >= 0 and at least 2, got {bins!r}")
    keep = (k > 0) & (k >= edges[0]) & (k <= edges[-1])
    index = np.clip(np.searchsorted(edges, k[keep], side="left") - 1, 0, edges.size - 2)
    n_bins = edges.size - 1
    counts = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        power = np.bincount(index, modes[keep], minlength=n_bins) / counts
        k_mean = np.bincount(index, k[keep], minlength=n_bins) / counts
    k_mean = np.where(counts > 0, k_mean, 0.5 * (edges[:-1] + edges[1:]))
    power = np.where(counts > 0, power, np.nan)
    return (k_mean, power, counts) if return_counts else (k_mean, power)


def pixel_statistics(values) -> dict:
    """Summary of a pixel distribution: n, mean, median, std, mad, skewness, iqr.

    Non-finite values are left out. ``std`` is the population standard
    deviation (``ddof=0``); ``mad`` is the raw median absolute deviation
    from the median (multiply by 1.4826 for a Gaussian sigma); ``skewness``
    is the Fisher-Pearson coefficient ``m3 / m2**1.5`` (biased, as
    ``scipy.stats.skew``; NaN for a constant sample); ``iqr`` is the 75th
    minus the 25th percentile (linear interpolation).

    Parameters
    ----------
    values : array_like
        Any shape (flattened).

    Returns
    -------
    dict
        Keys ``n`` (int) and ``mean, median, std, mad, skewness, iqr``
        (floats, NaN when there is no finite value).

    Examples
    --------
    >>> s = pixel_statistics([1.0, 2.0, 3.0, 4.0, np.nan])
    >>> s["n"], s["mean"], s["median"], s["mad"], s["iqr"], s["skewness"]
    (4, 2.5, 2.5, 1.0, 1.5, 0.0)
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0, **{key: math.nan for key in ("mean", "median", "std", "mad", "skewness", "iqr")}}
    mean = float(v.mean())
    median = float(np.median(v))
    d = v - mean
    m2, m3 = float(np.mean(d * d)), float(np.mean(d * d * d))
    q25, q75 = np.percentile(v, [25, 75])
    return {
        "n": int(v.size),
        "mean": mean,
        "median": median,
        "std": math.sqrt(m2),
        "mad": float(np.median(np.abs(v - median))),
        "skewness": m3 / m2**1.5 if m2 > 0 else math.nan,
        "iqr": float(q75 - q25),
    }
