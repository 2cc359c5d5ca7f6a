"""Cut real cosmic-ray hits out of dark (or near-dark) frames.

The way dark frames are used to collect cosmic rays: pixels ``nsigma`` above
the local median (robust noise), grown to connected pixels above
``grow_nsigma``, then dilated by 3x3; each connected hit becomes a
:class:`~astroclean.cosmicrays.simulate.library.CosmicRayStamp` (charge above the local
background in electrons, and its footprint). Bright extended structure, such
as the orders of an echelle frame, is found with :func:`mask_spectral_orders`
and excluded, together with a margin.

Example
-------
>>> import numpy as np
>>> from astroclean.cosmicrays.simulate import extract_cosmic_rays
>>> rng = np.random.default_rng(1)
>>> frame = rng.normal(0.0, 3.0, (64, 64))
>>> frame[20, 30:34] += 200.0                      # one short track
>>> lib = extract_cosmic_rays(frame, noise=3.0, nsigma=6.0)
>>> len(lib), lib[0].n_core
(1, 4)
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from astroclean.errors import AstrocleanValueError
from astroclean.image import as_image
from astroclean.background import local_median, noise_map
from astroclean.simulate.common import dilate
from astroclean.cosmicrays.simulate.library import CosmicRayLibrary, CosmicRayStamp

__all__ = ["extract_cosmic_rays", "mask_spectral_orders"]

_EIGHT = np.ones((3, 3), bool)


def _noise_array(noise, data, bad):
    if noise is None:
        return noise_map(data, mask=bad)
    arr = np.broadcast_to(np.asarray(noise, dtype=np.float64), data.shape)
    if not np.all(np.isfinite(arr[~bad])) or np.any(arr[~bad] <= 0):
        raise AstrocleanValueError("noise must be positive and finite (1-sigma, image units)")
    return arr


def mask_spectral_orders(image, *, noise=None, nsigma: float = 3.0, length: int = 41, axis: int = 1,
                         grow: int = 3) -> np.ndarray:
    """Mask bright structure that is extended along ``axis`` (echelle orders, traces).

    A running median of ``length`` pixels along ``axis`` keeps light that is
    extended along that axis and rejects compact hits; pixels where it
    exceeds the inter-order level (the same running median taken across the
    orders, which must fill less than half of ``length``) by ``nsigma`` times
    the pixel noise are orders, grown by ``grow`` 3x3 dilations to cover
    their wings.

    Parameters
    ----------
    image : array_like or Image
    noise : float or array_like, optional
        1-sigma pixel noise; estimated robustly when omitted.
    nsigma : float
        Threshold on the running median, in units of the pixel noise.
    length : int
        Running-median length along the dispersion axis (pixels); longer than
        any hit, short enough that the order tilt over it stays below the
        order width.
    axis : int
        0 when orders run along y, 1 when they run along x.
    grow : int
        Margin in pixels.

    Returns
    -------
    ndarray of bool
        True on orders and their margin.

    Example
    -------
    >>> import numpy as np
    >>> frame = np.random.default_rng(0).normal(0, 1, (40, 100))
    >>> frame[18:22] += 50.0
    >>> m = mask_spectral_orders(frame, noise=1.0, grow=2)
    >>> bool(m[20].all()), bool(m[5].any())
    (True, False)
    """
    img = as_image(image)
    if axis not in (0, 1):
        raise AstrocleanValueError(f"axis must be 0 or 1, got {axis}")
    if length < 3:
        raise AstrocleanValueError(f"length must be at least 3 pixels, got {length}")
    data = np.where(img.mask, np.nan, img.data.astype(np.float64))
    sigma = _noise_array(noise, img.data.astype(np.float64), img.mask)
    fill = np.nanmedian(data)
    size = (1, length) if axis == 1 else (length, 1)
    smooth = ndi.median_filter(np.where(np.isfinite(data), data, fill), size=size, mode="reflect")
    # the inter-order level: a running median of the same length across the orders, which
    # cover less than half of any such window
    level = ndi.median_filter(smooth, size=size[::-1], mode="reflect")
    orders = smooth - level > nsigma * sigma
    return dilate(orders, iterations=grow) if grow > 0 else orders


def extract_cosmic_rays(image, *, noise=None, nsigma: float = 5.0, grow_nsigma: float = 2.0,
                        exclude=None, background=None, background_size: int = 9, gain: float = 1.0,
                        origin: str = "image", max_size: int = 64) -> CosmicRayLibrary:
    """Find cosmic-ray hits in a near-dark frame and cut them out as stamps.

    Parameters
    ----------
    image : array_like or Image
        The frame; its ``mask`` (True = bad, NaN, saturated) is honoured.
    noise : float or array_like, optional
        1-sigma noise per pixel in image units; a robust local estimate
        (median absolute deviation of the residual from a 5x5 median, in
        32-pixel blocks) when omitted.
    nsigma : float
        Seed threshold above the local median, in units of ``noise``.
    grow_nsigma : float
        Pixels connected (8-neighbour) to a seed and above this many sigma
        join the hit's core. Charge below it is left out of ``values``.
    exclude : array_like of bool, optional
        Pixels to stay away from (bright orders, sources). Hits whose
        footprint touches them, the frame edge or a masked pixel are dropped
        because their background is unreliable or their charge truncated.
    background : array_like, optional
        The background to subtract, when known better than a local median
        (e.g. a median computed with a data-quality mask).
    background_size : int
        Box of the local median background (pixels); larger than the hits'
        width so it is not biased by them. Excluded pixels do not enter it.
    gain : float
        Electrons per image unit; ``values`` are ``(data - background) * gain``.
    origin : str
        Label stored on every stamp.
    max_size : int
        Hits whose bounding box exceeds this many pixels on a side are dropped
        (extended structure, not a single hit).

    Returns
    -------
    CosmicRayLibrary
        One stamp per hit; ``meta`` holds the parameters and the noise used.

    Raises
    ------
    AstrocleanValueError
        Non-positive thresholds, gain or noise, or ``grow_nsigma > nsigma``.

    Notes
    -----
    A single exposure cannot tell a hot pixel from a one-pixel hit; use a
    dark-subtracted frame or accept that the smallest hits may include some.
    """
    if not (nsigma > 0 and 0 < grow_nsigma <= nsigma):
        raise AstrocleanValueError(
            f"need 0 < grow_nsigma <= nsigma, got grow_nsigma={grow_nsigma}, nsigma={nsigma}"
        )
    if not (gain > 0 and np.isfinite(gain)):
        raise AstrocleanValueError(f"gain must be a positive number of electrons per unit, got {gain}")
    img = as_image(image)
    data = img.data.astype(np.float64)
    bad = img.mask.copy()
    avoid = bad.copy()
    if exclude is not None:
        ex = np.asarray(exclude, bool)
        if ex.shape != data.shape:
            raise AstrocleanValueError(f"exclude has shape {ex.shape}, the image {data.shape}")
        avoid |= ex
    sigma = _noise_array(noise, data, bad)
    if background is None:
        background = local_median(data, size=background_size, mask=avoid)
    else:
        background = np.broadcast_to(np.asarray(background, dtype=np.float64), data.shape)
    with np.errstate(invalid="ignore"):
        snr = (data - background) / sigma
    snr[avoid] = 0.0
    seeds = snr > nsigma
    core_all = ndi.binary_propagation(seeds, structure=_EIGHT, mask=snr > grow_nsigma)
    labels, n = ndi.label(core_all, structure=_EIGHT)
    ny, nx = data.shape
    stamps = []
    dropped = {"edge_or_excluded": 0, "too_large": 0}
    for k, sl in enumerate(ndi.find_objects(labels), start=1):
        y0, y1 = sl[0].start - 1, sl[0].stop + 1
        x0, x1 = sl[1].start - 1, sl[1].stop + 1
        if y0 < 0 or x0 < 0 or y1 > ny or x1 > nx:
            dropped["edge_or_excluded"] += 1
            continue
        if max(y1 - y0, x1 - x0) > max_size:
            dropped["too_large"] += 1
            continue
        core = labels[y0:y1, x0:x1] == k
        foot = dilate(core)
        if (foot & avoid[y0:y1, x0:x1]).any():
            dropped["edge_or_excluded"] += 1
            continue
        values = np.where(core, (data[y0:y1, x0:x1] - background[y0:y1, x0:x1]) * gain, 0.0)
        stamps.append(CosmicRayStamp(values.astype(np.float32), foot, origin, (y0, x0)))
    meta = {
        "origin": origin, "nsigma": nsigma, "grow_nsigma": grow_nsigma,
        "background_size": background_size, "gain": gain, "max_size": max_size,
        "n_candidates": int(n), "dropped": dropped,
        "median_noise": float(np.median(sigma[~avoid])) if (~avoid).any() else float("nan"),
    }
    return CosmicRayLibrary(tuple(stamps), meta)
