"""ResNet family for per-cutout regression and classification (star clusters, ...).

Pre-activation residual blocks (He et al. 2016) on multi-band cutouts; a global average pool and a
linear head give ``n_outputs`` numbers per cutout (means, log-variances, class logits: the card's
``outputs`` says which). Registered as ``resnet`` with the variants ``resnet-tiny`` (for tests) and
``resnet-small``.

Example
-------
>>> import torch
>>> from astroclean.models import create_model
>>> net = create_model("resnet-tiny", pretrained=False, in_channels=3, n_outputs=5)
>>> net(torch.zeros(2, 3, 32, 32)).shape
torch.Size([2, 5])
"""

from __future__ import annotations

from torch import nn

from astroclean.errors import AstrocleanValueError
from astroclean.models.registry import register_model


class _Block(nn.Module):
    """Pre-activation basic block: BN-ReLU-conv3x3 twice, with a projected shortcut when the shape changes."""

    def __init__(self, in_channels: int, out_channels: int, *, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(in_channels), nn.ReLU(inplace=False),
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=False),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False))
        self.shortcut = (nn.Identity() if stride == 1 and in_channels == out_channels
                         else nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False))

    def forward(self, x):
        return self.body(x) + self.shortcut(x)


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
    """

    def __init__(self, in_channels: int = 3, n_outputs: int = 1, *, widths=(16, 32, 64), blocks=(2, 2, 2)):
        super().__init__()
        if len(widths) != len(blocks) or not widths:
            raise AstrocleanValueError(f"widths and blocks need the same non-zero length, got {widths} and {blocks}")
        self.in_channels, self.n_outputs = int(in_channels), int(n_outputs)
        layers = [nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False)]
        channels = widths[0]
        for stage, (width, n_blocks) in enumerate(zip(widths, blocks)):
            for k in range(n_blocks):
                layers.append(_Block(channels, width, stride=2 if stage > 0 and k == 0 else 1))
                channels = width
        layers += [nn.BatchNorm2d(channels), nn.ReLU(inplace=False), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(channels, n_outputs)

    def forward(self, x):
        return self.head(self.features(x))


@register_model("resnet", task="any", variants={
    "resnet-tiny": {"widths": (8, 16), "blocks": (1, 1)},
    "resnet-small": {"widths": (16, 32, 64), "blocks": (2, 2, 2)},
})
def resnet(**options) -> ResNet:
    """ResNet (pre-activation) for cutout regression and classification"""
    return ResNet(**options)
