"""``astroclean sources`` end to end on small PACS-like maps with the shipped pacs-blue model."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from astroclean.cli import main


def pacs_like_map(path, rng, *, with_wcs=True, sources=((60.0, 70.0, 0.5), (30.0, 30.0, 0.05))):
    yy, xx = np.mgrid[:140, :120]
    image = rng.normal(0, 1e-3, yy.shape)
    sigma = 3.44 / 2.3548
    for x, y, flux in sources:
        image += flux * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2)) / (2 * np.pi * sigma**2)
    coverage = np.ones(yy.shape)
    coverage[:, :4] = 0
    image[:, :4] = np.nan
    header = fits.Header()
    if with_wcs:
        w = WCS(naxis=2)
        w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        w.wcs.crval = [200.0, -30.0]
        w.wcs.crpix = [60.0, 70.0]
        w.wcs.cdelt = [-1.6 / 3600, 1.6 / 3600]
        header = w.to_header()
    header["BUNIT"] = "Jy/pixel"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(image.astype(np.float32), header, name="image"),
                  fits.ImageHDU(coverage, name="coverage"),
                  fits.ImageHDU(np.full(yy.shape, 1e-3, np.float32), name="error")]).writeto(path)
    return WCS(header) if with_wcs else None


def test_catalog_products_resume_and_refusal(tmp_path, rng, capsys):
    wcs = pacs_like_map(tmp_path / "map.fits", rng)
    ra, dec = wcs.all_pix2world([60.0, 30.0], [70.0, 30.0], 0)
    Table({"ra": list(ra) + [np.nan, 10.0], "dec": list(dec) + [-30.0, 10.0]}).write(tmp_path / "cat.csv")
    out = tmp_path / "out"
    args = ["sources", str(tmp_path / "map.fits"), "--catalog", str(tmp_path / "cat.csv"), "-o", str(out),
            "--no-progress"]
    assert main(args) == 0
    background = fits.getdata(out / "map_nosources.fits", "BACKGROUND")
    header = fits.getheader(out / "map_nosources.fits", "BACKGROUND")
    assert header["CTYPE1"] == "RA---TAN" and fits.getheader(out / "map_nosources.fits")["ACMODEL"] == "pacs-blue"
    assert np.isnan(background[:, :4]).all()
    assert abs(background[70, 60]) < 0.01 * 0.5 / (2 * np.pi * (3.44 / 2.3548) ** 2)  # the 0.5 Jy peak is gone
    table = Table.read(out / "map_photometry.ecsv")
    assert list(table["status"][:2]) == ["ok", "ok"]
    assert table["status"][2] == "skipped: NaN coordinates" and table["status"][3].startswith("skipped: outside")
    removed = fits.getdata(out / "map_sources.fits", "SOURCES")
    assert np.nansum(removed[50:90, 40:80]) == pytest.approx(0.5, rel=0.05)  # the Gaussian lies inside its hole
    assert np.isfinite(table["flux"][0]) and table["flux_err"][0] > 0
    # a second run refuses to overwrite, keeps the products and says so
    before = (out / "map_nosources.fits").read_bytes()
    assert main(args) == 1
    assert (out / "map_nosources.fits").read_bytes() == before
    # --resume recognises the complete products
    capsys.readouterr()
    assert main(args + ["--resume"]) == 0
    assert "1 skipped" in capsys.readouterr().out


def test_detect_and_bad_inputs_continue(tmp_path, rng, capsys):
    pacs_like_map(tmp_path / "a.fits", rng)
    pacs_like_map(tmp_path / "nowcs.fits", rng, with_wcs=False)
    (tmp_path / "broken.fits").write_bytes(b"SIMPLE  =                    T" + b"\0" * 100)
    out = tmp_path / "out"
    code = main(["sources", str(tmp_path / "a.fits"), str(tmp_path / "broken.fits"), "--detect", "5", "-o", str(out),
                 "--no-progress"])
    assert code == 1  # the broken file failed, the good one completed
    table = Table.read(out / "a_photometry.ecsv")
    found = np.hypot(table["x"] - 60, table["y"] - 70).min()
    assert found < 0.5
    assert "broken.fits" in capsys.readouterr().out
    Table({"ra": [200.0], "dec": [-30.0]}).write(tmp_path / "world.csv")
    code = main(["sources", str(tmp_path / "nowcs.fits"), "--catalog", str(tmp_path / "world.csv"), "-o", str(out),
                 "--no-progress"])
    assert code == 1
    assert "no WCS" in capsys.readouterr().out


def test_usage_errors_exit_2(tmp_path, rng):
    pacs_like_map(tmp_path / "a.fits", rng)
    assert main(["sources", str(tmp_path / "a.fits"), "--detect", "5", "--model", "ground", "-o",
                 str(tmp_path / "o")]) == 2
    assert main(["sources", str(tmp_path / "a.fits"), "--catalog", str(tmp_path / "missing.csv"), "-o",
                 str(tmp_path / "o")]) == 2
