import numpy as np
import pytest

from astroclean.errors import AstrocleanKeyError, AstrocleanValueError
from astroclean.sources.simulate.maps import (
    FLUX_LEVELS, inject_point_sources, make_cutout_set, make_source_maps,
)
from astroclean.sources.simulate.fields import PACS_MAPS, far_ir_backgrounds, synthetic_field
from astroclean.instruments.pacs import load_pacs_psf, resample_psf, transform_psf
from astroclean.sources.masks import DEFAULT_MASK_TABLES

FWHM_RANGE = {"blue": (5.2, 6.2), "green": (6.6, 7.3), "red": (10.5, 12.2)}   # arcsec, PACS nominal +- a bit


@pytest.mark.parametrize("band", ["blue", "green", "red"])
def test_psf_normalised_fwhm_and_encircled_energy(band):
    psf = load_pacs_psf(band)
    assert psf.array.shape[0] % 2 == 1 and psf.array.shape[0] == psf.array.shape[1]
    # a 1 Jy source: the stamp holds the part of gamma Dra's calibration flux the level-2 map shows
    assert 0.75 < psf.array.sum() == psf.flux_fraction < 1.0 and psf.array.min() >= 0
    lo, hi = FWHM_RANGE[band]
    assert lo < psf.fwhm_arcsec < hi
    ee = psf.encircled_energy(np.linspace(0, psf.array.shape[0], 200))
    assert np.all(np.diff(ee) >= -1e-9) and ee[0] == 0 and abs(ee[-1] - psf.flux_fraction) < 1e-6
    half = psf.encircled_energy(psf.fwhm_pixels / 2) / psf.flux_fraction
    assert 0.3 < half < 0.6    # a Gaussian: 0.5; PACS wings take more
    # the peak is at the central pixel
    c = psf.array.shape[0] // 2
    assert np.unravel_index(np.argmax(psf.array), psf.array.shape) == (c, c)


def test_rotation_and_shift_keep_flux_and_move_the_centroid():
    psf = load_pacs_psf("blue")
    c = psf.array.shape[0] // 2
    yy, xx = np.mgrid[:psf.array.shape[0], :psf.array.shape[1]]
    for angle in (0.0, 17.0, 45.0, 123.4, 270.0):
        out = transform_psf(psf.array, angle=angle, shift=(0.3, -0.45), normalise=False)
        assert abs(out.sum() - psf.flux_fraction) < 1e-3
    out = transform_psf(psf.array, shift=(0.3, -0.45), normalise=False)
    cy, cx = (out * yy).sum() / out.sum(), (out * xx).sum() / out.sum()
    cy0, cx0 = (psf.array * yy).sum() / psf.array.sum(), (psf.array * xx).sum() / psf.array.sum()
    assert abs(cy - cy0 - 0.3) < 0.02 and abs(cx - cx0 + 0.45) < 0.02
    rotated = transform_psf(psf.array, angle=90.0)
    np.testing.assert_allclose(rotated, np.rot90(psf.array, -1), atol=1e-6)   # sense of rotation is fixed
    assert not np.allclose(rotated, psf.array, atol=1e-4)                     # the PSF is not round
    assert np.unravel_index(np.argmax(rotated), rotated.shape) == (c, c)


def test_resample_psf_to_chopnod_pixels():
    psf = load_pacs_psf("blue", pixel_scale_arcsec=1.0)
    assert psf.pixel_scale_arcsec == 1.0 and abs(psf.array.sum() - load_pacs_psf("blue").flux_fraction) < 1e-12
    assert abs(psf.fwhm_arcsec - load_pacs_psf("blue").fwhm_arcsec) < 0.5
    with pytest.raises(AstrocleanValueError):
        resample_psf(psf, 0.0)
    with pytest.raises(AstrocleanKeyError):
        load_pacs_psf("purple")


def test_injection_truth_is_exact_and_flux_is_recovered(rng):
    bg = far_ir_backgrounds(split="benchmark", band="blue")[3]             # a synthetic field
    keep = bg.image.copy()
    psf = load_pacs_psf("blue")
    fluxes = [0.01, 0.5, 3.0, 40.0]
    image, truth = inject_point_sources(bg, psf, fluxes=fluxes, rng=rng, min_separation=64, margin=32)
    np.testing.assert_array_equal(bg.image, keep)                           # input untouched
    assert image.dtype == np.float32 and len(truth.table) == 4
    np.testing.assert_array_equal(image - truth.background.astype(np.float64), truth.sources)
    np.testing.assert_allclose(truth.table["flux"], fluxes)
    np.testing.assert_allclose(truth.table["flux_in_map"], np.array(fluxes) * psf.flux_fraction, rtol=1e-6)
    yy, xx = np.mgrid[:image.shape[0], :image.shape[1]]
    for row in truth.table:
        ap = (yy - row["y"]) ** 2 + (xx - row["x"]) ** 2 <= 30 ** 2
        assert abs(truth.sources[ap].sum() - row["flux_in_map"]) < 1e-5 * row["flux"] + 1e-6
        # the brightest pixel of the source is the one nearest the recorded position
        py, px = np.unravel_index(np.argmax(np.where(ap, truth.sources, -np.inf)), ap.shape)
        assert abs(py - row["y"]) <= 1 and abs(px - row["x"]) <= 1


def test_injection_on_a_real_pacs_map_has_wcs_and_avoids_real_sources(rng):
    bg = far_ir_backgrounds(split="benchmark", band="blue")[0]
    assert bg.kind == "pacs" and bg.wcs is not None and len(bg.real_sources) >= 1
    image, truth = inject_point_sources(bg, load_pacs_psf("blue"), n=10, rng=rng, avoid_radius=24)
    t = truth.table
    assert np.isfinite(t["ra"]).all() and np.isfinite(t["dec"]).all()
    d = np.hypot(t["y"][:, None] - bg.real_sources[None, :, 0], t["x"][:, None] - bg.real_sources[None, :, 1])
    assert d.min() >= 24 - 1
    assert np.array_equal(np.isnan(image), bg.mask)                         # NaN stays NaN


def test_synthetic_field_noise_level():
    img, structure = synthetic_field((256, 256), noise=2e-3, lag1=0.5, rng=3)
    resid = (img - structure).astype(np.float64)
    assert abs(resid.std() / 2e-3 - 1) < 0.05
    lag1 = np.corrcoef(resid[:, 1:].ravel(), resid[:, :-1].ravel())[0, 1]
    assert abs(lag1 - 0.5) < 0.1
    img2, _ = synthetic_field((256, 256), noise=2e-3, lag1=0.5, rng=3)
    np.testing.assert_array_equal(img, img2)


def test_benchmark_backgrounds_ship_and_are_pacs_like():
    for band in ("blue", "green", "red"):
        bgs = far_ir_backgrounds(split="benchmark", band=band)
        kinds = {b.kind for b in bgs}
        assert {"galactic", "synthetic"} <= kinds and (("pacs" in kinds) == (band != "green"))
        for b in bgs:
            assert b.image.dtype == np.float32 and not b.image.flags.writeable
            assert np.array_equal(np.isnan(b.image), b.mask)
    with pytest.raises(AstrocleanKeyError):
        far_ir_backgrounds(split="test", band="blue")


def test_cutout_set_contents_and_determinism():
    cs = make_cutout_set(24, split="benchmark", band="blue", rng=7, neighbour_fraction=0.5)
    n = 24
    for key in ("image", "background", "source"):
        assert cs[key].shape == (n, 96, 96) and cs[key].dtype == np.float32
    assert cs["hole"].dtype == bool and cs["radius"].shape == (n,)
    table = DEFAULT_MASK_TABLES[("blue", "scan")]
    np.testing.assert_array_equal(cs["radius"], table.radius(cs["snr"]))
    c = cs["centre"]
    assert np.all(np.abs(cs["centre_true"] - c) <= 2.0 + 1e-9)                # the +-2 px jitter is done here
    for i in range(n):
        assert cs["hole"][i, int(round(c[i, 0])), int(round(c[i, 1]))]
        in_map = cs["flux"][i] * load_pacs_psf("blue").flux_fraction
        assert abs(np.nansum(cs["source"][i]) - in_map) < 2e-3 * cs["flux"][i] + 1e-5 or \
            np.isnan(cs["background"][i]).any() or (np.abs(cs["centre_true"][i] - 48) > 17).any()
        resid = cs["image"][i].astype(np.float64) - cs["background"][i] - cs["source"][i]
        if cs["n_neighbours"][i] == 0:
            assert np.nanmax(np.abs(resid)) < 1e-5 * max(1.0, cs["flux"][i])
        else:
            assert np.nanmax(resid) > 0
    assert (cs["n_neighbours"] > 0).any() and (cs["n_neighbours"] == 0).any()
    assert np.array_equal(cs["nodata"], np.isnan(cs["background"]))
    again = make_cutout_set(24, split="benchmark", band="blue", rng=7, neighbour_fraction=0.5)
    for key in cs:
        np.testing.assert_array_equal(cs[key], again[key])
    other = make_cutout_set(24, split="benchmark", band="blue", rng=8, neighbour_fraction=0.5)
    assert not np.array_equal(np.nan_to_num(cs["image"]), np.nan_to_num(other["image"]))


def test_source_maps_have_discrete_levels():
    maps = make_source_maps(6, rng=0, per_level=2)
    levels = np.concatenate([np.asarray(t.table["level"]) for _, t in maps])
    assert set(levels) == set(range(len(FLUX_LEVELS)))
    for image, truth in maps:
        t = truth.table
        np.testing.assert_allclose(t["flux"], np.asarray(FLUX_LEVELS)[t["level"]])
        d = np.hypot(t["x"][:, None] - t["x"][None], t["y"][:, None] - t["y"][None]) + 1e9 * np.eye(len(t))
        assert d.min() >= 2.5 * 12 - 1.5
        assert np.all(np.diff(np.asarray(FLUX_LEVELS)) > 0)
    # SNR grows with flux on the whole
    snr = np.concatenate([np.asarray(t.table["snr"]) for _, t in maps])
    assert np.nanmedian(snr[levels == 7]) > 10 * np.nanmedian(snr[levels == 3])


@pytest.mark.slow
def test_benchmark_source_maps_reach_40_per_level():
    maps = make_source_maps(12, rng=0)
    levels = np.concatenate([np.asarray(t.table["level"]) for _, t in maps])
    assert np.bincount(levels, minlength=len(FLUX_LEVELS)).min() >= 40


def test_train_and_benchmark_are_disjoint(shared_data):
    assert not set(PACS_MAPS[("scan", "train")]) & set(PACS_MAPS[("scan", "benchmark")])
    assert not set(PACS_MAPS[("chopnod", "train")]) & set(PACS_MAPS[("chopnod", "benchmark")])
    train = far_ir_backgrounds(split="train", band="blue", data_dir=shared_data, rng=0)
    bench = far_ir_backgrounds(split="benchmark", band="blue")
    assert not {b.name for b in train} & {b.name for b in bench}
    # no training map shares a row of pixels with a benchmark map
    bench_rows = {b.image[r].tobytes() for b in bench for r in range(0, b.image.shape[0], 7)}
    for b in train:
        assert not any(b.image[r].tobytes() in bench_rows for r in range(b.image.shape[0])
                       if np.isfinite(b.image[r]).sum() > 10)
    cs = make_cutout_set(16, split="train", rng=0, data_dir=shared_data)
    assert cs["image"].shape == (16, 96, 96) and {"pacs", "galactic", "synthetic"} >= set(cs["kind"])


def test_cli_simulate_sources_writes_map_and_catalogue(tmp_path):
    from astropy.io import fits
    from astropy.table import Table

    from astroclean.cli import main

    out = tmp_path / "m.fits"
    argv = ["simulate", "sources", "--band", "blue", "--background", "1", "--per-level", "2", "-o", str(out)]
    assert main(argv) == 0
    with fits.open(out) as h:
        assert [x.name for x in h] == ["PRIMARY", "IMAGE", "BACKGROUND", "SOURCES", "MASK"]
        diff = h["IMAGE"].data.astype(np.float64) - h["BACKGROUND"].data
        np.testing.assert_allclose(diff, h["SOURCES"].data, atol=1e-6, equal_nan=True)
    t = Table.read(tmp_path / "m.ecsv")
    assert len(t) == 16 and {"x", "y", "ra", "dec", "flux", "level", "snr", "radius"} <= set(t.colnames)
    assert np.isfinite(t["ra"]).all() and (t["dec"] > -90).all()            # Galactic WCS converted to ICRS
    assert main(argv) == 2                                                   # no silent overwrite
    assert main(argv + ["--overwrite"]) == 0
