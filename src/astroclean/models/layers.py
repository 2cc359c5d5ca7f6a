"""Building blocks shared by the UNet family.

``ConvBlock`` (two 3x3 convolutions) is the plain U-Net level; ``ResidualBlock``
(basic block, He et al. 2016) and ``InvertedResidual`` (MobileNetV2, Sandler et
al. 2018) build the ResNet- and MobileNetV2-style encoders. Every block is made
of flat ``nn.Sequential`` conv-norm(-activation) runs, so
``inference.predictor.fold_batchnorm`` fuses all of them.

Example
-------
>>> import torch
>>> from astroclean.models.layers import ConvBlock, AttentionGate
>>> block = ConvBlock(1, 8, norm="group")
>>> block(torch.zeros(1, 1, 16, 16)).shape
torch.Size([1, 8, 16, 16])
"""

from __future__ import annotations

import torch
from torch import nn

from astroclean.errors import AstrocleanValueError

NORMS = ("batch", "group")


def make_norm(kind: str, channels: int, *, groups: int = 8) -> nn.Module:
    """BatchNorm (deepCR style) or GroupNorm (Cosmic-CoNN style) for ``channels``."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        n = groups
        while channels % n:
            n -= 1
        return nn.GroupNorm(n, channels)
    raise AstrocleanValueError(f"norm must be one of {NORMS}, got {kind!r}")


class ConvBlock(nn.Sequential):
    """Two 3x3 convolutions, each followed by a normalisation and ReLU."""

    def __init__(self, in_channels: int, out_channels: int, *, norm: str = "batch", groups: int = 8):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            make_norm(norm, out_channels, groups=groups),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            make_norm(norm, out_channels, groups=groups),
            nn.ReLU(inplace=True),
        )


class SplitInputConv2d(nn.Module):
    """``conv`` applied to the channel concatenation of a pair ``(a, b)`` without building it.

    ``conv(cat([a, b])) == conv_a(a) + conv_b(b)`` (``conv``'s weights split along the input channels),
    the same up to float rounding; on CPU in channels-last layout the concatenation of two full-resolution
    maps costs about half as much as the convolution itself, and this saves it.
    """

    def __init__(self, conv: nn.Conv2d, first_channels: int):
        super().__init__()
        opts = dict(kernel_size=conv.kernel_size, stride=conv.stride, padding=conv.padding, dilation=conv.dilation)
        second = conv.in_channels - first_channels
        self.conv_a = nn.Conv2d(first_channels, conv.out_channels, bias=conv.bias is not None, **opts)
        self.conv_b = nn.Conv2d(second, conv.out_channels, bias=False, **opts)
        with torch.no_grad():
            self.conv_a.weight.copy_(conv.weight[:, :first_channels])
            self.conv_b.weight.copy_(conv.weight[:, first_channels:])
            if conv.bias is not None:
                self.conv_a.bias.copy_(conv.bias)

    def forward(self, pair) -> torch.Tensor:
        a, b = pair
        return self.conv_a(a).add_(self.conv_b(b))


class AttentionGate(nn.Module):
    """Additive attention gate on a skip connection (Oktay et al. 2018).

    The gating signal ``g`` (decoder features, already upsampled to the skip
    resolution) and the skip features ``x`` each pass through a 1x1
    convolution; the sum goes through ReLU, a 1x1 convolution to one channel
    and a sigmoid, and the result multiplies ``x``.
    """

    def __init__(self, skip_channels: int, gate_channels: int, inter_channels: int | None = None):
        super().__init__()
        inter = inter_channels or max(skip_channels // 2, 1)
        self.theta_x = nn.Conv2d(skip_channels, inter, 1, bias=False)
        self.phi_g = nn.Conv2d(gate_channels, inter, 1, bias=True)
        self.psi = nn.Conv2d(inter, 1, 1, bias=True)

    def forward(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        attention = torch.sigmoid(self.psi(torch.relu(self.theta_x(x) + self.phi_g(g))))
        return x * attention


def _conv_norm(in_channels, out_channels, kernel=3, *, stride=1, groups=1, norm="batch", act=None):
    layers = [nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2, groups=groups,
                        bias=False), make_norm(norm, out_channels)]
    if act is not None:
        layers.append(act(inplace=True))
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """Basic residual block: conv3x3-norm-ReLU-conv3x3-norm plus a (projected) shortcut, then ReLU."""

    def __init__(self, in_channels: int, out_channels: int, *, stride: int = 1, norm: str = "batch"):
        super().__init__()
        self.body = nn.Sequential(*_conv_norm(in_channels, out_channels, stride=stride, norm=norm, act=nn.ReLU),
                                  *_conv_norm(out_channels, out_channels, norm=norm))
        self.short = (nn.Identity() if stride == 1 and in_channels == out_channels
                      else _conv_norm(in_channels, out_channels, 1, stride=stride, norm=norm))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.short(x))


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise (stride), 1x1 linear projection; residual when shapes match."""

    def __init__(self, in_channels: int, out_channels: int, *, stride: int = 1, expand: int = 4,
                 norm: str = "batch"):
        super().__init__()
        mid = in_channels * expand
        self.use_res = stride == 1 and in_channels == out_channels
        self.body = nn.Sequential(*_conv_norm(in_channels, mid, 1, norm=norm, act=nn.ReLU6),
                                  *_conv_norm(mid, mid, 3, stride=stride, groups=mid, norm=norm, act=nn.ReLU6),
                                  *_conv_norm(mid, out_channels, 1, norm=norm))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.use_res else y
