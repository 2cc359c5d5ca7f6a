"""Losses for hole filling (compact-source removal): L1, style, SSIM and source/flux terms.

The total loss of :func:`inpainting_loss` is::

    2 L1(valid) + 6 L1(hole) + 120 (style(output) + style(composite)) + 0.4 (1 - SSIM(composite))
      + 1 L1(extracted - injected source) + 1 |mean hole flux error|

after Liu et al. (2018), where ``composite = output * hole + input * valid``
and ``extracted = input - output`` inside the hole. Every term is in units
of the cutout's noise (inputs are normalised by
:func:`astroclean.sources.normalise.normalise_cutouts`).

The flux term is the absolute value of the per-cutout *mean* of
``extracted - injected`` over the central source's hole, i.e. the mean
background error under the source, which sets the error of the removed
flux; an L1 per pixel does not constrain it strongly (noise dominates each
pixel), while the benchmark asks for the flux ratio within 2 %.

Style (Gatys/Liu Gram matrices) needs a fixed feature extractor. Nothing can
be downloaded, so there are no ImageNet (VGG) weights; :class:`FrozenEncoder`
uses the encoder of the package's own shipped cosmic-ray UNet ``"ground"``:
it is available offline, it was trained on real astronomical images (so its
filters respond to noise, PSF-sized blobs and sky structure rather than to
natural-image textures), and it is tiny (three levels, 8-32 channels), so
the style term is cheap on a CPU. It is frozen and kept in eval mode.

Example
-------
>>> import torch
>>> from astroclean.sources.losses import ssim, style_loss, masked_l1
>>> x = torch.randn(2, 1, 32, 32)
>>> float(ssim(x, x))
1.0
>>> float(style_loss([x], [x]))
0.0
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from astroclean.errors import AstrocleanValueError

WEIGHTS = dict(valid=2.0, hole=6.0, style=120.0, ssim=0.4, source=1.0, flux=1.0)


def masked_l1(a: torch.Tensor, b: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean of ``|a - b|`` over the pixels where ``weight`` is 1 (0 when there are none)."""
    n = weight.sum()
    return (torch.abs(a - b) * weight).sum() / n.clamp(min=1.0)


def gram(features: torch.Tensor) -> torch.Tensor:
    """Gram matrices (N, C, C) normalised by C H W (Liu et al. 2018, eq. 4)."""
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def style_loss(features_a, features_b) -> torch.Tensor:
    """Sum over levels of the mean absolute difference of the Gram matrices."""
    if len(features_a) != len(features_b):
        raise AstrocleanValueError(f"feature lists differ in length: {len(features_a)} vs {len(features_b)}")
    return sum(torch.mean(torch.abs(gram(a) - gram(b))) for a, b in zip(features_a, features_b))


def _gaussian_window(size: int, sigma: float, dtype, device) -> torch.Tensor:
    r = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    g = torch.exp(-0.5 * (r / sigma) ** 2)
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]


def ssim(a: torch.Tensor, b: torch.Tensor, *, window: int = 11, sigma: float = 1.5, data_range=None) -> torch.Tensor:
    """Mean structural similarity (Wang et al. 2004) of two (N, 1, H, W) batches.

    ``data_range`` defaults to the per-image range of ``b`` (the reference),
    floored at 1 (one noise unit); the Gaussian window is valid-only (no
    padding). ``ssim(x, x) == 1``.
    """
    if a.shape != b.shape or a.dim() != 4 or a.shape[1] != 1:
        raise AstrocleanValueError(f"ssim needs two (N, 1, H, W) tensors of one shape, got {a.shape}, {b.shape}")
    if data_range is None:
        with torch.no_grad():
            flat = b.flatten(1)
            data_range = (flat.max(1).values - flat.min(1).values).clamp(min=1.0).view(-1, 1, 1, 1)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    w = _gaussian_window(window, sigma, a.dtype, a.device)
    mu_a, mu_b = F.conv2d(a, w), F.conv2d(b, w)
    var_a = F.conv2d(a * a, w) - mu_a**2
    var_b = F.conv2d(b * b, w) - mu_b**2
    cov = F.conv2d(a * b, w) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return s.mean()


class FrozenEncoder(nn.Module):
    """Fixed features for the style loss: the encoder of the shipped ``"ground"`` cosmic-ray UNet.

    The input (cutout in noise units) goes through ``asinh(x / 2)``, the
    input scaling that network was trained with, then through its encoder
    levels; the outputs of the first ``levels`` levels are returned. All
    parameters are frozen and the module stays in eval mode (BatchNorm uses
    its running statistics), whatever ``train()`` is called with.
    """

    def __init__(self, *, model: str = "ground", levels: int = 3, unet=None):
        super().__init__()
        if unet is None:
            from astroclean.models import create_model

            unet = create_model(model)
        if not 1 <= levels <= len(unet.encoders):
            raise AstrocleanValueError(f"levels must be in 1..{len(unet.encoders)}, got {levels}")
        self.encoders = nn.ModuleList(list(unet.encoders)[:levels])
        for p in self.parameters():
            p.requires_grad_(False)
        super().train(False)

    def train(self, mode: bool = True):  # always frozen
        return super().train(False)

    def forward(self, x: torch.Tensor) -> list:
        h = torch.asinh(x / 2)
        features = []
        for i, encoder in enumerate(self.encoders):
            if i:
                h = F.max_pool2d(h, 2)
            h = encoder(h)
            features.append(h)
        return features


def inpainting_loss(output, x, valid, target, *, known=None, image=None, source=None, central=None,
                    extractor=None, weights=None) -> tuple[torch.Tensor, dict]:
    """The weighted total loss and its terms (floats, for logging).

    Parameters
    ----------
    output : Tensor (N, 1, H, W)
        Network prediction (the full background).
    x, valid : Tensor (N, 1, H, W)
        Network input and its mask (1 = valid, 0 = hole or no data).
    target : Tensor (N, 1, H, W)
        True background (0 where unknown).
    known : Tensor (N, 1, H, W), optional
        1 where ``target`` is defined (inside the map); default everywhere.
    image, source, central : Tensor (N, 1, H, W), optional
        The normalised cutout with its sources (holes NOT zeroed), the
        injected central source (same units) and the hole pixels belonging to
        that source; all three are needed for the source and flux terms
        (skipped otherwise).
    extractor : callable, optional
        Fixed feature extractor for the style term (skipped when None).
    weights : dict, optional
        Replacements for :data:`WEIGHTS`.
    """
    w = {**WEIGHTS, **(weights or {})}
    unknown = set(w) - set(WEIGHTS)
    if unknown:
        raise AstrocleanValueError(f"unknown loss weights {sorted(unknown)}; known: {sorted(WEIGHTS)}")
    known = torch.ones_like(valid) if known is None else known
    hole = (1 - valid) * known
    composite = valid * x + (1 - valid) * output
    reference = known * target + (1 - known) * composite.detach()
    terms = {"valid": masked_l1(output, target, valid * known), "hole": masked_l1(output, target, hole)}
    terms["ssim"] = 1 - ssim(composite, reference)
    if extractor is not None and w["style"]:
        with torch.no_grad():
            feat_ref = extractor(reference)
        terms["style"] = style_loss(extractor(output), feat_ref) + style_loss(extractor(composite), feat_ref)
    if image is not None and source is not None and central is not None:
        extracted = image - output
        terms["source"] = masked_l1(extracted, source, central)
        n = central.sum(dim=(1, 2, 3))
        mean_error = ((extracted - source) * central).sum(dim=(1, 2, 3)) / n.clamp(min=1.0)
        terms["flux"] = torch.abs(mean_error)[n > 0].sum() / (n > 0).sum().clamp(min=1)
    total = sum(w[k] * v for k, v in terms.items())
    return total, {k: float(v.detach()) for k, v in terms.items()}
