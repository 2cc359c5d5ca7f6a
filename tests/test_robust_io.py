"""Issue 14, input side: corrupt streams, odd inputs, odd names, header cards (items 3, 6, 8, 10, 11, 12)."""

import gzip
import os
import threading

import numpy as np
import pytest
from astropy.io import fits

from astroclean.errors import AstrocleanError, AstrocleanFileError, AstrocleanValueError
from astroclean.image import as_image, check_memory
from astroclean.io import read_image, read_images, write_fits
from astroclean.io.read import list_images


def _fits_bytes(data):
    path = __import__("io").BytesIO()
    fits.PrimaryHDU(data).writeto(path)
    return path.getvalue()


# 3. compressed streams are verified -----------------------------------------------------------------------


def test_gzip_with_a_flipped_byte_is_corrupt_not_wrong_pixels(tmp_path):
    data = np.arange(200 * 200, dtype=np.float32).reshape(200, 200)
    good = tmp_path / "good.fits.gz"
    good.write_bytes(gzip.compress(_fits_bytes(data), mtime=0))
    assert np.array_equal(read_image(good).data, data)
    raw = bytearray(good.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    (tmp_path / "flip.fits.gz").write_bytes(bytes(raw))
    with pytest.raises(AstrocleanFileError, match="corrupt or truncated"):
        read_image(tmp_path / "flip.fits.gz")
    (tmp_path / "cut.fits.gz").write_bytes(good.read_bytes()[: len(raw) * 2 // 3])
    for reader in (read_image, read_images, list_images):
        with pytest.raises(AstrocleanFileError, match="corrupt or truncated"):
            reader(tmp_path / "cut.fits.gz")


def test_batch_reports_a_corrupt_gzip_as_failed(tmp_path):
    from astroclean.batch import run_batch
    from astroclean.cosmicrays.batch import CosmicTask

    data = (100 + 5 * np.random.default_rng(0).standard_normal((40, 40))).astype(np.float32)
    raw = bytearray(gzip.compress(_fits_bytes(data), mtime=0))
    raw[len(raw) // 2] ^= 0x01
    (tmp_path / "flip.fits.gz").write_bytes(bytes(raw))
    report = run_batch(CosmicTask(model="ground"), [tmp_path / "flip.fits.gz"], outdir=tmp_path / "o",
                       progress=False)
    assert report.n_failed == 1 and "corrupt or truncated" in report.failures[0]["error"]


# 6. numpy.ma, NDData/CCDData and paths in ---------------------------------------------------------------------


def test_masked_array_mask_is_honoured():
    data = np.ones((20, 20), np.float32)
    mask = np.zeros((20, 20), bool)
    mask[3:5, 3:8] = True
    img = as_image(np.ma.MaskedArray(data, mask=mask))
    assert img.mask.sum() == 10 and img.mask[3, 3]
    both = as_image(np.ma.MaskedArray(data, mask=mask), mask=np.eye(20, dtype=bool))
    assert both.mask.sum() == 10 + 20 - 2


def test_nddata_and_ccddata_give_mask_uncertainty_unit_wcs():
    from astropy.nddata import CCDData, InverseVariance, NDData, StdDevUncertainty, VarianceUncertainty
    from astropy.wcs import WCS

    data = np.full((16, 16), 10.0, np.float32)
    mask = np.zeros((16, 16), bool)
    mask[2, 2] = True
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    ccd = CCDData(data, unit="electron", mask=mask, uncertainty=StdDevUncertainty(np.full((16, 16), 2.0)), wcs=wcs,
                  meta={"GAIN": 1.5})
    img = as_image(ccd)
    assert img.mask[2, 2] and img.mask.sum() == 1
    assert np.allclose(img.variance, 4.0) and img.unit == "electron" and img.wcs is not None
    assert img.meta["input_type"] == "CCDData" and img.header["GAIN"] == 1.5
    assert np.allclose(as_image(NDData(data, uncertainty=VarianceUncertainty(np.full((16, 16), 9.0)))).variance, 9)
    assert np.allclose(as_image(NDData(data, uncertainty=InverseVariance(np.full((16, 16), 0.25)))).variance, 4)
    with pytest.raises(AstrocleanValueError, match="must be an array"):
        as_image(object())


def test_a_path_is_read(tmp_path):
    data = np.arange(64, dtype=np.float32).reshape(8, 8)
    fits.PrimaryHDU(data).writeto(tmp_path / "x.fits")
    for given in (tmp_path / "x.fits", str(tmp_path / "x.fits")):
        img = as_image(given)
        assert np.array_equal(img.data, data) and img.name == "x.fits[0]"


# 8. memory: refused up front, with the number ----------------------------------------------------------------


def test_a_frame_too_large_for_memory_is_refused_from_its_header(tmp_path, monkeypatch):
    header = fits.Header()
    header["SIMPLE"] = True
    header["BITPIX"] = -32
    header["NAXIS"] = 2
    header["NAXIS1"] = 20000
    header["NAXIS2"] = 20000
    path = tmp_path / "huge.fits"
    header.tofile(path)
    with open(path, "r+b") as fh:  # a sparse file: 1.6 GB on paper, nothing on disk
        fh.truncate(2880 + -(-20000 * 20000 * 4 // 2880) * 2880)
    monkeypatch.setenv("ASTROCLEAN_MAX_MEMORY_GB", "8")
    for reader in (list_images, read_image):
        with pytest.raises(AstrocleanValueError, match=r"20000 x 20000 frame needs about 25.6 GB .* 8.0 GB"):
            reader(path)
    with pytest.raises(AstrocleanValueError, match="needs about"):
        check_memory((20000, 20000))
    check_memory((2000, 2000))


# 10. header cards hold what FITS can hold -----------------------------------------------------------------------


def test_provenance_of_a_non_ascii_path_is_escaped(tmp_path):
    from astroclean.batch.products import check_product

    prov = {"task": "t", "input": "/data/café/ÅΩ.fits", "input_sha256": "a" * 64}
    path = write_fits(tmp_path / "p.fits", [("M", np.zeros((2, 2), "u1"), None)], provenance=prov)
    header = fits.getheader(path)
    assert header["ACINPUT"] == "/data/caf\\xc3\\xa9/\\xc3\\x85\\xce\\xa9.fits"
    assert check_product(path, provenance=prov) is None
    surrogate = {"task": "t", "input": os.fsdecode(b"/d/raw\xff.fits")}
    write_fits(tmp_path / "q.fits", [("M", np.zeros((2, 2), "u1"), None)], provenance=surrogate)
    assert fits.getheader(tmp_path / "q.fits")["ACINPUT"] == "/d/raw\\xff.fits"


def test_an_unwritable_input_card_is_left_out_with_a_warning_not_blamed_on_the_product(tmp_path):
    hdu = fits.PrimaryHDU(np.ones((8, 8), np.float32))
    hdu.header["AAAA"] = 1
    hdu.header["KEEP"] = 2
    buf = __import__("io").BytesIO()
    hdu.writeto(buf)
    raw = bytearray(buf.getvalue())
    at = raw.index(b"AAAA    =")
    raw[at:at + 80] = b"AAAA    = 'x' / \x01control".ljust(80)
    (tmp_path / "in.fits").write_bytes(bytes(raw))
    img = read_image(tmp_path / "in.fits")
    with pytest.warns(UserWarning, match="AAAA cannot be written"):
        out = write_fits(tmp_path / "out.fits", [("X", img.data, img.header)], primary_header=img.meta["primary_header"])
    header = fits.getheader(out, 1)
    assert "AAAA" not in header and header["KEEP"] == 2


# 11. non-regular files are refused -------------------------------------------------------------------------------


def test_fifo_and_devices_are_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.fits"
    os.mkfifo(fifo)
    result = {}

    def read():
        try:
            read_image(fifo)
        except AstrocleanError as exc:
            result["error"] = str(exc)

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "reading a FIFO hung"
    assert "named pipe (FIFO)" in result["error"]
    with pytest.raises(AstrocleanFileError, match="a device"):
        list_images("/dev/zero")


def test_cli_refuses_a_fifo_and_goes_on(tmp_path, capsys):
    from astroclean.cli import main

    os.mkfifo(tmp_path / "pipe.fits")
    data = (100 + 5 * np.random.default_rng(0).standard_normal((40, 40))).astype(np.float32)
    fits.PrimaryHDU(data).writeto(tmp_path / "ok.fits")
    rc = main(["cosmic", str(tmp_path / "pipe.fits"), str(tmp_path / "ok.fits"), "-o", str(tmp_path / "o"),
               "--no-progress"])
    text = capsys.readouterr().out
    assert rc == 1 and "not a regular file" in text and "1 done, 1 failed" in text


# 12. clear messages: --hdu -1, --saturation 0 ---------------------------------------------------------------------


def test_negative_hdu_is_rejected_clearly(tmp_path):
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.ones((4, 4), "f4"), name="SCI")]).writeto(tmp_path / "m.fits")
    for hdu in (-1, "-1"):
        for reader in (read_image, list_images):
            with pytest.raises(AstrocleanValueError, match="HDU number must be 0 or more.*got -1"):
                reader(tmp_path / "m.fits", hdu=hdu)


def test_saturation_zero_or_negative_is_refused_and_a_masking_level_warned():
    data = (100 + np.random.default_rng(0).standard_normal((32, 32))).astype(np.float32)
    for level in (0, -5):
        with pytest.raises(AstrocleanValueError, match="not positive"):
            as_image(data, saturation=level)
    with pytest.warns(UserWarning, match="masks .* of the pixels"):
        as_image(data, saturation=99)
    with pytest.raises(AstrocleanValueError, match="every pixel is masked"):
        as_image(data, mask=np.ones((32, 32), bool))


def test_cli_saturation_zero_is_not_ok(tmp_path, capsys):
    from astroclean.cli import main

    data = (100 + 5 * np.random.default_rng(0).standard_normal((40, 40))).astype(np.float32)
    fits.PrimaryHDU(data).writeto(tmp_path / "a.fits")
    rc = main(["cosmic", str(tmp_path / "a.fits"), "-o", str(tmp_path / "o"), "--saturation", "0", "--no-progress"])
    captured = capsys.readouterr()
    assert rc == 2 and "ok ->" not in captured.out and "saturation must be a positive level" in captured.err
