from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from astroclean.cirrus import CirrusResult, segment_cirrus
from astroclean.cirrus.inputs import as_cirrus_stack
from astroclean.errors import AstrocleanFileError, AstrocleanValueError

DATA = Path(__file__).parent / "data" / "cirrus"
SDSS = [DATA / f"sdss_{b}.fits" for b in "gri"]
LEGACY = [DATA / f"legacy_{b}.fits" for b in "grz"]


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    from test_cirrus_models import export_tiny

    d = tmp_path_factory.mktemp("weights")
    export_tiny(d, "cirrus-gri", 4, seed=1)
    export_tiny(d, "cirrus-mask-gri", 3, seed=2)
    return d


def test_stack_from_files_reads_bands_zeropoint_and_scale():
    s = as_cirrus_stack(SDSS)
    assert s.bands == ("g", "r", "i") and s.zeropoints == (22.5,) * 3
    assert abs(s.pixel_scale - 1.188) < 0.01 and s.data.dtype == np.float32


def test_segment_cirrus_result_and_write(tmp_path, weights):
    arrays = [fits.getdata(p) for p in SDSS]
    copies = [a.copy() for a in arrays]
    result = segment_cirrus(arrays, zeropoint=22.5, pixel_scale=1.188, weights_dir=weights)
    assert all(np.array_equal(a, c) for a, c in zip(arrays, copies))       # inputs untouched
    assert isinstance(result, CirrusResult)
    assert result.cirrus.shape == result.probability.shape == result.source_mask.shape == (160, 160)
    assert result.cirrus.dtype == bool and result.star_model.shape == (3, 160, 160)
    assert not (result.cirrus & result.source_mask).any()
    assert np.isfinite(result.probability).all() and result.provenance["model"] == "cirrus-gri"
    with pytest.raises(Exception):
        result.cirrus = None                                                  # frozen
    out = result.write(tmp_path / "f.fits")
    with fits.open(out) as h:
        names = [x.name for x in h]
        assert names[1:4] == ["CIRRUS", "SRCMASK", "STARMODEL"] and "IMAGE_G" in names and "IMAGE_I" in names
        assert h["CIRRUS"].data.shape == (2, 160, 160) and h["CIRRUS"].header["ACMODEL"] == "cirrus-gri"
        assert h["IMAGE_R"].header["BAND"] == "r"
    assert (tmp_path / "f.png").is_file()
    with pytest.raises(AstrocleanFileError, match="overwrite"):
        result.write(tmp_path / "f.fits")


def test_star_step_on_the_legacy_cutout(weights):
    result = segment_cirrus(LEGACY, weights_dir=weights, star_limit=1000)
    assert len(result.stars) == 1 and result.star_model[1].max() > 0
    assert result.provenance["bin"] == 8


def _write(path, data, header=None):
    fits.PrimaryHDU(data, header).writeto(path)
    return path


@pytest.mark.parametrize("case, match", [
    ("shapes", "different shapes"), ("missing", "needs 3 bands"), ("nan", "no finite pixel"),
    ("constant", "constant"), ("integer", "integer data"), ("zeropoint", "unknown zero point"),
])
def test_bad_inputs_raise_clear_errors(tmp_path, case, match):
    rng = np.random.default_rng(0)
    bands = [rng.normal(size=(32, 32)).astype("f4") for _ in range(3)]
    zp = 22.5
    if case == "shapes":
        bands[2] = bands[2][:30]
    elif case == "missing":
        bands = bands[:2]
    elif case == "nan":
        bands[1][:] = np.nan
    elif case == "constant":
        bands[0][:] = 3.0
    elif case == "integer":
        bands[2] = (bands[2] * 100).astype(np.int16)
    elif case == "zeropoint":
        zp = None
    paths = [_write(tmp_path / f"x_{b}.fits", a) for b, a in zip("gri", bands)]
    with pytest.raises(AstrocleanValueError, match=match):
        as_cirrus_stack(paths, zeropoint=zp, pixel_scale=1.0)


def test_cli_on_small_files_and_nothing_partial_on_bad_input(tmp_path, weights):
    import shutil

    from astroclean.cli import main

    out = tmp_path / "out"
    assert main(["cirrus", *map(str, SDSS), "-o", str(out), "--weights-dir", str(weights), "--no-progress"]) == 0
    assert (out / "sdss_cirrus.fits").is_file() and (out / "sdss_cirrus.png").is_file()
    with fits.open(out / "sdss_cirrus.fits") as h:
        assert "CTYPE1" in h["IMAGE_R"].header and "CTYPE1" in h["CIRRUS"].header     # WCS kept
        assert h["IMAGE_R"].header["MAGZERO"] == 22.5 and h["CIRRUS"].header["ACTASK"] == "cirrus"
    # a constant r band: the field fails with a clear message, no product is left
    bad = tmp_path / "bad"
    bad.mkdir()
    for b, src in zip("gri", SDSS):
        shutil.copy(src, bad / f"f_{b}.fits")
    with fits.open(bad / "f_r.fits", mode="update") as h:
        h[0].data[:] = 1.0
    out2 = tmp_path / "out2"
    assert main(["cirrus", str(bad / "f_g.fits"), str(bad / "f_r.fits"), str(bad / "f_i.fits"), "-o", str(out2),
                 "--weights-dir", str(weights), "--no-progress"]) == 1
    assert not list(out2.glob("*_cirrus.*"))
    # a missing band: a clear error, no product
    (bad / "f_i.fits").unlink()
    assert main(["cirrus", str(bad / "f_g.fits"), str(bad / "f_r.fits"), "-o", str(out2),
                 "--weights-dir", str(weights), "--no-progress"]) == 1
    assert not list(out2.glob("*_cirrus.*"))


def test_cli_catalog_writes_filaments_with_units(tmp_path, weights):
    from astropy.table import QTable

    from astroclean.cli import main

    out = tmp_path / "out"
    assert main(["cirrus", *map(str, SDSS), "-o", str(out), "--weights-dir", str(weights), "--no-progress",
                 "--catalog", "--no-png"]) == 0
    table = QTable.read(out / "sdss_filaments.ecsv")
    assert (out / "sdss_segments.fits").is_file()
    assert str(table["area"].unit) == "arcsec2" and "g_r_gaussian" in table.colnames and "g_r_linear" in table.colnames


def test_batch_groups_bands_into_fields():
    from astroclean.cirrus.batch import field_files

    files = {"d/a_g.fits", "d/a_r.fits", "d/a_z.fits", "d/b-g.fits.fz", "d/b-r.fits.fz", "d/b-i.fits.fz"}
    assert field_files("d/a_g.fits", exists=files.__contains__) == ("a", ("d/a_g.fits", "d/a_r.fits", "d/a_z.fits"))
    assert field_files("d/b-g.fits.fz", exists=files.__contains__)[1] == ("d/b-g.fits.fz", "d/b-r.fits.fz",
                                                                         "d/b-i.fits.fz")
    assert field_files("d/a_r.fits", exists=files.__contains__)[1] is None


def test_cli_on_a_cube(tmp_path, weights):
    from astroclean.cli import main

    header = fits.getheader(SDSS[0])
    cube = np.stack([fits.getdata(p) for p in SDSS]).astype("f4")
    fits.PrimaryHDU(cube, header).writeto(tmp_path / "field.fits")
    out = tmp_path / "out"
    assert main(["cirrus", str(tmp_path / "field.fits"), "-o", str(out), "--weights-dir", str(weights),
                 "--no-progress", "--no-png", "--star-limit", "0"]) == 0
    with fits.open(out / "field_cirrus.fits") as h:
        assert h["CIRRUS"].data.shape == (2, 160, 160) and h["STARMODEL"].data.shape == (3, 160, 160)
