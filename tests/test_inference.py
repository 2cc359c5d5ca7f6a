import numpy as np
import pytest
import torch

from astroclean.image import as_image
from astroclean.inference import Predictor, normalise, predict_whole
from astroclean.models import create_model


def _randomised(name, **arch):
    torch.manual_seed(3)
    net = create_model(name, pretrained=False, **arch)
    for m in net.modules():  # non-trivial running statistics so that folding is exercised
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.5, 2.0)
    return net.eval()


@pytest.mark.parametrize("shape", [(131, 97), (64, 64), (17, 203), (5, 7)])
@pytest.mark.parametrize("name", ["unet-bn", "unet-bn-attn"])
def test_tiled_equals_whole_image_on_odd_shapes(shape, name):
    net = _randomised(name, depth=2, width=4)
    predictor = Predictor(net, tile=32)
    x = np.random.default_rng(0).standard_normal(shape).astype("f4")
    tiled = predictor(x)
    whole = predict_whole(predictor._run, x[None], halo=predictor.halo)[0]
    np.testing.assert_allclose(tiled, whole, atol=2e-6)
    # and the folded, channels-last network equals the plain PyTorch module, edges included
    padded = np.pad(x, predictor.halo, mode="symmetric")
    with torch.inference_mode():
        plain = torch.sigmoid(net(torch.from_numpy(padded)[None, None]))[0, 0].numpy()
    h = predictor.halo
    np.testing.assert_allclose(tiled, plain[h:h + shape[0], h:h + shape[1]], atol=2e-5)


def test_groupnorm_tiles_agree_closely():
    net = _randomised("unet-gn", depth=2, width=8)
    predictor = Predictor(net, tile=64)
    x = np.random.default_rng(1).standard_normal((150, 130)).astype("f4")
    diff = np.abs(predictor(x) - predict_whole(predictor._run, x[None], halo=predictor.halo)[0])
    # GroupNorm normalises over each window, so tiling is close but not exact (documented)
    assert diff.max() < 0.1


def test_normalisation_travels_between_units_and_sky(rng):
    electrons = rng.normal(0, 10, (128, 128)).astype("f4")
    electrons[40:43, 50:70] += 500
    x_e, n_e = normalise(as_image(electrons + 300))
    x_adu, _ = normalise(as_image((electrons + 300) / 2.5))          # ADU with gain 2.5
    x_nosky, _ = normalise(as_image(electrons))                        # sky-subtracted
    np.testing.assert_allclose(x_e, x_adu, atol=1e-4)
    np.testing.assert_allclose(x_e, x_nosky, atol=0.05)
    assert n_e.method == "robust"


def test_variance_plane_is_preferred(rng):
    data = rng.normal(50, 3, (64, 64))
    x, norm = normalise(as_image(data, variance=np.full((64, 64), 9.0)))
    assert norm.method == "variance"
    np.testing.assert_allclose(norm.noise, 3.0, rtol=1e-5)
    np.testing.assert_allclose(norm.to_units(x), data, rtol=1e-4)


def test_gain_and_read_noise_used_when_sky_present(rng):
    sky_e = 400.0
    data = rng.poisson(sky_e, (128, 128)).astype("f4") / 2.0   # ADU, gain 2
    _, norm = normalise(as_image(data, gain=2.0, read_noise=5.0, unit="adu"))
    assert norm.method == "gain"
    np.testing.assert_allclose(norm.noise.mean(), np.sqrt(sky_e + 25) / 2, rtol=0.02)


def test_default_tile_is_512_on_cpu():
    from astroclean.inference.predictor import default_tile

    net = create_model("unet-bn", pretrained=False, depth=2, width=4)
    assert default_tile("cpu") == 512 and default_tile("cuda") == 1024
    assert Predictor(net, device="cpu").tile == 512 and Predictor(net, device="cpu", tile=100).tile == 100
