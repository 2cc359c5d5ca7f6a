"""Losses for per-pixel detection with heavy class imbalance.

Cosmic-ray pixels are ~0.1-1% of a ground-based frame: plain BCE learns to say
"no" everywhere. ``bce+dice`` adds a soft Dice term that weighs the rare class
by its overlap, ``focal`` down-weights easy negatives (Lin et al. 2017).
Pixels in ``ignore`` (bad, NaN, saturated) contribute nothing.

Example
-------
>>> import torch
>>> from astroclean.training.losses import detection_loss
>>> logits, truth = torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4)
>>> round(float(detection_loss(logits, truth, kind="bce")), 4)
0.6931
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from astroclean.errors import AstrocleanValueError

KINDS = ("bce", "bce+dice", "focal", "focal+dice")


def _weights(truth, ignore):
    return torch.ones_like(truth) if ignore is None else (~ignore).to(truth.dtype)


def soft_dice(logits, truth, weight, eps: float = 1.0):
    prob = torch.sigmoid(logits) * weight
    t = truth * weight
    inter = (prob * t).sum()
    return 1 - (2 * inter + eps) / (prob.sum() + t.sum() + eps)


def focal(logits, truth, weight, gamma: float = 2.0, alpha: float = 0.75):
    bce = F.binary_cross_entropy_with_logits(logits, truth, reduction="none")
    p_t = torch.exp(-bce)
    a_t = alpha * truth + (1 - alpha) * (1 - truth)
    return (a_t * (1 - p_t) ** gamma * bce * weight).sum() / weight.sum().clamp_min(1)


def detection_loss(logits, truth, *, ignore=None, kind: str = "bce+dice", dice_weight: float = 0.5):
    """Loss of ``logits`` against the boolean/float ``truth`` (same shape)."""
    if kind not in KINDS:
        raise AstrocleanValueError(f"loss must be one of {KINDS}, got {kind!r}")
    truth = truth.to(logits.dtype)
    weight = _weights(truth, ignore)
    if kind.startswith("focal"):
        base = focal(logits, truth, weight)
    else:
        bce = F.binary_cross_entropy_with_logits(logits, truth, reduction="none")
        base = (bce * weight).sum() / weight.sum().clamp_min(1)
    if kind.endswith("dice"):
        base = base + dice_weight * soft_dice(logits, truth, weight)
    return base
