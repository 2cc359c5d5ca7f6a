"""Aperture photometry of removed sources (astroclean.sources.photometry) with a Gaussian stand-in PSF."""

from dataclasses import dataclass

import numpy as np
import pytest

from astroclean.errors import AstrocleanValueError
from astroclean.photometry import aperture_flux
from astroclean.sources.photometry import DEFAULT_RADII, measure_sources, radius_label


@dataclass(frozen=True)
class GaussianPsf:
    """The attributes of astroclean.simulate's Psf, for a circular Gaussian (EE measured like the real one)."""

    array: np.ndarray
    pixel_scale_arcsec: float
    fwhm_pixels: float
    ee_radii: np.ndarray
    ee_values: np.ndarray

    @classmethod
    def make(cls, fwhm=3.5, half=30, pixel_scale=1.6):
        yy, xx = np.mgrid[-half:half + 1, -half:half + 1]
        s = fwhm / 2.3548
        array = np.exp(-(xx**2 + yy**2) / (2 * s * s))
        array /= array.sum()
        radii = np.arange(0.25, half, 0.25)
        ee, _ = aperture_flux(array, np.full(radii.size, half), np.full(radii.size, half), radii, subsample=10)
        return cls(array, pixel_scale, fwhm, radii, ee)

    def encircled_energy(self, radius_pixels):
        return np.interp(radius_pixels, np.r_[0.0, self.ee_radii], np.r_[0.0, self.ee_values], right=1.0)


def stamp_sources(shape, x, y, flux, psf):
    """Sum of PSFs (shifted by Fourier phase, exact sub-pixel positions) scaled to ``flux``."""
    image = np.zeros(shape)
    half = psf.array.shape[0] // 2
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    s = psf.fwhm_pixels / 2.3548
    for xi, yi, fi in zip(x, y, flux):
        near = (np.abs(xx - xi) <= half) & (np.abs(yy - yi) <= half)
        image[near] += fi * np.exp(-((xx[near] - xi) ** 2 + (yy[near] - yi) ** 2) / (2 * s * s)) / (2 * np.pi * s * s)
    return image


@pytest.fixture(scope="module")
def psf():
    return GaussianPsf.make()


@pytest.fixture(scope="module")
def field(psf):
    rng = np.random.default_rng(5)
    shape = (240, 240)
    gx, gy = np.meshgrid(np.arange(40, 201, 40.0), np.arange(40, 201, 40.0))
    x = gx.ravel() + rng.uniform(-0.5, 0.5, gx.size)
    y = gy.ravel() + rng.uniform(-0.5, 0.5, gx.size)
    flux = rng.uniform(0.5, 2.0, x.size)
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    background = 0.3 + 1e-4 * xx - 5e-5 * yy  # a gentle slope: the annulus median follows it
    sigma = 0.002
    noise = rng.normal(0, sigma, shape)
    image = background + stamp_sources(shape, x, y, flux, psf) + noise
    return image, background, x, y, flux, sigma


def test_fluxes_match_injected_with_the_true_background(psf, field):
    image, background, x, y, flux, sigma = field
    table = measure_sources(image, background, x, y, psf=psf, error=sigma)
    assert list(table["flag"]) == ["ok"] * len(x)
    for r in DEFAULT_RADII:
        lab = radius_label(r)
        pull = (table[f"flux_{lab}"] - flux) / table[f"flux_err_{lab}"]
        assert abs(np.median(table[f"flux_{lab}"] / flux) - 1) < 0.01
        assert 0.6 < np.std(pull) < 1.5  # the errors describe the scatter
        assert np.all(table[f"ee_{lab}"] == pytest.approx(psf.encircled_energy(r)))
    # reference radius: the largest at most 2.5 FWHM (8 of 4, 6, 8, 12 for a 3.5 px FWHM)
    assert table.meta["reference_radius"] == 8.0
    assert np.array_equal(table["flux"], table["flux_r8"])


def test_annulus_method_recovers_flux_on_a_sloped_background(psf, field):
    image, background, x, y, flux, sigma = field
    table = measure_sources(image, background, x, y, psf=psf, error=sigma, annulus=(15, 19))
    ratio = table["flux_annulus"] / flux
    assert abs(np.median(ratio) - 1) < 0.01
    # the annulus term widens its error beyond the aperture-only error
    assert np.all(table["flux_annulus_err"] > table["flux_err"])
    assert np.allclose(table["annulus_median"], 0.3 + 1e-4 * x - 5e-5 * y, atol=3 * sigma / np.sqrt(100))


def test_error_from_annulus_std_without_error_plane(psf, field):
    image, background, x, y, flux, sigma = field
    table = measure_sources(image, background, x, y, psf=psf, radii=(6,), annulus=(15, 19))
    area = np.pi * 36
    expected = sigma * np.sqrt(area) / psf.encircled_energy(6.0)
    # the annulus std is the pixel noise (plus the slope's spread, ~1e-3 here: added in quadrature)
    assert np.median(table["flux_err_r6"]) == pytest.approx(expected * np.hypot(1, 0.0005 / sigma), rel=0.15)
    assert table.meta["error_source"] == "annulus std"


def test_hole_truncation_uses_ee_at_the_mask_radius(psf):
    shape = (80, 80)
    source = stamp_sources(shape, [40.3], [39.8], [1.5], psf)
    yy, xx = np.mgrid[:80, :80]
    hole = np.hypot(xx - 40.3, yy - 39.8) <= 3.0
    sky = np.full(shape, 0.1)
    image = sky + source
    predicted = np.where(hole, sky, image)  # the wings beyond the hole stay in the "background"
    table = measure_sources(image, predicted, [40.3], [39.8], psf=psf, mask_radius=[3.0], error=1e-3,
                            annulus=(20, 25), subsample=15)
    for r in DEFAULT_RADII:
        lab = radius_label(r)
        assert table[f"ee_{lab}"][0] == pytest.approx(psf.encircled_energy(min(r, 3.0)))
        assert table[f"flux_{lab}"][0] == pytest.approx(1.5, rel=0.03)  # the pixelated hole is not a circle
    exact = measure_sources(image, predicted, [40.3], [39.8], psf=psf, hole=hole, error=1e-3, annulus=(20, 25))
    for r in DEFAULT_RADII:
        assert exact[f"flux_{radius_label(r)}"][0] == pytest.approx(1.5, rel=0.002)
    wrong = measure_sources(image, predicted, [40.3], [39.8], psf=psf, error=1e-3, annulus=(20, 25))
    assert wrong["flux_r12"][0] < 1.35  # without mask_radius the truncated wings are missed


def test_flags_and_skipped_rows(psf):
    rng = np.random.default_rng(0)
    image = rng.normal(0, 0.01, (100, 100))
    image[60, 60] = np.nan
    bkg = np.zeros_like(image)
    keep_image, keep_bkg = image.copy(), bkg.copy()
    x = np.array([5.0, 60.0, 50.0, 30.0, np.nan])
    y = np.array([5.0, 58.0, 50.0, 30.0, 20.0])
    status = np.array(["ok", "ok", "skipped: duplicate of source 0", "ok", "ok"])
    table = measure_sources(image, bkg, x, y, psf=psf, status=status, ids=np.arange(10, 15), annulus=(15, 20))
    assert np.array_equal(image, keep_image, equal_nan=True) and np.array_equal(bkg, keep_bkg)
    flags = list(table["flag"])
    assert flags[0].startswith("near edge") and "annulus near edge" in flags[0]
    assert np.isnan(table["flux_r12"][0]) and np.isfinite(table["flux_r4"][0])
    assert flags[1] == "NaN in aperture" and np.isnan(table["flux_r4"][1])
    assert flags[2] == "skipped: duplicate of source 0" and np.isnan(table["flux_r4"][2])
    assert flags[3] == "ok"
    assert flags[4] == "skipped: NaN coordinates"
    assert table["id"].tolist() == [10, 11, 12, 13, 14]
    bad = np.pad(np.ones((3, 3), bool), ((29, 68), (29, 68)))
    masked = measure_sources(image, bkg, [30.0], [30.0], psf=psf, mask=bad)
    assert masked["flag"][0] == "NaN in aperture"


def test_radii_in_arcsec_wcs_columns_and_validation(psf):
    from astropy.wcs import WCS

    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [269.15, 51.49]
    wcs.wcs.crpix = [50, 50]
    wcs.wcs.cdelt = [-1.6 / 3600, 1.6 / 3600]
    image = np.zeros((100, 100))
    table = measure_sources(image, image, [49.0], [49.0], psf=psf, radii_arcsec=(6.4, 10.4), wcs=wcs,
                            error=0.1, snr=[7.0], mask_radius=[6])
    assert "flux_r4" in table.colnames and "flux_r6p5" in table.colnames
    assert table["ra"][0] == pytest.approx(269.15) and table["dec"][0] == pytest.approx(51.49)
    assert table["snr"][0] == 7.0 and table["mask_radius"][0] == 6.0
    wcs.wcs.cdelt = [-3.2 / 3600, 3.2 / 3600]
    with pytest.raises(AstrocleanValueError, match="arcsec/pixel"):
        measure_sources(image, image, [49.0], [49.0], psf=psf, wcs=wcs)
    with pytest.raises(AstrocleanValueError, match="radii"):
        measure_sources(image, image, [49.0], [49.0], psf=psf, radii=(0, 3))
    with pytest.raises(AstrocleanValueError, match="annulus"):
        measure_sources(image, image, [49.0], [49.0], psf=psf, annulus=(10, 5))
    with pytest.raises(AstrocleanValueError, match="one value per source"):
        measure_sources(image, image, [49.0], [49.0], psf=psf, snr=[1.0, 2.0])
    with pytest.raises(AstrocleanValueError, match="reference_radius"):
        measure_sources(image, image, [49.0], [49.0], psf=psf, reference_radius=5.0)
    with pytest.raises(AstrocleanValueError, match="shape"):
        measure_sources(image, image[:50], [49.0], [49.0], psf=psf)


def test_psf_normalised_to_the_total_flux(psf):
    """A stamp holding only 90 % of 1 Jy (the rest beyond it): fluxes are total fluxes, with and without the hole."""
    partial = GaussianPsf(psf.array * 0.9, psf.pixel_scale_arcsec, psf.fwhm_pixels, psf.ee_radii, psf.ee_values * 0.9)
    shape = (80, 80)
    image = 0.9 * stamp_sources(shape, [40.2], [39.6], [2.0], psf)  # what a 2 Jy source leaves in the map
    yy, xx = np.mgrid[:80, :80]
    hole = np.hypot(xx - 40.2, yy - 39.6) <= 4.0
    predicted = np.where(hole, 0.0, image)
    table = measure_sources(image, predicted, [40.2], [39.6], psf=partial, hole=hole, error=1e-3, annulus=(20, 25))
    assert table["flux_r8"][0] == pytest.approx(2.0, rel=0.002)
    assert table["flux_annulus"][0] == pytest.approx(2.0, rel=0.002)
