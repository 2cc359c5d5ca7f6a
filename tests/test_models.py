import shutil

import pytest
import torch

from astroclean.errors import AstrocleanKeyError, AstrocleanValueError
from astroclean.io.paths import file_sha256
from astroclean.models import create_model, get_card, list_models, load_weights, weights_dir
from astroclean.models.layers import AttentionGate
from astroclean.models.unet import UNet


@pytest.mark.parametrize("name", list_models())
def test_every_registered_model_builds_and_runs(name):
    card = get_card(name)
    if card.architecture["kind"] == "resnet":  # an untrained cutout network: (N, C, h, w) -> (N, K)
        net = create_model(name, pretrained=False, in_channels=3, n_outputs=5, widths=(4, 8), blocks=(1, 1))
        assert net(torch.zeros(2, 3, 20, 20)).shape == (2, 5)
    elif card.outputs.get("kind") in ("regression", "classes"):  # a shipped cutout network, as its card declares
        net = create_model(name)
        size = card.inputs.get("cutout", 32)
        out = net(torch.zeros(2, card.inputs["channels"], size, size))
        assert out.shape[0] == 2 and torch.isfinite(out).all()
    elif card.architecture["kind"] == "mean-ensemble":  # shipped members, as stored
        net = create_model(name)
        out = net(torch.zeros(2, card.inputs.get("channels", 1), 21, 34))
        assert out.shape == (2, 1, 21, 34) and torch.isfinite(out).all()
    else:  # a per-pixel network: the output has the input's shape, odd sizes included
        net = create_model(name, pretrained=False, depth=2, width=4)
        out = net(torch.zeros(2, card.inputs.get("channels", 1), 21, 34))   # as many channels as the card declares
        assert out.shape == (2, 1, 21, 34) and net.card.architecture["width"] == 4
    assert card.name == name


@pytest.mark.parametrize("name", [n for n in list_models() if get_card(n).weights_file])
def test_shipped_weights_match_their_card(name):
    card = get_card(name)
    assert file_sha256(weights_dir() / card.weights_file) == card.sha256
    net = create_model(name)
    assert not net.training
    assert card.training_command and card.normaliser and card.outputs and card.metrics, "card must say how it was made and how good"


def test_corrupted_weights_are_refused(tmp_path):
    card = get_card("ground")
    copy = tmp_path / card.weights_file
    shutil.copy(weights_dir() / card.weights_file, copy)
    with open(copy, "r+b") as fh:
        fh.seek(-4, 2)
        fh.write(b"\x00\x01\x02\x03")
    with pytest.raises(AstrocleanValueError, match="sha256"):
        load_weights(create_model(card.name, pretrained=False), card, directory=tmp_path)


def test_unknown_model_lists_known_ones():
    with pytest.raises(AstrocleanKeyError, match="known models: .*unet-bn"):
        create_model("no-such-model")
    with pytest.raises(AstrocleanValueError, match="no pretrained weights"):
        create_model("unet-gn")


def test_attention_gate_is_the_published_formula():
    torch.manual_seed(0)
    gate = AttentionGate(4, 6, 3)
    x, g = torch.randn(1, 4, 5, 5), torch.randn(1, 6, 5, 5)
    alpha = torch.sigmoid(gate.psi(torch.relu(gate.theta_x(x) + gate.phi_g(g))))
    assert alpha.shape == (1, 1, 5, 5)
    torch.testing.assert_close(gate(x, g), x * alpha)


def test_unet_options_change_the_network():
    bn, gn = UNet(depth=2, width=8, norm="batch"), UNet(depth=2, width=8, norm="group", attention=True)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in bn.modules())
    assert any(isinstance(m, torch.nn.GroupNorm) for m in gn.modules())
    assert sum(isinstance(m, AttentionGate) for m in gn.modules()) == 2
    with pytest.raises(ValueError, match="depth"):
        UNet(depth=0)


@pytest.mark.parametrize("options", [dict(depth=3, width=8), dict(depth=2, width=4, attention=True),
                                     dict(depth=3, width=8, encoder="resnet", upsample="bilinear")])
def test_split_concatenations_give_the_same_outputs(options):
    torch.manual_seed(0)
    net = UNet(2, **options).eval()
    x = torch.randn(1, 2, 40, 48)
    with torch.no_grad():
        whole = net(x)
        net.split_concatenations(range(net.depth))
        assert all(net.decoders[i][0].__class__.__name__ == "SplitInputConv2d" for i in range(net.depth))
        torch.testing.assert_close(net(x), whole, rtol=1e-5, atol=1e-5)


#: The models the CLI and the API use by default: a missing or corrupt file must fail here, loudly.
DEFAULTS = ("ground", "space", "pacs-blue", "pacs-red")


@pytest.mark.parametrize("name", DEFAULTS)
def test_default_models_ship_their_weights(name):
    card = get_card(name)
    assert card.weights_file, f"{name} has no weights in its card"
    path = weights_dir() / card.weights_file
    assert path.is_file(), f"{path} is missing: the package data were not installed"
    assert file_sha256(path) == card.sha256
