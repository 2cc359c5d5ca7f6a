"""Backgrounds with variance, their disjoint splits, and simulated star fields."""

import numpy as np
import pytest

from astroclean.errors import AstrocleanFileError, AstrocleanKeyError
from astroclean.cosmicrays.simulate import FLAVOURS, electrons_per_unit, load_backgrounds
from astroclean.simulate import simulate_star_field
from astroclean.cosmicrays.simulate.backgrounds import CATALOGUE


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_shipped_benchmark_loads_without_data_dir(flavour, monkeypatch, tmp_path):
    monkeypatch.setenv("ASTROCLEAN_DATA_DIR", str(tmp_path / "nowhere"))
    images = load_backgrounds(flavour, "benchmark")
    assert len(images) >= 3
    for img in images:
        good = ~img.mask
        assert img.variance is not None and good.mean() > 0.5
        assert np.isfinite(img.variance[good]).all() and (img.variance[good] > 0).all()
        assert min(img.shape) >= 100
        assert "electrons_per_unit" in img.meta


def test_training_split_needs_the_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("ASTROCLEAN_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(AstrocleanFileError, match="ASTROCLEAN_DATA_DIR"):
        load_backgrounds("space", "train")


def test_unknown_flavour_or_split():
    with pytest.raises(AstrocleanKeyError):
        load_backgrounds("radio", "train")
    with pytest.raises(KeyError):
        load_backgrounds("space", "validation")


def test_catalogue_splits_whole_frames_or_columns():
    names = [s.name for s in CATALOGUE]
    assert len(names) == len(set(names))
    paths = {}
    for s in CATALOGUE:
        if s.path:
            paths.setdefault((s.path, s.hdu), []).append(s.split)
    assert all(len(v) == 1 for v in paths.values())       # no frame listed twice
    for s in CATALOGUE:
        if s.split == "columns":
            assert s.columns[0] < s.columns[1]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_train_and_benchmark_are_disjoint(flavour, shared_data):
    train = load_backgrounds(flavour, "train", data_dir=shared_data)
    bench = load_backgrounds(flavour, "benchmark")
    assert not {t.name for t in train} & {b.name for b in bench}
    for b in bench:
        probe = b.data[b.shape[0] // 2, :8]
        for t in train:                                       # no benchmark row segment appears in train
            if t.data.dtype == b.data.dtype:
                hits = np.isclose(t.data, probe[0], rtol=0, atol=0)
                for y, x in zip(*np.nonzero(hits)):
                    assert not np.array_equal(t.data[y, x:x + 8], probe)
        assert all(np.isfinite(t.variance[~t.mask]).all() for t in train)


def test_decam_variance_and_units(shared_data):
    imgs = {i.name: i for i in load_backgrounds("ground", "train", data_dir=shared_data)}
    img = imgs["decam_171113_060340_r_ls9.N6"]
    assert img.unit == "adu" and 3.5 < electrons_per_unit(img) < 4.5
    good = ~img.mask
    # inverse-variance weight: Poisson of the (sky-inclusive) data plus read noise, in ADU
    model = img.data[good] / img.gain + (img.read_noise / img.gain) ** 2
    assert np.median(img.variance[good] / model) == pytest.approx(1.0, rel=0.1)


def test_star_field_noise_and_flux():
    blank = simulate_star_field((128, 128), rng=0, n_stars=0, n_galaxies=0, psf_fwhm=3.0, sky=400.0, gain=2.0,
                                read_noise=8.0)
    assert blank.unit == "adu" and electrons_per_unit(blank) == 2.0
    assert blank.data.std() == pytest.approx(np.sqrt(400 + 64) / 2.0, rel=0.03)
    assert np.allclose(blank.variance, (400 + 64) / 4.0)
    one = simulate_star_field((96, 96), rng=1, n_stars=1, n_galaxies=0, psf_fwhm=3.0, sky=0.0, gain=1.0,
                              read_noise=0.0, flux_range=(1e5, 1e5 * (1 + 1e-9)))
    assert one.data.sum() == pytest.approx(1e5, rel=0.02)
    peak = np.unravel_index(np.argmax(one.data), one.shape)
    assert one.data[peak] / 1e5 > 0.05                    # a compact PSF


def test_star_field_reproducible():
    a = simulate_star_field((48, 48), rng=3, n_stars=20, n_galaxies=2, psf_fwhm=2.0, sky=10.0, gain=1.0,
                            read_noise=3.0)
    b = simulate_star_field((48, 48), rng=3, n_stars=20, n_galaxies=2, psf_fwhm=2.0, sky=10.0, gain=1.0,
                            read_noise=3.0)
    assert np.array_equal(a.data, b.data)
