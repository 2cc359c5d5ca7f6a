"""ResNet family for per-cutout regression and classification (star clusters, ...).

Basic residual blocks (He et al. 2016: conv-BN-ReLU, conv-BN, add, ReLU) on multi-band cutouts,
after a stem convolution (stride 2 halves a cutout at once, e.g. 48x48 -> 24x24); every stage after
the first halves the resolution again; a global average pool and a linear head give ``n_outputs``
numbers per cutout (means, log-variances, class logits: the card's ``outputs`` says which).
Registered as ``resnet`` with the variants ``resnet-tiny`` (for tests) and ``resnet-small``; the
cluster task registers its own head size on top of it (``cluster-resnet``).

Example
-------
>>> import torch
>>> from astroclean.models import create_model
>>> net = create_model("resnet-tiny", pretrained=False, in_channels=3, n_outputs=5)
>>> net(torch.zeros(2, 3, 32, 32)).shape
torch.Size([2, 5])
"""

from __future__ import annotations

import torch
from torch import nn

from astroclean.errors import AstrocleanValueError
from astroclean.models.registry import register_model


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU, conv3x3-BN, plus the (projected when the shape changes) input, then ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.act = nn.ReLU(inplace=True)
        self.skip = None
        if stride != 1 or c_in != c_out:
            self.skip = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = self.act(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.act(out + (x if self.skip is None else self.skip(x)))


class ResNet(nn.Module):
    """ResNet on ``(N, in_channels, h, w)`` cutouts -> ``(N, n_outputs)``.

    Parameters
    ----------
    in_channels : int
        Bands of the cutout.
    n_outputs : int
        Numbers per cutout.
    widths : tuple of int
        Channels of each stage; every stage after the first halves the resolution.
    blocks : tuple of int
        Residual blocks per stage (same length as ``widths``).
    stem_stride : int
        Stride of the stem convolution (2 for cutouts larger than the objects need).
    """

    def __init__(self, in_channels: int = 3, n_outputs: int = 1, *, widths=(16, 32, 64), blocks=(2, 2, 2),
                 stem_stride: int = 1):
        super().__init__()
        if len(widths) != len(blocks) or not widths:
            raise AstrocleanValueError(f"widths and blocks need the same non-zero length, got {widths} and {blocks}")
        self.in_channels, self.n_outputs = int(in_channels), int(n_outputs)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, stride=stem_stride, padding=1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        layers, channels = [], widths[0]
        for stage, (width, n_blocks) in enumerate(zip(widths, blocks)):
            for k in range(n_blocks):
                layers.append(BasicBlock(channels, width, stride=2 if stage > 0 and k == 0 else 1))
                channels = width
        self.stages = nn.Sequential(*layers)
        self.head = nn.Linear(channels, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


@register_model("resnet", task="any", variants={
    "resnet-tiny": {"widths": (8, 16), "blocks": (1, 1)},
    "resnet-small": {"widths": (16, 32, 64), "blocks": (2, 2, 2)},
})
def resnet(**options) -> ResNet:
    """ResNet (basic blocks) for cutout regression and classification"""
    for key in ("widths", "blocks"):
        if key in options:
            options[key] = tuple(options[key])
    return ResNet(**options)
