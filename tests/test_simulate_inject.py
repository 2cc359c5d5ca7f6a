"""Injection of cosmic rays into images: truth, masks, amplitudes, no mutation, reproducibility."""

import numpy as np
import pytest

from astroclean.errors import AstrocleanValueError
from astroclean.image import as_image
from astroclean.cosmicrays.simulate import inject_cosmic_rays, load_backgrounds, load_cosmic_ray_library
from astroclean.simulate.common import dilate


@pytest.fixture(scope="module")
def library():
    return load_cosmic_ray_library("train")


def _background(rng, shape=(128, 128)):
    data = rng.normal(500.0, 10.0, shape).astype(np.float32)
    data[10:14, 20:60] = np.nan                       # a bad column segment
    mask = np.zeros(shape, bool)
    mask[100:110, 100:110] = True                     # flagged pixels
    return as_image(data, mask=mask, variance=np.full(shape, 100.0), unit="electron")


def test_truth_matches_what_was_added(rng, library):
    clean = _background(rng)
    dirty, truth = inject_cosmic_rays(clean, rng=7, library=library, density=0.02)
    good = ~clean.mask
    assert np.allclose(dirty.data[good] - clean.data[good], truth.signal[good], atol=1e-3)
    assert (truth.signal >= 0).all()
    assert not (truth.mask & clean.mask).any() and (truth.signal[clean.mask] == 0).all()
    assert np.isnan(dirty.data[10:14, 20:60]).all()
    assert truth.mask[truth.signal > 0].all()          # every injected charge is in the truth mask
    assert not (truth.mask & ~dilate(truth.signal > 0)).any()  # ... which is its 3x3 dilation
    assert np.allclose(truth.snr, truth.signal / 10.0, rtol=1e-5)
    n_good = good.sum()
    assert 0.02 <= truth.mask.sum() / n_good < 0.02 + 0.02    # stops once the density is reached
    assert truth.n_hits == len(truth.peak_snr) == len(truth.positions) >= 3


def test_peak_snr_spans_the_range(rng, library):
    clean = _background(rng, (256, 256))
    _, truth = inject_cosmic_rays(clean, rng=3, library=library, density=0.03, snr_range=(3.0, 3000.0))
    assert truth.peak_snr.min() >= 3.0 and truth.peak_snr.max() <= 3000.0
    assert truth.peak_snr.min() < 30 and truth.peak_snr.max() > 300
    assert truth.snr.max() <= 3000.0 * (1 + 1e-5)


def test_inputs_are_not_mutated(rng, library):
    clean = _background(rng)
    copies = {k: getattr(clean, k).copy() for k in ("data", "mask", "variance")}
    inject_cosmic_rays(clean, rng=1, library=library, density=0.01)
    for k, v in copies.items():
        assert np.array_equal(getattr(clean, k), v, equal_nan=True)
    plain = rng.normal(0.0, 1.0, (64, 64))
    keep = plain.copy()
    out, _ = inject_cosmic_rays(plain, rng=1, library=library, density=0.01)
    assert np.array_equal(plain, keep) and out.data is not plain


def test_reproducible_with_the_same_seed(rng, library):
    clean = _background(rng)
    a, ta = inject_cosmic_rays(clean, rng=np.random.default_rng(42), library=library, density=0.01)
    b, tb = inject_cosmic_rays(clean, rng=np.random.default_rng(42), library=library, density=0.01)
    c, _ = inject_cosmic_rays(clean, rng=np.random.default_rng(43), library=library, density=0.01)
    assert np.array_equal(a.data, b.data, equal_nan=True) and np.array_equal(ta.mask, tb.mask)
    assert not np.array_equal(a.data, c.data, equal_nan=True)


def test_sources_of_hits(rng, library):
    clean = _background(rng)
    _, only_sim = inject_cosmic_rays(clean, rng=2, library=None, density=0.01)
    assert all(o.startswith("simulated:") for o in only_sim.origins)
    _, only_real = inject_cosmic_rays(clean, rng=2, library=library, density=0.01, simulated_fraction=0.0)
    assert all(o.startswith("uves:") for o in only_real.origins)


def test_saturation_is_respected(rng, library):
    data = rng.normal(1000.0, 10.0, (96, 96))
    img = as_image(data, variance=np.full(data.shape, 100.0), saturation=1200.0)
    dirty, truth = inject_cosmic_rays(img, rng=5, library=library, density=0.02, snr_range=(100.0, 3000.0))
    assert dirty.data[~img.mask].max() < 1200.0
    assert truth.mask.sum() > 0


def test_noise_estimated_when_no_variance(rng, library):
    data = rng.normal(0.0, 4.0, (96, 96))
    _, truth = inject_cosmic_rays(data, rng=5, library=library, density=0.01, snr_range=(10.0, 10.0))
    # every hit has a peak S/N of 10 against the robust noise estimate (about 4)
    assert truth.snr.max() == pytest.approx(10.0, rel=1e-4)
    assert truth.signal.max() == pytest.approx(40.0, rel=0.15)


def test_real_background_in_its_units():
    img = load_backgrounds("ground", "benchmark")[0]
    dirty, truth = inject_cosmic_rays(img, rng=0, library="benchmark", density=0.005)
    assert dirty.unit == img.unit and dirty.mask.sum() == img.mask.sum()
    assert not (truth.mask & img.mask).any()


@pytest.mark.parametrize("kwargs", [dict(density=0.7), dict(snr_range=(0, 10)), dict(snr_range=(10, 5)),
                                    dict(simulated_fraction=1.5), dict(library=3)])
def test_validation(kwargs):
    with pytest.raises(AstrocleanValueError):
        inject_cosmic_rays(np.zeros((16, 16)) + np.arange(16), rng=0, **kwargs)
