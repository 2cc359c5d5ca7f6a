"""Science analyses of the cosmic-ray benchmark: near stars, photometry, density sweep, self-test."""

import math

import numpy as np
import pytest

from astroclean.errors import AstrocleanValueError
from astroclean.cosmicrays.evaluate.cases import BenchmarkCase
from astroclean.cosmicrays.evaluate.density import density_sweep, inject_case
from astroclean.cosmicrays.evaluate.peers import Detector
from astroclean.cosmicrays.evaluate.photometry import RAW, TRUTH, photometry_metrics
from astroclean.cosmicrays import CosmicRayDetector
from astroclean.cosmicrays.evaluate.selftest import run_selftest
from astroclean.cosmicrays.evaluate.stars import clean_background, star_region_metrics
from astroclean.metrics import isophote_regions
from astroclean.cosmicrays.simulate import inject_cosmic_rays
from astroclean.simulate import simulate_star_field

FLUXES = (1e4, 2e4, 4e4, 8e4, 1.6e5, 3.2e5, 5e3, 2.5e4, 6e4)


def star_case(seed=0, *, offset=(-4, 1), cr=800.0, n=120, sky=200.0, sigma=2.0, name="field"):
    """Nine Gaussian stars on a sky (electrons, Poisson noise), a 3-pixel track at ``offset`` from each
    centre, and two tracks in the empty sky."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:n, :n]
    centres = [(30 + 30 * (k // 3), 30 + 30 * (k % 3)) for k in range(len(FLUXES))]
    model = np.full((n, n), sky)
    for (cy, cx), flux in zip(centres, FLUXES):
        model += flux / (2 * np.pi * sigma**2) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma**2))
    clean = rng.poisson(model).astype(np.float32)
    truth = np.zeros((n, n), bool)
    for cy, cx in centres:
        truth[cy + offset[0], cx + offset[1]:cx + offset[1] + 3] = True
    truth[8, 50:56] = True
    truth[100:104, 110] = True
    noise = np.sqrt(model).astype(np.float32)
    return BenchmarkCase(name=name, flavour="ground", image=clean + np.float32(cr) * truth, clean=clean, truth=truth,
                         snr=np.where(truth, cr / noise, 0).astype(np.float32), bad=np.zeros((n, n), bool),
                         noise=noise, gain=1.0, read_noise=0.0)


def is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------------------------- near stars

@pytest.fixture(scope="module")
def core_cases():
    """Hits on the star cores (every isophote gets truth pixels) and in the sky."""
    return [star_case(0, offset=(0, -1)), star_case(1, offset=(1, -2), name="field2")]


def test_star_regions_perfect_and_empty_masks(core_cases, tmp_path):
    perfect = [c.truth for c in core_cases]
    empty = [np.zeros_like(c.truth) for c in core_cases]
    result = star_region_metrics(core_cases, {"perfect": perfect, "empty": empty})
    assert result.regions[:2] == ("all", "sky") and len(result.regions) == 2 + 7
    with_truth = [r for r in result.regions if result.row("perfect", r)["n_truth"] > 0]
    assert set(with_truth) == set(result.regions)          # the case puts truth in every region
    for region in result.regions:
        p, e = result.row("perfect", region), result.row("empty", region)
        assert p["recall"] == 1.0 and p["precision"] == 1.0 and p["fp"] == 0
        assert e["recall"] == 0.0 and math.isnan(e["precision"]) and e["n_flagged"] == 0
        assert p["n_cases"] == 2
    assert result.row("perfect", "all")["n_truth"] == sum(int(c.truth.sum()) for c in core_cases)
    table = result.table()
    assert len(table) == 2 * 9 and "recall" in table.colnames
    assert is_png(result.plot(tmp_path / "star_regions.png"))


def test_star_regions_counts_match_a_direct_computation(core_cases):
    case = core_cases[0]
    half = case.truth.copy()
    half[:, ::2] = False                                    # flag every other column of the truth
    false_alarm = np.zeros_like(half)
    false_alarm[60, 50:54] = True                           # in the sky, between stars
    result = star_region_metrics([case], {"half": [half | false_alarm]}, min_pixels=1)
    background, rms = clean_background(case)
    regions = isophote_regions(case.clean, background=background, rms=rms, levels=(3, 10, 160))
    for k in (3, 10, 160):
        row = result.row("half", f">{k} rms")
        inside = case.truth & regions[k]
        assert row["n_truth"] == inside.sum()
        assert row["tp"] == (inside & half).sum()
        assert row["recall"] == pytest.approx((inside & half).sum() / inside.sum())
    everything = result.row("half", "all")
    assert everything["fp"] == false_alarm.sum()
    assert everything["precision"] == pytest.approx(half.sum() / (half.sum() + false_alarm.sum()))


def test_star_regions_exclusive_bins_partition_the_image(core_cases):
    result = star_region_metrics(core_cases, {"perfect": [c.truth for c in core_cases]}, exclusive=True)
    rows = [result.row("perfect", r) for r in result.regions]
    assert rows[0]["n_truth"] == sum(r["n_truth"] for r in rows[1:])
    assert rows[0]["n_pixels"] == sum(r["n_pixels"] for r in rows[1:])
    assert result.regions[2] == "3-5 rms" and result.regions[-1] == ">160 rms"


def test_masks_are_validated(core_cases):
    good = [c.truth for c in core_cases]
    with pytest.raises(AstrocleanValueError, match="one per case"):
        star_region_metrics(core_cases[:1], {"m": good[0]})
    with pytest.raises(AstrocleanValueError, match="2 cases"):
        star_region_metrics(core_cases, {"m": good[:1]})
    with pytest.raises(AstrocleanValueError, match="shape"):
        star_region_metrics(core_cases, {"m": [good[0], good[1][:5]]})
    with pytest.raises(AstrocleanValueError, match="boolean"):
        star_region_metrics(core_cases, {"m": [g.astype(float) for g in good]})
    with pytest.raises(AstrocleanValueError, match="reserved"):
        photometry_metrics(core_cases, {RAW: good})
    # a method without a result on one case (None, or a missing name) is pooled over the others
    result = star_region_metrics(core_cases, {"m": {core_cases[0].name: good[0]}})
    assert result.row("m", "all")["n_cases"] == 1


# ----------------------------------------------------------------------------------------------- photometry

def test_perfect_mask_restores_photometry_and_empty_mask_does_not(tmp_path):
    case = star_case(0)                                     # hits in the stars' wings
    before = {k: np.copy(getattr(case, k)) for k in ("image", "clean", "truth")}
    masks = {"perfect": [case.truth], "empty": [np.zeros_like(case.truth)]}
    result = photometry_metrics([case], masks)
    raw, perfect, empty = result.row(RAW), result.row("perfect"), result.row("empty")
    assert raw["n_stars"] == len(FLUXES)
    assert raw["frac_contaminated"] > 0.5 and raw["frac_hit"] > 0.5 and raw["ratio_median"] > 1
    assert perfect["frac_contaminated"] == 0.0 and perfect["frac_hit"] == 0.0
    assert perfect["frac_restored"] == 1.0 and perfect["n_damaged"] == 0
    assert abs(perfect["ratio_median"] - 1) < 0.01
    assert result.row(TRUTH)["frac_contaminated"] == 0.0
    assert empty["frac_contaminated"] == raw["frac_contaminated"] and empty["frac_restored"] == 0.0
    for key, value in before.items():                       # inputs untouched
        np.testing.assert_array_equal(getattr(case, key), value)
    assert len(result.stars_table()) == len(FLUXES)
    assert set(result.table()["method"]) == {RAW, TRUTH, "perfect", "empty"}
    assert is_png(result.plot(tmp_path / "photometry.png"))


def test_a_mask_on_star_cores_damages_photometry():
    case = star_case(0)
    cores = np.zeros_like(case.truth)
    for k in range(len(FLUXES)):
        cy, cx = 30 + 30 * (k // 3), 30 + 30 * (k % 3)
        cores[cy - 1:cy + 2, cx - 1:cx + 2] = True
    result = photometry_metrics([case], {"cores": [case.truth | cores]})
    row = result.row("cores")
    assert row["frac_contaminated"] > 0.5 and row["ratio_median"] < 0.99
    assert row["frac_hit"] == 0.0                           # every hit flagged, yet the fluxes are wrong


def test_fill_method_is_used_for_every_mask():
    case = star_case(0, offset=(-1, 0))                     # hits right next to the cores
    median = photometry_metrics([case], {"perfect": [case.truth]}, fill="median").row("perfect")
    smooth = photometry_metrics([case], {"perfect": [case.truth]}, fill="biharmonic").row("perfect")
    assert median["frac_contaminated"] > 0.5                # a median fill under-fills a peaked profile
    assert smooth["frac_contaminated"] < 0.2


# ----------------------------------------------------------------------------------------------- density

class OracleDetector(Detector):
    """Flags the pixels that differ from a known clean image (a perfect detector of charged pixels)."""

    name = "oracle"

    def __init__(self, clean):
        self.clean = clean

    def _detect(self, prep):
        return prep.data != self.clean

    def _score(self, prep):
        return (prep.data != self.clean).astype(np.float32)


class BrokenDetector(Detector):
    name = "broken"

    def _detect(self, prep):
        raise RuntimeError("out of cheese")


@pytest.fixture(scope="module")
def sky():
    return simulate_star_field((96, 96), rng=3, n_stars=40, n_galaxies=0, psf_fwhm=2.5, sky=200.0,
                               flux_range=(2e3, 2e5))


def test_density_sweep_is_monotonic_for_the_raw_image(sky, tmp_path):
    detectors = {"oracle": OracleDetector(sky.data), "broken": BrokenDetector()}
    result = density_sweep([sky], detectors, densities=(0.002, 0.01, 0.05, 0.15), rng=0)
    assert result.methods == (RAW, TRUTH, "oracle", "broken")
    hit, moved = result.series(RAW, "frac_hit"), result.series(RAW, "frac_contaminated")
    assert np.all(np.diff(hit) >= 0) and np.all(np.diff(moved) >= 0)
    assert hit[-1] > hit[0] and moved[-1] > 0.2
    assert np.all(result.series("oracle", "frac_hit") == 0)
    # the truth is the dilated footprint; the oracle flags only the charged pixels inside it
    assert np.all(result.series("oracle", "precision") == 1) and np.all(result.series("oracle", "tpr") > 0.1)
    measured = result.series(RAW, "density_measured")
    assert np.all(np.diff(measured) > 0) and measured[-1] == pytest.approx(0.15, abs=0.02)
    assert len(result.failures) == 4 and "out of cheese" in result.failures[0]
    assert np.all(np.isnan(result.series("broken", "tpr")))
    assert len(result.table()) == 4 * 4
    assert is_png(result.plot(tmp_path / "density.png"))
    again = density_sweep([sky], {}, densities=(0.002, 0.01, 0.05, 0.15), rng=0)
    np.testing.assert_array_equal(again.series(RAW, "frac_hit"), hit)


def test_density_sweep_rejects_bad_densities(sky):
    with pytest.raises(AstrocleanValueError, match="densities"):
        density_sweep([sky], {}, densities=(0.0, 0.6))


def test_inject_case_packages_the_truth(sky):
    case = inject_case(sky, rng=1, density=0.01)
    assert case.truth.any() and case.truth.dtype == bool and case.gain == sky.gain
    np.testing.assert_array_equal(case.clean, sky.data)
    assert np.all(case.image[~case.truth] == case.clean[~case.truth])
    assert case.meta["density_measured"] == pytest.approx(0.01, abs=0.005)


# ----------------------------------------------------------------------------------------------- self-test

def test_selftest_with_a_perfect_model(sky, tmp_path):
    seed = 7
    # run_selftest's first use of its rng is the injection into the first frame: replay it to build an oracle
    _, truth = inject_cosmic_rays(sky, rng=np.random.default_rng(seed), library="benchmark", density=0.01)

    def oracle(image):
        injected = not np.array_equal(image.data, sky.data)
        return truth.mask.astype(np.float32) if injected else np.zeros(sky.shape, np.float32)

    result = run_selftest([sky], model=oracle, threshold=0.5, density=0.01, rng=seed)
    p = result.pooled
    assert p["recall"] == 1.0 and p["precision"] == 1.0 and p["fdr"] == 0.0 and p["fdr_lower"] == 0.0
    assert p["threshold_at_fdr"] == 1.0 and p["recall_at_fdr"] == 1.0
    assert p["n_truth"] == truth.mask.sum() and p["n_hits"] == truth.n_hits
    assert "recall 1.0000" in result.summary()
    assert len(result.table()) == 2
    assert is_png(result.plot(tmp_path / "selftest.png"))


def test_selftest_counts_native_cosmic_rays_as_false_positives(tmp_path):
    rng = np.random.default_rng(0)
    frames = [rng.normal(500.0, 10.0, (80, 80)).astype(np.float32) for _ in range(2)]
    frames[0][40, 10:20] += 3000.0                          # a cosmic ray already in the user's frame
    snr = lambda image: (image.data - 500.0) / 10.0         # noqa: E731  a toy model
    result = run_selftest(frames, model=snr, threshold=6.0, target_fdr=0.05, density=0.01, rng=2)
    first, pooled = result.frames[0], result.pooled
    assert first["fp"] >= 10 and first["fdr_lower"] < first["fdr"]
    assert 0 < pooled["recall"] < 1 and math.isfinite(pooled["threshold_at_fdr"])
    assert pooled["tp"] == sum(f["tp"] for f in result.frames)
    assert [f["frame"] for f in result.frames] == ["frame0", "frame1"]
    again = run_selftest(frames, model=snr, threshold=6.0, density=0.01, rng=2, lower_bound=False)
    assert again.pooled["tp"] == pooled["tp"] and math.isnan(again.pooled["fdr_lower"])


def test_selftest_reads_fits_and_runs_a_registered_model(tmp_path):
    from astropy.io import fits

    data = np.random.default_rng(1).normal(100.0, 5.0, (64, 64)).astype(np.float32)
    path = tmp_path / "frame.fits"
    fits.PrimaryHDU(data).writeto(path)
    # "unet-bn" has random weights: this checks the plumbing, not the model
    result = run_selftest(str(path), model=CosmicRayDetector("unet-bn", allow_untrained=True), density=0.01, rng=0, lower_bound=False)
    p = result.pooled
    assert p["n_truth"] > 0 and p["tp"] + p["fn"] == p["n_truth"] and result.model == "unet-bn"
    assert result.threshold == 0.5 and "frame.fits" in result.frames[0]["frame"]


def test_selftest_validates():
    with pytest.raises(AstrocleanValueError, match="target_fdr"):
        run_selftest([np.zeros((8, 8))], model=lambda im: im.data, target_fdr=2.0)
    with pytest.raises(AstrocleanValueError, match="at least one image"):
        run_selftest([], model=lambda im: im.data)
    with pytest.raises(AstrocleanValueError, match="model must be"):
        run_selftest([np.ones((32, 32))], model=3.0)


def test_saturated_star_analysis_counts_flags_beside_saturation(tmp_path):
    import numpy as np

    from astroclean.cosmicrays.evaluate.benchmark_set import build_benchmark_set
    from astroclean.cosmicrays.evaluate.saturated import saturated_star_metrics

    class FlagsEverything:
        def detect(self, image, *, mask=None, **_):
            return np.ones(image.shape, bool)

    class FlagsNothing:
        def detect(self, image, *, mask=None, **_):
            return np.zeros(image.shape, bool)

    cases = build_benchmark_set("quick")[:2]
    res = saturated_star_metrics(cases, {"all": FlagsEverything(), "none": FlagsNothing()}, rng=1)
    rows = {r["method"]: r for r in res.rows}
    assert rows["all"]["saturated_regions"] >= 2 and rows["all"]["damaged_region_fraction"] == 1.0
    assert rows["all"]["ring_flags"] > 0 and rows["all"]["flagged_fraction_elsewhere"] == 1.0
    assert rows["none"]["ring_flags"] == 0 and rows["none"]["damaged_region_fraction"] == 0.0
    assert res.plot(tmp_path / "saturated.png").is_file() and len(res.table()) == 2
