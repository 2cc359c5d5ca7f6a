"""The mean-logit ensemble: one stored model whose output is its members' mean."""

import numpy as np
import pytest
import torch

from astroclean.models.ensemble import MeanEnsemble
from astroclean.models.registry import build_architecture

MEMBERS = [{"kind": "unet", "depth": 2, "width": 4, "in_channels": 3},
           {"kind": "unet", "depth": 3, "width": 4, "in_channels": 3}]


def test_output_is_the_mean_of_the_members():
    torch.manual_seed(0)
    net = build_architecture({"kind": "mean-ensemble", "members": MEMBERS}).eval()
    x = torch.randn(2, 3, 24, 40)
    with torch.no_grad():
        expected = (net.members[0](x) + net.members[1](x)) / 2
        assert torch.allclose(net(x), expected)
    assert net.multiple == 8
    assert net.receptive_radius() == max(m.receptive_radius() for m in net.members)


def test_needs_members():
    with pytest.raises(ValueError, match="at least one member"):
        MeanEnsemble([])


def test_tiled_prediction_equals_whole_image():
    # the Predictor folds BatchNorm, splits the UNets' concatenations and tiles with the widest member's halo
    from astroclean.inference import Predictor, predict_whole

    torch.manual_seed(1)
    net = build_architecture({"kind": "mean-ensemble", "members": MEMBERS}).eval()
    predictor = Predictor(net, tile=32, activation="none")
    x = np.random.default_rng(0).normal(size=(3, 70, 90)).astype("f4")
    tiled = predictor.dense(x)
    np.testing.assert_allclose(tiled, predict_whole(predictor._run, x, halo=predictor.halo)[0], atol=2e-5)
    h = predictor.halo
    with torch.no_grad():
        plain = net(torch.from_numpy(np.pad(x, ((0, 0), (h, h), (h, h)), mode="symmetric"))[None])[0, 0].numpy()
    np.testing.assert_allclose(tiled, plain[h:h + 70, h:h + 90], atol=2e-5)


def test_shipped_ensemble_card_lists_its_members():
    from astroclean.models import get_card

    card = get_card("cr-any-ens")
    members = card.extra["members"]
    assert card.architecture["kind"] == "mean-ensemble" and len(members) == len(card.architecture["members"]) == 2
    assert all(m["sha256"] and m["training_command"].startswith("astroclean train") for m in members)
    assert card.training_command.count("astroclean train cosmic-rays") == 2
    assert "build_cr_ensemble.py" in card.training_command
