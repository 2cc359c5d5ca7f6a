"""Issue 14, cosmic-ray task: header-chosen model, saturated stars, noise fill, quick-look PNGs, units,
the caller's container out (items 6, 14, 15, 16, 17, 18)."""

import shutil

import numpy as np
import pytest
from astropy.io import fits

from astroclean.batch import run_batch
from astroclean.batch.products import product_task
from astroclean.cli import main
from astroclean.cosmicrays import CosmicRayDetector, detect_cosmic_rays
from astroclean.cosmicrays.batch import CosmicTask
from astroclean.cosmicrays.choose import choose_model, model_for_header
from astroclean.io import read_image

from conftest import TEST_DATA, sky_with_track

SATURATED = TEST_DATA / "c4d_181214_050844_ooi_g_ls9.S9.fits"


def _hst_frame(path, rng):
    image, _ = sky_with_track(rng, shape=(64, 64))
    header = fits.Header({"TELESCOP": "HST", "INSTRUME": "ACS", "BUNIT": "ELECTRONS"})
    fits.PrimaryHDU(image, header=header).writeto(path)
    return path


# 14. the header chooses the model -------------------------------------------------------------------------


def test_hst_header_picks_space_and_the_summary_says_so(tmp_path, rng, capsys):
    path = _hst_frame(tmp_path / "hst.fits", rng)
    assert main(["cosmic", str(path), "-o", str(tmp_path / "o"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "space (auto: TELESCOP=HST)" in out
    header = fits.getheader(tmp_path / "o" / "hst.cr.fits")
    assert header["ACMODEL"] == "space" and header["ACWHYMOD"] == "auto: TELESCOP=HST"
    assert model_for_header(fits.Header({"TELESCOP": "CTIO 4.0-m telescope"}))[0] == "cr-any-ens"
    result = detect_cosmic_rays(read_image(path))
    assert result.model == "space" and result.meta["model_reason"] == "auto: TELESCOP=HST"
    assert detect_cosmic_rays(fits.getdata(path)).model == "cr-any-ens"  # a bare array has no header


def test_an_explicit_model_that_contradicts_the_header_is_used_with_a_warning(tmp_path, rng):
    image = read_image(_hst_frame(tmp_path / "hst.fits", rng))
    with pytest.warns(UserWarning, match="header says TELESCOP=HST"):
        assert choose_model("ground", image) == ("ground", "as asked")


def test_resume_with_auto_recognises_its_products(tmp_path, rng):
    path = _hst_frame(tmp_path / "hst.fits", rng)
    run_batch(CosmicTask(), [path], outdir=tmp_path / "o", progress=False)
    again = run_batch(CosmicTask(), [path], outdir=tmp_path / "o", resume=True, progress=False)
    assert again.n_skipped == 1


# 18. saturated stars: no ring of flags -------------------------------------------------------------------------


def test_no_ring_of_flags_around_a_saturated_star_and_the_star_is_not_cleaned_away():
    image = read_image(SATURATED)
    assert image.dq is not None and np.isin(image.dq, (3, 4)).sum() > 1000
    result = CosmicRayDetector("ground").detect(image, inpaint=True)
    assert result.n_pixels == 0 and result.meta["n_saturation_halo"] > 100  # the ring that used to be flagged
    assert np.array_equal(result.cleaned[~image.mask], image.data[~image.mask])
    ring = CosmicRayDetector("ground").detect(image, saturation_halo=0)
    assert ring.n_pixels > 100  # without the rule, the wings of the star are flagged


def test_a_track_beside_a_saturated_star_is_still_found(rng):
    image, truth = sky_with_track(rng, shape=(96, 96))
    image[60:66, 60:66] = 70000.0  # a saturated core, well away from the track's row (48)
    result = CosmicRayDetector("ground").detect(image, saturation=60000.0)
    assert result.cr_mask[truth].mean() > 0.8


# 17. a fill that looks like data, seeded ----------------------------------------------------------------------


def test_noise_fill_adds_seeded_local_noise(rng):
    image, truth = sky_with_track(rng, shape=(128, 128), sigma=5.0)
    det = CosmicRayDetector("ground")
    smooth = det.detect(image, inpaint=True, fill="biharmonic")
    noisy = det.detect(image, inpaint=True, fill="noise", rng=7)
    again = det.detect(image, inpaint=True, fill="noise", rng=7)
    other = det.detect(image, inpaint=True, fill="noise", rng=8)
    flagged = noisy.cr_mask
    assert flagged.sum() > 10 and np.array_equal(noisy.cleaned, again.cleaned)
    assert not np.array_equal(noisy.cleaned[flagged], other.cleaned[flagged])
    resid = (noisy.cleaned - smooth.cleaned)[flagged]
    assert 3.0 < resid.std() < 7.5  # the local noise (sigma 5), not zero and not the track
    assert np.array_equal(noisy.cleaned[~flagged], image[~flagged])


# 16. quick-look PNGs, per product, batch too ---------------------------------------------------------------------


def test_plot_writes_one_quicklook_png_per_product(tmp_path, capsys):
    for f in TEST_DATA.glob("c4d_140818_232043_oo?_z_ls9.N12.fits"):
        shutil.copy(f, tmp_path / f.name)
    shutil.copy(SATURATED, tmp_path / SATURATED.name)
    out = tmp_path / "o"
    assert main(["cosmic", str(tmp_path), "-o", str(out), "--inpaint", "--plot", "--no-progress"]) == 0
    pngs = sorted(out.glob("*.quicklook.png"))
    assert [p.name for p in pngs] == ["c4d_140818_232043_ooi_z_ls9.N12.quicklook.png",
                                      "c4d_181214_050844_ooi_g_ls9.S9.quicklook.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and product_task(p) == "cosmicrays" for p in pngs)
    capsys.readouterr()
    assert main(["cosmic", str(tmp_path), "-o", str(out), "--inpaint", "--plot", "--resume", "--no-progress"]) == 0
    assert "2 skipped" in capsys.readouterr().out


# 15. BUNIT only where it is true ---------------------------------------------------------------------------------


def test_mask_and_probability_carry_no_bunit(tmp_path, rng):
    path = _hst_frame(tmp_path / "hst.fits", rng)
    run_batch(CosmicTask(inpaint=True), [path], outdir=tmp_path / "o", progress=False)
    with fits.open(tmp_path / "o" / "hst.cr.fits") as hdul:
        assert hdul["CLEAN"].header["BUNIT"] == "ELECTRONS"
        assert "BUNIT" not in hdul["CRMASK"].header and "BUNIT" not in hdul["CRPROB"].header


# 6. the caller's container out ------------------------------------------------------------------------------------


def test_ccddata_and_masked_arrays_come_back_as_such(rng):
    from astropy.nddata import CCDData

    image, truth = sky_with_track(rng, shape=(64, 64))
    bad = np.zeros(image.shape, bool)
    bad[5:10, 5:10] = True
    ccd = CCDData(image, unit="electron", mask=bad)
    result = detect_cosmic_rays(ccd, model="ground", inpaint=True)
    assert isinstance(result.cleaned, CCDData) and result.cleaned.unit == "electron"
    assert np.array_equal(result.cleaned.mask, bad) and not result.cr_mask[bad].any()
    masked = detect_cosmic_rays(np.ma.MaskedArray(image, mask=bad), model="ground", inpaint=True)
    assert isinstance(masked.cleaned, np.ma.MaskedArray) and np.array_equal(masked.cleaned.mask, bad)
    assert not masked.cr_mask[bad].any() and masked.cr_mask[truth].mean() > 0.8


# 7. untrained models are refused unless asked for; `astroclean models` shows what ships --------------------------


def test_untrained_models_are_refused_unless_asked_for(tmp_path, rng, capsys):
    from astroclean.errors import AstrocleanValueError

    with pytest.raises(AstrocleanValueError, match="no trained weights"):
        CosmicRayDetector("unet-bn")
    with pytest.raises(AstrocleanValueError, match="no trained weights"):
        detect_cosmic_rays(np.ones((16, 16)), model="unet-bn")
    path = _hst_frame(tmp_path / "a.fits", rng)
    assert main(["cosmic", str(path), "-o", str(tmp_path / "o"), "--model", "unet-bn", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "no trained weights" in err and "--untrained" in err
    assert not (tmp_path / "o" / "a.cr.fits").exists()
    assert main(["cosmic", str(path), "-o", str(tmp_path / "o"), "--model", "unet-bn", "--untrained",
                 "--no-progress"]) == 0


def test_models_lists_shipped_models_per_task_and_marks_the_defaults(capsys):
    assert main(["models", "--task", "cosmic"]) == 0
    out = capsys.readouterr().out
    assert "ground  [cosmicrays]" in out and "space  [cosmicrays]" in out and "unet-bn" not in out
    assert "default of `astroclean cosmic` for ground-based frames" in out and "pacs-blue" not in out
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "unet-bn" not in out and "default of `astroclean sources` for PACS 160 um" in out
    assert main(["models", "--all"]) == 0
    assert "unet-bn" in capsys.readouterr().out
