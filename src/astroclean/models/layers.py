"""Building blocks shared by the UNet family.

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
