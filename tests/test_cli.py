import shutil

import numpy as np
from astropy.io import fits

from astroclean.cli import main

from conftest import TEST_DATA


def _copy_example(tmp_path):
    for f in TEST_DATA.glob("c4d_140818_232043_oo?_z_ls9.N12.fits"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path / "c4d_140818_232043_ooi_z_ls9.N12.fits"


def test_cosmic_writes_products_and_summary(tmp_path, capsys):
    image = _copy_example(tmp_path)
    out = tmp_path / "out"
    rc = main(["cosmic", str(image), "-o", str(out), "--model", "unet-bn", "--untrained", "--inpaint", "--threshold", "0.5"])
    assert rc == 0
    product = out / "c4d_140818_232043_ooi_z_ls9.N12.cr.fits"
    with fits.open(product) as hdul:
        assert [h.name for h in hdul] == ["PRIMARY", "CLEAN", "CRMASK", "CRPROB"]
        assert hdul["CRMASK"].header["ACMODEL"] == "unet-bn" and hdul["CLEAN"].header["CTYPE1"]
        assert hdul["CLEAN"].data.dtype == np.dtype(">f4")
    text = capsys.readouterr().out
    assert "cr_pixels" in text and "1 done, 0 failed" in text
    # never overwrite without being asked; the old product survives
    before = product.read_bytes()
    assert main(["cosmic", str(image), "-o", str(out), "--model", "unet-bn", "--untrained"]) == 1
    assert product.read_bytes() == before
    assert main(["cosmic", str(image), "-o", str(out), "--model", "unet-bn", "--untrained", "--overwrite"]) == 0


def test_a_bad_file_fails_alone(tmp_path, capsys):
    image = _copy_example(tmp_path)
    broken = tmp_path / "broken.fits"
    broken.write_bytes(image.read_bytes()[:5000])
    rc = main(["cosmic", str(tmp_path), "-o", str(tmp_path / "out"), "--model", "unet-bn", "--untrained"])
    text = capsys.readouterr().out
    assert rc == 1
    assert "FAILED" in text and "broken.fits" in text and "1 done, 1 failed" in text
    assert not any(p.name.startswith(".") for p in (tmp_path / "out").iterdir())   # no temporary leftovers


def test_usage_errors_exit_2(tmp_path, capsys):
    image = _copy_example(tmp_path)
    assert main(["cosmic", str(image), "-o", str(tmp_path), "--model", "nope"]) == 2
    assert "unknown model" in capsys.readouterr().err
    assert main(["cosmic", str(image), "-o", str(tmp_path), "--threshold", "1.5"]) == 2
    assert main(["cosmic", str(tmp_path / "*.nothing"), "-o", str(tmp_path)]) == 2
    assert main(["cosmic", str(image), "--hdu", "NOPE", "-o", str(tmp_path / "o"), "--model", "unet-bn", "--untrained"]) == 1


def test_models_lists_cards(capsys):
    assert main(["models", "--all"]) == 0
    assert "unet-gn-attn" in capsys.readouterr().out
