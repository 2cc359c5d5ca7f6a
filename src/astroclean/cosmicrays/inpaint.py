"""Fill flagged pixels from their unflagged neighbours.

``biharmonic`` (the default of :func:`~astroclean.cosmicrays.detect_cosmic_rays`):
scikit-image's biharmonic inpainting, smooth, keeps the profile of a star
whose core was hit. ``median``: the median of the valid pixels in a ``size`` x ``size`` window
around each flagged pixel, the window growing until it holds valid pixels
(robust to neighbouring cosmic rays and stars' gradients at small scales).
Pixels in ``exclude`` (bad, NaN, saturated) are never used
as a source of fill and are never filled.

``noise``: the biharmonic fill plus Gaussian noise of the local noise level (``noise_sigma``, the
background noise map), drawn from ``rng``. A smooth fill is the best estimate of each pixel
(photometry, model fitting: use ``biharmonic``); it is also visibly smoother than the sky around
it, which shows in images for display and biases statistics of the noise (power spectra,
source finders tuned on the noise, stacking with sigma clipping): use ``noise`` there. Same
``rng`` (a seed or a Generator), same image: same result.

Example
-------
>>> import numpy as np
>>> from astroclean.cosmicrays.inpaint import fill_masked
>>> data = np.ones((5, 5)); data[2, 2] = 100
>>> flagged = np.zeros((5, 5), bool); flagged[2, 2] = True
>>> float(fill_masked(data, flagged)[2, 2])
1.0
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage

from astroclean.errors import AstrocleanValueError

METHODS = ("median", "biharmonic", "noise")


def _median_fill(data, flagged, usable, size, max_size):
    out = data.copy()
    todo = np.argwhere(flagged)
    while len(todo) and size <= max_size:
        half = size // 2
        source = np.where(usable, data, np.nan)
        padded = np.pad(source, half, mode="constant", constant_values=np.nan)
        windows = sliding_window_view(padded, (size, size))
        values = windows[todo[:, 0], todo[:, 1]].reshape(len(todo), -1)
        finite = np.isfinite(values)
        has = finite.any(axis=1)
        if has.any():
            sorted_vals = np.sort(values[has], axis=1)
            n = finite[has].sum(axis=1)
            rows = np.arange(len(n))
            med = 0.5 * (sorted_vals[rows, (n - 1) // 2] + sorted_vals[rows, n // 2])
            out[todo[has, 0], todo[has, 1]] = med
        todo = todo[~has]
        size += 4
    return out


def fill_masked(data: np.ndarray, flagged: np.ndarray, *, exclude: np.ndarray | None = None,
                method: str = "median", size: int = 5, max_size: int = 41, noise_sigma=None,
                rng=None) -> np.ndarray:
    """Return a copy of ``data`` with ``flagged`` pixels replaced.

    Parameters
    ----------
    data : ndarray (y, x), float
    flagged : ndarray of bool
        Pixels to replace (e.g. the cosmic-ray mask).
    exclude : ndarray of bool, optional
        Bad pixels: neither filled nor used to fill. NaN/inf are always excluded.
    method : {"median", "biharmonic", "noise"}
        ``noise``: biharmonic plus Gaussian noise of ``noise_sigma`` (see the module notes).
    size : int
        Initial window of the median fill (odd).
    noise_sigma : float or ndarray, optional
        1-sigma noise per pixel (image units) for ``method="noise"``; default: the local background
        noise (clipped MAD in 64-pixel boxes, :func:`astroclean.background.background_and_noise`).
    rng : numpy.random.Generator or int, optional
        Random numbers of ``method="noise"`` (a seed gives a reproducible fill).
    """
    if method not in METHODS:
        raise AstrocleanValueError(f"inpainting method must be one of {METHODS}, got {method!r}")
    if size < 3 or size % 2 == 0:
        raise AstrocleanValueError(f"size must be an odd number >= 3, got {size}")
    data = np.asarray(data, dtype=np.result_type(data, np.float32))
    bad = ~np.isfinite(data)
    if exclude is not None:
        bad = bad | exclude
    flagged = flagged & ~bad
    if not flagged.any() or not (~flagged & ~bad).any():
        return data.copy()  # nothing to fill, or nothing to fill from
    if method == "median":
        return _median_fill(data, flagged, ~flagged & ~bad, size, max_size)
    if method == "noise":
        smooth = fill_masked(data, flagged, exclude=exclude, method="biharmonic")
        if noise_sigma is None:
            from astroclean.background import background_and_noise

            _, noise_sigma = background_and_noise(np.where(bad, np.nan, data), flagged | bad)
        sigma = np.broadcast_to(np.asarray(noise_sigma, dtype=float), data.shape)[flagged]
        generator = np.random.default_rng(rng)
        smooth[flagged] += generator.standard_normal(int(flagged.sum())) * np.nan_to_num(sigma)
        return smooth
    from skimage.restoration import inpaint_biharmonic
    # Bad pixels next to a flagged region are solved for too (never used as data); far ones are left alone
    # so that a saturated star or a bad column elsewhere costs nothing.
    near = bad & ndimage.binary_dilation(flagged, iterations=3)
    work = np.where(bad, np.median(data[~bad]), data)
    filled = inpaint_biharmonic(work, flagged | near)
    out = data.copy()
    out[flagged] = filled[flagged]
    return out
