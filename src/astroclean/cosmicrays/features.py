"""Network inputs of the cosmic-ray models, the same for training and use.

Version 1 (one channel): ``x = asinh((image - sky) / (2 noise))``
(:func:`astroclean.inference.normalise`), where ``noise`` is the *background* noise.

Version 2 adds a per-pixel noise channel, so that the network sees S/N and not counts:

    n = log(sigma_pixel / noise) = 0.5 log(1 + s / (g noise**2))

``s`` is the source signal under the pixel, measured robustly as the 3x3 minimum of
``image - sky`` (clipped at 0): a cosmic ray one or two pixels wide does not survive a 3x3
minimum, a star or galaxy of FWHM >= 2 px does, so the channel carries the Poisson noise of real
sources and not of the hits. ``g`` is the number of electrons per image unit: ``image.gain`` (an
image in electrons has 1), else the *effective* gain of a frame that still holds its sky
(``sky / noise**2`` where the sky is more than 10 noise above zero), else unknown, and then
``n = 0`` (background noise only). A bright star's core thus reads "high noise here", which is
what a Laplacian detector's noise model and objlim encode by hand.

Version 3 (three channels, ``--in-channels 3``, normaliser :data:`NORMALISER3`) adds the 3x3 median of
channel 0 (:func:`median3x3`, edges ``nearest``; masked pixels enter with the value channel 0 gives
them): a spike one or two pixels wide does not survive a 3x3 median, a star core of FWHM >= 2 px
does, so "sharp spike on a smooth star" is the difference of channels 0 and 2. This is L.A.Cosmic's
fine-structure image, which a small CNN cannot compute (a median is not a sum of ReLUs of a few
convolutions) (issue 10: hits on star cores).

Example
-------
>>> import numpy as np
>>> from astroclean.image import as_image
>>> from astroclean.cosmicrays.features import network_input
>>> rng = np.random.default_rng(0)
>>> img = as_image(rng.poisson(400.0, (64, 64)).astype("f4"), gain=1.0, unit="electron")
>>> x, info = network_input(img, channels=2)
>>> x.shape, info["noise_channel"]
((2, 64, 64), 'unit')
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from astroclean.image import Image
from astroclean.inference.normalise import normalise
from astroclean.inference.normalisers import register_normaliser

__all__ = ["network_input", "noise_channel", "minimum_3x3", "median3x3", "electrons_per_unit_of", "CHANNEL_NAMES",
           "NORMALISER", "NORMALISER3"]

CHANNEL_NAMES = ("asinh((image - sky) / (2 noise))", "log(sigma_pixel / noise)",
                 "3x3 median of asinh((image - sky) / (2 noise))")
#: Registered name of the two-channel input (a model card's ``inputs["normaliser"]``).
NORMALISER = "sky-noise-asinh+noise"
#: Registered name of the three-channel input (plus the 3x3 median of channel 0).
NORMALISER3 = "sky-noise-asinh+noise+median3"


def electrons_per_unit_of(image: Image, sky: np.ndarray, noise: np.ndarray):
    """``(electrons per image unit, how it was found)``; ``(None, "unknown")`` when it cannot be told."""
    unit = (image.unit or "").lower().replace(" ", "")
    if unit.startswith("electron") or unit.startswith("e-"):
        if "/s" in unit:
            if image.exptime:
                return float(image.exptime), "exptime"
        else:
            return 1.0, "unit"
    if image.gain and image.gain > 0 and not unit.startswith("electron"):
        return float(image.gain), "gain"
    good = ~image.mask
    if good.any():
        s = float(np.median(sky[good]))
        n = float(np.median(noise[good]))
        if n > 0 and s > 10 * n:
            g = s / n ** 2
            if 0.05 < g < 100:
                return g, "sky"
    return None, "unknown"


def noise_channel(data: np.ndarray, sky: np.ndarray, noise: np.ndarray, epu, *, mask=None) -> np.ndarray:
    """``log(sigma_pixel / noise)`` (float32, >= 0); zeros when ``epu`` is None."""
    if epu is None or not epu > 0:
        return np.zeros(data.shape, dtype=np.float32)
    resid = np.asarray(data, dtype=np.float32) - np.asarray(sky, dtype=np.float32)
    if mask is not None and mask.any():
        resid[mask] = 0.0
    source = minimum_3x3(resid)
    np.maximum(source, 0.0, out=source)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        source /= np.float32(epu) * noise.astype(np.float32) ** 2
        out = np.log1p(source, out=source)
    out *= np.float32(0.5)
    out[~np.isfinite(out)] = 0.0
    return out


def minimum_3x3(a: np.ndarray) -> np.ndarray:
    """``ndimage.minimum_filter(a, size=3, mode="nearest")``, exactly, in four passes of shifted views
    (ten times faster on a full frame).

    >>> from scipy import ndimage
    >>> a = np.random.default_rng(0).standard_normal((5, 7)).astype("f4")
    >>> bool(np.array_equal(minimum_3x3(a), ndimage.minimum_filter(a, size=3, mode="nearest")))
    True
    """
    rows = np.array(a, copy=True)
    np.minimum(rows[1:], a[:-1], out=rows[1:])
    np.minimum(rows[:-1], a[1:], out=rows[:-1])
    out = rows.copy()
    np.minimum(out[:, 1:], rows[:, :-1], out=out[:, 1:])
    np.minimum(out[:, :-1], rows[:, 1:], out=out[:, :-1])
    return out


def _median3x3_rows(padded: np.ndarray, out: np.ndarray) -> None:
    """Exact 3x3 median of ``padded`` (``out.shape`` + 2 on each axis) into ``out``.

    Sort every vertical triple (lo <= mid <= hi), then the median of the nine is
    ``med3(max of the three lo, med3 of the three mid, min of the three hi)`` (the classic
    19-comparison network; ties are harmless as only min and max are taken).
    """
    a, b, c = padded[:-2], padded[1:-1], padded[2:]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    mid = np.maximum(lo, c)
    np.minimum(mid, hi, out=mid)
    np.maximum(hi, c, out=hi)
    np.minimum(lo, c, out=lo)
    top = np.maximum(lo[:, :-2], lo[:, 1:-1])
    np.maximum(top, lo[:, 2:], out=top)
    bottom = np.minimum(hi[:, :-2], hi[:, 1:-1])
    np.minimum(bottom, hi[:, 2:], out=bottom)
    a, b, c = mid[:, :-2], mid[:, 1:-1], mid[:, 2:]
    middle, high = np.minimum(a, b), np.maximum(a, b)
    np.maximum(middle, c, out=middle)
    np.minimum(middle, high, out=middle)
    low = np.minimum(top, middle)
    np.maximum(top, middle, out=top)
    np.maximum(low, bottom, out=low)
    np.minimum(low, top, out=out)


def median3x3(x: np.ndarray, *, threads: int = 1, block: int = 256) -> np.ndarray:
    """Exact 3x3 median filter of a 2-D array, edges ``nearest`` (= ``scipy.ndimage.median_filter(x, 3,
    mode="nearest")``, about 8x faster: 0.17 s for 2048x4096 float32 on one thread).

    Rows are done in blocks of ``block`` (cache-sized temporaries), on ``threads`` threads (numpy
    releases the GIL). NaN are not supported (channel 0 has none).
    """
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"median3x3 needs a 2-D array, got shape {x.shape}")
    padded = np.pad(x, 1, mode="edge")
    out = np.empty_like(x)
    starts = range(0, x.shape[0], block)
    jobs = [(padded[s:s + block + 2], out[s:s + block]) for s in starts]
    if threads > 1 and len(jobs) > 1:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda job: _median3x3_rows(*job), jobs))
    else:
        for job in jobs:
            _median3x3_rows(*job)
    return out


def network_input(image: Image, *, channels: int = 1, epu="auto"):
    """``(x, info)``: x is ``(y, x)`` for one channel, ``(channels, y, x)`` for two or three.

    ``epu`` overrides the electrons per unit ("auto": from the image, see the module notes; None:
    unknown). ``info`` holds the noise method and how the gain was found.
    """
    x, norm = normalise(image)
    info = {"normalisation": norm.method}
    if channels == 1:
        return x, info
    if epu == "auto":
        epu, how = electrons_per_unit_of(image, norm.sky, norm.noise)
    else:
        how = "given" if epu else "unknown"
    info["noise_channel"] = how
    info["electrons_per_unit"] = epu
    n = noise_channel(image.data, norm.sky, norm.noise, epu, mask=image.mask)
    if channels == 3:
        return np.stack([x, n, median3x3(x)]), info
    return np.stack([x, n]), info


def _two_channels(image: Image):
    return network_input(image, channels=2)


register_normaliser(NORMALISER, _two_channels,
                    description="channel 0: x = asinh((image - sky) / (2 noise)) (sky-noise-asinh); channel 1: "
                                "log(sigma_pixel / noise) = 0.5 log(1 + s / (g noise^2)), s = 3x3 minimum of "
                                "image - sky, g = electrons per unit (GAIN, unit, or the sky's effective gain; "
                                "0 when unknown)")


def _three_channels(image: Image):
    return network_input(image, channels=3)


register_normaliser(NORMALISER3, _three_channels,
                    description=f"channels 0 and 1: those of {NORMALISER}; channel 2: the 3x3 median of channel 0 "
                                "(edges nearest; L.A.Cosmic's fine-structure image: hits 1-2 px wide removed, "
                                "star cores kept)")
