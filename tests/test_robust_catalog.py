"""Issue 14, catalogue side: blank cells, sexagesimal RA, VOTable (items 5 and 12)."""

import numpy as np
import pytest
from astropy.table import Table
from astropy.wcs import WCS

from astroclean.errors import AstrocleanValueError
from astroclean.sources.catalog import positions_from_table, read_catalog


def _wcs():
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [150.0, 20.0]
    w.wcs.crpix = [50.0, 50.0]
    w.wcs.cdelt = [-0.001, 0.001]
    return w


def test_blank_pixel_cells_are_skipped_not_pixel_zero(tmp_path):
    (tmp_path / "c.csv").write_text("x,y\n10,12\n,\n,5\n30,40\n")
    pos = positions_from_table(read_catalog(tmp_path / "c.csv"), shape=(100, 100))
    assert pos.status.tolist() == ["ok", "skipped: blank x/y cell", "skipped: blank x/y cell", "ok"]
    assert np.isnan(pos.x[1]) and np.isnan(pos.x[2])


def test_blank_world_cells_are_skipped_as_blank_not_outside(tmp_path):
    (tmp_path / "c.csv").write_text("ra,dec\n150.0,20.0\n,\n150.01,\n")
    pos = positions_from_table(read_catalog(tmp_path / "c.csv"), shape=(100, 100), wcs=_wcs())
    assert pos.status.tolist() == ["ok", "skipped: blank ra/dec cell", "skipped: blank ra/dec cell"]


def test_sexagesimal_ra_dec_are_parsed_and_garbage_refused(tmp_path):
    (tmp_path / "c.csv").write_text("ra,dec\n10:00:00.0,+20:00:00\n10h00m01s,20d00m10s\n")
    pos = positions_from_table(read_catalog(tmp_path / "c.csv"), shape=(100, 100), wcs=_wcs())
    assert pos.status.tolist() == ["ok", "ok"]
    assert pos.ra[0] == pytest.approx(150.0) and pos.ra[1] == pytest.approx(150.0 + 15 / 3600)
    assert pos.dec[1] == pytest.approx(20 + 10 / 3600)
    (tmp_path / "bad.csv").write_text("ra,dec\nabc,+20:00:00\n")
    with pytest.raises(AstrocleanValueError, match="neither degrees nor sexagesimal"):
        positions_from_table(read_catalog(tmp_path / "bad.csv"), shape=(100, 100), wcs=_wcs())
    (tmp_path / "badx.csv").write_text("x,y\nabc,3\n")
    with pytest.raises(AstrocleanValueError, match="not a pixel coordinate"):
        positions_from_table(read_catalog(tmp_path / "badx.csv"), shape=(100, 100))


@pytest.mark.parametrize("name", ["cat.xml", "cat.vot", "cat.dat"])
def test_votable_is_read_as_votable(tmp_path, name):
    Table({"ra": [150.0, 150.01], "dec": [20.0, 20.01]}).write(tmp_path / name, format="votable")
    table = read_catalog(tmp_path / name)
    assert table.colnames == ["ra", "dec"] and len(table) == 2
    pos = positions_from_table(table, shape=(100, 100), wcs=_wcs())
    assert pos.status.tolist() == ["ok", "ok"]
