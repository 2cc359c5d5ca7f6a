"""Non-learned cirrus baselines, on the same working-scale inputs as the network.

- ``isophote``: the reference's step: sources masked (classical mask), the r band
  smoothed over ~10" (masked pixels excluded), pixels brighter than the isophote
  (29 mag/arcsec^2, or the frame's own 3-sigma depth) kept as connected segments of
  at least 36 arcsec^2.
- ``ridge``: a Hessian ridge filter (skimage ``sato``, bright ridges, scales 1-4 px)
  on the masked, smoothed band mean; response above its median + 3 robust sigma,
  segments of at least 36 arcsec^2.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from astroclean.cirrus.preprocess import flux_to_sb

__all__ = ["isophote_cirrus", "ridge_cirrus", "masked_smooth"]


def masked_smooth(image: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing that ignores masked pixels (normalised convolution)."""
    w = (~mask & np.isfinite(image)).astype(np.float64)
    v = np.where(w > 0, image, 0.0)
    num = ndimage.gaussian_filter(v, sigma)
    den = ndimage.gaussian_filter(w, sigma)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0.05, num / den, 0.0)


def _min_area(mask, min_pixels):
    labels, n = ndimage.label(mask)
    if not n:
        return mask
    sizes = np.bincount(labels.ravel())
    keep = sizes >= min_pixels
    keep[0] = False
    return keep[labels]


def isophote_cirrus(x: np.ndarray, source_mask: np.ndarray, *, zeropoint: float, unit_scale: float,
                    pixel_scale: float, isophote: float = 29.0, smooth_arcsec: float = 10.0,
                    min_area_arcsec2: float = 36.0) -> np.ndarray:
    """Cirrus = smoothed r brighter than ``isophote`` mag/arcsec^2, connected segments >= ``min_area``."""
    sm = masked_smooth(x[1], source_mask, smooth_arcsec / pixel_scale / 2.355)
    sb = flux_to_sb(sm, zeropoint=zeropoint, pixel_scale=unit_scale)
    cir = (sb <= isophote) & ~source_mask
    return _min_area(cir, int(np.ceil(min_area_arcsec2 / pixel_scale**2)))


def ridge_cirrus(x: np.ndarray, source_mask: np.ndarray, noise, *, pixel_scale: float, n_sigma: float = 3.0,
                 min_area_arcsec2: float = 36.0) -> np.ndarray:
    """Cirrus = bright ridges of the masked, noise-weighted band mean (Hessian/Sato filter)."""
    from skimage.filters import sato

    noise = np.asarray(noise, dtype=np.float64).reshape(-1, 1, 1)
    det = np.nan_to_num(np.mean(x / noise, axis=0))
    sm = masked_smooth(det, source_mask, 1.0)
    resp = sato(sm, sigmas=(1, 2, 4), black_ridges=False)
    ok = ~source_mask
    med = np.median(resp[ok]) if ok.any() else 0.0
    sig = 1.4826 * np.median(np.abs(resp[ok] - med)) if ok.any() else 1.0
    cir = (resp > med + n_sigma * sig) & ok
    return _min_area(cir, int(np.ceil(min_area_arcsec2 / pixel_scale**2)))
