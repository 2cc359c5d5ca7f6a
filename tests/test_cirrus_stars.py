import numpy as np

from astroclean.cirrus.stars import find_bright_stars, fit_bright_stars, profile


def test_star_fit_recovers_an_injected_star():
    rng = np.random.default_rng(0)
    ny = nx = 201
    yy, xx = np.mgrid[0:ny, 0:nx]
    r = np.hypot(xx - 100.3, yy - 99.6)
    truth = [profile(r, a, 2.0, 2.5, 0.2 * a, 2.0) for a in (500.0, 1000.0, 1500.0)]
    data = np.stack(truth) + rng.normal(0, 0.05, (3, ny, nx))
    data = np.minimum(data, 300.0).astype("f4")                       # saturated core
    model, fits = fit_bright_stars(data, [0.05] * 3, pixel_scale=1.0, limit=500, radius=80)
    assert len(fits) == 1 and abs(fits[0].x - 100) <= 1 and abs(fits[0].y - 100) <= 1
    ring = (r > 10) & (r < 70)
    for b in range(3):
        before = truth[b][ring].mean()
        error = np.abs((model[b] - truth[b])[ring]).mean()
        assert error < 0.1 * before, (b, before, error)


def test_no_star_below_the_limit():
    data = np.random.default_rng(1).normal(0, 1, (3, 64, 64)).astype("f4")
    assert find_bright_stars(data[1], 1.0, limit=50) == []
    model, fits = fit_bright_stars(data, [1.0] * 3, limit=50)
    assert fits == [] and not model.any()
