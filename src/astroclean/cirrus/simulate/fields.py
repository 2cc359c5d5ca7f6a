"""Filamentary mock cirrus: anisotropic power-law Gaussian fields made log-normal.

A Gaussian random field with power spectrum ``P(k) ~ k**-slope`` is drawn on
an anisotropic wave-vector metric (one axis stretched by ``anisotropy`` along
a random angle), exponentiated (log-normal intensity), and multiplied by a
smooth large-scale envelope so that a frame holds clouds and empty sky.
Several such layers with different outer scales are summed ("several scales").

Example
-------
>>> import numpy as np
>>> from astroclean.cirrus.simulate.fields import power_law_field, measured_slope
>>> f = power_law_field((128, 128), slope=3.0, rng=np.random.default_rng(0))
>>> round(abs(measured_slope(f) - 3.0), 1) <= 0.3
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from astroclean.errors import AstrocleanValueError

__all__ = ["GeneratorSetting", "TRAIN_SETTING", "UNSEEN_SETTING", "power_law_field", "measured_slope",
           "cirrus_intensity"]


@dataclass(frozen=True)
class GeneratorSetting:
    """Ranges the generator draws from (uniform on each interval)."""

    name: str
    slope: tuple = (2.5, 3.3)
    anisotropy: tuple = (1.5, 4.0)     # stretch factor of the wave-vector metric (1 = isotropic)
    sigma_ln: tuple = (0.6, 1.2)       # width of the log-normal
    n_layers: tuple = (1, 3)           # scales summed
    cover: tuple = (0.25, 0.7)         # sky fraction under the envelope


TRAIN_SETTING = GeneratorSetting("train")
# Never used in training: steeper/shallower spectra, nearly isotropic or very stretched clouds.
UNSEEN_SETTING = GeneratorSetting("unseen", slope=(2.0, 2.4), anisotropy=(1.0, 1.3), sigma_ln=(0.8, 1.5),
                                  n_layers=(2, 4), cover=(0.25, 0.7))
UNSEEN_STEEP = GeneratorSetting("unseen-steep", slope=(3.5, 4.0), anisotropy=(5.0, 8.0), sigma_ln=(0.6, 1.2),
                                n_layers=(1, 2), cover=(0.25, 0.7))


def _rng(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def power_law_field(shape, *, slope: float, anisotropy: float = 1.0, angle: float = 0.0, outer: float | None = None,
                    rng=None) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian field with ``P(k) ~ k**-slope``.

    Parameters
    ----------
    shape : (ny, nx)
    slope : float
        Power-spectrum slope (positive: more power on large scales).
    anisotropy : float
        Wave vectors along ``angle`` are stretched by this factor, so
        structures are elongated perpendicular to it (filaments).
    angle : float
        Radians.
    outer : float, optional
        Outer scale in pixels (the spectrum flattens below ``1/outer``).
    rng : Generator or seed, keyword-only
    """
    if slope <= 0 or anisotropy < 1:
        raise AstrocleanValueError(f"slope must be > 0 and anisotropy >= 1, got {slope}, {anisotropy}")
    rng = _rng(rng)
    ny, nx = shape
    ky = np.fft.fftfreq(ny)[:, None]
    kx = np.fft.rfftfreq(nx)[None, :]
    c, s = np.cos(angle), np.sin(angle)
    ku, kv = c * kx + s * ky, -s * kx + c * ky
    k = np.sqrt((anisotropy * ku) ** 2 + kv**2)
    k0 = 1.0 / outer if outer else 1.0 / max(ny, nx)
    amp = (k**2 + k0**2) ** (-slope / 4.0)
    amp[0, 0] = 0.0
    noise = rng.standard_normal((ny, nx // 2 + 1)) + 1j * rng.standard_normal((ny, nx // 2 + 1))
    field = np.fft.irfft2(noise * amp, s=(ny, nx))
    field -= field.mean()
    sd = field.std()
    return (field / sd if sd > 0 else field).astype(np.float64)


def measured_slope(field, *, kmin: float = 0.02, kmax: float = 0.25) -> float:
    """Slope of the azimuthally averaged power spectrum (positive for ``k**-slope``)."""
    ny, nx = field.shape
    p = np.abs(np.fft.fft2(field - field.mean())) ** 2
    k = np.hypot(np.fft.fftfreq(ny)[:, None], np.fft.fftfreq(nx)[None, :])
    sel = (k >= kmin) & (k <= kmax)
    bins = np.logspace(np.log10(kmin), np.log10(kmax), 12)
    idx = np.digitize(k[sel], bins)
    pk = np.array([p[sel][idx == i].mean() for i in range(1, len(bins)) if np.any(idx == i)])
    kk = np.array([k[sel][idx == i].mean() for i in range(1, len(bins)) if np.any(idx == i)])
    return float(-np.polyfit(np.log(kk), np.log(pk), 1)[0])


def cirrus_intensity(shape, *, setting: GeneratorSetting = TRAIN_SETTING, rng=None):
    """A normalised cirrus intensity map (peak-ish level 1) and the parameters drawn.

    Returns
    -------
    intensity : ndarray (y, x), >= 0, its 99th percentile inside the clouds is 1
    params : dict (slopes, anisotropies, angles, sigma_ln, cover)
    """
    rng = _rng(rng)
    n_layers = int(rng.integers(setting.n_layers[0], setting.n_layers[1] + 1))
    angle0 = rng.uniform(0, np.pi)
    total = np.zeros(shape)
    slopes, anis = [], []
    sigma_ln = rng.uniform(*setting.sigma_ln)
    for i in range(n_layers):
        slope = rng.uniform(*setting.slope)
        ani = rng.uniform(*setting.anisotropy)
        outer = max(shape) * rng.uniform(0.25, 1.0) / (i + 1)
        g = power_law_field(shape, slope=slope, anisotropy=ani, angle=angle0 + rng.normal(0, 0.3), outer=outer,
                            rng=rng)
        total += np.exp(sigma_ln * g - sigma_ln**2 / 2) * rng.uniform(0.5, 1.0)
        slopes.append(slope)
        anis.append(ani)
    cover = rng.uniform(*setting.cover)
    env_field = power_law_field(shape, slope=4.0, anisotropy=1.0 + 0.5 * rng.random(), angle=angle0,
                                outer=max(shape) / 1.5, rng=rng)
    threshold = np.quantile(env_field, 1 - cover)
    width = 0.5
    envelope = 1.0 / (1.0 + np.exp(-(env_field - threshold) / width * 4))
    intensity = total * envelope
    ref = np.quantile(intensity[envelope > 0.5], 0.99) if np.any(envelope > 0.5) else intensity.max()
    intensity = intensity / max(ref, 1e-12)
    params = dict(slopes=slopes, anisotropies=anis, angle=float(angle0), sigma_ln=float(sigma_ln),
                  cover=float(cover), setting=setting.name)
    return intensity.astype(np.float32), params
