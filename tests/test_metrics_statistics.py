"""Image statistics: power spectrum and pixel statistics, checked by hand."""

import numpy as np
import pytest

from astroclean.errors import AstrocleanValueError
from astroclean.metrics import pixel_statistics, power_spectrum, radial_frequency


def test_sinusoid_puts_its_power_at_its_frequency():
    ny, nx = 64, 96
    y, x = np.mgrid[:ny, :nx]
    amplitude = 3.0
    image = amplitude * np.cos(2 * np.pi * (12 * x / nx + 8 * y / ny))  # |k| = sqrt(0.125**2 + 0.125**2)
    k, power, counts = power_spectrum(image, return_counts=True)
    peak = int(np.argmax(power))
    assert abs(k[peak] - np.hypot(12 / nx, 8 / ny)) < 1 / 64
    # only two modes (+k, -k) carry power; their total is the variance amplitude**2 / 2 times n_modes (Parseval)
    total = np.nansum(power * counts)
    assert total == pytest.approx(amplitude**2 / 2 * image.size, rel=1e-9)
    assert np.nansum(np.delete(power * counts, peak)) < 1e-9 * total


def test_parseval_mean_power_equals_variance():
    rng = np.random.default_rng(3)
    image = rng.normal(5.0, 1.0, (50, 70)) + np.linspace(0, 3, 70)[None, :]
    # all modes, including the diagonal ones above 0.5: edges cover up to |k| = sqrt(0.5)
    k, power, counts = power_spectrum(image, bins=np.array([0.0, 0.75]), return_counts=True)
    assert counts[0] == image.size - 1  # every mode but k = 0
    assert power[0] * counts[0] / image.size == pytest.approx(image.var(), rel=1e-12)


def test_white_noise_is_flat_at_its_variance():
    rng = np.random.default_rng(7)
    sigma = 0.3
    k, power = power_spectrum(rng.normal(0, sigma, (256, 256)), bins=8)
    assert np.all(np.abs(power / sigma**2 - 1) < 0.08)
    # masked pixels and NaN are weighted out: still flat, at the variance of the valid pixels
    image = rng.normal(0, sigma, (256, 256))
    image[:40, :40] = np.nan
    mask = np.zeros(image.shape, bool)
    mask[200:, 100:150] = True
    image_with_junk = np.where(mask, 1e6, image)
    k2, power2 = power_spectrum(image_with_junk, mask=mask, bins=8, apodise=8)
    assert np.all(np.abs(power2 / sigma**2 - 1) < 0.1)


def test_power_spectrum_inputs_untouched_and_validated():
    image = np.arange(64.0).reshape(8, 8)
    keep = image.copy()
    power_spectrum(image, mask=image > 60, apodise=2)
    assert np.array_equal(image, keep)
    with pytest.raises(AstrocleanValueError, match="bins"):
        power_spectrum(image, bins=0)
    with pytest.raises(AstrocleanValueError, match="edges"):
        power_spectrum(image, bins=[0.3, 0.1])
    with pytest.raises(AstrocleanValueError, match="apodise"):
        power_spectrum(image, apodise=-1)
    with pytest.raises(AstrocleanValueError, match="no valid pixel"):
        power_spectrum(np.full((8, 8), np.nan))
    with pytest.raises(AstrocleanValueError, match="2-D"):
        power_spectrum(np.ones(8))


def test_radial_frequency_units():
    k = radial_frequency((8, 10))
    assert k[0, 0] == 0 and k[0, 1] == pytest.approx(0.1) and k[1, 0] == pytest.approx(0.125)
    assert k.max() == pytest.approx(np.hypot(0.5, 0.5))


def test_pixel_statistics_by_hand():
    s = pixel_statistics([1.0, 2.0, 3.0, 10.0, np.inf, np.nan])
    assert s["n"] == 4
    assert s["mean"] == 4.0 and s["median"] == 2.5
    assert s["std"] == pytest.approx(np.sqrt((9 + 4 + 1 + 36) / 4))
    assert s["mad"] == 1.0  # |v - 2.5| = 1.5, 0.5, 0.5, 7.5 -> median 1.0
    assert s["iqr"] == pytest.approx(np.percentile([1, 2, 3, 10], 75) - np.percentile([1, 2, 3, 10], 25))
    m2, m3 = 50 / 4, ((-3) ** 3 + (-2) ** 3 + (-1) ** 3 + 6**3) / 4
    assert s["skewness"] == pytest.approx(m3 / m2**1.5)
    assert s["skewness"] > 0  # a long right tail


def test_pixel_statistics_symmetric_sample_has_no_skew():
    rng = np.random.default_rng(1)
    v = rng.normal(0, 2, 100_000)
    s = pixel_statistics(np.concatenate([v, -v]))  # exactly symmetric
    assert abs(s["skewness"]) < 1e-12 and abs(s["mean"]) < 1e-12
    g = pixel_statistics(rng.normal(0, 2, 200_000))
    assert abs(g["skewness"]) < 0.02
    assert g["mad"] * 1.4826 == pytest.approx(2, rel=0.02) and g["iqr"] == pytest.approx(2 * 1.349, rel=0.02)


def test_pixel_statistics_empty():
    s = pixel_statistics([np.nan])
    assert s["n"] == 0 and np.isnan(s["mean"]) and np.isnan(s["skewness"])
    assert np.isnan(pixel_statistics([2.0, 2.0])["skewness"])
