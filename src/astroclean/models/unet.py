"""The UNet family used for per-pixel detection (cosmic rays) and segmentation.

One class covers the deepCR style (BatchNorm), the Cosmic-CoNN style
(GroupNorm) and either with additive attention gates on every skip
connection. Depth and width are configurable; the output is a logit map of
the input's shape (apply ``torch.sigmoid`` for probabilities).

Example
-------
>>> import torch
>>> from astroclean.models.unet import UNet
>>> net = UNet(depth=2, width=8, norm="group", attention=True).eval()
>>> net(torch.zeros(1, 1, 24, 20)).shape      # any size divisible by 2**depth... or not
torch.Size([1, 1, 24, 20])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from astroclean.errors import AstrocleanValueError
from astroclean.models.layers import AttentionGate, ConvBlock
from astroclean.models.registry import register_model


class UNet(nn.Module):
    """U-Net with ``depth`` poolings; level ``i`` has ``width * 2**i`` channels.

    Parameters
    ----------
    in_channels, out_channels : int
    depth : int
        Number of 2x2 max-poolings (1-5). The receptive field grows as 2**depth.
    width : int
        Channels at full resolution.
    norm : {"batch", "group"}
        BatchNorm (deepCR style, exact under tiling) or GroupNorm
        (Cosmic-CoNN style, robust to batch size; normalises over the tile).
    attention : bool
        Additive attention gates on every skip connection.
    groups : int
        Groups of GroupNorm.

    Notes
    -----
    Inputs whose sides are not multiples of ``2**depth`` are reflect-padded
    internally and cropped back, so every input size works.
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1, *, depth: int = 3, width: int = 16,
                 norm: str = "batch", attention: bool = False, groups: int = 8):
        super().__init__()
        if not 1 <= depth <= 5:
            raise AstrocleanValueError(f"depth must be in 1..5, got {depth}")
        if width < 1:
            raise AstrocleanValueError(f"width must be positive, got {width}")
        self.depth = depth
        channels = [width * 2**i for i in range(depth + 1)]
        self.encoders = nn.ModuleList()
        prev = in_channels
        for ch in channels:
            self.encoders.append(ConvBlock(prev, ch, norm=norm, groups=groups))
            prev = ch
        self.ups = nn.ModuleList()
        self.gates = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for level in reversed(range(depth)):
            low, high = channels[level + 1], channels[level]
            self.ups.append(nn.ConvTranspose2d(low, high, 2, stride=2))
            self.gates.append(AttentionGate(high, high) if attention else nn.Identity())
            self.decoders.append(ConvBlock(2 * high, high, norm=norm, groups=groups))
        self.head = nn.Conv2d(channels[0], out_channels, 1)

    @property
    def multiple(self) -> int:
        """Input sides are padded to a multiple of this."""
        return 2**self.depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        m = self.multiple
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="reflect" if min(h, w) > max(ph, pw) else "replicate")
        skips = []
        for i, encoder in enumerate(self.encoders):
            x = encoder(x)
            if i < self.depth:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for up, gate, decoder in zip(self.ups, self.gates, self.decoders):
            x = up(x)
            skip = skips.pop()
            skip = gate(skip, x) if isinstance(gate, AttentionGate) else skip
            x = decoder(torch.cat([skip, x], dim=1))
        return self.head(x)[..., :h, :w]

    def receptive_radius(self) -> int:
        """Pixels of context each side that can influence an output pixel."""
        radius = 0
        for level in range(self.depth + 1):  # encoder convs
            radius += 2 * 2**level
        for level in range(self.depth):  # decoder convs
            radius += 2 * 2**level
        return radius + 2**self.depth  # pooling/transposed-conv alignment


@register_model("unet", variants={
    "unet-bn": {"depth": 3, "width": 8, "norm": "batch", "attention": False},
    "unet-bn-attn": {"depth": 3, "width": 8, "norm": "batch", "attention": True},
    "unet-gn": {"depth": 3, "width": 8, "norm": "group", "attention": False},
    "unet-gn-attn": {"depth": 3, "width": 8, "norm": "group", "attention": True},
})
def unet(**options) -> UNet:
    """UNet: deepCR style (BatchNorm) or Cosmic-CoNN style (GroupNorm), optional attention gates"""
    return UNet(**options)
