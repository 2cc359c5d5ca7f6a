import numpy as np
import pytest
import torch

from astroclean.cirrus.nets import ARCHITECTURES
from astroclean.cirrus.segment import load_cirrus_model
from astroclean.errors import AstrocleanValueError
from astroclean.models.registry import build_architecture
from astroclean.models.unet import UNet


@pytest.mark.parametrize("encoder", ["mobilenetv2", "resnet"])
def test_encoders_keep_the_shape(encoder):
    net = UNet(4, 1, encoder=encoder, widths=(4, 8, 8), upsample="bilinear").eval()
    with torch.no_grad():
        assert net(torch.zeros(2, 4, 29, 35)).shape == (2, 1, 29, 35)


def test_cirrus_presets_are_the_shared_unet():
    for name, arch in ARCHITECTURES.items():
        net = build_architecture(arch)
        assert isinstance(net, UNet) and net.multiple >= 4, name
    with pytest.raises(AstrocleanValueError, match="encoder"):
        UNet(encoder="vgg")


def test_shipped_cirrus_models_load_through_the_registry():
    from astroclean.models import create_model

    for name in ("cirrus-gri", "cirrus-mask-gri"):
        net = create_model(name)
        assert isinstance(net, UNet) and net.card.task == "cirrus"


def export_tiny(directory, name, in_channels, seed=0):
    from astroclean.models.card import ModelCard
    from astroclean.training.export import export_model

    torch.manual_seed(seed)
    arch = dict(ARCHITECTURES["cirrus-unet-tiny"], in_channels=in_channels)
    net = build_architecture(arch)
    for m in net.modules():       # non-trivial BatchNorm statistics, so folding is exercised
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    card = ModelCard(name=name, task="cirrus", architecture=arch, inputs={"normaliser": "cirrus-asinh"})
    export_model(net, card, directory=directory, overwrite=True)
    return net.eval()


def test_round_trip_through_safetensors(tmp_path):
    net = export_tiny(tmp_path, "tiny-seg", 4)
    runner = load_cirrus_model("tiny-seg", directory=tmp_path, tile=32, halo=32)
    x = np.random.default_rng(0).normal(size=(4, 40, 52)).astype("f4")
    padded = np.pad(x, ((0, 0), (32, 32), (32, 32)), mode="symmetric")
    with torch.no_grad():
        ref = torch.sigmoid(net(torch.from_numpy(padded)[None]))[0, 0, 32:-32, 32:-32].numpy()
    assert np.allclose(runner(x), ref, atol=1e-4)


def test_tiled_equals_whole_image_and_covers_every_pixel(tmp_path):
    export_tiny(tmp_path, "tiny-tile", 3)
    whole = load_cirrus_model("tiny-tile", directory=tmp_path, tile=256, halo=32)
    tiles = load_cirrus_model("tiny-tile", directory=tmp_path, tile=16, halo=32)
    x = np.random.default_rng(1).normal(size=(3, 61, 45)).astype("f4")
    a, b = whole(x), tiles(x)
    assert a.shape == b.shape == (61, 45) and np.isfinite(b).all()
    assert np.allclose(a, b, atol=1e-4)


def test_training_windows_resized_from_larger_and_smaller_cuts():
    import numpy as np

    from astroclean.cirrus.train import _windows

    rng = np.random.default_rng(0)
    yy = np.mgrid[:200, :150][0].astype(np.float32)
    case = dict(inputs=np.stack([yy, yy, yy, np.ones_like(yy)]), target=(yy > 100).astype(np.float32),
                weight=np.ones_like(yy))
    x, y, w = _windows([case], 64, 16, rng, scale=(0.7, 2.8))
    assert x.shape == (16, 4, 64, 64) and y.shape == w.shape == (16, 1, 64, 64)
    np.testing.assert_allclose(w, 1.0, atol=1e-6)                 # a constant stays constant through the resize
    assert 0 <= y.min() and y.max() <= 1 and (x[:, 3] == 1).all()
    spans = np.ptp(x[:, 0], axis=(1, 2))                          # the gradient's span tells the cut's size
    assert spans.min() < 50 < 110 < spans.max()                   # cuts of ~45 to ~150 px were taken
    x0, _, _ = _windows([case], 64, 4, np.random.default_rng(0))
    assert np.ptp(x0[:, 0], axis=(1, 2)).max() == 63              # without scale: plain 64 px cuts
