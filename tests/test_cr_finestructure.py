"""The three-channel cosmic-ray input: the 3x3 median (fine structure) of the normalised image."""

import numpy as np
import pytest
import torch
from scipy import ndimage

from astroclean.cosmicrays.features import NORMALISER, NORMALISER3, median3x3, network_input
from astroclean.image import as_image
from astroclean.inference.normalisers import get_normaliser
from astroclean.models.unet import UNet
from astroclean.training.loop import adapt_state


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (2, 3), (7, 9), (300, 41), (513, 17)])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
def test_median3x3_is_scipys_median_with_nearest_edges(shape, ties, threads):
    rng = np.random.default_rng(sum(shape) + ties)
    x = rng.normal(size=shape).astype("f4")
    if ties:   # many equal values
        x = np.round(2 * x).astype("f4")
    got = median3x3(x, threads=threads, block=64)
    assert got.dtype == x.dtype and got.shape == x.shape
    assert np.array_equal(got, ndimage.median_filter(x, size=3, mode="nearest"))


def test_median3x3_removes_a_spike_and_keeps_a_star():
    yy, xx = np.mgrid[:31, :31]
    star = 50 * np.exp(-((yy - 15) ** 2 + (xx - 15) ** 2) / (2 * 1.5 ** 2))
    x = star.astype("f4")
    x[14, 16] += 100.0   # a one-pixel hit on the core
    m = median3x3(x)
    assert m[14, 16] < star[14, 16] + 1.0
    assert m[15, 15] > 0.8 * star[15, 15]


def test_three_channels_extend_the_two():
    rng = np.random.default_rng(3)
    data = rng.poisson(400.0, (48, 40)).astype("f4")
    mask = np.zeros(data.shape, bool)
    mask[5:8, 9] = True
    img = as_image(data, gain=1.0, unit="electron", mask=mask)
    x2, info2 = network_input(img, channels=2)
    x3, info3 = network_input(img, channels=3)
    assert x3.shape == (3, 48, 40) and x3.dtype == np.float32
    assert np.array_equal(x3[:2], x2) and info3 == info2
    assert np.array_equal(x3[2], ndimage.median_filter(x2[0], size=3, mode="nearest"))
    assert get_normaliser(NORMALISER3).function(img)[0].shape == (3, 48, 40)
    assert np.array_equal(get_normaliser(NORMALISER).function(img)[0], x2)


def test_warm_start_gives_the_new_channel_zero_weights():
    old = UNet(in_channels=2, out_channels=1, depth=3, width=8)
    new = UNet(in_channels=3, out_channels=1, depth=3, width=8)
    new.load_state_dict(adapt_state(old.state_dict(), new))
    old.eval(), new.eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(old(x[:, :2]), new(x), atol=1e-5)
