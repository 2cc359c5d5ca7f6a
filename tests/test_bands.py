"""ImageStack and read_bands: names, zero points, reprojection, and clear errors."""

import warnings

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from astroclean.errors import AstrocleanKeyError, AstrocleanValueError
from astroclean.image import ImageStack, as_image
from astroclean.io import read_bands


def _wcs(scale_arcsec, shape, crval=(150.0, 2.0)):
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = crval
    w.wcs.crpix = [(shape[1] + 1) / 2, (shape[0] + 1) / 2]
    w.wcs.cdelt = [-scale_arcsec / 3600, scale_arcsec / 3600]
    return w


def _write(path, data, wcs=None, **cards):
    header = wcs.to_header() if wcs is not None else fits.Header()
    header.update(cards)
    fits.PrimaryHDU(np.asarray(data, np.float32), header).writeto(path)
    return path


def test_stack_from_images_and_surface_brightness():
    stack = ImageStack.from_images([np.full((3, 4), 1.0), np.full((3, 4), 10.0)], bands=("g", "r"),
                                   zeropoints=(22.5, None), pixel_scale=1.0)
    assert stack.shape == (2, 3, 4) and stack.band("r").data[0, 0] == 10
    np.testing.assert_allclose(stack.surface_brightness("g"), 22.5)
    with pytest.raises(AstrocleanValueError, match="no zero point"):
        stack.surface_brightness("r")
    with pytest.raises(AstrocleanKeyError, match="bands: g, r"):
        stack.band("i")
    with pytest.raises(AstrocleanValueError, match="different shapes"):
        ImageStack.from_images([np.ones((3, 4)), np.ones((4, 4))], bands=("g", "r"))


def test_read_bands_names_from_files_when_headers_collide(tmp_path):
    paths = [_write(tmp_path / f"field_{b}.fits", np.ones((6, 7)), FILTER="g", BUNIT="nanomaggy") for b in "gri"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stack = read_bands(paths)
    assert stack.bands == ("g", "r", "i") and stack.zeropoints == (22.5,) * 3
    assert any("collide" in str(w.message) for w in caught)


def test_read_bands_reprojects_onto_the_first_grid_keeping_flux(tmp_path):
    rng = np.random.default_rng(0)
    fine = np.full((40, 40), 1.0)                                      # 1 unit per 0.5" pixel
    coarse = np.full((20, 20), 4.0) + 0 * rng.normal(size=(20, 20))    # same surface brightness at 1"
    a = _write(tmp_path / "a_g.fits", fine, _wcs(0.5, fine.shape), MAGZERO=30.0)
    b = _write(tmp_path / "b_r.fits", coarse, _wcs(1.0, coarse.shape), MAGZERO=30.0)
    stack = read_bands([a, b])
    inner = stack.data[1][5:-5, 5:-5]
    np.testing.assert_allclose(inner, 1.0, rtol=1e-4)                   # per-pixel flux rescaled by the area
    assert stack.pixel_scale == pytest.approx(0.5)


def test_read_bands_refuses_what_it_cannot_align(tmp_path):
    a = _write(tmp_path / "a_g.fits", np.ones((5, 5)))
    b = _write(tmp_path / "b_r.fits", np.ones((6, 5)))
    with pytest.raises(AstrocleanValueError, match="without a celestial WCS"):
        read_bands([a, b])
    c = _write(tmp_path / "c.fits", np.ones((5, 5)))
    d = _write(tmp_path / "d.fits", np.ones((5, 5)))
    with pytest.raises(AstrocleanValueError, match="cannot tell the bands apart"):
        read_bands([c, d])
    nan = _write(tmp_path / "e_i.fits", np.full((5, 5), np.nan))
    with pytest.raises(AstrocleanValueError, match="no finite pixel"):
        read_bands([a, nan])


def test_read_bands_reads_a_cube(tmp_path):
    path = tmp_path / "cube.fits"
    fits.PrimaryHDU(np.stack([np.ones((4, 4)), 2 * np.ones((4, 4))]).astype("f4")).writeto(path)
    stack = read_bands(path, bands=("g", "r"), zeropoints=27.0)
    assert stack.shape == (2, 4, 4) and stack.zeropoints == (27.0, 27.0)
    assert as_image(stack.band("r")).data.mean() == 2
