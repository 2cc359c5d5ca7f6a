import gzip
import shutil

import numpy as np
import pytest
from astropy.io import fits

from astroclean.errors import AstrocleanFileError, AstrocleanKeyError, AstrocleanValueError
from astroclean.io import read_image, read_images, write_fits

from conftest import TEST_DATA


def _mef(path, rng):
    primary = fits.PrimaryHDU()
    primary.header["EXPTIME"] = 300.0
    primary.header["GAIN"] = 1.5
    hdus = [primary]
    for ver in (1, 2):
        sci = fits.ImageHDU(rng.normal(100, 5, (20, 30)).astype(">f4"), name="SCI")
        sci.header["EXTVER"] = ver
        sci.header["BUNIT"] = "electron"
        sci.header["RDNOISE"] = 4.0
        sci.header["SATURATE"] = 1000.0
        err = fits.ImageHDU(np.full((20, 30), 2.0, ">f4"), name="ERR")
        err.header["EXTVER"] = ver
        dq = np.zeros((20, 30), ">i2")
        dq[0, 0] = 4      # hot pixel: bad
        dq[1, 1] = 4096   # HST cosmic-ray bit: data, not bad
        dqh = fits.ImageHDU(dq, name="DQ")
        dqh.header["EXTVER"] = ver
        hdus += [sci, err, dqh]
    fits.HDUList(hdus).writeto(path)


def test_mef_with_companion_planes(tmp_path, rng):
    path = tmp_path / "mef.fits"
    _mef(path, rng)
    images = read_images(path)
    assert [im.meta["hdu"] for im in images] == ["SCI", "SCI,2"]
    im = read_image(path, hdu="SCI,2")
    assert im.data.dtype == np.float32 and im.data.dtype.isnative
    np.testing.assert_allclose(im.variance, 4.0)
    assert im.mask[0, 0] and not im.mask[1, 1]
    assert (im.gain, im.read_noise, im.exptime, im.saturation, im.unit) == (1.5, 4.0, 300.0, 1000.0, "electron")


def test_cube_gives_one_image_per_plane(tmp_path):
    path = tmp_path / "cube.fits"
    fits.PrimaryHDU(np.arange(3 * 4 * 5, dtype="f4").reshape(3, 4, 5)).writeto(path)
    planes = read_images(path)
    assert len(planes) == 3 and planes[2].data[0, 0] == 40
    with pytest.raises(AstrocleanValueError, match="cube"):
        read_image(path)


def test_decam_triplet_and_units():
    im = read_image(TEST_DATA / "c4d_140818_232043_ooi_z_ls9.N12.fits")
    assert im.dq is not None and im.variance is not None
    raw_w = fits.getdata(TEST_DATA / "c4d_140818_232043_oow_z_ls9.N12.fits")
    good = raw_w > 0
    np.testing.assert_allclose(im.variance[good], 1 / raw_w[good].astype(float), rtol=1e-6)
    assert im.exptime == 118.0 and im.saturation is not None and im.wcs is not None


def test_compressed_files(tmp_path, rng):
    data = rng.normal(0, 1, (32, 32)).astype("f4")
    fz = tmp_path / "x.fits.fz"
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, name="IM")]).writeto(fz)
    # default quantisation keeps ~1/16 of the noise: lossy but close
    np.testing.assert_allclose(read_image(fz).data, data, atol=0.1)
    assert read_image(fz).meta["hdu"] == "IM"
    plain = tmp_path / "y.fits"
    fits.PrimaryHDU(data).writeto(plain)
    gz = tmp_path / "y.fits.gz"
    with open(plain, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    np.testing.assert_allclose(read_image(gz).data, data)


def test_missing_hdu_lists_the_ones_there(tmp_path, rng):
    path = tmp_path / "mef.fits"
    _mef(path, rng)
    with pytest.raises(AstrocleanKeyError, match="image HDUs are"):
        read_image(path, hdu="NOPE")
    with pytest.raises(KeyError):
        read_image(path, hdu=17)


def test_unreadable_and_truncated(tmp_path):
    with pytest.raises(AstrocleanFileError, match="does not exist"):
        read_image(tmp_path / "missing.fits")
    junk = tmp_path / "junk.fits"
    junk.write_bytes(b"not a fits file at all" * 10)
    with pytest.raises(OSError, match="cannot read"):
        read_image(junk)
    full = tmp_path / "full.fits"
    fits.PrimaryHDU(np.zeros((100, 100), "f4")).writeto(full)
    truncated = tmp_path / "truncated.fits"
    truncated.write_bytes(full.read_bytes()[:10000])
    with pytest.raises(AstrocleanFileError, match="truncated"):
        read_image(truncated)


def test_write_keeps_header_wcs_and_never_overwrites(tmp_path):
    im = read_image(TEST_DATA / "c4d_140818_232043_ooi_z_ls9.N12.fits")
    out = tmp_path / "prod.fits"
    write_fits(out, [("CRMASK", np.zeros(im.shape, bool), im.header)], primary_header=im.meta["primary_header"],
               provenance={"task": "cosmicrays", "model": "ground", "model_sha256": "ab" * 32, "threshold": 0.5})
    with fits.open(out) as hdul:
        h = hdul["CRMASK"].header
        assert h["CTYPE1"] == im.header["CTYPE1"] and h["ACMODEL"] == "ground" and h["ACMSHA"] == "ab" * 32
        assert h["ACTHRESH"] == 0.5 and "ACVERS" in hdul[0].header
        assert hdul["CRMASK"].data.dtype == np.uint8
    before = out.read_bytes()
    with pytest.raises(AstrocleanFileError, match="overwrite"):
        write_fits(out, [("X", np.ones((2, 2)), None)])
    assert out.read_bytes() == before
    write_fits(out, [("X", np.ones((2, 2)), None)], overwrite=True)
    assert fits.getdata(out, "X").shape == (2, 2)


def test_failed_write_leaves_nothing(tmp_path):
    class Boom(Exception):
        pass

    from astroclean.io import atomic_write

    def explode(tmp):
        open(tmp, "wb").write(b"partial")
        raise Boom

    with pytest.raises(Boom):
        atomic_write(tmp_path / "p.fits", explode)
    assert list(tmp_path.iterdir()) == []
