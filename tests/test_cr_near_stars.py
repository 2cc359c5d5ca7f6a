"""The near-stars cosmic-ray benchmark recipe: hits placed on stars of the clean held-out tiles (issue 10)."""

import copy

import numpy as np
import pytest

from astroclean.cosmicrays.evaluate import benchmark_set as bset
from astroclean.cosmicrays.evaluate.peers import _FACTORIES, register_detector
from astroclean.cosmicrays.simulate import load_cosmic_ray_library
from astroclean.cosmicrays.simulate.inject import inject_into_arrays


def _tiny():
    """One 128 px crop of an SDSS frame with a few stars (peak >= 10 RMS): seconds, not minutes."""
    recipe = copy.deepcopy(bset.RECIPES["near-stars"])
    recipe.update(backgrounds={"ground": ["sdss_g[:, 510:]"]}, crop=128, tile=128, realisations={"ground": 1})
    recipe["on_stars"]["min_peak_rms"] = 10.0
    return recipe


def test_inject_on_centres_stays_near_them_and_empty_centres_inject_nothing():
    library = load_cosmic_ray_library("benchmark")
    shape = (300, 300)
    args = dict(library=library, density=0.01, snr_range=(3.0, 3000.0), simulated_fraction=0.0)
    data, sigma, bad = np.zeros(shape), np.ones(shape), np.zeros(shape, bool)
    _, truth, peaks, _, pos = inject_into_arrays(data, sigma, bad, rng=1, centres=[(150, 150)], spread=2,
                                                 max_hits=8, **args)
    assert 0 < len(peaks) <= 8 and truth.any()
    ys, xs = np.nonzero(truth)
    # every hit's stamp is centred within 2 px of the star: its pixels lie within half a stamp of it
    assert np.abs(ys - 150).max() < 150 and np.abs(xs - 150).max() < 150
    spread_uniform = inject_into_arrays(data, sigma, bad, rng=1, max_hits=8, **args)[1]
    dist = lambda t: np.hypot(*(np.nonzero(t) - np.array([[150], [150]]))).mean()  # noqa: E731
    assert dist(truth) < dist(spread_uniform)
    _, none, peaks, _, _ = inject_into_arrays(data, sigma, bad, rng=1, centres=np.zeros((0, 2)), **args)
    assert not none.any() and len(peaks) == 0


def test_tiny_near_stars_set_puts_hits_on_stars():
    cases = bset.build_benchmark_set(_tiny())
    assert len(cases) == 1
    case = cases[0]
    assert case.meta["n_stars"] > 0 and 0 < case.meta["n_hits"] <= 4 * case.meta["n_stars"]
    assert case.meta["library_split"] == "benchmark"
    assert np.allclose((case.image - case.clean)[~case.truth & ~case.bad], 0)
    from astroclean.cosmicrays.evaluate.stars import _regions

    regions = _regions(case, (10,), False, 1, 64)
    inside = regions[">10 rms"][2]
    scored = case.truth & (case.snr >= 1.5)
    assert (scored & inside).sum() > 0.2 * scored.sum()         # uniform placement puts ~0.5% there


def test_default_recipes_untouched_by_the_near_stars_recipe():
    assert "on_stars" not in bset.RECIPES["default"] and "on_stars" not in bset.RECIPES["quick"]
    assert bset.set_digest(bset.build_benchmark_set("quick")) == "594b864f5fa48db2"


@pytest.fixture
def tiny_recipe(monkeypatch):
    monkeypatch.setitem(bset.RECIPES, "near-stars", _tiny())
    cases = bset.build_benchmark_set("near-stars")

    from astroclean.cosmicrays.evaluate.peers import Detector

    class Oracle(Detector):
        family, threshold, name = "test", 0.5, "test-near-stars-oracle"

        def _score(self, prep):
            return next(c.snr for c in cases if np.array_equal(c.image, prep.data))

    register_detector(Oracle.name, lambda **o: Oracle())
    yield Oracle.name
    _FACTORIES.pop(Oracle.name, None)


def test_cli_near_stars_with_stars_and_photometry(tmp_path, monkeypatch, tiny_recipe):
    from astroclean.cli import main

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    out = tmp_path / "bench"
    args = ["evaluate", "cosmic-rays", "--benchmark", "near-stars", "-o", str(out), "--methods", tiny_recipe,
            "--analyses", "stars,photometry", "--n-boot", "10"]
    assert main(args) == 0
    for name in ("table.md", "star_regions.ecsv", "photometry.ecsv"):
        assert (out / name).stat().st_size > 0
    assert "recipe near-stars" in (out / "table.md").read_text()
