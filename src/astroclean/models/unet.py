"""The UNet family used for per-pixel detection (cosmic rays) and segmentation.

One class covers the deepCR style (BatchNorm), the Cosmic-CoNN style
(GroupNorm) and either with additive attention gates on every skip
connection. Depth and width are configurable; the output is a logit map of
the input's shape (apply ``torch.sigmoid`` for probabilities).

The encoder is interchangeable: ``"plain"`` (two 3x3 convolutions per level and
2x2 max-pooling, the cosmic-ray networks), ``"resnet"`` (basic residual blocks)
or ``"mobilenetv2"`` (inverted residuals), the last two downsampling with a
stride-2 first block after a plain full-resolution stem. The decoder upsamples
with a transposed convolution or bilinearly (``upsample``); ``widths`` sets the
channels of every level when they do not follow ``width * 2**level`` (cirrus).

Example
-------
>>> import torch
>>> from astroclean.models.unet import UNet
>>> net = UNet(depth=2, width=8, norm="group", attention=True).eval()
>>> net(torch.zeros(1, 1, 24, 20)).shape      # any size divisible by 2**depth... or not
torch.Size([1, 1, 24, 20])
>>> net = UNet(4, 1, encoder="mobilenetv2", widths=(4, 8, 8), upsample="bilinear").eval()
>>> net(torch.zeros(1, 4, 29, 35)).shape
torch.Size([1, 1, 29, 35])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from astroclean.errors import AstrocleanValueError
from astroclean.models.layers import AttentionGate, ConvBlock, InvertedResidual, ResidualBlock, SplitInputConv2d
from astroclean.models.registry import register_model


ENCODERS = ("plain", "resnet", "mobilenetv2")
UPSAMPLING = ("transpose", "bilinear")


def _encoder_stage(encoder: str, in_channels: int, out_channels: int, *, blocks: int, norm: str) -> nn.Sequential:
    """One stride-2 level of a residual encoder: ``blocks`` blocks, the first one downsampling."""
    block = ResidualBlock if encoder == "resnet" else InvertedResidual
    return nn.Sequential(block(in_channels, out_channels, stride=2, norm=norm),
                         *[block(out_channels, out_channels, norm=norm) for _ in range(blocks - 1)])


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
    encoder : {"plain", "resnet", "mobilenetv2"}
        Plain convolution blocks with max-pooling, or residual / inverted-residual stages.
    widths : sequence of int, optional
        Channels per level (``len(widths) - 1`` downsamplings); replaces ``depth`` and ``width``.
    blocks : int
        Blocks per level of a residual encoder.
    upsample : {"transpose", "bilinear"}
        Transposed 2x2 convolution (then the skip and the upsampled map have the same channels) or
        bilinear upsampling (concatenated as they are).

    Notes
    -----
    Inputs whose sides are not multiples of ``2**depth`` are reflect-padded
    internally and cropped back, so every input size works.
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1, *, depth: int = 3, width: int = 16,
                 norm: str = "batch", attention: bool = False, groups: int = 8, encoder: str = "plain",
                 widths=None, blocks: int = 1, upsample: str = "transpose"):
        super().__init__()
        if encoder not in ENCODERS:
            raise AstrocleanValueError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
        if upsample not in UPSAMPLING:
            raise AstrocleanValueError(f"upsample must be one of {UPSAMPLING}, got {upsample!r}")
        if widths is not None:
            if len(widths) < 2 or min(widths) < 1:
                raise AstrocleanValueError(f"widths needs at least two positive levels, got {widths}")
            depth, width = len(widths) - 1, int(widths[0])
        if not 1 <= depth <= 5:
            raise AstrocleanValueError(f"depth must be in 1..5, got {depth}")
        if width < 1:
            raise AstrocleanValueError(f"width must be positive, got {width}")
        self.depth = depth
        self.encoder = encoder
        self.blocks = int(blocks)
        channels = [int(c) for c in widths] if widths is not None else [width * 2**i for i in range(depth + 1)]
        self.channels = tuple(channels)
        self.encoders = nn.ModuleList()
        prev = in_channels
        for level, ch in enumerate(channels):
            if encoder == "plain" or level == 0:
                self.encoders.append(ConvBlock(prev, ch, norm=norm, groups=groups))
            else:
                self.encoders.append(_encoder_stage(encoder, prev, ch, blocks=self.blocks, norm=norm))
            prev = ch
        self.ups = nn.ModuleList()
        self.gates = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for level in reversed(range(depth)):
            low, high = channels[level + 1], channels[level]
            if upsample == "transpose":
                self.ups.append(nn.ConvTranspose2d(low, high, 2, stride=2))
                up_channels = high
            else:
                self.ups.append(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False))
                up_channels = low
            self.gates.append(AttentionGate(high, up_channels) if attention else nn.Identity())
            self.decoders.append(ConvBlock(high + up_channels, high, norm=norm, groups=groups))
        self.head = nn.Conv2d(channels[0], out_channels, 1)
        self.split_levels: frozenset = frozenset()   # decoder levels whose concatenation is skipped

    def split_concatenations(self, levels=(0,)) -> "UNet":
        """Skip the skip/upsampled concatenation of the decoder at ``levels`` (0 = full resolution): the first
        convolution there is split in two (:class:`SplitInputConv2d`). Same outputs up to float rounding;
        for inference (the :class:`~astroclean.inference.Predictor` calls it after folding BatchNorm). Level 0
        only by default: measured on CPU, channels-last, splitting the lower levels is slower."""
        for i, level in enumerate(reversed(range(self.depth))):
            if level in levels and level not in self.split_levels:
                block = self.decoders[i]
                block[0] = SplitInputConv2d(block[0], first_channels=self.channels[level])
        self.split_levels = self.split_levels | frozenset(levels)
        return self

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
        pool = self.encoder == "plain"
        for i, encoder in enumerate(self.encoders):
            x = encoder(x)
            if i < self.depth:
                skips.append(x)
                if pool:
                    x = F.max_pool2d(x, 2)
        for level, up, gate, decoder in zip(reversed(range(self.depth)), self.ups, self.gates, self.decoders):
            x = up(x)
            skip = skips.pop()
            skip = gate(skip, x) if isinstance(gate, AttentionGate) else skip
            x = decoder((skip, x) if level in self.split_levels else torch.cat([skip, x], dim=1))
        return self.head(x)[..., :h, :w]

    def receptive_radius(self) -> int:
        """Pixels of context each side that can influence an output pixel."""
        radius = 0
        per_level = {"plain": 2, "resnet": 2 * self.blocks, "mobilenetv2": self.blocks}[self.encoder]
        for level in range(self.depth + 1):  # encoder convs (3x3 ones; a residual level's stem is plain)
            radius += (2 if level == 0 else per_level) * 2**level
        for level in range(self.depth):  # decoder convs
            radius += 2 * 2**level
        return radius + 2**self.depth  # pooling/transposed-conv alignment


@register_model("unet", variants={
    "unet-bn": {"depth": 3, "width": 8, "norm": "batch", "attention": False},
    "unet-bn-attn": {"depth": 3, "width": 8, "norm": "batch", "attention": True},
    "unet-gn": {"depth": 3, "width": 8, "norm": "group", "attention": False},
    "unet-gn-attn": {"depth": 3, "width": 8, "norm": "group", "attention": True},
    "unet-resnet": {"depth": 3, "width": 8, "encoder": "resnet", "upsample": "bilinear"},
    "unet-mbv2": {"depth": 3, "width": 8, "encoder": "mobilenetv2", "upsample": "bilinear"},
})
def unet(**options) -> UNet:
    """UNet: deepCR style (BatchNorm) or Cosmic-CoNN style (GroupNorm), optional attention gates, plain,
    ResNet-style or MobileNetV2-style encoder"""
    return UNet(**options)
