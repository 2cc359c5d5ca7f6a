"""The compact-source benchmark (astroclean.sources.evaluate.benchmark*) on stand-in maps and removers."""

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest
from astropy.table import Table

from astroclean.errors import AstrocleanFileError
from astroclean.sources.evaluate.benchmark import flux_levels, injected_snr, run_sources_benchmark, spectra_per_map
from astroclean.evaluate.docs import update_docs_page
from astroclean.sources.evaluate.report import REPORT_FILES, write_sources_report
from astroclean.sources.evaluate.summary import evaluate_targets, summarise_levels
from test_sources_photometry import GaussianPsf, stamp_sources

LEVELS = (0.05, 0.3, 2.0)
NOISE = 1e-3


@dataclass(frozen=True)
class Truth:
    table: Table
    background: np.ndarray
    meta: dict = field(default_factory=dict)


def make_maps(n_maps=2, shape=(160, 160), seed=0):
    """Smooth random backgrounds + white noise, 3 levels x 4 sources on a grid, NaN corner (no coverage)."""
    rng = np.random.default_rng(seed)
    psf = GaussianPsf.make()
    maps = []
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    for i in range(n_maps):
        phase = rng.uniform(0, 2 * np.pi, 2)
        background = (0.002 * np.sin(2 * np.pi * xx / 70 + phase[0]) * np.cos(2 * np.pi * yy / 50 + phase[1])
                      + rng.normal(0, NOISE, shape))
        background[:20, :20] = np.nan
        gx, gy = np.meshgrid(np.arange(35, 130, 30.0), np.arange(40, 130, 30.0))
        x = gx.ravel() + rng.uniform(-0.5, 0.5, gx.size)
        y = gy.ravel() + rng.uniform(-0.5, 0.5, gx.size)
        flux = np.array(LEVELS * (x.size // len(LEVELS)))
        image = background + stamp_sources(shape, x, y, flux, psf)
        maps.append((image, Truth(Table({"x": x, "y": y, "flux": flux}), background, {"background": f"bg{i}"})))
    return maps, psf


def circle_holes(shape, x, y, radius=6.0):
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    hole = np.zeros(shape, bool)
    for xi, yi in zip(x, y):
        hole |= np.hypot(xx - xi, yy - yi) <= radius
    return hole


def remover(maps, *, fill):
    """A removal stand-in: holes of 6 px filled by ``fill(image, hole, truth_background)``."""
    truths = {id(image): truth for image, truth in maps}

    def remove(image, x, y):
        true = truths[id(image)].background
        hole = circle_holes(image.shape, x, y) & np.isfinite(image)
        background = np.where(hole, fill(image, hole, true), image)
        table = Table({"snr": np.full(len(x), 50.0), "radius": np.full(len(x), 6.0), "status": ["ok"] * len(x)})
        return SimpleNamespace(background=background, hole=hole, table=table)

    return remove


def test_oracle_removal_recovers_fluxes_and_spectra():
    maps, psf = make_maps()
    bench = run_sources_benchmark(maps, remover(maps, fill=lambda image, hole, true: true), psf=psf, noise=[NOISE] * 2)
    judged = bench.levels[bench.levels["judged"]]
    assert len(judged) == 2  # 0.3 and 2 Jy; 0.05 Jy is below S/N 5 for this PSF and noise
    assert np.all(np.abs(judged["median_ratio"] - 1) < 0.02)
    below = bench.levels[~bench.levels["judged"]]
    assert list(below["flux"]) == [0.05] and "below limit" in below["population"][0]
    # with the true background in the holes the difference map is only the PSF wings beyond 6 px
    assert bench.pixels["std"][0] == 0.0 and bench.pixels["n"][0] > 0
    assert np.all(np.abs(bench.spectra["ratio_minus_1"] - bench.spectra["oracle_ratio_minus_1"]) < 1e-12)
    assert bench.throughput["n_sources"] == 24 and bench.throughput["sources_per_second"] > 0
    names = [t["name"] for t in bench.targets]
    assert any("median flux ratio" in n for n in names) and any("throughput" in n for n in names)
    assert bench.targets[0]["passed"] is True
    assert bench.example and bench.example["input"].shape == (48, 48)


def test_a_bad_background_fails_the_targets():
    maps, psf = make_maps()
    zero_fill = remover(maps, fill=lambda image, hole, true: np.nanmedian(image) + 0.01)  # a big offset
    bench = run_sources_benchmark(maps, zero_fill, psf=psf, noise=[NOISE] * 2)
    judged = bench.levels[bench.levels["judged"]]
    assert np.all(judged["median_ratio"] < 0.9)
    flux_target = bench.targets[0]
    assert flux_target["passed"] is False
    spectra_target = [t for t in bench.targets if "power spectra" in t["name"]][0]
    assert spectra_target["passed"] is False
    assert bench.pixels["mean"][0] > 5  # (predicted - true) / noise: the offset is 10 sigma


def test_report_files_docs_page_and_no_overwrite(tmp_path):
    maps, psf = make_maps(n_maps=1)
    bench = run_sources_benchmark(maps, remover(maps, fill=lambda image, hole, true: true), psf=psf)
    bench = bench.__class__(**{**bench.__dict__, "meta": dict(bench.meta, model="oracle", band="blue")})
    written = write_sources_report(bench, tmp_path / "rep", command="astroclean evaluate sources -o rep")
    assert set(REPORT_FILES) <= set(written)
    text = (tmp_path / "rep" / "table.md").read_text()
    assert "## Targets" in text and "PASS" in text and "gamma Dra" in text
    back = Table.read(tmp_path / "rep" / "levels.ecsv")
    assert len(back) == len(bench.levels)
    with pytest.raises(AstrocleanFileError):
        write_sources_report(bench, tmp_path / "rep")
    page = tmp_path / "docs" / "page.md"
    page.parent.mkdir()
    page.write_text("intro\n<!-- benchmark-report:begin -->\nPLACEHOLDER-OLD\n<!-- benchmark-report:end -->\nafter\n")
    update_docs_page(page, tmp_path / "rep", plots=())
    new = page.read_text()
    assert new.startswith("intro") and new.endswith("after\n") and "PLACEHOLDER-OLD" not in new
    assert "](../rep/flux_ratio.png)" in new and "### Targets" in new
    page.write_text("no markers")
    with pytest.raises(AstrocleanFileError, match="markers"):
        update_docs_page(page, tmp_path / "rep", plots=())


def test_helpers():
    assert flux_levels([0.1, 0.3, 0.1]).tolist() == [0.1, 0.3, 0.1]
    binned = flux_levels(np.geomspace(0.011, 39, 50))
    assert np.all(np.isfinite(binned)) and np.unique(binned).size == 7
    assert injected_snr(1.0, 0.5, SimpleNamespace(array=np.array([[0.25]]))) == 0.5
    rng = np.random.default_rng(2)
    true = rng.normal(0, 1, (64, 64))
    same = spectra_per_map(true, true.copy(), hole=np.zeros((64, 64), bool))
    assert np.allclose(same["p_true"], same["p_pred"], equal_nan=True) and np.all(np.nan_to_num(same["p_diff"]) == 0)
    levels = summarise_levels(Table({"level_flux": [1.0] * 4, "above_limit": [True] * 4,
                                     "ratio": [1.0] * 4, "ratio_annulus": [1.0] * 4}))
    assert not levels["judged"][0]  # fewer than 5 sources: shown, not judged
    targets = evaluate_targets(levels, Table({"ratio_minus_1": [0.001, -0.002]}), None,
                               {"sources_per_second": 150.0})
    verdicts = {t["name"].split(" ")[0]: t["passed"] for t in targets}
    assert verdicts["power"] is True and verdicts["throughput"] is True and verdicts["gamma"] is None


def test_cli_sources_checks_docs_page_before_running(tmp_path):
    from astroclean.cli import main

    page = tmp_path / "page.md"
    page.write_text("no markers here")
    assert main(["evaluate", "sources", "-o", str(tmp_path / "out"), "--docs", str(page)]) == 2
    assert not (tmp_path / "out").exists()
    assert main(["evaluate", "sources", "-o", str(tmp_path / "out"), "--n-maps", "0"]) == 2


@pytest.mark.slow
def test_sources_benchmark_end_to_end_with_an_untrained_tiny_model(tmp_path):
    torch = pytest.importorskip("torch")
    from astroclean.sources.evaluate.benchmark import sources_benchmark
    from astroclean.models import create_model

    torch.manual_seed(0)
    net = create_model("pconv-unet", pretrained=False, depth=3, width=4)
    bench = sources_benchmark(model=net, n_maps=1, per_level=1, rng=0, device="cpu", data_dir=tmp_path / "nothing")
    assert bench.meta["untrained"] is True and bench.gamma_dra is None
    assert any("gamma Dra skipped" in n for n in bench.notes)
    assert bench.throughput["n_sources"] >= 6 and len(bench.spectra) == 12
    written = write_sources_report(bench, tmp_path / "rep")
    assert "UNTRAINED" in (tmp_path / "rep" / "table.md").read_text().upper()
    assert "example_cutout.png" in written
