"""Backgrounds for mock clusters: real HST cutouts and synthetic galaxy discs, split by region.

Real backgrounds (e-/s at 0.04"/px, three planes F336W, F438W, F814W):

* ``uvis``: the WFC3/UVIS Cosmic Horseshoe cutouts. They are F475W, F606W and F814W, so the band
  mapping is F475W -> F336W, F606W -> F438W, F814W -> F814W, each scaled by the ratio of Vega
  count-rate zero points (10**(-0.4 (ZP_from - ZP_to))), i.e. a source of Vega colour (0) keeps
  colour 0. The texture (galaxies, drizzle-correlated noise) is real; colours are not.
* ``cosmos``: the ACS/WFC F814W COSMOS patch (0.03"/px, read as e-/s: its pixel values are
  count rates despite BUNIT), resampled to 0.04"/px (flux conserving), used in all three bands
  with the same zero-point scaling.

Split by region: the left half of each real image (x < width/2) is ``train``, the right half
``test``. Synthetic discs draw from separate seed streams per split.

Synthetic disc (M83-like): diffuse light with a gradient (F814W 19.5-23 mag/arcsec^2, old-population
colours), resolved field stars drawn from PARSEC isochrones of log age 7-10 (surface density
3-300 Msun/pc^2), and a dust screen (smoothed random field, A_V up to 2 mag, CCM89 per band).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from astropy.io import fits
from scipy import ndimage as ndi

from astroclean.simulate.common import resolve_data_dir
from astroclean.clusters.stellar import ccm89
from astroclean.clusters.tables import PC_PER_ARCSEC_M83, tables
from astroclean.clusters.simulate.population import draw_population
from astroclean.clusters.simulate.render import PIXEL_SCALE, convolve_psf, deposit

SPLITS = ("train", "test")


def _zp_scale(zp_from, zp_to):
    return 10 ** (-0.4 * (zp_from - zp_to))


@lru_cache(maxsize=2)
def real_backgrounds(data_dir=None) -> dict:
    """{"uvis": (3, 500, 500), "cosmos": (3, 407, 407)} float32 e-/s on the UVIS pixel."""
    root = resolve_data_dir(data_dir, need="HST backgrounds") / "hst"
    zp = tables().zeropoint
    zbg = tables().zeropoint_bg
    planes = []
    for name, zp_from, zp_to in (("f475w", zbg["F475W"], zp[0]), ("f606w", zbg["F606W"], zp[1]),
                                 ("f814w", zp[2], zp[2])):
        path = root / "wfc3_uvis_cosmic_horseshoe" / f"hst_mos_1020228_wfc3_uvis_{name}_drz_cutout_20asec.fits"
        data = fits.getdata(path, 1).astype(np.float64)
        planes.append(np.nan_to_num(data) * _zp_scale(zp_from, zp_to))
    uvis = np.stack(planes).astype(np.float32)
    acs = fits.getdata(root / "cosmos_acs_f814w_patch.fits").astype(np.float64)
    acs = ndi.zoom(np.nan_to_num(acs), 0.03 / 0.04, order=1) * (0.04 / 0.03) ** 2
    cosmos = np.stack([acs * _zp_scale(zp[2], zp[b]) for b in range(3)]).astype(np.float32)
    return {"uvis": uvis, "cosmos": cosmos}


@lru_cache(maxsize=2)
def aegis_galaxies(data_dir=None) -> list:
    """AEGIS ACS galaxy stamps as (3, y, x) arrays of unit F814W total (F606W used for F336W, F438W)."""
    root = resolve_data_dir(data_dir, need="AEGIS stamps") / "hst"
    out = []
    with fits.open(root / "AEGIS_F606w_images_01.fits") as a, fits.open(root / "AEGIS_F814w_images_01.fits") as b:
        for h606, h814 in zip(a, b):
            g606, g814 = np.nan_to_num(h606.data.astype(float)), np.nan_to_num(h814.data.astype(float))
            if g606.shape != g814.shape:
                continue
            g606, g814 = g606 - np.median(g606), g814 - np.median(g814)
            total = g814.sum()
            if total <= 0:
                continue
            colour = np.clip(g606.sum() / total, 0.1, 10)
            out.append(np.stack([g606 / colour / total, g606 / colour / total, g814 / total]))
    return out


def real_cutout(size, *, split, rng, data_dir=None, center_on_peak=False):
    """A (3, size, size) cutout of a real background from the ``split`` half; with its source name."""
    images = real_backgrounds(data_dir)
    name = ["uvis", "cosmos"][int(rng.uniform() < 0.35)]
    img = images[name]
    _, ny, nx = img.shape
    x_lo, x_hi = (0, nx // 2 - size) if split == "train" else (nx // 2, nx - size)
    if center_on_peak:
        sm = ndi.gaussian_filter(img[2, :, x_lo + size // 2: x_hi + size // 2], 2)
        peaks = np.argwhere((sm == ndi.maximum_filter(sm, 15)) & (sm > np.percentile(sm, 99.5)))
        peaks = peaks[(peaks[:, 0] > size // 2) & (peaks[:, 0] < ny - size // 2)]
        if len(peaks):
            py, px = peaks[rng.integers(len(peaks))]
            y0, x0 = py - size // 2, x_lo + px
            return img[:, y0: y0 + size, x0: x0 + size].astype(float), name
    y0 = rng.integers(0, ny - size)
    x0 = rng.integers(x_lo, x_hi)
    cut = img[:, y0: y0 + size, x0: x0 + size].astype(float)
    k = rng.integers(4)
    return np.rot90(cut, k, axes=(1, 2)).copy(), name


def _band_av():
    lam = tables().pivot
    return ccm89(lam)


def synthetic_disc(size, *, rng, psfs):
    """(3, size, size) e-/s synthetic M83-like disc patch, noise-free, plus a description."""
    zp = tables().zeropoint
    mu814 = rng.uniform(19.5, 23.0)
    colours = np.array([rng.uniform(0.0, 0.8) + rng.uniform(0.9, 1.6), rng.uniform(0.9, 1.6), 0.0])
    mu = mu814 + colours                                   # F336W, F438W, F814W mag/arcsec^2
    per_pix = 10 ** (-0.4 * (mu + 2.5 * np.log10(1 / PIXEL_SCALE**2) - zp))
    yy, xx = np.mgrid[0:size, 0:size] / size - 0.5
    grad = 1 + rng.uniform(-0.6, 0.6) * xx + rng.uniform(-0.6, 0.6) * yy
    img = per_pix[:, None, None] * np.clip(grad, 0.2, None)[None]
    # resolved field stars
    area_pc2 = (size * PIXEL_SCALE * PC_PER_ARCSEC_M83) ** 2
    sigma = 10 ** rng.uniform(np.log10(3), np.log10(300))
    log_age = rng.uniform(7.0, 10.0)
    old = log_age > 8.5
    pop = draw_population(log_age, sigma * area_pc2, a_v=rng.uniform(0, 1), rng=rng,
                          m_cut=None if not old else 0.9 * tables().iso[tables().iso_ages[
                              np.argmin(abs(tables().iso_ages - log_age))]][0].max())
    n = len(pop.star_mass)
    if n:
        stars = deposit(size, rng.uniform(-0.5, size - 0.5, n), rng.uniform(-0.5, size - 0.5, n), pop.star_flux)
        img = img + convolve_psf(stars, psfs)
    img = img + pop.smooth_flux[:, None, None] / size**2
    # dust screen
    a_max = rng.uniform(0, 2.0)
    field = ndi.gaussian_filter(rng.normal(size=(size, size)), rng.uniform(3, 10))
    field = np.clip((field - field.mean()) / (field.std() + 1e-12), 0, None)
    screen = a_max * field / max(field.max(), 1e-12)
    img = img * 10 ** (-0.4 * screen[None] * _band_av()[:, None, None])
    return img, {"disc_mu814": mu814, "field_sigma_msun_pc2": sigma, "field_log_age": log_age,
                 "dust_av_max": a_max}
