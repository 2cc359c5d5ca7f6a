"""astroclean.background: the one background and noise estimator."""

import numpy as np
import pytest

from astroclean.background import MAD_TO_SIGMA, background_and_noise, noise_map, robust_sigma
from astroclean.errors import AstrocleanValueError


def gaussian(shape, x0, y0, flux, sigma):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return flux * np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * sigma**2)) / (2 * np.pi * sigma**2)


def test_flat_sky_with_stars_and_nan(rng):
    image = 100 + rng.normal(0, 5, (200, 300))
    for x, y in [(50, 50), (150, 120), (250, 60)]:
        image += gaussian(image.shape, x, y, 5e5, 2.0)
    image[10:20, 10:20] = np.nan
    before = image.copy()
    bkg, rms = background_and_noise(image, box=50, filter_size=3)
    np.testing.assert_array_equal(before, image)  # input untouched
    assert np.all(np.abs(bkg - 100) < 1.0)  # stars clipped away, NaN ignored
    assert np.all(np.abs(rms - 5) < 0.5)


def test_gradient_interior_follows_the_ramp():
    yy, xx = np.mgrid[:256, :256]
    image = (10 + 0.1 * xx + 0.05 * yy).astype(np.float32)
    bkg, _ = background_and_noise(image, box=32)
    inner = (slice(16, 240), slice(16, 240))
    np.testing.assert_allclose(bkg[inner], image[inner], atol=0.1)


def test_masked_blob_is_filled_from_neighbours(rng):
    image = 50 + rng.normal(0, 2, (128, 128)).astype(np.float32)
    mask = np.zeros(image.shape, bool)
    image[:64, :64] = 1e6
    mask[:64, :64] = True
    bkg, rms = background_and_noise(image, mask, box=32)
    assert bkg.dtype == np.float32 and rms.dtype == np.float32
    assert np.all(np.abs(bkg - 50) < 0.5) and np.all(np.abs(rms - 2) < 0.3)


def test_quantised_integers_get_a_non_zero_noise(rng):
    image = (20 + rng.normal(0, 0.3, (64, 64))).round().astype(np.int16)  # > 50 % of pixels equal: MAD = 0
    _, rms = background_and_noise(image, box=32)
    assert np.all((rms > 0.2) & (rms < 0.4))


def test_residual_noise_ignores_structure_and_sees_correlation(rng):
    from scipy import ndimage

    image = rng.normal(0, 5, (256, 256))
    for k in range(12):  # galaxies in a third of the cells: the plain MAD there sees them
        image += gaussian(image.shape, 20 + 20 * k, 30 + 15 * (k % 5), 2e5, 6.0)
    assert abs(np.median(noise_map(image)) - 5) < 0.5
    assert np.max(background_and_noise(image, box=32)[1]) > 1.3 * np.max(noise_map(image))
    correlated = 3 * ndimage.uniform_filter(rng.normal(0, 5, (256, 256)), 3)  # sigma 5, correlated
    assert abs(np.median(noise_map(correlated)) - 5) < 0.5


def test_bad_options_are_refused():
    with pytest.raises(AstrocleanValueError, match="filter_size"):
        background_and_noise(np.zeros((8, 8)), filter_size=0)


def test_robust_sigma_scalar_and_axis(rng):
    values = rng.normal(0, 3, 100_000)
    assert abs(robust_sigma(values) - 3) < 0.05
    assert np.isnan(robust_sigma(np.array([np.nan])))
    rows = np.array([[1.0, 2.0, 3.0, np.nan], [5.0, 5.0, 5.0, 9.0]])
    np.testing.assert_allclose(robust_sigma(rows, axis=1), [MAD_TO_SIGMA, 0.0])
