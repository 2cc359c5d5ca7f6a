"""The shipped library of real cosmic-ray hits, its splits, and extraction from frames."""

import importlib.util

import numpy as np
import pytest

from astroclean.errors import AstrocleanFileError, AstrocleanKeyError, AstrocleanValueError
from astroclean.cosmicrays.simulate import CosmicRayLibrary, extract_cosmic_rays, load_cosmic_ray_library, mask_spectral_orders, simulate_cosmic_ray
from astroclean.simulate.common import dilate
from conftest import ROOT


@pytest.fixture(scope="module")
def libs():
    return {s: load_cosmic_ray_library(s) for s in ("train", "benchmark")}


def test_library_loads_with_provenance(libs):
    for split, lib in libs.items():
        assert lib.meta["split"] == split
        assert "split_rule" in lib.meta and len(lib) > 50
        assert lib.peaks.min() > 0
    assert {o.split(":")[0] for o in libs["benchmark"].origins} == {"uves", "decam"}
    assert {o.split(":")[0] for o in libs["train"].origins} == {"uves"}


def test_splits_are_disjoint_and_follow_the_rule(libs):
    keys = {s: {(st.origin, st.position) for st in lib} for s, lib in libs.items()}
    assert not keys["train"] & keys["benchmark"]
    for split, lib in libs.items():
        for st in lib:
            if not st.origin.startswith("uves"):
                continue
            rows = np.arange(st.values.shape[0])[:, None]
            cy = st.position[0] + (st.values * rows).sum() / st.values.sum()
            assert (int(cy // 128) % 4 == 3) == (split == "benchmark")


def test_stamps_are_cores_with_dilated_footprints(libs):
    for st in libs["train"]:
        assert st.values.dtype == np.float32 and st.footprint.dtype == bool
        assert (st.values >= 0).all()
        assert np.array_equal(st.footprint, dilate(st.values > 0))
    sizes = libs["train"].sizes
    assert np.median(sizes) <= 4 and sizes.max() >= 15   # mostly compact hits, some tracks


def test_decam_tracks_are_long(libs):
    decam = [s for s in libs["benchmark"] if s.origin.startswith("decam")]
    assert len(decam) == 2
    assert max(s.n_core for s in decam) >= 20


def test_save_load_roundtrip_and_no_silent_overwrite(libs, tmp_path):
    lib = CosmicRayLibrary(libs["benchmark"].stamps[:5], {"split": "x"})
    path = lib.save(tmp_path / "lib.npz")
    again = CosmicRayLibrary.load(path)
    assert again.meta == {"split": "x"}
    for a, b in zip(lib, again):
        assert np.array_equal(a.values, b.values) and np.array_equal(a.footprint, b.footprint)
        assert (a.origin, a.position) == (b.origin, b.position)
    with pytest.raises(AstrocleanFileError):
        lib.save(path)
    lib.save(path, overwrite=True)


def test_unknown_split():
    with pytest.raises(KeyError):
        load_cosmic_ray_library("test")
    with pytest.raises(AstrocleanKeyError):
        load_cosmic_ray_library("validation")


def _synthetic_frame(rng):
    """Noise sigma=3 on a gradient, one bright 'order', 16 known hits on a grid."""
    ny, nx = 160, 200
    yy, xx = np.mgrid[0:ny, 0:nx]
    frame = 10.0 + 0.02 * xx + rng.normal(0.0, 3.0, (ny, nx))
    frame[78:84] += 400.0                           # an echelle order along x
    truth = np.zeros((ny, nx), bool)
    injected = []
    for j, y in enumerate((20, 50, 110, 140)):
        for i, x in enumerate((25, 70, 115, 160)):
            st = simulate_cosmic_ray(rng, kind=("dot", "track", "worm", "curved")[(i + j) % 4], length=None
                                     if (i + j) % 4 != 1 else 12.0, diffusion=0.2)
            v = st.values / st.peak * 300.0         # peak 100 sigma
            h, w = v.shape
            y0, x0 = y - h // 2, x - w // 2
            if h > 26 or w > 26:                    # keep hits apart
                continue
            frame[y0:y0 + h, x0:x0 + w] += v
            truth[y0:y0 + h, x0:x0 + w] |= v > 0
            injected.append((y0, x0, v))
    return frame, truth, injected


def test_extraction_finds_known_hits_and_skips_the_order(rng):
    frame, truth, injected = _synthetic_frame(rng)
    orders = mask_spectral_orders(frame, noise=3.0, nsigma=1.5, grow=3)
    assert orders[78:84].all() and not orders[:60].any()
    lib = extract_cosmic_rays(frame, noise=3.0, nsigma=5.0, grow_nsigma=2.0, exclude=orders, gain=2.0)
    assert len(lib) == len(injected) >= 10
    found = np.zeros_like(truth)
    for st in lib:
        y0, x0 = st.position
        h, w = st.values.shape
        found[y0:y0 + h, x0:x0 + w] |= st.values > 0
        assert not (orders[y0:y0 + h, x0:x0 + w] & st.footprint).any()
    bright = np.zeros_like(truth)
    for y0, x0, v in injected:
        h, w = v.shape
        bright[y0:y0 + h, x0:x0 + w] |= v > 15.0      # 5 sigma
    assert found[bright].all()                        # every pixel above 5 sigma is in a core
    assert not (found & ~dilate(truth)).any()          # nothing found away from the hits
    total_found = sum(st.total for st in lib)
    total_true = sum(v[v > 6.0].sum() for _, _, v in injected) * 2.0
    assert total_found == pytest.approx(total_true, rel=0.1)


def test_extraction_validates():
    with pytest.raises(AstrocleanValueError):
        extract_cosmic_rays(np.zeros((10, 10)), noise=1.0, nsigma=2.0, grow_nsigma=3.0)
    with pytest.raises(ValueError):
        extract_cosmic_rays(np.zeros((10, 10)), noise=0.0)


def test_rebuild_from_real_data_matches_shipped(shared_data, libs):
    spec = importlib.util.spec_from_file_location("build_cr_library", ROOT / "scripts" / "build_cr_library.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    uves, info = build.uves_hits(shared_data)
    shipped = [s for split in libs.values() for s in split if s.origin.startswith("uves")]
    assert len(uves) == len(shipped)
    assert sorted(s.position for s in uves) == sorted(s.position for s in shipped)
    assert info["electrons_per_adu"] == pytest.approx(2.03)
