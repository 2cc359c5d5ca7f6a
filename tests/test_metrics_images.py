"""astroclean.metrics image tools: isophote regions, point sources, apertures."""

import math

import numpy as np
import pytest

from astroclean.errors import AstrocleanValueError
from astroclean.metrics import isophote_bins, isophote_regions, photometric_contamination
from astroclean.photometry import aperture_flux, find_point_sources


def gaussian(shape, x0, y0, flux, sigma_x, sigma_y=None):
    sigma_y = sigma_x if sigma_y is None else sigma_y
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    g = np.exp(-((xx - x0) ** 2) / (2 * sigma_x**2) - ((yy - y0) ** 2) / (2 * sigma_y**2))
    return flux * g / (2 * np.pi * sigma_x * sigma_y)


# ---------------------------------------------------------------- isophotes


def test_isophote_regions_by_hand():
    clean = np.full((5, 6), 10.0)
    clean[2, 2] = 10 + 2 * 12  # 12 sigma
    clean[2, 3] = 10 + 2 * 6  # 6 sigma
    clean[2, 1] = 10 + 2 * 3.5  # 3.5 sigma
    clean[0, 5] = 10 + 2 * 4  # isolated 4 sigma
    clean[4, 0] = np.nan
    regions = isophote_regions(clean, background=10.0, rms=2.0, levels=(3, 5, 10))
    assert {k: int(v.sum()) for k, v in regions.items()} == {3: 4, 5: 2, 10: 1}
    assert regions[10][2, 2] and regions[5][2, 3] and not regions[5][2, 1]
    assert regions[5].sum() <= regions[3].sum() and np.all(regions[3] >= regions[5])  # nested
    pruned = isophote_regions(clean, background=10.0, rms=2.0, levels=(3, 5, 10), min_pixels=2)
    assert int(pruned[3].sum()) == 3 and not pruned[3][0, 5]
    masked = isophote_regions(clean, background=10.0, rms=2.0, levels=(3,), mask=clean > 30)
    assert not masked[3][2, 2] and masked[3].sum() == 3
    bins = isophote_bins(regions)
    assert list(bins) == [(3.0, 5.0), (5.0, 10.0), (10.0, math.inf)]
    assert [int(b.sum()) for b in bins.values()] == [2, 1, 1]
    with pytest.raises(AstrocleanValueError, match="distinct positive"):
        isophote_regions(clean, background=0.0, rms=1.0, levels=(3, -1))


def test_isophote_regions_with_maps(rng):
    clean = 100 + gaussian((64, 64), 32, 32, 2e4, 2.0)
    rms = np.full(clean.shape, 1.0)
    rms[:, 40:] = 0.0  # rms 0 is unusable, never in a region
    regions = isophote_regions(clean, background=np.full(clean.shape, 100.0), rms=rms)
    assert set(regions) == {3, 5, 10, 20, 40, 80, 160}
    sizes = [int(regions[k].sum()) for k in (3, 5, 10, 20, 40, 80, 160)]
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] > 0
    assert not any(r[:, 40:].any() for r in regions.values())


# ---------------------------------------------------------------- point sources


def test_find_point_sources_selection():
    shape = (120, 160)
    clean = np.zeros(shape)
    clean += gaussian(shape, 40.3, 50.7, 2e4, 2.0)  # good
    clean += gaussian(shape, 100.0, 60.0, 2e4, 4.0, 1.5)  # elongated: rejected
    clean += gaussian(shape, 5.0, 90.0, 2e4, 2.0)  # near the edge: rejected
    clean += gaussian(shape, 130.0, 30.0, 2e4, 2.0)  # touches a masked pixel: rejected
    clean += gaussian(shape, 80.0, 100.0, 40.0, 1.0)  # faint: fewer than 16 pixels, rejected
    mask = np.zeros(shape, bool)
    mask[30, 133] = True
    src = find_point_sources(clean, background=0.0, rms=1.0, mask=mask)
    assert len(src) == 1
    assert src["x"][0] == pytest.approx(40.3, abs=0.01) and src["y"][0] == pytest.approx(50.7, abs=0.01)
    assert src["axis_ratio"][0] == pytest.approx(1.0, abs=0.02)
    assert src["peak"][0] == pytest.approx(clean[51, 40], rel=1e-9)
    assert src["n_pixels"][0] >= 16 and src["flux"][0] == pytest.approx(2e4, rel=0.02)
    loose = find_point_sources(clean, background=0.0, rms=1.0, axis_ratio=(0.0, 1.0), edge=0, min_pixels=1)
    assert len(loose) == 5
    elongated = loose[np.argmin(loose["axis_ratio"])]
    assert elongated["axis_ratio"] < 0.6 and elongated["x"] == pytest.approx(100.0, abs=0.01)
    assert len(find_point_sources(np.zeros(shape), background=0.0, rms=1.0)) == 0


def test_find_point_sources_rotated_elongation_is_caught():
    # an ellipse along the diagonal has equal x and y second moments; b/a must still see it
    yy, xx = np.mgrid[:80, :80]
    u, v = (xx - 40 + yy - 40) / np.sqrt(2), (xx - 40 - (yy - 40)) / np.sqrt(2)
    clean = 1e3 * np.exp(-(u**2) / (2 * 4.0**2) - v**2 / (2 * 1.5**2))
    loose = find_point_sources(clean, background=0.0, rms=1.0, axis_ratio=(0.0, 1.0))
    assert len(loose) == 1 and loose["axis_ratio"][0] < 0.6
    assert len(find_point_sources(clean, background=0.0, rms=1.0)) == 0


# ---------------------------------------------------------------- apertures


def test_aperture_fractions_by_hand():
    flat = np.ones((5, 5))
    # r=1 at a pixel centre, 2x2 sub-pixels at +-0.25: the centre pixel is inside (1), each
    # side neighbour has 2 of 4 sub-pixels within 1 (0.79 vs 1.27), the corners none: 1 + 4/2 = 3
    flux, error = aperture_flux(flat, 2.0, 2.0, 1.0, subsample=2, variance=1.0)
    assert flux[0] == pytest.approx(3.0)
    assert error[0] == pytest.approx(math.sqrt(1 + 4 * 0.25))  # sum f^2 var
    # sub-pixel 1: a pixel counts when its centre is inside: 5 centres within r=1 (Gauss circle)
    assert aperture_flux(flat, 2.0, 2.0, 1.0, subsample=1)[0][0] == 5.0
    # large subsample tends to pi r^2
    big = aperture_flux(np.ones((40, 40)), 19.37, 20.81, 6.5, subsample=40)[0][0]
    assert big == pytest.approx(np.pi * 6.5**2, rel=2e-3)
    assert math.isnan(error[0]) is False and np.isnan(aperture_flux(flat, 2.0, 2.0, 1.0)[1][0])


def test_aperture_background_mask_edges_and_vectorisation(rng):
    image = 5.0 + gaussian((60, 60), 30.0, 30.0, 1000.0, 1.5)
    flux, _ = aperture_flux(image, [30.0], [30.0], 10.0, background=5.0, subsample=10)
    assert flux[0] == pytest.approx(1000.0, rel=1e-3)
    mask = np.zeros(image.shape, bool)
    mask[30, 38] = True
    flux, _ = aperture_flux(image, [30.0, 30.0, 2.0], [30.0, 30.0, 30.0], [10.0, 5.0, 4.0], mask=mask)
    assert np.isnan(flux[0]) and np.isfinite(flux[1]) and np.isnan(flux[2])  # masked; clear; off-image
    x, y = rng.uniform(12, 48, 700), rng.uniform(12, 48, 700)
    image = rng.normal(0, 1, (60, 60))
    many, _ = aperture_flux(image, x, y, 7.0)  # several chunks
    single = [aperture_flux(image, [xi], [yi], 7.0)[0][0] for xi, yi in zip(x[:20], y[:20])]
    np.testing.assert_allclose(many[:20], single)
    with pytest.raises(AstrocleanValueError, match="radius"):
        aperture_flux(image, [1.0], [1.0], -1.0)


def test_aperture_matches_photutils_exact():
    photutils = pytest.importorskip("photutils.aperture")
    rng = np.random.default_rng(9)
    image = rng.normal(10, 3, (50, 50))
    x, y = [20.3, 25.71, 30.0], [22.45, 24.0, 28.9]
    ours, _ = aperture_flux(image, x, y, 5.5, subsample=32)
    table = photutils.aperture_photometry(image, photutils.CircularAperture(np.c_[x, y], r=5.5), method="exact")
    np.testing.assert_allclose(ours, np.asarray(table["aperture_sum"]), rtol=2e-3)


def test_photometric_contamination_by_hand():
    c = photometric_contamination([100, 200, 300, 400, np.nan], [100, 210, 240, 400, 5], [2, 2, 2, 2, 2])
    # deviations (test - clean) / error: 0, 5, -30, 0 -> 2 of 4 moved by > 3 sigma, median 0
    # ratios 1, 1.05, 0.8, 1 -> median 1, MAD median(|0, .05, -.2, 0|) = 0.025
    assert c.n_sources == 4 and c.fraction_moved == 0.5 and c.median_deviation == 0.0
    assert c.ratio_median == 1.0 and c.ratio_scatter == pytest.approx(1.4826 * 0.025)
    assert c.as_row()["n_sources"] == 4
    none = photometric_contamination([1.0], [1.0], [0.0])
    assert none.n_sources == 0 and math.isnan(none.fraction_moved)
    with pytest.raises(AstrocleanValueError, match="one value per source"):
        photometric_contamination([1, 2], [1], [1, 1])
