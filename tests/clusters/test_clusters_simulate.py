"""Simulator: truth, priors, reproducibility, populations (PSFs and backgrounds need the data folder)."""

import numpy as np
import pytest

from astroclean.clusters.simulate import PRIORS, draw_population, expected_flux, make_mock, make_set
from astroclean.clusters.simulate.render import king_image, king_radius_sample, king_reff_ratio, king_scale
from astroclean.errors import AstrocleanValueError


def test_population_flux_matches_ssp_on_average():
    fluxes = [draw_population(7.5, 1e5, a_v=0.5, rng=s) for s in range(8)]
    total = np.mean([p.star_flux.sum(0) + p.smooth_flux for p in fluxes], axis=0)
    assert np.allclose(total / expected_flux(7.5, 1e5, a_v=0.5), 1, atol=0.1)


def test_population_rejects_bad_input():
    with pytest.raises(AstrocleanValueError, match="log_age"):
        draw_population(11.0, 1e4, rng=0)
    with pytest.raises(AstrocleanValueError, match="mass"):
        draw_population(7.0, -1, rng=0)


def test_make_mock_returns_truth_within_priors(shared_data):
    for seed in range(4):
        image, truth = make_mock(rng=seed, split="test", kind="cluster", data_dir=shared_data)
        assert image.shape == (3, 48, 48) and image.dtype == np.float32 and np.isfinite(image).all()
        assert truth["is_cluster"] == 1
        for key, (lo, hi) in PRIORS.items():
            if key != "concentration":
                assert lo <= truth[key] <= hi, key
        assert truth["profile"] == "eff" and np.isnan(truth["concentration"])
        assert abs(truth["x"] - 23.5) <= 1 and abs(truth["y"] - 23.5) <= 1


def test_make_mock_reproducible_and_negatives(shared_data):
    a, ta = make_mock(rng=7, kind="group", data_dir=shared_data)
    b, tb = make_mock(rng=7, kind="group", data_dir=shared_data)
    assert np.array_equal(a, b) and ta["is_cluster"] == 0 and np.isnan(ta["log_age"])
    with pytest.raises(AstrocleanValueError, match="split"):
        make_mock(rng=0, split="validation", data_dir=shared_data)


def test_make_set_mixes_kinds_and_splits_streams(shared_data):
    x1, t1 = make_set(8, split="train", rng=0, data_dir=shared_data)
    x2, t2 = make_set(8, split="test", rng=0, data_dir=shared_data)
    assert x1.shape == (8, 3, 48, 48)
    assert not np.array_equal(x1, x2)
    assert set(t1) >= {"is_cluster", "log_age", "log_mass", "a_v", "r_eff_arcsec", "r_eff_pc", "snr"}


def _half_light_radius(image, centre):
    yy, xx = np.indices(image.shape)
    r = np.hypot(yy - centre, xx - centre).ravel()
    order = np.argsort(r)
    cum = np.cumsum(image.ravel()[order])
    return r[order][np.searchsorted(cum, 0.5 * cum[-1])]


@pytest.mark.parametrize("concentration", [0.5, 1.0, 1.5, 2.0])
def test_king_profile_half_light_radius_is_r_eff(concentration):
    # the image holds the whole profile (out to r_t = r_c 10^c); r_eff = 10 px so that the pixel grid's
    # discreteness stays below 1 %
    r_eff = 10.0
    size = int(2 * king_scale(r_eff, concentration) * 10**concentration + 21)
    image = king_image(size, r_eff_px=r_eff, concentration=concentration)
    assert image.sum() == pytest.approx(1.0, abs=1e-3)   # unit total
    assert _half_light_radius(image, (size - 1) / 2) == pytest.approx(r_eff, rel=0.015)
    # stars drawn from the same profile: half of them inside r_eff (projected half-number radius)
    radii = king_radius_sample(100_000, king_scale(r_eff, concentration), concentration, np.random.default_rng(0))
    assert np.median(radii) == pytest.approx(r_eff, rel=0.02)
    assert radii.max() <= king_scale(r_eff, concentration) * 10**concentration * (1 + 1e-9)


def test_king_reff_relation_matches_ishape_king30():
    # ishape (Larsen 1999): a King profile with r_t/r_c = 30 has r_eff = 1.48 FWHM; FWHM = 1.945 r_c there
    assert king_reff_ratio(np.log10(30)) == pytest.approx(1.48 * 1.945, rel=0.02)
    assert king_reff_ratio(0.5) < king_reff_ratio(1.0) < king_reff_ratio(2.0)


def test_king_mocks_star_by_star_and_smooth(shared_data):
    image, truth = make_mock(rng=3, split="test", kind="cluster", data_dir=shared_data, profile="king",
                             params={"log_age": 7.0, "log_mass": 5.0, "a_v": 0.3, "r_eff_arcsec": 0.2})
    assert truth["profile"] == "king" and np.isnan(truth["gamma"])
    assert PRIORS["concentration"][0] <= truth["concentration"] <= PRIORS["concentration"][1]
    assert np.isfinite(image).all() and truth["snr"] > 10
    _, tsm = make_mock(rng=3, split="test", kind="cluster", data_dir=shared_data, smooth_light="sampled")
    assert tsm["rendering"] == "sampled" and tsm["profile"] == "eff"
    with pytest.raises(AstrocleanValueError, match="profile"):
        make_mock(rng=0, data_dir=shared_data, profile="sersic")


def test_make_set_king_fraction_and_default_stream(shared_data):
    x0, t0 = make_set(6, split="train", rng=0, data_dir=shared_data)
    x1, t1 = make_set(6, split="train", rng=0, data_dir=shared_data, king_fraction=0.0, smooth_fraction=0.0)
    assert np.array_equal(x0, x1)                          # the fractions at 0 keep the shipped sets' stream
    _, tk = make_set(20, split="train", rng=0, data_dir=shared_data, king_fraction=1.0)
    clusters = tk["is_cluster"] == 1
    assert (tk["profile"][clusters] == "king").all() and np.isfinite(tk["concentration"][clusters]).all()
