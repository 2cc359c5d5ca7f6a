import numpy as np
import pytest

from astroclean.cirrus.simulate.fields import (TRAIN_SETTING, UNSEEN_SETTING, cirrus_intensity, measured_slope,
                                               power_law_field)
from astroclean.cirrus.simulate.backgrounds import Frame
from astroclean.cirrus.simulate.inject import inject_cirrus
from astroclean.cirrus.preprocess import flux_to_sb


@pytest.mark.parametrize("slope", [2.5, 3.0, 3.3])
def test_power_law_slope_is_recovered(slope):
    f = power_law_field((128, 128), slope=slope, anisotropy=2.0, angle=0.4, rng=np.random.default_rng(3))
    assert abs(measured_slope(f) - slope) < 0.25
    assert abs(f.mean()) < 1e-6 and abs(f.std() - 1) < 1e-6


def test_anisotropy_elongates_structures():
    f = power_law_field((128, 128), slope=3.0, anisotropy=5.0, angle=0.0, rng=1)
    # stretched wave vectors along x: structures long along x -> smaller gradients along x
    assert np.abs(np.diff(f, axis=1)).mean() < np.abs(np.diff(f, axis=0)).mean()


def test_generator_settings_are_disjoint():
    assert TRAIN_SETTING.slope[0] >= 2.5 and TRAIN_SETTING.slope[1] <= 3.3
    assert UNSEEN_SETTING.slope[1] < TRAIN_SETTING.slope[0]
    assert UNSEEN_SETTING.anisotropy[1] < TRAIN_SETTING.anisotropy[0]


def test_intensity_is_positive_and_seeded():
    a, pa = cirrus_intensity((64, 80), rng=5)
    b, pb = cirrus_intensity((64, 80), rng=5)
    assert (a >= 0).all() and np.array_equal(a, b) and pa == pb
    assert all(2.5 <= s <= 3.3 for s in pa["slopes"])


def _frame(shape=(64, 64), gain=(None, None, None)):
    data = np.random.default_rng(0).normal(0, 0.01, (3,) + shape).astype("f4")
    return Frame("toy", "toy", data, ("g", "r", "i"), 22.5, 1.0, gain)


def test_inject_returns_truth_and_keeps_the_frame():
    frame = _frame()
    before = frame.data.copy()
    image, mock = inject_cirrus(frame, rng=np.random.default_rng(2))
    assert np.array_equal(frame.data, before)
    assert np.allclose(image - frame.data, mock.flux, atol=1e-6)     # no gain: no Poisson term
    finite = np.isfinite(mock.sb_r)
    sb = flux_to_sb(mock.flux[1][finite], zeropoint=22.5, pixel_scale=1.0)
    assert np.allclose(sb, mock.sb_r[finite], atol=1e-3)
    assert 24.0 <= mock.params["mu_peak"] <= 28.0


def test_inject_colours_and_rng_keyword_only():
    frame = _frame()
    with pytest.raises(TypeError):
        inject_cirrus(frame, 3)                                    # rng is keyword-only
    for seed in range(6):
        _, mock = inject_cirrus(frame, rng=seed)
        if not mock.params["colour_gradient"]:
            break
    ratio = mock.flux[0][mock.flux[1] > 0] / mock.flux[1][mock.flux[1] > 0]
    assert np.allclose(ratio, 10 ** (-0.4 * mock.params["g_r"]), rtol=1e-4)
    assert 0.0 <= mock.params["g_r"] <= 1.5 and -0.5 <= mock.params["r_i"] <= 1.0


def test_inject_poisson_noise_with_gain():
    frame = _frame(gain=(1e3, 1e3, 1e3))
    image, mock = inject_cirrus(frame, rng=1, mu_peak=(20.0, 20.0))
    extra = image - frame.data - mock.flux
    bright = mock.flux[1] > np.quantile(mock.flux[1], 0.9)
    expected = np.sqrt(mock.flux[1][bright] / 1e3)
    assert 0.7 < extra[1][bright].std() / expected.mean() < 1.5
