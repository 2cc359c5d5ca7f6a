"""Filament catalogue (issue 12, part 1): rebinning rule, segments, units, bad input."""

from types import SimpleNamespace

import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits
from astropy.wcs import WCS

from astroclean.cirrus.catalog import extract_filaments, grouped_median, pearson_grouped, rebin_factor
from astroclean.errors import AstrocleanValueError

KW = dict(bands=("g", "r", "i"), zeropoints=(22.5, 22.5, 22.5), pixel_scale=1.0)


def _wcs(shape, scale=1.0):
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [150.0, 2.0]
    w.wcs.crpix = [shape[1] / 2 + 0.5, shape[0] / 2 + 0.5]
    w.wcs.cdelt = [-scale / 3600, scale / 3600]
    return w


def test_rebin_rule_half_or_more():
    cirrus = np.zeros((4, 8), bool)
    cirrus[0, 0:2] = True          # block (0,0): 2 of 4 -> cirrus
    cirrus[0, 4] = True            # block (0,2): 1 of 4 -> not cirrus
    cirrus[2:4, 6:8] = True        # block (1,3): 4 of 4 -> cirrus
    data = np.ones((3, 4, 8))
    fil = extract_filaments(cirrus, data, bin_arcsec=2.0, sky="none", **KW)
    assert fil.bin_factor == 2
    assert (fil.segments > 0).tolist() == [[True, False, False, False], [False, False, False, True]]
    assert len(fil) == 2


def test_rebin_factor():
    assert rebin_factor(0.396, 6) == 15
    assert rebin_factor(1.19, 6) == 5
    assert rebin_factor(10.0, 6) == 1
    with pytest.raises(AstrocleanValueError, match="bin_arcsec"):
        rebin_factor(1.0, 0)


def test_segments_eight_connected_and_table_units():
    cirrus = np.zeros((12, 12), bool)
    cirrus[0:2, 0:2] = True
    cirrus[2:4, 2:4] = True        # touches the first diagonally -> same filament
    cirrus[8:12, 8:12] = True
    data = np.full((3, 12, 12), 0.1, np.float32)
    fil = extract_filaments(cirrus, data, bin_arcsec=2.0, sky="none", wcs=_wcs((12, 12)), **KW)
    t = fil.table
    assert len(t) == 2
    assert t["area"].unit == u.arcsec**2
    assert t["sb_g"].unit == u.mag / u.arcsec**2
    assert t["ra"].unit == u.deg and np.all(np.isfinite(t["ra"]))
    assert t["n_pixels"].tolist() == [2, 4]
    np.testing.assert_allclose(t["area"].value, [8.0, 16.0])
    # 0.1 nanomaggy per 1"x1" pixel -> 22.5 + 2.5 = 25.0 mag/arcsec^2
    np.testing.assert_allclose(t["sb_r"].value, 25.0, atol=1e-5)
    assert set(np.unique(fil.segments)) == {0, 1, 2}
    full = fil.segment_map()
    assert full.shape == (12, 12) and full[9, 9] == 2


def test_pearson_and_flag():
    rng = np.random.default_rng(0)
    shape = (60, 60)
    cirrus = np.zeros(shape, bool)
    cirrus[:, :30] = True
    cirrus[:, 31:] = True  # second filament: pure noise
    base = rng.standard_normal(shape)
    data = np.stack([base + 0.05 * rng.standard_normal(shape) for _ in range(3)])
    data[:, :, 31:] = rng.standard_normal((3, 60, 29))
    fil = extract_filaments(cirrus, data, bin_arcsec=1.0, sky="none", **KW)
    t = fil.table
    assert t["r_g_r"][0] > 0.9 and t["p_g_r"][0] < 1e-6 and not t["uncorrelated_g_r"][0]
    assert abs(t["r_g_r"][1]) < 0.2
    r, p, n = pearson_grouped(np.array([1, 1, 1, 2, 2]), np.array([1., 2, 3, 1, 2]), np.array([2., 4, 6, 1, 1]), 2)
    assert r[0] == pytest.approx(1.0) and np.isnan(r[1]) and n.tolist() == [3, 2]


def test_small_and_masked_filament_flags():
    cirrus = np.zeros((10, 10), bool)
    cirrus[0:2, 0:2] = True
    data = np.full((3, 10, 10), -0.1)
    mask = np.zeros((10, 10), bool)
    fil = extract_filaments(cirrus, data, bin_arcsec=1.0, sky="none", mask=mask, **KW)
    row = fil.table[0]
    assert np.isnan(row["sb_g"].value) and "sb_g:nonpositive_mean_flux" in row["flags"]
    assert "r_g_r:undefined" in row["flags"]
    data2 = np.ones((3, 10, 10))
    data2[:, 0:2, 0:2] = np.nan  # every pixel of the filament bad
    fil2 = extract_filaments(cirrus, data2, bin_arcsec=1.0, sky="none", **KW)
    assert fil2.table["n_used"][0] == 0 and "no_usable_pixels" in fil2.table["flags"][0]


def test_local_sky_removes_offset():
    rng = np.random.default_rng(3)
    data = 0.5 + 0.01 * rng.standard_normal((3, 80, 80))  # residual sky 0.5
    cirrus = np.zeros((80, 80), bool)
    cirrus[30:50, 30:50] = True
    data[:, cirrus] += 0.1
    fil = extract_filaments(cirrus, data, bin_arcsec=2.0, sky="local", **KW)
    np.testing.assert_allclose(fil.table["sky_g"], 0.5, atol=0.01)
    np.testing.assert_allclose(fil.table["sb_g"].value, 25.0, atol=0.05)  # 0.1 nanomaggy per 1" pixel
    med, counts = grouped_median(np.array([1, 1, 1, 2]), np.array([3.0, 1.0, 2.0, 5.0]), 3)
    assert med[:2].tolist() == [2.0, 5.0] and np.isnan(med[2]) and counts.tolist() == [3, 1, 0]


def test_image_stack_duck_type_and_no_mutation():
    data = np.ones((3, 20, 20), np.float32)
    cirrus = np.zeros((20, 20), bool)
    cirrus[5:15, 5:15] = True
    keep_d, keep_c = data.copy(), cirrus.copy()
    stack = SimpleNamespace(data=data, mask=np.zeros((3, 20, 20), bool), bands=("g", "r", "i"),
                            zeropoints=(22.5,) * 3, pixel_scale=None, wcs=_wcs((20, 20), 0.5))
    result = SimpleNamespace(cirrus=cirrus, source_mask=np.zeros((20, 20), bool))
    fil = extract_filaments(result, stack, bin_arcsec=2.0)
    assert fil.pixel_scale == pytest.approx(0.5) and fil.bin_factor == 4
    np.testing.assert_array_equal(data, keep_d)
    np.testing.assert_array_equal(cirrus, keep_c)


def test_bad_input_errors():
    data = np.ones((3, 10, 10))
    cirrus = np.zeros((10, 10), bool)
    with pytest.raises(AstrocleanValueError, match="different grids"):
        extract_filaments(np.zeros((12, 10), bool), data, **KW)
    with pytest.raises(AstrocleanValueError, match="no zero point"):
        extract_filaments(cirrus, data, bands="gri", pixel_scale=1.0)
    with pytest.raises(AstrocleanValueError, match="no usable zero point"):
        extract_filaments(cirrus, data, bands="gri", zeropoints=(22.5, None, 22.5), pixel_scale=1.0)
    with pytest.raises(AstrocleanValueError, match="pixel scale"):
        extract_filaments(cirrus, data, bands="gri", zeropoints=(22.5,) * 3)
    with pytest.raises(AstrocleanValueError, match="boolean"):
        extract_filaments(np.full((10, 10), 0.7), data, **KW)
    with pytest.raises(AstrocleanValueError, match="band names"):
        extract_filaments(cirrus, data, bands=("g", "r"), zeropoints=(22.5,) * 2, pixel_scale=1.0)
    with pytest.raises(AstrocleanValueError, match="sky"):
        extract_filaments(cirrus, data, sky="median", **KW)


def test_write_segments(tmp_path):
    cirrus = np.zeros((20, 20), bool)
    cirrus[2:8, 2:8] = True
    fil = extract_filaments(cirrus, np.ones((3, 20, 20)), bin_arcsec=2.0, wcs=_wcs((20, 20)), **KW)
    path = fil.write_segments(tmp_path / "seg.fits")
    with fits.open(path) as hdul:
        seg = hdul["SEGMENTS"].data
        assert seg.shape == (20, 20) and seg.max() == 1 and "CTYPE1" in hdul["SEGMENTS"].header
    with pytest.raises(OSError, match="exists"):
        fil.write_segments(tmp_path / "seg.fits")
