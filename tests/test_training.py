import numpy as np
import pytest

from astroclean.image import as_image
from astroclean.inference import normalise
from astroclean.metrics import tpr_at_fpr
from astroclean.cosmicrays.simulate import inject_cosmic_rays
from astroclean.training import TrainConfig, detection_loss, train_detector


def _tiny_set(rng, n):
    images, truths = [], []
    for _ in range(n):
        clean = as_image(100 + 5 * rng.standard_normal((48, 48)), variance=np.full((48, 48), 25.0))
        hit, truth = inject_cosmic_rays(clean, rng=rng, library=None, density=0.02, snr_range=(5, 500))
        x, _ = normalise(hit)
        images.append(x)
        truths.append(truth.mask)
    return np.stack(images), np.stack(truths)


def test_a_tiny_model_learns_a_tiny_simulated_set():
    rng = np.random.default_rng(7)
    x_train, t_train = _tiny_set(rng, 48)
    x_val, t_val = _tiny_set(rng, 12)
    config = TrainConfig(depth=2, width=8, epochs=6, batch_size=8, lr=5e-3, loss="bce+dice")
    scores = []
    model, history = train_detector(x_train, t_train, None, x_val, t_val, None, config=config, log=None,
                                    score_fn=lambda p: scores.append(tpr_at_fpr(t_val, p, 1e-2)) or scores[-1])
    assert len(history) == 6
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert max(scores) > 0.6, scores   # an untrained net is at ~0.01 (chance) here


def test_losses_ignore_masked_pixels():
    import torch

    logits = torch.tensor([[[[5.0, -5.0]]]])
    truth = torch.tensor([[[[0.0, 0.0]]]])
    ignore = torch.tensor([[[[True, False]]]])
    assert float(detection_loss(logits, truth, ignore=ignore, kind="bce")) < 0.01
    assert float(detection_loss(logits, truth, kind="bce")) > 2
    with pytest.raises(ValueError, match="loss must be"):
        detection_loss(logits, truth, kind="l2")
