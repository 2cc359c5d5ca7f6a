"""Training/benchmark sets: reproducibility, augmentations, truth, and file round trips."""

import time

import numpy as np
import pytest

from astroclean.errors import AstrocleanFileError, AstrocleanValueError
from astroclean.cosmicrays.simulate import make_cosmic_ray_set, read_cosmic_ray_set, write_cosmic_ray_set


@pytest.fixture(scope="module")
def small():
    return make_cosmic_ray_set("ground", "benchmark", n_patches=12, patch_size=48, rng=0)


def test_shapes_dtypes_and_truth(small):
    n, h, w = small.image.shape
    assert (n, h, w) == (12, 48, 48) and len(small) == 12
    assert small.image.dtype == small.variance.dtype == small.snr.dtype == np.float32
    assert small.bad.dtype == small.truth.dtype == bool
    assert not (small.truth & small.bad).any()
    good = ~small.bad
    assert np.allclose(small.snr[good], small.signal[good] / np.sqrt(small.variance[good]), rtol=1e-4, atol=1e-5)
    assert (small.variance[good] > 0).all()
    assert small.truth.any(axis=(1, 2)).all() and (small.n_hits > 0).all()
    assert small.meta["flavour"] == "ground" and small.meta["split"] == "benchmark"
    assert len(small.names) == len(small.gain) == len(small.units) == 12


def test_same_seed_same_arrays(small):
    again = make_cosmic_ray_set("ground", "benchmark", n_patches=12, patch_size=48, rng=0)
    other = make_cosmic_ray_set("ground", "benchmark", n_patches=12, patch_size=48, rng=1)
    for key in ("image", "variance", "bad", "truth", "signal", "snr", "gain", "sky", "scale"):
        assert np.array_equal(getattr(small, key), getattr(again, key), equal_nan=True), key
    assert not np.array_equal(small.image, other.image)


def test_sky_and_gain_augmentation():
    base = make_cosmic_ray_set("space", "benchmark", n_patches=8, patch_size=64, rng=3, star_field_fraction=0,
                               sky_probability=0, gain_probability=0)
    aug = make_cosmic_ray_set("space", "benchmark", n_patches=8, patch_size=64, rng=3, star_field_fraction=0,
                              sky_probability=1, gain_probability=1)
    known = np.isfinite(base.gain)
    assert known.any() and (base.sky == 0).all() and (base.scale == 1).all()
    assert (aug.sky[np.isfinite(aug.gain)] > 0).all() and (aug.scale != 1).all()
    # the variance carries the added sky noise and the rescaling
    for i in np.nonzero(np.isfinite(aug.gain))[0]:
        g = aug.gain[i]
        expected_sky_var = aug.sky[i] / g ** 2
        assert np.median(aug.variance[i]) >= expected_sky_var


def test_star_fields_fill_in():
    s = make_cosmic_ray_set("crowded", "benchmark", n_patches=6, patch_size=32, rng=4, star_field_fraction=1.0)
    assert all(n.startswith("simulated_star_field") for n in s.names)


def test_write_read_roundtrip(small, tmp_path):
    path = tmp_path / "set.npz"
    write_cosmic_ray_set(small, path)
    back = read_cosmic_ray_set(path)
    for key in ("image", "variance", "bad", "truth", "signal", "snr", "names", "units", "gain", "n_hits"):
        a, b = getattr(small, key), getattr(back, key)
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), key
    assert back.meta == small.meta
    with pytest.raises(AstrocleanFileError):
        write_cosmic_ray_set(small, path)
    write_cosmic_ray_set(small, path, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set.npz"]   # no temp file left


def test_validation():
    with pytest.raises(AstrocleanValueError):
        make_cosmic_ray_set("ground", "benchmark", n_patches=0, rng=0)
    with pytest.raises(AstrocleanValueError):
        make_cosmic_ray_set("radio", "benchmark", n_patches=2, rng=0)
    with pytest.raises(AstrocleanValueError):
        make_cosmic_ray_set("ground", "benchmark", n_patches=2, rng=0, density=(0.1, 0.01))
    with pytest.raises(AstrocleanValueError):
        make_cosmic_ray_set("ground", "benchmark", n_patches=2, patch_size=4096, rng=0, star_field_fraction=0)


def test_train_split_from_real_data(shared_data):
    s = make_cosmic_ray_set("space", "train", n_patches=8, patch_size=64, rng=0, data_dir=shared_data)
    assert not any(n.startswith(("aegis_F606w_1", "abell2744_dwarf")) for n in s.names)
    assert s.truth.any()


@pytest.mark.slow
def test_two_thousand_patches_well_under_a_minute(shared_data):
    start = time.perf_counter()
    s = make_cosmic_ray_set("ground", "train", n_patches=2000, patch_size=128, rng=0, data_dir=shared_data)
    assert time.perf_counter() - start < 40 and s.image.shape == (2000, 128, 128)


def test_hits_placed_on_stars_are_positives():
    """``on_stars_probability=1``: every patch with a bright star gets extra hits centred on it (issue 10)."""
    from astroclean.cosmicrays.simulate.inject import bright_star_centres

    kw = dict(n_patches=6, patch_size=64, star_field_fraction=1.0, fwhm_range=(2.0, 3.0), density=0.002)
    placed = make_cosmic_ray_set("crowded", "benchmark", rng=5, on_stars_probability=1.0,
                                 on_stars={"min_peak_rms": 20.0, "spread": 0, "hits_per_star": 3}, **kw)
    assert placed.meta["on_stars"]["hits_per_star"] == 3
    assert make_cosmic_ray_set("crowded", "benchmark", rng=5, **kw).meta["on_stars"] is None
    clean = placed.image - placed.signal
    n_on_star, n_stars = 0, 0
    for i in range(len(placed)):
        centres = bright_star_centres(clean[i], placed.bad[i], min_peak_rms=20.0)
        n_stars += len(centres)
        for y, x in np.round(centres).astype(int):
            n_on_star += bool(placed.truth[i, max(y - 1, 0):y + 2, max(x - 1, 0):x + 2].any())
    assert n_stars > 0 and n_on_star >= 0.8 * n_stars
    assert not (placed.truth & placed.bad).any()


def test_on_stars_fraction_leaves_some_bright_stars_alone():
    """``star_fraction`` < 1: a share of each patch's bright stars gets no hit (negatives beside the hit ones);
    0 injects nothing on stars, and the patches without it keep the draws of ``star_fraction`` 1."""
    from astroclean.cosmicrays.simulate.inject import bright_star_centres

    kw = dict(n_patches=8, patch_size=64, star_field_fraction=1.0, fwhm_range=(2.0, 3.0), density=0.002,
              on_stars_probability=1.0)
    spec = {"min_peak_rms": 20.0, "spread": 0, "hits_per_star": 3}

    def share_hit(star_fraction):
        s = make_cosmic_ray_set("crowded", "benchmark", rng=5, on_stars=dict(spec, star_fraction=star_fraction),
                                **kw)
        hit = total = 0
        for i in range(len(s)):
            for y, x in np.round(bright_star_centres(s.image[i] - s.signal[i], s.bad[i], min_peak_rms=20.0)).astype(int):
                total += 1
                hit += bool(s.truth[i, max(y - 1, 0):y + 2, max(x - 1, 0):x + 2].any())
        return hit / total, s

    all_hit, every = share_hit(1.0)
    half_hit, _ = share_hit(0.5)
    none_hit, _ = share_hit(0.0)
    assert all_hit >= 0.8 and none_hit <= 0.2 and none_hit < half_hit < all_hit
    default = make_cosmic_ray_set("crowded", "benchmark", rng=5, on_stars=spec, **kw)
    assert np.array_equal(default.truth, every.truth)
