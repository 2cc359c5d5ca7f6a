"""The physically motivated cosmic-ray track simulator."""

import numpy as np
import pytest

from astroclean.errors import AstrocleanValueError
from astroclean.cosmicrays.simulate import KINDS, simulate_cosmic_ray
from astroclean.simulate.common import dilate
from astroclean.cosmicrays.simulate.tracks import MIP_ELECTRONS_PER_UM


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_gives_a_sane_stamp(kind):
    rng = np.random.default_rng(5)
    for _ in range(30):
        st = simulate_cosmic_ray(rng, kind=kind)
        assert st.origin == f"simulated:{kind}" and st.position == (-1, -1)
        assert np.isfinite(st.values).all() and (st.values >= 0).all() and st.peak > 0
        assert np.array_equal(st.footprint, dilate(st.values > 0))
        # the stamp is cropped to its footprint
        assert st.footprint[0].any() and st.footprint[-1].any()
        assert st.footprint[:, 0].any() and st.footprint[:, -1].any()


def test_straight_track_length_and_charge():
    rng = np.random.default_rng(2)
    for length, thickness in ((30.0, 100.0), (60.0, 250.0)):
        st = simulate_cosmic_ray(rng, kind="track", length=length, thickness=thickness, diffusion=0.2)
        rows, cols = np.nonzero(st.values > 0.02 * st.peak)
        extent = np.hypot(np.ptp(rows), np.ptp(cols))
        assert length - 2 <= extent <= length + 3
        path_um = np.hypot(length * 15.0, thickness)
        # Moyal multiplier: mode 1, mean ~1 + 0.2 * 1.27, long tail
        assert 0.9 < st.total / (MIP_ELECTRONS_PER_UM * path_um) < 2.0


def test_edges_are_sharp_without_diffusion():
    st = simulate_cosmic_ray(np.random.default_rng(3), kind="dot", length=0.0, diffusion=0.0)
    assert st.n_core <= 2
    soft = simulate_cosmic_ray(np.random.default_rng(3), kind="dot", length=0.0, diffusion=0.45, thickness=200.0)
    assert soft.n_core >= st.n_core


def test_charge_fluctuates_along_tracks():
    st = simulate_cosmic_ray(np.random.default_rng(9), kind="track", length=80.0, thickness=40.0, diffusion=0.0)
    along = st.values[st.values > 0]
    assert along.std() / along.mean() > 0.1          # Landau-like, not a flat ribbon


def test_reproducible_and_seed_dependent():
    a = simulate_cosmic_ray(np.random.default_rng(11))
    b = simulate_cosmic_ray(np.random.default_rng(11))
    c = simulate_cosmic_ray(np.random.default_rng(12))
    assert np.array_equal(a.values, b.values) and a.origin == b.origin
    assert not (a.values.shape == c.values.shape and np.array_equal(a.values, c.values))


def test_validation():
    with pytest.raises(AstrocleanValueError):
        simulate_cosmic_ray(0, kind="muon")
    with pytest.raises(ValueError):
        simulate_cosmic_ray(0, kind="track", length=500.0)
    with pytest.raises(ValueError):
        simulate_cosmic_ray(0, thickness=-1.0)
    with pytest.raises(ValueError):
        simulate_cosmic_ray("seed")
