"""Photometry tables, IMF and extinction sanity (vendored tables only; no data folder needed)."""

import numpy as np
import pytest

from astroclean.clusters.stellar import ccm89, kroupa_inverse_cdf, kroupa_number_and_mass, sample_kroupa
from astroclean.clusters.tables import BANDS, ssp_magnitudes, tables


def _star(teff, logg, mh=0.0):
    t = tables().raw
    i = int(np.argmin(np.abs(t["ck04_teff"] - teff)))
    j = int(np.argmin(np.abs(t["ck04_logg"] - logg)))
    k = int(np.argmin(np.abs(t["ck04_mh"] - mh)))
    return t["ck04_mag_lsun"][k, i, j].astype(float)


def test_bands_and_zeropoints_match_stsci_within_0p1_mag():
    t = tables()
    assert t.bands == BANDS
    # STScI UVIS1 Vega zero points (count rate 1 e-/s): F336W 23.46, F438W 24.98, F814W 24.67
    assert np.allclose(t.zeropoint, [23.46, 24.98, 24.67], atol=0.1)
    assert np.allclose(t.pivot, [3355, 4325, 8040], rtol=0.01)


def test_a0v_star_has_vega_colours_near_zero():
    m = _star(9750, 4.0)
    assert abs(m[0] - m[1]) < 0.15 and abs(m[1] - m[2]) < 0.15


def test_sun_absolute_f814w_magnitude():
    m = _star(5750, 4.5)           # 1 Lsun star at the Sun's temperature
    assert 3.8 < m[2] < 4.4         # M_I(Sun) ~ 4.1 Vega
    assert m[1] - m[2] > 0.6        # the Sun is redder than Vega


def test_extinction_law_and_coefficients():
    assert ccm89(np.array([5495.0]))[0] == pytest.approx(1.0, abs=0.02)
    k = tables().raw["iso_k_av1"]
    assert np.all(k[:, 0] > k[:, 1]) and np.all(k[:, 1] > k[:, 2])      # bluer bands extinguished more
    assert 1.4 < np.median(k[:, 0]) < 1.8 and 0.5 < np.median(k[:, 2]) < 0.7


def test_ssp_reddens_with_age_and_fades():
    young, old = ssp_magnitudes(6.5, 0.0), ssp_magnitudes(9.0, 0.0)
    assert (young[1] - young[2]) < (old[1] - old[2])
    assert np.all(old > young)
    reddened = ssp_magnitudes(7.0, 1.0) - ssp_magnitudes(7.0, 0.0)
    assert reddened[0] > reddened[1] > reddened[2] > 0


def test_kroupa_sampling_total_mass_and_range(rng):
    masses = sample_kroupa(5e3, rng=rng)
    assert abs(masses.sum() / 5e3 - 1) < 0.01
    assert masses.min() >= 0.08 and masses.max() <= 120
    n, m = kroupa_number_and_mass(0.08, 120)
    assert m == pytest.approx(1.0)
    u = np.linspace(0, 1, 11)
    assert np.all(np.diff(kroupa_inverse_cdf(u)) > 0)
    # mean stellar mass of a Kroupa IMF from 0.08 to 120 Msun is ~0.6 Msun
    assert 0.4 < 1 / n < 0.8
