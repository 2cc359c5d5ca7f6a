"""Real Herschel/PACS point-spread functions cut from maps of the calibrator gamma Dra.

Three bands: ``"blue"`` (70 um, obsid 1342217404 blue camera), ``"green"``
(100 um, obsid 1342216069 blue camera) and ``"red"`` (160 um, the mean of
the red-camera maps of both observations). All are level-2 scan maps
(20"/s, the SPG high-pass-filtered products) at 1.6"/px (blue, green) and
3.2"/px (red), in Jy/pixel.

How a stamp is made (:func:`extract_psf`, run once by
``scripts/build_far_ir_data.py``; the stamps ship as package data):

1. the local background (median of the covered pixels in an outer ring of
   the stamp) is subtracted; uncovered pixels are set to 0;
2. the centre is found by a least-squares elliptical Gaussian fit to the
   11 x 11 core and the map is shifted (cubic spline) to put it on the
   central pixel;
3. noise control: beyond the core (where the profile falls below 2 % of the
   peak) the pixels blend within 3 px into a Gaussian-smoothed copy
   (sigma 1.5 px, which keeps the tri-lobe wing structure but cuts the
   pixel noise ~5x); the stamp is then tapered (cos^2) to 0 between the
   radius enclosing 99.5 % of the flux and 6 px further, and clipped at 0
   (negative pixels are noise or high-pass-filter residue);
4. normalised so that a 1 Jy source is represented: the stamp sums to the
   fraction of gamma Dra's calibration flux (:data:`GAMMA_DRA_MJY`) that the
   level-2 map holds within the stamp radius (``Psf.flux_fraction``, 0.87-0.90:
   the high-pass filter and the wings beyond ~50" take the rest). This is how
   the PACS team normalises its encircled-energy curves (by the stellar model
   fluxes of the calibrators, Balog et al. 2014); it makes aperture
   corrections total fluxes, and injected sources as deep as real ones.

The FWHM is the effective one, ``2 sqrt(A / pi)`` with ``A`` the area above
half maximum of an x8 cubic-spline upsampling. The encircled energy is
measured with :func:`astroclean.metrics.photometry.aperture_flux` (sub-pixel
weights), relative to the calibrated total flux: it levels off at
``flux_fraction`` at the stamp's edge (the HPF maps have no wings beyond).

Example
-------
>>> from astroclean.instruments.pacs import load_pacs_psf
>>> psf = load_pacs_psf("blue")
>>> bool(0.8 < psf.array.sum() == psf.flux_fraction <= 1.0), psf.array.shape[0] % 2
(True, 1)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage as ndi

from astroclean.photometry import encircled_energy
from astroclean.errors import AstrocleanFileError, AstrocleanKeyError, AstrocleanValueError
from astroclean.simulate.common import PACKAGE_DATA

__all__ = ["Psf", "BANDS", "load_pacs_psf", "extract_psf", "measure_fwhm",
           "transform_psf", "resample_psf", "PSF_DIR", "GAMMA_DRA_MJY"]

BANDS = ("blue", "green", "red")
#: Calibration fluxes of gamma Dra in the PACS bands (mJy), the reference of the PSF normalisation.
GAMMA_DRA_MJY = {"blue": 3283.0, "green": 1604.0, "red": 621.0}
PSF_DIR = PACKAGE_DATA / "far_infrared"


@dataclass(frozen=True)
class Psf:
    """A PSF stamp of a 1 Jy source with its FWHM and encircled-energy curve.

    Attributes
    ----------
    array : ndarray (odd, odd) float64
        Sums to :attr:`flux_fraction` (<= 1): the part of a 1 Jy source's flux
        that a level-2 map holds within the stamp.
    pixel_scale_arcsec : float
    fwhm_pixels : float
    ee_radii, ee_values : ndarray
        Encircled energy sampled at these radii (pixels).
    band : str
    meta : dict
    """

    array: np.ndarray
    pixel_scale_arcsec: float
    fwhm_pixels: float
    ee_radii: np.ndarray
    ee_values: np.ndarray
    band: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def fwhm_arcsec(self) -> float:
        return self.fwhm_pixels * self.pixel_scale_arcsec

    @property
    def flux_fraction(self) -> float:
        """Fraction of the total (calibrated) flux inside the stamp."""
        return float(self.array.sum())

    def encircled_energy(self, radius_pixels):
        """Fraction of the total flux within ``radius_pixels`` of the centre (interpolated; flat beyond the stamp)."""
        r = np.asarray(radius_pixels, dtype=np.float64)
        return np.interp(r, np.r_[0.0, self.ee_radii], np.r_[0.0, self.ee_values], right=self.ee_values[-1])


def measure_fwhm(stamp, *, upsample: int = 8) -> float:
    """Effective FWHM in pixels: ``2 sqrt(A / pi)``, ``A`` the area above half maximum (cubic upsampling)."""
    stamp = np.asarray(stamp, dtype=np.float64)
    c = stamp.shape[0] // 2
    core = stamp[max(0, c - 8):c + 9, max(0, c - 8):c + 9]
    up = ndi.zoom(core, upsample, order=3)
    lab, _ = ndi.label(up >= 0.5 * up.max())
    peak_label = lab[np.unravel_index(np.argmax(up), up.shape)]
    area = np.sum(lab == peak_label) / upsample ** 2
    return float(2.0 * np.sqrt(area / np.pi))


def _gauss_centre(stamp):
    from scipy import optimize

    c = stamp.shape[0] // 2
    h = 5
    sub = stamp[c - h:c + h + 1, c - h:c + h + 1]
    yy, xx = np.mgrid[-h:h + 1, -h:h + 1].astype(np.float64)

    def model(p):
        a, y0, x0, sy, sx, th, b = p
        ct, st = np.cos(th), np.sin(th)
        u = (xx - x0) * ct + (yy - y0) * st
        v = -(xx - x0) * st + (yy - y0) * ct
        return a * np.exp(-0.5 * (u ** 2 / sx ** 2 + v ** 2 / sy ** 2)) + b

    fit = optimize.least_squares(lambda p: (model(p) - sub).ravel(), [sub.max(), 0, 0, 1.5, 1.5, 0, 0])
    return float(fit.x[1]), float(fit.x[2])


def extract_psf(image, coverage, *, half_size: int, min_coverage: float = 0.3, normalise: bool = True) -> np.ndarray:
    """Background-subtracted, centred, de-noised, tapered PSF stamp around the brightest source.

    Parameters
    ----------
    image : array_like (y, x)
        A map of an isolated bright point source (Jy/pixel).
    coverage : array_like (y, x)
        Its coverage plane; pixels below ``min_coverage`` x the maximum are
        ignored.
    half_size : int
        The stamp is ``2 * half_size + 1`` square.
    normalise : bool
        Scale to sum 1; otherwise keep the map's units (the stamp's sum is
        then the source's flux within the stamp).

    Returns
    -------
    ndarray (2 half_size + 1, 2 half_size + 1) float64
    """
    image = np.asarray(image, dtype=np.float64)
    good = np.asarray(coverage, dtype=np.float64) > min_coverage * np.nanmax(coverage)
    good &= np.isfinite(image)
    iy, ix = np.unravel_index(np.argmax(np.where(good, image, -np.inf)), image.shape)
    pad = half_size + 4
    if iy < pad or ix < pad or iy + pad >= image.shape[0] or ix + pad >= image.shape[1]:
        raise AstrocleanValueError(f"the brightest pixel ({iy}, {ix}) is within {pad} px of the map edge; "
                                   "use a smaller half_size")
    big = image[iy - pad:iy + pad + 1, ix - pad:ix + pad + 1].copy()
    ok = good[iy - pad:iy + pad + 1, ix - pad:ix + pad + 1]
    yy, xx = np.mgrid[-pad:pad + 1, -pad:pad + 1]
    r = np.hypot(yy, xx)
    ring = ok & (r > half_size - 6) & (r <= half_size)
    big = np.where(ok, big - np.median(big[ring]), 0.0)
    dy, dx = _gauss_centre(big)
    big = ndi.shift(big, (-dy, -dx), order=3, mode="constant")
    stamp = big[4:-4, 4:-4]
    r = r[4:-4, 4:-4]
    peak = stamp[half_size, half_size]
    prof = np.array([stamp[(r >= k) & (r < k + 1)].mean() for k in range(half_size)])
    r_core = float(np.argmax(prof < 0.02 * peak))
    w = np.clip(1.0 - (r - r_core) / 3.0, 0.0, 1.0)
    stamp = w * stamp + (1.0 - w) * ndi.gaussian_filter(stamp, 1.5, mode="constant")
    ee = np.cumsum([stamp[(r >= k) & (r < k + 1)].sum() for k in range(half_size + 1)]) / stamp.sum()
    r1 = float(np.argmax(ee >= 0.995)) + 1.0
    r1 = min(r1, half_size - 6.0)
    taper = np.where(r <= r1, 1.0, np.cos(0.5 * np.pi * np.clip((r - r1) / 6.0, 0.0, 1.0)) ** 2)
    stamp = np.clip(stamp * taper, 0.0, None)      # negative values are noise or high-pass-filter residue
    return stamp / stamp.sum() if normalise else stamp


def make_psf(stamp, *, pixel_scale_arcsec: float, band: str = "", meta=None, flux_fraction: float = 1.0) -> Psf:
    """A :class:`Psf` from a stamp: normalises it to sum ``flux_fraction`` and measures FWHM and encircled energy."""
    stamp = np.asarray(stamp, dtype=np.float64)
    if stamp.ndim != 2 or stamp.shape[0] != stamp.shape[1] or stamp.shape[0] % 2 == 0:
        raise AstrocleanValueError(f"a PSF stamp must be square with an odd side, got shape {stamp.shape}")
    if not 0 < flux_fraction <= 1:
        raise AstrocleanValueError(f"flux_fraction must be in (0, 1], got {flux_fraction}")
    stamp = stamp / stamp.sum() * flux_fraction
    radii = np.arange(0.5, stamp.shape[0] // 2 + 0.01, 0.5)
    return Psf(array=stamp, pixel_scale_arcsec=float(pixel_scale_arcsec), fwhm_pixels=measure_fwhm(stamp),
               ee_radii=radii, ee_values=encircled_energy(stamp, radii) * flux_fraction, band=band,
               meta=dict(meta or {}))


def load_pacs_psf(band: str = "blue", *, pixel_scale_arcsec: float | None = None) -> Psf:
    """The shipped PACS PSF of ``band`` (see the module notes), optionally resampled.

    Parameters
    ----------
    band : {"blue", "green", "red"}
    pixel_scale_arcsec : float, optional
        Resample to this pixel scale (e.g. 1.0 for chop-nod point-source
        maps) with :func:`resample_psf`.

    Returns
    -------
    Psf

    Raises
    ------
    AstrocleanKeyError
        Unknown band.
    AstrocleanFileError
        The package data are missing (rebuild with ``scripts/build_far_ir_data.py``).

    Example
    -------
    >>> psf = load_pacs_psf("red")
    >>> 10.0 < psf.fwhm_arcsec < 12.5, bool(abs(psf.encircled_energy(100.0) - psf.flux_fraction) < 0.01)
    (True, True)
    """
    from astroclean.io.npz import load_npz

    if band not in BANDS:
        raise AstrocleanKeyError(f"unknown band {band!r}; choose one of {', '.join(BANDS)}")
    path = PSF_DIR / f"pacs_psf_{band}.npz"
    if not path.is_file():
        raise AstrocleanFileError(f"PSF file {path} is missing; rebuild it with "
                                  "`python scripts/build_far_ir_data.py --data-dir DATA_DIR`")
    a = load_npz(path)
    psf = Psf(array=a["array"].astype(np.float64), pixel_scale_arcsec=float(a["pixel_scale_arcsec"]),
              fwhm_pixels=float(a["fwhm_pixels"]), ee_radii=a["ee_radii"], ee_values=a["ee_values"], band=band,
              meta=json.loads(str(a["meta"])))
    if pixel_scale_arcsec is not None and not np.isclose(pixel_scale_arcsec, psf.pixel_scale_arcsec):
        psf = resample_psf(psf, pixel_scale_arcsec)
    return psf


def resample_psf(psf: Psf, pixel_scale_arcsec: float) -> Psf:
    """The PSF on another pixel grid (cubic spline zoom about the centre, the same flux fraction)."""
    if not pixel_scale_arcsec > 0:
        raise AstrocleanValueError(f"pixel_scale_arcsec must be > 0, got {pixel_scale_arcsec}")
    factor = psf.pixel_scale_arcsec / pixel_scale_arcsec
    half = int(np.ceil((psf.array.shape[0] // 2) * factor))
    n = 2 * half + 1
    c_in = psf.array.shape[0] // 2
    coords = (np.arange(n) - half) / factor + c_in
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    out = np.clip(ndi.map_coordinates(psf.array, [yy, xx], order=3, mode="constant"), 0.0, None)
    meta = {**psf.meta, "resampled_from_arcsec": psf.pixel_scale_arcsec}
    return make_psf(out, pixel_scale_arcsec=pixel_scale_arcsec, band=psf.band, meta=meta,
                    flux_fraction=psf.flux_fraction)


def transform_psf(stamp, *, angle: float = 0.0, shift=(0.0, 0.0), normalise: bool = True) -> np.ndarray:
    """Rotate ``stamp`` by ``angle`` degrees about its centre and shift it by ``(dy, dx)`` pixels.

    One cubic-spline resampling (``scipy.ndimage.affine_transform``). The
    stamp's wings must be ~0 at its border (true of the shipped PSFs), so
    the sum is kept to ~1e-4; ``normalise`` then makes it exact.

    Example
    -------
    >>> psf = load_pacs_psf("blue")
    >>> out = transform_psf(psf.array, angle=33.0, shift=(0.3, -0.4), normalise=False)
    >>> bool(abs(out.sum() - psf.array.sum()) < 1e-3)
    True
    """
    stamp = np.asarray(stamp, dtype=np.float64)
    c = (np.asarray(stamp.shape, dtype=np.float64) - 1) / 2.0
    t = np.deg2rad(angle)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    # output pixel o samples input at rot @ (o - c - shift) + c
    offset = c - rot @ (c + np.asarray(shift, dtype=np.float64))
    out = ndi.affine_transform(stamp, rot, offset=offset, order=3, mode="constant", prefilter=True)
    if normalise:
        out = out * (stamp.sum() / out.sum())
    return out
