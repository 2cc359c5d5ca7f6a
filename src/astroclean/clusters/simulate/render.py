"""Render a cluster: EFF or King (1962) profile, stars deposited at sub-pixel positions, TinyTim PSF, noise.

The TinyTim WFC3/UVIS PSFs in ``hst/psfs`` are sampled at the UVIS pixel (0.0399-0.04"; their
central-pixel fractions, 0.25-0.49, are those of a native-sampled PSF), so they are used at that
pixel without rebinning. F336W and F438W carry the charge-diffusion kernel in their header comment;
it is applied by convolution, after clipping its one negative corner entry to zero and
renormalising (a negative kernel weight is unphysical). The F814W file has no kernel comment and
is used as is. Each PSF is cropped to 41x41 pixels and normalised to unit sum.

Exposure model (stated, M83 ERS-like): F336W 2400 s, F438W 1800 s, F814W 1200 s; read noise
3.1 e- per read, 3 reads per band; images are in e-/s.

Profiles (both normalised to unit total light, r_eff the projected half-light radius):

* EFF (Elson, Fall & Freeman 1987): I(r) ~ (1 + r^2/a^2)^(-gamma/2), untruncated, gamma > 2;
  r_eff = a sqrt(2^(2/(gamma-2)) - 1).
* King (1962): I(r) ~ [(1 + r^2/r_c^2)^(-1/2) - (1 + r_t^2/r_c^2)^(-1/2)]^2 for r < r_t, 0 beyond,
  concentration c = log10(r_t / r_c). Its enclosed light (King 1962, eq. 18), with x = r^2/r_c^2 and
  x_t = r_t^2/r_c^2, is L(x) ~ ln(1 + x) - 4 (sqrt(1 + x) - 1) / sqrt(1 + x_t) + x / (1 + x_t); r_eff solves
  L(r_eff) = L(r_t) / 2 (:func:`king_reff_ratio`, r_eff / r_c: 0.92 at c = 0.5, 1.70 at c = 1,
  2.96 at c = 1.5, 5.08 at c = 2; r_eff / r_t: 0.29, 0.17, 0.094, 0.051; at r_t = 30 r_c this is
  r_eff = 1.48 FWHM, the relation ishape (Larsen 1999) quotes for KING30).

Example
-------
>>> from astroclean.clusters.simulate.render import eff_image, king_image
>>> img = eff_image(32, r_eff_px=3.0, gamma=3.0)
>>> round(float(img.sum()), 2) <= 1.0
True
>>> round(float(king_image(64, r_eff_px=3.0, concentration=1.0).sum()), 2)
1.0
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from astropy.io import fits
from scipy.signal import fftconvolve

from astroclean.simulate.common import resolve_data_dir

PIXEL_SCALE = 0.04
EXPTIME = np.array([2400.0, 1800.0, 1200.0])
READ_NOISE = 3.1
N_READS = 3
SKY = np.array([0.002, 0.008, 0.05])      # e-/s/pixel, dark + zodiacal sky
PSF_SIZE = 41
MAD_SIGMA = 1.4826


def _kernel_from_header(header):
    rows = []
    for card in header.get("COMMENT", []):
        parts = str(card).split()
        try:
            values = [float(v) for v in parts]
        except ValueError:
            continue
        if len(values) == 3:
            rows.append(values)
    if len(rows) < 3:
        return None
    k = np.clip(np.array(rows[-3:]), 0, None)
    return k / k.sum()


@lru_cache(maxsize=2)
def load_psfs(data_dir=None) -> np.ndarray:
    """(3, 41, 41) unit-sum PSFs of F336W, F438W, F814W with the charge-diffusion kernel applied."""
    root = resolve_data_dir(data_dir, need="TinyTim PSFs hst/psfs") / "hst" / "psfs"
    out = []
    for band in ("f336w", "f438w", "f814w"):
        with fits.open(root / f"wfc3_uvis_{band}.fits") as hdul:
            data = hdul[0].data.astype(float)
            kernel = _kernel_from_header(hdul[0].header)
        if kernel is not None:
            data = fftconvolve(data, kernel, mode="same")
        cy, cx = np.unravel_index(np.argmax(data), data.shape)
        h = PSF_SIZE // 2
        crop = data[cy - h: cy + h + 1, cx - h: cx + h + 1]
        out.append(np.clip(crop, 0, None) / np.clip(crop, 0, None).sum())
    return np.stack(out)


def eff_radius_sample(n, a, gamma, rng, r_max):
    """Radii drawn from a projected EFF profile (1 + r^2/a^2)^(-gamma/2), truncated at ``r_max``."""
    u_max = 1 - (1 + (r_max / a) ** 2) ** (1 - gamma / 2)
    u = rng.uniform(0, u_max, size=n)
    return a * np.sqrt((1 - u) ** (2 / (2 - gamma)) - 1)


def eff_scale(r_eff, gamma):
    """EFF core radius a giving half-light radius ``r_eff`` (untruncated, gamma > 2)."""
    return r_eff / np.sqrt(2 ** (2 / (gamma - 2)) - 1)


def eff_image(size, *, r_eff_px, gamma, center=None, oversample=5):
    """Pixel-integrated (by oversampling) unit-total EFF profile on a size x size grid."""
    c = (size - 1) / 2 if center is None else center
    cy, cx = (c, c) if np.isscalar(c) else c
    a = eff_scale(r_eff_px, gamma)
    sub = (np.arange(size * oversample) + 0.5) / oversample - 0.5
    yy, xx = np.meshgrid(sub - cy, sub - cx, indexing="ij")
    prof = (1 + (xx**2 + yy**2) / a**2) ** (-gamma / 2)
    prof = prof.reshape(size, oversample, size, oversample).mean(axis=(1, 3))
    # total of the untruncated profile over the plane: pi a^2 / (gamma/2 - 1) per unit central value
    return prof / (np.pi * a**2 / (gamma / 2 - 1))


def king_enclosed(x, x_t):
    """Light of a King (1962) profile inside r^2/r_c^2 = ``x`` (clipped at ``x_t``), in units of pi r_c^2 I_0'."""
    x = np.clip(x, 0, x_t)
    return np.log1p(x) - 4 * (np.sqrt(1 + x) - 1) / np.sqrt(1 + x_t) + x / (1 + x_t)


def king_reff_ratio(concentration: float) -> float:
    """r_eff / r_c of a King (1962) profile of concentration c = log10(r_t / r_c) (projected half-light)."""
    from scipy.optimize import brentq

    x_t = 10 ** (2 * float(concentration))
    half = 0.5 * king_enclosed(x_t, x_t)
    return float(np.sqrt(brentq(lambda x: king_enclosed(x, x_t) - half, 0.0, x_t, xtol=1e-12, rtol=1e-12)))


def king_scale(r_eff, concentration):
    """King core radius r_c giving half-light radius ``r_eff`` at concentration ``concentration``."""
    return r_eff / king_reff_ratio(concentration)


def king_radius_sample(n, r_c, concentration, rng):
    """Radii of ``n`` stars drawn from the projected King (1962) profile (numerical inverse of the enclosed light)."""
    x_t = 10 ** (2 * float(concentration))
    x = np.concatenate([[0.0], np.geomspace(1e-6, x_t, 2000)])
    cdf = king_enclosed(x, x_t) / king_enclosed(x_t, x_t)
    return r_c * np.sqrt(np.interp(rng.uniform(size=n), cdf, x))


def king_image(size, *, r_eff_px, concentration, center=None, oversample=5):
    """Pixel-integrated (by oversampling) unit-total King (1962) profile on a size x size grid."""
    c = (size - 1) / 2 if center is None else center
    cy, cx = (c, c) if np.isscalar(c) else c
    r_c = king_scale(r_eff_px, concentration)
    x_t = 10 ** (2 * float(concentration))
    sub = (np.arange(size * oversample) + 0.5) / oversample - 0.5
    yy, xx = np.meshgrid(sub - cy, sub - cx, indexing="ij")
    x = (xx**2 + yy**2) / r_c**2
    prof = np.where(x < x_t, (1 / np.sqrt(1 + x) - 1 / np.sqrt(1 + x_t)) ** 2, 0.0)
    prof = prof.reshape(size, oversample, size, oversample).mean(axis=(1, 3))
    return prof / (np.pi * r_c**2 * king_enclosed(x_t, x_t))


def profile_image(size, *, r_eff_px, profile="eff", gamma=None, concentration=None, center=None, oversample=5):
    """Unit-total EFF (``gamma``) or King (``concentration``) profile image; see the module notes."""
    if profile == "king":
        return king_image(size, r_eff_px=r_eff_px, concentration=concentration, center=center, oversample=oversample)
    return eff_image(size, r_eff_px=r_eff_px, gamma=gamma, center=center, oversample=oversample)


def profile_radius_sample(n, *, r_eff_px, rng, r_max, profile="eff", gamma=None, concentration=None):
    """Radii of ``n`` stars drawn from the EFF or King profile of half-light radius ``r_eff_px``."""
    if profile == "king":
        return king_radius_sample(n, king_scale(r_eff_px, concentration), concentration, rng)
    return eff_radius_sample(n, eff_scale(r_eff_px, gamma), gamma, rng, r_max=r_max)


def deposit(size, x, y, flux):
    """Bilinear deposit of point fluxes (n, 3) at positions x, y onto a (3, size, size) grid."""
    img = np.zeros((flux.shape[1], size, size))
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0
    for dx, dy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        xi, yi = x0 + dx, y0 + dy
        ok = (xi >= 0) & (xi < size) & (yi >= 0) & (yi < size)
        flat = yi[ok] * size + xi[ok]
        for b in range(flux.shape[1]):
            img[b].ravel()[:] += np.bincount(flat, weights=w[ok] * flux[ok, b], minlength=size * size)
    return img


def convolve_psf(image, psfs):
    """Convolve each band of (3, y, x) with its PSF (same shape out)."""
    return np.stack([fftconvolve(image[b], psfs[b], mode="same") for b in range(image.shape[0])])


def add_noise(signal, *, rng, sky=True):
    """Poisson (source + sky) and read noise for the stated exposures; e-/s in, e-/s out.

    Returns the noisy image and the per-band variance image [e-/s]^2.
    """
    exptime = EXPTIME[:, None, None]
    level = np.clip(signal, 0, None) + (SKY[:, None, None] if sky else 0)
    counts = rng.poisson(level * exptime).astype(float) - (SKY[:, None, None] * exptime if sky else 0)
    read = rng.normal(0, READ_NOISE * np.sqrt(N_READS), size=signal.shape)
    var = (level * exptime + N_READS * READ_NOISE**2) / exptime**2
    return (counts + read) / exptime, var
