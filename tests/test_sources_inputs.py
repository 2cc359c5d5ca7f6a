"""Cutouts, pasting back, catalogue positions and detection for compact-source removal."""

import numpy as np
import pytest
from astropy.table import Table
from astropy.wcs import WCS

from astroclean.errors import AstrocleanFileError, AstrocleanValueError
from astroclean.sources.catalog import positions_from_table, read_catalog, validate_positions
from astroclean.sources.cutouts import PasteAccumulator, extract_cutouts
from astroclean.photometry.matched import detect_sources


def test_cutouts_match_slices_inside_and_nan_outside(rng):
    image = rng.normal(size=(70, 90)).astype(np.float32)
    cut = extract_cutouts(image, x=[40.4, 0.2, 89.6], y=[30.2, 1.0, 69.9], size=16)
    y0, x0 = cut.origin[0]
    np.testing.assert_array_equal(cut.data[0], image[y0:y0 + 16, x0:x0 + 16])
    # a source at the corner: the part beyond the map is NaN, the rest is the map
    assert np.isnan(cut.data[1][:7]).all() and np.isnan(cut.data[1][:, :8]).all()
    np.testing.assert_array_equal(cut.data[1][7:, 8:], image[:9, :8])
    np.testing.assert_allclose(cut.centre[0], [8.2, 8.4])
    assert np.all(np.abs(cut.centre - 8) <= 0.5)


def test_cutouts_odd_size_and_errors():
    image = np.arange(25.0).reshape(5, 5)
    cut = extract_cutouts(image, [2.0], [2.0], size=3)
    np.testing.assert_array_equal(cut.data[0], image[1:4, 1:4])
    with pytest.raises(AstrocleanValueError, match="finite"):
        extract_cutouts(image, [np.nan], [1.0], size=3)
    with pytest.raises(AstrocleanValueError, match="2-d"):
        extract_cutouts(np.zeros((2, 2, 2)), [0.0], [0.0], size=3)


def test_paste_accumulator_blends_overlaps_and_ignores_outside():
    acc = PasteAccumulator((10, 10))
    values = np.stack([np.full((4, 4), 1.0), np.full((4, 4), 3.0)])
    where = np.ones((2, 4, 4), bool)
    acc.add(values, where, np.array([[0, 0], [2, 2]]))
    acc.add(np.full((1, 4, 4), 5.0), np.ones((1, 4, 4), bool), np.array([[-2, 8]]))  # half outside
    average, covered = acc.result()
    assert average[0, 0] == pytest.approx(1.0) and average[5, 5] == pytest.approx(3.0)
    # each overlap pixel leans towards the cutout in which it lies nearer the centre
    assert 1.0 < average[2, 2] < 1.5 and 2.5 < average[3, 3] < 3.0
    assert covered[0:2, 8:10].all() and average[1, 9] == pytest.approx(5.0)
    assert np.isnan(average[9, 0]) and not covered[9, 0]


def test_positions_pixel_world_and_reasons():
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [150.0, 2.0]
    wcs.wcs.crpix = [50.5, 40.5]
    wcs.wcs.cdelt = [-1 / 3600, 1 / 3600]
    ra, dec = wcs.all_pix2world([10.0, 70.0], [20.0, 30.0], 0)
    table = Table({"RA": list(ra) + [np.nan], "Dec": list(dec) + [2.0]})
    pos = positions_from_table(table, shape=(80, 100), wcs=wcs)
    np.testing.assert_allclose(pos.x[:2], [10, 70], atol=1e-6)
    assert list(pos.status) == ["ok", "ok", "skipped: NaN coordinates"]
    with pytest.raises(AstrocleanValueError, match="no WCS"):
        positions_from_table(table, shape=(80, 100))
    one = positions_from_table(Table({"x": [11.0], "y": [21.0]}), shape=(80, 100), one_based=True)
    assert (one.x[0], one.y[0]) == (10.0, 20.0)
    with pytest.raises(AstrocleanValueError, match="ra,dec"):
        positions_from_table(Table({"flux": [1.0]}), shape=(8, 8))


def test_validate_positions_edges_and_duplicates():
    pos = validate_positions([0.0, -0.6, 99.4, 99.5, 3.0, 3.001], [0, 0, 0, 0, 3, 3.0], shape=(10, 100))
    assert list(pos.usable) == [True, False, True, False, True, False]
    assert pos.status[5] == "skipped: duplicate of source 4"


def test_read_catalog_csv_and_missing(tmp_path):
    path = tmp_path / "cat.csv"
    path.write_text("ra,dec\n150.0,2.0\n150.1,2.1\n")
    assert len(read_catalog(path)) == 2
    with pytest.raises(AstrocleanFileError, match="does not exist"):
        read_catalog(tmp_path / "nope.csv")


def test_detect_sources_finds_injected_and_respects_mask(rng):
    yy, xx = np.mgrid[:200, :200]
    truth = [(40.2, 50.7), (150.5, 120.1), (100.0, 170.4)]
    image = rng.normal(0, 1, (200, 200)) + 5
    for x, y in truth:
        image += 30 * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.5**2))
    image[0:20, 0:20] = np.nan
    found = detect_sources(image, nsigma=5, fwhm=3.5)
    assert len(found) == 3
    for x, y in truth:
        d = np.hypot(found["x"] - x, found["y"] - y)
        assert d.min() < 0.3
    mask = np.zeros(image.shape, bool)
    mask[110:130, 140:160] = True
    assert len(detect_sources(image, nsigma=5, fwhm=3.5, mask=mask)) == 2
    with pytest.raises(AstrocleanValueError, match="nsigma"):
        detect_sources(image, nsigma=-1, fwhm=3)


def test_pacs_level2_layout_coverage_masks_and_planes_are_companions(tmp_path):
    from astropy.io import fits

    from astroclean.io import read_images

    data = np.ones((20, 30), np.float32)
    coverage = np.ones_like(data)
    coverage[:, :5] = 0
    error = np.full_like(data, 0.1)
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data, name="image"), fits.ImageHDU(coverage, name="coverage"),
                         fits.ImageHDU(error, name="stDev"), fits.ImageHDU(error, name="error"),
                         fits.ImageHDU(np.zeros((20, 30), np.int16), name="HPFmask")])
    path = tmp_path / "hpacs_map.fits"
    hdul.writeto(path)
    images = read_images(path)
    assert [im.meta["hdu"] for im in images] == ["IMAGE"]
    assert images[0].mask[:, :5].all() and not images[0].mask[:, 5:].any()
    np.testing.assert_allclose(images[0].variance, 0.01, rtol=1e-6)


def test_detect_with_variance_ignores_noisy_low_coverage_border(rng):
    sigma = np.ones((200, 200))
    sigma[:, 170:] = 6.0  # a low-coverage border, six times noisier
    image = rng.normal(0, 1, (200, 200)) * sigma
    yy, xx = np.mgrid[:200, :200]
    image += 30 * np.exp(-((xx - 80.0) ** 2 + (yy - 90.0) ** 2) / (2 * 1.5**2))
    found = detect_sources(image, nsigma=5, fwhm=3.5, variance=sigma**2)
    assert len(found) == 1 and abs(found["x"][0] - 80) < 0.5
