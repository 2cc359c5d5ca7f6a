import numpy as np
import pytest
import torch

from astroclean.errors import AstrocleanValueError
from astroclean.models.card import ModelCard
from astroclean.models.registry import build_architecture, load_weights
from astroclean.sources.masks import DEFAULT_MASK_TABLES, hole_masks
from astroclean.sources.normalise import denormalise, normalise_cutouts
from astroclean.sources.losses import FrozenEncoder, inpainting_loss, masked_l1, ssim, style_loss
from astroclean.sources.train import (SourceTrainConfig, _shift, flux_ratio_stats, prepare_cutouts,
                                         train_source_model)


def tiny_cutout_set(n, *, split="train", band="blue", mode="scan", size=32, rng=0):
    """Noise + a gradient background with one Gaussian source at the centre (a make_cutout_set look-alike)."""
    rng = np.random.default_rng(rng)
    yy, xx = np.mgrid[:size, :size]
    background = 0.01 * rng.standard_normal((n, size, size)) + 1e-4 * rng.uniform(-1, 1, (n, 1, 1)) * xx + 0.3
    flux = 10 ** rng.uniform(-2, 1.5, n)
    sigma, c = 1.5, size // 2
    source = flux[:, None, None] * np.exp(-0.5 * ((yy - c) ** 2 + (xx - c) ** 2) / sigma**2) / (2 * np.pi * sigma**2)
    snr = source.max(axis=(1, 2)) / 0.01
    radius = DEFAULT_MASK_TABLES[("blue", "scan")].radius(snr) // 2
    hole = hole_masks((size, size), np.full((n, 2), c), radius)
    return dict(image=(background + source).astype("f4"), hole=hole, background=background.astype("f4"),
                source=source.astype("f4"), flux=flux, snr=snr, radius=radius)


# --- normalisation -------------------------------------------------------------------------------------------

def test_normalise_round_trip_preserves_flux_exactly(rng):
    data = (3.0 + 0.02 * rng.standard_normal((3, 24, 24))).astype("f4")
    data[1, 5, 5] = np.nan
    hole = np.zeros(data.shape, bool)
    hole[:, 10:14, 10:14] = True
    keep = data.copy()
    x, valid, offset, scale = normalise_cutouts(data, hole)
    np.testing.assert_array_equal(data[~np.isnan(data)], keep[~np.isnan(keep)])   # input untouched
    assert x.shape == valid.shape == (3, 1, 24, 24) and x.dtype == np.float32
    assert valid[1, 0, 5, 5] == 0 and x[1, 0, 5, 5] == 0 and (x[:, 0][hole] == 0).all()
    np.testing.assert_allclose(offset, np.nanmedian(np.where(hole, np.nan, data).reshape(3, -1), axis=1))
    back = denormalise(x, offset, scale)
    ok = valid[:, 0] > 0
    np.testing.assert_allclose(back[ok], data[ok], rtol=0, atol=1e-6)
    # linear: removed flux computed in normalised units and rescaled equals the flux in map units
    y = torch.from_numpy(x) + 0.5
    removed_norm = ((x - y.numpy())[:, 0] * hole).sum(axis=(1, 2)) * scale
    removed_map = ((denormalise(x, offset, scale) - denormalise(y, offset, scale)) * hole).sum(axis=(1, 2))
    np.testing.assert_allclose(removed_norm, removed_map, rtol=1e-9)


def test_normalise_floors_and_degenerate_cutouts():
    data = np.zeros((3, 8, 8), "f4")
    data[1] = 5.0
    data[2, :, :4] = np.nan
    hole = np.zeros(data.shape, bool)
    hole[0] = True                                   # nothing valid
    _, valid, offset, scale = normalise_cutouts(data, hole)
    assert valid[0].sum() == 0 and offset[0] == 0 and scale[0] == 1
    assert offset[1] == 5 and scale[1] == 1          # constant: MAD 0 -> scale 1
    _, _, _, scale = normalise_cutouts(data, hole, min_scale=[2.0, 3.0, 0.5])
    np.testing.assert_array_equal(scale, [2.0, 3.0, 0.5])   # floors apply, also to MAD 0
    with pytest.raises(AstrocleanValueError, match="hole must be a bool"):
        normalise_cutouts(data, hole[:, :4])
    with pytest.raises(AstrocleanValueError, match="min_scale"):
        normalise_cutouts(data, hole, min_scale=-1)


# --- losses --------------------------------------------------------------------------------------------------

def test_ssim_and_style_on_hand_made_inputs():
    torch.manual_seed(0)
    x = torch.randn(2, 1, 32, 32)
    assert float(ssim(x, x)) == pytest.approx(1.0, abs=1e-6)
    assert float(ssim(x + 0.5 * torch.randn_like(x), x)) < 0.95
    assert abs(float(ssim(torch.randn_like(x), x))) < 0.1   # independent noise: no similarity
    encoder = FrozenEncoder()
    assert float(style_loss(encoder(x), encoder(x))) == 0.0
    assert float(style_loss(encoder(x), encoder(3 * x))) > 0


def test_masked_l1_counts_only_its_pixels():
    out, target = torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4)
    hole = torch.zeros(1, 1, 4, 4)
    hole[..., 1:3, 1:3] = 1
    out[..., 0, 0] = 100.0                          # outside the hole: ignored
    out[..., 1, 1] = 4.0
    assert float(masked_l1(out, target, hole)) == pytest.approx(1.0)     # 4 / 4 hole pixels
    assert float(masked_l1(out, target, torch.zeros_like(hole))) == 0.0


def test_inpainting_loss_terms():
    torch.manual_seed(1)
    target = torch.randn(2, 1, 32, 32)
    valid = torch.ones_like(target)
    valid[..., 12:20, 12:20] = 0
    source = torch.zeros_like(target)
    source[..., 14:18, 14:18] = 5.0
    image = target + source
    x = image * valid
    central = 1 - valid
    total, terms = inpainting_loss(target.clone(), x, valid, target, image=image, source=source, central=central)
    assert terms["valid"] == terms["hole"] == terms["source"] == terms["flux"] == 0.0
    assert terms["ssim"] == pytest.approx(0.0, abs=1e-6) and float(total) == pytest.approx(0.0, abs=1e-5)
    biased = target + 0.25 * central                  # background 0.25 too high inside the hole only
    _, terms = inpainting_loss(biased, x, valid, target, image=image, source=source, central=central)
    assert terms["valid"] == 0.0 and terms["hole"] == pytest.approx(0.25)
    assert terms["flux"] == pytest.approx(0.25) and terms["source"] == pytest.approx(0.25)
    _, terms = inpainting_loss(biased, x, valid, target, extractor=FrozenEncoder(levels=2))
    assert terms["style"] > 0 and "flux" not in terms
    with pytest.raises(AstrocleanValueError, match="unknown loss weights"):
        inpainting_loss(biased, x, valid, target, weights={"vgg": 1})


def test_frozen_encoder_stays_frozen():
    enc = FrozenEncoder(levels=2).train()
    assert not enc.training and not any(p.requires_grad for p in enc.parameters())
    x = torch.randn(1, 1, 16, 16, requires_grad=True)
    sum(f.sum() for f in enc(x)).backward()
    assert x.grad is not None and len(enc(x)) == 2


# --- data, augmentation, loop --------------------------------------------------------------------------------

def test_prepare_and_shift():
    data = prepare_cutouts(tiny_cutout_set(4))
    assert data["x"].shape == (4, 1, 32, 32) and bool((data["central"] <= 1 - data["valid"]).all())
    torch.testing.assert_close(data["x"], data["image"] * data["valid"])
    gen = torch.Generator().manual_seed(3)
    shifted = _shift({k: data[k] for k in ("x", "valid", "target", "known", "image", "source", "central")}, 2, gen)
    moved = [i for i in range(4) if not torch.equal(shifted["valid"][i], data["valid"][i])]
    assert moved and all(shifted["known"][i].sum() < data["known"][i].sum() for i in moved)
    assert torch.equal(shifted["x"], shifted["image"] * shifted["valid"])


def test_flux_ratio_stats_per_decade():
    stats = flux_ratio_stats([1.0, 1.1, 0.9, 2.0, np.nan], [0.5, 0.6, 0.7, 20.0, 20.0])
    assert stats["0.1-1 Jy"] == dict(median=1.0, iqr=0.1, n=3) and stats["10-100 Jy"]["n"] == 1


def test_one_epoch_tiny_training_and_export(tmp_path):
    config = SourceTrainConfig(depth=4, width=4, epochs=1, batch_size=4, style_levels=1, max_shift=2)
    model, card, history = train_source_model("blue", name="tiny", config=config, n_train=8, n_val=4,
                                              cutout_fn=tiny_cutout_set, output_dir=tmp_path, command="test",
                                              log=lambda *a: None)
    assert len(history) == 1 and np.isfinite(history[0]["val_loss"]) and not model.training
    card = ModelCard.read(tmp_path / "tiny.json")
    assert card.task == "sources" and card.extra["mask_table"]["radii"] == [12, 11, 9, 7, 6, 5]
    assert card.metrics["validation_flux_ratio_by_decade"] and card.training_command == "test"
    net = load_weights(build_architecture(card.architecture), card, directory=tmp_path).eval()
    data = prepare_cutouts(tiny_cutout_set(2, rng=5))
    with torch.no_grad():
        torch.testing.assert_close(net(data["x"], data["valid"]), model(data["x"], data["valid"]))
