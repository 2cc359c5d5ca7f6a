"""The cluster network's architecture: a post-activation basic-block ResNet with a strided stem.

Registered as ``cluster-resnet`` (``module: astroclean.clusters.resnet`` in the card, so the floor's
registry imports it on demand). It differs from the floor's pre-activation ``resnet`` by its
stride-2 stem (48x48 cutouts start at 24x24) and BN after each conv; ``wfc3-m83`` was trained
with it, so the weights depend on this layout.

Example
-------
>>> import torch
>>> from astroclean.clusters.resnet import ClusterResNet
>>> net = ClusterResNet(3, 5, widths=(8, 16), blocks=(1, 1))
>>> net(torch.zeros(2, 3, 32, 32)).shape
torch.Size([2, 5])
"""

from __future__ import annotations

import torch
from torch import nn

from astroclean.errors import AstrocleanValueError
from astroclean.models.registry import register_model


class BasicBlock(nn.Module):
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


class ClusterResNet(nn.Module):
    """Basic-block ResNet ending in global average pooling and a linear layer."""

    def __init__(self, in_channels: int, n_outputs: int, widths=(32, 64, 128), blocks=(1, 1, 1),
                 stem_stride: int = 2):
        super().__init__()
        if len(widths) != len(blocks) or not widths:
            raise AstrocleanValueError(f"widths and blocks must be non-empty and of equal length, got {widths}, {blocks}")
        self.in_channels, self.n_outputs = in_channels, n_outputs
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, stride=stem_stride, padding=1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        layers, c = [], widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                layers.append(BasicBlock(c, w, stride=2 if (i > 0 and j == 0) else 1))
                c = w
        self.stages = nn.Sequential(*layers)
        self.head = nn.Linear(c, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


@register_model("cluster-resnet", task="clusters")
def cluster_resnet(in_channels=3, widths=(16, 32, 64, 96), blocks=(1, 1, 1, 1), stem_stride=2, k=3,
                   n_outputs=None) -> ClusterResNet:
    """Cluster ResNet: K-component mixture heads per parameter + cluster logit + S/N"""
    from astroclean.clusters.network import n_outputs as count
    net = ClusterResNet(in_channels, n_outputs or count(k), widths=tuple(widths), blocks=tuple(blocks),
                        stem_stride=stem_stride)
    net.k = k
    return net
