"""Issue 14, compact-source task: the header chooses band, mode and model; tables with units; BUNIT only where
true; quick-look PNGs; the table product verified on --resume (items 4, 13, 15, 16)."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import QTable

from astroclean.batch import run_batch
from astroclean.batch.products import product_task
from astroclean.cli import main
from astroclean.sources.batch import SourcesTask
from astroclean.sources.setup import pacs_setup, resolve

from test_cli_sources import pacs_like_map


def _with_header(path, **cards):
    with fits.open(path, mode="update") as hdul:
        for key, value in cards.items():
            hdul[0].header[key] = value
    return path


def test_header_chooses_band_mode_and_model():
    red = fits.Header({"WAVELNTH": 160.0, "CAMERA": "PHOTRED", "OBS_MODE": "Point-source photometry"})
    s = pacs_setup([red])
    assert (s.band, s.mode, s.model) == ("red", "chopnod", "pacs-red")
    assert pacs_setup([fits.Header({"WAVELNTH": 100.0, "OBS_MODE": "Scan map"})]).band == "green"
    assert pacs_setup([fits.Header({"CAMERA": "PHOTBLUE", "BLUEBAND": "blue2"})]).band == "green"
    silent = resolve([fits.Header()])
    assert (silent.band, silent.mode, silent.model) == ("blue", "scan", "pacs-blue")
    with pytest.warns(UserWarning, match="--band blue contradicts the header"):
        asked = resolve([red], band="blue")
    assert asked.band == "blue" and asked.model == "pacs-blue" and asked.mode == "chopnod"


def test_a_160um_chopnod_map_is_processed_with_red_settings_said_in_summary_and_header(tmp_path, rng, capsys):
    pacs_like_map(tmp_path / "map.fits", rng)
    _with_header(tmp_path / "map.fits", WAVELNTH=160.0, OBS_MODE="Point-source photometry")
    out = tmp_path / "out"
    assert main(["sources", str(tmp_path / "map.fits"), "--detect", "5", "-o", str(out), "--no-progress"]) == 0
    assert "red/chopnod pacs-red (WAVELNTH=160, OBS_MODE=Point-source photometry)" in capsys.readouterr().out
    header = fits.getheader(out / "map_nosources.fits")
    assert (header["ACMODEL"], header["ACBAND"], header["ACMODE"]) == ("pacs-red", "red", "chopnod")
    assert main(["sources", str(tmp_path / "map.fits"), "--detect", "5", "-o", str(out), "--no-progress",
                 "--resume"]) == 0
    assert "1 skipped" in capsys.readouterr().out


def test_photometry_table_has_units_radec_and_integer_counts_and_no_bunit_on_hole(tmp_path, rng):
    pacs_like_map(tmp_path / "map.fits", rng)
    out = tmp_path / "out"
    report = run_batch(SourcesTask(detect=5.0), [tmp_path / "map.fits"], outdir=out, progress=False)
    assert report.n_done == 1
    table = QTable.read(out / "map_photometry.ecsv")
    assert str(table["flux"].unit) == "Jy" and str(table["x"].unit) == "pix" and str(table["ra"].unit) == "deg"
    assert str(table["annulus_median"].unit) == "Jy / pix" and table["snr"].unit == ""
    assert np.isfinite(table["ra"].value).all() and np.isfinite(table["dec"].value).all()
    assert table["n_annulus"].dtype.kind == "i"
    numeric = [c for c in table.colnames if table[c].dtype.kind == "f"]
    assert numeric and all(getattr(table[c], "unit", None) is not None for c in numeric)
    with fits.open(out / "map_sources.fits") as hdul:
        assert hdul["SOURCES"].header["BUNIT"] == "Jy/pixel" and "BUNIT" not in hdul["HOLE"].header


def test_resume_redoes_a_photometry_table_whose_rows_were_edited(tmp_path, rng):
    pacs_like_map(tmp_path / "map.fits", rng)
    out = tmp_path / "out"
    run_batch(SourcesTask(detect=5.0), [tmp_path / "map.fits"], outdir=out, progress=False)
    table = out / "map_photometry.ecsv"
    text = table.read_text().splitlines()
    text[-1] = text[-1].replace(" 0.", " 9.", 1)
    table.write_text("\n".join(text) + "\n")
    again = run_batch(SourcesTask(detect=5.0), [tmp_path / "map.fits"], outdir=out, resume=True, progress=False)
    assert again.n_done == 1 and again.n_skipped == 0


def test_sources_plot_writes_a_quicklook_png(tmp_path, rng):
    pacs_like_map(tmp_path / "map.fits", rng)
    out = tmp_path / "out"
    assert main(["sources", str(tmp_path / "map.fits"), "--detect", "5", "-o", str(out), "--plot",
                 "--no-progress"]) == 0
    png = out / "map.quicklook.png"
    assert png.read_bytes()[:4] == b"\x89PNG" and product_task(png) == "sources"


def test_remove_compact_sources_takes_and_gives_ccddata(tmp_path, rng):
    from astropy.nddata import CCDData

    from astroclean.io import read_image
    from astroclean.sources.remove import remove_compact_sources

    wcs = pacs_like_map(tmp_path / "map.fits", rng)
    image = read_image(tmp_path / "map.fits")
    bad = ~np.isfinite(image.data)
    ccd = CCDData(np.nan_to_num(image.data), unit="Jy/pixel", mask=bad, wcs=wcs)
    result = remove_compact_sources(ccd, [(60.0, 70.0)], model="pacs-blue")
    assert isinstance(result.background, CCDData) and result.background.unit == "Jy/pixel"
    assert np.array_equal(result.background.mask, bad) and result.table["status"][0] == "ok"
