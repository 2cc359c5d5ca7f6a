"""Source and artefact masks: the classical segmentation baseline and the learned image-to-image masker.

Both run at the working scale on a sky-subtracted (band, y, x) stack.

The classical mask (photutils-style): detection image = mean over bands of the
per-band signal-to-noise, minus a local background (``box`` px cells, so that
diffuse light is not detected), smoothed by a Gaussian, thresholded at
``threshold`` sigma, segments of at least ``n_pixels`` kept, grown by
``grow`` px. The learned masker (``cirrus-mask-gri``) is a U-Net trained to
reproduce the sources of the cirrus-free frame, so it learns to leave cirrus alone.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["classical_mask", "reference_mask", "grow"]


def grow(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation by a disc of ``radius`` px."""
    if radius <= 0:
        return mask.copy()
    r = int(radius)
    yy, xx = np.mgrid[-r: r + 1, -r: r + 1]
    return ndimage.binary_dilation(mask, structure=(xx**2 + yy**2) <= r * r)


def _local_background(det: np.ndarray, box: int) -> np.ndarray:
    from astroclean.background import background_and_noise

    bkg, _ = background_and_noise(det, None, box=box)
    return bkg


def detection_image(data: np.ndarray, noise) -> np.ndarray:
    """Mean over bands of the per-band SNR (NaN -> 0)."""
    noise = np.asarray(noise, dtype=np.float64).reshape(-1, 1, 1)
    return np.nan_to_num(np.mean(data / noise, axis=0), nan=0.0).astype(np.float32)


def classical_mask(data: np.ndarray, noise, *, threshold: float = 3.0, n_pixels: int = 5, grow_px: int = 1,
                   box: int = 32, smooth: float = 1.0) -> np.ndarray:
    """Classical segmentation + dilation mask (True = source/artefact) of a sky-subtracted stack.

    Parameters
    ----------
    data : ndarray (band, y, x), sky-subtracted, working scale
    noise : sequence of per-band pixel sigmas
    threshold : float
        In units of the smoothed detection image's own robust sigma.
    n_pixels : int
        Smallest segment kept.
    grow_px : int
        Dilation radius.
    box : int
        Local-background cell (px); diffuse light on larger scales is not detected.
    """
    det = detection_image(data, noise)
    det = det - _local_background(det, box)
    if smooth > 0:
        det = ndimage.gaussian_filter(det, smooth)
    med = np.median(det)
    sig = 1.4826 * np.median(np.abs(det - med))
    above = det > med + threshold * max(sig, 1e-12)
    labels, n = ndimage.label(above)
    if n:
        sizes = np.bincount(labels.ravel())
        keep = sizes >= n_pixels
        keep[0] = False
        above = keep[labels]
    bad = ~np.all(np.isfinite(data), axis=0)
    return grow(above, grow_px) | bad


def reference_mask(data: np.ndarray, noise) -> np.ndarray:
    """The masking truth of a cirrus-free frame: deeper threshold, more growth than the baseline."""
    return classical_mask(data, noise, threshold=2.5, n_pixels=3, grow_px=1, box=16)
