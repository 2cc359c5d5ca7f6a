"""The cosmic-ray benchmark: set building, harness, report and command line (astroclean.evaluate)."""

import importlib.util
import sys

import numpy as np
import pytest

from astroclean.errors import AstrocleanFileError, AstrocleanKeyError, AstrocleanValueError
from astroclean.cosmicrays.evaluate import benchmark_set as bset
from astroclean.cosmicrays.evaluate.cases import BenchmarkCase
from astroclean.cosmicrays.evaluate.harness import check_case, run_benchmark, scored_truth
from astroclean.cosmicrays.evaluate.peers import Detector, _FACTORIES, register_detector
from astroclean.cosmicrays.evaluate.report import write_report


# ----------------------------------------------------------------------------- synthetic cases and fake detectors

def _case(seed, flavour, shape=(80, 90), n_hits=25):
    """Noise with short injected tracks: truth = 3x3-dilated footprint, snr > 0 only on the charged core."""
    rng = np.random.default_rng(seed)
    clean = rng.normal(100.0, 5.0, shape).astype(np.float32)
    signal = np.zeros(shape, np.float32)
    for _ in range(n_hits):
        y, x = rng.integers(2, shape[0] - 3), rng.integers(2, shape[1] - 5)
        signal[y, x:x + rng.integers(1, 4)] = rng.uniform(10, 500)
    core = signal > 0
    truth = core.copy()
    truth[1:, :] |= core[:-1, :]
    truth[:-1, :] |= core[1:, :]
    truth[:, 1:] |= truth[:, :-1].copy()
    truth[:, :-1] |= truth[:, 1:].copy()
    bad = np.zeros(shape, bool)
    bad[0, :5] = True
    truth &= ~bad
    return BenchmarkCase(name=f"{flavour}/synthetic/{seed}", flavour=flavour, image=clean + signal, clean=clean,
                         truth=truth, snr=(signal / 5.0) * truth, bad=bad, noise=np.full(shape, 5.0, np.float32))


@pytest.fixture(scope="module")
def cases():
    return [_case(s, f) for s, f in ((1, "space"), (2, "space"), (3, "ground"), (4, "ground"), (5, "crowded"))]


class Oracle(Detector):
    """Knows the injected signal of every case (found by its image): score = injected S/N."""

    family = "test"
    threshold = 0.5

    def __init__(self, cases, name="oracle"):
        self.cases, self.name = cases, name

    def _score(self, prep):
        for c in self.cases:
            if c.image.shape == prep.data.shape and np.array_equal(c.image, prep.data):
                return c.snr
        raise RuntimeError("unknown image")


class Noise(Detector):
    family = "test"
    threshold = 0.99

    def __init__(self, name="random", seed=0):
        self.name, self.rng = name, np.random.default_rng(seed)

    def _score(self, prep):
        return self.rng.random(prep.data.shape)


class Crash(Detector):
    family = "test"
    threshold = 0.5

    def __init__(self, name="crash", only=None):
        self.name, self.only = name, only

    def _score(self, prep):
        if self.only is None or prep.data.shape == self.only:
            raise RuntimeError("peer exploded")
        return np.zeros(prep.data.shape)


# ----------------------------------------------------------------------------- benchmark set

def test_set_is_reproducible_and_uses_only_the_benchmark_split(monkeypatch):
    seen = []
    real_bg, real_lib = bset.load_backgrounds, bset.load_cosmic_ray_library
    monkeypatch.setattr(bset, "load_backgrounds", lambda f, split, **k: seen.append(split) or real_bg(f, split, **k))
    monkeypatch.setattr(bset, "load_cosmic_ray_library", lambda split: seen.append(split) or real_lib(split))
    a, b = bset.build_benchmark_set("quick"), bset.build_benchmark_set("quick")
    assert set(seen) == {"benchmark"}
    assert bset.set_digest(a) == bset.set_digest(b)
    assert {c.flavour for c in a} == {"space", "ground", "crowded"}
    for c in a:
        assert c.meta["library_split"] == "benchmark" and c.meta["recipe_version"] == bset.RECIPE_VERSION
        assert check_case(c) == "" and c.n_cr_pixels > 0
        assert np.allclose((c.image - c.clean)[~c.truth & ~c.bad], 0)          # charge only inside the truth
    assert bset.set_digest(bset.build_benchmark_set("quick", rng=1)) != bset.set_digest(a)
    with pytest.raises(AstrocleanKeyError):
        bset.build_benchmark_set("nope")


def test_default_recipe_names_shipped_backgrounds_only():
    for flavour, names in bset.RECIPES["default"]["backgrounds"].items():
        assert set(names) <= {b.name for b in bset.load_backgrounds(flavour, "benchmark")}


def test_save_load_round_trip_and_no_silent_overwrite(tmp_path, cases):
    path = bset.save_benchmark_set(cases, tmp_path / "set.npz", recipe={"custom": True})
    back = bset.load_benchmark_set(path)
    assert bset.set_digest(back) == bset.set_digest(cases)
    assert [c.name for c in back] == [c.name for c in cases] and back[0].truth.dtype == bool
    with pytest.raises(AstrocleanFileError):
        bset.save_benchmark_set(cases, path)
    bset.save_benchmark_set(cases[:1], path, overwrite=True)
    assert len(bset.load_benchmark_set(path)) == 1


# ----------------------------------------------------------------------------- harness

def test_perfect_and_random_detectors(cases):
    res = run_benchmark(cases, [Oracle(cases), Noise()], rng=0, n_boot=30)
    perfect = res.row("oracle", "all")
    assert perfect["status"] == "ok" and perfect["n_cases"] == len(cases)
    assert perfect["tpr@fpr=0.0001"] == 1.0 and perfect["auc"] == 1.0 and perfect["f1"] == 1.0
    assert perfect["n_positive"] == sum(int((c.snr > 0).sum()) for c in cases)
    rand = res.row("random", "all")
    assert rand["tpr@fpr=0.001"] < 0.02 and abs(rand["auc"] - 0.5) < 0.1
    assert rand["tpr@fpr=0.001_low"] <= rand["tpr@fpr=0.001"] <= rand["tpr@fpr=0.001_high"]
    assert [r["flavour"] for r in res.rows[:4]] == ["space", "ground", "crowded", "all"]
    assert {t["method"] for t in res.timing} == {"oracle", "random"}
    footprint = run_benchmark(cases, [Oracle(cases)], rng=0, n_boot=10, truth="footprint").row("oracle")
    assert footprint["n_positive"] == sum(int(c.truth.sum()) for c in cases) > perfect["n_positive"]
    assert footprint["tpr@fpr=0.0001"] < 1.0                 # the zero-charge halo cannot be found by charge


def test_crashing_detector_is_marked_and_others_complete(cases):
    res = run_benchmark(cases, [Crash(), Crash("crash-some", only=(80, 90)), Oracle(cases)], rng=0, n_boot=10)
    row = res.row("crash")
    assert row["status"] == "failed" and "peer exploded" in row["reason"] and row["n_cases"] == 0
    assert res.row("crash-some")["status"] == "failed"       # every synthetic case has that shape
    assert res.row("oracle")["status"] == "ok"
    assert all(r.status == "failed" for (m, _), r in res.runs.items() if m == "crash")


def test_unavailable_method_is_skipped_with_reason(cases):
    res = run_benchmark(cases[:2], ["astroclean:no-such-model", Oracle(cases)], rng=0, n_boot=10)
    row = res.row("astroclean:no-such-model")
    assert row["status"] == "skipped" and "no-such-model" in row["reason"]


def test_bad_cases_are_skipped_with_a_clear_reason(cases):
    wrong = BenchmarkCase(**{**cases[0].__dict__, "name": "wrong", "truth": np.zeros((3, 3), bool)})
    missing = BenchmarkCase(**{**cases[0].__dict__, "name": "missing", "truth": None})
    res = run_benchmark([wrong, missing, cases[1]], [Oracle(cases)], rng=0, n_boot=10)
    assert "shape (3, 3)" in res.skipped_cases["wrong"] and "(80, 90)" in res.skipped_cases["wrong"]
    assert "no truth" in res.skipped_cases["missing"]
    assert [c.name for c in res.cases] == [cases[1].name] and res.row("oracle")["status"] == "ok"
    with pytest.raises(AstrocleanValueError, match="none of the"):
        run_benchmark([wrong], [Oracle(cases)], rng=0)
    with pytest.raises(AstrocleanValueError, match="truth"):
        run_benchmark(cases, [Oracle(cases)], rng=0, truth="dilated")


def test_scored_truth_ignores_the_halo_and_faint_charge(cases):
    case = cases[0]
    positives, ignore = scored_truth(case)
    assert not (positives & ignore).any() and (case.truth & ~positives).any()
    assert ((case.truth & ~positives) <= ignore).all() and (positives == (case.snr > 0)).all()
    faint = np.where(case.snr > 0, 1.0, case.snr).astype(np.float32)          # every charged pixel at 1 sigma
    weak = BenchmarkCase(**{**case.__dict__, "snr": faint})
    assert not scored_truth(weak)[0].any() and scored_truth(weak, min_snr=0)[0].sum() == positives.sum()
    assert (scored_truth(case, "footprint")[0] == case.truth).all()


def test_our_model_adapter(cases):
    from astroclean.cosmicrays.evaluate.ours import AstrocleanDetector, make_ours

    assert not AstrocleanDetector("unet-bn").available()[0]            # no weights: not a result
    det = make_ours("astroclean:unet-bn")
    assert det.available() == (True, "") and det.describe()["untrained"] is True
    image = cases[0].image
    score = det.score(image, mask=cases[0].bad)
    assert score.shape == image.shape
    assert (det.mask_from_score(score) == det.detect(image, mask=cases[0].bad)).all()


# ----------------------------------------------------------------------------- report and command line

def test_report_is_written_and_not_overwritten(tmp_path, monkeypatch, cases):
    res = run_benchmark(cases, [Oracle(cases), Noise(), Crash()], rng=0, n_boot=10)
    monkeypatch.setitem(sys.modules, "astroclean.cosmicrays.evaluate.density", None)   # an analysis that cannot be imported
    paths = write_report(res, tmp_path, analyses=("stars", "density"))
    for name in ("table.md", "table.ecsv", "timing.md", "timing.ecsv", "roc.png", "pr.png", "star_regions.png"):
        assert (tmp_path / name).stat().st_size > 0 and name in paths
    text = (tmp_path / "table.md").read_text()
    assert "| oracle |" in text and "crash: failed" in text and "density: skipped" in text
    from astropy.table import Table

    table = Table.read(tmp_path / "table.ecsv")
    assert len(table) == 3 * 4 and "tpr@fpr=0.0001_low" in table.colnames
    before = (tmp_path / "table.md").read_text()
    with pytest.raises(AstrocleanFileError, match="overwrite"):
        write_report(res, tmp_path, analyses=())
    assert (tmp_path / "table.md").read_text() == before
    write_report(res, tmp_path, analyses=(), overwrite=True)


@pytest.fixture
def fake_peer(cases):
    name = "test-oracle"
    quick = bset.build_benchmark_set("quick")
    register_detector(name, lambda **o: Oracle(quick, name=name))
    yield name
    _FACTORIES.pop(name, None)


def test_cli_quick_end_to_end(tmp_path, monkeypatch, fake_peer):
    from astroclean.cli import main

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    methods = fake_peer + (",astroscrappy" if importlib.util.find_spec("astroscrappy") else "")
    args = ["evaluate", "cosmic-rays", "--quick", "-o", str(tmp_path / "bench"), "--methods", methods,
            "--analyses", "none", "--n-boot", "10"]
    assert main(args) == 0
    text = (tmp_path / "bench" / "table.md").read_text()
    assert "| test-oracle | 1.000" in text and "recipe quick" in text
    assert main(args) == 2                                  # refuses to overwrite, before running anything


def test_cli_selftest_on_user_frames(tmp_path, monkeypatch):
    from astropy.io import fits

    from astroclean.cli import main

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    frame = np.random.default_rng(2).normal(500.0, 10.0, (96, 96)).astype(np.float32)
    fits.writeto(tmp_path / "frame.fits", frame)
    out = tmp_path / "out"
    args = ["evaluate", "cosmic-rays", "--images", str(tmp_path / "frame.fits"), "--inject", "--model", "unet-bn", "--untrained",
            "-o", str(out)]   # untrained architecture: this tests the plumbing only
    assert main(args) == 0
    assert {p.name for p in out.iterdir()} == {"selftest.ecsv", "selftest.png", "selftest.txt"}
    assert main(args) == 2                                  # no silent overwrite
    assert main(["evaluate", "cosmic-rays", "--inject", "-o", str(out)]) == 2
