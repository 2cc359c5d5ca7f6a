"""Normalisation that lets one model serve images from any instrument.

Pixels are put in units of the local background noise after subtracting the
local sky, then compressed with an asinh stretch so that faint wings and
10^4-sigma cores both stay in a range the network handles:

    x = asinh((image - sky) / (2 * noise))

The noise map is, in order of preference: the variance plane (its local
median, i.e. the background-level noise), the Poisson + read noise of the
sky level when GAIN and RDNOISE are known and the image still holds its sky,
and a robust (MAD) local estimate otherwise. The result is the same whether
an image is in ADU or electrons, with or without sky.

Example
-------
>>> import numpy as np
>>> from astroclean.image import as_image
>>> from astroclean.inference.normalise import normalise
>>> rng = np.random.default_rng(1)
>>> img = as_image(1000 + 10 * rng.standard_normal((128, 128)))
>>> x, norm = normalise(img)
>>> norm.method, round(float(np.std(np.sinh(x) * 2)), 1)
('robust', 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from astroclean.background import background_and_noise, block_statistics, expand_grid
from astroclean.image import Image
from astroclean.inference.normalisers import register_normaliser

STRETCH = 2.0
DESCRIPTION = ("x = asinh((image - sky) / (2 noise)); sky: clipped median in 64 px boxes; noise: local median of "
               "the variance plane, else Poisson+read noise of the sky from GAIN/RDNOISE, else robust MAD in boxes; "
               "masked pixels set to 0 (sky), saturated pixels kept at their level")


@dataclass(frozen=True)
class Normalisation:
    """How an image was normalised: ``sky`` and ``noise`` maps and the noise ``method``."""

    sky: np.ndarray
    noise: np.ndarray
    method: str

    def to_units(self, x: np.ndarray) -> np.ndarray:
        """Invert the stretch: network-space values back to image units."""
        return np.sinh(x) * STRETCH * self.noise + self.sky


def _noise_from_gain(image: Image, sky: np.ndarray, robust: np.ndarray) -> np.ndarray | None:
    gain, rn = image.gain, image.read_noise
    if not gain or rn is None or gain <= 0:
        return None
    unit = (image.unit or "").lower()
    in_electrons = unit.startswith("electron") or unit.startswith("e-")
    scale = 1.0 if in_electrons else gain  # image units -> electrons
    sky_e = sky * scale
    if np.median(sky_e) <= 0:
        return None  # sky already subtracted: Poisson part unknown
    noise = np.sqrt(np.clip(sky_e, 0, None) + rn**2) / scale
    ratio = np.median(robust) / max(np.median(noise), 1e-30)
    if not 0.5 < ratio < 2.0:
        return None  # header disagrees with the pixels (drizzled, rescaled...): trust the pixels
    return noise.astype(np.float32)


def normalise(image: Image, *, box: int = 64) -> tuple[np.ndarray, Normalisation]:
    """Return the network input (float32, same shape) and the :class:`Normalisation`.

    Masked pixels (``image.mask``) become 0 (the sky), except saturated ones
    (at or above ``image.saturation``), which keep their level so that a
    saturated star still looks like a star.
    """
    data, mask = image.data, image.mask
    sky, robust = background_and_noise(data, mask, box=box)
    method, noise = "robust", robust
    if image.variance is not None:
        med_var, _ = block_statistics(image.variance, mask, box=box)
        noise, method = np.sqrt(expand_grid(med_var, data.shape)), "variance"
    else:
        from_gain = _noise_from_gain(image, sky, robust)
        if from_gain is not None:
            noise, method = from_gain, "gain"
    floor = max(float(np.nanmedian(noise[::4, ::4])) * 1e-3, 1e-30)   # a smooth map: every 16th pixel will do
    noise = np.maximum(noise, floor).astype(np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        x = np.arcsinh((data - sky) / (STRETCH * noise)).astype(np.float32)
    if mask.any():
        keep = np.zeros_like(mask)
        if image.saturation is not None:
            with np.errstate(invalid="ignore"):
                keep = mask & (data >= image.saturation) & np.isfinite(data)
        x[mask & ~keep] = 0.0
    return x, Normalisation(sky=sky, noise=noise, method=method)


register_normaliser("sky-noise-asinh", normalise, description=DESCRIPTION)
