"""Inject mock cirrus into a real multi-band frame; return the image and its truth.

The r-band surface brightness of the mock is ``mu_r = mu_peak - 2.5 log10(I)``
where ``I`` is the normalised log-normal intensity (1 at the 99th percentile of
the clouds) and ``mu_peak`` is drawn in 24-28 mag/arcsec^2, so the clouds span
24-30+ mag/arcsec^2. Colours g-r (0.0-1.5) and r-i (-0.5-1.0) are drawn per
cloud with a linear gradient across the frame (up to +-0.2 mag). The mock
photons get Poisson noise with the frame's gain (SDSS: 3.85, 4.735, 5.15
e-/count times NMGY; DES: GAIN); frames without a gain get none (the mock is
far fainter than the sky, whose noise the frame already holds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from astroclean.cirrus.preprocess import sb_to_flux
from astroclean.cirrus.simulate.fields import TRAIN_SETTING, GeneratorSetting, cirrus_intensity

__all__ = ["MockCirrus", "inject_cirrus"]


@dataclass(frozen=True)
class MockCirrus:
    """Truth of one injected mock."""

    flux: np.ndarray          # (band, y, x) mock in the frame's data units per pixel (noise-free)
    sb_r: np.ndarray          # (y, x) r-band surface brightness, mag/arcsec^2 (inf where no cirrus)
    params: dict


def inject_cirrus(frame, *, rng, setting: GeneratorSetting = TRAIN_SETTING, mu_peak=(24.0, 28.0),
                  g_r=(0.0, 1.5), r_i=(-0.5, 1.0), gradient: float = 0.2, zeropoint: float | None = None):
    """Add a mock cloud to ``frame.data`` (a copy); returns ``(image, MockCirrus)``.

    Parameters
    ----------
    frame : backgrounds.Frame
    rng : numpy Generator or seed (keyword-only)
    setting : GeneratorSetting
        Spectral slopes, anisotropy and log-normal width ranges.
    zeropoint : float, optional
        Overrides ``frame.zeropoint`` (used for frames without one).
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    zp = frame.zeropoint if zeropoint is None else zeropoint
    shape = frame.data.shape[1:]
    intensity, params = cirrus_intensity(shape, setting=setting, rng=rng)
    peak = rng.uniform(*mu_peak)
    with np.errstate(divide="ignore"):
        sb_r = peak - 2.5 * np.log10(intensity.astype(np.float64))
    ny, nx = shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    direction = rng.uniform(0, 2 * np.pi)
    ramp = ((xx - nx / 2) * np.cos(direction) + (yy - ny / 2) * np.sin(direction)) / max(ny, nx)
    gr0, ri0 = rng.uniform(*g_r), rng.uniform(*r_i)
    vary = rng.random() < 0.5
    gr = gr0 + (gradient * 2 * ramp * rng.uniform(-1, 1) if vary else 0.0)
    ri = ri0 + (gradient * 2 * ramp * rng.uniform(-1, 1) if vary else 0.0)
    flux_r = np.where(np.isfinite(sb_r), sb_to_flux(np.where(np.isfinite(sb_r), sb_r, 99.0), zeropoint=zp,
                                                   pixel_scale=frame.pixel_scale), 0.0)
    colour = {"g": 10 ** (-0.4 * gr), "r": 1.0, "i": 10 ** (0.4 * ri)}   # flux ratios to r
    channels = ("g", "r", "i")
    if frame.bands == ("r", "r", "r"):
        factors = [1.0, 1.0, 1.0]
    else:
        factors = [colour[c] for c in channels]
    flux = np.stack([flux_r * np.broadcast_to(f, shape) for f in factors]).astype(np.float32)
    image = frame.data.astype(np.float32).copy()
    for b in range(3):
        gain = frame.gain[b]
        noisy = flux[b]
        if gain:
            electrons = np.clip(flux[b], 0, None) * gain
            noisy = (rng.poisson(electrons) / gain).astype(np.float32) if electrons.max() < 1e8 else noisy
            noisy = noisy + (flux[b] - np.clip(flux[b], 0, None))
        image[b] += noisy
    params.update(mu_peak=float(peak), g_r=float(gr0), r_i=float(ri0), colour_gradient=bool(vary),
                  zeropoint=float(zp))
    return image, MockCirrus(flux=flux, sb_r=sb_r.astype(np.float32), params=params)
