"""A U-Net of partial convolutions that fills masked holes (Liu et al. 2018) -- compact-source removal.

The network takes a normalised cutout and its validity mask (1 = valid,
0 = hole: the source and its neighbours) and returns the FULL predicted
source-free background; the composite used downstream is
``output * hole + input * valid``. Hole pixels never influence any output
(every convolution is partial and holes are re-zeroed after each layer).

Layout for ``depth = 6`` on a 96x96 cutout::

    stem   3x3 PConv 1 -> w                            96x96 (no BatchNorm)
    down i 4x4/2 PConv + BN + ReLU, 3x3 PConv + BN + ReLU   48, 24, 12, 6, 3, 1
    up   i 4x4/2 transposed PConv + BN + LeakyReLU(0.2), concatenate the skip,
           3x3 PConv + BN + LeakyReLU(0.2)             3, 6, 12, 24, 48, 96
    head   3x3 PConv on [features, input] -> 1           96x96 (bias, linear)

Level ``i`` has ``width * min(2**i, max_multiplier)`` channels. Any input
size works: downsampling floors odd sizes and upsampling restores the skip's
exact shape, so no padding is needed.

Example
-------
>>> import torch
>>> from astroclean.models.pconv_unet import PConvUNet
>>> net = PConvUNet(depth=6, width=4).eval()
>>> x, valid = torch.zeros(2, 1, 96, 96), torch.ones(2, 1, 96, 96)
>>> net(x, valid).shape
torch.Size([2, 1, 96, 96])
>>> net.bottleneck_shape((96, 96))
(1, 1)
"""

from __future__ import annotations

import torch
from torch import nn

from astroclean.errors import AstrocleanValueError
from astroclean.models.pconv import PConvBlock, PartialConv2d
from astroclean.models.registry import register_model


class PConvUNet(nn.Module):
    """Partial-convolution U-Net; ``forward(x, valid) -> background`` of shape (N, 1, H, W).

    Parameters
    ----------
    in_channels : int
    depth : int
        Number of strided 4x4 downsamplings (1-8); 6 brings 96x96 to 1x1.
    width : int
        Channels at full resolution.
    max_multiplier : int
        Cap on the channel multiplier of deep levels (keeps it fast).
    """

    def __init__(self, in_channels: int = 1, *, depth: int = 6, width: int = 16, max_multiplier: int = 8):
        super().__init__()
        if not 1 <= depth <= 8:
            raise AstrocleanValueError(f"depth must be in 1..8, got {depth}")
        if width < 1 or max_multiplier < 1:
            raise AstrocleanValueError(f"width and max_multiplier must be positive, got {width}, {max_multiplier}")
        self.depth, self.width, self.in_channels = depth, width, in_channels
        ch = [width * min(2**i, max_multiplier) for i in range(depth + 1)]
        self.stem = PConvBlock(in_channels, ch[0], 3, norm=False, activation="relu")
        self.down = nn.ModuleList(PConvBlock(ch[i], ch[i + 1], 4, stride=2) for i in range(depth))
        self.enc = nn.ModuleList(PConvBlock(ch[i + 1], ch[i + 1], 3) for i in range(depth))
        self.up = nn.ModuleList(PConvBlock(ch[i + 1], ch[i], 4, stride=2, activation="leaky", transpose=True)
                                for i in reversed(range(depth)))
        self.dec = nn.ModuleList(PConvBlock(2 * ch[i], ch[i], 3, activation="leaky") for i in reversed(range(depth)))
        self.head = PartialConv2d(ch[0] + in_channels, 1, 3, padding=1, bias=True)

    def bottleneck_shape(self, shape) -> tuple:
        """Spatial shape of the deepest features for an input of ``shape``."""
        h, w = shape
        for _ in range(self.depth):
            if min(h, w) < 2:
                return 0, 0
            h, w = (h - 2) // 2 + 1, (w - 2) // 2 + 1
        return h, w

    def forward(self, x: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
        """Predicted background (N, 1, H, W); ``valid`` (N, 1, H, W) 1 = valid, default all valid."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise AstrocleanValueError(f"x must have shape (N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        if min(self.bottleneck_shape(x.shape[-2:])) < 1:
            raise AstrocleanValueError(f"input {tuple(x.shape[-2:])} is too small for depth {self.depth}: "
                                       f"each level halves it; use a smaller depth or a larger cutout")
        if valid is None:
            valid = torch.ones_like(x[:, :1])
        if valid.shape[0] != x.shape[0] or valid.shape[-2:] != x.shape[-2:]:
            raise AstrocleanValueError(f"valid must have shape (N, 1, H, W) like x {tuple(x.shape)}, "
                                       f"got {tuple(valid.shape)}")
        valid = valid.to(x.dtype)
        inp = torch.where(valid > 0, x, torch.zeros((), dtype=x.dtype, device=x.device))  # NaN/inf-safe
        # every block returns exact zeros under its new mask, so later blocks skip the select (premasked)
        h, m = self.stem(inp, valid, premasked=True)
        skips = []
        for down, enc in zip(self.down, self.enc):
            skips.append((h, m))
            h, m = enc(*down(h, m, premasked=True), premasked=True)
        for up, dec in zip(self.up, self.dec):
            sh, sm = skips.pop()
            h, m = up(h, m, output_size=sh.shape[-2:], premasked=True)
            h, m = dec(torch.cat([sh, h], 1), torch.cat([sm.expand_as(sh), m.expand_as(h)], 1), premasked=True)
        out, _ = self.head(torch.cat([h, inp], 1), torch.cat([m.expand_as(h), valid.expand_as(inp)], 1),
                           premasked=True)
        return out


@register_model("pconv-unet", variants={"pconv-unet": {"depth": 6, "width": 8}})
def pconv_unet(**options) -> PConvUNet:
    """partial-convolution UNet (Liu et al. 2018) filling masked holes"""
    return PConvUNet(**options)
