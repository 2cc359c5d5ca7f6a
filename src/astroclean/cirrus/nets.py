"""U-Net with interchangeable encoders for cirrus segmentation and source masking.

Two encoders, both small and trained from scratch (nothing can be downloaded):

- ``"mobilenetv2"``: inverted residual blocks (1x1 expand, 3x3 depthwise, 1x1 project; Sandler et al. 2018),
- ``"resnet"``: basic residual blocks (two 3x3 convolutions; He et al. 2016).

The decoder upsamples bilinearly, concatenates the encoder's skip and applies
two 3x3 convolutions. BatchNorm only, so a network in eval mode is a fixed
per-pixel function and tiled inference equals a whole-image pass.

Example
-------
>>> import torch
>>> from astroclean.cirrus.nets import CirrusUNet
>>> net = CirrusUNet(4, 1, encoder="mobilenetv2", widths=(4, 8, 8)).eval()
>>> net(torch.zeros(1, 4, 20, 28)).shape
torch.Size([1, 1, 20, 28])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from astroclean.errors import AstrocleanValueError
from astroclean.models.registry import register_model

__all__ = ["CirrusUNet", "ENCODERS", "ARCHITECTURES", "build_cirrus_net"]


def _cbr(cin, cout, k=3, stride=1, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride=1, expand=4):
        super().__init__()
        mid = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.body = nn.Sequential(_cbr(cin, mid, 1), _cbr(mid, mid, 3, stride, groups=mid), _cbr(mid, cout, 1, act=False))

    def forward(self, x):
        y = self.body(x)
        return x + y if self.use_res else y


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.body = nn.Sequential(_cbr(cin, cout, 3, stride), _cbr(cout, cout, 3, act=False))
        self.short = nn.Identity() if stride == 1 and cin == cout else _cbr(cin, cout, 1, stride, act=False)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.act(self.body(x) + self.short(x))


def _stage(kind, cin, cout, stride, blocks):
    block = InvertedResidual if kind == "mobilenetv2" else BasicBlock
    layers = [block(cin, cout, stride)] + [block(cout, cout, 1) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


ENCODERS = ("mobilenetv2", "resnet")


class CirrusUNet(nn.Module):
    """U-Net; ``widths[0]`` channels at full resolution, one stride-2 stage per further width.

    Parameters
    ----------
    in_channels, out_channels : int
    encoder : {"mobilenetv2", "resnet"}
    widths : tuple of int
        Channels per level; ``len(widths) - 1`` downsamplings.
    blocks : int
        Blocks per encoder stage.
    """

    def __init__(self, in_channels: int = 4, out_channels: int = 1, *, encoder: str = "mobilenetv2",
                 widths=(12, 16, 24, 32, 48, 64), blocks: int = 2):
        super().__init__()
        if encoder not in ENCODERS:
            raise AstrocleanValueError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
        if len(widths) < 2:
            raise AstrocleanValueError(f"widths needs at least two levels, got {widths}")
        self.encoder_kind = encoder
        self.stem = nn.Sequential(_cbr(in_channels, widths[0]), _cbr(widths[0], widths[0]))
        self.stages = nn.ModuleList(_stage(encoder, widths[i], widths[i + 1], 2, blocks) for i in range(len(widths) - 1))
        self.decoders = nn.ModuleList()
        for i in reversed(range(len(widths) - 1)):
            self.decoders.append(nn.Sequential(_cbr(widths[i + 1] + widths[i], widths[i]), _cbr(widths[i], widths[i])))
        self.head = nn.Conv2d(widths[0], out_channels, 1)

    @property
    def multiple(self) -> int:
        return 2 ** len(self.stages)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ny, nx = x.shape[-2:]
        m = self.multiple
        py, px = (-ny) % m, (-nx) % m
        if py or px:
            x = F.pad(x, (0, px, 0, py), mode="reflect" if min(ny, nx) > max(py, px) else "replicate")
        skips = [self.stem(x)]
        for stage in self.stages:
            skips.append(stage(skips[-1]))
        y = skips.pop()
        for dec in self.decoders:
            skip = skips.pop()
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = dec(torch.cat([y, skip], dim=1))
        return self.head(y)[..., :ny, :nx]


# Architecture variants (registered names -> constructor options); a card's architecture is
# {"kind": "cirrus-unet", "module": "astroclean.cirrus.nets", **options}.
ARCHITECTURES = {
    "cirrus-unet-mbv2": dict(kind="cirrus-unet", in_channels=4, out_channels=1, encoder="mobilenetv2",
                             widths=(12, 16, 24, 32, 48, 64), blocks=2),
    "cirrus-unet-resnet": dict(kind="cirrus-unet", in_channels=4, out_channels=1, encoder="resnet",
                               widths=(12, 16, 24, 32, 48, 64), blocks=1),
    "cirrus-mask-unet": dict(kind="cirrus-unet", in_channels=3, out_channels=1, encoder="mobilenetv2",
                             widths=(8, 16, 24, 32), blocks=1),
    "cirrus-unet-tiny": dict(kind="cirrus-unet", in_channels=4, out_channels=1, encoder="resnet",
                             widths=(4, 8, 8), blocks=1),
}


MODULE = "astroclean.cirrus.nets"
for _arch in ARCHITECTURES.values():
    _arch["module"] = MODULE


# The variants above are built by name in training and tests (``ARCHITECTURES``); they are not listed as
# untrained registry variants, whose generic tests feed one-channel inputs to every per-pixel network.
@register_model("cirrus-unet", task="cirrus",
                description="U-Net with a MobileNetV2- or ResNet-style encoder (cirrus, source masks)")
def cirrus_unet(*, depth: int | None = None, width: int | None = None, **options) -> CirrusUNet:
    """U-Net with a MobileNetV2- or ResNet-style encoder (cirrus segmentation, source masking).

    ``depth`` (downsamplings) and ``width`` (channels at full resolution), the per-pixel networks'
    common options, rebuild ``widths`` as ``width * (1, 2, 2, 4, 4, 8...)``.
    """
    if depth is not None or width is not None:
        widths = list(options.get("widths", (12, 16, 24, 32, 48, 64)))
        depth = len(widths) - 1 if depth is None else int(depth)
        width = widths[0] if width is None else int(width)
        options["widths"] = tuple(width * 2 ** ((i + 1) // 2) for i in range(depth + 1))
    return CirrusUNet(**options)


def build_cirrus_net(architecture: dict) -> CirrusUNet:
    """Build from a card's ``architecture`` dict (``kind`` = "cirrus-unet")."""
    arch = dict(architecture)
    arch.pop("module", None)
    kind = arch.pop("kind", "cirrus-unet")
    if kind != "cirrus-unet":
        raise AstrocleanValueError(f"not a cirrus architecture: kind={kind!r}")
    return CirrusUNet(**arch)
