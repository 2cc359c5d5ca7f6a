"""Simulator: truth, priors, reproducibility, populations (PSFs and backgrounds need the data folder)."""

import numpy as np
import pytest

from astroclean.clusters.simulate import PRIORS, draw_population, expected_flux, make_mock, make_set
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
            assert lo <= truth[key] <= hi, key
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
