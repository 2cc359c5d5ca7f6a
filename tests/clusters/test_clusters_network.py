"""The network contract: output layout, mixture decoding, export/load round trip."""

import numpy as np
import torch

from astroclean.clusters.model import TINY, build_network
from astroclean.clusters.network import (PARAMETERS, decode, loss_terms, mixture_cdf, mixture_quantiles,
                                         n_outputs, normalise_cutouts)
from astroclean.models import load_weights
from astroclean.models.card import ModelCard


def test_mixture_quantiles_of_a_bimodal_mixture():
    logits = torch.zeros(1, 2)
    means = torch.tensor([[-3.0, 3.0]])
    log_s = torch.log(torch.tensor([[0.3, 0.3]]))
    q = mixture_quantiles(logits, means, log_s, (0.16, 0.5, 0.84))[0]
    assert q[0] < -2.5 and q[2] > 2.5 and abs(q[1]) < 2.9          # wide interval across both modes
    assert abs(float(mixture_cdf(logits, means, log_s, torch.tensor([0.0]))[0]) - 0.5) < 1e-4


def test_loss_ignores_parameters_of_negatives():
    k = 3
    raw = torch.randn(4, n_outputs(k), requires_grad=True)
    targets = {p: torch.zeros(4) for p in (*PARAMETERS, "log_snr")}
    terms = loss_terms(raw, targets, torch.zeros(4), k)
    assert set(terms) == {"cls"}
    terms = loss_terms(raw, targets, torch.tensor([1.0, 0, 0, 0]), k)
    assert set(terms) == {"cls", *PARAMETERS, "log_snr"}
    sum(terms.values()).backward()
    assert torch.isfinite(raw.grad).all()


def test_normaliser_never_mutates_and_zeroes_nan():
    x = np.ones((1, 3, 4, 4), np.float32)
    x[0, 0, 0, 0] = np.nan
    keep = x.copy()
    y = normalise_cutouts(x)
    assert np.array_equal(np.isnan(x), np.isnan(keep)) and y[0, 0, 0, 0] == 0 and np.isfinite(y).all()


def test_tiny_network_export_and_load_round_trip(tmp_path):
    from astroclean.clusters.train import export

    net = build_network(TINY).eval()
    card = export(net, dict(TINY), name="tiny-rt", output=tmp_path, history=[], minutes=0.0, threads=1,
                  n_train=0, n_val=0, command="test")
    loaded = build_network(ModelCard.read(tmp_path / "tiny-rt.json").architecture)
    load_weights(loaded, card, directory=tmp_path)
    x = torch.randn(2, 3, 48, 48)
    with torch.no_grad():
        assert torch.allclose(net(x), loaded.eval()(x))
    dec = decode(net(x).detach(), TINY["k"])
    for p in PARAMETERS:
        assert dec[p].shape == (2, 3) and np.all(np.diff(dec[p], axis=1) >= 0)
    assert card.outputs["names"][:4] == list(PARAMETERS)


def test_shipped_wfc3_m83_loads_with_its_contract():
    from astroclean.clusters.model import load_cluster_model, sigma_scale
    from astroclean.clusters.network import predict_raw

    net, card = load_cluster_model("wfc3-m83")
    assert card.task == "clusters" and card.inputs["bands"] == ["F336W", "F438W", "F814W"]
    assert set(sigma_scale(card)) == set(PARAMETERS)
    raw = predict_raw(net, np.zeros((2, 3, 48, 48), np.float32))
    dec = decode(raw, card.architecture["k"], sigma_scale=sigma_scale(card))
    assert dec["p_cluster"].shape == (2,) and np.all(dec["p_cluster"] < 0.5)     # an empty field is no cluster


def test_training_loop_on_the_shared_trainer(shared_data, tmp_path, capsys):
    from astroclean.clusters.sets import write_set
    from astroclean.clusters.train import train

    for split, n, seed in (("train", 70, 0), ("val", 40, 1)):
        write_set(tmp_path / f"{split}.npz", n, split="train", rng=seed, data_dir=shared_data, progress=False)
    card = train(tmp_path, name="t", output=tmp_path / "w", epochs=2, batch_size=16, tiny=True, time_limit_min=5)
    history = card.extra["training_history"]
    assert [h["epoch"] for h in history] == [1, 2] and history[-1]["lr"] < 1e-4    # cosine down to ~0
    assert {"train_loss", "val_loss", "val_cls", "val_log_age", "minutes"} <= set(history[0])
    assert set(card.outputs["sigma_scale"]) == {"log_age", "log_mass", "log_r_eff", "a_v"}
    card = train(tmp_path, name="t2", output=tmp_path / "w", epochs=50, batch_size=16, tiny=True, time_limit_min=1e-4)
    assert len(card.extra["training_history"]) == 1 and "time limit" in capsys.readouterr().out
