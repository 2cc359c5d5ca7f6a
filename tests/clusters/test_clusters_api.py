"""infer_cluster_parameters: QTable with units, per-row flags, bad-input errors; the CLI."""

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits

from astroclean.clusters import infer_cluster_parameters
from astroclean.clusters.cli import main
from astroclean.clusters.inputs import model_photflam, photflam_zeropoint, read_uvis_bands
from astroclean.clusters.tables import BANDS, tables
from astroclean.errors import AstrocleanValueError

ZP = tuple(float(z) for z in tables().zeropoint)


def test_photflam_zeropoint_matches_count_rate_zeropoint():
    for b, band in enumerate(BANDS):
        assert photflam_zeropoint(model_photflam(band), band) == pytest.approx(ZP[b], abs=0.01)


def test_infer_returns_qtable_with_units_and_flags(tiny_net):
    stack = np.random.default_rng(0).normal(0, 0.004, (3, 100, 100)).astype(np.float32)
    stack[1, 60, 60] = np.nan
    keep = stack.copy()
    pos = [[40, 40], [2, 3], [500, 10], [60, 58], [np.nan, 5]]
    t = infer_cluster_parameters(stack, pos, model=tiny_net, zeropoints=ZP, pixel_scale=0.04)
    assert np.array_equal(np.isnan(stack), np.isnan(keep)) and np.allclose(np.nan_to_num(stack), np.nan_to_num(keep))
    assert list(t["flag"]) == ["ok", "edge", "off_image", "nan", "off_image"]
    assert t["log_age_50"].unit == u.dex(u.yr) and t["a_v_16"].unit == u.mag
    assert t["r_eff_arcsec_50"].unit == u.arcsec and t["r_eff_pc_84"].unit == u.pc
    assert np.isnan(t["log_mass_50"][2].value) and np.isfinite(t["log_mass_50"][0].value)
    assert np.all((t["p_cluster"][:2] >= 0) & (t["p_cluster"][:2] <= 1))
    r = t["r_eff_pc_50"][0] / t["r_eff_arcsec_50"][0]
    assert r.to_value(u.pc / u.arcsec) == pytest.approx(4.5e6 * np.pi / 648000, rel=1e-6)


def test_bad_inputs_raise_clear_errors(tiny_net):
    stack = np.zeros((3, 60, 60), np.float32)
    with pytest.raises(AstrocleanValueError, match="missing"):
        infer_cluster_parameters(stack, [[30, 30]], model=tiny_net, zeropoints=ZP, bands=("F336W", "F438W", "F555W"))
    with pytest.raises(AstrocleanValueError, match="zero points"):
        infer_cluster_parameters(stack, [[30, 30]], model=tiny_net)
    with pytest.raises(AstrocleanValueError, match="pixel scale"):
        infer_cluster_parameters(stack, [[30, 30]], model=tiny_net, zeropoints=ZP, pixel_scale=0.1)
    with pytest.raises(AstrocleanValueError, match="positions"):
        infer_cluster_parameters(stack, [[1, 2, 3]], model=tiny_net, zeropoints=ZP)


def test_band_checks_on_files(uvis_files):
    stack = read_uvis_bands(uvis_files)
    assert stack.pixel_scale == pytest.approx(0.04) and np.allclose(stack.zeropoints, ZP, atol=0.01)
    with pytest.raises(AstrocleanValueError, match="FILTER"):
        read_uvis_bands([uvis_files[1], uvis_files[0], uvis_files[2]])
    with fits.open(uvis_files[2], mode="update") as h:
        h[0].header["FILTER"] = "CLEAR"
        h[0].header["PHOTPLAM"] = 5921.0
    with pytest.raises(AstrocleanValueError, match="PHOTPLAM"):
        read_uvis_bands(uvis_files)
    with pytest.raises(AstrocleanValueError, match="three"):
        read_uvis_bands(uvis_files[:2])
    with fits.open(uvis_files[0], mode="update") as h:      # HLA mosaics: no FILTER, the filter in PHOTMODE
        del h[0].header["FILTER"]
        h[0].header["PHOTMODE"] = "WFC3 UVIS2 F475W CAL"
    with pytest.raises(AstrocleanValueError, match="says F475W"):
        read_uvis_bands(uvis_files)


def test_cli_on_small_files(uvis_files, tmp_path, tiny_net, monkeypatch, capsys):
    import astroclean.clusters.model as model
    monkeypatch.setattr(model, "load_cluster_model", lambda name: (tiny_net, tiny_net.card))
    cat = tmp_path / "c.csv"
    cat.write_text("id,x,y\n1,53,43\n2,500,500\n3,1,1\n")
    out = tmp_path / "out"
    args = [*map(str, uvis_files), "--catalog", str(cat), "-o", str(out), "--no-progress"]
    assert main(args) == 0
    table = (out / "m83_clusters.ecsv").read_text()
    assert "off_image" in table and "edge" in table and "astroclean_task: clusters" in table
    assert (out / "m83_clusters.png").stat().st_size > 1000
    capsys.readouterr()
    assert main(args) == 1                                     # no overwrite: the field fails, says why
    assert "exists" in capsys.readouterr().out
    assert main(args + ["--resume"]) == 0                      # valid products: skipped
    assert "skipped" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert main([*map(str, uvis_files), "--catalog", str(bad), "-o", str(out), "--overwrite", "--no-progress"]) == 1
    assert "x, y or ra, dec" in capsys.readouterr().out


def test_band_from_file_name_when_header_is_silent(uvis_files, tmp_path):
    bad = tmp_path / "drz_f475w.fits"
    with fits.open(uvis_files[0]) as h:
        header = h[0].header.copy()
        del header["FILTER"], header["PHOTPLAM"]
        fits.PrimaryHDU(h[0].data, header=header).writeto(bad)
    with pytest.raises(AstrocleanValueError, match="file name says F475W"):
        read_uvis_bands([bad, uvis_files[1], uvis_files[2]])
